/*
 * attempt.c: one message, one attempt, the same steps for a single
 * message, --batch and --flush.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attempt.h"
#include "envelope.h"
#include "outcome.h"

void
link_close(struct link *l)
{
	if (l->open)
		session_close(&l->s);
	l->open = false;
}

/* The session for the next message: the open one while it is usable,
   else a new one.  at_open: the failure is the session's, not the
   message's. */
static int
link_ready(struct link *l, const struct session_config *sc, struct failure *f)
{
	if (l->down.class != FAIL_NONE) {
		*f = l->down;
		return -1;
	}
	if (l->open && l->s.usable)
		return 0;
	link_close(l);
	if (session_open(&l->s, sc, f) < 0) {
		if (l->keep_failure)
			l->down = *f;
		return -1;
	}
	l->open = true;
	l->reused = false;
	return 0;
}

static bool
any_reply(const struct send_result *res)
{
	for (size_t i = 0; i < res->n; i++)
		if (res->r[i].code != 0)
			return true;
	return false;
}

/* Send over the link; *at_open tells a session that could not be opened
   (nothing was said about this message). */
static int
send_on(struct run *r, struct link *l, const struct attempt *a,
    const struct envelope_view *env, const struct message *m,
    struct send_result *res, bool *at_open, struct failure *f)
{
	*at_open = link_ready(l, &r->sc, f) < 0;
	if (*at_open)
		return -1;
	bool reused = l->reused;
	int rc = session_send(&l->s, env, m, res, f);
	l->reused = true;
	/* A server may close an idle connection between two messages:
	   when nothing of this transaction was answered, try once anew. */
	if (rc < 0 && f->class == FAIL_IOERR && reused && a->retry_lost &&
	    !any_reply(res)) {
		link_close(l);
		send_result_free(res);
		memset(f, 0, sizeof *f);
		*at_open = link_ready(l, &r->sc, f) < 0;
		if (*at_open)
			return -1;
		rc = session_send(&l->s, env, m, res, f);
		l->reused = true;
	}
	return rc;
}

void
deliver_refusals(const char *prefix, const struct send_result *res)
{
	const char *sep = prefix ? ": " : "";

	if (prefix == NULL)
		prefix = "";
	for (size_t i = 0; i < res->n; i++) {
		const struct rcpt_result *rr = &res->r[i];
		/* Only recipients the server refused or failed to deliver
		   to: the others were never tried, and a refused message
		   ("data") has its own one-line diagnostic. */
		if (rr->accepted || rr->stage == NULL ||
		    strcmp(rr->stage, "data") == 0)
			continue;
		if (rr->code)
			warnx_safe("%s%s<%s>: %d %s", prefix, sep, rr->address,
			    rr->code, rr->text ? rr->text : "");
		else
			warnx_safe("%s%s<%s>: %s", prefix, sep, rr->address,
			    rr->text ? rr->text : "not delivered");
	}
}

static void
record(const struct run *r, const char *sender,
    const struct strlist *recipients, const struct send_result *res,
    uint64_t size, int exit, const struct failure *f, const bool *queued)
{
	struct outcome oc = { r->o.account, r->host, r->port, sender,
	    recipients, res && res->n ? res : NULL, size, f, exit, queued };

	if (r->o.report_json)
		outcome_json(stdout, &oc);
	outcome_log(&oc, r->o.logfile, r->o.log_time_format,
	    r->o.syslog_facility);
}

void
deliver_record(const struct run *r, const char *sender,
    const struct strlist *recipients, const struct send_result *res,
    uint64_t size, int rc, const struct failure *f)
{
	record(r, sender, recipients, res, size,
	    rc < 0 ? exit_status(f->class, false) : 0, f, NULL);
}

/* The reason kept with an entry: the failure, else the refusals of the
   recipients that did not get the message. */
static char *
reason_of(const struct failure *why, const struct send_result *res)
{
	if (why->what[0] != '\0')
		return why->detail[0] ? xasprintf("%s: %s", why->what,
		    why->detail) : xstrdup(why->what);
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
	char *s = b.len ? xstrndup(b.data, b.len) :
	    xstrdup("recipients refused");
	buf_free(&b);
	return s;
}

/* What one message came to, for the steps after the send. */
struct sent {
	const char *sender;
	const struct strlist *recipients;
	struct send_result res;
	int rc;
	bool at_open;		/* no session: nothing said about it */
	bool not_tried;		/* --queue-only */
	struct failure why;	/* the attempt's own failure */
	bool *queued;		/* per recipient: kept for another try */
	size_t nqueued;
	bool refused;		/* some recipient refused for good */
};

/* One message between its send and its conclusion. */
struct pending {
	struct attempt *a;
	struct message m;
	struct mail_envelope e;
	struct sent s;
	struct failure f;
	struct flight *fl;	/* in flight on the link's session */
	bool done;		/* the outcome is known */
	bool more;		/* further rounds after everything in flight */
	bool retry;		/* to be sent again over a new session */
	bool reused;		/* posted behind another message */
	bool retried;
};

/* Mark the recipients another try may still deliver to: those without
   the message and not refused for good; all when nothing was sent. */
static void
mark_retry(struct sent *s)
{
	size_t n = s->recipients->n;

	s->queued = xcalloc(n ? n : 1, sizeof *s->queued);
	for (size_t i = 0; i < n; i++) {
		const struct rcpt_result *rr = i < s->res.n ? &s->res.r[i] :
		    NULL;
		s->queued[i] = rr == NULL || rcpt_retryable(rr);
		s->nqueued += s->queued[i];
		s->refused |= rr != NULL && !rr->accepted &&
		    !rcpt_retryable(rr);
	}
}

/* Worth another try: a failure of the classes the queue keeps, a partial
   delivery, or, for a queued entry, no session at all. */
static bool
worth_retry(const struct attempt *a, const struct sent *s)
{
	return s->not_tried || fail_transient(s->why.class) ||
	    s->why.class == FAIL_PARTIAL || (a->entry != NULL && s->at_open);
}

/* A new entry for the recipients marked; its lines on stderr. */
static int
queue_new(const struct run *r, struct attempt *a, const struct sent *s,
    const struct message *m, struct failure *f)
{
	struct queue_entry q;
	struct queue qd;

	memset(&q, 0, sizeof q);
	q.sender = xstrdup(s->sender);
	for (size_t i = 0; i < s->recipients->n; i++)
		if (s->queued[i])
			strlist_add(&q.recipients, s->recipients->v[i]);
	for (size_t i = 0; a->route && i < a->route->n; i++)
		strlist_add(&q.route, a->route->v[i]);
	q.account = r->o.account ? xstrdup(r->o.account) : NULL;
	q.dsn_notify = r->o.dsn_notify ? xstrdup(r->o.dsn_notify) : NULL;
	q.dsn_return = r->o.dsn_return ? xstrdup(r->o.dsn_return) : NULL;
	q.dsn_envid = r->o.dsn_envid ? xstrdup(r->o.dsn_envid) : NULL;
	q.body_type = r->o.body_type ? xstrdup(r->o.body_type) : NULL;
	q.first = q.last = q.next = time(NULL);
	if (!s->not_tried) {
		q.attempts = 1;
		q.next = q.first + queue_backoff(1);
		q.last_error = reason_of(&s->why, &s->res);
	}
	int rc = queue_open(&qd, a->queue_dir, true, f);
	if (rc == 0)
		rc = queue_add(&qd, &q, m, f);
	queue_close(&qd);
	if (rc == 0) {
		a->fate = FATE_WAITING;
		a->next = q.next;
	}
	/* The whole message waits: one line.  Some recipients only: one
	   line for each, with its own reply. */
	if (rc == 0 && s->nqueued == s->recipients->n)
		warnx_safe("queued as %s in %s%s%s", q.id, a->queue_dir,
		    s->not_tried ? " (not sent: --queue-only)" : ": ",
		    s->not_tried ? "" : q.last_error);
	else if (rc == 0)
		for (size_t i = 0; i < s->res.n; i++)
			if (s->queued[i])
				warnx_safe("<%s>: queued as %s in %s: %d %s",
				    s->res.r[i].address, q.id, a->queue_dir,
				    s->res.r[i].code, s->res.r[i].text ?
				    s->res.r[i].text : "not delivered");
	queue_entry_free(&q);
	return rc;
}

/* A flushed entry after its try: removed, kept for the recipients
   marked, or given up.  Returns the entry's class. */
static enum fail_class
settle_entry(struct attempt *a, struct sent *s, bool retry)
{
	struct queue_entry *e = a->entry;
	struct failure ignored;
	time_t now = time(NULL);

	if (s->rc == 0 || (retry && s->nqueued == 0 &&
	    s->why.class == FAIL_PARTIAL)) {
		(void)queue_remove(a->queue, e->id, &ignored);
		return s->rc == 0 ? FAIL_NONE : FAIL_PARTIAL;
	}
	retry = retry && s->nqueued > 0;
	if (retry) {
		struct strlist again = { 0 };
		for (size_t i = 0; i < e->recipients.n; i++)
			if (s->queued[i])
				strlist_add(&again, e->recipients.v[i]);
		strlist_free(&e->recipients);
		e->recipients = again;
	}
	e->attempts++;
	e->last = now;
	free(e->last_error);
	e->last_error = reason_of(&s->why, &s->res);
	if (retry && now - e->first < (time_t)a->max_age_days * 86400) {
		e->next = now + queue_backoff(e->attempts);
		(void)queue_update(a->queue, e, &ignored);
		a->fate = FATE_WAITING;
		a->next = e->next;
		return FAIL_TEMP;
	}
	a->fate = FATE_FAILED;
	char *reason = xstrdup(e->last_error);	/* replaced there */
	if (queue_give_up(a->queue, e, reason, &ignored) < 0)
		warnx_safe("queue %s: %s", e->id, ignored.detail);
	free(reason);
	memset(s->queued, 0, s->recipients->n * sizeof *s->queued);
	return retry || fail_transient(s->why.class) ? FAIL_TEMP :
	    s->why.class;
}

/* Keep what is worth another try; the message's class afterwards. */
static enum fail_class
keep(const struct run *r, struct attempt *a, struct sent *s,
    const struct message *m, struct failure *f)
{
	bool retry = worth_retry(a, s);

	mark_retry(s);
	if (a->entry != NULL)
		return settle_entry(a, s, retry);
	if ((s->rc == 0 && !s->not_tried) || a->queue_dir == NULL || !retry ||
	    s->nqueued == 0) {
		memset(s->queued, 0, s->recipients->n * sizeof *s->queued);
		return s->rc == 0 ? FAIL_NONE : s->why.class;
	}
	if (queue_new(r, a, s, m, f) < 0) {
		memset(s->queued, 0, s->recipients->n * sizeof *s->queued);
		return f->class;
	}
	return s->refused ? FAIL_PARTIAL : FAIL_NONE;
}

/* The lines on stderr: the failure's own (when the caller names the
   message) and one per recipient refused, not those queued. */
static void
tell(const struct attempt *a, const struct sent *s)
{
	if (a->name != NULL && s->rc < 0 && !s->why.reported &&
	    s->why.what[0] != '\0')
		warnx_safe("%s: %s%s%s", a->name, s->why.what,
		    s->why.detail[0] ? ": " : "", s->why.detail);
	if (a->entry != NULL || a->fate != FATE_WAITING) {
		deliver_refusals(a->name, &s->res);
		return;
	}
	struct send_result rest = s->res;
	struct rcpt_result *v = xcalloc(s->res.n ? s->res.n : 1, sizeof *v);
	rest.n = 0;
	for (size_t i = 0; i < s->res.n; i++)
		if (!s->queued[i])
			v[rest.n++] = s->res.r[i];
	rest.r = v;
	deliver_refusals(a->name, &rest);
	free(v);
}

/* --- reading the message while the session opens (a->overlap) --- */

/*
 * A second thread reads the message while this one opens the session, so
 * that the wait for the connection, the greeting, EHLO, TLS and AUTH is
 * spent reading.  A thread rather than one poll() loop: session_open is a
 * chain of blocking steps (Happy Eyeballs, SOCKS, the TLS handshake, AUTH
 * and its secret) that would all have to become resumable.  The threads
 * share only struct reading: the reader writes the message and rd->f
 * alone, and this thread looks at them only after pthread_join.  Nothing
 * of the message goes out before the join: MAIL waits for the whole
 * message (SIZE= stays exact, a failed read sends nothing of it).
 */
struct reading {
	const struct attempt *a;
	struct message *m;
	struct failure f;
	int rc;
};

static void *
read_thread(void *arg)
{
	struct reading *rd = arg;

	rd->rc = rd->a->read(rd->a->ctx, rd->m, &rd->f);
	return NULL;
}

/* Waiting this long for the input, a session whose server spoke out of
   turn meanwhile (a timeout's 421, a close) was given up by it, not
   refused: it is replaced.  Sooner, what the server said is its answer
   to this session, as without the overlap. */
#define IDLE_GIVEN_UP_MS	1000

/* Read the message into *m while l's session opens.  A session that
   could not be opened stands for this message (l->down).  Returns the
   read's 0, or -1 with *f. */
static int
read_opening(struct run *r, struct link *l, const struct attempt *a,
    struct message *m, struct failure *f)
{
	struct reading rd = { a, m, { 0 }, -1 };
	struct failure opened;
	pthread_t t;

	/* One malloc arena: the reader's own would add its pages to the
	   peak RSS, and the two threads hardly ever allocate at once. */
	(void)mallopt(M_ARENA_MAX, 1);
	if (pthread_create(&t, NULL, read_thread, &rd) != 0)
		return a->read(a->ctx, m, f);
	memset(&opened, 0, sizeof opened);
	bool open = link_ready(l, &r->sc, &opened) == 0;
	int64_t ready = monotonic_ms();
	(void)pthread_join(t, NULL);
	if (rd.rc < 0) {
		*f = rd.f;
		return -1;
	}
	if (!open)
		l->down = opened;
	else if (monotonic_ms() - ready >= IDLE_GIVEN_UP_MS &&
	    conn_peer_spoke(l->s.conn))
		link_close(l);
	return 0;
}

/* The message and its envelope, before any connection or, with
   a->overlap and a link l, while it opens. */
static int
prepare(struct run *r, struct link *l, const struct attempt *a,
    struct message *m, struct mail_envelope *e, struct failure *f)
{
	if ((l != NULL && a->overlap ? read_opening(r, l, a, m, f) :
	    a->read(a->ctx, m, f)) < 0)
		return -1;
	if (a->entry != NULL)
		return 0;
	return envelope_build(e, &r->o, m, r->fqdn, f);
}

/* The parameters of this message: a queued entry's, else the options'. */
static void
message_params(struct run *r, const struct queue_entry *q)
{
	r->sc.dsn_notify = q && q->dsn_notify ? q->dsn_notify :
	    r->o.dsn_notify;
	r->sc.dsn_return = q && q->dsn_return ? q->dsn_return :
	    r->o.dsn_return;
	r->sc.dsn_envid = q && q->dsn_envid ? q->dsn_envid : r->o.dsn_envid;
	r->sc.body_type = q && q->body_type ? q->body_type : r->o.body_type;
}

/* The message read and its envelope decided (or not: s.rc < 0); l: the
   link to open meanwhile (a->overlap), or NULL. */
static void
pending_init(struct run *r, struct link *l, struct attempt *a,
    struct pending *p, struct failure *f)
{
	struct sent *s = &p->s;

	p->a = a;
	message_init(&p->m);
	memset(&p->e, 0, sizeof p->e);
	memset(s, 0, sizeof *s);
	reply_init(&s->res.final);
	a->fate = FATE_NONE;
	s->rc = prepare(r, l, a, &p->m, &p->e, f);
	s->sender = a->entry ? a->entry->sender : p->e.sender;
	s->recipients = a->entry ? &a->entry->recipients : p->e.recipients.n ?
	    &p->e.recipients : &r->o.recipients;
	s->not_tried = s->rc == 0 && a->entry == NULL && a->queue_dir &&
	    r->o.queue_only;
	if (s->rc == 0 && !s->not_tried) {
		r->trace.progress.on = r->o.progress == YES ||
		    (r->o.progress == UNSET && isatty(STDERR_FILENO) &&
		    message_size(&p->m) > 1024 * 1024);
		message_params(r, a->entry);
	}
}

static bool
to_send(const struct pending *p)
{
	return p->s.rc == 0 && !p->s.not_tried;
}

/* Everything after the outcome is known: keep, tell, record; frees what
   p holds.  Returns 0, or -1 with *f as attempt_send. */
static int
conclude(struct run *r, struct pending *p, struct failure *f)
{
	struct attempt *a = p->a;
	struct sent *s = &p->s;
	enum fail_class cl;

	if (s->rc < 0)
		s->why = *f;
	if (s->rc == 0 || s->not_tried || a->entry != NULL ||
	    a->queue_dir != NULL)
		cl = keep(r, a, s, &p->m, f);
	else
		cl = s->why.class;
	tell(a, s);
	record(r, s->sender, s->recipients, &s->res, message_size(&p->m),
	    exit_status(cl, false), cl == FAIL_NONE ? &s->why : f, s->queued);
	send_result_free(&s->res);
	free(s->queued);
	envelope_free(&p->e);
	message_free(&p->m);
	if (cl == FAIL_NONE)
		return 0;
	/* Its line is printed already, unless main is to print it. */
	if (a->name == NULL && cl == f->class && !f->reported)
		return -1;
	return fail_reported(f, cl);
}

int
attempt_send(struct run *r, struct link *l, struct attempt *a,
    struct failure *f)
{
	struct pending p;

	pending_init(r, l, a, &p, f);
	if (to_send(&p)) {
		struct envelope_view env = { p.s.sender, p.s.recipients };
		p.s.rc = send_on(r, l, a, &env, &p.m, &p.s.res, &p.s.at_open,
		    f);
	}
	return conclude(r, &p, f);
}

/* --- several messages in flight (attempt_submit) --- */

/* What may be in flight at once: bounded so that neither side can block
   writing while the other does too (the replies of this many commands fit
   in any socket buffer), and so that little is sent again after a 421. */
#define WINDOW_MESSAGES	100
#define WINDOW_COMMANDS	1000
#define WINDOW_OCTETS	(1024 * 1024)

static void
conclude_front(struct run *r, struct link *l)
{
	struct pending *p = l->fifo[0];

	int rc = conclude(r, p, &p->f);
	enum fail_class c = rc < 0 ? p->f.class : FAIL_NONE;
	memmove(l->fifo, l->fifo + 1, --l->n * sizeof *l->fifo);
	if (l->done)
		l->done(l->done_ctx, p->a, c);
	free(p);
}

/* Conclude the oldest while their outcomes are known. */
static void
report(struct run *r, struct link *l)
{
	while (l->n > 0 && l->fifo[0]->done)
		conclude_front(r, l);
}

static void
push(struct link *l, struct pending *p)
{
	if (l->n == l->alloc) {
		l->alloc = l->alloc ? 2 * l->alloc : 16;
		l->fifo = xreallocarray(l->fifo, l->alloc, sizeof *l->fifo);
	}
	l->fifo[l->n++] = p;
}

static void
land(struct pending *p, int rc)
{
	session_flight_free(p->fl);
	p->fl = NULL;
	p->s.rc = rc;
	p->done = true;
}

/* The session ended: the messages in flight from index `from` on were not
   answered.  Each is sent again or fails as not sent. */
static void
lost_from(struct link *l, size_t from, const struct failure *cause)
{
	for (size_t i = from; i < l->n; i++) {
		struct pending *p = l->fifo[i];
		if (p->fl == NULL)
			continue;
		session_flight_free(p->fl);
		p->fl = NULL;
		if (p->a->retry_lost && !p->retried) {
			p->retry = true;
			continue;
		}
		fail(&p->f, FAIL_TEMP, 0, "not sent", "the session ended "
		    "before this message was answered (%s%s%s)", cause->what,
		    cause->detail[0] ? ": " : "", cause->detail);
		land(p, -1);
	}
}

static void post(struct run *r, struct link *l, struct pending *p);
static void make_room(struct run *r, struct link *l, const struct pending *p);

/* Send again, in their order, the messages the session took with it. */
static void
resend(struct run *r, struct link *l)
{
	size_t k = 0, nre = 0;
	struct pending **re = xcalloc(l->n ? l->n : 1, sizeof *re);

	for (size_t i = 0; i < l->n; i++)
		if (l->fifo[i]->retry)
			re[nre++] = l->fifo[i];
		else
			l->fifo[k++] = l->fifo[i];
	l->n = k;
	for (size_t i = 0; i < nre; i++) {
		struct pending *p = re[i];
		p->retry = false;
		p->retried = true;
		send_result_free(&p->s.res);
		reply_init(&p->s.res.final);
		memset(&p->f, 0, sizeof p->f);
		make_room(r, l, p);
		post(r, l, p);
		push(l, p);
	}
	free(re);
}

/* The oldest message in flight: its next replies.  Returns false when
   the session ended. */
static bool
advance_at(struct run *r, struct link *l, size_t i)
{
	struct pending *p = l->fifo[i];
	enum flight_step st = session_advance(&l->s, p->fl, i + 1 < l->n &&
	    l->fifo[i + 1]->fl != NULL, &p->f);

	(void)r;
	if (st == FLIGHT_AWAITING)
		return true;
	if (st == FLIGHT_MORE_ROUNDS) {
		p->more = true;
		return true;
	}
	bool answered = session_flight_answered(p->fl);
	land(p, st == FLIGHT_FAILED ? -1 : 0);
	if (st != FLIGHT_FAILED || l->s.usable)
		return true;
	/* A reused session lost before any reply: as send_on. */
	if (p->f.class == FAIL_IOERR && p->reused && p->a->retry_lost &&
	    !p->retried && !answered && !any_reply(&p->s.res)) {
		p->done = false;
		p->retry = true;
	}
	struct failure cause = p->f;
	lost_from(l, i + 1, &cause);
	return false;
}

/* Every message in flight to its outcome, then the further rounds of
   those that need them, with nothing else in flight. */
static void
settle(struct run *r, struct link *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct pending *p = l->fifo[i];
		while (p->fl != NULL && !p->more)
			if (!advance_at(r, l, i))
				break;
	}
	for (size_t i = 0; i < l->n; i++) {
		struct pending *p = l->fifo[i];
		if (!p->more)
			continue;
		p->more = false;
		/* Its own DSN and BODY parameters, not the latest message's. */
		message_params(r, p->a->entry);
		land(p, session_flight_rest(&l->s, p->fl, &p->f));
	}
	resend(r, l);
}

/* Advance the oldest message in flight one step. */
static void
step(struct run *r, struct link *l)
{
	size_t i = 0;

	while (i < l->n && l->fifo[i]->fl == NULL)
		i++;
	if (i == l->n)
		return;
	if (!advance_at(r, l, i) || l->fifo[i]->more)
		settle(r, l);
}

static bool
in_flight(const struct link *l, size_t *count, size_t *cmds, uint64_t *octets,
    bool *tail_data)
{
	*count = *cmds = 0;
	*octets = 0;
	*tail_data = false;
	for (size_t i = 0; i < l->n; i++) {
		const struct flight *fl = l->fifo[i]->fl;
		if (fl == NULL)
			continue;
		(*count)++;
		*cmds += session_flight_commands(fl);
		*octets += session_flight_octets(fl);
		*tail_data = session_flight_data_due(fl);
	}
	return *count > 0;
}

/* Read replies until p may go out: within the caps, and never behind a
   DATA whose data has not gone out yet (it would be taken for data). */
static void
make_room(struct run *r, struct link *l, const struct pending *p)
{
	size_t count, cmds;
	uint64_t octets;
	bool tail_data;
	size_t want = p->s.recipients->n + 3;

	while (in_flight(l, &count, &cmds, &octets, &tail_data) &&
	    (tail_data || count >= WINDOW_MESSAGES ||
	    cmds + want > WINDOW_COMMANDS ||
	    octets + message_size(&p->m) > WINDOW_OCTETS))
		step(r, l);
}

static bool
can_pipeline(const struct link *l)
{
	return l->open && l->s.usable && l->s.caps.esmtp &&
	    caps_has(&l->s.caps, "PIPELINING");
}

/* Send p behind what is in flight, or in lock-step when the server does
   not pipeline. */
static void
post(struct run *r, struct link *l, struct pending *p)
{
	struct envelope_view env = { p->s.sender, p->s.recipients };
	size_t count, cmds;
	uint64_t octets;
	bool tail_data;
	bool ahead = in_flight(l, &count, &cmds, &octets, &tail_data);

	/* Replies read since p was prepared may have set another's. */
	message_params(r, p->a->entry);
	if (!ahead && link_ready(l, &r->sc, &p->f) < 0) {
		p->s.at_open = true;
		land(p, -1);
		return;
	}
	if (!can_pipeline(l)) {
		land(p, send_on(r, l, p->a, &env, &p->m, &p->s.res,
		    &p->s.at_open, &p->f));
		return;
	}
	p->reused = l->reused;
	l->reused = true;
	int rc = session_post(&l->s, &env, &p->m, &p->s.res, ahead, &p->fl,
	    &p->f);
	if (rc == 0 && p->fl != NULL)
		return;
	land(p, rc);
	if (!l->s.usable) {
		struct failure cause = p->f;
		lost_from(l, 0, &cause);
		resend(r, l);
	}
}

void
attempt_submit(struct run *r, struct link *l, struct attempt *a)
{
	struct pending *p = xcalloc(1, sizeof *p);

	pending_init(r, NULL, a, p, &p->f);
	if (to_send(p)) {
		make_room(r, l, p);
		post(r, l, p);
	} else
		p->done = true;
	push(l, p);
	report(r, l);
}

void
attempt_drain(struct run *r, struct link *l)
{
	size_t count, cmds;
	uint64_t octets;
	bool tail_data;

	while (in_flight(l, &count, &cmds, &octets, &tail_data))
		step(r, l);
	report(r, l);
	free(l->fifo);
	l->fifo = NULL;
	l->n = l->alloc = 0;
}
