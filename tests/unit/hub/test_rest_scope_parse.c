/* The device-scope request parsers (PROTOCOL.md 6.10): authChain,
 * continuation links made and parsed back, and both POST bodies, with the
 * exact error of every refusal. Pure: no hub. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hub/rest_int.h"

static struct gh_hub_rest_scope_req Q;

static void test_chain(void **state)
{
    (void)state;
    assert_int_equal(gh_hub_rest_scope_chain(gh_slice_cstr("c1;gw"), &Q), GH_OK);
    assert_int_equal(Q.nchain, 2);
    assert_string_equal(Q.chain[0], "c1");
    assert_string_equal(Q.chain[1], "gw");
    assert_int_equal(gh_hub_rest_scope_chain(gh_slice_cstr("a;b;c;d;e"), &Q), GH_OK);
    assert_int_equal(Q.nchain, 5);
    assert_int_equal(gh_hub_rest_scope_chain(gh_slice_cstr("a;b;c;d;e;f"), &Q), GH_ERR_TOO_MANY);
    assert_int_equal(Q.nchain, 5); /* untouched on error */
    assert_int_equal(gh_hub_rest_scope_chain(gh_slice_cstr(""), &Q), GH_ERR_MALFORMED);
    assert_int_equal(gh_hub_rest_scope_chain(gh_slice_cstr("gw;"), &Q), GH_ERR_MALFORMED);
    assert_int_equal(gh_hub_rest_scope_chain(gh_slice_cstr(";gw"), &Q), GH_ERR_MALFORMED);
    assert_int_equal(gh_hub_rest_scope_chain(gh_slice_cstr("a b"), &Q), GH_ERR_MALFORMED);
    char big[GH_IDENTITY_ID_MAX + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(gh_hub_rest_scope_chain(gh_slice_cstr(big), &Q), GH_ERR_MALFORMED);
}

static void test_link(void **state)
{
    (void)state;
    char after[GH_IDENTITY_ID_MAX + 1] = "keep";
    char link[GH_REST_SCOPE_LINK_MAX];
    /* Made and parsed back, ids with reserved characters included. */
    assert_int_equal(gh_hub_rest_scope_link_make(false, "g w?", "c#1&=", 7, link, sizeof link),
                     GH_OK);
    assert_string_equal(link, "/devices/g%20w%3F/modules/$edgeHub/"
                              "devicesAndModulesInTargetDeviceScope?continuationToken=c%231%26%3D"
                              "&api-version=2020-06-30-preview");
    assert_int_equal(gh_hub_rest_scope_link_parse(gh_slice_cstr(link), after),
                     GH_ERR_MALFORMED); /* "c#1&=" has '&', not a device id */
    assert_string_equal(after, "keep");
    assert_int_equal(gh_hub_rest_scope_link_make(true, "gw", "c1", 7, link, sizeof link), GH_OK);
    assert_string_equal(link, "/devices/gw/modules/$edgeHub/devicesAndModulesInDeviceScope?"
                              "deviceCount=7&continuationToken=c1&api-version=2018-08-30-preview");
    assert_int_equal(gh_hub_rest_scope_link_parse(gh_slice_cstr(link), after), GH_OK);
    assert_string_equal(after, "c1");
    assert_int_equal(gh_hub_rest_scope_link_make(false, "gw", "c1", 7, link, 20), GH_ERR_NOBUFS);
    /* Name case-insensitive, value percent-decoded, other parameters ignored. */
    assert_int_equal(
        gh_hub_rest_scope_link_parse(gh_slice_cstr("/x?a=1&CONTINUATIONTOKEN=d%2B1&b"), after),
        GH_OK);
    assert_string_equal(after, "d+1");
    assert_int_equal(gh_hub_rest_scope_link_parse(gh_slice_cstr("/x"), after), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_hub_rest_scope_link_parse(gh_slice_cstr("/x?a=1"), after),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(gh_hub_rest_scope_link_parse(
                         gh_slice_cstr("?continuationToken=a&continuationToken=b"), after),
                     GH_ERR_MALFORMED);
    assert_int_equal(gh_hub_rest_scope_link_parse(gh_slice_cstr("?continuationToken"), after),
                     GH_ERR_MALFORMED);
    assert_int_equal(gh_hub_rest_scope_link_parse(gh_slice_cstr("?continuationToken="), after),
                     GH_ERR_MALFORMED);
    assert_int_equal(gh_hub_rest_scope_link_parse(gh_slice_cstr("?continuationToken=a%00"), after),
                     GH_ERR_MALFORMED);
    char longl[GH_REST_SCOPE_LINK_MAX + 2];
    memset(longl, 'a', sizeof longl - 1);
    longl[sizeof longl - 1] = '\0';
    assert_int_equal(gh_hub_rest_scope_link_parse(gh_slice_cstr(longl), after), GH_ERR_TOO_LARGE);
    assert_string_equal(after, "d+1");
}

static gh_err parse_target(const char *text, char *err)
{
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(j);
    gh_err rc = gh_hub_rest_scope_parse_target(j, &Q, err, 128);
    json_decref(j);
    return rc;
}

static gh_err parse_obo(const char *text, char *err)
{
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(j);
    gh_err rc = gh_hub_rest_scope_parse_on_behalf_of(j, &Q, err, 128);
    json_decref(j);
    return rc;
}

static void test_parse_bodies(void **state)
{
    (void)state;
    char err[128];
    assert_int_equal(parse_target("{\"authChain\":\"gw\"}", err), GH_OK);
    assert_int_equal(Q.page_size, GH_REST_SCOPE_PAGE_DEFAULT);
    assert_string_equal(Q.after, "");
    assert_int_equal(
        parse_target("{\"pageSize\":0,\"continuationLink\":null,\"authChain\":\"gw\"}", err),
        GH_OK);
    assert_int_equal(Q.page_size, GH_REST_SCOPE_PAGE_DEFAULT);
    assert_int_equal(
        parse_target("{\"pageSize\":5000,\"continuationLink\":\"\",\"authChain\":\"g\"}", err),
        GH_OK);
    assert_int_equal(Q.page_size, GH_REST_SCOPE_PAGE_MAX);
    assert_int_equal(parse_target("{\"pageSize\":3,\"continuationLink\":\"/a?continuationToken=c"
                                  "\",\"authChain\":\"c2;gw\"}",
                                  err),
                     GH_OK);
    assert_int_equal(Q.page_size, 3);
    assert_string_equal(Q.after, "c");
    assert_int_equal(Q.nchain, 2);
    assert_int_equal(parse_target("[]", err), GH_ERR_BAD_JSON);
    assert_int_equal(parse_target("{\"pageSize\":\"1\",\"authChain\":\"gw\"}", err),
                     GH_ERR_BAD_JSON);
    assert_string_equal(err, "pageSize must be an integer");
    assert_int_equal(parse_target("{\"pageSize\":-1,\"authChain\":\"gw\"}", err), GH_ERR_ARG);
    assert_int_equal(parse_target("{\"continuationLink\":5,\"authChain\":\"gw\"}", err),
                     GH_ERR_BAD_JSON);
    assert_int_equal(parse_target("{\"continuationLink\":\"/nolink\",\"authChain\":\"gw\"}", err),
                     GH_ERR_ARG);
    assert_string_equal(err, "continuationLink is not one this hub made");
    assert_int_equal(parse_target("{\"pageSize\":1}", err), GH_ERR_ARG);
    assert_string_equal(err, "authChain is required");
    assert_int_equal(parse_target("{\"authChain\":\"a;;b\"}", err), GH_ERR_ARG);
    assert_int_equal(parse_target("{\"authChain\":true}", err), GH_ERR_BAD_JSON);

    assert_int_equal(parse_obo("{\"targetDeviceId\":\"c1\",\"targetModuleId\":null,"
                               "\"authChain\":\"c1;gw\"}",
                               err),
                     GH_OK);
    assert_string_equal(Q.target_device, "c1");
    assert_string_equal(Q.target_module, "");
    assert_int_equal(parse_obo("{\"targetDeviceId\":\"c1\",\"targetModuleId\":\"\","
                               "\"authChain\":\"gw\"}",
                               err),
                     GH_OK);
    assert_string_equal(Q.target_module, "");
    assert_int_equal(parse_obo("{\"targetDeviceId\":\"c1\",\"targetModuleId\":\"$edgeHub\","
                               "\"authChain\":\"gw\"}",
                               err),
                     GH_OK);
    assert_string_equal(Q.target_module, "$edgeHub");
    assert_int_equal(parse_obo("7", err), GH_ERR_BAD_JSON);
    assert_int_equal(parse_obo("{\"authChain\":\"gw\"}", err), GH_ERR_ARG);
    assert_string_equal(err, "targetDeviceId must be a valid device id");
    assert_int_equal(parse_obo("{\"targetDeviceId\":\"a/b\",\"authChain\":\"gw\"}", err),
                     GH_ERR_ARG);
    assert_int_equal(parse_obo("{\"targetDeviceId\":1,\"authChain\":\"gw\"}", err),
                     GH_ERR_BAD_JSON);
    assert_int_equal(
        parse_obo("{\"targetDeviceId\":\"c1\",\"targetModuleId\":\"a b\",\"authChain\":\"gw\"}",
                  err),
        GH_ERR_ARG);
    assert_string_equal(err, "targetModuleId must be a valid module id");
    assert_int_equal(parse_obo("{\"targetDeviceId\":\"c1\"}", err), GH_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain),
        cmocka_unit_test(test_link),
        cmocka_unit_test(test_parse_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
