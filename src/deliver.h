/*
 * deliver.h: sending one message (the default action), and the queue's
 * actions that reuse it: flush, list, remove.
 */
#ifndef CARRIER_DELIVER_H
#define CARRIER_DELIVER_H

#include <stdint.h>

#include "report.h"
#include "setup.h"

/*
 * Read the message, decide the envelope, send it; print one line per
 * refused recipient; write the JSON report and the log.  With a queue
 * (--queue, config `queue`) a failure worth retrying (68, 69, 74, 75)
 * queues the message and counts as success, with one line on stderr.
 * Returns 0, or -1 with *f.
 */
int deliver(struct run *r, struct failure *f);

/* One stderr line per recipient that was refused or not delivered, each
 * prefixed with "PREFIX: " when prefix is not NULL. */
void deliver_refusals(const char *prefix, const struct send_result *res);

/* The JSON report (--report=json) and the delivery log line for one
 * message, whatever its outcome; rc < 0 means *f holds the failure. */
void deliver_record(const struct run *r, const char *sender,
    const struct strlist *recipients, const struct send_result *res,
    uint64_t size, int rc, const struct failure *f);

/* --batch: every --file, --maildir and --mbox message over one session;
 * one line per message on stdout; the worst outcome is returned. */
int deliver_batch(struct run *r, struct failure *f);

/* --features, --verify, --expn, --noop, --server-help, --command: the
 * replies on stdout; the class of the worst reply (carrier(1) EXIT
 * STATUS) is returned. */
int query(struct run *r, struct failure *f);

/* sendmail -bs: an SMTP session on stdin/stdout, relayed. */
int relay_stdin_session(struct run *r, struct failure *f);

/*
 * The queue's actions.  argc/argv are the command line, parsed again for
 * each account a flush sends for, so its options apply to every session.
 */
int queue_flush(struct run *r, int argc, char **argv, struct failure *f);
int queue_print(struct run *r, struct failure *f);
int queue_drop(struct run *r, struct failure *f);

#endif
