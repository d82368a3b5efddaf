/*
 * test_encoder.c: CRLF normalisation and dot-stuffing (src/encoder.c).
 *
 * Both transformations are checked against a simple one-shot reference
 * (ref_normalize, ref_stuff) for every string over {a, CR, LF, .} up to a
 * few bytes, in every chunking, then by a property test over pseudo-random
 * inputs: normalise + stuff in random chunkings, un-stuff, compare with the
 * normalised input; the output never holds a bare CR or LF, and "\r\n.\r\n"
 * (counting the CRLF that ends the DATA command) only at its very end.
 * The strict reader of a client's data (data_unstuff, sendmail -bs) is
 * checked against a line-by-line statement of its rule for every string
 * over {a, ., CR, LF} up to 7 bytes in every chunking, and reads back
 * what the sender side writes.
 * THREATS I07, I08, I18, B11, R04.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "encoder.h"
#include "util.h"

/* Bytes made printable for a diagnostic line. */
static const char *
esc(const char *p, size_t n)
{
	static char out[4][600];
	static int which;
	char *o = out[which = (which + 1) % 4];
	size_t j = 0;

	for (size_t i = 0; p != NULL && i < n && j + 5 < sizeof out[0]; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\r')
			j += (size_t)snprintf(o + j, 5, "\\r");
		else if (c == '\n')
			j += (size_t)snprintf(o + j, 5, "\\n");
		else if (c >= 0x20 && c < 0x7f && c != '\\')
			o[j++] = (char)c;
		else
			j += (size_t)snprintf(o + j, 5, "\\x%02x", c);
	}
	o[j] = '\0';
	return o;
}

static bool
buf_eq(const struct buf *b, const char *p, size_t n)
{
	return b->len == n && (n == 0 || memcmp(b->data, p, n) == 0);
}

/* --- references --- */

/* Every CRLF, bare CR and bare LF becomes CRLF; the result ends with CRLF
   (an empty input becomes CRLF). */
static void
ref_normalize(const char *in, size_t n, struct buf *out)
{
	buf_init(out);
	for (size_t i = 0; i < n; i++) {
		if (in[i] == '\r') {
			if (i + 1 < n && in[i + 1] == '\n')
				i++;
			buf_add(out, "\r\n", 2);
		} else if (in[i] == '\n')
			buf_add(out, "\r\n", 2);
		else
			buf_addc(out, in[i]);
	}
	if (out->len < 2 || memcmp(out->data + out->len - 2, "\r\n", 2) != 0)
		buf_add(out, "\r\n", 2);
}

/* One more '.' before every line that starts with '.', then the
   terminator (CRLF first when needed). */
static void
ref_stuff(const char *in, size_t n, struct buf *out)
{
	bool bol = true;

	buf_init(out);
	for (size_t i = 0; i < n; i++) {
		if (bol && in[i] == '.')
			buf_addc(out, '.');
		buf_addc(out, in[i]);
		bol = in[i] == '\n';
	}
	if (!bol)
		buf_add(out, "\r\n", 2);
	buf_add(out, ".\r\n", 3);
}

/* The receiver's side: drop the terminator, then one leading '.' per
   line.  Returns false when there is no terminator at the end. */
static bool
unstuff(const char *in, size_t n, struct buf *out)
{
	bool bol = true;

	buf_init(out);
	if (n < 3 || memcmp(in + n - 3, ".\r\n", 3) != 0)
		return false;
	n -= 3;
	for (size_t i = 0; i < n; i++) {
		if (bol && in[i] == '.') {
			bol = false;
			continue;
		}
		buf_addc(out, in[i]);
		bol = in[i] == '\n';
	}
	return true;
}

/* --- the code under test, driven by a split mask or random chunks --- */

/* Bit i of mask set: cut after byte i. */
static void
normalize_mask(const char *in, size_t n, unsigned mask, bool finish,
    struct buf *out)
{
	struct crlf_state st;
	size_t start = 0;

	buf_init(out);
	crlf_init(&st);
	for (size_t i = 0; i < n; i++)
		if (i + 1 == n || (mask >> i & 1)) {
			crlf_normalize(&st, in + start, i + 1 - start, out);
			start = i + 1;
		}
	if (finish)
		crlf_finish(&st, out);
}

static void
stuff_mask(const char *in, size_t n, unsigned mask, struct buf *out)
{
	struct dot_state st;
	size_t start = 0;

	buf_init(out);
	dot_init(&st);
	for (size_t i = 0; i < n; i++)
		if (i + 1 == n || (mask >> i & 1)) {
			dot_stuff(&st, in + start, i + 1 - start, out);
			start = i + 1;
		}
	dot_finish(&st, out);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t
rng(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* Both stages, each in its own random chunking, output drained into
   `wire` as a sender would. */
static void
pipeline_random(const char *in, size_t n, struct buf *norm, struct buf *wire)
{
	struct crlf_state cs;
	struct dot_state ds;
	struct buf tmp;
	size_t pos = 0;

	buf_init(norm);
	buf_init(wire);
	buf_init(&tmp);
	crlf_init(&cs);
	dot_init(&ds);
	for (;;) {
		size_t k = pos < n ? 1 + (size_t)(rng() % 17) : 0;
		if (rng() % 8 == 0)
			k = 0;		/* empty chunks are allowed too */
		if (k > n - pos)
			k = n - pos;
		if (pos == n)
			crlf_finish(&cs, &tmp);
		else
			crlf_normalize(&cs, in + pos, k, &tmp);
		buf_add(norm, tmp.data ? tmp.data : "", tmp.len);
		/* stuff tmp in its own chunks */
		size_t p = 0;
		while (p < tmp.len) {
			size_t m = 1 + (size_t)(rng() % 9);
			if (m > tmp.len - p)
				m = tmp.len - p;
			dot_stuff(&ds, tmp.data + p, m, wire);
			p += m;
		}
		buf_reset(&tmp);
		if (pos == n)
			break;
		pos += k;
	}
	dot_finish(&ds, wire);
	buf_free(&tmp);
}

/* The output as a server reads it after "DATA\r\n": no bare CR or LF,
   and the end-of-data sequence only at the very end. */
static const char *
wire_problem(const struct buf *w)
{
	for (size_t i = 0; i < w->len; i++) {
		if (w->data[i] == '\r' && (i + 1 == w->len ||
		    w->data[i + 1] != '\n'))
			return "bare CR";
		if (w->data[i] == '\n' && (i == 0 || w->data[i - 1] != '\r'))
			return "bare LF";
	}
	if (w->len < 5 || memcmp(w->data + w->len - 5, "\r\n.\r\n", 5) != 0)
		return "does not end with CRLF.CRLF";
	if (w->len >= 3 && memcmp(w->data, ".\r\n", 3) == 0)
		return "terminator at the start";
	const char *p = memmem(w->data, w->len, "\r\n.\r\n", 5);
	if (p != w->data + w->len - 5)
		return "terminator before the end";
	return NULL;
}

/* --- tests --- */

struct ncase {
	const char *in;
	size_t len;
	const char *want;	/* after crlf_finish */
	size_t wlen;
};
#define NC(in, want) { in, sizeof(in) - 1, want, sizeof(want) - 1 }

static void
test_normalize_cases(void)
{
	static const struct ncase cases[] = {
		NC("", "\r\n"),
		NC("a", "a\r\n"),
		NC("a\n", "a\r\n"),
		NC("a\r", "a\r\n"),
		NC("a\r\n", "a\r\n"),
		NC("\r", "\r\n"),
		NC("\n", "\r\n"),
		NC("\r\n", "\r\n"),
		NC("\r\r", "\r\n\r\n"),
		NC("\n\n", "\r\n\r\n"),
		NC("\n\r", "\r\n\r\n"),
		NC("\r\r\n", "\r\n\r\n"),
		NC("\r\n\r", "\r\n\r\n"),
		NC("\r\n\n", "\r\n\r\n"),
		NC("\n\r\n", "\r\n\r\n"),
		NC("\r\n\r\n", "\r\n\r\n"),
		NC("a\rb\nc\r\nd", "a\r\nb\r\nc\r\nd\r\n"),
		NC("a\n\rb", "a\r\n\r\nb\r\n"),
		NC("a\r\r\nb", "a\r\n\r\nb\r\n"),
		NC("\0\r\0", "\0\r\n\0\r\n"),
		/* I07 smuggling forms */
		NC("a\n.\nMAIL FROM:<x>\n", "a\r\n.\r\nMAIL FROM:<x>\r\n"),
		NC("a\n.\r\nb", "a\r\n.\r\nb\r\n"),
		NC("a\r\n.\nb", "a\r\n.\r\nb\r\n"),
		NC("a\r.\rb", "a\r\n.\r\nb\r\n"),
		NC("a\r.\r\n", "a\r\n.\r\n"),
	};

	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		const struct ncase *k = &cases[c];
		size_t wlen = k->wlen;
		unsigned nmask = k->len > 1 ? 1u << (k->len - 1) : 1;
		bool ok = true;
		struct buf out;

		for (unsigned m = 0; ok && m < nmask; m++) {
			normalize_mask(k->in, k->len, m, true, &out);
			if (!buf_eq(&out, k->want, wlen)) {
				ok = false;
				printf("#   split mask %#x: got [%s]\n", m,
				    esc(out.data, out.len));
			}
			buf_free(&out);
		}
		CHECK(ok, "crlf_normalize [%s] -> [%s] in all %u chunkings",
		    esc(k->in, k->len), esc(k->want, wlen), nmask);
	}
}

static void
test_normalize_streaming(void)
{
	struct crlf_state st;
	struct buf out;

	buf_init(&out);
	crlf_init(&st);
	crlf_normalize(&st, "a\r", 2, &out);
	CHECK(buf_eq(&out, "a", 1), "CR at the end of a chunk is held back");
	crlf_normalize(&st, "", 0, &out);
	CHECK(buf_eq(&out, "a", 1), "an empty chunk changes nothing");
	crlf_normalize(&st, "\nb", 2, &out);
	CHECK(buf_eq(&out, "a\r\nb", 4), "CR | LF gives one CRLF");
	crlf_normalize(&st, "\r", 1, &out);
	crlf_normalize(&st, "c", 1, &out);
	CHECK(buf_eq(&out, "a\r\nb\r\nc", 7), "CR | c gives CRLF c");
	crlf_normalize(&st, "\r", 1, &out);
	crlf_normalize(&st, "\r", 1, &out);
	crlf_normalize(&st, "\n", 1, &out);
	CHECK(buf_eq(&out, "a\r\nb\r\nc\r\n\r\n", 11),
	    "CR | CR | LF gives two CRLF");
	buf_free(&out);

	/* crlf_finish */
	crlf_init(&st);
	crlf_finish(&st, &out);
	CHECK(buf_eq(&out, "\r\n", 2), "crlf_finish: empty input -> CRLF");
	crlf_finish(&st, &out);
	CHECK(buf_eq(&out, "\r\n", 2), "crlf_finish twice adds nothing more");
	buf_free(&out);

	crlf_init(&st);
	crlf_normalize(&st, "", 0, &out);
	crlf_finish(&st, &out);
	CHECK(buf_eq(&out, "\r\n", 2),
	    "crlf_finish: only empty chunks -> CRLF");
	buf_free(&out);

	crlf_init(&st);
	crlf_normalize(&st, "abc", 3, &out);
	buf_reset(&out);	/* the caller drains between calls */
	crlf_finish(&st, &out);
	CHECK(buf_eq(&out, "\r\n", 2),
	    "crlf_finish: no final newline -> CRLF (output drained)");
	buf_free(&out);

	crlf_init(&st);
	crlf_normalize(&st, "abc\n", 4, &out);
	buf_reset(&out);
	crlf_finish(&st, &out);
	CHECK(out.len == 0, "crlf_finish: ends with LF -> nothing added");
	buf_free(&out);

	crlf_init(&st);
	crlf_normalize(&st, "abc\r\n", 5, &out);
	buf_reset(&out);
	crlf_finish(&st, &out);
	CHECK(out.len == 0, "crlf_finish: ends with CRLF -> nothing added");
	buf_free(&out);

	crlf_init(&st);
	crlf_normalize(&st, "abc\r", 4, &out);
	buf_reset(&out);
	crlf_finish(&st, &out);
	CHECK(buf_eq(&out, "\r\n", 2),
	    "crlf_finish: pending CR -> exactly one CRLF");
	buf_free(&out);

	crlf_init(&st);
	crlf_normalize(&st, "\r", 1, &out);
	crlf_finish(&st, &out);
	CHECK(buf_eq(&out, "\r\n", 2), "crlf_finish: lone CR input -> CRLF");
	buf_free(&out);
}

/* Every string over the alphabet up to maxlen, in every chunking. */
static void
test_exhaustive(void)
{
	static const char alpha[] = { 'a', '\r', '\n', '.' };
	const size_t maxlen = 7;
	size_t strings = 0, runs = 0, bad_norm = 0, bad_stuff = 0,
	    bad_wire = 0;
	char s[16];

	for (size_t len = 0; len <= maxlen; len++) {
		size_t total = 1;
		for (size_t i = 0; i < len; i++)
			total *= sizeof alpha;
		for (size_t code = 0; code < total; code++) {
			size_t x = code;
			for (size_t i = 0; i < len; i++) {
				s[i] = alpha[x % sizeof alpha];
				x /= sizeof alpha;
			}
			strings++;
			struct buf want, wantw;
			ref_normalize(s, len, &want);
			ref_stuff(want.data, want.len, &wantw);
			unsigned nmask = len > 1 ? 1u << (len - 1) : 1;
			for (unsigned m = 0; m < nmask; m++) {
				struct buf got;
				normalize_mask(s, len, m, true, &got);
				runs++;
				if (!buf_eq(&got, want.data, want.len) &&
				    bad_norm++ == 0)
					printf("#   normalize [%s] mask %#x: "
					    "[%s] want [%s]\n", esc(s, len), m,
					    esc(got.data, got.len),
					    esc(want.data, want.len));
				buf_free(&got);
			}
			/* Stuffing: every chunking of the normalised form
			   when short, a spread of them otherwise. */
			unsigned smask = want.len > 1 ? 1u << (want.len - 1)
			    : 1;
			unsigned step = smask > 256 ? smask / 256 + 1 : 1;
			for (unsigned m = 0; m < smask; m += step) {
				struct buf got;
				stuff_mask(want.data, want.len, m, &got);
				if (!buf_eq(&got, wantw.data, wantw.len) &&
				    bad_stuff++ == 0)
					printf("#   stuff [%s] mask %#x: "
					    "[%s] want [%s]\n",
					    esc(want.data, want.len), m,
					    esc(got.data, got.len),
					    esc(wantw.data, wantw.len));
				if (wire_problem(&got) != NULL &&
				    bad_wire++ == 0)
					printf("#   [%s]: %s\n",
					    esc(s, len), wire_problem(&got));
				buf_free(&got);
			}
			buf_free(&want);
			buf_free(&wantw);
		}
	}
	CHECK(bad_norm == 0, "crlf_normalize: %zu strings over {a,CR,LF,.} "
	    "up to %zu bytes, %zu chunkings, %zu wrong", strings, maxlen, runs,
	    bad_norm);
	CHECK(bad_stuff == 0, "dot_stuff: the same strings normalised, in "
	    "every chunking, %zu wrong", bad_stuff);
	CHECK(bad_wire == 0, "no bare CR/LF and terminator only at the end "
	    "for all of them, %zu wrong", bad_wire);
}

struct scase {
	const char *name;
	const char *const parts[6];	/* chunks, NULL-terminated */
	const char *want;		/* after dot_finish */
};

static void
test_stuff_cases(void)
{
	static const struct scase cases[] = {
		{ "empty", { NULL }, ".\r\n" },
		{ "dot line", { ".\r\n", NULL }, "..\r\n.\r\n" },
		{ "dot first line", { ".a\r\nb\r\n", NULL },
		    "..a\r\nb\r\n.\r\n" },
		{ "double dot", { "..\r\n", NULL }, "...\r\n.\r\n" },
		{ "dot in the middle", { "a.b\r\n.\r\n", NULL },
		    "a.b\r\n..\r\n.\r\n" },
		{ "dots on every line", { ".\r\n.\r\n.\r\n", NULL },
		    "..\r\n..\r\n..\r\n.\r\n" },
		{ "dot after a chunk ending in CRLF",
		    { "a\r\n", ".b\r\n", NULL }, "a\r\n..b\r\n.\r\n" },
		{ "CR | LF dot", { "a\r", "\n.b\r\n", NULL },
		    "a\r\n..b\r\n.\r\n" },
		{ "CRLF | dot", { "a\r\n", ".", "\r\n", NULL },
		    "a\r\n..\r\n.\r\n" },
		{ "mid-line dot at a chunk start", { "a", ".b\r\n", NULL },
		    "a.b\r\n.\r\n" },
		{ "empty chunks", { "", "a\r\n", "", ".", "", NULL },
		    "a\r\n..\r\n.\r\n" },
		{ "no final CRLF", { "a", NULL }, "a\r\n.\r\n" },
		{ "dot without final CRLF", { "a\r\n.", NULL },
		    "a\r\n..\r\n.\r\n" },
		{ "smuggled terminator", { "a\r\n.\r\nMAIL FROM:<x>\r\n", NULL },
		    "a\r\n..\r\nMAIL FROM:<x>\r\n.\r\n" },
	};

	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		struct dot_state st;
		struct buf out;

		buf_init(&out);
		dot_init(&st);
		for (size_t i = 0; cases[c].parts[i]; i++)
			dot_stuff(&st, cases[c].parts[i],
			    strlen(cases[c].parts[i]), &out);
		dot_finish(&st, &out);
		bool eq = buf_eq(&out, cases[c].want, strlen(cases[c].want));
		CHECK(eq, "dot_stuff: %s", cases[c].name);
		if (!eq)
			printf("#   got [%s] want [%s]\n", esc(out.data, out.len),
			    esc(cases[c].want, strlen(cases[c].want)));
		buf_free(&out);
	}

	/* dot_finish looks at the state, not at the (drained) output. */
	struct dot_state st;
	struct buf out;
	buf_init(&out);
	dot_init(&st);
	dot_stuff(&st, "abc", 3, &out);
	buf_reset(&out);
	dot_finish(&st, &out);
	CHECK(buf_eq(&out, "\r\n.\r\n", 5),
	    "dot_finish after a partial line: CRLF first");
	buf_reset(&out);
	dot_init(&st);
	dot_stuff(&st, "abc\r\n", 5, &out);
	buf_reset(&out);
	dot_finish(&st, &out);
	CHECK(buf_eq(&out, ".\r\n", 3), "dot_finish after CRLF: .CRLF only");
	buf_free(&out);
}

/* I07/I08: the whole pipeline on the known smuggling forms. */
static void
test_smuggling(void)
{
	static const struct {
		const char *in;
		const char *want;
	} cases[] = {
		{ "a\n.\nMAIL FROM:<x>\n",
		    "a\r\n..\r\nMAIL FROM:<x>\r\n.\r\n" },
		{ "a\n.\r\nb", "a\r\n..\r\nb\r\n.\r\n" },
		{ "a\r\n.\nb", "a\r\n..\r\nb\r\n.\r\n" },
		{ "a\r.\rb", "a\r\n..\r\nb\r\n.\r\n" },
		{ "a\r\n.\r\nMAIL FROM:<x>\r\n",
		    "a\r\n..\r\nMAIL FROM:<x>\r\n.\r\n" },
		{ ".", "..\r\n.\r\n" },
		{ ".\n", "..\r\n.\r\n" },
		{ "..", "...\r\n.\r\n" },
		{ "a\n.", "a\r\n..\r\n.\r\n" },
		{ "a\n.\r", "a\r\n..\r\n.\r\n" },
		{ "", "\r\n.\r\n" },
		{ "\n", "\r\n.\r\n" },
		{ "Subject: x", "Subject: x\r\n.\r\n" },
	};

	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		size_t n = strlen(cases[c].in);
		bool ok = true;
		for (int rep = 0; ok && rep < 200; rep++) {
			struct buf norm, wire;
			pipeline_random(cases[c].in, n, &norm, &wire);
			if (!buf_eq(&wire, cases[c].want,
			    strlen(cases[c].want))) {
				ok = false;
				printf("#   got [%s]\n", esc(wire.data,
				    wire.len));
			}
			buf_free(&norm);
			buf_free(&wire);
		}
		CHECK(ok, "pipeline [%s] -> [%s] in 200 random chunkings",
		    esc(cases[c].in, n), esc(cases[c].want,
		    strlen(cases[c].want)));
	}
}

static void
test_property(void)
{
	static const char alpha[] = "..\r\r\n\n\naaM \0\xff";
	const int count = 4000;
	int bad_norm = 0, bad_rt = 0, bad_wire = 0;
	char in[600];

	for (int t = 0; t < count; t++) {
		size_t n = (size_t)(rng() % (t < 100 ? 8 : sizeof in));
		for (size_t i = 0; i < n; i++)
			in[i] = alpha[rng() % (sizeof alpha - 1)];
		/* Now and then, plant a smuggling sequence. */
		if (n > 8 && rng() % 4 == 0) {
			static const char *const seqs[] = { "\n.\n",
			    "\n.\r\n", "\r\n.\n", "\r.\r", "\r\n.\r\n" };
			const char *q = seqs[rng() % 5];
			size_t at = (size_t)(rng() % (n - strlen(q)));
			memcpy(in + at, q, strlen(q));
		}
		struct buf ref, norm, wire, back;
		ref_normalize(in, n, &ref);
		pipeline_random(in, n, &norm, &wire);
		if (!buf_eq(&norm, ref.data, ref.len) && bad_norm++ == 0)
			printf("#   input [%s]: normalised [%s] want [%s]\n",
			    esc(in, n), esc(norm.data, norm.len),
			    esc(ref.data, ref.len));
		if ((!unstuff(wire.data, wire.len, &back) ||
		    !buf_eq(&back, ref.data, ref.len)) && bad_rt++ == 0)
			printf("#   input [%s]: un-stuffed [%s]\n", esc(in, n),
			    esc(back.data, back.len));
		const char *why = wire_problem(&wire);
		if (why != NULL && bad_wire++ == 0)
			printf("#   input [%s]: %s in [%s]\n", esc(in, n), why,
			    esc(wire.data, wire.len));
		buf_free(&ref);
		buf_free(&norm);
		buf_free(&wire);
		buf_free(&back);
	}
	CHECK(bad_norm == 0, "property: %d random inputs, random chunkings: "
	    "normalised form as the reference (%d wrong)", count, bad_norm);
	CHECK(bad_rt == 0, "property: un-stuffed output == normalised input "
	    "(%d wrong)", bad_rt);
	CHECK(bad_wire == 0, "property: no bare CR/LF, CRLF.CRLF only at the "
	    "end (%d wrong)", bad_wire);
}

/* R04: one very long line with no newline, streamed in 64 KiB chunks
   with the output drained: linear time, bounded buffers. */
static void
test_long_line(void)
{
	const size_t total = 32u * 1024 * 1024, chunk = 64 * 1024;
	char *block = xmalloc(chunk);
	struct crlf_state cs;
	struct dot_state ds;
	struct buf tmp, out;
	size_t produced = 0, maxcap = 0;
	clock_t t0 = clock();

	memset(block, 'x', chunk);
	block[0] = '.';
	buf_init(&tmp);
	buf_init(&out);
	crlf_init(&cs);
	dot_init(&ds);
	for (size_t done = 0; done < total; done += chunk) {
		crlf_normalize(&cs, block, chunk, &tmp);
		dot_stuff(&ds, tmp.data, tmp.len, &out);
		produced += out.len;
		if (out.cap > maxcap)
			maxcap = out.cap;
		if (tmp.cap > maxcap)
			maxcap = tmp.cap;
		buf_reset(&tmp);
		buf_reset(&out);
	}
	crlf_finish(&cs, &tmp);
	dot_stuff(&ds, tmp.data, tmp.len, &out);
	dot_finish(&ds, &out);
	produced += out.len;
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	/* One stuffed dot at the very start; the line's other chunks begin
	   mid-line, so their dots are left alone. */
	CHECK(produced == total + 1 + 2 + 3,
	    "32 MiB line: %zu bytes out (want %zu)", produced,
	    total + 1 + 2 + 3);
	CHECK(maxcap <= 4 * chunk, "32 MiB line: buffers stay under %zu "
	    "bytes (max %zu)", 4 * chunk, maxcap);
	CHECK(secs < 20.0, "32 MiB line: %.2f s", secs);
	buf_free(&tmp);
	buf_free(&out);
	free(block);
}

/* --- the strict reader of a client's data (sendmail -bs) --- */

/* The rule stated line by line: a line ends at CRLF; a CR or LF that is
   not part of a CRLF is an error; "." alone ends the data; one leading
   dot is removed.  *used as data_unstuff gives it. */
static enum data_status
ref_unstuff(const char *in, size_t n, struct buf *out, size_t *used)
{
	size_t i = 0;

	buf_init(out);
	for (;;) {
		size_t j = i;
		while (j < n && in[j] != '\r' && in[j] != '\n')
			j++;
		if (j == n) {
			/* An incomplete line: what data_unstuff has placed. */
			if (j > i && !(j == i + 1 && in[i] == '.'))
				buf_add(out, in + i + (in[i] == '.'),
				    j - i - (in[i] == '.'));
			*used = n;
			return DATA_MORE;
		}
		if (in[j] == '\n' || (j + 1 < n && in[j + 1] != '\n')) {
			*used = in[j] == '\n' ? j + 1 : j + 2;
			if (j > i && !(j == i + 1 && in[i] == '.'))
				buf_add(out, in + i + (in[i] == '.'),
				    j - i - (in[i] == '.'));
			return in[j] == '\n' ? DATA_BARE_LF : DATA_BARE_CR;
		}
		if (j + 1 == n) {
			if (j > i && !(j == i + 1 && in[i] == '.'))
				buf_add(out, in + i + (in[i] == '.'),
				    j - i - (in[i] == '.'));
			*used = n;
			return DATA_MORE;
		}
		if (j == i + 1 && in[i] == '.') {
			*used = j + 2;
			return DATA_END;
		}
		buf_add(out, in + i + (j > i && in[i] == '.'),
		    j - i - (j > i && in[i] == '.'));
		buf_add(out, "\r\n", 2);
		i = j + 2;
	}
}

/* data_unstuff over in cut after every byte i whose bit i % 32 is set in
   mask; stops at the first status other than DATA_MORE. */
static enum data_status
unstuff_mask(const char *in, size_t n, unsigned mask, struct buf *out,
    size_t *used)
{
	struct data_state st;
	enum data_status ds = DATA_MORE;
	size_t start = 0;

	buf_init(out);
	data_init(&st);
	*used = 0;
	for (size_t i = 0; i < n && ds == DATA_MORE; i++)
		if (i + 1 == n || (mask >> i % 32 & 1)) {
			size_t u;
			ds = data_unstuff(&st, in + start, i + 1 - start, out,
			    &u);
			*used = start + u;
			start = i + 1;
		}
	return ds;
}

static void
test_unstuff_cases(void)
{
	static const struct {
		const char *in, *out;
		enum data_status ds;
		size_t used;
	} c[] = {
		{ ".\r\n", "", DATA_END, 3 },
		{ "a\r\n.\r\nMAIL", "a\r\n", DATA_END, 6 },
		{ "..a\r\n.\r\n", ".a\r\n", DATA_END, 8 },
		{ "...\r\n.\r\n", "..\r\n", DATA_END, 8 },
		{ ".a\r\n.\r\n", "a\r\n", DATA_END, 7 },
		{ "\r\n.\r\n", "\r\n", DATA_END, 5 },
		/* The smuggling forms: never an end. */
		{ "body\n.\nMAIL", "body", DATA_BARE_LF, 5 },
		{ "body\r\n.\nMAIL", "body\r\n", DATA_BARE_LF, 8 },
		{ "body\n.\r\nMAIL", "body", DATA_BARE_LF, 5 },
		{ "\n", "", DATA_BARE_LF, 1 },
		{ ".\n", "", DATA_BARE_LF, 2 },
		{ ".\rX\r\n", "", DATA_BARE_CR, 3 },
		{ "a\rb", "a", DATA_BARE_CR, 3 },
		{ "a\r\r\n", "a", DATA_BARE_CR, 3 },
		{ "\r.\r\n", "", DATA_BARE_CR, 2 },
		/* Not over yet. */
		{ "body\r\n.", "body\r\n", DATA_MORE, 7 },
		{ "body\r\n.\r", "body\r\n", DATA_MORE, 8 },
		{ "body\r", "body", DATA_MORE, 5 },
		{ "..", ".", DATA_MORE, 2 },
		{ "", "", DATA_MORE, 0 },
	};

	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		struct buf out;
		size_t used = 0;
		size_t n = strlen(c[i].in);
		enum data_status ds = unstuff_mask(c[i].in, n, 0, &out, &used);
		CHECK(ds == c[i].ds && used == c[i].used &&
		    buf_eq(&out, c[i].out, strlen(c[i].out)),
		    "data_unstuff [%s]: status %d (want %d), used %zu (want "
		    "%zu), [%s]", esc(c[i].in, n), (int)ds, (int)c[i].ds, used,
		    c[i].used, esc(out.data, out.len));
		buf_free(&out);
	}
}

/* Every string over {a, ., CR, LF} up to 7 bytes, in every chunking:
   the same as the line rule, and only after CRLF "." CRLF an end. */
static void
test_unstuff_exhaustive(void)
{
	static const char alpha[] = { 'a', '.', '\r', '\n' };
	char in[7];
	size_t tried = 0, bad = 0;

	for (size_t n = 0; n <= sizeof in; n++) {
		size_t total = 1;
		for (size_t k = 0; k < n; k++)
			total *= 4;
		for (size_t v = 0; v < total; v++) {
			size_t x = v;
			for (size_t k = 0; k < n; k++, x /= 4)
				in[k] = alpha[x % 4];
			struct buf want;
			size_t wused;
			enum data_status wds = ref_unstuff(in, n, &want,
			    &wused);
			unsigned masks = n > 1 ? 1u << (n - 1) : 1;
			for (unsigned m = 0; m < masks; m++) {
				struct buf got;
				size_t used;
				enum data_status ds = unstuff_mask(in, n, m,
				    &got, &used);
				tried++;
				bool ok = ds == wds && used == wused &&
				    buf_eq(&got, want.data, want.len);
				/* The end only right after CRLF "." CRLF. */
				if (ds == DATA_END && !(used == 3 ||
				    (used >= 5 && memcmp(in + used - 5,
				    "\r\n.\r\n", 5) == 0)))
					ok = false;
				if (!ok && bad++ < 3)
					printf("#   [%s] mask %x: %d used %zu "
					    "[%s]; want %d used %zu [%s]\n",
					    esc(in, n), m, (int)ds, used,
					    esc(got.data, got.len), (int)wds,
					    wused, esc(want.data, want.len));
				buf_free(&got);
			}
			buf_free(&want);
		}
	}
	CHECK(bad == 0, "data_unstuff: %zu inputs and chunkings agree with "
	    "the line rule (%zu differ)", tried, bad);
}

/* What carrier's own sender puts on the wire, read back: the message
   exactly, ending just after the terminator. */
static void
test_unstuff_roundtrip(void)
{
	static const char alpha[] = "ab.\r\n";
	size_t bad = 0;

	for (int t = 0; t < 2000; t++) {
		char in[64];
		size_t n = rng() % sizeof in;
		for (size_t k = 0; k < n; k++)
			in[k] = alpha[rng() % 5];
		struct buf norm, wire, got;
		size_t used;
		ref_normalize(in, n, &norm);
		ref_stuff(norm.data, norm.len, &wire);
		buf_add(&wire, "MAIL", 4);
		enum data_status ds = unstuff_mask(wire.data, wire.len,
		    (unsigned)rng(), &got, &used);
		if ((ds != DATA_END || used != wire.len - 4 ||
		    !buf_eq(&got, norm.data, norm.len)) && bad++ == 0)
			printf("#   [%s]: %d used %zu [%s]\n", esc(in, n),
			    (int)ds, used, esc(got.data, got.len));
		buf_free(&norm);
		buf_free(&wire);
		buf_free(&got);
	}
	CHECK(bad == 0, "data_unstuff reads back what dot_stuff wrote, up "
	    "to the terminator (%zu differ)", bad);
}

/* crlf_normalize_into: the same output, and the lines measured on the
   way (what message.c checks against the 998-octet limit), whatever the
   chunking. */
static void
test_normalize_into(void)
{
	static const struct {
		const char *in;
		size_t longest, line_len;	/* after the input, then finish */
	} cases[] = {
		{ "", 0, 0 },
		{ "abc", 0, 3 },
		{ "abc\n", 3, 0 },
		{ "ab\ncdef\r\ng", 4, 1 },
		{ "abcd\rx\r", 4, 1 },
		{ "\r\r\n\n", 0, 0 },
		{ "a\n\nabcde\r", 1, 5 },
	};
	bool ok = true;

	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		const char *in = cases[c].in;
		size_t n = strlen(in);
		for (size_t cut = 0; cut <= n; cut++) {
			struct crlf_state a, b;
			struct buf want;
			char out[64];
			size_t len;

			buf_init(&want);
			crlf_init(&a);
			crlf_init(&b);
			crlf_normalize(&a, in, n, &want);
			len = crlf_normalize_into(&b, in, cut, out);
			len += crlf_normalize_into(&b, in + cut, n - cut,
			    out + len);
			if (len != want.len || memcmp(out, want.data, len) != 0
			    || b.longest != cases[c].longest ||
			    b.line_len != cases[c].line_len) {
				if (ok)
					printf("#   [%s] cut %zu: longest %zu, "
					    "line %zu\n", in, cut, b.longest,
					    b.line_len);
				ok = false;
			}
			buf_reset(&want);
			crlf_finish(&b, &want);
			if (b.line_len != 0 || b.longest < cases[c].line_len)
				ok = false;
			buf_free(&want);
		}
	}
	CHECK(ok, "crlf_normalize_into: output as crlf_normalize, lines "
	    "measured, at every cut");
}

int
main(void)
{
	test_normalize_cases();
	test_normalize_streaming();
	test_normalize_into();
	test_exhaustive();
	test_stuff_cases();
	test_smuggling();
	test_property();
	test_long_line();
	test_unstuff_cases();
	test_unstuff_exhaustive();
	test_unstuff_roundtrip();
	return check_done();
}
