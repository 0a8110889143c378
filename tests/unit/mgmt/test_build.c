/* What the management commands send: device documents (create/update),
 * twin patches, method calls, C2D header fields, telemetry reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt/mgmt_int.h"

#define KEY1 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY2 "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
#define TP1 "0123456789ABCDEF0123456789ABCDEF01234567"

static json_t *load(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    return j;
}

static const char *sget(const json_t *o, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    const json_t *v = o;
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
        v = json_object_get(v, k);
    return json_string_value(v);
}

static void test_auth_type(void **state)
{
    (void)state;
    const char *t = NULL;
    assert_int_equal(gh_mgmt_auth_type_parse("sas", &t), GH_OK);
    assert_string_equal(t, "sas");
    assert_int_equal(gh_mgmt_auth_type_parse("x509-thumbprint", &t), GH_OK);
    assert_string_equal(t, "selfSigned");
    assert_int_equal(gh_mgmt_auth_type_parse("x509-ca", &t), GH_OK);
    assert_string_equal(t, "certificateAuthority");
    assert_int_equal(gh_mgmt_auth_type_parse("certificateAuthority", &t), GH_OK);
    assert_int_equal(gh_mgmt_auth_type_parse("SAS", &t), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_auth_type_parse("none", &t), GH_ERR_ARG);
}

static void test_create_sas(void **state)
{
    (void)state;
    char msg[256] = "";
    json_t *d = load("{\"deviceId\":\"d\"}");
    struct gh_mgmt_device_change ch = {.edge = -1, .status = "disabled"};
    assert_int_equal(gh_mgmt_device_apply(d, &ch, msg, sizeof msg), GH_OK);
    assert_string_equal(sget(d, "status"), "disabled");
    assert_string_equal(sget(d, "authentication.type"), "sas");
    assert_true(json_is_false(json_object_get(json_object_get(d, "capabilities"), "iotEdge")));
    assert_null(json_object_get(d, "deviceScope")); /* a new leaf without parent */
    json_decref(d);
    d = load("{\"deviceId\":\"d\"}");
    ch = (struct gh_mgmt_device_change){.edge = -1, .primary_key = KEY1, .secondary_key = KEY2};
    assert_int_equal(gh_mgmt_device_apply(d, &ch, msg, sizeof msg), GH_OK);
    assert_string_equal(sget(d, "authentication.symmetricKey.primaryKey"), KEY1);
    assert_string_equal(sget(d, "authentication.symmetricKey.secondaryKey"), KEY2);
    json_decref(d);
    d = load("{\"deviceId\":\"d\"}");
    ch = (struct gh_mgmt_device_change){.edge = -1, .primary_key = KEY1};
    assert_int_equal(gh_mgmt_device_apply(d, &ch, msg, sizeof msg), GH_ERR_ARG);
    assert_non_null(strstr(msg, "give both"));
    json_decref(d);
}

static void test_create_x509(void **state)
{
    (void)state;
    char msg[256] = "";
    json_t *d = load("{\"deviceId\":\"d\"}");
    struct gh_mgmt_device_change ch = {
        .edge = -1, .auth_type = "selfSigned", .primary_thumbprint = TP1};
    assert_int_equal(gh_mgmt_device_apply(d, &ch, msg, sizeof msg), GH_OK);
    assert_string_equal(sget(d, "authentication.type"), "selfSigned");
    assert_string_equal(sget(d, "authentication.x509Thumbprint.primaryThumbprint"), TP1);
    assert_null(json_object_get(json_object_get(d, "authentication"), "symmetricKey"));
    json_decref(d);
    d = load("{\"deviceId\":\"d\"}");
    ch = (struct gh_mgmt_device_change){.edge = -1, .auth_type = "selfSigned"};
    assert_int_equal(gh_mgmt_device_apply(d, &ch, msg, sizeof msg), GH_ERR_ARG);
    assert_non_null(strstr(msg, "--primary-thumbprint or --cert"));
    json_decref(d);
    d = load("{\"deviceId\":\"d\"}");
    ch = (struct gh_mgmt_device_change){
        .edge = -1, .auth_type = "certificateAuthority", .primary_key = KEY1};
    assert_int_equal(gh_mgmt_device_apply(d, &ch, msg, sizeof msg), GH_ERR_ARG);
    assert_non_null(strstr(msg, "apply to SAS devices"));
    json_decref(d);
    d = load("{\"deviceId\":\"d\"}");
    ch = (struct gh_mgmt_device_change){.edge = -1, .primary_thumbprint = TP1};
    assert_int_equal(gh_mgmt_device_apply(d, &ch, msg, sizeof msg), GH_ERR_ARG);
    assert_non_null(strstr(msg, "apply to x509-thumbprint devices"));
    json_decref(d);
    d = load("{\"deviceId\":\"d\"}");
    ch = (struct gh_mgmt_device_change){.edge = -1, .auth_type = "certificateAuthority"};
    assert_int_equal(gh_mgmt_device_apply(d, &ch, msg, sizeof msg), GH_OK);
    assert_string_equal(sget(d, "authentication.type"), "certificateAuthority");
    json_decref(d);
    json_t *notobj = json_array();
    assert_int_equal(gh_mgmt_device_apply(notobj, &ch, msg, sizeof msg), GH_ERR_ARG);
    json_decref(notobj);
}

#define GET_SAS                                                                                    \
    "{\"deviceId\":\"d\",\"etag\":\"e\",\"status\":\"enabled\",\"authentication\":{"               \
    "\"symmetricKey\":{\"primaryKey\":\"" KEY1 "\",\"secondaryKey\":\"" KEY2 "\"},"                \
    "\"x509Thumbprint\":{\"primaryThumbprint\":null,\"secondaryThumbprint\":null},"                \
    "\"type\":\"sas\"},\"capabilities\":{\"iotEdge\":false},"

static void test_update(void **state)
{
    (void)state;
    char msg[256] = "";
    /* Rotate one key: the other stays. */
    json_t *d = load(GET_SAS "\"deviceScope\":\"S\",\"parentScopes\":[\"S\"]}");
    struct gh_mgmt_device_change ch = {.edge = -1, .secondary_key = KEY1};
    assert_int_equal(gh_mgmt_device_apply(d, &ch, msg, sizeof msg), GH_OK);
    assert_string_equal(sget(d, "authentication.symmetricKey.primaryKey"), KEY1);
    assert_string_equal(sget(d, "authentication.symmetricKey.secondaryKey"), KEY1);
    assert_string_equal(sget(d, "deviceScope"), "S"); /* untouched */
    /* Switch to thumbprints: the keys go. */
    ch = (struct gh_mgmt_device_change){
        .edge = -1, .auth_type = "selfSigned", .primary_thumbprint = TP1};
    assert_int_equal(gh_mgmt_device_apply(d, &ch, msg, sizeof msg), GH_OK);
    assert_null(json_object_get(json_object_get(d, "authentication"), "symmetricKey"));
    assert_string_equal(sget(d, "authentication.x509Thumbprint.primaryThumbprint"), TP1);
    /* And back to SAS: no keys, so the hub generates them. */
    ch = (struct gh_mgmt_device_change){.edge = -1, .auth_type = "sas"};
    assert_int_equal(gh_mgmt_device_apply(d, &ch, msg, sizeof msg), GH_OK);
    assert_null(json_object_get(json_object_get(d, "authentication"), "x509Thumbprint"));
    assert_non_null(json_object_get(json_object_get(d, "authentication"), "symmetricKey"));
    json_decref(d);
}

static void test_parents(void **state)
{
    (void)state;
    char msg[256] = "";
    /* A leaf gets a parent: deviceScope and parentScopes. */
    json_t *d = load(GET_SAS "\"parentScopes\":[]}");
    struct gh_mgmt_device_change ch = {.edge = -1, .set_parent = true, .parent_scope = "P"};
    assert_int_equal(gh_mgmt_device_apply(d, &ch, msg, sizeof msg), GH_OK);
    assert_string_equal(sget(d, "deviceScope"), "P");
    assert_string_equal(json_string_value(json_array_get(json_object_get(d, "parentScopes"), 0)),
                        "P");
    /* ... and loses it. */
    ch = (struct gh_mgmt_device_change){.edge = -1, .set_parent = true};
    assert_int_equal(gh_mgmt_device_apply(d, &ch, msg, sizeof msg), GH_OK);
    assert_string_equal(sget(d, "deviceScope"), "");
    assert_int_equal(json_array_size(json_object_get(d, "parentScopes")), 0);
    json_decref(d);
    /* An Edge device: the parent goes into parentScopes; its own deviceScope
     * is the hub's. */
    d = load(GET_SAS "\"deviceScope\":\"OWN\",\"parentScopes\":[]}");
    json_object_set_new(json_object_get(d, "capabilities"), "iotEdge", json_true());
    ch = (struct gh_mgmt_device_change){.edge = -1, .set_parent = true, .parent_scope = "P"};
    assert_int_equal(gh_mgmt_device_apply(d, &ch, msg, sizeof msg), GH_OK);
    assert_null(json_object_get(d, "deviceScope"));
    assert_string_equal(json_string_value(json_array_get(json_object_get(d, "parentScopes"), 0)),
                        "P");
    /* Edge -> leaf keeps the parent, now as deviceScope. */
    json_object_set_new(d, "deviceScope", json_string("OWN"));
    ch = (struct gh_mgmt_device_change){.edge = 0};
    assert_int_equal(gh_mgmt_device_apply(d, &ch, msg, sizeof msg), GH_OK);
    assert_string_equal(sget(d, "deviceScope"), "P");
    assert_true(json_is_false(json_object_get(json_object_get(d, "capabilities"), "iotEdge")));
    /* Leaf -> Edge keeps the parent, now in parentScopes. */
    ch = (struct gh_mgmt_device_change){.edge = 1};
    assert_int_equal(gh_mgmt_device_apply(d, &ch, msg, sizeof msg), GH_OK);
    assert_null(json_object_get(d, "deviceScope"));
    assert_string_equal(json_string_value(json_array_get(json_object_get(d, "parentScopes"), 0)),
                        "P");
    assert_true(json_is_true(json_object_get(json_object_get(d, "capabilities"), "iotEdge")));
    json_decref(d);
}

static void args_set(struct gh_mgmt_args *a, enum gh_mgmt_opt o, const char *v)
{
    a->given[o] = true;
    a->val[o] = v;
}

static void test_twin_patch(void **state)
{
    (void)state;
    struct gh_mgmt_args a;
    char msg[256] = "";
    json_t *b = NULL;
    memset(&a, 0, sizeof a);
    assert_int_equal(gh_mgmt_twin_patch_body(&a, &b, msg, sizeof msg), GH_ERR_USAGE);
    args_set(&a, GH_MOPT_DESIRED, "{\"t\":21}");
    args_set(&a, GH_MOPT_TAGS, "{\"site\":\"a\"}");
    assert_int_equal(gh_mgmt_twin_patch_body(&a, &b, msg, sizeof msg), GH_OK);
    char *t = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(t, "{\"properties\":{\"desired\":{\"t\":21}},\"tags\":{\"site\":\"a\"}}");
    free(t);
    json_decref(b);
    args_set(&a, GH_MOPT_PATCH, "{}");
    assert_int_equal(gh_mgmt_twin_patch_body(&a, &b, msg, sizeof msg), GH_ERR_USAGE);
    memset(&a, 0, sizeof a);
    args_set(&a, GH_MOPT_PATCH, "{\"tags\":{\"x\":null}}");
    assert_int_equal(gh_mgmt_twin_patch_body(&a, &b, msg, sizeof msg), GH_OK);
    assert_true(json_is_null(json_object_get(json_object_get(b, "tags"), "x")));
    json_decref(b);
    memset(&a, 0, sizeof a);
    args_set(&a, GH_MOPT_TAGS, "[1]");
    assert_int_equal(gh_mgmt_twin_patch_body(&a, &b, msg, sizeof msg), GH_ERR_ARG);
    memset(&a, 0, sizeof a);
    args_set(&a, GH_MOPT_DESIRED, "{\"t\":21}");
    args_set(&a, GH_MOPT_TAGS, "{oops");
    assert_int_equal(gh_mgmt_twin_patch_body(&a, &b, msg, sizeof msg), GH_ERR_ARG);
    assert_non_null(strstr(msg, "--tags"));
}

static void test_method(void **state)
{
    (void)state;
    struct gh_mgmt_args a;
    char msg[256] = "";
    json_t *b = NULL;
    unsigned http = 0;
    memset(&a, 0, sizeof a);
    assert_int_equal(gh_mgmt_method_body(&a, "reboot", &b, &http, msg, sizeof msg), GH_OK);
    char *t = json_dumps(b, JSON_COMPACT);
    assert_string_equal(t, "{\"methodName\":\"reboot\",\"payload\":null,"
                           "\"responseTimeoutInSeconds\":30,\"connectTimeoutInSeconds\":0}");
    free(t);
    json_decref(b);
    assert_int_equal(http, 40);
    args_set(&a, GH_MOPT_PAYLOAD, "{\"delay\":5}");
    args_set(&a, GH_MOPT_RESPONSE_TIMEOUT, "300");
    args_set(&a, GH_MOPT_CONNECT_TIMEOUT, "300");
    assert_int_equal(gh_mgmt_method_body(&a, "m", &b, &http, msg, sizeof msg), GH_OK);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(b, "payload"), "delay")),
                     5);
    json_decref(b);
    assert_int_equal(http, 610);
    args_set(&a, GH_MOPT_RESPONSE_TIMEOUT, "4");
    assert_int_equal(gh_mgmt_method_body(&a, "m", &b, &http, msg, sizeof msg), GH_ERR_ARG);
    assert_non_null(strstr(msg, "--response-timeout"));
    args_set(&a, GH_MOPT_RESPONSE_TIMEOUT, "5");
    args_set(&a, GH_MOPT_CONNECT_TIMEOUT, "301");
    assert_int_equal(gh_mgmt_method_body(&a, "m", &b, &http, msg, sizeof msg), GH_ERR_ARG);
    args_set(&a, GH_MOPT_CONNECT_TIMEOUT, "0");
    args_set(&a, GH_MOPT_PAYLOAD, "not json");
    assert_int_equal(gh_mgmt_method_body(&a, "m", &b, &http, msg, sizeof msg), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_method_body(&a, "", &b, &http, msg, sizeof msg), GH_ERR_ARG);
    char name[130];
    memset(name, 'm', 129);
    name[129] = '\0';
    assert_int_equal(gh_mgmt_method_body(&a, name, &b, &http, msg, sizeof msg), GH_ERR_ARG);
}

static const char *header(const struct gh_mgmt_c2d_headers *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->kv[i].name, name) == 0) return h->kv[i].value;
    return NULL;
}

static void test_c2d_headers(void **state)
{
    (void)state;
    struct gh_mgmt_args a;
    struct gh_mgmt_c2d_headers *h = calloc(1, sizeof *h);
    assert_non_null(h);
    char msg[256] = "";
    memset(&a, 0, sizeof a);
    assert_int_equal(gh_mgmt_c2d_headers(&a, 0, h, msg, sizeof msg), GH_OK);
    assert_int_equal(h->n, 0);
    args_set(&a, GH_MOPT_MESSAGE_ID, "m-1");
    args_set(&a, GH_MOPT_CORRELATION_ID, "c-1");
    args_set(&a, GH_MOPT_TTL, "30m");
    args_set(&a, GH_MOPT_ACK, "full");
    args_set(&a, GH_MOPT_CONTENT_TYPE, "application/json");
    args_set(&a, GH_MOPT_CONTENT_ENCODING, "utf-8");
    a.props[a.nprops++] = "level=high";
    a.props[a.nprops++] = "path=a/b?c=d";
    assert_int_equal(gh_mgmt_c2d_headers(&a, 1767225600000LL, h, msg, sizeof msg), GH_OK);
    assert_string_equal(header(h, "iothub-messageid"), "m-1");
    assert_string_equal(header(h, "iothub-correlationid"), "c-1");
    assert_string_equal(header(h, "iothub-expiry"), "2026-01-01T00:30:00.000Z");
    assert_string_equal(header(h, "iothub-ack"), "full");
    assert_string_equal(header(h, "Content-Encoding"), "utf-8");
    assert_null(header(h, "Content-Type")); /* the request's content type carries it */
    assert_string_equal(header(h, "iothub-app-level"), "high");
    assert_string_equal(header(h, "iothub-app-path"), "a/b?c=d");
    assert_int_equal(h->n, 7);
    /* Errors. */
    a.props[a.nprops++] = "LEVEL=again";
    assert_int_equal(gh_mgmt_c2d_headers(&a, 0, h, msg, sizeof msg), GH_ERR_ARG);
    assert_non_null(strstr(msg, "given twice"));
    a.nprops = 1;
    args_set(&a, GH_MOPT_EXPIRY, "2026-01-01T00:00:00Z");
    assert_int_equal(gh_mgmt_c2d_headers(&a, 0, h, msg, sizeof msg), GH_ERR_USAGE);
    a.val[GH_MOPT_TTL] = NULL;
    assert_int_equal(gh_mgmt_c2d_headers(&a, 0, h, msg, sizeof msg), GH_OK);
    assert_string_equal(header(h, "iothub-expiry"), "2026-01-01T00:00:00.000Z");
    args_set(&a, GH_MOPT_EXPIRY, "tomorrow");
    assert_int_equal(gh_mgmt_c2d_headers(&a, 0, h, msg, sizeof msg), GH_ERR_ARG);
    a.val[GH_MOPT_EXPIRY] = NULL;
    args_set(&a, GH_MOPT_TTL, "forever");
    assert_int_equal(gh_mgmt_c2d_headers(&a, 0, h, msg, sizeof msg), GH_ERR_ARG);
    a.val[GH_MOPT_TTL] = NULL;
    args_set(&a, GH_MOPT_ACK, "FULL");
    assert_int_equal(gh_mgmt_c2d_headers(&a, 0, h, msg, sizeof msg), GH_ERR_ARG);
    args_set(&a, GH_MOPT_ACK, "none");
    args_set(&a, GH_MOPT_MESSAGE_ID, "has space");
    assert_int_equal(gh_mgmt_c2d_headers(&a, 0, h, msg, sizeof msg), GH_ERR_ARG);
    assert_non_null(strstr(msg, "--message-id"));
    args_set(&a, GH_MOPT_MESSAGE_ID, "ok");
    args_set(&a, GH_MOPT_CORRELATION_ID, "");
    assert_int_equal(gh_mgmt_c2d_headers(&a, 0, h, msg, sizeof msg), GH_ERR_ARG);
    args_set(&a, GH_MOPT_CORRELATION_ID, "ok");
    args_set(&a, GH_MOPT_CONTENT_TYPE, " text");
    assert_int_equal(gh_mgmt_c2d_headers(&a, 0, h, msg, sizeof msg), GH_ERR_ARG);
    args_set(&a, GH_MOPT_CONTENT_TYPE, "text/plain");
    args_set(&a, GH_MOPT_CONTENT_ENCODING, "a\rb");
    assert_int_equal(gh_mgmt_c2d_headers(&a, 0, h, msg, sizeof msg), GH_ERR_ARG);
    args_set(&a, GH_MOPT_CONTENT_ENCODING, "gzip");
    a.props[0] = "bad name=1";
    assert_int_equal(gh_mgmt_c2d_headers(&a, 0, h, msg, sizeof msg), GH_ERR_ARG);
    free(h);
}

static void test_telemetry_target(void **state)
{
    (void)state;
    char out[256];
    assert_int_equal(gh_mgmt_telemetry_target(out, sizeof out, NULL, 0, NULL, 1000, 0), GH_OK);
    assert_string_equal(out, "/gatehouse/telemetry?after=0&limit=1000");
    assert_int_equal(
        gh_mgmt_telemetry_target(out, sizeof out, "d#1", 17, "2026-01-01T00:00:00.000Z", 5, 25),
        GH_OK);
    assert_string_equal(out, "/gatehouse/telemetry?after=17&device=d%231&since=2026-01-01T00%3A00"
                             "%3A00.000Z&limit=5&wait=25");
    assert_int_equal(gh_mgmt_telemetry_target(out, 16, NULL, 0, NULL, 1, 0), GH_ERR_NOBUFS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth_type),        cmocka_unit_test(test_create_sas),
        cmocka_unit_test(test_create_x509),      cmocka_unit_test(test_update),
        cmocka_unit_test(test_parents),          cmocka_unit_test(test_twin_patch),
        cmocka_unit_test(test_method),           cmocka_unit_test(test_c2d_headers),
        cmocka_unit_test(test_telemetry_target),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
