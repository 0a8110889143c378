/* Resilience of libgatehouse-device against a real gatehouse hub that goes
 * away and comes back: the hub runs its loop on a second thread; the client
 * uses its own loop (event_base NULL), driven by gh_device_client_run_once
 * from the test thread, as a plain poll-loop application would. Messages
 * sent while the hub is down wait in the buffer and are delivered after the
 * restart; the hub's store is read once its thread has stopped. Every wait
 * is bounded by a monotonic deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>

#include <event2/thread.h>

#include "device_fixture.h"

#define DEV "devlib-restart"
#define DOWN_MSGS 5u

static char key[GH_IDENTITY_KEY_MAX + 1];
static pthread_t thread;
static bool running;

static void *loop_thread(void *arg)
{
    (void)arg;
    event_base_dispatch(gh_hub_base(FX.hub));
    return NULL;
}

static int hub_up(void)
{
    if (fx_hub_start() != 0) return -1;
    if (pthread_create(&thread, NULL, loop_thread, NULL) != 0) return -1;
    running = true;
    return 0;
}

static void hub_down(void)
{
    if (running) {
        event_base_loopbreak(gh_hub_base(FX.hub));
        pthread_join(thread, NULL);
        running = false;
    }
    if (FX.hub) gh_hub_free(FX.hub);
    FX.hub = NULL;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Drive the client's own loop until cond holds or ms pass. */
static bool pump(struct fx_rec *r, bool (*cond)(struct fx_rec *), unsigned ms)
{
    int64_t end = now_ms() + ms;
    while (!cond(r) && now_ms() < end) assert_int_equal(gh_device_client_run_once(r->c, 50), 0);
    return cond(r);
}

static bool is_up(struct fx_rec *r)
{
    return gh_device_client_connected(r->c);
}

static bool is_down(struct fx_rec *r)
{
    return r->disconnected >= 1;
}

static bool one_acked(struct fx_rec *r)
{
    return r->sent_ok >= 1;
}

static bool all_acked(struct fx_rec *r)
{
    return r->sent_ok >= 1 + DOWN_MSGS;
}

static int group_setup(void **state)
{
    (void)state;
    if (evthread_use_pthreads() != 0) return -1;
    if (fx_pki_setup("restart") != 0 || fx_hub_start() != 0) return -1;
    if (fx_device_sas(DEV, key) != 0) return -1;
    gh_hub_free(FX.hub);
    FX.hub = NULL;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    hub_down();
    fx_cleanup();
    return 0;
}

static void test_restart(void **state)
{
    (void)state;
    assert_int_equal(hub_up(), 0);
    char cs[512];
    snprintf(cs, sizeof cs, "HostName=%s;DeviceId=%s;SharedAccessKey=%s", FX_HUB, DEV, key);
    struct gh_device_options o = {
        .auth = GH_DEVICE_AUTH_CONNECTION_STRING,
        .connection_string = cs,
        .ca_file = FX.root_cert,
        .connect_address = FX_ADDR,
        .port = FX.port,
        .backoff_min_ms = 100,
        .backoff_max_ms = 400,
        .keepalive_s = 5,
    };
    struct fx_rec r = {0};
    assert_int_equal(gh_device_client_new(&o, &fx_cbs, &r, &r.c), 0);
    assert_true(pump(&r, is_up, FX_WAIT_MS));
    assert_int_equal(gh_device_send(r.c, "m0", 2, NULL, fx_send_done, &r), 0);
    assert_true(pump(&r, one_acked, FX_WAIT_MS));

    hub_down();
    assert_true(pump(&r, is_down, FX_WAIT_MS));
    assert_false(gh_device_client_connected(r.c));
    for (unsigned i = 1; i <= DOWN_MSGS; i++) {
        char body[16];
        snprintf(body, sizeof body, "m%u", i);
        assert_int_equal(gh_device_send(r.c, body, strlen(body), NULL, fx_send_done, &r), 0);
    }
    assert_int_equal(gh_device_client_pending(r.c), DOWN_MSGS);
    /* A few failed reconnects while the hub is away; nothing is lost. */
    pump(&r, all_acked, 600);
    assert_int_equal(r.sent_ok, 1);
    assert_int_equal(gh_device_client_pending(r.c), DOWN_MSGS);

    assert_int_equal(hub_up(), 0);
    if (!pump(&r, all_acked, 2 * FX_WAIT_MS))
        fail_msg("acked %u: %s (%s)", r.sent_ok, gh_device_strerror(r.last_reason), r.detail);
    assert_int_equal(r.sent_err, 0);
    assert_int_equal(gh_device_client_pending(r.c), 0);
    assert_true(r.connected >= 2);

    /* Read what the hub stored, with its loop stopped. */
    event_base_loopbreak(gh_hub_base(FX.hub));
    pthread_join(thread, NULL);
    running = false;
    struct gh_telemetry_query q = {.device_id = DEV};
    struct gh_telemetry_msg m[16];
    size_t n = 0;
    assert_int_equal(gh_store_telemetry_read(gh_hub_store(FX.hub), &q, m, 16, &n), GH_OK);
    bool seen[1 + DOWN_MSGS] = {false};
    for (size_t i = 0; i < n; i++) {
        unsigned k = 0;
        char text[16];
        snprintf(text, sizeof text, "%.*s", (int)m[i].body_len, (const char *)m[i].body);
        if (sscanf(text, "m%u", &k) == 1 && k <= DOWN_MSGS) seen[k] = true;
        gh_telemetry_msg_cleanup(&m[i]);
    }
    for (unsigned k = 0; k <= DOWN_MSGS; k++) assert_true(seen[k]);
    gh_device_client_free(r.c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restart),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
