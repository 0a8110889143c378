/* gatehouse edge configuration: cross-option checks (exact code and the key
 * named in the reason), reload comparison, and the generated reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "edge/config.h"
#include "edge_test_util.h"

#define SYM "symmetric_key = { value = \"" KEY "\" }\n"

static void expect_invalid(const char *text, gh_err want, const char *why_part)
{
    struct gh_edge_config cfg;
    struct gh_toml_error err;
    char why[512] = "";
    gh_err rc = load(text, &cfg, &err);
    if (rc != GH_OK)
        print_error("load: %s %u:%u %s\n", gh_err_name(rc), err.line, err.col, err.msg);
    assert_int_equal(rc, GH_OK);
    rc = gh_edge_config_validate(&cfg, why, sizeof why);
    if (rc != want || !strstr(why, why_part))
        print_error("validate: %s '%s'\n", gh_err_name(rc), why);
    assert_int_equal(rc, want);
    assert_non_null(strstr(why, why_part));
    gh_edge_config_cleanup(&cfg);
}

static void test_dps_missing(void **state)
{
    (void)state;
    expect_invalid(BASE "[provisioning]\nsource = \"dps\"\n", GH_ERR_CONFIG_MISSING,
                   "provisioning.global_endpoint");
    expect_invalid(BASE "[provisioning]\nsource = \"dps\"\nglobal_endpoint = \"https://d.test\"\n",
                   GH_ERR_CONFIG_MISSING, "provisioning.id_scope");
    expect_invalid(BASE "[provisioning]\nsource = \"dps\"\nglobal_endpoint = \"https://d.test\"\n"
                        "id_scope = \"0ne1\"\n",
                   GH_ERR_CONFIG_MISSING, "registration_id");
    expect_invalid(BASE
                   "[provisioning]\nsource = \"dps\"\nglobal_endpoint = \"https://d.test\"\n"
                   "id_scope = \"0ne1\"\n[provisioning.attestation]\nregistration_id = \"r\"\n",
                   GH_ERR_CONFIG_MISSING, "symmetric_key");
    expect_invalid(BASE "[provisioning]\nsource = \"dps\"\nglobal_endpoint = \"https://d.test\"\n"
                        "id_scope = \"0ne1\"\n[provisioning.attestation]\nmethod = \"x509\"\n"
                        "registration_id = \"r\"\nidentity_cert = \"/c.pem\"\n",
                   GH_ERR_CONFIG_MISSING, "identity_pk");
    expect_invalid(BASE "[provisioning]\nsource = \"dps\"\nglobal_endpoint = \"https://d.test\"\n"
                        "id_scope = \"0ne1\"\n[provisioning.attestation]\nmethod = \"x509\"\n"
                        "registration_id = \"r\"\nidentity_cert = \"/c.pem\"\n"
                        "identity_pk = \"/k.pem\"\n" SYM,
                   GH_ERR_CONFIG_VALUE, "symmetric_key is for method");
    expect_invalid(BASE DPS_HEAD SYM "identity_cert = \"/c.pem\"\n", GH_ERR_CONFIG_VALUE,
                   "are for method = \"x509\"");
}

static void test_dps_bad_values(void **state)
{
    (void)state;
    static const char *const bad[] = {"http://d.test",     "https://",
                                      "https://d.test:0",  "https://d.test:70000",
                                      "https://bad host/", "https://d.test:12x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[2048];
        snprintf(text, sizeof text,
                 "%s[provisioning]\nsource = \"dps\"\nglobal_endpoint = \"%s\"\n"
                 "id_scope = \"0ne1\"\n[provisioning.attestation]\nregistration_id = \"r\"\n%s",
                 BASE, bad[i], SYM);
        expect_invalid(text, GH_ERR_CONFIG_VALUE, "https://host");
    }
    expect_invalid(BASE "[provisioning]\nsource = \"dps\"\nglobal_endpoint = \"https://d.test\"\n"
                        "id_scope = \"0ne/1\"\n[provisioning.attestation]\nregistration_id = "
                        "\"r\"\n" SYM,
                   GH_ERR_CONFIG_VALUE, "provisioning.id_scope");
    expect_invalid(BASE "[provisioning]\nsource = \"dps\"\nglobal_endpoint = \"https://d.test\"\n"
                        "id_scope = \"0ne1\"\n[provisioning.attestation]\nregistration_id = "
                        "\"r 1\"\n" SYM,
                   GH_ERR_CONFIG_VALUE, "registration_id");
}

static void test_manual_missing(void **state)
{
    (void)state;
    expect_invalid(BASE "[provisioning]\nsource = \"manual\"\n", GH_ERR_CONFIG_MISSING,
                   "connection_string");
    expect_invalid(BASE "[provisioning]\nsource = \"manual\"\niothub_hostname = \"hub\"\n"
                        "device_id = \"e\"\n",
                   GH_ERR_CONFIG_VALUE, "with a dot");
    expect_invalid(BASE "[provisioning]\nsource = \"manual\"\niothub_hostname = \"hub.test\"\n",
                   GH_ERR_CONFIG_MISSING, "provisioning.device_id");
    expect_invalid(BASE MANUAL_HEAD, GH_ERR_CONFIG_MISSING, "device_id_pk");
    expect_invalid(BASE MANUAL_HEAD "[provisioning.authentication]\nmethod = \"x509\"\n",
                   GH_ERR_CONFIG_MISSING, "identity_cert and identity_pk");
    expect_invalid(BASE MANUAL_HEAD "[provisioning.authentication]\nmethod = \"x509\"\n"
                                    "identity_cert = \"/c\"\nidentity_pk = \"/k\"\n"
                                    "device_id_pk = { value = \"" KEY "\" }\n",
                   GH_ERR_CONFIG_VALUE, "device_id_pk is for method");
    expect_invalid(BASE MANUAL_HEAD "[provisioning.authentication]\nidentity_cert = \"/c\"\n"
                                    "device_id_pk = { value = \"" KEY "\" }\n",
                   GH_ERR_CONFIG_VALUE, "are for method = \"x509\"");
}

static void test_general_checks(void **state)
{
    (void)state;
    expect_invalid("hostname = \"edge..test\"\n" CA_SECTION DPS_HEAD SYM, GH_ERR_CONFIG_VALUE,
                   "hostname");
    expect_invalid("hostname = \"-edge.test\"\n" CA_SECTION DPS_HEAD SYM, GH_ERR_CONFIG_VALUE,
                   "hostname");
    expect_invalid(BASE DPS_HEAD SYM "[listen]\naddress = \"localhost\"\n", GH_ERR_CONFIG_VALUE,
                   "listen.address");
    expect_invalid(BASE DPS_HEAD SYM "[metrics]\naddress = \"x\"\n", GH_ERR_CONFIG_VALUE,
                   "metrics.address");
    expect_invalid(BASE DPS_HEAD SYM "[listen]\naddress = \"127.0.0.1\"\nmqtt_port = 9600\n"
                                     "[metrics]\naddress = \"127.0.0.1\"\n",
                   GH_ERR_CONFIG_VALUE, "metrics.port");
    expect_invalid(BASE DPS_HEAD SYM "[upstream]\nbackoff_min = \"2m\"\nbackoff_max = \"1m\"\n",
                   GH_ERR_CONFIG_VALUE, "backoff_min");
    expect_invalid(BASE DPS_HEAD SYM "[cache]\nsync_interval = \"10m\"\nmax_age = \"5m\"\n",
                   GH_ERR_CONFIG_VALUE, "cache.max_age");
    expect_invalid(BASE DPS_HEAD SYM "[tls]\nserver_cert_days = 7\nrenew_before = \"7d\"\n",
                   GH_ERR_CONFIG_VALUE, "renew_before");
}

static void test_changed(void **state)
{
    (void)state;
    struct gh_edge_config a, b;
    struct gh_toml_error err;
    assert_int_equal(load(BASE DPS_HEAD SYM "[hosts]\n\"hub.test\" = \"127.0.0.1\"\n", &a, &err),
                     GH_OK);
    /* Reloadable only: log level, trust bundle, edge CA. */
    assert_int_equal(load("hostname = \"edge.gatehouse.test\"\ntrust_bundle_cert = \"/t.pem\"\n"
                          "[edge_ca]\ncert = \"/c.pem\"\npk = \"/k.pem\"\n" DPS_HEAD SYM
                          "[log]\nlevel = \"debug\"\n[hosts]\n\"hub.test\" = \"127.0.0.1\"\n",
                          &b, &err),
                     GH_OK);
    assert_null(gh_edge_config_changed(&a, &b));
    gh_edge_config_cleanup(&b);
    assert_int_equal(load(BASE DPS_HEAD SYM "[listen]\nmqtt_port = 1\n[hosts]\n"
                                            "\"hub.test\" = \"127.0.0.1\"\n",
                          &b, &err),
                     GH_OK);
    assert_string_equal(gh_edge_config_changed(&a, &b), "listen.mqtt_port");
    gh_edge_config_cleanup(&b);
    assert_int_equal(load(BASE DPS_HEAD SYM "[hosts]\n\"hub.test\" = \"127.0.0.2\"\n", &b, &err),
                     GH_OK);
    assert_string_equal(gh_edge_config_changed(&a, &b), "hosts");
    gh_edge_config_cleanup(&b);
    assert_int_equal(load(BASE DPS_HEAD SYM, &b, &err), GH_OK);
    assert_string_equal(gh_edge_config_changed(&a, &b), "hosts");
    gh_edge_config_cleanup(&b);
    assert_int_equal(load(BASE DPS_HEAD "symmetric_key = { value = \"AAECAwQFBgcICQoLDA0ODw==\" }\n"
                                        "[hosts]\n\"hub.test\" = \"127.0.0.1\"\n",
                          &b, &err),
                     GH_OK);
    assert_string_equal(gh_edge_config_changed(&a, &b), "provisioning.attestation.symmetric_key");
    gh_edge_config_cleanup(&b);
    gh_edge_config_cleanup(&a);
}

static char *generated_doc(size_t *len)
{
    char *gen = NULL;
    FILE *m = open_memstream(&gen, len);
    assert_non_null(m);
    assert_int_equal(gh_edge_config_print_doc(m), GH_OK);
    fclose(m);
    return gen;
}

static void test_doc_lists_every_option(void **state)
{
    (void)state;
    size_t len = 0;
    char *buf = generated_doc(&len);
    const char *names[] = {"`hostname`",
                           "`trust_bundle_cert`",
                           "`edge_ca.cert`",
                           "`provisioning.attestation.symmetric_key`",
                           "`provisioning.authentication.device_id_pk`",
                           "`agent`",
                           "`storage.data_dir`",
                           "`metrics.port`",
                           "`cache.max_age`",
                           "`hosts`",
                           "`tls.renew_before`",
                           "`auto_reprovisioning_mode`"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_non_null(strstr(buf, names[i]));
    free(buf);
}

/* docs/edge-config.md must end with exactly the generated table. */
static void test_doc_file_is_current(void **state)
{
    (void)state;
    const char *src = getenv("GH_SOURCE_DIR");
    if (!src) skip();
    char p[1024];
    snprintf(p, sizeof p, "%s/docs/edge-config.md", src);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    static char doc[65536];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[n] = '\0';
    size_t len = 0;
    char *gen = generated_doc(&len);
    assert_true(n >= len);
    /* Regenerate with: gatehouse edge --print-config-doc (see the file's header). */
    assert_string_equal(doc + (n - len), gen);
    free(gen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dps_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dps_bad_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manual_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_general_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed, setup, teardown),
        cmocka_unit_test(test_doc_lists_every_option),
        cmocka_unit_test(test_doc_file_is_current),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
