/* Linked hubs: the remote hub operations (dps_remote.c) against a real hub
 * (gh_hub_new on 127.0.0.1, its loop on a second thread, its service REST
 * API over TLS), and the assignment worker (dps_worker.c) assigning into
 * that hub, failing on a dead one, refusing when its queue is full and
 * abandoning work on shutdown. Certificates come from the pki library.
 * Every wait is bounded (request timeouts, WAIT_MS). */
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
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "common/log.h"
#include "dps/dps_assign.h"
#include "dps/dps_remote.h"
#include "dps/dps_store.h"
#include "dps/dps_worker.h"
#include "http/client.h"
#include "hub/hub.h"
#include "hub/store.h"
#include "iothub/sas.h"
#include "net/tls.h"
#include "pki/pki_files.h"

#define HUB_B "hub-b.gatehouse.test"
#define HUB_C "hub-c.gatehouse.test"
#define KEY_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_B "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
#define REQ_MS 5000u
#define WAIT_MS 15000

static struct {
    char dir[256];
    char root_cert[320], root_key[320], tenant_cert[320], tenant_key[320], ver_cert[320],
        ver_key[320];
    struct gh_hub *hub;
    struct event_base *hub_base;
    pthread_t thread;
    bool running;
    uint16_t port;
    char owner_key[GH_IDENTITY_KEY_MAX + 1];
    int dead_port; /* nothing listens */
    int hang_fd;   /* listens, never accepts */
    uint16_t hang_port;
    struct event_base *base; /* the test thread's base for remotes */
} T;

static uint16_t bound_port(int fd)
{
    struct sockaddr_in a;
    socklen_t n = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &n), 0);
    return ntohs(a.sin_port);
}

static int loopback_socket(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0) return -1;
    return fd;
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

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char *buf = calloc(1, 16384);
    size_t n = buf ? fread(buf, 1, 16383, f) : 0;
    (void)n;
    fclose(f);
    return buf;
}

static void *loop_thread(void *arg)
{
    (void)arg;
    event_base_dispatch(T.hub_base);
    return NULL;
}

static int setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    gh_log_set_level(GH_LOG_ERROR);
    if (evthread_use_pthreads() != 0) return -1;
    snprintf(T.dir, sizeof T.dir, "/tmp/gh-dpsremote-XXXXXX");
    if (!mkdtemp(T.dir)) return -1;
#define P(f, name) snprintf(T.f, sizeof T.f, "%s/" name, T.dir)
    P(root_cert, "root.cert.pem");
    P(root_key, "root.key.pem");
    P(tenant_cert, "tenant.cert.pem");
    P(tenant_key, "tenant.key.pem");
    P(ver_cert, "ver.cert.pem");
    P(ver_key, "ver.key.pem");
#undef P
    if (issue(GH_PKI_PROFILE_ROOT, "Test Root", NULL, NULL, T.root_cert, T.root_key) != 0 ||
        issue(GH_PKI_PROFILE_ROOT, "Tenant CA", NULL, NULL, T.tenant_cert, T.tenant_key) != 0)
        return -1;
    struct gh_hub_config cfg;
    struct gh_toml_error terr;
    if (gh_hub_config_load(NULL, &cfg, &terr) != GH_OK) return -1;
    snprintf(cfg.hostname, sizeof cfg.hostname, HUB_B);
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s/hub-b", T.dir);
    snprintf(cfg.listen_address, sizeof cfg.listen_address, "127.0.0.1");
    snprintf(cfg.tls_ca_cert, sizeof cfg.tls_ca_cert, "%s", T.root_cert);
    snprintf(cfg.tls_ca_key, sizeof cfg.tls_ca_key, "%s", T.root_key);
    cfg.mqtt_port = 0;
    int fd = loopback_socket();
    if (fd < 0) return -1;
    T.port = bound_port(fd);
    close(fd);
    cfg.https_port = T.port;
    char why[512] = "";
    if (gh_hub_new(&cfg, &T.hub, why, sizeof why) != GH_OK) {
        fprintf(stderr, "gh_hub_new: %s\n", why);
        return -1;
    }
    T.hub_base = gh_hub_base(T.hub);
    struct gh_policy p;
    if (gh_store_policy_get(gh_hub_store(T.hub), "iothubowner", &p) != GH_OK) return -1;
    memcpy(T.owner_key, p.primary_key, sizeof T.owner_key);
    gh_policy_wipe(&p);
    fd = loopback_socket();
    if (fd < 0) return -1;
    T.dead_port = bound_port(fd);
    close(fd);
    T.hang_fd = loopback_socket();
    if (T.hang_fd < 0 || listen(T.hang_fd, 16) != 0) return -1;
    T.hang_port = bound_port(T.hang_fd);
    T.base = event_base_new();
    if (T.base == NULL) return -1;
    if (pthread_create(&T.thread, NULL, loop_thread, NULL) != 0) return -1;
    T.running = true;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (T.running) {
        event_base_loopbreak(T.hub_base);
        pthread_join(T.thread, NULL);
    }
    if (T.hub) gh_hub_free(T.hub);
    if (T.base) event_base_free(T.base);
    close(T.hang_fd);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", T.dir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct gh_dps_remote_config remote_cfg(const char *host, uint16_t port, const char *key)
{
    return (struct gh_dps_remote_config){.host_name = host,
                                         .policy = "iothubowner",
                                         .key = key,
                                         .address = "127.0.0.1",
                                         .port = port,
                                         .ca_file = T.root_cert,
                                         .timeout_ms = REQ_MS};
}

static struct gh_dps_remote *remote(const struct gh_dps_remote_config *c, struct gh_dps_hub *hub)
{
    struct gh_dps_remote *r = NULL;
    char detail[200] = "";
    gh_err rc = gh_dps_remote_new(T.base, NULL, c, &r, detail, sizeof detail);
    if (rc != GH_OK) fprintf(stderr, "remote: %s\n", detail);
    assert_int_equal(rc, GH_OK);
    gh_dps_hub_remote(hub, r);
    return r;
}

static void remote_free(struct gh_dps_remote *r)
{
    gh_dps_remote_free(r);
    event_base_loop(T.base, EVLOOP_NONBLOCK);
}

/* One request to hub B's service API from the test thread. */
static unsigned hub_call(const char *method, const char *target, const char *body, char **out)
{
    char tok[700];
    struct gh_writer w;
    gh_writer_init(&w, tok, sizeof tok);
    assert_int_equal(gh_sas_build(gh_slice_cstr(HUB_B), gh_slice_cstr(T.owner_key),
                                  time(NULL) + 3600, "iothubowner", &w),
                     GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
    struct gh_tls_client *tls = NULL;
    struct gh_tls_client_config tc = {.ca_file = T.root_cert};
    char detail[GH_TLS_DETAIL_MAX];
    assert_int_equal(gh_tls_client_new(&tc, &tls, detail, sizeof detail), GH_OK);
    struct gh_http_kv h[] = {{"Authorization", tok}};
    struct gh_http_client_options o = {
        .host = "127.0.0.1", .port = T.port, .server_name = HUB_B, .tls = tls};
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
    gh_tls_client_free(tls);
    unsigned st = resp.status;
    if (out) *out = strdup((const char *)resp.body);
    gh_http_response_cleanup(&resp);
    return st;
}

/* ---- remote operations ------------------------------------------------------------------ */

static void test_status_map(void **state)
{
    (void)state;
    static const struct {
        unsigned status;
        gh_err rc;
    } m[] = {{200, GH_OK},
             {204, GH_OK},
             {400, GH_ERR_ARG},
             {401, GH_ERR_AUTH},
             {403, GH_ERR_FORBIDDEN},
             {404, GH_ERR_NOT_FOUND},
             {409, GH_ERR_CONFLICT},
             {412, GH_ERR_ETAG_MISMATCH},
             {413, GH_ERR_TOO_LARGE},
             {429, GH_ERR_QUEUE_FULL},
             {500, GH_ERR_INTERNAL},
             {503, GH_ERR_CLOSED},
             {302, GH_ERR_BAD_PROTOCOL},
             {418, GH_ERR_BAD_PROTOCOL}};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        assert_int_equal(gh_dps_remote_status_err(m[i].status), m[i].rc);
}

static void test_identity_and_twin(void **state)
{
    (void)state;
    struct gh_dps_remote_config c = remote_cfg(HUB_B, T.port, T.owner_key);
    struct gh_dps_hub hub;
    struct gh_dps_remote *r = remote(&c, &hub);
    assert_string_equal(hub.host_name, HUB_B);
    struct gh_identity id, got;
    assert_int_equal(hub.ops->identity_get(hub.ctx, "rem-1", &got), GH_ERR_NOT_FOUND);
    memset(&id, 0, sizeof id);
    snprintf(id.device_id, sizeof id.device_id, "rem-1");
    id.auth_type = GH_AUTH_SAS;
    snprintf(id.primary_key, sizeof id.primary_key, KEY_A);
    snprintf(id.secondary_key, sizeof id.secondary_key, KEY_B);
    id.present = GH_IDENTITY_F_AUTH | GH_IDENTITY_F_CAPABILITIES;
    assert_int_equal(hub.ops->identity_create(hub.ctx, &id, &got), GH_OK);
    assert_string_equal(got.device_id, "rem-1");
    assert_int_equal(got.auth_type, GH_AUTH_SAS);
    assert_string_equal(got.primary_key, KEY_A);
    /* creating it again is a conflict */
    assert_int_equal(hub.ops->identity_create(hub.ctx, &id, &got), GH_ERR_CONFLICT);
    /* update: keys swapped and iotEdge set, the rest kept */
    snprintf(id.primary_key, sizeof id.primary_key, KEY_B);
    snprintf(id.secondary_key, sizeof id.secondary_key, KEY_A);
    id.iot_edge = true;
    assert_int_equal(hub.ops->identity_update(hub.ctx, &id, &got), GH_OK);
    assert_int_equal(hub.ops->identity_get(hub.ctx, "rem-1", &got), GH_OK);
    assert_string_equal(got.primary_key, KEY_B);
    assert_string_equal(got.secondary_key, KEY_A);
    assert_true(got.iot_edge);
    /* to a CA-authenticated device */
    id.auth_type = GH_AUTH_CA;
    id.present = GH_IDENTITY_F_AUTH;
    assert_int_equal(hub.ops->identity_update(hub.ctx, &id, &got), GH_OK);
    assert_int_equal(hub.ops->identity_get(hub.ctx, "rem-1", &got), GH_OK);
    assert_int_equal(got.auth_type, GH_AUTH_CA);
    assert_true(got.iot_edge);
    /* twin: merge, read back without $-members, replace */
    json_t *doc =
        json_loads("{\"tags\":{\"site\":\"p7\"},\"properties\":{\"desired\":{\"i\":30}}}", 0, NULL);
    assert_int_equal(hub.ops->twin_apply(hub.ctx, "rem-1", doc, false), GH_OK);
    json_decref(doc);
    json_t *t = NULL;
    assert_int_equal(hub.ops->twin_get(hub.ctx, "rem-1", &t), GH_OK);
    char *text = json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text,
                        "{\"properties\":{\"desired\":{\"i\":30}},\"tags\":{\"site\":\"p7\"}}");
    free(text);
    json_decref(t);
    doc = json_loads("{\"tags\":{\"line\":2},\"properties\":{\"desired\":{\"j\":1}}}", 0, NULL);
    assert_int_equal(hub.ops->twin_apply(hub.ctx, "rem-1", doc, true), GH_OK);
    json_decref(doc);
    assert_int_equal(hub.ops->twin_get(hub.ctx, "rem-1", &t), GH_OK);
    text = json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text, "{\"properties\":{\"desired\":{\"j\":1}},\"tags\":{\"line\":2}}");
    free(text);
    json_decref(t);
    /* an id that needs percent-encoding in the path */
    snprintf(id.device_id, sizeof id.device_id, "rem+2=x@y");
    id.auth_type = GH_AUTH_SAS;
    id.present = GH_IDENTITY_F_AUTH;
    assert_int_equal(hub.ops->identity_create(hub.ctx, &id, &got), GH_OK);
    assert_int_equal(hub.ops->identity_get(hub.ctx, "rem+2=x@y", &got), GH_OK);
    assert_string_equal(got.device_id, "rem+2=x@y");
    /* delete */
    assert_int_equal(hub.ops->identity_delete(hub.ctx, "rem-1"), GH_OK);
    assert_int_equal(hub.ops->identity_delete(hub.ctx, "rem-1"), GH_ERR_NOT_FOUND);
    assert_int_equal(hub.ops->twin_get(hub.ctx, "rem-1", &t), GH_ERR_NOT_FOUND);
    assert_int_equal(hub.ops->identity_update(hub.ctx, &id, &got), GH_OK);
    snprintf(id.device_id, sizeof id.device_id, "rem-1");
    assert_int_equal(hub.ops->identity_update(hub.ctx, &id, &got), GH_ERR_NOT_FOUND);
    gh_identity_wipe(&got);
    remote_free(r);
}

static void test_ca_ensure(void **state)
{
    (void)state;
    struct gh_dps_remote_config c = remote_cfg(HUB_B, T.port, T.owner_key);
    struct gh_dps_hub hub;
    struct gh_dps_remote *r = remote(&c, &hub);
    char *pem = slurp(T.tenant_cert);
    assert_non_null(pem);
    char name[45];
    assert_int_equal(gh_dps_ca_record_name(pem, name), GH_OK);
    char target[128], *body = NULL;
    snprintf(target, sizeof target, "/certificates/%s", name);
    /* not there: uploaded verified ("verified on upload") */
    assert_int_equal(hub.ops->ca_ensure(hub.ctx, pem), GH_OK);
    assert_int_equal(hub_call("GET", target, NULL, &body), 200);
    json_t *j = json_loads(body, 0, NULL);
    free(body);
    assert_true(json_is_true(json_object_get(json_object_get(j, "properties"), "isVerified")));
    json_decref(j);
    /* there and verified: nothing to do */
    assert_int_equal(hub.ops->ca_ensure(hub.ctx, pem), GH_OK);
    /* a record of that name made by hand and not verified: refused, left as is */
    assert_int_equal(hub_call("DELETE", target, NULL, NULL), 204);
    json_t *up = json_pack("{s:{s:s}}", "properties", "certificate", pem);
    char *uptext = json_dumps(up, JSON_COMPACT);
    json_decref(up);
    assert_int_equal(hub_call("PUT", target, uptext, NULL), 200);
    free(uptext);
    assert_int_equal(hub.ops->ca_ensure(hub.ctx, pem), GH_ERR_CERT_VERIFY);
    assert_int_equal(hub_call("GET", target, NULL, &body), 200);
    j = json_loads(body, 0, NULL);
    free(body);
    assert_false(json_is_true(json_object_get(json_object_get(j, "properties"), "isVerified")));
    const char *code =
        json_string_value(json_object_get(json_object_get(j, "properties"), "verificationCode"));
    assert_non_null(code);
    /* the hub's operator proves possession, then it is enough */
    assert_int_equal(issue(GH_PKI_PROFILE_VERIFICATION, code, T.tenant_cert, T.tenant_key,
                           T.ver_cert, T.ver_key),
                     0);
    json_decref(j);
    char *ver = slurp(T.ver_cert);
    json_t *vb = json_pack("{s:s}", "certificate", ver);
    char *vtext = json_dumps(vb, JSON_COMPACT);
    snprintf(target, sizeof target, "/certificates/%s/verify", name);
    assert_int_equal(hub_call("POST", target, vtext, NULL), 200);
    assert_int_equal(hub.ops->ca_ensure(hub.ctx, pem), GH_OK);
    free(vtext);
    json_decref(vb);
    free(ver);
    free(pem);
    remote_free(r);
}

static void test_failures(void **state)
{
    (void)state;
    struct gh_identity got;
    struct gh_dps_hub hub;
    /* a key the hub does not know */
    struct gh_dps_remote_config c = remote_cfg(HUB_B, T.port, KEY_A);
    struct gh_dps_remote *r = remote(&c, &hub);
    assert_int_equal(hub.ops->identity_get(hub.ctx, "x", &got), GH_ERR_AUTH);
    remote_free(r);
    /* the certificate does not name the host we ask for */
    c = remote_cfg(HUB_C, T.port, T.owner_key);
    r = remote(&c, &hub);
    gh_err rc = hub.ops->identity_get(hub.ctx, "x", &got);
    assert_true(rc == GH_ERR_CERT_VERIFY || rc == GH_ERR_TLS);
    remote_free(r);
    /* nobody listens */
    c = remote_cfg(HUB_C, (uint16_t)T.dead_port, T.owner_key);
    r = remote(&c, &hub);
    rc = hub.ops->identity_get(hub.ctx, "x", &got);
    assert_true(rc == GH_ERR_IO || rc == GH_ERR_CLOSED);
    remote_free(r);
    /* accepted by the kernel, never answered: the request timeout */
    c = remote_cfg(HUB_C, T.hang_port, T.owner_key);
    c.timeout_ms = 300;
    r = remote(&c, &hub);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(hub.ops->identity_get(hub.ctx, "x", &got), GH_ERR_TIMEOUT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_true(ms >= 250 && ms < 3000);
    remote_free(r);
    /* stop already set: nothing is sent */
    static atomic_bool stop;
    atomic_store(&stop, true);
    c = remote_cfg(HUB_B, T.port, T.owner_key);
    c.stop = &stop;
    r = remote(&c, &hub);
    assert_int_equal(hub.ops->identity_get(hub.ctx, "x", &got), GH_ERR_CLOSED);
    remote_free(r);
    /* missing parts */
    c = remote_cfg(HUB_B, T.port, T.owner_key);
    c.address = NULL;
    char detail[100];
    assert_int_equal(gh_dps_remote_new(T.base, NULL, &c, &r, detail, sizeof detail), GH_ERR_ARG);
    c = remote_cfg(HUB_B, T.port, "");
    assert_int_equal(gh_dps_remote_new(T.base, NULL, &c, &r, detail, sizeof detail), GH_ERR_ARG);
}

/* ---- the worker --------------------------------------------------------------------------- */

static struct gh_dps_store *open_store(const char *sub)
{
    char dir[300], err[256];
    snprintf(dir, sizeof dir, "%s/%s", T.dir, sub);
    struct gh_dps_store *s = NULL;
    gh_err rc = gh_dps_store_open(dir, &s, err, sizeof err);
    if (rc != GH_OK) fprintf(stderr, "store: %s\n", err);
    assert_int_equal(rc, GH_OK);
    return s;
}

static void attest_sym(struct gh_dps_attest *a, const char *reg, const char *hub)
{
    memset(a, 0, sizeof *a);
    a->outcome = GH_DPS_ATTEST_OK;
    a->enrollment.kind = GH_DPS_INDIVIDUAL;
    snprintf(a->enrollment.id, sizeof a->enrollment.id, "%s", reg);
    a->enrollment.attestation = GH_DPS_ATT_SYMMETRIC_KEY;
    snprintf(a->enrollment.primary_key, sizeof a->enrollment.primary_key, KEY_A);
    snprintf(a->enrollment.secondary_key, sizeof a->enrollment.secondary_key, KEY_B);
    snprintf(a->enrollment.iot_hub_host_name, sizeof a->enrollment.iot_hub_host_name, "%s", hub);
    a->enrollment.allocation = GH_DPS_ALLOC_STATIC;
    a->enrollment.enabled = true;
    a->enrollment.update_hub_assignment = true;
    a->enrollment.migrate_device_data = true;
    a->enrollment.initial_twin =
        json_loads("{\"tags\":{\"via\":\"worker\"},\"properties\":{\"desired\":{}}}", 0, NULL);
    snprintf(a->device_key[0], sizeof a->device_key[0], KEY_A);
    snprintf(a->device_key[1], sizeof a->device_key[1], KEY_B);
}

/* Wait (bounded) until the operation is no longer assigning. */
static void wait_op(struct gh_dps_store *s, const char *reg, const char *id,
                    struct gh_dps_operation *op)
{
    for (int i = 0; i < WAIT_MS / 20; i++) {
        memset(op, 0, sizeof *op);
        assert_int_equal(gh_dps_store_operation_get(s, reg, id, op), GH_OK);
        if (op->status != GH_DPS_ASSIGNING) return;
        gh_dps_operation_cleanup(op);
        usleep(20000);
    }
    fail_msg("operation %s still assigning after %d ms", id, WAIT_MS);
}

static void submit(struct gh_dps_worker *w, struct gh_dps_store *s, const char *reg,
                   const char *hub, struct gh_dps_operation *op, gh_err want)
{
    struct gh_dps_attest a;
    attest_sym(&a, reg, hub);
    memset(op, 0, sizeof *op);
    assert_int_equal(gh_dps_store_operation_create(s, reg, op), GH_OK);
    assert_int_equal(gh_dps_worker_submit(w, reg, op->id, &a), want);
    gh_dps_attest_cleanup(&a);
}

static void test_worker_assigns(void **state)
{
    (void)state;
    struct gh_dps_store *s = open_store("prov-1");
    struct gh_dps_remote_config hubs[2] = {remote_cfg(HUB_B, T.port, T.owner_key),
                                           remote_cfg(HUB_C, (uint16_t)T.dead_port, KEY_A)};
    char dir[300], detail[256] = "";
    snprintf(dir, sizeof dir, "%s/prov-1", T.dir);
    struct gh_dps_worker_config wc = {.data_dir = dir, .hubs = hubs, .nhubs = 2, .queue_max = 8};
    struct gh_dps_worker *w = NULL;
    assert_int_equal(gh_dps_worker_start(&wc, &w, detail, sizeof detail), GH_OK);
    struct gh_dps_operation ok_op, dead_op, op;
    submit(w, s, "wk-dead", HUB_C, &dead_op, GH_OK);
    submit(w, s, "wk-ok", HUB_B, &ok_op, GH_OK);
    /* the dead hub fails its registration, the next one is assigned */
    wait_op(s, "wk-dead", dead_op.id, &op);
    assert_int_equal(op.status, GH_DPS_FAILED);
    assert_int_equal(json_integer_value(json_object_get(op.result, "errorCode")),
                     GH_DPS_ERR_HUB_ASSIGN);
    gh_dps_operation_cleanup(&op);
    wait_op(s, "wk-ok", ok_op.id, &op);
    assert_int_equal(op.status, GH_DPS_ASSIGNED);
    assert_string_equal(json_string_value(json_object_get(op.result, "assignedHub")), HUB_B);
    assert_string_equal(json_string_value(json_object_get(op.result, "deviceId")), "wk-ok");
    gh_dps_operation_cleanup(&op);
    struct gh_dps_registration reg;
    assert_int_equal(gh_dps_store_registration_get(s, "wk-ok", &reg), GH_OK);
    assert_int_equal(reg.status, GH_DPS_ASSIGNED);
    /* the device and its initial twin are in hub B */
    char *body = NULL;
    assert_int_equal(hub_call("GET", "/twins/wk-ok", NULL, &body), 200);
    assert_non_null(strstr(body, "\"via\":\"worker\""));
    free(body);
    /* a bad submission */
    struct gh_dps_attest a;
    attest_sym(&a, "wk-x", HUB_B);
    a.outcome = GH_DPS_ATTEST_DENIED;
    assert_int_equal(gh_dps_worker_submit(w, "wk-x", ok_op.id, &a), GH_ERR_ARG);
    gh_dps_attest_cleanup(&a);
    gh_dps_operation_cleanup(&ok_op);
    gh_dps_operation_cleanup(&dead_op);
    gh_dps_worker_stop(w);
    gh_dps_store_close(s);
}

static void test_worker_queue_and_shutdown(void **state)
{
    (void)state;
    struct gh_dps_store *s = open_store("prov-2");
    /* the only hub never answers, with a long timeout: the first job hangs */
    struct gh_dps_remote_config hubs[1] = {remote_cfg(HUB_C, T.hang_port, T.owner_key)};
    hubs[0].timeout_ms = 60000;
    char dir[300], detail[256] = "";
    snprintf(dir, sizeof dir, "%s/prov-2", T.dir);
    struct gh_dps_worker_config wc = {.data_dir = dir, .hubs = hubs, .nhubs = 1, .queue_max = 1};
    struct gh_dps_worker *w = NULL;
    assert_int_equal(gh_dps_worker_start(&wc, &w, detail, sizeof detail), GH_OK);
    struct gh_dps_operation running, queued, refused, op;
    submit(w, s, "q-1", HUB_C, &running, GH_OK);
    for (int i = 0; i < 200 && gh_dps_worker_pending(w) != 0; i++) usleep(10000);
    assert_int_equal(gh_dps_worker_pending(w), 0); /* q-1 runs */
    submit(w, s, "q-2", HUB_C, &queued, GH_OK);
    submit(w, s, "q-3", HUB_C, &refused, GH_ERR_QUEUE_FULL);
    assert_int_equal(gh_dps_worker_pending(w), 1);
    /* shutdown: the running request is cancelled at once, q-2 never runs */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    gh_dps_worker_stop(w);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_true(ms < 3000);
    wait_op(s, "q-1", running.id, &op);
    assert_int_equal(op.status, GH_DPS_FAILED);
    gh_dps_operation_cleanup(&op);
    wait_op(s, "q-2", queued.id, &op);
    assert_int_equal(op.status, GH_DPS_FAILED);
    assert_string_equal(json_string_value(json_object_get(op.result, "errorMessage")),
                        GH_DPS_WORKER_ABANDONED_MSG);
    gh_dps_operation_cleanup(&op);
    /* q-3 was refused: still assigning in this store (the hub finishes it, 429) */
    memset(&op, 0, sizeof op);
    assert_int_equal(gh_dps_store_operation_get(s, "q-3", refused.id, &op), GH_OK);
    assert_int_equal(op.status, GH_DPS_ASSIGNING);
    gh_dps_operation_cleanup(&op);
    /* what a crash leaves behind is failed at the next start */
    uint64_t n = 0;
    assert_int_equal(gh_dps_store_operation_fail_pending(s, GH_DPS_WORKER_ABANDONED_CODE,
                                                         GH_DPS_WORKER_ABANDONED_MSG, &n),
                     GH_OK);
    assert_int_equal(n, 1);
    wait_op(s, "q-3", refused.id, &op);
    assert_int_equal(op.status, GH_DPS_FAILED);
    gh_dps_operation_cleanup(&op);
    assert_int_equal(gh_dps_store_operation_fail_pending(s, 0, "x", &n), GH_ERR_ARG);
    gh_dps_operation_cleanup(&running);
    gh_dps_operation_cleanup(&queued);
    gh_dps_operation_cleanup(&refused);
    gh_dps_store_close(s);
}

static void test_worker_start_errors(void **state)
{
    (void)state;
    char dir[300], detail[256] = "";
    snprintf(dir, sizeof dir, "%s/prov-3", T.dir);
    struct gh_dps_remote_config hubs[1] = {remote_cfg(HUB_B, T.port, T.owner_key)};
    hubs[0].ca_file = "/nonexistent/ca.pem";
    struct gh_dps_worker_config wc = {.data_dir = dir, .hubs = hubs, .nhubs = 1, .queue_max = 1};
    struct gh_dps_worker *w = NULL;
    assert_int_not_equal(gh_dps_worker_start(&wc, &w, detail, sizeof detail), GH_OK);
    assert_non_null(strstr(detail, "linked hub " HUB_B));
    wc.nhubs = 0;
    assert_int_equal(gh_dps_worker_start(&wc, &w, detail, sizeof detail), GH_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_map),
        cmocka_unit_test(test_identity_and_twin),
        cmocka_unit_test(test_ca_ensure),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_worker_assigns),
        cmocka_unit_test(test_worker_queue_and_shutdown),
        cmocka_unit_test(test_worker_start_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
