/*
 * address.h: RFC 5322 address lists from header fields, and the checks an
 * envelope address must pass before it may appear in an SMTP command.
 * Pure functions over bytes: no I/O, no globals.
 */
#ifndef CARRIER_ADDRESS_H
#define CARRIER_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/*
 * Parse the body of one address header field (To, Cc, Bcc, From, Sender,
 * Reply-To and their Resent- forms), raw bytes, possibly folded (CRLF or
 * LF followed by WSP), and append each addr-spec to out, in order, as
 * Python's email.utils.getaddresses does for well-formed input:
 * display names (atoms, quoted strings with \-escapes), nested comments,
 * angle addresses, groups ("undisclosed-recipients:;", "team: a@x, b@y;"),
 * obsolete routes (<@a,@b:c@d> gives c@d), empty list elements, RFC 2047
 * encoded words left as they are, UTF-8 in local parts and domains.
 * A null address "<>" is appended as "".  The addr-spec is returned as it
 * is written (a quoted local part keeps its quotes), without CFWS.
 *
 * Returns 0, or -1 with a one-line reason in err (at most errlen bytes)
 * for malformed input; on -1 nothing is appended to out.
 */
int address_list_parse(const char *s, size_t len, struct strlist *out,
    char *err, size_t errlen);

/*
 * Check an envelope address as it will be written inside <...> of MAIL
 * FROM or RCPT TO.  Returns NULL when it is acceptable, else a short
 * reason ("contains a control character", "is empty", "is longer than
 * 254 octets (256 with <>)", "is not valid UTF-8", "contains a space
 * outside quotes", "contains '<' or '>' outside quotes").
 * The null sender "" is acceptable only when null_ok is true.
 */
const char *address_check(const char *addr, bool null_ok);

/* True when every byte is 7-bit ASCII. */
bool address_is_ascii(const char *addr);

/* True when the local part (before the last '@') is 7-bit ASCII: only
   then can the address travel without SMTPUTF8 (RFC 6531). */
bool address_local_is_ascii(const char *addr);

/*
 * A domain name in A-labels (IDNA2008 lookup, RFC 5891, with the UTS #46
 * non-transitional mapping: capitals folded, NFC); an ASCII name is copied
 * as it is.  Returns a new string, or NULL with a one-line reason in err
 * when the name is no valid IDNA2008 name.
 */
char *address_idna_name(const char *name, char *err, size_t errlen);

/*
 * The address with its domain in A-labels (IDNA2008, RFC 5891: "jörg@
 * bücher.example" gives "jörg@xn--bcher-kva.example"), for a server that
 * does not offer SMTPUTF8.  An ASCII domain or an address literal is
 * copied as it is.  Returns a new string, or NULL with a one-line reason
 * in err when the domain is no valid IDNA2008 name (a disallowed code
 * point, a label that breaks the bidi rule, ...).
 */
char *address_domain_to_ascii(const char *addr, char *err, size_t errlen);

/*
 * An address given on the command line or in the configuration may be
 * written "<a@b>"; return a new string without one pair of surrounding
 * angle brackets and surrounding blanks.
 */
char *address_strip_brackets(const char *addr);

#endif
