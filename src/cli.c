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
#include "settings.h"

/* carrier's own options that are not settings of the table (settings.c):
   actions, message sources, output and queue control. */
enum {
	OPT_TLS_ON_CONNECT = 256, OPT_STARTTLS, OPT_FILE, OPT_MAIL_OPTION,
	OPT_RCPT_OPTION, OPT_SMTPUTF8, OPT_DEBUG, OPT_PROGRESS, OPT_REPORT,
	OPT_ACCOUNT, OPT_HELP, OPT_VERSION, OPT_FEATURES, OPT_VERIFY,
	OPT_EXPN, OPT_NOOP, OPT_SERVER_HELP, OPT_COMMAND, OPT_SENDMAIL,
	OPT_QUEUE, OPT_QUEUE_ONLY, OPT_FLUSH, OPT_LIST_QUEUE,
	OPT_QUEUE_REMOVE, OPT_QUEUE_MAX_AGE, OPT_BATCH, OPT_MAILDIR,
	OPT_MBOX, OPT_OAUTH2_LOGIN, OPT_OAUTH2_LOGOUT, OPT_READ_ENVELOPE_FROM,
	OPT_PRETEND, OPT_SERVERINFO, OPT_RMQS, OPT_CONFIGURE, OPT_PASSWORD,
	OPT_SETTING = 1024,	/* + the row of the settings table */
};

static const struct option own_longopts[] = {
	{ "tls-on-connect", no_argument, NULL, OPT_TLS_ON_CONNECT },
	{ "starttls", optional_argument, NULL, OPT_STARTTLS },
	{ "from", required_argument, NULL, 'f' },
	{ "read-recipients", no_argument, NULL, 't' },
	{ "message-file", required_argument, NULL, OPT_FILE },
	{ "read-envelope-from", no_argument, NULL, OPT_READ_ENVELOPE_FROM },
	{ "mail-option", required_argument, NULL, OPT_MAIL_OPTION },
	{ "rcpt-option", required_argument, NULL, OPT_RCPT_OPTION },
	{ "smtputf8", no_argument, NULL, OPT_SMTPUTF8 },
	{ "debug", optional_argument, NULL, OPT_DEBUG },
	{ "verbose", no_argument, NULL, 'v' },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "account", required_argument, NULL, OPT_ACCOUNT },
	{ "config", required_argument, NULL, 'C' },
	/* msmtp's long form of -C: a configuration file, never a message
	   (it holds passwords). */
	{ "file", required_argument, NULL, 'C' },
	{ "pretend", no_argument, NULL, 'P' },
	{ "serverinfo", no_argument, NULL, 'S' },
	{ "rmqs", required_argument, NULL, OPT_RMQS },
	{ "configure", required_argument, NULL, OPT_CONFIGURE },
	{ "password", required_argument, NULL, OPT_PASSWORD },
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
	{ "flush", optional_argument, NULL, OPT_FLUSH },
	{ "list-queue", no_argument, NULL, OPT_LIST_QUEUE },
	{ "queue-remove", required_argument, NULL, OPT_QUEUE_REMOVE },
	{ "oauth2-login", no_argument, NULL, OPT_OAUTH2_LOGIN },
	{ "oauth2-logout", no_argument, NULL, OPT_OAUTH2_LOGOUT },
};
#define OWN_COUNT	(sizeof own_longopts / sizeof own_longopts[0])

/* What one parse carries besides the options: the options that chose
   something another option may contradict, by name, for the message. */
struct cli {
	struct options *o;
	int host_port;		/* the PORT of --host HOST:PORT, 0: none */
	enum tristate tls;	/* --tls[=on|off] */
	const char *implicit_by;	/* --tls-on-connect, --tls-starttls=off */
	const char *starttls_by;	/* --starttls, --tls-starttls=on */
	const char *action_by;		/* the option that chose o->action */
	const char *queue_only_by;	/* --queue-only, -odq */
};

/* sendmail's flags; -o and -b take their letters as an argument. */
static const char sendmail_shortopts[] =
    "+:46b:B:C:f:F:h:iL:N:o:q::r:R:tUvV:";
/* carrier's own command line, where options and operands may mix:
   sendmail's flags and msmtp's -a, -d, -P, -S, -X; msmtp's ignored -A,
   -G, -m, -n, -O too. */
static const char shortopts[] =
    ":46a:A:b:B:C:df:F:Gh:iL:mnN:o:O:Pq::r:R:StUvV:X:";

void
options_init(struct options *o)
{
	memset(o, 0, sizeof *o);
	o->lmtp = UNSET;
	o->tls = TLS_UNSET;
	o->tls_certcheck = UNSET;
	o->tls_starttls = UNSET;
	o->auto_from = o->allow_from_override = UNSET;
	o->progress = UNSET;
	o->set_from_header = o->set_date_header = o->set_msgid_header = UNSET;
	o->set_to_header = UNSET;
	o->family = AF_UNSPEC;
}

void
options_free(struct options *o)
{
	char **strs[] = { &o->log_time_format, &o->queue_dir, &o->host,
	    &o->helo, &o->source, &o->proxy, &o->proxy_host, &o->tls_ca, &o->tls_cert, &o->tls_key,
	    &o->tls_fingerprint, &o->tls_priority, &o->tls_host, &o->user,
	    &o->passwordeval, &o->from, &o->file, &o->fullname,
	    &o->dsn_notify, &o->dsn_return, &o->dsn_envid, &o->body_type,
	    &o->logfile, &o->syslog_facility, &o->config_file,
	    &o->config_used, &o->account, &o->maildomain, &o->aliases,
	    &o->header_sender };

	for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
	free_secret(o->password);
	o->password = NULL;
	memset(&o->auth, 0, sizeof o->auth);
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
	long n;

	if (!parse_posint(v, max, &n))
		return fail(f, FAIL_USAGE, 0, name, "invalid value '%s' "
		    "(expected 1 to %lld)", v, max);
	*out = (int)n;
	return 0;
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

static int store_setting(struct cli *st, enum config_key id,
    const char *name, struct setting_value *v, struct failure *f);

/* A setting parsed by its type, then stored in its field: the command
   line's value replaces any earlier one.  name is the option for
   messages ("--host", "-N"). */
static int
setting_option(struct cli *st, const struct setting *row, const char *name,
    const char *arg, struct failure *f)
{
	struct setting_value v;
	const char *hint;
	enum setting_error e;
	int rc;

	if (arg == NULL)	/* --tls, --auth: msmtp's "on" */
		arg = row->fixed != NULL ? row->fixed : "";
	if ((e = setting_parse(row, arg, &v, &hint)) != SE_OK) {
		char msg[512];

		setting_error_text(e, NULL, arg, hint, msg, sizeof msg);
		return fail(f, FAIL_USAGE, 0, name, "%s", msg);
	}
	rc = store_setting(st, row->id, name, &v, f);
	setting_value_free(&v, row->id);
	/* The account does not replace it, not even with "" or off. */
	st->o->cli_keys |= (uint64_t)1 << row->id;
	return rc;
}

/* Take the string of v (NULL when it unsets). */
static void
take_str(char **field, struct setting_value *v)
{
	free(*field);
	*field = v->str != NULL && *v->str != '\0' ? v->str : NULL;
	if (*field == NULL)
		free(v->str);
	v->str = NULL;
}

/* msmtp's settings that carrier does not have: only "" or off, which
   ask for nothing. */
static int
unsupported_setting(enum config_key id, const char *name,
    const struct setting_value *v, struct failure *f)
{
	if (v->str == NULL || *v->str == '\0' || strcmp(v->str, "off") == 0)
		return 0;
	return fail(f, FAIL_USAGE, 0, name, "%s is not supported by carrier",
	    config_key_name(id));
}

/* --tls, --tls-starttls: TLS on or off, and how it starts. */
static int
store_tls(struct cli *st, enum config_key id, const char *name,
    const struct setting_value *v)
{
	if (id == CK_TLS) {
		st->tls = v->num ? YES : NO;
		return 0;
	}
	/* A later --tls-starttls replaces an earlier one. */
	if (st->implicit_by != NULL && strncmp(st->implicit_by, name,
	    strlen(name)) == 0)
		st->implicit_by = NULL;
	if (st->starttls_by != NULL && strncmp(st->starttls_by, name,
	    strlen(name)) == 0)
		st->starttls_by = NULL;
	st->o->tls_starttls = v->num ? YES : NO;
	if (v->num)
		st->starttls_by = "--tls-starttls=on";
	else
		st->implicit_by = "--tls-starttls=off";
	return 0;
}

/* How the message's header is edited: set_*_header,
   undisclosed_recipients, auto_from and allow_from_override. */
static void
store_header_setting(struct options *o, enum config_key id,
    const struct setting_value *v)
{
	enum tristate t = v->num == CH_OFF ? NO : YES;

	switch (id) {
	case CK_SET_FROM_HEADER:
		o->set_from_header = t;
		o->replace_from_header = v->num == CH_ON;
		break;
	case CK_SET_DATE_HEADER:
		o->set_date_header = t;
		break;
	case CK_SET_MSGID_HEADER:
		o->set_msgid_header = t;
		break;
	case CK_UNDISCLOSED_RECIPIENTS:
		o->undisclosed_recipients = v->num != 0;
		break;
	case CK_SET_TO_HEADER:
		o->set_to_header = v->num ? YES : NO;
		break;
	case CK_AUTO_FROM:
		o->auto_from = v->num ? YES : NO;
		break;
	default:	/* CK_ALLOW_FROM_OVERRIDE */
		o->allow_from_override = v->num ? YES : NO;
		break;
	}
}

/* The settings of msmtp's sendmail mode: the envelope and the log. */
static int
store_message_setting(struct cli *st, enum config_key id, const char *name,
    struct setting_value *v, struct failure *f)
{
	struct options *o = st->o;

	switch (id) {
	case CK_MAILDOMAIN:
		take_str(&o->maildomain, v);
		break;
	case CK_ALIASES:
		take_str(&o->aliases, v);
		break;
	case CK_LOGFILE_TIME_FORMAT:
		take_str(&o->log_time_format, v);
		break;
	case CK_SET_FROM_HEADER: case CK_SET_DATE_HEADER:
	case CK_SET_MSGID_HEADER: case CK_UNDISCLOSED_RECIPIENTS:
	case CK_SET_TO_HEADER:
	case CK_AUTO_FROM: case CK_ALLOW_FROM_OVERRIDE:
		store_header_setting(o, id, v);
		break;
	case CK_TLS: case CK_TLS_STARTTLS:
		return store_tls(st, id, name, v);
	case CK_SOCKET:
		if (v->str != NULL && v->str[0] != '\0' && v->str[0] != '/')
			return fail(f, FAIL_USAGE, 0, name, "'%s' is not an "
			    "absolute path", v->str);
		if (v->str != NULL && v->str[0] != '\0')
			take_str(&o->host, v);
		break;
	case CK_PASSWORDEVAL:
		take_str(&o->passwordeval, v);
		break;
	case CK_OAUTH2_CLIENT_SECRET_EVAL:
		take_str(&o->oauth2.client_secret_eval, v);
		break;
	case CK_TLS_HOST_OVERRIDE:
		take_str(&o->tls_host, v);
		break;
	case CK_NTLMDOMAIN: case CK_TLS_CRL_FILE:
	case CK_TLS_MIN_DH_PRIME_BITS: case CK_TLS_FORCE_SSLV3:
		return unsupported_setting(id, name, v, f);
	default:
		return fail(f, FAIL_INTERNAL, 0, name, "no field for the "
		    "setting %s", config_key_name(id));
	}
	return 0;
}

/* The parsed value into its field of struct options. */
/* The options field that a setting of text fills, or NULL. */
static char **
text_field(struct options *o, enum config_key id)
{
	switch (id) {
	case CK_SOURCE_IP:
		return &o->source;
	case CK_PROXY:
		return &o->proxy;
	case CK_PROXY_HOST:
		return &o->proxy_host;
	case CK_OAUTH2_PROVIDER:
		return &o->oauth2.provider;
	case CK_OAUTH2_CLIENT_ID:
		return &o->oauth2.client_id;
	case CK_OAUTH2_AUTHORIZATION_ENDPOINT:
		return &o->oauth2.authorization_endpoint;
	case CK_OAUTH2_DEVICE_ENDPOINT:
		return &o->oauth2.device_endpoint;
	case CK_OAUTH2_TOKEN_ENDPOINT:
		return &o->oauth2.token_endpoint;
	case CK_OAUTH2_SCOPE:
		return &o->oauth2.scope;
	case CK_OAUTH2_TOKEN_FILE:
		return &o->oauth2.token_file;
	case CK_DOMAIN:
		return &o->helo;
	case CK_USER:
		return &o->user;
	case CK_TLS_TRUST_FILE:
		return &o->tls_ca;
	case CK_TLS_CERT_FILE:
		return &o->tls_cert;
	case CK_TLS_KEY_FILE:
		return &o->tls_key;
	case CK_TLS_PRIORITIES:
		return &o->tls_priority;
	case CK_DSN_NOTIFY:
		return &o->dsn_notify;
	case CK_DSN_RETURN:
		return &o->dsn_return;
	case CK_FROM_FULL_NAME:
		return &o->fullname;
	case CK_LOGFILE:
		return &o->logfile;
	case CK_SYSLOG:
		return &o->syslog_facility;
	default:
		return NULL;
	}
}

static int
store_setting(struct cli *st, enum config_key id, const char *name,
    struct setting_value *v, struct failure *f)
{
	struct options *o = st->o;
	char **text = text_field(o, id);

	if (text != NULL) {
		take_str(text, v);
		return 0;
	}
	switch (id) {
	case CK_HOST:
		take_str(&o->host, v);
		st->host_port = (int)v->num;
		break;
	case CK_PORT:
		o->port = (int)v->num;
		break;
	case CK_PROXY_PORT:
		o->proxy_port = (int)v->num;
		break;
	case CK_TIMEOUT:
		/* off: 0, the RFC 5321 limits, as the account's `timeout
		   off`; the account cannot replace it (cli_keys). */
		o->timeout = (int)v->num;
		break;
	case CK_PROTOCOL:
		o->lmtp = v->num ? YES : NO;
		break;
	case CK_AUTH:
		if (v->auth.unsupported != NULL)
			return fail(f, FAIL_USAGE, 0, name, "%s is not "
			    "supported by carrier", v->auth.unsupported);
		o->auth = v->auth;
		break;
	case CK_ALLOW_PLAINTEXT_AUTH:
		o->allow_plaintext_auth = v->num != 0;
		break;
	case CK_INITIAL_RESPONSE:
		o->no_initial_response = v->num == 0;
		break;
	case CK_REQUIRE_TLS:
		o->require_tls = v->num != 0;
		break;
	case CK_TLS_FINGERPRINT:
		if (v->num != 0 && v->num != 32)
			return fail(f, FAIL_USAGE, 0, name, "SHA-1 and MD5 "
			    "fingerprints are not supported by carrier: use "
			    "the SHA256 fingerprint");
		take_str(&o->tls_fingerprint, v);
		break;
	case CK_TLS_CERTCHECK:
		o->tls_certcheck = v->num ? YES : NO;
		break;
	case CK_REMOVE_BCC_HEADERS:
		o->keep_bcc = v->num == 0;
		break;
	default:
		return store_message_setting(st, id, name, v, f);
	}
	return 0;
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
	   accepted and ignored (carrier(1) SENDMAIL COMPATIBILITY). */
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

/* "--verify: cannot be used with --noop" (64): the last of two options
   that cannot both hold would silently win. */
static int
conflict(const char *first, const char *second, struct failure *f)
{
	return fail(f, FAIL_USAGE, 0, second, "cannot be used with %s", first);
}

/* The option name of an action, for the message of a conflict. */
static const char *
action_name(int c)
{
	static const struct { int c; const char *name; } names[] = {
		{ OPT_HELP, "--help" }, { OPT_VERSION, "--version" },
		{ OPT_FEATURES, "--features" }, { OPT_VERIFY, "--verify" },
		{ OPT_EXPN, "--expn" }, { OPT_NOOP, "--noop" },
		{ OPT_SERVER_HELP, "--server-help" },
		{ OPT_COMMAND, "--command" }, { OPT_FLUSH, "--flush" },
		{ OPT_LIST_QUEUE, "--list-queue" },
		{ OPT_OAUTH2_LOGIN, "--oauth2-login" },
		{ OPT_OAUTH2_LOGOUT, "--oauth2-logout" },
		{ OPT_QUEUE_REMOVE, "--queue-remove" },
		{ OPT_RMQS, "--rmqs" }, { 'S', "--serverinfo" }, { 'q', "-q" },
		{ 'b', "-b" },
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].c == c)
			return names[i].name;
	return "?";
}

/* Two options that each pick what carrier does cannot both hold: the
   last would silently win.  The same one again (--command twice) may. */
static int
set_action(struct cli *st, int c, enum action a, struct failure *f)
{
	const char *name = action_name(c);

	if (st->action_by != NULL && st->o->action != a)
		return conflict(st->action_by, name, f);
	st->action_by = name;
	st->o->action = a;
	return 0;
}

/* The options that pick what carrier does: queries, queue work, help. */
static int
action_option(int c, const char *arg, struct cli *st, struct failure *f)
{
	static const struct { int c; enum action a; } plain[] = {
		{ OPT_HELP, ACT_SHOW_HELP }, { OPT_VERSION, ACT_SHOW_VERSION },
		{ OPT_FEATURES, ACT_FEATURES }, { OPT_NOOP, ACT_NOOP },
		{ OPT_LIST_QUEUE, ACT_LIST_QUEUE },
		{ OPT_OAUTH2_LOGIN, ACT_OAUTH2_LOGIN },
		{ OPT_OAUTH2_LOGOUT, ACT_OAUTH2_LOGOUT },
		{ 'S', ACT_SERVERINFO }, { 'q', ACT_FLUSH_QUEUE },
	};
	struct options *o = st->o;

	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
		if (plain[i].c == c)
			return set_action(st, c, plain[i].a, f);
	switch (c) {
	case OPT_VERIFY:
	case OPT_EXPN:
	case OPT_SERVER_HELP:
	case OPT_RMQS:
		if (arg != NULL && no_controls(action_name(c), arg, false,
		    f) < 0)
			return -1;
		if (c == OPT_RMQS && *arg == '\0')
			return fail(f, FAIL_USAGE, 0, "--rmqs", "needs a value: "
			    "host, @domain or #queue");
		o->query_arg = arg;
		return set_action(st, c, c == OPT_VERIFY ? ACT_VERIFY :
		    c == OPT_EXPN ? ACT_EXPN : c == OPT_RMQS ? ACT_RMQS :
		    ACT_HELP, f);
	case OPT_COMMAND:
		if (no_controls("--command", arg, false, f) < 0)
			return -1;
		if (*arg == '\0')
			return fail(f, FAIL_USAGE, 0, "--command", "empty");
		strlist_add(&o->commands, arg);
		return set_action(st, c, ACT_COMMAND, f);
	case OPT_FLUSH:
		if (arg != NULL && strcmp(arg, "due") != 0)
			return fail(f, FAIL_USAGE, 0, "--flush", "'%s' is not "
			    "due", arg);
		o->flush_due = arg != NULL;
		return set_action(st, c, ACT_FLUSH_QUEUE, f);
	case OPT_QUEUE_REMOVE:
		if (strpbrk(arg, "/.") == arg || strchr(arg, '/') != NULL)
			return fail(f, FAIL_USAGE, 0, "--queue-remove",
			    "'%s' is not a queue id", arg);
		o->query_arg = arg;
		return set_action(st, c, ACT_REMOVE_QUEUED, f);
	case OPT_CONFIGURE:
		return fail(f, FAIL_USAGE, 0, "--configure", "not supported by "
		    "carrier: write the account by hand (carrier.conf(5); "
		    "your provider documents its submission host and port)");
	case OPT_PASSWORD:
		return fail(f, FAIL_USAGE, 0, "--password", "never on the "
		    "command line, where every local user can read it: use "
		    "passwordeval, ~/.netrc or CARRIER_PASSWORD");
	default:
		return fail(f, FAIL_INTERNAL, 0, "options", "unhandled %d", c);
	}
}

/* The message sources: --file, --batch, --maildir, --mbox. */
static void
source_option(int c, const char *arg, struct options *o)
{
	if (c == OPT_FILE) {
		set_str(&o->file, arg);
		strlist_add(&o->batch_files, arg);
		return;
	}
	o->batch = true;
	if (c == OPT_MAILDIR)
		strlist_add(&o->maildirs, arg);
	else if (c == OPT_MBOX)
		strlist_add(&o->mboxes, arg);
}

/* carrier's own long options that are not settings of the table. */
static int
long_option(int c, const char *arg, struct cli *st, struct failure *f)
{
	static const char *const starttls_words[] = { "required", "optional",
	    NULL };
	struct options *o = st->o;

	switch (c) {
	case OPT_TLS_ON_CONNECT:
		o->tls = TLS_IMPLICIT;
		st->implicit_by = "--tls-on-connect";
		break;
	case OPT_STARTTLS:
		if (arg != NULL && !word_in(arg, starttls_words))
			return fail(f, FAIL_USAGE, 0, "--starttls", "'%s' is "
			    "not required or optional", arg);
		o->tls = arg && ascii_ieq(arg, "optional") ?
		    TLS_STARTTLS_OPTIONAL : TLS_STARTTLS_REQUIRED;
		st->starttls_by = "--starttls";
		break;
	case OPT_READ_ENVELOPE_FROM:
		o->read_envelope_from = true;
		break;
	case OPT_FILE:
	case OPT_BATCH:
	case OPT_MAILDIR:
	case OPT_MBOX:
		source_option(c, arg, o);
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
	case OPT_DEBUG:
		if (arg == NULL)
			o->debug = 1;
		else if (positive("--debug", arg, 2, &o->debug, f) < 0)
			return -1;
		break;
	case OPT_PROGRESS:
		o->progress = YES;
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
		st->queue_only_by = "--queue-only";
		break;
	case OPT_QUEUE_MAX_AGE:
		return positive("--queue-max-age", arg, 365, &o->queue_max_age,
		    f);
	default:
		return action_option(c, arg, st, f);
	}
	return 0;
}

static int
short_option(int c, const char *arg, struct cli *st, struct failure *f)
{
	struct options *o = st->o;

	switch (c) {
	case '4':
		o->family = AF_INET;
		break;
	case 'a':
		set_str(&o->account, arg);
		break;
	case 'd':
		if (o->debug < 2)
			o->debug++;
		break;
	case 'P':
		o->pretend = true;
		break;
	case 'q':
	case 'S':
		return action_option(c, arg, st, f);
	case 'X':
		return setting_option(st, setting_by_key("logfile"), "-X", arg,
		    f);
	case 'A':	/* msmtp ignores these sendmail flags too */
	case 'G':
	case 'm':
	case 'n':
	case 'O':
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
		return setting_option(st, setting_by_key("dsn_notify"), "-N",
		    arg, f);
	case 'o':
		if (strcmp(arg, "dq") == 0)
			st->queue_only_by = "-odq";
		return sendmail_o(arg, o, f);
	case 'R':
		return setting_option(st, setting_by_key("dsn_return"), "-R",
		    arg, f);
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

/* Is name one of carrier's own long options? */
static bool
own_option(const char *name)
{
	for (size_t i = 0; i < OWN_COUNT; i++)
		if (strcmp(own_longopts[i].name, name) == 0)
			return true;
	return false;
}

/* The option msmtp gives a configuration key: --tls-trust-file for
   tls_trust_file.  NULL for an old name that folds into another key, and
   for the secrets, which argv would show to every local user. */
static bool
key_option(const struct setting *row, char *out, size_t outlen)
{
	if (row->key == NULL || strcmp(config_key_name(row->id), row->key) != 0
	    || row->id == CK_PASSWORD || row->id == CK_OAUTH2_CLIENT_SECRET ||
	    strlen(row->key) >= outlen)
		return false;
	for (size_t i = 0; ; i++) {
		out[i] = row->key[i] == '_' ? '-' : row->key[i];
		if (out[i] == '\0')
			break;
	}
	return !own_option(out);
}

/* Does the setting's value say on (or auto) when it is left out, as in
   msmtp's --tls and --auth? */
static bool
value_may_be_left_out(const struct setting *row)
{
	switch (row->type) {
	case ST_BOOL: case ST_AUTH: case ST_SYSLOG: case ST_HDR3: case ST_HDR2:
		return true;
	default:
		return false;
	}
}

static void
add_longopt(struct option *all, size_t *n, size_t cap, const char *name,
    int has_arg, int val)
{
	if (*n == cap - 1)
		abort();	/* the table outgrew the array */
	all[*n] = (struct option){ name, has_arg, NULL, val };
	(*n)++;
}

/* getopt's table: carrier's own options, then every setting under
   msmtp's name for it (--KEY with '-' for '_') and under carrier's own
   name where it has one, with OPT_SETTING + its row as the value. */
static const struct option *
longopts(void)
{
	static struct option all[OWN_COUNT + 160 + 1];
	static char names[128][40];
	static size_t n;
	const size_t cap = sizeof all / sizeof all[0];

	if (n > 0)
		return all;
	if (settings_count > sizeof names / sizeof names[0])
		abort();
	memcpy(all, own_longopts, sizeof own_longopts);
	n = OWN_COUNT;
	for (size_t i = 0; i < settings_count; i++) {
		const struct setting *row = &settings[i];
		int val = OPT_SETTING + (int)i;
		bool keyed = key_option(row, names[i], sizeof names[i]);

		if (keyed)
			add_longopt(all, &n, cap, names[i],
			    value_may_be_left_out(row) ? optional_argument :
			    required_argument, val);
		if (row->option != NULL && !(keyed &&
		    strcmp(row->option, names[i]) == 0))
			add_longopt(all, &n, cap, row->option,
			    row->fixed == NULL ? required_argument :
			    row->value_optional ? optional_argument :
			    no_argument, val);
	}
	memset(&all[n], 0, sizeof all[n]);
	return all;
}

/* Is w the value of a valueless --auth rather than a recipient?  Any
   word without '@' (a misspelt mechanism is then refused, not mailed). */
static bool
auth_words(const char *w)
{
	return *w != '\0' && *w != '-' && strchr(w, '@') == NULL;
}

/* One option getopt returned. */
static int
one_option(int c, int idx, const char *arg, struct cli *st,
    struct failure *f)
{
	if (c >= OPT_SETTING) {
		const struct setting *row = &settings[c - OPT_SETTING];
		char name[64];

		/* Named as it was written: --tls-ca or --tls-trust-file. */
		(void)snprintf(name, sizeof name, "--%s", longopts()[idx].name);
		return setting_option(st, row, name, arg, f);
	}
	if (c >= 256)
		return long_option(c, arg, st, f);
	return short_option(c, arg, st, f);
}

/* What two options decide together: the TLS mode of --tls and
   --tls-starttls, and the options that cannot both hold. */
static int
settle(struct cli *st, struct failure *f)
{
	struct options *o = st->o;

	if (st->implicit_by != NULL && st->starttls_by != NULL)
		return conflict(st->implicit_by, st->starttls_by, f);
	if (st->tls == NO && (st->implicit_by != NULL ||
	    (st->starttls_by != NULL && o->tls != TLS_UNSET)))
		return conflict("--tls=off", st->implicit_by != NULL ?
		    st->implicit_by : st->starttls_by, f);
	if (st->tls == NO)
		o->tls = TLS_OFF;
	else if (st->tls == YES && o->tls == TLS_UNSET)
		o->tls = o->tls_starttls == NO ? TLS_IMPLICIT :
		    TLS_STARTTLS_REQUIRED;
	if (st->queue_only_by != NULL && o->action == ACT_FLUSH_QUEUE)
		return conflict(st->queue_only_by, st->action_by != NULL ?
		    st->action_by : "-q", f);
	if (o->pretend && st->action_by != NULL)
		return conflict("--pretend", st->action_by, f);
	return 0;
}

/* The words after the options: recipients.  Under the name sendmail,
   after the first operand a word like "-oi" or "--log=F" is neither a
   flag nor, by mistake or by design, quietly an address: only after "--"
   may an address begin with '-'. */
static int
operands(int argc, char **argv, bool sendmail_name, bool dashdash,
    struct options *o, struct failure *f)
{
	for (; optind < argc; optind++) {
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
	struct cli st = { .o = o, .tls = UNSET };
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
	    longopts(), &idx)) != -1) {
		if (c == '?' || c == ':')
			return bad_option(c, argv, sendmail_name, f);
		/* "--auth PLAIN" as carrier always took it, "--auth" alone
		   as msmtp does: the next word is the value unless it is
		   an address. */
		if (c >= OPT_SETTING && optarg == NULL && optind < argc &&
		    settings[c - OPT_SETTING].type == ST_AUTH &&
		    auth_words(argv[optind]))
			optarg = argv[optind++];
		last_arg = optarg;
		if (one_option(c, idx, optarg, &st, f) < 0)
			return -1;
		if (c == 'C' && sendmail_name)
			o->config_from_caller = true;
	}
	/* --port wins over the port of --host HOST:PORT, in any order. */
	if (o->port == 0)
		o->port = st.host_port;
	if (settle(&st, f) < 0)
		return -1;
	/* Was "--" the end of the flags (and not the value of one)? */
	bool dashdash = optind > 1 && strcmp(argv[optind - 1], "--") == 0 &&
	    argv[optind - 1] != last_arg;
	return operands(argc, argv, sendmail_name, dashdash, o, f);
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
"  --lmtp                  speak LMTP (a Unix socket does, unless\n"
"                          --protocol=smtp)\n"
"  --helo NAME             name for EHLO/LHLO (the local host name)\n"
"  --timeout SECONDS       limit for every network wait\n"
"  --source HOST[:PORT]    local address to connect from\n"
"  --proxy socks5[h]://[USER@]HOST[:PORT]   through a SOCKS5 proxy\n"
"  --proxy-host HOST  --proxy-port N      msmtp's form (socks5h)\n"
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
"  --require-tls           REQUIRETLS: only over verified TLS, all the way\n"
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
"  --flush[=due], -q       deliver what is queued (=due: what is due);\n"
"  --list-queue, -bp       list the queue\n"
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
