/* Child sessions: the gateway's downstream MQTT endpoint (PROTOCOL.md 1
 * and 6.3). A child authenticates against the local identity cache (so it
 * works while the hub is unreachable); its traffic goes to the hub over the
 * link (link.c), its telemetry through gh_edge_route. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "edge/cache.h"
#include "edge/edge_int.h"
#include "hub/auth.h"
#include "hub/store.h"
#include "iothub/topic.h"
#include "iothub/username.h"
#include "net/conn.h"

#define USERNAME_SCRATCH 4096u

/* ---- output ------------------------------------------------------------- */

static gh_err send_packet(struct gh_edge_child *ch, const struct gh_mqtt_packet *p)
{
    size_t need;
    GH_GUARD(gh_mqtt_packet_size(&ch->ctx, p, &need));
    uint8_t small[EDGE_SMALL_PACKET];
    uint8_t *buf = need <= sizeof small ? small : malloc(need);
    GH_ENSURE(buf, GH_ERR_NOMEM);
    struct gh_writer w;
    gh_writer_init(&w, buf, need);
    gh_err rc = gh_mqtt_encode(&ch->ctx, p, &w);
    if (rc == GH_OK) rc = gh_conn_write(ch->conn, buf, w.len);
    if (buf != small) free(buf);
    if (rc == GH_ERR_NOBUFS || rc == GH_ERR_TOO_LARGE)
        gh_edge_child_close(ch, "output buffer full (device not reading)");
    return rc;
}

static gh_err send_ack(struct gh_edge_child *ch, enum gh_mqtt_type type, uint16_t pid)
{
    struct gh_mqtt_packet p = {.type = type};
    if (type == GH_MQTT_UNSUBACK)
        p.u.unsuback.packet_id = pid;
    else
        p.u.puback.packet_id = pid;
    return send_packet(ch, &p);
}

static gh_err send_publish(struct gh_edge_child *ch, struct gh_slice topic, uint8_t qos,
                           uint16_t pid, bool dup, struct gh_slice body)
{
    struct gh_mqtt_packet p = {.type = GH_MQTT_PUBLISH};
    p.u.publish.qos = qos;
    p.u.publish.dup = dup && qos > 0;
    p.u.publish.packet_id = qos ? pid : 0;
    p.u.publish.topic = topic;
    p.u.publish.payload = body;
    return send_packet(ch, &p);
}

/* ---- table -------------------------------------------------------------- */

static unsigned hash_id(const char *d)
{
    uint32_t h = 2166136261u;
    for (const char *p = d; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
    return h % EDGE_BUCKETS;
}

struct gh_edge_child *gh_edge_child_find(struct gh_edge *e, const char *device_id)
{
    for (struct gh_edge_child *c = e->buckets[hash_id(device_id)]; c; c = c->hnext)
        if (strcmp(c->device_id, device_id) == 0) return c;
    return NULL;
}

static void unhash(struct gh_edge_child *ch)
{
    struct gh_edge_child **pp = &ch->edge->buckets[hash_id(ch->device_id)];
    for (; *pp; pp = &(*pp)->hnext) {
        if (*pp == ch) {
            *pp = ch->hnext;
            ch->hnext = NULL;
            return;
        }
    }
}

/* ---- CONNECT ------------------------------------------------------------ */

static void refuse(struct gh_edge_child *ch, uint8_t code, const char *why, const char *who)
{
    gh_log_info("edge.connect.refused", "identity=%s peer=%s connack=%u reason=\"%s\"", who,
                gh_conn_peer_addr(ch->conn), code, why);
    if (code < 6) ch->edge->stats.auth_failures[code]++;
    struct gh_mqtt_packet p = {.type = GH_MQTT_CONNACK};
    p.u.connack.return_code = code;
    (void)send_packet(ch, &p);
    ch->closing = true;
    gh_conn_close(ch->conn);
}

/* The cache copy may be used: refuse when it is older than the configured
 * limit (docs/edge.md, offline policy). */
static bool cache_fresh(struct gh_edge *e)
{
    if (e->cfg->cache_max_age == 0) return true;
    int64_t last = gh_edge_cache_last_sync(e->cache);
    return last > 0 && gh_edge_now_ms() - last <= e->cfg->cache_max_age * 1000;
}

static void on_read(struct gh_conn *c, void *user);

/* Hold a CONNECT of an identity the cache does not know while the link is
 * up: the gateway syncs and decides once the hub has answered (6.3: an
 * unknown identity is refreshed from the hub, then decided). The raw packet
 * is kept (at most limits.max_connect_size bytes). */
static bool hold_connect(struct gh_edge_child *ch)
{
    struct gh_edge *e = ch->edge;
    if (!e->link_up || e->stopping || !ch->raw.ptr || ch->held) return false;
    /* A sync already running may have started before the identity was
     * added: wait for the next one (sync_now queues it). */
    uint64_t gen = e->sync_gen + (e->sync_running ? 1 : 0);
    gh_edge_sync_now(e);
    if (!e->sync_running) return false; /* could not start one */
    ch->held = malloc(ch->raw.len);
    if (!ch->held) return false;
    memcpy(ch->held, ch->raw.ptr, ch->raw.len);
    ch->held_len = ch->raw.len;
    ch->held_gen = gen;
    e->nheld++;
    gh_log_debug("edge.connect.held", "identity=%s reason=\"unknown: syncing with the hub\"",
                 ch->device_id);
    return true;
}

static void handle_connect(struct gh_edge_child *ch, const struct gh_mqtt_connect *c)
{
    struct gh_edge *e = ch->edge;
    const struct gh_edge_config *cfg = e->cfg;
    char who[2 * GH_IDENTITY_ID_MAX + 2];
    gh_log_escape(who, sizeof who, c->client_id.ptr, c->client_id.len, 128);
    uint8_t scratch[USERNAME_SCRATCH];
    struct gh_writer w;
    struct gh_iothub_username u;
    gh_writer_init(&w, scratch, sizeof scratch);
    if (!c->has_username || gh_iothub_username_parse_hub(c->username, &w, &u) != GH_OK) {
        refuse(ch, 5, "malformed user name", who);
        return;
    }
    if (gh_iothub_username_check_client_id(&u, c->client_id) != GH_OK) {
        refuse(ch, 5, "client id does not match the user name", who);
        return;
    }
    if (u.id.kind == GH_IOTHUB_ID_MODULE) {
        refuse(ch, 5, "module identities are not served by the gateway", who);
        return;
    }
    if (gh_slice_to_cstr(u.id.device_id, ch->device_id, sizeof ch->device_id) != GH_OK) {
        refuse(ch, 5, "identity too long", who);
        return;
    }
    if ((size_t)e->cfg->max_children <= e->nauthenticated &&
        !gh_edge_child_find(e, ch->device_id)) {
        refuse(ch, 3, "the gateway serves its maximum number of children", who);
        return;
    }
    struct gh_identity id;
    gh_err rc = gh_edge_cache_get(e->cache, ch->device_id, &id);
    if (rc == GH_ERR_NOT_FOUND) {
        /* Maybe added in the hub since the last sync. */
        if (hold_connect(ch)) return;
        gh_edge_sync_now(e);
        refuse(ch, 5, "unknown identity (not a child of this gateway at the last sync)", who);
        return;
    }
    if (rc != GH_OK) {
        gh_log_error("edge.cache", "identity=%s err=%s detail=\"%s\"", who, gh_err_str(rc),
                     gh_edge_cache_errmsg(e->cache));
        refuse(ch, 3, "identity cache unreadable", who);
        return;
    }
    if (!cache_fresh(e)) {
        gh_identity_wipe(&id);
        refuse(ch, 3, "identity cache older than cache.max_age (hub unreachable)", who);
        return;
    }
    /* The audience may name the hub or the gateway (6.1). */
    struct gh_slice hosts[2] = {gh_slice_cstr(e->id.hub), gh_slice_cstr(cfg->hostname)};
    struct gh_hub_credentials cred = {
        .device_id = ch->device_id,
        .module_id = "",
        .password = c->has_password ? c->password : GH_SLICE_EMPTY,
        .cert = gh_conn_peer_cert(ch->conn),
        .chain = gh_conn_peer_chain(ch->conn),
        .ca_store = e->trust,
        .ca_is_trust_bundle = true,
        .hosts = hosts,
        .nhosts = 2,
        .now_s = gh_edge_now_ms() / 1000,
        .skew_s = (uint32_t)cfg->sas_skew,
    };
    struct gh_hub_auth a;
    rc = gh_hub_authenticate_identity(NULL, &id, &cred, &a);
    gh_identity_wipe(&id);
    if (rc != GH_OK) {
        gh_log_error("edge.auth", "identity=%s err=%s", who, gh_err_str(rc));
        refuse(ch, 3, "gateway error during authentication", who);
        return;
    }
    if (a.connack != 0) {
        refuse(ch, a.connack, a.reason, who);
        return;
    }
    ch->auth_type = a.auth_type;
    ch->expires_ms = a.expires_s ? (a.expires_s + cfg->sas_skew) * 1000 : 0;
    ch->clean_session = c->clean_session;
    if (u.model_id.ptr && u.model_id.len &&
        gh_slice_to_cstr(u.model_id, ch->model_id, sizeof ch->model_id) != GH_OK)
        ch->model_id[0] = '\0';
    /* One connection per identity: the newer one wins (1.5). */
    struct gh_edge_child *old = gh_edge_child_find(e, ch->device_id);
    if (old) {
        unhash(old);
        old->authenticated = false;
        e->nauthenticated--;
        gh_edge_child_close(old, "a new connection of the same identity");
    }
    int64_t ka = c->keep_alive;
    if (ka == 0 || ka > cfg->keepalive_max) ka = cfg->keepalive_max;
    ch->keepalive_ms = ka * 1500;
    ch->authenticated = true;
    e->nauthenticated++;
    e->stats.children_accepted++;
    if (!e->link_up) e->stats.auth_offline++;
    ch->hnext = e->buckets[hash_id(ch->device_id)];
    e->buckets[hash_id(ch->device_id)] = ch;
    struct gh_mqtt_packet p = {.type = GH_MQTT_CONNACK};
    (void)send_packet(ch, &p);
    if (ch->closing || gh_mqtt_framer_accept(&ch->framer) != GH_OK) {
        gh_edge_child_close(ch, "internal framer state");
        return;
    }
    gh_log_info("edge.connect", "identity=%s auth=%s peer=%s link=%s", who, a.reason,
                gh_conn_peer_addr(ch->conn), e->link_up ? "up" : "down (offline)");
    gh_edge_link_attach(e, ch);
}

/* ---- PUBLISH / SUBSCRIBE ------------------------------------------------- */

static struct gh_iothub_identity identity_of(const struct gh_edge_child *ch)
{
    struct gh_iothub_identity id = {.kind = GH_IOTHUB_ID_DEVICE,
                                    .device_id = gh_slice_cstr(ch->device_id),
                                    .module_id = GH_SLICE_EMPTY};
    return id;
}

/* An answer the gateway gives itself when the hub is unreachable. */
static void twin_unavailable(struct gh_edge_child *ch, struct gh_slice rid)
{
    if (!(ch->subscribed & GH_SESSION_TWIN_RESPONSE)) return;
    uint8_t tb[512];
    struct gh_writer w;
    gh_writer_init(&w, tb, sizeof tb);
    if (gh_iothub_topic_build_twin_response(&w, 503, rid, NULL) != GH_OK) return;
    static const char body[] = "{\"errorCode\":503000,\"message\":\"The gateway has no "
                               "connection to the hub.\"}";
    (void)send_publish(ch, gh_writer_slice(&w), 0, 0, false,
                       (struct gh_slice){(const uint8_t *)body, sizeof body - 1});
}

static void handle_publish(struct gh_edge_child *ch, const struct gh_mqtt_publish *p)
{
    struct gh_edge *e = ch->edge;
    if (p->qos > 1) {
        gh_edge_child_close(ch, "QoS 2 publish (IoT Hub supports QoS 0 and 1)");
        return;
    }
    struct gh_iothub_identity id = identity_of(ch);
    struct gh_iothub_topic t;
    gh_err rc = gh_iothub_topic_classify(p->topic, &id, &t);
    if (rc != GH_OK) {
        char ex[96];
        gh_log_warn("edge.publish.refused", "device=%s topic=%s err=%s", ch->device_id,
                    gh_log_escape(ex, sizeof ex, p->topic.ptr, p->topic.len, 64), gh_err_str(rc));
        gh_edge_child_close(ch, rc == GH_ERR_FORBIDDEN ? "publish on another identity's topic"
                                                       : "publish on an unsupported topic");
        return;
    }
    switch (t.kind) {
    case GH_IOTHUB_TOPIC_TELEMETRY:
        if (p->payload.len > (size_t)e->cfg->max_message_size) {
            gh_edge_child_close(ch, "telemetry message over the size limit");
            return;
        }
        rc = gh_edge_route(e, ch, t.bag, p->payload, p->qos, p->packet_id);
        if (rc == GH_ERR_NOSPACE) {
            /* Refuse rather than drop what was acknowledged: no PUBACK; the
             * device keeps the message and resends it after reconnecting. */
            gh_log_warn("edge.store.full", "device=%s", ch->device_id);
            gh_edge_child_refuse(ch, "message store full (store_and_forward.max_size)");
        } else if (rc != GH_OK) {
            gh_log_error("edge.route", "device=%s err=%s", ch->device_id, gh_err_str(rc));
            gh_edge_child_refuse(ch, "message could not be stored");
        }
        return; /* PUBACK after the group commit */
    case GH_IOTHUB_TOPIC_TWIN_GET:
    case GH_IOTHUB_TOPIC_TWIN_PATCH_REPORTED:
        if (gh_edge_link_frame(e, ch, p->topic, p->payload) != GH_OK)
            twin_unavailable(ch, t.rid);
        else
            e->stats.twin_relayed++;
        break;
    case GH_IOTHUB_TOPIC_METHOD_RESPONSE:
        if (gh_edge_link_frame(e, ch, p->topic, p->payload) != GH_OK)
            gh_log_warn("edge.method.response.lost", "device=%s reason=\"no link to the hub\"",
                        ch->device_id);
        break;
    default:
        gh_edge_child_close(ch, "publish on an unsupported topic");
        return;
    }
    if (p->qos == 1 && !ch->closing) (void)send_ack(ch, GH_MQTT_PUBACK, p->packet_id);
}

static unsigned bit_index(uint32_t bit)
{
    unsigned i = 0;
    while (i < EDGE_FEATURES && !(bit & (1u << i))) i++;
    return i;
}

static void handle_subscribe(struct gh_edge_child *ch, const struct gh_mqtt_subscribe *sub)
{
    struct gh_mqtt_packet ack = {.type = GH_MQTT_SUBACK};
    struct gh_iothub_identity id = identity_of(ch);
    ack.u.suback.packet_id = sub->packet_id;
    ack.u.suback.count = sub->count;
    uint32_t added = 0;
    for (size_t i = 0; i < sub->count; i++) {
        struct gh_iothub_filter f;
        uint32_t bit =
            gh_session_feature_bit(gh_iothub_filter_classify(sub->subs[i].filter, &id, &f));
        if (!bit) {
            char ex[96];
            gh_log_warn(
                "edge.subscribe.refused", "device=%s filter=%s", ch->device_id,
                gh_log_escape(ex, sizeof ex, sub->subs[i].filter.ptr, sub->subs[i].filter.len, 64));
            gh_edge_child_close(ch, "subscribe to a filter outside the device's own topics");
            return;
        }
        unsigned k = bit_index(bit);
        char *spelling = strndup((const char *)sub->subs[i].filter.ptr, sub->subs[i].filter.len);
        if (!spelling) {
            gh_edge_child_close(ch, "out of memory");
            return;
        }
        free(ch->filters[k]);
        ch->filters[k] = spelling;
        uint8_t q = sub->subs[i].qos > 1 ? 1 : sub->subs[i].qos;
        ack.u.suback.return_codes[i] = q;
        ch->subscribed |= bit;
        if (q)
            ch->qos1 |= bit;
        else
            ch->qos1 &= ~bit;
        added |= bit;
    }
    (void)send_packet(ch, &ack);
    for (unsigned k = 0; k < EDGE_FEATURES; k++)
        if (added & (1u << k)) gh_edge_link_subscribe(ch->edge, ch, 1u << k);
}

static void handle_unsubscribe(struct gh_edge_child *ch, const struct gh_mqtt_unsubscribe *u)
{
    struct gh_iothub_identity id = identity_of(ch);
    for (size_t i = 0; i < u->count; i++) {
        struct gh_iothub_filter f;
        uint32_t bit = gh_session_feature_bit(gh_iothub_filter_classify(u->filters[i], &id, &f));
        if (!bit || !(ch->subscribed & bit)) continue;
        ch->subscribed &= ~bit;
        gh_edge_link_unsubscribe(ch->edge, ch, bit);
    }
    (void)send_ack(ch, GH_MQTT_UNSUBACK, u->packet_id);
}

static void handle_puback(struct gh_edge_child *ch, uint16_t pid)
{
    for (unsigned i = 0; i < EDGE_C2D_INFLIGHT; i++) {
        if (ch->c2d[i].used && ch->c2d[i].child_pid == pid) {
            ch->c2d[i].used = false;
            gh_edge_link_puback(ch->edge, ch->c2d[i].up_pid);
            return;
        }
    }
}

void gh_edge_child_from_hub(struct gh_edge_child *ch, const struct gh_mqtt_publish *p,
                            struct gh_slice topic)
{
    if (!ch->authenticated || ch->closing) return;
    if (p->qos == 0) {
        (void)send_publish(ch, topic, 0, 0, false, p->payload);
        if (gh_slice_starts_with(topic, "$iothub/methods/POST/")) ch->edge->stats.methods_relayed++;
        return;
    }
    /* QoS 1 from the hub: a C2D message. The child's PUBACK completes it
     * upstream (6.4); a child that subscribed with QoS 0 completes it now. */
    if (!(ch->qos1 & GH_SESSION_C2D)) {
        if (send_publish(ch, topic, 0, 0, false, p->payload) == GH_OK)
            gh_edge_link_puback(ch->edge, p->packet_id);
        ch->edge->stats.c2d_relayed++;
        return;
    }
    unsigned slot = EDGE_C2D_INFLIGHT;
    for (unsigned i = 0; i < EDGE_C2D_INFLIGHT; i++) {
        if (ch->c2d[i].used && ch->c2d[i].up_pid == p->packet_id) slot = i; /* redelivery */
        if (slot == EDGE_C2D_INFLIGHT && !ch->c2d[i].used) slot = i;
    }
    if (slot == EDGE_C2D_INFLIGHT) return; /* the hub redelivers after its lock time */
    bool dup = ch->c2d[slot].used;
    if (!dup) {
        if (++ch->next_pid == 0) ch->next_pid = 1;
        ch->c2d[slot].child_pid = ch->next_pid;
        ch->c2d[slot].up_pid = p->packet_id;
    }
    if (send_publish(ch, topic, 1, ch->c2d[slot].child_pid, dup, p->payload) == GH_OK) {
        ch->c2d[slot].used = true;
        ch->edge->stats.c2d_relayed++;
    }
}

void gh_edge_child_acked(struct gh_edge_child *ch, uint16_t child_pid)
{
    if (!ch->closing) (void)send_ack(ch, GH_MQTT_PUBACK, child_pid);
}

/* ---- input loop ---------------------------------------------------------- */

static void handle_packet(struct gh_edge_child *ch, const struct gh_mqtt_packet *p)
{
    switch (p->type) {
    case GH_MQTT_CONNECT:
        handle_connect(ch, &p->u.connect);
        break;
    case GH_MQTT_PUBLISH:
        handle_publish(ch, &p->u.publish);
        break;
    case GH_MQTT_PUBACK:
        handle_puback(ch, p->u.puback.packet_id);
        break;
    case GH_MQTT_SUBSCRIBE:
        handle_subscribe(ch, &p->u.subscribe);
        break;
    case GH_MQTT_UNSUBSCRIBE:
        handle_unsubscribe(ch, &p->u.unsubscribe);
        break;
    case GH_MQTT_PINGREQ: {
        struct gh_mqtt_packet r = {.type = GH_MQTT_PINGRESP};
        (void)send_packet(ch, &r);
        break;
    }
    case GH_MQTT_DISCONNECT:
        gh_edge_child_close(ch, NULL);
        break;
    default:
        gh_edge_child_close(ch, "QoS 2 flow packet");
        break;
    }
}

static void on_read(struct gh_conn *c, void *user)
{
    struct gh_edge_child *ch = user;
    /* in_subq: its subscriptions wait for room on the link (link.c);
     * close_after: refused, closed once its pending messages are answered. */
    while (!ch->closing && !ch->in_subq && !ch->close_after) {
        size_t avail = gh_conn_input_len(c);
        if (avail <= ch->fed) return;
        struct gh_slice in;
        if (gh_conn_peek(c, avail, &in) != GH_OK) {
            gh_edge_child_close(ch, "out of memory");
            return;
        }
        size_t consumed;
        enum gh_mqtt_frame_status st;
        struct gh_mqtt_frame fr;
        gh_err rc = gh_mqtt_framer_feed(&ch->framer, in.ptr + ch->fed, in.len - ch->fed, &consumed,
                                        &st, &fr);
        if (rc != GH_OK) {
            gh_log_info("edge.mqtt.framing", "peer=%s device=%s err=%s", gh_conn_peer_addr(c),
                        ch->device_id, gh_err_str(rc));
            gh_edge_child_close(ch, NULL);
            return;
        }
        ch->fed += consumed;
        if (st != GH_MQTT_FRAME_READY) return;
        ch->last_rx_ms = gh_edge_now_ms();
        struct gh_mqtt_packet p;
        rc = gh_mqtt_decode(&ch->ctx, (struct gh_slice){in.ptr, fr.total_len}, &p);
        if (rc == GH_ERR_BAD_PROTOCOL_LEVEL) {
            refuse(ch, 1, "unsupported MQTT protocol level", "?");
            return;
        }
        if (rc != GH_OK) {
            gh_log_info("edge.mqtt.decode", "peer=%s device=%s type=%s err=%s",
                        gh_conn_peer_addr(c), ch->device_id, gh_mqtt_type_name(fr.type),
                        gh_err_str(rc));
            gh_edge_child_close(ch, NULL);
            return;
        }
        ch->edge->stats.bytes_in += fr.total_len;
        ch->raw = (struct gh_slice){in.ptr, fr.total_len};
        handle_packet(ch, &p);
        ch->raw = GH_SLICE_EMPTY;
        ch->fed = 0;
        if (gh_conn_consume(c, fr.total_len) != GH_OK) {
            gh_edge_child_close(ch, "internal input state");
            return;
        }
    }
}

static void on_close(struct gh_conn *c, gh_err reason, void *user)
{
    (void)c;
    struct gh_edge_child *ch = user;
    struct gh_edge *e = ch->edge;
    if (ch->authenticated) {
        if (gh_edge_child_find(e, ch->device_id) == ch) {
            unhash(ch);
            gh_edge_link_detach(e, ch);
        }
        e->nauthenticated--;
        gh_log_info("edge.disconnect", "device=%s reason=%s", ch->device_id, gh_err_str(reason));
    }
    gh_edge_queue_forget(e, ch);
    gh_edge_link_forget(e, ch);
    if (ch->held) {
        free(ch->held);
        e->nheld--;
    }
    if (ch->prev)
        ch->prev->next = ch->next;
    else
        e->children = ch->next;
    if (ch->next) ch->next->prev = ch->prev;
    e->nchildren--;
    for (unsigned k = 0; k < EDGE_FEATURES; k++) free(ch->filters[k]);
    free(ch);
}

static const struct gh_conn_callbacks callbacks = {
    .on_read = on_read,
    .on_close = on_close,
};

void gh_edge_child_close(struct gh_edge_child *ch, const char *why)
{
    if (ch->closing) return;
    ch->closing = true;
    if (why)
        gh_log_info("edge.session.close", "device=%s peer=%s reason=\"%s\"", ch->device_id,
                    gh_conn_peer_addr(ch->conn), why);
    gh_conn_close(ch->conn);
}

void gh_edge_child_refuse(struct gh_edge_child *ch, const char *why)
{
    if (ch->unsettled == 0)
        gh_edge_child_close(ch, why);
    else if (!ch->close_after)
        ch->close_after = why;
}

void gh_edge_child_settled(struct gh_edge_child *ch)
{
    if (ch->unsettled > 0) ch->unsettled--;
    if (ch->close_after && ch->unsettled == 0) gh_edge_child_close(ch, ch->close_after);
}

void gh_edge_child_accept(struct gh_edge *e, struct gh_conn *c)
{
    if (e->stopping) {
        gh_conn_abort(c);
        return;
    }
    struct gh_edge_child *ch = calloc(1, sizeof *ch);
    struct gh_mqtt_limits lim;
    gh_mqtt_limits_default(&lim);
    lim.max_connect_size = (size_t)e->cfg->max_connect_size;
    lim.max_packet_size = (size_t)e->cfg->max_message_size + 64 * 1024;
    if (!ch || gh_mqtt_framer_init(&ch->framer, GH_MQTT_ROLE_SERVER, &lim) != GH_OK ||
        gh_mqtt_ctx_init(&ch->ctx, &lim) != GH_OK) {
        free(ch);
        gh_conn_abort(c);
        return;
    }
    ch->edge = e;
    ch->conn = c;
    ch->last_rx_ms = gh_edge_now_ms();
    ch->keepalive_ms = e->cfg->handshake_timeout * 1000; /* until CONNECT */
    ch->next = e->children;
    if (e->children) e->children->prev = ch;
    e->children = ch;
    e->nchildren++;
    gh_conn_set_callbacks(c, &callbacks, ch);
}

void gh_edge_children_tick(struct gh_edge *e, int64_t now)
{
    for (struct gh_edge_child *ch = e->children; ch; ch = ch->next) {
        if (ch->closing) continue;
        if (ch->keepalive_ms && now - ch->last_rx_ms > ch->keepalive_ms)
            gh_edge_child_close(ch,
                                ch->authenticated ? "keep-alive timeout" : "no CONNECT in time");
        else if (ch->expires_ms && now > ch->expires_ms)
            gh_edge_child_close(ch, "SAS token expired");
    }
}

void gh_edge_children_close_all(struct gh_edge *e)
{
    for (struct gh_edge_child *ch = e->children; ch; ch = ch->next) {
        if (!ch->closing) {
            ch->closing = true;
            gh_conn_abort(ch->conn);
        }
    }
}

void gh_edge_children_sync_done(struct gh_edge *e, uint64_t gen, bool all)
{
    if (e->nheld == 0) return;
    for (struct gh_edge_child *ch = e->children; ch; ch = ch->next) {
        if (!ch->held || (!all && ch->held_gen > gen)) continue;
        uint8_t *raw = ch->held;
        size_t len = ch->held_len;
        ch->held = NULL;
        e->nheld--;
        struct gh_mqtt_packet p;
        if (!ch->closing && gh_mqtt_decode(&ch->ctx, (struct gh_slice){raw, len}, &p) == GH_OK &&
            p.type == GH_MQTT_CONNECT) {
            handle_connect(ch, &p.u.connect); /* the cache is fresh: decides now */
            /* Input that came after the CONNECT waited behind it. */
            if (ch->authenticated && !ch->closing) on_read(ch->conn, ch);
        }
        free(raw);
    }
}
