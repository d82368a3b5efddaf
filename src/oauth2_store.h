/*
 * oauth2_store.h: the token file of one account: JSON (oauth2_http.h's
 * oauth2_parse_store), mode 0600, replaced atomically, and its lock file
 * (the token file's name + ".lock") for refreshes.  Failures as in
 * oauth2.h; the file's name is the failure's `what`.
 */
#ifndef CARRIER_OAUTH2_STORE_H
#define CARRIER_OAUTH2_STORE_H

#include <stdbool.h>

#include "oauth2_http.h"
#include "report.h"

/*
 * $XDG_STATE_HOME/carrier/oauth2/ACCOUNT (XDG_STATE_HOME absolute, else
 * ~/.local/state).  With create, the missing directories are made (mode
 * 0700).  The account name must be usable as a file name (no '/', not
 * starting with '.').  Returns a malloc'd path, or NULL with f
 * (FAIL_CONFIG, FAIL_OSERR).
 */
char *oauth2_store_default(const char *account, bool create,
    struct failure *f);

/*
 * Read the token file into *t (overwritten; clear it in every case).
 * It must be a regular file of ours, not readable or writable by group or
 * others, at most OAUTH2_MAX_BODY bytes.  Returns 1 read, 0 no such file,
 * -1 with f (FAIL_CONFIG unsafe or malformed, FAIL_OSERR).
 */
int oauth2_store_read(const char *path, struct oauth2_tokens *t,
    struct failure *f);

/* Replace the token file with t: a temporary file in the same directory
 * (mode 0600), fsync, rename, fsync of the directory.  0 or -1
 * (FAIL_OSERR). */
int oauth2_store_write(const char *path, const struct oauth2_tokens *t,
    struct failure *f);

/* Take the lock file's exclusive flock, waiting up to timeout seconds.
 * Returns its descriptor (closing it releases the lock), or -1 with f
 * (FAIL_TEMP when another run held it all along, FAIL_OSERR). */
int oauth2_store_lock(const char *path, int timeout, struct failure *f);

/* Remove the token file (and its lock file): 1 removed, 0 there was
 * none, -1 (FAIL_OSERR). */
int oauth2_store_remove(const char *path, struct failure *f);

#endif
