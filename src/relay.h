/*
 * relay.h: sendmail -bs, an SMTP session on standard input and
 * output whose transactions are relayed to the server.
 */
#ifndef CARRIER_RELAY_H
#define CARRIER_RELAY_H

#include "report.h"
#include "setup.h"

/* Returns 0 once the session has begun, -1 with *f when it could not. */
int relay_stdin_session(struct run *r, struct failure *f);

#endif
