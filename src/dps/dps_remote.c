/* A linked hub reached over its service REST API (see dps_remote.h). */
#include "dps/dps_remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/x509.h>

#include "common/encoding.h"
#include "common/log.h"
#include "dps/dps_cert.h"
#include "http/client.h"
#include "iothub/crypto.h"
#include "iothub/sas.h"
#include "net/tls.h"

#define API_VERSION "api-version=2021-04-12"
/* Longest request target: a prefix, a percent-encoded id (3 x 128), the query. */
#define TARGET_MAX 640
#define HOST_MAX 256
#define POLICY_MAX 128
#define KEY_MAX 128

struct gh_dps_remote {
    char host[HOST_MAX];
    char policy[POLICY_MAX];
    char key[KEY_MAX];
    struct event_base *base;
    struct gh_tls_client *tls;
    struct gh_http_client *http;
    struct event *poll;
    unsigned timeout_ms;
    const atomic_bool *stop;
    char token[GH_SAS_TOKEN_MAX];
    int64_t token_expiry; /* seconds; 0 = none */
};

gh_err gh_dps_remote_status_err(unsigned status)
{
    if (status >= 200 && status < 300) return GH_OK;
    switch (status) {
    case 400:
        return GH_ERR_ARG;
    case 401:
        return GH_ERR_AUTH;
    case 403:
        return GH_ERR_FORBIDDEN;
    case 404:
        return GH_ERR_NOT_FOUND;
    case 409:
        return GH_ERR_CONFLICT;
    case 412:
        return GH_ERR_ETAG_MISMATCH;
    case 413:
        return GH_ERR_TOO_LARGE;
    case 429:
        return GH_ERR_QUEUE_FULL;
    case 503:
        return GH_ERR_CLOSED;
    default:
        return status >= 500 && status < 600 ? GH_ERR_INTERNAL : GH_ERR_BAD_PROTOCOL;
    }
}

/* ---- requests ------------------------------------------------------------ */

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg; /* only wakes the loop to look at *stop */
}

static gh_err token(struct gh_dps_remote *r)
{
    int64_t now = (int64_t)time(NULL);
    if (r->token_expiry - now > GH_DPS_REMOTE_TOKEN_RENEW_S) return GH_OK;
    int64_t se = now + GH_DPS_REMOTE_TOKEN_TTL_S;
    struct gh_writer w;
    gh_writer_init(&w, r->token, sizeof r->token);
    gh_err rc = gh_sas_build(gh_slice_cstr(r->host), gh_slice_cstr(r->key), se, r->policy, &w);
    if (rc == GH_OK) rc = gh_writer_terminate(&w);
    if (rc != GH_OK) {
        gh_secure_zero(r->token, sizeof r->token);
        r->token_expiry = 0;
        return rc;
    }
    r->token_expiry = se;
    return GH_OK;
}

struct wait {
    bool done;
    gh_err rc;
    struct gh_http_response resp;
};

static void on_done(gh_err rc, struct gh_http_response *resp, void *user)
{
    struct wait *w = user;
    w->done = true;
    w->rc = rc;
    if (rc == GH_OK) w->resp = *resp;
}

static bool stopping(const struct gh_dps_remote *r)
{
    return r->stop != NULL && atomic_load(r->stop);
}

/* One request, run to completion on r->base. *status receives the HTTP
 * status and *out (may be NULL) the parsed JSON body of a 2xx answer (NULL
 * when empty). A non-2xx status is the mapped error (logged). */
static gh_err call(struct gh_dps_remote *r, const char *method, const char *target,
                   const json_t *body, const char *if_match, unsigned *status, json_t **out)
{
    if (out) *out = NULL;
    GH_ENSURE(!stopping(r), GH_ERR_CLOSED);
    GH_GUARD(token(r));
    char *text = NULL;
    if (body != NULL) {
        text = json_dumps(body, JSON_COMPACT);
        GH_ENSURE(text != NULL, GH_ERR_NOMEM);
    }
    struct gh_http_kv h[3];
    size_t nh = 0;
    h[nh++] = (struct gh_http_kv){"Authorization", r->token};
    h[nh++] = (struct gh_http_kv){"Accept", "application/json"};
    if (if_match != NULL) h[nh++] = (struct gh_http_kv){"If-Match", if_match};
    struct gh_http_client_request rq = {
        .method = method,
        .target = target,
        .headers = h,
        .n_headers = nh,
        .content_type = text ? GH_HTTP_CONTENT_TYPE_JSON : NULL,
        .body = text,
        .body_len = text ? strlen(text) : 0,
        .timeout_ms = r->timeout_ms,
    };
    struct wait w = {.done = false, .rc = GH_ERR_INTERNAL};
    gh_err rc = gh_http_client_request(r->http, &rq, on_done, &w);
    free(text);
    GH_GUARD(rc);
    struct timeval tv = {0, GH_DPS_REMOTE_STOP_POLL_MS * 1000};
    event_add(r->poll, &tv);
    while (!w.done) {
        if (stopping(r) || event_base_loop(r->base, EVLOOP_ONCE) < 0) {
            gh_http_client_cancel(r->http);
            w.done = true;
            w.rc = stopping(r) ? GH_ERR_CLOSED : GH_ERR_INTERNAL;
        }
    }
    event_del(r->poll);
    if (w.rc != GH_OK) {
        gh_log_warn("dps.remote.request", "hub=%s method=%s target=%s err=%s", r->host, method,
                    target, gh_err_name(w.rc));
        return w.rc;
    }
    *status = w.resp.status;
    rc = gh_dps_remote_status_err(w.resp.status);
    if (rc != GH_OK) {
        char ex[4 * GH_LOG_EXCERPT_MAX + 8];
        gh_log_escape(ex, sizeof ex, w.resp.body, w.resp.body_len, 160);
        /* 404 on a lookup is an answer, not a failure. */
        if (w.resp.status == 404 && strcmp(method, "GET") == 0)
            gh_log_debug("dps.remote.status", "hub=%s method=%s target=%s status=404", r->host,
                         method, target);
        else
            gh_log_warn("dps.remote.status", "hub=%s method=%s target=%s status=%u body=%s",
                        r->host, method, target, w.resp.status, ex);
    } else if (out != NULL && w.resp.body_len > 0) {
        json_error_t je;
        *out = json_loadb((const char *)w.resp.body, w.resp.body_len, JSON_REJECT_DUPLICATES, &je);
        if (*out == NULL || !json_is_object(*out)) {
            json_decref(*out);
            *out = NULL;
            gh_log_warn("dps.remote.body", "hub=%s method=%s target=%s reason=\"%s\"", r->host,
                        method, target, "answer is not a JSON object");
            rc = GH_ERR_BAD_JSON;
        }
    }
    gh_http_response_cleanup(&w.resp);
    return rc;
}

/* "{prefix}{pct(id)}?api-version=..." */
static gh_err target_of(const char *prefix, const char *id, char out[TARGET_MAX])
{
    struct gh_writer w;
    gh_writer_init(&w, out, TARGET_MAX);
    GH_GUARD(gh_writer_cstr(&w, prefix));
    if (id != NULL) GH_GUARD(gh_pct_encode(id, strlen(id), &w));
    GH_GUARD(gh_writer_cstr(&w, "?" API_VERSION));
    return gh_writer_terminate(&w);
}

/* ---- operations ---------------------------------------------------------- */

static gh_err device_from(const json_t *j, struct gh_identity *out)
{
    char why[160];
    gh_err rc = gh_identity_from_json(j, GH_IDENTITY_DEVICE, out, why, sizeof why);
    if (rc != GH_OK) gh_log_warn("dps.remote.device", "reason=\"%s\"", why);
    return rc == GH_OK ? GH_OK : GH_ERR_BAD_JSON;
}

static gh_err r_get(void *ctx, const char *device_id, struct gh_identity *out)
{
    char t[TARGET_MAX];
    GH_GUARD(target_of("/devices/", device_id, t));
    unsigned st = 0;
    json_t *j = NULL;
    GH_GUARD(call(ctx, "GET", t, NULL, NULL, &st, &j));
    GH_ENSURE(j != NULL, GH_ERR_BAD_JSON);
    gh_err rc = device_from(j, out);
    json_decref(j);
    return rc;
}

static gh_err put_device(void *ctx, const struct gh_identity *in, const char *if_match,
                         struct gh_identity *out)
{
    char t[TARGET_MAX];
    GH_GUARD(target_of("/devices/", in->device_id, t));
    json_t *body = NULL;
    GH_GUARD(gh_identity_to_json(in, &body));
    unsigned st = 0;
    json_t *j = NULL;
    gh_err rc = call(ctx, "PUT", t, body, if_match, &st, &j);
    /* The body held keys. */
    json_t *auth = json_object_get(body, "authentication");
    json_t *sym = json_object_get(auth, "symmetricKey");
    if (sym) json_object_clear(sym);
    json_decref(body);
    if (rc == GH_OK && j == NULL) rc = GH_ERR_BAD_JSON;
    if (rc == GH_OK) rc = device_from(j, out);
    json_decref(j);
    return rc;
}

static gh_err r_create(void *ctx, const struct gh_identity *in, struct gh_identity *out)
{
    return put_device(ctx, in, NULL, out);
}

static gh_err r_update(void *ctx, const struct gh_identity *in, struct gh_identity *out)
{
    struct gh_identity cur;
    GH_GUARD(r_get(ctx, in->device_id, &cur));
    if (in->present & GH_IDENTITY_F_AUTH) {
        cur.auth_type = in->auth_type;
        memcpy(cur.primary_key, in->primary_key, sizeof cur.primary_key);
        memcpy(cur.secondary_key, in->secondary_key, sizeof cur.secondary_key);
        memcpy(cur.primary_thumbprint, in->primary_thumbprint, sizeof cur.primary_thumbprint);
        memcpy(cur.secondary_thumbprint, in->secondary_thumbprint, sizeof cur.secondary_thumbprint);
    }
    if (in->present & GH_IDENTITY_F_CAPABILITIES) cur.iot_edge = in->iot_edge;
    if (in->present & GH_IDENTITY_F_STATUS) cur.status = in->status;
    gh_err rc = put_device(ctx, &cur, "*", out);
    gh_identity_wipe(&cur);
    return rc;
}

static gh_err r_delete(void *ctx, const char *device_id)
{
    char t[TARGET_MAX];
    GH_GUARD(target_of("/devices/", device_id, t));
    unsigned st = 0;
    return call(ctx, "DELETE", t, NULL, "*", &st, NULL);
}

static gh_err r_twin_apply(void *ctx, const char *device_id, const json_t *doc, bool replace)
{
    char t[TARGET_MAX];
    GH_GUARD(target_of("/twins/", device_id, t));
    unsigned st = 0;
    return call(ctx, replace ? "PUT" : "PATCH", t, doc, "*", &st, NULL);
}

static gh_err r_twin_get(void *ctx, const char *device_id, json_t **out)
{
    char t[TARGET_MAX];
    GH_GUARD(target_of("/twins/", device_id, t));
    unsigned st = 0;
    json_t *j = NULL;
    GH_GUARD(call(ctx, "GET", t, NULL, NULL, &st, &j));
    GH_ENSURE(j != NULL, GH_ERR_BAD_JSON);
    json_t *tags = json_object_get(j, "tags");
    json_t *desired = json_object_get(json_object_get(j, "properties"), "desired");
    json_t *d = json_is_object(desired) ? json_deep_copy(desired) : json_object();
    json_t *doc = NULL;
    if (d != NULL) {
        json_object_del(d, "$version");
        json_object_del(d, "$metadata");
        doc = json_pack("{s:o,s:{s:o}}", "tags",
                        json_is_object(tags) ? json_deep_copy(tags) : json_object(), "properties",
                        "desired", d);
    }
    json_decref(j);
    GH_ENSURE(doc != NULL, GH_ERR_NOMEM);
    *out = doc;
    return GH_OK;
}

static gh_err r_ca_ensure(void *ctx, const char *pem)
{
    struct gh_dps_remote *r = ctx;
    char name[45], sha256[65];
    X509 *x = NULL;
    GH_GUARD(gh_dps_ca_record_name(pem, name));
    GH_GUARD(gh_dps_cert_load(pem, &x));
    gh_err rc = gh_dps_cert_thumbprint(x, true, sha256);
    X509_free(x);
    GH_GUARD(rc);
    char t[TARGET_MAX];
    GH_GUARD(target_of("/certificates", NULL, t));
    unsigned st = 0;
    json_t *j = NULL;
    GH_GUARD(call(r, "GET", t, NULL, NULL, &st, &j));
    bool known = false, verified = false;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(j, "value"), i, c)
    {
        json_t *p = json_object_get(c, "properties");
        const char *tp = json_string_value(json_object_get(p, "thumbprintSha256"));
        if (tp == NULL || strcasecmp(tp, sha256) != 0) continue;
        known = true;
        if (json_is_true(json_object_get(p, "isVerified"))) verified = true;
    }
    json_decref(j);
    if (verified) return GH_OK;
    /* Upload it verified (IoT Hub's "verified on upload"): the enrollment's
     * owner uploaded the certificate to the provisioning service, which we
     * take as the proof of possession, as for the embedded hub. */
    GH_GUARD(target_of("/certificates/", name, t));
    json_t *body = json_pack("{s:{s:s,s:b}}", "properties", "certificate", pem, "isVerified", 1);
    GH_ENSURE(body != NULL, GH_ERR_NOMEM);
    rc = call(r, "PUT", t, body, NULL, &st, NULL);
    json_decref(body);
    if (rc == GH_OK) {
        gh_log_info("dps.remote.ca_added", "hub=%s name=%s sha256=%s verified=true", r->host, name,
                    sha256);
        return GH_OK;
    }
    if (rc != GH_ERR_CONFLICT) return rc;
    /* A record of that name exists and is not verified (made by hand, or
     * refused verification): leave the decision to the hub's operator. */
    gh_log_warn("dps.remote.ca_unverified",
                "hub=%s name=%s sha256=%s known=%s action=\"prove possession on that hub: "
                "gatehouse ca verify %s --ca-key <the CA's key>\"",
                r->host, name, sha256, known ? "yes" : "no", name);
    return GH_ERR_CERT_VERIFY;
}

static const struct gh_dps_hub_ops remote_ops = {
    .identity_get = r_get,
    .identity_create = r_create,
    .identity_update = r_update,
    .identity_delete = r_delete,
    .twin_apply = r_twin_apply,
    .twin_get = r_twin_get,
    .ca_ensure = r_ca_ensure,
};

void gh_dps_hub_remote(struct gh_dps_hub *hub, struct gh_dps_remote *r)
{
    hub->host_name = r->host;
    hub->ops = &remote_ops;
    hub->ctx = r;
}

/* ---- life cycle ------------------------------------------------------------ */

static gh_err copy(char *dst, size_t cap, const char *src)
{
    GH_ENSURE(src != NULL && src[0] != '\0' && strlen(src) < cap, GH_ERR_ARG);
    memcpy(dst, src, strlen(src) + 1);
    return GH_OK;
}

gh_err gh_dps_remote_new(struct event_base *base, struct evdns_base *dns,
                         const struct gh_dps_remote_config *cfg, struct gh_dps_remote **out,
                         char *detail, size_t detail_len)
{
    GH_ENSURE(base != NULL && cfg != NULL && out != NULL && cfg->port != 0, GH_ERR_ARG);
    bool literal = cfg->address != NULL && cfg->address[0] != '\0';
    if (!literal && dns == NULL) {
        snprintf(detail, detail_len, "no address and no resolver for %s",
                 cfg->host_name ? cfg->host_name : "?");
        return GH_ERR_ARG;
    }
    struct gh_dps_remote *r = calloc(1, sizeof *r);
    GH_ENSURE(r != NULL, GH_ERR_NOMEM);
    gh_err rc = copy(r->host, sizeof r->host, cfg->host_name);
    if (rc == GH_OK) rc = copy(r->policy, sizeof r->policy, cfg->policy);
    if (rc == GH_OK) rc = copy(r->key, sizeof r->key, cfg->key);
    if (rc != GH_OK) {
        snprintf(detail, detail_len, "host name, policy and key are required");
        goto fail;
    }
    r->base = base;
    r->stop = cfg->stop;
    r->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : GH_HTTP_CLIENT_TIMEOUT_MS_DEFAULT;
    struct gh_tls_client_config tc = {.ca_file =
                                          cfg->ca_file && cfg->ca_file[0] ? cfg->ca_file : NULL};
    if ((rc = gh_tls_client_new(&tc, &r->tls, detail, detail_len)) != GH_OK) goto fail;
    struct gh_http_client_options o = {
        .host = literal ? cfg->address : r->host,
        .port = cfg->port,
        .server_name = r->host,
        .tls = r->tls,
        .dns = literal ? NULL : dns,
        .max_response = GH_DPS_REMOTE_RESPONSE_MAX,
    };
    if ((rc = gh_http_client_new(base, &o, &r->http)) != GH_OK) {
        snprintf(detail, detail_len, "HTTP client: %s", gh_err_str(rc));
        goto fail;
    }
    r->poll = event_new(base, -1, EV_PERSIST, on_poll, NULL);
    if (r->poll == NULL) {
        rc = GH_ERR_NOMEM;
        goto fail;
    }
    *out = r;
    return GH_OK;
fail:
    gh_dps_remote_free(r);
    return rc;
}

void gh_dps_remote_free(struct gh_dps_remote *r)
{
    if (r == NULL) return;
    gh_http_client_free(r->http);
    gh_tls_client_free(r->tls);
    if (r->poll) event_free(r->poll);
    gh_secure_zero(r, sizeof *r);
    free(r);
}
