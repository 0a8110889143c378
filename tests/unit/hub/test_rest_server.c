/* The REST API in process (rest_fixture.h): routing, authorization
 * answers, device and module registry, twins, applyConfigurationContent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rest_fixture.h"

/* ---- tests ----------------------------------------------------------------- */

static void test_routing_and_auth(void **state)
{
    (void)state;
    expect_simple_error(404, "NotFound", "GET", "/nothing?api-version=2021-04-12", NULL);
    expect_simple_error(404, "NotFound", "GET", "/devices/a/b/c/d/e/f", NULL);
    struct done d;
    json_t *j;
    struct rq r = {.method = "POST", .target = "/devices/abc"};
    assert_int_equal(call(&r, &j, &d), 405);
    assert_string_equal(code_of(j), "MethodNotAllowed");
    assert_string_equal(gh_http_response_header(&d.resp, "Allow"), "GET, PUT, DELETE");
    json_decref(j);
    gh_http_response_cleanup(&d.resp);
    /* Literal segments compare case-insensitively; trailing slash lists. */
    assert_int_equal(simple("GET", "/Devices/?api-version=2021-04-12", NULL, &j), 200);
    assert_true(json_is_array(j));
    json_decref(j);
    assert_int_equal(simple("GET", "/statistics/devices", NULL, &j), 200);
    assert_true(json_is_integer(json_object_get(j, "totalDeviceCount")));
    json_decref(j);
    /* Authorization failures. */
    struct rq na = {.method = "GET", .target = "/devices", .no_auth = true};
    expect_error(401, "IotHubUnauthorizedAccess", &na);
    char tok[600];
    token(tok, sizeof tok, gh_hub_now_ms() / 1000 - 1000, T.key, "iothubowner");
    struct gh_http_kv h = {"Authorization", tok};
    struct rq expired = {.method = "GET", .target = "/devices", .h = &h, .nh = 1, .no_auth = true};
    expect_error(401, "IotHubUnauthorizedAccess", &expired);
    struct gh_policy p;
    assert_int_equal(gh_store_policy_get(gh_hub_store(T.hub), "registryRead", &p), GH_OK);
    token(tok, sizeof tok, gh_hub_now_ms() / 1000 + 60, p.primary_key, "registryRead");
    gh_policy_wipe(&p);
    struct rq rr = {.method = "GET", .target = "/devices", .h = &h, .nh = 1, .no_auth = true};
    assert_int_equal(call(&rr, NULL, NULL), 200);
    struct rq rw = {
        .method = "PUT", .target = "/devices/x1", .body = "{}", .h = &h, .nh = 1, .no_auth = true};
    expect_error(401, "IotHubUnauthorizedAccess", &rw);
    /* Unknown paths are answered before authorization. */
    struct rq na404 = {.method = "GET", .target = "/x", .no_auth = true};
    expect_error(404, "NotFound", &na404);
}

static void test_devices(void **state)
{
    (void)state;
    json_t *j = NULL;
    struct done d;
    struct rq create = {.method = "PUT", .target = "/devices/dev-1", .body = "{}"};
    assert_int_equal(call(&create, &j, &d), 200);
    const char *etag = json_string_value(json_object_get(j, "etag"));
    assert_non_null(etag);
    char quoted[64];
    snprintf(quoted, sizeof quoted, "\"%s\"", etag);
    assert_string_equal(gh_http_response_header(&d.resp, "ETag"), quoted);
    assert_string_equal(json_string_value(json_object_get(j, "deviceId")), "dev-1");
    json_decref(j);
    gh_http_response_cleanup(&d.resp);
    expect_simple_error(409, "DeviceAlreadyExists", "PUT", "/devices/dev-1", "{}");
    expect_simple_error(400, "ArgumentInvalid", "PUT", "/devices/dev-1",
                        "{\"deviceId\":\"other\"}");
    expect_simple_error(400, "ArgumentInvalid", "PUT", "/devices/dev-2", "[1]");
    expect_simple_error(400, "ArgumentInvalid", "PUT", "/devices/dev-2", "{bad json");
    expect_simple_error(400, "ArgumentInvalid", "PUT", "/devices/dev-2",
                        "{\"deviceId\":\"dev-2\",\"deviceId\":\"dev-2\"}");
    expect_simple_error(400, "ArgumentInvalid", "PUT", "/devices/dev-2", NULL);
    expect_simple_error(400, "ArgumentInvalid", "PUT", "/devices/bad%20id", "{}");
    expect_simple_error(400, "ArgumentInvalid", "PUT", "/devices/dev-2",
                        "{\"status\":\"sleeping\"}");
    expect_simple_error(404, "DeviceNotFound", "GET", "/devices/nope", NULL);
    /* Update with If-Match: "*", the current etag, a stale one. */
    struct gh_http_kv star = {"If-Match", "\"*\""};
    struct rq upd = {.method = "PUT",
                     .target = "/devices/dev-1",
                     .body = "{\"deviceId\":\"dev-1\",\"status\":\"disabled\"}",
                     .h = &star,
                     .nh = 1};
    assert_int_equal(call(&upd, &j, NULL), 200);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "disabled");
    char cur[64];
    snprintf(cur, sizeof cur, "\"%s\"", json_string_value(json_object_get(j, "etag")));
    json_decref(j);
    struct gh_http_kv stale = {"If-Match", quoted};
    upd.h = &stale;
    expect_error(412, "PreconditionFailed", &upd);
    struct gh_http_kv good = {"If-Match", cur};
    upd.h = &good;
    upd.body = "{\"status\":\"enabled\"}";
    assert_int_equal(call(&upd, &j, NULL), 200);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "enabled");
    json_decref(j);
    struct rq upd404 = {
        .method = "PUT", .target = "/devices/nope", .body = "{}", .h = &star, .nh = 1};
    expect_error(404, "DeviceNotFound", &upd404);
    struct gh_http_kv badq = {"If-Match", "\"abc"};
    upd.h = &badq;
    expect_error(400, "ArgumentInvalid", &upd);
    /* List with top. */
    assert_int_equal(simple("PUT", "/devices/dev-0", "{}", NULL), 200);
    assert_int_equal(simple("GET", "/devices?top=1", NULL, &j), 200);
    assert_int_equal(json_array_size(j), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "deviceId")),
                        "dev-0");
    json_decref(j);
    expect_simple_error(400, "ArgumentInvalid", "GET", "/devices?top=0", NULL);
    expect_simple_error(400, "ArgumentInvalid", "GET", "/devices?top=1001", NULL);
    expect_simple_error(400, "ArgumentInvalid", "GET", "/devices?top=x", NULL);
    /* Delete: stale If-Match, then unconditional, then gone. */
    struct rq del = {.method = "DELETE", .target = "/devices/dev-0", .h = &stale, .nh = 1};
    expect_error(412, "PreconditionFailed", &del);
    del.h = &star;
    assert_int_equal(call(&del, NULL, NULL), 204);
    expect_error(404, "DeviceNotFound", &del);
}

static void test_modules(void **state)
{
    (void)state;
    json_t *j;
    assert_int_equal(simple("PUT", "/devices/dev-m", "{}", NULL), 200);
    assert_int_equal(simple("PUT", "/devices/dev-m/modules/filter", "{\"managedBy\":\"me\"}", &j),
                     200);
    assert_string_equal(json_string_value(json_object_get(j, "moduleId")), "filter");
    assert_string_equal(json_string_value(json_object_get(j, "managedBy")), "me");
    json_decref(j);
    expect_simple_error(409, "ModuleAlreadyExistsOnDevice", "PUT", "/devices/dev-m/modules/filter",
                        "{}");
    expect_simple_error(400, "ArgumentInvalid", "PUT", "/devices/dev-m/modules/f2",
                        "{\"moduleId\":\"other\"}");
    expect_simple_error(404, "DeviceNotFound", "PUT", "/devices/nope/modules/filter", "{}");
    assert_int_equal(simple("GET", "/devices/dev-m/modules/", NULL, &j), 200);
    assert_int_equal(json_array_size(j), 1);
    json_decref(j);
    expect_simple_error(404, "DeviceNotFound", "GET", "/devices/nope/modules", NULL);
    assert_int_equal(simple("GET", "/devices/dev-m/modules/filter", NULL, NULL), 200);
    expect_simple_error(404, "ModuleNotFound", "GET", "/devices/dev-m/modules/nope", NULL);
    expect_simple_error(404, "DeviceNotFound", "GET", "/devices/nope/modules/nope", NULL);
    /* Module twin. */
    assert_int_equal(simple("GET", "/twins/dev-m/modules/filter", NULL, &j), 200);
    assert_string_equal(json_string_value(json_object_get(j, "moduleId")), "filter");
    json_decref(j);
    assert_int_equal(simple("DELETE", "/devices/dev-m/modules/filter", NULL, NULL), 204);
    expect_simple_error(404, "ModuleNotFound", "DELETE", "/devices/dev-m/modules/filter", NULL);
    /* Deleting a device deletes its modules. */
    assert_int_equal(simple("PUT", "/devices/dev-m/modules/f3", "{}", NULL), 200);
    assert_int_equal(simple("DELETE", "/devices/dev-m", NULL, NULL), 204);
    expect_simple_error(404, "DeviceNotFound", "GET", "/devices/dev-m/modules/f3", NULL);
}

static void test_twins(void **state)
{
    (void)state;
    json_t *j;
    struct done d;
    assert_int_equal(simple("PUT", "/devices/dev-t", "{}", NULL), 200);
    struct rq get = {.method = "GET", .target = "/twins/dev-t"};
    assert_int_equal(call(&get, &j, &d), 200);
    char etag[32], quoted[40];
    snprintf(etag, sizeof etag, "%s", json_string_value(json_object_get(j, "etag")));
    snprintf(quoted, sizeof quoted, "\"%s\"", etag);
    assert_string_equal(gh_http_response_header(&d.resp, "ETag"), quoted);
    json_decref(j);
    gh_http_response_cleanup(&d.resp);
    struct gh_http_kv im = {"If-Match", quoted};
    struct rq patch = {.method = "PATCH",
                       .target = "/twins/dev-t",
                       .body = "{\"tags\":{\"site\":\"a\"},\"properties\":{\"desired\":{\"t\":1}}}",
                       .h = &im,
                       .nh = 1};
    assert_int_equal(call(&patch, &j, NULL), 200);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(j, "properties"), "desired"), "$version")),
                     2);
    json_decref(j);
    expect_error(412, "PreconditionFailed", &patch); /* the etag moved on */
    patch.nh = 0;                                    /* no If-Match: unconditional */
    patch.body = "{\"properties\":{\"desired\":{\"$bad\":1}}}";
    expect_error(400, "ArgumentInvalid", &patch);
    patch.body = "[]";
    expect_error(400, "ArgumentInvalid", &patch);
    assert_int_equal(simple("PUT", "/twins/dev-t", "{\"tags\":{\"x\":1}}", &j), 200);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "tags"), "x")), 1);
    assert_null(json_object_get(json_object_get(j, "tags"), "site"));
    json_decref(j);
    expect_simple_error(404, "DeviceNotFound", "GET", "/twins/nope", NULL);
    expect_simple_error(404, "DeviceNotFound", "PATCH", "/twins/nope", "{}");
    expect_simple_error(404, "ModuleNotFound", "PATCH", "/twins/dev-t/modules/nope", "{}");
}

/* A timer that runs fn(arg) once after ms. */
static void test_apply_configuration(void **state)
{
    (void)state;
    json_t *j;
    assert_int_equal(
        simple("PUT", "/devices/edge-1", "{\"capabilities\":{\"iotEdge\":true}}", NULL), 200);
    assert_int_equal(
        simple("POST", "/devices/edge-1/applyConfigurationContent",
               "{\"modulesContent\":{\"$edgeAgent\":{\"properties.desired\":{\"a\":1}},"
               "\"nosuch\":{\"properties.desired\":{}}}}",
               NULL),
        204);
    assert_int_equal(simple("GET", "/twins/edge-1/modules/$edgeAgent", NULL, &j), 200);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(j, "properties"), "desired"), "a")),
                     1);
    json_decref(j);
    expect_simple_error(400, "ArgumentInvalid", "POST", "/devices/edge-1/applyConfigurationContent",
                        "{\"modulesContent\":{\"$edgeAgent\":{}}}");
    expect_simple_error(400, "ArgumentInvalid", "POST", "/devices/edge-1/applyConfigurationContent",
                        "{}");
    expect_simple_error(404, "DeviceNotFound", "POST", "/devices/nope/applyConfigurationContent",
                        "{\"modulesContent\":{}}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routing_and_auth),
        cmocka_unit_test(test_devices),
        cmocka_unit_test(test_modules),
        cmocka_unit_test(test_twins),
        cmocka_unit_test(test_apply_configuration),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
