/* One SQLite database: open sequence, clock, error text, statement cache,
 * transactions and checked column reads (shared by hub.db and dps.db). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "hub/db.h"

static const char *const tx_sql[GH_DB_TX_COUNT] = {
    [GH_DB_TX_BEGIN] = "BEGIN IMMEDIATE",
    [GH_DB_TX_BEGIN_READ] = "BEGIN",
    [GH_DB_TX_COMMIT] = "COMMIT",
    [GH_DB_TX_ROLLBACK] = "ROLLBACK",
};

static int64_t real_now(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void gh_db_set_clock(struct gh_db *db, int64_t (*now_ms)(void *ctx), void *ctx)
{
    db->now = now_ms != NULL ? now_ms : real_now;
    db->now_ctx = now_ms != NULL ? ctx : NULL;
}

int64_t gh_db_now(const struct gh_db *db)
{
    return db->now(db->now_ctx);
}

gh_err gh_db_fail(struct gh_db *db, gh_err rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(db->err, sizeof db->err, fmt, ap);
    va_end(ap);
    return rc;
}

static gh_err map_sqlite(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return GH_OK;
    case SQLITE_NOMEM:
        return GH_ERR_NOMEM;
    case SQLITE_FULL:
        return GH_ERR_NOSPACE;
    default:
        return GH_ERR_DB;
    }
}

gh_err gh_db_sqlite(struct gh_db *db, int rc, const char *what)
{
    gh_err e = map_sqlite(rc);
    if (e == GH_OK) return GH_OK;
    return gh_db_fail(db, e, "%s: %s: %s (sqlite %d)", db->spec->name, what, sqlite3_errmsg(db->h),
                      rc);
}

/* The cached statement in *slot (prepared from sql on first use). */
static gh_err cached(struct gh_db *db, sqlite3_stmt **slot, const char *sql, sqlite3_stmt **out)
{
    sqlite3_stmt *st = *slot;
    if (st == NULL) {
        int rc = sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
        if (rc != SQLITE_OK) return gh_db_sqlite(db, rc, "prepare");
        *slot = st;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    *out = st;
    return GH_OK;
}

gh_err gh_db_stmt(struct gh_db *db, size_t id, sqlite3_stmt **out)
{
    return cached(db, &db->stmt[id], db->spec->sql[id], out);
}

void gh_db_done(sqlite3_stmt *st)
{
    if (st != NULL) sqlite3_reset(st);
}

gh_err gh_db_step(struct gh_db *db, sqlite3_stmt *st, bool *row, const char *what)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *row = true;
        return GH_OK;
    }
    *row = false;
    if (rc == SQLITE_DONE) return GH_OK;
    gh_err e = gh_db_sqlite(db, rc, what);
    sqlite3_reset(st);
    return e;
}

gh_err gh_db_exec(struct gh_db *db, sqlite3_stmt *st, const char *what)
{
    bool row = true;
    gh_err rc = GH_OK;
    while (rc == GH_OK && row) rc = gh_db_step(db, st, &row, what);
    gh_db_done(st);
    return rc;
}

gh_err gh_db_synchronous(struct gh_db *db, enum gh_db_sync level)
{
    int e = sqlite3_exec(
        db->h, level == GH_DB_SYNC_NORMAL ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL",
        NULL, NULL, NULL);
    return e == SQLITE_OK ? GH_OK : gh_db_sqlite(db, e, "pragma");
}

gh_err gh_db_exec_volatile(struct gh_db *db, sqlite3_stmt *st, const char *what)
{
    if (!sqlite3_get_autocommit(db->h)) return gh_db_exec(db, st, what);
    /* NORMAL, not OFF: a checkpoint that runs inside this commit still
     * syncs the database before the WAL is reused. Back to FULL, the level
     * gh_db_open sets, whatever happened. */
    GH_GUARD(gh_db_synchronous(db, GH_DB_SYNC_NORMAL));
    gh_err rc = gh_db_exec(db, st, what);
    gh_err e = gh_db_synchronous(db, GH_DB_SYNC_FULL);
    return rc != GH_OK ? rc : e;
}

static gh_err run_tx(struct gh_db *db, enum gh_db_tx id, const char *what)
{
    sqlite3_stmt *st;
    GH_GUARD(cached(db, &db->tx[id], tx_sql[id], &st));
    return gh_db_exec(db, st, what);
}

gh_err gh_db_begin(struct gh_db *db)
{
    return run_tx(db, GH_DB_TX_BEGIN, "begin");
}

gh_err gh_db_begin_read(struct gh_db *db)
{
    return run_tx(db, GH_DB_TX_BEGIN_READ, "begin");
}

gh_err gh_db_commit(struct gh_db *db)
{
    gh_err rc = run_tx(db, GH_DB_TX_COMMIT, "commit");
    if (rc != GH_OK) gh_db_rollback(db);
    return rc;
}

void gh_db_rollback(struct gh_db *db)
{
    if (sqlite3_get_autocommit(db->h)) return;
    sqlite3_stmt *st = db->tx[GH_DB_TX_ROLLBACK];
    if (st == NULL && sqlite3_prepare_v3(db->h, tx_sql[GH_DB_TX_ROLLBACK], -1,
                                         SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
        return;
    }
    db->tx[GH_DB_TX_ROLLBACK] = st;
    sqlite3_reset(st);
    sqlite3_step(st);
    sqlite3_reset(st);
}

gh_err gh_db_bind_text(struct gh_db *db, sqlite3_stmt *st, int i, const char *v)
{
    int rc = sqlite3_bind_text(st, i, v != NULL ? v : "", -1, SQLITE_TRANSIENT);
    return gh_db_sqlite(db, rc, "bind");
}

gh_err gh_db_bind_int(struct gh_db *db, sqlite3_stmt *st, int i, int64_t v)
{
    return gh_db_sqlite(db, sqlite3_bind_int64(st, i, v), "bind");
}

gh_err gh_db_bind_blob(struct gh_db *db, sqlite3_stmt *st, int i, const void *p, size_t n)
{
    int rc = n == 0 ? sqlite3_bind_zeroblob(st, i, 0)
                    : sqlite3_bind_blob64(st, i, p, (sqlite3_uint64)n, SQLITE_TRANSIENT);
    return gh_db_sqlite(db, rc, "bind");
}

gh_err gh_db_bad_row(struct gh_db *db, const struct gh_db_row *row, const char *name,
                     const char *problem)
{
    char k[GH_DB_RAW_KEY_TEXT_MAX];
    const char *key = row->key;
    if (row->escape_key) {
        gh_log_escape(k, sizeof k, row->key, strlen(row->key), GH_DB_RAW_KEY_SHOWN);
        key = k;
    }
    return gh_db_fail(db, GH_ERR_DB, "%s: bad row in table %s, key %s: column %s %s",
                      db->spec->name, row->table, key, name, problem);
}

gh_err gh_db_col_text(struct gh_db *db, sqlite3_stmt *st, int col, const struct gh_db_row *row,
                      const char *name, char *out, size_t cap)
{
    if (sqlite3_column_type(st, col) != SQLITE_TEXT)
        return gh_db_bad_row(db, row, name, "is not text");
    const unsigned char *p = sqlite3_column_text(st, col);
    int n = sqlite3_column_bytes(st, col);
    if (p == NULL) return gh_db_bad_row(db, row, name, "is not text");
    if (n < 0 || (size_t)n >= cap) return gh_db_bad_row(db, row, name, "is too long");
    if (memchr(p, '\0', (size_t)n) != NULL || !gh_utf8_valid(p, (size_t)n))
        return gh_db_bad_row(db, row, name, "is not valid UTF-8 text");
    memcpy(out, p, (size_t)n);
    out[n] = '\0';
    return GH_OK;
}

gh_err gh_db_col_int(struct gh_db *db, sqlite3_stmt *st, int col, const struct gh_db_row *row,
                     const char *name, int64_t min, int64_t max, int64_t *out)
{
    if (sqlite3_column_type(st, col) != SQLITE_INTEGER)
        return gh_db_bad_row(db, row, name, "is not an integer");
    int64_t v = sqlite3_column_int64(st, col);
    if (v < min || v > max) return gh_db_bad_row(db, row, name, "is out of range");
    *out = v;
    return GH_OK;
}

gh_err gh_db_col_json(struct gh_db *db, sqlite3_stmt *st, int col, const struct gh_db_row *row,
                      const char *name, size_t max, json_t **out)
{
    if (sqlite3_column_type(st, col) != SQLITE_TEXT)
        return gh_db_bad_row(db, row, name, "is not text");
    const char *p = (const char *)sqlite3_column_text(st, col);
    int n = sqlite3_column_bytes(st, col);
    if (p == NULL) return gh_db_bad_row(db, row, name, "is not text");
    if (n < 0 || (size_t)n > max) return gh_db_bad_row(db, row, name, "is too long");
    json_error_t jerr;
    json_t *j = json_loadb(p, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL) return gh_db_bad_row(db, row, name, "is not valid JSON");
    if (!json_is_object(j)) {
        json_decref(j);
        return gh_db_bad_row(db, row, name, "is not a JSON object");
    }
    *out = j;
    return GH_OK;
}

gh_err gh_db_col_blob(struct gh_db *db, sqlite3_stmt *st, int col, const struct gh_db_row *row,
                      const char *name, size_t max, uint8_t **out, size_t *len)
{
    if (sqlite3_column_type(st, col) != SQLITE_BLOB)
        return gh_db_bad_row(db, row, name, "is not a blob");
    const void *p = sqlite3_column_blob(st, col);
    int n = sqlite3_column_bytes(st, col);
    if (n < 0 || (size_t)n > max) return gh_db_bad_row(db, row, name, "is too long");
    uint8_t *copy = NULL;
    if (n > 0) {
        if (p == NULL) return gh_db_sqlite(db, SQLITE_NOMEM, "read blob");
        copy = malloc((size_t)n);
        if (copy == NULL) return gh_db_fail(db, GH_ERR_NOMEM, "out of memory");
        memcpy(copy, p, (size_t)n);
    }
    *out = copy;
    *len = (size_t)n;
    return GH_OK;
}

gh_err gh_db_dump(struct gh_db *db, const json_t *v, char **out, size_t *len)
{
    char *t = json_dumps(v, JSON_COMPACT);
    if (t == NULL) return gh_db_fail(db, GH_ERR_NOMEM, "out of memory serializing JSON");
    *out = t;
    if (len != NULL) *len = strlen(t);
    return GH_OK;
}

/* ---- open / close ------------------------------------------------------- */

static gh_err errno_err(int e)
{
    return e == EACCES || e == EPERM || e == EROFS ? GH_ERR_PERM : GH_ERR_IO;
}

static gh_err make_dir_and_file(const char *dir, const char *path, char *errbuf, size_t errlen)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return gh_err_say(errbuf, errlen, errno_err(errno), "cannot create directory %s: %s", dir,
                          strerror(errno));
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return gh_err_say(errbuf, errlen, GH_ERR_IO, "%s is not a directory", dir);
    /* Create the database file ourselves so it is 0600 (SQLite gives the
     * -wal and -shm files the same permissions). */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return gh_err_say(errbuf, errlen, errno_err(errno), "cannot open %s: %s", path,
                          strerror(errno));
    close(fd);
    return GH_OK;
}

/* Run one SQL text (pragmas, migrations) that returns no rows we need. */
static gh_err exec_sql(struct gh_db *db, const char *sql, const char *what)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK) return GH_OK;
    gh_err e = map_sqlite(rc);
    gh_db_fail(db, e, "%s: %s: %s", db->spec->name, what, msg != NULL ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return e;
}

/* A pragma that returns one value, as text into out. */
static gh_err pragma_text(struct gh_db *db, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db->h, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) return gh_db_sqlite(db, rc, sql);
    rc = sqlite3_step(st);
    gh_err e = GH_OK;
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(out, cap, "%s", t != NULL ? (const char *)t : "");
    } else {
        e = gh_db_sqlite(db, rc == SQLITE_DONE ? SQLITE_ERROR : rc, sql);
    }
    sqlite3_finalize(st);
    return e;
}

static gh_err migrate(struct gh_db *db)
{
    const struct gh_db_spec *spec = db->spec;
    char v[32];
    GH_GUARD(pragma_text(db, "PRAGMA user_version", v, sizeof v));
    long version = strtol(v, NULL, 10);
    if (version > spec->schema_version)
        return gh_db_fail(db, GH_ERR_DB,
                          "%s: schema version %ld is newer than this gatehouse supports (%ld); "
                          "run a newer gatehouse or restore a matching backup",
                          spec->name, version, spec->schema_version);
    if (version < 0)
        return gh_db_fail(db, GH_ERR_DB, "%s: invalid schema version %ld", spec->name, version);
    for (long i = version; i < spec->schema_version; i++) {
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version = %ld;", i + 1);
        gh_err rc = exec_sql(db, "BEGIN IMMEDIATE", "migration begin");
        if (rc == GH_OK) rc = exec_sql(db, spec->migrations[i], "migration");
        if (rc == GH_OK) rc = exec_sql(db, bump, "migration");
        if (rc == GH_OK) rc = exec_sql(db, "COMMIT", "migration commit");
        if (rc != GH_OK) {
            sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
        gh_log_info(spec->migrate_event, "schema_version=%ld", i + 1);
    }
    return GH_OK;
}

static gh_err configure(struct gh_db *db)
{
    sqlite3_extended_result_codes(db->h, 1);
    sqlite3_busy_timeout(db->h, db->spec->busy_timeout_ms);
    sqlite3_db_config(db->h, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(db->h, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    char mode[16];
    GH_GUARD(pragma_text(db, "PRAGMA journal_mode=WAL", mode, sizeof mode));
    if (strcmp(mode, "wal") != 0)
        return gh_db_fail(db, GH_ERR_DB, "%s: cannot switch to WAL mode (got %s)", db->spec->name,
                          mode);
    GH_GUARD(exec_sql(db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", "pragma"));
    if (db->spec->cache_kib > 0) {
        char sql[48];
        snprintf(sql, sizeof sql, "PRAGMA cache_size=-%d;", db->spec->cache_kib);
        GH_GUARD(exec_sql(db, sql, "pragma"));
    }
    return migrate(db);
}

gh_err gh_db_open(struct gh_db *db, const struct gh_db_spec *spec, const char *dir, char *errbuf,
                  size_t errlen)
{
    char path[GH_DB_PATH_MAX];
    if (errlen > 0) errbuf[0] = '\0';
    db->spec = spec;
    gh_db_set_clock(db, NULL, NULL);
    if (dir == NULL || dir[0] == '\0')
        return gh_err_say(errbuf, errlen, GH_ERR_ARG, "no data directory given");
    int n = snprintf(path, sizeof path, "%s/%s", dir, spec->name);
    if (n < 0 || (size_t)n >= sizeof path)
        return gh_err_say(errbuf, errlen, GH_ERR_ARG, "data directory path is too long");
    GH_GUARD(make_dir_and_file(dir, path, errbuf, errlen));

    db->stmt = calloc(spec->nstmt > 0 ? spec->nstmt : 1, sizeof *db->stmt);
    if (db->stmt == NULL) return gh_err_say(errbuf, errlen, GH_ERR_NOMEM, "out of memory");
    gh_err rc;
    int src = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (src != SQLITE_OK) {
        rc = db->h != NULL ? gh_db_sqlite(db, src, "open")
                           : gh_db_fail(db, GH_ERR_NOMEM, "out of memory");
    } else {
        rc = configure(db);
    }
    if (rc != GH_OK) {
        gh_err_say(errbuf, errlen, rc, "%s", db->err);
        gh_db_close(db);
    }
    return rc;
}

void gh_db_close(struct gh_db *db)
{
    if (db->stmt != NULL && db->spec != NULL)
        for (size_t i = 0; i < db->spec->nstmt; i++) sqlite3_finalize(db->stmt[i]);
    for (size_t i = 0; i < GH_DB_TX_COUNT; i++) sqlite3_finalize(db->tx[i]);
    sqlite3_close_v2(db->h);
    free(db->stmt);
    db->stmt = NULL;
    memset(db->tx, 0, sizeof db->tx);
    db->h = NULL;
}
