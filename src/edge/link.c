/* The link: one multiplexed MQTT connection from the gateway to the hub
 * (docs/edge-link.md): children's attachments, subscriptions, twin and
 * method frames, C2D relaying; stored telemetry is sent by the message path
 * (msgpath.c) through gh_edge_pump. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "edge/edge_int.h"
#include "edge/provision.h"
#include "hub/store.h"
#include "mqttc/mqttc.h"
#include "net/conn.h"
#include "net/tls.h"

/* Cookies: control frames use 0, stored messages EDGE_COOKIE_MSG | seq. */
#define COOKIE_CONTROL 0u
/* Lifetime of the SAS token the gateway signs for itself. */
#define LINK_TOKEN_LIFETIME_S 3600
#define TOPIC_MAX 1024u

/* "$gh/c/{id}/" + rest into out. */
static gh_err prefixed(char *out, size_t cap, const char *id, struct gh_slice rest)
{
    int n = snprintf(out, cap, EDGE_PREFIX "%s/", id);
    GH_ENSURE(n > 0 && (size_t)n < cap && rest.len < cap - (size_t)n, GH_ERR_TOO_LARGE);
    if (rest.len) memcpy(out + n, rest.ptr, rest.len);
    out[(size_t)n + rest.len] = '\0';
    return GH_OK;
}

/* ---- control frames ------------------------------------------------------ */

static void control(struct gh_edge *e, const struct gh_edge_child *ch, const char *what,
                    const char *body)
{
    if (!e->link_up) return;
    char topic[TOPIC_MAX];
    if (prefixed(topic, sizeof topic, ch->device_id, gh_slice_cstr(what)) != GH_OK) return;
    gh_err rc = gh_mqttc_publish(e->link, topic, body, strlen(body), 0, COOKIE_CONTROL);
    if (rc != GH_OK)
        gh_log_warn("edge.link.control", "device=%s frame=%s err=%s", ch->device_id, what,
                    gh_err_str(rc));
}

/* One SUBSCRIBE (sub) or UNSUBSCRIBE of the child's filters for bits. */
static gh_err send_bits(struct gh_edge *e, struct gh_edge_child *ch, uint32_t bits, bool sub)
{
    char topics[EDGE_FEATURES][TOPIC_MAX];
    const char *filters[EDGE_FEATURES];
    uint8_t qos[EDGE_FEATURES];
    size_t n = 0;
    for (unsigned k = 0; k < EDGE_FEATURES; k++) {
        if (!(bits & (1u << k)) || !ch->filters[k]) continue;
        if (prefixed(topics[n], sizeof topics[n], ch->device_id, gh_slice_cstr(ch->filters[k])) !=
            GH_OK)
            continue;
        filters[n] = topics[n];
        qos[n] = (ch->qos1 & (1u << k)) ? 1 : 0;
        n++;
    }
    if (n == 0) return GH_OK;
    return sub ? gh_mqttc_subscribe(e->link, filters, qos, n, COOKIE_CONTROL)
               : gh_mqttc_unsubscribe(e->link, filters, n, COOKIE_CONTROL);
}

/* Hand the queued (un)subscriptions to the link, oldest child first, until
 * it has no room (GH_MQTTC_PENDING_SUBS_MAX requests awaiting their ack, or
 * output back-pressure): on_suback, on_unsuback and on_window call again. */
static void subq_flush(struct gh_edge *e)
{
    while (e->link_up && e->subq_head) {
        struct gh_edge_child *ch = e->subq_head;
        for (int sub = 0; sub <= 1; sub++) {
            uint32_t *bits = sub ? &ch->up_sub : &ch->up_unsub;
            if (!*bits) continue;
            gh_err rc = send_bits(e, ch, *bits, sub);
            if (rc == GH_ERR_TOO_MANY || rc == GH_ERR_NOBUFS) return;
            if (rc != GH_OK)
                gh_log_warn("edge.link.subscribe", "device=%s op=%s err=%s", ch->device_id,
                            sub ? "subscribe" : "unsubscribe", gh_err_str(rc));
            *bits = 0;
        }
        e->subq_head = ch->subq_next;
        if (!e->subq_head) e->subq_tail = NULL;
        ch->subq_next = NULL;
        ch->in_subq = false;
        gh_conn_resume_read(ch->conn);
    }
}

/* Record the child's latest intent for bits and hand it to the link in
 * order. While the link is down nothing is recorded: on_connected attaches
 * every child again with all its subscriptions. A child waiting in the
 * queue is not read from: the hub handles the link's packets in order, so
 * a twin request must not overtake the subscription to its response. */
static void request_bits(struct gh_edge *e, struct gh_edge_child *ch, uint32_t bits, bool sub)
{
    if (!e->link_up || !bits) return;
    if (sub) {
        ch->up_unsub &= ~bits;
        ch->up_sub |= bits;
    } else {
        ch->up_sub &= ~bits;
        ch->up_unsub |= bits;
    }
    if (!ch->in_subq) {
        ch->in_subq = true;
        gh_conn_pause_read(ch->conn);
        ch->subq_next = NULL;
        if (e->subq_tail)
            e->subq_tail->subq_next = ch;
        else
            e->subq_head = ch;
        e->subq_tail = ch;
    }
    subq_flush(e);
}

/* Empty the queue (the link went down: on_connected replays everything). */
static void subq_clear(struct gh_edge *e)
{
    while (e->subq_head) {
        struct gh_edge_child *ch = e->subq_head;
        e->subq_head = ch->subq_next;
        ch->subq_next = NULL;
        ch->in_subq = false;
        ch->up_sub = ch->up_unsub = 0;
        gh_conn_resume_read(ch->conn);
    }
    e->subq_tail = NULL;
}

void gh_edge_link_forget(struct gh_edge *e, struct gh_edge_child *ch)
{
    if (!ch->in_subq) return;
    struct gh_edge_child *prev = NULL;
    for (struct gh_edge_child *it = e->subq_head; it; prev = it, it = it->subq_next) {
        if (it != ch) continue;
        if (prev)
            prev->subq_next = ch->subq_next;
        else
            e->subq_head = ch->subq_next;
        if (e->subq_tail == ch) e->subq_tail = prev;
        break;
    }
    ch->subq_next = NULL;
    ch->in_subq = false;
    ch->up_sub = ch->up_unsub = 0;
}

void gh_edge_link_attach(struct gh_edge *e, struct gh_edge_child *ch)
{
    char body[GH_IDENTITY_MODEL_ID_MAX + 128];
    json_t *j = json_pack("{s:b, s:s}", "clean", ch->clean_session, "auth",
                          ch->auth_type ? ch->auth_type : "sas");
    if (j && ch->model_id[0]) json_object_set_new(j, "modelId", json_string(ch->model_id));
    if (!j || json_dumpb(j, body, sizeof body - 1, JSON_COMPACT) >= sizeof body - 1)
        snprintf(body, sizeof body, "{}");
    else
        body[json_dumpb(j, NULL, 0, JSON_COMPACT)] = '\0';
    json_decref(j);
    control(e, ch, "$attach", body);
    request_bits(e, ch, ch->subscribed, true);
}

void gh_edge_link_detach(struct gh_edge *e, struct gh_edge_child *ch)
{
    control(e, ch, "$detach", "");
}

void gh_edge_link_subscribe(struct gh_edge *e, struct gh_edge_child *ch, uint32_t bit)
{
    request_bits(e, ch, bit, true);
}

void gh_edge_link_unsubscribe(struct gh_edge *e, struct gh_edge_child *ch, uint32_t bit)
{
    request_bits(e, ch, bit, false);
}

gh_err gh_edge_link_frame(struct gh_edge *e, struct gh_edge_child *ch, struct gh_slice topic,
                          struct gh_slice body)
{
    GH_ENSURE(e->link_up, GH_ERR_CLOSED);
    char t[TOPIC_MAX];
    GH_GUARD(prefixed(t, sizeof t, ch->device_id, topic));
    return gh_mqttc_publish(e->link, t, body.ptr, body.len, 0, COOKIE_CONTROL);
}

void gh_edge_link_puback(struct gh_edge *e, uint16_t up_pid)
{
    if (!e->link_up) return;
    gh_err rc = gh_mqttc_puback(e->link, up_pid);
    if (rc != GH_OK && rc != GH_ERR_NOT_FOUND)
        gh_log_warn("edge.link.puback", "pid=%u err=%s", up_pid, gh_err_str(rc));
}

/* ---- link callbacks ------------------------------------------------------ */

static void on_connected(void *user, bool present)
{
    (void)present;
    struct gh_edge *e = user;
    e->link_up = true;
    e->link_since_ms = gh_edge_now_ms();
    e->link_error[0] = '\0';
    e->stats.link_connects++;
    gh_log_info("edge.link.up", "hub=%s device=%s", e->id.hub, e->id.device_id);
    for (struct gh_edge_child *ch = e->children; ch; ch = ch->next)
        if (ch->authenticated && !ch->closing) gh_edge_link_attach(e, ch);
    gh_edge_sync_now(e);
    gh_edge_pump(e); /* drain at once: no timer between the link and the backlog */
}

static void on_disconnected(void *user, gh_err why, int connack, const char *detail)
{
    struct gh_edge *e = user;
    bool was_up = e->link_up;
    e->link_up = false;
    subq_clear(e);
    e->link_since_ms = gh_edge_now_ms();
    if (connack >= 0)
        snprintf(e->link_error, sizeof e->link_error, "hub refused the gateway (CONNACK %d): %s",
                 connack, detail ? detail : "");
    else
        snprintf(e->link_error, sizeof e->link_error, "%s: %s", gh_err_str(why),
                 detail ? detail : "");
    if (was_up || e->stats.link_connects == 0)
        gh_log_warn("edge.link.down", "hub=%s err=%s connack=%d detail=\"%s\"", e->id.hub,
                    gh_err_str(why), connack, detail ? detail : "");
    /* C2D messages relayed to children can no longer be acknowledged on
     * this connection: the hub redelivers them. */
    for (struct gh_edge_child *ch = e->children; ch; ch = ch->next)
        for (unsigned i = 0; i < EDGE_C2D_INFLIGHT; i++) ch->c2d[i].used = false;
}

static void on_publish(void *user, const struct gh_mqtt_publish *p)
{
    struct gh_edge *e = user;
    struct gh_slice t = p->topic;
    size_t plen = strlen(EDGE_PREFIX);
    if (!gh_slice_starts_with(t, EDGE_PREFIX)) {
        /* The gateway's own traffic (twin, methods): nothing is served yet. */
        if (p->qos == 1) gh_edge_link_puback(e, p->packet_id);
        return;
    }
    const uint8_t *id = t.ptr + plen;
    const uint8_t *slash = memchr(id, '/', t.len - plen);
    char device[GH_IDENTITY_ID_MAX + 1];
    if (!slash || gh_slice_to_cstr((struct gh_slice){id, (size_t)(slash - id)}, device,
                                   sizeof device) != GH_OK) {
        gh_log_warn("edge.link.frame", "reason=\"malformed child frame from the hub\"");
        return;
    }
    struct gh_slice rest = {slash + 1, (size_t)(t.ptr + t.len - slash - 1)};
    struct gh_edge_child *ch = gh_edge_child_find(e, device);
    if (gh_slice_eq_cstr(rest, "$detach")) {
        char ex[256];
        gh_log_info("edge.link.detached", "device=%s hub_says=%s", device,
                    gh_log_escape(ex, sizeof ex, p->payload.ptr, p->payload.len, 200));
        if (ch) gh_edge_child_close(ch, "the hub ended the child's attachment");
        gh_edge_sync_now(e); /* disabled, deleted or moved: refresh the cache */
        return;
    }
    if (!ch) return; /* gone: a QoS 1 message is redelivered by the hub later */
    gh_edge_child_from_hub(ch, p, rest);
}

static void on_acked(void *user, uint64_t cookie)
{
    if (cookie & EDGE_COOKIE_MSG) gh_edge_msg_acked(user, cookie);
}

static void on_unacked(void *user, uint64_t cookie)
{
    /* Back into the store's order: sent again after the reconnect. */
    if (cookie & EDGE_COOKIE_MSG) gh_edge_msg_unacked(user, cookie);
}

static void on_window(void *user)
{
    subq_flush(user);
    gh_edge_pump(user);
}

static void on_suback(void *user, uint64_t cookie, const uint8_t *codes, size_t n)
{
    (void)cookie;
    struct gh_edge *e = user;
    if (!codes) return; /* the link dropped: on_connected subscribes again */
    for (size_t i = 0; i < n; i++)
        if (codes[i] == GH_MQTT_SUBACK_FAILURE) {
            e->stats.link_sub_refused++;
            gh_log_warn("edge.link.suback", "reason=\"the hub refused a child subscription\"");
        }
    subq_flush(e);
}

static void on_unsuback(void *user, uint64_t cookie, bool acked)
{
    (void)cookie;
    if (acked) subq_flush(user);
}

static gh_err password(void *user, char *out, size_t cap, size_t *len, int64_t *expires)
{
    struct gh_edge *e = user;
    if (e->id.auth != GH_EDGE_AUTH_SAS) {
        *len = 0;
        *expires = 0;
        return GH_OK;
    }
    int64_t now = gh_edge_now_ms() / 1000;
    GH_GUARD(gh_edge_identity_sas(&e->id, now, LINK_TOKEN_LIFETIME_S, out, cap));
    *len = strlen(out);
    *expires = now + LINK_TOKEN_LIFETIME_S;
    return GH_OK;
}

static const struct gh_mqttc_callbacks link_cbs = {
    .on_connected = on_connected,
    .on_disconnected = on_disconnected,
    .on_publish = on_publish,
    .on_acked = on_acked,
    .on_unacked = on_unacked,
    .on_window = on_window,
    .on_suback = on_suback,
    .on_unsuback = on_unsuback,
};

gh_err gh_edge_link_start(struct gh_edge *e, char *err, size_t errlen)
{
    const struct gh_edge_config *cfg = e->cfg;
    struct gh_tls_client_config tc = {.ca_file = cfg->trust_bundle_cert};
    if (e->id.auth == GH_EDGE_AUTH_X509) {
        tc.id.cert_file = cfg->identity_cert;
        tc.id.key_file = cfg->identity_pk;
    }
    char detail[GH_TLS_DETAIL_MAX] = "";
    gh_err rc = gh_tls_client_new(&tc, &e->up_tls, detail, sizeof detail);
    if (rc != GH_OK) {
        snprintf(err, errlen, "TLS client for the hub link: %s", detail);
        return rc;
    }
    char username[GH_EDGE_HOST_MAX + GH_EDGE_ID_MAX + 32];
    int n = snprintf(username, sizeof username, "%s/%s/?api-version=2021-04-12", e->id.hub,
                     e->id.device_id);
    if (n < 0 || (size_t)n >= GH_MQTTC_ID_MAX) {
        snprintf(err, errlen, "hub link: user name longer than %u bytes", GH_MQTTC_ID_MAX);
        return GH_ERR_TOO_LARGE;
    }
    struct gh_mqttc_options o = {
        .base = e->base,
        .host = gh_edge_config_resolve(cfg, e->id.hub),
        .port = (uint16_t)cfg->upstream_mqtt_port,
        .server_name = e->id.hub,
        .tls = e->up_tls,
        .client_id = e->id.device_id,
        .username = username,
        .password = password,
        .keepalive_s = (uint16_t)cfg->upstream_keepalive,
        .clean_session = true,
        .window = (unsigned)cfg->upstream_window,
        .backoff_min_ms = (unsigned)cfg->backoff_min_ms,
        .backoff_max_ms = (unsigned)cfg->backoff_max_ms,
        .max_packet = (size_t)cfg->max_message_size + 64 * 1024,
    };
    rc = gh_mqttc_new(&o, &link_cbs, e, &e->link);
    if (rc == GH_OK) rc = gh_mqttc_start(e->link);
    if (rc != GH_OK) snprintf(err, errlen, "hub link: %s", gh_err_str(rc));
    return rc;
}

void gh_edge_link_stop(struct gh_edge *e)
{
    gh_mqttc_free(e->link);
    e->link = NULL;
    e->link_up = false;
    gh_tls_client_free(e->up_tls);
    e->up_tls = NULL;
}
