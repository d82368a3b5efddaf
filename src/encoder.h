/*
 * encoder.h: the two streaming transformations a message goes through:
 * line-ending normalisation (every bare CR, bare LF and CRLF becomes CRLF,
 * RFC 5321 2.3.8) and dot-stuffing (RFC 5321 4.5.2); and their strict
 * inverse for data that a local client sends (sendmail -bs).  Pure and
 * streaming: state carries across calls, so any chunking gives the same
 * output.
 */
#ifndef CARRIER_ENCODER_H
#define CARRIER_ENCODER_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct crlf_state {
	bool pending_cr;	/* last chunk ended with CR */
	bool at_line_start;	/* nothing yet, or the output ends in CRLF */
	bool empty;		/* no byte seen yet */
	size_t line_len;	/* octets of the output's unfinished line */
	size_t longest;		/* the longest finished line, CRLF excluded */
};

void crlf_init(struct crlf_state *st);
/* Append the normalised form of in to out. */
void crlf_normalize(struct crlf_state *st, const char *in, size_t n,
    struct buf *out);
/* The same into out, which has room for 2 n + 2 octets (every byte a bare
 * LF); returns the octets written.  One pass, for large inputs. */
size_t crlf_normalize_into(struct crlf_state *st, const char *in, size_t n,
    char *out);
/* End of input: complete a pending CR and make sure the output ends with
 * CRLF (an empty input becomes CRLF, as smtplib sends it). */
void crlf_finish(struct crlf_state *st, struct buf *out);

struct dot_state {
	bool at_line_start;
};

void dot_init(struct dot_state *st);
/* Append in, CRLF-normalised already, to out with every line that starts
 * with '.' given one more. */
void dot_stuff(struct dot_state *st, const char *in, size_t n,
    struct buf *out);
/* Append the end-of-data terminator: CRLF first when the data did not end
 * with one, then ".\r\n". */
void dot_finish(struct dot_state *st, struct buf *out);

/*
 * The data a client sends after DATA's 354, read strictly (RFC 5321
 * 2.3.8, 4.1.1.4): only CRLF "." CRLF ends it (the CRLF that ended the
 * DATA command counts as the first), a leading dot of a line is removed,
 * and a CR or LF that is not part of a CRLF is an error, never a line end
 * (a server that took "\n.\n" as the end lets a client smuggle a second
 * transaction inside the first one's data).
 */
enum data_status {
	DATA_MORE,		/* every byte taken; the end is still to come */
	DATA_END,		/* the end: *used counts through its CRLF */
	DATA_BARE_LF,		/* an LF without CR before it */
	DATA_BARE_CR,		/* a CR without LF after it */
};

struct data_state {
	enum { DS_LINE, DS_DOT, DS_DOT_CR, DS_MID, DS_CR } at;
};

void data_init(struct data_state *st);
/* Take bytes of in, appending the un-stuffed message to out, CRLF line
 * ends only.  *used is how many were taken: n with DATA_MORE, through the
 * end with DATA_END (what follows is the client's next command), through
 * the offending byte with an error.  After an error or the end, feeding
 * more is a caller's bug; data_init starts over. */
enum data_status data_unstuff(struct data_state *st, const char *in,
    size_t n, struct buf *out, size_t *used);

#endif
