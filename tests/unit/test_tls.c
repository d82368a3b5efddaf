/*
 * test_tls.c: src/tls.c against real GnuTLS servers run in forked
 * children, over socketpairs and loopback TCP.  The certificates are made
 * at start with the GnuTLS X.509 API into a temporary directory (no
 * certtool needed; fixed dates make the messages exact).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "check.h"
#include "report.h"
#include "tls.h"
#include "util.h"

/* ---- certificates ---- */

static char dir[64];
static char paths[32][128];
static int npaths;
static int serial = 1;

static const char *
path(const char *name)
{
	int i;

	for (i = 0; i < npaths; i++) {
		const char *slash = strrchr(paths[i], '/');
		if (strcmp(slash + 1, name) == 0)
			return paths[i];
	}
	if (npaths == 32)
		abort();
	(void)snprintf(paths[npaths], sizeof paths[npaths], "%s/%s", dir,
	    name);
	return paths[npaths++];
}

static void
die(const char *what, int r)
{
	fprintf(stderr, "test_tls: %s: %s\n", what, gnutls_strerror(r));
	exit(2);
}

static void
write_file(const char *name, const void *p, size_t n, const char *mode)
{
	FILE *fp = fopen(path(name), mode);

	if (fp == NULL || fwrite(p, 1, n, fp) != n || fclose(fp) != 0) {
		perror(name);
		exit(2);
	}
}

struct ident {
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
};

static gnutls_x509_privkey_t
new_key(void)
{
	gnutls_x509_privkey_t k;
	int r;

	if ((r = gnutls_x509_privkey_init(&k)) < 0 ||
	    (r = gnutls_x509_privkey_generate(k, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0)
		die("key", r);
	return k;
}

enum kind { K_CA, K_SERVER, K_CLIENT };

/*
 * A certificate for `key` named cn, with the DNS and IP SANs given
 * (NULL-terminated lists), valid from nb to na, signed by `by` (NULL:
 * self-signed).
 */
static struct ident
make_cert(gnutls_x509_privkey_t key, const char *cn, const char *const *dns,
    const char *const *ips, time_t nb, time_t na, enum kind kind,
    const struct ident *by)
{
	struct ident id = { NULL, key };
	unsigned char sn[4], kid[64];
	size_t kidlen = sizeof kid;
	int r;

	sn[0] = 0;
	sn[1] = 0;
	sn[2] = (unsigned char)(serial >> 8);
	sn[3] = (unsigned char)serial;
	serial++;
	if ((r = gnutls_x509_crt_init(&id.crt)) < 0 ||
	    (r = gnutls_x509_crt_set_version(id.crt, 3)) < 0 ||
	    (r = gnutls_x509_crt_set_serial(id.crt, sn, sizeof sn)) < 0 ||
	    (r = gnutls_x509_crt_set_activation_time(id.crt, nb)) < 0 ||
	    (r = gnutls_x509_crt_set_expiration_time(id.crt, na)) < 0 ||
	    (r = gnutls_x509_crt_set_dn_by_oid(id.crt,
	    GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned)strlen(cn))) < 0 ||
	    (r = gnutls_x509_crt_set_key(id.crt, key)) < 0)
		die("certificate", r);
	if (kind == K_CA) {
		r = gnutls_x509_crt_set_basic_constraints(id.crt, 1, -1);
		if (r >= 0)
			r = gnutls_x509_crt_set_key_usage(id.crt,
			    GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN);
	} else {
		r = gnutls_x509_crt_set_basic_constraints(id.crt, 0, -1);
		if (r >= 0)
			r = gnutls_x509_crt_set_key_usage(id.crt,
			    GNUTLS_KEY_DIGITAL_SIGNATURE);
		if (r >= 0)
			r = gnutls_x509_crt_set_key_purpose_oid(id.crt,
			    kind == K_SERVER ? GNUTLS_KP_TLS_WWW_SERVER :
			    GNUTLS_KP_TLS_WWW_CLIENT, 0);
	}
	if (r < 0)
		die("extensions", r);
	for (; dns != NULL && *dns != NULL; dns++)
		if ((r = gnutls_x509_crt_set_subject_alt_name(id.crt,
		    GNUTLS_SAN_DNSNAME, *dns, (unsigned)strlen(*dns),
		    GNUTLS_FSAN_APPEND)) < 0)
			die("dns san", r);
	for (; ips != NULL && *ips != NULL; ips++) {
		unsigned char a[16];
		unsigned len = strchr(*ips, ':') ? 16 : 4;

		if (inet_pton(len == 16 ? AF_INET6 : AF_INET, *ips, a) != 1)
			abort();
		if ((r = gnutls_x509_crt_set_subject_alt_name(id.crt,
		    GNUTLS_SAN_IPADDRESS, a, len, GNUTLS_FSAN_APPEND)) < 0)
			die("ip san", r);
	}
	if ((r = gnutls_x509_crt_get_key_id(id.crt, 0, kid, &kidlen)) < 0 ||
	    (r = gnutls_x509_crt_set_subject_key_id(id.crt, kid, kidlen)) < 0)
		die("key id", r);
	if (by != NULL) {
		kidlen = sizeof kid;
		if ((r = gnutls_x509_crt_get_subject_key_id(by->crt, kid,
		    &kidlen, NULL)) < 0 ||
		    (r = gnutls_x509_crt_set_authority_key_id(id.crt, kid,
		    kidlen)) < 0)
			die("authority key id", r);
		r = gnutls_x509_crt_sign2(id.crt, by->crt, by->key,
		    GNUTLS_DIG_SHA256, 0);
	} else
		r = gnutls_x509_crt_sign2(id.crt, id.crt, key,
		    GNUTLS_DIG_SHA256, 0);
	if (r < 0)
		die("sign", r);
	return id;
}

static void
save_cert(const char *name, const struct ident *id, const char *mode)
{
	gnutls_datum_t d;
	int r;

	if ((r = gnutls_x509_crt_export2(id->crt, GNUTLS_X509_FMT_PEM,
	    &d)) < 0)
		die("export", r);
	write_file(name, d.data, d.size, mode);
	gnutls_free(d.data);
}

static void
save_key(const char *name, gnutls_x509_privkey_t k)
{
	gnutls_datum_t d;
	int r;

	if ((r = gnutls_x509_privkey_export2(k, GNUTLS_X509_FMT_PEM,
	    &d)) < 0)
		die("export key", r);
	write_file(name, d.data, d.size, "w");
	gnutls_free(d.data);
}

/* "SHA256:AB:CD:..." of a certificate, or bare lower-case hex. */
static void
fingerprint_of(const struct ident *id, char *out, size_t n, bool colons)
{
	unsigned char fp[32];
	size_t size = sizeof fp, o = 0;
	int i;

	if (gnutls_x509_crt_get_fingerprint(id->crt, GNUTLS_DIG_SHA256, fp,
	    &size) < 0 || size != 32)
		abort();
	o += (size_t)snprintf(out, n, "SHA256:");
	for (i = 0; i < 32; i++)
		o += (size_t)snprintf(out + o, n - o, colons ? "%s%02X" :
		    "%s%02x", colons && i ? ":" : "", fp[i]);
}

static struct ident ca, ca2, inter, server, clientca, client, selfsigned;
static char pin_server[200], pin_server_bare[200];

#define T(y, mo, d, h, mi) mktime_utc(y, mo, d, h, mi)

static time_t
mktime_utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = { 0 };

	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return timegm(&tm);
}

static void
make_certs(void)
{
	static const char *const local_dns[] = { "localhost", NULL };
	static const char *const local_ip[] = { "127.0.0.1", "::1", NULL };
	static const char *const wrong_dns[] = { "wrong.test",
	    "www.wrong.test", NULL };
	time_t now = time(NULL);
	time_t nb = now - 86400, na = now + 86400 * 30;
	gnutls_x509_privkey_t skey, ckey;
	struct ident id;

	(void)snprintf(dir, sizeof dir, "/tmp/test_tls.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	ca = make_cert(new_key(), "carrier test CA", NULL, NULL, nb - 86400,
	    na + 86400, K_CA, NULL);
	save_cert("ca.pem", &ca, "w");
	{
		gnutls_datum_t d;

		if (gnutls_x509_crt_export2(ca.crt, GNUTLS_X509_FMT_DER,
		    &d) < 0)
			abort();
		write_file("ca.der", d.data, d.size, "w");
		gnutls_free(d.data);
	}
	ca2 = make_cert(new_key(), "Other CA", NULL, NULL, nb, na, K_CA, NULL);
	inter = make_cert(new_key(), "carrier intermediate", NULL, NULL, nb,
	    na, K_CA, &ca);
	clientca = make_cert(new_key(), "carrier client CA", NULL, NULL, nb,
	    na, K_CA, NULL);
	save_cert("clientca.pem", &clientca, "w");

	skey = new_key();
	save_key("server-key.pem", skey);
	server = make_cert(skey, "localhost", local_dns, local_ip, nb, na,
	    K_SERVER, &ca);
	save_cert("server.pem", &server, "w");
	fingerprint_of(&server, pin_server, sizeof pin_server, true);
	fingerprint_of(&server, pin_server_bare, sizeof pin_server_bare,
	    false);

	id = make_cert(skey, "localhost", local_dns, local_ip,
	    T(2019, 1, 1, 0, 0), T(2020, 1, 2, 3, 4), K_SERVER, &ca);
	save_cert("expired.pem", &id, "w");
	gnutls_x509_crt_deinit(id.crt);
	id = make_cert(skey, "localhost", local_dns, local_ip,
	    T(2099, 5, 6, 7, 8), T(2100, 1, 1, 0, 0), K_SERVER, &ca);
	save_cert("notyet.pem", &id, "w");
	gnutls_x509_crt_deinit(id.crt);
	id = make_cert(skey, "wrong.test", wrong_dns, NULL, nb, na, K_SERVER,
	    &ca);
	save_cert("wrongname.pem", &id, "w");
	gnutls_x509_crt_deinit(id.crt);
	id = make_cert(skey, "cn-only.test", NULL, NULL, nb, na, K_SERVER,
	    &ca);
	save_cert("cnonly.pem", &id, "w");
	gnutls_x509_crt_deinit(id.crt);
	selfsigned = make_cert(skey, "localhost", local_dns, local_ip, nb, na,
	    K_SERVER, NULL);
	save_cert("selfsigned.pem", &selfsigned, "w");
	id = make_cert(skey, "localhost", local_dns, local_ip, nb, na,
	    K_SERVER, &ca2);
	save_cert("untrusted.pem", &id, "w");
	gnutls_x509_crt_deinit(id.crt);
	/* A client-only certificate presented by a server. */
	id = make_cert(skey, "localhost", local_dns, local_ip, nb, na,
	    K_CLIENT, &ca);
	save_cert("clientpurpose.pem", &id, "w");
	gnutls_x509_crt_deinit(id.crt);
	/* Leaf + intermediate, trusted through ca.pem. */
	id = make_cert(skey, "localhost", local_dns, local_ip, nb, na,
	    K_SERVER, &inter);
	save_cert("chain.pem", &id, "w");
	save_cert("chain.pem", &inter, "a");
	gnutls_x509_crt_deinit(id.crt);
	gnutls_x509_privkey_deinit(skey);

	ckey = new_key();
	save_key("client-key.pem", ckey);
	client = make_cert(ckey, "carrier client", NULL, NULL, nb, na,
	    K_CLIENT, &clientca);
	save_cert("client.pem", &client, "w");
	/* Certificate and key in one file. */
	save_cert("client-both.pem", &client, "w");
	{
		gnutls_datum_t d;

		if (gnutls_x509_privkey_export2(ckey, GNUTLS_X509_FMT_PEM,
		    &d) < 0)
			abort();
		write_file("client-both.pem", d.data, d.size, "a");
		gnutls_free(d.data);
	}
	write_file("empty.pem", "", 0, "w");
	{
		gnutls_datum_t d;

		if (gnutls_x509_privkey_export2_pkcs8(ckey,
		    GNUTLS_X509_FMT_PEM, "secret", 0, &d) < 0)
			abort();
		write_file("client-key-enc.pem", d.data, d.size, "w");
		gnutls_free(d.data);
	}
}

static void
free_certs(void)
{
	struct ident *all[] = { &ca, &ca2, &inter, &server, &clientca,
	    &client, &selfsigned };
	size_t i;
	int k;

	for (i = 0; i < sizeof all / sizeof all[0]; i++) {
		gnutls_x509_crt_deinit(all[i]->crt);
		if (all[i] != &selfsigned && all[i] != &server)
			gnutls_x509_privkey_deinit(all[i]->key);
	}
	for (k = 0; k < npaths; k++)
		(void)unlink(paths[k]);
	(void)rmdir(dir);
}

/* ---- the test server (runs in a child) ---- */

enum mode {
	S_GREET,	/* send "220 hello", read to close_notify */
	S_PLAINTEXT,	/* answer the ClientHello with an SMTP greeting */
	S_CLOSE_EARLY,	/* read part of the ClientHello, close */
	S_CLOSE_MID,	/* send the first part of the flight, close */
	S_STALL,	/* read the ClientHello, say nothing */
	S_BYE,		/* send a line, close_notify, wait */
	S_TRUNCATE,	/* send a line, close without close_notify */
	S_RESET,	/* send a line, RST (TCP only) */
	S_ALERT,	/* send a fatal alert */
	S_GARBAGE,	/* send a record that does not decrypt */
	S_KEYUPDATE,	/* KeyUpdate (peer too), line, ping/pong */
	S_REHANDSHAKE,	/* TLS 1.2 HelloRequest, line, ping/pong */
	S_SINK,		/* read N bytes slowly, answer their hash */
	S_CLOSE,	/* close right after the handshake */
};

struct srv {
	enum mode mode;
	const char *cert, *key;
	const char *priority;
	const char *client_ca;	/* require a client certificate */
	const char *expect_sni;	/* "" = none expected; NULL = don't care */
	bool tcp;
	size_t sink_len;
};

static uint32_t
fnv(uint32_t h, const unsigned char *p, size_t n)
{
	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

static int cut_fd = -1;

static ssize_t
cut_push(gnutls_transport_ptr_t p, const void *d, size_t n)
{
	(void)p;
	(void)write(cut_fd, d, n);	/* the ServerHello, then vanish */
	(void)close(cut_fd);
	_exit(0);
}

static void
srv_send(gnutls_session_t s, const char *line)
{
	size_t off = 0, n = strlen(line);

	while (off < n) {
		ssize_t r = gnutls_record_send(s, line + off, n - off);
		if (r < 0 && gnutls_error_is_fatal((int)r))
			_exit(30);
		if (r > 0)
			off += (size_t)r;
	}
}

/* Read one line (ends with \n) into buf; 0 ok. */
static int
srv_line(gnutls_session_t s, char *buf, size_t n)
{
	size_t len = 0;

	while (len + 1 < n) {
		ssize_t r = gnutls_record_recv(s, buf + len, 1);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED ||
		    r == GNUTLS_E_REHANDSHAKE)
			continue;
		if (r <= 0)
			return -1;
		len++;
		if (buf[len - 1] == '\n')
			break;
	}
	buf[len] = '\0';
	return 0;
}

static void
srv_drain(gnutls_session_t s, int code_on_close_notify, int code_other)
{
	char buf[4096];

	for (;;) {
		ssize_t r = gnutls_record_recv(s, buf, sizeof buf);
		if (r == 0)
			_exit(code_on_close_notify);
		if (r < 0 && gnutls_error_is_fatal((int)r))
			_exit(code_other);
	}
}

static void
serve(int fd, const struct srv *o)
{
	gnutls_certificate_credentials_t cred;
	gnutls_session_t s;
	gnutls_datum_t tkey;
	char buf[4096];
	int r;

	alarm(20);
	signal(SIGPIPE, SIG_IGN);
	switch (o->mode) {
	case S_PLAINTEXT: {
		static const char greet[] =
		    "220 mx.example.org ESMTP ready\r\n";

		(void)write(fd, greet, sizeof greet - 1);
		while (read(fd, buf, sizeof buf) > 0)
			;
		_exit(0);
	}
	case S_CLOSE_EARLY:
		(void)read(fd, buf, 10);
		(void)close(fd);
		_exit(0);
	case S_STALL:
		(void)read(fd, buf, sizeof buf);
		pause();
		_exit(0);
	default:
		break;
	}
	if (gnutls_certificate_allocate_credentials(&cred) < 0 ||
	    gnutls_certificate_set_x509_key_file(cred, o->cert, o->key,
	    GNUTLS_X509_FMT_PEM) < 0)
		_exit(40);
	if (o->client_ca != NULL &&
	    gnutls_certificate_set_x509_trust_file(cred, o->client_ca,
	    GNUTLS_X509_FMT_PEM) <= 0)
		_exit(41);
	if (gnutls_init(&s, GNUTLS_SERVER) < 0)
		_exit(42);
	r = o->priority ? gnutls_priority_set_direct(s, o->priority, NULL) :
	    gnutls_set_default_priority(s);
	if (r < 0)
		_exit(43);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	if (o->client_ca != NULL)
		gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
	/* TLS 1.3 NewSessionTickets after the handshake, as real servers. */
	if (gnutls_session_ticket_key_generate(&tkey) < 0 ||
	    gnutls_session_ticket_enable_server(s, &tkey) < 0)
		_exit(44);
	gnutls_transport_set_int(s, fd);
	if (o->mode == S_CLOSE_MID) {
		cut_fd = fd;
		gnutls_transport_set_push_function(s, cut_push);
	}
	do
		r = gnutls_handshake(s);
	while (r < 0 && !gnutls_error_is_fatal(r));
	if (r < 0) {
		/* Tell the client why, as real servers do (GnuTLS does not
		   send alerts by itself), then close politely: exiting with
		   unread input would make the kernel reset the connection
		   before the alert is read. */
		if (r != GNUTLS_E_FATAL_ALERT_RECEIVED)
			(void)gnutls_alert_send_appropriate(s, r);
		while (read(fd, buf, sizeof buf) > 0)
			;
		_exit(10);
	}
	if (o->expect_sni != NULL) {
		char name[256];
		size_t len = sizeof name;
		unsigned type;

		r = gnutls_server_name_get(s, name, &len, &type, 0);
		if (*o->expect_sni == '\0' ?
		    r != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE :
		    (r < 0 || strcmp(name, o->expect_sni) != 0))
			_exit(11);
	}
	if (o->client_ca != NULL) {
		unsigned status;

		if (gnutls_certificate_verify_peers2(s, &status) < 0 ||
		    status != 0)
			_exit(12);
	}
	switch (o->mode) {
	case S_GREET:
		srv_send(s, "220 hello\r\n");
		srv_drain(s, 0, 13);
		break;
	case S_BYE:
		srv_send(s, "221 bye\r\n");
		do
			r = gnutls_bye(s, GNUTLS_SHUT_WR);
		while (r < 0 && !gnutls_error_is_fatal(r));
		while (read(fd, buf, sizeof buf) > 0)
			;
		_exit(0);
	case S_TRUNCATE:
		srv_send(s, "250 ok\r\n");
		(void)close(fd);
		_exit(0);
	case S_RESET: {
		struct linger lg = { 1, 0 };

		srv_send(s, "250 ok\r\n");
		usleep(100000);
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		(void)close(fd);
		_exit(0);
	}
	case S_ALERT:
		(void)gnutls_alert_send(s, GNUTLS_AL_FATAL,
		    GNUTLS_A_INTERNAL_ERROR);
		while (read(fd, buf, sizeof buf) > 0)
			;
		_exit(0);
	case S_GARBAGE: {
		/* An application_data record of 40 bytes that is not
		   encrypted with the session's keys. */
		unsigned char rec[5 + 40] = { 23, 3, 3, 0, 40 };

		memset(rec + 5, 0x5a, 40);
		(void)write(fd, rec, sizeof rec);
		while (read(fd, buf, sizeof buf) > 0)
			;
		_exit(0);
	}
	case S_KEYUPDATE:
		if (gnutls_session_key_update(s, GNUTLS_KU_PEER) < 0)
			_exit(14);
		srv_send(s, "250 after key update\r\n");
		if (srv_line(s, buf, sizeof buf) < 0 ||
		    strcmp(buf, "ping\r\n") != 0)
			_exit(15);
		srv_send(s, "250 pong\r\n");
		srv_drain(s, 0, 16);
		break;
	case S_REHANDSHAKE:
		if (gnutls_rehandshake(s) < 0)
			_exit(17);
		srv_send(s, "250 still here\r\n");
		if (srv_line(s, buf, sizeof buf) < 0 ||
		    strcmp(buf, "ping\r\n") != 0)
			_exit(18);
		srv_send(s, "250 pong\r\n");
		srv_drain(s, 0, 19);
		break;
	case S_SINK: {
		size_t got = 0;
		uint32_t h = 2166136261u;

		while (got < o->sink_len) {
			size_t want = o->sink_len - got;
			ssize_t n = gnutls_record_recv(s, buf, want < sizeof buf
			    ? want : sizeof buf);
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
				continue;
			if (n <= 0)
				_exit(20);
			h = fnv(h, (unsigned char *)buf, (size_t)n);
			got += (size_t)n;
			if (got % 65536 < (size_t)n)
				usleep(2000);	/* a slow reader */
		}
		(void)snprintf(buf, sizeof buf, "250 %zu %08x\r\n", got, h);
		srv_send(s, buf);
		srv_drain(s, 0, 21);
		break;
	}
	case S_CLOSE:
		(void)close(fd);
		_exit(0);
	default:
		_exit(50);
	}
	_exit(51);
}

struct child {
	pid_t pid;
	int fd;		/* client side, non-blocking */
};

static struct child
start(const struct srv *o)
{
	struct child c = { -1, -1 };
	int sv[2], lfd = -1;

	fflush(stdout);
	if (o->tcp) {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		socklen_t sl = sizeof sa;

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		lfd = socket(AF_INET, SOCK_STREAM, 0);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) ||
		    listen(lfd, 1) ||
		    getsockname(lfd, (struct sockaddr *)&sa, &sl)) {
			perror("listen");
			exit(2);
		}
		sv[1] = -1;
		c.pid = fork();
		if (c.pid == 0) {
			int afd = accept(lfd, NULL, NULL);
			if (afd < 0)
				_exit(60);
			(void)close(lfd);
			serve(afd, o);
		}
		sv[0] = socket(AF_INET, SOCK_STREAM, 0);
		if (sv[0] < 0 || connect(sv[0], (struct sockaddr *)&sa,
		    sizeof sa) < 0) {
			perror("connect");
			exit(2);
		}
		(void)close(lfd);
	} else {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
			perror("socketpair");
			exit(2);
		}
		c.pid = fork();
		if (c.pid == 0) {
			(void)close(sv[0]);
			serve(sv[1], o);
		}
		(void)close(sv[1]);
	}
	if (c.pid < 0) {
		perror("fork");
		exit(2);
	}
	c.fd = sv[0];
	(void)fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
	return c;
}

/* Reap the child; return its exit status (or 100 + signal). */
static int
finish(struct child *c, bool kill_it)
{
	int st = 0;

	if (c->fd >= 0)
		(void)close(c->fd);
	c->fd = -1;
	if (kill_it)
		(void)kill(c->pid, SIGKILL);
	if (waitpid(c->pid, &st, 0) < 0)
		return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 100 + WTERMSIG(st);
}

/* ---- client helpers ---- */

static int64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct buf infolog;

static void
collect(void *ctx, const char *line)
{
	(void)ctx;
	buf_addf(&infolog, "%s\n", line);
}

static struct tls_config
cfg_for(const char *servername)
{
	struct tls_config c = { 0 };

	c.servername = servername;
	c.ca_file = path("ca.pem");
	c.info = collect;
	return c;
}

static void
wait_io(struct tls *t, int fd)
{
	struct pollfd p = { .fd = fd };

	p.events = tls_wants_write(t) ? POLLOUT : POLLIN;
	(void)poll(&p, 1, 5000);
}

/* Read until a whole line (or close/error); returns tls_read's last. */
static ssize_t
read_line(struct tls *t, int fd, char *buf, size_t n, struct failure *f)
{
	size_t len = 0;
	int64_t end = ms_now() + 5000;

	buf[0] = '\0';
	while (ms_now() < end) {
		ssize_t r = tls_read(t, buf + len, n - 1 - len, f);
		if (r == TLS_WOULD_BLOCK) {
			wait_io(t, fd);
			continue;
		}
		if (r <= 0)
			return r;
		len += (size_t)r;
		buf[len] = '\0';
		if (memchr(buf, '\n', len) != NULL)
			return (ssize_t)len;
	}
	return -3;
}

static int
tls_test_write_all(struct tls *t, int fd, const char *p, size_t n, struct failure *f,
    int *blocked)
{
	size_t off = 0;
	int64_t end = ms_now() + 20000;
	char *copy = NULL;

	while (off < n && ms_now() < end) {
		const char *src = p + off;
		ssize_t r;

		/* After a block, retry from another buffer with the same
		   bytes: tls_write must not depend on the pointer. */
		if (copy != NULL)
			src = copy;
		r = tls_write(t, src, n - off, f);
		free(copy);
		copy = NULL;
		if (r == TLS_WOULD_BLOCK) {
			(*blocked)++;
			copy = xmalloc(n - off);
			memcpy(copy, p + off, n - off);
			wait_io(t, fd);
			continue;
		}
		if (r < 0)
			return -1;
		off += (size_t)r;
	}
	free(copy);
	return off == n ? 0 : -3;
}

static struct tls *
connect_ok(const struct srv *o, const struct tls_config *c,
    struct child *ch, struct failure *f)
{
	*ch = start(o);
	buf_reset(&infolog);
	memset(f, 0, sizeof *f);
	return tls_start(ch->fd, c, ms_now() + 5000, f);
}

/* A handshake that must fail: returns the failure; reaps the child. */
static struct failure
expect_fail(const struct srv *o, const struct tls_config *c, int *child_st)
{
	struct child ch;
	struct failure f;
	struct tls *t = connect_ok(o, c, &ch, &f);

	if (t != NULL) {
		tls_free(t);
		f.class = FAIL_NONE;
	}
	*child_st = finish(&ch, false);	/* each child ends on EOF */
	return f;
}

/* A greeting exchange that must work; returns the child's status. */
static int
greet_ok(const char *label, const struct srv *o, const struct tls_config *c)
{
	struct child ch;
	struct failure f;
	char line[256];
	struct tls *t = connect_ok(o, c, &ch, &f);
	ssize_t r;

	CHECK(t != NULL, "%s: handshake succeeds", label);
	if (t == NULL) {
		printf("#   %d %s: %s\n", f.class, f.what, f.detail);
		return finish(&ch, true);
	}
	r = read_line(t, ch.fd, line, sizeof line, &f);
	CHECK(r > 0 && strcmp(line, "220 hello\r\n") == 0,
	    "%s: greeting read over TLS", label);
	tls_close(t, ms_now() + 2000);
	return finish(&ch, false);
}

static struct srv
srv_with(const char *cert)
{
	struct srv o = { 0 };

	o.mode = S_GREET;
	o.cert = path(cert);
	o.key = path("server-key.pem");
	return o;
}

/* ---- tests ---- */

static void
test_fingerprint_parser(void)
{
	unsigned char out[32], zero[32] = { 0 };
	char buf[300];
	int i;

	CHECK(tls_parse_fingerprint(pin_server, out) == 0,
	    "colon form parses");
	CHECK(tls_parse_fingerprint(pin_server_bare, out) == 0,
	    "bare lower-case form parses");
	{
		unsigned char a[32], b[32];

		(void)tls_parse_fingerprint(pin_server, a);
		(void)tls_parse_fingerprint(pin_server_bare, b);
		CHECK(memcmp(a, b, 32) == 0, "both forms give the same bytes");
	}
	memcpy(buf, pin_server, sizeof pin_server < sizeof buf ?
	    sizeof pin_server : sizeof buf);
	memcpy(buf, "sha256", 6);
	CHECK(tls_parse_fingerprint(buf, out) == 0, "prefix any case");
	for (i = 0; buf[i]; i++)
		if (buf[i] >= 'A' && buf[i] <= 'F')
			buf[i] = (char)(buf[i] - 'A' + 'a');
	CHECK(tls_parse_fingerprint(buf, out) == 0, "lower-case colon form");

	memset(out, 0, sizeof out);
	CHECK(tls_parse_fingerprint("SHA256:" "0001020304050607"
	    "08090a0b0c0d0e0f" "101112131415161718191a1b1c1d1e1f", out) == 0 &&
	    out[0] == 0 && out[1] == 1 && out[15] == 15 && out[31] == 31,
	    "bytes decoded in order");

	memset(out, 0, sizeof out);
	CHECK(tls_parse_fingerprint(pin_server + 7, out) == -1 &&
	    memcmp(out, zero, 32) == 0, "no prefix: refused, out untouched");
	CHECK(tls_parse_fingerprint("SHA1:" "00112233445566778899aabbccddeeff"
	    "00112233", out) == -1, "SHA1 refused");
	CHECK(tls_parse_fingerprint(NULL, out) == -1, "NULL refused");
	CHECK(tls_parse_fingerprint("", out) == -1, "empty refused");
	CHECK(tls_parse_fingerprint("SHA256:", out) == -1, "no digits");
	(void)snprintf(buf, sizeof buf, "%.*s", 70, pin_server_bare);
	CHECK(tls_parse_fingerprint(buf, out) == -1, "63 digits refused");
	(void)snprintf(buf, sizeof buf, "%s0", pin_server_bare);
	CHECK(tls_parse_fingerprint(buf, out) == -1, "65 digits refused");
	(void)snprintf(buf, sizeof buf, "%s:", pin_server);
	CHECK(tls_parse_fingerprint(buf, out) == -1, "trailing colon refused");
	(void)snprintf(buf, sizeof buf, " %s", pin_server);
	CHECK(tls_parse_fingerprint(buf, out) == -1, "leading space refused");
	(void)snprintf(buf, sizeof buf, "%s ", pin_server_bare);
	CHECK(tls_parse_fingerprint(buf, out) == -1, "trailing space refused");
	(void)snprintf(buf, sizeof buf, "%s", pin_server_bare);
	buf[20] = 'g';
	CHECK(tls_parse_fingerprint(buf, out) == -1, "non-hex refused");
	(void)snprintf(buf, sizeof buf, "%s", pin_server);
	buf[9] = '-';
	CHECK(tls_parse_fingerprint(buf, out) == -1, "dash separator refused");
	/* Colons in some places only: 95 chars but misplaced. */
	(void)snprintf(buf, sizeof buf, "SHA256:%s", pin_server + 7);
	buf[9] = buf[10];
	buf[10] = ':';
	CHECK(tls_parse_fingerprint(buf, out) == -1, "misplaced colon refused");
	(void)snprintf(buf, sizeof buf, "SHA256:00:%.62s", pin_server_bare + 9);
	CHECK(tls_parse_fingerprint(buf, out) == -1,
	    "mixed colon and bare refused");
	CHECK(tls_parse_fingerprint("SHA256 0001020304050607"
	    "08090a0b0c0d0e0f" "101112131415161718191a1b1c1d1e1f", out) == -1,
	    "prefix without colon refused");
}

static void
test_valid(void)
{
	struct srv o = srv_with("server.pem");
	struct tls_config c = cfg_for("localhost");
	char want[300];
	int st;

	o.expect_sni = "localhost";
	st = greet_ok("valid certificate", &o, &c);
	CHECK(st == 0, "server saw SNI 'localhost' and our close_notify "
	    "(child %d)", st);
	CHECK(strstr(infolog.data, "TLS version: TLS1.3\n") != NULL,
	    "info: version");
	CHECK(strstr(infolog.data, "TLS cipher suite: TLS_") != NULL,
	    "info: cipher suite");
	CHECK(strstr(infolog.data, "TLS session: (TLS1.3") != NULL,
	    "info: session description");
	CHECK(strstr(infolog.data, "TLS certificate subject: CN=localhost\n")
	    != NULL, "info: subject");
	CHECK(strstr(infolog.data, "TLS certificate issuer: CN=carrier test "
	    "CA\n") != NULL, "info: issuer");
	CHECK(strstr(infolog.data, "TLS certificate not before: ") != NULL &&
	    strstr(infolog.data, "TLS certificate not after: ") != NULL &&
	    strstr(infolog.data, " UTC\n") != NULL, "info: validity");
	(void)snprintf(want, sizeof want, "TLS certificate fingerprint: %s\n",
	    pin_server);
	CHECK(strstr(infolog.data, want) != NULL, "info: fingerprint");
	CHECK(strstr(infolog.data, "TLS certificate verified for "
	    "'localhost'\n") != NULL, "info: verified");
	printf("# info lines:\n# %s", infolog.data);

	/* Same over loopback TCP. */
	o.tcp = true;
	st = greet_ok("valid certificate over TCP", &o, &c);
	CHECK(st == 0, "TCP server finished cleanly (child %d)", st);

	/* Leaf + intermediate. */
	o = srv_with("chain.pem");
	st = greet_ok("chain through an intermediate", &o, &c);
	CHECK(st == 0, "chain: child %d", st);

	/* A CA file in DER. */
	c.ca_file = path("ca.der");
	st = greet_ok("CA file in DER", &o, &c);
	CHECK(st == 0, "DER CA: child %d", st);

	/* Case and a final dot in the name. */
	o = srv_with("server.pem");
	o.expect_sni = "LOCALHOST";
	c = cfg_for("LOCALHOST.");
	st = greet_ok("'LOCALHOST.'", &o, &c);
	CHECK(st == 0, "SNI sent without the final dot (child %d)", st);
}

static void
test_ip_literals(void)
{
	static const char *const good[] = { "127.0.0.1", "::1", "[::1]",
	    "[127.0.0.1]" };
	struct srv o = srv_with("server.pem");
	struct tls_config c;
	struct failure f;
	size_t i;
	int st;

	o.expect_sni = "";	/* no SNI for an address */
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		char label[64];

		c = cfg_for(good[i]);
		(void)snprintf(label, sizeof label, "IP literal %s", good[i]);
		st = greet_ok(label, &o, &c);
		CHECK(st == 0, "%s: no SNI sent (child %d)", good[i], st);
	}
	c = cfg_for("127.0.0.2");
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_TLS, "127.0.0.2 against 127.0.0.1: FAIL_TLS");
	CHECK_STR(f.detail, "certificate is for 'localhost', '127.0.0.1', "
	    "'::1', not '127.0.0.2'", "IP mismatch message");
	CHECK_STR(f.what, "certificate of 127.0.0.2", "IP mismatch what");
	c = cfg_for("::2");
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_TLS && strstr(f.detail, "not '::2'") != NULL,
	    "::2 refused: %s", f.detail);
	/* An IP SAN must not satisfy a DNS name that looks like it. */
	c = cfg_for("127.0.0.1.example");
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_TLS, "DNS name '127.0.0.1.example' refused");
}

static void
test_bad_certificates(void)
{
	struct tls_config c = cfg_for("localhost");
	struct srv o;
	struct failure f;
	int st;

	o = srv_with("wrongname.pem");
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_TLS, "wrong name: FAIL_TLS");
	CHECK_STR(f.what, "certificate of localhost", "wrong name: what");
	CHECK_STR(f.detail, "certificate is for 'wrong.test', "
	    "'www.wrong.test', not 'localhost'", "wrong name: detail");
	CHECK(st == 10, "wrong name: we sent an alert, the server's "
	    "handshake failed too (child %d)", st);
	CHECK(strstr(infolog.data, "TLS certificate subject: CN=wrong.test\n")
	    != NULL && strstr(infolog.data, "TLS version: TLS1.3\n") != NULL &&
	    strstr(infolog.data, "verified") == NULL,
	    "info shows the refused certificate");
	printf("# info lines on failure:\n# %s", infolog.data);

	o = srv_with("cnonly.pem");
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_TLS, "CN-only wrong name: FAIL_TLS");
	CHECK_STR(f.detail, "certificate is for 'cn-only.test', not "
	    "'localhost'", "CN-only: names the CN");

	o = srv_with("expired.pem");
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_TLS, "expired: FAIL_TLS");
	CHECK_STR(f.detail, "certificate expired on 2020-01-02 03:04 UTC",
	    "expired: detail");

	o = srv_with("notyet.pem");
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_TLS, "not yet valid: FAIL_TLS");
	CHECK_STR(f.detail, "certificate not valid before 2099-05-06 07:08 "
	    "UTC", "not yet valid: detail");

	o = srv_with("selfsigned.pem");
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_TLS, "self-signed: FAIL_TLS");
	CHECK_STR(f.detail, "self-signed certificate", "self-signed: detail");

	o = srv_with("untrusted.pem");
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_TLS, "unknown CA: FAIL_TLS");
	CHECK_STR(f.detail, "certificate not trusted (issuer: CN=Other CA)",
	    "unknown CA: detail");

	/* Our test CA is not in the system store. */
	o = srv_with("server.pem");
	c.ca_file = NULL;
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_TLS, "system trust store: test CA refused");
	CHECK_STR(f.detail, "certificate not trusted (issuer: CN=carrier test "
	    "CA)", "system trust store: detail");
	c.ca_file = path("ca.pem");

	o = srv_with("clientpurpose.pem");
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_TLS && strncmp(f.detail,
	    "certificate not trusted: ", 25) == 0,
	    "client-only certificate on a server refused: %s", f.detail);

	/* Several faults at once: one line, all of them. */
	c = cfg_for("example.org");
	o = srv_with("selfsigned.pem");
	f = expect_fail(&o, &c, &st);
	CHECK_STR(f.detail, "self-signed certificate; certificate is for "
	    "'localhost', '127.0.0.1', '::1', not 'example.org'",
	    "self-signed and wrong name");
}

static void
test_pins(void)
{
	struct tls_config c = cfg_for("example.org");
	struct srv o = srv_with("selfsigned.pem");
	char pin_ss[200], want[600];
	struct failure f;
	int st;

	/* The pin replaces CA trust and the name check. */
	fingerprint_of(&selfsigned, pin_ss, sizeof pin_ss, true);
	c.fingerprint = pin_ss;
	c.ca_file = NULL;
	st = greet_ok("pinned self-signed certificate", &o, &c);
	CHECK(st == 0, "pinned: child %d", st);
	CHECK(strstr(infolog.data, "TLS certificate matches the pinned "
	    "fingerprint\n") != NULL, "info: pinned");

	o = srv_with("server.pem");
	c.fingerprint = pin_server_bare;
	st = greet_ok("pin in bare lower-case form", &o, &c);
	CHECK(st == 0, "pin bare: child %d", st);

	c.fingerprint = pin_ss;	/* the server shows another certificate */
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_TLS, "wrong pin: FAIL_TLS");
	(void)snprintf(want, sizeof want, "certificate fingerprint mismatch: "
	    "expected %s, got %s", pin_ss, pin_server);
	CHECK_STR(f.detail, want, "wrong pin: detail");

	c.fingerprint = "SHA256:1234";
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_CONFIG, "bad pin syntax: FAIL_CONFIG");
	CHECK_STR(f.what, "TLS fingerprint", "bad pin: what");
	CHECK_STR(f.detail, "'SHA256:1234' is not SHA256: followed by 64 hex "
	    "digits", "bad pin: detail");
	c.no_verify = true;
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_CONFIG, "bad pin syntax with --tls-no-verify: "
	    "still FAIL_CONFIG");
	c.no_verify = false;

	/* No name, no pin: nothing to check the certificate against. */
	c = cfg_for(NULL);
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_CONFIG, "no server name: FAIL_CONFIG");
	c.fingerprint = pin_server;
	st = greet_ok("no server name but a pin", &o, &c);
	CHECK(st == 0, "no name, pin: child %d", st);
}

static void
test_no_verify(void)
{
	struct tls_config c = cfg_for("example.org");
	struct srv o = srv_with("expired.pem");
	int st;

	c.no_verify = true;
	st = greet_ok("--tls-no-verify with an expired certificate", &o, &c);
	CHECK(st == 0, "no-verify: child %d", st);
	CHECK(strstr(infolog.data, "TLS certificate NOT verified") != NULL,
	    "info: not verified");
	CHECK(strstr(infolog.data, "TLS certificate subject: CN=localhost")
	    != NULL, "info still shows the certificate");
}

static void
test_handshake_faults(void)
{
	struct tls_config c = cfg_for("localhost");
	struct srv o = srv_with("server.pem");
	struct failure f;
	struct child ch;
	int64_t t0;
	int st;

	o.mode = S_PLAINTEXT;
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_TLS, "plain text instead of ServerHello: "
	    "FAIL_TLS");
	CHECK_STR(f.what, "TLS handshake with localhost", "plain text: what");
	CHECK(strncmp(f.detail, "TLS handshake failed: ", 22) == 0 &&
	    strstr(f.detail, "(the server sent plain text: \"220 "
	    "mx.example.org ESMTP ready\")") != NULL,
	    "plain text: detail [%s]", f.detail);

	o.mode = S_CLOSE_EARLY;
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_TLS, "closed before ServerHello: FAIL_TLS");
	CHECK_STR(f.detail, "TLS handshake failed: the server closed the "
	    "connection", "closed before ServerHello: detail");

	o.mode = S_CLOSE_MID;
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_TLS, "closed after ServerHello: FAIL_TLS");
	CHECK_STR(f.detail, "TLS handshake failed: the server closed the "
	    "connection", "closed after ServerHello: detail");

	o.mode = S_STALL;
	ch = start(&o);
	t0 = ms_now();
	{
		struct tls *t = tls_start(ch.fd, &c, t0 + 300, &f);

		CHECK(t == NULL && f.class == FAIL_TEMP,
		    "silent server: FAIL_TEMP");
		tls_free(t);
	}
	CHECK(ms_now() - t0 >= 290 && ms_now() - t0 < 1500,
	    "timeout honoured (%lld ms)", (long long)(ms_now() - t0));
	CHECK_STR(f.detail, "timed out", "timeout: detail");
	CHECK_STR(f.what, "TLS handshake with localhost", "timeout: what");
	(void)finish(&ch, true);

	/* Minimum version: a TLS 1.1-only server. */
	o = srv_with("server.pem");
	o.priority = "NORMAL:-VERS-ALL:+VERS-TLS1.1";
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_TLS, "TLS 1.1 server refused by default: %s",
	    f.detail);
	c.priority = "NORMAL:+VERS-TLS1.1";
	st = greet_ok("TLS 1.1 allowed by an explicit priority", &o, &c);
	CHECK(st == 0, "TLS 1.1 with --tls-priority: child %d", st);
	CHECK(strstr(infolog.data, "TLS version: TLS1.1\n") != NULL,
	    "info: TLS1.1");
	c.priority = NULL;

	/* TLS 1.2 works under the default. */
	o.priority = "NORMAL:-VERS-ALL:+VERS-TLS1.2";
	st = greet_ok("TLS 1.2 server", &o, &c);
	CHECK(st == 0, "TLS 1.2: child %d", st);
	CHECK(strstr(infolog.data, "TLS version: TLS1.2\n") != NULL,
	    "info: TLS1.2");
}

static void
test_config_errors(void)
{
	struct tls_config c = cfg_for("localhost");
	struct srv o = srv_with("server.pem");
	char want[300];
	struct failure f;
	int st;

	c.ca_file = "/nonexistent/ca.pem";
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_CONFIG, "missing CA file: FAIL_CONFIG");
	CHECK_STR(f.what, "TLS CA file /nonexistent/ca.pem",
	    "missing CA file: what");
	CHECK_STR(f.detail, "No such file or directory",
	    "missing CA file: detail");

	c.ca_file = path("empty.pem");
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_CONFIG, "empty CA file: FAIL_CONFIG");
	CHECK_STR(f.detail, "no certificates found", "empty CA file: detail");
	c.ca_file = path("ca.pem");

	c.cert_file = "/nonexistent/client.pem";
	c.key_file = path("client-key.pem");
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_CONFIG, "missing client cert: FAIL_CONFIG");
	CHECK_STR(f.what, "TLS certificate file /nonexistent/client.pem",
	    "missing client cert: what");

	c.cert_file = path("client.pem");
	c.key_file = "/nonexistent/key.pem";
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_CONFIG, "missing client key: FAIL_CONFIG");
	CHECK_STR(f.what, "TLS key file /nonexistent/key.pem",
	    "missing client key: what");

	c.cert_file = NULL;
	c.key_file = path("client-key.pem");
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_CONFIG, "key without certificate: FAIL_CONFIG");
	CHECK_STR(f.detail, "a client key needs a client certificate "
	    "(--tls-cert)", "key without certificate: detail");

	c.cert_file = path("client.pem");
	c.key_file = path("client-key-enc.pem");
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_CONFIG, "encrypted key: FAIL_CONFIG");
	(void)snprintf(want, sizeof want, "TLS key file %s",
	    path("client-key-enc.pem"));
	CHECK_STR(f.what, want, "encrypted key: what");
	CHECK_STR(f.detail, "cannot use an encrypted private key",
	    "encrypted key: detail");

	c.cert_file = path("empty.pem");
	c.key_file = NULL;
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_CONFIG, "empty client certificate file: "
	    "FAIL_CONFIG: %s", f.detail);

	c.cert_file = path("client.pem");
	c.key_file = path("server-key.pem");
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_CONFIG, "key of another certificate: "
	    "FAIL_CONFIG: %s", f.detail);
	c.cert_file = NULL;
	c.key_file = NULL;

	c.priority = "NORMAL:+BOGUS";
	f = expect_fail(&o, &c, &st);
	CHECK(f.class == FAIL_CONFIG, "bad priority: FAIL_CONFIG");
	CHECK_STR(f.what, "TLS priority string", "bad priority: what");
	(void)snprintf(want, sizeof want, "error at character 8 ('+BOGUS') "
	    "in 'NORMAL:+BOGUS'");
	CHECK_STR(f.detail, want, "bad priority: position");
}

static void
test_client_certificate(void)
{
	struct tls_config c = cfg_for("localhost");
	struct srv o = srv_with("server.pem");
	struct failure f;
	struct child ch;
	struct tls *t;
	char line[256];
	int st;

	o.client_ca = path("clientca.pem");
	c.cert_file = path("client.pem");
	c.key_file = path("client-key.pem");
	st = greet_ok("client certificate", &o, &c);
	CHECK(st == 0, "server verified our client certificate (child %d)",
	    st);

	c.key_file = NULL;
	c.cert_file = path("client-both.pem");
	st = greet_ok("client certificate and key in one file", &o, &c);
	CHECK(st == 0, "one-file client certificate (child %d)", st);

	/* None given: TLS 1.3 finishes our side, then the alert comes. */
	c.cert_file = NULL;
	t = connect_ok(&o, &c, &ch, &f);
	if (t != NULL) {
		ssize_t r = read_line(t, ch.fd, line, sizeof line, &f);

		CHECK(r == TLS_ERROR && f.class == FAIL_TLS,
		    "no client certificate: FAIL_TLS on first read (%zd)", r);
		tls_free(t);
	} else
		CHECK(f.class == FAIL_TLS, "no client certificate: FAIL_TLS "
		    "in the handshake");
	printf("# no client certificate: %s: %s\n", f.what, f.detail);
	CHECK(strstr(f.detail, "alert") != NULL, "names the alert");
	(void)finish(&ch, true);
}

static void
test_records(void)
{
	struct tls_config c = cfg_for("localhost");
	struct srv o = srv_with("server.pem");
	struct failure f;
	struct child ch;
	struct tls *t;
	char line[256];
	ssize_t r;
	int st;

	/* close_notify after data. */
	o.mode = S_BYE;
	t = connect_ok(&o, &c, &ch, &f);
	CHECK(t != NULL, "bye: handshake");
	if (t != NULL) {
		r = read_line(t, ch.fd, line, sizeof line, &f);
		CHECK(r > 0 && strcmp(line, "221 bye\r\n") == 0, "bye: data");
		r = read_line(t, ch.fd, line, sizeof line, &f);
		CHECK(r == 0, "close_notify: tls_read returns 0 (%zd)", r);
		tls_close(t, ms_now() + 2000);
	}
	st = finish(&ch, false);
	CHECK(st == 0, "bye: child %d", st);

	/* Truncation: data, then FIN without close_notify. */
	o.mode = S_TRUNCATE;
	t = connect_ok(&o, &c, &ch, &f);
	if (t != NULL) {
		r = read_line(t, ch.fd, line, sizeof line, &f);
		CHECK(r > 0 && strcmp(line, "250 ok\r\n") == 0,
		    "truncation: data first");
		r = read_line(t, ch.fd, line, sizeof line, &f);
		CHECK(r == TLS_ERROR && f.class == FAIL_IOERR,
		    "truncation: FAIL_IOERR");
		CHECK_STR(f.detail, "connection closed without TLS "
		    "close_notify", "truncation: detail");
		CHECK_STR(f.what, "TLS connection to localhost",
		    "truncation: what");
		tls_free(t);
	}
	(void)finish(&ch, true);

	/* RST over TCP. */
	o.mode = S_RESET;
	o.tcp = true;
	t = connect_ok(&o, &c, &ch, &f);
	if (t != NULL) {
		do
			r = read_line(t, ch.fd, line, sizeof line, &f);
		while (r > 0);
		CHECK(r == TLS_ERROR && f.class == FAIL_IOERR,
		    "reset: FAIL_IOERR: %s", f.detail);
		tls_free(t);
	}
	(void)finish(&ch, true);
	o.tcp = false;

	o.mode = S_ALERT;
	t = connect_ok(&o, &c, &ch, &f);
	if (t != NULL) {
		r = read_line(t, ch.fd, line, sizeof line, &f);
		CHECK(r == TLS_ERROR && f.class == FAIL_TLS,
		    "fatal alert: FAIL_TLS");
		CHECK_STR(f.detail, "the server sent TLS alert 'Internal "
		    "error'", "fatal alert: detail");
		tls_free(t);
	}
	(void)finish(&ch, true);

	o.mode = S_GARBAGE;
	t = connect_ok(&o, &c, &ch, &f);
	if (t != NULL) {
		r = read_line(t, ch.fd, line, sizeof line, &f);
		CHECK(r == TLS_ERROR && f.class == FAIL_TLS,
		    "garbage record: FAIL_TLS: %s", f.detail);
		tls_free(t);
	}
	(void)finish(&ch, true);

	/* KeyUpdate (update_requested) and NewSessionTickets. */
	o.mode = S_KEYUPDATE;
	t = connect_ok(&o, &c, &ch, &f);
	if (t != NULL) {
		int blocked = 0;

		r = read_line(t, ch.fd, line, sizeof line, &f);
		CHECK(r > 0 && strcmp(line, "250 after key update\r\n") == 0,
		    "key update: data after it");
		CHECK(tls_test_write_all(t, ch.fd, "ping\r\n", 6, &f, &blocked) == 0,
		    "key update: our write after it");
		r = read_line(t, ch.fd, line, sizeof line, &f);
		CHECK(r > 0 && strcmp(line, "250 pong\r\n") == 0,
		    "key update: server read us with the new keys");
		tls_close(t, ms_now() + 2000);
	}
	st = finish(&ch, false);
	CHECK(st == 0, "key update: child %d", st);

	/* TLS 1.2 HelloRequest is ignored. */
	o.mode = S_REHANDSHAKE;
	o.priority = "NORMAL:-VERS-ALL:+VERS-TLS1.2";
	t = connect_ok(&o, &c, &ch, &f);
	if (t != NULL) {
		int blocked = 0;

		r = read_line(t, ch.fd, line, sizeof line, &f);
		CHECK(r > 0 && strcmp(line, "250 still here\r\n") == 0,
		    "renegotiation request ignored, data read");
		CHECK(tls_test_write_all(t, ch.fd, "ping\r\n", 6, &f, &blocked) == 0,
		    "write after HelloRequest");
		r = read_line(t, ch.fd, line, sizeof line, &f);
		CHECK(r > 0 && strcmp(line, "250 pong\r\n") == 0,
		    "no renegotiation happened, session goes on");
		tls_close(t, ms_now() + 2000);
	}
	st = finish(&ch, false);
	CHECK(st == 0, "rehandshake: child %d", st);
	o.priority = NULL;

	/* A big write against a slow reader: partial writes and blocks. */
	{
		size_t n = 3 * 1024 * 1024, i;
		char *data = xmalloc(n), want[64];
		uint32_t h = 2166136261u;
		int blocked = 0;

		for (i = 0; i < n; i++)
			data[i] = (char)(i * 7 + i / 1000);
		h = fnv(h, (unsigned char *)data, n);
		o.mode = S_SINK;
		o.sink_len = n;
		t = connect_ok(&o, &c, &ch, &f);
		if (t != NULL) {
			CHECK(tls_test_write_all(t, ch.fd, data, n, &f, &blocked) == 0,
			    "3 MiB written");
			CHECK(blocked > 0, "writes blocked %d times", blocked);
			r = read_line(t, ch.fd, line, sizeof line, &f);
			(void)snprintf(want, sizeof want, "250 %zu %08x\r\n",
			    n, h);
			CHECK_STR(line, want, "server got every byte once, "
			    "in order");
			tls_close(t, ms_now() + 2000);
		}
		st = finish(&ch, false);
		CHECK(st == 0, "sink: child %d", st);
		free(data);
	}

	/* Writing to a closed peer: FAIL_IOERR, and no SIGPIPE. */
	signal(SIGPIPE, SIG_DFL);
	o.mode = S_CLOSE;
	t = connect_ok(&o, &c, &ch, &f);
	if (t != NULL) {
		char block[4096] = { 0 };
		int i, blocked = 0, rc = 0;

		(void)waitpid(ch.pid, NULL, 0);	/* it has closed */
		ch.pid = -1;
		for (i = 0; i < 100 && rc == 0; i++)
			rc = tls_test_write_all(t, ch.fd, block, sizeof block, &f,
			    &blocked);
		CHECK(rc == -1 && f.class == FAIL_IOERR,
		    "write to closed peer: FAIL_IOERR, alive");
		printf("# closed peer: %s: %s\n", f.what, f.detail);
		tls_close(t, ms_now() + 500);	/* must not raise SIGPIPE */
	}
	(void)close(ch.fd);
}

/*
 * The certificates the bats tests use (tests/lib/mkcerts, certtool) give
 * the same messages.  Skipped when the script or certtool is missing, or
 * when not run from the top of the source tree.
 */
static void
test_mkcerts(void)
{
	char mk[128], cmd[512], f1[160], f2[160], ca_pem[160], pin[200];
	struct tls_config c;
	struct failure f;
	struct srv o;
	FILE *fp;
	int st;

	if (access("tests/lib/mkcerts", R_OK) != 0 ||
	    system("command -v certtool >/dev/null 2>&1") != 0) {
		printf("# skip: tests/lib/mkcerts or certtool not found\n");
		return;
	}
	(void)snprintf(mk, sizeof mk, "%s/mk", dir);
	(void)snprintf(cmd, sizeof cmd, "sh tests/lib/mkcerts %s "
	    ">/dev/null 2>&1", mk);
	CHECK(system(cmd) == 0, "mkcerts ran");
	(void)snprintf(ca_pem, sizeof ca_pem, "%s/ca.pem", mk);

#define MK(name) (snprintf(f1, sizeof f1, "%s/%s.pem", mk, name), \
	snprintf(f2, sizeof f2, "%s/%s-key.pem", mk, name), \
	o = srv_with("server.pem"), o.cert = f1, o.key = f2)

	c = cfg_for("localhost");
	c.ca_file = ca_pem;
	MK("server");
	st = greet_ok("mkcerts server.pem", &o, &c);
	CHECK(st == 0, "mkcerts server: child %d", st);
	c.servername = "127.0.0.1";
	st = greet_ok("mkcerts server.pem as 127.0.0.1", &o, &c);
	CHECK(st == 0, "mkcerts 127.0.0.1: child %d", st);
	c.servername = "::1";
	st = greet_ok("mkcerts server.pem as ::1", &o, &c);
	CHECK(st == 0, "mkcerts ::1: child %d", st);
	c.servername = "localhost";

	(void)snprintf(cmd, sizeof cmd, "%s/server.sha256", mk);
	pin[0] = '\0';
	if ((fp = fopen(cmd, "r")) != NULL) {
		if (fgets(pin, sizeof pin, fp) == NULL)
			pin[0] = '\0';
		pin[strcspn(pin, "\n")] = '\0';
		fclose(fp);
	}
	c.fingerprint = pin;
	c.ca_file = NULL;
	c.servername = "example.org";
	st = greet_ok("mkcerts server.sha256 pin", &o, &c);
	CHECK(st == 0, "mkcerts pin: child %d", st);
	c.fingerprint = NULL;
	c.ca_file = ca_pem;
	c.servername = "localhost";

	MK("expired");
	f = expect_fail(&o, &c, &st);
	CHECK_STR(f.detail, "certificate expired on 2002-01-01 00:00 UTC",
	    "mkcerts expired.pem");
	MK("notyet");
	f = expect_fail(&o, &c, &st);
	CHECK_STR(f.detail, "certificate not valid before 2090-01-01 00:00 "
	    "UTC", "mkcerts notyet.pem");
	MK("wrongname");
	f = expect_fail(&o, &c, &st);
	CHECK_STR(f.detail, "certificate is for 'wrong.test', not "
	    "'localhost'", "mkcerts wrongname.pem");
	MK("selfsigned");
	f = expect_fail(&o, &c, &st);
	CHECK_STR(f.detail, "self-signed certificate", "mkcerts "
	    "selfsigned.pem");
	MK("server");
	c.ca_file = NULL;
	f = expect_fail(&o, &c, &st);
	CHECK_STR(f.detail, "certificate not trusted (issuer: CN=carrier "
	    "test CA)", "mkcerts server.pem without --tls-ca");
	c.ca_file = ca_pem;

	{
		char cca[160], ccert[160], ckey[160];

		MK("server");
		(void)snprintf(cca, sizeof cca, "%s/client-ca.pem", mk);
		(void)snprintf(ccert, sizeof ccert, "%s/client.pem", mk);
		(void)snprintf(ckey, sizeof ckey, "%s/client-key.pem", mk);
		o.client_ca = cca;
		c.cert_file = ccert;
		c.key_file = ckey;
		st = greet_ok("mkcerts client certificate", &o, &c);
		CHECK(st == 0, "mkcerts client certificate accepted (child %d)",
		    st);
	}
#undef MK
	(void)snprintf(cmd, sizeof cmd, "rm -rf %s", mk);
	(void)system(cmd);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	buf_init(&infolog);
	buf_adds(&infolog, "");
	make_certs();
	CHECK(strncmp(tls_library_version(), "3.", 2) == 0,
	    "library version %s", tls_library_version());
	test_fingerprint_parser();
	test_valid();
	test_ip_literals();
	test_bad_certificates();
	test_pins();
	test_no_verify();
	test_handshake_faults();
	test_config_errors();
	test_client_certificate();
	test_records();
	test_mkcerts();
	free_certs();
	buf_free(&infolog);
	return check_done();
}
