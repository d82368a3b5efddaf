/*
 * deliver.h: sending one message (the default action), and the two steps
 * the other delivery modes share with it: the refusal lines and the
 * report.
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

#endif
