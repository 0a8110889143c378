/* The client against scripted raw servers (exact response bytes): chunked,
 * until-close and interim responses, limits, malformed answers, timeouts,
 * the stale keep-alive retry, TLS failures, argument checks; and the
 * blocking gh_http_fetch against the real server in a second thread. */
#include "httptest.h"

#include <pthread.h>

enum act { ANSWER, ANSWER_CLOSE, DROP, HOLD };

struct script {
    const char *resp;
    enum act act;
};

struct raw_srv {
    struct gh_listener *l;
    const struct script *steps;
    size_t nsteps, next;
    int conns;
    char last_req[4096];
};

struct raw_conn {
    struct raw_srv *s;
    char buf[8192];
    size_t len;
};

static void raw_read(struct gh_conn *c, void *user)
{
    struct raw_conn *rc = user;
    struct gh_slice in;
    assert_int_equal(gh_conn_peek(c, SIZE_MAX, &in), GH_OK);
    size_t n = in.len < sizeof rc->buf - 1 - rc->len ? in.len : sizeof rc->buf - 1 - rc->len;
    memcpy(rc->buf + rc->len, in.ptr, n);
    rc->len += n;
    rc->buf[rc->len] = 0;
    assert_int_equal(gh_conn_consume(c, in.len), GH_OK);
    char *end;
    while ((end = strstr(rc->buf, "\r\n\r\n")) != NULL) {
        struct raw_srv *s = rc->s;
        size_t head = (size_t)(end + 4 - rc->buf);
        /* requests in these tests carry small bodies announced by length */
        const char *cl = strstr(rc->buf, "Content-Length: ");
        size_t body = cl && cl < end ? strtoul(cl + 16, NULL, 10) : 0;
        if (rc->len < head + body) return;
        snprintf(s->last_req, sizeof s->last_req, "%.*s", (int)(head + body), rc->buf);
        memmove(rc->buf, rc->buf + head + body, rc->len - head - body + 1);
        rc->len -= head + body;
        assert_true(s->next < s->nsteps);
        const struct script *st = &s->steps[s->next++];
        if (st->act == HOLD) return;
        if (st->act == DROP) {
            gh_conn_abort(c);
            return;
        }
        assert_int_equal(gh_conn_write(c, st->resp, strlen(st->resp)), GH_OK);
        if (st->act == ANSWER_CLOSE) {
            gh_conn_close(c);
            return;
        }
    }
}

static void raw_close(struct gh_conn *c, gh_err reason, void *user)
{
    free(user);
}

static const struct gh_conn_callbacks raw_cbs = {.on_read = raw_read, .on_close = raw_close};

static void raw_accept(struct gh_listener *l, struct gh_conn *c, void *user)
{
    struct raw_srv *s = user;
    struct raw_conn *rc = calloc(1, sizeof *rc);
    assert_non_null(rc);
    rc->s = s;
    s->conns++;
    gh_conn_set_callbacks(c, &raw_cbs, rc);
}

static struct raw_srv raw;

static void raw_start(struct ht_fix *f, const struct script *steps, size_t n)
{
    memset(&raw, 0, sizeof raw);
    raw.steps = steps;
    raw.nsteps = n;
    char detail[GH_TLS_DETAIL_MAX];
    assert_int_equal(gh_listener_new(f->base, "127.0.0.1:0", f->stls, NULL, raw_accept, &raw,
                                     &raw.l, detail, sizeof detail),
                     GH_OK);
}

static struct gh_http_client *raw_client(struct ht_fix *f, size_t max_response)
{
    struct gh_http_client_options o = {
        .host = "127.0.0.1",
        .port = gh_listener_port(raw.l),
        .server_name = "hub.gatehouse.test",
        .tls = f->ctls,
        .max_response = max_response,
    };
    struct gh_http_client *cl = NULL;
    assert_int_equal(gh_http_client_new(f->base, &o, &cl), GH_OK);
    return cl;
}

static int raw_teardown(void **state)
{
    struct ht_fix *f = *state;
    gh_http_client_free(f->cl);
    f->cl = NULL;
    gh_listener_free(raw.l);
    raw.l = NULL;
    return ht_teardown(state);
}

#define STEPS(...)                                                                                 \
    static const struct script steps[] = {__VA_ARGS__};                                            \
    raw_start(f, steps, sizeof steps / sizeof steps[0])

static void test_body_framings(void **state)
{
    struct ht_fix *f = *state;
    STEPS({"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A:  v \r\n\r\n"
           "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n",
           ANSWER},
          {"HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nabc", ANSWER},
          {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", ANSWER},
          {"HTTP/1.0 200 OK\r\n\r\nuntil the end", ANSWER_CLOSE},
          {"HTTP/1.1 204 No Content\r\n\r\n", ANSWER});
    f->cl = raw_client(f, 0);
    struct ht_result r;
    struct gh_http_client_request rq = {.method = "GET", .target = "/1"};
    assert_int_equal(ht_call(f, f->cl, &rq, &r), GH_OK);
    assert_int_equal(r.resp.status, 200);
    assert_int_equal(r.resp.body_len, 11);
    assert_string_equal((char *)r.resp.body, "hello world");
    assert_string_equal(gh_http_response_header(&r.resp, "x-a"), "v");
    assert_int_equal(r.resp.reason.len, 2);
    assert_string_equal((const char *)r.resp.reason.ptr, "OK");
    gh_http_response_cleanup(&r.resp);
    assert_int_equal(ht_call(f, f->cl, &rq, &r), GH_OK);
    assert_int_equal(r.resp.status, 201);
    assert_string_equal((char *)r.resp.body, "abc");
    gh_http_response_cleanup(&r.resp);
    assert_int_equal(ht_call(f, f->cl, &rq, &r), GH_OK);
    assert_int_equal(r.resp.body_len, 0);
    assert_non_null(r.resp.body);
    gh_http_response_cleanup(&r.resp);
    assert_int_equal(raw.conns, 1); /* all on one kept connection */
    assert_int_equal(ht_call(f, f->cl, &rq, &r), GH_OK);
    assert_string_equal((char *)r.resp.body, "until the end");
    gh_http_response_cleanup(&r.resp);
    assert_int_equal(ht_call(f, f->cl, &rq, &r), GH_OK); /* a new connection */
    assert_int_equal(r.resp.status, 204);
    gh_http_response_cleanup(&r.resp);
    assert_int_equal(raw.conns, 2);
}

/* What the client puts on the wire. */
static void test_request_bytes(void **state)
{
    struct ht_fix *f = *state;
    STEPS({"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", ANSWER},
          {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", ANSWER});
    f->cl = raw_client(f, 0);
    struct ht_result r;
    struct gh_http_kv h[] = {{"Authorization", "SharedAccessSignature sr=a&sig=b&se=1"},
                             {"If-Match", "\"*\""}};
    struct gh_http_client_request rq = {
        .method = "POST", .target = "/twins/d1/methods?x=1", .headers = h, .n_headers = 2};
    assert_int_equal(ht_call(f, f->cl, &rq, &r), GH_OK);
    gh_http_response_cleanup(&r.resp);
    char want[256];
    snprintf(want, sizeof want,
             "POST /twins/d1/methods?x=1 HTTP/1.1\r\nHost: hub.gatehouse.test:%u\r\n"
             "User-Agent: " GH_HTTP_USER_AGENT "\r\nContent-Length: 0\r\n"
             "Authorization: SharedAccessSignature sr=a&sig=b&se=1\r\nIf-Match: \"*\"\r\n\r\n",
             (unsigned)gh_listener_port(raw.l));
    assert_string_equal(raw.last_req, want);

    struct gh_http_kv ua[] = {{"User-Agent", "azure-iothub/1.16.6"}};
    rq = (struct gh_http_client_request){.method = "PATCH",
                                         .target = "/twins/d1",
                                         .headers = ua,
                                         .n_headers = 1,
                                         .content_type = GH_HTTP_CONTENT_TYPE_JSON,
                                         .body = "{}",
                                         .body_len = 2};
    assert_int_equal(ht_call(f, f->cl, &rq, &r), GH_OK);
    gh_http_response_cleanup(&r.resp);
    snprintf(want, sizeof want,
             "PATCH /twins/d1 HTTP/1.1\r\nHost: hub.gatehouse.test:%u\r\n"
             "Content-Type: application/json; charset=utf-8\r\nContent-Length: 2\r\n"
             "User-Agent: azure-iothub/1.16.6\r\n\r\n{}",
             (unsigned)gh_listener_port(raw.l));
    assert_string_equal(raw.last_req, want);
}

static void expect_error(struct ht_fix *f, const char *resp, size_t max_response, gh_err want)
{
    struct script st[] = {{resp, ANSWER}};
    raw_start(f, st, 1);
    struct gh_http_client *cl = raw_client(f, max_response);
    struct ht_result r;
    struct gh_http_client_request rq = {.method = "GET", .target = "/"};
    gh_err rc = ht_call(f, cl, &rq, &r);
    if (rc != want) fail_msg("%s: got %s", resp, gh_err_name(rc));
    gh_http_client_free(cl);
    gh_listener_free(raw.l);
    raw.l = NULL;
}

static void test_bad_responses(void **state)
{
    struct ht_fix *f = *state;
    expect_error(f, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", 10, GH_ERR_TOO_LARGE);
    expect_error(f, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n123456\r\n5\r\n", 10,
                 GH_ERR_TOO_LARGE);
    expect_error(f, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n", 10,
                 GH_ERR_MALFORMED);
    expect_error(f, "HTTP/1.1 2000 OK\r\n\r\n", 0, GH_ERR_MALFORMED);
    expect_error(f, "HTTP/2.0 200 OK\r\n\r\n", 0, GH_ERR_BAD_PROTOCOL);
    expect_error(f, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", 0,
                 GH_ERR_UNSUPPORTED);
    expect_error(f, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 0, GH_ERR_UNSUPPORTED);
    /* body cut short by the close */
    struct script st[] = {{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", ANSWER_CLOSE}};
    raw_start(f, st, 1);
    f->cl = raw_client(f, 0);
    struct ht_result r;
    struct gh_http_client_request rq = {.method = "GET", .target = "/"};
    assert_int_equal(ht_call(f, f->cl, &rq, &r), GH_ERR_CLOSED);
}

static void test_until_close_too_large(void **state)
{
    struct ht_fix *f = *state;
    STEPS({"HTTP/1.0 200 OK\r\n\r\n0123456789A", ANSWER_CLOSE});
    f->cl = raw_client(f, 10);
    struct ht_result r;
    struct gh_http_client_request rq = {.method = "GET", .target = "/"};
    assert_int_equal(ht_call(f, f->cl, &rq, &r), GH_ERR_TOO_LARGE);
}

static void test_timeout(void **state)
{
    struct ht_fix *f = *state;
    STEPS({NULL, HOLD}, {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", ANSWER});
    f->cl = raw_client(f, 0);
    struct ht_result r;
    struct gh_http_client_request rq = {.method = "GET", .target = "/", .timeout_ms = 200};
    assert_int_equal(ht_call(f, f->cl, &rq, &r), GH_ERR_TIMEOUT);
    /* the client is usable again (on a new connection) */
    rq.timeout_ms = 0;
    assert_int_equal(ht_call(f, f->cl, &rq, &r), GH_OK);
    gh_http_response_cleanup(&r.resp);
    assert_int_equal(raw.conns, 2);
}

/* A kept connection dropped by the server before it answered: idempotent
 * requests are sent again once on a new connection; others fail. */
static void test_stale_keepalive_retry(void **state)
{
    struct ht_fix *f = *state;
    STEPS({"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na", ANSWER}, {NULL, DROP},
          {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb", ANSWER}, {NULL, DROP});
    f->cl = raw_client(f, 0);
    struct ht_result r;
    struct gh_http_client_request rq = {.method = "GET", .target = "/"};
    assert_int_equal(ht_call(f, f->cl, &rq, &r), GH_OK);
    gh_http_response_cleanup(&r.resp);
    assert_int_equal(ht_call(f, f->cl, &rq, &r), GH_OK);
    assert_string_equal((char *)r.resp.body, "b");
    gh_http_response_cleanup(&r.resp);
    assert_int_equal(raw.conns, 2);
    rq.method = "POST";
    gh_err rc = ht_call(f, f->cl, &rq, &r);
    assert_true(rc == GH_ERR_CLOSED || rc == GH_ERR_IO);
    assert_int_equal(raw.conns, 2);
}

static void test_connect_failures(void **state)
{
    struct ht_fix *f = *state;
    /* nothing listens on a port just released */
    STEPS({NULL, HOLD});
    uint16_t port = gh_listener_port(raw.l);
    gh_listener_free(raw.l);
    raw.l = NULL;
    struct gh_http_client_options o = {.host = "127.0.0.1", .port = port, .tls = f->ctls};
    struct gh_http_client *cl;
    assert_int_equal(gh_http_client_new(f->base, &o, &cl), GH_OK);
    struct ht_result r;
    struct gh_http_client_request rq = {.method = "GET", .target = "/"};
    assert_int_equal(ht_call(f, cl, &rq, &r), GH_ERR_IO);
    gh_http_client_free(cl);

    /* the certificate does not carry the name asked for */
    raw_start(f, steps, 1);
    o.port = gh_listener_port(raw.l);
    o.server_name = "dps.gatehouse.test";
    assert_int_equal(gh_http_client_new(f->base, &o, &cl), GH_OK);
    assert_int_equal(ht_call(f, cl, &rq, &r), GH_ERR_CERT_VERIFY);
    gh_http_client_free(cl);
    /* untrusted: a trust bundle without our root */
    struct gh_tls_client *rogue = nt_client_tls("rogue.pem", NULL, NULL);
    o.server_name = NULL; /* 127.0.0.1 is in the certificate */
    o.tls = rogue;
    assert_int_equal(gh_http_client_new(f->base, &o, &cl), GH_OK);
    assert_int_equal(ht_call(f, cl, &rq, &r), GH_ERR_CERT_VERIFY);
    gh_http_client_free(cl);
    gh_tls_client_free(rogue);
}

static void never(gh_err rc, struct gh_http_response *resp, void *user)
{
    fail_msg("callback after cancel");
}

static void test_client_args(void **state)
{
    struct ht_fix *f = *state;
    STEPS({NULL, HOLD});
    struct gh_http_client *cl = NULL;
    struct gh_http_client_options o = {.host = "127.0.0.1", .port = 1, .tls = f->ctls};
    assert_int_equal(gh_http_client_new(NULL, &o, &cl), GH_ERR_ARG);
    o.port = 0;
    assert_int_equal(gh_http_client_new(f->base, &o, &cl), GH_ERR_ARG);
    o.port = 1;
    o.plaintext = true;
    assert_int_equal(gh_http_client_new(f->base, &o, &cl), GH_ERR_ARG);
    o.plaintext = false;
    o.host = "";
    assert_int_equal(gh_http_client_new(f->base, &o, &cl), GH_ERR_ARG);
    o.host = "127.0.0.1";
    o.max_response = GH_HTTP_BODY_MAX_LIMIT + 1;
    assert_int_equal(gh_http_client_new(f->base, &o, &cl), GH_ERR_ARG);
    assert_null(cl);

    f->cl = raw_client(f, 0);
    struct ht_result r = {0};
    struct gh_http_kv host[] = {{"Host", "x"}};
    struct gh_http_kv crlf[] = {{"X-A", "a\r\nB: c"}};
    struct gh_http_kv name[] = {{"X A", "a"}};
    struct gh_http_kv many[GH_HTTP_CLIENT_HEADERS_MAX + 1];
    for (size_t i = 0; i < sizeof many / sizeof many[0]; i++)
        many[i] = (struct gh_http_kv){"X", "1"};
    const struct gh_http_client_request bad[] = {
        {.method = "G T", .target = "/"},
        {.method = "GET", .target = "x"},
        {.method = "GET", .target = "/a b"},
        {.method = "GET", .target = "/a#b"},
        {.method = "GET", .target = NULL},
        {.method = "GET", .target = "/", .headers = host, .n_headers = 1},
        {.method = "GET", .target = "/", .headers = crlf, .n_headers = 1},
        {.method = "GET", .target = "/", .headers = name, .n_headers = 1},
        {.method = "GET",
         .target = "/",
         .headers = many,
         .n_headers = GH_HTTP_CLIENT_HEADERS_MAX + 1},
        {.method = "PUT", .target = "/", .body = NULL, .body_len = 3},
        {.method = "PUT", .target = "/", .content_type = "a\nb"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (gh_http_client_request(f->cl, &bad[i], ht_done, &r) != GH_ERR_ARG)
            fail_msg("bad request %zu accepted", i);
    struct gh_http_client_request ok = {.method = "GET", .target = "/"};
    assert_int_equal(gh_http_client_request(f->cl, &ok, NULL, &r), GH_ERR_ARG);
    assert_int_equal(gh_http_client_request(f->cl, &ok, never, &r), GH_OK);
    assert_int_equal(gh_http_client_request(f->cl, &ok, ht_done, &r), GH_ERR_TOO_MANY);
    gh_http_client_cancel(f->cl);
    gh_http_client_cancel(f->cl); /* idle: no-op */
    for (int i = 0; i < 20; i++) event_base_loop(f->base, EVLOOP_NONBLOCK);
}

/* ---- blocking fetch against the real server in another thread ---------- */

struct srv_thread {
    struct event_base *base;
    struct gh_http_server *srv;
    int requests;
    bool stop_when_idle;
};

static void thread_handler(struct gh_http_request *req, void *user)
{
    struct srv_thread *t = user;
    t->requests++;
    const char *seg = gh_http_request_segment(req, 1);
    char json[128];
    snprintf(json, sizeof json, "{\"deviceId\":\"%s\"}", seg ? seg : "");
    if (gh_http_respond_json(req, 200, json) != GH_OK) t->requests = -1000;
}

static bool thread_done(void *arg)
{
    struct srv_thread *t = arg;
    return t->requests >= 1 && gh_http_server_connections(t->srv) == 0;
}

static void *serve(void *arg)
{
    struct srv_thread *t = arg;
    gh_test_run_until(t->base, thread_done, t, NT_WAIT_MS);
    return NULL;
}

static void test_fetch(void **state)
{
    struct ht_fix *f = *state;
    struct srv_thread t = {.base = event_base_new()};
    assert_non_null(t.base);
    char detail[GH_TLS_DETAIL_MAX];
    assert_int_equal(gh_http_server_new(t.base, "127.0.0.1:0", f->stls, NULL, thread_handler, &t,
                                        &t.srv, detail, sizeof detail),
                     GH_OK);
    uint16_t port = gh_http_server_port(t.srv);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, serve, &t), 0);
    struct gh_http_client_options o = {
        .host = "127.0.0.1", .port = port, .server_name = "hub.gatehouse.test", .tls = f->ctls};
    struct gh_http_client_request rq = {.method = "GET",
                                        .target = "/devices/dev%2B1?api-version=2021-04-12",
                                        .timeout_ms = NT_WAIT_MS};
    struct gh_http_response resp = {0};
    gh_err rc = gh_http_fetch(&o, &rq, &resp);
    pthread_join(th, NULL);
    gh_http_server_free(t.srv);
    for (int i = 0; i < 50; i++) event_base_loop(t.base, EVLOOP_NONBLOCK);
    event_base_free(t.base);
    assert_int_equal(rc, GH_OK);
    assert_int_equal(t.requests, 1);
    assert_int_equal(resp.status, 200);
    assert_string_equal((char *)resp.body, "{\"deviceId\":\"dev+1\"}");
    gh_http_response_cleanup(&resp);

    /* errors come back synchronously, resp untouched */
    struct gh_http_response keep = {.status = 7};
    rq.method = "BAD METHOD";
    assert_int_equal(gh_http_fetch(&o, &rq, &keep), GH_ERR_ARG);
    assert_int_equal(keep.status, 7);
    rq.method = "GET";
    o.port = 0;
    assert_int_equal(gh_http_fetch(&o, &rq, &keep), GH_ERR_ARG);
    /* refused connection */
    o.port = port; /* the server is gone */
    assert_int_equal(gh_http_fetch(&o, &rq, &keep), GH_ERR_IO);
    assert_int_equal(keep.status, 7);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, ht_setup, raw_teardown)
    const struct CMUnitTest tests[] = {
        T(test_body_framings),         T(test_request_bytes), T(test_bad_responses),
        T(test_until_close_too_large), T(test_timeout),       T(test_stale_keepalive_retry),
        T(test_connect_failures),      T(test_client_args),   T(test_fetch),
    };
    return cmocka_run_group_tests(tests, ht_group_setup, ht_group_teardown);
}
