/* Incremental decoder of chunked bodies (RFC 9112 7.1). */
#include <string.h>

#include "http/http_int.h"
#include "http/parse.h"

enum {
    S_SIZE_FIRST, /* first hex digit of a chunk size */
    S_SIZE,       /* more hex digits, ';' / OWS, or CR */
    S_BWS,        /* OWS after the size: more OWS, ';' or CR */
    S_EXT,        /* chunk extension, up to CR */
    S_SIZE_LF,
    S_DATA,
    S_DATA_CR,
    S_DATA_LF,
    S_TRAILER_START, /* start of a trailer line or the final CRLF */
    S_TRAILER,       /* inside a trailer line, up to CR */
    S_TRAILER_LF,
    S_END_LF,
    S_DONE,
};

void gh_http_chunked_init(struct gh_http_chunked *c, size_t max_body, size_t max_trailer)
{
    memset(c, 0, sizeof *c);
    c->max_body = max_body;
    c->max_trailer = max_trailer;
    c->state = S_SIZE_FIRST;
}

static gh_err fail(struct gh_http_chunked *c, gh_err e)
{
    c->error = e;
    return e;
}

static int hexval(uint8_t b)
{
    if (b >= '0' && b <= '9') return b - '0';
    if (b >= 'a' && b <= 'f') return b - 'a' + 10;
    if (b >= 'A' && b <= 'F') return b - 'A' + 10;
    return -1;
}

static bool is_ctl(uint8_t b)
{
    return (b < 0x20 && b != '\t') || b == 0x7f;
}

/* One byte of a size line: 1*HEXDIG [BWS ";" ext] CR. */
static gh_err size_byte(struct gh_http_chunked *c, uint8_t b)
{
    if (++c->line_len > GH_HTTP_CHUNK_LINE_MAX) return fail(c, GH_ERR_TOO_LARGE);
    if (c->state == S_EXT) {
        if (b == '\r') c->state = S_SIZE_LF;
        return is_ctl(b) && b != '\r' ? fail(c, GH_ERR_MALFORMED) : GH_OK;
    }
    if (c->state != S_SIZE_FIRST && (b == '\r' || b == ';' || b == ' ' || b == '\t')) {
        c->state = b == '\r' ? S_SIZE_LF : b == ';' ? S_EXT : S_BWS;
        return GH_OK;
    }
    int d = hexval(b);
    if (d < 0 || c->state == S_BWS) return fail(c, GH_ERR_MALFORMED);
    c->state = S_SIZE;
    size_t limit = c->max_body - c->total;
    if ((size_t)d > limit || c->remaining > (limit - (size_t)d) / 16)
        return fail(c, GH_ERR_TOO_LARGE);
    c->remaining = c->remaining * 16 + (size_t)d;
    return GH_OK;
}

static gh_err trailer_byte(struct gh_http_chunked *c, uint8_t b)
{
    if (++c->trailer > c->max_trailer) return fail(c, GH_ERR_TOO_LARGE);
    switch (c->state) {
    case S_TRAILER_START:
        c->state = b == '\r' ? S_END_LF : S_TRAILER;
        if (b == '\r') return GH_OK;
        return is_ctl(b) ? fail(c, GH_ERR_MALFORMED) : GH_OK;
    case S_TRAILER:
        if (b == '\r') {
            c->state = S_TRAILER_LF;
            return GH_OK;
        }
        return is_ctl(b) ? fail(c, GH_ERR_MALFORMED) : GH_OK;
    case S_TRAILER_LF:
        if (b != '\n') return fail(c, GH_ERR_MALFORMED);
        c->state = S_TRAILER_START;
        return GH_OK;
    default: /* S_END_LF */
        if (b != '\n') return fail(c, GH_ERR_MALFORMED);
        c->state = S_DONE;
        return GH_OK;
    }
}

static gh_err step(struct gh_http_chunked *c, uint8_t b)
{
    switch (c->state) {
    case S_SIZE_FIRST:
    case S_SIZE:
    case S_BWS:
    case S_EXT:
        return size_byte(c, b);
    case S_SIZE_LF:
        if (b != '\n') return fail(c, GH_ERR_MALFORMED);
        c->line_len = 0;
        c->state = c->remaining == 0 ? S_TRAILER_START : S_DATA;
        return GH_OK;
    case S_DATA_CR:
        if (b != '\r') return fail(c, GH_ERR_MALFORMED);
        c->state = S_DATA_LF;
        return GH_OK;
    case S_DATA_LF:
        if (b != '\n') return fail(c, GH_ERR_MALFORMED);
        c->state = S_SIZE_FIRST;
        return GH_OK;
    default:
        return trailer_byte(c, b);
    }
}

gh_err gh_http_chunked_feed(struct gh_http_chunked *c, const uint8_t *data, size_t len,
                            size_t *consumed, struct gh_slice *out, bool *done)
{
    GH_ENSURE(data != NULL || len == 0, GH_ERR_ARG);
    if (c->error != GH_OK) return c->error;
    GH_ENSURE(c->state != S_DONE, GH_ERR_ARG);
    struct gh_reader r;
    gh_reader_init(&r, data, len);
    struct gh_slice run = GH_SLICE_EMPTY;
    while (c->state != S_DONE && gh_reader_remaining(&r) > 0) {
        if (c->state == S_DATA) {
            size_t n = gh_reader_remaining(&r);
            if (n > c->remaining) n = c->remaining;
            GH_GUARD(gh_reader_bytes(&r, n, &run));
            c->remaining -= n;
            c->total += n;
            if (c->remaining == 0) c->state = S_DATA_CR;
            break;
        }
        uint8_t b;
        GH_GUARD(gh_reader_u8(&r, &b));
        GH_GUARD(step(c, b));
    }
    *consumed = r.pos;
    *out = run;
    *done = c->state == S_DONE;
    return GH_OK;
}
