/*
 * test_socks.c: the SOCKS5 dialogue of src/socks.c (RFC 1928, RFC 1929):
 * the bytes carrier sends, and every reply it must understand or refuse,
 * whole and in every split.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "socks.h"
#include "util.h"

static bool
bytes_are(const struct buf *b, const char *want, size_t n)
{
	return b->len == n && memcmp(b->data, want, n) == 0;
}

static void
test_requests(void)
{
	struct buf b;
	char err[128];

	buf_init(&b);
	socks_greeting(false, &b);
	CHECK(bytes_are(&b, "\x05\x01\x00", 3), "greeting: no authentication");
	buf_reset(&b);
	socks_greeting(true, &b);
	CHECK(bytes_are(&b, "\x05\x02\x00\x02", 4),
	    "greeting: none and user/password");
	buf_reset(&b);
	CHECK(socks_userpass("bob", "pw", &b, err, sizeof err) == 0 &&
	    bytes_are(&b, "\x01\x03" "bob" "\x02" "pw", 8),
	    "RFC 1929 request");
	buf_reset(&b);
	CHECK(socks_userpass("", "pw", &b, err, sizeof err) < 0 && b.len == 0,
	    "an empty user name is refused");
	buf_reset(&b);
	CHECK(socks_connect_request("192.0.2.1", 25, &b, err, sizeof err) == 0
	    && bytes_are(&b, "\x05\x01\x00\x01\xc0\x00\x02\x01\x00\x19", 10),
	    "CONNECT to an IPv4 address");
	buf_reset(&b);
	CHECK(socks_connect_request("::1", 587, &b, err, sizeof err) == 0 &&
	    b.len == 22 && b.data[3] == 4 && b.data[19] == 1 &&
	    (unsigned char)b.data[20] == 0x02 &&
	    (unsigned char)b.data[21] == 0x4b, "CONNECT to an IPv6 address");
	buf_reset(&b);
	CHECK(socks_connect_request("mx.example", 465, &b, err, sizeof err) ==
	    0 && bytes_are(&b, "\x05\x01\x00\x03\x0amx.example\x01\xd1", 17),
	    "CONNECT to a name the proxy resolves");
	buf_reset(&b);
	char longname[300];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	CHECK(socks_connect_request(longname, 25, &b, err, sizeof err) < 0,
	    "a name over 255 octets is refused");
	buf_free(&b);
}

/* Parse `in` whole and cut at every length: only the whole is DONE. */
static enum socks_parse
reply_all_splits(const char *in, size_t n, size_t *used, int *rep,
    bool *splits_ok)
{
	char err[128];

	*splits_ok = true;
	for (size_t k = 0; k < n; k++) {
		size_t u = 0;
		int r = -1;
		enum socks_parse p = socks_parse_reply((const uint8_t *)in, k,
		    &u, &r, err, sizeof err);
		if (p == SOCKS_DONE)
			*splits_ok = false;
	}
	return socks_parse_reply((const uint8_t *)in, n, used, rep, err,
	    sizeof err);
}

static void
test_replies(void)
{
	char err[128];
	size_t used;
	int rep, method;
	bool ok, splits;

	CHECK(socks_parse_method((const uint8_t *)"\x05\x02", 2, &method, err,
	    sizeof err) == SOCKS_DONE && method == SOCKS_USERPASS,
	    "method: user/password");
	CHECK(socks_parse_method((const uint8_t *)"\x05", 1, &method, err,
	    sizeof err) == SOCKS_MORE, "method: one octet is not enough");
	CHECK(socks_parse_method((const uint8_t *)"220 smtp", 8, &method, err,
	    sizeof err) == SOCKS_BAD && strstr(err, "SOCKS5") != NULL,
	    "method: an SMTP greeting is not SOCKS5");
	CHECK(socks_parse_method((const uint8_t *)"\x04\x5a", 2, &method, err,
	    sizeof err) == SOCKS_BAD, "method: SOCKS4 is refused");
	CHECK(socks_parse_userpass((const uint8_t *)"\x01\x00", 2, &ok, err,
	    sizeof err) == SOCKS_DONE && ok, "user/password accepted");
	CHECK(socks_parse_userpass((const uint8_t *)"\x01\x01", 2, &ok, err,
	    sizeof err) == SOCKS_DONE && !ok, "user/password refused");

	const char v4[] = "\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x00" "220";
	CHECK(reply_all_splits(v4, 10, &used, &rep, &splits) == SOCKS_DONE &&
	    used == 10 && rep == 0 && splits, "CONNECT reply, IPv4 bound");
	CHECK(socks_parse_reply((const uint8_t *)v4, 13, &used, &rep, err,
	    sizeof err) == SOCKS_DONE && used == 10,
	    "what follows the reply is left for the server's greeting");
	const char v6[22] = "\x05\x05\x00\x04";
	CHECK(reply_all_splits(v6, 22, &used, &rep, &splits) == SOCKS_DONE &&
	    used == 22 && rep == 5 && splits, "CONNECT reply, IPv6, refused");
	const char name[] = "\x05\x02\x00\x03\x04host\x00\x19";
	CHECK(reply_all_splits(name, 11, &used, &rep, &splits) == SOCKS_DONE &&
	    used == 11 && rep == 2 && splits, "CONNECT reply, a name bound");
	CHECK(socks_parse_reply((const uint8_t *)"\x05\x00\x01\x01", 4, &used,
	    &rep, err, sizeof err) == SOCKS_BAD, "reserved octet not 0");
	CHECK(socks_parse_reply((const uint8_t *)"\x05\x00\x00\x07", 4, &used,
	    &rep, err, sizeof err) == SOCKS_BAD, "unknown address type");
	CHECK(socks_parse_reply((const uint8_t *)"HTTP/1.1 400", 12, &used,
	    &rep, err, sizeof err) == SOCKS_BAD, "an HTTP proxy's answer");
}

static void
test_rep_classes(void)
{
	enum fail_class c;

	for (int rep = 1; rep <= 6; rep++) {
		const char *t = socks_rep_text(rep, &c);
		CHECK(t != NULL && c == (rep == 2 ? FAIL_CONNECT : FAIL_TEMP),
		    "REP %d (%s): %s", rep, t, rep == 2 ? "69" : "75");
	}
	CHECK(socks_rep_text(7, &c) && c == FAIL_PROTOCOL &&
	    socks_rep_text(8, &c) && c == FAIL_PROTOCOL &&
	    strcmp(socks_rep_text(200, &c), "unknown reply code") == 0 &&
	    c == FAIL_PROTOCOL, "REP 7, 8 and unknown codes: 76");
}

static void
test_urls(void)
{
	static const struct {
		const char *url, *host, *user;
		int port;
		bool remote;
	} good[] = {
		{ "socks5://127.0.0.1", "127.0.0.1", NULL, 1080, false },
		{ "socks5h://127.0.0.1:9050", "127.0.0.1", NULL, 9050, true },
		{ "socks5://bob@proxy.example:1081", "proxy.example", "bob",
		    1081, false },
		{ "socks5h://[::1]:1080", "::1", NULL, 1080, true },
		{ "socks5://a@b@[::1]", "::1", "a@b", 1080, false },
	};
	static const char *const bad[] = { "", "socks4://h", "http://h:1",
	    "socks5://", "socks5://h:0", "socks5://h:65536", "socks5://h:01",
	    "socks5://h:x", "socks5://@h", "socks5://[::1", "socks5://[]:1",
	    "socks5://h/path", "socks5://h\r\n", "socks5://h:1 ",
	    "SOCKS5://h" };

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		char *host = NULL, *user = NULL;
		int port = 0;
		bool remote = !good[i].remote;
		bool ok = socks_url_parse(good[i].url, &host, &port, &user,
		    &remote);
		CHECK(ok && strcmp(host, good[i].host) == 0 &&
		    port == good[i].port && remote == good[i].remote &&
		    (good[i].user == NULL ? user == NULL :
		    user != NULL && strcmp(user, good[i].user) == 0),
		    "URL %s", good[i].url);
		free(host);
		free(user);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *host = NULL, *user = NULL;
		int port = 0;
		bool remote;
		CHECK(!socks_url_parse(bad[i], &host, &port, &user, &remote) &&
		    host == NULL && user == NULL, "URL refused: bad[%zu]", i);
	}
}

int
main(void)
{
	test_urls();
	test_requests();
	test_replies();
	test_rep_classes();
	return check_done();
}
