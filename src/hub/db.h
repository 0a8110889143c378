/* Internal to the SQLite stores (src/hub/store*.c, src/dps/dps_store*.c):
 * one database file with its open sequence, error text, clock, statement
 * cache, transactions and checked column reads. Not for other modules.
 *
 * A struct gh_db is embedded in its store and used by one thread at a time
 * (the store's own rule). Every fallible call records its message in
 * db->err (prefixed with the spec's name, e.g. "hub.db: ...").
 */
#ifndef GH_HUB_DB_H
#define GH_HUB_DB_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define GH_DB_ERR_MAX 256
#define GH_DB_PATH_MAX 4096
/* Longest key text a raw-key bad-row message shows (escaped). */
#define GH_DB_RAW_KEY_SHOWN 32
#define GH_DB_RAW_KEY_TEXT_MAX 80

/* What a database is: static, outlives every gh_db opened with it. */
struct gh_db_spec {
    const char *name;              /* file name in the data dir; message prefix */
    const char *const *sql;        /* statement texts, indexed by statement id */
    size_t nstmt;                  /* entries in sql */
    const char *const *migrations; /* migrations[v] takes version v to v + 1 */
    long schema_version;           /* newest version this build knows */
    int busy_timeout_ms;
    int cache_kib;             /* page cache limit; 0 = SQLite's default (2 MiB) */
    const char *migrate_event; /* log event for each applied migration */
};

enum gh_db_tx {
    GH_DB_TX_BEGIN,
    GH_DB_TX_BEGIN_READ,
    GH_DB_TX_COMMIT,
    GH_DB_TX_ROLLBACK,
    GH_DB_TX_COUNT
};

struct gh_db {
    sqlite3 *h;
    const struct gh_db_spec *spec;
    sqlite3_stmt **stmt; /* spec->nstmt cached statements, prepared on first use */
    sqlite3_stmt *tx[GH_DB_TX_COUNT];
    int64_t (*now)(void *ctx);
    void *now_ctx;
    char err[GH_DB_ERR_MAX];
};

/* What a bad-row message names. key is printable as is, unless escape_key,
 * when at most GH_DB_RAW_KEY_SHOWN bytes of it are shown escaped. */
struct gh_db_row {
    const char *table;
    const char *key;
    bool escape_key;
};

/* Open (creating) dir/spec->name into *db (which the caller zeroed): create
 * dir 0700 and the file 0600, open it, set busy timeout and defensive
 * config, journal_mode=WAL (checked), synchronous=FULL, foreign_keys=ON,
 * then apply the migrations from PRAGMA user_version up to
 * spec->schema_version. The clock is the real clock. The message also goes
 * to errbuf (when errlen > 0; "" on success). On failure *db is closed.
 * Errors: GH_ERR_ARG (dir missing or path too long), GH_ERR_PERM / GH_ERR_IO
 * (directory or file), GH_ERR_NOMEM, GH_ERR_NOSPACE, GH_ERR_DB (not a
 * database, WAL refused, schema version newer than spec or negative,
 * migration failed). */
GH_NODISCARD gh_err gh_db_open(struct gh_db *db, const struct gh_db_spec *spec, const char *dir,
                               char *errbuf, size_t errlen);
/* Finalize every statement and close; safe on a zeroed or closed db. */
void gh_db_close(struct gh_db *db);

/* The clock (ms since the epoch); NULL restores the real clock. */
void gh_db_set_clock(struct gh_db *db, int64_t (*now_ms)(void *ctx), void *ctx);
int64_t gh_db_now(const struct gh_db *db);

/* Set db->err (printf-style); returns rc. */
gh_err gh_db_fail(struct gh_db *db, gh_err rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Map an SQLite result code: OK/ROW/DONE -> GH_OK, NOMEM -> GH_ERR_NOMEM,
 * FULL -> GH_ERR_NOSPACE, anything else GH_ERR_DB; on error records
 * "<name>: <what>: <sqlite3_errmsg> (sqlite <rc>)". */
gh_err gh_db_sqlite(struct gh_db *db, int rc, const char *what);

/* The cached statement id (< spec->nstmt), reset, bindings cleared; the
 * pointer lives until gh_db_close. Errors: as gh_db_sqlite ("prepare"). */
GH_NODISCARD gh_err gh_db_stmt(struct gh_db *db, size_t id, sqlite3_stmt **out);

/* Step once: *row true when a row is ready, false when done. Resets the
 * statement on error. Errors: as gh_db_sqlite(what). */
GH_NODISCARD gh_err gh_db_step(struct gh_db *db, sqlite3_stmt *st, bool *row, const char *what);
/* Step to completion and reset. Errors: as gh_db_step. */
GH_NODISCARD gh_err gh_db_exec(struct gh_db *db, sqlite3_stmt *st, const char *what);
/* SQLite's synchronous level for the next commits: FULL (what gh_db_open
 * sets: every commit fsyncs the WAL) or NORMAL (in WAL mode: no fsync per
 * commit, checkpoints still synced). */
enum gh_db_sync { GH_DB_SYNC_FULL, GH_DB_SYNC_NORMAL };
GH_NODISCARD gh_err gh_db_synchronous(struct gh_db *db, enum gh_db_sync level);
/* As gh_db_exec, for a write whose loss on power failure is harmless (a
 * connection state the hub resets at start-up): committed without waiting
 * for the disk (PRAGMA synchronous=NORMAL around it, outside a transaction
 * only). The write is in the WAL at once and made durable by the next
 * synchronous commit; a crash of the process loses nothing. */
GH_NODISCARD gh_err gh_db_exec_volatile(struct gh_db *db, sqlite3_stmt *st, const char *what);
/* Release a statement's read state (NULL is ignored). */
void gh_db_done(sqlite3_stmt *st);

/* Transactions: BEGIN IMMEDIATE (write) or deferred BEGIN (read snapshot);
 * a failed commit rolls back. Rollback records nothing over the real error
 * and does nothing outside a transaction. Errors: as gh_db_sqlite. */
GH_NODISCARD gh_err gh_db_begin(struct gh_db *db);
GH_NODISCARD gh_err gh_db_begin_read(struct gh_db *db);
GH_NODISCARD gh_err gh_db_commit(struct gh_db *db);
void gh_db_rollback(struct gh_db *db);

/* Bind a copy (NULL text binds ''; an empty blob binds a zero-length
 * blob). Errors: as gh_db_sqlite("bind"). */
GH_NODISCARD gh_err gh_db_bind_text(struct gh_db *db, sqlite3_stmt *st, int i, const char *v);
GH_NODISCARD gh_err gh_db_bind_int(struct gh_db *db, sqlite3_stmt *st, int i, int64_t v);
GH_NODISCARD gh_err gh_db_bind_blob(struct gh_db *db, sqlite3_stmt *st, int i, const void *p,
                                    size_t n);

/* Checked column reads. A wrong type, length (text: n >= cap; json/blob:
 * n > max), range, embedded NUL or invalid UTF-8 is a bad row: GH_ERR_DB
 * "<name>: bad row in table T, key K: column C <problem>". */
GH_NODISCARD gh_err gh_db_col_text(struct gh_db *db, sqlite3_stmt *st, int col,
                                   const struct gh_db_row *row, const char *name, char *out,
                                   size_t cap);
GH_NODISCARD gh_err gh_db_col_int(struct gh_db *db, sqlite3_stmt *st, int col,
                                  const struct gh_db_row *row, const char *name, int64_t min,
                                  int64_t max, int64_t *out);
/* A JSON object (new reference in *out). */
GH_NODISCARD gh_err gh_db_col_json(struct gh_db *db, sqlite3_stmt *st, int col,
                                   const struct gh_db_row *row, const char *name, size_t max,
                                   json_t **out);
/* A BLOB copied into malloc'd memory (caller frees; NULL when empty).
 * Also GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_db_col_blob(struct gh_db *db, sqlite3_stmt *st, int col,
                                   const struct gh_db_row *row, const char *name, size_t max,
                                   uint8_t **out, size_t *len);
/* A bad row found by the caller's own check; returns GH_ERR_DB. */
gh_err gh_db_bad_row(struct gh_db *db, const struct gh_db_row *row, const char *name,
                     const char *problem);

/* Serialize a JSON value compactly (malloc'd, caller frees; *len may be
 * NULL). Errors: GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_db_dump(struct gh_db *db, const json_t *v, char **out, size_t *len);

#endif
