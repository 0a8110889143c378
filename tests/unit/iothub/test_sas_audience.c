/* SAS audiences (PROTOCOL.md 2.3 item 4, 2.4): decoding once and twice,
 * the segment-wise prefix rule, host / DPS checks, the Node-style audience
 * encoder and the audience parser's error paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "iothub/sas.h"

#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define SE 1767225600
#define HOST "hub.example.test"
/* sr of vectors V1, V4 and V8 (PROTOCOL.md 2.5) */
#define SR_V1 "hub.example.test%2Fdevices%2Fthermostat-01"
#define SR_V4 "hub.example.test%2Fdevices%2Fedge-gw-01%2Fmodules%2F%24edgeHub"
#define SR_V8 "hub.example.test%2Fdevices%2Fedge-gw-01%2Fmodules%2F%2524edgeHub"

static struct gh_slice S(const char *s) {
    return gh_slice_cstr(s);
}

static const struct gh_slice hub_hosts[2] = {{(const uint8_t *)HOST, sizeof HOST - 1},
                                             {(const uint8_t *)"edge-gw-01.example.test", 23}};

static bool grants(const char *sr, const char *device, const char *module)
{
    struct gh_slice m = S(module ? module : "");
    return gh_sas_audience_grants_device(S(sr), hub_hosts, 2, S(device), module ? &m : NULL);
}

/* V8: module "$edgeHub" appears only after the second per-segment decode. */
static void test_v8_double_decode(void **state)
{
    (void)state;
    uint8_t scratch[256];
    struct gh_writer w;
    struct gh_sas_audience a;
    gh_writer_init(&w, scratch, sizeof scratch);
    assert_int_equal(gh_sas_audience_parse(S(SR_V8), &w, &a), GH_OK);
    assert_int_equal(a.count, 5);
    assert_true(gh_slice_eq_cstr(a.once[0], HOST));
    assert_true(gh_slice_eq_cstr(a.once[1], "devices"));
    assert_true(gh_slice_eq_cstr(a.once[2], "edge-gw-01"));
    assert_true(gh_slice_eq_cstr(a.once[3], "modules"));
    assert_true(gh_slice_eq_cstr(a.once[4], "%24edgeHub"));
    assert_true(gh_slice_eq_cstr(a.twice[4], "$edgeHub"));
    assert_true(gh_sas_audience_segment_is(&a, 4, S("$edgeHub")));
    assert_true(gh_sas_audience_segment_is(&a, 4, S("$EDGEHUB")));
    assert_true(gh_sas_audience_segment_is(&a, 4, S("%24edgeHub"))); /* either form */
    assert_false(gh_sas_audience_segment_is(&a, 5, S("x")));
    assert_false(gh_sas_audience_segment_is(&a, 4, S("")));
    assert_true(grants(SR_V8, "edge-gw-01", "$edgeHub"));
    assert_true(grants(SR_V8, "EDGE-GW-01", "$EdgeHub"));
}

static void test_audience_encode(void **state)
{
    (void)state;
    char buf[256];
    struct gh_writer w;
    struct gh_slice m = S("$edgeHub");
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_sas_audience_encode(S(HOST), S("thermostat-01"), NULL, &w), GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
    assert_string_equal(buf, SR_V1);
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_sas_audience_encode(S(HOST), S("edge-gw-01"), &m, &w), GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
    assert_string_equal(buf, SR_V4);
    /* Node's strict encoder: !'()* encoded, '*' with lower-case hex. */
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_sas_audience_encode(S(HOST), S("a*b(c)!'d e:f%"), NULL, &w), GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
    assert_string_equal(buf, "hub.example.test%2Fdevices%2Fa%2ab%28c%29%21%27d%20e%3Af%25");

    struct gh_slice empty = S("");
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_sas_audience_encode(S(""), S("d"), NULL, &w), GH_ERR_ARG);
    assert_int_equal(gh_sas_audience_encode(S(HOST), S(""), NULL, &w), GH_ERR_ARG);
    assert_int_equal(gh_sas_audience_encode(S(HOST), S("d"), &empty, &w), GH_ERR_ARG);
    gh_writer_init(&w, buf, strlen(SR_V4) - 1);
    assert_int_equal(gh_sas_audience_encode(S(HOST), S("edge-gw-01"), &m, &w), GH_ERR_NOBUFS);
    assert_int_equal(w.len, 0);
}

/* Build a token for an awkward id with the Node encoder, then check that it
 * verifies and that its audience grants that id. */
static void test_roundtrip_awkward_id(void **state)
{
    (void)state;
    const char *id = "a%41*b$c";
    char sr[128], tok[512];
    struct gh_writer w;
    gh_writer_init(&w, sr, sizeof sr);
    assert_int_equal(gh_sas_audience_encode(S(HOST), S(id), NULL, &w), GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
    gh_writer_init(&w, tok, sizeof tok);
    assert_int_equal(gh_sas_build(S(sr), S(KEY), SE, NULL, &w), GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
    struct gh_sas_token t;
    struct gh_slice keys[1] = {S(KEY)};
    assert_int_equal(gh_sas_parse(S(tok), &t), GH_OK);
    assert_int_equal(gh_sas_verify(&t, keys, 1, NULL), GH_OK);
    char srcopy[128];
    assert_int_equal(gh_slice_to_cstr(t.sr, srcopy, sizeof srcopy), GH_OK);
    assert_true(grants(srcopy, id, NULL));
    assert_true(grants(srcopy, "aA*b$c", NULL)); /* the accepted ambiguity of 2.3 item 4 */
    assert_false(grants(srcopy, "a%41*b", NULL));
}

static void test_prefix_rule(void **state)
{
    (void)state;
    /* shorter audiences grant more (policy tokens) */
    assert_true(grants("hub.example.test", "thermostat-01", NULL));
    assert_true(grants("hub.example.test/devices", "thermostat-01", NULL));
    assert_true(grants("hub.example.test%2Fdevices", "thermostat-01", "m1"));
    assert_true(grants("hub.example.test/devices/thermostat-01", "thermostat-01", "m1"));
    /* segment-wise, not character-wise */
    assert_false(grants("hub.example.test/devices/thermostat", "thermostat-01", NULL));
    assert_false(grants("hub.example.test/devices/thermostat-0", "thermostat-01", NULL));
    assert_false(grants("hub.example.test/dev", "thermostat-01", NULL));
    assert_false(grants("hub.example", "thermostat-01", NULL));
    /* longer than the resource */
    assert_false(
        grants("hub.example.test/devices/thermostat-01/modules/m1", "thermostat-01", NULL));
    assert_false(grants("hub.example.test/devices/thermostat-01/x", "thermostat-01", NULL));
    assert_false(
        grants("hub.example.test/devices/thermostat-01/modules/m1/x", "thermostat-01", "m1"));
    /* wrong literal */
    assert_false(grants("hub.example.test/device/thermostat-01", "thermostat-01", NULL));
    assert_false(grants("hub.example.test/devices/thermostat-01/module/m1", "thermostat-01", "m1"));
    /* trailing '/' is an empty segment, which matches nothing */
    assert_false(grants("hub.example.test/devices/thermostat-01/", "thermostat-01", "m1"));
    assert_false(grants("hub.example.test/", "thermostat-01", NULL));
    /* hosts: hub or gateway, any case; others refused */
    assert_true(grants("edge-gw-01.example.test/devices/thermostat-01", "thermostat-01", NULL));
    assert_true(grants("HUB.Example.TEST%2FDEVICES%2FTHERMOSTAT-01", "thermostat-01", NULL));
    assert_false(grants("other.example.test/devices/thermostat-01", "thermostat-01", NULL));
    assert_false(gh_sas_audience_grants_device(S(HOST), hub_hosts, 0, S("thermostat-01"), NULL));
    /* identity service lower-cases the audience; ids compare case-insensitively */
    assert_true(grants("hub.example.test/devices/thermostat-01", "Thermostat-01", NULL));
    /* unparseable audiences grant nothing */
    assert_false(grants("", "thermostat-01", NULL));
    assert_false(grants("/devices/thermostat-01", "thermostat-01", NULL));
    assert_false(grants("hub.example.test/devices/thermostat-01", "", NULL));
}

static void test_dps_and_host(void **state)
{
    (void)state;
    struct gh_slice scope = S("0ne00ABC123"), reg = S("thermostat-01");
    assert_true(gh_sas_audience_is_dps_registration(S("0ne00abc123/registrations/thermostat-01"),
                                                    scope, reg));
    assert_true(gh_sas_audience_is_dps_registration(
        S("0ne00ABC123%2FREGISTRATIONS%2FThermostat-01"), scope, reg));
    assert_false(gh_sas_audience_is_dps_registration(S("0ne00ABC123/registrations"), scope, reg));
    assert_false(gh_sas_audience_is_dps_registration(S("0ne00ABC123/registrations/thermostat-01/x"),
                                                     scope, reg));
    assert_false(
        gh_sas_audience_is_dps_registration(S("0ne00ABC123/devices/thermostat-01"), scope, reg));
    assert_false(gh_sas_audience_is_dps_registration(S("0ne00ABC123/registrations/thermostat-02"),
                                                     scope, reg));
    assert_false(gh_sas_audience_is_dps_registration(S(""), scope, reg));

    assert_true(gh_sas_audience_is_host(S(HOST), S(HOST)));
    assert_true(gh_sas_audience_is_host(S("HUB.example.test"), S(HOST)));
    assert_false(gh_sas_audience_is_host(S("hub.example.test/devices"), S(HOST)));
    assert_false(gh_sas_audience_is_host(S("hub.example.test%2F"), S(HOST)));
    assert_false(gh_sas_audience_is_host(S("hub.example.tes"), S(HOST)));
    assert_false(gh_sas_audience_is_host(S(""), S("")));
}

static void test_audience_parse_errors(void **state)
{
    (void)state;
    static uint8_t scratch[GH_SAS_AUDIENCE_SCRATCH(GH_SAS_AUDIENCE_MAX + 1)];
    static char sr[GH_SAS_AUDIENCE_MAX + 2];
    struct gh_writer w;
    struct gh_sas_audience a, before;
    memset(&a, 0x5a, sizeof a);
    before = a;
    gh_writer_init(&w, scratch, sizeof scratch);
    assert_int_equal(gh_sas_audience_parse(S(""), &w, &a), GH_ERR_BAD_SAS);
    assert_int_equal(gh_sas_audience_parse(S("/devices/x"), &w, &a), GH_ERR_BAD_SAS);
    assert_int_equal(gh_sas_audience_parse(S("%2Fdevices%2Fx"), &w, &a), GH_ERR_BAD_SAS);
    assert_int_equal(gh_sas_audience_parse(S("h/1/2/3/4/5/6/7/8"), &w, &a), GH_ERR_TOO_MANY);
    assert_int_equal(gh_sas_audience_parse(S("h%2F1%2F2%2F3%2F4%2F5%2F6%2F7%2F8"), &w, &a),
                     GH_ERR_TOO_MANY);
    memset(sr, 'a', GH_SAS_AUDIENCE_MAX + 1);
    sr[GH_SAS_AUDIENCE_MAX + 1] = '\0';
    assert_int_equal(gh_sas_audience_parse(S(sr), &w, &a), GH_ERR_TOO_LARGE);
    assert_int_equal(w.len, 0);
    assert_memory_equal(&a, &before, sizeof a);

    /* limits themselves are fine */
    sr[GH_SAS_AUDIENCE_MAX] = '\0';
    assert_int_equal(gh_sas_audience_parse(S(sr), &w, &a), GH_OK);
    assert_int_equal(a.count, 1);
    gh_writer_init(&w, scratch, sizeof scratch);
    assert_int_equal(gh_sas_audience_parse(S("h/1/2/3/4/5/6/7"), &w, &a), GH_OK);
    assert_int_equal(a.count, GH_SAS_AUDIENCE_MAX_SEGMENTS);
    assert_true(gh_slice_eq_cstr(a.twice[7], "7"));

    /* scratch needs 2 * len; every smaller size fails and is restored */
    const char *v8 = SR_V8;
    size_t need = GH_SAS_AUDIENCE_SCRATCH(strlen(v8));
    uint8_t small[256];
    size_t ok_from = 0;
    for (size_t cap = 0; cap <= need; cap++) {
        gh_writer_init(&w, small, cap);
        gh_err rc = gh_sas_audience_parse(S(v8), &w, &a);
        if (rc == GH_OK) {
            if (!ok_from) ok_from = cap;
            continue;
        }
        assert_int_equal(rc, GH_ERR_NOBUFS);
        assert_int_equal(w.len, 0);
        assert_int_equal(ok_from, 0);
    }
    assert_true(ok_from > 0 && ok_from <= need);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v8_double_decode),     cmocka_unit_test(test_audience_encode),
        cmocka_unit_test(test_roundtrip_awkward_id), cmocka_unit_test(test_prefix_rule),
        cmocka_unit_test(test_dps_and_host),         cmocka_unit_test(test_audience_parse_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
