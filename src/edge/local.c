/* The gateway's local MQTT endpoint for on-site consumers: plain MQTT 3.1.1
 * on [local] address:mqtt_port (loopback by default, no authentication),
 * read-only. Consumers SUBSCRIBE to topic filters; every message a
 * LocalTopic("t") route selects is published to them at QoS 0 on topic t
 * with the message body as payload, also while the hub is unreachable
 * (alerts handled on site). A consumer that does not keep up loses
 * messages (QoS 0) rather than slowing the gateway; PUBLISH from a consumer
 * closes its connection. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "edge/edge_int.h"
#include "mqtt/framer.h"
#include "mqtt/mqtt.h"
#include "mqtt/topic.h"
#include "net/conn.h"
#include "net/listener.h"

#define LOCAL_FILTERS_MAX 16
#define LOCAL_FILTER_MAX 256
#define LOCAL_CONNS_MAX 64
#define LOCAL_CONNECT_TIMEOUT_MS 10000
#define LOCAL_PACKET_MAX (1024u * 1024u)

struct consumer {
    struct gh_edge_local *owner;
    struct gh_conn *conn;
    struct gh_mqtt_framer framer;
    struct gh_mqtt_ctx ctx;
    size_t fed;
    bool connected, closing;
    size_t nfilters;
    char filters[LOCAL_FILTERS_MAX][LOCAL_FILTER_MAX + 1];
    struct consumer *prev, *next;
};

struct gh_edge_local {
    struct gh_edge *edge;
    struct gh_listener *listener;
    struct consumer *all;
    size_t count;
    uint64_t dropped;
    bool stopped; /* freed by the last consumer's on_close */
};

static gh_err send_packet(struct consumer *c, const struct gh_mqtt_packet *p)
{
    size_t need;
    GH_GUARD(gh_mqtt_packet_size(&c->ctx, p, &need));
    uint8_t small[256];
    uint8_t *buf = need <= sizeof small ? small : malloc(need);
    GH_ENSURE(buf, GH_ERR_NOMEM);
    struct gh_writer w;
    gh_writer_init(&w, buf, need);
    gh_err rc = gh_mqtt_encode(&c->ctx, p, &w);
    if (rc == GH_OK) rc = gh_conn_write(c->conn, buf, w.len);
    if (buf != small) free(buf);
    return rc;
}

static void consumer_close(struct consumer *c, const char *why)
{
    if (c->closing) return;
    c->closing = true;
    if (why)
        gh_log_info("edge.local.close", "peer=%s reason=\"%s\"", gh_conn_peer_addr(c->conn), why);
    gh_conn_close(c->conn);
}

static void handle_subscribe(struct consumer *c, const struct gh_mqtt_subscribe *sub)
{
    struct gh_mqtt_packet ack = {.type = GH_MQTT_SUBACK};
    ack.u.suback.packet_id = sub->packet_id;
    ack.u.suback.count = sub->count;
    for (size_t i = 0; i < sub->count; i++) {
        struct gh_slice f = sub->subs[i].filter;
        bool known = false;
        for (size_t k = 0; k < c->nfilters && !known; k++)
            known = gh_slice_eq_cstr(f, c->filters[k]);
        if (known) {
            ack.u.suback.return_codes[i] = 0;
        } else if (c->nfilters < LOCAL_FILTERS_MAX && f.len <= LOCAL_FILTER_MAX &&
                   gh_mqtt_topic_filter_check(f, LOCAL_FILTER_MAX) == GH_OK) {
            memcpy(c->filters[c->nfilters], f.ptr, f.len);
            c->filters[c->nfilters++][f.len] = '\0';
            ack.u.suback.return_codes[i] = 0; /* QoS 0 granted */
        } else {
            ack.u.suback.return_codes[i] = GH_MQTT_SUBACK_FAILURE;
        }
    }
    (void)send_packet(c, &ack);
}

static void handle_unsubscribe(struct consumer *c, const struct gh_mqtt_unsubscribe *u)
{
    for (size_t i = 0; i < u->count; i++) {
        for (size_t k = 0; k < c->nfilters; k++) {
            if (!gh_slice_eq_cstr(u->filters[i], c->filters[k])) continue;
            memmove(c->filters[k], c->filters[c->nfilters - 1], sizeof c->filters[k]);
            c->nfilters--;
            break;
        }
    }
    struct gh_mqtt_packet ack = {.type = GH_MQTT_UNSUBACK};
    ack.u.unsuback.packet_id = u->packet_id;
    (void)send_packet(c, &ack);
}

static void handle_packet(struct consumer *c, const struct gh_mqtt_packet *p)
{
    switch (p->type) {
    case GH_MQTT_CONNECT: {
        struct gh_mqtt_packet ack = {.type = GH_MQTT_CONNACK};
        c->connected = true;
        (void)send_packet(c, &ack);
        if (gh_mqtt_framer_accept(&c->framer) != GH_OK) consumer_close(c, "framer state");
        break;
    }
    case GH_MQTT_SUBSCRIBE:
        handle_subscribe(c, &p->u.subscribe);
        break;
    case GH_MQTT_UNSUBSCRIBE:
        handle_unsubscribe(c, &p->u.unsubscribe);
        break;
    case GH_MQTT_PINGREQ: {
        struct gh_mqtt_packet r = {.type = GH_MQTT_PINGRESP};
        (void)send_packet(c, &r);
        break;
    }
    case GH_MQTT_DISCONNECT:
        consumer_close(c, NULL);
        break;
    default:
        consumer_close(c, "the local endpoint is read-only (subscribe only)");
        break;
    }
}

static void on_read(struct gh_conn *conn, void *user)
{
    struct consumer *c = user;
    while (!c->closing) {
        size_t avail = gh_conn_input_len(conn);
        if (avail <= c->fed) return;
        struct gh_slice in;
        if (gh_conn_peek(conn, avail, &in) != GH_OK) {
            consumer_close(c, "out of memory");
            return;
        }
        size_t used;
        enum gh_mqtt_frame_status st;
        struct gh_mqtt_frame fr;
        if (gh_mqtt_framer_feed(&c->framer, in.ptr + c->fed, in.len - c->fed, &used, &st, &fr) !=
            GH_OK) {
            consumer_close(c, "malformed MQTT");
            return;
        }
        c->fed += used;
        if (st != GH_MQTT_FRAME_READY) return;
        struct gh_mqtt_packet p;
        if (gh_mqtt_decode(&c->ctx, (struct gh_slice){in.ptr, fr.total_len}, &p) != GH_OK) {
            consumer_close(c, "malformed MQTT packet");
            return;
        }
        handle_packet(c, &p);
        c->fed = 0;
        if (gh_conn_consume(conn, fr.total_len) != GH_OK) {
            consumer_close(c, "internal input state");
            return;
        }
    }
}

static void on_close(struct gh_conn *conn, gh_err reason, void *user)
{
    (void)conn, (void)reason;
    struct consumer *c = user;
    struct gh_edge_local *l = c->owner;
    if (c->prev)
        c->prev->next = c->next;
    else
        l->all = c->next;
    if (c->next) c->next->prev = c->prev;
    l->count--;
    free(c);
    if (l->stopped && l->count == 0) free(l);
}

static const struct gh_conn_callbacks callbacks = {.on_read = on_read, .on_close = on_close};

static void on_accept(struct gh_listener *ls, struct gh_conn *conn, void *user)
{
    (void)ls;
    struct gh_edge_local *l = user;
    struct consumer *c = calloc(1, sizeof *c);
    struct gh_mqtt_limits lim;
    gh_mqtt_limits_default(&lim);
    lim.max_packet_size = LOCAL_PACKET_MAX;
    if (!c || l->edge->stopping ||
        gh_mqtt_framer_init(&c->framer, GH_MQTT_ROLE_SERVER, &lim) != GH_OK ||
        gh_mqtt_ctx_init(&c->ctx, &lim) != GH_OK) {
        free(c);
        gh_conn_abort(conn);
        return;
    }
    c->owner = l;
    c->conn = conn;
    c->next = l->all;
    if (l->all) l->all->prev = c;
    l->all = c;
    l->count++;
    gh_conn_set_callbacks(conn, &callbacks, c);
}

void gh_edge_local_publish(struct gh_edge *e, struct gh_slice topic, struct gh_slice body)
{
    struct gh_edge_local *l = e->local;
    if (!l) return;
    struct gh_mqtt_packet p = {.type = GH_MQTT_PUBLISH};
    p.u.publish.topic = topic;
    p.u.publish.payload = body;
    for (struct consumer *c = l->all; c; c = c->next) {
        if (!c->connected || c->closing) continue;
        for (size_t k = 0; k < c->nfilters; k++) {
            if (!gh_mqtt_topic_match(gh_slice_cstr(c->filters[k]), topic)) continue;
            if (send_packet(c, &p) == GH_OK)
                e->stats.local_published++;
            else
                l->dropped++;
            break;
        }
    }
}

size_t gh_edge_local_count(const struct gh_edge *e)
{
    return e->local ? e->local->count : 0;
}

gh_err gh_edge_local_start(struct gh_edge *e, char *err, size_t errlen)
{
    if (e->cfg->local_port == 0) return GH_OK;
    struct gh_edge_local *l = calloc(1, sizeof *l);
    GH_ENSURE(l, GH_ERR_NOMEM);
    l->edge = e;
    char addr[GH_EDGE_ADDR_MAX + 16];
    snprintf(addr, sizeof addr, "%s:%lld", e->cfg->local_address, (long long)e->cfg->local_port);
    struct gh_listener_options o = {
        .plaintext = true,
        .max_conns = LOCAL_CONNS_MAX,
        .handshake_timeout_ms = LOCAL_CONNECT_TIMEOUT_MS,
    };
    char detail[256] = "";
    gh_err rc =
        gh_listener_new(e->base, addr, NULL, &o, on_accept, l, &l->listener, detail, sizeof detail);
    if (rc != GH_OK) {
        snprintf(err, errlen, "local MQTT endpoint %s: %s", addr, detail);
        free(l);
        return rc;
    }
    e->local = l;
    gh_log_info("edge.local.listen", "address=%s", addr);
    return GH_OK;
}

void gh_edge_local_stop(struct gh_edge *e)
{
    struct gh_edge_local *l = e->local;
    if (!l) return;
    gh_listener_free(l->listener);
    for (struct consumer *c = l->all; c; c = c->next) {
        c->closing = true;
        gh_conn_abort(c->conn);
    }
    /* The consumers' on_close runs from the loop and frees them; the last
     * one frees the table. */
    l->stopped = true;
    if (l->count == 0) free(l);
    e->local = NULL;
}
