/* SUBSCRIBE, SUBACK and UNSUBSCRIBE: decoder and encoder (MQTT 3.1.1
 * sections 3.8-3.10). UNSUBACK has the plain ack shape (publish.c). */
#include "mqtt/mqtt.h"
#include "mqtt/mqtt_int.h"
#include "mqtt/topic.h"

#define QOS_MAX 2u
#define QOS_RESERVED_BITS 0xfcu /* requested QoS byte, MQTT-3.8.3-4 */
#define PACKET_ID_LEN 2u
#define QOS_BYTE_LEN 1u

static bool suback_code_valid(uint8_t c)
{
    return c <= QOS_MAX || c == GH_MQTT_SUBACK_FAILURE;
}

/* Entries the decoder accepts: the configured limit, never past the array
 * (even if a caller edited ctx->limits after gh_mqtt_ctx_init). */
static size_t max_entries(const struct gh_mqtt_ctx *ctx)
{
    size_t limit = ctx->limits.max_subscriptions_per_packet;
    return limit < GH_MQTT_MAX_SUBSCRIPTIONS ? limit : GH_MQTT_MAX_SUBSCRIPTIONS;
}

/* Packet id shared by all three: present and non-zero (MQTT-2.3.1-1). */
static gh_err read_packet_id(struct gh_reader *body, uint16_t *id)
{
    uint16_t v;
    GH_GUARD(gh_reader_u16be(body, &v));
    GH_ENSURE(v != 0, GH_ERR_BAD_PACKET_ID);
    *id = v;
    return GH_OK;
}

/* Common count rule for encoding: at least one entry, at most the array. */
static gh_err check_count(size_t count)
{
    GH_ENSURE(count > 0, GH_ERR_MALFORMED);
    GH_ENSURE(count <= GH_MQTT_MAX_SUBSCRIPTIONS, GH_ERR_TOO_MANY);
    return GH_OK;
}

gh_err gh_mqtt_subscribe_decode(const struct gh_mqtt_ctx *ctx, uint8_t flags,
                                struct gh_reader *body, struct gh_mqtt_packet *out)
{
    struct gh_mqtt_subscribe s = {0};
    GH_GUARD(read_packet_id(body, &s.packet_id));
    /* MQTT 5: SUBSCRIBE properties would be read here. */
    while (gh_reader_remaining(body) > 0) {
        GH_ENSURE(s.count < max_entries(ctx), GH_ERR_TOO_MANY);
        struct gh_mqtt_subscription *sub = &s.subs[s.count];
        uint8_t opts;
        GH_GUARD(gh_reader_mqtt_string(body, &sub->filter));
        GH_GUARD(gh_mqtt_topic_filter_check(sub->filter, ctx->limits.max_topic_len));
        GH_GUARD(gh_reader_u8(body, &opts));
        GH_ENSURE(!(opts & QOS_RESERVED_BITS), GH_ERR_MALFORMED);
        GH_ENSURE(opts <= QOS_MAX, GH_ERR_BAD_QOS);
        sub->qos = opts;
        s.count++;
    }
    GH_ENSURE(s.count > 0, GH_ERR_MALFORMED); /* MQTT-3.8.3-3 */
    out->u.subscribe = s;
    return GH_OK;
}

gh_err gh_mqtt_subscribe_measure(const struct gh_mqtt_ctx *ctx, const struct gh_mqtt_packet *p,
                                 size_t *body_len)
{
    const struct gh_mqtt_subscribe *s = &p->u.subscribe;
    GH_GUARD(check_count(s->count));
    GH_ENSURE(s->packet_id != 0, GH_ERR_BAD_PACKET_ID);
    size_t n = PACKET_ID_LEN;
    for (size_t i = 0; i < s->count; i++) {
        GH_ENSURE(s->subs[i].qos <= QOS_MAX, GH_ERR_BAD_QOS);
        GH_GUARD(gh_mqtt_topic_filter_check(s->subs[i].filter, GH_MQTT_MAX_STRING_LEN));
        GH_GUARD(gh_mqtt_size_string(&n, s->subs[i].filter));
        GH_GUARD(gh_mqtt_size_add(&n, QOS_BYTE_LEN));
    }
    *body_len = n;
    return GH_OK;
}

gh_err gh_mqtt_subscribe_write(const struct gh_mqtt_ctx *ctx, const struct gh_mqtt_packet *p,
                               struct gh_writer *w)
{
    const struct gh_mqtt_subscribe *s = &p->u.subscribe;
    GH_GUARD(gh_writer_u16be(w, s->packet_id));
    for (size_t i = 0; i < s->count; i++) {
        GH_GUARD(gh_writer_mqtt_binary(w, s->subs[i].filter));
        GH_GUARD(gh_writer_u8(w, s->subs[i].qos));
    }
    return GH_OK;
}

gh_err gh_mqtt_suback_decode(const struct gh_mqtt_ctx *ctx, uint8_t flags, struct gh_reader *body,
                             struct gh_mqtt_packet *out)
{
    struct gh_mqtt_suback s = {0};
    GH_GUARD(read_packet_id(body, &s.packet_id));
    /* MQTT 5: SUBACK properties would be read here. */
    while (gh_reader_remaining(body) > 0) {
        GH_ENSURE(s.count < max_entries(ctx), GH_ERR_TOO_MANY);
        uint8_t code;
        GH_GUARD(gh_reader_u8(body, &code));
        GH_ENSURE(suback_code_valid(code), GH_ERR_MALFORMED);
        s.return_codes[s.count++] = code;
    }
    GH_ENSURE(s.count > 0, GH_ERR_MALFORMED);
    out->u.suback = s;
    return GH_OK;
}

gh_err gh_mqtt_suback_measure(const struct gh_mqtt_ctx *ctx, const struct gh_mqtt_packet *p,
                              size_t *body_len)
{
    const struct gh_mqtt_suback *s = &p->u.suback;
    GH_GUARD(check_count(s->count));
    GH_ENSURE(s->packet_id != 0, GH_ERR_BAD_PACKET_ID);
    for (size_t i = 0; i < s->count; i++)
        GH_ENSURE(suback_code_valid(s->return_codes[i]), GH_ERR_MALFORMED);
    *body_len = PACKET_ID_LEN + s->count;
    return GH_OK;
}

gh_err gh_mqtt_suback_write(const struct gh_mqtt_ctx *ctx, const struct gh_mqtt_packet *p,
                            struct gh_writer *w)
{
    const struct gh_mqtt_suback *s = &p->u.suback;
    GH_GUARD(gh_writer_u16be(w, s->packet_id));
    GH_GUARD(gh_writer_bytes(w, s->return_codes, s->count));
    return GH_OK;
}

gh_err gh_mqtt_unsubscribe_decode(const struct gh_mqtt_ctx *ctx, uint8_t flags,
                                  struct gh_reader *body, struct gh_mqtt_packet *out)
{
    struct gh_mqtt_unsubscribe u = {0};
    GH_GUARD(read_packet_id(body, &u.packet_id));
    /* MQTT 5: UNSUBSCRIBE properties would be read here. */
    while (gh_reader_remaining(body) > 0) {
        GH_ENSURE(u.count < max_entries(ctx), GH_ERR_TOO_MANY);
        struct gh_slice *filter = &u.filters[u.count];
        GH_GUARD(gh_reader_mqtt_string(body, filter));
        GH_GUARD(gh_mqtt_topic_filter_check(*filter, ctx->limits.max_topic_len));
        u.count++;
    }
    GH_ENSURE(u.count > 0, GH_ERR_MALFORMED); /* MQTT-3.10.3-2 */
    out->u.unsubscribe = u;
    return GH_OK;
}

gh_err gh_mqtt_unsubscribe_measure(const struct gh_mqtt_ctx *ctx, const struct gh_mqtt_packet *p,
                                   size_t *body_len)
{
    const struct gh_mqtt_unsubscribe *u = &p->u.unsubscribe;
    GH_GUARD(check_count(u->count));
    GH_ENSURE(u->packet_id != 0, GH_ERR_BAD_PACKET_ID);
    size_t n = PACKET_ID_LEN;
    for (size_t i = 0; i < u->count; i++) {
        GH_GUARD(gh_mqtt_topic_filter_check(u->filters[i], GH_MQTT_MAX_STRING_LEN));
        GH_GUARD(gh_mqtt_size_string(&n, u->filters[i]));
    }
    *body_len = n;
    return GH_OK;
}

gh_err gh_mqtt_unsubscribe_write(const struct gh_mqtt_ctx *ctx, const struct gh_mqtt_packet *p,
                                 struct gh_writer *w)
{
    const struct gh_mqtt_unsubscribe *u = &p->u.unsubscribe;
    GH_GUARD(gh_writer_u16be(w, u->packet_id));
    for (size_t i = 0; i < u->count; i++) GH_GUARD(gh_writer_mqtt_binary(w, u->filters[i]));
    return GH_OK;
}
