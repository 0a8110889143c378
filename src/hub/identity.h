/* Device and module identities of the hub registry (PROTOCOL.md 5.2, 5.3,
 * 6.2) and their exact JSON forms.
 *
 * struct gh_identity is plain data with fixed-size, NUL-terminated fields;
 * it holds secrets (symmetric keys), so whoever fills one wipes it with
 * gh_identity_wipe when done. The JSON helpers use jansson; JSON text that
 * holds keys is not wiped by jansson when freed (a documented limitation of
 * the library's allocator; the REST layer may install wiping allocators).
 *
 * All functions are thread-safe on distinct objects and do no I/O and no
 * logging.
 */
#ifndef GH_HUB_IDENTITY_H
#define GH_HUB_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "hub/stamp.h"
#include "iothub/username.h"

/* Field sizes (bytes, without the NUL). */
#define GH_IDENTITY_ID_MAX GH_IOTHUB_ID_MAX /* deviceId / moduleId: 128 */
#define GH_IDENTITY_KEY_MAX 88              /* base64 of a 64-byte key */
#define GH_IDENTITY_KEY_MIN_BYTES 16        /* decoded key length bounds */
#define GH_IDENTITY_KEY_MAX_BYTES 64
#define GH_IDENTITY_THUMBPRINT_MAX 64     /* SHA-256 hex; SHA-1 is 40 */
#define GH_IDENTITY_MANAGED_BY_MAX 128    /* module managedBy */
#define GH_IDENTITY_STATUS_REASON_MAX 128 /* statusReason */
#define GH_IDENTITY_MODEL_ID_MAX 512      /* PnP model id from CONNECT */
/* "ms-azure-iot-edge://" + id + "-" + generationId fits with room. */
#define GH_IDENTITY_SCOPE_MAX 256
#define GH_IDENTITY_SCOPE_PREFIX "ms-azure-iot-edge://"
#define GH_IDENTITY_GENID_MAX (GH_HUB_GENID_LEN - 1)
#define GH_IDENTITY_ETAG_MAX (GH_HUB_ETAG_MAX - 1)

enum gh_identity_status { GH_IDENTITY_ENABLED = 0, GH_IDENTITY_DISABLED = 1 };

/* authentication.type (stable numbers: stored in the database). */
enum gh_auth_type {
    GH_AUTH_SAS = 0,
    GH_AUTH_SELF_SIGNED = 1,
    GH_AUTH_CA = 2, /* certificateAuthority */
    GH_AUTH_NONE = 3,
};

enum gh_conn_state { GH_CONN_DISCONNECTED = 0, GH_CONN_CONNECTED = 1 };

/* Which optional fields a parsed request body carried (present), so an
 * update keeps what the caller did not send. */
#define GH_IDENTITY_F_STATUS 0x01u
#define GH_IDENTITY_F_STATUS_REASON 0x02u
#define GH_IDENTITY_F_AUTH 0x04u
#define GH_IDENTITY_F_CAPABILITIES 0x08u
#define GH_IDENTITY_F_DEVICE_SCOPE 0x10u
#define GH_IDENTITY_F_PARENT_SCOPES 0x20u
#define GH_IDENTITY_F_MANAGED_BY 0x40u
#define GH_IDENTITY_F_ALL 0x7fu

struct gh_identity {
    char device_id[GH_IDENTITY_ID_MAX + 1];
    char module_id[GH_IDENTITY_ID_MAX + 1]; /* "" for a device */
    char managed_by[GH_IDENTITY_MANAGED_BY_MAX + 1];
    char generation_id[GH_IDENTITY_GENID_MAX + 1];
    char etag[GH_IDENTITY_ETAG_MAX + 1];
    enum gh_identity_status status;
    char status_reason[GH_IDENTITY_STATUS_REASON_MAX + 1]; /* "" = null */
    int64_t status_updated_ms;                             /* 0 = never */
    enum gh_auth_type auth_type;
    char primary_key[GH_IDENTITY_KEY_MAX + 1]; /* secret; "" = none */
    char secondary_key[GH_IDENTITY_KEY_MAX + 1];
    char primary_thumbprint[GH_IDENTITY_THUMBPRINT_MAX + 1]; /* "" = null */
    char secondary_thumbprint[GH_IDENTITY_THUMBPRINT_MAX + 1];
    bool iot_edge;
    /* Edge device: its own scope. Leaf: its parent's scope ("" = none). */
    char device_scope[GH_IDENTITY_SCOPE_MAX + 1];
    /* The one parent scope (parentScopes has at most one entry, 6.2). */
    char parent_scope[GH_IDENTITY_SCOPE_MAX + 1];
    enum gh_conn_state conn_state;
    int64_t conn_state_updated_ms; /* 0 = never */
    int64_t last_activity_ms;      /* 0 = never */
    char model_id[GH_IDENTITY_MODEL_ID_MAX + 1];
    int64_t created_ms;
    uint32_t c2d_count; /* cloudToDeviceMessageCount, filled on reads */
    uint32_t present;   /* GH_IDENTITY_F_* (set by gh_identity_from_json) */
};

enum gh_identity_kind { GH_IDENTITY_DEVICE, GH_IDENTITY_MODULE };

/* Wipe the whole struct (keys included). Safe on NULL. */
void gh_identity_wipe(struct gh_identity *id);

/* Names of the enums as they appear in JSON ("sas", "selfSigned",
 * "certificateAuthority", "none"; "enabled"/"disabled"). Static storage. */
const char *gh_auth_type_name(enum gh_auth_type t);
const char *gh_identity_status_name(enum gh_identity_status s);

/* Device JSON of 5.2 (module_id "") or module JSON of 5.3, keys included.
 * *out is a new reference owned by the caller (json_decref).
 * Errors: GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_identity_to_json(const struct gh_identity *id, json_t **out);

/* Parse a request body (device JSON for GH_IDENTITY_DEVICE, module JSON for
 * GH_IDENTITY_MODULE) into *out: ids, status, statusReason, authentication,
 * capabilities.iotEdge, deviceScope, parentScopes, managedBy, with
 * out->present telling which optional fields were given. Server-assigned
 * and read-only members (generationId, etag, connectionState, timestamps,
 * cloudToDeviceMessageCount) and unknown members are ignored. Rules:
 *  - deviceId (and moduleId for modules) required, gh_iothub_valid_*_id;
 *  - status "enabled"/"disabled" (any case), statusReason <= 128 bytes;
 *  - authentication.type one of sas, selfSigned, certificateAuthority, none
 *    (any case); when absent: selfSigned if a thumbprint is given, else sas;
 *  - sas: both keys or neither (neither = the store generates them), each
 *    base64 of 16..64 bytes; thumbprints are dropped;
 *  - selfSigned: primaryThumbprint required, each thumbprint 40 or 64 hex
 *    characters (stored as given, 3.2 item 5); keys are dropped;
 *  - certificateAuthority / none: keys and thumbprints are dropped;
 *  - "" and null mean absent for keys, thumbprints, scopes, statusReason;
 *  - parentScopes: array of at most one string (a child has one parent);
 *  - scopes <= GH_IDENTITY_SCOPE_MAX bytes, managedBy <= 128 bytes.
 * On error a one-line reason is written to err (always NUL-terminated when
 * errlen > 0) and *out is untouched; on success *out is fully overwritten
 * (fields the body cannot set are zero/empty).
 * Errors: GH_ERR_BAD_JSON (not an object, or a member of the wrong JSON
 * type), GH_ERR_ARG (a value breaks a rule above). */
GH_NODISCARD gh_err gh_identity_from_json(const json_t *j, enum gh_identity_kind kind,
                                          struct gh_identity *out, char *err, size_t errlen);

/* Is s a valid symmetric key for an identity (base64 of 16..64 bytes)? */
bool gh_identity_key_valid(const char *s);
/* Is s a valid thumbprint (40 or 64 hex characters, either case)? */
bool gh_identity_thumbprint_valid(const char *s);

#endif
