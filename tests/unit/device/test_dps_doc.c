/* The DPS response document decoder (src/device/dps_doc.c): the documents
 * of PROTOCOL.md 4.3, each error path with its exact code, every prefix of
 * a valid document (truncation), and the fuzz regression vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "device/device_int.h"

static gh_err parse(const char *s, struct gh_device_dps_doc *d)
{
    return gh_device_dps_doc_parse((struct gh_slice){(const uint8_t *)s, strlen(s)}, d);
}

/* {"a":[[...]]} with n arrays: nesting depth n + 1. */
static void nested(char *out, unsigned n)
{
    size_t k = 0;
    memcpy(out, "{\"a\":", 5);
    k = 5;
    for (unsigned i = 0; i < n; i++) out[k++] = '[';
    for (unsigned i = 0; i < n; i++) out[k++] = ']';
    out[k++] = '}';
    out[k] = '\0';
}

static void test_assigning(void **state)
{
    (void)state;
    struct gh_device_dps_doc d;
    assert_int_equal(parse("{\"operationId\":\"4.0a1b.7d2c\",\"status\":\"assigning\"}", &d),
                     GH_OK);
    assert_true(gh_slice_eq_cstr(d.operation_id, "4.0a1b.7d2c"));
    assert_true(gh_slice_eq_cstr(d.status, "assigning"));
    assert_null(d.assigned_hub.ptr);
    assert_null(d.device_id.ptr);
}

static void test_assigned(void **state)
{
    (void)state;
    const char *doc =
        " {\"operationId\":\"op-1\",\"status\":\"assigned\",\n"
        " \"registrationState\":{\"registrationId\":\"t-01\",\"createdDateTimeUtc\":\"2026-01-01\","
        "\"assignedHub\":\"hub.example.test\",\"deviceId\":\"t-01\",\"status\":\"assigned\","
        "\"payload\":{\"a\":[1,2.5e3,-0.1,true,false,null,{\"deviceId\":\"nested\"}]},"
        "\"substatus\":\"initialAssignment\",\"etag\":\"Ij\\u0041\\\"\"}} ";
    struct gh_device_dps_doc d;
    assert_int_equal(parse(doc, &d), GH_OK);
    assert_true(gh_slice_eq_cstr(d.status, "assigned"));
    assert_true(gh_slice_eq_cstr(d.assigned_hub, "hub.example.test"));
    assert_true(gh_slice_eq_cstr(d.device_id, "t-01")); /* not the nested one */
    assert_true(gh_slice_eq_cstr(d.operation_id, "op-1"));

    /* Every strict prefix is malformed (a truncated document). */
    size_t n = strlen(doc);
    while (n > 0 && doc[n - 1] == ' ') n--;
    for (size_t i = 0; i < n; i++) {
        struct gh_device_dps_doc e = {.status = {(const uint8_t *)"x", 1}};
        assert_int_equal(gh_device_dps_doc_parse((struct gh_slice){(const uint8_t *)doc, i}, &e),
                         GH_ERR_BAD_JSON);
        assert_true(gh_slice_eq_cstr(e.status, "x")); /* untouched on error */
    }
}

static void test_failed(void **state)
{
    (void)state;
    struct gh_device_dps_doc d;
    assert_int_equal(parse("{\"operationId\":\"o\",\"status\":\"failed\",\"registrationState\":{"
                           "\"status\":\"failed\",\"errorCode\":400209,\"errorMessage\":\"nope\"}}",
                           &d),
                     GH_OK);
    assert_true(gh_slice_eq_cstr(d.error_message, "nope"));
    assert_int_equal(parse("{\"errorCode\":401002,\"message\":\"Unauthorized.\"}", &d), GH_OK);
    assert_true(gh_slice_eq_cstr(d.error_message, "Unauthorized."));
    assert_int_equal(parse("{}", &d), GH_OK);
    assert_null(d.status.ptr);
}

static void test_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "   ",
        "[]",
        "\"s\"",
        "{",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\":1,}",
        "{\"a\":1 \"b\":2}",
        "{a:1}",
        "{\"a\":tru}",
        "{\"a\":-}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"\\u12G4\"}",
        "{\"a\":\"tab\there\"}",
        "{\"a\":[1,]}",
        "{\"a\":[1 2]}",
        "{} {}",
        "{}x",
        /* nesting deeper than GH_DEVICE_JSON_DEPTH_MAX */
        "{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}",
    };
    struct gh_device_dps_doc d;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (parse(bad[i], &d) != GH_ERR_BAD_JSON) fail_msg("accepted: %s", bad[i]);
    }
    /* An embedded NUL inside a string is a control character. */
    const char nul[] = "{\"a\":\"x\0y\"}";
    assert_int_equal(
        gh_device_dps_doc_parse((struct gh_slice){(const uint8_t *)nul, sizeof nul - 1}, &d),
        GH_ERR_BAD_JSON);
    /* The deepest accepted nesting, and one more. */
    char deep[2 * GH_DEVICE_JSON_DEPTH_MAX + 16];
    nested(deep, GH_DEVICE_JSON_DEPTH_MAX - 1);
    assert_int_equal(parse(deep, &d), GH_OK);
    nested(deep, GH_DEVICE_JSON_DEPTH_MAX);
    assert_int_equal(parse(deep, &d), GH_ERR_BAD_JSON);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_assigning),
        cmocka_unit_test(test_assigned),
        cmocka_unit_test(test_failed),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
