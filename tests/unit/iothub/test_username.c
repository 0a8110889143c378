/* CONNECT user names (PROTOCOL.md 1.2, 4.2.1) and id rules (5.2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "iothub/username.h"

#define S(x) gh_slice_cstr(x)

static uint8_t scratch_mem[1024];
static struct gh_writer scratch;

static int setup(void **state)
{
    (void)state;
    gh_writer_init(&scratch, scratch_mem, sizeof scratch_mem);
    return 0;
}

static void assert_slice(struct gh_slice s, const char *want)
{
    char buf[512];
    if (want == NULL) {
        assert_null(s.ptr);
        assert_int_equal(s.len, 0);
        return;
    }
    assert_non_null(s.ptr);
    assert_true(s.len < sizeof buf);
    if (s.len) memcpy(buf, s.ptr, s.len);
    buf[s.len] = '\0';
    assert_string_equal(buf, want);
}

static struct gh_iothub_username parse_ok(const char *name)
{
    struct gh_iothub_username u;
    assert_int_equal(gh_iothub_username_parse(S(name), &scratch, &u), GH_OK);
    return u;
}

/* Parse must fail with `err`, leave the output and the scratch untouched. */
static void parse_fails(gh_err (*fn)(struct gh_slice, struct gh_writer *,
                                     struct gh_iothub_username *),
                        const char *name, gh_err err)
{
    struct gh_iothub_username u;
    memset(&u, 0xa5, sizeof u);
    struct gh_iothub_username before = u;
    size_t len = scratch.len;
    assert_int_equal(fn(S(name), &scratch, &u), err);
    assert_memory_equal(&u, &before, sizeof u);
    assert_int_equal(scratch.len, len);
}

static void test_node(void **state)
{
    (void)state;
    struct gh_iothub_username u =
        parse_ok("hub.example.test/thermostat-01/?api-version=2021-04-12&DeviceClientType=azure-"
                 "iot-device%2F1.18.4%20(node%20v20.11.0%3B%20Ubuntu%2022.04%3B%20x64)");
    assert_int_equal(u.id.kind, GH_IOTHUB_ID_DEVICE);
    assert_slice(u.host, "hub.example.test");
    assert_slice(u.id.device_id, "thermostat-01");
    assert_int_equal(u.id.module_id.len, 0);
    assert_slice(u.api_version, "2021-04-12");
    assert_slice(u.client_type, "azure-iot-device/1.18.4 (node v20.11.0; Ubuntu 22.04; x64)");
    assert_slice(u.model_id, NULL);
    assert_slice(u.auth_chain, NULL);
    assert_int_equal(gh_iothub_username_check_client_id(&u, S("thermostat-01")), GH_OK);
}

static void test_node_pnp_raw_model_id(void **state)
{
    (void)state;
    struct gh_iothub_username u =
        parse_ok("hub.example.test/thermostat-01/?api-version=2021-04-12&model-id=dtmi:com:"
                 "example:Thermostat;1&DeviceClientType=azure-iot-device%2F1.18.4%20(...)");
    assert_int_equal(u.id.kind, GH_IOTHUB_ID_DEVICE);
    assert_slice(u.model_id, "dtmi:com:example:Thermostat;1");
    assert_slice(u.client_type, "azure-iot-device/1.18.4 (...)");
}

static void test_node_module(void **state)
{
    (void)state;
    struct gh_iothub_username u =
        parse_ok("hub.example.test/edge-gw-01/filter/?api-version=2021-04-12&DeviceClientType=...");
    assert_int_equal(u.id.kind, GH_IOTHUB_ID_MODULE);
    assert_slice(u.id.device_id, "edge-gw-01");
    assert_slice(u.id.module_id, "filter");
    assert_slice(u.client_type, "...");
    assert_int_equal(gh_iothub_username_check_client_id(&u, S("edge-gw-01/filter")), GH_OK);
    assert_int_equal(gh_iothub_username_check_client_id(&u, S("edge-gw-01")), GH_ERR_BAD_USERNAME);
    assert_int_equal(gh_iothub_username_check_client_id(&u, S("edge-gw-01/filte")),
                     GH_ERR_BAD_USERNAME);
    assert_int_equal(gh_iothub_username_check_client_id(&u, S("edge-gw-01/filterX")),
                     GH_ERR_BAD_USERNAME);
    assert_int_equal(gh_iothub_username_check_client_id(&u, S("edge-gw-01:filter")),
                     GH_ERR_BAD_USERNAME);
    assert_int_equal(gh_iothub_username_check_client_id(&u, S("edge-gw-0X/filter")),
                     GH_ERR_BAD_USERNAME);
}

static void test_c_sdk_lower_hex(void **state)
{
    (void)state;
    struct gh_iothub_username u =
        parse_ok("hub.example.test/thermostat-01/?api-version=2020-09-30&DeviceClientType="
                 "iothubclient%2f1.15.0%20(native%3b%20Linux%3b%20x86_64)");
    assert_slice(u.api_version, "2020-09-30");
    assert_slice(u.client_type, "iothubclient/1.15.0 (native; Linux; x86_64)");
}

static void test_embedded_encoded_model_id(void **state)
{
    (void)state;
    struct gh_iothub_username u =
        parse_ok("hub.example.test/thermostat-01/?api-version=2020-09-30&DeviceClientType=azsdk-"
                 "c%2F1.x.y&model-id=dtmi%3Acom%3Aexample%3AThermostat%3B1");
    assert_slice(u.model_id, "dtmi:com:example:Thermostat;1");
    assert_slice(u.client_type, "azsdk-c/1.x.y");
}

static void test_old_c_without_question_mark(void **state)
{
    (void)state;
    struct gh_iothub_username u =
        parse_ok("hub.example.test/thermostat-01/api-version=2016-11-14&DeviceClientType="
                 "iothubclient%2f1.1.27%20(Linux%3b%20armv7l)");
    assert_int_equal(u.id.kind, GH_IOTHUB_ID_DEVICE);
    assert_slice(u.id.device_id, "thermostat-01");
    assert_slice(u.api_version, "2016-11-14");
    assert_slice(u.client_type, "iothubclient/1.1.27 (Linux; armv7l)");
    /* Legacy module form: exactly 4 segments. */
    u = parse_ok("hub.example.test/d1/m1/api-version=2016-11-14");
    assert_int_equal(u.id.kind, GH_IOTHUB_ID_MODULE);
    assert_slice(u.id.device_id, "d1");
    assert_slice(u.id.module_id, "m1");
    assert_slice(u.api_version, "2016-11-14");
}

static void test_params_rules(void **state)
{
    (void)state;
    /* Any order, unknown ignored, first of a repeat wins, empty items skipped,
     * auth-chain decoded, value-less present-and-empty. */
    struct gh_iothub_username u =
        parse_ok("h.x/d/?&foo=bar&auth-chain=leaf%3Bedge-gw-01&api-version=1&api-version=2&&"
                 "model-id&DeviceClientType=");
    assert_slice(u.api_version, "1");
    assert_slice(u.auth_chain, "leaf;edge-gw-01");
    assert_slice(u.model_id, "");
    assert_slice(u.client_type, "");
    /* Raw `/` inside parameters after `?` (device and module forms). */
    u = parse_ok("h.x/d/?DeviceClientType=raw/agent/1.0&api-version=2");
    assert_int_equal(u.id.kind, GH_IOTHUB_ID_DEVICE);
    assert_slice(u.client_type, "raw/agent/1.0");
    u = parse_ok("h.x/d/m/?DeviceClientType=a/b");
    assert_int_equal(u.id.kind, GH_IOTHUB_ID_MODULE);
    assert_slice(u.client_type, "a/b");
    /* No parameters at all. */
    u = parse_ok("h.x/d/?");
    assert_slice(u.api_version, NULL);
    u = parse_ok("h.x/d/");
    assert_int_equal(u.id.kind, GH_IOTHUB_ID_DEVICE);
    assert_slice(u.client_type, NULL);
    /* Names are case-sensitive; DPS names mean nothing on the hub. */
    u = parse_ok("h.x/d/?API-VERSION=1&ClientVersion=2&deviceclienttype=3");
    assert_slice(u.api_version, NULL);
    assert_slice(u.client_type, NULL);
    /* Empty host is informational only. */
    u = parse_ok("/d/?api-version=1");
    assert_slice(u.host, "");
    /* `+` is not a space; malformed `%` stays literal. */
    u = parse_ok("h.x/d/?DeviceClientType=a+b%zz%");
    assert_slice(u.client_type, "a+b%zz%");
}

static void test_values_point_into_input_or_scratch(void **state)
{
    (void)state;
    const char *name = "h.x/d/?api-version=1&DeviceClientType=a%2Fb";
    struct gh_iothub_username u = parse_ok(name);
    assert_ptr_equal(u.api_version.ptr, (const uint8_t *)name + 19);
    assert_ptr_equal(u.client_type.ptr, scratch_mem);
    assert_int_equal(scratch.len, 3);
    assert_ptr_equal(u.id.device_id.ptr, (const uint8_t *)name + 4);
}

static void test_hub_errors(void **state)
{
    (void)state;
    gh_err (*p)(struct gh_slice, struct gh_writer *, struct gh_iothub_username *) =
        gh_iothub_username_parse;
    parse_fails(p, "", GH_ERR_BAD_USERNAME);
    parse_fails(p, "hub.example.test", GH_ERR_BAD_USERNAME);
    parse_fails(p, "hub.example.test/thermostat-01", GH_ERR_BAD_USERNAME);
    parse_fails(p, "hub.example.test//?api-version=1", GH_ERR_BAD_USERNAME);
    parse_fails(p, "hub.example.test/d//?api-version=1", GH_ERR_BAD_USERNAME); /* empty M */
    parse_fails(p, "hub.example.test/bad id/?api-version=1", GH_ERR_BAD_USERNAME);
    parse_fails(p, "hub.example.test/d&x/?api-version=1", GH_ERR_BAD_USERNAME);
    parse_fails(p, "hub.example.test/d/bad module/?api-version=1", GH_ERR_BAD_USERNAME);
    /* Too many segments without `?`. */
    parse_fails(p, "hub.example.test/d/m/x/api-version=1", GH_ERR_BAD_USERNAME);
    parse_fails(p, "hub.example.test/d/m/x/", GH_ERR_BAD_USERNAME);
    /* Decoded values must be UTF-8 without NUL. */
    parse_fails(p, "h.x/d/?DeviceClientType=%FF", GH_ERR_BAD_USERNAME);
    parse_fails(p, "h.x/d/?model-id=a%00b", GH_ERR_BAD_USERNAME);
    parse_fails(p, "h.x/d/?api-version=%C3", GH_ERR_BAD_USERNAME);
    parse_fails(p, "h.x/d/?auth-chain=%ED%A0%80", GH_ERR_BAD_USERNAME);
    /* A repeated bad value after a good first one is never decoded. */
    struct gh_iothub_username u = parse_ok("h.x/d/?api-version=1&api-version=%FF");
    assert_slice(u.api_version, "1");
    /* Unknown names are not decoded either. */
    u = parse_ok("h.x/d/?unknown=%FF");
    assert_slice(u.api_version, NULL);
}

static void test_device_id_length(void **state)
{
    (void)state;
    char name[256];
    char id[GH_IOTHUB_ID_MAX + 2];
    memset(id, 'a', sizeof id);
    id[GH_IOTHUB_ID_MAX] = '\0';
    snprintf(name, sizeof name, "h.x/%s/?api-version=1", id);
    struct gh_iothub_username u = parse_ok(name);
    assert_int_equal(u.id.device_id.len, GH_IOTHUB_ID_MAX);
    id[GH_IOTHUB_ID_MAX] = 'a';
    id[GH_IOTHUB_ID_MAX + 1] = '\0';
    snprintf(name, sizeof name, "h.x/%s/?api-version=1", id);
    parse_fails(gh_iothub_username_parse, name, GH_ERR_BAD_USERNAME);
    snprintf(name, sizeof name, "h.x/d/%s/?api-version=1", id);
    parse_fails(gh_iothub_username_parse, name, GH_ERR_BAD_USERNAME);
}

static void test_nobufs(void **state)
{
    (void)state;
    uint8_t mem[4];
    struct gh_writer small;
    gh_writer_init(&small, mem, sizeof mem);
    struct gh_iothub_username u;
    memset(&u, 0, sizeof u);
    assert_int_equal(gh_iothub_username_parse(S("h.x/d/?api-version=%41%41&DeviceClientType="
                                                "%41%41%41"),
                                              &small, &u),
                     GH_ERR_NOBUFS);
    assert_int_equal(small.len, 0); /* the first value's bytes were given back */
    assert_null(u.host.ptr);
    gh_writer_init(&small, mem, 1);
    assert_int_equal(gh_iothub_username_parse(S("h.x/d/?api-version=%41%41"), &small, &u),
                     GH_ERR_NOBUFS);
    assert_int_equal(small.len, 0);
    /* A scratch as long as the user name always suffices. */
    uint8_t exact[25];
    gh_writer_init(&small, exact, sizeof exact);
    assert_int_equal(gh_iothub_username_parse(S("h.x/d/?api-version=%41%41"), &small, &u), GH_OK);
    assert_slice(u.api_version, "AA");
}

static void test_dps(void **state)
{
    (void)state;
    struct gh_iothub_username u =
        parse_ok("0ne00ABC123/registrations/thermostat-01/api-version=2019-03-31&ClientVersion="
                 "azure-iot-provisioning-device%2F1.9.1");
    assert_int_equal(u.id.kind, GH_IOTHUB_ID_DPS);
    assert_slice(u.host, "0ne00ABC123");
    assert_slice(u.id.device_id, "thermostat-01");
    assert_slice(u.api_version, "2019-03-31");
    assert_slice(u.client_type, "azure-iot-provisioning-device/1.9.1");
    assert_int_equal(gh_iothub_username_check_client_id(&u, S("thermostat-01")), GH_OK);
    assert_int_equal(gh_iothub_username_check_client_id(&u, S("Thermostat-01")),
                     GH_ERR_BAD_USERNAME);

    u = parse_ok("0ne00ABC123/registrations/thermostat-01/api-version=2021-06-01&ClientVersion="
                 "1.15.0");
    assert_int_equal(u.id.kind, GH_IOTHUB_ID_DPS);
    assert_slice(u.client_type, "1.15.0");
    u = parse_ok("0ne00ABC123/registrations/thermostat-01/api-version=2019-03-31");
    assert_int_equal(u.id.kind, GH_IOTHUB_ID_DPS);
    assert_slice(u.client_type, NULL);
    /* DeviceClientType / model-id mean nothing on DPS. */
    u = parse_ok("0ne00ABC123/registrations/r1/api-version=1&DeviceClientType=x&model-id=y");
    assert_slice(u.client_type, NULL);
    assert_slice(u.model_id, NULL);
    /* Registration ids may use `:` and upper case. */
    u = parse_ok("0ne00ABC123/registrations/Reg:01_a.b-c/api-version=1");
    assert_slice(u.id.device_id, "Reg:01_a.b-c");
}

static void test_dps_vs_hub_classification(void **state)
{
    (void)state;
    /* `?` marks the hub form: a device named "registrations" with module. */
    struct gh_iothub_username u = parse_ok("h.x/registrations/m1/?api-version=1");
    assert_int_equal(u.id.kind, GH_IOTHUB_ID_MODULE);
    assert_slice(u.id.device_id, "registrations");
    /* The DPS-specific parser tolerates the `?`. */
    assert_int_equal(gh_iothub_username_parse_dps(S("s/registrations/r/?api-version=1&"
                                                    "ClientVersion=v"),
                                                  &scratch, &u),
                     GH_OK);
    assert_int_equal(u.id.kind, GH_IOTHUB_ID_DPS);
    assert_slice(u.client_type, "v");
    /* The hub-specific parser reads a DPS user name as a legacy module. */
    assert_int_equal(
        gh_iothub_username_parse_hub(S("0ne00ABC123/registrations/r1/api-version=1"), &scratch, &u),
        GH_OK);
    assert_int_equal(u.id.kind, GH_IOTHUB_ID_MODULE);
    assert_slice(u.id.module_id, "r1");
    assert_int_equal(gh_iothub_username_parse_hub(S("h.x/d/?api-version=1"), &scratch, &u), GH_OK);
    assert_int_equal(u.id.kind, GH_IOTHUB_ID_DEVICE);
}

static void test_dps_errors(void **state)
{
    (void)state;
    gh_err (*p)(struct gh_slice, struct gh_writer *, struct gh_iothub_username *) =
        gh_iothub_username_parse_dps;
    parse_fails(p, "h.x/d/?api-version=1", GH_ERR_BAD_USERNAME);
    parse_fails(p, "scope/registration/r/api-version=1", GH_ERR_BAD_USERNAME);
    parse_fails(p, "scope/registrations/r", GH_ERR_BAD_USERNAME);
    parse_fails(p, "scope/registrations", GH_ERR_BAD_USERNAME);
    parse_fails(p, "scope", GH_ERR_BAD_USERNAME);
    parse_fails(p, "/registrations/r/api-version=1", GH_ERR_BAD_USERNAME);
    parse_fails(p, "scope/registrations//api-version=1", GH_ERR_BAD_USERNAME);
    parse_fails(p, "scope/registrations/bad!id/api-version=1", GH_ERR_BAD_USERNAME);
    parse_fails(p, "scope/registrations/r/x/api-version=1", GH_ERR_BAD_USERNAME);
    parse_fails(p, "scope/registrations/r/ClientVersion=%FF", GH_ERR_BAD_USERNAME);
    char name[256];
    char scope[GH_IOTHUB_ID_SCOPE_MAX + 2];
    memset(scope, 's', sizeof scope);
    scope[GH_IOTHUB_ID_SCOPE_MAX] = '\0';
    snprintf(name, sizeof name, "%s/registrations/r/api-version=1", scope);
    struct gh_iothub_username u;
    assert_int_equal(p(S(name), &scratch, &u), GH_OK);
    scope[GH_IOTHUB_ID_SCOPE_MAX] = 's';
    scope[GH_IOTHUB_ID_SCOPE_MAX + 1] = '\0';
    snprintf(name, sizeof name, "%s/registrations/r/api-version=1", scope);
    parse_fails(p, name, GH_ERR_BAD_USERNAME);
    /* Through the classifying entry point too. */
    parse_fails(gh_iothub_username_parse, "scope/registrations/bad!id/api-version=1",
                GH_ERR_BAD_USERNAME);
}

static void test_check_client_id_edge_cases(void **state)
{
    (void)state;
    struct gh_iothub_username u;
    memset(&u, 0, sizeof u);
    u.id.kind = GH_IOTHUB_ID_DEVICE;
    assert_int_equal(gh_iothub_username_check_client_id(&u, S("")), GH_ERR_BAD_USERNAME);
    u.id.kind = GH_IOTHUB_ID_MODULE;
    assert_int_equal(gh_iothub_username_check_client_id(&u, S("/")), GH_ERR_BAD_USERNAME);
    u = parse_ok("h.x/d/?api-version=1");
    assert_int_equal(gh_iothub_username_check_client_id(&u, S("D")), GH_ERR_BAD_USERNAME);
    assert_int_equal(gh_iothub_username_check_client_id(&u, S("d/")), GH_ERR_BAD_USERNAME);
    assert_int_equal(gh_iothub_username_check_client_id(&u, S("d")), GH_OK);
}

static void test_valid_ids(void **state)
{
    (void)state;
    assert_true(gh_iothub_valid_device_id(S("thermostat-01")));
    assert_true(gh_iothub_valid_device_id(S("aZ09-.+%_#*?!(),=@$'")));
    assert_true(gh_iothub_valid_module_id(S("$edgeAgent")));
    assert_true(gh_iothub_valid_module_id(S("$edgeHub")));
    const char *bad[] = {"",    "a b", "a/b", "a&b", "a:b", "a;b", "a\"b",    "a\\b",
                         "a<b", "a{b", "a~b", "a^b", "a`b", "a|b", "\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(gh_iothub_valid_device_id(S(bad[i])));
        assert_false(gh_iothub_valid_module_id(S(bad[i])));
    }
    assert_false(gh_iothub_valid_device_id((struct gh_slice){(const uint8_t *)"a\0b", 3}));
    assert_true(gh_iothub_valid_registration_id(S("my-edge")));
    assert_true(gh_iothub_valid_registration_id(S("Ab:9._-")));
    const char *bad_reg[] = {"", "a b", "a/b", "a+b", "a%b", "a#b", "a$b", "a!b", "a=b"};
    for (size_t i = 0; i < sizeof bad_reg / sizeof bad_reg[0]; i++)
        assert_false(gh_iothub_valid_registration_id(S(bad_reg[i])));
    char id[GH_IOTHUB_ID_MAX + 1];
    memset(id, 'r', sizeof id);
    assert_true(
        gh_iothub_valid_registration_id((struct gh_slice){(uint8_t *)id, GH_IOTHUB_ID_MAX}));
    assert_false(
        gh_iothub_valid_registration_id((struct gh_slice){(uint8_t *)id, GH_IOTHUB_ID_MAX + 1}));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_node, setup),
        cmocka_unit_test_setup(test_node_pnp_raw_model_id, setup),
        cmocka_unit_test_setup(test_node_module, setup),
        cmocka_unit_test_setup(test_c_sdk_lower_hex, setup),
        cmocka_unit_test_setup(test_embedded_encoded_model_id, setup),
        cmocka_unit_test_setup(test_old_c_without_question_mark, setup),
        cmocka_unit_test_setup(test_params_rules, setup),
        cmocka_unit_test_setup(test_values_point_into_input_or_scratch, setup),
        cmocka_unit_test_setup(test_hub_errors, setup),
        cmocka_unit_test_setup(test_device_id_length, setup),
        cmocka_unit_test_setup(test_nobufs, setup),
        cmocka_unit_test_setup(test_dps, setup),
        cmocka_unit_test_setup(test_dps_vs_hub_classification, setup),
        cmocka_unit_test_setup(test_dps_errors, setup),
        cmocka_unit_test_setup(test_check_client_id_edge_cases, setup),
        cmocka_unit_test_setup(test_valid_ids, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
