/*
 * encoder.h: the two streaming transformations a message goes through:
 * line-ending normalisation (every bare CR, bare LF and CRLF becomes CRLF,
 * RFC 5321 2.3.8) and dot-stuffing (RFC 5321 4.5.2).  Pure and streaming:
 * state carries across calls, so any chunking gives the same output.
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
};

void crlf_init(struct crlf_state *st);
/* Append the normalised form of in to out. */
void crlf_normalize(struct crlf_state *st, const char *in, size_t n,
    struct buf *out);
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

#endif
