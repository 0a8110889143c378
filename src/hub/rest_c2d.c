/* Cloud-to-device over REST, a gatehouse extension (the Node service SDK
 * sends over AMQP, PROTOCOL.md 5.7): POST /devices/{D}/messages/deviceBound
 * queues a message, DELETE /devices/{D}/commands purges the queue. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/encoding.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "hub/rest_int.h"

/* Header -> system property name (the names session delivery reads). */
static const char *const system_fields[][2] = {
    {"iothub-correlationid", "correlation-id"},
    {"iothub-userid", "user-id"},
    {"content-type", "content-type"},
    {"content-encoding", "content-encoding"},
};

#define NSYSTEM (sizeof system_fields / sizeof system_fields[0])

static gh_err fail(char *err, size_t errlen, gh_err rc, const char *what, const char *field)
{
    snprintf(err, errlen, "%s: %s", field, what);
    return rc;
}

static bool message_id_ok(struct gh_slice v)
{
    if (v.len == 0 || v.len > GH_C2D_MSGID_MAX) return false;
    for (size_t i = 0; i < v.len; i++)
        if (v.ptr[i] < 0x21 || v.ptr[i] > 0x7e) return false;
    return true;
}

static gh_err parse_ack(struct gh_slice v, enum gh_c2d_ack *out)
{
    static const char *const names[] = {"none", "positive", "negative", "full"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (gh_slice_eq_nocase(v, gh_slice_cstr(names[i]))) {
            *out = (enum gh_c2d_ack)i;
            return GH_OK;
        }
    }
    return GH_ERR_ARG;
}

/* Add name=value to obj (a property value must be UTF-8, both bounded). */
static gh_err put_prop(json_t *obj, const char *name, struct gh_slice v, const char *field,
                       char *err, size_t errlen)
{
    if (v.len > GH_REST_C2D_PROP_MAX || strlen(name) > GH_REST_C2D_PROP_MAX)
        return fail(err, errlen, GH_ERR_TOO_LARGE, "too long", field);
    if (!gh_utf8_valid(v.ptr, v.len)) return fail(err, errlen, GH_ERR_ARG, "not UTF-8", field);
    if (json_object_get(obj, name) != NULL)
        return fail(err, errlen, GH_ERR_ARG, "given more than once", field);
    json_t *s = json_stringn((const char *)v.ptr, v.len);
    if (s == NULL || json_object_set_new(obj, name, s) != 0)
        return fail(err, errlen, GH_ERR_NOMEM, "out of memory", field);
    return GH_OK;
}

static gh_err map_field(const struct gh_http_header *h, int64_t now_ms, struct gh_hub_rest_c2d *out,
                        json_t *sys, json_t *app, bool *seen, char *err, size_t errlen)
{
    const char *name = (const char *)h->name.ptr; /* NUL-terminated by the server */
    size_t plen = strlen(GH_REST_C2D_APP_PREFIX);
    if (h->name.len > plen && strncasecmp(name, GH_REST_C2D_APP_PREFIX, plen) == 0) {
        if (json_object_size(app) >= GH_REST_C2D_APP_PROPS_MAX)
            return fail(err, errlen, GH_ERR_TOO_MANY, "too many application properties", name);
        /* Header names are tokens: other characters travel percent-encoded. */
        char pname[GH_REST_C2D_PROP_MAX + 1];
        struct gh_writer w;
        gh_writer_init(&w, pname, sizeof pname);
        if (gh_pct_decode(name + plen, h->name.len - plen, &w) != GH_OK ||
            gh_writer_terminate(&w) != GH_OK)
            return fail(err, errlen, GH_ERR_TOO_LARGE, "too long", name);
        if (strlen(pname) != w.len || !gh_utf8_valid(w.data, w.len))
            return fail(err, errlen, GH_ERR_ARG, "property name is not UTF-8 text", name);
        return put_prop(app, pname, h->value, name, err, errlen);
    }
    for (size_t i = 0; i < NSYSTEM; i++)
        if (strcasecmp(name, system_fields[i][0]) == 0)
            return put_prop(sys, system_fields[i][1], h->value, name, err, errlen);
    char text[GH_C2D_MSGID_MAX + 1];
    if (strcasecmp(name, "iothub-messageid") == 0) {
        if (seen[0]) return fail(err, errlen, GH_ERR_ARG, "given more than once", name);
        seen[0] = true;
        if (!message_id_ok(h->value))
            return fail(err, errlen, GH_ERR_ARG, "must be 1..128 printable characters", name);
        memcpy(out->message_id, h->value.ptr, h->value.len);
        out->message_id[h->value.len] = '\0';
    } else if (strcasecmp(name, "iothub-expiry") == 0) {
        if (seen[1]) return fail(err, errlen, GH_ERR_ARG, "given more than once", name);
        seen[1] = true;
        int64_t ms;
        if (gh_slice_to_cstr(h->value, text, sizeof text) != GH_OK ||
            gh_time_parse(text, &ms) != GH_OK)
            return fail(err, errlen, GH_ERR_ARG, "not an ISO 8601 UTC time", name);
        if (ms <= now_ms) return fail(err, errlen, GH_ERR_ARG, "already past", name);
        out->expiry_ms = ms;
    } else if (strcasecmp(name, "iothub-ack") == 0) {
        if (seen[2]) return fail(err, errlen, GH_ERR_ARG, "given more than once", name);
        seen[2] = true;
        if (parse_ack(h->value, &out->ack) != GH_OK)
            return fail(err, errlen, GH_ERR_ARG, "must be none, positive, negative or full", name);
    }
    return GH_OK;
}

gh_err gh_hub_rest_c2d_from_fields(const struct gh_http_fields *f, int64_t now_ms,
                                   int64_t default_ttl_ms, struct gh_hub_rest_c2d *out, char *err,
                                   size_t errlen)
{
    if (errlen > 0) err[0] = '\0';
    struct gh_hub_rest_c2d m;
    memset(&m, 0, sizeof m);
    m.expiry_ms = now_ms + default_ttl_ms;
    m.ack = GH_C2D_ACK_NONE;
    json_t *sys = json_object(), *app = json_object();
    m.properties = json_object();
    gh_err rc = GH_OK;
    if (sys == NULL || app == NULL || m.properties == NULL) {
        rc = fail(err, errlen, GH_ERR_NOMEM, "out of memory", "properties");
        goto out;
    }
    bool seen[3] = {false, false, false};
    for (size_t i = 0; i < f->count && rc == GH_OK; i++)
        rc = map_field(&f->h[i], now_ms, &m, sys, app, seen, err, errlen);
    if (rc == GH_OK && (json_object_set(m.properties, "system", sys) != 0 ||
                        json_object_set(m.properties, "app", app) != 0))
        rc = fail(err, errlen, GH_ERR_NOMEM, "out of memory", "properties");
out:
    json_decref(sys);
    json_decref(app);
    if (rc != GH_OK) {
        json_decref(m.properties);
        return rc;
    }
    *out = m;
    return GH_OK;
}

void gh_hub_rest_c2d_send(struct gh_hub_rest_ctx *c)
{
    const char *dev = c->arg[0];
    if (!gh_hub_rest_check_ids(c, dev, NULL)) return;
    struct gh_slice body = gh_http_request_body(c->req);
    if (body.len > GH_C2D_BODY_MAX) {
        gh_hub_rest_reply_error(c->req, GH_REST_MESSAGE_TOO_LARGE,
                                "The message body is larger than %u bytes.",
                                (unsigned)GH_C2D_BODY_MAX);
        return;
    }
    const struct gh_hub_config *cfg = gh_hub_config(c->rest->hub);
    struct gh_hub_rest_c2d m;
    char err[GH_REST_ERROR_TEXT_MAX];
    gh_err rc = gh_hub_rest_c2d_from_fields(gh_http_request_fields(c->req), gh_hub_now_ms(),
                                            cfg->c2d_default_ttl * 1000, &m, err, sizeof err);
    if (rc != GH_OK) {
        gh_hub_rest_reply_error(
            c->req, rc == GH_ERR_NOMEM ? GH_REST_SERVER_ERROR : GH_REST_ARGUMENT_INVALID, "%s",
            err);
        return;
    }
    struct gh_c2d_send send = {
        .message_id = m.message_id,
        .expiry_ms = m.expiry_ms,
        .ack = m.ack,
        .properties = m.properties,
        .body = body.ptr,
        .body_len = body.len,
    };
    struct gh_store *s = gh_hub_store(c->rest->hub);
    char msgid[GH_C2D_MSGID_MAX + 1] = "";
    int64_t seq = 0;
    rc = gh_store_c2d_enqueue(s, dev, &send, &seq, msgid);
    json_decref(m.properties);
    uint32_t depth = 0;
    if (rc == GH_OK) rc = gh_store_c2d_count(s, dev, &depth);
    if (rc == GH_ERR_TOO_LARGE) {
        gh_hub_rest_reply_error(c->req, GH_REST_MESSAGE_TOO_LARGE, "%s", gh_store_errmsg(s));
        return;
    }
    if (rc != GH_OK) {
        gh_hub_rest_reply_store_error(c, rc, dev, NULL);
        return;
    }
    json_t *j = json_pack("{s:s,s:s,s:I}", "messageId", msgid, "deviceId", dev, "queueDepth",
                          (json_int_t)depth);
    gh_log_debug("rest.c2d.queued", "device=%s seq=%lld depth=%u", dev, (long long)seq,
                 (unsigned)depth);
    /* Durable now: try to deliver (may complete a QoS 0 delivery at once). */
    gh_hub_session_c2d_kick(c->rest->hub, dev);
    if (j == NULL) {
        gh_hub_rest_reply_error(c->req, GH_REST_SERVER_ERROR, "out of memory");
        return;
    }
    gh_hub_rest_reply(c->req, 200, j, NULL);
}

void gh_hub_rest_c2d_purge(struct gh_hub_rest_ctx *c)
{
    const char *dev = c->arg[0];
    if (!gh_hub_rest_check_ids(c, dev, NULL)) return;
    uint32_t n = 0;
    gh_err rc = gh_store_c2d_purge(gh_hub_store(c->rest->hub), dev, &n);
    if (rc != GH_OK) {
        gh_hub_rest_reply_store_error(c, rc, dev, NULL);
        return;
    }
    gh_log_info("rest.c2d.purge", "device=%s purged=%u", dev, (unsigned)n);
    json_t *j = json_pack("{s:I,s:s}", "totalMessagesPurged", (json_int_t)n, "deviceId", dev);
    if (j == NULL) {
        gh_hub_rest_reply_error(c->req, GH_REST_SERVER_ERROR, "out of memory");
        return;
    }
    gh_hub_rest_reply(c->req, 200, j, NULL);
}
