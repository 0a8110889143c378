/* The hub's durable store: registry, policies, CA certificates, twins,
 * cloud-to-device queues, the built-in telemetry endpoint and persistent
 * MQTT sessions, in one SQLite database.
 *
 * Design
 * ------
 * - One file <data_dir>/hub.db (created 0600 in a 0700 directory), SQLite 3
 *   in WAL mode with synchronous=FULL (a COMMIT returns only after the WAL
 *   is fsynced: what the store acknowledged survives power loss),
 *   foreign_keys=ON, busy_timeout=5000 ms, defensive mode on and
 *   trusted_schema off.
 * - Schema version in PRAGMA user_version, migrated forward one step at a
 *   time inside one transaction each. A database whose version is newer
 *   than GH_STORE_SCHEMA_VERSION is refused (GH_ERR_DB, message says so).
 * - Multi-statement writes run in BEGIN IMMEDIATE transactions (the write
 *   lock is taken up front, so concurrent writers wait in busy_timeout
 *   instead of failing on lock upgrade). Read-modify-write (twins, C2D) is
 *   one transaction, so concurrent stores never lose an update.
 * - Prepared statements are cached in the store object and reset after
 *   each use (no statement holds a read snapshot between calls).
 * - The database file is untrusted input: every column read is checked for
 *   type, range, length, UTF-8 and id syntax, and JSON columns are parsed
 *   and checked (twin sections against the twin limits). A bad row gives
 *   GH_ERR_DB with gh_store_errmsg naming table, key and column.
 * - Identities: devices and modules share one table keyed by
 *   (device_id, module_id), module_id '' for a device; the primary key
 *   lookup is what CONNECT uses. Deleting a device deletes its modules;
 *   twins, C2D queues and sessions go with their identity (foreign keys
 *   ON DELETE CASCADE); telemetry is kept.
 * - parentScopes is kept as a single parent_scope column: a child has
 *   exactly one parent (PROTOCOL.md 6.2), rendered as a 0/1-element array.
 * - Creating an IoT Edge device also creates its $edgeAgent and $edgeHub
 *   modules (with generated keys), as IoT Hub does; so does turning a
 *   device into an Edge device by update.
 * - Update (PUT with If-Match) keeps every optional field the request did
 *   not carry (struct gh_identity.present); a sas update with empty keys
 *   keeps the current keys if there are any, else generates new ones.
 * - Scopes (6.2): an Edge device's deviceScope is always its own
 *   "ms-azure-iot-edge://{D}-{generationId}" and its parent comes from
 *   parentScopes; a leaf's parent is its deviceScope. Any parent scope must
 *   be the deviceScope of an existing Edge device other than itself
 *   (GH_ERR_ARG otherwise). Deleting an Edge device leaves its children's
 *   scopes in place (as IoT Hub does; they no longer match any device).
 * - Connection state: gh_store_set_connected writes on connect/disconnect;
 *   lastActivityTime is written by gh_store_touch_activity at most once per
 *   GH_STORE_ACTIVITY_INTERVAL_MS per identity (a conditional UPDATE that
 *   changes nothing, and so syncs nothing, inside the interval); callers
 *   should also rate-limit per connection to skip even that statement.
 *   gh_store_reset_connections marks everything disconnected at start-up.
 * - C2D (1.9.2, 1.9.3): per device, at most GH_C2D_QUEUE_MAX queued (the
 *   51st enqueue fails with GH_ERR_QUEUE_FULL), TTL default 1 h and at most
 *   2 days (longer expiries are clamped), 60 s lock on delivery; expired
 *   messages are removed (and counted) when the queue is used.
 * - Telemetry: append a batch in ONE transaction (group commit: callers
 *   send their PUBACKs after gh_store_telemetry_append_batch returns).
 *   Sequence numbers come from a counter row, never reused, strictly
 *   increasing. Retention: by age (max_age) and by total bytes (max_bytes),
 *   oldest first, in bounded chunks so appends are not blocked for long.
 *   The bytes cap deletes the oldest messages even when they are younger
 *   than max_age; when it does, it logs a warning with the count. Count
 *   and total bytes live in a counter row updated in the same transactions
 *   as the rows (no O(n) scans); should it drift (file edited by hand),
 *   retention resets it once the table is found empty.
 *
 * Thread-safety: a struct gh_store is NOT thread-safe; open one per thread
 * (they may share the database file and directory). Functions never log
 * peer-controlled text except through gh_log_escape and never log secrets.
 *
 * Errors common to every function taking a store: GH_ERR_DB (SQLite error,
 * bad row, lock still busy after busy_timeout), GH_ERR_NOSPACE (disk full),
 * GH_ERR_NOMEM. gh_store_errmsg then says what happened. On any error the
 * database is unchanged (the transaction was rolled back) and single-value
 * outputs are untouched; list functions may have overwritten (and wiped)
 * entries of their out[] array.
 */
#ifndef GH_HUB_STORE_H
#define GH_HUB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "hub/ca.h"
#include "hub/identity.h"
#include "hub/twin.h"
#include "iothub/topic.h"

#define GH_STORE_SCHEMA_VERSION 2
#define GH_STORE_DB_NAME "hub.db"
#define GH_STORE_BUSY_TIMEOUT_MS 5000
#define GH_STORE_PATH_MAX 4096
#define GH_STORE_ERR_MAX 256
/* Default and largest page of an identity listing (IoT Hub caps at 1000). */
#define GH_STORE_LIST_DEFAULT 1000
#define GH_STORE_ACTIVITY_INTERVAL_MS 60000

struct gh_store;

/* ---- lifecycle ---------------------------------------------------------- */

/* Create dir (0700, parents must exist) if needed, open or create
 * dir/hub.db, apply the pragmas and migrate to GH_STORE_SCHEMA_VERSION.
 * *out is a new store owned by the caller (gh_store_close). errbuf
 * receives a one-line reason on error (errlen may be 0).
 * Errors: GH_ERR_ARG (empty dir, path too long), GH_ERR_IO / GH_ERR_PERM
 * (directory or file cannot be created), GH_ERR_DB (cannot open, not a
 * database, WAL unavailable, schema newer than supported, migration
 * failed), GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_store_open(const char *dir, struct gh_store **out, char *errbuf,
                                  size_t errlen);

/* Finalize statements and close the database. Safe on NULL. */
void gh_store_close(struct gh_store *s);

/* The reason for the last error of this store ("" if none). Valid until
 * the next call on s. */
const char *gh_store_errmsg(const struct gh_store *s);

/* Replace the wall clock (ms since the Unix epoch) used for every
 * timestamp, TTL, lock and retention decision; NULL restores the real
 * clock. For tests and for callers that batch a common "now". */
void gh_store_set_clock(struct gh_store *s, int64_t (*now_ms)(void *ctx), void *ctx);
int64_t gh_store_now(const struct gh_store *s);

/* ---- identities (5.2, 5.3, 6.2) ----------------------------------------- */

/* Create the identity described by in (device when in->module_id is "",
 * module otherwise; fields as gh_identity_from_json leaves them). The store
 * assigns generationId, etag, created time, keys (sas with empty keys),
 * scopes, and for an Edge device its $edgeAgent/$edgeHub modules. *out
 * receives the stored identity (wipe it when done).
 * Errors: GH_ERR_ARG (invalid id or field, unknown parent scope),
 * GH_ERR_NOT_FOUND (module of a missing device), GH_ERR_CONFLICT (already
 * exists), GH_ERR_CRYPTO (key generation). */
GH_NODISCARD gh_err gh_store_identity_create(struct gh_store *s, const struct gh_identity *in,
                                             struct gh_identity *out);

/* Update the identity named by in->device_id/module_id with the fields
 * flagged in in->present (see the design notes). if_match: NULL or "*"
 * updates unconditionally, otherwise it must equal the current etag
 * (without quotes). A new etag is assigned. *out as for create.
 * Errors: GH_ERR_ARG, GH_ERR_NOT_FOUND, GH_ERR_ETAG_MISMATCH,
 * GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_store_identity_update(struct gh_store *s, const struct gh_identity *in,
                                             const char *if_match, struct gh_identity *out);

/* Look up one identity (module_id "" or NULL for a device); the CONNECT
 * path. out->c2d_count counts queued C2D messages (expired ones not yet
 * removed included). Errors: GH_ERR_NOT_FOUND. */
GH_NODISCARD gh_err gh_store_identity_get(struct gh_store *s, const char *device_id,
                                          const char *module_id, struct gh_identity *out);

/* Delete an identity; for a device also its modules. if_match as for
 * update. Errors: GH_ERR_NOT_FOUND, GH_ERR_ETAG_MISMATCH. */
GH_NODISCARD gh_err gh_store_identity_delete(struct gh_store *s, const char *device_id,
                                             const char *module_id, const char *if_match);

/* Devices in id order with device_id > after (NULL or "" = from the
 * start), at most limit (0 = GH_STORE_LIST_DEFAULT) and at most cap, into
 * out[0..*n). Page on by passing the last id returned. */
GH_NODISCARD gh_err gh_store_identity_list(struct gh_store *s, const char *after, size_t limit,
                                           struct gh_identity *out, size_t cap, size_t *n);

/* Modules of a device in module id order after `after`, as above.
 * Errors: GH_ERR_NOT_FOUND (no such device). */
GH_NODISCARD gh_err gh_store_module_list(struct gh_store *s, const char *device_id,
                                         const char *after, size_t limit, struct gh_identity *out,
                                         size_t cap, size_t *n);

/* Devices whose parent scope is `scope` (children of an Edge device), in
 * id order after `after`, as above. */
GH_NODISCARD gh_err gh_store_identity_list_children(struct gh_store *s, const char *scope,
                                                    const char *after, size_t limit,
                                                    struct gh_identity *out, size_t cap, size_t *n);

struct gh_store_stats {
    uint64_t total;
    uint64_t enabled;
    uint64_t disabled;
};

/* Device counts for GET /statistics/devices (modules not counted). */
GH_NODISCARD gh_err gh_store_identity_stats(struct gh_store *s, struct gh_store_stats *out);

/* Record a connect (connected true: state Connected, lastActivityTime now,
 * model_id remembered for the twin's modelId; NULL or "" clears it) or a
 * disconnect. The identity etag does not change.
 * Errors: GH_ERR_NOT_FOUND, GH_ERR_TOO_LARGE (model id longer than
 * GH_IDENTITY_MODEL_ID_MAX), GH_ERR_ARG (model id not UTF-8). */
GH_NODISCARD gh_err gh_store_set_connected(struct gh_store *s, const char *device_id,
                                           const char *module_id, bool connected,
                                           const char *model_id);

/* Set lastActivityTime to now if it is older than
 * GH_STORE_ACTIVITY_INTERVAL_MS. An unknown identity is ignored. */
GH_NODISCARD gh_err gh_store_touch_activity(struct gh_store *s, const char *device_id,
                                            const char *module_id);

/* Mark every identity disconnected (daemon start-up); *n (may be NULL)
 * receives how many were marked connected. */
GH_NODISCARD gh_err gh_store_reset_connections(struct gh_store *s, uint64_t *n);

/* ---- persistent MQTT sessions (1.5 item 2) ------------------------------ */

/* Features a connection can subscribe to (bits of gh_session). */
#define GH_SESSION_C2D 0x01u           /* devices/{D}/messages/devicebound/# */
#define GH_SESSION_TWIN_RESPONSE 0x02u /* $iothub/twin/res/# */
#define GH_SESSION_TWIN_DESIRED 0x04u  /* $iothub/twin/PATCH/properties/desired/# */
#define GH_SESSION_METHODS 0x08u       /* $iothub/methods/POST/# */
#define GH_SESSION_INPUTS 0x10u        /* devices/{D}/modules/{M}/inputs/# */
#define GH_SESSION_ALL 0x1fu

/* The feature bit of a filter kind of iothub/topic.h (0: none). */
uint32_t gh_session_feature_bit(enum gh_iothub_filter_kind k);

/* subscribed: features subscribed; qos1: of those, the ones granted QoS 1
 * (the others QoS 0). */
struct gh_session {
    uint32_t subscribed;
    uint32_t qos1;
};

/* Store the session of a Clean Session 0 connection (replaces any).
 * Errors: GH_ERR_ARG (unknown bits), GH_ERR_NOT_FOUND (no identity). */
GH_NODISCARD gh_err gh_store_session_save(struct gh_store *s, const char *device_id,
                                          const char *module_id, const struct gh_session *ss);

/* Load a stored session: *present tells whether one exists (the CONNACK
 * session-present flag); *out is zeroed when none. */
GH_NODISCARD gh_err gh_store_session_load(struct gh_store *s, const char *device_id,
                                          const char *module_id, struct gh_session *out,
                                          bool *present);

/* Discard the session (Clean Session 1). No error when there is none. */
GH_NODISCARD gh_err gh_store_session_clear(struct gh_store *s, const char *device_id,
                                           const char *module_id);

/* ---- shared access policies (2.6) --------------------------------------- */

#define GH_POLICY_NAME_MAX 64
#define GH_RIGHT_REGISTRY_READ 0x1u
#define GH_RIGHT_REGISTRY_WRITE 0x2u
#define GH_RIGHT_SERVICE_CONNECT 0x4u
#define GH_RIGHT_DEVICE_CONNECT 0x8u
#define GH_RIGHT_ALL 0xfu /* every IoT Hub right (iothubowner) */
/* The provisioning service's own right (enrollments, registrations): held
 * only by DPS policies, and none of the hub rights above, so a DPS key
 * cannot act on the hub (PROTOCOL.md 2.6: DPS has its own policies). */
#define GH_RIGHT_PROVISIONING 0x10u
#define GH_RIGHT_MASK 0x1fu

/* Holds secrets: wipe with gh_policy_wipe. */
struct gh_policy {
    char name[GH_POLICY_NAME_MAX + 1];
    char primary_key[GH_IDENTITY_KEY_MAX + 1];
    char secondary_key[GH_IDENTITY_KEY_MAX + 1];
    uint32_t rights;
};

void gh_policy_wipe(struct gh_policy *p);

/* Create iothubowner (all rights), service, device, registryRead and
 * registryReadWrite with fresh random keys, each only if missing
 * (idempotent). *created (may be NULL) receives how many were created.
 * Errors: GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_store_ensure_default_policies(struct gh_store *s, unsigned *created);

/* Errors: GH_ERR_NOT_FOUND. */
GH_NODISCARD gh_err gh_store_policy_get(struct gh_store *s, const char *name,
                                        struct gh_policy *out);

/* Create or replace a policy. Name: 1..64 letters, digits, '-', '_', '.';
 * keys: base64 of 16..64 bytes; rights: non-zero subset of GH_RIGHT_ALL.
 * Errors: GH_ERR_ARG. */
GH_NODISCARD gh_err gh_store_policy_put(struct gh_store *s, const struct gh_policy *p);

/* Errors: GH_ERR_NOT_FOUND. */
GH_NODISCARD gh_err gh_store_policy_delete(struct gh_store *s, const char *name);

/* All policies in name order, at most cap. */
GH_NODISCARD gh_err gh_store_policy_list(struct gh_store *s, struct gh_policy *out, size_t cap,
                                         size_t *n);

/* ---- CA certificates (3.2, 3.3) ----------------------------------------- */

#define GH_CA_NAME_MAX 64

struct gh_ca_record {
    char name[GH_CA_NAME_MAX + 1];
    struct gh_ca_info info;
    bool verified;
    char code[GH_CA_CODE_LEN + 1]; /* current verification code */
    int64_t created_ms;
};

/* Register a CA certificate (unverified, with a fresh verification code).
 * Name: 1..64 letters, digits, '-', '_', '.'. *out (may be NULL) receives
 * the record. Errors: GH_ERR_ARG (name), GH_ERR_CONFLICT (name taken),
 * and those of gh_ca_inspect. */
GH_NODISCARD gh_err gh_store_ca_add(struct gh_store *s, const char *name, const char *pem,
                                    size_t pem_len, struct gh_ca_record *out);

/* One record (out may be NULL); if pem != NULL, *pem receives a malloc'd NUL-terminated copy
 * of the certificate (caller frees) and *pem_len (may be NULL) its length.
 * Errors: GH_ERR_NOT_FOUND. */
GH_NODISCARD gh_err gh_store_ca_get(struct gh_store *s, const char *name, struct gh_ca_record *out,
                                    char **pem, size_t *pem_len);

/* All records in name order, at most cap. */
GH_NODISCARD gh_err gh_store_ca_list(struct gh_store *s, struct gh_ca_record *out, size_t cap,
                                     size_t *n);

/* Errors: GH_ERR_NOT_FOUND. */
GH_NODISCARD gh_err gh_store_ca_delete(struct gh_store *s, const char *name);

/* Issue a new verification code (the verified flag is kept).
 * Errors: GH_ERR_NOT_FOUND, GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_store_ca_regenerate_code(struct gh_store *s, const char *name,
                                                struct gh_ca_record *out);

/* Mark verified after the caller checked proof of possession against
 * `code`; refused if the code is no longer current.
 * Errors: GH_ERR_NOT_FOUND, GH_ERR_CONFLICT (code changed meanwhile). */
GH_NODISCARD gh_err gh_store_ca_mark_verified(struct gh_store *s, const char *name,
                                              const char *code);

/* Convenience: check cert_pem with gh_ca_verify_possession against the
 * stored certificate and current code, then mark verified.
 * Errors: GH_ERR_NOT_FOUND, those of gh_ca_verify_possession,
 * GH_ERR_CONFLICT. */
GH_NODISCARD gh_err gh_store_ca_prove(struct gh_store *s, const char *name, const char *cert_pem,
                                      size_t cert_len);

/* ---- twins (1.10, 5.4) -------------------------------------------------- */

/* Load the twin of an identity into *out (caller: gh_twin_cleanup).
 * Errors: GH_ERR_NOT_FOUND. */
GH_NODISCARD gh_err gh_store_twin_get(struct gh_store *s, const char *device_id,
                                      const char *module_id, struct gh_twin *out);

/* Service view JSON (5.4) of an identity's twin; new reference.
 * Errors: GH_ERR_NOT_FOUND. */
GH_NODISCARD gh_err gh_store_twin_service_view(struct gh_store *s, const char *device_id,
                                               const char *module_id, json_t **out);

/* Device GET view (1.10.2); new reference. Errors: GH_ERR_NOT_FOUND. */
GH_NODISCARD gh_err gh_store_twin_device_view(struct gh_store *s, const char *device_id,
                                              const char *module_id, json_t **out);

/* Service PATCH / PUT (5.4) with If-Match against the twin etag (NULL or
 * "*" = unconditional). *notify (may be NULL) receives the desired
 * notification body or NULL (see twin.h); *view (may be NULL) the service
 * view after the update. The rejection reason of a 400 is in
 * gh_store_errmsg. Errors: GH_ERR_NOT_FOUND, GH_ERR_ETAG_MISMATCH, and
 * those of gh_twin_service_patch / gh_twin_service_replace. */
GH_NODISCARD gh_err gh_store_twin_service_patch(struct gh_store *s, const char *device_id,
                                                const char *module_id, const json_t *patch,
                                                const char *if_match, json_t **notify,
                                                json_t **view);
GH_NODISCARD gh_err gh_store_twin_service_replace(struct gh_store *s, const char *device_id,
                                                  const char *module_id, const json_t *doc,
                                                  const char *if_match, json_t **notify,
                                                  json_t **view);

/* Replace properties.desired only (applyConfigurationContent).
 * Errors: as gh_store_twin_service_patch without the etag. */
GH_NODISCARD gh_err gh_store_twin_desired_replace(struct gh_store *s, const char *device_id,
                                                  const char *module_id, const json_t *desired,
                                                  json_t **notify);

/* Device reported PATCH; *new_version (may be NULL) receives the reported
 * $version for the 204 response. Errors: GH_ERR_NOT_FOUND and those of
 * gh_twin_reported_patch (reason in gh_store_errmsg). */
GH_NODISCARD gh_err gh_store_twin_reported_patch(struct gh_store *s, const char *device_id,
                                                 const char *module_id, const json_t *patch,
                                                 int64_t *new_version);

/* ---- cloud-to-device queue (1.9.2, 1.9.3) ------------------------------- */

#define GH_C2D_QUEUE_MAX 50
#define GH_C2D_DEFAULT_TTL_MS INT64_C(3600000) /* 1 hour */
#define GH_C2D_MAX_TTL_MS INT64_C(172800000)   /* 2 days */
#define GH_C2D_LOCK_MS INT64_C(60000)          /* 1 minute */
#define GH_C2D_BODY_MAX 65536                  /* IoT Hub: 64 KB */
#define GH_C2D_PROPS_MAX 16384                 /* properties JSON text */
#define GH_C2D_MSGID_MAX 128

/* iothub-ack (stable numbers: stored). */
enum gh_c2d_ack { GH_C2D_ACK_NONE = 0, GH_C2D_ACK_POSITIVE, GH_C2D_ACK_NEGATIVE, GH_C2D_ACK_FULL };

/* A message to enqueue; all pointers borrowed for the call. */
struct gh_c2d_send {
    const char *message_id; /* NULL or "" = the store generates a GUID */
    int64_t expiry_ms;      /* absolute; 0 = now + GH_C2D_DEFAULT_TTL_MS */
    enum gh_c2d_ack ack;
    /* NULL or a JSON object; convention: {"system":{...},"app":{...}}
     * (the store keeps it as given). */
    const json_t *properties;
    const void *body;
    size_t body_len;
};

/* A dequeued message. properties and body are owned (gh_c2d_msg_cleanup). */
struct gh_c2d_msg {
    int64_t seq;
    char message_id[GH_C2D_MSGID_MAX + 1];
    int64_t enqueued_ms;
    int64_t expiry_ms;
    enum gh_c2d_ack ack;
    uint32_t deliveries; /* earlier deliveries; > 0 means send with DUP=1 */
    json_t *properties;  /* a JSON object (empty if none was given) */
    uint8_t *body;       /* malloc'd, may be NULL when body_len is 0 */
    size_t body_len;
};

void gh_c2d_msg_cleanup(struct gh_c2d_msg *m);

/* Enqueue for device_id (devices only, 1.12). Message ids: 1..128
 * printable ASCII characters without space. *seq (may be NULL) receives
 * the queue sequence number; msgid (may be NULL, GH_C2D_MSGID_MAX + 1
 * bytes) the message id used.
 * Errors: GH_ERR_ARG (bad message id, ack, properties not an object,
 * expiry already past), GH_ERR_TOO_LARGE (body or properties),
 * GH_ERR_NOT_FOUND (no such device), GH_ERR_QUEUE_FULL. */
GH_NODISCARD gh_err gh_store_c2d_enqueue(struct gh_store *s, const char *device_id,
                                         const struct gh_c2d_send *m, int64_t *seq, char *msgid);

/* The oldest message that is neither expired nor locked, locked for
 * GH_C2D_LOCK_MS from now. Expired messages of the device are deleted
 * first; *expired (may be NULL) receives how many. *found is false (and
 * *out untouched) when nothing is deliverable. Order is by enqueue; a
 * locked message does not hold back the ones behind it. */
GH_NODISCARD gh_err gh_store_c2d_next(struct gh_store *s, const char *device_id,
                                      struct gh_c2d_msg *out, bool *found, uint32_t *expired);

/* Complete (the device's PUBACK): delete message seq of device_id. If ack
 * is not NULL it receives the message's ack mode and msgid (may be NULL)
 * its id, for feedback. Errors: GH_ERR_NOT_FOUND (already completed,
 * expired or purged). */
GH_NODISCARD gh_err gh_store_c2d_complete(struct gh_store *s, const char *device_id, int64_t seq,
                                          enum gh_c2d_ack *ack, char *msgid);

/* Make every locked message of the device visible again (a resumed
 * persistent session redelivers at once instead of after the lock). */
GH_NODISCARD gh_err gh_store_c2d_unlock_all(struct gh_store *s, const char *device_id);

/* Queued, unexpired messages (cloudToDeviceMessageCount). */
GH_NODISCARD gh_err gh_store_c2d_count(struct gh_store *s, const char *device_id, uint32_t *n);

/* Delete every queued message of the device; *n (may be NULL) = how many.
 * Errors: GH_ERR_NOT_FOUND (no such device). */
GH_NODISCARD gh_err gh_store_c2d_purge(struct gh_store *s, const char *device_id, uint32_t *n);

/* ---- telemetry: the built-in endpoint ----------------------------------- */

#define GH_TELEMETRY_BATCH_MAX 4096
#define GH_TELEMETRY_BODY_MAX (256 * 1024)  /* 1.5 item 9 */
#define GH_TELEMETRY_PROPS_MAX (256 * 1024) /* properties JSON text */
#define GH_TELEMETRY_READ_MAX 10000         /* rows per read call */
#define GH_TELEMETRY_SCAN_MAX 65536         /* seq examined per filtered read call */
#define GH_TELEMETRY_RETAIN_CHUNK 10000     /* rows deleted per transaction */

/* One accepted message; pointers borrowed for the call. */
struct gh_telemetry_in {
    const char *device_id;
    const char *module_id;    /* NULL or "" for a device */
    int64_t enqueued_ms;      /* 0 = now */
    const json_t *properties; /* JSON object: stamped system + application properties */
    /* Or the same object as JSON text, stored as is (properties NULL); the
     * caller vouches for it (the hub builds it, telemetry.h). */
    const char *properties_json;
    size_t properties_len;
    const void *body;
    size_t body_len;
};

/* A stored message; properties and body owned (gh_telemetry_msg_cleanup). */
struct gh_telemetry_msg {
    int64_t seq;
    char device_id[GH_IDENTITY_ID_MAX + 1];
    char module_id[GH_IDENTITY_ID_MAX + 1];
    int64_t enqueued_ms;
    json_t *properties;    /* NULL when read with raw_properties */
    char *properties_text; /* raw_properties: the stored JSON object text, NUL-terminated */
    size_t properties_len;
    uint8_t *body; /* may be NULL when body_len is 0 */
    size_t body_len;
};

void gh_telemetry_msg_cleanup(struct gh_telemetry_msg *m);

/* Deferred durability for telemetry appends: when on, an append commits
 * with synchronous=NORMAL (in the WAL, not yet fsynced) and the caller
 * makes it durable by syncing the "-wal" file itself before it
 * acknowledges anything (hub/walsync.h). Off (the default): every append
 * is durable when it returns. Other writes are not affected. */
void gh_store_telemetry_defer_sync(struct gh_store *s, bool on);

/* Append n (1..GH_TELEMETRY_BATCH_MAX) messages in one transaction: when
 * this returns GH_OK all of them are durable (or, with deferred sync, in
 * the WAL file); on error none is stored.
 * Identities are not looked up (the caller authenticated them). Messages
 * get consecutive sequence numbers; *first_seq (may be NULL) receives the
 * first. Errors: GH_ERR_ARG (n out of range, invalid id, properties not an
 * object), GH_ERR_TOO_LARGE (body or properties). */
GH_NODISCARD gh_err gh_store_telemetry_append_batch(struct gh_store *s,
                                                    const struct gh_telemetry_in *msgs, size_t n,
                                                    int64_t *first_seq);

struct gh_telemetry_query {
    int64_t after_seq;     /* messages with seq > after_seq (0 = from the oldest) */
    const char *device_id; /* NULL = every device */
    int64_t since_ms;      /* enqueued at or after (0 = any time) */
    size_t limit;          /* 0 or above GH_TELEMETRY_READ_MAX = GH_TELEMETRY_READ_MAX */
    bool raw_properties;   /* properties_text instead of a parsed object (the hub wrote
                              that text; only its framing and UTF-8 are checked) */
};

/* Where a read stopped: every message with after_seq < seq <= next_after
 * has been examined (those that matched were returned), so the next read
 * pages on with after_seq = next_after; more: messages beyond it exist. */
struct gh_telemetry_scan {
    int64_t next_after;
    bool more;
};

/* Read messages in seq order into out[0..*n) (at most cap). The caller
 * cleans up each returned message. device_id and since_ms are filters over
 * the seq order (there is no per-device index: it made every commit cost
 * one page per sending device): a filtered read examines at most
 * GH_TELEMETRY_SCAN_MAX sequence numbers, so it may return fewer than
 * limit with scan->more set. scan may be NULL. */
GH_NODISCARD gh_err gh_store_telemetry_scan(struct gh_store *s, const struct gh_telemetry_query *q,
                                            struct gh_telemetry_msg *out, size_t cap, size_t *n,
                                            struct gh_telemetry_scan *scan);

/* gh_store_telemetry_scan without the scan result. */
GH_NODISCARD gh_err gh_store_telemetry_read(struct gh_store *s, const struct gh_telemetry_query *q,
                                            struct gh_telemetry_msg *out, size_t cap, size_t *n);

struct gh_telemetry_stats {
    uint64_t count;
    uint64_t bytes;   /* sum of body + properties text bytes */
    int64_t last_seq; /* last seq ever assigned (0 = none yet) */
};

GH_NODISCARD gh_err gh_store_telemetry_stats(struct gh_store *s, struct gh_telemetry_stats *out);

struct gh_retention_result {
    uint64_t by_age;   /* deleted for being older than max_age */
    uint64_t by_bytes; /* deleted to get under max_bytes */
};

/* Delete messages enqueued more than max_age_ms ago (0 = no age limit),
 * then the oldest ones while the total exceeds max_bytes (0 = no cap).
 * Call periodically. *res (may be NULL) receives the counts. */
GH_NODISCARD gh_err gh_store_telemetry_retain(struct gh_store *s, int64_t max_age_ms,
                                              uint64_t max_bytes, struct gh_retention_result *res);

#endif
