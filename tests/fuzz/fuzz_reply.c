/*
 * fuzz_reply.c: libFuzzer target for the reply reader, reply_parse,
 * reply_oneline, enhanced_code_parse and caps_parse (src/reply.c).
 * THREATS (c) "Reply reader/assembler" and "EHLO capability parser".
 *
 * Input: 4 bytes of chunking seed, then a byte stream from the server.
 * The stream is read as a sequence of replies twice: once fed in one
 * piece, once in pseudo-random chunks (sizes from the seed, so the fuzzer
 * steers the segmentation).  Both runs must give the same replies, ending
 * at the same offsets, and the same final state.  Each reply must keep the
 * promises of reply.h (code 200..599, 1..REPLY_MAX_LINES lines, bounded
 * text, enhanced code well-formed), reply_parse of exactly its bytes must
 * give the same reply, and caps_parse of it must be consistent.
 *
 * dict: smtp.dict
 *
 * clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *   $(pkg-config --cflags libbsd-overlay) -Isrc tests/fuzz/fuzz_reply.c \
 *   src/reply.c src/util.c $(pkg-config --libs libbsd-overlay)
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"
#include "util.h"
#include "chunks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_REPLIES	16400	/* 64 KiB of "250\n" */

/* One reply as seen by a run, with the offset just after it. */
struct seen {
	int code;
	char enhanced[16];
	char *text;
	size_t tlen;
	size_t nlines;
	size_t end;
};

struct run {
	struct seen v[MAX_REPLIES];
	size_t n;
	enum reader_state last;	/* MORE (stream ended) or ERROR */
	char err[128];
};

static void
run_free(struct run *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].text);
	r->n = 0;
}

static bool
is_enhanced(const char *e)
{
	size_t i = 0, n;

	if (e[0] == '\0')
		return true;
	if (e[0] != '2' && e[0] != '4' && e[0] != '5')
		return false;
	i = 1;
	for (int part = 0; part < 2; part++) {
		if (e[i++] != '.')
			return false;
		for (n = 0; e[i] >= '0' && e[i] <= '9'; i++)
			n++;
		if (n < 1 || n > 3)
			return false;
	}
	return e[i] == '\0';
}

static void
check_caps(const struct reply *r)
{
	struct capabilities c;
	static const char *const mechs[] = { "PLAIN", "LOGIN", "CRAM-MD5",
	    "SCRAM-SHA-1", "SCRAM-SHA-256", "XOAUTH2", "EXTERNAL" };

	caps_parse(r, &c);
	if (!c.esmtp)
		abort();
	/* The first line is the server's name, never a keyword. */
	if (c.n + 1 > r->nlines && c.n != 0)
		abort();
	for (size_t i = 0; i < c.n; i++) {
		const char *k = c.v[i].keyword, *p = c.v[i].params;
		if (k == NULL || p == NULL || k[0] == '\0')
			abort();
		for (const char *q = k; *q; q++)
			if (!(isupper((unsigned char)*q) ||
			    isdigit((unsigned char)*q) || *q == '-'))
				abort();
		/* Blanks after the keyword are separators, not parameters. */
		if (p[0] == ' ' || p[0] == '\t')
			abort();
		if (!caps_has(&c, k) || caps_params(&c, k) == NULL)
			abort();
	}
	if (c.size_offered != caps_has(&c, "SIZE"))
		abort();
	if (!c.size_offered && c.size != 0)
		abort();
	if (c.size > (uint64_t)INT64_MAX)
		abort();
	for (size_t i = 0; i < sizeof mechs / sizeof *mechs; i++) {
		bool has = caps_has_auth(&c, mechs[i]);
		/* No AUTH keyword, no mechanism. */
		if (has && !caps_has(&c, "AUTH"))
			abort();
	}
	caps_free(&c);
}

static void
check_reply(const struct reply *r, const uint8_t *raw, size_t rawlen)
{
	if (r->code < 200 || r->code > 599)
		abort();
	if (r->nlines < 1 || r->nlines > REPLY_MAX_LINES)
		abort();
	if (r->text.len > r->nlines * (REPLY_MAX_LINE + 1))
		abort();
	if (memchr(r->enhanced, '\0', sizeof r->enhanced) == NULL ||
	    !is_enhanced(r->enhanced))
		abort();
	/* nlines - 1 line feeds join the lines. */
	size_t lfs = 0;
	for (size_t i = 0; i < r->text.len; i++)
		if (r->text.data[i] == '\n')
			lfs++;
	if (lfs != r->nlines - 1)
		abort();

	char *one = reply_oneline(r);
	if (memchr(one, '\n', r->text.len) != NULL)
		abort();
	free(one);

	/* reply_parse of exactly these bytes gives the same reply. */
	struct reply p;
	char err[128];
	reply_init(&p);
	if (reply_parse((const char *)raw, rawlen, &p, err, sizeof err) != 0)
		abort();
	if (p.code != r->code || p.nlines != r->nlines ||
	    strcmp(p.enhanced, r->enhanced) != 0 ||
	    p.text.len != r->text.len || (p.text.len > 0 &&
	    memcmp(p.text.data, r->text.data, p.text.len) != 0))
		abort();
	reply_free(&p);
	/* One byte short is incomplete, never a different reply. */
	reply_init(&p);
	if (reply_parse((const char *)raw, rawlen - 1, &p, err, sizeof err)
	    == 0)
		abort();
	reply_free(&p);

	check_caps(r);
}

static void
record(struct run *run, struct reply_reader *rr, size_t end)
{
	struct reply r;
	struct seen *s;

	if (run->n == MAX_REPLIES)
		abort();
	reply_init(&r);
	reply_reader_take(rr, &r);
	s = &run->v[run->n++];
	s->code = r.code;
	memcpy(s->enhanced, r.enhanced, sizeof s->enhanced);
	s->tlen = r.text.len;
	s->text = xmalloc(r.text.len + 1);
	if (r.text.len)
		memcpy(s->text, r.text.data, r.text.len);
	s->nlines = r.nlines;
	s->end = end;
	reply_free(&r);
	if (rr->state != READER_MORE)
		abort();
}

/* max == 0: one piece. */
static void
read_all(const uint8_t *d, size_t len, uint32_t seed, size_t max,
    struct run *run)
{
	struct reply_reader rr;
	size_t pos = 0;

	run->n = 0;
	run->err[0] = '\0';
	reply_reader_init(&rr);
	while (pos < len && run->n < MAX_REPLIES) {
		size_t chunk = max == 0 ? len - pos :
		    1 + chunk_next(&seed) % max;
		if (chunk > len - pos)
			chunk = len - pos;
		size_t off = 0;
		while (off < chunk) {
			size_t took = reply_reader_feed(&rr,
			    (const char *)d + pos + off, chunk - off);
			if (took > chunk - off)
				abort();
			off += took;
			if (rr.state == READER_DONE) {
				record(run, &rr, pos + off);
				if (run->n == MAX_REPLIES)
					break;
			} else if (rr.state == READER_ERROR) {
				break;
			} else if (off != chunk) {
				/* MORE must take everything offered. */
				abort();
			}
		}
		pos += off;
		if (rr.state == READER_ERROR)
			break;
	}
	run->last = rr.state;
	if (rr.state == READER_ERROR) {
		if (rr.err[0] == '\0' || memchr(rr.err, '\0', sizeof rr.err)
		    == NULL)
			abort();
		memcpy(run->err, rr.err, sizeof run->err);
	} else if (rr.line.len > REPLY_MAX_LINE + 1 + (max ? max : len))
		abort();	/* buffer bounded */
	reply_reader_free(&rr);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run a, b;
	uint32_t seed;

	if (!chunk_seed(&data, &size, &seed))
		return 0;

	read_all(data, size, 0, 0, &a);
	read_all(data, size, seed, 1 + (seed >> 24) % 64, &b);

	if (a.n != b.n || a.last != b.last)
		abort();
	if (a.last == READER_ERROR && strcmp(a.err, b.err) != 0)
		abort();
	size_t start = 0;
	for (size_t i = 0; i < a.n; i++) {
		const struct seen *x = &a.v[i], *y = &b.v[i];
		if (x->code != y->code || x->nlines != y->nlines ||
		    x->end != y->end || x->tlen != y->tlen ||
		    strcmp(x->enhanced, y->enhanced) != 0 ||
		    memcmp(x->text, y->text, x->tlen) != 0)
			abort();
		/* Rebuild the reply for the checks on struct reply. */
		struct reply r;
		reply_init(&r);
		r.code = x->code;
		memcpy(r.enhanced, x->enhanced, sizeof r.enhanced);
		buf_add(&r.text, x->text, x->tlen);
		r.nlines = x->nlines;
		if (x->end <= start)
			abort();
		check_reply(&r, data + start, x->end - start);
		reply_free(&r);
		start = x->end;
	}
	run_free(&a);
	run_free(&b);
	return 0;
}
