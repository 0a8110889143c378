/* Store lifecycle, statement cache, transactions and checked column reads. */
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
#include "hub/store_internal.h"

static const char *const sql_text[GH_STMT_COUNT] = {
#define GH_X(name, sql) sql,
    GH_STORE_STATEMENTS(GH_X)
#undef GH_X
};

static int64_t real_now(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void gh_store_set_clock(struct gh_store *s, int64_t (*now_ms)(void *ctx), void *ctx)
{
    s->now = now_ms != NULL ? now_ms : real_now;
    s->now_ctx = now_ms != NULL ? ctx : NULL;
}

int64_t gh_store_now(const struct gh_store *s)
{
    return s->now(s->now_ctx);
}

const char *gh_store_errmsg(const struct gh_store *s)
{
    return s->err;
}

gh_err gh_store_i_fail(struct gh_store *s, gh_err rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
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

gh_err gh_store_i_sqlite(struct gh_store *s, int rc, const char *what)
{
    gh_err e = map_sqlite(rc);
    if (e == GH_OK) return GH_OK;
    return gh_store_i_fail(s, e, "hub.db: %s: %s (sqlite %d)", what, sqlite3_errmsg(s->db), rc);
}

gh_err gh_store_i_stmt(struct gh_store *s, enum gh_store_stmt id, sqlite3_stmt **out)
{
    sqlite3_stmt *st = s->stmt[id];
    if (st == NULL) {
        int rc = sqlite3_prepare_v3(s->db, sql_text[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
        if (rc != SQLITE_OK) return gh_store_i_sqlite(s, rc, "prepare");
        s->stmt[id] = st;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    *out = st;
    return GH_OK;
}

void gh_store_i_done(sqlite3_stmt *st)
{
    if (st != NULL) sqlite3_reset(st);
}

gh_err gh_store_i_step(struct gh_store *s, sqlite3_stmt *st, bool *row, const char *what)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *row = true;
        return GH_OK;
    }
    *row = false;
    if (rc == SQLITE_DONE) return GH_OK;
    gh_err e = gh_store_i_sqlite(s, rc, what);
    sqlite3_reset(st);
    return e;
}

gh_err gh_store_i_exec(struct gh_store *s, sqlite3_stmt *st, const char *what)
{
    bool row = true;
    gh_err rc = GH_OK;
    while (rc == GH_OK && row) rc = gh_store_i_step(s, st, &row, what);
    gh_store_i_done(st);
    return rc;
}

static gh_err run(struct gh_store *s, enum gh_store_stmt id, const char *what)
{
    sqlite3_stmt *st;
    GH_GUARD(gh_store_i_stmt(s, id, &st));
    return gh_store_i_exec(s, st, what);
}

gh_err gh_store_i_begin(struct gh_store *s)
{
    return run(s, GH_STMT_BEGIN, "begin");
}

gh_err gh_store_i_begin_read(struct gh_store *s)
{
    return run(s, GH_STMT_BEGIN_READ, "begin");
}

gh_err gh_store_i_commit(struct gh_store *s)
{
    gh_err rc = run(s, GH_STMT_COMMIT, "commit");
    if (rc != GH_OK) gh_store_i_rollback(s);
    return rc;
}

void gh_store_i_rollback(struct gh_store *s)
{
    if (sqlite3_get_autocommit(s->db)) return;
    sqlite3_stmt *st = s->stmt[GH_STMT_ROLLBACK];
    if (st == NULL && sqlite3_prepare_v3(s->db, sql_text[GH_STMT_ROLLBACK], -1,
                                         SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return;
    }
    s->stmt[GH_STMT_ROLLBACK] = st;
    sqlite3_reset(st);
    sqlite3_step(st);
    sqlite3_reset(st);
}

gh_err gh_store_i_bind_text(struct gh_store *s, sqlite3_stmt *st, int i, const char *v)
{
    int rc = sqlite3_bind_text(st, i, v != NULL ? v : "", -1, SQLITE_TRANSIENT);
    return gh_store_i_sqlite(s, rc, "bind");
}

gh_err gh_store_i_bind_int(struct gh_store *s, sqlite3_stmt *st, int i, int64_t v)
{
    return gh_store_i_sqlite(s, sqlite3_bind_int64(st, i, v), "bind");
}

gh_err gh_store_i_bind_blob(struct gh_store *s, sqlite3_stmt *st, int i, const void *p, size_t n)
{
    int rc = n == 0 ? sqlite3_bind_zeroblob(st, i, 0)
                    : sqlite3_bind_blob64(st, i, p, (sqlite3_uint64)n, SQLITE_TRANSIENT);
    return gh_store_i_sqlite(s, rc, "bind");
}

const char *gh_store_i_key(char out[GH_STORE_KEY_TEXT_MAX], const char *device_id,
                           const char *module_id)
{
    char a[56], b[56];
    gh_log_escape(a, sizeof a, device_id, strlen(device_id), 24);
    if (module_id == NULL || module_id[0] == '\0') {
        snprintf(out, GH_STORE_KEY_TEXT_MAX, "%s", a);
    } else {
        gh_log_escape(b, sizeof b, module_id, strlen(module_id), 24);
        snprintf(out, GH_STORE_KEY_TEXT_MAX, "%s/%s", a, b);
    }
    return out;
}

gh_err gh_store_i_bad_row(struct gh_store *s, const struct gh_store_row *row, const char *name,
                          const char *problem)
{
    return gh_store_i_fail(s, GH_ERR_DB, "hub.db: bad row in table %s, key %s: column %s %s",
                           row->table, row->key, name, problem);
}

gh_err gh_store_i_col_text(struct gh_store *s, sqlite3_stmt *st, int col,
                           const struct gh_store_row *row, const char *name, char *out, size_t cap)
{
    if (sqlite3_column_type(st, col) != SQLITE_TEXT)
        return gh_store_i_bad_row(s, row, name, "is not text");
    const unsigned char *p = sqlite3_column_text(st, col);
    int n = sqlite3_column_bytes(st, col);
    if (p == NULL) return gh_store_i_bad_row(s, row, name, "is not text");
    if (n < 0 || (size_t)n >= cap) return gh_store_i_bad_row(s, row, name, "is too long");
    if (memchr(p, '\0', (size_t)n) != NULL || !gh_utf8_valid(p, (size_t)n))
        return gh_store_i_bad_row(s, row, name, "is not valid UTF-8 text");
    memcpy(out, p, (size_t)n);
    out[n] = '\0';
    return GH_OK;
}

gh_err gh_store_i_col_int(struct gh_store *s, sqlite3_stmt *st, int col,
                          const struct gh_store_row *row, const char *name, int64_t min,
                          int64_t max, int64_t *out)
{
    if (sqlite3_column_type(st, col) != SQLITE_INTEGER)
        return gh_store_i_bad_row(s, row, name, "is not an integer");
    int64_t v = sqlite3_column_int64(st, col);
    if (v < min || v > max) return gh_store_i_bad_row(s, row, name, "is out of range");
    *out = v;
    return GH_OK;
}

gh_err gh_store_i_col_json(struct gh_store *s, sqlite3_stmt *st, int col,
                           const struct gh_store_row *row, const char *name, size_t max,
                           json_t **out)
{
    if (sqlite3_column_type(st, col) != SQLITE_TEXT)
        return gh_store_i_bad_row(s, row, name, "is not text");
    const char *p = (const char *)sqlite3_column_text(st, col);
    int n = sqlite3_column_bytes(st, col);
    if (p == NULL) return gh_store_i_bad_row(s, row, name, "is not text");
    if (n < 0 || (size_t)n > max) return gh_store_i_bad_row(s, row, name, "is too long");
    json_error_t jerr;
    json_t *j = json_loadb(p, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL) return gh_store_i_bad_row(s, row, name, "is not valid JSON");
    if (!json_is_object(j)) {
        json_decref(j);
        return gh_store_i_bad_row(s, row, name, "is not a JSON object");
    }
    *out = j;
    return GH_OK;
}

gh_err gh_store_i_col_blob(struct gh_store *s, sqlite3_stmt *st, int col,
                           const struct gh_store_row *row, const char *name, size_t max,
                           uint8_t **out, size_t *len)
{
    if (sqlite3_column_type(st, col) != SQLITE_BLOB)
        return gh_store_i_bad_row(s, row, name, "is not a blob");
    const void *p = sqlite3_column_blob(st, col);
    int n = sqlite3_column_bytes(st, col);
    if (n < 0 || (size_t)n > max) return gh_store_i_bad_row(s, row, name, "is too long");
    uint8_t *copy = NULL;
    if (n > 0) {
        if (p == NULL) return gh_store_i_sqlite(s, SQLITE_NOMEM, "read blob");
        copy = malloc((size_t)n);
        if (copy == NULL) return gh_store_i_fail(s, GH_ERR_NOMEM, "out of memory");
        memcpy(copy, p, (size_t)n);
    }
    *out = copy;
    *len = (size_t)n;
    return GH_OK;
}

gh_err gh_store_i_dump(struct gh_store *s, const json_t *v, char **out, size_t *len)
{
    char *t = json_dumps(v, JSON_COMPACT);
    if (t == NULL) return gh_store_i_fail(s, GH_ERR_NOMEM, "out of memory serializing JSON");
    *out = t;
    if (len != NULL) *len = strlen(t);
    return GH_OK;
}

/* ---- open / close ------------------------------------------------------- */

static gh_err open_fail(char *errbuf, size_t errlen, gh_err rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static gh_err open_fail(char *errbuf, size_t errlen, gh_err rc, const char *fmt, ...)
{
    if (errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static gh_err errno_err(int e)
{
    return e == EACCES || e == EPERM || e == EROFS ? GH_ERR_PERM : GH_ERR_IO;
}

static gh_err make_dir_and_file(const char *dir, const char *path, char *errbuf, size_t errlen)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return open_fail(errbuf, errlen, errno_err(errno), "cannot create directory %s: %s", dir,
                         strerror(errno));
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return open_fail(errbuf, errlen, GH_ERR_IO, "%s is not a directory", dir);
    /* Create the database file ourselves so it is 0600 (SQLite gives the
     * -wal and -shm files the same permissions). */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return open_fail(errbuf, errlen, errno_err(errno), "cannot open %s: %s", path,
                         strerror(errno));
    close(fd);
    return GH_OK;
}

/* Run one SQL text (pragmas, migrations) that returns no rows we need. */
static gh_err exec_sql(struct gh_store *s, const char *sql, const char *what)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK) return GH_OK;
    gh_err e = map_sqlite(rc);
    gh_store_i_fail(s, e, "hub.db: %s: %s", what, msg != NULL ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return e;
}

/* A pragma that returns one value, as text into out. */
static gh_err pragma_text(struct gh_store *s, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) return gh_store_i_sqlite(s, rc, sql);
    rc = sqlite3_step(st);
    gh_err e = GH_OK;
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(out, cap, "%s", t != NULL ? (const char *)t : "");
    } else {
        e = gh_store_i_sqlite(s, rc == SQLITE_DONE ? SQLITE_ERROR : rc, sql);
    }
    sqlite3_finalize(st);
    return e;
}

static gh_err migrate(struct gh_store *s)
{
    char v[32];
    GH_GUARD(pragma_text(s, "PRAGMA user_version", v, sizeof v));
    long version = strtol(v, NULL, 10);
    if (version > GH_STORE_SCHEMA_VERSION)
        return gh_store_i_fail(s, GH_ERR_DB,
                               "hub.db: schema version %ld is newer than this gatehouse supports "
                               "(%d); run a newer gatehouse or restore a matching backup",
                               version, GH_STORE_SCHEMA_VERSION);
    if (version < 0)
        return gh_store_i_fail(s, GH_ERR_DB, "hub.db: invalid schema version %ld", version);
    for (long i = version; i < GH_STORE_SCHEMA_VERSION; i++) {
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version = %ld;", i + 1);
        gh_err rc = exec_sql(s, "BEGIN IMMEDIATE", "migration begin");
        if (rc == GH_OK) rc = exec_sql(s, gh_store_i_migrations[i], "migration");
        if (rc == GH_OK) rc = exec_sql(s, bump, "migration");
        if (rc == GH_OK) rc = exec_sql(s, "COMMIT", "migration commit");
        if (rc != GH_OK) {
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
        gh_log_info("store.migrate", "schema_version=%ld", i + 1);
    }
    return GH_OK;
}

static gh_err configure(struct gh_store *s)
{
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, GH_STORE_BUSY_TIMEOUT_MS);
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    char mode[16];
    GH_GUARD(pragma_text(s, "PRAGMA journal_mode=WAL", mode, sizeof mode));
    if (strcmp(mode, "wal") != 0)
        return gh_store_i_fail(s, GH_ERR_DB, "hub.db: cannot switch to WAL mode (got %s)", mode);
    GH_GUARD(exec_sql(s, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", "pragma"));
    return migrate(s);
}

gh_err gh_store_open(const char *dir, struct gh_store **out, char *errbuf, size_t errlen)
{
    char path[GH_STORE_PATH_MAX];
    if (errlen > 0) errbuf[0] = '\0';
    if (dir == NULL || dir[0] == '\0')
        return open_fail(errbuf, errlen, GH_ERR_ARG, "no data directory given");
    int n = snprintf(path, sizeof path, "%s/%s", dir, GH_STORE_DB_NAME);
    if (n < 0 || (size_t)n >= sizeof path)
        return open_fail(errbuf, errlen, GH_ERR_ARG, "data directory path is too long");
    GH_GUARD(make_dir_and_file(dir, path, errbuf, errlen));

    struct gh_store *s = calloc(1, sizeof *s);
    if (s == NULL) return open_fail(errbuf, errlen, GH_ERR_NOMEM, "out of memory");
    gh_store_set_clock(s, NULL, NULL);
    gh_err rc;
    int src = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (src != SQLITE_OK) {
        rc = s->db != NULL ? gh_store_i_sqlite(s, src, "open")
                           : gh_store_i_fail(s, GH_ERR_NOMEM, "out of memory");
    } else {
        rc = configure(s);
    }
    if (rc != GH_OK) {
        open_fail(errbuf, errlen, rc, "%s", s->err);
        gh_store_close(s);
        return rc;
    }
    *out = s;
    return GH_OK;
}

void gh_store_close(struct gh_store *s)
{
    if (s == NULL) return;
    for (size_t i = 0; i < GH_STMT_COUNT; i++) sqlite3_finalize(s->stmt[i]);
    sqlite3_close_v2(s->db);
    free(s);
}
