#include "hub/telemetry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encoding.h"
#include "hub/stamp.h"
#include "hub/store.h"
#include "iothub/bag.h"

/* Wire key -> built-in endpoint name. iothub-operation is Edge-internal and
 * dropped from device messages (1.8.2). */
static const char *system_name(enum gh_iothub_prop p)
{
    switch (p) {
    case GH_IOTHUB_PROP_MESSAGE_ID:
        return "message-id";
    case GH_IOTHUB_PROP_CORRELATION_ID:
        return "correlation-id";
    case GH_IOTHUB_PROP_USER_ID:
        return "user-id";
    case GH_IOTHUB_PROP_TO:
        return "to";
    case GH_IOTHUB_PROP_CONTENT_TYPE:
        return "content-type";
    case GH_IOTHUB_PROP_CONTENT_ENCODING:
        return "content-encoding";
    case GH_IOTHUB_PROP_EXPIRY:
        return "absolute-expiry-time";
    case GH_IOTHUB_PROP_CREATION_TIME:
        return "creation-time";
    case GH_IOTHUB_PROP_OUTPUT_NAME:
        return "output-name";
    case GH_IOTHUB_PROP_INTERFACE_ID:
        return "iothub-interface-id";
    case GH_IOTHUB_PROP_SUBJECT:
        return "dt-subject";
    case GH_IOTHUB_PROP_SCHEMA:
        return "message-schema";
    case GH_IOTHUB_PROP_DIAG_ID:
        return "diag-id";
    case GH_IOTHUB_PROP_DIAG_CONTEXT:
        return "diag-context";
    default:
        return NULL;
    }
}

static gh_err set_str(json_t *obj, const char *key, const char *v, size_t n)
{
    json_t *s = json_stringn(v, n);
    GH_ENSURE(s, GH_ERR_BAD_UTF8); /* jansson refuses invalid UTF-8 */
    GH_ENSURE(json_object_set_new(obj, key, s) == 0, GH_ERR_NOMEM);
    return GH_OK;
}

static gh_err set_slice(json_t *obj, struct gh_slice key, struct gh_slice v, bool has_value)
{
    char k[1024];
    GH_ENSURE(key.len < sizeof k, GH_ERR_TOO_LARGE);
    memcpy(k, key.ptr, key.len);
    k[key.len] = '\0';
    GH_ENSURE(strlen(k) == key.len, GH_ERR_BAD_UTF8);
    if (!has_value) {
        GH_ENSURE(json_object_set_new(obj, k, json_null()) == 0, GH_ERR_NOMEM);
        return GH_OK;
    }
    return set_str(obj, k, (const char *)v.ptr, v.len);
}

gh_err gh_hub_telemetry_props(const struct gh_hub_sender *from, struct gh_slice bag,
                              size_t body_len, bool retain, bool will, int64_t enqueued_ms,
                              size_t max_size, json_t **out)
{
    gh_err rc = GH_OK;
    json_t *sys = json_object(), *app = json_object(), *root = json_object();
    uint8_t *scratch = NULL;
    if (!sys || !app || !root) {
        rc = GH_ERR_NOMEM;
        goto out;
    }
    /* Decoded text is never longer than the bag. */
    scratch = malloc(bag.len ? bag.len : 1);
    if (!scratch) {
        rc = GH_ERR_NOMEM;
        goto out;
    }
    struct gh_writer w;
    gh_writer_init(&w, scratch, bag.len ? bag.len : 1);
    struct gh_iothub_bag_iter it;
    gh_iothub_bag_iter_init(&it, bag);
    size_t budget = body_len;
    for (;;) {
        struct gh_iothub_bag_item item;
        bool found;
        rc = gh_iothub_bag_next(&it, &w, &item, &found);
        if (rc != GH_OK) goto out;
        if (!found) break;
        enum gh_iothub_prop p = gh_iothub_prop_classify(item.key);
        if (p == GH_IOTHUB_PROP_OPERATION) continue;
        const char *name = system_name(p);
        if (name) {
            budget += item.value.len;
            rc = set_str(sys, name, (const char *)item.value.ptr, item.value.len);
        } else {
            budget += item.key.len + item.value.len;
            rc = set_slice(app, item.key, item.value, item.has_value);
        }
        if (rc != GH_OK) goto out;
        if (budget > max_size) {
            rc = GH_ERR_TOO_LARGE;
            goto out;
        }
    }
    if (budget > max_size) {
        rc = GH_ERR_TOO_LARGE;
        goto out;
    }
    if (retain && (rc = set_str(app, "mqtt-retain", "true", 4)) != GH_OK) goto out;
    if (will && (rc = set_str(app, "iothub-MessageType", "Will", 4)) != GH_OK) goto out;

    /* Stamped last: they win over anything the device sent (1.8.3). */
    char when[GH_HUB_TIME_LEN], method[160];
    gh_hub_time_format(enqueued_ms, when);
    bool module = from->module_id && from->module_id[0];
    snprintf(method, sizeof method, "{\"scope\":\"%s\",\"type\":\"%s\",\"issuer\":\"iothub\"}",
             module ? "module" : "device", from->auth_type);
    if (json_object_set_new(sys, "iothub-connection-device-id", json_string(from->device_id)) ||
        (module &&
         json_object_set_new(sys, "iothub-connection-module-id", json_string(from->module_id))) ||
        json_object_set_new(sys, "iothub-connection-auth-generation-id",
                            json_string(from->generation_id)) ||
        json_object_set_new(sys, "iothub-connection-auth-method", json_string(method)) ||
        json_object_set_new(sys, "iothub-enqueuedtime", json_string(when)) ||
        json_object_set_new(sys, "iothub-message-source", json_string("Telemetry")) ||
        (from->model_id && from->model_id[0] &&
         json_object_set_new(sys, "dt-dataschema", json_string(from->model_id)))) {
        rc = GH_ERR_NOMEM;
        goto out;
    }
    if (json_object_set(root, "system", sys) || json_object_set(root, "app", app)) {
        rc = GH_ERR_NOMEM;
        goto out;
    }
    *out = root;
    root = NULL;
out:
    free(scratch);
    json_decref(sys);
    json_decref(app);
    json_decref(root);
    return rc;
}

gh_err gh_hub_telemetry_envelope(const struct gh_telemetry_msg *m, json_t **out)
{
    char when[GH_HUB_TIME_LEN];
    gh_hub_time_format(m->enqueued_ms, when);
    json_t *body;
    const char *enc;
    if (gh_utf8_valid(m->body, m->body_len)) {
        body = json_stringn(m->body_len ? (const char *)m->body : "", m->body_len);
        enc = "utf-8";
    } else {
        size_t cap = gh_base64_encoded_len(m->body_len) + 1;
        char *b64 = malloc(cap);
        struct gh_writer w;
        gh_writer_init(&w, b64, b64 ? cap : 0);
        body = (b64 && gh_base64_encode(m->body, m->body_len, &w) == GH_OK)
                   ? json_stringn(b64, w.len)
                   : NULL;
        free(b64);
        enc = "base64";
    }
    json_t *props = m->properties ? json_incref(m->properties) : json_object();
    json_t *o = json_pack("{s:I, s:s, s:o, s:s, s:o, s:o, s:s}", "seq", (json_int_t)m->seq,
                          "deviceId", m->device_id, "moduleId",
                          m->module_id[0] ? json_string(m->module_id) : json_null(), "enqueuedTime",
                          when, "properties", props, "body", body, "bodyEncoding", enc);
    GH_ENSURE(o, GH_ERR_NOMEM);
    *out = o;
    return GH_OK;
}
