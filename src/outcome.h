/*
 * outcome.h: what one delivery attempt came to, and its two machine-
 * readable forms: the --report=json object on standard output and the
 * delivery log line (--log FILE, --syslog).  Neither ever holds a secret.
 */
#ifndef CARRIER_OUTCOME_H
#define CARRIER_OUTCOME_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "report.h"
#include "session.h"

struct outcome {
	const char *account;		/* NULL: none */
	const char *host;
	int port;
	const char *sender;		/* NULL: not decided */
	const struct strlist *recipients;	/* when no result exists */
	const struct send_result *result;	/* NULL: nothing sent */
	uint64_t size;
	const struct failure *failure;	/* class FAIL_NONE on success */
	int exit_status;
	const bool *queued;		/* per recipient (of result, else of
					   recipients): kept in the queue for
					   another try; NULL: none */
};

/* Write the JSON report, one object and a newline. */
void outcome_json(FILE *out, const struct outcome *o);

/* The log line, without time stamp or newline; caller frees. */
char *outcome_log_line(const struct outcome *o);

/*
 * Append the line with a time stamp (strftime `time_format`, NULL for ISO
 * 8601) to `logfile` (when not NULL; "-" is standard output) and send
 * it to syslog with `facility` (when not NULL: "LOG_MAIL", "mail",
 * "LOG_USER", "user", "local0"...).  A log that cannot be written is one
 * warning on stderr and nothing else: delivery never fails for a log.
 */
void outcome_log(const struct outcome *o, const char *logfile,
    const char *time_format, const char *facility);

#endif
