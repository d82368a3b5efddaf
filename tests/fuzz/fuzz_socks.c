/*
 * fuzz_socks.c: libFuzzer target for the SOCKS5 reply parsers (socks.c):
 * the proxy's method choice, its verdict on the user name and password,
 * and its reply to CONNECT, which is what a hostile proxy controls.
 *
 * Properties: a reply found whole claims no more octets than it was
 * given and exactly the length its address type says; every prefix of a
 * whole reply is SOCKS_MORE (never DONE early, never BAD when the whole
 * is good); BAD always comes with a reason; the REP text is never NULL.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "socks.h"

#define REQUIRE(c) do { if (!(c)) { \
	fprintf(stderr, "property failed: %s (line %d)\n", #c, __LINE__); \
	abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[128];
	size_t used = 0;
	int rep = -1, method = -1;
	bool ok;

	err[0] = '\0';
	enum socks_parse p = socks_parse_reply(data, size, &used, &rep, err,
	    sizeof err);
	if (p == SOCKS_BAD)
		REQUIRE(err[0] != '\0');
	if (p == SOCKS_DONE) {
		size_t want = data[3] == 1 ? 10 : data[3] == 4 ? 22 :
		    (size_t)7 + data[4];
		REQUIRE(used == want && used <= size && rep == data[1]);
		for (size_t k = 0; k < used; k++) {
			size_t u;
			int r;
			REQUIRE(socks_parse_reply(data, k, &u, &r, err,
			    sizeof err) == SOCKS_MORE);
		}
		enum fail_class c;
		REQUIRE(socks_rep_text(rep, &c) != NULL);
	}
	p = socks_parse_method(data, size, &method, err, sizeof err);
	REQUIRE(p != SOCKS_DONE || (size >= 2 && method == data[1]));
	p = socks_parse_userpass(data, size, &ok, err, sizeof err);
	REQUIRE(p != SOCKS_DONE || (size >= 2 && ok == (data[1] == 0)));
	return 0;
}
