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
	const struct options *o = ctx;
	struct read_rules rules = { o->sendmail && !o->ignore_dots };
	int fd = STDIN_FILENO, rc;

	if (o->file != NULL &&
	    (fd = open(o->file, O_RDONLY | O_CLOEXEC)) < 0)
		return fail(f, FAIL_NOINPUT, 0, o->file, "%s", strerror(errno));
	rc = message_read(m, fd, &rules, f);
	if (fd != STDIN_FILENO)
		(void)close(fd);
	return rc;
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
	struct attempt a = { .read = read_message, .ctx = &r->o,
	    .queue_dir = dir, .route = &route };
	int rc = attempt_send(r, &l, &a, f);
	link_close(&l);
	strlist_free(&route);
	free(dir);
	return rc;
}
