/* Topic builders (1.8.4, 1.9.1, 1.10, 1.11, 1.12, 4.2.2, Appendix A): exact
 * output strings, argument errors, all-or-nothing writes, round trips
 * through the classifiers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "iothub/topic.h"

#define S(x) gh_slice_cstr(x)
#define CAP 512

static char mem[CAP];
static struct gh_writer w;

static int setup(void **state)
{
    (void)state;
    memset(mem, 0, sizeof mem);
    gh_writer_init(&w, mem, sizeof mem);
    return 0;
}

static void assert_written(const char *want)
{
    assert_int_equal(w.len, strlen(want));
    assert_memory_equal(mem, want, w.len);
}

static const struct gh_iothub_bag_item c2d_props[] = {
    {{(const uint8_t *)"$.mid", 5},
     {(const uint8_t *)"6f1c0d8e-2b1a-4c1e-9d5e-0a6b2f3c4d5e", 36},
     true},
    {{(const uint8_t *)"$.to", 4},
     {(const uint8_t *)"/devices/thermostat-01/messages/devicebound", 43},
     true},
    {{(const uint8_t *)"$.ce", 4}, {(const uint8_t *)"utf-8", 5}, true},
    {{(const uint8_t *)"iothub-ack", 10}, {(const uint8_t *)"none", 4}, true},
    {{(const uint8_t *)"color", 5}, {(const uint8_t *)"red", 3}, true},
};

#define C2D_EXAMPLE                                                                                \
    "devices/thermostat-01/messages/devicebound/%24.mid=6f1c0d8e-2b1a-4c1e-9d5e-0a6b2f3c4d5e&%24." \
    "to=%2Fdevices%2Fthermostat-01%2Fmessages%2Fdevicebound&%24.ce=utf-8&iothub-ack=none&color="   \
    "red"

static void test_c2d_spec_example(void **state)
{
    (void)state;
    assert_int_equal(gh_iothub_topic_build_c2d(&w, S("thermostat-01"), c2d_props, 5), GH_OK);
    assert_written(C2D_EXAMPLE);
}

static void test_c2d_appendix_a(void **state)
{
    (void)state;
    const struct gh_iothub_bag_item props[] = {
        {S("$.mid"), S("c2d-1"), true},
        {S("$.to"), S("/devices/thermostat-01/messages/devicebound"), true},
        {S("iothub-ack"), S("none"), true},
        {S("color"), S("red"), true},
    };
    assert_int_equal(gh_iothub_topic_build_c2d(&w, S("thermostat-01"), props, 4), GH_OK);
    assert_written("devices/thermostat-01/messages/devicebound/%24.mid=c2d-1&%24.to=%2Fdevices%"
                   "2Fthermostat-01%2Fmessages%2Fdevicebound&iothub-ack=none&color=red");
}

static void test_c2d_app_property_forms(void **state)
{
    (void)state;
    const struct gh_iothub_bag_item props[] = {
        {S("$.mid"), S("1"), true},
        {S("nullprop"), GH_SLICE_EMPTY, false},
        {S("empty"), S(""), true},
        {S("k y"), S("v/1&2"), true},
    };
    assert_int_equal(gh_iothub_topic_build_c2d(&w, S("d"), props, 4), GH_OK);
    assert_written("devices/d/messages/devicebound/%24.mid=1&nullprop&empty=&k%20y=v%2F1%262");
}

static void test_id_segment_spelling(void **state)
{
    (void)state;
    const struct gh_iothub_bag_item mid = {S("$.mid"), S("1"), true};
    /* Client's encoded spelling is kept verbatim. */
    assert_int_equal(gh_iothub_topic_build_c2d(&w, S("dev%2B1"), &mid, 1), GH_OK);
    assert_written("devices/dev%2B1/messages/devicebound/%24.mid=1");
    /* A raw id that cannot be a topic level gets encoded. */
    setup(NULL);
    assert_int_equal(gh_iothub_topic_build_c2d(&w, S("dev+1#x"), &mid, 1), GH_OK);
    assert_written("devices/dev%2B1%23x/messages/devicebound/%24.mid=1");
    /* Raw `%`, `$`, `?` and friends stay raw (what Node and C send). */
    setup(NULL);
    assert_int_equal(gh_iothub_topic_build_c2d(&w, S("a%41$?!"), &mid, 1), GH_OK);
    assert_written("devices/a%41$?!/messages/devicebound/%24.mid=1");
    /* Empty bag is allowed (SHOULD not happen). */
    setup(NULL);
    assert_int_equal(gh_iothub_topic_build_c2d(&w, S("d"), NULL, 0), GH_OK);
    assert_written("devices/d/messages/devicebound/");
}

static void test_module_input_example(void **state)
{
    (void)state;
    const struct gh_iothub_bag_item props[] = {
        {S("$.cdid"), S("edge-gw-01"), true}, {S("$.cmid"), S("tempSensor"), true},
        {S("$.mid"), S("17"), true},          {S("$.ct"), S("application/json"), true},
        {S("$.ce"), S("utf-8"), true},        {S("sensorType"), S("thermal"), true},
    };
    assert_int_equal(
        gh_iothub_topic_build_module_input(&w, S("edge-gw-01"), S("filter"), S("input1"), props, 6),
        GH_OK);
    assert_written("devices/edge-gw-01/modules/filter/inputs/input1/%24.cdid=edge-gw-01&%24.cmid="
                   "tempSensor&%24.mid=17&%24.ct=application%2Fjson&%24.ce=utf-8&sensorType="
                   "thermal");
}

static void test_twin_and_method_examples(void **state)
{
    (void)state;
    /* Appendix A.1 */
    assert_int_equal(gh_iothub_topic_build_twin_response(
                         &w, 200, S("0d6f4c9a-7b1e-4c55-9a0e-3d2b1c4e5f60"), NULL),
                     GH_OK);
    assert_written("$iothub/twin/res/200/?$rid=0d6f4c9a-7b1e-4c55-9a0e-3d2b1c4e5f60");
    setup(NULL);
    uint64_t v = 2;
    assert_int_equal(gh_iothub_topic_build_twin_response(&w, 204, S("5a1e"), &v), GH_OK);
    assert_written("$iothub/twin/res/204/?$rid=5a1e&$version=2");
    setup(NULL);
    assert_int_equal(gh_iothub_topic_build_twin_desired(&w, 2), GH_OK);
    assert_written("$iothub/twin/PATCH/properties/desired/?$version=2");
    setup(NULL);
    assert_int_equal(gh_iothub_topic_build_twin_desired(&w, UINT64_MAX), GH_OK);
    assert_written("$iothub/twin/PATCH/properties/desired/?$version=18446744073709551615");
    setup(NULL);
    assert_int_equal(gh_iothub_topic_build_method_request(&w, S("reboot"), S("1")), GH_OK);
    assert_written("$iothub/methods/POST/reboot/?$rid=1");
    setup(NULL);
    assert_int_equal(gh_iothub_topic_build_twin_response(&w, 400, S(""), NULL), GH_OK);
    assert_written("$iothub/twin/res/400/?$rid=");
}

static void test_dps_examples(void **state)
{
    (void)state;
    uint32_t ra = 3;
    assert_int_equal(gh_iothub_topic_build_dps_response(&w, 202, S("6b8e"), &ra), GH_OK);
    assert_written("$dps/registrations/res/202/?$rid=6b8e&retry-after=3");
    setup(NULL);
    assert_int_equal(gh_iothub_topic_build_dps_response(&w, 200, S("91c2"), NULL), GH_OK);
    assert_written("$dps/registrations/res/200/?$rid=91c2");
    setup(NULL);
    assert_int_equal(gh_iothub_topic_build_dps_register(&w, S("6b8e")), GH_OK);
    assert_written("$dps/registrations/PUT/iotdps-register/?$rid=6b8e");
    setup(NULL);
    assert_int_equal(gh_iothub_topic_build_dps_poll(&w, S("91c2"), S("4.0a1b-X")), GH_OK);
    assert_written("$dps/registrations/GET/iotdps-get-operationstatus/?$rid=91c2&operationId=4."
                   "0a1b-X");
}

static void test_device_side_examples(void **state)
{
    (void)state;
    /* 1.8.4 Node example, byte for byte. */
    const struct gh_iothub_bag_item props[] = {
        {S("$.mid"), S("msg-1"), true},
        {S("$.ct"), S("application/json"), true},
        {S("$.ce"), S("utf-8"), true},
        {S("alert level"), S("high & urgent"), true},
    };
    assert_int_equal(
        gh_iothub_topic_build_telemetry(&w, S("thermostat-01"), GH_SLICE_EMPTY, props, 4), GH_OK);
    assert_written("devices/thermostat-01/messages/events/%24.mid=msg-1&%24.ct=application%2Fjson&"
                   "%24.ce=utf-8&alert%20level=high%20%26%20urgent");
    setup(NULL);
    const struct gh_iothub_bag_item on = {S("$.on"), S("output1"), true};
    assert_int_equal(gh_iothub_topic_build_telemetry(&w, S("edge-gw-01"), S("filter"), &on, 1),
                     GH_OK);
    assert_written("devices/edge-gw-01/modules/filter/messages/events/%24.on=output1");
    setup(NULL);
    assert_int_equal(gh_iothub_topic_build_telemetry(&w, S("d"), GH_SLICE_EMPTY, NULL, 0), GH_OK);
    assert_written("devices/d/messages/events/");
    setup(NULL);
    assert_int_equal(gh_iothub_topic_build_twin_get(&w, S("0d6f")), GH_OK);
    assert_written("$iothub/twin/GET/?$rid=0d6f");
    setup(NULL);
    assert_int_equal(gh_iothub_topic_build_twin_patch_reported(&w, S("5a1e")), GH_OK);
    assert_written("$iothub/twin/PATCH/properties/reported/?$rid=5a1e");
    setup(NULL);
    assert_int_equal(gh_iothub_topic_build_method_response(&w, 200, S("1")), GH_OK);
    assert_written("$iothub/methods/res/200/?$rid=1");
    setup(NULL);
    assert_int_equal(gh_iothub_topic_build_method_response(&w, INT32_MIN, S("1")), GH_OK);
    assert_written("$iothub/methods/res/-2147483648/?$rid=1");
}

static void test_argument_errors(void **state)
{
    (void)state;
    const struct gh_iothub_bag_item bad_item = {S(""), S("v"), true};
    const struct gh_iothub_bag_item ok_item = {S("k"), S("v"), true};
    assert_int_equal(gh_iothub_topic_build_c2d(&w, S(""), &ok_item, 1), GH_ERR_ARG);
    assert_int_equal(gh_iothub_topic_build_c2d(&w, S("d"), &bad_item, 1), GH_ERR_ARG);
    assert_int_equal(gh_iothub_topic_build_module_input(&w, S(""), S("m"), S("i"), &ok_item, 1),
                     GH_ERR_ARG);
    assert_int_equal(gh_iothub_topic_build_module_input(&w, S("d"), S(""), S("i"), &ok_item, 1),
                     GH_ERR_ARG);
    assert_int_equal(gh_iothub_topic_build_module_input(&w, S("d"), S("m"), S(""), &ok_item, 1),
                     GH_ERR_ARG);
    assert_int_equal(gh_iothub_topic_build_module_input(&w, S("d"), S("m"), S("i"), &bad_item, 1),
                     GH_ERR_ARG);
    assert_int_equal(gh_iothub_topic_build_telemetry(&w, S(""), GH_SLICE_EMPTY, NULL, 0),
                     GH_ERR_ARG);
    assert_int_equal(gh_iothub_topic_build_telemetry(&w, S("d"), S("m"), &bad_item, 1), GH_ERR_ARG);
    assert_int_equal(gh_iothub_topic_build_twin_response(&w, 99, S("1"), NULL), GH_ERR_ARG);
    assert_int_equal(gh_iothub_topic_build_twin_response(&w, 1000, S("1"), NULL), GH_ERR_ARG);
    const char *bad_echo[] = {"a&b", "a+b", "a#b"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(gh_iothub_topic_build_twin_response(&w, 200, S(bad_echo[i]), NULL),
                         GH_ERR_ARG);
        assert_int_equal(gh_iothub_topic_build_dps_response(&w, 200, S(bad_echo[i]), NULL),
                         GH_ERR_ARG);
        assert_int_equal(gh_iothub_topic_build_method_response(&w, 200, S(bad_echo[i])),
                         GH_ERR_ARG);
    }
    struct gh_slice nul = {(const uint8_t *)"a\0b", 3};
    assert_int_equal(gh_iothub_topic_build_twin_response(&w, 200, nul, NULL), GH_ERR_ARG);
    assert_int_equal(gh_iothub_topic_build_dps_response(&w, 99, S("1"), NULL), GH_ERR_ARG);
    assert_int_equal(gh_iothub_topic_build_method_request(&w, S("re/boot"), S("1")), GH_ERR_ARG);
    const char *bad_token[] = {"", "a&b", "a/b", "a?b", "a#b", "a+b", "a b", "a\tb", "\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad_token / sizeof bad_token[0]; i++) {
        assert_int_equal(gh_iothub_topic_build_method_request(&w, S("reboot"), S(bad_token[i])),
                         GH_ERR_ARG);
        assert_int_equal(gh_iothub_topic_build_twin_get(&w, S(bad_token[i])), GH_ERR_ARG);
        assert_int_equal(gh_iothub_topic_build_twin_patch_reported(&w, S(bad_token[i])),
                         GH_ERR_ARG);
        assert_int_equal(gh_iothub_topic_build_dps_register(&w, S(bad_token[i])), GH_ERR_ARG);
        assert_int_equal(gh_iothub_topic_build_dps_poll(&w, S(bad_token[i]), S("op")), GH_ERR_ARG);
    }
    const char *bad_op[] = {"", "a_b", "a/b", "a&b", "a b", "a:b"};
    for (size_t i = 0; i < sizeof bad_op / sizeof bad_op[0]; i++)
        assert_int_equal(gh_iothub_topic_build_dps_poll(&w, S("1"), S(bad_op[i])), GH_ERR_ARG);
    assert_int_equal(w.len, 0);
}

static void test_valid_method_name(void **state)
{
    (void)state;
    assert_true(gh_iothub_valid_method_name(S("reboot")));
    assert_true(gh_iothub_valid_method_name(S("get-Status_v2.1!~*'&%^|`")));
    const char *bad[] = {"",  "a b", "a\tb", "$x", "(",  ")",    "<",       ">", "@",
                         ",", ";",   ":",    "\\", "\"", "/",    "[",       "]", "?",
                         "=", "{",   "}",    "+",  "#",  "\x7f", "\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(gh_iothub_valid_method_name(S(bad[i])));
        assert_int_equal(gh_iothub_topic_build_method_request(&w, S(bad[i]), S("1")), GH_ERR_ARG);
    }
    assert_int_equal(w.len, 0);
}

/* Every builder, run at every capacity short of its output, fails with
 * NOBUFS and leaves the writer as it was (including earlier content). */
typedef gh_err (*build_fn)(struct gh_writer *);

static gh_err b_c2d(struct gh_writer *x)
{
    return gh_iothub_topic_build_c2d(x, S("thermostat-01"), c2d_props, 5);
}
static gh_err b_input(struct gh_writer *x)
{
    return gh_iothub_topic_build_module_input(x, S("d"), S("m+"), S("in"), c2d_props, 2);
}
static gh_err b_twin(struct gh_writer *x)
{
    uint64_t v = 12345;
    return gh_iothub_topic_build_twin_response(x, 204, S("rid"), &v);
}
static gh_err b_desired(struct gh_writer *x)
{
    return gh_iothub_topic_build_twin_desired(x, 77);
}
static gh_err b_method(struct gh_writer *x)
{
    return gh_iothub_topic_build_method_request(x, S("reboot"), S("a1"));
}
static gh_err b_dps(struct gh_writer *x)
{
    uint32_t ra = 3;
    return gh_iothub_topic_build_dps_response(x, 202, S("6b8e"), &ra);
}
static gh_err b_telemetry(struct gh_writer *x)
{
    return gh_iothub_topic_build_telemetry(x, S("d#"), S("m"), c2d_props, 3);
}
static gh_err b_get(struct gh_writer *x)
{
    return gh_iothub_topic_build_twin_get(x, S("1"));
}
static gh_err b_patch(struct gh_writer *x)
{
    return gh_iothub_topic_build_twin_patch_reported(x, S("1"));
}
static gh_err b_mres(struct gh_writer *x)
{
    return gh_iothub_topic_build_method_response(x, -500, S("1"));
}
static gh_err b_reg(struct gh_writer *x)
{
    return gh_iothub_topic_build_dps_register(x, S("1"));
}
static gh_err b_poll(struct gh_writer *x)
{
    return gh_iothub_topic_build_dps_poll(x, S("1"), S("4.abc"));
}

static void test_nobufs_everywhere(void **state)
{
    (void)state;
    const build_fn fns[] = {b_c2d,       b_input, b_twin,  b_desired, b_method, b_dps,
                            b_telemetry, b_get,   b_patch, b_mres,    b_reg,    b_poll};
    for (size_t f = 0; f < sizeof fns / sizeof fns[0]; f++) {
        char full[CAP];
        struct gh_writer fw;
        gh_writer_init(&fw, full, sizeof full);
        assert_int_equal(fns[f](&fw), GH_OK);
        size_t need = fw.len;
        for (size_t cap = 0; cap < need; cap++) {
            char buf[CAP + 2];
            memset(buf, '@', sizeof buf);
            struct gh_writer x;
            gh_writer_init(&x, buf, cap + 2);
            assert_int_equal(gh_writer_cstr(&x, "P:"), GH_OK);
            assert_int_equal(fns[f](&x), GH_ERR_NOBUFS);
            assert_int_equal(x.len, 2);
        }
        char buf[CAP + 2];
        struct gh_writer x;
        gh_writer_init(&x, buf, need + 2);
        assert_int_equal(gh_writer_cstr(&x, "P:"), GH_OK);
        assert_int_equal(fns[f](&x), GH_OK);
        assert_int_equal(x.len, need + 2);
        assert_memory_equal(buf + 2, full, need);
    }
}

static const struct gh_iothub_identity dev = {
    GH_IOTHUB_ID_DEVICE, {(const uint8_t *)"d#", 2}, {NULL, 0}};
static const struct gh_iothub_identity mod = {
    GH_IOTHUB_ID_MODULE, {(const uint8_t *)"d#", 2}, {(const uint8_t *)"m", 1}};

static void test_round_trips(void **state)
{
    (void)state;
    struct gh_iothub_topic t;
    /* Server-to-device topics through the client-side classifier. */
    assert_int_equal(b_c2d(&w), GH_OK);
    assert_int_equal(gh_iothub_topic_classify_s2d(gh_writer_slice(&w), &t), GH_OK);
    assert_int_equal(t.kind, GH_IOTHUB_TOPIC_C2D);
    assert_true(gh_slice_eq_cstr(t.device_id, "thermostat-01"));
    assert_true(gh_slice_eq(t.bag, (struct gh_slice){(const uint8_t *)mem + 43, w.len - 43}));
    setup(NULL);
    assert_int_equal(b_input(&w), GH_OK);
    assert_int_equal(gh_iothub_topic_classify_s2d(gh_writer_slice(&w), &t), GH_OK);
    assert_int_equal(t.kind, GH_IOTHUB_TOPIC_MODULE_INPUT);
    assert_true(gh_slice_eq_cstr(t.module_id, "m%2B"));
    assert_true(gh_iothub_pct_matches(t.module_id, S("m+")));
    assert_true(gh_slice_eq_cstr(t.name, "in"));
    setup(NULL);
    assert_int_equal(b_twin(&w), GH_OK);
    assert_int_equal(gh_iothub_topic_classify_s2d(gh_writer_slice(&w), &t), GH_OK);
    assert_int_equal(t.kind, GH_IOTHUB_TOPIC_TWIN_RESPONSE);
    assert_int_equal(t.status, 204);
    assert_int_equal(t.version, 12345);
    assert_true(gh_slice_eq_cstr(t.rid, "rid"));
    setup(NULL);
    assert_int_equal(b_desired(&w), GH_OK);
    assert_int_equal(gh_iothub_topic_classify_s2d(gh_writer_slice(&w), &t), GH_OK);
    assert_int_equal(t.kind, GH_IOTHUB_TOPIC_TWIN_DESIRED);
    assert_int_equal(t.version, 77);
    setup(NULL);
    assert_int_equal(b_method(&w), GH_OK);
    assert_int_equal(gh_iothub_topic_classify_s2d(gh_writer_slice(&w), &t), GH_OK);
    assert_int_equal(t.kind, GH_IOTHUB_TOPIC_METHOD_REQUEST);
    assert_true(gh_slice_eq_cstr(t.name, "reboot"));
    assert_true(gh_slice_eq_cstr(t.rid, "a1"));
    setup(NULL);
    assert_int_equal(b_dps(&w), GH_OK);
    assert_int_equal(gh_iothub_topic_classify_s2d(gh_writer_slice(&w), &t), GH_OK);
    assert_int_equal(t.kind, GH_IOTHUB_TOPIC_DPS_RESPONSE);
    assert_int_equal(t.retry_after, 3);
    /* Device-to-server topics through the server-side classifier. */
    setup(NULL);
    assert_int_equal(b_telemetry(&w), GH_OK);
    assert_int_equal(gh_iothub_topic_classify(gh_writer_slice(&w), &mod, &t), GH_OK);
    assert_int_equal(t.kind, GH_IOTHUB_TOPIC_TELEMETRY);
    assert_true(gh_slice_eq_cstr(t.device_id, "d%23"));
    assert_int_equal(gh_iothub_topic_classify(gh_writer_slice(&w), &dev, &t), GH_ERR_FORBIDDEN);
    setup(NULL);
    assert_int_equal(b_mres(&w), GH_OK);
    assert_int_equal(gh_iothub_topic_classify(gh_writer_slice(&w), &dev, &t), GH_OK);
    assert_int_equal(t.kind, GH_IOTHUB_TOPIC_METHOD_RESPONSE);
    assert_int_equal(t.status, -500);
    setup(NULL);
    assert_int_equal(b_poll(&w), GH_OK);
    const struct gh_iothub_identity dps = {GH_IOTHUB_ID_DPS, S("r"), GH_SLICE_EMPTY};
    assert_int_equal(gh_iothub_topic_classify(gh_writer_slice(&w), &dps, &t), GH_OK);
    assert_int_equal(t.kind, GH_IOTHUB_TOPIC_DPS_POLL);
    assert_true(gh_slice_eq_cstr(t.operation_id, "4.abc"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_c2d_spec_example, setup),
        cmocka_unit_test_setup(test_c2d_appendix_a, setup),
        cmocka_unit_test_setup(test_c2d_app_property_forms, setup),
        cmocka_unit_test_setup(test_id_segment_spelling, setup),
        cmocka_unit_test_setup(test_module_input_example, setup),
        cmocka_unit_test_setup(test_twin_and_method_examples, setup),
        cmocka_unit_test_setup(test_dps_examples, setup),
        cmocka_unit_test_setup(test_device_side_examples, setup),
        cmocka_unit_test_setup(test_argument_errors, setup),
        cmocka_unit_test_setup(test_valid_method_name, setup),
        cmocka_unit_test_setup(test_nobufs_everywhere, setup),
        cmocka_unit_test_setup(test_round_trips, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
