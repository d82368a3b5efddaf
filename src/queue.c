/* queue.c: queue entries on disk, written so that a crash never leaves a
 * half entry (write to tmp/, fsync, rename, fsync the directory). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "address.h"
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
	free(e->last_error);
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
os_fail(struct failure *f, const char *what, const char *path)
{
	return fail(f, FAIL_OSERR, 0, what, "%s: %s", path, strerror(errno));
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
			rc = os_fail(f, "queue directory", p);
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	(void)close(fd);
	return rc;
}

/* Write tmp/NAME, fsync it, rename it to NAME. */
static int
put_file(const char *dir, const char *name,
    int (*fill)(int fd, const void *ctx, struct failure *f),
    const void *ctx, struct failure *f)
{
	char *tmp = xasprintf("%s/tmp/%s", dir, name);
	char *final = xasprintf("%s/%s", dir, name);
	int fd, rc = -1;

	(void)unlink(tmp);	/* left by a crash: we hold the lock or a new id */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		os_fail(f, "queue", tmp);
		goto out;
	}
	if (fill(fd, ctx, f) < 0) {
		(void)close(fd);
		(void)unlink(tmp);
		goto out;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		os_fail(f, "queue", tmp);
		(void)unlink(tmp);
		goto out;
	}
	if (rename(tmp, final) < 0) {
		os_fail(f, "queue", final);
		(void)unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	free(final);
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

/* Values are single lines: addresses were checked, errors escaped. */
static void
put_line(struct buf *b, const char *key, const char *v)
{
	if (v == NULL)
		return;
	buf_addf(b, "%s ", key);
	for (const char *p = v; *p; p++)
		buf_addc(b, *p == '\n' || *p == '\r' ? ' ' : *p);
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

/*
 * Queued mail is private: the directory must be ours, a real directory
 * and closed to everybody else, whoever made it (another user could
 * otherwise create it first, in /tmp say, and read or change the mail).
 */
static int
trusted_dir(const char *dir, struct failure *f)
{
	struct stat st;

	if (lstat(dir, &st) < 0)
		return os_fail(f, "queue directory", dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0)
		return fail(f, FAIL_CONFIG, 0, "queue directory", "%s must be "
		    "a directory owned by you with mode 0700", dir);
	return 0;
}

static int
prepare(const char *dir, struct failure *f)
{
	char *tmp = xasprintf("%s/tmp", dir);
	int rc = make_dirs(tmp, f);

	if (rc == 0)
		rc = trusted_dir(dir, f);
	free(tmp);
	return rc;
}

int
queue_add(const char *dir, struct queue_entry *e, const struct message *m,
    struct failure *f)
{
	char name[96];

	if (prepare(dir, f) < 0)
		return -1;
	(void)snprintf(e->id, sizeof e->id, "%llx.%08x",
	    (unsigned long long)time(NULL), arc4random());
	(void)snprintf(name, sizeof name, "%s.msg", e->id);
	if (put_file(dir, name, fill_message, m, f) < 0)
		return -1;
	(void)snprintf(name, sizeof name, "%s.env", e->id);
	if (put_file(dir, name, fill_envelope, e, f) < 0) {
		char *msg = xasprintf("%s/%s.msg", dir, e->id);
		(void)unlink(msg);
		free(msg);
		return -1;
	}
	if (fsync_dir(dir) < 0)
		return os_fail(f, "queue", dir);
	return 0;
}

int
queue_update(const char *dir, const struct queue_entry *e,
    struct failure *f)
{
	char name[96];

	if (prepare(dir, f) < 0)
		return -1;
	(void)snprintf(name, sizeof name, "%s.env", e->id);
	if (put_file(dir, name, fill_envelope, e, f) < 0)
		return -1;
	return fsync_dir(dir) < 0 ? os_fail(f, "queue", dir) : 0;
}

static int
parse_envelope(const char *dir, const char *id, struct queue_entry *e)
{
	char *path = xasprintf("%s/%s.env", dir, id);
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int version = 0;

	free(path);
	memset(e, 0, sizeof *e);
	if (fp == NULL)
		return -1;
	(void)snprintf(e->id, sizeof e->id, "%s", id);
	while ((n = getline(&line, &cap, fp)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		char *v = strchr(line, ' ');
		if (v == NULL)
			continue;
		*v++ = '\0';
		if (strcmp(line, "version") == 0)
			version = atoi(v);
		else if (strcmp(line, "sender") == 0)
			e->sender = xstrdup(v);
		else if (strcmp(line, "recipient") == 0)
			strlist_add(&e->recipients, v);
		else if (strcmp(line, "account") == 0)
			e->account = xstrdup(v);
		else if (strcmp(line, "dsn_notify") == 0)
			e->dsn_notify = xstrdup(v);
		else if (strcmp(line, "dsn_return") == 0)
			e->dsn_return = xstrdup(v);
		else if (strcmp(line, "dsn_envid") == 0)
			e->dsn_envid = xstrdup(v);
		else if (strcmp(line, "body") == 0)
			e->body_type = xstrdup(v);
		else if (strcmp(line, "attempts") == 0)
			e->attempts = atoi(v);
		else if (strcmp(line, "first") == 0)
			e->first = (time_t)atoll(v);
		else if (strcmp(line, "last") == 0)
			e->last = (time_t)atoll(v);
		else if (strcmp(line, "next") == 0)
			e->next = (time_t)atoll(v);
		else if (strcmp(line, "error") == 0) {
			free(e->last_error);
			e->last_error = xstrdup(v);
		}
	}
	free(line);
	(void)fclose(fp);
	/* The file is ours, but its addresses go into commands: check
	   them as any envelope address. */
	bool bad = version != 1 || e->sender == NULL || e->recipients.n == 0 ||
	    address_check(e->sender, true) != NULL;
	for (size_t i = 0; !bad && i < e->recipients.n; i++)
		bad = address_check(e->recipients.v[i], false) != NULL;
	if (bad) {
		queue_entry_free(e);
		return -1;
	}
	return 0;
}

static int
by_first(const void *a, const void *b)
{
	const struct queue_entry *x = a, *y = b;

	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return strcmp(x->id, y->id);
}

int
queue_list(const char *dir, struct queue_entry **out, size_t *n,
    struct failure *f)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (d == NULL)
		return errno == ENOENT ? 0 : os_fail(f, "queue", dir);
	if (trusted_dir(dir, f) < 0) {
		(void)closedir(d);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < 5 || l > 60 || strcmp(de->d_name + l - 4, ".env") != 0)
			continue;
		char id[64];
		memcpy(id, de->d_name, l - 4);
		id[l - 4] = '\0';
		struct queue_entry e;
		if (parse_envelope(dir, id, &e) < 0)
			continue;
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
queue_open_message(const char *dir, const char *id, struct failure *f)
{
	char *path = xasprintf("%s/%s.msg", dir, id);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		os_fail(f, "queue", path);
	free(path);
	return fd;
}

int
queue_remove(const char *dir, const char *id, struct failure *f)
{
	char *env = xasprintf("%s/%s.env", dir, id);
	char *msg = xasprintf("%s/%s.msg", dir, id);
	int rc = 0;

	if (unlink(env) < 0)
		rc = errno == ENOENT ? fail(f, FAIL_USAGE, 0, "queue",
		    "no entry %s", id) : os_fail(f, "queue", env);
	else {
		(void)unlink(msg);
		(void)fsync_dir(dir);
	}
	free(env);
	free(msg);
	return rc;
}

int
queue_give_up(const char *dir, struct queue_entry *e, const char *reason,
    struct failure *f)
{
	char *failed = xasprintf("%s/failed", dir);
	int rc = -1;

	free(e->last_error);
	e->last_error = xstrdup(reason);
	if (make_dirs(failed, f) < 0 || prepare(failed, f) < 0)
		goto out;
	char name[96];
	(void)snprintf(name, sizeof name, "%s.env", e->id);
	if (put_file(failed, name, fill_envelope, e, f) < 0)
		goto out;
	char *from = xasprintf("%s/%s.msg", dir, e->id);
	char *to = xasprintf("%s/%s.msg", failed, e->id);
	(void)unlink(to);
	int r = link(from, to);
	if (r < 0)
		os_fail(f, "queue", from);
	free(from);
	free(to);
	if (r < 0)
		goto out;
	(void)fsync_dir(failed);
	rc = queue_remove(dir, e->id, f);
out:
	free(failed);
	return rc;
}

int
queue_lock(const char *dir, struct failure *f)
{
	char *path;
	int fd;

	if (prepare(dir, f) < 0)
		return -1;
	path = xasprintf("%s/.lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		os_fail(f, "queue lock", path);
		free(path);
		return -1;
	}
	free(path);
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
