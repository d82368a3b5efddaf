/*
 * envelope.h: who the message is from and to, decided from the command
 * line, the account and the message's own headers (smtplib's
 * send_message() rules, carrier(1) MESSAGE HANDLING), and the header
 * edits that go with it (Bcc removal, the From/Date/Message-ID that a
 * sendmail adds).
 */
#ifndef CARRIER_ENVELOPE_H
#define CARRIER_ENVELOPE_H

#include "message.h"
#include "options.h"
#include "report.h"

struct mail_envelope {
	char *sender;			/* "" for the null sender */
	struct strlist recipients;	/* unique, checked */
};

/*
 * Decide the envelope and edit m's header block accordingly.
 * `fqdn` is the local host name for defaults.  Errors: FAIL_DATAERR
 * (unparsable address field, several Resent- blocks, no recipient, no
 * sender, an address that cannot go into a command), FAIL_CONFIG (an
 * aliases file that cannot be read).  Nothing is sent before this passes.
 */
int envelope_build(struct mail_envelope *e, const struct options *o,
    struct message *m, const char *fqdn, struct failure *f);

/*
 * The sender envelope_build would take from m's headers when -f gives
 * none (Sender or From, or their Resent- forms), malloc'd into *out, or
 * NULL when the headers name none or hold several Resent- blocks.  For
 * choosing the account by it (--read-envelope-from).  FAIL_DATAERR on an
 * unparsable field.
 */
int envelope_header_sender(const struct message *m, char **out,
    struct failure *f);

/* Check and add envelope addresses given without a message (no -t). */
int envelope_check(const char *addr, bool null_ok, struct failure *f);

/*
 * The rules of envelope_build for one address given alone, as sendmail
 * -bs gets them in MAIL and RCPT, before there is a message: a sender as
 * -f's (maildomain qualifies a bare name) into *out (malloc'd), a
 * recipient as one of the command line's (aliases, then maildomain) into
 * the list *out (initialised here).  Errors: FAIL_DATAERR (an address
 * that cannot go into a command), FAIL_CONFIG (an aliases file that cannot
 * be read).
 */
int envelope_given_sender(const struct options *o, const char *addr,
    const char *fqdn, char **out, struct failure *f);
int envelope_given_recipient(const struct options *o, const char *addr,
    struct strlist *out, struct failure *f);

void envelope_free(struct mail_envelope *e);

#endif
