/* MQTT codec dispatch: limits, fixed header, remaining length, and the one
 * place where a packet's size is computed and its header written. The packet
 * families live in connect.c, publish.c and subscribe.c. */
#include <string.h>

#include "mqtt/mqtt.h"
#include "mqtt/mqtt_int.h"

#define TYPE_MIN GH_MQTT_CONNECT
#define TYPE_MAX GH_MQTT_DISCONNECT
#define TYPE_COUNT 16u

#define FLAG_DUP 0x08u
#define FLAG_QOS_SHIFT 1u
#define FLAG_QOS_MASK 0x03u
#define FLAG_RETAIN 0x01u
/* Required flags of PUBREL, SUBSCRIBE and UNSUBSCRIBE (MQTT 3.1.1 2.2.2). */
#define FLAGS_0010 0x02u

void gh_mqtt_limits_default(struct gh_mqtt_limits *l)
{
    l->max_packet_size = GH_MQTT_DEFAULT_MAX_PACKET_SIZE;
    l->max_connect_size = GH_MQTT_DEFAULT_MAX_CONNECT_SIZE;
    l->max_topic_len = GH_MQTT_DEFAULT_MAX_TOPIC_LEN;
    l->max_subscriptions_per_packet = GH_MQTT_DEFAULT_MAX_SUBSCRIPTIONS_PER_PACKET;
}

gh_err gh_mqtt_limits_check(const struct gh_mqtt_limits *l)
{
    GH_ENSURE(l->max_connect_size >= GH_MQTT_MIN_PACKET_LIMIT, GH_ERR_ARG);
    GH_ENSURE(l->max_connect_size <= l->max_packet_size, GH_ERR_ARG);
    GH_ENSURE(l->max_packet_size <= GH_MQTT_MAX_PACKET_LEN, GH_ERR_ARG);
    GH_ENSURE(l->max_topic_len >= 1 && l->max_topic_len <= GH_MQTT_MAX_STRING_LEN, GH_ERR_ARG);
    GH_ENSURE(l->max_subscriptions_per_packet >= 1 &&
                  l->max_subscriptions_per_packet <= GH_MQTT_MAX_SUBSCRIPTIONS,
              GH_ERR_ARG);
    return GH_OK;
}

gh_err gh_mqtt_ctx_init(struct gh_mqtt_ctx *ctx, const struct gh_mqtt_limits *limits)
{
    struct gh_mqtt_ctx c = {.protocol_level = GH_MQTT_LEVEL_311};
    if (limits)
        c.limits = *limits;
    else
        gh_mqtt_limits_default(&c.limits);
    GH_GUARD(gh_mqtt_limits_check(&c.limits));
    *ctx = c;
    return GH_OK;
}

static const char *const type_names[TYPE_COUNT] = {
    [GH_MQTT_CONNECT] = "CONNECT",   [GH_MQTT_CONNACK] = "CONNACK",
    [GH_MQTT_PUBLISH] = "PUBLISH",   [GH_MQTT_PUBACK] = "PUBACK",
    [GH_MQTT_PUBREC] = "PUBREC",     [GH_MQTT_PUBREL] = "PUBREL",
    [GH_MQTT_PUBCOMP] = "PUBCOMP",   [GH_MQTT_SUBSCRIBE] = "SUBSCRIBE",
    [GH_MQTT_SUBACK] = "SUBACK",     [GH_MQTT_UNSUBSCRIBE] = "UNSUBSCRIBE",
    [GH_MQTT_UNSUBACK] = "UNSUBACK", [GH_MQTT_PINGREQ] = "PINGREQ",
    [GH_MQTT_PINGRESP] = "PINGRESP", [GH_MQTT_DISCONNECT] = "DISCONNECT",
};

const char *gh_mqtt_type_name(unsigned type)
{
    if (type < TYPE_COUNT && type_names[type]) return type_names[type];
    return "RESERVED";
}

/* PINGREQ, PINGRESP, DISCONNECT: empty body. */
static gh_err empty_decode(const struct gh_mqtt_ctx *ctx, uint8_t flags, struct gh_reader *body,
                           struct gh_mqtt_packet *out)
{
    return GH_OK; /* a non-empty body is GH_ERR_TRAILING_BYTES in decode_body */
}

static gh_err empty_measure(const struct gh_mqtt_ctx *ctx, const struct gh_mqtt_packet *p,
                            size_t *body_len)
{
    *body_len = 0;
    return GH_OK;
}

static gh_err empty_write(const struct gh_mqtt_ctx *ctx, const struct gh_mqtt_packet *p,
                          struct gh_writer *w)
{
    return GH_OK;
}

struct family {
    uint8_t flags; /* required fixed-header flags (PUBLISH: computed) */
    gh_mqtt_decode_fn decode;
    gh_mqtt_measure_fn measure;
    gh_mqtt_write_fn write;
};

#define FAMILY(f, name)                                                                            \
    {                                                                                              \
        f, gh_mqtt_##name##_decode, gh_mqtt_##name##_measure, gh_mqtt_##name##_write               \
    }

static const struct family families[TYPE_COUNT] = {
    [GH_MQTT_CONNECT] = FAMILY(0, connect),
    [GH_MQTT_CONNACK] = FAMILY(0, connack),
    [GH_MQTT_PUBLISH] = FAMILY(0, publish),
    [GH_MQTT_PUBACK] = FAMILY(0, ack),
    [GH_MQTT_PUBREC] = FAMILY(0, ack),
    [GH_MQTT_PUBREL] = FAMILY(FLAGS_0010, ack),
    [GH_MQTT_PUBCOMP] = FAMILY(0, ack),
    [GH_MQTT_SUBSCRIBE] = FAMILY(FLAGS_0010, subscribe),
    [GH_MQTT_SUBACK] = FAMILY(0, suback),
    [GH_MQTT_UNSUBSCRIBE] = FAMILY(FLAGS_0010, unsubscribe),
    [GH_MQTT_UNSUBACK] = FAMILY(0, ack),
    [GH_MQTT_PINGREQ] = {0, empty_decode, empty_measure, empty_write},
    [GH_MQTT_PINGRESP] = {0, empty_decode, empty_measure, empty_write},
    [GH_MQTT_DISCONNECT] = {0, empty_decode, empty_measure, empty_write},
};

static bool type_valid(unsigned type)
{
    return type >= TYPE_MIN && type <= TYPE_MAX;
}

gh_err gh_mqtt_header_check(uint8_t first_byte)
{
    unsigned type = first_byte >> 4, flags = first_byte & 0x0fu;
    GH_ENSURE(type_valid(type), GH_ERR_BAD_PACKET_TYPE);
    if (type == GH_MQTT_PUBLISH) {
        unsigned qos = (flags >> FLAG_QOS_SHIFT) & FLAG_QOS_MASK;
        GH_ENSURE(qos != 3, GH_ERR_BAD_QOS);
        GH_ENSURE(qos != 0 || !(flags & FLAG_DUP), GH_ERR_BAD_FLAGS); /* MQTT-3.3.1-2 */
        return GH_OK;
    }
    GH_ENSURE(flags == families[type].flags, GH_ERR_BAD_FLAGS);
    return GH_OK;
}

uint8_t gh_mqtt_publish_flags(const struct gh_mqtt_publish *p)
{
    return (uint8_t)((p->dup ? FLAG_DUP : 0u) | ((p->qos & FLAG_QOS_MASK) << FLAG_QOS_SHIFT) |
                     (p->retain ? FLAG_RETAIN : 0u));
}

gh_err gh_mqtt_decode(const struct gh_mqtt_ctx *ctx, struct gh_slice frame,
                      struct gh_mqtt_packet *out)
{
    struct gh_reader r;
    gh_reader_init(&r, frame.ptr, frame.len);
    uint8_t first;
    uint32_t rem;
    GH_GUARD(gh_reader_u8(&r, &first));
    GH_GUARD(gh_mqtt_header_check(first));
    unsigned type = first >> 4;
    GH_ENSURE(type == GH_MQTT_CONNECT || ctx->protocol_level == GH_MQTT_LEVEL_311, GH_ERR_ARG);
    GH_GUARD(gh_reader_varint(&r, &rem));
    /* Header (<= 5 bytes) + rem (<= 2^28) cannot overflow size_t. */
    GH_ENSURE(r.pos + (size_t)rem <= ctx->limits.max_packet_size, GH_ERR_TOO_LARGE);
    struct gh_slice body_bytes;
    GH_GUARD(gh_reader_bytes(&r, rem, &body_bytes));
    GH_ENSURE(gh_reader_remaining(&r) == 0, GH_ERR_TRAILING_BYTES);

    struct gh_mqtt_packet pkt;
    memset(&pkt, 0, sizeof pkt);
    pkt.type = (enum gh_mqtt_type)type;
    struct gh_reader body;
    gh_reader_init(&body, body_bytes.ptr, body_bytes.len);
    GH_GUARD(families[type].decode(ctx, first & 0x0fu, &body, &pkt));
    GH_ENSURE(gh_reader_remaining(&body) == 0, GH_ERR_TRAILING_BYTES);
    *out = pkt;
    return GH_OK;
}

gh_err gh_mqtt_size_add(size_t *acc, size_t n)
{
    GH_ENSURE(*acc <= GH_MQTT_MAX_REMAINING_LENGTH && n <= GH_MQTT_MAX_REMAINING_LENGTH - *acc,
              GH_ERR_TOO_LARGE);
    *acc += n;
    return GH_OK;
}

gh_err gh_mqtt_size_binary(size_t *acc, struct gh_slice s)
{
    GH_ENSURE(s.len <= GH_MQTT_MAX_STRING_LEN, GH_ERR_TOO_LARGE);
    return gh_mqtt_size_add(acc, 2 + s.len);
}

gh_err gh_mqtt_size_string(size_t *acc, struct gh_slice s)
{
    GH_ENSURE(s.len <= GH_MQTT_MAX_STRING_LEN, GH_ERR_TOO_LARGE);
    GH_ENSURE(gh_utf8_valid_mqtt(s.ptr, s.len), GH_ERR_BAD_UTF8);
    return gh_mqtt_size_add(acc, 2 + s.len);
}

/* Validate *p and compute its first byte and body length. */
static gh_err measure(const struct gh_mqtt_ctx *ctx, const struct gh_mqtt_packet *p, uint8_t *first,
                      size_t *body_len)
{
    GH_ENSURE(type_valid((unsigned)p->type), GH_ERR_BAD_PACKET_TYPE);
    GH_ENSURE(ctx->protocol_level == GH_MQTT_LEVEL_311, GH_ERR_ARG);
    const struct family *fam = &families[p->type];
    size_t n = 0;
    GH_GUARD(fam->measure(ctx, p, &n));
    GH_ENSURE(n <= GH_MQTT_MAX_REMAINING_LENGTH, GH_ERR_TOO_LARGE);
    uint8_t flags = p->type == GH_MQTT_PUBLISH ? gh_mqtt_publish_flags(&p->u.publish) : fam->flags;
    *first = (uint8_t)(((unsigned)p->type << 4) | flags);
    *body_len = n;
    return GH_OK;
}

gh_err gh_mqtt_packet_size(const struct gh_mqtt_ctx *ctx, const struct gh_mqtt_packet *p,
                           size_t *out)
{
    uint8_t first;
    size_t body;
    GH_GUARD(measure(ctx, p, &first, &body));
    *out = 1 + gh_varint_size((uint32_t)body) + body;
    return GH_OK;
}

gh_err gh_mqtt_encode(const struct gh_mqtt_ctx *ctx, const struct gh_mqtt_packet *p,
                      struct gh_writer *w)
{
    uint8_t first;
    size_t body;
    GH_GUARD(measure(ctx, p, &first, &body));
    size_t total = 1 + gh_varint_size((uint32_t)body) + body;
    GH_ENSURE(total <= gh_writer_space(w), GH_ERR_NOBUFS);

    size_t start = w->len;
    gh_err rc = gh_writer_u8(w, first);
    if (rc == GH_OK) rc = gh_writer_varint(w, (uint32_t)body);
    if (rc == GH_OK) rc = families[p->type].write(ctx, p, w);
    if (rc == GH_OK && w->len - start != total) rc = GH_ERR_INTERNAL;
    if (rc != GH_OK) w->len = start; /* nothing written on failure */
    return rc;
}

static bool ack_equal(const struct gh_mqtt_ack *a, const struct gh_mqtt_ack *b)
{
    return a->packet_id == b->packet_id;
}

static bool connect_equal(const struct gh_mqtt_connect *a, const struct gh_mqtt_connect *b)
{
    if (a->protocol_level != b->protocol_level || a->clean_session != b->clean_session ||
        a->keep_alive != b->keep_alive || !gh_slice_eq(a->client_id, b->client_id) ||
        a->will != b->will || a->has_username != b->has_username ||
        a->has_password != b->has_password)
        return false;
    if (a->will && (a->will_qos != b->will_qos || a->will_retain != b->will_retain ||
                    !gh_slice_eq(a->will_topic, b->will_topic) ||
                    !gh_slice_eq(a->will_message, b->will_message)))
        return false;
    if (a->has_username && !gh_slice_eq(a->username, b->username)) return false;
    if (a->has_password && !gh_slice_eq(a->password, b->password)) return false;
    return true;
}

static bool publish_equal(const struct gh_mqtt_publish *a, const struct gh_mqtt_publish *b)
{
    return a->dup == b->dup && a->qos == b->qos && a->retain == b->retain &&
           gh_slice_eq(a->topic, b->topic) && (a->qos == 0 || a->packet_id == b->packet_id) &&
           gh_slice_eq(a->payload, b->payload);
}

static bool subscribe_equal(const struct gh_mqtt_subscribe *a, const struct gh_mqtt_subscribe *b)
{
    if (a->packet_id != b->packet_id || a->count != b->count) return false;
    if (a->count > GH_MQTT_MAX_SUBSCRIPTIONS) return false;
    for (size_t i = 0; i < a->count; i++)
        if (a->subs[i].qos != b->subs[i].qos || !gh_slice_eq(a->subs[i].filter, b->subs[i].filter))
            return false;
    return true;
}

static bool suback_equal(const struct gh_mqtt_suback *a, const struct gh_mqtt_suback *b)
{
    if (a->packet_id != b->packet_id || a->count != b->count) return false;
    if (a->count > GH_MQTT_MAX_SUBSCRIPTIONS) return false;
    return a->count == 0 || memcmp(a->return_codes, b->return_codes, a->count) == 0;
}

static bool unsubscribe_equal(const struct gh_mqtt_unsubscribe *a,
                              const struct gh_mqtt_unsubscribe *b)
{
    if (a->packet_id != b->packet_id || a->count != b->count) return false;
    if (a->count > GH_MQTT_MAX_SUBSCRIPTIONS) return false;
    for (size_t i = 0; i < a->count; i++)
        if (!gh_slice_eq(a->filters[i], b->filters[i])) return false;
    return true;
}

bool gh_mqtt_packet_equal(const struct gh_mqtt_packet *a, const struct gh_mqtt_packet *b)
{
    if (a->type != b->type) return false;
    switch (a->type) {
    case GH_MQTT_CONNECT:
        return connect_equal(&a->u.connect, &b->u.connect);
    case GH_MQTT_CONNACK:
        return a->u.connack.session_present == b->u.connack.session_present &&
               a->u.connack.return_code == b->u.connack.return_code;
    case GH_MQTT_PUBLISH:
        return publish_equal(&a->u.publish, &b->u.publish);
    case GH_MQTT_PUBACK:
        return ack_equal(&a->u.puback, &b->u.puback);
    case GH_MQTT_PUBREC:
        return ack_equal(&a->u.pubrec, &b->u.pubrec);
    case GH_MQTT_PUBREL:
        return ack_equal(&a->u.pubrel, &b->u.pubrel);
    case GH_MQTT_PUBCOMP:
        return ack_equal(&a->u.pubcomp, &b->u.pubcomp);
    case GH_MQTT_SUBSCRIBE:
        return subscribe_equal(&a->u.subscribe, &b->u.subscribe);
    case GH_MQTT_SUBACK:
        return suback_equal(&a->u.suback, &b->u.suback);
    case GH_MQTT_UNSUBSCRIBE:
        return unsubscribe_equal(&a->u.unsubscribe, &b->u.unsubscribe);
    case GH_MQTT_UNSUBACK:
        return ack_equal(&a->u.unsuback, &b->u.unsuback);
    case GH_MQTT_PINGREQ:
    case GH_MQTT_PINGRESP:
    case GH_MQTT_DISCONNECT:
        return true;
    }
    return false;
}
