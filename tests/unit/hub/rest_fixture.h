/* Shared harness of the in-process REST tests (test_rest_server.c,
 * test_rest_async.c): a real hub (gh_hub_new) on loopback and the project's
 * HTTPS client on the same event loop, request helpers and one-shot timers.
 * Every wait is bounded by the client's request timeout. Needs GH_GATEHOUSE
 * (the binary, for `gatehouse pki`). Included by those tests only, after
 * cmocka.h. */
#ifndef GH_TEST_REST_FIXTURE_H
#define GH_TEST_REST_FIXTURE_H

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "http/client.h"
#include "hub/hub.h"
#include "hub/rest_int.h"
#include "hub/store.h"
#include "iothub/sas.h"
#include "net/tls.h"

#define HOST "hub.gatehouse.test"
#define REQ_TIMEOUT_MS 20000u

struct t {
    char dir[256];
    char pki[300];
    struct gh_hub *hub;
    struct event_base *base;
    struct gh_tls_client *tls;
    struct gh_http_client *cl;
    uint16_t port;
    char key[GH_IDENTITY_KEY_MAX + 1]; /* iothubowner primary key */
};

static struct t T;

/* A loopback port nobody listens on right now (bind, read, close). */
static inline uint16_t free_port(void)
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

static inline int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int run(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static inline const char *gatehouse(void)
{
    const char *g = getenv("GH_GATEHOUSE");
    return g ? g : "gatehouse";
}

static inline int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    gh_log_set_level(GH_LOG_WARN);
    snprintf(T.dir, sizeof T.dir, "/tmp/gh-rest-test-XXXXXX");
    if (mkdtemp(T.dir) == NULL) return -1;
    snprintf(T.pki, sizeof T.pki, "%s/pki", T.dir);
    if (run("'%s' pki init-root --dir '%s' >/dev/null", gatehouse(), T.pki) != 0) return -1;
    struct gh_hub_config cfg;
    struct gh_toml_error terr;
    if (gh_hub_config_load(NULL, &cfg, &terr) != GH_OK) return -1;
    snprintf(cfg.hostname, sizeof cfg.hostname, HOST);
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s/data", T.dir);
    snprintf(cfg.listen_address, sizeof cfg.listen_address, "127.0.0.1");
    snprintf(cfg.tls_ca_cert, sizeof cfg.tls_ca_cert, "%s/certs/root.cert.pem", T.pki);
    snprintf(cfg.tls_ca_key, sizeof cfg.tls_ca_key, "%s/private/root.key.pem", T.pki);
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
    if (gh_store_policy_get(gh_hub_store(T.hub), "iothubowner", &p) != GH_OK) return -1;
    memcpy(T.key, p.primary_key, sizeof T.key);
    gh_policy_wipe(&p);
    struct gh_tls_client_config tc = {.ca_file = cfg.tls_ca_cert};
    char detail[GH_TLS_DETAIL_MAX];
    if (gh_tls_client_new(&tc, &T.tls, detail, sizeof detail) != GH_OK) return -1;
    struct gh_http_client_options o = {
        .host = "127.0.0.1", .port = T.port, .server_name = HOST, .tls = T.tls};
    if (gh_http_client_new(T.base, &o, &T.cl) != GH_OK) return -1;
    return 0;
}

static inline int group_teardown(void **state)
{
    (void)state;
    gh_http_client_free(T.cl);
    if (T.hub) {
        event_base_loop(T.base, EVLOOP_NONBLOCK);
        gh_hub_free(T.hub);
    }
    gh_tls_client_free(T.tls);
    run("rm -rf '%s'", T.dir);
    return 0;
}

/* ---- requests ----------------------------------------------------------- */

struct done {
    bool fired;
    gh_err rc;
    struct gh_http_response resp;
};

static inline void on_done(gh_err rc, struct gh_http_response *resp, void *user)
{
    struct done *d = user;
    d->fired = true;
    d->rc = rc;
    if (rc == GH_OK) d->resp = *resp;
}

static inline void token(char *out, size_t cap, int64_t se, const char *key, const char *skn)
{
    struct gh_writer w;
    gh_writer_init(&w, out, cap);
    assert_int_equal(gh_sas_build(gh_slice_cstr(HOST), gh_slice_cstr(key), se, skn, &w), GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
}

struct rq {
    const char *method, *target, *body, *ctype;
    size_t body_len;
    const struct gh_http_kv *h;
    size_t nh;
    bool no_auth;
};

static inline void start(const struct rq *r, struct done *d)
{
    char tok[600];
    token(tok, sizeof tok, gh_hub_now_ms() / 1000 + 3600, T.key, "iothubowner");
    struct gh_http_kv h[GH_HTTP_CLIENT_HEADERS_MAX];
    size_t n = 0;
    if (!r->no_auth) h[n++] = (struct gh_http_kv){"Authorization", tok};
    for (size_t i = 0; i < r->nh; i++) h[n++] = r->h[i];
    struct gh_http_client_request cr = {
        .method = r->method,
        .target = r->target,
        .headers = h,
        .n_headers = n,
        .content_type = r->body ? (r->ctype ? r->ctype : "application/json; charset=utf-8") : NULL,
        .body = r->body,
        .body_len = r->body ? (r->body_len ? r->body_len : strlen(r->body)) : 0,
        .timeout_ms = REQ_TIMEOUT_MS,
    };
    memset(d, 0, sizeof *d);
    assert_int_equal(gh_http_client_request(T.cl, &cr, on_done, d), GH_OK);
}

static inline void wait_done(struct done *d)
{
    /* Bounded: the client's timeout ends every request. */
    while (!d->fired) assert_true(event_base_loop(T.base, EVLOOP_ONCE) >= 0);
}

/* One request; returns the status, *json (may be NULL) the parsed body. */
static inline unsigned call(const struct rq *r, json_t **json, struct done *keep)
{
    struct done d;
    start(r, &d);
    wait_done(&d);
    assert_int_equal(d.rc, GH_OK);
    unsigned status = d.resp.status;
    if (status != 204 && d.resp.body_len > 0) {
        const char *ct = gh_http_response_header(&d.resp, "Content-Type");
        assert_non_null(ct);
        assert_string_equal(ct, GH_HTTP_CONTENT_TYPE_JSON);
    }
    if (json) {
        *json = d.resp.body_len
                    ? json_loadb((const char *)d.resp.body, d.resp.body_len, JSON_DECODE_ANY, NULL)
                    : NULL;
    }
    if (keep)
        *keep = d;
    else
        gh_http_response_cleanup(&d.resp);
    return status;
}

static inline unsigned simple(const char *method, const char *target, const char *body,
                              json_t **json)
{
    struct rq r = {.method = method, .target = target, .body = body};
    return call(&r, json, NULL);
}

/* The ErrorCode of an error body (static buffer). */
static inline const char *code_of(json_t *j)
{
    static char code[64];
    const char *m = json_string_value(json_object_get(j, "Message"));
    assert_non_null(m);
    assert_true(strncmp(m, "ErrorCode:", 10) == 0);
    const char *semi = strchr(m, ';');
    assert_non_null(semi);
    snprintf(code, sizeof code, "%.*s", (int)(semi - m - 10), m + 10);
    return code;
}

static inline void expect_error(unsigned want_status, const char *want_code, const struct rq *r)
{
    json_t *j = NULL;
    struct done d;
    unsigned st = call(r, &j, &d);
    if (st != want_status) fprintf(stderr, "%s %s: %u %s\n", r->method, r->target, st, d.resp.body);
    assert_int_equal(st, want_status);
    assert_non_null(j);
    assert_string_equal(code_of(j), want_code);
    assert_string_equal(gh_http_response_header(&d.resp, "iothub-errorcode"), want_code);
    assert_true(json_is_integer(json_object_get(j, "errorCode")));
    json_decref(j);
    gh_http_response_cleanup(&d.resp);
}

static inline void expect_simple_error(unsigned st, const char *code, const char *method,
                                       const char *target, const char *body)
{
    struct rq r = {.method = method, .target = target, .body = body};
    expect_error(st, code, &r);
}

struct later {
    struct event *ev;
    void (*fn)(void *);
    void *arg;
};

static inline void on_later(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct later *l = arg;
    l->fn(l->arg);
}

static inline void after_ms(struct later *l, unsigned ms, void (*fn)(void *), void *arg)
{
    l->fn = fn;
    l->arg = arg;
    l->ev = evtimer_new(T.base, on_later, l);
    assert_non_null(l->ev);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    assert_int_equal(event_add(l->ev, &tv), 0);
}

static inline void cancel_client(void *arg)
{
    bool *flag = arg;
    gh_http_client_cancel(T.cl);
    *flag = true;
}

#endif
