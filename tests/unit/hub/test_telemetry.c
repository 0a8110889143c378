/* Telemetry record building: system/application split, stamping,
 * anti-spoofing and the message budget (PROTOCOL.md 1.5 item 9, 1.8). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hub/store.h"
#include "hub/telemetry.h"

static const struct gh_hub_sender dev = {"thermostat-01", "", "638712345678901234", "sas",
                                         "dtmi:com:example:Thermostat;1"};

/* The properties text, parsed strictly (it must be one valid JSON object
 * with the message-id copied out as the text holds it). */
static json_t *props_json(const struct gh_hub_sender *from, const char *bag, size_t body_len,
                          bool retain, bool will, int64_t when, size_t max, gh_err want)
{
    struct gh_hub_props p;
    gh_err rc = gh_hub_telemetry_props(from, gh_slice_cstr(bag), body_len, retain, will, when, max,
                                       true, &p);
    assert_int_equal(rc, want);
    if (rc != GH_OK) return NULL;
    assert_int_equal(strlen(p.json), p.len);
    json_error_t e;
    json_t *out = json_loadb(p.json, p.len, JSON_REJECT_DUPLICATES, &e);
    if (out == NULL) fail_msg("not JSON (%s): %s", e.text, p.json);
    assert_true(json_is_object(out));
    const char *mid =
        json_string_value(json_object_get(json_object_get(out, "system"), "message-id"));
    if (mid == NULL)
        assert_null(p.message_id);
    else
        assert_string_equal(p.message_id, mid);
    gh_hub_props_cleanup(&p);
    return out;
}

static json_t *build(const char *bag, size_t body_len, bool retain, bool will, size_t max,
                     gh_err want)
{
    return props_json(&dev, bag, body_len, retain, will, 1767225600000, max, want);
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
    json_t *p = build(
        "%24.mid=msg-1&%24.ct=application%2Fjson&%24.ce=utf-8&alert%20level=high%20%26%20urgent",
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

static void test_escaping_and_many(void **state)
{
    (void)state;
    /* quote, backslash, newline, a control, non-ASCII: all come back as sent */
    json_t *p = build("q%22k=a%22b%5Cc%0Ad%01e&%C3%A9t%C3%A9=%E2%82%AC&%24.mid=m%22id", 0, false,
                      false, 262144, GH_OK);
    assert_string_equal(json_string_value(app(p, "q\"k")), "a\"b\\c\nd\001e");
    assert_string_equal(json_string_value(app(p, "\xc3\xa9t\xc3\xa9")), "\xe2\x82\xac");
    assert_string_equal(sys(p, "message-id"), "m\"id");
    json_decref(p);
    /* no limit on the number of properties but the size budget */
    char bag[8192];
    size_t n = 0;
    for (int i = 0; i < 500; i++)
        n += (size_t)snprintf(bag + n, sizeof bag - n, "%sp%d=%d", i ? "&" : "", i, i);
    p = build(bag, 0, false, false, 262144, GH_OK);
    assert_int_equal(json_object_size(json_object_get(p, "app")), 500);
    assert_string_equal(json_string_value(app(p, "p499")), "499");
    json_decref(p);
    /* many small properties, each key twice: the later value wins for all */
    size_t cap = 20000 * 16;
    char *many = malloc(cap);
    assert_non_null(many);
    n = 0;
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 10000; i++)
            n += (size_t)snprintf(many + n, cap - n, "%sk%d=%d", n ? "&" : "", i, round);
    p = build(many, 0, false, false, 1024 * 1024, GH_OK);
    free(many);
    assert_int_equal(json_object_size(json_object_get(p, "app")), 10000);
    assert_string_equal(json_string_value(app(p, "k0")), "1");
    assert_string_equal(json_string_value(app(p, "k9999")), "1");
    json_decref(p);
    /* a key of 1024 bytes is refused; a NUL in a key too */
    char big[1100];
    memset(big, 'k', 1024);
    snprintf(big + 1024, sizeof big - 1024, "=v");
    assert_null(build(big, 0, false, false, 262144, GH_ERR_TOO_LARGE));
    assert_null(build("a%00b=v", 0, false, false, 262144, GH_ERR_BAD_UTF8));
}

static void test_module_sender(void **state)
{
    (void)state;
    struct gh_hub_sender m = {"edge-gw-01", "filter", "1", "x509CA", NULL};
    json_t *out = props_json(&m, "%24.on=output1", 0, false, false, 1, 1024, GH_OK);
    assert_string_equal(sys(out, "iothub-connection-module-id"), "filter");
    assert_string_equal(sys(out, "output-name"), "output1");
    assert_null(sys(out, "dt-dataschema"));
    assert_non_null(strstr(sys(out, "iothub-connection-auth-method"), "\"scope\":\"module\""));
    json_decref(out);
}

/* The live stream's text envelope says exactly what the object one says:
 * UTF-8 bodies (controls and U+0000 escaped), binary ones in base64, empty
 * ones, devices and modules. */
static void check_envelope(struct gh_telemetry_msg *m, const char *props)
{
    json_error_t e;
    m->properties = json_loads(props, 0, &e);
    assert_non_null(m->properties);
    m->properties_text = (char *)props;
    m->properties_len = strlen(props);
    json_t *want = NULL;
    assert_int_equal(gh_hub_telemetry_envelope(m, &want), GH_OK);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(gh_hub_telemetry_envelope_text(m, &text, &len), GH_OK);
    assert_int_equal(strlen(text), len);
    json_t *got = json_loadb(text, len, JSON_ALLOW_NUL, &e);
    if (got == NULL) fprintf(stderr, "%s\n%s\n", text, e.text);
    assert_non_null(got);
    assert_true(json_equal(got, want));
    json_decref(got);
    json_decref(want);
    free(text);
    json_decref(m->properties);
    m->properties = NULL;
    m->properties_text = NULL;
}

static void test_envelope_text(void **state)
{
    (void)state;
    struct gh_telemetry_msg m;
    memset(&m, 0, sizeof m);
    m.seq = 42;
    strcpy(m.device_id, "th-01");
    m.enqueued_ms = 1790000000123;
    uint8_t utf8[] = "{\"t\":21.5,\"q\":\"a\\\"b\"}\n\t\x01\x00 \xc3\xa9 end";
    m.body = utf8;
    m.body_len = sizeof utf8 - 1;
    check_envelope(&m, "{\"system\":{\"message-id\":\"m\\\"1\"},\"app\":{\"k\":null}}");
    uint8_t bin[] = {0xff, 0x00, 0x80, 0x41};
    m.body = bin;
    m.body_len = sizeof bin;
    strcpy(m.module_id, "filter");
    check_envelope(&m, "{\"system\":{},\"app\":{}}");
    m.body = NULL;
    m.body_len = 0;
    check_envelope(&m, "{}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_node_bag),      cmocka_unit_test(test_c_bag_raw_values),
        cmocka_unit_test(test_no_spoofing),   cmocka_unit_test(test_retain_will_duplicates),
        cmocka_unit_test(test_budget),        cmocka_unit_test(test_bad_utf8),
        cmocka_unit_test(test_module_sender), cmocka_unit_test(test_escaping_and_many),
        cmocka_unit_test(test_envelope_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
