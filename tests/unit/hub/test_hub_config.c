/* gatehouse hub configuration: defaults, strictness, cross-option checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hub/config.h"

static char path[64];

static gh_err load_text(const char *text, struct gh_hub_config *cfg, struct gh_toml_error *err)
{
    snprintf(path, sizeof path, "/tmp/gh-hubcfg-%d.toml", (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    gh_err rc = gh_hub_config_load(path, cfg, err);
    unlink(path);
    return rc;
}

static void test_defaults(void **state)
{
    (void)state;
    struct gh_hub_config cfg;
    struct gh_toml_error err;
    char why[256];
    assert_int_equal(gh_hub_config_load(NULL, &cfg, &err), GH_OK);
    assert_string_equal(cfg.hostname, "hub.gatehouse.test");
    assert_int_equal(cfg.mqtt_port, 8883);
    assert_int_equal(cfg.https_port, 443);
    assert_int_equal(cfg.max_message_size, 256 * 1024);
    assert_int_equal(cfg.sas_skew, 300);
    assert_int_equal(cfg.c2d_default_ttl, 3600);
    assert_int_equal(gh_hub_config_validate(&cfg, why, sizeof why), GH_OK);
}

static void test_file_values(void **state)
{
    (void)state;
    struct gh_hub_config cfg;
    struct gh_toml_error err;
    assert_int_equal(load_text("hostname = \"hub.example.test\"\n"
                               "[listen]\naddress = \"127.0.0.2\"\nmqtt_port = 18883\n"
                               "[telemetry]\nmax_age = \"2d\"\nmax_bytes = \"10MiB\"\n",
                               &cfg, &err),
                     GH_OK);
    assert_string_equal(cfg.listen_address, "127.0.0.2");
    assert_int_equal(cfg.mqtt_port, 18883);
    assert_int_equal(cfg.telemetry_max_age, 2 * 86400);
    assert_int_equal(cfg.telemetry_max_bytes, 10 * 1024 * 1024);
}

static void test_unknown_key_position(void **state)
{
    (void)state;
    struct gh_hub_config cfg;
    struct gh_toml_error err;
    assert_int_equal(load_text("hostname = \"hub.example.test\"\n[listen]\n  mqtt_prot = 1\n", &cfg,
                               &err),
                     GH_ERR_CONFIG_KEY);
    assert_int_equal(err.line, 3);
    assert_int_equal(err.col, 3);
    assert_non_null(strstr(err.msg, "listen.mqtt_prot"));
}

static void test_bad_value(void **state)
{
    (void)state;
    struct gh_hub_config cfg;
    struct gh_toml_error err;
    assert_int_equal(load_text("[listen]\nmqtt_port = 70000\n", &cfg, &err), GH_ERR_CONFIG_VALUE);
    assert_int_equal(err.line, 2);
    assert_int_equal(load_text("[limits]\nmax_message_size = \"2MiB\"\n", &cfg, &err),
                     GH_ERR_CONFIG_VALUE);
}

static void test_cross_checks(void **state)
{
    (void)state;
    struct gh_hub_config cfg;
    struct gh_toml_error err;
    char why[256];
    assert_int_equal(load_text("hostname = \"localhost\"\n", &cfg, &err), GH_OK);
    assert_int_equal(gh_hub_config_validate(&cfg, why, sizeof why), GH_ERR_CONFIG_VALUE);
    assert_non_null(strstr(why, "dot"));
    assert_int_equal(load_text("[tls]\ncert = \"a.pem\"\n", &cfg, &err), GH_OK);
    assert_int_equal(gh_hub_config_validate(&cfg, why, sizeof why), GH_ERR_CONFIG_VALUE);
    assert_int_equal(load_text("[listen]\nmqtt_port = 443\n", &cfg, &err), GH_OK);
    assert_int_equal(gh_hub_config_validate(&cfg, why, sizeof why), GH_ERR_CONFIG_VALUE);
}

static void test_doc_lists_every_option(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(gh_hub_config_print_doc(f), GH_OK);
    fclose(f);
    const char *names[] = {"hostname", "data_dir", "listen.address", "listen.mqtt_port",
                           "listen.https_port", "tls.ca_cert", "limits.max_message_size",
                           "telemetry.max_age", "c2d.default_ttl", "auth.sas_clock_skew"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_non_null(strstr(buf, names[i]));
    free(buf);
}

/* docs/hub-config.md must end with exactly the generated table. */
static void test_doc_file_is_current(void **state)
{
    (void)state;
    const char *src = getenv("GH_SOURCE_DIR");
    if (!src) skip();
    char p[1024];
    snprintf(p, sizeof p, "%s/docs/hub-config.md", src);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    static char doc[65536];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[n] = '\0';
    char *gen = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&gen, &len);
    assert_int_equal(gh_hub_config_print_doc(m), GH_OK);
    fclose(m);
    assert_true(n >= len);
    /* Regenerate with: gatehouse hub --print-config-doc (see the file's header). */
    assert_string_equal(doc + (n - len), gen);
    free(gen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),        cmocka_unit_test(test_file_values),
        cmocka_unit_test(test_unknown_key_position), cmocka_unit_test(test_bad_value),
        cmocka_unit_test(test_cross_checks),    cmocka_unit_test(test_doc_lists_every_option),
        cmocka_unit_test(test_doc_file_is_current),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
