/* params.c: checks shared by the command line, the configuration and the
 * queue for the values that go into MAIL/RCPT parameters. */
#include <stddef.h>
#include <string.h>

#include "params.h"
#include "util.h"

bool
has_control(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return true;
	return false;
}

const char *
dsn_notify_check(const char *v)
{
	static const char *const conds[] = { "success", "failure", "delay" };
	bool seen[3] = { false, false, false };

	if (*v == '\0')
		return "is empty";
	if (ascii_ieq(v, "never"))
		return NULL;
	for (const char *p = v;;) {
		size_t n = strcspn(p, ","), i;
		for (i = 0; i < 3; i++)
			if (strlen(conds[i]) == n && ascii_iprefix(p, conds[i]))
				break;
		if (i == 3)
			return "is not never, success, failure or delay";
		if (seen[i])
			return "names a condition twice";
		seen[i] = true;
		if (p[n] == '\0')
			return NULL;
		p += n + 1;
	}
}

bool
word_in(const char *v, const char *const *words)
{
	for (; *words; words++)
		if (ascii_ieq(v, *words))
			return true;
	return false;
}

bool
dsn_ret_valid(const char *v)
{
	static const char *const words[] = { "full", "hdrs", NULL };

	return word_in(v, words);
}

bool
body_type_valid(const char *v)
{
	static const char *const words[] = { "7BIT", "8BITMIME", NULL };

	return word_in(v, words);
}

static bool
xchar_plain(unsigned char c)
{
	return c >= 33 && c <= 126 && c != '+' && c != '=';
}

char *
xtext_encode(const char *v)
{
	struct buf b;

	buf_init(&b);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (xchar_plain(*p))
			buf_addc(&b, (char)*p);
		else
			buf_addf(&b, "+%02X", *p);
	}
	if (b.data == NULL)
		buf_adds(&b, "");
	return b.data;
}

/* xtext_encode writes +HH with upper-case digits. */
static bool
upper_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

bool
envid_valid(const char *v)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)v; *p; n++) {
		if (xchar_plain(*p))
			p++;
		else if (*p == '+' && upper_hex(p[1]) && upper_hex(p[2]))
			p += 3;
		else
			return false;
	}
	return n >= 1 && n <= ENVID_MAX;
}

bool
account_name_valid(const char *v)
{
	return *v != '\0' && !has_control(v) && strpbrk(v, ",:") == NULL;
}
