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

/* ---- the properties text -------------------------------------------------------
 * Built directly as JSON text (no object tree: this runs once per message
 * on the hub's hot path). Members are collected first so that a key that
 * repeats keeps its last value in its first position. */

#define KEY_MAX 1024u
/* Stamped system properties and the two flag properties. */
#define STAMPED_MAX 8u

struct prop {
    struct gh_slice key, value;
    bool has_value;
};

/* sys and app: room for every item of the bag plus the stamped ones, each
 * with an open-addressing index of its keys (mask + 1 slots, at least
 * twice cap; 0 = empty, else position + 1), so that a bag of many small
 * properties costs linear time, not quadratic. */
struct props {
    struct prop *sys, *app;
    uint32_t *sys_ix, *app_ix;
    size_t nsys, napp, cap, mask;
};

static size_t key_hash(struct gh_slice k)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < k.len; i++) h = (h ^ k.ptr[i]) * 16777619u;
    return h;
}

/* Add key = value, or give an existing key its new value (the last wins). */
static gh_err put(struct prop *arr, uint32_t *ix, size_t mask, size_t *n, size_t cap,
                  struct gh_slice key, struct gh_slice value, bool has_value)
{
    size_t h = key_hash(key) & mask;
    while (ix[h] != 0) {
        struct prop *p = &arr[ix[h] - 1];
        if (gh_slice_eq(p->key, key)) {
            p->value = value;
            p->has_value = has_value;
            return GH_OK;
        }
        h = (h + 1) & mask;
    }
    GH_ENSURE(*n < cap, GH_ERR_TOO_LARGE);
    arr[*n] = (struct prop){key, value, has_value};
    ix[h] = (uint32_t)++ * n;
    return GH_OK;
}

/* The quoted JSON string of UTF-8 bytes s (U+0000 allowed): '"', '\' and
 * the other controls escaped. */
static gh_err json_quote(struct gh_writer *w, struct gh_slice s)
{
    static const char hex[] = "0123456789abcdef";
    GH_GUARD(gh_writer_u8(w, '"'));
    size_t run = 0;
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        GH_GUARD(gh_writer_bytes(w, s.ptr + run, i - run));
        run = i + 1;
        char esc[6] = {'\\', (char)c, 0, 0, 0, 0};
        size_t k = 2;
        if (c < 0x20) {
            switch (c) {
            case '\n':
                esc[1] = 'n';
                break;
            case '\r':
                esc[1] = 'r';
                break;
            case '\t':
                esc[1] = 't';
                break;
            case '\b':
                esc[1] = 'b';
                break;
            case '\f':
                esc[1] = 'f';
                break;
            default:
                memcpy(esc + 1, "u00", 3);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                k = 6;
            }
        }
        GH_GUARD(gh_writer_bytes(w, esc, k));
    }
    GH_GUARD(gh_writer_bytes(w, s.ptr + run, s.len - run));
    return gh_writer_u8(w, '"');
}

/* A JSON string of a property: the bytes must be UTF-8 without U+0000. */
static gh_err json_string_text(struct gh_writer *w, struct gh_slice s)
{
    GH_ENSURE(gh_utf8_valid_mqtt(s.ptr, s.len), GH_ERR_BAD_UTF8);
    return json_quote(w, s);
}

static gh_err members_text(struct gh_writer *w, const struct prop *arr, size_t n)
{
    GH_GUARD(gh_writer_u8(w, '{'));
    for (size_t i = 0; i < n; i++) {
        if (i) GH_GUARD(gh_writer_u8(w, ','));
        GH_GUARD(json_string_text(w, arr[i].key));
        GH_GUARD(gh_writer_u8(w, ':'));
        if (arr[i].has_value)
            GH_GUARD(json_string_text(w, arr[i].value));
        else
            GH_GUARD(gh_writer_bytes(w, "null", 4));
    }
    return gh_writer_u8(w, '}');
}

void gh_hub_props_cleanup(struct gh_hub_props *p)
{
    free(p->json);
    free(p->message_id);
    memset(p, 0, sizeof *p);
}

gh_err gh_hub_telemetry_props(const struct gh_hub_sender *from, struct gh_slice bag,
                              size_t body_len, bool retain, bool will, int64_t enqueued_ms,
                              size_t max_size, bool want_message_id, struct gh_hub_props *out)
{
    gh_err rc = GH_OK;
    struct props props = {.cap = STAMPED_MAX + 1}, *pr = &props;
    for (size_t i = 0; i < bag.len; i++) pr->cap += bag.ptr[i] == '&';
    pr->mask = 1;
    while (pr->mask < 2 * pr->cap) pr->mask <<= 1;
    pr->sys = malloc(2 * pr->cap * sizeof *pr->sys);
    pr->app = pr->sys ? pr->sys + pr->cap : NULL;
    pr->sys_ix = calloc(2 * pr->mask, sizeof *pr->sys_ix);
    pr->app_ix = pr->sys_ix ? pr->sys_ix + pr->mask : NULL;
    pr->mask--;
    /* Decoded text is never longer than the bag. */
    uint8_t *scratch = malloc(bag.len ? bag.len : 1);
    char *text = NULL, *mid = NULL;
    if (!pr->sys || !pr->sys_ix || !scratch) {
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
            rc = put(pr->sys, pr->sys_ix, pr->mask, &pr->nsys, pr->cap, gh_slice_cstr(name),
                     item.value, true);
        } else {
            budget += item.key.len + item.value.len;
            rc = item.key.len >= KEY_MAX ? GH_ERR_TOO_LARGE
                                         : put(pr->app, pr->app_ix, pr->mask, &pr->napp, pr->cap,
                                               item.key, item.value, item.has_value);
        }
        if (rc != GH_OK) goto out;
        if (budget > max_size) {
            rc = GH_ERR_TOO_LARGE;
            goto out;
        }
    }
    if (budget > max_size) { /* the body alone */
        rc = GH_ERR_TOO_LARGE;
        goto out;
    }
    if (retain)
        (void)put(pr->app, pr->app_ix, pr->mask, &pr->napp, pr->cap, gh_slice_cstr("mqtt-retain"),
                  gh_slice_cstr("true"), true);
    if (will)
        (void)put(pr->app, pr->app_ix, pr->mask, &pr->napp, pr->cap,
                  gh_slice_cstr("iothub-MessageType"), gh_slice_cstr("Will"), true);

    /* Stamped last: they win over anything the device sent (1.8.3). */
    char when[GH_HUB_TIME_LEN], method[160];
    gh_hub_time_format(enqueued_ms, when);
    bool module = from->module_id && from->module_id[0];
    snprintf(method, sizeof method, "{\"scope\":\"%s\",\"type\":\"%s\",\"issuer\":\"iothub\"}",
             module ? "module" : "device", from->auth_type);
    const size_t cap = pr->cap;
    (void)put(pr->sys, pr->sys_ix, pr->mask, &pr->nsys, cap,
              gh_slice_cstr("iothub-connection-device-id"), gh_slice_cstr(from->device_id), true);
    if (module)
        (void)put(pr->sys, pr->sys_ix, pr->mask, &pr->nsys, cap,
                  gh_slice_cstr("iothub-connection-module-id"), gh_slice_cstr(from->module_id),
                  true);
    (void)put(pr->sys, pr->sys_ix, pr->mask, &pr->nsys, cap,
              gh_slice_cstr("iothub-connection-auth-generation-id"),
              gh_slice_cstr(from->generation_id), true);
    (void)put(pr->sys, pr->sys_ix, pr->mask, &pr->nsys, cap,
              gh_slice_cstr("iothub-connection-auth-method"), gh_slice_cstr(method), true);
    (void)put(pr->sys, pr->sys_ix, pr->mask, &pr->nsys, cap, gh_slice_cstr("iothub-enqueuedtime"),
              gh_slice_cstr(when), true);
    (void)put(pr->sys, pr->sys_ix, pr->mask, &pr->nsys, cap, gh_slice_cstr("iothub-message-source"),
              gh_slice_cstr("Telemetry"), true);
    if (from->model_id && from->model_id[0])
        (void)put(pr->sys, pr->sys_ix, pr->mask, &pr->nsys, cap, gh_slice_cstr("dt-dataschema"),
                  gh_slice_cstr(from->model_id), true);

    /* Worst case: every byte escaped as \u00XX (6 bytes), plus quotes,
     * colon, comma or null per member, and the frame. */
    size_t tcap = 32;
    for (size_t i = 0; i < pr->nsys; i++)
        tcap += 6 * (pr->sys[i].key.len + pr->sys[i].value.len) + 8;
    for (size_t i = 0; i < pr->napp; i++)
        tcap += 6 * (pr->app[i].key.len + pr->app[i].value.len) + 8;
    text = malloc(tcap);
    if (!text) {
        rc = GH_ERR_NOMEM;
        goto out;
    }
    struct gh_writer tw;
    gh_writer_init(&tw, text, tcap);
    rc = gh_writer_bytes(&tw, "{\"system\":", 10);
    if (rc == GH_OK) rc = members_text(&tw, pr->sys, pr->nsys);
    if (rc == GH_OK) rc = gh_writer_bytes(&tw, ",\"app\":", 7);
    if (rc == GH_OK) rc = members_text(&tw, pr->app, pr->napp);
    if (rc == GH_OK) rc = gh_writer_u8(&tw, '}');
    if (rc == GH_OK) rc = gh_writer_terminate(&tw);
    if (rc != GH_OK) goto out;
    if (want_message_id) {
        for (size_t i = 0; i < pr->nsys; i++) {
            if (!gh_slice_eq_cstr(pr->sys[i].key, "message-id")) continue;
            mid = malloc(pr->sys[i].value.len + 1);
            if (!mid) {
                rc = GH_ERR_NOMEM;
                goto out;
            }
            memcpy(mid, pr->sys[i].value.ptr, pr->sys[i].value.len);
            mid[pr->sys[i].value.len] = '\0';
        }
    }
    out->json = text;
    out->len = tw.len;
    out->message_id = mid;
    text = mid = NULL;
out:
    free(text);
    free(mid);
    free(scratch);
    free(pr->sys);
    free(pr->sys_ix);
    return rc;
}

/* A string literal into a writer. */
#define LIT(w, lit) gh_writer_bytes((w), (lit), sizeof(lit) - 1)

gh_err gh_hub_telemetry_envelope_text(const struct gh_telemetry_msg *m, char **out, size_t *len)
{
    char when[GH_HUB_TIME_LEN], head[48];
    gh_hub_time_format(m->enqueued_ms, when);
    const bool utf8 = gh_utf8_valid(m->body, m->body_len);
    const char *props = m->properties_text ? m->properties_text : "{}";
    const size_t plen = m->properties_text ? m->properties_len : 2;
    size_t dlen = strlen(m->device_id), mlen = strlen(m->module_id);
    /* Worst cases: every byte escaped as \u00XX, or base64. */
    size_t cap = 160 + 6 * (dlen + mlen) + plen +
                 (utf8 ? 6 * m->body_len : gh_base64_encoded_len(m->body_len));
    char *t = malloc(cap);
    GH_ENSURE(t != NULL, GH_ERR_NOMEM);
    struct gh_writer w;
    gh_writer_init(&w, t, cap);
    int n = snprintf(head, sizeof head, "{\"seq\":%lld,\"deviceId\":", (long long)m->seq);
    gh_err rc = gh_writer_bytes(&w, head, (size_t)n);
    if (rc == GH_OK) rc = json_quote(&w, (struct gh_slice){(const uint8_t *)m->device_id, dlen});
    if (rc == GH_OK) rc = LIT(&w, ",\"moduleId\":");
    if (rc == GH_OK)
        rc = mlen ? json_quote(&w, (struct gh_slice){(const uint8_t *)m->module_id, mlen})
                  : LIT(&w, "null");
    if (rc == GH_OK) rc = LIT(&w, ",\"enqueuedTime\":\"");
    if (rc == GH_OK) rc = gh_writer_bytes(&w, when, strlen(when));
    if (rc == GH_OK) rc = LIT(&w, "\",\"properties\":");
    if (rc == GH_OK) rc = gh_writer_bytes(&w, props, plen);
    if (rc == GH_OK) rc = LIT(&w, ",\"body\":");
    if (rc == GH_OK && utf8) {
        rc = json_quote(&w,
                        m->body_len ? (struct gh_slice){m->body, m->body_len} : gh_slice_cstr(""));
    } else if (rc == GH_OK) {
        rc = gh_writer_u8(&w, '"');
        if (rc == GH_OK) rc = gh_base64_encode(m->body, m->body_len, &w);
        if (rc == GH_OK) rc = gh_writer_u8(&w, '"');
    }
    if (rc == GH_OK) {
        const char *tail = utf8 ? ",\"bodyEncoding\":\"utf-8\"}" : ",\"bodyEncoding\":\"base64\"}";
        rc = gh_writer_bytes(&w, tail, strlen(tail));
    }
    if (rc == GH_OK) rc = gh_writer_terminate(&w);
    if (rc != GH_OK) {
        free(t);
        return rc == GH_ERR_NOMEM ? rc : GH_ERR_INTERNAL; /* the capacity above is a bound */
    }
    *out = t;
    *len = w.len;
    return GH_OK;
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
