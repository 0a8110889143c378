/* PUBLISH and the packet-id-only acknowledgements (PUBACK, PUBREC, PUBREL,
 * PUBCOMP, and UNSUBACK, which has the same shape): decoder and encoder
 * (MQTT 3.1.1 sections 3.3-3.7, 3.11). */
#include "mqtt/mqtt.h"
#include "mqtt/mqtt_int.h"
#include "mqtt/topic.h"

#define FLAG_DUP 0x08u
#define FLAG_QOS_SHIFT 1u
#define FLAG_QOS_MASK 0x03u
#define FLAG_RETAIN 0x01u
#define QOS_MAX 2u
#define PACKET_ID_LEN 2u

gh_err gh_mqtt_publish_decode(const struct gh_mqtt_ctx *ctx, uint8_t flags, struct gh_reader *body,
                              struct gh_mqtt_packet *out)
{
    /* gh_mqtt_header_check has refused QoS 3 and DUP with QoS 0. */
    struct gh_mqtt_publish p = {
        .dup = (flags & FLAG_DUP) != 0,
        .qos = (uint8_t)((flags >> FLAG_QOS_SHIFT) & FLAG_QOS_MASK),
        .retain = (flags & FLAG_RETAIN) != 0,
    };
    GH_GUARD(gh_reader_mqtt_string(body, &p.topic));
    GH_GUARD(gh_mqtt_topic_name_check(p.topic, ctx->limits.max_topic_len)); /* MQTT-3.3.2-2 */
    if (p.qos > 0) {
        GH_GUARD(gh_reader_u16be(body, &p.packet_id));
        GH_ENSURE(p.packet_id != 0, GH_ERR_BAD_PACKET_ID); /* MQTT-2.3.1-1 */
    }
    /* MQTT 5: PUBLISH properties would be read here. */
    p.payload = gh_reader_rest(body);
    out->u.publish = p;
    return GH_OK;
}

gh_err gh_mqtt_publish_measure(const struct gh_mqtt_ctx *ctx, const struct gh_mqtt_packet *p,
                               size_t *body_len)
{
    const struct gh_mqtt_publish *m = &p->u.publish;
    GH_ENSURE(m->qos <= QOS_MAX, GH_ERR_BAD_QOS);
    GH_ENSURE(m->qos > 0 || !m->dup, GH_ERR_BAD_FLAGS);
    GH_ENSURE(m->qos == 0 || m->packet_id != 0, GH_ERR_BAD_PACKET_ID);
    GH_GUARD(gh_mqtt_topic_name_check(m->topic, GH_MQTT_MAX_STRING_LEN));
    size_t n = 0;
    GH_GUARD(gh_mqtt_size_string(&n, m->topic));
    if (m->qos > 0) GH_GUARD(gh_mqtt_size_add(&n, PACKET_ID_LEN));
    GH_GUARD(gh_mqtt_size_add(&n, m->payload.len));
    *body_len = n;
    return GH_OK;
}

gh_err gh_mqtt_publish_write(const struct gh_mqtt_ctx *ctx, const struct gh_mqtt_packet *p,
                             struct gh_writer *w)
{
    const struct gh_mqtt_publish *m = &p->u.publish;
    GH_GUARD(gh_writer_mqtt_binary(w, m->topic));
    if (m->qos > 0) GH_GUARD(gh_writer_u16be(w, m->packet_id));
    /* MQTT 5: PUBLISH properties would be written here. */
    GH_GUARD(gh_writer_bytes(w, m->payload.ptr, m->payload.len));
    return GH_OK;
}

/* The ack member of the union that matches p->type. */
static const struct gh_mqtt_ack *ack_of(const struct gh_mqtt_packet *p)
{
    switch (p->type) {
    case GH_MQTT_PUBREC:
        return &p->u.pubrec;
    case GH_MQTT_PUBREL:
        return &p->u.pubrel;
    case GH_MQTT_PUBCOMP:
        return &p->u.pubcomp;
    case GH_MQTT_UNSUBACK:
        return &p->u.unsuback;
    default:
        return &p->u.puback;
    }
}

gh_err gh_mqtt_ack_decode(const struct gh_mqtt_ctx *ctx, uint8_t flags, struct gh_reader *body,
                          struct gh_mqtt_packet *out)
{
    uint16_t id;
    GH_GUARD(gh_reader_u16be(body, &id));
    GH_ENSURE(id != 0, GH_ERR_BAD_PACKET_ID);
    /* MQTT 5: reason code and properties would be read here. */
    struct gh_mqtt_ack ack = {id};
    switch (out->type) {
    case GH_MQTT_PUBREC:
        out->u.pubrec = ack;
        break;
    case GH_MQTT_PUBREL:
        out->u.pubrel = ack;
        break;
    case GH_MQTT_PUBCOMP:
        out->u.pubcomp = ack;
        break;
    case GH_MQTT_UNSUBACK:
        out->u.unsuback = ack;
        break;
    default:
        out->u.puback = ack;
        break;
    }
    return GH_OK;
}

gh_err gh_mqtt_ack_measure(const struct gh_mqtt_ctx *ctx, const struct gh_mqtt_packet *p,
                           size_t *body_len)
{
    GH_ENSURE(ack_of(p)->packet_id != 0, GH_ERR_BAD_PACKET_ID);
    *body_len = PACKET_ID_LEN;
    return GH_OK;
}

gh_err gh_mqtt_ack_write(const struct gh_mqtt_ctx *ctx, const struct gh_mqtt_packet *p,
                         struct gh_writer *w)
{
    return gh_writer_u16be(w, ack_of(p)->packet_id);
}
