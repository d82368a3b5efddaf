/*
 * setup.h: from the command line and the configuration to a session
 * configuration ready to use.  With --read-envelope-from and no account
 * named, the message is read first (into r->early), since the account is
 * the one whose `from` matches its sender.  Everything a delivery, a query or a queue
 * flush needs before it talks to a server.
 */
#ifndef CARRIER_SETUP_H
#define CARRIER_SETUP_H

#include <stdio.h>
#include "config.h"
#include "message.h"
#include "options.h"
#include "session.h"
#include "trace.h"

struct run {
	struct options o;
	struct trace trace;
	char *fqdn;
	char *host;		/* the host to connect to, or a socket path */
	int port;		/* the port to connect to */
	struct session_config sc;
	char *secret;		/* fetched before connecting; wiped */
	struct failure secret_failure;	/* why a token could not be had
					   before connecting, for --queue */
	struct socks_proxy proxy;	/* sc.target.proxy points here */
	char *proxy_host, *proxy_user;
	char *proxy_password;	/* wiped */
	struct message *early;	/* read before the account was chosen by
				   its sender (--read-envelope-from);
				   deliver takes it */
};

/* Parse argv into r->o.  FAIL_USAGE. */
/* Parse argv into r->o; FAIL_USAGE (64) on a bad command line, and at
   once when there is nothing to send to (no recipient, no -t). */
int setup_parse(struct run *r, int argc, char **argv, struct failure *f);

/* The message from --message-file or standard input into *m (sendmail's
   lone-dot rule when it applies).  FAIL_NOINPUT, and message_read's. */
int setup_read_message(const struct options *o, struct message *m,
    struct failure *f);

/* -P: the settings of r (after setup_session) on out, never a
   password. */
void setup_pretend(const struct run *r, FILE *out);

/*
 * Apply the configuration (the account `account` when not NULL and the
 * command line named none), then derive the host, port, local name and
 * session configuration.  When the session will authenticate, the secret
 * is fetched now, so that a failing passwordeval or prompt stops carrier
 * before it connects.  FAIL_CONFIG and what config_load and secret_get
 * return.
 */
int setup_session(struct run *r, const char *account, struct failure *f);

void setup_init(struct run *r);
void setup_free(struct run *r);

#endif
