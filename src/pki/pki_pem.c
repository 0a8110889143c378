#include "pki/pki_pem.h"

#include <string.h>

#include "common/encoding.h"

static const char begin_mark[] = "-----BEGIN ";
static const char end_mark[] = "-----END ";
static const char dashes[] = "-----";

/* Next line without its "\n" or "\r\n"; false at end of input. */
static bool next_line(struct gh_reader *r, struct gh_slice *line)
{
    size_t left = gh_reader_remaining(r);
    if (left == 0) return false;
    const uint8_t *p = r->data + r->pos;
    const uint8_t *nl = memchr(p, '\n', left);
    size_t n = nl ? (size_t)(nl - p) + 1 : left;
    struct gh_slice s;
    if (gh_reader_bytes(r, n, &s) != GH_OK) return false;
    if (s.len > 0 && s.ptr[s.len - 1] == '\n') s.len--;
    if (s.len > 0 && s.ptr[s.len - 1] == '\r') s.len--;
    *line = s;
    return true;
}

static bool starts_with(struct gh_slice s, const char *prefix, size_t n)
{
    return s.len >= n && memcmp(s.ptr, prefix, n) == 0;
}

static bool ends_with_dashes(struct gh_slice s)
{
    size_t n = sizeof dashes - 1;
    return s.len >= n && memcmp(s.ptr + s.len - n, dashes, n) == 0;
}

/* Label between a marker and the closing dashes; RFC 7468 labelchar rules,
 * loosened to allow any printable ASCII inside. */
static gh_err boundary_label(struct gh_slice line, size_t marker_len, struct gh_slice *label)
{
    size_t tail = sizeof dashes - 1;
    GH_ENSURE(line.len >= marker_len + tail, GH_ERR_MALFORMED);
    size_t n = line.len - marker_len - tail;
    GH_ENSURE(n > 0 && n <= GH_PKI_PEM_LABEL_MAX, GH_ERR_MALFORMED);
    const uint8_t *p = line.ptr + marker_len;
    for (size_t i = 0; i < n; i++) GH_ENSURE(p[i] >= 0x20 && p[i] <= 0x7e, GH_ERR_MALFORMED);
    GH_ENSURE(p[0] != ' ' && p[0] != '-' && p[n - 1] != ' ' && p[n - 1] != '-', GH_ERR_MALFORMED);
    *label = (struct gh_slice){p, n};
    return GH_OK;
}

static bool is_b64_char(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/' || c == '=';
}

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool body_line_ok(struct gh_slice line)
{
    for (size_t i = 0; i < line.len; i++)
        if (!is_b64_char(line.ptr[i]) && !is_space(line.ptr[i])) return false;
    return true;
}

static bool has_colon(struct gh_slice line)
{
    return memchr(line.ptr, ':', line.len) != NULL;
}

/* Parse from just after the BEGIN line to the END line. */
static gh_err block_rest(struct gh_reader *r, const uint8_t *start, struct gh_pki_pem_block *b)
{
    struct gh_slice line;
    size_t mark = sizeof end_mark - 1;
    bool first = true, in_headers = false;
    const uint8_t *headers_start = NULL, *body_start = r->data + r->pos;
    b->headers = GH_SLICE_EMPTY;
    for (;;) {
        const uint8_t *line_start = r->data + r->pos;
        if (!next_line(r, &line)) return GH_ERR_TRUNCATED;
        GH_ENSURE(line.len <= GH_PKI_PEM_LINE_MAX, GH_ERR_MALFORMED);
        if (starts_with(line, end_mark, mark)) {
            GH_ENSURE(ends_with_dashes(line), GH_ERR_MALFORMED);
            struct gh_slice end_label;
            GH_GUARD(boundary_label(line, mark, &end_label));
            GH_ENSURE(gh_slice_eq(end_label, b->label), GH_ERR_MALFORMED);
            GH_ENSURE(!in_headers, GH_ERR_MALFORMED);
            b->body = (struct gh_slice){body_start, (size_t)(line_start - body_start)};
            b->whole = (struct gh_slice){start, (size_t)(line.ptr + line.len - start)};
            return GH_OK;
        }
        if (first && has_colon(line)) {
            in_headers = true;
            headers_start = line_start;
        }
        first = false;
        if (in_headers) {
            if (line.len == 0) {
                in_headers = false;
                b->headers = (struct gh_slice){headers_start, (size_t)(line_start - headers_start)};
                body_start = r->data + r->pos;
            }
            continue;
        }
        GH_ENSURE(body_line_ok(line), GH_ERR_MALFORMED);
    }
}

gh_err gh_pki_pem_next(struct gh_reader *r, struct gh_pki_pem_block *out)
{
    size_t saved = r->pos;
    struct gh_slice line;
    size_t mark = sizeof begin_mark - 1;
    for (;;) {
        const uint8_t *start = r->data + r->pos;
        if (!next_line(r, &line)) return GH_ERR_NOT_FOUND;
        if (!starts_with(line, begin_mark, mark) || !ends_with_dashes(line)) continue;
        struct gh_pki_pem_block b;
        gh_err rc = boundary_label(line, mark, &b.label);
        if (rc == GH_OK) rc = block_rest(r, start, &b);
        if (rc != GH_OK) {
            r->pos = saved;
            return rc;
        }
        *out = b;
        return GH_OK;
    }
}

gh_err gh_pki_pem_decode_body(struct gh_slice body, struct gh_writer *w)
{
    char quad[4];
    size_t k = 0;
    bool ended = false;
    for (size_t i = 0; i < body.len; i++) {
        uint8_t c = body.ptr[i];
        if (is_space(c)) continue;
        GH_ENSURE(!ended, GH_ERR_BAD_BASE64);
        quad[k++] = (char)c;
        if (k < 4) continue;
        GH_GUARD(gh_base64_decode(quad, 4, w));
        ended = quad[3] == '=';
        k = 0;
    }
    if (k > 0) GH_GUARD(gh_base64_decode(quad, k, w));
    return GH_OK;
}

static bool label_is(const struct gh_pki_pem_block *b, const char *s)
{
    return gh_slice_eq_cstr(b->label, s);
}

bool gh_pki_pem_is_private_key(const struct gh_pki_pem_block *b)
{
    static const char suffix[] = "PRIVATE KEY";
    size_t n = sizeof suffix - 1;
    return b->label.len >= n && memcmp(b->label.ptr + b->label.len - n, suffix, n) == 0;
}

bool gh_pki_pem_is_encrypted_key(const struct gh_pki_pem_block *b)
{
    if (label_is(b, "ENCRYPTED PRIVATE KEY")) return true;
    if (!gh_pki_pem_is_private_key(b)) return false;
    /* RFC 1421 header of traditional OpenSSL encrypted keys. */
    static const char proc[] = "Proc-Type: 4,ENCRYPTED";
    size_t n = sizeof proc - 1;
    const struct gh_slice h = b->headers;
    for (size_t i = 0; h.len >= n && i <= h.len - n; i++)
        if (memcmp(h.ptr + i, proc, n) == 0) return true;
    return false;
}
