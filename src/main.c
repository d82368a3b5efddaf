/*
 * main.c: carrier's data flow, one way: argv and configuration -> options
 * (setup.c) -> message, envelope, session (deliver.c) -> report.  main
 * alone turns the outcome into an exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gnutls/gnutls.h>

#include "batch.h"
#include "cli.h"
#include "deliver.h"
#include "flush.h"
#include "query.h"
#include "relay.h"
#include "report.h"
#include "secret.h"
#include "setup.h"

static void
print_version(void)
{
	/* libbsd has no run-time version call: the one built against. */
	printf("carrier %s\nGnuTLS %s (built with %s)\nlibbsd (built with "
	    "%s)\n", CARRIER_VERSION, tls_library_version(), GNUTLS_VERSION,
	    LIBBSD_BUILD_VERSION);
}

static int
run(struct run *r, int argc, char **argv, struct failure *f)
{
	if (setup_parse(r, argc, argv, f) < 0)
		return -1;
	switch (r->o.action) {
	case ACT_SHOW_HELP:
		cli_usage(stdout);
		return 0;
	case ACT_SHOW_VERSION:
		print_version();
		return 0;
	case ACT_NEWALIASES:
		return 0;	/* carrier keeps no alias database */
	default:
		break;
	}
	if (r->o.sendmail)
		progname = "sendmail";
	if (secret_protect_process(f) < 0 || setup_session(r, NULL, f) < 0)
		return -1;
	if (r->o.pretend) {
		setup_pretend(r, stdout);
		return 0;
	}
	if (r->o.tls_certcheck == NO)
		warnx_safe("warning: TLS certificate verification is off "
		    "(--tls-no-verify): anybody on the path can read and change "
		    "this session");
	switch (r->o.action) {
	case ACT_SEND:
		return r->o.batch ? deliver_batch(r, f) :
		    deliver(r, argc, argv, f);
	case ACT_FLUSH_QUEUE:
		return queue_flush(r, argc, argv, f);
	case ACT_LIST_QUEUE:
		return queue_print(r, f);
	case ACT_REMOVE_QUEUED:
		return queue_drop(r, f);
	case ACT_SMTP_STDIN:
		return relay_stdin_session(r, f);
	case ACT_OAUTH2_LOGIN:
		return oauth2_login(&r->o, f);
	case ACT_OAUTH2_LOGOUT:
		return oauth2_logout(&r->o, f);
	default:
		return query(r, f);
	}
}

int
main(int argc, char **argv)
{
	struct run r;
	struct failure f;
	int rc;

	/* A write to a closed socket is an error value, never a signal. */
	(void)signal(SIGPIPE, SIG_IGN);
	memset(&f, 0, sizeof f);
	setup_init(&r);
	progname = strcmp(path_base(argv[0]), "sendmail") == 0 ? "sendmail" :
	    "carrier";

	rc = run(&r, argc, argv, &f);
	if (fflush(stdout) != 0 && rc == 0)
		rc = fail(&f, FAIL_OSERR, 0, "standard output", "%s",
		    strerror(errno));
	if (rc < 0)
		report_failure(&f);

	int status = rc < 0 ? exit_status(f.class, r.o.sendmail) : 0;
	setup_free(&r);
	return status;
}
