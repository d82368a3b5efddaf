/*
 * test_reply.c: the incremental reply reader, reply_parse, reply_oneline,
 * enhanced_code_parse and the EHLO capability parser (src/reply.c).
 *
 * Every reader case goes through outcome_all(), which feeds the bytes in
 * one piece, one byte at a time, in fixed-size chunks, split after every
 * CR, and in pseudo-random chunkings, and checks that every way gives the
 * same result (state, code, enhanced code, text, line count and, for a
 * finished reply, the bytes consumed) before the case checks that result.
 * THREATS P01-P11, P20.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "reply.h"
#include "util.h"

/* What a reader made of some bytes. */
struct outcome {
	enum reader_state state;
	int code;
	char enhanced[16];
	struct buf text;
	size_t nlines;
	size_t used;		/* bytes consumed in all */
	char err[128];
	bool bad_contract;	/* took less than offered while MORE */
};

/* Bytes made printable for a diagnostic line. */
static const char *
esc(const char *p, size_t n)
{
	static char out[2][512];
	static int which;
	char *o = out[which ^= 1];
	size_t j = 0;

	for (size_t i = 0; p != NULL && i < n && j + 5 < sizeof out[0]; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			o[j++] = (char)c;
		else
			j += (size_t)snprintf(o + j, 5, "\\x%02x", c);
	}
	o[j] = '\0';
	return o;
}

static void
outcome_free(struct outcome *o)
{
	buf_free(&o->text);
}

static uint32_t rng_state;

static uint32_t
rng(void)
{
	/* xorshift32: deterministic, good enough for chunk sizes. */
	uint32_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rng_state = x;
}

/* How to cut the input. */
enum cut { CUT_WHOLE, CUT_FIXED, CUT_AFTER_CR, CUT_RANDOM };

static size_t
next_chunk(enum cut how, size_t arg, const char *d, size_t pos, size_t len)
{
	size_t left = len - pos, n;

	switch (how) {
	case CUT_WHOLE:
		return left;
	case CUT_FIXED:
		return arg < left ? arg : left;
	case CUT_AFTER_CR: {
		const char *cr = memchr(d + pos, '\r', left);
		return cr ? (size_t)(cr - (d + pos)) + 1 : left;
	}
	case CUT_RANDOM:
	default:
		n = 1 + rng() % (arg ? arg : 1);
		return n < left ? n : left;
	}
}

static void
run_reader(const char *d, size_t len, enum cut how, size_t arg,
    struct outcome *o)
{
	struct reply_reader rr;
	size_t pos = 0;

	memset(o, 0, sizeof *o);
	buf_init(&o->text);
	reply_reader_init(&rr);
	while (pos < len && rr.state == READER_MORE) {
		size_t n = next_chunk(how, arg, d, pos, len);
		size_t took = reply_reader_feed(&rr, d + pos, n);
		if (took > n || (rr.state == READER_MORE && took != n))
			o->bad_contract = true;
		pos += took;
	}
	/* A finished or failed reader takes nothing more. */
	if (rr.state != READER_MORE && pos < len &&
	    reply_reader_feed(&rr, d + pos, len - pos) != 0)
		o->bad_contract = true;
	o->state = rr.state;
	o->used = pos;
	if (rr.state == READER_DONE) {
		o->code = rr.reply.code;
		memcpy(o->enhanced, rr.reply.enhanced, sizeof o->enhanced);
		buf_add(&o->text, rr.reply.text.data ? rr.reply.text.data : "",
		    rr.reply.text.len);
		o->nlines = rr.reply.nlines;
	} else if (rr.state == READER_ERROR)
		(void)snprintf(o->err, sizeof o->err, "%s", rr.err);
	reply_reader_free(&rr);
}

static bool
outcome_same(const struct outcome *a, const struct outcome *b)
{
	if (a->state != b->state || a->bad_contract || b->bad_contract)
		return false;
	switch (a->state) {
	case READER_DONE:
		return a->code == b->code && a->nlines == b->nlines &&
		    a->used == b->used &&
		    strcmp(a->enhanced, b->enhanced) == 0 &&
		    a->text.len == b->text.len &&
		    (a->text.len == 0 ||
		    memcmp(a->text.data, b->text.data, a->text.len) == 0);
	case READER_ERROR:
		/* The bytes taken before giving up may differ; the verdict
		   may not. */
		return strcmp(a->err, b->err) == 0;
	case READER_MORE:
	default:
		return a->used == b->used;
	}
}

/*
 * The result of feeding d in one piece, after checking that every other
 * chunking gives the same.  The caller frees it.
 */
static void
outcome_all(const char *name, const char *d, size_t len, struct outcome *o)
{
	static const size_t fixed[] = { 1, 2, 3, 4, 5, 7, 64, 4096 };
	struct outcome other;
	char how[64] = "";
	bool same = true;

	run_reader(d, len, CUT_WHOLE, 0, o);
	for (size_t i = 0; same && i < sizeof fixed / sizeof *fixed; i++) {
		if (fixed[i] > len && i > 0)
			break;
		run_reader(d, len, CUT_FIXED, fixed[i], &other);
		if (!outcome_same(o, &other)) {
			same = false;
			(void)snprintf(how, sizeof how, "chunks of %zu",
			    fixed[i]);
		}
		outcome_free(&other);
	}
	if (same) {
		run_reader(d, len, CUT_AFTER_CR, 0, &other);
		if (!outcome_same(o, &other)) {
			same = false;
			(void)snprintf(how, sizeof how, "split after each CR");
		}
		outcome_free(&other);
	}
	rng_state = 0x12345678u;
	for (int i = 0; same && i < 20; i++) {
		run_reader(d, len, CUT_RANDOM, 1 + (size_t)i * 3, &other);
		if (!outcome_same(o, &other)) {
			same = false;
			(void)snprintf(how, sizeof how, "random chunking %d", i);
		}
		outcome_free(&other);
	}
	CHECK(same, "%s: same result in every chunking%s%s", name,
	    same ? "" : ", differs with ", how);
}

/* A complete reply: code, text (tlen bytes), lines, bytes consumed. */
static void
expect_done(const char *name, const char *d, size_t len, int code,
    const char *text, size_t tlen, size_t nlines, size_t used)
{
	struct outcome o;

	outcome_all(name, d, len, &o);
	CHECK(o.state == READER_DONE, "%s: complete (state %d, err \"%s\")",
	    name, (int)o.state, o.err);
	if (o.state == READER_DONE) {
		CHECK(o.code == code, "%s: code %d (got %d)", name, code,
		    o.code);
		bool eq = o.text.len == tlen && (tlen == 0 ||
		    memcmp(o.text.data, text, tlen) == 0);
		CHECK(eq, "%s: text", name);
		if (!eq) {
			printf("#   got  [%s]\n", esc(o.text.data, o.text.len));
			printf("#   want [%s]\n", esc(text, tlen));
		}
		CHECK(o.nlines == nlines, "%s: %zu lines (got %zu)", name,
		    nlines, o.nlines);
		CHECK(o.used == used, "%s: consumed %zu (got %zu)", name, used,
		    o.used);
	}
	outcome_free(&o);
}

static void
expect_error(const char *name, const char *d, size_t len)
{
	struct outcome o;

	outcome_all(name, d, len, &o);
	CHECK(o.state == READER_ERROR && o.err[0] != '\0' &&
	    strchr(o.err, '\n') == NULL,
	    "%s: rejected with a reason (state %d, code %d)", name,
	    (int)o.state, o.code);
	outcome_free(&o);
}

static void
expect_more(const char *name, const char *d, size_t len)
{
	struct outcome o;

	outcome_all(name, d, len, &o);
	CHECK(o.state == READER_MORE && o.used == len,
	    "%s: wants more, all consumed (state %d, used %zu)", name,
	    (int)o.state, o.used);
	outcome_free(&o);
}

/* String literals: lengths from sizeof, so NULs are allowed. */
#define DONE(name, lit, code, text, nlines) \
	expect_done(name, lit, sizeof(lit) - 1, code, text, sizeof(text) - 1, \
	    nlines, sizeof(lit) - 1)
#define ERROR(name, lit) expect_error(name, lit, sizeof(lit) - 1)
#define MORE(name, lit) expect_more(name, lit, sizeof(lit) - 1)

static void
test_basic(void)
{
	DONE("one line", "250 ok\r\n", 250, "ok", 1);
	DONE("greeting", "220 mx.example ESMTP ready\r\n", 220,
	    "mx.example ESMTP ready", 1);
	DONE("multi-line", "250-mx.example\r\n250-PIPELINING\r\n250 SIZE 100\r\n",
	    250, "mx.example\nPIPELINING\nSIZE 100", 3);
	DONE("code only", "250\r\n", 250, "", 1);
	DONE("code and space", "250 \r\n", 250, "", 1);
	DONE("empty continuation", "250-\r\n250 \r\n", 250, "\n", 2);
	DONE("empty continuation then code only", "250-\r\n250\r\n", 250,
	    "\n", 2);
	DONE("code-only continuation texts", "250-a\r\n250-\r\n250 b\r\n",
	    250, "a\n\nb", 3);
	DONE("text starting with digits", "250-234 Text\r\n250 ok\r\n", 250,
	    "234 Text\nok", 2);
	DONE("text like a final line", "250-250 x\r\n250 y\r\n", 250,
	    "250 x\ny", 2);
	DONE("continuation decided by byte 4 only", "250-250-\r\n250 \r\n",
	    250, "250-\n", 2);
	DONE("two spaces", "250  x\r\n", 250, " x", 1);
	DONE("LF only", "250-a\n250 b\n", 250, "a\nb", 2);
	DONE("LF and CRLF mixed", "250-a\n250-b\r\n250 c\n", 250, "a\nb\nc", 3);
	DONE("bare CR is text", "250 a\rb\r\n", 250, "a\rb", 1);
	DONE("CR CR LF keeps one CR", "250 a\r\r\n", 250, "a\r", 1);
	DONE("bare CR then LF-only", "250-a\r\r\n250 b\n", 250, "a\r\nb", 2);
	DONE("bare CR does not end a line", "250 a\r250 b\r\n", 250,
	    "a\r250 b", 1);
	ERROR("NUL inside text is refused, never cut short",
	    "250 a\0b\r\n");
	DONE("8-bit text", "250 \xc3\xa9t\xe9\r\n", 250, "\xc3\xa9t\xe9", 1);
	DONE("tab separator is text", "250 \tx\r\n", 250, "\tx", 1);
	DONE("lowest code", "200 x\r\n", 200, "x", 1);
	DONE("highest code", "599 x\r\n", 599, "x", 1);
	DONE("unknown in-range code", "299 x\r\n", 299, "x", 1);
	DONE("334 is a reply", "334 \r\n", 334, "", 1);
	DONE("421", "421 closing\r\n", 421, "closing", 1);
}

static void
test_malformed(void)
{
	ERROR("199", "199 x\r\n");
	ERROR("600", "600 x\r\n");
	ERROR("099", "099 x\r\n");
	ERROR("999", "999 x\r\n");
	ERROR("000", "000\r\n");
	ERROR("199 code only", "199\r\n");
	ERROR("out of range in a later line", "250-a\r\n199 b\r\n");
	ERROR("differing codes", "250-a\r\n251-b\r\n550 c\r\n");
	ERROR("differing last code", "250-a\r\n550 c\r\n");
	ERROR("differing first digit", "250-a\r\n450 a\r\n");
	ERROR("letter O in code", "25O ok\r\n");
	ERROR("four digits", "2500 x\r\n");
	ERROR("leading space", " 250 x\r\n");
	ERROR("leading dash", "-250 x\r\n");
	ERROR("letter after code", "250x\r\n");
	ERROR("tab after code", "250\tx\r\n");
	ERROR("empty line", "\r\n");
	ERROR("empty LF line", "\n");
	ERROR("+OK", "+OK\r\n");
	ERROR("one digit", "2\r\n");
	ERROR("two digits", "25\r\n");
	ERROR("NUL in code", "2\0" "0 x\r\n");
	ERROR("NUL as separator", "250\0x\r\n");
	ERROR("CR as separator", "250\rx\r\n");
	ERROR("bad line after good ones", "250-a\r\n250-b\r\nxyz\r\n");
	ERROR("empty line inside", "250-a\r\n\r\n250 b\r\n");
	MORE("nothing", "");
	MORE("one digit, no end", "2");
	MORE("code, no end", "250");
	MORE("code and CR", "250\r");
	MORE("continuation, no last", "250-a\r\n250-b\r\n");
	MORE("partial last", "250-a\r\n250 b");
	/* Garbage is judged at the end of its line, not before. */
	MORE("garbage without an end", "garbage");
}

static void
test_enhanced(void)
{
	struct outcome o;
	char out[16];

	outcome_all("enhanced 2.1.0", "250 2.1.0 ok\r\n", 14, &o);
	CHECK_STR(o.enhanced, "2.1.0", "250 2.1.0 ok: enhanced code");
	CHECK(o.text.data && strcmp(o.text.data, "2.1.0 ok") == 0,
	    "250 2.1.0 ok: text keeps the code");
	outcome_free(&o);
	outcome_all("enhanced 9.9.9", "550 9.9.9\r\n", 11, &o);
	CHECK(o.state == READER_DONE && o.code == 550,
	    "550 9.9.9: still a 550 reply");
	CHECK_STR(o.enhanced, "", "550 9.9.9: 9 is not a class");
	outcome_free(&o);
	outcome_all("enhanced code alone", "550 5.1.1\r\n", 11, &o);
	CHECK_STR(o.enhanced, "5.1.1", "550 5.1.1 without text");
	outcome_free(&o);
	outcome_all("enhanced 2.0.0x", "250 2.0.0x\r\n", 12, &o);
	CHECK_STR(o.enhanced, "", "250 2.0.0x is no enhanced code");
	outcome_free(&o);
	outcome_all("enhanced first line only", "250-x\r\n250 2.0.0 ok\r\n",
	    21, &o);
	CHECK_STR(o.enhanced, "", "enhanced code only from the first line");
	outcome_free(&o);
	outcome_all("enhanced on multi-line", "250-2.0.0 a\r\n250 2.0.0 b\r\n",
	    26, &o);
	CHECK_STR(o.enhanced, "2.0.0", "enhanced code of a multi-line reply");
	outcome_free(&o);
	outcome_all("mismatched class", "250 5.0.0 ok\r\n", 14, &o);
	CHECK(o.state == READER_DONE && o.code == 250,
	    "250 5.0.0: the basic code decides");
	outcome_free(&o);
	outcome_all("enhanced code-only reply", "250\r\n", 5, &o);
	CHECK_STR(o.enhanced, "", "code-only reply has no enhanced code");
	outcome_free(&o);

	static const struct {
		const char *in;
		const char *want;
	} ec[] = {
		{ "2.1.0 ok", "2.1.0" }, { "5.1.1", "5.1.1" },
		{ "4.7.0\tx", "4.7.0" }, { "5.123.456 x", "5.123.456" },
		{ "2.0.0x", "" }, { "9.9.9", "" }, { "3.0.0 x", "" },
		{ "1.0.0", "" }, { "0.0.0", "" }, { "2.1000.0", "" },
		{ "2.0.1000", "" }, { "2..0", "" }, { "2.1.", "" },
		{ "2.1", "" }, { "2", "" }, { "", "" }, { "22.1.0", "" },
		{ " 2.1.0", "" }, { "2.a.0", "" }, { "2.0.0.0", "" },
		{ "2.0.0-x", "" }, { "2-0-0", "" }, { "5.5.5\r", "" },
	};
	for (size_t i = 0; i < sizeof ec / sizeof *ec; i++) {
		size_t n = enhanced_code_parse(ec[i].in, strlen(ec[i].in), out);
		CHECK(n == strlen(ec[i].want) && strcmp(out, ec[i].want) == 0,
		    "enhanced_code_parse(\"%s\") = \"%s\" (got %zu \"%s\")",
		    ec[i].in, ec[i].want, n, out);
	}
	/* Bounded: the length given is all that may be read. */
	{
		char t[5] = { '2', '.', '1', '.', '0' };
		size_t n = enhanced_code_parse(t, 5, out);
		CHECK(n == 5 && strcmp(out, "2.1.0") == 0,
		    "enhanced_code_parse of an unterminated buffer");
		n = enhanced_code_parse("2.1.0 ok", 3, out);
		CHECK(n == 0, "enhanced_code_parse stops at len");
	}
}

/* "250-" ... lines of n bytes of text each, last "250 end". */
static void
make_lines(struct buf *b, size_t nlines)
{
	buf_init(b);
	for (size_t i = 0; i + 1 < nlines; i++)
		buf_addf(b, "250-line %zu\r\n", i);
	buf_adds(b, "250 end\r\n");
}

static void
test_limits(void)
{
	struct buf b, want;
	struct outcome o;

	/* A line of exactly REPLY_MAX_LINE octets, terminator excluded. */
	buf_init(&b);
	buf_adds(&b, "250 ");
	for (size_t i = 4; i < REPLY_MAX_LINE; i++)
		buf_addc(&b, (char)('a' + i % 26));
	buf_adds(&b, "\r\n");
	outcome_all("line of 8192 octets", b.data, b.len, &o);
	CHECK(o.state == READER_DONE && o.text.len == REPLY_MAX_LINE - 4,
	    "line of exactly %d octets accepted (state %d, err %s)",
	    REPLY_MAX_LINE, (int)o.state, o.err);
	outcome_free(&o);

	/* The CRLF of that line split across two feeds. */
	{
		struct reply_reader rr;
		reply_reader_init(&rr);
		size_t a = reply_reader_feed(&rr, b.data, b.len - 1);
		CHECK(a == b.len - 1 && rr.state == READER_MORE,
		    "8192 octets + CR: waits for LF");
		size_t c = reply_reader_feed(&rr, b.data + b.len - 1, 1);
		CHECK(c == 1 && rr.state == READER_DONE &&
		    rr.reply.text.len == REPLY_MAX_LINE - 4,
		    "8192 octets + CR | LF accepted");
		reply_reader_free(&rr);
	}
	/* The same line with a bare LF. */
	b.len -= 2;
	buf_adds(&b, "\n");
	outcome_all("line of 8192 octets, LF", b.data, b.len, &o);
	CHECK(o.state == READER_DONE, "line of 8192 octets + LF accepted");
	outcome_free(&o);

	/* One octet more. */
	b.len -= 1;
	buf_adds(&b, "x\r\n");
	outcome_all("line of 8193 octets", b.data, b.len, &o);
	CHECK(o.state == READER_ERROR, "line of 8193 octets rejected");
	outcome_free(&o);
	{
		struct reply_reader rr;
		reply_reader_init(&rr);
		(void)reply_reader_feed(&rr, b.data, b.len - 1);
		if (rr.state == READER_MORE)
			(void)reply_reader_feed(&rr, b.data + b.len - 1, 1);
		CHECK(rr.state == READER_ERROR,
		    "8193 octets + CR | LF rejected");
		reply_reader_free(&rr);
		reply_reader_init(&rr);
		(void)reply_reader_feed(&rr, b.data, b.len - 2);
		if (rr.state == READER_MORE)
			(void)reply_reader_feed(&rr, b.data + b.len - 2, 2);
		CHECK(rr.state == READER_ERROR,
		    "8193 octets | CRLF rejected");
		reply_reader_free(&rr);
	}
	b.len -= 2;
	buf_adds(&b, "\n");
	outcome_all("line of 8193 octets, LF", b.data, b.len, &o);
	CHECK(o.state == READER_ERROR, "line of 8193 octets + LF rejected");
	outcome_free(&o);
	/* 8192 octets whose last is a bare CR, then CRLF: 8193, too long. */
	b.len -= 2;
	buf_adds(&b, "\r\r\n");
	{
		struct outcome o2;
		outcome_all("8192 octets + CR CR LF", b.data, b.len, &o2);
		CHECK(o2.state == READER_ERROR,
		    "8192 octets + bare CR + CRLF: 8193 octets, rejected");
		outcome_free(&o2);
	}
	buf_free(&b);

	/* A line that never ends: refused once over the limit, not
	   buffered for ever. */
	{
		struct reply_reader rr;
		char block[1024];
		size_t fed = 0;

		memset(block, 'x', sizeof block);
		memcpy(block, "250 ", 4);
		reply_reader_init(&rr);
		while (rr.state == READER_MORE && fed < 1024 * 1024) {
			(void)reply_reader_feed(&rr, block, sizeof block);
			fed += sizeof block;
		}
		CHECK(rr.state == READER_ERROR && fed <= REPLY_MAX_LINE + 2048,
		    "endless line refused after %zu bytes", fed);
		CHECK(rr.line.len <= REPLY_MAX_LINE + 1 + sizeof block,
		    "endless line: buffer bounded (%zu)", rr.line.len);
		reply_reader_free(&rr);
		reply_reader_init(&rr);
		for (fed = 0; rr.state == READER_MORE && fed < 100000; fed++)
			(void)reply_reader_feed(&rr, fed < 4 ? &"250 "[fed] :
			    "y", 1);
		CHECK(rr.state == READER_ERROR && fed <= REPLY_MAX_LINE + 2,
		    "endless line byte by byte refused after %zu bytes", fed);
		reply_reader_free(&rr);
	}

	/* 1000 lines accepted, 1001 rejected. */
	make_lines(&b, REPLY_MAX_LINES);
	outcome_all("1000 lines", b.data, b.len, &o);
	CHECK(o.state == READER_DONE && o.nlines == REPLY_MAX_LINES &&
	    o.used == b.len, "%d lines accepted (state %d, %zu lines)",
	    REPLY_MAX_LINES, (int)o.state, o.nlines);
	buf_init(&want);
	for (size_t i = 0; i + 1 < REPLY_MAX_LINES; i++)
		buf_addf(&want, "line %zu\n", i);
	buf_adds(&want, "end");
	CHECK(o.text.len == want.len && memcmp(o.text.data, want.data,
	    want.len) == 0, "1000 lines: text joined by LF");
	buf_free(&want);
	outcome_free(&o);
	buf_free(&b);
	make_lines(&b, REPLY_MAX_LINES + 1);
	outcome_all("1001 lines", b.data, b.len, &o);
	CHECK(o.state == READER_ERROR, "%d lines rejected",
	    REPLY_MAX_LINES + 1);
	outcome_free(&o);
	buf_free(&b);
	/* Endless continuation: refused after the cap, not later. */
	{
		struct reply_reader rr;
		size_t n = 0;
		reply_reader_init(&rr);
		while (rr.state == READER_MORE && n < 100000) {
			(void)reply_reader_feed(&rr, "250-x\r\n", 7);
			n++;
		}
		CHECK(rr.state == READER_ERROR && n == REPLY_MAX_LINES + 1,
		    "endless continuation refused at line %zu", n);
		reply_reader_free(&rr);
	}
}

static void
test_pipelining(void)
{
	static const char two[] = "250 first\r\n354 go on\r\n";
	struct reply_reader rr;
	struct reply r;
	size_t used;

	expect_done("reply then more bytes", two, sizeof two - 1, 250,
	    "first", 5, 1, 11);
	expect_done("unsolicited extra reply left", "250 ok\r\n250 extra\r\n",
	    19, 250, "ok", 2, 1, 8);
	expect_done("injected after 220", "220 Ready\r\n250-x\r\n250 AUTH "
	    "LOGIN\r\n", 35, 220, "Ready", 5, 1, 11);
	expect_done("partial line after reply", "220 ok\r\n250-AUTH PLA",
	    20, 220, "ok", 2, 1, 8);
	expect_done("garbage after reply", "250 ok\r\n\x16\x03\x01", 11, 250,
	    "ok", 2, 1, 8);

	reply_reader_init(&rr);
	reply_init(&r);
	used = reply_reader_feed(&rr, two, sizeof two - 1);
	CHECK(used == 11 && rr.state == READER_DONE,
	    "pipelined: first reply takes 11 bytes (took %zu)", used);
	CHECK(reply_reader_feed(&rr, two + used, sizeof two - 1 - used) == 0,
	    "pipelined: a finished reader takes nothing");
	reply_reader_take(&rr, &r);
	CHECK(r.code == 250 && strcmp(r.text.data, "first") == 0,
	    "pipelined: first reply taken");
	CHECK(rr.state == READER_MORE, "pipelined: reader ready after take");
	size_t used2 = reply_reader_feed(&rr, two + used,
	    sizeof two - 1 - used);
	CHECK(used2 == sizeof two - 1 - used && rr.state == READER_DONE &&
	    rr.reply.code == 354 && strcmp(rr.reply.text.data, "go on") == 0,
	    "pipelined: second reply from the rest");
	reply_reader_take(&rr, &r);
	CHECK(r.code == 354 && r.nlines == 1 && strcmp(r.text.data, "go on")
	    == 0, "pipelined: take replaces the old reply");
	/* reset instead of take */
	used = reply_reader_feed(&rr, "250-a\r\n250 b\r\n452 c\r\n", 21);
	CHECK(used == 14 && rr.state == READER_DONE && rr.reply.nlines == 2,
	    "multi-line then another: 14 bytes");
	reply_reader_reset(&rr);
	CHECK(rr.state == READER_MORE && rr.reply.nlines == 0 &&
	    rr.reply.text.len == 0, "reset forgets the reply");
	used = reply_reader_feed(&rr, "452 c\r\n", 7);
	CHECK(used == 7 && rr.state == READER_DONE && rr.reply.code == 452,
	    "after reset the next reply parses");
	reply_reader_free(&rr);
	reply_free(&r);

	/* An error stops consumption. */
	reply_reader_init(&rr);
	used = reply_reader_feed(&rr, "abc\r\n250 ok\r\n", 13);
	CHECK(rr.state == READER_ERROR && used <= 5,
	    "error: the bytes after the bad line are not taken (%zu)", used);
	CHECK(reply_reader_feed(&rr, "250 ok\r\n", 8) == 0,
	    "error: a failed reader takes nothing");
	reply_reader_reset(&rr);
	used = reply_reader_feed(&rr, "250 ok\r\n", 8);
	CHECK(used == 8 && rr.state == READER_DONE,
	    "reset after an error starts clean");
	reply_reader_free(&rr);

	/* Reply split inside the code and the separator. */
	reply_reader_init(&rr);
	const char *parts[] = { "2", "5", "0", "-", "a", "\r", "\n", "25",
	    "0 ", "b\r", "\n" };
	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
		(void)reply_reader_feed(&rr, parts[i], strlen(parts[i]));
	CHECK(rr.state == READER_DONE && rr.reply.code == 250 &&
	    strcmp(rr.reply.text.data, "a\nb") == 0,
	    "reply split in every field");
	reply_reader_free(&rr);
}

static void
test_oneline_and_parse(void)
{
	struct reply r;
	char err[128];
	char *s;

	reply_init(&r);
	CHECK(reply_parse("250-a b\r\n250-c\r\n250 d\r\n", 23, &r, err,
	    sizeof err) == 0, "reply_parse multi-line");
	s = reply_oneline(&r);
	CHECK_STR(s, "a b c d", "reply_oneline joins lines with spaces");
	free(s);
	reply_free(&r);

	CHECK(reply_parse("250\r\n", 5, &r, err, sizeof err) == 0,
	    "reply_parse code only");
	s = reply_oneline(&r);
	CHECK_STR(s, "", "reply_oneline of a code-only reply");
	free(s);
	reply_free(&r);

	CHECK(reply_parse("250-\r\n250-\r\n250 \r\n", 18, &r, err,
	    sizeof err) == 0, "reply_parse empty lines");
	s = reply_oneline(&r);
	CHECK_STR(s, "  ", "reply_oneline of three empty lines");
	free(s);
	reply_free(&r);

	s = reply_oneline(&r);
	CHECK_STR(s, "", "reply_oneline of an initialised reply");
	free(s);

	CHECK(reply_parse("550 5.1.1 no such user\r\n", 24, &r, err,
	    sizeof err) == 0 && r.code == 550 && strcmp(r.enhanced, "5.1.1")
	    == 0, "reply_parse fills code and enhanced");
	reply_free(&r);

	static const struct {
		const char *in;
		size_t len;
		const char *why;
	} bad[] = {
		{ "", 0, "empty buffer" },
		{ "250", 3, "no line end" },
		{ "250-a\r\n", 7, "continuation only" },
		{ "250 a\r\n250 b\r\n", 14, "two replies" },
		{ "250 a\r\nx", 8, "a byte after the reply" },
		{ "250 a\r\n\r\n", 9, "empty line after the reply" },
		{ "199 a\r\n", 7, "code out of range" },
		{ "250-a\r\n550 b\r\n", 14, "differing codes" },
		{ "hello\r\n", 7, "no code" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		memset(err, 0, sizeof err);
		reply_init(&r);
		int rc = reply_parse(bad[i].in, bad[i].len, &r, err, sizeof err);
		CHECK(rc == -1 && err[0] != '\0' && r.code == 0 &&
		    r.nlines == 0, "reply_parse rejects %s (\"%s\")",
		    bad[i].why, err);
		reply_free(&r);
	}
	/* A small err buffer is not overrun. */
	{
		char small[4] = { 'x', 'x', 'x', 'x' };
		reply_init(&r);
		(void)reply_parse("xx\r\n", 4, &r, small, 3);
		CHECK(small[2] == '\0' && small[3] == 'x',
		    "reply_parse respects errlen");
		reply_free(&r);
	}
}

/* A capabilities list from an EHLO reply text. */
static void
caps_from(const char *reply, struct capabilities *c)
{
	struct reply r;
	char err[128];

	reply_init(&r);
	if (reply_parse(reply, strlen(reply), &r, err, sizeof err) < 0) {
		CHECK(0, "EHLO reply parses: %s (%s)", reply, err);
		memset(c, 0, sizeof *c);
		return;
	}
	caps_parse(&r, c);
	reply_free(&r);
}

static void
test_caps(void)
{
	struct capabilities c;

	caps_from("250-mx.example Hello [192.0.2.1]\r\n250-size 1000\r\n"
	    "250-Auth login plain\r\n250-8bitmime\r\n250-PIPELINING\r\n"
	    "250 STARTTLS\r\n", &c);
	CHECK(c.esmtp, "caps: esmtp set");
	CHECK(c.n == 5, "caps: five keywords (got %zu)", c.n);
	CHECK(caps_has(&c, "SIZE") && caps_has(&c, "size") &&
	    caps_has(&c, "Size"), "caps: keywords case-insensitive");
	CHECK(c.n >= 2 && strcmp(c.v[0].keyword, "SIZE") == 0 &&
	    strcmp(c.v[1].keyword, "AUTH") == 0, "caps: keywords upper-cased");
	CHECK(c.size_offered && c.size == 1000, "caps: SIZE 1000 (got %llu)",
	    (unsigned long long)c.size);
	CHECK(caps_has_auth(&c, "LOGIN") && caps_has_auth(&c, "plain") &&
	    caps_has_auth(&c, "Plain"), "caps: AUTH mechanisms any case");
	CHECK(!caps_has_auth(&c, "CRAM-MD5") && !caps_has_auth(&c, "LOG") &&
	    !caps_has_auth(&c, "LOGINX"), "caps: AUTH whole words only");
	CHECK(caps_has(&c, "8BITMIME") && caps_has(&c, "pipelining") &&
	    caps_has(&c, "STARTTLS"), "caps: other keywords");
	CHECK(!caps_has(&c, "SMTPUTF8") && !caps_has(&c, "MX.EXAMPLE"),
	    "caps: absent keywords");
	CHECK_STR(caps_params(&c, "auth"), "login plain",
	    "caps: parameters kept as sent");
	CHECK_STR(caps_params(&c, "STARTTLS"), "", "caps: no parameters");
	CHECK(caps_params(&c, "CHUNKING") == NULL, "caps: unknown -> NULL");
	caps_free(&c);
	CHECK(c.n == 0 && c.v == NULL, "caps_free empties");

	caps_from("250-SIZE 5\r\n250 AUTH PLAIN\r\n", &c);
	CHECK(!caps_has(&c, "SIZE") && !c.size_offered && c.n == 1,
	    "caps: the first line is never a keyword");
	caps_free(&c);
	caps_from("250 STARTTLS\r\n", &c);
	CHECK(c.n == 0 && !caps_has(&c, "STARTTLS") && c.esmtp,
	    "caps: one-line EHLO reply has no keywords");
	caps_free(&c);
	caps_from("250\r\n", &c);
	CHECK(c.n == 0, "caps: code-only EHLO reply");
	caps_free(&c);

	caps_from("250-mx\r\n250 AUTH=LOGIN PLAIN\r\n", &c);
	CHECK(caps_has(&c, "AUTH") && caps_has_auth(&c, "LOGIN") &&
	    caps_has_auth(&c, "PLAIN"), "caps: obsolete AUTH=LOGIN PLAIN");
	caps_free(&c);
	caps_from("250-mx\r\n250-AUTH PLAIN\r\n250-AUTH=LOGIN\r\n"
	    "250 AUTH CRAM-MD5 XOAUTH2\r\n", &c);
	CHECK(caps_has_auth(&c, "PLAIN") && caps_has_auth(&c, "LOGIN") &&
	    caps_has_auth(&c, "CRAM-MD5") && caps_has_auth(&c, "xoauth2"),
	    "caps: several AUTH lines all count");
	caps_free(&c);
	caps_from("250-mx\r\n250 AUTH\r\n", &c);
	CHECK(caps_has(&c, "AUTH") && !caps_has_auth(&c, "PLAIN") &&
	    !caps_has_auth(&c, "LOGIN") && !caps_has_auth(&c, ""),
	    "caps: AUTH without mechanisms offers none");
	CHECK_STR(caps_params(&c, "AUTH"), "", "caps: AUTH params empty");
	caps_free(&c);
	caps_from("250-mx\r\n250 AUTH   \t \r\n", &c);
	CHECK(!caps_has_auth(&c, "PLAIN") && !caps_has_auth(&c, ""),
	    "caps: AUTH with blanks only offers none");
	caps_free(&c);
	caps_from("250-mx\r\n250 AUTH=\r\n", &c);
	CHECK(caps_has(&c, "AUTH") && !caps_has_auth(&c, "PLAIN") &&
	    !caps_has_auth(&c, ""), "caps: AUTH= offers none");
	caps_free(&c);
	caps_from("250-mx\r\n250 auth\tplain\tlogin\t\r\n", &c);
	CHECK(caps_has_auth(&c, "PLAIN") && caps_has_auth(&c, "LOGIN"),
	    "caps: tabs between mechanisms");
	caps_free(&c);

	/* SIZE variants. */
	static const struct {
		const char *line;
		uint64_t size;
	} sizes[] = {
		{ "SIZE", 0 }, { "SIZE ", 0 }, { "SIZE 0", 0 },
		{ "SIZE -1", 0 }, { "SIZE 99999999999999999999", 0 },
		{ "SIZE 18446744073709551615", 0 }, { "SIZE abc", 0 },
		{ "SIZE 10abc", 0 }, { "SIZE 1 2", 0 }, { "SIZE 0x10", 0 },
		{ "SIZE 10", 10 }, { "size 52428800", 52428800 },
		{ "SIZE 10 ", 10 }, { "SIZE 10\t", 10 }, { "SIZE\t10", 10 },
		{ "SIZE  10  ", 10 }, { "SIZE=10", 10 },
		{ "SIZE 9223372036854775807", 9223372036854775807ULL },
		{ "SIZE 9223372036854775808", 0 },
	};
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		char rep[128];
		(void)snprintf(rep, sizeof rep, "250-mx\r\n250 %s\r\n",
		    sizes[i].line);
		caps_from(rep, &c);
		CHECK(c.size_offered && c.size == sizes[i].size,
		    "caps: \"%s\" -> offered, %llu (got %d, %llu)",
		    sizes[i].line, (unsigned long long)sizes[i].size,
		    (int)c.size_offered, (unsigned long long)c.size);
		caps_free(&c);
	}
	caps_from("250-mx\r\n250-SIZE 100\r\n250 SIZE 5\r\n", &c);
	CHECK(c.size == 100, "caps: the first SIZE line counts");
	caps_free(&c);
	caps_from("250-mx\r\n250 SIZEX 100\r\n", &c);
	CHECK(!c.size_offered && c.size == 0, "caps: SIZEX is not SIZE");
	caps_free(&c);

	/* Blanks and odd lines. */
	caps_from("250-mx\r\n250-PIPELINING  \t\r\n250- \t8BITMIME\r\n"
	    "250-\r\n250-=x\r\n250- \r\n250 CHUNKING\r\n", &c);
	CHECK(caps_has(&c, "PIPELINING") && caps_has(&c, "8BITMIME") &&
	    caps_has(&c, "CHUNKING"), "caps: tabs and trailing blanks");
	CHECK_STR(caps_params(&c, "PIPELINING"), "",
	    "caps: trailing blanks dropped");
	CHECK(c.n == 3, "caps: empty and non-keyword lines skipped (n=%zu)",
	    c.n);
	caps_free(&c);
	caps_from("250-mx\r\n250-X-EXPS GSSAPI NTLM\r\n250 ENHANCEDSTATUSCODES"
	    "\r\n", &c);
	CHECK_STR(caps_params(&c, "x-exps"), "GSSAPI NTLM",
	    "caps: keyword with dash");
	CHECK(!caps_has_auth(&c, "GSSAPI"), "caps: X-EXPS is not AUTH");
	caps_free(&c);
	/* A bare CR from "\r\r\n" stays in the parameters: never a match. */
	caps_from("250-mx\r\n250 AUTH PLAIN\r\r\n", &c);
	CHECK(caps_has(&c, "AUTH"), "caps: AUTH line ending in CR");
	caps_free(&c);

	/* 60 mechanisms on one line (EAST X_1). */
	{
		struct buf b;
		buf_init(&b);
		buf_adds(&b, "250-mx\r\n250 AUTH");
		for (int i = 0; i < 60; i++)
			buf_addf(&b, " MECH-%d", i);
		buf_adds(&b, " PLAIN\r\n");
		caps_from(b.data, &c);
		CHECK(caps_has_auth(&c, "MECH-0") && caps_has_auth(&c,
		    "MECH-59") && caps_has_auth(&c, "PLAIN") &&
		    !caps_has_auth(&c, "MECH-60"), "caps: 60 mechanisms");
		caps_free(&c);
		buf_free(&b);
	}

	/* 1000 keywords: built as a reply directly (the reader stops at
	   1000 lines, the first being the name). */
	{
		struct reply r;
		reply_init(&r);
		r.code = 250;
		buf_adds(&r.text, "mx.example");
		for (int i = 0; i < 1000; i++)
			buf_addf(&r.text, "\nKW%04d p%d", i, i);
		r.nlines = 1001;
		caps_parse(&r, &c);
		CHECK(c.n == 1000, "caps: 1000 keywords (got %zu)", c.n);
		CHECK(caps_has(&c, "kw0000") && caps_has(&c, "KW0999") &&
		    !caps_has(&c, "KW1000"), "caps: first and last keyword");
		CHECK_STR(caps_params(&c, "KW0500"), "p500",
		    "caps: parameters of keyword 500");
		caps_free(&c);
		reply_free(&r);
	}
	/* A reply with NUL bytes is refused (THREATS P08). */
	{
		struct reply r;
		char err[64];
		reply_init(&r);
		CHECK(reply_parse("250-mx\r\n250 AUTH PL\0AIN\r\n", 25, &r,
		    err, sizeof err) == -1, "a reply with a NUL is refused");
		reply_free(&r);
	}
}

int
main(void)
{
	test_basic();
	test_malformed();
	test_enhanced();
	test_limits();
	test_pipelining();
	test_oneline_and_parse();
	test_caps();
	return check_done();
}
