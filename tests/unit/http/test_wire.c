/* The server against exact bytes from a raw TLS client: refusals with their
 * status, slow-header and body timeouts, idle keep-alive, pipelining order,
 * Expect: 100-continue, HTTP/1.0. */
#include "httptest.h"

static void echo_path_handler(struct gh_http_request *req, void *user)
{
    struct ht_fix *f = user;
    f->requests++;
    struct gh_slice p = gh_http_request_path(req);
    struct gh_slice b = gh_http_request_body(req);
    char text[256];
    snprintf(text, sizeof text, "<%.*s|%.*s>", (int)p.len, (const char *)p.ptr, (int)b.len,
             (const char *)b.ptr);
    assert_int_equal(gh_http_respond(req, 200, "text/plain", text, strlen(text), NULL, 0), GH_OK);
}

struct refusal {
    const char *req;
    const char *status_line;
};

/* Each refusal: the exact status, a JSON body, Connection: close, closed. */
static void test_refusals(void **state)
{
    struct ht_fix *f = *state;
    struct gh_http_server_options o = {.limits = {.max_head = 256, .max_body = 100}};
    ht_server(f, &o, echo_path_handler);
    static const struct refusal v[] = {
        {"GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"},
        {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", "HTTP/1.1 505 HTTP Version Not Supported\r\n"},
        {"PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
         "HTTP/1.1 411 Length Required\r\n"},
        {"PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: br\r\n\r\n",
         "HTTP/1.1 501 Not Implemented\r\n"},
        {"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n",
         "HTTP/1.1 413 Content Too Large\r\n"},
        {"PUT / HTTP/1.1\r\nHost: a\r\nExpect: nothing\r\n\r\n",
         "HTTP/1.1 417 Expectation Failed\r\n"},
        {"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n folded\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"},
        {"GET /a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q HTTP/1.1\r\nHost: a\r\n\r\n",
         "HTTP/1.1 400 Bad Request\r\n"},
        {"GET /%00 HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"},
        {"GET / HTTP/1.1\r\nHost: a\r\nX-Pad: "
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "\r\n\r\n",
         "HTTP/1.1 431 Request Header Fields Too Large\r\n"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct nt_client k;
        ht_raw(f, &k, v[i].req);
        if (!ht_raw_wait(f, &k, "}") || strncmp(k.got, v[i].status_line, strlen(v[i].status_line)))
            fail_msg("vector %zu got:\n%s", i, k.got);
        assert_non_null(strstr(k.got, "\r\nConnection: close\r\n"));
        assert_non_null(strstr(k.got, "\r\nContent-Type: application/json; charset=utf-8\r\n"));
        assert_non_null(strstr(k.got, "\r\n\r\n{\"Message\":\"ErrorCode:"));
        assert_true(ht_raw_closed(f, &k));
    }
    assert_int_equal(f->requests, 0);
}

/* A head that trickles in slower than head_timeout_ms: 408, closed. A
 * connection that sends nothing: closed without an answer. */
static void test_slow_header_timeout(void **state)
{
    struct ht_fix *f = *state;
    struct gh_http_server_options o = {.head_timeout_ms = 200};
    ht_server(f, &o, echo_path_handler);
    struct nt_client k;
    ht_raw(f, &k, "GET /slow HTTP/1.1\r\nHost: a\r\n");
    assert_true(ht_raw_closed(f, &k));
    assert_int_equal(strncmp(k.got, "HTTP/1.1 408 Request Timeout\r\n", 30), 0);
    assert_non_null(strstr(k.got, "Connection: close"));

    struct nt_client idle;
    ht_raw(f, &idle, NULL);
    assert_true(ht_raw_closed(f, &idle));
    assert_int_equal(idle.got_len, 0);
    assert_int_equal(f->requests, 0);
}

static void test_body_timeout(void **state)
{
    struct ht_fix *f = *state;
    struct gh_http_server_options o = {.body_timeout_ms = 200};
    ht_server(f, &o, echo_path_handler);
    struct nt_client k;
    ht_raw(f, &k, "PUT /b HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12345");
    assert_true(ht_raw_closed(f, &k));
    assert_int_equal(strncmp(k.got, "HTTP/1.1 408 Request Timeout\r\n", 30), 0);
    assert_int_equal(f->requests, 0);
}

/* Kept-alive connections are closed after idle_timeout_ms without traffic. */
static void test_idle_timeout(void **state)
{
    struct ht_fix *f = *state;
    struct gh_http_server_options o = {.idle_timeout_ms = 200};
    ht_server(f, &o, echo_path_handler);
    struct nt_client k;
    ht_raw(f, &k, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_true(ht_raw_wait(f, &k, "</1|>"));
    assert_true(ht_raw_closed(f, &k));
    assert_int_equal(ht_count(k.got, "HTTP/1.1"), 1);
    assert_null(strstr(k.got, "Connection: close"));
}

/* Pipelined requests are answered in order, one at a time, even when the
 * first is answered later than the second arrives. */
static struct event *later;

static void answer_held(evutil_socket_t fd, short what, void *arg)
{
    struct ht_fix *f = arg;
    assert_int_equal(gh_http_respond(f->held, 200, "text/plain", "first", 5, NULL, 0), GH_OK);
    f->held = NULL;
}

static void slow_first_handler(struct gh_http_request *req, void *user)
{
    struct ht_fix *f = user;
    f->requests++;
    if (f->requests == 1) {
        f->held = req;
        struct timeval tv = {0, 100 * 1000};
        evtimer_add(later, &tv);
        return;
    }
    echo_path_handler(req, user);
    f->requests--;
}

static void test_pipelining(void **state)
{
    struct ht_fix *f = *state;
    later = evtimer_new(f->base, answer_held, f);
    ht_server(f, NULL, slow_first_handler);
    struct nt_client k;
    ht_raw(f, &k,
           "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
           "PUT /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
           "GET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    assert_true(ht_raw_closed(f, &k));
    const char *a = strstr(k.got, "\r\n\r\nfirst");
    const char *b = strstr(k.got, "</2|abc>");
    const char *c = strstr(k.got, "</3|>");
    if (!a || !b || !c || !(a < b && b < c)) fail_msg("got:\n%s", k.got);
    assert_int_equal(ht_count(k.got, "HTTP/1.1 200 OK\r\n"), 3);
    assert_int_equal(ht_count(k.got, "Connection: close"), 1);
    event_free(later);
}

/* Expect: 100-continue gets "100 Continue" before the body is sent. */
static void test_expect_continue(void **state)
{
    struct ht_fix *f = *state;
    ht_server(f, NULL, echo_path_handler);
    struct nt_client k;
    ht_raw(f, &k,
           "PUT /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    assert_true(ht_raw_wait(f, &k, "HTTP/1.1 100 Continue\r\n\r\n"));
    assert_int_equal(strcmp(k.got, "HTTP/1.1 100 Continue\r\n\r\n"), 0);
    assert_int_equal(gh_conn_write(k.c, "hello", 5), GH_OK);
    assert_true(ht_raw_wait(f, &k, "</e|hello>"));
    assert_int_equal(f->requests, 1);
    /* With the body already there, no 100 is sent. */
    struct nt_client k2;
    ht_raw(f, &k2,
           "PUT /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi");
    assert_true(ht_raw_wait(f, &k2, "</e|hi>"));
    assert_null(strstr(k2.got, "100 Continue"));
    gh_conn_abort(k.c);
    gh_conn_abort(k2.c);
    assert_true(ht_raw_closed(f, &k) && ht_raw_closed(f, &k2));
}

/* HTTP/1.0: closed after the answer, unless keep-alive was asked for. */
static void test_http10(void **state)
{
    struct ht_fix *f = *state;
    ht_server(f, NULL, echo_path_handler);
    struct nt_client k;
    ht_raw(f, &k, "GET /old HTTP/1.0\r\n\r\n");
    assert_true(ht_raw_closed(f, &k));
    assert_int_equal(strncmp(k.got, "HTTP/1.1 200 OK\r\n", 17), 0);
    assert_non_null(strstr(k.got, "Connection: close\r\n"));
    assert_non_null(strstr(k.got, "</old|>"));

    struct nt_client k2;
    ht_raw(f, &k2, "GET /ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_true(ht_raw_wait(f, &k2, "</ka|>"));
    assert_non_null(strstr(k2.got, "Connection: keep-alive\r\n"));
    assert_int_equal(gh_conn_write(k2.c, "GET /ka2 HTTP/1.0\r\n\r\n", 21), GH_OK);
    assert_true(ht_raw_closed(f, &k2));
    assert_non_null(strstr(k2.got, "</ka2|>"));
}

/* Answers carry Date in IMF-fixdate form and the exact Content-Length. */
static void test_response_head(void **state)
{
    struct ht_fix *f = *state;
    ht_server(f, NULL, echo_path_handler);
    struct nt_client k;
    ht_raw(f, &k, "GET /h HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    assert_true(ht_raw_closed(f, &k));
    const char *d = strstr(k.got, "\r\nDate: ");
    assert_non_null(d);
    d += 8;
    /* "Www, DD Mmm YYYY hh:mm:ss GMT" */
    assert_int_equal(strcspn(d, "\r"), 29);
    assert_int_equal(d[3], ',');
    assert_int_equal(memcmp(d + 25, " GMT", 4), 0);
    assert_non_null(strstr(k.got, "\r\nContent-Length: 5\r\n"));
    assert_non_null(strstr(k.got, "\r\n\r\n</h|>"));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, ht_setup, ht_teardown)
    const struct CMUnitTest tests[] = {
        T(test_refusals),     T(test_slow_header_timeout), T(test_body_timeout),
        T(test_idle_timeout), T(test_pipelining),          T(test_expect_continue),
        T(test_http10),       T(test_response_head),
    };
    return cmocka_run_group_tests(tests, ht_group_setup, ht_group_teardown);
}
