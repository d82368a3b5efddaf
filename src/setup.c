/* setup.c: options and configuration into a session configuration. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "envelope.h"
#include "net.h"
#include "secret.h"
#include "settings.h"
#include "setup.h"
#include "socks.h"

static int
fetch_secret(struct run *r, struct failure *f)
{
	struct secret_query q = { r->o.password, r->o.passwordeval,
	    r->host[0] == '/' ? NULL : r->host, r->o.user, NULL, false,
	    r->o.timeout, NULL };
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
	enum sasl_mech m = auth_first_needing_user(&o->auth);

	if (o->user != NULL || m == SASL_NONE)
		return 0;
	return fail(f, FAIL_USAGE, 0, "--auth", "%s needs a user name (--user "
	    "or the account's user)", sasl_mech_name(m));
}

/* Will this run authenticate with a secret?  EXTERNAL alone needs none. */
static bool
needs_secret(const struct options *o)
{
	if ((o->user == NULL && !oauth2_in_use(o)) || o->queue_only ||
	    o->pretend ||
	    !auth_may_need_secret(&o->auth))
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

/* The host and port to connect to: --host and --port as the command line
   and the account left them (HOST:PORT split already), else localhost and
   the port of the protocol; and the protocol of a socket. */
static void
resolve_target(struct run *r)
{
	r->host = xstrdup(r->o.host ? r->o.host : "localhost");
	/* A Unix socket is a local delivery agent's (Dovecot, Cyrus): LMTP
	   unless --protocol=smtp or the account's `protocol smtp` says so.
	   Speaking SMTP to one misreads its per-recipient replies. */
	if (r->o.lmtp == UNSET && r->host[0] == '/')
		r->o.lmtp = YES;
	r->port = r->o.port;
	if (r->port == 0)
		r->port = r->o.lmtp == YES ? 2003 : r->o.tls == TLS_IMPLICIT ?
		    465 : 25;
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
	sc->tls_cfg.servername = o->tls_host ? o->tls_host : r->host;
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
	sc->auth = &o->auth;
	sc->no_initial_response = o->no_initial_response;
	sc->allow_plaintext_auth = o->allow_plaintext_auth;
	sc->mail_options = &o->mail_options;
	sc->rcpt_options = &o->rcpt_options;
	sc->smtputf8 = o->smtputf8;
	sc->require_tls = o->require_tls;
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

/* The proxy's password: the URL's user is looked up like an AUTH user,
   with CARRIER_PROXY_PASSWORD in the place of CARRIER_PASSWORD. */
static int
proxy_password(struct run *r, struct failure *f)
{
	struct secret_query q = { NULL, NULL, r->proxy_host, r->proxy_user,
	    NULL, false, r->o.timeout, "CARRIER_PROXY_PASSWORD" };
	struct secret s = { 0 };
	int rc = secret_get(&q, &s, f);

	if (rc == 0) {
		r->proxy_password = s.password;
		s.password = NULL;
	} else
		(void)snprintf(f->what, sizeof f->what, "SOCKS proxy password");
	secret_clear(&s);
	return rc;
}

/*
 * The SOCKS5 proxy of --proxy or `proxy` (a URL, carrier(1)), else of
 * msmtp's proxy_host and proxy_port (the proxy resolves names, as msmtp
 * has it).  A Unix socket is reached directly.
 */
static int
setup_proxy(struct run *r, struct failure *f)
{
	struct socks_proxy *px = &r->proxy;
	int port = 1080;
	bool remote = true;

	if (r->host[0] == '/')
		return 0;
	if (r->o.proxy != NULL && *r->o.proxy != '\0') {
		/* Checked when it was read: it parses. */
		if (!socks_url_parse(r->o.proxy, &r->proxy_host, &port,
		    &r->proxy_user, &remote))
			return fail(f, FAIL_CONFIG, 0, "proxy", "'%s' is not "
			    "a SOCKS5 URL", r->o.proxy);
	} else if (r->o.proxy_host != NULL && *r->o.proxy_host != '\0') {
		r->proxy_host = xstrdup(r->o.proxy_host);
		if (r->o.proxy_port != 0)
			port = r->o.proxy_port;
	} else
		return 0;
	if (r->proxy_user != NULL && proxy_password(r, f) < 0)
		return -1;
	*px = (struct socks_proxy){ r->proxy_host, port, remote,
	    r->proxy_user, r->proxy_password };
	r->sc.target.proxy = px;
	return 0;
}

int
setup_read_message(const struct options *o, struct message *m,
    struct failure *f)
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

/* msmtp's --read-envelope-from: with no account named and no -f, the
   account is the one whose from matches the message's sender, so the
   message is read before the configuration is applied.  -t alone does
   not choose by the headers (msmtp does not either). */
static int
read_early(struct run *r, struct failure *f)
{
	const struct options *o = &r->o;

	if (o->action != ACT_SEND || o->batch || o->pretend ||
	    !o->read_envelope_from || o->account != NULL || o->from != NULL)
		return 0;
	r->early = xcalloc(1, sizeof *r->early);
	message_init(r->early);
	if (setup_read_message(o, r->early, f) < 0)
		return -1;
	/* A header that does not parse is envelope_build's to report. */
	struct failure ignored;
	if (envelope_header_sender(r->early, &r->o.header_sender,
	    &ignored) < 0)
		r->o.header_sender = NULL;
	return 0;
}

void
setup_init(struct run *r)
{
	memset(r, 0, sizeof *r);
	options_init(&r->o);
}

void
setup_free(struct run *r)
{
	free(r->proxy_host);
	free(r->proxy_user);
	free_secret(r->proxy_password);
	if (r->early != NULL) {
		message_free(r->early);
		free(r->early);
	}
	options_free(&r->o);
	free(r->fqdn);
	free(r->host);
	free_secret(r->secret);
	memset(r, 0, sizeof *r);
}

int
setup_parse(struct run *r, int argc, char **argv, struct failure *f)
{
	const struct options *o = &r->o;

	if (cli_parse(argc, argv, path_base(argv[0]), &r->o, f) < 0)
		return -1;
	/* Said before anything is read: standard input may be a terminal
	   or a pipe nobody will close. */
	if (o->action == ACT_SEND && !o->batch && !o->read_recipients &&
	    o->recipients.n == 0 && !o->pretend)
		return fail(f, FAIL_USAGE, 0, "no recipients", "give them as "
		    "arguments, or -t to read them from the message");
	return 0;
}

/* "" for a field that is not set. */
static const char *
shown(const char *s)
{
	return s != NULL ? s : "";
}

/* One command-line recipient as it would be sent: aliases, then
   maildomain; one that could not be sent shows as given, with why. */
static void
pretend_recipient(const struct options *o, const char *addr, FILE *out)
{
	struct strlist to = { 0 };
	struct failure f = { 0 };

	if (envelope_given_recipient(o, addr, &to, &f) < 0)
		fprintf(out, " %s (%s%s%s)", addr, f.what,
		    f.what[0] && f.detail[0] ? ": " : "", f.detail);
	for (size_t i = 0; i < to.n; i++)
		fprintf(out, " %s", to.v[i]);
	strlist_free(&to);
}

/* -P (msmtp's --pretend): the settings in effect and the envelope so
   far, never a password; nothing is connected or read. */
void
setup_pretend(const struct run *r, FILE *out)
{
	const struct options *o = &r->o;
	static const char *const tls[] = { "off", "on connect", "STARTTLS",
	    "STARTTLS if offered" };

	fprintf(out, "configuration file = %s\n", o->config_used ?
	    o->config_used : "(none)");
	fprintf(out, "account = %s\n", o->account ? o->account : "(none)");
	fprintf(out, "host = %s\nport = %d\n", r->host, r->port);
	fprintf(out, "protocol = %s\n", o->lmtp == YES ? "lmtp" : "smtp");
	fprintf(out, "domain = %s\n", r->sc.helo);
	fprintf(out, "timeout = %d\n", o->timeout);
	fprintf(out, "source_ip = %s\nproxy = %s\n", shown(o->source),
	    shown(o->proxy ? o->proxy : o->proxy_host));
	fprintf(out, "tls = %s\n", tls[r->sc.tls]);
	fprintf(out, "tls_trust_file = %s\n", o->tls_ca ? o->tls_ca :
	    "(system)");
	fprintf(out, "tls_fingerprint = %s\ntls_certcheck = %s\n",
	    shown(o->tls_fingerprint), o->tls_certcheck == NO ? "off" : "on");
	fprintf(out, "auth = %s\nuser = %s\n", o->auth.mode == AUTH_OFF ?
	    "off" : o->user != NULL ? "on" : "off", shown(o->user));
	fprintf(out, "password = %s\n", o->password != NULL ? "*" :
	    o->passwordeval != NULL ? "(passwordeval)" : o->user != NULL ?
	    "(netrc, CARRIER_PASSWORD or a prompt)" : "");
	fprintf(out, "from = %s\n", o->from != NULL ? o->from :
	    o->read_envelope_from || !o->sendmail ?
	    "(the message's Sender or From field)" : "(the local user)");
	fprintf(out, "dsn_notify = %s\ndsn_return = %s\n",
	    shown(o->dsn_notify), shown(o->dsn_return));
	fprintf(out, "maildomain = %s\naliases = %s\n", shown(o->maildomain),
	    shown(o->aliases));
	fprintf(out, "logfile = %s\nsyslog = %s\n", shown(o->logfile),
	    o->syslog_facility ? o->syslog_facility : "off");
	fprintf(out, "recipients =");
	for (size_t i = 0; i < o->recipients.n; i++)
		pretend_recipient(o, o->recipients.v[i], out);
	fprintf(out, "%s\n", o->read_recipients ? " (and those of To, Cc, "
	    "Bcc)" : "");
}

int
setup_session(struct run *r, const char *account, struct failure *f)
{
	if (account != NULL && r->o.account == NULL)
		r->o.account = xstrdup(account);
	if (read_early(r, f) < 0)
		return -1;
	if (config_load(&r->o, f) < 0 || oauth2_check(&r->o, f) < 0)
		return -1;
	r->trace.level = r->o.debug;
	{
		char note[512];

		(void)snprintf(note, sizeof note, "configuration file %s, "
		    "account %s", r->o.config_used ? r->o.config_used :
		    "(none)", r->o.account ? r->o.account : "(none)");
		trace_info(&r->trace, note);
	}
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
	if (r->o.action != ACT_LIST_QUEUE && r->o.action != ACT_REMOVE_QUEUED &&
	    !r->o.pretend && setup_proxy(r, f) < 0)
		return -1;
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
