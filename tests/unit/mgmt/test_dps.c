/* The provisioning service commands (gatehouse enrollment|registration):
 * the enrollment bodies they send, request paths, the DPS connection string
 * source, DPS error bodies, their text output, and the usage errors found
 * before any I/O. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mgmt/mgmt.h"
#include "mgmt/mgmt_int.h"

#define KEY1 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY2 "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
#define KEY_SHORT "AAECAwQFBgc=" /* 8 bytes */
#define PEM "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
#define CS_DPS                                                                                     \
    "HostName=dps.example.test;SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=" KEY1

static const json_t *get(const json_t *o, const char *path)
{
    char buf[160];
    snprintf(buf, sizeof buf, "%s", path);
    const json_t *v = o;
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
        v = json_object_get(v, k);
    return v;
}

static const char *sget(const json_t *o, const char *path)
{
    return json_string_value(get(o, path));
}

static json_t *load(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    return j;
}

/* ---- enrollment bodies ------------------------------------------------------------ */

static void test_body_individual_symmetric(void **state)
{
    (void)state;
    char msg[256] = "";
    const char *hubs[] = {"hub.example.test", "hub2.example.test"};
    json_t *twin = load("{\"tags\":{\"site\":\"p7\"},\"properties\":{\"desired\":{\"i\":30}}}");
    struct gh_mgmt_enrollment_spec s = {
        .id = "thermostat-01",
        .attestation = "symmetric-key",
        .primary_key = KEY1,
        .secondary_key = KEY2,
        .edge = true,
        .device_id = "th-01",
        .initial_twin = twin,
        .disabled = true,
        .hubs = hubs,
        .nhubs = 2,
    };
    json_t *b = NULL;
    assert_int_equal(gh_mgmt_enrollment_body(&s, &b, msg, sizeof msg), GH_OK);
    assert_string_equal(sget(b, "registrationId"), "thermostat-01");
    assert_null(get(b, "enrollmentGroupId"));
    assert_string_equal(sget(b, "deviceId"), "th-01");
    assert_string_equal(sget(b, "attestation.type"), "symmetricKey");
    assert_string_equal(sget(b, "attestation.symmetricKey.primaryKey"), KEY1);
    assert_string_equal(sget(b, "attestation.symmetricKey.secondaryKey"), KEY2);
    assert_true(json_is_true(get(b, "capabilities.iotEdge")));
    assert_string_equal(sget(b, "provisioningStatus"), "disabled");
    assert_int_equal(json_array_size(get(b, "iotHubs")), 2);
    assert_string_equal(json_string_value(json_array_get(get(b, "iotHubs"), 1)),
                        "hub2.example.test");
    assert_true(json_equal(get(b, "initialTwin"), twin));
    assert_true(json_is_true(get(b, "reprovisionPolicy.updateHubAssignment")));
    assert_true(json_is_true(get(b, "reprovisionPolicy.migrateDeviceData")));
    json_decref(b);
    json_decref(twin);
}

static void test_body_group_symmetric_generated(void **state)
{
    (void)state;
    char msg[256] = "";
    struct gh_mgmt_enrollment_spec s = {
        .group = true, .id = "plant-7", .attestation = "symmetric-key"};
    json_t *b = NULL;
    assert_int_equal(gh_mgmt_enrollment_body(&s, &b, msg, sizeof msg), GH_OK);
    assert_string_equal(sget(b, "enrollmentGroupId"), "plant-7");
    assert_null(get(b, "registrationId"));
    assert_null(get(b, "deviceId"));
    /* No keys: an empty symmetricKey, the service generates them. */
    assert_true(json_is_object(get(b, "attestation.symmetricKey")));
    assert_int_equal(json_object_size(get(b, "attestation.symmetricKey")), 0);
    assert_true(json_is_false(get(b, "capabilities.iotEdge")));
    assert_string_equal(sget(b, "provisioningStatus"), "enabled");
    assert_null(get(b, "iotHubs"));
    assert_null(get(b, "initialTwin"));
    json_decref(b);
    /* One key given: only that one is sent. */
    s.primary_key = KEY1;
    assert_int_equal(gh_mgmt_enrollment_body(&s, &b, msg, sizeof msg), GH_OK);
    assert_string_equal(sget(b, "attestation.symmetricKey.primaryKey"), KEY1);
    assert_null(get(b, "attestation.symmetricKey.secondaryKey"));
    json_decref(b);
}

static void test_body_x509(void **state)
{
    (void)state;
    char msg[256] = "";
    struct gh_mgmt_enrollment_spec s = {.id = "dev-1", .attestation = "x509", .cert_pem = PEM};
    json_t *b = NULL;
    assert_int_equal(gh_mgmt_enrollment_body(&s, &b, msg, sizeof msg), GH_OK);
    assert_string_equal(sget(b, "attestation.type"), "x509");
    assert_string_equal(sget(b, "attestation.x509.clientCertificates.primary.certificate"), PEM);
    assert_null(get(b, "attestation.x509.signingCertificates"));
    assert_null(get(b, "attestation.symmetricKey"));
    json_decref(b);
    s.group = true;
    assert_int_equal(gh_mgmt_enrollment_body(&s, &b, msg, sizeof msg), GH_OK);
    assert_string_equal(sget(b, "attestation.x509.signingCertificates.primary.certificate"), PEM);
    assert_null(get(b, "attestation.x509.clientCertificates"));
    json_decref(b);
}

/* Run the builder, expect rc and a message containing needle; *out untouched. */
static void body_fails(const struct gh_mgmt_enrollment_spec *s, gh_err rc, const char *needle)
{
    char msg[256] = "";
    json_t *sentinel = (json_t *)0x1;
    json_t *b = sentinel;
    assert_int_equal(gh_mgmt_enrollment_body(s, &b, msg, sizeof msg), rc);
    assert_ptr_equal(b, sentinel);
    if (strstr(msg, needle) == NULL) fail_msg("message '%s' lacks '%s'", msg, needle);
}

static void test_body_errors(void **state)
{
    (void)state;
    const struct gh_mgmt_enrollment_spec ok = {.id = "dev-1", .attestation = "symmetric-key"};
    struct gh_mgmt_enrollment_spec s = ok;
    s.attestation = NULL;
    body_fails(&s, GH_ERR_USAGE, "--attestation");
    s.attestation = "tpm";
    body_fails(&s, GH_ERR_ARG, "symmetric-key or x509");
    s = ok;
    s.id = "bad/id";
    body_fails(&s, GH_ERR_ARG, "registration id");
    s.group = true;
    body_fails(&s, GH_ERR_ARG, "enrollment group id");
    s = ok;
    s.id = NULL;
    body_fails(&s, GH_ERR_ARG, "not a valid");
    s = ok;
    s.attestation = "x509";
    body_fails(&s, GH_ERR_ARG, "needs --cert");
    s.cert_pem = PEM;
    s.primary_key = KEY1;
    body_fails(&s, GH_ERR_ARG, "go with --attestation symmetric-key");
    s = ok;
    s.cert_pem = PEM;
    body_fails(&s, GH_ERR_ARG, "--cert goes with --attestation x509");
    s = ok;
    s.primary_key = "not base64!";
    body_fails(&s, GH_ERR_ARG, "--primary-key is not a base64 key of 16-64 bytes");
    s = ok;
    s.secondary_key = KEY_SHORT;
    body_fails(&s, GH_ERR_ARG, "--secondary-key");
    s = ok;
    s.group = true;
    s.device_id = "d";
    body_fails(&s, GH_ERR_ARG, "--device-id is for individual");
    s = ok;
    s.device_id = "a b";
    body_fails(&s, GH_ERR_ARG, "not a valid device id");
    const char *many[GH_MGMT_DPS_HUBS_MAX + 1];
    for (size_t i = 0; i <= GH_MGMT_DPS_HUBS_MAX; i++) many[i] = "hub.example.test";
    s = ok;
    s.hubs = many;
    s.nhubs = GH_MGMT_DPS_HUBS_MAX + 1;
    body_fails(&s, GH_ERR_ARG, "at most 16 --hub");
    const char *bad_hub[] = {"hub.example.test", "hub_1.example"};
    s.hubs = bad_hub;
    s.nhubs = 2;
    body_fails(&s, GH_ERR_ARG, "--hub 'hub_1.example' is not a host name");
    static const char *const twins[] = {
        "[]",
        "{\"tags\":[]}",
        "{\"reported\":{}}",
        "{\"properties\":{\"reported\":{}}}",
        "{\"properties\":{\"desired\":1}}",
        "{\"properties\":[]}",
    };
    for (size_t i = 0; i < sizeof twins / sizeof twins[0]; i++) {
        json_t *t = json_loads(twins[i], JSON_DECODE_ANY, NULL);
        assert_non_null(t);
        s = ok;
        s.initial_twin = t;
        body_fails(&s, GH_ERR_ARG, "--initial-twin must be");
        json_decref(t);
    }
}

static void test_host_valid(void **state)
{
    (void)state;
    assert_true(gh_mgmt_host_valid("hub.example.test"));
    assert_true(gh_mgmt_host_valid("localhost"));
    assert_true(gh_mgmt_host_valid("HUB-1.Example"));
    assert_false(gh_mgmt_host_valid(""));
    assert_false(gh_mgmt_host_valid(".hub"));
    assert_false(gh_mgmt_host_valid("hub."));
    assert_false(gh_mgmt_host_valid("a..b"));
    assert_false(gh_mgmt_host_valid("hub:443"));
    char label[70];
    memset(label, 'a', 64);
    label[64] = '\0';
    assert_false(gh_mgmt_host_valid(label)); /* a label of 64 */
    label[63] = '\0';
    assert_true(gh_mgmt_host_valid(label));
}

/* ---- paths ---------------------------------------------------------------------------- */

static void test_target(void **state)
{
    (void)state;
    char out[128];
    assert_int_equal(gh_mgmt_dps_target(out, sizeof out, "enrollments", "dev-1", NULL), GH_OK);
    assert_string_equal(out, "/enrollments/dev-1?api-version=2021-10-01");
    assert_int_equal(gh_mgmt_dps_target(out, sizeof out, "enrollmentGroups", "query", NULL), GH_OK);
    assert_string_equal(out, "/enrollmentGroups/query?api-version=2021-10-01");
    assert_int_equal(gh_mgmt_dps_target(out, sizeof out, "registrations", "g:1", "query"), GH_OK);
    assert_string_equal(out, "/registrations/g%3A1/query?api-version=2021-10-01");
    assert_int_equal(gh_mgmt_dps_target(out, sizeof out, "enrollments", NULL, NULL), GH_OK);
    assert_string_equal(out, "/enrollments?api-version=2021-10-01");
    assert_int_equal(gh_mgmt_dps_target(out, sizeof out, "", "x", NULL), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_dps_target(out, sizeof out, NULL, "x", NULL), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_dps_target(out, sizeof out, "enrollments", NULL, "query"), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_dps_target(out, sizeof out, "enrollments", "", NULL), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_dps_target(out, 16, "enrollments", "dev-1", NULL), GH_ERR_NOBUFS);
}

/* ---- connection string and errors --------------------------------------------------- */

static void test_dps_connection_string(void **state)
{
    (void)state;
    char dir[] = "/tmp/gh-mgmt-dps.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char hubfile[128], dpsfile[128];
    snprintf(hubfile, sizeof hubfile, "%s/%s", dir, GH_MGMT_CS_FILE_NAME);
    snprintf(dpsfile, sizeof dpsfile, "%s/%s", dir, GH_MGMT_DPS_CS_FILE_NAME);
    FILE *f = fopen(hubfile, "w");
    assert_non_null(f);
    fputs("HostName=hub.example.test;SharedAccessKeyName=iothubowner;SharedAccessKey=" KEY1, f);
    fclose(f);
    struct gh_mgmt_cred c;
    char msg[512] = "";
    struct gh_mgmt_cs_sources s = {
        .data_dir = dir, .file_name = GH_MGMT_DPS_CS_FILE_NAME, .env_name = GH_MGMT_ENV_DPS_CS};
    /* --data-dir names the DPS file, which does not exist yet. */
    assert_int_equal(gh_mgmt_cred_load(&s, &c, msg, sizeof msg), GH_ERR_NOENT);
    f = fopen(dpsfile, "w");
    assert_non_null(f);
    fputs(CS_DPS "\n", f);
    fclose(f);
    assert_int_equal(gh_mgmt_cred_load(&s, &c, msg, sizeof msg), GH_OK);
    assert_string_equal(c.host, "dps.example.test");
    assert_string_equal(c.policy, "provisioningserviceowner");
    gh_mgmt_cred_wipe(&c);
    /* The environment value is named in messages. */
    s = (struct gh_mgmt_cs_sources){.env = "garbage", .env_name = GH_MGMT_ENV_DPS_CS};
    assert_int_equal(gh_mgmt_cred_load(&s, &c, msg, sizeof msg), GH_ERR_CONFIG_VALUE);
    assert_non_null(strstr(msg, "$" GH_MGMT_ENV_DPS_CS));
    /* Nothing found: the message says which variable to set. */
    char missing[160];
    snprintf(missing, sizeof missing, "%s/none", dir);
    s = (struct gh_mgmt_cs_sources){.default_file = missing, .env_name = GH_MGMT_ENV_DPS_CS};
    assert_int_equal(gh_mgmt_cred_load(&s, &c, msg, sizeof msg), GH_ERR_CONFIG_MISSING);
    assert_non_null(strstr(msg, GH_MGMT_ENV_DPS_CS));
    unlink(hubfile);
    unlink(dpsfile);
    rmdir(dir);
}

static void test_dps_error_body(void **state)
{
    (void)state;
    char code[32], text[64];
    static const char body[] = "{\"errorCode\":404202,\"trackingId\":\"x\",\"message\":"
                               "\"Enrollment not found.\",\"timestampUtc\":\"t\"}";
    gh_mgmt_hub_error_parse((const uint8_t *)body, strlen(body), code, sizeof code, text,
                            sizeof text);
    assert_string_equal(code, "404202");
    assert_string_equal(text, "Enrollment not found.");
    assert_int_equal(gh_mgmt_status_err(404, code), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_mgmt_status_err(401, "401002"), GH_ERR_AUTH);
    /* An IoT Hub code wins over a stray errorCode. */
    static const char both[] = "{\"Message\":\"ErrorCode:DeviceNotFound;x\",\"errorCode\":1}";
    gh_mgmt_hub_error_parse((const uint8_t *)both, strlen(both), code, sizeof code, text,
                            sizeof text);
    assert_string_equal(code, "DeviceNotFound");
    /* errorCode of the wrong type is ignored. */
    static const char str[] = "{\"errorCode\":\"401002\",\"message\":\"m\"}";
    gh_mgmt_hub_error_parse((const uint8_t *)str, strlen(str), code, sizeof code, text,
                            sizeof text);
    assert_string_equal(code, "");
    assert_string_equal(text, "m");
}

/* ---- output ----------------------------------------------------------------------------- */

struct out {
    char *text;
    size_t len;
    FILE *f;
};

static void out_open(struct out *o)
{
    o->text = NULL;
    o->len = 0;
    o->f = open_memstream(&o->text, &o->len);
    assert_non_null(o->f);
}

static void out_close(struct out *o)
{
    fclose(o->f);
}

static void has(const struct out *o, const char *needle)
{
    if (strstr(o->text, needle) == NULL) fail_msg("'%s' not in:\n%s", needle, o->text);
}

static void hasnt(const struct out *o, const char *needle)
{
    if (strstr(o->text, needle) != NULL) fail_msg("'%s' in:\n%s", needle, o->text);
}

static void test_print_enrollment(void **state)
{
    (void)state;
    json_t *e = load("{\"registrationId\":\"th-01\",\"attestation\":{\"type\":\"symmetricKey\","
                     "\"symmetricKey\":{\"primaryKey\":\"" KEY1 "\",\"secondaryKey\":\"" KEY2
                     "\"}},\"capabilities\":{\"iotEdge\":true},\"provisioningStatus\":\"enabled\","
                     "\"iotHubs\":[\"a.test\",\"b.test\"],\"allocationPolicy\":\"hashed\","
                     "\"initialTwin\":{\"tags\":{\"k\":\"v\"}},\"reprovisionPolicy\":"
                     "{\"updateHubAssignment\":true,\"migrateDeviceData\":false},"
                     "\"etag\":\"\\\"e1\\\"\",\"createdDateTimeUtc\":\"2026-01-01T00:00:00Z\"}");
    struct out o;
    out_open(&o);
    gh_mgmt_print_enrollment(o.f, e, false);
    out_close(&o);
    has(&o, "th-01\n");
    has(&o, "individual enrollment");
    has(&o, "(the registration id)");
    has(&o, "symmetricKey");
    has(&o, "(hidden: --show-keys)");
    hasnt(&o, KEY1);
    has(&o, "iot edge             yes");
    has(&o, "a.test, b.test");
    has(&o, "migrate device data: no");
    has(&o, "{\"tags\":{\"k\":\"v\"}}");
    has(&o, "2026-01-01T00:00:00Z");
    free(o.text);
    out_open(&o);
    gh_mgmt_print_enrollment(o.f, e, true);
    out_close(&o);
    has(&o, KEY1);
    has(&o, KEY2);
    free(o.text);
    json_decref(e);
    /* A group with a signing certificate; peer text is escaped. */
    e = load("{\"enrollmentGroupId\":\"g\\u001b1\",\"attestation\":{\"type\":\"x509\",\"x509\":"
             "{\"signingCertificates\":{\"primary\":{\"info\":{\"subjectName\":\"CN=Tenant CA\","
             "\"sha256Thumbprint\":\"ABCD\"}}}}}}");
    out_open(&o);
    gh_mgmt_print_enrollment(o.f, e, false);
    out_close(&o);
    has(&o, "g\\x1B1\n");
    has(&o, "enrollment group");
    hasnt(&o, "device id");
    has(&o, "CN=Tenant CA");
    has(&o, "primary SHA-256      ABCD");
    has(&o, "(this hub)");
    free(o.text);
    json_decref(e);
}

static void test_print_tables(void **state)
{
    (void)state;
    json_t *arr = load("[{\"registrationId\":\"th-01\",\"deviceId\":\"dev-x\",\"attestation\":"
                       "{\"type\":\"x509\"},\"provisioningStatus\":\"disabled\"},"
                       "{\"registrationId\":\"th-02\",\"attestation\":{\"type\":\"symmetricKey\"},"
                       "\"provisioningStatus\":\"enabled\",\"capabilities\":{\"iotEdge\":true}}]");
    struct out o;
    out_open(&o);
    gh_mgmt_print_enrollment_table(o.f, arr, false);
    out_close(&o);
    has(&o, "REGISTRATION ID");
    has(&o, "DEVICE ID");
    has(&o, "th-01           dev-x           x509         disabled  no\n");
    has(&o, "th-02           th-02           symmetricKey enabled   yes\n");
    free(o.text);
    json_decref(arr);
    arr = load("[{\"enrollmentGroupId\":\"plant-7\",\"attestation\":{\"type\":\"x509\"},"
               "\"provisioningStatus\":\"enabled\"}]");
    out_open(&o);
    gh_mgmt_print_enrollment_table(o.f, arr, true);
    out_close(&o);
    has(&o, "GROUP ID");
    hasnt(&o, "DEVICE ID");
    has(&o, "plant-7         x509         enabled   no\n");
    free(o.text);
    json_decref(arr);
    arr = load("[{\"registrationId\":\"th-01\",\"status\":\"assigned\",\"deviceId\":\"th-01\","
               "\"assignedHub\":\"hub.example.test\",\"lastUpdatedDateTimeUtc\":\"T1\"}]");
    out_open(&o);
    gh_mgmt_print_registration_table(o.f, arr);
    out_close(&o);
    has(&o, "REGISTRATION ID");
    has(&o, "ASSIGNED HUB");
    has(&o, "th-01           assigned   th-01           hub.example.test");
    has(&o, " T1\n");
    free(o.text);
    json_decref(arr);
}

static void test_print_registration(void **state)
{
    (void)state;
    json_t *r = load("{\"registrationId\":\"th-01\",\"status\":\"failed\",\"errorCode\":400209,"
                     "\"errorMessage\":\"Device could not be assigned\",\"etag\":\"e\"}");
    struct out o;
    out_open(&o);
    gh_mgmt_print_registration(o.f, r);
    out_close(&o);
    has(&o, "th-01\n");
    has(&o, "status               failed");
    has(&o, "error                400209 Device could not be assigned");
    has(&o, "assigned hub         -");
    free(o.text);
    json_decref(r);
}

/* ---- command lines ------------------------------------------------------------------- */

static int run(int argc, char **argv)
{
    return gh_mgmt_main(argc, argv);
}

static void test_usage(void **state)
{
    (void)state;
    unsetenv(GH_MGMT_ENV_DPS_CS);
    /* --hub is repeatable; --property is not an enrollment option. */
    const struct gh_mgmt_cmd *cmd = gh_mgmt_cmd_find("enrollment", "create");
    assert_non_null(cmd);
    struct gh_mgmt_args a;
    char msg[256];
    char *argv1[] = {"d", "--hub", "a.test", "--hub=b.test", "--individual"};
    assert_int_equal(gh_mgmt_args_parse(cmd, 5, argv1, &a, msg, sizeof msg), GH_OK);
    assert_int_equal(a.nprops, 2);
    assert_string_equal(a.props[1], "b.test");
    char *argv2[] = {"d", "--property", "a=b"};
    assert_int_equal(gh_mgmt_args_parse(cmd, 3, argv2, &a, msg, sizeof msg), GH_ERR_USAGE);
    assert_non_null(gh_mgmt_cmd_find("registration", "show"));
    assert_null(gh_mgmt_cmd_find("registration", "create"));
    /* Usage errors, found before any connection (exit status 2). */
    char *neither[] = {"enrollment", "create", "d", "--attestation", "x509", NULL};
    assert_int_equal(run(5, neither), 2);
    char *both[] = {"enrollment", "create", "d", "--individual", "--group", NULL};
    assert_int_equal(run(5, both), 2);
    char *show_both[] = {"enrollment", "show", "d", "--individual", "--group", NULL};
    assert_int_equal(run(5, show_both), 2);
    char *no_att[] = {"enrollment", "create", "d", "--group", NULL};
    assert_int_equal(run(4, no_att), 2);
    char *bad_twin[] = {"enrollment",     "create", "d", "--individual", "--attestation", "x509",
                        "--initial-twin", "[",      NULL};
    assert_int_equal(run(8, bad_twin), 2);
    char *bad_id[] = {"registration", "show", "a/b", NULL};
    assert_int_equal(run(3, bad_id), 2);
    char *no_group[] = {"registration", "list", NULL};
    assert_int_equal(run(2, no_group), 2);
    char *groups_on_show[] = {"enrollment", "show", "d", "--groups", NULL};
    assert_int_equal(run(4, groups_on_show), 2);
    char *missing_cert[] = {"enrollment",
                            "create",
                            "d",
                            "--individual",
                            "--attestation",
                            "x509",
                            "--cert",
                            "/nonexistent/cert.pem",
                            NULL};
    assert_int_equal(run(8, missing_cert), gh_err_exit_status(GH_ERR_NOENT));
    /* A bad DPS connection string is a configuration error (3). */
    char *bad_cs[] = {"registration", "show", "d", "--connection-string", "HostName=x", NULL};
    assert_int_equal(run(5, bad_cs), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_individual_symmetric),
        cmocka_unit_test(test_body_group_symmetric_generated),
        cmocka_unit_test(test_body_x509),
        cmocka_unit_test(test_body_errors),
        cmocka_unit_test(test_host_valid),
        cmocka_unit_test(test_target),
        cmocka_unit_test(test_dps_connection_string),
        cmocka_unit_test(test_dps_error_body),
        cmocka_unit_test(test_print_enrollment),
        cmocka_unit_test(test_print_tables),
        cmocka_unit_test(test_print_registration),
        cmocka_unit_test(test_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
