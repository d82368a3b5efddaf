/*
 * cli.h: the command line, in carrier's own long options and sendmail's
 * short flags, into struct options.  No I/O except --help text.
 */
#ifndef CARRIER_CLI_H
#define CARRIER_CLI_H

#include "options.h"
#include <stdio.h>

#include "report.h"

/*
 * Parse argv.  `invoked_as` is the program's base name: "sendmail" turns
 * on sendmail mode, "mailq" means -bp, "newaliases" -bi.
 * Errors: FAIL_USAGE naming the option and what is wrong with its value.
 */
int cli_parse(int argc, char **argv, const char *invoked_as,
    struct options *o, struct failure *f);

/* The --help text. */
void cli_usage(FILE *out);

#endif
