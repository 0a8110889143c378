/* Attestation decision (PROTOCOL.md 2.7, 3.4, 4.2.1, 4.5): every success
 * and every refusal with its exact outcome and code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dps/dps_attest.h"
#include "dps/dps_doc.h"
#include "dps_fixture.h"
#include "iothub/sas.h"

#define SCOPE "0ne00ABC123"
#define KEY_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_B "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
/* PROTOCOL.md 2.5: group key 0xff..0xc0 and its derived key for
 * thermostat-01, and the DPS signature made with it. */
#define GROUP_KEY                                                                                  \
    "//79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eDf3t3c29rZ2NfW1dTT0tHQz87NzMvKycjHxsXEw8LBwA=="
#define DERIVED "LTZqcA915D8rTi9ZXmz4uhUV4fD4J0iuzNxCVx3wAEY="
#define VECTOR_TOKEN                                                                               \
    "SharedAccessSignature sr=0ne00ABC123/registrations/thermostat-01&sig="                        \
    "scn37UR6p%2BGlhXCEhUgBaUVgngOeFeXM9BAcrXUyGGo%3D&skn=registration&se=1767225600"
#define NOW_S INT64_C(1767225000)

static char token[1024];

static const char *make_token(const char *reg, const char *key, int64_t se)
{
    char sr[256];
    snprintf(sr, sizeof sr, SCOPE "/registrations/%s", reg);
    struct gh_writer w;
    gh_writer_init(&w, token, sizeof token);
    assert_int_equal(gh_sas_build(gh_slice_cstr(sr), gh_slice_cstr(key), se, "registration", &w),
                     GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
    return token;
}

static void attest_sas(struct dx *f, const char *reg, const char *tok, struct gh_dps_attest *a)
{
    struct gh_dps_attest_in in = {.id_scope = gh_slice_cstr(SCOPE),
                                  .registration_id = reg,
                                  .sas_token = gh_slice_cstr(tok),
                                  .now_s = NOW_S,
                                  .skew_s = GH_SAS_SKEW_DEFAULT};
    assert_int_equal(gh_dps_attest(f->s, &in, a), GH_OK);
}

static void expect_denied(struct gh_dps_attest *a)
{
    assert_int_equal(a->outcome, GH_DPS_ATTEST_DENIED);
    assert_int_equal(a->error_code, GH_DPS_ERR_UNAUTHORIZED);
    assert_string_equal(a->device_key[0], "");
    gh_dps_attest_cleanup(a);
}

static void test_group_vector(void **state)
{
    struct dx *f = *state;
    dx_put(f,
           "{\"enrollmentGroupId\":\"a-other\",\"attestation\":{\"type\":\"symmetricKey\","
           "\"symmetricKey\":{\"primaryKey\":\"" KEY_A "\",\"secondaryKey\":\"" KEY_B "\"}}}",
           GH_DPS_GROUP);
    dx_put(f,
           "{\"enrollmentGroupId\":\"factory\",\"attestation\":{\"type\":\"symmetricKey\","
           "\"symmetricKey\":{\"primaryKey\":\"" KEY_B "\",\"secondaryKey\":\"" GROUP_KEY "\"}}}",
           GH_DPS_GROUP);
    struct gh_dps_attest a;
    attest_sas(f, "thermostat-01", VECTOR_TOKEN, &a);
    assert_int_equal(a.outcome, GH_DPS_ATTEST_OK);
    assert_int_equal(a.enrollment.kind, GH_DPS_GROUP);
    assert_string_equal(a.enrollment.id, "factory");
    assert_string_equal(a.device_key[1], DERIVED);
    assert_int_equal(a.expires_s, 1767225600);
    gh_dps_attest_cleanup(&a);
    /* Same token, another registration id in the URL: audience mismatch. */
    attest_sas(f, "thermostat-02", VECTOR_TOKEN, &a);
    expect_denied(&a);
    /* Expired (beyond the skew). */
    struct gh_dps_attest_in in = {.id_scope = gh_slice_cstr(SCOPE),
                                  .registration_id = "thermostat-01",
                                  .sas_token = gh_slice_cstr(VECTOR_TOKEN),
                                  .now_s = 1767225600 + GH_SAS_SKEW_DEFAULT + 1,
                                  .skew_s = GH_SAS_SKEW_DEFAULT};
    assert_int_equal(gh_dps_attest(f->s, &in, &a), GH_OK);
    expect_denied(&a);
    /* Wrong scope. */
    in.now_s = NOW_S;
    in.id_scope = gh_slice_cstr("0ne00FFFFFF");
    assert_int_equal(gh_dps_attest(f->s, &in, &a), GH_OK);
    expect_denied(&a);
    /* Upper-case registration id in the URL: the key was derived from the
     * lower-case id, which is tried second. */
    char derived_lower[64];
    snprintf(derived_lower, sizeof derived_lower, "%s", DERIVED);
    attest_sas(f, "Thermostat-01", make_token("Thermostat-01", derived_lower, 1767225600), &a);
    assert_int_equal(a.outcome, GH_DPS_ATTEST_OK);
    assert_string_equal(a.derived_from, "thermostat-01");
    gh_dps_attest_cleanup(&a);
    /* A token signed with the group key itself is refused. */
    attest_sas(f, "thermostat-01", make_token("thermostat-01", GROUP_KEY, 1767225600), &a);
    expect_denied(&a);
    /* Garbage token, wrong policy name. */
    attest_sas(f, "thermostat-01", "SharedAccessSignature sr=x", &a);
    expect_denied(&a);
    char sr[] = SCOPE "/registrations/thermostat-01";
    struct gh_writer w;
    gh_writer_init(&w, token, sizeof token);
    assert_int_equal(
        gh_sas_build(gh_slice_cstr(sr), gh_slice_cstr(DERIVED), 1767225600, "owner", &w), GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
    attest_sas(f, "thermostat-01", token, &a);
    expect_denied(&a);
    /* Disabling the group: the correct credential now gives DISABLED. */
    dx_put(f,
           "{\"enrollmentGroupId\":\"factory\",\"provisioningStatus\":\"disabled\","
           "\"attestation\":{\"type\":\"symmetricKey\",\"symmetricKey\":{\"primaryKey\":\"" KEY_B
           "\",\"secondaryKey\":\"" GROUP_KEY "\"}}}",
           GH_DPS_GROUP);
    attest_sas(f, "thermostat-01", VECTOR_TOKEN, &a);
    assert_int_equal(a.outcome, GH_DPS_ATTEST_DISABLED);
    assert_int_equal(a.error_code, 0);
    gh_dps_attest_cleanup(&a);
}

static void test_individual_symmetric(void **state)
{
    struct dx *f = *state;
    dx_put(f,
           "{\"registrationId\":\"Dev-1\",\"attestation\":{\"type\":\"symmetricKey\","
           "\"symmetricKey\":{\"primaryKey\":\"" KEY_A "\",\"secondaryKey\":\"" KEY_B "\"}}}",
           GH_DPS_INDIVIDUAL);
    /* A group that would accept the same key is not consulted when the
     * individual enrollment exists. */
    dx_put(f,
           "{\"enrollmentGroupId\":\"g\",\"attestation\":{\"type\":\"symmetricKey\","
           "\"symmetricKey\":{\"primaryKey\":\"" KEY_A "\",\"secondaryKey\":\"" KEY_A "\"}}}",
           GH_DPS_GROUP);
    struct gh_dps_attest a;
    attest_sas(f, "dev-1", make_token("dev-1", KEY_B, 1767225600), &a);
    assert_int_equal(a.outcome, GH_DPS_ATTEST_OK);
    assert_int_equal(a.enrollment.kind, GH_DPS_INDIVIDUAL);
    assert_string_equal(a.device_key[0], KEY_A);
    assert_string_equal(a.device_key[1], KEY_B);
    gh_dps_attest_cleanup(&a);
    /* Wrong key: denied, even though nothing else is wrong. */
    char derived[64];
    struct gh_writer w;
    gh_writer_init(&w, derived, sizeof derived);
    assert_int_equal(gh_derive_device_key(gh_slice_cstr(KEY_A), gh_slice_cstr("dev-1"), &w), GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
    attest_sas(f, "dev-1", make_token("dev-1", derived, 1767225600), &a);
    expect_denied(&a);
    /* Unknown registration (no individual, the group key does not match). */
    attest_sas(f, "dev-9", make_token("dev-9", KEY_B, 1767225600), &a);
    expect_denied(&a);
    /* Invalid registration id, no credentials at all. */
    attest_sas(f, "a b", make_token("x", KEY_B, 1767225600), &a);
    expect_denied(&a);
    attest_sas(f, "dev-1", "", &a);
    expect_denied(&a);
    /* A certificate against a symmetric individual enrollment. */
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *self = dx_cert("dev-1", k, NULL, NULL, false);
    struct gh_dps_attest_in in = {
        .id_scope = gh_slice_cstr(SCOPE), .registration_id = "dev-1", .cert = self, .now_s = NOW_S};
    assert_int_equal(gh_dps_attest(f->s, &in, &a), GH_OK);
    expect_denied(&a);
    X509_free(self);
    EVP_PKEY_free(k);
    /* Disabled individual: DISABLED after the key verified; wrong key still
     * denied (the state does not leak). */
    dx_put(f,
           "{\"registrationId\":\"Dev-1\",\"provisioningStatus\":\"disabled\",\"attestation\":"
           "{\"type\":\"symmetricKey\",\"symmetricKey\":{\"primaryKey\":\"" KEY_A
           "\",\"secondaryKey\":\"" KEY_B "\"}}}",
           GH_DPS_INDIVIDUAL);
    attest_sas(f, "dev-1", make_token("dev-1", KEY_A, 1767225600), &a);
    assert_int_equal(a.outcome, GH_DPS_ATTEST_DISABLED);
    gh_dps_attest_cleanup(&a);
    attest_sas(f, "dev-1", make_token("dev-1", derived, 1767225600), &a);
    expect_denied(&a);
}

static void attest_cert(struct dx *f, const char *reg, X509 *leaf, STACK_OF(X509) * chain,
                        struct gh_dps_attest *a)
{
    struct gh_dps_attest_in in = {.id_scope = gh_slice_cstr(SCOPE),
                                  .registration_id = reg,
                                  .cert = leaf,
                                  .chain = chain,
                                  .now_s = (int64_t)time(NULL)};
    assert_int_equal(gh_dps_attest(f->s, &in, a), GH_OK);
}

static void test_x509(void **state)
{
    struct dx *f = *state;
    struct dx_pki p;
    dx_pki_init(&p);
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *leaf = dx_cert("dev-x", k, p.inter, p.int_key, false);
    X509 *leaf2 = dx_cert("dev-x", k, p.inter, p.int_key, false); /* same name, other cert */
    X509 *group_leaf = dx_cert("dev-g", k, p.inter, p.int_key, false);
    X509 *stranger = dx_cert("dev-g", k, p.other, p.other_key, false);
    char *leaf_pem = dx_pem_json(leaf), *inter_pem = dx_pem_json(p.inter),
         *root_pem = dx_pem_json(p.root);
    char text[16384];
    snprintf(text, sizeof text,
             "{\"registrationId\":\"dev-x\",\"attestation\":{\"type\":\"x509\",\"x509\":"
             "{\"clientCertificates\":{\"primary\":{\"certificate\":\"%s\"}}}}}",
             leaf_pem);
    dx_put(f, text, GH_DPS_INDIVIDUAL);
    struct gh_dps_attest a;
    attest_cert(f, "dev-x", leaf, NULL, &a);
    assert_int_equal(a.outcome, GH_DPS_ATTEST_OK);
    assert_int_equal(a.enrollment.attestation, GH_DPS_ATT_X509);
    assert_int_equal(a.expires_s, 0);
    gh_dps_attest_cleanup(&a);
    attest_cert(f, "dev-x", leaf2, NULL, &a); /* not the enrolled certificate */
    expect_denied(&a);
    attest_cert(f, "DEV-X", leaf, NULL, &a); /* CN must equal the id byte for byte */
    expect_denied(&a);

    /* Group under the intermediate (partial chain) and one under the root. */
    snprintf(text, sizeof text,
             "{\"enrollmentGroupId\":\"tenant\",\"attestation\":{\"type\":\"x509\",\"x509\":"
             "{\"signingCertificates\":{\"primary\":{\"certificate\":\"%s\"}}}}}",
             inter_pem);
    dx_put(f, text, GH_DPS_GROUP);
    attest_cert(f, "dev-g", group_leaf, NULL, &a);
    assert_int_equal(a.outcome, GH_DPS_ATTEST_OK);
    assert_string_equal(a.enrollment.id, "tenant");
    gh_dps_attest_cleanup(&a);
    attest_cert(f, "dev-g", stranger, NULL, &a); /* not under the group CA */
    expect_denied(&a);
    attest_cert(f, "dev-h", group_leaf, NULL, &a); /* CN is not the id */
    expect_denied(&a);

    /* Root-anchored group: the leaf needs the intermediate in its chain. */
    assert_int_equal(gh_dps_store_enrollment_delete(f->s, GH_DPS_GROUP, "tenant", NULL), GH_OK);
    snprintf(text, sizeof text,
             "{\"enrollmentGroupId\":\"root-group\",\"attestation\":{\"type\":\"x509\",\"x509\":"
             "{\"signingCertificates\":{\"primary\":{\"certificate\":\"%s\"}}}}}",
             root_pem);
    dx_put(f, text, GH_DPS_GROUP);
    attest_cert(f, "dev-g", group_leaf, NULL, &a);
    expect_denied(&a);
    STACK_OF(X509) *chain = sk_X509_new_null();
    sk_X509_push(chain, p.inter);
    attest_cert(f, "dev-g", group_leaf, chain, &a);
    assert_int_equal(a.outcome, GH_DPS_ATTEST_OK);
    gh_dps_attest_cleanup(&a);
    sk_X509_free(chain);

    free(leaf_pem);
    free(inter_pem);
    free(root_pem);
    X509_free(leaf);
    X509_free(leaf2);
    X509_free(group_leaf);
    X509_free(stranger);
    EVP_PKEY_free(k);
    dx_pki_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_group_vector, dx_setup, dx_teardown),
        cmocka_unit_test_setup_teardown(test_individual_symmetric, dx_setup, dx_teardown),
        cmocka_unit_test_setup_teardown(test_x509, dx_setup, dx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
