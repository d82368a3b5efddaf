/*
 * test_queue.c: the queue envelope parser (queue_parse_envelope in
 * src/queue.c) and the value checks it shares with the command line and
 * the configuration (src/params.c).  A queue entry's fields go into MAIL
 * and RCPT: every one is checked as if it came from the command line,
 * and none may hold a control byte.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "params.h"
#include "queue.h"

#define HEAD	"version 1\nsender a@x.test\nrecipient b@x.test\n"
#define TAIL	"attempts 0\nfirst 1\nlast 1\nnext 1\n"

/* Parses text (its length given, NULs included); returns rc, with the
   reason in why. */
static int
parse(const char *text, size_t n, struct queue_entry *e, char *why,
    size_t whylen)
{
	return queue_parse_envelope(text, n, e, why, whylen);
}

static void
expect_bad(const char *text, size_t n, const char *reason, const char *desc)
{
	struct queue_entry e;
	char why[256];
	int rc = parse(text, n, &e, why, sizeof why);

	CHECK(rc == -1 && e.sender == NULL && e.recipients.n == 0,
	    "refused: %s", desc);
	CHECK(strstr(why, reason) != NULL, "reason of '%s' names '%s' (%s)",
	    desc, reason, why);
	queue_entry_free(&e);
}

static void
test_good(void)
{
	static const char full[] = "version 1\nsender \n"
	    "recipient b@x.test\nrecipient c@x.test\naccount work\n"
	    "dsn_notify success,FAILURE\ndsn_return hdrs\n"
	    "dsn_envid q+2B1+3D2+20x\nbody 8bitmime\nattempts 3\n"
	    "first 1700000000\nlast 1700000600\nnext 1700001800\n"
	    "error <c@x.test>: 451 4.2.1 Mailbox busy\n";
	struct queue_entry e;
	char why[256];

	CHECK(parse(full, sizeof full - 1, &e, why, sizeof why) == 0,
	    "a full entry parses (%s)", why);
	CHECK_STR(e.sender, "", "the null sender");
	CHECK(e.recipients.n == 2, "two recipients");
	CHECK_STR(e.recipients.v[1], "c@x.test", "the second recipient");
	CHECK_STR(e.account, "work", "account");
	CHECK_STR(e.dsn_notify, "success,FAILURE", "dsn_notify as written");
	CHECK_STR(e.dsn_envid, "q+2B1+3D2+20x", "dsn_envid as written");
	CHECK_STR(e.body_type, "8bitmime", "body");
	CHECK(e.attempts == 3 && e.first == 1700000000 &&
	    e.last == 1700000600 && e.next == 1700001800, "numbers");
	CHECK_STR(e.last_error, "<c@x.test>: 451 4.2.1 Mailbox busy",
	    "error");
	queue_entry_free(&e);

	CHECK(parse(HEAD TAIL, strlen(HEAD TAIL), &e, why, sizeof why) == 0,
	    "the minimal entry parses");
	CHECK(e.account == NULL && e.dsn_envid == NULL && e.body_type == NULL,
	    "absent fields stay NULL");
	queue_entry_free(&e);
}

static void
test_injection(void)
{
	static const char nul[] = HEAD "account w\0rk\n" TAIL;
	static const char cr[] = HEAD
	    "dsn_envid E1\rRCPT TO:<injected@evil.test>\n" TAIL;

	expect_bad(cr, sizeof cr - 1, "dsn_envid holds a control",
	    "CR in dsn_envid");
	expect_bad(HEAD "dsn_notify NEVER\r\n" TAIL, strlen(HEAD
	    "dsn_notify NEVER\r\n" TAIL), "dsn_notify holds a control",
	    "CR before the LF of a line");
	expect_bad(HEAD "account work\x1b[2J\n" TAIL,
	    strlen(HEAD "account work\x1b[2J\n" TAIL), "control",
	    "ESC in account");
	expect_bad(HEAD "error busy\x7f\n" TAIL,
	    strlen(HEAD "error busy\x7f\n" TAIL), "control", "DEL in error");
	expect_bad(HEAD "body 8BITMIME\t\n" TAIL,
	    strlen(HEAD "body 8BITMIME\t\n" TAIL), "control", "TAB in body");
	expect_bad(nul, sizeof nul - 1, "NUL", "NUL inside a line");
	expect_bad("version 1\nsender a@x.test\nrecipient b@x.test\r\n" TAIL,
	    strlen("version 1\nsender a@x.test\nrecipient b@x.test\r\n" TAIL),
	    "recipient", "CR at the end of a recipient");
}

static void
test_values(void)
{
#define BAD(line, reason) expect_bad(HEAD line "\n" TAIL, \
	strlen(HEAD line "\n" TAIL), reason, line)
	BAD("body BINARYMIME", "body is not 7BIT or 8BITMIME");
	BAD("body ", "body is not 7BIT");
	BAD("dsn_return BODY", "dsn_return is not FULL or HDRS");
	BAD("dsn_notify sometimes", "dsn_notify is not never");
	BAD("dsn_notify never,success", "dsn_notify is not never");
	BAD("dsn_notify success,success", "twice");
	BAD("dsn_notify success,", "dsn_notify");
	BAD("dsn_envid ", "dsn_envid is not an envelope id");
	BAD("dsn_envid a=b", "dsn_envid is not an envelope id");
	BAD("dsn_envid a+2b", "dsn_envid is not an envelope id");
	BAD("dsn_envid a+2", "dsn_envid is not an envelope id");
	BAD("dsn_envid a b", "dsn_envid is not an envelope id");
	BAD("account a,b", "account is not an account name");
	BAD("account ", "account is not an account name");
	BAD("recipient b@", "recipient");
	BAD("recipient c@x.test>", "recipient");
	BAD("sender b@x.test", "sender appears twice");
	BAD("attempts -1", "attempts is not a number");
	BAD("attempts 1x", "attempts is not a number");
	BAD("next 99999999999999999999999", "next is not a time");
	BAD("color blue", "color is not a key");
	BAD("nospace", "is not KEY VALUE");
#undef BAD
	expect_bad(HEAD "body 7BIT\nbody 8BITMIME\n" TAIL,
	    strlen(HEAD "body 7BIT\nbody 8BITMIME\n" TAIL),
	    "body appears twice", "body twice");
	char envid[400] = HEAD "dsn_envid ";
	for (int i = 0; i < 101; i++)
		strcat(envid, "+2B");
	strcat(envid, "\n" TAIL);
	expect_bad(envid, strlen(envid), "dsn_envid is not an envelope id",
	    "an envelope id of 101 bytes");
	/* 100 is fine, as -V allows. */
	char ok[400] = HEAD "dsn_envid ";
	for (int i = 0; i < 100; i++)
		strcat(ok, "+2B");
	strcat(ok, "\n" TAIL);
	struct queue_entry e;
	char why[256];
	CHECK(parse(ok, strlen(ok), &e, why, sizeof why) == 0,
	    "an envelope id of 100 bytes, encoded (%s)", why);
	queue_entry_free(&e);
}

static void
test_shape(void)
{
	expect_bad("", 0, "empty", "an empty file");
	expect_bad("version 2\n", 10, "version 1", "version 2");
	expect_bad("sender a@x.test\nversion 1\n", 26, "version 1",
	    "version not first");
	expect_bad(HEAD "attempts 0", strlen(HEAD "attempts 0"), "cut short",
	    "no newline at the end");
	expect_bad("version 1\nsender a@x.test\n" TAIL,
	    strlen("version 1\nsender a@x.test\n" TAIL), "no recipient",
	    "no recipient");
	expect_bad("version 1\nrecipient b@x.test\n" TAIL,
	    strlen("version 1\nrecipient b@x.test\n" TAIL), "no sender",
	    "no sender");
}

/* `option` lines: connection and session settings, each one command-line
   word that the command-line parser itself accepts. */
static void
test_route(void)
{
	static const char good[] = HEAD "option --host=mx.example.org:587\n"
	    "option --port=2525\noption --lmtp\noption --starttls=optional\n"
	    "option --tls-ca=/etc/ssl/ca.pem\noption --tls-fingerprint=SHA256:"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
	    "option --tls-no-verify\noption --user=bob\n"
	    "option --auth=PLAIN,LOGIN\noption --allow-plaintext-auth\n" TAIL;
	struct queue_entry e;
	struct options o;
	struct failure f;
	char why[256];

	CHECK(parse(good, strlen(good), &e, why, sizeof why) == 0,
	    "every route option parses (%s)", why);
	CHECK(e.route.n == 10, "ten route words (%zu)", e.route.n);
	CHECK_STR(e.route.v[0], "--host=mx.example.org:587", "as written");
	options_init(&o);
	CHECK(queue_route_apply(&e.route, &o, &f) == 0, "the words apply");
	CHECK(o.port == 2525 && o.lmtp == YES &&
	    o.tls == TLS_STARTTLS_OPTIONAL && o.tls_certcheck == NO &&
	    o.allow_plaintext_auth, "into the options");
	CHECK_STR(o.user, "bob", "user");
	struct strlist again = { 0 };
	queue_route_of(&o, &again);
	CHECK(again.n == 10, "the options give the words back (%zu)",
	    again.n);
	strlist_free(&again);
	options_free(&o);
	queue_entry_free(&e);

#define BAD(line, reason) expect_bad(HEAD line "\n" TAIL, \
	strlen(HEAD line "\n" TAIL), reason, line)
	BAD("option --config=/tmp/evil", "not a connection or session option");
	BAD("option --log=/tmp/x", "not a connection or session option");
	BAD("option --passwordeval=sh", "not a connection or session option");
	BAD("option --flush", "not a connection or session option");
	BAD("option --ho=mx", "not a connection or session option");
	BAD("option -C/tmp/evil", "not a connection or session option");
	BAD("option host=mx", "not a connection or session option");
	BAD("option --", "not a connection or session option");
	BAD("option --port=0", "option is refused: --port: invalid value '0'");
	BAD("option --port=65536", "is refused: --port");
	BAD("option --port", "is refused");
	BAD("option --host=mx:0", "is refused: --host");
	BAD("option --host=", "is refused: --host");
	BAD("option --lmtp=yes", "is refused");
	BAD("option --starttls=maybe", "is refused: --starttls");
	BAD("option --auth=GSSAPI", "is refused: --auth");
	BAD("option --tls-fingerprint=SHA1:00", "is refused");
	BAD("option --host=mx\rRCPT TO:<x@y>", "holds a control character");
	/* Each line alone holds; together they contradict (an old entry's
	   "--tls" is implicit TLS): found by fuzz_queue. */
	BAD("option --tls\noption --starttls=required",
	    "the option lines are refused together: --starttls: cannot be "
	    "used with --tls-on-connect");
#undef BAD
}

/* The shared checks, as the command line uses them. */
static void
test_params(void)
{
	CHECK(dsn_notify_check("NEVER") == NULL &&
	    dsn_notify_check("delay,Success") == NULL, "NOTIFY words");
	CHECK(dsn_notify_check("") != NULL && dsn_notify_check(",") != NULL &&
	    dsn_notify_check("failure,,delay") != NULL,
	    "NOTIFY: empty words");
	CHECK(dsn_ret_valid("Full") && dsn_ret_valid("HDRS") &&
	    !dsn_ret_valid("headers"), "RET words");
	CHECK(body_type_valid("7bit") && !body_type_valid("BINARYMIME"),
	    "BODY words");
	char *x = xtext_encode("a+b=c d\r\n\x7f");
	CHECK_STR(x, "a+2Bb+3Dc+20d+0D+0A+7F", "xtext_encode");
	CHECK(envid_valid(x), "what xtext_encode writes is an envelope id");
	free(x);
	CHECK(!has_control("a b") && has_control("a\rb") &&
	    has_control("\x7f"), "has_control");
	CHECK(account_name_valid("work mail") && !account_name_valid("a:b"),
	    "account names");
}

int
main(void)
{
	test_good();
	test_injection();
	test_values();
	test_shape();
	test_route();
	test_params();
	return check_done();
}
