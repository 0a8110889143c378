/* Connection strings (PROTOCOL.md 2.8): every example of the spec, the
 * device and service checks, and every error path with its reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "iothub/connstr.h"

#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define TOKEN                                                                                      \
    "SharedAccessSignature sr=hub.example.test%2Fdevices%2Fthermostat-01&sig="                     \
    "gyOpi4zesKlTqY0Qamfft2sAVdD%2FHhsjx7RBZYUfLjs%3D&se=1767225600"

static struct gh_slice S(const char *s) {
    return gh_slice_cstr(s);
}

static bool
is(struct gh_slice s, const char *want)
{
    return s.ptr != NULL && gh_slice_eq_cstr(s, want);
}

static void parse_ok(const char *text, struct gh_connstr *cs)
{
    const char *why = "unset";
    assert_int_equal(gh_connstr_parse(S(text), cs, &why), GH_OK);
    assert_null(why);
}

/* Parse (must succeed), run a check, return its code; *why gets the reason. */
static gh_err check(const char *text, bool device, const char **why)
{
    struct gh_connstr cs;
    parse_ok(text, &cs);
    *why = "unset";
    gh_err rc = device ? gh_connstr_check_device(&cs, why) : gh_connstr_check_service(&cs, why);
    if (rc == GH_OK)
        assert_null(*why);
    else
        assert_non_null(*why);
    return rc;
}

static void expect_device_error(const char *text, const char *reason_part)
{
    const char *why;
    assert_int_equal(check(text, true, &why), GH_ERR_BAD_CONNSTR);
    if (strstr(why, reason_part) == NULL) fail_msg("%s: reason \"%s\"", text, why);
}

static void expect_service_error(const char *text, const char *reason_part)
{
    const char *why;
    assert_int_equal(check(text, false, &why), GH_ERR_BAD_CONNSTR);
    if (strstr(why, reason_part) == NULL) fail_msg("%s: reason \"%s\"", text, why);
}

static void test_spec_examples(void **state)
{
    (void)state;
    struct gh_connstr cs;
    const char *why;

    /* device, symmetric key */
    const char *dev = "HostName=hub.example.test;DeviceId=thermostat-01;SharedAccessKey=" KEY;
    parse_ok(dev, &cs);
    assert_true(is(cs.host_name, "hub.example.test"));
    assert_true(is(cs.device_id, "thermostat-01"));
    assert_true(is(cs.shared_access_key, KEY)); /* value keeps its '=' */
    assert_null(cs.module_id.ptr);
    assert_null(cs.gateway_host_name.ptr);
    assert_null(cs.shared_access_signature.ptr);
    assert_null(cs.shared_access_key_name.ptr);
    assert_null(cs.x509_value.ptr);
    assert_false(cs.x509);
    assert_int_equal(check(dev, true, &why), GH_OK);
    assert_int_equal(check(dev, false, &why), GH_ERR_BAD_CONNSTR);

    /* via an Edge gateway */
    const char *gw = "HostName=hub.example.test;DeviceId=thermostat-01;SharedAccessKey=" KEY
                     ";GatewayHostName=edge-gw-01.example.test";
    parse_ok(gw, &cs);
    assert_true(is(cs.gateway_host_name, "edge-gw-01.example.test"));
    assert_true(is(cs.host_name, "hub.example.test"));
    assert_int_equal(check(gw, true, &why), GH_OK);

    /* simplified gateway form */
    assert_int_equal(check("HostName=edge-gw-01.example.test;DeviceId=thermostat-01;"
                           "SharedAccessKey=" KEY,
                           true, &why),
                     GH_OK);

    /* X.509 */
    const char *x = "HostName=hub.example.test;DeviceId=thermostat-01;x509=true";
    parse_ok(x, &cs);
    assert_true(cs.x509);
    assert_int_equal(check(x, true, &why), GH_OK);

    /* pre-made token: the value holds '=' and '&' */
    const char *tok =
        "HostName=hub.example.test;DeviceId=thermostat-01;SharedAccessSignature=" TOKEN;
    parse_ok(tok, &cs);
    assert_true(is(cs.shared_access_signature, TOKEN));
    assert_int_equal(check(tok, true, &why), GH_OK);

    /* module */
    const char *mod = "HostName=hub.example.test;DeviceId=edge-gw-01;ModuleId=filter;"
                      "SharedAccessKey=" KEY;
    parse_ok(mod, &cs);
    assert_true(is(cs.module_id, "filter"));
    assert_int_equal(check(mod, true, &why), GH_OK);

    /* service (azure-iothub) and DPS service */
    const char *svc = "HostName=hub.example.test;SharedAccessKeyName=iothubowner;"
                      "SharedAccessKey=" KEY;
    parse_ok(svc, &cs);
    assert_true(is(cs.shared_access_key_name, "iothubowner"));
    assert_int_equal(check(svc, false, &why), GH_OK);
    expect_device_error(svc, "DeviceId");
    assert_int_equal(check("HostName=dps.example.test;SharedAccessKeyName=provisioningserviceowner;"
                           "SharedAccessKey=" KEY,
                           false, &why),
                     GH_OK);
}

static void test_parse_tolerance(void **state)
{
    (void)state;
    struct gh_connstr cs;
    /* empty items, order, unknown keys (also repeated), empty input */
    parse_ok(";;SharedAccessKey=" KEY ";;DeviceId=d;Foo=1;Foo=2;HostName=h.x;", &cs);
    assert_true(is(cs.device_id, "d"));
    assert_true(is(cs.host_name, "h.x"));
    parse_ok("", &cs);
    assert_null(cs.host_name.ptr);
    parse_ok(";", &cs);
    assert_null(cs.host_name.ptr);
    /* keys are case-sensitive: these are unknown */
    parse_ok("hostname=h.x;DEVICEID=d;X509=true", &cs);
    assert_null(cs.host_name.ptr);
    assert_null(cs.device_id.ptr);
    assert_false(cs.x509);
    /* x509 value is case-insensitive; anything but "true" is false */
    parse_ok("x509=TRUE", &cs);
    assert_true(cs.x509);
    parse_ok("x509=True", &cs);
    assert_true(cs.x509);
    parse_ok("x509=false", &cs);
    assert_false(cs.x509);
    assert_true(is(cs.x509_value, "false"));
    parse_ok("x509=", &cs);
    assert_false(cs.x509);
    parse_ok("x509=true ", &cs);
    assert_false(cs.x509);
    /* present but empty value; values may contain '=' and spaces */
    parse_ok("DeviceId=;HostName=a=b c", &cs);
    assert_non_null(cs.device_id.ptr);
    assert_int_equal(cs.device_id.len, 0);
    assert_true(is(cs.host_name, "a=b c"));
    /* why may be NULL */
    assert_int_equal(gh_connstr_parse(S("DeviceId=d"), &cs, NULL), GH_OK);
}

static void test_parse_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *reason;
    } bad[] = {
        {"HostName", "no '='"},
        {"HostName=h.x;DeviceId", "no '='"},
        {"=x", "empty key"},
        {"HostName=h.x;=", "empty key"},
        {"HostName=a.b;HostName=a.b", "twice"},
        {"DeviceId=a;DeviceId=", "twice"},
        {"x509=true;x509=false", "twice"},
        {"SharedAccessKey=" KEY ";SharedAccessKey=" KEY, "twice"},
        {"HostName=h.x;DeviceId=d\n", "control"},
        {"HostName=h.x\r;DeviceId=d", "control"},
        {"HostName=h.x;DeviceId=d\x7f", "control"},
        {"HostName=h.x;\tDeviceId=d", "control"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct gh_connstr cs, before;
        memset(&cs, 0x5a, sizeof cs);
        before = cs;
        const char *why = NULL;
        if (gh_connstr_parse(S(bad[i].text), &cs, &why) != GH_ERR_BAD_CONNSTR)
            fail_msg("case %zu not refused", i);
        assert_non_null(why);
        if (strstr(why, bad[i].reason) == NULL) fail_msg("case %zu: reason \"%s\"", i, why);
        assert_memory_equal(&cs, &before, sizeof cs);
    }
    /* embedded NUL is a control character too */
    struct gh_connstr cs;
    const char nul[] = "HostName=h.x\0;DeviceId=d";
    assert_int_equal(
        gh_connstr_parse((struct gh_slice){(const uint8_t *)nul, sizeof nul - 1}, &cs, NULL),
        GH_ERR_BAD_CONNSTR);
}

static void test_length_limit(void **state)
{
    (void)state;
    static char buf[GH_CONNSTR_MAX + 2];
    struct gh_connstr cs;
    const char *why = NULL;
    memset(buf, ';', sizeof buf);
    memcpy(buf, "DeviceId=d", 10);
    buf[GH_CONNSTR_MAX] = '\0';
    assert_int_equal(gh_connstr_parse(S(buf), &cs, &why), GH_OK);
    assert_true(is(cs.device_id, "d"));
    buf[GH_CONNSTR_MAX] = ';';
    buf[GH_CONNSTR_MAX + 1] = '\0';
    assert_int_equal(gh_connstr_parse(S(buf), &cs, &why), GH_ERR_TOO_LARGE);
    assert_non_null(strstr(why, "too long"));
}

static void test_check_device_errors(void **state)
{
    (void)state;
    expect_device_error("DeviceId=d;SharedAccessKey=" KEY, "HostName is missing");
    expect_device_error("HostName=;DeviceId=d;SharedAccessKey=" KEY, "HostName is missing");
    expect_device_error("HostName=localhost;DeviceId=d;SharedAccessKey=" KEY, "dotted");
    expect_device_error("HostName=.hub;DeviceId=d;SharedAccessKey=" KEY, "dotted");
    expect_device_error("HostName=hub.;DeviceId=d;SharedAccessKey=" KEY, "dotted");
    expect_device_error("HostName=.;DeviceId=d;SharedAccessKey=" KEY, "dotted");
    expect_device_error("HostName=h.x;SharedAccessKey=" KEY, "DeviceId is missing");
    expect_device_error("HostName=h.x;DeviceId=;SharedAccessKey=" KEY, "DeviceId is missing");
    expect_device_error("HostName=h.x;DeviceId=d;ModuleId=;SharedAccessKey=" KEY,
                        "ModuleId is empty");
    expect_device_error("HostName=h.x;DeviceId=d;GatewayHostName=;SharedAccessKey=" KEY,
                        "GatewayHostName is empty");
    /* authentication methods: exactly one */
    expect_device_error("HostName=h.x;DeviceId=d", "needs one of");
    expect_device_error("HostName=h.x;DeviceId=d;x509=false", "needs one of");
    expect_device_error("HostName=h.x;DeviceId=d;SharedAccessKeyName=device", "needs one of");
    expect_device_error("HostName=h.x;DeviceId=d;x509=true;SharedAccessKey=" KEY, "only one");
    expect_device_error(
        "HostName=h.x;DeviceId=d;SharedAccessSignature=" TOKEN ";SharedAccessKey=" KEY, "only one");
    expect_device_error("HostName=h.x;DeviceId=d;SharedAccessSignature=" TOKEN ";x509=true",
                        "only one");
    /* the material itself */
    expect_device_error("HostName=h.x;DeviceId=d;SharedAccessKey=", "base64");
    expect_device_error("HostName=h.x;DeviceId=d;SharedAccessKey=not-base64!", "base64");
    expect_device_error("HostName=h.x;DeviceId=d;SharedAccessSignature=", "SAS token");
    expect_device_error("HostName=h.x;DeviceId=d;SharedAccessSignature=sr=a&sig=b&se=1",
                        "SAS token");
    /* allowed: x509=false beside a key, a policy name beside a key */
    const char *why;
    assert_int_equal(check("HostName=h.x;DeviceId=d;x509=false;SharedAccessKey=" KEY, true, &why),
                     GH_OK);
    assert_int_equal(check("HostName=h.x;DeviceId=d;SharedAccessKeyName=device;"
                           "SharedAccessKey=" KEY,
                           true, &why),
                     GH_OK);
    /* unpadded key (IoT Edge style) */
    assert_int_equal(check("HostName=h.x;DeviceId=d;SharedAccessKey="
                           "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
                           true, &why),
                     GH_OK);
    /* why may be NULL */
    struct gh_connstr cs;
    parse_ok("HostName=h.x", &cs);
    assert_int_equal(gh_connstr_check_device(&cs, NULL), GH_ERR_BAD_CONNSTR);
    assert_int_equal(gh_connstr_check_service(&cs, NULL), GH_ERR_BAD_CONNSTR);
}

static void test_check_service_errors(void **state)
{
    (void)state;
    expect_service_error("SharedAccessKeyName=iothubowner;SharedAccessKey=" KEY,
                         "HostName is missing");
    expect_service_error("HostName=hub;SharedAccessKeyName=iothubowner;SharedAccessKey=" KEY,
                         "dotted");
    expect_service_error("HostName=h.x;SharedAccessKey=" KEY, "SharedAccessKeyName is missing");
    expect_service_error("HostName=h.x;SharedAccessKeyName=;SharedAccessKey=" KEY,
                         "SharedAccessKeyName is missing");
    expect_service_error("HostName=h.x;SharedAccessKeyName=iothubowner",
                         "SharedAccessKey is missing");
    expect_service_error("HostName=h.x;SharedAccessKeyName=iothubowner;SharedAccessKey=", "base64");
    expect_service_error("HostName=h.x;SharedAccessKeyName=iothubowner;SharedAccessKey=%%%%",
                         "base64");
    /* a device id in a service string is ignored */
    const char *why;
    assert_int_equal(
        check("HostName=h.x;SharedAccessKeyName=s;SharedAccessKey=" KEY ";DeviceId=d", false, &why),
        GH_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_examples),       cmocka_unit_test(test_parse_tolerance),
        cmocka_unit_test(test_parse_errors),        cmocka_unit_test(test_length_limit),
        cmocka_unit_test(test_check_device_errors), cmocka_unit_test(test_check_service_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
