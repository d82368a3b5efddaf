/*
 * headers.h: the header block of a message (RFC 5322 2.2), CRLF-normalised
 * and held in memory.  Pure: lookups and edits over bytes.
 */
#ifndef CARRIER_HEADERS_H
#define CARRIER_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* One field: [start, end) covers the name, the colon, the value and its
 * continuation lines, and the final CRLF. */
struct header_field {
	size_t start, end;
	size_t name_len;
	size_t value_start;	/* first byte after the colon */
};

/*
 * Length of the header block at the start of data: complete lines that are
 * fields ("name:" with name made of printable ASCII other than ':') or
 * continuations (starting with SP or HT after a field).  The block ends
 * before the first other line (an empty line normally).  `complete` says
 * whether that ending line was seen; when it is false all of data was
 * header lines and more input may extend the block.  A partial last line
 * (no LF) is never counted.  `continuing`: data follows a field already
 * counted, so a leading continuation line belongs to it.
 * The obsolete syntax of RFC 5322 4.5 allows blanks before the colon
 * ("Bcc :"); the name never includes them.
 */
size_t headers_block_len(const char *data, size_t len, bool continuing,
    bool *complete);

/* Call fn for each field of a header block, in order; stop when fn
 * returns false. */
void headers_each(const char *h, size_t len,
    bool (*fn)(void *ctx, const char *h, const struct header_field *f),
    void *ctx);

/* True when the field's name is `name`, case-insensitively. */
bool header_is(const char *h, const struct header_field *f, const char *name);

/* Append the raw value (continuation lines included, final CRLF
 * excluded) of every field named `name` to out, in order. */
void headers_values(const char *h, size_t len, const char *name,
    struct strlist *out);

/* Number of fields named `name`. */
size_t headers_count(const char *h, size_t len, const char *name);

/* Remove every field named `name` (with its continuation lines) from b. */
size_t headers_remove(struct buf *b, const char *name);

#endif
