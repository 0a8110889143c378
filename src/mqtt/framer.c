#include "mqtt/framer.h"

#include <string.h>

gh_err gh_mqtt_framer_init(struct gh_mqtt_framer *f, enum gh_mqtt_role role,
                           const struct gh_mqtt_limits *limits)
{
    GH_ENSURE(role == GH_MQTT_ROLE_SERVER || role == GH_MQTT_ROLE_CLIENT, GH_ERR_ARG);
    struct gh_mqtt_limits l;
    if (limits)
        l = *limits;
    else
        gh_mqtt_limits_default(&l);
    GH_GUARD(gh_mqtt_limits_check(&l));
    memset(f, 0, sizeof *f);
    f->limits = l;
    f->role = role;
    f->phase = GH_MQTT_PHASE_CONNECTING;
    f->error = GH_OK;
    return GH_OK;
}

/* Checks possible from the first byte alone. */
static gh_err check_first_byte(const struct gh_mqtt_framer *f, uint8_t b)
{
    GH_GUARD(gh_mqtt_header_check(b));
    GH_ENSURE(gh_mqtt_packet_allowed(f->role, f->phase, GH_MQTT_INBOUND, b >> 4), GH_ERR_BAD_PHASE);
    return GH_OK;
}

static size_t size_limit(const struct gh_mqtt_framer *f)
{
    return f->phase == GH_MQTT_PHASE_CONNECTING ? f->limits.max_connect_size
                                                : f->limits.max_packet_size;
}

/* Read header bytes from in until the header is complete (total_len set) or
 * in is exhausted. */
static gh_err read_header(struct gh_mqtt_framer *f, struct gh_reader *in)
{
    while (f->total_len == 0) {
        uint8_t b;
        if (gh_reader_u8(in, &b) != GH_OK) return GH_OK; /* need more */
        if (f->header_len == 0) GH_GUARD(check_first_byte(f, b));
        f->header[f->header_len++] = b;
        f->seen++;
        if (f->header_len == 1) continue;

        struct gh_reader rl;
        uint32_t rem;
        gh_reader_init(&rl, &f->header[1], f->header_len - 1);
        gh_err rc = gh_reader_varint(&rl, &rem);
        if (rc == GH_ERR_TRUNCATED) continue; /* at most 4 bytes: BAD_VARINT stops it */
        GH_GUARD(rc);
        /* header_len <= 5 and rem <= 2^28: no overflow. */
        size_t total = f->header_len + (size_t)rem;
        GH_ENSURE(total <= size_limit(f), GH_ERR_TOO_LARGE);
        f->total_len = total;
    }
    return GH_OK;
}

static gh_err step(struct gh_mqtt_framer *f, struct gh_reader *in,
                   enum gh_mqtt_frame_status *status, struct gh_mqtt_frame *frame)
{
    GH_GUARD(read_header(f, in));
    if (f->total_len == 0) {
        *status = GH_MQTT_FRAME_NEED_MORE;
        return GH_OK;
    }
    size_t need = f->total_len - f->seen;
    size_t avail = gh_reader_remaining(in);
    size_t take = avail < need ? avail : need;
    struct gh_slice skipped;
    GH_GUARD(gh_reader_bytes(in, take, &skipped));
    f->seen += take;
    if (f->seen < f->total_len) {
        *status = GH_MQTT_FRAME_NEED_MORE;
        return GH_OK;
    }

    uint8_t first = f->header[0];
    *frame = (struct gh_mqtt_frame){
        .type = (enum gh_mqtt_type)(first >> 4),
        .flags = (uint8_t)(first & 0x0fu),
        .header_len = f->header_len,
        .total_len = f->total_len,
    };
    if (f->phase == GH_MQTT_PHASE_CONNECTING) f->awaiting_accept = true;
    if (frame->type == GH_MQTT_DISCONNECT) f->phase = GH_MQTT_PHASE_DISCONNECTED;
    f->header_len = 0;
    f->total_len = 0;
    f->seen = 0;
    *status = GH_MQTT_FRAME_READY;
    return GH_OK;
}

gh_err gh_mqtt_framer_feed(struct gh_mqtt_framer *f, const uint8_t *data, size_t len,
                           size_t *consumed, enum gh_mqtt_frame_status *status,
                           struct gh_mqtt_frame *frame)
{
    GH_ENSURE(f->error == GH_OK, f->error);
    GH_ENSURE(data != NULL || len == 0, GH_ERR_ARG);
    if (f->awaiting_accept) {
        *consumed = 0;
        *status = GH_MQTT_FRAME_BLOCKED;
        return GH_OK;
    }
    struct gh_reader in;
    gh_reader_init(&in, data, len);
    enum gh_mqtt_frame_status st;
    struct gh_mqtt_frame fr;
    gh_err rc = step(f, &in, &st, &fr);
    if (rc != GH_OK) {
        f->error = rc;
        return rc;
    }
    *consumed = in.pos;
    *status = st;
    if (st == GH_MQTT_FRAME_READY) *frame = fr;
    return GH_OK;
}

gh_err gh_mqtt_framer_accept(struct gh_mqtt_framer *f)
{
    GH_ENSURE(f->error == GH_OK && f->awaiting_accept && f->phase == GH_MQTT_PHASE_CONNECTING,
              GH_ERR_ARG);
    f->awaiting_accept = false;
    f->phase = GH_MQTT_PHASE_CONNECTED;
    return GH_OK;
}

enum gh_mqtt_phase gh_mqtt_framer_phase(const struct gh_mqtt_framer *f)
{
    return f->phase;
}

size_t gh_mqtt_framer_expected_len(const struct gh_mqtt_framer *f)
{
    return f->total_len;
}
