/*
 * socks.h: the SOCKS5 client dialogue (RFC 1928, with the username and
 * password method of RFC 1929) as pure functions over bytes: what to
 * send, and what the proxy's replies mean.  net.c does the I/O.
 */
#ifndef CARRIER_SOCKS_H
#define CARRIER_SOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report.h"
#include "util.h"

enum socks_method {
	SOCKS_NO_AUTH = 0x00,
	SOCKS_USERPASS = 0x02,
	SOCKS_NONE_ACCEPTABLE = 0xff,
};

/* The outcome of parsing a reply from bytes received so far. */
enum socks_parse { SOCKS_MORE, SOCKS_DONE, SOCKS_BAD };

/*
 * A proxy URL: socks5://[USER@]HOST[:PORT] or socks5h://... (the proxy
 * resolves the server's name), HOST a name, an IPv4 address or [IPv6];
 * the port 1080 when none is written.  Returns true with *host (and
 * *user, NULL when none) malloc'd, false (nothing allocated) for anything
 * else, a control byte included.
 */
bool socks_url_parse(const char *url, char **host, int *port, char **user,
    bool *remote_dns);

/* The greeting: version 5 and the methods offered (user/password too
   when `with_password`). */
void socks_greeting(bool with_password, struct buf *out);

/*
 * The method the proxy chose (2 octets: version, method).  SOCKS_DONE
 * with *method; SOCKS_BAD when the reply is not SOCKS5 (err says what).
 */
enum socks_parse socks_parse_method(const uint8_t *p, size_t len,
    int *method, char *err, size_t errlen);

/* RFC 1929 2: the username/password request.  Returns -1 (err) when a
   field is empty or longer than 255 octets.  The caller wipes *out. */
int socks_userpass(const char *user, const char *password, struct buf *out,
    char *err, size_t errlen);

/* RFC 1929 2: the proxy's verdict (2 octets); *ok when it accepted. */
enum socks_parse socks_parse_userpass(const uint8_t *p, size_t len,
    bool *ok, char *err, size_t errlen);

/*
 * The CONNECT request for `host` (an IPv4 or IPv6 literal, or a name the
 * proxy resolves) and `port`.  Returns -1 (err) for a name longer than
 * 255 octets.
 */
int socks_connect_request(const char *host, int port, struct buf *out,
    char *err, size_t errlen);

/*
 * The reply to CONNECT (RFC 1928 6): version, REP, RSV, ATYP, BND.ADDR,
 * BND.PORT.  SOCKS_MORE until every octet of it is there; SOCKS_DONE
 * with *used its length and *rep the reply field; SOCKS_BAD for bytes
 * that are no such reply.
 */
enum socks_parse socks_parse_reply(const uint8_t *p, size_t len,
    size_t *used, int *rep, char *err, size_t errlen);

/*
 * What a REP field other than 0 means, and its class: general failure,
 * network or host unreachable, connection refused and TTL expired are
 * FAIL_TEMP; not allowed by the ruleset FAIL_CONNECT; command or address
 * type not supported, and unknown values, FAIL_PROTOCOL.
 */
const char *socks_rep_text(int rep, enum fail_class *class);

#endif
