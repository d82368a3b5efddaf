/*
 * flush.h: the queue's actions: --flush (-q), --list-queue (-bp,
 * mailq) and --queue-remove.
 */
#ifndef CARRIER_FLUSH_H
#define CARRIER_FLUSH_H

#include "report.h"
#include "setup.h"

/*
 * Send the queued messages: all of them, or with --flush=due those whose
 * retry time has come; one line per entry on stdout, those left waiting
 * with the time of their next attempt.  argc/argv are the command line,
 * parsed again for each way the entries go, after the settings stored
 * with them, so that its options replace those where given.  Returns 0,
 * or -1 with *f holding the worst outcome (fail_worse).
 */
int queue_flush(struct run *r, int argc, char **argv, struct failure *f);

/* List the queue on stdout, oldest first. */
int queue_print(struct run *r, struct failure *f);

/* Remove the entry named by --queue-remove. */
int queue_drop(struct run *r, struct failure *f);

#endif
