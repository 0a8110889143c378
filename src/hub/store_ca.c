/* CA certificates registered with the hub (PROTOCOL.md 3.2, 3.3). */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "hub/store_internal.h"

static gh_err bad_name(struct gh_store *s)
{
    return gh_db_fail(&s->db, GH_ERR_ARG,
                      "certificate name must be 1 to %d letters, digits, '-', '_' or '.'",
                      GH_CA_NAME_MAX);
}

static gh_err not_found(struct gh_store *s, const char *name)
{
    char key[GH_STORE_KEY_TEXT_MAX];
    return gh_db_fail(&s->db, GH_ERR_NOT_FOUND, "certificate %s does not exist",
                      gh_store_i_key(key, name, NULL));
}

static bool upper_hex(const char *t, size_t n)
{
    if (strlen(t) != n) return false;
    for (size_t i = 0; i < n; i++)
        if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'A' && t[i] <= 'F'))) return false;
    return true;
}

/* Columns 0..7 of CA_GET / CA_LIST. */
static gh_err read_record(struct gh_store *s, sqlite3_stmt *st, struct gh_ca_record *out)
{
    char key[GH_STORE_KEY_TEXT_MAX];
    const char *n = (const char *)sqlite3_column_text(st, 0);
    struct gh_db_row r = {"ca_cert", gh_store_i_key(key, n != NULL ? n : "?", NULL), false};
    struct gh_ca_record c;
    int64_t v[3] = {0, 0, 0};
    gh_err rc = gh_db_col_text(&s->db, st, 0, &r, "name", c.name, sizeof c.name);
    if (rc == GH_OK)
        rc = gh_db_col_text(&s->db, st, 1, &r, "sha1", c.info.sha1, sizeof c.info.sha1);
    if (rc == GH_OK)
        rc = gh_db_col_text(&s->db, st, 2, &r, "sha256", c.info.sha256, sizeof c.info.sha256);
    if (rc == GH_OK)
        rc = gh_db_col_text(&s->db, st, 3, &r, "subject", c.info.subject, sizeof c.info.subject);
    if (rc == GH_OK)
        rc = gh_db_col_int(&s->db, st, 4, &r, "not_after_ms", INT64_MIN, INT64_MAX, &v[0]);
    if (rc == GH_OK) rc = gh_db_col_int(&s->db, st, 5, &r, "verified", 0, 1, &v[1]);
    if (rc == GH_OK)
        rc = gh_db_col_text(&s->db, st, 6, &r, "verification_code", c.code, sizeof c.code);
    if (rc == GH_OK) rc = gh_db_col_int(&s->db, st, 7, &r, "created_ms", 0, INT64_MAX, &v[2]);
    GH_GUARD(rc);
    if (!upper_hex(c.info.sha1, GH_CA_SHA1_HEX) || !upper_hex(c.info.sha256, GH_CA_SHA256_HEX))
        return gh_db_bad_row(&s->db, &r, "sha1/sha256", "is not an upper-case hex thumbprint");
    if (!upper_hex(c.code, GH_CA_CODE_LEN))
        return gh_db_bad_row(&s->db, &r, "verification_code", "is not a verification code");
    c.info.not_after_ms = v[0];
    c.verified = v[1] != 0;
    c.created_ms = v[2];
    *out = c;
    return GH_OK;
}

gh_err gh_store_ca_add(struct gh_store *s, const char *name, const char *pem, size_t pem_len,
                       struct gh_ca_record *out)
{
    struct gh_ca_record c;
    sqlite3_stmt *st;
    s->db.err[0] = '\0';
    if (!gh_store_i_valid_name(name, GH_CA_NAME_MAX)) return bad_name(s);
    gh_err rc = gh_ca_inspect(pem, pem_len, &c.info);
    if (rc != GH_OK)
        return gh_db_fail(&s->db, rc, "certificate %s: %s", name,
                          rc == GH_ERR_NOT_CA ? "is not a CA certificate"
                                              : "is not a usable PEM certificate");
    memset(c.name, 0, sizeof c.name);
    memcpy(c.name, name, strlen(name));
    c.verified = false;
    c.created_ms = gh_store_now(s);
    rc = gh_ca_new_code(c.code);
    if (rc != GH_OK) return gh_db_fail(&s->db, rc, "random generator failed");
    /* Store the PEM as text up to its end (it need not be NUL-terminated). */
    char *text = malloc(pem_len + 1);
    if (text == NULL) return gh_db_fail(&s->db, GH_ERR_NOMEM, "out of memory");
    memcpy(text, pem, pem_len);
    text[pem_len] = '\0';
    if (strlen(text) != pem_len || !gh_utf8_valid((const uint8_t *)text, pem_len)) {
        free(text);
        return gh_db_fail(&s->db, GH_ERR_MALFORMED, "certificate %s: PEM is not text", name);
    }
    rc = gh_db_stmt(&s->db, GH_STMT_CA_INSERT, &st);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 1, c.name);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 2, c.info.sha1);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 3, c.info.sha256);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 4, c.info.subject);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 5, c.info.not_after_ms);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 6, c.code);
    if (rc == GH_OK) rc = gh_db_bind_int(&s->db, st, 7, c.created_ms);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 8, text);
    free(text);
    if (rc != GH_OK) return rc;
    int src = sqlite3_step(st);
    gh_db_done(st);
    if ((src & 0xff) == SQLITE_CONSTRAINT)
        return gh_db_fail(&s->db, GH_ERR_CONFLICT, "certificate %s already exists", name);
    if (src != SQLITE_DONE) return gh_db_sqlite(&s->db, src, "add certificate");
    gh_log_info("store.ca.add", "name=%s sha256=%s", c.name, c.info.sha256);
    if (out != NULL) *out = c;
    return GH_OK;
}

gh_err gh_store_ca_get(struct gh_store *s, const char *name, struct gh_ca_record *out, char **pem,
                       size_t *pem_len)
{
    sqlite3_stmt *st;
    bool row;
    struct gh_ca_record c;
    char *text = NULL;
    s->db.err[0] = '\0';
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_CA_GET, &st));
    gh_err rc = gh_db_bind_text(&s->db, st, 1, name);
    if (rc == GH_OK) rc = gh_db_step(&s->db, st, &row, "get certificate");
    if (rc == GH_OK && row) rc = read_record(s, st, &c);
    if (rc == GH_OK && row && pem != NULL) {
        char key[GH_STORE_KEY_TEXT_MAX];
        struct gh_db_row r = {"ca_cert", gh_store_i_key(key, c.name, NULL), false};
        size_t cap = GH_CA_PEM_MAX + 1;
        text = malloc(cap);
        if (text == NULL)
            rc = gh_db_fail(&s->db, GH_ERR_NOMEM, "out of memory");
        else
            rc = gh_db_col_text(&s->db, st, 8, &r, "pem", text, cap);
    }
    gh_db_done(st);
    if (rc == GH_OK && !row) rc = not_found(s, name);
    if (rc != GH_OK) {
        free(text);
        return rc;
    }
    if (out != NULL) *out = c;
    if (pem != NULL) {
        *pem = text;
        if (pem_len != NULL) *pem_len = strlen(text);
    }
    return GH_OK;
}

gh_err gh_store_ca_list(struct gh_store *s, struct gh_ca_record *out, size_t cap, size_t *n)
{
    sqlite3_stmt *st;
    size_t k = 0;
    s->db.err[0] = '\0';
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_CA_LIST, &st));
    gh_err rc = GH_OK;
    while (rc == GH_OK && k < cap) {
        bool row;
        rc = gh_db_step(&s->db, st, &row, "list certificates");
        if (rc != GH_OK || !row) break;
        rc = read_record(s, st, &out[k]);
        if (rc == GH_OK) k++;
    }
    gh_db_done(st);
    GH_GUARD(rc);
    *n = k;
    return GH_OK;
}

gh_err gh_store_ca_delete(struct gh_store *s, const char *name)
{
    sqlite3_stmt *st;
    s->db.err[0] = '\0';
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_CA_DEL, &st));
    gh_err rc = gh_db_bind_text(&s->db, st, 1, name);
    if (rc == GH_OK) rc = gh_db_exec(&s->db, st, "delete certificate");
    if (rc == GH_OK && sqlite3_changes(s->db.h) == 0) rc = not_found(s, name);
    return rc;
}

gh_err gh_store_ca_regenerate_code(struct gh_store *s, const char *name, struct gh_ca_record *out)
{
    sqlite3_stmt *st;
    char code[GH_CA_CODE_LEN + 1];
    s->db.err[0] = '\0';
    gh_err rc = gh_ca_new_code(code);
    if (rc != GH_OK) return gh_db_fail(&s->db, rc, "random generator failed");
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_CA_SET_CODE, &st));
    rc = gh_db_bind_text(&s->db, st, 1, name);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 2, code);
    if (rc == GH_OK) rc = gh_db_exec(&s->db, st, "set verification code");
    if (rc == GH_OK && sqlite3_changes(s->db.h) == 0) rc = not_found(s, name);
    GH_GUARD(rc);
    if (out != NULL) return gh_store_ca_get(s, name, out, NULL, NULL);
    return GH_OK;
}

gh_err gh_store_ca_mark_verified(struct gh_store *s, const char *name, const char *code)
{
    sqlite3_stmt *st;
    struct gh_ca_record c;
    s->db.err[0] = '\0';
    GH_GUARD(gh_db_stmt(&s->db, GH_STMT_CA_SET_VERIFIED, &st));
    gh_err rc = gh_db_bind_text(&s->db, st, 1, name);
    if (rc == GH_OK) rc = gh_db_bind_text(&s->db, st, 2, code);
    if (rc == GH_OK) rc = gh_db_exec(&s->db, st, "mark verified");
    GH_GUARD(rc);
    if (sqlite3_changes(s->db.h) > 0) {
        char key[GH_STORE_KEY_TEXT_MAX];
        gh_log_info("store.ca.verified", "name=%s", gh_store_i_key(key, name, NULL));
        return GH_OK;
    }
    /* Missing, or the code changed since the caller read it. */
    GH_GUARD(gh_store_ca_get(s, name, &c, NULL, NULL));
    return gh_db_fail(&s->db, GH_ERR_CONFLICT, "certificate %s: the verification code has changed",
                      c.name);
}

gh_err gh_store_ca_prove(struct gh_store *s, const char *name, const char *cert_pem,
                         size_t cert_len)
{
    struct gh_ca_record c;
    char *pem = NULL;
    size_t pem_len = 0;
    GH_GUARD(gh_store_ca_get(s, name, &c, &pem, &pem_len));
    gh_err rc = gh_ca_verify_possession(pem, pem_len, cert_pem, cert_len, c.code);
    free(pem);
    if (rc != GH_OK)
        return gh_db_fail(&s->db, rc,
                          "certificate %s: proof of possession failed (the verification "
                          "certificate must have CN=%s and be signed by the CA key)",
                          c.name, c.code);
    return gh_store_ca_mark_verified(s, name, c.code);
}
