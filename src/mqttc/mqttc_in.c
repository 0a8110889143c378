/* MQTT client session: input. Frames the byte stream with the client-role
 * framer (phase and size limits from the fixed header), decodes each packet
 * and dispatches it. Any framing or decode error closes the connection with
 * a detail naming the packet and the error. */
#include <stdio.h>

#include "common/log.h"
#include "mqttc/mqttc_int.h"
#include "net/conn.h"

static void handle_connack(struct gh_mqttc *c, const struct gh_mqtt_connack *a)
{
    if (a->return_code != GH_MQTT_CONNACK_ACCEPTED) {
        static const char *const names[] = {
            "accepted",           "unacceptable protocol level", "identifier rejected",
            "server unavailable", "bad user name or password",   "not authorized",
        };
        unsigned code = a->return_code;
        mqttc_fail(c, GH_ERR_AUTH, (int)code, "CONNACK refused: code %u (%s)", code,
                   code < sizeof names / sizeof names[0] ? names[code] : "unknown");
        return;
    }
    gh_err rc = gh_mqtt_framer_accept(&c->framer);
    if (rc != GH_OK) {
        mqttc_fail(c, GH_ERR_INTERNAL, -1, "framer accept: %s", gh_err_str(rc));
        return;
    }
    mqttc_on_connack_ok(c, a->session_present);
}

static void handle_publish(struct gh_mqttc *c, const struct gh_mqtt_publish *p)
{
    if (p->qos > 1) {
        mqttc_fail(c, GH_ERR_BAD_QOS, -1, "PUBLISH with QoS %u not supported", (unsigned)p->qos);
        return;
    }
    c->stats.received++;
    if (p->qos == 1) c->in_unacked[p->packet_id / 8] |= (uint8_t)(1u << (p->packet_id % 8));
    if (c->cbs.on_publish) c->cbs.on_publish(c->user, p);
}

static void handle_puback(struct gh_mqttc *c, uint16_t pid)
{
    unsigned i = (unsigned)pid - 1;
    if (pid == 0 || i >= c->window || !c->slots[i].used) {
        mqttc_fail(c, GH_ERR_BAD_PACKET_ID, -1, "PUBACK for unknown packet id %u", (unsigned)pid);
        return;
    }
    uint64_t cookie = c->slots[i].cookie;
    c->slots[i].used = false;
    c->free_slots[c->nfree++] = i;
    c->stats.acked++;
    if (c->cbs.on_acked) c->cbs.on_acked(c->user, cookie);
    if (c->freed || c->state != MQTTC_CONNECTED) return;
    mqttc_slot_freed(c);
}

/* The pending SUBSCRIBE/UNSUBSCRIBE for pid, or NULL. */
static struct mqttc_pend *find_pend(struct gh_mqttc *c, uint16_t pid, bool unsub)
{
    if (pid <= c->window) return NULL;
    unsigned i = (unsigned)pid - c->window - 1;
    if (i >= GH_MQTTC_PENDING_SUBS_MAX || !c->pend[i].used || c->pend[i].unsub != unsub)
        return NULL;
    return &c->pend[i];
}

static void handle_suback(struct gh_mqttc *c, const struct gh_mqtt_suback *a)
{
    struct mqttc_pend *p = find_pend(c, a->packet_id, false);
    if (!p) {
        mqttc_fail(c, GH_ERR_BAD_PACKET_ID, -1, "SUBACK for unknown packet id %u",
                   (unsigned)a->packet_id);
        return;
    }
    if (p->count != a->count) {
        mqttc_fail(c, GH_ERR_MALFORMED, -1, "SUBACK with %zu codes for %zu filters", a->count,
                   p->count);
        return;
    }
    p->used = false;
    if (c->cbs.on_suback) c->cbs.on_suback(c->user, p->cookie, a->return_codes, a->count);
}

static void handle_unsuback(struct gh_mqttc *c, uint16_t pid)
{
    struct mqttc_pend *p = find_pend(c, pid, true);
    if (!p) {
        mqttc_fail(c, GH_ERR_BAD_PACKET_ID, -1, "UNSUBACK for unknown packet id %u", (unsigned)pid);
        return;
    }
    p->used = false;
    if (c->cbs.on_unsuback) c->cbs.on_unsuback(c->user, p->cookie, true);
}

static void dispatch(struct gh_mqttc *c, const struct gh_mqtt_packet *p)
{
    switch (p->type) {
    case GH_MQTT_CONNACK:
        handle_connack(c, &p->u.connack);
        break;
    case GH_MQTT_PUBLISH:
        handle_publish(c, &p->u.publish);
        break;
    case GH_MQTT_PUBACK:
        handle_puback(c, p->u.puback.packet_id);
        break;
    case GH_MQTT_SUBACK:
        handle_suback(c, &p->u.suback);
        break;
    case GH_MQTT_UNSUBACK:
        handle_unsuback(c, p->u.unsuback.packet_id);
        break;
    case GH_MQTT_PINGRESP:
        c->ping_outstanding = false;
        c->stats.pongs++;
        break;
    case GH_MQTT_PUBREC:
    case GH_MQTT_PUBREL:
    case GH_MQTT_PUBCOMP:
        mqttc_fail(c, GH_ERR_BAD_QOS, -1, "%s: QoS 2 not supported", gh_mqtt_type_name(p->type));
        break;
    default:
        mqttc_fail(c, GH_ERR_BAD_PHASE, -1, "unexpected %s from server",
                   gh_mqtt_type_name(p->type));
        break;
    }
}

static bool reading(const struct gh_mqttc *c, const struct gh_conn *conn)
{
    return !c->freed && c->conn == conn &&
           (c->state == MQTTC_CONNACK_WAIT || c->state == MQTTC_CONNECTED);
}

/* Handle at most one packet. Returns false when nothing more can be done
 * now (need more input, or the connection is closing). */
static bool step(struct gh_mqttc *c, struct gh_conn *conn)
{
    size_t avail = gh_conn_input_len(conn);
    if (avail <= c->fed) return false;
    size_t exp = gh_mqtt_framer_expected_len(&c->framer);
    size_t want = exp ? exp : c->fed + GH_MQTT_MAX_HEADER_LEN;
    if (want > avail) want = avail;
    struct gh_slice s;
    gh_err rc = gh_conn_peek(conn, want, &s);
    if (rc != GH_OK) {
        mqttc_fail(c, rc, -1, "reading input: %s", gh_err_str(rc));
        return false;
    }
    size_t consumed = 0;
    enum gh_mqtt_frame_status st;
    struct gh_mqtt_frame fr;
    rc = gh_mqtt_framer_feed(&c->framer, s.ptr + c->fed, s.len - c->fed, &consumed, &st, &fr);
    if (rc != GH_OK) {
        char ex[16];
        mqttc_fail(c, rc, -1, "framing packet starting with %s: %s",
                   gh_log_escape(ex, sizeof ex, s.ptr, 1, 1), gh_err_str(rc));
        return false;
    }
    if (st == GH_MQTT_FRAME_BLOCKED) {
        mqttc_fail(c, GH_ERR_INTERNAL, -1, "framer blocked after CONNACK");
        return false;
    }
    if (st == GH_MQTT_FRAME_NEED_MORE) {
        c->fed += consumed;
        return true; /* the next step peeks more or stops */
    }
    /* READY: the whole frame is s.ptr[0 .. total_len) */
    c->fed = 0;
    struct gh_slice frame = {s.ptr, fr.total_len};
    struct gh_mqtt_packet p;
    rc = gh_mqtt_decode(&c->ctx, frame, &p);
    if (rc != GH_OK) {
        mqttc_fail(c, rc, -1, "decoding %s (%zu bytes): %s", gh_mqtt_type_name(fr.type),
                   fr.total_len, gh_err_str(rc));
        return false;
    }
    c->stats.bytes_in += fr.total_len;
    dispatch(c, &p);
    if (!reading(c, conn)) return false;
    rc = gh_conn_consume(conn, fr.total_len);
    if (rc != GH_OK) {
        mqttc_fail(c, GH_ERR_INTERNAL, -1, "consume: %s", gh_err_str(rc));
        return false;
    }
    return true;
}

void mqttc_on_read(struct gh_conn *conn, void *user)
{
    struct gh_mqttc *c = user;
    mqttc_enter(c);
    if (reading(c, conn)) c->last_rx_ms = mqttc_now_ms();
    while (reading(c, conn) && step(c, conn)) {
    }
    mqttc_leave(c);
}
