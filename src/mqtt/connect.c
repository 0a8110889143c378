/* CONNECT and CONNACK: decoder and encoder (MQTT 3.1.1 sections 3.1, 3.2). */
#include "mqtt/mqtt.h"
#include "mqtt/mqtt_int.h"
#include "mqtt/topic.h"

#define PROTOCOL_NAME "MQTT"
/* MQTT 3.1's protocol name: a recognised MQTT version we do not speak, so it
 * gets CONNACK 0x01 (unacceptable protocol level), which 3.1 clients know. */
#define PROTOCOL_NAME_V31 "MQIsdp"

/* Connect flags (3.1.2.3). */
#define CF_USERNAME 0x80u
#define CF_PASSWORD 0x40u
#define CF_WILL_RETAIN 0x20u
#define CF_WILL_QOS_SHIFT 3u
#define CF_WILL_QOS_MASK 0x03u
#define CF_WILL 0x04u
#define CF_CLEAN_SESSION 0x02u
#define CF_RESERVED 0x01u

/* Variable header after the protocol name: level, flags, keep alive. */
#define CONNECT_FIXED_TAIL 4u

/* Connect acknowledge flags (3.2.2.1) and highest defined return code. */
#define CA_SESSION_PRESENT 0x01u
#define CA_RESERVED 0xfeu
#define CONNACK_CODE_MAX GH_MQTT_CONNACK_NOT_AUTHORIZED
#define CONNACK_BODY_LEN 2u

#define QOS_MAX 2u

gh_err gh_mqtt_connect_decode(const struct gh_mqtt_ctx *ctx, uint8_t flags, struct gh_reader *body,
                              struct gh_mqtt_packet *out)
{
    struct gh_mqtt_connect c = {0};
    struct gh_slice name;
    uint8_t level, cf;

    GH_GUARD(gh_reader_mqtt_binary(body, &name));
    bool is_mqtt = gh_slice_eq_cstr(name, PROTOCOL_NAME);
    GH_ENSURE(is_mqtt || gh_slice_eq_cstr(name, PROTOCOL_NAME_V31), GH_ERR_BAD_PROTOCOL);
    GH_GUARD(gh_reader_u8(body, &level));
    /* Stop here for any other level: the rest may follow another grammar
     * (MQTT 5 properties), and the caller needs only the verdict. */
    GH_ENSURE(is_mqtt && level == GH_MQTT_LEVEL_311, GH_ERR_BAD_PROTOCOL_LEVEL);
    c.protocol_level = level;

    GH_GUARD(gh_reader_u8(body, &cf));
    GH_ENSURE(!(cf & CF_RESERVED), GH_ERR_MALFORMED); /* MQTT-3.1.2-3 */
    c.clean_session = (cf & CF_CLEAN_SESSION) != 0;
    c.will = (cf & CF_WILL) != 0;
    c.will_qos = (uint8_t)((cf >> CF_WILL_QOS_SHIFT) & CF_WILL_QOS_MASK);
    c.will_retain = (cf & CF_WILL_RETAIN) != 0;
    if (c.will)
        GH_ENSURE(c.will_qos <= QOS_MAX, GH_ERR_BAD_QOS); /* MQTT-3.1.2-14 */
    else
        GH_ENSURE(c.will_qos == 0 && !c.will_retain, GH_ERR_MALFORMED); /* MQTT-3.1.2-13/15 */
    c.has_username = (cf & CF_USERNAME) != 0;
    c.has_password = (cf & CF_PASSWORD) != 0;
    GH_ENSURE(c.has_username || !c.has_password, GH_ERR_MALFORMED); /* MQTT-3.1.2-22 */
    GH_GUARD(gh_reader_u16be(body, &c.keep_alive));

    /* MQTT 5: CONNECT properties would be read here (ctx->protocol_level). */

    GH_GUARD(gh_reader_mqtt_string(body, &c.client_id));
    if (c.will) {
        GH_GUARD(gh_reader_mqtt_string(body, &c.will_topic));
        GH_GUARD(gh_mqtt_topic_name_check(c.will_topic, ctx->limits.max_topic_len));
        GH_GUARD(gh_reader_mqtt_binary(body, &c.will_message));
    }
    if (c.has_username) GH_GUARD(gh_reader_mqtt_string(body, &c.username));
    if (c.has_password) GH_GUARD(gh_reader_mqtt_binary(body, &c.password));
    out->u.connect = c;
    return GH_OK;
}

gh_err gh_mqtt_connect_measure(const struct gh_mqtt_ctx *ctx, const struct gh_mqtt_packet *p,
                               size_t *body_len)
{
    const struct gh_mqtt_connect *c = &p->u.connect;
    GH_ENSURE(c->protocol_level == GH_MQTT_LEVEL_311, GH_ERR_BAD_PROTOCOL_LEVEL);
    if (c->will)
        GH_ENSURE(c->will_qos <= QOS_MAX, GH_ERR_BAD_QOS);
    else
        GH_ENSURE(c->will_qos == 0 && !c->will_retain && c->will_topic.len == 0 &&
                      c->will_message.len == 0,
                  GH_ERR_MALFORMED);
    GH_ENSURE(c->has_username || !c->has_password, GH_ERR_MALFORMED);

    size_t n = 0;
    GH_GUARD(gh_mqtt_size_string(&n, gh_slice_cstr(PROTOCOL_NAME)));
    GH_GUARD(gh_mqtt_size_add(&n, CONNECT_FIXED_TAIL));
    GH_GUARD(gh_mqtt_size_string(&n, c->client_id));
    if (c->will) {
        GH_GUARD(gh_mqtt_topic_name_check(c->will_topic, GH_MQTT_MAX_STRING_LEN));
        GH_GUARD(gh_mqtt_size_string(&n, c->will_topic));
        GH_GUARD(gh_mqtt_size_binary(&n, c->will_message));
    }
    if (c->has_username) GH_GUARD(gh_mqtt_size_string(&n, c->username));
    if (c->has_password) GH_GUARD(gh_mqtt_size_binary(&n, c->password));
    *body_len = n;
    return GH_OK;
}

gh_err gh_mqtt_connect_write(const struct gh_mqtt_ctx *ctx, const struct gh_mqtt_packet *p,
                             struct gh_writer *w)
{
    const struct gh_mqtt_connect *c = &p->u.connect;
    unsigned cf = 0;
    if (c->has_username) cf |= CF_USERNAME;
    if (c->has_password) cf |= CF_PASSWORD;
    if (c->will) {
        cf |= CF_WILL | ((unsigned)c->will_qos << CF_WILL_QOS_SHIFT);
        if (c->will_retain) cf |= CF_WILL_RETAIN;
    }
    if (c->clean_session) cf |= CF_CLEAN_SESSION;

    GH_GUARD(gh_writer_mqtt_binary(w, gh_slice_cstr(PROTOCOL_NAME)));
    GH_GUARD(gh_writer_u8(w, c->protocol_level));
    GH_GUARD(gh_writer_u8(w, (uint8_t)cf));
    GH_GUARD(gh_writer_u16be(w, c->keep_alive));
    /* MQTT 5: CONNECT properties would be written here. */
    GH_GUARD(gh_writer_mqtt_binary(w, c->client_id));
    if (c->will) {
        GH_GUARD(gh_writer_mqtt_binary(w, c->will_topic));
        GH_GUARD(gh_writer_mqtt_binary(w, c->will_message));
    }
    if (c->has_username) GH_GUARD(gh_writer_mqtt_binary(w, c->username));
    if (c->has_password) GH_GUARD(gh_writer_mqtt_binary(w, c->password));
    return GH_OK;
}

gh_err gh_mqtt_connack_decode(const struct gh_mqtt_ctx *ctx, uint8_t flags, struct gh_reader *body,
                              struct gh_mqtt_packet *out)
{
    uint8_t ack_flags, code;
    GH_GUARD(gh_reader_u8(body, &ack_flags));
    GH_GUARD(gh_reader_u8(body, &code));
    GH_ENSURE(!(ack_flags & CA_RESERVED), GH_ERR_MALFORMED); /* MQTT-3.2.2-1 */
    GH_ENSURE(code <= CONNACK_CODE_MAX, GH_ERR_MALFORMED);
    bool session_present = (ack_flags & CA_SESSION_PRESENT) != 0;
    GH_ENSURE(code == GH_MQTT_CONNACK_ACCEPTED || !session_present,
              GH_ERR_MALFORMED); /* MQTT-3.2.2-4 */
    /* MQTT 5: CONNACK properties would be read here. */
    out->u.connack = (struct gh_mqtt_connack){session_present, code};
    return GH_OK;
}

gh_err gh_mqtt_connack_measure(const struct gh_mqtt_ctx *ctx, const struct gh_mqtt_packet *p,
                               size_t *body_len)
{
    const struct gh_mqtt_connack *c = &p->u.connack;
    GH_ENSURE(c->return_code <= CONNACK_CODE_MAX, GH_ERR_MALFORMED);
    GH_ENSURE(c->return_code == GH_MQTT_CONNACK_ACCEPTED || !c->session_present, GH_ERR_MALFORMED);
    *body_len = CONNACK_BODY_LEN;
    return GH_OK;
}

gh_err gh_mqtt_connack_write(const struct gh_mqtt_ctx *ctx, const struct gh_mqtt_packet *p,
                             struct gh_writer *w)
{
    const struct gh_mqtt_connack *c = &p->u.connack;
    GH_GUARD(gh_writer_u8(w, c->session_present ? CA_SESSION_PRESENT : 0));
    GH_GUARD(gh_writer_u8(w, c->return_code));
    return GH_OK;
}
