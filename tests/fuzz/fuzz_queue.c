/*
 * fuzz_queue.c: libFuzzer target for the queue envelope parser
 * (queue_parse_envelope in queue.c), the text of a queue entry's ID.env.
 *
 * Properties: the result is 0 or -1; on -1 the entry is empty and the
 * reason is a non-empty string; on 0 there is a sender and a recipient,
 * and no field holds a control byte (a value with CR or LF would become
 * a command of its own inside MAIL or RCPT); every stored option is a
 * long option word that the command-line parser accepts again, into
 * options that hold no action and no recipient; the same input gives the
 * same answer twice.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"
#include "queue.h"

#define REQUIRE(c) do { if (!(c)) { \
	fprintf(stderr, "property failed: %s (line %d)\n", #c, __LINE__); \
	abort(); } } while (0)

static void
require_clean(const char *v)
{
	REQUIRE(v == NULL || !has_control(v));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct queue_entry e, e2;
	char why[256], why2[256];
	int rc, rc2;

	rc = queue_parse_envelope((const char *)data, size, &e, why,
	    sizeof why);
	REQUIRE(rc == 0 || rc == -1);
	REQUIRE(memchr(why, '\0', sizeof why) != NULL);
	if (rc < 0) {
		REQUIRE(why[0] != '\0');
		REQUIRE(e.sender == NULL && e.recipients.n == 0 &&
		    e.account == NULL && e.dsn_notify == NULL &&
		    e.dsn_return == NULL && e.dsn_envid == NULL &&
		    e.body_type == NULL && e.last_error == NULL &&
		    e.route.n == 0);
	} else {
		REQUIRE(e.sender != NULL && e.recipients.n > 0);
		require_clean(e.sender);
		for (size_t i = 0; i < e.recipients.n; i++)
			require_clean(e.recipients.v[i]);
		require_clean(e.account);
		require_clean(e.dsn_notify);
		require_clean(e.dsn_return);
		require_clean(e.dsn_envid);
		require_clean(e.body_type);
		require_clean(e.last_error);
		struct options o;
		struct failure f;
		options_init(&o);
		for (size_t i = 0; i < e.route.n; i++) {
			require_clean(e.route.v[i]);
			REQUIRE(strncmp(e.route.v[i], "--", 2) == 0);
		}
		REQUIRE(queue_route_apply(&e.route, &o, &f) == 0);
		REQUIRE(o.action == ACT_SEND && o.recipients.n == 0 &&
		    o.config_file == NULL && o.logfile == NULL &&
		    o.passwordeval == NULL && o.password == NULL);
		options_free(&o);
		REQUIRE(e.attempts >= 0 && e.first >= 0 && e.last >= 0 &&
		    e.next >= 0);
	}

	rc2 = queue_parse_envelope((const char *)data, size, &e2, why2,
	    sizeof why2);
	REQUIRE(rc == rc2 && strcmp(why, why2) == 0);
	REQUIRE(e.recipients.n == e2.recipients.n);

	queue_entry_free(&e);
	queue_entry_free(&e2);
	return 0;
}
