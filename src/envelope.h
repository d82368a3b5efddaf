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

/* Check and add envelope addresses given without a message (no -t). */
int envelope_check(const char *addr, bool null_ok, struct failure *f);

void envelope_free(struct mail_envelope *e);

#endif
