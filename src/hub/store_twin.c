/* Twins in the store: load, check, update in one transaction, save. */
#include <stdlib.h>
#include <string.h>

#include "hub/store_internal.h"

/* Largest stored metadata tree text: metadata grows with the number of
 * leaves (about 60 bytes each), so it is allowed well above the 32 KB
 * document limit. */
#define META_TEXT_MAX (1024 * 1024)
/* Versions are kept below this so +1 never overflows. */
#define VERSION_MAX (INT64_MAX / 2)

static const char *mod_or_empty(const char *m)
{
    return m != NULL ? m : "";
}

/* Load the twin row of an existing identity. A missing row (never written
 * by this version, or lost) yields a fresh twin. */
static gh_err load(struct gh_store *s, const char *dev, const char *mod, struct gh_twin *out)
{
    sqlite3_stmt *st;
    bool row;
    char key[GH_STORE_KEY_TEXT_MAX];
    struct gh_db_row r = {"twin", gh_store_i_key(key, dev, mod), false};
    struct gh_twin t;
    memset(&t, 0, sizeof t);
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_TWIN_GET, &st));
    gh_err rc = gh_db_bind_text(&s->db, st, 1, dev);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 2, mod_or_empty(mod));
    if (rc == GH_OK) rc = gh_db_step(&s->db, st, &row, "get twin");
    if (rc == GH_OK && !row) {
        gh_db_done(st);
        if (gh_twin_init(out, gh_store_now(s)) != GH_OK)
            return gh_db_fail(&s->db, GH_ERR_NOMEM, "out of memory");
        return GH_OK;
    }
    if (rc == GH_OK) rc = gh_db_col_int(&s->db, st, 0, &r, "version", 1, VERSION_MAX, &t.version);
    if (rc == GH_OK)
        rc =
            gh_db_col_int(&s->db, st, 1, &r, "desired_version", 1, VERSION_MAX, &t.desired_version);
    if (rc == GH_OK)
        rc = gh_db_col_int(&s->db, st, 2, &r, "reported_version", 1, VERSION_MAX,
                           &t.reported_version);
    if (rc == GH_OK) rc = gh_db_col_json(&s->db, st, 3, &r, "tags", GH_TWIN_TAGS_MAX, &t.tags);
    if (rc == GH_OK)
        rc = gh_db_col_json(&s->db, st, 4, &r, "desired", GH_TWIN_PROPS_MAX, &t.desired);
    if (rc == GH_OK)
        rc = gh_db_col_json(&s->db, st, 5, &r, "desired_meta", META_TEXT_MAX, &t.desired_meta);
    if (rc == GH_OK)
        rc = gh_db_col_json(&s->db, st, 6, &r, "reported", GH_TWIN_PROPS_MAX, &t.reported);
    if (rc == GH_OK)
        rc = gh_db_col_json(&s->db, st, 7, &r, "reported_meta", META_TEXT_MAX, &t.reported_meta);
    gh_db_done(st);
    char reason[GH_TWIN_REASON_MAX];
    if (rc == GH_OK && gh_twin_check(t.tags, GH_TWIN_TAGS, false, reason, sizeof reason) != GH_OK)
        rc = gh_db_bad_row(&s->db, &r, "tags", "breaks the twin limits");
    if (rc == GH_OK &&
        gh_twin_check(t.desired, GH_TWIN_DESIRED, false, reason, sizeof reason) != GH_OK)
        rc = gh_db_bad_row(&s->db, &r, "desired", "breaks the twin limits");
    if (rc == GH_OK &&
        gh_twin_check(t.reported, GH_TWIN_REPORTED, false, reason, sizeof reason) != GH_OK)
        rc = gh_db_bad_row(&s->db, &r, "reported", "breaks the twin limits");
    if (rc != GH_OK) {
        gh_twin_cleanup(&t);
        return rc;
    }
    *out = t;
    return GH_OK;
}

static gh_err save(struct gh_store *s, const char *dev, const char *mod, const struct gh_twin *t)
{
    sqlite3_stmt *st;
    char *txt[5] = {0};
    const json_t *docs[5] = {t->tags, t->desired, t->desired_meta, t->reported, t->reported_meta};
    gh_err rc = GH_OK;
    if (t->version > VERSION_MAX || t->desired_version > VERSION_MAX ||
        t->reported_version > VERSION_MAX)
        return gh_db_fail(&s->db, GH_ERR_TOO_LARGE, "twin version limit reached");
    size_t len[5] = {0};
    for (int i = 0; rc == GH_OK && i < 5; i++) rc = gh_db_dump(&s->db, docs[i], &txt[i], &len[i]);
    /* Never write a row load() would refuse (metadata is bounded by the
     * document limits well below this; the check keeps it so). */
    if (rc == GH_OK && (len[2] > META_TEXT_MAX || len[4] > META_TEXT_MAX))
        rc = gh_db_fail(&s->db, GH_ERR_TOO_LARGE, "twin metadata larger than %d bytes",
                        META_TEXT_MAX);
    if (rc == GH_OK) rc = gh_db_stmt(&s->db, GH_STMT_TWIN_PUT, &st);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 1, dev);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 2, mod_or_empty(mod));
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 3, t->version);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 4, t->desired_version);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 5, t->reported_version);
    for (int i = 0; rc == GH_OK && i < 5; i++) rc = gh_db_bind_text(&s->db, st, 6 + i, txt[i]);
    if (rc == GH_OK) rc = gh_db_exec(&s->db, st, "save twin");
    for (int i = 0; i < 5; i++) free(txt[i]);
    return rc;
}

/* The identity (for existence and views); NOT_FOUND if missing. */
static gh_err identity(struct gh_store *s, const char *dev, const char *mod,
                       struct gh_identity *out)
{
    bool found;
    char key[GH_STORE_KEY_TEXT_MAX];
    GH_GUARD(gh_store_i_identity_find(s, dev, mod, out, &found));
    if (!found)
        return gh_db_fail(&s->db, GH_ERR_NOT_FOUND, "%s %s is not registered",
                          mod != NULL && mod[0] ? "module" : "device",
                          gh_store_i_key(key, dev, mod));
    return GH_OK;
}

/* Identity and twin from one read snapshot. */
static gh_err read_both(struct gh_store *s, const char *dev, const char *mod,
                        struct gh_identity *id, struct gh_twin *t)
{
    s->db.err[0] = '\0';
    GH_GUARD(gh_db_begin_read(&s->db));
    gh_err rc = identity(s, dev, mod, id);
    if (rc == GH_OK) rc = load(s, dev, mod, t);
    gh_db_rollback(&s->db); /* read-only: nothing to commit */
    return rc;
}

gh_err gh_store_twin_get(struct gh_store *s, const char *device_id, const char *module_id,
                         struct gh_twin *out)
{
    struct gh_identity *id = calloc(1, sizeof *id);
    if (id == NULL) return gh_db_fail(&s->db, GH_ERR_NOMEM, "out of memory");
    gh_err rc = read_both(s, device_id, module_id, id, out);
    gh_identity_wipe(id);
    free(id);
    return rc;
}

static gh_err view(struct gh_store *s, const char *dev, const char *mod, bool service, json_t **out)
{
    struct gh_twin t;
    struct gh_identity *id = calloc(1, sizeof *id);
    if (id == NULL) return gh_db_fail(&s->db, GH_ERR_NOMEM, "out of memory");
    gh_err rc = read_both(s, dev, mod, id, &t);
    if (rc == GH_OK) {
        rc = service ? gh_twin_service_view(&t, id, out) : gh_twin_device_view(&t, out);
        if (rc != GH_OK) rc = gh_db_fail(&s->db, rc, "out of memory");
        gh_twin_cleanup(&t);
    }
    gh_identity_wipe(id);
    free(id);
    return rc;
}

gh_err gh_store_twin_service_view(struct gh_store *s, const char *device_id, const char *module_id,
                                  json_t **out)
{
    return view(s, device_id, module_id, true, out);
}

gh_err gh_store_twin_device_view(struct gh_store *s, const char *device_id, const char *module_id,
                                 json_t **out)
{
    return view(s, device_id, module_id, false, out);
}

enum op { SERVICE_PATCH, SERVICE_REPLACE, DESIRED_REPLACE, REPORTED_PATCH };

struct update {
    enum op op;
    const json_t *arg;
    const char *if_match;
    json_t **notify;
    json_t **view;
    int64_t *new_version;
};

static gh_err apply(struct gh_store *s, struct gh_twin *t, const struct update *u, json_t **note)
{
    char reason[GH_TWIN_REASON_MAX];
    int64_t now = gh_store_now(s);
    gh_err rc = GH_ERR_INTERNAL;
    *note = NULL;
    switch (u->op) {
    case SERVICE_PATCH:
        rc = gh_twin_service_patch(t, u->arg, now, note, reason, sizeof reason);
        break;
    case SERVICE_REPLACE:
        rc = gh_twin_service_replace(t, u->arg, now, note, reason, sizeof reason);
        break;
    case DESIRED_REPLACE:
        rc = gh_twin_desired_replace(t, u->arg, now, note, reason, sizeof reason);
        break;
    case REPORTED_PATCH:
        rc = gh_twin_reported_patch(t, u->arg, now, NULL, reason, sizeof reason);
        break;
    }
    if (rc == GH_ERR_NOMEM) return gh_db_fail(&s->db, rc, "out of memory");
    if (rc != GH_OK) return gh_db_fail(&s->db, rc, "%s", reason);
    return GH_OK;
}

static gh_err update(struct gh_store *s, const char *dev, const char *mod, const struct update *u)
{
    struct gh_twin t;
    json_t *note = NULL, *v = NULL;
    char etag[GH_HUB_ETAG8_LEN];
    s->db.err[0] = '\0';
    memset(&t, 0, sizeof t);
    struct gh_identity *id = calloc(1, sizeof *id);
    if (id == NULL) return gh_db_fail(&s->db, GH_ERR_NOMEM, "out of memory");
    gh_err rc = gh_db_begin(&s->db);
    if (rc != GH_OK) goto out_free;
    rc = identity(s, dev, mod, id);
    if (rc == GH_OK) rc = load(s, dev, mod, &t);
    if (rc != GH_OK) goto out;
    gh_twin_etag(&t, etag);
    if (u->if_match != NULL && strcmp(u->if_match, "*") != 0 && strcmp(u->if_match, etag) != 0) {
        rc = gh_db_fail(&s->db, GH_ERR_ETAG_MISMATCH, "twin etag does not match (If-Match)");
        goto out;
    }
    int64_t before = t.version;
    rc = apply(s, &t, u, &note);
    if (rc == GH_OK && t.version != before) rc = save(s, dev, mod, &t);
    if (rc == GH_OK && u->view != NULL) {
        rc = gh_twin_service_view(&t, id, &v);
        if (rc != GH_OK) rc = gh_db_fail(&s->db, rc, "out of memory");
    }
    if (rc == GH_OK) rc = gh_db_commit(&s->db);
out:
    if (rc != GH_OK) {
        gh_db_rollback(&s->db);
        json_decref(note);
        json_decref(v);
    } else {
        if (u->notify != NULL)
            *u->notify = note;
        else
            json_decref(note);
        if (u->view != NULL) *u->view = v;
        if (u->new_version != NULL) *u->new_version = t.reported_version;
    }
    gh_twin_cleanup(&t);
out_free:
    gh_identity_wipe(id);
    free(id);
    return rc;
}

gh_err gh_store_twin_service_patch(struct gh_store *s, const char *device_id, const char *module_id,
                                   const json_t *patch, const char *if_match, json_t **notify,
                                   json_t **view_out)
{
    struct update u = {SERVICE_PATCH, patch, if_match, notify, view_out, NULL};
    return update(s, device_id, module_id, &u);
}

gh_err gh_store_twin_service_replace(struct gh_store *s, const char *device_id,
                                     const char *module_id, const json_t *doc, const char *if_match,
                                     json_t **notify, json_t **view_out)
{
    struct update u = {SERVICE_REPLACE, doc, if_match, notify, view_out, NULL};
    return update(s, device_id, module_id, &u);
}

gh_err gh_store_twin_desired_replace(struct gh_store *s, const char *device_id,
                                     const char *module_id, const json_t *desired, json_t **notify)
{
    struct update u = {DESIRED_REPLACE, desired, NULL, notify, NULL, NULL};
    return update(s, device_id, module_id, &u);
}

gh_err gh_store_twin_reported_patch(struct gh_store *s, const char *device_id,
                                    const char *module_id, const json_t *patch,
                                    int64_t *new_version)
{
    struct update u = {REPORTED_PATCH, patch, NULL, NULL, NULL, new_version};
    return update(s, device_id, module_id, &u);
}
