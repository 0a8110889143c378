/* Connection state (PROTOCOL.md 5.5) and persistent MQTT sessions (1.5 item 2). */
#include <string.h>

#include "common/buf.h"

#include "hub/store_internal.h"

static const char *mod_or_empty(const char *m)
{
    return m != NULL ? m : "";
}

gh_err gh_store_session_save(struct gh_store *s, const char *device_id, const char *module_id,
                             const struct gh_session *ss)
{
    sqlite3_stmt *st;
    char key[GH_STORE_KEY_TEXT_MAX];
    s->db.err[0] = '\0';
    if ((ss->subscribed & ~GH_SESSION_ALL) != 0 || (ss->qos1 & ~ss->subscribed) != 0)
        return gh_db_fail(&s->db, GH_ERR_ARG, "invalid session feature bits");
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_SESSION_PUT, &st));
    gh_err rc = gh_db_bind_text(&s->db, st, 1, device_id);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 2, mod_or_empty(module_id));
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 3, ss->subscribed);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 4, ss->qos1);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 5, gh_store_now(s));
    if (rc != GH_OK) return rc;
    int src = sqlite3_step(st);
    gh_db_done(st);
    if (src == SQLITE_CONSTRAINT_FOREIGNKEY)
        return gh_db_fail(&s->db, GH_ERR_NOT_FOUND, "%s is not registered",
                          gh_store_i_key(key, device_id, module_id));
    if (src != SQLITE_DONE) return gh_db_sqlite(&s->db, src, "save session");
    return GH_OK;
}

gh_err gh_store_session_load(struct gh_store *s, const char *device_id, const char *module_id,
                             struct gh_session *out, bool *present)
{
    sqlite3_stmt *st;
    bool row;
    char key[GH_STORE_KEY_TEXT_MAX];
    struct gh_db_row r = {"session", gh_store_i_key(key, device_id, module_id), false};
    int64_t sub = 0, q1 = 0;
    s->db.err[0] = '\0';
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_SESSION_GET, &st));
    gh_err rc = gh_db_bind_text(&s->db, st, 1, device_id);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 2, mod_or_empty(module_id));
    if (rc == GH_OK) rc = gh_db_step(&s->db, st, &row, "load session");
    if (rc == GH_OK && row)
        rc = gh_db_col_int(&s->db, st, 0, &r, "subscribed", 0, GH_SESSION_ALL, &sub);
    if (rc == GH_OK && row) rc = gh_db_col_int(&s->db, st, 1, &r, "qos1", 0, GH_SESSION_ALL, &q1);
    gh_db_done(st);
    GH_GUARD(rc);
    if (row && (q1 & ~sub) != 0) return gh_db_bad_row(&s->db, &r, "qos1", "has unsubscribed bits");
    out->subscribed = row ? (uint32_t)sub : 0;
    out->qos1 = row ? (uint32_t)q1 : 0;
    *present = row;
    return GH_OK;
}

gh_err gh_store_session_clear(struct gh_store *s, const char *device_id, const char *module_id)
{
    sqlite3_stmt *st;
    s->db.err[0] = '\0';
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_SESSION_DEL, &st));
    gh_err rc = gh_db_bind_text(&s->db, st, 1, device_id);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 2, mod_or_empty(module_id));
    if (rc == GH_OK) rc = gh_db_exec_volatile(&s->db, st, "clear session");
    return rc;
}

gh_err gh_store_set_connected(struct gh_store *s, const char *device_id, const char *module_id,
                              bool connected, const char *model_id)
{
    sqlite3_stmt *st;
    char key[GH_STORE_KEY_TEXT_MAX];
    s->db.err[0] = '\0';
    GH_GUARD(gh_store_i_check_ids(s, device_id, module_id));
    const char *mid = model_id != NULL ? model_id : "";
    if (strlen(mid) > GH_IDENTITY_MODEL_ID_MAX)
        return gh_db_fail(&s->db, GH_ERR_TOO_LARGE, "model id longer than %d bytes",
                          GH_IDENTITY_MODEL_ID_MAX);
    if (!gh_utf8_valid((const uint8_t *)mid, strlen(mid)))
        return gh_db_fail(&s->db, GH_ERR_ARG, "model id is not UTF-8");
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_ID_SET_CONN, &st));
    gh_err rc = gh_db_bind_text(&s->db, st, 1, device_id);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 2, mod_or_empty(module_id));
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 3, connected ? 1 : 0);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 4, gh_store_now(s));
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 5, mid);
    if (rc == GH_OK) rc = gh_db_exec_volatile(&s->db, st, "set connection state");
    if (rc == GH_OK && sqlite3_changes(s->db.h) == 0)
        rc = gh_db_fail(&s->db, GH_ERR_NOT_FOUND, "%s is not registered",
                        gh_store_i_key(key, device_id, module_id));
    return rc;
}

gh_err gh_store_touch_activity(struct gh_store *s, const char *device_id, const char *module_id)
{
    sqlite3_stmt *st;
    s->db.err[0] = '\0';
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_ID_TOUCH, &st));
    gh_err rc = gh_db_bind_text(&s->db, st, 1, device_id);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 2, mod_or_empty(module_id));
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 3, gh_store_now(s));
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 4, GH_STORE_ACTIVITY_INTERVAL_MS);
    if (rc == GH_OK) rc = gh_db_exec_volatile(&s->db, st, "touch activity");
    return rc;
}

gh_err gh_store_reset_connections(struct gh_store *s, uint64_t *n)
{
    sqlite3_stmt *st;
    s->db.err[0] = '\0';
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_ID_RESET_CONN, &st));
    gh_err rc = gh_db_bind_int(&s->db, st, 1, gh_store_now(s));
    if (rc == GH_OK) rc = gh_db_exec(&s->db, st, "reset connections");
    if (rc == GH_OK && n != NULL) *n = (uint64_t)sqlite3_changes64(s->db.h);
    return rc;
}

uint32_t gh_session_feature_bit(enum gh_iothub_filter_kind k)
{
    switch (k) {
    case GH_IOTHUB_FILTER_C2D:
        return GH_SESSION_C2D;
    case GH_IOTHUB_FILTER_TWIN_RESPONSES:
        return GH_SESSION_TWIN_RESPONSE;
    case GH_IOTHUB_FILTER_TWIN_DESIRED:
        return GH_SESSION_TWIN_DESIRED;
    case GH_IOTHUB_FILTER_METHODS:
        return GH_SESSION_METHODS;
    case GH_IOTHUB_FILTER_MODULE_INPUTS:
        return GH_SESSION_INPUTS;
    default:
        return 0;
    }
}
