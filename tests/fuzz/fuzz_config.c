/*
 * fuzz_config.c: libFuzzer target for config_parse / config_parse_eval,
 * config_find, config_match_from, config_select and (when the input holds
 * no '%', so no host name lookups happen) config_apply.  Asserts the
 * parser's promises: 0 or -1; on -1 the class is FAIL_CONFIG, `what` is
 * "fuzz:LINE" and the config is empty; on 0 every account has a unique
 * non-empty name free of ',', every set value has a string and a line
 * within the input, and config_find finds each account by its name.
 *
 * clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *   -DSYSCONFDIR='"/etc"' $(pkg-config --cflags gnutls libbsd-overlay) \
 *   -Isrc tests/fuzz/fuzz_config.c src/config.c src/config_parse.c \
 *   src/settings.c src/params.c src/secret.c src/auth.c src/util.c src/report.c \
 *   $(pkg-config --libs gnutls libbsd-overlay)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* `eval CMD` becomes CMD itself, so "eval host x" parses "host x". */
static int
echo_eval(void *ctx, const char *filename, int line, const char *cmd,
    char **out, struct failure *f)
{
	(void)ctx;
	(void)filename;
	(void)line;
	(void)f;
	*out = xstrdup(cmd);
	return 0;
}

static void
check_config(const struct config *c, size_t lines)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct config_account *a = &c->accounts[i];

		if (a->name == NULL || a->name[0] == '\0' ||
		    strchr(a->name, ',') != NULL || config_find(c, a->name) != a)
			abort();
		for (int k = 0; k < CK_COUNT; k++) {
			const struct config_value *v = &a->v[k];

			if (v->line < 0 || (size_t)v->line > lines)
				abort();
			if (v->line != 0 && v->str == NULL)
				abort();
		}
	}
}

static void
exercise(const struct config *c, bool apply)
{
	const struct config_account *a;
	struct options o;
	struct failure f;

	(void)config_match_from(c, "bob@example.org");
	(void)config_match_from(c, "<>");
	/* The program's own constructor and destructor: a field added to
	   the options is freed here as it is everywhere else. */
	options_init(&o);
	o.from = xstrdup("x@example.org");
	if (config_select(c, &o, &a, &f) != 0 || a == NULL)
		abort();
	if (apply) {
		if (config_apply(c, a, &o, &f) != 0 &&
		    f.class != FAIL_CONFIG)
			abort();
	}
	options_free(&o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct config c;
	struct failure f;
	size_t lines = 1;
	bool apply = memchr(data, '%', size) == NULL;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	for (int pass = 0; pass < 2; pass++) {
		int r;

		memset(&f, 0, sizeof f);
		r = pass == 0 ? config_parse(text, size, "fuzz", &c, &f) :
		    config_parse_eval(text, size, "fuzz", echo_eval, NULL, &c,
		    &f);
		if (r == 0) {
			check_config(&c, lines);
			exercise(&c, apply);
		} else if (r != -1 || f.class != FAIL_CONFIG ||
		    strncmp(f.what, "fuzz:", 5) != 0 || c.n != 0 ||
		    c.accounts != NULL)
			abort();
		config_free(&c);
	}
	return 0;
}
