/* Server requests: construction from a parsed head, accessors, responses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "http/server_int.h"

/* Decode raw into the scratch writer; the result is a C string there. */
static gh_err decode_into(struct gh_writer *w, struct gh_slice raw, const char **out)
{
    size_t at = w->len;
    GH_GUARD(gh_http_pct_decode(raw, w));
    GH_GUARD(gh_writer_u8(w, 0)); /* keep the NUL: the next string follows it */
    *out = (const char *)w->data + at;
    return GH_OK;
}

static gh_err decode_target(struct gh_http_request *r, struct gh_writer *w, const char **why)
{
    struct gh_slice segs[GH_HTTP_SEGMENTS_MAX];
    size_t n;
    gh_err rc = gh_http_path_split(r->head.path, segs, GH_HTTP_SEGMENTS_MAX, &n);
    if (rc != GH_OK) {
        *why = "too many path segments";
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        if (decode_into(w, segs[i], &r->seg[i]) != GH_OK) {
            *why = "bad percent-encoding in path";
            return GH_ERR_MALFORMED;
        }
    }
    r->nseg = n;
    struct gh_reader q;
    gh_reader_init(&q, r->head.query.ptr, r->head.query.len);
    struct gh_slice name, value;
    while (gh_http_query_next(&q, &name, &value)) {
        if (r->nquery == GH_HTTP_QUERY_PARAMS_MAX) {
            *why = "too many query parameters";
            return GH_ERR_TOO_MANY;
        }
        if (decode_into(w, name, &r->qname[r->nquery]) != GH_OK ||
            decode_into(w, value, &r->qvalue[r->nquery]) != GH_OK) {
            *why = "bad percent-encoding in query";
            return GH_ERR_MALFORMED;
        }
        r->nquery++;
    }
    return GH_OK;
}

/* Names end at ':' and values before OWS or CR: terminate them in place. */
static void terminate_fields(struct gh_http_fields *f)
{
    for (size_t i = 0; i < f->count; i++) {
        ((uint8_t *)f->h[i].name.ptr)[f->h[i].name.len] = 0;
        ((uint8_t *)f->h[i].value.ptr)[f->h[i].value.len] = 0;
    }
}

gh_err gh_http_request_new(struct gh_http_hconn *hc, const uint8_t *in,
                           const struct gh_http_request_head *h, struct gh_http_request **out,
                           const char **why)
{
    /* Decoded strings are never longer than their raw text; each gets a
     * NUL: 2 * target + 2 per possible string is always enough. */
    size_t scratch = 3 * h->target.len + 8;
    struct gh_http_request *r = calloc(1, sizeof *r);
    uint8_t *raw = malloc(h->head_len + 1 + scratch);
    uint8_t *body = malloc(h->body_len + 1);
    gh_err rc = GH_ERR_NOMEM;
    if (r == NULL || raw == NULL || body == NULL) goto out;
    memcpy(raw, in, h->head_len);
    raw[h->head_len] = 0;
    r->raw = raw;
    r->body = body;
    body[h->body_len] = 0;
    /* Parse the copy so every view points into memory the request owns. */
    struct gh_http_parser p;
    enum gh_http_parse_status st;
    rc = gh_http_parser_init(&p, &hc->parser.limits);
    if (rc == GH_OK) rc = gh_http_parse_request(&p, raw, h->head_len, &st, &r->head);
    if (rc != GH_OK || st != GH_HTTP_COMPLETE) {
        rc = GH_ERR_INTERNAL;
        goto out;
    }
    memcpy(r->method, r->head.method.ptr, r->head.method.len);
    r->method[r->head.method.len] = 0;
    r->is_head = strcmp(r->method, "HEAD") == 0;
    terminate_fields(&r->head.fields);
    struct gh_writer w;
    gh_writer_init(&w, raw + h->head_len + 1, scratch);
    rc = decode_target(r, &w, why);
    if (rc != GH_OK) goto out;
    const char *peer = gh_conn_peer_addr(hc->conn), *sni = gh_conn_sni(hc->conn);
    snprintf(r->peer, sizeof r->peer, "%s", peer);
    if (sni != NULL && strlen(sni) < sizeof r->sni) {
        memcpy(r->sni, sni, strlen(sni) + 1);
        r->has_sni = true;
    }
    r->hc = hc;
    *out = r;
    return GH_OK;
out:
    free(r);
    free(raw);
    free(body);
    return rc;
}

void gh_http_request_free(struct gh_http_request *req)
{
    if (req == NULL) return;
    free(req->raw);
    free(req->body);
    free(req);
}

const char *gh_http_request_method(const struct gh_http_request *req)
{
    return req->method;
}

struct gh_slice gh_http_request_path(const struct gh_http_request *req)
{
    return req->head.path;
}

struct gh_slice gh_http_request_query_raw(const struct gh_http_request *req)
{
    return req->head.query;
}

size_t gh_http_request_segment_count(const struct gh_http_request *req)
{
    return req->nseg;
}

const char *gh_http_request_segment(const struct gh_http_request *req, size_t i)
{
    return i < req->nseg ? req->seg[i] : NULL;
}

const char *gh_http_request_query(const struct gh_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->nquery; i++)
        if (strcasecmp(req->qname[i], name) == 0) return req->qvalue[i];
    return NULL;
}

const char *gh_http_request_header(const struct gh_http_request *req, const char *name)
{
    struct gh_slice v;
    return gh_http_fields_get(&req->head.fields, name, &v) ? (const char *)v.ptr : NULL;
}

const struct gh_http_fields *gh_http_request_fields(const struct gh_http_request *req)
{
    return &req->head.fields;
}

struct gh_slice gh_http_request_body(const struct gh_http_request *req)
{
    return (struct gh_slice){req->body, req->head.body_len};
}

const char *gh_http_request_peer_addr(const struct gh_http_request *req)
{
    return req->peer;
}

const char *gh_http_request_sni(const struct gh_http_request *req)
{
    return req->has_sni ? req->sni : NULL;
}

struct gh_conn *gh_http_request_conn(const struct gh_http_request *req)
{
    return req->hc ? req->hc->conn : NULL;
}

bool gh_http_request_cancelled(const struct gh_http_request *req)
{
    return req->cancelled;
}

void gh_http_request_set_cancel(struct gh_http_request *req, gh_http_cancel_fn fn, void *arg)
{
    req->on_cancel = fn;
    req->cancel_arg = arg;
}

/* ---- responses --------------------------------------------------------- */

static bool reserved_name(const char *n)
{
    static const char *const names[] = {"date", "content-length", "content-type", "connection",
                                        "transfer-encoding"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(n, names[i]) == 0) return true;
    return false;
}

static gh_err check_response(unsigned status, const char *ct, const void *body, size_t len,
                             const struct gh_http_kv *extra, size_t n, size_t *head_bytes)
{
    GH_ENSURE(status >= 200 && status <= 599, GH_ERR_ARG);
    GH_ENSURE(len == 0 || body != NULL, GH_ERR_ARG);
    GH_ENSURE(len == 0 || (status != 204 && status != 304), GH_ERR_ARG);
    GH_ENSURE(n <= GH_HTTP_EXTRA_HEADERS_MAX && (n == 0 || extra != NULL), GH_ERR_ARG);
    GH_ENSURE(len <= GH_HTTP_RESPONSE_MAX, GH_ERR_TOO_LARGE);
    /* status line, Date, Content-Length, Connection, final CRLF */
    size_t total = 64 + 40 + 40 + 32 + 2;
    if (ct != NULL) {
        GH_ENSURE(gh_http_value_ok(ct), GH_ERR_ARG);
        total += 16 + strlen(ct);
    }
    for (size_t i = 0; i < n; i++) {
        GH_ENSURE(extra[i].name != NULL && extra[i].value != NULL, GH_ERR_ARG);
        GH_ENSURE(gh_http_is_token(gh_slice_cstr(extra[i].name)), GH_ERR_ARG);
        GH_ENSURE(!reserved_name(extra[i].name), GH_ERR_ARG);
        GH_ENSURE(gh_http_value_ok(extra[i].value), GH_ERR_ARG);
        size_t add = strlen(extra[i].name) + strlen(extra[i].value) + 4;
        GH_ENSURE(add <= GH_HTTP_RESPONSE_MAX && total <= GH_HTTP_RESPONSE_MAX, GH_ERR_TOO_LARGE);
        total += add;
    }
    GH_ENSURE(total <= GH_HTTP_RESPONSE_MAX - len, GH_ERR_TOO_LARGE);
    *head_bytes = total;
    return GH_OK;
}

static gh_err put_field(struct gh_writer *w, const char *name, const char *value)
{
    GH_GUARD(gh_writer_cstr(w, name));
    GH_GUARD(gh_writer_cstr(w, ": "));
    GH_GUARD(gh_writer_cstr(w, value));
    return gh_writer_cstr(w, "\r\n");
}

gh_err gh_http_response_build(unsigned status, const char *ct, const void *body, size_t len,
                              const struct gh_http_kv *extra, size_t n_extra, bool close,
                              bool keep_alive_10, bool head_only, struct gh_http_outq *out)
{
    size_t head_bytes;
    GH_GUARD(check_response(status, ct, body, len, extra, n_extra, &head_bytes));
    size_t cap = head_bytes + (head_only ? 0 : len);
    uint8_t *buf = malloc(cap);
    GH_ENSURE(buf != NULL, GH_ERR_NOMEM);
    struct gh_writer w;
    gh_writer_init(&w, buf, cap);
    char line[64], date[GH_HTTP_DATE_LEN], num[24];
    snprintf(line, sizeof line, "HTTP/1.1 %u %s\r\n", status, gh_http_reason(status));
    gh_http_format_date(time(NULL), date);
    snprintf(num, sizeof num, "%zu", len);
    gh_err rc = gh_writer_cstr(&w, line);
    if (rc == GH_OK) rc = put_field(&w, "Date", date);
    if (rc == GH_OK && ct != NULL) rc = put_field(&w, "Content-Type", ct);
    if (rc == GH_OK && status != 204 && status != 304) rc = put_field(&w, "Content-Length", num);
    if (rc == GH_OK && close) rc = put_field(&w, "Connection", "close");
    if (rc == GH_OK && !close && keep_alive_10) rc = put_field(&w, "Connection", "keep-alive");
    for (size_t i = 0; rc == GH_OK && i < n_extra; i++)
        rc = put_field(&w, extra[i].name, extra[i].value);
    if (rc == GH_OK) rc = gh_writer_cstr(&w, "\r\n");
    if (rc == GH_OK && !head_only && len > 0) rc = gh_writer_bytes(&w, body, len);
    if (rc != GH_OK) {
        free(buf);
        return GH_ERR_INTERNAL;
    }
    out->buf = buf;
    out->len = w.len;
    out->off = 0;
    return GH_OK;
}

gh_err gh_http_response_error(unsigned status, const char *why, bool head_only,
                              struct gh_http_outq *out)
{
    /* "ErrorCode:" + reason without spaces, as IoT Hub's error codes look. */
    char code[48], json[256];
    const char *reason = gh_http_reason(status);
    size_t k = 0;
    for (size_t i = 0; reason[i] != '\0' && k + 1 < sizeof code; i++)
        if (reason[i] != ' ') code[k++] = reason[i];
    code[k] = 0;
    int n = snprintf(json, sizeof json, "{\"Message\":\"ErrorCode:%s;%s\"}", code, why);
    if (n < 0 || (size_t)n >= sizeof json) n = snprintf(json, sizeof json, "{}");
    return gh_http_response_build(status, GH_HTTP_CONTENT_TYPE_JSON, json, (size_t)n, NULL, 0, true,
                                  false, head_only, out);
}

static void log_response(const struct gh_http_request *req, unsigned status)
{
    if (gh_log_get_level() > GH_LOG_DEBUG) return;
    char path[2 * GH_LOG_EXCERPT_MAX + 16];
    gh_log_escape(path, sizeof path, req->head.path.ptr, req->head.path.len, 0);
    gh_log_debug("http.request", "peer=%s method=%s path=%s status=%u", req->peer, req->method,
                 path, status);
}

gh_err gh_http_respond(struct gh_http_request *req, unsigned status, const char *content_type,
                       const void *body, size_t len, const struct gh_http_kv *extra, size_t n_extra)
{
    struct gh_http_hconn *hc = req->hc;
    if (hc == NULL) {
        gh_http_request_free(req);
        return GH_ERR_CLOSED;
    }
    hc->cur = NULL;
    bool close = !req->head.keep_alive;
    bool ka10 = req->head.keep_alive && req->head.minor_version == 0;
    struct gh_http_outq msg = {0};
    gh_err rc = gh_http_response_build(status, content_type, body, len, extra, n_extra, close, ka10,
                                       req->is_head, &msg);
    gh_err ret = rc;
    if (rc == GH_ERR_ARG || rc == GH_ERR_TOO_LARGE) {
        status = 500;
        rc = gh_http_response_error(500, "invalid response", req->is_head, &msg);
        close = true;
    }
    log_response(req, status);
    gh_http_request_free(req);
    if (rc != GH_OK) {
        gh_conn_abort(hc->conn);
        hc->phase = HC_CLOSING;
        return GH_ERR_NOMEM;
    }
    rc = gh_http_hconn_send(hc, &msg, close);
    return ret != GH_OK ? ret : rc;
}

gh_err gh_http_respond_json(struct gh_http_request *req, unsigned status, const char *json)
{
    return gh_http_respond(req, status, GH_HTTP_CONTENT_TYPE_JSON, json, json ? strlen(json) : 0,
                           NULL, 0);
}

void gh_http_request_release(struct gh_http_request *req)
{
    struct gh_http_hconn *hc = req->hc;
    if (hc != NULL) {
        hc->cur = NULL;
        gh_http_hconn_close(hc);
    }
    gh_http_request_free(req);
}
