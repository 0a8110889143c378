/* The management CLI's connection to the hub: where the service connection
 * string comes from, TLS, SAS signing, one request, and turning the hub's
 * answers and transport failures into gh_err codes and messages that say
 * what to do. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iothub/connstr.h"
#include "iothub/sas.h"
#include "mgmt/mgmt_int.h"
#include "net/tls.h"

/* How to give a connection string; %s is the environment variable. */
#define HOW_TO_GIVE                                                                                \
    "pass --connection-string 'HostName=...;SharedAccessKeyName=...;SharedAccessKey=...', "        \
    "set $%s, or point --data-dir at the hub's data_dir"

void gh_mgmt_cred_wipe(struct gh_mgmt_cred *c)
{
    gh_secure_zero(c, sizeof *c);
}

static gh_err copy_field(struct gh_slice v, char *out, size_t cap)
{
    return gh_slice_to_cstr(v, out, cap);
}

/* Check text as a service connection string and fill *out. */
static gh_err cred_from_text(const char *text, size_t len, const char *source, const char *env,
                             struct gh_mgmt_cred *out, char *msg, size_t cap)
{
    struct gh_connstr cs;
    memset(&cs, 0, sizeof cs);
    const char *why = NULL;
    if (len == 0)
        return gh_err_say(msg, cap, GH_ERR_CONFIG_VALUE,
                          "the connection string from %s is empty; " HOW_TO_GIVE, source, env);
    gh_err rc = gh_connstr_parse((struct gh_slice){(const uint8_t *)text, len}, &cs, &why);
    bool parsed = rc == GH_OK;
    if (parsed) rc = gh_connstr_check_service(&cs, &why);
    if (rc != GH_OK) {
        bool device = parsed && cs.device_id.ptr != NULL && cs.shared_access_key_name.ptr == NULL;
        rc = gh_err_say(msg, cap, GH_ERR_CONFIG_VALUE,
                        "the connection string from %s is not a service connection string: %s%s",
                        source, why ? why : "malformed",
                        device ? " (this looks like a device's; use a shared access policy's, e.g. "
                                 "iothubowner)"
                               : "");
        gh_secure_zero(&cs, sizeof cs);
        return rc;
    }
    struct gh_mgmt_cred c;
    memset(&c, 0, sizeof c);
    rc = copy_field(cs.host_name, c.host, sizeof c.host);
    if (rc == GH_OK) rc = copy_field(cs.shared_access_key_name, c.policy, sizeof c.policy);
    if (rc == GH_OK) rc = copy_field(cs.shared_access_key, c.key, sizeof c.key);
    gh_secure_zero(&cs, sizeof cs);
    if (rc != GH_OK) {
        gh_mgmt_cred_wipe(&c);
        return gh_err_say(msg, cap, GH_ERR_CONFIG_VALUE,
                          "the connection string from %s has a HostName, SharedAccessKeyName or "
                          "SharedAccessKey that is too long",
                          source);
    }
    snprintf(c.source, sizeof c.source, "%s", source);
    *out = c;
    gh_mgmt_cred_wipe(&c);
    return GH_OK;
}

/* Read a connection string file; trims surrounding whitespace. */
static gh_err cred_from_file(const char *path, bool must_exist, const char *env,
                             struct gh_mgmt_cred *out, char *msg, size_t cap)
{
    uint8_t *data = NULL;
    size_t len = 0;
    char why[GH_MGMT_MSG_MAX / 2];
    gh_err rc = gh_mgmt_file_read(path, GH_CONNSTR_MAX, &data, &len, why, sizeof why);
    if (rc == GH_ERR_NOENT && !must_exist)
        return gh_err_say(msg, cap, GH_ERR_CONFIG_MISSING,
                          "no service connection string: no --connection-string, $%s is not set, "
                          "and %s does not exist; " HOW_TO_GIVE,
                          env, path, env);
    if (rc == GH_ERR_PERM)
        return gh_err_say(msg, cap, rc,
                          "%s (run as the hub's user or root, or pass --connection-string)", why);
    if (rc != GH_OK) return gh_err_say(msg, cap, rc, "%s", why);
    size_t start = 0, end = len;
    while (start < end && strchr(" \t\r\n", data[start]) != NULL) start++;
    while (end > start && strchr(" \t\r\n", data[end - 1]) != NULL) end--;
    char source[GH_MGMT_SOURCE_MAX];
    snprintf(source, sizeof source, "file %s", path);
    rc = cred_from_text((const char *)data + start, end - start, source, env, out, msg, cap);
    gh_secure_zero(data, len);
    free(data);
    return rc;
}

gh_err gh_mgmt_cred_load(const struct gh_mgmt_cs_sources *src, struct gh_mgmt_cred *out, char *msg,
                         size_t cap)
{
    const char *env = src->env_name ? src->env_name : GH_MGMT_ENV_CS;
    const char *file = src->file_name ? src->file_name : GH_MGMT_CS_FILE_NAME;
    int nflags = (src->flag != NULL) + (src->flag_file != NULL) + (src->data_dir != NULL);
    if (nflags > 1)
        return gh_err_say(msg, cap, GH_ERR_USAGE,
                          "give only one of --connection-string, --connection-string-file and "
                          "--data-dir");
    if (src->flag != NULL)
        return cred_from_text(src->flag, strlen(src->flag), "--connection-string", env, out, msg,
                              cap);
    if (src->flag_file != NULL) return cred_from_file(src->flag_file, true, env, out, msg, cap);
    char path[GH_MGMT_SOURCE_MAX];
    if (src->data_dir != NULL) {
        int n = snprintf(path, sizeof path, "%s/%s", src->data_dir, file);
        if (n < 0 || (size_t)n >= sizeof path)
            return gh_err_say(msg, cap, GH_ERR_USAGE, "--data-dir: path too long");
        return cred_from_file(path, true, env, out, msg, cap);
    }
    if (src->env != NULL) {
        char source[GH_MGMT_SOURCE_MAX];
        snprintf(source, sizeof source, "$%s", env);
        return cred_from_text(src->env, strlen(src->env), source, env, out, msg, cap);
    }
    if (src->default_file != NULL)
        return cred_from_file(src->default_file, false, env, out, msg, cap);
    snprintf(path, sizeof path, "%s/%s", GH_MGMT_DATA_DIR_DEFAULT, file);
    return cred_from_file(path, false, env, out, msg, cap);
}

/* ---- the hub's answers ------------------------------------------------------ */

gh_err gh_mgmt_status_err(unsigned status, const char *code)
{
    if (code == NULL) code = "";
    if (status >= 200 && status <= 299) return GH_OK;
    switch (status) {
    case 400:
        return strcmp(code, "CertificateVerificationFailed") == 0 ? GH_ERR_CERT_VERIFY : GH_ERR_ARG;
    case 401:
        return GH_ERR_AUTH;
    case 403:
        return strcmp(code, "DeviceMaximumQueueDepthExceeded") == 0 ? GH_ERR_QUEUE_FULL
                                                                    : GH_ERR_FORBIDDEN;
    case 404:
        return GH_ERR_NOT_FOUND;
    case 405:
        return GH_ERR_UNSUPPORTED;
    case 408:
        return GH_ERR_TIMEOUT;
    case 409:
        return GH_ERR_CONFLICT;
    case 412:
        return GH_ERR_ETAG_MISMATCH;
    case 413:
        return GH_ERR_TOO_LARGE;
    case 429:
        return GH_ERR_TOO_MANY;
    case 504:
        return GH_ERR_TIMEOUT;
    default:
        return status >= 500 && status <= 599 ? GH_ERR_IO : GH_ERR_MALFORMED;
    }
}

static void copy_clean(char *out, size_t cap, const char *s, size_t n)
{
    if (n >= cap) n = cap - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        out[i] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
    }
    out[n] = '\0';
}

void gh_mgmt_hub_error_parse(const uint8_t *body, size_t len, char *code, size_t codecap,
                             char *text, size_t textcap)
{
    code[0] = '\0';
    text[0] = '\0';
    json_t *j = len > 0 ? json_loadb((const char *)body, len, 0, NULL) : NULL;
    const char *m = json_string_value(json_object_get(j, "Message"));
    if (m == NULL) m = json_string_value(json_object_get(j, "message"));
    if (m != NULL) {
        static const char prefix[] = "ErrorCode:";
        const char *semi = strchr(m, ';');
        if (strncmp(m, prefix, sizeof prefix - 1) == 0 && semi != NULL) {
            const char *c = m + sizeof prefix - 1;
            copy_clean(code, codecap, c, (size_t)(semi - c));
            m = semi + 1;
        }
        copy_clean(text, textcap, m, strlen(m));
    }
    /* The provisioning service: {"errorCode":401002,"message":...}. */
    json_t *ec = json_object_get(j, "errorCode");
    if (code[0] == '\0' && json_is_integer(ec)) {
        char num[24];
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(ec));
        copy_clean(code, codecap, num, strlen(num));
    }
    json_decref(j);
}

/* Advice for an error answer, or "". */
static const char *advice(unsigned status, const char *code)
{
    if (strcmp(code, "DeviceNotOnline") == 0)
        return " (the device must be connected and subscribed to direct methods; "
               "--connect-timeout S waits for it)";
    if (status == 504)
        return " (the device did not answer in time: raise --response-timeout, or check the "
               "device)";
    if (status == 412) return " (it changed since it was read: read it again and retry)";
    if (strcmp(code, "DeviceMaximumQueueDepthExceeded") == 0)
        return " (the device is not taking its messages: wait, or drop them with "
               "'gatehouse c2d purge')";
    return "";
}

static gh_err answer_error(struct gh_mgmt_ctx *c, const struct gh_mgmt_req *rq,
                           const struct gh_http_response *r)
{
    char code[64], text[512];
    gh_mgmt_hub_error_parse(r->body, r->body_len, code, sizeof code, text, sizeof text);
    gh_err rc = gh_mgmt_status_err(r->status, code);
    if (r->status == 401) {
        size_t n = strlen(text);
        while (n > 0 && text[n - 1] == '.') text[--n] = '\0';
        if (c->dps)
            return gh_mgmt_fail(c, rc,
                                "the provisioning service %s refused policy '%s' (connection "
                                "string from %s): %s. Use the DPS service connection string "
                                "(" GH_MGMT_DPS_CS_FILE_NAME " in the hub's data_dir) and its "
                                "current key",
                                c->hub.cred.host, c->hub.cred.policy, c->hub.cred.source,
                                text[0] ? text : "unauthorized");
        return gh_mgmt_fail(c, rc,
                            "the hub refused policy '%s' (connection string from %s): %s. "
                            "This needs a policy with the %s right (iothubowner has every right) "
                            "and its current key",
                            c->hub.cred.policy, c->hub.cred.source, text[0] ? text : "unauthorized",
                            rq->right ? rq->right : "needed");
    }
    /* The provisioning service's codes are numbers; a named code is the
     * hub's own API answering: the connection string is the hub's. */
    if (c->dps && code[0] != '\0' && (code[0] < '0' || code[0] > '9'))
        return gh_mgmt_fail(c, rc,
                            "%s answered as an IoT hub, not as the provisioning service (%s: %s): "
                            "use the DPS service connection string (" GH_MGMT_DPS_CS_FILE_NAME
                            " in the hub's data_dir, or $" GH_MGMT_ENV_DPS_CS ")",
                            c->hub.cred.host, code, text);
    if (code[0] == '\0')
        return gh_mgmt_fail(c, rc, "the hub answered %u %s%s%s", r->status,
                            r->reason.ptr ? (const char *)r->reason.ptr : "", text[0] ? ": " : "",
                            text);
    return gh_mgmt_fail(c, rc, "%s: %s%s", code, text, advice(r->status, code));
}

gh_err gh_mgmt_transport_error(gh_err rc, const struct gh_mgmt_hub *h, char *msg, size_t cap)
{
    const char *addr = h->address ? h->address : h->cred.host;
    switch (rc) {
    case GH_ERR_CERT_VERIFY:
        return gh_err_say(
            msg, cap, rc,
            "the TLS certificate of %s (%s:%u) did not verify against %s: pass --ca "
            "with the root CA that signed the hub's certificate (or set $" GH_MGMT_ENV_CA ")",
            h->cred.host, addr, h->port, h->ca_file ? h->ca_file : "the system's trust store");
    case GH_ERR_TLS:
    case GH_ERR_CLOSED:
        return gh_err_say(msg, cap, rc == GH_ERR_CLOSED ? GH_ERR_IO : rc,
                          "the TLS connection to %s:%u (%s) failed: is that the hub's HTTPS port?",
                          addr, h->port, h->cred.host);
    case GH_ERR_TIMEOUT:
        return gh_err_say(msg, cap, rc,
                          "no answer from the hub at %s:%u (%s) within %u s (--timeout)", addr,
                          h->port, h->cred.host, (h->timeout_ms + 999) / 1000);
    case GH_ERR_NOT_FOUND:
        return gh_err_say(
            msg, cap, GH_ERR_IO,
            "cannot resolve the hub's host name %s: pass --address with its IP address",
            h->cred.host);
    case GH_ERR_IO:
        return gh_err_say(
            msg, cap, rc,
            "cannot reach the hub at %s:%u (%s): is it running, and are --address and "
            "--port right?",
            addr, h->port, h->cred.host);
    case GH_ERR_NOMEM:
        return gh_err_say(msg, cap, rc, "out of memory");
    default:
        return gh_err_say(msg, cap, rc, "bad answer from the hub at %s:%u: %s", addr, h->port,
                          gh_err_str(rc));
    }
}

/* ---- connecting and requests -------------------------------------------------- */

gh_err gh_mgmt_connect(struct gh_mgmt_ctx *c)
{
    if (c->connected) return GH_OK;
    const struct gh_mgmt_args *a = &c->a;
    struct gh_mgmt_hub *h = &c->hub;
    memset(h, 0, sizeof *h);
    uint64_t v = GH_MGMT_PORT_DEFAULT;
    if (a->val[GH_MOPT_PORT] && gh_mgmt_uint_parse(a->val[GH_MOPT_PORT], 1, 65535, &v) != GH_OK)
        return gh_mgmt_fail(c, GH_ERR_USAGE, "--port must be 1-65535");
    h->port = (uint16_t)v;
    v = GH_MGMT_TIMEOUT_DEFAULT_S;
    if (a->val[GH_MOPT_TIMEOUT] &&
        gh_mgmt_uint_parse(a->val[GH_MOPT_TIMEOUT], 1, GH_MGMT_TIMEOUT_MAX_S, &v) != GH_OK)
        return gh_mgmt_fail(c, GH_ERR_USAGE, "--timeout must be 1-%u seconds",
                            GH_MGMT_TIMEOUT_MAX_S);
    h->timeout_ms = (unsigned)v * 1000u;
    h->address = a->val[GH_MOPT_ADDRESS];
    h->ca_file = a->val[GH_MOPT_CA] ? a->val[GH_MOPT_CA] : c->env_ca;
    struct gh_mgmt_cs_sources src = {
        .flag = a->val[GH_MOPT_CONNECTION_STRING],
        .flag_file = a->val[GH_MOPT_CONNECTION_STRING_FILE],
        .data_dir = a->val[GH_MOPT_DATA_DIR],
        .env = c->env_cs,
        .file_name = c->dps ? GH_MGMT_DPS_CS_FILE_NAME : NULL,
        .env_name = c->dps ? GH_MGMT_ENV_DPS_CS : NULL,
    };
    gh_err rc = gh_mgmt_cred_load(&src, &h->cred, c->msg, sizeof c->msg);
    if (rc != GH_OK) return rc;
    struct gh_tls_client_config tc = {.ca_file = h->ca_file};
    char detail[GH_TLS_DETAIL_MAX] = "";
    rc = gh_tls_client_new(&tc, &h->tls, detail, sizeof detail);
    if (rc != GH_OK) {
        gh_mgmt_cred_wipe(&h->cred);
        return gh_mgmt_fail(c, rc, "cannot use the trust bundle %s: %s",
                            h->ca_file ? h->ca_file : "(system default)",
                            detail[0] ? detail : gh_err_str(rc));
    }
    c->connected = true;
    return GH_OK;
}

void gh_mgmt_disconnect(struct gh_mgmt_ctx *c)
{
    if (!c->connected) return;
    gh_tls_client_free(c->hub.tls);
    gh_mgmt_cred_wipe(&c->hub.cred);
    memset(&c->hub, 0, sizeof c->hub);
    c->connected = false;
}

/* Token for the hub: sr = host (as Node's service SDK sends it), skn, se. */
static gh_err sign(const struct gh_mgmt_hub *h, char *out, size_t cap)
{
    struct gh_writer w;
    gh_writer_init(&w, out, cap);
    int64_t se = (int64_t)time(NULL) + GH_MGMT_TOKEN_TTL_S;
    GH_GUARD(gh_sas_build(gh_slice_cstr(h->cred.host), gh_slice_cstr(h->cred.key), se,
                          h->cred.policy, &w));
    return gh_writer_terminate(&w);
}

gh_err gh_mgmt_call(struct gh_mgmt_ctx *c, const struct gh_mgmt_req *rq,
                    struct gh_http_response *resp)
{
    GH_GUARD(gh_mgmt_connect(c));
    const struct gh_mgmt_hub *h = &c->hub;
    char token[GH_SAS_TOKEN_MAX];
    gh_err rc = sign(h, token, sizeof token);
    if (rc != GH_OK) {
        gh_secure_zero(token, sizeof token);
        return gh_mgmt_fail(c, rc == GH_ERR_BAD_BASE64 ? GH_ERR_CONFIG_VALUE : rc,
                            "cannot sign with the key of policy '%s' (from %s): %s", h->cred.policy,
                            h->cred.source, gh_err_str(rc));
    }
    struct gh_http_kv kv[GH_HTTP_CLIENT_HEADERS_MAX];
    size_t n = 0;
    kv[n++] = (struct gh_http_kv){"Authorization", token};
    if (rq->if_match) kv[n++] = (struct gh_http_kv){"If-Match", rq->if_match};
    if (rq->nheaders > GH_HTTP_CLIENT_HEADERS_MAX - n) {
        gh_secure_zero(token, sizeof token);
        return gh_mgmt_fail(c, GH_ERR_TOO_MANY, "too many header fields");
    }
    for (size_t i = 0; i < rq->nheaders; i++) kv[n++] = rq->headers[i];
    struct gh_http_client_options o = {
        .host = h->address ? h->address : h->cred.host,
        .port = h->port,
        .server_name = h->cred.host,
        .tls = h->tls,
    };
    struct gh_http_client_request hr = {
        .method = rq->method,
        .target = rq->target,
        .headers = kv,
        .n_headers = n,
        .content_type = rq->content_type,
        .body = rq->body,
        .body_len = rq->body_len,
        .timeout_ms = rq->timeout_ms ? rq->timeout_ms : h->timeout_ms,
    };
    struct gh_http_response r;
    memset(&r, 0, sizeof r);
    rc = gh_http_fetch(&o, &hr, &r);
    gh_secure_zero(token, sizeof token);
    if (rc != GH_OK) {
        if (rc == GH_ERR_ARG)
            return gh_mgmt_fail(c, rc,
                                "cannot send the request (an argument holds characters "
                                "HTTP cannot carry)");
        struct gh_mgmt_hub shown = *h;
        shown.timeout_ms = hr.timeout_ms;
        rc = gh_mgmt_transport_error(rc, &shown, c->msg[0] ? NULL : c->msg, sizeof c->msg);
        gh_secure_zero(&shown, sizeof shown);
        return rc;
    }
    if (r.status < 200 || r.status > 299) {
        rc = answer_error(c, rq, &r);
        gh_http_response_cleanup(&r);
        return rc;
    }
    *resp = r;
    return GH_OK;
}

gh_err gh_mgmt_call_json(struct gh_mgmt_ctx *c, const struct gh_mgmt_req *rq, json_t **out)
{
    struct gh_http_response r;
    GH_GUARD(gh_mgmt_call(c, rq, &r));
    json_t *j = NULL;
    gh_err rc = GH_OK;
    if (r.body_len > 0) {
        json_error_t jerr;
        j = json_loadb((const char *)r.body, r.body_len, JSON_DECODE_ANY, &jerr);
        if (j == NULL)
            rc = gh_mgmt_fail(c, GH_ERR_BAD_JSON, "the hub's answer is not JSON (%s)", jerr.text);
    }
    gh_http_response_cleanup(&r);
    if (rc == GH_OK) *out = j;
    return rc;
}
