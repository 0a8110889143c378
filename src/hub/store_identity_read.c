/* Registry reads: checked row decoding, lookup, listings, statistics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "hub/store_internal.h"

static bool valid_device(const char *id)
{
    return id != NULL && gh_iothub_valid_device_id(gh_slice_cstr(id));
}

static bool valid_module(const char *id)
{
    return id == NULL || id[0] == '\0' || gh_iothub_valid_module_id(gh_slice_cstr(id));
}

static const char *mod_or_empty(const char *m)
{
    return m != NULL ? m : "";
}

gh_err gh_store_i_check_ids(struct gh_store *s, const char *device_id, const char *module_id)
{
    if (!valid_device(device_id)) return gh_db_fail(&s->db, GH_ERR_ARG, "invalid device id");
    if (!valid_module(module_id)) return gh_db_fail(&s->db, GH_ERR_ARG, "invalid module id");
    return GH_OK;
}

gh_err gh_store_i_identity_read(struct gh_store *s, sqlite3_stmt *st, struct gh_identity *out)
{
    char key[GH_STORE_KEY_TEXT_MAX];
    const char *d = (const char *)sqlite3_column_text(st, 0);
    const char *m = (const char *)sqlite3_column_text(st, 1);
    struct gh_db_row row = {"identity", gh_store_i_key(key, d != NULL ? d : "?", m), false};
    struct gh_identity *id = calloc(1, sizeof *id);
    if (id == NULL) return gh_db_fail(&s->db, GH_ERR_NOMEM, "out of memory");
    int64_t v[10];
    gh_err rc =
        gh_db_col_text(&s->db, st, 0, &row, "device_id", id->device_id, sizeof id->device_id);
    if (rc == GH_OK)
        rc = gh_db_col_text(&s->db, st, 1, &row, "module_id", id->module_id, sizeof id->module_id);
    if (rc == GH_OK)
        rc = gh_db_col_text(&s->db, st, 2, &row, "managed_by", id->managed_by,
                            sizeof id->managed_by);
    if (rc == GH_OK)
        rc = gh_db_col_text(&s->db, st, 3, &row, "generation_id", id->generation_id,
                            sizeof id->generation_id);
    if (rc == GH_OK) rc = gh_db_col_text(&s->db, st, 4, &row, "etag", id->etag, sizeof id->etag);
    if (rc == GH_OK) rc = gh_db_col_int(&s->db, st, 5, &row, "status", 0, 1, &v[0]);
    if (rc == GH_OK)
        rc = gh_db_col_text(&s->db, st, 6, &row, "status_reason", id->status_reason,
                            sizeof id->status_reason);
    if (rc == GH_OK)
        rc = gh_db_col_int(&s->db, st, 7, &row, "status_updated_ms", 0, INT64_MAX, &v[1]);
    if (rc == GH_OK) rc = gh_db_col_int(&s->db, st, 8, &row, "auth_type", 0, GH_AUTH_NONE, &v[2]);
    if (rc == GH_OK)
        rc = gh_db_col_text(&s->db, st, 9, &row, "primary_key", id->primary_key,
                            sizeof id->primary_key);
    if (rc == GH_OK)
        rc = gh_db_col_text(&s->db, st, 10, &row, "secondary_key", id->secondary_key,
                            sizeof id->secondary_key);
    if (rc == GH_OK)
        rc = gh_db_col_text(&s->db, st, 11, &row, "primary_thumbprint", id->primary_thumbprint,
                            sizeof id->primary_thumbprint);
    if (rc == GH_OK)
        rc = gh_db_col_text(&s->db, st, 12, &row, "secondary_thumbprint", id->secondary_thumbprint,
                            sizeof id->secondary_thumbprint);
    if (rc == GH_OK) rc = gh_db_col_int(&s->db, st, 13, &row, "iot_edge", 0, 1, &v[3]);
    if (rc == GH_OK)
        rc = gh_db_col_text(&s->db, st, 14, &row, "device_scope", id->device_scope,
                            sizeof id->device_scope);
    if (rc == GH_OK)
        rc = gh_db_col_text(&s->db, st, 15, &row, "parent_scope", id->parent_scope,
                            sizeof id->parent_scope);
    if (rc == GH_OK) rc = gh_db_col_int(&s->db, st, 16, &row, "conn_state", 0, 1, &v[4]);
    if (rc == GH_OK)
        rc = gh_db_col_int(&s->db, st, 17, &row, "conn_state_updated_ms", 0, INT64_MAX, &v[5]);
    if (rc == GH_OK)
        rc = gh_db_col_int(&s->db, st, 18, &row, "last_activity_ms", 0, INT64_MAX, &v[6]);
    if (rc == GH_OK)
        rc = gh_db_col_text(&s->db, st, 19, &row, "model_id", id->model_id, sizeof id->model_id);
    if (rc == GH_OK) rc = gh_db_col_int(&s->db, st, 20, &row, "created_ms", 0, INT64_MAX, &v[7]);
    if (rc == GH_OK) rc = gh_db_col_int(&s->db, st, 21, &row, "c2d count", 0, UINT32_MAX, &v[8]);
    if (rc != GH_OK) goto out;

    /* Semantic checks: what the rest of the hub relies on. */
    if (!valid_device(id->device_id))
        rc = gh_db_bad_row(&s->db, &row, "device_id", "is not a valid device id");
    else if (!valid_module(id->module_id))
        rc = gh_db_bad_row(&s->db, &row, "module_id", "is not a valid module id");
    else if ((id->primary_key[0] != '\0' && !gh_identity_key_valid(id->primary_key)) ||
             (id->secondary_key[0] != '\0' && !gh_identity_key_valid(id->secondary_key)))
        rc = gh_db_bad_row(&s->db, &row, "primary_key/secondary_key", "is not a valid key");
    else if ((id->primary_thumbprint[0] != '\0' &&
              !gh_identity_thumbprint_valid(id->primary_thumbprint)) ||
             (id->secondary_thumbprint[0] != '\0' &&
              !gh_identity_thumbprint_valid(id->secondary_thumbprint)))
        rc = gh_db_bad_row(&s->db, &row, "thumbprint", "is not a valid thumbprint");
    if (rc != GH_OK) goto out;

    id->status = (enum gh_identity_status)v[0];
    id->status_updated_ms = v[1];
    id->auth_type = (enum gh_auth_type)v[2];
    id->iot_edge = v[3] != 0;
    id->conn_state = (enum gh_conn_state)v[4];
    id->conn_state_updated_ms = v[5];
    id->last_activity_ms = v[6];
    id->created_ms = v[7];
    id->c2d_count = (uint32_t)v[8];
    *out = *id;
out:
    gh_identity_wipe(id);
    free(id);
    return rc;
}

gh_err gh_store_i_identity_find(struct gh_store *s, const char *device_id, const char *module_id,
                                struct gh_identity *out, bool *found)
{
    sqlite3_stmt *st;
    bool row;
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_ID_GET, &st));
    gh_err rc = gh_db_bind_text(&s->db, st, 1, device_id);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 2, mod_or_empty(module_id));
    if (rc == GH_OK) rc = gh_db_step(&s->db, st, &row, "get identity");
    if (rc == GH_OK && row) rc = gh_store_i_identity_read(s, st, out);
    gh_db_done(st);
    if (rc == GH_OK) *found = row;
    return rc;
}

gh_err gh_store_identity_get(struct gh_store *s, const char *device_id, const char *module_id,
                             struct gh_identity *out)
{
    s->db.err[0] = '\0';
    GH_GUARD(gh_store_i_check_ids(s, device_id, module_id));
    bool found;
    char key[GH_STORE_KEY_TEXT_MAX];
    GH_GUARD(gh_store_i_identity_find(s, device_id, module_id, out, &found));
    if (!found)
        return gh_db_fail(&s->db, GH_ERR_NOT_FOUND, "%s %s is not registered",
                          module_id != NULL && module_id[0] ? "module" : "device",
                          gh_store_i_key(key, device_id, module_id));
    return GH_OK;
}

/* Run a listing statement whose parameters are bound; read up to cap. */
static gh_err read_list(struct gh_store *s, sqlite3_stmt *st, struct gh_identity *out, size_t cap,
                        size_t *n)
{
    size_t k = 0;
    gh_err rc = GH_OK;
    while (rc == GH_OK && k < cap) {
        bool row;
        rc = gh_db_step(&s->db, st, &row, "list identities");
        if (rc != GH_OK || !row) break;
        rc = gh_store_i_identity_read(s, st, &out[k]);
        if (rc == GH_OK) k++;
    }
    gh_db_done(st);
    if (rc != GH_OK) {
        for (size_t i = 0; i < k; i++) gh_identity_wipe(&out[i]);
        return rc;
    }
    *n = k;
    return GH_OK;
}

static int64_t page(size_t limit, size_t cap)
{
    if (limit == 0 || limit > GH_STORE_LIST_DEFAULT) limit = GH_STORE_LIST_DEFAULT;
    return (int64_t)(limit < cap ? limit : cap);
}

gh_err gh_store_identity_list(struct gh_store *s, const char *after, size_t limit,
                              struct gh_identity *out, size_t cap, size_t *n)
{
    sqlite3_stmt *st;
    s->db.err[0] = '\0';
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_ID_LIST, &st));
    gh_err rc = gh_db_bind_text(&s->db, st, 1, after);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 2, page(limit, cap));
    if (rc != GH_OK) return rc;
    return read_list(s, st, out, cap, n);
}

gh_err gh_store_module_list(struct gh_store *s, const char *device_id, const char *after,
                            size_t limit, struct gh_identity *out, size_t cap, size_t *n)
{
    sqlite3_stmt *st;
    struct gh_identity *dev = calloc(1, sizeof *dev);
    if (dev == NULL) return gh_db_fail(&s->db, GH_ERR_NOMEM, "out of memory");
    gh_err rc = gh_store_identity_get(s, device_id, NULL, dev);
    gh_identity_wipe(dev);
    free(dev);
    GH_GUARD(rc);
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_ID_LIST_MODULES, &st));
    rc = gh_db_bind_text(&s->db, st, 1, device_id);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 2, after);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 3, page(limit, cap));
    if (rc != GH_OK) return rc;
    return read_list(s, st, out, cap, n);
}

gh_err gh_store_identity_list_children(struct gh_store *s, const char *scope, const char *after,
                                       size_t limit, struct gh_identity *out, size_t cap, size_t *n)
{
    sqlite3_stmt *st;
    s->db.err[0] = '\0';
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_ID_LIST_CHILDREN, &st));
    gh_err rc = gh_db_bind_text(&s->db, st, 1, scope);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 2, after);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 3, page(limit, cap));
    if (rc != GH_OK) return rc;
    return read_list(s, st, out, cap, n);
}

gh_err gh_store_identity_stats(struct gh_store *s, struct gh_store_stats *out)
{
    sqlite3_stmt *st;
    bool row;
    struct gh_db_row r = {"identity", "(statistics)", false};
    int64_t v[3] = {0, 0, 0};
    s->db.err[0] = '\0';
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_ID_STATS, &st));
    gh_err rc = gh_db_step(&s->db, st, &row, "statistics");
    for (int i = 0; rc == GH_OK && row && i < 3; i++)
        rc = gh_db_col_int(&s->db, st, i, &r, "count", 0, INT64_MAX, &v[i]);
    gh_db_done(st);
    GH_GUARD(rc);
    out->total = (uint64_t)v[0];
    out->enabled = (uint64_t)v[1];
    out->disabled = (uint64_t)v[2];
    return GH_OK;
}
