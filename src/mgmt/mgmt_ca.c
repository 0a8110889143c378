/* `gatehouse ca add|list|show|verify|delete`: CA certificates registered
 * with the hub and their proof of possession (docs/hub-rest.md). `verify
 * --ca-key` makes the verification certificate here with the PKI library
 * (the VERIFICATION profile), so the CA key never leaves this machine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mgmt/mgmt_int.h"
#include "pki/pki.h"
#include "pki/pki_cert.h"
#include "pki/pki_info.h"
#include "pki/pki_key.h"
#include "pki/pki_store.h"

#define RR GH_MGMT_RIGHT_REGISTRY_READ
#define RW GH_MGMT_RIGHT_REGISTRY_WRITE

/* Longest verification code accepted from the hub (it is a CN). */
#define CODE_MAX 64

/* "/certificates/NAME[/action]". */
static gh_err ca_target(struct gh_mgmt_ctx *c, const char *name, const char *action, char *out,
                        size_t cap)
{
    const char *segs[] = {"certificates", name, action};
    const struct gh_mgmt_query q[] = {{"api-version", GH_MGMT_API_VERSION}};
    if (name[0] == '\0') return gh_mgmt_fail(c, GH_ERR_ARG, "the CA name is empty");
    gh_err rc = gh_mgmt_target(out, cap, segs, action ? 3 : 2, q, 1);
    if (rc != GH_OK) return gh_mgmt_fail(c, GH_ERR_ARG, "CA name too long");
    return GH_OK;
}

/* The first certificate of a file, its PEM (caller frees) and X509 (caller
 * frees; may be NULL when not wanted). */
static gh_err load_cert(struct gh_mgmt_ctx *c, const char *opt, const char *path, char **pem,
                        X509 **cert)
{
    struct gh_pki_certs l = {0};
    struct gh_pki_diag diag = {{0}};
    size_t len = 0;
    gh_err rc = gh_pki_certs_load(&l, path, &diag);
    if (rc == GH_OK) rc = gh_pki_cert_pem(l.v[0], pem, &len);
    if (rc == GH_OK && cert != NULL) {
        *cert = l.v[0];
        X509_up_ref(*cert);
    }
    gh_pki_certs_cleanup(&l);
    /* A file without a certificate is a bad argument, not a missing resource. */
    if (rc == GH_ERR_NOT_FOUND) rc = GH_ERR_ARG;
    if (rc != GH_OK)
        return gh_mgmt_fail(c, rc, "%s %s: %s", opt, path, diag.msg[0] ? diag.msg : gh_err_str(rc));
    return GH_OK;
}

gh_err gh_mgmt_cert_pem(struct gh_mgmt_ctx *c, const char *opt, const char *path, char **pem,
                        bool *is_ca)
{
    X509 *cert = NULL;
    GH_GUARD(load_cert(c, opt, path, pem, &cert));
    if (is_ca != NULL) *is_ca = gh_pki_cert_is_ca(cert);
    X509_free(cert);
    return GH_OK;
}

static void print_ca(struct gh_mgmt_ctx *c, const json_t *ca)
{
    if (c->json) {
        gh_mgmt_print_json(c->out, ca, false);
        return;
    }
    gh_mgmt_print_ca(c->out, ca);
    const json_t *p = json_object_get(ca, "properties");
    if (!json_is_true(json_object_get(p, "isVerified"))) {
        fprintf(c->out, "not verified yet: prove possession with\n  gatehouse ca verify ");
        const char *name = json_string_value(json_object_get(ca, "name"));
        gh_mgmt_put_safe(c->out, name ? name : "NAME", strlen(name ? name : "NAME"));
        fprintf(c->out, " --ca-key CA.key.pem\n");
    }
}

/* POST/PUT/GET one certificate resource, expect a description back. */
static gh_err ca_call(struct gh_mgmt_ctx *c, const char *method, const char *name,
                      const char *action, const char *right, const json_t *body, json_t **out)
{
    char target[GH_MGMT_PATH_MAX];
    GH_GUARD(ca_target(c, name, action, target, sizeof target));
    char *text = NULL;
    if (body != NULL && (text = json_dumps(body, JSON_COMPACT)) == NULL)
        return gh_mgmt_fail(c, GH_ERR_NOMEM, "out of memory");
    struct gh_mgmt_req rq = {
        .method = method,
        .target = target,
        .right = right,
        .content_type = text ? "application/json; charset=utf-8" : NULL,
        .body = text,
        .body_len = text ? strlen(text) : 0,
    };
    json_t *res = NULL;
    gh_err rc = gh_mgmt_call_json(c, &rq, &res);
    free(text);
    if (rc == GH_OK && !json_is_object(res))
        rc = gh_mgmt_fail(c, GH_ERR_MALFORMED, "the hub answered without a certificate");
    if (rc != GH_OK) {
        json_decref(res);
        return rc;
    }
    *out = res;
    return GH_OK;
}

gh_err gh_mgmt_ca_add(struct gh_mgmt_ctx *c)
{
    const char *path = c->a.val[GH_MOPT_CERT];
    if (path == NULL) return gh_mgmt_fail(c, GH_ERR_USAGE, "give the CA certificate: --cert FILE");
    char *pem = NULL;
    X509 *cert = NULL;
    GH_GUARD(load_cert(c, "--cert", path, &pem, &cert));
    gh_err rc = GH_OK;
    if (!gh_pki_cert_is_ca(cert))
        rc = gh_mgmt_fail(c, GH_ERR_NOT_CA,
                          "--cert %s is not a CA certificate (it needs basicConstraints CA:TRUE "
                          "and keyCertSign)",
                          path);
    X509_free(cert);
    json_t *body = rc == GH_OK ? json_pack("{s:{s:s}}", "properties", "certificate", pem) : NULL;
    free(pem);
    if (rc == GH_OK && body == NULL) rc = gh_mgmt_fail(c, GH_ERR_NOMEM, "out of memory");
    json_t *res = NULL;
    if (rc == GH_OK) rc = ca_call(c, "PUT", c->a.pos[0], NULL, RW, body, &res);
    json_decref(body);
    if (rc == GH_OK) print_ca(c, res);
    json_decref(res);
    return rc;
}

gh_err gh_mgmt_ca_list(struct gh_mgmt_ctx *c)
{
    char target[GH_MGMT_PATH_MAX];
    const char *segs[] = {"certificates"};
    const struct gh_mgmt_query q[] = {{"api-version", GH_MGMT_API_VERSION}};
    GH_GUARD(gh_mgmt_target(target, sizeof target, segs, 1, q, 1));
    struct gh_mgmt_req rq = {.method = "GET", .target = target, .right = RR};
    json_t *res = NULL;
    gh_err rc = gh_mgmt_call_json(c, &rq, &res);
    json_t *arr = json_object_get(res, "value");
    if (rc == GH_OK && !json_is_array(arr))
        rc = gh_mgmt_fail(c, GH_ERR_MALFORMED, "the hub answered without a certificate list");
    if (rc == GH_OK) {
        if (c->json)
            gh_mgmt_print_json(c->out, res, false);
        else
            gh_mgmt_print_ca_table(c->out, arr);
    }
    json_decref(res);
    return rc;
}

gh_err gh_mgmt_ca_show(struct gh_mgmt_ctx *c)
{
    json_t *res = NULL;
    GH_GUARD(ca_call(c, "GET", c->a.pos[0], NULL, RR, NULL, &res));
    print_ca(c, res);
    json_decref(res);
    return GH_OK;
}

gh_err gh_mgmt_ca_delete(struct gh_mgmt_ctx *c)
{
    char target[GH_MGMT_PATH_MAX];
    GH_GUARD(ca_target(c, c->a.pos[0], NULL, target, sizeof target));
    struct gh_mgmt_req rq = {
        .method = "DELETE", .target = target, .right = RW, .if_match = "\"*\""};
    struct gh_http_response r;
    GH_GUARD(gh_mgmt_call(c, &rq, &r));
    gh_http_response_cleanup(&r);
    if (c->json) {
        json_t *j = json_pack("{s:s,s:b}", "name", c->a.pos[0], "deleted", 1);
        gh_mgmt_print_json(c->out, j, false);
        json_decref(j);
    } else {
        fprintf(c->out, "deleted CA certificate %s\n", c->a.pos[0]);
    }
    return GH_OK;
}

/* ---- verify ---------------------------------------------------------------------- */

/* certs/NAME.cert.pem beside a private/NAME.key.pem (the `gatehouse pki`
 * state directory layout). */
static bool default_ca_cert(const char *key, char *out, size_t cap)
{
    static const char priv[] = "private/", suffix[] = ".key.pem";
    const char *p = strstr(key, priv);
    while (p != NULL && p != key && p[-1] != '/') p = strstr(p + 1, priv);
    if (p == NULL) return false;
    const char *name = p + sizeof priv - 1;
    size_t n = strlen(name), s = sizeof suffix - 1;
    if (n <= s || strcmp(name + n - s, suffix) != 0 || strchr(name, '/') != NULL) return false;
    int m = snprintf(out, cap, "%.*scerts/%.*s.cert.pem", (int)(p - key), key, (int)(n - s), name);
    return m > 0 && (size_t)m < cap;
}

/* Issue the verification certificate for code with the CA key and cert. */
static gh_err make_verification_cert(struct gh_mgmt_ctx *c, X509 *ca_cert,
                                     const struct gh_pki_key *ca_key, const char *code, char **pem)
{
    struct gh_pki_key *key = NULL;
    EVP_PKEY *pub = NULL;
    X509 *cert = NULL;
    struct gh_pki_diag diag = {{0}};
    struct gh_pki_issue_req req;
    gh_pki_issue_req_init(&req, GH_PKI_PROFILE_VERIFICATION);
    req.cn = code;
    struct gh_pki_issuer issuer = {.cert = ca_cert, .key = ca_key};
    /* The subject key only exists to make the certificate; it is dropped. */
    gh_err rc = gh_pki_key_generate(GH_PKI_KEY_TYPE_DEFAULT, &key);
    if (rc == GH_OK) rc = gh_pki_key_public(key, &pub);
    if (rc == GH_OK) rc = gh_pki_issue(&req, &issuer, pub, &cert, NULL, &diag);
    size_t len = 0;
    if (rc == GH_OK) rc = gh_pki_cert_pem(cert, pem, &len);
    X509_free(cert);
    EVP_PKEY_free(pub);
    gh_pki_key_free(key);
    if (rc != GH_OK)
        return gh_mgmt_fail(c, rc, "cannot make the verification certificate: %s",
                            diag.msg[0] ? diag.msg : gh_err_str(rc));
    return GH_OK;
}

/* --ca-key: the registered CA must be this certificate; get a code, sign. */
static gh_err verify_with_key(struct gh_mgmt_ctx *c, const char *name, char **pem)
{
    const char *key_path = c->a.val[GH_MOPT_CA_KEY];
    char cert_path[GH_PKI_PATH_MAX];
    if (c->a.val[GH_MOPT_CA_CERT])
        snprintf(cert_path, sizeof cert_path, "%s", c->a.val[GH_MOPT_CA_CERT]);
    else if (!default_ca_cert(key_path, cert_path, sizeof cert_path))
        return gh_mgmt_fail(c, GH_ERR_USAGE, "give the CA certificate with --ca-cert FILE");
    struct gh_pki_secret pw = {0};
    struct gh_pki_diag diag = {{0}};
    struct gh_pki_key *key = NULL;
    X509 *cert = NULL;
    char *ca_pem = NULL;
    json_t *desc = NULL;
    gh_err rc = c->a.val[GH_MOPT_CA_PASSWORD_FILE]
                    ? gh_pki_password_file(c->a.val[GH_MOPT_CA_PASSWORD_FILE], &pw, &diag)
                    : gh_pki_password_env(GH_MGMT_ENV_CA_PASSWORD, &pw, &diag);
    if (rc == GH_OK) rc = gh_pki_key_load(key_path, &pw, &key, &diag);
    gh_pki_secret_cleanup(&pw);
    if (rc == GH_ERR_NOT_FOUND) rc = GH_ERR_ARG; /* no key in the file */
    if (rc != GH_OK) {
        rc = gh_mgmt_fail(c, rc, "--ca-key %s: %s%s", key_path,
                          diag.msg[0] ? diag.msg : gh_err_str(rc),
                          rc == GH_ERR_BAD_PASSWORD ? " (give --ca-password-file or "
                                                      "$" GH_MGMT_ENV_CA_PASSWORD ")"
                                                    : "");
        goto out;
    }
    rc = load_cert(c, "--ca-cert", cert_path, &ca_pem, &cert);
    if (rc != GH_OK) goto out;
    EVP_PKEY *pub = X509_get0_pubkey(cert);
    if (pub == NULL || gh_pki_key_matches(key, pub) != GH_OK) {
        rc = gh_mgmt_fail(c, GH_ERR_KEY_MISMATCH, "--ca-key %s does not belong to %s", key_path,
                          cert_path);
        goto out;
    }
    /* The certificate registered under name must be this one. */
    char tp[GH_PKI_SHA256_HEX_LEN + 1];
    rc = gh_pki_thumbprint(cert, true, tp, sizeof tp);
    if (rc != GH_OK) {
        rc = gh_mgmt_fail(c, rc, "cannot hash %s", cert_path);
        goto out;
    }
    rc = ca_call(c, "GET", name, NULL, RR, NULL, &desc);
    if (rc != GH_OK) goto out;
    const char *reg =
        json_string_value(json_object_get(json_object_get(desc, "properties"), "thumbprintSha256"));
    if (reg != NULL && strcasecmp(reg, tp) != 0) {
        rc = gh_mgmt_fail(c, GH_ERR_KEY_MISMATCH,
                          "%s is not the certificate registered as %s (SHA-256 %s, registered %s)",
                          cert_path, name, tp, reg);
        goto out;
    }
    json_decref(desc);
    desc = NULL;
    rc = ca_call(c, "POST", name, "generateVerificationCode", RW, NULL, &desc);
    if (rc != GH_OK) goto out;
    const char *code =
        json_string_value(json_object_get(json_object_get(desc, "properties"), "verificationCode"));
    if (code == NULL || code[0] == '\0' || strlen(code) > CODE_MAX) {
        rc = gh_mgmt_fail(c, GH_ERR_MALFORMED, "the hub gave no usable verification code");
        goto out;
    }
    rc = make_verification_cert(c, cert, key, code, pem);
out:
    json_decref(desc);
    free(ca_pem);
    X509_free(cert);
    gh_pki_key_free(key);
    return rc;
}

gh_err gh_mgmt_ca_verify(struct gh_mgmt_ctx *c)
{
    const char *name = c->a.pos[0];
    bool by_cert = c->a.val[GH_MOPT_VERIFICATION_CERT] != NULL;
    bool by_key = c->a.val[GH_MOPT_CA_KEY] != NULL;
    if (by_cert == by_key)
        return gh_mgmt_fail(c, GH_ERR_USAGE,
                            "give --verification-cert FILE, or --ca-key FILE to make one here");
    if (by_cert && (c->a.val[GH_MOPT_CA_CERT] || c->a.val[GH_MOPT_CA_PASSWORD_FILE]))
        return gh_mgmt_fail(c, GH_ERR_USAGE, "--ca-cert and --ca-password-file go with --ca-key");
    char *pem = NULL;
    gh_err rc = by_cert ? load_cert(c, "--verification-cert", c->a.val[GH_MOPT_VERIFICATION_CERT],
                                    &pem, NULL)
                        : verify_with_key(c, name, &pem);
    if (rc != GH_OK) return rc;
    json_t *body = json_pack("{s:s}", "certificate", pem);
    free(pem);
    if (body == NULL) return gh_mgmt_fail(c, GH_ERR_NOMEM, "out of memory");
    json_t *res = NULL;
    rc = ca_call(c, "POST", name, "verify", RW, body, &res);
    json_decref(body);
    if (rc == GH_ERR_CERT_VERIFY || rc == GH_ERR_ARG)
        strncat(c->msg,
                " (the certificate must have CN = the current verification code and be signed "
                "by the CA)",
                sizeof c->msg - strlen(c->msg) - 1);
    if (rc != GH_OK) return rc;
    print_ca(c, res);
    json_decref(res);
    return GH_OK;
}
