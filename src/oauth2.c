/*
 * oauth2.c: the OAuth2 flows over oauth2_http.c and oauth2_store.c.  See
 * oauth2.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "auth.h"
#include "oauth2.h"
#include "oauth2_http.h"
#include "oauth2_store.h"
#include "options.h"
#include "secret.h"

/* A token that expires within this many seconds is refreshed first. */
#define MARGIN		60
/* How long a login waits for the user, at most. */
#define LOGIN_WAIT	600

struct preset {
	const char *name, *authorization, *device, *token, *scope;
};

/* Google's device grant does not offer the mail scope: code grant. */
static const struct preset presets[] = {
	{ "google", "https://accounts.google.com/o/oauth2/v2/auth", NULL,
	    "https://oauth2.googleapis.com/token", "https://mail.google.com/" },
	{ "microsoft",
	    "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
	    "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode",
	    "https://login.microsoftonline.com/common/oauth2/v2.0/token",
	    "https://outlook.office.com/SMTP.Send offline_access" },
	{ "custom", NULL, NULL, NULL, NULL },
};

/* One account's settings with the preset filled in. */
struct ctx {
	const struct oauth2_settings *set;
	const char *account;	/* for messages and the default file name */
	const char *authorization, *device, *token, *scope;
	bool google;
	char *file;		/* the token file */
	struct oauth2_http http;
	char token_what[300];	/* "token endpoint URL" */
	char *client_secret;	/* fetched when first needed */
};

void
oauth2_settings_free(struct oauth2_settings *s)
{
	char **strs[] = { &s->provider, &s->client_id,
	    &s->client_secret_eval, &s->authorization_endpoint,
	    &s->device_endpoint, &s->token_endpoint, &s->scope,
	    &s->token_file };

	for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
	free_secret(s->client_secret);
	s->client_secret = NULL;
}

static const struct preset *
find_preset(const char *name)
{
	for (size_t i = 0; name && i < sizeof presets / sizeof *presets; i++)
		if (ascii_ieq(name, presets[i].name))
			return &presets[i];
	return NULL;
}

bool
oauth2_provider_known(const char *name)
{
	return find_preset(name) != NULL;
}

bool
oauth2_in_use(const struct options *o)
{
	return o->oauth2.provider != NULL;
}

/* The mechanisms in o->auth carry a bearer token, or become those that
   do. */
static int
check_auth(struct options *o, struct failure *f)
{
	struct auth_setting *a = &o->auth;

	if (a->mode == AUTH_DEFAULT || a->mode == AUTH_ON) {
		/* XOAUTH2 carries a user name: only with one. */
		a->mode = AUTH_LIST;
		a->n = 0;
		a->mech[a->n++] = SASL_OAUTHBEARER;
		if (o->user != NULL)
			a->mech[a->n++] = SASL_XOAUTH2;
		return 0;
	}
	if (a->mode == AUTH_OFF)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (a->mech[i] != SASL_XOAUTH2 && a->mech[i] != SASL_OAUTHBEARER)
			return fail(f, FAIL_CONFIG, 0, "oauth2_provider", "auth "
			    "%s cannot carry an OAuth2 token: use auth "
			    "xoauth2 or oauthbearer", sasl_mech_name(a->mech[i]));
	return 0;
}

int
oauth2_check(struct options *o, struct failure *f)
{
	const struct oauth2_settings *s = &o->oauth2;
	const struct preset *p = find_preset(s->provider);

	if (s->provider == NULL)
		return 0;
	if (p == NULL)
		return fail(f, FAIL_CONFIG, 0, "oauth2_provider", "'%s' is not "
		    "google, microsoft or custom", s->provider);
	if (s->client_id == NULL)
		return fail(f, FAIL_CONFIG, 0, "oauth2_client_id", "not set "
		    "(the id of the application registered with the "
		    "provider)");
	if (s->token_endpoint == NULL && p->token == NULL)
		return fail(f, FAIL_CONFIG, 0, "oauth2_token_endpoint",
		    "not set (oauth2_provider custom has no default)");
	if (s->client_secret != NULL && s->client_secret_eval != NULL)
		return fail(f, FAIL_CONFIG, 0, "oauth2_client_secret_eval",
		    "set together with oauth2_client_secret: keep one");
	return check_auth(o, f);
}

static void
ctx_free(struct ctx *c)
{
	free(c->file);
	free_secret(c->client_secret);
	memset(c, 0, sizeof *c);
}

/* need_provider false (logout): only the token file matters. */
static int
ctx_init(const struct options *o, bool need_provider, struct ctx *c,
    struct failure *f)
{
	const struct oauth2_settings *s = &o->oauth2;
	const struct preset *p = find_preset(s->provider);

	memset(c, 0, sizeof *c);
	if (p == NULL && need_provider)
		return fail(f, FAIL_CONFIG, 0, "oauth2_provider", "not set for "
		    "account '%s'", o->account ? o->account : "default");
	if (p == NULL)
		p = find_preset("custom");
	c->set = s;
	c->account = o->account ? o->account : "default";
	c->authorization = s->authorization_endpoint ?
	    s->authorization_endpoint : p->authorization;
	c->device = s->device_endpoint ? s->device_endpoint : p->device;
	c->token = s->token_endpoint ? s->token_endpoint : p->token;
	c->scope = s->scope ? s->scope : p->scope;
	c->google = strcmp(p->name, "google") == 0;
	c->http.ca_file = o->tls_ca;
	c->http.timeout = o->timeout;
	(void)snprintf(c->token_what, sizeof c->token_what, "token endpoint "
	    "%s", c->token ? c->token : "(unset)");
	/* Only a login makes the default directories. */
	c->file = s->token_file ? xstrdup(s->token_file) :
	    oauth2_store_default(o->account, need_provider &&
	    o->action == ACT_OAUTH2_LOGIN, f);
	return c->file == NULL ? -1 : 0;
}

/* The client secret, or NULL for a public client (0), or -1. */
static int
client_secret(struct ctx *c, const char **out, struct failure *f)
{
	*out = c->set->client_secret;
	if (*out != NULL || c->set->client_secret_eval == NULL)
		return 0;
	if (c->client_secret == NULL) {
		if (secret_eval(c->set->client_secret_eval, c->http.timeout,
		    &c->client_secret, f) < 0) {
			(void)snprintf(f->what, sizeof f->what,
			    "oauth2_client_secret_eval");
			return -1;
		}
	}
	*out = c->client_secret;
	return 0;
}

/* client_id and, for a confidential client, client_secret. */
static int
add_client(struct ctx *c, struct buf *form, struct failure *f)
{
	const char *secret;

	if (client_secret(c, &secret, f) < 0)
		return -1;
	oauth2_form_add(form, "client_id", c->set->client_id);
	if (secret != NULL)
		oauth2_form_add(form, "client_secret", secret);
	return 0;
}

/* A printable description of an error answer, unless it holds a secret
   of ours (a provider that echoes what it got). */
static const char *
description(const struct oauth2_tokens *t, const char *secret)
{
	const char *d = t->error_description;

	if (d == NULL || (secret != NULL && strstr(d, secret) != NULL))
		return "";
	return d;
}

/*
 * POST form to the endpoint; the answer parsed into *t.  Returns
 * OAUTH2_TOKENS or OAUTH2_ERROR (t->error set, for the caller to judge),
 * or -1 with f.  The form is wiped.
 */
static int
request(struct ctx *c, const char *what, const char *url, struct buf *form,
    struct oauth2_tokens *t, bool device, struct oauth2_device *d,
    struct failure *f)
{
	struct buf body;
	long status = 0;
	char err[160];
	int rc;

	memset(t, 0, sizeof *t);
	if (d != NULL)
		memset(d, 0, sizeof *d);
	buf_init(&body);
	rc = oauth2_post(&c->http, what, url, form, &status, &body, f);
	buf_free_secret(form);
	if (rc < 0)
		goto out;
	if (status >= 500) {
		rc = fail(f, FAIL_TEMP, 0, what, "HTTP status %ld", status);
		goto out;
	}
	rc = device ? oauth2_parse_device(body.data ? body.data : "",
	    body.len, d, t, err, sizeof err) : oauth2_parse_tokens(body.data ?
	    body.data : "", body.len, t, err, sizeof err);
	if (rc == OAUTH2_TOKENS && status != 200) {
		(void)snprintf(err, sizeof err, "tokens with HTTP status %ld",
		    status);
		rc = OAUTH2_MALFORMED;
	}
	if (rc == OAUTH2_MALFORMED)
		rc = fail(f, FAIL_PROTOCOL, 0, what, "malformed answer "
		    "(HTTP status %ld): %s", status, err);
	else if (rc == OAUTH2_ERROR &&
	    strcmp(t->error, "temporarily_unavailable") == 0)
		rc = fail(f, FAIL_TEMP, 0, what, "temporarily_unavailable %s",
		    description(t, NULL));
	else if (rc == OAUTH2_ERROR && (strcmp(t->error, "invalid_client") ==
	    0 || strcmp(t->error, "unauthorized_client") == 0))
		rc = fail(f, FAIL_CONFIG, 0, what, "%s: the provider refuses "
		    "the client (check oauth2_client_id and its secret) %s",
		    t->error, description(t, NULL));
out:
	buf_free_secret(&body);
	return rc;
}

/* The login hint every "log in again" failure ends with. */
static int
login_again(struct ctx *c, const char *why, struct failure *f)
{
	return fail(f, FAIL_AUTH, 0, "OAuth2", "%s: run carrier --oauth2-login --account %s", why, c->account);
}

/* t's expires_in into expires_at (an hour when not given). */
static void
set_expiry(struct oauth2_tokens *t)
{
	t->expires_at = time(NULL) + (t->expires_in >= 0 ? t->expires_in :
	    3600);
}

/* grant_type=refresh_token: new tokens merged into *t, stored. */
static int
refresh(struct ctx *c, struct oauth2_tokens *t, struct failure *f)
{
	struct oauth2_tokens n;
	struct buf form;
	int rc;

	buf_init(&form);
	oauth2_form_add(&form, "grant_type", "refresh_token");
	oauth2_form_add(&form, "refresh_token", t->refresh_token);
	if (add_client(c, &form, f) < 0) {
		buf_free_secret(&form);
		return -1;
	}
	rc = request(c, c->token_what, c->token, &form, &n, false, NULL, f);
	if (rc == OAUTH2_ERROR) {
		char why[400];
		(void)snprintf(why, sizeof why, "the provider refused the "
		    "refresh token (%s%s%s)", n.error,
		    *description(&n, t->refresh_token) ? ": " : "",
		    description(&n, t->refresh_token));
		rc = strcmp(n.error, "invalid_grant") == 0 ? login_again(c,
		    why, f) : fail(f, FAIL_AUTH, 0, c->token_what, "%s", why);
	} else if (rc == OAUTH2_TOKENS) {
		free_secret(t->access_token);
		t->access_token = n.access_token;
		n.access_token = NULL;
		if (n.refresh_token != NULL) {	/* rotated */
			free_secret(t->refresh_token);
			t->refresh_token = n.refresh_token;
			n.refresh_token = NULL;
		}
		t->expires_in = n.expires_in;
		set_expiry(t);
		rc = oauth2_store_write(c->file, t, f);
	}
	oauth2_tokens_clear(&n);
	return rc;
}

/* A stored token to use: valid for MARGIN more seconds and not the one
   the server refused. */
static bool
usable(const struct oauth2_tokens *t, const char *rejected)
{
	return t->access_token != NULL && t->expires_at - time(NULL) > MARGIN &&
	    (rejected == NULL || strcmp(t->access_token, rejected) != 0);
}

static int
read_logged_in(struct ctx *c, struct oauth2_tokens *t, struct failure *f)
{
	int rc = oauth2_store_read(c->file, t, f);

	if (rc == 0)
		return login_again(c, "not logged in (no token file)", f);
	return rc < 0 ? -1 : 0;
}

int
oauth2_token(const struct options *o, const char *rejected, char **token,
    struct failure *f)
{
	struct ctx c;
	struct oauth2_tokens t;
	int rc = -1, lock = -1;

	*token = NULL;
	memset(&t, 0, sizeof t);
	if (ctx_init(o, true, &c, f) < 0)
		goto out;
	if (read_logged_in(&c, &t, f) < 0)
		goto out;
	if (!usable(&t, rejected)) {
		/* Whoever holds the lock refreshes; the others find its
		   token when they get the lock. */
		int wait = (c.http.timeout > 0 ? c.http.timeout : 60) + 10;
		if ((lock = oauth2_store_lock(c.file, wait, f)) < 0)
			goto out;
		oauth2_tokens_clear(&t);
		if (read_logged_in(&c, &t, f) < 0)
			goto out;
		if (!usable(&t, rejected) && refresh(&c, &t, f) < 0)
			goto out;
	}
	*token = xstrdup(t.access_token);
	rc = 0;
out:
	if (lock >= 0)
		(void)close(lock);
	oauth2_tokens_clear(&t);
	ctx_free(&c);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Login                                                               */

/* The login's tokens into the token file, under the lock. */
static int
store_login(struct ctx *c, struct oauth2_tokens *t, struct failure *f)
{
	if (t->refresh_token == NULL)
		return fail(f, FAIL_AUTH, 0, c->token_what, "the provider gave "
		    "no refresh token (Microsoft needs the offline_access "
		    "scope)");
	set_expiry(t);
	int lock = oauth2_store_lock(c->file, c->http.timeout > 0 ?
	    c->http.timeout : 60, f);
	if (lock < 0)
		return -1;
	int rc = oauth2_store_write(c->file, t, f);
	(void)close(lock);
	if (rc == 0)
		printf("carrier: account %s is logged in (tokens in %s)\n",
		    c->account, c->file);
	return rc;
}

/* One device grant poll: 1 tokens, 0 wait more, -1. */
static int
device_poll(struct ctx *c, const struct oauth2_device *d, long *interval,
    struct oauth2_tokens *t, struct failure *f)
{
	struct buf form;

	buf_init(&form);
	oauth2_form_add(&form, "grant_type",
	    "urn:ietf:params:oauth:grant-type:device_code");
	oauth2_form_add(&form, "device_code", d->device_code);
	if (add_client(c, &form, f) < 0) {
		buf_free_secret(&form);
		return -1;
	}
	int rc = request(c, c->token_what, c->token, &form, t, false, NULL, f);
	if (rc != OAUTH2_ERROR)
		return rc == OAUTH2_TOKENS ? 1 : -1;
	if (strcmp(t->error, "authorization_pending") == 0)
		return 0;
	if (strcmp(t->error, "slow_down") == 0) {	/* RFC 8628 3.5 */
		*interval = t->interval > *interval ? t->interval :
		    *interval + 5;
		return 0;
	}
	if (strcmp(t->error, "expired_token") == 0)
		return fail(f, FAIL_AUTH, 0, "--oauth2-login", "the code "
		    "expired before the sign-in was done: run carrier "
		    "--oauth2-login again");
	if (strcmp(t->error, "access_denied") == 0)
		return fail(f, FAIL_AUTH, 0, "--oauth2-login", "the sign-in "
		    "was denied (access_denied)");
	return fail(f, FAIL_AUTH, 0, c->token_what, "the login was refused "
	    "(%s%s%s)", t->error, *description(t, NULL) ? ": " : "",
	    description(t, NULL));
}

static int
device_login(struct ctx *c, struct failure *f)
{
	struct oauth2_device d;
	struct oauth2_tokens t;
	struct buf form;
	char what[300];
	int rc;

	(void)snprintf(what, sizeof what, "device endpoint %s", c->device);
	buf_init(&form);
	if (add_client(c, &form, f) < 0) {
		buf_free_secret(&form);
		return -1;
	}
	if (c->scope != NULL)
		oauth2_form_add(&form, "scope", c->scope);
	memset(&d, 0, sizeof d);
	rc = request(c, what, c->device, &form, &t, true, &d, f);
	if (rc == OAUTH2_ERROR)
		rc = fail(f, FAIL_AUTH, 0, what, "the login was refused (%s)",
		    t.error);
	oauth2_tokens_clear(&t);
	if (rc < 0)
		goto out;
	printf("To sign in account %s, open %s\nand enter the code %s\n",
	    c->account, d.verification_uri, d.user_code);
	if (d.verification_uri_complete != NULL)
		printf("(or open %s)\n", d.verification_uri_complete);
	printf("Waiting for the sign-in...\n");
	(void)fflush(stdout);
	long interval = d.interval > 0 ? d.interval : 1;
	int64_t end = monotonic_ms() + (int64_t)(d.expires_in < LOGIN_WAIT ?
	    d.expires_in : LOGIN_WAIT) * 1000;
	for (rc = 0; rc == 0;) {
		if (monotonic_ms() + interval * 1000 > end) {
			rc = fail(f, FAIL_AUTH, 0, "--oauth2-login", "the code "
			    "expired before the sign-in was done: run carrier "
			    "--oauth2-login again");
			break;
		}
		(void)sleep((unsigned)interval);
		rc = device_poll(c, &d, &interval, &t, f);
		if (rc == 1)
			rc = store_login(c, &t, f) < 0 ? -1 : 1;
		oauth2_tokens_clear(&t);
	}
out:
	oauth2_device_clear(&d);
	return rc < 0 ? -1 : 0;
}

/* n random bytes (or the SHA-256 of s) as base64url without padding
   (RFC 7636 4.1, 4.2). */
static char *
base64url(const void *p, size_t n)
{
	struct buf b;

	buf_init(&b);
	b64_encode(p, n, &b);
	buf_addc(&b, '\0');
	for (char *q = b.data; *q; q++)
		if (*q == '+')
			*q = '-';
		else if (*q == '/')
			*q = '_';
		else if (*q == '=')
			*q = '\0';
	return b.data;
}

static char *
random_url(size_t n)
{
	unsigned char r[32];

	arc4random_buf(r, n);
	char *s = base64url(r, n);
	explicit_bzero(r, sizeof r);
	return s;
}

/* The address the user opens. */
static char *
authorization_url(struct ctx *c, const char *redirect, const char *state,
    const char *verifier)
{
	unsigned char sum[32];
	struct buf q;

	(void)gnutls_hash_fast(GNUTLS_DIG_SHA256, verifier, strlen(verifier),
	    sum);
	char *challenge = base64url(sum, sizeof sum);
	buf_init(&q);
	buf_adds(&q, c->authorization);
	buf_addc(&q, strchr(c->authorization, '?') ? '&' : '?');
	struct buf params;
	buf_init(&params);
	oauth2_form_add(&params, "response_type", "code");
	oauth2_form_add(&params, "client_id", c->set->client_id);
	oauth2_form_add(&params, "redirect_uri", redirect);
	if (c->scope != NULL)
		oauth2_form_add(&params, "scope", c->scope);
	oauth2_form_add(&params, "state", state);
	oauth2_form_add(&params, "code_challenge", challenge);
	oauth2_form_add(&params, "code_challenge_method", "S256");
	if (c->google) {	/* a refresh token, also at a second login */
		oauth2_form_add(&params, "access_type", "offline");
		oauth2_form_add(&params, "prompt", "consent");
	}
	buf_add(&q, params.data, params.len);
	buf_addc(&q, '\0');
	buf_free(&params);
	free(challenge);
	return q.data;
}

/* The code of the redirect into the token request. */
static int
exchange_code(struct ctx *c, const struct oauth2_redirect *r,
    const char *redirect, const char *verifier, struct failure *f)
{
	struct oauth2_tokens t;
	struct buf form;

	buf_init(&form);
	oauth2_form_add(&form, "grant_type", "authorization_code");
	oauth2_form_add(&form, "code", r->code);
	oauth2_form_add(&form, "redirect_uri", redirect);
	oauth2_form_add(&form, "code_verifier", verifier);
	if (add_client(c, &form, f) < 0) {
		buf_free_secret(&form);
		return -1;
	}
	int rc = request(c, c->token_what, c->token, &form, &t, false, NULL,
	    f);
	if (rc == OAUTH2_ERROR)
		rc = fail(f, FAIL_AUTH, 0, c->token_what, "the login was "
		    "refused (%s%s%s)", t.error, *description(&t, r->code) ?
		    ": " : "", description(&t, r->code));
	else if (rc == OAUTH2_TOKENS)
		rc = store_login(c, &t, f);
	oauth2_tokens_clear(&t);
	return rc < 0 ? -1 : 0;
}

static int
code_login(struct ctx *c, struct failure *f)
{
	struct oauth2_redirect r;
	int port, rc = -1;

	if (c->authorization == NULL)
		return fail(f, FAIL_CONFIG, 0, "oauth2_authorization_endpoint",
		    "not set (needed for the login without a device "
		    "endpoint)");
	int fd = oauth2_loopback_open(&port, f);
	if (fd < 0)
		return -1;
	char *redirect = xasprintf("http://127.0.0.1:%d/", port);
	char *state = random_url(16), *verifier = random_url(32);
	char *url = authorization_url(c, redirect, state, verifier);
	printf("To sign in account %s, open this address in a browser on "
	    "this machine:\n%s\nWaiting for the browser...\n", c->account,
	    url);
	(void)fflush(stdout);
	memset(&r, 0, sizeof r);
	if (oauth2_loopback_wait(fd, LOGIN_WAIT, &r, f) < 0)
		goto out;
	if (r.state == NULL || strcmp(r.state, state) != 0)
		fail(f, FAIL_AUTH, 0, "--oauth2-login", "the redirect's state "
		    "does not match this login's: refused");
	else if (r.error != NULL)
		fail(f, FAIL_AUTH, 0, "--oauth2-login", "the provider refused "
		    "the sign-in (%s)", r.error);
	else
		rc = exchange_code(c, &r, redirect, verifier, f);
out:
	(void)close(fd);
	oauth2_redirect_clear(&r);
	free(redirect);
	free(state);
	free_secret(verifier);
	free(url);
	return rc;
}

int
oauth2_login(const struct options *o, struct failure *f)
{
	struct ctx c;
	int rc;

	if (ctx_init(o, true, &c, f) < 0)
		return -1;
	rc = c.device != NULL ? device_login(&c, f) : code_login(&c, f);
	ctx_free(&c);
	return rc;
}

int
oauth2_logout(const struct options *o, struct failure *f)
{
	struct ctx c;
	int rc;

	if (ctx_init(o, false, &c, f) < 0)
		return -1;
	rc = oauth2_store_remove(c.file, f);
	if (rc == 1)
		printf("carrier: account %s is logged out (removed %s)\n",
		    c.account, c.file);
	else if (rc == 0)
		printf("carrier: account %s was not logged in (no %s)\n",
		    c.account, c.file);
	ctx_free(&c);
	return rc < 0 ? -1 : 0;
}
