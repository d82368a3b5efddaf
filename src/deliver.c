/*
 * deliver.c: one message from standard input or --file, over a session
 * of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "deliver.h"
#include "envelope.h"
#include "queue.h"

static int
read_message(const void *ctx, struct message *m, struct failure *f)
{
	return setup_read_message(ctx, m, f);
}

/* The message setup_session read already: the attempt owns it now. */
static int
take_early(const void *ctx, struct message *m, struct failure *f)
{
	(void)f;
	*m = *(const struct message *)ctx;
	return 0;
}

/* The connection settings the command line itself gave (the
   configuration fills in only what it left unset). */
static void
command_line_route(int argc, char **argv, struct strlist *route)
{
	struct options cli;
	struct failure ignored;

	options_init(&cli);
	if (cli_parse(argc, argv, path_base(argv[0]), &cli, &ignored) == 0)
		queue_route_of(&cli, route);
	options_free(&cli);
}

/* Regular files smaller than this are read before connecting. */
#define OVERLAP_MIN_FILE	(1024 * 1024)

/* The envelope addresses the command line gives are good, so that an
   address carrier(1) refuses before connecting still is. */
static bool
given_addresses_ok(const struct run *r)
{
	const struct options *o = &r->o;
	struct failure ignored;
	bool ok = o->read_recipients || o->recipients.n > 0;

	if (ok && o->from != NULL) {
		char *sender = NULL;
		ok = envelope_given_sender(o, o->from, r->fqdn, &sender,
		    &ignored) == 0;
		free(sender);
	}
	for (size_t i = 0; ok && i < o->recipients.n; i++) {
		struct strlist one;
		ok = envelope_given_recipient(o, o->recipients.v[i], &one,
		    &ignored) == 0;
		strlist_free(&one);
	}
	return ok;
}

/*
 * Whether the session may open while the message is read.  Not when
 * nothing is to be sent now (--queue-only), when the account may be
 * chosen by the message (--read-envelope-from), when a person types the
 * message (the server would time the idle session out meanwhile), nor
 * when the command line's envelope is refused anyway.
 */
static bool
overlap_ok(const struct run *r)
{
	const struct options *o = &r->o;

	if (o->queue_only || o->read_envelope_from)
		return false;
	if (o->file == NULL && isatty(STDIN_FILENO))
		return false;
	/* A file that cannot be read is said before connecting, as ever. */
	struct stat st;
	if (o->file != NULL && (stat(o->file, &st) < 0 ||
	    S_ISDIR(st.st_mode) || access(o->file, R_OK) < 0))
		return false;
	/* A small file is read in less time than a thread costs. */
	if ((o->file != NULL || fstat(STDIN_FILENO, &st) == 0) &&
	    S_ISREG(st.st_mode) && st.st_size < OVERLAP_MIN_FILE)
		return false;
	return given_addresses_ok(r);
}

int
deliver(struct run *r, int argc, char **argv, struct failure *f)
{
	struct link l;
	struct strlist route = { 0 };
	char *dir = NULL;

	memset(&l, 0, sizeof l);
	if (r->o.queue_on) {
		dir = r->o.queue_dir ? xstrdup(r->o.queue_dir) :
		    queue_default_dir();
		command_line_route(argc, argv, &route);
	}
	struct attempt a = { .read = r->early ? take_early : read_message,
	    .ctx = r->early ? (const void *)r->early : &r->o,
	    .queue_dir = dir, .route = &route,
	    .overlap = r->early == NULL && overlap_ok(r) };
	int rc = attempt_send(r, &l, &a, f);
	free(r->early);		/* its buffers went to the attempt */
	r->early = NULL;
	link_close(&l);
	strlist_free(&route);
	free(dir);
	return rc;
}
