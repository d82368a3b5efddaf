/*
 * test_oauth2.c: the pure parts of OAuth2 (src/oauth2_http.c): token
 * answers (RFC 6749 5.1, 5.2), device authorization answers (RFC 8628
 * 3.2), the token file's JSON both ways, form encoding, and the loopback
 * redirect's request target (RFC 6749 4.1.2).
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "oauth2_http.h"

static int
tokens(const char *json, struct oauth2_tokens *t, char *err, size_t n)
{
	return oauth2_parse_tokens(json, strlen(json), t, err, n);
}

static void
check_tokens(void)
{
	struct oauth2_tokens t;
	char err[160];

	CHECK(tokens("{\"access_token\":\"ya29.a\",\"token_type\":\"Bearer\","
	    "\"expires_in\":3599,\"refresh_token\":\"1//r\"}", &t, err,
	    sizeof err) == OAUTH2_TOKENS, "a complete answer");
	CHECK_STR(t.access_token, "ya29.a", "its access token");
	CHECK_STR(t.refresh_token, "1//r", "its refresh token");
	CHECK(t.expires_in == 3599, "its lifetime");
	oauth2_tokens_clear(&t);

	CHECK(tokens(" {\"access_token\":\"a\",\"expires_in\":\"3600\"}\r\n",
	    &t, err, sizeof err) == OAUTH2_TOKENS && t.expires_in == 3600 &&
	    t.refresh_token == NULL, "expires_in as a string of digits, no "
	    "refresh token (no rotation), blanks around");
	oauth2_tokens_clear(&t);
	CHECK(tokens("{\"access_token\":\"a\"}", &t, err, sizeof err) ==
	    OAUTH2_TOKENS && t.expires_in == -1, "no expires_in: -1");
	oauth2_tokens_clear(&t);

	CHECK(tokens("{\"error\":\"invalid_grant\",\"error_description\":"
	    "\"Token has been expired or revoked.\"}", &t, err, sizeof err) ==
	    OAUTH2_ERROR, "an error answer");
	CHECK_STR(t.error, "invalid_grant", "its code");
	CHECK_STR(t.error_description, "Token has been expired or revoked.",
	    "its description");
	oauth2_tokens_clear(&t);
	CHECK(tokens("{\"error\":\"slow_down\",\"interval\":10}", &t, err,
	    sizeof err) == OAUTH2_ERROR && t.interval == 10,
	    "slow_down with an interval");
	oauth2_tokens_clear(&t);
	CHECK(tokens("{\"error\":\"x\",\"error_description\":\"a\\u0007b\"}",
	    &t, err, sizeof err) == OAUTH2_ERROR && t.error_description ==
	    NULL, "a description with a control character is dropped");
	oauth2_tokens_clear(&t);

	static const struct { const char *json, *why; } bad[] = {
		{ "", "not JSON (incomplete)" },
		{ "{\"access_token\":", "not JSON (incomplete)" },
		{ "[1]", "not a JSON object" },
		{ "\"a\"", "not a JSON object" },
		{ "{} {}", "not JSON (unexpected character)" },
		{ "{}", "no access_token and no error" },
		{ "{\"access_token\":5}", "access_token is not a string" },
		{ "{\"access_token\":\"\"}", "access_token is empty, too long "
		    "or holds a character that is not printable ASCII" },
		{ "{\"access_token\":\"a\\u0000b\"}", "access_token is empty, "
		    "too long or holds a character that is not printable "
		    "ASCII" },
		{ "{\"access_token\":\"a\\nb\"}", "access_token is empty, too "
		    "long or holds a character that is not printable ASCII" },
		{ "{\"access_token\":\"\xc3\xa9\"}", "access_token is empty, "
		    "too long or holds a character that is not printable "
		    "ASCII" },
		{ "{\"access_token\":\"a\",\"expires_in\":-1}", "expires_in is "
		    "not a number of seconds from 0 to 316224000" },
		{ "{\"access_token\":\"a\",\"expires_in\":\"12x\"}", "expires_in "
		    "is not a number of seconds from 0 to 316224000" },
		{ "{\"access_token\":\"a\",\"expires_in\":1.5}", "expires_in is "
		    "not a number of seconds from 0 to 316224000" },
		{ "{\"error\":\"a\\\"b\"}", "error is empty, too long or holds "
		    "a character that is not printable ASCII" },
		{ "{\"error\":7}", "error is not a string" },
		{ "{\"a\":[[[[[[[[[[1]]]]]]]]]]}", "not JSON (nesting too "
		    "deep)" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int rc = tokens(bad[i].json, &t, err, sizeof err);
		CHECK(rc == OAUTH2_MALFORMED && t.access_token == NULL &&
		    t.error == NULL, "malformed #%zu is refused, *t empty", i);
		if (rc == OAUTH2_MALFORMED)
			CHECK_STR(err, bad[i].why, "malformed #%zu: why", i);
	}
	CHECK(oauth2_parse_tokens("{\"access_token\":\"a\"}\0", 21, &t, err,
	    sizeof err) == OAUTH2_MALFORMED, "a NUL byte after the object");
	CHECK_STR(err, "holds a NUL byte", "why");
}

static void
check_store(void)
{
	struct oauth2_tokens t, back;
	struct buf b;
	char err[160];

	memset(&t, 0, sizeof t);
	t.access_token = "ya29.a\"\\/";
	t.refresh_token = "1//r";
	t.expires_at = 1700000000;
	buf_init(&b);
	oauth2_store_json(&t, &b);
	CHECK(oauth2_parse_store(b.data, b.len, &back, err, sizeof err) == 0,
	    "the token file's JSON reads back");
	CHECK_STR(back.access_token, "ya29.a\"\\/", "access token, escaped "
	    "and back");
	CHECK_STR(back.refresh_token, "1//r", "refresh token");
	CHECK(back.expires_at == 1700000000, "expiry");
	oauth2_tokens_clear(&back);
	buf_free_secret(&b);
	CHECK(oauth2_parse_store("{\"access_token\":\"a\"}", 20, &back, err,
	    sizeof err) == -1, "a token file without refresh token");
	CHECK_STR(err, "no refresh_token", "why");
	CHECK(oauth2_parse_store("{\"refresh_token\":\"r\",\"error\":\"x\"}",
	    33, &back, err, sizeof err) == 0 && back.error == NULL,
	    "\"error\" means nothing in the token file");
	oauth2_tokens_clear(&back);
}

static int
device(const char *json, struct oauth2_device *d, struct oauth2_tokens *t,
    char *err)
{
	return oauth2_parse_device(json, strlen(json), d, t, err, 160);
}

static void
check_device(void)
{
	struct oauth2_device d;
	struct oauth2_tokens t;
	char err[160];

	CHECK(device("{\"device_code\":\"GmRh\",\"user_code\":\"WDJB-MJHT\","
	    "\"verification_uri\":\"https://example.com/device\","
	    "\"verification_uri_complete\":\"https://example.com/device?"
	    "user_code=WDJB-MJHT\",\"expires_in\":1800,\"interval\":5}", &d,
	    &t, err) == OAUTH2_TOKENS, "RFC 8628 3.2's example");
	CHECK_STR(d.user_code, "WDJB-MJHT", "user code");
	CHECK_STR(d.verification_uri, "https://example.com/device", "uri");
	CHECK(d.expires_in == 1800 && d.interval == 5, "expiry, interval");
	oauth2_device_clear(&d);
	oauth2_tokens_clear(&t);
	CHECK(device("{\"device_code\":\"c\",\"user_code\":\"u\","
	    "\"verification_url\":\"https://www.google.com/device\","
	    "\"expires_in\":\"1800\"}", &d, &t, err) == OAUTH2_TOKENS &&
	    d.interval == 5, "Google's verification_url; interval default 5");
	CHECK_STR(d.verification_uri, "https://www.google.com/device", "url");
	oauth2_device_clear(&d);
	oauth2_tokens_clear(&t);
	CHECK(device("{\"device_code\":\"c\",\"user_code\":\"u\","
	    "\"verification_uri\":\"javascript:alert(1)\",\"expires_in\":9}",
	    &d, &t, err) == OAUTH2_MALFORMED && d.user_code == NULL,
	    "a verification address that is not https");
	CHECK(device("{\"device_code\":\"c\",\"user_code\":\"u\","
	    "\"verification_uri\":\"https://e\"}", &d, &t, err) ==
	    OAUTH2_MALFORMED, "no expires_in");
	CHECK_STR(err, "no expires_in", "why");
	CHECK(device("{\"error\":\"invalid_client\"}", &d, &t, err) ==
	    OAUTH2_ERROR, "an error answer");
	CHECK_STR(t.error, "invalid_client", "its code");
	oauth2_device_clear(&d);
	oauth2_tokens_clear(&t);
}

static void
check_form(void)
{
	struct buf b;

	buf_init(&b);
	oauth2_form_add(&b, "grant_type", "refresh_token");
	oauth2_form_add(&b, "scope", "a b/c+d&e=f~g.h-i_j%");
	buf_addc(&b, '\0');
	CHECK_STR(b.data, "grant_type=refresh_token&scope=a%20b%2Fc%2Bd%26e%3D"
	    "f~g.h-i_j%25", "form: unreserved kept, the rest escaped");
	buf_free(&b);
}

static int
redirect(const char *target, struct oauth2_redirect *r, char *err)
{
	return oauth2_parse_redirect(target, strlen(target), r, err, 160);
}

static void
check_redirect(void)
{
	struct oauth2_redirect r;
	char err[160];

	CHECK(redirect("/?state=s%2Bt&code=4%2F0A+b&scope=x", &r, err) == 0,
	    "a redirect with code and state");
	CHECK_STR(r.code, "4/0A b", "code percent-decoded, + a space");
	CHECK_STR(r.state, "s+t", "state decoded");
	oauth2_redirect_clear(&r);
	CHECK(redirect("/?error=access_denied&state=s", &r, err) == 0,
	    "an error redirect");
	CHECK_STR(r.error, "access_denied", "its error");
	oauth2_redirect_clear(&r);
	CHECK(redirect("/favicon.ico", &r, err) == 1, "another path");
	CHECK(redirect("/x?code=1", &r, err) == 1, "another path, a query");
	static const struct { const char *t, *why; } bad[] = {
		{ "/", "neither code nor error" },
		{ "/?state=s", "neither code nor error" },
		{ "/?code=a&code=b", "code given twice" },
		{ "/?code=%0d%0a", "code is not printable ASCII" },
		{ "/?code=%zz", "code is not printable ASCII" },
		{ "/?code=%4", "code is not printable ASCII" },
		{ "/?code=%c3%a9", "code is not printable ASCII" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		CHECK(redirect(bad[i].t, &r, err) == -1 && r.code == NULL,
		    "bad redirect #%zu", i);
		CHECK_STR(err, bad[i].why, "bad redirect #%zu: why", i);
	}
}

int
main(void)
{
	check_tokens();
	check_store();
	check_device();
	check_form();
	check_redirect();
	return check_done();
}
