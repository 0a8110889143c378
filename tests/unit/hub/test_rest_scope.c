/* The device-scope API for gateways (PROTOCOL.md 6.10): the three
 * endpoints on an in-process hub (rest_fixture.h) with every authorization
 * outcome. The parsers: test_rest_scope_parse.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "rest_fixture.h"

#define API "?api-version=" GH_REST_SCOPE_API_NESTED
#define LEGACY "?api-version=" GH_REST_SCOPE_API_LEGACY
#define TARGET "/modules/$edgeHub/devicesAndModulesInTargetDeviceScope" API
#define OBO "/modules/$edgeHub/getDeviceAndModuleOnBehalfOf" API

/* ---- the hub -------------------------------------------------------------- */

/* Registry of the endpoint tests:
 *   gw (Edge): children a0, c1, c3, z9; gw2 (Edge): child x1;
 *   gwoff (Edge, disabled); plain (no scope); gwx (Edge, X.509 thumbprint). */
static char gw_scope[GH_IDENTITY_SCOPE_MAX + 1];
static char gw_key[GH_IDENTITY_KEY_MAX + 1], gw_hub_key[GH_IDENTITY_KEY_MAX + 1];
static char plain_key[GH_IDENTITY_KEY_MAX + 1], off_key[GH_IDENTITY_KEY_MAX + 1];

static json_t *put_device(const char *id, const char *body)
{
    char target[256];
    snprintf(target, sizeof target, "/devices/%s?api-version=2021-04-12", id);
    json_t *j = NULL;
    assert_int_equal(simple("PUT", target, body, &j), 200);
    return j;
}

static void copy_key(json_t *dev, char *out)
{
    const char *k = json_string_value(json_object_get(
        json_object_get(json_object_get(dev, "authentication"), "symmetricKey"), "primaryKey"));
    assert_non_null(k);
    snprintf(out, GH_IDENTITY_KEY_MAX + 1, "%s", k);
}

/* Upper-case SHA-256 thumbprint of a PEM certificate. */
static void thumbprint(const char *pem, char *out)
{
    FILE *f = fopen(pem, "r");
    assert_non_null(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    assert_int_equal(X509_digest(x, EVP_sha256(), md, &n), 1);
    X509_free(x);
    for (unsigned i = 0; i < n; i++) sprintf(out + 2 * i, "%02X", md[i]);
}

static int setup(void **state)
{
    if (group_setup(state) != 0) return -1;
    json_t *j = put_device("gw", "{\"deviceId\":\"gw\",\"capabilities\":{\"iotEdge\":true}}");
    snprintf(gw_scope, sizeof gw_scope, "%s", json_string_value(json_object_get(j, "deviceScope")));
    copy_key(j, gw_key);
    json_decref(j);
    struct gh_identity m;
    if (gh_store_identity_get(gh_hub_store(T.hub), "gw", "$edgeHub", &m) != GH_OK) return -1;
    snprintf(gw_hub_key, sizeof gw_hub_key, "%s", m.primary_key);
    gh_identity_wipe(&m);
    char body[512];
    const char *kids[] = {"c3", "a0", "z9", "c1"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(body, sizeof body, "{\"deviceId\":\"%s\",\"deviceScope\":\"%s\"}", kids[i],
                 gw_scope);
        json_decref(put_device(kids[i], body));
    }
    j = put_device("gw2", "{\"deviceId\":\"gw2\",\"capabilities\":{\"iotEdge\":true}}");
    snprintf(body, sizeof body, "{\"deviceId\":\"x1\",\"deviceScope\":\"%s\"}",
             json_string_value(json_object_get(j, "deviceScope")));
    json_decref(j);
    json_decref(put_device("x1", body));
    j = put_device("gwoff", "{\"deviceId\":\"gwoff\",\"status\":\"disabled\","
                            "\"capabilities\":{\"iotEdge\":true}}");
    copy_key(j, off_key);
    json_decref(j);
    j = put_device("plain", "{\"deviceId\":\"plain\"}");
    copy_key(j, plain_key);
    json_decref(j);
    if (run("'%s' pki issue-device gwx --issuer root --dir '%s' >/dev/null", gatehouse(), T.pki) !=
        0)
        return -1;
    char pem[400], tp[2 * EVP_MAX_MD_SIZE + 1];
    snprintf(pem, sizeof pem, "%s/certs/gwx.cert.pem", T.pki);
    thumbprint(pem, tp);
    snprintf(body, sizeof body,
             "{\"deviceId\":\"gwx\",\"capabilities\":{\"iotEdge\":true},\"authentication\":"
             "{\"type\":\"selfSigned\",\"x509Thumbprint\":{\"primaryThumbprint\":\"%s\"}}}",
             tp);
    json_decref(put_device("gwx", body));
    return 0;
}

/* ---- helpers ----------------------------------------------------------------- */

/* A device token (no skn) with audience text sr, signed with key. */
static void device_token(char *out, size_t cap, const char *sr, const char *key, int64_t ttl)
{
    struct gh_writer w;
    gh_writer_init(&w, out, cap);
    assert_int_equal(
        gh_sas_build(gh_slice_cstr(sr), gh_slice_cstr(key), gh_hub_now_ms() / 1000 + ttl, NULL, &w),
        GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
}

/* The Node-style encoded audience of device d (module m or NULL). */
static void audience(char *out, size_t cap, const char *d, const char *m)
{
    struct gh_writer w;
    gh_writer_init(&w, out, cap);
    struct gh_slice ms = gh_slice_cstr(m ? m : "");
    assert_int_equal(
        gh_sas_audience_encode(gh_slice_cstr(HOST), gh_slice_cstr(d), m ? &ms : NULL, &w), GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
}

/* A request with the given Authorization (NULL: none). */
static unsigned req_as(const char *auth, const char *method, const char *target, const char *body,
                       json_t **j)
{
    struct gh_http_kv h = {"Authorization", auth};
    struct rq r = {.method = method,
                   .target = target,
                   .body = body,
                   .h = auth ? &h : NULL,
                   .nh = auth ? 1 : 0,
                   .no_auth = true};
    return call(&r, j, NULL);
}

static void expect_unauthorized(const char *auth, const char *method, const char *target,
                                const char *body)
{
    struct gh_http_kv h = {"Authorization", auth};
    struct rq r = {.method = method,
                   .target = target,
                   .body = body,
                   .h = auth ? &h : NULL,
                   .nh = auth ? 1 : 0,
                   .no_auth = true};
    expect_error(401, "IotHubUnauthorizedAccess", &r);
}

/* The deviceIds of a scope answer, joined with ','; checks its shape. */
static const char *ids_of(json_t *j)
{
    static char out[512];
    out[0] = '\0';
    assert_true(json_is_object(j));
    json_t *devs = json_object_get(j, "devices");
    assert_true(json_is_array(devs));
    assert_true(json_is_array(json_object_get(j, "modules")));
    size_t i;
    json_t *d;
    json_array_foreach(devs, i, d)
    {
        if (i) strcat(out, ",");
        strcat(out, json_string_value(json_object_get(d, "deviceId")));
        /* Keys included, as the registry returns them. */
        json_t *sk = json_object_get(json_object_get(d, "authentication"), "symmetricKey");
        assert_true(strlen(json_string_value(json_object_get(sk, "primaryKey"))) > 0);
    }
    return out;
}

static char scope_body[GH_REST_SCOPE_LINK_MAX + 128];

static const char *target_body(unsigned page, const char *link, const char *chain)
{
    if (link)
        snprintf(scope_body, sizeof scope_body,
                 "{\"pageSize\":%u,\"continuationLink\":\"%s\",\"authChain\":\"%s\"}", page, link,
                 chain);
    else
        snprintf(scope_body, sizeof scope_body,
                 "{\"pageSize\":%u,\"continuationLink\":null,\"authChain\":\"%s\"}", page, chain);
    return scope_body;
}

/* Page through gw's scope with pageSize page; returns the pages joined
 * with '|'. */
static const char *pages(unsigned page)
{
    static char all[1024];
    char link[GH_REST_SCOPE_LINK_MAX] = "";
    all[0] = '\0';
    for (int n = 0; n < 10; n++) {
        json_t *j = NULL;
        assert_int_equal(simple("POST", "/devices/gw" TARGET,
                                target_body(page, link[0] ? link : NULL, "gw"), &j),
                         200);
        if (n) strcat(all, "|");
        strcat(all, ids_of(j));
        json_t *l = json_object_get(j, "continuationLink");
        assert_non_null(l);
        if (json_is_null(l)) {
            assert_int_equal(json_array_size(json_object_get(j, "modules")), 0);
            json_decref(j);
            return all;
        }
        snprintf(link, sizeof link, "%s", json_string_value(l));
        const char *want = "/devices/gw/modules/$edgeHub/"
                           "devicesAndModulesInTargetDeviceScope?continuationToken=";
        assert_true(strncmp(link, want, strlen(want)) == 0);
        json_decref(j);
    }
    fail_msg("paging did not end");
    return NULL;
}

/* ---- endpoints ---------------------------------------------------------------- */

static void test_target_scope(void **state)
{
    (void)state;
    json_t *j = NULL;
    assert_int_equal(simple("POST", "/devices/gw" TARGET, target_body(100, NULL, "gw"), &j), 200);
    assert_string_equal(ids_of(j), "a0,c1,c3,gw,z9");
    assert_true(json_is_null(json_object_get(j, "continuationLink")));
    /* The Edge device itself and its children, scopes as stored. */
    json_t *gw = json_array_get(json_object_get(j, "devices"), 3);
    assert_true(json_is_true(json_object_get(json_object_get(gw, "capabilities"), "iotEdge")));
    assert_string_equal(json_string_value(json_object_get(gw, "deviceScope")), gw_scope);
    json_t *c1 = json_array_get(json_object_get(j, "devices"), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(c1, "parentScopes"), 0)),
                        gw_scope);
    json_decref(j);
    /* Paging: the Edge device sorts among its children. */
    assert_string_equal(pages(1), "a0|c1|c3|gw|z9");
    assert_string_equal(pages(2), "a0,c1|c3,gw|z9");
    assert_string_equal(pages(3), "a0,c1,c3|gw,z9");
    assert_string_equal(pages(4), "a0,c1,c3,gw|z9");
    assert_string_equal(pages(5), "a0,c1,c3,gw,z9");
    /* Another gateway sees only its own scope; %24 decodes to $. */
    assert_int_equal(simple("POST",
                            "/devices/gw2/modules/%24edgeHub/devicesAndModulesInTargetDeviceScope",
                            target_body(0, NULL, "gw2"), &j),
                     200);
    assert_string_equal(ids_of(j), "gw2,x1");
    json_decref(j);
    /* Errors. */
    expect_simple_error(400, "ArgumentInvalid", "POST", "/devices/gw" TARGET, "{\"pageSize\":1}");
    expect_simple_error(400, "ArgumentInvalid", "POST", "/devices/gw" TARGET, "");
    expect_simple_error(400, "ArgumentInvalid", "POST", "/devices/gw" TARGET,
                        target_body(1, "/devices/gw", "gw"));
    expect_simple_error(401, "IotHubUnauthorizedAccess", "POST", "/devices/gw" TARGET,
                        target_body(1, NULL, "gw2"));
    expect_simple_error(401, "IotHubUnauthorizedAccess", "POST", "/devices/gw" TARGET,
                        target_body(1, NULL, "c1;gw")); /* c1 is no Edge device */
    expect_simple_error(401, "IotHubUnauthorizedAccess", "POST", "/devices/gw" TARGET,
                        target_body(1, NULL, "gw2;gw")); /* gw2 is not gw's child */
    expect_simple_error(400, "ArgumentInvalid", "POST", "/devices/plain" TARGET,
                        target_body(1, NULL, "plain"));
    expect_simple_error(404, "DeviceNotFound", "POST", "/devices/nobody" TARGET,
                        target_body(1, NULL, "nobody"));
    expect_simple_error(405, "MethodNotAllowed", "GET", "/devices/gw" TARGET, NULL);
}

static void test_nested_chain(void **state)
{
    (void)state;
    /* gwc: an Edge device under gw, with child n1. */
    char body[512];
    snprintf(body, sizeof body,
             "{\"deviceId\":\"gwc\",\"capabilities\":{\"iotEdge\":true},\"parentScopes\":[\"%s\"]}",
             gw_scope);
    json_t *j = put_device("gwc", body);
    snprintf(body, sizeof body, "{\"deviceId\":\"n1\",\"deviceScope\":\"%s\"}",
             json_string_value(json_object_get(j, "deviceScope")));
    json_decref(j);
    json_decref(put_device("n1", body));
    assert_int_equal(simple("POST", "/devices/gw" TARGET, target_body(10, NULL, "gwc;gw"), &j),
                     200);
    assert_string_equal(ids_of(j), "gwc,n1");
    json_decref(j);
    assert_int_equal(simple("POST", "/devices/gw" TARGET, target_body(10, NULL, "gw"), &j), 200);
    assert_string_equal(ids_of(j), "a0,c1,c3,gw,gwc,z9");
    json_decref(j);
    /* On behalf of gwc: its child; not gw's. */
    assert_int_equal(simple("POST", "/devices/gw" OBO,
                            "{\"targetDeviceId\":\"n1\",\"authChain\":\"gwc;gw\"}", &j),
                     200);
    assert_string_equal(ids_of(j), "n1");
    json_decref(j);
    expect_simple_error(404, "DeviceNotFound", "POST", "/devices/gw" OBO,
                        "{\"targetDeviceId\":\"c1\",\"authChain\":\"gwc;gw\"}");
    assert_int_equal(simple("DELETE", "/devices/n1", NULL, NULL), 204);
    assert_int_equal(simple("DELETE", "/devices/gwc", NULL, NULL), 204);
}

static void test_legacy_scope(void **state)
{
    (void)state;
    json_t *j = NULL;
    assert_int_equal(simple("GET",
                            "/devices/gw/modules/$edgeHub/devicesAndModulesInDeviceScope" LEGACY
                            "&deviceCount=3&continuationToken=",
                            NULL, &j),
                     200);
    assert_string_equal(ids_of(j), "a0,c1,c3");
    const char *l = json_string_value(json_object_get(j, "continuationLink"));
    assert_string_equal(l, "/devices/gw/modules/$edgeHub/devicesAndModulesInDeviceScope?"
                           "deviceCount=3&continuationToken=c3&api-version=2018-08-30-preview");
    /* The link is the next request, as edgeHub uses it. */
    json_t *j2 = NULL;
    assert_int_equal(simple("GET", l, NULL, &j2), 200);
    assert_string_equal(ids_of(j2), "gw,z9");
    assert_true(json_is_null(json_object_get(j2, "continuationLink")));
    json_decref(j2);
    json_decref(j);
    assert_int_equal(
        simple("GET", "/devices/gw/modules/$edgeHub/devicesAndModulesInDeviceScope", NULL, &j),
        200);
    assert_string_equal(ids_of(j), "a0,c1,c3,gw,z9");
    json_decref(j);
    expect_simple_error(400, "ArgumentInvalid", "GET",
                        "/devices/gw/modules/$edgeHub/devicesAndModulesInDeviceScope?deviceCount=x",
                        NULL);
    expect_simple_error(
        400, "ArgumentInvalid", "GET",
        "/devices/gw/modules/$edgeHub/devicesAndModulesInDeviceScope?continuationToken=a%2Fb",
        NULL);
    expect_simple_error(400, "ArgumentInvalid", "GET",
                        "/devices/plain/modules/$edgeHub/devicesAndModulesInDeviceScope", NULL);
    expect_simple_error(404, "DeviceNotFound", "GET",
                        "/devices/nobody/modules/$edgeHub/devicesAndModulesInDeviceScope", NULL);
}

static void test_on_behalf_of(void **state)
{
    (void)state;
    json_t *j = NULL;
    assert_int_equal(simple("POST", "/devices/gw" OBO,
                            "{\"targetDeviceId\":\"c1\",\"targetModuleId\":null,"
                            "\"authChain\":\"c1;gw\"}",
                            &j),
                     200);
    assert_string_equal(ids_of(j), "c1");
    assert_int_equal(json_array_size(json_object_get(j, "modules")), 0);
    assert_null(json_object_get(j, "continuationLink"));
    json_decref(j);
    /* Chain naming only the gateway; the gateway itself; a module. */
    assert_int_equal(simple("POST", "/devices/gw" OBO,
                            "{\"targetDeviceId\":\"z9\",\"targetModuleId\":\"\",\"authChain\":"
                            "\"gw\"}",
                            &j),
                     200);
    assert_string_equal(ids_of(j), "z9");
    json_decref(j);
    assert_int_equal(simple("POST", "/devices/gw" OBO,
                            "{\"targetDeviceId\":\"gw\",\"targetModuleId\":\"$edgeHub\","
                            "\"authChain\":\"gw\"}",
                            &j),
                     200);
    assert_string_equal(ids_of(j), "gw");
    json_t *m = json_array_get(json_object_get(j, "modules"), 0);
    assert_string_equal(json_string_value(json_object_get(m, "moduleId")), "$edgeHub");
    json_decref(j);
    /* Outside the scope, or unknown: the same 404. */
    expect_simple_error(404, "DeviceNotFound", "POST", "/devices/gw" OBO,
                        "{\"targetDeviceId\":\"x1\",\"authChain\":\"x1;gw\"}");
    expect_simple_error(404, "DeviceNotFound", "POST", "/devices/gw" OBO,
                        "{\"targetDeviceId\":\"x1\",\"authChain\":\"gw\"}");
    expect_simple_error(404, "DeviceNotFound", "POST", "/devices/gw" OBO,
                        "{\"targetDeviceId\":\"plain\",\"authChain\":\"gw\"}");
    expect_simple_error(404, "DeviceNotFound", "POST", "/devices/gw" OBO,
                        "{\"targetDeviceId\":\"nobody\",\"authChain\":\"nobody;gw\"}");
    expect_simple_error(404, "DeviceNotFound", "POST", "/devices/gw" OBO,
                        "{\"targetDeviceId\":\"c1\",\"authChain\":\"c1;gw2;gw\"}");
    expect_simple_error(
        404, "ModuleNotFound", "POST", "/devices/gw" OBO,
        "{\"targetDeviceId\":\"c1\",\"targetModuleId\":\"m\",\"authChain\":\"gw\"}");
    expect_simple_error(401, "IotHubUnauthorizedAccess", "POST", "/devices/gw" OBO,
                        "{\"targetDeviceId\":\"c1\",\"authChain\":\"c1;gw2\"}");
    expect_simple_error(400, "ArgumentInvalid", "POST", "/devices/gw" OBO,
                        "{\"targetDeviceId\":\"c1\"}");
    expect_simple_error(400, "ArgumentInvalid", "POST", "/devices/gw" OBO, "{");
}

/* ---- authorization --------------------------------------------------------------- */

static void test_edge_sas(void **state)
{
    (void)state;
    char body[1200], sr[256], tok[700];
    snprintf(body, sizeof body, "%s", target_body(10, NULL, "gw"));
    json_t *j = NULL;
    /* The device audience with the device key. */
    audience(sr, sizeof sr, "gw", NULL);
    device_token(tok, sizeof tok, sr, gw_key, 60);
    assert_int_equal(req_as(tok, "POST", "/devices/gw" TARGET, body, &j), 200);
    assert_string_equal(ids_of(j), "a0,c1,c3,gw,z9");
    json_decref(j);
    assert_int_equal(
        req_as(tok, "GET", "/devices/gw/modules/$edgeHub/devicesAndModulesInDeviceScope", NULL, &j),
        200);
    json_decref(j);
    assert_int_equal(req_as(tok, "POST", "/devices/gw" OBO,
                            "{\"targetDeviceId\":\"c1\",\"authChain\":\"c1;gw\"}", &j),
                     200);
    json_decref(j);
    /* The same token grants no other REST path. */
    expect_unauthorized(tok, "GET", "/devices/gw?api-version=2021-04-12", NULL);
    expect_unauthorized(tok, "GET", "/devices/c1?api-version=2021-04-12", NULL);
    expect_unauthorized(tok, "GET", "/devices/gw/modules/$edgeHub", NULL);
    expect_unauthorized(tok, "GET", "/twins/gw", NULL);
    /* ... nor another gateway's scope. */
    expect_unauthorized(tok, "POST", "/devices/gw2" TARGET, target_body(1, NULL, "gw2"));

    /* The $edgeHub audience (edgeHub's way: ids encoded, then the whole
     * string, %2524edgeHub) with the device key and with the module key. */
    device_token(tok, sizeof tok, HOST "%2Fdevices%2Fgw%2Fmodules%2F%2524edgeHub", gw_key, 60);
    assert_int_equal(req_as(tok, "POST", "/devices/gw" TARGET, body, NULL), 200);
    audience(sr, sizeof sr, "gw", "$edgeHub");
    device_token(tok, sizeof tok, sr, gw_hub_key, 60);
    assert_int_equal(req_as(tok, "POST", "/devices/gw" TARGET, body, NULL), 200);
    /* Lower-cased audience (IoT Edge identity service), raw slashes. */
    device_token(tok, sizeof tok, "HUB.gatehouse.TEST/devices/GW", gw_key, 60);
    assert_int_equal(req_as(tok, "POST", "/devices/gw" TARGET, body, NULL), 200);
    /* The module key only signs for the module audience. */
    audience(sr, sizeof sr, "gw", NULL);
    device_token(tok, sizeof tok, sr, gw_hub_key, 60);
    expect_unauthorized(tok, "POST", "/devices/gw" TARGET, body);
    expect_unauthorized(tok, "GET", "/devices/gw/modules/$edgeHub", NULL);

    /* Refusals: wrong key, expired, shorter audience, another module. */
    device_token(tok, sizeof tok, sr, plain_key, 60);
    expect_unauthorized(tok, "POST", "/devices/gw" TARGET, body);
    device_token(tok, sizeof tok, sr, gw_key, -1000);
    expect_unauthorized(tok, "POST", "/devices/gw" TARGET, body);
    device_token(tok, sizeof tok, HOST, gw_key, 60);
    expect_unauthorized(tok, "POST", "/devices/gw" TARGET, body);
    device_token(tok, sizeof tok, HOST "/devices", gw_key, 60);
    expect_unauthorized(tok, "POST", "/devices/gw" TARGET, body);
    device_token(tok, sizeof tok, HOST "/devices/gw/modules/$edgeAgent", gw_key, 60);
    expect_unauthorized(tok, "POST", "/devices/gw" TARGET, body);
    device_token(tok, sizeof tok, "other.host/devices/gw", gw_key, 60);
    expect_unauthorized(tok, "POST", "/devices/gw" TARGET, body);
    expect_unauthorized("SharedAccessSignature sr=x", "POST", "/devices/gw" TARGET, body);
    expect_unauthorized("Basic Zm9v", "POST", "/devices/gw" TARGET, body);
    expect_unauthorized(NULL, "POST", "/devices/gw" TARGET, body);

    /* A device that is not an Edge device; a disabled Edge device. */
    audience(sr, sizeof sr, "plain", NULL);
    device_token(tok, sizeof tok, sr, plain_key, 60);
    expect_unauthorized(tok, "POST", "/devices/plain" TARGET, target_body(1, NULL, "plain"));
    expect_unauthorized(tok, "GET",
                        "/devices/plain/modules/$edgeHub/devicesAndModulesInDeviceScope", NULL);
    audience(sr, sizeof sr, "gwoff", NULL);
    device_token(tok, sizeof tok, sr, off_key, 60);
    expect_unauthorized(tok, "POST", "/devices/gwoff" TARGET, target_body(1, NULL, "gwoff"));
    /* An unknown device. */
    audience(sr, sizeof sr, "nobody", NULL);
    device_token(tok, sizeof tok, sr, gw_key, 60);
    expect_unauthorized(tok, "POST", "/devices/nobody" TARGET, target_body(1, NULL, "nobody"));

    /* A policy token without RegistryRead is refused here too. */
    struct gh_policy p;
    assert_int_equal(gh_store_policy_get(gh_hub_store(T.hub), "device", &p), GH_OK);
    token(tok, sizeof tok, gh_hub_now_ms() / 1000 + 60, p.primary_key, "device");
    gh_policy_wipe(&p);
    expect_unauthorized(tok, "POST", "/devices/gw" TARGET, body);
    assert_int_equal(gh_store_policy_get(gh_hub_store(T.hub), "registryRead", &p), GH_OK);
    token(tok, sizeof tok, gh_hub_now_ms() / 1000 + 60, p.primary_key, "registryRead");
    gh_policy_wipe(&p);
    assert_int_equal(req_as(tok, "POST", "/devices/gw" TARGET, body, NULL), 200);
}

/* Swap the fixture's client for one presenting the certificate `name`
 * (NULL: none); returns the old one. */
static struct gh_http_client *client_with_cert(const char *name, struct gh_tls_client **tls)
{
    char cert[400], key[400], ca[400];
    snprintf(cert, sizeof cert, "%s/certs/%s.cert.pem", T.pki, name);
    snprintf(key, sizeof key, "%s/private/%s.key.pem", T.pki, name);
    snprintf(ca, sizeof ca, "%s/certs/root.cert.pem", T.pki);
    struct gh_tls_client_config tc = {.ca_file = ca, .id = {.cert_file = cert, .key_file = key}};
    char detail[GH_TLS_DETAIL_MAX];
    assert_int_equal(gh_tls_client_new(&tc, tls, detail, sizeof detail), GH_OK);
    struct gh_http_client_options o = {
        .host = "127.0.0.1", .port = T.port, .server_name = HOST, .tls = *tls};
    struct gh_http_client *old = T.cl;
    assert_int_equal(gh_http_client_new(T.base, &o, &T.cl), GH_OK);
    return old;
}

static void test_edge_x509(void **state)
{
    (void)state;
    struct gh_tls_client *tls;
    struct gh_http_client *old = client_with_cert("gwx", &tls);
    json_t *j = NULL;
    assert_int_equal(req_as(NULL, "POST", "/devices/gwx" TARGET, target_body(5, NULL, "gwx"), &j),
                     200);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(j, "devices"), 0), "deviceId")),
                        "gwx");
    json_decref(j);
    assert_int_equal(req_as(NULL, "GET",
                            "/devices/gwx/modules/$edgeHub/devicesAndModulesInDeviceScope", NULL,
                            NULL),
                     200);
    assert_int_equal(req_as(NULL, "POST", "/devices/gwx" OBO,
                            "{\"targetDeviceId\":\"gwx\",\"authChain\":\"gwx\"}", NULL),
                     200);
    /* The certificate is gwx's only: not gw's (a SAS device), nor other paths. */
    expect_unauthorized(NULL, "POST", "/devices/gw" TARGET, target_body(5, NULL, "gw"));
    expect_unauthorized(NULL, "GET", "/devices/gwx", NULL);
    /* A token in the header takes precedence over the certificate. */
    expect_unauthorized("SharedAccessSignature sr=x&sig=y&se=1", "POST", "/devices/gwx" TARGET,
                        target_body(5, NULL, "gwx"));
    gh_http_client_free(T.cl);
    gh_tls_client_free(tls);
    T.cl = old;
    /* Disabled: refused even with the right certificate. */
    struct gh_http_kv star = {"If-Match", "\"*\""};
    struct rq dis = {.method = "PUT",
                     .target = "/devices/gwx",
                     .body = "{\"deviceId\":\"gwx\",\"status\":\"disabled\",\"capabilities\":"
                             "{\"iotEdge\":true}}",
                     .h = &star,
                     .nh = 1};
    assert_int_equal(call(&dis, NULL, NULL), 200);
    old = client_with_cert("gwx", &tls);
    expect_unauthorized(NULL, "POST", "/devices/gwx" TARGET, target_body(5, NULL, "gwx"));
    gh_http_client_free(T.cl);
    gh_tls_client_free(tls);
    T.cl = old;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_target_scope), cmocka_unit_test(test_nested_chain),
        cmocka_unit_test(test_legacy_scope), cmocka_unit_test(test_on_behalf_of),
        cmocka_unit_test(test_edge_sas),     cmocka_unit_test(test_edge_x509),
    };
    return cmocka_run_group_tests(tests, setup, group_teardown);
}
