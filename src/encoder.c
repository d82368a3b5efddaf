/* encoder.c: CRLF normalisation and dot-stuffing, single pass each. */
#include <string.h>

#include "encoder.h"

void
crlf_init(struct crlf_state *st)
{
	st->pending_cr = false;
	st->at_line_start = true;
	st->empty = true;
}

void
crlf_normalize(struct crlf_state *st, const char *in, size_t n,
    struct buf *out)
{
	size_t i = 0, run;

	/* Worst case every byte is a bare LF and doubles. */
	buf_reserve(out, n * 2 + 2);
	if (n > 0)
		st->empty = false;
	if (st->pending_cr && n > 0) {
		buf_add(out, "\r\n", 2);
		st->pending_cr = false;
		st->at_line_start = true;
		if (in[0] == '\n')
			i = 1;
	}
	/* The next LF and CR at or after i, found by memchr and kept until
	   passed, so that runs of either stay linear. */
	size_t lf = 0, cr = 0;
	bool lf_known = false, cr_known = false;
	while (i < n) {
		if (!lf_known || lf < i) {
			const char *p = memchr(in + i, '\n', n - i);
			lf = p ? (size_t)(p - in) : n;
			lf_known = true;
		}
		if (!cr_known || cr < i) {
			const char *p = memchr(in + i, '\r', n - i);
			cr = p ? (size_t)(p - in) : n;
			cr_known = true;
		}
		run = lf < cr ? lf : cr;
		if (run > i) {
			buf_add(out, in + i, run - i);
			st->at_line_start = false;
			i = run;
			continue;
		}
		if (in[i] == '\r') {
			if (i + 1 == n) {
				st->pending_cr = true;
				i++;
				break;
			}
			i += in[i + 1] == '\n' ? 2 : 1;
		} else
			i++;
		buf_add(out, "\r\n", 2);
		st->at_line_start = true;
	}
}

void
crlf_finish(struct crlf_state *st, struct buf *out)
{
	/* The state, not `out`, tells how the data ended: callers drain
	   `out` between calls. */
	if (st->pending_cr || !st->at_line_start || st->empty)
		buf_add(out, "\r\n", 2);
	st->pending_cr = false;
	st->at_line_start = true;
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
