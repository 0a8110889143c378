/* MQTT client session: the output API (publish, subscribe, unsubscribe,
 * deferred PUBACK). Packets are validated by the codec's encoder. */
#include <string.h>

#include "mqttc/mqttc_int.h"
#include "net/conn.h"

gh_err gh_mqttc_publish(struct gh_mqttc *c, const char *topic, const void *payload, size_t len,
                        uint8_t qos, uint64_t cookie)
{
    GH_ENSURE(c && !c->freed && topic && (payload || len == 0), GH_ERR_ARG);
    GH_ENSURE(qos <= 1, GH_ERR_BAD_QOS);
    GH_ENSURE(c->state == MQTTC_CONNECTED, GH_ERR_CLOSED);
    struct gh_mqtt_packet p = {.type = GH_MQTT_PUBLISH};
    p.u.publish.qos = qos;
    p.u.publish.topic = gh_slice_cstr(topic);
    p.u.publish.payload = (struct gh_slice){payload, len};
    unsigned slot = 0;
    if (qos == 1) {
        if (c->draining || c->nfree == 0) {
            c->want_window = true;
            return GH_ERR_NOBUFS;
        }
        slot = c->free_slots[c->nfree - 1];
        p.u.publish.packet_id = (uint16_t)(slot + 1);
    }
    gh_err rc = mqttc_send(c, &p);
    if (rc == GH_ERR_NOBUFS) c->want_window = true;
    GH_GUARD(rc);
    c->stats.sent++;
    if (qos == 1) {
        c->nfree--;
        c->slots[slot] = (struct mqttc_slot){.cookie = cookie, .seq = c->seq++, .used = true};
    }
    return GH_OK;
}

/* A free pending-ack entry, or -1. */
static int free_pend(const struct gh_mqttc *c)
{
    for (unsigned i = 0; i < GH_MQTTC_PENDING_SUBS_MAX; i++)
        if (!c->pend[i].used) return (int)i;
    return -1;
}

static gh_err check_filters(const struct gh_mqttc *c, const char *const *filters, size_t n)
{
    GH_ENSURE(c && !c->freed && filters && n >= 1 && n <= GH_MQTT_MAX_SUBSCRIPTIONS, GH_ERR_ARG);
    for (size_t i = 0; i < n; i++) GH_ENSURE(filters[i], GH_ERR_ARG);
    return GH_OK;
}

static gh_err send_pending(struct gh_mqttc *c, struct gh_mqtt_packet *p, int idx, size_t n,
                           bool unsub, uint64_t cookie)
{
    gh_err rc = mqttc_send(c, p);
    if (rc == GH_ERR_NOBUFS) c->want_window = true;
    GH_GUARD(rc);
    c->pend[idx] = (struct mqttc_pend){.cookie = cookie, .count = n, .used = true, .unsub = unsub};
    return GH_OK;
}

gh_err gh_mqttc_subscribe(struct gh_mqttc *c, const char *const *filters, const uint8_t *qos,
                          size_t n, uint64_t cookie)
{
    GH_GUARD(check_filters(c, filters, n));
    GH_ENSURE(qos, GH_ERR_ARG);
    for (size_t i = 0; i < n; i++) GH_ENSURE(qos[i] <= 1, GH_ERR_BAD_QOS);
    GH_ENSURE(c->state == MQTTC_CONNECTED, GH_ERR_CLOSED);
    int idx = free_pend(c);
    GH_ENSURE(idx >= 0, GH_ERR_TOO_MANY);
    struct gh_mqtt_packet p = {.type = GH_MQTT_SUBSCRIBE};
    p.u.subscribe.packet_id = (uint16_t)(c->window + 1 + (unsigned)idx);
    p.u.subscribe.count = n;
    for (size_t i = 0; i < n; i++) {
        p.u.subscribe.subs[i].filter = gh_slice_cstr(filters[i]);
        p.u.subscribe.subs[i].qos = qos[i];
    }
    return send_pending(c, &p, idx, n, false, cookie);
}

gh_err gh_mqttc_unsubscribe(struct gh_mqttc *c, const char *const *filters, size_t n,
                            uint64_t cookie)
{
    GH_GUARD(check_filters(c, filters, n));
    GH_ENSURE(c->state == MQTTC_CONNECTED, GH_ERR_CLOSED);
    int idx = free_pend(c);
    GH_ENSURE(idx >= 0, GH_ERR_TOO_MANY);
    struct gh_mqtt_packet p = {.type = GH_MQTT_UNSUBSCRIBE};
    p.u.unsubscribe.packet_id = (uint16_t)(c->window + 1 + (unsigned)idx);
    p.u.unsubscribe.count = n;
    for (size_t i = 0; i < n; i++) p.u.unsubscribe.filters[i] = gh_slice_cstr(filters[i]);
    return send_pending(c, &p, idx, n, true, cookie);
}

gh_err gh_mqttc_puback(struct gh_mqttc *c, uint16_t packet_id)
{
    GH_ENSURE(c && !c->freed, GH_ERR_ARG);
    GH_ENSURE(packet_id != 0, GH_ERR_BAD_PACKET_ID);
    GH_ENSURE(c->state == MQTTC_CONNECTED, GH_ERR_CLOSED);
    uint8_t bit = (uint8_t)(1u << (packet_id % 8));
    GH_ENSURE(c->in_unacked[packet_id / 8] & bit, GH_ERR_NOT_FOUND);
    struct gh_mqtt_packet p = {.type = GH_MQTT_PUBACK};
    p.u.puback.packet_id = packet_id;
    gh_err rc = mqttc_send(c, &p);
    if (rc == GH_ERR_NOBUFS) c->want_window = true;
    GH_GUARD(rc);
    c->in_unacked[packet_id / 8] &= (uint8_t)~bit;
    return GH_OK;
}
