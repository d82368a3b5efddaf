/*
 * test_settings.c: the table of settings (settings.c): each value type's
 * parser, and the same value given on the command line (cli_parse) and in
 * the configuration file (config_parse + config_apply) ending in the same
 * typed field of struct options, or refused with the same error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli.h"
#include "config.h"
#include "settings.h"

/* ---- the table ---- */

static void
test_table(void)
{
	int dup = 0, nokey = 0;

	for (size_t i = 0; i < settings_count; i++) {
		for (size_t j = i + 1; j < settings_count; j++) {
			if (settings[i].key && settings[j].key &&
			    strcmp(settings[i].key, settings[j].key) == 0)
				dup++;
			if (settings[i].option && settings[j].option &&
			    strcmp(settings[i].option, settings[j].option) == 0)
				dup++;
		}
		if (settings[i].key == NULL && settings[i].option == NULL)
			nokey++;
		if (settings[i].help == NULL || settings[i].help[0] == '\0')
			nokey++;
	}
	CHECK(dup == 0, "no configuration key and no option twice in the table");
	CHECK(nokey == 0, "every row has a key or an option, and a help line");
	for (int k = 0; k < CK_COUNT; k++)
		if (strcmp(config_key_name((enum config_key)k), "?") == 0)
			nokey++;
	CHECK(nokey == 0, "every setting has a configuration key");
	CHECK_STR(config_key_name(CK_TIMEOUT), "timeout",
	    "the first row names the setting (not connect_timeout)");
	CHECK(setting_by_key("connect_timeout")->id == CK_TIMEOUT &&
	    setting_by_option("timeout")->id == CK_TIMEOUT &&
	    setting_by_option("lmtp")->id == CK_PROTOCOL &&
	    setting_by_key("Host") == NULL && setting_by_option("nope") == NULL,
	    "lookup by key (case matters) and by option");
	CHECK(setting_by_option("password") == NULL &&
	    setting_by_option("passwordeval") == NULL,
	    "no password on the command line (argv is visible)");
}

/* ---- each type's parser ---- */

struct pcase {
	const char *key;
	const char *arg;
	enum setting_error want;
	const char *str;	/* when SE_OK */
	long num;
};

static void
test_parsers(void)
{
	static const struct pcase cases[] = {
		{ "host", "mx.example", SE_OK, "mx.example", 0 },
		{ "host", "mx.example:2525", SE_OK, "mx.example", 2525 },
		{ "host", "[::1]:26", SE_OK, "::1", 26 },
		{ "host", "[::1]", SE_OK, "::1", 0 },
		{ "host", "::1", SE_OK, "::1", 0 },
		{ "host", "/run/lmtp", SE_OK, "/run/lmtp", 0 },
		{ "host", "h:0", SE_INVALID, NULL, 0 },
		{ "host", "h:65536", SE_INVALID, NULL, 0 },
		{ "host", "h:", SE_INVALID, NULL, 0 },
		{ "host", "h:25x", SE_INVALID, NULL, 0 },
		{ "host", ":25", SE_INVALID, NULL, 0 },
		{ "host", "[::1", SE_INVALID, NULL, 0 },
		{ "host", "[::1]x", SE_INVALID, NULL, 0 },
		{ "host", "[]:25", SE_INVALID, NULL, 0 },
		{ "host", "", SE_EMPTY, NULL, 0 },
		{ "host", "h\r\nRSET", SE_CONTROL, NULL, 0 },
		{ "source_ip", "192.0.2.1:2000", SE_OK, "192.0.2.1:2000", 0 },
		{ "source_ip", "", SE_OK, "", 0 },
		{ "source_ip", "192.0.2.1:99999", SE_INVALID, NULL, 0 },
		{ "port", "25", SE_OK, "25", 25 },
		{ "port", "+25", SE_OK, "25", 25 },
		{ "port", "025", SE_INVALID, NULL, 0 },
		{ "port", "65536", SE_INVALID, NULL, 0 },
		{ "port", "", SE_EMPTY, NULL, 0 },
		{ "proxy_port", "", SE_OK, "", 0 },
		{ "timeout", "86400", SE_OK, "86400", 86400 },
		{ "timeout", "86401", SE_INVALID, NULL, 0 },
		{ "timeout", "OFF", SE_OK, "off", 0 },
		{ "timeout", "0", SE_INVALID, NULL, 0 },
		{ "protocol", "LMTP", SE_OK, "lmtp", 1 },
		{ "protocol", "esmtp", SE_INVALID, NULL, 0 },
		{ "domain", "client.test", SE_OK, "client.test", 0 },
		{ "domain", "client test", SE_BLANK, NULL, 0 },
		{ "domain", "a\rb", SE_CONTROL, NULL, 0 },
		{ "user", "a\nb", SE_OK, "a\nb", 0 },
		{ "password", "a\x01" "b", SE_OK, "a\x01" "b", 0 },
		{ "auth", "", SE_OK, "on", 0 },
		{ "auth", "Off", SE_OK, "off", 0 },
		{ "auth", "plain, login", SE_OK, "PLAIN, LOGIN", 0 },
		{ "auth", "plain,bogus", SE_INVALID, NULL, 0 },
		{ "auth", ",", SE_INVALID, NULL, 0 },
		{ "tls", "ON", SE_OK, "on", 1 },
		{ "tls", "yes", SE_INVALID, NULL, 0 },
		{ "keepbcc", "", SE_OK, "off", 0 },
		{ "tls_nocertcheck", "", SE_OK, "off", 0 },
		{ "tls_nocertcheck", "off", SE_NOARG, NULL, 0 },
		{ "tls_fingerprint", "sha256:00112233445566778899aabbccddeeff"
		    "00112233445566778899aabbccddeeff", SE_OK, "SHA256:0011223344"
		    "5566778899aabbccddeeff00112233445566778899aabbccddeeff", 32 },
		{ "tls_fingerprint", "SHA256:0011", SE_INVALID, NULL, 0 },
		{ "dsn_notify", "success,Delay", SE_OK, "SUCCESS,DELAY", 0 },
		{ "dsn_notify", "never", SE_OK, "NEVER", 0 },
		{ "dsn_notify", "off", SE_OK, "", 0 },
		{ "dsn_notify", "never,success", SE_INVALID, NULL, 0 },
		{ "dsn_notify", "", SE_EMPTY, NULL, 0 },
		{ "dsn_return", "headers", SE_OK, "HDRS", 0 },
		{ "dsn_return", "hdrs", SE_OK, "HDRS", 0 },
		{ "dsn_return", "Full", SE_OK, "FULL", 0 },
		{ "dsn_return", "body", SE_INVALID, NULL, 0 },
		{ "set_from_header", "on", SE_OK, "on", CH_ON },
		{ "set_date_header", "on", SE_INVALID, NULL, 0 },
		{ "add_missing_date_header", "on", SE_OK, "auto", CH_AUTO },
		{ "syslog", "", SE_OK, "LOG_USER", 0 },
		{ "syslog", "on", SE_OK, "LOG_USER", 0 },
		{ "syslog", "daemon", SE_OK, "LOG_DAEMON", 0 },
		{ "syslog", "log_local7", SE_OK, "LOG_LOCAL7", 0 },
		{ "syslog", "off", SE_OK, "", 0 },
		{ "syslog", "kern", SE_INVALID, NULL, 0 },
		{ "syslog", "local8", SE_INVALID, NULL, 0 },
	};
	int bad = 0;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct pcase *c = &cases[i];
		const struct setting *s = setting_by_key(c->key);
		struct setting_value v;
		const char *hint;
		enum setting_error e;

		if (s == NULL) {
			printf("#   no key %s\n", c->key);
			bad++;
			continue;
		}
		e = setting_parse(s, c->arg, &v, &hint);
		if (e != c->want || (e == SE_OK && (v.str == NULL ||
		    strcmp(v.str, c->str) != 0 || v.num != c->num)) ||
		    (e != SE_OK && v.str != NULL)) {
			printf("#   %s '%s': got %d [%s] %ld, want %d [%s] %ld\n",
			    c->key, c->arg, e, v.str ? v.str : "(null)", v.num,
			    c->want, c->str ? c->str : "(null)", c->num);
			bad++;
		}
		setting_value_free(&v, s->id);
	}
	CHECK(bad == 0, "every value type parses and refuses as documented "
	    "(%d bad)", bad);
}

static void
test_auth_list(void)
{
	const struct setting *s = setting_by_key("auth");
	struct setting_value v;
	const char *hint;

	CHECK(setting_parse(s, "scram-sha-256,PLAIN plain\tEXTERNAL", &v,
	    &hint) == SE_OK && v.auth.mode == AUTH_LIST && v.auth.n == 3 &&
	    v.auth.mech[0] == SASL_SCRAM_SHA_256 &&
	    v.auth.mech[1] == SASL_PLAIN && v.auth.mech[2] == SASL_EXTERNAL &&
	    v.auth.unsupported == NULL,
	    "auth: commas or blanks, any case, a name twice tried once");
	CHECK(auth_first_needing_user(&v.auth) == SASL_SCRAM_SHA_256 &&
	    auth_may_need_secret(&v.auth), "SCRAM needs a user and a secret");
	setting_value_free(&v, s->id);
	CHECK(setting_parse(s, "external", &v, &hint) == SE_OK &&
	    auth_first_needing_user(&v.auth) == SASL_NONE &&
	    !auth_may_need_secret(&v.auth),
	    "EXTERNAL alone: no user, no secret");
	setting_value_free(&v, s->id);
	CHECK(setting_parse(s, "plain,gssapi", &v, &hint) == SE_OK &&
	    v.auth.n == 1 && strcmp(v.auth.unsupported, "GSSAPI") == 0,
	    "a mechanism msmtp knows and carrier lacks is parsed, marked");
	setting_value_free(&v, s->id);
	CHECK(setting_parse(s, "off", &v, &hint) == SE_OK &&
	    v.auth.mode == AUTH_OFF && !auth_may_need_secret(&v.auth),
	    "auth off");
	setting_value_free(&v, s->id);
}

static void
test_hostport(void)
{
	char *h = NULL;
	int port = -1;

	CHECK(hostport_parse("[2001:db8::1]:587", &h, &port) &&
	    strcmp(h, "2001:db8::1") == 0 && port == 587, "[V6]:PORT");
	free(h);
	CHECK(hostport_parse("2001:db8::1", &h, &port) &&
	    strcmp(h, "2001:db8::1") == 0 && port == 0, "bare V6: no port");
	free(h);
	CHECK(hostport_parse("/tmp/a:b", &h, &port) &&
	    strcmp(h, "/tmp/a:b") == 0 && port == 0, "a socket path whole");
	free(h);
	h = NULL;
	CHECK(!hostport_parse("h:-1", &h, &port) && h == NULL,
	    "a negative port (atoi took it before)");
	CHECK(!hostport_parse("h:+", &h, &port) && h == NULL, "a sign alone");
}

/* ---- the same value from both sides ---- */

static struct failure F;

/* argv of one carrier option into *o.  Returns cli_parse's result. */
static int
from_cli(const char *opt, const char *opt2, struct options *o)
{
	char *argv[] = { (char *)"carrier", (char *)opt, (char *)opt2, NULL };

	options_init(o);
	memset(&F, 0, sizeof F);
	return cli_parse(opt2 ? 3 : 2, argv, "carrier", o, &F);
}

/* The configuration line `line` in account "a", applied to *o. */
static int
from_config(const char *line, struct options *o)
{
	char text[512];
	struct config c;
	const struct config_account *a;
	int rc;

	options_init(o);
	memset(&F, 0, sizeof F);
	(void)snprintf(text, sizeof text, "account a\n%s\n", line);
	if (config_parse(text, strlen(text), "t.rc", &c, &F) != 0)
		return -1;
	o->account = xstrdup("a");
	rc = config_select(&c, o, &a, &F);
	if (rc == 0)
		rc = config_apply(&c, a, o, &F);
	config_free(&c);
	return rc;
}

static bool
same_auth(const struct auth_setting *a, const struct auth_setting *b)
{
	if (a->mode != b->mode || a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->mech[i] != b->mech[i])
			return false;
	return true;
}

static bool
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* Both sides accept and give the same typed fields. */
static bool
same_fields(const struct options *a, const struct options *b)
{
	return same_str(a->host, b->host) && a->port == b->port &&
	    a->timeout == b->timeout && a->lmtp == b->lmtp &&
	    same_str(a->helo, b->helo) && same_auth(&a->auth, &b->auth) &&
	    same_str(a->user, b->user) &&
	    same_str(a->syslog_facility, b->syslog_facility) &&
	    same_str(a->dsn_notify, b->dsn_notify) &&
	    same_str(a->dsn_return, b->dsn_return) &&
	    same_str(a->tls_fingerprint, b->tls_fingerprint) &&
	    same_str(a->source, b->source) &&
	    a->tls_certcheck == b->tls_certcheck && a->keep_bcc == b->keep_bcc &&
	    a->allow_plaintext_auth == b->allow_plaintext_auth &&
	    a->no_initial_response == b->no_initial_response;
}

struct both {
	const char *opt, *opt2;	/* argv[1], argv[2] */
	const char *line;	/* the configuration line */
	const char *name;
};

static void
test_both_sides(void)
{
	static const struct both cases[] = {
		{ "--syslog=daemon", NULL, "syslog daemon",
		    "syslog facility daemon from both sides" },
		{ "--syslog", NULL, "syslog",
		    "syslog without a value: LOG_USER from both sides" },
		{ "--syslog=on", NULL, "syslog on", "syslog on" },
		{ "--syslog=LOG_LOCAL3", NULL, "syslog local3", "syslog local3" },
		{ "-N", "success,delay", "dsn_notify success,delay",
		    "DSN NOTIFY upper case from both sides" },
		{ "-R", "hdrs", "dsn_return hdrs",
		    "DSN RET=HDRS from both sides" },
		{ "-R", "full", "dsn_return FULL", "DSN RET=FULL" },
		{ "--timeout=86400", NULL, "timeout 86400",
		    "the longest timeout from both sides" },
		{ "--auth=plain,login", NULL, "auth plain,login",
		    "an AUTH list from both sides" },
		{ "--auth=on", NULL, "auth on", "auth on" },
		{ "--auth=off", NULL, "auth off", "auth off" },
		{ "--host=mx.example:2525", NULL, "host mx.example:2525",
		    "HOST:PORT split the same way" },
		{ "--host=[::1]:26", NULL, "host [::1]:26", "[V6]:PORT" },
		{ "--host=/run/lmtp", NULL, "host /run/lmtp", "a socket path" },
		{ "--port=2525", NULL, "port 2525", "port" },
		{ "--lmtp", NULL, "protocol lmtp", "--lmtp is protocol lmtp" },
		{ "--helo=client.test", NULL, "domain client.test",
		    "--helo is domain" },
		{ "--user=joe", NULL, "user joe", "user" },
		{ "--source=192.0.2.1:2000", NULL, "source_ip 192.0.2.1:2000",
		    "source address with a port" },
		{ "--tls-fingerprint=SHA256:00112233445566778899aabbccddeeff"
		    "00112233445566778899aabbccddeeff", NULL,
		    "tls_fingerprint 00112233445566778899aabbccddeeff0011223344"
		    "5566778899aabbccddeeff", "fingerprint, with or without "
		    "SHA256:" },
		{ "--tls-no-verify", NULL, "tls_certcheck off",
		    "--tls-no-verify is tls_certcheck off" },
		{ "--keep-bcc", NULL, "remove_bcc_headers off",
		    "--keep-bcc is remove_bcc_headers off" },
		{ "--allow-plaintext-auth", NULL, "allow_plaintext_auth on",
		    "--allow-plaintext-auth" },
		{ "--no-initial-response", NULL, "initial_response off",
		    "--no-initial-response is initial_response off" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct options a, b;
		int ra = from_cli(cases[i].opt, cases[i].opt2, &a);
		char fa[sizeof F.what + sizeof F.detail + 4];

		(void)snprintf(fa, sizeof fa, "%s: %s", F.what, F.detail);
		int rb = from_config(cases[i].line, &b);

		CHECK(ra == 0 && rb == 0 && same_fields(&a, &b), "%s (cli %d "
		    "%s; config %d %s: %s)", cases[i].name, ra, ra ? fa : "",
		    rb, rb ? F.what : "", rb ? F.detail : "");
		options_free(&a);
		options_free(&b);
	}
}

/* The values the issue named, checked field by field. */
static void
test_named_fields(void)
{
	struct options o;

	CHECK(from_cli("--syslog", NULL, &o) == 0 &&
	    strcmp(o.syslog_facility, "LOG_USER") == 0,
	    "--syslog alone is LOG_USER, as msmtp's syslog on");
	options_free(&o);
	CHECK(from_config("dsn_return hdrs", &o) == 0 &&
	    strcmp(o.dsn_return, "HDRS") == 0,
	    "dsn_return hdrs from the configuration: HDRS on the wire");
	options_free(&o);
	CHECK(from_config("host mx.example:2525", &o) == 0 &&
	    strcmp(o.host, "mx.example") == 0 && o.port == 2525,
	    "host H:P from the configuration: host and port");
	options_free(&o);
	CHECK(from_config("host mx.example:2525\nport 587", &o) == 0 &&
	    o.port == 587, "the configuration's port wins over its H:P");
	options_free(&o);
	CHECK(from_cli("--port=26", "--host=h:25", &o) == 0 &&
	    strcmp(o.host, "h") == 0 && o.port == 26,
	    "--port wins over --host H:P, in any order");
	options_free(&o);
	CHECK(from_cli("--auth=EXTERNAL", NULL, &o) == 0 &&
	    o.auth.mode == AUTH_LIST && o.auth.n == 1 &&
	    o.auth.mech[0] == SASL_EXTERNAL, "--auth as a typed list");
	options_free(&o);
}

/* ---- bad values: the same error from both sides ---- */

struct badcase {
	const char *opt;	/* --OPTION or a sendmail flag */
	const char *key;
	const char *value;
};

static void
test_bad_both_sides(void)
{
	static const struct badcase cases[] = {
		{ "--timeout", "timeout", "86401" },
		{ "--timeout", "timeout", "0" },
		{ "--port", "port", "65536" },
		{ "--host", "host", "mx.example:0" },
		{ "--host", "host", "mx.example:99999" },
		{ "--host", "host", "[::1" },
		{ "--auth", "auth", "plain,bogus" },
		{ "--syslog", "syslog", "kern" },
		{ "--source", "source_ip", "192.0.2.1:x" },
		{ "--tls-fingerprint", "tls_fingerprint", "SHA256:00" },
		{ "-N", "dsn_notify", "sometimes" },
		{ "-R", "dsn_return", "body" },
		{ "--helo", "domain", "client test" },
		{ "--helo", "domain", "a\rb" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct badcase *c = &cases[i];
		struct options o;
		char opt[128], line[128], cli_detail[sizeof F.detail], want[512];
		bool shortflag = c->opt[1] != '-';
		int ra, rb;

		(void)snprintf(opt, sizeof opt, "%s=%s", c->opt, c->value);
		ra = shortflag ? from_cli(c->opt, c->value, &o) :
		    from_cli(opt, NULL, &o);
		bool cli_ok = ra == -1 && F.class == FAIL_USAGE &&
		    strcmp(F.what, c->opt) == 0;
		(void)snprintf(cli_detail, sizeof cli_detail, "%s", F.detail);
		options_free(&o);
		(void)snprintf(line, sizeof line, "%s %s", c->key, c->value);
		rb = from_config(line, &o);
		bool cfg_ok = rb == -1 && F.class == FAIL_CONFIG &&
		    strcmp(F.what, "t.rc:2") == 0;
		options_free(&o);
		/* The configuration's message is the command line's with
		   the key named: "invalid value 'X' for 'KEY' (...)". */
		const struct setting *s = setting_by_key(c->key);
		struct setting_value v;
		const char *hint;
		enum setting_error e = setting_parse(s, c->value, &v, &hint);

		setting_error_text(e, NULL, c->value, hint, want, sizeof want);
		CHECK(cli_ok && cfg_ok && e != SE_OK &&
		    strcmp(cli_detail, want) == 0,
		    "%s %s refused the same way from both sides: cli '%s', "
		    "config '%s'", c->key, c->value, cli_detail, F.detail);
	}
}

int
main(void)
{
	test_table();
	test_parsers();
	test_auth_list();
	test_hostport();
	test_both_sides();
	test_named_fields();
	test_bad_both_sides();
	return check_done();
}
