/* HTTP/1.1 head parsing (see parse.h for the accepted grammar). */
#include "http/parse.h"

#include <string.h>

#include "http/http_int.h"

void gh_http_limits_default(struct gh_http_limits *l)
{
    l->max_head = GH_HTTP_HEAD_MAX_DEFAULT;
    l->max_headers = GH_HTTP_HEADERS_MAX;
    l->max_body = GH_HTTP_BODY_MAX_DEFAULT;
}

gh_err gh_http_limits_check(const struct gh_http_limits *l)
{
    GH_ENSURE(l != NULL, GH_ERR_ARG);
    GH_ENSURE(l->max_head >= GH_HTTP_HEAD_MIN && l->max_head <= GH_HTTP_HEAD_MAX_LIMIT, GH_ERR_ARG);
    GH_ENSURE(l->max_headers >= 1 && l->max_headers <= GH_HTTP_HEADERS_MAX, GH_ERR_ARG);
    GH_ENSURE(l->max_body <= GH_HTTP_BODY_MAX_LIMIT, GH_ERR_ARG);
    return GH_OK;
}

bool gh_http_fields_get(const struct gh_http_fields *f, const char *name, struct gh_slice *value)
{
    struct gh_slice n = gh_slice_cstr(name);
    for (size_t i = 0; i < f->count; i++) {
        if (gh_slice_eq_nocase(f->h[i].name, n)) {
            *value = f->h[i].value;
            return true;
        }
    }
    return false;
}

size_t gh_http_fields_count(const struct gh_http_fields *f, const char *name)
{
    struct gh_slice n = gh_slice_cstr(name);
    size_t k = 0;
    for (size_t i = 0; i < f->count; i++) k += gh_slice_eq_nocase(f->h[i].name, n);
    return k;
}

gh_err gh_http_parser_init(struct gh_http_parser *p, const struct gh_http_limits *limits)
{
    struct gh_http_limits l;
    if (limits == NULL) {
        gh_http_limits_default(&l);
    } else {
        GH_GUARD(gh_http_limits_check(limits));
        l = *limits;
    }
    memset(p, 0, sizeof *p);
    p->limits = l;
    return GH_OK;
}

void gh_http_parser_reset(struct gh_http_parser *p)
{
    struct gh_http_limits l = p->limits;
    memset(p, 0, sizeof *p);
    p->limits = l;
}

unsigned gh_http_parser_status(const struct gh_http_parser *p)
{
    return p->error == GH_OK ? 0 : p->status;
}

const char *gh_http_parser_why(const struct gh_http_parser *p)
{
    return p->error == GH_OK ? "" : p->why;
}

static gh_err fail(struct gh_http_parser *p, gh_err e, unsigned status, const char *why)
{
    p->error = e;
    p->status = status;
    p->why = why;
    return e;
}

bool gh_http_is_tchar(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

bool gh_http_is_token(struct gh_slice s)
{
    if (s.len == 0) return false;
    for (size_t i = 0; i < s.len; i++)
        if (!gh_http_is_tchar(s.ptr[i])) return false;
    return true;
}

static bool is_ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

struct gh_slice gh_http_trim_ows(struct gh_slice s)
{
    while (s.len > 0 && is_ows(s.ptr[0])) {
        s.ptr++;
        s.len--;
    }
    while (s.len > 0 && is_ows(s.ptr[s.len - 1])) s.len--;
    return s;
}

/* Take the bytes up to the first c (excluded) from r, and c itself.
 * GH_ERR_TRUNCATED (r unchanged) when c does not occur. */
static gh_err take_until(struct gh_reader *r, uint8_t c, struct gh_slice *out)
{
    struct gh_reader save = *r;
    struct gh_slice rest = gh_reader_rest(r);
    *r = save;
    const uint8_t *hit = rest.len ? memchr(rest.ptr, c, rest.len) : NULL;
    GH_ENSURE(hit != NULL, GH_ERR_TRUNCATED);
    GH_GUARD(gh_reader_bytes(r, (size_t)(hit - rest.ptr), out));
    struct gh_slice sep;
    return gh_reader_bytes(r, 1, &sep);
}

/* Next CRLF-terminated line of a scanned head (the scan guarantees that every
 * CR is followed by LF). */
static gh_err next_line(struct gh_reader *r, struct gh_slice *line)
{
    GH_GUARD(take_until(r, '\r', line));
    struct gh_slice lf;
    return gh_reader_bytes(r, 1, &lf);
}

/* "HTTP/d.d": 0 = 1.0/1.1 (*minor set), 1 = well-formed other version,
 * -1 = not an HTTP version. */
static int parse_version(struct gh_slice v, unsigned *minor)
{
    if (v.len != 8 || memcmp(v.ptr, "HTTP/", 5) != 0 || v.ptr[6] != '.') return -1;
    uint8_t maj = v.ptr[5], min = v.ptr[7];
    if (maj < '0' || maj > '9' || min < '0' || min > '9') return -1;
    if (maj != '1' || min > '1') return 1;
    *minor = (unsigned)(min - '0');
    return 0;
}

static gh_err parse_request_line(struct gh_http_parser *p, struct gh_slice line,
                                 struct gh_http_request_head *h)
{
    struct gh_reader r;
    gh_reader_init(&r, line.ptr, line.len);
    struct gh_slice method, target;
    if (take_until(&r, ' ', &method) != GH_OK || !gh_http_is_token(method))
        return fail(p, GH_ERR_MALFORMED, 400, "bad method");
    if (method.len > GH_HTTP_METHOD_MAX) return fail(p, GH_ERR_MALFORMED, 400, "method too long");
    if (take_until(&r, ' ', &target) != GH_OK || !gh_http_target_ok(target))
        return fail(p, GH_ERR_MALFORMED, 400, "bad request-target");
    int v = parse_version(gh_reader_rest(&r), &h->minor_version);
    if (v > 0) return fail(p, GH_ERR_BAD_PROTOCOL, 505, "HTTP version not supported");
    if (v < 0) return fail(p, GH_ERR_MALFORMED, 400, "bad HTTP version");
    h->method = method;
    h->target = target;
    const uint8_t *q = memchr(target.ptr, '?', target.len);
    h->path = (struct gh_slice){target.ptr, q ? (size_t)(q - target.ptr) : target.len};
    h->query = q ? (struct gh_slice){q + 1, target.len - h->path.len - 1} : GH_SLICE_EMPTY;
    return GH_OK;
}

static gh_err parse_status_line(struct gh_http_parser *p, struct gh_slice line,
                                struct gh_http_response_head *h)
{
    struct gh_reader r;
    gh_reader_init(&r, line.ptr, line.len);
    struct gh_slice version, code, sp;
    if (gh_reader_bytes(&r, 8, &version) != GH_OK)
        return fail(p, GH_ERR_MALFORMED, 400, "bad status line");
    int v = parse_version(version, &h->minor_version);
    if (v > 0) return fail(p, GH_ERR_BAD_PROTOCOL, 505, "HTTP version not supported");
    if (v < 0 || gh_reader_bytes(&r, 1, &sp) != GH_OK || sp.ptr[0] != ' ' ||
        gh_reader_bytes(&r, 3, &code) != GH_OK)
        return fail(p, GH_ERR_MALFORMED, 400, "bad status line");
    unsigned status = 0;
    for (size_t i = 0; i < 3; i++) {
        if (code.ptr[i] < '0' || code.ptr[i] > '9')
            return fail(p, GH_ERR_MALFORMED, 400, "bad status code");
        status = status * 10 + (unsigned)(code.ptr[i] - '0');
    }
    if (status < 100 || status > 599) return fail(p, GH_ERR_MALFORMED, 400, "bad status code");
    struct gh_slice reason = GH_SLICE_EMPTY;
    if (gh_reader_remaining(&r) > 0) {
        if (gh_reader_bytes(&r, 1, &sp) != GH_OK || sp.ptr[0] != ' ')
            return fail(p, GH_ERR_MALFORMED, 400, "bad status line");
        reason = gh_reader_rest(&r);
    }
    h->status = status;
    h->reason = reason;
    return GH_OK;
}

static gh_err parse_field_line(struct gh_http_parser *p, struct gh_slice line,
                               struct gh_http_fields *f)
{
    if (line.len > 0 && is_ows(line.ptr[0]))
        return fail(p, GH_ERR_MALFORMED, 400, "obs-fold in header");
    struct gh_reader r;
    gh_reader_init(&r, line.ptr, line.len);
    struct gh_slice name;
    if (take_until(&r, ':', &name) != GH_OK || !gh_http_is_token(name))
        return fail(p, GH_ERR_MALFORMED, 400, "bad header field name");
    if (f->count >= p->limits.max_headers)
        return fail(p, GH_ERR_TOO_MANY, 431, "too many header fields");
    f->h[f->count].name = name;
    f->h[f->count].value = gh_http_trim_ows(gh_reader_rest(&r));
    f->count++;
    return GH_OK;
}

/* Content-Length: 1*DIGIT. *huge set when above 19 significant digits. */
static bool parse_length(struct gh_slice s, uint64_t *out, bool *huge)
{
    if (s.len == 0) return false;
    uint64_t v = 0;
    size_t sig = 0;
    *huge = false;
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9') return false;
        if (v == 0 && s.ptr[i] == '0') continue;
        if (++sig > 19) {
            *huge = true;
            continue;
        }
        v = v * 10 + (uint64_t)(s.ptr[i] - '0');
    }
    *out = *huge ? UINT64_MAX : v;
    return true;
}

/* Does the comma-separated token list contain tok (case-insensitive)? */
bool gh_http_list_has(struct gh_slice list, const char *tok)
{
    struct gh_reader r;
    gh_reader_init(&r, list.ptr, list.len);
    struct gh_slice want = gh_slice_cstr(tok);
    while (gh_reader_remaining(&r) > 0) {
        struct gh_slice item;
        if (take_until(&r, ',', &item) != GH_OK) item = gh_reader_rest(&r);
        if (gh_slice_eq_nocase(gh_http_trim_ows(item), want)) return true;
    }
    return false;
}

/* Last element of a comma-separated list, OWS trimmed. */
static struct gh_slice list_last(struct gh_slice list)
{
    size_t i = list.len;
    while (i > 0 && list.ptr[i - 1] != ',') i--;
    return gh_http_trim_ows((struct gh_slice){list.ptr + i, list.len - i});
}

/* Framing fields shared by requests and responses. */
struct framing {
    bool have_len, huge, have_te, te_chunked_last, te_chunked_only, conn_close, conn_keep;
    uint64_t len;
};

static gh_err scan_framing(struct gh_http_parser *p, const struct gh_http_fields *f,
                           struct framing *fr)
{
    memset(fr, 0, sizeof *fr);
    size_t te_count = 0;
    for (size_t i = 0; i < f->count; i++) {
        struct gh_slice n = f->h[i].name, v = f->h[i].value;
        if (gh_slice_eq_nocase(n, gh_slice_cstr("content-length"))) {
            uint64_t x;
            bool huge;
            if (!parse_length(v, &x, &huge))
                return fail(p, GH_ERR_MALFORMED, 400, "bad Content-Length");
            if (fr->have_len && x != fr->len)
                return fail(p, GH_ERR_MALFORMED, 400, "conflicting Content-Length");
            fr->have_len = true;
            fr->huge = huge;
            fr->len = x;
        } else if (gh_slice_eq_nocase(n, gh_slice_cstr("transfer-encoding"))) {
            fr->have_te = true;
            te_count++;
            struct gh_slice last = list_last(v);
            fr->te_chunked_last = gh_slice_eq_nocase(last, gh_slice_cstr("chunked"));
            fr->te_chunked_only = te_count == 1 && fr->te_chunked_last && last.ptr == v.ptr;
        } else if (gh_slice_eq_nocase(n, gh_slice_cstr("connection"))) {
            fr->conn_close |= gh_http_list_has(v, "close");
            fr->conn_keep |= gh_http_list_has(v, "keep-alive");
        }
    }
    return GH_OK;
}

static bool keep_alive(unsigned minor, const struct framing *fr)
{
    if (fr->conn_close) return false;
    return minor >= 1 || fr->conn_keep;
}

static gh_err finish_request(struct gh_http_parser *p, struct gh_http_request_head *h)
{
    struct framing fr;
    GH_GUARD(scan_framing(p, &h->fields, &fr));
    size_t hosts = gh_http_fields_count(&h->fields, "host");
    struct gh_slice host;
    if (hosts > 1 || (hosts == 0 && h->minor_version >= 1))
        return fail(p, GH_ERR_MALFORMED, 400, "missing or repeated Host");
    if (hosts == 1 && gh_http_fields_get(&h->fields, "host", &host)) {
        for (size_t i = 0; i < host.len; i++)
            if (is_ows(host.ptr[i])) return fail(p, GH_ERR_MALFORMED, 400, "bad Host");
    }
    if (fr.have_te) {
        if (fr.te_chunked_last)
            return fail(p, GH_ERR_UNSUPPORTED, 411, "chunked request body: send Content-Length");
        return fail(p, GH_ERR_UNSUPPORTED, 501, "transfer coding not implemented");
    }
    if (fr.have_len && (fr.huge || fr.len > p->limits.max_body))
        return fail(p, GH_ERR_TOO_LARGE, 413, "request body too large");
    struct gh_slice expect;
    h->expect_continue = false;
    if (gh_http_fields_get(&h->fields, "expect", &expect) && h->minor_version >= 1) {
        if (gh_http_fields_count(&h->fields, "expect") != 1 ||
            !gh_slice_eq_nocase(expect, gh_slice_cstr("100-continue")))
            return fail(p, GH_ERR_UNSUPPORTED, 417, "expectation not supported");
        h->expect_continue = fr.have_len && fr.len > 0;
    }
    h->body_len = fr.have_len ? (size_t)fr.len : 0;
    h->keep_alive = keep_alive(h->minor_version, &fr);
    return GH_OK;
}

static gh_err finish_response(struct gh_http_parser *p, bool head_request,
                              struct gh_http_response_head *h)
{
    struct framing fr;
    GH_GUARD(scan_framing(p, &h->fields, &fr));
    h->keep_alive = keep_alive(h->minor_version, &fr);
    h->body_len = 0;
    if (head_request || h->status < 200 || h->status == 204 || h->status == 304) {
        h->body_kind = GH_HTTP_BODY_NONE;
    } else if (fr.have_te) {
        if (fr.have_len)
            return fail(p, GH_ERR_MALFORMED, 400, "Transfer-Encoding with Content-Length");
        if (!fr.te_chunked_only)
            return fail(p, GH_ERR_UNSUPPORTED, 501, "transfer coding not implemented");
        h->body_kind = GH_HTTP_BODY_CHUNKED;
    } else if (fr.have_len) {
        if (fr.huge || fr.len > p->limits.max_body)
            return fail(p, GH_ERR_TOO_LARGE, 413, "response body too large");
        h->body_kind = GH_HTTP_BODY_LENGTH;
        h->body_len = (size_t)fr.len;
    } else {
        h->body_kind = GH_HTTP_BODY_UNTIL_CLOSE;
        h->keep_alive = false;
    }
    return GH_OK;
}

/* Validate the first line as soon as it is complete, so a bad version or
 * method fails before the rest of the head arrives. */
static gh_err check_first_line(struct gh_http_parser *p, struct gh_slice line, bool response)
{
    if (response) {
        struct gh_http_response_head tmp;
        return parse_status_line(p, line, &tmp);
    }
    struct gh_http_request_head tmp;
    return parse_request_line(p, line, &tmp);
}

/* Scan new bytes for control characters, bare CR/LF and the empty line that
 * ends the head. *end receives the head length when it is complete, else 0. */
static gh_err scan(struct gh_http_parser *p, const uint8_t *data, size_t len, bool response,
                   size_t *end)
{
    struct gh_reader r;
    struct gh_slice skip;
    gh_reader_init(&r, data, len);
    if (gh_reader_bytes(&r, p->scanned, &skip) != GH_OK) return GH_ERR_ARG;
    *end = 0;
    uint8_t b;
    while (gh_reader_u8(&r, &b) == GH_OK) {
        size_t pos = r.pos;
        p->scanned = pos;
        if (p->prev_cr) {
            p->prev_cr = false;
            if (b != '\n') return fail(p, GH_ERR_MALFORMED, 400, "bare CR in head");
            if (p->line_len == 0) {
                if (p->lines > 0) {
                    *end = pos;
                    return GH_OK;
                }
                p->start = pos; /* leading empty line */
            } else {
                p->lines++;
                p->line_len = 0;
                if (!p->first_checked) {
                    p->first_checked = true;
                    struct gh_slice line = {data + p->start, pos - 2 - p->start};
                    GH_GUARD(check_first_line(p, line, response));
                }
            }
        } else if (b == '\r') {
            p->prev_cr = true;
        } else if (b == '\n') {
            return fail(p, GH_ERR_MALFORMED, 400, "bare LF in head");
        } else if ((b < 0x20 && b != '\t') || b == 0x7f) {
            return fail(p, GH_ERR_MALFORMED, 400, "control character in head");
        } else {
            p->line_len++;
        }
        if (pos >= p->limits.max_head) return fail(p, GH_ERR_TOO_LARGE, 431, "head too large");
    }
    return GH_OK;
}

/* Shared driver: scan, then parse every line of a complete head. */
static gh_err parse_head(struct gh_http_parser *p, const uint8_t *data, size_t len, bool response,
                         struct gh_slice *first, struct gh_reader *fields, size_t *end)
{
    GH_ENSURE(data != NULL || len == 0, GH_ERR_ARG);
    GH_ENSURE(len >= p->scanned, GH_ERR_ARG);
    if (p->error != GH_OK) return p->error;
    if (p->end == 0) GH_GUARD(scan(p, data, len, response, &p->end));
    *end = p->end;
    if (*end == 0) return GH_OK;
    /* The head without its final CRLF: lines each ending in CRLF. */
    gh_reader_init(fields, data + p->start, *end - 2 - p->start);
    if (next_line(fields, first) != GH_OK) return fail(p, GH_ERR_INTERNAL, 500, "scan mismatch");
    return GH_OK;
}

static gh_err parse_fields(struct gh_http_parser *p, struct gh_reader *r, struct gh_http_fields *f)
{
    f->count = 0;
    struct gh_slice line;
    while (gh_reader_remaining(r) > 0) {
        if (next_line(r, &line) != GH_OK) return fail(p, GH_ERR_INTERNAL, 500, "scan mismatch");
        GH_GUARD(parse_field_line(p, line, f));
    }
    return GH_OK;
}

gh_err gh_http_parse_request(struct gh_http_parser *p, const uint8_t *data, size_t len,
                             enum gh_http_parse_status *st, struct gh_http_request_head *head)
{
    struct gh_slice first;
    struct gh_reader r;
    size_t end;
    GH_GUARD(parse_head(p, data, len, false, &first, &r, &end));
    if (end == 0) {
        *st = GH_HTTP_NEED_MORE;
        return GH_OK;
    }
    struct gh_http_request_head h;
    memset(&h, 0, sizeof h);
    GH_GUARD(parse_request_line(p, first, &h));
    GH_GUARD(parse_fields(p, &r, &h.fields));
    GH_GUARD(finish_request(p, &h));
    h.head_len = end;
    *head = h;
    *st = GH_HTTP_COMPLETE;
    return GH_OK;
}

gh_err gh_http_parse_response(struct gh_http_parser *p, const uint8_t *data, size_t len,
                              bool head_request, enum gh_http_parse_status *st,
                              struct gh_http_response_head *head)
{
    struct gh_slice first;
    struct gh_reader r;
    size_t end;
    GH_GUARD(parse_head(p, data, len, true, &first, &r, &end));
    if (end == 0) {
        *st = GH_HTTP_NEED_MORE;
        return GH_OK;
    }
    struct gh_http_response_head h;
    memset(&h, 0, sizeof h);
    GH_GUARD(parse_status_line(p, first, &h));
    GH_GUARD(parse_fields(p, &r, &h.fields));
    GH_GUARD(finish_response(p, head_request, &h));
    h.head_len = end;
    *head = h;
    *st = GH_HTTP_COMPLETE;
    return GH_OK;
}
