/* Chunked body decoding (whole, byte by byte, every refusal) and the
 * request-target helpers: path segments, percent-decoding, query lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/parse.h"

/* Decode in with pieces of at most step bytes; the data lands in out. */
static gh_err dechunk(const char *in, size_t len, size_t step, size_t max_body, char *out,
                      size_t cap, size_t *out_len, size_t *used_total, bool *done)
{
    struct gh_http_chunked c;
    gh_http_chunked_init(&c, max_body, 64);
    size_t pos = 0, o = 0;
    *done = false;
    while (pos < len && !*done) {
        size_t n = len - pos < step ? len - pos : step;
        size_t k = 0;
        while (k < n && !*done) {
            size_t used;
            struct gh_slice run;
            gh_err rc =
                gh_http_chunked_feed(&c, (const uint8_t *)in + pos + k, n - k, &used, &run, done);
            if (rc != GH_OK) return rc;
            assert_true(used <= n - k);
            assert_true(o + run.len <= cap);
            if (run.len) memcpy(out + o, run.ptr, run.len);
            o += run.len;
            k += used;
            if (used == 0 && !*done) fail_msg("no progress");
        }
        pos += k;
    }
    *out_len = o;
    *used_total = pos;
    return GH_OK;
}

static void test_chunked_valid(void **state)
{
    static const struct {
        const char *in, *data;
    } v[] = {
        {"5\r\nhello\r\n0\r\n\r\n", "hello"},
        {"5;name=val\r\nhello\r\n6 ; x\r\n world\r\n0\r\n\r\n", "hello world"},
        {"A\r\n0123456789\r\n0000\r\n\r\n", "0123456789"},
        {"a\r\n0123456789\r\n0\r\nX-Trailer: 1\r\nY: 2\r\n\r\n", "0123456789"},
        {"0\r\n\r\n", ""},
        {"000001\r\nz\r\n0;last\r\n\r\n", "z"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t len = strlen(v[i].in);
        for (size_t step = 1; step <= len; step++) {
            char out[64];
            size_t olen, used;
            bool done;
            assert_int_equal(dechunk(v[i].in, len, step, 100, out, sizeof out, &olen, &used, &done),
                             GH_OK);
            assert_true(done);
            assert_int_equal(used, len);
            assert_int_equal(olen, strlen(v[i].data));
            assert_memory_equal(out, v[i].data, olen);
        }
        /* every proper prefix: no error, not done */
        for (size_t cut = 0; cut < len; cut++) {
            char out[64];
            size_t olen, used;
            bool done;
            assert_int_equal(
                dechunk(v[i].in, cut, cut ? cut : 1, 100, out, sizeof out, &olen, &used, &done),
                GH_OK);
            assert_false(done);
        }
    }
    /* Bytes after the body are not consumed. */
    char out[16];
    size_t olen, used;
    bool done;
    static const char tail[] = "1\r\na\r\n0\r\n\r\nHTTP/1.1";
    assert_int_equal(
        dechunk(tail, sizeof tail - 1, sizeof tail, 100, out, sizeof out, &olen, &used, &done),
        GH_OK);
    assert_true(done);
    assert_int_equal(used, sizeof tail - 1 - 8);
}

static void test_chunked_errors(void **state)
{
    static const struct {
        const char *in;
        gh_err rc;
    } v[] = {
        {"x\r\n", GH_ERR_MALFORMED},
        {"\r\n", GH_ERR_MALFORMED},
        {";ext\r\n", GH_ERR_MALFORMED},
        {"5 6\r\n", GH_ERR_MALFORMED},
        {"5\nhello", GH_ERR_MALFORMED},
        {"5\r\nhelloX", GH_ERR_MALFORMED},
        {"5\r\nhello\rX", GH_ERR_MALFORMED},
        {"5;\x01\r\n", GH_ERR_MALFORMED},
        {"0\r\nX: \x01\r\n", GH_ERR_MALFORMED},
        {"0\r\nX: 1\rY", GH_ERR_MALFORMED},
        {"0\r\n\rX", GH_ERR_MALFORMED},
        {"65\r\n", GH_ERR_TOO_LARGE}, /* 101 > 100 */
        {"ffffffffffffffffffff\r\n", GH_ERR_TOO_LARGE},
        {"32\r\n01234567890123456789012345678901234567890123456789\r\n33\r\n",
         GH_ERR_TOO_LARGE}, /* 50 + 51 */
        {"0\r\nX-Long: 0123456789012345678901234567890123456789012345678901234567890\r\n\r\n",
         GH_ERR_TOO_LARGE}, /* trailer over 64 */
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char out[128];
        size_t olen, used;
        bool done;
        gh_err rc = dechunk(v[i].in, strlen(v[i].in), 1, 100, out, sizeof out, &olen, &used, &done);
        if (rc != v[i].rc) fail_msg("chunked vector %zu: %s", i, gh_err_name(rc));
        rc = dechunk(v[i].in, strlen(v[i].in), 1000, 100, out, sizeof out, &olen, &used, &done);
        if (rc != v[i].rc) fail_msg("chunked vector %zu whole: %s", i, gh_err_name(rc));
    }
    /* An over-long size line (extensions). */
    char line[GH_HTTP_CHUNK_LINE_MAX + 8];
    memset(line, 'a', sizeof line);
    line[0] = '1';
    line[1] = ';';
    char out[8];
    size_t olen, used;
    bool done;
    assert_int_equal(dechunk(line, sizeof line, 7, 100, out, sizeof out, &olen, &used, &done),
                     GH_ERR_TOO_LARGE);
    /* Sticky, API misuse. */
    struct gh_http_chunked c;
    struct gh_slice run;
    gh_http_chunked_init(&c, 10, 10);
    assert_int_equal(gh_http_chunked_feed(&c, NULL, 1, &used, &run, &done), GH_ERR_ARG);
    assert_int_equal(gh_http_chunked_feed(&c, (const uint8_t *)"z", 1, &used, &run, &done),
                     GH_ERR_MALFORMED);
    assert_int_equal(gh_http_chunked_feed(&c, (const uint8_t *)"0", 1, &used, &run, &done),
                     GH_ERR_MALFORMED);
    gh_http_chunked_init(&c, 10, 10);
    assert_int_equal(gh_http_chunked_feed(&c, (const uint8_t *)"0\r\n\r\n", 5, &used, &run, &done),
                     GH_OK);
    assert_true(done);
    assert_int_equal(gh_http_chunked_feed(&c, (const uint8_t *)"0", 1, &used, &run, &done),
                     GH_ERR_ARG);
}

static void test_path_split(void **state)
{
    static const struct {
        const char *path;
        size_t n;
        const char *segs[4];
    } v[] = {
        {"/", 1, {""}},
        {"/a", 1, {"a"}},
        {"/devices/", 2, {"devices", ""}},
        {"/a//b", 3, {"a", "", "b"}},
        {"/twins/d%2F1/methods", 3, {"twins", "d%2F1", "methods"}},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct gh_slice segs[4];
        size_t n = 99;
        assert_int_equal(gh_http_path_split(gh_slice_cstr(v[i].path), segs, 4, &n), GH_OK);
        assert_int_equal(n, v[i].n);
        for (size_t k = 0; k < n; k++) assert_true(gh_slice_eq_cstr(segs[k], v[i].segs[k]));
    }
    struct gh_slice segs[2];
    size_t n = 99;
    assert_int_equal(gh_http_path_split(gh_slice_cstr("/a/b/c"), segs, 2, &n), GH_ERR_TOO_MANY);
    assert_int_equal(n, 99);
    assert_int_equal(gh_http_path_split(gh_slice_cstr("a/b"), segs, 2, &n), GH_ERR_MALFORMED);
    assert_int_equal(gh_http_path_split(GH_SLICE_EMPTY, segs, 2, &n), GH_ERR_MALFORMED);
}

static void test_pct_decode(void **state)
{
    static const struct {
        const char *raw, *want;
    } v[] = {
        {"th%2301", "th#01"}, {"a%2fb%2Fc", "a/b/c"},        {"a+b", "a+b"}, {"%zz%4", "%zz%4"},
        {"%", "%"},           {"%E2%82%AC", "\xe2\x82\xac"}, {"", ""},       {"%41%42", "AB"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char buf[32];
        struct gh_writer w;
        gh_writer_init(&w, buf, sizeof buf);
        assert_int_equal(gh_http_pct_decode(gh_slice_cstr(v[i].raw), &w), GH_OK);
        assert_int_equal(w.len, strlen(v[i].want));
        assert_string_equal(buf, v[i].want);
    }
    char buf[8];
    struct gh_writer w;
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_http_pct_decode(gh_slice_cstr("a%00b"), &w), GH_ERR_MALFORMED);
    assert_int_equal(w.len, 0);
    gh_writer_init(&w, buf, 3); /* "abc" needs 4 with the NUL */
    assert_int_equal(gh_http_pct_decode(gh_slice_cstr("abc"), &w), GH_ERR_NOBUFS);
    gh_writer_init(&w, buf, 4);
    assert_int_equal(gh_http_pct_decode(gh_slice_cstr("abc"), &w), GH_OK);
}

static void test_query(void **state)
{
    struct gh_slice q = gh_slice_cstr("api-version=2021-04-12&&top=5&flag&%61pi=x&e=&sp=a+b%20c");
    struct gh_slice v;
    assert_int_equal(gh_http_query_get(q, "api-version", &v), GH_OK);
    assert_true(gh_slice_eq_cstr(v, "2021-04-12"));
    assert_int_equal(gh_http_query_get(q, "API-Version", &v), GH_OK);
    assert_int_equal(gh_http_query_get(q, "top", &v), GH_OK);
    assert_true(gh_slice_eq_cstr(v, "5"));
    assert_int_equal(gh_http_query_get(q, "flag", &v), GH_OK);
    assert_int_equal(v.len, 0);
    assert_int_equal(gh_http_query_get(q, "api", &v), GH_OK); /* "%61pi" decodes to "api" */
    assert_true(gh_slice_eq_cstr(v, "x"));
    assert_int_equal(gh_http_query_get(q, "e", &v), GH_OK);
    assert_int_equal(v.len, 0);
    assert_int_equal(gh_http_query_get(q, "sp", &v), GH_OK);
    assert_true(gh_slice_eq_cstr(v, "a+b%20c"));
    struct gh_slice untouched = gh_slice_cstr("keep");
    v = untouched;
    assert_int_equal(gh_http_query_get(q, "missing", &v), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_http_query_get(q, "ap", &v), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_http_query_get(q, "api-versionx", &v), GH_ERR_NOT_FOUND);
    assert_true(gh_slice_eq(v, untouched));
    assert_int_equal(gh_http_query_get(GH_SLICE_EMPTY, "a", &v), GH_ERR_NOT_FOUND);

    /* Iteration order and raw views. */
    struct gh_reader r;
    gh_reader_init(&r, q.ptr, q.len);
    struct gh_slice n;
    const char *names[] = {"api-version", "top", "flag", "%61pi", "e", "sp"};
    size_t k = 0;
    while (gh_http_query_next(&r, &n, &v)) {
        assert_true(k < 6);
        assert_true(gh_slice_eq_cstr(n, names[k]));
        k++;
    }
    assert_int_equal(k, 6);
    gh_reader_init(&r, "&&&", 3);
    assert_false(gh_http_query_next(&r, &n, &v));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunked_valid), cmocka_unit_test(test_chunked_errors),
        cmocka_unit_test(test_path_split),    cmocka_unit_test(test_pct_decode),
        cmocka_unit_test(test_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
