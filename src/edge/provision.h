/* The gateway's own identity: provisioning through DPS over HTTPS
 * (PROTOCOL.md 4.4, 4.3, 2.7, 3.4, 6.10 row 1) or manually from the
 * configuration, and the identity file (identity.json in the data
 * directory) that caches the result so a provisioned gateway can start
 * without network.
 *
 * DPS registration works like aziot-identityd: api-version
 * GH_EDGE_DPS_API_VERSION; symmetric key: a SAS token for the lower-cased
 * audience "{idScope}/registrations/{registrationId}" with skn=registration,
 * signed with the configured key (the individual key, or the group key
 * already derived for this registration id, PROTOCOL.md 2.7); X.509: the
 * identity_cert / identity_pk pair as the TLS client certificate. PUT
 * .../register must answer 202 with an operationId; the operation is then
 * polled (GET .../operations/{operationId}) honouring Retry-After (clamped
 * to GH_EDGE_DPS_RETRY_MIN_S..GH_EDGE_DPS_RETRY_MAX_S) until it is no
 * longer "assigning" or GH_EDGE_DPS_TOTAL_MS has passed.
 *
 * The identity file is JSON, written 0600 through a temporary file, fsync,
 * rename and a directory fsync. Loading treats it as untrusted input: at
 * most GH_EDGE_IDENTITY_FILE_MAX bytes, an object with known members of
 * the right types and bounded lengths only. A file readable or writable by
 * group or others (it holds the device key) is REFUSED with
 * GH_ERR_PERM: fix it with chmod 600 or delete it to re-provision.
 *
 * Nothing here keeps state between calls; every function is thread-safe
 * as long as two threads do not write the same identity file. The
 * functions that talk to DPS block (gh_http_fetch runs its own loop) and
 * must not be called from a thread running an event loop.
 */
#ifndef GH_EDGE_PROVISION_H
#define GH_EDGE_PROVISION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"
#include "edge/config.h"

#define GH_EDGE_DPS_API_VERSION "2021-06-01"
#define GH_EDGE_DPS_TOTAL_MS 60000    /* register + polling, whole budget */
#define GH_EDGE_DPS_REQUEST_MS 15000  /* one HTTP request (capped by what is left) */
#define GH_EDGE_DPS_RETRY_DEFAULT_S 2 /* poll interval without Retry-After */
#define GH_EDGE_DPS_RETRY_MIN_S 1     /* Retry-After clamped to this range */
#define GH_EDGE_DPS_RETRY_MAX_S 10
#define GH_EDGE_DPS_TOKEN_LIFETIME_S 300        /* registration SAS lifetime */
#define GH_EDGE_DPS_RESPONSE_MAX (64u * 1024u)  /* DPS response body bytes */
#define GH_EDGE_IDENTITY_FILE_MAX (16u * 1024u) /* identity.json bytes */
#define GH_EDGE_SCOPE_MAX 63                    /* id scope characters */
#define GH_EDGE_OPERATION_ID_MAX 128            /* DPS operationId characters */
#define GH_EDGE_JSON_DEPTH_MAX 16               /* nesting in a DPS response */
#define GH_EDGE_SOURCE_DPS "dps"
#define GH_EDGE_SOURCE_MANUAL "manual"

/* How the gateway authenticates to its hub. */
enum gh_edge_auth { GH_EDGE_AUTH_SAS = 0, GH_EDGE_AUTH_X509 = 1 };

/* What provisioning gave the gateway. Holds a secret (key): release it
 * with gh_edge_identity_wipe. */
struct gh_edge_identity {
    char hub[GH_EDGE_HOST_MAX];         /* assigned hub host name */
    char device_id[GH_EDGE_ID_MAX + 1]; /* hub device id */
    int auth;                           /* enum gh_edge_auth */
    char key[GH_EDGE_KEY_MAX + 1];      /* secret: device key (sas), "" for x509 */
    char source[16];                    /* GH_EDGE_SOURCE_DPS | GH_EDGE_SOURCE_MANUAL */
    int64_t provisioned_ms;             /* wall clock, ms since the epoch */
    /* DPS only ("" for manual): what the cache was obtained with, so a
     * changed configuration is noticed (gh_edge_identity_matches). */
    char registration_id[GH_EDGE_ID_MAX + 1];
    char id_scope[GH_EDGE_SCOPE_MAX + 1];
    char endpoint[GH_EDGE_PATH_MAX]; /* global_endpoint as configured */
};

/* The DPS answer to a register or poll request, parsed. Slices borrow the
 * body given to gh_edge_dps_parse_response. */
struct gh_edge_dps_result {
    struct gh_slice operation_id;  /* len 0 when absent */
    struct gh_slice status;        /* top-level status; len 0 when absent */
    struct gh_slice assigned_hub;  /* registrationState.assignedHub */
    struct gh_slice device_id;     /* registrationState.deviceId */
    struct gh_slice reg_status;    /* registrationState.status */
    struct gh_slice error_message; /* registrationState.errorMessage or top-level message */
    int64_t error_code;            /* registrationState.errorCode or top-level errorCode; 0 none */
};

/* Register with DPS as configured (cfg->prov_source must be DPS) and fill
 * *out with the assigned hub and device id (source "dps", auth from the
 * attestation method, key = the configured symmetric key for SAS). Dials
 * gh_edge_config_resolve(cfg, host of global_endpoint) with SNI and the
 * certificate name = that host, trusting cfg->trust_bundle_cert. err gets
 * a one-line cause (DPS's own message where it sent one). *out is written
 * only on success. Blocking; see the top of the file.
 * Errors:
 *   GH_ERR_CONFIG_VALUE  not DPS, global_endpoint not https://host[:port][/]
 *   GH_ERR_CONFIG_MISSING  id_scope / registration_id / key / cert missing
 *   GH_ERR_NOENT, GH_ERR_PERM, GH_ERR_MALFORMED, GH_ERR_KEY_MISMATCH, ...
 *                        identity certificate / trust bundle (net/tls.h)
 *   GH_ERR_BAD_BASE64    symmetric key is not base64
 *   GH_ERR_IO, GH_ERR_CLOSED, GH_ERR_NOT_FOUND (name did not resolve)
 *                        DPS unreachable
 *   GH_ERR_CERT_VERIFY, GH_ERR_TLS   TLS verification / handshake failed
 *   GH_ERR_AUTH          401: wrong key or certificate
 *   GH_ERR_FORBIDDEN     403, or the enrollment is disabled
 *   GH_ERR_NOT_FOUND     404: unknown registration
 *   GH_ERR_CONFLICT      the operation finished "failed" (assigned-but-failed)
 *   GH_ERR_MALFORMED     an answer that is not what PROTOCOL.md 4.3 says (no
 *                        operationId, no valid assignedHub/deviceId, unknown status)
 *   GH_ERR_BAD_JSON, GH_ERR_TRUNCATED, GH_ERR_TRAILING_BYTES, GH_ERR_TOO_MANY,
 *   GH_ERR_TOO_LARGE     a 200/202 body gh_edge_dps_parse_response refuses (or a
 *                        body above GH_EDGE_DPS_RESPONSE_MAX)
 *   GH_ERR_TIMEOUT       GH_EDGE_DPS_TOTAL_MS passed (also while 429/5xx
 *                        answers were being retried), or a request timed out
 *   GH_ERR_UNSUPPORTED   another HTTP status (400, 405, ...)
 *   GH_ERR_NOMEM, GH_ERR_CRYPTO, GH_ERR_NOBUFS */
GH_NODISCARD gh_err gh_edge_provision_dps(const struct gh_edge_config *cfg,
                                          struct gh_edge_identity *out, char *err, size_t errlen);

/* The identity given by a manual configuration (iothub_hostname, device_id
 * and symmetric_key or identity_cert). No I/O. *out written only on
 * success. Errors: GH_ERR_CONFIG_VALUE (source is not manual),
 * GH_ERR_CONFIG_MISSING (hub, device id or credential missing). */
GH_NODISCARD gh_err gh_edge_provision_manual(const struct gh_edge_config *cfg,
                                             struct gh_edge_identity *out, char *err,
                                             size_t errlen);

/* Write id to path as JSON, mode 0600: a temporary file beside it, fsync,
 * rename over path, fsync of the directory.
 * Errors: GH_ERR_ARG (an empty hub/device id, unknown auth or source),
 * GH_ERR_NOENT / GH_ERR_PERM / GH_ERR_NOSPACE / GH_ERR_IO, GH_ERR_NOBUFS
 * (path too long), GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_edge_identity_save(const char *path, const struct gh_edge_identity *id);

/* Parse an identity file's bytes (decoder: no I/O, no allocation, no
 * logging). Strict: one JSON object; members "version" (1), "hub",
 * "deviceId", "auth" ("sas"|"x509"), "key", "source" ("dps"|"manual"),
 * "provisionedMs", "registrationId", "idScope", "endpoint"; no unknown or
 * duplicate members; strings are plain printable ASCII (escapes \" \\ \/
 * only) within their field sizes; a hub, a device id, a source and, for
 * sas, a key are required. *out is written only on success.
 * Errors: GH_ERR_TOO_LARGE (more than GH_EDGE_IDENTITY_FILE_MAX bytes, or
 * a string longer than its field), GH_ERR_TRUNCATED (ends early),
 * GH_ERR_BAD_JSON (syntax, unknown/duplicate member, wrong type or value),
 * GH_ERR_TRAILING_BYTES (anything but white space after the object),
 * GH_ERR_UNSUPPORTED (another version), GH_ERR_CONFIG_MISSING (a required
 * member is absent or empty). */
GH_NODISCARD gh_err gh_edge_identity_parse(struct gh_slice text, struct gh_edge_identity *out);

/* Read and parse path. The file must be a regular file not readable or
 * writable by group or others. *out written only on success; the read
 * buffer is wiped.
 * Errors: GH_ERR_NOENT (absent), GH_ERR_PERM (cannot read, or mode allows
 * group/other access), GH_ERR_IO (not a regular file, read error),
 * GH_ERR_TOO_LARGE, and those of gh_edge_identity_parse. */
GH_NODISCARD gh_err gh_edge_identity_load(const char *path, struct gh_edge_identity *out);

/* Does a cached identity belong to this configuration? True when both are
 * DPS with the same registration id, id scope (ASCII case-insensitive),
 * endpoint and auth, and for SAS the same key; or both manual with the
 * same hub, device id, auth and key. */
bool gh_edge_identity_matches(const struct gh_edge_identity *id, const struct gh_edge_config *cfg);

/* Parse a DPS register/poll response body (PROTOCOL.md 4.3) into *out
 * (decoder: no I/O, no allocation, no logging). Accepts any JSON object
 * of at most GH_EDGE_DPS_RESPONSE_MAX bytes, nesting at most
 * GH_EDGE_JSON_DEPTH_MAX, and picks the members listed in struct
 * gh_edge_dps_result; unknown members are skipped. String members have
 * their escapes left in place when they contain any (only plain strings
 * are trusted as host names / ids by the caller). *out written only on
 * success.
 * Errors: GH_ERR_TOO_LARGE, GH_ERR_TRUNCATED, GH_ERR_BAD_JSON (syntax or a
 * known member of the wrong type), GH_ERR_TRAILING_BYTES, GH_ERR_TOO_MANY
 * (nesting). */
GH_NODISCARD gh_err gh_edge_dps_parse_response(struct gh_slice body,
                                               struct gh_edge_dps_result *out);

/* The startup policy (PROTOCOL.md 6.11 auto_reprovisioning_mode):
 *   manual           the identity from the configuration;
 *   dps, Dynamic     the cached data_dir/identity.json when it matches the
 *                    configuration, else register;
 *   AlwaysOnStartup  register; when DPS is unreachable (io/closed/timeout
 *                    category, TLS, name resolution) fall back to a
 *                    matching cache and log it;
 *   OnErrorOnly      the cache when present and matching, else register.
 * A fresh registration is saved to the identity file; a failure to save
 * is logged, not fatal. A cache that cannot be read (corrupt, wrong
 * permissions) is logged and ignored when DPS can be asked instead.
 * *out written only on success; err gets a one-line reason.
 * Errors: those of gh_edge_provision_manual and gh_edge_provision_dps;
 * GH_ERR_NOBUFS (data_dir too long). */
GH_NODISCARD gh_err gh_edge_provision(const struct gh_edge_config *cfg, const char *data_dir,
                                      struct gh_edge_identity *out, char *err, size_t errlen);

/* Zero the whole struct (the key included) so the compiler cannot elide
 * it. NULL is a no-op. */
void gh_edge_identity_wipe(struct gh_edge_identity *id);

/* A SAS token for the gateway's own identity: audience
 * "{hub}/devices/{deviceId}" (encoded like the Node SDK), expiry now_s +
 * lifetime_s, no skn, written NUL-terminated into out (cap bytes). The
 * caller wipes out after use.
 * Errors: GH_ERR_ARG (auth is not SAS, lifetime_s <= 0, empty hub/device,
 * expiry overflow), GH_ERR_BAD_BASE64 (key), GH_ERR_NOBUFS (cap),
 * GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_edge_identity_sas(const struct gh_edge_identity *id, int64_t now_s,
                                         int64_t lifetime_s, char *out, size_t cap);

#endif
