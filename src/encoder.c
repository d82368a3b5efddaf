/* encoder.c: CRLF normalisation and dot-stuffing, single pass each. */
#include <string.h>

#include "encoder.h"

void
crlf_init(struct crlf_state *st)
{
	st->pending_cr = false;
	st->at_line_start = true;
	st->empty = true;
	st->line_len = 0;
	st->longest = 0;
}

/* Write a line end and measure the line it ends. */
static char *
line_end(struct crlf_state *st, char *o)
{
	*o++ = '\r';
	*o++ = '\n';
	if (st->line_len > st->longest)
		st->longest = st->line_len;
	st->line_len = 0;
	st->at_line_start = true;
	return o;
}

/* Where the next c is at or after i, or n. */
static size_t
next_of(const char *in, size_t i, size_t n, char c)
{
	const char *p = memchr(in + i, c, n - i);

	return p ? (size_t)(p - in) : n;
}

size_t
crlf_normalize_into(struct crlf_state *st, const char *in, size_t n,
    char *out)
{
	char *o = out;
	size_t i = 0;

	if (n == 0)
		return 0;
	st->empty = false;
	if (st->pending_cr) {
		o = line_end(st, o);
		st->pending_cr = false;
		if (in[0] == '\n')
			i = 1;
	}
	/* The next CR and LF, each found once and kept until passed: in
	   LF text a line costs one memchr (there is no CR) and one memcpy,
	   and runs of either stay linear. */
	size_t cr = next_of(in, i, n, '\r'), lf = next_of(in, i, n, '\n');
	while (i < n) {
		if (cr < i)
			cr = next_of(in, i, n, '\r');
		if (lf < i)
			lf = next_of(in, i, n, '\n');
		size_t run = lf < cr ? lf : cr;
		if (run > i) {
			memcpy(o, in + i, run - i);
			o += run - i;
			st->line_len += run - i;
			st->at_line_start = false;
			i = run;
		}
		if (i == n)
			break;
		if (in[i] == '\r') {
			if (i + 1 == n) {
				st->pending_cr = true;
				break;
			}
			i += in[i + 1] == '\n' ? 2 : 1;
		} else
			i++;
		o = line_end(st, o);
	}
	return (size_t)(o - out);
}

void
crlf_normalize(struct crlf_state *st, const char *in, size_t n,
    struct buf *out)
{
	buf_reserve(out, n * 2 + 2);
	out->len += crlf_normalize_into(st, in, n, out->data + out->len);
}

void
crlf_finish(struct crlf_state *st, struct buf *out)
{
	/* The state, not `out`, tells how the data ended: callers drain
	   `out` between calls. */
	if (st->pending_cr || !st->at_line_start || st->empty) {
		buf_reserve(out, 2);
		out->len += (size_t)(line_end(st, out->data + out->len) -
		    (out->data + out->len));
	}
	st->pending_cr = false;
	st->empty = false;
}

void
dot_init(struct dot_state *st)
{
	st->at_line_start = true;
}

void
dot_stuff(struct dot_state *st, const char *in, size_t n, struct buf *out)
{
	size_t i = 0;

	buf_reserve(out, n + n / 64 + 2);
	while (i < n) {
		if (st->at_line_start && in[i] == '.')
			buf_addc(out, '.');
		const char *nl = memchr(in + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - in) + 1 : n;
		buf_add(out, in + i, end - i);
		st->at_line_start = nl != NULL;
		i = end;
	}
}

void
dot_finish(struct dot_state *st, struct buf *out)
{
	if (!st->at_line_start)
		buf_add(out, "\r\n", 2);
	buf_add(out, ".\r\n", 3);
	st->at_line_start = true;
}

void
data_init(struct data_state *st)
{
	st->at = DS_LINE;
}

enum data_status
data_unstuff(struct data_state *st, const char *in, size_t n,
    struct buf *out, size_t *used)
{
	size_t i = 0;
	enum data_status rc = DATA_MORE;

	buf_reserve(out, n + 2);
	while (i < n && rc == DATA_MORE) {
		char c = in[i++];
		switch (st->at) {
		case DS_LINE:
		case DS_DOT:
			if (st->at == DS_LINE && c == '.') {
				st->at = DS_DOT;	/* stuffed, or the end */
				break;
			}
			if (c == '\r') {
				st->at = st->at == DS_DOT ? DS_DOT_CR : DS_CR;
				break;
			}
			/* FALLTHROUGH */
		case DS_MID:
			if (c == '\n')
				rc = DATA_BARE_LF;
			else if (c == '\r')
				st->at = DS_CR;
			else {
				/* The rest of the line at once. */
				const char *e = in + i;
				while (e < in + n && *e != '\r' && *e != '\n')
					e++;
				buf_addc(out, c);
				buf_add(out, in + i, (size_t)(e - (in + i)));
				i = (size_t)(e - in);
				st->at = DS_MID;
			}
			break;
		case DS_DOT_CR:
		case DS_CR:
			if (c != '\n')
				rc = DATA_BARE_CR;
			else if (st->at == DS_DOT_CR)
				rc = DATA_END;
			else {
				buf_add(out, "\r\n", 2);
				st->at = DS_LINE;
			}
			break;
		}
	}
	*used = i;
	return rc;
}
