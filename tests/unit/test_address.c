/*
 * test_address.c: address_list_parse, address_check, address_is_ascii and
 * address_strip_brackets.  Expected results for well-formed lists agree
 * with Python 3.11's email.utils.getaddresses(strict=True); where Python
 * guesses or rejects valid input the RFC 5322 grammar decides, and the
 * case says so.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "check.h"
#include "util.h"

/* What parse() returns for a rejected field. */
#define ERR "ERR"

static char last_err[256];

/*
 * Parse s[0..len) into a list that already holds one entry, and return
 * the new addresses joined by "|", or ERR.  Also checks the contract:
 * nothing appended on error, a one-line reason, no address with a control
 * character.
 */
static const char *
parsen(const char *s, size_t len)
{
	static char res[8192];
	struct strlist l = { 0 };
	struct buf b;
	int r;

	strlist_add(&l, "sentinel");
	memset(last_err, 'x', sizeof last_err);
	r = address_list_parse(s, len, &l, last_err, sizeof last_err);
	buf_init(&b);
	if (r < 0) {
		if (l.n != 1)
			buf_adds(&b, "BAD: appended on error");
		else if (memchr(last_err, '\0', sizeof last_err) == NULL ||
		    last_err[0] == '\0' || strchr(last_err, '\n') != NULL)
			buf_adds(&b, "BAD: reason not one line");
		else
			buf_adds(&b, ERR);
	} else if (r != 0) {
		buf_adds(&b, "BAD: return value");
	} else {
		for (size_t i = 1; i < l.n; i++) {
			for (const char *c = l.v[i]; *c; c++)
				if ((unsigned char)*c < 0x20 || *c == 0x7f)
					buf_adds(&b, "BAD: control ");
			buf_addf(&b, "%s%s", i > 1 ? "|" : "", l.v[i]);
		}
	}
	(void)snprintf(res, sizeof res, "%s", b.data ? b.data : "");
	buf_free(&b);
	strlist_free(&l);
	return res;
}

static const char *
parse(const char *s)
{
	return parsen(s, strlen(s));
}

struct pcase {
	const char *in;
	const char *want;	/* addresses joined by "|", "" or ERR */
};

/* Well-formed fields and what getaddresses gives for them. */
static const struct pcase good[] = {
	/* Plain and named addresses. */
	{ "a@x", "a@x" },
	{ "alice@example.org", "alice@example.org" },
	{ "  alice@example.org  ", "alice@example.org" },
	{ "Name <a@x>", "a@x" },
	{ "Alice Smith <alice@example.org>", "alice@example.org" },
	{ "<a@x>", "a@x" },
	{ "\"Name, Jr.\" <a@x>", "a@x" },
	{ "\"x@y\" <z@w>", "z@w" },
	{ "\"a <b@c>\" <d@e>", "d@e" },
	{ "\"quote \\\" inside\" <a@x>", "a@x" },
	{ "\"paren ( in name\" <a@x>", "a@x" },
	{ "A.B. Name <a@x>", "a@x" },
	{ "Dr. Who <who@tardis.example>", "who@tardis.example" },
	{ "Jörg Müller <j@x>", "j@x" },
	{ "=?utf-8?q?J=C3=B6rg?= <j@x>", "j@x" },
	{ "=?UTF-8?B?SsO2cmc=?= <j@x>", "j@x" },
	{ "=?utf-8?q?a?= =?utf-8?q?b?= <a@x>", "a@x" },
	{ "Name<a@x>", "a@x" },
	{ "Name <a@x> ", "a@x" },
	/* Lists and empty elements. */
	{ "a@x, b@y", "a@x|b@y" },
	{ "a@x,b@y,c@z", "a@x|b@y|c@z" },
	{ "Alice <a@x>, \"Bob, B.\" <b@y>, c@z", "a@x|b@y|c@z" },
	{ "a@x,,b@y", "a@x|b@y" },
	{ ",a@x", "a@x" },
	{ "a@x,", "a@x" },
	{ " , , a@x , , ", "a@x" },
	{ "", "" },
	{ "   ", "" },
	{ ",,,", "" },
	{ "(just a comment)", "" },
	/* Comments, nested, and in addr-spec positions. */
	{ "a@x (Comment)", "a@x" },
	{ "(c) a@x", "a@x" },
	{ "a(c)@x", "a@x" },
	{ "a@(c)x", "a@x" },
	{ "a@x(c)", "a@x" },
	{ "A (x (y) z) <a@x>", "a@x" },
	{ "<(c)a@x(d)>", "a@x" },
	{ "a@x (c), <b@y>", "a@x|b@y" },
	{ "a@x (with \\) escaped paren)", "a@x" },
	{ "a@x (\"quote in comment)", "a@x" },
	{ "(a (b (c (d (e))))) a@x", "a@x" },
	{ "Name (comment) <a@x>", "a@x" },
	/* obs-local-part and obs-domain: CFWS around dots. */
	{ "a . b @ x", "a.b@x" },
	{ " a @ x ", "a@x" },
	{ "a@ x", "a@x" },
	{ "a@x . y", "a@x.y" },
	{ "first.last@sub.example.org", "first.last@sub.example.org" },
	{ "a+tag@x", "a+tag@x" },
	{ "!#$%&'*+-/=?^_`{|}~@x", "!#$%&'*+-/=?^_`{|}~@x" },
	/* Stray dots in a local part are kept as written (as Python). */
	{ "a..b@x", "a..b@x" },
	{ ".a@x", ".a@x" },
	{ "a.@x", "a.@x" },
	/* Quoted local parts keep their quotes and escapes. */
	{ "\"a b\"@x", "\"a b\"@x" },
	{ "\"a\\\"b\"@x", "\"a\\\"b\"@x" },
	{ "\"a\\\\b\"@x", "\"a\\\\b\"@x" },
	{ "\"a\".b@x", "\"a\".b@x" },
	{ "\"\"@x", "\"\"@x" },
	{ "\"a@b\"@x", "\"a@b\"@x" },
	{ "Name <\"a b\"@x>", "\"a b\"@x" },
	/* Domain literals (Python's strict mode refuses these; RFC 5322
	 * section 3.4.1 allows them). */
	{ "user@[192.0.2.1]", "user@[192.0.2.1]" },
	{ "user@[IPv6:2001:db8::1]", "user@[IPv6:2001:db8::1]" },
	{ "Name <user@[192.0.2.1]>", "user@[192.0.2.1]" },
	{ "user@ [192.0.2.1] (c)", "user@[192.0.2.1]" },
	/* Groups. */
	{ "undisclosed-recipients:;", "" },
	{ "undisclosed-recipients: ;", "" },
	{ "Foo Bar: ;", "" },
	{ "team: a@x, b@y;", "a@x|b@y" },
	{ "team: a@x, b@y; , c@z", "a@x|b@y|c@z" },
	{ "a@x, g: b@y; , c@z", "a@x|b@y|c@z" },
	{ "g: a@x;, b@y", "a@x|b@y" },
	{ "g: Alice <a@x>, \"B, b\" <b@y>;", "a@x|b@y" },
	{ "g: a@x,,b@y;", "a@x|b@y" },
	{ "g: ,a@x,;", "a@x" },
	{ "g: a@x; (comment)", "a@x" },
	{ "\"Quoted group\": a@x;", "a@x" },
	{ "g1: a@x;, g2: b@y;", "a@x|b@y" },
	{ "g:;,a@x", "a@x" },
	/* Obsolete routes are dropped. */
	{ "<@a,@b:c@d>", "c@d" },
	{ "<@a:c@d>", "c@d" },
	{ "Name <@a.example,@b.example:c@d>", "c@d" },
	{ "<,@a,,@b:c@d>", "c@d" },
	{ "<@[192.0.2.1]:c@d>", "c@d" },
	{ "< @a , @b : c@d >", "c@d" },
	/* The null address. */
	{ "<>", "" },
	{ "MAILER-DAEMON <>", "" },
	{ "< >", "" },
	{ "<>, a@x", "|a@x" },
	/* Local names without '@' (cron's "root"). */
	{ "root", "root" },
	{ "root, admin", "root|admin" },
	{ "www-data", "www-data" },
	{ "first.last", "first.last" },
	{ "<root>", "root" },
	{ "Cron Daemon <root>", "root" },
	{ "root (Cron Daemon)", "root" },
	{ "g: root;", "root" },
	/* Folding wherever CFWS may be, and in quoted strings. */
	{ "a@x,\r\n b@y", "a@x|b@y" },
	{ "a@x,\n\tb@y", "a@x|b@y" },
	{ "Name\r\n <a@x>", "a@x" },
	{ "<a@x\r\n >", "a@x" },
	{ "a\r\n @x", "a@x" },
	{ "\"a\r\n b\"@x", "\"a b\"@x" },
	{ "(comment\r\n continued) a@x", "a@x" },
	{ "\"Long\r\n name\" <a@x>", "a@x" },
	{ "a@x,\r\n \r\n b@y", "a@x|b@y" },
	{ "g:\r\n a@x;", "a@x" },
	{ "a@x\r\n", "a@x" },
	{ "a@x\n", "a@x" },
	/* UTF-8 (RFC 6532). */
	{ "jörg@bücher.de", "jörg@bücher.de" },
	{ "Jörg <jörg@bücher.de>", "jörg@bücher.de" },
	{ "用户@例子.广告", "用户@例子.广告" },
	{ "\"ö ü\"@x", "\"ö ü\"@x" },
};

/* Malformed fields: an error, never a guess. */
static const struct pcase bad[] = {
	/* Python CVE-2023-27043 and test_getaddresses_parsing_errors. */
	{ "alice@example.org)<bob@example.com>", ERR },
	{ "a@b<<c@d>", ERR },
	{ "alice@example.org<bob@example.com>", ERR },
	{ "alice@example.com <bob@example.com>", ERR },
	{ "a@x b@y", ERR },
	{ "<a@x> <b@y>", ERR },
	{ "a@x (c) <b@y>", ERR },
	{ "alice@example.org)", ERR },
	{ "alice@example.org(", ERR },
	{ "(alice@example.org", ERR },
	{ "alice(@example.org", ERR },
	{ "a@x (c (d)", ERR },
	{ "a@x (c))", ERR },
	{ "a@x)(", ERR },
	{ "\"unterminated <a@x>", ERR },
	{ "\"a@x", ERR },
	{ "<a@b", ERR },
	{ "Name <a@b", ERR },
	{ "a@b>", ERR },
	{ "<<a@b>>", ERR },
	{ "<a@b>>", ERR },
	{ "a@x@y", ERR },
	{ "a@[1.2.3.4", ERR },
	{ "a@1.2.3.4]", ERR },
	{ "a@[1.2[3].4]", ERR },
	{ "a@[1.2. 3.4]", ERR },
	{ "a@[1.2.3.4].x", ERR },
	{ "[bot] <a@x>", ERR },
	{ "a\\b@x", ERR },
	{ "a@x\\", ERR },
	/* Words that are not an address. */
	{ "John Smith", ERR },
	{ "\"a b\"", ERR },
	{ "a b@x", ERR },
	{ "Name a@x", ERR },
	{ "=?utf-8?Q?a,b?= <a@x>", ERR },
	{ "foo$bar", ERR },
	{ ".root", ERR },
	{ "root.", ERR },
	{ "<\"a b\">", ERR },
	{ "Name", "Name" },	/* a single plain word is a local name */
	/* Empty or broken parts. */
	{ "@x", ERR },
	{ "a@", ERR },
	{ "a@,b@y", ERR },
	{ "<@x>", ERR },
	{ "<a@>", ERR },
	{ ".@x", ERR },
	{ "a@x.", ERR },
	{ "a@.x", ERR },
	{ "a@x..y", ERR },
	{ "a@x;", ERR },
	{ ";", ERR },
	{ ">", ERR },
	{ "a@x:", ERR },
	/* Groups. */
	{ "g: a@x", ERR },
	{ "g:", ERR },
	{ ": a@x;", ERR },
	{ "g: h: a@x;;", ERR },
	{ "g:; b@y", ERR },
	{ "g: a@x b@y;", ERR },
	/* Routes. */
	{ "@a,@b:c@d", ERR },
	{ "<@a,@b c@d>", ERR },
	{ "<@a@b:c@d>", ERR },
	{ "<@:c@d>", ERR },
	{ "<@a,@b:>", ERR },
	/* Line breaks that would start another header line. */
	{ "a@x\r\nBcc: evil@y", ERR },
	{ "a@x,\nb@y", ERR },
	{ "a@x\r b@y", ERR },
	{ "a@x\r", ERR },
	{ "\"a\nb\"@x", ERR },
	{ "(c\nd) a@x", ERR },
	{ "a@x\r\n\r\n", ERR },
	{ "\"a\\\r\n b\"@x", ERR },
	/* Control characters, in and around addresses. */
	{ "a\x01@x", ERR },
	{ "a@x\x7f", ERR },
	{ "a@x\x1b[31m", ERR },
	{ "\"a\x01\"@x", ERR },
	{ "\"a\\\x01\"@x", ERR },
	{ "(\x07) a@x", ERR },
	{ "Name\x0b <a@x>", ERR },
	{ "a@[1.2.3.\x01]", ERR },
	/* A TAB may be in a quoted string, but no address may carry one. */
	{ "\"a\tb\"@x", ERR },
	{ "\"a\r\n\tb\"@x", ERR },
	{ "\"a\\\tb\"@x", ERR },
	{ "\"tab\tin name\" <a@x>", "a@x" },
};

static void
test_parse_tables(void)
{
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		CHECK_STR(parse(good[i].in), good[i].want, "parse good[%zu] %s",
		    i, good[i].want);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK_STR(parse(bad[i].in), bad[i].want, "parse bad[%zu] (%s)",
		    i, last_err);
}

/* Bytes a C string literal cannot show well: NULs, lengths, nesting. */
static void
test_parse_bytes(void)
{
	struct buf b;

	CHECK_STR(parsen("a@x\0b", 5), ERR, "NUL inside a word");
	CHECK_STR(parsen("a@x,\0", 5), ERR, "NUL after a comma");
	CHECK_STR(parsen("\"a\0\"@x", 6), ERR, "NUL in a quoted string");
	CHECK_STR(parsen("a@x, b@y", 3), "a@x", "len limits the field");
	CHECK_STR(parsen("(", 0), "", "len 0 is an empty field");
	CHECK_STR(parsen(NULL, 0), "", "NULL is an empty field");

	/* Invalid UTF-8 passes the parser; address_check refuses it. */
	CHECK_STR(parse("\xc0\xaf@x"), "\xc0\xaf@x", "bytes >= 0x80 are atext");

	/* 100 nested comments parse; 101 are refused. */
	buf_init(&b);
	for (int i = 0; i < 100; i++)
		buf_addc(&b, '(');
	for (int i = 0; i < 100; i++)
		buf_addc(&b, ')');
	buf_adds(&b, " a@x");
	CHECK_STR(parsen(b.data, b.len), "a@x", "100 nested comments");
	buf_reset(&b);
	for (int i = 0; i < 101; i++)
		buf_addc(&b, '(');
	for (int i = 0; i < 101; i++)
		buf_addc(&b, ')');
	buf_adds(&b, " a@x");
	CHECK_STR(parsen(b.data, b.len), ERR, "101 nested comments");
	CHECK(strstr(last_err, "nested") != NULL, "reason: %s", last_err);

	/* A deep, unbalanced nest costs no stack and is refused. */
	buf_reset(&b);
	for (int i = 0; i < 1000000; i++)
		buf_addc(&b, '(');
	CHECK_STR(parsen(b.data, b.len), ERR, "a million '('");

	/* Many addresses: linear, all of them, in order. */
	buf_reset(&b);
	for (int i = 0; i < 20000; i++)
		buf_addf(&b, "%sU%d <u%d@x>", i ? ",\r\n " : "", i, i);
	{
		struct strlist l = { 0 };
		char err[128];
		int r = address_list_parse(b.data, b.len, &l, err, sizeof err);
		CHECK(r == 0 && l.n == 20000, "20000 addresses");
		CHECK(l.n == 20000 && strcmp(l.v[0], "u0@x") == 0 &&
		    strcmp(l.v[19999], "u19999@x") == 0, "in order");
		strlist_free(&l);
	}

	/* A long run of commas and of plain words. */
	buf_reset(&b);
	for (int i = 0; i < 100000; i++)
		buf_adds(&b, ",");
	CHECK_STR(parsen(b.data, b.len), "", "100000 commas");
	buf_reset(&b);
	for (int i = 0; i < 100000; i++)
		buf_adds(&b, "w ");
	CHECK_STR(parsen(b.data, b.len), ERR, "100000 words, no address");
	buf_free(&b);
}

/* Appending keeps what the list held; errors leave it alone. */
static void
test_parse_contract(void)
{
	struct strlist l = { 0 };
	char err[64];
	int r;

	r = address_list_parse("a@x", 3, &l, err, sizeof err);
	r |= address_list_parse("b@y, c@z", 8, &l, err, sizeof err);
	CHECK(r == 0 && l.n == 3 && strcmp(l.v[0], "a@x") == 0 &&
	    strcmp(l.v[2], "c@z") == 0, "appends in order");
	r = address_list_parse("d@w, e@v f@u", 12, &l, err, sizeof err);
	CHECK(r == -1 && l.n == 3, "error appends nothing, even d@w");
	CHECK(strstr(err, "offset 9") != NULL, "reason has the offset: %s",
	    err);
	r = address_list_parse("a@x)", 4, &l, NULL, 0);
	CHECK(r == -1 && l.n == 3, "err may be NULL");
	r = address_list_parse("a@x)", 4, &l, err, 8);
	CHECK(r == -1 && strlen(err) == 7, "reason truncated to errlen");
	strlist_free(&l);

	CHECK_STR((parse("alice@example.org)<bob@example.com>"), last_err),
	    "unbalanced ')' at offset 17", "reason for ')'");
	CHECK_STR((parse("<a@b"), last_err), "'<' without '>' at offset 0",
	    "reason for '<'");
	CHECK_STR((parse("Name <"), last_err), "'<' without '>' at offset 5",
	    "reason for a lone '<'");
	CHECK_STR((parse("a@x\r\nBcc: e@y"), last_err),
	    "line break not followed by a space or tab at offset 3",
	    "reason for a bare line break");
	CHECK_STR((parse("a@b<<c@d>"), last_err),
	    "unexpected '<' after an address at offset 3", "reason for '<<'");
	CHECK_STR((parse("John Smith"), last_err),
	    "display name without an address at offset 0",
	    "reason for words");
}

struct ccase {
	const char *addr;
	bool null_ok;
	const char *want;	/* NULL: acceptable */
};

static void
test_check(void)
{
	static const struct ccase cases[] = {
		{ "a@x", false, NULL },
		{ "root", false, NULL },
		{ "\"a b\"@x", false, NULL },
		{ "\"a\\\" b\"@x", false, NULL },
		{ "\"a@b c\"@x", false, NULL },
		{ "user@[IPv6:2001:db8::1]", false, NULL },
		{ "jörg@bücher.de", false, NULL },
		{ "用户@例子.广告", false, NULL },
		{ "a\xf0\x9f\x93\xa7@x", false, NULL },	/* U+1F4E7 */
		{ "\xf4\x8f\xbf\xbf@x", false, NULL },	/* U+10FFFF */
		{ "\xed\x9f\xbf@x", false, NULL },	/* U+D7FF */
		{ "a-b@x", false, NULL },
		{ "", true, NULL },
		{ "", false, "is empty" },
		{ NULL, false, "is empty" },
		{ "a@x\r\nRCPT TO:<e@y>", false,
		    "contains a control character" },
		{ "a@x\n", false, "contains a control character" },
		{ "a\r@x", false, "contains a control character" },
		{ "a\t@x", false, "contains a control character" },
		{ "a\x7f@x", false, "contains a control character" },
		{ "a\x1b@x", false, "contains a control character" },
		{ "a\xc2\x85@x", false, "contains a control character" },
		{ "a\xc2\x9f@x", false, "contains a control character" },
		{ "a\xc2\xa0@x", false, NULL },		/* U+00A0 */
		{ "\xc0\x80@x", false, "is not valid UTF-8" },	/* NUL */
		{ "\xc0\xaf@x", false, "is not valid UTF-8" },	/* overlong / */
		{ "\xe0\x80\xaf@x", false, "is not valid UTF-8" },
		{ "\xf0\x80\x80\xaf@x", false, "is not valid UTF-8" },
		{ "\xed\xa0\x80@x", false, "is not valid UTF-8" }, /* D800 */
		{ "\xed\xbf\xbf@x", false, "is not valid UTF-8" }, /* DFFF */
		{ "\xf4\x90\x80\x80@x", false, "is not valid UTF-8" },
		{ "\xf5\x80\x80\x80@x", false, "is not valid UTF-8" },
		{ "\x80@x", false, "is not valid UTF-8" },
		{ "a\xbf@x", false, "is not valid UTF-8" },
		{ "\xc3@x", false, "is not valid UTF-8" },
		{ "a@x\xe2\x82", false, "is not valid UTF-8" },
		{ "\xff@x", false, "is not valid UTF-8" },
		{ "a b@x", false, "contains a space outside quotes" },
		{ "a@x SIZE=1", false, "contains a space outside quotes" },
		{ "\"a\" b@x", false, "contains a space outside quotes" },
		{ "a@x>AUTH=<>", false, "contains '<' or '>' outside quotes" },
		{ "<a@x>", false, "contains '<' or '>' outside quotes" },
		{ "\"<a>\"@x", false, NULL },
		{ "\"a b@x", false, "has an unterminated quoted string" },
		{ "\"a\\\"@x", false, "has an unterminated quoted string" },
		{ "a@@x", false, "has an empty domain label" },
		{ "@x", false, "has an empty local part" },
		{ "a@", false, "has an empty domain" },
		{ "a@x..y", false, "has an empty domain label" },
		{ "a(b)@x", false, "is not a mailbox (local@domain)" },
		{ "a@x,b@y", false, "is not a mailbox (local@domain)" },
		{ "root", false, NULL },
		{ "a@[192.0.2.1]", false, NULL },
		{ "a@[]", false, "has a bad address literal" },
		{ "\"a b\"@x", false, NULL },
		{ "-oQ/tmp@x", false, NULL },
		{ "-f@x", false, NULL },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		CHECK_STR(address_check(cases[i].addr, cases[i].null_ok),
		    cases[i].want, "check[%zu]", i);
}

/* The RFC 5321 limits, at and just over the line. */
static void
test_check_lengths(void)
{
	char s[400];

	memset(s, 'l', 64);
	strcpy(s + 64, "@x");
	CHECK_STR(address_check(s, false), NULL, "local part of 64");
	memset(s, 'l', 65);
	strcpy(s + 65, "@x");
	CHECK_STR(address_check(s, false),
	    "has a local part longer than 64 octets", "local part of 65");
	memset(s, 'l', 65);
	s[65] = '\0';
	CHECK_STR(address_check(s, false),
	    "has a local part longer than 64 octets", "local name of 65");
	/* "a@b" of 64 + "@" is in the local part: the last '@' splits. */
	s[0] = '"';
	memset(s + 1, 'l', 60);
	strcpy(s + 61, "@b\"@x");
	CHECK_STR(address_check(s, false), NULL, "quoted '@' in local part");

	memset(s, 'd', sizeof s);
	memcpy(s, "a@", 2);
	s[254] = '\0';
	CHECK_STR(address_check(s, false), NULL, "254 octets");
	s[254] = 'd';
	s[255] = '\0';
	CHECK_STR(address_check(s, false),
	    "is longer than 254 octets (256 with <>)", "255 octets");
	s[255] = 'd';
	s[300] = '\0';
	CHECK_STR(address_check(s, false),
	    "is longer than 254 octets (256 with <>)", "300 octets");
}

static void
test_ascii_and_brackets(void)
{
	CHECK(address_is_ascii("a@x"), "ascii");
	CHECK(address_is_ascii(""), "empty is ascii");
	CHECK(!address_is_ascii("jörg@x"), "UTF-8 is not ascii");
	CHECK(!address_is_ascii("a@\xff"), "0xff is not ascii");

	static const char *const br[][2] = {
		{ "<a@b>", "a@b" },
		{ "a@b", "a@b" },
		{ "  <a@b>  ", "a@b" },
		{ "< a@b >", "a@b" },
		{ "\t<a@b>\t", "a@b" },
		{ "<>", "" },
		{ "", "" },
		{ "<<a@b>>", "<a@b>" },
		{ "<a@b", "<a@b" },
		{ "a@b>", "a@b>" },
		{ "<", "<" },
		{ "Name <a@b>", "Name <a@b>" },
		{ "<a@b>\n", "<a@b>\n" },
	};
	for (size_t i = 0; i < sizeof br / sizeof br[0]; i++) {
		char *s = address_strip_brackets(br[i][0]);
		CHECK_STR(s, br[i][1], "strip_brackets[%zu]", i);
		free(s);
	}
	CHECK(address_strip_brackets(NULL) == NULL, "strip_brackets(NULL)");
}

/*
 * Inputs from the fuzzer's corpus whose results, compared with Python's,
 * changed the parser: a local name with CFWS inside was joined up, and
 * domain literals let '>' and '"' through to the envelope.
 */
static const struct pcase fuzz_found[] = {
	{ " bx,,b@y,a@x,b%@y,bob1,1. y,5a", ERR },
	{ "bol. y", ERR },
	{ "root .admin", ERR },
	{ "<root. admin>", ERR },
	{ "e@[1>t]", ERR },
	{ "r@[\"]", ERR },
	{ "ter@[8<22.\"], sr@[I<<usPv]", ERR },
	{ "usr@[@1]", ERR },
	{ "a@[a b]", ERR },
	{ "a@[x_y]", ERR },
	{ "a@[\xc3\xa9]", ERR },
	{ "<@x:", ERR },
	{ "user@[IPv6:::ffff:192.0.2.1]", "user@[IPv6:::ffff:192.0.2.1]" },
	{ "a@[tag:some-content.1]", "a@[tag:some-content.1]" },
	{ "a@[]", ERR },
};

static void
test_fuzz_found(void)
{
	for (size_t i = 0; i < sizeof fuzz_found / sizeof fuzz_found[0]; i++)
		CHECK_STR(parse(fuzz_found[i].in), fuzz_found[i].want,
		    "fuzz[%zu] (%s)", i, last_err);
}

/* IDNA2008 A-labels for a server without SMTPUTF8 (RFC 5891). */
static const struct {
	const char *in, *want;	/* want NULL: refused */
} idn_cases[] = {
	{ "a@example.org", "a@example.org" },
	{ "a@b\xc3\xbc" "cher.example", "a@xn--bcher-kva.example" },
	{ "a@B\xc3\x9c" "CHER.example", "a@xn--bcher-kva.example" },
	{ "info@\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88",
	    "info@xn--r8jz45g.xn--zckzah" },
	/* the local part is never touched */
	{ "j\xc3\xb6rg@b\xc3\xbc" "cher.example", "j\xc3\xb6rg@xn--bcher-kva.example" },
	{ "\"a@b\"@b\xc3\xbc" "cher.example", "\"a@b\"@xn--bcher-kva.example" },
	/* address literals and null addresses stay as they are */
	{ "a@[192.0.2.1]", "a@[192.0.2.1]" },
	{ "postmaster", "postmaster" },
	{ "", "" },
	/* refused: a symbol (U+2603 SNOWMAN), a label mixing right-to-left
	   and left-to-right letters (the bidi rule of RFC 5893), a label
	   starting with a combining mark */
	{ "a@\xe2\x98\x83.example", NULL },
	{ "a@\xd7\x90" "b.example", NULL },
	{ "a@\xcc\x81x\xc3\xa9.example", NULL },
};

static void
test_idn(void)
{
	for (size_t i = 0; i < sizeof idn_cases / sizeof idn_cases[0]; i++) {
		char err[160] = "";
		char *got = address_domain_to_ascii(idn_cases[i].in, err,
		    sizeof err);
		CHECK_STR(got, idn_cases[i].want, "idn[%zu]: %s", i,
		    idn_cases[i].want ? "A-labels" : "refused");
		if (got == NULL)
			CHECK(strstr(err, "not a valid internationalized "
			    "name") != NULL, "idn[%zu]: a reason (%s)", i, err);
		free(got);
	}
	CHECK(address_local_is_ascii("a@b\xc3\xbc.example") &&
	    !address_local_is_ascii("j\xc3\xb6rg@x.example") &&
	    address_local_is_ascii(""), "address_local_is_ascii");
}

int
main(void)
{
	test_idn();
	test_parse_tables();
	test_parse_bytes();
	test_parse_contract();
	test_check();
	test_check_lengths();
	test_ascii_and_brackets();
	test_fuzz_found();
	return check_done();
}
