/*
 * secret.h: where the password (or OAuth token) comes from, and keeping it
 * out of core dumps (carrier(1) AUTHENTICATION).
 *
 * Order, first that yields a password wins:
 *   1. the config's `password` value, used as given (even empty);
 *   2. `passwordeval`: /bin/sh -c CMD, the first line of its output;
 *   3. the netrc file ($NETRC, else ~/.netrc), machine = host;
 *   4. the environment variable CARRIER_PASSWORD (set and non-empty);
 *   5. a prompt on the terminal (readpassphrase), when /dev/tty opens.
 * Nothing here writes a secret into a failure or a message.  Strings that
 * held a secret are wiped before they are freed.
 */
#ifndef CARRIER_SECRET_H
#define CARRIER_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "report.h"

enum secret_source {
	SECRET_NONE = 0, SECRET_CONFIG, SECRET_EVAL, SECRET_NETRC, SECRET_ENV,
	SECRET_PROMPT,
};

struct secret_query {
	const char *password;	  /* config `password`; NULL when unset */
	const char *passwordeval; /* config `passwordeval`; NULL when unset */
	const char *host;	  /* netrc machine and prompt; NULL: no netrc */
	const char *user;	  /* NULL: a netrc login may supply it */
	const char *netrc_path;	  /* NULL: $NETRC if set and non-empty, else
				   * $HOME/.netrc (the passwd entry's home when
				   * HOME is unset) */
	bool no_prompt;		  /* never prompt, even with a terminal */
	int timeout;		  /* passwordeval's limit in seconds; 0: the
				   * default of secret_eval */
	const char *env_name;	  /* step 4's variable; NULL: CARRIER_PASSWORD */
};

struct secret {
	char *password;		/* the secret (NUL-free); wiped by secret_clear */
	char *user;		/* the query's user, else the netrc login,
				 * else NULL */
	enum secret_source source;
};

/*
 * Find the secret for q, in the order above, into *out (which is
 * overwritten; secret_clear it afterwards, also after a failure).
 * Returns 0, or -1 with f:
 *   FAIL_CONFIG  passwordeval exited non-zero, was killed or ran past its
 *                deadline (the detail gives the status, never the
 *                command or its output), its
 *                first line is empty or holds a NUL byte, or its output is
 *                over 64 KiB; the netrc file cannot be read, is malformed,
 *                or gives the password while it is not owned by the user
 *                or is accessible by group or others; the terminal prompt
 *                failed; no source gave a password.
 *   FAIL_OSERR   pipe or fork failed for passwordeval.
 * A netrc entry may give the login without a password: the user is taken
 * from it (when the query has none) and the search goes on to step 4.
 */
int secret_get(const struct secret_query *q, struct secret *out,
    struct failure *f);

/* Wipe and free both strings; *s is left empty.  NULL fields are fine. */
void secret_clear(struct secret *s);

/* "config password", "passwordeval", "netrc", "CARRIER_PASSWORD",
 * "terminal prompt"; "none" for SECRET_NONE. For -v messages. */
const char *secret_source_name(enum secret_source src);

/*
 * Run `/bin/sh -c cmd` with standard input from /dev/null, standard output
 * into a pipe, standard error inherited, every other descriptor closed and
 * SIGPIPE at its default, in a process group of its own.  Reads at most
 * 64 KiB.  The command must print its output and exit within timeout
 * seconds (0 or less: 300, RFC 5321's limit for one reply); otherwise, and
 * when its output is too long, its whole process group gets SIGTERM and,
 * a second later, SIGKILL, so that a child left in the background cannot
 * keep the pipe open.  The child is always reaped.  *out receives the
 * first line without its LF or CRLF (a last line without LF counts),
 * malloc'd, caller frees with free_secret.  Returns 0, or -1 with f as in
 * secret_get (FAIL_CONFIG, also "the command did not finish within N s
 * (killed)"; FAIL_OSERR); *out is NULL then.
 */
int secret_eval(const char *cmd, int timeout, char **out,
    struct failure *f);

/* One netrc entry's login and password, each malloc'd or NULL. */
struct netrc_entry {
	char *login;
	char *password;
	bool is_default;	/* the `default` entry matched */
};

/*
 * Pure netrc parser over data[0..len): no I/O.  Tokens are separated by
 * blanks (space, tab, CR, LF, FF, VT); a token may be a double-quoted
 * string in which \" \\ \n \r \t are escapes (any other \X is X).
 * Keywords: `machine NAME`, `default`, `login L`, `password P`,
 * `account A` (ignored), `macdef NAME` (the rest of its line and the
 * following lines up to an empty line are skipped).  A `#` where a
 * keyword is expected starts a comment to the end of the line.  Unknown
 * tokens are ignored.
 * Matching: the first `machine` entry whose name equals host (ASCII case
 * ignored) and, when user is non-NULL, whose login equals user or which
 * has no login; when no machine matches, the first `default` entry under
 * the same rule on the login.  An entry ends at the next machine, default
 * or end of input.
 * Returns 1 with *e filled, 0 when nothing matches (*e empty), or -1 with
 * err (a line number and what, never a token) when the data holds a NUL
 * byte or a quoted string is not closed; *e is empty then.  Free *e with
 * netrc_entry_clear.
 */
int netrc_find(const char *data, size_t len, const char *host,
    const char *user, struct netrc_entry *e, char *err, size_t errlen);

/* Wipe and free the entry's strings. */
void netrc_entry_clear(struct netrc_entry *e);

/*
 * For a process that holds secrets: core dumps off (RLIMIT_CORE 0, soft
 * and hard, inherited by passwordeval's command) and the process made
 * non-dumpable (prctl PR_SET_DUMPABLE 0: no core, no ptrace attach or
 * /proc/PID/mem by other processes of the same user).  Call it early in
 * main, before the config is read.  Returns 0, or -1 with f (FAIL_OSERR).
 */
int secret_protect_process(struct failure *f);

#endif
