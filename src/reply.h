/*
 * reply.h: SMTP replies and EHLO capabilities, parsed from bytes.
 * Pure: no I/O, no globals.  Everything here is fed untrusted bytes.
 */
#ifndef CARRIER_REPLY_H
#define CARRIER_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define REPLY_MAX_LINE	8192	/* octets per line, terminator excluded */
#define REPLY_MAX_LINES	1000	/* lines per reply */

struct reply {
	int code;		/* 200..599 */
	char enhanced[16];	/* RFC 3463 "x.y.z" from the first line, or "" */
	struct buf text;	/* each line's text after "NNN-", joined by '\n' */
	size_t nlines;
};

/* RFC 5321 4.2.1: the first digit says what a reply means. */
static inline bool reply_positive(const struct reply *r)
{
	return r->code >= 200 && r->code <= 299;
}
static inline bool reply_transient(const struct reply *r)
{
	return r->code >= 400 && r->code <= 499;
}

void reply_init(struct reply *r);
void reply_free(struct reply *r);
/* The text with lines joined by single spaces, for one-line messages. */
char *reply_oneline(const struct reply *r);

enum reader_state { READER_MORE, READER_DONE, READER_ERROR };

/*
 * An incremental reply reader.  Feed it bytes in any chunking; it consumes
 * at most up to the end of one reply and says how much it took, so bytes
 * that follow a reply (pipelined replies, or bytes injected after a
 * STARTTLS 220) stay with the caller.
 *
 * Lines end with CRLF or a bare LF; a bare CR is an ordinary byte.
 * Errors: a line that is not "NNN", "NNN " or "NNN-" followed by text, a
 * code outside 200..599, continuation lines with different codes, a line
 * longer than REPLY_MAX_LINE or more than REPLY_MAX_LINES lines.
 */
struct reply_reader {
	enum reader_state state;
	struct buf line;	/* the partial line carried between feeds */
	struct reply reply;	/* valid when state == READER_DONE */
	char err[128];		/* valid when state == READER_ERROR */
};

void reply_reader_init(struct reply_reader *rr);
/* Start reading the next reply (after DONE); keeps nothing. */
void reply_reader_reset(struct reply_reader *rr);
void reply_reader_free(struct reply_reader *rr);
/* Returns the number of bytes consumed from data. */
size_t reply_reader_feed(struct reply_reader *rr, const char *data, size_t len);
/* Move the finished reply out to *out (which must be initialised). */
void reply_reader_take(struct reply_reader *rr, struct reply *out);

/* Parse one complete reply from a buffer; returns 0 and fills *out, or -1
 * with err (also when the buffer holds less or more than one reply). */
int reply_parse(const char *data, size_t len, struct reply *out,
    char *err, size_t errlen);

/* Parse an RFC 3463 enhanced status code at the start of text; copies it
 * into out (size >= 16) and returns its length, or 0 when there is none. */
size_t enhanced_code_parse(const char *text, size_t len, char out[16]);

/*
 * EHLO capabilities: keyword (upper-cased) and its parameters.
 * The first line of the EHLO reply is the server's name, never a keyword.
 */
struct capability {
	char *keyword;
	char *params;		/* "" when none */
};
struct capabilities {
	struct capability *v;
	size_t n;
	bool esmtp;		/* EHLO/LHLO succeeded */
	uint64_t size;		/* SIZE limit, 0 when none or unlimited */
	bool size_offered;
};

void caps_parse(const struct reply *ehlo, struct capabilities *c);
void caps_free(struct capabilities *c);
bool caps_has(const struct capabilities *c, const char *keyword);
/* Parameters of a keyword or NULL. */
const char *caps_params(const struct capabilities *c, const char *keyword);
/* True when AUTH (or the obsolete AUTH=) lists mech, case-insensitively. */
bool caps_has_auth(const struct capabilities *c, const char *mech);

#endif
