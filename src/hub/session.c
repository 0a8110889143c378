/* Device MQTT sessions: framing, CONNECT and authentication, the topic
 * authorization table, telemetry, twins, methods and cloud-to-device
 * delivery (PROTOCOL.md section 1). */
#include "hub/session.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "hub/auth.h"
#include "hub/session_int.h"
#include "hub/stamp.h"
#include "hub/store.h"
#include "hub/telemetry.h"
#include "iothub/bag.h"
#include "iothub/crypto.h"
#include "iothub/topic.h"
#include "iothub/username.h"
#include "mqtt/framer.h"
#include "mqtt/mqtt.h"
#include "net/conn.h"

/* ---- output ------------------------------------------------------------ */

gh_err send_packet(struct gh_hub_session *s, const struct gh_mqtt_packet *p)
{
    if (s->link) return gh_hub_link_send(s, p);
    size_t need;
    GH_GUARD(gh_mqtt_packet_size(&s->ctx, p, &need));
    uint8_t small[SMALL_PACKET];
    uint8_t *buf = need <= sizeof small ? small : malloc(need);
    GH_ENSURE(buf, GH_ERR_NOMEM);
    struct gh_writer w;
    gh_writer_init(&w, buf, need);
    gh_err rc = gh_mqtt_encode(&s->ctx, p, &w);
    if (rc == GH_OK) rc = gh_conn_write(s->conn, buf, w.len);
    if (buf != small) free(buf);
    if (rc == GH_ERR_NOBUFS || rc == GH_ERR_TOO_LARGE) {
        /* The device does not read what we send: a slow consumer is closed
         * rather than buffered without bound (docs/hub.md). */
        session_close(s, "output buffer full (device not reading)");
    }
    return rc;
}

gh_err send_ack(struct gh_hub_session *s, enum gh_mqtt_type type, uint16_t pid)
{
    struct gh_mqtt_packet p = {.type = type};
    p.u.puback.packet_id = pid; /* every ack member has the same layout */
    if (type == GH_MQTT_UNSUBACK) p.u.unsuback.packet_id = pid;
    return send_packet(s, &p);
}

gh_err send_publish(struct gh_hub_session *s, struct gh_slice topic, uint8_t qos, uint16_t pid,
                    bool dup, const void *body, size_t len)
{
    struct gh_mqtt_packet p = {.type = GH_MQTT_PUBLISH};
    p.u.publish.qos = qos;
    p.u.publish.dup = dup && qos > 0;
    p.u.publish.packet_id = qos ? pid : 0;
    p.u.publish.topic = topic;
    p.u.publish.payload = (struct gh_slice){body, len};
    return send_packet(s, &p);
}

uint16_t next_pid(struct gh_hub_session *s)
{
    if (s->link) s = s->link; /* packet ids belong to the link */
    if (++s->next_pid == 0) s->next_pid = 1;
    return s->next_pid;
}

/* ---- table ------------------------------------------------------------- */

static unsigned hash_id(const char *d, const char *m)
{
    uint32_t h = 2166136261u;
    for (const char *p = d; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
    h = (h ^ '/') * 16777619u;
    for (const char *p = m; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
    return h % BUCKETS;
}

static void table_unhash(struct gh_hub_session *s);

static struct gh_hub_session *table_find(struct gh_hub_sessions *t, const char *d, const char *m)
{
    for (struct gh_hub_session *s = t->buckets[hash_id(d, m)]; s; s = s->hnext)
        if (strcmp(s->device_id, d) == 0 && strcmp(s->module_id, m) == 0) return s;
    return NULL;
}

struct gh_hub_session *session_lookup(struct gh_hub_sessions *t, const char *device_id,
                                      const char *module_id)
{
    return table_find(t, device_id, module_id ? module_id : "");
}

void session_unhash(struct gh_hub_session *s)
{
    if (table_find(s->table, s->device_id, s->module_id) == s) table_unhash(s);
}

static void table_unhash(struct gh_hub_session *s)
{
    struct gh_hub_session **pp = &s->table->buckets[hash_id(s->device_id, s->module_id)];
    for (; *pp; pp = &(*pp)->hnext) {
        if (*pp == s) {
            *pp = s->hnext;
            s->hnext = NULL;
            return;
        }
    }
}

gh_err gh_hub_sessions_new(struct gh_hub *hub, struct gh_hub_sessions **out)
{
    struct gh_hub_sessions *t = calloc(1, sizeof *t);
    GH_ENSURE(t, GH_ERR_NOMEM);
    t->hub = hub;
    *out = t;
    return GH_OK;
}

size_t gh_hub_sessions_count(const struct gh_hub_sessions *t)
{
    return t->count;
}

void gh_hub_sessions_free(struct gh_hub_sessions *t)
{
    if (!t) return;
    t->shutting_down = true;
    /* Abort every connection; on_close frees the sessions from the loop. */
    for (struct gh_hub_session *s = t->all; s; s = s->next) {
        s->graceful = true; /* a server shutdown is not the device's failure: no Will */
        if (!s->closing) {
            s->closing = true;
            gh_conn_abort(s->conn);
        }
    }
    if (t->count == 0) free(t);
}

struct gh_hub_session *gh_hub_session_find(struct gh_hub *hub, const char *device_id,
                                           const char *module_id)
{
    struct gh_hub_sessions *t = gh_hub_sessions(hub);
    return t ? table_find(t, device_id, module_id ? module_id : "") : NULL;
}

/* ---- CONNECT ------------------------------------------------------------ */

static void connack(struct gh_hub_session *s, uint8_t code, bool present)
{
    struct gh_mqtt_packet p = {.type = GH_MQTT_CONNACK};
    p.u.connack.return_code = code;
    p.u.connack.session_present = present;
    (void)send_packet(s, &p);
}

static void refuse_connect(struct gh_hub_session *s, uint8_t code, const char *why, const char *who)
{
    gh_log_info("hub.connect.refused", "identity=%s peer=%s connack=%u reason=\"%s\"", who,
                gh_conn_peer_addr(s->conn), code, why);
    connack(s, code, false);
    s->closing = true;
    gh_conn_close(s->conn);
}

static void keep_will(struct gh_hub_session *s, const struct gh_mqtt_connect *c)
{
    if (!c->will) return;
    struct gh_iothub_identity id = identity_of(s);
    struct gh_iothub_topic t;
    if (gh_iothub_topic_classify(c->will_topic, &id, &t) != GH_OK ||
        t.kind != GH_IOTHUB_TOPIC_TELEMETRY) {
        gh_log_info("hub.will.ignored",
                    "device=%s reason=\"Will topic is not the identity's "
                    "telemetry topic\"",
                    s->device_id);
        return;
    }
    s->will_bag = malloc(t.bag.len ? t.bag.len : 1);
    s->will_body = malloc(c->will_message.len ? c->will_message.len : 1);
    if (!s->will_bag || !s->will_body) {
        free(s->will_bag), free(s->will_body);
        s->will_bag = s->will_body = NULL;
        return;
    }
    if (t.bag.len) memcpy(s->will_bag, t.bag.ptr, t.bag.len);
    if (c->will_message.len) memcpy(s->will_body, c->will_message.ptr, c->will_message.len);
    s->will_bag_len = t.bag.len;
    s->will_body_len = c->will_message.len;
    s->will_retain = c->will_retain;
}

/* Authenticated: take over the identity, answer CONNACK 0, open the framer. */
static void finish_connect(struct gh_hub_session *s, const struct gh_mqtt_connect *c,
                           const char *who, const char *how, bool present)
{
    const struct gh_hub_config *cfg = gh_hub_config(s->hub);
    int64_t ka = c->keep_alive;
    if (ka == 0 || ka > cfg->keepalive_max) ka = cfg->keepalive_max;
    s->keepalive_ms = ka * 1500;
    session_take_identity(s);
    connack(s, 0, present);
    if (gh_mqtt_framer_accept(&s->framer) != GH_OK) {
        session_close(s, "internal framer state");
        return;
    }
    gh_log_info("hub.connect", "identity=%s auth=%s peer=%s clean=%d present=%d", who, how,
                gh_conn_peer_addr(s->conn), c->clean_session, present);
}

void session_take_identity(struct gh_hub_session *s)
{
    /* One connection per identity (1.5 item 1): the newer one wins. s is
     * hashed first, so the old one's close (synchronous for a virtual
     * session) sees the identity still connected. */
    struct gh_hub_session *old = table_find(s->table, s->device_id, s->module_id);
    if (old) table_unhash(old);
    s->authenticated = true;
    s->hnext = s->table->buckets[hash_id(s->device_id, s->module_id)];
    s->table->buckets[hash_id(s->device_id, s->module_id)] = s;
    if (old) session_close(old, "a new connection of the same identity");
}

gh_err session_begin(struct gh_hub_session *s, bool clean, const char *model_id, bool *present)
{
    struct gh_store *st = gh_hub_store(s->hub);
    bool have = false;
    s->clean_session = clean;
    if (clean) {
        GH_GUARD(gh_store_session_clear(st, s->device_id, s->module_id));
    } else {
        GH_GUARD(gh_store_session_load(st, s->device_id, s->module_id, &s->subs, &have));
        if (have && !s->module_id[0]) GH_GUARD(gh_store_c2d_unlock_all(st, s->device_id));
    }
    GH_GUARD(gh_store_set_connected(st, s->device_id, s->module_id, true, model_id));
    *present = have;
    return GH_OK;
}

void session_resume(struct gh_hub_session *s, bool present)
{
    if (!present || s->closing) return;
    c2d_deliver(s);
    if (s->subs.subscribed & GH_SESSION_METHODS)
        gh_hub_methods_session_ready(s->hub, s->device_id, s->module_id);
}

/* Is the authenticated identity an IoT Edge device (its connection is a
 * gateway link)? Keeps its device scope. */
static gh_err detect_link(struct gh_hub_session *s)
{
    if (s->module_id[0]) return GH_OK; /* modules never carry children */
    struct gh_identity id;
    gh_err rc = gh_store_identity_get(gh_hub_store(s->hub), s->device_id, "", &id);
    if (rc == GH_OK && id.iot_edge) {
        s->is_link = true;
        snprintf(s->device_scope, sizeof s->device_scope, "%s", id.device_scope);
    }
    gh_identity_wipe(&id);
    return rc;
}

static void handle_connect(struct gh_hub_session *s, const struct gh_mqtt_connect *c)
{
    struct gh_hub *hub = s->hub;
    const struct gh_hub_config *cfg = gh_hub_config(hub);
    uint8_t scratch[USERNAME_SCRATCH];
    struct gh_writer w;
    struct gh_iothub_username u;
    gh_writer_init(&w, scratch, sizeof scratch);
    char who[2 * GH_IDENTITY_ID_MAX + 2];
    gh_log_escape(who, sizeof who, c->client_id.ptr, c->client_id.len, 128);
    if (gh_hub_dps_conn(s)) {
        gh_hub_dps_connect(s, c);
        return;
    }
    /* A standalone provisioning service has no hub endpoint (docs/dps.md). */
    if (cfg->dps_standalone) {
        refuse_connect(s, 5, "this process serves only the provisioning service", who);
        return;
    }
    if (gh_hub_service_client_id(c->client_id)) {
        const char *why;
        uint8_t code = gh_hub_service_connect(s, c, &why);
        if (code != 0) {
            refuse_connect(s, code, why, who);
            return;
        }
        finish_connect(s, c, who, why, false);
        return;
    }
    if (!c->has_username || gh_iothub_username_parse_hub(c->username, &w, &u) != GH_OK) {
        refuse_connect(s, 5, "malformed user name", who);
        return;
    }
    if (gh_iothub_username_check_client_id(&u, c->client_id) != GH_OK) {
        refuse_connect(s, 5, "client id does not match the user name", who);
        return;
    }
    if (gh_slice_to_cstr(u.id.device_id, s->device_id, sizeof s->device_id) != GH_OK ||
        (u.id.kind == GH_IOTHUB_ID_MODULE &&
         gh_slice_to_cstr(u.id.module_id, s->module_id, sizeof s->module_id) != GH_OK)) {
        refuse_connect(s, 5, "identity too long", who);
        return;
    }
    struct gh_slice hosts[1] = {gh_slice_cstr(cfg->hostname)};
    struct gh_hub_credentials cred = {
        .device_id = s->device_id,
        .module_id = s->module_id,
        .password = c->has_password ? c->password : GH_SLICE_EMPTY,
        .cert = gh_conn_peer_cert(s->conn),
        .chain = gh_conn_peer_chain(s->conn),
        .ca_store = gh_hub_ca_store(hub),
        .hosts = hosts,
        .nhosts = 1,
        .now_s = gh_hub_now_ms() / 1000,
        .skew_s = (uint32_t)cfg->sas_skew,
    };
    struct gh_hub_auth a;
    gh_err rc = gh_hub_authenticate(gh_hub_store(hub), &cred, &a);
    if (rc != GH_OK) {
        gh_log_error("hub.auth", "identity=%s err=%s", who, gh_err_str(rc));
        refuse_connect(s, 3, "server error during authentication", who);
        return;
    }
    if (a.connack != 0) {
        refuse_connect(s, a.connack, a.reason, who);
        return;
    }
    snprintf(s->generation_id, sizeof s->generation_id, "%s", a.generation_id);
    s->auth_type = a.auth_type;
    if (u.model_id.ptr && u.model_id.len)
        s->model_id = strndup((const char *)u.model_id.ptr, u.model_id.len);
    s->expires_ms = a.expires_s ? (a.expires_s + cfg->sas_skew) * 1000 : 0;

    bool present = false;
    rc = detect_link(s);
    if (rc == GH_OK) rc = session_begin(s, c->clean_session, s->model_id, &present);
    if (rc != GH_OK) {
        gh_log_error("hub.connect.store", "identity=%s err=%s", who, gh_err_str(rc));
        refuse_connect(s, 3, "server error", who);
        return;
    }
    keep_will(s, c);
    finish_connect(s, c, who, a.reason, present);
    session_resume(s, present);
}

/* ---- input loop --------------------------------------------------------- */

static void handle_packet(struct gh_hub_session *s, const struct gh_mqtt_packet *p)
{
    switch (p->type) {
    case GH_MQTT_CONNECT:
        handle_connect(s, &p->u.connect);
        break;
    case GH_MQTT_PUBLISH:
        if (s->dps)
            gh_hub_dps_publish(s, &p->u.publish);
        else if (s->service)
            session_close(s, "a service connection cannot publish");
        else if (s->is_link && gh_hub_link_frame(p->u.publish.topic))
            gh_hub_link_publish(s, &p->u.publish);
        else
            handle_publish(s, &p->u.publish);
        break;
    case GH_MQTT_PUBACK:
        if (s->dps)
            gh_hub_dps_puback(s, p->u.puback.packet_id);
        else if (s->service)
            gh_hub_service_puback(s);
        else if (s->is_link)
            gh_hub_link_puback(s, p->u.puback.packet_id);
        else
            handle_puback(s, p->u.puback.packet_id);
        break;
    case GH_MQTT_SUBSCRIBE:
        if (s->dps)
            gh_hub_dps_subscribe(s, &p->u.subscribe);
        else if (s->service)
            gh_hub_service_subscribe(s, &p->u.subscribe);
        else if (s->is_link && gh_hub_link_frame(p->u.subscribe.subs[0].filter))
            gh_hub_link_subscribe(s, &p->u.subscribe);
        else
            handle_subscribe(s, &p->u.subscribe);
        break;
    case GH_MQTT_UNSUBSCRIBE:
        if (s->dps)
            gh_hub_dps_unsubscribe(s, &p->u.unsubscribe);
        else if (s->is_link && gh_hub_link_frame(p->u.unsubscribe.filters[0]))
            gh_hub_link_unsubscribe(s, &p->u.unsubscribe);
        else
            handle_unsubscribe(s, &p->u.unsubscribe);
        break;
    case GH_MQTT_PINGREQ: {
        struct gh_mqtt_packet r = {.type = GH_MQTT_PINGRESP};
        (void)send_packet(s, &r);
        break;
    }
    case GH_MQTT_DISCONNECT:
        s->graceful = true;
        session_close(s, NULL);
        break;
    default:
        /* PUBREC/PUBREL/PUBCOMP: QoS 2 is not supported (1.5 item 5). */
        session_close(s, "QoS 2 flow packet");
        break;
    }
}

static void on_read(struct gh_conn *c, void *user)
{
    struct gh_hub_session *s = user;
    while (!s->closing) {
        size_t avail = gh_conn_input_len(c);
        if (avail <= s->fed) return;
        struct gh_slice in;
        if (gh_conn_peek(c, avail, &in) != GH_OK) {
            session_close(s, "out of memory");
            return;
        }
        size_t consumed;
        enum gh_mqtt_frame_status st;
        struct gh_mqtt_frame fr;
        gh_err rc =
            gh_mqtt_framer_feed(&s->framer, in.ptr + s->fed, in.len - s->fed, &consumed, &st, &fr);
        if (rc != GH_OK) {
            gh_log_info("hub.mqtt.framing", "peer=%s device=%s err=%s", gh_conn_peer_addr(c),
                        s->device_id, gh_err_str(rc));
            session_close(s, NULL);
            return;
        }
        s->fed += consumed;
        if (st != GH_MQTT_FRAME_READY) return;
        s->last_rx_ms = gh_hub_now_ms();
        struct gh_mqtt_packet p;
        rc = gh_mqtt_decode(&s->ctx, (struct gh_slice){in.ptr, fr.total_len}, &p);
        if (rc == GH_ERR_BAD_PROTOCOL_LEVEL) {
            refuse_connect(s, 1, "unsupported MQTT protocol level", "?");
            return;
        }
        if (rc != GH_OK) {
            gh_log_info("hub.mqtt.decode", "peer=%s device=%s type=%s err=%s", gh_conn_peer_addr(c),
                        s->device_id, gh_mqtt_type_name(fr.type), gh_err_str(rc));
            session_close(s, NULL);
            return;
        }
        handle_packet(s, &p);
        if (s->zombies) gh_hub_link_reap(s);
        s->fed = 0;
        if (gh_conn_consume(c, fr.total_len) != GH_OK) {
            session_close(s, "internal input state");
            return;
        }
    }
}

void session_free(struct gh_hub_session *s)
{
    free(s->model_id);
    free(s->c2d_spelling);
    free(s->will_bag);
    free(s->will_body);
    free(s->child_ok);
    gh_hub_dps_session_free(s);
    free(s);
}

static void on_close(struct gh_conn *c, gh_err reason, void *user)
{
    (void)c;
    struct gh_hub_session *s = user;
    struct gh_hub_sessions *t = s->table;
    if (s->is_link) gh_hub_link_closed(s);
    if (s->dps) {
        gh_log_info("dps.disconnect", "registration=%s reason=%s", s->device_id,
                    gh_err_str(reason));
    } else if (s->authenticated && s->service) {
        if (table_find(t, s->device_id, s->module_id) == s) table_unhash(s);
        gh_log_info("hub.disconnect", "service=%s reason=%s", s->device_id, gh_err_str(reason));
    } else if (s->authenticated) {
        if (table_find(t, s->device_id, s->module_id) == s) table_unhash(s);
        if (!s->graceful && s->will_bag) {
            gh_err rc = accept_telemetry(s, (struct gh_slice){s->will_bag, s->will_bag_len},
                                         (struct gh_slice){s->will_body, s->will_body_len},
                                         s->will_retain, true, 0, 0);
            if (rc != GH_OK)
                gh_log_warn("hub.will", "device=%s err=%s", s->device_id, gh_err_str(rc));
        }
        /* A newer connection of the same identity keeps it Connected. */
        if (!table_find(t, s->device_id, s->module_id) && !t->shutting_down) {
            gh_err rc = gh_store_set_connected(gh_hub_store(s->hub), s->device_id, s->module_id,
                                               false, NULL);
            if (rc != GH_OK)
                gh_log_warn("hub.disconnect.store", "device=%s err=%s", s->device_id,
                            gh_err_str(rc));
        }
        gh_log_info("hub.disconnect", "device=%s%s%s reason=%s", s->device_id,
                    s->module_id[0] ? "/" : "", s->module_id, gh_err_str(reason));
    }
    if (s->batch_refs) gh_hub_batch_forget(s->hub, s);
    if (s->prev)
        s->prev->next = s->next;
    else
        t->all = s->next;
    if (s->next) s->next->prev = s->prev;
    t->count--;
    session_free(s);
    if (t->shutting_down && t->count == 0) free(t);
}

static const struct gh_conn_callbacks callbacks = {
    .on_read = on_read,
    .on_close = on_close,
};

void session_close(struct gh_hub_session *s, const char *why)
{
    if (s->closing) return;
    if (s->link) {
        gh_hub_link_detach(s, why); /* never closes the link's conn */
        return;
    }
    s->closing = true;
    if (why)
        gh_log_info("hub.session.close", "device=%s%s%s peer=%s reason=\"%s\"", s->device_id,
                    s->module_id[0] ? "/" : "", s->module_id, gh_conn_peer_addr(s->conn), why);
    gh_conn_close(s->conn);
}

void gh_hub_session_kick(struct gh_hub *hub, const char *device_id, const char *module_id,
                         const char *reason)
{
    struct gh_hub_session *s = gh_hub_session_find(hub, device_id, module_id);
    if (s) session_close(s, reason);
}

void gh_hub_session_accept(struct gh_hub_sessions *t, struct gh_conn *c)
{
    struct gh_hub_session *s = calloc(1, sizeof *s);
    const struct gh_hub_config *cfg = gh_hub_config(t->hub);
    struct gh_mqtt_limits lim;
    gh_mqtt_limits_default(&lim);
    lim.max_connect_size = (size_t)cfg->max_connect_size;
    /* The message budget plus room for the topic (property bag) and headers. */
    lim.max_packet_size = (size_t)cfg->max_message_size + 64 * 1024;
    if (!s || gh_mqtt_framer_init(&s->framer, GH_MQTT_ROLE_SERVER, &lim) != GH_OK ||
        gh_mqtt_ctx_init(&s->ctx, &lim) != GH_OK) {
        free(s);
        gh_conn_abort(c);
        return;
    }
    s->hub = t->hub;
    s->table = t;
    s->conn = c;
    s->last_rx_ms = gh_hub_now_ms();
    s->keepalive_ms = cfg->handshake_timeout * 1000; /* until CONNECT */
    s->next = t->all;
    if (t->all) t->all->prev = s;
    t->all = s;
    t->count++;
    gh_conn_set_callbacks(c, &callbacks, s);
}

void gh_hub_sessions_tick(struct gh_hub_sessions *t, int64_t now)
{
    for (struct gh_hub_session *s = t->all; s; s = s->next) {
        if (s->closing) continue;
        /* Virtual sessions are not in this list: a link's keep-alive and
         * token cover its children; only their C2D locks need a look. */
        if (s->is_link) gh_hub_link_tick(s, now);
        if (s->keepalive_ms && now - s->last_rx_ms > s->keepalive_ms) {
            session_close(s, s->authenticated ? "keep-alive timeout" : "no CONNECT in time");
        } else if (s->expires_ms && now > s->expires_ms) {
            session_close(s, "SAS token expired");
        } else if (s->c2d_inflight && now - s->c2d_sent_ms > GH_C2D_LOCK_MS) {
            /* Lock expired without PUBACK: deliver again (DUP) (1.9.2). */
            s->c2d_inflight = false;
            c2d_deliver(s);
        }
    }
}
