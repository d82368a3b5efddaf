/*
 * flush.c: the queue's actions.  A flush delivers every entry (--flush=due:
 * every entry whose time has come), one session for the entries that go
 * the same way (account and stored settings), and removes an entry only
 * after the server's 2xx to its data; permanent failures go to failed/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attempt.h"
#include "flush.h"
#include "queue.h"

#define DEFAULT_MAX_AGE_DAYS	5

static char *
queue_dir_of(const struct run *r)
{
	return r->o.queue_dir ? xstrdup(r->o.queue_dir) : queue_default_dir();
}

/* The time of the next attempt, as the log writes times. */
static void
format_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%S%z", &tm) == 0)
		(void)snprintf(buf, len, "%lld", (long long)t);
}

static bool
same_string(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* Do two entries go the same way: the same account and stored settings? */
static bool
same_route(const struct queue_entry *a, const struct queue_entry *b)
{
	if (!same_string(a->account, b->account) || a->route.n != b->route.n)
		return false;
	for (size_t i = 0; i < a->route.n; i++)
		if (strcmp(a->route.v[i], b->route.v[i]) != 0)
			return false;
	return true;
}

/* One flush: the queue, its entries, and the worst outcome so far.  An
   entry whose id is cleared is done with. */
struct flush {
	struct run *r;
	int argc;
	char **argv;
	struct queue q;
	struct queue_entry *v;
	size_t n;
	bool *waiting;		/* --flush=due: not due yet */
	int max_age_days;
	enum fail_class worst;
};

/* "ID: WHAT" on stdout (stderr with --report=json: stdout is the
   reports'), and the outcome counted. */
static void
entry_line(struct flush *fl, struct queue_entry *e, enum fail_class c,
    const char *what, time_t next)
{
	char when[64] = "";

	if (next != 0) {
		(void)snprintf(when, sizeof when, ", next attempt ");
		format_time(next, when + strlen(when),
		    sizeof when - strlen(when));
	}
	(void)fprintf(fl->r->o.report_json ? stderr : stdout, "%s: %s%s\n",
	    e->id, what, when);
	fl->worst = fail_worse(fl->worst, c);
	e->id[0] = '\0';
}

/* An entry that fails its checks is never sent, nor moved: it waits,
   reported, for someone to look (--queue-remove). */
static void
set_aside_invalid(struct flush *fl)
{
	for (size_t i = 0; i < fl->n; i++)
		if (fl->v[i].invalid != NULL) {
			warnx_safe("%s: invalid queue entry, not sent: %s",
			    fl->v[i].id, fl->v[i].invalid);
			fl->worst = fail_worse(fl->worst, FAIL_DATAERR);
			fl->v[i].id[0] = '\0';
		}
}

struct entry_source {
	const struct queue *q;
	const char *id;
};

static int
read_entry(const void *ctx, struct message *m, struct failure *f)
{
	const struct entry_source *src = ctx;
	struct read_rules rules = { false };
	int fd = queue_open_message(src->q, src->id, f), rc;

	if (fd < 0)
		return -1;
	rc = message_read(m, fd, &rules, f);
	(void)close(fd);
	return rc;
}

/* One entry in flight: what its attempt reads. */
struct flushed {
	struct attempt a;
	struct entry_source src;
};

/* An entry's outcome, in the order the entries were sent. */
static void
flush_told(void *ctx, struct attempt *a, enum fail_class c)
{
	entry_line(ctx, a->entry, c, c == FAIL_NONE ? "delivered" :
	    a->fate == FATE_WAITING ? "deferred" : a->fate == FATE_FAILED ?
	    "failed" : c == FAIL_PARTIAL ?
	    "delivered, some recipients refused" : "failed",
	    a->fate == FATE_WAITING ? a->next : 0);
}

static void
flush_entry(struct flush *fl, struct run *acct, struct link *l,
    struct queue_entry *e, struct flushed *x)
{
	x->src = (struct entry_source){ &fl->q, e->id };
	x->a = (struct attempt){ .read = read_entry, .ctx = &x->src,
	    .name = e->id, .queue = &fl->q, .entry = e,
	    .max_age_days = fl->max_age_days };
	attempt_submit(acct, l, &x->a);
}

/* The session settings for an entry: those stored with it, then this
   command line's (each one given here replaces the stored one), then the
   configuration, for the entry's account unless --account names one. */
static int
entry_setup(struct run *acct, const struct flush *fl,
    const struct queue_entry *e, struct failure *f)
{
	if (queue_route_apply(&e->route, &acct->o, f) < 0 ||
	    setup_parse(acct, fl->argc, fl->argv, f) < 0)
		return -1;
	return setup_session(acct, e->account, f);
}

/* Every entry left that goes the way v[first] goes, over one session.
   When that way cannot be set up (an account that no longer exists, a
   configuration error), nothing is tried: the entries stay as they are,
   each reported with the failure. */
static void
flush_route(struct flush *fl, size_t first)
{
	struct queue_entry *v = fl->v;
	struct run acct;
	struct link l;
	struct failure sf;

	setup_init(&acct);
	memset(&l, 0, sizeof l);
	memset(&sf, 0, sizeof sf);
	l.keep_failure = true;
	bool ready = entry_setup(&acct, fl, &v[first], &sf) == 0;
	acct.sc.quit_early = false;
	l.done = flush_told;
	l.done_ctx = fl;
	struct flushed *xv = xcalloc(fl->n, sizeof *xv);
	for (size_t j = first; j < fl->n; j++) {
		if (v[j].id[0] == '\0' || fl->waiting[j] ||
		    !same_route(&v[first], &v[j]))
			continue;
		if (ready) {
			flush_entry(fl, &acct, &l, &v[j], &xv[j]);
			continue;
		}
		warnx_safe("%s: %s%s%s", v[j].id, sf.what,
		    sf.detail[0] ? ": " : "", sf.detail);
		entry_line(fl, &v[j], sf.class, "not sent", 0);
	}
	attempt_drain(&acct, &l);
	free(xv);
	link_close(&l);
	setup_free(&acct);
}

int
queue_flush(struct run *r, int argc, char **argv, struct failure *f)
{
	struct flush fl = { .r = r, .argc = argc, .argv = argv,
	    .max_age_days = r->o.queue_max_age ? r->o.queue_max_age :
	    DEFAULT_MAX_AGE_DAYS, .worst = FAIL_NONE };
	char *dir = queue_dir_of(r);
	int lock = -1, rc = -1;
	time_t now = time(NULL);

	if (queue_open(&fl.q, dir, true, f) < 0 ||
	    (lock = queue_lock(&fl.q, f)) < 0 ||
	    queue_list(&fl.q, &fl.v, &fl.n, f) < 0)
		goto out;
	set_aside_invalid(&fl);
	/* --flush=due: those whose time has not come wait, said last. */
	fl.waiting = xcalloc(fl.n ? fl.n : 1, sizeof *fl.waiting);
	for (size_t i = 0; i < fl.n; i++)
		fl.waiting[i] = fl.v[i].id[0] != '\0' && r->o.flush_due &&
		    fl.v[i].next > now;
	for (size_t i = 0; i < fl.n; i++)
		if (fl.v[i].id[0] != '\0' && !fl.waiting[i])
			flush_route(&fl, i);
	for (size_t i = 0; i < fl.n; i++)
		if (fl.waiting[i])
			entry_line(&fl, &fl.v[i], FAIL_NONE, "waiting",
			    fl.v[i].next);
	rc = fl.worst == FAIL_NONE ? 0 : fail_reported(f, fl.worst);
out:
	if (lock >= 0)
		(void)close(lock);
	queue_list_free(fl.v, fl.n);
	free(fl.waiting);
	queue_close(&fl.q);
	free(dir);
	return rc;
}

int
queue_print(struct run *r, struct failure *f)
{
	char *dir = queue_dir_of(r);
	struct queue q;
	struct queue_entry *v = NULL;
	size_t n = 0;
	time_t now = time(NULL);
	int rc = queue_open(&q, dir, false, f);

	free(dir);
	if (rc == 0)
		rc = queue_list(&q, &v, &n, f);
	queue_close(&q);
	if (rc < 0)
		return -1;
	size_t shown = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i].invalid != NULL) {
			warnx_safe("%s: invalid queue entry: %s", v[i].id,
			    v[i].invalid);
			continue;
		}
		shown++;
		long age = (long)(now - v[i].first);
		char *sender = escape_bytes(v[i].sender, strlen(v[i].sender));
		char next[64];
		format_time(v[i].next, next, sizeof next);
		printf("%s  %ldh%02ldm  <%s>  attempts %d  next %s", v[i].id,
		    age / 3600, age / 60 % 60, sender, v[i].attempts, next);
		free(sender);
		for (size_t j = 0; j < v[i].recipients.n; j++) {
			char *esc = escape_bytes(v[i].recipients.v[j],
			    strlen(v[i].recipients.v[j]));
			printf("%s<%s>", j ? ", " : "  to ", esc);
			free(esc);
		}
		if (v[i].last_error) {
			char *esc = escape_bytes(v[i].last_error,
			    strlen(v[i].last_error));
			printf("  (%s)", esc);
			free(esc);
		}
		printf("\n");
	}
	if (shown == 0)
		printf("Mail queue is empty\n");
	queue_list_free(v, n);
	return 0;
}

int
queue_drop(struct run *r, struct failure *f)
{
	char *dir = queue_dir_of(r);
	struct queue q;
	int rc = queue_open(&q, dir, false, f);

	if (rc == 1)
		rc = fail(f, FAIL_USAGE, 0, "queue", "no entry %s",
		    r->o.query_arg);
	else if (rc == 0)
		rc = queue_remove(&q, r->o.query_arg, f);
	queue_close(&q);
	free(dir);
	return rc;
}
