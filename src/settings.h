/*
 * settings.h: every setting that both the command line and the
 * configuration file can give, in one table: its configuration key, its
 * long option, its value type and its help line.  A value is parsed here,
 * once, into its typed form (a number, an enum, a flag set, host and port,
 * a list of SASL mechanisms); cli.c and config_parse.c only say where it
 * came from.  Pure: no I/O, no environment.
 *
 * Adding a configuration key is one row in settings.c (and one name in
 * enum config_key); giving it a long option is filling that row's
 * `option`.
 */
#ifndef CARRIER_SETTINGS_H
#define CARRIER_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "options.h"

/* Canonical settings.  Old configuration names are rows of their own
 * that fold into these: connect_timeout -> timeout, keepbcc ->
 * remove_bcc_headers (inverted), tls_nostarttls -> tls_starttls off,
 * tls_nocertcheck -> tls_certcheck off, add_missing_from_header ->
 * set_from_header (on=auto), add_missing_date_header -> set_date_header
 * (on=auto). */
enum config_key {
	CK_HOST, CK_PORT, CK_SOCKET, CK_SOURCE_IP, CK_PROXY_HOST,
	CK_PROXY_PORT, CK_TIMEOUT, CK_PROTOCOL, CK_DOMAIN,
	CK_AUTH, CK_USER, CK_PASSWORD, CK_PASSWORDEVAL, CK_NTLMDOMAIN,
	CK_TLS, CK_TLS_STARTTLS, CK_TLS_TRUST_FILE, CK_TLS_CRL_FILE,
	CK_TLS_FINGERPRINT, CK_TLS_KEY_FILE, CK_TLS_CERT_FILE,
	CK_TLS_CERTCHECK, CK_TLS_PRIORITIES, CK_TLS_HOST_OVERRIDE,
	CK_TLS_MIN_DH_PRIME_BITS, CK_TLS_FORCE_SSLV3,
	CK_FROM, CK_ALLOW_FROM_OVERRIDE, CK_AUTO_FROM, CK_MAILDOMAIN,
	CK_DSN_NOTIFY, CK_DSN_RETURN,
	CK_SET_FROM_HEADER, CK_SET_DATE_HEADER, CK_SET_MSGID_HEADER,
	CK_REMOVE_BCC_HEADERS, CK_UNDISCLOSED_RECIPIENTS, CK_SET_TO_HEADER,
	CK_LOGFILE, CK_LOGFILE_TIME_FORMAT, CK_SYSLOG, CK_ALIASES,
	CK_FROM_FULL_NAME,
	/* carrier only */
	CK_QUEUE, CK_ALLOW_PLAINTEXT_AUTH, CK_INITIAL_RESPONSE, CK_PROXY,
	CK_OAUTH2_PROVIDER, CK_OAUTH2_CLIENT_ID, CK_OAUTH2_CLIENT_SECRET,
	CK_OAUTH2_CLIENT_SECRET_EVAL, CK_OAUTH2_AUTHORIZATION_ENDPOINT,
	CK_OAUTH2_DEVICE_ENDPOINT, CK_OAUTH2_TOKEN_ENDPOINT, CK_OAUTH2_SCOPE,
	CK_OAUTH2_TOKEN_FILE, CK_REQUIRE_TLS,
	CK_COUNT
};

/* How a value is written and what it becomes (struct setting_value). */
enum setting_type {
	ST_TEXT,	/* any text; "" unsets */
	ST_WORD,	/* text that goes into a command: no control byte */
	ST_HELO,	/* the EHLO name: no control byte, no blank */
	ST_HOST,	/* HOST[:PORT], [V6][:PORT], V6, /socket: str, num */
	ST_SOURCE,	/* "" or HOST[:PORT]: str as written */
	ST_PORT,	/* 1..65535: num */
	ST_PORT_OPT,	/* "" or 1..65535 */
	ST_TIMEOUT,	/* off (num 0) or 1..SETTING_TIMEOUT_MAX seconds */
	ST_POSINT_OPT,	/* "" or a positive int */
	ST_PROTOCOL,	/* smtp (num 0) | lmtp (1) */
	ST_AUTH,	/* "" | on | off | MECH[,MECH...]: auth */
	ST_BOOL,	/* "" (on) | on | off: num 1/0 */
	ST_BOOL_INV,	/* keepbcc: on means remove_bcc_headers off */
	ST_NOARG_OFF,	/* tls_nostarttls, tls_nocertcheck: num 0 */
	ST_FINGERPRINT,	/* "" or SHA256/SHA-1/MD5 hex: num = its bytes */
	ST_DSN_NOTIFY,	/* off ("") | never | success,failure,delay */
	ST_DSN_RETURN,	/* off ("") | full | hdrs (headers) */
	ST_HDR3,	/* "" | auto | on | off: enum config_header */
	ST_HDR2,	/* "" | auto | off */
	ST_HDR_LEGACY,	/* add_missing_*_header: "" | on | off */
	ST_SYSLOG,	/* "" | on | off | FACILITY: "LOG_X" or "" */
	ST_PROXY,	/* "" or socks5[h]://[USER@]HOST[:PORT]: str */
	ST_OAUTH2_PROVIDER,	/* google | microsoft | custom: str, lower */
};

/* Values of set_from_header / set_date_header / set_msgid_header. */
enum config_header { CH_AUTO = 0, CH_ON = 1, CH_OFF = 2 };

/* The one upper limit of a timeout, from either side: a day. */
#define SETTING_TIMEOUT_MAX	86400

/* The syslog facility of `syslog on` and of --syslog without a value:
   LOG_USER, as msmtp(1) documents for its `syslog` command. */
#define SETTING_SYSLOG_DEFAULT	"LOG_USER"

/*
 * A parsed value.  str is the normalised text (upper-case DSN keywords,
 * "LOG_MAIL", "SHA256:..." fingerprints, the host part of a HOST:PORT),
 * "" where the value unsets (an empty text, dsn_notify off, syslog off);
 * num holds numbers, booleans, the protocol, enum config_header, the
 * port of a HOST:PORT (0: none) and the bytes of a fingerprint; auth the
 * mechanisms of ST_AUTH.
 */
struct setting_value {
	char *str;
	long num;
	struct auth_setting auth;
};

struct setting {
	const char *key;	/* configuration key; NULL: option only */
	const char *option;	/* carrier's long option; NULL: none yet */
	enum config_key id;
	enum setting_type type;
	/* For an option: the value when none is given; with
	   `value_optional` false the option takes none at all. */
	const char *fixed;
	bool value_optional;
	const char *help;	/* one line for help and documentation */
};

/* The table, in file order; n rows. */
extern const struct setting settings[];
extern const size_t settings_count;

/* The row of a configuration key (case matters, as in msmtp) or of a
   long option (without "--"); NULL when there is none. */
const struct setting *setting_by_key(const char *key);
const struct setting *setting_by_option(const char *option);

/* The canonical configuration key of a setting ("tls_trust_file"). */
const char *config_key_name(enum config_key k);

/* Why a value was refused; the same from the command line and the
   configuration file. */
enum setting_error {
	SE_OK = 0,
	SE_EMPTY,	/* a value is needed */
	SE_NOARG,	/* the key takes no value */
	SE_CONTROL,	/* a control byte in a value that goes on the wire */
	SE_BLANK,	/* a blank in the EHLO name */
	SE_INVALID,	/* not of the type; hint says what is expected */
};

/*
 * Parse arg for setting s into *v (zeroed first; free with
 * setting_value_free).  Returns SE_OK, or the error with *v empty and
 * hint set to what was expected, e.g. "a port number, 1 to 65535"
 * (never NULL).  Allocation failure aborts.
 */
enum setting_error setting_parse(const struct setting *s, const char *arg,
    struct setting_value *v, const char **hint);

/* The message for an error, naming the key (configuration file:
   "invalid value 'x' for 'port' (...)") or not (command line, where the
   option is named before it: "invalid value 'x' (...)"). */
void setting_error_text(enum setting_error e, const char *key,
    const char *arg, const char *hint, char *out, size_t outlen);

void setting_value_free(struct setting_value *v, enum config_key id);

/*
 * HOST[:PORT] as --host and the configuration's host take it: "/..." is a
 * socket path, taken whole; "[V6]" and "[V6]:PORT" an IPv6 address; a
 * value with two colons or more a bare IPv6 address; else "HOST" or
 * "HOST:PORT".  *host is malloc'd, *port 1..65535 or 0 when none was
 * written.  Returns false (nothing allocated) when the value is empty,
 * holds a control byte, or the port or the brackets are malformed.
 */
bool hostport_parse(const char *v, char **host, int *port);

/* A positive decimal number up to max: optional '+', no leading zero (a
 * leading zero would be octal to msmtp, so refuse rather than differ). */
bool parse_posint(const char *s, long max, long *out);

/* The mechanisms of an auth setting that need a user name (all but
   EXTERNAL and OAUTHBEARER): the first one, or SASL_NONE. */
enum sasl_mech auth_first_needing_user(const struct auth_setting *a);

/* AUTH will need a secret: not off, and not EXTERNAL alone. */
bool auth_may_need_secret(const struct auth_setting *a);

#endif
