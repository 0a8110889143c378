/* CA certificates registered with the hub, with the proof-of-possession
 * step (PROTOCOL.md 3.3; docs/hub-rest.md "CA certificates"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "hub/rest_int.h"
#include "hub/stamp.h"
#include "iothub/crypto.h"

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----\n"
#define PEM_END "-----END CERTIFICATE-----\n"
/* Base64 characters per PEM line. */
#define PEM_LINE 64

/* ---- pure parts ----------------------------------------------------------------- */

gh_err gh_hub_rest_cert_etag(const struct gh_ca_record *r, char *out)
{
    char text[GH_CA_SHA256_HEX + GH_CA_CODE_LEN + 8];
    int n = snprintf(text, sizeof text, "%s|%d|%s", r->info.sha256, r->verified ? 1 : 0, r->code);
    uint8_t h[GH_SHA256_LEN];
    GH_GUARD(gh_sha256(text, (size_t)n, h));
    uint64_t v = 0;
    for (size_t i = 0; i < 8; i++) v = v << 8 | h[i];
    gh_hub_etag_u64(v, out);
    return GH_OK;
}

gh_err gh_hub_rest_cert_json(const struct gh_ca_record *r, bool with_code, json_t **out)
{
    char etag[GH_HUB_ETAG8_LEN], expiry[GH_HUB_TIME_LEN], created[GH_HUB_TIME_LEN];
    GH_GUARD(gh_hub_rest_cert_etag(r, etag));
    gh_hub_time_format(r->info.not_after_ms, expiry);
    gh_hub_time_format(r->created_ms, created);
    json_t *p = json_pack("{s:s,s:s,s:s,s:s,s:b,s:s}", "subject", r->info.subject, "thumbprint",
                          r->info.sha1, "thumbprintSha256", r->info.sha256, "expiry", expiry,
                          "isVerified", r->verified, "created", created);
    if (p != NULL && with_code && json_object_set_new(p, "verificationCode", json_string(r->code)))
        json_decref(p), p = NULL;
    json_t *j =
        p ? json_pack("{s:s,s:s,s:o}", "name", r->name, "etag", etag, "properties", p) : NULL;
    GH_ENSURE(j != NULL, GH_ERR_NOMEM);
    *out = j;
    return GH_OK;
}

/* ---- helpers -------------------------------------------------------------------- */

static void reply_cert(struct gh_hub_rest_ctx *c, const struct gh_ca_record *r, bool with_code)
{
    json_t *j = NULL;
    char etag[GH_HUB_ETAG8_LEN];
    if (gh_hub_rest_cert_etag(r, etag) != GH_OK ||
        gh_hub_rest_cert_json(r, with_code, &j) != GH_OK) {
        gh_hub_rest_reply_error(c->req, GH_REST_SERVER_ERROR, "cannot describe the certificate");
        return;
    }
    gh_hub_rest_reply(c->req, 200, j, etag);
}

static void reply_ca_error(struct gh_hub_rest_ctx *c, gh_err rc, const char *name)
{
    const char *why = gh_store_errmsg(gh_hub_store(c->rest->hub));
    switch (rc) {
    case GH_ERR_NOT_FOUND:
        gh_hub_rest_reply_error(c->req, GH_REST_CERT_NOT_FOUND, "Certificate %s does not exist.",
                                name);
        return;
    case GH_ERR_CONFLICT:
        gh_hub_rest_reply_error(c->req, GH_REST_CERT_EXISTS, "Certificate %s already exists.",
                                name);
        return;
    case GH_ERR_CERT_VERIFY:
        gh_hub_rest_reply_error(c->req, GH_REST_CERT_VERIFY_FAILED, "%s", why);
        return;
    case GH_ERR_ARG:
    case GH_ERR_MALFORMED:
    case GH_ERR_NOT_CA:
    case GH_ERR_TOO_LARGE:
        gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID, "%s", why);
        return;
    default:
        gh_log_error("rest.ca.store", "err=%s detail=\"%s\"", gh_err_name(rc), why);
        gh_hub_rest_reply_error(c->req, GH_REST_SERVER_ERROR, "internal error");
        return;
    }
}

/* A certificate from a body string: PEM as is, or the base64 of a DER
 * certificate (what Azure's tools upload), wrapped into PEM. *out is
 * malloc'd. Returns false (answered 400) when it is neither. */
static bool cert_text(struct gh_hub_rest_ctx *c, const json_t *v, char **out, size_t *len)
{
    if (!json_is_string(v) || json_string_length(v) == 0) {
        gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID,
                                "the body needs a \"certificate\" string");
        return false;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n > GH_CA_PEM_MAX) {
        gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID,
                                "the certificate is larger than %u bytes", (unsigned)GH_CA_PEM_MAX);
        return false;
    }
    if (strstr(s, "-----BEGIN") != NULL) {
        *out = strndup(s, n);
        *len = n;
        if (*out != NULL) return true;
        gh_hub_rest_reply_error(c->req, GH_REST_SERVER_ERROR, "out of memory");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool b64 = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                   (ch >= '0' && ch <= '9') || ch == '+' || ch == '/' || ch == '=';
        if (!b64) {
            gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID,
                                    "the certificate is neither PEM nor base64 DER");
            return false;
        }
    }
    size_t cap = sizeof PEM_BEGIN + sizeof PEM_END + n + n / PEM_LINE + 2;
    char *p = malloc(cap);
    if (p == NULL) {
        gh_hub_rest_reply_error(c->req, GH_REST_SERVER_ERROR, "out of memory");
        return false;
    }
    size_t k = 0;
    memcpy(p, PEM_BEGIN, sizeof PEM_BEGIN - 1);
    k += sizeof PEM_BEGIN - 1;
    for (size_t i = 0; i < n; i += PEM_LINE) {
        size_t run = n - i < PEM_LINE ? n - i : PEM_LINE;
        memcpy(p + k, s + i, run);
        k += run;
        p[k++] = '\n';
    }
    memcpy(p + k, PEM_END, sizeof PEM_END);
    k += sizeof PEM_END - 1;
    *out = p;
    *len = k;
    return true;
}

/* ---- handlers ------------------------------------------------------------------- */

void gh_hub_rest_cert_list(struct gh_hub_rest_ctx *c)
{
    struct gh_ca_record *recs = calloc(GH_REST_CA_LIST_MAX, sizeof *recs);
    size_t n = 0;
    gh_err rc = recs ? gh_store_ca_list(gh_hub_store(c->rest->hub), recs, GH_REST_CA_LIST_MAX, &n)
                     : GH_ERR_NOMEM;
    json_t *arr = rc == GH_OK ? json_array() : NULL;
    if (rc == GH_OK && arr == NULL) rc = GH_ERR_NOMEM;
    for (size_t i = 0; rc == GH_OK && i < n; i++) {
        json_t *j = NULL;
        rc = gh_hub_rest_cert_json(&recs[i], !recs[i].verified, &j);
        if (rc == GH_OK && json_array_append_new(arr, j) != 0) rc = GH_ERR_NOMEM;
    }
    free(recs);
    json_t *body = rc == GH_OK ? json_pack("{s:o}", "value", arr) : NULL;
    if (body == NULL) {
        if (rc != GH_OK) json_decref(arr);
        reply_ca_error(c, rc == GH_OK ? GH_ERR_NOMEM : rc, "");
        return;
    }
    gh_hub_rest_reply(c->req, 200, body, NULL);
}

void gh_hub_rest_cert_get(struct gh_hub_rest_ctx *c)
{
    struct gh_ca_record r;
    gh_err rc = gh_store_ca_get(gh_hub_store(c->rest->hub), c->arg[0], &r, NULL, NULL);
    if (rc != GH_OK) {
        reply_ca_error(c, rc, c->arg[0]);
        return;
    }
    reply_cert(c, &r, !r.verified);
}

void gh_hub_rest_cert_put(struct gh_hub_rest_ctx *c)
{
    const char *name = c->arg[0];
    json_t *body = gh_hub_rest_body_json(c);
    if (body == NULL) return;
    json_t *props = json_object_get(body, "properties");
    json_t *v = json_object_get(props, "certificate");
    if (v == NULL) v = json_object_get(body, "certificate");
    /* IoT Hub's "verified on upload": the uploader vouches for possession
     * of the key (it holds the same right as the one that verifies). */
    json_t *iv = json_object_get(props ? props : body, "isVerified");
    bool verified = json_is_true(iv);
    char *pem = NULL;
    size_t len = 0;
    bool ok = iv == NULL || json_is_boolean(iv);
    if (!ok)
        gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID, "isVerified must be a boolean");
    else
        ok = cert_text(c, v, &pem, &len);
    json_decref(body);
    if (!ok) return;
    struct gh_store *s = gh_hub_store(c->rest->hub);
    struct gh_ca_record r;
    gh_err rc = gh_store_ca_add(s, name, pem, len, &r);
    free(pem);
    if (rc == GH_OK && verified) rc = gh_store_ca_mark_verified(s, name, r.code);
    if (rc == GH_OK && verified) rc = gh_store_ca_get(s, name, &r, NULL, NULL);
    if (rc != GH_OK) {
        reply_ca_error(c, rc, name);
        return;
    }
    gh_hub_ca_changed(c->rest->hub);
    gh_log_info("rest.ca.add", "name=%s sha256=%s verified=%s", r.name, r.info.sha256,
                r.verified ? "true" : "false");
    reply_cert(c, &r, !r.verified);
}

void gh_hub_rest_cert_delete(struct gh_hub_rest_ctx *c)
{
    const char *name = c->arg[0];
    char buf[GH_HUB_ETAG8_LEN + 8];
    const char *if_match;
    if (!gh_hub_rest_request_if_match(c, buf, sizeof buf, &if_match)) return;
    struct gh_store *s = gh_hub_store(c->rest->hub);
    struct gh_ca_record r;
    gh_err rc = gh_store_ca_get(s, name, &r, NULL, NULL);
    if (rc == GH_OK && if_match != NULL && strcmp(if_match, "*") != 0) {
        char etag[GH_HUB_ETAG8_LEN];
        rc = gh_hub_rest_cert_etag(&r, etag);
        if (rc == GH_OK && strcmp(etag, if_match) != 0) {
            gh_hub_rest_reply_error(c->req, GH_REST_PRECONDITION_FAILED,
                                    "The etag does not match (If-Match).");
            return;
        }
    }
    if (rc == GH_OK) rc = gh_store_ca_delete(s, name);
    if (rc != GH_OK) {
        reply_ca_error(c, rc, name);
        return;
    }
    gh_hub_ca_changed(c->rest->hub);
    gh_log_info("rest.ca.delete", "name=%s", r.name);
    gh_hub_rest_reply(c->req, 204, NULL, NULL);
}

void gh_hub_rest_cert_code(struct gh_hub_rest_ctx *c)
{
    struct gh_ca_record r;
    gh_err rc = gh_store_ca_regenerate_code(gh_hub_store(c->rest->hub), c->arg[0], &r);
    if (rc != GH_OK) {
        reply_ca_error(c, rc, c->arg[0]);
        return;
    }
    reply_cert(c, &r, true);
}

void gh_hub_rest_cert_verify(struct gh_hub_rest_ctx *c)
{
    const char *name = c->arg[0];
    json_t *body = gh_hub_rest_body_json(c);
    if (body == NULL) return;
    json_t *v = json_object_get(body, "certificate");
    if (v == NULL) v = json_object_get(json_object_get(body, "properties"), "certificate");
    char *pem = NULL;
    size_t len = 0;
    bool ok = cert_text(c, v, &pem, &len);
    json_decref(body);
    if (!ok) return;
    struct gh_store *s = gh_hub_store(c->rest->hub);
    gh_err rc = gh_store_ca_prove(s, name, pem, len);
    free(pem);
    struct gh_ca_record r;
    if (rc == GH_ERR_CONFLICT) {
        gh_hub_rest_reply_error(c->req, GH_REST_PRECONDITION_FAILED,
                                "The verification code changed meanwhile, verify again.");
        return;
    }
    if (rc == GH_OK) rc = gh_store_ca_get(s, name, &r, NULL, NULL);
    if (rc != GH_OK) {
        reply_ca_error(c, rc, name);
        return;
    }
    gh_hub_ca_changed(c->rest->hub);
    gh_log_info("rest.ca.verified", "name=%s", r.name);
    reply_cert(c, &r, false);
}
