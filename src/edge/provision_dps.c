/* The gateway's DPS registration over HTTPS, the way aziot-identityd does it
 * (PROTOCOL.md 4.4, 4.3, 6.10 row 1): PUT register -> 202 + operationId,
 * then GET operation status honouring Retry-After until the operation has
 * finished, all within GH_EDGE_DPS_TOTAL_MS. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/encoding.h"
#include "common/log.h"
#include "edge/provision.h"
#include "edge/provision_int.h"
#include "http/client.h"
#include "iothub/crypto.h"
#include "iothub/sas.h"
#include "net/tls.h"

#define TARGET_MAX 1024
#define TOKEN_MAX 1024
#define MESSAGE_MAX 512      /* DPS error text shown in err */
#define RETRY_AFTER_DIGITS 6 /* longest Retry-After value read */
#define HTTPS_DEFAULT_PORT 443

struct endpoint {
    char host[GH_EDGE_HOST_MAX];
    uint16_t port;
};

struct call {
    const struct gh_edge_config *cfg;
    struct endpoint ep;
    struct gh_tls_client *tls;
    int64_t deadline_ms; /* monotonic */
    char *err;
    size_t errlen;
    bool unreachable;
    unsigned retry_s; /* from the last answer */
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* https://host[:port][/] (scheme case-insensitive). */
static gh_err parse_endpoint(const char *url, struct endpoint *ep)
{
    static const char scheme[] = "https://";
    GH_ENSURE(strncasecmp(url, scheme, sizeof scheme - 1) == 0, GH_ERR_CONFIG_VALUE);
    const char *h = url + sizeof scheme - 1;
    size_t hl = strcspn(h, ":/");
    GH_ENSURE(hl > 0 && hl < sizeof ep->host, GH_ERR_CONFIG_VALUE);
    memcpy(ep->host, h, hl);
    ep->host[hl] = '\0';
    GH_ENSURE(gh_edge_host_valid(ep->host), GH_ERR_CONFIG_VALUE);
    const char *p = h + hl;
    unsigned long port = HTTPS_DEFAULT_PORT;
    if (*p == ':') {
        p++;
        GH_ENSURE(*p >= '0' && *p <= '9', GH_ERR_CONFIG_VALUE);
        port = 0;
        while (*p >= '0' && *p <= '9' && port <= 65535)
            port = port * 10 + (unsigned long)(*p++ - '0');
        GH_ENSURE(port >= 1 && port <= 65535, GH_ERR_CONFIG_VALUE);
    }
    if (*p == '/') p++;
    GH_ENSURE(*p == '\0', GH_ERR_CONFIG_VALUE);
    ep->port = (uint16_t)port;
    return GH_OK;
}

/* The audience as the IoT Edge identity service writes it (PROTOCOL.md
 * 2.4): lower-cased, '/' raw, only control characters, space and
 * " # < > ? ` { } = (and '&', which cannot travel in a token) encoded. */
static gh_err audience(const struct gh_edge_config *cfg, struct gh_writer *w)
{
    char sr[GH_EDGE_SCOPE_MAX + GH_EDGE_ID_MAX + 32];
    int n = snprintf(sr, sizeof sr, "%s/registrations/%s", cfg->id_scope, cfg->registration_id);
    GH_ENSURE(n > 0 && (size_t)n < sizeof sr, GH_ERR_NOBUFS);
    static const char hex[] = "0123456789abcdef";
    for (const char *p = sr; *p; p++) {
        uint8_t c = (uint8_t)*p;
        if (c >= 'A' && c <= 'Z') c = (uint8_t)(c - 'A' + 'a');
        if (c <= 0x20 || c >= 0x7f || strchr("\"#<>?`{}=&%", c)) {
            GH_GUARD(gh_writer_u8(w, '%'));
            GH_GUARD(gh_writer_u8(w, (uint8_t)hex[c >> 4]));
            GH_GUARD(gh_writer_u8(w, (uint8_t)hex[c & 15]));
        } else {
            GH_GUARD(gh_writer_u8(w, c));
        }
    }
    return GH_OK;
}

static gh_err reg_token(const struct gh_edge_config *cfg, char *out, size_t cap)
{
    char sr[3 * (GH_EDGE_SCOPE_MAX + GH_EDGE_ID_MAX + 32)];
    struct gh_writer a;
    gh_writer_init(&a, sr, sizeof sr);
    GH_GUARD(audience(cfg, &a));
    struct gh_writer w;
    gh_writer_init(&w, out, cap);
    GH_GUARD(gh_sas_build(gh_writer_slice(&a), gh_slice_cstr(cfg->symmetric_key),
                          gh_edge_wall_ms() / 1000 + GH_EDGE_DPS_TOKEN_LIFETIME_S, "registration",
                          &w));
    return gh_writer_terminate(&w);
}

/* "/{scope}/registrations/{id}/" with both ids percent-encoded. */
static gh_err target_prefix(const struct gh_edge_config *cfg, struct gh_writer *w)
{
    GH_GUARD(gh_writer_u8(w, '/'));
    GH_GUARD(gh_pct_encode(cfg->id_scope, strlen(cfg->id_scope), w));
    GH_GUARD(gh_writer_cstr(w, "/registrations/"));
    GH_GUARD(gh_pct_encode(cfg->registration_id, strlen(cfg->registration_id), w));
    return gh_writer_u8(w, '/');
}

static const char *transport_hint(gh_err rc)
{
    switch (rc) {
    case GH_ERR_CERT_VERIFY:
        return "TLS verification of the DPS server failed (is its root in trust_bundle_cert and "
               "does its certificate name the global_endpoint host?)";
    case GH_ERR_TLS:
        return "TLS handshake with DPS failed";
    case GH_ERR_NOT_FOUND:
        return "DPS host name did not resolve (add it to [hosts]?)";
    case GH_ERR_TIMEOUT:
        return "DPS did not answer in time";
    default:
        return "DPS unreachable";
    }
}

/* One request; on GH_OK *resp holds the answer (any status). */
static gh_err request(struct call *c, const char *method, const char *target, const char *body,
                      struct gh_http_response *resp)
{
    int64_t left = c->deadline_ms - mono_ms();
    if (left <= 0) {
        gh_edge_say(c->err, c->errlen, "DPS registration of '%s' did not finish within %d s",
                    c->cfg->registration_id, GH_EDGE_DPS_TOTAL_MS / 1000);
        return GH_ERR_TIMEOUT;
    }
    char token[TOKEN_MAX] = "";
    struct gh_http_kv h[2];
    size_t nh = 0;
    h[nh++] = (struct gh_http_kv){"Accept", "application/json"};
    if (c->cfg->attest_method == GH_EDGE_ATTEST_SYMMETRIC_KEY) {
        gh_err rc = reg_token(c->cfg, token, sizeof token);
        if (rc != GH_OK) {
            gh_edge_say(c->err, c->errlen, "cannot sign the DPS token with symmetric_key: %s",
                        gh_err_str(rc));
            return rc;
        }
        h[nh++] = (struct gh_http_kv){"Authorization", token};
    }
    struct gh_http_client_options o = {
        .host = gh_edge_config_resolve(c->cfg, c->ep.host),
        .port = c->ep.port,
        .server_name = c->ep.host,
        .tls = c->tls,
        .max_response = GH_EDGE_DPS_RESPONSE_MAX,
    };
    struct gh_http_client_request rq = {
        .method = method,
        .target = target,
        .headers = h,
        .n_headers = nh,
        .content_type = body ? "application/json; charset=utf-8" : NULL,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .timeout_ms = (unsigned)(left < GH_EDGE_DPS_REQUEST_MS ? left : GH_EDGE_DPS_REQUEST_MS),
    };
    gh_err rc = gh_http_fetch(&o, &rq, resp);
    gh_secure_zero(token, sizeof token);
    if (rc != GH_OK) {
        c->unreachable = rc == GH_ERR_IO || rc == GH_ERR_CLOSED || rc == GH_ERR_TIMEOUT ||
                         rc == GH_ERR_TLS || rc == GH_ERR_CERT_VERIFY || rc == GH_ERR_NOT_FOUND;
        gh_edge_say(c->err, c->errlen, "%s: %s %s:%u: %s", transport_hint(rc), method, c->ep.host,
                    (unsigned)c->ep.port, gh_err_str(rc));
    }
    return rc;
}

static void retry_after(struct call *c, const struct gh_http_response *resp)
{
    c->retry_s = GH_EDGE_DPS_RETRY_DEFAULT_S;
    const char *v = gh_http_response_header(resp, "Retry-After");
    if (!v || !*v) return;
    unsigned s = 0;
    size_t i = 0;
    for (; v[i] >= '0' && v[i] <= '9' && i < RETRY_AFTER_DIGITS; i++)
        s = s * 10 + (unsigned)(v[i] - '0');
    if (i == 0 || v[i] != '\0') return; /* not delta-seconds: keep the default */
    if (s < GH_EDGE_DPS_RETRY_MIN_S) s = GH_EDGE_DPS_RETRY_MIN_S;
    if (s > GH_EDGE_DPS_RETRY_MAX_S) s = GH_EDGE_DPS_RETRY_MAX_S;
    c->retry_s = s;
}

/* Wait retry_s seconds unless that passes the deadline. */
static gh_err wait_retry(struct call *c)
{
    int64_t until = mono_ms() + (int64_t)c->retry_s * 1000;
    if (until >= c->deadline_ms) {
        gh_edge_say(c->err, c->errlen, "DPS registration of '%s' did not finish within %d s",
                    c->cfg->registration_id, GH_EDGE_DPS_TOTAL_MS / 1000);
        return GH_ERR_TIMEOUT;
    }
    for (int64_t now = mono_ms(); now < until; now = mono_ms()) {
        int64_t d = until - now;
        struct timespec ts = {(time_t)(d / 1000), (long)(d % 1000) * 1000000L};
        if (nanosleep(&ts, NULL) != 0 && errno != EINTR) break;
    }
    return GH_OK;
}

/* DPS's own words for an error, made printable: " (errorCode N): text". */
static void dps_words(const struct gh_edge_dps_result *res, char *out, size_t cap)
{
    char msg[MESSAGE_MAX] = "";
    if (res->error_message.len &&
        gh_edge_json_unescape(res->error_message, false, msg, sizeof msg) != GH_OK)
        snprintf(msg, sizeof msg, "(message too long)");
    if (res->error_code && msg[0])
        snprintf(out, cap, ": %s (errorCode %lld)", msg, (long long)res->error_code);
    else if (res->error_code)
        snprintf(out, cap, " (errorCode %lld)", (long long)res->error_code);
    else if (msg[0])
        snprintf(out, cap, ": %s", msg);
    else
        out[0] = '\0';
}

static gh_err http_error(struct call *c, const struct gh_http_response *resp,
                         const struct gh_edge_dps_result *res)
{
    char words[MESSAGE_MAX + 64];
    dps_words(res, words, sizeof words);
    const char *id = c->cfg->registration_id;
    switch (resp->status) {
    case 401:
        gh_edge_say(c->err, c->errlen,
                    "DPS refused registration '%s' (401 Unauthorized: wrong %s, or no such "
                    "enrollment)%s",
                    id,
                    c->cfg->attest_method == GH_EDGE_ATTEST_X509 ? "identity certificate"
                                                                 : "symmetric key",
                    words);
        return GH_ERR_AUTH;
    case 403:
        gh_edge_say(c->err, c->errlen, "DPS refused registration '%s' (403 Forbidden)%s", id,
                    words);
        return GH_ERR_FORBIDDEN;
    case 404:
        gh_edge_say(c->err, c->errlen,
                    "DPS does not know registration '%s' or id_scope '%s' (404 Not Found)%s", id,
                    c->cfg->id_scope, words);
        return GH_ERR_NOT_FOUND;
    default:
        gh_edge_say(c->err, c->errlen, "DPS answered %u to the registration of '%s'%s",
                    resp->status, id, words);
        return GH_ERR_UNSUPPORTED;
    }
}

/* A finished operation. */
static gh_err finished(struct call *c, const struct gh_edge_dps_result *res,
                       struct gh_edge_identity *id)
{
    const char *rid = c->cfg->registration_id;
    char words[MESSAGE_MAX + 64];
    dps_words(res, words, sizeof words);
    if (gh_slice_eq_cstr(res->status, "assigned")) {
        if (gh_slice_to_cstr(res->assigned_hub, id->hub, sizeof id->hub) != GH_OK ||
            gh_slice_to_cstr(res->device_id, id->device_id, sizeof id->device_id) != GH_OK ||
            !gh_edge_host_valid(id->hub) || !gh_edge_device_id_valid(id->device_id)) {
            gh_edge_say(c->err, c->errlen,
                        "DPS assigned registration '%s' without a valid assignedHub and deviceId",
                        rid);
            return GH_ERR_MALFORMED;
        }
        return GH_OK;
    }
    if (gh_slice_eq_cstr(res->status, "failed")) {
        gh_edge_say(c->err, c->errlen, "DPS could not assign registration '%s' to a hub%s", rid,
                    words);
        return GH_ERR_CONFLICT;
    }
    if (gh_slice_eq_cstr(res->status, "disabled") || gh_slice_eq_cstr(res->status, "blacklisted")) {
        gh_edge_say(c->err, c->errlen, "the DPS enrollment of registration '%s' is disabled%s", rid,
                    words);
        return GH_ERR_FORBIDDEN;
    }
    char shown[64];
    gh_edge_say(c->err, c->errlen, "DPS answered status %s for registration '%s'",
                gh_log_escape(shown, sizeof shown, res->status.ptr, res->status.len, 32), rid);
    return GH_ERR_MALFORMED;
}

/* One answer: GH_OK with *again set while the operation is running (and
 * *op holding its id), GH_OK with *again clear when it has finished. */
static gh_err answer(struct call *c, const struct gh_http_response *resp,
                     struct gh_edge_identity *id, char *op, size_t opcap, bool *again)
{
    struct gh_edge_dps_result res;
    memset(&res, 0, sizeof res);
    retry_after(c, resp);
    gh_err prc = gh_edge_dps_parse_response((struct gh_slice){resp->body, resp->body_len}, &res);
    if (resp->status == 429 || resp->status >= 500) {
        *again = true; /* transient (PROTOCOL.md 4.2.3): the same step again */
        gh_edge_say(c->err, c->errlen, "DPS answered %u (busy) and did not recover in time",
                    resp->status);
        return GH_OK;
    }
    if (resp->status != 200 && resp->status != 202) {
        if (prc != GH_OK) memset(&res, 0, sizeof res);
        return http_error(c, resp, &res);
    }
    if (prc != GH_OK) {
        gh_edge_say(c->err, c->errlen, "DPS answered %u with a body that is not a JSON object: %s",
                    resp->status, gh_err_str(prc));
        return prc;
    }
    if (res.status.len == 0 || gh_slice_eq_cstr(res.status, "assigning")) {
        if (res.operation_id.len) {
            bool ok = res.operation_id.len <= GH_EDGE_OPERATION_ID_MAX;
            for (size_t i = 0; ok && i < res.operation_id.len; i++) {
                uint8_t ch = res.operation_id.ptr[i];
                ok = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
                     (ch >= 'A' && ch <= 'Z') || ch == '.' || ch == '-';
            }
            if (!ok || gh_slice_to_cstr(res.operation_id, op, opcap) != GH_OK) {
                gh_edge_say(c->err, c->errlen, "DPS sent an invalid operationId");
                return GH_ERR_MALFORMED;
            }
        }
        if (op[0] == '\0') {
            gh_edge_say(c->err, c->errlen, "DPS accepted registration '%s' without an operationId",
                        c->cfg->registration_id);
            return GH_ERR_MALFORMED;
        }
        *again = true;
        return GH_OK;
    }
    *again = false;
    return finished(c, &res, id);
}

static gh_err run(struct call *c, struct gh_edge_identity *id)
{
    char prefix[TARGET_MAX / 2];
    struct gh_writer pw;
    gh_writer_init(&pw, prefix, sizeof prefix);
    GH_GUARD(target_prefix(c->cfg, &pw));
    GH_GUARD(gh_writer_terminate(&pw));
    char target[TARGET_MAX];
    char body[GH_EDGE_ID_MAX + 64];
    int n = snprintf(target, sizeof target, "%sregister?api-version=%s", prefix,
                     GH_EDGE_DPS_API_VERSION);
    GH_ENSURE(n > 0 && (size_t)n < sizeof target, GH_ERR_NOBUFS);
    n = snprintf(body, sizeof body, "{\"registrationId\":\"%s\"}", c->cfg->registration_id);
    GH_ENSURE(n > 0 && (size_t)n < sizeof body, GH_ERR_NOBUFS);
    char op[GH_EDGE_OPERATION_ID_MAX + 1] = "";
    bool registered = false;
    for (;;) {
        struct gh_http_response resp;
        memset(&resp, 0, sizeof resp);
        if (registered) {
            n = snprintf(target, sizeof target, "%soperations/%s?api-version=%s", prefix, op,
                         GH_EDGE_DPS_API_VERSION);
            GH_ENSURE(n > 0 && (size_t)n < sizeof target, GH_ERR_NOBUFS);
        }
        GH_GUARD(request(c, registered ? "GET" : "PUT", target, registered ? NULL : body, &resp));
        bool again = false;
        bool busy = resp.status == 429 || resp.status >= 500;
        gh_err rc = answer(c, &resp, id, op, sizeof op, &again);
        gh_http_response_cleanup(&resp);
        GH_GUARD(rc);
        if (!again) return GH_OK;
        if (!busy) registered = true;
        gh_err wrc = wait_retry(c);
        if (wrc != GH_OK) return wrc;
    }
}

gh_err gh_edge_provision_dps_ex(const struct gh_edge_config *cfg, struct gh_edge_identity *out,
                                char *err, size_t errlen, bool *unreachable)
{
    if (unreachable) *unreachable = false;
    if (cfg->prov_source != GH_EDGE_PROV_DPS) {
        gh_edge_say(err, errlen, "provisioning.source is not \"dps\"");
        return GH_ERR_CONFIG_VALUE;
    }
    struct call c = {.cfg = cfg, .err = err, .errlen = errlen};
    if (parse_endpoint(cfg->global_endpoint, &c.ep) != GH_OK) {
        gh_edge_say(err, errlen, "provisioning.global_endpoint '%s' must be https://host[:port][/]",
                    cfg->global_endpoint);
        return GH_ERR_CONFIG_VALUE;
    }
    bool x509 = cfg->attest_method == GH_EDGE_ATTEST_X509;
    if (cfg->id_scope[0] == '\0' || cfg->registration_id[0] == '\0' ||
        (!x509 && cfg->symmetric_key[0] == '\0') ||
        (x509 && (cfg->identity_cert[0] == '\0' || cfg->identity_pk[0] == '\0'))) {
        gh_edge_say(err, errlen, "DPS provisioning needs id_scope, registration_id and %s",
                    x509 ? "identity_cert and identity_pk" : "symmetric_key");
        return GH_ERR_CONFIG_MISSING;
    }
    if (strlen(cfg->id_scope) > GH_EDGE_SCOPE_MAX || !gh_edge_device_id_valid(cfg->id_scope) ||
        !gh_edge_device_id_valid(cfg->registration_id)) {
        gh_edge_say(
            err, errlen,
            "provisioning.id_scope / registration_id must be 1..%d / 1..%d letters, digits or "
            "- . _ : (and the other IoT Hub device id characters)",
            GH_EDGE_SCOPE_MAX, GH_EDGE_ID_MAX);
        return GH_ERR_CONFIG_VALUE;
    }
    if (!x509) {
        uint8_t raw[GH_SYMKEY_MAX];
        size_t rawlen = 0;
        gh_err krc = gh_symkey_decode(gh_slice_cstr(cfg->symmetric_key), raw, &rawlen);
        gh_secure_zero(raw, sizeof raw);
        if (krc != GH_OK) {
            gh_edge_say(err, errlen, "provisioning symmetric_key is not a base64 key: %s",
                        gh_err_str(krc));
            return krc;
        }
    }
    struct gh_tls_client_config tc = {.ca_file = cfg->trust_bundle_cert[0] ? cfg->trust_bundle_cert
                                                                           : NULL};
    if (x509) {
        tc.id.cert_file = cfg->identity_cert;
        tc.id.key_file = cfg->identity_pk;
    }
    char detail[GH_TLS_DETAIL_MAX] = "";
    gh_err rc = gh_tls_client_new(&tc, &c.tls, detail, sizeof detail);
    if (rc != GH_OK) {
        gh_edge_say(err, errlen, "DPS TLS setup: %s", detail[0] ? detail : gh_err_str(rc));
        return rc;
    }
    c.deadline_ms = mono_ms() + GH_EDGE_DPS_TOTAL_MS;
    struct gh_edge_identity id;
    memset(&id, 0, sizeof id);
    gh_log_info("edge.provision.dps.register", "endpoint=%s:%u scope=%s registration=%s", c.ep.host,
                (unsigned)c.ep.port, cfg->id_scope, cfg->registration_id);
    rc = run(&c, &id);
    gh_tls_client_free(c.tls);
    if (unreachable) *unreachable = c.unreachable;
    if (rc != GH_OK) goto out;
    id.auth = x509 ? GH_EDGE_AUTH_X509 : GH_EDGE_AUTH_SAS;
    if (!x509) memcpy(id.key, cfg->symmetric_key, sizeof id.key);
    memcpy(id.source, GH_EDGE_SOURCE_DPS, sizeof GH_EDGE_SOURCE_DPS);
    id.provisioned_ms = gh_edge_wall_ms();
    memcpy(id.registration_id, cfg->registration_id, sizeof id.registration_id);
    snprintf(id.id_scope, sizeof id.id_scope, "%s", cfg->id_scope);
    memcpy(id.endpoint, cfg->global_endpoint, sizeof id.endpoint);
    gh_log_info("edge.provision.dps.assigned", "registration=%s hub=%s device=%s",
                cfg->registration_id, id.hub, id.device_id);
    *out = id;
out:
    gh_edge_identity_wipe(&id);
    return rc;
}

gh_err gh_edge_provision_dps(const struct gh_edge_config *cfg, struct gh_edge_identity *out,
                             char *err, size_t errlen)
{
    return gh_edge_provision_dps_ex(cfg, out, err, errlen, NULL);
}
