/* message.c: reading the message whole, normalised, with a flat memory. */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#include "encoder.h"
#include "headers.h"
#include "message.h"

#define READ_BLOCK	(128 * 1024)
/* read(2) size of the ordinary path: larger reads and spool writes cost
   fewer calls (a tenth of the read's time on a 100 MB message), and the
   blocks add only a few hundred KiB to the peak RSS. */
#define INPUT_BLOCK	(256 * 1024)

void
message_init(struct message *m)
{
	memset(m, 0, sizeof *m);
	buf_init(&m->head);
	buf_init(&m->body);
	m->spool_fd = -1;
	m->body_at_bol = true;
}

void
message_free(struct message *m)
{
	buf_free(&m->head);
	buf_free(&m->body);
	if (m->spool_fd >= 0)
		(void)close(m->spool_fd);
	message_init(m);
}

uint64_t
message_size(const struct message *m)
{
	return m->head.len + m->body_len;
}

/* The message input cannot be read, or not as it was checked. */
static int
input_failed(struct failure *f, const char *why)
{
	return fail(f, FAIL_NOINPUT, 0, "reading the message", "%s", why);
}

static int
open_spool(struct failure *f)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	/* O_TMPFILE: the spool never has a name anybody could open. */
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		char *path = xasprintf("%s/carrier.XXXXXX", dir);
		fd = mkostemp(path, O_CLOEXEC);
		if (fd >= 0)
			(void)unlink(path);
		free(path);
	}
	if (fd < 0)
		return fail(f, FAIL_OSERR, 0, "temporary file",
		    "cannot create in %s: %s", dir, strerror(errno));
	return fd;
}

/* List where body lines starting with a dot start (up to a limit: more
   than that, and the body is sent through the dot-stuffing copy).  By
   the dots rather than the lines: most bodies (base64 above all) have
   far fewer dots than lines. */
static void
note_dots(struct message *m, const char *p, size_t n)
{
	const char *end = p + n;

	for (const char *q = p; m->n_dots <= MESSAGE_DOTS_MAX &&
	    (q = memchr(q, '.', (size_t)(end - q))) != NULL; q++) {
		if (q == p ? !m->body_at_bol : q[-1] != '\n')
			continue;
		if (m->n_dots == MESSAGE_DOTS_MAX)
			m->n_dots++;
		else
			m->dots[m->n_dots++] = m->body_len + (uint64_t)(q - p);
	}
}

/* Append body bytes, moving to the spool file once memory is full. */
static int
body_add(struct message *m, const char *p, size_t n, struct failure *f)
{
	if (n == 0)
		return 0;
	note_dots(m, p, n);
	m->body_at_bol = p[n - 1] == '\n';
	m->body_len += n;
	if (m->spool_fd < 0 && m->body.len + n <= MESSAGE_MEMORY_MAX) {
		buf_add(&m->body, p, n);
		return 0;
	}
	if (m->spool_fd < 0) {
		if ((m->spool_fd = open_spool(f)) < 0)
			return -1;
		if (write_all(m->spool_fd, m->body.data, m->body.len) < 0)
			goto err;
		buf_free(&m->body);
	}
	if (write_all(m->spool_fd, p, n) < 0)
		goto err;
	return 0;
err:
	return fail(f, FAIL_OSERR, 0, "temporary file", "write: %s",
	    strerror(errno));
}

struct reader {
	struct message *m;
	const struct read_rules *rules;
	bool in_head;		/* still collecting the header block */
	bool first_line;	/* for the mbox "From " line */
	bool ended;		/* a lone dot ended the input */
	bool skip_from;		/* dropping the rest of a "From " line */
	bool at_line_start;	/* everything placed so far ends with LF */
	size_t line_len;	/* length of the current body line so far */
	struct buf pending;	/* normalised bytes not yet placed */
};

static uint64_t
load64(const char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof w);
	return w;
}

/* Note a byte >= 0x80, for BODY=8BITMIME and the -v warning. */
static void
note_eightbit(struct message *m, const char *p, size_t n)
{
	/* 32 bytes at a time into four independent accumulators (not one
	   chain of ORs): this runs over every byte of a message that may be
	   gigabytes. */
	uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
	size_t i = 0;

	if (m->eightbit)
		return;
	for (; i + 32 <= n; i += 32) {
		a0 |= load64(p + i);
		a1 |= load64(p + i + 8);
		a2 |= load64(p + i + 16);
		a3 |= load64(p + i + 24);
	}
	uint64_t acc = a0 | a1 | a2 | a3;
	for (; i < n; i++)
		acc |= (unsigned char)p[i];
	if (acc & 0x8080808080808080ULL)
		m->eightbit = true;
}

/* Note 8-bit bytes and over-long lines, for the -v warnings and BODY=. */
static void
scan_bytes(struct reader *r, const char *p, size_t n)
{
	note_eightbit(r->m, p, n);
	if (r->m->long_lines)
		return;
	const char *end = p + n;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		r->line_len += len;
		if (r->line_len > 999)	/* 998 + CR */
			r->m->long_lines = true;
		if (nl == NULL)
			break;
		r->line_len = 0;
		p = nl + 1;
	}
}

/*
 * Place normalised bytes: header block first, then body.  Only complete
 * lines are examined; a partial line waits in r->pending.
 */
static int
place(struct reader *r, bool at_eof, struct failure *f)
{
	struct buf *pb = &r->pending;
	size_t pos = 0;

	/* Nothing pending (an empty input, or the buffer freed once the
	   body streamed): the offsets below want an array, if empty. */
	if (pb->data == NULL)
		buf_adds(pb, "");
	if (r->first_line) {
		const char *nl = memchr(pb->data, '\n', pb->len);
		if (nl == NULL && !at_eof && pb->len < 5)
			return 0;
		r->first_line = false;
		if (pb->len >= 5 && memcmp(pb->data, "From ", 5) == 0)
			r->skip_from = true;
	}
	if (r->skip_from) {
		const char *nl = memchr(pb->data, '\n', pb->len);
		pos = nl ? (size_t)(nl - pb->data) + 1 : pb->len;
		if (nl != NULL)
			r->skip_from = false;
		else {
			buf_consume(pb, pos);
			return 0;
		}
	}
	if (r->rules->lone_dot_ends) {
		/* Stop at a line that is only ".", as sendmail does. */
		size_t ls = pos;
		if (!r->at_line_start) {
			const char *nl = memchr(pb->data + ls, '\n',
			    pb->len - ls);
			ls = nl ? (size_t)(nl - pb->data) + 1 : pb->len;
		}
		while (ls < pb->len) {
			const char *nl = memchr(pb->data + ls, '\n',
			    pb->len - ls);
			size_t le = nl ? (size_t)(nl - pb->data) + 1 : pb->len;
			if (nl == NULL && !at_eof)
				break;
			if ((le - ls == 3 && memcmp(pb->data + ls, ".\r\n", 3)
			    == 0) || (le - ls == 1 && pb->data[ls] == '.')) {
				pb->len = ls;
				r->ended = true;
				break;
			}
			ls = le;
		}
	}
	if (r->in_head) {
		bool complete;
		size_t hl = headers_block_len(pb->data + pos, pb->len - pos,
		    r->m->head.len > 0, &complete);
		scan_bytes(r, pb->data + pos, hl);
		if (r->m->head.len + hl > MESSAGE_HEADER_MAX)
			return fail(f, FAIL_DATAERR, 0, "message",
			    "header block larger than %d bytes",
			    MESSAGE_HEADER_MAX);
		buf_add(&r->m->head, pb->data + pos, hl);
		pos += hl;
		if (complete || at_eof || r->ended)
			r->in_head = false;
		else if (pb->len - pos > MESSAGE_HEADER_MAX)
			return fail(f, FAIL_DATAERR, 0, "message",
			    "header line longer than %d bytes",
			    MESSAGE_HEADER_MAX);
	}
	if (!r->in_head) {
		size_t end = pb->len;
		/* A lone dot may still be coming: hold back a last line
		   that is only "." (the CR waits in the CRLF state). */
		if (r->rules->lone_dot_ends && !at_eof && !r->ended &&
		    end > pos && pb->data[end - 1] == '.' &&
		    (end - 1 == pos ? r->at_line_start :
		    pb->data[end - 2] == '\n'))
			end--;
		scan_bytes(r, pb->data + pos, end - pos);
		if (body_add(r->m, pb->data + pos, end - pos, f) < 0)
			return -1;
		if (end > pos)
			r->at_line_start = pb->data[end - 1] == '\n';
		pos = end;
	} else if (pos > 0 && pb->len > 0)
		r->at_line_start = true;
	buf_consume(pb, pos);
	return 0;
}

/*
 * CRLF line ends only, checked block by block: every LF follows a CR,
 * every CR precedes an LF.  *prev is the last byte of the block before.
 */
static bool
crlf_only(const char *p, size_t len, char *prev)
{
	const char *end = p + len;

	for (const char *q = p; (q = memchr(q, '\n', (size_t)(end - q))) != NULL;
	    q++)
		if ((q == p ? *prev : q[-1]) != '\r')
			return false;
	/* A CR at the end of the block is checked with the next one. */
	if (*prev == '\r' && len > 0 && p[0] != '\n')
		return false;
	for (const char *q = p; (q = memchr(q, '\r', (size_t)(end - q))) != NULL;
	    q++)
		if (q + 1 < end && q[1] != '\n')
			return false;
	if (len > 0)
		*prev = end[-1];
	return true;
}

/* A block of the file as transmission form requires it: no NUL, CRLF
   line ends only (prev as for crlf_only). */
static bool
block_ok(const char *p, size_t n, char *prev)
{
	return memchr(p, '\0', n) == NULL && crlf_only(p, n, prev);
}

static bool
same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/*
 * The fast path for a large regular file already in transmission form:
 * the normalised message would equal the file, so the body is not copied
 * into the spool but read from the file at send time.  The file is
 * checked by blocks, so memory stays flat; its size, time and the digest
 * of the body are kept for message_each_chunk, which sends only what was
 * checked.  Returns 1 when it applied, 0 when the ordinary path must read
 * the file (its offset is left where it was), -1 with *f.
 */
static int
read_as_is(struct message *m, int fd, const struct read_rules *rules,
    struct failure *f)
{
	struct stat st, after;
	off_t start;
	struct buf first;
	char *block = NULL, prev = '\0';
	gnutls_hash_hd_t hash = NULL;
	int rc = 0;

	if (rules->lone_dot_ends || fstat(fd, &st) < 0 ||
	    !S_ISREG(st.st_mode) || (start = lseek(fd, 0, SEEK_CUR)) < 0 ||
	    st.st_size - start <= MESSAGE_MEMORY_MAX)
		return 0;
	size_t len = (size_t)(st.st_size - start);
	size_t want = len < MESSAGE_HEADER_MAX ? len : MESSAGE_HEADER_MAX;

	/* The header block, from the first megabyte at most. */
	buf_init(&first);
	buf_reserve(&first, want);
	ssize_t got = pread(fd, first.data, want, start);
	if (got != (ssize_t)want)
		goto out;
	first.len = want;
	bool complete;
	size_t hl = headers_block_len(first.data, want, false, &complete);
	/* A body that fits in memory is read the ordinary way. */
	if (len - hl <= MESSAGE_MEMORY_MAX || memcmp(first.data, "From ", 5) ==
	    0 || (!complete && hl < want))
		goto out;

	/* The header block is sent from memory: these very bytes are
	   checked.  The body is checked as read now from the file. */
	struct reader r = { m, rules, false, false, false, false, true, 0,
	    { 0 } };
	if (!block_ok(first.data, hl, &prev) ||
	    gnutls_hash_init(&hash, GNUTLS_DIG_SHA256) < 0)
		goto out;
	scan_bytes(&r, first.data, hl);
	block = xmalloc(READ_BLOCK);
	for (size_t off = hl; off < len;) {
		size_t n = len - off < READ_BLOCK ? len - off : READ_BLOCK;
		if (pread(fd, block, n, start + (off_t)off) != (ssize_t)n ||
		    !block_ok(block, n, &prev))
			goto out;
		scan_bytes(&r, block, n);
		(void)gnutls_hash(hash, block, n);
		off += n;
	}
	if (prev != '\n')
		goto out;	/* no final CRLF: the ordinary path adds it */
	/* Written to while it was checked: the ordinary path copies it. */
	if (fstat(fd, &after) < 0 || after.st_size != st.st_size ||
	    !same_time(&after.st_mtim, &st.st_mtim))
		goto out;
	gnutls_hash_output(hash, m->digest);
	buf_add(&m->head, first.data, hl);
	m->body_len = len - hl;
	m->spool_off = start + (off_t)hl;
	m->as_is = true;
	m->file_size = st.st_size;
	m->file_mtime = st.st_mtim;
	m->spool_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	rc = m->spool_fd < 0 ? fail(f, FAIL_OSERR, 0, "message", "dup: %s",
	    strerror(errno)) : 1;
out:
	if (rc == 0) {
		/* Whatever the checks saw, the ordinary path starts over. */
		m->eightbit = m->long_lines = false;
	}
	if (hash != NULL)
		gnutls_hash_deinit(hash, NULL);
	free(block);
	buf_free(&first);
	return rc;
}

/*
 * The reader is past the header block with nothing held back, and no
 * lone dot can end the input: every normalised byte belongs to the body
 * as it comes.  Then a block is normalised straight into out (room for
 * 2 n + 2 octets), its lines measured on the way, and written to the
 * body: one pass over the bytes instead of place()'s several.
 */
static bool
body_steady(const struct reader *r)
{
	return !r->in_head && !r->first_line && !r->skip_from &&
	    !r->rules->lone_dot_ends && r->pending.len == 0;
}

static int
body_block(struct reader *r, struct crlf_state *crlf, const char *in,
    size_t n, char *out, struct failure *f)
{
	/* The normaliser's line is the one scan_bytes was measuring. */
	crlf->line_len = r->line_len;
	crlf->longest = 0;
	size_t len = crlf_normalize_into(crlf, in, n, out);
	r->line_len = crlf->line_len;
	/* The unfinished line counts already: it only grows. */
	if (crlf->longest > 998 || crlf->line_len > 998)
		r->m->long_lines = true;
	note_eightbit(r->m, out, len);
	if (len > 0)
		r->at_line_start = out[len - 1] == '\n';
	return body_add(r->m, out, len, f);
}

int
message_read(struct message *m, int fd, const struct read_rules *rules,
    struct failure *f)
{
	struct reader r = { m, rules, true, true, false, false, true, 0,
	    { 0 } };
	struct crlf_state crlf;
	char *block, *out;
	int rc;

	if ((rc = read_as_is(m, fd, rules, f)) != 0)
		return rc < 0 ? -1 : 0;
	block = xmalloc(INPUT_BLOCK);
	out = xmalloc(2 * INPUT_BLOCK + 2);
	rc = -1;
	crlf_init(&crlf);
	buf_init(&r.pending);
	while (!r.ended) {
		ssize_t n = read(fd, block, INPUT_BLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			input_failed(f, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (memchr(block, '\0', (size_t)n) != NULL) {
			fail(f, FAIL_DATAERR, 0, "message",
			    "contains a NUL byte");
			goto out;
		}
		if (body_steady(&r)) {
			buf_free(&r.pending);	/* its pages, for the RSS */
			if (body_block(&r, &crlf, block, (size_t)n, out, f) < 0)
				goto out;
			continue;
		}
		crlf_normalize(&crlf, block, (size_t)n, &r.pending);
		if (place(&r, false, f) < 0)
			goto out;
	}
	if (!r.ended) {
		crlf_finish(&crlf, &r.pending);
		if (place(&r, true, f) < 0)
			goto out;
	}
	/* An empty message is sent as one empty line, as smtplib does. */
	if (message_size(m) == 0) {
		buf_add(&m->body, "\r\n", 2);
		m->body_len = 2;
	}
	rc = 0;
out:
	buf_free(&r.pending);
	free(out);
	free(block);
	return rc;
}

bool
message_spooled(const struct message *m)
{
	return m->spool_fd >= 0 && !m->as_is && m->body_len >= 2 &&
	    m->body_at_bol && m->n_dots <= MESSAGE_DOTS_MAX &&
	    (m->head.len == 0 || m->head.data[m->head.len - 1] == '\n');
}

static int
file_changed(struct failure *f)
{
	return input_failed(f, "the file changed after it was checked");
}

/* The input file still has the size and time it had when checked. */
static bool
file_same(const struct message *m)
{
	struct stat st;

	return fstat(m->spool_fd, &st) == 0 && st.st_size == m->file_size &&
	    same_time(&st.st_mtim, &m->file_mtime);
}

/*
 * The body of a message read as it is, from the input file, which
 * another writer may change at any time.  Only the checked length is
 * read; every block is checked again as in read_as_is before fn sees it,
 * so no byte goes out that breaks the transmission form; and the last
 * block is held back until the digest of everything read equals the
 * digest taken by the check, so the bytes sent are the bytes checked.  A
 * change found on the way is FAIL_NOINPUT before the message can end: the
 * BDAT chunk misses its last octets, DATA its final dot.
 */
static int
each_as_is(const struct message *m,
    int (*fn)(void *ctx, const char *p, size_t n), void *ctx,
    struct failure *f)
{
	char *block, prev = m->head.len > 0 ? m->head.data[m->head.len - 1] :
	    '\0';
	gnutls_hash_hd_t hash;
	unsigned char digest[sizeof m->digest];
	uint64_t off = 0;
	int rc = -1;

	if (gnutls_hash_init(&hash, GNUTLS_DIG_SHA256) < 0)
		return fail(f, FAIL_INTERNAL, 0, "message", "no SHA-256");
	block = xmalloc(READ_BLOCK);
	while (off < m->body_len) {
		uint64_t left = m->body_len - off;
		size_t want = left < READ_BLOCK ? (size_t)left : READ_BLOCK;
		ssize_t n = pread(m->spool_fd, block, want,
		    m->spool_off + (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			input_failed(f, strerror(errno));
			goto out;
		}
		if (n == 0 || !file_same(m) || !block_ok(block, (size_t)n,
		    &prev)) {
			file_changed(f);
			goto out;
		}
		(void)gnutls_hash(hash, block, (size_t)n);
		off += (uint64_t)n;
		if (off == m->body_len) {
			gnutls_hash_output(hash, digest);
			if (memcmp(digest, m->digest, sizeof digest) != 0 ||
			    !file_same(m)) {
				file_changed(f);
				goto out;
			}
		}
		if (fn(ctx, block, (size_t)n) < 0)
			goto out;
	}
	rc = 0;
out:
	gnutls_hash_deinit(hash, NULL);
	free(block);
	return rc;
}

int
message_each_chunk(const struct message *m,
    int (*fn)(void *ctx, const char *p, size_t n), void *ctx,
    struct failure *f)
{
	/* A file changed already: nothing of the message goes out. */
	if (m->as_is && !file_same(m))
		return file_changed(f);
	if (m->head.len > 0 && fn(ctx, m->head.data, m->head.len) < 0)
		return -1;
	if (m->as_is)
		return each_as_is(m, fn, ctx, f);
	if (m->spool_fd < 0)
		return m->body.len > 0 ? fn(ctx, m->body.data, m->body.len) : 0;

	char *block = xmalloc(READ_BLOCK);
	uint64_t off = 0;
	int rc = 0;
	while (off < m->body_len) {
		uint64_t left = m->body_len - off;
		ssize_t n = pread(m->spool_fd, block, left < READ_BLOCK ?
		    (size_t)left : READ_BLOCK, m->spool_off + (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = fail(f, FAIL_OSERR, 0, "temporary file", "read: %s",
			    n < 0 ? strerror(errno) : "short file");
			break;
		}
		if ((rc = fn(ctx, block, (size_t)n)) < 0)
			break;
		off += (uint64_t)n;
	}
	free(block);
	return rc;
}
