/*
 * test_report.c: the outcome rules of src/report.c: which of several
 * failures decides a run's exit status (fail_worse), the one mapping from
 * class to exit status in both modes (exit_status), and the marker for a
 * failure whose lines were printed elsewhere (fail_reported).
 */
#include <stdbool.h>
#include <stdio.h>

#include "check.h"
#include "report.h"

static const enum fail_class permanent[] = { FAIL_REFUSED, FAIL_SENDER,
    FAIL_DATA, FAIL_PROTOCOL, FAIL_AUTH, FAIL_TLS, FAIL_CONFIG };
static const enum fail_class temporary[] = { FAIL_NOHOST, FAIL_CONNECT,
    FAIL_IOERR, FAIL_TEMP };

#define N(a) (sizeof (a) / sizeof *(a))

static void
check_worse(void)
{
	for (size_t i = 0; i < N(permanent); i++) {
		enum fail_class p = permanent[i];
		CHECK(fail_worse(FAIL_NONE, p) == p && fail_worse(p,
		    FAIL_NONE) == p, "%d beats success", p);
		CHECK(fail_worse(FAIL_PARTIAL, p) == p && fail_worse(p,
		    FAIL_PARTIAL) == p, "%d beats a partial delivery", p);
		for (size_t j = 0; j < N(temporary); j++) {
			enum fail_class t = temporary[j];
			CHECK(fail_worse(t, p) == p && fail_worse(p, t) == p,
			    "permanent %d beats temporary %d, in either order",
			    p, t);
		}
	}
	for (size_t j = 0; j < N(temporary); j++) {
		enum fail_class t = temporary[j];
		CHECK(fail_worse(FAIL_PARTIAL, t) == t &&
		    fail_worse(t, FAIL_PARTIAL) == t,
		    "temporary %d beats a partial delivery", t);
	}
	CHECK(fail_worse(FAIL_NONE, FAIL_PARTIAL) == FAIL_PARTIAL,
	    "a partial delivery beats success");
	CHECK(fail_worse(FAIL_NONE, FAIL_NONE) == FAIL_NONE,
	    "success and success is success");
	CHECK(fail_worse(FAIL_REFUSED, FAIL_PROTOCOL) == FAIL_REFUSED &&
	    fail_worse(FAIL_PROTOCOL, FAIL_REFUSED) == FAIL_PROTOCOL,
	    "of two as bad, the first");
	CHECK(fail_worse(FAIL_TEMP, FAIL_IOERR) == FAIL_TEMP &&
	    fail_worse(FAIL_IOERR, FAIL_TEMP) == FAIL_IOERR,
	    "of two temporary ones, the first");
}

static void
check_exit_status(void)
{
	CHECK(exit_status(FAIL_NONE, false) == 0 &&
	    exit_status(FAIL_NONE, true) == 0, "success is 0 in both modes");
	CHECK(exit_status(FAIL_NOHOST, false) == 68 &&
	    exit_status(FAIL_NOHOST, true) == 75,
	    "host not found: 68, sendmail mode 75");
	CHECK(exit_status(FAIL_IOERR, false) == 74 &&
	    exit_status(FAIL_IOERR, true) == 75,
	    "connection lost: 74, sendmail mode 75");
	CHECK(exit_status(FAIL_TEMP, false) == 75 &&
	    exit_status(FAIL_TEMP, true) == 75, "temporary: 75 in both modes");
	CHECK(exit_status(FAIL_CONNECT, false) == 69 &&
	    exit_status(FAIL_CONNECT, true) == 69,
	    "service refused at the greeting: 69 in both modes");
	for (size_t i = 0; i < N(permanent); i++)
		CHECK(exit_status(permanent[i], false) == (int)permanent[i] &&
		    exit_status(permanent[i], true) == (int)permanent[i],
		    "%d is the same in both modes", permanent[i]);
	CHECK(exit_status((enum fail_class)3, false) == 70,
	    "a value that is no class is an internal error");
}

static void
check_reported(void)
{
	struct failure f;

	CHECK(fail_reported(&f, FAIL_PARTIAL) == -1 && f.reported &&
	    f.class == FAIL_PARTIAL && f.what[0] == '\0',
	    "fail_reported marks the failure as printed");
	CHECK(fail(&f, FAIL_TEMP, 451, "MAIL", "x") == -1 && !f.reported,
	    "fail() clears the mark");
}

int
main(void)
{
	check_worse();
	check_exit_status();
	check_reported();
	return check_done();
}
