/*
 * deliver.c: one message from standard input or --file, over a session
 * of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "deliver.h"
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
	    .queue_dir = dir, .route = &route };
	int rc = attempt_send(r, &l, &a, f);
	free(r->early);		/* its buffers went to the attempt */
	r->early = NULL;
	link_close(&l);
	strlist_free(&route);
	free(dir);
	return rc;
}
