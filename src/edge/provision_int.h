/* Helpers shared by provision.c, provision_dps.c and provision_json.c
 * (not part of the edge module's interface). */
#ifndef GH_EDGE_PROVISION_INT_H
#define GH_EDGE_PROVISION_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"
#include "edge/provision.h"

/* Decode a JSON string's raw contents (as borrowed by the tokenizer) into
 * out, NUL-terminated. strict: only printable ASCII and the escapes \" \\
 * \/ (identity file); otherwise every escape is accepted, control
 * characters become spaces and non-ASCII \u escapes become '?' (for
 * showing DPS messages). Errors: GH_ERR_TOO_LARGE (does not fit cap),
 * GH_ERR_BAD_JSON (strict violation). Thread-safe. */
GH_NODISCARD gh_err gh_edge_json_unescape(struct gh_slice raw, bool strict, char *out, size_t cap);

/* Append the identity file text for id to w.
 * Errors: GH_ERR_ARG (empty hub or device id, unknown auth or source,
 * negative time, a non-printable character), GH_ERR_NOBUFS. */
GH_NODISCARD gh_err gh_edge_identity_render(const struct gh_edge_identity *id, struct gh_writer *w);

/* A host name we are willing to dial: letters, digits, '-' and '.'. */
bool gh_edge_host_valid(const char *s);
/* An IoT Hub device id (PROTOCOL.md 5.2 character set, 1..128). */
bool gh_edge_device_id_valid(const char *s);

/* gh_edge_provision_dps, also telling (when unreachable is not NULL)
 * whether the failure was DPS being unreachable (connect, TLS, name
 * resolution, timeouts) rather than an answer from it. Same errors. */
GH_NODISCARD gh_err gh_edge_provision_dps_ex(const struct gh_edge_config *cfg,
                                             struct gh_edge_identity *out, char *err, size_t errlen,
                                             bool *unreachable);

/* printf into err (NULL or errlen 0: nothing). */
void gh_edge_say(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The wall clock, ms since the epoch. */
int64_t gh_edge_wall_ms(void);

#endif
