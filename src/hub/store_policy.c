/* Shared access policies (PROTOCOL.md 2.6). */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "hub/store_internal.h"
#include "iothub/crypto.h"

static const struct {
    const char *name;
    uint32_t rights;
} defaults[] = {
    {"iothubowner", GH_RIGHT_ALL},
    {"service", GH_RIGHT_SERVICE_CONNECT},
    {"device", GH_RIGHT_DEVICE_CONNECT},
    {"registryRead", GH_RIGHT_REGISTRY_READ},
    {"registryReadWrite", GH_RIGHT_REGISTRY_READ | GH_RIGHT_REGISTRY_WRITE},
};

void gh_policy_wipe(struct gh_policy *p)
{
    if (p != NULL) gh_secure_zero(p, sizeof *p);
}

bool gh_store_i_valid_name(const char *n, size_t max)
{
    size_t len = strlen(n);
    if (len == 0 || len > max) return false;
    for (size_t i = 0; i < len; i++) {
        char c = n[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok) return false;
    }
    return true;
}

static gh_err bind_policy(struct gh_store *s, sqlite3_stmt *st, const struct gh_policy *p)
{
    gh_err rc = gh_db_bind_text(&s->db, st, 1, p->name);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 2, p->primary_key);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 3, p->secondary_key);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 4, p->rights);
    return rc;
}

static gh_err gen_key(char out[GH_IDENTITY_KEY_MAX + 1])
{
    struct gh_writer w;
    gh_writer_init(&w, out, GH_IDENTITY_KEY_MAX + 1);
    GH_GUARD(gh_generate_key_b64(GH_SYMKEY_DEFAULT_LEN, &w));
    return gh_writer_terminate(&w);
}

gh_err gh_store_ensure_default_policies(struct gh_store *s, unsigned *created)
{
    struct gh_policy p;
    unsigned made = 0;
    s->db.err[0] = '\0';
    gh_err rc = gh_db_begin(&s->db);
    for (size_t i = 0; rc == GH_OK && i < sizeof defaults / sizeof defaults[0]; i++) {
        sqlite3_stmt *st;
        memset(&p, 0, sizeof p);
        snprintf(p.name, sizeof p.name, "%s", defaults[i].name);
        p.rights = defaults[i].rights;
        rc = gen_key(p.primary_key);
        if (rc == GH_OK) rc = gen_key(p.secondary_key);
        if (rc != GH_OK) {
            rc = gh_db_fail(&s->db, rc, "cannot generate a policy key");
            break;
        }
        rc = gh_db_stmt(&s->db, GH_STMT_POLICY_ADD, &st);
        if (rc == GH_OK) rc = bind_policy(s, st, &p);
        if (rc == GH_OK) rc = gh_db_exec(&s->db, st, "add policy");
        if (rc == GH_OK && sqlite3_changes(s->db.h) > 0) made++;
        sqlite3_clear_bindings(st);
    }
    gh_policy_wipe(&p);
    if (rc == GH_OK) rc = gh_db_commit(&s->db);
    if (rc != GH_OK) {
        gh_db_rollback(&s->db);
        return rc;
    }
    if (made > 0) gh_log_info("store.policies", "created=%u", made);
    if (created != NULL) *created = made;
    return GH_OK;
}

static gh_err read_policy(struct gh_store *s, sqlite3_stmt *st, struct gh_policy *out)
{
    char key[GH_STORE_KEY_TEXT_MAX];
    const char *n = (const char *)sqlite3_column_text(st, 0);
    struct gh_db_row r = {"policy", gh_store_i_key(key, n != NULL ? n : "?", NULL), false};
    struct gh_policy p;
    int64_t rights = 0;
    gh_err rc = gh_db_col_text(&s->db, st, 0, &r, "name", p.name, sizeof p.name);
    if (rc == GH_OK)
        rc = gh_db_col_text(&s->db, st, 1, &r, "primary_key", p.primary_key, sizeof p.primary_key);
    if (rc == GH_OK)
        rc = gh_db_col_text(&s->db, st, 2, &r, "secondary_key", p.secondary_key,
                            sizeof p.secondary_key);
    if (rc == GH_OK) rc = gh_db_col_int(&s->db, st, 3, &r, "rights", 1, GH_RIGHT_MASK, &rights);
    if (rc == GH_OK &&
        (!gh_identity_key_valid(p.primary_key) || !gh_identity_key_valid(p.secondary_key)))
        rc = gh_db_bad_row(&s->db, &r, "primary_key/secondary_key", "is not a valid key");
    if (rc == GH_OK) {
        p.rights = (uint32_t)rights;
        *out = p;
    }
    gh_policy_wipe(&p);
    return rc;
}

gh_err gh_store_policy_get(struct gh_store *s, const char *name, struct gh_policy *out)
{
    sqlite3_stmt *st;
    bool row;
    char key[GH_STORE_KEY_TEXT_MAX];
    s->db.err[0] = '\0';
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_POLICY_GET, &st));
    gh_err rc = gh_db_bind_text(&s->db, st, 1, name);
    if (rc == GH_OK) rc = gh_db_step(&s->db, st, &row, "get policy");
    if (rc == GH_OK && row) rc = read_policy(s, st, out);
    gh_db_done(st);
    GH_GUARD(rc);
    if (!row)
        return gh_db_fail(&s->db, GH_ERR_NOT_FOUND, "policy %s does not exist",
                          gh_store_i_key(key, name, NULL));
    return GH_OK;
}

gh_err gh_store_policy_put(struct gh_store *s, const struct gh_policy *p)
{
    sqlite3_stmt *st;
    s->db.err[0] = '\0';
    if (!gh_store_i_valid_name(p->name, GH_POLICY_NAME_MAX))
        return gh_db_fail(&s->db, GH_ERR_ARG,
                          "policy name must be 1 to %d letters, digits, '-', '_' or '.'",
                          GH_POLICY_NAME_MAX);
    if (!gh_identity_key_valid(p->primary_key) || !gh_identity_key_valid(p->secondary_key))
        return gh_db_fail(&s->db, GH_ERR_ARG, "policy keys must be base64 of 16 to 64 bytes");
    if (p->rights == 0 || (p->rights & ~GH_RIGHT_MASK) != 0)
        return gh_db_fail(&s->db, GH_ERR_ARG, "policy rights must be a non-empty set");
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_POLICY_PUT, &st));
    gh_err rc = bind_policy(s, st, p);
    if (rc == GH_OK) rc = gh_db_exec(&s->db, st, "put policy");
    sqlite3_clear_bindings(st);
    return rc;
}

gh_err gh_store_policy_delete(struct gh_store *s, const char *name)
{
    sqlite3_stmt *st;
    char key[GH_STORE_KEY_TEXT_MAX];
    s->db.err[0] = '\0';
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_POLICY_DEL, &st));
    gh_err rc = gh_db_bind_text(&s->db, st, 1, name);
    if (rc == GH_OK) rc = gh_db_exec(&s->db, st, "delete policy");
    if (rc == GH_OK && sqlite3_changes(s->db.h) == 0)
        rc = gh_db_fail(&s->db, GH_ERR_NOT_FOUND, "policy %s does not exist",
                        gh_store_i_key(key, name, NULL));
    return rc;
}

gh_err gh_store_policy_list(struct gh_store *s, struct gh_policy *out, size_t cap, size_t *n)
{
    sqlite3_stmt *st;
    size_t k = 0;
    s->db.err[0] = '\0';
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_POLICY_LIST, &st));
    gh_err rc = GH_OK;
    while (rc == GH_OK && k < cap) {
        bool row;
        rc = gh_db_step(&s->db, st, &row, "list policies");
        if (rc != GH_OK || !row) break;
        rc = read_policy(s, st, &out[k]);
        if (rc == GH_OK) k++;
    }
    gh_db_done(st);
    if (rc != GH_OK) {
        for (size_t i = 0; i < k; i++) gh_policy_wipe(&out[i]);
        return rc;
    }
    *n = k;
    return GH_OK;
}
