/* gatehouse sim: device ids, sensor walk, telemetry bodies and topics. */
#include <stdio.h>
#include <string.h>

#include "common/timefmt.h"
#include "iothub/bag.h"
#include "iothub/topic.h"
#include "iothub/username.h"
#include "sim/sim.h"

#define TEMP_MIN 15.0
#define TEMP_MAX 35.0
#define HUM_MIN 20.0
#define HUM_MAX 80.0
#define SEQ_TEXT_MAX 24 /* decimal uint64 + NUL */

gh_err gh_sim_device_id(struct gh_writer *w, const char *prefix, unsigned i, unsigned n)
{
    GH_ENSURE(w != NULL && prefix != NULL && n > 0 && i < n, GH_ERR_ARG);
    unsigned width = 1;
    for (unsigned v = n; v >= 10; v /= 10) width++;
    if (width < GH_SIM_ID_WIDTH_MIN) width = GH_SIM_ID_WIDTH_MIN;
    char id[GH_SIM_ID_MAX + 32];
    int k = snprintf(id, sizeof id, "%s%0*u", prefix, (int)width, i + 1);
    GH_ENSURE(k > 0 && (size_t)k < sizeof id, GH_ERR_ARG);
    GH_ENSURE(gh_iothub_valid_device_id((struct gh_slice){(const uint8_t *)id, (size_t)k}),
              GH_ERR_ARG);
    GH_ENSURE((size_t)k + 1 <= gh_writer_space(w), GH_ERR_NOBUFS);
    GH_GUARD(gh_writer_bytes(w, id, (size_t)k));
    GH_GUARD(gh_writer_terminate(w));
    return GH_OK;
}

static uint64_t next_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [-1, 1). */
static double unit(uint64_t *s)
{
    return (double)(next_rand(s) >> 11) / (double)(1ull << 52) - 1.0;
}

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

void gh_sim_sensor_init(struct gh_sim_sensor *s, uint64_t seed)
{
    s->rng = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    if (s->rng == 0) s->rng = 1;
    s->temperature = 22.0 + 3.0 * unit(&s->rng);
    s->humidity = 45.0 + 10.0 * unit(&s->rng);
}

void gh_sim_sensor_step(struct gh_sim_sensor *s)
{
    s->temperature = clamp(s->temperature + 0.25 * unit(&s->rng), TEMP_MIN, TEMP_MAX);
    s->humidity = clamp(s->humidity + 0.5 * unit(&s->rng), HUM_MIN, HUM_MAX);
}

gh_err gh_sim_body(struct gh_writer *w, const char *device_id, uint64_t seq,
                   const struct gh_sim_sensor *s, int64_t now_ms)
{
    GH_ENSURE(w != NULL && device_id != NULL && s != NULL, GH_ERR_ARG);
    GH_ENSURE(now_ms >= 0 && now_ms < 253402300800000LL, GH_ERR_ARG); /* before year 10000 */
    char ts[GH_TIME_TEXT_LEN];
    gh_time_format(now_ms, ts);
    char body[GH_SIM_BODY_MAX];
    int k = snprintf(body, sizeof body,
                     "{\"deviceId\":\"%s\",\"seq\":%llu,\"temperature\":%.2f,"
                     "\"humidity\":%.1f,\"timestamp\":\"%s\"}",
                     device_id, (unsigned long long)seq, clamp(s->temperature, TEMP_MIN, TEMP_MAX),
                     clamp(s->humidity, HUM_MIN, HUM_MAX), ts);
    GH_ENSURE(k > 0 && (size_t)k < sizeof body, GH_ERR_NOBUFS);
    GH_ENSURE((size_t)k <= gh_writer_space(w), GH_ERR_NOBUFS);
    return gh_writer_bytes(w, body, (size_t)k);
}

gh_err gh_sim_plain_body(struct gh_writer *w, uint64_t seq, int64_t now_us, size_t size)
{
    GH_ENSURE(w != NULL && now_us >= 0, GH_ERR_ARG);
    GH_ENSURE(size >= GH_SIM_PAYLOAD_MIN && size <= GH_SIM_BODY_MAX, GH_ERR_ARG);
    char body[GH_SIM_BODY_MAX + 1];
    int k = snprintf(body, sizeof body, "{\"seq\":%llu,\"t\":%lld}", (unsigned long long)seq,
                     (long long)now_us);
    GH_ENSURE(k > 0 && (size_t)k <= size, GH_ERR_ARG);
    memset(body + k, ' ', size - (size_t)k);
    GH_ENSURE(size <= gh_writer_space(w), GH_ERR_NOBUFS);
    return gh_writer_bytes(w, body, size);
}

gh_err gh_sim_topic(struct gh_writer *w, const char *device_id, uint64_t seq)
{
    GH_ENSURE(w != NULL && device_id != NULL, GH_ERR_ARG);
    char mid[GH_SIM_ID_MAX + SEQ_TEXT_MAX + 2];
    int k = snprintf(mid, sizeof mid, "%s-%llu", device_id, (unsigned long long)seq);
    GH_ENSURE(k > 0 && (size_t)k < sizeof mid, GH_ERR_ARG);
    const struct gh_iothub_bag_item items[] = {
        {gh_slice_cstr("$.ct"), gh_slice_cstr("application/json"), true},
        {gh_slice_cstr("$.ce"), gh_slice_cstr("utf-8"), true},
        {gh_slice_cstr("$.mid"), {(const uint8_t *)mid, (size_t)k}, true},
        {gh_slice_cstr("sim"), gh_slice_cstr("gatehouse"), true},
    };
    return gh_iothub_topic_build_telemetry(w, gh_slice_cstr(device_id), GH_SLICE_EMPTY, items,
                                           sizeof items / sizeof items[0]);
}
