/*
 * tls.h: a GnuTLS client session over a connected, non-blocking socket.
 * Only net.c calls this; the rest of carrier sees a connection.
 */
#ifndef CARRIER_TLS_H
#define CARRIER_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "report.h"
#include "util.h"

struct tls_config {
	const char *servername;	/* --host name: SNI and name check;
				   an IP literal ("192.0.2.1", "::1",
				   "[::1]") is checked against IP SANs and
				   sends no SNI; a final dot is dropped.
				   NULL or "" needs a fingerprint or
				   no_verify (else FAIL_CONFIG) */
	const char *ca_file;	/* NULL: the system trust store */
	const char *cert_file, *key_file;	/* client certificate */
	const char *fingerprint;	/* "SHA256:hex", pins the server cert
					   instead of CA trust, name, dates */
	const char *priority;	/* NULL: GnuTLS's default */
	bool no_verify;
	/* Called with one human-readable line at a time for -v
	   (version, cipher, subject, issuer, validity, fingerprint);
	   when the certificate is refused, the version and certificate
	   lines still come, before tls_start returns. */
	void (*info)(void *ctx, const char *line);
	void *info_ctx;
};

struct tls;

/*
 * Handshake on fd (non-blocking) within the deadline (CLOCK_MONOTONIC ms,
 * see monotonic_ms), verifying the peer as configured during the handshake
 * (before our certificate or Finished is sent).
 * Returns a session, or NULL with *f set: FAIL_TLS for handshake and
 * verification failures (the detail says what was wrong: not trusted and
 * by whom issued, expired or not yet valid with the dates, name mismatch
 * with the expected and present names, pin mismatch with both
 * fingerprints, or GnuTLS's reason), including the peer closing or
 * resetting the connection during the handshake (no TLS session came
 * up: exit 83, carrier(1)); FAIL_TEMP for a timeout; FAIL_CONFIG for
 * unreadable CA/cert/key files, a bad priority string or fingerprint
 * syntax, or no servername to check; FAIL_OSERR if poll() fails.
 * The caller keeps fd: neither this nor tls_close/tls_free closes it.
 */
struct tls *tls_start(int fd, const struct tls_config *cfg, int64_t deadline,
    struct failure *f);

/*
 * Read or write at most n bytes (n > 0) without blocking.  Return the
 * count (> 0), 0 on a clean close_notify (read only), TLS_WOULD_BLOCK
 * when the socket must be polled (tls_wants_write says for which
 * direction: a read can need to write and a write to read), or
 * TLS_ERROR with *f set (FAIL_IOERR for a premature close without
 * close_notify or a reset, FAIL_TLS for an alert or a bad record).
 * f->what is "TLS connection to HOST"; callers may replace it with their
 * stage and keep the detail.
 * Renegotiation requests (TLS 1.2 HelloRequest) are refused by ignoring
 * them (RFC 5246 7.4.1.1); TLS 1.3 NewSessionTicket and KeyUpdate are
 * handled inside tls_read (it may return TLS_WOULD_BLOCK having consumed
 * only such messages).  Callers call tls_read before they poll, since
 * poll cannot see bytes GnuTLS has already decrypted.
 *
 * tls_write after TLS_WOULD_BLOCK: call it again with the same unsent
 * bytes at the start of p (the pointer may differ, n may be larger),
 * until it returns a count or an error.  GnuTLS has already encrypted
 * those bytes; the count returned refers to them (never more than the n
 * of the call that blocked).  No tls_write with other data in between.
 */
#define TLS_WOULD_BLOCK	(-2)
#define TLS_ERROR	(-1)
ssize_t tls_read(struct tls *t, void *p, size_t n, struct failure *f);
ssize_t tls_write(struct tls *t, const void *p, size_t n, struct failure *f);
bool tls_wants_write(const struct tls *t);

/* Send close_notify (best effort, bounded by deadline; finishes a
   blocked write first) and free.  Does not close the socket. */
void tls_close(struct tls *t, int64_t deadline);
/* Free without sending anything (after an error). */
void tls_free(struct tls *t);

/*
 * The session's channel binding for SASL (RFC 5056): tls-exporter
 * (RFC 9266) under TLS 1.3, tls-unique (RFC 5929) under TLS 1.2.  Puts
 * the data in *out (replacing it) and returns the type's name, or returns
 * NULL with out empty when GnuTLS has none for this session.  Never fails
 * otherwise: no binding only means no -PLUS mechanism.
 */
const char *tls_channel_binding(struct tls *t, struct buf *out);

/* The GnuTLS version string, for --version. */
const char *tls_library_version(void);

/* Parse "SHA256:" (any case) + 64 hex digits (any case), either bare or
   with a colon between every byte pair (msmtp's form), into 32 bytes.
   Returns 0, or -1 leaving out untouched.  Pure. */
int tls_parse_fingerprint(const char *s, unsigned char out[32]);

#endif
