/* Twins (PROTOCOL.md 5.4) and direct methods (5.6) over REST. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encoding.h"
#include "common/log.h"
#include "hub/rest_int.h"
#include "iothub/topic.h"

/* ---- twins ------------------------------------------------------------------ */

/* Answer 200 with a twin view and its etag as ETag. */
static void reply_twin(struct gh_hub_rest_ctx *c, json_t *view)
{
    char etag[GH_HUB_ETAG8_LEN + 8] = "";
    const char *e = json_string_value(json_object_get(view, "etag"));
    if (e != NULL && strlen(e) < sizeof etag) memcpy(etag, e, strlen(e) + 1);
    gh_hub_rest_reply(c->req, 200, view, etag[0] ? etag : NULL);
}

static void twin_get(struct gh_hub_rest_ctx *c, const char *dev, const char *mod)
{
    if (!gh_hub_rest_check_ids(c, dev, mod)) return;
    json_t *view = NULL;
    gh_err rc = gh_store_twin_service_view(gh_hub_store(c->rest->hub), dev, mod, &view);
    if (rc != GH_OK) {
        gh_hub_rest_reply_store_error(c, rc, dev, mod);
        return;
    }
    reply_twin(c, view);
}

static void twin_update(struct gh_hub_rest_ctx *c, const char *dev, const char *mod, bool replace)
{
    if (!gh_hub_rest_check_ids(c, dev, mod)) return;
    char etag_buf[GH_HUB_ETAG8_LEN + 8];
    const char *if_match;
    if (!gh_hub_rest_request_if_match(c, etag_buf, sizeof etag_buf, &if_match)) return;
    json_t *body = gh_hub_rest_body_json(c);
    if (body == NULL) return;
    if (!json_is_object(body)) {
        json_decref(body);
        gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID, "the body must be an object");
        return;
    }
    struct gh_store *s = gh_hub_store(c->rest->hub);
    json_t *notify = NULL, *view = NULL;
    gh_err rc = replace ? gh_store_twin_service_replace(s, dev, mod, body, if_match, &notify, &view)
                        : gh_store_twin_service_patch(s, dev, mod, body, if_match, &notify, &view);
    json_decref(body);
    if (rc != GH_OK) {
        gh_hub_rest_reply_store_error(c, rc, dev, mod);
        return;
    }
    if (notify != NULL) {
        gh_hub_session_desired(c->rest->hub, dev, mod, notify);
        json_decref(notify);
    }
    gh_log_debug("rest.twin.update", "device=%s module=%s op=%s", dev, mod ? mod : "",
                 replace ? "replace" : "patch");
    reply_twin(c, view);
}

void gh_hub_rest_twin_get(struct gh_hub_rest_ctx *c)
{
    twin_get(c, c->arg[0], NULL);
}

void gh_hub_rest_module_twin_get(struct gh_hub_rest_ctx *c)
{
    twin_get(c, c->arg[0], c->arg[1]);
}

void gh_hub_rest_twin_patch(struct gh_hub_rest_ctx *c)
{
    twin_update(c, c->arg[0], NULL, false);
}

void gh_hub_rest_module_twin_patch(struct gh_hub_rest_ctx *c)
{
    twin_update(c, c->arg[0], c->arg[1], false);
}

void gh_hub_rest_twin_put(struct gh_hub_rest_ctx *c)
{
    twin_update(c, c->arg[0], NULL, true);
}

void gh_hub_rest_module_twin_put(struct gh_hub_rest_ctx *c)
{
    twin_update(c, c->arg[0], c->arg[1], true);
}

/* ---- methods: pure parts ---------------------------------------------------- */

/* An optional integer member clamped to lo..hi (def when absent or null). */
static gh_err timeout(const json_t *body, const char *name, unsigned def, unsigned lo, unsigned hi,
                      unsigned *out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(body, name);
    if (v == NULL || json_is_null(v)) {
        *out = def;
        return GH_OK;
    }
    if (!json_is_integer(v)) {
        snprintf(err, errlen, "%s must be an integer", name);
        return GH_ERR_BAD_JSON;
    }
    json_int_t x = json_integer_value(v);
    *out = x < (json_int_t)lo ? lo : x > (json_int_t)hi ? hi : (unsigned)x;
    return GH_OK;
}

gh_err gh_hub_rest_method_parse(const json_t *body, struct gh_hub_rest_method_req *out, char *err,
                                size_t errlen)
{
    if (errlen > 0) err[0] = '\0';
    if (!json_is_object(body)) {
        snprintf(err, errlen, "the body must be an object");
        return GH_ERR_BAD_JSON;
    }
    const json_t *name = json_object_get(body, "methodName");
    if (name == NULL || json_is_null(name)) {
        snprintf(err, errlen, "methodName is required");
        return GH_ERR_ARG;
    }
    if (!json_is_string(name)) {
        snprintf(err, errlen, "methodName must be a string");
        return GH_ERR_BAD_JSON;
    }
    size_t nlen = json_string_length(name);
    struct gh_slice ns = {(const uint8_t *)json_string_value(name), nlen};
    if (nlen > GH_REST_METHOD_NAME_MAX || memchr(ns.ptr, 0, nlen) != NULL ||
        !gh_iothub_valid_method_name(ns)) {
        snprintf(err, errlen, "methodName is not a valid method name");
        return GH_ERR_ARG;
    }
    unsigned rto, cto;
    GH_GUARD(timeout(body, "responseTimeoutInSeconds", GH_REST_METHOD_RESPONSE_DEFAULT,
                     GH_REST_METHOD_RESPONSE_MIN, GH_REST_METHOD_RESPONSE_MAX, &rto, err, errlen));
    GH_GUARD(timeout(body, "connectTimeoutInSeconds", GH_REST_METHOD_CONNECT_DEFAULT, 0,
                     GH_REST_METHOD_CONNECT_MAX, &cto, err, errlen));
    const json_t *payload = json_object_get(body, "payload");
    char *text = payload ? json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("null");
    if (text == NULL) {
        snprintf(err, errlen, "out of memory");
        return GH_ERR_NOMEM;
    }
    if (strlen(text) > GH_REST_METHOD_PAYLOAD_MAX) {
        free(text);
        snprintf(err, errlen, "the payload is larger than %u bytes",
                 (unsigned)GH_REST_METHOD_PAYLOAD_MAX);
        return GH_ERR_TOO_LARGE;
    }
    memcpy(out->name, ns.ptr, nlen);
    out->name[nlen] = '\0';
    out->payload = text;
    out->response_timeout_s = rto;
    out->connect_timeout_s = cto;
    return GH_OK;
}

/* The device's body as a JSON value: parsed, else a string (UTF-8 text as
 * is, anything else base64). NULL on allocation failure. */
static json_t *device_payload(const char *p, size_t len)
{
    if (len == 0) return json_null();
    json_t *j = json_loadb(p, len, JSON_DECODE_ANY, NULL);
    if (j != NULL) return j;
    if (gh_utf8_valid((const uint8_t *)p, len)) return json_stringn(p, len);
    size_t cap = gh_base64_encoded_len(len) + 1;
    char *b = malloc(cap);
    if (b == NULL) return NULL;
    struct gh_writer w;
    gh_writer_init(&w, b, cap);
    json_t *s = NULL;
    if (gh_base64_encode((const uint8_t *)p, len, &w) == GH_OK) s = json_stringn(b, w.len);
    free(b);
    return s;
}

gh_err gh_hub_rest_method_result(int device_status, const char *payload, size_t len, json_t **out)
{
    json_t *p = device_payload(payload, len);
    json_t *j = p ? json_pack("{s:i,s:o}", "status", device_status, "payload", p) : NULL;
    GH_ENSURE(j != NULL, GH_ERR_NOMEM);
    *out = j;
    return GH_OK;
}

/* ---- methods: the call ---------------------------------------------------------- */

static void on_method_done(void *user, int http_status, int device_status, const char *payload,
                           size_t payload_len)
{
    struct gh_hub_rest_held *h = user;
    struct gh_http_request *req = h->req;
    h->call = NULL; /* finished: nothing to cancel */
    gh_hub_rest_held_free(h);
    json_t *j = NULL;
    switch (http_status) {
    case 200:
        if (gh_hub_rest_method_result(device_status, payload, payload_len, &j) != GH_OK) {
            gh_hub_rest_reply_error(req, GH_REST_SERVER_ERROR, "out of memory");
            return;
        }
        gh_hub_rest_reply(req, 200, j, NULL);
        return;
    case 404:
        gh_hub_rest_reply_error(req, GH_REST_DEVICE_NOT_ONLINE,
                                "Timed out waiting for the device to connect.");
        return;
    case 504:
        gh_hub_rest_reply_error(req, GH_REST_GATEWAY_TIMEOUT,
                                "Timed out waiting for the response from the device.");
        return;
    case 503:
        gh_hub_rest_reply_error(req, GH_REST_SERVICE_UNAVAILABLE, "The hub is shutting down.");
        return;
    default:
        gh_hub_rest_reply_error(req, GH_REST_SERVER_ERROR, "method call failed (%d)", http_status);
        return;
    }
}

static void invoke(struct gh_hub_rest_ctx *c, const char *dev, const char *mod)
{
    if (!gh_hub_rest_check_ids(c, dev, mod)) return;
    json_t *body = gh_hub_rest_body_json(c);
    if (body == NULL) return;
    struct gh_hub_rest_method_req m;
    char err[160];
    gh_err rc = gh_hub_rest_method_parse(body, &m, err, sizeof err);
    json_decref(body);
    if (rc != GH_OK) {
        gh_hub_rest_reply_error(c->req,
                                rc == GH_ERR_TOO_LARGE ? GH_REST_MESSAGE_TOO_LARGE
                                : rc == GH_ERR_NOMEM   ? GH_REST_SERVER_ERROR
                                                       : GH_REST_ARGUMENT_INVALID,
                                "%s", err);
        return;
    }
    struct gh_identity *id = calloc(1, sizeof *id);
    rc = id ? gh_store_identity_get(gh_hub_store(c->rest->hub), dev, mod, id) : GH_ERR_NOMEM;
    gh_identity_wipe(id);
    free(id);
    if (rc != GH_OK) {
        free(m.payload);
        gh_hub_rest_reply_store_error(c, rc, dev, mod);
        return;
    }
    struct gh_hub_rest_held *h = NULL;
    rc = gh_hub_rest_hold(c, GH_REST_HELD_METHOD, &h);
    if (rc == GH_OK)
        rc = gh_hub_method_invoke(c->rest->hub, dev, mod, m.name, m.payload, m.connect_timeout_s,
                                  m.response_timeout_s, on_method_done, h, &h->call);
    free(m.payload);
    if (rc != GH_OK) {
        gh_hub_rest_held_free(h);
        gh_hub_rest_reply_error(c->req, GH_REST_SERVER_ERROR, "cannot start the method call");
        return;
    }
    gh_log_debug("rest.method.invoke", "device=%s module=%s method=%s connect=%u response=%u", dev,
                 mod ? mod : "", m.name, m.connect_timeout_s, m.response_timeout_s);
}

void gh_hub_rest_method_invoke(struct gh_hub_rest_ctx *c)
{
    invoke(c, c->arg[0], NULL);
}

void gh_hub_rest_module_method_invoke(struct gh_hub_rest_ctx *c)
{
    invoke(c, c->arg[0], c->arg[1]);
}
