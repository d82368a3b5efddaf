/*
 * net.h: a connection to the server with a buffered reader and writer,
 * over TCP, a Unix socket or TLS.  All network waits and their deadlines
 * live here; nothing above this layer touches a socket.
 */
#ifndef CARRIER_NET_H
#define CARRIER_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reply.h"
#include "report.h"
#include "tls.h"

/* A SOCKS5 proxy (RFC 1928) the connection goes through. */
struct socks_proxy {
	const char *host;
	int port;
	bool remote_dns;	/* socks5h: the proxy resolves the name */
	const char *user;	/* NULL: no username/password (RFC 1929) */
	const char *password;	/* with user; the caller wipes it */
};

struct net_target {
	const char *host;	/* name, IPv4/IPv6 literal, or "/path" */
	int port;
	int family;		/* AF_UNSPEC, AF_INET, AF_INET6 */
	const char *source;	/* NULL or "HOST[:PORT]" to bind to */
	const struct socks_proxy *proxy;	/* NULL: a direct connection */
	/* Called once per address tried, for -v ("connecting to ..."). */
	void (*info)(void *ctx, const char *line);
	void *info_ctx;
};

struct conn;

/*
 * Connect to the first of the resolved addresses to answer, racing them
 * as RFC 8305 says (Happy Eyeballs: families alternated, a new attempt
 * every 250 ms, at once after a failure).
 * Through t->proxy, the proxy is reached that way and asked to connect
 * to the server (RFC 1928); the server's name is resolved here, or by
 * the proxy when remote_dns.  The connection then counts as non-local.
 * Errors: FAIL_NOHOST (name does not exist), FAIL_TEMP (temporary
 * resolver failure; refused, unreachable, no such socket, timed out; the
 * proxy's general failure, unreachable, refused, TTL expired),
 * FAIL_CONNECT (the proxy's ruleset forbids it), FAIL_AUTH (the proxy
 * refused the user name and password, or wants a method not offered),
 * FAIL_PROTOCOL (the proxy does not speak SOCKS5, or a malformed reply),
 * FAIL_IOERR (reset as it was accepted), FAIL_CONNECT (any other connect
 * error, such as permission denied), FAIL_OSERR (socket(), bind of the
 * source), FAIL_USAGE (Unix socket path too long).
 */
struct conn *conn_open(const struct net_target *t, int64_t deadline,
    struct failure *f);

/* True when the peer is loopback or a Unix socket. */
bool conn_is_local(const struct conn *c);
bool conn_is_tls(const struct conn *c);
/* The TLS channel binding of the connection (see tls_channel_binding),
   or NULL with out empty when the connection is not TLS. */
const char *conn_channel_binding(struct conn *c, struct buf *out);

/* Queue bytes for sending; nothing is written until conn_flush. */
void conn_queue(struct conn *c, const void *p, size_t n);
/* The same for credentials: wiped from the buffer once written. */
void conn_queue_secret(struct conn *c, const void *p, size_t n);
size_t conn_queued(const struct conn *c);
/* Write what is queued, then len octets of the file fd from offset off,
   which the kernel copies itself (sendfile(2)); not over TLS.  Errors as
   conn_flush's, and FAIL_OSERR when the file cannot be read (or is
   shorter), FAIL_INTERNAL over TLS. */
int conn_send_file(struct conn *c, int fd, off_t off, uint64_t len,
    int64_t deadline, struct failure *f);
/* Write everything queued.  FAIL_IOERR on a closed or reset connection,
   FAIL_TEMP on timeout. */
int conn_flush(struct conn *c, int64_t deadline, struct failure *f);

/*
 * Read one whole reply into *r (initialised by the caller; replaced).
 * The deadline covers the whole reply, however slowly it drips in.
 * Errors: FAIL_IOERR (closed: detail says "connection closed"),
 * FAIL_TEMP (timeout), FAIL_PROTOCOL (malformed reply, reader's reason).
 * `stage` names what the reply answers, for the failure's `what`.
 */
int conn_read_reply(struct conn *c, struct reply *r, int64_t deadline,
    const char *stage, struct failure *f);

/* Bytes received but not yet consumed as a reply (pipelining, or bytes
   injected after a STARTTLS 220). */
size_t conn_unread(const struct conn *c);

/* The peer sent something or closed while no reply was awaited (a
   server's timeout, its 421): the session is not worth going on with. */
bool conn_peer_spoke(const struct conn *c);

/* Start TLS on this connection (implicit TLS or after STARTTLS's 220).
   Refuses (FAIL_PROTOCOL) when unread bytes are pending. */
int conn_start_tls(struct conn *c, const struct tls_config *cfg,
    int64_t deadline, struct failure *f);

/* Close: TLS close_notify when `graceful`, then close the socket. */
void conn_close(struct conn *c, bool graceful);

/* The local host's fully qualified name (gethostname, then the resolver's
   canonical name when it has one).  Never NULL. */
char *net_local_fqdn(void);

#endif
