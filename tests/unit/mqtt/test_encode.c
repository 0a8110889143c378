/* Encoder refusals: each invalid packet gives the decoder's error code from
 * both gh_mqtt_packet_size and gh_mqtt_encode, and writes nothing. */
#include "vectors.h"

#include <stdio.h>
#include <stdlib.h>

struct enc_case {
    const char *name;
    struct gh_mqtt_packet pkt;
    gh_err err;
};

#define CONNECT_OK                                                                                 \
    {                                                                                              \
        .protocol_level = 4, .clean_session = true                                                 \
    }

static const struct enc_case cases[] = {
    {"type 0", {.type = 0}, GH_ERR_BAD_PACKET_TYPE},
    {"type 15", {.type = 15}, GH_ERR_BAD_PACKET_TYPE},
    {"connect level 3",
     {.type = GH_MQTT_CONNECT, .u.connect = {.protocol_level = 3}},
     GH_ERR_BAD_PROTOCOL_LEVEL},
    {"connect level 5",
     {.type = GH_MQTT_CONNECT, .u.connect = {.protocol_level = 5}},
     GH_ERR_BAD_PROTOCOL_LEVEL},
    {"connect will qos 3",
     {.type = GH_MQTT_CONNECT,
      .u.connect = {.protocol_level = 4, .will = true, .will_qos = 3, .will_topic = SL("w")}},
     GH_ERR_BAD_QOS},
    {"connect will qos without will",
     {.type = GH_MQTT_CONNECT, .u.connect = {.protocol_level = 4, .will_qos = 1}},
     GH_ERR_MALFORMED},
    {"connect will retain without will",
     {.type = GH_MQTT_CONNECT, .u.connect = {.protocol_level = 4, .will_retain = true}},
     GH_ERR_MALFORMED},
    {"connect will topic without will",
     {.type = GH_MQTT_CONNECT, .u.connect = {.protocol_level = 4, .will_topic = SL("w")}},
     GH_ERR_MALFORMED},
    {"connect will message without will",
     {.type = GH_MQTT_CONNECT, .u.connect = {.protocol_level = 4, .will_message = SL("m")}},
     GH_ERR_MALFORMED},
    {"connect password without user name",
     {.type = GH_MQTT_CONNECT, .u.connect = {.protocol_level = 4, .has_password = true}},
     GH_ERR_MALFORMED},
    {"connect client id bad utf8",
     {.type = GH_MQTT_CONNECT, .u.connect = {.protocol_level = 4, .client_id = SL("\xff")}},
     GH_ERR_BAD_UTF8},
    {"connect user name with nul",
     {.type = GH_MQTT_CONNECT,
      .u.connect = {.protocol_level = 4, .has_username = true, .username = SL("a\0b")}},
     GH_ERR_BAD_UTF8},
    {"connect will topic wildcard",
     {.type = GH_MQTT_CONNECT,
      .u.connect = {.protocol_level = 4, .will = true, .will_topic = SL("a/+")}},
     GH_ERR_BAD_TOPIC},
    {"connect will topic empty",
     {.type = GH_MQTT_CONNECT, .u.connect = {.protocol_level = 4, .will = true}},
     GH_ERR_BAD_TOPIC},
    {"connack code 6",
     {.type = GH_MQTT_CONNACK, .u.connack = {.return_code = 6}},
     GH_ERR_MALFORMED},
    {"connack session present with refusal",
     {.type = GH_MQTT_CONNACK, .u.connack = {.session_present = true, .return_code = 1}},
     GH_ERR_MALFORMED},
    {"publish qos 3",
     {.type = GH_MQTT_PUBLISH, .u.publish = {.qos = 3, .topic = SL("t"), .packet_id = 1}},
     GH_ERR_BAD_QOS},
    {"publish dup qos 0",
     {.type = GH_MQTT_PUBLISH, .u.publish = {.dup = true, .topic = SL("t")}},
     GH_ERR_BAD_FLAGS},
    {"publish qos 1 id 0",
     {.type = GH_MQTT_PUBLISH, .u.publish = {.qos = 1, .topic = SL("t")}},
     GH_ERR_BAD_PACKET_ID},
    {"publish qos 2 id 0",
     {.type = GH_MQTT_PUBLISH, .u.publish = {.qos = 2, .topic = SL("t")}},
     GH_ERR_BAD_PACKET_ID},
    {"publish topic wildcard",
     {.type = GH_MQTT_PUBLISH, .u.publish = {.topic = SL("a/#")}},
     GH_ERR_BAD_TOPIC},
    {"publish topic empty", {.type = GH_MQTT_PUBLISH}, GH_ERR_BAD_TOPIC},
    {"publish topic bad utf8",
     {.type = GH_MQTT_PUBLISH, .u.publish = {.topic = SL("\xc0\x80")}},
     GH_ERR_BAD_UTF8},
    {"puback id 0", {.type = GH_MQTT_PUBACK}, GH_ERR_BAD_PACKET_ID},
    {"pubrec id 0", {.type = GH_MQTT_PUBREC}, GH_ERR_BAD_PACKET_ID},
    {"pubrel id 0", {.type = GH_MQTT_PUBREL}, GH_ERR_BAD_PACKET_ID},
    {"pubcomp id 0", {.type = GH_MQTT_PUBCOMP}, GH_ERR_BAD_PACKET_ID},
    {"unsuback id 0", {.type = GH_MQTT_UNSUBACK}, GH_ERR_BAD_PACKET_ID},
    {"subscribe count 0",
     {.type = GH_MQTT_SUBSCRIBE, .u.subscribe = {.packet_id = 1}},
     GH_ERR_MALFORMED},
    {"subscribe count 17",
     {.type = GH_MQTT_SUBSCRIBE, .u.subscribe = {.packet_id = 1, .count = 17}},
     GH_ERR_TOO_MANY},
    {"subscribe id 0",
     {.type = GH_MQTT_SUBSCRIBE, .u.subscribe = {.count = 1, .subs = {{SL("#"), 0}}}},
     GH_ERR_BAD_PACKET_ID},
    {"subscribe qos 3",
     {.type = GH_MQTT_SUBSCRIBE,
      .u.subscribe = {.packet_id = 1, .count = 2, .subs = {{SL("#"), 0}, {SL("a"), 3}}}},
     GH_ERR_BAD_QOS},
    {"subscribe bad filter",
     {.type = GH_MQTT_SUBSCRIBE,
      .u.subscribe = {.packet_id = 1, .count = 1, .subs = {{SL("a/#/b"), 0}}}},
     GH_ERR_BAD_TOPIC},
    {"subscribe empty filter",
     {.type = GH_MQTT_SUBSCRIBE, .u.subscribe = {.packet_id = 1, .count = 1}},
     GH_ERR_BAD_TOPIC},
    {"suback count 0", {.type = GH_MQTT_SUBACK, .u.suback = {.packet_id = 1}}, GH_ERR_MALFORMED},
    {"suback count 17",
     {.type = GH_MQTT_SUBACK, .u.suback = {.packet_id = 1, .count = 17}},
     GH_ERR_TOO_MANY},
    {"suback id 0", {.type = GH_MQTT_SUBACK, .u.suback = {.count = 1}}, GH_ERR_BAD_PACKET_ID},
    {"suback code 0x81",
     {.type = GH_MQTT_SUBACK, .u.suback = {.packet_id = 1, .count = 2, .return_codes = {0, 0x81}}},
     GH_ERR_MALFORMED},
    {"suback code 3",
     {.type = GH_MQTT_SUBACK, .u.suback = {.packet_id = 1, .count = 1, .return_codes = {3}}},
     GH_ERR_MALFORMED},
    {"unsubscribe count 0",
     {.type = GH_MQTT_UNSUBSCRIBE, .u.unsubscribe = {.packet_id = 1}},
     GH_ERR_MALFORMED},
    {"unsubscribe count 17",
     {.type = GH_MQTT_UNSUBSCRIBE, .u.unsubscribe = {.packet_id = 1, .count = 17}},
     GH_ERR_TOO_MANY},
    {"unsubscribe id 0",
     {.type = GH_MQTT_UNSUBSCRIBE, .u.unsubscribe = {.count = 1, .filters = {SL("#")}}},
     GH_ERR_BAD_PACKET_ID},
    {"unsubscribe bad filter",
     {.type = GH_MQTT_UNSUBSCRIBE,
      .u.unsubscribe = {.packet_id = 1, .count = 2, .filters = {SL("#"), SL("a+")}}},
     GH_ERR_BAD_TOPIC},
};

#define N_CASES (sizeof cases / sizeof cases[0])

static void expect_refused(const struct gh_mqtt_ctx *ctx, const char *name,
                           const struct gh_mqtt_packet *p, gh_err want)
{
    uint8_t buf[64];
    memset(buf, 0x5a, sizeof buf);
    struct gh_writer w;
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_writer_u8(&w, 0x11), GH_OK);
    size_t size = 12345;
    gh_err rc = gh_mqtt_packet_size(ctx, p, &size);
    if (rc != want) fail_msg("%s: size gave %s, want %s", name, gh_err_name(rc), gh_err_name(want));
    assert_int_equal(size, 12345);
    rc = gh_mqtt_encode(ctx, p, &w);
    if (rc != want)
        fail_msg("%s: encode gave %s, want %s", name, gh_err_name(rc), gh_err_name(want));
    assert_int_equal(w.len, 1);
    assert_int_equal(buf[1], 0x5a);
}

static void test_encode_refusals(void **state)
{
    struct gh_mqtt_ctx ctx = default_ctx();
    for (size_t i = 0; i < N_CASES; i++)
        expect_refused(&ctx, cases[i].name, &cases[i].pkt, cases[i].err);
}

/* Fields and bodies past the wire maxima. The oversized slices point at a
 * small buffer: the encoder must refuse them before reading any byte. */
static void test_encode_too_large(void **state)
{
    struct gh_mqtt_ctx ctx = default_ctx();
    static const uint8_t small[4] = "abc";
    struct gh_slice s65536 = {small, 65536};

    struct gh_mqtt_packet p = {.type = GH_MQTT_CONNECT, .u.connect = CONNECT_OK};
    p.u.connect.client_id = s65536;
    expect_refused(&ctx, "client id 65536", &p, GH_ERR_TOO_LARGE);
    p = (struct gh_mqtt_packet){.type = GH_MQTT_CONNECT, .u.connect = CONNECT_OK};
    p.u.connect.has_username = p.u.connect.has_password = true;
    p.u.connect.password = s65536;
    expect_refused(&ctx, "password 65536", &p, GH_ERR_TOO_LARGE);
    p = (struct gh_mqtt_packet){.type = GH_MQTT_CONNECT, .u.connect = CONNECT_OK};
    p.u.connect.will = true;
    p.u.connect.will_topic = (struct gh_slice)SL("w");
    p.u.connect.will_message = s65536;
    expect_refused(&ctx, "will message 65536", &p, GH_ERR_TOO_LARGE);

    p = (struct gh_mqtt_packet){.type = GH_MQTT_PUBLISH, .u.publish = {.topic = s65536}};
    expect_refused(&ctx, "topic 65536", &p, GH_ERR_TOO_LARGE);
    /* Body = 2 + 1 + payload: the largest payload that fits, and one more. */
    p = (struct gh_mqtt_packet){.type = GH_MQTT_PUBLISH, .u.publish = {.topic = SL("t")}};
    p.u.publish.payload = (struct gh_slice){small, GH_MQTT_MAX_REMAINING_LENGTH - 3};
    size_t size = 0;
    assert_int_equal(gh_mqtt_packet_size(&ctx, &p, &size), GH_OK);
    assert_int_equal(size, GH_MQTT_MAX_PACKET_LEN);
    uint8_t buf[8];
    struct gh_writer w;
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_mqtt_encode(&ctx, &p, &w), GH_ERR_NOBUFS);
    assert_int_equal(w.len, 0);
    p.u.publish.payload.len++;
    expect_refused(&ctx, "payload past max", &p, GH_ERR_TOO_LARGE);
    p.u.publish.payload.len = SIZE_MAX;
    expect_refused(&ctx, "payload SIZE_MAX", &p, GH_ERR_TOO_LARGE);
}

static void test_encode_ctx_level(void **state)
{
    struct gh_mqtt_ctx ctx = default_ctx();
    ctx.protocol_level = 5;
    struct gh_mqtt_packet p = {.type = GH_MQTT_PINGREQ};
    expect_refused(&ctx, "ctx level 5", &p, GH_ERR_ARG);
}

/* Encode-side leniency that is documented: QoS 0 ignores packet_id. */
static void test_encode_qos0_ignores_packet_id(void **state)
{
    struct gh_mqtt_ctx ctx = default_ctx();
    struct gh_mqtt_packet p = {.type = GH_MQTT_PUBLISH,
                               .u.publish = {.topic = SL("a/b"), .packet_id = 7}};
    uint8_t buf[16];
    struct gh_writer w;
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_mqtt_encode(&ctx, &p, &w), GH_OK);
    assert_int_equal(w.len, 7);
    assert_memory_equal(buf,
                        "\x30\x05\x00\x03"
                        "a/b",
                        7);
}

/* Round trip of a SUBSCRIBE at the array capacity, and remaining-length
 * boundaries 127/128 and 16383/16384 (1-, 2- and 3-byte varints). */
static void test_encode_boundaries(void **state)
{
    struct gh_mqtt_ctx ctx = default_ctx();
    struct gh_mqtt_packet p = {.type = GH_MQTT_SUBSCRIBE, .u.subscribe = {.packet_id = 3}};
    for (size_t i = 0; i < GH_MQTT_MAX_SUBSCRIPTIONS; i++)
        p.u.subscribe.subs[i] = (struct gh_mqtt_subscription){SL("a/+/#"), (uint8_t)(i % 3)};
    p.u.subscribe.count = GH_MQTT_MAX_SUBSCRIPTIONS;
    uint8_t buf[20000];
    struct gh_writer w;
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_mqtt_encode(&ctx, &p, &w), GH_OK);
    struct gh_mqtt_packet got;
    assert_int_equal(gh_mqtt_decode(&ctx, gh_writer_slice(&w), &got), GH_OK);
    assert_true(gh_mqtt_packet_equal(&p, &got));

    static uint8_t payload[16384];
    static const struct {
        size_t rem, header;
    } b[] = {{127, 2}, {128, 3}, {16383, 3}, {16384, 4}};
    for (size_t i = 0; i < 4; i++) {
        p = (struct gh_mqtt_packet){.type = GH_MQTT_PUBLISH, .u.publish = {.topic = SL("t")}};
        p.u.publish.payload = (struct gh_slice){payload, b[i].rem - 3};
        size_t size = 0;
        assert_int_equal(gh_mqtt_packet_size(&ctx, &p, &size), GH_OK);
        assert_int_equal(size, b[i].header + b[i].rem);
        gh_writer_init(&w, buf, sizeof buf);
        assert_int_equal(gh_mqtt_encode(&ctx, &p, &w), GH_OK);
        assert_int_equal(w.len, size);
        assert_int_equal(gh_mqtt_decode(&ctx, gh_writer_slice(&w), &got), GH_OK);
        assert_true(gh_mqtt_packet_equal(&p, &got));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_refusals),
        cmocka_unit_test(test_encode_too_large),
        cmocka_unit_test(test_encode_ctx_level),
        cmocka_unit_test(test_encode_qos0_ignores_packet_id),
        cmocka_unit_test(test_encode_boundaries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
