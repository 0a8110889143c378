/* Output of the management CLI: text for people (secrets hidden, peer text
 * escaped), device connection strings, telemetry lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt/mgmt_int.h"

#define KEY1 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static json_t *load(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (j == NULL) fail_msg("bad test JSON: %s", e.text);
    return j;
}

/* Output of a printer, as a new string. */
struct out {
    char *buf;
    size_t len;
    FILE *f;
};

static FILE *out_open(struct out *o)
{
    o->buf = NULL;
    o->len = 0;
    o->f = open_memstream(&o->buf, &o->len);
    assert_non_null(o->f);
    return o->f;
}

static char *out_close(struct out *o)
{
    fclose(o->f);
    return o->buf;
}

#define DEVICE                                                                                     \
    "{\"deviceId\":\"th-01\",\"etag\":\"ETAG\",\"status\":\"enabled\",\"connectionState\":"        \
    "\"Connected\",\"cloudToDeviceMessageCount\":3,\"authentication\":{\"symmetricKey\":{"         \
    "\"primaryKey\":\"" KEY1 "\",\"secondaryKey\":\"SECOND\"},\"type\":\"sas\"},"                  \
    "\"capabilities\":{\"iotEdge\":true},\"deviceScope\":\"ms-azure-iot-edge://th-01-1\"}"

static void test_device(void **state)
{
    (void)state;
    json_t *d = load(DEVICE);
    struct out o;
    gh_mgmt_print_device(out_open(&o), d, false);
    char *t = out_close(&o);
    assert_non_null(strstr(t, "th-01\n"));
    assert_non_null(strstr(t, "status               enabled\n"));
    assert_non_null(strstr(t, "iot edge             yes\n"));
    assert_non_null(strstr(t, "c2d queued           3\n"));
    assert_non_null(strstr(t, "parent scope         -\n"));
    assert_null(strstr(t, KEY1)); /* secrets only on request */
    assert_null(strstr(t, "SECOND"));
    assert_non_null(strstr(t, "--show-keys"));
    free(t);
    gh_mgmt_print_device(out_open(&o), d, true);
    t = out_close(&o);
    assert_non_null(strstr(t, "primary key          " KEY1 "\n"));
    assert_non_null(strstr(t, "secondary key        SECOND\n"));
    free(t);
    json_decref(d);
    /* Thumbprint devices show thumbprints, never keys. */
    d = load("{\"deviceId\":\"x\",\"authentication\":{\"type\":\"selfSigned\",\"x509Thumbprint\":"
             "{\"primaryThumbprint\":\"AB\",\"secondaryThumbprint\":null}}}");
    gh_mgmt_print_device(out_open(&o), d, true);
    t = out_close(&o);
    assert_non_null(strstr(t, "primary thumbprint   AB\n"));
    assert_non_null(strstr(t, "secondary thumbprint -\n"));
    assert_null(strstr(t, "primary key"));
    free(t);
    json_decref(d);
}

static void test_table(void **state)
{
    (void)state;
    json_t *arr = load("[" DEVICE ",{\"deviceId\":\"a-much-longer-device-id\",\"status\":"
                       "\"disabled\",\"authentication\":{\"type\":\"selfSigned\"}}]");
    struct out o;
    gh_mgmt_print_device_table(out_open(&o), arr);
    char *t = out_close(&o);
    assert_string_equal(t, "DEVICE ID               STATUS    AUTH                  CONNECTION    "
                           "EDGE  C2D\n"
                           "th-01                   enabled   sas                   Connected     "
                           "yes   3\n"
                           "a-much-longer-device-id disabled  selfSigned            -             "
                           "no    0\n");
    free(t);
    json_decref(arr);
}

static void test_connstr(void **state)
{
    (void)state;
    char cs[256];
    json_t *d = load(DEVICE);
    assert_int_equal(gh_mgmt_device_connstr("hub.example.test", d, cs, sizeof cs), GH_OK);
    assert_string_equal(cs, "HostName=hub.example.test;DeviceId=th-01;SharedAccessKey=" KEY1);
    assert_int_equal(gh_mgmt_device_connstr("hub.example.test", d, cs, 20), GH_ERR_NOBUFS);
    assert_int_equal(gh_mgmt_device_connstr(NULL, d, cs, sizeof cs), GH_ERR_ARG);
    json_decref(d);
    d = load("{\"deviceId\":\"x\",\"authentication\":{\"type\":\"certificateAuthority\"}}");
    assert_int_equal(gh_mgmt_device_connstr("h.t", d, cs, sizeof cs), GH_OK);
    assert_string_equal(cs, "HostName=h.t;DeviceId=x;x509=true");
    json_decref(d);
    d = load("{\"deviceId\":\"x\",\"authentication\":{\"type\":\"none\"}}");
    assert_int_equal(gh_mgmt_device_connstr("h.t", d, cs, sizeof cs), GH_ERR_ARG);
    json_decref(d);
    d = load("{\"deviceId\":\"x\",\"authentication\":{\"type\":\"sas\",\"symmetricKey\":{"
             "\"primaryKey\":\"\"}}}");
    assert_int_equal(gh_mgmt_device_connstr("h.t", d, cs, sizeof cs), GH_ERR_ARG);
    json_decref(d);
    d = load("{\"authentication\":{\"type\":\"sas\"}}");
    assert_int_equal(gh_mgmt_device_connstr("h.t", d, cs, sizeof cs), GH_ERR_ARG);
    json_decref(d);
}

static void test_ca(void **state)
{
    (void)state;
    json_t *ca = load("{\"name\":\"tenant\",\"etag\":\"E\",\"properties\":{\"subject\":\"CN=t\","
                      "\"thumbprint\":\"AA\",\"thumbprintSha256\":\"BB\",\"expiry\":\"2031\","
                      "\"isVerified\":false,\"verificationCode\":\"C0DE\",\"created\":\"2026\"}}");
    struct out o;
    gh_mgmt_print_ca(out_open(&o), ca);
    char *t = out_close(&o);
    assert_non_null(strstr(t, "tenant\n"));
    assert_non_null(strstr(t, "verified             no\n"));
    assert_non_null(strstr(t, "verification code    C0DE\n"));
    assert_non_null(strstr(t, "thumbprint (SHA-256) BB\n"));
    free(t);
    json_t *arr = json_pack("[O]", ca);
    gh_mgmt_print_ca_table(out_open(&o), arr);
    t = out_close(&o);
    assert_string_equal(t, "NAME   VERIFIED EXPIRY                   SUBJECT\n"
                           "tenant no       2031                     CN=t\n");
    free(t);
    json_decref(arr);
    json_decref(ca);
}

static void test_twin(void **state)
{
    (void)state;
    json_t *tw = load("{\"deviceId\":\"d\",\"moduleId\":\"m\",\"etag\":\"E\",\"version\":4,"
                      "\"tags\":{\"site\":\"a\"},\"properties\":{\"desired\":{\"t\":1,"
                      "\"$metadata\":{\"x\":1},\"$version\":2},\"reported\":{\"$version\":1}}}");
    struct out o;
    gh_mgmt_print_twin(out_open(&o), tw);
    char *t = out_close(&o);
    assert_non_null(strstr(t, "d/m\n"));
    assert_non_null(strstr(t, "version              4\n"));
    assert_non_null(strstr(t, "tags:\n  {\n    \"site\": \"a\"\n  }\n"));
    assert_non_null(strstr(t, "\"t\": 1"));
    assert_null(strstr(t, "$metadata")); /* only in --json */
    assert_non_null(strstr(t, "reported:\n  {\n    \"$version\": 1\n  }\n"));
    free(t);
    json_decref(tw);
}

static char *telemetry(const char *json, bool as_json)
{
    json_t *m = load(json);
    struct out o;
    gh_mgmt_print_telemetry(out_open(&o), m, as_json);
    json_decref(m);
    return out_close(&o);
}

static void test_telemetry(void **state)
{
    (void)state;
    char *t =
        telemetry("{\"seq\":17,\"deviceId\":\"th-01\",\"moduleId\":null,\"enqueuedTime\":"
                  "\"2026-01-01T00:00:00.000Z\",\"properties\":{\"system\":{\"message-id\":"
                  "\"m1\",\"iothub-connection-device-id\":\"th-01\"},\"app\":{\"level\":"
                  "\"high & urgent\",\"k\":\"v\",\"q\":\"a\\\"b\"}},\"body\":\"{\\\"t\\\":21.5}\","
                  "\"bodyEncoding\":\"utf-8\"}",
                  false);
    assert_string_equal(t, "2026-01-01T00:00:00.000Z th-01 seq=17 $.mid=m1 level=\"high & urgent\" "
                           "k=v q=\"a\\\"b\" {\"t\":21.5}\n");
    free(t);
    /* A device cannot drive the terminal. */
    t = telemetry("{\"seq\":1,\"deviceId\":\"d\",\"moduleId\":\"m\",\"enqueuedTime\":\"T\","
                  "\"properties\":{\"app\":{\"e\\u001b\":\"\\u001b[2J\"}},\"body\":"
                  "\"x\\u001b]0;title\\u0007\\n\",\"bodyEncoding\":\"utf-8\"}",
                  false);
    assert_string_equal(t, "T d/m seq=1 \"e\\x1B\"=\"\\x1B[2J\" x\\x1B]0;title\\x07\\x0A\n");
    free(t);
    t = telemetry("{\"seq\":2,\"deviceId\":\"d\",\"enqueuedTime\":\"T\",\"properties\":{},"
                  "\"body\":\"AAEC\",\"bodyEncoding\":\"base64\"}",
                  false);
    assert_string_equal(t, "T d seq=2 base64:AAEC\n");
    free(t);
    t = telemetry("{\"seq\":2,\"deviceId\":\"d\",\"body\":\"\\u001b\"}", true);
    assert_string_equal(t, "{\"seq\":2,\"deviceId\":\"d\",\"body\":\"\\u001B\"}\n");
    free(t);
    t = telemetry("{\"seq\":3,\"deviceId\":\"d\",\"enqueuedTime\":\"T\",\"properties\":{\"app\":"
                  "{\"n\":5,\"e\":\"\"}},\"body\":\"\",\"bodyEncoding\":\"utf-8\"}",
                  false);
    assert_string_equal(t, "T d seq=3 n=5 e=\"\" \n");
    free(t);
}

static void test_put_safe(void **state)
{
    (void)state;
    struct out o;
    gh_mgmt_put_safe(out_open(&o), "a\tb\x7f\xc3\xa9", 6);
    char *t = out_close(&o);
    assert_string_equal(t, "a\\x09b\\x7F\xc3\xa9");
    free(t);
    gh_mgmt_print_json(out_open(&o), NULL, true);
    t = out_close(&o);
    assert_string_equal(t, "null\n");
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_device),   cmocka_unit_test(test_table),
        cmocka_unit_test(test_connstr),  cmocka_unit_test(test_ca),
        cmocka_unit_test(test_twin),     cmocka_unit_test(test_telemetry),
        cmocka_unit_test(test_put_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
