/*
 * query.c: the actions that send no message (--features, -S, --verify,
 * --expn, --noop, --server-help, --command, --rmqs): each reply as "CODE text"
 * on standard output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"

static void
print_reply(const struct reply *rep)
{
	const char *p = rep->text.data ? rep->text.data : "";
	const char *end = p + rep->text.len;

	do {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		char *esc = escape_bytes(p, (size_t)(le - p));
		printf("%03d %s\n", rep->code, esc);
		free(esc);
		p = nl ? nl + 1 : end;
	} while (p < end);
}

/* -S: the greeting, one "greeting" line for each of its lines. */
static void
print_greeting(const char *text)
{
	const char *p = text ? text : "";

	do {
		size_t n = strcspn(p, "\n");
		char *esc = escape_bytes(p, n);

		printf("greeting %s\n", esc);
		free(esc);
		p += n + (p[n] == '\n');
	} while (*p != '\0');
}

/* -S keeps the certificate lines the TLS layer shows at -v (subject,
   issuer, not before, not after, fingerprint) to print them after the
   capabilities; they still go to the trace. */
struct cert_lines {
	struct trace *trace;
	struct strlist lines;
};

static void
keep_cert_line(void *ctx, const char *line)
{
	struct cert_lines *c = ctx;

	if (strncmp(line, "TLS certificate ", 16) == 0)
		strlist_add(&c->lines, line);
	trace_info(c->trace, line);
}

/* Escaped as the -v lines are: the names are the server's bytes. */
static void
print_cert_lines(const struct strlist *lines)
{
	for (size_t i = 0; i < lines->n; i++) {
		char *esc = escape_bytes(lines->v[i], strlen(lines->v[i]));

		printf("%s\n", esc);
		free(esc);
	}
}

/* --features and -S: what the session learnt on its way in. */
static void
print_server(const struct run *r, const struct session *s,
    const struct strlist *cert)
{
	/* -S (msmtp): which server, its greeting, then what it offers. */
	if (r->o.action == ACT_SERVERINFO) {
		printf("server %s port %d%s\n", r->host, r->port,
		    r->sc.tls == TLS_OFF ? "" : r->sc.tls == TLS_IMPLICIT ?
		    " TLS on connect" : " STARTTLS");
		print_greeting(s->greeting);
	}
	for (size_t i = 0; i < s->caps.n; i++) {
		char *esc = escape_bytes(s->caps.v[i].params,
		    strlen(s->caps.v[i].params));
		printf("%s%s%s\n", s->caps.v[i].keyword, *esc ? " " : "", esc);
		free(esc);
	}
	print_cert_lines(cert);
}

/* The command lines of the other query modes. */
static void
query_lines(const struct options *o, struct strlist *lines)
{
	const char *arg = o->query_arg;

	switch (o->action) {
	case ACT_VERIFY:
		strlist_addn(lines, xasprintf("VRFY %s", arg));
		break;
	case ACT_EXPN:
		strlist_addn(lines, xasprintf("EXPN %s", arg));
		break;
	case ACT_NOOP:
		strlist_add(lines, "NOOP");
		break;
	case ACT_RMQS:	/* msmtp's --rmqs: RFC 1985 ETRN */
		strlist_addn(lines, xasprintf("ETRN %s", arg));
		break;
	case ACT_HELP:
		strlist_addn(lines, arg ? xasprintf("HELP %s", arg) :
		    xstrdup("HELP"));
		break;
	default:
		for (size_t i = 0; i < o->commands.n; i++)
			strlist_add(lines, o->commands.v[i]);
	}
}

/* Send each line, print each reply; *worst is the worst class of them. */
static int
ask(struct session *s, const struct strlist *lines, enum fail_class *worst,
    struct failure *f)
{
	struct reply rep;
	enum fail_class cl;
	int rc = 0;

	reply_init(&rep);
	/* After a 421 the server is gone: nothing more to ask. */
	for (size_t i = 0; i < lines->n && s->usable; i++) {
		if (session_command(s, lines->v[i], &rep, &cl, f) < 0) {
			rc = -1;
			break;
		}
		print_reply(&rep);
		*worst = fail_worse(*worst, cl);
	}
	reply_free(&rep);
	return rc;
}

/* --features, -S, --verify, --expn, --noop, --server-help, --command,
   --rmqs. */
int
query(struct run *r, struct failure *f)
{
	struct session s;
	enum fail_class worst = FAIL_NONE;
	struct cert_lines cert = { &r->trace, { 0 } };
	int rc = 0;

	if (r->o.action == ACT_SERVERINFO) {
		r->sc.tls_cfg.info = keep_cert_line;
		r->sc.tls_cfg.info_ctx = &cert;
	}
	if (session_open(&s, &r->sc, f) < 0) {
		strlist_free(&cert.lines);
		return -1;
	}
	if (r->o.action == ACT_FEATURES || r->o.action == ACT_SERVERINFO)
		print_server(r, &s, &cert.lines);
	else {
		struct strlist lines = { 0 };

		query_lines(&r->o, &lines);
		rc = ask(&s, &lines, &worst, f);
		strlist_free(&lines);
	}
	(void)fflush(stdout);
	session_close(&s);
	strlist_free(&cert.lines);
	r->sc.tls_cfg.info = trace_info;
	r->sc.tls_cfg.info_ctx = &r->trace;
	if (rc == 0 && worst != FAIL_NONE)
		return fail_reported(f, worst);
	return rc;
}
