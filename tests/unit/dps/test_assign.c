/* Assignment (PROTOCOL.md 4.6): the hub identity it creates, read back
 * through the hub store; initial twin; reprovisioning; allocation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dps/dps_assign.h"
#include "dps/dps_attest.h"
#include "dps_fixture.h"
#include "hub/twin.h"
#include "iothub/sas.h"

#define SCOPE "0ne00ABC123"
#define HUB "hub.example.test"
#define KEY_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_B "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
#define GROUP_KEY                                                                                  \
    "//79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eDf3t3c29rZ2NfW1dTT0tHQz87NzMvKycjHxsXEw8LBwA=="
#define DERIVED "LTZqcA915D8rTi9ZXmz4uhUV4fD4J0iuzNxCVx3wAEY="
#define TWIN                                                                                       \
    "\"initialTwin\":{\"tags\":{\"site\":\"plant-7\"},\"properties\":{\"desired\":{\"interval\":"  \
    "30}}}"

static int ca_changes;

static void on_ca_changed(void *ctx)
{
    (void)ctx;
    ca_changes++;
}

struct env {
    struct gh_dps_embedded emb;
    struct gh_dps_hub hub;
};

static void env_init(struct dx *f, struct env *e)
{
    e->emb = (struct gh_dps_embedded){f->hub, on_ca_changed, NULL};
    gh_dps_hub_embedded(&e->hub, HUB, &e->emb);
}

/* Attest with a SAS token for reg signed by key, then assign. */
static void register_sas(struct dx *f, struct env *e, const char *reg, const char *key,
                         struct gh_dps_registration *out)
{
    char sr[256], tok[1024];
    snprintf(sr, sizeof sr, SCOPE "/registrations/%s", reg);
    struct gh_writer w;
    gh_writer_init(&w, tok, sizeof tok);
    assert_int_equal(
        gh_sas_build(gh_slice_cstr(sr), gh_slice_cstr(key), 1767225600, "registration", &w), GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
    struct gh_dps_attest_in in = {.id_scope = gh_slice_cstr(SCOPE),
                                  .registration_id = reg,
                                  .sas_token = gh_slice_cstr(tok),
                                  .now_s = 1767225000,
                                  .skew_s = GH_SAS_SKEW_DEFAULT};
    struct gh_dps_attest a;
    assert_int_equal(gh_dps_attest(f->s, &in, &a), GH_OK);
    assert_int_not_equal(a.outcome, GH_DPS_ATTEST_DENIED);
    assert_int_equal(gh_dps_assign(f->s, &a, reg, &e->hub, 1, out), GH_OK);
    gh_dps_attest_cleanup(&a);
}

static json_t *twin_of(struct dx *f, const char *dev)
{
    json_t *v = NULL;
    assert_int_equal(gh_store_twin_service_view(f->hub, dev, "", &v), GH_OK);
    return v;
}

static void test_individual_symmetric(void **state)
{
    struct dx *f = *state;
    struct env e;
    env_init(f, &e);
    dx_put(
        f,
        "{\"registrationId\":\"dev-1\",\"deviceId\":\"thermo-1\",\"capabilities\":{\"iotEdge\":"
        "true},\"attestation\":{\"type\":\"symmetricKey\",\"symmetricKey\":{\"primaryKey\":\"" KEY_A
        "\",\"secondaryKey\":\"" KEY_B "\"}}," TWIN "}",
        GH_DPS_INDIVIDUAL);
    struct gh_dps_registration r;
    register_sas(f, &e, "dev-1", KEY_A, &r);
    assert_int_equal(r.status, GH_DPS_ASSIGNED);
    assert_int_equal(r.substatus, GH_DPS_SUB_INITIAL);
    assert_string_equal(r.assigned_hub, HUB);
    assert_string_equal(r.device_id, "thermo-1");
    assert_int_equal(r.enrollment_kind, GH_DPS_INDIVIDUAL);
    struct gh_identity id;
    assert_int_equal(gh_store_identity_get(f->hub, "thermo-1", "", &id), GH_OK);
    assert_int_equal(id.auth_type, GH_AUTH_SAS);
    assert_string_equal(id.primary_key, KEY_A);
    assert_string_equal(id.secondary_key, KEY_B);
    assert_true(id.iot_edge);
    assert_non_null(strstr(id.device_scope, "ms-azure-iot-edge://thermo-1-"));
    gh_identity_wipe(&id);
    json_t *v = twin_of(f, "thermo-1");
    assert_string_equal(json_string_value(json_object_get(json_object_get(v, "tags"), "site")),
                        "plant-7");
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(v, "properties"), "desired"), "interval")),
                     30);
    json_decref(v);
    struct gh_dps_registration back;
    assert_int_equal(gh_dps_store_registration_get(f->s, "DEV-1", &back), GH_OK);
    assert_string_equal(back.device_id, "thermo-1");
    assert_int_equal(back.status, GH_DPS_ASSIGNED);
}

static void test_reprovision(void **state)
{
    struct dx *f = *state;
    struct env e;
    env_init(f, &e);
    dx_put(f,
           "{\"enrollmentGroupId\":\"factory\",\"attestation\":{\"type\":\"symmetricKey\","
           "\"symmetricKey\":{\"primaryKey\":\"" GROUP_KEY "\",\"secondaryKey\":\"" KEY_A "\"}},"
           "\"iotHubHostName\":\"" HUB "\"," TWIN "}",
           GH_DPS_GROUP);
    struct gh_dps_registration r;
    register_sas(f, &e, "thermostat-01", DERIVED, &r);
    assert_int_equal(r.status, GH_DPS_ASSIGNED);
    assert_int_equal(r.enrollment_kind, GH_DPS_GROUP);
    struct gh_identity id;
    assert_int_equal(gh_store_identity_get(f->hub, "thermostat-01", "", &id), GH_OK);
    assert_string_equal(id.primary_key, DERIVED); /* the derived key, 2.7 */
    assert_string_not_equal(id.secondary_key, KEY_A);
    char gen1[sizeof id.generation_id];
    memcpy(gen1, id.generation_id, sizeof gen1);
    gh_identity_wipe(&id);

    /* Service changes the twin; re-registration with migrateDeviceData
     * (default true) keeps it. */
    json_t *patch = dx_json("{\"tags\":{\"site\":\"moved\"}}");
    assert_int_equal(
        gh_store_twin_service_patch(f->hub, "thermostat-01", "", patch, NULL, NULL, NULL), GH_OK);
    json_decref(patch);
    register_sas(f, &e, "thermostat-01", DERIVED, &r);
    assert_int_equal(r.substatus, GH_DPS_SUB_INITIAL);
    json_t *v = twin_of(f, "thermostat-01");
    assert_string_equal(json_string_value(json_object_get(json_object_get(v, "tags"), "site")),
                        "moved");
    json_decref(v);

    /* The device is deleted from the hub; the next registration re-creates
     * it with the initial twin. */
    assert_int_equal(gh_store_identity_delete(f->hub, "thermostat-01", "", NULL), GH_OK);
    register_sas(f, &e, "thermostat-01", DERIVED, &r);
    assert_int_equal(r.status, GH_DPS_ASSIGNED);
    assert_int_equal(r.substatus, GH_DPS_SUB_INITIAL);
    assert_int_equal(gh_store_identity_get(f->hub, "thermostat-01", "", &id), GH_OK);
    assert_string_not_equal(id.generation_id, gen1);
    assert_string_equal(id.primary_key, DERIVED);
    gh_identity_wipe(&id);
    v = twin_of(f, "thermostat-01");
    assert_string_equal(json_string_value(json_object_get(json_object_get(v, "tags"), "site")),
                        "plant-7");
    json_decref(v);

    /* migrateDeviceData false: the twin is reset to the initial twin. */
    dx_put(f,
           "{\"enrollmentGroupId\":\"factory\",\"attestation\":{\"type\":\"symmetricKey\","
           "\"symmetricKey\":{\"primaryKey\":\"" GROUP_KEY "\",\"secondaryKey\":\"" KEY_A "\"}},"
           "\"reprovisionPolicy\":{\"migrateDeviceData\":false}," TWIN "}",
           GH_DPS_GROUP);
    patch = dx_json("{\"tags\":{\"site\":\"moved\",\"extra\":1}}");
    assert_int_equal(
        gh_store_twin_service_patch(f->hub, "thermostat-01", "", patch, NULL, NULL, NULL), GH_OK);
    json_decref(patch);
    register_sas(f, &e, "thermostat-01", DERIVED, &r);
    assert_int_equal(r.substatus, GH_DPS_SUB_RESET);
    v = twin_of(f, "thermostat-01");
    json_t *tags = json_object_get(v, "tags");
    assert_string_equal(json_string_value(json_object_get(tags, "site")), "plant-7");
    assert_null(json_object_get(tags, "extra"));
    json_decref(v);

    /* Disabled group: operation state "disabled", the device is left alone. */
    dx_put(f,
           "{\"enrollmentGroupId\":\"factory\",\"provisioningStatus\":\"disabled\",\"attestation\":"
           "{\"type\":\"symmetricKey\",\"symmetricKey\":{\"primaryKey\":\"" GROUP_KEY
           "\",\"secondaryKey\":\"" KEY_A "\"}}}",
           GH_DPS_GROUP);
    register_sas(f, &e, "thermostat-01", DERIVED, &r);
    assert_int_equal(r.status, GH_DPS_DISABLED);
    assert_string_equal(r.assigned_hub, "");
    json_t *j = NULL;
    assert_int_equal(gh_dps_registration_to_json(&r, &j), GH_OK);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "disabled");
    json_decref(j);
}

static void test_no_hub_and_bad_device_id(void **state)
{
    struct dx *f = *state;
    struct env e;
    env_init(f, &e);
    dx_put(f,
           "{\"registrationId\":\"dev-2\",\"allocationPolicy\":\"static\",\"iotHubHostName\":"
           "\"other.example.test\",\"attestation\":{\"type\":\"symmetricKey\",\"symmetricKey\":{"
           "\"primaryKey\":\"" KEY_A "\",\"secondaryKey\":\"" KEY_B "\"}}}",
           GH_DPS_INDIVIDUAL);
    struct gh_dps_registration r;
    register_sas(f, &e, "dev-2", KEY_A, &r);
    assert_int_equal(r.status, GH_DPS_FAILED);
    assert_int_equal(r.error_code, GH_DPS_ERR_NO_HUB);
    struct gh_identity id;
    assert_int_equal(gh_store_identity_get(f->hub, "dev-2", "", &id), GH_ERR_NOT_FOUND);
    /* ':' is allowed in registration ids, not in device ids. */
    dx_put(f,
           "{\"registrationId\":\"dev:3\",\"attestation\":{\"type\":\"symmetricKey\","
           "\"symmetricKey\":{\"primaryKey\":\"" KEY_A "\",\"secondaryKey\":\"" KEY_B "\"}}}",
           GH_DPS_INDIVIDUAL);
    register_sas(f, &e, "dev:3", KEY_A, &r);
    assert_int_equal(r.status, GH_DPS_FAILED);
    assert_int_equal(r.error_code, GH_DPS_ERR_HUB_ASSIGN);
    /* A denied attestation cannot be assigned. */
    struct gh_dps_attest a;
    memset(&a, 0, sizeof a);
    a.outcome = GH_DPS_ATTEST_DENIED;
    assert_int_equal(gh_dps_assign(f->s, &a, "dev-2", &e.hub, 1, &r), GH_ERR_ARG);
}

static void test_hashed_allocation(void **state)
{
    (void)state;
    struct gh_dps_hub hubs[3] = {{.host_name = "a.example.test"},
                                 {.host_name = "b.example.test"},
                                 {.host_name = "c.example.test"}};
    struct gh_dps_enrollment en;
    dx_enrollment("{\"registrationId\":\"x\",\"attestation\":{\"type\":\"symmetricKey\"}}",
                  GH_DPS_INDIVIDUAL, &en);
    size_t seen[3] = {0};
    for (int i = 0; i < 60; i++) {
        char reg[32];
        snprintf(reg, sizeof reg, "device-%d", i);
        size_t a = 9, b = 9;
        assert_int_equal(gh_dps_allocate(&en, reg, hubs, 3, &a), GH_OK);
        /* Stable, and case-insensitive in the registration id. */
        reg[0] = 'D';
        assert_int_equal(gh_dps_allocate(&en, reg, hubs, 3, &b), GH_OK);
        assert_int_equal(a, b);
        seen[a]++;
    }
    assert_true(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
    /* Candidates restricted to the enrollment's iotHubs that are linked. */
    gh_dps_enrollment_cleanup(&en);
    dx_enrollment("{\"registrationId\":\"x\",\"attestation\":{\"type\":\"symmetricKey\"},"
                  "\"iotHubs\":[\"zz.example.test\",\"C.example.test\"]}",
                  GH_DPS_INDIVIDUAL, &en);
    size_t idx = 0;
    assert_int_equal(gh_dps_allocate(&en, "anything", hubs, 3, &idx), GH_OK);
    assert_int_equal(idx, 2);
    assert_int_equal(gh_dps_allocate(&en, "anything", hubs, 2, &idx), GH_ERR_NOT_FOUND);
    gh_dps_enrollment_cleanup(&en);
    /* Static with a single iotHubs entry. */
    dx_enrollment("{\"registrationId\":\"x\",\"attestation\":{\"type\":\"symmetricKey\"},"
                  "\"allocationPolicy\":\"static\",\"iotHubs\":[\"b.example.test\"]}",
                  GH_DPS_INDIVIDUAL, &en);
    assert_int_equal(gh_dps_allocate(&en, "anything", hubs, 3, &idx), GH_OK);
    assert_int_equal(idx, 1);
    gh_dps_enrollment_cleanup(&en);
}

static void test_x509_assignment(void **state)
{
    struct dx *f = *state;
    struct env e;
    env_init(f, &e);
    struct dx_pki p;
    dx_pki_init(&p);
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *leaf = dx_cert("dev-x", k, p.inter, p.int_key, false);
    X509 *gleaf = dx_cert("dev-g", k, p.inter, p.int_key, false);
    char *leaf_pem = dx_pem_json(leaf), *inter_pem = dx_pem_json(p.inter);
    char text[16384];
    snprintf(text, sizeof text,
             "{\"registrationId\":\"dev-x\",\"attestation\":{\"type\":\"x509\",\"x509\":"
             "{\"clientCertificates\":{\"primary\":{\"certificate\":\"%s\"}}}}}",
             leaf_pem);
    dx_put(f, text, GH_DPS_INDIVIDUAL);
    snprintf(text, sizeof text,
             "{\"enrollmentGroupId\":\"tenant\",\"attestation\":{\"type\":\"x509\",\"x509\":"
             "{\"signingCertificates\":{\"primary\":{\"certificate\":\"%s\"}}}}}",
             inter_pem);
    dx_put(f, text, GH_DPS_GROUP);

    struct gh_dps_attest_in in = {.id_scope = gh_slice_cstr(SCOPE),
                                  .registration_id = "dev-x",
                                  .cert = leaf,
                                  .now_s = (int64_t)time(NULL)};
    struct gh_dps_attest a;
    struct gh_dps_registration r;
    assert_int_equal(gh_dps_attest(f->s, &in, &a), GH_OK);
    assert_int_equal(a.outcome, GH_DPS_ATTEST_OK);
    assert_int_equal(gh_dps_assign(f->s, &a, "dev-x", &e.hub, 1, &r), GH_OK);
    gh_dps_attest_cleanup(&a);
    assert_int_equal(r.status, GH_DPS_ASSIGNED);
    struct gh_identity id;
    assert_int_equal(gh_store_identity_get(f->hub, "dev-x", "", &id), GH_OK);
    assert_int_equal(id.auth_type, GH_AUTH_SELF_SIGNED);
    char tp[65];
    dx_hex_sha256(leaf, tp);
    assert_string_equal(id.primary_thumbprint, tp);
    gh_identity_wipe(&id);

    ca_changes = 0;
    in.registration_id = "dev-g";
    in.cert = gleaf;
    assert_int_equal(gh_dps_attest(f->s, &in, &a), GH_OK);
    assert_int_equal(a.outcome, GH_DPS_ATTEST_OK);
    assert_int_equal(gh_dps_assign(f->s, &a, "dev-g", &e.hub, 1, &r), GH_OK);
    assert_int_equal(r.status, GH_DPS_ASSIGNED);
    assert_int_equal(gh_store_identity_get(f->hub, "dev-g", "", &id), GH_OK);
    assert_int_equal(id.auth_type, GH_AUTH_CA);
    gh_identity_wipe(&id);
    /* The group's CA is now a verified CA record of the hub. */
    char name[45];
    assert_int_equal(gh_dps_ca_record_name(a.enrollment.cert_pem[0], name), GH_OK);
    struct gh_ca_record rec;
    assert_int_equal(gh_store_ca_get(f->hub, name, &rec, NULL, NULL), GH_OK);
    assert_true(rec.verified);
    assert_int_equal(ca_changes, 1);
    /* Idempotent on the next registration. */
    assert_int_equal(gh_dps_assign(f->s, &a, "dev-g", &e.hub, 1, &r), GH_OK);
    assert_int_equal(ca_changes, 1);
    gh_dps_attest_cleanup(&a);

    free(leaf_pem);
    free(inter_pem);
    X509_free(leaf);
    X509_free(gleaf);
    EVP_PKEY_free(k);
    dx_pki_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_individual_symmetric, dx_setup, dx_teardown),
        cmocka_unit_test_setup_teardown(test_reprovision, dx_setup, dx_teardown),
        cmocka_unit_test_setup_teardown(test_no_hub_and_bad_device_id, dx_setup, dx_teardown),
        cmocka_unit_test(test_hashed_allocation),
        cmocka_unit_test_setup_teardown(test_x509_assignment, dx_setup, dx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
