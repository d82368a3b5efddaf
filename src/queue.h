/*
 * queue.h: the offline queue.  A message that could not be delivered for
 * a reason worth retrying waits here, maildir-style, until a flush.
 *
 * Layout of DIR (mode 0700): ID.msg (the message exactly as it will be
 * transmitted), ID.env (the envelope and the retry state, one "key value"
 * a line), tmp/ (entries being written), failed/ (given up, with the
 * reason), .lock (held by a flush).  An entry exists once its .env is
 * renamed into place, which happens after the .msg is, both fsync'd with
 * the directory: a crash at any point leaves no entry or a whole one.
 */
#ifndef CARRIER_QUEUE_H
#define CARRIER_QUEUE_H

#include <stdbool.h>
#include <time.h>

#include "message.h"
#include "options.h"
#include "report.h"
#include "util.h"

struct queue_entry {
	char id[64];
	char *sender;
	struct strlist recipients;
	char *account;			/* NULL: none */
	char *dsn_notify, *dsn_return, *dsn_envid, *body_type;
	/* The connection and session settings the command line gave when
	   the message was queued, as command-line words ("--host=mx",
	   "--lmtp"): never a secret. */
	struct strlist route;
	int attempts;
	time_t first, last, next;	/* first queued, last try, next try */
	char *last_error;
	char *invalid;			/* why the entry cannot be used (then
					   only id is set), or NULL */
};

void queue_entry_free(struct queue_entry *e);

/* $XDG_STATE_HOME/carrier/queue, ~/.local/state/carrier/queue, or for
   root /var/spool/carrier. */
char *queue_default_dir(void);

/*
 * An open queue.  The directory is opened once, without following a
 * symlink, and checked on that descriptor (a directory owned by the
 * effective user, mode 0700); every file of the queue is then reached
 * from the descriptor, never by path, so the path changing afterwards
 * changes nothing.
 */
struct queue {
	int fd;
	char *dir;		/* for messages */
};

/* Open DIR; with create, make it (0700) and tmp/ when missing.  Returns
   0, 1 when DIR does not exist (without create), or -1 with *f
   (FAIL_CONFIG: not a directory of ours closed to others). */
int queue_open(struct queue *q, const char *dir, bool create,
    struct failure *f);
void queue_close(struct queue *q);

/* Add the message under a new id (copied into e->id).  FAIL_OSERR on any
   write failure. */
int queue_add(const struct queue *q, struct queue_entry *e,
    const struct message *m, struct failure *f);

/* The entries, oldest first.  An ID.env that cannot be read or whose
   content fails a check (queue_parse_envelope) is an entry with
   `invalid` set, never one that could be sent. */
int queue_list(const struct queue *q, struct queue_entry **out, size_t *n,
    struct failure *f);
void queue_list_free(struct queue_entry *v, size_t n);

/*
 * Parse and check the text of an ID.env: "version 1" first, then one
 * "KEY VALUE" a line, each ending with LF; every value checked as the
 * command line and the configuration check it (addresses, DSN
 * parameters, BODY, account name), none holding a control byte.  An
 * `option` line holds one command-line word of a connection or session
 * setting (queue_route_of); it must name one of those options in full
 * and pass the command-line parser itself.
 * Returns 0, or -1 with e cleared and the reason in why.
 */
int queue_parse_envelope(const char *p, size_t n, struct queue_entry *e,
    char *why, size_t whylen);

/* Open ID.msg for reading: a regular file owned by us, not a symlink;
   else -1 with *f (FAIL_NOINPUT). */
int queue_open_message(const struct queue *q, const char *id,
    struct failure *f);

/* Rewrite the entry's .env (attempts, times, last error). */
int queue_update(const struct queue *q, const struct queue_entry *e,
    struct failure *f);

/* Remove the entry: .env first, so that it vanishes at once. */
int queue_remove(const struct queue *q, const char *id, struct failure *f);

/* Move the entry into failed/, with `reason` recorded in its .env. */
int queue_give_up(const struct queue *q, struct queue_entry *e,
    const char *reason, struct failure *f);

/* Take the flush lock without waiting; FAIL_TEMP when another flush
   holds it.  Returns the lock fd (close it to release). */
int queue_lock(const struct queue *q, struct failure *f);

/* The connection and session settings of o (parsed from the command line
   alone) as command-line words, appended to words: host, port, protocol,
   TLS mode, files (made absolute), fingerprint and priorities,
   verification off, user, mechanisms and their two switches. */
void queue_route_of(const struct options *o, struct strlist *words);

/* Parse an entry's route words into o, as a command line of their own
   would be.  FAIL_USAGE (a word queue_parse_envelope let through always
   parses). */
int queue_route_apply(const struct strlist *route, struct options *o,
    struct failure *f);

/* Seconds to wait after `attempts` failed tries: 5 min doubling to 4 h. */
time_t queue_backoff(int attempts);

#endif
