/* test_secret.c: the netrc parser, passwordeval, and the source order. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "secret.h"
#include "util.h"
#include "check.h"

static char err[256];

/* netrc_find over a string literal; returns the result code. */
static int
nf(const char *data, const char *host, const char *user,
    struct netrc_entry *e)
{
	err[0] = '\0';
	return netrc_find(data, strlen(data), host, user, e, err, sizeof err);
}

static bool
no_children(void)
{
	return waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD;
}

static void
netrc_case(const char *what, const char *data, const char *host,
    const char *user, int want_rc, const char *want_login,
    const char *want_pw)
{
	struct netrc_entry e;
	int rc = nf(data, host, user, &e);

	CHECK(rc == want_rc, "netrc %s: rc %d (want %d) %s", what, rc,
	    want_rc, err);
	CHECK_STR(e.login, want_login, "netrc %s: login", what);
	CHECK_STR(e.password, want_pw, "netrc %s: password", what);
	netrc_entry_clear(&e);
}

static void
test_netrc(void)
{
	struct netrc_entry e;

	netrc_case("basic", "machine mail.example.com login alice "
	    "password s3cret\n", "mail.example.com", NULL, 1, "alice",
	    "s3cret");
	netrc_case("host case", "machine MAIL.Example.COM login a password p",
	    "mail.example.com", NULL, 1, "a", "p");
	netrc_case("no match", "machine other login a password p",
	    "mail.example.com", NULL, 0, NULL, NULL);
	netrc_case("empty file", "", "h", NULL, 0, NULL, NULL);
	netrc_case("only blanks", " \n\t\r\n", "h", NULL, 0, NULL, NULL);
	netrc_case("no host", "default login a password p", NULL, NULL, 0,
	    NULL, NULL);
	netrc_case("multi-line entry", "machine h\n\tlogin a\n\tpassword p\n"
	    "machine h2 login b password q\n", "h2", NULL, 1, "b", "q");
	netrc_case("default fallback", "machine other login x password y\n"
	    "default login d password dp\n", "h", NULL, 1, "d", "dp");
	netrc_case("machine after default wins", "default login d password "
	    "dp\nmachine h login a password p\n", "h", NULL, 1, "a", "p");
	netrc_case("user given, login matches", "machine h login alice "
	    "password a\n", "h", "alice", 1, "alice", "a");
	netrc_case("user given, first login differs", "machine h login bob "
	    "password b\nmachine h login alice password a\n", "h", "alice",
	    1, "alice", "a");
	netrc_case("user given, no login in entry", "machine h password p",
	    "h", "alice", 1, NULL, "p");
	netrc_case("user given, only other logins", "machine h login bob "
	    "password b\n", "h", "alice", 0, NULL, NULL);
	netrc_case("user given, default with other login", "default login bob "
	    "password b\n", "h", "alice", 0, NULL, NULL);
	netrc_case("login case-sensitive", "machine h login Alice password b",
	    "h", "alice", 0, NULL, NULL);
	netrc_case("user absent: first entry", "machine h login bob password "
	    "b\nmachine h login alice password a\n", "h", NULL, 1, "bob",
	    "b");
	netrc_case("login only", "machine h login bob\n", "h", NULL, 1, "bob",
	    NULL);
	netrc_case("keyword at EOF", "machine h login", "h", NULL, 1, NULL,
	    NULL);
	netrc_case("machine at EOF", "machine", "h", NULL, 0, NULL, NULL);
	netrc_case("account ignored", "machine h account acct login a "
	    "password p", "h", NULL, 1, "a", "p");
	netrc_case("macdef skipped", "macdef init\ncd /pub\nmachine h login "
	    "evil password evil\n\nmachine h login a password p\n", "h", NULL,
	    1, "a", "p");
	netrc_case("macdef inside an entry", "machine h login a\nmacdef m\n"
	    "password evil\n\npassword p\n", "h", NULL, 1, "a", "p");
	netrc_case("macdef CRLF", "macdef x\r\nmachine h password evil\r\n"
	    "\r\nmachine h password p\r\n", "h", NULL, 1, NULL, "p");
	netrc_case("macdef to EOF", "machine h password p\nmacdef x\n"
	    "machine h password evil", "h", NULL, 1, NULL, "p");
	netrc_case("quoted password", "machine h login a password "
	    "\"a b\\\"c\\\\d\\te\"", "h", NULL, 1, "a", "a b\"c\\d\te");
	netrc_case("unquoted backslash literal", "machine h password a\\b",
	    "h", NULL, 1, NULL, "a\\b");
	netrc_case("quoted empty password", "machine h login a password \"\"",
	    "h", NULL, 1, "a", "");
	netrc_case("comment line", "# machine h login x password y\n"
	    "machine h login a password p\n", "h", NULL, 1, "a", "p");
	netrc_case("comment inside entry", "machine h login a # password x\n"
	    "password p\n", "h", NULL, 1, "a", "p");
	netrc_case("comment token then LF", "machine h login a #\n"
	    "password p\n", "h", NULL, 1, "a", "p");
	netrc_case("password starting with #", "machine h login a password "
	    "#hash", "h", NULL, 1, "a", "#hash");
	netrc_case("value named like a keyword", "machine h login machine "
	    "password default", "h", NULL, 1, "machine", "default");
	netrc_case("CRLF file", "machine h\r\nlogin a\r\npassword p\r\n", "h",
	    NULL, 1, "a", "p");
	netrc_case("unknown tokens ignored", "machine h port 25 login a "
	    "password p", "h", NULL, 1, "a", "p");
	netrc_case("later password overrides", "machine h password p1 "
	    "password p2", "h", NULL, 1, NULL, "p2");
	netrc_case("prefix host does not match", "machine mail.example.co "
	    "password p", "mail.example.com", NULL, 0, NULL, NULL);

	CHECK(nf("machine h\npassword \"secret", "h", NULL, &e) == -1,
	    "netrc unterminated quote is an error");
	CHECK(strstr(err, "line 2") != NULL, "  with its line: %s", err);
	CHECK(strstr(err, "secret") == NULL, "  and without the token");
	CHECK(e.login == NULL && e.password == NULL, "  entry empty");
	static const char nul[] = "machine h\nlogin a\npassword p\0q\n";
	CHECK(netrc_find(nul, sizeof nul - 1, "h", NULL, &e, err,
	    sizeof err) == -1, "netrc NUL byte is an error");
	CHECK(strstr(err, "line 3") != NULL, "  with its line: %s", err);
	CHECK(netrc_find("machine h password p", 12, "h", NULL, &e, err,
	    sizeof err) == 1 && e.password == NULL,
	    "netrc honours len (cut before password)");
	netrc_entry_clear(&e);
}

static void
eval_ok(const char *cmd, const char *want, const char *what)
{
	struct failure f;
	char *out = NULL;
	int rc = secret_eval(cmd, 10, &out, &f);

	CHECK(rc == 0, "passwordeval %s: succeeds %s", what,
	    rc ? f.detail : "");
	CHECK_STR(out, want, "passwordeval %s: value", what);
	CHECK(no_children(), "passwordeval %s: child reaped", what);
	free_secret(out);
}

static void
eval_fail(const char *cmd, const char *want_detail, const char *what)
{
	struct failure f;
	char *out = (char *)"x";
	int rc = secret_eval(cmd, 10, &out, &f);

	CHECK(rc == -1 && out == NULL, "passwordeval %s: fails", what);
	CHECK(f.class == FAIL_CONFIG, "passwordeval %s: class %d", what,
	    f.class);
	CHECK(strstr(f.detail, want_detail) != NULL,
	    "passwordeval %s: detail \"%s\"", what, f.detail);
	CHECK(strstr(f.detail, "s3cr3t") == NULL && strstr(f.what, "s3cr3t")
	    == NULL, "passwordeval %s: no secret in the message", what);
	CHECK(no_children(), "passwordeval %s: child reaped", what);
}

static void
test_eval(void)
{
	char cmd[128];
	int fd;

	eval_ok("printf 's3cr3t\\n'", "s3cr3t", "one line");
	eval_ok("printf 's3cr3t'", "s3cr3t", "no final LF");
	eval_ok("printf 's3cr3t\\r\\nsecond\\n'", "s3cr3t", "CRLF");
	eval_ok("printf 'first\\nsecond\\nthird\\n'", "first", "multi-line");
	eval_ok("printf ' sp ace \\t\\n'", " sp ace \t", "blanks kept");
	eval_ok("printf 'a\\r\\r\\n'", "a\r", "only one CR removed");
	eval_ok("cat; echo done", "done", "stdin is /dev/null");
	/* stderr is inherited, not captured (quiet it for the test). */
	int saved_err = dup(2), devnull = open("/dev/null", O_WRONLY);
	dup2(devnull, 2);
	eval_ok("echo err >&2; echo out", "out", "stderr not captured");
	dup2(saved_err, 2);
	close(saved_err);
	close(devnull);
	eval_ok("head -c 60000 /dev/zero | tr '\\0' x | sed 's/^/pw\\n/'",
	    "pw", "large output under the limit");

	eval_fail("exit 3", "exit status 3", "exit 3");
	eval_fail("printf 's3cr3t\\n'; exit 1", "exit status 1",
	    "output then exit 1");
	eval_fail("kill -TERM $$", "signal 15", "killed by SIGTERM");
	eval_fail("nonexistent-command-for-carrier-test 2>/dev/null",
	    "exit status 127", "command not found");
	eval_fail("true", "printed nothing", "no output");
	eval_fail("echo; echo s3cr3t", "first line is empty", "empty line");
	eval_fail("printf 's3\\000cr3t\\n'", "NUL", "NUL in first line");
	eval_fail("head -c 70000 /dev/zero | tr '\\0' x", "more than 64 KiB",
	    "output too long");
	eval_fail("yes s3cr3t", "more than 64 KiB", "endless output");

	/* A deadline, for the command and what it leaves behind holding
	   the pipe: the whole process group is killed. */
	{
		char *o = NULL;
		struct failure tf;
		int64_t t0 = monotonic_ms();
		int trc = secret_eval("sleep 30 & echo s3cr3t", 1, &o, &tf);
		int64_t took = monotonic_ms() - t0;

		CHECK(trc == -1 && o == NULL && tf.class == FAIL_CONFIG &&
		    strstr(tf.detail, "did not finish within 1 s") != NULL,
		    "passwordeval deadline: a background child holding the "
		    "pipe is killed (%s)", tf.detail);
		CHECK(took < 5000, "passwordeval deadline: over in %lld ms",
		    (long long)took);
		CHECK(no_children(), "passwordeval deadline: child reaped");
		t0 = monotonic_ms();
		trc = secret_eval("exec >&-; sleep 30", 1, &o, &tf);
		CHECK(trc == -1 && strstr(tf.detail, "did not finish") != NULL &&
		    monotonic_ms() - t0 < 5000,
		    "passwordeval deadline: also after closing its output");
	}

	/* Descriptors other than 0-2 are closed in the child. */
	fd = open("/dev/null", O_RDONLY);
	snprintf(cmd, sizeof cmd, "if [ -e /proc/self/fd/%d ]; then echo "
	    "open; else echo closed; fi", fd);
	eval_ok(cmd, "closed", "other fds closed");
	close(fd);

	/* SIGPIPE is at its default in the child even when we ignore it. */
	(void)signal(SIGPIPE, SIG_IGN);
	eval_fail("kill -PIPE $$; echo alive", "signal 13",
	    "SIGPIPE default in the child");
	(void)signal(SIGPIPE, SIG_DFL);

	/* Works with standard output closed in the parent. */
	int saved = dup(1);
	fflush(stdout);
	close(1);
	char *out = NULL;
	struct failure f;
	int rc = secret_eval("echo pw", 0, &out, &f);
	dup2(saved, 1);
	close(saved);
	CHECK(rc == 0 && out != NULL && strcmp(out, "pw") == 0,
	    "passwordeval with stdout closed in the parent");
	free_secret(out);
}

static char tmpdir[] = "/tmp/carrier-test-secret.XXXXXX";

static char *
write_netrc(const char *name, const char *text, mode_t mode)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *fp = fopen(path, "w");

	fputs(text, fp);
	fclose(fp);
	chmod(path, mode);
	return path;
}

static void
test_get(void)
{
	struct secret_query q;
	struct secret s;
	struct failure f;
	char *good, *open_perm, *loginonly, *bad;

	if (mkdtemp(tmpdir) == NULL) {
		CHECK(0, "mkdtemp");
		return;
	}
	good = write_netrc("good", "machine mx.example login nl password "
	    "netrcpw\n", 0600);
	open_perm = write_netrc("open", "machine mx.example login nl password "
	    "netrcpw\n", 0644);
	loginonly = write_netrc("loginonly", "machine mx.example login nl\n",
	    0644);
	bad = write_netrc("bad", "machine mx.example password \"x\n", 0600);
	unsetenv("CARRIER_PASSWORD");

	memset(&q, 0, sizeof q);
	q.password = "cfgpw";
	q.passwordeval = "echo evalpw";
	q.host = "mx.example";
	q.user = "u";
	q.netrc_path = good;
	q.no_prompt = true;
	CHECK(secret_get(&q, &s, &f) == 0 && s.source == SECRET_CONFIG &&
	    strcmp(s.password, "cfgpw") == 0 && strcmp(s.user, "u") == 0,
	    "config password first");
	secret_clear(&s);
	CHECK(s.password == NULL && s.user == NULL, "secret_clear empties");

	q.password = "";
	CHECK(secret_get(&q, &s, &f) == 0 && s.source == SECRET_CONFIG &&
	    strcmp(s.password, "") == 0, "empty config password used");
	secret_clear(&s);

	q.password = NULL;
	CHECK(secret_get(&q, &s, &f) == 0 && s.source == SECRET_EVAL &&
	    strcmp(s.password, "evalpw") == 0, "then passwordeval");
	secret_clear(&s);

	q.passwordeval = "exit 2";
	CHECK(secret_get(&q, &s, &f) == -1 && f.class == FAIL_CONFIG &&
	    strstr(f.detail, "exit status 2") != NULL,
	    "failing passwordeval is an error, not a fallback");
	secret_clear(&s);

	q.passwordeval = NULL;
	q.user = NULL;
	CHECK(secret_get(&q, &s, &f) == 0 && s.source == SECRET_NETRC &&
	    strcmp(s.password, "netrcpw") == 0 && s.user != NULL &&
	    strcmp(s.user, "nl") == 0, "then netrc, supplying the user");
	secret_clear(&s);

	q.user = "other";
	setenv("CARRIER_PASSWORD", "envpw", 1);
	CHECK(secret_get(&q, &s, &f) == 0 && s.source == SECRET_ENV &&
	    strcmp(s.password, "envpw") == 0 && strcmp(s.user, "other") == 0,
	    "netrc login mismatch: on to CARRIER_PASSWORD");
	secret_clear(&s);

	q.user = NULL;
	q.netrc_path = open_perm;
	CHECK(secret_get(&q, &s, &f) == -1 && f.class == FAIL_CONFIG &&
	    strstr(f.detail, "chmod 600") != NULL,
	    "netrc readable by others holding the password: error (%s)",
	    f.detail);
	CHECK(strstr(f.detail, "netrcpw") == NULL, "  without the password");
	secret_clear(&s);

	q.netrc_path = loginonly;
	CHECK(secret_get(&q, &s, &f) == 0 && s.source == SECRET_ENV &&
	    strcmp(s.user, "nl") == 0 && strcmp(s.password, "envpw") == 0,
	    "netrc login without password: user from netrc, env password");
	secret_clear(&s);

	q.netrc_path = bad;
	CHECK(secret_get(&q, &s, &f) == -1 && f.class == FAIL_CONFIG &&
	    strstr(f.detail, "line 1") != NULL, "malformed netrc: error (%s)",
	    f.detail);
	secret_clear(&s);

	char *missing = xasprintf("%s/missing", tmpdir);
	q.netrc_path = missing;
	CHECK(secret_get(&q, &s, &f) == 0 && s.source == SECRET_ENV,
	    "missing netrc is skipped");
	secret_clear(&s);

	setenv("CARRIER_PASSWORD", "", 1);
	q.user = "u";
	CHECK(secret_get(&q, &s, &f) == -1 && f.class == FAIL_CONFIG &&
	    strstr(f.detail, "none found for u at mx.example") != NULL,
	    "empty CARRIER_PASSWORD ignored, nothing else: error (%s)",
	    f.detail);
	secret_clear(&s);

	q.netrc_path = tmpdir;
	CHECK(secret_get(&q, &s, &f) == -1 && f.class == FAIL_CONFIG &&
	    strstr(f.detail, "regular") != NULL, "netrc a directory: error");
	secret_clear(&s);
	unsetenv("CARRIER_PASSWORD");

	/* NETRC in the environment. */
	q.netrc_path = NULL;
	setenv("NETRC", good, 1);
	q.user = NULL;
	CHECK(secret_get(&q, &s, &f) == 0 && s.source == SECRET_NETRC,
	    "$NETRC is read");
	secret_clear(&s);
	unsetenv("NETRC");

	CHECK_STR(secret_source_name(SECRET_NETRC), "netrc", "source name");
	CHECK_STR(secret_source_name(SECRET_NONE), "none", "source none");

	unlink(good);
	unlink(open_perm);
	unlink(loginonly);
	unlink(bad);
	rmdir(tmpdir);
	free(good);
	free(open_perm);
	free(loginonly);
	free(bad);
	free(missing);
}

static void
test_protect(void)
{
	struct failure f;
	struct rlimit rl;

	CHECK(secret_protect_process(&f) == 0, "secret_protect_process");
	CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0, "not dumpable");
	CHECK(getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_cur == 0 &&
	    rl.rlim_max == 0, "core limit 0");
	/* passwordeval still works afterwards */
	eval_ok("echo after", "after", "after protect");
}

int
main(void)
{
	test_netrc();
	test_eval();
	test_get();
	test_protect();
	return check_done();
}
