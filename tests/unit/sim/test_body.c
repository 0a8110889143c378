/* gatehouse sim: device ids, sensor walk, telemetry bodies and topics,
 * latency histogram. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "iothub/topic.h"
#include "sim/sim.h"

static void test_device_id(void **state)
{
    char buf[GH_SIM_ID_MAX + 1];
    struct gh_writer w;
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_sim_device_id(&w, "sim-", 0, 10), GH_OK);
    assert_string_equal(buf, "sim-0001");
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_sim_device_id(&w, "car-", 99999, 100000), GH_OK);
    assert_string_equal(buf, "car-100000");
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_sim_device_id(&w, "", 41, 12345), GH_OK);
    assert_string_equal(buf, "00042");
    assert_int_equal(w.len, 5);
    /* invalid id characters, index out of range, no room */
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_sim_device_id(&w, "a/b", 0, 1), GH_ERR_ARG);
    assert_int_equal(gh_sim_device_id(&w, "a b", 0, 1), GH_ERR_ARG);
    assert_int_equal(gh_sim_device_id(&w, "x", 1, 1), GH_ERR_ARG);
    assert_int_equal(gh_sim_device_id(&w, "x", 0, 0), GH_ERR_ARG);
    assert_int_equal(w.len, 0);
    char small[8];
    gh_writer_init(&w, small, sizeof small);
    assert_int_equal(gh_sim_device_id(&w, "sim-", 0, 1), GH_ERR_NOBUFS); /* 8 + NUL */
    assert_int_equal(w.len, 0);
    char longp[GH_SIM_ID_MAX + 1];
    memset(longp, 'p', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_sim_device_id(&w, longp, 0, 1), GH_ERR_ARG); /* id above 128 bytes */
}

static void test_sensor(void **state)
{
    struct gh_sim_sensor a, b, c;
    gh_sim_sensor_init(&a, 1);
    gh_sim_sensor_init(&b, 1);
    gh_sim_sensor_init(&c, 2);
    assert_true(a.temperature == b.temperature && a.humidity == b.humidity);
    assert_false(a.temperature == c.temperature && a.humidity == c.humidity);
    for (int i = 0; i < 100000; i++) {
        gh_sim_sensor_step(&a);
        assert_true(a.temperature >= 15.0 && a.temperature <= 35.0);
        assert_true(a.humidity >= 20.0 && a.humidity <= 80.0);
    }
    assert_true(a.rng != 0);
}

static void test_body(void **state)
{
    struct gh_sim_sensor s;
    gh_sim_sensor_init(&s, 7);
    s.temperature = 21.456;
    s.humidity = 44.44;
    char buf[GH_SIM_BODY_MAX];
    struct gh_writer w;
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_sim_body(&w, "sim-0007", 42, &s, 1795000000123LL), GH_OK);
    json_error_t err;
    json_t *j = json_loadb(buf, w.len, 0, &err);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "deviceId")), "sim-0007");
    assert_int_equal(json_integer_value(json_object_get(j, "seq")), 42);
    assert_true(json_real_value(json_object_get(j, "temperature")) == 21.46);
    assert_true(json_real_value(json_object_get(j, "humidity")) == 44.4);
    assert_string_equal(json_string_value(json_object_get(j, "timestamp")),
                        "2026-11-18T11:06:40.123Z");
    assert_int_equal(json_object_size(j), 5);
    json_decref(j);
    /* exact text */
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_sim_body(&w, "d", 1, &s, 0), GH_OK);
    const char *want = "{\"deviceId\":\"d\",\"seq\":1,\"temperature\":21.46,\"humidity\":44.4,"
                       "\"timestamp\":\"1970-01-01T00:00:00.000Z\"}";
    assert_int_equal(w.len, strlen(want));
    assert_memory_equal(buf, want, w.len);
    /* no room: nothing appended */
    char small[40];
    gh_writer_init(&w, small, sizeof small);
    assert_int_equal(gh_sim_body(&w, "d", 1, &s, 0), GH_ERR_NOBUFS);
    assert_int_equal(w.len, 0);
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_sim_body(&w, "d", 1, &s, -1), GH_ERR_ARG);
    assert_int_equal(gh_sim_body(&w, "d", 1, &s, 253402300800000LL), GH_ERR_ARG);
    assert_int_equal(gh_sim_body(&w, NULL, 1, &s, 0), GH_ERR_ARG);
    assert_int_equal(w.len, 0);
}

static void test_topic(void **state)
{
    char buf[GH_SIM_TOPIC_MAX];
    struct gh_writer w;
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_sim_topic(&w, "sim-0001", 12), GH_OK);
    const char *want = "devices/sim-0001/messages/events/"
                       "%24.ct=application%2Fjson&%24.ce=utf-8&%24.mid=sim-0001-12&sim=gatehouse";
    assert_int_equal(w.len, strlen(want));
    assert_memory_equal(buf, want, w.len);
    /* the hub classifies it as this device's telemetry */
    struct gh_iothub_identity id = {GH_IOTHUB_ID_DEVICE, gh_slice_cstr("sim-0001"), GH_SLICE_EMPTY};
    struct gh_iothub_topic t;
    assert_int_equal(
        gh_iothub_topic_classify((struct gh_slice){(const uint8_t *)buf, w.len}, &id, &t), GH_OK);
    assert_int_equal(t.kind, GH_IOTHUB_TOPIC_TELEMETRY);
    char small[20];
    gh_writer_init(&w, small, sizeof small);
    assert_int_equal(gh_sim_topic(&w, "sim-0001", 12), GH_ERR_NOBUFS);
    assert_int_equal(w.len, 0);
    assert_int_equal(gh_sim_topic(&w, NULL, 1), GH_ERR_ARG);
}

static void test_plain_body(void **state)
{
    char buf[GH_SIM_BODY_MAX + 8];
    struct gh_writer w;
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_sim_plain_body(&w, 17, 1790000000123456LL, 64), GH_OK);
    assert_int_equal(w.len, 64);
    const char *want = "{\"seq\":17,\"t\":1790000000123456}";
    assert_memory_equal(buf, want, strlen(want));
    for (size_t i = strlen(want); i < 64; i++) assert_int_equal(buf[i], ' ');
    /* the largest values still fit the smallest size */
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_sim_plain_body(&w, UINT64_MAX, 9999999999999999LL, GH_SIM_PAYLOAD_MIN),
                     GH_OK);
    assert_int_equal(w.len, GH_SIM_PAYLOAD_MIN);
    /* sizes out of range, negative time, no room: nothing appended */
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_sim_plain_body(&w, 1, 1, GH_SIM_PAYLOAD_MIN - 1), GH_ERR_ARG);
    assert_int_equal(gh_sim_plain_body(&w, 1, 1, GH_SIM_BODY_MAX + 1), GH_ERR_ARG);
    assert_int_equal(gh_sim_plain_body(&w, 1, -1, 64), GH_ERR_ARG);
    assert_int_equal(w.len, 0);
    gh_writer_init(&w, buf, 63);
    assert_int_equal(gh_sim_plain_body(&w, 1, 1, 64), GH_ERR_NOBUFS);
    assert_int_equal(w.len, 0);
}

static void test_hist(void **state)
{
    struct gh_sim_hist *h = calloc(1, sizeof *h);
    assert_non_null(h);
    assert_int_equal(gh_sim_hist_quantile(h, 0.5), 0);
    for (uint64_t v = 1; v <= 1000; v++) gh_sim_hist_add(h, v * 1000); /* 1..1000 ms */
    assert_int_equal(h->count, 1000);
    assert_int_equal(h->max_us, 1000000);
    uint64_t p50 = gh_sim_hist_quantile(h, 0.50);
    uint64_t p99 = gh_sim_hist_quantile(h, 0.99);
    assert_true(p50 >= 500000 && p50 <= 500000 + 500000 / 30);
    assert_true(p99 >= 990000 && p99 <= 990000 + 990000 / 30);
    assert_int_equal(gh_sim_hist_quantile(h, 1.0), 1000000);
    assert_int_equal(gh_sim_hist_quantile(h, 2.0), 1000000);
    assert_true(gh_sim_hist_quantile(h, -1.0) <= 1000 + 1000 / 30);
    /* small values are exact; huge ones are clamped */
    memset(h, 0, sizeof *h);
    gh_sim_hist_add(h, 0);
    gh_sim_hist_add(h, 5);
    gh_sim_hist_add(h, 63);
    assert_int_equal(gh_sim_hist_quantile(h, 0.5), 5);
    assert_int_equal(gh_sim_hist_quantile(h, 1.0), 63);
    gh_sim_hist_add(h, UINT64_MAX);
    assert_int_equal(h->max_us, (1ull << GH_SIM_HIST_EXP) - 1);
    assert_int_equal(gh_sim_hist_quantile(h, 1.0), (1ull << GH_SIM_HIST_EXP) - 1);
    /* every value lands in a bucket whose upper bound is within 1/32 above it */
    for (uint64_t v = 64; v < (1ull << 39); v = v * 3 + 1) {
        memset(h, 0, sizeof *h);
        gh_sim_hist_add(h, v);
        gh_sim_hist_add(h, UINT64_MAX);
        uint64_t q = gh_sim_hist_quantile(h, 0.5);
        assert_true(q >= v && q <= v + v / 31);
    }
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_device_id), cmocka_unit_test(test_sensor),
        cmocka_unit_test(test_body),      cmocka_unit_test(test_topic),
        cmocka_unit_test(test_hist),      cmocka_unit_test(test_plain_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
