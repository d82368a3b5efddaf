/*
 * fuzz_cli.c: libFuzzer target for cli_parse (src/cli.c), the sendmail and
 * carrier command line.  THREATS (c) "argv (sendmail option) parser", I06,
 * B17.
 *
 * Input: the first byte picks the name carrier was invoked as (carrier,
 * sendmail, mailq, newaliases); the rest is split on NUL bytes into
 * argv[1..] (at most 64 arguments).  Every input is parsed into a fresh
 * struct options, which is then freed: nothing may crash or leak (LSan).
 * Oracles on the result:
 *   - 0, or -1 with class FAIL_USAGE and a non-empty `what` (FAIL_INTERNAL
 *     would be an option the parser forgot);
 *   - on 0: the values that go into SMTP commands hold no control byte
 *     (--helo also no space), -V became xtext, numbers are in range;
 *     under the names sendmail, mailq and newaliases no long option set
 *     anything (no log file, message file, host, port, queue directory)
 *     and a -C file is marked for the trust check.
 * Parsing twice (getopt state is global) must give the same outcome.
 *
 * dict: cli.dict
 *
 * clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *   -DSYSCONFDIR='"/etc"' $(pkg-config --cflags gnutls libbsd-overlay) \
 *   -Isrc tests/fuzz/fuzz_cli.c [every src/NAME.c but src/main.c] \
 *   $(pkg-config --libs gnutls libbsd-overlay)
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "options.h"
#include "report.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS	64

static void
no_controls(const char *s, bool no_space)
{
	if (s == NULL)
		return;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || (no_space && *p == ' '))
			abort();
}

static void
list_no_controls(const struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		no_controls(l->v[i], false);
}

static int
parse(int argc, char **argv, const char *name, struct failure *f,
    enum action *action)
{
	struct options o;
	int rc;

	options_init(&o);
	memset(f, 0, sizeof *f);
	rc = cli_parse(argc, argv, name, &o, f);
	if (rc != 0 && rc != -1)
		abort();
	if (rc == -1) {
		if (f->class != FAIL_USAGE || f->what[0] == '\0' ||
		    memchr(f->what, '\0', sizeof f->what) == NULL ||
		    memchr(f->detail, '\0', sizeof f->detail) == NULL)
			abort();
	} else {
		no_controls(o.helo, true);
		list_no_controls(&o.mail_options);
		list_no_controls(&o.rcpt_options);
		list_no_controls(&o.commands);
		no_controls(o.fullname, false);
		if (o.dsn_envid != NULL) {
			for (const char *p = o.dsn_envid; *p; p++)
				if (*p < 33 || *p > 126 || *p == '=')
					abort();
		}
		if (o.port < 0 || o.port > 65535 || o.timeout < 0 ||
		    o.timeout > 86400 || o.debug < 0 || o.debug > 2)
			abort();
		if (o.host != NULL && o.host[0] == '\0')
			abort();
		if (o.commands.n > 0 && o.commands.v[0][0] == '\0')
			abort();
		/* Under the name sendmail, mailq or newaliases no long
		   option acts: nothing that writes or reads a file or
		   changes the server, and a -C file is marked for the
		   trust check. */
		if (strcmp(name, "carrier") != 0 && (o.logfile != NULL ||
		    o.file != NULL || o.host != NULL || o.port != 0 ||
		    o.queue_dir != NULL || o.batch_files.n != 0 ||
		    o.report_json || o.tls_certcheck != UNSET ||
		    (o.config_file != NULL && !o.config_from_caller)))
			abort();
	}
	*action = o.action;
	options_free(&o);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "carrier", "sendmail", "mailq",
	    "newaliases" };
	char *args[MAX_ARGS + 2], *copy[MAX_ARGS + 2];
	int argc = 1;
	struct failure f1, f2;
	enum action a1, a2;

	if (size < 1)
		return 0;
	const char *name = names[data[0] % 4];
	args[0] = xstrdup(name);
	for (size_t pos = 1; pos < size && argc <= MAX_ARGS; argc++) {
		const uint8_t *z = memchr(data + pos, '\0', size - pos);
		size_t len = z ? (size_t)(z - (data + pos)) : size - pos;
		args[argc] = xstrndup((const char *)data + pos, len);
		pos += len + 1;
	}
	args[argc] = NULL;
	/* getopt_long permutes argv: parse a copy each time. */
	memcpy(copy, args, sizeof *args * (size_t)(argc + 1));
	int r1 = parse(argc, copy, name, &f1, &a1);
	memcpy(copy, args, sizeof *args * (size_t)(argc + 1));
	int r2 = parse(argc, copy, name, &f2, &a2);
	if (r1 != r2 || a1 != a2 || (r1 == -1 && (f1.class != f2.class ||
	    strcmp(f1.what, f2.what) != 0 ||
	    strcmp(f1.detail, f2.detail) != 0)))
		abort();
	for (int i = 0; i < argc; i++)
		free(args[i]);
	return 0;
}
