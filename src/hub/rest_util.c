/* The REST API's shared pieces: error codes and bodies, answers, request
 * bodies, If-Match, small parsers, id checks, session kicks. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "hub/rest_int.h"
#include "hub/stamp.h"
#include "iothub/crypto.h"
#include "iothub/username.h"

/* ---- codes --------------------------------------------------------------- */

static const struct {
    unsigned status;
    const char *name;
    uint32_t number;
} codes[GH_REST_CODE_COUNT] = {
    [GH_REST_ARGUMENT_INVALID] = {400, "ArgumentInvalid", 400004},
    [GH_REST_MESSAGE_TOO_LARGE] = {413, "MessageTooLarge", 413002},
    [GH_REST_UNAUTHORIZED] = {401, "IotHubUnauthorizedAccess", 401002},
    [GH_REST_QUEUE_DEPTH_EXCEEDED] = {403, "DeviceMaximumQueueDepthExceeded", 403004},
    [GH_REST_DEVICE_NOT_FOUND] = {404, "DeviceNotFound", 404001},
    [GH_REST_MODULE_NOT_FOUND] = {404, "ModuleNotFound", 404010},
    [GH_REST_DEVICE_NOT_ONLINE] = {404, "DeviceNotOnline", 404103},
    [GH_REST_CERT_NOT_FOUND] = {404, "CertificateNotFound", 404301},
    [GH_REST_NOT_FOUND] = {404, "NotFound", 404000},
    [GH_REST_METHOD_NOT_ALLOWED] = {405, "MethodNotAllowed", 405000},
    [GH_REST_DEVICE_EXISTS] = {409, "DeviceAlreadyExists", 409001},
    [GH_REST_MODULE_EXISTS] = {409, "ModuleAlreadyExistsOnDevice", 409301},
    [GH_REST_CERT_EXISTS] = {409, "CertificateAlreadyExists", 409302},
    [GH_REST_PRECONDITION_FAILED] = {412, "PreconditionFailed", 412001},
    [GH_REST_CERT_VERIFY_FAILED] = {400, "CertificateVerificationFailed", 400301},
    [GH_REST_SERVER_ERROR] = {500, "ServerError", 500001},
    [GH_REST_SERVICE_UNAVAILABLE] = {503, "ServiceUnavailable", 503001},
    [GH_REST_GATEWAY_TIMEOUT] = {504, "GatewayTimeout", 504101},
};

static enum gh_hub_rest_code known(enum gh_hub_rest_code c)
{
    return (unsigned)c < GH_REST_CODE_COUNT ? c : GH_REST_SERVER_ERROR;
}

unsigned gh_hub_rest_code_status(enum gh_hub_rest_code c)
{
    return codes[known(c)].status;
}

const char *gh_hub_rest_code_name(enum gh_hub_rest_code c)
{
    return codes[known(c)].name;
}

uint32_t gh_hub_rest_code_number(enum gh_hub_rest_code c)
{
    return codes[known(c)].number;
}

/* ---- error bodies ---------------------------------------------------------- */

/* Copy text into out (cap > GH_REST_ERROR_TEXT_MAX) made safe for the
 * Message field: cut at a character boundary, ';' -> ',', controls -> ' ',
 * and if what is left is not UTF-8, every non-ASCII byte -> '?'. */
static void sanitize(const char *text, char *out, size_t cap)
{
    size_t n = text ? strlen(text) : 0;
    if (n > GH_REST_ERROR_TEXT_MAX) {
        n = GH_REST_ERROR_TEXT_MAX;
        while (n > 0 && ((uint8_t)text[n] & 0xc0) == 0x80) n--;
    }
    if (n >= cap) n = cap - 1;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = (uint8_t)text[i];
        out[i] = b == ';' ? ',' : (b < 0x20 || b == 0x7f) ? ' ' : (char)b;
    }
    out[n] = '\0';
    if (!gh_utf8_valid((const uint8_t *)out, n))
        for (size_t i = 0; i < n; i++)
            if ((uint8_t)out[i] >= 0x80) out[i] = '?';
}

gh_err gh_hub_rest_error_body(enum gh_hub_rest_code c, const char *text, const char *tracking,
                              int64_t now_ms, char **out)
{
    char clean[GH_REST_ERROR_TEXT_MAX + 1];
    sanitize(text, clean, sizeof clean);
    char msg[GH_REST_ERROR_TEXT_MAX + 96];
    snprintf(msg, sizeof msg, "ErrorCode:%s;%s", gh_hub_rest_code_name(c), clean);
    /* .NET's invariant "MM/dd/yyyy HH:mm:ss", as IoT Hub writes it. */
    char stamp[64] = "01/01/0001 00:00:00";
    time_t secs = (time_t)(now_ms / 1000);
    struct tm tm;
    if (now_ms > 0 && gmtime_r(&secs, &tm) != NULL)
        snprintf(stamp, sizeof stamp, "%02d/%02d/%04d %02d:%02d:%02d", tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    char exc[192];
    char track[48];
    sanitize(tracking ? tracking : "", track, sizeof track);
    snprintf(exc, sizeof exc, "Tracking ID:%s-TimeStamp:%s", track, stamp);
    json_t *j = json_pack("{s:s,s:s,s:I}", "Message", msg, "ExceptionMessage", exc, "errorCode",
                          (json_int_t)gh_hub_rest_code_number(c));
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    GH_ENSURE(s != NULL, GH_ERR_NOMEM);
    *out = s;
    return GH_OK;
}

/* ---- answers --------------------------------------------------------------- */

static void log_respond(gh_err rc, unsigned status)
{
    if (rc != GH_OK && rc != GH_ERR_CLOSED)
        gh_log_warn("rest.respond", "status=%u err=%s", status, gh_err_name(rc));
}

static void respond_text(struct gh_http_request *req, unsigned status, char *text,
                         const struct gh_http_kv *kv, size_t n)
{
    size_t len = text ? strlen(text) : 0;
    gh_err rc =
        gh_http_respond(req, status, text ? GH_HTTP_CONTENT_TYPE_JSON : NULL, text, len, kv, n);
    log_respond(rc, status);
    if (text) {
        /* Registry bodies carry symmetric keys. */
        gh_secure_zero(text, len);
        free(text);
    }
}

void gh_hub_rest_reply(struct gh_http_request *req, unsigned status, json_t *body, const char *etag)
{
    char *text = NULL;
    if (body != NULL) {
        text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(body);
        if (text == NULL) {
            gh_hub_rest_reply_error(req, GH_REST_SERVER_ERROR, "out of memory");
            return;
        }
    }
    struct gh_http_kv kv[1];
    size_t n = 0;
    char quoted[GH_HUB_ETAG_MAX + GH_HUB_ETAG8_LEN + 4];
    if (etag != NULL && strlen(etag) + 3 <= sizeof quoted) {
        snprintf(quoted, sizeof quoted, "\"%s\"", etag);
        kv[n++] = (struct gh_http_kv){"ETag", quoted};
    }
    respond_text(req, status, text, kv, n);
}

static void reply_errorv(struct gh_http_request *req, enum gh_hub_rest_code code,
                         const struct gh_http_kv *extra, size_t n_extra, const char *fmt,
                         va_list ap) __attribute__((format(printf, 5, 0)));

static void reply_errorv(struct gh_http_request *req, enum gh_hub_rest_code code,
                         const struct gh_http_kv *extra, size_t n_extra, const char *fmt,
                         va_list ap)
{
    char text[GH_REST_ERROR_TEXT_MAX + 1];
    vsnprintf(text, sizeof text, fmt, ap);
    char guid[GH_HUB_GUID_LEN], tracking[GH_HUB_GUID_LEN];
    size_t k = 0;
    if (gh_hub_guid(guid) == GH_OK)
        for (size_t i = 0; guid[i] != '\0'; i++)
            if (guid[i] != '-') tracking[k++] = guid[i];
    tracking[k] = '\0';
    unsigned status = gh_hub_rest_code_status(code);
    char *body = NULL;
    if (gh_hub_rest_error_body(code, text, tracking, gh_hub_now_ms(), &body) != GH_OK) {
        gh_http_request_release(req); /* out of memory: drop the connection */
        return;
    }
    if (status >= 500)
        gh_log_error("rest.error", "status=%u code=%s", status, gh_hub_rest_code_name(code));
    struct gh_http_kv kv[2] = {{"iothub-errorcode", gh_hub_rest_code_name(code)}};
    size_t n = 1;
    if (n_extra > 0) kv[n++] = extra[0];
    respond_text(req, status, body, kv, n);
}

void gh_hub_rest_reply_error(struct gh_http_request *req, enum gh_hub_rest_code code,
                             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reply_errorv(req, code, NULL, 0, fmt, ap);
    va_end(ap);
}

void gh_hub_rest_reply_error_with(struct gh_http_request *req, enum gh_hub_rest_code code,
                                  const struct gh_http_kv *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reply_errorv(req, code, field, field ? 1 : 0, fmt, ap);
    va_end(ap);
}

void gh_hub_rest_reply_store_error(struct gh_hub_rest_ctx *c, gh_err rc, const char *device_id,
                                   const char *module_id)
{
    struct gh_store *s = gh_hub_store(c->rest->hub);
    const char *why = gh_store_errmsg(s);
    bool module = module_id != NULL && module_id[0] != '\0';
    switch (rc) {
    case GH_ERR_NOT_FOUND: {
        if (module) {
            struct gh_identity *dev = calloc(1, sizeof *dev);
            gh_err drc = dev ? gh_store_identity_get(s, device_id, NULL, dev) : GH_ERR_NOMEM;
            gh_identity_wipe(dev);
            free(dev);
            if (drc == GH_OK) {
                gh_hub_rest_reply_error(c->req, GH_REST_MODULE_NOT_FOUND,
                                        "Module %s on device %s is not registered.", module_id,
                                        device_id);
                return;
            }
        }
        gh_hub_rest_reply_error(c->req, GH_REST_DEVICE_NOT_FOUND, "Device %s is not registered.",
                                device_id);
        return;
    }
    case GH_ERR_CONFLICT:
        if (module)
            gh_hub_rest_reply_error(c->req, GH_REST_MODULE_EXISTS,
                                    "Module %s already exists on device %s.", module_id, device_id);
        else
            gh_hub_rest_reply_error(c->req, GH_REST_DEVICE_EXISTS, "Device %s already exists.",
                                    device_id);
        return;
    case GH_ERR_ETAG_MISMATCH:
        gh_hub_rest_reply_error(c->req, GH_REST_PRECONDITION_FAILED,
                                "The etag does not match (If-Match).");
        return;
    case GH_ERR_QUEUE_FULL:
        gh_hub_rest_reply_error(c->req, GH_REST_QUEUE_DEPTH_EXCEEDED,
                                "Device %s has %d messages queued.", device_id, GH_C2D_QUEUE_MAX);
        return;
    case GH_ERR_ARG:
    case GH_ERR_BAD_JSON:
    case GH_ERR_BAD_UTF8:
    case GH_ERR_MALFORMED:
        gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID, "%s", why);
        return;
    case GH_ERR_TOO_LARGE:
        gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID, "%s", why[0] ? why : "too large");
        return;
    default:
        gh_log_error("rest.store", "err=%s detail=\"%s\"", gh_err_name(rc), why);
        gh_hub_rest_reply_error(c->req, GH_REST_SERVER_ERROR, "internal error");
        return;
    }
}

/* ---- request pieces --------------------------------------------------------- */

json_t *gh_hub_rest_body_json(struct gh_hub_rest_ctx *c)
{
    struct gh_slice b = gh_http_request_body(c->req);
    if (b.len == 0) {
        gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID, "the request body is empty");
        return NULL;
    }
    json_error_t e;
    json_t *j = json_loadb((const char *)b.ptr, b.len, JSON_REJECT_DUPLICATES, &e);
    if (j == NULL) {
        gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID,
                                "the request body is not valid JSON (line %d column %d)", e.line,
                                e.column);
        return NULL;
    }
    return j;
}

gh_err gh_hub_rest_if_match(const char *header, char *out, size_t cap, const char **result)
{
    if (header == NULL || header[0] == '\0') {
        *result = NULL;
        return GH_OK;
    }
    const char *v = header;
    if (strncmp(v, "W/", 2) == 0) v += 2;
    size_t n = strlen(v);
    if (n > 0 && v[0] == '"') {
        GH_ENSURE(n >= 2 && v[n - 1] == '"', GH_ERR_MALFORMED);
        v++;
        n -= 2;
    }
    GH_ENSURE(memchr(v, '"', n) == NULL, GH_ERR_MALFORMED);
    GH_ENSURE(n < cap, GH_ERR_TOO_LARGE);
    memcpy(out, v, n);
    out[n] = '\0';
    *result = out;
    return GH_OK;
}

bool gh_hub_rest_request_if_match(struct gh_hub_rest_ctx *c, char *buf, size_t cap,
                                  const char **out)
{
    gh_err rc = gh_hub_rest_if_match(gh_http_request_header(c->req, "If-Match"), buf, cap, out);
    if (rc == GH_ERR_TOO_LARGE) {
        /* Longer than any etag we hand out: it cannot match. */
        gh_hub_rest_reply_error(c->req, GH_REST_PRECONDITION_FAILED,
                                "The etag does not match (If-Match).");
        return false;
    }
    if (rc != GH_OK) {
        gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID, "malformed If-Match");
        return false;
    }
    return true;
}

bool gh_hub_rest_check_ids(struct gh_hub_rest_ctx *c, const char *device_id, const char *module_id)
{
    if (!gh_iothub_valid_device_id(gh_slice_cstr(device_id))) {
        gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID, "invalid device id");
        return false;
    }
    if (module_id != NULL && !gh_iothub_valid_module_id(gh_slice_cstr(module_id))) {
        gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID, "invalid module id");
        return false;
    }
    return true;
}

/* ---- session kicks ------------------------------------------------------------ */

gh_err gh_hub_rest_module_ids(struct gh_hub_rest *r, const char *device_id,
                              struct gh_hub_rest_ids *out)
{
    enum { PAGE = 32 };
    struct gh_store *s = gh_hub_store(r->hub);
    struct gh_identity *page = calloc(PAGE, sizeof *page);
    GH_ENSURE(page != NULL, GH_ERR_NOMEM);
    struct gh_hub_rest_ids ids = {0};
    char after[GH_IDENTITY_ID_MAX + 1] = "";
    gh_err rc;
    for (;;) {
        size_t n = 0;
        rc = gh_store_module_list(s, device_id, after, PAGE, page, PAGE, &n);
        if (rc != GH_OK) break;
        if (n > 0) {
            void *grown = realloc(ids.id, (ids.n + n) * sizeof *ids.id);
            if (grown == NULL) {
                rc = GH_ERR_NOMEM;
                break;
            }
            ids.id = grown;
            for (size_t i = 0; i < n; i++)
                memcpy(ids.id[ids.n++], page[i].module_id, sizeof ids.id[0]);
            memcpy(after, page[n - 1].module_id, sizeof after);
        }
        for (size_t i = 0; i < n; i++) gh_identity_wipe(&page[i]);
        if (n < PAGE) break;
    }
    for (size_t i = 0; i < PAGE; i++) gh_identity_wipe(&page[i]);
    free(page);
    if (rc != GH_OK) {
        free(ids.id);
        return rc;
    }
    *out = ids;
    return GH_OK;
}

void gh_hub_rest_kick(struct gh_hub_rest *r, const char *device_id,
                      const struct gh_hub_rest_ids *modules, const char *reason)
{
    for (size_t i = 0; modules != NULL && i < modules->n; i++)
        gh_hub_session_kick(r->hub, device_id, modules->id[i], reason);
    gh_hub_session_kick(r->hub, device_id, NULL, reason);
}

/* ---- small parsers -------------------------------------------------------------- */

gh_err gh_hub_rest_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    GH_ENSURE(s != NULL && s[0] != '\0', GH_ERR_MALFORMED);
    uint64_t v = 0;
    for (const char *p = s; *p != '\0'; p++) {
        GH_ENSURE(*p >= '0' && *p <= '9', GH_ERR_MALFORMED);
        uint64_t d = (uint64_t)(*p - '0');
        GH_ENSURE(v <= (max - d) / 10, GH_ERR_TOO_LARGE);
        v = v * 10 + d;
    }
    *out = v;
    return GH_OK;
}
