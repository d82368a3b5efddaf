/*
 * check.h: the smallest useful unit-test harness.  Each CHECK prints a TAP
 * line; check_done() prints the plan and "N passed, N failed" and returns
 * the exit status for main.
 */
#ifndef CARRIER_CHECK_H
#define CARRIER_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond, ...) do {						\
	if (cond) {							\
		check_passed++;						\
		printf("ok %d - ", check_passed + check_failed);	\
	} else {							\
		check_failed++;						\
		printf("not ok %d - %s:%d: ", check_passed + check_failed, \
		    __FILE__, __LINE__);				\
	}								\
	printf(__VA_ARGS__);						\
	printf("\n");							\
} while (0)

#define CHECK_STR(got, want, ...) do {					\
	const char *g_ = (got), *w_ = (want);				\
	int eq_ = (g_ == NULL && w_ == NULL) ||				\
	    (g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0);		\
	CHECK(eq_, __VA_ARGS__);					\
	if (!eq_)							\
		printf("#   got  [%s]\n#   want [%s]\n",		\
		    g_ ? g_ : "(null)", w_ ? w_ : "(null)");		\
} while (0)

static inline int
check_done(void)
{
	printf("1..%d\n", check_passed + check_failed);
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
