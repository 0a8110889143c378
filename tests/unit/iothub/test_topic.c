/* Topic classifiers (both directions) and subscription filters (1.6-1.12,
 * 4.2.2). Builders: test_topic_build.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "iothub/topic.h"

#define S(x) gh_slice_cstr(x)

static const struct gh_iothub_identity dev = {
    GH_IOTHUB_ID_DEVICE, {(const uint8_t *)"thermostat-01", 13}, {NULL, 0}};
static const struct gh_iothub_identity mod = {
    GH_IOTHUB_ID_MODULE, {(const uint8_t *)"edge-gw-01", 10}, {(const uint8_t *)"filter", 6}};
static const struct gh_iothub_identity plus_dev = {
    GH_IOTHUB_ID_DEVICE, {(const uint8_t *)"dev+1", 5}, {NULL, 0}};
static const struct gh_iothub_identity pct_dev = {
    GH_IOTHUB_ID_DEVICE, {(const uint8_t *)"a%41", 4}, {NULL, 0}};
static const struct gh_iothub_identity dps = {
    GH_IOTHUB_ID_DPS, {(const uint8_t *)"thermostat-01", 13}, {NULL, 0}};

static void assert_slice(struct gh_slice s, const char *want)
{
    char buf[512];
    assert_true(s.len < sizeof buf);
    if (s.len) memcpy(buf, s.ptr, s.len);
    buf[s.len] = '\0';
    assert_string_equal(buf, want);
}

static struct gh_iothub_topic classify_ok(const char *topic, const struct gh_iothub_identity *id,
                                          enum gh_iothub_topic_kind kind)
{
    struct gh_iothub_topic t;
    assert_int_equal(gh_iothub_topic_classify(S(topic), id, &t), GH_OK);
    assert_int_equal(t.kind, kind);
    return t;
}

static void classify_fails(const char *topic, const struct gh_iothub_identity *id, gh_err err)
{
    struct gh_iothub_topic t;
    memset(&t, 0x5a, sizeof t);
    struct gh_iothub_topic before = t;
    assert_int_equal(gh_iothub_topic_classify(S(topic), id, &t), err);
    assert_memory_equal(&t, &before, sizeof t);
}

static struct gh_iothub_topic s2d_ok(const char *topic, enum gh_iothub_topic_kind kind)
{
    struct gh_iothub_topic t;
    assert_int_equal(gh_iothub_topic_classify_s2d(S(topic), &t), GH_OK);
    assert_int_equal(t.kind, kind);
    return t;
}

static void s2d_fails(const char *topic)
{
    struct gh_iothub_topic t;
    memset(&t, 0x5a, sizeof t);
    struct gh_iothub_topic before = t;
    assert_int_equal(gh_iothub_topic_classify_s2d(S(topic), &t), GH_ERR_BAD_TOPIC);
    assert_memory_equal(&t, &before, sizeof t);
}

static void test_telemetry_examples(void **state)
{
    (void)state;
    struct gh_iothub_topic t = classify_ok(
        "devices/thermostat-01/messages/events/%24.mid=msg-1&%24.ct=application%2Fjson&%24.ce="
        "utf-8&alert%20level=high%20%26%20urgent",
        &dev, GH_IOTHUB_TOPIC_TELEMETRY);
    assert_slice(t.device_id, "thermostat-01");
    assert_int_equal(t.module_id.len, 0);
    assert_slice(t.bag, "%24.mid=msg-1&%24.ct=application%2Fjson&%24.ce=utf-8&alert%20level="
                        "high%20%26%20urgent");
    /* C SDK: raw `/` inside the bag. */
    t = classify_ok("devices/thermostat-01/messages/events/temperatureAlert=true&%24.mid=42&%24."
                    "ct=application/json&%24.ce=utf-8",
                    &dev, GH_IOTHUB_TOPIC_TELEMETRY);
    assert_slice(t.bag, "temperatureAlert=true&%24.mid=42&%24.ct=application/json&%24.ce=utf-8");
    /* Module output (Node): trailing `/` dropped. */
    t = classify_ok("devices/edge-gw-01/modules/filter/messages/events/%24.on=output1/", &mod,
                    GH_IOTHUB_TOPIC_TELEMETRY);
    assert_slice(t.device_id, "edge-gw-01");
    assert_slice(t.module_id, "filter");
    assert_slice(t.bag, "%24.on=output1");
    /* Docs-style raw `$.ct`. */
    t = classify_ok("devices/thermostat-01/messages/events/$.ct=application%2Fjson%3Bcharset%"
                    "3Dutf-8",
                    &dev, GH_IOTHUB_TOPIC_TELEMETRY);
    assert_slice(t.bag, "$.ct=application%2Fjson%3Bcharset%3Dutf-8");
    /* A.1 */
    t = classify_ok("devices/thermostat-01/messages/events/%24.mid=msg-1&%24.ct=application%2Fjson&"
                    "%24.ce=utf-8",
                    &dev, GH_IOTHUB_TOPIC_TELEMETRY);
    assert_slice(t.bag, "%24.mid=msg-1&%24.ct=application%2Fjson&%24.ce=utf-8");
}

static void test_telemetry_variants(void **state)
{
    (void)state;
    const char *device_forms[] = {"devices/thermostat-01/messages/events",
                                  "devices/thermostat-01/messages/events/",
                                  "devices/thermostat-01/messages/events//"};
    for (size_t i = 0; i < 3; i++) {
        struct gh_iothub_topic t = classify_ok(device_forms[i], &dev, GH_IOTHUB_TOPIC_TELEMETRY);
        assert_int_equal(t.bag.len, 0);
    }
    const char *module_forms[] = {"devices/edge-gw-01/modules/filter/messages/events",
                                  "devices/edge-gw-01/modules/filter/messages/events/"};
    for (size_t i = 0; i < 2; i++) {
        struct gh_iothub_topic t = classify_ok(module_forms[i], &mod, GH_IOTHUB_TOPIC_TELEMETRY);
        assert_int_equal(t.bag.len, 0);
        assert_slice(t.module_id, "filter");
    }
    /* Only one trailing slash goes; further `/` belong to the bag. */
    struct gh_iothub_topic t = classify_ok("devices/thermostat-01/messages/events/a=1/b//", &dev,
                                           GH_IOTHUB_TOPIC_TELEMETRY);
    assert_slice(t.bag, "a=1/b/");
    t = classify_ok("devices/edge-gw-01/modules/filter/messages/events/a=b", &mod,
                    GH_IOTHUB_TOPIC_TELEMETRY);
    assert_slice(t.bag, "a=b");
}

static void test_telemetry_encoded_ids(void **state)
{
    (void)state;
    /* Python percent-encodes ids; either hex case. */
    struct gh_iothub_topic t =
        classify_ok("devices/dev%2B1/messages/events/", &plus_dev, GH_IOTHUB_TOPIC_TELEMETRY);
    assert_slice(t.device_id, "dev%2B1");
    classify_ok("devices/dev%2b1/messages/events/", &plus_dev, GH_IOTHUB_TOPIC_TELEMETRY);
    classify_ok("devices/thermostat%2D01/messages/events", &dev, GH_IOTHUB_TOPIC_TELEMETRY);
    classify_ok("devices/edge%2Dgw%2D01/modules/%66ilter/messages/events", &mod,
                GH_IOTHUB_TOPIC_TELEMETRY);
    /* An id with a raw `%` matches byte-exact, and decoded too. */
    classify_ok("devices/a%41/messages/events", &pct_dev, GH_IOTHUB_TOPIC_TELEMETRY);
    classify_ok("devices/a%2541/messages/events", &pct_dev, GH_IOTHUB_TOPIC_TELEMETRY);
    /* The raw `+` form cannot appear in a topic name. */
    classify_fails("devices/dev+1/messages/events", &plus_dev, GH_ERR_BAD_TOPIC);
}

static void test_telemetry_forbidden(void **state)
{
    (void)state;
    classify_fails("devices/other/messages/events/", &dev, GH_ERR_FORBIDDEN);
    classify_fails("devices/Thermostat-01/messages/events/", &dev, GH_ERR_FORBIDDEN);
    classify_fails("devices/thermostat-0/messages/events/", &dev, GH_ERR_FORBIDDEN);
    classify_fails("devices/thermostat-01/modules/m/messages/events/", &dev, GH_ERR_FORBIDDEN);
    classify_fails("devices/edge-gw-01/messages/events/", &mod, GH_ERR_FORBIDDEN);
    classify_fails("devices/edge-gw-01/modules/other/messages/events/", &mod, GH_ERR_FORBIDDEN);
    classify_fails("devices/other/modules/filter/messages/events/", &mod, GH_ERR_FORBIDDEN);
}

static void test_hub_bad_topics(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "devices",
        "devices/",
        "devices/thermostat-01",
        "devices/thermostat-01/",
        "devices//messages/events",
        "devices/thermostat-01/messages",
        "devices/thermostat-01/messages/event",
        "devices/thermostat-01/messages/eventsX",
        "devices/thermostat-01/messages/devicebound/",
        "devices/thermostat-01/modules//messages/events",
        "devices/thermostat-01/modules/m",
        "devices/edge-gw-01/modules/filter/inputs/input1/",
        "Devices/thermostat-01/messages/events",
        "/devices/thermostat-01/messages/events",
        "devices/thermostat-01/messages/events/#",
        "devices/thermostat-01/messages/events/a=+",
        "$iothub/twin/GET",
        "$iothub/twin/GET/",
        "$iothub/twin/GET?$rid=1",
        "$iothub/twin/GET/$rid=1",
        "$iothub/twin/GET/?rid=1",
        "$iothub/twin/GET/?$version=1",
        "$iothub/twin/PATCH/properties/reported/",
        "$iothub/twin/PATCH/properties/desired/?$rid=1",
        "$iothub/twin/res/200/?$rid=1",
        "$iothub/methods/res/",
        "$iothub/methods/res//?$rid=1",
        "$iothub/methods/res/abc/?$rid=1",
        "$iothub/methods/res/2147483648/?$rid=1",
        "$iothub/methods/res/-2147483649/?$rid=1",
        "$iothub/methods/res/-/?$rid=1",
        "$iothub/methods/res/200?$rid=1",
        "$iothub/methods/res/200/",
        "$iothub/methods/res/200/?x=1",
        "$iothub/methods/POST/reboot/?$rid=1",
        "$dps/registrations/PUT/iotdps-register/?$rid=1",
        "$iothub/twin/GET/?$rid=#",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        classify_fails(bad[i], &dev, GH_ERR_BAD_TOPIC);
        classify_fails(bad[i], &mod, GH_ERR_BAD_TOPIC);
    }
    /* Embedded NUL. */
    struct gh_iothub_topic t;
    struct gh_slice nul = {(const uint8_t *)"$iothub/twin/GET/?$rid=1\0x", 26};
    assert_int_equal(gh_iothub_topic_classify(nul, &dev, &t), GH_ERR_BAD_TOPIC);
    assert_int_equal(gh_iothub_topic_classify(GH_SLICE_EMPTY, &dev, &t), GH_ERR_BAD_TOPIC);
}

static void test_twin_requests(void **state)
{
    (void)state;
    struct gh_iothub_topic t =
        classify_ok("$iothub/twin/GET/?$rid=0d6f4c9a-7b1e-4c55-9a0e-3d2b1c4e5f60", &dev,
                    GH_IOTHUB_TOPIC_TWIN_GET);
    assert_slice(t.rid, "0d6f4c9a-7b1e-4c55-9a0e-3d2b1c4e5f60");
    t = classify_ok("$iothub/twin/PATCH/properties/reported/?$rid=5a1e", &dev,
                    GH_IOTHUB_TOPIC_TWIN_PATCH_REPORTED);
    assert_slice(t.rid, "5a1e");
    /* Modules use the same topics. */
    t = classify_ok("$iothub/twin/GET/?$rid=get_twin", &mod, GH_IOTHUB_TOPIC_TWIN_GET);
    assert_slice(t.rid, "get_twin");
    /* Extra parameters ignored, any order, first wins, raw value, empty rid. */
    t = classify_ok("$iothub/twin/PATCH/properties/reported/?$version=4&$rid=7&$rid=8&x", &dev,
                    GH_IOTHUB_TOPIC_TWIN_PATCH_REPORTED);
    assert_slice(t.rid, "7");
    t = classify_ok("$iothub/twin/GET/?$rid=a%2Fb/c", &dev, GH_IOTHUB_TOPIC_TWIN_GET);
    assert_slice(t.rid, "a%2Fb/c");
    t = classify_ok("$iothub/twin/GET/?$rid=", &dev, GH_IOTHUB_TOPIC_TWIN_GET);
    assert_int_equal(t.rid.len, 0);
    t = classify_ok("$iothub/twin/GET/?%24rid=9", &dev, GH_IOTHUB_TOPIC_TWIN_GET);
    assert_slice(t.rid, "9");
}

static void test_method_response(void **state)
{
    (void)state;
    struct gh_iothub_topic t =
        classify_ok("$iothub/methods/res/200/?$rid=1", &dev, GH_IOTHUB_TOPIC_METHOD_RESPONSE);
    assert_int_equal(t.status, 200);
    assert_slice(t.rid, "1");
    t = classify_ok("$iothub/methods/res/-1/?$rid=ab", &mod, GH_IOTHUB_TOPIC_METHOD_RESPONSE);
    assert_int_equal(t.status, -1);
    t = classify_ok("$iothub/methods/res/2147483647/?$rid=1", &dev,
                    GH_IOTHUB_TOPIC_METHOD_RESPONSE);
    assert_int_equal(t.status, INT32_MAX);
    t = classify_ok("$iothub/methods/res/-2147483648/?$rid=1", &dev,
                    GH_IOTHUB_TOPIC_METHOD_RESPONSE);
    assert_int_equal(t.status, INT32_MIN);
    t = classify_ok("$iothub/methods/res/0404/?x=y&$rid=z", &dev, GH_IOTHUB_TOPIC_METHOD_RESPONSE);
    assert_int_equal(t.status, 404);
    assert_slice(t.rid, "z");
}

static void test_dps_topics(void **state)
{
    (void)state;
    struct gh_iothub_topic t = classify_ok("$dps/registrations/PUT/iotdps-register/?$rid=6b8e",
                                           &dps, GH_IOTHUB_TOPIC_DPS_REGISTER);
    assert_slice(t.rid, "6b8e");
    t = classify_ok("$dps/registrations/GET/iotdps-get-operationstatus/?$rid=91c2&operationId=4."
                    "0a1b",
                    &dps, GH_IOTHUB_TOPIC_DPS_POLL);
    assert_slice(t.rid, "91c2");
    assert_slice(t.operation_id, "4.0a1b");
    t = classify_ok("$dps/registrations/GET/iotdps-get-operationstatus/?operationId=op&$rid=1",
                    &dps, GH_IOTHUB_TOPIC_DPS_POLL);
    assert_slice(t.operation_id, "op");
    const char *bad[] = {
        "$dps/registrations/PUT/iotdps-register/",
        "$dps/registrations/PUT/iotdps-register/?rid=1",
        "$dps/registrations/PUT/iotdps-register?$rid=1",
        "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=1",
        "$dps/registrations/GET/iotdps-get-operationstatus/?operationId=1",
        "$dps/registrations/res/200/?$rid=1",
        "$iothub/twin/GET/?$rid=1",
        "devices/thermostat-01/messages/events/",
        "$iothub/methods/res/200/?$rid=1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        classify_fails(bad[i], &dps, GH_ERR_BAD_TOPIC);
}

static void test_s2d_c2d_and_inputs(void **state)
{
    (void)state;
    struct gh_iothub_topic t =
        s2d_ok("devices/thermostat-01/messages/devicebound/%24.mid=6f1c0d8e-2b1a-4c1e-9d5e-"
               "0a6b2f3c4d5e&%24.to=%2Fdevices%2Fthermostat-01%2Fmessages%2Fdevicebound&%24.ce=utf-"
               "8&iothub-ack=none&color=red",
               GH_IOTHUB_TOPIC_C2D);
    assert_slice(t.device_id, "thermostat-01");
    assert_slice(t.bag, "%24.mid=6f1c0d8e-2b1a-4c1e-9d5e-0a6b2f3c4d5e&%24.to=%2Fdevices%"
                        "2Fthermostat-01%2Fmessages%2Fdevicebound&%24.ce=utf-8&iothub-ack=none&"
                        "color=red");
    t = s2d_ok("devices/thermostat-01/messages/devicebound/", GH_IOTHUB_TOPIC_C2D);
    assert_int_equal(t.bag.len, 0);
    t = s2d_ok("devices/edge-gw-01/modules/filter/inputs/input1/%24.cdid=edge-gw-01&%24.cmid="
               "tempSensor&%24.mid=17&%24.ct=application%2Fjson&%24.ce=utf-8&sensorType=thermal",
               GH_IOTHUB_TOPIC_MODULE_INPUT);
    assert_slice(t.device_id, "edge-gw-01");
    assert_slice(t.module_id, "filter");
    assert_slice(t.name, "input1");
    assert_slice(t.bag, "%24.cdid=edge-gw-01&%24.cmid=tempSensor&%24.mid=17&%24.ct=application%"
                        "2Fjson&%24.ce=utf-8&sensorType=thermal");
    t = s2d_ok("devices/d/modules/m/inputs/i/", GH_IOTHUB_TOPIC_MODULE_INPUT);
    assert_int_equal(t.bag.len, 0);
}

static void test_s2d_responses(void **state)
{
    (void)state;
    struct gh_iothub_topic t =
        s2d_ok("$iothub/twin/res/200/?$rid=0d6f", GH_IOTHUB_TOPIC_TWIN_RESPONSE);
    assert_int_equal(t.status, 200);
    assert_slice(t.rid, "0d6f");
    assert_false(t.has_version);
    t = s2d_ok("$iothub/twin/res/204/?$rid=5a1e&$version=2", GH_IOTHUB_TOPIC_TWIN_RESPONSE);
    assert_int_equal(t.status, 204);
    assert_true(t.has_version);
    assert_int_equal(t.version, 2);
    t = s2d_ok("$iothub/twin/res/204/?$rid=1&$version=18446744073709551615",
               GH_IOTHUB_TOPIC_TWIN_RESPONSE);
    assert_true(t.version == UINT64_MAX);
    t = s2d_ok("$iothub/twin/PATCH/properties/desired/?$version=8", GH_IOTHUB_TOPIC_TWIN_DESIRED);
    assert_int_equal(t.version, 8);
    assert_true(t.has_version);
    t = s2d_ok("$iothub/methods/POST/reboot/?$rid=1", GH_IOTHUB_TOPIC_METHOD_REQUEST);
    assert_slice(t.name, "reboot");
    assert_slice(t.rid, "1");
    t = s2d_ok("$dps/registrations/res/202/?$rid=6b8e&retry-after=3", GH_IOTHUB_TOPIC_DPS_RESPONSE);
    assert_int_equal(t.status, 202);
    assert_slice(t.rid, "6b8e");
    assert_true(t.has_retry_after);
    assert_int_equal(t.retry_after, 3);
    t = s2d_ok("$dps/registrations/res/200/?$rid=91c2", GH_IOTHUB_TOPIC_DPS_RESPONSE);
    assert_false(t.has_retry_after);
    t = s2d_ok("$dps/registrations/res/429/?$rid=1&retry-after=4294967295",
               GH_IOTHUB_TOPIC_DPS_RESPONSE);
    assert_int_equal(t.retry_after, UINT32_MAX);
}

static void test_s2d_bad(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "devices/thermostat-01/messages/devicebound",
        "devices//messages/devicebound/",
        "devices/d/messages/events/",
        "devices/d/modules/m/inputs/i",
        "devices/d/modules/m/inputs//x",
        "devices/d/modules//inputs/i/",
        "devices/d/modules/m/outputs/i/",
        "devices/d/messages/devicebound/#",
        "$iothub/twin/res/20/?$rid=1",
        "$iothub/twin/res/2000/?$rid=1",
        "$iothub/twin/res/abc/?$rid=1",
        "$iothub/twin/res/-20/?$rid=1",
        "$iothub/twin/res/200/",
        "$iothub/twin/res/200/?$version=1",
        "$iothub/twin/res/200?$rid=1",
        "$iothub/twin/res/204/?$rid=1&$version=",
        "$iothub/twin/res/204/?$rid=1&$version=x",
        "$iothub/twin/res/204/?$rid=1&$version=-1",
        "$iothub/twin/res/204/?$rid=1&$version=18446744073709551616",
        "$iothub/twin/PATCH/properties/desired/",
        "$iothub/twin/PATCH/properties/desired/?x=1",
        "$iothub/twin/PATCH/properties/desired/?$version=1a",
        "$iothub/methods/POST//?$rid=1",
        "$iothub/methods/POST/reboot/",
        "$iothub/methods/POST/reboot/?x=1",
        "$iothub/methods/POST/reboot?$rid=1",
        "$dps/registrations/res/202/",
        "$dps/registrations/res/202/?retry-after=3",
        "$dps/registrations/res/202/?$rid=1&retry-after=",
        "$dps/registrations/res/202/?$rid=1&retry-after=4294967296",
        "$dps/registrations/res/2/?$rid=1",
        "$iothub/twin/GET/?$rid=1",
        "$dps/registrations/PUT/iotdps-register/?$rid=1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) s2d_fails(bad[i]);
}

static struct gh_iothub_filter filter_ok(const char *filter, const struct gh_iothub_identity *id,
                                         enum gh_iothub_filter_kind kind)
{
    struct gh_iothub_filter f;
    assert_int_equal(gh_iothub_filter_classify(S(filter), id, &f), kind);
    assert_int_equal(f.kind, kind);
    return f;
}

static void filter_unsupported(const char *filter, const struct gh_iothub_identity *id)
{
    struct gh_iothub_filter f;
    memset(&f, 0x5a, sizeof f);
    assert_int_equal(gh_iothub_filter_classify(S(filter), id, &f), GH_IOTHUB_FILTER_UNSUPPORTED);
    assert_int_equal(f.kind, GH_IOTHUB_FILTER_UNSUPPORTED);
    assert_null(f.device_id.ptr);
    assert_null(f.module_id.ptr);
}

static void test_filters_device(void **state)
{
    (void)state;
    struct gh_iothub_filter f =
        filter_ok("devices/thermostat-01/messages/devicebound/#", &dev, GH_IOTHUB_FILTER_C2D);
    assert_slice(f.device_id, "thermostat-01");
    f = filter_ok("devices/+/messages/devicebound/#", &dev, GH_IOTHUB_FILTER_C2D);
    assert_null(f.device_id.ptr);
    f = filter_ok("devices/dev%2B1/messages/devicebound/#", &plus_dev, GH_IOTHUB_FILTER_C2D);
    assert_slice(f.device_id, "dev%2B1"); /* the client's own spelling */
    f = filter_ok("devices/thermostat%2d01/messages/devicebound/#", &dev, GH_IOTHUB_FILTER_C2D);
    assert_slice(f.device_id, "thermostat%2d01");
    f = filter_ok("$iothub/twin/res/#", &dev, GH_IOTHUB_FILTER_TWIN_RESPONSES);
    assert_null(f.device_id.ptr);
    filter_ok("$iothub/twin/PATCH/properties/desired/#", &dev, GH_IOTHUB_FILTER_TWIN_DESIRED);
    filter_ok("$iothub/methods/POST/#", &dev, GH_IOTHUB_FILTER_METHODS);
    const char *bad[] = {
        "#",
        "",
        "+/#",
        "devices/#",
        "devices/+/#",
        "devices/other/messages/devicebound/#",
        "devices/thermostat-01/messages/devicebound/",
        "devices/thermostat-01/messages/devicebound",
        "devices/thermostat-01/messages/devicebound/+",
        "devices/thermostat-01/messages/devicebound/#/x",
        "devices/thermostat-01/messages/#",
        "devices/#/messages/devicebound/#",
        "devices/thermostat-01+/messages/devicebound/#",
        "devices//messages/devicebound/#",
        "devices/thermostat-01/modules/m/inputs/#",
        "devices/thermostat-01/modules/m/#",
        "$iothub/twin/res/+",
        "$iothub/twin/#",
        "$iothub/twin/res/#/",
        "$iothub/twin/PATCH/properties/desired/+",
        "$iothub/methods/#",
        "$iothub/methods/POST/+",
        "$iothub/#",
        "$dps/registrations/res/#",
        "devices/thermostat-01/messages/events/#",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) filter_unsupported(bad[i], &dev);
}

static void test_filters_module(void **state)
{
    (void)state;
    struct gh_iothub_filter f = filter_ok("devices/edge-gw-01/modules/filter/inputs/#", &mod,
                                          GH_IOTHUB_FILTER_MODULE_INPUTS);
    assert_slice(f.device_id, "edge-gw-01");
    assert_slice(f.module_id, "filter");
    f = filter_ok("devices/edge-gw-01/modules/filter/#", &mod, GH_IOTHUB_FILTER_MODULE_INPUTS);
    assert_slice(f.module_id, "filter");
    f = filter_ok("devices/edge%2Dgw-01/modules/%66ilter/#", &mod, GH_IOTHUB_FILTER_MODULE_INPUTS);
    assert_slice(f.device_id, "edge%2Dgw-01");
    assert_slice(f.module_id, "%66ilter");
    filter_ok("$iothub/twin/res/#", &mod, GH_IOTHUB_FILTER_TWIN_RESPONSES);
    filter_ok("$iothub/twin/PATCH/properties/desired/#", &mod, GH_IOTHUB_FILTER_TWIN_DESIRED);
    filter_ok("$iothub/methods/POST/#", &mod, GH_IOTHUB_FILTER_METHODS);
    const char *bad[] = {
        "devices/edge-gw-01/messages/devicebound/#",
        "devices/+/messages/devicebound/#",
        "devices/edge-gw-01/modules/other/inputs/#",
        "devices/other/modules/filter/inputs/#",
        "devices/edge-gw-01/modules/+/#",
        "devices/+/modules/filter/#",
        "devices/edge-gw-01/modules/filter/inputs/input1",
        "devices/edge-gw-01/modules/filter/inputs/+",
        "devices/edge-gw-01/modules/filter/inputs/",
        "devices/edge-gw-01/modules/filter",
        "devices/edge-gw-01/modules/filter/",
        "devices/edge-gw-01/modules//#",
        "devices/edge-gw-01/modules/filter/outputs/#",
        "devices/edge-gw-01/modules/filter/##",
        "$dps/registrations/res/#",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) filter_unsupported(bad[i], &mod);
}

static void test_filters_dps(void **state)
{
    (void)state;
    filter_ok("$dps/registrations/res/#", &dps, GH_IOTHUB_FILTER_DPS_RESPONSES);
    const char *bad[] = {
        "$iothub/twin/res/#",
        "$iothub/methods/POST/#",
        "devices/thermostat-01/messages/devicebound/#",
        "$dps/registrations/res/+",
        "$dps/registrations/#",
        "#",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) filter_unsupported(bad[i], &dps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_telemetry_examples),
        cmocka_unit_test(test_telemetry_variants),
        cmocka_unit_test(test_telemetry_encoded_ids),
        cmocka_unit_test(test_telemetry_forbidden),
        cmocka_unit_test(test_hub_bad_topics),
        cmocka_unit_test(test_twin_requests),
        cmocka_unit_test(test_method_response),
        cmocka_unit_test(test_dps_topics),
        cmocka_unit_test(test_s2d_c2d_and_inputs),
        cmocka_unit_test(test_s2d_responses),
        cmocka_unit_test(test_s2d_bad),
        cmocka_unit_test(test_filters_device),
        cmocka_unit_test(test_filters_module),
        cmocka_unit_test(test_filters_dps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
