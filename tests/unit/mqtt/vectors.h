/* Shared MQTT test vectors and helpers (included by the mqtt unit tests).
 * Wire bytes are written out by hand from the MQTT 3.1.1 standard, never
 * produced by the encoder under test. */
#ifndef GH_TEST_MQTT_VECTORS_H
#define GH_TEST_MQTT_VECTORS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "mqtt/framer.h"
#include "mqtt/mqtt.h"
#include "mqtt/phase.h"

#define SL(lit)                                                                                    \
    {                                                                                              \
        (const uint8_t *)(lit), sizeof(lit) - 1                                                    \
    }
#define BYTES(lit) (const uint8_t *)(lit), sizeof(lit) - 1

struct vec {
    const char *name;
    const uint8_t *bytes;
    size_t len;
    struct gh_mqtt_packet pkt;
};

#define VEC(name_, lit, ...)                                                                       \
    {                                                                                              \
        name_, BYTES(lit), __VA_ARGS__                                                             \
    }

/* A minimal CONNECT (clean session, keep alive 60, empty client id) and a
 * CONNACK 0x00: the handshake used to bring framers to CONNECTED. */
#define CONNECT_MIN "\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00"
#define CONNACK_OK "\x20\x02\x00\x00"

static const struct vec valid_vectors[] = {
    VEC("connect minimal", CONNECT_MIN,
        {.type = GH_MQTT_CONNECT,
         .u.connect = {.protocol_level = 4, .clean_session = true, .keep_alive = 60}}),
    VEC("connect iothub sas",
        "\x10\x94\x01"
        "\x00\x04"
        "MQTT"
        "\x04\xc0\x00\xb4"
        "\x00\x04"
        "dev1"
        "\x00\x2d"
        "hub.example.test/dev1/?api-version=2021-04-12"
        "\x00\x53"
        "SharedAccessSignature sr=hub.example.test%2Fdevices%2Fdev1&sig=abc%3D&se=1700000000",
        {.type = GH_MQTT_CONNECT,
         .u.connect = {.protocol_level = 4,
                       .keep_alive = 180,
                       .client_id = SL("dev1"),
                       .has_username = true,
                       .username = SL("hub.example.test/dev1/?api-version=2021-04-12"),
                       .has_password = true,
                       .password = SL("SharedAccessSignature sr=hub.example.test%2Fdevices%2F"
                                      "dev1&sig=abc%3D&se=1700000000")}}),
    VEC("connect will",
        "\x10\x37"
        "\x00\x04"
        "MQTT"
        "\x04\xae\x00\x3c"
        "\x00\x04"
        "dev1"
        "\x00\x1d"
        "devices/dev1/messages/events/"
        "\x00\x03"
        "bye"
        "\x00\x01"
        "u",
        {.type = GH_MQTT_CONNECT,
         .u.connect = {.protocol_level = 4,
                       .clean_session = true,
                       .keep_alive = 60,
                       .client_id = SL("dev1"),
                       .will = true,
                       .will_qos = 1,
                       .will_retain = true,
                       .will_topic = SL("devices/dev1/messages/events/"),
                       .will_message = SL("bye"),
                       .has_username = true,
                       .username = SL("u")}}),
    VEC("connect will qos2 empty message, empty password",
        "\x10\x19"
        "\x00\x04"
        "MQTT"
        "\x04\xd4\xff\xff"
        "\x00\x01"
        "c"
        "\x00\x01"
        "w"
        "\x00\x00"
        "\x00\x03"
        "usr"
        "\x00\x00",
        {.type = GH_MQTT_CONNECT,
         .u.connect = {.protocol_level = 4,
                       .keep_alive = 65535,
                       .client_id = SL("c"),
                       .will = true,
                       .will_qos = 2,
                       .will_topic = SL("w"),
                       .has_username = true,
                       .username = SL("usr"),
                       .has_password = true}}),
    VEC("connack accepted, session present", "\x20\x02\x01\x00",
        {.type = GH_MQTT_CONNACK, .u.connack = {.session_present = true, .return_code = 0}}),
    VEC("connack bad protocol level", "\x20\x02\x00\x01",
        {.type = GH_MQTT_CONNACK, .u.connack = {.return_code = 1}}),
    VEC("connack not authorized", "\x20\x02\x00\x05",
        {.type = GH_MQTT_CONNACK, .u.connack = {.return_code = 5}}),
    VEC("publish qos0",
        "\x30\x0a"
        "\x00\x03"
        "a/b"
        "hello",
        {.type = GH_MQTT_PUBLISH, .u.publish = {.topic = SL("a/b"), .payload = SL("hello")}}),
    VEC("publish qos1 dup retain telemetry",
        "\x3b\x3c"
        "\x00\x36"
        "devices/dev1/messages/events/%24.ct=application%2Fjson"
        "\x00\x2a"
        "{}",
        {.type = GH_MQTT_PUBLISH,
         .u.publish = {.dup = true,
                       .qos = 1,
                       .retain = true,
                       .topic = SL("devices/dev1/messages/events/%24.ct=application%2Fjson"),
                       .packet_id = 42,
                       .payload = SL("{}")}}),
    VEC("publish qos2 empty payload",
        "\x34\x07"
        "\x00\x03"
        "a/b"
        "\x12\x34",
        {.type = GH_MQTT_PUBLISH,
         .u.publish = {.qos = 2, .topic = SL("a/b"), .packet_id = 0x1234}}),
    VEC("publish twin get",
        "\x30\x1a"
        "\x00\x18"
        "$iothub/twin/GET/?$rid=1",
        {.type = GH_MQTT_PUBLISH, .u.publish = {.topic = SL("$iothub/twin/GET/?$rid=1")}}),
    VEC("publish binary payload, utf8 topic",
        "\x30\x09"
        "\x00\x04"
        "\xc3\xa9/x"
        "\x00\xff\x80",
        {.type = GH_MQTT_PUBLISH,
         .u.publish = {.topic = SL("\xc3\xa9/x"), .payload = SL("\x00\xff\x80")}}),
    VEC("puback", "\x40\x02\x00\x01", {.type = GH_MQTT_PUBACK, .u.puback = {1}}),
    VEC("pubrec", "\x50\x02\x12\x34", {.type = GH_MQTT_PUBREC, .u.pubrec = {0x1234}}),
    VEC("pubrel", "\x62\x02\xff\xff", {.type = GH_MQTT_PUBREL, .u.pubrel = {0xffff}}),
    VEC("pubcomp", "\x70\x02\x00\x07", {.type = GH_MQTT_PUBCOMP, .u.pubcomp = {7}}),
    VEC("subscribe azure c batch of 5",
        "\x82\xa3\x01"
        "\x00\x02"
        "\x00\x23"
        "devices/dev1/messages/devicebound/#"
        "\x01"
        "\x00\x12"
        "$iothub/twin/res/#"
        "\x00"
        "\x00\x27"
        "$iothub/twin/PATCH/properties/desired/#"
        "\x00"
        "\x00\x16"
        "$iothub/methods/POST/#"
        "\x00"
        "\x00\x20"
        "devices/dev1/modules/m1/inputs/#"
        "\x01",
        {.type = GH_MQTT_SUBSCRIBE,
         .u.subscribe = {.packet_id = 2,
                         .count = 5,
                         .subs = {{SL("devices/dev1/messages/devicebound/#"), 1},
                                  {SL("$iothub/twin/res/#"), 0},
                                  {SL("$iothub/twin/PATCH/properties/desired/#"), 0},
                                  {SL("$iothub/methods/POST/#"), 0},
                                  {SL("devices/dev1/modules/m1/inputs/#"), 1}}}}),
    VEC("subscribe plus wildcard qos2",
        "\x82\x25"
        "\x00\x09"
        "\x00\x20"
        "devices/+/messages/devicebound/#"
        "\x02",
        {.type = GH_MQTT_SUBSCRIBE,
         .u.subscribe = {.packet_id = 9,
                         .count = 1,
                         .subs = {{SL("devices/+/messages/devicebound/#"), 2}}}}),
    VEC("suback", "\x90\x07\x00\x02\x01\x00\x00\x80\x02",
        {.type = GH_MQTT_SUBACK,
         .u.suback = {.packet_id = 2, .count = 5, .return_codes = {1, 0, 0, 0x80, 2}}}),
    VEC("unsubscribe",
        "\xa2\x0c"
        "\x00\x05"
        "\x00\x03"
        "a/#"
        "\x00\x03"
        "+/b",
        {.type = GH_MQTT_UNSUBSCRIBE,
         .u.unsubscribe = {.packet_id = 5, .count = 2, .filters = {SL("a/#"), SL("+/b")}}}),
    VEC("unsuback", "\xb0\x02\x00\x05", {.type = GH_MQTT_UNSUBACK, .u.unsuback = {5}}),
    VEC("pingreq", "\xc0\x00", {.type = GH_MQTT_PINGREQ}),
    VEC("pingresp", "\xd0\x00", {.type = GH_MQTT_PINGRESP}),
    VEC("disconnect", "\xe0\x00", {.type = GH_MQTT_DISCONNECT}),
};

#define N_VALID (sizeof valid_vectors / sizeof valid_vectors[0])

/* The end that receives packets of this type: a server for everything a
 * client may send, else a client. */
static inline enum gh_mqtt_role receiver_of(unsigned type)
{
    if (type == GH_MQTT_CONNECT ||
        gh_mqtt_packet_allowed(GH_MQTT_ROLE_SERVER, GH_MQTT_PHASE_CONNECTED, GH_MQTT_INBOUND, type))
        return GH_MQTT_ROLE_SERVER;
    return GH_MQTT_ROLE_CLIENT;
}

/* Feed a whole packet and expect it to come out as one READY frame. */
static inline void feed_ready(struct gh_mqtt_framer *f, const uint8_t *p, size_t n)
{
    size_t used = 99;
    enum gh_mqtt_frame_status st;
    struct gh_mqtt_frame fr;
    assert_int_equal(gh_mqtt_framer_feed(f, p, n, &used, &st, &fr), GH_OK);
    assert_int_equal(st, GH_MQTT_FRAME_READY);
    assert_int_equal(used, n);
    assert_int_equal(fr.total_len, n);
}

/* A framer of this role, brought to CONNECTED with the minimal handshake. */
static inline void framer_connected(struct gh_mqtt_framer *f, enum gh_mqtt_role role,
                                    const struct gh_mqtt_limits *limits)
{
    assert_int_equal(gh_mqtt_framer_init(f, role, limits), GH_OK);
    if (role == GH_MQTT_ROLE_SERVER)
        feed_ready(f, BYTES(CONNECT_MIN));
    else
        feed_ready(f, BYTES(CONNACK_OK));
    assert_int_equal(gh_mqtt_framer_accept(f), GH_OK);
    assert_int_equal(gh_mqtt_framer_phase(f), GH_MQTT_PHASE_CONNECTED);
}

/* A framer that is ready to receive a packet of this type as its next one. */
static inline void framer_for_type(struct gh_mqtt_framer *f, unsigned type)
{
    enum gh_mqtt_role role = receiver_of(type);
    if (type == GH_MQTT_CONNECT || type == GH_MQTT_CONNACK)
        assert_int_equal(gh_mqtt_framer_init(f, role, NULL), GH_OK);
    else
        framer_connected(f, role, NULL);
}

static inline struct gh_mqtt_ctx default_ctx(void)
{
    struct gh_mqtt_ctx ctx;
    assert_int_equal(gh_mqtt_ctx_init(&ctx, NULL), GH_OK);
    return ctx;
}

#endif
