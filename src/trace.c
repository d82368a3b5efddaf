/* trace.c: the -v transcript.  Nothing here ever goes to stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "report.h"
#include "trace.h"

static void
stamp(const struct trace *t)
{
	struct timeval tv;
	struct tm tm;

	if (t->level < 2)
		return;
	(void)gettimeofday(&tv, NULL);
	(void)localtime_r(&tv.tv_sec, &tm);
	(void)fprintf(stderr, "%02d:%02d:%02d.%06ld ", tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (long)tv.tv_usec);
}

static void
line_out(const struct trace *t, const char *prefix, const char *s,
    size_t len)
{
	char *esc = escape_bytes(s, len);

	stamp(t);
	(void)fprintf(stderr, "%s%s\n", prefix, esc);
	free(esc);
}

void
trace_sent(void *ctx, const char *line)
{
	const struct trace *t = ctx;

	if (t->level > 0)
		line_out(t, "> ", line, strlen(line));
}

void
trace_received(void *ctx, const struct reply *r)
{
	const struct trace *t = ctx;
	const char *p = r->text.data ? r->text.data : "";
	const char *end = p + r->text.len;
	size_t i = 0;

	if (t->level == 0)
		return;
	/* Show the reply as it came: "250-" on every line but the last. */
	do {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		char prefix[16];
		(void)snprintf(prefix, sizeof prefix, "< %03d%c", r->code,
		    ++i < r->nlines ? '-' : ' ');
		line_out(t, prefix, p, (size_t)(le - p));
		p = nl ? nl + 1 : end;
	} while (p < end);
}

void
trace_info(void *ctx, const char *line)
{
	const struct trace *t = ctx;

	if (t->level > 0)
		line_out(t, "* ", line, strlen(line));
}

void
trace_warn(void *ctx, const char *line)
{
	(void)ctx;
	warnx_safe("warning: %s", line);
}

void
trace_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct trace *t = ctx;

	progress_update(&t->progress, done, total);
}
