/*
 * config.h: configuration files in msmtp's msmtprc syntax, so that an
 * existing msmtprc works unchanged, plus a few carrier-only keys.
 * config_parse.c parses (pure); config.c selects an account, applies it
 * to struct options and does the file work.  The keys and their value
 * types are the table of settings.h.
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
#include "settings.h"
#include "util.h"

/*
 * One key's value in one account, as setting_parse() left it (see
 * struct setting_value: str, num, auth).  line == 0: never set.
 * own: set by the account's own lines or inherited from a parent, as
 * opposed to copied from the defaults (only own values pass to children).
 */
struct config_value {
	char *str;
	long num;
	struct auth_setting auth;
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
 * Does an account's `from` match this envelope address?  A `from` holding
 * '*', '?' or '[' is a shell pattern: the local parts are compared by
 * fnmatch(3) (case matters, as in msmtp), the domains without regard to
 * case (RFC 5321; msmtp 1.8.23 minds the case there too).  Any other
 * `from` is compared without regard to case, as msmtp does.  Pure.
 */
bool config_from_matches(const char *from, const char *addr);

/* addr without its subaddress ("bob+tag@x" -> "bob@x": from the first '+'
   of the local part to the '@'), malloc'd; NULL when it has none. */
char *config_strip_subaddress(const char *addr);

/*
 * The first account (file order) whose `from` matches the address
 * (config_from_matches), else the first that matches it without its
 * subaddress, as msmtp does: bob+tag@x picks the account of bob@x.
 * One pair of surrounding angle brackets on addr is ignored.  NULL if none.
 */
const struct config_account *config_match_from(const struct config *c,
    const char *addr);

/*
 * Choose the account for these options: o->account when set (unknown:
 * FAIL_CONFIG "no account 'X' in FILE"), else the first account whose
 * from matches the envelope sender (config_match_from): o->from, else
 * o->header_sender (--read-envelope-from), "" included; else the
 * account named "default", else the defaults section (&c->defaults).
 * Returns 0 with *acc set, or -1.
 */
int config_select(const struct config *c, const struct options *o,
    const struct config_account **acc, struct failure *f);

/*
 * Fill every field of *o that is still unset (NULL, 0, UNSET, TLS_UNSET,
 * AUTH_DEFAULT, false for the bools keep_bcc, allow_plaintext_auth,
 * no_initial_response, undisclosed_recipients, replace_from_header) from
 * account a of c; o->config_used names c's file, o->account the account
 * (when NULL); `queue DIR` sets o->queue_dir and o->queue_on.  The port of
 * `host HOST:PORT` is used when neither --port nor `port` is.  Command
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
    struct options *o, struct failure *f);

/*
 * Locate, check, parse and apply the configuration for *o.
 * The file: o->config_file (missing or unreadable: FAIL_CONFIG); else
 * $XDG_CONFIG_HOME/carrier/config (XDG_CONFIG_HOME absolute) or
 * ~/.config/carrier/config; else SYSCONFDIR "/carrier.conf"; else msmtp's
 * files, as msmtp orders them: ~/.msmtprc, $XDG_CONFIG_HOME/msmtp/config
 * (or ~/.config/msmtp/config), SYSCONFDIR "/msmtprc".  The first that
 * exists is the one read, under the same rules as carrier's.  A missing
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
int config_load(struct options *o, struct failure *f);

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
