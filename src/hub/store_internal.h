/* Internal to src/hub/store*.c: the store object, the statement table and
 * the helpers every part of the store uses. Not for other modules.
 */
#ifndef GH_HUB_STORE_INTERNAL_H
#define GH_HUB_STORE_INTERNAL_H

#include <sqlite3.h>

#include "hub/db.h"
#include "hub/store.h"

/* Columns of an identity row, in the order gh_store_i_identity_read reads
 * them and the insert binds them (?1..?21), plus the C2D count. */
#define GH_STORE_ID_COLS                                                                           \
    "device_id, module_id, managed_by, generation_id, etag, status, status_reason, "               \
    "status_updated_ms, auth_type, primary_key, secondary_key, primary_thumbprint, "               \
    "secondary_thumbprint, iot_edge, device_scope, parent_scope, conn_state, "                     \
    "conn_state_updated_ms, last_activity_ms, model_id, created_ms"
#define GH_STORE_ID_SELECT                                                                         \
    "SELECT " GH_STORE_ID_COLS ", (SELECT count(*) FROM c2d WHERE c2d.device_id = "                \
    "identity.device_id AND c2d.module_id = identity.module_id) FROM identity "

/* X(name, sql): every statement the store prepares (cached by gh_db_stmt;
 * transaction statements are gh_db's own). */
#define GH_STORE_STATEMENTS(X)                                                                     \
    /* identities */                                                                               \
    X(ID_GET, GH_STORE_ID_SELECT "WHERE device_id = ?1 AND module_id = ?2")                        \
    X(ID_INSERT, "INSERT INTO identity(" GH_STORE_ID_COLS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, "  \
                 "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)")            \
    X(ID_UPDATE, "UPDATE identity SET managed_by = ?3, generation_id = ?4, etag = ?5, "            \
                 "status = ?6, status_reason = ?7, status_updated_ms = ?8, auth_type = ?9, "       \
                 "primary_key = ?10, secondary_key = ?11, primary_thumbprint = ?12, "              \
                 "secondary_thumbprint = ?13, iot_edge = ?14, device_scope = ?15, "                \
                 "parent_scope = ?16, conn_state = ?17, conn_state_updated_ms = ?18, "             \
                 "last_activity_ms = ?19, model_id = ?20, created_ms = ?21 "                       \
                 "WHERE device_id = ?1 AND module_id = ?2")                                        \
    X(ID_DELETE_DEVICE, "DELETE FROM identity WHERE device_id = ?1")                               \
    X(ID_DELETE_MODULE, "DELETE FROM identity WHERE device_id = ?1 AND module_id = ?2")            \
    X(ID_LIST, GH_STORE_ID_SELECT "WHERE module_id = '' AND device_id > ?1 "                       \
                                  "ORDER BY device_id LIMIT ?2")                                   \
    X(ID_LIST_MODULES, GH_STORE_ID_SELECT "WHERE device_id = ?1 AND module_id > ?2 "               \
                                          "ORDER BY module_id LIMIT ?3")                           \
    X(ID_LIST_CHILDREN,                                                                            \
      GH_STORE_ID_SELECT "WHERE parent_scope = ?1 AND parent_scope <> '' "                         \
                         "AND module_id = '' AND device_id > ?2 ORDER BY device_id LIMIT ?3")      \
    X(ID_EDGE_BY_SCOPE, "SELECT device_id FROM identity WHERE device_scope = ?1 AND "              \
                        "device_scope <> '' AND module_id = '' AND iot_edge = 1 LIMIT 1")          \
    X(ID_STATS, "SELECT count(*), coalesce(sum(status = 0), 0), coalesce(sum(status = 1), 0) "     \
                "FROM identity WHERE module_id = ''")                                              \
    X(ID_SET_CONN, "UPDATE identity SET conn_state = ?3, conn_state_updated_ms = ?4, "             \
                   "last_activity_ms = CASE WHEN ?3 = 1 THEN ?4 ELSE last_activity_ms END, "       \
                   "model_id = CASE WHEN ?3 = 1 THEN ?5 ELSE model_id END "                        \
                   "WHERE device_id = ?1 AND module_id = ?2")                                      \
    X(ID_TOUCH, "UPDATE identity SET last_activity_ms = ?3 WHERE device_id = ?1 AND "              \
                "module_id = ?2 AND last_activity_ms <= ?3 - ?4")                                  \
    X(ID_RESET_CONN, "UPDATE identity SET conn_state = 0, conn_state_updated_ms = ?1 "             \
                     "WHERE conn_state <> 0")                                                      \
    /* sessions */                                                                                 \
    X(SESSION_PUT, "INSERT INTO session(device_id, module_id, subscribed, qos1, updated_ms) "      \
                   "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(device_id, module_id) DO UPDATE "       \
                   "SET subscribed = excluded.subscribed, qos1 = excluded.qos1, "                  \
                   "updated_ms = excluded.updated_ms")                                             \
    X(SESSION_GET, "SELECT subscribed, qos1 FROM session WHERE device_id = ?1 AND module_id = ?2") \
    X(SESSION_DEL, "DELETE FROM session WHERE device_id = ?1 AND module_id = ?2")                  \
    /* policies */                                                                                 \
    X(POLICY_GET, "SELECT name, primary_key, secondary_key, rights FROM policy WHERE name = ?1")   \
    X(POLICY_PUT, "INSERT INTO policy(name, primary_key, secondary_key, rights) "                  \
                  "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(name) DO UPDATE SET "                        \
                  "primary_key = excluded.primary_key, secondary_key = excluded.secondary_key, "   \
                  "rights = excluded.rights")                                                      \
    X(POLICY_ADD, "INSERT OR IGNORE INTO policy(name, primary_key, secondary_key, rights) "        \
                  "VALUES(?1, ?2, ?3, ?4)")                                                        \
    X(POLICY_DEL, "DELETE FROM policy WHERE name = ?1")                                            \
    X(POLICY_LIST, "SELECT name, primary_key, secondary_key, rights FROM policy ORDER BY name")    \
    /* CA certificates */                                                                          \
    X(CA_GET, "SELECT name, sha1, sha256, subject, not_after_ms, verified, verification_code, "    \
              "created_ms, pem FROM ca_cert WHERE name = ?1")                                      \
    X(CA_LIST, "SELECT name, sha1, sha256, subject, not_after_ms, verified, "                      \
               "verification_code, created_ms FROM ca_cert ORDER BY name")                         \
    X(CA_INSERT, "INSERT INTO ca_cert(name, sha1, sha256, subject, not_after_ms, verified, "       \
                 "verification_code, created_ms, pem) VALUES(?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?8)")  \
    X(CA_DEL, "DELETE FROM ca_cert WHERE name = ?1")                                               \
    X(CA_SET_CODE, "UPDATE ca_cert SET verification_code = ?2 WHERE name = ?1")                    \
    X(CA_SET_VERIFIED, "UPDATE ca_cert SET verified = 1 WHERE name = ?1 AND "                      \
                       "verification_code = ?2")                                                   \
    /* twins */                                                                                    \
    X(TWIN_GET, "SELECT version, desired_version, reported_version, tags, desired, "               \
                "desired_meta, reported, reported_meta FROM twin WHERE device_id = ?1 AND "        \
                "module_id = ?2")                                                                  \
    X(TWIN_PUT, "INSERT OR REPLACE INTO twin(device_id, module_id, version, desired_version, "     \
                "reported_version, tags, desired, desired_meta, reported, reported_meta) "         \
                "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")                                 \
    /* C2D */                                                                                      \
    X(C2D_EXPIRE, "DELETE FROM c2d WHERE device_id = ?1 AND module_id = '' AND expiry_ms <= ?2")   \
    X(C2D_COUNT, "SELECT count(*) FROM c2d WHERE device_id = ?1 AND module_id = '' AND "           \
                 "expiry_ms > ?2")                                                                 \
    X(C2D_INSERT, "INSERT INTO c2d(device_id, module_id, message_id, enqueued_ms, expiry_ms, "     \
                  "lock_until_ms, delivered, ack, properties, body) "                              \
                  "VALUES(?1, '', ?2, ?3, ?4, 0, 0, ?5, ?6, ?7)")                                  \
    X(C2D_NEXT, "SELECT seq, message_id, enqueued_ms, expiry_ms, delivered, ack, properties, "     \
                "body FROM c2d WHERE device_id = ?1 AND module_id = '' AND lock_until_ms <= ?2 "   \
                "ORDER BY seq LIMIT 1")                                                            \
    X(C2D_LOCK, "UPDATE c2d SET lock_until_ms = ?2, delivered = delivered + 1 WHERE seq = ?1")     \
    X(C2D_COMPLETE, "DELETE FROM c2d WHERE seq = ?1 AND device_id = ?2 AND module_id = '' "        \
                    "RETURNING message_id, ack")                                                   \
    X(C2D_UNLOCK, "UPDATE c2d SET lock_until_ms = 0 WHERE device_id = ?1 AND module_id = '' "      \
                  "AND lock_until_ms > 0")                                                         \
    X(C2D_PURGE, "DELETE FROM c2d WHERE device_id = ?1 AND module_id = ''")                        \
    /* telemetry */                                                                                \
    X(TEL_STATS, "SELECT next_seq, count, bytes FROM telemetry_stats WHERE id = 1")                \
    X(TEL_INSERT, "INSERT INTO telemetry(seq, device_id, module_id, enqueued_ms, properties, "     \
                  "body, size) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)")                                \
    X(TEL_STATS_ADD, "UPDATE telemetry_stats SET next_seq = ?1, count = count + ?2, "              \
                     "bytes = bytes + ?3 WHERE id = 1")                                            \
    X(TEL_STATS_SUB, "UPDATE telemetry_stats SET count = max(count - ?1, 0), "                     \
                     "bytes = max(bytes - ?2, 0) WHERE id = 1")                                    \
    X(TEL_READ_ALL, "SELECT seq, device_id, module_id, enqueued_ms, properties, body FROM "        \
                    "telemetry WHERE seq > ?1 AND seq <= ?5 AND enqueued_ms >= ?2 ORDER BY seq "   \
                    "LIMIT ?3")                                                                    \
    X(TEL_READ_DEV, "SELECT seq, device_id, module_id, enqueued_ms, properties, body FROM "        \
                    "telemetry WHERE seq > ?1 AND seq <= ?5 AND device_id = ?4 AND "               \
                    "enqueued_ms >= ?2 ORDER BY seq LIMIT ?3")                                     \
    X(TEL_FIRST_YOUNG, "SELECT seq FROM telemetry WHERE enqueued_ms >= ?1 ORDER BY seq LIMIT 1")   \
    X(TEL_DELETE_BEFORE, "DELETE FROM telemetry WHERE seq IN (SELECT seq FROM telemetry "          \
                         "WHERE seq < ?1 ORDER BY seq LIMIT ?2) RETURNING size")                   \
    X(TEL_OLDEST, "SELECT seq, size FROM telemetry ORDER BY seq LIMIT ?1")                         \
    X(TEL_DELETE_UPTO, "DELETE FROM telemetry WHERE seq <= ?1 RETURNING size")

enum gh_store_stmt {
#define GH_X(name, sql) GH_STMT_##name,
    GH_STORE_STATEMENTS(GH_X)
#undef GH_X
        GH_STMT_COUNT
};

struct gh_store {
    struct gh_db db;     /* hub.db: handle, statement cache, clock, message */
    uint64_t last_genid; /* gh_hub_generation_id state */
    bool tel_deferred;   /* gh_store_telemetry_defer_sync */
};

/* Forward-only migrations: gh_store_i_migrations[v] takes version v to
 * v + 1. */
extern const char *const gh_store_i_migrations[GH_STORE_SCHEMA_VERSION];

/* Statements, transactions, binds and checked reads: hub/db.h, called
 * with &s->db (rows are struct gh_db_row with an already printable key). */

/* Printable key for messages: escaped device[/module] into out. */
#define GH_STORE_KEY_TEXT_MAX 128
const char *gh_store_i_key(char out[GH_STORE_KEY_TEXT_MAX], const char *device_id,
                           const char *module_id);

/* Valid device id and (NULL, "" or valid) module id? GH_ERR_ARG if not. */
GH_NODISCARD gh_err gh_store_i_check_ids(struct gh_store *s, const char *device_id,
                                         const char *module_id);

/* Read an identity row whose columns start at 0 (GH_STORE_ID_SELECT). */
GH_NODISCARD gh_err gh_store_i_identity_read(struct gh_store *s, sqlite3_stmt *st,
                                             struct gh_identity *out);

/* Does the identity exist? (inside the caller's transaction) */
GH_NODISCARD gh_err gh_store_i_identity_find(struct gh_store *s, const char *device_id,
                                             const char *module_id, struct gh_identity *out,
                                             bool *found);

/* Names of policies and CA records: 1..max letters, digits, '-', '_', '.'. */
bool gh_store_i_valid_name(const char *n, size_t max);

#endif
