/* The provisioning service's linked hubs and standalone mode in the hub
 * configuration ([[dps.linked_hubs]], dps.standalone): parsed entries and
 * each refusal with its file:line. */
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

#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define CS(host) "\"HostName=" host ";SharedAccessKeyName=iothubowner;SharedAccessKey=" KEY "\""

static gh_err load_text(const char *text, struct gh_hub_config *cfg, struct gh_toml_error *err)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/gh-linkcfg-%d.toml", (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    gh_err rc = gh_hub_config_load(path, cfg, err);
    unlink(path);
    return rc;
}

static void test_entries(void **state)
{
    (void)state;
    static struct gh_hub_config cfg;
    struct gh_toml_error err;
    char why[256];
    assert_int_equal(
        load_text("hostname = \"prov.example.test\"\n"
                  "[dps]\nstandalone = true\nlinked_timeout = \"3s\"\n"
                  "assign_queue = 4\n"
                  "[[dps.linked_hubs]]\nconnection_string = " CS(
                      "b.example.test") "\n"
                                        "address = \"127.0.0.45\"\n"
                                        "[[dps.linked_hubs]]\nconnection_string = " CS(
                                            "c.example.test") "\n"
                                                              "port = 8443\nca = \"/etc/c.pem\"\n",
                  &cfg, &err),
        GH_OK);
    assert_true(cfg.dps_standalone);
    assert_int_equal(cfg.dps_linked_timeout, 3);
    assert_int_equal(cfg.dps_assign_queue, 4);
    assert_int_equal(cfg.dps_nlinked, 2);
    assert_string_equal(cfg.dps_linked[0].host_name, "b.example.test");
    assert_string_equal(cfg.dps_linked[0].policy, "iothubowner");
    assert_string_equal(cfg.dps_linked[0].key, KEY);
    assert_string_equal(cfg.dps_linked[0].address, "127.0.0.45");
    assert_int_equal(cfg.dps_linked[0].port, 443);
    assert_string_equal(cfg.dps_linked[0].ca, "");
    assert_int_equal(cfg.dps_linked[0].line, 6);
    assert_string_equal(cfg.dps_linked[1].address, "");
    assert_int_equal(cfg.dps_linked[1].port, 8443);
    assert_string_equal(cfg.dps_linked[1].ca, "/etc/c.pem");
    assert_int_equal(gh_hub_config_validate(&cfg, why, sizeof why), GH_OK);
    gh_hub_config_wipe(&cfg);
    assert_int_equal(cfg.dps_nlinked, 0);
    assert_string_equal(cfg.dps_linked[0].key, "");
    /* defaults: no linked hub, not standalone */
    assert_int_equal(gh_hub_config_load(NULL, &cfg, &err), GH_OK);
    assert_int_equal(cfg.dps_nlinked, 0);
    assert_false(cfg.dps_standalone);
    assert_int_equal(cfg.dps_linked_timeout, 10);
    assert_int_equal(cfg.dps_assign_queue, 256);
}

struct bad {
    const char *text;
    gh_err rc;
    unsigned line;
    const char *msg;
};

static void test_refusals(void **state)
{
    (void)state;
    static const struct bad cases[] = {
        {"[[dps.linked_hubs]]\naddress = \"127.0.0.45\"\n", GH_ERR_CONFIG_MISSING, 1,
         "dps.linked_hubs[0]: missing required key 'connection_string'"},
        {"[[dps.linked_hubs]]\nconnection_string = \"HostName=b.example.test;DeviceId=d;"
         "SharedAccessKey=" KEY "\"\n",
         GH_ERR_CONFIG_VALUE, 1, "dps.linked_hubs[0].connection_string: not a service"},
        {"[[dps.linked_hubs]]\nconnection_string = \"garbage\"\n", GH_ERR_CONFIG_VALUE, 1,
         "not a service connection string"},
        {"[[dps.linked_hubs]]\nconnection_string = " CS(
             "b.example.test") "\n"
                               "[[dps.linked_hubs]]\nconnection_string = " CS(
                                   "B.example.test") "\n",
         GH_ERR_CONFIG_VALUE, 3, "dps.linked_hubs[1]: HostName B.example.test is already linked"},
        {"hostname = \"hub.example.test\"\n[[dps.linked_hubs]]\nconnection_string = " CS(
             "HUB.example.test") "\n",
         GH_ERR_CONFIG_VALUE, 2, "is this hub's own name"},
        {"[[dps.linked_hubs]]\nconnection_string = " CS("dps.gatehouse.test") "\n",
         GH_ERR_CONFIG_VALUE, 1, "is this hub's own name"},
        {"[[dps.linked_hubs]]\nconnection_string = " CS(
             "b.example.test") "\n"
                               "address = \"b.example.test\"\n",
         GH_ERR_CONFIG_VALUE, 1, "dps.linked_hubs[0].address: 'b.example.test' is not an IPv4"},
        {"[[dps.linked_hubs]]\nconnection_string = " CS("b.example.test") "\nport = 0\n",
         GH_ERR_CONFIG_VALUE, 3, "dps.linked_hubs[0].port: expected integer 1..65535"},
        {"[[dps.linked_hubs]]\nconnection_string = " CS("b.example.test") "\nkey = \"x\"\n",
         GH_ERR_CONFIG_KEY, 3, "unknown key 'dps.linked_hubs[0].key'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        static struct gh_hub_config cfg;
        struct gh_toml_error err;
        gh_err rc = load_text(cases[i].text, &cfg, &err);
        if (rc != cases[i].rc || err.line != cases[i].line || !strstr(err.msg, cases[i].msg))
            print_error("case %zu: %s line %u: %s\n", i, gh_err_name(rc), err.line, err.msg);
        assert_int_equal(rc, cases[i].rc);
        assert_int_equal(err.line, cases[i].line);
        assert_non_null(strstr(err.msg, cases[i].msg));
        assert_non_null(strstr(err.file, "gh-linkcfg-"));
        /* a refused config keeps no key */
        assert_int_equal(cfg.dps_nlinked, 0);
    }
}

static void test_standalone_checks(void **state)
{
    (void)state;
    static struct gh_hub_config cfg;
    struct gh_toml_error err;
    char why[256];
    assert_int_equal(load_text("[dps]\nstandalone = true\n", &cfg, &err), GH_OK);
    assert_int_equal(gh_hub_config_validate(&cfg, why, sizeof why), GH_ERR_CONFIG_MISSING);
    assert_non_null(strstr(why, "dps.standalone needs"));
    assert_int_equal(
        load_text("[dps]\nenabled = false\n[[dps.linked_hubs]]\nconnection_string = " CS(
                      "b.example.test") "\n",
                  &cfg, &err),
        GH_OK);
    assert_int_equal(gh_hub_config_validate(&cfg, why, sizeof why), GH_ERR_CONFIG_VALUE);
    assert_non_null(strstr(why, "dps.enabled is false"));
    gh_hub_config_wipe(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entries),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_standalone_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
