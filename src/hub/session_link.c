/* Gateway links (docs/edge-link.md): the connection of an IoT Edge device
 * carries the traffic of its children as `$gh/c/{C}/` frames. An attached
 * child is a virtual session (session_int.h) in the identity hash, so
 * methods, desired notifications, C2D and kicks find it like any device;
 * its output goes over the link with the prefix added. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "hub/dedupe.h"
#include "hub/session_int.h"
#include "hub/telemetry.h"
#include "iothub/topic.h"
#include "iothub/username.h"

/* CONNACK codes a $detach notice carries (PROTOCOL.md 1.4). */
#define DETACH_DISABLED 3
#define DETACH_NOT_AUTHORIZED 5
/* Longest reason text in a $detach notice (bytes). */
#define DETACH_REASON_MAX 128
/* Room for "$gh/c/" + a child id + "/". */
#define LINK_PREFIX_MAX (sizeof GH_HUB_LINK_PREFIX + GH_IDENTITY_ID_MAX + 1)

/* ---- topic prefix ---------------------------------------------------------- */

bool gh_hub_link_frame(struct gh_slice topic)
{
    return gh_slice_starts_with(topic, GH_HUB_LINK_NAMESPACE);
}

gh_err gh_hub_link_split(struct gh_slice topic, struct gh_slice *child, struct gh_slice *rest)
{
    GH_ENSURE(topic.ptr && gh_slice_starts_with(topic, GH_HUB_LINK_PREFIX), GH_ERR_BAD_TOPIC);
    size_t skip = sizeof GH_HUB_LINK_PREFIX - 1;
    struct gh_reader r;
    gh_reader_init(&r, topic.ptr + skip, topic.len - skip);
    struct gh_slice c;
    GH_ENSURE(gh_reader_split(&r, '/', &c), GH_ERR_BAD_TOPIC);
    GH_ENSURE(c.len > 0 && c.len <= GH_IDENTITY_ID_MAX && gh_iothub_valid_device_id(c),
              GH_ERR_BAD_TOPIC);
    struct gh_slice tail = gh_reader_rest(&r);
    GH_ENSURE(tail.len > 0, GH_ERR_BAD_TOPIC);
    *child = c;
    *rest = tail;
    return GH_OK;
}

/* ---- output ------------------------------------------------------------------ */

/* QoS 0 `$gh/c/{C}/$detach` {"connack":N,"reason":"..."} to the gateway. */
static void send_notice(struct gh_hub_session *l, const char *child, uint8_t code, const char *why)
{
    if (l->closing) return;
    char topic[LINK_PREFIX_MAX + 8];
    int n = snprintf(topic, sizeof topic, "%s%s/$detach", GH_HUB_LINK_PREFIX, child);
    if (n < 0 || (size_t)n >= sizeof topic) return;
    char reason[DETACH_REASON_MAX + 1];
    snprintf(reason, sizeof reason, "%s", why ? why : "detached");
    json_t *j = json_pack("{s:i, s:s}", "connack", (int)code, "reason", reason);
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!body) {
        session_close(l, "out of memory");
        return;
    }
    (void)send_publish(l, (struct gh_slice){(const uint8_t *)topic, (size_t)n}, 0, 0, false, body,
                       strlen(body));
    free(body);
}

gh_err gh_hub_link_send(struct gh_hub_session *v, const struct gh_mqtt_packet *p)
{
    struct gh_hub_session *l = v->link;
    GH_ENSURE(!l->closing, GH_ERR_CLOSED); /* nothing more goes out on a closing link */
    if (p->type != GH_MQTT_PUBLISH) return send_packet(l, p); /* acks carry link packet ids */
    struct gh_slice topic = p->u.publish.topic;
    size_t idlen = strlen(v->device_id);
    size_t prefix = sizeof GH_HUB_LINK_PREFIX - 1 + idlen + 1;
    GH_ENSURE(topic.len <= SIZE_MAX - prefix, GH_ERR_TOO_LARGE);
    size_t need = prefix + topic.len;
    uint8_t small[SMALL_PACKET];
    uint8_t *buf = need <= sizeof small ? small : malloc(need);
    GH_ENSURE(buf, GH_ERR_NOMEM);
    struct gh_writer w;
    gh_writer_init(&w, buf, need);
    gh_err rc = gh_writer_cstr(&w, GH_HUB_LINK_PREFIX);
    if (rc == GH_OK) rc = gh_writer_bytes(&w, v->device_id, idlen);
    if (rc == GH_OK) rc = gh_writer_u8(&w, '/');
    if (rc == GH_OK) rc = gh_writer_bytes(&w, topic.ptr, topic.len);
    if (rc == GH_OK) {
        struct gh_mqtt_packet q = *p;
        q.u.publish.topic = gh_writer_slice(&w);
        rc = send_packet(l, &q);
    }
    if (buf != small) free(buf);
    return rc;
}

/* ---- attach / detach ------------------------------------------------------- */

static struct gh_hub_session *attached(struct gh_hub_session *l, const char *child)
{
    struct gh_hub_session *v = session_lookup(l->table, child, "");
    return v && v->link == l && !v->closing ? v : NULL;
}

/* Is the identity an enabled device child of link l? On refusal *code is
 * the CONNACK the child would get and *why says why. */
static gh_err check_child(struct gh_hub_session *l, const char *child, struct gh_identity *id,
                          uint8_t *code, const char **why)
{
    gh_err rc = gh_store_identity_get(gh_hub_store(l->hub), child, "", id);
    *code = 0;
    if (rc == GH_ERR_NOT_FOUND) {
        *code = DETACH_NOT_AUTHORIZED;
        *why = "unknown identity";
        return GH_OK;
    }
    GH_GUARD(rc);
    if (!l->device_scope[0] || strcmp(id->parent_scope, l->device_scope) != 0) {
        *code = DETACH_NOT_AUTHORIZED;
        *why = "not a child of this gateway";
    } else if (id->status == GH_IDENTITY_DISABLED) {
        *code = DETACH_DISABLED;
        *why = "identity disabled";
    }
    return GH_OK;
}

/* Children whose telemetry the link carried lately without being attached
 * (a gateway draining its queue): the identity check of check_child is
 * remembered for GH_HUB_CHILD_OK_MS, so a drain costs one registry read per
 * child and second, not one per message. A child disabled, removed or moved
 * meanwhile is refused at most that long after the change. */
#define CHILD_OK_SLOTS 256u
#define GH_HUB_CHILD_OK_MS 1000
struct gh_hub_child_ok {
    char id[GH_IDENTITY_ID_MAX + 1];
    char generation_id[GH_IDENTITY_GENID_MAX + 1];
    const char *auth_type;
    int64_t until_ms;
};

static struct gh_hub_child_ok *child_ok_slot(struct gh_hub_session *l, const char *child)
{
    if (l->child_ok == NULL && (l->child_ok = calloc(CHILD_OK_SLOTS, sizeof *l->child_ok)) == NULL)
        return NULL;
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *c = child; *c; c++) h = (h ^ (uint8_t)*c) * 16777619u;
    return &l->child_ok[h % CHILD_OK_SLOTS];
}

static void refuse(struct gh_hub_session *l, const char *child, uint8_t code, const char *why)
{
    struct gh_hub_child_ok *ok = l->child_ok ? child_ok_slot(l, child) : NULL;
    if (ok && strcmp(ok->id, child) == 0) ok->until_ms = 0; /* check again next time */
    gh_log_info("hub.link.refused", "child=%s link=%s connack=%u reason=\"%s\"", child,
                l->device_id, code, why);
    send_notice(l, child, code, why);
}

/* The code of a $detach notice the caller did not choose: what the child
 * would get if it connected now (3 disabled, 5 unknown or not our child),
 * else 3 (server side: connected elsewhere, a rule broken). */
static uint8_t derive_code(struct gh_hub_session *v)
{
    struct gh_identity id;
    uint8_t code = DETACH_DISABLED;
    const char *why;
    if (check_child(v->link, v->device_id, &id, &code, &why) != GH_OK || code == 0)
        code = DETACH_DISABLED;
    gh_identity_wipe(&id);
    return code;
}

static void unlink_child(struct gh_hub_session *v)
{
    struct gh_hub_session *l = v->link;
    if (v->child_prev)
        v->child_prev->child_next = v->child_next;
    else
        l->children = v->child_next;
    if (v->child_next) v->child_next->child_prev = v->child_prev;
    v->child_prev = v->child_next = NULL;
}

/* Common part of every end of an attachment: out of the hash and the
 * link's list, Disconnected unless another session holds the identity. */
static void end_attachment(struct gh_hub_session *v, const char *why)
{
    struct gh_hub_sessions *t = v->table;
    v->closing = true;
    session_unhash(v);
    unlink_child(v);
    if (!session_lookup(t, v->device_id, "") && !t->shutting_down) {
        gh_err rc = gh_store_set_connected(gh_hub_store(v->hub), v->device_id, "", false, NULL);
        if (rc != GH_OK)
            gh_log_warn("hub.disconnect.store", "device=%s err=%s", v->device_id, gh_err_str(rc));
    }
    if (v->batch_refs) gh_hub_batch_forget(v->hub, v);
    gh_log_info("hub.link.detach", "child=%s link=%s reason=\"%s\"", v->device_id,
                v->link->device_id, why ? why : "detached");
}

void gh_hub_link_detach(struct gh_hub_session *v, const char *why)
{
    struct gh_hub_session *l = v->link;
    if (v->closing) return;
    if (!v->detach_quiet && !l->closing) {
        uint8_t code = v->detach_connack ? v->detach_connack : derive_code(v);
        send_notice(l, v->device_id, code, why);
    }
    end_attachment(v, why);
    /* Callers may still look at v (closing is set): freed at a safe point. */
    v->child_next = l->zombies;
    l->zombies = v;
}

void gh_hub_link_reap(struct gh_hub_session *l)
{
    while (l->zombies) {
        struct gh_hub_session *v = l->zombies;
        l->zombies = v->child_next;
        session_free(v);
    }
}

void gh_hub_link_closed(struct gh_hub_session *l)
{
    l->closing = true;
    while (l->children) {
        struct gh_hub_session *v = l->children;
        end_attachment(v, "gateway link closed");
        session_free(v);
    }
    gh_hub_link_reap(l);
}

void gh_hub_link_tick(struct gh_hub_session *l, int64_t now)
{
    for (struct gh_hub_session *v = l->children; v; v = v->child_next) {
        if (v->c2d_inflight && now - v->c2d_sent_ms > GH_C2D_LOCK_MS) {
            v->c2d_inflight = false; /* lock expired: deliver again (1.9.2) */
            c2d_deliver(v);
        }
        if (l->closing) break;
    }
    gh_hub_link_reap(l);
}

/* The $attach body: {"clean":bool,"auth":"...","modelId":"..."}, all
 * optional; an empty body is {}. */
struct attach_req {
    bool clean;
    const char *auth_type; /* static storage */
    char *model_id;        /* owned; NULL when none */
};

static gh_err parse_attach(struct gh_slice body, struct attach_req *out)
{
    static const char *const auths[] = {"sas", "x509Certificate", "x509CA"};
    out->clean = false;
    out->auth_type = auths[0];
    out->model_id = NULL;
    if (body.len == 0) return GH_OK;
    gh_err rc = GH_ERR_BAD_JSON;
    json_t *j = json_loadb((const char *)body.ptr, body.len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(j)) goto out;
    json_t *clean = json_object_get(j, "clean");
    json_t *auth = json_object_get(j, "auth");
    json_t *model = json_object_get(j, "modelId");
    if ((clean && !json_is_boolean(clean)) || (auth && !json_is_string(auth)) ||
        (model && !json_is_string(model)))
        goto out;
    out->clean = json_is_true(clean);
    if (auth) {
        size_t i = 0;
        while (i < sizeof auths / sizeof auths[0] && strcmp(auths[i], json_string_value(auth))) i++;
        if (i == sizeof auths / sizeof auths[0]) goto out;
        out->auth_type = auths[i];
    }
    if (model && json_string_length(model) > 0) {
        if (json_string_length(model) > GH_IDENTITY_MODEL_ID_MAX) goto out;
        out->model_id = strdup(json_string_value(model));
        if (!out->model_id) {
            rc = GH_ERR_NOMEM;
            goto out;
        }
    }
    rc = GH_OK;
out:
    json_decref(j);
    return rc;
}

static void attach(struct gh_hub_session *l, const char *child, struct gh_slice body)
{
    struct attach_req req;
    gh_err rc = parse_attach(body, &req);
    if (rc != GH_OK) {
        refuse(l, child, DETACH_NOT_AUTHORIZED,
               rc == GH_ERR_NOMEM ? "out of memory" : "malformed $attach body");
        return;
    }
    struct gh_identity id;
    uint8_t code;
    const char *why = NULL;
    rc = check_child(l, child, &id, &code, &why);
    struct gh_hub_session *v = NULL;
    if (rc == GH_OK && code == 0) {
        v = calloc(1, sizeof *v);
        if (!v) rc = GH_ERR_NOMEM;
    }
    if (rc != GH_OK) {
        gh_log_error("hub.link.attach", "child=%s link=%s err=%s", child, l->device_id,
                     gh_err_str(rc));
        code = DETACH_DISABLED;
        why = "server error";
    }
    if (code != 0) {
        gh_identity_wipe(&id);
        free(req.model_id);
        refuse(l, child, code, why);
        return;
    }
    v->hub = l->hub;
    v->table = l->table;
    v->link = l;
    snprintf(v->device_id, sizeof v->device_id, "%s", child);
    snprintf(v->generation_id, sizeof v->generation_id, "%s", id.generation_id);
    gh_identity_wipe(&id);
    v->auth_type = req.auth_type;
    v->model_id = req.model_id;
    v->last_rx_ms = gh_hub_now_ms();
    bool present = false;
    rc = session_begin(v, req.clean, v->model_id, &present);
    if (rc != GH_OK) {
        gh_log_error("hub.link.attach.store", "child=%s link=%s err=%s", child, l->device_id,
                     gh_err_str(rc));
        session_free(v);
        refuse(l, child, DETACH_DISABLED, "server error");
        return;
    }
    /* Re-attached on this same link: replace the old one without a notice
     * (the gateway knows). */
    struct gh_hub_session *old = session_lookup(l->table, child, "");
    if (old && old->link == l) old->detach_quiet = true;
    v->child_next = l->children;
    if (l->children) l->children->child_prev = v;
    l->children = v;
    session_take_identity(v);
    gh_log_info("hub.link.attach", "child=%s link=%s auth=%s clean=%d present=%d", child,
                l->device_id, v->auth_type, req.clean, present);
    session_resume(v, present);
}

/* ---- PUBLISH ------------------------------------------------------------------ */

static void puback(struct gh_hub_session *l, const struct gh_mqtt_publish *p)
{
    if (p->qos == 1 && !l->closing) (void)send_ack(l, GH_MQTT_PUBACK, p->packet_id);
}

/* Telemetry of child C, attached or not (its gateway drains what it stored
 * while C was connected). Acked over the link after the group commit. */
static void child_telemetry(struct gh_hub_session *l, const char *child, struct gh_slice bag,
                            const struct gh_mqtt_publish *p)
{
    struct gh_hub_session *v = attached(l, child);
    struct gh_identity id;
    memset(&id, 0, sizeof id);
    struct gh_hub_sender from = {child, "", NULL, "sas", NULL};
    struct gh_hub_child_ok *ok = NULL;
    const int64_t now_ms = gh_hub_now_ms();
    if (v) {
        from.generation_id = v->generation_id;
        from.auth_type = v->auth_type;
        from.model_id = v->model_id;
    } else if ((ok = child_ok_slot(l, child)) != NULL && ok->until_ms > now_ms &&
               strcmp(ok->id, child) == 0) {
        from.generation_id = ok->generation_id;
        from.auth_type = ok->auth_type;
    } else {
        uint8_t code;
        const char *why = NULL;
        gh_err rc = check_child(l, child, &id, &code, &why);
        if (rc != GH_OK) {
            gh_identity_wipe(&id);
            gh_log_error("hub.link.telemetry", "child=%s link=%s err=%s", child, l->device_id,
                         gh_err_str(rc));
            session_close(l, "server error"); /* not acked: the gateway resends */
            return;
        }
        if (code != 0) {
            gh_identity_wipe(&id);
            gh_log_warn("hub.link.telemetry.dropped", "child=%s link=%s reason=\"%s\"", child,
                        l->device_id, why);
            puback(l, p);
            refuse(l, child, code, why);
            return;
        }
        from.generation_id = id.generation_id;
        if (id.auth_type == GH_AUTH_SELF_SIGNED) from.auth_type = "x509Certificate";
        if (id.auth_type == GH_AUTH_CA) from.auth_type = "x509CA";
        if (ok) {
            snprintf(ok->id, sizeof ok->id, "%s", child);
            snprintf(ok->generation_id, sizeof ok->generation_id, "%s", id.generation_id);
            ok->auth_type = from.auth_type;
            ok->until_ms = now_ms + GH_HUB_CHILD_OK_MS;
        }
    }
    const struct gh_hub_config *cfg = gh_hub_config(l->hub);
    struct gh_hub_props props = {0};
    int64_t now = now_ms;
    gh_err rc = gh_hub_telemetry_props(&from, bag, p->payload.len, p->retain, false, now,
                                       (size_t)cfg->max_message_size, true, &props);
    gh_identity_wipe(&id);
    /* A gateway resends what it was not sure the hub stored (at-least-once):
     * a (child, message id) stored recently is acknowledged, not stored again. */
    uint64_t key = 0;
    const char *mid = props.message_id;
    if (rc == GH_OK && mid && mid[0]) {
        key = gh_hub_dedupe_key(child, gh_slice_cstr(mid));
        if (gh_hub_dedupe_seen(gh_hub_dedupe_of(l->hub), key)) {
            gh_hub_dedupe_count_drop(gh_hub_dedupe_of(l->hub));
            gh_log_info("hub.link.duplicate", "child=%s link=%s dropped_total=%llu", child,
                        l->device_id,
                        (unsigned long long)gh_hub_dedupe_dropped(gh_hub_dedupe_of(l->hub)));
            gh_hub_props_cleanup(&props);
            puback(l, p);
            return;
        }
    }
    if (rc == GH_OK)
        rc = gh_hub_batch_add(l->hub, l, p->packet_id, p->qos, child, "", now, &props,
                              p->payload.ptr, p->payload.len);
    if (rc == GH_OK) gh_hub_batch_set_dedupe(l->hub, key);
    if (rc == GH_ERR_NOMEM) {
        session_close(l, "out of memory");
    } else if (rc != GH_OK) {
        /* Holding a message nobody can store would block the gateway's
         * queue: ack, drop, and end the child's attachment. */
        gh_log_warn("hub.link.telemetry.dropped", "child=%s link=%s err=%s", child, l->device_id,
                    gh_err_str(rc));
        puback(l, p);
        const char *why = rc == GH_ERR_TOO_LARGE ? "telemetry message over the size limit"
                                                 : "malformed telemetry properties";
        if (v) {
            v->detach_connack = DETACH_NOT_AUTHORIZED;
            session_close(v, why);
        } else {
            refuse(l, child, DETACH_NOT_AUTHORIZED, why);
        }
    }
}

void gh_hub_link_publish(struct gh_hub_session *l, const struct gh_mqtt_publish *p)
{
    struct gh_slice cs, rest;
    char child[GH_IDENTITY_ID_MAX + 1];
    if (p->qos > 1) {
        session_close(l, "QoS 2 publish (IoT Hub supports QoS 0 and 1)");
        return;
    }
    if (gh_hub_link_split(p->topic, &cs, &rest) != GH_OK ||
        gh_slice_to_cstr(cs, child, sizeof child) != GH_OK) {
        session_close(l, "malformed child frame topic");
        return;
    }
    if (gh_slice_eq_cstr(rest, "$attach")) {
        puback(l, p); /* in both outcomes, before any $detach */
        attach(l, child, p->payload);
        return;
    }
    if (gh_slice_eq_cstr(rest, "$detach")) {
        struct gh_hub_session *v = attached(l, child);
        if (v) {
            v->detach_quiet = true;
            session_close(v, "the child left the gateway");
        }
        puback(l, p);
        return;
    }
    struct gh_iothub_identity cid = {.kind = GH_IOTHUB_ID_DEVICE, .device_id = cs};
    struct gh_iothub_topic t;
    gh_err rc = gh_iothub_topic_classify(rest, &cid, &t);
    struct gh_hub_session *v = attached(l, child);
    if (rc != GH_OK) {
        char ex[96];
        gh_log_warn("hub.link.publish.refused", "child=%s link=%s topic=%s err=%s", child,
                    l->device_id, gh_log_escape(ex, sizeof ex, rest.ptr, rest.len, 64),
                    gh_err_str(rc));
        puback(l, p);
        const char *why = rc == GH_ERR_FORBIDDEN ? "publish on another identity's topic"
                                                 : "publish on an unsupported topic";
        if (v) {
            v->detach_connack = DETACH_NOT_AUTHORIZED;
            session_close(v, why);
        } else {
            refuse(l, child, DETACH_NOT_AUTHORIZED, why);
        }
        return;
    }
    if (t.kind == GH_IOTHUB_TOPIC_TELEMETRY) {
        child_telemetry(l, child, t.bag, p);
        return;
    }
    if (!v) {
        puback(l, p);
        refuse(l, child, DETACH_NOT_AUTHORIZED, "child not attached");
        return;
    }
    /* Twin requests and method responses: exactly as from the child (its
     * PUBACK, if any, goes over the link with the link's packet id). */
    struct gh_mqtt_publish q = *p;
    q.topic = rest;
    handle_publish(v, &q);
    if (v->closing) puback(l, p); /* the child broke a rule: still ack the link's packet */
}

/* ---- SUBSCRIBE / UNSUBSCRIBE ---------------------------------------------- */

/* All filters name one child (else the link is closed: *child is left
 * empty and false returned). rest[i] gets the filters without prefix. */
static bool split_filters(struct gh_hub_session *l, const struct gh_slice *filters, size_t n,
                          struct gh_slice *rest, char *child, size_t cap)
{
    struct gh_slice first = GH_SLICE_EMPTY;
    for (size_t i = 0; i < n; i++) {
        struct gh_slice c;
        if (gh_hub_link_split(filters[i], &c, &rest[i]) != GH_OK) {
            session_close(l, "malformed child frame filter");
            return false;
        }
        if (i == 0) {
            first = c;
        } else if (!gh_slice_eq(first, c)) {
            session_close(l, "one SUBSCRIBE names several children");
            return false;
        }
    }
    if (gh_slice_to_cstr(first, child, cap) != GH_OK) {
        session_close(l, "malformed child frame filter");
        return false;
    }
    return true;
}

void gh_hub_link_subscribe(struct gh_hub_session *l, const struct gh_mqtt_subscribe *sub)
{
    struct gh_slice filters[GH_MQTT_MAX_SUBSCRIPTIONS], rest[GH_MQTT_MAX_SUBSCRIPTIONS];
    char child[GH_IDENTITY_ID_MAX + 1];
    for (size_t i = 0; i < sub->count; i++) filters[i] = sub->subs[i].filter;
    if (!split_filters(l, filters, sub->count, rest, child, sizeof child)) return;
    struct gh_hub_session *v = attached(l, child);
    struct gh_iothub_identity cid = {.kind = GH_IOTHUB_ID_DEVICE,
                                     .device_id = gh_slice_cstr(child)};
    bool allowed = v != NULL;
    for (size_t i = 0; allowed && i < sub->count; i++) {
        /* The child's own authorization table (a device: 1.6). */
        struct gh_iothub_filter f;
        enum gh_iothub_filter_kind k = gh_iothub_filter_classify(rest[i], &cid, &f);
        allowed = k == GH_IOTHUB_FILTER_C2D || k == GH_IOTHUB_FILTER_TWIN_RESPONSES ||
                  k == GH_IOTHUB_FILTER_TWIN_DESIRED || k == GH_IOTHUB_FILTER_METHODS;
    }
    if (!allowed) {
        struct gh_mqtt_packet ack = {.type = GH_MQTT_SUBACK};
        ack.u.suback.packet_id = sub->packet_id;
        ack.u.suback.count = sub->count;
        memset(ack.u.suback.return_codes, 0x80, sizeof ack.u.suback.return_codes);
        if (send_packet(l, &ack) != GH_OK) return;
        if (!v) {
            refuse(l, child, DETACH_NOT_AUTHORIZED, "child not attached");
        } else {
            v->detach_connack = DETACH_NOT_AUTHORIZED;
            session_close(v, "subscribe to a filter outside the device's own topics");
        }
        return;
    }
    struct gh_mqtt_subscribe q = *sub;
    for (size_t i = 0; i < q.count; i++) q.subs[i].filter = rest[i];
    handle_subscribe(v, &q);
}

void gh_hub_link_unsubscribe(struct gh_hub_session *l, const struct gh_mqtt_unsubscribe *u)
{
    struct gh_mqtt_unsubscribe q = *u;
    char child[GH_IDENTITY_ID_MAX + 1];
    if (!split_filters(l, u->filters, u->count, q.filters, child, sizeof child)) return;
    struct gh_hub_session *v = attached(l, child);
    if (!v) {
        if (send_ack(l, GH_MQTT_UNSUBACK, u->packet_id) == GH_OK)
            refuse(l, child, DETACH_NOT_AUTHORIZED, "child not attached");
        return;
    }
    handle_unsubscribe(v, &q);
}

/* ---- PUBACK ------------------------------------------------------------------ */

void gh_hub_link_puback(struct gh_hub_session *l, uint16_t pid)
{
    if (l->c2d_inflight && l->c2d_pid == pid) {
        handle_puback(l, pid);
        return;
    }
    for (struct gh_hub_session *v = l->children; v; v = v->child_next) {
        if (v->c2d_inflight && v->c2d_pid == pid) {
            handle_puback(v, pid);
            return;
        }
    }
}

void gh_hub_session_parent_changed(struct gh_hub *hub, const char *device_id,
                                   const char *parent_scope)
{
    struct gh_hub_session *s = gh_hub_session_find(hub, device_id, "");
    if (s && s->link && strcmp(s->link->device_scope, parent_scope) != 0)
        session_close(s, "no longer a child of this gateway");
}
