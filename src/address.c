/*
 * address.c: RFC 5322 address lists and envelope address checks.
 *
 * The list parser works in two passes.  The lexer turns the field body into
 * tokens (atoms, quoted strings, domain literals and the specials
 * < > @ , ; : .), dropping whitespace, folding and comments; it rejects
 * everything that cannot be part of a well-formed field (control
 * characters, a line break not followed by a space or tab, unbalanced
 * comments, quotes or brackets).  A recursive-descent parser then reads the
 * tokens with the grammar of RFC 5322 section 3.4 including its obsolete
 * forms (section 4.4).  The parser reads a run of words at most twice
 * (once to see what follows it), so both passes are linear in the input;
 * comments are counted, not recursed into, and groups and angle addresses
 * do not nest, so no input can exhaust the stack.
 *
 * Malformed input is an error, never a guess: a parser that guesses can be
 * made to send to an address other than the one a human reads
 * (CVE-2023-27043).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "address.h"
#include "util.h"

/* Comments deeper than this are an error rather than a stack or CPU risk. */
#define MAX_COMMENT_DEPTH 100

/* RFC 5321 section 4.5.3.1: local part and path ("<" addr ">") limits. */
#define MAX_LOCAL_PART 64
#define MAX_PATH 256

enum tok_type {
	TOK_END,		/* end of the field */
	TOK_ATOM,		/* 1*atext, UTF-8 allowed (RFC 6532) */
	TOK_QSTRING,		/* "..." including the quotes */
	TOK_DLITERAL,		/* [...] including the brackets */
	TOK_SPECIAL,		/* one of < > @ , ; : . */
};

struct token {
	enum tok_type type;
	char ch;		/* the character of a TOK_SPECIAL */
	size_t off, len;	/* where it is in the input */
};

struct parser {
	const char *s;		/* the field body; not NUL-terminated */
	size_t len;
	struct token *tok;	/* ends with one TOK_END */
	size_t ntok, cap;
	size_t pos;		/* next token to read */
	struct strlist found;	/* moved to the caller only on success */
	char *err;
	size_t errlen;
};

static bool
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static bool
is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 5322 atext, extended with every non-ASCII byte by RFC 6532. */
static bool
is_atext(unsigned char c)
{
	if (c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'':
	case '*': case '+': case '-': case '/': case '=': case '?':
	case '^': case '_': case '`': case '{': case '|': case '}':
	case '~':
		return true;
	default:
		return false;
	}
}

/* The specials that become tokens; the others are errors where met. */
static bool
is_token_special(unsigned char c)
{
	return c == '<' || c == '>' || c == '@' || c == ',' || c == ';' ||
	    c == ':' || c == '.';
}

/* Characters a local name (an address without '@') may have; see
 * add_local_name. */
static bool
is_local_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
	    c == '+';
}

/* Record "MESSAGE at offset N" in the caller's buffer; returns -1. */
static int fail(struct parser *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct parser *p, size_t off, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	if (p->err == NULL || p->errlen == 0)
		return -1;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	(void)snprintf(p->err, p->errlen, "%s at offset %zu", msg, off);
	return -1;
}

/* ---- lexer ---- */

static void
push_token(struct parser *p, enum tok_type type, size_t off, size_t len)
{
	if (p->ntok == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->tok = xreallocarray(p->tok, p->cap, sizeof *p->tok);
	}
	p->tok[p->ntok++] = (struct token){
		.type = type,
		.ch = type == TOK_SPECIAL ? p->s[off] : '\0',
		.off = off,
		.len = len,
	};
}

/*
 * At a CR or LF: step over a fold (CRLF or LF followed by a space or tab;
 * the WSP is left for the caller).  A line break at the very end of the
 * input is the field's own terminator and is allowed too.  Anything else
 * would let a field smuggle in another header line.
 */
static int
skip_line_break(struct parser *p, size_t *i)
{
	size_t j = *i;

	if (p->s[j] == '\r') {
		if (j + 1 >= p->len || p->s[j + 1] != '\n')
			return fail(p, j, "CR not followed by LF");
		j++;
	}
	j++;			/* the LF */
	if (j < p->len && !is_wsp((unsigned char)p->s[j]))
		return fail(p, *i, "line break not followed by a space or tab");
	*i = j;
	return 0;
}

/*
 * At a backslash inside a quoted string or comment: step over the
 * quoted-pair.  Only WSP and visible characters may be quoted.
 */
static int
skip_quoted_pair(struct parser *p, size_t *i, const char *what)
{
	size_t j = *i + 1;

	if (j >= p->len)
		return fail(p, *i, "unterminated %s", what);
	if (p->s[j] == '\r' || p->s[j] == '\n')
		return fail(p, j, "line break after a backslash");
	if (is_ctl((unsigned char)p->s[j]) && p->s[j] != '\t')
		return fail(p, j, "control character 0x%02x",
		    (unsigned char)p->s[j]);
	*i = j + 1;
	return 0;
}

/*
 * The body of a comment or quoted string, starting after its opening
 * character: text, WSP, folds and quoted-pairs.  Comments nest; `depth`
 * counts them instead of recursing.  Leaves *i after the closing character.
 */
static int
skip_delimited(struct parser *p, size_t *i, bool comment)
{
	const char *what = comment ? "comment" : "quoted string";
	size_t start = *i - 1;
	size_t depth = 1;
	size_t j = *i;

	while (depth > 0) {
		if (j >= p->len)
			return fail(p, start, "unterminated %s", what);
		unsigned char c = (unsigned char)p->s[j];
		if (c == '\\') {
			if (skip_quoted_pair(p, &j, what) < 0)
				return -1;
		} else if (c == '\r' || c == '\n') {
			if (skip_line_break(p, &j) < 0)
				return -1;
		} else if (is_ctl(c) && c != '\t') {
			return fail(p, j, "control character 0x%02x", c);
		} else if (comment && c == '(') {
			if (++depth > MAX_COMMENT_DEPTH)
				return fail(p, j, "comments nested more than "
				    "%d deep", MAX_COMMENT_DEPTH);
			j++;
		} else if (comment ? c == ')' : c == '"') {
			depth--;
			j++;
		} else {
			j++;
		}
	}
	*i = j;
	return 0;
}

/*
 * A domain literal, starting after its '['.  RFC 5322 allows any visible
 * ASCII, FWS and quoted-pairs inside, but the address literals of RFC 5321
 * section 4.1.3 (IPv4, "IPv6:...", "tag:...") need only letters, digits,
 * '.', ':' and '-', and anything more ('>', '"', a space) would break the
 * <...> of an SMTP command or confuse the server's parser.
 */
static int
skip_domain_literal(struct parser *p, size_t *i)
{
	size_t start = *i - 1;
	size_t j = *i;

	for (;; j++) {
		if (j >= p->len)
			return fail(p, start, "unterminated domain literal");
		unsigned char c = (unsigned char)p->s[j];
		if (c == ']' && j == *i)
			return fail(p, start, "empty domain literal");
		if (c == ']')
			break;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == ':' || c == '-')
			continue;
		if (is_ctl(c) && !is_wsp(c) && c != '\r' && c != '\n')
			return fail(p, j, "control character 0x%02x", c);
		if (c >= 0x21 && c <= 0x7e)
			return fail(p, j, "'%c' in a domain literal", c);
		return fail(p, j, "%s in a domain literal",
		    c >= 0x80 ? "non-ASCII byte" : "space or line break");
	}
	*i = j + 1;
	return 0;
}

static int
lex(struct parser *p)
{
	size_t i = 0;

	while (i < p->len) {
		unsigned char c = (unsigned char)p->s[i];
		size_t start = i;

		if (is_wsp(c)) {
			i++;
		} else if (c == '\r' || c == '\n') {
			if (skip_line_break(p, &i) < 0)
				return -1;
		} else if (c == '(') {
			i++;
			if (skip_delimited(p, &i, true) < 0)
				return -1;
		} else if (c == '"') {
			i++;
			if (skip_delimited(p, &i, false) < 0)
				return -1;
			push_token(p, TOK_QSTRING, start, i - start);
		} else if (c == '[') {
			i++;
			if (skip_domain_literal(p, &i) < 0)
				return -1;
			push_token(p, TOK_DLITERAL, start, i - start);
		} else if (is_atext(c)) {
			while (i < p->len && is_atext((unsigned char)p->s[i]))
				i++;
			push_token(p, TOK_ATOM, start, i - start);
		} else if (is_token_special(c)) {
			push_token(p, TOK_SPECIAL, start, 1);
			i++;
		} else if (c == ')' || c == ']') {
			return fail(p, i, "unbalanced '%c'", c);
		} else if (c == '\\') {
			return fail(p, i, "backslash outside a quoted string");
		} else {
			return fail(p, i, "control character 0x%02x", c);
		}
	}
	push_token(p, TOK_END, p->len, 0);
	return 0;
}

/* ---- parser ---- */

static const struct token *
peek(const struct parser *p)
{
	return &p->tok[p->pos];
}

static bool
is_special(const struct token *t, char ch)
{
	return t->type == TOK_SPECIAL && t->ch == ch;
}

static bool
is_word(const struct token *t)
{
	return t->type == TOK_ATOM || t->type == TOK_QSTRING;
}

/* Consume the next token if it is the special ch. */
static bool
accept(struct parser *p, char ch)
{
	if (!is_special(peek(p), ch))
		return false;
	p->pos++;
	return true;
}

/* "unexpected X CONTEXT at offset N", X describing the token. */
static int
unexpected(struct parser *p, const struct token *t, const char *context)
{
	const char *sep = *context ? " " : "";

	switch (t->type) {
	case TOK_END:
		return fail(p, t->off, "unexpected end of field%s%s", sep,
		    context);
	case TOK_SPECIAL:
		return fail(p, t->off, "unexpected '%c'%s%s", t->ch, sep,
		    context);
	case TOK_QSTRING:
		return fail(p, t->off, "unexpected quoted string%s%s", sep,
		    context);
	case TOK_DLITERAL:
		return fail(p, t->off, "unexpected domain literal%s%s", sep,
		    context);
	case TOK_ATOM:
		break;
	}
	/* Show at most 24 bytes of the word, not cutting a UTF-8 sequence. */
	size_t n = t->len;
	if (n > 24) {
		n = 24;
		while (n > 0 && ((unsigned char)p->s[t->off + n] & 0xc0) == 0x80)
			n--;
	}
	return fail(p, t->off, "unexpected '%.*s%s'%s%s", (int)n,
	    p->s + t->off, n < t->len ? "..." : "", sep, context);
}

/*
 * Append a token's text as written.  A quoted string keeps its quotes and
 * backslashes but loses the CR and LF of any fold (RFC 5322 unfolding).
 */
static void
add_token_text(const struct parser *p, const struct token *t, struct buf *b)
{
	const char *s = p->s + t->off;

	if (t->type != TOK_QSTRING) {
		buf_add(b, s, t->len);
		return;
	}
	for (size_t i = 0; i < t->len; i++)
		if (s[i] != '\r' && s[i] != '\n')
			buf_addc(b, s[i]);
}

/*
 * The one exit for addresses: take b's contents as a finished address.
 * The lexer has already refused control characters other than TAB, but a
 * TAB may survive in a quoted local part, and no address may carry one.
 */
static int
emit(struct parser *p, struct buf *b, size_t off)
{
	const char *s = b->data ? b->data : "";

	for (size_t i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_ctl(c)) {
			buf_free(b);
			return fail(p, off, "control character 0x%02x in an "
			    "address", c);
		}
	}
	strlist_addn(&p->found, xstrndup(s, b->len));
	buf_free(b);
	return 0;
}

/*
 * Tokens [first, end) written without '@' ("root"): taken as a local
 * name, as cron and mailx send them.  Only a plain dot-atom of the
 * characters of a user name, without CFWS inside, qualifies, so that stray
 * words ("John Smith", an encoded word cut at a comma) are errors instead
 * of recipients.
 */
static int
add_local_name(struct parser *p, size_t first, size_t end, bool bracketed)
{
	const struct token *t0 = &p->tok[first];
	struct buf b;

	for (size_t k = first; k < end; k++) {
		const struct token *t = &p->tok[k];

		/* Written in one piece: "root. admin" is two words. */
		if (t->type == TOK_QSTRING ||
		    (k > first && t->off != t[-1].off + t[-1].len))
			return fail(p, t0->off, bracketed ? "no '@' in address"
			    " and not a plain local name" :
			    "display name without an address");
		if (is_special(t, '.') &&
		    (k == first || k + 1 == end || is_special(t - 1, '.')))
			return fail(p, t->off, "stray '.' in a local name");
		for (size_t i = 0; i < t->len; i++)
			if (!is_local_name_char((unsigned char)p->s[t->off + i]))
				return fail(p, t->off + i, "no '@' in address"
				    " and not a plain local name");
	}
	buf_init(&b);
	for (size_t k = first; k < end; k++)
		add_token_text(p, &p->tok[k], &b);
	return emit(p, &b, t0->off);
}

/*
 * local-part = dot-atom / quoted-string / obs-local-part, i.e. words
 * joined by dots, CFWS dropped.  Stray dots (".a", "a..b", "a.") are taken
 * as written: they are unambiguous, Python accepts them and some real
 * mailboxes have them; the server has the last word.
 */
static int
parse_local_part(struct parser *p, struct buf *b)
{
	const struct token *start = peek(p);
	bool prev_word = false, any_word = false;

	for (const struct token *t = start; is_word(t) || is_special(t, '.');
	    t = peek(p)) {
		if (is_word(t) && prev_word)
			return fail(p, t->off, "words of a local part not "
			    "joined by '.'");
		prev_word = is_word(t);
		any_word |= prev_word;
		add_token_text(p, t, b);
		p->pos++;
	}
	if (any_word)
		return 0;
	if (peek(p) == start && !is_special(start, '@'))
		return unexpected(p, start, "in an address");
	return fail(p, start->off, "empty local part");
}

/*
 * domain = dot-atom / domain-literal / obs-domain.  Unlike the local part,
 * an empty label ("a@x.", "a@x..y") is an error: no host has that name.
 */
static int
parse_domain(struct parser *p, struct buf *b)
{
	const struct token *t = peek(p);

	if (t->type == TOK_DLITERAL) {
		add_token_text(p, t, b);
		p->pos++;
		return 0;
	}
	for (bool first = true;; first = false) {
		t = peek(p);
		if (t->type != TOK_ATOM) {
			if (!first && (t->type == TOK_END ||
			    t->type == TOK_SPECIAL))
				return fail(p, t->off, "empty label in a domain");
			return unexpected(p, t, first ? "after '@'" :
			    "in a domain");
		}
		add_token_text(p, t, b);
		p->pos++;
		if (!accept(p, '.'))
			return 0;
		buf_addc(b, '.');
	}
}

/* addr-spec = local-part "@" domain; emits it. */
static int
parse_addr_spec(struct parser *p)
{
	size_t off = peek(p)->off;
	struct buf b;

	buf_init(&b);
	if (parse_local_part(p, &b) < 0)
		goto bad;
	if (!accept(p, '@')) {
		(void)unexpected(p, peek(p), "in an address");
		goto bad;
	}
	buf_addc(&b, '@');
	if (parse_domain(p, &b) < 0)
		goto bad;
	return emit(p, &b, off);
bad:
	buf_free(&b);
	return -1;
}

/*
 * obs-route = obs-domain-list ":", where
 * obs-domain-list = *(CFWS / ",") "@" domain *("," [CFWS] ["@" domain]).
 * The route is read and dropped (RFC 5321 section 3.3 says to ignore it).
 */
static int
skip_route(struct parser *p)
{
	struct buf scratch;
	int r = -1;

	buf_init(&scratch);
	while (accept(p, ','))
		;
	if (!accept(p, '@')) {
		(void)unexpected(p, peek(p), "in a source route");
		goto out;
	}
	if (parse_domain(p, &scratch) < 0)
		goto out;
	while (accept(p, ','))
		if (accept(p, '@') && parse_domain(p, &scratch) < 0)
			goto out;
	if (!accept(p, ':')) {
		(void)unexpected(p, peek(p), "in a source route");
		goto out;
	}
	r = 0;
out:
	buf_free(&scratch);
	return r;
}

/* angle-addr, after its '<': "<>", "<[route] addr-spec>" or "<name>". */
static int
parse_angle_addr(struct parser *p)
{
	const struct token *open = &p->tok[p->pos - 1];
	size_t first;

	if (peek(p)->type == TOK_END)
		return fail(p, open->off, "'<' without '>'");
	if (accept(p, '>')) {
		struct buf b;

		buf_init(&b);
		return emit(p, &b, open->off);	/* the null address */
	}
	if ((is_special(peek(p), '@') || is_special(peek(p), ',')) &&
	    skip_route(p) < 0)
		return -1;
	first = p->pos;
	while (is_word(peek(p)) || is_special(peek(p), '.'))
		p->pos++;
	if (is_special(peek(p), '>') && p->pos > first) {
		if (add_local_name(p, first, p->pos, true) < 0)
			return -1;
	} else {
		p->pos = first;
		if (parse_addr_spec(p) < 0)
			return -1;
	}
	if (accept(p, '>'))
		return 0;
	if (peek(p)->type == TOK_END)
		return fail(p, open->off, "'<' without '>'");
	return unexpected(p, peek(p), "in an angle address");
}

/* Does t end a list element: end, ',' or, in a group, ';'? */
static bool
ends_element(const struct token *t, bool in_group)
{
	return t->type == TOK_END || is_special(t, ',') ||
	    (in_group && is_special(t, ';'));
}

static int parse_group(struct parser *p);

/*
 * address = mailbox / group, where mailbox = name-addr / addr-spec.
 * A display name and a local part both begin with words, so read the words
 * and dots first and let the token after them decide.
 */
static int
parse_address(struct parser *p, bool in_group)
{
	size_t first = p->pos;
	const struct token *t;

	while (is_word(peek(p)) || is_special(peek(p), '.'))
		p->pos++;
	t = peek(p);
	if (is_special(t, '@')) {
		p->pos = first;
		return parse_addr_spec(p);
	}
	if (is_special(t, '<')) {
		/* The display name (any words and dots) is dropped. */
		p->pos++;
		return parse_angle_addr(p);
	}
	if (is_special(t, ':')) {
		if (in_group)
			return fail(p, t->off, "group inside a group");
		if (p->pos == first)
			return fail(p, t->off, "group without a name");
		p->pos++;
		return parse_group(p);
	}
	if (p->pos > first && ends_element(t, in_group))
		return add_local_name(p, first, p->pos, false);
	return unexpected(p, t, p->pos > first ? "after a display name" : "");
}

/*
 * group = display-name ":" [group-list] ";" [CFWS], after its ':'.  The
 * group-list is a mailbox list that may have empty elements (RFC 5322
 * obs-mbox-list), so "g:;", "g: a@x;" and "g: ,a@x,,b@y;" all parse.
 */
static int
parse_group(struct parser *p)
{
	size_t colon = p->tok[p->pos - 1].off;

	for (;;) {
		const struct token *t = peek(p);

		if (accept(p, ';'))
			return 0;
		if (t->type == TOK_END)
			return fail(p, colon, "group not ended by ';'");
		if (accept(p, ','))
			continue;
		if (parse_address(p, true) < 0)
			return -1;
		t = peek(p);
		if (!ends_element(t, true))
			return unexpected(p, t, "after an address");
	}
}

/*
 * address-list, with the empty elements obs-addr-list allows ("a@x,,b@y",
 * a leading or trailing comma).  An empty field gives an empty list.
 */
static int
parse_list(struct parser *p)
{
	for (;;) {
		const struct token *t;

		if (peek(p)->type == TOK_END)
			return 0;
		if (accept(p, ','))
			continue;
		if (parse_address(p, false) < 0)
			return -1;
		t = peek(p);
		if (t->type != TOK_END && !is_special(t, ','))
			return unexpected(p, t, "after an address");
	}
}

int
address_list_parse(const char *s, size_t len, struct strlist *out,
    char *err, size_t errlen)
{
	struct parser p = {
		.s = s ? s : "",
		.len = s ? len : 0,
		.err = err,
		.errlen = errlen,
	};
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	r = lex(&p);
	if (r == 0)
		r = parse_list(&p);
	if (r == 0)
		for (size_t i = 0; i < p.found.n; i++) {
			strlist_addn(out, p.found.v[i]);
			p.found.v[i] = NULL;
		}
	strlist_free(&p.found);	/* free(NULL) for the moved ones */
	free(p.tok);
	return r;
}

/* ---- envelope checks ---- */

/* RFC 5322 atext, with UTF-8 (RFC 6532) allowed. */
static bool
is_atext_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80 ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/*
 * The shape of an envelope address (RFC 5321 4.1.2): a local part (dot
 * atoms, obsolete empty dots tolerated as Postfix does, or a quoted
 * string), then "@" and a domain of non-empty labels or an address
 * literal; or a bare local name such as cron's "root".
 */
static const char *
mailbox_shape(const char *s)
{
	const char *p = s;

	if (*p == '"') {
		for (p++; *p && *p != '"'; p++)
			if (*p == '\\' && p[1] != '\0')
				p++;
		if (*p++ != '"')
			return "has an unterminated quoted string";
	} else {
		while (is_atext_byte((unsigned char)*p) || *p == '.')
			p++;
	}
	if (p == s)
		return "has an empty local part";
	if (*p == '\0')
		return NULL;	/* a bare local name */
	if (*p != '@')
		return "is not a mailbox (local@domain)";
	p++;
	if (*p == '[') {
		const char *end = strchr(p, ']');
		if (end == NULL || end[1] != '\0' || end == p + 1)
			return "has a bad address literal";
		return NULL;
	}
	for (;;) {
		const char *label = p;
		while (is_atext_byte((unsigned char)*p) && *p != '.')
			p++;
		if (p == label)
			return *label == '\0' && label[-1] == '@' ?
			    "has an empty domain" : "has an empty domain label";
		if (*p == '\0')
			return NULL;
		if (*p != '.')
			return "is not a mailbox (local@domain)";
		p++;
	}
}

const char *
address_check(const char *addr, bool null_ok)
{
	const unsigned char *s = (const unsigned char *)(addr ? addr : "");
	size_t len = strlen((const char *)s);
	const char *at = strrchr((const char *)s, '@');
	bool quoted = false;

	for (size_t i = 0; i < len; i++)
		if (is_ctl(s[i]))
			return "contains a control character";
	if (len == 0)
		return null_ok ? NULL : "is empty";
	/* The path is the address inside "<" and ">". */
	if (len + 2 > MAX_PATH)
		return "is longer than 254 octets (256 with <>)";
	/* A quoted local part may contain '@'; the domain cannot. */
	if ((at ? (size_t)(at - (const char *)s) : len) > MAX_LOCAL_PART)
		return "has a local part longer than 64 octets";
	for (size_t i = 0, n; i < len; i += n) {
		uint32_t cp;

		if ((n = utf8_decode(s + i, len - i, &cp)) == 0)
			return "is not valid UTF-8";
		if (cp >= 0x80 && cp <= 0x9f)
			return "contains a control character";
	}
	for (size_t i = 0; i < len; i++) {
		if (quoted && s[i] == '\\' && s[i + 1] != '\0')
			i++;
		else if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted && s[i] == ' ')
			return "contains a space outside quotes";
		else if (!quoted && (s[i] == '<' || s[i] == '>'))
			/* It would end the <...> of the command early. */
			return "contains '<' or '>' outside quotes";
	}
	if (quoted)
		return "has an unterminated quoted string";
	/* A leading '-' is allowed (after "--" it is an address, carrier(1)
	   SENDMAIL COMPATIBILITY): carrier never hands an address to another
	   program's argv. */
	return mailbox_shape((const char *)s);
}

bool
address_is_ascii(const char *addr)
{
	for (const unsigned char *s = (const unsigned char *)(addr ? addr : "");
	    *s; s++)
		if (*s >= 0x80)
			return false;
	return true;
}

bool
address_local_is_ascii(const char *addr)
{
	const char *at = strrchr(addr, '@');
	size_t n = at ? (size_t)(at - addr) : strlen(addr);

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)addr[i] >= 0x80)
			return false;
	return true;
}

char *
address_idna_name(const char *name, char *err, size_t errlen)
{
	char *ace = NULL;
	int rc;

	if (address_is_ascii(name))
		return xstrdup(name);
	/* What is still not a valid name after the mapping is refused,
	   never guessed. */
	rc = idn2_lookup_u8((const uint8_t *)name, (uint8_t **)&ace,
	    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK) {
		(void)snprintf(err, errlen, "not a valid internationalized "
		    "name (%s)", idn2_strerror(rc));
		return NULL;
	}
	char *out = xstrdup(ace);
	idn2_free(ace);
	return out;
}

char *
address_domain_to_ascii(const char *addr, char *err, size_t errlen)
{
	const char *at = strrchr(addr, '@');
	char why[128];

	if (at == NULL || at[1] == '[' || address_is_ascii(at + 1))
		return xstrdup(addr);
	char *ace = address_idna_name(at + 1, why, sizeof why);
	if (ace == NULL) {
		(void)snprintf(err, errlen, "the domain is %s", why);
		return NULL;
	}
	char *out = xasprintf("%.*s@%s", (int)(at - addr), addr, ace);
	free(ace);
	return out;
}

/* [s, *end) without leading and trailing blanks. */
static const char *
trim_blanks(const char *s, const char **end)
{
	while (s < *end && is_wsp((unsigned char)*s))
		s++;
	while (*end > s && is_wsp((unsigned char)(*end)[-1]))
		(*end)--;
	return s;
}

char *
address_strip_brackets(const char *addr)
{
	const char *end, *s;

	if (addr == NULL)
		return NULL;
	end = addr + strlen(addr);
	s = trim_blanks(addr, &end);
	if (end - s >= 2 && s[0] == '<' && end[-1] == '>') {
		s++;
		end--;
		s = trim_blanks(s, &end);
	}
	return xstrndup(s, (size_t)(end - s));
}
