/* test_auth.c: SASL mechanisms against their RFC vectors; strict base64. */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "check.h"

static char err[512];

static int
mem_eq(const struct buf *b, const void *p, size_t n)
{
	return b->len == n && (n == 0 || memcmp(b->data, p, n) == 0);
}

#define MEMLIT(b, lit) mem_eq((b), (lit), sizeof(lit) - 1)
#define PREFIX(b, lit) ((b)->len >= sizeof(lit) - 1 && \
	memcmp((b)->data, (lit), sizeof(lit) - 1) == 0)
#define CHECK_MEM(b, lit, ...) CHECK(mem_eq((b), (lit), sizeof(lit) - 1), \
	__VA_ARGS__)

static const unsigned char *
u(const char *s)
{
	return (const unsigned char *)s;
}

static int
step_str(struct sasl *s, const char *challenge, struct buf *out)
{
	err[0] = '\0';
	return sasl_step(s, u(challenge), strlen(challenge), out, err,
	    sizeof err);
}

/* Decode the base64 a server would send and step with it. */
static int
step_b64(struct sasl *s, const char *b64, struct buf *out)
{
	struct buf dec;
	int rc;

	buf_init(&dec);
	if (b64_decode(b64, strlen(b64), &dec) < 0) {
		buf_free(&dec);
		return -2;
	}
	err[0] = '\0';
	rc = sasl_step(s, (const unsigned char *)dec.data, dec.len, out, err,
	    sizeof err);
	buf_free(&dec);
	return rc;
}

static char *
enc(const void *p, size_t n)
{
	struct buf b;

	buf_init(&b);
	b64_encode(p, n, &b);
	buf_reserve(&b, 0);
	return b.data;
}

static void
test_names(void)
{
	CHECK(sasl_mech_from_name("plain") == SASL_PLAIN, "plain by name");
	CHECK(sasl_mech_from_name("Scram-Sha-256") == SASL_SCRAM_SHA_256,
	    "SCRAM-SHA-256 case-insensitive");
	CHECK(sasl_mech_from_name("SCRAM-SHA-1") == SASL_SCRAM_SHA_1,
	    "SCRAM-SHA-1 by name");
	CHECK(sasl_mech_from_name("GSSAPI") == SASL_NONE, "unknown -> NONE");
	CHECK(sasl_mech_from_name("PLAINX") == SASL_NONE, "no prefix match");
	CHECK(sasl_mech_from_name(NULL) == SASL_NONE, "NULL -> NONE");
	CHECK_STR(sasl_mech_name(SASL_OAUTHBEARER), "OAUTHBEARER",
	    "name of OAUTHBEARER");
	CHECK_STR(sasl_mech_name(SASL_CRAM_MD5), "CRAM-MD5", "name of CRAM");
	CHECK(sasl_mech_from_name("scram-sha-256-plus") ==
	    SASL_SCRAM_SHA_256_PLUS, "SCRAM-SHA-256-PLUS by name");
	CHECK(sasl_mech_from_name("SCRAM-SHA-1-PLUS") == SASL_SCRAM_SHA_1_PLUS,
	    "SCRAM-SHA-1-PLUS by name");
	CHECK(sasl_mech_binds(SASL_SCRAM_SHA_1_PLUS) &&
	    !sasl_mech_binds(SASL_SCRAM_SHA_256), "only -PLUS binds");
	CHECK(sasl_default_order[0] == SASL_SCRAM_SHA_256_PLUS &&
	    sasl_default_order[1] == SASL_SCRAM_SHA_1_PLUS &&
	    sasl_default_order[2] == SASL_SCRAM_SHA_256 &&
	    sasl_default_order[3] == SASL_SCRAM_SHA_1 &&
	    sasl_default_order[4] == SASL_CRAM_MD5 &&
	    sasl_default_order[5] == SASL_PLAIN &&
	    sasl_default_order[6] == SASL_LOGIN &&
	    sasl_default_order[7] == SASL_NONE, "default order");
}

static void
test_base64(void)
{
	/* RFC 4648 section 10 */
	static const char *vec[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	static const char *bad[] = {
		"=AAA", "AAA=BBB=", "AAA=BBBB", "A===", "====", "AA=A",
		"AAA", "AAAAA", "AA AA", "AAA\n", "AA-_", "AAA*", "Zg=",
		"Zh==",	/* non-zero padding bits */
		"Zm9=",	/* non-zero padding bits */
		"Zg==Zg==", "Rubbish",
	};
	struct buf b, d;

	buf_init(&b);
	buf_init(&d);
	for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
		buf_reset(&b);
		b64_encode(vec[i][0], strlen(vec[i][0]), &b);
		buf_reserve(&b, 0);
		CHECK_STR(b.data, vec[i][1], "encode \"%s\"", vec[i][0]);
		CHECK(b64_decode(vec[i][1], strlen(vec[i][1]), &d) == 0 &&
		    mem_eq(&d, vec[i][0], strlen(vec[i][0])),
		    "decode \"%s\"", vec[i][1]);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t n = strlen(bad[i]);

		buf_reset(&d);
		buf_adds(&d, "junk");
		CHECK(b64_decode(bad[i], n, &d) == -1 && d.len == 0,
		    "reject bad[%zu] \"%s\"", i,
		    strchr(bad[i], '\n') ? "(with LF)" : bad[i]);
	}
	CHECK(b64_decode("AAAA\0AAA", 8, &d) == -1, "reject NUL inside");

	/* Appending encode; round trip of every byte value and length. */
	buf_reset(&b);
	buf_adds(&b, "AUTH PLAIN ");
	b64_encode("\0a\0b", 4, &b);
	buf_reserve(&b, 0);
	CHECK_STR(b.data, "AUTH PLAIN AGEAYg==", "encode appends");

	unsigned char all[256];
	int rt = 1;
	for (size_t i = 0; i < sizeof all; i++)
		all[i] = (unsigned char)(255 - i);
	for (size_t n = 0; n <= sizeof all; n++) {
		buf_reset(&b);
		b64_encode(all, n, &b);
		if (b64_decode(b.data ? b.data : "", b.len, &d) != 0 ||
		    !mem_eq(&d, all, n))
			rt = 0;
	}
	CHECK(rt, "round trip of lengths 0..256");
	buf_free(&b);
	buf_free(&d);
}

static void
test_plain(void)
{
	struct sasl s;
	struct buf ir, out;
	bool present;
	struct sasl_creds c = { "tim", "tanstaaftanstaaf", NULL, NULL, 0, NULL, NULL, 0 };
	struct sasl_creds c2 = { "Kurt", "xipj3plmq", "Ursel", NULL, 0, NULL, NULL, 0 };
	char *e;

	buf_init(&ir);
	buf_init(&out);
	/* RFC 4616 section 4 examples */
	CHECK(sasl_start(&s, SASL_PLAIN, &c, true, &present, &ir, err,
	    sizeof err) == 0 && present, "PLAIN start with IR");
	CHECK_MEM(&ir, "\0tim\0tanstaaftanstaaf", "PLAIN IR tim");
	e = enc(ir.data, ir.len);
	CHECK_STR(e, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm", "PLAIN IR base64");
	free(e);
	CHECK(step_str(&s, "", &out) == SASL_EXTRA_CHALLENGE,
	    "PLAIN: a 334 after the IR is "
	    "an error");
	CHECK(sasl_done_ok(&s), "PLAIN done");
	sasl_free(&s);

	CHECK(sasl_start(&s, SASL_PLAIN, &c2, true, &present, &ir, err,
	    sizeof err) == 0 && present, "PLAIN with authzid");
	CHECK_MEM(&ir, "Ursel\0Kurt\0xipj3plmq", "PLAIN IR Ursel/Kurt");
	sasl_free(&s);

	/* Without IR: the server's empty 334 gets the credentials. */
	buf_reset(&ir);
	CHECK(sasl_start(&s, SASL_PLAIN, &c, false, &present, &ir, err,
	    sizeof err) == 0 && !present && ir.len == 0,
	    "PLAIN start without IR");
	CHECK(step_str(&s, "", &out) == 0, "PLAIN answers the empty 334");
	CHECK_MEM(&out, "\0tim\0tanstaaftanstaaf", "PLAIN response");
	CHECK(step_str(&s, "", &out) == SASL_EXTRA_CHALLENGE,
	    "PLAIN: second 334 is an error");
	CHECK(strstr(err, "tanstaaf") == NULL, "error does not show the "
	    "password");
	sasl_free(&s);

	/* Empty password: defined behaviour (sent as given). */
	struct sasl_creds ce = { "tim", "", NULL, NULL, 0, NULL, NULL, 0 };
	CHECK(sasl_start(&s, SASL_PLAIN, &ce, true, &present, &ir, err,
	    sizeof err) == 0 && present, "PLAIN empty password");
	CHECK_MEM(&ir, "\0tim\0", "PLAIN empty password response");
	sasl_free(&s);

	/* CR/LF are carried by PLAIN (base64), never emitted raw. */
	struct sasl_creds ccr = { "tim", "a\r\nRSET", NULL, NULL, 0, NULL, NULL, 0 };
	CHECK(sasl_start(&s, SASL_PLAIN, &ccr, true, &present, &ir, err,
	    sizeof err) == 0, "PLAIN carries CR/LF in the password");
	e = enc(ir.data, ir.len);
	CHECK(strpbrk(e, "\r\n") == NULL, "and its base64 has no CR/LF");
	free(e);
	sasl_free(&s);

	/* Missing pieces. */
	struct sasl_creds nouser = { NULL, "x", NULL, NULL, 0, NULL, NULL, 0 };
	struct sasl_creds nopw = { "tim", NULL, NULL, NULL, 0, NULL, NULL, 0 };
	CHECK(sasl_start(&s, SASL_PLAIN, &nouser, true, &present, &ir, err,
	    sizeof err) == -1 && !present, "PLAIN without user: error");
	CHECK(strstr(err, "user") != NULL, "  says user: %s", err);
	sasl_free(&s);
	CHECK(sasl_start(&s, SASL_PLAIN, &nopw, true, &present, &ir, err,
	    sizeof err) == -1, "PLAIN without password: error");
	sasl_free(&s);

	/* NUL: a NUL-terminated credential cannot hold one; an embedded NUL
	 * simply ends the string, so "ti\0m" is sent as "ti" and never
	 * shifts the field boundaries. */
	struct sasl_creds cn = { "ti\0m", "pw", "a\0b", NULL, 0, NULL, NULL, 0 };
	CHECK(sasl_start(&s, SASL_PLAIN, &cn, true, &present, &ir, err,
	    sizeof err) == 0, "PLAIN with truncated parts");
	CHECK_MEM(&ir, "a\0ti\0pw", "exactly two NUL separators");
	sasl_free(&s);

	buf_free_secret(&ir);
	buf_free_secret(&out);
}

static void
test_login(void)
{
	struct sasl s;
	struct buf ir, out;
	bool present;
	struct sasl_creds c = { "tim", "tanstaaftanstaaf", NULL, NULL, 0, NULL, NULL, 0 };

	buf_init(&ir);
	buf_init(&out);
	/* With IR: AUTH LOGIN <b64 user>, then 334 -> password. */
	CHECK(sasl_start(&s, SASL_LOGIN, &c, true, &present, &ir, err,
	    sizeof err) == 0 && present, "LOGIN start with IR");
	CHECK_MEM(&ir, "tim", "LOGIN IR is the user");
	CHECK(step_b64(&s, "UGFzc3dvcmQ6", &out) == 0, "LOGIN Password:");
	CHECK_MEM(&out, "tanstaaftanstaaf", "LOGIN answers with password");
	CHECK(step_b64(&s, "UGFzc3dvcmQ6", &out) == SASL_EXTRA_CHALLENGE,
	    "LOGIN third challenge is an error");
	sasl_free(&s);

	/* Without IR: first 334 -> user, second -> password. */
	CHECK(sasl_start(&s, SASL_LOGIN, &c, false, &present, &ir, err,
	    sizeof err) == 0 && !present, "LOGIN start without IR");
	CHECK(step_b64(&s, "VXNlcm5hbWU6", &out) == 0, "LOGIN Username:");
	CHECK_MEM(&out, "tim", "  -> user");
	/* The challenge text is not trusted: "Username:" again still gets
	 * the password (smtplib counts challenges, as we do). */
	CHECK(step_b64(&s, "VXNlcm5hbWU6", &out) == 0, "LOGIN second 334");
	CHECK_MEM(&out, "tanstaaftanstaaf", "  -> password");
	CHECK(step_b64(&s, "", &out) == SASL_EXTRA_CHALLENGE,
	    "LOGIN third 334 is an error");
	CHECK(sasl_done_ok(&s), "LOGIN done");
	sasl_free(&s);

	struct sasl_creds crlf = { "tim", "pw\r\nQUIT", NULL, NULL, 0, NULL, NULL, 0 };
	struct sasl_creds crlfu = { "t\nim", "pw", NULL, NULL, 0, NULL, NULL, 0 };
	CHECK(sasl_start(&s, SASL_LOGIN, &crlf, true, &present, &ir, err,
	    sizeof err) == -1, "LOGIN refuses CR/LF in the password");
	CHECK(strstr(err, "QUIT") == NULL, "  without showing it: %s", err);
	sasl_free(&s);
	CHECK(sasl_start(&s, SASL_LOGIN, &crlfu, false, &present, &ir, err,
	    sizeof err) == -1, "LOGIN refuses LF in the user");
	sasl_free(&s);
	buf_free_secret(&ir);
	buf_free_secret(&out);
}

static void
test_cram(void)
{
	struct sasl s;
	struct buf ir, out;
	bool present = true;
	struct sasl_creds c = { "tim", "tanstaaftanstaaf", NULL, NULL, 0, NULL, NULL, 0 };
	char *e;

	buf_init(&ir);
	buf_init(&out);
	/* RFC 2195 section 2 */
	CHECK(sasl_start(&s, SASL_CRAM_MD5, &c, true, &present, &ir, err,
	    sizeof err) == 0 && !present, "CRAM-MD5 has no IR");
	CHECK(step_b64(&s, "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1j"
	    "aS5uZXQ+", &out) == 0, "CRAM-MD5 RFC 2195 challenge");
	CHECK_MEM(&out, "tim b913a602c7eda7a495b4e6e7334d3890",
	    "CRAM-MD5 RFC 2195 response");
	e = enc(out.data, out.len);
	CHECK_STR(e, "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw",
	    "CRAM-MD5 RFC 2195 base64");
	free(e);
	CHECK(step_str(&s, "<1.2@x>", &out) == SASL_EXTRA_CHALLENGE, "CRAM-MD5 second "
	    "challenge is an error");
	sasl_free(&s);

	CHECK(sasl_start(&s, SASL_CRAM_MD5, &c, false, &present, &ir, err,
	    sizeof err) == 0, "CRAM-MD5 start");
	CHECK(step_str(&s, "", &out) == -1 && out.len == 0,
	    "CRAM-MD5 empty challenge is an error");
	CHECK(strstr(err, "empty") != NULL, "  says empty: %s", err);
	sasl_free(&s);

	/* Large challenges: 12288 and 20000 octets fine, 70000 refused. */
	size_t sizes[] = { 12288, 20000, 65536 };
	for (size_t i = 0; i < 3; i++) {
		unsigned char *big = malloc(sizes[i]);
		memset(big, 'x', sizes[i]);
		CHECK(sasl_start(&s, SASL_CRAM_MD5, &c, false, &present, &ir,
		    err, sizeof err) == 0 && sasl_step(&s, big, sizes[i], &out,
		    err, sizeof err) == 0 && out.len == 4 + 32,
		    "CRAM-MD5 %zu-octet challenge", sizes[i]);
		sasl_free(&s);
		free(big);
	}
	unsigned char *huge = calloc(70000, 1);
	CHECK(sasl_start(&s, SASL_CRAM_MD5, &c, false, &present, &ir, err,
	    sizeof err) == 0 && sasl_step(&s, huge, 70000, &out, err,
	    sizeof err) == -1, "CRAM-MD5 70000-octet challenge refused");
	sasl_free(&s);
	free(huge);
	buf_free_secret(&ir);
	buf_free_secret(&out);
}

struct scram_vec {
	enum sasl_mech mech;
	const char *cnonce, *client_first, *server_first, *client_final,
	    *server_final;
	const struct sasl_creds *creds;	/* NULL: user/pencil, no binding */
};

static const struct scram_vec rfc5802 = {
	SASL_SCRAM_SHA_1, "fyko+d2lbbFgONRv9qkxdawL",
	"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
	"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,"
	"i=4096",
	"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
	"p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
	"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=", NULL,
};

static const struct scram_vec rfc7677 = {
	SASL_SCRAM_SHA_256, "rOprNGfwEbeRWgbNEkqO",
	"n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
	"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
	"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", NULL,
};

static const struct sasl_creds pencil = { "user", "pencil", NULL, NULL, 0,
    NULL, NULL, 0 };

/*
 * Channel binding: no RFC has a -PLUS vector, so these are the RFC 7677
 * and RFC 5802 exchanges with a fixed binding (octets 0, 1, 2, ...), the
 * client-final and server-final computed independently (Python's hashlib
 * and hmac).  The y flag vector is RFC 7677's with "y,," (RFC 5802 6).
 */
static const unsigned char cb_octets[32] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
	20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
};
static const struct sasl_creds pencil_exporter = { "user", "pencil", NULL,
    NULL, 0, "tls-exporter", cb_octets, 32 };
static const struct sasl_creds pencil_unique = { "user", "pencil", NULL,
    NULL, 0, "tls-unique", cb_octets, 12 };

static const struct scram_vec plus256 = {
	SASL_SCRAM_SHA_256_PLUS, "rOprNGfwEbeRWgbNEkqO",
	"p=tls-exporter,,n=user,r=rOprNGfwEbeRWgbNEkqO",
	"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
	"c=cD10bHMtZXhwb3J0ZXIsLAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f,"
	"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	"p=QC6CS20quADQRb3mT99YUH+n3VJxUvzuK0K0E1Vrs2M=",
	"v=2GiAgapEppLVlUXbxUDksL3VgYHzuqiK5tR4mhJGgvs=",
	&pencil_exporter,
};

static const struct scram_vec plus1 = {
	SASL_SCRAM_SHA_1_PLUS, "fyko+d2lbbFgONRv9qkxdawL",
	"p=tls-unique,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
	"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,"
	"i=4096",
	"c=cD10bHMtdW5pcXVlLCwAAQIDBAUGBwgJCgs=,"
	"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
	"p=ResgVA2w6fEFiwzXkrPSGTt/RSg=",
	"v=HKBeWjn99U5AvtgAjz6m1d81mhk=",
	&pencil_unique,
};

static const struct scram_vec yflag256 = {
	SASL_SCRAM_SHA_256, "rOprNGfwEbeRWgbNEkqO",
	"y,,n=user,r=rOprNGfwEbeRWgbNEkqO",
	"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
	"c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	"p=FoqiHTtQEDE8lz1CdaEe3tK4mS+iMDTl77SPyDS53DY=",
	"v=dI4KpiQJwBr1+V+K6U1dA6l6I4I9DUNXWND4pcpRU3U=",
	&pencil_exporter,
};

/* Run a vector up to the server-final message; returns 0 when every
 * client message matched. */
static int
scram_to_final(struct sasl *s, const struct scram_vec *v, bool ir_ok,
    struct buf *out)
{
	struct buf ir;
	bool present;
	int ok = 1;

	buf_init(&ir);
	sasl_set_test_nonce(v->cnonce);
	if (sasl_start(s, v->mech, v->creds ? v->creds : &pencil, ir_ok,
	    &present, &ir, err, sizeof err) != 0)
		ok = 0;
	if (ir_ok) {
		if (!present || !mem_eq(&ir, v->client_first,
		    strlen(v->client_first)))
			ok = 0;
	} else {
		if (present || step_str(s, "", out) != 0 ||
		    !mem_eq(out, v->client_first, strlen(v->client_first)))
			ok = 0;
	}
	if (step_str(s, v->server_first, out) != 0 ||
	    !mem_eq(out, v->client_final, strlen(v->client_final)))
		ok = 0;
	sasl_set_test_nonce(NULL);
	buf_free(&ir);
	return ok ? 0 : -1;
}

/* -PLUS without a binding, or with an empty one, cannot start. */
static void
test_scram_binding_needed(void)
{
	struct sasl_creds c = pencil;
	struct sasl s;
	struct buf ir;
	bool present;

	buf_init(&ir);
	CHECK(sasl_start(&s, SASL_SCRAM_SHA_256_PLUS, &c, true, &present, &ir,
	    err, sizeof err) == -1 && !present,
	    "-PLUS without a binding refused");
	CHECK_STR(err, "SCRAM-SHA-256-PLUS needs a TLS channel binding, and "
	    "this connection has none", "  says why");
	sasl_free(&s);
	c.cb_type = "tls-unique";
	c.cb_data = cb_octets;
	CHECK(sasl_start(&s, SASL_SCRAM_SHA_1_PLUS, &c, true, &present, &ir,
	    err, sizeof err) == -1, "-PLUS with an empty binding refused");
	sasl_free(&s);
	c.cb_len = 12;
	CHECK(sasl_start(&s, SASL_PLAIN, &c, true, &present, &ir, err,
	    sizeof err) == 0, "a binding does not bother PLAIN");
	sasl_free(&s);
	buf_free_secret(&ir);
}

static void
test_scram_vector(const struct scram_vec *v)
{
	const char *name = sasl_mech_name(v->mech);
	struct sasl s;
	struct buf out;

	buf_init(&out);
	for (int ir_ok = 1; ir_ok >= 0; ir_ok--) {
		CHECK(scram_to_final(&s, v, ir_ok, &out) == 0,
		    "%s RFC vector client messages (%s IR)", name,
		    ir_ok ? "with" : "without");
		CHECK(!sasl_done_ok(&s), "%s not done before server-final",
		    name);
		CHECK(step_str(&s, v->server_final, &out) == 0 && out.len == 0,
		    "%s server-final accepted, empty response: %s", name, err);
		CHECK(sasl_done_ok(&s), "%s done after verification", name);
		CHECK(step_str(&s, "", &out) == SASL_EXTRA_CHALLENGE, "%s: a 334 after the end "
		    "is an error", name);
		sasl_free(&s);
	}

	/* Bad server signature: flip one bit. */
	char *bad = strdup(v->server_final);
	bad[3] = bad[3] == 'A' ? 'B' : 'A';
	CHECK(scram_to_final(&s, v, true, &out) == 0 &&
	    step_str(&s, bad, &out) == -1 && !sasl_done_ok(&s),
	    "%s wrong server signature refused", name);
	CHECK(strstr(err, "signature") != NULL, "  says signature: %s", err);
	sasl_free(&s);
	free(bad);

	/* Signature of the wrong length, not base64, extensions after. */
	CHECK(scram_to_final(&s, v, true, &out) == 0 &&
	    step_str(&s, "v=AAAA", &out) == -1, "%s short signature refused",
	    name);
	sasl_free(&s);
	CHECK(scram_to_final(&s, v, true, &out) == 0 &&
	    step_str(&s, "v=!!!!", &out) == -1, "%s non-base64 signature",
	    name);
	sasl_free(&s);
	char ext[200];
	snprintf(ext, sizeof ext, "%s,x=ext", v->server_final);
	CHECK(scram_to_final(&s, v, true, &out) == 0 &&
	    step_str(&s, ext, &out) == 0 && sasl_done_ok(&s),
	    "%s server-final with an extension accepted", name);
	sasl_free(&s);

	/* e= is an error, and carries the server's text. */
	CHECK(scram_to_final(&s, v, true, &out) == 0 &&
	    step_str(&s, "e=invalid-proof", &out) == -1 && !sasl_done_ok(&s),
	    "%s e= is an error", name);
	CHECK(strstr(err, "invalid-proof") != NULL, "  names it: %s", err);
	sasl_free(&s);
	CHECK(scram_to_final(&s, v, true, &out) == 0 &&
	    step_str(&s, "x=1", &out) == -1, "%s unknown final attribute",
	    name);
	sasl_free(&s);
	CHECK(scram_to_final(&s, v, true, &out) == 0 &&
	    step_str(&s, "", &out) == -1, "%s empty server-final", name);
	sasl_free(&s);

	/* 235 before server-final: not ok. */
	CHECK(scram_to_final(&s, v, true, &out) == 0 && !sasl_done_ok(&s),
	    "%s 235 without server signature is not ok", name);
	sasl_free(&s);
	buf_free_secret(&out);
}

static void
scram_first_case(enum sasl_mech m, const char *server_first, int want,
    const char *what)
{
	struct sasl s;
	struct buf ir, out;
	bool present;

	buf_init(&ir);
	buf_init(&out);
	sasl_set_test_nonce("abc");
	sasl_start(&s, m, &pencil, true, &present, &ir, err, sizeof err);
	CHECK(step_str(&s, server_first, &out) == want && (want == 0 ||
	    out.len == 0), "%s: %s (%s)", sasl_mech_name(m), what, err);
	sasl_set_test_nonce(NULL);
	sasl_free(&s);
	buf_free_secret(&ir);
	buf_free_secret(&out);
}

static void
test_scram_bad_first(void)
{
	enum sasl_mech m = SASL_SCRAM_SHA_256;

	scram_first_case(m, "r=abcdef,s=QSXCR+Q6sek8bf92,i=4096", 0,
	    "valid");
	scram_first_case(m, "r=abcdef,s=QSXCR+Q6sek8bf92,i=4096,x=y", 0,
	    "extension ignored");
	scram_first_case(m, "r=xbcdef,s=QSXCR+Q6sek8bf92,i=4096", -1,
	    "wrong nonce");
	scram_first_case(m, "r=abc,s=QSXCR+Q6sek8bf92,i=4096", -1,
	    "nonce not extended");
	scram_first_case(m, "r=ab,s=QSXCR+Q6sek8bf92,i=4096", -1,
	    "nonce shorter");
	scram_first_case(m, "r=abcd f,s=QSXCR+Q6sek8bf92,i=4096", -1,
	    "space in nonce");
	scram_first_case(m, "m=x,r=abcdef,s=QSXCR+Q6sek8bf92,i=4096", -1,
	    "mandatory extension");
	scram_first_case(m, "s=QSXCR+Q6sek8bf92,r=abcdef,i=4096", -1,
	    "wrong order");
	scram_first_case(m, "r=abcdef,s=QSXCR+Q6sek8bf9,i=4096", -1,
	    "bad salt base64");
	scram_first_case(m, "r=abcdef,s=,i=4096", -1, "empty salt");
	scram_first_case(m, "r=abcdef,s=QSXCR+Q6sek8bf92,i=0", -1,
	    "zero iterations");
	scram_first_case(m, "r=abcdef,s=QSXCR+Q6sek8bf92,i=-1", -1,
	    "negative iterations");
	scram_first_case(m, "r=abcdef,s=QSXCR+Q6sek8bf92,i=1000001", -1,
	    "too many iterations");
	scram_first_case(m, "r=abcdef,s=QSXCR+Q6sek8bf92,i=99999999999999", -1,
	    "overflowing iterations");
	scram_first_case(m, "r=abcdef,s=QSXCR+Q6sek8bf92,i=04096", -1,
	    "leading zero");
	scram_first_case(m, "r=abcdef,s=QSXCR+Q6sek8bf92,i=", -1,
	    "empty count");
	scram_first_case(m, "r=abcdef,s=QSXCR+Q6sek8bf92", -1,
	    "missing count");
	scram_first_case(m, "r=abcdef,s=QSXCR+Q6sek8bf92,i=1", 0,
	    "one iteration");
	scram_first_case(m, "", -1, "empty");
	scram_first_case(m, "garbage", -1, "garbage");
	scram_first_case(m, "r=abcdef,,s=QSXCR+Q6sek8bf92,i=1", -1,
	    "empty attribute");

	/* NUL in the server-first message. */
	struct sasl s;
	struct buf ir, out;
	bool present;
	static const char nul[] = "r=abcdef\0,s=QSXCR+Q6sek8bf92,i=1";

	buf_init(&ir);
	buf_init(&out);
	sasl_set_test_nonce("abc");
	sasl_start(&s, m, &pencil, true, &present, &ir, err, sizeof err);
	CHECK(sasl_step(&s, u(nul), sizeof nul - 1, &out, err, sizeof err) ==
	    -1, "SCRAM NUL in server-first refused");
	sasl_free(&s);

	/* Without IR, the server must not speak first. */
	sasl_start(&s, m, &pencil, false, &present, &ir, err, sizeof err);
	CHECK(step_str(&s, "r=abc", &out) == -1, "SCRAM: data in the first "
	    "334 without IR refused");
	sasl_free(&s);
	sasl_set_test_nonce(NULL);

	/* Random nonce: 32 base64 characters, different each time. */
	struct buf ir2;
	buf_init(&ir2);
	sasl_start(&s, m, &pencil, true, &present, &ir, err, sizeof err);
	sasl_free(&s);
	sasl_start(&s, m, &pencil, true, &present, &ir2, err, sizeof err);
	sasl_free(&s);
	CHECK(ir.len == strlen("n,,n=user,r=") + 32 &&
	    strncmp(ir.data, "n,,n=user,r=", 12) == 0,
	    "random nonce of 32 characters: %s", ir.data);
	CHECK(ir.len == ir2.len && memcmp(ir.data, ir2.data, ir.len) != 0,
	    "nonces differ");
	buf_free(&ir);
	buf_free(&ir2);
	buf_free(&out);
}

static void
test_scram_names(void)
{
	struct sasl s;
	struct buf ir, out;
	bool present;
	struct sasl_creds c = { "a=b,c", "pencil", "x,y=", NULL, 0, NULL, NULL, 0 };

	buf_init(&ir);
	buf_init(&out);
	sasl_set_test_nonce("N0nce");
	CHECK(sasl_start(&s, SASL_SCRAM_SHA_1, &c, true, &present, &ir, err,
	    sizeof err) == 0, "SCRAM with authzid and odd user");
	CHECK_MEM(&ir, "n,a=x=2Cy=3D,n=a=3Db=2Cc,r=N0nce",
	    "saslname escaping of = and ,");
	CHECK(step_str(&s, "r=N0nceSRV,s=QSXCR+Q6sek8bf92,i=2", &out) == 0,
	    "client-final with authzid");
	/* c= is base64 of the gs2 header "n,a=x=2Cy=3D," */
	CHECK(strncmp(out.data, "c=bixhPXg9MkN5PTNELA==,r=N0nceSRV,p=",
	    36) == 0, "channel binding carries the gs2 header: %s", out.data);
	sasl_free(&s);

	/* Empty password: defined (PBKDF2 over the empty string). */
	struct sasl_creds ce = { "user", "", NULL, NULL, 0, NULL, NULL, 0 };
	sasl_start(&s, SASL_SCRAM_SHA_256, &ce, true, &present, &ir, err,
	    sizeof err);
	CHECK(step_str(&s, "r=N0nceSRV,s=QSXCR+Q6sek8bf92,i=2", &out) == 0,
	    "SCRAM with an empty password: %s", err);
	sasl_free(&s);

	/* Non-ASCII password: normalised; invalid UTF-8 used as is. */
	struct sasl_creds cu = { "user", "p\xc3\xa4ss", NULL, NULL, 0, NULL, NULL, 0 };
	struct sasl_creds cb = { "user", "p\xe4ss", NULL, NULL, 0, NULL, NULL, 0 };
	sasl_start(&s, SASL_SCRAM_SHA_256, &cu, true, &present, &ir, err,
	    sizeof err);
	CHECK(step_str(&s, "r=N0nceSRV,s=QSXCR+Q6sek8bf92,i=2", &out) == 0,
	    "SCRAM with a UTF-8 password");
	sasl_free(&s);
	sasl_start(&s, SASL_SCRAM_SHA_256, &cb, true, &present, &ir, err,
	    sizeof err);
	CHECK(step_str(&s, "r=N0nceSRV,s=QSXCR+Q6sek8bf92,i=2", &out) == 0,
	    "SCRAM with a Latin-1 password");
	sasl_free(&s);
	sasl_set_test_nonce(NULL);
	buf_free_secret(&ir);
	buf_free_secret(&out);
}

static void
test_xoauth2(void)
{
	struct sasl s;
	struct buf ir, out;
	bool present;
	struct sasl_creds c = { "someuser@example.com",
	    "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg", NULL, NULL, 0,
	    NULL, NULL, 0 };
	char *e;

	buf_init(&ir);
	buf_init(&out);
	/* Google's documented example */
	CHECK(sasl_start(&s, SASL_XOAUTH2, &c, true, &present, &ir, err,
	    sizeof err) == 0 && present, "XOAUTH2 with IR");
	e = enc(ir.data, ir.len);
	CHECK_STR(e, "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YT"
	    "I5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==",
	    "XOAUTH2 Google example");
	free(e);
	/* error challenge -> empty response; then nothing more. */
	CHECK(step_b64(&s, "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiQmVhcmVyIiwi"
	    "c2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==", &out) == 0 &&
	    out.len == 0, "XOAUTH2 error challenge -> empty response");
	CHECK(step_str(&s, "{}", &out) == SASL_EXTRA_CHALLENGE, "XOAUTH2 second error "
	    "challenge is an error");
	sasl_free(&s);

	CHECK(sasl_start(&s, SASL_XOAUTH2, &c, false, &present, &ir, err,
	    sizeof err) == 0 && !present, "XOAUTH2 without IR");
	CHECK(step_str(&s, "", &out) == 0 &&
	    PREFIX(&out, "user=someuser@example.com\001auth=Bearer ya29."),
	    "XOAUTH2 answers the empty 334");
	sasl_free(&s);

	struct sasl_creds inj = { "a\001auth=Bearer x", "tok", NULL, NULL, 0, NULL, NULL, 0 };
	struct sasl_creds badtok = { "a", "tok en", NULL, NULL, 0, NULL, NULL, 0 };
	struct sasl_creds badtok2 = { "a", "tok\001", NULL, NULL, 0, NULL, NULL, 0 };
	struct sasl_creds badtok3 = { "a", "", NULL, NULL, 0, NULL, NULL, 0 };
	struct sasl_creds badtok4 = { "a", "ab=c", NULL, NULL, 0, NULL, NULL, 0 };
	CHECK(sasl_start(&s, SASL_XOAUTH2, &inj, true, &present, &ir, err,
	    sizeof err) == -1, "XOAUTH2 ^A in the user refused");
	sasl_free(&s);
	CHECK(sasl_start(&s, SASL_XOAUTH2, &badtok, true, &present, &ir, err,
	    sizeof err) == -1, "XOAUTH2 space in the token refused");
	CHECK(strstr(err, "tok en") == NULL, "  without showing it");
	sasl_free(&s);
	CHECK(sasl_start(&s, SASL_XOAUTH2, &badtok2, true, &present, &ir, err,
	    sizeof err) == -1, "XOAUTH2 ^A in the token refused");
	sasl_free(&s);
	CHECK(sasl_start(&s, SASL_XOAUTH2, &badtok3, true, &present, &ir, err,
	    sizeof err) == -1, "XOAUTH2 empty token refused");
	sasl_free(&s);
	CHECK(sasl_start(&s, SASL_XOAUTH2, &badtok4, true, &present, &ir, err,
	    sizeof err) == -1, "XOAUTH2 = inside the token refused");
	sasl_free(&s);
	buf_free_secret(&ir);
	buf_free_secret(&out);
}

static void
test_oauthbearer(void)
{
	struct sasl s;
	struct buf ir, out;
	bool present;
	struct sasl_creds c = { "user@example.com",
	    "vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==", NULL,
	    "server.example.com", 143, NULL, NULL, 0 };
	char *e;

	buf_init(&ir);
	buf_init(&out);
	/* RFC 7628 section 4.1 */
	CHECK(sasl_start(&s, SASL_OAUTHBEARER, &c, true, &present, &ir, err,
	    sizeof err) == 0 && present, "OAUTHBEARER with IR");
	CHECK_MEM(&ir, "n,a=user@example.com,\001host=server.example.com"
	    "\001port=143\001auth=Bearer vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEu"
	    "Y29tCg==\001\001", "OAUTHBEARER RFC 7628 4.1 message");
	e = enc(ir.data, ir.len);
	CHECK_STR(e, "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbG"
	    "UuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNr"
	    "QmhkSFJoZG1semRHRXVZMjl0Q2c9PQEB", "OAUTHBEARER RFC 7628 base64");
	free(e);
	/* RFC 7628 4.3: error -> ^A */
	CHECK(step_b64(&s, "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJl"
	    "eGFtcGxlX3Njb3BlIiwib3BlbmlkLWNvbmZpZ3VyYXRpb24iOiJodHRwczovL2V4"
	    "YW1wbGUuY29tLy53ZWxsLWtub3duL29wZW5pZC1jb25maWd1cmF0aW9uIn0=",
	    &out) == 0 && mem_eq(&out, "\001", 1),
	    "OAUTHBEARER error challenge -> ^A");
	CHECK(step_str(&s, "{}", &out) == SASL_EXTRA_CHALLENGE, "OAUTHBEARER loop refused");
	sasl_free(&s);

	struct sasl_creds nouser = { NULL, "tok", NULL, NULL, 0, NULL, NULL, 0 };
	CHECK(sasl_start(&s, SASL_OAUTHBEARER, &nouser, false, &present, &ir,
	    err, sizeof err) == 0 && !present, "OAUTHBEARER without user");
	CHECK(step_str(&s, "", &out) == 0 &&
	    MEMLIT(&out, "n,,\001auth=Bearer tok\001\001"),
	    "OAUTHBEARER answers the empty 334");
	sasl_free(&s);

	struct sasl_creds esc = { "a,b=c", "tok", NULL, NULL, 587, NULL, NULL, 0 };
	CHECK(sasl_start(&s, SASL_OAUTHBEARER, &esc, true, &present, &ir, err,
	    sizeof err) == 0 && MEMLIT(&ir, "n,a=a=2Cb=3Dc,\001port=587"
	    "\001auth=Bearer tok\001\001"), "OAUTHBEARER saslname escaping");
	sasl_free(&s);
	struct sasl_creds badhost = { "u", "tok", NULL, "h\001auth=x", 1, NULL, NULL, 0 };
	CHECK(sasl_start(&s, SASL_OAUTHBEARER, &badhost, true, &present, &ir,
	    err, sizeof err) == -1, "OAUTHBEARER ^A in host refused");
	sasl_free(&s);
	buf_free_secret(&ir);
	buf_free_secret(&out);
}

static void
test_external(void)
{
	struct sasl s;
	struct buf ir, out;
	bool present;
	struct sasl_creds none = { NULL, NULL, NULL, NULL, 0, NULL, NULL, 0 };
	struct sasl_creds az = { NULL, NULL, "admin", NULL, 0, NULL, NULL, 0 };
	char *e;

	buf_init(&ir);
	buf_init(&out);
	CHECK(sasl_start(&s, SASL_EXTERNAL, &none, true, &present, &ir, err,
	    sizeof err) == 0 && present && ir.len == 0 && ir.data != NULL,
	    "EXTERNAL: empty IR is present");
	e = enc(ir.data, ir.len);
	CHECK_STR(e ? e : "", "", "  encodes to nothing (sent as \"=\")");
	free(e);
	CHECK(step_str(&s, "", &out) == SASL_EXTRA_CHALLENGE, "EXTERNAL: 334 after IR refused");
	sasl_free(&s);
	CHECK(sasl_start(&s, SASL_EXTERNAL, &az, true, &present, &ir, err,
	    sizeof err) == 0 && present && mem_eq(&ir, "admin", 5),
	    "EXTERNAL with authzid");
	sasl_free(&s);
	CHECK(sasl_start(&s, SASL_EXTERNAL, &none, false, &present, &ir, err,
	    sizeof err) == 0 && !present, "EXTERNAL without IR");
	CHECK(step_str(&s, "", &out) == 0 && out.len == 0,
	    "EXTERNAL answers the 334 with an empty response");
	CHECK(sasl_done_ok(&s), "EXTERNAL done");
	sasl_free(&s);

	CHECK(sasl_start(&s, SASL_NONE, &none, true, &present, &ir, err,
	    sizeof err) == -1, "SASL_NONE refused");
	CHECK(!sasl_done_ok(&s), "SASL_NONE never ok");
	sasl_free(&s);
	buf_free_secret(&ir);
	buf_free_secret(&out);
}

/* IR rules: want_ir false never produces one; NULL out-params are fine. */
static void
test_ir_rules(void)
{
	static const enum sasl_mech all[] = { SASL_SCRAM_SHA_256,
	    SASL_SCRAM_SHA_1, SASL_CRAM_MD5, SASL_PLAIN, SASL_LOGIN,
	    SASL_XOAUTH2, SASL_OAUTHBEARER, SASL_EXTERNAL };
	struct sasl_creds c = { "u", "tok", NULL, "h", 25, NULL, NULL, 0 };
	struct sasl s;
	struct buf ir;
	bool present;

	buf_init(&ir);
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		present = true;
		buf_reset(&ir);
		CHECK(sasl_start(&s, all[i], &c, false, &present, &ir, err,
		    sizeof err) == 0 && !present && ir.len == 0,
		    "%s: no IR when not wanted", sasl_mech_name(all[i]));
		sasl_free(&s);
		CHECK(sasl_start(&s, all[i], &c, true, &present, &ir, err,
		    sizeof err) == 0 && present == (all[i] != SASL_CRAM_MD5),
		    "%s: IR %s when wanted", sasl_mech_name(all[i]),
		    all[i] != SASL_CRAM_MD5 ? "present" : "absent");
		sasl_free(&s);
		CHECK(sasl_start(&s, all[i], &c, false, NULL, NULL, NULL, 0) ==
		    0, "%s: NULL ir pointers fine without IR",
		    sasl_mech_name(all[i]));
		sasl_free(&s);
	}
	buf_free_secret(&ir);
}

int
main(void)
{
	test_names();
	test_base64();
	test_plain();
	test_login();
	test_cram();
	test_scram_vector(&rfc5802);
	test_scram_vector(&rfc7677);
	test_scram_vector(&plus256);
	test_scram_vector(&plus1);
	test_scram_vector(&yflag256);
	test_scram_binding_needed();
	test_scram_bad_first();
	test_scram_names();
	test_xoauth2();
	test_oauthbearer();
	test_external();
	test_ir_rules();
	return check_done();
}
