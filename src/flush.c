/*
 * flush.c: the queue's actions.  A flush delivers every entry whose time
 * has come, one session per account, and removes an entry only after the
 * server's 2xx to its data; permanent failures go to failed/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "deliver.h"
#include "flush.h"
#include "message.h"
#include "queue.h"

#define DEFAULT_MAX_AGE_DAYS	5

static char *
queue_dir_of(const struct run *r)
{
	return r->o.queue_dir ? xstrdup(r->o.queue_dir) : queue_default_dir();
}

static bool
same_account(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* The refused recipients' replies, for the entry's recorded error. */
static char *
refusals(const struct send_result *res)
{
	struct buf b;
	buf_init(&b);
	for (size_t i = 0; i < res->n; i++)
		if (!res->r[i].accepted && res->r[i].code)
			buf_addf(&b, "%s<%s>: %d %s", b.len ? "; " : "",
			    res->r[i].address, res->r[i].code,
			    res->r[i].text ? res->r[i].text : "");
		else if (!res->r[i].accepted && res->r[i].text)
			buf_addf(&b, "%s<%s>: %s", b.len ? "; " : "",
			    res->r[i].address, res->r[i].text);
	if (b.len == 0) {
		buf_free(&b);
		return xstrdup("recipients refused");
	}
	char *s = xstrndup(b.data, b.len);
	buf_free(&b);
	return s;
}

/* After a try: remove, reschedule or give up; returns the entry's class. */
static enum fail_class
settle(const struct queue *q, struct queue_entry *e, const struct send_result *res,
    int rc, const struct failure *why, int max_age_days, bool *gave_up)
{
	struct failure ignored;
	time_t now = time(NULL);

	*gave_up = false;
	if (rc == 0) {
		(void)queue_remove(q, e->id, &ignored);
		return FAIL_NONE;
	}
	char *reason = why->detail[0] ? xasprintf("%s: %s", why->what,
	    why->detail) : why->what[0] ? xstrdup(why->what) :
	    refusals(res);
	enum fail_class cl = why->class;

	/* Some recipients took it: retry those that did not get it and were
	   not refused with 5xx (a 4xx, or a further transaction that lost
	   its connection). */
	if (cl == FAIL_PARTIAL || (res->n > 0 && cl == FAIL_TEMP &&
	    why->what[0] == '\0')) {
		struct strlist again = { 0 };
		for (size_t i = 0; i < res->n; i++)
			if (rcpt_retryable(&res->r[i]))
				strlist_add(&again, res->r[i].address);
		if (again.n == 0) {
			strlist_free(&again);
			(void)queue_remove(q, e->id, &ignored);
			free(reason);
			return FAIL_PARTIAL;
		}
		strlist_free(&e->recipients);
		e->recipients = again;
		cl = FAIL_TEMP;
	}
	e->attempts++;
	e->last = now;
	free(e->last_error);
	e->last_error = reason;
	if (fail_transient(cl) && now - e->first < (time_t)max_age_days * 86400) {
		e->next = now + queue_backoff(e->attempts);
		(void)queue_update(q, e, &ignored);
		return FAIL_TEMP;
	}
	*gave_up = true;
	char *final = xstrdup(reason);
	if (queue_give_up(q, e, final, &ignored) < 0)
		warnx_safe("queue %s: %s", e->id, ignored.detail);
	free(final);
	return fail_transient(cl) ? FAIL_TEMP : cl;
}

/* Send one queued entry over an open session. */
static int
send_entry(struct session *s, const struct queue *q,
    const struct queue_entry *e,
    struct send_result *res, uint64_t *size, struct failure *f)
{
	struct message m;
	struct read_rules rules = { false };
	int fd, rc;

	message_init(&m);
	if ((fd = queue_open_message(q, e->id, f)) < 0)
		return -1;
	rc = message_read(&m, fd, &rules, f);
	(void)close(fd);
	*size = message_size(&m);
	if (rc == 0) {
		struct envelope env = { e->sender, &e->recipients };
		rc = session_send(s, &env, &m, res, f);
	}
	message_free(&m);
	return rc;
}

int
queue_flush(struct run *r, int argc, char **argv, struct failure *f)
{
	char *dir = queue_dir_of(r);
	struct queue q;
	struct queue_entry *v = NULL;
	size_t n = 0;
	int lock = -1, rc = -1;
	enum fail_class worst = FAIL_NONE;
	time_t now = time(NULL);
	int max_age = r->o.queue_max_age ? r->o.queue_max_age :
	    DEFAULT_MAX_AGE_DAYS;

	if (queue_open(&q, dir, true, f) < 0 || (lock = queue_lock(&q, f)) < 0 ||
	    queue_list(&q, &v, &n, f) < 0)
		goto out;
	/* An entry that fails its checks is never sent, nor moved: it
	   waits, reported, for someone to look (--queue-remove). */
	for (size_t i = 0; i < n; i++)
		if (v[i].invalid != NULL) {
			warnx_safe("%s: invalid queue entry, not sent: %s",
			    v[i].id, v[i].invalid);
			worst = fail_worse(worst, FAIL_DATAERR);
			v[i].id[0] = '\0';
		}
	for (size_t i = 0; i < n; i++) {
		if (v[i].id[0] == '\0' || v[i].next > now)
			continue;
		/* One session per account, for all of its due entries. */
		struct run acct;
		struct session s;
		struct failure sf;
		setup_init(&acct);
		memset(&sf, 0, sizeof sf);
		bool open = setup_parse(&acct, argc, argv, &sf) == 0 &&
		    setup_session(&acct, v[i].account, &sf) == 0;
		acct.sc.quit_early = false;
		if (open && session_open(&s, &acct.sc, &sf) < 0)
			open = false;
		for (size_t j = i; j < n; j++) {
			if (v[j].id[0] == '\0' || v[j].next > now ||
			    !same_account(v[i].account, v[j].account))
				continue;
			struct send_result res = { 0 };
			struct failure ef = sf;
			uint64_t size = 0;
			int er = -1;
			reply_init(&res.final);
			if (open && !s.usable) {
				/* Lost after the previous entry: a new session
				   for the rest, as --batch does. */
				session_close(&s);
				memset(&sf, 0, sizeof sf);
				open = session_open(&s, &acct.sc, &sf) == 0;
				ef = sf;
			}
			if (open && s.usable) {
				memset(&ef, 0, sizeof ef);
				acct.sc.dsn_notify = v[j].dsn_notify ?
				    v[j].dsn_notify : acct.o.dsn_notify;
				acct.sc.dsn_return = v[j].dsn_return ?
				    v[j].dsn_return : acct.o.dsn_return;
				acct.sc.dsn_envid = v[j].dsn_envid ?
				    v[j].dsn_envid : acct.o.dsn_envid;
				acct.sc.body_type = v[j].body_type ?
				    v[j].body_type : acct.o.body_type;
				er = send_entry(&s, &q, &v[j], &res, &size,
				    &ef);
				deliver_refusals(v[j].id, &res);
			} else if (ef.class == FAIL_NONE)
				fail(&ef, FAIL_IOERR, 0, "session",
				    "connection lost");
			else if (!open)
				/* No session at all (TLS, AUTH, configuration):
				   nothing was said about this message, so it
				   waits, until its maximum age. */
				ef.class = FAIL_TEMP;
			deliver_record(&acct, v[j].sender, &v[j].recipients,
			    &res, size, er, &ef);
			bool gave_up;
			enum fail_class cl = settle(&q, &v[j], &res, er, &ef,
			    max_age, &gave_up);
			/* With --report=json, stdout is the reports'. */
			(void)fprintf(r->o.report_json ? stderr : stdout,
			    "%s: %s\n", v[j].id, cl == FAIL_NONE ?
			    "delivered" : gave_up ? "failed" :
			    cl == FAIL_TEMP ? "deferred" : cl == FAIL_PARTIAL ?
			    "delivered, some recipients refused" : "failed");
			if (cl != FAIL_NONE) {
				report_failure(&ef);
				worst = fail_worse(worst, cl);
			}
			send_result_free(&res);
			v[j].id[0] = '\0';	/* done with it */
		}
		if (open)
			session_close(&s);
		setup_free(&acct);
	}
	rc = worst == FAIL_NONE ? 0 : fail_reported(f, worst);
out:
	if (lock >= 0)
		(void)close(lock);
	queue_list_free(v, n);
	queue_close(&q);
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
		printf("%s  %ldh%02ldm  <%s>  attempts %d", v[i].id, age / 3600,
		    age / 60 % 60, sender, v[i].attempts);
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
