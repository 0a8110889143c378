/* Incremental MQTT framer: finds packet boundaries in a byte stream and
 * enforces the size and phase limits from the fixed header alone, before the
 * caller buffers or allocates anything for the body (STYLE.md 4).
 *
 * Usage: feed the bytes received so far. The framer consumes them up to the
 * end of the current packet and reports
 *   GH_MQTT_FRAME_NEED_MORE  all given bytes consumed, packet incomplete;
 *   GH_MQTT_FRAME_READY      the packet ends after *consumed bytes; *frame
 *                            says its type, flags, header and total length.
 *                            The caller decodes the packet's total_len bytes
 *                            (which it kept) with gh_mqtt_decode();
 *   GH_MQTT_FRAME_BLOCKED    nothing consumed: the first packet was
 *                            delivered and the framer waits for
 *                            gh_mqtt_framer_accept() (authentication pending;
 *                            later bytes stay in the caller's buffer, unread,
 *                            as MQTT-3.1.4-5 requires).
 * Bytes may arrive in any chunking, down to one at a time.
 *
 * Rules enforced (errors are sticky: once feed failed, every later feed
 * returns the same error and the connection must be closed):
 *  - the first packet must be CONNECT for a server, CONNACK for a client
 *    (GH_ERR_BAD_PHASE from its first byte), and no larger than
 *    limits.max_connect_size (GH_ERR_TOO_LARGE once its length is known);
 *  - afterwards every packet must be legal inbound in the current phase
 *    (mqtt/phase.h; GH_ERR_BAD_PHASE from its first byte) and no larger than
 *    limits.max_packet_size (GH_ERR_TOO_LARGE);
 *  - an inbound DISCONNECT moves to the DISCONNECTED phase, where any further
 *    byte is GH_ERR_BAD_PHASE;
 *  - the first byte passes gh_mqtt_header_check (GH_ERR_BAD_PACKET_TYPE,
 *    GH_ERR_BAD_FLAGS, GH_ERR_BAD_QOS), the remaining length is at most 4
 *    bytes (GH_ERR_BAD_VARINT).
 *
 * The struct is caller-owned plain storage (no allocation, nothing to free);
 * its fields are private. Not thread-safe on one framer.
 */
#ifndef GH_MQTT_FRAMER_H
#define GH_MQTT_FRAMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "mqtt/mqtt.h"
#include "mqtt/phase.h"

enum gh_mqtt_frame_status {
    GH_MQTT_FRAME_NEED_MORE = 0,
    GH_MQTT_FRAME_READY = 1,
    GH_MQTT_FRAME_BLOCKED = 2,
};

struct gh_mqtt_frame {
    enum gh_mqtt_type type;
    uint8_t flags;     /* low nibble of the first byte */
    size_t header_len; /* 2..5: first byte + remaining-length bytes */
    size_t total_len;  /* header_len + remaining length */
};

struct gh_mqtt_framer {
    /* private */
    struct gh_mqtt_limits limits;
    enum gh_mqtt_role role;
    enum gh_mqtt_phase phase;
    bool awaiting_accept;
    uint8_t header[GH_MQTT_MAX_HEADER_LEN];
    size_t header_len; /* header bytes seen of the current packet */
    size_t total_len;  /* 0 until the header is complete */
    size_t seen;       /* bytes of the current packet consumed */
    gh_err error;      /* sticky */
};

/* Initialise *f for one connection end in phase CONNECTING, with *limits or
 * the defaults when limits is NULL (copied). *f is written only on success.
 * Errors: GH_ERR_ARG (invalid role, or limits fail gh_mqtt_limits_check). */
GH_NODISCARD gh_err gh_mqtt_framer_init(struct gh_mqtt_framer *f, enum gh_mqtt_role role,
                                        const struct gh_mqtt_limits *limits);

/* Consume bytes of data[0..len) as described above. On success *consumed
 * (<= len), *status and, for GH_MQTT_FRAME_READY, *frame are written; on
 * failure none of them is. data may be NULL only when len is 0.
 * Errors: GH_ERR_BAD_PACKET_TYPE, GH_ERR_BAD_FLAGS, GH_ERR_BAD_QOS,
 * GH_ERR_BAD_VARINT, GH_ERR_BAD_PHASE, GH_ERR_TOO_LARGE (all sticky), and
 * GH_ERR_ARG for data == NULL with len > 0 (not sticky). */
GH_NODISCARD gh_err gh_mqtt_framer_feed(struct gh_mqtt_framer *f, const uint8_t *data, size_t len,
                                        size_t *consumed, enum gh_mqtt_frame_status *status,
                                        struct gh_mqtt_frame *frame);

/* The first packet was accepted (server: CONNACK 0x00 sent; client: CONNACK
 * 0x00 received): move to CONNECTED and unblock.
 * Errors: GH_ERR_ARG if the framer is not waiting for this (no first packet
 * delivered yet, already accepted, or failed). */
GH_NODISCARD gh_err gh_mqtt_framer_accept(struct gh_mqtt_framer *f);

/* Current phase. */
enum gh_mqtt_phase gh_mqtt_framer_phase(const struct gh_mqtt_framer *f);

/* Total length of the packet being received once its header is complete
 * (already checked against the limits, so callers may size a buffer with
 * it), else 0. */
size_t gh_mqtt_framer_expected_len(const struct gh_mqtt_framer *f);

#endif
