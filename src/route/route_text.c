/* UTF-8 / UTF-16 helpers for the route language: the string functions count
 * and index in UTF-16 code units and compare in UTF-16 code-unit order, as
 * the .NET implementation of edgeHub does (PROTOCOL.md 7.4, 7.6). */
#include "route/route_int.h"

#define INVALID_BASE 0x110000u

uint32_t gh_route_utf8_next(const uint8_t *s, size_t n, size_t *i)
{
    size_t p = *i;
    uint8_t c = s[p];
    uint32_t cp;
    size_t need;
    uint32_t min;
    if (c < 0x80) {
        *i = p + 1;
        return c;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        cp = c & 0x1Fu;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        cp = c & 0x0Fu;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        cp = c & 0x07u;
        min = 0x10000;
    } else {
        goto bad;
    }
    if (need > n - p - 1) goto bad;
    for (size_t k = 1; k <= need; k++) {
        uint8_t d = s[p + k];
        if ((d & 0xC0u) != 0x80u) goto bad;
        cp = (cp << 6) | (d & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFFu || (cp >= 0xD800u && cp <= 0xDFFFu)) goto bad;
    *i = p + need + 1;
    return cp;
bad:
    *i = p + 1;
    return INVALID_BASE + c;
}

size_t gh_route_utf8_put(uint32_t cp, uint8_t *out)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0u | (cp >> 6));
        out[1] = (uint8_t)(0x80u | (cp & 0x3Fu));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0u | (cp >> 12));
        out[1] = (uint8_t)(0x80u | ((cp >> 6) & 0x3Fu));
        out[2] = (uint8_t)(0x80u | (cp & 0x3Fu));
        return 3;
    }
    out[0] = (uint8_t)(0xF0u | (cp >> 18));
    out[1] = (uint8_t)(0x80u | ((cp >> 12) & 0x3Fu));
    out[2] = (uint8_t)(0x80u | ((cp >> 6) & 0x3Fu));
    out[3] = (uint8_t)(0x80u | (cp & 0x3Fu));
    return 4;
}

static size_t units(uint32_t cp)
{
    return (cp >= 0x10000u && cp < INVALID_BASE) ? 2 : 1;
}

size_t gh_route_utf16_len(const uint8_t *s, size_t n)
{
    size_t i = 0, u = 0;
    while (i < n) u += units(gh_route_utf8_next(s, n, &i));
    return u;
}

bool gh_route_utf16_offset(const uint8_t *s, size_t n, size_t u, size_t *off)
{
    size_t i = 0, at = 0;
    while (at < u) {
        if (i >= n) return false;
        at += units(gh_route_utf8_next(s, n, &i));
    }
    if (at != u) return false; /* inside a surrogate pair */
    *off = i;
    return true;
}

/* Sort key of a code point's first UTF-16 unit. Supplementary characters
 * start with a high surrogate (0xD800..0xDBFF), which sorts below
 * U+E000..U+FFFF; invalid bytes sort after everything. */
static uint32_t first_unit(uint32_t cp)
{
    if (cp >= INVALID_BASE) return cp;
    if (cp >= 0x10000u) return 0xD800u + ((cp - 0x10000u) >> 10);
    return cp;
}

int gh_route_str_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    size_t i = 0, j = 0;
    while (i < an && j < bn) {
        uint32_t ca = gh_route_utf8_next(a, an, &i);
        uint32_t cb = gh_route_utf8_next(b, bn, &j);
        if (ca == cb) continue;
        uint32_t ka = first_unit(ca), kb = first_unit(cb);
        if (ka != kb) return ka < kb ? -1 : 1;
        /* Same high surrogate: the full code points order like the pairs. */
        return ca < cb ? -1 : 1;
    }
    if (i < an) return 1;
    if (j < bn) return -1;
    return 0;
}
