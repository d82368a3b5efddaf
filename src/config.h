/*
 * config.h: configuration files in msmtp's msmtprc syntax, so that an
 * existing msmtprc works unchanged, plus a few carrier-only keys.
 *
 * Syntax (as msmtp 1.8 reads it; checked against msmtp 1.8.23):
 * - One command per line: a key, blanks (space or tab), an argument.
 *   Leading and trailing blanks of the argument are dropped.  An argument
 *   that begins and ends with a double quote loses those two quotes and
 *   nothing else: there are no backslash escapes (msmtp has none either, so
 *   `password "a\"b"` is the 6 bytes a\"b in both programs).
 * - Empty lines and lines whose first non-blank byte is '#' are ignored.
 *   A '#' anywhere else is part of the value (passwords may hold '#').
 * - Lines end with LF or CRLF.  A NUL byte is an error.
 * - Keys are case-sensitive; on/off and enumerated values are not.  Where
 *   a key takes on, an empty argument means on (msmtp's rule).
 * - `defaults` starts the defaults section: the values current when an
 *   account is defined are copied into it.  `account NAME [: P1[,P2...]]`
 *   starts an account: a copy of the current defaults, then the values
 *   each parent set itself or inherited from its own parents (in order),
 *   then the account's own lines.  Parents must be defined earlier.
 *   `account default : NAME` is just an account named "default".  Lines
 *   before any `defaults` or `account` belong to an implicit account
 *   named "default" (msmtp 1.2 compatibility).
 * - `eval CMD` is replaced by the first line of CMD's output (msmtp
 *   1.8.21); it runs only through config_parse_eval() with an evaluator.
 *
 * Errors are FAIL_CONFIG (exit 78) with what = "FILE:LINE" and the detail
 * naming the key, e.g. "carrier: ~/.config/carrier/config:7: unknown key
 * 'hots'".  Nothing here calls exit().
 */
#ifndef CARRIER_CONFIG_H
#define CARRIER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "options.h"
#include "report.h"
#include "util.h"

/* Canonical keys.  Old names are folded into these by the parser:
 * connect_timeout -> timeout, keepbcc -> remove_bcc_headers (inverted),
 * tls_nostarttls -> tls_starttls off, tls_nocertcheck -> tls_certcheck
 * off, add_missing_from_header -> set_from_header (on=auto),
 * add_missing_date_header -> set_date_header (on=auto). */
enum config_key {
	CK_HOST, CK_PORT, CK_SOCKET, CK_SOURCE_IP, CK_PROXY_HOST,
	CK_PROXY_PORT, CK_TIMEOUT, CK_PROTOCOL, CK_DOMAIN,
	CK_AUTH, CK_USER, CK_PASSWORD, CK_PASSWORDEVAL, CK_NTLMDOMAIN,
	CK_TLS, CK_TLS_STARTTLS, CK_TLS_TRUST_FILE, CK_TLS_CRL_FILE,
	CK_TLS_FINGERPRINT, CK_TLS_KEY_FILE, CK_TLS_CERT_FILE,
	CK_TLS_CERTCHECK, CK_TLS_PRIORITIES, CK_TLS_HOST_OVERRIDE,
	CK_TLS_MIN_DH_PRIME_BITS, CK_TLS_FORCE_SSLV3,
	CK_FROM, CK_ALLOW_FROM_OVERRIDE, CK_AUTO_FROM, CK_MAILDOMAIN,
	CK_DSN_NOTIFY, CK_DSN_RETURN,
	CK_SET_FROM_HEADER, CK_SET_DATE_HEADER, CK_SET_MSGID_HEADER,
	CK_REMOVE_BCC_HEADERS, CK_UNDISCLOSED_RECIPIENTS,
	CK_LOGFILE, CK_LOGFILE_TIME_FORMAT, CK_SYSLOG, CK_ALIASES,
	/* carrier only */
	CK_QUEUE, CK_ALLOW_PLAINTEXT_AUTH, CK_INITIAL_RESPONSE,
	CK_OAUTH2_PROVIDER, CK_OAUTH2_CLIENT_ID, CK_OAUTH2_CLIENT_SECRET,
	CK_OAUTH2_CLIENT_SECRET_EVAL, CK_OAUTH2_AUTHORIZATION_ENDPOINT,
	CK_OAUTH2_DEVICE_ENDPOINT, CK_OAUTH2_TOKEN_ENDPOINT, CK_OAUTH2_SCOPE,
	CK_OAUTH2_TOKEN_FILE,
	CK_COUNT
};

/* Values of set_from_header / set_date_header / set_msgid_header. */
enum config_header { CH_AUTO = 0, CH_ON = 1, CH_OFF = 2 };

/*
 * One key's value in one account.  line == 0: never set.  str is the
 * normalised text ("" when the key was given an empty argument or "off"
 * where off means "unset", e.g. dsn_notify off, syslog off); num holds
 * numbers, booleans (0/1), protocol (0 smtp, 1 lmtp), enum config_header,
 * and for tls_fingerprint the digest length in bytes (32, 20 or 16).
 * own: set by the account's own lines or inherited from a parent, as
 * opposed to copied from the defaults (only own values pass to children).
 */
struct config_value {
	char *str;
	long num;
	int line;
	bool own;
};

struct config_account {
	char *name;		/* NULL for the defaults section */
	int line;		/* line of the account command */
	struct config_value v[CK_COUNT];
};

struct config {
	char *filename;
	struct config_account defaults;	/* as at the end of the file */
	struct config_account *accounts;	/* in file order */
	size_t n;
	int password_line;	/* first line with a `password` key, 0: none */
	int eval_line;		/* first `eval` line, 0: none */
};

/* A zeroed, empty configuration; config_free() leaves one behind too.
 * config_free wipes every password before freeing it. */
void config_init(struct config *c);
void config_free(struct config *c);

/* The key's canonical configuration-file name ("tls_trust_file"). */
const char *config_key_name(enum config_key k);

/*
 * The evaluator behind `eval CMD`: run cmd, put the first line of its
 * output (without the newline, malloc'd) in *out and return 0; or return
 * -1 with f filled.  line is the line of the eval command, for messages.
 */
typedef int config_eval_fn(void *ctx, const char *filename, int line,
    const char *cmd, char **out, struct failure *f);

/*
 * Parse len bytes of configuration text (no NUL terminator needed) into
 * *out, resolving defaults and inheritance.  Pure: no file, environment
 * or process is touched; passwordeval is only stored, `~` is not expanded
 * and %U/%H/%C/%M are left as they are (config_apply does those).
 * filename is only used in messages.  An `eval` line is an error here.
 * Returns 0, or -1 with f->class FAIL_CONFIG, f->what "FILE:LINE" and
 * out left empty (initialised).  Never fails otherwise (allocation
 * failure aborts).
 */
int config_parse(const char *text, size_t len, const char *filename,
    struct config *out, struct failure *f);

/* config_parse, with `eval CMD` lines handed to eval(ctx, ...); the line
 * it returns is parsed in place of the eval line (an eval result that is
 * itself an eval line is an error).  eval NULL: eval lines are errors. */
int config_parse_eval(const char *text, size_t len, const char *filename,
    config_eval_fn *eval, void *ctx, struct config *out, struct failure *f);

/* The account with this exact name, or NULL. */
const struct config_account *config_find(const struct config *c,
    const char *name);

/*
 * The first account (file order) whose `from` matches the address: a
 * `from` holding '*', '?' or '[' is a shell pattern (fnmatch, case
 * matters), any other is compared case-insensitively, as msmtp does.
 * One pair of surrounding angle brackets on addr is ignored.  NULL if none.
 */
const struct config_account *config_match_from(const struct config *c,
    const char *addr);

/*
 * Choose the account for these options: o->account when set (unknown:
 * FAIL_CONFIG "no account 'X' in FILE"), else the first account whose
 * from matches o->from (when o->from is set, "" included), else the
 * account named "default", else the defaults section (&c->defaults).
 * Returns 0 with *acc set, or -1.
 */
int config_select(const struct config *c, const struct options *o,
    const struct config_account **acc, struct failure *f);

/*
 * Values that struct options has no field for yet; filled by
 * config_apply/config_load, owned by the caller (config_extra_free).
 * Initialise with config_extra_init.  Until the fields move into struct
 * options, the caller must act on them (see the notes per field).
 */
struct config_extra {
	char *file;		/* the file loaded; NULL: none */
	char *account;		/* the account used; NULL: defaults or none */
	char *queue_dir;	/* `queue` (carrier only), ~ expanded */
	char *tls_host;		/* `tls_host_override`: name to verify */
	enum tristate undisclosed_recipients;
	bool replace_from_header;	/* `set_from_header on` (msmtp: always
					 * write From, replacing one present);
					 * o->set_from_header is YES too */
	char *log_time_format;	/* `logfile_time_format` (strftime) */
};
void config_extra_init(struct config_extra *x);
void config_extra_free(struct config_extra *x);

/*
 * Fill every field of *o that is still unset (NULL, 0, UNSET, TLS_UNSET,
 * false for the bools keep_bcc, allow_plaintext_auth,
 * no_initial_response) from account a of c; extras go to *x.  Command
 * line values are never overridden, except that `allow_from_override off`
 * makes the account's from replace -f, as in msmtp.  Expands `~` in file
 * names and %U %H %C %M in from (%H %C %M in domain), as msmtp does; this
 * reads the environment, /etc/mailname (SYSCONFDIR) and may resolve the
 * host name.  Credentials (password, passwordeval) are taken only when
 * the connection goes to the account's own host or socket and as its own
 * user, so `--host other` never receives the account's secret.
 * Fails (FAIL_CONFIG, "FILE:LINE") when the account uses something carrier
 * does not support: proxy_host, ntlmdomain, tls_crl_file,
 * tls_min_dh_prime_bits, tls_force_sslv3 on, a SHA-1/MD5 tls_fingerprint,
 * auth gssapi/digest-md5/ntlm; or on tls_key_file without tls_cert_file
 * (or the reverse), a relative socket path, or an unreadable /etc/mailname
 * for %M.  On failure *o may be partly filled.
 */
int config_apply(const struct config *c, const struct config_account *a,
    struct options *o, struct config_extra *x, struct failure *f);

/*
 * Locate, check, parse and apply the configuration for *o.
 * The file: o->config_file (missing or unreadable: FAIL_CONFIG); else
 * $XDG_CONFIG_HOME/carrier/config (XDG_CONFIG_HOME absolute) or
 * ~/.config/carrier/config; else SYSCONFDIR "/carrier.conf".  A missing
 * default file is no configuration (returns 0, *o untouched, except that
 * o->account set then fails "no account 'X': no configuration file").
 * Other open/read errors, and files over 1 MiB, are FAIL_CONFIG.
 * A file holding a `password` key must not be readable or writable by
 * group or others ("FILE: holds a password, so it must not be readable by
 * others (chmod 600 FILE)") and, unless we are root, must be owned by us
 * (msmtp's checks).  eval commands run through /bin/sh with standard input
 * from /dev/null; they are refused in a file writable by others or owned
 * by another user (not root); fork/pipe failure is FAIL_OSERR, a command
 * that fails or prints nothing is FAIL_CONFIG.
 * Then config_select + config_apply.  Sets o->account to the account used
 * when it was NULL.  Returns 0 or -1.
 */
int config_load(struct options *o, struct config_extra *x,
    struct failure *f);

/*
 * The names of the accounts in path (NULL: the file config_load would
 * use with no --config), in file order, appended to *names; for shell
 * completion and `--list-accounts`.  eval lines are skipped (never run)
 * and the permission checks are not made.  A missing default file gives
 * no names and returns 0.  Returns 0 or -1 (FAIL_CONFIG).
 */
int config_account_names(const char *path, struct strlist *names,
    struct failure *f);

#endif
