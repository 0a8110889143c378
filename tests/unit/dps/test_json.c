/* Enrollment JSON (PROTOCOL.md 4.6, 4.8) and the device-facing documents
 * (4.3): every enrollment kind round-trips, every rule has its exact error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dps/dps_cert.h"
#include "dps/dps_doc.h"
#include "dps_fixture.h"

#define KEY_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_B "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="

/* to_json, then from_json again: the same record. */
static void roundtrip(const struct gh_dps_enrollment *e, struct gh_dps_enrollment *back)
{
    json_t *j = NULL;
    assert_int_equal(gh_dps_enrollment_to_json(e, &j), GH_OK);
    char err[GH_DPS_REASON_MAX];
    gh_err rc = gh_dps_enrollment_from_json(j, e->kind, back, err, sizeof err);
    if (rc != GH_OK) fprintf(stderr, "roundtrip: %s\n", err);
    assert_int_equal(rc, GH_OK);
    json_decref(j);
    assert_int_equal(back->kind, e->kind);
    assert_string_equal(back->id, e->id);
    assert_string_equal(back->device_id, e->device_id);
    assert_int_equal(back->attestation, e->attestation);
    assert_string_equal(back->primary_key, e->primary_key);
    assert_string_equal(back->secondary_key, e->secondary_key);
    for (int i = 0; i < 2; i++) {
        if (e->cert_pem[i] == NULL)
            assert_null(back->cert_pem[i]);
        else
            assert_string_equal(back->cert_pem[i], e->cert_pem[i]);
    }
    assert_int_equal(back->iot_edge, e->iot_edge);
    assert_string_equal(back->iot_hub_host_name, e->iot_hub_host_name);
    assert_int_equal(back->niot_hubs, e->niot_hubs);
    assert_int_equal(back->enabled, e->enabled);
    assert_int_equal(back->update_hub_assignment, e->update_hub_assignment);
    assert_int_equal(back->migrate_device_data, e->migrate_device_data);
    assert_string_equal(back->etag, e->etag);
    if (e->initial_twin == NULL)
        assert_null(back->initial_twin);
    else
        assert_true(json_equal(back->initial_twin, e->initial_twin));
}

static void test_individual_symmetric(void **state)
{
    (void)state;
    struct gh_dps_enrollment e, b;
    dx_enrollment(
        "{\"registrationId\":\"Thermostat-01\",\"deviceId\":\"th-01\","
        "\"attestation\":{\"type\":\"symmetricKey\",\"symmetricKey\":{\"primaryKey\":\"" KEY_A
        "\",\"secondaryKey\":\"" KEY_B "\"}},\"capabilities\":{\"iotEdge\":true},"
        "\"iotHubHostName\":\"hub.example.test\",\"iotHubs\":[\"hub.example.test\"],"
        "\"allocationPolicy\":\"hashed\",\"initialTwin\":{\"tags\":{\"site\":\"plant-7\"},"
        "\"properties\":{\"desired\":{\"telemetryInterval\":30}}},"
        "\"provisioningStatus\":\"disabled\",\"reprovisionPolicy\":{\"updateHubAssignment\":"
        "false,\"migrateDeviceData\":false},\"etag\":\"\\\"abc\\\"\","
        "\"createdDateTimeUtc\":\"x\",\"unknown\":1}",
        GH_DPS_INDIVIDUAL, &e);
    assert_string_equal(e.id, "Thermostat-01");
    assert_string_equal(e.device_id, "th-01");
    assert_string_equal(e.primary_key, KEY_A);
    assert_true(e.iot_edge);
    assert_int_equal(e.allocation, GH_DPS_ALLOC_HASHED);
    assert_false(e.enabled);
    assert_false(e.update_hub_assignment);
    assert_false(e.migrate_device_data);
    assert_string_equal(e.etag, "abc");
    json_t *j = NULL;
    assert_int_equal(gh_dps_enrollment_to_json(&e, &j), GH_OK);
    assert_string_equal(json_string_value(json_object_get(j, "etag")), "\"abc\"");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "attestation"), "type")),
        "symmetricKey");
    assert_string_equal(json_string_value(json_object_get(j, "provisioningStatus")), "disabled");
    assert_string_equal(json_string_value(json_object_get(j, "createdDateTimeUtc")),
                        "0001-01-01T00:00:00Z");
    json_decref(j);
    assert_int_equal(gh_dps_attestation_to_json(&e, &j), GH_OK);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "symmetricKey"), "secondaryKey")),
        KEY_B);
    json_decref(j);
    roundtrip(&e, &b);
    gh_dps_enrollment_cleanup(&b);
    gh_dps_enrollment_cleanup(&e);
}

static void test_defaults_and_group_symmetric(void **state)
{
    (void)state;
    struct gh_dps_enrollment e, b;
    dx_enrollment("{\"enrollmentGroupId\":\"factory-a\",\"deviceId\":\"ignored\","
                  "\"attestation\":{\"type\":\"SymmetricKey\"}}",
                  GH_DPS_GROUP, &e);
    assert_string_equal(e.id, "factory-a");
    assert_string_equal(e.device_id, "");
    assert_string_equal(e.primary_key, "");
    assert_true(e.enabled);
    assert_true(e.update_hub_assignment);
    assert_true(e.migrate_device_data);
    assert_int_equal(e.allocation, GH_DPS_ALLOC_DEFAULT);
    assert_null(e.initial_twin);
    json_t *j = NULL;
    assert_int_equal(gh_dps_enrollment_to_json(&e, &j), GH_OK);
    assert_string_equal(json_string_value(json_object_get(j, "enrollmentGroupId")), "factory-a");
    assert_null(json_object_get(j, "registrationId"));
    json_decref(j);
    roundtrip(&e, &b);
    gh_dps_enrollment_cleanup(&b);
    gh_dps_enrollment_cleanup(&e);
}

static void test_x509_kinds(void **state)
{
    (void)state;
    struct dx_pki p;
    dx_pki_init(&p);
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *leaf = dx_cert("dev-x", k, p.inter, p.int_key, false);
    char *leaf_pem = dx_pem_json(leaf), *ca_pem = dx_pem_json(p.inter);
    char text[16384];
    snprintf(text, sizeof text,
             "{\"registrationId\":\"dev-x\",\"attestation\":{\"type\":\"x509\",\"x509\":"
             "{\"clientCertificates\":{\"primary\":{\"certificate\":\"%s\"}}}}}",
             leaf_pem);
    struct gh_dps_enrollment e, b;
    dx_enrollment(text, GH_DPS_INDIVIDUAL, &e);
    assert_int_equal(e.attestation, GH_DPS_ATT_X509);
    assert_non_null(e.cert_pem[0]);
    assert_null(e.cert_pem[1]);
    json_t *j = NULL;
    assert_int_equal(gh_dps_enrollment_to_json(&e, &j), GH_OK);
    json_t *info = json_object_get(
        json_object_get(json_object_get(json_object_get(json_object_get(j, "attestation"), "x509"),
                                        "clientCertificates"),
                        "primary"),
        "info");
    char tp[65];
    dx_hex_sha256(leaf, tp);
    assert_string_equal(json_string_value(json_object_get(info, "sha256Thumbprint")), tp);
    assert_string_equal(json_string_value(json_object_get(info, "subjectName")), "CN=dev-x");
    assert_string_equal(json_string_value(json_object_get(info, "issuerName")), "CN=Tenant CA");
    assert_int_equal(json_integer_value(json_object_get(info, "version")), 3);
    json_decref(j);
    roundtrip(&e, &b);
    gh_dps_enrollment_cleanup(&b);
    gh_dps_enrollment_cleanup(&e);

    /* The certificate as base64 DER, as the SDK also allows. */
    unsigned char *der = NULL;
    int dn = i2d_X509(leaf, &der);
    char b64[4096];
    EVP_EncodeBlock((unsigned char *)b64, der, dn);
    OPENSSL_free(der);
    snprintf(text, sizeof text,
             "{\"registrationId\":\"dev-x\",\"attestation\":{\"type\":\"x509\",\"x509\":"
             "{\"clientCertificates\":{\"primary\":{\"certificate\":\"%s\"}}}}}",
             b64);
    dx_enrollment(text, GH_DPS_INDIVIDUAL, &b);
    X509 *got = NULL;
    assert_int_equal(gh_dps_cert_load(b.cert_pem[0], &got), GH_OK);
    assert_int_equal(X509_cmp(got, leaf), 0);
    X509_free(got);
    gh_dps_enrollment_cleanup(&b);

    snprintf(text, sizeof text,
             "{\"enrollmentGroupId\":\"tenant\",\"attestation\":{\"type\":\"x509\",\"x509\":"
             "{\"signingCertificates\":{\"primary\":{\"certificate\":\"%s\"},"
             "\"secondary\":{\"certificate\":\"%s\"}}}}}",
             ca_pem, ca_pem);
    dx_enrollment(text, GH_DPS_GROUP, &e);
    assert_non_null(e.cert_pem[1]);
    roundtrip(&e, &b);
    gh_dps_enrollment_cleanup(&b);
    gh_dps_enrollment_cleanup(&e);

    /* A leaf is not a signing certificate. */
    snprintf(text, sizeof text,
             "{\"enrollmentGroupId\":\"tenant\",\"attestation\":{\"type\":\"x509\",\"x509\":"
             "{\"signingCertificates\":{\"primary\":{\"certificate\":\"%s\"}}}}}",
             leaf_pem);
    json_t *bad = dx_json(text);
    char err[GH_DPS_REASON_MAX];
    assert_int_equal(gh_dps_enrollment_from_json(bad, GH_DPS_GROUP, &e, err, sizeof err),
                     GH_ERR_ARG);
    assert_non_null(strstr(err, "not a CA"));
    json_decref(bad);
    free(leaf_pem);
    free(ca_pem);
    X509_free(leaf);
    EVP_PKEY_free(k);
    dx_pki_free(&p);
}

struct bad_case {
    const char *text;
    enum gh_dps_kind kind;
    gh_err want;
};

#define ATT "\"attestation\":{\"type\":\"symmetricKey\"}"

static void test_rejects(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"[]", GH_DPS_INDIVIDUAL, GH_ERR_BAD_JSON},
        {"{" ATT "}", GH_DPS_INDIVIDUAL, GH_ERR_ARG},
        {"{\"registrationId\":\"a b\"," ATT "}", GH_DPS_INDIVIDUAL, GH_ERR_ARG},
        {"{\"registrationId\":7," ATT "}", GH_DPS_INDIVIDUAL, GH_ERR_BAD_JSON},
        {"{\"registrationId\":\"a\"," ATT "}", GH_DPS_GROUP, GH_ERR_ARG},
        {"{\"registrationId\":\"a\",\"deviceId\":\"a/b\"," ATT "}", GH_DPS_INDIVIDUAL, GH_ERR_ARG},
        {"{\"registrationId\":\"a\"}", GH_DPS_INDIVIDUAL, GH_ERR_ARG},
        {"{\"registrationId\":\"a\",\"attestation\":{\"type\":\"tpm\"}}", GH_DPS_INDIVIDUAL,
         GH_ERR_UNSUPPORTED},
        {"{\"registrationId\":\"a\",\"attestation\":{\"type\":\"none\"}}", GH_DPS_INDIVIDUAL,
         GH_ERR_ARG},
        {"{\"registrationId\":\"a\",\"attestation\":{\"type\":\"symmetricKey\",\"symmetricKey\":"
         "{\"primaryKey\":\"AAAA\"}}}",
         GH_DPS_INDIVIDUAL, GH_ERR_ARG},
        {"{\"registrationId\":\"a\",\"attestation\":{\"type\":\"symmetricKey\",\"symmetricKey\":"
         "[]}}",
         GH_DPS_INDIVIDUAL, GH_ERR_BAD_JSON},
        {"{\"registrationId\":\"a\",\"attestation\":{\"type\":\"x509\"}}", GH_DPS_INDIVIDUAL,
         GH_ERR_ARG},
        {"{\"registrationId\":\"a\",\"attestation\":{\"type\":\"x509\",\"x509\":{}}}",
         GH_DPS_INDIVIDUAL, GH_ERR_ARG},
        {"{\"enrollmentGroupId\":\"g\",\"attestation\":{\"type\":\"x509\",\"x509\":{"
         "\"caReferences\":{\"primary\":\"ca1\"}}}}",
         GH_DPS_GROUP, GH_ERR_UNSUPPORTED},
        {"{\"registrationId\":\"a\",\"attestation\":{\"type\":\"x509\",\"x509\":{"
         "\"clientCertificates\":{\"primary\":{\"info\":{}}}}}}",
         GH_DPS_INDIVIDUAL, GH_ERR_ARG},
        {"{\"registrationId\":\"a\",\"attestation\":{\"type\":\"x509\",\"x509\":{"
         "\"clientCertificates\":{\"primary\":{\"certificate\":\"bm90IGEgY2VydA==\"}}}}}",
         GH_DPS_INDIVIDUAL, GH_ERR_ARG},
        {"{\"registrationId\":\"a\"," ATT ",\"capabilities\":{\"iotEdge\":1}}", GH_DPS_INDIVIDUAL,
         GH_ERR_BAD_JSON},
        {"{\"registrationId\":\"a\"," ATT ",\"iotHubHostName\":\"bad host\"}", GH_DPS_INDIVIDUAL,
         GH_ERR_ARG},
        {"{\"registrationId\":\"a\"," ATT ",\"iotHubs\":[1]}", GH_DPS_INDIVIDUAL, GH_ERR_BAD_JSON},
        {"{\"registrationId\":\"a\"," ATT ",\"iotHubs\":[\"h/x\"]}", GH_DPS_INDIVIDUAL, GH_ERR_ARG},
        {"{\"registrationId\":\"a\"," ATT ",\"iotHubs\":[\"a\",\"a\",\"a\",\"a\",\"a\",\"a\","
         "\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\"]}",
         GH_DPS_INDIVIDUAL, GH_ERR_TOO_LARGE},
        {"{\"registrationId\":\"a\"," ATT ",\"allocationPolicy\":\"geoLatency\"}",
         GH_DPS_INDIVIDUAL, GH_ERR_UNSUPPORTED},
        {"{\"registrationId\":\"a\"," ATT ",\"allocationPolicy\":\"custom\"}", GH_DPS_INDIVIDUAL,
         GH_ERR_UNSUPPORTED},
        {"{\"registrationId\":\"a\"," ATT ",\"allocationPolicy\":\"random\"}", GH_DPS_INDIVIDUAL,
         GH_ERR_ARG},
        {"{\"registrationId\":\"a\"," ATT ",\"initialTwin\":{\"tags\":[]}}", GH_DPS_INDIVIDUAL,
         GH_ERR_BAD_JSON},
        {"{\"registrationId\":\"a\"," ATT ",\"initialTwin\":{\"tags\":{\"a.b\":1}}}",
         GH_DPS_INDIVIDUAL, GH_ERR_ARG},
        {"{\"registrationId\":\"a\"," ATT ",\"provisioningStatus\":\"off\"}", GH_DPS_INDIVIDUAL,
         GH_ERR_ARG},
        {"{\"registrationId\":\"a\"," ATT ",\"reprovisionPolicy\":{\"migrateDeviceData\":\"no\"}}",
         GH_DPS_INDIVIDUAL, GH_ERR_BAD_JSON},
        {"{\"registrationId\":\"a\"," ATT
         ",\"etag\":\"0123456789012345678901234567890123456789012\"}",
         GH_DPS_INDIVIDUAL, GH_ERR_ARG},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *j = dx_json(cases[i].text);
        struct gh_dps_enrollment e;
        memset(&e, 0x5a, sizeof e);
        char err[GH_DPS_REASON_MAX] = "";
        gh_err rc = gh_dps_enrollment_from_json(j, cases[i].kind, &e, err, sizeof err);
        if (rc != cases[i].want) fprintf(stderr, "case %zu: %s -> %s\n", i, cases[i].text, err);
        assert_int_equal(rc, cases[i].want);
        assert_true(err[0] != '\0');
        assert_int_equal(((unsigned char *)&e)[0], 0x5a); /* untouched */
        json_decref(j);
    }
}

static void test_id_key_and_host(void **state)
{
    (void)state;
    char k[GH_DPS_ID_MAX + 1];
    assert_int_equal(gh_dps_id_key("Thermostat-01.A_b:c", k), GH_OK);
    assert_string_equal(k, "thermostat-01.a_b:c");
    assert_int_equal(gh_dps_id_key("bad id", k), GH_ERR_ARG);
    assert_int_equal(gh_dps_id_key("", k), GH_ERR_ARG);
    assert_true(gh_dps_host_valid("hub.example.test"));
    assert_false(gh_dps_host_valid(""));
    assert_false(gh_dps_host_valid("hub_x"));
}

static void test_documents(void **state)
{
    (void)state;
    char id[GH_DPS_OPID_LEN + 1];
    assert_int_equal(gh_dps_operation_id(id), GH_OK);
    assert_int_equal(strlen(id), GH_DPS_OPID_LEN);
    assert_int_equal(id[0], '4');
    assert_int_equal(id[1], '.');
    assert_int_equal(id[18], '.');
    assert_true(gh_dps_operation_id_valid(id));
    assert_false(gh_dps_operation_id_valid("a/b"));
    assert_false(gh_dps_operation_id_valid(""));

    json_t *j = NULL;
    assert_int_equal(gh_dps_doc_register(id, &j), GH_OK);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "assigning");
    assert_string_equal(json_string_value(json_object_get(j, "operationId")), id);
    json_decref(j);

    struct gh_dps_operation op = {.status = GH_DPS_ASSIGNING};
    snprintf(op.id, sizeof op.id, "%s", id);
    snprintf(op.registration_id, sizeof op.registration_id, "thermostat-01");
    int http = 0;
    assert_int_equal(gh_dps_doc_operation(&op, &j, &http), GH_OK);
    assert_int_equal(http, 202);
    json_t *rs = json_object_get(j, "registrationState");
    assert_string_equal(json_string_value(json_object_get(rs, "registrationId")), "thermostat-01");
    assert_string_equal(json_string_value(json_object_get(rs, "status")), "assigning");
    json_decref(j);

    struct gh_dps_registration r = {.status = GH_DPS_ASSIGNED,
                                    .substatus = GH_DPS_SUB_INITIAL,
                                    .created_ms = DX_T0,
                                    .updated_ms = DX_T0 + 2};
    snprintf(r.registration_id, sizeof r.registration_id, "thermostat-01");
    snprintf(r.device_id, sizeof r.device_id, "thermostat-01");
    snprintf(r.assigned_hub, sizeof r.assigned_hub, "hub.example.test");
    snprintf(r.etag, sizeof r.etag, "00000000-0000-0000-0000-000000000001");
    assert_int_equal(gh_dps_registration_to_json(&r, &op.result), GH_OK);
    assert_string_equal(json_string_value(json_object_get(op.result, "etag")),
                        "IjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMSI=");
    assert_string_equal(json_string_value(json_object_get(op.result, "substatus")),
                        "initialAssignment");
    assert_string_equal(json_string_value(json_object_get(op.result, "lastUpdatedDateTimeUtc")),
                        "2026-01-01T00:00:00.002Z");
    assert_null(json_object_get(op.result, "errorCode"));
    op.status = GH_DPS_ASSIGNED;
    assert_int_equal(gh_dps_doc_operation(&op, &j, &http), GH_OK);
    assert_int_equal(http, 200);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "assigned");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "registrationState"), "assignedHub")),
        "hub.example.test");
    json_decref(j);
    gh_dps_operation_cleanup(&op);

    /* Failed: errorCode, no hub/device. */
    r.status = GH_DPS_FAILED;
    r.error_code = GH_DPS_ERR_HUB_ASSIGN;
    r.device_id[0] = '\0';
    snprintf(r.error_message, sizeof r.error_message, "no");
    assert_int_equal(gh_dps_registration_to_json(&r, &j), GH_OK);
    assert_int_equal(json_integer_value(json_object_get(j, "errorCode")), 400209);
    assert_null(json_object_get(j, "assignedHub"));
    assert_null(json_object_get(j, "deviceId"));
    json_decref(j);

    assert_int_equal(gh_dps_doc_error(GH_DPS_ERR_UNAUTHORIZED, "Unauthorized.", DX_T0, &j, &http),
                     GH_OK);
    assert_int_equal(http, 401);
    assert_int_equal(json_integer_value(json_object_get(j, "errorCode")), 401002);
    assert_string_equal(json_string_value(json_object_get(j, "timestampUtc")),
                        "2026-01-01T00:00:00.000Z");
    assert_int_equal(strlen(json_string_value(json_object_get(j, "trackingId"))), 36);
    json_decref(j);
    assert_string_equal(gh_dps_status_name(GH_DPS_DISABLED), "disabled");
    assert_string_equal(gh_dps_substatus_name(GH_DPS_SUB_RESET), "deviceDataReset");
    assert_string_equal(gh_dps_substatus_name(GH_DPS_SUB_MIGRATED), "deviceDataMigrated");
}

static void test_register_body(void **state)
{
    (void)state;
    const char *ok = "{\"registrationId\":\"Thermostat-01\",\"payload\":{\"a\":1}}";
    assert_int_equal(gh_dps_register_body_check(ok, strlen(ok), "thermostat-01"), GH_OK);
    const char *other = "{\"registrationId\":\"thermostat-02\"}";
    assert_int_equal(gh_dps_register_body_check(other, strlen(other), "thermostat-01"), GH_ERR_ARG);
    assert_int_equal(gh_dps_register_body_check("{}", 2, "a"), GH_ERR_ARG);
    assert_int_equal(gh_dps_register_body_check(" ", 1, "a"), GH_ERR_BAD_JSON);
    assert_int_equal(gh_dps_register_body_check("[]", 2, "a"), GH_ERR_BAD_JSON);
    const char *num = "{\"registrationId\":1}";
    assert_int_equal(gh_dps_register_body_check(num, strlen(num), "a"), GH_ERR_BAD_JSON);
    const char *pl = "{\"registrationId\":\"a\",\"payload\":3}";
    assert_int_equal(gh_dps_register_body_check(pl, strlen(pl), "a"), GH_ERR_BAD_JSON);
    assert_int_equal(gh_dps_register_body_check(ok, GH_DPS_REGISTER_BODY_MAX + 1, "a"),
                     GH_ERR_TOO_LARGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_individual_symmetric),
        cmocka_unit_test(test_defaults_and_group_symmetric),
        cmocka_unit_test(test_x509_kinds),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_id_key_and_host),
        cmocka_unit_test(test_documents),
        cmocka_unit_test(test_register_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
