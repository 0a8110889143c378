/* Framer rules: pre-auth limits, first-packet rule, phases, size limits,
 * sticky errors. (Byte-at-a-time framing of every vector is in test_codec.) */
#include "vectors.h"

struct fed {
    gh_err rc;
    size_t used;
    enum gh_mqtt_frame_status st;
    struct gh_mqtt_frame fr;
};

static struct fed feed(struct gh_mqtt_framer *f, const uint8_t *p, size_t n)
{
    struct fed r = {.used = 999, .st = (enum gh_mqtt_frame_status) - 1};
    r.rc = gh_mqtt_framer_feed(f, p, n, &r.used, &r.st, &r.fr);
    return r;
}

static void test_init(void **state)
{
    struct gh_mqtt_framer f;
    assert_int_equal(gh_mqtt_framer_init(&f, (enum gh_mqtt_role)7, NULL), GH_ERR_ARG);
    struct gh_mqtt_limits l;
    gh_mqtt_limits_default(&l);
    l.max_topic_len = 0;
    assert_int_equal(gh_mqtt_framer_init(&f, GH_MQTT_ROLE_SERVER, &l), GH_ERR_ARG);
    assert_int_equal(gh_mqtt_framer_init(&f, GH_MQTT_ROLE_SERVER, NULL), GH_OK);
    assert_int_equal(gh_mqtt_framer_phase(&f), GH_MQTT_PHASE_CONNECTING);
    assert_int_equal(gh_mqtt_framer_expected_len(&f), 0);
}

/* Before authentication only CONNECT is accepted, decided on its first byte. */
static void test_first_packet_must_be_connect(void **state)
{
    static const uint8_t firsts[] = {0x20, 0x30, 0x40, 0x50, 0x62, 0x70, 0x82,
                                     0x90, 0xa2, 0xb0, 0xc0, 0xd0, 0xe0};
    for (size_t i = 0; i < sizeof firsts; i++) {
        struct gh_mqtt_framer f;
        assert_int_equal(gh_mqtt_framer_init(&f, GH_MQTT_ROLE_SERVER, NULL), GH_OK);
        struct fed r = feed(&f, &firsts[i], 1);
        assert_int_equal(r.rc, GH_ERR_BAD_PHASE);
        assert_int_equal(r.used, 999); /* outputs untouched */
    }
    /* A client's first inbound packet must be CONNACK. */
    static const uint8_t client_firsts[] = {0x10, 0x30, 0x90, 0xd0};
    for (size_t i = 0; i < sizeof client_firsts; i++) {
        struct gh_mqtt_framer f;
        assert_int_equal(gh_mqtt_framer_init(&f, GH_MQTT_ROLE_CLIENT, NULL), GH_OK);
        assert_int_equal(feed(&f, &client_firsts[i], 1).rc, GH_ERR_BAD_PHASE);
    }
}

/* A CONNECT over max_connect_size is refused once its length is known,
 * before any body byte; one at the limit passes. */
static void test_preauth_connect_size(void **state)
{
    struct gh_mqtt_framer f;
    /* 3 + 8189 = 8192: exactly the default limit. */
    assert_int_equal(gh_mqtt_framer_init(&f, GH_MQTT_ROLE_SERVER, NULL), GH_OK);
    struct fed r = feed(&f, BYTES("\x10\xfd\x3f"));
    assert_int_equal(r.rc, GH_OK);
    assert_int_equal(r.st, GH_MQTT_FRAME_NEED_MORE);
    assert_int_equal(gh_mqtt_framer_expected_len(&f), 8192);

    /* 3 + 8190 = 8193. */
    assert_int_equal(gh_mqtt_framer_init(&f, GH_MQTT_ROLE_SERVER, NULL), GH_OK);
    assert_int_equal(feed(&f, BYTES("\x10\xfe")).st, GH_MQTT_FRAME_NEED_MORE);
    assert_int_equal(feed(&f, BYTES("\x3f")).rc, GH_ERR_TOO_LARGE);

    /* The largest varint: refused as soon as it completes. */
    assert_int_equal(gh_mqtt_framer_init(&f, GH_MQTT_ROLE_SERVER, NULL), GH_OK);
    assert_int_equal(feed(&f, BYTES("\x10\xff\xff\xff\x7f")).rc, GH_ERR_TOO_LARGE);

    /* A custom, smaller pre-auth limit. */
    struct gh_mqtt_limits l;
    gh_mqtt_limits_default(&l);
    l.max_connect_size = 20;
    assert_int_equal(gh_mqtt_framer_init(&f, GH_MQTT_ROLE_SERVER, &l), GH_OK);
    assert_int_equal(feed(&f, BYTES("\x10\x13")).rc, GH_ERR_TOO_LARGE);
    assert_int_equal(gh_mqtt_framer_init(&f, GH_MQTT_ROLE_SERVER, &l), GH_OK);
    assert_int_equal(feed(&f, BYTES("\x10\x12")).rc, GH_OK);
}

/* Once connected, max_packet_size applies (and not the CONNECT limit). */
static void test_connected_packet_size(void **state)
{
    struct gh_mqtt_limits l;
    gh_mqtt_limits_default(&l);
    l.max_connect_size = 20;
    l.max_packet_size = 100;
    struct gh_mqtt_framer f;
    framer_connected(&f, GH_MQTT_ROLE_SERVER, &l);
    struct fed r = feed(&f, BYTES("\x30\x62")); /* 2 + 98 = 100 */
    assert_int_equal(r.rc, GH_OK);
    assert_int_equal(gh_mqtt_framer_expected_len(&f), 100);

    framer_connected(&f, GH_MQTT_ROLE_SERVER, &l);
    assert_int_equal(feed(&f, BYTES("\x30\x63")).rc, GH_ERR_TOO_LARGE); /* 101 */

    /* Default limit: 320 KiB. 327680 = 4 + 327676 = 0xfc 0xff 0x13. */
    framer_connected(&f, GH_MQTT_ROLE_CLIENT, NULL);
    assert_int_equal(feed(&f, BYTES("\x30\xfc\xff\x13")).rc, GH_OK);
    framer_connected(&f, GH_MQTT_ROLE_CLIENT, NULL);
    assert_int_equal(feed(&f, BYTES("\x30\xfd\xff\x13")).rc, GH_ERR_TOO_LARGE);
}

/* After the first packet the framer blocks until accepted. */
static void test_blocked_until_accept(void **state)
{
    struct gh_mqtt_framer f;
    assert_int_equal(gh_mqtt_framer_init(&f, GH_MQTT_ROLE_SERVER, NULL), GH_OK);
    assert_int_equal(gh_mqtt_framer_accept(&f), GH_ERR_ARG); /* nothing to accept yet */

    /* CONNECT followed at once by a pipelined PINGREQ. */
    static const uint8_t two[] = CONNECT_MIN "\xc0\x00";
    struct fed r = feed(&f, two, sizeof two - 1);
    assert_int_equal(r.rc, GH_OK);
    assert_int_equal(r.st, GH_MQTT_FRAME_READY);
    assert_int_equal(r.used, 14);
    assert_int_equal(r.fr.type, GH_MQTT_CONNECT);
    assert_int_equal(r.fr.header_len, 2);

    r = feed(&f, two + 14, 2);
    assert_int_equal(r.rc, GH_OK);
    assert_int_equal(r.st, GH_MQTT_FRAME_BLOCKED);
    assert_int_equal(r.used, 0);
    assert_int_equal(gh_mqtt_framer_phase(&f), GH_MQTT_PHASE_CONNECTING);

    assert_int_equal(gh_mqtt_framer_accept(&f), GH_OK);
    assert_int_equal(gh_mqtt_framer_phase(&f), GH_MQTT_PHASE_CONNECTED);
    assert_int_equal(gh_mqtt_framer_accept(&f), GH_ERR_ARG); /* only once */

    r = feed(&f, two + 14, 2);
    assert_int_equal(r.st, GH_MQTT_FRAME_READY);
    assert_int_equal(r.fr.type, GH_MQTT_PINGREQ);
    assert_int_equal(r.used, 2);
}

static void test_phase_violations_when_connected(void **state)
{
    /* Server side: nothing only a server sends, and no second CONNECT. */
    static const uint8_t to_server[] = {0x10, 0x20, 0x90, 0xb0, 0xd0};
    for (size_t i = 0; i < sizeof to_server; i++) {
        struct gh_mqtt_framer f;
        framer_connected(&f, GH_MQTT_ROLE_SERVER, NULL);
        assert_int_equal(feed(&f, &to_server[i], 1).rc, GH_ERR_BAD_PHASE);
    }
    /* Client side: nothing only a client sends, no second CONNACK. */
    static const uint8_t to_client[] = {0x10, 0x20, 0x82, 0xa2, 0xc0, 0xe0};
    for (size_t i = 0; i < sizeof to_client; i++) {
        struct gh_mqtt_framer f;
        framer_connected(&f, GH_MQTT_ROLE_CLIENT, NULL);
        assert_int_equal(feed(&f, &to_client[i], 1).rc, GH_ERR_BAD_PHASE);
    }
}

static void test_disconnect_ends_stream(void **state)
{
    struct gh_mqtt_framer f;
    framer_connected(&f, GH_MQTT_ROLE_SERVER, NULL);
    static const uint8_t bytes[] = "\xe0\x00\xc0\x00";
    struct fed r = feed(&f, bytes, 4);
    assert_int_equal(r.st, GH_MQTT_FRAME_READY);
    assert_int_equal(r.fr.type, GH_MQTT_DISCONNECT);
    assert_int_equal(r.used, 2);
    assert_int_equal(gh_mqtt_framer_phase(&f), GH_MQTT_PHASE_DISCONNECTED);
    r = feed(&f, bytes + 2, 0);
    assert_int_equal(r.rc, GH_OK);
    assert_int_equal(r.st, GH_MQTT_FRAME_NEED_MORE);
    assert_int_equal(feed(&f, bytes + 2, 2).rc, GH_ERR_BAD_PHASE);
}

static void test_errors_are_sticky(void **state)
{
    struct gh_mqtt_framer f;
    framer_connected(&f, GH_MQTT_ROLE_SERVER, NULL);
    assert_int_equal(feed(&f, BYTES("\xc0\xff\xff\xff\xff")).rc, GH_ERR_BAD_VARINT);
    assert_int_equal(feed(&f, BYTES("\xc0\x00")).rc, GH_ERR_BAD_VARINT);
    assert_int_equal(feed(&f, NULL, 0).rc, GH_ERR_BAD_VARINT);
    assert_int_equal(gh_mqtt_framer_accept(&f), GH_ERR_ARG);

    /* Header-check errors from the framer. */
    framer_connected(&f, GH_MQTT_ROLE_SERVER, NULL);
    assert_int_equal(feed(&f, BYTES("\x00")).rc, GH_ERR_BAD_PACKET_TYPE);
    assert_int_equal(feed(&f, BYTES("\xc0\x00")).rc, GH_ERR_BAD_PACKET_TYPE);
    framer_connected(&f, GH_MQTT_ROLE_SERVER, NULL);
    assert_int_equal(feed(&f, BYTES("\x36")).rc, GH_ERR_BAD_QOS);
    framer_connected(&f, GH_MQTT_ROLE_SERVER, NULL);
    assert_int_equal(feed(&f, BYTES("\x80")).rc, GH_ERR_BAD_FLAGS);
}

static void test_arguments(void **state)
{
    struct gh_mqtt_framer f;
    assert_int_equal(gh_mqtt_framer_init(&f, GH_MQTT_ROLE_SERVER, NULL), GH_OK);
    /* NULL data with bytes: refused, and not sticky. */
    assert_int_equal(feed(&f, NULL, 3).rc, GH_ERR_ARG);
    struct fed r = feed(&f, NULL, 0);
    assert_int_equal(r.rc, GH_OK);
    assert_int_equal(r.used, 0);
    assert_int_equal(r.st, GH_MQTT_FRAME_NEED_MORE);
    feed_ready(&f, BYTES(CONNECT_MIN));
}

/* A header split after the type byte and inside the varint. */
static void test_split_header(void **state)
{
    struct gh_mqtt_framer f;
    framer_connected(&f, GH_MQTT_ROLE_CLIENT, NULL);
    /* PUBLISH, remaining length 200 = 0xc8 0x01 */
    assert_int_equal(feed(&f, BYTES("\x30")).st, GH_MQTT_FRAME_NEED_MORE);
    assert_int_equal(gh_mqtt_framer_expected_len(&f), 0);
    assert_int_equal(feed(&f, BYTES("\xc8")).st, GH_MQTT_FRAME_NEED_MORE);
    assert_int_equal(gh_mqtt_framer_expected_len(&f), 0);
    struct fed r = feed(&f, BYTES("\x01\x00\x01t"));
    assert_int_equal(r.st, GH_MQTT_FRAME_NEED_MORE);
    assert_int_equal(r.used, 4);
    assert_int_equal(gh_mqtt_framer_expected_len(&f), 203);
    uint8_t body[300] = {0};
    r = feed(&f, body, sizeof body);
    assert_int_equal(r.st, GH_MQTT_FRAME_READY);
    assert_int_equal(r.used, 197);
    assert_int_equal(r.fr.header_len, 3);
    assert_int_equal(r.fr.total_len, 203);
    assert_int_equal(r.fr.flags, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_first_packet_must_be_connect),
        cmocka_unit_test(test_preauth_connect_size),
        cmocka_unit_test(test_connected_packet_size),
        cmocka_unit_test(test_blocked_until_accept),
        cmocka_unit_test(test_phase_violations_when_connected),
        cmocka_unit_test(test_disconnect_ends_stream),
        cmocka_unit_test(test_errors_are_sticky),
        cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_split_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
