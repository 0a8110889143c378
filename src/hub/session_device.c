/* Device features of a hub session (PROTOCOL.md section 1): telemetry,
 * twins, direct methods, cloud-to-device and the subscription table. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "hub/session_int.h"
#include "hub/stamp.h"
#include "hub/telemetry.h"
#include "iothub/bag.h"
#include "iothub/topic.h"

/* ---- twins --------------------------------------------------------------- */

static void twin_reply(struct gh_hub_session *s, unsigned status, struct gh_slice rid,
                       bool with_version, uint64_t version, const char *body)
{
    if (!(s->subs.subscribed & GH_SESSION_TWIN_RESPONSE)) {
        gh_log_debug("hub.twin.unsubscribed", "device=%s", s->device_id);
        return;
    }
    uint8_t tb[512];
    struct gh_writer w;
    gh_writer_init(&w, tb, sizeof tb);
    if (gh_iothub_topic_build_twin_response(&w, status, rid, with_version ? &version : NULL) !=
        GH_OK) {
        session_close(s, "twin request id too long");
        return;
    }
    (void)send_publish(s, gh_writer_slice(&w), 0, 0, false, body, body ? strlen(body) : 0);
}

static void twin_error(struct gh_hub_session *s, unsigned status, struct gh_slice rid,
                       const char *message)
{
    char guid[GH_HUB_GUID_LEN] = "", when[GH_HUB_TIME_LEN];
    if (gh_hub_guid(guid) != GH_OK) guid[0] = '\0';
    gh_hub_time_format(gh_hub_now_ms(), when);
    json_t *e = json_pack("{s:i, s:s, s:s, s:s}", "errorCode", (int)status * 1000 + 4, "trackingId",
                          guid, "message", message, "timestampUtc", when);
    char *text = e ? json_dumps(e, JSON_COMPACT) : NULL;
    twin_reply(s, status, rid, false, 0, text ? text : "{\"errorCode\":500000}");
    free(text);
    json_decref(e);
}

static void handle_twin_get(struct gh_hub_session *s, struct gh_slice rid)
{
    json_t *view = NULL;
    gh_err rc = gh_store_twin_device_view(gh_hub_store(s->hub), s->device_id, s->module_id, &view);
    if (rc != GH_OK) {
        gh_log_error("hub.twin.get", "device=%s err=%s", s->device_id, gh_err_str(rc));
        twin_error(s, 500, rid, "Twin could not be read.");
        return;
    }
    char *text = json_dumps(view, JSON_COMPACT);
    json_decref(view);
    twin_reply(s, 200, rid, false, 0, text ? text : "{}");
    free(text);
}

static void handle_twin_patch(struct gh_hub_session *s, struct gh_slice rid, struct gh_slice body)
{
    json_error_t jerr;
    json_t *patch = json_loadb((const char *)body.ptr, body.len, JSON_REJECT_DUPLICATES, &jerr);
    if (!patch || !json_is_object(patch)) {
        json_decref(patch);
        twin_error(s, 400, rid, "Malformed JSON.");
        return;
    }
    int64_t version = 0;
    gh_err rc = gh_store_twin_reported_patch(gh_hub_store(s->hub), s->device_id, s->module_id,
                                             patch, &version);
    json_decref(patch);
    if (rc == GH_OK) {
        twin_reply(s, 204, rid, true, (uint64_t)version, NULL);
    } else if (rc == GH_ERR_DB || rc == GH_ERR_NOMEM) {
        gh_log_error("hub.twin.patch", "device=%s err=%s", s->device_id, gh_err_str(rc));
        twin_error(s, 500, rid, "Twin could not be updated.");
    } else {
        twin_error(s, 400, rid, gh_store_errmsg(gh_hub_store(s->hub)));
    }
}

void gh_hub_session_desired(struct gh_hub *hub, const char *device_id, const char *module_id,
                            const json_t *patch)
{
    struct gh_hub_session *s = gh_hub_session_find(hub, device_id, module_id);
    if (!s || s->closing || !(s->subs.subscribed & GH_SESSION_TWIN_DESIRED)) return;
    json_t *v = json_object_get(patch, "$version");
    if (!json_is_integer(v)) return;
    uint8_t tb[128];
    struct gh_writer w;
    gh_writer_init(&w, tb, sizeof tb);
    if (gh_iothub_topic_build_twin_desired(&w, (uint64_t)json_integer_value(v)) != GH_OK) return;
    char *text = json_dumps(patch, JSON_COMPACT);
    if (text) (void)send_publish(s, gh_writer_slice(&w), 0, 0, false, text, strlen(text));
    free(text);
}

/* ---- methods ------------------------------------------------------------- */

bool gh_hub_session_methods_subscribed(const struct gh_hub_session *s)
{
    return s->authenticated && !s->closing && (s->subs.subscribed & GH_SESSION_METHODS);
}

gh_err gh_hub_session_send_method(struct gh_hub_session *s, const char *method, const char *rid,
                                  const char *payload, size_t payload_len)
{
    uint8_t tb[512];
    struct gh_writer w;
    gh_writer_init(&w, tb, sizeof tb);
    GH_GUARD(gh_iothub_topic_build_method_request(&w, gh_slice_cstr(method), gh_slice_cstr(rid)));
    return send_publish(s, gh_writer_slice(&w), 0, 0, false, payload, payload_len);
}

/* ---- cloud-to-device --------------------------------------------------- */

static gh_err c2d_topic(struct gh_hub_session *s, const struct gh_c2d_msg *m, struct gh_writer *w)
{
    struct gh_iothub_bag_item items[64];
    size_t n = 0;
    char to[GH_IDENTITY_ID_MAX + 48];
    snprintf(to, sizeof to, "/devices/%s/messages/devicebound", s->device_id);
    items[n++] =
        (struct gh_iothub_bag_item){gh_slice_cstr("$.mid"), gh_slice_cstr(m->message_id), true};
    items[n++] = (struct gh_iothub_bag_item){gh_slice_cstr("$.to"), gh_slice_cstr(to), true};
    static const char *const sys_keys[][2] = {{"correlation-id", "$.cid"},
                                              {"user-id", "$.uid"},
                                              {"content-type", "$.ct"},
                                              {"content-encoding", "$.ce"}};
    json_t *sys = json_object_get(m->properties, "system");
    for (size_t i = 0; i < sizeof sys_keys / sizeof sys_keys[0]; i++) {
        json_t *v = json_object_get(sys, sys_keys[i][0]);
        if (json_is_string(v))
            items[n++] = (struct gh_iothub_bag_item){
                gh_slice_cstr(sys_keys[i][1]),
                {(const uint8_t *)json_string_value(v), json_string_length(v)},
                true};
    }
    static const char *const acks[] = {"none", "positive", "negative", "full"};
    items[n++] = (struct gh_iothub_bag_item){gh_slice_cstr("iothub-ack"),
                                             gh_slice_cstr(acks[m->ack & 3]), true};
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(m->properties, "app"), key, v)
    {
        if (n >= sizeof items / sizeof items[0]) break;
        if (json_is_null(v))
            items[n++] = (struct gh_iothub_bag_item){gh_slice_cstr(key), GH_SLICE_EMPTY, false};
        else if (json_is_string(v))
            items[n++] = (struct gh_iothub_bag_item){
                gh_slice_cstr(key),
                {(const uint8_t *)json_string_value(v), json_string_length(v)},
                true};
    }
    struct gh_slice dev =
        s->c2d_spelling ? gh_slice_cstr(s->c2d_spelling) : gh_slice_cstr(s->device_id);
    return gh_iothub_topic_build_c2d(w, dev, items, n);
}

void c2d_deliver(struct gh_hub_session *s)
{
    while (s->authenticated && !s->closing && !s->c2d_inflight &&
           (s->subs.subscribed & GH_SESSION_C2D) && !s->module_id[0]) {
        struct gh_c2d_msg m;
        bool found = false;
        gh_err rc = gh_store_c2d_next(gh_hub_store(s->hub), s->device_id, &m, &found, NULL);
        if (rc != GH_OK) {
            gh_log_error("hub.c2d.next", "device=%s err=%s", s->device_id, gh_err_str(rc));
            return;
        }
        if (!found) return;
        size_t cap = 2048 + json_dumpb(m.properties, NULL, 0, JSON_COMPACT) * 3;
        uint8_t *tb = malloc(cap);
        struct gh_writer w;
        gh_writer_init(&w, tb, tb ? cap : 0);
        rc = tb ? c2d_topic(s, &m, &w) : GH_ERR_NOMEM;
        if (rc != GH_OK) {
            gh_log_error("hub.c2d.topic", "device=%s err=%s", s->device_id, gh_err_str(rc));
            free(tb);
            gh_c2d_msg_cleanup(&m);
            return;
        }
        uint8_t qos = (s->subs.qos1 & GH_SESSION_C2D) ? 1 : 0;
        uint16_t pid = qos ? next_pid(s) : 0;
        rc = send_publish(s, gh_writer_slice(&w), qos, pid, m.deliveries > 0, m.body, m.body_len);
        free(tb);
        if (rc == GH_OK) {
            if (qos) {
                s->c2d_inflight = true;
                s->c2d_seq = m.seq;
                s->c2d_pid = pid;
                s->c2d_sent_ms = gh_hub_now_ms();
            } else if (gh_store_c2d_complete(gh_hub_store(s->hub), s->device_id, m.seq, NULL,
                                             NULL) != GH_OK) {
                gh_log_warn("hub.c2d.complete", "device=%s seq=%lld", s->device_id,
                            (long long)m.seq);
            }
        }
        gh_c2d_msg_cleanup(&m);
        if (rc != GH_OK) return;
    }
}

void gh_hub_session_c2d_kick(struct gh_hub *hub, const char *device_id)
{
    struct gh_hub_session *s = gh_hub_session_find(hub, device_id, "");
    if (s) c2d_deliver(s);
}

void handle_puback(struct gh_hub_session *s, uint16_t pid)
{
    if (!s->c2d_inflight || pid != s->c2d_pid) return; /* stale or duplicate: ignore */
    s->c2d_inflight = false;
    gh_err rc = gh_store_c2d_complete(gh_hub_store(s->hub), s->device_id, s->c2d_seq, NULL, NULL);
    if (rc != GH_OK && rc != GH_ERR_NOT_FOUND)
        gh_log_error("hub.c2d.complete", "device=%s err=%s", s->device_id, gh_err_str(rc));
    c2d_deliver(s);
}

/* ---- telemetry ---------------------------------------------------------- */

gh_err accept_telemetry(struct gh_hub_session *s, struct gh_slice bag, struct gh_slice body,
                        bool retain, bool will, uint8_t qos, uint16_t pid)
{
    const struct gh_hub_config *cfg = gh_hub_config(s->hub);
    struct gh_hub_sender from = {s->device_id, s->module_id, s->generation_id, s->auth_type,
                                 s->model_id};
    struct gh_hub_props props;
    int64_t now = gh_hub_now_ms();
    GH_GUARD(gh_hub_telemetry_props(&from, bag, body.len, retain, will, now,
                                    (size_t)cfg->max_message_size, false, &props));
    return gh_hub_batch_add(s->hub, will ? NULL : s, pid, qos, s->device_id, s->module_id, now,
                            &props, body.ptr, body.len);
}

void gh_hub_session_ack(struct gh_hub_session *s, uint16_t pid)
{
    if (!s->closing) (void)send_ack(s, GH_MQTT_PUBACK, pid);
}

void gh_hub_session_fail(struct gh_hub_session *s, gh_err why)
{
    gh_log_error("hub.telemetry.commit", "device=%s err=%s", s->device_id, gh_err_str(why));
    session_close(s, "telemetry could not be stored");
}

void gh_hub_session_batch_ref(struct gh_hub_session *s, int delta)
{
    s->batch_refs = (unsigned)((int)s->batch_refs + delta);
}

/* ---- PUBLISH / SUBSCRIBE ----------------------------------------------- */

struct gh_iothub_identity identity_of(const struct gh_hub_session *s)
{
    struct gh_iothub_identity id = {.kind =
                                        s->module_id[0] ? GH_IOTHUB_ID_MODULE : GH_IOTHUB_ID_DEVICE,
                                    .device_id = gh_slice_cstr(s->device_id),
                                    .module_id = gh_slice_cstr(s->module_id)};
    return id;
}

void handle_publish(struct gh_hub_session *s, const struct gh_mqtt_publish *p)
{
    if (p->qos > 1) {
        session_close(s, "QoS 2 publish (IoT Hub supports QoS 0 and 1)");
        return;
    }
    struct gh_iothub_identity id = identity_of(s);
    struct gh_iothub_topic t;
    gh_err rc = gh_iothub_topic_classify(p->topic, &id, &t);
    if (rc != GH_OK) {
        char ex[96];
        gh_log_warn("hub.publish.refused", "device=%s topic=%s err=%s", s->device_id,
                    gh_log_escape(ex, sizeof ex, p->topic.ptr, p->topic.len, 64), gh_err_str(rc));
        session_close(s, rc == GH_ERR_FORBIDDEN ? "publish on another identity's topic"
                                                : "publish on an unsupported topic");
        return;
    }
    switch (t.kind) {
    case GH_IOTHUB_TOPIC_TELEMETRY:
        rc = accept_telemetry(s, t.bag, p->payload, p->retain, false, p->qos, p->packet_id);
        if (rc == GH_ERR_TOO_LARGE) {
            session_close(s, "telemetry message over the size limit");
        } else if (rc != GH_OK) {
            gh_log_warn("hub.telemetry.refused", "device=%s err=%s", s->device_id, gh_err_str(rc));
            session_close(s, "malformed telemetry properties");
        }
        return; /* PUBACK after the batch commit */
    case GH_IOTHUB_TOPIC_TWIN_GET:
        handle_twin_get(s, t.rid);
        break;
    case GH_IOTHUB_TOPIC_TWIN_PATCH_REPORTED:
        handle_twin_patch(s, t.rid, p->payload);
        break;
    case GH_IOTHUB_TOPIC_METHOD_RESPONSE:
        gh_hub_methods_response(s->hub, s->device_id, s->module_id, (const char *)t.rid.ptr,
                                t.rid.len, t.status, p->payload.ptr, p->payload.len);
        break;
    default:
        session_close(s, "publish on an unsupported topic");
        return;
    }
    if (p->qos == 1 && !s->closing) (void)send_ack(s, GH_MQTT_PUBACK, p->packet_id);
}

static void save_session(struct gh_hub_session *s)
{
    if (s->clean_session) return;
    gh_err rc = gh_store_session_save(gh_hub_store(s->hub), s->device_id, s->module_id, &s->subs);
    if (rc != GH_OK)
        gh_log_error("hub.session.save", "device=%s err=%s", s->device_id, gh_err_str(rc));
}

void handle_subscribe(struct gh_hub_session *s, const struct gh_mqtt_subscribe *sub)
{
    struct gh_mqtt_packet ack = {.type = GH_MQTT_SUBACK};
    struct gh_iothub_identity id = identity_of(s);
    ack.u.suback.packet_id = sub->packet_id;
    ack.u.suback.count = sub->count;
    uint32_t added = 0;
    for (size_t i = 0; i < sub->count; i++) {
        struct gh_iothub_filter f;
        enum gh_iothub_filter_kind k = gh_iothub_filter_classify(sub->subs[i].filter, &id, &f);
        uint32_t bit = gh_session_feature_bit(k);
        if (!bit) {
            /* Authorization table: a device subscribes only to its own
             * documented filters; anything else (another device's topics,
             * '#') closes the connection (docs/hub.md). */
            char ex[96];
            gh_log_warn(
                "hub.subscribe.refused", "device=%s filter=%s", s->device_id,
                gh_log_escape(ex, sizeof ex, sub->subs[i].filter.ptr, sub->subs[i].filter.len, 64));
            session_close(s, "subscribe to a filter outside the device's own topics");
            return;
        }
        uint8_t q = sub->subs[i].qos > 1 ? 1 : sub->subs[i].qos;
        ack.u.suback.return_codes[i] = q;
        s->subs.subscribed |= bit;
        if (q)
            s->subs.qos1 |= bit;
        else
            s->subs.qos1 &= ~bit;
        added |= bit;
        if (k == GH_IOTHUB_FILTER_C2D && f.device_id.ptr) {
            free(s->c2d_spelling);
            s->c2d_spelling = strndup((const char *)f.device_id.ptr, f.device_id.len);
        }
    }
    save_session(s);
    if (send_packet(s, &ack) != GH_OK) return;
    if (added & GH_SESSION_C2D) c2d_deliver(s);
    if (added & GH_SESSION_METHODS)
        gh_hub_methods_session_ready(s->hub, s->device_id, s->module_id);
}

void handle_unsubscribe(struct gh_hub_session *s, const struct gh_mqtt_unsubscribe *u)
{
    if (s->service) {
        s->svc_subscribed = false;
        (void)send_ack(s, GH_MQTT_UNSUBACK, u->packet_id);
        return;
    }
    struct gh_iothub_identity id = identity_of(s);
    for (size_t i = 0; i < u->count; i++) {
        struct gh_iothub_filter f;
        uint32_t bit = gh_session_feature_bit(gh_iothub_filter_classify(u->filters[i], &id, &f));
        s->subs.subscribed &= ~bit;
        s->subs.qos1 &= ~bit;
    }
    save_session(s);
    (void)send_ack(s, GH_MQTT_UNSUBACK, u->packet_id);
}
