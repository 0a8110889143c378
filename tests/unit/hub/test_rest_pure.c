/* The REST API's pure pieces: error codes and bodies, time and integer
 * parsing, direct-method request parsing and result shape, telemetry and
 * certificate JSON. (The C2D header mapping: test_rest_c2d.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timefmt.h"
#include "hub/rest_int.h"

/* 2026-01-01T00:00:00.000Z */
#define T0 INT64_C(1767225600000)

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (j == NULL) fprintf(stderr, "bad test JSON %s: %s\n", text, e.text);
    assert_non_null(j);
    return j;
}

/* Compact JSON text of j (decref'd), for exact comparisons. */
static char *text_of(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(j);
    assert_non_null(s);
    return s;
}

/* ---- codes and error bodies ---------------------------------------------- */

static void test_codes(void **state)
{
    (void)state;
    static const struct {
        enum gh_hub_rest_code c;
        unsigned status;
        const char *name;
        uint32_t number;
    } want[] = {
        {GH_REST_ARGUMENT_INVALID, 400, "ArgumentInvalid", 400004},
        {GH_REST_MESSAGE_TOO_LARGE, 413, "MessageTooLarge", 413002},
        {GH_REST_UNAUTHORIZED, 401, "IotHubUnauthorizedAccess", 401002},
        {GH_REST_QUEUE_DEPTH_EXCEEDED, 403, "DeviceMaximumQueueDepthExceeded", 403004},
        {GH_REST_DEVICE_NOT_FOUND, 404, "DeviceNotFound", 404001},
        {GH_REST_MODULE_NOT_FOUND, 404, "ModuleNotFound", 404010},
        {GH_REST_DEVICE_NOT_ONLINE, 404, "DeviceNotOnline", 404103},
        {GH_REST_CERT_NOT_FOUND, 404, "CertificateNotFound", 404301},
        {GH_REST_NOT_FOUND, 404, "NotFound", 404000},
        {GH_REST_METHOD_NOT_ALLOWED, 405, "MethodNotAllowed", 405000},
        {GH_REST_DEVICE_EXISTS, 409, "DeviceAlreadyExists", 409001},
        {GH_REST_MODULE_EXISTS, 409, "ModuleAlreadyExistsOnDevice", 409301},
        {GH_REST_CERT_EXISTS, 409, "CertificateAlreadyExists", 409302},
        {GH_REST_PRECONDITION_FAILED, 412, "PreconditionFailed", 412001},
        {GH_REST_CERT_VERIFY_FAILED, 400, "CertificateVerificationFailed", 400301},
        {GH_REST_SERVER_ERROR, 500, "ServerError", 500001},
        {GH_REST_SERVICE_UNAVAILABLE, 503, "ServiceUnavailable", 503001},
        {GH_REST_GATEWAY_TIMEOUT, 504, "GatewayTimeout", 504101},
    };
    assert_int_equal(sizeof want / sizeof want[0], GH_REST_CODE_COUNT);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(gh_hub_rest_code_status(want[i].c), want[i].status);
        assert_string_equal(gh_hub_rest_code_name(want[i].c), want[i].name);
        assert_int_equal(gh_hub_rest_code_number(want[i].c), want[i].number);
        /* The HTTP status is the code number's first three digits. */
        assert_int_equal(want[i].number / 1000, want[i].status);
    }
    assert_string_equal(gh_hub_rest_code_name(GH_REST_CODE_COUNT), "ServerError");
    assert_int_equal(gh_hub_rest_code_status((enum gh_hub_rest_code) - 1), 500);
}

static void test_error_body_exact(void **state)
{
    (void)state;
    char *b = NULL;
    assert_int_equal(gh_hub_rest_error_body(GH_REST_DEVICE_NOT_FOUND,
                                            "Device thermostat-99 is not registered.", "4f1e",
                                            T0 + 61500, &b),
                     GH_OK);
    assert_string_equal(b, "{\"Message\":\"ErrorCode:DeviceNotFound;Device thermostat-99 is not "
                           "registered.\",\"ExceptionMessage\":\"Tracking ID:4f1e-TimeStamp:"
                           "01/01/2026 00:01:01\",\"errorCode\":404001}");
    free(b);
    /* No time: .NET's minimum date. */
    assert_int_equal(gh_hub_rest_error_body(GH_REST_GATEWAY_TIMEOUT, NULL, NULL, 0, &b), GH_OK);
    assert_string_equal(b, "{\"Message\":\"ErrorCode:GatewayTimeout;\",\"ExceptionMessage\":"
                           "\"Tracking ID:-TimeStamp:01/01/0001 00:00:00\",\"errorCode\":504101}");
    free(b);
}

/* What Node's parseErrorBody does: Message split at ';', the code after
 * "ErrorCode:", the message the next piece. */
static void node_parse(const char *body, char *code, char *msg, size_t cap)
{
    json_t *j = parse(body);
    const char *m = json_string_value(json_object_get(j, "Message"));
    assert_non_null(m);
    const char *semi = strchr(m, ';');
    assert_non_null(semi);
    const char *colon = strchr(m, ':');
    assert_true(colon != NULL && colon < semi);
    snprintf(code, cap, "%.*s", (int)(semi - colon - 1), colon + 1);
    const char *next = strchr(semi + 1, ';');
    snprintf(msg, cap, "%.*s", next ? (int)(next - semi - 1) : (int)strlen(semi + 1), semi + 1);
    json_decref(j);
}

static void test_error_body_sanitized(void **state)
{
    (void)state;
    char *b = NULL, code[64], msg[512];
    assert_int_equal(
        gh_hub_rest_error_body(GH_REST_ARGUMENT_INVALID, "a;b\"c\\d\ne\x01 \xc3\xa9", "t", T0, &b),
        GH_OK);
    node_parse(b, code, msg, sizeof msg);
    assert_string_equal(code, "ArgumentInvalid");
    assert_string_equal(msg, "a,b\"c\\d e  \xc3\xa9");
    free(b);
    /* Invalid UTF-8: non-ASCII bytes become '?'. */
    assert_int_equal(gh_hub_rest_error_body(GH_REST_ARGUMENT_INVALID, "x\xff\xc3y", "t", T0, &b),
                     GH_OK);
    node_parse(b, code, msg, sizeof msg);
    assert_string_equal(msg, "x??y");
    free(b);
    /* Long text is cut at GH_REST_ERROR_TEXT_MAX, at a character boundary. */
    char long_text[GH_REST_ERROR_TEXT_MAX + 40];
    memset(long_text, 'a', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    memcpy(long_text + GH_REST_ERROR_TEXT_MAX - 1, "\xc3\xa9", 2);
    assert_int_equal(gh_hub_rest_error_body(GH_REST_ARGUMENT_INVALID, long_text, "t", T0, &b),
                     GH_OK);
    node_parse(b, code, msg, sizeof msg);
    assert_int_equal(strlen(msg), GH_REST_ERROR_TEXT_MAX - 1);
    free(b);
}

/* ---- parsers -------------------------------------------------------------- */

static void test_parse_time(void **state)
{
    (void)state;
    int64_t ms = -1;
    assert_int_equal(gh_time_parse("2026-01-01T00:00:00Z", &ms), GH_OK);
    assert_int_equal(ms, T0);
    assert_int_equal(gh_time_parse("2026-01-01T00:00:00.123Z", &ms), GH_OK);
    assert_int_equal(ms, T0 + 123);
    assert_int_equal(gh_time_parse("2026-01-01t00:00:01.1234567z", &ms), GH_OK);
    assert_int_equal(ms, T0 + 1123);
    assert_int_equal(gh_time_parse("2026-01-01 00:00:00.5Z", &ms), GH_OK);
    assert_int_equal(ms, T0 + 500);
    assert_int_equal(gh_time_parse("2026-01-01T01:30:00+01:30", &ms), GH_OK);
    assert_int_equal(ms, T0);
    assert_int_equal(gh_time_parse("2025-12-31T23:00:00-01:00", &ms), GH_OK);
    assert_int_equal(ms, T0);
    assert_int_equal(gh_time_parse("1970-01-01T00:00:00Z", &ms), GH_OK);
    assert_int_equal(ms, 0);
    assert_int_equal(gh_time_parse("2024-02-29T12:00:00Z", &ms), GH_OK);
    assert_int_equal(ms, INT64_C(1709208000000));
    assert_int_equal(gh_time_parse("2000-03-01T00:00:00Z", &ms), GH_OK);
    assert_int_equal(ms, INT64_C(951868800000));
    assert_int_equal(gh_time_parse("9999-12-31T23:59:59.999Z", &ms), GH_OK);
    assert_int_equal(ms, INT64_C(253402300799999));
    static const char *const bad[] = {
        NULL,
        "",
        "2026-01-01",
        "2026-01-01T00:00:00",
        "2026-01-01T00:00Z",
        "2026-1-01T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z",
        "2025-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-01-00T00:00:00Z",
        "2026-01-01T24:00:00Z",
        "2026-01-01T00:60:00Z",
        "2026-01-01T00:00:60Z",
        "2026-01-01T00:00:00.Z",
        "2026-01-01T00:00:00.1234567890Z",
        "2026-01-01T00:00:00+0100",
        "2026-01-01T00:00:00+24:00",
        "2026-01-01T00:00:00Zjunk",
        "1969-12-31T23:59:59Z",
        "1970-01-01T00:00:00+00:01",
        "2026-01-01X00:00:00Z",
        "+2026-01-01T00:00:00Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ms = 42;
        assert_int_equal(gh_time_parse(bad[i], &ms), GH_ERR_MALFORMED);
        assert_int_equal(ms, 42);
    }
}

static void test_parse_uint(void **state)
{
    (void)state;
    uint64_t v = 7;
    assert_int_equal(gh_hub_rest_parse_uint("0", 10, &v), GH_OK);
    assert_int_equal(v, 0);
    assert_int_equal(gh_hub_rest_parse_uint("0010", 10, &v), GH_OK);
    assert_int_equal(v, 10);
    assert_int_equal(gh_hub_rest_parse_uint("9223372036854775807", INT64_MAX, &v), GH_OK);
    assert_int_equal(v, INT64_MAX);
    assert_int_equal(gh_hub_rest_parse_uint("18446744073709551615", UINT64_MAX, &v), GH_OK);
    assert_true(v == UINT64_MAX);
    v = 7;
    assert_int_equal(gh_hub_rest_parse_uint("11", 10, &v), GH_ERR_TOO_LARGE);
    assert_int_equal(gh_hub_rest_parse_uint("9223372036854775808", INT64_MAX, &v),
                     GH_ERR_TOO_LARGE);
    assert_int_equal(gh_hub_rest_parse_uint("18446744073709551616", UINT64_MAX, &v),
                     GH_ERR_TOO_LARGE);
    assert_int_equal(gh_hub_rest_parse_uint("", 10, &v), GH_ERR_MALFORMED);
    assert_int_equal(gh_hub_rest_parse_uint(NULL, 10, &v), GH_ERR_MALFORMED);
    assert_int_equal(gh_hub_rest_parse_uint("-1", 10, &v), GH_ERR_MALFORMED);
    assert_int_equal(gh_hub_rest_parse_uint("+1", 10, &v), GH_ERR_MALFORMED);
    assert_int_equal(gh_hub_rest_parse_uint("1a", 10, &v), GH_ERR_MALFORMED);
    assert_int_equal(gh_hub_rest_parse_uint(" 1", 10, &v), GH_ERR_MALFORMED);
    assert_int_equal(v, 7);
}

/* ---- direct methods ---------------------------------------------------------- */

static gh_err mparse(const char *body, struct gh_hub_rest_method_req *m)
{
    json_t *j = parse(body);
    char err[160] = "unset";
    memset(m, 0, sizeof *m);
    gh_err rc = gh_hub_rest_method_parse(j, m, err, sizeof err);
    json_decref(j);
    if (rc == GH_OK)
        assert_string_equal(err, "");
    else
        assert_true(err[0] != '\0' && strcmp(err, "unset") != 0);
    return rc;
}

static void test_method_parse(void **state)
{
    (void)state;
    struct gh_hub_rest_method_req m;
    assert_int_equal(mparse("{\"methodName\":\"reboot\"}", &m), GH_OK);
    assert_string_equal(m.name, "reboot");
    assert_string_equal(m.payload, "null");
    assert_int_equal(m.response_timeout_s, 30);
    assert_int_equal(m.connect_timeout_s, 0);
    free(m.payload);
    assert_int_equal(mparse("{\"methodName\":\"reboot\",\"payload\":{\"delay\": 5, \"a\":[1,2]},"
                            "\"responseTimeoutInSeconds\":60,\"connectTimeoutInSeconds\":10}",
                            &m),
                     GH_OK);
    assert_string_equal(m.payload, "{\"delay\":5,\"a\":[1,2]}");
    assert_int_equal(m.response_timeout_s, 60);
    assert_int_equal(m.connect_timeout_s, 10);
    free(m.payload);
    /* Clamps: response 5..300, connect 0..300; null = default. */
    static const struct {
        const char *body;
        unsigned rto, cto;
    } clamp[] = {
        {"{\"methodName\":\"m\",\"responseTimeoutInSeconds\":1}", 5, 0},
        {"{\"methodName\":\"m\",\"responseTimeoutInSeconds\":-7}", 5, 0},
        {"{\"methodName\":\"m\",\"responseTimeoutInSeconds\":301}", 300, 0},
        {"{\"methodName\":\"m\",\"responseTimeoutInSeconds\":9999999999999}", 300, 0},
        {"{\"methodName\":\"m\",\"connectTimeoutInSeconds\":-1}", 30, 0},
        {"{\"methodName\":\"m\",\"connectTimeoutInSeconds\":500}", 30, 300},
        {"{\"methodName\":\"m\",\"responseTimeoutInSeconds\":null,\"connectTimeoutInSeconds\":null,"
         "\"payload\":null}",
         30, 0},
    };
    for (size_t i = 0; i < sizeof clamp / sizeof clamp[0]; i++) {
        assert_int_equal(mparse(clamp[i].body, &m), GH_OK);
        assert_int_equal(m.response_timeout_s, clamp[i].rto);
        assert_int_equal(m.connect_timeout_s, clamp[i].cto);
        assert_string_equal(m.payload, "null");
        free(m.payload);
    }
    assert_int_equal(mparse("{\"methodName\":\"m\",\"payload\":\"text\"}", &m), GH_OK);
    assert_string_equal(m.payload, "\"text\"");
    free(m.payload);
    assert_int_equal(mparse("{\"methodName\":\"m\",\"payload\":42}", &m), GH_OK);
    assert_string_equal(m.payload, "42");
    free(m.payload);
    /* Errors, output untouched. */
    static const struct {
        const char *body;
        gh_err rc;
    } bad[] = {
        {"[]", GH_ERR_BAD_JSON},
        {"\"reboot\"", GH_ERR_BAD_JSON},
        {"{}", GH_ERR_ARG},
        {"{\"methodName\":null}", GH_ERR_ARG},
        {"{\"methodName\":7}", GH_ERR_BAD_JSON},
        {"{\"methodName\":\"\"}", GH_ERR_ARG},
        {"{\"methodName\":\"a/b\"}", GH_ERR_ARG},
        {"{\"methodName\":\"a b\"}", GH_ERR_ARG},
        {"{\"methodName\":\"a$b\"}", GH_ERR_ARG},
        {"{\"methodName\":\"a\\u0000b\"}", GH_ERR_ARG},
        {"{\"methodName\":\"m\",\"responseTimeoutInSeconds\":\"30\"}", GH_ERR_BAD_JSON},
        {"{\"methodName\":\"m\",\"responseTimeoutInSeconds\":30.5}", GH_ERR_BAD_JSON},
        {"{\"methodName\":\"m\",\"connectTimeoutInSeconds\":true}", GH_ERR_BAD_JSON},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(mparse(bad[i].body, &m), bad[i].rc);
        assert_null(m.payload);
    }
    /* Name length: 128 is fine, 129 is not. */
    char body[400];
    char name[GH_REST_METHOD_NAME_MAX + 2];
    memset(name, 'n', sizeof name - 1);
    name[GH_REST_METHOD_NAME_MAX] = '\0';
    snprintf(body, sizeof body, "{\"methodName\":\"%s\"}", name);
    assert_int_equal(mparse(body, &m), GH_OK);
    free(m.payload);
    name[GH_REST_METHOD_NAME_MAX] = 'n';
    name[GH_REST_METHOD_NAME_MAX + 1] = '\0';
    snprintf(body, sizeof body, "{\"methodName\":\"%s\"}", name);
    assert_int_equal(mparse(body, &m), GH_ERR_ARG);
}

static void test_method_payload_limit(void **state)
{
    (void)state;
    /* A string payload of n characters serializes to n + 2 bytes. */
    size_t n = GH_REST_METHOD_PAYLOAD_MAX - 2;
    char *body = malloc(n + 64);
    assert_non_null(body);
    int k = snprintf(body, 64, "{\"methodName\":\"m\",\"payload\":\"");
    memset(body + k, 'x', n);
    strcpy(body + k + n, "\"}");
    struct gh_hub_rest_method_req m;
    assert_int_equal(mparse(body, &m), GH_OK);
    assert_int_equal(strlen(m.payload), GH_REST_METHOD_PAYLOAD_MAX);
    free(m.payload);
    memset(body + k, 'x', n + 1);
    strcpy(body + k + n + 1, "\"}");
    assert_int_equal(mparse(body, &m), GH_ERR_TOO_LARGE);
    assert_null(m.payload);
    free(body);
}

static void test_method_result(void **state)
{
    (void)state;
    static const struct {
        int status;
        const char *payload;
        size_t len;
        const char *want;
    } cases[] = {
        {200, NULL, 0, "{\"status\":200,\"payload\":null}"},
        {200, "", 0, "{\"status\":200,\"payload\":null}"},
        {201, "{\"done\":true}", 13, "{\"status\":201,\"payload\":{\"done\":true}}"},
        {-1, "42", 2, "{\"status\":-1,\"payload\":42}"},
        {500, "null", 4, "{\"status\":500,\"payload\":null}"},
        {200, "hello world", 11, "{\"status\":200,\"payload\":\"hello world\"}"},
        {200, "{\"a\":", 5, "{\"status\":200,\"payload\":\"{\\\"a\\\":\"}"},
        {200, "\xff\x00\x01", 3, "{\"status\":200,\"payload\":\"/wAB\"}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *j = NULL;
        assert_int_equal(
            gh_hub_rest_method_result(cases[i].status, cases[i].payload, cases[i].len, &j), GH_OK);
        char *t = text_of(j);
        assert_string_equal(t, cases[i].want);
        free(t);
    }
}

/* ---- telemetry and certificate JSON -------------------------------------------- */

static void test_telemetry_json(void **state)
{
    (void)state;
    struct gh_telemetry_msg m;
    memset(&m, 0, sizeof m);
    m.seq = 17;
    snprintf(m.device_id, sizeof m.device_id, "th-01");
    m.enqueued_ms = T0 + 5;
    m.properties = parse("{\"system\":{\"message-id\":\"m1\"},\"app\":{\"a\":\"1\"}}");
    m.body = (uint8_t *)strdup("{\"t\":21.5}");
    m.body_len = strlen((char *)m.body);
    json_t *j = NULL;
    assert_int_equal(gh_hub_rest_telemetry_json(&m, &j), GH_OK);
    char *t = text_of(j);
    assert_string_equal(t,
                        "{\"seq\":17,\"deviceId\":\"th-01\",\"moduleId\":null,\"enqueuedTime\":"
                        "\"2026-01-01T00:00:00.005Z\",\"properties\":{\"system\":{\"message-id\":"
                        "\"m1\"},\"app\":{\"a\":\"1\"}},\"body\":\"{\\\"t\\\":21.5}\","
                        "\"bodyEncoding\":\"utf-8\"}");
    free(t);
    gh_telemetry_msg_cleanup(&m);

    memset(&m, 0, sizeof m);
    m.seq = 18;
    snprintf(m.device_id, sizeof m.device_id, "gw");
    snprintf(m.module_id, sizeof m.module_id, "filter");
    static const uint8_t bin[] = {0xff, 0x00, 0x01};
    m.body = malloc(sizeof bin);
    memcpy(m.body, bin, sizeof bin);
    m.body_len = sizeof bin;
    assert_int_equal(gh_hub_rest_telemetry_json(&m, &j), GH_OK);
    t = text_of(j);
    assert_string_equal(t,
                        "{\"seq\":18,\"deviceId\":\"gw\",\"moduleId\":\"filter\",\"enqueuedTime\":"
                        "\"0001-01-01T00:00:00Z\",\"properties\":{},\"body\":\"/wAB\","
                        "\"bodyEncoding\":\"base64\"}");
    free(t);
    gh_telemetry_msg_cleanup(&m);

    memset(&m, 0, sizeof m); /* empty body */
    snprintf(m.device_id, sizeof m.device_id, "d");
    assert_int_equal(gh_hub_rest_telemetry_json(&m, &j), GH_OK);
    assert_string_equal(json_string_value(json_object_get(j, "body")), "");
    assert_string_equal(json_string_value(json_object_get(j, "bodyEncoding")), "utf-8");
    json_decref(j);
}

static void test_cert_json(void **state)
{
    (void)state;
    struct gh_ca_record r;
    memset(&r, 0, sizeof r);
    snprintf(r.name, sizeof r.name, "tenant");
    memset(r.info.sha1, 'A', GH_CA_SHA1_HEX);
    memset(r.info.sha256, 'B', GH_CA_SHA256_HEX);
    snprintf(r.info.subject, sizeof r.info.subject, "CN=Tenant CA,O=Example");
    r.info.not_after_ms = T0;
    memset(r.code, 'C', GH_CA_CODE_LEN);
    r.created_ms = T0 - 1000;
    char e1[GH_HUB_ETAG8_LEN], e2[GH_HUB_ETAG8_LEN], e3[GH_HUB_ETAG8_LEN];
    assert_int_equal(gh_hub_rest_cert_etag(&r, e1), GH_OK);
    json_t *j = NULL;
    assert_int_equal(gh_hub_rest_cert_json(&r, true, &j), GH_OK);
    char want[1024];
    snprintf(want, sizeof want,
             "{\"name\":\"tenant\",\"etag\":\"%s\",\"properties\":{\"subject\":\"CN=Tenant CA,"
             "O=Example\",\"thumbprint\":\"%s\",\"thumbprintSha256\":\"%s\",\"expiry\":"
             "\"2026-01-01T00:00:00.000Z\",\"isVerified\":false,\"created\":"
             "\"2025-12-31T23:59:59.000Z\",\"verificationCode\":\"%s\"}}",
             e1, r.info.sha1, r.info.sha256, r.code);
    char *t = text_of(j);
    assert_string_equal(t, want);
    free(t);
    assert_int_equal(gh_hub_rest_cert_json(&r, false, &j), GH_OK);
    assert_null(json_object_get(json_object_get(j, "properties"), "verificationCode"));
    json_decref(j);
    /* The etag is stable, and changes with verification and with the code. */
    assert_int_equal(gh_hub_rest_cert_etag(&r, e2), GH_OK);
    assert_string_equal(e1, e2);
    assert_int_equal(strlen(e1), GH_HUB_ETAG8_LEN - 1);
    r.verified = true;
    assert_int_equal(gh_hub_rest_cert_etag(&r, e2), GH_OK);
    assert_string_not_equal(e1, e2);
    r.code[0] = 'D';
    assert_int_equal(gh_hub_rest_cert_etag(&r, e3), GH_OK);
    assert_string_not_equal(e2, e3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes),
        cmocka_unit_test(test_error_body_exact),
        cmocka_unit_test(test_error_body_sanitized),
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_parse_uint),
        cmocka_unit_test(test_method_parse),
        cmocka_unit_test(test_method_payload_limit),
        cmocka_unit_test(test_method_result),
        cmocka_unit_test(test_telemetry_json),
        cmocka_unit_test(test_cert_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
