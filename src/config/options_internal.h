/* Internals shared by options.c, options_units.c and options_doc.c. */
#ifndef GH_CONFIG_OPTIONS_INTERNAL_H
#define GH_CONFIG_OPTIONS_INTERNAL_H

#include <stddef.h>

#include "config/options.h"

/* "string", "integer", "boolean", "string array", "duration", "size",
 * "enum", "table", "array of tables"; static storage. */
const char *opt_type_name(enum gh_option_type t);
/* What a value of o must look like, for messages:
 * "integer 1..65535", "one of \"dps\", \"manual\"", ... */
char *opt_expected(const struct gh_option *o, char *out, size_t cap);
/* The bounds alone for the documentation: "1..65535", "1s..1d", "any". */
char *opt_range(const struct gh_option *o, char *out, size_t cap);

#endif
