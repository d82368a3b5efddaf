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
#include "encoder.h"
#include "envelope.h"
#include "message.h"
#include "relay.h"

#define LINE_MAX_OCTETS	4096

struct input {
	char block[8192];
	size_t len, pos;
	bool eof;
};

/* More input into an emptied block; false at its end. */
static bool
fill(struct input *in)
{
	while (in->pos == in->len && !in->eof) {
		ssize_t n = read(STDIN_FILENO, in->block, sizeof in->block);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			in->eof = true;
			break;
		}
		in->len = (size_t)n;
		in->pos = 0;
	}
	return in->pos < in->len;
}

/* One line from stdin without its CRLF or LF; -1 at end of input. */
static int
read_line(struct input *in, struct buf *line)
{
	buf_reset(line);
	for (;;) {
		if (!fill(in))
			return line->len ? 0 : -1;
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

/*
 * The message data up to CRLF "." CRLF, un-stuffed, into an anonymous
 * file for message_read (memory stays flat whatever the lines' length).
 * Returns 0 with *fd at the end of the data, else -1 with *f: the input
 * ended first, or a bare CR or LF, which is refused as Postfix does with
 * smtpd_forbid_bare_newline: a 550 reply, and the session ends (what
 * follows could be a second transaction smuggled inside this one).
 */
static int
read_data(struct input *in, int *fd, struct failure *f)
{
	struct data_state st;
	struct buf out;
	enum data_status ds = DATA_MORE;

	if ((*fd = memfd_create("carrier-bs", MFD_CLOEXEC)) < 0)
		return fail(f, FAIL_OSERR, 0, "DATA", "memfd_create: %s",
		    strerror(errno));
	data_init(&st);
	buf_init(&out);
	while (ds == DATA_MORE && fill(in)) {
		size_t used;
		ds = data_unstuff(&st, in->block + in->pos, in->len - in->pos,
		    &out, &used);
		in->pos += used;
		if (write_all(*fd, out.data, out.len) < 0) {
			buf_free(&out);
			return fail(f, FAIL_OSERR, 0, "DATA", "write: %s",
			    strerror(errno));
		}
		buf_reset(&out);
	}
	buf_free(&out);
	switch (ds) {
	case DATA_END:
		if (lseek(*fd, 0, SEEK_SET) < 0)
			return fail(f, FAIL_OSERR, 0, "DATA", "lseek: %s",
			    strerror(errno));
		return 0;
	case DATA_MORE:
		return fail(f, FAIL_DATAERR, 0, "DATA", "the input ended "
		    "before <CR><LF>.<CR><LF>; nothing relayed");
	default:
		say("550 5.5.2 bare <%s> in message data; use CRLF",
		    ds == DATA_BARE_LF ? "LF" : "CR");
		return fail(f, FAIL_DATAERR, 0, "DATA", "bare %s in the "
		    "message data; transaction refused, session ended",
		    ds == DATA_BARE_LF ? "LF" : "CR");
	}
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
	int rc = 0;

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
			if (read_data(&in, &fd, f) < 0) {
				if (fd >= 0)
					(void)close(fd);
				rc = -1;	/* nothing of it relayed */
				break;
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
	return rc;
}
