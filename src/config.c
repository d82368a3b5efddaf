/*
 * config.c: msmtprc-compatible configuration files.  The parser is pure
 * (bytes in, accounts out); config_apply expands ~ and %U/%H/%C/%M and
 * merges an account into struct options; config_load does the file work.
 * See config.h for the syntax and the contracts.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "params.h"
#include "secret.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

#define CONFIG_MAX_SIZE (1024 * 1024)	/* bytes in a configuration file */

/* ------------------------------------------------------------------ */
/* Keys                                                                */

enum kind {
	K_STR,		/* any text, "" allowed (unsets) */
	K_STR_REQ,	/* non-empty text */
	K_PORT,		/* 1..65535, required */
	K_PORT_OPT,	/* "" or 1..65535 */
	K_TIMEOUT,	/* off or a positive number of seconds */
	K_POSINT_OPT,	/* "" or a positive number */
	K_PROTOCOL,	/* smtp | lmtp */
	K_AUTH,		/* "" | on | off | MECH[,MECH...] */
	K_BOOL,		/* "" | on | off */
	K_BOOL_INV,	/* keepbcc: on means remove_bcc_headers off */
	K_NOARG_OFF,	/* tls_nostarttls, tls_nocertcheck */
	K_FINGERPRINT,
	K_DSN_NOTIFY,
	K_DSN_RETURN,
	K_HDR3,		/* "" | auto | on | off */
	K_HDR2,		/* "" | auto | off */
	K_HDR_LEGACY,	/* add_missing_*_header: "" | on | off */
	K_SYSLOG,	/* "" | on | off | FACILITY */
};

struct keydef {
	const char *name;
	enum config_key key;
	enum kind kind;
};

static const struct keydef keydefs[] = {
	{ "host", CK_HOST, K_STR_REQ },
	{ "port", CK_PORT, K_PORT },
	{ "socket", CK_SOCKET, K_STR },
	{ "source_ip", CK_SOURCE_IP, K_STR },
	{ "proxy_host", CK_PROXY_HOST, K_STR },
	{ "proxy_port", CK_PROXY_PORT, K_PORT_OPT },
	{ "timeout", CK_TIMEOUT, K_TIMEOUT },
	{ "connect_timeout", CK_TIMEOUT, K_TIMEOUT },
	{ "protocol", CK_PROTOCOL, K_PROTOCOL },
	{ "domain", CK_DOMAIN, K_STR },
	{ "auth", CK_AUTH, K_AUTH },
	{ "user", CK_USER, K_STR },
	{ "password", CK_PASSWORD, K_STR },
	{ "passwordeval", CK_PASSWORDEVAL, K_STR },
	{ "ntlmdomain", CK_NTLMDOMAIN, K_STR },
	{ "tls", CK_TLS, K_BOOL },
	{ "tls_starttls", CK_TLS_STARTTLS, K_BOOL },
	{ "tls_nostarttls", CK_TLS_STARTTLS, K_NOARG_OFF },
	{ "tls_trust_file", CK_TLS_TRUST_FILE, K_STR },
	{ "tls_crl_file", CK_TLS_CRL_FILE, K_STR },
	{ "tls_fingerprint", CK_TLS_FINGERPRINT, K_FINGERPRINT },
	{ "tls_key_file", CK_TLS_KEY_FILE, K_STR },
	{ "tls_cert_file", CK_TLS_CERT_FILE, K_STR },
	{ "tls_certcheck", CK_TLS_CERTCHECK, K_BOOL },
	{ "tls_nocertcheck", CK_TLS_CERTCHECK, K_NOARG_OFF },
	{ "tls_priorities", CK_TLS_PRIORITIES, K_STR },
	{ "tls_host_override", CK_TLS_HOST_OVERRIDE, K_STR },
	{ "tls_min_dh_prime_bits", CK_TLS_MIN_DH_PRIME_BITS, K_POSINT_OPT },
	{ "tls_force_sslv3", CK_TLS_FORCE_SSLV3, K_BOOL },
	{ "from", CK_FROM, K_STR },
	{ "allow_from_override", CK_ALLOW_FROM_OVERRIDE, K_BOOL },
	{ "auto_from", CK_AUTO_FROM, K_BOOL },
	{ "maildomain", CK_MAILDOMAIN, K_STR },
	{ "dsn_notify", CK_DSN_NOTIFY, K_DSN_NOTIFY },
	{ "dsn_return", CK_DSN_RETURN, K_DSN_RETURN },
	{ "set_from_header", CK_SET_FROM_HEADER, K_HDR3 },
	{ "add_missing_from_header", CK_SET_FROM_HEADER, K_HDR_LEGACY },
	{ "set_date_header", CK_SET_DATE_HEADER, K_HDR2 },
	{ "add_missing_date_header", CK_SET_DATE_HEADER, K_HDR_LEGACY },
	{ "set_msgid_header", CK_SET_MSGID_HEADER, K_HDR2 },
	{ "remove_bcc_headers", CK_REMOVE_BCC_HEADERS, K_BOOL },
	{ "keepbcc", CK_REMOVE_BCC_HEADERS, K_BOOL_INV },
	{ "undisclosed_recipients", CK_UNDISCLOSED_RECIPIENTS, K_BOOL },
	{ "logfile", CK_LOGFILE, K_STR },
	{ "logfile_time_format", CK_LOGFILE_TIME_FORMAT, K_STR },
	{ "syslog", CK_SYSLOG, K_SYSLOG },
	{ "aliases", CK_ALIASES, K_STR },
	{ "queue", CK_QUEUE, K_STR },
	{ "allow_plaintext_auth", CK_ALLOW_PLAINTEXT_AUTH, K_BOOL },
	{ "initial_response", CK_INITIAL_RESPONSE, K_BOOL },
	{ "oauth2_provider", CK_OAUTH2_PROVIDER, K_STR },
	{ "oauth2_client_id", CK_OAUTH2_CLIENT_ID, K_STR },
	{ "oauth2_client_secret", CK_OAUTH2_CLIENT_SECRET, K_STR },
	{ "oauth2_client_secret_eval", CK_OAUTH2_CLIENT_SECRET_EVAL, K_STR },
	{ "oauth2_authorization_endpoint", CK_OAUTH2_AUTHORIZATION_ENDPOINT,
	    K_STR },
	{ "oauth2_device_endpoint", CK_OAUTH2_DEVICE_ENDPOINT, K_STR },
	{ "oauth2_token_endpoint", CK_OAUTH2_TOKEN_ENDPOINT, K_STR },
	{ "oauth2_scope", CK_OAUTH2_SCOPE, K_STR },
	{ "oauth2_token_file", CK_OAUTH2_TOKEN_FILE, K_STR },
};

static const char *const key_names[CK_COUNT] = {
	[CK_HOST] = "host", [CK_PORT] = "port", [CK_SOCKET] = "socket",
	[CK_SOURCE_IP] = "source_ip", [CK_PROXY_HOST] = "proxy_host",
	[CK_PROXY_PORT] = "proxy_port", [CK_TIMEOUT] = "timeout",
	[CK_PROTOCOL] = "protocol", [CK_DOMAIN] = "domain",
	[CK_AUTH] = "auth", [CK_USER] = "user", [CK_PASSWORD] = "password",
	[CK_PASSWORDEVAL] = "passwordeval", [CK_NTLMDOMAIN] = "ntlmdomain",
	[CK_TLS] = "tls", [CK_TLS_STARTTLS] = "tls_starttls",
	[CK_TLS_TRUST_FILE] = "tls_trust_file",
	[CK_TLS_CRL_FILE] = "tls_crl_file",
	[CK_TLS_FINGERPRINT] = "tls_fingerprint",
	[CK_TLS_KEY_FILE] = "tls_key_file",
	[CK_TLS_CERT_FILE] = "tls_cert_file",
	[CK_TLS_CERTCHECK] = "tls_certcheck",
	[CK_TLS_PRIORITIES] = "tls_priorities",
	[CK_TLS_HOST_OVERRIDE] = "tls_host_override",
	[CK_TLS_MIN_DH_PRIME_BITS] = "tls_min_dh_prime_bits",
	[CK_TLS_FORCE_SSLV3] = "tls_force_sslv3",
	[CK_FROM] = "from", [CK_ALLOW_FROM_OVERRIDE] = "allow_from_override",
	[CK_AUTO_FROM] = "auto_from", [CK_MAILDOMAIN] = "maildomain",
	[CK_DSN_NOTIFY] = "dsn_notify", [CK_DSN_RETURN] = "dsn_return",
	[CK_SET_FROM_HEADER] = "set_from_header",
	[CK_SET_DATE_HEADER] = "set_date_header",
	[CK_SET_MSGID_HEADER] = "set_msgid_header",
	[CK_REMOVE_BCC_HEADERS] = "remove_bcc_headers",
	[CK_UNDISCLOSED_RECIPIENTS] = "undisclosed_recipients",
	[CK_LOGFILE] = "logfile",
	[CK_LOGFILE_TIME_FORMAT] = "logfile_time_format",
	[CK_SYSLOG] = "syslog", [CK_ALIASES] = "aliases",
	[CK_QUEUE] = "queue", [CK_ALLOW_PLAINTEXT_AUTH] = "allow_plaintext_auth",
	[CK_INITIAL_RESPONSE] = "initial_response",
	[CK_OAUTH2_PROVIDER] = "oauth2_provider",
	[CK_OAUTH2_CLIENT_ID] = "oauth2_client_id",
	[CK_OAUTH2_CLIENT_SECRET] = "oauth2_client_secret",
	[CK_OAUTH2_CLIENT_SECRET_EVAL] = "oauth2_client_secret_eval",
	[CK_OAUTH2_AUTHORIZATION_ENDPOINT] = "oauth2_authorization_endpoint",
	[CK_OAUTH2_DEVICE_ENDPOINT] = "oauth2_device_endpoint",
	[CK_OAUTH2_TOKEN_ENDPOINT] = "oauth2_token_endpoint",
	[CK_OAUTH2_SCOPE] = "oauth2_scope",
	[CK_OAUTH2_TOKEN_FILE] = "oauth2_token_file",
};

const char *
config_key_name(enum config_key k)
{
	if ((int)k < 0 || k >= CK_COUNT)
		return "?";
	return key_names[k];
}

static const struct keydef *
find_keydef(const char *name)
{
	for (size_t i = 0; i < sizeof keydefs / sizeof keydefs[0]; i++)
		if (strcmp(keydefs[i].name, name) == 0)
			return &keydefs[i];
	return NULL;
}

/* SASL mechanisms msmtp accepts for `auth`; `ok` marks those carrier has. */
static const struct {
	const char *name;
	bool ok;
} auth_mechs[] = {
	{ "SCRAM-SHA-256", true }, { "SCRAM-SHA-1", true },
	{ "CRAM-MD5", true }, { "PLAIN", true }, { "LOGIN", true },
	{ "XOAUTH2", true }, { "OAUTHBEARER", true }, { "EXTERNAL", true },
	{ "DIGEST-MD5", false }, { "GSSAPI", false }, { "NTLM", false },
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* msmtp's argument rule: drop surrounding blanks, then one pair of
 * enclosing double quotes.  Returns a malloc'd string. */
static char *
trim_arg(const char *s, size_t len)
{
	while (len > 0 && is_blank(*s)) {
		s++;
		len--;
	}
	while (len > 0 && is_blank(s[len - 1]))
		len--;
	if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
		s++;
		len -= 2;
	}
	return xstrndup(s, len);
}

/* A positive decimal number up to max: optional '+', no leading zero (a
 * leading zero would be octal to msmtp, so reject rather than differ). */
static bool
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

static void
lower_ascii(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

static void
upper_ascii(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)toupper((unsigned char)*s);
}

static void
value_clear(struct config_value *v, enum config_key k)
{
	if (k == CK_PASSWORD)
		free_secret(v->str);
	else
		free(v->str);
	memset(v, 0, sizeof *v);
}

static void
value_copy(struct config_value *dst, const struct config_value *src,
    enum config_key k, bool own)
{
	value_clear(dst, k);
	*dst = *src;
	dst->str = src->str ? xstrdup(src->str) : NULL;
	dst->own = own;
}

static void
account_clear(struct config_account *a)
{
	free(a->name);
	a->name = NULL;
	for (int k = 0; k < CK_COUNT; k++)
		value_clear(&a->v[k], (enum config_key)k);
	a->line = 0;
}

void
config_init(struct config *c)
{
	memset(c, 0, sizeof *c);
}

void
config_free(struct config *c)
{
	for (size_t i = 0; i < c->n; i++)
		account_clear(&c->accounts[i]);
	free(c->accounts);
	account_clear(&c->defaults);
	free(c->filename);
	config_init(c);
}

/* ------------------------------------------------------------------ */
/* Values                                                              */

/* Parse one argument for a key into *v (str, num).  Returns 0, or -1
 * with a message (without FILE:LINE) in err. */
static int
parse_value(const struct keydef *kd, const char *arg, struct config_value *v,
    char *err, size_t errlen)
{
	const char *name = kd->name;
	char *s;

	v->num = 0;
	v->str = NULL;
	/* Values that end up inside SMTP commands hold no control byte
	   (THREATS I02, I03); passwords and commands may hold anything. */
	if (kd->key == CK_DOMAIN || kd->key == CK_HOST ||
	    kd->key == CK_USER || kd->key == CK_DSN_NOTIFY ||
	    kd->key == CK_MAILDOMAIN) {
		if (has_control(arg)) {
			(void)snprintf(err, errlen, "a control character in "
			    "the value of '%s'", name);
			return -1;
		}
	}
	switch (kd->kind) {
	case K_STR_REQ:
		if (*arg == '\0')
			goto needs_arg;
		/* FALLTHROUGH */
	case K_STR:
		v->str = xstrdup(arg);
		return 0;
	case K_PORT:
		if (*arg == '\0')
			goto needs_arg;
		/* FALLTHROUGH */
	case K_PORT_OPT:
		if (*arg == '\0') {
			v->str = xstrdup("");
			return 0;
		}
		if (!parse_posint(arg, 65535, &v->num)) {
			(void)snprintf(err, errlen, "invalid value '%s' for '%s' "
			    "(a port number, 1 to 65535)", arg, name);
			return -1;
		}
		v->str = xasprintf("%ld", v->num);
		return 0;
	case K_TIMEOUT:
		if (*arg == '\0')
			goto needs_arg;
		if (ascii_ieq(arg, "off")) {
			v->str = xstrdup("off");
			return 0;
		}
		if (!parse_posint(arg, INT_MAX, &v->num)) {
			(void)snprintf(err, errlen, "invalid value '%s' for '%s' "
			    "(a positive number of seconds, or off)", arg, name);
			return -1;
		}
		v->str = xasprintf("%ld", v->num);
		return 0;
	case K_POSINT_OPT:
		if (*arg == '\0') {
			v->str = xstrdup("");
			return 0;
		}
		if (!parse_posint(arg, INT_MAX, &v->num))
			goto invalid;
		v->str = xasprintf("%ld", v->num);
		return 0;
	case K_PROTOCOL:
		if (*arg == '\0')
			goto needs_arg;
		if (ascii_ieq(arg, "smtp"))
			v->num = 0;
		else if (ascii_ieq(arg, "lmtp"))
			v->num = 1;
		else
			goto invalid;
		v->str = xstrdup(v->num ? "lmtp" : "smtp");
		return 0;
	case K_AUTH: {
		struct buf b;
		const char *p = arg;

		if (*arg == '\0' || ascii_ieq(arg, "on")) {
			v->str = xstrdup("on");
			return 0;
		}
		if (ascii_ieq(arg, "off")) {
			v->str = xstrdup("off");
			return 0;
		}
		buf_init(&b);
		for (;;) {
			size_t n = strcspn(p, ",");
			size_t i, nm = sizeof auth_mechs / sizeof auth_mechs[0];

			for (i = 0; i < nm; i++)
				if (strlen(auth_mechs[i].name) == n &&
				    strncasecmp(auth_mechs[i].name, p, n) == 0)
					break;
			if (i == nm) {
				buf_free(&b);
				goto invalid;
			}
			if (b.len > 0)
				buf_addc(&b, ',');
			buf_adds(&b, auth_mechs[i].name);
			if (p[n] == '\0')
				break;
			p += n + 1;
		}
		v->str = b.data;
		return 0;
	}
	case K_BOOL:
	case K_BOOL_INV:
		if (*arg == '\0' || ascii_ieq(arg, "on"))
			v->num = 1;
		else if (ascii_ieq(arg, "off"))
			v->num = 0;
		else
			goto invalid;
		if (kd->kind == K_BOOL_INV)
			v->num = !v->num;
		v->str = xstrdup(v->num ? "on" : "off");
		return 0;
	case K_NOARG_OFF:
		if (*arg != '\0') {
			(void)snprintf(err, errlen, "'%s' takes no value", name);
			return -1;
		}
		v->str = xstrdup("off");
		return 0;
	case K_FINGERPRINT: {
		const char *hex = arg;
		bool prefixed = false;
		size_t n;

		if (*arg == '\0') {
			v->str = xstrdup("");
			return 0;
		}
		if (ascii_iprefix(arg, "SHA256:")) {
			hex = arg + 7;
			prefixed = true;
		}
		n = fingerprint_bytes(hex);
		if (!(n == 32 || (!prefixed && (n == 20 || n == 16)))) {
			(void)snprintf(err, errlen, "invalid value '%s' for '%s' "
			    "(the SHA256 fingerprint as 32 hex pairs, e.g. "
			    "01:23:...:EF)", arg, name);
			return -1;
		}
		v->num = (long)n;
		v->str = n == 32 ? xasprintf("SHA256:%s", hex) : xstrdup(arg);
		return 0;
	}
	case K_DSN_NOTIFY:
		if (*arg == '\0')
			goto needs_arg;
		if (ascii_ieq(arg, "off")) {
			v->str = xstrdup("");
			return 0;
		}
		if (dsn_notify_check(arg) != NULL)
			goto invalid;
		s = xstrdup(arg);
		lower_ascii(s);
		v->str = s;
		return 0;
	case K_DSN_RETURN:
		if (*arg == '\0')
			goto needs_arg;
		if (ascii_ieq(arg, "off"))
			v->str = xstrdup("");
		else if (ascii_ieq(arg, "headers") || ascii_ieq(arg, "hdrs"))
			v->str = xstrdup("hdrs");
		else if (ascii_ieq(arg, "full"))
			v->str = xstrdup("full");
		else
			goto invalid;
		return 0;
	case K_HDR3:
	case K_HDR2:
		if (*arg == '\0' || ascii_ieq(arg, "auto"))
			v->num = CH_AUTO;
		else if (ascii_ieq(arg, "off"))
			v->num = CH_OFF;
		else if (kd->kind == K_HDR3 && ascii_ieq(arg, "on"))
			v->num = CH_ON;
		else
			goto invalid;
		v->str = xstrdup(v->num == CH_AUTO ? "auto" :
		    v->num == CH_ON ? "on" : "off");
		return 0;
	case K_HDR_LEGACY:
		if (*arg == '\0' || ascii_ieq(arg, "on"))
			v->num = CH_AUTO;
		else if (ascii_ieq(arg, "off"))
			v->num = CH_OFF;
		else
			goto invalid;
		v->str = xstrdup(v->num == CH_AUTO ? "auto" : "off");
		return 0;
	case K_SYSLOG: {
		const char *fac = arg;

		if (*arg == '\0' || ascii_ieq(arg, "on")) {
			v->str = xstrdup("LOG_USER");
			return 0;
		}
		if (ascii_ieq(arg, "off")) {
			v->str = xstrdup("");
			return 0;
		}
		if (ascii_iprefix(fac, "LOG_"))
			fac += 4;
		if (!(ascii_ieq(fac, "user") || ascii_ieq(fac, "mail") ||
		    (ascii_iprefix(fac, "local") && fac[5] >= '0' &&
		    fac[5] <= '7' && fac[6] == '\0')))
			goto invalid;
		s = xasprintf("LOG_%s", fac);
		upper_ascii(s);
		v->str = s;
		return 0;
	}
	}
	(void)snprintf(err, errlen, "internal error for '%s'", name);
	return -1;

needs_arg:
	(void)snprintf(err, errlen, "'%s' needs a value", name);
	return -1;
invalid:
	(void)snprintf(err, errlen, "invalid value '%s' for '%s'", arg, name);
	return -1;
}

/* ------------------------------------------------------------------ */
/* The parser                                                          */

struct parser {
	struct config *c;
	const char *filename;
	config_eval_fn *eval;
	void *eval_ctx;
	long cur;		/* index into accounts, -1: defaults, -2: none */
	struct failure *f;
};

static int
perr(struct parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
perr(struct parser *p, int line, const char *fmt, ...)
{
	char what[256], detail[1024];
	va_list ap;

	(void)snprintf(what, sizeof what, "%s:%d", p->filename, line);
	va_start(ap, fmt);
	(void)vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	return fail(p->f, FAIL_CONFIG, 0, what, "%s", detail);
}

const struct config_account *
config_find(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->accounts[i].name, name) == 0)
			return &c->accounts[i];
	return NULL;
}

/* Append a new account: the current defaults, not own. */
static struct config_account *
new_account(struct parser *p, char *name, int line)
{
	struct config *c = p->c;
	struct config_account *a;

	c->accounts = xreallocarray(c->accounts, c->n + 1,
	    sizeof *c->accounts);
	a = &c->accounts[c->n];
	memset(a, 0, sizeof *a);
	for (int k = 0; k < CK_COUNT; k++)
		if (c->defaults.v[k].line != 0)
			value_copy(&a->v[k], &c->defaults.v[k],
			    (enum config_key)k, false);
	a->name = name;
	a->line = line;
	p->cur = (long)c->n;
	c->n++;
	return a;
}

/* `account NAME [: PARENT[,PARENT...]]`; arg already trimmed. */
static int
do_account(struct parser *p, int line, const char *arg)
{
	const char *colon = strchr(arg, ':');
	char *name = trim_arg(arg, colon ? (size_t)(colon - arg) : strlen(arg));
	struct strlist parents = { NULL, 0, 0 };
	struct config_account *a;
	int rc = -1;

	if (colon != NULL) {
		const char *s = colon + 1;

		for (;;) {
			size_t n = strcspn(s, ",");
			char *pn = trim_arg(s, n);

			if (*pn == '\0') {
				free(pn);
				perr(p, line, "missing account name");
				goto out;
			}
			if (config_find(p->c, pn) == NULL) {
				perr(p, line, "account '%s' is not defined "
				    "(a parent must come before its child)", pn);
				free(pn);
				goto out;
			}
			strlist_addn(&parents, pn);
			if (s[n] == '\0')
				break;
			s += n + 1;
		}
	}
	if (*name == '\0') {
		perr(p, line, "missing account name");
		goto out;
	}
	if (!account_name_valid(name)) {
		perr(p, line, "an account name must not contain colons, "
		    "commas or control characters");
		goto out;
	}
	if (config_find(p->c, name) != NULL) {
		perr(p, line, "account '%s' is already defined", name);
		goto out;
	}
	a = new_account(p, name, line);
	name = NULL;
	for (size_t i = 0; i < parents.n; i++) {
		const struct config_account *par = config_find(p->c,
		    parents.v[i]);

		for (int k = 0; k < CK_COUNT; k++)
			if (par->v[k].own)
				value_copy(&a->v[k], &par->v[k],
				    (enum config_key)k, true);
	}
	rc = 0;
out:
	free(name);
	strlist_free(&parents);
	return rc;
}

static void
wipe_free(char *s)
{
	free_secret(s);
}

/* One line, NUL-terminated, without its line ending. */
static int
parse_line(struct parser *p, const char *line, int lineno, bool from_eval)
{
	const char *s = line, *cmdend;
	char *cmd, *arg = NULL, errbuf[512];
	const struct keydef *kd;
	struct config_account *a;
	struct config_value v;
	int rc = -1;

	while (is_blank(*s))
		s++;
	if (*s == '\0' || *s == '#')
		return 0;
	for (cmdend = s; *cmdend != '\0' && !is_blank(*cmdend); cmdend++)
		;
	cmd = xstrndup(s, (size_t)(cmdend - s));
	arg = trim_arg(cmdend, strlen(cmdend));

	if (strcmp(cmd, "eval") == 0) {
		char *out = NULL;

		if (p->c->eval_line == 0)
			p->c->eval_line = lineno;
		if (from_eval) {
			perr(p, lineno, "the output of eval must not be "
			    "another eval");
			goto out;
		}
		if (p->eval == NULL) {
			perr(p, lineno, "'eval' is not allowed here");
			goto out;
		}
		if (*arg == '\0') {
			perr(p, lineno, "'eval' needs a value");
			goto out;
		}
		if (p->eval(p->eval_ctx, p->filename, lineno, arg, &out,
		    p->f) != 0)
			goto out;
		rc = parse_line(p, out, lineno, true);
		wipe_free(out);
		goto out;
	}
	if (strcmp(cmd, "defaults") == 0) {
		if (*arg != '\0') {
			perr(p, lineno, "'defaults' takes no value");
			goto out;
		}
		p->cur = -1;
		rc = 0;
		goto out;
	}
	if (strcmp(cmd, "account") == 0) {
		rc = do_account(p, lineno, arg);
		goto out;
	}
	if ((kd = find_keydef(cmd)) == NULL) {
		perr(p, lineno, "unknown key '%s'", cmd);
		goto out;
	}
	memset(&v, 0, sizeof v);
	if (parse_value(kd, arg, &v, errbuf, sizeof errbuf) != 0) {
		perr(p, lineno, "%s", errbuf);
		goto out;
	}
	if (p->cur == -2) {
		/* msmtp 1.2 compatibility: settings before any account or
		 * defaults form the account "default". */
		(void)new_account(p, xstrdup("default"), lineno);
	}
	a = p->cur == -1 ? &p->c->defaults : &p->c->accounts[p->cur];
	value_clear(&a->v[kd->key], kd->key);
	a->v[kd->key] = v;
	a->v[kd->key].line = lineno;
	a->v[kd->key].own = true;
	if ((kd->key == CK_PASSWORD || kd->key == CK_OAUTH2_CLIENT_SECRET) &&
	    !from_eval && p->c->password_line == 0)
		p->c->password_line = lineno;
	rc = 0;
out:
	free(cmd);
	wipe_free(arg);
	return rc;
}

int
config_parse_eval(const char *text, size_t len, const char *filename,
    config_eval_fn *eval, void *ctx, struct config *out, struct failure *f)
{
	struct parser p;
	size_t pos = 0;
	int lineno = 0;

	config_init(out);
	out->filename = xstrdup(filename);
	p.c = out;
	p.filename = out->filename;
	p.eval = eval;
	p.eval_ctx = ctx;
	p.cur = -2;
	p.f = f;

	while (pos < len) {
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;
		char *line;
		int rc;

		pos += n + (nl ? 1 : 0);
		lineno++;
		if (lineno == INT_MAX) {
			perr(&p, lineno, "too many lines");
			goto fail;
		}
		if (n > 0 && start[n - 1] == '\r')
			n--;
		if (memchr(start, '\0', n) != NULL) {
			perr(&p, lineno, "NUL byte in line");
			goto fail;
		}
		line = xstrndup(start, n);
		rc = parse_line(&p, line, lineno, false);
		wipe_free(line);
		if (rc != 0)
			goto fail;
	}
	return 0;
fail:
	config_free(out);
	return -1;
}

int
config_parse(const char *text, size_t len, const char *filename,
    struct config *out, struct failure *f)
{
	return config_parse_eval(text, len, filename, NULL, NULL, out, f);
}

/* ------------------------------------------------------------------ */
/* Selection                                                           */

static bool
is_pattern(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

const struct config_account *
config_match_from(const struct config *c, const char *addr)
{
	size_t len = strlen(addr);
	char *bare;
	const struct config_account *found = NULL;

	if (len >= 2 && addr[0] == '<' && addr[len - 1] == '>')
		bare = xstrndup(addr + 1, len - 2);
	else
		bare = xstrdup(addr);
	for (size_t i = 0; i < c->n && found == NULL; i++) {
		const struct config_value *v = &c->accounts[i].v[CK_FROM];

		if (v->line == 0 || v->str == NULL || v->str[0] == '\0')
			continue;
		if (is_pattern(v->str) ? fnmatch(v->str, bare, 0) == 0 :
		    strcasecmp(v->str, bare) == 0)
			found = &c->accounts[i];
	}
	free(bare);
	return found;
}

int
config_select(const struct config *c, const struct options *o,
    const struct config_account **acc, struct failure *f)
{
	const struct config_account *a = NULL;

	if (o->account != NULL) {
		if ((a = config_find(c, o->account)) == NULL) {
			char what[256];

			(void)snprintf(what, sizeof what, "no account '%s' in %s",
			    o->account, c->filename ? c->filename : "(none)");
			return fail(f, FAIL_CONFIG, 0, what, NULL);
		}
	} else if (o->from != NULL && (a = config_match_from(c, o->from)))
		;
	else if ((a = config_find(c, "default")) != NULL)
		;
	else
		a = &c->defaults;
	*acc = a;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Applying an account to the options                                  */

void
config_extra_init(struct config_extra *x)
{
	memset(x, 0, sizeof *x);
	x->undisclosed_recipients = UNSET;
}

void
config_extra_free(struct config_extra *x)
{
	free(x->file);
	free(x->account);
	free(x->queue_dir);
	free(x->tls_host);
	free(x->log_time_format);
	config_extra_init(x);
}

static const char *
home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h != NULL && *h != '\0')
		return h;
	if ((pw = getpwuid(geteuid())) != NULL && pw->pw_dir != NULL &&
	    *pw->pw_dir != '\0')
		return pw->pw_dir;
	return NULL;
}

/* msmtp: a file name beginning with ~ gets $HOME instead ("~" and "~/..."
 * only; "~user" is left alone). */
static char *
expand_tilde(const char *s)
{
	const char *home;

	if (s[0] == '~' && (s[1] == '\0' || s[1] == '/') &&
	    (home = home_dir()) != NULL)
		return xasprintf("%s%s", home, s + 1);
	return xstrdup(s);
}

static char *
user_name(void)
{
	const char *u = getenv("USER");
	struct passwd *pw;

	if (u == NULL || *u == '\0')
		u = getenv("LOGNAME");
	if ((u == NULL || *u == '\0') && (pw = getpwuid(geteuid())) != NULL)
		u = pw->pw_name;
	return xstrdup(u != NULL ? u : "");
}

static char *
host_name(void)
{
	const char *h = getenv("HOSTNAME");
	char buf[256];

	if (h != NULL && *h != '\0')
		return xstrdup(h);
	if (gethostname(buf, sizeof buf) != 0)
		return xstrdup("localhost");
	buf[sizeof buf - 1] = '\0';
	return xstrdup(buf);
}

static char *
canonical_name(void)
{
	char *h = host_name(), *c;
	struct addrinfo hints, *res = NULL;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_flags = AI_CANONNAME;
	if (getaddrinfo(h, NULL, &hints, &res) == 0 && res != NULL &&
	    res->ai_canonname != NULL && *res->ai_canonname != '\0') {
		c = xstrdup(res->ai_canonname);
		freeaddrinfo(res);
		free(h);
		return c;
	}
	if (res != NULL)
		freeaddrinfo(res);
	return h;
}

static int
mail_name(const struct config *c, int line, char **out, struct failure *f)
{
	const char *path = SYSCONFDIR "/mailname";
	FILE *fp = fopen(path, "re");
	char buf[512];
	size_t n;
	char what[256];

	(void)snprintf(what, sizeof what, "%s:%d",
	    c->filename ? c->filename : "(config)", line);
	if (fp == NULL)
		return fail(f, FAIL_CONFIG, 0, what, "%%M: cannot read %s: %s",
		    path, strerror(errno));
	if (fgets(buf, sizeof buf, fp) == NULL)
		buf[0] = '\0';
	(void)fclose(fp);
	n = strcspn(buf, "\r\n");
	while (n > 0 && is_blank(buf[n - 1]))
		n--;
	buf[n] = '\0';
	if (n == 0)
		return fail(f, FAIL_CONFIG, 0, what, "%%M: %s is empty", path);
	*out = xstrdup(buf);
	return 0;
}

/* Expand msmtp's %U (user; only when allow_user), %H (host name), %C
 * (its canonical name), %M (/etc/mailname).  Other % sequences stay. */
static int
expand_pct(const struct config *c, const struct config_value *v,
    bool allow_user, char **out, struct failure *f)
{
	struct buf b;
	const char *s = v->str;

	buf_init(&b);
	buf_adds(&b, "");
	for (; *s != '\0'; s++) {
		char *e = NULL;

		if (s[0] != '%' || s[1] == '\0') {
			buf_addc(&b, *s);
			continue;
		}
		switch (s[1]) {
		case 'U':
			if (allow_user)
				e = user_name();
			break;
		case 'H':
			e = host_name();
			break;
		case 'C':
			e = canonical_name();
			break;
		case 'M':
			if (mail_name(c, v->line, &e, f) != 0) {
				buf_free(&b);
				return -1;
			}
			break;
		default:
			break;
		}
		if (e == NULL) {
			buf_addc(&b, *s);
			continue;
		}
		buf_adds(&b, e);
		free(e);
		s++;
	}
	*out = b.data;
	return 0;
}

/* The host part of a --host value: [v6]:port, host:port, or as it is. */
static char *
host_part(const char *h)
{
	const char *colon;

	if (h[0] == '[') {
		const char *end = strchr(h, ']');

		if (end != NULL)
			return xstrndup(h + 1, (size_t)(end - h - 1));
		return xstrdup(h);
	}
	colon = strchr(h, ':');
	if (colon != NULL && strchr(colon + 1, ':') == NULL)
		return xstrndup(h, (size_t)(colon - h));
	return xstrdup(h);
}

static bool
same_host(const char *cli, const char *acct)
{
	char *a = host_part(cli), *b = host_part(acct);
	bool same = ascii_ieq(a, b);

	free(a);
	free(b);
	return same;
}

static bool
vset(const struct config_account *a, enum config_key k)
{
	return a->v[k].line != 0;
}

/* Set and not empty. */
static const char *
vstr(const struct config_account *a, enum config_key k)
{
	const struct config_value *v = &a->v[k];

	if (v->line == 0 || v->str == NULL || v->str[0] == '\0')
		return NULL;
	return v->str;
}

static int
unsupported(const struct config *c, const struct config_account *a,
    enum config_key k, const char *why, struct failure *f)
{
	char what[256];

	(void)snprintf(what, sizeof what, "%s:%d",
	    c->filename ? c->filename : "(config)", a->v[k].line);
	return fail(f, FAIL_CONFIG, 0, what, "%s is not supported by carrier%s%s",
	    config_key_name(k), why ? ": " : "", why ? why : "");
}

static int
value_error(const struct config *c, const struct config_account *a,
    enum config_key k, const char *msg, struct failure *f)
{
	char what[256];

	(void)snprintf(what, sizeof what, "%s:%d",
	    c->filename ? c->filename : "(config)", a->v[k].line);
	return fail(f, FAIL_CONFIG, 0, what, "%s", msg);
}

/* What the account uses that carrier does not have, or inconsistencies. */
static int
check_account(const struct config *c, const struct config_account *a,
    struct failure *f)
{
	const char *s;

	if (vstr(a, CK_PROXY_HOST))
		return unsupported(c, a, CK_PROXY_HOST, "no SOCKS proxies", f);
	if (vstr(a, CK_NTLMDOMAIN))
		return unsupported(c, a, CK_NTLMDOMAIN, "no NTLM", f);
	if (vstr(a, CK_TLS_CRL_FILE))
		return unsupported(c, a, CK_TLS_CRL_FILE, NULL, f);
	if (vstr(a, CK_TLS_MIN_DH_PRIME_BITS))
		return unsupported(c, a, CK_TLS_MIN_DH_PRIME_BITS,
		    "use tls_priorities", f);
	if (vset(a, CK_TLS_FORCE_SSLV3) && a->v[CK_TLS_FORCE_SSLV3].num)
		return unsupported(c, a, CK_TLS_FORCE_SSLV3, "no SSLv3", f);
	if (vstr(a, CK_TLS_FINGERPRINT) && a->v[CK_TLS_FINGERPRINT].num != 32)
		return value_error(c, a, CK_TLS_FINGERPRINT, "SHA-1 and MD5 "
		    "tls_fingerprint values are not supported by carrier: use "
		    "the SHA256 fingerprint", f);
	if ((s = vstr(a, CK_AUTH)) != NULL)
		for (size_t i = 0; i < sizeof auth_mechs / sizeof auth_mechs[0];
		    i++) {
			size_t n = strlen(auth_mechs[i].name);
			const char *p = s;

			if (auth_mechs[i].ok)
				continue;
			for (; *p != '\0'; p += strcspn(p, ","),
			    p += *p == ',') {
				if (strncmp(p, auth_mechs[i].name, n) == 0 &&
				    (p[n] == ',' || p[n] == '\0')) {
					char msg[128];

					(void)snprintf(msg, sizeof msg,
					    "auth %s is not supported by "
					    "carrier", auth_mechs[i].name);
					return value_error(c, a, CK_AUTH, msg,
					    f);
				}
			}
		}
	if (vstr(a, CK_TLS_KEY_FILE) && !vstr(a, CK_TLS_CERT_FILE))
		return value_error(c, a, CK_TLS_KEY_FILE,
		    "tls_key_file requires tls_cert_file", f);
	if (vstr(a, CK_TLS_CERT_FILE) && !vstr(a, CK_TLS_KEY_FILE))
		return value_error(c, a, CK_TLS_CERT_FILE,
		    "tls_cert_file requires tls_key_file", f);
	if ((s = vstr(a, CK_SOCKET)) != NULL && s[0] != '/')
		return value_error(c, a, CK_SOCKET,
		    "socket must be an absolute path", f);
	return 0;
}

/* Set *dst to a copy of the account's non-empty value when still NULL. */
static void
fill_str(char **dst, const struct config_account *a, enum config_key k)
{
	const char *s = vstr(a, k);

	if (*dst == NULL && s != NULL)
		*dst = xstrdup(s);
}

static void
fill_file(char **dst, const struct config_account *a, enum config_key k)
{
	const char *s = vstr(a, k);

	if (*dst == NULL && s != NULL)
		*dst = expand_tilde(s);
}

static enum tristate
header_tristate(const struct config_account *a, enum config_key k)
{
	if (!vset(a, k))
		return UNSET;
	return a->v[k].num == CH_OFF ? NO : YES;
}

/* The oauth2_* keys the command line left unset; they are credentials
   (the token file holds the account's tokens). */
static void
oauth2_apply(const struct config_account *a, struct oauth2_settings *s)
{
	fill_str(&s->provider, a, CK_OAUTH2_PROVIDER);
	fill_str(&s->client_id, a, CK_OAUTH2_CLIENT_ID);
	if (s->client_secret == NULL && s->client_secret_eval == NULL) {
		fill_str(&s->client_secret, a, CK_OAUTH2_CLIENT_SECRET);
		fill_str(&s->client_secret_eval, a,
		    CK_OAUTH2_CLIENT_SECRET_EVAL);
	}
	fill_str(&s->authorization_endpoint, a,
	    CK_OAUTH2_AUTHORIZATION_ENDPOINT);
	fill_str(&s->device_endpoint, a, CK_OAUTH2_DEVICE_ENDPOINT);
	fill_str(&s->token_endpoint, a, CK_OAUTH2_TOKEN_ENDPOINT);
	fill_str(&s->scope, a, CK_OAUTH2_SCOPE);
	fill_file(&s->token_file, a, CK_OAUTH2_TOKEN_FILE);
}

int
config_apply(const struct config *c, const struct config_account *a,
    struct options *o, struct config_extra *x, struct failure *f)
{
	const char *target, *s;
	bool creds_ok;

	if (check_account(c, a, f) != 0)
		return -1;

	/* Credentials only for the account's own host and user. */
	target = vstr(a, CK_SOCKET);
	if (target == NULL)
		target = vstr(a, CK_HOST);
	if (target == NULL)
		target = "localhost";
	creds_ok = (o->host == NULL || same_host(o->host, target)) &&
	    (o->user == NULL || ((s = vstr(a, CK_USER)) != NULL &&
	    strcmp(o->user, s) == 0));

	/* connection */
	if (o->host == NULL) {
		if ((s = vstr(a, CK_SOCKET)) != NULL)
			o->host = xstrdup(s);
		else
			fill_str(&o->host, a, CK_HOST);
	}
	if (o->port == 0 && vset(a, CK_PORT))
		o->port = (int)a->v[CK_PORT].num;
	if (o->lmtp == UNSET && vset(a, CK_PROTOCOL))
		o->lmtp = a->v[CK_PROTOCOL].num ? YES : NO;
	if (o->helo == NULL && vstr(a, CK_DOMAIN) != NULL &&
	    expand_pct(c, &a->v[CK_DOMAIN], false, &o->helo, f) != 0)
		return -1;
	if (o->timeout == 0 && vset(a, CK_TIMEOUT))
		o->timeout = (int)a->v[CK_TIMEOUT].num;	/* off: 0 */
	fill_str(&o->source, a, CK_SOURCE_IP);

	/* TLS */
	if (o->tls == TLS_UNSET && vset(a, CK_TLS)) {
		if (!a->v[CK_TLS].num)
			o->tls = TLS_OFF;
		else if (vset(a, CK_TLS_STARTTLS) && !a->v[CK_TLS_STARTTLS].num)
			o->tls = TLS_IMPLICIT;
		else
			o->tls = TLS_STARTTLS_REQUIRED;
	}
	if (o->tls_ca == NULL && (s = vstr(a, CK_TLS_TRUST_FILE)) != NULL &&
	    strcmp(s, "system") != 0)
		o->tls_ca = expand_tilde(s);
	fill_file(&o->tls_cert, a, CK_TLS_CERT_FILE);
	fill_file(&o->tls_key, a, CK_TLS_KEY_FILE);
	fill_str(&o->tls_fingerprint, a, CK_TLS_FINGERPRINT);
	fill_str(&o->tls_priority, a, CK_TLS_PRIORITIES);
	if (o->tls_certcheck == UNSET && vset(a, CK_TLS_CERTCHECK))
		o->tls_certcheck = a->v[CK_TLS_CERTCHECK].num ? YES : NO;
	/* msmtp: an empty tls_trust_file trusts no CA at all, so TLS then
	 * needs a fingerprint or no checks; never fall back to the system
	 * store silently. */
	if (vset(a, CK_TLS_TRUST_FILE) && vstr(a, CK_TLS_TRUST_FILE) == NULL &&
	    o->tls != TLS_UNSET && o->tls != TLS_OFF && o->tls_ca == NULL &&
	    o->tls_fingerprint == NULL && o->tls_certcheck != NO)
		return value_error(c, a, CK_TLS_TRUST_FILE, "tls_trust_file is "
		    "empty (trust no CA): set tls_fingerprint, a trust file, "
		    "or tls_certcheck off", f);

	/* authentication */
	fill_str(&o->user, a, CK_USER);
	fill_str(&o->auth, a, CK_AUTH);
	if (creds_ok) {
		if (o->password == NULL && o->passwordeval == NULL) {
			fill_str(&o->password, a, CK_PASSWORD);
			fill_str(&o->passwordeval, a, CK_PASSWORDEVAL);
		}
	}
	if (creds_ok)
		oauth2_apply(a, &o->oauth2);
	if (vset(a, CK_ALLOW_PLAINTEXT_AUTH) &&
	    a->v[CK_ALLOW_PLAINTEXT_AUTH].num)
		o->allow_plaintext_auth = true;
	if (vset(a, CK_INITIAL_RESPONSE) && !a->v[CK_INITIAL_RESPONSE].num)
		o->no_initial_response = true;

	/* envelope and message */
	fill_str(&o->maildomain, a, CK_MAILDOMAIN);
	{
		bool forced = vset(a, CK_ALLOW_FROM_OVERRIDE) &&
		    !a->v[CK_ALLOW_FROM_OVERRIDE].num;
		char *from = NULL;

		if (vset(a, CK_AUTO_FROM) && a->v[CK_AUTO_FROM].num) {
			char *u = user_name();

			s = vstr(a, CK_MAILDOMAIN);
			from = s ? xasprintf("%s@%s", u, s) : xstrdup(u);
			free(u);
		} else if ((s = vstr(a, CK_FROM)) != NULL && !is_pattern(s)) {
			if (expand_pct(c, &a->v[CK_FROM], true, &from, f) != 0)
				return -1;
		}
		if (from != NULL && ((o->from == NULL && !o->from_set) ||
		    forced)) {
			free(o->from);
			o->from = from;
		} else
			free(from);
	}
	if (vset(a, CK_REMOVE_BCC_HEADERS) && !a->v[CK_REMOVE_BCC_HEADERS].num)
		o->keep_bcc = true;
	fill_str(&o->dsn_notify, a, CK_DSN_NOTIFY);
	fill_str(&o->dsn_return, a, CK_DSN_RETURN);
	fill_file(&o->aliases, a, CK_ALIASES);
	if (o->set_from_header == UNSET)
		o->set_from_header = header_tristate(a, CK_SET_FROM_HEADER);
	if (o->set_date_header == UNSET)
		o->set_date_header = header_tristate(a, CK_SET_DATE_HEADER);
	if (o->set_msgid_header == UNSET)
		o->set_msgid_header = header_tristate(a, CK_SET_MSGID_HEADER);

	/* output */
	if (o->logfile == NULL && (s = vstr(a, CK_LOGFILE)) != NULL)
		o->logfile = strcmp(s, "-") == 0 ? xstrdup(s) : expand_tilde(s);
	fill_str(&o->syslog_facility, a, CK_SYSLOG);

	/* configuration */
	if (o->account == NULL && a->name != NULL)
		o->account = xstrdup(a->name);

	/* not (yet) in struct options */
	if (x->file == NULL && c->filename != NULL)
		x->file = xstrdup(c->filename);
	if (x->account == NULL && a->name != NULL)
		x->account = xstrdup(a->name);
	fill_file(&x->queue_dir, a, CK_QUEUE);
	fill_str(&x->tls_host, a, CK_TLS_HOST_OVERRIDE);
	fill_str(&x->log_time_format, a, CK_LOGFILE_TIME_FORMAT);
	if (x->undisclosed_recipients == UNSET &&
	    vset(a, CK_UNDISCLOSED_RECIPIENTS))
		x->undisclosed_recipients =
		    a->v[CK_UNDISCLOSED_RECIPIENTS].num ? YES : NO;
	if (vset(a, CK_SET_FROM_HEADER) &&
	    a->v[CK_SET_FROM_HEADER].num == CH_ON &&
	    o->set_from_header == YES)
		x->replace_from_header = true;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Files                                                               */

/* Read a whole file.  Returns 1 when read, 0 when absent and !required,
 * -1 with f filled. */
static int
read_file(const char *path, bool required, struct buf *b, struct stat *st,
    struct failure *f)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	char chunk[8192];

	if (fd < 0) {
		if (!required && (errno == ENOENT || errno == ENOTDIR))
			return 0;
		return fail(f, FAIL_CONFIG, 0, path, "%s", strerror(errno));
	}
	if (fstat(fd, st) != 0) {
		int e = errno;

		(void)close(fd);
		return fail(f, FAIL_CONFIG, 0, path, "%s", strerror(e));
	}
	buf_init(b);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			(void)close(fd);
			explicit_bzero(chunk, sizeof chunk);
			buf_free_secret(b);
			return fail(f, FAIL_CONFIG, 0, path, "%s", strerror(e));
		}
		if (n == 0)
			break;
		if (b->len + (size_t)n > CONFIG_MAX_SIZE) {
			(void)close(fd);
			explicit_bzero(chunk, sizeof chunk);
			buf_free_secret(b);
			return fail(f, FAIL_CONFIG, 0, path,
			    "larger than %d bytes", CONFIG_MAX_SIZE);
		}
		buf_add(b, chunk, (size_t)n);
	}
	explicit_bzero(chunk, sizeof chunk);
	(void)close(fd);
	if (b->data == NULL)
		buf_adds(b, "");
	return 1;
}

/* The default files, in order: the user's, then the system's. */
static void
default_paths(char **user, char **sys)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home;

	*user = NULL;
	if (xdg != NULL && xdg[0] == '/')
		*user = xasprintf("%s/carrier/config", xdg);
	else if ((home = home_dir()) != NULL)
		*user = xasprintf("%s/.config/carrier/config", home);
	*sys = xstrdup(SYSCONFDIR "/carrier.conf");
}

/* Find and read the file.  Returns 1 with *path, *b, *st; 0 when there is
 * no file (only without explicit); -1. */
static int
find_and_read(const char *explicit, char **path, struct buf *b,
    struct stat *st, struct failure *f)
{
	char *cand[2];
	int rc = 0;

	*path = NULL;
	if (explicit != NULL) {
		rc = read_file(explicit, true, b, st, f);
		if (rc == 1)
			*path = xstrdup(explicit);
		return rc;
	}
	default_paths(&cand[0], &cand[1]);
	for (int i = 0; i < 2 && rc == 0; i++) {
		if (cand[i] == NULL)
			continue;
		rc = read_file(cand[i], false, b, st, f);
		if (rc == 1) {
			*path = cand[i];
			cand[i] = NULL;
		}
	}
	free(cand[0]);
	free(cand[1]);
	return rc;
}

/*
 * The rule for a file whose lines run commands (eval, passwordeval), and
 * for a file a caller of `sendmail` names with -C: it must belong to us
 * (the effective user) or to root and be writable by nobody else, since
 * whoever can write it runs commands as us.  name is the file (FILE:LINE
 * for eval), use what it would be used for.
 */
static int
trusted_file(const char *name, const struct stat *st, const char *use,
    struct failure *f)
{
	if (st->st_uid != geteuid() && st->st_uid != 0)
		return fail(f, FAIL_CONFIG, 0, name, "refusing %s: the file "
		    "belongs to another user (uid %lu), not to you or root",
		    use, (unsigned long)st->st_uid);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return fail(f, FAIL_CONFIG, 0, name, "refusing %s: %s can "
		    "write the file (chmod go-w)", use,
		    st->st_mode & S_IWOTH ? "others" : "its group");
	return 0;
}

struct eval_ctx {
	struct stat st;
	int timeout;
};

static int
run_eval(void *vctx, const char *filename, int line, const char *cmd,
    char **out, struct failure *f)
{
	struct eval_ctx *ctx = vctx;
	char what[256];

	(void)snprintf(what, sizeof what, "%s:%d", filename, line);
	if (trusted_file(what, &ctx->st, "to run eval", f) < 0)
		return -1;
	/* The same runner as passwordeval: bounded output and time, fds
	   closed, SIGPIPE at its default, the child reaped. */
	if (secret_eval(cmd, ctx->timeout, out, f) < 0) {
		(void)snprintf(f->what, sizeof f->what, "%s", what);
		return -1;
	}
	return 0;
}

static int
check_permissions(const char *path, const struct stat *st,
    struct failure *f)
{
	if (st->st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH))
		return fail(f, FAIL_CONFIG, 0, path, "holds a password, so it "
		    "must not be readable by others (chmod 600 %s)", path);
	if (geteuid() != 0 && st->st_uid != geteuid())
		return fail(f, FAIL_CONFIG, 0, path, "holds a password, so it "
		    "must be owned by you");
	return 0;
}

int
config_load(struct options *o, struct config_extra *x, struct failure *f)
{
	struct config c;
	struct buf b;
	struct stat st;
	struct eval_ctx ctx;
	const struct config_account *a;
	char *path;
	int rc;

	rc = find_and_read(o->config_file, &path, &b, &st, f);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		if (o->account != NULL) {
			char what[256];

			(void)snprintf(what, sizeof what, "no account '%s'",
			    o->account);
			return fail(f, FAIL_CONFIG, 0, what,
			    "no configuration file");
		}
		return 0;
	}
	/* A program that runs us as sendmail may pass its caller's words:
	   -C then names a file only if it is as trusted as one that runs
	   commands. */
	if (o->config_from_caller && trusted_file(path, &st, "-C under the "
	    "name sendmail", f) < 0) {
		buf_free_secret(&b);
		free(path);
		return -1;
	}
	ctx.st = st;
	ctx.timeout = o->timeout;
	rc = config_parse_eval(b.data, b.len, path, run_eval, &ctx, &c, f);
	buf_free_secret(&b);
	if (rc != 0) {
		free(path);
		return -1;
	}
	rc = -1;
	if (c.password_line != 0 && check_permissions(path, &st, f) != 0)
		goto out;
	if (config_select(&c, o, &a, f) != 0)
		goto out;
	bool had_eval = o->passwordeval != NULL;
	bool had_secret_eval = o->oauth2.client_secret_eval != NULL;
	rc = config_apply(&c, a, o, x, f);
	/* passwordeval runs later, when the password is needed; the file
	   it came from is checked now, while its stat is at hand. */
	if (rc == 0 && !had_eval && o->passwordeval != NULL)
		rc = trusted_file(path, &st, "to run passwordeval", f);
	if (rc == 0 && !had_secret_eval &&
	    o->oauth2.client_secret_eval != NULL)
		rc = trusted_file(path, &st, "to run "
		    "oauth2_client_secret_eval", f);
out:
	config_free(&c);
	free(path);
	return rc;
}

static int
skip_eval(void *ctx, const char *filename, int line, const char *cmd,
    char **out, struct failure *f)
{
	(void)ctx;
	(void)filename;
	(void)line;
	(void)cmd;
	(void)f;
	*out = xstrdup("");
	return 0;
}

int
config_account_names(const char *path, struct strlist *names,
    struct failure *f)
{
	struct config c;
	struct buf b;
	struct stat st;
	char *found;
	int rc;

	rc = find_and_read(path, &found, &b, &st, f);
	if (rc <= 0)
		return rc;
	rc = config_parse_eval(b.data, b.len, found, skip_eval, NULL, &c, f);
	buf_free_secret(&b);
	free(found);
	if (rc != 0)
		return -1;
	for (size_t i = 0; i < c.n; i++)
		strlist_add(names, c.accounts[i].name);
	config_free(&c);
	return 0;
}
