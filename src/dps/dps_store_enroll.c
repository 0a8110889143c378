/* Enrollments and enrollment groups in dps.db (see dps_store.h). */
#include <stdlib.h>
#include <string.h>

#include "dps/dps_store_int.h"
#include "hub/stamp.h"
#include "iothub/crypto.h"

static const char *table_of(enum gh_dps_kind kind)
{
    return kind == GH_DPS_GROUP ? "enrollment(group)" : "enrollment";
}

/* Read the row at st (doc, etag, created_ms, updated_ms) into *out. */
static gh_err read_row(struct gh_dps_store *s, sqlite3_stmt *st, enum gh_dps_kind kind,
                       const char *key, struct gh_dps_enrollment *out)
{
    const char *table = table_of(kind);
    if (sqlite3_column_type(st, 0) != SQLITE_TEXT)
        return gh_dps_i_bad_row(s, table, key, "doc", "is not text");
    const char *doc = (const char *)sqlite3_column_text(st, 0);
    int n = sqlite3_column_bytes(st, 0);
    if (doc == NULL || n < 0 || (size_t)n > GH_DPS_JSON_MAX)
        return gh_dps_i_bad_row(s, table, key, "doc", "is missing or too long");
    json_error_t jerr;
    json_t *j = json_loadb(doc, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL) return gh_dps_i_bad_row(s, table, key, "doc", "is not valid JSON");
    struct gh_dps_enrollment e;
    char why[GH_DPS_REASON_MAX];
    gh_err rc = gh_dps_enrollment_from_json(j, kind, &e, why, sizeof why);
    json_decref(j);
    if (rc == GH_ERR_NOMEM) return gh_db_fail(&s->db, rc, "out of memory");
    if (rc != GH_OK) return gh_dps_i_bad_row(s, table, key, "doc", why);
    char k[GH_DPS_ID_MAX + 1];
    int64_t created = 0, updated = 0;
    rc = gh_dps_id_key(e.id, k);
    if (rc != GH_OK || strcmp(k, key) != 0)
        rc = gh_dps_i_bad_row(s, table, key, "doc", "names another enrollment");
    if (rc == GH_OK) rc = gh_dps_i_col_text(s, st, 1, table, key, "etag", e.etag, sizeof e.etag);
    if (rc == GH_OK)
        rc = gh_dps_i_col_int(s, st, 2, table, key, "created_ms", 0, INT64_MAX, &created);
    if (rc == GH_OK)
        rc = gh_dps_i_col_int(s, st, 3, table, key, "updated_ms", 0, INT64_MAX, &updated);
    if (rc != GH_OK) {
        gh_dps_enrollment_cleanup(&e);
        return rc;
    }
    e.created_ms = created;
    e.updated_ms = updated;
    memcpy(out, &e, sizeof e);
    gh_secure_zero(&e, sizeof e);
    return GH_OK;
}

/* Load the record with key (inside the caller's transaction). */
static gh_err find(struct gh_dps_store *s, enum gh_dps_kind kind, const char *key,
                   struct gh_dps_enrollment *out, bool *found)
{
    sqlite3_stmt *st;
    bool row = false;
    GH_GUARD(gh_db_stmt(&s->db, GH_DPS_STMT_EN_GET, &st));
    gh_err rc = gh_db_bind_int(&s->db, st, 1, kind);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 2, key);
    if (rc == GH_OK) rc = gh_db_step(&s->db, st, &row, "get enrollment");
    if (rc == GH_OK && row) rc = read_row(s, st, kind, key, out);
    sqlite3_reset(st);
    if (rc == GH_OK) *found = row;
    return rc;
}

static gh_err fill_key(char *key, const struct gh_dps_enrollment *cur, bool use_primary)
{
    if (key[0] != '\0') return GH_OK;
    const char *keep = NULL;
    if (cur != NULL && cur->attestation == GH_DPS_ATT_SYMMETRIC_KEY)
        keep = use_primary ? cur->primary_key : cur->secondary_key;
    if (keep != NULL && keep[0] != '\0') {
        memcpy(key, keep, strlen(keep) + 1);
        return GH_OK;
    }
    struct gh_writer w;
    gh_writer_init(&w, key, GH_IDENTITY_KEY_MAX + 1);
    GH_GUARD(gh_generate_key_b64(GH_DPS_GENERATED_KEY_BYTES, &w));
    return gh_writer_terminate(&w);
}

static gh_err put_locked(struct gh_dps_store *s, const struct gh_dps_enrollment *in,
                         const char *key, const char *if_match, struct gh_dps_enrollment *rec,
                         bool *created)
{
    struct gh_dps_enrollment cur;
    bool found = false;
    GH_GUARD(find(s, in->kind, key, &cur, &found));
    gh_err rc = GH_OK;
    bool conditional = if_match != NULL && if_match[0] != '\0' && strcmp(if_match, "*") != 0;
    if (conditional && !found)
        rc = gh_db_fail(&s->db, GH_ERR_NOT_FOUND, "enrollment not found");
    else if (found && !gh_dps_i_etag_matches(cur.etag, if_match))
        rc = gh_db_fail(&s->db, GH_ERR_ETAG_MISMATCH, "etag does not match");
    if (rc == GH_OK) rc = gh_dps_enrollment_copy(rec, in);
    if (rc != GH_OK) {
        if (found) gh_dps_enrollment_cleanup(&cur);
        return rc;
    }
    if (rec->attestation == GH_DPS_ATT_SYMMETRIC_KEY) {
        rc = fill_key(rec->primary_key, found ? &cur : NULL, true);
        if (rc == GH_OK) rc = fill_key(rec->secondary_key, found ? &cur : NULL, false);
    }
    char guid[GH_HUB_GUID_LEN];
    if (rc == GH_OK) rc = gh_hub_guid(guid);
    int64_t now = gh_dps_store_now(s);
    if (rc == GH_OK) {
        memcpy(rec->etag, guid, sizeof guid);
        rec->created_ms = found ? cur.created_ms : now;
        rec->updated_ms = now;
    }
    if (found) gh_dps_enrollment_cleanup(&cur);
    json_t *j = NULL;
    char *doc = NULL;
    if (rc == GH_OK) rc = gh_dps_enrollment_to_json(rec, &j);
    if (rc == GH_OK && (doc = json_dumps(j, JSON_COMPACT)) == NULL) rc = GH_ERR_NOMEM;
    json_decref(j);
    if (rc == GH_OK && strlen(doc) > GH_DPS_JSON_MAX)
        rc = gh_db_fail(&s->db, GH_ERR_TOO_LARGE, "enrollment document is too large");
    sqlite3_stmt *st;
    if (rc == GH_OK) rc = gh_db_stmt(&s->db, GH_DPS_STMT_EN_PUT, &st);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 1, rec->kind);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 2, key);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 3, doc);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 4, rec->etag);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 5, rec->created_ms);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 6, rec->updated_ms);
    if (rc == GH_OK) rc = gh_db_exec(&s->db, st, "put enrollment");
    if (doc != NULL) {
        gh_secure_zero(doc, strlen(doc));
        free(doc);
    }
    if (rc != GH_OK) gh_dps_enrollment_cleanup(rec);
    if (rc == GH_OK && created != NULL) *created = !found;
    return rc;
}

gh_err gh_dps_store_enrollment_put(struct gh_dps_store *s, const struct gh_dps_enrollment *in,
                                   const char *if_match, struct gh_dps_enrollment *out,
                                   bool *created)
{
    char key[GH_DPS_ID_MAX + 1];
    if (gh_dps_id_key(in->id, key) != GH_OK)
        return gh_db_fail(&s->db, GH_ERR_ARG, "invalid enrollment id");
    struct gh_dps_enrollment rec;
    memset(&rec, 0, sizeof rec);
    bool was_new = false;
    GH_GUARD(gh_db_begin(&s->db));
    gh_err rc = put_locked(s, in, key, if_match, &rec, &was_new);
    if (rc == GH_OK)
        rc = gh_db_commit(&s->db);
    else
        gh_db_rollback(&s->db);
    if (rc != GH_OK) {
        /* put_locked cleaned rec on its own failures; a failed commit
         * leaves it filled. */
        if (rec.id[0] != '\0') gh_dps_enrollment_cleanup(&rec);
        return rc;
    }
    if (created != NULL) *created = was_new;
    if (out != NULL)
        memcpy(out, &rec, sizeof rec);
    else
        gh_dps_enrollment_cleanup(&rec);
    return GH_OK;
}

gh_err gh_dps_store_enrollment_get(struct gh_dps_store *s, enum gh_dps_kind kind, const char *id,
                                   struct gh_dps_enrollment *out)
{
    char key[GH_DPS_ID_MAX + 1];
    if (gh_dps_id_key(id, key) != GH_OK)
        return gh_db_fail(&s->db, GH_ERR_ARG, "invalid enrollment id");
    bool found = false;
    struct gh_dps_enrollment e;
    GH_GUARD(find(s, kind, key, &e, &found));
    if (!found) return gh_db_fail(&s->db, GH_ERR_NOT_FOUND, "enrollment not found");
    memcpy(out, &e, sizeof e);
    return GH_OK;
}

gh_err gh_dps_store_enrollment_delete(struct gh_dps_store *s, enum gh_dps_kind kind, const char *id,
                                      const char *if_match)
{
    char key[GH_DPS_ID_MAX + 1];
    if (gh_dps_id_key(id, key) != GH_OK)
        return gh_db_fail(&s->db, GH_ERR_ARG, "invalid enrollment id");
    GH_GUARD(gh_db_begin(&s->db));
    struct gh_dps_enrollment cur;
    bool found = false;
    gh_err rc = find(s, kind, key, &cur, &found);
    if (rc == GH_OK && !found) rc = gh_db_fail(&s->db, GH_ERR_NOT_FOUND, "enrollment not found");
    if (rc == GH_OK && !gh_dps_i_etag_matches(cur.etag, if_match))
        rc = gh_db_fail(&s->db, GH_ERR_ETAG_MISMATCH, "etag does not match");
    if (found) gh_dps_enrollment_cleanup(&cur);
    sqlite3_stmt *st;
    if (rc == GH_OK) rc = gh_db_stmt(&s->db, GH_DPS_STMT_EN_DEL, &st);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 1, kind);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 2, key);
    if (rc == GH_OK) rc = gh_db_exec(&s->db, st, "delete enrollment");
    if (rc == GH_OK) return gh_db_commit(&s->db);
    gh_db_rollback(&s->db);
    return rc;
}

gh_err gh_dps_store_enrollment_list(struct gh_dps_store *s, enum gh_dps_kind kind,
                                    const char *after, size_t limit, struct gh_dps_enrollment *out,
                                    size_t cap, size_t *n)
{
    char from[GH_DPS_ID_MAX + 1] = "";
    if (after != NULL && after[0] != '\0' && gh_dps_id_key(after, from) != GH_OK)
        return gh_db_fail(&s->db, GH_ERR_ARG, "invalid enrollment id");
    if (limit == 0 || limit > GH_DPS_STORE_LIST_DEFAULT) limit = GH_DPS_STORE_LIST_DEFAULT;
    if (limit > cap) limit = cap;
    sqlite3_stmt *st;
    GH_GUARD(gh_db_stmt(&s->db, GH_DPS_STMT_EN_LIST, &st));
    gh_err rc = gh_db_bind_int(&s->db, st, 1, kind);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 2, from);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 3, (int64_t)limit);
    size_t got = 0;
    bool row = true;
    while (rc == GH_OK && got < limit) {
        rc = gh_db_step(&s->db, st, &row, "list enrollments");
        if (rc != GH_OK || !row) break;
        char key[GH_DPS_ID_MAX + 1];
        rc = gh_dps_i_col_text(s, st, 4, table_of(kind), "?", "key", key, sizeof key);
        if (rc == GH_OK) rc = read_row(s, st, kind, key, &out[got]);
        if (rc == GH_OK) got++;
    }
    sqlite3_reset(st);
    if (rc != GH_OK) {
        for (size_t i = 0; i < got; i++) gh_dps_enrollment_cleanup(&out[i]);
        return rc;
    }
    *n = got;
    return GH_OK;
}
