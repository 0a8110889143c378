/* Request and response head parsing: valid vectors whole, one byte at a
 * time and cut at every position; every refusal with its exact error and
 * HTTP status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/parse.h"

#define S(lit) ((const uint8_t *)(lit)), (sizeof(lit) - 1)

static struct gh_http_request_head rq; /* large: keep off the stack */
static struct gh_http_response_head rs;

static bool slice_is(struct gh_slice s, const char *want)
{
    return s.len == strlen(want) && (s.len == 0 || memcmp(s.ptr, want, s.len) == 0);
}

static const char *hdr(const struct gh_http_fields *f, const char *name, char *buf, size_t cap)
{
    struct gh_slice v;
    if (!gh_http_fields_get(f, name, &v)) return NULL;
    snprintf(buf, cap, "%.*s", (int)v.len, (const char *)v.ptr);
    return buf;
}

/* Whole; then the same parser fed growing prefixes; then fresh parsers on
 * every proper prefix. All must agree. */
static void parse_all_ways(const uint8_t *in, size_t len, const struct gh_http_limits *lim)
{
    struct gh_http_parser p;
    enum gh_http_parse_status st;
    assert_int_equal(gh_http_parser_init(&p, lim), GH_OK);
    assert_int_equal(gh_http_parse_request(&p, in, len, &st, &rq), GH_OK);
    assert_int_equal(st, GH_HTTP_COMPLETE);
    size_t head_len = rq.head_len;
    assert_true(head_len <= len);

    static struct gh_http_request_head inc;
    assert_int_equal(gh_http_parser_init(&p, lim), GH_OK);
    for (size_t n = 0; n <= head_len; n++) {
        assert_int_equal(gh_http_parse_request(&p, in, n, &st, &inc), GH_OK);
        assert_int_equal(st, n == head_len ? GH_HTTP_COMPLETE : GH_HTTP_NEED_MORE);
    }
    assert_int_equal(inc.head_len, head_len);
    assert_int_equal(inc.fields.count, rq.fields.count);
    assert_true(gh_slice_eq(inc.target, rq.target));

    for (size_t cut = 0; cut < head_len; cut++) {
        uint8_t *copy = malloc(cut + 1); /* exact-size buffer: ASan sees overreads */
        memcpy(copy, in, cut);
        assert_int_equal(gh_http_parser_init(&p, lim), GH_OK);
        assert_int_equal(gh_http_parse_request(&p, copy, cut, &st, &inc), GH_OK);
        assert_int_equal(st, GH_HTTP_NEED_MORE);
        free(copy);
    }
}

static void test_node_service_request(void **state)
{
    static const char req[] =
        "PUT /devices/th%2301?api-version=2021-04-12 HTTP/1.1\r\n"
        "Host: hub.gatehouse.test\r\n"
        "Authorization: SharedAccessSignature sr=hub.gatehouse.test&sig=abc%3D&se=1&skn=o\r\n"
        "Request-Id: 6d1c2a4e-0000-4000-8000-000000000001\r\n"
        "User-Agent: azure-iothub/1.16.6\r\n"
        "Content-Type: application/json; charset=utf-8\r\n"
        "Content-Length: 16\r\n"
        "If-Match: \"*\"\r\n"
        "\r\n"
        "{\"deviceId\":\"x\"}";
    parse_all_ways(S(req), NULL);
    char b[128];
    assert_true(slice_is(rq.method, "PUT"));
    assert_true(slice_is(rq.target, "/devices/th%2301?api-version=2021-04-12"));
    assert_true(slice_is(rq.path, "/devices/th%2301"));
    assert_true(slice_is(rq.query, "api-version=2021-04-12"));
    assert_int_equal(rq.minor_version, 1);
    assert_int_equal(rq.fields.count, 7);
    assert_int_equal(rq.body_len, 16);
    assert_int_equal(rq.head_len, sizeof req - 1 - 16);
    assert_true(rq.keep_alive);
    assert_false(rq.expect_continue);
    assert_string_equal(hdr(&rq.fields, "if-match", b, sizeof b), "\"*\"");
    assert_string_equal(hdr(&rq.fields, "CONTENT-TYPE", b, sizeof b),
                        "application/json; charset=utf-8");
    assert_null(hdr(&rq.fields, "x-absent", b, sizeof b));
    assert_int_equal(gh_http_fields_count(&rq.fields, "host"), 1);
}

static void test_http10_and_connection(void **state)
{
    char b[64];
    /* HTTP/1.0 without Host: accepted; closes unless keep-alive. */
    parse_all_ways(S("GET /devices/ HTTP/1.0\r\n\r\n"), NULL);
    assert_int_equal(rq.minor_version, 0);
    assert_false(rq.keep_alive);
    assert_null(rq.query.ptr);
    parse_all_ways(S("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), NULL);
    assert_true(rq.keep_alive);
    parse_all_ways(S("GET / HTTP/1.1\r\nHost: a\r\nConnection: te, close\r\n\r\n"), NULL);
    assert_false(rq.keep_alive);
    /* Leading empty lines are skipped; OWS trimmed; HTAB and obs-text kept. */
    parse_all_ways(S("\r\n\r\nGET /x? HTTP/1.1\r\nHost:a\r\nX-V: \t a \xe9\tb \t\r\nX-E:\r\n\r\n"),
                   NULL);
    assert_true(slice_is(rq.path, "/x"));
    assert_true(rq.query.ptr != NULL && rq.query.len == 0);
    assert_string_equal(hdr(&rq.fields, "x-v", b, sizeof b), "a \xe9\tb");
    assert_string_equal(hdr(&rq.fields, "x-e", b, sizeof b), "");
    assert_string_equal(hdr(&rq.fields, "host", b, sizeof b), "a");
    /* Repeated identical Content-Length is one length. */
    parse_all_ways(
        S("POST /m HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\ncontent-length: 003\r\n\r\n"), NULL);
    assert_int_equal(rq.body_len, 3);
}

static void test_expect_continue(void **state)
{
    parse_all_ways(
        S("PUT /a HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 5\r\n\r\n"), NULL);
    assert_true(rq.expect_continue);
    /* No body: nothing to continue. HTTP/1.0: ignored (RFC 9110 10.1.1). */
    parse_all_ways(S("GET /a HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n"), NULL);
    assert_false(rq.expect_continue);
    parse_all_ways(S("PUT /a HTTP/1.0\r\nExpect: whatever\r\nContent-Length: 5\r\n\r\n"), NULL);
    assert_false(rq.expect_continue);
}

/* Limits exactly at the boundary pass. */
static void test_limits_boundary(void **state)
{
    struct gh_http_limits lim = {.max_head = 64, .max_headers = 2, .max_body = 10};
    /* 64 bytes exactly */
    static const char req[] = "GET /aaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: a\r\nX: 1\r\n\r\n";
    assert_int_equal(sizeof req - 1, 58);
    parse_all_ways(S(req), &lim);
    static const char req64[] =
        "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: a\r\nX: 1\r\n\r\n";
    assert_int_equal(sizeof req64 - 1, 64);
    parse_all_ways(S(req64), &lim);
    parse_all_ways(S("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n"), &lim);
    assert_int_equal(rq.body_len, 10);
}

struct bad {
    const char *in;
    gh_err rc;
    unsigned status;
};

static const struct bad bad_requests[] = {
    {"G@T / HTTP/1.1\r\nHost: a\r\n\r\n", GH_ERR_MALFORMED, 400},
    {" GET / HTTP/1.1\r\nHost: a\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"ABCDEFGHIJKLMNOPQ / HTTP/1.1\r\nHost: a\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET /\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET / HTTX/1.1\r\nHost: a\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET / http/1.1\r\nHost: a\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET / HTTP/1.10\r\nHost: a\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET / HTTP/1.2\r\nHost: a\r\n\r\n", GH_ERR_BAD_PROTOCOL, 505},
    {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", GH_ERR_BAD_PROTOCOL, 505},
    {"GET / HTTP/0.9\r\nHost: a\r\n\r\n", GH_ERR_BAD_PROTOCOL, 505},
    {"GET / HTTP/1.1\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET / HTTP/1.1\r\n Host: a\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET / HTTP/1.1\r\nHo(st: a\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET / HTTP/1.1\r\nHost a\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nX: a\nb\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET / HTTP/1.1\nHost: a\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", GH_ERR_MALFORMED, 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 1\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1,1\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", GH_ERR_MALFORMED, 400},
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
     GH_ERR_MALFORMED, 400},
    {"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n", GH_ERR_TOO_LARGE, 413},
    {"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n",
     GH_ERR_TOO_LARGE, 413},
    {"PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", GH_ERR_UNSUPPORTED, 411},
    {"PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n", GH_ERR_UNSUPPORTED,
     411},
    {"PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", GH_ERR_UNSUPPORTED, 501},
    {"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
     GH_ERR_UNSUPPORTED, 411},
    {"PUT / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\n", GH_ERR_UNSUPPORTED,
     417},
    {"PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nExpect: 100-continue\r\n\r\n",
     GH_ERR_UNSUPPORTED, 417},
};

/* Parse whole, then also byte by byte: both end in the same sticky error. */
static void test_bad_requests(void **state)
{
    for (size_t i = 0; i < sizeof bad_requests / sizeof bad_requests[0]; i++) {
        const struct bad *b = &bad_requests[i];
        size_t len = strlen(b->in);
        struct gh_http_parser p;
        enum gh_http_parse_status st = (enum gh_http_parse_status)7;
        assert_int_equal(gh_http_parser_init(&p, NULL), GH_OK);
        gh_err rc = gh_http_parse_request(&p, (const uint8_t *)b->in, len, &st, &rq);
        if (rc != b->rc || gh_http_parser_status(&p) != b->status)
            fail_msg("vector %zu: got %s/%u", i, gh_err_name(rc), gh_http_parser_status(&p));
        assert_int_equal(st, 7); /* untouched */
        assert_true(gh_http_parser_why(&p)[0] != '\0');
        /* sticky */
        assert_int_equal(gh_http_parse_request(&p, (const uint8_t *)b->in, len, &st, &rq), b->rc);

        assert_int_equal(gh_http_parser_init(&p, NULL), GH_OK);
        rc = GH_OK;
        for (size_t n = 0; n <= len && rc == GH_OK; n++)
            rc = gh_http_parse_request(&p, (const uint8_t *)b->in, n, &st, &rq);
        if (rc != b->rc) fail_msg("vector %zu byte-wise: got %s", i, gh_err_name(rc));
        assert_int_equal(gh_http_parser_status(&p), b->status);
    }
}

/* A head over max_head is 431 as soon as the limit is passed, before its end. */
static void test_head_too_large(void **state)
{
    struct gh_http_limits lim = {.max_head = 64, .max_headers = 8, .max_body = 10};
    static const char req[] =
        "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: a\r\nX: 1\r\n\r\n";
    assert_int_equal(sizeof req - 1, 65);
    struct gh_http_parser p;
    enum gh_http_parse_status st;
    assert_int_equal(gh_http_parser_init(&p, &lim), GH_OK);
    assert_int_equal(gh_http_parse_request(&p, S(req), &st, &rq), GH_ERR_TOO_LARGE);
    assert_int_equal(gh_http_parser_status(&p), 431);
    /* No terminator at all: refused once 64 bytes are in. */
    uint8_t junk[100];
    memset(junk, 'a', sizeof junk);
    assert_int_equal(gh_http_parser_init(&p, &lim), GH_OK);
    assert_int_equal(gh_http_parse_request(&p, junk, 63, &st, &rq), GH_OK);
    assert_int_equal(st, GH_HTTP_NEED_MORE);
    assert_int_equal(gh_http_parse_request(&p, junk, 64, &st, &rq), GH_ERR_TOO_LARGE);
    assert_int_equal(gh_http_parser_status(&p), 431);
    /* Too many fields: 431 with its own code. */
    lim.max_head = 1024;
    lim.max_headers = 2;
    assert_int_equal(gh_http_parser_init(&p, &lim), GH_OK);
    assert_int_equal(
        gh_http_parse_request(&p, S("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n"), &st, &rq),
        GH_ERR_TOO_MANY);
    assert_int_equal(gh_http_parser_status(&p), 431);
    /* Body over a small limit: 413. */
    lim.max_headers = 8;
    assert_int_equal(gh_http_parser_init(&p, &lim), GH_OK);
    assert_int_equal(
        gh_http_parse_request(&p, S("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n"), &st,
                              &rq),
        GH_ERR_TOO_LARGE);
    assert_int_equal(gh_http_parser_status(&p), 413);
}

/* The version is refused as soon as the first line is complete. */
static void test_early_errors(void **state)
{
    struct gh_http_parser p;
    enum gh_http_parse_status st;
    assert_int_equal(gh_http_parser_init(&p, NULL), GH_OK);
    assert_int_equal(gh_http_parse_request(&p, S("GET / HTTP/3.0\r\n"), &st, &rq),
                     GH_ERR_BAD_PROTOCOL);
    assert_int_equal(gh_http_parser_status(&p), 505);
    /* A TLS ClientHello sent to a plaintext port fails on its first bytes. */
    assert_int_equal(gh_http_parser_init(&p, NULL), GH_OK);
    assert_int_equal(gh_http_parse_request(&p, S("\x16\x03\x01\x02\x00\x01"), &st, &rq),
                     GH_ERR_MALFORMED);
    assert_int_equal(gh_http_parser_status(&p), 400);
}

static void test_parser_api(void **state)
{
    struct gh_http_parser p;
    enum gh_http_parse_status st;
    struct gh_http_limits lim;
    gh_http_limits_default(&lim);
    assert_int_equal(lim.max_head, GH_HTTP_HEAD_MAX_DEFAULT);
    assert_int_equal(lim.max_headers, GH_HTTP_HEADERS_MAX);
    assert_int_equal(lim.max_body, GH_HTTP_BODY_MAX_DEFAULT);
    assert_int_equal(gh_http_limits_check(NULL), GH_ERR_ARG);
    struct gh_http_limits bad = lim;
    bad.max_head = GH_HTTP_HEAD_MIN - 1;
    assert_int_equal(gh_http_parser_init(&p, &bad), GH_ERR_ARG);
    bad = lim;
    bad.max_head = GH_HTTP_HEAD_MAX_LIMIT + 1;
    assert_int_equal(gh_http_limits_check(&bad), GH_ERR_ARG);
    bad = lim;
    bad.max_headers = 0;
    assert_int_equal(gh_http_limits_check(&bad), GH_ERR_ARG);
    bad.max_headers = GH_HTTP_HEADERS_MAX + 1;
    assert_int_equal(gh_http_limits_check(&bad), GH_ERR_ARG);
    bad = lim;
    bad.max_body = GH_HTTP_BODY_MAX_LIMIT + 1;
    assert_int_equal(gh_http_limits_check(&bad), GH_ERR_ARG);

    assert_int_equal(gh_http_parser_init(&p, NULL), GH_OK);
    assert_int_equal(gh_http_parser_status(&p), 0);
    assert_string_equal(gh_http_parser_why(&p), "");
    assert_int_equal(gh_http_parse_request(&p, NULL, 1, &st, &rq), GH_ERR_ARG);
    assert_int_equal(gh_http_parse_request(&p, NULL, 0, &st, &rq), GH_OK);
    assert_int_equal(st, GH_HTTP_NEED_MORE);
    /* Input must not shrink. */
    assert_int_equal(gh_http_parse_request(&p, S("GET / HT"), &st, &rq), GH_OK);
    assert_int_equal(gh_http_parse_request(&p, S("GET"), &st, &rq), GH_ERR_ARG);
    assert_int_equal(gh_http_parser_status(&p), 0); /* not sticky */
    /* Two pipelined requests: reset between them. */
    static const char two[] =
        "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n";
    assert_int_equal(gh_http_parser_init(&p, NULL), GH_OK);
    assert_int_equal(gh_http_parse_request(&p, S(two), &st, &rq), GH_OK);
    assert_int_equal(st, GH_HTTP_COMPLETE);
    assert_true(slice_is(rq.path, "/1"));
    /* asking again gives the same answer */
    assert_int_equal(gh_http_parse_request(&p, S(two), &st, &rq), GH_OK);
    assert_true(slice_is(rq.path, "/1"));
    size_t used = rq.head_len;
    gh_http_parser_reset(&p);
    assert_int_equal(
        gh_http_parse_request(&p, (const uint8_t *)two + used, sizeof two - 1 - used, &st, &rq),
        GH_OK);
    assert_int_equal(st, GH_HTTP_COMPLETE);
    assert_true(slice_is(rq.path, "/2"));
    /* reset clears a sticky error */
    assert_int_equal(gh_http_parse_request(&p, S("\n"), &st, &rq), GH_ERR_ARG); /* shrank */
    gh_http_parser_reset(&p);
    assert_int_equal(gh_http_parse_request(&p, S("\n"), &st, &rq), GH_ERR_MALFORMED);
    gh_http_parser_reset(&p);
    assert_int_equal(gh_http_parser_status(&p), 0);
}

/* ---- responses --------------------------------------------------------- */

static gh_err parse_resp(const char *in, bool head_request, struct gh_http_parser *p)
{
    enum gh_http_parse_status st = GH_HTTP_NEED_MORE;
    gh_err rc = gh_http_parser_init(p, NULL);
    if (rc != GH_OK) return rc;
    size_t len = strlen(in);
    /* byte by byte: every prefix before the end needs more */
    for (size_t n = 0; n <= len; n++) {
        rc = gh_http_parse_response(p, (const uint8_t *)in, n, head_request, &st, &rs);
        if (rc != GH_OK) return rc;
        if (st == GH_HTTP_COMPLETE) {
            assert_int_equal(n, rs.head_len);
            break;
        }
    }
    return st == GH_HTTP_COMPLETE ? GH_OK : GH_ERR_TRUNCATED;
}

static void test_responses(void **state)
{
    struct gh_http_parser p;
    char b[64];
    assert_int_equal(parse_resp("HTTP/1.1 202 Accepted\r\nContent-Type: application/json; "
                                "charset=utf-8\r\nRetry-After: 3\r\nContent-Length: 2\r\n\r\n{}",
                                false, &p),
                     GH_OK);
    assert_int_equal(rs.status, 202);
    assert_true(slice_is(rs.reason, "Accepted"));
    assert_int_equal(rs.body_kind, GH_HTTP_BODY_LENGTH);
    assert_int_equal(rs.body_len, 2);
    assert_true(rs.keep_alive);
    assert_string_equal(hdr(&rs.fields, "retry-after", b, sizeof b), "3");

    assert_int_equal(parse_resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false, &p),
                     GH_OK);
    assert_int_equal(rs.body_kind, GH_HTTP_BODY_CHUNKED);
    assert_int_equal(parse_resp("HTTP/1.0 200 OK\r\n\r\n", false, &p), GH_OK);
    assert_int_equal(rs.body_kind, GH_HTTP_BODY_UNTIL_CLOSE);
    assert_false(rs.keep_alive);
    assert_int_equal(rs.minor_version, 0);
    assert_int_equal(
        parse_resp("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", false,
                   &p),
        GH_OK);
    assert_true(rs.keep_alive);
    assert_int_equal(parse_resp("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", false, &p),
                     GH_OK);
    assert_int_equal(rs.body_kind, GH_HTTP_BODY_NONE);
    assert_int_equal(parse_resp("HTTP/1.1 304 Not Modified\r\n\r\n", false, &p), GH_OK);
    assert_int_equal(rs.body_kind, GH_HTTP_BODY_NONE);
    assert_int_equal(parse_resp("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true, &p), GH_OK);
    assert_int_equal(rs.body_kind, GH_HTTP_BODY_NONE);
    assert_int_equal(parse_resp("HTTP/1.1 100 Continue\r\n\r\n", false, &p), GH_OK);
    assert_int_equal(rs.status, 100);
    assert_int_equal(rs.body_kind, GH_HTTP_BODY_NONE);
    /* Reason phrase may be empty or absent. */
    assert_int_equal(parse_resp("HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n", false, &p), GH_OK);
    assert_int_equal(rs.reason.len, 0);
    assert_int_equal(
        parse_resp("HTTP/1.1 404\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false, &p),
        GH_OK);
    assert_int_equal(rs.status, 404);
    assert_false(rs.keep_alive);
}

static void test_bad_responses(void **state)
{
    static const struct bad v[] = {
        {"HTTP/1.1 99 Low\r\n\r\n", GH_ERR_MALFORMED, 400},
        {"HTTP/1.1 600 High\r\n\r\n", GH_ERR_MALFORMED, 400},
        {"HTTP/1.1 2x0 OK\r\n\r\n", GH_ERR_MALFORMED, 400},
        {"HTTP/1.1 200OK\r\n\r\n", GH_ERR_MALFORMED, 400},
        {"HTTP/1.1  200 OK\r\n\r\n", GH_ERR_MALFORMED, 400},
        {"HTTP/1.1\r\n\r\n", GH_ERR_MALFORMED, 400},
        {"HTTP/2.0 200 OK\r\n\r\n", GH_ERR_BAD_PROTOCOL, 505},
        {"ICY 200 OK\r\n\r\n", GH_ERR_MALFORMED, 400},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
         GH_ERR_MALFORMED, 400},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", GH_ERR_UNSUPPORTED, 501},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
         GH_ERR_UNSUPPORTED, 501},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", GH_ERR_MALFORMED,
         400},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1048577\r\n\r\n", GH_ERR_TOO_LARGE, 413},
        {"HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n", GH_ERR_MALFORMED, 400},
        {"HTTP/1.1 200 OK\r\nX: \x00\r\n\r\n", GH_ERR_MALFORMED, 400},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct gh_http_parser p;
        /* strlen stops at an embedded NUL: use the literal's real length */
        size_t len = strlen(v[i].in);
        if (i == sizeof v / sizeof v[0] - 1) len = sizeof "HTTP/1.1 200 OK\r\nX: \x00\r\n\r\n" - 1;
        enum gh_http_parse_status st;
        assert_int_equal(gh_http_parser_init(&p, NULL), GH_OK);
        gh_err rc = gh_http_parse_response(&p, (const uint8_t *)v[i].in, len, false, &st, &rs);
        if (rc != v[i].rc || gh_http_parser_status(&p) != v[i].status)
            fail_msg("response vector %zu: got %s/%u", i, gh_err_name(rc),
                     gh_http_parser_status(&p));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_node_service_request),
        cmocka_unit_test(test_http10_and_connection),
        cmocka_unit_test(test_expect_continue),
        cmocka_unit_test(test_limits_boundary),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_head_too_large),
        cmocka_unit_test(test_early_errors),
        cmocka_unit_test(test_parser_api),
        cmocka_unit_test(test_responses),
        cmocka_unit_test(test_bad_responses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
