/*
 * params.h: the rules for values a user gives that end up inside SMTP
 * commands (the DSN parameters of RFC 3461, BODY of RFC 6152) or name an
 * account: one set of checks for the command line, the configuration and
 * the queue's entries.
 */
#ifndef CARRIER_PARAMS_H
#define CARRIER_PARAMS_H

#include <stdbool.h>

/* A byte below 0x20 or DEL: never allowed inside a command. */
bool has_control(const char *v);

/* v is one of the NULL-terminated words, in any case. */
bool word_in(const char *v, const char *const *words);

/* NULL when v is "never" or a comma-separated list of success, failure
   and delay, each at most once, in any case; else why not. */
const char *dsn_notify_check(const char *v);

/* RET: full or hdrs, in any case. */
bool dsn_ret_valid(const char *v);

/* BODY: 7BIT or 8BITMIME, in any case. */
bool body_type_valid(const char *v);

/* The longest envelope id before encoding (RFC 3461 4.4). */
#define ENVID_MAX	100

/* v as xtext (RFC 3461 4): '+', '=' and bytes outside 33..126 become
   +HH.  Returns a malloc'd string. */
char *xtext_encode(const char *v);

/* v is xtext as xtext_encode writes it, the encoding of 1 to ENVID_MAX
   bytes. */
bool envid_valid(const char *v);

/* An account name: not empty, no control byte, no comma or colon (the
   separators of the configuration's account line). */
bool account_name_valid(const char *v);

#endif
