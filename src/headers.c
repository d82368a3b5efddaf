/* headers.c: lookups and edits over a CRLF-normalised header block. */
#include <string.h>
#include <strings.h>

#include "headers.h"

/*
 * Offset of the colon of a "name:" or obsolete "name :" prefix, or 0 when
 * the line does not start a field; *name_len excludes the blanks.
 */
static size_t
field_colon(const char *s, size_t len, size_t *name_len)
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
	if (n == 0 || i == len || s[i] != ':')
		return 0;
	if (name_len != NULL)
		*name_len = n;
	return i;
}

size_t
headers_block_len(const char *data, size_t len, bool continuing,
    bool *complete)
{
	size_t pos = 0;
	bool in_field = continuing;

	*complete = false;
	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		if (nl == NULL)
			return pos;
		size_t linelen = (size_t)(nl - (data + pos)) + 1;
		const char *line = data + pos;
		if (in_field && (line[0] == ' ' || line[0] == '\t')) {
			pos += linelen;
			continue;
		}
		if (field_colon(line, linelen, NULL) == 0) {
			*complete = true;
			return pos;
		}
		in_field = true;
		pos += linelen;
	}
	return pos;
}

/* The field that starts at pos, which must be inside a header block. */
static size_t
field_end(const char *h, size_t len, size_t pos)
{
	const char *nl = memchr(h + pos, '\n', len - pos);

	pos = nl ? (size_t)(nl - h) + 1 : len;
	while (pos < len && (h[pos] == ' ' || h[pos] == '\t')) {
		nl = memchr(h + pos, '\n', len - pos);
		pos = nl ? (size_t)(nl - h) + 1 : len;
	}
	return pos;
}

void
headers_each(const char *h, size_t len,
    bool (*fn)(void *ctx, const char *h, const struct header_field *f),
    void *ctx)
{
	size_t pos = 0;

	while (pos < len) {
		struct header_field f;
		size_t nlen = 0, colon = field_colon(h + pos, len - pos, &nlen);
		if (colon == 0)
			return;
		f.start = pos;
		f.name_len = nlen;
		f.value_start = pos + colon + 1;
		f.end = field_end(h, len, pos);
		if (!fn(ctx, h, &f))
			return;
		pos = f.end;
	}
}

bool
header_is(const char *h, const struct header_field *f, const char *name)
{
	return strlen(name) == f->name_len &&
	    strncasecmp(h + f->start, name, f->name_len) == 0;
}

struct values_ctx {
	const char *name;
	struct strlist *out;
	size_t count;
};

static bool
collect_value(void *ctx, const char *h, const struct header_field *f)
{
	struct values_ctx *vc = ctx;

	if (header_is(h, f, vc->name)) {
		vc->count++;
		if (vc->out != NULL) {
			size_t end = f->end;
			if (end > f->value_start && h[end - 1] == '\n')
				end--;
			if (end > f->value_start && h[end - 1] == '\r')
				end--;
			strlist_addn(vc->out, xstrndup(h + f->value_start,
			    end - f->value_start));
		}
	}
	return true;
}

void
headers_values(const char *h, size_t len, const char *name,
    struct strlist *out)
{
	struct values_ctx vc = { name, out, 0 };

	headers_each(h, len, collect_value, &vc);
}

size_t
headers_count(const char *h, size_t len, const char *name)
{
	struct values_ctx vc = { name, NULL, 0 };

	headers_each(h, len, collect_value, &vc);
	return vc.count;
}

size_t
headers_remove(struct buf *b, const char *name)
{
	size_t pos = 0, removed = 0;

	while (pos < b->len) {
		size_t nlen = 0;
		if (field_colon(b->data + pos, b->len - pos, &nlen) == 0)
			break;
		size_t end = field_end(b->data, b->len, pos);
		if (nlen == strlen(name) &&
		    strncasecmp(b->data + pos, name, nlen) == 0) {
			memmove(b->data + pos, b->data + end, b->len - end);
			b->len -= end - pos;
			b->data[b->len] = '\0';
			removed++;
		} else
			pos = end;
	}
	return removed;
}
