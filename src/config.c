/*
 * config.c: from a parsed configuration to struct options: which account
 * (config_select), its values merged under the command line's with ~ and
 * %U/%H/%C/%M expanded (config_apply), and the file work around them:
 * which file, its permissions, eval (config_load).  The parser itself is
 * config_parse.c.  See config.h for the contracts.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "config.h"
#include "secret.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

#define CONFIG_MAX_SIZE (1024 * 1024)	/* bytes in a configuration file */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* ------------------------------------------------------------------ */
/* Selection                                                           */

static bool
is_pattern(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* A pattern: the local parts as fnmatch(3) has them (case matters, as in
   msmtp), the domains without regard to case (RFC 5321, section 2.4). */
static bool
pattern_matches(const char *pat, const char *addr)
{
	const char *pat_at = strrchr(pat, '@'), *addr_at = strrchr(addr, '@');

	if (pat_at == NULL || addr_at == NULL)
		return fnmatch(pat, addr, 0) == 0;
	char *pat_local = xstrndup(pat, (size_t)(pat_at - pat));
	char *addr_local = xstrndup(addr, (size_t)(addr_at - addr));
	bool ok = fnmatch(pat_local, addr_local, 0) == 0 &&
	    fnmatch(pat_at + 1, addr_at + 1, FNM_CASEFOLD) == 0;

	free(pat_local);
	free(addr_local);
	return ok;
}

bool
config_from_matches(const char *from, const char *addr)
{
	return is_pattern(from) ? pattern_matches(from, addr) :
	    strcasecmp(from, addr) == 0;
}

char *
config_strip_subaddress(const char *addr)
{
	const char *at = strrchr(addr, '@');
	const char *plus = strchr(addr, '+');

	/* A local part that begins with '+' has no user to keep. */
	if (at == NULL || plus == NULL || plus >= at || plus == addr)
		return NULL;
	return xasprintf("%.*s%s", (int)(plus - addr), addr, at);
}

static const struct config_account *
first_matching(const struct config *c, const char *addr)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct config_value *v = &c->accounts[i].v[CK_FROM];

		if (v->line != 0 && v->str != NULL && v->str[0] != '\0' &&
		    config_from_matches(v->str, addr))
			return &c->accounts[i];
	}
	return NULL;
}

const struct config_account *
config_match_from(const struct config *c, const char *addr)
{
	size_t len = strlen(addr);
	char *bare, *plain;
	const struct config_account *found;

	if (len >= 2 && addr[0] == '<' && addr[len - 1] == '>')
		bare = xstrndup(addr + 1, len - 2);
	else
		bare = xstrdup(addr);
	/* The whole address first, then without its subaddress. */
	found = first_matching(c, bare);
	if (found == NULL && (plain = config_strip_subaddress(bare)) != NULL) {
		found = first_matching(c, plain);
		free(plain);
	}
	free(bare);
	return found;
}

int
config_select(const struct config *c, const struct options *o,
    const struct config_account **acc, struct failure *f)
{
	const struct config_account *a = NULL;
	const char *sender = o->from != NULL ? o->from : o->header_sender;

	if (o->account != NULL) {
		if ((a = config_find(c, o->account)) == NULL) {
			char what[256];

			(void)snprintf(what, sizeof what, "no account '%s' in %s",
			    o->account, c->filename ? c->filename : "(none)");
			return fail(f, FAIL_CONFIG, 0, what, NULL);
		}
	} else if (sender != NULL && (a = config_match_from(c, sender)))
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
	if (vset(a, CK_AUTH) && a->v[CK_AUTH].auth.unsupported != NULL) {
		char msg[128];

		(void)snprintf(msg, sizeof msg, "auth %s is not supported by "
		    "carrier", a->v[CK_AUTH].auth.unsupported);
		return value_error(c, a, CK_AUTH, msg, f);
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

/* The connection: host or socket (with the port of HOST:PORT), port,
   protocol, EHLO name, timeout, source address. */
static int
apply_connection(const struct config *c, const struct config_account *a,
    struct options *o, struct failure *f)
{
	if (o->host == NULL) {
		if (vstr(a, CK_SOCKET) != NULL)
			o->host = xstrdup(vstr(a, CK_SOCKET));
		else if (vstr(a, CK_HOST) != NULL) {
			o->host = xstrdup(vstr(a, CK_HOST));
			/* `port` wins over the port of `host H:P`. */
			if (o->port == 0 && !vset(a, CK_PORT))
				o->port = (int)a->v[CK_HOST].num;
		}
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
	/* A proxy named on the command line replaces the account's. */
	if (o->proxy == NULL && o->proxy_host == NULL) {
		fill_str(&o->proxy, a, CK_PROXY);
		fill_str(&o->proxy_host, a, CK_PROXY_HOST);
	}
	if (o->proxy_port == 0 && vset(a, CK_PROXY_PORT))
		o->proxy_port = (int)a->v[CK_PROXY_PORT].num;
	return 0;
}

/* TLS: the mode from tls and tls_starttls, files, pin, checks. */
static int
apply_tls(const struct config *c, const struct config_account *a,
    struct options *o, struct failure *f)
{
	const char *s;

	if (o->tls == TLS_UNSET && vset(a, CK_TLS)) {
		if (!a->v[CK_TLS].num)
			o->tls = TLS_OFF;
		else if (o->tls_starttls != UNSET)
			o->tls = o->tls_starttls == NO ? TLS_IMPLICIT :
			    TLS_STARTTLS_REQUIRED;
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
	fill_str(&o->tls_host, a, CK_TLS_HOST_OVERRIDE);
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
	return 0;
}

/* The oauth2_* keys the command line left unset; they are credentials
   (the token file holds the account's tokens). */
static void
apply_oauth2(const struct config_account *a, struct oauth2_settings *s)
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

/* Authentication.  Credentials only for the account's own host and
   user, so that `--host other` never receives the account's secret. */
static void
apply_auth(const struct config_account *own, const struct config_account *a,
    struct options *o)
{
	const char *target = vstr(own, CK_SOCKET), *s;
	bool creds_ok;

	if (target == NULL)
		target = vstr(own, CK_HOST);
	if (target == NULL)
		target = "localhost";
	creds_ok = (o->host == NULL || ascii_ieq(o->host, target)) &&
	    (o->user == NULL || ((s = vstr(a, CK_USER)) != NULL &&
	    strcmp(o->user, s) == 0));

	fill_str(&o->user, a, CK_USER);
	if (o->auth.mode == AUTH_DEFAULT && vset(a, CK_AUTH))
		o->auth = a->v[CK_AUTH].auth;
	if (creds_ok && o->password == NULL && o->passwordeval == NULL) {
		fill_str(&o->password, a, CK_PASSWORD);
		fill_str(&o->passwordeval, a, CK_PASSWORDEVAL);
	}
	if (creds_ok)
		apply_oauth2(a, &o->oauth2);
	if (vset(a, CK_ALLOW_PLAINTEXT_AUTH) &&
	    a->v[CK_ALLOW_PLAINTEXT_AUTH].num)
		o->allow_plaintext_auth = true;
	if (vset(a, CK_REQUIRE_TLS) && a->v[CK_REQUIRE_TLS].num)
		o->require_tls = true;
	if (vset(a, CK_INITIAL_RESPONSE) && !a->v[CK_INITIAL_RESPONSE].num)
		o->no_initial_response = true;
}

/* The envelope sender: auto_from or from (not a pattern), under -f
   unless allow_from_override is off, as in msmtp. */
static int
apply_from(const struct config *c, const struct config_account *a,
    struct options *o, struct failure *f)
{
	bool forced = o->allow_from_override != UNSET ?
	    o->allow_from_override == NO : vset(a, CK_ALLOW_FROM_OVERRIDE) &&
	    !a->v[CK_ALLOW_FROM_OVERRIDE].num;
	bool automatic = o->auto_from != UNSET ? o->auto_from == YES :
	    vset(a, CK_AUTO_FROM) && a->v[CK_AUTO_FROM].num;
	char *from = NULL;
	const char *s;

	if (automatic) {
		char *u = user_name();

		s = o->maildomain != NULL ? o->maildomain :
		    vstr(a, CK_MAILDOMAIN);
		from = s ? xasprintf("%s@%s", u, s) : xstrdup(u);
		free(u);
	} else if ((s = vstr(a, CK_FROM)) != NULL && strcmp(s, "%F") == 0) {
		/* msmtp 1.8.29's %F: the message's From field, as
		   --read-envelope-from. */
		if (o->from == NULL && !o->from_set)
			o->read_envelope_from = true;
	} else if ((s = vstr(a, CK_FROM)) != NULL && !is_pattern(s)) {
		if (expand_pct(c, &a->v[CK_FROM], true, &from, f) != 0)
			return -1;
	}
	/* --read-envelope-from: the message's From field decides (msmtp),
	   unless the account forbids any other sender. */
	if (o->read_envelope_from && !forced) {
		free(from);
		from = NULL;
	}
	if (from != NULL && ((o->from == NULL && !o->from_set) || forced)) {
		free(o->from);
		o->from = from;
	} else
		free(from);
	return 0;
}

/* The message's headers, DSN, aliases. */
static void
apply_message(const struct config_account *a, struct options *o)
{
	fill_str(&o->maildomain, a, CK_MAILDOMAIN);
	if (vset(a, CK_REMOVE_BCC_HEADERS) && !a->v[CK_REMOVE_BCC_HEADERS].num)
		o->keep_bcc = true;
	fill_str(&o->dsn_notify, a, CK_DSN_NOTIFY);
	fill_str(&o->dsn_return, a, CK_DSN_RETURN);
	fill_str(&o->fullname, a, CK_FROM_FULL_NAME);
	fill_file(&o->aliases, a, CK_ALIASES);
	if (o->set_from_header == UNSET)
		o->set_from_header = header_tristate(a, CK_SET_FROM_HEADER);
	if (o->set_date_header == UNSET)
		o->set_date_header = header_tristate(a, CK_SET_DATE_HEADER);
	if (o->set_msgid_header == UNSET)
		o->set_msgid_header = header_tristate(a, CK_SET_MSGID_HEADER);
	/* `set_from_header on` (msmtp): always write From, replacing one
	   present. */
	if (vset(a, CK_SET_FROM_HEADER) &&
	    a->v[CK_SET_FROM_HEADER].num == CH_ON && o->set_from_header == YES)
		o->replace_from_header = true;
	if (vset(a, CK_UNDISCLOSED_RECIPIENTS) &&
	    a->v[CK_UNDISCLOSED_RECIPIENTS].num)
		o->undisclosed_recipients = true;
	if (o->set_to_header == UNSET && vset(a, CK_SET_TO_HEADER))
		o->set_to_header = a->v[CK_SET_TO_HEADER].num ? YES : NO;
}

/* Log file, syslog, queue, and which file and account were used. */
static void
apply_output(const struct config *c, const struct config_account *a,
    struct options *o)
{
	const char *s;

	if (o->logfile == NULL && (s = vstr(a, CK_LOGFILE)) != NULL)
		o->logfile = strcmp(s, "-") == 0 ? xstrdup(s) : expand_tilde(s);
	fill_str(&o->log_time_format, a, CK_LOGFILE_TIME_FORMAT);
	fill_str(&o->syslog_facility, a, CK_SYSLOG);
	/* The carrier-only key `queue DIR` turns queueing on. */
	if (o->queue_dir == NULL && vstr(a, CK_QUEUE) != NULL) {
		fill_file(&o->queue_dir, a, CK_QUEUE);
		o->queue_on = true;
	}
	if (o->account == NULL && a->name != NULL)
		o->account = xstrdup(a->name);
	if (o->config_used == NULL && c->filename != NULL)
		o->config_used = xstrdup(c->filename);
}

int
config_apply(const struct config *c, const struct config_account *own,
    struct options *o, struct failure *f)
{
	/* What the command line set is the command line's, even "" or
	   off: the account's value of it is left out (a shallow copy). */
	struct config_account masked = *own;
	const struct config_account *a = &masked;

	for (int k = 0; k < CK_COUNT; k++)
		if (o->cli_keys & (uint64_t)1 << k)
			masked.v[k].line = 0;
	if (check_account(c, a, f) != 0)
		return -1;
	/* Before the connection fills o->host: the credentials' rule
	   compares the command line's host with the account's own. */
	apply_auth(own, a, o);
	if (apply_connection(c, a, o, f) != 0 || apply_tls(c, a, o, f) != 0 ||
	    apply_from(c, a, o, f) != 0)
		return -1;
	apply_message(a, o);
	apply_output(c, a, o);
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

#define DEFAULT_FILES 5

/*
 * The default files, in order (NULL where there is no home): carrier's
 * user file, carrier's system file, then msmtp's as msmtp looks for them
 * (~/.msmtprc, then $XDG_CONFIG_HOME/msmtp/config or ~/.config/msmtp/config,
 * then SYSCONFDIR/msmtprc), so that an msmtp user's file works as it is.
 */
static void
default_paths(char *path[DEFAULT_FILES])
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = home_dir();
	bool use_xdg = xdg != NULL && xdg[0] == '/';

	for (int i = 0; i < DEFAULT_FILES; i++)
		path[i] = NULL;
	if (use_xdg)
		path[0] = xasprintf("%s/carrier/config", xdg);
	else if (home != NULL)
		path[0] = xasprintf("%s/.config/carrier/config", home);
	path[1] = xstrdup(SYSCONFDIR "/carrier.conf");
	if (home != NULL)
		path[2] = xasprintf("%s/.msmtprc", home);
	if (use_xdg)
		path[3] = xasprintf("%s/msmtp/config", xdg);
	else if (home != NULL)
		path[3] = xasprintf("%s/.config/msmtp/config", home);
	path[4] = xstrdup(SYSCONFDIR "/msmtprc");
}

/* Find and read the file.  Returns 1 with *path, *b, *st; 0 when there is
 * no file (only without explicit); -1. */
static int
find_and_read(const char *explicit, char **path, struct buf *b,
    struct stat *st, struct failure *f)
{
	char *cand[DEFAULT_FILES];
	int rc = 0;

	*path = NULL;
	if (explicit != NULL) {
		rc = read_file(explicit, true, b, st, f);
		if (rc == 1)
			*path = xstrdup(explicit);
		return rc;
	}
	default_paths(cand);
	for (int i = 0; i < DEFAULT_FILES && rc == 0; i++) {
		if (cand[i] == NULL)
			continue;
		rc = read_file(cand[i], false, b, st, f);
		if (rc == 1) {
			*path = cand[i];
			cand[i] = NULL;
		}
	}
	for (int i = 0; i < DEFAULT_FILES; i++)
		free(cand[i]);
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
config_load(struct options *o, struct failure *f)
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
	rc = config_apply(&c, a, o, f);
	/* passwordeval and oauth2_client_secret_eval run later, when they
	   are needed; the file they came from is checked now, while its
	   stat is at hand. */
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
