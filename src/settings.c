/*
 * settings.c: the table of settings and the parser of each value type.
 * See settings.h.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"
#include "secret.h"
#include "settings.h"
#include "socks.h"

#define ROW(key, opt, id, type, help) { key, opt, id, type, NULL, false, help }
/* An option that means one value of a setting and takes none. */
#define FLAG(opt, id, type, value, help) \
	{ NULL, opt, id, type, value, false, help }

const struct setting settings[] = {
	/* connection */
	ROW("host", "host", CK_HOST, ST_HOST,
	    "server name, address or /unix/socket, optionally with :PORT"),
	ROW("port", "port", CK_PORT, ST_PORT, "port (1 to 65535)"),
	ROW("socket", NULL, CK_SOCKET, ST_TEXT, "Unix socket of the server"),
	ROW("source_ip", "source", CK_SOURCE_IP, ST_SOURCE,
	    "local address to connect from, optionally with :PORT"),
	ROW("proxy_host", "proxy-host", CK_PROXY_HOST, ST_WORD,
	    "SOCKS5 proxy that also resolves the server's name (msmtp)"),
	ROW("proxy_port", "proxy-port", CK_PROXY_PORT, ST_PORT_OPT,
	    "port of proxy_host (1080)"),
	ROW("timeout", "timeout", CK_TIMEOUT, ST_TIMEOUT,
	    "limit in seconds for every network wait (1 to 86400)"),
	ROW("connect_timeout", NULL, CK_TIMEOUT, ST_TIMEOUT, "old name of "
	    "timeout"),
	ROW("protocol", NULL, CK_PROTOCOL, ST_PROTOCOL, "smtp or lmtp"),
	FLAG("lmtp", CK_PROTOCOL, ST_PROTOCOL, "lmtp", "speak LMTP"),
	ROW("domain", "helo", CK_DOMAIN, ST_HELO, "name for EHLO/LHLO"),
	/* authentication */
	ROW("auth", "auth", CK_AUTH, ST_AUTH,
	    "on, off or the mechanisms to try, e.g. SCRAM-SHA-256,PLAIN"),
	/* Any bytes: each SASL mechanism refuses what it cannot carry
	   (auth.c), and the name only ever goes out encoded. */
	ROW("user", "user", CK_USER, ST_TEXT, "user name for AUTH"),
	/* Never an option: argv is visible to every local user. */
	ROW("password", NULL, CK_PASSWORD, ST_TEXT, "password for AUTH"),
	ROW("passwordeval", NULL, CK_PASSWORDEVAL, ST_TEXT,
	    "command that prints the password"),
	ROW("ntlmdomain", NULL, CK_NTLMDOMAIN, ST_TEXT, "(not supported)"),
	ROW("allow_plaintext_auth", NULL, CK_ALLOW_PLAINTEXT_AUTH, ST_BOOL,
	    "allow credentials on an unencrypted connection"),
	FLAG("allow-plaintext-auth", CK_ALLOW_PLAINTEXT_AUTH, ST_BOOL, "on",
	    "allow credentials on an unencrypted connection"),
	ROW("initial_response", NULL, CK_INITIAL_RESPONSE, ST_BOOL,
	    "send an initial response with AUTH"),
	FLAG("no-initial-response", CK_INITIAL_RESPONSE, ST_BOOL, "off",
	    "never send an initial response with AUTH"),
	/* TLS */
	ROW("tls", NULL, CK_TLS, ST_BOOL, "use TLS"),
	ROW("tls_starttls", NULL, CK_TLS_STARTTLS, ST_BOOL,
	    "TLS by STARTTLS (on) or from the first byte (off)"),
	ROW("tls_nostarttls", NULL, CK_TLS_STARTTLS, ST_NOARG_OFF,
	    "old form of tls_starttls off"),
	ROW("tls_trust_file", "tls-ca", CK_TLS_TRUST_FILE, ST_TEXT,
	    "CA certificates to trust"),
	ROW("tls_crl_file", NULL, CK_TLS_CRL_FILE, ST_TEXT, "(not supported)"),
	ROW("tls_fingerprint", "tls-fingerprint", CK_TLS_FINGERPRINT,
	    ST_FINGERPRINT, "pin the server certificate (SHA256)"),
	ROW("tls_key_file", "tls-key", CK_TLS_KEY_FILE, ST_TEXT,
	    "client certificate key"),
	ROW("tls_cert_file", "tls-cert", CK_TLS_CERT_FILE, ST_TEXT,
	    "client certificate"),
	ROW("tls_certcheck", NULL, CK_TLS_CERTCHECK, ST_BOOL,
	    "verify the server certificate"),
	FLAG("tls-no-verify", CK_TLS_CERTCHECK, ST_BOOL, "off",
	    "do not verify the server (insecure)"),
	ROW("tls_nocertcheck", NULL, CK_TLS_CERTCHECK, ST_NOARG_OFF,
	    "old form of tls_certcheck off"),
	ROW("tls_priorities", "tls-priority", CK_TLS_PRIORITIES, ST_TEXT,
	    "GnuTLS priority string"),
	ROW("tls_host_override", NULL, CK_TLS_HOST_OVERRIDE, ST_TEXT,
	    "the name to verify the certificate against"),
	ROW("tls_min_dh_prime_bits", NULL, CK_TLS_MIN_DH_PRIME_BITS,
	    ST_POSINT_OPT, "(not supported)"),
	ROW("tls_force_sslv3", NULL, CK_TLS_FORCE_SSLV3, ST_BOOL,
	    "(not supported)"),
	/* envelope and message */
	ROW("from", NULL, CK_FROM, ST_TEXT, "envelope sender or a pattern"),
	ROW("allow_from_override", NULL, CK_ALLOW_FROM_OVERRIDE, ST_BOOL,
	    "let -f replace from"),
	ROW("auto_from", NULL, CK_AUTO_FROM, ST_BOOL, "sender USER@maildomain"),
	ROW("maildomain", NULL, CK_MAILDOMAIN, ST_WORD,
	    "domain for auto_from and unqualified addresses"),
	ROW("dsn_notify", NULL, CK_DSN_NOTIFY, ST_DSN_NOTIFY,
	    "DSN NOTIFY: never, or success, failure, delay (-N)"),
	ROW("dsn_return", NULL, CK_DSN_RETURN, ST_DSN_RETURN,
	    "DSN RET: full or headers (-R)"),
	ROW("set_from_header", NULL, CK_SET_FROM_HEADER, ST_HDR3,
	    "write From: auto, on, off"),
	ROW("add_missing_from_header", NULL, CK_SET_FROM_HEADER, ST_HDR_LEGACY,
	    "old form of set_from_header"),
	ROW("set_date_header", NULL, CK_SET_DATE_HEADER, ST_HDR2,
	    "write Date: auto, off"),
	ROW("add_missing_date_header", NULL, CK_SET_DATE_HEADER, ST_HDR_LEGACY,
	    "old form of set_date_header"),
	ROW("set_msgid_header", NULL, CK_SET_MSGID_HEADER, ST_HDR2,
	    "write Message-ID: auto, off"),
	ROW("remove_bcc_headers", NULL, CK_REMOVE_BCC_HEADERS, ST_BOOL,
	    "remove Bcc and Resent-Bcc"),
	FLAG("keep-bcc", CK_REMOVE_BCC_HEADERS, ST_BOOL, "off",
	    "do not remove Bcc and Resent-Bcc"),
	ROW("keepbcc", NULL, CK_REMOVE_BCC_HEADERS, ST_BOOL_INV,
	    "old form of remove_bcc_headers off"),
	ROW("undisclosed_recipients", NULL, CK_UNDISCLOSED_RECIPIENTS, ST_BOOL,
	    "replace To, Cc, Bcc with an empty group"),
	/* msmtp 1.8.29: one To listing the envelope's recipients. */
	ROW("set_to_header", NULL, CK_SET_TO_HEADER, ST_BOOL,
	    "replace To, Cc, Bcc with one To of the recipients"),
	ROW("aliases", NULL, CK_ALIASES, ST_TEXT, "aliases file"),
	/* msmtp 1.8.24: the display name of a From carrier writes, as -F. */
	ROW("from_full_name", NULL, CK_FROM_FULL_NAME, ST_TEXT,
	    "display name in a From header carrier adds (-F)"),
	/* output */
	ROW("logfile", "log", CK_LOGFILE, ST_TEXT, "one line per message"),
	ROW("logfile_time_format", NULL, CK_LOGFILE_TIME_FORMAT, ST_TEXT,
	    "strftime format of the log file"),
	{ "syslog", "syslog", CK_SYSLOG, ST_SYSLOG, "on", true,
	    "one line per message to syslog: on, off or a facility" },
	/* carrier only */
	ROW("queue", NULL, CK_QUEUE, ST_TEXT, "queue directory; turns "
	    "queueing on"),
	ROW("require_tls", NULL, CK_REQUIRE_TLS, ST_BOOL, "REQUIRETLS (RFC "
	    "8689): the message only over verified TLS, all the way"),
	FLAG("require-tls", CK_REQUIRE_TLS, ST_BOOL, "on", "REQUIRETLS (RFC "
	    "8689): the message only over verified TLS, all the way"),
	ROW("proxy", "proxy", CK_PROXY, ST_PROXY, "SOCKS5 proxy: "
	    "socks5://[USER@]HOST[:PORT], socks5h:// to let it resolve names"),
	/* OAuth2 (carrier(1) OAUTH2); the client secret and its command
	   only in a configuration file, as the password. */
	ROW("oauth2_provider", "oauth2-provider", CK_OAUTH2_PROVIDER,
	    ST_OAUTH2_PROVIDER, "OAuth2 provider: google, microsoft, custom"),
	ROW("oauth2_client_id", "oauth2-client-id", CK_OAUTH2_CLIENT_ID,
	    ST_TEXT, "OAuth2 client id"),
	ROW("oauth2_client_secret", NULL, CK_OAUTH2_CLIENT_SECRET, ST_TEXT,
	    "OAuth2 client secret"),
	ROW("oauth2_client_secret_eval", NULL, CK_OAUTH2_CLIENT_SECRET_EVAL,
	    ST_TEXT, "command that prints the OAuth2 client secret"),
	ROW("oauth2_authorization_endpoint", "oauth2-authorization-endpoint",
	    CK_OAUTH2_AUTHORIZATION_ENDPOINT, ST_TEXT,
	    "OAuth2 authorization endpoint (code grant)"),
	ROW("oauth2_device_endpoint", "oauth2-device-endpoint",
	    CK_OAUTH2_DEVICE_ENDPOINT, ST_TEXT,
	    "OAuth2 device authorization endpoint"),
	ROW("oauth2_token_endpoint", "oauth2-token-endpoint",
	    CK_OAUTH2_TOKEN_ENDPOINT, ST_TEXT, "OAuth2 token endpoint"),
	ROW("oauth2_scope", "oauth2-scope", CK_OAUTH2_SCOPE, ST_TEXT,
	    "OAuth2 scope"),
	ROW("oauth2_token_file", "oauth2-token-file", CK_OAUTH2_TOKEN_FILE,
	    ST_TEXT, "where the OAuth2 tokens are kept"),
};
const size_t settings_count = sizeof settings / sizeof settings[0];
/* struct options marks the settings of the command line in 64 bits. */
_Static_assert(CK_COUNT <= 64, "options.cli_keys has 64 bits");

/* SASL mechanisms msmtp accepts for `auth` that carrier does not have. */
static const char *const msmtp_only_mechs[] = { "DIGEST-MD5", "GSSAPI",
    "NTLM", NULL };

const struct setting *
setting_by_key(const char *key)
{
	for (size_t i = 0; i < settings_count; i++)
		if (settings[i].key != NULL && strcmp(settings[i].key, key) == 0)
			return &settings[i];
	return NULL;
}

const struct setting *
setting_by_option(const char *option)
{
	for (size_t i = 0; i < settings_count; i++)
		if (settings[i].option != NULL &&
		    strcmp(settings[i].option, option) == 0)
			return &settings[i];
	return NULL;
}

const char *
config_key_name(enum config_key k)
{
	/* The first row of a setting is its canonical key. */
	for (size_t i = 0; i < settings_count; i++)
		if (settings[i].id == k && settings[i].key != NULL)
			return settings[i].key;
	return "?";
}

void
setting_value_free(struct setting_value *v, enum config_key id)
{
	if (id == CK_PASSWORD || id == CK_PASSWORDEVAL ||
	    id == CK_OAUTH2_CLIENT_SECRET)
		free_secret(v->str);
	else
		free(v->str);
	memset(v, 0, sizeof *v);
}

/* ------------------------------------------------------------------ */
/* Numbers, hosts and ports                                            */

bool
parse_posint(const char *s, long max, long *out)
{
	long v = 0;

	if (*s == '+')
		s++;
	if (*s < '1' || *s > '9')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

/* The PORT after a colon; true with *port 0 when there is none. */
static bool
port_after(const char *colon, int *port)
{
	long n;

	*port = 0;
	if (colon == NULL)
		return true;
	if (!parse_posint(colon + 1, 65535, &n))
		return false;
	*port = (int)n;
	return true;
}

bool
hostport_parse(const char *v, char **host, int *port)
{
	const char *colon = NULL, *start = v, *end;

	if (*v == '\0' || has_control(v))
		return false;
	if (v[0] == '/') {		/* a socket path, taken whole */
		*port = 0;
		*host = xstrdup(v);
		return true;
	}
	if (v[0] == '[') {
		const char *close = strchr(v, ']');

		if (close == NULL || close == v + 1 ||
		    (close[1] != '\0' && close[1] != ':'))
			return false;
		start = v + 1;
		end = close;
		if (close[1] == ':')
			colon = close + 1;
	} else {
		colon = strchr(v, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			colon = NULL;	/* a bare IPv6 address */
		end = colon != NULL ? colon : v + strlen(v);
	}
	if (end == start || !port_after(colon, port))
		return false;
	*host = xstrndup(start, (size_t)(end - start));
	return true;
}

/* ------------------------------------------------------------------ */
/* Values                                                              */

/* Number of bytes in a fingerprint written as hex pairs, all separated by
 * colons (msmtp's form) or none; 0 when malformed. */
static size_t
fingerprint_bytes(const char *s)
{
	size_t n = 0;
	bool colons = strchr(s, ':') != NULL;

	while (*s != '\0') {
		if (hex_value(s[0]) < 0 || hex_value(s[1]) < 0)
			return 0;
		s += 2;
		n++;
		if (*s == '\0')
			break;
		if (colons) {
			if (*s != ':' || s[1] == '\0')
				return 0;
			s++;
		}
	}
	return n;
}

static char *
upper_dup(const char *s)
{
	char *u = xstrdup(s);

	for (char *p = u; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	return u;
}

/* One mechanism name of an auth list into a; false when unknown. */
static bool
auth_add(struct auth_setting *a, const char *name)
{
	enum sasl_mech m = sasl_mech_from_name(name);

	if (m == SASL_NONE) {
		for (size_t i = 0; msmtp_only_mechs[i] != NULL; i++)
			if (ascii_ieq(name, msmtp_only_mechs[i])) {
				if (a->unsupported == NULL)
					a->unsupported = msmtp_only_mechs[i];
				return true;
			}
		return false;
	}
	for (size_t i = 0; i < a->n; i++)
		if (a->mech[i] == m)
			return true;	/* named twice: tried once */
	if (a->n < AUTH_LIST_MAX)
		a->mech[a->n++] = m;
	return true;
}

/* "" | on | off | MECH[,MECH...], names separated by commas or blanks. */
static enum setting_error
parse_auth(const char *arg, struct setting_value *v, const char **hint)
{
	struct auth_setting *a = &v->auth;
	char *copy, *save = NULL;
	bool ok = true;

	if (*arg == '\0' || ascii_ieq(arg, "on")) {
		a->mode = AUTH_ON;
		v->str = xstrdup("on");
		return SE_OK;
	}
	if (ascii_ieq(arg, "off")) {
		a->mode = AUTH_OFF;
		v->str = xstrdup("off");
		return SE_OK;
	}
	a->mode = AUTH_LIST;
	copy = xstrdup(arg);
	for (char *t = strtok_r(copy, ", \t", &save); t != NULL && ok;
	    t = strtok_r(NULL, ", \t", &save))
		ok = auth_add(a, t);
	free(copy);
	*hint = "on, off or mechanisms: SCRAM-SHA-256-PLUS, "
	    "SCRAM-SHA-1-PLUS, SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN, XOAUTH2, OAUTHBEARER, EXTERNAL";
	if (!ok || (a->n == 0 && a->unsupported == NULL))
		return SE_INVALID;
	v->str = upper_dup(arg);
	return SE_OK;
}

static enum setting_error
parse_fingerprint(const char *arg, struct setting_value *v,
    const char **hint)
{
	const char *hex = arg;
	bool prefixed = false;
	size_t n;

	if (*arg == '\0') {
		v->str = xstrdup("");
		return SE_OK;
	}
	if (ascii_iprefix(arg, "SHA256:")) {
		hex = arg + 7;
		prefixed = true;
	}
	n = fingerprint_bytes(hex);
	if (!(n == 32 || (!prefixed && (n == 20 || n == 16)))) {
		*hint = "the SHA256 fingerprint as 32 hex pairs, e.g. "
		    "SHA256:01:23:...:EF";
		return SE_INVALID;
	}
	v->num = (long)n;
	v->str = n == 32 ? xasprintf("SHA256:%s", hex) : xstrdup(arg);
	return SE_OK;
}

/* off, never, or success, failure and delay each at most once, in any
   case: upper-cased, as RFC 3461 writes them on the wire. */
static enum setting_error
parse_dsn_notify(const char *arg, struct setting_value *v,
    const char **hint)
{
	if (*arg == '\0')
		return SE_EMPTY;
	if (ascii_ieq(arg, "off")) {
		v->str = xstrdup("");
		return SE_OK;
	}
	if (dsn_notify_check(arg) != NULL) {
		*hint = "never, or success, failure and delay, each at most "
		    "once";
		return SE_INVALID;
	}
	v->str = upper_dup(arg);
	return SE_OK;
}

static enum setting_error
parse_dsn_return(const char *arg, struct setting_value *v,
    const char **hint)
{
	*hint = "full, headers or hdrs";
	if (*arg == '\0')
		return SE_EMPTY;
	if (ascii_ieq(arg, "off"))
		v->str = xstrdup("");
	else if (ascii_ieq(arg, "headers") || ascii_ieq(arg, "hdrs"))
		v->str = xstrdup("HDRS");
	else if (ascii_ieq(arg, "full"))
		v->str = xstrdup("FULL");
	else
		return SE_INVALID;
	return SE_OK;
}

/* on (LOG_USER), off, or a facility with or without LOG_, in any case. */
static enum setting_error
parse_syslog(const char *arg, struct setting_value *v, const char **hint)
{
	static const char *const facilities[] = { "user", "mail", "daemon",
	    "local0", "local1", "local2", "local3", "local4", "local5",
	    "local6", "local7", NULL };
	const char *fac = arg;

	if (*arg == '\0' || ascii_ieq(arg, "on")) {
		v->str = xstrdup(SETTING_SYSLOG_DEFAULT);
		return SE_OK;
	}
	if (ascii_ieq(arg, "off")) {
		v->str = xstrdup("");
		return SE_OK;
	}
	if (ascii_iprefix(fac, "LOG_"))
		fac += 4;
	if (!word_in(fac, facilities)) {
		*hint = "on, off or a facility: user, mail, daemon, local0 to "
		    "local7";
		return SE_INVALID;
	}
	v->str = xasprintf("LOG_%s", fac);
	for (char *p = v->str; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	return SE_OK;
}

/* "" | on | off into 1/0 (inverted for keepbcc). */
static enum setting_error
parse_bool(const char *arg, bool invert, struct setting_value *v,
    const char **hint)
{
	*hint = "on or off";
	if (*arg == '\0' || ascii_ieq(arg, "on"))
		v->num = 1;
	else if (ascii_ieq(arg, "off"))
		v->num = 0;
	else
		return SE_INVALID;
	if (invert)
		v->num = !v->num;
	v->str = xstrdup(v->num ? "on" : "off");
	return SE_OK;
}

/* set_*_header and add_missing_*_header: auto, on (HDR3 only), off. */
static enum setting_error
parse_header(const char *arg, enum setting_type t, struct setting_value *v,
    const char **hint)
{
	*hint = t == ST_HDR3 ? "auto, on or off" : t == ST_HDR2 ?
	    "auto or off" : "on or off";
	if (*arg == '\0' || ascii_ieq(arg, "auto") ||
	    (t == ST_HDR_LEGACY && ascii_ieq(arg, "on")))
		v->num = CH_AUTO;
	else if (ascii_ieq(arg, "off"))
		v->num = CH_OFF;
	else if (t == ST_HDR3 && ascii_ieq(arg, "on"))
		v->num = CH_ON;
	else
		return SE_INVALID;
	v->str = xstrdup(v->num == CH_AUTO ? "auto" : v->num == CH_ON ? "on" :
	    "off");
	return SE_OK;
}

/* A number from 1 to max, or "" when optional. */
static enum setting_error
parse_number(const char *arg, long max, bool optional, const char *what,
    struct setting_value *v, const char **hint)
{
	*hint = what;
	if (*arg == '\0') {
		if (!optional)
			return SE_EMPTY;
		v->str = xstrdup("");
		return SE_OK;
	}
	if (!parse_posint(arg, max, &v->num))
		return SE_INVALID;
	v->str = xasprintf("%ld", v->num);
	return SE_OK;
}

static enum setting_error
parse_timeout(const char *arg, struct setting_value *v, const char **hint)
{
	if (ascii_ieq(arg, "off")) {
		v->str = xstrdup("off");
		return SE_OK;
	}
	return parse_number(arg, SETTING_TIMEOUT_MAX, false, "a number of "
	    "seconds, 1 to 86400", v, hint);
}

static enum setting_error
parse_host(const char *arg, struct setting_value *v, const char **hint)
{
	int port;

	*hint = "HOST, HOST:PORT, [ADDRESS]:PORT or /socket, the port 1 to "
	    "65535";
	if (*arg == '\0')
		return SE_EMPTY;
	if (has_control(arg))
		return SE_CONTROL;
	if (!hostport_parse(arg, &v->str, &port))
		return SE_INVALID;
	v->num = port;
	return SE_OK;
}

/* --proxy and proxy: a SOCKS5 URL, checked here and kept as written
   (setup splits it); "" unsets. */
static enum setting_error
parse_proxy(const char *arg, struct setting_value *v, const char **hint)
{
	char *host, *user;
	int port;
	bool remote;

	*hint = "socks5://[USER@]HOST[:PORT] or socks5h://[USER@]HOST[:PORT]";
	if (*arg != '\0') {
		if (has_control(arg))
			return SE_CONTROL;
		if (!socks_url_parse(arg, &host, &port, &user, &remote))
			return SE_INVALID;
		free(host);
		free(user);
	}
	v->str = xstrdup(arg);
	return SE_OK;
}

/* --source and source_ip: checked as HOST[:PORT], kept as written (the
   connection splits it); "" unsets. */
static enum setting_error
parse_source(const char *arg, struct setting_value *v, const char **hint)
{
	char *host;
	int port;

	if (*arg != '\0') {
		if (has_control(arg))
			return SE_CONTROL;
		*hint = "ADDRESS, ADDRESS:PORT or [ADDRESS]:PORT, the port 1 "
		    "to 65535";
		if (arg[0] == '/' || !hostport_parse(arg, &host, &port))
			return SE_INVALID;
		free(host);
	}
	v->str = xstrdup(arg);
	return SE_OK;
}

static enum setting_error
parse_text(const char *arg, enum setting_type t, struct setting_value *v)
{
	if (t != ST_TEXT && has_control(arg))
		return SE_CONTROL;
	if (t == ST_HELO && strpbrk(arg, " \t") != NULL)
		return SE_BLANK;
	v->str = xstrdup(arg);
	return SE_OK;
}

static enum setting_error
parse_protocol(const char *arg, struct setting_value *v, const char **hint)
{
	*hint = "smtp or lmtp";
	if (*arg == '\0')
		return SE_EMPTY;
	if (ascii_ieq(arg, "smtp"))
		v->num = 0;
	else if (ascii_ieq(arg, "lmtp"))
		v->num = 1;
	else
		return SE_INVALID;
	v->str = xstrdup(v->num ? "lmtp" : "smtp");
	return SE_OK;
}

static enum setting_error
parse_typed(const struct setting *s, const char *arg,
    struct setting_value *v, const char **hint)
{
	switch (s->type) {
	case ST_TEXT:
	case ST_WORD:
	case ST_HELO:
		return parse_text(arg, s->type, v);
	case ST_HOST:
		return parse_host(arg, v, hint);
	case ST_SOURCE:
		return parse_source(arg, v, hint);
	case ST_PORT:
	case ST_PORT_OPT:
		return parse_number(arg, 65535, s->type == ST_PORT_OPT,
		    "a port number, 1 to 65535", v, hint);
	case ST_TIMEOUT:
		return parse_timeout(arg, v, hint);
	case ST_POSINT_OPT:
		return parse_number(arg, INT_MAX, true, "a positive number",
		    v, hint);
	case ST_PROTOCOL:
		return parse_protocol(arg, v, hint);
	case ST_AUTH:
		return parse_auth(arg, v, hint);
	case ST_BOOL:
	case ST_BOOL_INV:
		return parse_bool(arg, s->type == ST_BOOL_INV, v, hint);
	case ST_NOARG_OFF:
		if (*arg != '\0')
			return SE_NOARG;
		v->str = xstrdup("off");
		return SE_OK;
	case ST_FINGERPRINT:
		return parse_fingerprint(arg, v, hint);
	case ST_DSN_NOTIFY:
		return parse_dsn_notify(arg, v, hint);
	case ST_DSN_RETURN:
		return parse_dsn_return(arg, v, hint);
	case ST_HDR3:
	case ST_HDR2:
	case ST_HDR_LEGACY:
		return parse_header(arg, s->type, v, hint);
	case ST_SYSLOG:
		return parse_syslog(arg, v, hint);
	case ST_PROXY:
		return parse_proxy(arg, v, hint);
	case ST_OAUTH2_PROVIDER:
		*hint = "google, microsoft or custom";
		if (!oauth2_provider_known(arg))
			return *arg ? SE_INVALID : SE_EMPTY;
		v->str = xstrdup(arg);
		for (char *p = v->str; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		return SE_OK;
	}
	return SE_INVALID;
}

enum setting_error
setting_parse(const struct setting *s, const char *arg,
    struct setting_value *v, const char **hint)
{
	enum setting_error e;

	memset(v, 0, sizeof *v);
	*hint = "";
	e = parse_typed(s, arg, v, hint);
	if (e != SE_OK)
		setting_value_free(v, s->id);
	if (*hint == NULL)
		*hint = "";
	return e;
}

void
setting_error_text(enum setting_error e, const char *key, const char *arg,
    const char *hint, char *out, size_t outlen)
{
	bool named = key != NULL;
	const char *k = named ? key : "";

	switch (e) {
	case SE_OK:
		(void)snprintf(out, outlen, "ok");
		break;
	case SE_EMPTY:
		(void)snprintf(out, outlen, named ? "'%s' needs a value" :
		    "%sneeds a value", k);
		break;
	case SE_NOARG:
		(void)snprintf(out, outlen, named ? "'%s' takes no value" :
		    "%stakes no value", k);
		break;
	case SE_CONTROL:
		(void)snprintf(out, outlen, named ? "a control character in "
		    "the value of '%s'" : "%scontains a control character", k);
		break;
	case SE_BLANK:
		(void)snprintf(out, outlen, named ? "a space in the value of "
		    "'%s'" : "%scontains a space", k);
		break;
	case SE_INVALID:
		(void)snprintf(out, outlen, "invalid value '%s'%s%s%s%s%s%s",
		    arg, named ? " for '" : "", k, named ? "'" : "",
		    *hint ? " (" : "", hint, *hint ? ")" : "");
		break;
	}
}

/* ------------------------------------------------------------------ */
/* What an auth setting implies                                        */

enum sasl_mech
auth_first_needing_user(const struct auth_setting *a)
{
	if (a->mode != AUTH_LIST)
		return SASL_NONE;
	for (size_t i = 0; i < a->n; i++)
		if (a->mech[i] != SASL_EXTERNAL &&
		    a->mech[i] != SASL_OAUTHBEARER)
			return a->mech[i];
	return SASL_NONE;
}

bool
auth_may_need_secret(const struct auth_setting *a)
{
	if (a->mode == AUTH_OFF)
		return false;
	if (a->mode == AUTH_LIST && a->n == 1 && a->mech[0] == SASL_EXTERNAL)
		return false;
	return true;
}
