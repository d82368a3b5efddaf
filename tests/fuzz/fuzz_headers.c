/*
 * fuzz_headers.c: libFuzzer target for src/headers.c: headers_block_len,
 * headers_each, headers_values, headers_count and headers_remove.
 * THREATS (c) "Header parser for -t ... Bcc/Resent-* logic", I11, B12.
 *
 * Input: a header block (and whatever follows it).  Oracles:
 *   - headers_block_len: within the input, ends after a LF; when complete
 *     the line there is a whole line that is no field and no continuation;
 *     when not complete the rest holds no LF; the block read again is the
 *     same block, still not complete;
 *   - headers_count(name) == the fields headers_each sees with that name ==
 *     the values headers_values appends;
 *   - headers_remove(name) removes exactly those fields: the result is the
 *     other fields, in order, byte for byte; headers_count(name) is then 0;
 *     for Bcc, Resent-Bcc and the first field's own name, on the block and
 *     on the whole input.
 *
 * dict: headers.dict
 *
 * clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *   $(pkg-config --cflags libbsd-overlay) -Isrc tests/fuzz/fuzz_headers.c \
 *   src/headers.c src/util.c $(pkg-config --libs libbsd-overlay)
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "headers.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Length of the name of a "name:" or obsolete "name :" line, or 0: the
   rule headers.h states. */
static size_t
name_len(const char *s, size_t len)
{
	size_t i, n;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == ':' || c == ' ' || c == '\t')
			break;
		if (c < 33 || c > 126)
			return 0;
	}
	n = i;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return n > 0 && i < len && s[i] == ':' ? n : 0;
}

struct walk {
	const char *name;
	size_t matches;
	size_t fields;
	size_t last_end;
	struct buf kept;	/* fields not named `name` */
};

static bool
walk_fn(void *ctx, const char *h, const struct header_field *f)
{
	struct walk *w = ctx;

	if (f->start != w->last_end || f->end <= f->start ||
	    f->value_start > f->end || f->name_len == 0 ||
	    f->value_start < f->start + f->name_len + 1 ||
	    h[f->value_start - 1] != ':' ||
	    name_len(h + f->start, f->end - f->start) != f->name_len)
		abort();
	/* Only blanks between the name and the colon. */
	for (size_t i = f->start + f->name_len; i < f->value_start - 1; i++)
		if (h[i] != ' ' && h[i] != '\t')
			abort();
	w->last_end = f->end;
	w->fields++;
	if (header_is(h, f, w->name))
		w->matches++;
	else
		buf_add(&w->kept, h + f->start, f->end - f->start);
	return true;
}

static void
check_name(const char *h, size_t len, const char *name)
{
	struct walk w = { name, 0, 0, 0, { 0 } };
	struct strlist vals = { 0 };
	struct buf b;

	headers_each(h, len, walk_fn, &w);
	if (headers_count(h, len, name) != w.matches)
		abort();
	headers_values(h, len, name, &vals);
	if (vals.n != w.matches)
		abort();
	strlist_free(&vals);

	buf_init(&b);
	buf_add(&b, h, len);
	size_t removed = headers_remove(&b, name);
	if (removed != w.matches)
		abort();
	if (headers_count(b.data, b.len, name) != 0)
		abort();
	/* Exactly the other fields are left, then whatever followed the
	   fields (headers_each stops where headers_remove stops). */
	size_t tail = len - w.last_end;
	if (b.len != w.kept.len + tail ||
	    (w.kept.len && memcmp(b.data, w.kept.data, w.kept.len) != 0) ||
	    (tail && memcmp(b.data + w.kept.len, h + w.last_end, tail) != 0))
		abort();
	if (b.data != NULL && b.data[b.len] != '\0')
		abort();
	buf_free(&b);
	buf_free(&w.kept);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data;
	bool complete;
	size_t hl = headers_block_len(d, size, false, &complete);

	if (hl > size || (hl > 0 && d[hl - 1] != '\n'))
		abort();
	if (complete) {
		/* The line at hl is whole and neither a field nor a
		   continuation. */
		const char *nl = memchr(d + hl, '\n', size - hl);
		if (hl == size || nl == NULL)
			abort();
		size_t ll = (size_t)(nl - (d + hl)) + 1;
		if (name_len(d + hl, ll) != 0)
			abort();
		if (hl > 0 && (d[hl] == ' ' || d[hl] == '\t'))
			abort();
	} else if (memchr(d + hl, '\n', size - hl) != NULL)
		abort();

	/* The block alone is all header lines. */
	bool c2;
	if (headers_block_len(d, hl, false, &c2) != hl || c2)
		abort();

	/* Read in two pieces, the second `continuing` once a field was
	   counted, the block is the same as read whole. */
	size_t cuts[3] = { size / 3, size - size / 3, size ? data[0] %
	    (size + 1) : 0 };
	for (int i = 0; i < 3; i++) {
		bool ca, cb = false;
		size_t a = headers_block_len(d, cuts[i], false, &ca), b = 0;
		if (!ca)
			b = headers_block_len(d + a, size - a, a > 0, &cb);
		if (a + b != hl || (ca || cb) != complete)
			abort();
	}

	/* Every line of the block is a field or a continuation. */
	for (size_t pos = 0; pos < hl;) {
		const char *nl = memchr(d + pos, '\n', hl - pos);
		size_t ll = (size_t)(nl - (d + pos)) + 1;
		if (name_len(d + pos, ll) == 0 && !(pos > 0 &&
		    (d[pos] == ' ' || d[pos] == '\t')))
			abort();
		pos += ll;
	}

	check_name(d, hl, "Bcc");
	check_name(d, hl, "Resent-Bcc");
	check_name(d, size, "Bcc");
	size_t nl0 = name_len(d, hl);
	if (nl0 > 0) {
		char *first = xstrndup(d, nl0);
		check_name(d, hl, first);
		free(first);
	}
	return 0;
}
