/* test_config.c: msmtprc parsing, inheritance, selection, merging. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"

/* A struct options as the command line leaves it when it sets nothing
 * (options.h's convention); local so the test does not need cli.c. */
static void
opts_reset(struct options *o)
{
	memset(o, 0, sizeof *o);
	o->lmtp = UNSET;
	o->tls = TLS_UNSET;
	o->tls_certcheck = UNSET;
	o->progress = UNSET;
	o->set_from_header = o->set_date_header = o->set_msgid_header = UNSET;
	o->tls_starttls = o->auto_from = o->allow_from_override = UNSET;
}

static void
opts_clear(struct options *o)
{
	char **s[] = { &o->host, &o->helo, &o->source, &o->tls_ca,
	    &o->tls_cert, &o->tls_key, &o->tls_fingerprint, &o->tls_priority,
	    &o->tls_host, &o->user, &o->password, &o->passwordeval, &o->from,
	    &o->file, &o->fullname, &o->dsn_notify, &o->dsn_return,
	    &o->dsn_envid, &o->body_type, &o->logfile, &o->syslog_facility,
	    &o->config_file, &o->config_used, &o->account, &o->maildomain,
	    &o->aliases, &o->queue_dir, &o->log_time_format };

	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
		free(*s[i]);
	strlist_free(&o->commands);
	strlist_free(&o->recipients);
	strlist_free(&o->mail_options);
	strlist_free(&o->rcpt_options);
	opts_reset(o);
}

static struct failure F;

static int
parse(const char *text, struct config *c)
{
	memset(&F, 0, sizeof F);
	return config_parse(text, strlen(text), "t.rc", c, &F);
}

/* Parse text expecting an error at line with detail containing want. */
static void
expect_error(const char *text, int line, const char *want, const char *name)
{
	struct config c;
	char what[64];
	int rc = parse(text, &c);

	(void)snprintf(what, sizeof what, "t.rc:%d", line);
	CHECK(rc == -1 && F.class == FAIL_CONFIG && strcmp(F.what, what) == 0
	    && strstr(F.detail, want) != NULL && c.n == 0,
	    "error: %s (got rc=%d class=%d \"%s: %s\")", name, rc, F.class,
	    F.what, F.detail);
	config_free(&c);
}

static const char *
val(const struct config *c, const char *acct, enum config_key k)
{
	const struct config_account *a = acct ? config_find(c, acct) :
	    &c->defaults;

	if (a == NULL || a->v[k].line == 0)
		return NULL;
	return a->v[k].str;
}

static long
num(const struct config *c, const char *acct, enum config_key k)
{
	const struct config_account *a = config_find(c, acct);

	return a && a->v[k].line ? a->v[k].num : -999;
}

static const char msmtprc[] =
    "# Example for a user configuration file ~/.msmtprc\n"
    "\n"
    "# Set default values: use the mail submission port 587, and always use TLS.\n"
    "defaults\n"
    "port 587\n"
    "tls on\n"
    "tls_starttls on\n"
    "logfile ~/.msmtp.log\n"
    "\n"
    "# A freemail service\n"
    "account freemail\n"
    "host smtp.freemail.example\n"
    "from joe_smith@freemail.example\n"
    "auth on\n"
    "user joe.smith\n"
    "passwordeval gpg2 --no-tty -q -d ~/.msmtp-password.gpg\n"
    "\n"
    "# A second mail address at the same freemail service\n"
    "account freemail2 : freemail\n"
    "from joey@freemail.example\n"
    "\n"
    "  # Some other mail service\n"
    "account company\n"
    "host mail.company.example\n"
    "port 465\n"
    "tls_starttls off\n"
    "from smithjoe@company.example\n"
    "auth plain\n"
    "user company12345\n"
    "password \"s3cr#t pass \"\n"
    "\n"
    "# Set a default account\n"
    "account default : freemail\n";

static void
test_real_msmtprc(void)
{
	struct config c;

	CHECK(parse(msmtprc, &c) == 0, "real msmtprc parses (%s: %s)", F.what,
	    F.detail);
	CHECK(c.n == 4 && strcmp(c.accounts[0].name, "freemail") == 0 &&
	    strcmp(c.accounts[1].name, "freemail2") == 0 &&
	    strcmp(c.accounts[2].name, "company") == 0 &&
	    strcmp(c.accounts[3].name, "default") == 0,
	    "four accounts in file order");
	CHECK_STR(val(&c, "freemail", CK_PORT), "587", "defaults port applies");
	CHECK_STR(val(&c, "freemail2", CK_HOST), "smtp.freemail.example",
	    "freemail2 inherits host");
	CHECK_STR(val(&c, "freemail2", CK_FROM), "joey@freemail.example",
	    "freemail2 own from");
	CHECK_STR(val(&c, "freemail2", CK_PASSWORDEVAL),
	    "gpg2 --no-tty -q -d ~/.msmtp-password.gpg",
	    "passwordeval stored verbatim, not run, ~ kept");
	CHECK_STR(val(&c, "default", CK_USER), "joe.smith",
	    "default : freemail copies freemail");
	CHECK_STR(val(&c, "company", CK_PASSWORD), "s3cr#t pass ",
	    "quoted password keeps # and trailing blank");
	CHECK(num(&c, "company", CK_PORT) == 465 &&
	    num(&c, "company", CK_TLS_STARTTLS) == 0, "company port, starttls");
	CHECK_STR(val(&c, "company", CK_AUTH), "PLAIN", "auth plain -> PLAIN");
	CHECK(c.password_line == 30, "password line recorded (%d)",
	    c.password_line);
	config_free(&c);
}

static void
test_quoting(void)
{
	struct config c;

	CHECK(parse("account a\n"
	    "host \"  spaced host  \"\n"
	    "user \"quo\\\"te\"\n"
	    "password back\\\\slash\n"
	    "domain \"abc\n"
	    "tls_priorities a \"b\" c\n"
	    "maildomain \" lead\"  \n"
	    "logfile abc # not a comment\n"
	    "from \"\"\n"
	    "aliases \"\n", &c) == 0, "quoting parses");
	CHECK_STR(val(&c, "a", CK_HOST), "  spaced host  ",
	    "quotes keep inner blanks");
	CHECK_STR(val(&c, "a", CK_USER), "quo\\\"te",
	    "no backslash escapes (as msmtp)");
	CHECK_STR(val(&c, "a", CK_PASSWORD), "back\\\\slash",
	    "backslashes verbatim outside quotes");
	CHECK_STR(val(&c, "a", CK_DOMAIN), "\"abc", "unbalanced quote kept");
	CHECK_STR(val(&c, "a", CK_TLS_PRIORITIES), "a \"b\" c",
	    "inner quotes kept");
	CHECK_STR(val(&c, "a", CK_MAILDOMAIN), " lead",
	    "leading blank in quotes, trailing blanks outside dropped");
	CHECK_STR(val(&c, "a", CK_LOGFILE), "abc # not a comment",
	    "# after a value is part of it");
	CHECK_STR(val(&c, "a", CK_FROM), "", "\"\" is empty");
	CHECK_STR(val(&c, "a", CK_ALIASES), "\"", "a lone quote is a quote");
	config_free(&c);
}

static void
test_line_endings(void)
{
	struct config c;

	CHECK(parse("account default\r\n\thost\t xx \r\n   port   2525\r\n"
	    "\t# comment\r\n\r\nuser u", &c) == 0, "CRLF, tabs, no final LF");
	CHECK_STR(val(&c, "default", CK_HOST), "xx", "CR and blanks trimmed");
	CHECK(num(&c, "default", CK_PORT) == 2525, "indented key");
	CHECK_STR(val(&c, "default", CK_USER), "u", "last line without LF");
	config_free(&c);
	expect_error("account a\r\n\r\n# x\r\nbogus 1\r\n", 4, "unknown key "
	    "'bogus'", "line numbers count CRLF and comment lines");
}

static void
test_inheritance(void)
{
	struct config c;

	CHECK(parse("account a\nhost ha\nuser ua\nport 1025\n"
	    "account b : a\nuser ub\n"
	    "account c : b\nport 2025\n"
	    "account d\nhost hd\ntls on\nuser ud\n"
	    "account e : a, d\n", &c) == 0, "chain parses");
	CHECK_STR(val(&c, "c", CK_HOST), "ha", "chain: c gets a's host via b");
	CHECK_STR(val(&c, "c", CK_USER), "ub", "chain: b overrides a");
	CHECK(num(&c, "c", CK_PORT) == 2025, "chain: own value wins");
	CHECK_STR(val(&c, "e", CK_HOST), "hd", "later parent wins");
	CHECK(num(&c, "e", CK_PORT) == 1025 && num(&c, "e", CK_TLS) == 1,
	    "values from both parents");
	config_free(&c);

	/* msmtp: a parent passes on only what it set itself, not what it got
	 * from the defaults; the child takes the current defaults. */
	CHECK(parse("defaults\nport 587\naccount a\nhost ha\n"
	    "defaults\nport 25\nuser u\naccount b : a\n", &c) == 0,
	    "defaults twice");
	CHECK(num(&c, "a", CK_PORT) == 587 && val(&c, "a", CK_USER) == NULL,
	    "later defaults do not reach earlier accounts");
	CHECK(num(&c, "b", CK_PORT) == 25 &&
	    strcmp(val(&c, "b", CK_USER), "u") == 0,
	    "parent's defaults-derived port is not inherited");
	config_free(&c);

	CHECK(parse("host implicit\nfrom x@y\naccount other\nhost h\n", &c) ==
	    0 && c.n == 2 && strcmp(c.accounts[0].name, "default") == 0,
	    "lines before any account form account 'default'");
	config_free(&c);
	CHECK(parse("account \"x y\"\nhost h\naccount z:x y\n", &c) == 0 &&
	    config_find(&c, "x y") != NULL &&
	    strcmp(val(&c, "z", CK_HOST), "h") == 0,
	    "quoted account name, parent without blanks");
	config_free(&c);
}

struct keycase {
	const char *line;
	enum config_key key;
	const char *str;
	long num;
};

static void
test_every_key(void)
{
	static const struct keycase cases[] = {
		{ "host h.example", CK_HOST, "h.example", 0 },
		{ "port 587", CK_PORT, "587", 587 },
		{ "port +25", CK_PORT, "25", 25 },
		{ "socket /run/lmtp", CK_SOCKET, "/run/lmtp", 0 },
		{ "source_ip 192.0.2.1", CK_SOURCE_IP, "192.0.2.1", 0 },
		{ "proxy_host 127.0.0.1", CK_PROXY_HOST, "127.0.0.1", 0 },
		{ "proxy_port 9050", CK_PROXY_PORT, "9050", 9050 },
		{ "proxy_port", CK_PROXY_PORT, "", 0 },
		{ "require_tls on", CK_REQUIRE_TLS, "on", 1 },
		{ "proxy socks5h://u@127.0.0.1:9050", CK_PROXY,
		    "socks5h://u@127.0.0.1:9050", 0 },
		{ "timeout 30", CK_TIMEOUT, "30", 30 },
		{ "timeout off", CK_TIMEOUT, "off", 0 },
		{ "connect_timeout 7", CK_TIMEOUT, "7", 7 },
		{ "protocol lmtp", CK_PROTOCOL, "lmtp", 1 },
		{ "protocol smtp", CK_PROTOCOL, "smtp", 0 },
		{ "domain %H", CK_DOMAIN, "%H", 0 },
		{ "auth", CK_AUTH, "on", 0 },
		{ "auth on", CK_AUTH, "on", 0 },
		{ "auth off", CK_AUTH, "off", 0 },
		{ "auth scram-sha-256", CK_AUTH, "SCRAM-SHA-256", 0 },
		{ "auth xoauth2", CK_AUTH, "XOAUTH2", 0 },
		{ "auth plain,login", CK_AUTH, "PLAIN,LOGIN", 0 },
		{ "user joe", CK_USER, "joe", 0 },
		{ "user", CK_USER, "", 0 },
		{ "password pw", CK_PASSWORD, "pw", 0 },
		{ "passwordeval pass show mail", CK_PASSWORDEVAL,
		    "pass show mail", 0 },
		{ "ntlmdomain D", CK_NTLMDOMAIN, "D", 0 },
		{ "tls", CK_TLS, "on", 1 },
		{ "tls off", CK_TLS, "off", 0 },
		{ "tls ON", CK_TLS, "on", 1 },
		{ "tls_starttls off", CK_TLS_STARTTLS, "off", 0 },
		{ "tls_nostarttls", CK_TLS_STARTTLS, "off", 0 },
		{ "tls_trust_file system", CK_TLS_TRUST_FILE, "system", 0 },
		{ "tls_crl_file", CK_TLS_CRL_FILE, "", 0 },
		{ "tls_fingerprint 00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:"
		    "ff:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF",
		    CK_TLS_FINGERPRINT, "SHA256:00:11:22:33:44:55:66:77:88:99:"
		    "aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:"
		    "DD:EE:FF", 32 },
		{ "tls_fingerprint sha256:00112233445566778899aabbccddeeff"
		    "00112233445566778899aabbccddeeff", CK_TLS_FINGERPRINT,
		    "SHA256:00112233445566778899aabbccddeeff00112233445566778899"
		    "aabbccddeeff", 32 },
		{ "tls_fingerprint 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:"
		    "EE:FF:00:11:22:33", CK_TLS_FINGERPRINT,
		    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33",
		    20 },
		{ "tls_key_file ~/k.pem", CK_TLS_KEY_FILE, "~/k.pem", 0 },
		{ "tls_cert_file ~/c.pem", CK_TLS_CERT_FILE, "~/c.pem", 0 },
		{ "tls_certcheck off", CK_TLS_CERTCHECK, "off", 0 },
		{ "tls_nocertcheck", CK_TLS_CERTCHECK, "off", 0 },
		{ "tls_priorities NORMAL:-VERS-TLS1.0", CK_TLS_PRIORITIES,
		    "NORMAL:-VERS-TLS1.0", 0 },
		{ "tls_host_override mx.example", CK_TLS_HOST_OVERRIDE,
		    "mx.example", 0 },
		{ "tls_min_dh_prime_bits 512", CK_TLS_MIN_DH_PRIME_BITS, "512",
		    512 },
		{ "tls_force_sslv3 off", CK_TLS_FORCE_SSLV3, "off", 0 },
		{ "from *@example.org", CK_FROM, "*@example.org", 0 },
		{ "allow_from_override off", CK_ALLOW_FROM_OVERRIDE, "off", 0 },
		{ "auto_from on", CK_AUTO_FROM, "on", 1 },
		{ "maildomain example.org", CK_MAILDOMAIN, "example.org", 0 },
		{ "dsn_notify success,Failure", CK_DSN_NOTIFY, "SUCCESS,FAILURE",
		    0 },
		{ "dsn_notify never", CK_DSN_NOTIFY, "NEVER", 0 },
		{ "dsn_notify off", CK_DSN_NOTIFY, "", 0 },
		{ "dsn_return headers", CK_DSN_RETURN, "HDRS", 0 },
		{ "dsn_return full", CK_DSN_RETURN, "FULL", 0 },
		{ "set_from_header on", CK_SET_FROM_HEADER, "on", CH_ON },
		{ "set_from_header", CK_SET_FROM_HEADER, "auto", CH_AUTO },
		{ "add_missing_from_header off", CK_SET_FROM_HEADER, "off",
		    CH_OFF },
		{ "set_date_header off", CK_SET_DATE_HEADER, "off", CH_OFF },
		{ "add_missing_date_header on", CK_SET_DATE_HEADER, "auto",
		    CH_AUTO },
		{ "set_msgid_header auto", CK_SET_MSGID_HEADER, "auto", CH_AUTO },
		{ "remove_bcc_headers off", CK_REMOVE_BCC_HEADERS, "off", 0 },
		{ "keepbcc", CK_REMOVE_BCC_HEADERS, "off", 0 },
		{ "keepbcc off", CK_REMOVE_BCC_HEADERS, "on", 1 },
		{ "undisclosed_recipients", CK_UNDISCLOSED_RECIPIENTS, "on", 1 },
		{ "set_to_header", CK_SET_TO_HEADER, "on", 1 },
		{ "logfile -", CK_LOGFILE, "-", 0 },
		{ "logfile_time_format %F %T", CK_LOGFILE_TIME_FORMAT, "%F %T",
		    0 },
		{ "syslog", CK_SYSLOG, "LOG_USER", 0 },
		{ "syslog LOG_MAIL", CK_SYSLOG, "LOG_MAIL", 0 },
		{ "syslog local3", CK_SYSLOG, "LOG_LOCAL3", 0 },
		{ "syslog off", CK_SYSLOG, "", 0 },
		{ "aliases /etc/aliases", CK_ALIASES, "/etc/aliases", 0 },
		{ "from_full_name Jane Doe", CK_FROM_FULL_NAME, "Jane Doe", 0 },
		{ "queue ~/.cache/carrier/queue", CK_QUEUE,
		    "~/.cache/carrier/queue", 0 },
		{ "allow_plaintext_auth on", CK_ALLOW_PLAINTEXT_AUTH, "on", 1 },
		{ "initial_response off", CK_INITIAL_RESPONSE, "off", 0 },
		{ "oauth2_provider google", CK_OAUTH2_PROVIDER, "google", 0 },
		{ "oauth2_client_id 12-ab.apps", CK_OAUTH2_CLIENT_ID,
		    "12-ab.apps", 0 },
		{ "oauth2_client_secret s#1", CK_OAUTH2_CLIENT_SECRET, "s#1",
		    0 },
		{ "oauth2_client_secret_eval pass x", CK_OAUTH2_CLIENT_SECRET_EVAL,
		    "pass x", 0 },
		{ "oauth2_authorization_endpoint https://a/auth",
		    CK_OAUTH2_AUTHORIZATION_ENDPOINT, "https://a/auth", 0 },
		{ "oauth2_device_endpoint https://a/dev",
		    CK_OAUTH2_DEVICE_ENDPOINT, "https://a/dev", 0 },
		{ "oauth2_token_endpoint https://a/token",
		    CK_OAUTH2_TOKEN_ENDPOINT, "https://a/token", 0 },
		{ "oauth2_scope a b", CK_OAUTH2_SCOPE, "a b", 0 },
		{ "oauth2_token_file ~/t", CK_OAUTH2_TOKEN_FILE, "~/t", 0 },
	};
	int bad = 0;
	bool seen[CK_COUNT] = { false };

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct config c;
		char text[512];
		const char *got;

		(void)snprintf(text, sizeof text, "account a\n%s\n",
		    cases[i].line);
		if (parse(text, &c) != 0) {
			printf("#   '%s': %s: %s\n", cases[i].line, F.what,
			    F.detail);
			bad++;
			continue;
		}
		got = val(&c, "a", cases[i].key);
		if (got == NULL || strcmp(got, cases[i].str) != 0 ||
		    num(&c, "a", cases[i].key) != cases[i].num) {
			printf("#   '%s': got [%s] %ld, want [%s] %ld\n",
			    cases[i].line, got ? got : "(unset)",
			    num(&c, "a", cases[i].key), cases[i].str,
			    cases[i].num);
			bad++;
		}
		seen[cases[i].key] = true;
		config_free(&c);
	}
	CHECK(bad == 0, "every key parses to its normalised value (%d bad)",
	    bad);
	bad = 0;
	for (int k = 0; k < CK_COUNT; k++)
		if (!seen[k]) {
			printf("#   key %s untested\n",
			    config_key_name((enum config_key)k));
			bad++;
		}
	CHECK(bad == 0, "the table covers every canonical key");
}

static void
test_errors(void)
{
	expect_error("account a\nhots x\n", 2, "unknown key 'hots'",
	    "unknown key");
	expect_error("account a\nHost x\n", 2, "unknown key 'Host'",
	    "keys are case-sensitive");
	expect_error("account a\nport 0\n", 2, "invalid value '0' for 'port'",
	    "port 0");
	expect_error("account a\nport 65536\n", 2, "1 to 65535", "port 65536");
	expect_error("account a\nport 0x19\n", 2, "'port'", "port in hex");
	expect_error("account a\nport\n", 2, "'port' needs a value",
	    "port empty");
	expect_error("account a\ntimeout 0\n", 2, "'timeout'", "timeout 0");
	expect_error("account a\ntimeout -5\n", 2, "'timeout'",
	    "timeout negative");
	expect_error("account a\nprotocol esmtp\n", 2, "'protocol'",
	    "bad protocol");
	expect_error("account a\nauth foo\n", 2, "invalid value 'foo' for "
	    "'auth'", "bad auth");
	expect_error("account a\ntls maybe\n", 2, "'tls'", "bad boolean");
	expect_error("account a\nhost\n", 2, "'host' needs a value",
	    "host empty");
	expect_error("defaults x\n", 1, "'defaults' takes no value",
	    "defaults with a value");
	expect_error("account a\nhost x\naccount a\n", 3, "already defined",
	    "duplicate account");
	expect_error("account b : a\naccount a\n", 1, "account 'a' is not "
	    "defined", "parent defined later");
	expect_error("account  \n", 1, "missing account name", "empty name");
	expect_error("account a\naccount b : a,\n", 2, "missing account name",
	    "trailing comma in parents");
	expect_error("account a,b\n", 1, "must not contain", "comma in name");
	expect_error("account a\ndsn_notify sometimes\n", 2, "'dsn_notify'",
	    "bad dsn_notify");
	expect_error("account a\ndsn_notify success,success\n", 2,
	    "'dsn_notify'", "repeated dsn_notify condition");
	expect_error("account a\ndsn_return body\n", 2, "'dsn_return'",
	    "bad dsn_return");
	expect_error("account a\nset_date_header on\n", 2, "'set_date_header'",
	    "set_date_header has no on");
	expect_error("account a\nsyslog LOG_KERN\n", 2, "'syslog'",
	    "bad syslog facility");
	expect_error("account a\ntls_fingerprint 00:11\n", 2,
	    "'tls_fingerprint'", "short fingerprint");
	expect_error("account a\ntls_nostarttls on\n", 2, "takes no value",
	    "old flag with a value");
	expect_error("account a\neval echo host x\n", 2, "'eval' is not "
	    "allowed", "eval without an evaluator");
	{
		static const char nul[] = "account a\nhost x\0y\n";
		struct config c;
		int rc;

		memset(&F, 0, sizeof F);
		rc = config_parse(nul, sizeof nul - 1, "t.rc", &c, &F);
		CHECK(rc == -1 && strcmp(F.what, "t.rc:2") == 0 &&
		    strstr(F.detail, "NUL") != NULL, "NUL byte is an error");
		config_free(&c);
	}
}

static const char sel_rc[] =
    "defaults\nport 587\n"
    "account a\nhost ha\nfrom X*@Example.org\n"
    "account b\nhost hb\nfrom bob@example.org\n"
    "account c\nhost hc\nfrom \"[xy]*@ex.net\"\n"
    "account d\nhost hd\nfrom *@ex.net\n"
    "account default : b\n";

static const char *
selected(const struct config *c, const char *account, const char *from)
{
	struct options o;
	const struct config_account *a = NULL;
	static char name[64];

	opts_reset(&o);
	o.account = (char *)account;
	o.from = (char *)from;
	memset(&F, 0, sizeof F);
	if (config_select(c, &o, &a, &F) != 0)
		return NULL;
	(void)snprintf(name, sizeof name, "%s", a->name ? a->name :
	    "(defaults)");
	return name;
}

static void
test_selection(void)
{
	struct config c;

	CHECK(parse(sel_rc, &c) == 0, "selection file parses");
	CHECK_STR(selected(&c, "c", "bob@example.org"), "c",
	    "--account wins over from");
	CHECK(selected(&c, "nope", NULL) == NULL && F.class == FAIL_CONFIG &&
	    strcmp(F.what, "no account 'nope' in t.rc") == 0,
	    "unknown --account: \"%s\"", F.what);
	CHECK_STR(selected(&c, NULL, "BOB@example.ORG"), "b",
	    "plain from matches case-insensitively");
	CHECK_STR(selected(&c, NULL, "<bob@example.org>"), "b",
	    "angle brackets ignored");
	CHECK_STR(selected(&c, NULL, "x@Example.org"), "default",
	    "pattern: the local part is case-sensitive (fnmatch, as msmtp)");
	CHECK_STR(selected(&c, NULL, "Xy@example.ORG"), "a",
	    "pattern matches, the domain without regard to case");
	CHECK_STR(selected(&c, NULL, "y1@ex.net"), "c",
	    "first matching account wins");
	CHECK_STR(selected(&c, NULL, "z@ex.net"), "d", "second pattern");
	CHECK_STR(selected(&c, NULL, "q@nowhere"), "default",
	    "no match: default");
	CHECK_STR(selected(&c, NULL, NULL), "default", "no from: default");
	config_free(&c);

	CHECK(parse("account s\nfrom bob@other.test\n"
	    "account w\nfrom *@work.test\naccount u\nfrom u*@Pat.test\n"
	    "account default\nfrom d@d.test\n", &c) == 0,
	    "subaddress file parses");
	CHECK_STR(selected(&c, NULL, "bob+tag@other.test"), "s",
	    "subaddress: bob+tag@ matches from bob@");
	CHECK_STR(selected(&c, NULL, "bob+a+b@OTHER.test"), "s",
	    "subaddress from the first '+', domain case ignored");
	CHECK_STR(selected(&c, NULL, "+tag@other.test"), "default",
	    "a local part that begins with '+' keeps it");
	CHECK_STR(selected(&c, NULL, "SOMEONE@WORK.TEST"), "w",
	    "pattern: the domain without regard to case");
	CHECK_STR(selected(&c, NULL, "x+t@work.test"), "w",
	    "pattern: the whole address, subaddress included");
	CHECK_STR(selected(&c, NULL, "U1@pat.test"), "default",
	    "pattern: the local part with regard to case");
	CHECK_STR(selected(&c, NULL, "u1@pat.TEST"), "u",
	    "pattern: local part matches, domain case ignored");
	{
		struct options o;
		const struct config_account *a = NULL;

		opts_reset(&o);
		o.header_sender = (char *)"bob+x@other.test";
		CHECK(config_select(&c, &o, &a, &F) == 0 && a != NULL &&
		    strcmp(a->name, "s") == 0,
		    "no -f: the message's sender chooses");
		o.from = (char *)"q@work.test";
		CHECK(config_select(&c, &o, &a, &F) == 0 && a != NULL &&
		    strcmp(a->name, "w") == 0, "-f wins over the message");
	}
	config_free(&c);

	CHECK(config_from_matches("a@b.test", "A@B.TEST"),
	    "plain from: no case anywhere, as msmtp");
	CHECK(!config_from_matches("a@b.test", "a+x@b.test"),
	    "plain from: a subaddress is config_match_from's second pass");
	CHECK(config_from_matches("*", "anything@x"), "bare '*' pattern");
	CHECK(config_from_matches("[ab]@*.Test", "b@sub.test"),
	    "bracket pattern, domain wildcard without case");
	CHECK(config_strip_subaddress("a@b") == NULL, "no subaddress: NULL");
	CHECK(config_strip_subaddress("a@b+c") == NULL,
	    "'+' in the domain is no subaddress");
	{
		char *p = config_strip_subaddress("a+b+c@d");

		CHECK_STR(p, "a@d", "strip from the first '+'");
		free(p);
	}

	CHECK(parse("defaults\nhost hd\naccount a\nhost ha\n", &c) == 0 &&
	    strcmp(selected(&c, NULL, "x@y"), "(defaults)") == 0,
	    "no default account: the defaults section alone");
	config_free(&c);
}

static int
apply_text(const char *text, const char *account, struct options *o)
{
	struct config c;
	const struct config_account *a;
	int rc;

	if (parse(text, &c) != 0) {
		printf("#   parse: %s: %s\n", F.what, F.detail);
		return -2;
	}
	if (account != NULL && o->account == NULL)
		o->account = strdup(account);
	rc = config_select(&c, o, &a, &F);
	if (rc == 0)
		rc = config_apply(&c, a, o, &F);
	config_free(&c);
	return rc;
}

static void
test_apply(void)
{
	struct options o;

	setenv("HOME", "/home/tester", 1);
	setenv("USER", "tester", 1);
	setenv("HOSTNAME", "box.example", 1);

	opts_reset(&o);
	CHECK(apply_text(msmtprc, NULL, &o) == 0, "apply default account");
	CHECK(strcmp(o.host, "smtp.freemail.example") == 0 && o.port == 587 &&
	    o.tls == TLS_STARTTLS_REQUIRED && strcmp(o.user, "joe.smith") == 0
	    && o.auth.mode == AUTH_ON && o.password == NULL &&
	    strcmp(o.passwordeval, "gpg2 --no-tty -q -d "
	    "~/.msmtp-password.gpg") == 0 &&
	    strcmp(o.from, "joe_smith@freemail.example") == 0,
	    "default account merged into options");
	CHECK_STR(o.logfile, "/home/tester/.msmtp.log", "~ expanded in logfile");
	CHECK_STR(o.account, "default", "o->account names the account used");
	CHECK_STR(o.config_used, "t.rc", "o->config_used names the file");
	opts_clear(&o);

	opts_reset(&o);
	CHECK(apply_text(msmtprc, "company", &o) == 0 &&
	    o.tls == TLS_IMPLICIT && o.port == 465 &&
	    strcmp(o.password, "s3cr#t pass ") == 0 &&
	    o.auth.mode == AUTH_LIST && o.auth.n == 1 &&
	    o.auth.mech[0] == SASL_PLAIN,
	    "tls on + tls_starttls off: implicit TLS; password; auth PLAIN");
	opts_clear(&o);

	/* Command-line values are never overridden. */
	opts_reset(&o);
	o.host = strdup("smtp.freemail.example");
	o.port = 2525;
	o.tls = TLS_STARTTLS_OPTIONAL;
	o.from = strdup("me@cli.example");
	o.from_set = true;
	o.helo = strdup("cli-helo");
	o.timeout = 9;
	o.logfile = strdup("/tmp/cli.log");
	o.set_date_header = NO;
	CHECK(apply_text("account default\nhost smtp.freemail.example\n"
	    "port 587\ntls off\nfrom acct@example\ndomain acct-helo\n"
	    "timeout 60\nlogfile /tmp/acct.log\nset_date_header auto\n"
	    "user u\npassword p\n", NULL, &o) == 0,
	    "apply under command-line values");
	CHECK(strcmp(o.host, "smtp.freemail.example") == 0 &&
	    o.port == 2525 && o.tls == TLS_STARTTLS_OPTIONAL &&
	    strcmp(o.from, "me@cli.example") == 0 &&
	    strcmp(o.helo, "cli-helo") == 0 && o.timeout == 9 &&
	    strcmp(o.logfile, "/tmp/cli.log") == 0 && o.set_date_header == NO,
	    "CLI host, port, tls, from, helo, timeout, logfile, header kept");
	CHECK(strcmp(o.user, "u") == 0 && o.password != NULL &&
	    strcmp(o.password, "p") == 0,
	    "same host with :port still gets the account's password");
	opts_clear(&o);

	opts_reset(&o);
	o.host = strdup("evil.example");
	CHECK(apply_text("account default\nhost smtp.example\nuser u\n"
	    "password p\npasswordeval cat pw\n", NULL, &o) == 0 &&
	    o.password == NULL && o.passwordeval == NULL &&
	    strcmp(o.user, "u") == 0,
	    "--host elsewhere never receives the account's secret");
	opts_clear(&o);

	opts_reset(&o);
	o.user = strdup("bob");
	CHECK(apply_text("account default\nhost smtp.example\nuser alice\n"
	    "password p\n", NULL, &o) == 0 && o.password == NULL &&
	    strcmp(o.user, "bob") == 0,
	    "--user other never receives the account's secret");
	opts_clear(&o);

	opts_reset(&o);
	CHECK(apply_text("account default\nhost h\ntls on\n", NULL, &o) ==
	    0 && o.tls == TLS_STARTTLS_REQUIRED, "tls on alone: STARTTLS");
	opts_clear(&o);
	opts_reset(&o);
	CHECK(apply_text("account default\nhost h\ntls off\n"
	    "tls_starttls off\n", NULL, &o) == 0 && o.tls == TLS_OFF,
	    "tls off: TLS_OFF");
	opts_clear(&o);
	opts_reset(&o);
	CHECK(apply_text("account default\nhost h\n", NULL, &o) == 0 &&
	    o.tls == TLS_UNSET && o.lmtp == UNSET && o.port == 0 &&
	    o.tls_certcheck == UNSET && o.set_from_header == UNSET,
	    "keys not given leave the options unset");
	opts_clear(&o);

	opts_reset(&o);
	CHECK(apply_text("account default\nhost h\nprotocol lmtp\n"
	    "tls_certcheck off\nauth off\ntimeout off\n"
	    "tls_trust_file system\ntls_cert_file ~/c.pem\n"
	    "tls_key_file ~/k.pem\ntls_fingerprint 00112233445566778899aabb"
	    "ccddeeff00112233445566778899aabbccddeeff\n"
	    "tls_priorities SECURE256\nsource_ip 192.0.2.7\n"
	    "dsn_notify failure,delay\ndsn_return headers\n"
	    "syslog LOG_MAIL\nmaildomain example.net\naliases ~/aliases\n"
	    "allow_plaintext_auth\ninitial_response off\n", NULL, &o) == 0,
	    "apply many keys");
	CHECK(o.lmtp == YES && o.tls_certcheck == NO &&
	    o.auth.mode == AUTH_OFF && o.timeout == 0 && o.tls_ca == NULL,
	    "lmtp, certcheck off, auth off, timeout off, trust system");
	CHECK(strcmp(o.tls_cert, "/home/tester/c.pem") == 0 &&
	    strcmp(o.tls_key, "/home/tester/k.pem") == 0 &&
	    strcmp(o.tls_fingerprint, "SHA256:00112233445566778899aabbccddeeff"
	    "00112233445566778899aabbccddeeff") == 0 &&
	    strcmp(o.tls_priority, "SECURE256") == 0 &&
	    strcmp(o.source, "192.0.2.7") == 0, "TLS files and source");
	CHECK(strcmp(o.dsn_notify, "FAILURE,DELAY") == 0 &&
	    strcmp(o.dsn_return, "HDRS") == 0 &&
	    strcmp(o.syslog_facility, "LOG_MAIL") == 0 &&
	    strcmp(o.maildomain, "example.net") == 0 &&
	    strcmp(o.aliases, "/home/tester/aliases") == 0 &&
	    o.allow_plaintext_auth && o.no_initial_response,
	    "dsn, syslog, maildomain, aliases, carrier-only booleans");
	opts_clear(&o);

	opts_reset(&o);
	CHECK(apply_text("account default\nsocket /run/dovecot/lmtp\n"
	    "host ignored.example\nprotocol lmtp\nkeepbcc on\n"
	    "set_from_header on\nset_date_header off\nset_msgid_header auto\n"
	    "queue ~/q\ntls_host_override mx.example\nundisclosed_recipients\n"
	    "logfile_time_format %F\n", NULL, &o) == 0 &&
	    strcmp(o.host, "/run/dovecot/lmtp") == 0 && o.keep_bcc &&
	    o.set_from_header == YES && o.set_date_header == NO &&
	    o.set_msgid_header == YES, "socket, keepbcc, header settings");
	CHECK(o.replace_from_header && strcmp(o.queue_dir, "/home/tester/q") ==
	    0 && o.queue_on && strcmp(o.tls_host, "mx.example") == 0 &&
	    o.undisclosed_recipients && strcmp(o.log_time_format, "%F") == 0,
	    "replace From, queue (on), tls_host_override, undisclosed, "
	    "time format");
	opts_clear(&o);

	opts_reset(&o);
	CHECK(apply_text("account default\nhost h\ntls on\ntls_trust_file\n",
	    NULL, &o) == -1 && F.class == FAIL_CONFIG &&
	    strcmp(F.what, "t.rc:4") == 0 &&
	    strstr(F.detail, "tls_trust_file is empty") != NULL,
	    "empty tls_trust_file with TLS and no pin fails (as msmtp)");
	opts_clear(&o);
	opts_reset(&o);
	CHECK(apply_text("account default\nhost h\ntls on\ntls_trust_file\n"
	    "tls_fingerprint 00112233445566778899aabbccddeeff0011223344556677"
	    "8899aabbccddeeff\n", NULL, &o) == 0 && o.tls_ca == NULL &&
	    o.tls_fingerprint != NULL,
	    "empty tls_trust_file with a fingerprint is fine");
	opts_clear(&o);

	opts_reset(&o);
	o.from = strdup("someone@else");
	o.from_set = true;
	CHECK(apply_text("account default\nhost h\nfrom fixed@example\n"
	    "allow_from_override off\n", NULL, &o) == 0 &&
	    strcmp(o.from, "fixed@example") == 0,
	    "allow_from_override off: the account's from replaces -f");
	opts_clear(&o);

	opts_reset(&o);
	CHECK(apply_text("account default\nhost h\nfrom %U@%H\n"
	    "domain %H.helo\n", NULL, &o) == 0 &&
	    strcmp(o.from, "tester@box.example") == 0 &&
	    strcmp(o.helo, "box.example.helo") == 0,
	    "%%U and %%H expanded in from and domain (%s, %s)", o.from,
	    o.helo);
	opts_clear(&o);

	opts_reset(&o);
	CHECK(apply_text("account default\nhost h\nauto_from on\n"
	    "maildomain example.com\nfrom ignored@x\n", NULL, &o) == 0 &&
	    strcmp(o.from, "tester@example.com") == 0,
	    "auto_from: user@maildomain");
	opts_clear(&o);

	opts_reset(&o);
	CHECK(apply_text("account default\nhost h\nfrom *@example.com\n",
	    NULL, &o) == 0 && o.from == NULL,
	    "a from pattern is never used as the sender");
	opts_clear(&o);
}

static void
test_unsupported(void)
{
	static const struct {
		const char *line;
		const char *want;
	} cases[] = {
		{ "ntlmdomain D", "ntlmdomain is not supported" },
		{ "tls_crl_file /x.crl", "tls_crl_file is not supported" },
		{ "tls_min_dh_prime_bits 512", "tls_min_dh_prime_bits is not" },
		{ "tls_force_sslv3 on", "tls_force_sslv3 is not supported" },
		{ "auth gssapi", "auth GSSAPI is not supported" },
		{ "auth plain,ntlm", "auth NTLM is not supported" },
		{ "tls_fingerprint 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:"
		    "EE:FF:00:11:22:33", "SHA-1 and MD5" },
		{ "tls_key_file /k", "tls_key_file requires tls_cert_file" },
		{ "socket run/lmtp", "absolute path" },
	};
	int bad = 0;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct options o;
		char text[512];
		int rc;

		opts_reset(&o);
		(void)snprintf(text, sizeof text, "account tor\nhost h\n%s\n"
		    "account plain\nhost h2\n", cases[i].line);
		rc = apply_text(text, "tor", &o);
		if (rc != -1 || F.class != FAIL_CONFIG ||
		    strcmp(F.what, "t.rc:3") != 0 ||
		    strstr(F.detail, cases[i].want) == NULL) {
			printf("#   '%s': rc=%d \"%s: %s\"\n", cases[i].line, rc,
			    F.what, F.detail);
			bad++;
		}
		opts_clear(&o);
		opts_reset(&o);
		if (apply_text(text, "plain", &o) != 0) {
			printf("#   other account failed for '%s'\n",
			    cases[i].line);
			bad++;
		}
		opts_clear(&o);
	}
	CHECK(bad == 0, "unsupported settings fail with FILE:LINE for the "
	    "account using them only");
}

/* ---- files ---- */

static char tmpdir[64];

static int
rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static char *
write_file(const char *name, const char *text, mode_t mode)
{
	char *path;
	FILE *fp;

	if (asprintf(&path, "%s/%s", tmpdir, name) < 0)
		abort();
	fp = fopen(path, "w");
	if (fp == NULL) {
		perror(path);
		abort();
	}
	fputs(text, fp);
	fclose(fp);
	chmod(path, mode);
	return path;
}

static void
make_dir(const char *rel)
{
	char *path;

	if (asprintf(&path, "%s/%s", tmpdir, rel) < 0)
		abort();
	(void)mkdir(path, 0700);
	free(path);
}

static int
load(const char *config_file, const char *account, struct options *o)
{
	opts_reset(o);
	if (config_file)
		o->config_file = strdup(config_file);
	if (account)
		o->account = strdup(account);
	memset(&F, 0, sizeof F);
	return config_load(o, &F);
}

static void
test_load(void)
{
	struct options o;
	char *p, *xdg;
	struct strlist names = { NULL, 0, 0 };

	strcpy(tmpdir, "/tmp/test_config.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	if (asprintf(&xdg, "%s/xdg", tmpdir) < 0)
		abort();
	make_dir("xdg");
	setenv("XDG_CONFIG_HOME", xdg, 1);
	setenv("HOME", tmpdir, 1);

	CHECK(load("/nonexistent/carrier.conf", NULL, &o) == -1 &&
	    F.class == FAIL_CONFIG && strstr(F.detail, "No such file"),
	    "missing --config file: FAIL_CONFIG (%s: %s)", F.what, F.detail);
	opts_clear(&o);

	if (access(SYSCONFDIR "/carrier.conf", F_OK) != 0) {
		CHECK(load(NULL, NULL, &o) == 0 && o.host == NULL,
		    "no default file: no configuration, success");
		opts_clear(&o);
		CHECK(load(NULL, "work", &o) == -1 && F.class ==
		    FAIL_CONFIG && strstr(F.what, "no account 'work'"),
		    "--account without any file: FAIL_CONFIG");
		opts_clear(&o);
	} else {
		CHECK(1, "# skip: " SYSCONFDIR "/carrier.conf exists");
		CHECK(1, "# skip");
	}

	make_dir("xdg/carrier");
	p = write_file("xdg/carrier/config", "account default\nhost xdg.example\n"
	    "password pw\n", 0600);
	CHECK(load(NULL, NULL, &o) == 0 &&
	    strcmp(o.host, "xdg.example") == 0 && strcmp(o.config_used, p) == 0,
	    "$XDG_CONFIG_HOME/carrier/config is found (%s)", F.detail);
	opts_clear(&o);

	chmod(p, 0644);
	CHECK(load(NULL, NULL, &o) == -1 && F.class == FAIL_CONFIG &&
	    strcmp(F.what, p) == 0 && strstr(F.detail, "must not be readable "
	    "by others (chmod 600 ") != NULL,
	    "password in a 0644 file: FAIL_CONFIG (%s: %s)", F.what, F.detail);
	opts_clear(&o);
	chmod(p, 0620);
	CHECK(load(NULL, NULL, &o) == -1 && F.class == FAIL_CONFIG,
	    "password in a group-writable file: FAIL_CONFIG");
	opts_clear(&o);
	chmod(p, 0400);
	CHECK(load(NULL, NULL, &o) == 0, "0400 is fine");
	opts_clear(&o);
	free(p);

	p = write_file("open.rc", "account default\nhost open.example\n"
	    "passwordeval echo pw\n", 0644);
	CHECK(load(p, NULL, &o) == 0 && strcmp(o.host, "open.example") ==
	    0, "0644 without a password is fine (--config)");
	opts_clear(&o);
	free(p);

	unsetenv("XDG_CONFIG_HOME");
	make_dir(".config");
	make_dir(".config/carrier");
	p = write_file(".config/carrier/config", "account home\nhost "
	    "home.example\n", 0600);
	CHECK(load(NULL, "home", &o) == 0 && strcmp(o.host,
	    "home.example") == 0, "~/.config/carrier/config without XDG");
	opts_clear(&o);
	CHECK(load(NULL, "nope", &o) == -1 && F.class == FAIL_CONFIG &&
	    strncmp(F.what, "no account 'nope' in ", 21) == 0 &&
	    strstr(F.what, ".config/carrier/config") != NULL,
	    "unknown account names the file: %s", F.what);
	opts_clear(&o);
	free(p);

	p = write_file("eval.rc", "account default\neval echo host "
	    "evalhost.example\neval printf 'port 2526\\nport 1\\n'\n", 0600);
	CHECK(load(p, NULL, &o) == 0 && strcmp(o.host,
	    "evalhost.example") == 0 && o.port == 2526,
	    "eval lines run; first line of output used (%s)", F.detail);
	opts_clear(&o);
	CHECK(config_account_names(p, &names, &F) == 0 && names.n == 1 &&
	    strcmp(names.v[0], "default") == 0,
	    "account names, without running eval");
	strlist_free(&names);
	chmod(p, 0646);
	CHECK(load(p, NULL, &o) == -1 && F.class == FAIL_CONFIG &&
	    strstr(F.detail, "others can write") != NULL,
	    "eval refused in a world-writable file");
	opts_clear(&o);
	free(p);

	p = write_file("evalfail.rc", "account default\nhost h\n"
	    "eval exit 3\n", 0600);
	CHECK(load(p, NULL, &o) == -1 && F.class == FAIL_CONFIG &&
	    strstr(F.what, "evalfail.rc:3") && strstr(F.detail, "status 3"),
	    "failing eval: FAIL_CONFIG with FILE:LINE (%s: %s)", F.what,
	    F.detail);
	opts_clear(&o);
	free(p);

	p = write_file("names.rc", msmtprc, 0600);
	CHECK(config_account_names(p, &names, &F) == 0 && names.n == 4 &&
	    strcmp(names.v[3], "default") == 0, "config_account_names");
	strlist_free(&names);
	CHECK(load(p, NULL, &o) == 0 && o.password == NULL &&
	    strcmp(o.host, "smtp.freemail.example") == 0,
	    "real msmtprc loads at 0600");
	opts_clear(&o);
	opts_reset(&o);
	o.config_file = strdup(p);
	o.from = strdup("smithjoe@company.example");
	o.from_set = true;
	CHECK(config_load(&o, &F) == 0 && strcmp(o.account, "company") == 0
	    && strcmp(o.host, "mail.company.example") == 0 &&
	    strcmp(o.from, "smithjoe@company.example") == 0,
	    "-f selects the account through config_load");
	opts_clear(&o);
	free(p);

	p = write_file("bad.rc", "account a\nhost h\nport 99999\n", 0600);
	CHECK(load(p, NULL, &o) == -1 && F.class == FAIL_CONFIG &&
	    strstr(F.what, "bad.rc:3") != NULL && exit_status(F.class, false) == 78,
	    "bad value: exit 78 with FILE:LINE");
	opts_clear(&o);
	free(p);
	free(xdg);
	(void)nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int
main(void)
{
	test_real_msmtprc();
	test_quoting();
	test_line_endings();
	test_inheritance();
	test_every_key();
	test_errors();
	test_selection();
	test_apply();
	test_unsupported();
	test_load();
	return check_done();
}
