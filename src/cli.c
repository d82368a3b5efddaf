/*
 * cli.c: one parser for both forms of the command line.  sendmail's flags
 * are the short options; carrier's own options are long options.  Values
 * are checked here so that nothing later has to doubt them.
 */
#include <ctype.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "auth.h"
#include "cli.h"
#include "params.h"
#include "tls.h"

enum {
	OPT_HOST = 256, OPT_PORT, OPT_LMTP, OPT_HELO, OPT_TIMEOUT, OPT_SOURCE,
	OPT_TLS, OPT_STARTTLS, OPT_TLS_CA, OPT_TLS_CERT, OPT_TLS_KEY,
	OPT_TLS_FINGERPRINT, OPT_TLS_PRIORITY, OPT_TLS_NO_VERIFY, OPT_USER,
	OPT_AUTH, OPT_NO_IR, OPT_ALLOW_PLAIN, OPT_FILE, OPT_MAIL_OPTION,
	OPT_RCPT_OPTION, OPT_SMTPUTF8, OPT_KEEP_BCC, OPT_DEBUG, OPT_PROGRESS,
	OPT_LOG, OPT_SYSLOG, OPT_REPORT, OPT_ACCOUNT, OPT_HELP, OPT_VERSION,
	OPT_FEATURES, OPT_VERIFY, OPT_EXPN, OPT_NOOP, OPT_SERVER_HELP,
	OPT_COMMAND, OPT_SENDMAIL, OPT_QUEUE, OPT_QUEUE_ONLY, OPT_FLUSH,
	OPT_LIST_QUEUE, OPT_QUEUE_REMOVE, OPT_QUEUE_MAX_AGE, OPT_BATCH,
	OPT_MAILDIR, OPT_MBOX, OPT_OAUTH2_LOGIN, OPT_OAUTH2_LOGOUT,
	/* the oauth2_* keys but the client secret, as --oauth2-KEY */
	OPT_OAUTH2_PROVIDER, OPT_OAUTH2_CLIENT_ID, OPT_OAUTH2_AUTHORIZATION,
	OPT_OAUTH2_DEVICE, OPT_OAUTH2_TOKEN, OPT_OAUTH2_SCOPE,
	OPT_OAUTH2_TOKEN_FILE,
};

static const struct option longopts[] = {
	{ "host", required_argument, NULL, OPT_HOST },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "lmtp", no_argument, NULL, OPT_LMTP },
	{ "helo", required_argument, NULL, OPT_HELO },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "tls", no_argument, NULL, OPT_TLS },
	{ "starttls", optional_argument, NULL, OPT_STARTTLS },
	{ "tls-ca", required_argument, NULL, OPT_TLS_CA },
	{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
	{ "tls-fingerprint", required_argument, NULL, OPT_TLS_FINGERPRINT },
	{ "tls-priority", required_argument, NULL, OPT_TLS_PRIORITY },
	{ "tls-no-verify", no_argument, NULL, OPT_TLS_NO_VERIFY },
	{ "user", required_argument, NULL, OPT_USER },
	{ "auth", required_argument, NULL, OPT_AUTH },
	{ "no-initial-response", no_argument, NULL, OPT_NO_IR },
	{ "allow-plaintext-auth", no_argument, NULL, OPT_ALLOW_PLAIN },
	{ "from", required_argument, NULL, 'f' },
	{ "read-recipients", no_argument, NULL, 't' },
	{ "file", required_argument, NULL, OPT_FILE },
	{ "mail-option", required_argument, NULL, OPT_MAIL_OPTION },
	{ "rcpt-option", required_argument, NULL, OPT_RCPT_OPTION },
	{ "smtputf8", no_argument, NULL, OPT_SMTPUTF8 },
	{ "keep-bcc", no_argument, NULL, OPT_KEEP_BCC },
	{ "debug", optional_argument, NULL, OPT_DEBUG },
	{ "verbose", no_argument, NULL, 'v' },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "syslog", optional_argument, NULL, OPT_SYSLOG },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "account", required_argument, NULL, OPT_ACCOUNT },
	{ "config", required_argument, NULL, 'C' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "features", no_argument, NULL, OPT_FEATURES },
	{ "verify", required_argument, NULL, OPT_VERIFY },
	{ "expn", required_argument, NULL, OPT_EXPN },
	{ "noop", no_argument, NULL, OPT_NOOP },
	{ "server-help", optional_argument, NULL, OPT_SERVER_HELP },
	{ "command", required_argument, NULL, OPT_COMMAND },
	{ "sendmail", no_argument, NULL, OPT_SENDMAIL },
	{ "batch", no_argument, NULL, OPT_BATCH },
	{ "maildir", required_argument, NULL, OPT_MAILDIR },
	{ "mbox", required_argument, NULL, OPT_MBOX },
	{ "queue", optional_argument, NULL, OPT_QUEUE },
	{ "queue-only", no_argument, NULL, OPT_QUEUE_ONLY },
	{ "queue-max-age", required_argument, NULL, OPT_QUEUE_MAX_AGE },
	{ "flush", no_argument, NULL, OPT_FLUSH },
	{ "list-queue", no_argument, NULL, OPT_LIST_QUEUE },
	{ "queue-remove", required_argument, NULL, OPT_QUEUE_REMOVE },
	{ "oauth2-login", no_argument, NULL, OPT_OAUTH2_LOGIN },
	{ "oauth2-logout", no_argument, NULL, OPT_OAUTH2_LOGOUT },
	{ "oauth2-provider", required_argument, NULL, OPT_OAUTH2_PROVIDER },
	{ "oauth2-client-id", required_argument, NULL, OPT_OAUTH2_CLIENT_ID },
	{ "oauth2-authorization-endpoint", required_argument, NULL,
	    OPT_OAUTH2_AUTHORIZATION },
	{ "oauth2-device-endpoint", required_argument, NULL,
	    OPT_OAUTH2_DEVICE },
	{ "oauth2-token-endpoint", required_argument, NULL, OPT_OAUTH2_TOKEN },
	{ "oauth2-scope", required_argument, NULL, OPT_OAUTH2_SCOPE },
	{ "oauth2-token-file", required_argument, NULL, OPT_OAUTH2_TOKEN_FILE },
	{ NULL, 0, NULL, 0 },
};

/* sendmail's flags; -o and -b take their letters as an argument. */
static const char sendmail_shortopts[] =
    "+:46b:B:C:f:F:h:iL:N:o:q::r:R:tUvV:";
/* The same without '+' for carrier's own command line, where options and
   operands may mix. */
static const char *const shortopts = sendmail_shortopts + 1;

void
options_init(struct options *o)
{
	memset(o, 0, sizeof *o);
	o->lmtp = UNSET;
	o->tls = TLS_UNSET;
	o->tls_certcheck = UNSET;
	o->progress = UNSET;
	o->set_from_header = o->set_date_header = o->set_msgid_header = UNSET;
	o->family = AF_UNSPEC;
}

void
options_free(struct options *o)
{
	char **strs[] = { &o->log_time_format, &o->queue_dir, &o->host, &o->helo, &o->source, &o->tls_ca,
	    &o->tls_cert, &o->tls_key, &o->tls_fingerprint, &o->tls_priority,
	    &o->user, &o->auth, &o->passwordeval, &o->from, &o->file,
	    &o->fullname, &o->dsn_notify, &o->dsn_return, &o->dsn_envid,
	    &o->body_type, &o->logfile, &o->syslog_facility, &o->config_file,
	    &o->account, &o->maildomain, &o->aliases };

	for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
	free_secret(o->password);
	o->password = NULL;
	oauth2_settings_free(&o->oauth2);
	strlist_free(&o->commands);
	strlist_free(&o->batch_files);
	strlist_free(&o->maildirs);
	strlist_free(&o->mboxes);
	strlist_free(&o->recipients);
	strlist_free(&o->mail_options);
	strlist_free(&o->rcpt_options);
}

static void
set_str(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

static int
positive(const char *name, const char *v, long long max, int *out,
    struct failure *f)
{
	const char *errstr = NULL;
	long long n = strtonum(v, 1, max, &errstr);

	if (errstr != NULL)
		return fail(f, FAIL_USAGE, 0, name, "'%s' is %s (expected 1 "
		    "to %lld)", v, errstr, max);
	*out = (int)n;
	return 0;
}

/* "HOST:PORT" and "[V6]:PORT": the port must be 1 to 65535.  A bare IPv6
   address has several colons and no port. */
static int
port_suffix_check(const char *name, const char *v, struct failure *f)
{
	const char *colon = NULL;
	int port;

	if (v[0] == '[') {
		const char *close = strchr(v, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			return fail(f, FAIL_USAGE, 0, name, "'%s': expected "
			    "[ADDRESS]:PORT", v);
		if (close[1] == ':')
			colon = close + 1;
	} else if ((colon = strchr(v, ':')) != NULL && strchr(colon + 1, ':'))
		colon = NULL;
	if (colon == NULL)
		return 0;
	return positive(name, colon + 1, 65535, &port, f);
}

/* A value that goes into an SMTP command must hold no control byte. */
static int
no_controls(const char *name, const char *v, bool no_space, struct failure *f)
{
	if (has_control(v))
		return fail(f, FAIL_USAGE, 0, name, "contains a control "
		    "character");
	if (no_space && strchr(v, ' ') != NULL)
		return fail(f, FAIL_USAGE, 0, name, "contains a space");
	return 0;
}

static int
dsn_notify(const char *v, struct options *o, struct failure *f)
{
	const char *why = dsn_notify_check(v);

	if (why != NULL)
		return fail(f, FAIL_USAGE, 0, "-N", "'%s' %s", v, why);
	set_str(&o->dsn_notify, v);
	for (char *p = o->dsn_notify; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return 0;
}

/* "on", "off" or a comma list of mechanisms carrier knows. */
static int
auth_list_check(const char *v, struct failure *f)
{
	if (ascii_ieq(v, "on") || ascii_ieq(v, "off"))
		return 0;
	char *copy = xstrdup(v), *save = NULL;
	int rc = 0, n = 0;
	for (char *t = strtok_r(copy, ", ", &save); t && rc == 0;
	    t = strtok_r(NULL, ", ", &save), n++)
		if (sasl_mech_from_name(t) == SASL_NONE)
			rc = fail(f, FAIL_USAGE, 0, "--auth", "unknown "
			    "mechanism '%s'", t);
	free(copy);
	if (rc == 0 && n == 0)
		rc = fail(f, FAIL_USAGE, 0, "--auth", "no mechanism given");
	return rc;
}

/* sendmail's -o and -b families. */
static int
sendmail_o(const char *arg, struct options *o, struct failure *f)
{
	(void)f;
	if (strcmp(arg, "i") == 0)
		o->ignore_dots = true;
	else if (strcmp(arg, "dq") == 0)	/* deliver to the queue only */
		o->queue_only = o->queue_on = true;
	/* Every other -oXXX (-oem, -oee, -odi, -odb, ...) means nothing
	   to a program that delivers at once and reports by exit status;
	   accepted and ignored, as SPEC 4 says. */
	return 0;
}

static int
sendmail_b(const char *arg, struct options *o, struct failure *f)
{
	if (strcmp(arg, "m") == 0)
		return 0;
	if (strcmp(arg, "i") == 0) {
		o->action = ACT_NEWALIASES;
		return 0;
	}
	if (strcmp(arg, "p") == 0) {
		o->action = ACT_LIST_QUEUE;
		return 0;
	}
	if (strcmp(arg, "s") == 0) {
		o->action = ACT_SMTP_STDIN;
		return 0;
	}
	return fail(f, FAIL_USAGE, 0, "-b", "-b%s is not supported", arg);
}

static int
oauth2_option(int c, const char *arg, struct options *o, struct failure *f)
{
	struct oauth2_settings *s = &o->oauth2;

	switch (c) {
	case OPT_OAUTH2_LOGIN:
		o->action = ACT_OAUTH2_LOGIN;
		return 0;
	case OPT_OAUTH2_LOGOUT:
		o->action = ACT_OAUTH2_LOGOUT;
		return 0;
	case OPT_OAUTH2_PROVIDER:
		if (!oauth2_provider_known(arg))
			return fail(f, FAIL_USAGE, 0, "--oauth2-provider",
			    "'%s' is not google, microsoft or custom", arg);
		set_str(&s->provider, arg);
		return 0;
	case OPT_OAUTH2_CLIENT_ID:
		set_str(&s->client_id, arg);
		return 0;
	case OPT_OAUTH2_AUTHORIZATION:
		set_str(&s->authorization_endpoint, arg);
		return 0;
	case OPT_OAUTH2_DEVICE:
		set_str(&s->device_endpoint, arg);
		return 0;
	case OPT_OAUTH2_TOKEN:
		set_str(&s->token_endpoint, arg);
		return 0;
	case OPT_OAUTH2_SCOPE:
		set_str(&s->scope, arg);
		return 0;
	case OPT_OAUTH2_TOKEN_FILE:
		set_str(&s->token_file, arg);
		return 0;
	default:
		return fail(f, FAIL_INTERNAL, 0, "options", "unhandled %d", c);
	}
}

static int
long_option(int c, const char *arg, struct options *o, struct failure *f)
{
	static const char *const starttls_words[] = { "required", "optional",
	    NULL };
	static const char *const facilities[] = { "mail", "user", "daemon",
	    "local0", "local1", "local2", "local3", "local4", "local5",
	    "local6", "local7", NULL };

	switch (c) {
	case OPT_HOST:
		if (*arg == '\0')
			return fail(f, FAIL_USAGE, 0, "--host", "empty");
		if (*arg != '/' && port_suffix_check("--host", arg, f) < 0)
			return -1;
		set_str(&o->host, arg);
		break;
	case OPT_PORT:
		return positive("--port", arg, 65535, &o->port, f);
	case OPT_LMTP:
		o->lmtp = YES;
		break;
	case OPT_HELO:
		if (no_controls("--helo", arg, true, f) < 0)
			return -1;
		set_str(&o->helo, arg);
		break;
	case OPT_TIMEOUT:
		return positive("--timeout", arg, 86400, &o->timeout, f);
	case OPT_SOURCE:
		if (port_suffix_check("--source", arg, f) < 0)
			return -1;
		set_str(&o->source, arg);
		break;
	case OPT_TLS:
		o->tls = TLS_IMPLICIT;
		break;
	case OPT_STARTTLS:
		if (arg != NULL && !word_in(arg, starttls_words))
			return fail(f, FAIL_USAGE, 0, "--starttls", "'%s' is "
			    "not required or optional", arg);
		o->tls = arg && ascii_ieq(arg, "optional") ?
		    TLS_STARTTLS_OPTIONAL : TLS_STARTTLS_REQUIRED;
		break;
	case OPT_TLS_CA:
		set_str(&o->tls_ca, arg);
		break;
	case OPT_TLS_CERT:
		set_str(&o->tls_cert, arg);
		break;
	case OPT_TLS_KEY:
		set_str(&o->tls_key, arg);
		break;
	case OPT_TLS_FINGERPRINT: {
		unsigned char fp[32];
		if (tls_parse_fingerprint(arg, fp) < 0)
			return fail(f, FAIL_USAGE, 0, "--tls-fingerprint",
			    "expected SHA256: and 64 hex digits");
		set_str(&o->tls_fingerprint, arg);
		break;
	}
	case OPT_TLS_PRIORITY:
		set_str(&o->tls_priority, arg);
		break;
	case OPT_TLS_NO_VERIFY:
		o->tls_certcheck = NO;
		break;
	case OPT_USER:
		set_str(&o->user, arg);
		break;
	case OPT_AUTH:
		if (auth_list_check(arg, f) < 0)
			return -1;
		set_str(&o->auth, arg);
		break;
	case OPT_NO_IR:
		o->no_initial_response = true;
		break;
	case OPT_ALLOW_PLAIN:
		o->allow_plaintext_auth = true;
		break;
	case OPT_FILE:
		set_str(&o->file, arg);
		strlist_add(&o->batch_files, arg);
		break;
	case OPT_BATCH:
		o->batch = true;
		break;
	case OPT_MAILDIR:
		o->batch = true;
		strlist_add(&o->maildirs, arg);
		break;
	case OPT_MBOX:
		o->batch = true;
		strlist_add(&o->mboxes, arg);
		break;
	case OPT_MAIL_OPTION:
	case OPT_RCPT_OPTION:
		if (no_controls(c == OPT_MAIL_OPTION ? "--mail-option" :
		    "--rcpt-option", arg, false, f) < 0)
			return -1;
		strlist_add(c == OPT_MAIL_OPTION ? &o->mail_options :
		    &o->rcpt_options, arg);
		break;
	case OPT_SMTPUTF8:
		o->smtputf8 = true;
		break;
	case OPT_KEEP_BCC:
		o->keep_bcc = true;
		break;
	case OPT_DEBUG:
		if (arg == NULL)
			o->debug = 1;
		else if (positive("--debug", arg, 2, &o->debug, f) < 0)
			return -1;
		break;
	case OPT_PROGRESS:
		o->progress = YES;
		break;
	case OPT_LOG:
		set_str(&o->logfile, arg);
		break;
	case OPT_SYSLOG:
		if (arg != NULL && !word_in(!strncasecmp(arg, "LOG_",
		    4) ? arg + 4 : arg, facilities))
			return fail(f, FAIL_USAGE, 0, "--syslog", "'%s' is not "
			    "a facility (mail, user, daemon, local0-7)", arg);
		set_str(&o->syslog_facility, arg ? arg : "LOG_MAIL");
		break;
	case OPT_REPORT:
		if (!ascii_ieq(arg, "json"))
			return fail(f, FAIL_USAGE, 0, "--report", "'%s' is "
			    "not json", arg);
		o->report_json = true;
		break;
	case OPT_ACCOUNT:
		set_str(&o->account, arg);
		break;
	case OPT_HELP:
		o->action = ACT_SHOW_HELP;
		break;
	case OPT_VERSION:
		o->action = ACT_SHOW_VERSION;
		break;
	case OPT_FEATURES:
		o->action = ACT_FEATURES;
		break;
	case OPT_VERIFY:
	case OPT_EXPN:
		if (no_controls(c == OPT_VERIFY ? "--verify" : "--expn", arg,
		    false, f) < 0)
			return -1;
		o->action = c == OPT_VERIFY ? ACT_VERIFY : ACT_EXPN;
		o->query_arg = arg;
		break;
	case OPT_NOOP:
		o->action = ACT_NOOP;
		break;
	case OPT_SERVER_HELP:
		if (arg && no_controls("--server-help", arg, false, f) < 0)
			return -1;
		o->action = ACT_HELP;
		o->query_arg = arg;
		break;
	case OPT_COMMAND:
		if (no_controls("--command", arg, false, f) < 0)
			return -1;
		if (*arg == '\0')
			return fail(f, FAIL_USAGE, 0, "--command", "empty");
		o->action = ACT_COMMAND;
		strlist_add(&o->commands, arg);
		break;
	case OPT_SENDMAIL:
		o->sendmail = true;
		break;
	case OPT_QUEUE:
		o->queue_on = true;
		if (arg != NULL)
			set_str(&o->queue_dir, arg);
		break;
	case OPT_QUEUE_ONLY:
		o->queue_only = o->queue_on = true;
		break;
	case OPT_QUEUE_MAX_AGE:
		return positive("--queue-max-age", arg, 365, &o->queue_max_age,
		    f);
	case OPT_FLUSH:
		o->action = ACT_FLUSH_QUEUE;
		break;
	case OPT_LIST_QUEUE:
		o->action = ACT_LIST_QUEUE;
		break;
	case OPT_QUEUE_REMOVE:
		if (strpbrk(arg, "/.") == arg || strchr(arg, '/') != NULL)
			return fail(f, FAIL_USAGE, 0, "--queue-remove",
			    "'%s' is not a queue id", arg);
		o->action = ACT_REMOVE_QUEUED;
		o->query_arg = arg;
		break;
	default:
		return oauth2_option(c, arg, o, f);
	}
	return 0;
}

static int
short_option(int c, const char *arg, struct options *o, struct failure *f)
{
	switch (c) {
	case '4':
		o->family = AF_INET;
		break;
	case '6':
		o->family = AF_INET6;
		break;
	case 'b':
		return sendmail_b(arg, o, f);
	case 'B':
		if (!body_type_valid(arg))
			return fail(f, FAIL_USAGE, 0, "-B", "'%s' is not "
			    "7BIT or 8BITMIME", arg);
		set_str(&o->body_type, arg);
		for (char *p = o->body_type; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		break;
	case 'C':
		set_str(&o->config_file, arg);
		break;
	case 'f':
	case 'r':
		set_str(&o->from, arg);
		o->from_set = true;
		break;
	case 'F':
		if (no_controls("-F", arg, false, f) < 0)
			return -1;
		set_str(&o->fullname, arg);
		break;
	case 'h':	/* hop count */
	case 'L':	/* syslog tag */
	case 'U':	/* initial user submission */
		break;
	case 'i':
		o->ignore_dots = true;
		break;
	case 'N':
		return dsn_notify(arg, o, f);
	case 'o':
		return sendmail_o(arg, o, f);
	case 'q':
		o->action = ACT_FLUSH_QUEUE;
		break;
	case 'R':
		if (!dsn_ret_valid(arg))
			return fail(f, FAIL_USAGE, 0, "-R", "'%s' is not full "
			    "or hdrs", arg);
		set_str(&o->dsn_return, ascii_ieq(arg, "full") ? "FULL" :
		    "HDRS");
		break;
	case 't':
		o->read_recipients = true;
		break;
	case 'v':
		if (o->debug < 2)
			o->debug++;
		break;
	case 'V':
		if (*arg == '\0' || strlen(arg) > ENVID_MAX)
			return fail(f, FAIL_USAGE, 0, "-V", "the envelope id "
			    "must be 1 to 100 characters");
		free(o->dsn_envid);
		o->dsn_envid = xtext_encode(arg);
		break;
	default:
		return fail(f, FAIL_INTERNAL, 0, "options", "unhandled -%c",
		    c);
	}
	return 0;
}

/* A long option under the name sendmail, named without its value: a
   value may be a path or an address nobody should see echoed. */
static int
refuse_long(const char *word, struct failure *f)
{
	char name[64];

	(void)snprintf(name, sizeof name, "%.*s", (int)strcspn(word, "="),
	    word);
	return fail(f, FAIL_USAGE, 0, name, "carrier's own options are not "
	    "accepted under the name sendmail, only sendmail's flags (see "
	    "carrier(1), SENDMAIL COMPATIBILITY)");
}

/* An option getopt did not take: "-X: unknown option", "-f: needs a
   value". */
static int
bad_option(int c, char **argv, bool sendmail_name, struct failure *f)
{
	/* A short flag by its letter; a long option as it was written
	   (getopt puts its value in optopt). */
	const char *what = argv[optind - 1];
	char flag[3] = { '-', (char)optopt, '\0' };

	if (optopt != 0 && optopt < 256)	/* may be < 0 */
		what = flag;
	else if (sendmail_name && strncmp(what, "--", 2) == 0)
		return refuse_long(what, f);
	return fail(f, FAIL_USAGE, 0, what, "%s", c == ':' ?
	    "needs a value" : "unknown option");
}

int
cli_parse(int argc, char **argv, const char *invoked_as, struct options *o,
    struct failure *f)
{
	static const struct option no_longopts[] = { { NULL, 0, NULL, 0 } };
	/* Under the name sendmail, mailq or newaliases other programs run
	   us with their callers' words in argv (PHP's mail(), CGI
	   scripts): only sendmail's flags are options, and they end at the
	   first operand, as BSD sendmail's getopt does ('+').  carrier's
	   own options (--log, --file, --host, ...) would let such a word
	   write files, read them or redirect the mail. */
	bool sendmail_name = strcmp(invoked_as, "sendmail") == 0 ||
	    strcmp(invoked_as, "mailq") == 0 ||
	    strcmp(invoked_as, "newaliases") == 0;
	const char *last_arg = NULL;
	int c, idx;

	if (strcmp(invoked_as, "sendmail") == 0)
		o->sendmail = true;
	else if (strcmp(invoked_as, "mailq") == 0)
		o->action = ACT_LIST_QUEUE;
	else if (strcmp(invoked_as, "newaliases") == 0)
		o->action = ACT_NEWALIASES;

	opterr = 0;
	optind = 0;	/* a full reset, for tests that parse twice */
	/* As carrier, GNU getopt lets options and recipients mix and
	   leaves all after "--" alone: "-x@y" there is an address, never
	   an option. */
	while ((c = getopt_long(argc, argv, sendmail_name ?
	    sendmail_shortopts : shortopts, sendmail_name ? no_longopts :
	    longopts, &idx)) != -1) {
		if (c == '?' || c == ':')
			return bad_option(c, argv, sendmail_name, f);
		last_arg = optarg;
		if ((c >= 256 ? long_option(c, optarg, o, f) :
		    short_option(c, optarg, o, f)) < 0)
			return -1;
		if (c == 'C' && sendmail_name)
			o->config_from_caller = true;
	}
	/* Was "--" the end of the flags (and not the value of one)? */
	bool dashdash = optind > 1 && strcmp(argv[optind - 1], "--") == 0 &&
	    argv[optind - 1] != last_arg;
	for (; optind < argc; optind++) {
		/* After the first operand, a word like "-oi" or "--log=F"
		   is neither a flag nor, by mistake or by design, quietly
		   an address: only after "--" may an address begin with
		   '-'. */
		const char *w = argv[optind];

		if (sendmail_name && !dashdash && strncmp(w, "--", 2) == 0 &&
		    w[2] != '\0')
			return refuse_long(w, f);
		if (sendmail_name && !dashdash && w[0] == '-')
			return fail(f, FAIL_USAGE, 0, w, "after the first "
			    "recipient: sendmail's flags go before the "
			    "recipients (an address beginning with '-' goes "
			    "after --)");
		strlist_add(&o->recipients, w);
	}
	return 0;
}

void
cli_usage(FILE *out)
{
	fputs(
"usage: carrier [options] [--] recipient...     < message\n"
"       carrier [options] -t [recipient...]     < message\n"
"       carrier [connection options] --features | --verify ADDR |\n"
"               --expn ADDR | --noop | --server-help[=TOPIC] | --command CMD\n"
"\n"
"Connection:\n"
"  --host HOST[:PORT]      server name, address or /unix/socket (localhost)\n"
"  --port N                port (25; 465 with --tls; 2003 with --lmtp)\n"
"  --lmtp                  speak LMTP\n"
"  --helo NAME             name for EHLO/LHLO (the local host name)\n"
"  --timeout SECONDS       limit for every network wait\n"
"  --source HOST[:PORT]    local address to connect from\n"
"  -4, -6                  IPv4 or IPv6 only\n"
"TLS:\n"
"  --tls                   TLS from the first byte\n"
"  --starttls[=required|optional]  STARTTLS\n"
"  --tls-ca FILE  --tls-cert FILE  --tls-key FILE  --tls-priority STRING\n"
"  --tls-fingerprint SHA256:HEX    pin the server certificate\n"
"  --tls-no-verify         do not verify the server (insecure)\n"
"Authentication:\n"
"  --user NAME             log in as NAME (password: config, netrc,\n"
"                          CARRIER_PASSWORD or a prompt; never argv)\n"
"  --auth MECH[,MECH...]   mechanisms to try (on, off, PLAIN, ...)\n"
"  --no-initial-response   never send an initial response with AUTH\n"
"  --allow-plaintext-auth  allow credentials on an unencrypted connection\n"
"  --oauth2-login          sign in the account with OAuth2 (once), then\n"
"                          sends refresh its token; --oauth2-logout\n"
"  --oauth2-provider P --oauth2-client-id ID --oauth2-scope S\n"
"  --oauth2-token-endpoint URL --oauth2-device-endpoint URL\n"
"  --oauth2-authorization-endpoint URL --oauth2-token-file FILE\n"
"Envelope and message:\n"
"  -f, --from ADDR         envelope sender ('<>' for the null sender)\n"
"  -t, --read-recipients   recipients from To, Cc, Bcc (or Resent-*)\n"
"  --file FILE             read the message from FILE\n"
"  --batch                 send every --file over one connection; also\n"
"  --maildir DIR           every message in DIR/new and DIR/cur\n"
"  --mbox FILE             every message of an mbox file\n"
"  --mail-option OPT       --rcpt-option OPT   extra ESMTP parameters\n"
"  --smtputf8              ask for SMTPUTF8\n"
"  --keep-bcc              do not remove Bcc and Resent-Bcc\n"
"Output:\n"
"  -v, --debug[=1|2]       show the dialogue (2: with timestamps)\n"
"  --progress              show progress while sending the data\n"
"  --log FILE              --syslog[=FACILITY]    one line per message\n"
"  --report=json           a JSON report on standard output\n"
"Configuration:\n"
"  --account NAME          -C, --config FILE\n"
"Queue:\n"
"  --queue[=DIR]           queue the message when the server cannot be\n"
"                          reached or answers 4xx; --queue-only: never try\n"
"  --flush, -q             deliver what is queued; --list-queue, -bp\n"
"  --queue-remove ID       --queue-max-age DAYS (5)\n"
"  --sendmail              behave as sendmail, keeping these options (named\n"
"                          sendmail: only the sendmail flags below)\n"
"  --help                  --version\n"
"\n"
"sendmail flags: -t -i -oi -odq -f ADDR -r ADDR -F NAME -N DSN -R RET\n"
"  -V ENVID -B TYPE -v -bm -bs -bi -bp -q -C FILE; -oX -L -h -U ignored\n"
"Exit status: 0 delivered; 67 all refused; 75 try again later; 79 some\n"
"refused; see carrier(1) for every value.\n", out);
}
