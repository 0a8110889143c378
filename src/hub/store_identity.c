/* Registry: devices and modules (PROTOCOL.md 5.2, 5.3, 6.2) - writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "hub/store_internal.h"
#include "iothub/crypto.h"

/* System modules IoT Hub creates with every Edge device. */
static const char *const edge_modules[] = {"$edgeAgent", "$edgeHub"};

static gh_err bind_identity(struct gh_store *s, sqlite3_stmt *st, const struct gh_identity *id)
{
    const char *t[] = {id->device_id, id->module_id, id->managed_by, id->generation_id, id->etag};
    gh_err rc = GH_OK;
    for (int i = 0; rc == GH_OK && i < 5; i++) rc = gh_db_bind_text(&s->db, st, i + 1, t[i]);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 6, id->status);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 7, id->status_reason);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 8, id->status_updated_ms);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 9, id->auth_type);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 10, id->primary_key);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 11, id->secondary_key);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 12, id->primary_thumbprint);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 13, id->secondary_thumbprint);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 14, id->iot_edge ? 1 : 0);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 15, id->device_scope);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 16, id->parent_scope);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 17, id->conn_state);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 18, id->conn_state_updated_ms);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 19, id->last_activity_ms);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 20, id->model_id);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 21, id->created_ms);
    return rc;
}

static gh_err write_identity(struct gh_store *s, enum gh_store_stmt which,
                             const struct gh_identity *id)
{
    sqlite3_stmt *st;
    GH_GUARD(gh_db_stmt(&s->db, which, &st));
    gh_err rc = bind_identity(s, st, id);
    if (rc == GH_OK) rc = gh_db_exec(&s->db, st, "write identity");
    /* Bound copies of the keys live in SQLite's statement until cleared. */
    sqlite3_clear_bindings(st);
    return rc;
}

/* An empty twin row for a new identity. */
static gh_err insert_twin(struct gh_store *s, const struct gh_identity *id)
{
    struct gh_twin t;
    if (gh_twin_init(&t, id->created_ms) != GH_OK)
        return gh_db_fail(&s->db, GH_ERR_NOMEM, "out of memory");
    char *txt[5] = {0};
    const json_t *docs[5] = {t.tags, t.desired, t.desired_meta, t.reported, t.reported_meta};
    sqlite3_stmt *st;
    gh_err rc = gh_db_stmt(&s->db, GH_STMT_TWIN_PUT, &st);
    for (int i = 0; rc == GH_OK && i < 5; i++) rc = gh_db_dump(&s->db, docs[i], &txt[i], NULL);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 1, id->device_id);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 2, id->module_id);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 3, t.version);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 4, t.desired_version);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 5, t.reported_version);
    for (int i = 0; rc == GH_OK && i < 5; i++) rc = gh_db_bind_text(&s->db, st, 6 + i, txt[i]);
    if (rc == GH_OK) rc = gh_db_exec(&s->db, st, "insert twin");
    for (int i = 0; i < 5; i++) free(txt[i]);
    gh_twin_cleanup(&t);
    return rc;
}

static gh_err gen_key(struct gh_store *s, char out[GH_IDENTITY_KEY_MAX + 1])
{
    struct gh_writer w;
    gh_writer_init(&w, out, GH_IDENTITY_KEY_MAX + 1);
    gh_err rc = gh_generate_key_b64(GH_SYMKEY_DEFAULT_LEN, &w);
    if (rc == GH_OK) rc = gh_writer_terminate(&w);
    if (rc != GH_OK) return gh_db_fail(&s->db, rc, "cannot generate a key");
    return GH_OK;
}

/* Authentication of row from in; keep_from (may be NULL) supplies the
 * current keys when a sas update carries none. */
static gh_err set_auth(struct gh_store *s, struct gh_identity *row, const struct gh_identity *in,
                       const struct gh_identity *keep_from)
{
    row->auth_type = in->auth_type;
    memcpy(row->primary_thumbprint, in->primary_thumbprint, sizeof row->primary_thumbprint);
    memcpy(row->secondary_thumbprint, in->secondary_thumbprint, sizeof row->secondary_thumbprint);
    if (in->auth_type != GH_AUTH_SELF_SIGNED)
        row->primary_thumbprint[0] = row->secondary_thumbprint[0] = '\0';
    if (in->auth_type != GH_AUTH_SAS) {
        gh_secure_zero(row->primary_key, sizeof row->primary_key);
        gh_secure_zero(row->secondary_key, sizeof row->secondary_key);
        return GH_OK;
    }
    if (in->primary_key[0] != '\0' && in->secondary_key[0] != '\0') {
        if (!gh_identity_key_valid(in->primary_key) || !gh_identity_key_valid(in->secondary_key))
            return gh_db_fail(&s->db, GH_ERR_ARG,
                              "authentication.symmetricKey: keys must be base64 of 16 to "
                              "64 bytes");
        memcpy(row->primary_key, in->primary_key, sizeof row->primary_key);
        memcpy(row->secondary_key, in->secondary_key, sizeof row->secondary_key);
        return GH_OK;
    }
    if (keep_from != NULL && keep_from->auth_type == GH_AUTH_SAS &&
        keep_from->primary_key[0] != '\0' && keep_from->secondary_key[0] != '\0') {
        memcpy(row->primary_key, keep_from->primary_key, sizeof row->primary_key);
        memcpy(row->secondary_key, keep_from->secondary_key, sizeof row->secondary_key);
        return GH_OK;
    }
    GH_GUARD(gen_key(s, row->primary_key));
    return gen_key(s, row->secondary_key);
}

/* Is scope the deviceScope of an Edge device other than self? */
static gh_err check_parent(struct gh_store *s, const char *scope, const char *self,
                           const char *field)
{
    sqlite3_stmt *st;
    bool row;
    char other[GH_IDENTITY_ID_MAX + 1] = "";
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_ID_EDGE_BY_SCOPE, &st));
    gh_err rc = gh_db_bind_text(&s->db, st, 1, scope);
    if (rc == GH_OK) rc = gh_db_step(&s->db, st, &row, "find parent");
    if (rc == GH_OK && row) {
        const unsigned char *p = sqlite3_column_text(st, 0);
        snprintf(other, sizeof other, "%s", p != NULL ? (const char *)p : "");
    }
    gh_db_done(st);
    GH_GUARD(rc);
    if (!row || strcmp(other, self) == 0) {
        char ex[96];
        return gh_db_fail(&s->db, GH_ERR_ARG, "%s %s is not the scope of another IoT Edge device",
                          field, gh_log_escape(ex, sizeof ex, scope, strlen(scope), 64));
    }
    return GH_OK;
}

/* Scopes of a device row per 6.2 (see store.h); old is NULL on create. */
static gh_err set_scopes(struct gh_store *s, struct gh_identity *row, const struct gh_identity *in,
                         const struct gh_identity *old)
{
    const char *field;
    if (row->module_id[0] != '\0') {
        row->device_scope[0] = row->parent_scope[0] = '\0';
        return GH_OK;
    }
    if (row->iot_edge) {
        int n = snprintf(row->device_scope, sizeof row->device_scope, "%s%s-%s",
                         GH_IDENTITY_SCOPE_PREFIX, row->device_id, row->generation_id);
        if (n < 0 || (size_t)n >= sizeof row->device_scope)
            return gh_db_fail(&s->db, GH_ERR_INTERNAL, "device scope does not fit");
        if (in->present & GH_IDENTITY_F_PARENT_SCOPES)
            memcpy(row->parent_scope, in->parent_scope, sizeof row->parent_scope);
        else if (old != NULL)
            memcpy(row->parent_scope, old->parent_scope, sizeof row->parent_scope);
        else
            row->parent_scope[0] = '\0';
        field = "parentScopes";
    } else {
        if (in->present & GH_IDENTITY_F_DEVICE_SCOPE)
            memcpy(row->device_scope, in->device_scope, sizeof row->device_scope);
        else if (old != NULL)
            /* An Edge device turned leaf keeps its parent as deviceScope. */
            memcpy(row->device_scope, old->parent_scope, sizeof row->device_scope);
        else
            row->device_scope[0] = '\0';
        memcpy(row->parent_scope, row->device_scope, sizeof row->parent_scope);
        field = "deviceScope";
    }
    if (row->parent_scope[0] == '\0') return GH_OK;
    return check_parent(s, row->parent_scope, row->device_id, field);
}

static gh_err check_text_fields(struct gh_store *s, const struct gh_identity *in)
{
    /* The struct may come from code rather than JSON: enforce the enums. */
    if ((unsigned)in->status > GH_IDENTITY_DISABLED || (unsigned)in->auth_type > GH_AUTH_NONE)
        return gh_db_fail(&s->db, GH_ERR_ARG, "invalid status or authentication type");
    if (in->auth_type == GH_AUTH_SELF_SIGNED &&
        (!gh_identity_thumbprint_valid(in->primary_thumbprint) ||
         (in->secondary_thumbprint[0] != '\0' &&
          !gh_identity_thumbprint_valid(in->secondary_thumbprint))))
        return gh_db_fail(&s->db, GH_ERR_ARG,
                          "selfSigned needs a primary thumbprint of 40 or 64 hex characters");
    return GH_OK;
}

/* A fresh identity row from in: ids, status, reason, managedBy, Edge flag,
 * new generationId, etag and created time (auth and scopes come after). */
static gh_err new_row(struct gh_store *s, const struct gh_identity *in, struct gh_identity *row)
{
    memset(row, 0, sizeof *row);
    memcpy(row->device_id, in->device_id, sizeof row->device_id);
    memcpy(row->module_id, in->module_id, sizeof row->module_id);
    int64_t now = gh_store_now(s);
    row->created_ms = now;
    row->status = in->status;
    memcpy(row->status_reason, in->status_reason, sizeof row->status_reason);
    memcpy(row->managed_by, in->managed_by, sizeof row->managed_by);
    row->iot_edge = row->module_id[0] == '\0' && in->iot_edge;
    gh_err rc = gh_hub_generation_id(now, &s->last_genid, row->generation_id);
    if (rc == GH_OK) rc = gh_hub_etag_random(NULL, row->etag);
    if (rc != GH_OK) return gh_db_fail(&s->db, rc, "random generator failed");
    return GH_OK;
}

/* Create $edgeAgent / $edgeHub for Edge device dev if missing. */
static gh_err ensure_edge_modules(struct gh_store *s, const struct gh_identity *dev)
{
    struct gh_identity *row = calloc(2, sizeof *row); /* row, template */
    if (row == NULL) return gh_db_fail(&s->db, GH_ERR_NOMEM, "out of memory");
    struct gh_identity *tmpl = &row[1];
    gh_err rc = GH_OK;
    for (size_t i = 0; rc == GH_OK && i < sizeof edge_modules / sizeof edge_modules[0]; i++) {
        bool found;
        rc = gh_store_i_identity_find(s, dev->device_id, edge_modules[i], row, &found);
        if (rc != GH_OK || found) continue;
        memset(tmpl, 0, sizeof *tmpl);
        memcpy(tmpl->device_id, dev->device_id, sizeof tmpl->device_id);
        snprintf(tmpl->module_id, sizeof tmpl->module_id, "%s", edge_modules[i]);
        tmpl->auth_type = GH_AUTH_SAS;
        rc = new_row(s, tmpl, row);
        if (rc == GH_OK) rc = set_auth(s, row, tmpl, NULL);
        if (rc == GH_OK) rc = write_identity(s, GH_STMT_ID_INSERT, row);
        if (rc == GH_OK) rc = insert_twin(s, row);
    }
    gh_identity_wipe(&row[0]);
    gh_identity_wipe(&row[1]);
    free(row);
    return rc;
}

gh_err gh_store_identity_create(struct gh_store *s, const struct gh_identity *in,
                                struct gh_identity *out)
{
    s->db.err[0] = '\0';
    GH_GUARD(gh_store_i_check_ids(s, in->device_id, in->module_id));
    GH_GUARD(check_text_fields(s, in));
    bool module = in->module_id[0] != '\0';
    struct gh_identity *row = calloc(2, sizeof *row); /* row, scratch */
    if (row == NULL) return gh_db_fail(&s->db, GH_ERR_NOMEM, "out of memory");
    bool found = false;
    char key[GH_STORE_KEY_TEXT_MAX];
    gh_err rc = gh_db_begin(&s->db);
    if (rc != GH_OK) goto out_free;
    if (module) {
        rc = gh_store_i_identity_find(s, in->device_id, "", &row[1], &found);
        if (rc == GH_OK && !found)
            rc = gh_db_fail(&s->db, GH_ERR_NOT_FOUND, "device %s is not registered",
                            gh_store_i_key(key, in->device_id, NULL));
        if (rc != GH_OK) goto out;
    }
    rc = gh_store_i_identity_find(s, in->device_id, in->module_id, &row[1], &found);
    if (rc == GH_OK && found)
        rc = gh_db_fail(&s->db, GH_ERR_CONFLICT, "%s %s already exists",
                        module ? "module" : "device",
                        gh_store_i_key(key, in->device_id, in->module_id));
    if (rc == GH_OK) rc = new_row(s, in, &row[0]);
    if (rc == GH_OK) rc = set_auth(s, &row[0], in, NULL);
    if (rc == GH_OK) rc = set_scopes(s, &row[0], in, NULL);
    if (rc == GH_OK) rc = write_identity(s, GH_STMT_ID_INSERT, &row[0]);
    if (rc == GH_OK) rc = insert_twin(s, &row[0]);
    if (rc == GH_OK && row[0].iot_edge) rc = ensure_edge_modules(s, &row[0]);
    if (rc == GH_OK) rc = gh_db_commit(&s->db);
out:
    if (rc != GH_OK) gh_db_rollback(&s->db);
    if (rc == GH_OK) *out = row[0];
out_free:
    gh_identity_wipe(&row[0]);
    gh_identity_wipe(&row[1]);
    free(row);
    return rc;
}

static gh_err check_etag(struct gh_store *s, const char *if_match, const char *etag)
{
    if (if_match == NULL || strcmp(if_match, "*") == 0 || strcmp(if_match, etag) == 0) return GH_OK;
    return gh_db_fail(&s->db, GH_ERR_ETAG_MISMATCH, "etag does not match (If-Match)");
}

gh_err gh_store_identity_update(struct gh_store *s, const struct gh_identity *in,
                                const char *if_match, struct gh_identity *out)
{
    s->db.err[0] = '\0';
    GH_GUARD(gh_store_i_check_ids(s, in->device_id, in->module_id));
    struct gh_identity *row = calloc(2, sizeof *row); /* new, old */
    if (row == NULL) return gh_db_fail(&s->db, GH_ERR_NOMEM, "out of memory");
    struct gh_identity *old = &row[1];
    bool found;
    char key[GH_STORE_KEY_TEXT_MAX];
    gh_err rc = gh_db_begin(&s->db);
    if (rc != GH_OK) goto out_free;
    rc = gh_store_i_identity_find(s, in->device_id, in->module_id, old, &found);
    if (rc == GH_OK && !found)
        rc = gh_db_fail(&s->db, GH_ERR_NOT_FOUND, "%s %s is not registered",
                        in->module_id[0] ? "module" : "device",
                        gh_store_i_key(key, in->device_id, in->module_id));
    if (rc == GH_OK) rc = check_etag(s, if_match, old->etag);
    if (rc != GH_OK) goto out;
    row[0] = *old;
    struct gh_identity *r = &row[0];
    if ((in->present & GH_IDENTITY_F_STATUS) && r->module_id[0] == '\0') {
        if ((unsigned)in->status > GH_IDENTITY_DISABLED) {
            rc = gh_db_fail(&s->db, GH_ERR_ARG, "invalid status");
            goto out;
        }
        if (in->status != r->status) r->status_updated_ms = gh_store_now(s);
        r->status = in->status;
    }
    if ((in->present & GH_IDENTITY_F_STATUS_REASON) && r->module_id[0] == '\0')
        memcpy(r->status_reason, in->status_reason, sizeof r->status_reason);
    if ((in->present & GH_IDENTITY_F_MANAGED_BY) && r->module_id[0] != '\0')
        memcpy(r->managed_by, in->managed_by, sizeof r->managed_by);
    if (in->present & GH_IDENTITY_F_AUTH) {
        rc = check_text_fields(s, in);
        if (rc == GH_OK) rc = set_auth(s, r, in, old);
        if (rc != GH_OK) goto out;
    }
    if ((in->present & GH_IDENTITY_F_CAPABILITIES) && r->module_id[0] == '\0')
        r->iot_edge = in->iot_edge;
    rc = set_scopes(s, r, in, old);
    if (rc == GH_OK) {
        rc = gh_hub_etag_random(old->etag, r->etag);
        if (rc != GH_OK) rc = gh_db_fail(&s->db, rc, "random generator failed");
    }
    if (rc == GH_OK) rc = write_identity(s, GH_STMT_ID_UPDATE, r);
    if (rc == GH_OK && r->iot_edge && !old->iot_edge) rc = ensure_edge_modules(s, r);
    if (rc == GH_OK) rc = gh_db_commit(&s->db);
out:
    if (rc != GH_OK) gh_db_rollback(&s->db);
    if (rc == GH_OK) *out = row[0];
out_free:
    gh_identity_wipe(&row[0]);
    gh_identity_wipe(&row[1]);
    free(row);
    return rc;
}

gh_err gh_store_identity_delete(struct gh_store *s, const char *device_id, const char *module_id,
                                const char *if_match)
{
    s->db.err[0] = '\0';
    GH_GUARD(gh_store_i_check_ids(s, device_id, module_id));
    struct gh_identity *old = calloc(1, sizeof *old);
    if (old == NULL) return gh_db_fail(&s->db, GH_ERR_NOMEM, "out of memory");
    bool found, module = module_id != NULL && module_id[0] != '\0';
    char key[GH_STORE_KEY_TEXT_MAX];
    sqlite3_stmt *st;
    gh_err rc = gh_db_begin(&s->db);
    if (rc != GH_OK) goto out_free;
    rc = gh_store_i_identity_find(s, device_id, module_id, old, &found);
    if (rc == GH_OK && !found)
        rc = gh_db_fail(&s->db, GH_ERR_NOT_FOUND, "%s %s is not registered",
                        module ? "module" : "device", gh_store_i_key(key, device_id, module_id));
    if (rc == GH_OK) rc = check_etag(s, if_match, old->etag);
    if (rc == GH_OK)
        rc = gh_db_stmt(&s->db, module ? GH_STMT_ID_DELETE_MODULE : GH_STMT_ID_DELETE_DEVICE, &st);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 1, device_id);
    if (rc == GH_OK && module) rc = gh_db_bind_text(&s->db, st, 2, module_id);
    if (rc == GH_OK) rc = gh_db_exec(&s->db, st, "delete identity");
    if (rc == GH_OK) rc = gh_db_commit(&s->db);
    if (rc != GH_OK) gh_db_rollback(&s->db);
out_free:
    gh_identity_wipe(old);
    free(old);
    return rc;
}
