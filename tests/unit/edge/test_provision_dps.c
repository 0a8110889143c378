/* The gateway's DPS client against the real embedded provisioning service:
 * a hub (gh_hub_new, DPS enabled) runs its loop on a second thread; the
 * test thread creates enrollments through the DPS service REST API and
 * calls the blocking provisioning functions. Certificates come from the
 * pki library. Every wait is bounded by the HTTP request timeouts and
 * GH_EDGE_DPS_TOTAL_MS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "common/log.h"
#include "edge/provision.h"
#include "http/client.h"
#include "hub/hub.h"
#include "hub/rest_dps.h"
#include "hub/store.h"
#include "iothub/sas.h"
#include "net/tls.h"
#include "pki/pki_files.h"

#define HUB_HOST "hub.gatehouse.test"
#define DPS_HOST "dps.gatehouse.test"
#define SCOPE "0ne00000042"
#define KEY_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_C "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
#define KEY_W "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=" /* in no enrollment */
/* PROTOCOL.md 2.5: group key and the key derived for thermostat-01. */
#define KEY_GROUP                                                                                  \
    "//79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eDf3t3c29rZ2NfW1dTT0tHQz87NzMvKycjHxsXEw8LBwA=="
#define KEY_DERIVED "LTZqcA915D8rTi9ZXmz4uhUV4fD4J0iuzNxCVx3wAEY="
#define REQ_MS 20000u

static struct {
    char dir[256];
    char root_cert[320], root_key[320], other_cert[320], other_key[320];
    char dev_cert[320], dev_key[320];
    struct gh_hub *hub;
    struct event_base *base;
    pthread_t thread;
    bool running;
    uint16_t port;
    char svc_key[GH_IDENTITY_KEY_MAX + 1];
    char hub_key[GH_IDENTITY_KEY_MAX + 1];
    struct gh_tls_client *tls;
} T;

static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t n = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &n), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static int issue(enum gh_pki_profile profile, const char *cn, const char *ca_cert,
                 const char *ca_key, const char *cert, const char *key)
{
    struct gh_pki_issue_req req;
    gh_pki_issue_req_init(&req, profile);
    req.cn = cn;
    struct gh_pki_ca ca;
    memset(&ca, 0, sizeof ca);
    struct gh_pki_diag diag = {{0}};
    if (ca_cert && gh_pki_ca_load(ca_cert, ca_key, NULL, NULL, &ca, &diag) != GH_OK) {
        fprintf(stderr, "ca load: %s\n", diag.msg);
        return -1;
    }
    struct gh_pki_subject_key sk = {.generate = GH_PKI_KEY_TYPE_DEFAULT};
    struct gh_pki_files files = {.cert = cert, .key = key};
    gh_err rc = gh_pki_issue_files(&req, ca_cert ? &ca : NULL, &sk, &files, NULL, NULL, &diag);
    gh_pki_ca_cleanup(&ca);
    if (rc != GH_OK) fprintf(stderr, "issue %s: %s %s\n", cn, gh_err_str(rc), diag.msg);
    return rc == GH_OK ? 0 : -1;
}

static void *loop_thread(void *arg)
{
    (void)arg;
    event_base_dispatch(T.base);
    return NULL;
}

static int setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    gh_log_set_level(GH_LOG_ERROR);
    if (evthread_use_pthreads() != 0) return -1;
    snprintf(T.dir, sizeof T.dir, "/tmp/gh-provdps-XXXXXX");
    if (!mkdtemp(T.dir)) return -1;
    snprintf(T.root_cert, sizeof T.root_cert, "%s/root.cert.pem", T.dir);
    snprintf(T.root_key, sizeof T.root_key, "%s/root.key.pem", T.dir);
    snprintf(T.other_cert, sizeof T.other_cert, "%s/other.cert.pem", T.dir);
    snprintf(T.other_key, sizeof T.other_key, "%s/other.key.pem", T.dir);
    snprintf(T.dev_cert, sizeof T.dev_cert, "%s/edge-x509.cert.pem", T.dir);
    snprintf(T.dev_key, sizeof T.dev_key, "%s/edge-x509.key.pem", T.dir);
    if (issue(GH_PKI_PROFILE_ROOT, "Test Root", NULL, NULL, T.root_cert, T.root_key) != 0 ||
        issue(GH_PKI_PROFILE_ROOT, "Other Root", NULL, NULL, T.other_cert, T.other_key) != 0 ||
        issue(GH_PKI_PROFILE_DEVICE, "edge-x509", T.root_cert, T.root_key, T.dev_cert, T.dev_key) !=
            0)
        return -1;
    struct gh_hub_config cfg;
    struct gh_toml_error terr;
    if (gh_hub_config_load(NULL, &cfg, &terr) != GH_OK) return -1;
    snprintf(cfg.hostname, sizeof cfg.hostname, HUB_HOST);
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s/data", T.dir);
    snprintf(cfg.listen_address, sizeof cfg.listen_address, "127.0.0.1");
    snprintf(cfg.tls_ca_cert, sizeof cfg.tls_ca_cert, "%s", T.root_cert);
    snprintf(cfg.tls_ca_key, sizeof cfg.tls_ca_key, "%s", T.root_key);
    cfg.dps_enabled = true;
    snprintf(cfg.dps_hostname, sizeof cfg.dps_hostname, DPS_HOST);
    snprintf(cfg.dps_id_scope, sizeof cfg.dps_id_scope, SCOPE);
    cfg.mqtt_port = 0;
    T.port = free_port();
    cfg.https_port = T.port;
    char why[512] = "";
    if (gh_hub_new(&cfg, &T.hub, why, sizeof why) != GH_OK) {
        fprintf(stderr, "gh_hub_new: %s\n", why);
        return -1;
    }
    T.base = gh_hub_base(T.hub);
    struct gh_policy p;
    if (gh_store_policy_get(gh_hub_store(T.hub), GH_DPS_SERVICE_POLICY, &p) != GH_OK) return -1;
    memcpy(T.svc_key, p.primary_key, sizeof T.svc_key);
    gh_policy_wipe(&p);
    if (gh_store_policy_get(gh_hub_store(T.hub), "iothubowner", &p) != GH_OK) return -1;
    memcpy(T.hub_key, p.primary_key, sizeof T.hub_key);
    gh_policy_wipe(&p);
    struct gh_tls_client_config tc = {.ca_file = T.root_cert};
    char detail[GH_TLS_DETAIL_MAX];
    if (gh_tls_client_new(&tc, &T.tls, detail, sizeof detail) != GH_OK) return -1;
    if (pthread_create(&T.thread, NULL, loop_thread, NULL) != 0) return -1;
    T.running = true;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (T.running) {
        event_base_loopbreak(T.base);
        pthread_join(T.thread, NULL);
    }
    if (T.hub) gh_hub_free(T.hub);
    gh_tls_client_free(T.tls);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", T.dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- the DPS service API (enrollments) ------------------------------------------- */

static unsigned service_at(const char *host, const char *key, const char *policy,
                           const char *method, const char *target, const char *body)
{
    char tok[700];
    struct gh_writer w;
    gh_writer_init(&w, tok, sizeof tok);
    assert_int_equal(
        gh_sas_build(gh_slice_cstr(host), gh_slice_cstr(key), time(NULL) + 3600, policy, &w),
        GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
    struct gh_http_kv h[] = {{"Authorization", tok}};
    struct gh_http_client_options o = {
        .host = "127.0.0.1", .port = T.port, .server_name = host, .tls = T.tls};
    struct gh_http_client_request rq = {
        .method = method,
        .target = target,
        .headers = h,
        .n_headers = 1,
        .content_type = body ? "application/json; charset=utf-8" : NULL,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .timeout_ms = REQ_MS,
    };
    struct gh_http_response resp;
    assert_int_equal(gh_http_fetch(&o, &rq, &resp), GH_OK);
    unsigned st = resp.status;
    if (st >= 300 && strcmp(method, "GET") != 0)
        fprintf(stderr, "%s %s: %u %s\n", method, target, st, (char *)resp.body);
    gh_http_response_cleanup(&resp);
    return st;
}

static unsigned service(const char *method, const char *target, const char *body)
{
    return service_at(DPS_HOST, T.svc_key, GH_DPS_SERVICE_POLICY, method, target, body);
}

static void enroll_sym(const char *id, const char *key, const char *extra)
{
    char target[128], body[1024];
    snprintf(target, sizeof target, "/enrollments/%s?api-version=2021-10-01", id);
    snprintf(body, sizeof body,
             "{\"registrationId\":\"%s\",\"capabilities\":{\"iotEdge\":true},%s\"attestation\":{"
             "\"type\":\"symmetricKey\",\"symmetricKey\":{\"primaryKey\":\"%s\","
             "\"secondaryKey\":\"" KEY_C "\"}}}",
             id, extra, key);
    assert_int_equal(service("PUT", target, body), 200);
}

static void enroll_x509(const char *id, const char *cert_path)
{
    static char pem[8192], esc[16384], body[20000];
    FILE *f = fopen(cert_path, "r");
    assert_non_null(f);
    size_t n = fread(pem, 1, sizeof pem - 1, f);
    fclose(f);
    pem[n] = '\0';
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (pem[i] == '\n') {
            esc[k++] = '\\';
            esc[k++] = 'n';
        } else {
            esc[k++] = pem[i];
        }
    }
    esc[k] = '\0';
    snprintf(body, sizeof body,
             "{\"registrationId\":\"%s\",\"attestation\":{\"type\":\"x509\",\"x509\":{"
             "\"clientCertificates\":{\"primary\":{\"certificate\":\"%s\"}}}}}",
             id, esc);
    char target[128];
    snprintf(target, sizeof target, "/enrollments/%s?api-version=2021-10-01", id);
    assert_int_equal(service("PUT", target, body), 200);
}

/* ---- configs ---------------------------------------------------------------------------- */

static void config(struct gh_edge_config *cfg, const char *reg, const char *key)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->prov_source = GH_EDGE_PROV_DPS;
    snprintf(cfg->global_endpoint, sizeof cfg->global_endpoint, "https://" DPS_HOST ":%u/",
             (unsigned)T.port);
    snprintf(cfg->id_scope, sizeof cfg->id_scope, SCOPE);
    snprintf(cfg->registration_id, sizeof cfg->registration_id, "%s", reg);
    snprintf(cfg->symmetric_key, sizeof cfg->symmetric_key, "%s", key ? key : "");
    cfg->attest_method = key ? GH_EDGE_ATTEST_SYMMETRIC_KEY : GH_EDGE_ATTEST_X509;
    snprintf(cfg->trust_bundle_cert, sizeof cfg->trust_bundle_cert, "%s", T.root_cert);
    cfg->nhosts = 1;
    snprintf(cfg->hosts[0].name, sizeof cfg->hosts[0].name, DPS_HOST);
    snprintf(cfg->hosts[0].address, sizeof cfg->hosts[0].address, "127.0.0.1");
}

/* Does the hub's registry hold device id (GET through the hub's REST API)? */
static bool hub_has_device(const char *id)
{
    char target[256];
    snprintf(target, sizeof target, "/devices/%s?api-version=2020-09-30", id);
    return service_at(HUB_HOST, T.hub_key, "iothubowner", "GET", target, NULL) == 200;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_individual_symmetric(void **state)
{
    (void)state;
    enroll_sym("edge-sym-01", KEY_A, "");
    struct gh_edge_config cfg;
    config(&cfg, "edge-sym-01", KEY_A);
    struct gh_edge_identity id;
    char err[512] = "";
    gh_err rc = gh_edge_provision_dps(&cfg, &id, err, sizeof err);
    if (rc != GH_OK) fprintf(stderr, "err: %s\n", err);
    assert_int_equal(rc, GH_OK);
    assert_string_equal(id.hub, HUB_HOST);
    assert_string_equal(id.device_id, "edge-sym-01");
    assert_int_equal(id.auth, GH_EDGE_AUTH_SAS);
    assert_string_equal(id.key, KEY_A);
    assert_string_equal(id.source, "dps");
    assert_string_equal(id.registration_id, "edge-sym-01");
    assert_string_equal(id.id_scope, SCOPE);
    assert_string_equal(id.endpoint, cfg.global_endpoint);
    assert_true(id.provisioned_ms > 0);
    assert_true(gh_edge_identity_matches(&id, &cfg));
    assert_true(hub_has_device(id.device_id));
    assert_false(hub_has_device("edge-never"));
    /* The identity's own SAS token is accepted by the hub's token rules. */
    char tok[GH_SAS_TOKEN_MAX];
    assert_int_equal(gh_edge_identity_sas(&id, time(NULL), 60, tok, sizeof tok), GH_OK);
    struct gh_sas_token t;
    assert_int_equal(gh_sas_parse(gh_slice_cstr(tok), &t), GH_OK);
    struct gh_slice hosts[] = {gh_slice_cstr(HUB_HOST)};
    assert_true(gh_sas_audience_grants_device(t.sr, hosts, 1, gh_slice_cstr("edge-sym-01"), NULL));
    struct gh_slice keys[] = {gh_slice_cstr(KEY_A)};
    assert_int_equal(gh_sas_verify(&t, keys, 1, NULL), GH_OK);
    gh_edge_identity_wipe(&id);
}

static void test_group_derived_and_case(void **state)
{
    (void)state;
    char body[512];
    snprintf(body, sizeof body,
             "{\"enrollmentGroupId\":\"edge-group\",\"attestation\":{\"type\":\"symmetricKey\","
             "\"symmetricKey\":{\"primaryKey\":\"" KEY_GROUP "\"}}}");
    assert_int_equal(service("PUT", "/enrollmentGroups/edge-group?api-version=2021-10-01", body),
                     200);
    struct gh_edge_config cfg;
    config(&cfg, "thermostat-01", KEY_DERIVED);
    /* The identity service lower-cases the audience: an upper-case scope
     * in the config still signs what DPS checks. */
    snprintf(cfg.id_scope, sizeof cfg.id_scope, "0NE00000042");
    struct gh_edge_identity id;
    char err[512] = "";
    gh_err rc = gh_edge_provision_dps(&cfg, &id, err, sizeof err);
    if (rc != GH_OK) fprintf(stderr, "err: %s\n", err);
    assert_int_equal(rc, GH_OK);
    assert_string_equal(id.device_id, "thermostat-01");
    assert_string_equal(id.key, KEY_DERIVED);
    /* The group key itself is not the device's key. */
    config(&cfg, "thermostat-01", KEY_GROUP);
    assert_int_equal(gh_edge_provision_dps(&cfg, &id, err, sizeof err), GH_ERR_AUTH);
    assert_true(hub_has_device("thermostat-01"));
}

static void test_x509_individual(void **state)
{
    (void)state;
    enroll_x509("edge-x509", T.dev_cert);
    struct gh_edge_config cfg;
    config(&cfg, "edge-x509", NULL);
    snprintf(cfg.identity_cert, sizeof cfg.identity_cert, "%s", T.dev_cert);
    snprintf(cfg.identity_pk, sizeof cfg.identity_pk, "%s", T.dev_key);
    struct gh_edge_identity id;
    char err[512] = "";
    gh_err rc = gh_edge_provision_dps(&cfg, &id, err, sizeof err);
    if (rc != GH_OK) fprintf(stderr, "err: %s\n", err);
    assert_int_equal(rc, GH_OK);
    assert_string_equal(id.hub, HUB_HOST);
    assert_string_equal(id.device_id, "edge-x509");
    assert_int_equal(id.auth, GH_EDGE_AUTH_X509);
    assert_string_equal(id.key, "");
    assert_true(hub_has_device("edge-x509"));
    char tok[64];
    assert_int_equal(gh_edge_identity_sas(&id, 0, 60, tok, sizeof tok), GH_ERR_ARG);
    /* Another certificate for the same registration id: refused. */
    char c2[400], k2[400];
    snprintf(c2, sizeof c2, "%s/edge-x509-b.cert.pem", T.dir);
    snprintf(k2, sizeof k2, "%s/edge-x509-b.key.pem", T.dir);
    assert_int_equal(issue(GH_PKI_PROFILE_DEVICE, "edge-x509", T.root_cert, T.root_key, c2, k2), 0);
    snprintf(cfg.identity_cert, sizeof cfg.identity_cert, "%s", c2);
    snprintf(cfg.identity_pk, sizeof cfg.identity_pk, "%s", k2);
    assert_int_equal(gh_edge_provision_dps(&cfg, &id, err, sizeof err), GH_ERR_AUTH);
    /* Certificate and key that do not belong together. */
    snprintf(cfg.identity_pk, sizeof cfg.identity_pk, "%s", T.dev_key);
    assert_int_equal(gh_edge_provision_dps(&cfg, &id, err, sizeof err), GH_ERR_KEY_MISMATCH);
    assert_non_null(strstr(err, "DPS TLS setup"));
}

static void test_refusals(void **state)
{
    (void)state;
    struct gh_edge_config cfg;
    struct gh_edge_identity id;
    memset(&id, 0x5a, sizeof id);
    struct gh_edge_identity untouched = id;
    char err[512] = "";
    /* Wrong key: 401 with DPS's own message. */
    enroll_sym("edge-wrong", KEY_A, "");
    config(&cfg, "edge-wrong", KEY_W);
    assert_int_equal(gh_edge_provision_dps(&cfg, &id, err, sizeof err), GH_ERR_AUTH);
    assert_non_null(strstr(err, "401"));
    assert_non_null(strstr(err, "symmetric key"));
    assert_non_null(strstr(err, "errorCode 401002"));
    /* Unknown registration: this DPS (like Azure's) answers 401 too. */
    config(&cfg, "edge-nobody", KEY_A);
    assert_int_equal(gh_edge_provision_dps(&cfg, &id, err, sizeof err), GH_ERR_AUTH);
    /* Unknown scope: 401 as well. */
    config(&cfg, "edge-wrong", KEY_A);
    snprintf(cfg.id_scope, sizeof cfg.id_scope, "0ne99999999");
    assert_int_equal(gh_edge_provision_dps(&cfg, &id, err, sizeof err), GH_ERR_AUTH);
    /* Disabled enrollment: the operation finishes "disabled". */
    enroll_sym("edge-off", KEY_A, "\"provisioningStatus\":\"disabled\",");
    config(&cfg, "edge-off", KEY_A);
    assert_int_equal(gh_edge_provision_dps(&cfg, &id, err, sizeof err), GH_ERR_FORBIDDEN);
    assert_non_null(strstr(err, "disabled"));
    /* Accepted but failed: the enrollment names a hub DPS is not linked to. */
    enroll_sym("edge-nohub", KEY_A, "\"iotHubHostName\":\"elsewhere.gatehouse.test\",");
    config(&cfg, "edge-nohub", KEY_A);
    assert_int_equal(gh_edge_provision_dps(&cfg, &id, err, sizeof err), GH_ERR_CONFLICT);
    assert_non_null(strstr(err, "could not assign"));
    assert_non_null(strstr(err, "errorCode 4"));
    /* TLS: DPS's certificate does not chain to the trust bundle. */
    config(&cfg, "edge-wrong", KEY_A);
    snprintf(cfg.trust_bundle_cert, sizeof cfg.trust_bundle_cert, "%s", T.other_cert);
    assert_int_equal(gh_edge_provision_dps(&cfg, &id, err, sizeof err), GH_ERR_CERT_VERIFY);
    assert_non_null(strstr(err, "TLS verification"));
    /* TLS: the certificate does not name the endpoint's host. */
    config(&cfg, "edge-wrong", KEY_A);
    snprintf(cfg.global_endpoint, sizeof cfg.global_endpoint, "https://dps2.gatehouse.test:%u",
             (unsigned)T.port);
    snprintf(cfg.hosts[0].name, sizeof cfg.hosts[0].name, "dps2.gatehouse.test");
    assert_int_equal(gh_edge_provision_dps(&cfg, &id, err, sizeof err), GH_ERR_CERT_VERIFY);
    /* Served under the hub's name, the device API does not exist: 404. */
    config(&cfg, "edge-wrong", KEY_A);
    snprintf(cfg.global_endpoint, sizeof cfg.global_endpoint, "https://" HUB_HOST ":%u",
             (unsigned)T.port);
    snprintf(cfg.hosts[0].name, sizeof cfg.hosts[0].name, HUB_HOST);
    assert_int_equal(gh_edge_provision_dps(&cfg, &id, err, sizeof err), GH_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "404"));
    /* DPS down: nothing listens. */
    config(&cfg, "edge-wrong", KEY_A);
    snprintf(cfg.global_endpoint, sizeof cfg.global_endpoint, "https://" DPS_HOST ":%u",
             (unsigned)free_port());
    assert_int_equal(gh_edge_provision_dps(&cfg, &id, err, sizeof err), GH_ERR_IO);
    assert_non_null(strstr(err, "DPS unreachable"));
    assert_memory_equal(&id, &untouched, sizeof id);
}

static void test_policy(void **state)
{
    (void)state;
    char data[300], path[400];
    snprintf(data, sizeof data, "%s/edge-data", T.dir);
    assert_int_equal(mkdir(data, 0700), 0);
    snprintf(path, sizeof path, "%s/" GH_EDGE_FILE_IDENTITY, data);
    enroll_sym("edge-pol", KEY_A, "");
    struct gh_edge_config cfg;
    config(&cfg, "edge-pol", KEY_A);
    struct gh_edge_config down = cfg;
    /* The same endpoint text, but [hosts] sends it where nothing listens. */
    snprintf(down.hosts[0].address, sizeof down.hosts[0].address, "127.0.0.2");
    struct gh_edge_identity id, cached;
    char err[512] = "";
    /* Dynamic, no cache: registers and saves. */
    cfg.reprovisioning = GH_EDGE_REPROV_DYNAMIC;
    gh_err rc = gh_edge_provision(&cfg, data, &id, err, sizeof err);
    if (rc != GH_OK) fprintf(stderr, "err: %s\n", err);
    assert_int_equal(rc, GH_OK);
    assert_int_equal(gh_edge_identity_load(path, &cached), GH_OK);
    assert_memory_equal(&id, &cached, sizeof id);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    int64_t first = cached.provisioned_ms;
    /* Every mode with the cache and DPS down: starts from the cache. */
    const int modes[] = {GH_EDGE_REPROV_DYNAMIC, GH_EDGE_REPROV_ON_STARTUP,
                         GH_EDGE_REPROV_ON_ERROR};
    for (size_t m = 0; m < 3; m++) {
        down.reprovisioning = modes[m];
        assert_int_equal(gh_edge_provision(&down, data, &id, err, sizeof err), GH_OK);
        assert_string_equal(id.device_id, "edge-pol");
        assert_int_equal(id.provisioned_ms, first);
    }
    /* AlwaysOnStartup with DPS up: registers again and rewrites the cache. */
    cfg.reprovisioning = GH_EDGE_REPROV_ON_STARTUP;
    assert_int_equal(gh_edge_provision(&cfg, data, &id, err, sizeof err), GH_OK);
    assert_int_equal(gh_edge_identity_load(path, &cached), GH_OK);
    assert_true(cached.provisioned_ms >= first);
    assert_memory_equal(&id, &cached, sizeof id);
    /* Dynamic and OnErrorOnly with DPS up and a cache: no registration (the
     * cache is used as is: provisioned_ms unchanged). */
    int64_t second = cached.provisioned_ms;
    cfg.reprovisioning = GH_EDGE_REPROV_ON_ERROR;
    assert_int_equal(gh_edge_provision(&cfg, data, &id, err, sizeof err), GH_OK);
    assert_int_equal(id.provisioned_ms, second);
    /* AlwaysOnStartup: DPS answering with an error is not "unreachable": no
     * fall-back to the cache. */
    struct gh_edge_config wrong = cfg;
    snprintf(wrong.symmetric_key, sizeof wrong.symmetric_key, KEY_W);
    wrong.reprovisioning = GH_EDGE_REPROV_ON_STARTUP;
    assert_int_equal(gh_edge_provision(&wrong, data, &id, err, sizeof err), GH_ERR_AUTH);
    /* Dynamic: the config changed (another key): registers anew. */
    wrong.reprovisioning = GH_EDGE_REPROV_DYNAMIC;
    assert_int_equal(gh_edge_provision(&wrong, data, &id, err, sizeof err), GH_ERR_AUTH);
    /* Dynamic without a usable cache and DPS down: the DPS error. */
    assert_int_equal(chmod(path, 0644), 0);
    down.reprovisioning = GH_EDGE_REPROV_DYNAMIC;
    assert_int_equal(gh_edge_provision(&down, data, &id, err, sizeof err), GH_ERR_IO);
    /* ...and with DPS up it re-registers and writes a fresh 0600 file. */
    cfg.reprovisioning = GH_EDGE_REPROV_DYNAMIC;
    assert_int_equal(gh_edge_provision(&cfg, data, &id, err, sizeof err), GH_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_individual_symmetric),
        cmocka_unit_test(test_group_derived_and_case),
        cmocka_unit_test(test_x509_individual),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_policy),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
