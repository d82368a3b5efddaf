/* report.c: failures as values, their one-line messages, exit statuses. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define LIBBSD_NETBSD_VIS 1	/* the NetBSD argument order of strnvis */
#include <vis.h>

#include "report.h"
#include "util.h"

const char *progname = "carrier";

int
fail(struct failure *f, enum fail_class class, int code, const char *what,
    const char *detailfmt, ...)
{
	va_list ap;

	f->class = class;
	f->reported = false;
	f->code = code;
	(void)snprintf(f->what, sizeof f->what, "%s", what);
	f->detail[0] = '\0';
	if (detailfmt != NULL) {
		va_start(ap, detailfmt);
		(void)vsnprintf(f->detail, sizeof f->detail, detailfmt, ap);
		va_end(ap);
	}
	return -1;
}

int
fail_reported(struct failure *f, enum fail_class class)
{
	fail(f, class, 0, "", NULL);
	f->reported = true;
	return -1;
}

char *
escape_bytes(const char *s, size_t len)
{
	/* strnvis needs at most 4 output bytes per input byte, plus NUL. */
	size_t cap = len * 4 + 1;
	char *out = xmalloc(cap);

	/* Not VIS_SAFE: it would let BEL, BS and CR through. */
	(void)strnvisx(out, cap, s, len, VIS_OCTAL | VIS_TAB | VIS_NL |
	    VIS_CSTYLE);
	return out;
}

static void
print_escaped_line(const char *msg)
{
	char *esc = escape_bytes(msg, strlen(msg));

	(void)fprintf(stderr, "%s: %s\n", progname, esc);
	free(esc);
}

void
report_failure(const struct failure *f)
{
	char line[sizeof f->what + sizeof f->detail + 4];

	if (f->reported)
		return;
	if (f->detail[0] != '\0')
		(void)snprintf(line, sizeof line, "%s: %s", f->what, f->detail);
	else
		(void)snprintf(line, sizeof line, "%s", f->what);
	print_escaped_line(line);
}

void
warnx_safe(const char *fmt, ...)
{
	va_list ap;
	char line[2048];

	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	print_escaped_line(line);
}

bool
fail_transient(enum fail_class class)
{
	return class == FAIL_NOHOST || class == FAIL_CONNECT ||
	    class == FAIL_IOERR || class == FAIL_TEMP;
}

static int
severity(enum fail_class c)
{
	if (c == FAIL_NONE)
		return 0;
	if (c == FAIL_PARTIAL)
		return 1;
	return fail_transient(c) ? 2 : 3;
}

enum fail_class
fail_worse(enum fail_class a, enum fail_class b)
{
	return severity(b) > severity(a) ? b : a;
}

int
exit_status(enum fail_class class, bool sendmail_mode)
{
	if (sendmail_mode && (class == FAIL_NOHOST || class == FAIL_IOERR))
		return FAIL_TEMP;
	/* The classes are the sysexits-style statuses of carrier(1). */
	switch (class) {
	case FAIL_NONE: case FAIL_USAGE: case FAIL_DATAERR: case FAIL_NOINPUT:
	case FAIL_REFUSED: case FAIL_NOHOST: case FAIL_CONNECT:
	case FAIL_INTERNAL: case FAIL_OSERR: case FAIL_IOERR: case FAIL_TEMP:
	case FAIL_PROTOCOL: case FAIL_AUTH: case FAIL_CONFIG: case FAIL_PARTIAL:
	case FAIL_SENDER: case FAIL_DATA: case FAIL_UNSUPPORTED: case FAIL_TLS:
		return (int)class;
	}
	return FAIL_INTERNAL;
}
