/* libgatehouse-device against the real gatehouse hub (gh_hub_new,
 * in-process, sharing the hub's event loop): argument checking, telemetry
 * with properties read back from the hub's store, cloud-to-device, twin
 * get / reported / desired, a direct method round trip through the hub's
 * method API, SAS renewal with a 5 s token and X.509 authentication. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "device_fixture.h"

#define DEV "devlib-1"
#define DEV_X509 "devlib-x509"

static struct event_base *base;
static char key[GH_IDENTITY_KEY_MAX + 1];
static char connstr[512];

static int group_setup(void **state)
{
    (void)state;
    if (fx_pki_setup("client") != 0 || fx_hub_start() != 0) return -1;
    base = gh_hub_base(FX.hub);
    if (fx_device_sas(DEV, key) != 0) return -1;
    snprintf(connstr, sizeof connstr, "HostName=%s;DeviceId=%s;SharedAccessKey=%s", FX_HUB, DEV,
             key);
    /* X.509 device, authenticated by the thumbprint of its certificate. */
    if (fx_issue(GH_PKI_PROFILE_DEVICE, DEV_X509, fx_path("x.cert.pem"), fx_path("x.key.pem")) != 0)
        return -1;
    struct gh_identity in, out;
    memset(&in, 0, sizeof in);
    snprintf(in.device_id, sizeof in.device_id, DEV_X509);
    in.auth_type = GH_AUTH_SELF_SIGNED;
    if (fx_thumbprint(fx_path("x.cert.pem"), in.primary_thumbprint, sizeof in.primary_thumbprint))
        return -1;
    if (gh_store_identity_create(gh_hub_store(FX.hub), &in, &out) != GH_OK) return -1;
    gh_identity_wipe(&out);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (FX.hub) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        gh_hub_free(FX.hub);
    }
    fx_cleanup();
    return 0;
}

static void base_opts(struct gh_device_options *o)
{
    memset(o, 0, sizeof *o);
    o->event_base = base;
    o->auth = GH_DEVICE_AUTH_CONNECTION_STRING;
    o->connection_string = connstr;
    o->ca_file = FX.root_cert;
    o->connect_address = FX_ADDR;
    o->port = FX.port;
    o->backoff_min_ms = 100;
    o->backoff_max_ms = 500;
}

static void open_client(struct fx_rec *r, const struct gh_device_options *o)
{
    assert_int_equal(gh_device_client_new(o, &fx_cbs, r, &r->c), 0);
    if (!gh_test_run_until(base, fx_is_connected, r, FX_WAIT_MS))
        fail_msg("not connected: %s (%s)", gh_device_strerror(r->last_reason), r->detail);
}

static bool sent_n(void *a)
{
    struct fx_rec *r = a;
    return r->sent_ok + r->sent_err >= 1;
}

/* ---- arguments ------------------------------------------------------------------ */

static void test_errors(void **state)
{
    (void)state;
    struct gh_device_options o;
    struct gh_device_client *c = NULL;
    base_opts(&o);
    assert_int_equal(gh_device_client_new(NULL, &fx_cbs, NULL, &c), GH_DEVICE_EARG);
    assert_int_equal(gh_device_client_new(&o, &fx_cbs, NULL, NULL), GH_DEVICE_EARG);
    o.auth = 99;
    assert_int_equal(gh_device_client_new(&o, &fx_cbs, NULL, &c), GH_DEVICE_EARG);
    base_opts(&o);
    o.connection_string = "HostName=h.test;DeviceId";
    assert_int_equal(gh_device_client_new(&o, &fx_cbs, NULL, &c), GH_DEVICE_EBAD_CONNSTR);
    o.connection_string = "HostName=h.test;DeviceId=d;SharedAccessSignature=SharedAccessSignature "
                          "sr=h.test&sig=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8%3D&se=1";
    assert_int_equal(gh_device_client_new(&o, &fx_cbs, NULL, &c), GH_DEVICE_EBAD_CONNSTR);
    o.connection_string = "HostName=h.test;DeviceId=d;x509=true"; /* no certificate */
    assert_int_equal(gh_device_client_new(&o, &fx_cbs, NULL, &c), GH_DEVICE_EARG);
    base_opts(&o);
    o.sas_ttl_s = 1;
    assert_int_equal(gh_device_client_new(&o, &fx_cbs, NULL, &c), GH_DEVICE_EARG);
    base_opts(&o);
    o.backoff_min_ms = 5000;
    o.backoff_max_ms = 10;
    assert_int_equal(gh_device_client_new(&o, &fx_cbs, NULL, &c), GH_DEVICE_EARG);
    base_opts(&o);
    o.connect_address = "not-an-address";
    assert_int_equal(gh_device_client_new(&o, &fx_cbs, NULL, &c), GH_DEVICE_EARG);
    base_opts(&o);
    o.ca_file = fx_path("missing.pem");
    assert_int_equal(gh_device_client_new(&o, &fx_cbs, NULL, &c), GH_DEVICE_ENOENT);
    base_opts(&o);
    o.auth = GH_DEVICE_AUTH_X509;
    o.host = FX_HUB;
    o.device_id = DEV_X509;
    assert_int_equal(gh_device_client_new(&o, &fx_cbs, NULL, &c), GH_DEVICE_EARG); /* no files */
    base_opts(&o);
    o.auth = GH_DEVICE_AUTH_DPS_SYMMETRIC_KEY;
    o.dps_host = FX_DPS;
    o.id_scope = FX_SCOPE;
    o.registration_id = "reg-1";
    o.symmetric_key = "not base64!";
    assert_int_equal(gh_device_client_new(&o, &fx_cbs, NULL, &c), GH_DEVICE_EBAD_BASE64);
    o.symmetric_key = key;
    o.registration_id = "bad/id";
    assert_int_equal(gh_device_client_new(&o, &fx_cbs, NULL, &c), GH_DEVICE_EARG);
    o.registration_id = "reg-1";
    o.id_scope = NULL;
    assert_int_equal(gh_device_client_new(&o, &fx_cbs, NULL, &c), GH_DEVICE_EARG);
    assert_null(c);

    /* Calls on a client (never connected: the port is closed). */
    base_opts(&o);
    o.port = fx_free_port();
    o.buffer_msgs = 2;
    assert_int_equal(gh_device_client_new(&o, &fx_cbs, NULL, &c), 0);
    assert_int_equal(gh_device_client_run_once(c, 0), GH_DEVICE_EARG); /* caller's loop */
    assert_int_equal(gh_device_send(NULL, "x", 1, NULL, NULL, NULL), GH_DEVICE_EARG);
    assert_int_equal(gh_device_send(c, NULL, 1, NULL, NULL, NULL), GH_DEVICE_EARG);
    struct gh_device_property bad[] = {{"", "v"}};
    struct gh_device_message_props p = {.app = bad, .napp = 1};
    assert_int_equal(gh_device_send(c, "x", 1, &p, NULL, NULL), GH_DEVICE_EARG);
    p.napp = GH_DEVICE_PROPS_MAX + 1;
    assert_int_equal(gh_device_send(c, "x", 1, &p, NULL, NULL), GH_DEVICE_EARG);
    struct fx_rec r = {0};
    assert_int_equal(gh_device_send(c, "a", 1, NULL, fx_send_done, &r), 0);
    assert_int_equal(gh_device_send(c, "b", 1, NULL, fx_send_done, &r), 0);
    assert_int_equal(gh_device_send(c, "c", 1, NULL, fx_send_done, &r), GH_DEVICE_EQUEUE_FULL);
    assert_int_equal(gh_device_client_pending(c), 2);
    assert_int_equal(gh_device_twin_get(c, NULL, NULL), GH_DEVICE_EARG);
    assert_int_equal(gh_device_twin_report(c, NULL, 0, NULL, NULL), GH_DEVICE_EARG);
    for (unsigned i = 0; i < GH_DEVICE_REQUESTS_MAX; i++)
        assert_int_equal(gh_device_twin_get(c, fx_twin_done, &r), 0);
    assert_int_equal(gh_device_twin_get(c, fx_twin_done, &r), GH_DEVICE_ETOO_MANY);
    assert_int_equal(gh_device_method_respond(c, "1", 200, NULL, 0), GH_DEVICE_ECLOSED);
    assert_int_equal(gh_device_method_respond(c, NULL, 200, NULL, 0), GH_DEVICE_EARG);
    assert_false(gh_device_client_connected(c));
    gh_device_client_free(c); /* pending work completes with ECLOSED */
    assert_int_equal(r.sent_err, 2);
    assert_int_equal(r.send_results[0], GH_DEVICE_ECLOSED);
    assert_int_equal(r.twin_done, GH_DEVICE_REQUESTS_MAX);
    assert_int_equal(r.twin_status, -GH_DEVICE_ECLOSED);
    assert_string_equal(gh_device_strerror(GH_DEVICE_EQUEUE_FULL), "queue is full");
    assert_string_equal(gh_device_version(), GH_VERSION);
}

/* ---- telemetry ------------------------------------------------------------------ */

static void test_telemetry(void **state)
{
    (void)state;
    struct gh_device_options o;
    base_opts(&o);
    struct fx_rec r = {0};
    open_client(&r, &o);
    assert_string_equal(gh_device_client_hub(r.c), FX_HUB);
    assert_string_equal(gh_device_client_device_id(r.c), DEV);
    struct gh_device_property app[] = {{"color", "red & blue"}, {"flag", NULL}};
    struct gh_device_message_props p = {
        .message_id = "mid-42",
        .correlation_id = "cid-7",
        .content_type = "application/json",
        .content_encoding = "utf-8",
        .app = app,
        .napp = 2,
    };
    const char *body = "{\"temperature\":21.5}";
    assert_int_equal(gh_device_send(r.c, body, strlen(body), &p, fx_send_done, &r), 0);
    assert_true(gh_test_run_until(base, sent_n, &r, FX_WAIT_MS));
    assert_int_equal(r.sent_ok, 1);
    assert_int_equal(gh_device_client_pending(r.c), 0);

    struct gh_telemetry_query q = {.device_id = DEV};
    struct gh_telemetry_msg m[4];
    size_t n = 0;
    assert_int_equal(gh_store_telemetry_read(gh_hub_store(FX.hub), &q, m, 4, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_memory_equal(m[0].body, body, strlen(body));
    char *props = json_dumps(m[0].properties, JSON_COMPACT);
    assert_non_null(props);
    assert_non_null(strstr(props, "mid-42"));
    assert_non_null(strstr(props, "cid-7"));
    assert_non_null(strstr(props, "application/json"));
    assert_non_null(strstr(props, "\"color\":\"red & blue\""));
    free(props);
    for (size_t i = 0; i < n; i++) gh_telemetry_msg_cleanup(&m[i]);
    gh_device_client_free(r.c);
}

/* ---- cloud-to-device -------------------------------------------------------------- */

static bool got_c2d(void *a)
{
    return ((struct fx_rec *)a)->c2d >= 1;
}

static void test_c2d(void **state)
{
    (void)state;
    struct gh_device_options o;
    base_opts(&o);
    struct fx_rec r = {0};
    open_client(&r, &o);
    json_t *props = json_pack("{s:{s:s}}", "app", "color", "green");
    struct gh_c2d_send m = {
        .message_id = "c2d-1", .properties = props, .body = "hello", .body_len = 5};
    assert_int_equal(gh_store_c2d_enqueue(gh_hub_store(FX.hub), DEV, &m, NULL, NULL), GH_OK);
    json_decref(props);
    gh_hub_session_c2d_kick(FX.hub, DEV);
    assert_true(gh_test_run_until(base, got_c2d, &r, FX_WAIT_MS));
    assert_string_equal(r.c2d_body, "hello");
    assert_string_equal(r.c2d_mid, "c2d-1");
    assert_string_equal(r.c2d_app, "color=green;");
    /* Acknowledged: the queue is empty once the PUBACK arrived. */
    uint32_t left = 1;
    for (unsigned i = 0; i < 50 && left; i++) {
        gh_test_run_until(base, NULL, NULL, 20);
        assert_int_equal(gh_store_c2d_count(gh_hub_store(FX.hub), DEV, &left), GH_OK);
    }
    assert_int_equal(left, 0);
    gh_device_client_free(r.c);
}

/* ---- twin ------------------------------------------------------------------------ */

static bool twin_n(void *a)
{
    return ((struct fx_rec *)a)->twin_done >= 1;
}

static bool got_desired(void *a)
{
    return ((struct fx_rec *)a)->desired >= 1;
}

static void test_twin(void **state)
{
    (void)state;
    struct gh_device_options o;
    base_opts(&o);
    struct fx_rec r = {0};
    /* Requested before the connection exists: sent once subscribed. */
    assert_int_equal(gh_device_client_new(&o, &fx_cbs, &r, &r.c), 0);
    const char *patch = "{\"firmware\":\"1.2.0\"}";
    assert_int_equal(gh_device_twin_report(r.c, patch, strlen(patch), fx_twin_done, &r), 0);
    assert_true(gh_test_run_until(base, twin_n, &r, FX_WAIT_MS));
    assert_int_equal(r.twin_status, 204);
    assert_int_equal(r.twin_version, 2);

    r.twin_done = 0;
    assert_int_equal(gh_device_twin_get(r.c, fx_twin_done, &r), 0);
    assert_true(gh_test_run_until(base, twin_n, &r, FX_WAIT_MS));
    assert_int_equal(r.twin_status, 200);
    assert_non_null(strstr(r.twin_body, "\"firmware\":\"1.2.0\""));

    json_t *sp = json_pack("{s:{s:{s:i}}}", "properties", "desired", "targetTemp", 22);
    json_t *notify = NULL;
    assert_int_equal(
        gh_store_twin_service_patch(gh_hub_store(FX.hub), DEV, NULL, sp, NULL, &notify, NULL),
        GH_OK);
    json_decref(sp);
    assert_non_null(notify);
    gh_hub_session_desired(FX.hub, DEV, NULL, notify);
    json_decref(notify);
    assert_true(gh_test_run_until(base, got_desired, &r, FX_WAIT_MS));
    assert_int_equal(r.desired_version, 2);
    assert_non_null(strstr(r.desired_json, "\"targetTemp\":22"));
    gh_device_client_free(r.c);
}

/* ---- methods --------------------------------------------------------------------- */

struct method_result {
    bool done;
    int http, status;
    char payload[128];
};

static void method_cb(void *user, int http_status, int device_status, const char *payload,
                      size_t len)
{
    struct method_result *m = user;
    m->done = true;
    m->http = http_status;
    m->status = device_status;
    snprintf(m->payload, sizeof m->payload, "%.*s", (int)len, payload ? payload : "");
}

static bool method_done(void *a)
{
    return ((struct method_result *)a)->done;
}

static void test_method(void **state)
{
    (void)state;
    struct gh_device_options o;
    base_opts(&o);
    struct fx_rec r = {.respond = true};
    open_client(&r, &o);
    struct method_result res = {0};
    struct gh_hub_method_call *call = NULL;
    assert_int_equal(gh_hub_method_invoke(FX.hub, DEV, NULL, "reboot", "{\"delay\":3}", 5, 10,
                                          method_cb, &res, &call),
                     GH_OK);
    assert_true(gh_test_run_until(base, method_done, &res, FX_WAIT_MS));
    assert_int_equal(r.methods, 1);
    assert_string_equal(r.method_name, "reboot");
    assert_string_equal(r.method_payload, "{\"delay\":3}");
    assert_int_equal(res.http, 200);
    assert_int_equal(res.status, 201);
    assert_string_equal(res.payload, "{\"done\":true}");
    gh_device_client_free(r.c);
}

/* ---- SAS renewal -------------------------------------------------------------------- */

static bool renewed_twice(void *a)
{
    return ((struct fx_rec *)a)->connected >= 3;
}

static void test_sas_renewal(void **state)
{
    (void)state;
    struct gh_device_options o;
    base_opts(&o);
    o.sas_ttl_s = 5; /* renewed at 80%: a new CONNECT about every 4 s */
    struct fx_rec r = {0};
    open_client(&r, &o);
    assert_true(gh_test_run_until(base, renewed_twice, &r, 3 * FX_WAIT_MS));
    assert_int_equal(r.disconnected, 2);
    assert_int_equal(r.disc_reason, GH_DEVICE_EEXPIRED); /* renewal, not a failure */
    const char *body = "after renewals";
    assert_int_equal(gh_device_send(r.c, body, strlen(body), NULL, fx_send_done, &r), 0);
    assert_true(gh_test_run_until(base, sent_n, &r, FX_WAIT_MS));
    assert_int_equal(r.sent_ok, 1);
    gh_device_client_free(r.c);
}

/* ---- X.509 ------------------------------------------------------------------------- */

static void test_x509(void **state)
{
    (void)state;
    struct gh_device_options o;
    base_opts(&o);
    o.auth = GH_DEVICE_AUTH_X509;
    o.connection_string = NULL;
    o.host = FX_HUB;
    o.device_id = DEV_X509;
    o.cert_file = fx_path("x.cert.pem");
    o.key_file = fx_path("x.key.pem");
    struct fx_rec r = {0};
    open_client(&r, &o);
    assert_int_equal(gh_device_send(r.c, "x509", 4, NULL, fx_send_done, &r), 0);
    assert_true(gh_test_run_until(base, sent_n, &r, FX_WAIT_MS));
    assert_int_equal(r.sent_ok, 1);
    gh_device_client_free(r.c);

    /* The same through a connection string with x509=true. */
    char cs[256];
    snprintf(cs, sizeof cs, "HostName=%s;DeviceId=%s;x509=true", FX_HUB, DEV_X509);
    o.auth = GH_DEVICE_AUTH_CONNECTION_STRING;
    o.connection_string = cs;
    memset(&r, 0, sizeof r);
    open_client(&r, &o);
    gh_device_client_free(r.c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors), cmocka_unit_test(test_telemetry),
        cmocka_unit_test(test_c2d),    cmocka_unit_test(test_twin),
        cmocka_unit_test(test_method), cmocka_unit_test(test_sas_renewal),
        cmocka_unit_test(test_x509),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
