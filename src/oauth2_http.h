/*
 * oauth2_http.h: what OAuth2 (RFC 6749) needs besides SMTP: HTTPS POSTs to
 * the provider through libcurl, its JSON answers through json-c, the token
 * file's JSON, and the one loopback redirect of RFC 8252.  The parsers are
 * pure functions over bytes; oauth2_post and the loopback do the I/O.
 * Nothing here puts a token, a code or a secret into a failure.
 */
#ifndef CARRIER_OAUTH2_HTTP_H
#define CARRIER_OAUTH2_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "report.h"
#include "util.h"

/* Largest answer or token file read: far above any real token response. */
#define OAUTH2_MAX_BODY (64 * 1024)

/*
 * A token endpoint's answer (RFC 6749 5.1, 5.2) or the token file.
 * Strings are malloc'd or NULL; the tokens are wiped by
 * oauth2_tokens_clear.
 */
struct oauth2_tokens {
	char *access_token;
	char *refresh_token;
	char *error;		/* an error answer's code (RFC 6749 5.2) */
	char *error_description;
	long expires_in;	/* seconds; -1: not given */
	long interval;		/* a device poll's new interval; -1: none */
	time_t expires_at;	/* the token file's; 0: not given */
};

enum oauth2_parse {
	OAUTH2_MALFORMED = -1,	/* err says why */
	OAUTH2_TOKENS = 0,	/* access_token is set */
	OAUTH2_ERROR = 1,	/* error is set */
};

/*
 * Parse a token endpoint's JSON answer, len bytes (no NUL needed).  The
 * answer must be one JSON object, with nothing but blanks after it, no
 * deeper than 8 levels.  An object with a string "error" (RFC 6749's
 * characters: printable ASCII but " and \) is OAUTH2_ERROR; otherwise it
 * needs a string "access_token".  Tokens must be 1 to 16384 printable
 * ASCII characters (RFC 6749 A.12, A.17); expires_in a number or a string
 * of digits from 0 to ten years; error_description is kept when it is
 * printable (else dropped).  Returns enum oauth2_parse; *t is overwritten
 * (clear it afterwards in every case); on OAUTH2_MALFORMED, err (never
 * quoting the answer) and *t empty.
 */
int oauth2_parse_tokens(const char *body, size_t len,
    struct oauth2_tokens *t, char *err, size_t errlen);

/*
 * The token file: the same object with "expires_at" (seconds since the
 * epoch) instead of expires_in, and a refresh_token required.
 * oauth2_parse_store returns 0 or -1 with err; oauth2_store_json appends
 * the file's bytes for t to out (a secret: buf_free_secret it).
 */
int oauth2_parse_store(const char *body, size_t len,
    struct oauth2_tokens *t, char *err, size_t errlen);
void oauth2_store_json(const struct oauth2_tokens *t, struct buf *out);

void oauth2_tokens_clear(struct oauth2_tokens *t);

/* A device authorization answer (RFC 8628 3.2). */
struct oauth2_device {
	char *device_code;	/* a secret: wiped by oauth2_device_clear */
	char *user_code;
	char *verification_uri;
	char *verification_uri_complete;	/* NULL: not given */
	long expires_in;	/* required */
	long interval;		/* 5 when not given */
};

/*
 * Parse a device authorization answer as oauth2_parse_tokens does; it
 * needs device_code, user_code, verification_uri (Google's
 * verification_url is taken for it) and expires_in.  The URIs must be
 * https (http only for 127.0.0.1, for tests) and printable.  Returns
 * enum oauth2_parse (OAUTH2_ERROR with t->error set: the device endpoint
 * refused); *d and *t are overwritten, clear both afterwards.
 */
int oauth2_parse_device(const char *body, size_t len, struct oauth2_device *d,
    struct oauth2_tokens *t, char *err, size_t errlen);
void oauth2_device_clear(struct oauth2_device *d);

/* Append "&key=value" (no '&' first) to an x-www-form-urlencoded body or
 * a URL's query, value percent-encoded but for RFC 3986's unreserved
 * characters. */
void oauth2_form_add(struct buf *form, const char *key, const char *value);

/* The redirect that ends the code flow (RFC 6749 4.1.2): from the
 * request target "/?code=...&state=...". */
struct oauth2_redirect {
	char *code;		/* a secret */
	char *state;
	char *error;		/* "access_denied", ... */
};

/*
 * Parse a request target: the path must be "/" and the query's values are
 * percent-decoded ('+' is a space); a value holding a control character
 * or non-ASCII byte, or a key given twice, is malformed.  Returns 0
 * (code or error set), 1 when the path is another one (a browser's
 * /favicon.ico), -1 with err.  *r is overwritten; clear it in every case.
 */
int oauth2_parse_redirect(const char *target, size_t len,
    struct oauth2_redirect *r, char *err, size_t errlen);
void oauth2_redirect_clear(struct oauth2_redirect *r);

/* The HTTPS side. */
struct oauth2_http {
	const char *ca_file;	/* NULL: the system's trust store */
	int timeout;		/* seconds for the whole exchange */
};

/*
 * POST form (application/x-www-form-urlencoded) to url, an https URL;
 * verification of the server's certificate and name is always on, no
 * redirect is followed.  *status gets the HTTP status, *body the answer
 * (replaced; at most OAUTH2_MAX_BODY bytes).  Returns 0, or -1 with f:
 *   FAIL_TEMP      no connection, no answer in time, connection lost;
 *   FAIL_TLS       the server's certificate is not trusted or the TLS
 *                  handshake failed;
 *   FAIL_PROTOCOL  an answer over OAUTH2_MAX_BODY;
 *   FAIL_CONFIG    url is not https or cannot be used.
 * what names the endpoint ("token endpoint URL").
 */
int oauth2_post(const struct oauth2_http *h, const char *what, const char *url,
    const struct buf *form, long *status, struct buf *body, struct failure *f);

/* The loopback redirect listener: a TCP socket on 127.0.0.1 on a port the
 * kernel picks.  Returns the descriptor and *port, or -1 with f
 * (FAIL_OSERR). */
int oauth2_loopback_open(int *port, struct failure *f);

/*
 * Accept connections on fd until one brings a request for "/", within
 * timeout seconds: its request target goes into *r (parsed), the browser
 * gets a short page saying so, and nothing more is accepted.  A
 * connection that sends nothing is dropped; another path gets a 404.
 * Returns 0, or -1 with f (FAIL_TEMP when no redirect came in time,
 * FAIL_PROTOCOL for a malformed one, FAIL_OSERR).  fd stays open.
 */
int oauth2_loopback_wait(int fd, int timeout, struct oauth2_redirect *r,
    struct failure *f);

#endif
