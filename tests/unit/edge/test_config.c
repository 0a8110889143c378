/* gatehouse edge configuration: complete files of each provisioning kind,
 * defaults, key forms, file URIs, connection strings, [hosts], and the
 * exact error code and position of every bad case. Cross-option checks,
 * reload comparison and the generated doc are in test_config_validate.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "edge/config.h"
#include "edge_test_util.h"

static void test_dps_symmetric_key_inline(void **state)
{
    (void)state;
    struct gh_edge_config cfg;
    struct gh_toml_error err;
    char why[256];
    assert_int_equal(load(BASE DPS_HEAD "symmetric_key = { value = \"" KEY "\" }\n", &cfg, &err),
                     GH_OK);
    assert_string_equal(cfg.hostname, "edge.gatehouse.test");
    assert_string_equal(cfg.edge_ca_cert, "/etc/gh/edge-ca.pem");
    assert_string_equal(cfg.edge_ca_pk, "/etc/gh/edge ca.key.pem");
    assert_int_equal(cfg.prov_source, GH_EDGE_PROV_DPS);
    assert_string_equal(cfg.global_endpoint, "https://dps.gatehouse.test");
    assert_string_equal(cfg.id_scope, "0ne00000001");
    assert_int_equal(cfg.attest_method, GH_EDGE_ATTEST_SYMMETRIC_KEY);
    assert_string_equal(cfg.registration_id, "edge-01");
    assert_string_equal(cfg.symmetric_key, KEY);
    assert_int_equal(gh_edge_config_validate(&cfg, why, sizeof why), GH_OK);
    gh_edge_config_cleanup(&cfg);
    assert_int_equal(cfg.symmetric_key[0], 0);
}

static void test_defaults(void **state)
{
    (void)state;
    struct gh_edge_config cfg;
    struct gh_toml_error err;
    assert_int_equal(load(BASE DPS_HEAD "symmetric_key = { value = \"" KEY "\" }\n", &cfg, &err),
                     GH_OK);
    assert_string_equal(cfg.data_dir, home_dir());
    assert_string_equal(cfg.trust_bundle_cert, "");
    assert_int_equal(cfg.reprovisioning, GH_EDGE_REPROV_DYNAMIC);
    assert_int_equal(cfg.log_level, 1);
    assert_string_equal(cfg.listen_address, "0.0.0.0");
    assert_int_equal(cfg.mqtt_port, 8883);
    assert_string_equal(cfg.metrics_address, "127.0.0.1");
    assert_int_equal(cfg.metrics_port, 9600);
    assert_int_equal(cfg.upstream_mqtt_port, 8883);
    assert_int_equal(cfg.upstream_https_port, 443);
    assert_int_equal(cfg.upstream_keepalive, 60);
    assert_int_equal(cfg.upstream_window, 1024);
    assert_int_equal(cfg.backoff_min_ms, 1000);
    assert_int_equal(cfg.backoff_max_ms, 60000);
    assert_int_equal(cfg.max_children, 1000);
    assert_int_equal(cfg.max_message_size, 256 * 1024);
    assert_int_equal(cfg.max_connect_size, 8 * 1024);
    assert_int_equal(cfg.handshake_timeout, 10);
    assert_int_equal(cfg.keepalive_max, 1767);
    assert_int_equal(cfg.sas_skew, 300);
    assert_int_equal(cfg.cache_sync_interval, 300);
    assert_int_equal(cfg.cache_max_age, 0);
    assert_int_equal(cfg.server_cert_days, 90);
    assert_int_equal(cfg.server_cert_renew, 7 * 86400);
    assert_int_equal(cfg.nhosts, 0);
    gh_edge_config_cleanup(&cfg);
}

static void test_gatehouse_sections(void **state)
{
    (void)state;
    struct gh_edge_config cfg;
    struct gh_toml_error err;
    char why[256];
    assert_int_equal(load("hostname = \"edge.gatehouse.test\"\n"
                          "auto_reprovisioning_mode = \"OnErrorOnly\"\n"
                          "[agent]\nname = \"edgeAgent\"\ntype = \"docker\"\n"
                          "[agent.config]\nimage = \"mcr.microsoft.com/azureiotedge-agent:1.4\"\n"
                          "[agent.env]\nUpstreamProtocol = \"Mqtt\"\n" CA_SECTION DPS_HEAD
                          "symmetric_key = { value = \"" KEY "\" }\n"
                          "[storage]\ndata_dir = \"data\"\n[log]\nlevel = \"debug\"\n"
                          "[listen]\naddress = \"127.0.0.51\"\nmqtt_port = 18883\n"
                          "[metrics]\naddress = \"::1\"\nport = 0\n"
                          "[upstream]\nmqtt_port = 8884\nhttps_port = 8443\nkeepalive = \"2m\"\n"
                          "window = 8\nbackoff_min = \"2s\"\nbackoff_max = \"30s\"\n"
                          "[limits]\nmax_children = 10\nmax_message_size = \"64KiB\"\n"
                          "sas_skew = 0\n[cache]\nsync_interval = \"1m\"\nmax_age = \"7d\"\n"
                          "[tls]\nserver_cert_days = 30\nrenew_before = \"2d\"\n"
                          "[hosts]\n\"hub.gatehouse.test\" = \"127.0.0.50\"\n"
                          "\"DPS.gatehouse.test\" = \"::1\"\n",
                          &cfg, &err),
                     GH_OK);
    char want[1100];
    snprintf(want, sizeof want, "%s/data", home_dir());
    assert_string_equal(cfg.data_dir, want);
    assert_int_equal(cfg.reprovisioning, GH_EDGE_REPROV_ON_ERROR);
    assert_int_equal(cfg.log_level, 0);
    assert_string_equal(cfg.listen_address, "127.0.0.51");
    assert_int_equal(cfg.mqtt_port, 18883);
    assert_int_equal(cfg.metrics_port, 0);
    assert_int_equal(cfg.upstream_https_port, 8443);
    assert_int_equal(cfg.upstream_keepalive, 120);
    assert_int_equal(cfg.backoff_min_ms, 2000);
    assert_int_equal(cfg.backoff_max_ms, 30000);
    assert_int_equal(cfg.max_message_size, 64 * 1024);
    assert_int_equal(cfg.cache_max_age, 7 * 86400);
    assert_int_equal(cfg.server_cert_renew, 2 * 86400);
    assert_int_equal(cfg.nhosts, 2);
    assert_string_equal(gh_edge_config_resolve(&cfg, "HUB.gatehouse.test"), "127.0.0.50");
    assert_string_equal(gh_edge_config_resolve(&cfg, "dps.gatehouse.test"), "::1");
    assert_string_equal(gh_edge_config_resolve(&cfg, "other.test"), "other.test");
    assert_int_equal(gh_edge_config_validate(&cfg, why, sizeof why), GH_OK);
    gh_edge_config_cleanup(&cfg);
}

static void test_symmetric_key_subtable_and_uri(void **state)
{
    (void)state;
    struct gh_edge_config cfg;
    struct gh_toml_error err;
    char why[256];
    /* Sub-table form. */
    assert_int_equal(load(BASE DPS_HEAD "[provisioning.attestation.symmetric_key]\nvalue = \"" KEY
                                        "\"\n",
                          &cfg, &err),
                     GH_OK);
    assert_string_equal(cfg.symmetric_key, KEY);
    gh_edge_config_cleanup(&cfg);
    /* Unpadded base64. */
    assert_int_equal(
        load(BASE DPS_HEAD "symmetric_key = { value = \"AAECAwQFBgcICQoLDA0ODw\" }\n", &cfg, &err),
        GH_OK);
    assert_string_equal(cfg.symmetric_key, "AAECAwQFBgcICQoLDA0ODw");
    gh_edge_config_cleanup(&cfg);
    /* uri: base64 text with a trailing newline, path relative to the config. */
    write_file("device id.key", KEY "\n", strlen(KEY) + 1);
    assert_int_equal(
        load(BASE DPS_HEAD "symmetric_key = { uri = \"file://device%20id.key\" }\n", &cfg, &err),
        GH_OK);
    assert_string_equal(cfg.symmetric_key, KEY);
    assert_int_equal(gh_edge_config_validate(&cfg, why, sizeof why), GH_OK);
    gh_edge_config_cleanup(&cfg);
    /* uri: raw key bytes (IoT Edge key service files). */
    static const unsigned char raw[4] = {0xff, 0x00, 0x10, 0x80};
    write_file("raw.key", (const char *)raw, sizeof raw);
    char text[1024];
    snprintf(text, sizeof text, "%s%ssymmetric_key = { uri = \"file://%s/raw.key\" }\n", BASE,
             DPS_HEAD, tmp_dir());
    assert_int_equal(load(text, &cfg, &err), GH_OK);
    assert_string_equal(cfg.symmetric_key, "/wAQgA==");
    gh_edge_config_cleanup(&cfg);
}

static void test_key_errors(void **state)
{
    (void)state;
    struct gh_edge_config cfg;
    struct gh_toml_error err;
    /* Both forms: refused at the second key. */
    expect_error(BASE DPS_HEAD "symmetric_key = { value = \"" KEY "\", uri = \"file:///k\" }\n",
                 GH_ERR_CONFIG_VALUE, 12, 75, "not both");
    expect_error(BASE DPS_HEAD "[provisioning.attestation.symmetric_key]\nuri = \"file:///k\"\n"
                               "value = \"" KEY "\"\n",
                 GH_ERR_CONFIG_VALUE, 14, 1, "not both");
    /* Unknown member. */
    expect_error(BASE DPS_HEAD "symmetric_key = { valeu = \"" KEY "\" }\n", GH_ERR_CONFIG_KEY, 12,
                 19, "symmetric_key.valeu");
    /* Not base64. */
    expect_error(BASE DPS_HEAD "symmetric_key = { value = \"not base64!\" }\n", GH_ERR_CONFIG_VALUE,
                 12, 27, "base64");
    /* A plain string instead of a table. */
    expect_error(BASE DPS_HEAD "symmetric_key = \"" KEY "\"\n", GH_ERR_CONFIG_VALUE, 12, 17,
                 "expected");
    /* Neither value nor uri. */
    expect_error(BASE DPS_HEAD "[provisioning.attestation.symmetric_key]\n", GH_ERR_CONFIG_MISSING,
                 12, 27, "symmetric_key");
    /* pkcs11 key. */
    expect_error(BASE DPS_HEAD "symmetric_key = { uri = \"pkcs11:object=dev;type=secret-key\" }\n",
                 GH_ERR_CONFIG_VALUE, 12, 25, "pkcs11");
    /* Key file missing / empty. */
    expect_error(BASE DPS_HEAD "symmetric_key = { uri = \"file:///nonexistent/gh.key\" }\n",
                 GH_ERR_NOENT, 12, 25, "not found");
    write_file("empty.key", "", 0);
    expect_error(BASE DPS_HEAD "symmetric_key = { uri = \"empty.key\" }\n", GH_ERR_CONFIG_VALUE, 12,
                 25, "empty");
    (void)cfg, (void)err;
}

static void test_dps_x509(void **state)
{
    (void)state;
    struct gh_edge_config cfg;
    struct gh_toml_error err;
    char why[256];
    char want[1100];
    assert_int_equal(load(BASE "[provisioning]\nsource = \"dps\"\n"
                               "global_endpoint = \"https://dps.gatehouse.test:8443/\"\n"
                               "id_scope = \"0ne00000001\"\n[provisioning.attestation]\n"
                               "method = \"x509\"\nregistration_id = \"edge-01\"\n"
                               "identity_cert = \"file://localhost/etc/gh/edge%2D01.pem\"\n"
                               "identity_pk = \"certs/edge-01.key.pem\"\n",
                          &cfg, &err),
                     GH_OK);
    assert_int_equal(cfg.attest_method, GH_EDGE_ATTEST_X509);
    assert_string_equal(cfg.identity_cert, "/etc/gh/edge-01.pem");
    snprintf(want, sizeof want, "%s/certs/edge-01.key.pem", tmp_dir());
    assert_string_equal(cfg.identity_pk, want);
    assert_int_equal(gh_edge_config_validate(&cfg, why, sizeof why), GH_OK);
    gh_edge_config_cleanup(&cfg);
}

static void test_manual_connection_string(void **state)
{
    (void)state;
    struct gh_edge_config cfg;
    struct gh_toml_error err;
    char why[256];
    assert_int_equal(load(BASE "[provisioning]\nsource = \"manual\"\nconnection_string = "
                               "\"HostName=hub.gatehouse.test;DeviceId=edge-01;SharedAccessKey=" KEY
                               "\"\n",
                          &cfg, &err),
                     GH_OK);
    assert_int_equal(cfg.prov_source, GH_EDGE_PROV_MANUAL);
    assert_string_equal(cfg.iothub_hostname, "hub.gatehouse.test");
    assert_string_equal(cfg.device_id, "edge-01");
    assert_string_equal(cfg.symmetric_key, KEY);
    assert_int_equal(cfg.attest_method, GH_EDGE_ATTEST_SYMMETRIC_KEY);
    assert_int_equal(gh_edge_config_validate(&cfg, why, sizeof why), GH_OK);
    gh_edge_config_cleanup(&cfg);
    assert_int_equal(cfg.connection_string[0], 0);
}

static void test_manual_fields(void **state)
{
    (void)state;
    struct gh_edge_config cfg;
    struct gh_toml_error err;
    char why[256];
    assert_int_equal(load(BASE MANUAL_HEAD "[provisioning.authentication]\nmethod = \"sas\"\n"
                                           "device_id_pk = { value = \"" KEY "\" }\n",
                          &cfg, &err),
                     GH_OK);
    assert_string_equal(cfg.iothub_hostname, "hub.gatehouse.test");
    assert_string_equal(cfg.device_id, "edge-01");
    assert_string_equal(cfg.symmetric_key, KEY);
    assert_int_equal(gh_edge_config_validate(&cfg, why, sizeof why), GH_OK);
    gh_edge_config_cleanup(&cfg);
    assert_int_equal(load(BASE MANUAL_HEAD "[provisioning.authentication]\nmethod = \"x509\"\n"
                                           "identity_cert = \"/etc/gh/edge.pem\"\n"
                                           "identity_pk = \"file:///etc/gh/edge.key.pem\"\n",
                          &cfg, &err),
                     GH_OK);
    assert_int_equal(cfg.attest_method, GH_EDGE_ATTEST_X509);
    assert_string_equal(cfg.identity_pk, "/etc/gh/edge.key.pem");
    assert_int_equal(gh_edge_config_validate(&cfg, why, sizeof why), GH_OK);
    gh_edge_config_cleanup(&cfg);
}

static void test_connection_string_errors(void **state)
{
    (void)state;
    expect_error(BASE "[provisioning]\nsource = \"manual\"\nconnection_string = \"HostName\"\n",
                 GH_ERR_CONFIG_VALUE, 7, 21, "connection_string");
    expect_error(BASE "[provisioning]\nsource = \"manual\"\nconnection_string = "
                      "\"HostName=hub.gatehouse.test;DeviceId=e;ModuleId=m;SharedAccessKey=" KEY
                      "\"\n",
                 GH_ERR_CONFIG_VALUE, 7, 21, "ModuleId");
    expect_error(BASE "[provisioning]\nsource = \"manual\"\nconnection_string = "
                      "\"HostName=hub.gatehouse.test;DeviceId=e;x509=true\"\n",
                 GH_ERR_CONFIG_VALUE, 7, 21, "x509");
    expect_error(BASE "[provisioning]\nsource = \"manual\"\nconnection_string = "
                      "\"HostName=hub.gatehouse.test;DeviceId=e;SharedAccessKey=" KEY
                      ";GatewayHostName=gw.test\"\n",
                 GH_ERR_CONFIG_VALUE, 7, 21, "nested");
    expect_error(BASE "[provisioning]\nsource = \"manual\"\nconnection_string = "
                      "\"HostName=hub.gatehouse.test;DeviceId=e;SharedAccessKey=" KEY "\"\n"
                      "device_id = \"e\"\n",
                 GH_ERR_CONFIG_VALUE, 8, 1, "not both");
}

static void test_source_mismatch(void **state)
{
    (void)state;
    /* A manual key under dps, at the key's position. */
    expect_error(BASE DPS_HEAD "symmetric_key = { value = \"" KEY
                               "\" }\n[provisioning.authentication]"
                               "\nmethod = \"sas\"\n",
                 GH_ERR_CONFIG_VALUE, 13, 15, "provisioning.authentication");
    expect_error(BASE MANUAL_HEAD "id_scope = \"0ne00000001\"\n", GH_ERR_CONFIG_VALUE, 9, 1,
                 "provisioning.id_scope");
    expect_error(BASE MANUAL_HEAD "[provisioning.attestation]\nregistration_id = \"x\"\n",
                 GH_ERR_CONFIG_VALUE, 9, 15, "provisioning.attestation");
}

static void test_unknown_and_bad_values(void **state)
{
    (void)state;
    expect_error(BASE DPS_HEAD "symmetric_key = { value = \"" KEY
                               "\" }\n[listen]\n  mqtt_prot = 1\n",
                 GH_ERR_CONFIG_KEY, 14, 3, "listen.mqtt_prot");
    expect_error("hostname = \"edge.gatehouse.test\"\nparent_hostname = \"p.test\"\n",
                 GH_ERR_CONFIG_KEY, 2, 1, "parent_hostname");
    expect_error(BASE "[provisioning]\nsource = \"tpm\"\n", GH_ERR_CONFIG_VALUE, 6, 10,
                 "provisioning.source");
    expect_error("hostname = \"edge.gatehouse.test\"\nauto_reprovisioning_mode = \"dynamic\"\n",
                 GH_ERR_CONFIG_VALUE, 2, 28, "auto_reprovisioning_mode");
    expect_error(BASE "[provisioning]\nsource = \"dps\"\n[provisioning.attestation]\n"
                      "method = \"tpm\"\n",
                 GH_ERR_CONFIG_VALUE, 8, 10, "provisioning.attestation.method");
    expect_error(BASE DPS_HEAD "symmetric_key = { value = \"" KEY "\" }\n[upstream]\nwindow = 0\n",
                 GH_ERR_CONFIG_VALUE, 14, 10, "upstream.window");
    expect_error(BASE DPS_HEAD "symmetric_key = { value = \"" KEY
                               "\" }\n[cache]\nmax_age = \"x\"\n",
                 GH_ERR_CONFIG_VALUE, 14, 11, "cache.max_age");
    /* Required options. */
    expect_error(BASE, GH_ERR_CONFIG_MISSING, 0, 0, "provisioning.source");
    expect_error(CA_SECTION DPS_HEAD "symmetric_key = { value = \"" KEY "\" }\n",
                 GH_ERR_CONFIG_MISSING, 0, 0, "hostname");
    /* File-level errors. */
    struct gh_edge_config cfg;
    struct gh_toml_error err;
    assert_int_equal(gh_edge_config_load("/nonexistent/gh/config.toml", home_dir(), &cfg, &err),
                     GH_ERR_NOENT);
    expect_error("hostname = \n", GH_ERR_CONFIG_SYNTAX, 1, 12, "");
}

static void test_file_uris(void **state)
{
    (void)state;
#define REST DPS_HEAD "symmetric_key = { value = \"" KEY "\" }\n"
    expect_error("hostname = \"edge.gatehouse.test\"\n[edge_ca]\ncert = \"/a.pem\"\n"
                 "pk = \"pkcs11:token=edge;object=ca?pin-value=1234\"\n" REST,
                 GH_ERR_CONFIG_VALUE, 4, 6, "pkcs11");
    expect_error("hostname = \"edge.gatehouse.test\"\ntrust_bundle_cert = "
                 "\"https://x.test/r.pem\"\n" CA_SECTION REST,
                 GH_ERR_CONFIG_VALUE, 2, 21, "file://");
    expect_error(
        "hostname = \"edge.gatehouse.test\"\ntrust_bundle_cert = \"file://\"\n" CA_SECTION REST,
        GH_ERR_CONFIG_VALUE, 2, 21, "empty");
    expect_error(
        "hostname = \"edge.gatehouse.test\"\ntrust_bundle_cert = \"file:///a%00b\"\n" CA_SECTION
            REST,
        GH_ERR_CONFIG_VALUE, 2, 21, "NUL");
#undef REST
}

static void test_hosts(void **state)
{
    (void)state;
    const char *pre = BASE DPS_HEAD "symmetric_key = { value = \"" KEY "\" }\n[hosts]\n";
    char text[4096];
    snprintf(text, sizeof text, "%s\"bad_name!\" = \"127.0.0.1\"\n", pre);
    expect_error(text, GH_ERR_CONFIG_VALUE, 14, 1, "host name");
    snprintf(text, sizeof text, "%s\"hub.test\" = \"hub.example\"\n", pre);
    expect_error(text, GH_ERR_CONFIG_VALUE, 14, 14, "IPv4 or IPv6");
    snprintf(text, sizeof text, "%s\"hub.test\" = 1\n", pre);
    expect_error(text, GH_ERR_CONFIG_VALUE, 14, 14, "expected string");
    snprintf(text, sizeof text, "%s\"hub.test\" = \"127.0.0.1\"\n\"HUB.test\" = \"127.0.0.2\"\n",
             pre);
    expect_error(text, GH_ERR_CONFIG_VALUE, 15, 1, "twice");
    size_t o = (size_t)snprintf(text, sizeof text, "%s", pre);
    for (int i = 0; i <= GH_EDGE_HOSTS_MAX; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "\"h%d.test\" = \"127.0.0.%d\"\n", i,
                              i + 1);
    expect_error(text, GH_ERR_CONFIG_VALUE, 14 + GH_EDGE_HOSTS_MAX, 1, "more than 32");
    expect_error("hosts = 3\n" BASE DPS_HEAD "symmetric_key = { value = \"" KEY "\" }\n",
                 GH_ERR_CONFIG_VALUE, 1, 9, "hosts");
}

static void test_home(void **state)
{
    (void)state;
    assert_string_equal(gh_edge_home("/x/y"), "/x/y");
    setenv(GH_EDGE_HOME_ENV, "/env/home", 1);
    assert_string_equal(gh_edge_home(NULL), "/env/home");
    assert_string_equal(gh_edge_home(""), "/env/home");
    unsetenv(GH_EDGE_HOME_ENV);
    assert_string_equal(gh_edge_home(NULL), GH_EDGE_HOME_DEFAULT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dps_symmetric_key_inline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gatehouse_sections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symmetric_key_subtable_and_uri, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dps_x509, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manual_connection_string, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manual_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_string_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_source_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_and_bad_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_uris, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hosts, setup, teardown),
        cmocka_unit_test(test_home),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
