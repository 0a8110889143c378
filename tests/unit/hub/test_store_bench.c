/* Telemetry group-commit throughput (prints, does not assert a rate):
 * messages/s for batches of 1, 64 and 1024 messages with 64-byte bodies,
 * synchronous=FULL, on this machine's disk. Set GH_BENCH=1 for longer
 * runs. Also measures the cost of a lastActivityTime touch inside its
 * interval (a no-op UPDATE). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "store_fixture.h"

static double secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench_batch(struct fx *f, size_t batch, size_t batches, json_t *props)
{
    static uint8_t body[64];
    struct gh_telemetry_in *in = calloc(batch, sizeof *in);
    assert_non_null(in);
    for (size_t i = 0; i < batch; i++) {
        in[i].device_id = "bench-device-0001";
        in[i].properties = props;
        in[i].body = body;
        in[i].body_len = sizeof body;
    }
    struct gh_telemetry_stats before, after;
    assert_int_equal(gh_store_telemetry_stats(f->s, &before), GH_OK);
    double t0 = secs();
    for (size_t b = 0; b < batches; b++)
        assert_int_equal(gh_store_telemetry_append_batch(f->s, in, batch, NULL), GH_OK);
    double dt = secs() - t0;
    assert_int_equal(gh_store_telemetry_stats(f->s, &after), GH_OK);
    assert_int_equal(after.count - before.count, batch * batches);
    printf("bench: telemetry batch=%-5zu batches=%-5zu %10.0f msg/s %8.0f commits/s\n", batch,
           batches, (double)(batch * batches) / dt, (double)batches / dt);
    free(in);
}

static void test_bench_telemetry(void **state)
{
    struct fx *f = *state;
    gh_store_set_clock(f->s, NULL, NULL);
    bool longer = getenv("GH_BENCH") != NULL;
    json_t *props = fx_json("{\"iothub-connection-device-id\":\"bench-device-0001\","
                            "\"iothub-connection-auth-generation-id\":\"639028224000000000\","
                            "\"iothub-enqueuedtime\":\"2026-01-01T00:00:00.000Z\","
                            "\"iothub-message-source\":\"Telemetry\",\"$.mid\":\"m-1\"}");
    bench_batch(f, 1, longer ? 2000 : 200, props);
    bench_batch(f, 64, longer ? 500 : 50, props);
    bench_batch(f, 1024, longer ? 100 : 10, props);
    json_decref(props);

    fx_create(f, "bench-device-0001", NULL);
    assert_int_equal(gh_store_set_connected(f->s, "bench-device-0001", NULL, true, NULL), GH_OK);
    size_t n = longer ? 100000 : 10000;
    double t0 = secs();
    for (size_t i = 0; i < n; i++)
        assert_int_equal(gh_store_touch_activity(f->s, "bench-device-0001", NULL), GH_OK);
    double dt = secs() - t0;
    printf("bench: touch_activity inside its interval %10.0f calls/s\n", (double)n / dt);
    n = longer ? 100000 : 10000;
    struct gh_identity id;
    t0 = secs();
    for (size_t i = 0; i < n; i++)
        assert_int_equal(gh_store_identity_get(f->s, "bench-device-0001", NULL, &id), GH_OK);
    dt = secs() - t0;
    printf("bench: identity_get (CONNECT lookup) %10.0f calls/s\n", (double)n / dt);
    gh_identity_wipe(&id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bench_telemetry, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
