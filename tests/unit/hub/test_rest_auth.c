/* The REST API's authorization decision over a real store: token syntax,
 * policy lookup, signature (primary and secondary key), expiry with skew,
 * audience forms, rights per policy; and If-Match normalisation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store_fixture.h"

#include "hub/rest_int.h"
#include "iothub/sas.h"

#define HOST "hub.gatehouse.test"
#define NOW 1767225600
/* 32 bytes 0x01 / 0x02 / 0x03 in base64. */
#define KEY1 "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
#define KEY2 "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="
#define KEY3 "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM="

static void put_policy(struct fx *f, const char *name, uint32_t rights)
{
    struct gh_policy p;
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "%s", name);
    snprintf(p.primary_key, sizeof p.primary_key, "%s", KEY1);
    snprintf(p.secondary_key, sizeof p.secondary_key, "%s", KEY2);
    p.rights = rights;
    assert_int_equal(gh_store_policy_put(f->s, &p), GH_OK);
}

static int setup(void **state)
{
    if (fx_setup(state) != 0) return -1;
    struct fx *f = *state;
    put_policy(f, "owner", GH_RIGHT_ALL);
    put_policy(f, "svc", GH_RIGHT_SERVICE_CONNECT);
    put_policy(f, "rr", GH_RIGHT_REGISTRY_READ);
    put_policy(f, "rrw", GH_RIGHT_REGISTRY_READ | GH_RIGHT_REGISTRY_WRITE);
    put_policy(f, "dev", GH_RIGHT_DEVICE_CONNECT);
    return 0;
}

/* A token over sr (used verbatim) signed with key. */
static char *token(char *buf, size_t cap, const char *sr, const char *key, int64_t se,
                   const char *skn)
{
    struct gh_writer w;
    gh_writer_init(&w, buf, cap);
    assert_int_equal(gh_sas_build(gh_slice_cstr(sr), gh_slice_cstr(key), se, skn, &w), GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
    return buf;
}

/* Decide `auth` for GET /devices/d1 needing `rights`. */
static gh_err decide_on(struct fx *f, const char *auth, const char *const *res, size_t nres,
                        const char *dev, const char *mod, uint32_t rights, const char **why)
{
    struct gh_hub_rest_auth_req a = {
        .authorization = auth,
        .host = HOST,
        .resource = res,
        .nresource = nres,
        .device_id = dev,
        .module_id = mod,
        .rights = rights,
        .now_s = NOW,
        .skew_s = 300,
    };
    static const char *unset = "unset";
    *why = unset;
    gh_err rc = gh_hub_rest_authorize(f->s, &a, why);
    if (rc == GH_OK)
        assert_ptr_equal(*why, unset);
    else
        assert_true(*why != unset && (*why)[0] != '\0');
    return rc;
}

static const char *const dev_path[] = {"devices", "d1"};

static gh_err decide(struct fx *f, const char *auth, uint32_t rights)
{
    const char *why;
    return decide_on(f, auth, dev_path, 2, "d1", NULL, rights, &why);
}

static void test_policy_token_ok(void **state)
{
    struct fx *f = *state;
    char t[512];
    assert_int_equal(
        decide(f, token(t, sizeof t, HOST, KEY1, NOW + 3600, "owner"), GH_RIGHT_REGISTRY_READ),
        GH_OK);
    /* Secondary key, and a host written in another case. */
    assert_int_equal(decide(f, token(t, sizeof t, "HUB.gatehouse.TEST", KEY2, NOW + 3600, "owner"),
                            GH_RIGHT_ALL),
                     GH_OK);
    /* A percent-encoded policy name. */
    char buf[512];
    token(buf, sizeof buf, HOST, KEY1, NOW + 60, "rrw");
    char *skn = strstr(buf, "skn=rrw");
    assert_non_null(skn);
    char enc[600];
    snprintf(enc, sizeof enc, "%.*sskn=%%72rw%s", (int)(skn - buf), buf, skn + strlen("skn=rrw"));
    assert_int_equal(decide(f, enc, GH_RIGHT_REGISTRY_WRITE), GH_OK);
}

static void test_rejections(void **state)
{
    struct fx *f = *state;
    char t[512];
    const char *why;
    assert_int_equal(decide_on(f, NULL, dev_path, 2, "d1", NULL, 1, &why), GH_ERR_AUTH);
    assert_string_equal(why, "no Authorization header");
    assert_int_equal(decide(f, "Bearer abc", 1), GH_ERR_AUTH);
    assert_int_equal(decide(f, "SharedAccessSignature", 1), GH_ERR_AUTH);
    assert_int_equal(decide(f, "SharedAccessSignature sr=x&se=1", 1), GH_ERR_BAD_SAS);
    char big[GH_SAS_TOKEN_MAX + 64];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    memcpy(big, "SharedAccessSignature sr=", 25);
    assert_int_equal(decide(f, big, 1), GH_ERR_TOO_LARGE);
    /* No policy name: a device-key token is not a service credential. */
    assert_int_equal(decide(f, token(t, sizeof t, HOST, KEY1, NOW + 60, NULL), 1), GH_ERR_AUTH);
    assert_int_equal(decide(f, token(t, sizeof t, HOST, KEY1, NOW + 60, "nosuch"), 1), GH_ERR_AUTH);
    char longname[GH_POLICY_NAME_MAX + 10];
    memset(longname, 'p', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(decide(f, token(t, sizeof t, HOST, KEY1, NOW + 60, longname), 1), GH_ERR_AUTH);
    assert_int_equal(decide_on(f, token(t, sizeof t, HOST, KEY3, NOW + 60, "owner"), dev_path, 2,
                               "d1", NULL, 1, &why),
                     GH_ERR_AUTH);
    assert_string_equal(why, "signature does not verify");
}

static void test_expiry_with_skew(void **state)
{
    struct fx *f = *state;
    char t[512];
    assert_int_equal(decide(f, token(t, sizeof t, HOST, KEY1, NOW - 300, "owner"), 1), GH_OK);
    assert_int_equal(decide(f, token(t, sizeof t, HOST, KEY1, NOW - 301, "owner"), 1),
                     GH_ERR_EXPIRED);
    /* The signature is checked before the expiry. */
    assert_int_equal(decide(f, token(t, sizeof t, HOST, KEY3, NOW - 3000, "owner"), 1),
                     GH_ERR_AUTH);
}

static void test_audience(void **state)
{
    struct fx *f = *state;
    char t[512];
    const char *why;
    static const char *const twin_path[] = {"twins", "d1"};
    static const char *const mod_path[] = {"twins", "d1", "modules", "m1"};
    static const char *const cert_path[] = {"certificates", "ca1"};
    assert_int_equal(
        decide(f, token(t, sizeof t, "other.gatehouse.test", KEY1, NOW + 60, "owner"), 1),
        GH_ERR_AUTH);
    /* Host followed by a segment-wise prefix of the request path. */
    assert_int_equal(decide(f, token(t, sizeof t, HOST "/devices", KEY1, NOW + 60, "owner"), 1),
                     GH_OK);
    assert_int_equal(
        decide(f, token(t, sizeof t, HOST "%2Fdevices%2Fd1", KEY1, NOW + 60, "owner"), 1), GH_OK);
    assert_int_equal(decide(f, token(t, sizeof t, HOST "/devices/d", KEY1, NOW + 60, "owner"), 1),
                     GH_ERR_AUTH);
    assert_int_equal(
        decide(f, token(t, sizeof t, HOST "/devices/d1/x", KEY1, NOW + 60, "owner"), 1),
        GH_ERR_AUTH);
    assert_int_equal(decide_on(f, token(t, sizeof t, HOST "/twins/d1", KEY1, NOW + 60, "owner"),
                               twin_path, 2, "d1", NULL, 1, &why),
                     GH_OK);
    /* A device-scoped audience covers that device's twin and methods. */
    assert_int_equal(decide_on(f, token(t, sizeof t, HOST "/devices/d1", KEY1, NOW + 60, "owner"),
                               twin_path, 2, "d1", NULL, 1, &why),
                     GH_OK);
    assert_int_equal(decide_on(f, token(t, sizeof t, HOST "/devices/d2", KEY1, NOW + 60, "owner"),
                               twin_path, 2, "d1", NULL, 1, &why),
                     GH_ERR_AUTH);
    assert_string_equal(why, "token audience does not cover this resource");
    assert_int_equal(
        decide_on(f, token(t, sizeof t, HOST "/devices/d1/modules/m1", KEY1, NOW + 60, "owner"),
                  mod_path, 4, "d1", "m1", 1, &why),
        GH_OK);
    assert_int_equal(
        decide_on(f, token(t, sizeof t, HOST "/devices/d1/modules/m2", KEY1, NOW + 60, "owner"),
                  mod_path, 4, "d1", "m1", 1, &why),
        GH_ERR_AUTH);
    /* Not about an identity: only the host or a path prefix. */
    assert_int_equal(decide_on(f, token(t, sizeof t, HOST "/devices", KEY1, NOW + 60, "owner"),
                               cert_path, 2, NULL, NULL, 1, &why),
                     GH_ERR_AUTH);
    assert_int_equal(decide_on(f, token(t, sizeof t, HOST "/certificates", KEY1, NOW + 60, "owner"),
                               cert_path, 2, NULL, NULL, 1, &why),
                     GH_OK);
}

static void test_rights(void **state)
{
    struct fx *f = *state;
    char t[512];
    const char *why;
    assert_int_equal(
        decide(f, token(t, sizeof t, HOST, KEY1, NOW + 60, "svc"), GH_RIGHT_SERVICE_CONNECT),
        GH_OK);
    assert_int_equal(decide_on(f, token(t, sizeof t, HOST, KEY1, NOW + 60, "svc"), dev_path, 2,
                               "d1", NULL, GH_RIGHT_REGISTRY_READ, &why),
                     GH_ERR_FORBIDDEN);
    assert_string_equal(why, "policy lacks the permission this operation needs");
    assert_int_equal(
        decide(f, token(t, sizeof t, HOST, KEY1, NOW + 60, "rr"), GH_RIGHT_REGISTRY_READ), GH_OK);
    assert_int_equal(
        decide(f, token(t, sizeof t, HOST, KEY1, NOW + 60, "rr"), GH_RIGHT_REGISTRY_WRITE),
        GH_ERR_FORBIDDEN);
    assert_int_equal(
        decide(f, token(t, sizeof t, HOST, KEY1, NOW + 60, "rrw"), GH_RIGHT_REGISTRY_WRITE), GH_OK);
    assert_int_equal(
        decide(f, token(t, sizeof t, HOST, KEY1, NOW + 60, "dev"), GH_RIGHT_SERVICE_CONNECT),
        GH_ERR_FORBIDDEN);
    assert_int_equal(decide(f, token(t, sizeof t, HOST, KEY1, NOW + 60, "owner"),
                            GH_RIGHT_REGISTRY_WRITE | GH_RIGHT_SERVICE_CONNECT),
                     GH_OK);
}

static void test_default_policies(void **state)
{
    struct fx *f = *state;
    assert_int_equal(gh_store_ensure_default_policies(f->s, NULL), GH_OK);
    struct gh_policy p;
    assert_int_equal(gh_store_policy_get(f->s, "registryReadWrite", &p), GH_OK);
    char t[512];
    assert_int_equal(decide(f, token(t, sizeof t, HOST, p.secondary_key, NOW + 60, p.name),
                            GH_RIGHT_REGISTRY_READ | GH_RIGHT_REGISTRY_WRITE),
                     GH_OK);
    assert_int_equal(decide(f, token(t, sizeof t, HOST, p.primary_key, NOW + 60, p.name),
                            GH_RIGHT_SERVICE_CONNECT),
                     GH_ERR_FORBIDDEN);
    gh_policy_wipe(&p);
}

static void test_broken_store(void **state)
{
    struct fx *f = *state;
    char t[512];
    token(t, sizeof t, HOST, KEY1, NOW + 60, "owner");
    /* A stored key that is not base64: the row is refused on read. */
    fx_sql(f, "UPDATE policy SET primary_key='!!!not-base64!!!' WHERE name='owner'");
    assert_int_equal(decide(f, t, 1), GH_ERR_DB);
}

static void test_if_match(void **state)
{
    (void)state;
    char buf[16];
    const char *r = "x";
    assert_int_equal(gh_hub_rest_if_match(NULL, buf, sizeof buf, &r), GH_OK);
    assert_null(r);
    assert_int_equal(gh_hub_rest_if_match("", buf, sizeof buf, &r), GH_OK);
    assert_null(r);
    assert_int_equal(gh_hub_rest_if_match("\"*\"", buf, sizeof buf, &r), GH_OK);
    assert_string_equal(r, "*");
    assert_int_equal(gh_hub_rest_if_match("*", buf, sizeof buf, &r), GH_OK);
    assert_string_equal(r, "*");
    assert_int_equal(gh_hub_rest_if_match("\"AAAAAAAAAAc=\"", buf, sizeof buf, &r), GH_OK);
    assert_string_equal(r, "AAAAAAAAAAc=");
    assert_int_equal(gh_hub_rest_if_match("W/\"abc\"", buf, sizeof buf, &r), GH_OK);
    assert_string_equal(r, "abc");
    assert_int_equal(gh_hub_rest_if_match("\"\"", buf, sizeof buf, &r), GH_OK);
    assert_string_equal(r, "");
    r = "unchanged";
    assert_int_equal(gh_hub_rest_if_match("\"abc", buf, sizeof buf, &r), GH_ERR_MALFORMED);
    assert_int_equal(gh_hub_rest_if_match("\"", buf, sizeof buf, &r), GH_ERR_MALFORMED);
    assert_int_equal(gh_hub_rest_if_match("a\"b", buf, sizeof buf, &r), GH_ERR_MALFORMED);
    assert_int_equal(gh_hub_rest_if_match("\"0123456789abcdef\"", buf, sizeof buf, &r),
                     GH_ERR_TOO_LARGE);
    assert_string_equal(r, "unchanged");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_policy_token_ok, setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_rejections, setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_expiry_with_skew, setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_audience, setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_rights, setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_default_policies, setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_broken_store, setup, fx_teardown),
        cmocka_unit_test(test_if_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
