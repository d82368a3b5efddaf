/* oauth2_store.c: the token file.  See oauth2_store.h. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oauth2_store.h"

static int
os_fail(struct failure *f, const char *what, const char *doing)
{
	return fail(f, FAIL_OSERR, 0, what, "%s: %s", doing, strerror(errno));
}

static const char *
home(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h != NULL && h[0] == '/')
		return h;
	pw = getpwuid(getuid());
	return pw != NULL && pw->pw_dir != NULL ? pw->pw_dir : NULL;
}

/* mkdir, 0700, when missing. */
static int
make_dir(const char *dir, struct failure *f)
{
	if (mkdir(dir, 0700) == 0 || errno == EEXIST)
		return 0;
	return os_fail(f, dir, "cannot create the directory");
}

char *
oauth2_store_default(const char *account, bool create, struct failure *f)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *h = home();
	char *base, *path;

	if (account == NULL)
		account = "default";
	if (account[0] == '\0' || account[0] == '.' ||
	    strchr(account, '/') != NULL) {
		fail(f, FAIL_CONFIG, 0, "oauth2_token_file", "the account "
		    "name '%s' cannot name a file: set oauth2_token_file",
		    account);
		return NULL;
	}
	if (xdg != NULL && xdg[0] == '/')
		base = xstrdup(xdg);
	else if (h != NULL)
		base = xasprintf("%s/.local/state", h);
	else {
		fail(f, FAIL_CONFIG, 0, "oauth2_token_file", "no home "
		    "directory and no XDG_STATE_HOME: set oauth2_token_file");
		return NULL;
	}
	char *carrier = xasprintf("%s/carrier", base);
	char *dir = xasprintf("%s/oauth2", carrier);
	int rc = 0;
	if (create) {
		if (xdg == NULL || xdg[0] != '/') {
			char *local = xasprintf("%s/.local", h);
			rc = make_dir(local, f);
			free(local);
		}
		if (rc == 0)
			rc = make_dir(base, f);
		if (rc == 0)
			rc = make_dir(carrier, f);
		if (rc == 0)
			rc = make_dir(dir, f);
	}
	path = rc == 0 ? xasprintf("%s/%s", dir, account) : NULL;
	free(base);
	free(carrier);
	free(dir);
	return path;
}

/* Read all of fd (at most OAUTH2_MAX_BODY bytes) into b. */
static int
read_all(int fd, const char *path, struct buf *b, struct failure *f)
{
	char chunk[4096];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return os_fail(f, path, "cannot read");
		if (n == 0)
			break;
		if (b->len + (size_t)n > OAUTH2_MAX_BODY) {
			explicit_bzero(chunk, sizeof chunk);
			return fail(f, FAIL_CONFIG, 0, path, "larger than %d "
			    "bytes: not a token file", OAUTH2_MAX_BODY);
		}
		buf_add(b, chunk, (size_t)n);
	}
	explicit_bzero(chunk, sizeof chunk);
	return 0;
}

/* The file's owner and mode as for a password file. */
static int
safe_file(const char *path, const struct stat *st, struct failure *f)
{
	if (!S_ISREG(st->st_mode))
		return fail(f, FAIL_CONFIG, 0, path, "not a regular file");
	if (st->st_uid != geteuid())
		return fail(f, FAIL_CONFIG, 0, path, "holds tokens, so it must "
		    "be owned by you");
	if (st->st_mode & 077)
		return fail(f, FAIL_CONFIG, 0, path, "holds tokens, so it must "
		    "not be accessible by others (chmod 600 %s)", path);
	return 0;
}

int
oauth2_store_read(const char *path, struct oauth2_tokens *t,
    struct failure *f)
{
	struct stat st;
	struct buf b;
	char err[160];
	int rc = -1;

	memset(t, 0, sizeof *t);
	t->expires_in = t->interval = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return os_fail(f, path, "cannot open");
	}
	buf_init(&b);
	if (fstat(fd, &st) < 0)
		os_fail(f, path, "cannot stat");
	else if (safe_file(path, &st, f) == 0 && read_all(fd, path, &b,
	    f) == 0) {
		if (oauth2_parse_store(b.data ? b.data : "", b.len, t, err,
		    sizeof err) < 0)
			fail(f, FAIL_CONFIG, 0, path, "not a token file (%s): "
			    "run carrier --oauth2-login again", err);
		else
			rc = 1;
	}
	(void)close(fd);
	buf_free_secret(&b);
	return rc;
}

/* The directory part of path ("." when none), malloc'd. */
static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

int
oauth2_store_write(const char *path, const struct oauth2_tokens *t,
    struct failure *f)
{
	char *tmp = xasprintf("%s.XXXXXX", path), *dir = dir_of(path);
	struct buf b;
	int rc = -1, fd, dfd;

	buf_init(&b);
	oauth2_store_json(t, &b);
	/* mkstemp makes the file 0600. */
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		os_fail(f, path, "cannot create a temporary file");
		goto out;
	}
	if (write_all(fd, b.data, b.len) < 0 || fsync(fd) < 0) {
		os_fail(f, tmp, "cannot write");
		(void)close(fd);
		(void)unlink(tmp);
		goto out;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		os_fail(f, path, "cannot replace");
		(void)unlink(tmp);
		goto out;
	}
	/* The rename itself must survive a crash too. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		(void)close(dfd);
	}
	rc = 0;
out:
	buf_free_secret(&b);
	free(tmp);
	free(dir);
	return rc;
}

int
oauth2_store_lock(const char *path, int timeout, struct failure *f)
{
	char *lock = xasprintf("%s.lock", path);
	int64_t deadline = monotonic_ms() + (int64_t)timeout * 1000;
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0) {
		os_fail(f, lock, "cannot open the lock file");
		free(lock);
		return -1;
	}
	/* Polled, so that a run stuck on a hung provider cannot hold the
	   others past their own timeout. */
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if ((errno != EWOULDBLOCK && errno != EINTR) ||
		    monotonic_ms() >= deadline) {
			if (errno == EWOULDBLOCK)
				fail(f, FAIL_TEMP, 0, lock, "another carrier "
				    "held the lock for %d s", timeout);
			else
				os_fail(f, lock, "cannot lock");
			(void)close(fd);
			free(lock);
			return -1;
		}
		(void)usleep(20000);
	}
	free(lock);
	return fd;
}

int
oauth2_store_remove(const char *path, struct failure *f)
{
	char *lock = xasprintf("%s.lock", path);
	int rc = 1;

	if (unlink(path) < 0) {
		rc = errno == ENOENT ? 0 : os_fail(f, path, "cannot remove");
	}
	if (rc >= 0)
		(void)unlink(lock);
	free(lock);
	return rc;
}
