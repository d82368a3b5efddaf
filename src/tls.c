/*
 * tls.c: a GnuTLS client session over a connected, non-blocking socket.
 *
 * Verification happens inside the handshake, in the certificate
 * credentials' verify callback: it runs as soon as the server's
 * Certificate message has arrived, before the client sends its own
 * certificate or Finished; a refusal fails the handshake and tls_start
 * sends the server a bad_certificate alert.  The callback leaves the
 * one-line reason in the session so tls_start can report it.  tls_start
 * also checks afterwards that the callback really ran, so no handshake
 * path (resumption, PSK) can skip verification.
 *
 * All waiting is poll() on the caller's deadline; GnuTLS's own timeouts
 * are off.  Our push function sends with MSG_NOSIGNAL, so a peer that has
 * gone gives EPIPE, never SIGPIPE.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "address.h"
#include "tls.h"
#include "util.h"

/*
 * The minimum protocol under the default priority (RFC 8314 4.1 and 5:
 * TLS 1.2 or later).  We append to the default priority with
 * gnutls_set_default_priority_append rather than spelling out
 * "NORMAL:-VERS-...": that keeps whatever the system-wide GnuTLS policy
 * (/etc/gnutls/config, crypto-policies) says, which may be stricter than
 * NORMAL, and only takes away the old versions NORMAL still enables in
 * 3.7 (TLS 1.0 and 1.1).  An explicit --tls-priority is used exactly as
 * given: whoever writes one has decided.
 */
#define MIN_VERSION_APPEND "-VERS-TLS1.1:-VERS-TLS1.0:-VERS-SSL3.0"

#define PIN_LEN 32

struct tls {
	gnutls_session_t s;
	gnutls_certificate_credentials_t cred;
	int fd;
	bool want_write;	/* the last E_AGAIN was for the write side */
	bool write_pending;	/* a record is buffered inside GnuTLS */
	int last_errno;		/* from the push/pull functions */
	bool peer_eof;		/* recv() returned 0 */
	int64_t deadline;	/* bounds the pull_timeout function */

	/* Only during tls_start. */
	const struct tls_config *cfg;
	bool handshaking;
	unsigned char head[80];	/* first bytes from the server, to spot */
	size_t headlen;		/* a plain-text answer */

	/* Verification. */
	char host[256];		/* servername without brackets/final dot */
	char what_host[300];	/* for messages */
	bool host_is_ip;
	bool have_pin;
	unsigned char pin[PIN_LEN];
	int system_trust;	/* certificates in the system store, or -1 */
	bool checked;		/* the verify callback ran and accepted */
	struct buf certinfo;	/* -v lines about the certificate, each
				   ending in NUL, kept until the session
				   lines can be shown first */
	bool verify_failed;
	char verify_detail[sizeof ((struct failure *)0)->detail];
};

/* ---- time ---- */

/* Milliseconds until the deadline, clamped to [0, INT_MAX]. */
static int
remaining_ms(int64_t deadline)
{
	int64_t left = deadline - monotonic_ms();

	if (left < 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* ---- transport ---- */

static ssize_t
push_fn(gnutls_transport_ptr_t p, const void *data, size_t len)
{
	struct tls *t = p;
	ssize_t r;

	/* MSG_NOSIGNAL: a peer that closed must give EPIPE, not SIGPIPE. */
	do
		r = send(t->fd, data, len, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		t->last_errno = errno;
		gnutls_transport_set_errno(t->s, errno);
	}
	return r;
}

static ssize_t
pull_fn(gnutls_transport_ptr_t p, void *data, size_t len)
{
	struct tls *t = p;
	ssize_t r;

	do
		r = recv(t->fd, data, len, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		t->last_errno = errno;
		gnutls_transport_set_errno(t->s, errno);
	} else if (r == 0) {
		t->peer_eof = true;
	} else if (t->handshaking && t->headlen < sizeof t->head) {
		size_t k = sizeof t->head - t->headlen;

		if (k > (size_t)r)
			k = (size_t)r;
		memcpy(t->head + t->headlen, data, k);
		t->headlen += k;
	}
	return r;
}

/*
 * GnuTLS calls this only when a GnuTLS-side timeout is set (we set none:
 * the handshake timeout is 0 and no record timeout), but a custom pull
 * function must come with one, or GnuTLS would use its own on our
 * pointer.  Never waits past the deadline.
 */
static int
pull_timeout_fn(gnutls_transport_ptr_t p, unsigned int ms)
{
	struct tls *t = p;
	struct pollfd pfd = { .fd = t->fd, .events = POLLIN };
	int wait = remaining_ms(t->deadline);
	int r;

	if (ms != GNUTLS_INDEFINITE_TIMEOUT && ms < (unsigned)wait)
		wait = (int)ms;
	r = poll(&pfd, 1, wait);
	if (r < 0) {
		t->last_errno = errno;
		gnutls_transport_set_errno(t->s, errno);
		return -1;
	}
	return r;
}

/* Wait for the direction GnuTLS asked for.  1 ready, 0 timeout, -1 error. */
static int
wait_for(struct tls *t, int64_t deadline)
{
	struct pollfd pfd;
	int r;

	pfd.fd = t->fd;
	pfd.events = gnutls_record_get_direction(t->s) ? POLLOUT : POLLIN;
	for (;;) {
		int ms = remaining_ms(deadline);

		if (ms == 0)
			return 0;
		pfd.revents = 0;
		r = poll(&pfd, 1, ms);
		if (r < 0 && errno == EINTR)
			continue;
		/* POLLERR/POLLHUP count as ready: the next call reports it. */
		return r;
	}
}

/* ---- small helpers ---- */

static void
set_what(char *what, size_t n, const char *prefix, const struct tls *t)
{
	int k = snprintf(what, n, "%s %s", prefix, t->what_host);

	if (k < 0 || (size_t)k >= n)	/* a very long name: cut short */
		what[n - 1] = '\0';
}

static void
fmt_time(time_t when, char *out, size_t n)
{
	struct tm tm;

	if (when == (time_t)-1 || gmtime_r(&when, &tm) == NULL ||
	    strftime(out, n, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		(void)snprintf(out, n, "(unknown date)");
}

static void
fmt_fingerprint(const unsigned char fp[PIN_LEN], char *out, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o;
	int i;

	if (n < sizeof "SHA256:" + PIN_LEN * 3)
		abort();
	memcpy(out, "SHA256:", 7);
	o = 7;
	for (i = 0; i < PIN_LEN; i++) {
		if (i > 0)
			out[o++] = ':';
		out[o++] = hex[fp[i] >> 4];
		out[o++] = hex[fp[i] & 15];
	}
	out[o] = '\0';
}

int
tls_parse_fingerprint(const char *s, unsigned char out[32])
{
	static const char prefix[] = "sha256:";
	unsigned char tmp[PIN_LEN];
	size_t i, len;
	bool colons;

	if (s == NULL)
		return -1;
	for (i = 0; i < sizeof prefix - 1; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != prefix[i])
			return -1;
	}
	s += sizeof prefix - 1;
	len = strlen(s);
	/* Either 64 bare hex digits or 32 pairs joined by 31 colons. */
	if (len == PIN_LEN * 2)
		colons = false;
	else if (len == PIN_LEN * 3 - 1)
		colons = true;
	else
		return -1;
	for (i = 0; i < PIN_LEN; i++) {
		int hi = hex_value(s[0]), lo = hex_value(s[1]);

		if (hi < 0 || lo < 0)
			return -1;
		tmp[i] = (unsigned char)(hi << 4 | lo);
		s += 2;
		if (colons && i + 1 < PIN_LEN) {
			if (*s != ':')
				return -1;
			s++;
		}
	}
	if (*s != '\0')
		return -1;
	memcpy(out, tmp, sizeof tmp);
	return 0;
}

const char *
tls_channel_binding(struct tls *t, struct buf *out)
{
	bool tls13 = gnutls_protocol_get_version(t->s) == GNUTLS_TLS1_3;
	gnutls_channel_binding_t type = tls13 ? GNUTLS_CB_TLS_EXPORTER :
	    GNUTLS_CB_TLS_UNIQUE;
	gnutls_datum_t cb = { NULL, 0 };

	buf_reset(out);
	if (gnutls_session_channel_binding(t->s, type, &cb) < 0 ||
	    cb.size == 0) {
		gnutls_free(cb.data);
		return NULL;
	}
	buf_add(out, cb.data, cb.size);
	gnutls_free(cb.data);
	return tls13 ? "tls-exporter" : "tls-unique";
}

const char *
tls_library_version(void)
{
	return gnutls_check_version(NULL);
}

/*
 * The server name as given may be "[::1]", "::1", "127.0.0.1",
 * "mx.example.org." or "mx.example.org".  Keep the bare form for SNI and
 * the name check; note whether it is an IP literal (then no SNI, RFC 6066
 * 3, and GnuTLS matches it against iPAddress SANs).
 */
static void
set_host(struct tls *t, const char *name)
{
	unsigned char addr[16];
	size_t len;

	if (name == NULL || *name == '\0') {
		t->host[0] = '\0';
		(void)snprintf(t->what_host, sizeof t->what_host, "the server");
		return;
	}
	(void)snprintf(t->what_host, sizeof t->what_host, "%s", name);
	len = strlen(name);
	if (name[0] == '[' && len >= 2 && name[len - 1] == ']') {
		name++;
		len -= 2;
	}
	if (len >= sizeof t->host)
		len = sizeof t->host - 1;
	memcpy(t->host, name, len);
	t->host[len] = '\0';
	if (inet_pton(AF_INET, t->host, addr) == 1 ||
	    inet_pton(AF_INET6, t->host, addr) == 1) {
		t->host_is_ip = true;
	} else if (strchr(t->host, ':') != NULL) {
		/* fe80::1%eth0 and the like: an address, never a DNS name. */
		char *pct = strchr(t->host, '%');

		if (pct != NULL)
			*pct = '\0';
		t->host_is_ip = true;
	} else if (len > 1 && t->host[len - 1] == '.') {
		t->host[len - 1] = '\0';	/* SNI takes no final dot */
	}
	if (!t->host_is_ip && !address_is_ascii(t->host)) {
		/* SNI and the certificate carry the A-labels (RFC 6066 3,
		   RFC 6125 6.4.2); a name with none is left to fail the
		   check. */
		char why[128], *ace = address_idna_name(t->host, why,
		    sizeof why);
		if (ace != NULL && strlen(ace) < sizeof t->host)
			memcpy(t->host, ace, strlen(ace) + 1);
		free(ace);
	}
}

static void
info_line(struct tls *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
info_line(struct tls *t, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (t->cfg == NULL || t->cfg->info == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	t->cfg->info(t->cfg->info_ctx, line);
}

/* Return a DN in RFC 4514 form (caller frees), or a placeholder copy. */
static char *
crt_dn(gnutls_x509_crt_t crt, bool issuer)
{
	gnutls_datum_t d = { NULL, 0 };
	int r;
	char *s;

	r = issuer ? gnutls_x509_crt_get_issuer_dn3(crt, &d, 0) :
	    gnutls_x509_crt_get_dn3(crt, &d, 0);
	if (r < 0 || d.data == NULL) {
		gnutls_free(d.data);
		return xstrdup(r == GNUTLS_E_ASN1_ELEMENT_NOT_FOUND ?
		    "(empty)" : "(unreadable)");
	}
	s = xstrndup((const char *)d.data, d.size);
	gnutls_free(d.data);
	return s;
}

/* "TLS certificate LABEL: VALUE" and a NUL, onto b. */
static void
certinfo_add(struct buf *b, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
certinfo_add(struct buf *b, const char *label, const char *fmt, ...)
{
	char value[1024];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(value, sizeof value, fmt, ap);
	va_end(ap);
	buf_addf(b, "TLS certificate %s: %s", label, value);
	buf_addc(b, '\0');
}

/*
 * The certificate's lines, made in the verify callback (the only time
 * the decision and the certificate meet) and shown by info_flush: after
 * the session lines on success, alone when the certificate is refused.
 * The cipher suite and session description are not known yet there.
 */
static void
info_certificate(struct tls *t, gnutls_x509_crt_t leaf,
    const unsigned char fp[PIN_LEN])
{
	char *subject, *issuer;
	char from[40], until[40], fps[sizeof "SHA256:" + PIN_LEN * 3];

	if (t->cfg == NULL || t->cfg->info == NULL)
		return;
	subject = crt_dn(leaf, false);
	issuer = crt_dn(leaf, true);
	fmt_time(gnutls_x509_crt_get_activation_time(leaf), from, sizeof from);
	fmt_time(gnutls_x509_crt_get_expiration_time(leaf), until,
	    sizeof until);
	fmt_fingerprint(fp, fps, sizeof fps);
	/* One NUL-terminated line each: the names are the peer's bytes (an
	   LF in a CN is no line end), escaped once, when shown. */
	buf_reset(&t->certinfo);
	certinfo_add(&t->certinfo, "subject", "%s", subject);
	certinfo_add(&t->certinfo, "issuer", "%s", issuer);
	certinfo_add(&t->certinfo, "not before", "%s", from);
	certinfo_add(&t->certinfo, "not after", "%s", until);
	certinfo_add(&t->certinfo, "fingerprint", "%s", fps);
	free(subject);
	free(issuer);
}

/* Show the session lines (when complete) and then the certificate's. */
static void
info_flush(struct tls *t, bool complete)
{
	const char *p;

	if (t->cfg == NULL || t->cfg->info == NULL)
		return;
	if (t->certinfo.len == 0 && !complete)
		return;
	info_line(t, "TLS version: %s",
	    gnutls_protocol_get_name(gnutls_protocol_get_version(t->s)));
	if (complete) {
		const char *suite = gnutls_ciphersuite_get(t->s);
		char *desc = gnutls_session_get_desc(t->s);

		info_line(t, "TLS cipher suite: %s",
		    suite ? suite : "(unknown)");
		if (desc != NULL) {
			info_line(t, "TLS session: %s", desc);
			gnutls_free(desc);
		}
	}
	for (p = t->certinfo.data; p != NULL && p < t->certinfo.data +
	    t->certinfo.len; p += strlen(p) + 1)
		info_line(t, "%s", p);
	buf_reset(&t->certinfo);
}

/* ---- verification messages ---- */

/* "'a', 'b', '192.0.2.1'" from the SANs, or the CN when there are none. */
static void
add_names(struct buf *b, gnutls_x509_crt_t crt)
{
	enum { MAX_NAMES = 8 };
	unsigned i, shown = 0, more = 0;

	for (i = 0;; i++) {
		char name[512], ip[INET6_ADDRSTRLEN];
		size_t size = sizeof name - 1;
		int type = gnutls_x509_crt_get_subject_alt_name(crt, i, name,
		    &size, NULL);
		const char *show = NULL;

		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type == GNUTLS_E_SHORT_MEMORY_BUFFER) {
			more++;
			continue;
		}
		if (type < 0)
			break;
		if (type == GNUTLS_SAN_DNSNAME) {
			name[size] = '\0';
			show = name;
		} else if (type == GNUTLS_SAN_IPADDRESS && (size == 4 ||
		    size == 16)) {
			if (inet_ntop(size == 4 ? AF_INET : AF_INET6, name, ip,
			    sizeof ip) != NULL)
				show = ip;
		}
		if (show == NULL)
			continue;
		if (shown == MAX_NAMES) {
			more++;
			continue;
		}
		buf_addf(b, "%s'%s'", shown ? ", " : "", show);
		shown++;
	}
	if (shown == 0) {
		char cn[512];
		size_t size = sizeof cn;

		if (gnutls_x509_crt_get_dn_by_oid(crt,
		    GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &size) == 0) {
			buf_addf(b, "'%s'", cn);
			shown++;
		} else
			buf_adds(b, "no host name");
	}
	if (more)
		buf_addf(b, " and %u more", more);
}

/* The first certificate of the chain for which `bad` holds, or -1. */
static int
find_in_chain(gnutls_x509_crt_t *chain, unsigned n, bool expired)
{
	time_t now = time(NULL);
	unsigned i;

	for (i = 0; i < n; i++) {
		if (expired &&
		    gnutls_x509_crt_get_expiration_time(chain[i]) < now)
			return (int)i;
		if (!expired &&
		    gnutls_x509_crt_get_activation_time(chain[i]) > now)
			return (int)i;
	}
	return -1;
}

static void
add_sep(struct buf *b)
{
	if (b->len > 0)
		buf_adds(b, "; ");
}

/* No trusted signer: self-signed, or whose issuer is unknown. */
static void
describe_signer(const struct tls *t, gnutls_x509_crt_t *chain, unsigned n,
    struct buf *b)
{
	if (n == 1 && gnutls_x509_crt_check_issuer(chain[0], chain[0]) == 1)
		buf_adds(b, "self-signed certificate");
	else {
		char *issuer = crt_dn(chain[n - 1], true);
		buf_addf(b, "certificate not trusted (issuer: %s)", issuer);
		free(issuer);
	}
	if (t->system_trust == 0 && t->cfg->ca_file == NULL)
		buf_adds(b, " (the system trust store is empty)");
}

/* A certificate of the chain that has expired (`expired`) or is not
   valid yet, named with its date. */
static void
describe_validity(gnutls_x509_crt_t *chain, unsigned n, bool expired,
    struct buf *b)
{
	int i = find_in_chain(chain, n, expired);
	char when[40];

	add_sep(b);
	if (i < 0) {
		buf_adds(b, expired ? "a certificate in the chain has expired" :
		    "a certificate in the chain is not valid yet");
		return;
	}
	fmt_time(expired ? gnutls_x509_crt_get_expiration_time(chain[i]) :
	    gnutls_x509_crt_get_activation_time(chain[i]), when, sizeof when);
	if (i == 0) {
		buf_addf(b, expired ? "certificate expired on %s" :
		    "certificate not valid before %s", when);
		return;
	}
	char *dn = crt_dn(chain[i], false);
	buf_addf(b, expired ? "issuing certificate %s expired on %s" :
	    "issuing certificate %s not valid before %s", dn, when);
	free(dn);
}

/* The status bits not described above, in GnuTLS's words. */
static void
describe_rest(unsigned status, unsigned rest, struct buf *b)
{
	static const char nt[] = "The certificate is NOT trusted. ";
	gnutls_datum_t out = { NULL, 0 };

	add_sep(b);
	if (gnutls_certificate_verification_status_print(rest |
	    GNUTLS_CERT_INVALID, GNUTLS_CRT_X509, &out, 0) == 0 &&
	    out.data != NULL) {
		const char *txt = (const char *)out.data;
		size_t len = out.size;
		if (len > sizeof nt - 1 && memcmp(txt, nt, sizeof nt - 1) == 0) {
			txt += sizeof nt - 1;
			len -= sizeof nt - 1;
		}
		while (len > 0 && txt[len - 1] == ' ')
			len--;
		buf_adds(b, "certificate not trusted: ");
		buf_add(b, txt, len);
	} else
		buf_addf(b, "certificate not trusted (status 0x%x)", status);
	gnutls_free(out.data);
}

/* Why verification failed, one line, into t->verify_detail. */
static void
describe_status(struct tls *t, unsigned status, gnutls_x509_crt_t *chain,
    unsigned n)
{
	unsigned handled = GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_NOT_FOUND |
	    GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED |
	    GNUTLS_CERT_UNEXPECTED_OWNER;
	struct buf b;

	buf_init(&b);
	if (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
		describe_signer(t, chain, n, &b);
	if (status & GNUTLS_CERT_EXPIRED)
		describe_validity(chain, n, true, &b);
	if (status & GNUTLS_CERT_NOT_ACTIVATED)
		describe_validity(chain, n, false, &b);
	if (status & GNUTLS_CERT_UNEXPECTED_OWNER) {
		add_sep(&b);
		buf_adds(&b, "certificate is for ");
		add_names(&b, chain[0]);
		buf_addf(&b, ", not '%s'", t->host);
	}
	if ((status & ~handled) != 0 || b.len == 0)
		describe_rest(status, status & ~handled, &b);
	(void)snprintf(t->verify_detail, sizeof t->verify_detail, "%s",
	    b.data);
	buf_free(&b);
}

static int
refuse(struct tls *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
refuse(struct tls *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(t->verify_detail, sizeof t->verify_detail, fmt, ap);
	va_end(ap);
	t->verify_failed = true;
	return -1;
}

/*
 * The verify callback: show the certificate for -v, then decide.
 * A pin replaces CA trust, the name check and the dates: it names the
 * one certificate to accept (msmtp's tls_fingerprint does the same).
 */
static int
verify_cb(gnutls_session_t s)
{
	struct tls *t = gnutls_session_get_ptr(s);
	const gnutls_datum_t *der;
	unsigned n = 0, i, status = 0;
	gnutls_x509_crt_t *chain;
	unsigned char fp[PIN_LEN];
	int r, rc = 0;

	if (gnutls_certificate_type_get(s) != GNUTLS_CRT_X509)
		return refuse(t, "the server's certificate is not X.509");
	der = gnutls_certificate_get_peers(s, &n);
	if (der == NULL || n == 0)
		return refuse(t, "the server sent no certificate");
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der[0].data, der[0].size,
	    fp) < 0)
		return refuse(t, "cannot compute the certificate fingerprint");

	chain = xcalloc(n, sizeof *chain);
	for (i = 0; i < n; i++) {
		if (gnutls_x509_crt_init(&chain[i]) < 0 ||
		    gnutls_x509_crt_import(chain[i], &der[i],
		    GNUTLS_X509_FMT_DER) < 0) {
			if (chain[i] != NULL)
				gnutls_x509_crt_deinit(chain[i]);
			chain[i] = NULL;
			n = i;
			if (i == 0)
				rc = refuse(t, "cannot parse the server's "
				    "certificate");
			break;
		}
	}
	if (rc < 0)
		goto out;

	info_certificate(t, chain[0], fp);

	if (t->cfg->no_verify) {
		t->checked = true;
		goto out;
	}
	if (t->have_pin) {
		/* gnutls_memcmp: time independent of where they differ. */
		if (gnutls_memcmp(fp, t->pin, PIN_LEN) != 0) {
			char want[sizeof "SHA256:" + PIN_LEN * 3];
			char got[sizeof want];

			fmt_fingerprint(t->pin, want, sizeof want);
			fmt_fingerprint(fp, got, sizeof got);
			rc = refuse(t, "certificate fingerprint mismatch: "
			    "expected %s, got %s", want, got);
		} else
			t->checked = true;
		goto out;
	}

	{
		/* t->host is never empty here (tls_start refuses that).
		   Given an IP literal, GnuTLS 3.7 matches it against the
		   iPAddress SANs; tests/unit/test_tls.c checks this for
		   IPv4 and IPv6.  The purpose check refuses a certificate
		   whose extended key usage excludes TLS server auth. */
		gnutls_typed_vdata_st data[2] = {
			{ GNUTLS_DT_DNS_HOSTNAME, (unsigned char *)t->host, 0 },
			{ GNUTLS_DT_KEY_PURPOSE_OID,
			  (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER, 0 },
		};

		r = gnutls_certificate_verify_peers(s, data, 2, &status);
	}
	if (r < 0) {
		rc = refuse(t, "certificate verification failed: %s",
		    gnutls_strerror(r));
		goto out;
	}
	if (status != 0) {
		describe_status(t, status, chain, n);
		t->verify_failed = true;
		rc = -1;
		goto out;
	}
	t->checked = true;
out:
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(chain[i]);
	free(chain);
	return rc;
}

/* ---- setup ---- */

static int
global_init(struct failure *f)
{
	static bool done;
	int r;

	/* Implicit in 3.7 through a library constructor, but that can be
	   disabled (GNUTLS_NO_IMPLICIT_INIT); the call is reference-counted
	   and cheap.  Never deinitialised: the process ends instead. */
	if (done)
		return 0;
	r = gnutls_global_init();
	if (r < 0)
		return fail(f, FAIL_INTERNAL, 0, "GnuTLS initialisation", "%s",
		    gnutls_strerror(r));
	done = true;
	return 0;
}

static int
check_readable(const char *kind, const char *file, struct failure *f)
{
	char what[300];
	int fd;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		(void)snprintf(what, sizeof what, "%s %s", kind, file);
		return fail(f, FAIL_CONFIG, 0, what, "%s", strerror(errno));
	}
	(void)close(fd);
	return 0;
}

static int
load_credentials(struct tls *t, const struct tls_config *cfg,
    struct failure *f)
{
	char what[300];
	int r;

	r = gnutls_certificate_allocate_credentials(&t->cred);
	if (r < 0)
		return fail(f, FAIL_INTERNAL, 0, "TLS credentials", "%s",
		    gnutls_strerror(r));
	t->system_trust = -1;
	if (cfg->ca_file != NULL) {
		if (check_readable("TLS CA file", cfg->ca_file, f) < 0)
			return -1;
		r = gnutls_certificate_set_x509_trust_file(t->cred,
		    cfg->ca_file, GNUTLS_X509_FMT_PEM);
		if (r <= 0) {
			/* Not PEM: perhaps one DER certificate. */
			int der = gnutls_certificate_set_x509_trust_file(
			    t->cred, cfg->ca_file, GNUTLS_X509_FMT_DER);

			if (der > 0 || r == 0 ||
			    r == GNUTLS_E_BASE64_DECODING_ERROR)
				r = der > 0 ? der : 0;
		}
		if (r <= 0) {
			(void)snprintf(what, sizeof what, "TLS CA file %s",
			    cfg->ca_file);
			return fail(f, FAIL_CONFIG, 0, what, "%s",
			    r == 0 ? "no certificates found" :
			    gnutls_strerror(r));
		}
	} else if (!cfg->no_verify && cfg->fingerprint == NULL) {
		r = gnutls_certificate_set_x509_system_trust(t->cred);
		t->system_trust = r < 0 ? 0 : r;
	}

	if (cfg->cert_file != NULL || cfg->key_file != NULL) {
		const char *cert = cfg->cert_file, *key = cfg->key_file;

		if (cert == NULL) {
			(void)snprintf(what, sizeof what, "TLS key file %s",
			    key);
			return fail(f, FAIL_CONFIG, 0, what,
			    "a client key needs a client certificate "
			    "(--tls-cert)");
		}
		if (key == NULL)
			key = cert;	/* both in one PEM file */
		if (check_readable("TLS certificate file", cert, f) < 0 ||
		    check_readable("TLS key file", key, f) < 0)
			return -1;
		r = gnutls_certificate_set_x509_key_file2(t->cred, cert, key,
		    GNUTLS_X509_FMT_PEM, NULL, 0);
		if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE ||
		    r == GNUTLS_E_BASE64_DECODING_ERROR ||
		    r == GNUTLS_E_BASE64_UNEXPECTED_HEADER_ERROR) {
			/* No PEM in there: perhaps DER. */
			int der = gnutls_certificate_set_x509_key_file2(
			    t->cred, cert, key, GNUTLS_X509_FMT_DER, NULL, 0);

			if (der >= 0)
				r = der;
		}
		if (r == GNUTLS_E_DECRYPTION_FAILED) {
			(void)snprintf(what, sizeof what, "TLS key file %s",
			    key);
			return fail(f, FAIL_CONFIG, 0, what, "cannot use an "
			    "encrypted private key");
		}
		if (r < 0) {
			const char *why =
			    r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE ?
			    "no certificate and key found" :
			    gnutls_strerror(r);

			(void)snprintf(what, sizeof what,
			    "TLS certificate file %s", cert);
			if (key != cert)
				return fail(f, FAIL_CONFIG, 0, what,
				    "%s (key file %s)", why, key);
			return fail(f, FAIL_CONFIG, 0, what, "%s", why);
		}
	}
	gnutls_certificate_set_verify_function(t->cred, verify_cb);
	return 0;
}

static int
set_priority(struct tls *t, const struct tls_config *cfg, struct failure *f)
{
	const char *err = NULL;
	int r;

	if (cfg->priority != NULL) {
		r = gnutls_priority_set_direct(t->s, cfg->priority, &err);
		if (r == GNUTLS_E_INVALID_REQUEST && err != NULL &&
		    err >= cfg->priority &&
		    err <= cfg->priority + strlen(cfg->priority))
			return fail(f, FAIL_CONFIG, 0, "TLS priority string",
			    "error at character %d ('%s') in '%s'",
			    (int)(err - cfg->priority) + 1, err,
			    cfg->priority);
		if (r < 0)
			return fail(f, FAIL_CONFIG, 0, "TLS priority string",
			    "'%s': %s", cfg->priority, gnutls_strerror(r));
		return 0;
	}
	r = gnutls_set_default_priority_append(t->s, MIN_VERSION_APPEND,
	    &err, 0);
	if (r < 0)	/* a broken system-wide default */
		return fail(f, FAIL_CONFIG, 0, "TLS default priority", "%s",
		    gnutls_strerror(r));
	return 0;
}

/*
 * " (the server sent plain text: "220 mx ESMTP")", or "": says what went
 * wrong when --tls meets a port that speaks SMTP in clear.  GnuTLS gave
 * up after the 5-byte record header, so read (without waiting) what else
 * of the line has arrived; the connection is being abandoned anyway.
 */
static void
plaintext_hint(struct tls *t, char *out, size_t n)
{
	size_t i, len = 0;

	out[0] = '\0';
	/* A TLS record starts with a content type of 20 to 24. */
	if (t->headlen < 3 || (t->head[0] >= 20 && t->head[0] <= 24))
		return;
	if (t->headlen < sizeof t->head && !t->peer_eof) {
		ssize_t r = recv(t->fd, t->head + t->headlen,
		    sizeof t->head - t->headlen, MSG_DONTWAIT);

		if (r > 0)
			t->headlen += (size_t)r;
	}
	for (i = 0; i < t->headlen; i++) {
		unsigned char c = t->head[i];

		if (c == '\r' || c == '\n')
			break;
		if (c < 0x20 || c > 0x7e)
			return;
		len++;
	}
	(void)snprintf(out, n, " (the server sent plain text: \"%.*s%s\")",
	    (int)len, (const char *)t->head, i == t->headlen &&
	    t->headlen == sizeof t->head ? "..." : "");
}

static int
handshake_error(struct tls *t, int r, struct failure *f)
{
	char what[sizeof f->what], hint[160];

	info_flush(t, false);	/* -v: the certificate that was refused */
	plaintext_hint(t, hint, sizeof hint);
	/*
	 * Tell a TLS peer why we give up (bad_certificate, protocol_version,
	 * ...): GnuTLS does not send alerts by itself.  One non-blocking
	 * try; the session is abandoned either way.  Not to a peer that went
	 * away or does not speak TLS.
	 */
	if (r != GNUTLS_E_PREMATURE_TERMINATION && r != GNUTLS_E_PULL_ERROR &&
	    r != GNUTLS_E_PUSH_ERROR && r != GNUTLS_E_FATAL_ALERT_RECEIVED &&
	    hint[0] == '\0')
		(void)gnutls_alert_send_appropriate(t->s, r);
	if (t->verify_failed) {
		set_what(what, sizeof what, "certificate of", t);
		return fail(f, FAIL_TLS, 0, what, "%s", t->verify_detail);
	}
	set_what(what, sizeof what, "TLS handshake with", t);
	/*
	 * A close or reset during the handshake is FAIL_TLS, not FAIL_IOERR:
	 * no TLS session came up, which is exit 83 in carrier(1) ("TLS
	 * failure: the handshake failed"), and a TLS failure must never look
	 * like a transient network fault that is retried.  A reset is
	 * reported as a close: a server that closes without reading all of
	 * our ClientHello makes the kernel send RST (and on a Unix socket
	 * ECONNRESET), so the two are the same event here.
	 */
	if (r == GNUTLS_E_PREMATURE_TERMINATION ||
	    ((r == GNUTLS_E_PULL_ERROR || r == GNUTLS_E_PUSH_ERROR) &&
	    (t->peer_eof || t->last_errno == EPIPE ||
	    t->last_errno == ECONNRESET)))
		return fail(f, FAIL_TLS, 0, what, "TLS handshake failed: the "
		    "server closed the connection%s", hint);
	if (r == GNUTLS_E_PULL_ERROR || r == GNUTLS_E_PUSH_ERROR)
		return fail(f, FAIL_TLS, 0, what, "TLS handshake failed: %s%s",
		    t->last_errno ? strerror(t->last_errno) :
		    gnutls_strerror(r), hint);
	if (r == GNUTLS_E_FATAL_ALERT_RECEIVED)
		return fail(f, FAIL_TLS, 0, what, "TLS handshake failed: the "
		    "server sent alert '%s'",
		    gnutls_alert_get_name(gnutls_alert_get(t->s)));
	return fail(f, FAIL_TLS, 0, what, "TLS handshake failed: %s%s",
	    gnutls_strerror(r), hint);
}

/* What the session will check the server against: the pin (its syntax
   is checked even when --tls-no-verify leaves it unused, so that a typo
   does not wait for the day verification is on) and a name. */
static int
tls_expectations(struct tls *t, const struct tls_config *cfg,
    struct failure *f)
{
	if (cfg->fingerprint != NULL) {
		if (tls_parse_fingerprint(cfg->fingerprint, t->pin) < 0)
			return fail(f, FAIL_CONFIG, 0, "TLS fingerprint",
			    "'%s' is not SHA256: followed by 64 hex digits",
			    cfg->fingerprint);
		t->have_pin = !cfg->no_verify;
	}
	if (t->host[0] == '\0' && !t->have_pin && !cfg->no_verify)
		/* Chain trust alone would accept any server's certificate. */
		return fail(f, FAIL_CONFIG, 0, "TLS verification", "no server "
		    "name to check the certificate against; use "
		    "--tls-fingerprint or --tls-no-verify");
	return 0;
}

/* The GnuTLS session: priorities, credentials, SNI, our transport. */
static int
tls_session_new(struct tls *t, const struct tls_config *cfg,
    struct failure *f)
{
	char what[sizeof f->what];
	int r = gnutls_init(&t->s, GNUTLS_CLIENT | GNUTLS_NONBLOCK |
	    GNUTLS_NO_SIGNAL);

	if (r < 0)
		return fail(f, FAIL_INTERNAL, 0, "TLS session", "%s",
		    gnutls_strerror(r));
	gnutls_session_set_ptr(t->s, t);
	if (set_priority(t, cfg, f) < 0)
		return -1;
	r = gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, t->cred);
	if (r < 0)
		return fail(f, FAIL_INTERNAL, 0, "TLS credentials", "%s",
		    gnutls_strerror(r));
	/* SNI carries a DNS name: not an address, not a socket path. */
	if (!t->host_is_ip && t->host[0] != '\0' &&
	    strchr(t->host, '/') == NULL) {
		r = gnutls_server_name_set(t->s, GNUTLS_NAME_DNS, t->host,
		    strlen(t->host));
		if (r < 0) {
			set_what(what, sizeof what, "TLS server name", t);
			return fail(f, FAIL_CONFIG, 0, what, "%s",
			    gnutls_strerror(r));
		}
	}
	gnutls_transport_set_ptr(t->s, t);
	gnutls_transport_set_push_function(t->s, push_fn);
	gnutls_transport_set_pull_function(t->s, pull_fn);
	gnutls_transport_set_pull_timeout_function(t->s, pull_timeout_fn);
	gnutls_handshake_set_timeout(t->s, 0);	/* our deadline instead */
	return 0;
}

/* The handshake, every wait against the deadline. */
static int
tls_handshake(struct tls *t, int64_t deadline, struct failure *f)
{
	char what[sizeof f->what];
	int r;

	t->handshaking = true;
	while ((r = gnutls_handshake(t->s)) != GNUTLS_E_SUCCESS) {
		if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED &&
		    gnutls_error_is_fatal(r))
			return handshake_error(t, r, f);
		/* Non-fatal (a warning alert): go on, within the deadline
		   like the rest. */
		if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED &&
		    remaining_ms(deadline) > 0)
			continue;
		int w = wait_for(t, deadline);
		if (w > 0)
			continue;
		set_what(what, sizeof what, "TLS handshake with", t);
		return w == 0 ? fail(f, FAIL_TEMP, 0, what, "timed out") :
		    fail(f, FAIL_OSERR, 0, "poll", "%s", strerror(errno));
	}
	t->handshaking = false;
	if (!t->checked) {
		/* Cannot happen with certificate credentials and no
		   resumption; refuse rather than trust unverified. */
		set_what(what, sizeof what, "certificate of", t);
		return fail(f, FAIL_TLS, 0, what, "the server's certificate "
		    "was not checked");
	}
	return 0;
}

struct tls *
tls_start(int fd, const struct tls_config *cfg, int64_t deadline,
    struct failure *f)
{
	struct tls *t;

	if (global_init(f) < 0)
		return NULL;
	t = xcalloc(1, sizeof *t);
	buf_init(&t->certinfo);
	t->fd = fd;
	t->cfg = cfg;
	t->deadline = deadline;
	set_host(t, cfg->servername);
	if (tls_expectations(t, cfg, f) < 0 ||
	    load_credentials(t, cfg, f) < 0 ||
	    tls_session_new(t, cfg, f) < 0 ||
	    tls_handshake(t, deadline, f) < 0) {
		t->cfg = NULL;
		tls_free(t);
		return NULL;
	}
	info_flush(t, true);
	if (cfg->no_verify)
		info_line(t, "TLS certificate NOT verified (--tls-no-verify)");
	else if (t->have_pin)
		info_line(t, "TLS certificate matches the pinned fingerprint");
	else
		info_line(t, "TLS certificate verified for '%s'", t->host);
	t->cfg = NULL;	/* not ours to keep */
	buf_free(&t->certinfo);
	return t;
}

/* ---- records ---- */

static ssize_t
io_error(struct tls *t, int r, struct failure *f)
{
	char what[sizeof f->what];

	set_what(what, sizeof what, "TLS connection to", t);
	switch (r) {
	case GNUTLS_E_PREMATURE_TERMINATION:
		fail(f, FAIL_IOERR, 0, what,
		    "connection closed without TLS close_notify");
		break;
	case GNUTLS_E_PULL_ERROR:
	case GNUTLS_E_PUSH_ERROR:
		if (t->peer_eof || t->last_errno == EPIPE)
			fail(f, FAIL_IOERR, 0, what,
			    "connection closed by the server");
		else
			fail(f, FAIL_IOERR, 0, what, "connection lost: %s",
			    t->last_errno ? strerror(t->last_errno) :
			    gnutls_strerror(r));
		break;
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		fail(f, FAIL_TLS, 0, what, "the server sent TLS alert '%s'",
		    gnutls_alert_get_name(gnutls_alert_get(t->s)));
		break;
	default:
		fail(f, FAIL_TLS, 0, what, "%s", gnutls_strerror(r));
		break;
	}
	return TLS_ERROR;
}

ssize_t
tls_read(struct tls *t, void *p, size_t n, struct failure *f)
{
	int i;

	if (n == 0)
		return fail(f, FAIL_INTERNAL, 0, "tls_read", "zero length");
	/*
	 * gnutls_record_recv handles TLS 1.3 post-handshake messages
	 * (NewSessionTicket, KeyUpdate) itself and returns E_AGAIN when they
	 * held no data; a requested KeyUpdate answer is sent with our next
	 * write.  The loop only skips events that consume input, so it ends.
	 */
	for (i = 0; i < 64; i++) {
		ssize_t r = gnutls_record_recv(t->s, p, n);

		if (r >= 0) {
			t->want_write = false;
			return r;	/* 0: close_notify */
		}
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			t->want_write = gnutls_record_get_direction(t->s) == 1;
			return TLS_WOULD_BLOCK;
		}
		/*
		 * A TLS 1.2 HelloRequest: refused by ignoring it, which
		 * RFC 5246 7.4.1.1 allows ("MAY be ignored by the client").
		 * Answering with a no_renegotiation alert would put a second
		 * writer on the record layer, which could collide with a
		 * pending tls_write.
		 */
		if (r == GNUTLS_E_REHANDSHAKE ||
		    r == GNUTLS_E_WARNING_ALERT_RECEIVED ||
		    !gnutls_error_is_fatal((int)r))
			continue;
		t->want_write = false;
		return io_error(t, (int)r, f);
	}
	t->want_write = false;
	return TLS_WOULD_BLOCK;
}

ssize_t
tls_write(struct tls *t, const void *p, size_t n, struct failure *f)
{
	ssize_t r;

	/*
	 * After E_AGAIN GnuTLS holds the encrypted record (or, in TLS 1.3, a
	 * copy of the data during a key update) and must be called again
	 * with the same data or with NULL/0.  We use NULL/0, so only the
	 * count matters: it returns how many of the caller's bytes that
	 * record carried, at most the n of the call that blocked.
	 */
	if (t->write_pending) {
		r = gnutls_record_send(t->s, NULL, 0);
	} else {
		if (n == 0)
			return 0;
		r = gnutls_record_send(t->s, p, n);
	}
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
		t->write_pending = true;
		t->want_write = gnutls_record_get_direction(t->s) == 1;
		return TLS_WOULD_BLOCK;
	}
	t->write_pending = false;
	t->want_write = false;
	if (r < 0)
		return io_error(t, (int)r, f);
	if ((size_t)r > n)
		return fail(f, FAIL_INTERNAL, 0, "tls_write",
		    "retried with %zu bytes after sending %zd", n, r);
	return r;
}

bool
tls_wants_write(const struct tls *t)
{
	return t->want_write;
}

void
tls_close(struct tls *t, int64_t deadline)
{
	int r;

	if (t == NULL)
		return;
	if (t->s != NULL) {
		t->deadline = deadline;
		/* Finish a blocked write first: GnuTLS sends the buffered
		   record before the alert anyway. */
		for (;;) {
			if (t->write_pending)
				r = (int)gnutls_record_send(t->s, NULL, 0);
			else
				r = gnutls_bye(t->s, GNUTLS_SHUT_WR);
			if (r >= 0 && t->write_pending) {
				t->write_pending = false;
				continue;
			}
			if (r >= 0)
				break;
			if ((r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED)
			    || wait_for(t, deadline) <= 0)
				break;
		}
	}
	tls_free(t);
}

void
tls_free(struct tls *t)
{
	if (t == NULL)
		return;
	if (t->s != NULL)
		gnutls_deinit(t->s);
	if (t->cred != NULL)
		gnutls_certificate_free_credentials(t->cred);
	explicit_bzero(t->pin, sizeof t->pin);
	buf_free(&t->certinfo);
	free(t);
}
