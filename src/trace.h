/*
 * trace.h: the -v transcript on standard error (smtplib's set_debuglevel):
 * "> " for what carrier sent, "< " for what it received, "* " for notes;
 * level 2 puts a timestamp before each line.  Server bytes are escaped.
 * Also the --progress line and warnings: all that goes to stderr while
 * carrier works.
 */
#ifndef CARRIER_TRACE_H
#define CARRIER_TRACE_H

#include <stdint.h>

#include "progress.h"
#include "reply.h"

struct trace {
	int level;		/* 0: silent */
	struct progress progress;
};

void trace_sent(void *ctx, const char *line);
void trace_received(void *ctx, const struct reply *r);
void trace_info(void *ctx, const char *line);
/* Warnings go to stderr whatever the level. */
void trace_warn(void *ctx, const char *line);
/* The --progress line. */
void trace_progress(void *ctx, uint64_t done, uint64_t total);

#endif
