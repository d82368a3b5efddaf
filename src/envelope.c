/* envelope.c: send_message()'s rules for sender and recipients. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "envelope.h"
#include "headers.h"

/* RFC 5321 4.5.3.1.4: a command line is at most 512 octets with CRLF;
   "RCPT TO:<" + ">" + CRLF leave 499 for the address. */
#define ADDRESS_MAX_IN_COMMAND	499

void
envelope_free(struct mail_envelope *e)
{
	free(e->sender);
	e->sender = NULL;
	strlist_free(&e->recipients);
}

int
envelope_check(const char *addr, bool null_ok, struct failure *f)
{
	const char *why = address_check(addr, null_ok);

	if (why == NULL && strlen(addr) > ADDRESS_MAX_IN_COMMAND)
		why = "makes the command line longer than 512 octets";
	if (why != NULL)
		return fail(f, FAIL_DATAERR, 0, "address", "<%s> %s", addr,
		    why);
	return 0;
}

/* Append the addresses of every `name` field; -1 names the bad field. */
static int
field_addresses(const struct message *m, const char *name,
    struct strlist *out, struct failure *f)
{
	struct strlist values = { 0 };
	char err[160];
	int rc = 0;

	headers_values(m->head.data, m->head.len, name, &values);
	for (size_t i = 0; i < values.n && rc == 0; i++)
		if (address_list_parse(values.v[i], strlen(values.v[i]), out,
		    err, sizeof err) < 0)
			rc = fail(f, FAIL_DATAERR, 0, name, "%s", err);
	strlist_free(&values);
	return rc;
}

/* RFC 5321 4.1.2 is case-insensitive in the domain only, but sending one
   message twice to the same mailbox is never what anybody wants. */
static void
add_unique(struct strlist *l, const char *addr)
{
	if (!strlist_has_ci(l, addr))
		strlist_add(l, addr);
}

/* "name: a@x, b@y" lines, msmtp's aliases format; "default" matches any. */
static int
lookup_alias(const char *file, const char *name, struct strlist *out,
    struct failure *f)
{
	FILE *fp = fopen(file, "r");
	char *line = NULL;
	size_t cap = 0;
	int found = 0;

	if (fp == NULL)
		return fail(f, FAIL_CONFIG, 0, file, "%s", strerror(errno));
	for (int pass = 0; pass < 2 && !found; pass++) {
		rewind(fp);
		while (!found && getline(&line, &cap, fp) > 0) {
			char *colon = strchr(line, ':');
			if (line[0] == '#' || colon == NULL)
				continue;
			*colon = '\0';
			char *key = line;
			while (*key == ' ' || *key == '\t')
				key++;
			for (char *e = colon - 1; e >= key && (*e == ' ' ||
			    *e == '\t'); e--)
				*e = '\0';
			if (strcmp(key, pass == 0 ? name : "default") != 0)
				continue;
			char err[160];
			char *v = colon + 1;
			if (address_list_parse(v, strcspn(v, "\r\n"), out, err,
			    sizeof err) < 0) {
				fclose(fp);
				free(line);
				return fail(f, FAIL_CONFIG, 0, file,
				    "alias '%s': %s", key, err);
			}
			found = 1;
		}
	}
	free(line);
	fclose(fp);
	return found;
}

/* A bare local name (cron's "root"): aliases, then maildomain. */
static int
resolve_local(const struct options *o, const char *addr,
    struct strlist *out, struct failure *f)
{
	if (strchr(addr, '@') != NULL || *addr == '\0') {
		add_unique(out, addr);
		return 0;
	}
	if (o->aliases != NULL) {
		struct strlist expanded = { 0 };
		int r = lookup_alias(o->aliases, addr, &expanded, f);
		if (r < 0)
			return -1;
		if (r > 0) {
			for (size_t i = 0; i < expanded.n; i++) {
				if (strchr(expanded.v[i], '@') == NULL &&
				    o->maildomain != NULL) {
					char *q = xasprintf("%s@%s",
					    expanded.v[i], o->maildomain);
					add_unique(out, q);
					free(q);
				} else
					add_unique(out, expanded.v[i]);
			}
			strlist_free(&expanded);
			return 0;
		}
	}
	if (o->maildomain != NULL) {
		char *q = xasprintf("%s@%s", addr, o->maildomain);
		add_unique(out, q);
		free(q);
	} else
		add_unique(out, addr);
	return 0;
}

/* The first address of a From/Sender-like field, "" allowed (null). */
static int
header_sender(const struct message *m, const char *sender_field,
    const char *from_field, char **out, struct failure *f)
{
	struct strlist l = { 0 };

	if (field_addresses(m, sender_field, &l, f) < 0)
		goto bad;
	if (l.n == 0 && field_addresses(m, from_field, &l, f) < 0)
		goto bad;
	if (l.n > 1 && headers_count(m->head.data, m->head.len,
	    sender_field) == 0) {
		/* smtplib: several From addresses need a Sender. */
		strlist_free(&l);
		return fail(f, FAIL_DATAERR, 0, from_field, "has several "
		    "addresses and there is no %s field", sender_field);
	}
	if (l.n > 0)
		*out = xstrdup(l.v[0]);
	strlist_free(&l);
	return 0;
bad:
	strlist_free(&l);
	return -1;
}

static char *
login_name(void)
{
	const struct passwd *pw = getpwuid(getuid());
	const char *u = pw ? pw->pw_name : getenv("USER");

	return xstrdup(u && *u ? u : "nobody");
}

/* Quote a display name when it holds RFC 5322 specials. */
static void
add_display_name(struct buf *b, const char *name)
{
	if (strpbrk(name, "()<>[]:;@\\,.\"") == NULL) {
		buf_adds(b, name);
		return;
	}
	buf_addc(b, '"');
	for (const char *p = name; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_addc(b, '\\');
		buf_addc(b, *p);
	}
	buf_addc(b, '"');
}

static bool
wants(enum tristate setting, bool sendmail_default)
{
	return setting == YES || (setting == UNSET && sendmail_default);
}

/* What Postfix adds to locally submitted mail that lacks it. */
static void
add_missing_headers(const struct options *o, struct message *m,
    const char *sender, const char *fqdn)
{
	struct buf add;
	const char *h = m->head.data;
	size_t hl = m->head.len;

	buf_init(&add);
	if (o->replace_from_header)
		headers_remove(&m->head, "From");
	h = m->head.data;
	hl = m->head.len;
	/* An explicit -F asks for the From it names in any mode. */
	if (wants(o->set_from_header, o->sendmail || o->fullname != NULL) &&
	    headers_count(h, hl, "From") == 0) {
		buf_adds(&add, "From: ");
		if (o->fullname != NULL) {
			add_display_name(&add, o->fullname);
			buf_addc(&add, ' ');
		}
		buf_addf(&add, "<%s>\r\n", sender);
	}
	if (wants(o->set_date_header, o->sendmail) &&
	    headers_count(h, hl, "Date") == 0) {
		char date[64];
		time_t now = time(NULL);
		struct tm tm;
		static const char *const days[] = { "Sun", "Mon", "Tue", "Wed",
		    "Thu", "Fri", "Sat" };
		static const char *const months[] = { "Jan", "Feb", "Mar",
		    "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
		    "Dec" };
		(void)localtime_r(&now, &tm);
		long off = tm.tm_gmtoff / 60;
		/* Names spelt out: strftime would follow the locale. */
		(void)snprintf(date, sizeof date,
		    "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld",
		    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
		    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
		buf_addf(&add, "Date: %s\r\n", date);
	}
	if (wants(o->set_msgid_header, o->sendmail) &&
	    headers_count(h, hl, "Message-ID") == 0) {
		uint32_t r[4];
		arc4random_buf(r, sizeof r);
		buf_addf(&add, "Message-ID: <%08x%08x.%08x%08x@%s>\r\n",
		    r[0], r[1], r[2], r[3],
		    o->maildomain ? o->maildomain : fqdn);
	}
	if (add.len > 0) {
		buf_add(&add, m->head.data, m->head.len);
		buf_free(&m->head);
		m->head = add;
	} else
		buf_free(&add);
}

/* Recipients: the command line, then the headers with -t (from the one
   Resent- block when there is one). */
static int
envelope_recipients(struct mail_envelope *e, const struct options *o,
    const struct message *m, bool resent, struct failure *f)
{
	static const char *const plain[] = { "To", "Cc", "Bcc" };
	static const char *const re[] = { "Resent-To", "Resent-Cc",
	    "Resent-Bcc" };
	struct strlist raw = { 0 };
	int rc = -1;

	for (size_t i = 0; i < o->recipients.n; i++) {
		const char *arg = o->recipients.v[i];
		char err[160];
		/* sendmail reads "a@x, b@y" on its command line as a list. */
		if (strchr(arg, ',') == NULL)
			strlist_addn(&raw, address_strip_brackets(arg));
		else if (address_list_parse(arg, strlen(arg), &raw, err,
		    sizeof err) < 0) {
			fail(f, FAIL_DATAERR, 0, "recipient", "%s: %s", arg,
			    err);
			goto out;
		}
	}
	for (int i = 0; o->read_recipients && i < 3; i++)
		if (field_addresses(m, resent ? re[i] : plain[i], &raw, f) < 0)
			goto out;
	for (size_t i = 0; i < raw.n; i++) {
		if (*raw.v[i] == '\0')
			continue;	/* "<>" is no recipient */
		if (resolve_local(o, raw.v[i], &e->recipients, f) < 0)
			goto out;
	}
	if (e->recipients.n == 0) {
		fail(f, FAIL_DATAERR, 0, "no recipients", o->read_recipients ?
		    "none on the command line or in the headers" :
		    "give at least one address, or -t");
		goto out;
	}
	for (size_t i = 0; i < e->recipients.n; i++)
		if (envelope_check(e->recipients.v[i], false, f) < 0)
			goto out;
	rc = 0;
out:
	strlist_free(&raw);
	return rc;
}

/* Sender: -f, the account, Sender/From, then sendmail's default. */
static int
envelope_sender(struct mail_envelope *e, const struct options *o,
    const struct message *m, bool resent, const char *fqdn,
    struct failure *f)
{
	if (o->from != NULL)
		e->sender = address_strip_brackets(o->from);
	else if (header_sender(m, resent ? "Resent-Sender" : "Sender",
	    resent ? "Resent-From" : "From", &e->sender, f) < 0)
		return -1;
	if (e->sender == NULL && o->sendmail) {
		char *login = login_name();
		e->sender = xasprintf("%s@%s", login,
		    o->maildomain ? o->maildomain : fqdn);
		free(login);
	}
	if (e->sender == NULL)
		return fail(f, FAIL_DATAERR, 0, "no sender", "give -f ADDRESS, "
		    "or a From header, or 'from' in the configuration");
	if (*e->sender != '\0' && strchr(e->sender, '@') == NULL &&
	    o->maildomain != NULL) {
		/* cron's "root": smarthosts refuse unqualified senders. */
		char *q = xasprintf("%s@%s", e->sender, o->maildomain);
		free(e->sender);
		e->sender = q;
	}
	return envelope_check(e->sender, true, f);
}

/* Replace To, Cc and Bcc with one To field, put first. */
static void
replace_to(struct message *m, const struct strlist *rcpts)
{
	struct buf b;
	size_t col = 3;

	headers_remove(&m->head, "To");
	headers_remove(&m->head, "Cc");
	headers_remove(&m->head, "Bcc");
	buf_init(&b);
	if (rcpts == NULL)
		buf_adds(&b, "To: undisclosed-recipients:;");
	else
		buf_adds(&b, "To:");
	for (size_t i = 0; rcpts != NULL && i < rcpts->n; i++) {
		size_t len = strlen(rcpts->v[i]);

		/* RFC 5322 2.1.1: fold before a line passes 78 characters. */
		if (i > 0 && col + len + 2 > 78) {
			buf_adds(&b, "\r\n");
			col = 0;
		}
		buf_addc(&b, ' ');
		buf_adds(&b, rcpts->v[i]);
		col += len + 1;
		if (i + 1 < rcpts->n) {
			buf_addc(&b, ',');
			col++;
		}
	}
	buf_adds(&b, "\r\n");
	buf_add(&b, m->head.data, m->head.len);
	buf_free(&m->head);
	m->head = b;
}

/* The header edits that go with the envelope: Bcc removed, msmtp's
   undisclosed_recipients (nobody sees the list) and set_to_header (every
   recipient sees the envelope's list, Bcc included), the fields a
   sendmail adds. */
static void
envelope_edit_headers(const struct options *o, struct message *m,
    const struct mail_envelope *e, const char *fqdn)
{
	if (!o->keep_bcc) {
		headers_remove(&m->head, "Bcc");
		headers_remove(&m->head, "Resent-Bcc");
	}
	if (o->undisclosed_recipients)
		replace_to(m, NULL);
	else if (o->set_to_header == YES)
		replace_to(m, &e->recipients);
	add_missing_headers(o, m, e->sender, fqdn);
}

/* RFC 8689 5: a message whose author asked for no TLS requirement. */
static bool
tls_required_no(const struct message *m)
{
	struct strlist v = { 0 };
	bool no = false;

	headers_values(m->head.data, m->head.len, "TLS-Required", &v);
	for (size_t i = 0; i < v.n; i++) {
		const char *p = v.v[i] + strspn(v.v[i], " \t");
		size_t n = strcspn(p, " \t\r\n");
		if (n == 2 && strncasecmp(p, "no", 2) == 0 &&
		    p[n + strspn(p + n, " \t\r\n")] == '\0')
			no = true;
	}
	strlist_free(&v);
	return no;
}

int
envelope_build(struct mail_envelope *e, const struct options *o,
    struct message *m, const char *fqdn, struct failure *f)
{
	memset(e, 0, sizeof *e);
	if (o->require_tls && tls_required_no(m))
		return fail(f, FAIL_USAGE, 0, "--require-tls", "the message "
		    "has TLS-Required: No, which asks for the opposite");
	/* A Resent- block is counted by its Resent-Date, as smtplib does. */
	size_t blocks = headers_count(m->head.data, m->head.len,
	    "Resent-Date");
	/* Several blocks matter only when the headers decide the envelope:
	   a bounce of a bounce sent to given recipients is fine. */
	if (blocks > 1 && (o->read_recipients || o->from == NULL))
		return fail(f, FAIL_DATAERR, 0, "message", "has %zu Resent- "
		    "blocks; cannot tell which one to use", blocks);
	bool resent = blocks == 1;
	if (envelope_recipients(e, o, m, resent, f) < 0 ||
	    envelope_sender(e, o, m, resent, fqdn, f) < 0) {
		envelope_free(e);
		return -1;
	}
	envelope_edit_headers(o, m, e, fqdn);
	return 0;
}

int
envelope_header_sender(const struct message *m, char **out,
    struct failure *f)
{
	size_t blocks = headers_count(m->head.data, m->head.len,
	    "Resent-Date");

	*out = NULL;
	if (blocks > 1)
		return 0;	/* envelope_build says why */
	return header_sender(m, blocks == 1 ? "Resent-Sender" : "Sender",
	    blocks == 1 ? "Resent-From" : "From", out, f);
}

int
envelope_given_sender(const struct options *o, const char *addr,
    const char *fqdn, char **out, struct failure *f)
{
	struct options view = *o;
	struct mail_envelope e;

	memset(&e, 0, sizeof e);
	view.from = (char *)addr;	/* as -f: the headers are not read */
	if (envelope_sender(&e, &view, NULL, false, fqdn, f) < 0) {
		envelope_free(&e);
		return -1;
	}
	*out = e.sender;
	return 0;
}

int
envelope_given_recipient(const struct options *o, const char *addr,
    struct strlist *out, struct failure *f)
{
	memset(out, 0, sizeof *out);
	if (resolve_local(o, addr, out, f) < 0)
		goto bad;
	for (size_t i = 0; i < out->n; i++)
		if (envelope_check(out->v[i], false, f) < 0)
			goto bad;
	return 0;
bad:
	strlist_free(out);
	return -1;
}
