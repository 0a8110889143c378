/* Cloud-to-device queues (PROTOCOL.md 1.9.2, 1.9.3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "hub/stamp.h"
#include "hub/store_internal.h"

void gh_c2d_msg_cleanup(struct gh_c2d_msg *m)
{
    if (m == NULL) return;
    json_decref(m->properties);
    free(m->body);
    memset(m, 0, sizeof *m);
}

/* IoT Hub message ids: ASCII letters, digits and
 * - : . + % _ # * ? ! ( ) , = @ ; $ ' (1..128). */
static bool valid_msgid(const char *id)
{
    static const char extra[] = "-:.+%_#*?!(),=@;$'";
    size_t n = strlen(id);
    if (n == 0 || n > GH_C2D_MSGID_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  (c != '\0' && strchr(extra, c) != NULL);
        if (!ok) return false;
    }
    return true;
}

static gh_err device_exists(struct gh_store *s, const char *device_id)
{
    struct gh_identity *id = calloc(1, sizeof *id);
    if (id == NULL) return gh_db_fail(&s->db, GH_ERR_NOMEM, "out of memory");
    gh_err rc = gh_store_identity_get(s, device_id, NULL, id);
    gh_identity_wipe(id);
    free(id);
    return rc;
}

static gh_err expire(struct gh_store *s, const char *device_id, int64_t now, uint32_t *n)
{
    sqlite3_stmt *st;
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_C2D_EXPIRE, &st));
    gh_err rc = gh_db_bind_text(&s->db, st, 1, device_id);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 2, now);
    if (rc == GH_OK) rc = gh_db_exec(&s->db, st, "expire c2d");
    if (rc == GH_OK && n != NULL) *n = (uint32_t)sqlite3_changes(s->db.h);
    return rc;
}

static gh_err count(struct gh_store *s, const char *device_id, int64_t now, uint32_t *n)
{
    sqlite3_stmt *st;
    bool row;
    char key[GH_STORE_KEY_TEXT_MAX];
    struct gh_db_row r = {"c2d", gh_store_i_key(key, device_id, NULL), false};
    int64_t v = 0;
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_C2D_COUNT, &st));
    gh_err rc = gh_db_bind_text(&s->db, st, 1, device_id);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 2, now);
    if (rc == GH_OK) rc = gh_db_step(&s->db, st, &row, "count c2d");
    if (rc == GH_OK && row) rc = gh_db_col_int(&s->db, st, 0, &r, "count", 0, UINT32_MAX, &v);
    gh_db_done(st);
    if (rc == GH_OK) *n = (uint32_t)v;
    return rc;
}

static gh_err check_send(struct gh_store *s, const struct gh_c2d_send *m, int64_t now,
                         int64_t *expiry)
{
    if (m->message_id != NULL && m->message_id[0] != '\0' && !valid_msgid(m->message_id))
        return gh_db_fail(&s->db, GH_ERR_ARG,
                          "message id must be 1 to %d ASCII letters, digits or "
                          "-:.+%%_#*?!(),=@;$'",
                          GH_C2D_MSGID_MAX);
    if ((unsigned)m->ack > GH_C2D_ACK_FULL)
        return gh_db_fail(&s->db, GH_ERR_ARG, "invalid ack mode");
    if (m->properties != NULL && !json_is_object(m->properties))
        return gh_db_fail(&s->db, GH_ERR_ARG, "properties must be a JSON object");
    if (m->body_len > GH_C2D_BODY_MAX)
        return gh_db_fail(&s->db, GH_ERR_TOO_LARGE, "message body larger than %d bytes",
                          GH_C2D_BODY_MAX);
    if (m->body_len > 0 && m->body == NULL)
        return gh_db_fail(&s->db, GH_ERR_ARG, "message body missing");
    int64_t e = m->expiry_ms != 0 ? m->expiry_ms : now + GH_C2D_DEFAULT_TTL_MS;
    if (e <= now) return gh_db_fail(&s->db, GH_ERR_ARG, "message expiry time is in the past");
    if (e - now > GH_C2D_MAX_TTL_MS) e = now + GH_C2D_MAX_TTL_MS;
    *expiry = e;
    return GH_OK;
}

gh_err gh_store_c2d_enqueue(struct gh_store *s, const char *device_id, const struct gh_c2d_send *m,
                            int64_t *seq, char *msgid)
{
    sqlite3_stmt *st;
    char id[GH_C2D_MSGID_MAX + 1];
    char *props = NULL;
    size_t props_len = 0;
    int64_t now = gh_store_now(s), expiry = 0;
    uint32_t queued = 0;
    s->db.err[0] = '\0';
    GH_GUARD(check_send(s, m, now, &expiry));
    if (m->message_id != NULL && m->message_id[0] != '\0') {
        snprintf(id, sizeof id, "%s", m->message_id);
    } else {
        char guid[GH_HUB_GUID_LEN];
        gh_err grc = gh_hub_guid(guid);
        if (grc != GH_OK) return gh_db_fail(&s->db, grc, "random generator failed");
        snprintf(id, sizeof id, "%s", guid);
    }
    if (m->properties != NULL) {
        GH_GUARD(gh_db_dump(&s->db, m->properties, &props, &props_len));
    } else if ((props = strdup("{}")) == NULL) {
        return gh_db_fail(&s->db, GH_ERR_NOMEM, "out of memory");
    }
    gh_err rc = GH_OK;
    if (props_len > GH_C2D_PROPS_MAX)
        rc = gh_db_fail(&s->db, GH_ERR_TOO_LARGE, "message properties larger than %d bytes",
                        GH_C2D_PROPS_MAX);
    if (rc == GH_OK) rc = gh_db_begin(&s->db);
    if (rc != GH_OK) goto out_free;
    rc = device_exists(s, device_id);
    if (rc == GH_OK) rc = expire(s, device_id, now, NULL);
    if (rc == GH_OK) rc = count(s, device_id, now, &queued);
    if (rc == GH_OK && queued >= GH_C2D_QUEUE_MAX)
        rc = gh_db_fail(&s->db, GH_ERR_QUEUE_FULL, "the device queue holds %d messages already",
                        GH_C2D_QUEUE_MAX);
    if (rc == GH_OK) rc = gh_db_stmt(&s->db, GH_STMT_C2D_INSERT, &st);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 1, device_id);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 2, id);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 3, now);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 4, expiry);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 5, m->ack);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 6, props);
    if (rc == GH_OK) rc = gh_db_bind_blob(&s->db, st, 7, m->body, m->body_len);
    if (rc == GH_OK) rc = gh_db_exec(&s->db, st, "enqueue c2d");
    int64_t newseq = sqlite3_last_insert_rowid(s->db.h);
    if (rc == GH_OK) rc = gh_db_commit(&s->db);
    if (rc != GH_OK) {
        gh_db_rollback(&s->db);
        goto out_free;
    }
    if (seq != NULL) *seq = newseq;
    if (msgid != NULL) memcpy(msgid, id, strlen(id) + 1);
out_free:
    free(props);
    return rc;
}

static gh_err read_msg(struct gh_store *s, sqlite3_stmt *st, const char *device_id,
                       struct gh_c2d_msg *out)
{
    char key[GH_STORE_KEY_TEXT_MAX];
    struct gh_db_row r = {"c2d", gh_store_i_key(key, device_id, NULL), false};
    struct gh_c2d_msg m;
    int64_t v[3];
    memset(&m, 0, sizeof m);
    gh_err rc = gh_db_col_int(&s->db, st, 0, &r, "seq", 1, INT64_MAX, &m.seq);
    if (rc == GH_OK)
        rc = gh_db_col_text(&s->db, st, 1, &r, "message_id", m.message_id, sizeof m.message_id);
    if (rc == GH_OK && !valid_msgid(m.message_id))
        rc = gh_db_bad_row(&s->db, &r, "message_id", "is not a valid message id");
    if (rc == GH_OK)
        rc = gh_db_col_int(&s->db, st, 2, &r, "enqueued_ms", 0, INT64_MAX, &m.enqueued_ms);
    if (rc == GH_OK) rc = gh_db_col_int(&s->db, st, 3, &r, "expiry_ms", 0, INT64_MAX, &m.expiry_ms);
    if (rc == GH_OK) rc = gh_db_col_int(&s->db, st, 4, &r, "delivered", 0, UINT32_MAX, &v[0]);
    if (rc == GH_OK) rc = gh_db_col_int(&s->db, st, 5, &r, "ack", 0, GH_C2D_ACK_FULL, &v[1]);
    if (rc == GH_OK)
        rc = gh_db_col_json(&s->db, st, 6, &r, "properties", GH_C2D_PROPS_MAX, &m.properties);
    if (rc == GH_OK)
        rc = gh_db_col_blob(&s->db, st, 7, &r, "body", GH_C2D_BODY_MAX, &m.body, &m.body_len);
    if (rc != GH_OK) {
        gh_c2d_msg_cleanup(&m);
        return rc;
    }
    m.deliveries = (uint32_t)v[0];
    m.ack = (enum gh_c2d_ack)v[1];
    *out = m;
    return GH_OK;
}

gh_err gh_store_c2d_next(struct gh_store *s, const char *device_id, struct gh_c2d_msg *out,
                         bool *found, uint32_t *expired)
{
    sqlite3_stmt *st = NULL;
    struct gh_c2d_msg m;
    bool row = false;
    uint32_t gone = 0;
    int64_t now = gh_store_now(s);
    memset(&m, 0, sizeof m);
    s->db.err[0] = '\0';
    GH_GUARD(gh_db_begin(&s->db));
    gh_err rc = expire(s, device_id, now, &gone);
    if (rc == GH_OK) rc = gh_db_stmt(&s->db, GH_STMT_C2D_NEXT, &st);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 1, device_id);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 2, now);
    if (rc == GH_OK) rc = gh_db_step(&s->db, st, &row, "next c2d");
    if (rc == GH_OK && row) rc = read_msg(s, st, device_id, &m);
    gh_db_done(st);
    if (rc == GH_OK && row) rc = gh_db_stmt(&s->db, GH_STMT_C2D_LOCK, &st);
    if (rc == GH_OK && row) rc = gh_db_bind_int(&s->db, st, 1, m.seq);
    if (rc == GH_OK && row) rc = gh_db_bind_int(&s->db, st, 2, now + GH_C2D_LOCK_MS);
    if (rc == GH_OK && row) rc = gh_db_exec(&s->db, st, "lock c2d");
    if (rc == GH_OK) rc = gh_db_commit(&s->db);
    if (rc != GH_OK) {
        gh_db_rollback(&s->db);
        gh_c2d_msg_cleanup(&m);
        return rc;
    }
    if (row) *out = m;
    *found = row;
    if (expired != NULL) *expired = gone;
    return GH_OK;
}

gh_err gh_store_c2d_complete(struct gh_store *s, const char *device_id, int64_t seq,
                             enum gh_c2d_ack *ack, char *msgid)
{
    sqlite3_stmt *st;
    bool row;
    char key[GH_STORE_KEY_TEXT_MAX];
    struct gh_db_row r = {"c2d", gh_store_i_key(key, device_id, NULL), false};
    char id[GH_C2D_MSGID_MAX + 1] = "";
    int64_t a = 0;
    s->db.err[0] = '\0';
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_C2D_COMPLETE, &st));
    gh_err rc = gh_db_bind_int(&s->db, st, 1, seq);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 2, device_id);
    if (rc == GH_OK) rc = gh_db_step(&s->db, st, &row, "complete c2d");
    if (rc == GH_OK && row) rc = gh_db_col_text(&s->db, st, 0, &r, "message_id", id, sizeof id);
    if (rc == GH_OK && row) rc = gh_db_col_int(&s->db, st, 1, &r, "ack", 0, GH_C2D_ACK_FULL, &a);
    /* Finish the statement so the delete is done (RETURNING yields first). */
    if (rc == GH_OK && row) rc = gh_db_exec(&s->db, st, "complete c2d");
    gh_db_done(st);
    GH_GUARD(rc);
    if (!row)
        return gh_db_fail(&s->db, GH_ERR_NOT_FOUND, "message %lld of %s is not queued",
                          (long long)seq, key);
    if (ack != NULL) *ack = (enum gh_c2d_ack)a;
    if (msgid != NULL) memcpy(msgid, id, strlen(id) + 1);
    return GH_OK;
}

gh_err gh_store_c2d_unlock_all(struct gh_store *s, const char *device_id)
{
    sqlite3_stmt *st;
    s->db.err[0] = '\0';
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_C2D_UNLOCK, &st));
    gh_err rc = gh_db_bind_text(&s->db, st, 1, device_id);
    if (rc == GH_OK) rc = gh_db_exec(&s->db, st, "unlock c2d");
    return rc;
}

gh_err gh_store_c2d_count(struct gh_store *s, const char *device_id, uint32_t *n)
{
    s->db.err[0] = '\0';
    return count(s, device_id, gh_store_now(s), n);
}

gh_err gh_store_c2d_purge(struct gh_store *s, const char *device_id, uint32_t *n)
{
    sqlite3_stmt *st;
    s->db.err[0] = '\0';
    GH_GUARD(device_exists(s, device_id));
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_C2D_PURGE, &st));
    gh_err rc = gh_db_bind_text(&s->db, st, 1, device_id);
    if (rc == GH_OK) rc = gh_db_exec(&s->db, st, "purge c2d");
    if (rc == GH_OK && n != NULL) *n = (uint32_t)sqlite3_changes(s->db.h);
    return rc;
}
