/* Server and client together over real TLS on 127.0.0.1: keep-alive, decoded
 * paths and queries, peer identity, asynchronous answers, cancellation when
 * the client goes away, large bodies in both directions, response rules. */
#include "httptest.h"

/* Answer with a text summary of what the handler saw. */
static void echo_handler(struct gh_http_request *req, void *user)
{
    struct ht_fix *f = user;
    f->requests++;
    char text[2048], segs[512] = "", cn[128] = "-";
    for (size_t i = 0; i < gh_http_request_segment_count(req); i++) {
        strncat(segs, "[", sizeof segs - strlen(segs) - 1);
        strncat(segs, gh_http_request_segment(req, i), sizeof segs - strlen(segs) - 1);
        strncat(segs, "]", sizeof segs - strlen(segs) - 1);
    }
    assert_null(gh_http_request_segment(req, gh_http_request_segment_count(req)));
    struct gh_conn *c = gh_http_request_conn(req);
    assert_non_null(c);
    if (gh_conn_peer_cert_status(c, NULL) == GH_CONN_CERT_TRUSTED)
        assert_int_equal(gh_conn_peer_cn(c, cn, sizeof cn), GH_OK);
    struct gh_slice body = gh_http_request_body(req);
    assert_non_null(body.ptr);
    assert_int_equal(body.ptr[body.len], 0);
    const char *q = gh_http_request_query(req, "api-version");
    const char *x = gh_http_request_header(req, "x-test");
    const char *sni = gh_http_request_sni(req);
    snprintf(text, sizeof text, "%s %s q=%s x=%s sni=%s cn=%s peer=%s body=%s",
             gh_http_request_method(req), segs, q ? q : "-", x ? x : "-", sni ? sni : "-", cn,
             gh_http_request_peer_addr(req), (const char *)body.ptr);
    struct gh_http_kv extra[] = {{"X-Seq", f->requests == 1 ? "1" : "n"}};
    assert_int_equal(gh_http_respond(req, 200, "text/plain", text, strlen(text), extra, 1), GH_OK);
}

static const char *body_of(const struct ht_result *r)
{
    return (const char *)r->resp.body;
}

/* Extract "peer=..." from an echo body. */
static void peer_of(const struct ht_result *r, char *out, size_t cap)
{
    const char *p = strstr(body_of(r), "peer=");
    assert_non_null(p);
    size_t n = strcspn(p, " ");
    snprintf(out, cap, "%.*s", (int)n, p);
}

static void test_keepalive_roundtrip(void **state)
{
    struct ht_fix *f = *state;
    ht_server(f, NULL, echo_handler);
    f->cl = ht_client(f, NULL);
    struct ht_result r1, r2;
    struct gh_http_kv h[] = {{"X-Test", "one two"}, {"Request-Id", "abc"}};
    struct gh_http_client_request rq = {
        .method = "GET",
        .target = "/devices/?api-version=2021-04-12",
        .headers = h,
        .n_headers = 2,
    };
    assert_int_equal(ht_call(f, f->cl, &rq, &r1), GH_OK);
    assert_int_equal(r1.resp.status, 200);
    assert_string_equal(gh_http_response_header(&r1.resp, "x-seq"), "1");
    assert_string_equal(gh_http_response_header(&r1.resp, "Content-Type"), "text/plain");
    assert_non_null(gh_http_response_header(&r1.resp, "date"));
    assert_true(strstr(body_of(&r1), "GET [devices][] q=2021-04-12 x=one two "
                                     "sni=hub.gatehouse.test cn=- peer=127.0.0.1:") != NULL);

    /* Second request on the same connection: encoded segments, body. */
    static const char json[] = "{\"deviceId\":\"th#01+x\"}";
    rq = (struct gh_http_client_request){
        .method = "PUT",
        .target = "/devices/th%2301%2Bx/a+b?API-VERSION=v%201&x=%00",
        .content_type = GH_HTTP_CONTENT_TYPE_JSON,
        .body = json,
        .body_len = sizeof json - 1,
    };
    /* %00 in a query value: refused with 400 before the handler */
    assert_int_equal(ht_call(f, f->cl, &rq, &r2), GH_OK);
    assert_int_equal(r2.resp.status, 400);
    assert_string_equal(gh_http_response_header(&r2.resp, "connection"), "close");
    assert_true(strstr(body_of(&r2), "\"Message\":\"ErrorCode:BadRequest;") != NULL);
    gh_http_response_cleanup(&r2.resp);
    assert_int_equal(f->requests, 1);

    rq.target = "/devices/th%2301%2Bx/a+b?API-VERSION=v%201";
    assert_int_equal(ht_call(f, f->cl, &rq, &r2), GH_OK);
    assert_int_equal(r2.resp.status, 200);
    assert_true(strstr(body_of(&r2), "PUT [devices][th#01+x][a+b] q=v 1 x=-") != NULL);
    assert_true(strstr(body_of(&r2), "body={\"deviceId\":\"th#01+x\"}") != NULL);

    /* A third on the same connection as the second (the 400 closed the
     * first connection). */
    struct ht_result r3;
    rq.method = "DELETE";
    rq.body = NULL;
    rq.body_len = 0;
    rq.content_type = NULL;
    assert_int_equal(ht_call(f, f->cl, &rq, &r3), GH_OK);
    char p2[64], p3[64];
    peer_of(&r2, p2, sizeof p2);
    peer_of(&r3, p3, sizeof p3);
    assert_string_equal(p2, p3);
    assert_int_equal(gh_http_server_connections(f->srv), 1);
    assert_int_equal(f->requests, 3);
    gh_http_response_cleanup(&r1.resp);
    gh_http_response_cleanup(&r2.resp);
    gh_http_response_cleanup(&r3.resp);
}

/* The handler sees the client certificate (mutual TLS). */
static void test_client_certificate(void **state)
{
    struct ht_fix *f = *state;
    ht_server(f, NULL, echo_handler);
    struct gh_tls_client *dev = nt_client_tls("ca.pem", "dev.pem", "dev.key");
    f->cl = ht_client(f, dev);
    struct ht_result r;
    struct gh_http_client_request rq = {.method = "GET", .target = "/x"};
    assert_int_equal(ht_call(f, f->cl, &rq, &r), GH_OK);
    assert_true(strstr(body_of(&r), "cn=device-1") != NULL);
    gh_http_response_cleanup(&r.resp);
    gh_http_client_free(f->cl);
    f->cl = NULL;
    gh_tls_client_free(dev);
}

/* ---- asynchronous answers ---------------------------------------------- */

static void answer_later(evutil_socket_t fd, short what, void *arg)
{
    struct ht_fix *f = arg;
    struct gh_http_kv extra[] = {{"Retry-After", "3"}};
    static const char doc[] = "{\"operationId\":\"4.0a1b\",\"status\":\"assigning\"}";
    assert_int_equal(
        gh_http_respond(f->held, 202, GH_HTTP_CONTENT_TYPE_JSON, doc, sizeof doc - 1, extra, 1),
        GH_OK);
    f->held = NULL;
}

static void on_cancel_count(struct gh_http_request *req, void *arg)
{
    struct ht_fix *f = arg;
    f->cancels++;
    assert_true(gh_http_request_cancelled(req));
    assert_null(gh_http_request_conn(req));
    /* still valid: data copied at arrival */
    assert_string_equal(gh_http_request_method(req), "POST");
    assert_non_null(gh_http_request_peer_addr(req));
}

static struct event *later_ev;

static void async_handler(struct gh_http_request *req, void *user)
{
    struct ht_fix *f = user;
    f->requests++;
    f->held = req;
    gh_http_request_set_cancel(req, on_cancel_count, f);
    struct timeval tv = {0, 50 * 1000};
    evtimer_add(later_ev, &tv);
}

static void test_async_response(void **state)
{
    struct ht_fix *f = *state;
    later_ev = evtimer_new(f->base, answer_later, f);
    ht_server(f, NULL, async_handler);
    f->cl = ht_client(f, NULL);
    struct ht_result r;
    struct gh_http_client_request rq = {
        .method = "POST",
        .target = "/0ne00ABC123/registrations/my-edge/register?api-version=2021-06-01",
        .content_type = GH_HTTP_CONTENT_TYPE_JSON,
        .body = "{\"registrationId\":\"my-edge\"}",
        .body_len = 28,
    };
    assert_int_equal(ht_call(f, f->cl, &rq, &r), GH_OK);
    assert_int_equal(r.resp.status, 202);
    assert_string_equal(gh_http_response_header(&r.resp, "retry-after"), "3");
    assert_string_equal(gh_http_response_header(&r.resp, "content-type"),
                        "application/json; charset=utf-8");
    assert_string_equal(gh_http_response_header(&r.resp, "content-length"), "45");
    assert_string_equal(body_of(&r), "{\"operationId\":\"4.0a1b\",\"status\":\"assigning\"}");
    assert_int_equal(f->cancels, 0);
    gh_http_response_cleanup(&r.resp);
    event_free(later_ev);
}

static void hold_handler(struct gh_http_request *req, void *user)
{
    struct ht_fix *f = user;
    f->requests++;
    f->held = req;
    gh_http_request_set_cancel(req, on_cancel_count, f);
}

static bool cancelled_once(void *arg)
{
    return ((struct ht_fix *)arg)->cancels == 1;
}

static bool got_request(void *arg)
{
    return ((struct ht_fix *)arg)->requests >= 1;
}

/* The client goes away while the handler holds the request: the cancel
 * callback runs; the request stays valid until the handler ends it, and
 * respond then says GH_ERR_CLOSED. */
static void test_cancel_on_disconnect(void **state)
{
    struct ht_fix *f = *state;
    ht_server(f, NULL, hold_handler);
    f->cl = ht_client(f, NULL);
    struct ht_result r = {0};
    struct gh_http_client_request rq = {.method = "POST", .target = "/twins/d1/methods"};
    assert_int_equal(gh_http_client_request(f->cl, &rq, ht_done, &r), GH_OK);
    assert_true(gh_test_run_until(f->base, got_request, f, NT_WAIT_MS));
    assert_false(gh_http_request_cancelled(f->held));
    gh_http_client_cancel(f->cl); /* drops the connection */
    assert_true(gh_test_run_until(f->base, cancelled_once, f, NT_WAIT_MS));
    assert_false(r.done); /* cancelled requests do not call back */
    assert_int_equal(gh_http_respond_json(f->held, 200, "{}"), GH_ERR_CLOSED);
    f->held = NULL;
    assert_true(gh_test_run_until(f->base, ht_no_conns, f, NT_WAIT_MS));
}

/* Server freed while a handler holds a request: cancel from the loop. */
static void test_cancel_on_server_free(void **state)
{
    struct ht_fix *f = *state;
    ht_server(f, NULL, hold_handler);
    f->cl = ht_client(f, NULL);
    struct ht_result r = {0};
    struct gh_http_client_request rq = {.method = "POST", .target = "/twins/d1/methods"};
    assert_int_equal(gh_http_client_request(f->cl, &rq, ht_done, &r), GH_OK);
    assert_true(gh_test_run_until(f->base, got_request, f, NT_WAIT_MS));
    gh_http_server_free(f->srv);
    f->srv = NULL;
    assert_int_equal(f->cancels, 0); /* never inside the call */
    assert_true(gh_test_run_until(f->base, cancelled_once, f, NT_WAIT_MS));
    gh_http_request_release(f->held);
    f->held = NULL;
    assert_true(gh_test_run_until(f->base, ht_is_done, &r, NT_WAIT_MS));
    assert_int_equal(r.rc, GH_ERR_CLOSED);
}

/* Release without answering closes the connection. */
static void test_release_closes(void **state)
{
    struct ht_fix *f = *state;
    ht_server(f, NULL, hold_handler);
    f->cl = ht_client(f, NULL);
    struct ht_result r = {0};
    struct gh_http_client_request rq = {.method = "GET", .target = "/a"};
    assert_int_equal(gh_http_client_request(f->cl, &rq, ht_done, &r), GH_OK);
    assert_true(gh_test_run_until(f->base, got_request, f, NT_WAIT_MS));
    gh_http_request_release(f->held);
    f->held = NULL;
    assert_true(gh_test_run_until(f->base, ht_is_done, &r, NT_WAIT_MS));
    assert_int_equal(r.rc, GH_ERR_CLOSED);
    assert_int_equal(f->cancels, 0);
}

/* ---- large bodies: streamed in, streamed out --------------------------- */

static void big_echo_handler(struct gh_http_request *req, void *user)
{
    struct ht_fix *f = user;
    f->requests++;
    struct gh_slice b = gh_http_request_body(req);
    assert_int_equal(gh_http_respond(req, 200, "application/octet-stream", b.ptr, b.len, NULL, 0),
                     GH_OK);
}

static void test_large_bodies(void **state)
{
    struct ht_fix *f = *state;
    ht_server(f, NULL, big_echo_handler);
    f->cl = ht_client(f, NULL);
    size_t n = 600 * 1024; /* above the connections' in_max and out_high */
    uint8_t *big = malloc(n);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++) big[i] = (uint8_t)(i * 7 + i / 251);
    struct ht_result r;
    struct gh_http_client_request rq = {
        .method = "PUT", .target = "/blob", .body = big, .body_len = n};
    assert_int_equal(ht_call(f, f->cl, &rq, &r), GH_OK);
    assert_int_equal(r.resp.status, 200);
    assert_int_equal(r.resp.body_len, n);
    assert_memory_equal(r.resp.body, big, n);
    gh_http_response_cleanup(&r.resp);

    /* Above the 1 MiB default body limit: 413 before the body is read. */
    uint8_t *huge = calloc(1, GH_HTTP_BODY_MAX_DEFAULT + 1);
    assert_non_null(huge);
    rq.body = huge;
    rq.body_len = GH_HTTP_BODY_MAX_DEFAULT + 1;
    gh_err rc = ht_call(f, f->cl, &rq, &r);
    /* the server answers 413 and closes; the client may still be sending */
    if (rc == GH_OK) {
        assert_int_equal(r.resp.status, 413);
        gh_http_response_cleanup(&r.resp);
    } else {
        assert_true(rc == GH_ERR_CLOSED || rc == GH_ERR_IO);
    }
    assert_int_equal(f->requests, 1);
    free(huge);
    free(big);
}

/* ---- response rules ---------------------------------------------------- */

static int respond_case;
static gh_err respond_rc;

static void rules_handler(struct gh_http_request *req, void *user)
{
    struct ht_fix *f = user;
    f->requests++;
    struct gh_http_kv reserved[] = {{"Content-Length", "5"}};
    struct gh_http_kv bad_name[] = {{"Bad Name", "x"}};
    struct gh_http_kv bad_value[] = {{"X-A", "a\r\nInjected: 1"}};
    switch (respond_case) {
    case 0:
        respond_rc = gh_http_respond(req, 204, NULL, NULL, 0, NULL, 0);
        break;
    case 1:
        respond_rc = gh_http_respond(req, 199, NULL, NULL, 0, NULL, 0);
        break;
    case 2:
        respond_rc = gh_http_respond(req, 204, "text/plain", "x", 1, NULL, 0);
        break;
    case 3:
        respond_rc = gh_http_respond(req, 200, NULL, NULL, 0, reserved, 1);
        break;
    case 4:
        respond_rc = gh_http_respond(req, 200, NULL, NULL, 0, bad_name, 1);
        break;
    case 5:
        respond_rc = gh_http_respond(req, 200, NULL, NULL, 0, bad_value, 1);
        break;
    case 6:
        respond_rc = gh_http_respond(req, 200, "text/plain\r\nX: y", NULL, 0, NULL, 0);
        break;
    case 7:
        respond_rc = gh_http_respond(req, 200, NULL, NULL, 3, NULL, 0);
        break;
    case 8:
        respond_rc = gh_http_respond_json(req, 404, "{\"Message\":\"ErrorCode:DeviceNotFound;x\"}");
        break;
    default:
        respond_rc = gh_http_respond(req, 200, NULL, "hello", 5, NULL, 0);
        break;
    }
}

static void test_response_rules(void **state)
{
    struct ht_fix *f = *state;
    ht_server(f, NULL, rules_handler);
    f->cl = ht_client(f, NULL);
    struct ht_result r;
    struct gh_http_client_request rq = {.method = "GET", .target = "/r"};

    respond_case = 0; /* 204: no Content-Length, no body */
    assert_int_equal(ht_call(f, f->cl, &rq, &r), GH_OK);
    assert_int_equal(respond_rc, GH_OK);
    assert_int_equal(r.resp.status, 204);
    assert_null(gh_http_response_header(&r.resp, "content-length"));
    assert_int_equal(r.resp.body_len, 0);
    gh_http_response_cleanup(&r.resp);

    /* invalid answers: GH_ERR_ARG to the handler, 500 to the client */
    for (int c = 1; c <= 7; c++) {
        respond_case = c;
        assert_int_equal(ht_call(f, f->cl, &rq, &r), GH_OK);
        if (respond_rc != GH_ERR_ARG) fail_msg("case %d: %s", c, gh_err_name(respond_rc));
        assert_int_equal(r.resp.status, 500);
        assert_null(gh_http_response_header(&r.resp, "injected"));
        gh_http_response_cleanup(&r.resp);
    }

    respond_case = 8;
    assert_int_equal(ht_call(f, f->cl, &rq, &r), GH_OK);
    assert_int_equal(respond_rc, GH_OK);
    assert_int_equal(r.resp.status, 404);
    assert_string_equal(gh_http_response_header(&r.resp, "content-type"),
                        GH_HTTP_CONTENT_TYPE_JSON);
    assert_string_equal(body_of(&r), "{\"Message\":\"ErrorCode:DeviceNotFound;x\"}");
    gh_http_response_cleanup(&r.resp);

    /* HEAD: Content-Length of the body, no body bytes. */
    respond_case = 9;
    rq.method = "HEAD";
    assert_int_equal(ht_call(f, f->cl, &rq, &r), GH_OK);
    assert_int_equal(r.resp.status, 200);
    assert_string_equal(gh_http_response_header(&r.resp, "content-length"), "5");
    assert_int_equal(r.resp.body_len, 0);
    gh_http_response_cleanup(&r.resp);
    rq.method = "GET";
    assert_int_equal(ht_call(f, f->cl, &rq, &r), GH_OK);
    assert_string_equal(body_of(&r), "hello");
    gh_http_response_cleanup(&r.resp);
}

/* Plain TCP when explicitly configured; the listener's max_conns applies. */
static void test_plaintext(void **state)
{
    struct ht_fix *f = *state;
    struct gh_http_server_options o = {.listener = {.plaintext = true, .max_conns = 4}};
    ht_server(f, &o, echo_handler);
    struct gh_http_client_options co = {
        .host = "127.0.0.1",
        .port = gh_http_server_port(f->srv),
        .plaintext = true,
    };
    assert_int_equal(gh_http_client_new(f->base, &co, &f->cl), GH_OK);
    struct ht_result r;
    struct gh_http_client_request rq = {.method = "GET", .target = "/p%20q"};
    assert_int_equal(ht_call(f, f->cl, &rq, &r), GH_OK);
    assert_true(strstr(body_of(&r), "GET [p q] q=- x=- sni=- cn=-") != NULL);
    gh_http_response_cleanup(&r.resp);
}

static void test_server_args(void **state)
{
    struct ht_fix *f = *state;
    struct gh_http_server *s = NULL;
    assert_int_equal(
        gh_http_server_new(f->base, "127.0.0.1:0", f->stls, NULL, NULL, f, &s, NULL, 0),
        GH_ERR_ARG);
    struct gh_http_server_options o = {.limits = {.max_headers = GH_HTTP_HEADERS_MAX + 1}};
    assert_int_equal(
        gh_http_server_new(f->base, "127.0.0.1:0", f->stls, &o, echo_handler, f, &s, NULL, 0),
        GH_ERR_ARG);
    o = (struct gh_http_server_options){0}; /* TLS NULL without plaintext */
    assert_int_equal(
        gh_http_server_new(f->base, "127.0.0.1:0", NULL, &o, echo_handler, f, &s, NULL, 0),
        GH_ERR_ARG);
    assert_null(s);
    gh_http_server_free(NULL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, ht_setup, ht_teardown)
    const struct CMUnitTest tests[] = {
        T(test_keepalive_roundtrip),  T(test_client_certificate),    T(test_async_response),
        T(test_cancel_on_disconnect), T(test_cancel_on_server_free), T(test_release_closes),
        T(test_large_bodies),         T(test_response_rules),        T(test_plaintext),
        T(test_server_args),
    };
    return cmocka_run_group_tests(tests, ht_group_setup, ht_group_teardown);
}
