/*
 * attempt.h: one message, one attempt: the steps every delivery mode
 * shares (a single message, --batch, --flush).  Read the message, decide
 * its envelope, make sure a usable session is open, send, tell each
 * refusal, keep in the queue what another try may still deliver, and
 * record the outcome (the JSON report and the log line).  The callers
 * differ only in what struct attempt holds.
 */
#ifndef CARRIER_ATTEMPT_H
#define CARRIER_ATTEMPT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "queue.h"
#include "report.h"
#include "setup.h"

struct attempt;
struct pending;

/* A session kept from one message to the next.  Zero it before use;
   link_close ends it. */
struct link {
	struct session s;
	bool open;		/* s is open */
	bool reused;		/* s has carried a message already */
	bool keep_failure;	/* a session that could not be opened stands
				   for every later message (--flush: the
				   entries of one destination) */
	struct failure down;	/* that failure; class FAIL_NONE until then */

	/* attempt_submit: the messages sent and not yet concluded, oldest
	   first, and who hears of each outcome, in the order submitted. */
	struct pending **fifo;
	size_t n, alloc;
	void (*done)(void *ctx, struct attempt *a, enum fail_class c);
	void *done_ctx;
};

/* What the queue did with the message. */
enum queue_fate {
	FATE_NONE,		/* not in the queue (or no longer) */
	FATE_WAITING,		/* queued, or kept for another try at `next` */
	FATE_FAILED,		/* given up: moved to failed/ */
};

struct attempt {
	/* The message: read into *m; 0, or -1 with *f. */
	int (*read)(const void *ctx, struct message *m, struct failure *f);
	const void *ctx;
	/* Prefix of this message's lines on stderr ("NAME: <rcpt>: 550
	   ..."), whose failure line is then printed here too; NULL: no
	   prefix, and the failure goes up to main. */
	const char *name;
	/* A reused session lost before any reply to this message: one new
	   session and one more try (--batch). */
	bool retry_lost;
	/* attempt_send: open the session while the message is read (by a
	   second thread; joined before MAIL).  Only where the session does
	   not depend on the message and the input is no terminal. */
	bool overlap;

	/* A new entry: where to queue the message when the attempt fails for
	   a reason worth a retry (NULL: never), and the command line's
	   connection settings stored with it. */
	const char *queue_dir;
	const struct strlist *route;

	/* An entry of the queue being flushed: its envelope and DSN
	   parameters are the message's; it is removed, kept or given up
	   after the attempt.  NULL: the envelope is decided from the options
	   and the message. */
	const struct queue *queue;
	struct queue_entry *entry;
	int max_age_days;

	/* Out: what the queue did, and when the next try is due. */
	enum queue_fate fate;
	time_t next;
};

/*
 * Send one message over l (opened, or opened anew when it is not usable,
 * with r->sc).  Returns 0, or -1 with *f: the message's outcome as the
 * exit status sees it.  A message queued after a failure worth a retry
 * is 0, or FAIL_PARTIAL when some of its recipients were refused for
 * good.  A flushed entry that stays queued is FAIL_TEMP.  Any class of
 * session_open, session_send, the message source, envelope_build and the
 * queue (FAIL_OSERR, FAIL_CONFIG).
 */
int attempt_send(struct run *r, struct link *l, struct attempt *a,
    struct failure *f);

/*
 * attempt_send for a series of messages over one link, several in flight
 * at once when the server offers PIPELINING (carrier(1) --batch, --flush):
 * the next message goes out behind the previous one's data, and each
 * outcome reaches l->done in the order the attempts were submitted, when
 * its replies are in.  *a must stay valid until then.  A message whose
 * transaction could not be answered because the session ended before it
 * (a 421, a lost connection) is sent once more over a new session when
 * a->retry_lost, else it fails as not sent (FAIL_TEMP).
 */
void attempt_submit(struct run *r, struct link *l, struct attempt *a);

/* Every outcome still to come, then l->done for each. */
void attempt_drain(struct run *r, struct link *l);

/* QUIT and close when open (after attempt_drain). */
void link_close(struct link *l);

/* One stderr line per recipient that was refused or not delivered, each
 * prefixed with "PREFIX: " when prefix is not NULL. */
void deliver_refusals(const char *prefix, const struct send_result *res);

/* The JSON report (--report=json) and the delivery log line for one
 * message, whatever its outcome; rc < 0 means *f holds the failure. */
void deliver_record(const struct run *r, const char *sender,
    const struct strlist *recipients, const struct send_result *res,
    uint64_t size, int rc, const struct failure *f);

#endif
