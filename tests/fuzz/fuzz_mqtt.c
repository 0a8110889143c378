/* Fuzz the MQTT framer and decoder together, as a connection would use them.
 *
 * Input: one selector byte, then the byte stream.
 *   bit 0      role: 0 server, 1 client
 *   bits 1-3   chunk size - 1 for feeding the framer
 *   bit 4      small limits (exercise TOO_LARGE / TOO_MANY paths)
 * Every READY frame is decoded; a decoded packet must re-encode to bytes that
 * decode to an equal packet. The whole stream is also decoded as one packet,
 * and run through the topic checks and matcher. Any broken invariant aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt/framer.h"
#include "mqtt/mqtt.h"
#include "mqtt/topic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_roundtrip(const struct gh_mqtt_ctx *ctx, const struct gh_mqtt_packet *p)
{
    size_t n = 0;
    if (gh_mqtt_packet_size(ctx, p, &n) != GH_OK) abort();
    uint8_t *buf = malloc(n);
    if (!buf) abort();
    struct gh_writer w;
    gh_writer_init(&w, buf, n);
    if (gh_mqtt_encode(ctx, p, &w) != GH_OK || w.len != n) abort();
    struct gh_mqtt_packet again;
    if (gh_mqtt_decode(ctx, gh_writer_slice(&w), &again) != GH_OK) abort();
    if (!gh_mqtt_packet_equal(p, &again)) abort();
    free(buf);
}

static void run_framer(const struct gh_mqtt_ctx *ctx, enum gh_mqtt_role role, size_t chunk,
                       const uint8_t *data, size_t size)
{
    struct gh_mqtt_framer f;
    if (gh_mqtt_framer_init(&f, role, &ctx->limits) != GH_OK) abort();
    size_t pos = 0, frame_start = 0;
    while (pos < size) {
        size_t n = size - pos < chunk ? size - pos : chunk;
        size_t used = 0;
        enum gh_mqtt_frame_status st;
        struct gh_mqtt_frame fr;
        if (gh_mqtt_framer_feed(&f, data + pos, n, &used, &st, &fr) != GH_OK) return;
        if (used > n) abort();
        pos += used;
        if (st == GH_MQTT_FRAME_BLOCKED) {
            if (used != 0) abort();
            if (gh_mqtt_framer_accept(&f) != GH_OK) abort();
            continue;
        }
        if (st == GH_MQTT_FRAME_NEED_MORE) {
            if (used != n) abort();
            continue;
        }
        if (fr.total_len != pos - frame_start || fr.header_len < 2 || fr.header_len > 5) abort();
        if ((unsigned)fr.type != (unsigned)(data[frame_start] >> 4)) abort();
        struct gh_mqtt_packet p;
        if (gh_mqtt_decode(ctx, (struct gh_slice){data + frame_start, fr.total_len}, &p) == GH_OK) {
            if (p.type != fr.type) abort();
            check_roundtrip(ctx, &p);
        }
        frame_start = pos;
    }
}

static void run_topics(const uint8_t *data, size_t size)
{
    const uint8_t *cut = memchr(data, 0, size);
    size_t flen = cut ? (size_t)(cut - data) : size / 2;
    struct gh_slice filter = {data, flen};
    struct gh_slice name = {data + flen, size - flen};
    if (cut) name = (struct gh_slice){cut + 1, size - flen - 1};
    bool fvalid = gh_mqtt_topic_filter_check(filter, 65535) == GH_OK;
    bool nvalid = gh_mqtt_topic_name_check(name, 65535) == GH_OK;
    bool m = gh_mqtt_topic_match(filter, name);
    /* A valid name is a valid filter that matches itself exactly. */
    if (nvalid &&
        (gh_mqtt_topic_filter_check(name, 65535) != GH_OK || !gh_mqtt_topic_match(name, name)))
        abort();
    /* '#' matches every valid name not starting with '$'. */
    if (nvalid && name.ptr[0] != '$' && !gh_mqtt_topic_match(gh_slice_cstr("#"), name)) abort();
    (void)fvalid;
    (void)m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t sel = data[0];
    data++;
    size--;

    struct gh_mqtt_limits l;
    gh_mqtt_limits_default(&l);
    if (sel & 0x10) {
        l.max_packet_size = 64;
        l.max_connect_size = 32;
        l.max_topic_len = 8;
        l.max_subscriptions_per_packet = 2;
    }
    struct gh_mqtt_ctx ctx;
    if (gh_mqtt_ctx_init(&ctx, &l) != GH_OK) abort();

    struct gh_mqtt_packet p;
    if (gh_mqtt_decode(&ctx, (struct gh_slice){data, size}, &p) == GH_OK) check_roundtrip(&ctx, &p);

    enum gh_mqtt_role role = (sel & 1) ? GH_MQTT_ROLE_CLIENT : GH_MQTT_ROLE_SERVER;
    run_framer(&ctx, role, (size_t)((sel >> 1) & 7) + 1, data, size);
    if (size > 0) run_topics(data, size);
    return 0;
}
