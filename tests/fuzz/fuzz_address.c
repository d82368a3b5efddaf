/*
 * fuzz_address.c: libFuzzer target for address_list_parse and
 * address_check.  Asserts the parser's promises: no returned address holds
 * CR, LF, NUL or another control character, nothing is appended on error,
 * the reason is one NUL-terminated line, and every address that passes
 * address_check is free of control characters too.
 *
 * clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *   $(pkg-config --cflags libbsd-overlay) -Isrc tests/fuzz/fuzz_address.c \
 *   src/address.c src/util.c $(pkg-config --libs libbsd-overlay)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
assert_clean(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strlist l = { 0 };
	char err[128];
	int r;

	strlist_add(&l, "sentinel");
	memset(err, 'x', sizeof err);
	r = address_list_parse((const char *)data, size, &l, err, sizeof err);
	if (r != 0 && r != -1)
		abort();
	if (r == -1 && (l.n != 1 || memchr(err, '\0', sizeof err) == NULL ||
	    err[0] == '\0' || strpbrk(err, "\r\n") != NULL))
		abort();
	/* A NUL would cut an address short unseen, so it must be refused. */
	if (r == 0 && memchr(data, '\0', size) != NULL)
		abort();
	for (size_t i = 1; i < l.n; i++) {
		assert_clean(l.v[i]);
		/* No blanks or brackets around a parsed address. */
		char *s = address_strip_brackets(l.v[i]);
		if (strcmp(s, l.v[i]) != 0)
			abort();
		free(s);
		(void)address_check(l.v[i], true);
	}
	strlist_free(&l);

	/* The input as one envelope address, up to its first NUL. */
	char *addr = xstrndup((const char *)data, size);
	if (address_check(addr, false) == NULL) {
		assert_clean(addr);
		if (addr[0] == '\0' || strlen(addr) > 254)
			abort();
	}
	(void)address_is_ascii(addr);
	/* An accepted address in A-labels: its domain is ASCII, its local
	   part the same bytes; a refusal gives a reason. */
	if (address_check(addr, false) == NULL) {
		char why[160] = "";
		char *ace = address_domain_to_ascii(addr, why, sizeof why);
		const char *at = strrchr(addr, '@');
		if (ace == NULL && why[0] == '\0')
			abort();
		if (ace != NULL && at != NULL && at[1] != '[' &&
		    (!address_is_ascii(strrchr(ace, '@')) ||
		    strncmp(ace, addr, (size_t)(at - addr) + 1) != 0))
			abort();
		free(ace);
	}
	char *stripped = address_strip_brackets(addr);
	if (strlen(stripped) > strlen(addr))
		abort();
	free(stripped);
	free(addr);
	return 0;
}
