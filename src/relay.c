/*
 * relay.c: sendmail -bs, an SMTP session on standard input and output
 * whose transactions carrier relays to its server.  The local client's
 * MAIL and RCPT are checked and collected; at the end of DATA the message
 * goes out through the ordinary session, and its outcome is the reply.
 */
#include <errno.h>
#include <stdarg.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "address.h"
#include "deliver.h"
#include "envelope.h"
#include "message.h"

#define LINE_MAX_OCTETS	4096

struct input {
	char block[8192];
	size_t len, pos;
	bool eof;
};

/* One line from stdin without its CRLF or LF; -1 at end of input. */
static int
read_line(struct input *in, struct buf *line)
{
	buf_reset(line);
	for (;;) {
		if (in->pos == in->len) {
			if (in->eof)
				return line->len ? 0 : -1;
			ssize_t n = read(STDIN_FILENO, in->block,
			    sizeof in->block);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				in->eof = true;
				continue;
			}
			in->len = (size_t)n;
			in->pos = 0;
		}
		char c = in->block[in->pos++];
		if (c == '\n') {
			if (line->len && line->data[line->len - 1] == '\r')
				line->data[--line->len] = '\0';
			return 0;
		}
		if (line->len < LINE_MAX_OCTETS)
			buf_addc(line, c);
	}
}

static void
say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vprintf(fmt, ap);
	va_end(ap);
	(void)fputs("\r\n", stdout);
	(void)fflush(stdout);
}

/* "FROM:<addr> PARAMS" -> addr, or NULL when malformed. */
static char *
path_arg(const char *s, const char *keyword)
{
	size_t kl = strlen(keyword);

	if (strncasecmp(s, keyword, kl) != 0)
		return NULL;
	s += kl;
	while (*s == ' ')
		s++;
	if (*s != '<')
		return NULL;
	const char *end = strchr(s, '>');
	if (end == NULL)
		return NULL;
	char *addr = xstrndup(s + 1, (size_t)(end - s - 1));
	if (address_check(addr, true) != NULL) {
		free(addr);
		return NULL;
	}
	return addr;
}

/* One byte of input; -1 at its end. */
static int
next_byte(struct input *in)
{
	while (in->pos == in->len) {
		if (in->eof)
			return -1;
		ssize_t n = read(STDIN_FILENO, in->block, sizeof in->block);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			in->eof = true;
			return -1;
		}
		in->len = (size_t)n;
		in->pos = 0;
	}
	return (unsigned char)in->block[in->pos++];
}

/*
 * The message data up to the lone ".", un-stuffed, into an anonymous file
 * for message_read.  Byte by byte with a line-start state, so that lines
 * of any length pass whole and memory stays flat.
 */
static int
read_data(struct input *in, int *fd)
{
	struct buf out;
	bool line_start = true, dot = false;
	int c, rc = -1;

	*fd = memfd_create("carrier-bs", MFD_CLOEXEC);
	if (*fd < 0)
		return -1;
	buf_init(&out);
	while ((c = next_byte(in)) >= 0) {
		if (line_start && c == '.' && !dot) {
			dot = true;	/* a stuffed dot, or the end */
			line_start = false;
			continue;
		}
		if (dot && line_start == false && out.len == 0 &&
		    (c == '\r' || c == '\n')) {
			/* "." then the line end: the data is over. */
			if (c == '\r' && next_byte(in) != '\n')
				break;
			rc = 0;
			break;
		}
		dot = false;
		buf_addc(&out, (char)c);
		line_start = c == '\n';
		if (line_start || out.len >= 65536) {
			if (write_all(*fd, out.data, out.len) < 0)
				break;
			buf_reset(&out);
		}
	}
	if (rc == 0 && (write_all(*fd, out.data ? out.data : "", out.len) <
	    0 || lseek(*fd, 0, SEEK_SET) < 0))
		rc = -1;
	buf_free(&out);
	return rc;	/* -1: the input ended inside the data */
}

/* Relay one transaction; the reply to the end of data. */
static void
relay(struct run *r, struct session *s, bool *open, const char *sender,
    const struct strlist *rcpts, int fd)
{
	struct message m;
	struct mail_envelope e;
	struct options view;
	struct read_rules rules = { false };
	struct send_result res = { 0 };
	struct failure f;
	int rc;

	memset(&f, 0, sizeof f);
	memset(&e, 0, sizeof e);
	message_init(&m);
	reply_init(&res.final);
	/* The local client's envelope gets the rules of any other message
	   (aliases, maildomain, Bcc removal, missing headers): a view of the
	   options with this transaction's sender and recipients. */
	view = r->o;
	view.from = (char *)sender;
	view.recipients = *rcpts;
	view.read_recipients = false;
	rc = message_read(&m, fd, &rules, &f);
	if (rc == 0)
		rc = envelope_build(&e, &view, &m, r->fqdn, &f);
	if (rc == 0 && *open && !s->usable) {
		session_close(s);
		*open = false;
	}
	if (rc == 0 && !*open && (rc = session_open(s, &r->sc, &f)) == 0)
		*open = true;
	if (rc == 0) {
		struct envelope env = { e.sender, &e.recipients };
		rc = session_send(s, &env, &m, &res, &f);
	}
	deliver_refusals(NULL, &res);
	/* Never the JSON report: standard output is the SMTP session. */
	bool json = r->o.report_json;
	r->o.report_json = false;
	deliver_record(r, sender, rcpts, &res, message_size(&m), rc, &f);
	r->o.report_json = json;
	if (rc == 0)
		say("250 2.0.0 Ok: relayed");
	else if (f.class == FAIL_PARTIAL)
		/* The recipients were accepted already: say which were not
		   delivered rather than make the client send it twice. */
		say("250 2.0.0 Ok: relayed; some recipients refused (see "
		    "the log)");
	else {
		bool temp = fail_transient(f.class);
		char *text = f.what[0] ? xasprintf("%s: %s", f.what, f.detail)
		    : xstrdup("recipients refused");
		char *esc = escape_bytes(text, strlen(text));
		say("%s %s", temp ? "451 4.4.0" : "554 5.0.0", esc);
		free(esc);
		free(text);
	}
	send_result_free(&res);
	envelope_free(&e);
	message_free(&m);
}

int
relay_stdin_session(struct run *r, struct failure *f)
{
	struct input in = { .eof = false };
	struct buf line;
	struct strlist rcpts = { 0 };
	struct session s;
	char *sender = NULL;
	bool open = false;

	(void)f;
	buf_init(&line);
	r->sc.quit_early = false;
	say("220 %s carrier ESMTP (sendmail -bs)", r->fqdn);
	while (read_line(&in, &line) == 0) {
		const char *cmd = line.data ? line.data : "";
		if (ascii_iprefix(cmd, "EHLO ") || ascii_iprefix(cmd, "HELO ")) {
			if (ascii_iprefix(cmd, "EHLO "))
				say("250-%s\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
				    "250 ENHANCEDSTATUSCODES", r->fqdn);
			else
				say("250 %s", r->fqdn);
		} else if (ascii_iprefix(cmd, "MAIL ")) {
			char *a = path_arg(cmd + 5, "FROM:");
			if (sender != NULL)
				say("503 5.5.1 nested MAIL");
			else if (a == NULL)
				say("501 5.1.7 bad sender address");
			else {
				sender = a;
				a = NULL;
				say("250 2.1.0 Ok");
			}
			free(a);
		} else if (ascii_iprefix(cmd, "RCPT ")) {
			char *a = path_arg(cmd + 5, "TO:");
			if (sender == NULL)
				say("503 5.5.1 need MAIL first");
			else if (a == NULL || *a == '\0')
				say("501 5.1.3 bad recipient address");
			else {
				strlist_addn(&rcpts, a);
				a = NULL;
				say("250 2.1.5 Ok");
			}
			free(a);
		} else if (ascii_ieq(cmd, "DATA")) {
			int fd = -1;
			if (sender == NULL || rcpts.n == 0) {
				say("503 5.5.1 need MAIL and RCPT first");
				continue;
			}
			say("354 End data with <CR><LF>.<CR><LF>");
			if (read_data(&in, &fd) < 0) {
				if (fd >= 0)
					(void)close(fd);
				break;	/* end of input inside DATA: nothing sent */
			}
			relay(r, &s, &open, sender, &rcpts, fd);
			(void)close(fd);
			free(sender);
			sender = NULL;
			strlist_free(&rcpts);
		} else if (ascii_ieq(cmd, "RSET")) {
			free(sender);
			sender = NULL;
			strlist_free(&rcpts);
			say("250 2.0.0 Ok");
		} else if (ascii_ieq(cmd, "NOOP")) {
			say("250 2.0.0 Ok");
		} else if (ascii_ieq(cmd, "QUIT")) {
			say("221 2.0.0 Bye");
			break;
		} else
			say("502 5.5.2 command not implemented");
	}
	if (open)
		session_close(&s);
	free(sender);
	strlist_free(&rcpts);
	buf_free(&line);
	return 0;
}
