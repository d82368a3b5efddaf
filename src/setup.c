/* setup.c: options and configuration into a session configuration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "net.h"
#include "secret.h"
#include "setup.h"

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static char *
secret_for_session(void *ctx, struct failure *f)
{
	struct run *r = ctx;
	struct secret_query q = { r->o.password, r->o.passwordeval,
	    r->host[0] == '/' ? NULL : r->host, r->o.user, NULL, false };
	struct secret s = { 0 };
	char *out = NULL;

	if (secret_get(&q, &s, f) == 0) {
		out = s.password;
		s.password = NULL;
		char note[64];
		(void)snprintf(note, sizeof note, "password from %s",
		    secret_source_name(s.source));
		trace_info(&r->trace, note);
	}
	secret_clear(&s);
	return out;
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
	memset(r, 0, sizeof *r);
}

int
setup_parse(struct run *r, int argc, char **argv, struct failure *f)
{
	return cli_parse(argc, argv, base_name(argv[0]), &r->o, f);
}

int
setup_session(struct run *r, const char *account, struct failure *f)
{
	if (account != NULL && r->o.account == NULL)
		r->o.account = xstrdup(account);
	if (config_load(&r->o, &r->extra, f) < 0)
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
	r->fqdn = net_local_fqdn();
	resolve_target(r);
	session_config_from(r);
	return 0;
}
