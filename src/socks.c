/*
 * socks.c: the SOCKS5 client dialogue (RFC 1928, RFC 1929), pure.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "socks.h"

#define SOCKS_VERSION 5
#define USERPASS_VERSION 1	/* RFC 1929 2: the subnegotiation's */

enum { ATYP_IPV4 = 1, ATYP_NAME = 3, ATYP_IPV6 = 4 };

static enum socks_parse
bad(char *err, size_t errlen, const char *why)
{
	(void)snprintf(err, errlen, "%s", why);
	return SOCKS_BAD;
}

bool
socks_url_parse(const char *url, char **host, int *port, char **user,
    bool *remote_dns)
{
	const char *p, *at, *hs, *he, *colon;
	long n = 1080;

	if (strncmp(url, "socks5://", 9) == 0)
		p = url + 9, *remote_dns = false;
	else if (strncmp(url, "socks5h://", 10) == 0)
		p = url + 10, *remote_dns = true;
	else
		return false;
	for (const char *q = p; *q; q++)
		if ((unsigned char)*q < 0x21 || *q == 0x7f || *q == '/')
			return false;
	at = strrchr(p, '@');
	hs = at ? at + 1 : p;
	if (*hs == '[') {
		if ((he = strchr(hs, ']')) == NULL || he == hs + 1)
			return false;
		colon = he[1] == ':' ? he + 1 : NULL;
		if (he[1] != '\0' && colon == NULL)
			return false;
		hs++;
	} else {
		colon = strchr(hs, ':');
		he = colon ? colon : hs + strlen(hs);
		if (he == hs)
			return false;
	}
	if (colon != NULL) {
		char *end;
		n = strtol(colon + 1, &end, 10);
		if (colon[1] < '1' || colon[1] > '9' || *end != '\0' ||
		    n < 1 || n > 65535)
			return false;
	}
	if (at != NULL && at == p)
		return false;
	*host = xstrndup(hs, (size_t)(he - hs));
	*user = at ? xstrndup(p, (size_t)(at - p)) : NULL;
	*port = (int)n;
	return true;
}

void
socks_greeting(bool with_password, struct buf *out)
{
	buf_addc(out, SOCKS_VERSION);
	buf_addc(out, with_password ? 2 : 1);
	buf_addc(out, SOCKS_NO_AUTH);
	if (with_password)
		buf_addc(out, SOCKS_USERPASS);
}

enum socks_parse
socks_parse_method(const uint8_t *p, size_t len, int *method, char *err,
    size_t errlen)
{
	if (len >= 1 && p[0] != SOCKS_VERSION)
		return bad(err, errlen, "the proxy does not speak SOCKS5");
	if (len < 2)
		return SOCKS_MORE;
	*method = p[1];
	return SOCKS_DONE;
}

int
socks_userpass(const char *user, const char *password, struct buf *out,
    char *err, size_t errlen)
{
	size_t ul = strlen(user), pl = strlen(password);

	if (ul == 0 || ul > 255 || pl == 0 || pl > 255) {
		(void)snprintf(err, errlen, "the proxy's user name and "
		    "password must be 1 to 255 octets each");
		return -1;
	}
	buf_addc(out, USERPASS_VERSION);
	buf_addc(out, (char)ul);
	buf_add(out, user, ul);
	buf_addc(out, (char)pl);
	buf_add(out, password, pl);
	return 0;
}

enum socks_parse
socks_parse_userpass(const uint8_t *p, size_t len, bool *ok, char *err,
    size_t errlen)
{
	/* Some proxies answer with the SOCKS version here; RFC 1929 says 1,
	   and curl accepts both. */
	if (len >= 1 && p[0] != USERPASS_VERSION && p[0] != SOCKS_VERSION)
		return bad(err, errlen, "malformed reply to the user name and "
		    "password");
	if (len < 2)
		return SOCKS_MORE;
	*ok = p[1] == 0;
	return SOCKS_DONE;
}

int
socks_connect_request(const char *host, int port, struct buf *out,
    char *err, size_t errlen)
{
	unsigned char a[16];
	size_t hl = strlen(host);

	buf_addc(out, SOCKS_VERSION);
	buf_addc(out, 1);		/* CONNECT */
	buf_addc(out, 0);		/* RSV */
	if (inet_pton(AF_INET, host, a) == 1) {
		buf_addc(out, ATYP_IPV4);
		buf_add(out, a, 4);
	} else if (inet_pton(AF_INET6, host, a) == 1) {
		buf_addc(out, ATYP_IPV6);
		buf_add(out, a, 16);
	} else {
		if (hl == 0 || hl > 255) {
			(void)snprintf(err, errlen, "a host name for the proxy "
			    "must be 1 to 255 octets");
			return -1;
		}
		buf_addc(out, ATYP_NAME);
		buf_addc(out, (char)hl);
		buf_add(out, host, hl);
	}
	buf_addc(out, (char)((port >> 8) & 0xff));
	buf_addc(out, (char)(port & 0xff));
	return 0;
}

enum socks_parse
socks_parse_reply(const uint8_t *p, size_t len, size_t *used, int *rep,
    char *err, size_t errlen)
{
	size_t need;

	if (len >= 1 && p[0] != SOCKS_VERSION)
		return bad(err, errlen, "the proxy's reply is not SOCKS5");
	if (len >= 3 && p[2] != 0)
		return bad(err, errlen, "malformed reply from the proxy "
		    "(reserved octet not 0)");
	if (len < 4)
		return SOCKS_MORE;
	switch (p[3]) {
	case ATYP_IPV4:
		need = 4 + 4 + 2;
		break;
	case ATYP_IPV6:
		need = 4 + 16 + 2;
		break;
	case ATYP_NAME:
		if (len < 5)
			return SOCKS_MORE;
		need = 5 + (size_t)p[4] + 2;
		break;
	default:
		return bad(err, errlen, "malformed reply from the proxy "
		    "(unknown address type)");
	}
	if (len < need)
		return SOCKS_MORE;
	*used = need;
	*rep = p[1];
	return SOCKS_DONE;
}

const char *
socks_rep_text(int rep, enum fail_class *class)
{
	static const char *const text[] = {
		[0] = "succeeded",
		[1] = "general SOCKS server failure",
		[2] = "connection not allowed by ruleset",
		[3] = "network unreachable",
		[4] = "host unreachable",
		[5] = "connection refused",
		[6] = "TTL expired",
		[7] = "command not supported",
		[8] = "address type not supported",
	};

	switch (rep) {
	case 1: case 3: case 4: case 5: case 6:
		*class = FAIL_TEMP;
		break;
	case 2:
		*class = FAIL_CONNECT;
		break;
	default:
		*class = FAIL_PROTOCOL;
	}
	return rep >= 0 && rep < 9 ? text[rep] : "unknown reply code";
}
