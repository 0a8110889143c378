/* Request-target helpers: path segments, percent-decoding, query lookup. */
#include <string.h>

#include "common/encoding.h"
#include "http/http_int.h"
#include "http/parse.h"

gh_err gh_http_path_split(struct gh_slice path, struct gh_slice *segs, size_t cap, size_t *count)
{
    GH_ENSURE(path.len > 0 && path.ptr[0] == '/', GH_ERR_MALFORMED);
    size_t n = 1;
    for (size_t i = 1; i < path.len; i++) n += path.ptr[i] == '/';
    GH_ENSURE(n <= cap, GH_ERR_TOO_MANY);
    n = 0;
    size_t start = 1;
    for (size_t i = 1; i <= path.len; i++) {
        if (i < path.len && path.ptr[i] != '/') continue;
        segs[n++] = (struct gh_slice){path.ptr + start, i - start};
        start = i + 1;
    }
    *count = n;
    return GH_OK;
}

gh_err gh_http_pct_decode(struct gh_slice raw, struct gh_writer *w)
{
    size_t mark = w->len;
    GH_GUARD(gh_pct_decode((const char *)raw.ptr, raw.len, w));
    if (memchr(w->data + mark, '\0', w->len - mark) != NULL) {
        w->len = mark;
        return GH_ERR_MALFORMED;
    }
    return gh_writer_terminate(w);
}

bool gh_http_query_next(struct gh_reader *r, struct gh_slice *name, struct gh_slice *value)
{
    while (gh_reader_remaining(r) > 0) {
        struct gh_reader peek = *r;
        struct gh_slice rest = gh_reader_rest(&peek);
        const uint8_t *amp = memchr(rest.ptr, '&', rest.len);
        size_t n = amp ? (size_t)(amp - rest.ptr) : rest.len;
        struct gh_slice pair, sep;
        if (gh_reader_bytes(r, n, &pair) != GH_OK) return false;
        if (amp && gh_reader_bytes(r, 1, &sep) != GH_OK) return false;
        if (pair.len == 0) continue;
        const uint8_t *eq = memchr(pair.ptr, '=', pair.len);
        if (eq) {
            *name = (struct gh_slice){pair.ptr, (size_t)(eq - pair.ptr)};
            *value = (struct gh_slice){eq + 1, pair.len - name->len - 1};
        } else {
            *name = pair;
            *value = (struct gh_slice){pair.ptr + pair.len, 0};
        }
        return true;
    }
    return false;
}

static int hexval(uint8_t b)
{
    if (b >= '0' && b <= '9') return b - '0';
    if (b >= 'a' && b <= 'f') return b - 'a' + 10;
    if (b >= 'A' && b <= 'F') return b - 'A' + 10;
    return -1;
}

static uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* Does raw, percent-decoded as gh_pct_decode does, equal want (ASCII
 * case-insensitive)? */
static bool decoded_eq_nocase(struct gh_slice raw, const char *want)
{
    size_t k = 0, wl = strlen(want);
    for (size_t i = 0; i < raw.len; i++) {
        uint8_t c = raw.ptr[i];
        if (c == '%' && raw.len - i > 2) {
            int hi = hexval(raw.ptr[i + 1]), lo = hexval(raw.ptr[i + 2]);
            if (hi >= 0 && lo >= 0) {
                c = (uint8_t)(hi << 4 | lo);
                i += 2;
            }
        }
        if (k >= wl || lower(c) != lower((uint8_t)want[k])) return false;
        k++;
    }
    return k == wl;
}

gh_err gh_http_query_get(struct gh_slice query, const char *name, struct gh_slice *value)
{
    struct gh_reader r;
    gh_reader_init(&r, query.ptr, query.len);
    struct gh_slice n, v;
    while (gh_http_query_next(&r, &n, &v)) {
        if (decoded_eq_nocase(n, name)) {
            *value = v;
            return GH_OK;
        }
    }
    return GH_ERR_NOT_FOUND;
}
