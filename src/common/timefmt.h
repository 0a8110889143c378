/* ISO 8601 / RFC 3339 UTC times: the one parser and formatter of the
 * project (REST headers and queries, CLI options, stored timestamps).
 * Pure functions: no allocation, no I/O, thread-safe. */
#ifndef GH_COMMON_TIMEFMT_H
#define GH_COMMON_TIMEFMT_H

#include <stdint.h>

#include "common/error.h"

/* "2026-01-01T00:05:00.123Z" plus NUL. */
#define GH_TIME_TEXT_LEN 25

/* Format ms since the Unix epoch (clamped to 0..9999-12-31T23:59:59.999)
 * as YYYY-MM-DDTHH:MM:SS.mmmZ into out. Never fails. */
void gh_time_format(int64_t ms, char out[GH_TIME_TEXT_LEN]);

/* Parse YYYY-MM-DD(T|t| )HH:MM:SS[.f{1,9}](Z|z|+HH:MM|-HH:MM) into ms since
 * the Unix epoch (fractions beyond milliseconds are truncated). Dates are
 * checked (month lengths, leap years); times before 1970 are refused.
 * *out_ms is written only on success. Errors: GH_ERR_MALFORMED. */
GH_NODISCARD gh_err gh_time_parse(const char *s, int64_t *out_ms);

#endif
