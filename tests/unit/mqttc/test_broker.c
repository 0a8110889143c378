/* gh_mqttc against a real mosquitto broker on 127.0.0.9 over TLS (certs from
 * `gatehouse pki`): connect, QoS 0/1 with a window, subscribe and receive
 * our own messages, deferred PUBACK, keepalive, broker killed and
 * restarted, reconnect_now, wrong CA, CONNACK refusal, password callback
 * and credential refresh. Skipped when mosquitto is not installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mqttc_fixture.h"

static struct event_base *base;
static struct gh_tls_client *tls;
static struct gh_tls_client *tls_wrong;
static struct fx_broker broker;
static bool skip;
static unsigned client_seq;

struct until {
    const int *p;
    int want;
};
static bool reached(void *a)
{
    struct until *u = a;
    return *u->p >= u->want;
}
static bool wait_count(const int *p, int want, unsigned ms)
{
    struct until u = {p, want};
    return gh_test_run_until(base, reached, &u, ms);
}
struct until_sz {
    const size_t *p;
    size_t want;
};
static bool reached_sz(void *a)
{
    struct until_sz *u = a;
    return *u->p >= u->want;
}
static bool wait_size(const size_t *p, size_t want, unsigned ms)
{
    struct until_sz u = {p, want};
    return gh_test_run_until(base, reached_sz, &u, ms);
}

static int group_setup(void **state)
{
    (void)state;
    if (!fx_have_mosquitto()) {
        skip = true;
        return 0;
    }
    if (fx_pki_setup("broker") != 0) return -1;
    base = event_base_new();
    tls = fx_tls_client("pki");
    tls_wrong = fx_tls_client("pki2");
    fx_broker_config(&broker, "main", fx_free_port(FX_BROKER_ADDR), NULL);
    fx_broker_start(&broker, base);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (skip) return 0;
    fx_broker_stop(&broker, SIGTERM);
    gh_tls_client_free(tls);
    gh_tls_client_free(tls_wrong);
    event_base_free(base);
    fx_pki_cleanup();
    return 0;
}

static struct gh_mqttc_options options(char *id, size_t cap)
{
    snprintf(id, cap, "mqttc-test-%u-%d", ++client_seq, (int)getpid());
    struct gh_mqttc_options o = {
        .base = base,
        .host = FX_BROKER_ADDR,
        .port = broker.port,
        .server_name = FX_BROKER_NAME,
        .tls = tls,
        .client_id = id,
        .keepalive_s = 30,
        .clean_session = true,
        .window = 8,
        .backoff_min_ms = 50,
        .backoff_max_ms = 200,
    };
    return o;
}

static void connect_client(struct fx_rec *r, const struct gh_mqttc_options *o)
{
    assert_int_equal(gh_mqttc_new(o, &fx_cbs, r, &r->c), GH_OK);
    assert_int_equal(gh_mqttc_start(r->c), GH_OK);
    assert_true(gh_test_run_until(base, fx_is_connected, r, FX_WAIT_MS));
    assert_int_equal(r->connected, 1);
    assert_int_equal(r->windows, 1); /* on_window follows on_connected */
}

static void subscribe1(struct fx_rec *r, const char *filter, uint8_t qos, uint64_t cookie)
{
    const char *f[] = {filter};
    int before = r->suback_n;
    assert_int_equal(gh_mqttc_subscribe(r->c, f, &qos, 1, cookie), GH_OK);
    assert_true(wait_count(&r->suback_n, before + 1, FX_WAIT_MS));
    assert_int_equal(r->sub_cookie, cookie);
    assert_int_equal(r->ncodes, 1);
    assert_int_equal(r->codes[0], qos);
}

static void test_publish_window(void **state)
{
    (void)state;
    if (skip) skip();
    char id[64];
    struct gh_mqttc_options o = options(id, sizeof id);
    struct fx_rec r = {0};
    connect_client(&r, &o);
    subscribe1(&r, "w/#", 1, 77);

    assert_int_equal(gh_mqttc_publish(r.c, "w/zero", "q0", 2, 0, 0), GH_OK);
    assert_int_equal(gh_mqttc_inflight(r.c), 0); /* QoS 0 takes no slot */
    uint64_t n = 0;
    char payload[32];
    for (;;) {
        snprintf(payload, sizeof payload, "m%u", (unsigned)n);
        gh_err rc = gh_mqttc_publish(r.c, "w/one", payload, strlen(payload), 1, 100 + n);
        if (rc == GH_ERR_NOBUFS) break;
        assert_int_equal(rc, GH_OK);
        n++;
        assert_true(n <= 8);
    }
    assert_int_equal(n, 8);
    assert_int_equal(gh_mqttc_inflight(r.c), 8);
    assert_int_equal(gh_mqttc_publish(r.c, "w/one", "x", 1, 1, 999), GH_ERR_NOBUFS);
    /* QoS 0 still goes while the window is full */
    assert_int_equal(gh_mqttc_publish(r.c, "w/zero", "q0b", 3, 0, 0), GH_OK);

    assert_true(wait_size(&r.nacked, 8, FX_WAIT_MS));
    for (size_t i = 0; i < 8; i++) assert_int_equal(r.acked[i], 100 + i);
    assert_int_equal(gh_mqttc_inflight(r.c), 0);
    assert_true(r.windows >= 2); /* room again after NOBUFS */
    /* our own messages come back: 2 QoS 0 + 8 QoS 1 */
    assert_true(wait_size(&r.npubs, 10, FX_WAIT_MS));
    size_t q1 = 0;
    for (size_t i = 0; i < r.npubs; i++) {
        if (r.pubs[i].qos != 1) continue;
        assert_string_equal(r.pubs[i].topic, "w/one");
        assert_int_equal(gh_mqttc_puback(r.c, r.pubs[i].pid), GH_OK);
        q1++;
    }
    assert_int_equal(q1, 8);

    struct gh_mqttc_stats st;
    gh_mqttc_get_stats(r.c, &st);
    assert_int_equal(st.connects, 1);
    assert_int_equal(st.sent, 10);
    assert_int_equal(st.acked, 8);
    assert_int_equal(st.received, 10);
    assert_true(st.bytes_in > 0 && st.bytes_out > 0);

    const char *f[] = {"w/#"};
    assert_int_equal(gh_mqttc_unsubscribe(r.c, f, 1, 78), GH_OK);
    assert_true(wait_count(&r.unsuback_n, 1, FX_WAIT_MS));
    assert_true(r.unsub_acked);
    assert_int_equal(r.sub_cookie, 78);

    gh_mqttc_stop(r.c);
    assert_true(wait_count(&r.disconnected, 1, FX_WAIT_MS));
    assert_int_equal(r.why, GH_OK);
    assert_int_equal(r.connack, -1);
    assert_false(gh_mqttc_connected(r.c));
    assert_int_equal(gh_mqttc_publish(r.c, "w/one", "x", 1, 0, 0), GH_ERR_CLOSED);
    fx_free(base, &r);
}

/* Deferred ack: an unacked QoS 1 message is redelivered (dup) to a
 * persistent session after a reconnect; acking it twice is NOT_FOUND. */
static void test_deferred_puback(void **state)
{
    (void)state;
    if (skip) skip();
    char id[64];
    struct gh_mqttc_options o = options(id, sizeof id);
    o.clean_session = false;
    struct fx_rec r = {0};
    connect_client(&r, &o);
    subscribe1(&r, "d/#", 1, 5);
    assert_int_equal(gh_mqttc_publish(r.c, "d/x", "hello", 5, 1, 1), GH_OK);
    assert_true(wait_size(&r.npubs, 1, FX_WAIT_MS));
    assert_int_equal(r.pubs[0].qos, 1);
    assert_false(r.pubs[0].dup);
    assert_string_equal(r.pubs[0].payload, "hello");

    /* not acked: stop and start again */
    gh_mqttc_stop(r.c);
    assert_true(wait_count(&r.disconnected, 1, FX_WAIT_MS));
    assert_int_equal(gh_mqttc_puback(r.c, r.pubs[0].pid), GH_ERR_CLOSED);
    assert_int_equal(gh_mqttc_start(r.c), GH_OK);
    assert_true(gh_test_run_until(base, fx_is_connected, &r, FX_WAIT_MS));
    assert_true(r.session_present);
    assert_true(wait_size(&r.npubs, 2, FX_WAIT_MS));
    assert_true(r.pubs[1].dup);
    assert_string_equal(r.pubs[1].payload, "hello");
    assert_int_equal(gh_mqttc_puback(r.c, r.pubs[1].pid), GH_OK);
    assert_int_equal(gh_mqttc_puback(r.c, r.pubs[1].pid), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_mqttc_puback(r.c, 0), GH_ERR_BAD_PACKET_ID);

    /* acked now: not delivered again after another reconnect */
    gh_mqttc_stop(r.c);
    assert_true(wait_count(&r.disconnected, 2, FX_WAIT_MS));
    assert_int_equal(gh_mqttc_start(r.c), GH_OK);
    assert_true(gh_test_run_until(base, fx_is_connected, &r, FX_WAIT_MS));
    /* drain a PINGREQ round trip's worth of time: a redelivery would come
     * right after CONNACK */
    gh_test_run_until(base, NULL, NULL, 300);
    assert_int_equal(r.npubs, 2);
    fx_free(base, &r);
}

static void test_keepalive(void **state)
{
    (void)state;
    if (skip) skip();
    char id[64];
    struct gh_mqttc_options o = options(id, sizeof id);
    o.keepalive_s = 1;
    struct fx_rec r = {0};
    connect_client(&r, &o);
    struct gh_mqttc_stats st = {0};
    int64_t end = fx_mono_ms() + 5000;
    while (st.pongs < 2 && fx_mono_ms() < end) {
        gh_test_run_until(base, NULL, NULL, 100);
        gh_mqttc_get_stats(r.c, &st);
    }
    assert_true(st.pings >= 2);
    assert_true(st.pongs >= 2);
    assert_true(gh_mqttc_connected(r.c));
    assert_int_equal(r.disconnected, 0);
    fx_free(base, &r);
}

/* Broker killed with 8 publishes in flight: all 8 cookies come back through
 * on_unacked, in send order; the client retries with backoff and connects
 * again once the broker is back. */
static void test_kill_restart(void **state)
{
    (void)state;
    if (skip) skip();
    char id[64];
    struct gh_mqttc_options o = options(id, sizeof id);
    struct fx_rec r = {0};
    connect_client(&r, &o);
    for (uint64_t i = 0; i < 8; i++)
        assert_int_equal(gh_mqttc_publish(r.c, "k/x", "p", 1, 1, 500 + i), GH_OK);
    assert_int_equal(gh_mqttc_inflight(r.c), 8);
    fx_broker_stop(&broker, SIGKILL);
    assert_true(wait_count(&r.disconnected, 1, FX_WAIT_MS));
    assert_int_equal(r.nunacked, 8);
    for (size_t i = 0; i < 8; i++) assert_int_equal(r.unacked[i], 500 + i);
    assert_int_equal(r.nacked, 0);
    assert_int_equal(gh_mqttc_inflight(r.c), 0);
    assert_int_equal(r.connack, -1);
    assert_int_equal(gh_mqttc_publish(r.c, "k/x", "p", 1, 1, 1), GH_ERR_CLOSED);

    /* retries fail (connection refused) while the broker is down */
    assert_true(wait_count(&r.disconnected, 3, FX_WAIT_MS));
    assert_int_equal(r.why, GH_ERR_IO);
    assert_int_equal(r.connected, 1);

    fx_broker_start(&broker, base);
    assert_true(gh_test_run_until(base, fx_is_connected, &r, FX_WAIT_MS));
    assert_int_equal(r.connected, 2);
    assert_int_equal(gh_mqttc_publish(r.c, "k/x", "p", 1, 1, 9), GH_OK);
    assert_true(wait_size(&r.nacked, 1, FX_WAIT_MS));
    assert_int_equal(r.acked[0], 9);
    struct gh_mqttc_stats st;
    gh_mqttc_get_stats(r.c, &st);
    assert_int_equal(st.connects, 2);
    assert_int_equal((int)st.disconnects, r.disconnected);
    fx_free(base, &r);
}

/* With a 60 s backoff the client would not come back within the test;
 * reconnect_now skips the wait. */
static void test_reconnect_now(void **state)
{
    (void)state;
    if (skip) skip();
    char id[64];
    struct gh_mqttc_options o = options(id, sizeof id);
    o.backoff_min_ms = 60000;
    o.backoff_max_ms = 60000;
    struct fx_rec r = {0};
    connect_client(&r, &o);
    fx_broker_stop(&broker, SIGKILL);
    assert_true(wait_count(&r.disconnected, 1, FX_WAIT_MS));
    fx_broker_start(&broker, base);
    /* deadline, not synchronisation: nothing may happen for 60 s */
    gh_test_run_until(base, NULL, NULL, 500);
    assert_false(gh_mqttc_connected(r.c));
    assert_int_equal(r.disconnected, 1);
    assert_int_equal(gh_mqttc_reconnect_now(r.c), GH_OK);
    assert_true(gh_test_run_until(base, fx_is_connected, &r, FX_WAIT_MS));
    assert_int_equal(r.connected, 2);
    assert_int_equal(gh_mqttc_reconnect_now(r.c), GH_OK); /* connected: nothing to do */
    gh_mqttc_stop(r.c);
    assert_int_equal(gh_mqttc_reconnect_now(r.c), GH_ERR_CLOSED);
    fx_free(base, &r);
}

static void test_wrong_ca(void **state)
{
    (void)state;
    if (skip) skip();
    char id[64];
    struct gh_mqttc_options o = options(id, sizeof id);
    o.tls = tls_wrong;
    struct fx_rec r = {0};
    assert_int_equal(gh_mqttc_new(&o, &fx_cbs, &r, &r.c), GH_OK);
    assert_int_equal(gh_mqttc_start(r.c), GH_OK);
    assert_true(wait_count(&r.disconnected, 1, FX_WAIT_MS));
    assert_int_equal(r.why, GH_ERR_CERT_VERIFY);
    assert_int_equal(r.connack, -1);
    assert_int_equal(r.connected, 0);
    assert_true(r.detail[0] != '\0');
    fx_free(base, &r);
}

/* A broker with a password file: the wrong password is refused with a
 * CONNACK code, the right one accepted; the callback runs on every connect;
 * a short-lived password makes the client reconnect on its own. */
static void test_connack_refused_and_refresh(void **state)
{
    (void)state;
    if (skip) skip();
    const char *pw = fx_path("passwd");
    assert_int_equal(fx_sh("mosquitto_passwd -c -b '%s' dev right >/dev/null 2>&1", pw), 0);
    struct fx_broker auth = {0};
    fx_broker_config(&auth, "auth", fx_free_port(FX_BROKER_ADDR), pw);
    fx_broker_start(&auth, base);

    char id[64];
    struct gh_mqttc_options o = options(id, sizeof id);
    o.port = auth.port;
    o.username = "dev";
    o.password = fx_password;
    o.backoff_min_ms = 60000;
    o.backoff_max_ms = 60000;
    struct fx_rec r = {.password = "wrong"};
    assert_int_equal(gh_mqttc_new(&o, &fx_cbs, &r, &r.c), GH_OK);
    assert_int_equal(gh_mqttc_start(r.c), GH_OK);
    assert_true(wait_count(&r.disconnected, 1, FX_WAIT_MS));
    assert_int_equal(r.why, GH_ERR_AUTH);
    assert_true(r.connack == GH_MQTT_CONNACK_BAD_CREDENTIALS ||
                r.connack == GH_MQTT_CONNACK_NOT_AUTHORIZED);
    assert_non_null(strstr(r.detail, "CONNACK"));
    assert_int_equal(r.password_calls, 1);

    /* the password callback failing aborts the attempt with its error */
    r.password = NULL;
    r.password_rc = GH_ERR_EXPIRED;
    assert_int_equal(gh_mqttc_reconnect_now(r.c), GH_OK);
    assert_true(wait_count(&r.disconnected, 2, FX_WAIT_MS));
    assert_int_equal(r.why, GH_ERR_EXPIRED);
    assert_int_equal(r.password_calls, 2);

    r.password = "right";
    r.expires_in_s = 2; /* refresh at 80%: 1.6 s */
    assert_int_equal(gh_mqttc_reconnect_now(r.c), GH_OK);
    assert_true(gh_test_run_until(base, fx_is_connected, &r, FX_WAIT_MS));
    assert_int_equal(r.password_calls, 3);
    assert_int_equal(gh_mqttc_publish(r.c, "a/b", "x", 1, 1, 42), GH_OK);

    r.expires_in_s = 0;
    assert_true(wait_count(&r.disconnected, 3, FX_WAIT_MS));
    assert_int_equal(r.why, GH_ERR_EXPIRED);
    assert_int_equal(r.nacked, 1);
    assert_int_equal(r.nunacked, 0);
    /* refresh reconnects at once, despite the 60 s backoff */
    assert_true(wait_count(&r.connected, 2, FX_WAIT_MS));
    assert_int_equal(r.password_calls, 4);
    fx_free(base, &r);
    fx_broker_stop(&auth, SIGTERM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_window),
        cmocka_unit_test(test_deferred_puback),
        cmocka_unit_test(test_keepalive),
        cmocka_unit_test(test_kill_restart),
        cmocka_unit_test(test_reconnect_now),
        cmocka_unit_test(test_wrong_ca),
        cmocka_unit_test(test_connack_refused_and_refresh),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
