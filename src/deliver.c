/*
 * deliver.c: one message: read it whole, decide its envelope, send it,
 * report each refusal, and queue it when the failure is worth a retry.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "deliver.h"
#include "envelope.h"
#include "message.h"
#include "outcome.h"
#include "queue.h"

static int
read_message(const struct options *o, struct message *m, struct failure *f)
{
	struct read_rules rules = { o->sendmail && !o->ignore_dots };
	int fd = STDIN_FILENO, rc;

	if (o->file != NULL &&
	    (fd = open(o->file, O_RDONLY | O_CLOEXEC)) < 0)
		return fail(f, FAIL_NOINPUT, 0, o->file, "%s", strerror(errno));
	rc = message_read(m, fd, &rules, f);
	if (fd != STDIN_FILENO)
		(void)close(fd);
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

void
deliver_record(const struct run *r, const char *sender,
    const struct strlist *recipients, const struct send_result *res,
    uint64_t size, int rc, const struct failure *f)
{
	struct outcome oc = { r->o.account, r->host, r->port, sender,
	    recipients, res && res->n ? res : NULL, size, f,
	    rc < 0 ? exit_status(f->class, false) : 0 };

	if (r->o.report_json)
		outcome_json(stdout, &oc);
	outcome_log(&oc, r->o.logfile, r->o.log_time_format,
	    r->o.syslog_facility);
}

/* Put the message in the queue instead of failing; 0 when queued. */
static int
queue_instead(const struct run *r, const struct mail_envelope *e,
    const struct send_result *res, const struct message *m,
    const struct failure *why, struct failure *f)
{
	struct queue_entry q;
	char *dir = r->o.queue_dir ? xstrdup(r->o.queue_dir) :
	    queue_default_dir();
	int rc;

	memset(&q, 0, sizeof q);
	q.sender = xstrdup(e->sender);
	/* Not those that have the message, nor those refused for good. */
	for (size_t i = 0; i < e->recipients.n; i++) {
		const struct rcpt_result *rr = res && i < res->n ?
		    &res->r[i] : NULL;
		if (rr == NULL || rcpt_retryable(rr))
			strlist_add(&q.recipients, e->recipients.v[i]);
	}
	q.account = r->o.account ? xstrdup(r->o.account) : NULL;
	q.dsn_notify = r->o.dsn_notify ? xstrdup(r->o.dsn_notify) : NULL;
	q.dsn_return = r->o.dsn_return ? xstrdup(r->o.dsn_return) : NULL;
	q.dsn_envid = r->o.dsn_envid ? xstrdup(r->o.dsn_envid) : NULL;
	q.body_type = r->o.body_type ? xstrdup(r->o.body_type) : NULL;
	q.first = q.last = time(NULL);
	if (why != NULL) {
		q.attempts = 1;
		q.next = q.first + queue_backoff(1);
		q.last_error = why->detail[0] ? xasprintf("%s: %s", why->what,
		    why->detail) : xstrdup(why->what);
	} else
		q.next = q.first;
	struct queue qd;
	rc = queue_open(&qd, dir, true, f);
	if (rc == 0)
		rc = queue_add(&qd, &q, m, f);
	queue_close(&qd);
	if (rc == 0)
		warnx_safe("queued as %s in %s%s%s", q.id, dir,
		    why ? ": " : " (not sent: --queue-only)",
		    why ? q.last_error : "");
	queue_entry_free(&q);
	free(dir);
	return rc;
}

int
deliver(struct run *r, struct failure *f)
{
	struct message m;
	struct mail_envelope e;
	struct session s;
	struct envelope env;
	struct send_result res = { 0 };
	int rc = -1;

	message_init(&m);
	memset(&e, 0, sizeof e);
	reply_init(&res.final);
	/* The whole message is read and checked before any connection. */
	if (read_message(&r->o, &m, f) < 0 ||
	    envelope_build(&e, &r->o, &m, r->fqdn, f) < 0)
		goto out;
	if (r->o.queue_only) {
		rc = queue_instead(r, &e, NULL, &m, NULL, f);
		goto out;
	}
	r->trace.progress.on = r->o.progress == YES ||
	    (r->o.progress == UNSET && isatty(STDERR_FILENO) &&
	    message_size(&m) > 1024 * 1024);
	if (session_open(&s, &r->sc, f) < 0)
		goto queue;
	env.sender = e.sender;
	env.recipients = &e.recipients;
	rc = session_send(&s, &env, &m, &res, f);
	session_close(&s);
	if (!(rc < 0 && r->o.queue_on && fail_transient(f->class)))
		deliver_refusals(NULL, &res);
queue:
	if (rc < 0 && r->o.queue_on && fail_transient(f->class)) {
		struct failure why = *f;
		if (why.what[0] == '\0')
			for (size_t i = 0; i < res.n; i++)
				if (rcpt_retryable(&res.r[i]) &&
				    res.r[i].code) {
					(void)snprintf(why.what, sizeof why.what,
					    "<%s>", res.r[i].address);
					(void)snprintf(why.detail,
					    sizeof why.detail, "%d %s",
					    res.r[i].code, res.r[i].text ?
					    res.r[i].text : "");
					break;
				}
		rc = queue_instead(r, &e, &res, &m, &why, f);
	}
out:
	deliver_record(r, e.sender, e.recipients.n ? &e.recipients :
	    &r->o.recipients, &res, message_size(&m), rc, f);
	send_result_free(&res);
	envelope_free(&e);
	message_free(&m);
	return rc;
}

