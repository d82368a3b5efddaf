/*
 * session.c: the SMTP/LMTP dialogue.  Each stage below is named as in the
 * diagnostics ("greeting", "EHLO", "STARTTLS", "AUTH", "MAIL FROM", "RCPT
 * TO", "DATA", "end of data"); the rules for each reply follow smtplib's
 * SMTP class except where carrier(1) EXIT STATUS says otherwise.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "encoder.h"
#include "session.h"

#define MAX_CHALLENGES	5	/* smtplib's _MAXCHALLENGE */
#define MAX_ROUNDS	100	/* transactions for 452-deferred recipients */
#define FLUSH_AT	(256 * 1024)

/* RFC 5321 4.5.3.2: 5 minutes per reply, 10 for the end of data. */
static int64_t
deadline_for(const struct session *s, bool end_of_data)
{
	int sec = s->cfg->timeout;

	if (sec <= 0)
		sec = end_of_data ? 600 : 300;
	return monotonic_ms() + (int64_t)sec * 1000;
}

static void
emit_info(const struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
emit_info(const struct session *s, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (s->cfg->ev.info == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	s->cfg->ev.info(s->cfg->ev.ctx, line);
}

static void
emit_warn(const struct session *s, const char *line)
{
	if (s->cfg->ev.warn)
		s->cfg->ev.warn(s->cfg->ev.ctx, line);
}

/* Queue a command; `shown` replaces it in the transcript (redaction). */
static void
queue_cmd(struct session *s, const char *line, const char *shown)
{
	/* A redacted line is a credential. */
	if (shown != NULL)
		conn_queue_secret(s->conn, line, strlen(line));
	else
		conn_queue(s->conn, line, strlen(line));
	conn_queue(s->conn, "\r\n", 2);
	if (s->cfg->ev.sent)
		s->cfg->ev.sent(s->cfg->ev.ctx, shown ? shown : line);
}

static int
read_reply(struct session *s, struct reply *r, const char *stage,
    bool end_of_data, struct failure *f)
{
	if (conn_read_reply(s->conn, r, deadline_for(s, end_of_data), stage,
	    f) < 0) {
		/* After a timeout, a malformed reply or a lost connection
		   nothing more is said: no QUIT. */
		s->usable = false;
		return -1;
	}
	if (s->cfg->ev.received)
		s->cfg->ev.received(s->cfg->ev.ctx, r);
	if (r->code == 421)
		s->usable = false;
	return 0;
}

static int
flush(struct session *s, struct failure *f)
{
	if (conn_flush(s->conn, deadline_for(s, false), f) < 0) {
		s->usable = false;
		return -1;
	}
	return 0;
}

static int nothing_extra(struct session *s, const char *stage,
    struct failure *f);

static int
command(struct session *s, const char *line, const char *shown,
    struct reply *r, const char *stage, struct failure *f)
{
	queue_cmd(s, line, shown);
	if (flush(s, f) < 0) {
		/* Name the stage, as every diagnostic does. */
		if (f->class != FAIL_OSERR)
			(void)snprintf(f->what, sizeof f->what, "%s", stage);
		return -1;
	}
	if (read_reply(s, r, stage, false, f) < 0)
		return -1;
	/* 421 is often followed by more as the server goes away. */
	return r->code == 421 ? 0 : nothing_extra(s, stage, f);
}

/* A failure whose detail is the reply: "CODE text", one line. */
static int
fail_reply(struct failure *f, enum fail_class class, const char *what,
    const struct reply *r)
{
	char *text = reply_oneline(r);

	fail(f, class, r->code, what, "%d%s%s", r->code, *text ? " " : "",
	    text);
	free(text);
	return -1;
}

/*
 * When every reply to what was sent has been read, nothing more may be
 * waiting: a reply nobody asked for must never pass for the answer to the
 * next command, or a client could report the wrong reply as the outcome.
 */
static int
nothing_extra(struct session *s, const char *stage, struct failure *f)
{
	struct reply r;
	struct failure ignored;
	int rc;

	if (conn_unread(s->conn) == 0)
		return 0;
	s->usable = false;
	/* An unsolicited 421 is the server going away (RFC 5321 3.8),
	   temporary like any 421; anything else is a protocol error. */
	reply_init(&r);
	if (conn_read_reply(s->conn, &r, monotonic_ms() + 1000, stage,
	    &ignored) == 0 && r.code == 421)
		rc = fail_reply(f, FAIL_TEMP, stage, &r);
	else
		rc = fail(f, FAIL_PROTOCOL, 0, stage, "the server sent more "
		    "than one reply");
	reply_free(&r);
	return rc;
}

/* The class of a reply that ends the attempt: 421 and 4xx are temporary. */
static enum fail_class
class_of(const struct reply *r, enum fail_class permanent)
{
	if (reply_transient(r))
		return FAIL_TEMP;
	if (r->code >= 500)
		return permanent;
	return FAIL_PROTOCOL;
}

static void
rset(struct session *s)
{
	struct reply r;
	struct failure ignored;

	/* A transaction in flight behind this one either ends the state
	   (the end of data did) or went out behind its own RSET. */
	if (!s->usable || s->quit_sent || s->behind)
		return;
	reply_init(&r);
	/* A failed RSET changes nothing about the outcome. */
	(void)command(s, "RSET", NULL, &r, "RSET", &ignored);
	reply_free(&r);
}

/* --- greeting and hello --- */

static int
greeting(struct session *s, struct failure *f)
{
	struct reply r;
	int rc = 0;

	reply_init(&r);
	if (read_reply(s, &r, "greeting", false, f) < 0) {
		if (f->class == FAIL_IOERR)
			(void)snprintf(f->detail, sizeof f->detail,
			    "connection closed before the greeting");
		rc = -1;
	} else if (r.code == 220) {
		rc = nothing_extra(s, "greeting", f);
		s->greeting = xstrndup(r.text.data ? r.text.data : "",
		    r.text.len);
	} else {
		/* 421 is temporary; anything else means no service. */
		s->usable = r.code != 421;
		rc = fail_reply(f, r.code == 421 ? FAIL_TEMP : FAIL_CONNECT,
		    "greeting", &r);
	}
	reply_free(&r);
	return rc;
}

static int
hello(struct session *s, struct failure *f)
{
	const char *verb = s->cfg->lmtp ? "LHLO" : "EHLO";
	char what[32], *line = xasprintf("%s %s", verb, s->cfg->helo);
	struct reply r;
	int rc = -1;

	(void)snprintf(what, sizeof what, "%s refused", verb);
	caps_free(&s->caps);
	reply_init(&r);
	if (command(s, line, NULL, &r, verb, f) < 0)
		goto out;
	if (reply_positive(&r)) {
		caps_parse(&r, &s->caps);
		rc = 0;
		goto out;
	}
	/* LMTP has no fallback (RFC 2033); a 4xx or 3xx is no "EHLO not
	   supported" either. */
	if (s->cfg->lmtp || r.code < 500) {
		fail_reply(f, reply_transient(&r) ? FAIL_TEMP :
		    FAIL_PROTOCOL, what, &r);
		goto out;
	}
	/* EHLO refused: an RFC 821 server; HELO, and no ESMTP after. */
	free(line);
	line = xasprintf("HELO %s", s->cfg->helo);
	if (command(s, line, NULL, &r, "HELO", f) < 0)
		goto out;
	if (reply_positive(&r)) {
		memset(&s->caps, 0, sizeof s->caps);
		rc = 0;
	} else
		fail_reply(f, reply_transient(&r) ? FAIL_TEMP :
		    FAIL_PROTOCOL, "HELO refused", &r);
out:
	free(line);
	reply_free(&r);
	return rc;
}

/* --- STARTTLS (RFC 3207) --- */

static int
starttls(struct session *s, struct failure *f)
{
	struct reply r;
	int rc = -1;

	if (!caps_has(&s->caps, "STARTTLS")) {
		if (s->cfg->tls == TLS_STARTTLS_OPTIONAL) {
			emit_info(s, "STARTTLS not offered; going on in clear");
			return 0;
		}
		return fail(f, FAIL_UNSUPPORTED, 0, "STARTTLS",
		    "not offered by the server");
	}
	reply_init(&r);
	if (command(s, "STARTTLS", NULL, &r, "STARTTLS", f) < 0)
		goto out;
	if (r.code != 220) {
		/* Never fall back to clear text once STARTTLS was tried. */
		fail_reply(f, r.code >= 500 ? FAIL_UNSUPPORTED :
		    class_of(&r, FAIL_UNSUPPORTED), "STARTTLS refused", &r);
		goto out;
	}
	if (conn_start_tls(s->conn, &s->cfg->tls_cfg, deadline_for(s, false),
	    f) < 0) {
		s->usable = false;
		goto out;
	}
	/* RFC 3207 4.2: forget everything learnt before TLS. */
	rc = hello(s, f);
out:
	reply_free(&r);
	return rc;
}

/* --- AUTH (RFC 4954) --- */

/*
 * After a 5xx to AUTH, is the next mechanism worth a try?  Only when the
 * server refused the mechanism itself (RFC 4954 6: 504 5.5.4 unrecognized,
 * 534 5.7.9 too weak, 538 5.7.11 encryption required).  Bad credentials
 * (535 5.7.8) or any other refusal end the login: the same secret under
 * another mechanism would be one more failed login for the server's
 * lockout and fail2ban counters (unlike smtplib's login()).
 */
static bool
auth_mechanism_refused(const struct reply *r)
{
	if (strcmp(r->enhanced, "5.7.8") == 0)
		return false;
	return r->code == 504 || r->code == 534 || r->code == 538 ||
	    strcmp(r->enhanced, "5.5.4") == 0 ||
	    strcmp(r->enhanced, "5.7.9") == 0 ||
	    strcmp(r->enhanced, "5.7.11") == 0;
}

/* One AUTH exchange: the mechanism's state and its buffers (wiped). */
struct auth_exchange {
	struct sasl sasl;
	struct buf raw, b64;
	const char *name;
	char err[160];
};

/* "AUTH MECH", with the initial response when it fits the line. */
static int
auth_begin(struct session *s, struct auth_exchange *x, enum sasl_mech mech,
    const struct sasl_creds *creds, struct reply *last, struct failure *f)
{
	struct buf line;
	bool ir = false;
	char shown[64];
	int rc;

	if (sasl_start(&x->sasl, mech, creds, !s->cfg->no_initial_response,
	    &ir, &x->raw, x->err, sizeof x->err) < 0)
		return fail(f, FAIL_AUTH, 0, "AUTH", "%s", x->err);
	buf_init(&line);
	buf_addf(&line, "AUTH %s", x->name);
	if (ir) {
		b64_encode(x->raw.data, x->raw.len, &x->b64);
		/* RFC 4954 4: an initial response that would make the line
		   longer than 512 octets goes in the first 334 instead. */
		if (line.len + 1 + (x->b64.len ? x->b64.len : 1) + 2 <= 512) {
			buf_addc(&line, ' ');
			if (x->b64.len)
				buf_add(&line, x->b64.data, x->b64.len);
			else
				buf_addc(&line, '=');
		} else {
			/* Start again so that the mechanism expects to send
			   it later. */
			sasl_free(&x->sasl);
			buf_free_secret(&x->raw);
			buf_free_secret(&x->b64);
			if (sasl_start(&x->sasl, mech, creds, false, &ir,
			    &x->raw, x->err, sizeof x->err) < 0) {
				buf_free_secret(&line);
				return fail(f, FAIL_AUTH, 0, "AUTH", "%s",
				    x->err);
			}
			ir = false;
		}
	}
	(void)snprintf(shown, sizeof shown, "AUTH %s%s", x->name,
	    ir ? " <redacted>" : "");
	rc = command(s, line.data, shown, last, "AUTH", f);
	buf_free_secret(&line);
	return rc;
}

/* The answer to one 334 challenge (the text after "334 ", one line); a
   challenge the mechanism cannot answer is cancelled with "*" (RFC 4954
   4) and ends the exchange. */
static int
auth_answer(struct session *s, struct auth_exchange *x, struct reply *last,
    struct failure *f)
{
	const char *ch = last->text.data ? last->text.data : "";
	int bad;

	buf_reset(&x->raw);
	if (b64_decode(ch, last->text.len, &x->raw) < 0) {
		(void)snprintf(x->err, sizeof x->err, "%s: the challenge is "
		    "not valid base64", x->name);
		bad = -1;
	} else
		bad = sasl_step(&x->sasl, (const unsigned char *)x->raw.data,
		    x->raw.len, &x->b64, x->err, sizeof x->err);
	if (bad < 0) {
		if (command(s, "*", NULL, last, "AUTH", f) < 0)
			return -1;
		if (bad == SASL_EXTRA_CHALLENGE)
			return fail(f, FAIL_PROTOCOL, 334, "AUTH", "%s",
			    x->err);
		return fail(f, FAIL_AUTH, 0, "AUTH", "bad challenge from the "
		    "server: %s", x->err);
	}
	buf_reset(&x->raw);
	b64_encode(x->b64.data, x->b64.len, &x->raw);
	buf_free_secret(&x->b64);
	return command(s, x->raw.len ? x->raw.data : "", "<redacted>", last,
	    "AUTH", f);
}

/* The final reply: 1 accepted, 0 the mechanism refused (try the next),
   -1 the end of the attempt. */
static int
auth_verdict(struct auth_exchange *x, const struct reply *last,
    struct failure *f)
{
	char what[64];

	if (last->code == 235) {
		if (!sasl_done_ok(&x->sasl))
			return fail(f, FAIL_AUTH, 235, x->name, "the server did "
			    "not prove it knows the password");
		return 1;
	}
	if (reply_transient(last))
		return fail_reply(f, FAIL_TEMP, "AUTH", last);
	if (last->code < 500)
		return fail_reply(f, FAIL_PROTOCOL, "AUTH", last);
	/* 503 included: carrier never authenticates twice. */
	(void)snprintf(what, sizeof what, "AUTH %s refused", x->name);
	fail_reply(f, FAIL_AUTH, what, last);
	return auth_mechanism_refused(last) ? 0 : -1;
}

/* One mechanism: 1 accepted, 0 refused (try the next), -1 fatal. */
static int
auth_one(struct session *s, enum sasl_mech mech,
    const struct sasl_creds *creds, struct reply *last, struct failure *f)
{
	struct auth_exchange x;
	int rc = -1, challenges = 0;

	memset(&x, 0, sizeof x);
	buf_init(&x.raw);
	buf_init(&x.b64);
	x.name = sasl_mech_name(mech);
	if (auth_begin(s, &x, mech, creds, last, f) < 0)
		goto out;
	while (last->code == 334) {
		if (++challenges > MAX_CHALLENGES) {
			fail(f, FAIL_PROTOCOL, 334, "AUTH",
			    "more than %d challenges", MAX_CHALLENGES);
			s->usable = false;
			goto out;
		}
		if (auth_answer(s, &x, last, f) < 0)
			goto out;
	}
	rc = auth_verdict(&x, last, f);
out:
	sasl_free(&x.sasl);
	buf_free_secret(&x.raw);
	buf_free_secret(&x.b64);
	return rc;
}

/*
 * A bearer token refused with 535 (after XOAUTH2's error challenge or
 * OAUTHBEARER's): may be expired or revoked before its time, so the
 * caller gets one chance to give a fresh one, and AUTH is tried once more
 * with it (RFC 4954 allows another AUTH after a failed one).  true with
 * *secret replaced; false with f unchanged (no new token) or replaced (the
 * refresh failed).
 */
static bool
retry_bearer(struct session *s, enum sasl_mech mech, const struct reply *last,
    char **secret, struct failure *f)
{
	if ((mech != SASL_XOAUTH2 && mech != SASL_OAUTHBEARER) ||
	    last->code != 535 || !s->usable || s->bearer_retried ||
	    s->cfg->ev.secret_refused == NULL)
		return false;
	s->bearer_retried = true;
	struct failure g;
	memset(&g, 0, sizeof g);
	char *fresh = s->cfg->ev.secret_refused(s->cfg->ev.secret_ctx, *secret,
	    &g);
	if (fresh == NULL) {
		if (g.class != FAIL_NONE)
			*f = g;
		return false;
	}
	free_secret(*secret);
	*secret = fresh;
	return true;
}

/* The mechanisms to try, in order: the user's list or the default. */
static size_t
auth_candidates(const struct session *s, enum sasl_mech *out, size_t max)
{
	const struct auth_setting *want = s->cfg->auth;
	size_t n = 0;

	if (want != NULL && want->mode == AUTH_LIST) {
		for (; n < want->n && n < max; n++)
			out[n] = want->mech[n];
		return n;
	}
	for (; sasl_default_order[n] != SASL_NONE && n < max; n++)
		out[n] = sasl_default_order[n];
	return n;
}

/* Does the server offer a mechanism with channel binding? */
static bool
server_offers_binding(const struct session *s)
{
	return caps_has_auth(&s->caps, "SCRAM-SHA-256-PLUS") ||
	    caps_has_auth(&s->caps, "SCRAM-SHA-1-PLUS");
}

/*
 * Point creds at the channel binding for mechanism m: -PLUS binds; plain
 * SCRAM is told of the binding only when the server offers no -PLUS, so
 * that it sends the "y" flag and a server that does bind can see the
 * -PLUS names were stripped from EHLO (RFC 5802 6).  false when m is to be
 * skipped: a -PLUS mechanism from the default list without a binding.
 */
static bool
auth_bind(const struct session *s, enum sasl_mech m, const char *cb_type,
    const struct buf *cb, struct sasl_creds *creds)
{
	bool listed = s->cfg->auth != NULL && s->cfg->auth->mode == AUTH_LIST;

	if (sasl_mech_binds(m) && cb_type == NULL && !listed)
		return false;
	creds->cb_type = sasl_mech_binds(m) || !server_offers_binding(s) ?
	    cb_type : NULL;
	creds->cb_data = (const unsigned char *)cb->data;
	creds->cb_len = cb->len;
	return true;
}

static int
authenticate(struct session *s, struct failure *f)
{
	enum sasl_mech cand[16];
	size_t ncand;
	struct reply last;
	bool tried = false;
	int rc = -1;

	/* AUTH happens with a user, or with mechanisms named explicitly
	   (EXTERNAL needs no user). */
	enum auth_mode mode = s->cfg->auth ? s->cfg->auth->mode : AUTH_DEFAULT;
	if ((s->cfg->user == NULL && mode != AUTH_LIST) || mode == AUTH_OFF)
		return 0;
	if (!caps_has(&s->caps, "AUTH"))
		return fail(f, FAIL_UNSUPPORTED, 0, "AUTH",
		    "not offered by the server%s", conn_is_tls(s->conn) ? "" :
		    " (it may offer it after STARTTLS)");
	if (!conn_is_tls(s->conn) && !conn_is_local(s->conn) &&
	    !s->cfg->allow_plaintext_auth)
		return fail(f, FAIL_CONFIG, 0, "AUTH", "refusing to send "
		    "credentials over an unencrypted connection; use --starttls "
		    "or --tls-on-connect (or --allow-plaintext-auth)");
	if ((ncand = auth_candidates(s, cand, 16)) == 0)
		return fail(f, FAIL_USAGE, 0, "--auth", "no mechanism given");

	char *secret = NULL;
	struct sasl_creds creds = { .user = s->cfg->user,
	    .host = s->cfg->target.host, .port = s->cfg->target.port };
	struct buf cb;
	buf_init(&cb);
	const char *cb_type = conn_channel_binding(s->conn, &cb);
	reply_init(&last);
	for (size_t i = 0; i < ncand; i++) {
		if (!caps_has_auth(&s->caps, sasl_mech_name(cand[i])) ||
		    !auth_bind(s, cand[i], cb_type, &cb, &creds))
			continue;
		if (secret == NULL && cand[i] != SASL_EXTERNAL) {
			if (s->cfg->ev.secret == NULL ||
			    (secret = s->cfg->ev.secret(s->cfg->ev.secret_ctx, f)) ==
			    NULL)
				goto out;
			creds.secret = secret;
		}
		tried = true;
		int r = auth_one(s, cand[i], &creds, &last, f);
		if (r < 0 && retry_bearer(s, cand[i], &last, &secret, f)) {
			creds.secret = secret;
			r = auth_one(s, cand[i], &creds, &last, f);
		}
		if (r != 0) {
			rc = r > 0 ? 0 : -1;
			goto out;
		}
		if (!s->usable)
			goto out;
	}
	if (!tried) {
		const char *offered = caps_params(&s->caps, "AUTH");
		fail(f, FAIL_UNSUPPORTED, 0, "AUTH", "no usable mechanism "
		    "(the server offers: %s)", offered && *offered ? offered :
		    "none");
	}
out:
	free_secret(secret);
	buf_free(&cb);
	reply_free(&last);
	return rc;
}

int
session_open(struct session *s, const struct session_config *cfg,
    struct failure *f)
{
	memset(s, 0, sizeof *s);
	s->cfg = cfg;
	s->conn = conn_open(&cfg->target, deadline_for(s, false), f);
	if (s->conn == NULL)
		return -1;
	if (cfg->tls == TLS_IMPLICIT && conn_start_tls(s->conn, &cfg->tls_cfg,
	    deadline_for(s, false), f) < 0)
		goto fail;
	s->usable = true;
	if (greeting(s, f) < 0 || hello(s, f) < 0)
		goto fail;
	if ((cfg->tls == TLS_STARTTLS_REQUIRED ||
	    cfg->tls == TLS_STARTTLS_OPTIONAL) && starttls(s, f) < 0)
		goto fail;
	if (authenticate(s, f) < 0)
		goto fail;
	return 0;
fail:
	session_close(s);
	return -1;
}

/* --- the mail transaction (RFC 5321 3.3, RFC 2920, RFC 2033) --- */

/* Does the transaction need SMTPUTF8 (RFC 6531)?  Any non-ASCII local
   part does; a non-ASCII domain does only where it is not sent in
   A-labels (`idn_ok`: when the server does not offer SMTPUTF8). */
static bool
needs_utf8(const struct envelope_view *env, bool idn_ok)
{
	bool (*ascii)(const char *) = idn_ok ? address_local_is_ascii :
	    address_is_ascii;

	if (!ascii(env->sender))
		return true;
	for (size_t i = 0; i < env->recipients->n; i++)
		if (!ascii(env->recipients->v[i]))
			return true;
	return false;
}

/* One address as it goes on the wire (see wire_envelope); NULL with *f
   when its domain has no A-label form. */
static char *
wire_address(const struct session *s, const char *addr, const char *what,
    struct failure *f)
{
	char err[160];
	char *out;

	if (caps_has(&s->caps, "SMTPUTF8") || s->cfg->smtputf8 ||
	    !address_local_is_ascii(addr))
		return xstrdup(addr);
	if ((out = address_domain_to_ascii(addr, err, sizeof err)) == NULL)
		fail(f, FAIL_DATAERR, 0, what, "<%s>: %s", addr, err);
	return out;
}

/*
 * The envelope as it goes on the wire: to a server without SMTPUTF8 a
 * non-ASCII domain travels in A-labels (RFC 5891), so that the message
 * is sent; a non-ASCII local part still needs SMTPUTF8 (transaction_checks).
 * *wire points at env itself when nothing needs converting, else at the
 * strings kept in *sender and *store, which the caller frees.
 */
static int
wire_envelope(const struct session *s, const struct envelope_view *env,
    struct envelope_view *wire, char **sender, struct strlist *store,
    struct failure *f)
{
	*wire = *env;
	if (caps_has(&s->caps, "SMTPUTF8") || s->cfg->smtputf8 ||
	    !needs_utf8(env, false))
		return 0;
	if ((*sender = wire_address(s, env->sender, "sender", f)) == NULL)
		return -1;
	for (size_t i = 0; i < env->recipients->n; i++) {
		char *a = wire_address(s, env->recipients->v[i], "recipient",
		    f);
		if (a == NULL)
			return -1;
		strlist_addn(store, a);
	}
	wire->sender = *sender;
	wire->recipients = store;
	return 0;
}

/* MAIL FROM with the parameters the server offers: SIZE when size is not
   NULL, BODY when body is not NULL, SMTPUTF8, DSN and the configured
   ones. */
static char *
mail_line(const struct session *s, const char *sender, const uint64_t *size,
    const char *body, bool utf8)
{
	struct buf b;

	buf_init(&b);
	buf_addf(&b, "MAIL FROM:<%s>", sender);
	if (!s->caps.esmtp)
		return b.data;
	if (size != NULL && s->caps.size_offered)
		buf_addf(&b, " SIZE=%llu", (unsigned long long)*size);
	if (body != NULL && caps_has(&s->caps, "8BITMIME"))
		buf_addf(&b, " BODY=%s", body);
	if (utf8)
		buf_adds(&b, " SMTPUTF8");
	if (s->cfg->require_tls)
		buf_adds(&b, " REQUIRETLS");
	if (caps_has(&s->caps, "DSN")) {
		if (s->cfg->dsn_return)
			buf_addf(&b, " RET=%s", s->cfg->dsn_return);
		if (s->cfg->dsn_envid)
			buf_addf(&b, " ENVID=%s", s->cfg->dsn_envid);
	}
	for (size_t i = 0; s->cfg->mail_options &&
	    i < s->cfg->mail_options->n; i++)
		buf_addf(&b, " %s", s->cfg->mail_options->v[i]);
	return b.data;
}

static char *
mail_command(const struct session *s, const struct envelope_view *env,
    const struct message *msg, bool utf8)
{
	uint64_t size = message_size(msg);
	const char *body = s->cfg->body_type;

	if (body == NULL && (utf8 || msg->eightbit))
		body = "8BITMIME";
	return mail_line(s, env->sender, &size, body, utf8);
}

static char *
rcpt_command(const struct session *s, const char *rcpt)
{
	struct buf b;

	buf_init(&b);
	buf_addf(&b, "RCPT TO:<%s>", rcpt);
	if (!s->caps.esmtp)
		return b.data;
	if (s->cfg->dsn_notify && caps_has(&s->caps, "DSN"))
		buf_addf(&b, " NOTIFY=%s", s->cfg->dsn_notify);
	for (size_t i = 0; s->cfg->rcpt_options &&
	    i < s->cfg->rcpt_options->n; i++)
		buf_addf(&b, " %s", s->cfg->rcpt_options->v[i]);
	return b.data;
}

static void
set_outcome(struct rcpt_result *rr, bool accepted, const char *stage,
    const struct reply *r)
{
	rr->accepted = accepted;
	rr->stage = stage;
	rr->code = r->code;
	memcpy(rr->enhanced, r->enhanced, sizeof rr->enhanced);
	free(rr->text);
	rr->text = reply_oneline(r);
}

struct data_sink {
	struct session *s;
	struct dot_state dot;
	struct buf out;
	struct failure *f;
	uint64_t done, total;
	bool raw;		/* BDAT: the octets as they are */
	const struct message *msg;
};

static int
data_chunk(void *ctx, const char *p, size_t n)
{
	struct data_sink *d = ctx;

	if (d->raw)
		conn_queue(d->s->conn, p, n);
	else {
		buf_reset(&d->out);
		dot_stuff(&d->dot, p, n, &d->out);
		conn_queue(d->s->conn, d->out.data, d->out.len);
	}
	d->done += n;
	if (conn_queued(d->s->conn) < FLUSH_AT)
		return 0;
	if (flush(d->s, d->f) < 0)
		return -1;
	if (d->s->cfg->ev.progress)
		d->s->cfg->ev.progress(d->s->cfg->ev.ctx, d->done, d->total);
	return 0;
}

/* Body octets sent by the kernel per step: each step has the timeout of
   one write and reports progress. */
#define SENDFILE_STEP	(4 * 1024 * 1024)

static int
send_file_range(struct data_sink *d, uint64_t from, uint64_t to)
{
	const struct message *m = d->msg;

	while (from < to) {
		uint64_t n = to - from < SENDFILE_STEP ? to - from :
		    SENDFILE_STEP;
		if (conn_send_file(d->s->conn, m->spool_fd, m->spool_off +
		    (off_t)from, n, deadline_for(d->s, false), d->f) < 0) {
			d->s->usable = false;
			return -1;
		}
		from += n;
		d->done += n;
		if (d->s->cfg->ev.progress)
			d->s->cfg->ev.progress(d->s->cfg->ev.ctx, d->done,
			    d->total);
	}
	return 0;
}

/*
 * The body straight from carrier's spool by sendfile(2), no copy through
 * carrier: plain TCP only.  DATA gets the extra dot of each dot line
 * between the ranges (the spool is the body before dot-stuffing); the
 * body ends with CRLF, so the end is ".".
 */
static int
send_spooled(struct data_sink *d)
{
	const struct message *m = d->msg;
	uint64_t from = 0;

	if (data_chunk(d, m->head.data, m->head.len) < 0)
		return -1;
	for (size_t i = 0; !d->raw && i < m->n_dots; i++) {
		if (send_file_range(d, from, m->dots[i]) < 0)
			return -1;
		conn_queue(d->s->conn, ".", 1);
		from = m->dots[i];
	}
	if (send_file_range(d, from, m->body_len) < 0)
		return -1;
	if (!d->raw)
		conn_queue(d->s->conn, ".\r\n", 3);
	return 0;
}

/*
 * Queue the message: after DATA's 354, dot-stuffed and ended with ".";
 * with CHUNKING, as one "BDAT n LAST" chunk of the octets as they are
 * (RFC 3030 2).  Large messages are flushed as they go.
 */
static int
send_data(struct session *s, const struct message *msg, bool bdat,
    struct failure *f)
{
	struct data_sink d = { s, { true }, { 0 }, f, 0, message_size(msg),
	    bdat, msg };
	int rc;

	dot_init(&d.dot);
	buf_init(&d.out);
	if (bdat) {
		char line[64];
		(void)snprintf(line, sizeof line, "BDAT %llu LAST",
		    (unsigned long long)d.total);
		queue_cmd(s, line, NULL);
	}
	emit_info(s, "message data: %llu octets",
	    (unsigned long long)d.total);
	if (message_spooled(msg) && !conn_is_tls(s->conn)) {
		rc = send_spooled(&d);
		buf_free(&d.out);
		return rc;
	}
	rc = message_each_chunk(msg, data_chunk, &d, f);
	if (rc == 0 && !bdat) {
		buf_reset(&d.out);
		dot_finish(&d.dot, &d.out);
		conn_queue(s->conn, d.out.data, d.out.len);
	}
	buf_free(&d.out);
	if (rc == 0 && s->cfg->ev.progress)
		s->cfg->ev.progress(s->cfg->ev.ctx, d.total, d.total);
	if (rc < 0 && f->class != FAIL_IOERR && f->class != FAIL_TEMP) {
		/* A local failure mid-data: the message must not end, so
		   nothing more can be said on this connection. */
		s->usable = false;
	}
	return rc;
}

/*
 * With PIPELINING, QUIT goes in the same flight as the end of the data
 * when nothing else will follow: one round trip less.  Its reply is read
 * by session_close.
 */
static void
pipeline_quit(struct session *s, bool pipelining, bool last)
{
	if (pipelining && last && s->cfg->quit_early) {
		queue_cmd(s, "QUIT", NULL);
		s->quit_sent = true;
	}
}

/* What the replies of one transaction came to. */
struct tally {
	size_t accepted;	/* in this transaction */
	bool temp_refusal;	/* some recipient got a 4xx */
	size_t deferred;	/* 452 after an accepted one: next round */
};

/* Record a RCPT reply for recipient i.  Returns -1 on 421, -2 for a
   reply that is no answer to RCPT (1xx, 3xx: RFC 5321 4.3.2 allows
   neither). */
static int
rcpt_outcome(struct send_result *res, size_t i, const struct reply *r,
    bool *deferred, struct tally *t)
{
	if (r->code < 400 && !reply_positive(r))
		return -2;
	if (reply_positive(r)) {
		/* Any 2xx is success (RFC 5321 4.2.1); smtplib knows only
		   250 and 251. */
		set_outcome(&res->r[i], true, "RCPT", r);
		t->accepted++;
	} else if (r->code == 452 && t->accepted > 0) {
		/* RFC 5321 4.5.3.1.10: too many recipients; the rest go
		   in another transaction. */
		deferred[i] = true;
		t->deferred++;
	} else {
		set_outcome(&res->r[i], false, "RCPT", r);
		if (reply_transient(r))
			t->temp_refusal = true;
	}
	return r->code == 421 ? -1 : 0;
}

static int
mail_refused(struct session *s, const struct envelope_view *env,
    const struct reply *r, struct failure *f)
{
	char what[300];

	(void)snprintf(what, sizeof what, "MAIL FROM:<%s> refused",
	    env->sender);
	if (r->code != 421)
		rset(s);
	return fail_reply(f, class_of(r, FAIL_SENDER), what, r);
}

/* The end of data for a transaction nobody should receive: RFC 2920
   3.1 lets the client send the terminator alone after a 354. */
static void
abandon_data(struct session *s)
{
	struct reply r;
	struct failure ignored;

	reply_init(&r);
	(void)command(s, ".", NULL, &r, "DATA", &ignored);
	reply_free(&r);
}

/*
 * The recipients of this round that RCPT accepted did not get the message:
 * refused (the reply), or unknown (r NULL).  Stage "data" is the whole
 * message's fate, told by one diagnostic; "delivery" is LMTP's own reply
 * per recipient, told one line each.
 */
static void
not_delivered(struct send_result *res, const size_t *idx, size_t n,
    size_t from, const char *stage, const struct reply *r,
    const struct failure *cause)
{
	for (size_t i = from; i < n; i++) {
		struct rcpt_result *rr = &res->r[idx[i]];
		if (!rr->accepted)
			continue;
		if (r != NULL) {
			set_outcome(rr, false, stage, r);
			continue;
		}
		rr->accepted = false;
		rr->stage = stage;
		rr->code = 0;
		rr->enhanced[0] = '\0';
		free(rr->text);
		rr->text = cause && cause->what[0] ? xasprintf("delivery status "
		    "unknown (%s: %s)", cause->what, cause->detail) :
		    xstrdup("delivery status unknown");
	}
}

static int
end_of_data(struct session *s, struct send_result *res, const size_t *idx,
    size_t n, struct failure *f)
{
	struct reply r;
	size_t delivered = 0;

	reply_init(&r);
	if (!s->cfg->lmtp) {
		if (read_reply(s, &r, "end of data", true, f) < 0) {
			not_delivered(res, idx, n, 0, "data", NULL, f);
			goto unknown;
		}
		reply_free(&res->final);
		res->final = r;
		if (reply_positive(&r))
			return 0;
		not_delivered(res, idx, n, 0, "data", &r, NULL);
		if (r.code != 421)
			rset(s);
		return fail_reply(f, class_of(&r, FAIL_DATA),
		    "message refused", &r);
	}
	/* LMTP (RFC 2033 4.2): one reply per accepted recipient, in order. */
	for (size_t i = 0; i < n; i++) {
		struct rcpt_result *rr = &res->r[idx[i]];
		if (!rr->accepted)
			continue;
		if (read_reply(s, &r, "end of data", true, f) < 0) {
			not_delivered(res, idx, n, i, "delivery", NULL, f);
			goto lost;
		}
		bool ok = reply_positive(&r);
		set_outcome(rr, ok, "delivery", &r);
		delivered += ok;
		reply_free(&res->final);
		res->final = r;
		reply_init(&r);
		if (res->final.code == 421) {
			/* The server is going away: the rest are unknown. */
			fail_reply(f, FAIL_TEMP, "end of data", &res->final);
			not_delivered(res, idx, n, i + 1, "delivery", NULL, f);
			goto lost;
		}
	}
	return 0;
lost:
	/* Recipients that have the message make it a partial delivery;
	   the others are reported as unknown, one line each. */
	if (delivered > 0)
		return 0;
unknown:
	/* RFC 5321 4.5.3.2.6: the server may have the message. */
	(void)snprintf(f->detail + strlen(f->detail),
	    sizeof f->detail - strlen(f->detail), "; delivery status unknown");
	return -1;
}

/*
 * RFC 8689 4.1: a message that requires TLS goes only over TLS whose
 * certificate was checked (a CA or a pinned fingerprint), to a server that
 * promises to keep requiring it (REQUIRETLS offered); else nothing of it
 * is sent.
 */
static int
require_tls_check(const struct session *s, struct failure *f)
{
	const char *missing = !conn_is_tls(s->conn) ? "the connection is not "
	    "TLS (use --starttls or --tls-on-connect)" : s->cfg->tls_cfg.no_verify ?
	    "the server's certificate was not verified (--tls-no-verify)" :
	    !s->caps.esmtp || !caps_has(&s->caps, "REQUIRETLS") ?
	    "the server does not offer REQUIRETLS" : NULL;

	if (missing == NULL)
		return 0;
	return fail(f, FAIL_UNSUPPORTED, 0, "REQUIRETLS", "%s; the message "
	    "was not sent", missing);
}

/* Before MAIL: what makes the transaction impossible on this server. */
static int
transaction_checks(struct session *s, const struct message *msg, bool utf8,
    struct failure *f)
{
	if (s->cfg->require_tls && require_tls_check(s, f) < 0)
		return -1;
	if (utf8 && !caps_has(&s->caps, "SMTPUTF8"))
		return fail(f, FAIL_UNSUPPORTED, 0, "SMTPUTF8",
		    "an address is not ASCII and the server does not offer "
		    "SMTPUTF8");
	if (s->caps.size_offered && s->caps.size > 0 &&
	    message_size(msg) > s->caps.size)
		return fail(f, FAIL_DATA, 0, "message", "%llu octets is more "
		    "than the server's SIZE limit of %llu",
		    (unsigned long long)message_size(msg),
		    (unsigned long long)s->caps.size);
	if (msg->eightbit && !caps_has(&s->caps, "8BITMIME"))
		emit_info(s, "warning: 8-bit data, and the server does not "
		    "offer 8BITMIME");
	if (msg->long_lines)
		emit_info(s, "warning: a line is longer than 998 octets");
	if ((s->cfg->dsn_notify || s->cfg->dsn_return || s->cfg->dsn_envid) &&
	    !caps_has(&s->caps, "DSN"))
		emit_warn(s, "the server does not offer DSN; delivery status "
		    "notification options not sent");
	return 0;
}

/*
 * One transaction of session_send, for the recipients idx[0..n) of one
 * round; its phases share this.  Recipients answered 452 after another was
 * accepted are marked in deferred[] for a further round.
 */
struct transaction {
	struct session *s;
	const struct envelope_view *env;
	const struct message *msg;
	struct send_result *res;
	const size_t *idx;
	size_t n;
	bool *deferred;
	struct tally *tally;
	bool last;		/* no further round can follow */
	bool pipelining;	/* RFC 2920: one flight, replies read after */
	bool bdat;		/* RFC 3030 CHUNKING: the message as BDAT */
	bool utf8;
	struct reply mail;	/* the reply to MAIL FROM */
	struct reply data;	/* the reply to DATA or BDAT */
};

enum rcpt_read {
	RCPT_RECORD = 1,	/* MAIL was accepted: the replies count */
	RCPT_ALONE = 2,		/* nothing else was sent: nothing else may come */
};

/* The RCPT replies of recipients [from, from + count), in order; -1 on a
   lost connection, a 421 or a reply that is no answer. */
static int
read_rcpt_replies(struct transaction *x, size_t from, size_t count,
    int how, struct failure *f)
{
	struct session *s = x->s;
	struct reply r;
	int rc = 0;

	reply_init(&r);
	for (size_t i = from; i < from + count && rc == 0; i++) {
		int o = 0;
		if (read_reply(s, &r, "RCPT TO", false, f) < 0) {
			rc = -1;
			break;
		}
		if (how & RCPT_RECORD)
			o = rcpt_outcome(x->res, x->idx[i], &r, x->deferred,
			    x->tally);
		else if (r.code == 421)
			o = -1;
		if (o == -1)
			rc = fail_reply(f, FAIL_TEMP, "RCPT TO", &r);
		else if (o == -2) {
			s->usable = false;
			rc = fail_reply(f, FAIL_PROTOCOL, "RCPT TO", &r);
		} else if (how & RCPT_ALONE)
			rc = nothing_extra(s, "RCPT TO", f);
	}
	reply_free(&r);
	return rc;
}

static int
none_accepted(struct session *s, const struct tally *t, struct failure *f)
{
	rset(s);
	return fail_reported(f, t->temp_refusal ? FAIL_TEMP : FAIL_REFUSED);
}

/*
 * Phase 1: MAIL and every RCPT.  In lock-step each is sent and answered
 * in turn; pipelined, they wait in the output buffer for the flight.
 */
static int
send_envelope(struct transaction *x, struct failure *f)
{
	struct session *s = x->s;
	char *line = mail_command(s, x->env, x->msg, x->utf8);

	queue_cmd(s, line, NULL);
	free(line);
	if (!x->pipelining) {
		if (flush(s, f) < 0 ||
		    read_reply(s, &x->mail, "MAIL FROM", false, f) < 0 ||
		    (x->mail.code != 421 && nothing_extra(s, "MAIL FROM",
		    f) < 0))
			return -1;
		if (!reply_positive(&x->mail))
			return mail_refused(s, x->env, &x->mail, f);
	}
	for (size_t i = 0; i < x->n; i++) {
		line = rcpt_command(s, x->env->recipients->v[x->idx[i]]);
		queue_cmd(s, line, NULL);
		free(line);
		if (!x->pipelining && (flush(s, f) < 0 ||
		    read_rcpt_replies(x, i, 1, RCPT_RECORD | RCPT_ALONE,
		    f) < 0))
			return -1;
	}
	return 0;
}

/*
 * Phase 2, pipelined: DATA joins the flight, or with CHUNKING the whole
 * message and, when nothing can follow, QUIT (RFC 2920 3.1); then the
 * flight goes out.
 */
static int
send_flight(struct transaction *x, struct failure *f)
{
	if (x->bdat) {
		if (send_data(x->s, x->msg, true, f) < 0)
			return -1;
		/* RFC 5321 4.5.3.1.8: every server takes 100 recipients,
		   so no 452 round can follow. */
		pipeline_quit(x->s, true, x->last && x->n <= 100);
	} else
		queue_cmd(x->s, "DATA", NULL);
	return flush(x->s, f);
}

/*
 * Phase 3, pipelined: the replies to MAIL and every RCPT.  When MAIL was
 * refused or no recipient accepted, the reply to DATA or BDAT is read too
 * (a 354 gets a lone "." to end a message nobody should receive) and the
 * transaction ends.
 */
static int
read_envelope_replies(struct transaction *x, struct failure *f)
{
	struct session *s = x->s;

	if (read_reply(s, &x->mail, "MAIL FROM", false, f) < 0)
		return -1;
	if (x->mail.code == 421)
		return fail_reply(f, FAIL_TEMP, "MAIL FROM", &x->mail);
	bool mail_ok = reply_positive(&x->mail);
	if (read_rcpt_replies(x, 0, x->n, mail_ok ? RCPT_RECORD : 0, f) < 0)
		return -1;
	if (mail_ok && x->tally->accepted > 0)
		return 0;
	if (read_reply(s, &x->data, x->bdat ? "BDAT" : "DATA", false, f) < 0)
		return -1;
	if (x->data.code == 354)
		abandon_data(s);
	return mail_ok ? none_accepted(s, x->tally, f) :
	    mail_refused(s, x->env, &x->mail, f);
}

/* DATA itself was refused: nobody gets the message. */
static int
data_refused(struct transaction *x, struct failure *f)
{
	const struct reply *r = &x->data;

	not_delivered(x->res, x->idx, x->n, 0, "data", r, NULL);
	if (r->code != 421 && r->code >= 400)
		rset(x->s);
	return fail_reply(f, r->code >= 400 ? class_of(r, FAIL_DATA) :
	    FAIL_PROTOCOL, "DATA refused", r);
}

/* The connection failed while the message was being sent. */
static int
data_lost(struct transaction *x, struct failure *f)
{
	/* Name the stage: the message was being sent. */
	if (f->class == FAIL_IOERR || f->class == FAIL_TEMP)
		(void)snprintf(f->what, sizeof f->what, "message data");
	not_delivered(x->res, x->idx, x->n, 0, "data", NULL, f);
	return -1;
}

/*
 * Phase 4: the message.  With CHUNKING it is one BDAT (already in a
 * pipelined flight); else DATA, its 354, the dot-stuffed data and the
 * final dot.  Returns when it went out; its reply is end_of_data's.
 */
static int
send_message(struct transaction *x, struct failure *f)
{
	struct session *s = x->s;

	if (x->bdat)
		return x->pipelining ? 0 : send_data(s, x->msg, true, f) < 0 ?
		    -1 : flush(s, f);
	if (!x->pipelining) {
		queue_cmd(s, "DATA", NULL);
		if (flush(s, f) < 0)
			return -1;
	}
	if (read_reply(s, &x->data, "DATA", false, f) < 0 ||
	    (x->data.code == 354 && nothing_extra(s, "DATA", f) < 0))
		return -1;
	if (x->data.code != 354)
		return data_refused(x, f);
	if (send_data(s, x->msg, false, f) < 0)
		return data_lost(x, f);
	pipeline_quit(s, x->pipelining, x->tally->deferred == 0);
	if (flush(s, f) < 0)
		return data_lost(x, f);
	return 0;
}

/* Phase 4 and the reply (LMTP: the replies) to the end of the data. */
static int
send_body(struct transaction *x, struct failure *f)
{
	if (send_message(x, f) < 0)
		return -1;
	return end_of_data(x->s, x->res, x->idx, x->n, f);
}

/*
 * Returns 0 when the data was accepted (LMTP: the per-recipient replies
 * were read), -1 with *f for a failure that ends the whole attempt.
 */
static int
transaction_setup(struct transaction *x, struct failure *f)
{
	struct session *s = x->s;

	x->pipelining = s->caps.esmtp && caps_has(&s->caps, "PIPELINING");
	x->bdat = s->caps.esmtp && caps_has(&s->caps, "CHUNKING");
	x->utf8 = s->cfg->smtputf8 || needs_utf8(x->env,
	    !caps_has(&s->caps, "SMTPUTF8"));
	return transaction_checks(s, x->msg, x->utf8, f);
}

static int
transaction(struct transaction *x, struct failure *f)
{
	struct session *s = x->s;

	if (transaction_setup(x, f) < 0 || send_envelope(x, f) < 0)
		return -1;
	if (x->pipelining) {
		if (send_flight(x, f) < 0 || read_envelope_replies(x, f) < 0)
			return -1;
	} else if (x->tally->accepted == 0)
		return none_accepted(s, x->tally, f);
	return send_body(x, f);
}

void
send_result_free(struct send_result *res)
{
	for (size_t i = 0; i < res->n; i++) {
		free(res->r[i].address);
		free(res->r[i].text);
	}
	free(res->r);
	reply_free(&res->final);
	memset(res, 0, sizeof *res);
}

bool
rcpt_retryable(const struct rcpt_result *r)
{
	return !r->accepted && r->code < 500;
}

/* A result for every recipient, none answered yet. */
static void
result_init(struct send_result *res, const struct envelope_view *env)
{
	memset(res, 0, sizeof *res);
	reply_init(&res->final);
	res->n = env->recipients->n;
	res->r = xcalloc(res->n, sizeof *res->r);
	for (size_t i = 0; i < res->n; i++)
		res->r[i].address = xstrdup(env->recipients->v[i]);
}

/* The recipients of the next round: those answered 452. */
static size_t
next_round(size_t *idx, size_t nidx, const bool *deferred)
{
	size_t k = 0;

	for (size_t i = 0; i < nidx; i++)
		if (deferred[idx[i]])
			idx[k++] = idx[i];
	return k;
}

/* A round that failed after earlier rounds delivered: its recipients did
   not get the message, which makes the whole a partial success.  Their
   code is the failure's: 0 for a lost connection, which leaves them
   retryable. */
static void
round_failed(struct send_result *res, const size_t *idx, size_t n,
    const struct failure *f)
{
	for (size_t i = 0; i < n; i++) {
		struct rcpt_result *rr = &res->r[idx[i]];
		rr->accepted = false;
		rr->stage = "RCPT";
		rr->code = f->code;
		free(rr->text);
		rr->text = f->detail[0] ? xasprintf("%s: %s", f->what,
		    f->detail) : xstrdup(f->what);
	}
}

/* One transaction per round from round `first` for the recipients
   idx[0..nidx): the first for every recipient, each further one for those
   a server answered 452 after accepting others. */
static int
rounds(struct session *s, const struct envelope_view *env,
    const struct message *msg, struct send_result *res, size_t *idx,
    size_t nidx, bool *deferred, int first, struct failure *f)
{
	size_t n = env->recipients->n;
	int rc = 0;

	for (int round = first; nidx > 0 && round < MAX_ROUNDS; round++) {
		struct tally t = { 0, false, 0 };
		memset(deferred, 0, n * sizeof *deferred);
		struct transaction x = { .s = s, .env = env, .msg = msg,
		    .res = res, .idx = idx, .n = nidx, .deferred = deferred,
		    .tally = &t, .last = nidx == n };
		reply_init(&x.mail);
		reply_init(&x.data);
		rc = transaction(&x, f);
		reply_free(&x.mail);
		reply_free(&x.data);
		if (rc < 0 && round > 0) {
			round_failed(res, idx, nidx, f);
			rc = 0;
			break;
		}
		if (rc < 0 || t.deferred == 0)
			break;
		nidx = next_round(idx, nidx, deferred);
	}
	return rc;
}

static int
send_rounds(struct session *s, const struct envelope_view *env,
    const struct message *msg, struct send_result *res, struct failure *f)
{
	size_t n = env->recipients->n;
	size_t *idx = xcalloc(n, sizeof *idx);
	bool *deferred = xcalloc(n, sizeof *deferred);

	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	int rc = rounds(s, env, msg, res, idx, n, deferred, 0, f);
	free(idx);
	free(deferred);
	return rc;
}

/* The outcome over all rounds: every recipient counts once. */
static int
send_outcome(struct send_result *res, struct failure *f)
{
	size_t accepted = 0, temp = 0, refused = 0;

	for (size_t i = 0; i < res->n; i++) {
		if (res->r[i].accepted)
			accepted++;
		else {
			refused++;
			if (rcpt_retryable(&res->r[i]))
				temp++;
			if (res->r[i].stage == NULL)
				res->r[i].stage = "RCPT";
		}
	}
	if (refused == 0)
		return 0;
	if (accepted > 0)
		return fail_reported(f, FAIL_PARTIAL);
	/* The per-recipient lines say it all: no summary line. */
	return fail_reported(f, temp ? FAIL_TEMP : FAIL_REFUSED);
}

/* --- transactions in flight across messages (RFC 2920, RFC 3030) --- */

struct flight {
	struct envelope_view wire;
	char *sender;
	struct strlist store;
	size_t *idx;
	bool *deferred;
	struct tally t;
	struct transaction x;
	bool rset_first;	/* RSET went ahead of MAIL: its reply first */
	bool data_sent;		/* DATA: only the reply to its end is due */
};

void
session_flight_free(struct flight *fl)
{
	if (fl == NULL)
		return;
	reply_free(&fl->x.mail);
	reply_free(&fl->x.data);
	free(fl->sender);
	strlist_free(&fl->store);
	free(fl->idx);
	free(fl->deferred);
	free(fl);
}

/* The flight of one transaction: with CHUNKING behind another, RSET
   first; then the envelope and the message as BDAT, or DATA. */
static int
post_flight(struct flight *fl, bool ahead, struct failure *f)
{
	struct transaction *x = &fl->x;

	if (transaction_setup(x, f) < 0)
		return -1;
	if (ahead && x->bdat) {
		queue_cmd(x->s, "RSET", NULL);
		fl->rset_first = true;
	}
	return send_envelope(x, f) < 0 ? -1 : send_flight(x, f);
}

int
session_post(struct session *s, const struct envelope_view *env,
    const struct message *msg, struct send_result *res, bool ahead,
    struct flight **out, struct failure *f)
{
	*out = NULL;
	if (!s->caps.esmtp || !caps_has(&s->caps, "PIPELINING"))
		return session_send(s, env, msg, res, f);
	struct flight *fl = xcalloc(1, sizeof *fl);
	size_t n = env->recipients->n;

	result_init(res, env);
	fl->idx = xcalloc(n ? n : 1, sizeof *fl->idx);
	fl->deferred = xcalloc(n ? n : 1, sizeof *fl->deferred);
	for (size_t i = 0; i < n; i++)
		fl->idx[i] = i;
	reply_init(&fl->x.mail);
	reply_init(&fl->x.data);
	if (wire_envelope(s, env, &fl->wire, &fl->sender, &fl->store,
	    f) < 0) {
		session_flight_free(fl);
		return -1;
	}
	fl->x = (struct transaction){ .s = s, .env = &fl->wire, .msg = msg,
	    .res = res, .idx = fl->idx, .n = n, .deferred = fl->deferred,
	    .tally = &fl->t, .last = true };
	reply_init(&fl->x.mail);
	reply_init(&fl->x.data);
	if (post_flight(fl, ahead, f) < 0) {
		session_flight_free(fl);
		return -1;
	}
	*out = fl;
	return 0;
}

/* The reply to an RSET sent ahead: only a 421 or no reply matters. */
static int
rset_reply(struct session *s, struct failure *f)
{
	struct reply r;
	int rc;

	reply_init(&r);
	rc = read_reply(s, &r, "RSET", false, f);
	if (rc == 0 && r.code == 421)
		rc = fail_reply(f, FAIL_TEMP, "RSET", &r);
	reply_free(&r);
	return rc;
}

static enum flight_step
advance(struct session *s, struct flight *fl, struct failure *f)
{
	struct transaction *x = &fl->x;

	if (!fl->data_sent) {
		if ((fl->rset_first && rset_reply(s, f) < 0) ||
		    read_envelope_replies(x, f) < 0)
			return FLIGHT_FAILED;
		fl->rset_first = false;
		if (!x->bdat) {
			if (send_message(x, f) < 0)
				return FLIGHT_FAILED;
			fl->data_sent = true;
			return FLIGHT_AWAITING;
		}
	}
	if (end_of_data(s, x->res, x->idx, x->n, f) < 0)
		return FLIGHT_FAILED;
	if (fl->t.deferred > 0)
		return FLIGHT_MORE_ROUNDS;
	return send_outcome(x->res, f) < 0 ? FLIGHT_FAILED : FLIGHT_DONE;
}

enum flight_step
session_advance(struct session *s, struct flight *fl, bool behind,
    struct failure *f)
{
	s->behind = behind;
	enum flight_step st = advance(s, fl, f);
	s->behind = false;
	return st;
}

int
session_flight_rest(struct session *s, struct flight *fl, struct failure *f)
{
	size_t k = next_round(fl->idx, fl->x.n, fl->deferred);

	if (rounds(s, &fl->wire, fl->x.msg, fl->x.res, fl->idx, k,
	    fl->deferred, 1, f) < 0)
		return -1;
	return send_outcome(fl->x.res, f);
}

bool
session_flight_answered(const struct flight *fl)
{
	return fl->x.mail.code != 0;
}

bool
session_flight_data_due(const struct flight *fl)
{
	return !fl->x.bdat && !fl->data_sent;
}

uint64_t
session_flight_octets(const struct flight *fl)
{
	return message_size(fl->x.msg);
}

size_t
session_flight_commands(const struct flight *fl)
{
	return fl->x.n + 3;
}

/* --- the stepwise transaction (sendmail -bs) --- */

/* One command of a stepwise transaction and its reply; a 1xx or 3xx is no
   answer to MAIL, RCPT or RSET (RFC 5321 4.3.2). */
static int
step(struct session *s, char *line, const char *stage, struct reply *r,
    struct failure *f)
{
	int rc = command(s, line, NULL, r, stage, f);

	free(line);
	if (rc == 0 && r->code < 400 && !reply_positive(r)) {
		s->usable = false;
		return fail_reply(f, FAIL_PROTOCOL, stage, r);
	}
	return rc;
}

int
session_mail(struct session *s, const char *sender,
    const struct mail_params *p, struct reply *r, struct failure *f)
{
	char *wire = wire_address(s, sender, "sender", f);
	if (wire == NULL)
		return -1;
	bool utf8 = p->smtputf8 || s->cfg->smtputf8 ||
	    !address_is_ascii(wire);
	int rc;

	if (utf8 && !caps_has(&s->caps, "SMTPUTF8"))
		rc = fail(f, FAIL_UNSUPPORTED, 0, "SMTPUTF8", "the server "
		    "does not offer SMTPUTF8");
	else if (s->cfg->require_tls && require_tls_check(s, f) < 0)
		rc = -1;
	else
		rc = step(s, mail_line(s, wire, p->size_given ? &p->size :
		    NULL, p->body ? p->body : s->cfg->body_type, utf8),
		    "MAIL FROM", r, f);
	free(wire);
	return rc;
}

int
session_rcpt(struct session *s, const char *rcpt, struct reply *r,
    struct failure *f)
{
	char *wire = wire_address(s, rcpt, "recipient", f);
	if (wire == NULL)
		return -1;
	int rc = step(s, rcpt_command(s, wire), "RCPT TO", r, f);
	free(wire);
	return rc;
}

int
session_rset(struct session *s, struct reply *r, struct failure *f)
{
	return step(s, xstrdup("RSET"), "RSET", r, f);
}

int
session_data(struct session *s, const struct message *msg,
    struct send_result *res, struct failure *f)
{
	size_t *idx = xcalloc(res->n + 1, sizeof *idx);
	struct tally t = { 0, false, 0 };
	struct transaction x = { .s = s, .msg = msg, .res = res, .idx = idx,
	    .n = res->n, .tally = &t, .last = true,
	    .bdat = s->caps.esmtp && caps_has(&s->caps, "CHUNKING") };
	int rc;

	for (size_t i = 0; i < res->n; i++) {
		idx[i] = i;
		t.accepted += res->r[i].accepted;
	}
	reply_init(&x.mail);
	reply_init(&x.data);
	reply_free(&res->final);
	reply_init(&res->final);
	rc = send_body(&x, f);
	if (res->final.code == 0 && x.data.code >= 400) {
		/* DATA itself refused: that is the reply to pass on. */
		res->final = x.data;
		reply_init(&x.data);
	}
	reply_free(&x.mail);
	reply_free(&x.data);
	free(idx);
	return rc;
}

int
session_send(struct session *s, const struct envelope_view *env,
    const struct message *msg, struct send_result *res, struct failure *f)
{
	struct envelope_view wire;
	struct strlist store = { 0 };
	char *sender = NULL;
	int rc;

	result_init(res, env);
	rc = wire_envelope(s, env, &wire, &sender, &store, f);
	if (rc == 0)
		rc = send_rounds(s, &wire, msg, res, f);
	free(sender);
	strlist_free(&store);
	return rc < 0 ? -1 : send_outcome(res, f);
}

int
session_command(struct session *s, const char *line, struct reply *r,
    enum fail_class *class, struct failure *f)
{
	char verb[16];
	size_t i;

	if (command(s, line, NULL, r, line, f) < 0)
		return -1;
	for (i = 0; line[i] && line[i] != ' ' && i < sizeof verb - 1; i++)
		verb[i] = line[i];
	verb[i] = '\0';
	if (r->code < 400)
		*class = FAIL_NONE;
	else if (r->code < 500)
		*class = FAIL_TEMP;
	else if (ascii_ieq(verb, "VRFY") || ascii_ieq(verb, "EXPN"))
		*class = FAIL_REFUSED;
	else
		*class = FAIL_PROTOCOL;
	return 0;
}

void
session_close(struct session *s)
{
	if (s->conn == NULL)
		return;
	if (s->usable) {
		struct reply r;
		struct failure ignored;
		int64_t wait = s->cfg->timeout > 0 && s->cfg->timeout < 5 ?
		    s->cfg->timeout * 1000 : 5000;

		/* The outcome is decided already: a failed QUIT (421,
		   garbage, silence) changes nothing, so wait briefly. */
		reply_init(&r);
		if (!s->quit_sent)
			queue_cmd(s, "QUIT", NULL);
		s->quit_sent = true;
		if (conn_flush(s->conn, monotonic_ms() + wait, &ignored) == 0 &&
		    conn_read_reply(s->conn, &r, monotonic_ms() + wait, "QUIT",
		    &ignored) == 0 && s->cfg->ev.received)
			s->cfg->ev.received(s->cfg->ev.ctx, &r);
		reply_free(&r);
	}
	conn_close(s->conn, s->usable);
	s->conn = NULL;
	caps_free(&s->caps);
	free(s->greeting);
	s->greeting = NULL;
}
