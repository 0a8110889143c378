/* dps.db lifecycle and clock; the SQLite plumbing is hub/db.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dps/dps_store_int.h"

_Static_assert(GH_DPS_STORE_ERR_MAX == GH_DB_ERR_MAX, "gh_dps_store_errmsg is the gh_db message");
_Static_assert(GH_DPS_STORE_PATH_MAX == GH_DB_PATH_MAX, "one path limit");

static const char *const sql_text[GH_DPS_STMT_COUNT] = {
#define GH_X(name, sql) sql,
    GH_DPS_STATEMENTS(GH_X)
#undef GH_X
};

static const struct gh_db_spec spec = {
    .name = GH_DPS_STORE_DB_NAME,
    .sql = sql_text,
    .nstmt = GH_DPS_STMT_COUNT,
    .migrations = gh_dps_i_migrations,
    .schema_version = GH_DPS_STORE_SCHEMA_VERSION,
    .busy_timeout_ms = GH_DPS_STORE_BUSY_TIMEOUT_MS,
    .migrate_event = "dps.store.migrate",
};

void gh_dps_store_set_clock(struct gh_dps_store *s, int64_t (*now_ms)(void *ctx), void *ctx)
{
    gh_db_set_clock(&s->db, now_ms, ctx);
}

int64_t gh_dps_store_now(const struct gh_dps_store *s)
{
    return gh_db_now(&s->db);
}

const char *gh_dps_store_errmsg(const struct gh_dps_store *s)
{
    return s->db.err;
}

gh_err gh_dps_i_bad_row(struct gh_dps_store *s, const char *table, const char *key,
                        const char *name, const char *problem)
{
    struct gh_db_row row = {table, key, true};
    return gh_db_bad_row(&s->db, &row, name, problem);
}

gh_err gh_dps_i_col_text(struct gh_dps_store *s, sqlite3_stmt *st, int col, const char *table,
                         const char *key, const char *name, char *out, size_t cap)
{
    struct gh_db_row row = {table, key, true};
    return gh_db_col_text(&s->db, st, col, &row, name, out, cap);
}

gh_err gh_dps_i_col_int(struct gh_dps_store *s, sqlite3_stmt *st, int col, const char *table,
                        const char *key, const char *name, int64_t min, int64_t max, int64_t *out)
{
    struct gh_db_row row = {table, key, true};
    return gh_db_col_int(&s->db, st, col, &row, name, min, max, out);
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

gh_err gh_dps_store_open(const char *dir, struct gh_dps_store **out, char *errbuf, size_t errlen)
{
    struct gh_dps_store *s = calloc(1, sizeof *s);
    if (s == NULL) {
        if (errlen > 0) snprintf(errbuf, errlen, "out of memory");
        return GH_ERR_NOMEM;
    }
    gh_err rc = gh_db_open(&s->db, &spec, dir, errbuf, errlen);
    if (rc != GH_OK) {
        free(s);
        return rc;
    }
    *out = s;
    return GH_OK;
}

void gh_dps_store_close(struct gh_dps_store *s)
{
    if (s == NULL) return;
    gh_db_close(&s->db);
    free(s);
}
