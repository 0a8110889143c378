/* Internal to src/dps/dps_store*.c: the store object and its helpers. */
#ifndef GH_DPS_DPS_STORE_INT_H
#define GH_DPS_DPS_STORE_INT_H

#include <sqlite3.h>

#include "dps/dps_store.h"
#include "hub/db.h"

#define GH_DPS_REG_COLS                                                                            \
    "registration_id, device_id, assigned_hub, status, substatus, error_code, error_message, "     \
    "enrollment_kind, enrollment_id, etag, created_ms, updated_ms"

/* X(name, sql) */
#define GH_DPS_STATEMENTS(X)                                                                       \
    X(EN_GET, "SELECT doc, etag, created_ms, updated_ms FROM enrollment WHERE kind = ?1 AND "      \
              "key = ?2")                                                                          \
    X(EN_PUT, "INSERT OR REPLACE INTO enrollment(kind, key, doc, etag, created_ms, updated_ms) "   \
              "VALUES(?1, ?2, ?3, ?4, ?5, ?6)")                                                    \
    X(EN_DEL, "DELETE FROM enrollment WHERE kind = ?1 AND key = ?2")                               \
    X(EN_LIST, "SELECT doc, etag, created_ms, updated_ms, key FROM enrollment WHERE kind = ?1 "    \
               "AND key > ?2 ORDER BY key LIMIT ?3")                                               \
    X(REG_GET, "SELECT " GH_DPS_REG_COLS " FROM registration WHERE key = ?1")                      \
    X(REG_PUT, "INSERT OR REPLACE INTO registration(key, " GH_DPS_REG_COLS ", enrollment_key) "    \
               "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)")              \
    X(REG_DEL, "DELETE FROM registration WHERE key = ?1")                                          \
    X(REG_LIST, "SELECT " GH_DPS_REG_COLS " FROM registration WHERE key > ?1 ORDER BY key "        \
                "LIMIT ?2")                                                                        \
    X(REG_LIST_GROUP, "SELECT " GH_DPS_REG_COLS " FROM registration WHERE key > ?1 AND "           \
                      "enrollment_kind = 1 AND enrollment_key = ?3 ORDER BY key LIMIT ?2")         \
    X(OP_EXPIRE, "DELETE FROM operation WHERE created_ms <= ?1")                                   \
    X(OP_INSERT, "INSERT INTO operation(id, reg_key, registration_id, status, created_ms, "        \
                 "updated_ms, result) VALUES(?1, ?2, ?3, 1, ?4, ?4, '')")                          \
    X(OP_FINISH, "UPDATE operation SET status = ?2, updated_ms = ?3, result = ?4 WHERE id = ?1")   \
    X(OP_GET, "SELECT id, registration_id, status, created_ms, updated_ms, result FROM operation " \
              "WHERE id = ?1 AND reg_key = ?2 AND created_ms > ?3")                                \
    X(OP_PENDING, "SELECT id, registration_id FROM operation WHERE status = 1 ORDER BY id "        \
                  "LIMIT ?1")

enum gh_dps_stmt {
#define GH_X(name, sql) GH_DPS_STMT_##name,
    GH_DPS_STATEMENTS(GH_X)
#undef GH_X
        GH_DPS_STMT_COUNT
};

struct gh_dps_store {
    struct gh_db db; /* dps.db: handle, statement cache, clock, message */
};

/* Statements, transactions and binds: hub/db.h, called with &s->db. */
/* Checked column reads (gh_db_col_*) naming table and raw key (shown
 * escaped); a bad column is GH_ERR_DB naming table/key/column. */
GH_NODISCARD gh_err gh_dps_i_col_text(struct gh_dps_store *s, sqlite3_stmt *st, int col,
                                      const char *table, const char *key, const char *name,
                                      char *out, size_t cap);
GH_NODISCARD gh_err gh_dps_i_col_int(struct gh_dps_store *s, sqlite3_stmt *st, int col,
                                     const char *table, const char *key, const char *name,
                                     int64_t min, int64_t max, int64_t *out);
gh_err gh_dps_i_bad_row(struct gh_dps_store *s, const char *table, const char *key,
                        const char *name, const char *problem);
/* Does the stored etag match if_match (NULL, "", "*" match anything; quotes
 * around if_match are ignored)? */
bool gh_dps_i_etag_matches(const char *stored, const char *if_match);

extern const char *const gh_dps_i_migrations[GH_DPS_STORE_SCHEMA_VERSION];

#endif
