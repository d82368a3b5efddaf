/*
 * net.c: connections.  Sockets are non-blocking and every wait is a poll()
 * against an absolute deadline, so one timeout covers a whole reply however
 * slowly it drips in.  TLS, when on, sits between these buffers and the
 * socket and is invisible above this file.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "net.h"
#include "settings.h"
#include "socks.h"

struct conn {
	int fd;
	bool local;		/* loopback or Unix socket */
	struct tls *tls;
	struct buf in;		/* received, not yet consumed */
	struct buf out;		/* queued, not yet written */
	bool secret_queued;	/* out holds credentials: wipe once sent */
	struct reply_reader rr;
};

/* Wait for fd to become ready; 1 ready, 0 timed out, -1 error. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - monotonic_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = { .fd = fd, .events = events };
		int n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* After EAGAIN: 0 once fd is ready for events, else -1 with *f: the
   deadline passed (FAIL_TEMP, "late" for stage) or poll failed. */
static int
wait_ready(int fd, short events, int64_t deadline, const char *stage,
    const char *late, struct failure *f)
{
	int w = wait_fd(fd, events, deadline);

	if (w > 0)
		return 0;
	if (w == 0)
		return fail(f, FAIL_TEMP, 0, stage, "%s", late);
	return fail(f, FAIL_OSERR, 0, "poll", "%s", strerror(errno));
}

static bool
is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_UNIX)
		return true;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
		    in6->sin6_addr.s6_addr[12] == 127;
	}
	return false;
}

static void
describe_addr(const struct sockaddr *sa, char *out, size_t outlen)
{
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
		port = ntohs(in->sin_port);
		(void)snprintf(out, outlen, "%s:%d", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
		port = ntohs(in6->sin6_port);
		(void)snprintf(out, outlen, "[%s]:%d", host, port);
	} else
		(void)snprintf(out, outlen, "?");
}

static int
bind_source(int fd, const struct net_target *t, int family,
    struct failure *f)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	int port, rc;
	char portstr[16];
	char *host = NULL;

	/* --source and source_ip were checked by the same parser. */
	if (!hostport_parse(t->source, &host, &port))
		return fail(f, FAIL_USAGE, 0, "source address", "'%s' is not "
		    "HOST[:PORT]", t->source);

	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	(void)snprintf(portstr, sizeof portstr, "%d", port);
	rc = getaddrinfo(*host ? host : NULL, portstr, &hints, &res);
	if (rc != 0) {
		fail(f, FAIL_OSERR, 0, "source address",
		    "%s: %s", t->source, gai_strerror(rc));
		free(host);
		return -1;
	}
	int one = 1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	rc = bind(fd, res->ai_addr, res->ai_addrlen);
	if (rc < 0)
		fail(f, FAIL_OSERR, 0, "source address", "bind %s: %s",
		    t->source, strerror(errno));
	freeaddrinfo(res);
	free(host);
	return rc;
}

static struct conn *
conn_new(int fd, bool local)
{
	struct conn *c = xcalloc(1, sizeof *c);

	c->fd = fd;
	c->local = local;
	buf_init(&c->in);
	buf_init(&c->out);
	reply_reader_init(&c->rr);
	return c;
}

/*
 * A connect() error: nobody listening, no route, no answer in time are
 * worth retrying (sysexits' EX_TEMPFAIL: "a mailer could not create a
 * connection"); anything else (permission, no such address) is not.
 */
static int __attribute__((format(printf, 3, 4)))
connect_fail(struct failure *f, int err, const char *fmt, ...)
{
	bool temporary = err == ECONNREFUSED || err == ENETUNREACH ||
	    err == EHOSTUNREACH || err == ETIMEDOUT || err == ENOENT ||
	    err == EAGAIN || err == ENETDOWN || err == EHOSTDOWN;
	char where[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(where, sizeof where, fmt, ap);
	va_end(ap);
	return fail(f, temporary ? FAIL_TEMP : FAIL_CONNECT, 0, "connect",
	    "%s: %s", where, err == ETIMEDOUT ? "timed out" : strerror(err));
}

static struct conn *
open_unix(const struct net_target *t, int64_t deadline, struct failure *f)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(t->host) >= sizeof sun.sun_path) {
		fail(f, FAIL_USAGE, 0, "socket path", "%s: longer than %zu "
		    "bytes", t->host, sizeof sun.sun_path - 1);
		return NULL;
	}
	memcpy(sun.sun_path, t->host, strlen(t->host) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fail(f, FAIL_OSERR, 0, "socket", "%s", strerror(errno));
		return NULL;
	}
	if (t->info) {
		char *note = xasprintf("connecting to %s", t->host);
		t->info(t->info_ctx, note);
		free(note);
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0 &&
	    errno != EINPROGRESS) {
		connect_fail(f, errno, "%s", t->host);
		close(fd);
		return NULL;
	}
	if (wait_fd(fd, POLLOUT, deadline) <= 0) {
		fail(f, FAIL_TEMP, 0, "connect", "%s: timed out", t->host);
		close(fd);
		return NULL;
	}
	return conn_new(fd, true);
}

/*
 * Happy Eyeballs (RFC 8305): the addresses of a name are tried in an order
 * that alternates the families, a new attempt starts every
 * ATTEMPT_DELAY_MS while the earlier ones are still pending (at once when
 * one fails), and the first connection to complete wins.  An address that
 * swallows the SYN therefore costs the others 250 ms, not the timeout.
 */
#define ATTEMPT_DELAY_MS 250	/* RFC 8305 5: the recommended value */
#define MAX_ADDRESSES 16

struct race {
	const struct net_target *t;
	const struct addrinfo *order[MAX_ADDRESSES];
	size_t n, next;		/* addresses; the next one to start */
	struct pollfd pfd[MAX_ADDRESSES];
	const struct addrinfo *pending[MAX_ADDRESSES];
	size_t npending;
	int64_t next_start;	/* when the next attempt is due */
	int last_err;		/* errno of the last attempt that failed */
	bool started;		/* some connect() was started */
	struct failure bind_failure;
};

/* RFC 8305 4: the first address's family first, then the other family's
   first address, and so on; the resolver's order kept within a family. */
static size_t
interleave(const struct addrinfo *res, const struct addrinfo **out)
{
	const struct addrinfo *lists[2][MAX_ADDRESSES];
	size_t len[2] = { 0, 0 }, n = 0;
	int first = res != NULL ? res->ai_family : AF_UNSPEC;

	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		int k = ai->ai_family == first ? 0 : 1;
		if (len[k] < MAX_ADDRESSES)
			lists[k][len[k]++] = ai;
	}
	for (size_t i = 0; n < MAX_ADDRESSES && (i < len[0] || i < len[1]);
	    i++)
		for (int k = 0; k < 2 && n < MAX_ADDRESSES; k++)
			if (i < len[k])
				out[n++] = lists[k][i];
	return n;
}

/* Start the next address's attempt.  Returns the socket when the connect
   completed at once, else -1 (pending, or failed: last_err). */
static int
race_start(struct race *r)
{
	const struct addrinfo *ai = r->order[r->next++];
	char where[INET6_ADDRSTRLEN + 16];
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);

	if (fd < 0) {
		r->last_err = errno;
		return -1;
	}
	if (r->t->source != NULL &&
	    bind_source(fd, r->t, ai->ai_family, &r->bind_failure) < 0) {
		/* A source of the other family: this address cannot be
		   reached from it; fail only when none can be bound. */
		close(fd);
		return -1;
	}
	describe_addr(ai->ai_addr, where, sizeof where);
	if (r->t->info) {
		char note[sizeof where + 16];
		(void)snprintf(note, sizeof note, "connecting to %s", where);
		r->t->info(r->t->info_ctx, note);
	}
	r->started = true;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		r->last_err = errno;
		close(fd);
		return -1;
	}
	r->pfd[r->npending] = (struct pollfd){ .fd = fd, .events = POLLOUT };
	r->pending[r->npending++] = ai;
	r->next_start = monotonic_ms() + ATTEMPT_DELAY_MS;
	return -1;
}

/* Collect the pending attempts poll() says are done: the socket of the
   first that connected (*won its address), else -1; the failed ones are
   closed (last_err). */
static int
race_collect(struct race *r, const struct addrinfo **won)
{
	size_t k = 0;
	int winner = -1;

	for (size_t i = 0; i < r->npending; i++) {
		if (winner < 0 && r->pfd[i].revents != 0) {
			int err = 0;
			socklen_t elen = sizeof err;
			if (getsockopt(r->pfd[i].fd, SOL_SOCKET, SO_ERROR, &err,
			    &elen) < 0)
				err = errno;
			if (err == 0) {
				winner = r->pfd[i].fd;
				*won = r->pending[i];
			} else {
				r->last_err = err;
				close(r->pfd[i].fd);
			}
			continue;
		}
		/* Still pending (or a loser once there is a winner). */
		r->pfd[k] = r->pfd[i];
		r->pfd[k].revents = 0;
		r->pending[k++] = r->pending[i];
	}
	r->npending = k;
	return winner;
}

static void
race_abandon(struct race *r)
{
	for (size_t i = 0; i < r->npending; i++)
		close(r->pfd[i].fd);
	r->npending = 0;
}

/* Run the race until a connection completes (its socket; *won its
   address) or every address failed or the deadline passed (-1). */
static int
race_run(struct race *r, int64_t deadline, const struct addrinfo **won)
{
	int fd = -1;

	while (fd < 0 && (r->npending > 0 || r->next < r->n)) {
		int64_t now = monotonic_ms();
		if (now >= deadline) {
			r->last_err = ETIMEDOUT;
			break;
		}
		if (r->next < r->n && (r->npending == 0 ||
		    now >= r->next_start)) {
			fd = race_start(r);
			if (fd >= 0)
				*won = r->order[r->next - 1];
			continue;
		}
		int64_t until = r->next < r->n && r->next_start < deadline ?
		    r->next_start : deadline;
		int64_t left = until - now;
		int n = poll(r->pfd, r->npending, left > 60000 ? 60000 :
		    (int)left);
		if (n < 0 && errno != EINTR) {
			r->last_err = errno;
			break;
		}
		if (n > 0)
			fd = race_collect(r, won);
	}
	race_abandon(r);
	return fd;
}

/* The name's addresses, with AI_ADDRCONFIG where it finds any. */
static int
resolve(const struct net_target *t, struct addrinfo **res,
    struct failure *f)
{
	struct addrinfo hints = { 0 };
	char portstr[16];
	int rc;

	/* A name that is not ASCII is looked up by its A-labels. */
	char why[128];
	char *name = address_idna_name(t->host, why, sizeof why);
	if (name == NULL)
		return fail(f, FAIL_NOHOST, 0, "host name lookup", "%s: %s",
		    t->host, why);
	hints.ai_family = t->family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
	(void)snprintf(portstr, sizeof portstr, "%d", t->port);
	rc = getaddrinfo(name, portstr, &hints, res);
	if (rc == EAI_ADDRFAMILY || (rc == EAI_NONAME && hints.ai_flags)) {
		/* AI_ADDRCONFIG hides ::1 and 127.0.0.1 on hosts with only
		   loopback configured; ask again without it. */
		hints.ai_flags = AI_NUMERICSERV;
		rc = getaddrinfo(name, portstr, &hints, res);
	}
	free(name);
	if (rc == 0)
		return 0;
	enum fail_class cl = rc == EAI_AGAIN ? FAIL_TEMP :
	    rc == EAI_SYSTEM || rc == EAI_MEMORY ? FAIL_OSERR : FAIL_NOHOST;
	return fail(f, cl, 0, "host name lookup", "%s: %s", t->host,
	    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
}

/* Why no address answered. */
static void
race_failure(const struct race *r, struct failure *f)
{
	const struct net_target *t = r->t;

	if (!r->started && r->bind_failure.class != FAIL_NONE)
		*f = r->bind_failure;	/* no address could be bound */
	else if (r->last_err == ECONNRESET || r->last_err == EPIPE)
		/* Accepted, then reset before we saw it: the server closed
		   the connection, as if before its greeting. */
		fail(f, FAIL_IOERR, 0, "greeting", "%s port %d: connection "
		    "reset before the greeting", t->host, t->port);
	else
		connect_fail(f, r->last_err ? r->last_err : ENOTCONN,
		    "%s port %d", t->host, t->port);
}

static int fill(struct conn *c, int64_t deadline, const char *stage,
    struct failure *f);

/* Send what socks.c built (wiped when it held a password). */
static int
socks_send(struct conn *c, struct buf *b, bool secret, int64_t deadline,
    struct failure *f)
{
	if (secret)
		conn_queue_secret(c, b->data, b->len);
	else
		conn_queue(c, b->data, b->len);
	if (secret)
		buf_free_secret(b);
	else
		buf_reset(b);
	return conn_flush(c, deadline, f);
}

/* Read until `parse` has a whole reply at the start of c->in. */
static enum socks_parse
socks_read(struct conn *c, enum socks_parse (*parse)(struct conn *, void *,
    char *, size_t), void *ctx, int64_t deadline, struct failure *f)
{
	char err[128];

	for (;;) {
		enum socks_parse p = parse(c, ctx, err, sizeof err);
		if (p == SOCKS_BAD) {
			fail(f, FAIL_PROTOCOL, 0, "SOCKS proxy", "%s", err);
			return SOCKS_BAD;
		}
		if (p == SOCKS_DONE)
			return p;
		if (fill(c, deadline, "SOCKS proxy", f) < 0)
			return SOCKS_BAD;
	}
}

static enum socks_parse
parse_method(struct conn *c, void *ctx, char *err, size_t errlen)
{
	enum socks_parse p = socks_parse_method((const uint8_t *)c->in.data,
	    c->in.len, ctx, err, errlen);
	if (p == SOCKS_DONE)
		buf_consume(&c->in, 2);
	return p;
}

static enum socks_parse
parse_userpass(struct conn *c, void *ctx, char *err, size_t errlen)
{
	enum socks_parse p = socks_parse_userpass((const uint8_t *)c->in.data,
	    c->in.len, ctx, err, errlen);
	if (p == SOCKS_DONE)
		buf_consume(&c->in, 2);
	return p;
}

static enum socks_parse
parse_connect(struct conn *c, void *ctx, char *err, size_t errlen)
{
	size_t used = 0;
	enum socks_parse p = socks_parse_reply((const uint8_t *)c->in.data,
	    c->in.len, &used, ctx, err, errlen);
	/* What follows the reply is the server's (its greeting). */
	if (p == SOCKS_DONE)
		buf_consume(&c->in, used);
	return p;
}

/* RFC 1929: log in with the user name and password. */
static int
socks_userpass_login(struct conn *c, const struct socks_proxy *px,
    int64_t deadline, struct failure *f)
{
	struct buf b;
	char err[128];
	bool ok = false;

	buf_init(&b);
	if (socks_userpass(px->user, px->password ? px->password : "", &b,
	    err, sizeof err) < 0) {
		buf_free_secret(&b);
		return fail(f, FAIL_CONFIG, 0, "SOCKS proxy", "%s", err);
	}
	if (socks_send(c, &b, true, deadline, f) < 0 ||
	    socks_read(c, parse_userpass, &ok, deadline, f) == SOCKS_BAD)
		return -1;
	if (!ok)
		return fail(f, FAIL_AUTH, 0, "SOCKS proxy", "the user name "
		    "and password were refused");
	return 0;
}

/* RFC 1928 3: the method, and the login when it is the user name and
   password. */
static int
socks_login(struct conn *c, const struct socks_proxy *px, int64_t deadline,
    struct failure *f)
{
	struct buf b;
	int method = SOCKS_NONE_ACCEPTABLE;
	int rc;

	buf_init(&b);
	socks_greeting(px->user != NULL, &b);
	rc = socks_send(c, &b, false, deadline, f);
	buf_free(&b);
	if (rc < 0 ||
	    socks_read(c, parse_method, &method, deadline, f) == SOCKS_BAD)
		return -1;
	if (method == SOCKS_NO_AUTH)
		return 0;
	if (method != SOCKS_USERPASS || px->user == NULL)
		return fail(f, FAIL_AUTH, 0, "SOCKS proxy", "it accepts none "
		    "of the methods offered (%s)", px->user ? "none, user "
		    "name and password" : "none: give a user name in the "
		    "proxy URL");
	return socks_userpass_login(c, px, deadline, f);
}

/* The address the proxy is asked for: the name itself (socks5h, in
   A-labels), or an address of it resolved here. */
static char *
socks_destination(const struct net_target *t, struct failure *f)
{
	char why[128], host[INET6_ADDRSTRLEN];
	struct addrinfo *res = NULL;

	if (t->proxy->remote_dns) {
		char *name = address_idna_name(t->host, why, sizeof why);
		if (name == NULL)
			fail(f, FAIL_NOHOST, 0, "host name", "%s: %s", t->host,
			    why);
		return name;
	}
	if (resolve(t, &res, f) < 0)
		return NULL;
	const void *a = res->ai_family == AF_INET ?
	    (const void *)&((const struct sockaddr_in *)(const void *)
	    res->ai_addr)->sin_addr :
	    (const void *)&((const struct sockaddr_in6 *)(const void *)
	    res->ai_addr)->sin6_addr;
	inet_ntop(res->ai_family, a, host, sizeof host);
	freeaddrinfo(res);
	return xstrdup(host);
}

/* Over a connection to the proxy: log in, then CONNECT to the server. */
static int
socks_tunnel(struct conn *c, const struct net_target *t, int64_t deadline,
    struct failure *f)
{
	struct buf b;
	char err[128];
	int rep = -1;
	char *dest = socks_destination(t, f);

	if (dest == NULL)
		return -1;
	buf_init(&b);
	int rc = socks_login(c, t->proxy, deadline, f);
	if (rc == 0 && socks_connect_request(dest, t->port, &b, err,
	    sizeof err) < 0)
		rc = fail(f, FAIL_NOHOST, 0, "SOCKS proxy", "%s", err);
	if (rc == 0 && (socks_send(c, &b, false, deadline, f) < 0 ||
	    socks_read(c, parse_connect, &rep, deadline, f) == SOCKS_BAD))
		rc = -1;
	if (rc == 0 && rep != 0) {
		enum fail_class cl;
		const char *why = socks_rep_text(rep, &cl);
		rc = fail(f, cl, 0, "SOCKS proxy", "connect to %s port %d: "
		    "%s", t->host, t->port, why);
	}
	buf_free(&b);
	free(dest);
	return rc;
}

/* A TCP connection to the first of the name's addresses to answer. */
static struct conn *
open_tcp(const struct net_target *t, int64_t deadline, struct failure *f)
{
	struct addrinfo *res = NULL;
	const struct addrinfo *won = NULL;
	struct race r;

	if (resolve(t, &res, f) < 0)
		return NULL;
	memset(&r, 0, sizeof r);
	r.t = t;
	r.n = interleave(res, r.order);
	int fd = race_run(&r, deadline, &won);
	if (fd < 0) {
		race_failure(&r, f);
		freeaddrinfo(res);
		return NULL;
	}
	int one = 1;
	/* carrier coalesces its own writes: one flight, one write, so
	   Nagle would only add delay. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct conn *c = conn_new(fd, is_loopback(won->ai_addr));
	freeaddrinfo(res);
	return c;
}

struct conn *
conn_open(const struct net_target *t, int64_t deadline, struct failure *f)
{
	if (t->host[0] == '/')
		return open_unix(t, deadline, f);
	if (t->proxy == NULL)
		return open_tcp(t, deadline, f);

	struct net_target to_proxy = *t;
	to_proxy.host = t->proxy->host;
	to_proxy.port = t->proxy->port;
	to_proxy.proxy = NULL;
	struct conn *c = open_tcp(&to_proxy, deadline, f);
	if (c == NULL) {
		char what[sizeof f->what + 16];
		(void)snprintf(what, sizeof what, "SOCKS proxy %s", f->what);
		(void)snprintf(f->what, sizeof f->what, "%.*s",
		    (int)sizeof f->what - 1, what);
		return NULL;
	}
	/* The server is wherever the proxy is told: never local. */
	c->local = false;
	if (socks_tunnel(c, t, deadline, f) < 0) {
		conn_close(c, false);
		return NULL;
	}
	return c;
}

bool
conn_is_local(const struct conn *c)
{
	return c->local;
}

bool
conn_is_tls(const struct conn *c)
{
	return c->tls != NULL;
}

const char *
conn_channel_binding(struct conn *c, struct buf *out)
{
	buf_reset(out);
	return c->tls != NULL ? tls_channel_binding(c->tls, out) : NULL;
}

void
conn_queue(struct conn *c, const void *p, size_t n)
{
	buf_add(&c->out, p, n);
}

void
conn_queue_secret(struct conn *c, const void *p, size_t n)
{
	/* Room first, so the copy is never moved by a realloc that would
	   leave the secret behind in freed memory. */
	buf_reserve(&c->out, n);
	buf_add(&c->out, p, n);
	c->secret_queued = true;
}

size_t
conn_queued(const struct conn *c)
{
	return c->out.len;
}

/*
 * A TLS 1.3 server refuses a client (say, for a missing certificate)
 * after the handshake, with an alert, then closes: the write fails first.
 * Read what is pending so the alert, not the closed pipe, is reported.
 */
static void
drain_alert(struct conn *c, struct failure *f)
{
	char block[16384];
	struct failure g;

	for (int i = 0; i < 64; i++) {
		ssize_t n = tls_read(c->tls, block, sizeof block, &g);
		if (n > 0) {
			buf_add(&c->in, block, (size_t)n);
			continue;
		}
		if (n == TLS_ERROR && g.class == FAIL_TLS)
			*f = g;
		return;
	}
}

int
conn_flush(struct conn *c, int64_t deadline, struct failure *f)
{
	size_t off = 0;
	int rc = 0;

	while (off < c->out.len) {
		ssize_t n;
		short want = POLLOUT;

		if (c->tls != NULL) {
			n = tls_write(c->tls, c->out.data + off,
			    c->out.len - off, f);
			if (n == TLS_ERROR) {
				if (f->class == FAIL_IOERR)
					drain_alert(c, f);
				rc = -1;
				break;
			}
			if (n == TLS_WOULD_BLOCK) {
				n = -1;
				errno = EAGAIN;
				want = tls_wants_write(c->tls) ? POLLOUT :
				    POLLIN;
			}
		} else
			n = send(c->fd, c->out.data + off, c->out.len - off,
			    MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((rc = wait_ready(c->fd, want, deadline, "sending",
			    "timed out", f)) == 0)
				continue;
			break;
		}
		rc = fail(f, FAIL_IOERR, 0, "sending",
		    "connection lost: %s", strerror(errno));
		break;
	}
	/* Credentials (AUTH) must not linger in the buffer once sent. */
	if (c->secret_queued && off > 0) {
		explicit_bzero(c->out.data, off);
		c->secret_queued = c->out.len > off;
	}
	buf_consume(&c->out, off);
	return rc;
}

int
conn_send_file(struct conn *c, int fd, off_t off, uint64_t len,
    int64_t deadline, struct failure *f)
{
	if (c->tls != NULL)
		return fail(f, FAIL_INTERNAL, 0, "sending", "sendfile over TLS");
	if (conn_flush(c, deadline, f) < 0)
		return -1;
	while (len > 0) {
		size_t want = len < (1u << 30) ? (size_t)len : (1u << 30);
		ssize_t n = sendfile(c->fd, fd, &off, want);
		if (n > 0) {
			len -= (uint64_t)n;
			continue;
		}
		if (n == 0)
			return fail(f, FAIL_OSERR, 0, "temporary file",
			    "read: short file");
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_ready(c->fd, POLLOUT, deadline, "sending",
			    "timed out", f) < 0)
				return -1;
			continue;
		}
		/* sendfile does not tell which side failed: the file, or
		   the connection (as send() would). */
		if (errno == EIO || errno == EINVAL || errno == ENOMEM ||
		    errno == EOVERFLOW)
			return fail(f, FAIL_OSERR, 0, "temporary file",
			    "sendfile: %s", strerror(errno));
		return fail(f, FAIL_IOERR, 0, "sending", "connection lost: %s",
		    strerror(errno));
	}
	return 0;
}

/* Read what is available into c->in, waiting until the deadline. */
static int
fill(struct conn *c, int64_t deadline, const char *stage, struct failure *f)
{
	char block[16384];

	for (;;) {
		ssize_t n;
		short want = POLLIN;

		if (c->tls != NULL) {
			n = tls_read(c->tls, block, sizeof block, f);
			if (n == TLS_ERROR) {
				(void)snprintf(f->what, sizeof f->what, "%s",
				    stage);
				return -1;
			}
			if (n == TLS_WOULD_BLOCK) {
				n = -1;
				errno = EAGAIN;
				want = tls_wants_write(c->tls) ? POLLOUT :
				    POLLIN;
			}
		} else
			n = recv(c->fd, block, sizeof block, 0);
		if (n > 0) {
			buf_add(&c->in, block, (size_t)n);
			return 0;
		}
		if (n == 0)
			return fail(f, FAIL_IOERR, 0, stage,
			    "connection closed by the server");
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_ready(c->fd, want, deadline, stage,
			    "timed out waiting for the server", f) < 0)
				return -1;
			continue;
		}
		return fail(f, FAIL_IOERR, 0, stage, "connection lost: %s",
		    strerror(errno));
	}
}

int
conn_read_reply(struct conn *c, struct reply *r, int64_t deadline,
    const char *stage, struct failure *f)
{
	reply_reader_reset(&c->rr);
	for (;;) {
		if (c->in.len > 0) {
			size_t used = reply_reader_feed(&c->rr, c->in.data,
			    c->in.len);
			buf_consume(&c->in, used);
			if (c->rr.state == READER_DONE) {
				reply_reader_take(&c->rr, r);
				return 0;
			}
			if (c->rr.state == READER_ERROR)
				return fail(f, FAIL_PROTOCOL, 0, stage, "%s",
				    c->rr.err);
		}
		if (fill(c, deadline, stage, f) < 0)
			return -1;
	}
}

size_t
conn_unread(const struct conn *c)
{
	return c->in.len + c->rr.line.len;
}

bool
conn_peer_spoke(const struct conn *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };

	return conn_unread(c) > 0 || poll(&p, 1, 0) != 0;
}

int
conn_start_tls(struct conn *c, const struct tls_config *cfg,
    int64_t deadline, struct failure *f)
{
	/* RFC 3207 5: bytes after the 220 were sent in clear by somebody
	   and must never be read as if they came over TLS. */
	if (conn_unread(c) > 0)
		return fail(f, FAIL_PROTOCOL, 0, "STARTTLS",
		    "the server sent data after its 220 reply "
		    "(possible command injection); not starting TLS");
	c->tls = tls_start(c->fd, cfg, deadline, f);
	return c->tls ? 0 : -1;
}

void
conn_close(struct conn *c, bool graceful)
{
	if (c == NULL)
		return;
	if (c->tls != NULL) {
		if (graceful)
			tls_close(c->tls, monotonic_ms() + 2000);
		else
			tls_free(c->tls);
	}
	(void)close(c->fd);
	buf_free(&c->in);
	buf_free_secret(&c->out);
	reply_reader_free(&c->rr);
	free(c);
}

char *
net_local_fqdn(void)
{
	char name[256];
	struct addrinfo hints = { .ai_flags = AI_CANONNAME }, *res = NULL;
	char *out;

	if (gethostname(name, sizeof name) < 0 || name[0] == '\0')
		return xstrdup("localhost");
	name[sizeof name - 1] = '\0';
	if (strchr(name, '.') == NULL &&
	    getaddrinfo(name, NULL, &hints, &res) == 0 && res->ai_canonname)
		out = xstrdup(res->ai_canonname);
	else
		out = xstrdup(name);
	if (res)
		freeaddrinfo(res);
	return out;
}
