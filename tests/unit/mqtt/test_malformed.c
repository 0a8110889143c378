/* Malformed MQTT packets: every decoder error path with its exact code, the
 * same bytes through a framer, and the decoder limits. */
#include "vectors.h"

#include <stdio.h>
#include <stdlib.h>

struct bad {
    const char *name;
    const uint8_t *bytes;
    size_t len;
    gh_err err;
    bool header_level; /* the framer refuses it too, from the fixed header */
};

#define BAD(name_, lit, err_)                                                                      \
    {                                                                                              \
        name_, BYTES(lit), err_, false                                                             \
    }
#define BAD_HDR(name_, lit, err_)                                                                  \
    {                                                                                              \
        name_, BYTES(lit), err_, true                                                              \
    }

/* CONNECT variable-header prefix up to (not including) the flags byte. */
#define CON "\x00\x04MQTT\x04"

static const struct bad bad_vectors[] = {
    /* fixed header */
    BAD_HDR("type 0", "\x00\x00", GH_ERR_BAD_PACKET_TYPE),
    BAD_HDR("type 15", "\xf0\x00", GH_ERR_BAD_PACKET_TYPE),
    BAD_HDR("connect flags 1", "\x11\x0c" CON "\x02\x00\x3c\x00\x00", GH_ERR_BAD_FLAGS),
    BAD_HDR("connack flags 8", "\x28\x02\x00\x00", GH_ERR_BAD_FLAGS),
    BAD_HDR("puback flags 2", "\x42\x02\x00\x01", GH_ERR_BAD_FLAGS),
    BAD_HDR("pubrel flags 0", "\x60\x02\x00\x01", GH_ERR_BAD_FLAGS),
    BAD_HDR("pubrel flags 3", "\x63\x02\x00\x01", GH_ERR_BAD_FLAGS),
    BAD_HDR("subscribe flags 0", "\x80\x06\x00\x01\x00\x01#\x00", GH_ERR_BAD_FLAGS),
    BAD_HDR("suback flags 2", "\x92\x03\x00\x01\x00", GH_ERR_BAD_FLAGS),
    BAD_HDR("unsubscribe flags 0", "\xa0\x05\x00\x01\x00\x01#", GH_ERR_BAD_FLAGS),
    BAD_HDR("pingreq flags 2", "\xc2\x00", GH_ERR_BAD_FLAGS),
    BAD_HDR("disconnect flags 1", "\xe1\x00", GH_ERR_BAD_FLAGS),
    BAD_HDR("publish qos 3",
            "\x36\x07\x00\x03"
            "a/b\x00\x01",
            GH_ERR_BAD_QOS),
    BAD_HDR("publish dup with qos 0",
            "\x38\x05\x00\x03"
            "a/b",
            GH_ERR_BAD_FLAGS),
    BAD_HDR("remaining length 5 bytes", "\xc0\xff\xff\xff\xff\x01", GH_ERR_BAD_VARINT),
    /* frame vs remaining length */
    BAD("bytes after the packet", "\xc0\x00\x00", GH_ERR_TRAILING_BYTES),
    BAD("pingreq with body", "\xc0\x01\x00", GH_ERR_TRAILING_BYTES),
    BAD("disconnect with body", "\xe0\x01\x00", GH_ERR_TRAILING_BYTES),
    /* CONNECT */
    BAD("connect protocol name MQTX", "\x10\x0c\x00\x04MQTX\x04\x02\x00\x3c\x00\x00",
        GH_ERR_BAD_PROTOCOL),
    BAD("connect protocol name empty", "\x10\x08\x00\x00\x04\x02\x00\x3c\x00\x00",
        GH_ERR_BAD_PROTOCOL),
    BAD("connect protocol name mqtt lower", "\x10\x0c\x00\x04mqtt\x04\x02\x00\x3c\x00\x00",
        GH_ERR_BAD_PROTOCOL),
    BAD("connect level 3", "\x10\x0c\x00\x04MQTT\x03\x02\x00\x3c\x00\x00",
        GH_ERR_BAD_PROTOCOL_LEVEL),
    /* MQTT 5 CONNECT: properties length 0 after keep alive */
    BAD("connect level 5", "\x10\x0d\x00\x04MQTT\x05\x02\x00\x3c\x00\x00\x00",
        GH_ERR_BAD_PROTOCOL_LEVEL),
    BAD("connect mqtt 3.1 MQIsdp", "\x10\x0e\x00\x06MQIsdp\x03\x02\x00\x3c\x00\x00",
        GH_ERR_BAD_PROTOCOL_LEVEL),
    BAD("connect level missing", "\x10\x06\x00\x04MQTT", GH_ERR_TRUNCATED),
    BAD("connect name longer than body", "\x10\x05\x00\x10MQT", GH_ERR_TRUNCATED),
    BAD("connect reserved flag", "\x10\x0c" CON "\x03\x00\x3c\x00\x00", GH_ERR_MALFORMED),
    BAD("connect will qos without will", "\x10\x0c" CON "\x0a\x00\x3c\x00\x00", GH_ERR_MALFORMED),
    BAD("connect will retain without will", "\x10\x0c" CON "\x22\x00\x3c\x00\x00",
        GH_ERR_MALFORMED),
    BAD("connect will qos 3", "\x10\x11" CON "\x1e\x00\x3c\x00\x00\x00\x01w\x00\x00",
        GH_ERR_BAD_QOS),
    BAD("connect password without user name", "\x10\x0e" CON "\x42\x00\x3c\x00\x00\x00\x00",
        GH_ERR_MALFORMED),
    BAD("connect client id bad utf8", "\x10\x0e" CON "\x02\x00\x3c\x00\x02\xc3\x28",
        GH_ERR_BAD_UTF8),
    BAD("connect client id with nul", "\x10\x0e" CON "\x02\x00\x3c\x00\x02\x61\x00",
        GH_ERR_BAD_UTF8),
    BAD("connect client id surrogate", "\x10\x0f" CON "\x02\x00\x3c\x00\x03\xed\xa0\x80",
        GH_ERR_BAD_UTF8),
    BAD("connect will topic wildcard",
        "\x10\x13" CON "\x06\x00\x3c\x00\x00\x00\x03"
        "a/#\x00\x00",
        GH_ERR_BAD_TOPIC),
    BAD("connect will topic empty", "\x10\x10" CON "\x06\x00\x3c\x00\x00\x00\x00\x00\x00",
        GH_ERR_BAD_TOPIC),
    BAD("connect will topic bad utf8", "\x10\x11" CON "\x06\x00\x3c\x00\x00\x00\x01\xfe\x00\x00",
        GH_ERR_BAD_UTF8),
    BAD("connect will message missing", "\x10\x0f" CON "\x06\x00\x3c\x00\x00\x00\x01w",
        GH_ERR_TRUNCATED),
    BAD("connect user name missing", "\x10\x0c" CON "\x82\x00\x3c\x00\x00", GH_ERR_TRUNCATED),
    BAD("connect user name bad utf8", "\x10\x0f" CON "\x82\x00\x3c\x00\x00\x00\x01\xff",
        GH_ERR_BAD_UTF8),
    BAD("connect password missing", "\x10\x0f" CON "\xc2\x00\x3c\x00\x00\x00\x01u",
        GH_ERR_TRUNCATED),
    BAD("connect keep alive missing", "\x10\x09" CON "\x02\x00", GH_ERR_TRUNCATED),
    BAD("connect trailing byte", "\x10\x0d" CON "\x02\x00\x3c\x00\x00\x00", GH_ERR_TRAILING_BYTES),
    /* CONNACK */
    BAD("connack reserved ack flag", "\x20\x02\x02\x00", GH_ERR_MALFORMED),
    BAD("connack code 6", "\x20\x02\x00\x06", GH_ERR_MALFORMED),
    BAD("connack code 0x80", "\x20\x02\x00\x80", GH_ERR_MALFORMED),
    BAD("connack session present with refusal", "\x20\x02\x01\x05", GH_ERR_MALFORMED),
    BAD("connack short", "\x20\x01\x00", GH_ERR_TRUNCATED),
    BAD("connack long", "\x20\x03\x00\x00\x00", GH_ERR_TRAILING_BYTES),
    /* PUBLISH */
    BAD("publish topic plus",
        "\x30\x05\x00\x03"
        "a/+",
        GH_ERR_BAD_TOPIC),
    BAD("publish topic hash", "\x30\x03\x00\x01#", GH_ERR_BAD_TOPIC),
    BAD("publish topic wildcard inside level",
        "\x30\x05\x00\x03"
        "a+b",
        GH_ERR_BAD_TOPIC),
    BAD("publish topic empty", "\x30\x02\x00\x00", GH_ERR_BAD_TOPIC),
    BAD("publish topic bad utf8", "\x30\x04\x00\x02\xc0\xaf", GH_ERR_BAD_UTF8),
    BAD("publish topic nul",
        "\x30\x05\x00\x03"
        "a\x00"
        "b",
        GH_ERR_BAD_UTF8),
    BAD("publish topic longer than body",
        "\x30\x04\x00\x05"
        "ab",
        GH_ERR_TRUNCATED),
    BAD("publish qos1 packet id 0",
        "\x32\x07\x00\x03"
        "a/b\x00\x00",
        GH_ERR_BAD_PACKET_ID),
    BAD("publish qos2 packet id 0",
        "\x34\x07\x00\x03"
        "a/b\x00\x00",
        GH_ERR_BAD_PACKET_ID),
    BAD("publish qos1 packet id missing",
        "\x32\x05\x00\x03"
        "a/b",
        GH_ERR_TRUNCATED),
    BAD("publish qos1 packet id half",
        "\x32\x06\x00\x03"
        "a/b\x00",
        GH_ERR_TRUNCATED),
    BAD("publish empty body", "\x30\x00", GH_ERR_TRUNCATED),
    /* acks */
    BAD("puback id 0", "\x40\x02\x00\x00", GH_ERR_BAD_PACKET_ID),
    BAD("pubrec id 0", "\x50\x02\x00\x00", GH_ERR_BAD_PACKET_ID),
    BAD("pubrel id 0", "\x62\x02\x00\x00", GH_ERR_BAD_PACKET_ID),
    BAD("pubcomp id 0", "\x70\x02\x00\x00", GH_ERR_BAD_PACKET_ID),
    BAD("unsuback id 0", "\xb0\x02\x00\x00", GH_ERR_BAD_PACKET_ID),
    BAD("puback short", "\x40\x01\x00", GH_ERR_TRUNCATED),
    BAD("puback empty", "\x40\x00", GH_ERR_TRUNCATED),
    BAD("puback long", "\x40\x03\x00\x01\x00", GH_ERR_TRAILING_BYTES),
    BAD("unsuback long", "\xb0\x03\x00\x01\x00", GH_ERR_TRAILING_BYTES),
    /* SUBSCRIBE */
    BAD("subscribe no filters", "\x82\x02\x00\x01", GH_ERR_MALFORMED),
    BAD("subscribe id 0", "\x82\x06\x00\x00\x00\x01#\x00", GH_ERR_BAD_PACKET_ID),
    BAD("subscribe no id", "\x82\x00", GH_ERR_TRUNCATED),
    BAD("subscribe qos 3", "\x82\x06\x00\x01\x00\x01#\x03", GH_ERR_BAD_QOS),
    BAD("subscribe reserved option bits", "\x82\x06\x00\x01\x00\x01#\x04", GH_ERR_MALFORMED),
    BAD("subscribe reserved bits and qos 3", "\x82\x06\x00\x01\x00\x01#\xff", GH_ERR_MALFORMED),
    BAD("subscribe qos missing", "\x82\x05\x00\x01\x00\x01#", GH_ERR_TRUNCATED),
    BAD("subscribe filter hash not last", "\x82\x08\x00\x01\x00\x03#/a\x00", GH_ERR_BAD_TOPIC),
    BAD("subscribe filter hash inside level",
        "\x82\x09\x00\x01\x00\x04"
        "a/b#\x00",
        GH_ERR_BAD_TOPIC),
    BAD("subscribe filter plus inside level",
        "\x82\x07\x00\x01\x00\x02"
        "a+\x00",
        GH_ERR_BAD_TOPIC),
    BAD("subscribe filter empty", "\x82\x05\x00\x01\x00\x00\x00", GH_ERR_BAD_TOPIC),
    BAD("subscribe filter bad utf8", "\x82\x06\x00\x01\x00\x01\x80\x00", GH_ERR_BAD_UTF8),
    BAD("subscribe second entry bad", "\x82\x0a\x00\x01\x00\x01#\x00\x00\x01+\x03", GH_ERR_BAD_QOS),
    /* SUBACK */
    BAD("suback code 3", "\x90\x03\x00\x01\x03", GH_ERR_MALFORMED),
    BAD("suback code 0x81", "\x90\x03\x00\x01\x81", GH_ERR_MALFORMED),
    BAD("suback no codes", "\x90\x02\x00\x01", GH_ERR_MALFORMED),
    BAD("suback id 0", "\x90\x03\x00\x00\x00", GH_ERR_BAD_PACKET_ID),
    /* UNSUBSCRIBE */
    BAD("unsubscribe no filters", "\xa2\x02\x00\x01", GH_ERR_MALFORMED),
    BAD("unsubscribe id 0", "\xa2\x05\x00\x00\x00\x01#", GH_ERR_BAD_PACKET_ID),
    BAD("unsubscribe bad filter", "\xa2\x06\x00\x01\x00\x02#a", GH_ERR_BAD_TOPIC),
    BAD("unsubscribe filter cut", "\xa2\x05\x00\x01\x00\x02#", GH_ERR_TRUNCATED),
};

#define N_BAD (sizeof bad_vectors / sizeof bad_vectors[0])

static void test_bad_vectors_decode(void **state)
{
    struct gh_mqtt_ctx ctx = default_ctx();
    for (size_t i = 0; i < N_BAD; i++) {
        const struct bad *b = &bad_vectors[i];
        struct gh_mqtt_packet got = {.type = GH_MQTT_PINGRESP};
        gh_err rc = gh_mqtt_decode(&ctx, (struct gh_slice){b->bytes, b->len}, &got);
        if (rc != b->err)
            fail_msg("%s: got %s, want %s", b->name, gh_err_name(rc), gh_err_name(b->err));
        assert_int_equal(got.type, GH_MQTT_PINGRESP); /* output untouched */
    }
}

/* Header-level errors stop the framer too; all others frame fine (the
 * decoder then refuses them). */
static void test_bad_vectors_framer(void **state)
{
    for (size_t i = 0; i < N_BAD; i++) {
        const struct bad *b = &bad_vectors[i];
        struct gh_mqtt_framer f;
        framer_for_type(&f, b->bytes[0] >> 4);
        size_t used = 77;
        enum gh_mqtt_frame_status st = GH_MQTT_FRAME_BLOCKED;
        struct gh_mqtt_frame fr;
        gh_err rc = gh_mqtt_framer_feed(&f, b->bytes, b->len, &used, &st, &fr);
        if (b->header_level) {
            if (rc != b->err)
                fail_msg("%s: framer got %s, want %s", b->name, gh_err_name(rc),
                         gh_err_name(b->err));
            assert_int_equal(used, 77);
            assert_int_equal(st, GH_MQTT_FRAME_BLOCKED);
        } else {
            if (rc != GH_OK) fail_msg("%s: framer got %s", b->name, gh_err_name(rc));
            /* Truncated frames wait for more; the others are complete. */
            assert_true(st == GH_MQTT_FRAME_READY || st == GH_MQTT_FRAME_NEED_MORE);
        }
    }
}

/* Build "SUBSCRIBE id 1 with n filters '#' QoS 0" (or UNSUBSCRIBE, or SUBACK)
 * by hand into buf; returns its length. */
static size_t build_multi(uint8_t *buf, unsigned type, size_t n)
{
    size_t per = type == GH_MQTT_SUBSCRIBE ? 4 : type == GH_MQTT_UNSUBSCRIBE ? 3 : 1;
    size_t rem = 2 + n * per, k = 0;
    assert_true(rem < 128);
    buf[k++] = (uint8_t)(type << 4 | (type == GH_MQTT_SUBACK ? 0 : 2));
    buf[k++] = (uint8_t)rem;
    buf[k++] = 0;
    buf[k++] = 1;
    for (size_t i = 0; i < n; i++) {
        if (type != GH_MQTT_SUBACK) {
            buf[k++] = 0;
            buf[k++] = 1;
            buf[k++] = '#';
        }
        if (type != GH_MQTT_UNSUBSCRIBE) buf[k++] = 0;
    }
    return k;
}

static void test_subscription_count_limit(void **state)
{
    static const unsigned types[] = {GH_MQTT_SUBSCRIBE, GH_MQTT_UNSUBSCRIBE, GH_MQTT_SUBACK};
    uint8_t buf[128];
    struct gh_mqtt_packet got;
    for (size_t t = 0; t < 3; t++) {
        struct gh_mqtt_ctx ctx = default_ctx();
        size_t n = build_multi(buf, types[t], GH_MQTT_MAX_SUBSCRIPTIONS);
        assert_int_equal(gh_mqtt_decode(&ctx, (struct gh_slice){buf, n}, &got), GH_OK);
        n = build_multi(buf, types[t], GH_MQTT_MAX_SUBSCRIPTIONS + 1);
        assert_int_equal(gh_mqtt_decode(&ctx, (struct gh_slice){buf, n}, &got), GH_ERR_TOO_MANY);

        struct gh_mqtt_limits l;
        gh_mqtt_limits_default(&l);
        l.max_subscriptions_per_packet = 2;
        assert_int_equal(gh_mqtt_ctx_init(&ctx, &l), GH_OK);
        n = build_multi(buf, types[t], 2);
        assert_int_equal(gh_mqtt_decode(&ctx, (struct gh_slice){buf, n}, &got), GH_OK);
        n = build_multi(buf, types[t], 3);
        assert_int_equal(gh_mqtt_decode(&ctx, (struct gh_slice){buf, n}, &got), GH_ERR_TOO_MANY);

        /* A limit raised past the array after init is still capped by it. */
        ctx.limits.max_subscriptions_per_packet = 1000;
        n = build_multi(buf, types[t], GH_MQTT_MAX_SUBSCRIPTIONS + 1);
        assert_int_equal(gh_mqtt_decode(&ctx, (struct gh_slice){buf, n}, &got), GH_ERR_TOO_MANY);
    }
}

static void test_topic_length_limit(void **state)
{
    struct gh_mqtt_limits l;
    gh_mqtt_limits_default(&l);
    l.max_topic_len = 3;
    struct gh_mqtt_ctx ctx;
    assert_int_equal(gh_mqtt_ctx_init(&ctx, &l), GH_OK);
    struct gh_mqtt_packet got;
    assert_int_equal(gh_mqtt_decode(&ctx,
                                    (struct gh_slice){BYTES("\x30\x05\x00\x03"
                                                            "a/b")},
                                    &got),
                     GH_OK);
    assert_int_equal(gh_mqtt_decode(&ctx,
                                    (struct gh_slice){BYTES("\x30\x06\x00\x04"
                                                            "a/bc")},
                                    &got),
                     GH_ERR_TOO_LARGE);
    assert_int_equal(gh_mqtt_decode(&ctx,
                                    (struct gh_slice){BYTES("\x82\x09\x00\x01\x00\x04"
                                                            "a/b#\x00")},
                                    &got),
                     GH_ERR_TOO_LARGE);
    assert_int_equal(gh_mqtt_decode(&ctx,
                                    (struct gh_slice){BYTES("\xa2\x08\x00\x01\x00\x04"
                                                            "a/+/")},
                                    &got),
                     GH_ERR_TOO_LARGE);
    assert_int_equal(gh_mqtt_decode(&ctx,
                                    (struct gh_slice){BYTES("\x10\x14" CON "\x06\x00\x3c\x00\x00"
                                                            "\x00\x04"
                                                            "abcd\x00\x00")},
                                    &got),
                     GH_ERR_TOO_LARGE);
}

static void test_packet_size_limit(void **state)
{
    struct gh_mqtt_limits l;
    gh_mqtt_limits_default(&l);
    l.max_connect_size = GH_MQTT_MIN_PACKET_LIMIT;
    l.max_packet_size = 16;
    struct gh_mqtt_ctx ctx;
    assert_int_equal(gh_mqtt_ctx_init(&ctx, &l), GH_OK);
    struct gh_mqtt_packet got;
    /* 16 bytes: at the limit. */
    assert_int_equal(gh_mqtt_decode(&ctx,
                                    (struct gh_slice){BYTES("\x30\x0e\x00\x03"
                                                            "a/b"
                                                            "123456789")},
                                    &got),
                     GH_OK);
    /* 17 bytes: over it; also when only the header has arrived. */
    assert_int_equal(gh_mqtt_decode(&ctx,
                                    (struct gh_slice){BYTES("\x30\x0f\x00\x03"
                                                            "a/b"
                                                            "1234567890")},
                                    &got),
                     GH_ERR_TOO_LARGE);
    assert_int_equal(gh_mqtt_decode(&ctx, (struct gh_slice){BYTES("\x30\x0f")}, &got),
                     GH_ERR_TOO_LARGE);
}

static void test_ctx_level(void **state)
{
    struct gh_mqtt_ctx ctx = default_ctx();
    assert_int_equal(ctx.protocol_level, GH_MQTT_LEVEL_311);
    ctx.protocol_level = 5;
    struct gh_mqtt_packet got;
    assert_int_equal(gh_mqtt_decode(&ctx, (struct gh_slice){BYTES("\xc0\x00")}, &got), GH_ERR_ARG);
    /* CONNECT declares its own level. */
    assert_int_equal(gh_mqtt_decode(&ctx, (struct gh_slice){BYTES(CONNECT_MIN)}, &got), GH_OK);
    assert_int_equal(got.u.connect.protocol_level, 4);
}

static void test_limits_check(void **state)
{
    struct gh_mqtt_limits d, l;
    gh_mqtt_limits_default(&d);
    assert_int_equal(d.max_packet_size, 327680);
    assert_int_equal(d.max_connect_size, 8192);
    assert_int_equal(d.max_topic_len, 65535);
    assert_int_equal(d.max_subscriptions_per_packet, 16);
    assert_int_equal(gh_mqtt_limits_check(&d), GH_OK);

    struct gh_mqtt_ctx ctx = {.protocol_level = 99};
    l = d, l.max_connect_size = GH_MQTT_MIN_PACKET_LIMIT - 1;
    assert_int_equal(gh_mqtt_ctx_init(&ctx, &l), GH_ERR_ARG);
    assert_int_equal(ctx.protocol_level, 99); /* untouched on failure */
    l = d, l.max_connect_size = d.max_packet_size + 1;
    assert_int_equal(gh_mqtt_limits_check(&l), GH_ERR_ARG);
    l = d, l.max_packet_size = GH_MQTT_MAX_PACKET_LEN + 1;
    assert_int_equal(gh_mqtt_limits_check(&l), GH_ERR_ARG);
    l = d, l.max_packet_size = GH_MQTT_MAX_PACKET_LEN;
    assert_int_equal(gh_mqtt_limits_check(&l), GH_OK);
    l = d, l.max_topic_len = 0;
    assert_int_equal(gh_mqtt_limits_check(&l), GH_ERR_ARG);
    l = d, l.max_topic_len = 65536;
    assert_int_equal(gh_mqtt_limits_check(&l), GH_ERR_ARG);
    l = d, l.max_subscriptions_per_packet = 0;
    assert_int_equal(gh_mqtt_limits_check(&l), GH_ERR_ARG);
    l = d, l.max_subscriptions_per_packet = GH_MQTT_MAX_SUBSCRIPTIONS + 1;
    assert_int_equal(gh_mqtt_limits_check(&l), GH_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_vectors_decode),
        cmocka_unit_test(test_bad_vectors_framer),
        cmocka_unit_test(test_subscription_count_limit),
        cmocka_unit_test(test_topic_length_limit),
        cmocka_unit_test(test_packet_size_limit),
        cmocka_unit_test(test_ctx_level),
        cmocka_unit_test(test_limits_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
