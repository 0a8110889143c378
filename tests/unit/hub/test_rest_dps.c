/* The provisioning service's HTTPS APIs in process (rest_dps.c,
 * rest_dps_service.c): SNI selection, the start-up policy and its
 * connection string, service authorization, enrollments, groups, queries,
 * bulk, registration states, and the device registration API. A real hub
 * (rest_fixture.h) and a second HTTPS client that sends the DPS name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/stat.h>

#include "dps/dps_store.h"
#include "hub/rest_dps.h"
#include "iothub/crypto.h"
#include "rest_fixture.h"

#define DPS_HOST "dps.gatehouse.test"
#define SCOPE "0ne00000001"
#define KEY_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_C "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
#define KEY_B                                                                                      \
    "//79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eDf3t3c29rZ2NfW1dTT0tHQz87NzMvKycjHxsXEw8LBwA=="

static struct gh_http_client *D; /* SNI = DPS_HOST */
static char dkey[GH_IDENTITY_KEY_MAX + 1];

static int setup(void **state)
{
    if (group_setup(state) != 0) return -1;
    struct gh_http_client_options o = {
        .host = "127.0.0.1", .port = T.port, .server_name = DPS_HOST, .tls = T.tls};
    if (gh_http_client_new(T.base, &o, &D) != GH_OK) return -1;
    struct gh_policy p;
    if (gh_store_policy_get(gh_hub_store(T.hub), GH_DPS_SERVICE_POLICY, &p) != GH_OK) return -1;
    memcpy(dkey, p.primary_key, sizeof dkey);
    gh_policy_wipe(&p);
    return 0;
}

static int teardown(void **state)
{
    gh_http_client_free(D);
    return group_teardown(state);
}

/* A service token for the DPS host (sr raw, as the Node service SDK). */
static void svc_token(char *out, size_t cap, const char *sr, const char *key, const char *skn,
                      int64_t ttl)
{
    struct gh_writer w;
    gh_writer_init(&w, out, cap);
    assert_int_equal(
        gh_sas_build(gh_slice_cstr(sr), gh_slice_cstr(key), gh_hub_now_ms() / 1000 + ttl, skn, &w),
        GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
}

/* A device registration token: sr = {scope}/registrations/{id}. */
static void reg_token(char *out, size_t cap, const char *id, const char *key)
{
    char sr[256];
    snprintf(sr, sizeof sr, "%s/registrations/%s", SCOPE, id);
    svc_token(out, cap, sr, key, "registration", 3600);
}

struct dq {
    const char *method, *target, *body;
    const char *auth; /* NULL: the DPS owner token; "" none */
    const struct gh_http_kv *h;
    size_t nh;
    struct gh_http_client *cl; /* NULL: D */
};

/* One request; returns the status; *j the parsed body (may be NULL);
 * *keep the response (caller cleans) when not NULL. */
static unsigned dcall(const struct dq *q, json_t **j, struct done *keep)
{
    char tok[700];
    if (q->auth == NULL) svc_token(tok, sizeof tok, DPS_HOST, dkey, GH_DPS_SERVICE_POLICY, 3600);
    struct gh_http_kv h[GH_HTTP_CLIENT_HEADERS_MAX];
    size_t n = 0;
    if (q->auth == NULL)
        h[n++] = (struct gh_http_kv){"Authorization", tok};
    else if (q->auth[0] != '\0')
        h[n++] = (struct gh_http_kv){"Authorization", q->auth};
    for (size_t i = 0; i < q->nh; i++) h[n++] = q->h[i];
    struct gh_http_client_request cr = {
        .method = q->method,
        .target = q->target,
        .headers = h,
        .n_headers = n,
        .content_type = q->body ? "application/json; charset=utf-8" : NULL,
        .body = q->body,
        .body_len = q->body ? strlen(q->body) : 0,
        .timeout_ms = REQ_TIMEOUT_MS,
    };
    struct done d;
    memset(&d, 0, sizeof d);
    assert_int_equal(gh_http_client_request(q->cl ? q->cl : D, &cr, on_done, &d), GH_OK);
    wait_done(&d);
    assert_int_equal(d.rc, GH_OK);
    unsigned st = d.resp.status;
    if (st != 204 && d.resp.body_len > 0)
        assert_string_equal(gh_http_response_header(&d.resp, "Content-Type"),
                            "application/json; charset=utf-8");
    if (j)
        *j = d.resp.body_len
                 ? json_loadb((const char *)d.resp.body, d.resp.body_len, JSON_DECODE_ANY, NULL)
                 : NULL;
    if (keep)
        *keep = d;
    else
        gh_http_response_cleanup(&d.resp);
    return st;
}

static unsigned dsimple(const char *method, const char *target, const char *body, json_t **j)
{
    struct dq q = {.method = method, .target = target, .body = body};
    return dcall(&q, j, NULL);
}

/* Expect an error answer with the DPS error document. */
static void dexpect(unsigned st, long code, const struct dq *q)
{
    json_t *j = NULL;
    struct done d;
    unsigned got = dcall(q, &j, &d);
    if (got != st) fprintf(stderr, "%s %s: %u %s\n", q->method, q->target, got, d.resp.body);
    assert_int_equal(got, st);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "errorCode")), code);
    assert_true(json_is_string(json_object_get(j, "trackingId")));
    assert_true(json_is_string(json_object_get(j, "message")));
    assert_true(json_is_string(json_object_get(j, "timestampUtc")));
    json_decref(j);
    gh_http_response_cleanup(&d.resp);
}

static void dexpect_simple(unsigned st, long code, const char *method, const char *target,
                           const char *body)
{
    struct dq q = {.method = method, .target = target, .body = body};
    dexpect(st, code, &q);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_policy_file(void **state)
{
    (void)state;
    char path[GH_HUB_PATH_MAX + 64];
    assert_int_equal(gh_hub_dps_policy_ensure(T.hub, path, sizeof path), GH_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char want[512], got[512] = "";
    snprintf(want, sizeof want,
             "HostName=" DPS_HOST ";SharedAccessKeyName=provisioningserviceowner;"
             "SharedAccessKey=%s\n",
             dkey);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(got, 1, sizeof got - 1, f);
    fclose(f);
    got[n] = '\0';
    assert_string_equal(got, want); /* the key is kept (idempotent) */
    struct gh_policy p;
    assert_int_equal(gh_store_policy_get(gh_hub_store(T.hub), GH_DPS_SERVICE_POLICY, &p), GH_OK);
    assert_int_equal(p.rights, GH_RIGHT_PROVISIONING); /* no hub right */
    gh_policy_wipe(&p);
    char small[8];
    assert_int_equal(gh_hub_dps_policy_ensure(T.hub, small, sizeof small), GH_ERR_TOO_LARGE);
}

static void test_service_auth_and_routes(void **state)
{
    (void)state;
    char tok[700];
    struct dq q = {
        .method = "GET", .target = "/enrollments/none?api-version=2021-10-01", .auth = ""};
    dexpect(401, 401002, &q);
    svc_token(tok, sizeof tok, DPS_HOST, dkey, GH_DPS_SERVICE_POLICY, -1000);
    q.auth = tok;
    dexpect(401, 401002, &q); /* expired */
    svc_token(tok, sizeof tok, DPS_HOST, KEY_A, GH_DPS_SERVICE_POLICY, 600);
    dexpect(401, 401002, &q); /* wrong key */
    svc_token(tok, sizeof tok, HOST, dkey, GH_DPS_SERVICE_POLICY, 600);
    dexpect(401, 401002, &q); /* audience is the hub */
    svc_token(tok, sizeof tok, DPS_HOST, T.key, "iothubowner", 600);
    dexpect(401, 401002, &q); /* a hub policy, validly signed */
    q.auth = "Bearer x";
    dexpect(401, 401002, &q);
    q.auth = "SharedAccessSignature sr=&&";
    dexpect(401, 401002, &q);
    /* Good token: the record is unknown. */
    dexpect_simple(404, GH_DPS_ERR_ENROLLMENT_404, "GET", "/enrollments/none", NULL);
    /* Unknown paths, wrong methods. */
    dexpect_simple(404, 404000, "GET", "/nothing", NULL);
    dexpect_simple(404, 404000, "GET", "/enrollments/a/b/c", NULL);
    struct done d;
    json_t *j = NULL;
    struct dq m = {.method = "PATCH", .target = "/enrollments/x"};
    assert_int_equal(dcall(&m, &j, &d), 405);
    assert_int_equal(json_integer_value(json_object_get(j, "errorCode")), 405000);
    assert_string_equal(gh_http_response_header(&d.resp, "Allow"), "PUT, GET, DELETE");
    json_decref(j);
    gh_http_response_cleanup(&d.resp);
    /* Hub routes are not served under the DPS name, even to iothubowner. */
    svc_token(tok, sizeof tok, DPS_HOST, T.key, "iothubowner", 600);
    struct dq hub = {.method = "GET", .target = "/devices", .auth = tok};
    dexpect(404, 404000, &hub);
    svc_token(tok, sizeof tok, HOST, T.key, "iothubowner", 600);
    hub.auth = tok;
    dexpect(404, 404000, &hub);
    /* And the DPS API is not served under the hub name. */
    expect_simple_error(404, "NotFound", "GET", "/enrollments/x", NULL);
}

#define SYM_IND(id, key)                                                                           \
    "{\"registrationId\":\"" id "\",\"attestation\":{\"type\":\"symmetricKey\","                   \
    "\"symmetricKey\":{\"primaryKey\":\"" key "\",\"secondaryKey\":\"" KEY_B "\"}}}"

static void test_enrollments(void **state)
{
    (void)state;
    json_t *j = NULL;
    struct done d;
    /* Create with generated keys. */
    struct dq put = {.method = "PUT",
                     .target = "/enrollments/Dev-Gen?api-version=2021-10-01",
                     .body = "{\"registrationId\":\"Dev-Gen\",\"attestation\":{\"type\":"
                             "\"symmetricKey\"}}"};
    assert_int_equal(dcall(&put, &j, &d), 200);
    const char *pk = json_string_value(json_object_get(
        json_object_get(json_object_get(j, "attestation"), "symmetricKey"), "primaryKey"));
    assert_non_null(pk);
    assert_true(strlen(pk) > 40);
    char etag[64];
    snprintf(etag, sizeof etag, "%s", json_string_value(json_object_get(j, "etag")));
    assert_string_equal(gh_http_response_header(&d.resp, "ETag"), etag);
    json_decref(j);
    gh_http_response_cleanup(&d.resp);
    /* Get: path case-insensitive, literal segments too. */
    assert_int_equal(dsimple("GET", "/ENROLLMENTS/dev-gen", NULL, &j), 200);
    assert_string_equal(json_string_value(json_object_get(j, "registrationId")), "Dev-Gen");
    json_decref(j);
    /* Errors of PUT. */
    dexpect_simple(400, 400004, "PUT", "/enrollments/other", SYM_IND("dev-gen", KEY_A));
    dexpect_simple(400, 400004, "PUT", "/enrollments/x", "{bad");
    dexpect_simple(400, 400004, "PUT", "/enrollments/x", "[]");
    dexpect_simple(400, 400004, "PUT", "/enrollments/x",
                   "{\"registrationId\":\"x\",\"attestation\":{\"type\":\"tpm\"}}");
    dexpect_simple(400, 400004, "PUT", "/enrollments/x",
                   "{\"registrationId\":\"x\",\"registrationId\":\"x\"}");
    /* If-Match: stale -> 412, on a missing record -> 412, current -> 200. */
    struct gh_http_kv stale = {"If-Match", "\"00000000-0000-0000-0000-000000000000\""};
    struct dq upd = {
        .method = "PUT", .target = "/enrollments/dev-gen", .body = SYM_IND("dev-gen", KEY_A)};
    upd.h = &stale;
    upd.nh = 1;
    dexpect(412, GH_DPS_ERR_PRECONDITION, &upd);
    struct dq upd404 = {.method = "PUT",
                        .target = "/enrollments/nope",
                        .body = SYM_IND("nope", KEY_A),
                        .h = &stale,
                        .nh = 1};
    dexpect(412, GH_DPS_ERR_PRECONDITION, &upd404);
    struct gh_http_kv cur = {"If-Match", etag};
    upd.h = &cur;
    assert_int_equal(dcall(&upd, &j, NULL), 200);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(j, "attestation"), "symmetricKey"), "primaryKey")),
        KEY_A);
    json_decref(j);
    struct gh_http_kv bad = {"If-Match", "\"abc"};
    upd.h = &bad;
    dexpect(400, 400004, &upd);
    /* Attestation mechanism. */
    assert_int_equal(dsimple("POST", "/enrollments/dev-gen/attestationmechanism", NULL, &j), 200);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "symmetricKey");
    json_decref(j);
    dexpect_simple(404, GH_DPS_ERR_ENROLLMENT_404, "POST", "/enrollments/nope/attestationmechanism",
                   NULL);
    /* Groups (path segment any case). */
    assert_int_equal(dsimple("PUT", "/enrollmentgroups/grp-1",
                             "{\"enrollmentGroupId\":\"grp-1\",\"attestation\":{\"type\":"
                             "\"symmetricKey\",\"symmetricKey\":{\"primaryKey\":\"" KEY_B "\"}}}",
                             NULL),
                     200);
    assert_int_equal(dsimple("GET", "/enrollmentGroups/GRP-1", NULL, &j), 200);
    assert_string_equal(json_string_value(json_object_get(j, "enrollmentGroupId")), "grp-1");
    json_decref(j);
    assert_int_equal(dsimple("POST", "/enrollmentGroups/grp-1/attestationmechanism", NULL, &j),
                     200);
    json_decref(j);
    /* Delete: stale, then unconditional, then gone. */
    struct dq del = {.method = "DELETE", .target = "/enrollments/dev-gen", .h = &stale, .nh = 1};
    dexpect(412, GH_DPS_ERR_PRECONDITION, &del);
    del.nh = 0;
    assert_int_equal(dcall(&del, NULL, NULL), 204);
    dexpect(404, GH_DPS_ERR_ENROLLMENT_404, &del);
    assert_int_equal(dsimple("DELETE", "/enrollmentGroups/grp-1", NULL, NULL), 204);
    dexpect_simple(404, GH_DPS_ERR_ENROLLMENT_404, "DELETE", "/enrollmentGroups/grp-1", NULL);
    dexpect_simple(400, 400004, "GET", "/enrollments/bad%20id", NULL);
}

static void test_query_and_bulk(void **state)
{
    (void)state;
    json_t *j = NULL;
    struct done d;
    const char *ids[] = {"q-a", "q-b", "q-c"};
    char body[512], target[64];
    for (size_t i = 0; i < 3; i++) {
        snprintf(body, sizeof body,
                 "{\"registrationId\":\"%s\",\"attestation\":{\"type\":\"symmetricKey\"}}", ids[i]);
        snprintf(target, sizeof target, "/enrollments/%s", ids[i]);
        assert_int_equal(dsimple("PUT", target, body, NULL), 200);
    }
    /* Page of 2, continuation, page of the rest. */
    struct gh_http_kv h[2] = {{"x-ms-max-item-count", "2"}, {"x-ms-continuation", ""}};
    struct dq q = {.method = "POST",
                   .target = "/enrollments/query",
                   .body = "{\"query\":\"*\"}",
                   .h = h,
                   .nh = 1};
    assert_int_equal(dcall(&q, &j, &d), 200);
    assert_int_equal(json_array_size(j), 2);
    char cont[64];
    const char *c = gh_http_response_header(&d.resp, "x-ms-continuation");
    assert_non_null(c);
    snprintf(cont, sizeof cont, "%s", c);
    json_decref(j);
    gh_http_response_cleanup(&d.resp);
    h[1].value = cont;
    q.nh = 2;
    assert_int_equal(dcall(&q, &j, &d), 200);
    assert_int_equal(json_array_size(j), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "registrationId")),
                        "q-c");
    assert_null(gh_http_response_header(&d.resp, "x-ms-continuation"));
    json_decref(j);
    gh_http_response_cleanup(&d.resp);
    h[0].value = "x";
    q.nh = 1;
    dexpect(400, 400004, &q);
    h[0].value = "2";
    h[1].value = "bad id!";
    q.nh = 2;
    dexpect(400, 400004, &q);
    q.nh = 0;
    q.body = "[]";
    dexpect(400, 400004, &q);
    assert_int_equal(dsimple("POST", "/enrollmentGroups/query", "{\"query\":\"*\"}", &j), 200);
    assert_true(json_is_array(j));
    json_decref(j);
    /* Bulk: create of an existing id reports an error, delete succeeds. */
    assert_int_equal(dsimple("POST", "/enrollments",
                             "{\"mode\":\"create\",\"enrollments\":[" SYM_IND(
                                 "q-a", KEY_A) "," SYM_IND("q-d", KEY_A) "]}",
                             &j),
                     200);
    assert_false(json_is_true(json_object_get(j, "isSuccessful")));
    json_t *errs = json_object_get(j, "errors");
    assert_int_equal(json_array_size(errs), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(errs, 0), "registrationId")), "q-a");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(errs, 0), "errorCode")),
                     GH_DPS_ERR_CONFLICT);
    json_decref(j);
    assert_int_equal(dsimple("GET", "/enrollments/q-d", NULL, NULL), 200);
    assert_int_equal(dsimple("POST", "/enrollments",
                             "{\"mode\":\"updateIfMatchEtag\",\"enrollments\":[{\"registrationId\":"
                             "\"q-d\",\"etag\":\"nope\",\"attestation\":{\"type\":"
                             "\"symmetricKey\"}}]}",
                             &j),
                     200);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(j, "errors"), 0), "errorCode")),
                     GH_DPS_ERR_PRECONDITION);
    json_decref(j);
    assert_int_equal(dsimple("POST", "/enrollments",
                             "{\"mode\":\"delete\",\"enrollments\":[{\"registrationId\":\"q-a\"},{"
                             "\"registrationId\":\"q-d\"}]}",
                             &j),
                     200);
    assert_true(json_is_true(json_object_get(j, "isSuccessful")));
    json_decref(j);
    dexpect_simple(404, GH_DPS_ERR_ENROLLMENT_404, "GET", "/enrollments/q-a", NULL);
    dexpect_simple(400, 400004, "POST", "/enrollments",
                   "{\"mode\":\"merge\",\"enrollments\":[{}]}");
    dexpect_simple(400, 400004, "POST", "/enrollments", "{\"mode\":\"create\",\"enrollments\":[]}");
    char many[2048] = "{\"mode\":\"delete\",\"enrollments\":[";
    for (unsigned i = 0; i <= GH_DPS_REST_BULK_MAX; i++)
        strcat(many, i ? ",{\"registrationId\":\"z\"}" : "{\"registrationId\":\"z\"}");
    strcat(many, "]}");
    dexpect_simple(400, 400004, "POST", "/enrollments", many);
}

/* PUT register for id with the given Authorization ("" none). */
static unsigned do_register(const char *id, const char *auth, const char *body, json_t **j,
                            struct done *keep)
{
    char target[256];
    snprintf(target, sizeof target, "/%s/registrations/%s/register?api-version=2019-03-31", SCOPE,
             id);
    char b[256];
    if (body == NULL) {
        snprintf(b, sizeof b, "{\"registrationId\":\"%s\"}", id);
        body = b;
    }
    struct dq q = {.method = "PUT", .target = target, .body = body, .auth = auth};
    return dcall(&q, j, keep);
}

static unsigned do_poll(const char *id, const char *auth, const char *op, json_t **j,
                        struct done *keep)
{
    char target[256];
    snprintf(target, sizeof target, "/%s/registrations/%s/operations/%s?api-version=2019-03-31",
             SCOPE, id, op);
    struct dq q = {.method = "GET", .target = target, .auth = auth};
    return dcall(&q, j, keep);
}

/* Called after the request has filled *jp (a separate argument would be
 * read in unspecified order). */
static void expect_code(unsigned st, long code, unsigned got, json_t **jp)
{
    assert_int_equal(got, st);
    assert_int_equal(json_integer_value(json_object_get(*jp, "errorCode")), code);
    json_decref(*jp);
    *jp = NULL;
}

static void test_device_register(void **state)
{
    (void)state;
    json_t *j = NULL;
    struct done d;
    assert_int_equal(dsimple("PUT", "/enrollments/dev-r1", SYM_IND("dev-r1", KEY_A), NULL), 200);
    char tok[700];
    reg_token(tok, sizeof tok, "dev-r1", KEY_A);
    assert_int_equal(do_register("dev-r1", tok, NULL, &j, &d), 202);
    assert_string_equal(gh_http_response_header(&d.resp, "Retry-After"), "3");
    assert_string_equal(json_string_value(json_object_get(j, "status")), "assigning");
    char op[GH_DPS_OPID_LEN + 1];
    snprintf(op, sizeof op, "%s", json_string_value(json_object_get(j, "operationId")));
    json_decref(j);
    gh_http_response_cleanup(&d.resp);
    assert_int_equal(do_poll("dev-r1", tok, op, &j, NULL), 200);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "assigned");
    json_t *rs = json_object_get(j, "registrationState");
    assert_string_equal(json_string_value(json_object_get(rs, "assignedHub")), HOST);
    assert_string_equal(json_string_value(json_object_get(rs, "deviceId")), "dev-r1");
    json_decref(j);
    /* The hub device exists with the enrollment's keys. */
    struct gh_identity id;
    assert_int_equal(gh_store_identity_get(gh_hub_store(T.hub), "dev-r1", NULL, &id), GH_OK);
    assert_string_equal(id.primary_key, KEY_A);
    gh_identity_wipe(&id);
    /* Errors. */
    expect_code(404, GH_DPS_ERR_NOT_FOUND, do_poll("dev-r1", tok, "4.0.nope", &j, NULL), &j);
    expect_code(404, GH_DPS_ERR_NOT_FOUND, do_poll("dev-r1", tok, "bad!op", &j, NULL), &j);
    char wrong[700];
    reg_token(wrong, sizeof wrong, "dev-r1", KEY_C);
    expect_code(401, 401002, do_register("dev-r1", wrong, NULL, &j, NULL), &j);
    expect_code(401, 401002, do_poll("dev-r1", wrong, op, &j, NULL), &j);
    expect_code(401, 401002, do_register("dev-r1", "", NULL, &j, NULL), &j);
    reg_token(wrong, sizeof wrong, "nobody", KEY_A);
    expect_code(401, 401002, do_register("nobody", wrong, NULL, &j, NULL), &j);
    expect_code(400, 400004, do_register("dev-r1", tok, "{\"registrationId\":\"other\"}", &j, NULL),
                &j);
    expect_code(400, 400004, do_register("dev-r1", tok, "not json", &j, NULL), &j);
    expect_code(400, 400004, do_register("bad%20id", tok, "{}", &j, NULL), &j);
    struct dq scope = {.method = "PUT",
                       .target = "/0ne99999999/registrations/dev-r1/register",
                       .body = "{\"registrationId\":\"dev-r1\"}",
                       .auth = tok};
    dexpect(401, 401002, &scope);
    struct dq meth = {
        .method = "GET", .target = "/" SCOPE "/registrations/dev-r1/register", .auth = tok};
    assert_int_equal(dcall(&meth, &j, &d), 405);
    assert_string_equal(gh_http_response_header(&d.resp, "Allow"), "PUT");
    json_decref(j);
    gh_http_response_cleanup(&d.resp);
    /* The device API is not served under the hub name. */
    char target[128];
    snprintf(target, sizeof target, "/%s/registrations/dev-r1/register", SCOPE);
    struct dq hub = {.method = "PUT",
                     .target = target,
                     .body = "{\"registrationId\":\"dev-r1\"}",
                     .auth = tok,
                     .cl = T.cl};
    assert_int_equal(dcall(&hub, &j, NULL), 404);
    json_decref(j);
    /* Registration state via the service API, by group, delete. */
    assert_int_equal(dsimple("GET", "/registrations/DEV-R1", NULL, &j), 200);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "assigned");
    json_decref(j);
    dexpect_simple(404, GH_DPS_ERR_ENROLLMENT_404, "GET", "/registrations/nobody", NULL);
    assert_int_equal(dsimple("DELETE", "/registrations/dev-r1", NULL, NULL), 204);
    dexpect_simple(404, GH_DPS_ERR_ENROLLMENT_404, "DELETE", "/registrations/dev-r1", NULL);
}

static void test_group_and_disabled(void **state)
{
    (void)state;
    json_t *j = NULL;
    assert_int_equal(dsimple("PUT", "/enrollmentGroups/g-sym",
                             "{\"enrollmentGroupId\":\"g-sym\",\"attestation\":{\"type\":"
                             "\"symmetricKey\",\"symmetricKey\":{\"primaryKey\":\"" KEY_B "\"}}}",
                             NULL),
                     200);
    /* PROTOCOL.md 2.5: derived key of thermostat-01 under KEY_B. */
    const char *derived = "LTZqcA915D8rTi9ZXmz4uhUV4fD4J0iuzNxCVx3wAEY=";
    char tok[700];
    reg_token(tok, sizeof tok, "thermostat-01", derived);
    assert_int_equal(do_register("thermostat-01", tok, NULL, &j, NULL), 202);
    char op[GH_DPS_OPID_LEN + 1];
    snprintf(op, sizeof op, "%s", json_string_value(json_object_get(j, "operationId")));
    json_decref(j);
    assert_int_equal(do_poll("thermostat-01", tok, op, &j, NULL), 200);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "assigned");
    json_decref(j);
    assert_int_equal(dsimple("POST", "/registrations/G-SYM/query", "{\"query\":\"*\"}", &j), 200);
    assert_int_equal(json_array_size(j), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "registrationId")),
                        "thermostat-01");
    json_decref(j);
    /* Disabled individual enrollment: accepted, finishes "disabled". */
    assert_int_equal(dsimple("PUT", "/enrollments/dev-off",
                             "{\"registrationId\":\"dev-off\",\"provisioningStatus\":\"disabled\","
                             "\"attestation\":{\"type\":\"symmetricKey\",\"symmetricKey\":{"
                             "\"primaryKey\":\"" KEY_A "\"}}}",
                             NULL),
                     200);
    reg_token(tok, sizeof tok, "dev-off", KEY_A);
    assert_int_equal(do_register("dev-off", tok, NULL, &j, NULL), 202);
    snprintf(op, sizeof op, "%s", json_string_value(json_object_get(j, "operationId")));
    json_decref(j);
    assert_int_equal(do_poll("dev-off", tok, op, &j, NULL), 200);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "disabled");
    json_decref(j);
    struct gh_identity id;
    assert_int_equal(gh_store_identity_get(gh_hub_store(T.hub), "dev-off", NULL, &id),
                     GH_ERR_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_file),     cmocka_unit_test(test_service_auth_and_routes),
        cmocka_unit_test(test_enrollments),     cmocka_unit_test(test_query_and_bulk),
        cmocka_unit_test(test_device_register), cmocka_unit_test(test_group_and_disabled),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
