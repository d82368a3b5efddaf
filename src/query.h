/*
 * query.h: the query modes, one session that sends commands and
 * prints their replies.
 */
#ifndef CARRIER_QUERY_H
#define CARRIER_QUERY_H

#include "report.h"
#include "setup.h"

/* --features, --verify, --expn, --noop, --server-help, --command: the
 * replies on stdout.  Returns 0 when every reply was 2xx or 3xx, else -1
 * with *f holding the worst (carrier(1) EXIT STATUS). */
int query(struct run *r, struct failure *f);

#endif
