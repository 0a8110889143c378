/* Registration states and operations in dps.db (see dps_store.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encoding.h"
#include "dps/dps_store_int.h"
#include "hub/stamp.h"

#define REG_TABLE "registration"
#define OP_TABLE "operation"

static bool reg_valid(const struct gh_dps_registration *r)
{
    if (!gh_iothub_valid_registration_id(gh_slice_cstr(r->registration_id))) return false;
    if (r->device_id[0] != '\0' && !gh_iothub_valid_device_id(gh_slice_cstr(r->device_id)))
        return false;
    if (r->assigned_hub[0] != '\0' && !gh_dps_host_valid(r->assigned_hub)) return false;
    if (r->enrollment_id[0] != '\0' &&
        !gh_iothub_valid_registration_id(gh_slice_cstr(r->enrollment_id)))
        return false;
    if ((unsigned)r->status > GH_DPS_DISABLED || (unsigned)r->substatus > GH_DPS_SUB_RESET)
        return false;
    if ((unsigned)r->enrollment_kind > GH_DPS_GROUP) return false;
    return memchr(r->error_message, '\0', sizeof r->error_message) != NULL;
}

/* Columns of GH_DPS_REG_COLS from 0. */
static gh_err read_reg(struct gh_dps_store *s, sqlite3_stmt *st, struct gh_dps_registration *out)
{
    struct gh_dps_registration r;
    memset(&r, 0, sizeof r);
    const char *k = "?";
    int64_t v[6] = {0};
    gh_err rc = gh_dps_i_col_text(s, st, 0, REG_TABLE, k, "registration_id", r.registration_id,
                                  sizeof r.registration_id);
    if (rc == GH_OK) k = r.registration_id;
    if (rc == GH_OK)
        rc =
            gh_dps_i_col_text(s, st, 1, REG_TABLE, k, "device_id", r.device_id, sizeof r.device_id);
    if (rc == GH_OK)
        rc = gh_dps_i_col_text(s, st, 2, REG_TABLE, k, "assigned_hub", r.assigned_hub,
                               sizeof r.assigned_hub);
    if (rc == GH_OK) rc = gh_dps_i_col_int(s, st, 3, REG_TABLE, k, "status", 0, 4, &v[0]);
    if (rc == GH_OK) rc = gh_dps_i_col_int(s, st, 4, REG_TABLE, k, "substatus", 0, 3, &v[1]);
    if (rc == GH_OK) rc = gh_dps_i_col_int(s, st, 5, REG_TABLE, k, "error_code", 0, 999999, &v[2]);
    if (rc == GH_OK)
        rc = gh_dps_i_col_text(s, st, 6, REG_TABLE, k, "error_message", r.error_message,
                               sizeof r.error_message);
    if (rc == GH_OK) rc = gh_dps_i_col_int(s, st, 7, REG_TABLE, k, "enrollment_kind", 0, 1, &v[3]);
    if (rc == GH_OK)
        rc = gh_dps_i_col_text(s, st, 8, REG_TABLE, k, "enrollment_id", r.enrollment_id,
                               sizeof r.enrollment_id);
    if (rc == GH_OK) rc = gh_dps_i_col_text(s, st, 9, REG_TABLE, k, "etag", r.etag, sizeof r.etag);
    if (rc == GH_OK)
        rc = gh_dps_i_col_int(s, st, 10, REG_TABLE, k, "created_ms", 0, INT64_MAX, &v[4]);
    if (rc == GH_OK)
        rc = gh_dps_i_col_int(s, st, 11, REG_TABLE, k, "updated_ms", 0, INT64_MAX, &v[5]);
    GH_GUARD(rc);
    r.status = (enum gh_dps_status)v[0];
    r.substatus = (enum gh_dps_substatus)v[1];
    r.error_code = (int32_t)v[2];
    r.enrollment_kind = (enum gh_dps_kind)v[3];
    r.created_ms = v[4];
    r.updated_ms = v[5];
    if (!reg_valid(&r)) return gh_dps_i_bad_row(s, REG_TABLE, k, "*", "holds an invalid value");
    *out = r;
    return GH_OK;
}

static gh_err find_reg(struct gh_dps_store *s, const char *key, struct gh_dps_registration *out,
                       bool *found)
{
    sqlite3_stmt *st;
    bool row = false;
    GH_GUARD(gh_db_stmt(&s->db, GH_DPS_STMT_REG_GET, &st));
    gh_err rc = gh_db_bind_text(&s->db, st, 1, key);
    if (rc == GH_OK) rc = gh_db_step(&s->db, st, &row, "get registration");
    if (rc == GH_OK && row) rc = read_reg(s, st, out);
    sqlite3_reset(st);
    if (rc == GH_OK) *found = row;
    return rc;
}

static gh_err put_reg_locked(struct gh_dps_store *s, const char *key, struct gh_dps_registration *r)
{
    struct gh_dps_registration cur;
    bool found = false;
    GH_GUARD(find_reg(s, key, &cur, &found));
    char guid[GH_HUB_GUID_LEN], ekey[GH_DPS_ID_MAX + 1] = "";
    GH_GUARD(gh_hub_guid(guid));
    if (r->enrollment_id[0] != '\0') GH_GUARD(gh_dps_id_key(r->enrollment_id, ekey));
    int64_t now = gh_dps_store_now(s);
    memcpy(r->etag, guid, sizeof guid);
    r->created_ms = found ? cur.created_ms : now;
    r->updated_ms = now;
    sqlite3_stmt *st;
    GH_GUARD(gh_db_stmt(&s->db, GH_DPS_STMT_REG_PUT, &st));
    gh_err rc = gh_db_bind_text(&s->db, st, 1, key);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 2, r->registration_id);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 3, r->device_id);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 4, r->assigned_hub);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 5, r->status);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 6, r->substatus);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 7, r->error_code);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 8, r->error_message);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 9, r->enrollment_kind);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 10, r->enrollment_id);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 11, r->etag);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 12, r->created_ms);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 13, r->updated_ms);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 14, ekey);
    if (rc == GH_OK) rc = gh_db_exec(&s->db, st, "put registration");
    return rc;
}

gh_err gh_dps_store_registration_put(struct gh_dps_store *s, const struct gh_dps_registration *r,
                                     struct gh_dps_registration *out)
{
    char key[GH_DPS_ID_MAX + 1];
    if (!reg_valid(r) || r->error_code < 0 || r->error_code > 999999 ||
        gh_dps_id_key(r->registration_id, key) != GH_OK)
        return gh_db_fail(&s->db, GH_ERR_ARG, "invalid registration state");
    struct gh_dps_registration rec = *r;
    GH_GUARD(gh_db_begin(&s->db));
    gh_err rc = put_reg_locked(s, key, &rec);
    if (rc == GH_OK)
        rc = gh_db_commit(&s->db);
    else
        gh_db_rollback(&s->db);
    if (rc == GH_OK && out != NULL) *out = rec;
    return rc;
}

gh_err gh_dps_store_registration_get(struct gh_dps_store *s, const char *registration_id,
                                     struct gh_dps_registration *out)
{
    char key[GH_DPS_ID_MAX + 1];
    if (gh_dps_id_key(registration_id, key) != GH_OK)
        return gh_db_fail(&s->db, GH_ERR_ARG, "invalid registration id");
    struct gh_dps_registration r;
    bool found = false;
    GH_GUARD(find_reg(s, key, &r, &found));
    if (!found) return gh_db_fail(&s->db, GH_ERR_NOT_FOUND, "registration not found");
    *out = r;
    return GH_OK;
}

/* The etag as If-Match may carry it: the GUID (quoted or not) or the base64
 * form of the registration state JSON. */
static bool reg_etag_matches(const char *stored, const char *if_match)
{
    if (gh_dps_i_etag_matches(stored, if_match)) return true;
    char dec[GH_DPS_ETAG_MAX + 3];
    struct gh_writer w;
    gh_writer_init(&w, dec, sizeof dec - 1);
    if (gh_base64_decode(if_match, strlen(if_match), &w) != GH_OK) return false;
    dec[w.len] = '\0';
    return gh_dps_i_etag_matches(stored, dec) && dec[0] == '"';
}

gh_err gh_dps_store_registration_delete(struct gh_dps_store *s, const char *registration_id,
                                        const char *if_match)
{
    char key[GH_DPS_ID_MAX + 1];
    if (gh_dps_id_key(registration_id, key) != GH_OK)
        return gh_db_fail(&s->db, GH_ERR_ARG, "invalid registration id");
    GH_GUARD(gh_db_begin(&s->db));
    struct gh_dps_registration cur;
    bool found = false;
    gh_err rc = find_reg(s, key, &cur, &found);
    if (rc == GH_OK && !found) rc = gh_db_fail(&s->db, GH_ERR_NOT_FOUND, "registration not found");
    if (rc == GH_OK && !reg_etag_matches(cur.etag, if_match))
        rc = gh_db_fail(&s->db, GH_ERR_ETAG_MISMATCH, "etag does not match");
    sqlite3_stmt *st;
    if (rc == GH_OK) rc = gh_db_stmt(&s->db, GH_DPS_STMT_REG_DEL, &st);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 1, key);
    if (rc == GH_OK) rc = gh_db_exec(&s->db, st, "delete registration");
    if (rc == GH_OK) return gh_db_commit(&s->db);
    gh_db_rollback(&s->db);
    return rc;
}

gh_err gh_dps_store_registration_list(struct gh_dps_store *s, const char *group_id,
                                      const char *after, size_t limit,
                                      struct gh_dps_registration *out, size_t cap, size_t *n)
{
    char from[GH_DPS_ID_MAX + 1] = "", gkey[GH_DPS_ID_MAX + 1] = "";
    if (after != NULL && after[0] != '\0' && gh_dps_id_key(after, from) != GH_OK)
        return gh_db_fail(&s->db, GH_ERR_ARG, "invalid registration id");
    if (group_id != NULL && gh_dps_id_key(group_id, gkey) != GH_OK)
        return gh_db_fail(&s->db, GH_ERR_ARG, "invalid enrollment group id");
    if (limit == 0 || limit > GH_DPS_STORE_LIST_DEFAULT) limit = GH_DPS_STORE_LIST_DEFAULT;
    if (limit > cap) limit = cap;
    sqlite3_stmt *st;
    GH_GUARD(gh_db_stmt(&s->db,
                        group_id != NULL ? GH_DPS_STMT_REG_LIST_GROUP : GH_DPS_STMT_REG_LIST, &st));
    gh_err rc = gh_db_bind_text(&s->db, st, 1, from);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 2, (int64_t)limit);
    if (rc == GH_OK && group_id != NULL) rc = gh_db_bind_text(&s->db, st, 3, gkey);
    size_t got = 0;
    bool row = true;
    while (rc == GH_OK && got < limit) {
        rc = gh_db_step(&s->db, st, &row, "list registrations");
        if (rc != GH_OK || !row) break;
        rc = read_reg(s, st, &out[got]);
        if (rc == GH_OK) got++;
    }
    sqlite3_reset(st);
    GH_GUARD(rc);
    *n = got;
    return GH_OK;
}

/* ---- operations ---------------------------------------------------------- */

static gh_err expire_locked(struct gh_dps_store *s, uint64_t *n)
{
    sqlite3_stmt *st;
    GH_GUARD(gh_db_stmt(&s->db, GH_DPS_STMT_OP_EXPIRE, &st));
    gh_err rc = gh_db_bind_int(&s->db, st, 1, gh_dps_store_now(s) - GH_DPS_OPERATION_TTL_MS);
    if (rc == GH_OK) rc = gh_db_exec(&s->db, st, "expire operations");
    if (rc == GH_OK && n != NULL) *n = (uint64_t)sqlite3_changes(s->db.h);
    return rc;
}

gh_err gh_dps_store_operation_expire(struct gh_dps_store *s, uint64_t *n)
{
    GH_GUARD(gh_db_begin(&s->db));
    gh_err rc = expire_locked(s, n);
    if (rc == GH_OK) return gh_db_commit(&s->db);
    gh_db_rollback(&s->db);
    return rc;
}

gh_err gh_dps_store_operation_create(struct gh_dps_store *s, const char *registration_id,
                                     struct gh_dps_operation *out)
{
    char key[GH_DPS_ID_MAX + 1];
    if (gh_dps_id_key(registration_id, key) != GH_OK)
        return gh_db_fail(&s->db, GH_ERR_ARG, "invalid registration id");
    struct gh_dps_operation op;
    memset(&op, 0, sizeof op);
    GH_GUARD(gh_dps_operation_id(op.id));
    memcpy(op.registration_id, registration_id, strlen(registration_id) + 1);
    op.status = GH_DPS_ASSIGNING;
    op.created_ms = op.updated_ms = gh_dps_store_now(s);
    GH_GUARD(gh_db_begin(&s->db));
    sqlite3_stmt *st;
    gh_err rc = expire_locked(s, NULL);
    if (rc == GH_OK) rc = gh_db_stmt(&s->db, GH_DPS_STMT_OP_INSERT, &st);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 1, op.id);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 2, key);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 3, op.registration_id);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 4, op.created_ms);
    if (rc == GH_OK) rc = gh_db_exec(&s->db, st, "insert operation");
    if (rc == GH_OK)
        rc = gh_db_commit(&s->db);
    else
        gh_db_rollback(&s->db);
    if (rc == GH_OK) *out = op;
    return rc;
}

gh_err gh_dps_store_operation_finish(struct gh_dps_store *s, const char *operation_id,
                                     const struct gh_dps_registration *r)
{
    if (r->status == GH_DPS_ASSIGNING || !reg_valid(r))
        return gh_db_fail(&s->db, GH_ERR_ARG, "an operation finishes with a final status");
    json_t *j = NULL;
    GH_GUARD(gh_dps_registration_to_json(r, &j));
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (text == NULL) return gh_db_fail(&s->db, GH_ERR_NOMEM, "out of memory");
    sqlite3_stmt *st;
    gh_err rc = gh_db_stmt(&s->db, GH_DPS_STMT_OP_FINISH, &st);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 1, operation_id);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 2, r->status);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 3, gh_dps_store_now(s));
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 4, text);
    if (rc == GH_OK) rc = gh_db_exec(&s->db, st, "finish operation");
    free(text);
    if (rc == GH_OK && sqlite3_changes(s->db.h) == 0)
        rc = gh_db_fail(&s->db, GH_ERR_NOT_FOUND, "operation not found");
    return rc;
}

static gh_err read_op(struct gh_dps_store *s, sqlite3_stmt *st, struct gh_dps_operation *out)
{
    struct gh_dps_operation op;
    memset(&op, 0, sizeof op);
    int64_t v[3];
    const char *k = "?";
    gh_err rc = gh_dps_i_col_text(s, st, 0, OP_TABLE, k, "id", op.id, sizeof op.id);
    if (rc == GH_OK) k = op.id;
    if (rc == GH_OK)
        rc = gh_dps_i_col_text(s, st, 1, OP_TABLE, k, "registration_id", op.registration_id,
                               sizeof op.registration_id);
    if (rc == GH_OK) rc = gh_dps_i_col_int(s, st, 2, OP_TABLE, k, "status", 0, 4, &v[0]);
    if (rc == GH_OK)
        rc = gh_dps_i_col_int(s, st, 3, OP_TABLE, k, "created_ms", 0, INT64_MAX, &v[1]);
    if (rc == GH_OK)
        rc = gh_dps_i_col_int(s, st, 4, OP_TABLE, k, "updated_ms", 0, INT64_MAX, &v[2]);
    GH_GUARD(rc);
    op.status = (enum gh_dps_status)v[0];
    op.created_ms = v[1];
    op.updated_ms = v[2];
    if (op.status != GH_DPS_ASSIGNING) {
        const char *p = (const char *)sqlite3_column_text(st, 5);
        int n = sqlite3_column_bytes(st, 5);
        if (p == NULL || n <= 0 || n > GH_DPS_JSON_MAX)
            return gh_dps_i_bad_row(s, OP_TABLE, k, "result", "is missing or too long");
        json_error_t jerr;
        op.result = json_loadb(p, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(op.result)) {
            json_decref(op.result);
            return gh_dps_i_bad_row(s, OP_TABLE, k, "result", "is not a JSON object");
        }
    }
    *out = op;
    return GH_OK;
}

gh_err gh_dps_store_operation_get(struct gh_dps_store *s, const char *registration_id,
                                  const char *operation_id, struct gh_dps_operation *out)
{
    char key[GH_DPS_ID_MAX + 1];
    if (gh_dps_id_key(registration_id, key) != GH_OK || !gh_dps_operation_id_valid(operation_id))
        return gh_db_fail(&s->db, GH_ERR_NOT_FOUND, "operation not found");
    sqlite3_stmt *st;
    bool row = false;
    GH_GUARD(gh_db_stmt(&s->db, GH_DPS_STMT_OP_GET, &st));
    gh_err rc = gh_db_bind_text(&s->db, st, 1, operation_id);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 2, key);
    if (rc == GH_OK)
        rc = gh_db_bind_int(&s->db, st, 3, gh_dps_store_now(s) - GH_DPS_OPERATION_TTL_MS);
    if (rc == GH_OK) rc = gh_db_step(&s->db, st, &row, "get operation");
    if (rc == GH_OK && row) rc = read_op(s, st, out);
    sqlite3_reset(st);
    GH_GUARD(rc);
    if (!row) return gh_db_fail(&s->db, GH_ERR_NOT_FOUND, "operation not found");
    return GH_OK;
}

/* Operations per page while failing the pending ones. */
#define PENDING_PAGE 64

gh_err gh_dps_store_operation_fail_pending(struct gh_dps_store *s, int32_t error_code,
                                           const char *message, uint64_t *n)
{
    if (error_code == 0 || strlen(message) > GH_DPS_ERRMSG_MAX)
        return gh_db_fail(&s->db, GH_ERR_ARG, "a failed operation needs a code and a message");
    uint64_t total = 0;
    for (;;) {
        char ids[PENDING_PAGE][GH_DPS_OPID_LEN + 1], regs[PENDING_PAGE][GH_DPS_ID_MAX + 1];
        size_t count = 0;
        sqlite3_stmt *st;
        GH_GUARD(gh_db_stmt(&s->db, GH_DPS_STMT_OP_PENDING, &st));
        gh_err rc = gh_db_bind_int(&s->db, st, 1, PENDING_PAGE);
        bool row = true;
        while (rc == GH_OK && count < PENDING_PAGE) {
            rc = gh_db_step(&s->db, st, &row, "list pending operations");
            if (rc != GH_OK || !row) break;
            rc = gh_dps_i_col_text(s, st, 0, OP_TABLE, "?", "id", ids[count], sizeof ids[0]);
            if (rc == GH_OK)
                rc = gh_dps_i_col_text(s, st, 1, OP_TABLE, ids[count], "registration_id",
                                       regs[count], sizeof regs[0]);
            if (rc == GH_OK) count++;
        }
        gh_db_done(st);
        GH_GUARD(rc);
        for (size_t i = 0; i < count; i++) {
            struct gh_dps_registration r;
            memset(&r, 0, sizeof r);
            memcpy(r.registration_id, regs[i], sizeof r.registration_id);
            r.status = GH_DPS_FAILED;
            r.error_code = error_code;
            snprintf(r.error_message, sizeof r.error_message, "%s", message);
            r.updated_ms = r.created_ms = gh_dps_store_now(s);
            GH_GUARD(gh_dps_store_operation_finish(s, ids[i], &r));
            total++;
        }
        if (count < PENDING_PAGE) break;
    }
    if (n != NULL) *n = total;
    return GH_OK;
}
