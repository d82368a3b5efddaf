/* queue.c: queue entries on disk, written so that a crash never leaves a
 * half entry (write to tmp/, fsync, rename, fsync the directory). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "address.h"
#include "cli.h"
#include "params.h"
#include "queue.h"

void
queue_entry_free(struct queue_entry *e)
{
	free(e->sender);
	strlist_free(&e->recipients);
	free(e->account);
	free(e->dsn_notify);
	free(e->dsn_return);
	free(e->dsn_envid);
	free(e->body_type);
	strlist_free(&e->route);
	free(e->last_error);
	free(e->invalid);
	memset(e, 0, sizeof *e);
}

char *
queue_default_dir(void)
{
	const char *state = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");

	if (getuid() == 0 && (state == NULL || *state != '/'))
		return xstrdup("/var/spool/carrier");
	if (state != NULL && *state == '/')
		return xasprintf("%s/carrier/queue", state);
	return xasprintf("%s/.local/state/carrier/queue",
	    home && *home ? home : "/tmp");
}

static int
os_fail(struct failure *f, const char *what, const char *dir,
    const char *name)
{
	int e = errno;

	fail(f, FAIL_OSERR, 0, what, "%s%s%s: %s", dir, name ? "/" : "",
	    name ? name : "", strerror(e));
	errno = e;
	return -1;
}

/* mkdir -p with mode 0700 for what we create. */
static int
make_dirs(const char *dir, struct failure *f)
{
	char *p = xstrdup(dir);
	int rc = 0;

	for (char *s = p + 1; rc == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			rc = os_fail(f, "queue directory", p, NULL);
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

/*
 * Queued mail is private: the directory must be ours, a real directory
 * (not a symlink) and closed to everybody else, whoever made it (another
 * user could otherwise create it first, in /tmp say, and read or change
 * the mail).  It is checked on the descriptor every file is then reached
 * from, so renaming the path to something else afterwards changes
 * nothing.
 */
static int
open_trusted(int at, const char *name, const char *shown_dir,
    const char *shown_name, struct failure *f)
{
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	struct stat st;

	if (fd < 0 && errno != ELOOP && errno != ENOTDIR)
		return os_fail(f, "queue directory", shown_dir, shown_name);
	if (fd >= 0 && fstat(fd, &st) < 0) {
		os_fail(f, "queue directory", shown_dir, shown_name);
		(void)close(fd);
		return -1;
	}
	if (fd < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0) {
		if (fd >= 0)
			(void)close(fd);
		fail(f, FAIL_CONFIG, 0, "queue directory", "%s%s%s must be a "
		    "directory owned by you with mode 0700", shown_dir,
		    shown_name ? "/" : "", shown_name ? shown_name : "");
		errno = EPERM;
		return -1;
	}
	return fd;
}

/* NAME (tmp or failed) in the directory `at`, the queue or its failed/,
   made when missing, checked as the queue is. */
static int
sub_dir(const struct queue *q, int at, const char *name, struct failure *f)
{
	char shown[64];

	(void)snprintf(shown, sizeof shown, "%s%s", at == q->fd ? "" :
	    "failed/", name);
	if (mkdirat(at, name, 0700) < 0 && errno != EEXIST)
		return os_fail(f, "queue directory", q->dir, shown);
	return open_trusted(at, name, q->dir, shown, f);
}

int
queue_open(struct queue *q, const char *dir, bool create,
    struct failure *f)
{
	q->dir = xstrdup(dir);
	q->fd = -1;
	if (create && make_dirs(dir, f) < 0)
		return -1;
	if ((q->fd = open_trusted(AT_FDCWD, dir, dir, NULL, f)) < 0) {
		if (create || errno != ENOENT)
			return -1;
		memset(f, 0, sizeof *f);	/* no queue: not a failure */
		return 1;
	}
	if (create) {
		int t = sub_dir(q, q->fd, "tmp", f);
		if (t < 0)
			return -1;
		(void)close(t);
	}
	return 0;
}

void
queue_close(struct queue *q)
{
	if (q->fd >= 0)
		(void)close(q->fd);
	free(q->dir);
	q->dir = NULL;
	q->fd = -1;
}

/* Write tmp/NAME under the directory `at`, fsync it, rename it to NAME. */
static int
put_file(const struct queue *q, int at, const char *name,
    int (*fill)(int fd, const void *ctx, struct failure *f),
    const void *ctx, struct failure *f)
{
	int tmp = sub_dir(q, at, "tmp", f), fd = -1, rc = -1;

	if (tmp < 0)
		return -1;
	(void)unlinkat(tmp, name, 0);	/* left by a crash: we hold the
					   lock or a new id */
	fd = openat(tmp, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd < 0) {
		os_fail(f, "queue", q->dir, name);
		goto out;
	}
	if (fill(fd, ctx, f) < 0) {
		(void)close(fd);
		(void)unlinkat(tmp, name, 0);
		goto out;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		os_fail(f, "queue", q->dir, name);
		(void)unlinkat(tmp, name, 0);
		goto out;
	}
	if (renameat(tmp, name, at, name) < 0) {
		os_fail(f, "queue", q->dir, name);
		(void)unlinkat(tmp, name, 0);
		goto out;
	}
	rc = 0;
out:
	(void)close(tmp);
	return rc;
}

static int
chunk_to_fd(void *ctx, const char *p, size_t n)
{
	return write_all(*(int *)ctx, p, n);
}

static int
fill_message(int fd, const void *ctx, struct failure *f)
{
	if (message_each_chunk(ctx, chunk_to_fd, &fd, f) < 0)
		return f->class ? -1 : fail(f, FAIL_OSERR, 0, "queue",
		    "writing the message: %s", strerror(errno));
	return 0;
}

/* Values are single lines without control bytes: addresses and
   parameters were checked, an error's text may hold anything. */
static void
put_line(struct buf *b, const char *key, const char *v)
{
	if (v == NULL)
		return;
	buf_addf(b, "%s ", key);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		buf_addc(b, *p < 0x20 || *p == 0x7f ? ' ' : (char)*p);
	buf_addc(b, '\n');
}

static int
fill_envelope(int fd, const void *ctx, struct failure *f)
{
	const struct queue_entry *e = ctx;
	struct buf b;
	int rc = 0;

	buf_init(&b);
	buf_addf(&b, "version 1\n");
	put_line(&b, "sender", e->sender);
	for (size_t i = 0; i < e->recipients.n; i++)
		put_line(&b, "recipient", e->recipients.v[i]);
	put_line(&b, "account", e->account);
	put_line(&b, "dsn_notify", e->dsn_notify);
	put_line(&b, "dsn_return", e->dsn_return);
	put_line(&b, "dsn_envid", e->dsn_envid);
	put_line(&b, "body", e->body_type);
	for (size_t i = 0; i < e->route.n; i++)
		put_line(&b, "option", e->route.v[i]);
	buf_addf(&b, "attempts %d\nfirst %lld\nlast %lld\nnext %lld\n",
	    e->attempts, (long long)e->first, (long long)e->last,
	    (long long)e->next);
	put_line(&b, "error", e->last_error);
	if (write_all(fd, b.data, b.len) < 0)
		rc = fail(f, FAIL_OSERR, 0, "queue", "writing the envelope: %s",
		    strerror(errno));
	buf_free(&b);
	return rc;
}

int
queue_add(const struct queue *q, struct queue_entry *e,
    const struct message *m, struct failure *f)
{
	char name[96];

	(void)snprintf(e->id, sizeof e->id, "%llx.%08x",
	    (unsigned long long)time(NULL), arc4random());
	(void)snprintf(name, sizeof name, "%s.msg", e->id);
	if (put_file(q, q->fd, name, fill_message, m, f) < 0)
		return -1;
	(void)snprintf(name, sizeof name, "%s.env", e->id);
	if (put_file(q, q->fd, name, fill_envelope, e, f) < 0) {
		(void)snprintf(name, sizeof name, "%s.msg", e->id);
		(void)unlinkat(q->fd, name, 0);
		return -1;
	}
	if (fsync(q->fd) < 0)
		return os_fail(f, "queue", q->dir, NULL);
	return 0;
}

int
queue_update(const struct queue *q, const struct queue_entry *e,
    struct failure *f)
{
	char name[96];

	(void)snprintf(name, sizeof name, "%s.env", e->id);
	if (put_file(q, q->fd, name, fill_envelope, e, f) < 0)
		return -1;
	return fsync(q->fd) < 0 ? os_fail(f, "queue", q->dir, NULL) : 0;
}

/* A whole decimal number in [min, max]. */
static bool
number(const char *v, long long min, long long max, long long *out)
{
	char *end;

	if (*v < '0' || *v > '9')
		return false;
	errno = 0;
	*out = strtoll(v, &end, 10);
	return errno == 0 && *end == '\0' && *out >= min && *out <= max;
}

/* Set a field that appears at most once. */
static bool
once(char **field, const char *v)
{
	if (*field != NULL)
		return false;
	*field = xstrdup(v);
	return true;
}

/* The options an entry may keep: where the message goes and how the
   session is set up.  Never one that reads a configuration, writes a
   file or names a secret. */
static const char *const route_options[] = {
	"host", "port", "lmtp", "tls", "tls-on-connect", "starttls", "tls-ca",
	"tls-cert", "tls-key", "tls-fingerprint", "tls-priority",
	"tls-no-verify", "user", "auth", "no-initial-response", "allow-plaintext-auth", "proxy",
	"proxy-host", "proxy-port", NULL,
};

static bool
route_option(const char *word)
{
	size_t n = strcspn(word, "=");

	if (strncmp(word, "--", 2) != 0)
		return false;
	for (size_t i = 0; route_options[i] != NULL; i++)
		if (n - 2 == strlen(route_options[i]) &&
		    strncmp(word + 2, route_options[i], n - 2) == 0)
			return true;
	return false;
}

/* Parse words as a command line of their own ("carrier WORD..."). */
static int
parse_words(const char *const *words, size_t n, struct options *o,
    struct failure *f)
{
	char **argv = xcalloc(n + 2, sizeof *argv);
	int rc;

	argv[0] = xstrdup("carrier");
	/* Entries written before --tls meant msmtp's TLS-with-STARTTLS
	   said "--tls" for implicit TLS. */
	for (size_t i = 0; i < n; i++)
		argv[i + 1] = xstrdup(strcmp(words[i], "--tls") == 0 ?
		    "--tls-on-connect" : words[i]);
	rc = cli_parse((int)n + 1, argv, "carrier", o, f);
	if (rc == 0 && (o->recipients.n > 0 || o->action != ACT_SEND))
		rc = fail(f, FAIL_USAGE, 0, "option", "not a setting");
	for (size_t i = 0; i < n + 1; i++)
		free(argv[i]);
	free(argv);
	return rc;
}

/* One `option` line: a connection or session option, named in full,
   that the command line itself accepts. */
static const char *
check_option(const char *v, struct queue_entry *e, char *msg, size_t len)
{
	struct options o;
	struct failure f;
	int rc;

	strlist_add(&e->route, v);
	if (!route_option(v))
		return "is not a connection or session option";
	options_init(&o);
	rc = parse_words(&v, 1, &o, &f);
	options_free(&o);
	if (rc == 0)
		return NULL;
	(void)snprintf(msg, len, "is refused: %s: %s", f.what, f.detail);
	return msg;
}

/* The option lines together: each may hold alone and still contradict
   another (an old "--tls", implicit TLS, beside "--starttls"). */
static const char *
check_route(const struct queue_entry *e, char *msg, size_t len)
{
	struct options o;
	struct failure f;
	int rc;

	options_init(&o);
	rc = parse_words((const char *const *)e->route.v, e->route.n, &o, &f);
	options_free(&o);
	if (rc == 0)
		return NULL;
	(void)snprintf(msg, len, "are refused together: %s: %s", f.what,
	    f.detail);
	return msg;
}

int
queue_route_apply(const struct strlist *route, struct options *o,
    struct failure *f)
{
	return parse_words((const char *const *)route->v, route->n, o, f);
}

static void
add_word(struct strlist *words, const char *name, const char *value)
{
	char *w = xasprintf("--%s%s%s", name, value ? "=" : "",
	    value ? value : "");
	strlist_add(words, w);
	free(w);
}

/* A file named relative to the directory of the command: the flush may
   run elsewhere (cron, a timer). */
static void
add_path(struct strlist *words, const char *name, const char *path)
{
	char cwd[4096];

	if (path == NULL)
		return;
	if (path[0] != '/' && getcwd(cwd, sizeof cwd) != NULL) {
		char *abs = xasprintf("%s/%s", cwd, path);
		add_word(words, name, abs);
		free(abs);
	} else
		add_word(words, name, path);
}

/* --auth as it was given: on, off or the mechanisms in order. */
static void
add_auth(struct strlist *words, const struct auth_setting *a)
{
	struct buf b;

	if (a->mode == AUTH_DEFAULT)
		return;
	if (a->mode != AUTH_LIST) {
		add_word(words, "auth", a->mode == AUTH_ON ? "on" : "off");
		return;
	}
	buf_init(&b);
	for (size_t i = 0; i < a->n; i++)
		buf_addf(&b, "%s%s", i ? "," : "", sasl_mech_name(a->mech[i]));
	add_word(words, "auth", b.data);
	buf_free(&b);
}

void
queue_route_of(const struct options *o, struct strlist *words)
{
	char port[16];

	if (o->host != NULL)
		add_word(words, "host", o->host);
	(void)snprintf(port, sizeof port, "%d", o->port);
	if (o->port != 0)
		add_word(words, "port", port);
	if (o->lmtp == YES)
		add_word(words, "lmtp", NULL);
	if (o->proxy != NULL)
		add_word(words, "proxy", o->proxy);
	if (o->proxy_host != NULL)
		add_word(words, "proxy-host", o->proxy_host);
	if (o->proxy_port != 0) {
		(void)snprintf(port, sizeof port, "%d", o->proxy_port);
		add_word(words, "proxy-port", port);
	}
	if (o->tls == TLS_IMPLICIT)
		add_word(words, "tls-on-connect", NULL);
	else if (o->tls == TLS_STARTTLS_REQUIRED ||
	    o->tls == TLS_STARTTLS_OPTIONAL)
		add_word(words, "starttls", o->tls == TLS_STARTTLS_OPTIONAL ?
		    "optional" : "required");
	add_path(words, "tls-ca", o->tls_ca);
	add_path(words, "tls-cert", o->tls_cert);
	add_path(words, "tls-key", o->tls_key);
	if (o->tls_fingerprint != NULL)
		add_word(words, "tls-fingerprint", o->tls_fingerprint);
	if (o->tls_priority != NULL)
		add_word(words, "tls-priority", o->tls_priority);
	if (o->tls_certcheck == NO)
		add_word(words, "tls-no-verify", NULL);
	if (o->user != NULL)
		add_word(words, "user", o->user);
	add_auth(words, &o->auth);
	if (o->no_initial_response)
		add_word(words, "no-initial-response", NULL);
	if (o->allow_plaintext_auth)
		add_word(words, "allow-plaintext-auth", NULL);
}

static const char *
check_value(const char *key, const char *v, struct queue_entry *e,
    char *msg, size_t msglen)
{
	long long num;

	if (has_control(v))
		return "holds a control character";
	if (strcmp(key, "option") == 0)
		return check_option(v, e, msg, msglen);
	if (strcmp(key, "sender") == 0) {
		if (!once(&e->sender, v))
			return "appears twice";
		return address_check(v, true);
	}
	if (strcmp(key, "recipient") == 0) {
		strlist_add(&e->recipients, v);
		return address_check(v, false);
	}
	if (strcmp(key, "account") == 0)
		return !once(&e->account, v) ? "appears twice" :
		    account_name_valid(v) ? NULL : "is not an account name";
	if (strcmp(key, "dsn_notify") == 0)
		return !once(&e->dsn_notify, v) ? "appears twice" :
		    dsn_notify_check(v);
	if (strcmp(key, "dsn_return") == 0)
		return !once(&e->dsn_return, v) ? "appears twice" :
		    dsn_ret_valid(v) ? NULL : "is not FULL or HDRS";
	if (strcmp(key, "dsn_envid") == 0)
		return !once(&e->dsn_envid, v) ? "appears twice" :
		    envid_valid(v) ? NULL : "is not an envelope id (xtext)";
	if (strcmp(key, "body") == 0)
		return !once(&e->body_type, v) ? "appears twice" :
		    body_type_valid(v) ? NULL : "is not 7BIT or 8BITMIME";
	if (strcmp(key, "error") == 0)
		return once(&e->last_error, v) ? NULL : "appears twice";
	if (strcmp(key, "attempts") == 0) {
		if (!number(v, 0, INT_MAX, &num))
			return "is not a number";
		e->attempts = (int)num;
		return NULL;
	}
	time_t *t = strcmp(key, "first") == 0 ? &e->first :
	    strcmp(key, "last") == 0 ? &e->last :
	    strcmp(key, "next") == 0 ? &e->next : NULL;
	if (t == NULL)
		return "is not a key of a queue entry";
	if (!number(v, 0, (long long)INT64_MAX >> 1, &num))
		return "is not a time";
	*t = (time_t)num;
	return NULL;
}

int
queue_parse_envelope(const char *p, size_t n, struct queue_entry *e,
    char *why, size_t whylen)
{
	const char *end = p + n, *problem = NULL;
	char *line = NULL, msg[1024 + 300];
	int lineno = 0;

	memset(e, 0, sizeof *e);
	why[0] = '\0';
	while (p < end && problem == NULL) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : 0;
		lineno++;
		free(line);
		line = NULL;
		if (nl == NULL)
			problem = "is cut short (no newline)";
		else if (memchr(p, '\0', len) != NULL)
			problem = "holds a NUL byte";
		else {
			line = xstrndup(p, len);
			char *v = strchr(line, ' ');
			if (v == NULL)
				problem = "is not KEY VALUE";
			else {
				*v++ = '\0';
				problem = lineno > 1 ? check_value(line, v, e,
				    msg, sizeof msg) :
				    strcmp(line, "version") == 0 &&
				    strcmp(v, "1") == 0 ? NULL :
				    "is not 'version 1'";
			}
		}
		p = nl ? nl + 1 : end;
	}
	if (problem != NULL)
		(void)snprintf(why, whylen, "line %d: %s%s%s", lineno,
		    line ? line : "", line ? " " : "", problem);
	else if (lineno == 0)
		(void)snprintf(why, whylen, "empty");
	else if (e->sender == NULL)
		(void)snprintf(why, whylen, "no sender");
	else if (e->recipients.n == 0)
		(void)snprintf(why, whylen, "no recipient");
	else if ((problem = check_route(e, msg, sizeof msg)) != NULL)
		(void)snprintf(why, whylen, "the option lines %s", problem);
	free(line);
	if (why[0] != '\0') {
		queue_entry_free(e);
		return -1;
	}
	return 0;
}

/*
 * Open the entry file NAME: a regular file of ours, never through a
 * symlink (which could lead anywhere: a flush run by root would send the
 * file it names).  O_NONBLOCK: a FIFO cannot hold the open.
 */
static int
open_entry_file(const struct queue *q, const char *name, struct failure *f)
{
	int fd = openat(q->fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	struct stat st;

	if (fd < 0 && errno != ELOOP)
		return os_fail(f, "queue", q->dir, name);
	if (fd >= 0 && fstat(fd, &st) < 0) {
		os_fail(f, "queue", q->dir, name);
		(void)close(fd);
		return -1;
	}
	if (fd < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		if (fd >= 0)
			(void)close(fd);
		return fail(f, FAIL_NOINPUT, 0, "queue", "%s/%s is not a "
		    "regular file owned by you", q->dir, name);
	}
	return fd;
}

#define ENV_MAX		(1024 * 1024)	/* far above any real entry */

/* Read and check NAME; on failure e holds only the reason (invalid).
   False when NAME is gone (removed since the directory was read). */
static bool
read_envelope(const struct queue *q, const char *name, struct queue_entry *e)
{
	struct failure f;
	struct buf b;
	char why[sizeof f.detail + 64];
	int fd = open_entry_file(q, name, &f), err = 0;
	ssize_t r = 0;
	bool unread;

	if (fd < 0 && errno == ENOENT)
		return false;
	buf_init(&b);
	if (fd >= 0) {
		do {
			buf_reserve(&b, 65536);
			r = read(fd, b.data + b.len, 65536);
			if (r > 0)
				b.len += (size_t)r;
		} while ((r > 0 || (r < 0 && errno == EINTR)) &&
		    b.len <= ENV_MAX);
		err = errno;
		(void)close(fd);
	}
	unread = fd < 0 || r < 0 || b.len > ENV_MAX;
	if (fd < 0)
		(void)snprintf(why, sizeof why, "%s", f.detail);
	else if (r < 0)
		(void)snprintf(why, sizeof why, "%s: %s", name, strerror(err));
	else if (b.len > ENV_MAX)
		(void)snprintf(why, sizeof why, "%s: larger than %d octets",
		    name, ENV_MAX);
	else
		(void)queue_parse_envelope(b.data ? b.data : "", b.len, e,
		    why, sizeof why);
	buf_free(&b);
	if (unread)
		memset(e, 0, sizeof *e);
	if (e->sender == NULL)
		e->invalid = xstrdup(why);
	return true;
}

static int
by_first(const void *a, const void *b)
{
	const struct queue_entry *x = a, *y = b;

	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* Ids are made by queue_add: hexadecimal digits and a dot.  The first n
   bytes of id are the id. */
static bool
id_valid(const char *id, size_t n)
{
	return n > 0 && id[0] != '.' && strspn(id, "0123456789abcdef.") >= n;
}

int
queue_list(const struct queue *q, struct queue_entry **out, size_t *n,
    struct failure *f)
{
	int dfd = fcntl(q->fd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	struct dirent *de;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (d == NULL) {
		if (dfd >= 0)
			(void)close(dfd);
		return os_fail(f, "queue", q->dir, NULL);
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < 5 || de->d_name[0] == '.' ||
		    strcmp(de->d_name + l - 4, ".env") != 0)
			continue;
		struct queue_entry e;
		memset(&e, 0, sizeof e);
		if (l > 60 || !id_valid(de->d_name, l - 4))
			e.invalid = xstrdup("not a queue id");
		else if (!read_envelope(q, de->d_name, &e))
			continue;
		(void)snprintf(e.id, sizeof e.id, "%.*s", (int)(l - 4),
		    de->d_name);
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xreallocarray(*out, cap, sizeof **out);
		}
		(*out)[(*n)++] = e;
	}
	(void)closedir(d);
	if (*n > 1)
		qsort(*out, *n, sizeof **out, by_first);
	return 0;
}

void
queue_list_free(struct queue_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		queue_entry_free(&v[i]);
	free(v);
}

int
queue_open_message(const struct queue *q, const char *id, struct failure *f)
{
	char name[96];

	(void)snprintf(name, sizeof name, "%s.msg", id);
	return open_entry_file(q, name, f);
}

int
queue_remove(const struct queue *q, const char *id, struct failure *f)
{
	char env[96], msg[96];

	(void)snprintf(env, sizeof env, "%s.env", id);
	(void)snprintf(msg, sizeof msg, "%s.msg", id);
	if (unlinkat(q->fd, env, 0) < 0)
		return errno == ENOENT ? fail(f, FAIL_USAGE, 0, "queue",
		    "no entry %s", id) : os_fail(f, "queue", q->dir, env);
	(void)unlinkat(q->fd, msg, 0);
	(void)fsync(q->fd);
	return 0;
}

int
queue_give_up(const struct queue *q, struct queue_entry *e,
    const char *reason, struct failure *f)
{
	int failed = sub_dir(q, q->fd, "failed", f), rc = -1;
	char name[96];

	free(e->last_error);
	e->last_error = xstrdup(reason);
	if (failed < 0)
		return -1;
	(void)snprintf(name, sizeof name, "%s.env", e->id);
	if (put_file(q, failed, name, fill_envelope, e, f) < 0)
		goto out;
	(void)snprintf(name, sizeof name, "%s.msg", e->id);
	(void)unlinkat(failed, name, 0);
	/* A symlink is moved as it is, never followed. */
	if (linkat(q->fd, name, failed, name, 0) < 0) {
		os_fail(f, "queue", q->dir, name);
		goto out;
	}
	(void)fsync(failed);
	rc = queue_remove(q, e->id, f);
out:
	(void)close(failed);
	return rc;
}

int
queue_lock(const struct queue *q, struct failure *f)
{
	int fd = openat(q->fd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600);

	if (fd < 0)
		return os_fail(f, "queue lock", q->dir, ".lock");
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		(void)close(fd);
		return fail(f, FAIL_TEMP, 0, "queue", "another flush is "
		    "running");
	}
	return fd;
}

time_t
queue_backoff(int attempts)
{
	time_t wait = 300;

	for (int i = 1; i < attempts && wait < 4 * 3600; i++)
		wait *= 2;
	return wait > 4 * 3600 ? 4 * 3600 : wait;
}
