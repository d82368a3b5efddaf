/*
 * auth.h: SASL mechanisms as pure functions of (challenge, credentials)
 * -> response, and strict base64.  No I/O: the session sends and receives.
 * GnuTLS provides hashes, HMAC, PBKDF2; arc4random provides nonces.
 */
#ifndef CARRIER_AUTH_H
#define CARRIER_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

enum sasl_mech {
	SASL_NONE = 0,
	SASL_SCRAM_SHA_256, SASL_SCRAM_SHA_1, SASL_CRAM_MD5, SASL_PLAIN,
	SASL_LOGIN, SASL_XOAUTH2, SASL_OAUTHBEARER, SASL_EXTERNAL,
	SASL_SCRAM_SHA_256_PLUS, SASL_SCRAM_SHA_1_PLUS,
};

/* "PLAIN" -> SASL_PLAIN, case-insensitively; SASL_NONE when unknown. */
enum sasl_mech sasl_mech_from_name(const char *name);
const char *sasl_mech_name(enum sasl_mech m);

/* True for SCRAM-SHA-256-PLUS and SCRAM-SHA-1-PLUS, the mechanisms that
 * need a channel binding. */
bool sasl_mech_binds(enum sasl_mech m);

/* Mechanisms tried by default, strongest first, ending with SASL_NONE:
 * SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS (when the connection has a channel
 * binding), SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN. */
extern const enum sasl_mech sasl_default_order[];

struct sasl_creds {
	const char *user;	/* authentication identity */
	const char *secret;	/* password or OAuth token */
	const char *authzid;	/* NULL or "" for none */
	const char *host;	/* for OAUTHBEARER's host= */
	int port;		/* for OAUTHBEARER's port= */
	/* The TLS channel binding (RFC 5929 tls-unique, RFC 9266
	 * tls-exporter): its type name and data, or cb_type NULL when the
	 * connection has none.  SCRAM-*-PLUS sends it (gs2 flag "p=TYPE");
	 * plain SCRAM with a binding sends the flag "y" (RFC 5802 6: the
	 * client could bind but the server offers no -PLUS), so give plain
	 * SCRAM a binding only when the server offers no -PLUS mechanism. */
	const char *cb_type;
	const unsigned char *cb_data;
	size_t cb_len;
};

struct sasl {
	enum sasl_mech mech;
	int step;
	const struct sasl_creds *creds;
	/* SCRAM state */
	char *client_first_bare;
	char *server_first;
	unsigned char salted[64];
	size_t hashlen;
	unsigned char server_sig[64];
	bool server_verified;
};

/*
 * Begin an exchange.  *s is overwritten (sasl_free a previous exchange
 * first); creds must outlive the exchange.  When the mechanism has an
 * initial response and
 * want_ir is true, *ir_present is set and the raw (not base64) response is
 * put in *ir; an empty initial response is a present, empty buffer (sent
 * as "=").  Returns 0, or -1 with err when the credentials cannot be used
 * (a NUL or CR/LF where the mechanism cannot carry it, a missing secret).
 * Rules: every mechanism but OAUTHBEARER and EXTERNAL needs a non-empty
 * user; LOGIN refuses CR or LF in the user or password; XOAUTH2 and
 * OAUTHBEARER refuse control characters in user, authzid and host and
 * need an RFC 6750 b64token as the token.  An empty password is allowed.
 * SCRAM-*-PLUS needs a channel binding (cb_type and a non-empty cb_data).
 * CRAM-MD5 never has an initial response.  If "AUTH MECH <base64 ir>"
 * would be too long for a command line (RFC 4954: 512 octets), sasl_free
 * and start again with want_ir false.  *ir and *out hold secrets: wipe
 * them with buf_free_secret.
 */
int sasl_start(struct sasl *s, enum sasl_mech mech,
    const struct sasl_creds *creds, bool want_ir, bool *ir_present,
    struct buf *ir, char *err, size_t errlen);

/*
 * Answer one decoded server challenge (the bytes after "334 ", already
 * base64-decoded).  Puts the raw response in *out.  Returns 0, or -1 with
 * err when the challenge is unacceptable (malformed SCRAM message, wrong
 * nonce, bad server signature, empty CRAM-MD5 challenge, ...): the caller
 * then cancels with "*".  A challenge over 64 KiB is an error.  A
 * challenge beyond what the mechanism expects (a server that never stops)
 * returns SASL_EXTRA_CHALLENGE, also with err.  *out is replaced.
 */
#define SASL_EXTRA_CHALLENGE	(-2)
int sasl_step(struct sasl *s, const unsigned char *challenge, size_t len,
    struct buf *out, char *err, size_t errlen);

/* After 235: true when the mechanism is satisfied with the server (SCRAM
 * requires the server signature to have been verified). */
bool sasl_done_ok(const struct sasl *s);

/* Wipe every secret-derived byte and free. */
void sasl_free(struct sasl *s);

/* Standard base64 with padding.  Decoding is strict: only the alphabet,
 * padding only at the end and only to a multiple of 4, no blanks, and the
 * bits a padded quantum does not use must be zero (one encoding per byte
 * string).  "" decodes to nothing.
 * b64_encode appends to out.  b64_decode replaces out's contents and
 * returns 0 or -1 (out untouched on -1 except reset). */
void b64_encode(const void *p, size_t n, struct buf *out);
int b64_decode(const char *s, size_t n, struct buf *out);

/* For tests only: make SCRAM use this client nonce instead of a random
 * one (NULL: random again).  Never called by the program. */
void sasl_set_test_nonce(const char *nonce);

#endif
