/*
 * fuzz_sasl.c: libFuzzer target for auth.c.
 *
 * Input: one mode byte, then the rest.
 *   mode % 3 == 0  base64 properties on the rest:
 *                  decode(encode(x)) == x; decode(x) succeeds only for the
 *                  canonical encoding, so encode(decode(x)) == x.
 *   mode % 3 == 1  mechanism (mode / 3) % 8 + 1, initial response when
 *                  mode & 0x80; the rest is a list of challenges, each a
 *                  2-byte big-endian length and that many bytes, fed to
 *                  sasl_step until one is refused.
 *   mode % 3 == 2  SCRAM (SHA-256 when mode & 0x80) after a valid start:
 *                  rest = [1 byte iterations] [chunk: nonce suffix]
 *                  [chunk: salt] [chunk: server-final, or empty for the
 *                  correct one].  The correct signature must verify; any
 *                  other final message that verifies must carry it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

#define NONCE "fuzzNonce"

static const struct sasl_creds creds = {
	"us=er,x", "pencil", NULL, "mx.example", 587, NULL, NULL, 0,
};

#define REQUIRE(c) do { if (!(c)) { \
	fprintf(stderr, "property failed: %s (line %d)\n", #c, __LINE__); \
	abort(); } } while (0)

static bool
next_chunk(const uint8_t **p, size_t *n, const uint8_t **c, size_t *clen)
{
	size_t len;

	if (*n < 2)
		return false;
	len = (size_t)(*p)[0] << 8 | (*p)[1];
	*p += 2;
	*n -= 2;
	if (len > *n)
		len = *n;
	*c = *p;
	*clen = len;
	*p += len;
	*n -= len;
	return true;
}

static void
fuzz_b64(const uint8_t *p, size_t n)
{
	struct buf e, d, e2;

	buf_init(&e);
	buf_init(&d);
	buf_init(&e2);
	b64_encode(p, n, &e);
	REQUIRE(e.len == (n + 2) / 3 * 4);
	REQUIRE(b64_decode(e.data, e.len, &d) == 0);
	REQUIRE(d.len == n && (n == 0 || memcmp(d.data, p, n) == 0));

	if (b64_decode((const char *)p, n, &d) == 0) {
		b64_encode(d.data, d.len, &e2);
		REQUIRE(e2.len == n && (n == 0 || memcmp(e2.data, p, n) == 0));
	} else {
		REQUIRE(d.len == 0);
	}
	buf_free(&e);
	buf_free(&d);
	buf_free(&e2);
}

static void
fuzz_mech(uint8_t mode, const uint8_t *p, size_t n)
{
	enum sasl_mech m = (enum sasl_mech)((mode / 3) % 8 + 1);
	struct sasl s;
	struct buf ir, out;
	bool present = false;
	char err[256];
	const uint8_t *c;
	size_t clen;

	buf_init(&ir);
	buf_init(&out);
	if (sasl_start(&s, m, &creds, (mode & 0x80) != 0, &present, &ir, err,
	    sizeof err) == 0) {
		for (int i = 0; i < 8 && next_chunk(&p, &n, &c, &clen); i++) {
			if (sasl_step(&s, c, clen, &out, err, sizeof err) < 0) {
				REQUIRE(out.len == 0);
				REQUIRE(memchr(err, '\0', sizeof err) != NULL);
				break;
			}
		}
		(void)sasl_done_ok(&s);
	}
	sasl_free(&s);
	buf_free_secret(&ir);
	buf_free_secret(&out);
}

static void
fuzz_scram(uint8_t mode, const uint8_t *p, size_t n)
{
	enum sasl_mech m = mode & 0x80 ? SASL_SCRAM_SHA_256 : SASL_SCRAM_SHA_1;
	struct sasl s;
	struct buf ir, out, sf, want;
	bool present;
	char err[256];
	const uint8_t *suffix, *salt, *fin;
	size_t suffixlen, saltlen, finlen;
	unsigned iter;

	if (n < 1)
		return;
	iter = p[0] % 64 + 1;
	p++;
	n--;
	if (!next_chunk(&p, &n, &suffix, &suffixlen) ||
	    !next_chunk(&p, &n, &salt, &saltlen))
		return;
	if (!next_chunk(&p, &n, &fin, &finlen))
		finlen = 0;

	buf_init(&ir);
	buf_init(&out);
	buf_init(&sf);
	buf_init(&want);
	REQUIRE(sasl_start(&s, m, &creds, true, &present, &ir, err,
	    sizeof err) == 0 && present);
	buf_adds(&sf, "r=" NONCE);
	buf_add(&sf, suffix, suffixlen);
	buf_adds(&sf, ",s=");
	b64_encode(salt, saltlen, &sf);
	buf_addf(&sf, ",i=%u", iter);
	if (sasl_step(&s, (const unsigned char *)sf.data, sf.len, &out, err,
	    sizeof err) == 0) {
		REQUIRE(!sasl_done_ok(&s));
		buf_adds(&want, "v=");
		b64_encode(s.server_sig, s.hashlen, &want);
		if (finlen == 0) {
			REQUIRE(sasl_step(&s, (const unsigned char *)want.data,
			    want.len, &out, err, sizeof err) == 0);
			REQUIRE(sasl_done_ok(&s) && out.len == 0);
		} else if (sasl_step(&s, fin, finlen, &out, err,
		    sizeof err) == 0) {
			REQUIRE(sasl_done_ok(&s));
			REQUIRE(finlen >= want.len &&
			    memcmp(fin, want.data, want.len) == 0 &&
			    (finlen == want.len || fin[want.len] == ','));
		} else {
			REQUIRE(!sasl_done_ok(&s));
		}
		/* nothing more is acceptable */
		REQUIRE(sasl_step(&s, fin, finlen, &out, err, sizeof err) < 0
		    || !sasl_done_ok(&s));
	} else {
		/* only a bad nonce suffix (a "," or non-printable byte, or
		 * empty) or an empty salt can fail here */
		bool printable = suffixlen > 0;
		for (size_t i = 0; i < suffixlen; i++)
			if (suffix[i] < 0x21 || suffix[i] > 0x7e ||
			    suffix[i] == ',')
				printable = false;
		REQUIRE(!printable || saltlen == 0);
	}
	sasl_free(&s);
	buf_free_secret(&ir);
	buf_free_secret(&out);
	buf_free(&sf);
	buf_free(&want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t mode;

	if (size < 1)
		return 0;
	mode = data[0];
	sasl_set_test_nonce(NONCE);
	switch (mode % 3) {
	case 0:
		fuzz_b64(data + 1, size - 1);
		break;
	case 1:
		fuzz_mech(mode, data + 1, size - 1);
		break;
	default:
		fuzz_scram(mode, data + 1, size - 1);
		break;
	}
	return 0;
}
