/*
 * reply.c: SMTP replies (RFC 5321 4.2) and EHLO capabilities from bytes.
 * Everything here is fed untrusted input, so every limit is explicit and
 * nothing depends on a NUL terminator.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdlib.h>

#include "reply.h"

void
reply_init(struct reply *r)
{
	r->code = 0;
	r->enhanced[0] = '\0';
	buf_init(&r->text);
	r->nlines = 0;
}

void
reply_free(struct reply *r)
{
	buf_free(&r->text);
	reply_init(r);
}

char *
reply_oneline(const struct reply *r)
{
	char *s = xstrndup(r->text.data ? r->text.data : "", r->text.len);

	for (size_t i = 0; i < r->text.len; i++)
		if (s[i] == '\n')
			s[i] = ' ';
	return s;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* 1 to 3 digits, no leading zeros required; returns digits consumed. */
static size_t
digits(const char *s, size_t len, size_t max)
{
	size_t n = 0;

	while (n < len && n < max && is_digit(s[n]))
		n++;
	return n;
}

size_t
enhanced_code_parse(const char *text, size_t len, char out[16])
{
	size_t i = 0, n;

	out[0] = '\0';
	if (len < 5 || (text[0] != '2' && text[0] != '4' && text[0] != '5'))
		return 0;
	i = 1;
	for (int part = 0; part < 2; part++) {
		if (i >= len || text[i] != '.')
			return 0;
		i++;
		if ((n = digits(text + i, len - i, 3)) == 0)
			return 0;
		i += n;
	}
	if (i < len && text[i] != ' ' && text[i] != '\t')
		return 0;
	memcpy(out, text, i);
	out[i] = '\0';
	return i;
}

void
reply_reader_init(struct reply_reader *rr)
{
	rr->state = READER_MORE;
	buf_init(&rr->line);
	reply_init(&rr->reply);
	rr->err[0] = '\0';
}

void
reply_reader_reset(struct reply_reader *rr)
{
	rr->state = READER_MORE;
	buf_reset(&rr->line);
	reply_free(&rr->reply);
	rr->err[0] = '\0';
}

void
reply_reader_free(struct reply_reader *rr)
{
	buf_free(&rr->line);
	reply_free(&rr->reply);
}

void
reply_reader_take(struct reply_reader *rr, struct reply *out)
{
	reply_free(out);
	*out = rr->reply;
	reply_init(&rr->reply);
	rr->state = READER_MORE;
}

static void
reader_error(struct reply_reader *rr, const char *why)
{
	rr->state = READER_ERROR;
	(void)snprintf(rr->err, sizeof rr->err, "%s", why);
}

/* One complete line (terminator removed) into the reply being built. */
static void
reader_line(struct reply_reader *rr, const char *s, size_t len)
{
	struct reply *r = &rr->reply;
	int code;
	bool last;

	/* A NUL would cut the text short wherever it is used as a string:
	   refuse it rather than lose what follows. */
	if (memchr(s, '\0', len) != NULL) {
		reader_error(rr, "malformed reply (a NUL byte)");
		return;
	}
	if (len < 3 || !is_digit(s[0]) || !is_digit(s[1]) || !is_digit(s[2])) {
		reader_error(rr, "malformed reply (no reply code)");
		return;
	}
	code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	if (code < 200 || code > 599) {
		reader_error(rr, "reply code out of range");
		return;
	}
	if (len == 3 || s[3] == ' ')
		last = true;
	else if (s[3] == '-')
		last = false;
	else {
		reader_error(rr, "malformed reply (bad separator after code)");
		return;
	}
	if (r->nlines > 0 && code != r->code) {
		reader_error(rr, "multi-line reply with differing codes");
		return;
	}
	if (r->nlines >= REPLY_MAX_LINES) {
		reader_error(rr, "reply has too many lines");
		return;
	}
	const char *text = len > 4 ? s + 4 : "";
	size_t tlen = len > 4 ? len - 4 : 0;
	if (r->nlines == 0) {
		r->code = code;
		(void)enhanced_code_parse(text, tlen, r->enhanced);
	} else
		buf_addc(&r->text, '\n');
	buf_add(&r->text, text, tlen);
	r->nlines++;
	if (last)
		rr->state = READER_DONE;
}

size_t
reply_reader_feed(struct reply_reader *rr, const char *data, size_t len)
{
	size_t used = 0;

	while (rr->state == READER_MORE && used < len) {
		const char *p = data + used;
		const char *nl = memchr(p, '\n', len - used);
		size_t take = nl ? (size_t)(nl - p) + 1 : len - used;

		buf_add(&rr->line, p, take);
		used += take;
		if (nl == NULL) {
			/* +1: the CR of a CRLF split across two feeds. */
			if (rr->line.len > REPLY_MAX_LINE + 1)
				reader_error(rr, "reply line too long");
			break;
		}
		/* Strip LF and one CR before it; a lone CR is kept as text. */
		size_t l = rr->line.len - 1;
		if (l > 0 && rr->line.data[l - 1] == '\r')
			l--;
		if (l > REPLY_MAX_LINE)
			reader_error(rr, "reply line too long");
		else
			reader_line(rr, rr->line.data, l);
		buf_reset(&rr->line);
	}
	return used;
}

int
reply_parse(const char *data, size_t len, struct reply *out, char *err,
    size_t errlen)
{
	struct reply_reader rr;
	size_t used;
	int rc = -1;

	reply_reader_init(&rr);
	used = reply_reader_feed(&rr, data, len);
	if (rr.state == READER_ERROR)
		(void)snprintf(err, errlen, "%s", rr.err);
	else if (rr.state == READER_MORE)
		(void)snprintf(err, errlen, "incomplete reply");
	else if (used != len)
		(void)snprintf(err, errlen, "data after the reply");
	else {
		reply_reader_take(&rr, out);
		rc = 0;
	}
	reply_reader_free(&rr);
	return rc;
}

/* --- EHLO capabilities (RFC 5321 4.1.1.1) --- */

static void
caps_add(struct capabilities *c, const char *kw, size_t kwlen,
    const char *params, size_t plen)
{
	c->v = xreallocarray(c->v, c->n + 1, sizeof *c->v);
	char *k = xstrndup(kw, kwlen);
	for (char *q = k; *q; q++)
		*q = (char)toupper((unsigned char)*q);
	/* Trailing blanks carry no meaning and would confuse SIZE. */
	while (plen > 0 && (params[plen - 1] == ' ' || params[plen - 1] == '\t'))
		plen--;
	c->v[c->n].keyword = k;
	c->v[c->n].params = xstrndup(params, plen);
	c->n++;
}

void
caps_parse(const struct reply *ehlo, struct capabilities *c)
{
	const char *s = ehlo->text.data ? ehlo->text.data : "";
	const char *end = s + ehlo->text.len;
	size_t lineno = 0;

	memset(c, 0, sizeof *c);
	c->esmtp = true;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl ? nl : end;

		if (lineno++ > 0) {
			const char *k = s;
			while (k < le && (*k == ' ' || *k == '\t'))
				k++;
			const char *ke = k;
			/* A keyword is alphanumerics and '-'; AUTH=LOGIN is the
			   obsolete form of AUTH LOGIN. */
			while (ke < le && (isalnum((unsigned char)*ke) ||
			    *ke == '-'))
				ke++;
			if (ke > k) {
				const char *p = ke;
				if (p < le && (*p == ' ' || *p == '\t' ||
				    *p == '='))
					p++;
				while (p < le && (*p == ' ' || *p == '\t'))
					p++;
				caps_add(c, k, (size_t)(ke - k), p,
				    (size_t)(le - p));
			}
		}
		s = nl ? nl + 1 : end;
	}
	const char *size = caps_params(c, "SIZE");
	if (size != NULL) {
		const char *errstr = NULL;
		long long v = 0;
		c->size_offered = true;
		if (*size != '\0')
			v = strtonum(size, 0, LLONG_MAX, &errstr);
		c->size = errstr == NULL ? (uint64_t)v : 0;
	}
}

void
caps_free(struct capabilities *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].keyword);
		free(c->v[i].params);
	}
	free(c->v);
	memset(c, 0, sizeof *c);
}

const char *
caps_params(const struct capabilities *c, const char *keyword)
{
	for (size_t i = 0; i < c->n; i++)
		if (ascii_ieq(c->v[i].keyword, keyword))
			return c->v[i].params;
	return NULL;
}

bool
caps_has(const struct capabilities *c, const char *keyword)
{
	return caps_params(c, keyword) != NULL;
}

bool
caps_has_auth(const struct capabilities *c, const char *mech)
{
	size_t mlen = strlen(mech);

	/* Every AUTH line counts: some servers send AUTH and AUTH= both. */
	for (size_t i = 0; i < c->n; i++) {
		if (!ascii_ieq(c->v[i].keyword, "AUTH"))
			continue;
		const char *p = c->v[i].params;
		while (*p) {
			while (*p == ' ' || *p == '\t')
				p++;
			const char *e = p;
			while (*e && *e != ' ' && *e != '\t')
				e++;
			if ((size_t)(e - p) == mlen &&
			    strncasecmp(p, mech, mlen) == 0)
				return true;
			p = e;
		}
	}
	return false;
}
