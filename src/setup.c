/* setup.c: options and configuration into a session configuration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "net.h"
#include "secret.h"
#include "setup.h"

static int
fetch_secret(struct run *r, struct failure *f)
{
	struct secret_query q = { r->o.password, r->o.passwordeval,
	    r->host[0] == '/' ? NULL : r->host, r->o.user, NULL, false,
	    r->o.timeout };
	struct secret s = { 0 };

	/* With an OAuth2 provider the token file has the secret. */
	if (oauth2_in_use(&r->o)) {
		if (oauth2_token(&r->o, NULL, &r->secret, f) < 0)
			return -1;
		trace_info(&r->trace, "access token from the OAuth2 token "
		    "file");
		return 0;
	}
	int rc = secret_get(&q, &s, f);

	if (rc == 0) {
		char note[64];
		r->secret = s.password;
		s.password = NULL;
		(void)snprintf(note, sizeof note, "password from %s",
		    secret_source_name(s.source));
		trace_info(&r->trace, note);
	}
	secret_clear(&s);
	return rc;
}

static char *
secret_for_session(void *ctx, struct failure *f)
{
	struct run *r = ctx;

	if (r->secret == NULL && r->secret_failure.class != FAIL_NONE) {
		*f = r->secret_failure;
		return NULL;
	}
	if (r->secret == NULL && fetch_secret(r, f) < 0)
		return NULL;
	return xstrdup(r->secret);
}

/* The server refused the OAuth2 access token: a refreshed one, once. */
static char *
secret_refused(void *ctx, const char *refused, struct failure *f)
{
	struct run *r = ctx;
	char *fresh;

	if (!oauth2_in_use(&r->o))
		return NULL;
	if (oauth2_token(&r->o, refused, &fresh, f) < 0)
		return NULL;
	trace_info(&r->trace, "the server refused the access token: "
	    "refreshed it for one more try");
	free_secret(r->secret);
	r->secret = fresh;
	return xstrdup(fresh);
}

/* The EHLO name goes into a command: the configuration's `domain` and
   the system's host name are checked as --helo is: a CR LF there would
   be a command of its own. */
static int
helo_check(const char *helo, struct failure *f)
{
	for (const unsigned char *p = (const unsigned char *)helo; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return fail(f, FAIL_CONFIG, 0, "EHLO name", "'%s' "
			    "contains a space or a control character", helo);
	if (*helo == '\0')
		return fail(f, FAIL_CONFIG, 0, "EHLO name", "is empty");
	return 0;
}

/* Mechanisms named with --auth (or the account's auth) need a user,
   except those that carry no user name of their own. */
static int
auth_user_check(const struct options *o, struct failure *f)
{
	if (o->user != NULL || o->auth == NULL || ascii_ieq(o->auth, "on") ||
	    ascii_ieq(o->auth, "off"))
		return 0;
	char *copy = xstrdup(o->auth), *save = NULL;
	int rc = 0;
	for (char *t = strtok_r(copy, ", ", &save); t && rc == 0;
	    t = strtok_r(NULL, ", ", &save))
		if (!ascii_ieq(t, "EXTERNAL") && !ascii_ieq(t, "OAUTHBEARER"))
			rc = fail(f, FAIL_USAGE, 0, "--auth", "%s needs a user "
			    "name (--user or the account's user)", t);
	free(copy);
	return rc;
}

/* Will this run authenticate with a secret?  EXTERNAL alone needs none. */
static bool
needs_secret(const struct options *o)
{
	if ((o->user == NULL && !oauth2_in_use(o)) || o->queue_only || (o->auth != NULL &&
	    (ascii_ieq(o->auth, "off") || ascii_ieq(o->auth, "EXTERNAL"))))
		return false;
	switch (o->action) {
	case ACT_SEND: case ACT_FEATURES: case ACT_VERIFY: case ACT_EXPN:
	case ACT_NOOP: case ACT_HELP: case ACT_COMMAND: case ACT_FLUSH_QUEUE:
	case ACT_SMTP_STDIN:
		return true;
	default:
		return false;
	}
}

/* "HOST:PORT" and "[V6]:PORT" split; --port and the protocol decide the
   port otherwise. */
static void
resolve_target(struct run *r)
{
	const char *h = r->o.host ? r->o.host : "localhost";
	const char *colon = strrchr(h, ':');
	int port = 0;

	if (h[0] == '[') {
		const char *close = strchr(h, ']');
		size_t n = close ? (size_t)(close - h - 1) : strlen(h) - 1;
		r->host = xstrndup(h + 1, n);
		if (close && close[1] == ':')
			port = atoi(close + 2);
	} else if (h[0] != '/' && colon && strchr(h, ':') == colon) {
		r->host = xstrndup(h, (size_t)(colon - h));
		port = atoi(colon + 1);
	} else
		r->host = xstrdup(h);
	r->port_in_host = port != 0;
	if (r->o.port)
		port = r->o.port;
	if (port == 0)
		port = r->o.lmtp == YES ? 2003 : r->o.tls == TLS_IMPLICIT ?
		    465 : 25;
	r->port = port;
}

static void
session_config_from(struct run *r)
{
	struct session_config *sc = &r->sc;
	const struct options *o = &r->o;

	memset(sc, 0, sizeof *sc);
	sc->target.host = r->host;
	sc->target.port = r->port;
	sc->target.family = o->family;
	sc->target.source = o->source;
	sc->target.info = trace_info;
	sc->target.info_ctx = &r->trace;
	sc->lmtp = o->lmtp == YES;
	sc->helo = o->helo ? o->helo : r->fqdn;
	sc->tls = o->tls == TLS_UNSET ? TLS_OFF : o->tls;
	sc->tls_cfg.servername = r->extra.tls_host ? r->extra.tls_host :
	    r->host;
	sc->tls_cfg.ca_file = o->tls_ca;
	sc->tls_cfg.cert_file = o->tls_cert;
	sc->tls_cfg.key_file = o->tls_key;
	sc->tls_cfg.fingerprint = o->tls_fingerprint;
	sc->tls_cfg.priority = o->tls_priority;
	sc->tls_cfg.no_verify = o->tls_certcheck == NO;
	sc->tls_cfg.info = trace_info;
	sc->tls_cfg.info_ctx = &r->trace;
	sc->timeout = o->timeout;
	sc->user = o->user;
	sc->auth = o->auth;
	sc->no_initial_response = o->no_initial_response;
	sc->allow_plaintext_auth = o->allow_plaintext_auth;
	sc->mail_options = &o->mail_options;
	sc->rcpt_options = &o->rcpt_options;
	sc->smtputf8 = o->smtputf8;
	sc->dsn_notify = o->dsn_notify;
	sc->dsn_return = o->dsn_return;
	sc->dsn_envid = o->dsn_envid;
	sc->body_type = o->body_type;
	sc->quit_early = true;
	sc->ev.sent = trace_sent;
	sc->ev.received = trace_received;
	sc->ev.info = trace_info;
	sc->ev.warn = trace_warn;
	sc->ev.progress = trace_progress;
	sc->ev.ctx = &r->trace;
	sc->ev.secret = secret_for_session;
	sc->ev.secret_refused = secret_refused;
	sc->ev.secret_ctx = r;
}

void
setup_init(struct run *r)
{
	memset(r, 0, sizeof *r);
	options_init(&r->o);
	config_extra_init(&r->extra);
}

void
setup_free(struct run *r)
{
	options_free(&r->o);
	config_extra_free(&r->extra);
	free(r->fqdn);
	free(r->host);
	free_secret(r->secret);
	memset(r, 0, sizeof *r);
}

int
setup_parse(struct run *r, int argc, char **argv, struct failure *f)
{
	return cli_parse(argc, argv, path_base(argv[0]), &r->o, f);
}

int
setup_session(struct run *r, const char *account, struct failure *f)
{
	if (account != NULL && r->o.account == NULL)
		r->o.account = xstrdup(account);
	/* A port written in --host HOST:PORT is the command line's, so the
	   account's port must not replace it. */
	if (r->o.port == 0 && r->o.host != NULL) {
		resolve_target(r);
		if (r->port_in_host)
			r->o.port = r->port;
		free(r->host);
		r->host = NULL;
	}
	if (config_load(&r->o, &r->extra, f) < 0 ||
	    oauth2_check(&r->o, f) < 0)
		return -1;
	/* The carrier-only key `queue DIR` turns queueing on. */
	if (r->o.queue_dir == NULL && r->extra.queue_dir != NULL) {
		r->o.queue_dir = xstrdup(r->extra.queue_dir);
		r->o.queue_on = true;
	}
	r->o.replace_from_header = r->extra.replace_from_header;
	r->o.undisclosed_recipients = r->extra.undisclosed_recipients == YES;
	if (r->extra.log_time_format != NULL)
		r->o.log_time_format = xstrdup(r->extra.log_time_format);
	r->trace.level = r->o.debug;
	/* The resolver may hang while the network is down: no lookup when
	   the EHLO name is given (--helo, `domain`) or nothing needs it. */
	if (r->o.helo != NULL)
		r->fqdn = xstrdup(r->o.helo);
	else if (r->o.action == ACT_LIST_QUEUE ||
	    r->o.action == ACT_REMOVE_QUEUED ||
	    r->o.action == ACT_OAUTH2_LOGIN || r->o.action == ACT_OAUTH2_LOGOUT)
		r->fqdn = xstrdup("localhost");
	else
		r->fqdn = net_local_fqdn();
	resolve_target(r);
	session_config_from(r);
	if (helo_check(r->sc.helo, f) < 0 || auth_user_check(&r->o, f) < 0)
		return -1;
	if (needs_secret(&r->o) && fetch_secret(r, f) < 0) {
		/* An OAuth2 provider out of reach: with --queue the message
		   is still read, and queued when the session meets this
		   failure at AUTH. */
		if (!oauth2_in_use(&r->o) || !r->o.queue_on ||
		    f->class != FAIL_TEMP)
			return -1;
		r->secret_failure = *f;
		memset(f, 0, sizeof *f);
	}
	return 0;
}
