/* The REST API's header to cloud-to-device message mapping
 * (gh_hub_rest_c2d_from_fields): defaults, every field, case-insensitive
 * names, percent-encoded property names, and every rejection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub/rest_int.h"

/* 2026-01-01T00:00:00.000Z */
#define T0 INT64_C(1767225600000)

/* Compact JSON text of j (decref'd), for exact comparisons. */
static char *text_of(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(j);
    assert_non_null(s);
    return s;
}

/* ---- C2D header mapping ------------------------------------------------------- */

static void add_field(struct gh_http_fields *f, const char *name, const char *value)
{
    assert_true(f->count < GH_HTTP_HEADERS_MAX);
    f->h[f->count].name = gh_slice_cstr(name);
    f->h[f->count].value = gh_slice_cstr(value);
    f->count++;
}

static gh_err c2d(const struct gh_http_fields *f, struct gh_hub_rest_c2d *m)
{
    char err[GH_REST_ERROR_TEXT_MAX] = "unset";
    memset(m, 0, sizeof *m);
    gh_err rc = gh_hub_rest_c2d_from_fields(f, T0, 3600000, m, err, sizeof err);
    if (rc == GH_OK)
        assert_string_equal(err, "");
    else
        assert_true(err[0] != '\0' && strcmp(err, "unset") != 0);
    return rc;
}

static void test_c2d_defaults(void **state)
{
    (void)state;
    struct gh_http_fields f = {0};
    add_field(&f, "Host", "hub.gatehouse.test");
    add_field(&f, "Authorization", "SharedAccessSignature sr=x");
    add_field(&f, "iothub-to", "/devices/x");
    struct gh_hub_rest_c2d m;
    assert_int_equal(c2d(&f, &m), GH_OK);
    assert_string_equal(m.message_id, "");
    assert_int_equal(m.expiry_ms, T0 + 3600000);
    assert_int_equal(m.ack, GH_C2D_ACK_NONE);
    char *t = text_of(m.properties);
    assert_string_equal(t, "{\"system\":{},\"app\":{}}");
    free(t);
}

static void test_c2d_mapping(void **state)
{
    (void)state;
    struct gh_http_fields f = {0};
    add_field(&f, "IoTHub-MessageId", "msg-1");
    add_field(&f, "iothub-correlationid", "corr 1");
    add_field(&f, "iothub-userid", "alice");
    add_field(&f, "iothub-expiry", "2026-01-01T00:10:00.250Z");
    add_field(&f, "iothub-ack", "FULL");
    add_field(&f, "Content-Type", "application/json");
    add_field(&f, "content-encoding", "utf-8");
    add_field(&f, "iothub-app-color", "red");
    add_field(&f, "IOTHUB-APP-Empty", "");
    add_field(&f, "iothub-app-with%20space", "a b/c&d=e");
    add_field(&f, "iothub-app-%c3%a9t%C3%A9", "\xc3\xa9t\xc3\xa9");
    struct gh_hub_rest_c2d m;
    assert_int_equal(c2d(&f, &m), GH_OK);
    assert_string_equal(m.message_id, "msg-1");
    assert_int_equal(m.expiry_ms, T0 + 600250);
    assert_int_equal(m.ack, GH_C2D_ACK_FULL);
    char *t = text_of(m.properties);
    assert_string_equal(t, "{\"system\":{\"correlation-id\":\"corr 1\",\"user-id\":\"alice\","
                           "\"content-type\":\"application/json\",\"content-encoding\":\"utf-8\"},"
                           "\"app\":{\"color\":\"red\",\"Empty\":\"\",\"with space\":\"a b/c&d=e\","
                           "\"\xc3\xa9t\xc3\xa9\":\"\xc3\xa9t\xc3\xa9\"}}");
    free(t);
    static const char *const acks[] = {"none", "positive", "Negative", "full"};
    for (size_t i = 0; i < 4; i++) {
        struct gh_http_fields g = {0};
        add_field(&g, "iothub-ack", acks[i]);
        assert_int_equal(c2d(&g, &m), GH_OK);
        assert_int_equal(m.ack, (enum gh_c2d_ack)i);
        json_decref(m.properties);
    }
}

static void test_c2d_errors(void **state)
{
    (void)state;
    char big[GH_REST_C2D_PROP_MAX + 2];
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char id129[GH_C2D_MSGID_MAX + 2];
    memset(id129, 'i', sizeof id129 - 1);
    id129[sizeof id129 - 1] = '\0';
    static char bigname[sizeof GH_REST_C2D_APP_PREFIX + GH_REST_C2D_PROP_MAX + 1];
    snprintf(bigname, sizeof bigname, "%s%s", GH_REST_C2D_APP_PREFIX, big);
    const struct {
        const char *name[2], *value[2];
        gh_err rc;
    } bad[] = {
        {{"iothub-messageid"}, {""}, GH_ERR_ARG},
        {{"iothub-messageid"}, {"has space"}, GH_ERR_ARG},
        {{"iothub-messageid"}, {"caf\xc3\xa9"}, GH_ERR_ARG},
        {{"iothub-messageid"}, {id129}, GH_ERR_ARG},
        {{"iothub-messageid", "iothub-messageid"}, {"a", "b"}, GH_ERR_ARG},
        {{"iothub-expiry"}, {"tomorrow"}, GH_ERR_ARG},
        {{"iothub-expiry"}, {"2026-01-01T00:00:00Z"}, GH_ERR_ARG}, /* = now: past */
        {{"iothub-expiry"}, {"2025-12-31T00:00:00Z"}, GH_ERR_ARG},
        {{"iothub-expiry", "iothub-expiry"},
         {"2026-02-01T00:00:00Z", "2026-02-01T00:00:00Z"},
         GH_ERR_ARG},
        {{"iothub-ack"}, {"sometimes"}, GH_ERR_ARG},
        {{"iothub-ack", "iothub-ack"}, {"none", "full"}, GH_ERR_ARG},
        {{"iothub-correlationid", "iothub-CorrelationId"}, {"a", "b"}, GH_ERR_ARG},
        {{"iothub-app-x", "iothub-app-x"}, {"1", "2"}, GH_ERR_ARG},
        {{"iothub-app-x"}, {"\xff"}, GH_ERR_ARG},
        {{"iothub-app-%ff"}, {"v"}, GH_ERR_ARG},
        {{"iothub-app-a%00b"}, {"v"}, GH_ERR_ARG},
        {{"iothub-app-x"}, {big}, GH_ERR_TOO_LARGE},
        {{"iothub-userid"}, {big}, GH_ERR_TOO_LARGE},
        {{bigname}, {"v"}, GH_ERR_TOO_LARGE},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct gh_http_fields f = {0};
        for (size_t k = 0; k < 2 && bad[i].name[k]; k++)
            add_field(&f, bad[i].name[k], bad[i].value[k]);
        struct gh_hub_rest_c2d m;
        assert_int_equal(c2d(&f, &m), bad[i].rc);
        assert_null(m.properties);
    }
    /* The prefix alone is not an application property (ignored). */
    struct gh_http_fields f = {0};
    add_field(&f, "iothub-app-", "v");
    struct gh_hub_rest_c2d m;
    assert_int_equal(c2d(&f, &m), GH_OK);
    assert_int_equal(json_object_size(json_object_get(m.properties, "app")), 0);
    json_decref(m.properties);
}

static void test_c2d_app_limit(void **state)
{
    (void)state;
    static char names[GH_REST_C2D_APP_PROPS_MAX + 1][32];
    struct gh_http_fields f = {0};
    for (size_t i = 0; i < GH_REST_C2D_APP_PROPS_MAX; i++) {
        snprintf(names[i], sizeof names[i], "iothub-app-p%zu", i);
        add_field(&f, names[i], "v");
    }
    struct gh_hub_rest_c2d m;
    assert_int_equal(c2d(&f, &m), GH_OK);
    assert_int_equal(json_object_size(json_object_get(m.properties, "app")),
                     GH_REST_C2D_APP_PROPS_MAX);
    json_decref(m.properties);
    snprintf(names[GH_REST_C2D_APP_PROPS_MAX], sizeof names[0], "iothub-app-one-more");
    add_field(&f, names[GH_REST_C2D_APP_PROPS_MAX], "v");
    assert_int_equal(c2d(&f, &m), GH_ERR_TOO_MANY);
    assert_null(m.properties);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_c2d_defaults),
        cmocka_unit_test(test_c2d_mapping),
        cmocka_unit_test(test_c2d_errors),
        cmocka_unit_test(test_c2d_app_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
