/*
 * oauth2.h: OAuth2 built in (carrier(1) OAUTH2, carrier.conf(5)): the
 * account's settings, the login (device grant of RFC 8628, or the
 * authorization code grant with PKCE, RFC 7636, on a loopback redirect,
 * RFC 8252), the logout, and the access token at send time, refreshed
 * under a lock when it expires within a minute.
 *
 * Failure classes, the same for every function here:
 *   FAIL_AUTH      not logged in; the refresh token refused (invalid_grant:
 *                  "run carrier --oauth2-login --account NAME"); the user
 *                  denied the login or let it expire; a redirect whose
 *                  state is not ours;
 *   FAIL_TEMP      the provider cannot be reached, does not answer in time,
 *                  answers 5xx or temporarily_unavailable (the message can
 *                  be queued);
 *   FAIL_PROTOCOL  a malformed answer from the provider (not the JSON that
 *                  RFC 6749 describes);
 *   FAIL_TLS       the provider's certificate is not trusted;
 *   FAIL_CONFIG    missing or contradicting settings, the provider refuses
 *                  the client (invalid_client), the token file is unsafe
 *                  (not ours, readable by others) or malformed, the client
 *                  secret command failed;
 *   FAIL_OSERR     files, sockets, processes.
 * No token, code or secret is ever written into a failure.
 */
#ifndef CARRIER_OAUTH2_H
#define CARRIER_OAUTH2_H

#include <stdbool.h>

#include "report.h"

/* The account keys oauth2_*; each malloc'd or NULL (unset).  The command
 * line sets all but the client secret and its command, which only a
 * configuration file may hold. */
struct oauth2_settings {
	char *provider;		/* google | microsoft | custom */
	char *client_id;
	char *client_secret;	/* wiped */
	char *client_secret_eval;	/* run through secret_eval */
	char *authorization_endpoint;
	char *device_endpoint;
	char *token_endpoint;
	char *scope;
	char *token_file;	/* ~ expanded; NULL: the default */
};

void oauth2_settings_free(struct oauth2_settings *s);

/* Is name a provider preset (google, microsoft, custom; ASCII case
 * ignored)? */
bool oauth2_provider_known(const char *name);

struct options;

/* Does this run take its AUTH secret from OAuth2 (a provider set)? */
bool oauth2_in_use(const struct options *o);

/*
 * The settings of o make sense: a known provider, a client id, a token
 * endpoint (the preset's or set), mechanisms that carry a bearer token
 * (auth unset or "on" becomes OAUTHBEARER,XOAUTH2; any other mechanism
 * is FAIL_CONFIG).  May set o->auth.  Returns 0 or -1 (FAIL_CONFIG).
 */
int oauth2_check(struct options *o, struct failure *f);

/*
 * The access token for o's account, malloc'd into *token (free with
 * free_secret).  rejected NULL: one that is valid for another minute,
 * refreshed first when it is not.  rejected non-NULL: the server refused
 * that token: a new one, refreshed unless the token file already holds
 * another.  A refresh happens under the token file's lock, so that
 * concurrent runs refresh once; a rotated refresh token is stored
 * atomically (temporary file, fsync, rename) before the new token is
 * used.  Returns 0 or -1 with f (see above).
 */
int oauth2_token(const struct options *o, const char *rejected, char **token,
    struct failure *f);

/* --oauth2-login: the device grant when the provider has a device
 * endpoint for mail (microsoft, custom with oauth2_device_endpoint),
 * else the code grant with PKCE on a loopback redirect; the tokens go to
 * the token file and stdout says which account is logged in. */
int oauth2_login(const struct options *o, struct failure *f);

/* --oauth2-logout: remove the account's token file (no file: nothing to
 * do, said on stdout). */
int oauth2_logout(const struct options *o, struct failure *f);

#endif
