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
#include "report.h"
#include "util.h"

struct queue_entry {
	char id[64];
	char *sender;
	struct strlist recipients;
	char *account;			/* NULL: none */
	char *dsn_notify, *dsn_return, *dsn_envid, *body_type;
	int attempts;
	time_t first, last, next;	/* first queued, last try, next try */
	char *last_error;
};

void queue_entry_free(struct queue_entry *e);

/* $XDG_STATE_HOME/carrier/queue, ~/.local/state/carrier/queue, or for
   root /var/spool/carrier. */
char *queue_default_dir(void);

/* Add the message under a new id (copied into e->id).  Creates the
   directory (0700) when missing.  FAIL_OSERR on any write failure. */
int queue_add(const char *dir, struct queue_entry *e, const struct message *m,
    struct failure *f);

/* The entries, oldest first.  A directory that does not exist is an
   empty queue.  Entries whose .env cannot be parsed are skipped. */
int queue_list(const char *dir, struct queue_entry **out, size_t *n,
    struct failure *f);
void queue_list_free(struct queue_entry *v, size_t n);

/* Open ID.msg for reading; returns the fd or -1 with *f. */
int queue_open_message(const char *dir, const char *id, struct failure *f);

/* Rewrite the entry's .env (attempts, times, last error). */
int queue_update(const char *dir, const struct queue_entry *e,
    struct failure *f);

/* Remove the entry: .env first, so that it vanishes at once. */
int queue_remove(const char *dir, const char *id, struct failure *f);

/* Move the entry into failed/, with `reason` recorded in its .env. */
int queue_give_up(const char *dir, struct queue_entry *e, const char *reason,
    struct failure *f);

/* Take the flush lock without waiting; FAIL_TEMP when another flush
   holds it.  Returns the lock fd (close it to release). */
int queue_lock(const char *dir, struct failure *f);

/* Seconds to wait after `attempts` failed tries: 5 min doubling to 4 h. */
time_t queue_backoff(int attempts);

#endif
