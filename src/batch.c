/*
 * batch.c: many messages over one session (--batch with several --file,
 * --maildir, --mbox).  Each message has its own envelope, decided as for
 * a single message; one result line per message on standard output; the
 * exit status is the worst outcome.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attempt.h"
#include "batch.h"

/* Where one message of the batch comes from. */
struct source {
	char *name;		/* for the result line */
	char *path;		/* a file, or the mbox */
	off_t off, len;		/* the part of an mbox; len -1: whole file */
};

struct sources {
	struct source *v;
	size_t n, cap;
};

static void
add_source(struct sources *s, const char *name, const char *path, off_t off,
    off_t len)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = xreallocarray(s->v, s->cap, sizeof *s->v);
	}
	s->v[s->n].name = xstrdup(name);
	s->v[s->n].path = xstrdup(path);
	s->v[s->n].off = off;
	s->v[s->n].len = len;
	s->n++;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Maildir: new/ then cur/, each in name order (names start with time). */
static int
add_maildir(struct sources *s, const char *dir, struct failure *f)
{
	static const char *const subs[] = { "new", "cur" };

	for (int i = 0; i < 2; i++) {
		char *sub = xasprintf("%s/%s", dir, subs[i]);
		DIR *d = opendir(sub);
		struct strlist names = { 0 };
		struct dirent *de;

		if (d == NULL) {
			fail(f, FAIL_NOINPUT, 0, sub, "%s", strerror(errno));
			free(sub);
			return -1;
		}
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				strlist_add(&names, de->d_name);
		(void)closedir(d);
		if (names.n > 1)
			qsort(names.v, names.n, sizeof *names.v, by_name);
		for (size_t j = 0; j < names.n; j++) {
			char *path = xasprintf("%s/%s", sub, names.v[j]);
			add_source(s, path, path, 0, -1);
			free(path);
		}
		strlist_free(&names);
		free(sub);
	}
	return 0;
}

/* mbox: a message starts at a "From " line at the start of the file or
   after an empty line. */
static int
add_mbox(struct sources *s, const char *path, struct failure *f)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	int count = 0;

	if (fd < 0 || fstat(fd, &st) < 0) {
		fail(f, FAIL_NOINPUT, 0, path, "%s", strerror(errno));
		if (fd >= 0)
			(void)close(fd);
		return -1;
	}
	if (st.st_size == 0) {
		(void)close(fd);
		return 0;
	}
	const char *map = mmap(NULL, (size_t)st.st_size, PROT_READ,
	    MAP_PRIVATE, fd, 0);
	(void)close(fd);
	if (map == MAP_FAILED)
		return fail(f, FAIL_NOINPUT, 0, path, "%s", strerror(errno));
	size_t size = (size_t)st.st_size, start = 0, pos = 0;
	while (pos < size) {
		const char *nl = memchr(map + pos, '\n', size - pos);
		size_t next = nl ? (size_t)(nl - map) + 1 : size;
		bool boundary = next + 5 <= size &&
		    memcmp(map + next, "From ", 5) == 0 &&
		    (pos + 1 == next || (next >= 2 && map[next - 2] == '\n'));
		if (boundary || next == size) {
			char *name = xasprintf("%s:%d", path, ++count);
			size_t len = next - start;
			if (len >= 2 && map[start + len - 1] == '\n' &&
			    map[start + len - 2] == '\n')
				len--;
			add_source(s, name, path, (off_t)start, (off_t)len);
			free(name);
			start = next;
		}
		pos = next;
	}
	(void)munmap((void *)map, size);
	return 0;
}

static void
sources_free(struct sources *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].path);
	}
	free(s->v);
}

/* An fd that reads exactly the source's bytes. */
static int
open_source(const struct source *src, struct failure *f)
{
	int fd = open(src->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || src->len < 0) {
		if (fd < 0)
			fail(f, FAIL_NOINPUT, 0, src->path, "%s",
			    strerror(errno));
		return fd;
	}
	/* A part of an mbox: copy it to an anonymous file. */
	int mem = memfd_create("carrier-batch", MFD_CLOEXEC);
	char block[65536];
	off_t done = 0;
	while (mem >= 0 && done < src->len) {
		size_t want = (size_t)(src->len - done) < sizeof block ?
		    (size_t)(src->len - done) : sizeof block;
		ssize_t n = pread(fd, block, want, src->off + done);
		if (n <= 0 || write(mem, block, (size_t)n) != n) {
			(void)close(mem);
			mem = -1;
			break;
		}
		done += n;
	}
	(void)close(fd);
	if (mem < 0 || lseek(mem, 0, SEEK_SET) < 0) {
		fail(f, FAIL_OSERR, 0, src->name, "%s", strerror(errno));
		return -1;
	}
	return mem;
}

static const char *
verdict(enum fail_class c)
{
	switch (c) {
	case FAIL_NONE:
		return "delivered";
	case FAIL_PARTIAL:
		return "delivered to some recipients";
	default:
		return fail_transient(c) ? "not delivered, try again later" :
		    "not delivered";
	}
}

struct verdicts {
	const struct run *r;
	enum fail_class worst;
};

/* One message's outcome, in the order given. */
static void
told(void *ctx, struct attempt *a, enum fail_class c)
{
	struct verdicts *v = ctx;
	char *esc = escape_bytes(a->name, strlen(a->name));

	/* With --report=json, stdout is the reports'. */
	(void)fprintf(v->r->o.report_json ? stderr : stdout, "%s: %s\n",
	    esc, verdict(c));
	free(esc);
	v->worst = fail_worse(v->worst, c);
}

static int
read_source(const void *ctx, struct message *m, struct failure *f)
{
	struct read_rules rules = { false };
	int fd = open_source(ctx, f), rc;

	if (fd < 0)
		return -1;
	rc = message_read(m, fd, &rules, f);
	(void)close(fd);
	return rc;
}

int
deliver_batch(struct run *r, struct failure *f)
{
	struct sources src = { 0 };
	struct link l;
	enum fail_class worst = FAIL_NONE;
	int rc = -1;

	for (size_t i = 0; i < r->o.batch_files.n; i++)
		add_source(&src, r->o.batch_files.v[i], r->o.batch_files.v[i],
		    0, -1);
	for (size_t i = 0; i < r->o.maildirs.n; i++)
		if (add_maildir(&src, r->o.maildirs.v[i], f) < 0)
			goto out;
	for (size_t i = 0; i < r->o.mboxes.n; i++)
		if (add_mbox(&src, r->o.mboxes.v[i], f) < 0)
			goto out;
	if (src.n == 0) {
		fail(f, FAIL_USAGE, 0, "--batch", "no message: give --file, "
		    "--maildir or --mbox");
		goto out;
	}
	r->sc.quit_early = false;
	memset(&l, 0, sizeof l);
	struct attempt *av = xcalloc(src.n, sizeof *av);
	struct verdicts v = { r, FAIL_NONE };
	l.done = told;
	l.done_ctx = &v;
	for (size_t i = 0; i < src.n; i++) {
		av[i] = (struct attempt){ .read = read_source,
		    .ctx = &src.v[i], .name = src.v[i].name,
		    .retry_lost = true };
		attempt_submit(r, &l, &av[i]);
	}
	attempt_drain(r, &l);
	free(av);
	worst = v.worst;
	(void)fflush(stdout);
	rc = worst == FAIL_NONE ? 0 : fail_reported(f, worst);
	link_close(&l);
out:
	sources_free(&src);
	return rc;
}
