/*
 * fuzz_oauth2.c: libFuzzer target for the pure OAuth2 parsers of
 * oauth2_http.c: token answers, device answers, the token file and the
 * loopback redirect's request target.
 *
 * Input: the first byte picks the parser, the rest is its input.
 * Properties: results are in range; a malformed answer leaves the structs
 * empty; an accepted answer's strings are printable ASCII; a token file
 * written from parsed tokens parses back to the same tokens; the same
 * input gives the same answer twice.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oauth2_http.h"

#define REQUIRE(c) do { if (!(c)) { \
	fprintf(stderr, "property failed: %s (line %d)\n", #c, __LINE__); \
	abort(); } } while (0)

static bool
printable_or_null(const char *s)
{
	for (; s != NULL && *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static bool
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
tokens(const char *p, size_t n)
{
	struct oauth2_tokens t, t2, back;
	char err[160];
	int rc = oauth2_parse_tokens(p, n, &t, err, sizeof err);
	int rc2 = oauth2_parse_tokens(p, n, &t2, err, sizeof err);

	REQUIRE(rc >= OAUTH2_MALFORMED && rc <= OAUTH2_ERROR && rc == rc2);
	if (rc == OAUTH2_MALFORMED)
		REQUIRE(t.access_token == NULL && t.error == NULL &&
		    t.refresh_token == NULL);
	if (rc == OAUTH2_TOKENS)
		REQUIRE(t.access_token != NULL);
	if (rc == OAUTH2_ERROR)
		REQUIRE(t.error != NULL);
	REQUIRE(printable_or_null(t.access_token) &&
	    printable_or_null(t.refresh_token) && printable_or_null(t.error) &&
	    printable_or_null(t.error_description));
	REQUIRE(same(t.access_token, t2.access_token) &&
	    same(t.refresh_token, t2.refresh_token));
	if (rc == OAUTH2_TOKENS && t.refresh_token != NULL) {
		struct buf b;
		buf_init(&b);
		t.expires_at = 12345;
		oauth2_store_json(&t, &b);
		REQUIRE(oauth2_parse_store(b.data, b.len, &back, err,
		    sizeof err) == 0);
		REQUIRE(same(back.access_token, t.access_token) &&
		    same(back.refresh_token, t.refresh_token) &&
		    back.expires_at == 12345);
		oauth2_tokens_clear(&back);
		buf_free_secret(&b);
	}
	oauth2_tokens_clear(&t);
	oauth2_tokens_clear(&t2);
}

static void
device(const char *p, size_t n)
{
	struct oauth2_device d;
	struct oauth2_tokens t;
	char err[160];
	int rc = oauth2_parse_device(p, n, &d, &t, err, sizeof err);

	REQUIRE(rc >= OAUTH2_MALFORMED && rc <= OAUTH2_ERROR);
	if (rc == OAUTH2_TOKENS)
		REQUIRE(d.device_code && d.user_code && d.verification_uri &&
		    d.expires_in >= 0 && d.interval >= 0 &&
		    printable_or_null(d.verification_uri));
	else
		REQUIRE(d.device_code == NULL && d.user_code == NULL);
	oauth2_device_clear(&d);
	oauth2_tokens_clear(&t);
}

static void
store(const char *p, size_t n)
{
	struct oauth2_tokens t;
	char err[160];

	if (oauth2_parse_store(p, n, &t, err, sizeof err) == 0)
		REQUIRE(t.refresh_token != NULL);
	else
		REQUIRE(t.refresh_token == NULL && t.access_token == NULL);
	oauth2_tokens_clear(&t);
}

static void
redirect(const char *p, size_t n)
{
	struct oauth2_redirect r;
	char err[160];
	int rc = oauth2_parse_redirect(p, n, &r, err, sizeof err);

	REQUIRE(rc >= -1 && rc <= 1);
	if (rc == 0)
		REQUIRE((r.code || r.error) && printable_or_null(r.code) &&
		    printable_or_null(r.state) && printable_or_null(r.error));
	else
		REQUIRE(r.code == NULL && r.state == NULL && r.error == NULL);
	oauth2_redirect_clear(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const char *p = (const char *)data + 1;
	size_t n = size - 1;

	switch (data[0] % 4) {
	case 0: tokens(p, n); break;
	case 1: device(p, n); break;
	case 2: store(p, n); break;
	default: redirect(p, n); break;
	}
	return 0;
}
