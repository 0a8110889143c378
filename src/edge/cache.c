/* The gateway's identity cache (cache.h) on the shared SQLite layer. */
#include "edge/cache.h"

#include <stdlib.h>
#include <string.h>

#include "edge/config.h"
#include "hub/db.h"

/* Largest device JSON kept for one child (keys, thumbprints, scopes). */
#define CHILD_JSON_MAX (16u * 1024u)

enum {
    ST_GET,
    ST_PUT,
    ST_DELETE,
    ST_CLEAR,
    ST_COUNT,
    ST_META_GET,
    ST_META_PUT,
    ST_N,
};

static const char *const sql[ST_N] = {
    [ST_GET] = "SELECT body FROM child WHERE device_id = ?1",
    [ST_PUT] = ("INSERT INTO child (device_id, body, synced_ms) VALUES (?1, ?2, ?3) "
                "ON CONFLICT (device_id) DO UPDATE SET body = excluded.body, "
                "synced_ms = excluded.synced_ms"),
    [ST_DELETE] = "DELETE FROM child WHERE device_id = ?1",
    [ST_CLEAR] = "DELETE FROM child",
    [ST_COUNT] = "SELECT count(*) FROM child",
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [ST_META_PUT] = ("INSERT INTO meta (key, value) VALUES (?1, ?2) "
                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
};

static const char *const migrations[] = {
    "CREATE TABLE child (device_id TEXT PRIMARY KEY NOT NULL, body TEXT NOT NULL, "
    "synced_ms INTEGER NOT NULL);"
    "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL);",
};

static const struct gh_db_spec spec = {
    .name = GH_EDGE_FILE_CACHE,
    .sql = sql,
    .nstmt = ST_N,
    .migrations = migrations,
    .schema_version = 1,
    .busy_timeout_ms = 5000,
    .migrate_event = "edge.cache.migrate",
};

struct gh_edge_cache {
    struct gh_db db;
};

gh_err gh_edge_cache_open(const char *dir, struct gh_edge_cache **out, char *errbuf, size_t errlen)
{
    struct gh_edge_cache *c = calloc(1, sizeof *c);
    GH_ENSURE(c, GH_ERR_NOMEM);
    gh_err rc = gh_db_open(&c->db, &spec, dir, errbuf, errlen);
    if (rc != GH_OK) {
        free(c);
        return rc;
    }
    *out = c;
    return GH_OK;
}

void gh_edge_cache_close(struct gh_edge_cache *c)
{
    if (!c) return;
    gh_db_close(&c->db);
    free(c);
}

const char *gh_edge_cache_errmsg(const struct gh_edge_cache *c)
{
    return c->db.err;
}

gh_err gh_edge_cache_get(struct gh_edge_cache *c, const char *device_id, struct gh_identity *out)
{
    sqlite3_stmt *st;
    bool row;
    GH_GUARD(gh_db_stmt(&c->db, ST_GET, &st));
    GH_GUARD(gh_db_bind_text(&c->db, st, 1, device_id));
    GH_GUARD(gh_db_step(&c->db, st, &row, "read child"));
    if (!row) {
        gh_db_done(st);
        return GH_ERR_NOT_FOUND;
    }
    struct gh_db_row r = {"child", device_id, true};
    json_t *j = NULL;
    gh_err rc = gh_db_col_json(&c->db, st, 0, &r, "body", CHILD_JSON_MAX, &j);
    gh_db_done(st);
    if (rc != GH_OK) return rc;
    char why[128];
    struct gh_identity id;
    rc = gh_identity_from_json(j, GH_IDENTITY_DEVICE, &id, why, sizeof why);
    json_decref(j);
    if (rc == GH_OK && strcmp(id.device_id, device_id) != 0) rc = GH_ERR_ARG;
    if (rc != GH_OK) {
        gh_identity_wipe(&id);
        return gh_db_bad_row(&c->db, &r, "body", "is not a valid device identity");
    }
    *out = id;
    return GH_OK;
}

/* Is dev (device JSON) a child of scope? Also returns its id. */
static bool is_child(const json_t *dev, const char *scope, const char **id)
{
    *id = json_string_value(json_object_get(dev, "deviceId"));
    const json_t *ps = json_object_get(dev, "parentScopes");
    if (!*id || !scope || !scope[0] || !json_is_array(ps)) return false;
    size_t i;
    const json_t *v;
    json_array_foreach(ps, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), scope) == 0) return true;
    }
    return false;
}

/* Validate before storing: the row must parse back as a device. */
static gh_err check_device(const json_t *dev)
{
    char why[128];
    struct gh_identity id;
    gh_err rc = gh_identity_from_json(dev, GH_IDENTITY_DEVICE, &id, why, sizeof why);
    gh_identity_wipe(&id);
    return rc == GH_OK ? GH_OK : GH_ERR_BAD_JSON;
}

static gh_err put_row(struct gh_edge_cache *c, const char *id, const json_t *dev, int64_t now)
{
    char *text = NULL;
    size_t len = 0;
    GH_GUARD(gh_db_dump(&c->db, dev, &text, &len));
    sqlite3_stmt *st;
    gh_err rc = len > CHILD_JSON_MAX ? GH_ERR_BAD_JSON : gh_db_stmt(&c->db, ST_PUT, &st);
    if (rc == GH_OK) rc = gh_db_bind_text(&c->db, st, 1, id);
    if (rc == GH_OK) rc = gh_db_bind_text(&c->db, st, 2, text);
    if (rc == GH_OK) rc = gh_db_bind_int(&c->db, st, 3, now);
    if (rc == GH_OK) rc = gh_db_exec(&c->db, st, "store child");
    explicit_bzero(text, len);
    free(text);
    return rc;
}

static gh_err meta_put(struct gh_edge_cache *c, const char *key, int64_t v)
{
    sqlite3_stmt *st;
    GH_GUARD(gh_db_stmt(&c->db, ST_META_PUT, &st));
    GH_GUARD(gh_db_bind_text(&c->db, st, 1, key));
    GH_GUARD(gh_db_bind_int(&c->db, st, 2, v));
    return gh_db_exec(&c->db, st, "store sync time");
}

gh_err gh_edge_cache_replace(struct gh_edge_cache *c, const json_t *devices, const char *scope,
                             size_t *count)
{
    GH_ENSURE(json_is_array(devices), GH_ERR_BAD_JSON);
    size_t i;
    const json_t *dev;
    const char *id;
    json_array_foreach(devices, i, dev)
    {
        if (is_child(dev, scope, &id)) GH_GUARD(check_device(dev));
    }
    int64_t now = gh_db_now(&c->db);
    size_t n = 0;
    sqlite3_stmt *st;
    GH_GUARD(gh_db_begin(&c->db));
    gh_err rc = gh_db_stmt(&c->db, ST_CLEAR, &st);
    if (rc == GH_OK) rc = gh_db_exec(&c->db, st, "clear children");
    json_array_foreach(devices, i, dev)
    {
        if (rc != GH_OK) break;
        if (!is_child(dev, scope, &id)) continue;
        rc = put_row(c, id, dev, now);
        n++;
    }
    if (rc == GH_OK) rc = meta_put(c, "last_sync_ms", now);
    if (rc == GH_OK) rc = gh_db_commit(&c->db);
    if (rc != GH_OK) {
        gh_db_rollback(&c->db);
        return rc;
    }
    *count = n;
    return GH_OK;
}

gh_err gh_edge_cache_put(struct gh_edge_cache *c, const json_t *device, const char *scope,
                         bool *child)
{
    const char *id;
    bool ours = is_child(device, scope, &id);
    GH_ENSURE(id, GH_ERR_BAD_JSON);
    if (!ours) {
        *child = false;
        return gh_edge_cache_remove(c, id);
    }
    GH_GUARD(check_device(device));
    GH_GUARD(put_row(c, id, device, gh_db_now(&c->db)));
    *child = true;
    return GH_OK;
}

gh_err gh_edge_cache_remove(struct gh_edge_cache *c, const char *device_id)
{
    sqlite3_stmt *st;
    GH_GUARD(gh_db_stmt(&c->db, ST_DELETE, &st));
    GH_GUARD(gh_db_bind_text(&c->db, st, 1, device_id));
    return gh_db_exec(&c->db, st, "remove child");
}

int64_t gh_edge_cache_last_sync(struct gh_edge_cache *c)
{
    sqlite3_stmt *st;
    bool row = false;
    int64_t v = 0;
    if (gh_db_stmt(&c->db, ST_META_GET, &st) != GH_OK ||
        gh_db_bind_text(&c->db, st, 1, "last_sync_ms") != GH_OK ||
        gh_db_step(&c->db, st, &row, "read sync time") != GH_OK || !row)
        return 0;
    struct gh_db_row r = {"meta", "last_sync_ms", false};
    if (gh_db_col_int(&c->db, st, 0, &r, "value", 0, INT64_MAX, &v) != GH_OK) v = 0;
    gh_db_done(st);
    return v;
}

gh_err gh_edge_cache_count(struct gh_edge_cache *c, size_t *n)
{
    sqlite3_stmt *st;
    bool row = false;
    GH_GUARD(gh_db_stmt(&c->db, ST_COUNT, &st));
    GH_GUARD(gh_db_step(&c->db, st, &row, "count children"));
    int64_t v = 0;
    struct gh_db_row r = {"child", "count", false};
    gh_err rc = row ? gh_db_col_int(&c->db, st, 0, &r, "count", 0, INT64_MAX, &v) : GH_OK;
    gh_db_done(st);
    if (rc == GH_OK) *n = (size_t)v;
    return rc;
}
