/* The REST API in process (rest_fixture.h), the held and side-effect
 * paths: direct methods (offline, connect timeout, client gone), C2D,
 * telemetry reads with long polls, certificates with proof of possession,
 * and shutdown with a request still held. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rest_fixture.h"

static void test_methods(void **state)
{
    (void)state;
    json_t *j;
    assert_int_equal(simple("PUT", "/devices/dev-x", "{}", NULL), 200);
    expect_simple_error(404, "DeviceNotOnline", "POST", "/twins/dev-x/methods",
                        "{\"methodName\":\"reboot\",\"payload\":{\"a\":1}}");
    int64_t t0 = gh_hub_now_ms();
    expect_simple_error(404, "DeviceNotOnline", "POST", "/twins/dev-x/methods",
                        "{\"methodName\":\"reboot\",\"connectTimeoutInSeconds\":1}");
    assert_true(gh_hub_now_ms() - t0 >= 900);
    expect_simple_error(404, "DeviceNotFound", "POST", "/twins/nope/methods",
                        "{\"methodName\":\"reboot\"}");
    expect_simple_error(404, "ModuleNotFound", "POST", "/twins/dev-x/modules/m/methods",
                        "{\"methodName\":\"reboot\"}");
    expect_simple_error(400, "ArgumentInvalid", "POST", "/twins/dev-x/methods",
                        "{\"methodName\":\"bad/name\"}");
    expect_simple_error(400, "ArgumentInvalid", "POST", "/twins/dev-x/methods", "{}");
    /* The client goes away while the call waits: the call is cancelled. */
    struct rq r = {.method = "POST",
                   .target = "/twins/dev-x/methods",
                   .body = "{\"methodName\":\"reboot\",\"connectTimeoutInSeconds\":30}"};
    struct done d;
    start(&r, &d);
    bool cancelled = false;
    struct later l;
    after_ms(&l, 300, cancel_client, &cancelled);
    while (!cancelled) assert_true(event_base_loop(T.base, EVLOOP_ONCE) >= 0);
    event_free(l.ev);
    assert_false(d.fired);
    /* Let the server see the close, then the hub still answers. */
    for (int i = 0; i < 5; i++) event_base_loop(T.base, EVLOOP_NONBLOCK);
    assert_int_equal(simple("GET", "/devices/dev-x", NULL, &j), 200);
    json_decref(j);
}

static void test_c2d(void **state)
{
    (void)state;
    json_t *j;
    assert_int_equal(simple("PUT", "/devices/dev-c", "{}", NULL), 200);
    struct gh_http_kv h[] = {
        {"iothub-messageid", "m-1"}, {"iothub-correlationid", "c-1"}, {"iothub-ack", "full"},
        {"iothub-app-color", "red"}, {"Content-Encoding", "utf-8"},
    };
    struct rq r = {.method = "POST",
                   .target = "/devices/dev-c/messages/deviceBound",
                   .body = "hello",
                   .ctype = "text/plain",
                   .h = h,
                   .nh = sizeof h / sizeof h[0]};
    assert_int_equal(call(&r, &j, NULL), 200);
    char *t = json_dumps(j, JSON_COMPACT);
    assert_string_equal(t, "{\"messageId\":\"m-1\",\"deviceId\":\"dev-c\",\"queueDepth\":1}");
    free(t);
    json_decref(j);
    /* What the store holds for delivery. */
    struct gh_c2d_msg m;
    bool found = false;
    assert_int_equal(gh_store_c2d_next(gh_hub_store(T.hub), "dev-c", &m, &found, NULL), GH_OK);
    assert_true(found);
    assert_string_equal(m.message_id, "m-1");
    assert_int_equal(m.ack, GH_C2D_ACK_FULL);
    assert_int_equal(m.body_len, 5);
    assert_memory_equal(m.body, "hello", 5);
    t = json_dumps(m.properties, JSON_COMPACT);
    assert_string_equal(t,
                        "{\"system\":{\"content-type\":\"text/plain\",\"correlation-id\":\"c-1\","
                        "\"content-encoding\":\"utf-8\"},\"app\":{\"color\":\"red\"}}");
    free(t);
    assert_true(m.expiry_ms > gh_hub_now_ms() + 3500 * 1000);
    gh_c2d_msg_cleanup(&m);
    /* Generated id; bad headers; unknown device; too large. */
    r.nh = 0;
    assert_int_equal(call(&r, &j, NULL), 200);
    assert_int_equal(strlen(json_string_value(json_object_get(j, "messageId"))),
                     GH_HUB_GUID_LEN - 1);
    assert_int_equal(json_integer_value(json_object_get(j, "queueDepth")), 2);
    json_decref(j);
    struct gh_http_kv bad = {"iothub-ack", "maybe"};
    r.h = &bad;
    r.nh = 1;
    expect_error(400, "ArgumentInvalid", &r);
    r.nh = 0;
    r.target = "/devices/nope/messages/devicebound";
    expect_error(404, "DeviceNotFound", &r);
    char *big = calloc(1, GH_C2D_BODY_MAX + 2);
    memset(big, 'a', GH_C2D_BODY_MAX + 1);
    r.target = "/devices/dev-c/messages/deviceBound";
    r.body = big;
    expect_error(413, "MessageTooLarge", &r);
    big[GH_C2D_BODY_MAX] = '\0';
    assert_int_equal(call(&r, NULL, NULL), 200);
    free(big);
    /* Queue full at GH_C2D_QUEUE_MAX. */
    r.body = "x";
    for (int i = 4; i <= GH_C2D_QUEUE_MAX; i++) assert_int_equal(call(&r, NULL, NULL), 200);
    expect_error(403, "DeviceMaximumQueueDepthExceeded", &r);
    assert_int_equal(simple("DELETE", "/devices/dev-c/commands", NULL, &j), 200);
    t = json_dumps(j, JSON_COMPACT);
    assert_string_equal(t, "{\"totalMessagesPurged\":50,\"deviceId\":\"dev-c\"}");
    free(t);
    json_decref(j);
    expect_simple_error(404, "DeviceNotFound", "DELETE", "/devices/nope/commands", NULL);
}

static void append_telemetry(void *arg)
{
    const char *device = arg;
    json_t *props = json_pack("{s:{s:s},s:{}}", "system", "message-id", "late", "app");
    struct gh_telemetry_in in = {
        .device_id = device, .properties = props, .body = "late", .body_len = 4};
    assert_int_equal(gh_store_telemetry_append_batch(gh_hub_store(T.hub), &in, 1, NULL), GH_OK);
    json_decref(props);
}

static void test_telemetry(void **state)
{
    (void)state;
    json_t *j;
    struct gh_telemetry_stats st;
    assert_int_equal(gh_store_telemetry_stats(gh_hub_store(T.hub), &st), GH_OK);
    char target[256];
    snprintf(target, sizeof target, "/gatehouse/telemetry?after=%lld", (long long)st.last_seq);
    assert_int_equal(simple("GET", target, NULL, &j), 200);
    char *t = json_dumps(j, JSON_COMPACT);
    char want[128];
    snprintf(want, sizeof want, "{\"messages\":[],\"lastSeq\":%lld}", (long long)st.last_seq);
    assert_string_equal(t, want);
    free(t);
    json_decref(j);
    /* Three messages, read one page at a time. */
    json_t *props = json_object();
    struct gh_telemetry_in in[3] = {
        {.device_id = "tel-1", .properties = props, .body = "{\"t\":1}", .body_len = 7},
        {.device_id = "tel-2",
         .module_id = "mod",
         .properties = props,
         .body = "\xff",
         .body_len = 1},
        {.device_id = "tel-1", .properties = props, .body = "", .body_len = 0},
    };
    int64_t first = 0;
    assert_int_equal(gh_store_telemetry_append_batch(gh_hub_store(T.hub), in, 3, &first), GH_OK);
    json_decref(props);
    snprintf(target, sizeof target, "/gatehouse/telemetry?after=%lld&limit=1",
             (long long)first - 1);
    assert_int_equal(simple("GET", target, NULL, &j), 200);
    assert_int_equal(json_array_size(json_object_get(j, "messages")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "lastSeq")), first);
    json_decref(j);
    snprintf(target, sizeof target, "/gatehouse/telemetry?after=%lld&device=tel-2",
             (long long)first - 1);
    assert_int_equal(simple("GET", target, NULL, &j), 200);
    json_t *m = json_array_get(json_object_get(j, "messages"), 0);
    assert_string_equal(json_string_value(json_object_get(m, "moduleId")), "mod");
    assert_string_equal(json_string_value(json_object_get(m, "bodyEncoding")), "base64");
    /* Every message up to the last one was examined: page on after it. */
    assert_int_equal(json_integer_value(json_object_get(j, "lastSeq")), first + 2);
    json_decref(j);
    snprintf(target, sizeof target, "/gatehouse/telemetry?after=%lld&since=2020-01-01T00:00:00Z",
             (long long)first - 1);
    assert_int_equal(simple("GET", target, NULL, &j), 200);
    assert_int_equal(json_array_size(json_object_get(j, "messages")), 3);
    json_decref(j);
    expect_simple_error(400, "ArgumentInvalid", "GET", "/gatehouse/telemetry?limit=0", NULL);
    expect_simple_error(400, "ArgumentInvalid", "GET", "/gatehouse/telemetry?limit=1001", NULL);
    expect_simple_error(400, "ArgumentInvalid", "GET", "/gatehouse/telemetry?wait=61", NULL);
    expect_simple_error(400, "ArgumentInvalid", "GET", "/gatehouse/telemetry?after=-1", NULL);
    expect_simple_error(400, "ArgumentInvalid", "GET", "/gatehouse/telemetry?since=yesterday",
                        NULL);
    expect_simple_error(400, "ArgumentInvalid", "GET", "/gatehouse/telemetry?device=a%20b", NULL);
    /* Long poll with nothing new: empty after the wait. */
    snprintf(target, sizeof target, "/gatehouse/telemetry?after=%lld&wait=1", (long long)first + 2);
    int64_t t0 = gh_hub_now_ms();
    assert_int_equal(simple("GET", target, NULL, &j), 200);
    assert_true(gh_hub_now_ms() - t0 >= 950);
    assert_int_equal(json_array_size(json_object_get(j, "messages")), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "lastSeq")), first + 2);
    json_decref(j);
    /* Long poll answered when a message arrives. */
    snprintf(target, sizeof target, "/gatehouse/telemetry?after=%lld&wait=10&device=tel-3",
             (long long)first + 2);
    struct later l;
    after_ms(&l, 300, append_telemetry, "tel-3");
    t0 = gh_hub_now_ms();
    assert_int_equal(simple("GET", target, NULL, &j), 200);
    assert_true(gh_hub_now_ms() - t0 < 5000);
    event_free(l.ev);
    m = json_array_get(json_object_get(j, "messages"), 0);
    assert_string_equal(json_string_value(json_object_get(m, "deviceId")), "tel-3");
    assert_string_equal(json_string_value(json_object_get(m, "body")), "late");
    json_decref(j);
    /* A long poll whose client goes away is cancelled. */
    struct rq r = {.method = "GET", .target = target};
    snprintf(target, sizeof target, "/gatehouse/telemetry?after=%lld&wait=30",
             (long long)first + 9);
    struct done d;
    start(&r, &d);
    bool cancelled = false;
    after_ms(&l, 300, cancel_client, &cancelled);
    while (!cancelled) assert_true(event_base_loop(T.base, EVLOOP_ONCE) >= 0);
    event_free(l.ev);
    assert_false(d.fired);
    for (int i = 0; i < 5; i++) event_base_loop(T.base, EVLOOP_NONBLOCK);
    assert_int_equal(simple("GET", "/statistics/devices", NULL, NULL), 200);
}

static void test_certificates(void **state)
{
    (void)state;
    assert_int_equal(run("'%s' pki issue-ca tenant --dir '%s' >/dev/null", gatehouse(), T.pki), 0);
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/certs/tenant.cert.pem", T.pki);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char pem[8192];
    size_t n = fread(pem, 1, sizeof pem - 1, f);
    fclose(f);
    pem[n] = '\0';
    json_t *body = json_pack("{s:{s:s}}", "properties", "certificate", pem);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    json_t *j;
    assert_int_equal(simple("PUT", "/certificates/tenant", text, &j), 200);
    json_t *p = json_object_get(j, "properties");
    assert_false(json_boolean_value(json_object_get(p, "isVerified")));
    assert_int_equal(strlen(json_string_value(json_object_get(p, "thumbprint"))), 40);
    json_decref(j);
    expect_simple_error(409, "CertificateAlreadyExists", "PUT", "/certificates/tenant", text);
    free(text);
    expect_simple_error(400, "ArgumentInvalid", "PUT", "/certificates/other",
                        "{\"properties\":{\"certificate\":\"not a cert!\"}}");
    expect_simple_error(400, "ArgumentInvalid", "PUT", "/certificates/other",
                        "{\"properties\":{\"certificate\":\"QUJD\"}}");
    expect_simple_error(400, "ArgumentInvalid", "PUT", "/certificates/other", "{}");
    assert_int_equal(simple("POST", "/certificates/tenant/generateVerificationCode", NULL, &j),
                     200);
    char code[GH_CA_CODE_LEN + 1];
    snprintf(
        code, sizeof code, "%s",
        json_string_value(json_object_get(json_object_get(j, "properties"), "verificationCode")));
    assert_int_equal(strlen(code), GH_CA_CODE_LEN);
    json_decref(j);
    /* A wrong proof (CN is not the code), then the right one. */
    assert_int_equal(run("'%s' pki verification-cert WRONG --issuer tenant --name bad-proof "
                         "--dir '%s' >/dev/null",
                         gatehouse(), T.pki),
                     0);
    assert_int_equal(run("'%s' pki verification-cert %s --issuer tenant --name good-proof "
                         "--dir '%s' >/dev/null",
                         gatehouse(), code, T.pki),
                     0);
    for (int good = 0; good < 2; good++) {
        snprintf(path, sizeof path, "%s/certs/%s.cert.pem", T.pki,
                 good ? "good-proof" : "bad-proof");
        f = fopen(path, "r");
        assert_non_null(f);
        n = fread(pem, 1, sizeof pem - 1, f);
        fclose(f);
        pem[n] = '\0';
        body = json_pack("{s:s}", "certificate", pem);
        text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        if (!good) {
            expect_simple_error(400, "CertificateVerificationFailed", "POST",
                                "/certificates/tenant/verify", text);
            expect_simple_error(404, "CertificateNotFound", "POST", "/certificates/nope/verify",
                                text);
        } else {
            assert_int_equal(simple("POST", "/certificates/tenant/verify", text, &j), 200);
            assert_true(json_boolean_value(
                json_object_get(json_object_get(j, "properties"), "isVerified")));
            json_decref(j);
        }
        free(text);
    }
    assert_int_equal(simple("GET", "/certificates", NULL, &j), 200);
    assert_int_equal(json_array_size(json_object_get(j, "value")), 1);
    json_decref(j);
    struct gh_http_kv im = {"If-Match", "\"AAAAAAAAAAA=\""};
    struct rq del = {.method = "DELETE", .target = "/certificates/tenant", .h = &im, .nh = 1};
    expect_error(412, "PreconditionFailed", &del);
    del.nh = 0;
    assert_int_equal(call(&del, NULL, NULL), 204);
    expect_simple_error(404, "CertificateNotFound", "GET", "/certificates/tenant", NULL);
    expect_simple_error(404, "CertificateNotFound", "DELETE", "/certificates/tenant", NULL);
    expect_simple_error(404, "CertificateNotFound", "POST",
                        "/certificates/tenant/generateVerificationCode", NULL);
    /* "Verified on upload": isVerified true makes it verified at once (no
     * code shown); a non-boolean is refused. */
    snprintf(path, sizeof path, "%s/certs/tenant.cert.pem", T.pki);
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(pem, 1, sizeof pem - 1, f);
    fclose(f);
    pem[n] = '\0';
    body = json_pack("{s:{s:s,s:s}}", "properties", "certificate", pem, "isVerified", "yes");
    text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    expect_simple_error(400, "ArgumentInvalid", "PUT", "/certificates/tenant2", text);
    free(text);
    body = json_pack("{s:{s:s,s:b}}", "properties", "certificate", pem, "isVerified", 1);
    text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    assert_int_equal(simple("PUT", "/certificates/tenant2", text, &j), 200);
    free(text);
    p = json_object_get(j, "properties");
    assert_true(json_is_true(json_object_get(p, "isVerified")));
    assert_null(json_object_get(p, "verificationCode"));
    json_decref(j);
    assert_int_equal(simple("GET", "/certificates/tenant2", NULL, &j), 200);
    assert_true(json_is_true(json_object_get(json_object_get(j, "properties"), "isVerified")));
    json_decref(j);
}

static void stop_hub(void *arg)
{
    (void)arg;
    gh_hub_stop(T.hub);
}

/* Last: the hub stops while a long poll is held; the client sees the
 * connection close and nothing leaks (ASan). */
static void test_shutdown_with_held_request(void **state)
{
    (void)state;
    struct rq r = {.method = "GET", .target = "/gatehouse/telemetry?after=999999999&wait=30"};
    struct done d;
    start(&r, &d);
    struct later l;
    after_ms(&l, 300, stop_hub, NULL);
    wait_done(&d);
    event_free(l.ev);
    /* The server aborts its connections when it stops (no close_notify). */
    assert_true(d.rc == GH_ERR_IO || d.rc == GH_ERR_CLOSED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_methods),
        cmocka_unit_test(test_c2d),
        cmocka_unit_test(test_telemetry),
        cmocka_unit_test(test_certificates),
        cmocka_unit_test(test_shutdown_with_held_request),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
