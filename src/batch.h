/*
 * batch.h: several messages over one session (--batch, --maildir,
 * --mbox).
 */
#ifndef CARRIER_BATCH_H
#define CARRIER_BATCH_H

#include "report.h"
#include "setup.h"

/* Every --file, --maildir and --mbox message over one session; one line
 * per message on stdout.  Returns 0, or -1 with *f holding the worst
 * outcome (fail_worse). */
int deliver_batch(struct run *r, struct failure *f);

#endif
