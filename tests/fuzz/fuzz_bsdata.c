/*
 * fuzz_bsdata.c: libFuzzer target for the strict reader of a client's
 * message data, data_unstuff (src/encoder.c), which sendmail -bs uses
 * between DATA's 354 and the end of the data.  THREATS I18 (SMTP
 * smuggling: only CRLF "." CRLF may end the data).
 *
 * Input: 4 bytes of chunking seed, then the bytes the client sends after
 * the 354.  They are read once in one piece and once in pseudo-random
 * chunks (sizes from the seed); both must give the same status, the same
 * count of bytes taken and the same message.  Oracles:
 *   - the message holds CRLF line ends only, no bare CR or LF;
 *   - DATA_END only just after CRLF "." CRLF (the CRLF that ended the DATA
 *     command counting as the first), and at the first such place; the
 *     message then ends with CRLF or is empty;
 *   - DATA_MORE takes every byte, and there is no CRLF "." CRLF in them;
 *   - DATA_BARE_LF / DATA_BARE_CR: the last byte taken is the LF without
 *     a CR before it, or the byte after a CR that is not an LF;
 *   - a message read to its end, dot-stuffed again and terminated, reads
 *     back as itself.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encoder.h"
#include "util.h"
#include "chunks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* max == 0: one piece. */
static enum data_status
read_all(const char *d, size_t len, uint32_t seed, size_t max,
    struct buf *out, size_t *used)
{
	struct data_state st;
	enum data_status ds = DATA_MORE;
	size_t pos = 0;

	data_init(&st);
	buf_init(out);
	while (pos < len && ds == DATA_MORE) {
		size_t chunk = max == 0 ? len - pos :
		    1 + chunk_next(&seed) % max;
		if (chunk > len - pos)
			chunk = len - pos;
		size_t took;
		ds = data_unstuff(&st, d + pos, chunk, out, &took);
		if (took > chunk || took == 0 || (ds == DATA_MORE &&
		    took != chunk))
			abort();
		pos += took;
	}
	*used = pos;
	return ds;
}

/* Where the first CRLF "." CRLF of "\r\n" + d[0..n) ends in d, or 0. */
static size_t
first_end(const char *d, size_t n)
{
	/* ".\r\n" ends at d[i], after the DATA line's CRLF or one of d. */
	for (size_t i = 2; i < n; i++)
		if (memcmp(d + i - 2, ".\r\n", 3) == 0 && (i == 2 ||
		    (i >= 4 && memcmp(d + i - 4, "\r\n", 2) == 0)))
			return i + 1;
	return 0;
}

static void
crlf_only(const struct buf *b)
{
	for (size_t i = 0; i < b->len; i++) {
		if (b->data[i] == '\n' && (i == 0 || b->data[i - 1] != '\r'))
			abort();
		if (b->data[i] == '\r' && (i + 1 == b->len ||
		    b->data[i + 1] != '\n'))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a, b;
	size_t ua, ub;
	uint32_t seed;

	if (!chunk_seed(&data, &size, &seed))
		return 0;
	const char *d = (const char *)data;

	enum data_status sa = read_all(d, size, 0, 0, &a, &ua);
	enum data_status sb = read_all(d, size, seed, 1 + (seed >> 24) % 64,
	    &b, &ub);
	if (sa != sb || ua != ub || a.len != b.len || (a.len > 0 &&
	    memcmp(a.data, b.data, a.len) != 0))
		abort();
	crlf_only(&a);
	size_t end = first_end(d, ua);
	switch (sa) {
	case DATA_END:
		if (end != ua)
			abort();
		if (a.len > 0 && (a.len < 2 || a.data[a.len - 1] != '\n'))
			abort();
		break;
	case DATA_MORE:
		if (ua != size || end != 0)
			abort();
		break;
	case DATA_BARE_LF:
		if (end != 0 || ua == 0 || d[ua - 1] != '\n' || (ua >= 2 &&
		    d[ua - 2] == '\r'))
			abort();
		break;
	case DATA_BARE_CR:
		if (end != 0 || ua < 2 || d[ua - 2] != '\r' || d[ua - 1] ==
		    '\n')
			abort();
		break;
	default:
		abort();
	}
	if (sa == DATA_END) {
		/* Stuffed again and terminated: reads back as itself. */
		struct dot_state st;
		struct buf wire, back;
		size_t used;
		buf_init(&wire);
		dot_init(&st);
		dot_stuff(&st, a.data ? a.data : "", a.len, &wire);
		dot_finish(&st, &wire);
		if (read_all(wire.data, wire.len, seed, 7, &back, &used) !=
		    DATA_END || used != wire.len || back.len != a.len ||
		    (a.len > 0 && memcmp(back.data, a.data, a.len) != 0))
			abort();
		buf_free(&wire);
		buf_free(&back);
	}
	buf_free(&a);
	buf_free(&b);
	return 0;
}
