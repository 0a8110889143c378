/* The provisioning service's durable store: enrollments, enrollment
 * groups, registration states and operations, in its own SQLite database
 * <data_dir>/dps.db (separate from the hub's hub.db, so the provisioning
 * service can run alone with linked hubs).
 *
 * Design (as src/hub/store.h): file created 0600, WAL, synchronous=FULL,
 * busy_timeout, defensive mode; schema version in PRAGMA user_version,
 * forward-only migrations; multi-statement writes in BEGIN IMMEDIATE
 * transactions; the file is untrusted input: enrollment rows are stored as
 * their service JSON and re-validated with gh_dps_enrollment_from_json on
 * every read, other columns are checked for type, range and length (a bad
 * row is GH_ERR_DB naming table, key and column).
 *
 * Keys: individual enrollments by lower-cased registrationId, groups by
 * lower-cased enrollmentGroupId, registration states by lower-cased
 * registrationId (PROTOCOL.md 4.1); the ids keep their given spelling in
 * the records. Listings are in key order (the deterministic order in which
 * attestation tries groups).
 *
 * Operations expire GH_DPS_OPERATION_TTL_MS after creation; creating one
 * removes expired ones first.
 *
 * Thread-safety: a store is NOT thread-safe; open one per thread. Nothing
 * here logs secrets.
 *
 * Errors common to every function taking a store: GH_ERR_DB, GH_ERR_NOSPACE,
 * GH_ERR_NOMEM (gh_dps_store_errmsg says what happened). On error the
 * database is unchanged and single-value outputs are untouched.
 */
#ifndef GH_DPS_DPS_STORE_H
#define GH_DPS_DPS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "dps/dps.h"
#include "dps/dps_doc.h"

#define GH_DPS_STORE_SCHEMA_VERSION 1
#define GH_DPS_STORE_DB_NAME "dps.db"
#define GH_DPS_STORE_BUSY_TIMEOUT_MS 5000
#define GH_DPS_STORE_PATH_MAX 4096
#define GH_DPS_STORE_ERR_MAX 256
/* Default and largest page of a listing. */
#define GH_DPS_STORE_LIST_DEFAULT 1000

struct gh_dps_store;

/* Create dir (0700) if needed, open or create dir/dps.db and migrate.
 * *out is owned by the caller (gh_dps_store_close); errbuf gets a reason.
 * Errors: GH_ERR_ARG (empty or too long dir), GH_ERR_IO, GH_ERR_PERM,
 * GH_ERR_DB (not a database, newer schema, migration failed), GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_dps_store_open(const char *dir, struct gh_dps_store **out, char *errbuf,
                                      size_t errlen);

/* Safe on NULL. */
void gh_dps_store_close(struct gh_dps_store *s);

/* Reason for the last error ("" if none); valid until the next call. */
const char *gh_dps_store_errmsg(const struct gh_dps_store *s);

/* Replace the clock (ms since the epoch); NULL restores the real clock. */
void gh_dps_store_set_clock(struct gh_dps_store *s, int64_t (*now_ms)(void *ctx), void *ctx);
int64_t gh_dps_store_now(const struct gh_dps_store *s);

/* ---- enrollments (4.6, 4.8) --------------------------------------------- */

/* Create or replace the enrollment in->id of kind in->kind. Empty symmetric
 * keys are generated (GH_DPS_GENERATED_KEY_BYTES each); on replace, empty
 * keys keep the current ones. if_match: NULL, "" or "*" = unconditional,
 * else (quotes allowed) it must equal the current etag. A new etag is
 * assigned; created time is kept on replace. *out (may be NULL) receives
 * the stored record (caller: gh_dps_enrollment_cleanup); *created (may be
 * NULL) whether it was new.
 * Errors: GH_ERR_ARG (invalid id), GH_ERR_NOT_FOUND (if_match given for a
 * missing record), GH_ERR_ETAG_MISMATCH, GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_dps_store_enrollment_put(struct gh_dps_store *s,
                                                const struct gh_dps_enrollment *in,
                                                const char *if_match, struct gh_dps_enrollment *out,
                                                bool *created);

/* Look up by id (any case). Errors: GH_ERR_ARG (invalid id),
 * GH_ERR_NOT_FOUND. */
GH_NODISCARD gh_err gh_dps_store_enrollment_get(struct gh_dps_store *s, enum gh_dps_kind kind,
                                                const char *id, struct gh_dps_enrollment *out);

/* Delete; if_match as for put. Errors: GH_ERR_ARG, GH_ERR_NOT_FOUND,
 * GH_ERR_ETAG_MISMATCH. */
GH_NODISCARD gh_err gh_dps_store_enrollment_delete(struct gh_dps_store *s, enum gh_dps_kind kind,
                                                   const char *id, const char *if_match);

/* Records of kind in key order with key > after (NULL or "" = from the
 * start; any case), at most limit (0 = GH_DPS_STORE_LIST_DEFAULT) and at
 * most cap, into out[0..*n) (each to be cleaned by the caller). On error
 * nothing is left to clean.
 * Errors: GH_ERR_ARG (after is not a valid id). */
GH_NODISCARD gh_err gh_dps_store_enrollment_list(struct gh_dps_store *s, enum gh_dps_kind kind,
                                                 const char *after, size_t limit,
                                                 struct gh_dps_enrollment *out, size_t cap,
                                                 size_t *n);

/* ---- registration states ------------------------------------------------ */

/* Create or replace the state of r->registration_id. The store assigns a
 * new etag and updated time; created time is kept on replace (else set to
 * now). *out (may be NULL) receives the stored record.
 * Errors: GH_ERR_ARG (invalid registration or enrollment id, device id,
 * hub name, or status). */
GH_NODISCARD gh_err gh_dps_store_registration_put(struct gh_dps_store *s,
                                                  const struct gh_dps_registration *r,
                                                  struct gh_dps_registration *out);

/* Errors: GH_ERR_ARG, GH_ERR_NOT_FOUND. */
GH_NODISCARD gh_err gh_dps_store_registration_get(struct gh_dps_store *s,
                                                  const char *registration_id,
                                                  struct gh_dps_registration *out);

/* if_match: NULL, "" or "*", else the etag (GUID, quotes allowed, or the
 * base64 form of gh_dps_registration_to_json).
 * Errors: GH_ERR_ARG, GH_ERR_NOT_FOUND, GH_ERR_ETAG_MISMATCH. */
GH_NODISCARD gh_err gh_dps_store_registration_delete(struct gh_dps_store *s,
                                                     const char *registration_id,
                                                     const char *if_match);

/* States in key order after `after`, as for enrollments; group_id NULL
 * for all, else only those that came from that group (any case).
 * Errors: GH_ERR_ARG. */
GH_NODISCARD gh_err gh_dps_store_registration_list(struct gh_dps_store *s, const char *group_id,
                                                   const char *after, size_t limit,
                                                   struct gh_dps_registration *out, size_t cap,
                                                   size_t *n);

/* ---- operations (4.1, 4.3) ---------------------------------------------- */

/* Start an operation (status assigning) for registration_id; expired
 * operations are removed first. *out receives it (result NULL).
 * Errors: GH_ERR_ARG, GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_dps_store_operation_create(struct gh_dps_store *s,
                                                  const char *registration_id,
                                                  struct gh_dps_operation *out);

/* Finish an operation with r (status and registrationState snapshot).
 * Errors: GH_ERR_ARG (r->status is assigning), GH_ERR_NOT_FOUND. */
GH_NODISCARD gh_err gh_dps_store_operation_finish(struct gh_dps_store *s, const char *operation_id,
                                                  const struct gh_dps_registration *r);

/* Look up an unexpired operation of registration_id (any case). An
 * operation of another registration id is NOT_FOUND too.
 * *out: caller gh_dps_operation_cleanup.
 * Errors: GH_ERR_NOT_FOUND. */
GH_NODISCARD gh_err gh_dps_store_operation_get(struct gh_dps_store *s, const char *registration_id,
                                               const char *operation_id,
                                               struct gh_dps_operation *out);

/* Finish every operation still assigning (left by a process that stopped
 * or crashed while assignments were queued or running) with status failed,
 * error_code and message (registration states are not touched); *n (may be
 * NULL) = how many. Errors: GH_ERR_ARG (message too long, code 0). */
GH_NODISCARD gh_err gh_dps_store_operation_fail_pending(struct gh_dps_store *s, int32_t error_code,
                                                        const char *message, uint64_t *n);

/* Remove expired operations; *n (may be NULL) = how many. */
GH_NODISCARD gh_err gh_dps_store_operation_expire(struct gh_dps_store *s, uint64_t *n);

#endif
