/*
 * fuzz_netrc.c: libFuzzer target for the pure netrc parser in secret.c.
 *
 * Input: "HOST\nUSER\nDATA" (an empty USER line means no user given; a
 * missing line means host "h" / no user).  Properties: the result is
 * -1, 0 or 1; the entry is empty unless 1; a returned login equals the
 * user when one was given; the same input gives the same answer twice.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "util.h"

#define REQUIRE(c) do { if (!(c)) { \
	fprintf(stderr, "property failed: %s (line %d)\n", #c, __LINE__); \
	abort(); } } while (0)

static bool
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	char *host = NULL, *user = NULL;
	struct netrc_entry e, e2;
	char err[128], err2[128];
	int rc, rc2;

	nl = memchr(p, '\n', size);
	if (nl != NULL) {
		host = xstrndup(p, (size_t)(nl - p));
		p = nl + 1;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl != NULL) {
			if (nl > p)
				user = xstrndup(p, (size_t)(nl - p));
			p = nl + 1;
		}
	} else {
		host = xstrdup("h");
	}

	rc = netrc_find(p, (size_t)(end - p), host, user, &e, err, sizeof err);
	REQUIRE(rc == -1 || rc == 0 || rc == 1);
	if (rc != 1)
		REQUIRE(e.login == NULL && e.password == NULL);
	if (rc == -1)
		REQUIRE(memchr(err, '\0', sizeof err) != NULL && err[0] != '\0');
	if (rc == 1 && user != NULL && e.login != NULL)
		REQUIRE(strcmp(e.login, user) == 0);

	rc2 = netrc_find(p, (size_t)(end - p), host, user, &e2, err2,
	    sizeof err2);
	REQUIRE(rc == rc2 && same(e.login, e2.login) &&
	    same(e.password, e2.password) && e.is_default == e2.is_default);

	netrc_entry_clear(&e);
	netrc_entry_clear(&e2);
	free(host);
	free(user);
	return 0;
}
