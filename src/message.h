/*
 * message.h: the message as it will be transmitted.  It is read whole
 * before MAIL (so a failed read never produces a half-sent message, and
 * SIZE= is exact), CRLF-normalised on the way in, with the
 * header block in memory and the body in memory up to a small limit and
 * in an unlinked temporary file beyond it, so memory stays flat.
 */
#ifndef CARRIER_MESSAGE_H
#define CARRIER_MESSAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "report.h"
#include "util.h"

#define MESSAGE_HEADER_MAX	(1024 * 1024)	/* bytes of header block */
#define MESSAGE_MEMORY_MAX	(256 * 1024)	/* body bytes kept in memory */
#define MESSAGE_DOTS_MAX	64	/* body lines starting with a dot, listed */

struct message {
	struct buf head;	/* header fields, CRLF-normalised */
	struct buf body;	/* the rest, while it is small */
	int spool_fd;		/* -1, or the body in an unlinked file or,
				   read as it is, in the input file */
	off_t spool_off;	/* where the body starts in spool_fd */
	uint64_t body_len;
	/* Read as it is: what the check saw of the input file, compared
	   again when the body is sent (someone else may write to it). */
	bool as_is;
	off_t file_size;
	struct timespec file_mtime;
	unsigned char digest[32];	/* SHA-256 of the body */
	/* Where the body's lines that start with a dot start (offsets in
	   the body), while there are at most MESSAGE_DOTS_MAX; and how the
	   body placed so far ends. */
	uint64_t dots[MESSAGE_DOTS_MAX];
	size_t n_dots;
	bool body_at_bol;	/* empty, or ends with LF */
	bool eightbit;		/* a byte >= 0x80 somewhere */
	bool long_lines;	/* a line over 998 octets */
};

struct read_rules {
	bool lone_dot_ends;	/* sendmail without -i: "." line ends input */
};

/*
 * Read the whole message from fd.  Removes a leading mbox "From " line.
 * A large regular file that is already in transmission form (CRLF line
 * ends only, no NUL, no "From " line, a final CRLF) is not copied: its
 * body is read from the file itself when the message is sent, and only
 * the bytes that were checked: see message_each_chunk.
 * Errors: FAIL_DATAERR (a NUL byte; a header block larger than
 * MESSAGE_HEADER_MAX), FAIL_NOINPUT (a read error), FAIL_OSERR (the
 * temporary file cannot be created or written).
 */
int message_read(struct message *m, int fd, const struct read_rules *rules,
    struct failure *f);

/* Octets as transmitted (headers and body, before dot-stuffing). */
uint64_t message_size(const struct message *m);

/*
 * Call fn with the message bytes in order, in chunks of at most a few
 * hundred KiB.  fn returns 0 to go on, or -1 to stop (then this returns
 * -1).  Also -1 with *f set when the spool cannot be read (FAIL_OSERR),
 * or when a file read as it is changed since message_read checked it
 * (FAIL_NOINPUT): that is found before the last chunk, which is then
 * never passed to fn, so the message cannot be completed.
 */
int message_each_chunk(const struct message *m,
    int (*fn)(void *ctx, const char *p, size_t n), void *ctx,
    struct failure *f);

/*
 * The body lies in carrier's own spool file as it is to be sent (before
 * dot-stuffing): spool_fd from spool_off, body_len octets, ending with
 * CRLF, its dot lines listed in dots[], after a header block that ends
 * with LF.  Nobody else can write to the spool, so the kernel may send
 * from it (sendfile(2)) with no check of its own; a file read as it is
 * (as_is) is someone else's and never qualifies: its bytes go through
 * the checks of message_each_chunk.
 */
bool message_spooled(const struct message *m);

void message_init(struct message *m);
void message_free(struct message *m);

#endif
