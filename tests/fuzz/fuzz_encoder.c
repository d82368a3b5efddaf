/*
 * fuzz_encoder.c: libFuzzer target for CRLF normalisation and
 * dot-stuffing (src/encoder.c).  THREATS (c) "Message pipeline", I07, I08.
 *
 * Input: 4 bytes of chunking seed, then the message bytes.  The message
 * goes through crlf_normalize and dot_stuff, each in its own pseudo-random
 * chunking (empty chunks included) with the output drained between calls
 * as a sender does, then crlf_finish and dot_finish.  Oracles:
 *   - the normalised bytes equal a one-shot reference normalisation;
 *   - un-stuffing the output (drop the final ".\r\n", then one leading dot
 *     per line) gives the normalised bytes back;
 *   - the output holds no bare CR and no bare LF;
 *   - "\r\n.\r\n" occurs only at the very end, and the output does not
 *     start with ".\r\n" (the CRLF of "DATA\r\n" precedes it on the wire).
 *
 * dict: encoder.dict
 *
 * clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *   $(pkg-config --cflags libbsd-overlay) -Isrc tests/fuzz/fuzz_encoder.c \
 *   src/encoder.c src/util.c $(pkg-config --libs libbsd-overlay)
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encoder.h"
#include "util.h"
#include "chunks.h"
#include "ref_crlf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stuff `in` into wire in random sub-chunks. */
static void
stuff_chunks(struct dot_state *ds, const char *in, size_t n, uint32_t *seed,
    size_t max, struct buf *wire)
{
	size_t p = 0;

	while (p < n) {
		size_t m = 1 + chunk_next(seed) % max;
		if (m > n - p)
			m = n - p;
		dot_stuff(ds, in + p, m, wire);
		p += m;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct crlf_state cs;
	struct dot_state ds;
	struct buf ref, norm, tmp, wire, back;
	const char *in;
	uint32_t seed;
	size_t n, pos = 0, max_in, max_stuff;

	if (size < 4)
		return 0;
	memcpy(&seed, data, 4);
	if (seed == 0)
		seed = 1;
	in = (const char *)data + 4;
	n = size - 4;
	max_in = 1 + (seed >> 8) % 257;
	max_stuff = 1 + (seed >> 20) % 67;

	buf_init(&ref);
	buf_init(&norm);
	buf_init(&tmp);
	buf_init(&wire);
	buf_init(&back);
	ref_normalize(in, n, &ref);

	crlf_init(&cs);
	dot_init(&ds);
	while (pos < n) {
		size_t k = chunk_next(&seed) % (max_in + 1);	/* 0 allowed */
		if (k > n - pos)
			k = n - pos;
		crlf_normalize(&cs, in + pos, k, &tmp);
		/* No bare LF or CR in what normalisation hands on. */
		for (size_t i = 0; i < tmp.len; i++)
			if ((tmp.data[i] == '\n' && (i == 0 ||
			    tmp.data[i - 1] != '\r')) || (tmp.data[i] == '\r' &&
			    (i + 1 == tmp.len || tmp.data[i + 1] != '\n')))
				abort();
		buf_add(&norm, tmp.data ? tmp.data : "", tmp.len);
		stuff_chunks(&ds, tmp.data, tmp.len, &seed, max_stuff, &wire);
		buf_reset(&tmp);
		pos += k;
	}
	crlf_finish(&cs, &tmp);
	buf_add(&norm, tmp.data ? tmp.data : "", tmp.len);
	stuff_chunks(&ds, tmp.data, tmp.len, &seed, max_stuff, &wire);
	dot_finish(&ds, &wire);

	if (norm.len != ref.len || memcmp(norm.data, ref.data, ref.len) != 0)
		abort();

	/* No bare CR or LF. */
	for (size_t i = 0; i < wire.len; i++) {
		if (wire.data[i] == '\r' && (i + 1 == wire.len ||
		    wire.data[i + 1] != '\n'))
			abort();
		if (wire.data[i] == '\n' && (i == 0 ||
		    wire.data[i - 1] != '\r'))
			abort();
	}
	/* The terminator exactly once, at the end. */
	if (wire.len < 5 || memcmp(wire.data + wire.len - 5, "\r\n.\r\n", 5))
		abort();
	if (memcmp(wire.data, ".\r\n", 3) == 0)
		abort();
	if (memmem(wire.data, wire.len, "\r\n.\r\n", 5) !=
	    wire.data + wire.len - 5)
		abort();

	/* Un-stuff and compare. */
	bool bol = true;
	for (size_t i = 0; i < wire.len - 3; i++) {
		if (bol && wire.data[i] == '.') {
			bol = false;
			continue;
		}
		buf_addc(&back, wire.data[i]);
		bol = wire.data[i] == '\n';
	}
	if (back.len != ref.len || memcmp(back.data, ref.data, ref.len) != 0)
		abort();
	/* Stuffing adds one byte per dot-line, and the terminator. */
	if (wire.len < ref.len + 3 || wire.len > ref.len + ref.len / 3 + 4)
		abort();

	buf_free(&ref);
	buf_free(&norm);
	buf_free(&tmp);
	buf_free(&wire);
	buf_free(&back);
	return 0;
}
