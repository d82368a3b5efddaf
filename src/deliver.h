/*
 * deliver.h: sending one message, the default action.  The steps it
 * shares with --batch and --flush, and the refusal lines and the report,
 * are attempt.h's.
 */
#ifndef CARRIER_DELIVER_H
#define CARRIER_DELIVER_H

#include "attempt.h"
#include "report.h"
#include "setup.h"

/*
 * Read the message, decide the envelope, send it; print one line per
 * refused recipient; write the JSON report and the log.  With a queue
 * (--queue, config `queue`) a failure worth retrying (68, 69, 74, 75)
 * queues the message and counts as success, with one line on stderr;
 * recipients answered 4xx while others took the message are queued for
 * themselves (exit 0, or 79 when others were refused for good).  argc
 * and argv are the command line, whose connection settings a queued
 * message keeps.  Returns 0, or -1 with *f.
 */
int deliver(struct run *r, int argc, char **argv, struct failure *f);

#endif
