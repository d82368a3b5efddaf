/*
 * main.c: carrier's data flow, one way: argv and configuration -> options
 * -> message and envelope -> session -> report.  main alone turns the
 * outcome into an exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gnutls/gnutls.h>

#include "cli.h"
#include "config.h"
#include "envelope.h"
#include "message.h"
#include "options.h"
#include "outcome.h"
#include "report.h"
#include "secret.h"
#include "session.h"
#include "trace.h"

struct run {
	struct options o;
	struct config_extra extra;
	struct trace trace;
	char *fqdn;
	char *host;		/* host without :PORT */
	int port;
	struct session_config sc;
};

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
}

static int
read_message(const struct options *o, struct message *m, struct failure *f)
{
	struct read_rules rules = { o->sendmail && !o->ignore_dots };
	int fd = STDIN_FILENO, rc;

	if (o->file != NULL &&
	    (fd = open(o->file, O_RDONLY | O_CLOEXEC)) < 0)
		return fail(f, FAIL_NOINPUT, 0, o->file, "%s", strerror(errno));
	rc = message_read(m, fd, &rules, f);
	if (fd != STDIN_FILENO)
		(void)close(fd);
	return rc;
}

static void
print_refusals(const struct send_result *res)
{
	for (size_t i = 0; i < res->n; i++) {
		const struct rcpt_result *rr = &res->r[i];
		if (rr->accepted)
			continue;
		if (rr->code)
			warnx_safe("<%s>: %d %s", rr->address, rr->code,
			    rr->text ? rr->text : "");
		else
			warnx_safe("<%s>: %s", rr->address,
			    rr->text ? rr->text : "not delivered");
	}
}

/* The JSON report and the delivery log, whatever happened. */
static void
record_outcome(const struct run *r, const struct mail_envelope *e,
    const struct message *m, const struct send_result *res, int rc,
    const struct failure *f)
{
	struct outcome oc = { r->o.account, r->host, r->port,
	    e->sender, e->recipients.n ? &e->recipients : &r->o.recipients,
	    res->n ? res : NULL, message_size(m), f,
	    rc < 0 ? exit_status(f->class) : 0 };

	if (r->o.report_json)
		outcome_json(stdout, &oc);
	outcome_log(&oc, r->o.logfile, r->o.syslog_facility);
}

static int
deliver(struct run *r, struct failure *f)
{
	struct message m;
	struct mail_envelope e;
	struct session s;
	struct send_result res = { 0 };
	int rc = -1;

	message_init(&m);
	memset(&e, 0, sizeof e);
	reply_init(&res.final);
	/* The whole message is read and checked before any connection. */
	if (read_message(&r->o, &m, f) < 0 ||
	    envelope_build(&e, &r->o, &m, r->fqdn, f) < 0)
		goto out;
	r->trace.progress.on = r->o.progress == YES ||
	    (r->o.progress == UNSET && isatty(STDERR_FILENO) &&
	    message_size(&m) > 1024 * 1024);
	if (session_open(&s, &r->sc, f) < 0)
		goto out;
	struct envelope env = { e.sender, &e.recipients, m.eightbit };
	rc = session_send(&s, &env, &m, &res, f);
	session_close(&s);
	print_refusals(&res);
out:
	record_outcome(r, &e, &m, &res, rc, f);
	send_result_free(&res);
	envelope_free(&e);
	message_free(&m);
	return rc;
}

static void
print_reply(const struct reply *rep)
{
	const char *p = rep->text.data ? rep->text.data : "";
	const char *end = p + rep->text.len;

	do {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		char *esc = escape_bytes(p, (size_t)(le - p));
		printf("%03d %s\n", rep->code, esc);
		free(esc);
		p = nl ? nl + 1 : end;
	} while (p < end);
}

/* --features, --verify, --expn, --noop, --server-help, --command. */
static int
query(struct run *r, struct failure *f)
{
	struct session s;
	struct reply rep;
	enum fail_class worst = FAIL_NONE, cl;
	int rc = 0;

	if (session_open(&s, &r->sc, f) < 0)
		return -1;
	reply_init(&rep);
	if (r->o.action == ACT_FEATURES) {
		for (size_t i = 0; i < s.caps.n; i++) {
			char *esc = escape_bytes(s.caps.v[i].params,
			    strlen(s.caps.v[i].params));
			printf("%s%s%s\n", s.caps.v[i].keyword, *esc ? " " : "",
			    esc);
			free(esc);
		}
	} else {
		struct strlist lines = { 0 };
		const char *arg = r->o.query_arg;
		switch (r->o.action) {
		case ACT_VERIFY:
			strlist_addn(&lines, xasprintf("VRFY %s", arg));
			break;
		case ACT_EXPN:
			strlist_addn(&lines, xasprintf("EXPN %s", arg));
			break;
		case ACT_NOOP:
			strlist_add(&lines, "NOOP");
			break;
		case ACT_HELP:
			strlist_addn(&lines, arg ? xasprintf("HELP %s", arg) :
			    xstrdup("HELP"));
			break;
		default:
			for (size_t i = 0; i < r->o.commands.n; i++)
				strlist_add(&lines, r->o.commands.v[i]);
		}
		for (size_t i = 0; i < lines.n && rc == 0; i++) {
			if (session_command(&s, lines.v[i], &rep, &cl, f) < 0) {
				rc = -1;
				break;
			}
			print_reply(&rep);
			if (cl != FAIL_NONE && (worst == FAIL_NONE ||
			    cl < worst))
				worst = cl;
		}
		strlist_free(&lines);
	}
	(void)fflush(stdout);
	reply_free(&rep);
	session_close(&s);
	if (rc == 0 && worst != FAIL_NONE)
		return fail(f, worst, 0, "", NULL);
	return rc;
}

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static void
print_version(void)
{
	printf("carrier %s\nGnuTLS %s (built with %s)\nlibbsd %s (built "
	    "with)\n", CARRIER_VERSION, tls_library_version(), GNUTLS_VERSION,
	    LIBBSD_BUILD_VERSION);
}

static int
run(struct run *r, int argc, char **argv, struct failure *f)
{
	const char *name = base_name(argv[0]);

	if (cli_parse(argc, argv, name, &r->o, f) < 0)
		return -1;
	switch (r->o.action) {
	case ACT_SHOW_HELP:
		cli_usage(stdout);
		return 0;
	case ACT_SHOW_VERSION:
		print_version();
		return 0;
	case ACT_NEWALIASES:
		return 0;	/* carrier keeps no alias database */
	case ACT_LIST_QUEUE:
		printf("Mail queue is empty\n");
		return 0;
	case ACT_FLUSH_QUEUE:
		return 0;	/* nothing is ever queued yet */
	default:
		break;
	}
	if (r->o.sendmail)
		progname = "sendmail";
	if (secret_protect_process(f) < 0 || config_load(&r->o, &r->extra, f) < 0)
		return -1;
	if (r->o.tls_certcheck == NO)
		warnx_safe("warning: TLS certificate verification is off "
		    "(--tls-no-verify): anybody on the path can read and change "
		    "this session");
	r->trace.level = r->o.debug;
	r->fqdn = net_local_fqdn();
	resolve_target(r);
	session_config_from(r);
	if (r->o.action == ACT_SEND)
		return deliver(r, f);
	return query(r, f);
}

int
main(int argc, char **argv)
{
	struct run r;
	struct failure f;
	int rc;

	/* A write to a closed socket is an error value, never a signal. */
	(void)signal(SIGPIPE, SIG_IGN);
	memset(&r, 0, sizeof r);
	memset(&f, 0, sizeof f);
	options_init(&r.o);
	config_extra_init(&r.extra);
	progname = strcmp(base_name(argv[0]), "sendmail") == 0 ? "sendmail" :
	    "carrier";

	rc = run(&r, argc, argv, &f);
	if (fflush(stdout) != 0 && rc == 0)
		rc = fail(&f, FAIL_OSERR, 0, "standard output", "%s",
		    strerror(errno));
	if (rc < 0)
		report_failure(&f);

	options_free(&r.o);
	config_extra_free(&r.extra);
	free(r.fqdn);
	free(r.host);
	return rc < 0 ? exit_status(f.class) : 0;
}
