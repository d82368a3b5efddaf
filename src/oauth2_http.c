/*
 * oauth2_http.c: HTTPS through libcurl, JSON through json-c, the loopback
 * redirect.  See oauth2_http.h.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "oauth2_http.h"

#ifndef CARRIER_VERSION
#define CARRIER_VERSION "?"	/* the fuzz build */
#endif

#define TOKEN_MAX	16384
#define TEXT_MAX	1024
#define JSON_DEPTH	8
#define TEN_YEARS	(10L * 366 * 24 * 3600)

/* ------------------------------------------------------------------ */
/* JSON                                                                */

/* One JSON object over the whole input, or NULL with err. */
static json_object *
parse_object(const char *body, size_t len, char *err, size_t errlen)
{
	if (len > OAUTH2_MAX_BODY || len > INT_MAX) {
		(void)snprintf(err, errlen, "longer than %d bytes",
		    OAUTH2_MAX_BODY);
		return NULL;
	}
	if (memchr(body, '\0', len) != NULL) {
		(void)snprintf(err, errlen, "holds a NUL byte");
		return NULL;
	}
	json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
	if (tok == NULL)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	json_object *o = json_tokener_parse_ex(tok, body, (int)len);
	enum json_tokener_error e = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (o == NULL || e != json_tokener_success) {
		json_object_put(o);
		(void)snprintf(err, errlen, "not JSON (%s)",
		    e == json_tokener_continue ? "incomplete" :
		    json_tokener_error_desc(e));
		return NULL;
	}
	for (; end < len; end++)
		if (strchr(" \t\r\n", body[end]) == NULL) {
			json_object_put(o);
			(void)snprintf(err, errlen, "text after the JSON "
			    "object");
			return NULL;
		}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		(void)snprintf(err, errlen, "not a JSON object");
		return NULL;
	}
	return o;
}

/* Printable ASCII, 1 to max characters; `quoted` also refuses " and \
   (RFC 6749's error codes). */
static bool
printable(const char *s, size_t n, size_t max, bool quoted)
{
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e || (quoted && (c == '"' || c == '\\')))
			return false;
	}
	return true;
}

/*
 * Member `key` as a string: 0 absent (or null), 1 copied into *out, -1
 * with err when it is not a string or not 1..max printable characters
 * (a string with a NUL escape included).
 */
static int
get_string(json_object *o, const char *key, size_t max, bool quoted,
    char **out, char *err, size_t errlen)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		(void)snprintf(err, errlen, "%s is not a string", key);
		return -1;
	}
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);
	if (strlen(s) != n || !printable(s, n, max, quoted)) {
		(void)snprintf(err, errlen, "%s is empty, too long or holds "
		    "a character that is not printable ASCII", key);
		return -1;
	}
	*out = xstrndup(s, n);
	return 1;
}

/* Member `key` as a count of seconds: a number or a string of digits,
   0..max.  0 absent (*out -1), 1, or -1 with err. */
static int
get_seconds(json_object *o, const char *key, long max, long *out, char *err,
    size_t errlen)
{
	json_object *v;
	long n = -1;

	*out = -1;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);
		if (i >= 0 && i <= max)
			n = (long)i;
	} else if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		size_t len = (size_t)json_object_get_string_len(v);
		if (len > 0 && len < 12 && strspn(s, "0123456789") == len) {
			long long i = strtoll(s, NULL, 10);
			if (i <= max)
				n = (long)i;
		}
	}
	if (n < 0) {
		(void)snprintf(err, errlen, "%s is not a number of seconds "
		    "from 0 to %ld", key, max);
		return -1;
	}
	*out = n;
	return 1;
}

void
oauth2_tokens_clear(struct oauth2_tokens *t)
{
	free_secret(t->access_token);
	free_secret(t->refresh_token);
	free(t->error);
	free(t->error_description);
	memset(t, 0, sizeof *t);
	t->expires_in = t->interval = -1;
}

/* The error members of an answer: 1 with t->error, 0 none, -1. */
static int
get_error(json_object *o, struct oauth2_tokens *t, char *err, size_t errlen)
{
	int rc = get_string(o, "error", 128, true, &t->error, err, errlen);
	if (rc <= 0)
		return rc;
	/* A description that is not plain text is only dropped: the code
	   says what happened. */
	char ignored[8];
	if (get_string(o, "error_description", TEXT_MAX, false,
	    &t->error_description, ignored, sizeof ignored) < 0)
		t->error_description = NULL;
	if (get_seconds(o, "interval", 3600, &t->interval, ignored,
	    sizeof ignored) < 0)
		t->interval = -1;
	return 1;
}

static int
tokens_from(json_object *o, bool store, struct oauth2_tokens *t, char *err,
    size_t errlen)
{
	if (!store) {
		int e = get_error(o, t, err, errlen);
		if (e != 0)
			return e < 0 ? OAUTH2_MALFORMED : OAUTH2_ERROR;
	}
	if (get_string(o, "access_token", TOKEN_MAX, false, &t->access_token,
	    err, errlen) < 0 || get_string(o, "refresh_token", TOKEN_MAX,
	    false, &t->refresh_token, err, errlen) < 0)
		return OAUTH2_MALFORMED;
	if (store) {
		long at;
		if (get_seconds(o, "expires_at", LONG_MAX / 2, &at, err,
		    errlen) < 0)
			return OAUTH2_MALFORMED;
		t->expires_at = at < 0 ? 0 : (time_t)at;
		if (t->refresh_token == NULL) {
			(void)snprintf(err, errlen, "no refresh_token");
			return OAUTH2_MALFORMED;
		}
	} else if (get_seconds(o, "expires_in", TEN_YEARS, &t->expires_in,
	    err, errlen) < 0)
		return OAUTH2_MALFORMED;
	if (t->access_token == NULL && !store) {
		(void)snprintf(err, errlen, "no access_token and no error");
		return OAUTH2_MALFORMED;
	}
	return OAUTH2_TOKENS;
}

static int
parse_tokens(const char *body, size_t len, bool store,
    struct oauth2_tokens *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	t->expires_in = t->interval = -1;
	json_object *o = parse_object(body, len, err, errlen);
	if (o == NULL)
		return OAUTH2_MALFORMED;
	int rc = tokens_from(o, store, t, err, errlen);
	json_object_put(o);
	if (rc == OAUTH2_MALFORMED)
		oauth2_tokens_clear(t);
	return rc;
}

int
oauth2_parse_tokens(const char *body, size_t len, struct oauth2_tokens *t,
    char *err, size_t errlen)
{
	return parse_tokens(body, len, false, t, err, errlen);
}

int
oauth2_parse_store(const char *body, size_t len, struct oauth2_tokens *t,
    char *err, size_t errlen)
{
	return parse_tokens(body, len, true, t, err, errlen) ==
	    OAUTH2_TOKENS ? 0 : -1;
}

void
oauth2_store_json(const struct oauth2_tokens *t, struct buf *out)
{
	json_object *o = json_object_new_object();

	if (o == NULL)
		abort();
	if (t->access_token != NULL)
		json_object_object_add(o, "access_token",
		    json_object_new_string(t->access_token));
	json_object_object_add(o, "expires_at",
	    json_object_new_int64((int64_t)t->expires_at));
	if (t->refresh_token != NULL)
		json_object_object_add(o, "refresh_token",
		    json_object_new_string(t->refresh_token));
	size_t n;
	const char *s = json_object_to_json_string_length(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	buf_add(out, s, n);
	buf_addc(out, '\n');
	/* json-c keeps the text in the object: wipe it before freeing. */
	explicit_bzero((char *)s, n);
	json_object_put(o);
}

void
oauth2_device_clear(struct oauth2_device *d)
{
	free_secret(d->device_code);
	free(d->user_code);
	free(d->verification_uri);
	free(d->verification_uri_complete);
	memset(d, 0, sizeof *d);
}

/* An address to show the user: https, or http to 127.0.0.1 (tests). */
static bool
shown_uri_ok(const char *u)
{
	return u == NULL || strncmp(u, "https://", 8) == 0 ||
	    strncmp(u, "http://127.0.0.1:", 17) == 0;
}

static int
device_from(json_object *o, struct oauth2_device *d, char *err, size_t errlen)
{
	if (get_string(o, "device_code", TOKEN_MAX, false, &d->device_code,
	    err, errlen) < 0 || get_string(o, "user_code", 128, false,
	    &d->user_code, err, errlen) < 0 || get_string(o,
	    "verification_uri", TEXT_MAX, true, &d->verification_uri, err,
	    errlen) < 0 || get_string(o, "verification_uri_complete",
	    TEXT_MAX, true, &d->verification_uri_complete, err, errlen) < 0 ||
	    get_seconds(o, "expires_in", 24 * 3600, &d->expires_in, err,
	    errlen) < 0 || get_seconds(o, "interval", 3600, &d->interval, err,
	    errlen) < 0)
		return -1;
	if (d->verification_uri == NULL && get_string(o, "verification_url",
	    TEXT_MAX, true, &d->verification_uri, err, errlen) < 0)
		return -1;
	const char *missing = d->device_code == NULL ? "device_code" :
	    d->user_code == NULL ? "user_code" : d->verification_uri == NULL ?
	    "verification_uri" : d->expires_in < 0 ? "expires_in" : NULL;
	if (missing != NULL) {
		(void)snprintf(err, errlen, "no %s", missing);
		return -1;
	}
	if (!shown_uri_ok(d->verification_uri) ||
	    !shown_uri_ok(d->verification_uri_complete)) {
		(void)snprintf(err, errlen, "the verification address is not "
		    "https");
		return -1;
	}
	if (d->interval < 0)
		d->interval = 5;	/* RFC 8628 3.2 */
	return 0;
}

int
oauth2_parse_device(const char *body, size_t len, struct oauth2_device *d,
    struct oauth2_tokens *t, char *err, size_t errlen)
{
	memset(d, 0, sizeof *d);
	memset(t, 0, sizeof *t);
	t->expires_in = t->interval = -1;
	json_object *o = parse_object(body, len, err, errlen);
	if (o == NULL)
		return OAUTH2_MALFORMED;
	int rc = get_error(o, t, err, errlen);
	if (rc == 0)
		rc = device_from(o, d, err, errlen) < 0 ? OAUTH2_MALFORMED :
		    OAUTH2_TOKENS;
	else
		rc = rc < 0 ? OAUTH2_MALFORMED : OAUTH2_ERROR;
	json_object_put(o);
	if (rc == OAUTH2_MALFORMED) {
		oauth2_device_clear(d);
		oauth2_tokens_clear(t);
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Forms and the redirect                                              */

void
oauth2_form_add(struct buf *form, const char *key, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";

	if (form->len > 0)
		buf_addc(form, '&');
	buf_adds(form, key);
	buf_addc(form, '=');
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL)
			buf_addc(form, (char)*p);
		else {
			buf_addc(form, '%');
			buf_addc(form, hex[*p >> 4]);
			buf_addc(form, hex[*p & 15]);
		}
	}
}

void
oauth2_redirect_clear(struct oauth2_redirect *r)
{
	free_secret(r->code);
	free(r->state);
	free(r->error);
	memset(r, 0, sizeof *r);
}

/* Percent-decode s[0..n) into a new string; NULL when an escape is bad
   or the result holds a control or non-ASCII byte. */
static char *
query_value(const char *s, size_t n)
{
	char *out = xcalloc(1, n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '+')
			c = ' ';
		else if (c == '%') {
			int hi = i + 2 < n ? hex_value(s[i + 1]) : -1;
			int lo = i + 2 < n ? hex_value(s[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				explicit_bzero(out, n + 1);
				free(out);
				return NULL;
			}
			c = hi * 16 + lo;
			i += 2;
		}
		if (c < 0x20 || c > 0x7e) {
			explicit_bzero(out, n + 1);
			free(out);
			return NULL;
		}
		*o++ = (char)c;
	}
	*o = '\0';
	return out;
}

/* One "key=value" of the query into r: 0, or -1 with err. */
static int
redirect_param(const char *p, size_t n, struct oauth2_redirect *r, char *err,
    size_t errlen)
{
	const char *eq = memchr(p, '=', n);
	size_t klen = eq ? (size_t)(eq - p) : n;
	char **slot = NULL;

	if (klen == 4 && memcmp(p, "code", 4) == 0)
		slot = &r->code;
	else if (klen == 5 && memcmp(p, "state", 5) == 0)
		slot = &r->state;
	else if (klen == 5 && memcmp(p, "error", 5) == 0)
		slot = &r->error;
	else
		return 0;	/* scope, authuser, error_description, ... */
	if (*slot != NULL) {
		(void)snprintf(err, errlen, "%.*s given twice", (int)klen, p);
		return -1;
	}
	*slot = eq ? query_value(eq + 1, n - klen - 1) : xstrdup("");
	if (*slot == NULL) {
		(void)snprintf(err, errlen, "%.*s is not printable ASCII",
		    (int)klen, p);
		return -1;
	}
	return 0;
}

int
oauth2_parse_redirect(const char *target, size_t len,
    struct oauth2_redirect *r, char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	const char *q = memchr(target, '?', len);
	size_t plen = q ? (size_t)(q - target) : len;

	if (plen != 1 || target[0] != '/')
		return 1;
	for (const char *p = q ? q + 1 : target + len, *end = target + len;
	    p < end;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		size_t n = amp ? (size_t)(amp - p) : (size_t)(end - p);
		if (n > 0 && redirect_param(p, n, r, err, errlen) < 0) {
			oauth2_redirect_clear(r);
			return -1;
		}
		p += n + 1;
	}
	if (r->code == NULL && r->error == NULL) {
		(void)snprintf(err, errlen, "neither code nor error");
		oauth2_redirect_clear(r);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* HTTPS                                                               */

static size_t
collect(char *p, size_t size, size_t n, void *ctx)
{
	struct buf *b = ctx;

	if (n > OAUTH2_MAX_BODY || b->len + n > OAUTH2_MAX_BODY)
		return 0;	/* too long: a write error stops the transfer */
	buf_add(b, p, n * size);
	return n * size;
}

static enum fail_class
curl_class(CURLcode c)
{
	switch (c) {
	case CURLE_PEER_FAILED_VERIFICATION: case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE: case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER: case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_ISSUER_ERROR: case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return FAIL_TLS;
	case CURLE_WRITE_ERROR:
		return FAIL_PROTOCOL;
	case CURLE_UNSUPPORTED_PROTOCOL: case CURLE_URL_MALFORMAT:
		return FAIL_CONFIG;
	default:
		return FAIL_TEMP;
	}
}

static void
set_options(CURL *c, const struct oauth2_http *h, const char *url,
    const struct buf *form, struct buf *body, char *errbuf,
    struct curl_slist *headers)
{
	long secs = h->timeout > 0 ? h->timeout : 60;

	(void)curl_easy_setopt(c, CURLOPT_URL, url);
	(void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	(void)curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	(void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	(void)curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->ca_file != NULL)
		(void)curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file);
	(void)curl_easy_setopt(c, CURLOPT_TIMEOUT, secs);
	(void)curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, secs);
	(void)curl_easy_setopt(c, CURLOPT_USERAGENT, "carrier/"
	    CARRIER_VERSION);
	(void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	(void)curl_easy_setopt(c, CURLOPT_POSTFIELDS, form->data ?
	    form->data : "");
	(void)curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)form->len);
	(void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	(void)curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	(void)curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
}

int
oauth2_post(const struct oauth2_http *h, const char *what, const char *url,
    const struct buf *form, long *status, struct buf *body, struct failure *f)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	int rc = 0;

	if (strncmp(url, "https://", 8) != 0)
		return fail(f, FAIL_CONFIG, 0, what, "not an https URL");
	buf_free_secret(body);
	buf_init(body);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return fail(f, FAIL_OSERR, 0, what, "libcurl did not start");
	CURL *c = curl_easy_init();
	struct curl_slist *headers = curl_slist_append(NULL,
	    "Accept: application/json");
	if (c == NULL || headers == NULL) {
		rc = fail(f, FAIL_OSERR, 0, what, "libcurl did not start");
		goto out;
	}
	set_options(c, h, url, form, body, errbuf, headers);
	CURLcode e = curl_easy_perform(c);
	if (e != CURLE_OK) {
		enum fail_class cl = curl_class(e);
		buf_free_secret(body);
		buf_init(body);
		rc = fail(f, cl, 0, what, "%s", cl == FAIL_PROTOCOL ?
		    "the answer is longer than 64 KiB" : errbuf[0] ? errbuf :
		    curl_easy_strerror(e));
		goto out;
	}
	(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
out:
	curl_slist_free_all(headers);
	if (c != NULL)
		curl_easy_cleanup(c);
	curl_global_cleanup();
	return rc;
}

/* ------------------------------------------------------------------ */
/* The loopback redirect (RFC 8252 7.3)                                */

int
oauth2_loopback_open(int *port, struct failure *f)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		int e = errno;
		if (fd >= 0)
			(void)close(fd);
		return fail(f, FAIL_OSERR, 0, "loopback redirect listener",
		    "%s", strerror(e));
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Wait for fd to be readable until the deadline: 1 ready, 0 timed out. */
static int
wait_readable(int fd, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - monotonic_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = { fd, POLLIN, 0 };
		int n = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* The request line of one connection: 1 read into *line, 0 nothing
   usable came (closed, silent for 10 s, not a GET). */
static int
read_request_line(int c, int64_t deadline, struct buf *line)
{
	char chunk[1024];
	int64_t until = monotonic_ms() + 10000;

	if (until > deadline)
		until = deadline;
	buf_reset(line);
	while (line->len < 8192) {
		if (wait_readable(c, until) <= 0)
			return 0;
		ssize_t n = read(c, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		buf_add(line, chunk, (size_t)n);
		char *eol = memchr(line->data, '\n', line->len);
		if (eol == NULL)
			continue;
		size_t l = (size_t)(eol - line->data);
		if (l > 0 && line->data[l - 1] == '\r')
			l--;
		line->data[l] = '\0';
		line->len = l;
		return strncmp(line->data, "GET ", 4) == 0;
	}
	return 0;
}

static void
answer(int c, const char *status, const char *text)
{
	char out[512];
	int n = snprintf(out, sizeof out, "HTTP/1.1 %s\r\nContent-Type: "
	    "text/plain; charset=utf-8\r\nConnection: close\r\n"
	    "Content-Length: %zu\r\n\r\n%s", status, strlen(text), text);

	if (n > 0 && (size_t)n < sizeof out)
		(void)write_all(c, out, (size_t)n);
}

int
oauth2_loopback_wait(int fd, int timeout, struct oauth2_redirect *r,
    struct failure *f)
{
	int64_t deadline = monotonic_ms() + (int64_t)timeout * 1000;
	struct buf line;
	char err[128];
	int rc = 1;

	memset(r, 0, sizeof *r);
	buf_init(&line);
	while (rc == 1) {
		int w = wait_readable(fd, deadline);
		if (w <= 0) {
			rc = w == 0 ? fail(f, FAIL_TEMP, 0, "--oauth2-login",
			    "no redirect from the browser within %d s",
			    timeout) : fail(f, FAIL_OSERR, 0, "--oauth2-login",
			    "%s", strerror(errno));
			break;
		}
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		if (read_request_line(c, deadline, &line) == 1) {
			/* "GET TARGET HTTP/1.1" */
			char *t = line.data + 4, *sp = strchr(t, ' ');
			size_t tl = sp ? (size_t)(sp - t) : strlen(t);
			rc = oauth2_parse_redirect(t, tl, r, err, sizeof err);
			if (rc == 1)
				answer(c, "404 Not Found", "not found\n");
			else if (rc == 0)
				answer(c, "200 OK", "carrier got the answer; "
				    "you may close this window.\n");
			else {
				answer(c, "400 Bad Request", "malformed\n");
				fail(f, FAIL_PROTOCOL, 0, "--oauth2-login",
				    "the redirect is malformed: %s", err);
			}
		}
		(void)close(c);
	}
	buf_free_secret(&line);
	return rc;
}
