/* Fuzz the HTTP decoders: request heads, response heads, chunked bodies,
 * paths and queries.
 *
 * Input: byte 0 picks the chunk size for incremental feeding (1..32) and
 * whether a response answers a HEAD request; the rest is the message.
 * Oracles: feeding the bytes whole and in small growing prefixes gives the
 * same result (status, error, HTTP status, head length); every view lies
 * inside the input; limits hold; errors come with an HTTP status and a
 * reason; the chunked decoder makes progress, never outputs more than its
 * limit, and agrees with itself between whole and piecewise feeding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond) abort();
}

static void inside(struct gh_slice s, const uint8_t *d, size_t n)
{
    if (s.len == 0) return;
    check(s.ptr >= d && s.len <= n && (size_t)(s.ptr - d) <= n - s.len);
}

static const struct gh_http_limits lim = {.max_head = 2048, .max_headers = 16, .max_body = 4096};

static struct gh_http_request_head rq, rq2;
static struct gh_http_response_head rs, rs2;

static void fields_ok(const struct gh_http_fields *f, const uint8_t *d, size_t n)
{
    check(f->count <= lim.max_headers);
    for (size_t i = 0; i < f->count; i++) {
        check(f->h[i].name.len > 0);
        inside(f->h[i].name, d, n);
        inside(f->h[i].value, d, n);
    }
}

static void fuzz_target(const struct gh_http_request_head *h, const uint8_t *d, size_t n)
{
    struct gh_slice segs[8];
    size_t count;
    gh_err rc = gh_http_path_split(h->path, segs, 8, &count);
    check(rc == GH_OK || rc == GH_ERR_TOO_MANY);
    for (size_t i = 0; rc == GH_OK && i < count; i++) {
        inside(segs[i], d, n);
        char buf[2048 + 1];
        struct gh_writer w;
        gh_writer_init(&w, buf, segs[i].len + 1);
        gh_err drc = gh_http_pct_decode(segs[i], &w);
        check(drc == GH_OK || drc == GH_ERR_MALFORMED);
        if (drc == GH_OK) check(w.len <= segs[i].len && strlen(buf) == w.len);
    }
    struct gh_slice v;
    if (gh_http_query_get(h->query, "api-version", &v) == GH_OK) inside(v, d, n);
    struct gh_reader r;
    gh_reader_init(&r, h->query.ptr, h->query.len);
    struct gh_slice qn, qv;
    size_t guard = 0;
    while (gh_http_query_next(&r, &qn, &qv)) {
        inside(qn, d, n);
        inside(qv, d, n);
        check(++guard <= h->query.len);
    }
}

static void fuzz_request(const uint8_t *d, size_t n, size_t step)
{
    struct gh_http_parser p, q;
    enum gh_http_parse_status st, st2 = GH_HTTP_NEED_MORE;
    check(gh_http_parser_init(&p, &lim) == GH_OK);
    gh_err rc = gh_http_parse_request(&p, d, n, &st, &rq);
    check(gh_http_parser_init(&q, &lim) == GH_OK);
    gh_err rc2 = GH_OK;
    for (size_t k = 0; rc2 == GH_OK && st2 == GH_HTTP_NEED_MORE;) {
        k = k + step < n ? k + step : n;
        rc2 = gh_http_parse_request(&q, d, k, &st2, &rq2);
        if (k == n) break;
    }
    check(rc == rc2);
    if (rc != GH_OK) {
        unsigned s = gh_http_parser_status(&p);
        check(s == 400 || s == 411 || s == 413 || s == 417 || s == 431 || s == 501 || s == 505);
        check(s == gh_http_parser_status(&q));
        check(gh_http_parser_why(&p)[0] != '\0');
        return;
    }
    check(st == st2);
    if (st != GH_HTTP_COMPLETE) return;
    check(rq.head_len == rq2.head_len && rq.head_len <= n && rq.head_len <= lim.max_head);
    check(rq.body_len == rq2.body_len && rq.body_len <= lim.max_body);
    check(rq.method.len >= 1 && rq.method.len <= GH_HTTP_METHOD_MAX);
    check(rq.path.len >= 1 && rq.path.ptr[0] == '/');
    check(rq.minor_version <= 1);
    inside(rq.method, d, n);
    inside(rq.target, d, n);
    inside(rq.path, d, n);
    inside(rq.query, d, n);
    fields_ok(&rq.fields, d, n);
    fuzz_target(&rq, d, n);
}

static void fuzz_response(const uint8_t *d, size_t n, size_t step, bool head_request)
{
    struct gh_http_parser p, q;
    enum gh_http_parse_status st, st2 = GH_HTTP_NEED_MORE;
    check(gh_http_parser_init(&p, &lim) == GH_OK);
    gh_err rc = gh_http_parse_response(&p, d, n, head_request, &st, &rs);
    check(gh_http_parser_init(&q, &lim) == GH_OK);
    gh_err rc2 = GH_OK;
    for (size_t k = 0; rc2 == GH_OK && st2 == GH_HTTP_NEED_MORE;) {
        k = k + step < n ? k + step : n;
        rc2 = gh_http_parse_response(&q, d, k, head_request, &st2, &rs2);
        if (k == n) break;
    }
    check(rc == rc2);
    if (rc != GH_OK || st != GH_HTTP_COMPLETE) return;
    check(st2 == GH_HTTP_COMPLETE && rs.head_len == rs2.head_len && rs.head_len <= n);
    check(rs.status >= 100 && rs.status <= 599);
    check(rs.body_kind != GH_HTTP_BODY_LENGTH || rs.body_len <= lim.max_body);
    check(rs.body_kind != GH_HTTP_BODY_UNTIL_CLOSE || !rs.keep_alive);
    check(!head_request || rs.body_kind == GH_HTTP_BODY_NONE);
    inside(rs.reason, d, n);
    fields_ok(&rs.fields, d, n);
}

/* Decode with pieces of step bytes; returns the error (or GH_OK) and the
 * total output / done state. */
static gh_err dechunk(const uint8_t *d, size_t n, size_t step, size_t *out_total, bool *done)
{
    struct gh_http_chunked c;
    gh_http_chunked_init(&c, 1000, 200);
    size_t pos = 0;
    *out_total = 0;
    *done = false;
    while (pos < n && !*done) {
        size_t piece = n - pos < step ? n - pos : step;
        size_t used;
        struct gh_slice run;
        gh_err rc = gh_http_chunked_feed(&c, d + pos, piece, &used, &run, done);
        if (rc != GH_OK) return rc;
        check(used <= piece);
        check(used > 0 || *done);
        inside(run, d + pos, piece);
        *out_total += run.len;
        check(*out_total <= 1000);
        pos += used;
    }
    return GH_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t step = (size_t)(data[0] & 31u) + 1;
    bool head_request = (data[0] & 0x80u) != 0;
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    /* exact-size copy so that any overread is caught by ASan */
    uint8_t *copy = malloc(n ? n : 1);
    if (copy == NULL) return 0;
    memcpy(copy, d, n);
    fuzz_request(copy, n, step);
    fuzz_response(copy, n, step, head_request);
    size_t t1, t2;
    bool d1, d2;
    gh_err c1 = dechunk(copy, n, n ? n : 1, &t1, &d1);
    gh_err c2 = dechunk(copy, n, step, &t2, &d2);
    check(c1 == c2);
    if (c1 == GH_OK)
        check(t1 == t2 && d1 == d2);
    else
        check(c1 == GH_ERR_MALFORMED || c1 == GH_ERR_TOO_LARGE);
    free(copy);
    return 0;
}
