/* gh_mqttc against a scripted in-process TLS server (net/listener.h) on
 * 127.0.0.1: argument errors, the CONNECT it sends, CONNACK and keepalive
 * timeouts, every decode/protocol error path closing with its exact code,
 * pending-request limits, output back-pressure and on_window, and freeing
 * the client from inside a callback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mqttc_fixture.h"
#include "net/conn.h"
#include "net/listener.h"

struct srv {
    struct gh_tls_server *tls;
    struct gh_listener *l;
    uint16_t port;
    struct gh_conn *conn;
    int accepted;
    /* script */
    bool no_connack;
    uint8_t connack[8];
    size_t connack_len;
    const uint8_t *after; /* sent right after the CONNACK */
    size_t after_len;
    bool no_pingresp;
    bool no_suback;
    const uint8_t *sub_reply; /* instead of a proper SUBACK */
    size_t sub_reply_len;
    /* seen */
    int connects, pings, publishes, subscribes;
    struct gh_mqtt_connect k;
    char client_id[64], username[64], password[64];
};

static struct event_base *base;
static struct gh_tls_client *tls;
static struct srv S;

static void srv_write(struct gh_conn *c, const void *p, size_t n)
{
    if (n) assert_int_equal(gh_conn_write(c, p, n), GH_OK);
}

static void srv_packet(struct gh_conn *c, const struct gh_mqtt_packet *p)
{
    switch (p->type) {
    case GH_MQTT_CONNECT:
        S.connects++;
        S.k = p->u.connect;
        snprintf(S.client_id, sizeof S.client_id, "%.*s", (int)S.k.client_id.len,
                 (const char *)S.k.client_id.ptr);
        snprintf(S.username, sizeof S.username, "%.*s", (int)S.k.username.len,
                 (const char *)S.k.username.ptr);
        snprintf(S.password, sizeof S.password, "%.*s", (int)S.k.password.len,
                 (const char *)S.k.password.ptr);
        if (S.no_connack) return;
        srv_write(c, S.connack, S.connack_len);
        srv_write(c, S.after, S.after_len);
        break;
    case GH_MQTT_PINGREQ:
        S.pings++;
        if (!S.no_pingresp) srv_write(c, "\xd0\x00", 2);
        break;
    case GH_MQTT_PUBLISH:
        S.publishes++;
        if (p->u.publish.qos == 1) {
            uint8_t a[4] = {0x40, 2, (uint8_t)(p->u.publish.packet_id >> 8),
                            (uint8_t)p->u.publish.packet_id};
            srv_write(c, a, 4);
        }
        break;
    case GH_MQTT_SUBSCRIBE: {
        S.subscribes++;
        if (S.sub_reply) {
            srv_write(c, S.sub_reply, S.sub_reply_len);
            break;
        }
        if (S.no_suback) break;
        uint8_t a[4 + GH_MQTT_MAX_SUBSCRIPTIONS];
        size_t n = p->u.subscribe.count;
        a[0] = 0x90;
        a[1] = (uint8_t)(2 + n);
        a[2] = (uint8_t)(p->u.subscribe.packet_id >> 8);
        a[3] = (uint8_t)p->u.subscribe.packet_id;
        for (size_t i = 0; i < n; i++) a[4 + i] = p->u.subscribe.subs[i].qos;
        srv_write(c, a, 4 + n);
        break;
    }
    default:
        break;
    }
}

/* Test server input: whole packets only (they are small here). */
static void srv_read(struct gh_conn *c, void *user)
{
    (void)user;
    struct gh_mqtt_ctx ctx;
    assert_int_equal(gh_mqtt_ctx_init(&ctx, NULL), GH_OK);
    for (;;) {
        size_t avail = gh_conn_input_len(c);
        if (avail < 2) return;
        struct gh_slice s;
        assert_int_equal(gh_conn_peek(c, avail, &s), GH_OK);
        struct gh_reader r;
        gh_reader_init(&r, s.ptr + 1, s.len - 1);
        uint32_t rem;
        if (gh_reader_varint(&r, &rem) != GH_OK) return;
        size_t total = 1 + r.pos + rem;
        if (total > avail) return;
        struct gh_mqtt_packet p;
        assert_int_equal(gh_mqtt_decode(&ctx, (struct gh_slice){s.ptr, total}, &p), GH_OK);
        srv_packet(c, &p);
        if (S.conn != c) return;
        assert_int_equal(gh_conn_consume(c, total), GH_OK);
    }
}

static void srv_close(struct gh_conn *c, gh_err reason, void *user)
{
    (void)reason, (void)user;
    if (S.conn == c) S.conn = NULL;
}

static const struct gh_conn_callbacks srv_cbs = {.on_read = srv_read, .on_close = srv_close};

static void srv_accept(struct gh_listener *l, struct gh_conn *c, void *user)
{
    (void)l, (void)user;
    S.accepted++;
    S.conn = c;
    gh_conn_set_callbacks(c, &srv_cbs, NULL);
}

static void srv_reset(void)
{
    if (S.conn) gh_conn_abort(S.conn);
    S.conn = NULL;
    for (int i = 0; i < 3; i++) event_base_loop(base, EVLOOP_NONBLOCK);
    struct gh_tls_server *t = S.tls;
    struct gh_listener *l = S.l;
    uint16_t port = S.port;
    memset(&S, 0, sizeof S);
    S.tls = t;
    S.l = l;
    S.port = port;
    memcpy(S.connack, "\x20\x02\x00\x00", 4);
    S.connack_len = 4;
}

static int group_setup(void **state)
{
    (void)state;
    if (fx_pki_setup("scripted") != 0) return -1;
    base = event_base_new();
    tls = fx_tls_client("pki");
    char cert[400], key[400];
    snprintf(cert, sizeof cert, "%s/pki/certs/broker.chain.pem", fx_dir);
    snprintf(key, sizeof key, "%s/pki/private/broker.key.pem", fx_dir);
    struct gh_tls_server_config sc = {.default_id = {.cert_file = cert, .key_file = key}};
    char detail[GH_TLS_DETAIL_MAX];
    if (gh_tls_server_new(&sc, &S.tls, detail, sizeof detail) != GH_OK) return -1;
    if (gh_listener_new(base, "127.0.0.1:0", S.tls, NULL, srv_accept, NULL, &S.l, detail,
                        sizeof detail) != GH_OK)
        return -1;
    S.port = gh_listener_port(S.l);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    srv_reset();
    gh_listener_free(S.l);
    gh_tls_server_free(S.tls);
    gh_tls_client_free(tls);
    event_base_free(base);
    fx_pki_cleanup();
    return 0;
}

static int each_setup(void **state)
{
    (void)state;
    srv_reset();
    return 0;
}

static struct gh_mqttc_options options(void)
{
    struct gh_mqttc_options o = {
        .base = base,
        .host = "127.0.0.1",
        .port = S.port,
        .server_name = FX_BROKER_NAME,
        .tls = tls,
        .client_id = "scripted",
        .keepalive_s = 30,
        .clean_session = true,
        .window = 1,
        .backoff_min_ms = 60000,
        .backoff_max_ms = 60000,
    };
    return o;
}

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

static bool acked_one(void *a)
{
    return ((struct fx_rec *)a)->nacked >= 1;
}

static void start(struct fx_rec *r, const struct gh_mqttc_options *o)
{
    assert_int_equal(gh_mqttc_new(o, &fx_cbs, r, &r->c), GH_OK);
    assert_int_equal(gh_mqttc_start(r->c), GH_OK);
}

static void connect_ok(struct fx_rec *r, const struct gh_mqttc_options *o)
{
    start(r, o);
    assert_true(gh_test_run_until(base, fx_is_connected, r, FX_WAIT_MS));
}

static void test_args(void **state)
{
    (void)state;
    struct fx_rec r = {0};
    struct gh_mqttc *c = NULL;
    struct gh_mqttc_options o = options();
    assert_int_equal(gh_mqttc_new(NULL, &fx_cbs, &r, &c), GH_ERR_ARG);
    assert_int_equal(gh_mqttc_new(&o, NULL, &r, &c), GH_ERR_ARG);
    assert_int_equal(gh_mqttc_new(&o, &fx_cbs, &r, NULL), GH_ERR_ARG);
    struct gh_mqttc_options bad;
    bad = o, bad.base = NULL;
    assert_int_equal(gh_mqttc_new(&bad, &fx_cbs, &r, &c), GH_ERR_ARG);
    bad = o, bad.tls = NULL;
    assert_int_equal(gh_mqttc_new(&bad, &fx_cbs, &r, &c), GH_ERR_ARG);
    bad = o, bad.host = "";
    assert_int_equal(gh_mqttc_new(&bad, &fx_cbs, &r, &c), GH_ERR_ARG);
    bad = o, bad.port = 0;
    assert_int_equal(gh_mqttc_new(&bad, &fx_cbs, &r, &c), GH_ERR_ARG);
    bad = o, bad.client_id = NULL;
    assert_int_equal(gh_mqttc_new(&bad, &fx_cbs, &r, &c), GH_ERR_ARG);
    bad = o, bad.window = 0;
    assert_int_equal(gh_mqttc_new(&bad, &fx_cbs, &r, &c), GH_ERR_ARG);
    bad = o, bad.window = GH_MQTTC_WINDOW_MAX + 1;
    assert_int_equal(gh_mqttc_new(&bad, &fx_cbs, &r, &c), GH_ERR_ARG);
    bad = o, bad.backoff_min_ms = 10, bad.backoff_max_ms = 5;
    assert_int_equal(gh_mqttc_new(&bad, &fx_cbs, &r, &c), GH_ERR_ARG);
    bad = o, bad.max_packet = GH_MQTT_MIN_PACKET_LIMIT - 1;
    assert_int_equal(gh_mqttc_new(&bad, &fx_cbs, &r, &c), GH_ERR_ARG);
    bad = o, bad.out_high = 1;
    assert_int_equal(gh_mqttc_new(&bad, &fx_cbs, &r, &c), GH_ERR_ARG);
    char longid[GH_MQTTC_ID_MAX + 2];
    memset(longid, 'a', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    bad = o, bad.client_id = longid;
    assert_int_equal(gh_mqttc_new(&bad, &fx_cbs, &r, &c), GH_ERR_ARG);
    bad = o, bad.username = longid;
    assert_int_equal(gh_mqttc_new(&bad, &fx_cbs, &r, &c), GH_ERR_ARG);
    assert_null(c);

    assert_int_equal(gh_mqttc_new(&o, &fx_cbs, &r, &c), GH_OK);
    const char *f[] = {"a"};
    uint8_t q = 0;
    assert_int_equal(gh_mqttc_publish(c, "a", "x", 1, 0, 0), GH_ERR_CLOSED);
    assert_int_equal(gh_mqttc_publish(c, "a", "x", 1, 2, 0), GH_ERR_BAD_QOS);
    assert_int_equal(gh_mqttc_publish(c, NULL, "x", 1, 0, 0), GH_ERR_ARG);
    assert_int_equal(gh_mqttc_publish(c, "a", NULL, 1, 0, 0), GH_ERR_ARG);
    assert_int_equal(gh_mqttc_publish(NULL, "a", "x", 1, 0, 0), GH_ERR_ARG);
    assert_int_equal(gh_mqttc_subscribe(c, f, &q, 1, 0), GH_ERR_CLOSED);
    assert_int_equal(gh_mqttc_subscribe(c, f, &q, 0, 0), GH_ERR_ARG);
    assert_int_equal(gh_mqttc_subscribe(c, f, NULL, 1, 0), GH_ERR_ARG);
    assert_int_equal(gh_mqttc_subscribe(c, NULL, &q, 1, 0), GH_ERR_ARG);
    assert_int_equal(gh_mqttc_subscribe(c, f, &q, GH_MQTT_MAX_SUBSCRIPTIONS + 1, 0), GH_ERR_ARG);
    assert_int_equal(gh_mqttc_unsubscribe(c, f, 1, 0), GH_ERR_CLOSED);
    assert_int_equal(gh_mqttc_unsubscribe(c, f, 0, 0), GH_ERR_ARG);
    assert_int_equal(gh_mqttc_puback(c, 1), GH_ERR_CLOSED);
    assert_int_equal(gh_mqttc_puback(NULL, 1), GH_ERR_ARG);
    assert_int_equal(gh_mqttc_reconnect_now(c), GH_ERR_CLOSED);
    assert_int_equal(gh_mqttc_reconnect_now(NULL), GH_ERR_ARG);
    assert_int_equal(gh_mqttc_start(NULL), GH_ERR_ARG);
    assert_false(gh_mqttc_connected(c));
    assert_int_equal(gh_mqttc_inflight(c), 0);
    gh_mqttc_stop(c); /* not started: no-op */
    gh_mqttc_free(c);
    gh_mqttc_free(NULL);
    assert_int_equal(r.disconnected, 0);
}

static void test_connect_fields(void **state)
{
    (void)state;
    struct gh_mqttc_options o = options();
    o.client_id = "dev-7";
    o.username = "hub/dev-7/?api-version=2021-04-12";
    o.password = fx_password;
    o.keepalive_s = 45;
    o.clean_session = false;
    S.connack[2] = 1; /* session present */
    struct fx_rec r = {.password = "SharedAccessSignature sr=x"};
    connect_ok(&r, &o);
    assert_true(r.session_present);
    assert_int_equal(S.connects, 1);
    assert_string_equal(S.client_id, "dev-7");
    assert_true(S.k.has_username);
    assert_string_equal(S.username, "hub/dev-7/?api-version=2021-04-12");
    assert_true(S.k.has_password);
    assert_string_equal(S.password, "SharedAccessSignature sr=x");
    assert_int_equal(S.k.keep_alive, 45);
    assert_false(S.k.clean_session);
    assert_int_equal(r.password_calls, 1);
    fx_free(base, &r);

    /* no user name, no password callback */
    srv_reset();
    o = options();
    struct fx_rec r2 = {0};
    connect_ok(&r2, &o);
    assert_false(S.k.has_username);
    assert_false(S.k.has_password);
    assert_true(S.k.clean_session);
    assert_false(r2.session_present);
    assert_int_equal(gh_mqttc_puback(r2.c, 5), GH_ERR_NOT_FOUND);
    fx_free(base, &r2);
}

static void test_connack_timeout(void **state)
{
    (void)state;
    S.no_connack = true;
    struct gh_mqttc_options o = options();
    o.connack_timeout_ms = 300;
    struct fx_rec r = {0};
    start(&r, &o);
    assert_true(wait_count(&r.disconnected, 1, FX_WAIT_MS));
    assert_int_equal(r.why, GH_ERR_TIMEOUT);
    assert_int_equal(r.connack, -1);
    assert_non_null(strstr(r.detail, "CONNACK"));
    assert_int_equal(r.connected, 0);
    fx_free(base, &r);
}

static void test_keepalive_timeout(void **state)
{
    (void)state;
    S.no_pingresp = true;
    struct gh_mqttc_options o = options();
    o.keepalive_s = 1;
    struct fx_rec r = {0};
    connect_ok(&r, &o);
    assert_true(wait_count(&r.disconnected, 1, FX_WAIT_MS));
    assert_int_equal(r.why, GH_ERR_TIMEOUT);
    assert_non_null(strstr(r.detail, "keepalive"));
    assert_true(S.pings >= 1);
    struct gh_mqttc_stats st;
    gh_mqttc_get_stats(r.c, &st);
    assert_true(st.pings >= 1);
    assert_int_equal(st.pongs, 0);
    fx_free(base, &r);
}

struct bad_case {
    const char *name;
    const uint8_t *connack; /* NULL: the normal one */
    size_t connack_len;
    const uint8_t *after;
    size_t after_len;
    size_t max_packet;
    gh_err want;
    int want_connack;
};

#define B(s) (const uint8_t *)(s), sizeof(s) - 1

static void test_bad_input(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"qos2 publish", NULL, 0, B("\x34\x05\x00\x01t\x00\x01"), 0, GH_ERR_BAD_QOS, -1},
        {"pubrel", NULL, 0, B("\x62\x02\x00\x01"), 0, GH_ERR_BAD_QOS, -1},
        {"pubrec", NULL, 0, B("\x50\x02\x00\x01"), 0, GH_ERR_BAD_QOS, -1},
        {"unknown puback", NULL, 0, B("\x40\x02\x00\x07"), 0, GH_ERR_BAD_PACKET_ID, -1},
        {"unsolicited suback", NULL, 0, B("\x90\x03\x00\x09\x00"), 0, GH_ERR_BAD_PACKET_ID, -1},
        {"unsolicited unsuback", NULL, 0, B("\xb0\x02\x00\x09"), 0, GH_ERR_BAD_PACKET_ID, -1},
        {"truncated publish", NULL, 0,
         B("\x30\x03\x00\x05"
           "a"),
         0, GH_ERR_TRUNCATED, -1},
        {"publish pid 0", NULL, 0, B("\x32\x05\x00\x01t\x00\x00"), 0, GH_ERR_BAD_PACKET_ID, -1},
        {"wildcard topic", NULL, 0, B("\x30\x03\x00\x01#"), 0, GH_ERR_BAD_TOPIC, -1},
        {"reserved type", NULL, 0, B("\xf0\x00"), 0, GH_ERR_BAD_PACKET_TYPE, -1},
        {"bad flags", NULL, 0, B("\xd1\x00"), 0, GH_ERR_BAD_FLAGS, -1},
        {"second connack", NULL, 0, B("\x20\x02\x00\x00"), 0, GH_ERR_BAD_PHASE, -1},
        {"subscribe from server", NULL, 0, B("\x82\x06\x00\x01\x00\x01t\x00"), 0, GH_ERR_BAD_PHASE,
         -1},
        {"bad varint", NULL, 0, B("\x30\xff\xff\xff\xff\x01"), 0, GH_ERR_BAD_VARINT, -1},
        {"too large", NULL, 0, B("\x30\x64"), 64, GH_ERR_TOO_LARGE, -1},
        {"pingresp trailing", NULL, 0, B("\xd0\x01\x00"), 0, GH_ERR_TRAILING_BYTES, -1},
        {"refused 5", B("\x20\x02\x00\x05"), NULL, 0, 0, GH_ERR_AUTH, 5},
        {"refused 2", B("\x20\x02\x00\x02"), NULL, 0, 0, GH_ERR_AUTH, 2},
        {"connack unknown code", B("\x20\x02\x00\x09"), NULL, 0, 0, GH_ERR_MALFORMED, -1},
        {"connack reserved bits", B("\x20\x02\x02\x00"), NULL, 0, 0, GH_ERR_MALFORMED, -1},
        {"publish first", B("\x30\x03\x00\x01t"), NULL, 0, 0, GH_ERR_BAD_PHASE, -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct bad_case *k = &cases[i];
        srv_reset();
        if (k->connack) {
            memcpy(S.connack, k->connack, k->connack_len);
            S.connack_len = k->connack_len;
        }
        S.after = k->after;
        S.after_len = k->after_len;
        struct gh_mqttc_options o = options();
        o.max_packet = k->max_packet;
        struct fx_rec r = {0};
        start(&r, &o);
        if (!wait_count(&r.disconnected, 1, FX_WAIT_MS)) fail_msg("%s: no disconnect", k->name);
        if (r.why != k->want)
            fail_msg("%s: got %s (%s), want %s", k->name, gh_err_name(r.why), r.detail,
                     gh_err_name(k->want));
        assert_int_equal(r.connack, k->want_connack);
        assert_true(r.detail[0] != '\0');
        fx_free(base, &r);
    }
}

static void test_suback_mismatch(void **state)
{
    (void)state;
    /* window 1: the first SUBSCRIBE has packet id 2 */
    S.sub_reply = (const uint8_t *)"\x90\x04\x00\x02\x01\x01";
    S.sub_reply_len = 6;
    struct gh_mqttc_options o = options();
    struct fx_rec r = {0};
    connect_ok(&r, &o);
    const char *f[] = {"a/b"};
    uint8_t q = 1;
    assert_int_equal(gh_mqttc_subscribe(r.c, f, &q, 1, 31), GH_OK);
    assert_true(wait_count(&r.disconnected, 1, FX_WAIT_MS));
    assert_int_equal(r.why, GH_ERR_MALFORMED);
    assert_int_equal(r.suback_n, 1); /* reported as dropped */
    assert_int_equal(r.sub_cookie, 31);
    assert_int_equal(r.ncodes, 0);
    fx_free(base, &r);
}

static void test_pending_limits(void **state)
{
    (void)state;
    S.no_suback = true;
    struct gh_mqttc_options o = options();
    struct fx_rec r = {0};
    connect_ok(&r, &o);
    const char *f[] = {"a/+"};
    uint8_t q = 1, q2 = 2;
    const char *badf[] = {"a/#/b"};
    assert_int_equal(gh_mqttc_subscribe(r.c, f, &q2, 1, 0), GH_ERR_BAD_QOS);
    assert_int_equal(gh_mqttc_subscribe(r.c, badf, &q, 1, 0), GH_ERR_BAD_TOPIC);
    assert_int_equal(gh_mqttc_unsubscribe(r.c, badf, 1, 0), GH_ERR_BAD_TOPIC);
    for (unsigned i = 0; i < GH_MQTTC_PENDING_SUBS_MAX - 1; i++)
        assert_int_equal(gh_mqttc_subscribe(r.c, f, &q, 1, i), GH_OK);
    assert_int_equal(gh_mqttc_unsubscribe(r.c, f, 1, 99), GH_OK);
    assert_int_equal(gh_mqttc_subscribe(r.c, f, &q, 1, 100), GH_ERR_TOO_MANY);
    assert_int_equal(gh_mqttc_unsubscribe(r.c, f, 1, 100), GH_ERR_TOO_MANY);
    assert_true(wait_count(&S.subscribes, (int)GH_MQTTC_PENDING_SUBS_MAX - 1, FX_WAIT_MS));
    gh_conn_abort(S.conn);
    assert_true(wait_count(&r.disconnected, 1, FX_WAIT_MS));
    assert_int_equal(r.why, GH_ERR_CLOSED);
    assert_int_equal(r.suback_n, (int)GH_MQTTC_PENDING_SUBS_MAX - 1);
    assert_int_equal(r.unsuback_n, 1);
    assert_false(r.unsub_acked);
    fx_free(base, &r);
}

static void test_backpressure(void **state)
{
    (void)state;
    struct gh_mqttc_options o = options();
    o.out_high = 8192;
    o.window = 4;
    struct fx_rec r = {0};
    connect_ok(&r, &o);
    static char big[9000];
    memset(big, 'x', sizeof big);
    assert_int_equal(gh_mqttc_publish(r.c, "t", big, sizeof big, 0, 0), GH_ERR_TOO_LARGE);
    assert_int_equal(gh_mqttc_publish(r.c, "a/#", "x", 1, 0, 0), GH_ERR_BAD_TOPIC);
    assert_int_equal(gh_mqttc_publish(r.c, "", "x", 1, 0, 0), GH_ERR_BAD_TOPIC);
    /* the loop does not run: output queues until out_high */
    int n = 0;
    gh_err rc;
    while ((rc = gh_mqttc_publish(r.c, "t", big, 1000, 0, 0)) == GH_OK) {
        n++;
        assert_true(n < 100);
    }
    assert_int_equal(rc, GH_ERR_NOBUFS);
    assert_true(n >= 7);
    /* QoS 1 refused by back-pressure takes no window slot */
    assert_int_equal(gh_mqttc_publish(r.c, "t", big, 1000, 1, 1), GH_ERR_NOBUFS);
    assert_int_equal(gh_mqttc_inflight(r.c), 0);
    int w = r.windows;
    assert_true(wait_count(&r.windows, w + 1, FX_WAIT_MS));
    assert_true(wait_count(&S.publishes, n, FX_WAIT_MS));
    assert_int_equal(gh_mqttc_publish(r.c, "t", big, 1000, 1, 1), GH_OK);
    assert_true(gh_test_run_until(base, acked_one, &r, FX_WAIT_MS));
    assert_int_equal(r.acked[0], 1);
    fx_free(base, &r);
}

static void test_free_in_callback(void **state)
{
    (void)state;
    struct gh_mqttc_options o = options();
    o.window = 2;
    struct fx_rec r = {.free_on_disconnect = true};
    connect_ok(&r, &o);
    assert_int_equal(gh_mqttc_publish(r.c, "t", "x", 1, 1, 1), GH_OK);
    gh_conn_abort(S.conn);
    assert_true(wait_count(&r.disconnected, 1, FX_WAIT_MS));
    assert_null(r.c);
    /* no further callback: the loop runs on with nothing to report */
    gh_test_run_until(base, NULL, NULL, 100);
    assert_int_equal(r.disconnected, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_args, each_setup),
        cmocka_unit_test_setup(test_connect_fields, each_setup),
        cmocka_unit_test_setup(test_connack_timeout, each_setup),
        cmocka_unit_test_setup(test_keepalive_timeout, each_setup),
        cmocka_unit_test_setup(test_bad_input, each_setup),
        cmocka_unit_test_setup(test_suback_mismatch, each_setup),
        cmocka_unit_test_setup(test_pending_limits, each_setup),
        cmocka_unit_test_setup(test_backpressure, each_setup),
        cmocka_unit_test_setup(test_free_in_callback, each_setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
