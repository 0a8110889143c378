#include "common/buf.h"

#include <string.h>

#define VARINT_MAX 268435455u

struct gh_slice gh_slice_cstr(const char *s)
{
    return (struct gh_slice){(const uint8_t *)s, s ? strlen(s) : 0};
}

bool gh_slice_eq(struct gh_slice a, struct gh_slice b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool gh_slice_eq_cstr(struct gh_slice a, const char *s)
{
    return gh_slice_eq(a, gh_slice_cstr(s));
}

static uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

bool gh_slice_eq_nocase(struct gh_slice a, struct gh_slice b)
{
    if (a.len != b.len) return false;
    for (size_t i = 0; i < a.len; i++)
        if (lower(a.ptr[i]) != lower(b.ptr[i])) return false;
    return true;
}

bool gh_slice_starts_with(struct gh_slice a, const char *prefix)
{
    size_t n = strlen(prefix);
    return n <= a.len && memcmp(a.ptr, prefix, n) == 0;
}

gh_err gh_slice_to_cstr(struct gh_slice s, char *out, size_t cap)
{
    GH_ENSURE(cap > 0 && s.len <= cap - 1, GH_ERR_NOBUFS);
    GH_ENSURE(s.len == 0 || memchr(s.ptr, 0, s.len) == NULL, GH_ERR_MALFORMED);
    if (s.len) memcpy(out, s.ptr, s.len);
    out[s.len] = '\0';
    return GH_OK;
}

void gh_reader_init(struct gh_reader *r, const void *data, size_t len)
{
    r->data = data;
    r->len = data ? len : 0;
    r->pos = 0;
}

size_t gh_reader_remaining(const struct gh_reader *r)
{
    return r->len - r->pos;
}

gh_err gh_reader_bytes(struct gh_reader *r, size_t n, struct gh_slice *out)
{
    GH_ENSURE(n <= r->len - r->pos, GH_ERR_TRUNCATED);
    out->ptr = r->data ? r->data + r->pos : NULL;
    out->len = n;
    r->pos += n;
    return GH_OK;
}

struct gh_slice gh_reader_rest(struct gh_reader *r)
{
    struct gh_slice s = {r->data ? r->data + r->pos : NULL, r->len - r->pos};
    r->pos = r->len;
    return s;
}

bool gh_reader_split(struct gh_reader *r, uint8_t delim, struct gh_slice *tok)
{
    size_t left = r->len - r->pos;
    const uint8_t *start = r->data ? r->data + r->pos : NULL;
    const uint8_t *hit = left ? memchr(start, delim, left) : NULL;
    size_t n = hit ? (size_t)(hit - start) : left;
    *tok = (struct gh_slice){start, n};
    r->pos += n + (hit ? 1 : 0);
    return hit != NULL;
}

gh_err gh_reader_u8(struct gh_reader *r, uint8_t *out)
{
    GH_ENSURE(1 <= r->len - r->pos, GH_ERR_TRUNCATED);
    *out = r->data[r->pos++];
    return GH_OK;
}

gh_err gh_reader_u16be(struct gh_reader *r, uint16_t *out)
{
    GH_ENSURE(2 <= r->len - r->pos, GH_ERR_TRUNCATED);
    const uint8_t *p = r->data + r->pos;
    *out = (uint16_t)((p[0] << 8) | p[1]);
    r->pos += 2;
    return GH_OK;
}

gh_err gh_reader_u32be(struct gh_reader *r, uint32_t *out)
{
    GH_ENSURE(4 <= r->len - r->pos, GH_ERR_TRUNCATED);
    const uint8_t *p = r->data + r->pos;
    *out = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
    r->pos += 4;
    return GH_OK;
}

gh_err gh_reader_varint(struct gh_reader *r, uint32_t *out)
{
    uint32_t value = 0;
    size_t pos = r->pos;
    for (unsigned i = 0; i < 4; i++) {
        GH_ENSURE(pos < r->len, GH_ERR_TRUNCATED);
        uint8_t b = r->data[pos++];
        value |= (uint32_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = value;
            r->pos = pos;
            return GH_OK;
        }
    }
    return GH_ERR_BAD_VARINT;
}

gh_err gh_reader_mqtt_binary(struct gh_reader *r, struct gh_slice *out)
{
    size_t start = r->pos;
    uint16_t n;
    GH_GUARD(gh_reader_u16be(r, &n));
    gh_err rc = gh_reader_bytes(r, n, out);
    if (rc != GH_OK) r->pos = start;
    return rc;
}

gh_err gh_reader_mqtt_string(struct gh_reader *r, struct gh_slice *out)
{
    size_t start = r->pos;
    struct gh_slice s;
    GH_GUARD(gh_reader_mqtt_binary(r, &s));
    if (!gh_utf8_valid_mqtt(s.ptr, s.len)) {
        r->pos = start;
        return GH_ERR_BAD_UTF8;
    }
    *out = s;
    return GH_OK;
}

static bool utf8_valid(const uint8_t *s, size_t n, bool forbid_nul)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            if (c == 0 && forbid_nul) return false;
            i++;
            continue;
        }
        size_t need;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) {
            need = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            need = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            need = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (need > n - i - 1) return false;
        for (size_t k = 1; k <= need; k++) {
            uint8_t cc = s[i + k];
            if ((cc & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += need + 1;
    }
    return true;
}

bool gh_utf8_valid(const uint8_t *s, size_t n)
{
    return utf8_valid(s, n, false);
}

bool gh_utf8_valid_mqtt(const uint8_t *s, size_t n)
{
    return utf8_valid(s, n, true);
}

void gh_writer_init(struct gh_writer *w, void *data, size_t cap)
{
    w->data = data;
    w->cap = data ? cap : 0;
    w->len = 0;
}

size_t gh_writer_space(const struct gh_writer *w)
{
    return w->cap - w->len;
}

struct gh_slice gh_writer_slice(const struct gh_writer *w)
{
    return (struct gh_slice){w->data, w->len};
}

gh_err gh_writer_bytes(struct gh_writer *w, const void *p, size_t n)
{
    GH_ENSURE(n <= w->cap - w->len, GH_ERR_NOBUFS);
    if (n) memcpy(w->data + w->len, p, n);
    w->len += n;
    return GH_OK;
}

gh_err gh_writer_cstr(struct gh_writer *w, const char *s)
{
    return gh_writer_bytes(w, s, strlen(s));
}

gh_err gh_writer_u8(struct gh_writer *w, uint8_t v)
{
    return gh_writer_bytes(w, &v, 1);
}

gh_err gh_writer_u16be(struct gh_writer *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    return gh_writer_bytes(w, b, 2);
}

gh_err gh_writer_u32be(struct gh_writer *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    return gh_writer_bytes(w, b, 4);
}

size_t gh_varint_size(uint32_t v)
{
    if (v < 128u) return 1;
    if (v < 16384u) return 2;
    if (v < 2097152u) return 3;
    if (v <= VARINT_MAX) return 4;
    return 0;
}

gh_err gh_writer_varint(struct gh_writer *w, uint32_t v)
{
    GH_ENSURE(v <= VARINT_MAX, GH_ERR_TOO_LARGE);
    uint8_t b[4];
    size_t n = 0;
    do {
        uint8_t d = v & 0x7f;
        v >>= 7;
        b[n++] = (uint8_t)(v ? (d | 0x80) : d);
    } while (v);
    return gh_writer_bytes(w, b, n);
}

gh_err gh_writer_mqtt_binary(struct gh_writer *w, struct gh_slice s)
{
    GH_ENSURE(s.len <= 65535, GH_ERR_TOO_LARGE);
    GH_ENSURE(s.len <= w->cap - w->len && 2 <= w->cap - w->len - s.len, GH_ERR_NOBUFS);
    GH_GUARD(gh_writer_u16be(w, (uint16_t)s.len));
    return gh_writer_bytes(w, s.ptr, s.len);
}

gh_err gh_writer_reserve(struct gh_writer *w, size_t n, size_t *mark)
{
    GH_ENSURE(n <= w->cap - w->len, GH_ERR_NOBUFS);
    memset(w->data + w->len, 0, n);
    *mark = w->len;
    w->len += n;
    return GH_OK;
}

gh_err gh_writer_patch_u16be(struct gh_writer *w, size_t mark, uint16_t v)
{
    GH_ENSURE(mark <= w->len && 2 <= w->len - mark, GH_ERR_INTERNAL);
    w->data[mark] = (uint8_t)(v >> 8);
    w->data[mark + 1] = (uint8_t)v;
    return GH_OK;
}

gh_err gh_writer_terminate(struct gh_writer *w)
{
    GH_ENSURE(1 <= w->cap - w->len, GH_ERR_NOBUFS);
    w->data[w->len] = '\0';
    return GH_OK;
}
