/*
 * report.h: the error classes, the value that carries a failure up to main,
 * and the one place that turns a class into an exit status.
 */
#ifndef CARRIER_REPORT_H
#define CARRIER_REPORT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* One class per row of carrier(1) EXIT STATUS; the value is the exit
   status in carrier's own mode. */
enum fail_class {
	FAIL_NONE = 0,
	FAIL_USAGE = 64,	/* bad option or value */
	FAIL_DATAERR = 65,	/* bad message or address */
	FAIL_NOINPUT = 66,	/* message file missing or unreadable */
	FAIL_REFUSED = 67,	/* every recipient refused permanently */
	FAIL_NOHOST = 68,	/* host name not found */
	FAIL_CONNECT = 69,	/* the server refuses service: greeting not 220 */
	FAIL_INTERNAL = 70,
	FAIL_OSERR = 71,	/* socket, bind, fork */
	FAIL_IOERR = 74,	/* connection closed unexpectedly */
	FAIL_TEMP = 75,		/* 4xx that ends the attempt, timeout */
	FAIL_PROTOCOL = 76,	/* EHLO refused, malformed or unexpected reply */
	FAIL_AUTH = 77,
	FAIL_CONFIG = 78,
	FAIL_PARTIAL = 79,	/* some recipients accepted, some refused */
	FAIL_SENDER = 80,	/* MAIL FROM refused permanently */
	FAIL_DATA = 81,		/* message data refused permanently */
	FAIL_UNSUPPORTED = 82,	/* required extension missing or refused */
	FAIL_TLS = 83,
};

/*
 * A failure travels as this value from wherever it happens up to main.
 * `what` names the stage or object ("MAIL FROM:<a@b> refused", "connect to
 * mx:25"); `detail` is free text, possibly bytes from the server, which is
 * escaped only when printed.  code is the SMTP reply code or 0.
 */
struct failure {
	enum fail_class class;
	bool reported;		/* its lines are on stderr already */
	int code;
	char what[256];
	char detail[1024];
};

/* Record a failure; always returns -1 so callers can `return fail(...)`. */
int fail(struct failure *f, enum fail_class class, int code,
    const char *what, const char *detailfmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The program name used as the prefix of every diagnostic ("carrier"). */
extern const char *progname;

/*
 * Record a failure that has no line of its own: its lines are the
 * refused recipients' or the failed messages' (--batch, --flush), each
 * printed where it is collected; report_failure then prints nothing.
 * Returns -1.
 */
int fail_reported(struct failure *f, enum fail_class class);

/*
 * Print "prog: WHAT: DETAIL" on stderr, escaping every byte that is not
 * printable with strvis(3) so that server text cannot drive the terminal.
 */
void report_failure(const struct failure *f);

/* Print "prog: " + message (escaped) + newline on stderr. */
void warnx_safe(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The classes worth retrying (carrier(1) EXIT STATUS): no host yet, a
 * refused greeting, no connection, a lost connection, a temporary
 * failure.  The queue keeps these. */
bool fail_transient(enum fail_class class);

/*
 * Which of two outcomes decides the exit status of a run that has several
 * (--batch, --flush, several query commands): a permanent failure, then a
 * temporary one, then a partial delivery, then success; of two as bad,
 * the first (a).
 */
enum fail_class fail_worse(enum fail_class a, enum fail_class b);

/*
 * Exit status for a class: the only mapping in the program.  In sendmail
 * mode every class worth retrying but 69 (68 no such host yet, 74 lost
 * connection, 75) is 75, EX_TEMPFAIL, the one status on which the mail
 * systems that run a sendmail or a delivery program (Postfix pipe(8),
 * Exim's pipe transport) defer instead of bouncing.  The JSON report and
 * the log line keep the precise class.
 */
int exit_status(enum fail_class class, bool sendmail_mode);

/* Escape untrusted bytes for a terminal; returns a static-free malloc'd
 * string the caller frees.  Never NULL (aborts on allocation failure). */
char *escape_bytes(const char *s, size_t len);

#endif
