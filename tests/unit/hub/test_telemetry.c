/* Telemetry record building: system/application split, stamping,
 * anti-spoofing and the message budget (PROTOCOL.md 1.5 item 9, 1.8). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hub/telemetry.h"

static const struct gh_hub_sender dev = {"thermostat-01", "", "638712345678901234", "sas",
                                         "dtmi:com:example:Thermostat;1"};

static json_t *build(const char *bag, size_t body_len, bool retain, bool will, size_t max,
                     gh_err want)
{
    json_t *out = NULL;
    gh_err rc = gh_hub_telemetry_props(&dev, gh_slice_cstr(bag), body_len, retain, will,
                                       1767225600000, max, &out);
    assert_int_equal(rc, want);
    return out;
}

static const char *sys(json_t *p, const char *k)
{
    return json_string_value(json_object_get(json_object_get(p, "system"), k));
}

static json_t *app(json_t *p, const char *k)
{
    return json_object_get(json_object_get(p, "app"), k);
}

static void test_node_bag(void **state)
{
    (void)state;
    json_t *p = build("%24.mid=msg-1&%24.ct=application%2Fjson&%24.ce=utf-8&alert%20level=high%20%26%20urgent",
                      10, false, false, 262144, GH_OK);
    assert_string_equal(sys(p, "message-id"), "msg-1");
    assert_string_equal(sys(p, "content-type"), "application/json");
    assert_string_equal(sys(p, "content-encoding"), "utf-8");
    assert_string_equal(json_string_value(app(p, "alert level")), "high & urgent");
    assert_string_equal(sys(p, "iothub-connection-device-id"), "thermostat-01");
    assert_null(sys(p, "iothub-connection-module-id"));
    assert_string_equal(sys(p, "iothub-connection-auth-generation-id"), "638712345678901234");
    assert_string_equal(sys(p, "iothub-enqueuedtime"), "2026-01-01T00:00:00.000Z");
    assert_string_equal(sys(p, "iothub-message-source"), "Telemetry");
    assert_string_equal(sys(p, "dt-dataschema"), "dtmi:com:example:Thermostat;1");
    assert_non_null(strstr(sys(p, "iothub-connection-auth-method"), "\"type\":\"sas\""));
    json_decref(p);
}

static void test_c_bag_raw_values(void **state)
{
    (void)state;
    /* C SDK: app properties first, raw '/', null-valued key, docs-style $. */
    json_t *p = build("temperatureAlert=true&%24.mid=42&$.ct=application/json&flag", 0, false,
                      false, 262144, GH_OK);
    assert_string_equal(json_string_value(app(p, "temperatureAlert")), "true");
    assert_string_equal(sys(p, "content-type"), "application/json");
    assert_true(json_is_null(app(p, "flag")));
    assert_string_equal(sys(p, "message-id"), "42");
    json_decref(p);
}

static void test_no_spoofing(void **state)
{
    (void)state;
    /* A device cannot set the stamped properties: its keys stay app properties. */
    json_t *p = build("iothub-connection-device-id=other&iothub-operation=x", 0, false, false,
                      262144, GH_OK);
    assert_string_equal(sys(p, "iothub-connection-device-id"), "thermostat-01");
    assert_string_equal(json_string_value(app(p, "iothub-connection-device-id")), "other");
    assert_null(app(p, "iothub-operation"));
    json_decref(p);
}

static void test_retain_will_duplicates(void **state)
{
    (void)state;
    json_t *p = build("k=1&k=2", 0, true, true, 262144, GH_OK);
    assert_string_equal(json_string_value(app(p, "k")), "2"); /* later wins */
    assert_string_equal(json_string_value(app(p, "mqtt-retain")), "true");
    assert_string_equal(json_string_value(app(p, "iothub-MessageType")), "Will");
    json_decref(p);
}

static void test_budget(void **state)
{
    (void)state;
    /* body 10 + "ab" 2 + "cd" 2 = 14 */
    json_decref(build("ab=cd", 10, false, false, 14, GH_OK));
    assert_null(build("ab=cd", 10, false, false, 13, GH_ERR_TOO_LARGE));
    assert_null(build("", 300 * 1024, false, false, 256 * 1024, GH_ERR_TOO_LARGE));
    /* system property values count, their keys do not */
    json_decref(build("%24.mid=12345", 0, false, false, 5, GH_OK));
    assert_null(build("%24.mid=123456", 0, false, false, 5, GH_ERR_TOO_LARGE));
}

static void test_bad_utf8(void **state)
{
    (void)state;
    assert_null(build("k=%FF", 0, false, false, 262144, GH_ERR_BAD_UTF8));
    assert_null(build("k=%00", 0, false, false, 262144, GH_ERR_BAD_UTF8));
}

static void test_module_sender(void **state)
{
    (void)state;
    struct gh_hub_sender m = {"edge-gw-01", "filter", "1", "x509CA", NULL};
    json_t *out = NULL;
    assert_int_equal(gh_hub_telemetry_props(&m, gh_slice_cstr("%24.on=output1"), 0, false, false,
                                            1, 1024, &out),
                     GH_OK);
    assert_string_equal(sys(out, "iothub-connection-module-id"), "filter");
    assert_string_equal(sys(out, "output-name"), "output1");
    assert_null(sys(out, "dt-dataschema"));
    assert_non_null(strstr(sys(out, "iothub-connection-auth-method"), "\"scope\":\"module\""));
    json_decref(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_node_bag),       cmocka_unit_test(test_c_bag_raw_values),
        cmocka_unit_test(test_no_spoofing),    cmocka_unit_test(test_retain_will_duplicates),
        cmocka_unit_test(test_budget),         cmocka_unit_test(test_bad_utf8),
        cmocka_unit_test(test_module_sender),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
