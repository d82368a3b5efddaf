/*
 * secret.c: the password's sources (config, passwordeval, netrc,
 * CARRIER_PASSWORD, terminal prompt) and process hardening.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <bsd/readpassphrase.h>

#include "secret.h"
#include "util.h"

#define EVAL_MAX	(64 * 1024)	/* passwordeval output limit */
#define NETRC_MAX	(1024 * 1024)	/* netrc file size limit */
#define PROMPT_MAX	4096		/* longest password typed */
#define EVAL_DEFAULT_TIMEOUT	300	/* seconds: RFC 5321's reply limit */
#define EVAL_TERM_GRACE	1000		/* ms between SIGTERM and SIGKILL */

/* ------------------------------------------------------------------ */
/* netrc: pure parser */

struct netrc_lexer {
	const char *p, *end;
	size_t line;
	char *err;
	size_t errlen;
};

static bool
netrc_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

static void
netrc_skip_blanks(struct netrc_lexer *lx)
{
	while (lx->p < lx->end && netrc_blank(*lx->p)) {
		if (*lx->p == '\n')
			lx->line++;
		lx->p++;
	}
}

/* Skip to just after the next LF (or the end). */
static void
netrc_skip_line(struct netrc_lexer *lx)
{
	const char *nl = memchr(lx->p, '\n', (size_t)(lx->end - lx->p));

	if (nl == NULL) {
		lx->p = lx->end;
	} else {
		lx->p = nl + 1;
		lx->line++;
	}
}

/*
 * The next token into *tok (reset first).  Returns 1 with a token, 0 at the
 * end of the data, -1 on an unterminated quoted string.
 */
static int
netrc_token(struct netrc_lexer *lx, struct buf *tok)
{
	if (tok->data != NULL)
		explicit_bzero(tok->data, tok->cap);
	tok->len = 0;
	buf_add(tok, "", 0);
	netrc_skip_blanks(lx);
	if (lx->p == lx->end)
		return 0;
	if (*lx->p != '"') {
		while (lx->p < lx->end && !netrc_blank(*lx->p))
			buf_addc(tok, *lx->p++);
		return 1;
	}
	size_t start_line = lx->line;
	lx->p++;
	while (lx->p < lx->end && *lx->p != '"') {
		char c = *lx->p++;

		if (c == '\n')
			lx->line++;
		if (c == '\\' && lx->p < lx->end) {
			c = *lx->p++;
			switch (c) {
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case '\n': lx->line++; break;
			default: break;
			}
		}
		buf_addc(tok, c);
	}
	if (lx->p == lx->end) {
		if (lx->err != NULL && lx->errlen > 0)
			(void)snprintf(lx->err, lx->errlen,
			    "line %zu: quoted string not closed", start_line);
		return -1;
	}
	lx->p++;
	return 1;
}

/* macdef NAME: skip the rest of the line, then lines up to an empty one. */
static void
netrc_skip_macro(struct netrc_lexer *lx)
{
	netrc_skip_line(lx);
	while (lx->p < lx->end) {
		const char *nl = memchr(lx->p, '\n', (size_t)(lx->end - lx->p));
		size_t n = nl != NULL ? (size_t)(nl - lx->p) :
		    (size_t)(lx->end - lx->p);
		bool empty_line = n == 0 || (n == 1 && lx->p[0] == '\r');

		netrc_skip_line(lx);
		if (empty_line)
			break;
	}
}

void
netrc_entry_clear(struct netrc_entry *e)
{
	free_secret(e->login);
	free_secret(e->password);
	e->login = e->password = NULL;
	e->is_default = false;
}

/* Does the finished entry match?  (login NULL matches any user) */
static bool
netrc_entry_ok(const struct netrc_entry *cur, const char *user)
{
	return user == NULL || cur->login == NULL ||
	    strcmp(cur->login, user) == 0;
}

static void
netrc_set(char **field, const struct buf *tok)
{
	free_secret(*field);
	*field = xstrndup(tok->data, tok->len);
}

/* A NUL byte would cut a token short unseen: the file is refused. */
static int
netrc_nul_check(const char *data, size_t len, char *err, size_t errlen)
{
	const char *z = len > 0 ? memchr(data, '\0', len) : NULL;
	size_t line = 1;

	if (z == NULL)
		return 0;
	for (const char *q = data; q < z; q++)
		line += *q == '\n';
	if (err != NULL && errlen > 0)
		(void)snprintf(err, errlen, "line %zu: NUL byte", line);
	return -1;
}

/* One pass over a netrc file for one host (and user). */
struct netrc_scan {
	struct netrc_lexer lx;
	const char *host, *user;
	struct netrc_entry cur;		/* the entry being read */
	struct netrc_entry dflt;	/* the first matching `default` */
	enum { OUTSIDE, MACHINE_HIT, MACHINE_MISS, DEFAULT } state;
	bool have_dflt, found;
	struct buf tok;
};

/* The entry being read ends (at machine, default or the end): keep it
   when it is the one. */
static void
netrc_entry_end(struct netrc_scan *sc, struct netrc_entry *e)
{
	if (sc->state == MACHINE_HIT && netrc_entry_ok(&sc->cur, sc->user)) {
		*e = sc->cur;
		sc->cur.login = sc->cur.password = NULL;
		sc->found = true;
	} else if (sc->state == DEFAULT && !sc->have_dflt &&
	    netrc_entry_ok(&sc->cur, sc->user)) {
		sc->dflt = sc->cur;
		sc->dflt.is_default = true;
		sc->cur.login = sc->cur.password = NULL;
		sc->have_dflt = true;
	}
	netrc_entry_clear(&sc->cur);
}

/* login, password or account and its value; -1 on a lexer error. */
static int
netrc_field(struct netrc_scan *sc)
{
	char **field = sc->tok.data[0] == 'l' ? &sc->cur.login :
	    sc->tok.data[0] == 'p' ? &sc->cur.password : NULL;
	int rc = netrc_token(&sc->lx, &sc->tok);

	if (rc > 0 && field != NULL && sc->state != OUTSIDE &&
	    sc->state != MACHINE_MISS)
		netrc_set(field, &sc->tok);
	return rc < 0 ? -1 : 0;	/* EOF ends the entry at the next token */
}

/* The next keyword and what follows it: 1 to go on, 0 at the end (or
   once the machine's entry is found), -1 on a lexer error. */
static int
netrc_step(struct netrc_scan *sc, struct netrc_entry *e)
{
	int rc = netrc_token(&sc->lx, &sc->tok);
	const char *t = sc->tok.data;

	if (rc < 0)
		return -1;
	if (rc == 0 || strcmp(t, "machine") == 0 ||
	    strcmp(t, "default") == 0) {
		netrc_entry_end(sc, e);
		if (rc == 0 || sc->found)
			return 0;
		if (strcmp(t, "default") == 0) {
			sc->state = DEFAULT;
			return 1;
		}
		if ((rc = netrc_token(&sc->lx, &sc->tok)) <= 0)
			return rc;
		sc->state = ascii_ieq(sc->tok.data, sc->host) ? MACHINE_HIT :
		    MACHINE_MISS;
		return 1;
	}
	if (strcmp(t, "login") == 0 || strcmp(t, "password") == 0 ||
	    strcmp(t, "account") == 0)
		return netrc_field(sc) < 0 ? -1 : 1;
	if (strcmp(t, "macdef") == 0)
		netrc_skip_macro(&sc->lx);	/* its name is on this line */
	else if (t[0] == '#')
		/* A comment where a keyword is expected; the token stopped
		   at the blank after it, maybe the LF. */
		netrc_skip_line(&sc->lx);
	/* Anything else is ignored. */
	return 1;
}

int
netrc_find(const char *data, size_t len, const char *host, const char *user,
    struct netrc_entry *e, char *err, size_t errlen)
{
	struct netrc_scan sc = { .lx = { data, data + len, 1, err, errlen },
	    .host = host, .user = user, .state = OUTSIDE };
	int rc;

	e->login = e->password = NULL;
	e->is_default = false;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (netrc_nul_check(data, len, err, errlen) < 0)
		return -1;
	if (host == NULL)
		return 0;
	buf_init(&sc.tok);
	while ((rc = netrc_step(&sc, e)) > 0)
		;
	if (rc == 0 && !sc.found && sc.have_dflt) {
		*e = sc.dflt;
		sc.dflt.login = sc.dflt.password = NULL;
		sc.found = true;
	}
	netrc_entry_clear(&sc.cur);
	netrc_entry_clear(&sc.dflt);
	buf_free_secret(&sc.tok);
	if (rc < 0)
		netrc_entry_clear(e);
	return rc < 0 ? -1 : sc.found ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* passwordeval */

/* The first line of out[0..len) without LF or CRLF.  Returns NULL and sets
 * *why when it is empty or holds a NUL. */
static char *
first_line(const char *data, size_t len, const char **why)
{
	const char *nl = memchr(data, '\n', len);
	size_t n = nl != NULL ? (size_t)(nl - data) : len;

	if (n > 0 && data[n - 1] == '\r')
		n--;
	if (memchr(data, '\0', n) != NULL) {
		*why = "its first line holds a NUL byte";
		return NULL;
	}
	if (n == 0) {
		*why = len == 0 ? "it printed nothing" :
		    "its first line is empty";
		return NULL;
	}
	return xstrndup(data, n);
}

static void
close_keep_errno(int fd)
{
	int e = errno;

	(void)close(fd);
	errno = e;
}

static int
reap(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

/* Give the terminal tty (-1: none) to process group pgrp; SIGTTOU is
 * blocked since the caller may be in a background group by then. */
static void
give_terminal(int tty, pid_t pgrp)
{
	sigset_t ttou, old;

	if (tty < 0)
		return;
	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	(void)sigprocmask(SIG_BLOCK, &ttou, &old);
	(void)tcsetpgrp(tty, pgrp);
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
}

/* The terminal, open, when we are its foreground process group: the
 * command then gets it while it runs, so that it can ask for a
 * passphrase there (a background group reading it would be stopped).
 * -1 otherwise. */
static int
foreground_terminal(void)
{
	int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (tty >= 0 && tcgetpgrp(tty) != getpgrp()) {
		(void)close(tty);
		tty = -1;
	}
	return tty;
}

/* In the child: never returns. */
static void
eval_child(const char *cmd, int wfd, int tty)
{
	sigset_t none;
	int out, in;

	/* Its own process group: a command that leaves a child behind
	   (`cmd & echo pw`) is killed with it at the deadline. */
	(void)setpgid(0, 0);
	give_terminal(tty, getpid());
	/* Move the pipe above 2 first so that dup2 below cannot clash with
	 * it even when the parent ran with 0, 1 or 2 closed. */
	out = fcntl(wfd, F_DUPFD, 3);
	in = open("/dev/null", O_RDONLY);
	if (out < 0 || in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0)
		_exit(126);
	closefrom(3);
	(void)signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

/* Wait until the child pid has exited, without reaping it (so that its
 * process id, which names its group, stays taken), or until deadline.
 * Returns 1 when it exited, 0 at the deadline, -1 on error. */
static int
wait_exit(pid_t pid, int64_t deadline)
{
	for (;;) {
		siginfo_t si;

		si.si_pid = 0;
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG |
		    WNOWAIT) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (si.si_pid == pid)
			return 1;
		if (monotonic_ms() >= deadline)
			return 0;
		(void)poll(NULL, 0, 20);
	}
}

/* The deadline passed or the output is too long: SIGTERM to the command's
 * process group, SIGKILL after a grace period, then reap the child. */
static int
kill_group(pid_t pid, int *status)
{
	(void)kill(-pid, SIGTERM);
	if (wait_exit(pid, monotonic_ms() + EVAL_TERM_GRACE) < 0)
		return -1;
	/* Whatever is left in its group goes too, the leader included. */
	(void)kill(-pid, SIGKILL);
	return reap(pid, status);
}

/* Read the command's output into data until EOF, EVAL_MAX + 1 bytes or the
 * deadline.  Returns 0 at EOF, 1 when too long, 2 at the deadline, -1 with
 * errno on a read or poll error. */
static int
read_output(int fd, char *data, size_t *len, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - monotonic_ms();
		struct pollfd pfd = { fd, POLLIN, 0 };
		int n;

		if (left <= 0)
			return 2;
		n = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 2;

		ssize_t got = read(fd, data + *len, EVAL_MAX + 1 - *len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -1;
		if (got == 0)
			return 0;
		*len += (size_t)got;
		if (*len > EVAL_MAX)
			return 1;
	}
}

/* One run of a command: what it printed and how it ended. */
struct eval_run {
	pid_t pid;
	int tty;		/* our terminal, lent to its group; or -1 */
	int rfd;		/* the read end of its output */
	char *data;		/* EVAL_MAX + 1 octets, wiped */
	size_t len;
	int got;		/* read_output's answer; 2 also for a late exit */
	int read_errno;
	int status;
};

/* Start the command in its own process group, its output into a pipe. */
static int
eval_start(const char *cmd, struct eval_run *er, struct failure *f)
{
	int pfd[2];

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return fail(f, FAIL_OSERR, 0, "passwordeval",
		    "cannot create a pipe: %s", strerror(errno));
	(void)fflush(NULL);
	er->tty = foreground_terminal();
	er->pid = fork();
	if (er->pid < 0) {
		int e = errno;

		(void)close(pfd[0]);
		(void)close(pfd[1]);
		if (er->tty >= 0)
			(void)close(er->tty);
		return fail(f, FAIL_OSERR, 0, "passwordeval",
		    "cannot fork: %s", strerror(e));
	}
	if (er->pid == 0)
		eval_child(cmd, pfd[1], er->tty);
	/* Set here too, so that the group exists (and has the terminal)
	   whichever process runs first. */
	(void)setpgid(er->pid, er->pid);
	give_terminal(er->tty, er->pid);
	(void)close(pfd[1]);
	er->rfd = pfd[0];
	return 0;
}

/* Read its output and wait for its exit, both within the deadline; kill
   its group when it runs late or prints too much; take the terminal
   back. */
static int
eval_finish(struct eval_run *er, int64_t deadline, struct failure *f)
{
	int waited = 1;

	er->data = xmalloc(EVAL_MAX + 1);
	er->got = read_output(er->rfd, er->data, &er->len, deadline);
	if (er->got < 0)
		er->read_errno = errno;
	close_keep_errno(er->rfd);
	/* The command may close its output and go on running: the
	   deadline holds for its exit too. */
	if (er->got == 0 && (waited = wait_exit(er->pid, deadline)) == 0)
		er->got = 2;
	if (waited >= 0)
		waited = er->got == 0 ? reap(er->pid, &er->status) :
		    kill_group(er->pid, &er->status);
	if (er->tty >= 0) {
		int e = errno;

		give_terminal(er->tty, getpgrp());
		(void)close(er->tty);
		errno = e;
	}
	if (waited < 0)
		return fail(f, FAIL_OSERR, 0, "passwordeval",
		    "cannot wait for the command: %s", strerror(errno));
	return 0;
}

/* What the run came to: the first line of its output, or why not. */
static int
eval_verdict(const struct eval_run *er, int timeout, char **out,
    struct failure *f)
{
	const char *why = NULL;
	int st = WIFEXITED(er->status) ? WEXITSTATUS(er->status) : -1;

	if (er->got == 1)
		return fail(f, FAIL_CONFIG, 0, "passwordeval", "the command "
		    "printed more than %d KiB", EVAL_MAX / 1024);
	if (er->got == 2)
		return fail(f, FAIL_CONFIG, 0, "passwordeval", "the command "
		    "did not finish within %d s (killed)", timeout);
	if (er->read_errno != 0)
		return fail(f, FAIL_OSERR, 0, "passwordeval", "cannot read "
		    "the command's output: %s", strerror(er->read_errno));
	if (WIFSIGNALED(er->status))
		return fail(f, FAIL_CONFIG, 0, "passwordeval", "the command "
		    "was killed by signal %d (%s)", WTERMSIG(er->status),
		    strsignal(WTERMSIG(er->status)));
	if (st != 0)
		return fail(f, FAIL_CONFIG, 0, "passwordeval", "the command "
		    "failed with exit status %d%s", st, st == 127 ?
		    " (command not found?)" : st == 126 ?
		    " (cannot be run?)" : "");
	if ((*out = first_line(er->data, er->len, &why)) == NULL)
		return fail(f, FAIL_CONFIG, 0, "passwordeval", "no password "
		    "from the command: %s", why);
	return 0;
}

int
secret_eval(const char *cmd, int timeout, char **out, struct failure *f)
{
	struct eval_run er = { .tty = -1, .rfd = -1 };
	int rc;

	*out = NULL;
	if (timeout <= 0)
		timeout = EVAL_DEFAULT_TIMEOUT;
	if (eval_start(cmd, &er, f) < 0)
		return -1;
	rc = eval_finish(&er, monotonic_ms() + (int64_t)timeout * 1000, f);
	if (rc == 0)
		rc = eval_verdict(&er, timeout, out, f);
	explicit_bzero(er.data, EVAL_MAX + 1);
	free(er.data);
	return rc;
}

/* ------------------------------------------------------------------ */
/* the netrc file */

static char *
netrc_path(const struct secret_query *q)
{
	const char *p = q->netrc_path, *home;
	struct passwd *pw;

	if (p != NULL)
		return xstrdup(p);
	p = getenv("NETRC");
	if (p != NULL && *p != '\0')
		return xstrdup(p);
	home = getenv("HOME");
	if (home == NULL || *home == '\0') {
		pw = getpwuid(getuid());
		if (pw == NULL || pw->pw_dir == NULL)
			return NULL;
		home = pw->pw_dir;
	}
	return xasprintf("%s/.netrc", home);
}

/* 1: entry found, 0: none (or no file), -1: failure. */
static int
netrc_lookup(const struct secret_query *q, struct netrc_entry *e,
    struct failure *f)
{
	char *path = netrc_path(q), *data = NULL;
	char err[128];
	struct stat st;
	size_t len = 0;
	int fd, rc = 0;

	e->login = e->password = NULL;
	e->is_default = false;
	if (path == NULL)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			free(path);
			return 0;
		}
		rc = fail(f, FAIL_CONFIG, 0, path, "cannot open: %s",
		    strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		rc = fail(f, FAIL_CONFIG, 0, path, "%s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = fail(f, FAIL_CONFIG, 0, path, "not a regular file");
		goto out;
	}
	if (st.st_size > NETRC_MAX) {
		rc = fail(f, FAIL_CONFIG, 0, path, "larger than %d KiB",
		    NETRC_MAX / 1024);
		goto out;
	}
	data = xmalloc(NETRC_MAX + 1);
	for (;;) {
		ssize_t n = read(fd, data + len, NETRC_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = fail(f, FAIL_CONFIG, 0, path, "cannot read: %s",
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > NETRC_MAX) {
			rc = fail(f, FAIL_CONFIG, 0, path,
			    "larger than %d KiB", NETRC_MAX / 1024);
			goto out;
		}
	}
	rc = netrc_find(data, len, q->host, q->user, e, err, sizeof err);
	if (rc < 0) {
		rc = fail(f, FAIL_CONFIG, 0, path, "%s", err);
		goto out;
	}
	if (rc == 1 && e->password != NULL &&
	    (st.st_uid != geteuid() || (st.st_mode & 077) != 0)) {
		netrc_entry_clear(e);
		rc = fail(f, FAIL_CONFIG, 0, path, "%s; it holds a password, "
		    "so it must be yours and private (chmod 600)",
		    st.st_uid != geteuid() ? "not owned by you" :
		    "accessible by others");
		goto out;
	}
out:
	if (fd >= 0)
		(void)close(fd);
	if (data != NULL) {
		explicit_bzero(data, NETRC_MAX + 1);
		free(data);
	}
	free(path);
	return rc;
}

/* ------------------------------------------------------------------ */

const char *
secret_source_name(enum secret_source src)
{
	switch (src) {
	case SECRET_CONFIG: return "config password";
	case SECRET_EVAL: return "passwordeval";
	case SECRET_NETRC: return "netrc";
	case SECRET_ENV: return "CARRIER_PASSWORD";
	case SECRET_PROMPT: return "terminal prompt";
	case SECRET_NONE: break;
	}
	return "none";
}

void
secret_clear(struct secret *s)
{
	free_secret(s->password);
	free(s->user);
	s->password = NULL;
	s->user = NULL;
	s->source = SECRET_NONE;
}

static int
prompt(const struct secret_query *q, const char *user, struct secret *out,
    struct failure *f)
{
	char *buf, *p, *eu = NULL, *eh = NULL;
	int fd;

	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	(void)close(fd);
	if (user != NULL)
		eu = escape_bytes(user, strlen(user));
	if (q->host != NULL)
		eh = escape_bytes(q->host, strlen(q->host));
	if (eu == NULL && eh == NULL)
		p = xstrdup("Password: ");
	else
		p = xasprintf("Password for %s%s%s: ", eu != NULL ? eu : "",
		    eu != NULL && eh != NULL ? " at " : "",
		    eh != NULL ? eh : "");
	free(eu);
	free(eh);
	buf = xmalloc(PROMPT_MAX);
	if (readpassphrase(p, buf, PROMPT_MAX, RPP_REQUIRE_TTY) == NULL) {
		int e = errno;

		explicit_bzero(buf, PROMPT_MAX);
		free(buf);
		free(p);
		return fail(f, FAIL_CONFIG, 0, "password",
		    "cannot read it from the terminal: %s", strerror(e));
	}
	free(p);
	out->password = xstrdup(buf);
	out->source = SECRET_PROMPT;
	explicit_bzero(buf, PROMPT_MAX);
	free(buf);
	return 1;
}

int
secret_get(const struct secret_query *q, struct secret *out,
    struct failure *f)
{
	struct netrc_entry e = { NULL, NULL, false };
	const char *env;
	int rc;

	out->password = NULL;
	out->user = q->user != NULL ? xstrdup(q->user) : NULL;
	out->source = SECRET_NONE;

	if (q->password != NULL) {
		out->password = xstrdup(q->password);
		out->source = SECRET_CONFIG;
		return 0;
	}
	if (q->passwordeval != NULL) {
		if (secret_eval(q->passwordeval, q->timeout, &out->password,
		    f) < 0)
			return -1;
		out->source = SECRET_EVAL;
		return 0;
	}
	if (q->host != NULL) {
		rc = netrc_lookup(q, &e, f);
		if (rc < 0)
			return -1;
		if (rc == 1) {
			if (out->user == NULL && e.login != NULL)
				out->user = xstrdup(e.login);
			if (e.password != NULL) {
				out->password = e.password;
				e.password = NULL;
				out->source = SECRET_NETRC;
			}
			netrc_entry_clear(&e);
			if (out->password != NULL)
				return 0;
		}
	}
	const char *env_name = q->env_name ? q->env_name : "CARRIER_PASSWORD";
	env = getenv(env_name);
	if (env != NULL && *env != '\0') {
		out->password = xstrdup(env);
		out->source = SECRET_ENV;
		return 0;
	}
	if (!q->no_prompt) {
		rc = prompt(q, out->user, out, f);
		if (rc != 0)
			return rc < 0 ? -1 : 0;
	}
	return fail(f, FAIL_CONFIG, 0, "password", "none found%s%s%s%s: "
	    "set password or passwordeval in the account, add the host to "
	    "~/.netrc, set %s, or run from a terminal",
	    out->user != NULL || q->host != NULL ? " for " : "",
	    out->user != NULL ? out->user : "",
	    out->user != NULL && q->host != NULL ? " at " : "",
	    q->host != NULL ? q->host : "", env_name);
}

int
secret_protect_process(struct failure *f)
{
	struct rlimit rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) < 0)
		return fail(f, FAIL_OSERR, 0, "setrlimit(RLIMIT_CORE)", "%s",
		    strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return fail(f, FAIL_OSERR, 0, "prctl(PR_SET_DUMPABLE)", "%s",
		    strerror(errno));
	return 0;
}
