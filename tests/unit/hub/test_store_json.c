/* Identity JSON of PROTOCOL.md 5.2 / 5.3: parsing request bodies (every
 * rule and its exact message) and rendering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hub/identity.h"

#define KEY_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_B "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
#define TP40 "ABCDEF0123456789ABCDEF0123456789ABCDEF01"
#define TP64 "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
    if (j == NULL) fprintf(stderr, "bad JSON %s: %s\n", text, e.text);
    assert_non_null(j);
    return j;
}

static gh_err parse(const char *text, enum gh_identity_kind kind, struct gh_identity *out,
                    char *err, size_t errlen)
{
    json_t *j = J(text);
    gh_err rc = gh_identity_from_json(j, kind, out, err, errlen);
    json_decref(j);
    return rc;
}

static void test_parse_device_full(void **state)
{
    (void)state;
    struct gh_identity id;
    char err[256];
    assert_int_equal(
        parse("{\"deviceId\":\"thermostat-01\",\"status\":\"Disabled\",\"statusReason\":\"maint\","
              "\"authentication\":{\"type\":\"sas\",\"symmetricKey\":{\"primaryKey\":\"" KEY_A
              "\",\"secondaryKey\":\"" KEY_B "\"}},\"capabilities\":{\"iotEdge\":true},"
              "\"deviceScope\":\"ms-azure-iot-edge://gw-1\",\"parentScopes\":[\"ms-azure-iot-"
              "edge://gw-0\"],\"etag\":\"ignored\",\"generationId\":\"1\",\"unknown\":{}}",
              GH_IDENTITY_DEVICE, &id, err, sizeof err),
        GH_OK);
    assert_string_equal(id.device_id, "thermostat-01");
    assert_string_equal(id.module_id, "");
    assert_int_equal(id.status, GH_IDENTITY_DISABLED);
    assert_string_equal(id.status_reason, "maint");
    assert_int_equal(id.auth_type, GH_AUTH_SAS);
    assert_string_equal(id.primary_key, KEY_A);
    assert_string_equal(id.secondary_key, KEY_B);
    assert_true(id.iot_edge);
    assert_string_equal(id.device_scope, "ms-azure-iot-edge://gw-1");
    assert_string_equal(id.parent_scope, "ms-azure-iot-edge://gw-0");
    assert_string_equal(id.etag, "");
    assert_string_equal(id.generation_id, "");
    assert_int_equal(id.present, GH_IDENTITY_F_STATUS | GH_IDENTITY_F_STATUS_REASON |
                                     GH_IDENTITY_F_AUTH | GH_IDENTITY_F_CAPABILITIES |
                                     GH_IDENTITY_F_DEVICE_SCOPE | GH_IDENTITY_F_PARENT_SCOPES);
    gh_identity_wipe(&id);
    for (size_t i = 0; i < sizeof id; i++) assert_int_equal(((unsigned char *)&id)[i], 0);
}

static void test_parse_defaults_and_inference(void **state)
{
    (void)state;
    struct gh_identity id;
    char err[256];
    /* What Node sends for a bare device: empty keys, type sas. */
    assert_int_equal(parse("{\"deviceId\":\"d1\",\"authentication\":{\"type\":\"sas\","
                           "\"symmetricKey\":{\"primaryKey\":\"\",\"secondaryKey\":\"\"}}}",
                           GH_IDENTITY_DEVICE, &id, err, sizeof err),
                     GH_OK);
    assert_int_equal(id.auth_type, GH_AUTH_SAS);
    assert_string_equal(id.primary_key, "");
    assert_int_equal(id.status, GH_IDENTITY_ENABLED);
    assert_int_equal(id.present, GH_IDENTITY_F_AUTH);
    assert_int_equal(parse("{\"deviceId\":\"d1\",\"status\":\"ENABLED\"}", GH_IDENTITY_DEVICE, &id,
                           err, sizeof err),
                     GH_OK);
    assert_int_equal(id.status, GH_IDENTITY_ENABLED);
    assert_int_equal(id.present, GH_IDENTITY_F_STATUS);
    /* No authentication at all: sas, nothing present. */
    assert_int_equal(parse("{\"deviceId\":\"d1\"}", GH_IDENTITY_DEVICE, &id, err, sizeof err),
                     GH_OK);
    assert_int_equal(id.auth_type, GH_AUTH_SAS);
    assert_int_equal(id.present, 0);
    /* Thumbprints without a type: selfSigned (Node infers the same). Keys
     * of another type are dropped. */
    assert_int_equal(parse("{\"deviceId\":\"d1\",\"authentication\":{\"x509Thumbprint\":"
                           "{\"primaryThumbprint\":\"" TP40 "\",\"secondaryThumbprint\":\"" TP64
                           "\"}}}",
                           GH_IDENTITY_DEVICE, &id, err, sizeof err),
                     GH_OK);
    assert_int_equal(id.auth_type, GH_AUTH_SELF_SIGNED);
    assert_string_equal(id.primary_thumbprint, TP40);
    assert_string_equal(id.secondary_thumbprint, TP64);
    assert_int_equal(
        parse("{\"deviceId\":\"d1\",\"authentication\":{\"type\":\"CERTIFICATEAUTHORITY\","
              "\"symmetricKey\":{\"primaryKey\":\"" KEY_A "\",\"secondaryKey\":null},"
              "\"x509Thumbprint\":{\"primaryThumbprint\":\"" TP40 "\"}}}",
              GH_IDENTITY_DEVICE, &id, err, sizeof err),
        GH_OK);
    assert_int_equal(id.auth_type, GH_AUTH_CA);
    assert_string_equal(id.primary_key, "");
    assert_string_equal(id.primary_thumbprint, "");
    assert_int_equal(parse("{\"deviceId\":\"d1\",\"authentication\":{\"type\":\"none\"},"
                           "\"parentScopes\":[],\"deviceScope\":null,\"capabilities\":null}",
                           GH_IDENTITY_DEVICE, &id, err, sizeof err),
                     GH_OK);
    assert_int_equal(id.auth_type, GH_AUTH_NONE);
    assert_int_equal(id.present,
                     GH_IDENTITY_F_AUTH | GH_IDENTITY_F_PARENT_SCOPES | GH_IDENTITY_F_DEVICE_SCOPE);
    /* Modules: moduleId and managedBy; device-only members are ignored. */
    assert_int_equal(parse("{\"deviceId\":\"gw\",\"moduleId\":\"$edgeHub\",\"managedBy\":"
                           "\"IotEdge\",\"status\":\"bogus\",\"capabilities\":7}",
                           GH_IDENTITY_MODULE, &id, err, sizeof err),
                     GH_OK);
    assert_string_equal(id.module_id, "$edgeHub");
    assert_string_equal(id.managed_by, "IotEdge");
    assert_int_equal(id.present, GH_IDENTITY_F_MANAGED_BY);
}

struct bad_case {
    const char *body;
    enum gh_identity_kind kind;
    gh_err rc;
    const char *msg;
};

static void test_parse_errors(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"[1]", GH_IDENTITY_DEVICE, GH_ERR_BAD_JSON, "the body must be a JSON object"},
        {"{}", GH_IDENTITY_DEVICE, GH_ERR_ARG, "deviceId is required"},
        {"{\"deviceId\":null}", GH_IDENTITY_DEVICE, GH_ERR_ARG, "deviceId is required"},
        {"{\"deviceId\":5}", GH_IDENTITY_DEVICE, GH_ERR_BAD_JSON, "deviceId must be a string"},
        {"{\"deviceId\":\"a b\"}", GH_IDENTITY_DEVICE, GH_ERR_ARG,
         "deviceId must be 1 to 128 characters of letters, digits and -.+%_#*?!(),=@$'"},
        {"{\"deviceId\":\"\"}", GH_IDENTITY_DEVICE, GH_ERR_ARG, NULL},
        {"{\"deviceId\":\"d\"}", GH_IDENTITY_MODULE, GH_ERR_ARG, "moduleId is required"},
        {"{\"deviceId\":\"d\",\"moduleId\":\"m/x\"}", GH_IDENTITY_MODULE, GH_ERR_ARG,
         "moduleId must be 1 to 128 characters of letters, digits and -.+%_#*?!(),=@$'"},
        {"{\"deviceId\":\"d\",\"moduleId\":\"m\",\"managedBy\":1}", GH_IDENTITY_MODULE,
         GH_ERR_BAD_JSON, "managedBy must be a string"},
        {"{\"deviceId\":\"d\",\"status\":1}", GH_IDENTITY_DEVICE, GH_ERR_BAD_JSON,
         "status must be a string"},
        {"{\"deviceId\":\"d\",\"status\":\"on\"}", GH_IDENTITY_DEVICE, GH_ERR_ARG,
         "status must be enabled or disabled"},
        {"{\"deviceId\":\"d\",\"status\":\"enabledX\"}", GH_IDENTITY_DEVICE, GH_ERR_ARG,
         "status must be enabled or disabled"},
        {"{\"deviceId\":\"d\",\"statusReason\":[]}", GH_IDENTITY_DEVICE, GH_ERR_BAD_JSON,
         "statusReason must be a string"},
        {"{\"deviceId\":\"d\",\"authentication\":3}", GH_IDENTITY_DEVICE, GH_ERR_BAD_JSON,
         "authentication must be an object"},
        {"{\"deviceId\":\"d\",\"authentication\":{\"symmetricKey\":1}}", GH_IDENTITY_DEVICE,
         GH_ERR_BAD_JSON, "authentication.symmetricKey must be an object"},
        {"{\"deviceId\":\"d\",\"authentication\":{\"x509Thumbprint\":\"x\"}}", GH_IDENTITY_DEVICE,
         GH_ERR_BAD_JSON, "authentication.x509Thumbprint must be an object"},
        {"{\"deviceId\":\"d\",\"authentication\":{\"type\":1}}", GH_IDENTITY_DEVICE,
         GH_ERR_BAD_JSON, "authentication.type must be a string"},
        {"{\"deviceId\":\"d\",\"authentication\":{\"type\":\"x509\"}}", GH_IDENTITY_DEVICE,
         GH_ERR_ARG,
         "authentication.type must be one of sas, selfSigned, certificateAuthority, none"},
        {"{\"deviceId\":\"d\",\"authentication\":{\"type\":\"sasx\"}}", GH_IDENTITY_DEVICE,
         GH_ERR_ARG,
         "authentication.type must be one of sas, selfSigned, certificateAuthority, none"},
        {"{\"deviceId\":\"d\",\"authentication\":{\"symmetricKey\":{\"primaryKey\":7}}}",
         GH_IDENTITY_DEVICE, GH_ERR_BAD_JSON,
         "authentication.symmetricKey.primaryKey must be a string"},
        {"{\"deviceId\":\"d\",\"authentication\":{\"symmetricKey\":{\"primaryKey\":\"" KEY_A
         "\"}}}",
         GH_IDENTITY_DEVICE, GH_ERR_ARG,
         "authentication.symmetricKey: give both primaryKey and secondaryKey, or neither to have "
         "them generated"},
        {"{\"deviceId\":\"d\",\"authentication\":{\"symmetricKey\":{\"primaryKey\":\"AAAA\","
         "\"secondaryKey\":\"" KEY_B "\"}}}",
         GH_IDENTITY_DEVICE, GH_ERR_ARG,
         "authentication.symmetricKey.primaryKey must be base64 of 16 to 64 bytes"},
        {"{\"deviceId\":\"d\",\"authentication\":{\"symmetricKey\":{\"primaryKey\":\"" KEY_A
         "\",\"secondaryKey\":\"not base64!\"}}}",
         GH_IDENTITY_DEVICE, GH_ERR_ARG,
         "authentication.symmetricKey.secondaryKey must be base64 of 16 to 64 bytes"},
        {"{\"deviceId\":\"d\",\"authentication\":{\"symmetricKey\":{\"primaryKey\":\"" KEY_A KEY_A
             KEY_A "\",\"secondaryKey\":\"" KEY_B "\"}}}",
         GH_IDENTITY_DEVICE, GH_ERR_ARG,
         "authentication.symmetricKey.primaryKey is longer than 88 bytes"},
        {"{\"deviceId\":\"d\",\"authentication\":{\"type\":\"selfSigned\"}}", GH_IDENTITY_DEVICE,
         GH_ERR_ARG, "authentication.x509Thumbprint.primaryThumbprint is required for selfSigned"},
        {"{\"deviceId\":\"d\",\"authentication\":{\"type\":\"selfSigned\",\"x509Thumbprint\":"
         "{\"primaryThumbprint\":\"ABC\"}}}",
         GH_IDENTITY_DEVICE, GH_ERR_ARG,
         "authentication.x509Thumbprint.primaryThumbprint must be 40 or 64 hex characters"},
        {"{\"deviceId\":\"d\",\"authentication\":{\"x509Thumbprint\":{\"primaryThumbprint\":\"" TP40
         "\",\"secondaryThumbprint\":\"" TP40 "X\"}}}",
         GH_IDENTITY_DEVICE, GH_ERR_ARG,
         "authentication.x509Thumbprint.secondaryThumbprint must be 40 or 64 hex characters"},
        {"{\"deviceId\":\"d\",\"authentication\":{\"x509Thumbprint\":{\"primaryThumbprint\":\""
         "GBCDEF0123456789ABCDEF0123456789ABCDEF01\"}}}",
         GH_IDENTITY_DEVICE, GH_ERR_ARG,
         "authentication.x509Thumbprint.primaryThumbprint must be 40 or 64 hex characters"},
        {"{\"deviceId\":\"d\",\"capabilities\":[]}", GH_IDENTITY_DEVICE, GH_ERR_BAD_JSON,
         "capabilities must be an object"},
        {"{\"deviceId\":\"d\",\"capabilities\":{\"iotEdge\":\"yes\"}}", GH_IDENTITY_DEVICE,
         GH_ERR_BAD_JSON, "capabilities.iotEdge must be a boolean"},
        {"{\"deviceId\":\"d\",\"deviceScope\":1}", GH_IDENTITY_DEVICE, GH_ERR_BAD_JSON,
         "deviceScope must be a string"},
        {"{\"deviceId\":\"d\",\"parentScopes\":\"x\"}", GH_IDENTITY_DEVICE, GH_ERR_BAD_JSON,
         "parentScopes must be an array of strings"},
        {"{\"deviceId\":\"d\",\"parentScopes\":[\"a\",\"b\"]}", GH_IDENTITY_DEVICE, GH_ERR_ARG,
         "parentScopes holds at most one scope"},
        {"{\"deviceId\":\"d\",\"parentScopes\":[null]}", GH_IDENTITY_DEVICE, GH_ERR_BAD_JSON,
         "parentScopes[0] must be a string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct gh_identity id;
        char err[256];
        memset(&id, 0x5a, sizeof id);
        gh_err rc = parse(cases[i].body, cases[i].kind, &id, err, sizeof err);
        if (rc != cases[i].rc) fprintf(stderr, "case %zu (%s): %d %s\n", i, cases[i].body, rc, err);
        assert_int_equal(rc, cases[i].rc);
        if (cases[i].msg != NULL) assert_string_equal(err, cases[i].msg);
        /* Output untouched on error. */
        assert_int_equal(((unsigned char *)&id)[0], 0x5a);
    }
    /* Length limits: 128/129-byte ids, 256/257-byte scopes. */
    char body[1024], big[300];
    struct gh_identity id;
    char err[256];
    memset(big, 'a', sizeof big);
    big[128] = '\0';
    snprintf(body, sizeof body, "{\"deviceId\":\"%s\"}", big);
    assert_int_equal(parse(body, GH_IDENTITY_DEVICE, &id, err, sizeof err), GH_OK);
    big[128] = 'a';
    big[129] = '\0';
    snprintf(body, sizeof body, "{\"deviceId\":\"%s\"}", big);
    assert_int_equal(parse(body, GH_IDENTITY_DEVICE, &id, err, sizeof err), GH_ERR_ARG);
    memset(big, 's', sizeof big);
    big[GH_IDENTITY_SCOPE_MAX] = '\0';
    snprintf(body, sizeof body, "{\"deviceId\":\"d\",\"deviceScope\":\"%s\"}", big);
    assert_int_equal(parse(body, GH_IDENTITY_DEVICE, &id, err, sizeof err), GH_OK);
    big[GH_IDENTITY_SCOPE_MAX] = 's';
    big[GH_IDENTITY_SCOPE_MAX + 1] = '\0';
    snprintf(body, sizeof body, "{\"deviceId\":\"d\",\"parentScopes\":[\"%s\"]}", big);
    assert_int_equal(parse(body, GH_IDENTITY_DEVICE, &id, err, sizeof err), GH_ERR_ARG);
    assert_string_equal(err, "parentScopes[0] is longer than 256 bytes");
    /* Embedded NUL (jansson can hold one when built by code). */
    json_t *j = J("{\"deviceId\":\"d\"}");
    json_object_set_new(j, "statusReason", json_stringn("a\0b", 3));
    assert_int_equal(gh_identity_from_json(j, GH_IDENTITY_DEVICE, &id, err, sizeof err),
                     GH_ERR_ARG);
    assert_string_equal(err, "statusReason contains a NUL character");
    json_decref(j);
    /* A zero-length error buffer is fine. */
    assert_int_equal(parse("{}", GH_IDENTITY_DEVICE, &id, NULL, 0), GH_ERR_ARG);
}

static void test_render_device_and_module(void **state)
{
    (void)state;
    struct gh_identity id;
    json_t *j;
    memset(&id, 0, sizeof id);
    strcpy(id.device_id, "thermostat-01");
    strcpy(id.generation_id, "638712345678901234");
    strcpy(id.etag, "MzQ1Njc4OTA=");
    strcpy(id.primary_key, KEY_A);
    strcpy(id.secondary_key, KEY_B);
    strcpy(id.device_scope, "ms-azure-iot-edge://edge-gw-01-638712300000000000");
    strcpy(id.parent_scope, "ms-azure-iot-edge://edge-gw-01-638712300000000000");
    id.c2d_count = 3;
    id.last_activity_ms = INT64_C(1767225900123);
    assert_int_equal(gh_identity_to_json(&id, &j), GH_OK);
    char *s = json_dumps(j, JSON_COMPACT);
    assert_string_equal(
        s, "{\"deviceId\":\"thermostat-01\",\"generationId\":\"638712345678901234\","
           "\"etag\":\"MzQ1Njc4OTA=\",\"connectionState\":\"Disconnected\",\"status\":\"enabled\","
           "\"statusReason\":null,\"connectionStateUpdatedTime\":\"0001-01-01T00:00:00Z\","
           "\"statusUpdatedTime\":\"0001-01-01T00:00:00Z\","
           "\"lastActivityTime\":\"2026-01-01T00:05:00.123Z\",\"cloudToDeviceMessageCount\":3,"
           "\"authentication\":{\"symmetricKey\":{\"primaryKey\":\"" KEY_A
           "\",\"secondaryKey\":\"" KEY_B "\"},\"x509Thumbprint\":{\"primaryThumbprint\":null,"
           "\"secondaryThumbprint\":null},\"type\":\"sas\"},\"capabilities\":{\"iotEdge\":false},"
           "\"deviceScope\":\"ms-azure-iot-edge://edge-gw-01-638712300000000000\","
           "\"parentScopes\":[\"ms-azure-iot-edge://edge-gw-01-638712300000000000\"]}");
    free(s);
    json_decref(j);

    /* Round trip through the parser keeps every settable field. */
    strcpy(id.status_reason, "why");
    id.status = GH_IDENTITY_DISABLED;
    id.iot_edge = true;
    assert_int_equal(gh_identity_to_json(&id, &j), GH_OK);
    struct gh_identity back;
    char err[128];
    assert_int_equal(gh_identity_from_json(j, GH_IDENTITY_DEVICE, &back, err, sizeof err), GH_OK);
    assert_string_equal(back.primary_key, KEY_A);
    assert_string_equal(back.status_reason, "why");
    assert_int_equal(back.status, GH_IDENTITY_DISABLED);
    assert_true(back.iot_edge);
    assert_string_equal(back.parent_scope, id.parent_scope);
    json_decref(j);

    /* selfSigned: keys null, thumbprints shown. Module form. */
    memset(&id, 0, sizeof id);
    strcpy(id.device_id, "gw");
    strcpy(id.module_id, "filter");
    strcpy(id.generation_id, "638712345678901234");
    strcpy(id.etag, "MQ==");
    id.auth_type = GH_AUTH_SELF_SIGNED;
    strcpy(id.primary_thumbprint, TP40);
    strcpy(id.primary_key, KEY_A); /* not shown for selfSigned */
    id.conn_state = GH_CONN_CONNECTED;
    assert_int_equal(gh_identity_to_json(&id, &j), GH_OK);
    s = json_dumps(j, JSON_COMPACT);
    assert_string_equal(
        s, "{\"moduleId\":\"filter\",\"deviceId\":\"gw\",\"managedBy\":null,"
           "\"generationId\":\"638712345678901234\",\"etag\":\"MQ==\",\"connectionState\":"
           "\"Connected\",\"connectionStateUpdatedTime\":\"0001-01-01T00:00:00Z\","
           "\"lastActivityTime\":\"0001-01-01T00:00:00Z\",\"cloudToDeviceMessageCount\":0,"
           "\"authentication\":{\"symmetricKey\":{\"primaryKey\":null,\"secondaryKey\":null},"
           "\"x509Thumbprint\":{\"primaryThumbprint\":\"" TP40 "\",\"secondaryThumbprint\":null},"
           "\"type\":\"selfSigned\"}}");
    free(s);
    json_decref(j);
}

static void test_helpers(void **state)
{
    (void)state;
    assert_string_equal(gh_auth_type_name(GH_AUTH_CA), "certificateAuthority");
    assert_string_equal(gh_auth_type_name((enum gh_auth_type)42), "none");
    assert_string_equal(gh_identity_status_name(GH_IDENTITY_DISABLED), "disabled");
    assert_true(gh_identity_key_valid(KEY_A));
    assert_true(gh_identity_key_valid("AAAAAAAAAAAAAAAAAAAAAA")); /* 16 bytes, unpadded */
    assert_false(gh_identity_key_valid("AAAAAAAAAAAAAAAAAAAA"));  /* 15 bytes */
    assert_false(gh_identity_key_valid(""));
    assert_true(gh_identity_thumbprint_valid(TP40));
    assert_true(gh_identity_thumbprint_valid(TP64));
    assert_false(gh_identity_thumbprint_valid("AB"));
    gh_identity_wipe(NULL);
    char t[GH_HUB_TIME_LEN];
    gh_hub_time_format(0, t);
    assert_string_equal(t, "0001-01-01T00:00:00Z");
    gh_hub_time_format(INT64_C(1767225600001), t);
    assert_string_equal(t, "2026-01-01T00:00:00.001Z");
    gh_hub_time_format(INT64_MAX, t);
    assert_string_equal(t, "9999-12-31T23:59:59.999Z");
    char g[GH_HUB_GUID_LEN];
    assert_int_equal(gh_hub_guid(g), GH_OK);
    assert_int_equal(strlen(g), 36);
    assert_int_equal(g[14], '4');
    char e[GH_HUB_ETAG8_LEN];
    gh_hub_etag_u64(7, e);
    assert_string_equal(e, "AAAAAAAAAAc=");
    uint64_t last = 0;
    char a[GH_HUB_GENID_LEN], b[GH_HUB_GENID_LEN];
    assert_int_equal(gh_hub_generation_id(INT64_C(1767225600000), &last, a), GH_OK);
    assert_int_equal(gh_hub_generation_id(INT64_C(1767225600000), &last, b), GH_OK);
    assert_int_equal(strlen(a), 18);
    assert_true(strcmp(a, b) < 0); /* strictly increasing within a store */
    assert_memory_equal(a, "6390", 4);
    char r1[GH_HUB_ETAG_MAX], r2[GH_HUB_ETAG_MAX];
    assert_int_equal(gh_hub_etag_random(NULL, r1), GH_OK);
    assert_int_equal(gh_hub_etag_random(r1, r2), GH_OK);
    assert_string_not_equal(r1, r2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_device_full),
        cmocka_unit_test(test_parse_defaults_and_inference),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_render_device_and_module),
        cmocka_unit_test(test_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
