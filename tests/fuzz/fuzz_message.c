/*
 * fuzz_message.c: libFuzzer target for reading a message from a pipe
 * (src/message.c message_read), the path every message of standard input
 * takes: header block, body blocks normalised into the spool, the checks
 * on the way.  THREATS (c) "Message pipeline", E-rows on NUL and long
 * lines.
 *
 * Input: 2 bytes of length L (in units of 16 octets, so up to 1 MiB),
 * then a pattern repeated up to L octets: the message, so that short
 * inputs still cross the read and spool block boundaries (256 KiB).  It
 * is written whole into a pipe, then read by message_read.  Oracles,
 * against a one-pass reference:
 *   - a NUL byte anywhere: FAIL_DATAERR, nothing else;
 *   - otherwise the bytes message_each_chunk gives, and message_size,
 *     equal the input without a leading mbox "From " line (ended by CR
 *     LF, LF or a bare CR, as any line), with every
 *     bare CR, bare LF and CR LF as CR LF and a final CR LF added;
 *   - eightbit is set exactly when a byte >= 0x80 is there;
 *   - long_lines is set exactly when a line is over 998 octets;
 *   - the dot list names, in order, the first body lines starting with a
 *     dot (body offsets), when the body is spooled.
 *
 * Built and run by tests/fuzz/run, linked with every source file of src
 * but main.c.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "message.h"
#include "util.h"
#include "ref_crlf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PIPE_BYTES	(1024 * 1024)

static int
collect(void *ctx, const char *p, size_t n)
{
	buf_add(ctx, p, n);
	return 0;
}

/* The longest line of CRLF text t, CRLF not counted. */
static size_t
longest_line(const struct buf *t)
{
	size_t max = 0, start = 0;

	for (size_t i = 0; i + 1 < t->len; i++)
		if (t->data[i] == '\r' && t->data[i + 1] == '\n') {
			if (i - start > max)
				max = i - start;
			start = i + 2;
		}
	return max;
}

/* The message as it should come out, or false when it is refused. */
static bool
expected(const char *msg, size_t n, struct buf *want)
{
	size_t from = 0;

	if (memchr(msg, '\0', n) != NULL)
		return false;
	if (n >= 5 && memcmp(msg, "From ", 5) == 0) {
		/* The line ends as every line does: CR LF, LF or a bare CR. */
		while (from < n && msg[from] != '\r' && msg[from] != '\n')
			from++;
		if (from < n && msg[from] == '\r' && from + 1 < n &&
		    msg[from + 1] == '\n')
			from++;
		from = from < n ? from + 1 : n;
	}
	ref_normalize(msg + from, n - from, want);
	return true;
}

static void
check_dots(const struct message *m, const struct buf *got)
{
	size_t head = m->head.len, k = 0;

	if (!message_spooled(m))
		return;
	for (size_t i = head; i < got->len && k < m->n_dots; i++) {
		if (got->data[i] != '.' || (i > head &&
		    got->data[i - 1] != '\n'))
			continue;
		if (m->dots[k] != i - head)
			abort();
		k++;
	}
	if (k != m->n_dots)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct message m;
	struct failure f;
	struct buf msg, want, got;
	int fds[2];

	if (size < 3)
		return 0;
	size_t len = (size_t)(data[0] << 8 | data[1]) * 16;
	data += 2;
	size -= 2;
	if (pipe(fds) < 0)
		abort();
	if (fcntl(fds[1], F_SETPIPE_SZ, PIPE_BYTES) < PIPE_BYTES)
		len = 60000;	/* what a default pipe holds */
	if (len < size)
		len = size;
	buf_init(&msg);
	while (msg.len < len)
		buf_add(&msg, data, size < len - msg.len ? size :
		    len - msg.len);
	if (write(fds[1], msg.data, msg.len) != (ssize_t)msg.len)
		abort();
	(void)close(fds[1]);

	struct read_rules rules = { false };
	buf_init(&want);
	buf_init(&got);
	message_init(&m);
	memset(&f, 0, sizeof f);
	bool ok = expected(msg.data, msg.len, &want);
	int rc = message_read(&m, fds[0], &rules, &f);
	(void)close(fds[0]);
	if (!ok) {
		if (rc != -1 || f.class != FAIL_DATAERR)
			abort();
	} else {
		if (rc != 0)
			abort();
		if (message_each_chunk(&m, collect, &got, &f) != 0)
			abort();
		if (got.len != want.len || message_size(&m) != want.len ||
		    memcmp(got.data, want.data, want.len) != 0)
			abort();
		bool high = false;
		for (size_t i = 0; i < want.len && !high; i++)
			high = (unsigned char)want.data[i] >= 0x80;
		if (m.eightbit != high)
			abort();
		if (m.long_lines != (longest_line(&want) > 998))
			abort();
		check_dots(&m, &got);
	}
	message_free(&m);
	buf_free(&msg);
	buf_free(&want);
	buf_free(&got);
	return 0;
}
