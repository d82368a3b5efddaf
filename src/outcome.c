/* outcome.c: the JSON report and the delivery log line. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "outcome.h"

static void
json_string(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p);
	uint32_t cp;

	buf_addc(b, '"');
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		size_t l;
		if (c == '"' || c == '\\') {
			buf_addc(b, '\\');
			buf_addc(b, (char)c);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			buf_addf(b, "\\u%04x", c);
			i++;
		} else if ((l = utf8_decode(p + i, n - i, &cp)) == 0) {
			/* JSON strings must be valid UTF-8. */
			buf_adds(b, "\\ufffd");
			i++;
		} else {
			buf_add(b, p + i, l);
			i += l;
		}
	}
	buf_addc(b, '"');
}

static void
json_recipient(struct buf *b, const struct rcpt_result *r, bool queued)
{
	buf_adds(b, "{\"address\":");
	json_string(b, r->address);
	buf_addf(b, ",\"accepted\":%s,\"stage\":", r->accepted ? "true" :
	    "false");
	if (r->stage)
		json_string(b, r->stage);
	else
		buf_adds(b, "null");
	if (r->code)
		buf_addf(b, ",\"code\":%d,\"enhanced\":", r->code);
	else
		buf_adds(b, ",\"code\":null,\"enhanced\":");
	if (r->enhanced[0])
		json_string(b, r->enhanced);
	else
		buf_adds(b, "null");
	buf_adds(b, ",\"text\":");
	if (r->text)
		json_string(b, r->text);
	else
		buf_adds(b, "null");
	buf_addf(b, ",\"queued\":%s}", queued ? "true" : "false");
}

void
outcome_json(FILE *out, const struct outcome *o)
{
	struct buf b;

	buf_init(&b);
	buf_adds(&b, "{\"sender\":");
	if (o->sender)
		json_string(&b, o->sender);
	else
		buf_adds(&b, "null");
	buf_adds(&b, ",\"recipients\":[");
	if (o->result != NULL && o->result->n > 0) {
		for (size_t i = 0; i < o->result->n; i++) {
			if (i)
				buf_addc(&b, ',');
			json_recipient(&b, &o->result->r[i],
			    o->queued && o->queued[i]);
		}
	} else if (o->recipients != NULL) {
		for (size_t i = 0; i < o->recipients->n; i++) {
			struct rcpt_result r = { o->recipients->v[i], false,
			    NULL, 0, "", NULL };
			if (i)
				buf_addc(&b, ',');
			json_recipient(&b, &r, o->queued && o->queued[i]);
		}
	}
	buf_adds(&b, "],\"final\":");
	const struct reply *fin = o->result ? &o->result->final : NULL;
	if (fin != NULL && fin->code != 0) {
		char *text = reply_oneline(fin);
		buf_addf(&b, "{\"code\":%d,\"enhanced\":", fin->code);
		if (fin->enhanced[0])
			json_string(&b, fin->enhanced);
		else
			buf_adds(&b, "null");
		buf_adds(&b, ",\"text\":");
		json_string(&b, text);
		buf_addc(&b, '}');
		free(text);
	} else
		buf_adds(&b, "null");
	buf_adds(&b, ",\"error\":");
	if (o->failure && o->failure->class != FAIL_NONE &&
	    o->failure->what[0]) {
		char *msg = o->failure->detail[0] ? xasprintf("%s: %s",
		    o->failure->what, o->failure->detail) :
		    xstrdup(o->failure->what);
		json_string(&b, msg);
		free(msg);
	} else
		buf_adds(&b, "null");
	buf_addf(&b, ",\"exit\":%d}\n", o->exit_status);
	(void)fwrite(b.data, 1, b.len, out);
	buf_free(&b);
}

char *
outcome_log_line(const struct outcome *o)
{
	struct buf b;

	buf_init(&b);
	buf_addf(&b, "host=%s port=%d", o->host ? o->host : "-", o->port);
	if (o->account)
		buf_addf(&b, " account=%s", o->account);
	buf_addf(&b, " from=%s recipients=", o->sender ? o->sender : "-");
	size_t n = o->result ? o->result->n : o->recipients ?
	    o->recipients->n : 0;
	for (size_t i = 0; i < n; i++)
		buf_addf(&b, "%s%s", i ? "," : "", o->result ?
		    o->result->r[i].address : o->recipients->v[i]);
	buf_addf(&b, " size=%llu", (unsigned long long)o->size);
	const struct reply *fin = o->result ? &o->result->final : NULL;
	if (fin != NULL && fin->code) {
		char *text = reply_oneline(fin);
		buf_addf(&b, " reply='%d %s'", fin->code, text);
		free(text);
	} else if (o->failure && o->failure->class != FAIL_NONE &&
	    o->failure->what[0])
		buf_addf(&b, " error='%s: %s'", o->failure->what,
		    o->failure->detail);
	buf_addf(&b, " exit=%d", o->exit_status);
	/* The line may hold server text: no control byte reaches a log. */
	char *esc = escape_bytes(b.data, b.len);
	buf_free(&b);
	return esc;
}

static int
facility_code(const char *name)
{
	static const struct { const char *name; int code; } map[] = {
		{ "mail", LOG_MAIL }, { "user", LOG_USER },
		{ "daemon", LOG_DAEMON }, { "local0", LOG_LOCAL0 },
		{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
		{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
		{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
		{ "local7", LOG_LOCAL7 },
	};
	if (strncasecmp(name, "LOG_", 4) == 0)
		name += 4;
	for (size_t i = 0; i < sizeof map / sizeof *map; i++)
		if (strcasecmp(name, map[i].name) == 0)
			return map[i].code;
	return -1;
}

void
outcome_log(const struct outcome *o, const char *logfile,
    const char *time_format, const char *facility)
{
	char *line;

	if (logfile == NULL && facility == NULL)
		return;
	line = outcome_log_line(o);
	if (logfile != NULL) {
		bool to_stdout = strcmp(logfile, "-") == 0;
		FILE *fp = to_stdout ? stdout : fopen(logfile, "a");
		char stamp[64];
		time_t now = time(NULL);
		struct tm tm;
		(void)localtime_r(&now, &tm);
		/* The format is the user's logfile_time_format. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		if (strftime(stamp, sizeof stamp, time_format ? time_format :
		    "%Y-%m-%dT%H:%M:%S%z", &tm) == 0)
			stamp[0] = '\0';
#pragma GCC diagnostic pop
		int bad = fp == NULL;
		if (fp != NULL) {
			bad = fprintf(fp, "%s %s\n", stamp, line) < 0;
			bad |= to_stdout ? fflush(fp) != 0 : fclose(fp) != 0;
		}
		if (bad)
			warnx_safe("warning: cannot write the log %s: %s",
			    logfile, strerror(errno));
	}
	if (facility != NULL) {
		int code = facility_code(facility);
		if (code < 0)
			warnx_safe("warning: unknown syslog facility '%s'",
			    facility);
		else {
			openlog(progname, LOG_PID, code);
			syslog(o->exit_status ? LOG_ERR : LOG_INFO, "%s", line);
			closelog();
		}
	}
	free(line);
}
