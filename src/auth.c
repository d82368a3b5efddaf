/*
 * auth.c: SASL mechanisms as pure functions of (challenge, credentials) ->
 * response, and strict base64.  No I/O.
 *
 * Every buffer that holds a secret or a value derived from one is wiped with
 * explicit_bzero before it is freed or goes out of scope.  Error messages
 * never carry a secret; they may carry text from the server (SCRAM e=),
 * which the reporter escapes when printing.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "auth.h"

/* Largest decoded challenge any mechanism accepts (RFC 4954 allows a
 * 12288-octet line; we take more, and refuse anything beyond this). */
#define SASL_MAX_CHALLENGE	65536

/* SCRAM iteration count bounds.  A fuzzing build lowers the ceiling so a
 * single input cannot take a second of PBKDF2. */
#define SCRAM_MIN_ITER		1
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define SCRAM_MAX_ITER		4096
#else
#define SCRAM_MAX_ITER		1000000
#endif

/* Client nonce: this many random bytes, base64-encoded (32 characters). */
#define SCRAM_NONCE_BYTES	24

static char test_nonce[256];
static bool test_nonce_set;

void
sasl_set_test_nonce(const char *nonce)
{
	if (nonce == NULL) {
		test_nonce_set = false;
		test_nonce[0] = '\0';
		return;
	}
	(void)strlcpy(test_nonce, nonce, sizeof test_nonce);
	test_nonce_set = true;
}

static const struct {
	enum sasl_mech mech;
	const char *name;
} mech_names[] = {
	{ SASL_SCRAM_SHA_256_PLUS, "SCRAM-SHA-256-PLUS" },
	{ SASL_SCRAM_SHA_1_PLUS, "SCRAM-SHA-1-PLUS" },
	{ SASL_SCRAM_SHA_256, "SCRAM-SHA-256" },
	{ SASL_SCRAM_SHA_1, "SCRAM-SHA-1" },
	{ SASL_CRAM_MD5, "CRAM-MD5" },
	{ SASL_PLAIN, "PLAIN" },
	{ SASL_LOGIN, "LOGIN" },
	{ SASL_XOAUTH2, "XOAUTH2" },
	{ SASL_OAUTHBEARER, "OAUTHBEARER" },
	{ SASL_EXTERNAL, "EXTERNAL" },
};

const enum sasl_mech sasl_default_order[] = {
	SASL_SCRAM_SHA_256_PLUS, SASL_SCRAM_SHA_1_PLUS, SASL_SCRAM_SHA_256, SASL_SCRAM_SHA_1, SASL_CRAM_MD5, SASL_PLAIN,
	SASL_LOGIN, SASL_NONE,
};

enum sasl_mech
sasl_mech_from_name(const char *name)
{
	if (name == NULL)
		return SASL_NONE;
	for (size_t i = 0; i < sizeof mech_names / sizeof mech_names[0]; i++)
		if (ascii_ieq(name, mech_names[i].name))
			return mech_names[i].mech;
	return SASL_NONE;
}

const char *
sasl_mech_name(enum sasl_mech m)
{
	for (size_t i = 0; i < sizeof mech_names / sizeof mech_names[0]; i++)
		if (mech_names[i].mech == m)
			return mech_names[i].name;
	return "none";
}

static int
seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Empty a buffer that may have held a secret, keeping its storage. */
static void
buf_wipe(struct buf *b)
{
	if (b->data != NULL)
		explicit_bzero(b->data, b->cap);
	b->len = 0;
}

/* ------------------------------------------------------------------ */
/* base64 */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
b64_encode(const void *p, size_t n, struct buf *out)
{
	const unsigned char *s = p;
	char q[4];

	buf_reserve(out, (n + 2) / 3 * 4);
	buf_add(out, "", 0);	/* NUL-terminated even when n is 0 */
	while (n >= 3) {
		q[0] = b64_alphabet[s[0] >> 2];
		q[1] = b64_alphabet[((s[0] & 0x03) << 4) | (s[1] >> 4)];
		q[2] = b64_alphabet[((s[1] & 0x0f) << 2) | (s[2] >> 6)];
		q[3] = b64_alphabet[s[2] & 0x3f];
		buf_add(out, q, 4);
		s += 3;
		n -= 3;
	}
	if (n > 0) {
		q[0] = b64_alphabet[s[0] >> 2];
		if (n == 1) {
			q[1] = b64_alphabet[(s[0] & 0x03) << 4];
			q[2] = '=';
		} else {
			q[1] = b64_alphabet[((s[0] & 0x03) << 4) | (s[1] >> 4)];
			q[2] = b64_alphabet[(s[1] & 0x0f) << 2];
		}
		q[3] = '=';
		buf_add(out, q, 4);
	}
	explicit_bzero(q, sizeof q);
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
b64_decode(const char *s, size_t n, struct buf *out)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char o[3];
	int v[4];

	buf_reset(out);
	if (n % 4 != 0)
		return -1;
	buf_reserve(out, n / 4 * 3);
	for (size_t i = 0; i < n; i += 4) {
		bool last = i + 4 == n;
		size_t pad = 0;

		for (size_t j = 0; j < 4; j++) {
			if (u[i + j] == '=') {
				/* Only in the last quantum, positions 2 and 3,
				 * and a padded position 2 needs a padded 3. */
				if (!last || j < 2)
					goto bad;
				v[j] = 0;
				pad++;
			} else {
				if (pad > 0)
					goto bad;	/* "A=B" inside */
				v[j] = b64_value(u[i + j]);
				if (v[j] < 0)
					goto bad;
			}
		}
		/* The bits a padded quantum does not carry must be zero, so
		 * that every byte string has exactly one encoding. */
		if (pad == 2 && (v[1] & 0x0f) != 0)
			goto bad;
		if (pad == 1 && (v[2] & 0x03) != 0)
			goto bad;
		o[0] = (unsigned char)((v[0] << 2) | (v[1] >> 4));
		o[1] = (unsigned char)(((v[1] & 0x0f) << 4) | (v[2] >> 2));
		o[2] = (unsigned char)(((v[2] & 0x03) << 6) | v[3]);
		buf_add(out, o, 3 - pad);
	}
	explicit_bzero(o, sizeof o);
	explicit_bzero(v, sizeof v);
	return 0;
bad:
	explicit_bzero(o, sizeof o);
	explicit_bzero(v, sizeof v);
	buf_wipe(out);
	if (out->data != NULL)
		out->data[0] = '\0';
	return -1;
}

/* ------------------------------------------------------------------ */
/* credential checks */

static bool
has_byte(const char *s, const char *set)
{
	return s != NULL && strpbrk(s, set) != NULL;
}

static bool
empty(const char *s)
{
	return s == NULL || *s == '\0';
}

static bool
has_ctl(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" /
 * "/" ) *"=" */
static bool
is_b64token(const char *s)
{
	size_t i = 0;

	while (s[i] != '\0' && ((s[i] >= 'A' && s[i] <= 'Z') ||
	    (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
	    strchr("-._~+/", s[i]) != NULL))
		i++;
	if (i == 0)
		return false;
	while (s[i] == '=')
		i++;
	return s[i] == '\0';
}

/* RFC 5802 saslname: "=" -> "=3D", "," -> "=2C". */
static void
add_saslname(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '=')
			buf_adds(b, "=3D");
		else if (*s == ',')
			buf_adds(b, "=2C");
		else
			buf_addc(b, *s);
	}
}

static int
check_creds(enum sasl_mech mech, const struct sasl_creds *c, char *err,
    size_t errlen)
{
	const char *name = sasl_mech_name(mech);

	if (sasl_mech_binds(mech) &&
	    (c->cb_type == NULL || c->cb_data == NULL || c->cb_len == 0))
		return seterr(err, errlen, "%s needs a TLS channel binding, and "
		    "this connection has none", name);
	switch (mech) {
	case SASL_PLAIN:
	case SASL_LOGIN:
	case SASL_CRAM_MD5:
	case SASL_SCRAM_SHA_256_PLUS:
	case SASL_SCRAM_SHA_1_PLUS:
	case SASL_SCRAM_SHA_256:
	case SASL_SCRAM_SHA_1:
	case SASL_XOAUTH2:
		if (empty(c->user))
			return seterr(err, errlen, "%s needs a user name",
			    name);
		if (c->secret == NULL)
			return seterr(err, errlen, "%s needs a %s", name,
			    mech == SASL_XOAUTH2 ? "token" : "password");
		break;
	case SASL_OAUTHBEARER:
		if (c->secret == NULL)
			return seterr(err, errlen, "%s needs a token", name);
		break;
	case SASL_EXTERNAL:
		break;
	case SASL_NONE:
	default:
		return seterr(err, errlen, "unknown SASL mechanism");
	}

	switch (mech) {
	case SASL_LOGIN:
		/* LOGIN is line-oriented on many servers: a CR or LF would
		 * be cut or misread there. */
		if (has_byte(c->user, "\r\n"))
			return seterr(err, errlen,
			    "LOGIN cannot carry a CR or LF in the user name");
		if (has_byte(c->secret, "\r\n"))
			return seterr(err, errlen,
			    "LOGIN cannot carry a CR or LF in the password");
		break;
	case SASL_XOAUTH2:
	case SASL_OAUTHBEARER:
		/* ^A separates the fields: nothing may inject one. */
		if (has_ctl(c->user))
			return seterr(err, errlen,
			    "%s cannot carry a control character in the "
			    "user name", name);
		if (has_ctl(c->authzid))
			return seterr(err, errlen,
			    "%s cannot carry a control character in the "
			    "authorization identity", name);
		if (has_ctl(c->host))
			return seterr(err, errlen,
			    "%s cannot carry a control character in the "
			    "host name", name);
		if (!is_b64token(c->secret))
			return seterr(err, errlen,
			    "%s: the token is empty or has characters a "
			    "bearer token cannot have (RFC 6750)", name);
		break;
	default:
		break;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* the response of each mechanism */

static void
plain_response(const struct sasl_creds *c, struct buf *out)
{
	if (c->authzid != NULL)
		buf_adds(out, c->authzid);
	buf_addc(out, '\0');
	buf_adds(out, c->user);
	buf_addc(out, '\0');
	buf_adds(out, c->secret);
}

static void
xoauth2_response(const struct sasl_creds *c, struct buf *out)
{
	buf_adds(out, "user=");
	buf_adds(out, c->user);
	buf_adds(out, "\001auth=Bearer ");
	buf_adds(out, c->secret);
	buf_adds(out, "\001\001");
}

static void
oauthbearer_response(const struct sasl_creds *c, struct buf *out)
{
	/* RFC 7628 3.1: the gs2 header names the authzid; we name the user
	 * (or the explicit authzid) there, as the RFC's examples do. */
	const char *a = !empty(c->authzid) ? c->authzid : c->user;

	buf_adds(out, "n,");
	if (!empty(a)) {
		buf_adds(out, "a=");
		add_saslname(out, a);
	}
	buf_addc(out, ',');
	if (!empty(c->host))
		buf_addf(out, "\001host=%s", c->host);
	if (c->port > 0)
		buf_addf(out, "\001port=%d", c->port);
	buf_adds(out, "\001auth=Bearer ");
	buf_adds(out, c->secret);
	buf_adds(out, "\001\001");
}

static void
external_response(const struct sasl_creds *c, struct buf *out)
{
	if (c->authzid != NULL)
		buf_adds(out, c->authzid);
}

static const char hexdigits[] = "0123456789abcdef";

static int
cram_md5_response(const struct sasl_creds *c, const unsigned char *ch,
    size_t len, struct buf *out, char *err, size_t errlen)
{
	unsigned char mac[16];
	char hex[33];

	if (len == 0)
		return seterr(err, errlen, "CRAM-MD5: empty challenge");
	if (gnutls_hmac_fast(GNUTLS_MAC_MD5, c->secret, strlen(c->secret),
	    ch, len, mac) < 0)
		return seterr(err, errlen,
		    "CRAM-MD5: HMAC-MD5 is not available");
	for (size_t i = 0; i < sizeof mac; i++) {
		hex[2 * i] = hexdigits[mac[i] >> 4];
		hex[2 * i + 1] = hexdigits[mac[i] & 0x0f];
	}
	hex[32] = '\0';
	buf_adds(out, c->user);
	buf_addc(out, ' ');
	buf_adds(out, hex);
	explicit_bzero(mac, sizeof mac);
	explicit_bzero(hex, sizeof hex);
	return 0;
}

/* ------------------------------------------------------------------ */
/* SCRAM (RFC 5802, RFC 7677), with channel binding for the -PLUS ones */

bool
sasl_mech_binds(enum sasl_mech m)
{
	return m == SASL_SCRAM_SHA_256_PLUS || m == SASL_SCRAM_SHA_1_PLUS;
}

static bool
scram_sha256(const struct sasl *s)
{
	return s->mech == SASL_SCRAM_SHA_256 ||
	    s->mech == SASL_SCRAM_SHA_256_PLUS;
}

/* gs2-header: "p=TYPE," for -PLUS, "y," when the client could bind but
 * the server offers no -PLUS, "n," otherwise; then the authzid. */
static void
scram_gs2_header(const struct sasl *s, struct buf *b)
{
	const struct sasl_creds *c = s->creds;

	if (sasl_mech_binds(s->mech))
		buf_addf(b, "p=%s,", c->cb_type);
	else
		buf_adds(b, c->cb_type != NULL ? "y," : "n,");
	if (!empty(c->authzid)) {
		buf_adds(b, "a=");
		add_saslname(b, c->authzid);
	}
	buf_addc(b, ',');
}

static void
scram_client_first(struct sasl *s, struct buf *out)
{
	struct buf bare;
	unsigned char rnd[SCRAM_NONCE_BYTES];

	buf_init(&bare);
	buf_adds(&bare, "n=");
	add_saslname(&bare, s->creds->user);
	buf_adds(&bare, ",r=");
	if (test_nonce_set) {
		buf_adds(&bare, test_nonce);
	} else {
		arc4random_buf(rnd, sizeof rnd);
		b64_encode(rnd, sizeof rnd, &bare);
		explicit_bzero(rnd, sizeof rnd);
	}
	free(s->client_first_bare);
	s->client_first_bare = xstrdup(bare.data);
	buf_free(&bare);

	scram_gs2_header(s, out);
	buf_adds(out, s->client_first_bare);
}

/* The client nonce is what follows the last "," of client-first-bare
 * ("n=USER,r=NONCE"; the escaped user holds no ","), after "r=". */
static const char *
scram_client_nonce(const struct sasl *s)
{
	return strrchr(s->client_first_bare, ',') + 3;
}

/* printable = %x21-2B / %x2D-7E */
static bool
scram_printable(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x21 || p[i] > 0x7e || p[i] == ',')
			return false;
	return true;
}

/*
 * Split a SCRAM message into "x=value" attributes at commas.  Returns the
 * number of attributes (at most max), or -1 when one is not of that form.
 */
struct scram_attr {
	char name;
	const char *val;
	size_t len;
};

static int
scram_split(const char *m, size_t len, struct scram_attr *a, int max)
{
	int n = 0;
	size_t i = 0;

	for (;;) {
		size_t j = i;

		while (j < len && m[j] != ',')
			j++;
		if (n == max)
			return n;	/* the rest are extensions */
		if (j - i < 2 || m[i + 1] != '=' ||
		    !((m[i] >= 'a' && m[i] <= 'z') ||
		    (m[i] >= 'A' && m[i] <= 'Z')))
			return -1;
		a[n].name = m[i];
		a[n].val = m + i + 2;
		a[n].len = j - i - 2;
		n++;
		if (j == len)
			return n;
		i = j + 1;
	}
}

static int
scram_hmac(const struct sasl *s, const void *key, size_t keylen,
    const void *text, size_t textlen, unsigned char *digest)
{
	return gnutls_hmac_fast(scram_sha256(s) ? GNUTLS_MAC_SHA256 :
	    GNUTLS_MAC_SHA1, key, keylen, text, textlen, digest);
}

/* What the server-first-message (RFC 5802 5.1) holds, once checked. */
struct scram_first {
	const char *nonce;	/* the combined nonce, inside the message */
	size_t nonce_len;
	struct buf salt;	/* decoded */
	unsigned long iter;
};

static int
scram_parse_first(const struct sasl *s, const unsigned char *ch, size_t len,
    struct scram_first *sf, char *err, size_t errlen)
{
	const char *mname = sasl_mech_name(s->mech);
	const char *cnonce = scram_client_nonce(s);
	size_t cnlen = strlen(cnonce);
	struct scram_attr a[3];
	int n;

	if (len == 0 || memchr(ch, '\0', len) != NULL)
		return seterr(err, errlen, "%s: %s server-first-message",
		    mname, len == 0 ? "empty" : "NUL byte in the");
	n = scram_split((const char *)ch, len, a, 3);
	if (n > 0 && a[0].name == 'm')
		return seterr(err, errlen,
		    "%s: server requires an unsupported extension", mname);
	if (n < 3 || a[0].name != 'r' || a[1].name != 's' || a[2].name != 'i')
		return seterr(err, errlen,
		    "%s: malformed server-first-message", mname);
	if (!scram_printable(a[0].val, a[0].len))
		return seterr(err, errlen, "%s: server nonce has characters "
		    "a nonce cannot have", mname);
	if (a[0].len <= cnlen || memcmp(a[0].val, cnonce, cnlen) != 0)
		return seterr(err, errlen, "%s: server nonce does not extend "
		    "the client nonce", mname);
	sf->nonce = a[0].val;
	sf->nonce_len = a[0].len;
	if (b64_decode(a[1].val, a[1].len, &sf->salt) < 0 ||
	    sf->salt.len == 0)
		return seterr(err, errlen, "%s: salt is not valid base64",
		    mname);
	sf->iter = 0;
	bool digits = a[2].len > 0 && a[2].len <= 9 && a[2].val[0] != '0';
	for (size_t i = 0; digits && i < a[2].len; i++) {
		if (a[2].val[i] < '0' || a[2].val[i] > '9')
			digits = false;
		else
			sf->iter = sf->iter * 10 +
			    (unsigned long)(a[2].val[i] - '0');
	}
	if (!digits || sf->iter < SCRAM_MIN_ITER || sf->iter > SCRAM_MAX_ITER)
		return seterr(err, errlen, "%s: iteration count is not a "
		    "number from %d to %d", mname, SCRAM_MIN_ITER,
		    SCRAM_MAX_ITER);
	return 0;
}

/* SaltedPassword := Hi(Normalize(password), salt, i), into s->salted. */
static int
scram_salt_password(struct sasl *s, const struct scram_first *sf, char *err,
    size_t errlen)
{
	gnutls_datum_t pw = { NULL, 0 }, saltd;
	bool normalized = false;
	int rc = 0;

	/* Normalise the password (RFC 7613 OpaqueString, which replaces
	 * SASLprep); when it cannot be normalised use its bytes as given. */
	if (gnutls_utf8_password_normalize((const unsigned char *)
	    s->creds->secret, (unsigned)strlen(s->creds->secret), &pw, 0) == 0) {
		normalized = true;
	} else {
		pw.data = (unsigned char *)(uintptr_t)s->creds->secret;
		pw.size = (unsigned)strlen(s->creds->secret);
	}
	saltd.data = (unsigned char *)sf->salt.data;
	saltd.size = (unsigned)sf->salt.len;
	if (gnutls_pbkdf2(scram_sha256(s) ? GNUTLS_MAC_SHA256 : GNUTLS_MAC_SHA1,
	    &pw, &saltd, (unsigned)sf->iter, s->salted, s->hashlen) < 0)
		rc = seterr(err, errlen, "%s: PBKDF2 failed",
		    sasl_mech_name(s->mech));
	if (normalized) {
		explicit_bzero(pw.data, pw.size);
		gnutls_free(pw.data);
	}
	return rc;
}

/*
 * RFC 5802 3: the client proof for AuthMessage, appended to `out` after
 * the client-final-message-without-proof; the server signature to expect
 * is kept in s->server_sig.
 */
static int
scram_prove(struct sasl *s, const unsigned char *first, size_t first_len,
    const struct scram_first *sf, struct buf *out, char *err, size_t errlen)
{
	unsigned char client_key[64], stored_key[64], client_sig[64];
	unsigned char proof[64], server_key[64];
	struct buf authmsg, without_proof, gs2;
	int rc = 0;

	buf_init(&authmsg);
	buf_init(&without_proof);
	buf_init(&gs2);
	scram_gs2_header(s, &gs2);
	/* c= is the gs2 header, followed for -PLUS by the binding data */
	if (sasl_mech_binds(s->mech))
		buf_add(&gs2, s->creds->cb_data, s->creds->cb_len);
	buf_adds(&without_proof, "c=");
	b64_encode(gs2.data, gs2.len, &without_proof);
	buf_adds(&without_proof, ",r=");
	buf_add(&without_proof, sf->nonce, sf->nonce_len);

	buf_adds(&authmsg, s->client_first_bare);
	buf_addc(&authmsg, ',');
	buf_add(&authmsg, first, first_len);
	buf_addc(&authmsg, ',');
	buf_add(&authmsg, without_proof.data, without_proof.len);

	if (scram_hmac(s, s->salted, s->hashlen, "Client Key", 10,
	    client_key) < 0 ||
	    gnutls_hash_fast(scram_sha256(s) ? GNUTLS_DIG_SHA256 :
	    GNUTLS_DIG_SHA1, client_key, s->hashlen, stored_key) < 0 ||
	    scram_hmac(s, stored_key, s->hashlen, authmsg.data, authmsg.len,
	    client_sig) < 0 ||
	    scram_hmac(s, s->salted, s->hashlen, "Server Key", 10,
	    server_key) < 0 ||
	    scram_hmac(s, server_key, s->hashlen, authmsg.data, authmsg.len,
	    s->server_sig) < 0) {
		rc = seterr(err, errlen, "%s: HMAC failed",
		    sasl_mech_name(s->mech));
	} else {
		for (size_t i = 0; i < s->hashlen; i++)
			proof[i] = client_key[i] ^ client_sig[i];
		buf_add(out, without_proof.data, without_proof.len);
		buf_adds(out, ",p=");
		b64_encode(proof, s->hashlen, out);
	}
	explicit_bzero(client_key, sizeof client_key);
	explicit_bzero(stored_key, sizeof stored_key);
	explicit_bzero(client_sig, sizeof client_sig);
	explicit_bzero(proof, sizeof proof);
	explicit_bzero(server_key, sizeof server_key);
	buf_free_secret(&authmsg);
	buf_free(&without_proof);
	buf_free(&gs2);
	return rc;
}

static int
scram_client_final(struct sasl *s, const unsigned char *ch, size_t len,
    struct buf *out, char *err, size_t errlen)
{
	struct scram_first sf;
	int rc;

	buf_init(&sf.salt);
	rc = scram_parse_first(s, ch, len, &sf, err, errlen);
	if (rc == 0) {
		free(s->server_first);
		s->server_first = xstrndup((const char *)ch, len);
		rc = scram_salt_password(s, &sf, err, errlen);
	}
	if (rc == 0)
		rc = scram_prove(s, ch, len, &sf, out, err, errlen);
	/* The salted password is needed no more: only the expected server
	 * signature is kept for the last step. */
	explicit_bzero(s->salted, sizeof s->salted);
	buf_free(&sf.salt);
	return rc;
}

static int
scram_server_final(struct sasl *s, const unsigned char *ch, size_t len,
    char *err, size_t errlen)
{
	const char *mname = sasl_mech_name(s->mech);
	struct scram_attr a[1];
	struct buf v;
	bool ok;

	if (len == 0 || memchr(ch, '\0', len) != NULL)
		return seterr(err, errlen, "%s: %s server-final-message",
		    mname, len == 0 ? "empty" : "NUL byte in the");
	if (scram_split((const char *)ch, len, a, 1) < 1)
		return seterr(err, errlen,
		    "%s: malformed server-final-message", mname);
	if (a[0].name == 'e')
		return seterr(err, errlen, "%s: server reported error: %.*s",
		    mname, (int)(a[0].len > 200 ? 200 : a[0].len), a[0].val);
	if (a[0].name != 'v')
		return seterr(err, errlen,
		    "%s: malformed server-final-message", mname);
	buf_init(&v);
	ok = b64_decode(a[0].val, a[0].len, &v) == 0 && v.len == s->hashlen &&
	    gnutls_memcmp(v.data, s->server_sig, s->hashlen) == 0;
	buf_free_secret(&v);
	explicit_bzero(s->server_sig, sizeof s->server_sig);
	if (!ok)
		return seterr(err, errlen, "%s: the server's signature is "
		    "wrong: the server does not know the password%s", mname,
		    sasl_mech_binds(s->mech) ? " or is not at the other end "
		    "of this TLS channel" : "");
	s->server_verified = true;
	return 0;
}

/* ------------------------------------------------------------------ */

int
sasl_start(struct sasl *s, enum sasl_mech mech,
    const struct sasl_creds *creds, bool want_ir, bool *ir_present,
    struct buf *ir, char *err, size_t errlen)
{
	static const struct sasl_creds none = { .user = NULL };

	memset(s, 0, sizeof *s);
	s->mech = mech;
	s->creds = creds != NULL ? creds : &none;
	if (ir_present != NULL)
		*ir_present = false;
	if (check_creds(mech, s->creds, err, errlen) < 0)
		return -1;
	if (mech == SASL_SCRAM_SHA_256 || mech == SASL_SCRAM_SHA_256_PLUS)
		s->hashlen = 32;
	else if (mech == SASL_SCRAM_SHA_1 || mech == SASL_SCRAM_SHA_1_PLUS)
		s->hashlen = 20;

	/* CRAM-MD5 is the one mechanism the server speaks first in. */
	if (!want_ir || mech == SASL_CRAM_MD5 || ir == NULL || ir_present == NULL)
		return 0;
	buf_wipe(ir);
	switch (mech) {
	case SASL_PLAIN:
		plain_response(s->creds, ir);
		break;
	case SASL_LOGIN:
		buf_adds(ir, s->creds->user);
		break;
	case SASL_SCRAM_SHA_256:
	case SASL_SCRAM_SHA_1:
	case SASL_SCRAM_SHA_256_PLUS:
	case SASL_SCRAM_SHA_1_PLUS:
		scram_client_first(s, ir);
		break;
	case SASL_XOAUTH2:
		xoauth2_response(s->creds, ir);
		break;
	case SASL_OAUTHBEARER:
		oauthbearer_response(s->creds, ir);
		break;
	case SASL_EXTERNAL:
		external_response(s->creds, ir);
		break;
	default:
		return seterr(err, errlen, "unknown SASL mechanism");
	}
	if (ir->data == NULL)
		buf_reserve(ir, 0);
	ir->data[ir->len] = '\0';
	*ir_present = true;
	s->step = 1;
	return 0;
}

int
sasl_step(struct sasl *s, const unsigned char *challenge, size_t len,
    struct buf *out, char *err, size_t errlen)
{
	const char *mname = sasl_mech_name(s->mech);
	int rc = 0;

	buf_wipe(out);
	buf_reserve(out, 0);
	out->data[0] = '\0';
	if (len > SASL_MAX_CHALLENGE)
		return seterr(err, errlen, "%s: challenge of %zu octets is "
		    "too long", mname, len);

	switch (s->mech) {
	case SASL_PLAIN:
		/* The server's (normally empty) challenge asks for the
		 * credentials; a second one is a loop. */
		if (s->step != 0)
			goto extra;
		plain_response(s->creds, out);
		break;
	case SASL_LOGIN:
		/* "Username:" then "Password:"; the text is not trusted. */
		if (s->step == 0)
			buf_adds(out, s->creds->user);
		else if (s->step == 1)
			buf_adds(out, s->creds->secret);
		else
			goto extra;
		break;
	case SASL_CRAM_MD5:
		if (s->step != 0)
			goto extra;
		rc = cram_md5_response(s->creds, challenge, len, out, err,
		    errlen);
		break;
	case SASL_SCRAM_SHA_256:
	case SASL_SCRAM_SHA_1:
	case SASL_SCRAM_SHA_256_PLUS:
	case SASL_SCRAM_SHA_1_PLUS:
		if (s->step == 0) {
			if (len != 0)
				return seterr(err, errlen, "%s: the server "
				    "sent data before the client-first-"
				    "message", mname);
			scram_client_first(s, out);
		} else if (s->step == 1) {
			rc = scram_client_final(s, challenge, len, out, err,
			    errlen);
		} else if (s->step == 2) {
			rc = scram_server_final(s, challenge, len, err,
			    errlen);
			/* the response to the server-final message is empty */
		} else {
			goto extra;
		}
		break;
	case SASL_XOAUTH2:
		if (s->step == 0)
			xoauth2_response(s->creds, out);
		else if (s->step == 1)
			;	/* error JSON: acknowledge with an empty reply */
		else
			goto extra;
		break;
	case SASL_OAUTHBEARER:
		if (s->step == 0)
			oauthbearer_response(s->creds, out);
		else if (s->step == 1)
			buf_addc(out, '\001');	/* RFC 7628 3.2.3 */
		else
			goto extra;
		break;
	case SASL_EXTERNAL:
		if (s->step != 0)
			goto extra;
		external_response(s->creds, out);
		break;
	case SASL_NONE:
	default:
		return seterr(err, errlen, "unknown SASL mechanism");
	}
	if (rc < 0) {
		buf_wipe(out);
		out->data[0] = '\0';
		return -1;
	}
	s->step++;
	return 0;
extra:
	(void)seterr(err, errlen, "%s: unexpected challenge after the "
	    "exchange was complete", mname);
	return SASL_EXTRA_CHALLENGE;
}

bool
sasl_done_ok(const struct sasl *s)
{
	switch (s->mech) {
	case SASL_SCRAM_SHA_256:
	case SASL_SCRAM_SHA_1:
	case SASL_SCRAM_SHA_256_PLUS:
	case SASL_SCRAM_SHA_1_PLUS:
		return s->server_verified;
	case SASL_NONE:
		return false;
	default:
		return true;
	}
}

void
sasl_free(struct sasl *s)
{
	free(s->client_first_bare);
	free(s->server_first);
	s->client_first_bare = NULL;
	s->server_first = NULL;
	explicit_bzero(s->salted, sizeof s->salted);
	explicit_bzero(s->server_sig, sizeof s->server_sig);
	s->step = 0;
	s->server_verified = false;
	s->creds = NULL;
}
