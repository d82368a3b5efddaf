/*
 * options.h: everything the command line and the configuration decide,
 * in one structure.  Filled by cli.c and config.c, read by the rest.
 */
#ifndef CARRIER_OPTIONS_H
#define CARRIER_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "oauth2.h"
#include "util.h"

enum tristate { UNSET = -1, NO = 0, YES = 1 };

/*
 * Convention: a field the command line did not set is NULL, 0, UNSET or
 * TLS_UNSET, so the configuration fills in only what is still unset.
 */

enum tls_mode { TLS_UNSET = -1, TLS_OFF, TLS_IMPLICIT, TLS_STARTTLS_REQUIRED,
    TLS_STARTTLS_OPTIONAL };

/* The `auth` setting (--auth, the account's auth), parsed once. */
enum auth_mode {
	AUTH_DEFAULT = 0,	/* not given: on when there is a user */
	AUTH_ON,		/* the default mechanisms */
	AUTH_OFF,		/* never authenticate */
	AUTH_LIST,		/* exactly these, in this order */
};
#define AUTH_LIST_MAX	8
struct auth_setting {
	enum auth_mode mode;
	size_t n;				/* AUTH_LIST: mechanisms */
	enum sasl_mech mech[AUTH_LIST_MAX];	/* no repeats */
	const char *unsupported;	/* msmtp knows it, carrier does not:
					   "GSSAPI"; a static string */
};

enum action {
	ACT_SEND,		/* the default: deliver a message */
	ACT_FEATURES, ACT_VERIFY, ACT_EXPN, ACT_NOOP, ACT_HELP, ACT_COMMAND,
	ACT_SHOW_HELP, ACT_SHOW_VERSION,
	ACT_NEWALIASES,		/* sendmail -bi: accepted, nothing to do */
	ACT_LIST_QUEUE,		/* -bp, mailq */
	ACT_FLUSH_QUEUE,	/* -q */
	ACT_REMOVE_QUEUED,	/* --queue-remove ID */
	ACT_SMTP_STDIN,		/* sendmail -bs */
	ACT_OAUTH2_LOGIN, ACT_OAUTH2_LOGOUT,	/* --oauth2-login, -logout */
	ACT_SERVERINFO,		/* -S, --serverinfo (msmtp) */
	ACT_RMQS,		/* --rmqs=host|@domain|#queue: ETRN */
};


struct options {
	enum action action;
	const char *query_arg;		/* VRFY/EXPN/HELP argument */
	struct strlist commands;	/* --command, in order */

	/* connection */
	char *host;			/* NULL: "localhost"; the host part
					   of HOST:PORT, or a socket path */
	int port;			/* 0: by protocol and TLS; --port,
					   else the PORT of --host */
	enum tristate lmtp;
	char *helo;			/* NULL: the local FQDN */
	int timeout;			/* seconds, 0: RFC 5321 defaults */
	char *source;			/* --source HOST[:PORT] */
	char *proxy;			/* --proxy socks5[h]://... URL */
	char *proxy_host;		/* msmtp's proxy_host (socks5h) */
	int proxy_port;			/* msmtp's proxy_port; 0: 1080 */
	int family;			/* AF_UNSPEC, AF_INET, AF_INET6 */

	/* TLS */
	enum tls_mode tls;
	char *tls_ca, *tls_cert, *tls_key, *tls_priority;
	char *tls_fingerprint;		/* "SHA256:" and hex, checked */
	char *tls_host;			/* tls_host_override: the name to
					   verify; NULL: host */
	enum tristate tls_certcheck;	/* NO: --tls-no-verify */
	enum tristate tls_starttls;	/* --tls-starttls: how --tls or the
					   account's `tls on` starts TLS */

	/* authentication */
	char *user;
	struct auth_setting auth;
	char *password;			/* from the config only; wiped */
	char *passwordeval;
	bool no_initial_response;
	bool allow_plaintext_auth;
	struct oauth2_settings oauth2;	/* the oauth2_* keys */

	/* envelope and message */
	char *from;			/* -f; "" is the null sender */
	bool from_set;
	bool read_envelope_from;	/* --read-envelope-from: From: */
	char *header_sender;	/* with it, the message's sender, read
				   before the account is chosen by it */
	enum tristate auto_from;	/* --auto-from */
	enum tristate allow_from_override;	/* --allow-from-override */
	bool pretend;			/* -P: print, never connect */
	bool read_recipients;		/* -t */
	char *file;			/* --file (the last one) */
	struct strlist batch_files;	/* every --file, for --batch */
	bool batch;			/* --batch */
	struct strlist maildirs, mboxes;	/* --maildir, --mbox */
	struct strlist recipients;	/* from argv */
	struct strlist mail_options, rcpt_options;
	bool smtputf8;
	bool require_tls;		/* --require-tls, RFC 8689 */
	bool keep_bcc;

	/* sendmail mode */
	bool sendmail;			/* invoked as sendmail or --sendmail */
	bool ignore_dots;		/* -i / -oi */
	char *fullname;			/* -F */
	char *dsn_notify;		/* -N: NEVER or SUCCESS,... upper case */
	char *dsn_return;		/* -R: FULL or HDRS */
	char *dsn_envid;		/* -V */
	char *body_type;		/* -B */

	/* output */
	int debug;			/* 0, 1, 2 */
	enum tristate progress;
	char *logfile;
	char *syslog_facility;		/* "LOG_USER", ...; NULL: no syslog */
	bool report_json;

	/* queue */
	char *queue_dir;		/* --queue=DIR or config `queue` */
	bool queue_on;			/* --queue: queue on failure */
	bool queue_only;		/* -odq, --queue-only */
	int queue_max_age;		/* days; 0: 5 */
	bool flush_due;			/* --flush=due: only what is due */

	/* configuration */
	char *config_file;		/* -C, --config */
	char *config_used;		/* the file loaded; NULL: none */
	bool config_from_caller;	/* -C under the name sendmail: the
					   file must be ours or root's and
					   writable by nobody else */
	char *account;			/* --account, else the one used */
	char *maildomain;
	char *aliases;
	enum tristate set_from_header, set_date_header, set_msgid_header;
	bool replace_from_header;	/* set_from_header on: always write */
	bool undisclosed_recipients;	/* To/Cc/Bcc replaced */
	enum tristate set_to_header;	/* one To of the recipients */
	char *log_time_format;		/* strftime for the log file */
	/* The settings the command line gave (bit = enum config_key):
	   the account never replaces them, not even with on or off. */
	uint64_t cli_keys;
};

void options_init(struct options *o);
void options_free(struct options *o);

#endif
