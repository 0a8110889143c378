/* MQTT 3.1.1 codec: packet model, decoder, encoder, limits.
 *
 * Design
 * ------
 * - Bytes in, typed views out. gh_mqtt_decode() takes one whole packet (fixed
 *   header included, as delimited by the framer in mqtt/framer.h) and fills a
 *   tagged union. Every string and binary field is a gh_slice that BORROWS the
 *   input frame: it stays valid exactly as long as the caller keeps those bytes
 *   alive and unchanged. No allocation, no I/O, no logging.
 * - Encoders write through a gh_writer with a hard capacity. The remaining
 *   length is computed once, in one place (packet.c), from a per-family
 *   "measure" step that also validates the packet; the bytes written are then
 *   checked against it. gh_mqtt_packet_size() gives the exact size up front.
 *   An encoder refuses exactly what the decoder would refuse, with the same
 *   error code, so anything decoded can be encoded again unchanged.
 * - Role (server or client) is a runtime parameter (mqtt/phase.h,
 *   mqtt/framer.h); the codec itself is direction-agnostic.
 * - One decode/encode context (struct gh_mqtt_ctx) carries the protocol level
 *   and the receive limits. MQTT 5 readiness: the level travels in the
 *   context (set it from the accepted CONNECT), and each family decoder has a
 *   marked spot where MQTT 5 properties would be read/written
 *   ("MQTT 5: properties"). Only level 4 (3.1.1) is implemented; any other
 *   level in a CONNECT is GH_ERR_BAD_PROTOCOL_LEVEL, so the server can answer
 *   CONNACK 0x01 before closing (MQTT-3.1.2-2).
 *
 * Thread-safety: all functions here are pure functions of their arguments;
 * distinct objects may be used from distinct threads.
 */
#ifndef GH_MQTT_MQTT_H
#define GH_MQTT_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"

/* Protocol level of MQTT 3.1.1, the only one implemented. */
#define GH_MQTT_LEVEL_311 4u

/* Wire maxima fixed by MQTT 3.1.1. */
#define GH_MQTT_MAX_REMAINING_LENGTH 268435455u /* 4-byte variable integer */
#define GH_MQTT_MAX_HEADER_LEN 5u               /* type byte + 4 varint bytes */
#define GH_MQTT_MAX_PACKET_LEN (GH_MQTT_MAX_HEADER_LEN + GH_MQTT_MAX_REMAINING_LENGTH)
#define GH_MQTT_MAX_STRING_LEN 65535u /* u16 length prefix */

/* Capacity of the (filter, QoS) arrays in SUBSCRIBE, SUBACK and UNSUBSCRIBE.
 * The Azure C SDK batches up to 5 filters per SUBSCRIBE (PROTOCOL.md 1.7);
 * 16 leaves room for other clients while keeping gh_mqtt_packet small. */
#define GH_MQTT_MAX_SUBSCRIPTIONS 16u

/* Default limits. Suggested config keys for the config table:
 * mqtt.max_packet_size, mqtt.max_connect_size, mqtt.max_topic_len,
 * mqtt.max_subscriptions_per_packet.
 *
 * max_packet_size: 320 KiB = 256 KiB of telemetry body (PROTOCOL.md 1.5
 *   item 9) + 64 KiB for the topic (which carries the property bag) and
 *   headers. The 256 KiB message budget itself is the hub's check.
 * max_connect_size: 8 KiB. A CONNECT from an Azure SDK is < 1 KiB (user name
 *   with DeviceClientType ~ 200 bytes, SAS token ~ 300 bytes); 8 KiB leaves
 *   room for a small Will message while bounding pre-auth memory.
 * max_topic_len: 65535, the wire maximum. IoT Hub telemetry topics carry
 *   the property bag, whose size counts against the message budget enforced
 *   by the hub; a tighter codec cap would reject legal messages.
 * max_subscriptions_per_packet: 16 (= GH_MQTT_MAX_SUBSCRIPTIONS). */
#define GH_MQTT_DEFAULT_MAX_PACKET_SIZE (320u * 1024u)
#define GH_MQTT_DEFAULT_MAX_CONNECT_SIZE (8u * 1024u)
#define GH_MQTT_DEFAULT_MAX_TOPIC_LEN 65535u
#define GH_MQTT_DEFAULT_MAX_SUBSCRIPTIONS_PER_PACKET GH_MQTT_MAX_SUBSCRIPTIONS

/* Smallest allowed max_packet_size / max_connect_size: a minimal CONNECT
 * (12-byte body + 2-byte header). */
#define GH_MQTT_MIN_PACKET_LIMIT 14u

/* Receive limits. All sizes are whole packets (fixed header included). */
struct gh_mqtt_limits {
    size_t max_packet_size;              /* any packet once connected */
    size_t max_connect_size;             /* the first packet, before authentication */
    size_t max_topic_len;                /* topic names and filters, bytes */
    size_t max_subscriptions_per_packet; /* SUBSCRIBE/UNSUBSCRIBE/SUBACK entries */
};

/* Control packet types (the high nibble of the first byte). 0 and 15 are
 * reserved and refused with GH_ERR_BAD_PACKET_TYPE. */
enum gh_mqtt_type {
    GH_MQTT_CONNECT = 1,
    GH_MQTT_CONNACK = 2,
    GH_MQTT_PUBLISH = 3,
    GH_MQTT_PUBACK = 4,
    GH_MQTT_PUBREC = 5,
    GH_MQTT_PUBREL = 6,
    GH_MQTT_PUBCOMP = 7,
    GH_MQTT_SUBSCRIBE = 8,
    GH_MQTT_SUBACK = 9,
    GH_MQTT_UNSUBSCRIBE = 10,
    GH_MQTT_UNSUBACK = 11,
    GH_MQTT_PINGREQ = 12,
    GH_MQTT_PINGRESP = 13,
    GH_MQTT_DISCONNECT = 14,
};

/* CONNACK return codes (MQTT 3.1.1 table 3.1). */
enum gh_mqtt_connack_code {
    GH_MQTT_CONNACK_ACCEPTED = 0,
    GH_MQTT_CONNACK_BAD_PROTOCOL_LEVEL = 1,
    GH_MQTT_CONNACK_IDENTIFIER_REJECTED = 2,
    GH_MQTT_CONNACK_SERVER_UNAVAILABLE = 3,
    GH_MQTT_CONNACK_BAD_CREDENTIALS = 4,
    GH_MQTT_CONNACK_NOT_AUTHORIZED = 5,
};

/* SUBACK return code for a refused filter; granted QoS 0..2 otherwise. */
#define GH_MQTT_SUBACK_FAILURE 0x80u

/* CONNECT. A zero-length client id is decoded as such; MQTT-3.1.3-8 (answer
 * CONNACK 0x02 if clean_session is 0) is the server's decision. The will_*
 * fields are meaningful only when will is true (decoded as empty/0 otherwise
 * and must be so when encoding); username only with has_username, password
 * only with has_password. */
struct gh_mqtt_connect {
    uint8_t protocol_level; /* always GH_MQTT_LEVEL_311 after a successful decode */
    bool clean_session;
    uint16_t keep_alive; /* seconds */
    struct gh_slice client_id;
    bool will;
    uint8_t will_qos;
    bool will_retain;
    struct gh_slice will_topic;   /* a valid topic name */
    struct gh_slice will_message; /* binary */
    bool has_username;
    struct gh_slice username;
    bool has_password;
    struct gh_slice password; /* binary; a secret: never log it */
};

struct gh_mqtt_connack {
    bool session_present;
    uint8_t return_code; /* enum gh_mqtt_connack_code */
};

/* PUBLISH. packet_id is meaningful only for qos > 0 (decoded as 0 for QoS 0,
 * ignored when encoding QoS 0). */
struct gh_mqtt_publish {
    bool dup;
    uint8_t qos;
    bool retain;
    struct gh_slice topic;
    uint16_t packet_id;
    struct gh_slice payload;
};

/* PUBACK, PUBREC, PUBREL, PUBCOMP and UNSUBACK carry only a packet id. */
struct gh_mqtt_ack {
    uint16_t packet_id;
};

struct gh_mqtt_subscription {
    struct gh_slice filter;
    uint8_t qos; /* requested QoS 0..2 */
};

struct gh_mqtt_subscribe {
    uint16_t packet_id;
    size_t count; /* 1..GH_MQTT_MAX_SUBSCRIPTIONS */
    struct gh_mqtt_subscription subs[GH_MQTT_MAX_SUBSCRIPTIONS];
};

struct gh_mqtt_suback {
    uint16_t packet_id;
    size_t count;                                    /* 1..GH_MQTT_MAX_SUBSCRIPTIONS */
    uint8_t return_codes[GH_MQTT_MAX_SUBSCRIPTIONS]; /* 0, 1, 2 or 0x80 */
};

struct gh_mqtt_unsubscribe {
    uint16_t packet_id;
    size_t count; /* 1..GH_MQTT_MAX_SUBSCRIPTIONS */
    struct gh_slice filters[GH_MQTT_MAX_SUBSCRIPTIONS];
};

/* A decoded or to-be-encoded packet. PINGREQ, PINGRESP and DISCONNECT have
 * no fields. Read the union member named after the type. */
struct gh_mqtt_packet {
    enum gh_mqtt_type type;
    union {
        struct gh_mqtt_connect connect;
        struct gh_mqtt_connack connack;
        struct gh_mqtt_publish publish;
        struct gh_mqtt_ack puback;
        struct gh_mqtt_ack pubrec;
        struct gh_mqtt_ack pubrel;
        struct gh_mqtt_ack pubcomp;
        struct gh_mqtt_subscribe subscribe;
        struct gh_mqtt_suback suback;
        struct gh_mqtt_unsubscribe unsubscribe;
        struct gh_mqtt_ack unsuback;
    } u;
};

/* Decode/encode context. protocol_level is the connection's negotiated level
 * (GH_MQTT_LEVEL_311 is the only accepted value today); limits are the
 * receive limits the decoder enforces. Plain data: copy freely. */
struct gh_mqtt_ctx {
    uint8_t protocol_level;
    struct gh_mqtt_limits limits;
};

/* Fill *l with the documented defaults. */
void gh_mqtt_limits_default(struct gh_mqtt_limits *l);

/* Check that limits are usable: GH_MQTT_MIN_PACKET_LIMIT <= max_connect_size
 * <= max_packet_size <= GH_MQTT_MAX_PACKET_LEN, 1 <= max_topic_len <=
 * GH_MQTT_MAX_STRING_LEN, 1 <= max_subscriptions_per_packet <=
 * GH_MQTT_MAX_SUBSCRIPTIONS. Errors: GH_ERR_ARG. */
GH_NODISCARD gh_err gh_mqtt_limits_check(const struct gh_mqtt_limits *l);

/* Initialise a context for MQTT 3.1.1 with *limits, or the defaults when
 * limits is NULL. *ctx is written only on success.
 * Errors: GH_ERR_ARG (limits fail gh_mqtt_limits_check). */
GH_NODISCARD gh_err gh_mqtt_ctx_init(struct gh_mqtt_ctx *ctx, const struct gh_mqtt_limits *limits);

/* "CONNECT", "PUBLISH", ...; "RESERVED" for anything else. Static storage. */
const char *gh_mqtt_type_name(unsigned type);

/* Check the first byte of a fixed header: type and its required flags.
 * Errors: GH_ERR_BAD_PACKET_TYPE (type 0 or 15), GH_ERR_BAD_QOS (PUBLISH
 * with QoS 3), GH_ERR_BAD_FLAGS (PUBLISH with DUP and QoS 0, or any other
 * type with flags other than 0b0000, or 0b0010 for PUBREL, SUBSCRIBE and
 * UNSUBSCRIBE). */
GH_NODISCARD gh_err gh_mqtt_header_check(uint8_t first_byte);

/* Decode one whole packet. frame must hold exactly one packet: fixed header,
 * remaining length and body. On success *out is filled and its slices borrow
 * frame (valid while frame's bytes are); on failure *out is untouched.
 * For CONNECT the context's protocol_level is not used (the packet declares
 * its own); for all other types it must be GH_MQTT_LEVEL_311.
 *
 * Errors:
 *  GH_ERR_TRUNCATED        frame ends before the header, the declared
 *                          remaining length, or a field inside the body
 *  GH_ERR_TRAILING_BYTES   bytes after the declared remaining length, or
 *                          body bytes left over after the last field
 *  GH_ERR_BAD_VARINT       remaining length longer than 4 bytes
 *  GH_ERR_BAD_PACKET_TYPE, GH_ERR_BAD_FLAGS, GH_ERR_BAD_QOS: as
 *                          gh_mqtt_header_check; BAD_QOS also for a Will
 *                          QoS of 3 or a SUBSCRIBE requesting QoS 3
 *  GH_ERR_TOO_LARGE        packet (header + declared remaining length)
 *                          longer than limits.max_packet_size, or a
 *                          topic/filter longer than limits.max_topic_len
 *  GH_ERR_TOO_MANY         more than limits.max_subscriptions_per_packet
 *                          entries in SUBSCRIBE/SUBACK/UNSUBSCRIBE
 *  GH_ERR_BAD_PROTOCOL     CONNECT protocol name is neither "MQTT" nor
 *                          "MQIsdp" (not MQTT at all: just close)
 *  GH_ERR_BAD_PROTOCOL_LEVEL  CONNECT of a recognised MQTT protocol
 *                          other than "MQTT" level 4 (answer CONNACK 0x01)
 *  GH_ERR_MALFORMED        CONNECT reserved flag set, Will QoS/retain set
 *                          without the Will flag, password without user
 *                          name; CONNACK reserved bits, unknown return code,
 *                          session present with a refusal; SUBSCRIBE
 *                          reserved option bits; SUBACK return code not 0,
 *                          1, 2 or 0x80; empty SUBSCRIBE/SUBACK/UNSUBSCRIBE
 *  GH_ERR_BAD_PACKET_ID    packet id 0 where one is required (PUBLISH QoS
 *                          > 0, all acks, SUBSCRIBE, UNSUBSCRIBE)
 *  GH_ERR_BAD_UTF8         a string field is not well-formed UTF-8 or
 *                          contains U+0000
 *  GH_ERR_BAD_TOPIC        empty topic, wildcard in a topic name (PUBLISH,
 *                          Will), misplaced wildcard in a filter
 *  GH_ERR_ARG              ctx->protocol_level is not GH_MQTT_LEVEL_311
 */
GH_NODISCARD gh_err gh_mqtt_decode(const struct gh_mqtt_ctx *ctx, struct gh_slice frame,
                                   struct gh_mqtt_packet *out);

/* Exact number of bytes gh_mqtt_encode() will write for *p. *out is written
 * only on success. Errors: as gh_mqtt_encode except GH_ERR_NOBUFS. */
GH_NODISCARD gh_err gh_mqtt_packet_size(const struct gh_mqtt_ctx *ctx,
                                        const struct gh_mqtt_packet *p, size_t *out);

/* Append the wire form of *p to w. Nothing is written on failure (w->len is
 * unchanged). The packet is validated with the decoder's rules (wire maxima,
 * not ctx->limits, apply to lengths):
 *  GH_ERR_NOBUFS           not enough space in w
 *  GH_ERR_BAD_PACKET_TYPE  p->type is not 1..14
 *  GH_ERR_BAD_PROTOCOL_LEVEL  CONNECT protocol_level is not 4
 *  GH_ERR_BAD_QOS          QoS (PUBLISH, Will, subscription) above 2
 *  GH_ERR_BAD_FLAGS        PUBLISH with dup and QoS 0
 *  GH_ERR_BAD_PACKET_ID    packet id 0 where one is required
 *  GH_ERR_BAD_TOPIC, GH_ERR_BAD_UTF8: invalid topic/filter/string
 *  GH_ERR_MALFORMED        inconsistent CONNECT flags, CONNACK code > 5 or
 *                          session present with a refusal, SUBACK code not
 *                          0/1/2/0x80, count 0 in SUBSCRIBE/SUBACK/UNSUBSCRIBE
 *  GH_ERR_TOO_MANY         count above GH_MQTT_MAX_SUBSCRIPTIONS
 *  GH_ERR_TOO_LARGE        a field above 65535 bytes, or a body above
 *                          GH_MQTT_MAX_REMAINING_LENGTH
 *  GH_ERR_ARG              ctx->protocol_level is not GH_MQTT_LEVEL_311
 *  GH_ERR_INTERNAL         measured and written sizes disagree (a bug)
 */
GH_NODISCARD gh_err gh_mqtt_encode(const struct gh_mqtt_ctx *ctx, const struct gh_mqtt_packet *p,
                                   struct gh_writer *w);

/* Field-by-field equality (slices compared by content; fields that the type
 * does not carry are ignored). For tests and diagnostics. */
bool gh_mqtt_packet_equal(const struct gh_mqtt_packet *a, const struct gh_mqtt_packet *b);

#endif
