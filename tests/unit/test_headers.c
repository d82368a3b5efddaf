/*
 * test_headers.c: headers_block_len, headers_each, header_is,
 * headers_values, headers_count and headers_remove (src/headers.c).
 * THREATS I11, I12, B12.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "headers.h"
#include "util.h"

static void
block(const char *name, const char *d, size_t want, bool want_complete)
{
	bool complete = !want_complete;
	size_t got = headers_block_len(d, strlen(d), false, &complete);

	CHECK(got == want && complete == want_complete,
	    "headers_block_len: %s (got %zu %s, want %zu %s)", name, got,
	    complete ? "complete" : "open", want,
	    want_complete ? "complete" : "open");
}

static void
test_block_len(void)
{
	block("empty input", "", 0, false);
	block("one field", "Subject: x\r\n", 12, false);
	block("stops at the empty line", "Subject: x\r\n\r\nbody\r\n", 12,
	    true);
	block("empty line first", "\r\nSubject: x\r\n", 0, true);
	block("LF-only empty line", "A: b\n\nbody\n", 5, true);
	block("two fields", "A: b\r\nC: d\r\n\r\n", 12, true);
	block("continuation lines", "A: b\r\n c\r\n\td\r\nE: f\r\n\r\n", 20,
	    true);
	block("stops at a non-field line", "A: b\r\nnot a field\r\nC: d\r\n",
	    6, true);
	block("mbox From line is no field", "From a@b Mon\r\nA: b\r\n", 0,
	    true);
	block("obsolete blanks before the colon make a field",
	    "A: b\r\nX : y\r\n", 13, false);
	block("colon first is no field", "A: b\r\n: y\r\n", 6, true);
	block("control in name is no field", "A: b\r\nX\x01Y: y\r\n", 6, true);
	block("8-bit in name is no field", "A: b\r\nX\xe9: y\r\n", 6, true);
	block("DEL in name is no field", "A: b\r\nX\x7f: y\r\n", 6, true);
	block("continuation first is no field", " A: b\r\nC: d\r\n", 0, true);
	block("tab continuation first is no field", "\tA: b\r\n", 0, true);
	block("partial last line not counted", "A: b\r\nC: d", 6, false);
	block("partial first line", "Subject: x", 0, false);
	block("partial continuation not counted", "A: b\r\n c", 6, false);
	block("partial non-field line", "A: b\r\nno colon", 6, false);
	block("partial empty-line CR", "A: b\r\n\r", 6, false);
	block("name only", "A:\r\n\r\n", 4, true);
	block("printable name", "X-!#$%&'*+-/=?^_`{|}~: v\r\n\r\n", 26, true);
	block("colon in value", "A: b: c\r\n\r\n", 9, true);
	block("Bcc-Foo is a field", "Bcc-Foo: x\r\n\r\n", 12, true);
	block("line of blanks ends the block", "A: b\r\n \r\n", 9, false);
	block("blank line with spaces after continuation",
	    "A: b\r\n  \r\n\r\n", 10, true);
	block("obsolete tab before the colon", "A\t: b\r\n\r\n", 7, true);
	block("obsolete blanks before the colon", "Bcc \t : x\r\n", 11,
	    false);
	block("blank inside a name is no field", "A: b\r\nB cc: x\r\n", 6,
	    true);
	block("blanks only before the colon is no field", " : x\r\n", 0,
	    true);
	block("blanks without a colon is no field", "A: b\r\nAbc  \r\n", 6,
	    true);
}

static void
cont(const char *name, const char *d, bool continuing, size_t want,
    bool want_complete)
{
	bool complete = !want_complete;
	size_t got = headers_block_len(d, strlen(d), continuing, &complete);

	CHECK(got == want && complete == want_complete,
	    "headers_block_len continuing=%d: %s (got %zu %s, want %zu %s)",
	    (int)continuing, name, got, complete ? "complete" : "open", want,
	    want_complete ? "complete" : "open");
}

/* `continuing`: the data follows a field already counted. */
static void
test_block_len_continuing(void)
{
	cont("leading continuation belongs to the field",
	    " c@z\r\nTo: d\r\n\r\n", true, 13, true);
	cont("leading continuation without a field ends the block",
	    " c@z\r\nTo: d\r\n\r\n", false, 0, true);
	cont("leading tab continuation", "\tc\r\n\tc2\r\n\r\n", true, 9,
	    true);
	cont("partial leading continuation waits", " c@", true, 0, false);
	cont("empty line still ends it", "\r\nbody\r\n", true, 0, true);
	cont("non-field line still ends it", "not a field\r\n", true, 0,
	    true);
	cont("fields after continuations", " a\r\nB: c\r\n d\r\n", true,
	    14, false);
	cont("empty data", "", true, 0, false);

	/* Reading a block in pieces, each piece `continuing` once a field
	   was seen, gives the block read whole. */
	static const char h[] = "To: a@x,\r\n b@y,\r\n\tc@z\r\nBcc: d,\r\n"
	    " e\r\nSubject: s\r\n\r\nbody\r\n";
	bool whole_c;
	size_t whole = headers_block_len(h, sizeof h - 1, false, &whole_c);
	size_t bad = 0;
	for (size_t cut = 0; cut <= sizeof h - 1; cut++) {
		bool c1, c2 = false;
		size_t a = headers_block_len(h, cut, false, &c1), b = 0;
		if (!c1)
			b = headers_block_len(h + a, sizeof h - 1 - a, a > 0,
			    &c2);
		if ((c1 ? a : a + b) != whole || (c1 || c2) != whole_c)
			bad++;
	}
	CHECK(whole == 48 && whole_c && bad == 0, "block read in two pieces "
	    "at every cut == block read whole (%zu, %zu cuts differ)", whole,
	    bad);
}

static void
test_values(void)
{
	static const char h[] =
	    "To: a@x,\r\n b@y\r\n"
	    "Cc: c@z\r\n"
	    "to:   d@w  \r\n"
	    "Subject: hello\r\n\tworld\r\n"
	    "TO:\r\n"
	    "X-To: not@this\r\n"
	    "To-Do: nor@this\r\n";
	struct strlist l = { 0 };

	headers_values(h, sizeof h - 1, "To", &l);
	CHECK(l.n == 3, "headers_values To: three fields (got %zu)", l.n);
	if (l.n == 3) {
		CHECK_STR(l.v[0], " a@x,\r\n b@y",
		    "headers_values: folded value raw, final CRLF dropped");
		CHECK_STR(l.v[1], "   d@w  ", "headers_values: blanks kept");
		CHECK_STR(l.v[2], "", "headers_values: empty value");
	}
	strlist_free(&l);
	headers_values(h, sizeof h - 1, "subject", &l);
	CHECK(l.n == 1 && strcmp(l.v[0], " hello\r\n\tworld") == 0,
	    "headers_values: lower-case name, tab continuation");
	strlist_free(&l);
	headers_values(h, sizeof h - 1, "Bcc", &l);
	CHECK(l.n == 0, "headers_values: absent field");
	strlist_free(&l);
	/* values appended after what is already there */
	strlist_add(&l, "first");
	headers_values(h, sizeof h - 1, "cc", &l);
	CHECK(l.n == 2 && strcmp(l.v[0], "first") == 0 &&
	    strcmp(l.v[1], " c@z") == 0, "headers_values appends");
	strlist_free(&l);

	CHECK(headers_count(h, sizeof h - 1, "To") == 3, "headers_count To");
	CHECK(headers_count(h, sizeof h - 1, "tO") == 3,
	    "headers_count case-insensitive");
	CHECK(headers_count(h, sizeof h - 1, "X-TO") == 1, "headers_count X-To");
	CHECK(headers_count(h, sizeof h - 1, "T") == 0,
	    "headers_count: no prefix match");
	CHECK(headers_count(h, sizeof h - 1, "To-") == 0,
	    "headers_count: no longer-name match");
	CHECK(headers_count(h, sizeof h - 1, "world") == 0,
	    "headers_count: continuation text is no field");
	CHECK(headers_count("", 0, "To") == 0, "headers_count: empty block");

	/* Obsolete syntax: blanks before the colon belong to no name. */
	headers_values("Bcc \t: x\r\n y\r\nbcc: z\r\n", 22, "Bcc", &l);
	CHECK(l.n == 2 && strcmp(l.v[0], " x\r\n y") == 0 &&
	    strcmp(l.v[1], " z") == 0, "headers_values: \"Bcc \\t:\" is Bcc");
	strlist_free(&l);
	CHECK(headers_count("Bcc : x\r\n", 9, "Bcc ") == 0 &&
	    headers_count("Bcc : x\r\n", 9, "bcc") == 1,
	    "headers_count: the name excludes the blanks");

	/* A value without a final CRLF (the last line of a block that
	   ended at EOF). */
	headers_values("A: b\r\nB: c", 10, "B", &l);
	CHECK(l.n == 1 && strcmp(l.v[0], " c") == 0,
	    "headers_values: field without final CRLF");
	strlist_free(&l);
	headers_values("A: x\n y\nB: c\n", 13, "A", &l);
	CHECK(l.n == 1 && strcmp(l.v[0], " x\n y") == 0,
	    "headers_values: LF-only lines");
	strlist_free(&l);
	/* Stops at the first non-field line. */
	headers_values("A: 1\r\nno field\r\nA: 2\r\n", 22, "A", &l);
	CHECK(l.n == 1, "headers_values stops at a non-field line");
	strlist_free(&l);
}

struct each_ctx {
	struct buf names;
	int stop_after;
	int seen;
};

static bool
each_fn(void *ctx, const char *h, const struct header_field *f)
{
	struct each_ctx *c = ctx;

	buf_add(&c->names, h + f->start, f->name_len);
	buf_addf(&c->names, "[%zu,%zu,%zu]", f->start, f->value_start,
	    f->end);
	return ++c->seen != c->stop_after;
}

static void
test_each(void)
{
	static const char h[] = "A: 1\r\nBb: 2\r\n 3\r\nC:\r\n";
	struct each_ctx c = { { 0 }, 0, 0 };

	headers_each(h, sizeof h - 1, each_fn, &c);
	CHECK_STR(c.names.data, "A[0,2,6]Bb[6,9,17]C[17,19,21]",
	    "headers_each: names and offsets");
	buf_free(&c.names);
	c.seen = 0;
	c.stop_after = 2;
	headers_each(h, sizeof h - 1, each_fn, &c);
	CHECK(c.seen == 2, "headers_each stops when fn returns false");
	buf_free(&c.names);

	struct header_field f = { 6, 17, 2, 9 };
	CHECK(header_is(h, &f, "bb") && header_is(h, &f, "BB") &&
	    !header_is(h, &f, "B") && !header_is(h, &f, "Bbb"),
	    "header_is: whole name, any case");
}

/* headers_remove on s; returns the result and the count in *n. */
static char *
removed(const char *s, const char *name, size_t *n)
{
	struct buf b;
	char *r;

	buf_init(&b);
	buf_adds(&b, s);
	*n = headers_remove(&b, name);
	r = xstrndup(b.data ? b.data : "", b.len);
	if (b.data && b.data[b.len] != '\0') {
		free(r);
		r = xstrdup("BAD: not NUL-terminated");
	}
	buf_free(&b);
	return r;
}

static void
rm(const char *name, const char *in, const char *field, const char *want,
    size_t want_n)
{
	size_t n;
	char *got = removed(in, field, &n);

	CHECK(strcmp(got, want) == 0 && n == want_n, "headers_remove %s: %s",
	    field, name);
	if (strcmp(got, want) != 0 || n != want_n)
		printf("#   got  [%s] (%zu)\n#   want [%s] (%zu)\n", got, n,
		    want, want_n);
	free(got);
}

static void
test_remove(void)
{
	rm("at the start", "Bcc: a@x\r\nTo: b@y\r\n", "Bcc", "To: b@y\r\n", 1);
	rm("in the middle", "To: b@y\r\nBcc: a@x\r\nCc: c@z\r\n", "Bcc",
	    "To: b@y\r\nCc: c@z\r\n", 1);
	rm("at the end", "To: b@y\r\nBcc: a@x\r\n", "Bcc", "To: b@y\r\n", 1);
	rm("the only field", "Bcc: a@x\r\n", "Bcc", "", 1);
	rm("empty value", "To: b@y\r\nBcc:\r\nCc: c\r\n", "Bcc",
	    "To: b@y\r\nCc: c\r\n", 1);
	rm("continuation lines", "To: b@y\r\nBcc: a@x,\r\n c@z,\r\n\td@w\r\n"
	    "Cc: e@v\r\n", "Bcc", "To: b@y\r\nCc: e@v\r\n", 1);
	rm("continuation lines at the start", "Bcc: a@x,\r\n c@z\r\nTo: b\r\n",
	    "Bcc", "To: b\r\n", 1);
	rm("continuation lines at the end", "To: b\r\nBcc: a@x,\r\n c@z\r\n",
	    "Bcc", "To: b\r\n", 1);
	rm("repeated", "Bcc: 1\r\nTo: b\r\nBcc: 2\r\n 2b\r\nBcc: 3\r\n"
	    "Cc: c\r\nBcc: 4\r\n", "Bcc", "To: b\r\nCc: c\r\n", 4);
	rm("adjacent", "Bcc: 1\r\nBcc: 2\r\nbcc: 3\r\nTo: b\r\n", "Bcc",
	    "To: b\r\n", 3);
	rm("case variants", "BCC: 1\r\nTo: b\r\nbcc: 2\r\nbCc: 3\r\n", "Bcc",
	    "To: b\r\n", 3);
	rm("name given in lower case", "BCC: 1\r\nTo: b\r\n", "bcc",
	    "To: b\r\n", 1);
	rm("not Bcc-Foo or X-Bcc", "Bcc-Foo: x\r\nX-Bcc: y\r\nBc: z\r\n"
	    "Bccc: w\r\nResent-Bcc: v\r\n", "Bcc",
	    "Bcc-Foo: x\r\nX-Bcc: y\r\nBc: z\r\nBccc: w\r\nResent-Bcc: v\r\n",
	    0);
	rm("Resent-Bcc", "Resent-Bcc: a\r\n b\r\nBcc: c\r\nTo: d\r\n",
	    "Resent-Bcc", "Bcc: c\r\nTo: d\r\n", 1);
	rm("absent", "To: b\r\nCc: c\r\n", "Bcc", "To: b\r\nCc: c\r\n", 0);
	rm("empty block", "", "Bcc", "", 0);
	rm("last field without CRLF", "To: b\r\nBcc: a", "Bcc", "To: b\r\n",
	    1);
	rm("LF-only lines", "To: b\nBcc: a\n c\nCc: d\n", "Bcc",
	    "To: b\nCc: d\n", 1);
	rm("obsolete blanks before the colon", "To: b\r\nBcc : a\r\n"
	    "BCC\t: c\r\n d\r\nCc: e\r\n", "Bcc", "To: b\r\nCc: e\r\n", 2);
	rm("obsolete Bcc-Foo : kept", "Bcc-Foo : a\r\nX-Bcc : b\r\n", "Bcc",
	    "Bcc-Foo : a\r\nX-Bcc : b\r\n", 0);
	rm("Bcc text in a value is kept", "Subject: Bcc: x\r\n"
	    "Comments: hi\r\n Bcc: y\r\n", "Bcc",
	    "Subject: Bcc: x\r\nComments: hi\r\n Bcc: y\r\n", 0);
	/* In a message's header buffer only the block is passed; past a
	   non-field line the rest is body and stays. */
	rm("stops at the end of the block", "Bcc: a\r\n\r\nBcc: body\r\n",
	    "Bcc", "\r\nBcc: body\r\n", 1);

	/* After removal no field of that name is left. */
	static const char big[] = "Bcc: 1\r\n 1b\r\nTo: b\r\nBCC: 2\r\n"
	    "\t2b\r\n\t2c\r\nbcc:\r\nX: y\r\nBcc: 4";
	struct buf b;
	buf_init(&b);
	buf_adds(&b, big);
	size_t before = headers_count(b.data, b.len, "Bcc");
	size_t n = headers_remove(&b, "Bcc");
	CHECK(before == 4 && n == 4 && headers_count(b.data, b.len, "bcc")
	    == 0 && headers_count(b.data, b.len, "To") == 1 &&
	    headers_count(b.data, b.len, "X") == 1,
	    "headers_remove: count before %zu, removed %zu, none left", before,
	    n);
	CHECK_STR(b.data, "To: b\r\nX: y\r\n", "headers_remove: the rest");
	buf_free(&b);
}

int
main(void)
{
	test_block_len();
	test_block_len_continuing();
	test_values();
	test_each();
	test_remove();
	return check_done();
}
