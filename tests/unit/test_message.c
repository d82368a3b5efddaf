/*
 * test_message.c: message_read, message_size and message_each_chunk
 * (src/message.c).
 *
 * Each case is read from a regular file (one read() for small input) and
 * then from a pipe split in two at every byte position: a writer child
 * writes the first part, waits until the reader has drained the pipe
 * (FIONREAD on the pipe is 0) and only then writes the second, so the
 * reader's read() calls see exactly those two parts.  How the bytes arrive
 * must not change the message.  THREATS I07, I08, I11, B02, B11, R01, R02.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "message.h"
#include "report.h"
#include "util.h"

/* message.c reads its input in blocks of this size (INPUT_BLOCK there);
   the deterministic boundary cases below depend on it. */
#define TEST_READ_BLOCK	(256 * 1024)

/* Bytes made printable for a diagnostic line. */
static const char *
esc(const char *p, size_t n)
{
	static char out[4][700];
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
	if (p != NULL && j + 5 >= sizeof out[0])
		(void)snprintf(o + j, 5, "...");
	else
		o[j] = '\0';
	return o;
}

static int
test_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* An unlinked temporary file holding d, positioned at its start. */
static int
tmpfile_fd(void)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	path = xasprintf("%s/carrier-test-message.XXXXXX", dir);
	fd = mkstemp(path);
	if (fd >= 0)
		(void)unlink(path);
	free(path);
	return fd;
}

static int
file_with(const char *d, size_t n)
{
	int fd = tmpfile_fd();

	if (fd < 0)
		return -1;
	if (test_write_all(fd, d, n) < 0 || lseek(fd, 0, SEEK_SET) != 0) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

/*
 * A pipe whose writer child writes the parts cut at cuts[0..ncuts), each
 * only after the reader has taken everything before it.  Returns the read
 * end; *pid is the child.
 */
static int
pipe_with(const char *d, size_t n, const size_t *cuts, size_t ncuts,
    pid_t *pid)
{
	int p[2];

	if (pipe(p) < 0)
		return -1;
	*pid = fork();
	if (*pid < 0) {
		(void)close(p[0]);
		(void)close(p[1]);
		return -1;
	}
	if (*pid == 0) {
		size_t start = 0;
		(void)close(p[0]);
		(void)signal(SIGPIPE, SIG_DFL);
		for (size_t i = 0; i <= ncuts; i++) {
			size_t end = i < ncuts ? cuts[i] : n;
			if (test_write_all(p[1], d + start, end - start) < 0)
				_exit(1);
			start = end;
			/* Wait until the reader has drained the pipe. */
			for (int avail = 1, tries = 0; avail > 0 &&
			    tries < 20000; tries++) {
				if (ioctl(p[1], FIONREAD, &avail) < 0)
					break;
				if (avail > 0)
					(void)usleep(100);
			}
		}
		_exit(0);
	}
	(void)close(p[1]);
	return p[0];
}

static void
reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
}

/* What message_read made of some bytes. */
struct result {
	int rc;
	struct failure f;
	struct buf head;
	struct buf all;		/* message_each_chunk, concatenated */
	uint64_t size;
	uint64_t body_len;
	bool spooled;
	bool eightbit, long_lines;
};

static int
collect(void *ctx, const char *p, size_t n)
{
	buf_add(ctx, p, n);
	return 0;
}

static void
result_free(struct result *r)
{
	buf_free(&r->head);
	buf_free(&r->all);
}

static void
read_fd(int fd, bool lone_dot, struct result *r)
{
	struct read_rules rules = { lone_dot };
	struct message m;

	memset(r, 0, sizeof *r);
	buf_init(&r->head);
	buf_init(&r->all);
	message_init(&m);
	r->rc = message_read(&m, fd, &rules, &r->f);
	if (r->rc == 0) {
		buf_add(&r->head, m.head.data ? m.head.data : "", m.head.len);
		if (message_each_chunk(&m, collect, &r->all, &r->f) < 0)
			r->rc = -2;
		r->size = message_size(&m);
		r->body_len = m.body_len;
		r->spooled = m.spool_fd >= 0;
		r->eightbit = m.eightbit;
		r->long_lines = m.long_lines;
	}
	message_free(&m);
}

static void
read_file(const char *d, size_t n, bool lone_dot, struct result *r)
{
	int fd = file_with(d, n);

	if (fd < 0) {
		memset(r, 0, sizeof *r);
		r->rc = -3;
		return;
	}
	read_fd(fd, lone_dot, r);
	(void)close(fd);
}

static void
read_pipe(const char *d, size_t n, const size_t *cuts, size_t ncuts,
    bool lone_dot, struct result *r)
{
	pid_t pid;
	int fd = pipe_with(d, n, cuts, ncuts, &pid);

	if (fd < 0) {
		memset(r, 0, sizeof *r);
		r->rc = -3;
		return;
	}
	read_fd(fd, lone_dot, r);
	(void)close(fd);
	/* A reader that stopped early (a lone dot, an error) leaves the
	   writer waiting for the pipe to drain. */
	(void)kill(pid, SIGKILL);
	reap(pid);
}

static bool
result_same(const struct result *a, const struct result *b)
{
	if (a->rc != b->rc)
		return false;
	if (a->rc != 0)
		return a->f.class == b->f.class;
	return a->head.len == b->head.len && a->all.len == b->all.len &&
	    (a->head.len == 0 || memcmp(a->head.data, b->head.data,
	    a->head.len) == 0) &&
	    (a->all.len == 0 || memcmp(a->all.data, b->all.data, a->all.len)
	    == 0) && a->size == b->size && a->eightbit == b->eightbit &&
	    a->long_lines == b->long_lines;
}

/*
 * Check that reading d through a pipe cut in two at every position (or
 * at a spread of positions for long input) gives the same as one read.
 */
static void
check_splits(const char *name, const char *d, size_t n, bool lone_dot,
    const struct result *whole)
{
	size_t step = n > 200 ? n / 100 : 1;
	size_t bad = 0, tried = 0;

	for (size_t cut = 1; cut < n; cut += step) {
		struct result r;
		read_pipe(d, n, &cut, 1, lone_dot, &r);
		tried++;
		if (!result_same(whole, &r) && bad++ == 0) {
			printf("#   %s: cut at %zu: [%s|%s]\n", name, cut,
			    esc(d, cut), esc(d + cut, n - cut));
			if (r.rc != 0)
				printf("#   rc %d class %d: %s\n", r.rc,
				    (int)r.f.class, r.f.detail);
			else
				printf("#   head [%s]\n#   all  [%s]\n",
				    esc(r.head.data, r.head.len),
				    esc(r.all.data, r.all.len));
			if (whole->rc == 0)
				printf("#   whole: head [%s]\n#   whole: all  "
				    "[%s]\n", esc(whole->head.data,
				    whole->head.len), esc(whole->all.data,
				    whole->all.len));
		}
		result_free(&r);
	}
	CHECK(bad == 0, "%s: same message from a pipe cut at %zu positions "
	    "(%zu differ)", name, tried, bad);
}

/* A message read whole must have this header block and these bytes after
   it; then the same from every two-part pipe. */
static void
expect_msg(const char *name, const char *d, size_t n, bool lone_dot,
    const char *head, size_t hlen, const char *rest, size_t rlen)
{
	struct result r;
	bool ok;

	read_file(d, n, lone_dot, &r);
	CHECK(r.rc == 0, "%s: read (rc %d: %s)", name, r.rc, r.f.detail);
	if (r.rc == 0) {
		ok = r.head.len == hlen && (hlen == 0 ||
		    memcmp(r.head.data, head, hlen) == 0);
		CHECK(ok, "%s: header block", name);
		if (!ok)
			printf("#   got  [%s]\n#   want [%s]\n",
			    esc(r.head.data, r.head.len), esc(head, hlen));
		ok = r.all.len == hlen + rlen && memcmp(r.all.data + hlen,
		    rest, rlen) == 0;
		CHECK(ok, "%s: the rest", name);
		if (!ok && r.all.len >= r.head.len)
			printf("#   got  [%s]\n#   want [%s]\n",
			    esc(r.all.data + r.head.len, r.all.len -
			    r.head.len), esc(rest, rlen));
		CHECK(r.size == r.all.len && r.size == r.head.len +
		    r.body_len, "%s: message_size %llu == bytes produced %zu",
		    name, (unsigned long long)r.size, r.all.len);
		/* Normalised: no bare CR or LF anywhere. */
		bool clean = true;
		for (size_t i = 0; i < r.all.len; i++)
			if ((r.all.data[i] == '\r' && (i + 1 == r.all.len ||
			    r.all.data[i + 1] != '\n')) ||
			    (r.all.data[i] == '\n' && (i == 0 ||
			    r.all.data[i - 1] != '\r')))
				clean = false;
		CHECK(clean && r.all.len >= 2 && memcmp(r.all.data + r.all.len
		    - 2, "\r\n", 2) == 0,
		    "%s: CRLF only, ending in CRLF", name);
	}
	check_splits(name, d, n, lone_dot, &r);
	result_free(&r);
}

static void
expect_fail(const char *name, const char *d, size_t n, bool lone_dot,
    enum fail_class class)
{
	struct result r;

	read_file(d, n, lone_dot, &r);
	CHECK(r.rc == -1 && r.f.class == class && r.f.detail[0] != '\0',
	    "%s: fails with class %d (rc %d, class %d: %s)", name, (int)class,
	    r.rc, (int)r.f.class, r.f.detail);
	if (n < 4096)
		check_splits(name, d, n, lone_dot, &r);
	result_free(&r);
}

#define MSG(name, in, lone, head, rest) \
	expect_msg(name, in, sizeof(in) - 1, lone, head, sizeof(head) - 1, \
	    rest, sizeof(rest) - 1)
#define RF(lit, lone, r) read_file(lit, sizeof(lit) - 1, lone, r)
#define FAILS(name, in, lone, class) \
	expect_fail(name, in, sizeof(in) - 1, lone, class)

static void
test_split(void)
{
	MSG("header and body", "Subject: x\nTo: a@b\n\nbody\n", false,
	    "Subject: x\r\nTo: a@b\r\n", "\r\nbody\r\n");
	MSG("CRLF input", "Subject: x\r\n\r\nbody\r\n", false,
	    "Subject: x\r\n", "\r\nbody\r\n");
	MSG("bare CR input", "Subject: x\r\rbody\r", false,
	    "Subject: x\r\n", "\r\nbody\r\n");
	MSG("folded header", "Subject: a\n b\n\tc\nTo: d\n\nbody\n", false,
	    "Subject: a\r\n b\r\n\tc\r\nTo: d\r\n", "\r\nbody\r\n");
	MSG("no header", "just a body line\nand more\n", false, "",
	    "just a body line\r\nand more\r\n");
	MSG("header then non-field line", "Subject: x\nno field here\n",
	    false, "Subject: x\r\n", "no field here\r\n");
	MSG("headers only, no newline", "Subject: x", false,
	    "Subject: x\r\n", "");
	MSG("headers only", "Subject: x\nTo: y\n", false,
	    "Subject: x\r\nTo: y\r\n", "");
	MSG("no final newline", "Subject: x\n\nbody", false,
	    "Subject: x\r\n", "\r\nbody\r\n");
	MSG("empty input", "", false, "", "\r\n");
	MSG("one empty line", "\n", false, "", "\r\n");
	MSG("empty body", "Subject: x\n\n", false, "Subject: x\r\n", "\r\n");
	MSG("Bcc with continuation stays in the block",
	    "To: a@x\nBcc: b@y,\n c@z\nSubject: s\n\nbody\n", false,
	    "To: a@x\r\nBcc: b@y,\r\n c@z\r\nSubject: s\r\n", "\r\nbody\r\n");
}

static void
test_mbox(void)
{
	MSG("mbox From line removed",
	    "From alice@example.org Mon Jan  1 00:00:00 2024\nSubject: x\n\n"
	    "body\n", false, "Subject: x\r\n", "\r\nbody\r\n");
	MSG("mbox From line, CRLF", "From a Mon\r\nSubject: x\r\n\r\nb\r\n",
	    false, "Subject: x\r\n", "\r\nb\r\n");
	MSG("From: header kept", "From: a@b\nSubject: x\n\nbody\n", false,
	    "From: a@b\r\nSubject: x\r\n", "\r\nbody\r\n");
	MSG("From line only", "From a@b Mon\n", false, "", "\r\n");
	MSG("From line without newline", "From a@b Mon", false, "", "\r\n");
	MSG("From line, no header", "From a@b Mon\n\nbody\n", false, "",
	    "\r\nbody\r\n");
	MSG("only the first line", "Subject: x\n\nFrom me\n", false,
	    "Subject: x\r\n", "\r\nFrom me\r\n");
	MSG("From without space is no mbox line", "Fromage: yes\n\nb\n",
	    false, "Fromage: yes\r\n", "\r\nb\r\n");
	MSG("short first line", "From\n\nb\n", false, "",
	    "From\r\n\r\nb\r\n");
	MSG("lower-case from is no mbox line", "from a\nSubject: x\n", false,
	    "", "from a\r\nSubject: x\r\n");
}

static void
test_lone_dot(void)
{
	MSG("lone dot ends input", "Subject: x\n\nline\n.\nafter\n", true,
	    "Subject: x\r\n", "\r\nline\r\n");
	MSG("lone dot CRLF ends input", "Subject: x\r\n\r\nline\r\n.\r\n"
	    "after\r\n", true, "Subject: x\r\n", "\r\nline\r\n");
	MSG("lone dot off: kept", "Subject: x\n\nline\n.\nafter\n", false,
	    "Subject: x\r\n", "\r\nline\r\n.\r\nafter\r\n");
	MSG("double dot is no terminator", "Subject: x\n\na\n..\nb\n", true,
	    "Subject: x\r\n", "\r\na\r\n..\r\nb\r\n");
	MSG("dot and text is no terminator", "Subject: x\n\na\n.x\nb\n", true,
	    "Subject: x\r\n", "\r\na\r\n.x\r\nb\r\n");
	MSG("dot and blank is no terminator", "Subject: x\n\na\n. \nb\n",
	    true, "Subject: x\r\n", "\r\na\r\n. \r\nb\r\n");
	MSG("blank and dot is no terminator", "Subject: x\n\na\n .\nb\n",
	    true, "Subject: x\r\n", "\r\na\r\n .\r\nb\r\n");
	MSG("dot at the end of a line is no terminator",
	    "Subject: x\n\nab.\ncd\n", true, "Subject: x\r\n",
	    "\r\nab.\r\ncd\r\n");
	MSG("dot after CR at the end of a line",
	    "Subject: x\n\nab\r.\ncd\n", true, "Subject: x\r\n",
	    "\r\nab\r\n");
	MSG("lone dot in the header block", "Subject: x\n.\nTo: y\n", true,
	    "Subject: x\r\n", "");
	MSG("lone dot first", ".\nSubject: x\n", true, "", "\r\n");
	MSG("dot line with bare CR", "Subject: x\n\na\r.\rb\r", true,
	    "Subject: x\r\n", "\r\na\r\n");
	MSG("lone dot off: dot first", ".\nx\n", false, "", ".\r\nx\r\n");
	MSG("lone dot after mbox line", "From a Mon\n.\nSubject: x\n", true,
	    "", "\r\n");
}

static void
test_flags(void)
{
	struct result r;
	struct buf b;

	RF("Subject: x\n\nplain ascii\n", false, &r);
	CHECK(r.rc == 0 && !r.eightbit && !r.long_lines,
	    "ASCII message: no flags");
	result_free(&r);
	RF("Subject: x\n\ncaf\xc3\xa9\n", false, &r);
	CHECK(r.rc == 0 && r.eightbit, "8-bit body: eightbit");
	result_free(&r);
	RF("Subject: caf\xc3\xa9\n\nplain\n", false, &r);
	CHECK(r.rc == 0 && r.eightbit,
	    "8-bit header (raw UTF-8 Subject): eightbit");
	result_free(&r);
	RF("Subject: x\n\n\x80", false, &r);
	CHECK(r.rc == 0 && r.eightbit, "0x80 as the last byte: eightbit");
	result_free(&r);

	/* 998 octets + CRLF is the longest line allowed. */
	buf_init(&b);
	buf_adds(&b, "Subject: x\n\n");
	for (int i = 0; i < 998; i++)
		buf_addc(&b, 'a');
	buf_adds(&b, "\nshort\n");
	read_file(b.data, b.len, false, &r);
	CHECK(r.rc == 0 && !r.long_lines, "body line of 998 octets: fine");
	result_free(&r);
	buf_reset(&b);
	buf_adds(&b, "Subject: x\n\n");
	for (int i = 0; i < 999; i++)
		buf_addc(&b, 'a');
	buf_adds(&b, "\nshort\n");
	read_file(b.data, b.len, false, &r);
	CHECK(r.rc == 0 && r.long_lines, "body line of 999 octets: long");
	result_free(&r);
	buf_reset(&b);
	buf_adds(&b, "Subject: x\n\n");
	for (int i = 0; i < 999; i++)
		buf_addc(&b, 'a');
	read_file(b.data, b.len, false, &r);
	CHECK(r.rc == 0 && r.long_lines,
	    "last body line of 999 octets, no newline: long");
	result_free(&r);
	buf_reset(&b);
	buf_adds(&b, "Subject: x\n\n");
	for (int i = 0; i < 998; i++)
		buf_addc(&b, 'a');
	buf_adds(&b, "\r\n");
	for (int i = 0; i < 998; i++)
		buf_addc(&b, 'b');
	buf_adds(&b, "\r");
	read_file(b.data, b.len, false, &r);
	CHECK(r.rc == 0 && !r.long_lines,
	    "two lines of 998 octets with CRLF and bare CR: fine");
	result_free(&r);
	buf_reset(&b);
	buf_adds(&b, "Subject: ");
	for (int i = 0; i < 1000; i++)
		buf_addc(&b, 'h');
	buf_adds(&b, "\n\nshort body\n");
	read_file(b.data, b.len, false, &r);
	CHECK(r.rc == 0 && r.long_lines,
	    "header line of 1009 octets: long_lines");
	result_free(&r);
	buf_free(&b);
}

static void
test_errors(void)
{
	struct result r;
	struct buf b;

	FAILS("NUL in the header", "Subject: a\0b\n\nbody\n", false,
	    FAIL_DATAERR);
	FAILS("NUL in the body", "Subject: x\n\nbo\0dy\n", false,
	    FAIL_DATAERR);
	FAILS("NUL only", "\0", false, FAIL_DATAERR);
	FAILS("NUL as the last byte", "x\n\0", false,
	    FAIL_DATAERR);

	/* A NUL far into the body, past the first read. */
	buf_init(&b);
	buf_adds(&b, "Subject: x\n\n");
	while (b.len < 3 * TEST_READ_BLOCK)
		buf_adds(&b, "0123456789abcdef0123456789abcdef0123456789\n");
	buf_addc(&b, '\0');
	buf_adds(&b, "tail\n");
	read_file(b.data, b.len, false, &r);
	CHECK(r.rc == -1 && r.f.class == FAIL_DATAERR,
	    "NUL after %zu bytes: FAIL_DATAERR", b.len - 6);
	result_free(&r);
	buf_free(&b);

	/* read error */
	{
		struct read_rules rules = { false };
		struct message m;
		struct failure f;
		int fd = open("/", O_RDONLY | O_DIRECTORY);
		message_init(&m);
		memset(&f, 0, sizeof f);
		CHECK(message_read(&m, fd, &rules, &f) == -1 &&
		    f.class == FAIL_NOINPUT, "read error (a directory): "
		    "FAIL_NOINPUT (%d: %s)", (int)f.class, f.detail);
		message_free(&m);
		(void)close(fd);
		message_init(&m);
		memset(&f, 0, sizeof f);
		CHECK(message_read(&m, -1, &rules, &f) == -1 &&
		    f.class == FAIL_NOINPUT, "read error (bad fd): "
		    "FAIL_NOINPUT");
		message_free(&m);
	}

	/* Header block over MESSAGE_HEADER_MAX. */
	buf_init(&b);
	while (b.len <= MESSAGE_HEADER_MAX)
		buf_adds(&b, "X-Fill: 0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789\n");
	buf_adds(&b, "\nbody\n");
	read_file(b.data, b.len, false, &r);
	CHECK(r.rc == -1 && r.f.class == FAIL_DATAERR,
	    "header block of %zu bytes: FAIL_DATAERR", b.len - 6);
	result_free(&r);
	buf_free(&b);
	/* Just under the limit is fine. */
	buf_init(&b);
	while (b.len + 100 < MESSAGE_HEADER_MAX - 200)
		buf_adds(&b, "X-Fill: 0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789\r\n");
	size_t hbytes = b.len;
	buf_adds(&b, "\r\nbody\r\n");
	read_file(b.data, b.len, false, &r);
	CHECK(r.rc == 0 && r.head.len == hbytes,
	    "header block of %zu bytes: read (head %zu)", hbytes, r.head.len);
	result_free(&r);
	buf_free(&b);
	/* One header line without end, longer than the limit. */
	buf_init(&b);
	buf_adds(&b, "X-Long: ");
	while (b.len <= MESSAGE_HEADER_MAX + 10)
		buf_adds(&b, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	read_file(b.data, b.len, false, &r);
	CHECK(r.rc == -1 && r.f.class == FAIL_DATAERR,
	    "one header line of %zu bytes: FAIL_DATAERR", b.len);
	result_free(&r);
	buf_free(&b);
	/* Folded header over the limit. */
	buf_init(&b);
	buf_adds(&b, "To: a@x");
	while (b.len <= MESSAGE_HEADER_MAX + 10)
		buf_adds(&b, ",\n b@yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
	buf_adds(&b, "\n\nbody\n");
	read_file(b.data, b.len, false, &r);
	CHECK(r.rc == -1 && r.f.class == FAIL_DATAERR,
	    "folded header of %zu bytes: FAIL_DATAERR", b.len);
	result_free(&r);
	buf_free(&b);
}

/* A body of n bytes (CRLF lines) after "Subject: x\r\n\r\n". */
static void
body_of(struct buf *b, size_t body, size_t *head)
{
	static const char line[] = "The quick brown fox jumps over the lazy "
	    "dog 0123456789\r\n";
	buf_init(b);
	buf_adds(b, "Subject: x\r\n");
	*head = b->len;
	buf_adds(b, "\r\n");
	while (b->len - *head + sizeof line - 1 <= body)
		buf_add(b, line, sizeof line - 1);
	while (b->len - *head + 2 < body)
		buf_addc(b, 'z');
	if (b->len - *head < body)
		buf_adds(b, "\r\n");
}

static int
stop_at_second(void *ctx, const char *p, size_t n)
{
	int *calls = ctx;
	(void)p;
	(void)n;
	return ++*calls == 2 ? -1 : 0;
}

/* A large CRLF file is read as it is (its body not copied); the bytes
   sent must be those of the ordinary path, through a pipe. */
static void
test_as_is(void)
{
	struct result viafile, viapipe;
	struct buf b;
	size_t head;

	body_of(&b, MESSAGE_MEMORY_MAX * 3, &head);
	read_file(b.data, b.len, false, &viafile);
	read_pipe(b.data, b.len, NULL, 0, false, &viapipe);
	CHECK(viafile.rc == 0 && viapipe.rc == 0 && viafile.spooled,
	    "large CRLF file: read");
	CHECK(viafile.all.len == viapipe.all.len &&
	    memcmp(viafile.all.data, viapipe.all.data, viapipe.all.len) == 0 &&
	    viafile.head.len == viapipe.head.len,
	    "large CRLF file read as it is == the same through a pipe");
	result_free(&viafile);
	result_free(&viapipe);
	/* A bare LF in the middle: the ordinary path, normalised. */
	b.data[b.len / 2] = '\n';
	b.data[b.len / 2 - 1] = 'x';
	read_file(b.data, b.len, false, &viafile);
	read_pipe(b.data, b.len, NULL, 0, false, &viapipe);
	CHECK(viafile.rc == 0 && viafile.all.len == viapipe.all.len &&
	    memcmp(viafile.all.data, viapipe.all.data, viapipe.all.len) == 0,
	    "large file with a bare LF: normalised, same as through a pipe");
	result_free(&viafile);
	result_free(&viapipe);
	buf_free(&b);
}

/* What message_each_chunk passed on before it stopped. */
struct seen {
	size_t calls, bytes;
};

static int
count_chunk(void *ctx, const char *p, size_t n)
{
	struct seen *s = ctx;

	(void)p;
	s->calls++;
	s->bytes += n;
	return 0;
}

/*
 * A large CRLF file read as it is, then changed by another writer before
 * it is sent: at off, the bytes rep (a negative off counts from the end;
 * append when off is the size), with the time of the file put back, as
 * a writer that hides its tracks would.  message_each_chunk must fail
 * with FAIL_NOINPUT and pass on at most `upto` bytes, never the whole
 * message (so the transaction cannot end).
 */
static void
changed_after_check(const char *name, long off, const char *rep,
    size_t upto)
{
	struct read_rules rules = { false };
	struct message m;
	struct failure f;
	struct buf b;
	struct stat st;
	struct seen seen = { 0, 0 };
	size_t head;
	int fd;

	body_of(&b, MESSAGE_MEMORY_MAX * 3, &head);
	fd = file_with(b.data, b.len);
	message_init(&m);
	memset(&f, 0, sizeof f);
	CHECK(fd >= 0 && message_read(&m, fd, &rules, &f) == 0 &&
	    m.as_is, "%s: read as it is", name);
	size_t at = off < 0 ? b.len - (size_t)-off : (size_t)off;
	(void)fstat(fd, &st);
	CHECK(pwrite(fd, rep, strlen(rep), (off_t)at) == (ssize_t)strlen(rep),
	    "%s: file changed", name);
	struct timespec times[2] = { st.st_atim, st.st_mtim };
	(void)futimens(fd, times);
	int rc = message_each_chunk(&m, count_chunk, &seen, &f);
	CHECK(rc == -1 && f.class == FAIL_NOINPUT && seen.bytes <= upto &&
	    seen.bytes < b.len, "%s: FAIL_NOINPUT after %zu of %zu bytes "
	    "(%d: %s)", name, seen.bytes, b.len, (int)f.class, f.detail);
	message_free(&m);
	(void)close(fd);
	buf_free(&b);
}

static void
test_as_is_changed(void)
{
	size_t big = MESSAGE_MEMORY_MAX * 3;

	/* Appended: found before anything goes out, the header included. */
	changed_after_check("appended commands", (long)big + 14,
	    "RSET\r\nMAIL FROM:<ceo@corp.test>\r\n", 0);
	/* Same size, bare LF in the first block of the body: that block
	   never goes out. */
	changed_after_check("bare LF written in place", 100, "x\n.\n", 14);
	changed_after_check("lone CR written in place", 100, "x\rx", 14);
	/* Same size, same form, in the last block: only the digest tells;
	   the last block is held back. */
	changed_after_check("text rewritten in place near the end", -20,
	    "Evil", big + 14 - 1);
}

static void
test_spool(void)
{
	struct result r;
	struct buf b;
	size_t head;

	body_of(&b, MESSAGE_MEMORY_MAX, &head);
	CHECK(b.len - head == MESSAGE_MEMORY_MAX, "body built: %zu",
	    b.len - head);
	read_file(b.data, b.len, false, &r);
	CHECK(r.rc == 0 && !r.spooled && r.body_len == MESSAGE_MEMORY_MAX,
	    "body of MESSAGE_MEMORY_MAX bytes stays in memory");
	CHECK(r.all.len == b.len && memcmp(r.all.data, b.data, b.len) == 0,
	    "in-memory body read back");
	result_free(&r);
	buf_free(&b);

	body_of(&b, MESSAGE_MEMORY_MAX + 1, &head);
	read_file(b.data, b.len, false, &r);
	CHECK(r.rc == 0 && r.spooled, "one byte more is spooled");
	CHECK(r.all.len == b.len && memcmp(r.all.data, b.data, b.len) == 0,
	    "spooled body of MESSAGE_MEMORY_MAX + 1 read back");
	result_free(&r);
	buf_free(&b);

	/* Large, with LF-only lines: spooled and normalised. */
	struct buf in, want;
	buf_init(&in);
	buf_init(&want);
	buf_adds(&in, "Subject: big\n\n");
	buf_adds(&want, "Subject: big\r\n\r\n");
	for (int i = 0; in.len < 5 * TEST_READ_BLOCK + 77; i++) {
		buf_addf(&in, "%d line with some text %x\n", i, i * 7919);
		buf_addf(&want, "%d line with some text %x\r\n", i, i * 7919);
	}
	read_file(in.data, in.len, false, &r);
	CHECK(r.rc == 0 && r.spooled, "640 KiB body spooled");
	CHECK(r.all.len == want.len && memcmp(r.all.data, want.data,
	    want.len) == 0, "640 KiB body read back identically (%zu of %zu)",
	    r.all.len, want.len);
	CHECK(r.size == want.len, "640 KiB: message_size %llu == %zu",
	    (unsigned long long)r.size, want.len);
	result_free(&r);
	{
		size_t cuts[3] = { 1000, TEST_READ_BLOCK + 3, 3 *
		    TEST_READ_BLOCK - 1 };
		read_pipe(in.data, in.len, cuts, 3, false, &r);
		CHECK(r.rc == 0 && r.spooled && r.all.len == want.len &&
		    memcmp(r.all.data, want.data, want.len) == 0,
		    "640 KiB body from a pipe in four parts");
		result_free(&r);
	}

	/* message_each_chunk stops when fn says so. */
	{
		struct read_rules rules = { false };
		struct message m;
		struct failure f;
		int fd = file_with(in.data, in.len), calls = 0;
		message_init(&m);
		memset(&f, 0, sizeof f);
		(void)message_read(&m, fd, &rules, &f);
		CHECK(message_each_chunk(&m, stop_at_second, &calls, &f) == -1
		    && calls == 2, "message_each_chunk stops at -1");
		message_free(&m);
		CHECK(m.spool_fd == -1 && m.head.len == 0,
		    "message_free resets");
		(void)close(fd);
	}

	/* The spool cannot be created. */
	{
		int fd = file_with(in.data, in.len);
		char *old = getenv("TMPDIR") ? xstrdup(getenv("TMPDIR")) :
		    NULL;
		(void)setenv("TMPDIR", "/nonexistent/carrier-test", 1);
		read_fd(fd, false, &r);
		CHECK(r.rc == -1 && r.f.class == FAIL_OSERR,
		    "no temporary file: FAIL_OSERR (%d: %s)", (int)r.f.class,
		    r.f.detail);
		result_free(&r);
		(void)close(fd);
		if (old) {
			(void)setenv("TMPDIR", old, 1);
			free(old);
		} else
			(void)unsetenv("TMPDIR");
	}
	buf_free(&in);
	buf_free(&want);
}

/*
 * Where the input is cut between reads must not matter.  These cases
 * place the cut deterministically: once with a regular file at the
 * READ_BLOCK boundary, once with a pipe.
 */
static void
test_read_boundaries(void)
{
	struct result r;
	struct buf b;
	size_t cut;

	/* (1) A folded header whose continuation line starts the next read.
	   The continuation and every field after it must stay in the header
	   block, so Bcc removal and -t see them. */
	buf_init(&b);
	buf_adds(&b, "To: a@x\n");
	while (b.len < TEST_READ_BLOCK - 200)
		buf_adds(&b, "X-Fill: 0123456789012345678901234567890123456789"
		    "0123456789\n");
	while (b.len < TEST_READ_BLOCK - 20)
		buf_adds(&b, "X: y\n");
	buf_adds(&b, "Bcc: b@y,");
	while (b.len < TEST_READ_BLOCK - 1)
		buf_addc(&b, ' ');
	buf_adds(&b, "\n");		/* the read ends here */
	cut = b.len;
	buf_adds(&b, " c@z\nBcc: d@w\nSubject: s\n\nbody\n");
	read_file(b.data, b.len, false, &r);
	CHECK(cut == TEST_READ_BLOCK && r.rc == 0 &&
	    r.head.len + 8 == r.all.len,
	    "continuation line at a read boundary stays in the header block "
	    "(head %zu of %zu bytes)", r.head.len, r.all.len);
	result_free(&r);
	read_pipe(b.data, b.len, &cut, 1, false, &r);
	CHECK(r.rc == 0 && r.head.len + 8 == r.all.len,
	    "the same from a pipe cut before the continuation");
	result_free(&r);
	buf_free(&b);
	{
		static const char in[] = "To: a@x\nBcc: b@y,\n c@z\nBcc: d@w\n"
		    "Subject: s\n\nbody\n";
		size_t c = 18;	/* after "Bcc: b@y,\n" */
		read_pipe(in, sizeof in - 1, &c, 1, false, &r);
		CHECK(r.rc == 0 && r.head.len == 48,
		    "short message, pipe cut before the continuation: head "
		    "48 bytes (got %zu: [%s])", r.head.len,
		    esc(r.head.data, r.head.len));
		result_free(&r);
	}

	/* (2) sendmail mode: a line whose last byte "." starts the next
	   read is no lone dot. */
	buf_init(&b);
	buf_adds(&b, "Subject: x\n\n");
	while (b.len < TEST_READ_BLOCK - 100)
		buf_adds(&b, "0123456789012345678901234567890123456789\n");
	while (b.len < TEST_READ_BLOCK)
		buf_addc(&b, 'a');
	cut = b.len;
	buf_adds(&b, ".\nafter the dot\n");
	read_file(b.data, b.len, true, &r);
	CHECK(r.rc == 0 && r.all.len >= 19 && memcmp(r.all.data + r.all.len -
	    19, "a.\r\nafter the dot\r\n", 19) == 0,
	    "lone-dot mode: \"a.\" cut before the dot is no terminator "
	    "(ends [%s])", esc(r.all.data + (r.all.len > 20 ? r.all.len - 20
	    : 0), r.all.len > 20 ? 20 : r.all.len));
	result_free(&r);
	buf_free(&b);
	{
		static const char in[] = "Subject: x\n\nab.\ncd\n";
		size_t c = 14;	/* "...ab|.\ncd\n" */
		read_pipe(in, sizeof in - 1, &c, 1, true, &r);
		CHECK(r.rc == 0 && r.all.len == 23,
		    "lone-dot mode, pipe cut \"ab|.\": nothing lost (got "
		    "[%s])", esc(r.all.data, r.all.len));
		result_free(&r);
		/* and a real lone dot whose CRLF is cut */
		static const char in2[] = "Subject: x\n\nab\r\n.\r\ncd\r\n";
		c = 18;		/* "ab\r\n.\r|\ncd" */
		read_pipe(in2, sizeof in2 - 1, &c, 1, true, &r);
		CHECK(r.rc == 0 && r.all.len == 18,
		    "lone-dot mode, pipe cut \".\\r|\\n\": still the end (got "
		    "[%s])", esc(r.all.data, r.all.len));
		result_free(&r);
	}

	/* (3) An mbox "From " line cut between reads is removed whole. */
	buf_init(&b);
	buf_adds(&b, "From ");
	while (b.len < TEST_READ_BLOCK + 1000)
		buf_addc(&b, 'x');
	buf_adds(&b, " Mon Jan  1 00:00:00 2024\nSubject: s\n\nbody\n");
	read_file(b.data, b.len, false, &r);
	CHECK(r.rc == 0 && r.head.len == 12 && r.all.len == 20,
	    "mbox From line longer than one read is removed whole (head "
	    "[%s], %zu bytes in all)", esc(r.head.data, r.head.len),
	    r.all.len);
	result_free(&r);
	buf_free(&b);
	{
		static const char in[] = "From alice Mon\nSubject: s\n\nbody\n";
		size_t c = 7;	/* "From al|ice Mon\n" */
		read_pipe(in, sizeof in - 1, &c, 1, false, &r);
		CHECK(r.rc == 0 && r.head.len == 12 && r.all.len == 20,
		    "mbox From line cut by the pipe is removed whole (got "
		    "[%s])", esc(r.all.data, r.all.len));
		result_free(&r);
	}
}

/*
 * R01/R04: memory stays flat whatever the line lengths.  Each case runs in
 * a child (so the high-water mark is its own): the input is written to a
 * file in 1 MiB pieces, message_read reads it, and the child reports the
 * outcome and how much its peak RSS grew.
 */
#define BIG_LINE	(16u * 1024 * 1024)
#define BIG_GROWTH_MAX	(8u * 1024 * 1024)

struct bigres {
	int rc;
	int class;
	uint64_t size;
	uint64_t body_len;
	size_t head_len;
	bool long_lines;
	long growth;		/* bytes of peak RSS growth */
	double secs;
};

/* prefix, then n bytes of 'a' without a line end, then suffix */
static int
big_file(const char *prefix, size_t n, const char *suffix)
{
	int fd = tmpfile_fd();
	char *block;

	if (fd < 0)
		return -1;
	block = xmalloc(1024 * 1024);
	memset(block, 'a', 1024 * 1024);
	if (test_write_all(fd, prefix, strlen(prefix)) < 0)
		goto bad;
	for (size_t done = 0; done < n; done += 1024 * 1024)
		if (test_write_all(fd, block, n - done < 1024 * 1024 ? n - done :
		    1024 * 1024) < 0)
			goto bad;
	if (test_write_all(fd, suffix, strlen(suffix)) < 0 ||
	    lseek(fd, 0, SEEK_SET) != 0)
		goto bad;
	free(block);
	return fd;
bad:
	free(block);
	(void)close(fd);
	return -1;
}

static long
peak_rss(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return ru.ru_maxrss * 1024L;
}

static void
big_read(const char *prefix, size_t n, const char *suffix, bool lone_dot,
    struct bigres *out)
{
	int p[2];
	pid_t pid;

	memset(out, 0, sizeof *out);
	out->rc = -9;
	if (pipe(p) < 0)
		return;
	if ((pid = fork()) < 0)
		return;
	if (pid == 0) {
		struct read_rules rules = { lone_dot };
		struct message m;
		struct failure f;
		struct bigres r;
		struct timespec t0, t1;
		int fd = big_file(prefix, n, suffix);

		(void)close(p[0]);
		memset(&r, 0, sizeof r);
		memset(&f, 0, sizeof f);
		message_init(&m);
		long before = peak_rss();
		(void)clock_gettime(CLOCK_MONOTONIC, &t0);
		r.rc = fd < 0 ? -9 : message_read(&m, fd, &rules, &f);
		(void)clock_gettime(CLOCK_MONOTONIC, &t1);
		r.growth = peak_rss() - before;
		r.secs = (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		r.class = (int)f.class;
		r.size = message_size(&m);
		r.body_len = m.body_len;
		r.head_len = m.head.len;
		r.long_lines = m.long_lines;
		message_free(&m);
		(void)test_write_all(p[1], (const char *)&r, sizeof r);
		_exit(0);
	}
	(void)close(p[1]);
	size_t got = 0;
	while (got < sizeof *out) {
		ssize_t k = read(p[0], (char *)out + got, sizeof *out - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	if (got != sizeof *out)
		out->rc = -9;
	(void)close(p[0]);
	reap(pid);
}

static void
test_flat_memory(void)
{
	struct bigres r;

	big_read("Subject: x\n\n", BIG_LINE, "", false, &r);
	CHECK(r.rc == 0 && r.size == 12 + 2 + BIG_LINE + 2 && r.long_lines,
	    "16 MiB body line without end: read whole (rc %d, size %llu)",
	    r.rc, (unsigned long long)r.size);
	CHECK(r.growth < (long)BIG_GROWTH_MAX, "16 MiB body line: peak RSS "
	    "grew %ld KiB (%.2f s)", r.growth / 1024, r.secs);

	big_read("Subject: x\n\n", BIG_LINE, "", true, &r);
	CHECK(r.rc == 0 && r.size == 12 + 2 + BIG_LINE + 2 && r.long_lines,
	    "lone-dot mode, 16 MiB body line without end: read whole (rc "
	    "%d, size %llu)", r.rc, (unsigned long long)r.size);
	CHECK(r.growth < (long)BIG_GROWTH_MAX, "lone-dot mode, 16 MiB body "
	    "line: peak RSS grew %ld KiB (%.2f s)", r.growth / 1024, r.secs);

	big_read("Subject: x\n\n", BIG_LINE, "\n.\nafter\n", true, &r);
	CHECK(r.rc == 0 && r.size == 12 + 2 + BIG_LINE + 2,
	    "lone-dot mode, 16 MiB line then a lone dot: ends there (rc %d, "
	    "size %llu)", r.rc, (unsigned long long)r.size);
	CHECK(r.growth < (long)BIG_GROWTH_MAX, "lone-dot mode, 16 MiB line "
	    "then a dot: peak RSS grew %ld KiB (%.2f s)", r.growth / 1024,
	    r.secs);

	/* A first line of 16 MiB: it might still become a header field, so
	   refusing it (FAIL_DATAERR) is as good as reading it as body. */
	big_read("", BIG_LINE, "\n", false, &r);
	CHECK((r.rc == 0 && r.size == BIG_LINE + 2) ||
	    (r.rc == -1 && r.class == FAIL_DATAERR),
	    "16 MiB first line: read as body or refused (rc %d, class %d, "
	    "size %llu)", r.rc, r.class, (unsigned long long)r.size);
	CHECK(r.growth < (long)BIG_GROWTH_MAX, "16 MiB first line: peak RSS "
	    "grew %ld KiB (%.2f s)", r.growth / 1024, r.secs);
	big_read("", BIG_LINE, "", true, &r);
	CHECK(r.growth < (long)BIG_GROWTH_MAX, "lone-dot mode, 16 MiB input "
	    "without any line end: peak RSS grew %ld KiB (%.2f s, rc %d)",
	    r.growth / 1024, r.secs, r.rc);

	/* An mbox "From " line of 16 MiB: dropped, or refused. */
	big_read("From ", BIG_LINE, " Mon\nSubject: s\n\nbody\n", false, &r);
	CHECK((r.rc == 0 && r.head_len == 12 && r.size == 20) ||
	    (r.rc == -1 && r.class == FAIL_DATAERR),
	    "16 MiB mbox From line: removed or refused (rc %d, head %zu, "
	    "size %llu)", r.rc, r.head_len, (unsigned long long)r.size);
	CHECK(r.growth < (long)BIG_GROWTH_MAX, "16 MiB mbox From line: peak "
	    "RSS grew %ld KiB (%.2f s)", r.growth / 1024, r.secs);
}

/* The normalised form, byte by byte: the oracle for test_steady_body. */
static void
normalise_slowly(const char *d, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		if (d[i] == '\r' || d[i] == '\n') {
			buf_add(out, "\r\n", 2);
			if (d[i] == '\r' && i + 1 < n && d[i + 1] == '\n')
				i++;
		} else
			buf_addc(out, d[i]);
	}
	if (out->len == 0 || out->data[out->len - 1] != '\n')
		buf_add(out, "\r\n", 2);
}

/*
 * Past its first block a body is normalised, measured and spooled in one
 * pass: what that pass sees must be what the line-by-line path would.
 * Each case puts its bytes after a header block and LF lines of filler,
 * at the first block's end (so it straddles the read) or well past it.
 */
static void
test_steady_body(void)
{
	static const struct {
		const char *name, *tail;
		bool eightbit, long_lines;
		size_t n_dots;
	} cases[] = {
		{ "LF lines", "x\ny\n", false, false, 0 },
		{ "a line of 998", "<998>\n", false, false, 0 },
		{ "a line of 999", "<999>\n", false, true, 0 },
		{ "a last line of 999 without LF", "x\n<999>", false, true, 0 },
		{ "CR LF and bare CR", "a\r\nb\rc\r", false, false, 0 },
		{ "an 8-bit byte", "caf\xc3\xa9\n", true, false, 0 },
		{ "dot lines", ".a\nb.\n..\n", false, false, 2 },
	};
	static const size_t at[] = { TEST_READ_BLOCK - 1, TEST_READ_BLOCK,
	    TEST_READ_BLOCK - 600, 3 * TEST_READ_BLOCK + 17 };

	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		bool ok = true;
		for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
			struct buf d, want;
			const char *t;

			buf_init(&d);
			buf_init(&want);
			buf_adds(&d, "Subject: x\n\n");
			while (d.len + 77 <= at[k])
				buf_adds(&d, "0123456789012345678901234567890123456"
				    "789012345678901234567890123456789012\n");
			while (d.len < at[k] - 1)
				buf_addc(&d, 'f');
			buf_addc(&d, '\n');
			for (t = cases[c].tail; *t != '\0'; t++) {
				if (strncmp(t, "<99", 3) == 0) {
					for (int i = t[3] == '8' ? 998 : 999; i > 0;
					    i--)
						buf_addc(&d, 'L');
					t += 4;
				} else
					buf_addc(&d, *t);
			}
			normalise_slowly(d.data, d.len, &want);

			int fd = file_with(d.data, d.len);
			struct read_rules rules = { false };
			struct message m;
			struct failure f;
			struct buf all;
			buf_init(&all);
			message_init(&m);
			if (fd < 0 || message_read(&m, fd, &rules, &f) < 0 ||
			    message_each_chunk(&m, collect, &all, &f) < 0 ||
			    all.len != want.len || memcmp(all.data, want.data,
			    all.len) != 0 || m.eightbit != cases[c].eightbit ||
			    m.long_lines != cases[c].long_lines ||
			    m.n_dots != cases[c].n_dots ||
			    (m.n_dots > 0 && memcmp(all.data + m.head.len +
			    m.dots[0], ".a\r\n", 4) != 0)) {
				if (ok)
					printf("#   %s at %zu: %zu vs %zu octets, "
					    "8bit %d long %d dots %zu\n",
					    cases[c].name, at[k], all.len,
					    want.len, m.eightbit, m.long_lines,
					    m.n_dots);
				ok = false;
			}
			message_free(&m);
			if (fd >= 0)
				(void)close(fd);
			buf_free(&all);
			buf_free(&want);
			buf_free(&d);
		}
		CHECK(ok, "steady body: %s, at and past the first block's end",
		    cases[c].name);
	}
}

/* An 8-bit byte is noted in whichever lane of the 32-octet OR it lies. */
static void
test_eightbit_lanes(void)
{
	char d[128];
	bool ok = true;

	for (size_t pos = 0; pos < 70; pos++) {
		struct result r;
		size_t n = (size_t)snprintf(d, sizeof d, "Subject: x\n\n");
		memset(d + n, 'a', 70);
		d[n + pos] = (char)(0x80 | pos);
		d[n + 70] = '\n';
		read_file(d, n + 71, false, &r);
		if (r.rc != 0 || !r.eightbit)
			ok = false;
		result_free(&r);
	}
	CHECK(ok, "an 8-bit byte at any of 70 body positions: eightbit");
}

int
main(void)
{
	/* The writer children may outlive a failed read. */
	(void)signal(SIGPIPE, SIG_IGN);
	test_split();
	test_mbox();
	test_lone_dot();
	test_flags();
	test_errors();
	test_spool();
	test_as_is();
	test_as_is_changed();
	test_read_boundaries();
	test_steady_body();
	test_eightbit_lanes();
	test_flat_memory();
	return check_done();
}
