/*
 * config_parse.c: the configuration file parser, pure: bytes in, accounts
 * out.  Each value is parsed by its setting's type (settings.c); this file
 * knows the file's syntax (lines, quoting, `defaults`, `account NAME :
 * PARENTS`, `eval`) and msmtp's inheritance rules.  See config.h.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "params.h"
#include "secret.h"

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* msmtp's argument rule: drop surrounding blanks, then one pair of
 * enclosing double quotes.  Returns a malloc'd string. */
static char *
trim_arg(const char *s, size_t len)
{
	while (len > 0 && is_blank(*s)) {
		s++;
		len--;
	}
	while (len > 0 && is_blank(s[len - 1]))
		len--;
	if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
		s++;
		len -= 2;
	}
	return xstrndup(s, len);
}

static void
value_clear(struct config_value *v, enum config_key k)
{
	if (k == CK_PASSWORD || k == CK_PASSWORDEVAL)
		free_secret(v->str);
	else
		free(v->str);
	memset(v, 0, sizeof *v);
}

static void
value_copy(struct config_value *dst, const struct config_value *src,
    enum config_key k, bool own)
{
	value_clear(dst, k);
	*dst = *src;
	dst->str = src->str ? xstrdup(src->str) : NULL;
	dst->own = own;
}

static void
account_clear(struct config_account *a)
{
	free(a->name);
	a->name = NULL;
	for (int k = 0; k < CK_COUNT; k++)
		value_clear(&a->v[k], (enum config_key)k);
	a->line = 0;
}

void
config_init(struct config *c)
{
	memset(c, 0, sizeof *c);
}

void
config_free(struct config *c)
{
	for (size_t i = 0; i < c->n; i++)
		account_clear(&c->accounts[i]);
	free(c->accounts);
	account_clear(&c->defaults);
	free(c->filename);
	config_init(c);
}

/* ------------------------------------------------------------------ */
/* The parser                                                          */

struct parser {
	struct config *c;
	const char *filename;
	config_eval_fn *eval;
	void *eval_ctx;
	long cur;		/* index into accounts, -1: defaults, -2: none */
	struct failure *f;
};

static int
perr(struct parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
perr(struct parser *p, int line, const char *fmt, ...)
{
	char what[256], detail[1024];
	va_list ap;

	(void)snprintf(what, sizeof what, "%s:%d", p->filename, line);
	va_start(ap, fmt);
	(void)vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	return fail(p->f, FAIL_CONFIG, 0, what, "%s", detail);
}

const struct config_account *
config_find(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->accounts[i].name, name) == 0)
			return &c->accounts[i];
	return NULL;
}

/* Append a new account: the current defaults, not own. */
static struct config_account *
new_account(struct parser *p, char *name, int line)
{
	struct config *c = p->c;
	struct config_account *a;

	c->accounts = xreallocarray(c->accounts, c->n + 1,
	    sizeof *c->accounts);
	a = &c->accounts[c->n];
	memset(a, 0, sizeof *a);
	for (int k = 0; k < CK_COUNT; k++)
		if (c->defaults.v[k].line != 0)
			value_copy(&a->v[k], &c->defaults.v[k],
			    (enum config_key)k, false);
	a->name = name;
	a->line = line;
	p->cur = (long)c->n;
	c->n++;
	return a;
}

/* `account NAME [: PARENT[,PARENT...]]`; arg already trimmed. */
static int
do_account(struct parser *p, int line, const char *arg)
{
	const char *colon = strchr(arg, ':');
	char *name = trim_arg(arg, colon ? (size_t)(colon - arg) : strlen(arg));
	struct strlist parents = { NULL, 0, 0 };
	struct config_account *a;
	int rc = -1;

	if (colon != NULL) {
		const char *s = colon + 1;

		for (;;) {
			size_t n = strcspn(s, ",");
			char *pn = trim_arg(s, n);

			if (*pn == '\0') {
				free(pn);
				perr(p, line, "missing account name");
				goto out;
			}
			if (config_find(p->c, pn) == NULL) {
				perr(p, line, "account '%s' is not defined "
				    "(a parent must come before its child)", pn);
				free(pn);
				goto out;
			}
			strlist_addn(&parents, pn);
			if (s[n] == '\0')
				break;
			s += n + 1;
		}
	}
	if (*name == '\0') {
		perr(p, line, "missing account name");
		goto out;
	}
	if (!account_name_valid(name)) {
		perr(p, line, "an account name must not contain colons, "
		    "commas or control characters");
		goto out;
	}
	if (config_find(p->c, name) != NULL) {
		perr(p, line, "account '%s' is already defined", name);
		goto out;
	}
	a = new_account(p, name, line);
	name = NULL;
	for (size_t i = 0; i < parents.n; i++) {
		const struct config_account *par = config_find(p->c,
		    parents.v[i]);

		for (int k = 0; k < CK_COUNT; k++)
			if (par->v[k].own)
				value_copy(&a->v[k], &par->v[k],
				    (enum config_key)k, true);
	}
	rc = 0;
out:
	free(name);
	strlist_free(&parents);
	return rc;
}

static int parse_line(struct parser *p, const char *line, int lineno,
    bool from_eval);

static void
wipe_free(char *s)
{
	free_secret(s);
}

/* `eval CMD`: the first line of CMD's output is parsed in its place. */
static int
do_eval(struct parser *p, int lineno, const char *arg, bool from_eval)
{
	char *out = NULL;
	int rc;

	if (p->c->eval_line == 0)
		p->c->eval_line = lineno;
	if (from_eval)
		return perr(p, lineno, "the output of eval must not be "
		    "another eval");
	if (p->eval == NULL)
		return perr(p, lineno, "'eval' is not allowed here");
	if (*arg == '\0')
		return perr(p, lineno, "'eval' needs a value");
	if (p->eval(p->eval_ctx, p->filename, lineno, arg, &out, p->f) != 0)
		return -1;
	rc = parse_line(p, out, lineno, true);
	wipe_free(out);
	return rc;
}

/* `KEY VALUE`: the value parsed by its setting's type, stored in the
   current account (the implicit account "default" before any). */
static int
do_setting(struct parser *p, int lineno, const char *cmd, const char *arg,
    bool from_eval)
{
	const struct setting *s = setting_by_key(cmd);
	struct setting_value sv;
	struct config_account *a;
	struct config_value *v;
	const char *hint;
	enum setting_error e;

	if (s == NULL)
		return perr(p, lineno, "unknown key '%s'", cmd);
	if ((e = setting_parse(s, arg, &sv, &hint)) != SE_OK) {
		char msg[512];

		setting_error_text(e, s->key, arg, hint, msg, sizeof msg);
		return perr(p, lineno, "%s", msg);
	}
	if (p->cur == -2) {
		/* msmtp 1.2 compatibility: settings before any account or
		 * defaults form the account "default". */
		(void)new_account(p, xstrdup("default"), lineno);
	}
	a = p->cur == -1 ? &p->c->defaults : &p->c->accounts[p->cur];
	v = &a->v[s->id];
	value_clear(v, s->id);
	v->str = sv.str;
	v->num = sv.num;
	v->auth = sv.auth;
	v->line = lineno;
	v->own = true;
	if ((s->id == CK_PASSWORD || s->id == CK_OAUTH2_CLIENT_SECRET) &&
	    !from_eval && p->c->password_line == 0)
		p->c->password_line = lineno;
	return 0;
}

/* One line, NUL-terminated, without its line ending. */
static int
parse_line(struct parser *p, const char *line, int lineno, bool from_eval)
{
	const char *s = line, *cmdend;
	char *cmd, *arg;
	int rc;

	while (is_blank(*s))
		s++;
	if (*s == '\0' || *s == '#')
		return 0;
	for (cmdend = s; *cmdend != '\0' && !is_blank(*cmdend); cmdend++)
		;
	cmd = xstrndup(s, (size_t)(cmdend - s));
	arg = trim_arg(cmdend, strlen(cmdend));
	if (strcmp(cmd, "eval") == 0)
		rc = do_eval(p, lineno, arg, from_eval);
	else if (strcmp(cmd, "defaults") == 0) {
		rc = *arg != '\0' ? perr(p, lineno, "'defaults' takes no "
		    "value") : 0;
		if (rc == 0)
			p->cur = -1;
	} else if (strcmp(cmd, "account") == 0)
		rc = do_account(p, lineno, arg);
	else
		rc = do_setting(p, lineno, cmd, arg, from_eval);
	free(cmd);
	wipe_free(arg);
	return rc;
}

int
config_parse_eval(const char *text, size_t len, const char *filename,
    config_eval_fn *eval, void *ctx, struct config *out, struct failure *f)
{
	struct parser p;
	size_t pos = 0;
	int lineno = 0;

	config_init(out);
	out->filename = xstrdup(filename);
	p.c = out;
	p.filename = out->filename;
	p.eval = eval;
	p.eval_ctx = ctx;
	p.cur = -2;
	p.f = f;

	while (pos < len) {
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;
		char *line;
		int rc;

		pos += n + (nl ? 1 : 0);
		lineno++;
		if (lineno == INT_MAX) {
			perr(&p, lineno, "too many lines");
			goto fail;
		}
		if (n > 0 && start[n - 1] == '\r')
			n--;
		if (memchr(start, '\0', n) != NULL) {
			perr(&p, lineno, "NUL byte in line");
			goto fail;
		}
		line = xstrndup(start, n);
		rc = parse_line(&p, line, lineno, false);
		wipe_free(line);
		if (rc != 0)
			goto fail;
	}
	return 0;
fail:
	config_free(out);
	return -1;
}

int
config_parse(const char *text, size_t len, const char *filename,
    struct config *out, struct failure *f)
{
	return config_parse_eval(text, len, filename, NULL, NULL, out, f);
}

