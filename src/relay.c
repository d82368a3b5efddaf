/*
 * relay.c: sendmail -bs, an SMTP session on standard input and output
 * whose transactions carrier relays live to its server: the session to
 * the server opens at the client's first MAIL, each MAIL, RCPT and RSET
 * goes on at once and the server's reply comes back as it was, and the
 * data, once read whole, goes on with the server's reply to its end as
 * the answer.  A server that cannot be reached gets a 4xx, or with a
 * queue the transaction goes into the queue.
 */
#include <errno.h>
#include <stdarg.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "deliver.h"
#include "encoder.h"
#include "envelope.h"
#include "message.h"
#include "queue.h"
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

/* One -bs session: the client's input, the session to the server and the
   transaction in progress. */
struct bs {
	struct run *r;
	struct input in;
	struct session s;
	bool open;		/* s is open (maybe no longer usable) */
	bool in_mail;		/* MAIL was accepted: a transaction is open */
	bool queue;		/* this transaction goes into the queue */
	struct failure why;	/* why it does ("" with -odq) */
	const char *body;	/* the client's BODY=, or NULL */
	char *sender;		/* as the client gave it */
	struct strlist given;	/* the client's recipients that were taken */
	struct strlist sent;	/* the addresses the server accepted */
};

/* A reply of the server's, line by line as it came; control bytes become
   '?'.  A 421 is passed on as 451: the client's session goes on. */
static void
say_reply(const struct reply *r)
{
	const char *p = r->text.data ? r->text.data : "";
	int code = r->code == 421 ? 451 : r->code;

	for (;;) {
		size_t n = strcspn(p, "\n");
		char *line = xstrndup(p, n);
		for (char *c = line; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		say("%d%c%s", code, p[n] == '\n' ? '-' : ' ', line);
		free(line);
		if (p[n] != '\n')
			break;
		p += n + 1;
	}
}

/* A reply of carrier's own, "CODE X.Y.Z WHAT: DETAIL", for a failure
   that has no reply of the server's to pass on. */
static void
say_failure(const char *code, const struct failure *f)
{
	char *text = f->detail[0] ? xasprintf("%s: %s", f->what, f->detail) :
	    xstrdup(f->what);
	char *esc = escape_bytes(text, strlen(text));

	say("%s %s", code, esc);
	free(esc);
	free(text);
}

/* "FROM:<addr> PARAMS" -> addr and *rest (the parameters), or NULL when
   malformed. */
static char *
path_arg(const char *s, const char *keyword, const char **rest)
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
	if (end == NULL || (end[1] != '\0' && end[1] != ' '))
		return NULL;
	char *addr = xstrndup(s + 1, (size_t)(end - s - 1));
	if (address_check(addr, true) != NULL) {
		free(addr);
		return NULL;
	}
	for (*rest = end + 1; **rest == ' '; (*rest)++)
		;
	return addr;
}

/* The MAIL parameters carrier offers (RFC 1870 SIZE, RFC 6152 BODY, RFC
   6531 SMTPUTF8), checked; NULL, or the reply that refuses them.  Nothing
   else goes on to the server. */
static const char *
mail_params(const char *s, struct mail_params *p)
{
	while (*s != '\0') {
		size_t n = strcspn(s, " ");
		char *kv = xstrndup(s, n), *val = strchr(kv, '=');
		const char *bad = NULL;
		if (val != NULL)
			*val++ = '\0';
		if (ascii_ieq(kv, "SIZE") && val != NULL && *val != '\0' &&
		    strlen(val) <= 19 && strspn(val, "0123456789") ==
		    strlen(val)) {
			p->size_given = true;
			p->size = strtoull(val, NULL, 10);
		} else if (ascii_ieq(kv, "BODY") && val != NULL &&
		    (ascii_ieq(val, "7BIT") || ascii_ieq(val, "8BITMIME")))
			p->body = ascii_ieq(val, "7BIT") ? "7BIT" : "8BITMIME";
		else if (ascii_ieq(kv, "SMTPUTF8") && val == NULL)
			p->smtputf8 = true;
		else if (ascii_ieq(kv, "SIZE") || ascii_ieq(kv, "BODY"))
			bad = "501 5.5.4 bad SIZE or BODY value";
		else
			bad = "555 5.5.4 MAIL parameter not supported";
		free(kv);
		if (bad != NULL)
			return bad;
		for (s += n; *s == ' '; s++)
			;
	}
	return NULL;
}

/* The transaction is over (data relayed, RSET, a lost server). */
static void
end_transaction(struct bs *b)
{
	free(b->sender);
	b->sender = NULL;
	strlist_free(&b->given);
	strlist_free(&b->sent);
	b->in_mail = b->queue = false;
	b->body = NULL;
	memset(&b->why, 0, sizeof b->why);
}

/* After a reply or a failure: a server that went away (421, a lost
   connection) ends the transaction; the next MAIL opens a new session. */
static void
check_server(struct bs *b)
{
	if (!b->open || b->s.usable)
		return;
	session_close(&b->s);
	b->open = false;
	end_transaction(b);
}

/* No reply of the server's to pass on: the connection failed under the
   transaction.  A 451 naming the cause, the same on stderr; check_server
   then ends the transaction. */
static void
server_lost(struct bs *b, const struct failure *f)
{
	say_failure("451 4.4.2", f);
	report_failure(f);
	b->s.usable = false;
}

/* The session to the server, opened at the first MAIL and again after
   one that went away. */
static int
server(struct bs *b, struct failure *f)
{
	check_server(b);
	if (b->open)
		return 0;
	if (session_open(&b->s, &b->r->sc, f) < 0)
		return -1;
	b->open = true;
	return 0;
}

/*
 * MAIL with a server that could not be reached: with a queue and a cause
 * worth retrying (and with -odq, without trying) the transaction is taken
 * for the queue; else a 4xx naming the cause.  True when taken.
 */
static bool
unreachable(struct bs *b, const struct failure *f)
{
	if (b->r->o.queue_on && fail_transient(f->class)) {
		b->queue = true;
		b->why = *f;
		return true;	/* the queued line will name the cause */
	}
	report_failure(f);
	say_failure(fail_transient(f->class) ? "451 4.4.1" : "451 4.3.0", f);
	return false;
}

static void
cmd_mail(struct bs *b, const char *arg)
{
	struct mail_params p = { 0 };
	struct failure f = { 0 };
	struct reply rep;
	const char *rest, *bad;
	char *addr = path_arg(arg, "FROM:", &rest), *sender = NULL;

	reply_init(&rep);
	if (b->in_mail)
		say("503 5.5.1 nested MAIL");
	else if (addr == NULL)
		say("501 5.1.7 bad sender address");
	else if ((bad = mail_params(rest, &p)) != NULL)
		say("%s", bad);
	else if (envelope_given_sender(&b->r->o, addr, b->r->fqdn, &sender,
	    &f) < 0)
		say_failure(f.class == FAIL_DATAERR ? "501 5.1.7" :
		    "451 4.3.0", &f);
	else if (b->r->o.queue_only)
		b->queue = true;
	else if (server(b, &f) < 0)
		(void)unreachable(b, &f);
	else if (session_mail(&b->s, sender, &p, &rep, &f) == 0) {
		say_reply(&rep);
		b->in_mail = reply_positive(&rep);
	} else if (f.class == FAIL_UNSUPPORTED)
		say_failure("553 5.6.7", &f);
	else
		server_lost(b, &f);
	check_server(b);
	if (b->queue) {
		say("250 2.1.0 Ok");
		b->in_mail = true;
	}
	if (b->in_mail) {
		b->sender = addr;
		addr = NULL;
		b->body = p.body;
	}
	reply_free(&rep);
	free(sender);
	free(addr);
}

/*
 * The addresses one RCPT stands for (several through an alias), each
 * asked of the server.  The client gets the server's reply: an
 * acceptance when any took it (a refused alias member gets a line on
 * stderr), else the first refusal.
 */
static void
rcpt_live(struct bs *b, char *addr, const struct strlist *to)
{
	struct reply ok, no, rep;
	struct failure f = { 0 };
	int rc = 0;

	reply_init(&ok);
	reply_init(&no);
	for (size_t i = 0; i < to->n && rc == 0; i++) {
		reply_init(&rep);
		if ((rc = session_rcpt(&b->s, to->v[i], &rep, &f)) < 0)
			break;
		struct reply *keep = reply_positive(&rep) ? &ok : &no;
		if (reply_positive(&rep))
			strlist_add(&b->sent, to->v[i]);
		else if (to->n > 1) {
			char *t = reply_oneline(&rep);
			warnx_safe("<%s>: %d %s", to->v[i], rep.code, t);
			free(t);
		}
		if (keep->code == 0 || keep == &ok) {
			reply_free(keep);
			*keep = rep;
		} else
			reply_free(&rep);
	}
	if (rc < 0)
		server_lost(b, &f);
	else if (ok.code != 0) {
		say_reply(&ok);
		strlist_add(&b->given, addr);
	} else
		say_reply(&no);
	reply_free(&ok);
	reply_free(&no);
	check_server(b);
}

static void
cmd_rcpt(struct bs *b, const char *arg)
{
	struct strlist to = { 0 };
	struct failure f = { 0 };
	const char *rest;
	char *addr = path_arg(arg, "TO:", &rest);

	if (!b->in_mail)
		say("503 5.5.1 need MAIL first");
	else if (addr == NULL || *addr == '\0')
		say("501 5.1.3 bad recipient address");
	else if (*rest != '\0')
		say("555 5.5.4 RCPT parameters are not supported");
	else if (envelope_given_recipient(&b->r->o, addr, &to, &f) < 0)
		say_failure(f.class == FAIL_DATAERR ? "501 5.1.3" :
		    "451 4.3.0", &f);
	else if (b->queue) {
		strlist_add(&b->given, addr);
		say("250 2.1.5 Ok");
	} else
		rcpt_live(b, addr, &to);
	strlist_free(&to);
	free(addr);
}

/* RSET at the server when a session to it is usable; its reply into
   *rep, -1 when there is none. */
static int
server_rset(struct bs *b, struct reply *rep)
{
	struct failure ignored = { 0 };

	if (!b->open || !b->s.usable)
		return -1;
	return session_rset(&b->s, rep, &ignored);
}

/* RSET, mirrored: the server's reply is the client's (250 of carrier's
   own without a session to the server). */
static void
cmd_rset(struct bs *b)
{
	struct reply rep;

	end_transaction(b);
	reply_init(&rep);
	if (server_rset(b, &rep) == 0)
		say_reply(&rep);
	else
		say("250 2.0.0 Ok");
	reply_free(&rep);
	check_server(b);
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

/* Into the queue instead of to the server: "250 ... queued as ID", and
   the line deliver writes on stderr. */
static int
queue_message(struct bs *b, const struct mail_envelope *e,
    const struct message *m, struct failure *f)
{
	const struct options *o = &b->r->o;
	struct queue_entry q;
	struct queue qd;
	char *dir = o->queue_dir ? xstrdup(o->queue_dir) : queue_default_dir();
	const struct failure *why = b->why.what[0] ? &b->why : NULL;
	int rc;

	memset(&q, 0, sizeof q);
	q.sender = xstrdup(e->sender);
	for (size_t i = 0; i < e->recipients.n; i++)
		strlist_add(&q.recipients, e->recipients.v[i]);
	q.account = o->account ? xstrdup(o->account) : NULL;
	q.dsn_notify = o->dsn_notify ? xstrdup(o->dsn_notify) : NULL;
	q.dsn_return = o->dsn_return ? xstrdup(o->dsn_return) : NULL;
	q.dsn_envid = o->dsn_envid ? xstrdup(o->dsn_envid) : NULL;
	q.body_type = b->body ? xstrdup(b->body) : o->body_type ?
	    xstrdup(o->body_type) : NULL;
	q.first = q.last = q.next = time(NULL);
	if (why != NULL) {
		q.attempts = 1;
		q.next += queue_backoff(1);
		q.last_error = xasprintf("%s: %s", why->what, why->detail);
	}
	if ((rc = queue_open(&qd, dir, true, f)) == 0)
		rc = queue_add(&qd, &q, m, f);
	queue_close(&qd);
	if (rc == 0) {
		say("250 2.0.0 Ok: queued as %s", q.id);
		warnx_safe("queued as %s in %s%s%s", q.id, dir, why ? ": " :
		    " (not sent: -odq)", why ? q.last_error : "");
	} else {
		say_failure("451 4.3.0", f);
		report_failure(f);
	}
	queue_entry_free(&q);
	free(dir);
	return rc;
}

/* The data to the server; its reply to the end of the data (or to DATA)
   is the client's. */
static int
data_live(struct bs *b, const struct message *m, struct send_result *res,
    struct failure *f)
{
	int rc;

	res->n = b->sent.n;
	res->r = xcalloc(res->n, sizeof *res->r);
	for (size_t i = 0; i < res->n; i++) {
		res->r[i].address = xstrdup(b->sent.v[i]);
		res->r[i].accepted = true;
	}
	rc = session_data(&b->s, m, res, f);
	if (res->final.code != 0)
		say_reply(&res->final);
	else
		server_lost(b, f);
	/* LMTP's refusals of single recipients. */
	deliver_refusals(NULL, res);
	return rc;
}

/*
 * The message read from fd gets the rules of any other message (aliases,
 * maildomain, Bcc removal, the missing headers of sendmail mode): a view
 * of the options with this transaction's sender and recipients.  Then it
 * goes to the server or into the queue.
 */
static void
relay_message(struct bs *b, int fd)
{
	struct message m;
	struct mail_envelope e;
	struct options view = b->r->o;
	struct read_rules rules = { false };
	struct send_result res = { 0 };
	struct failure f = { 0 };
	int rc;

	memset(&e, 0, sizeof e);
	message_init(&m);
	reply_init(&res.final);
	view.from = b->sender;
	view.recipients = b->given;
	view.read_recipients = false;
	if ((rc = message_read(&m, fd, &rules, &f)) == 0)
		rc = envelope_build(&e, &view, &m, b->r->fqdn, &f);
	if (rc < 0) {
		say_failure(f.class == FAIL_DATAERR ? "554 5.6.0" :
		    "451 4.3.0", &f);
		struct reply ignored;
		reply_init(&ignored);
		(void)server_rset(b, &ignored);
		reply_free(&ignored);
	} else if (b->queue)
		rc = queue_message(b, &e, &m, &f);
	else
		rc = data_live(b, &m, &res, &f);
	/* The log line; never the JSON report: standard output is the
	   SMTP session. */
	bool json = b->r->o.report_json;
	b->r->o.report_json = false;
	deliver_record(b->r, e.sender ? e.sender : b->sender, b->queue ?
	    &e.recipients : &b->sent, &res,
	    message_size(&m), rc, &f);
	b->r->o.report_json = json;
	send_result_free(&res);
	envelope_free(&e);
	message_free(&m);
	check_server(b);
}

/* DATA: the data read whole, then relayed.  -1 when the data could not be
   read (the session ends, nothing relayed). */
static int
cmd_data(struct bs *b, struct failure *f)
{
	int fd = -1;

	if (!b->in_mail) {
		say("503 5.5.1 need MAIL first");
		return 0;
	}
	if (b->given.n == 0) {
		say("554 5.5.1 no valid recipients");
		return 0;
	}
	say("354 End data with <CR><LF>.<CR><LF>");
	if (read_data(&b->in, &fd, f) < 0) {
		if (fd >= 0)
			(void)close(fd);
		return -1;
	}
	relay_message(b, fd);
	(void)close(fd);
	end_transaction(b);
	return 0;
}

static void
cmd_ehlo(struct bs *b, bool ehlo)
{
	const struct capabilities *c = &b->s.caps;

	if (b->in_mail) {
		/* RFC 5321 4.1.4: like RSET, whose reply is not told. */
		struct reply ignored;
		end_transaction(b);
		reply_init(&ignored);
		(void)server_rset(b, &ignored);
		reply_free(&ignored);
		check_server(b);
	}
	if (!ehlo) {
		say("250 %s", b->r->fqdn);
		return;
	}
	/* No PIPELINING: every reply is the server's, one at a time.  SIZE
	   is the server's limit once a session to it is open. */
	say("250-%s", b->r->fqdn);
	say("250-8BITMIME");
	if (b->open && c->size_offered && c->size > 0)
		say("250-SIZE %llu", (unsigned long long)c->size);
	else
		say("250-SIZE");
	say("250-SMTPUTF8");
	say("250 ENHANCEDSTATUSCODES");
}

/* Every command but DATA and QUIT. */
static void
dispatch(struct bs *b, const char *cmd)
{
	if (ascii_iprefix(cmd, "EHLO ") || ascii_iprefix(cmd, "HELO "))
		cmd_ehlo(b, ascii_iprefix(cmd, "EHLO "));
	else if (ascii_iprefix(cmd, "MAIL "))
		cmd_mail(b, cmd + 5);
	else if (ascii_iprefix(cmd, "RCPT "))
		cmd_rcpt(b, cmd + 5);
	else if (ascii_ieq(cmd, "RSET"))
		cmd_rset(b);
	else if (ascii_ieq(cmd, "NOOP"))
		say("250 2.0.0 Ok");
	else
		say("502 5.5.2 command not implemented");
}

int
relay_stdin_session(struct run *r, struct failure *f)
{
	struct bs b = { .r = r };
	struct buf line;
	int rc = 0;

	buf_init(&line);
	r->sc.quit_early = false;
	say("220 %s carrier ESMTP (sendmail -bs)", r->fqdn);
	while (read_line(&b.in, &line) == 0) {
		const char *cmd = line.data ? line.data : "";
		if (ascii_ieq(cmd, "QUIT")) {
			say("221 2.0.0 Bye");
			break;	/* and QUIT to the server */
		}
		if (!ascii_ieq(cmd, "DATA"))
			dispatch(&b, cmd);
		else if (cmd_data(&b, f) < 0) {
			rc = -1;	/* nothing of it relayed */
			break;
		}
	}
	if (b.open)
		session_close(&b.s);
	end_transaction(&b);
	buf_free(&line);
	return rc;
}
