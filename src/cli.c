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
	OPT_TLS = 256, OPT_STARTTLS, OPT_FILE, OPT_MAIL_OPTION,
	OPT_RCPT_OPTION, OPT_SMTPUTF8, OPT_DEBUG, OPT_PROGRESS, OPT_REPORT,
	OPT_ACCOUNT, OPT_HELP, OPT_VERSION, OPT_FEATURES, OPT_VERIFY,
	OPT_EXPN, OPT_NOOP, OPT_SERVER_HELP, OPT_COMMAND, OPT_SENDMAIL,
	OPT_QUEUE, OPT_QUEUE_ONLY, OPT_FLUSH, OPT_LIST_QUEUE,
	OPT_QUEUE_REMOVE, OPT_QUEUE_MAX_AGE, OPT_BATCH, OPT_MAILDIR,
	OPT_MBOX, OPT_OAUTH2_LOGIN, OPT_OAUTH2_LOGOUT,
	OPT_SETTING = 1024,	/* + the row of the settings table */
};

static const struct option own_longopts[] = {
	{ "tls", no_argument, NULL, OPT_TLS },
	{ "starttls", optional_argument, NULL, OPT_STARTTLS },
	{ "from", required_argument, NULL, 'f' },
	{ "read-recipients", no_argument, NULL, 't' },
	{ "file", required_argument, NULL, OPT_FILE },
	{ "mail-option", required_argument, NULL, OPT_MAIL_OPTION },
	{ "rcpt-option", required_argument, NULL, OPT_RCPT_OPTION },
	{ "smtputf8", no_argument, NULL, OPT_SMTPUTF8 },
	{ "debug", optional_argument, NULL, OPT_DEBUG },
	{ "verbose", no_argument, NULL, 'v' },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
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
	{ "flush", optional_argument, NULL, OPT_FLUSH },
	{ "list-queue", no_argument, NULL, OPT_LIST_QUEUE },
	{ "queue-remove", required_argument, NULL, OPT_QUEUE_REMOVE },
	{ "oauth2-login", no_argument, NULL, OPT_OAUTH2_LOGIN },
	{ "oauth2-logout", no_argument, NULL, OPT_OAUTH2_LOGOUT },
};
#define OWN_COUNT	(sizeof own_longopts / sizeof own_longopts[0])

/* What one parse carries besides the options. */
struct cli {
	struct options *o;
	int host_port;		/* the PORT of --host HOST:PORT, 0: none */
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
	char **strs[] = { &o->log_time_format, &o->queue_dir, &o->host,
	    &o->helo, &o->source, &o->proxy, &o->proxy_host, &o->tls_ca, &o->tls_cert, &o->tls_key,
	    &o->tls_fingerprint, &o->tls_priority, &o->tls_host, &o->user,
	    &o->passwordeval, &o->from, &o->file, &o->fullname,
	    &o->dsn_notify, &o->dsn_return, &o->dsn_envid, &o->body_type,
	    &o->logfile, &o->syslog_facility, &o->config_file,
	    &o->config_used, &o->account, &o->maildomain, &o->aliases };

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

	if (arg == NULL)
		arg = row->fixed;
	if ((e = setting_parse(row, arg, &v, &hint)) != SE_OK) {
		char msg[512];

		setting_error_text(e, NULL, arg, hint, msg, sizeof msg);
		return fail(f, FAIL_USAGE, 0, name, "%s", msg);
	}
	rc = store_setting(st, row->id, name, &v, f);
	setting_value_free(&v, row->id);
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

/* The parsed value into its field of struct options. */
static int
store_setting(struct cli *st, enum config_key id, const char *name,
    struct setting_value *v, struct failure *f)
{
	struct options *o = st->o;

	switch (id) {
	case CK_HOST:
		take_str(&o->host, v);
		st->host_port = (int)v->num;
		break;
	case CK_PORT:
		o->port = (int)v->num;
		break;
	case CK_SOURCE_IP:
		take_str(&o->source, v);
		break;
	case CK_PROXY:
		take_str(&o->proxy, v);
		break;
	case CK_PROXY_HOST:
		take_str(&o->proxy_host, v);
		break;
	case CK_PROXY_PORT:
		o->proxy_port = (int)v->num;
		break;
	case CK_OAUTH2_PROVIDER:
		take_str(&o->oauth2.provider, v);
		break;
	case CK_OAUTH2_CLIENT_ID:
		take_str(&o->oauth2.client_id, v);
		break;
	case CK_OAUTH2_AUTHORIZATION_ENDPOINT:
		take_str(&o->oauth2.authorization_endpoint, v);
		break;
	case CK_OAUTH2_DEVICE_ENDPOINT:
		take_str(&o->oauth2.device_endpoint, v);
		break;
	case CK_OAUTH2_TOKEN_ENDPOINT:
		take_str(&o->oauth2.token_endpoint, v);
		break;
	case CK_OAUTH2_SCOPE:
		take_str(&o->oauth2.scope, v);
		break;
	case CK_OAUTH2_TOKEN_FILE:
		take_str(&o->oauth2.token_file, v);
		break;
	case CK_TIMEOUT:
		/* 0 means "not given" in struct options, so that the
		   configuration cannot tell `off` from nothing. */
		if (v->num == 0)
			return fail(f, FAIL_USAGE, 0, name, "invalid value "
			    "'off' (a number of seconds, 1 to %d)",
			    SETTING_TIMEOUT_MAX);
		o->timeout = (int)v->num;
		break;
	case CK_PROTOCOL:
		o->lmtp = v->num ? YES : NO;
		break;
	case CK_DOMAIN:
		set_str(&o->helo, v->str);
		break;
	case CK_AUTH:
		if (v->auth.unsupported != NULL)
			return fail(f, FAIL_USAGE, 0, name, "%s is not "
			    "supported by carrier", v->auth.unsupported);
		o->auth = v->auth;
		break;
	case CK_USER:
		set_str(&o->user, v->str);
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
	case CK_TLS_TRUST_FILE:
		set_str(&o->tls_ca, v->str);
		break;
	case CK_TLS_CERT_FILE:
		set_str(&o->tls_cert, v->str);
		break;
	case CK_TLS_KEY_FILE:
		set_str(&o->tls_key, v->str);
		break;
	case CK_TLS_PRIORITIES:
		set_str(&o->tls_priority, v->str);
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
	case CK_DSN_NOTIFY:
		take_str(&o->dsn_notify, v);
		break;
	case CK_DSN_RETURN:
		take_str(&o->dsn_return, v);
		break;
	case CK_LOGFILE:
		set_str(&o->logfile, v->str);
		break;
	case CK_SYSLOG:
		take_str(&o->syslog_facility, v);
		break;
	default:
		return fail(f, FAIL_INTERNAL, 0, name, "no field for the "
		    "setting %s", config_key_name(id));
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

/* The options that pick what carrier does: queries, queue work, help. */
static int
action_option(int c, const char *arg, struct options *o, struct failure *f)
{
	switch (c) {
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
	case OPT_FLUSH:
		if (arg != NULL && strcmp(arg, "due") != 0)
			return fail(f, FAIL_USAGE, 0, "--flush", "'%s' is not "
			    "due", arg);
		o->action = ACT_FLUSH_QUEUE;
		o->flush_due = arg != NULL;
		break;
	case OPT_LIST_QUEUE:
		o->action = ACT_LIST_QUEUE;
		break;
	case OPT_OAUTH2_LOGIN:
		o->action = ACT_OAUTH2_LOGIN;
		break;
	case OPT_OAUTH2_LOGOUT:
		o->action = ACT_OAUTH2_LOGOUT;
		break;
	case OPT_QUEUE_REMOVE:
		if (strpbrk(arg, "/.") == arg || strchr(arg, '/') != NULL)
			return fail(f, FAIL_USAGE, 0, "--queue-remove",
			    "'%s' is not a queue id", arg);
		o->action = ACT_REMOVE_QUEUED;
		o->query_arg = arg;
		break;
	default:
		return fail(f, FAIL_INTERNAL, 0, "options", "unhandled %d", c);
	}
	return 0;
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
long_option(int c, const char *arg, struct options *o, struct failure *f)
{
	static const char *const starttls_words[] = { "required", "optional",
	    NULL };

	switch (c) {
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
		break;
	case OPT_QUEUE_MAX_AGE:
		return positive("--queue-max-age", arg, 365, &o->queue_max_age,
		    f);
	default:
		return action_option(c, arg, o, f);
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
		return sendmail_o(arg, o, f);
	case 'q':
		o->action = ACT_FLUSH_QUEUE;
		break;
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

/* getopt's table: carrier's own options, then every setting that has a
   long option, with OPT_SETTING + its row as the value. */
static const struct option *
longopts(void)
{
	static struct option all[OWN_COUNT + 64 + 1];
	static size_t n;

	if (n > 0)
		return all;
	memcpy(all, own_longopts, sizeof own_longopts);
	n = OWN_COUNT;
	for (size_t i = 0; i < settings_count; i++) {
		const struct setting *row = &settings[i];

		if (row->option == NULL)
			continue;
		if (n == sizeof all / sizeof all[0] - 1)
			abort();	/* the table outgrew the array */
		all[n].name = row->option;
		all[n].has_arg = row->fixed == NULL ? required_argument :
		    row->value_optional ? optional_argument : no_argument;
		all[n].flag = NULL;
		all[n].val = OPT_SETTING + (int)i;
		n++;
	}
	memset(&all[n], 0, sizeof all[n]);
	return all;
}

/* One option getopt returned. */
static int
one_option(int c, const char *arg, struct cli *st, struct failure *f)
{
	if (c >= OPT_SETTING) {
		const struct setting *row = &settings[c - OPT_SETTING];
		char name[64];

		(void)snprintf(name, sizeof name, "--%s", row->option);
		return setting_option(st, row, name, arg, f);
	}
	if (c >= 256)
		return long_option(c, arg, st->o, f);
	return short_option(c, arg, st, f);
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
	struct cli st = { o, 0 };
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
		last_arg = optarg;
		if (one_option(c, optarg, &st, f) < 0)
			return -1;
		if (c == 'C' && sendmail_name)
			o->config_from_caller = true;
	}
	/* --port wins over the port of --host HOST:PORT, in any order. */
	if (o->port == 0)
		o->port = st.host_port;
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
"  --lmtp                  speak LMTP\n"
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
