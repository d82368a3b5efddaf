/*
 * flush.h: the queue's actions: --flush (-q), --list-queue (-bp,
 * mailq) and --queue-remove.
 */
#ifndef CARRIER_FLUSH_H
#define CARRIER_FLUSH_H

#include "report.h"
#include "setup.h"

/*
 * Send the queued messages.  argc/argv are the command line, parsed again
 * for each account a flush sends for, so its options apply to every
 * session.  Returns 0, or -1 with *f holding the worst outcome.
 */
int queue_flush(struct run *r, int argc, char **argv, struct failure *f);

/* List the queue on stdout, oldest first. */
int queue_print(struct run *r, struct failure *f);

/* Remove the entry named by --queue-remove. */
int queue_drop(struct run *r, struct failure *f);

#endif
