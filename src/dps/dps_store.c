/* dps.db lifecycle, statement cache, transactions and checked reads. */
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
#include "dps/dps_store_int.h"

static const char *const sql_text[GH_DPS_STMT_COUNT] = {
#define GH_X(name, sql) sql,
    GH_DPS_STATEMENTS(GH_X)
#undef GH_X
};

static int64_t real_now(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void gh_dps_store_set_clock(struct gh_dps_store *s, int64_t (*now_ms)(void *ctx), void *ctx)
{
    s->now = now_ms != NULL ? now_ms : real_now;
    s->now_ctx = now_ms != NULL ? ctx : NULL;
}

int64_t gh_dps_store_now(const struct gh_dps_store *s)
{
    return s->now(s->now_ctx);
}

const char *gh_dps_store_errmsg(const struct gh_dps_store *s)
{
    return s->err;
}

gh_err gh_dps_i_fail(struct gh_dps_store *s, gh_err rc, const char *fmt, ...)
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

gh_err gh_dps_i_sqlite(struct gh_dps_store *s, int rc, const char *what)
{
    gh_err e = map_sqlite(rc);
    if (e == GH_OK) return GH_OK;
    return gh_dps_i_fail(s, e, "dps.db: %s: %s (sqlite %d)", what, sqlite3_errmsg(s->db), rc);
}

gh_err gh_dps_i_stmt(struct gh_dps_store *s, enum gh_dps_stmt id, sqlite3_stmt **out)
{
    sqlite3_stmt *st = s->stmt[id];
    if (st == NULL) {
        int rc = sqlite3_prepare_v3(s->db, sql_text[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
        if (rc != SQLITE_OK) return gh_dps_i_sqlite(s, rc, "prepare");
        s->stmt[id] = st;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    *out = st;
    return GH_OK;
}

gh_err gh_dps_i_step(struct gh_dps_store *s, sqlite3_stmt *st, bool *row, const char *what)
{
    int rc = sqlite3_step(st);
    *row = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) return GH_OK;
    gh_err e = gh_dps_i_sqlite(s, rc, what);
    sqlite3_reset(st);
    return e;
}

gh_err gh_dps_i_exec(struct gh_dps_store *s, sqlite3_stmt *st, const char *what)
{
    bool row = true;
    gh_err rc = GH_OK;
    while (rc == GH_OK && row) rc = gh_dps_i_step(s, st, &row, what);
    sqlite3_reset(st);
    return rc;
}

static gh_err run(struct gh_dps_store *s, enum gh_dps_stmt id, const char *what)
{
    sqlite3_stmt *st;
    GH_GUARD(gh_dps_i_stmt(s, id, &st));
    return gh_dps_i_exec(s, st, what);
}

gh_err gh_dps_i_begin(struct gh_dps_store *s)
{
    return run(s, GH_DPS_STMT_BEGIN, "begin");
}

gh_err gh_dps_i_commit(struct gh_dps_store *s)
{
    gh_err rc = run(s, GH_DPS_STMT_COMMIT, "commit");
    if (rc != GH_OK) gh_dps_i_rollback(s);
    return rc;
}

void gh_dps_i_rollback(struct gh_dps_store *s)
{
    if (sqlite3_get_autocommit(s->db)) return;
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

gh_err gh_dps_i_text(struct gh_dps_store *s, sqlite3_stmt *st, int i, const char *v)
{
    return gh_dps_i_sqlite(s, sqlite3_bind_text(st, i, v != NULL ? v : "", -1, SQLITE_TRANSIENT),
                           "bind");
}

gh_err gh_dps_i_int(struct gh_dps_store *s, sqlite3_stmt *st, int i, int64_t v)
{
    return gh_dps_i_sqlite(s, sqlite3_bind_int64(st, i, v), "bind");
}

gh_err gh_dps_i_bad_row(struct gh_dps_store *s, const char *table, const char *key,
                        const char *name, const char *problem)
{
    char k[80];
    gh_log_escape(k, sizeof k, key, strlen(key), 32);
    return gh_dps_i_fail(s, GH_ERR_DB, "dps.db: bad row in table %s, key %s: column %s %s", table,
                         k, name, problem);
}

gh_err gh_dps_i_col_text(struct gh_dps_store *s, sqlite3_stmt *st, int col, const char *table,
                         const char *key, const char *name, char *out, size_t cap)
{
    if (sqlite3_column_type(st, col) != SQLITE_TEXT)
        return gh_dps_i_bad_row(s, table, key, name, "is not text");
    const unsigned char *p = sqlite3_column_text(st, col);
    int n = sqlite3_column_bytes(st, col);
    if (p == NULL) return gh_dps_i_bad_row(s, table, key, name, "is not text");
    if (n < 0 || (size_t)n >= cap) return gh_dps_i_bad_row(s, table, key, name, "is too long");
    if (memchr(p, '\0', (size_t)n) != NULL || !gh_utf8_valid(p, (size_t)n))
        return gh_dps_i_bad_row(s, table, key, name, "is not valid UTF-8 text");
    memcpy(out, p, (size_t)n);
    out[n] = '\0';
    return GH_OK;
}

gh_err gh_dps_i_col_int(struct gh_dps_store *s, sqlite3_stmt *st, int col, const char *table,
                        const char *key, const char *name, int64_t min, int64_t max, int64_t *out)
{
    if (sqlite3_column_type(st, col) != SQLITE_INTEGER)
        return gh_dps_i_bad_row(s, table, key, name, "is not an integer");
    int64_t v = sqlite3_column_int64(st, col);
    if (v < min || v > max) return gh_dps_i_bad_row(s, table, key, name, "is out of range");
    *out = v;
    return GH_OK;
}

bool gh_dps_i_etag_matches(const char *stored, const char *if_match)
{
    if (if_match == NULL || if_match[0] == '\0' || strcmp(if_match, "*") == 0) return true;
    size_t n = strlen(if_match);
    if (n >= 2 && if_match[0] == '"' && if_match[n - 1] == '"') {
        if_match++;
        n -= 2;
    }
    return n == strlen(stored) && memcmp(stored, if_match, n) == 0;
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

static gh_err exec_sql(struct gh_dps_store *s, const char *sql, const char *what)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK) return GH_OK;
    gh_err e = map_sqlite(rc);
    gh_dps_i_fail(s, e, "dps.db: %s: %s", what, msg != NULL ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return e;
}

static gh_err user_version(struct gh_dps_store *s, long *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
    if (rc != SQLITE_OK) return gh_dps_i_sqlite(s, rc, "user_version");
    rc = sqlite3_step(st);
    gh_err e = GH_OK;
    if (rc == SQLITE_ROW)
        *out = (long)sqlite3_column_int64(st, 0);
    else
        e = gh_dps_i_sqlite(s, rc == SQLITE_DONE ? SQLITE_ERROR : rc, "user_version");
    sqlite3_finalize(st);
    return e;
}

static gh_err migrate(struct gh_dps_store *s)
{
    long version = 0;
    GH_GUARD(user_version(s, &version));
    if (version > GH_DPS_STORE_SCHEMA_VERSION || version < 0)
        return gh_dps_i_fail(s, GH_ERR_DB,
                             "dps.db: schema version %ld is not supported by this gatehouse "
                             "(%d); run a newer gatehouse or restore a matching backup",
                             version, GH_DPS_STORE_SCHEMA_VERSION);
    for (long i = version; i < GH_DPS_STORE_SCHEMA_VERSION; i++) {
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version = %ld;", i + 1);
        gh_err rc = exec_sql(s, "BEGIN IMMEDIATE", "migration begin");
        if (rc == GH_OK) rc = exec_sql(s, gh_dps_i_migrations[i], "migration");
        if (rc == GH_OK) rc = exec_sql(s, bump, "migration");
        if (rc == GH_OK) rc = exec_sql(s, "COMMIT", "migration commit");
        if (rc != GH_OK) {
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
        gh_log_info("dps.store.migrate", "schema_version=%ld", i + 1);
    }
    return GH_OK;
}

static gh_err configure(struct gh_dps_store *s)
{
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, GH_DPS_STORE_BUSY_TIMEOUT_MS);
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    GH_GUARD(exec_sql(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", "pragma"));
    return migrate(s);
}

gh_err gh_dps_store_open(const char *dir, struct gh_dps_store **out, char *errbuf, size_t errlen)
{
    char path[GH_DPS_STORE_PATH_MAX];
    if (errlen > 0) errbuf[0] = '\0';
    if (dir == NULL || dir[0] == '\0')
        return open_fail(errbuf, errlen, GH_ERR_ARG, "no data directory given");
    int n = snprintf(path, sizeof path, "%s/%s", dir, GH_DPS_STORE_DB_NAME);
    if (n < 0 || (size_t)n >= sizeof path)
        return open_fail(errbuf, errlen, GH_ERR_ARG, "data directory path is too long");
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return open_fail(errbuf, errlen, errno_err(errno), "cannot create directory %s: %s", dir,
                         strerror(errno));
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return open_fail(errbuf, errlen, errno_err(errno), "cannot open %s: %s", path,
                         strerror(errno));
    close(fd);
    struct gh_dps_store *s = calloc(1, sizeof *s);
    if (s == NULL) return open_fail(errbuf, errlen, GH_ERR_NOMEM, "out of memory");
    gh_dps_store_set_clock(s, NULL, NULL);
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    gh_err e = rc == SQLITE_OK ? configure(s) : gh_dps_i_sqlite(s, rc, "open");
    if (e != GH_OK) {
        open_fail(errbuf, errlen, e, "%s", s->err[0] ? s->err : "cannot open dps.db");
        gh_dps_store_close(s);
        return e;
    }
    *out = s;
    return GH_OK;
}

void gh_dps_store_close(struct gh_dps_store *s)
{
    if (s == NULL) return;
    for (size_t i = 0; i < GH_DPS_STMT_COUNT; i++) sqlite3_finalize(s->stmt[i]);
    sqlite3_close(s->db);
    free(s);
}
