/*
 * session.h: the SMTP/LMTP dialogue (smtplib's SMTP and LMTP classes).
 * It knows the protocol and nothing about sockets (net.c), the command
 * line (cli.c) or how results are shown (main.c through the events).
 */
#ifndef CARRIER_SESSION_H
#define CARRIER_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "message.h"
#include "net.h"
#include "options.h"
#include "reply.h"
#include "report.h"

/* How the engine reports what it does; any member may be NULL. */
struct session_events {
	/* A command line as it is sent, credentials already redacted. */
	void (*sent)(void *ctx, const char *line);
	/* A reply as it was received (raw bytes: escape before showing). */
	void (*received)(void *ctx, const struct reply *r);
	/* Something worth a line at -v (connecting, TLS details, data). */
	void (*info)(void *ctx, const char *line);
	/* A warning shown whatever the verbosity. */
	void (*warn)(void *ctx, const char *line);
	void *ctx;
	/* Message data handed to the connection so far, of total octets. */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	/* The secret for AUTH, asked for only when AUTH will happen;
	   returns a string the session wipes and frees, or NULL with *f. */
	char *(*secret)(void *secret_ctx, struct failure *f);
	/* After a bearer token (XOAUTH2, OAUTHBEARER) was refused with 535:
	   a new one for one more try (wiped and freed by the session), or
	   NULL: with f->class FAIL_NONE when there is no other to try, else
	   with *f, the failure that ends the session.  NULL: no retry. */
	char *(*secret_refused)(void *secret_ctx, const char *refused,
	    struct failure *f);
	void *secret_ctx;
};

struct session_config {
	struct net_target target;
	bool lmtp;
	const char *helo;
	enum tls_mode tls;
	struct tls_config tls_cfg;
	int timeout;			/* seconds; 0: RFC 5321 defaults */
	const char *user;		/* NULL: no AUTH */
	const struct auth_setting *auth;	/* NULL: the default */
	bool no_initial_response;
	bool allow_plaintext_auth;
	const struct strlist *mail_options, *rcpt_options;
	bool smtputf8;			/* --smtputf8, or a non-ASCII address */
	bool require_tls;		/* REQUIRETLS (RFC 8689) on MAIL */
	const char *dsn_notify, *dsn_return, *dsn_envid;
	const char *body_type;		/* -B: 7BIT or 8BITMIME */
	bool quit_early;		/* one message only: QUIT may be
					   pipelined after its data */
	struct session_events ev;
};

struct session {
	const struct session_config *cfg;
	struct conn *conn;
	struct capabilities caps;
	char *greeting;		/* the greeting's text, as received */
	bool usable;		/* QUIT may be sent */
	bool bearer_retried;	/* a refused bearer token was replaced */
	bool quit_sent;
	bool behind;		/* a transaction is in flight behind the
				   one whose replies are being read */
};

/* Open the session: connect, greeting, EHLO/LHLO (HELO fallback),
 * STARTTLS, AUTH.  On failure the session is closed as the failure
 * requires (QUIT or not) and -1 is returned with *f set. */
int session_open(struct session *s, const struct session_config *cfg,
    struct failure *f);

struct rcpt_result {
	char *address;
	bool accepted;		/* delivered (LMTP) or accepted by the server */
	const char *stage;	/* "RCPT", "delivery", or NULL */
	int code;
	char enhanced[16];
	char *text;
};

struct send_result {
	struct rcpt_result *r;
	size_t n;
	struct reply final;	/* reply to the end of data, code 0 if none */
};

void send_result_free(struct send_result *res);

/* The recipient did not get the message and was not refused for good
   (no 5xx): a 4xx, or a transaction that failed before its reply.  A
   later try may still deliver to it. */
bool rcpt_retryable(const struct rcpt_result *r);

/* An envelope as session_send reads it: borrowed, never owned (the
   owned one is envelope.h's struct mail_envelope, or a queue entry's). */
struct envelope_view {
	const char *sender;		/* "" for the null sender */
	const struct strlist *recipients;
};

/*
 * One transaction (more when a server answers 452 "too many recipients":
 * those recipients go in a further transaction).  res is filled for every
 * recipient whatever happens.  Returns 0 when every recipient was accepted;
 * else -1 with *f: FAIL_PARTIAL, FAIL_REFUSED, FAIL_TEMP, FAIL_SENDER,
 * FAIL_DATA, FAIL_UNSUPPORTED (SMTPUTF8), FAIL_IOERR, FAIL_PROTOCOL.
 */
int session_send(struct session *s, const struct envelope_view *env,
    const struct message *msg, struct send_result *res, struct failure *f);

/*
 * Transactions in flight across messages (RFC 2920; RFC 3030 lets BDAT be
 * pipelined): session_post sends what may go before any reply, and
 * session_advance reads the replies of the oldest transaction in flight,
 * so that a batch keeps several messages on the wire.  Replies are read in
 * the order the transactions were posted; each keeps its own outcome.
 */
struct flight;

/*
 * Post one transaction behind those in flight (`ahead`: some are): MAIL,
 * every RCPT and, with CHUNKING, "BDAT n LAST" and the message (preceded
 * by RSET when another is ahead, so that its outcome cannot leave a
 * transaction open for this one's MAIL); else DATA.  res is set up for
 * every recipient.  0 with *out, or -1 with *f (as session_send).  A
 * server without PIPELINING gets the whole transaction here in lock-step:
 * then *out is NULL and the return is session_send's.
 */
int session_post(struct session *s, const struct envelope_view *env,
    const struct message *msg, struct send_result *res, bool ahead,
    struct flight **out, struct failure *f);

enum flight_step {
	FLIGHT_FAILED = -1,	/* the outcome, *f as session_send's */
	FLIGHT_DONE = 0,	/* every recipient accepted */
	FLIGHT_AWAITING = 1,	/* DATA: the data went out, the reply to
				   its end is still to come; post the next
				   transaction now, then advance again */
	FLIGHT_MORE_ROUNDS = 2,	/* 452 "too many recipients": advance every
				   transaction behind it, then
				   session_flight_rest */
};

/* Read the oldest transaction's replies (`behind`: others follow it).
   After a failure with s->usable false, nothing behind will be answered. */
enum flight_step session_advance(struct session *s, struct flight *fl,
    bool behind, struct failure *f);

/* With nothing else in flight: the further rounds in lock-step or
   pipelined as session_send does; 0, or -1 with *f. */
int session_flight_rest(struct session *s, struct flight *fl,
    struct failure *f);

/* Some reply of this transaction was read (beyond an RSET ahead of it). */
bool session_flight_answered(const struct flight *fl);

/* Octets and commands this transaction puts on the wire (for the caps
   on what is in flight). */
uint64_t session_flight_octets(const struct flight *fl);
size_t session_flight_commands(const struct flight *fl);

/* DATA was posted and its data has not gone out yet: nothing may follow
   it on the wire before session_advance sent the data. */
bool session_flight_data_due(const struct flight *fl);

void session_flight_free(struct flight *fl);

/*
 * A stepwise transaction, for a relay that passes each of the server's
 * replies on to its own client (sendmail -bs): lock-step, one command and
 * its reply at a time, never pipelined, on an open session.  Each returns
 * 0 with the server's reply in *r whatever its code (the caller decides
 * what a refusal means), or -1 with *f when there is no reply to pass on:
 * FAIL_IOERR (connection lost), FAIL_TEMP (timeout, or an unsolicited
 * 421), FAIL_PROTOCOL (a malformed reply, more than one, or a 1xx/3xx),
 * FAIL_OSERR.  After a 421 or a -1 the session is no longer usable
 * (s->usable false): close it and open a new one.
 */
struct mail_params {
	bool size_given;
	uint64_t size;		/* SIZE=, sent when the server offers SIZE */
	const char *body;	/* "7BIT", "8BITMIME" or NULL (then -B's) */
	bool smtputf8;		/* SMTPUTF8 was asked for */
};

/* MAIL FROM:<sender> with p's parameters (each only when the server
   offers it), the DSN and configured MAIL parameters, and SMTPUTF8 when
   asked for or the sender is not ASCII; that without SMTPUTF8 offered is
   FAIL_UNSUPPORTED, nothing sent. */
int session_mail(struct session *s, const char *sender,
    const struct mail_params *p, struct reply *r, struct failure *f);

/* RCPT TO:<rcpt> with the configured DSN and RCPT parameters. */
int session_rcpt(struct session *s, const char *rcpt, struct reply *r,
    struct failure *f);

/* RSET. */
int session_rset(struct session *s, struct reply *r, struct failure *f);

/*
 * The message, as DATA (BDAT with CHUNKING) for the recipients of res
 * whose RCPT was accepted (res->r[i].accepted, set by the caller), after a
 * successful session_mail and session_rcpt.  res->final is the server's
 * reply to DATA when it refused it, else to the end of data (LMTP: the
 * last one, each recipient's in res->r).  Returns 0 when the data was
 * accepted (LMTP: the replies were read); else -1 with *f: FAIL_DATA or
 * FAIL_TEMP with the refusal in res->final, or with res->final.code 0 no
 * reply to pass on: FAIL_IOERR, FAIL_TEMP (timeout), FAIL_PROTOCOL,
 * FAIL_OSERR, FAIL_NOINPUT (the message could not be read), the delivery
 * status being unknown once the data went out.
 */
int session_data(struct session *s, const struct message *msg,
    struct send_result *res, struct failure *f);

/*
 * Send one command (VRFY x, EXPN x, NOOP, HELP x, or anything for
 * --command) and read its reply into *r.  Returns the class of the reply
 * as carrier(1) EXIT STATUS says for query modes (FAIL_NONE for 2xx/3xx),
 * or -1 when no reply could be read.
 */
int session_command(struct session *s, const char *line, struct reply *r,
    enum fail_class *class, struct failure *f);

/* QUIT when the connection is usable, then close.  Never fails. */
void session_close(struct session *s);

#endif
