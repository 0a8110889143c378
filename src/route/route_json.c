/* Body queries without allocation: a bounded JSON scanner over the raw body
 * bytes (PROTOCOL.md 7.5). Every read is checked against the end of the
 * body; recursion is bounded by GH_ROUTE_JSON_DEPTH_MAX. */
#include <stdlib.h>
#include <string.h>

#include "route/route_int.h"

/* Longest JSON number token converted (longer ones make the value
 * undefined; no real sensor sends 300-digit numbers). */
#define JSON_NUMBER_TEXT_MAX 320

struct scan {
    const uint8_t *s;
    size_t n;
    size_t pos;
};

static void ws(struct scan *sc)
{
    while (sc->pos < sc->n) {
        uint8_t c = sc->s[sc->pos];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') break;
        sc->pos++;
    }
}

static bool lit(struct scan *sc, const char *w)
{
    size_t k = strlen(w);
    if (k > sc->n - sc->pos || memcmp(sc->s + sc->pos, w, k) != 0) return false;
    sc->pos += k;
    return true;
}

static int hexv(uint8_t c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* String at pos (on the opening quote). Validates escapes and UTF-8; sets
 * contents span. */
static bool str(struct scan *sc, const uint8_t **body, size_t *len, bool *escaped)
{
    size_t p = sc->pos + 1, start = p;
    bool esc = false;
    for (;;) {
        if (p >= sc->n) return false;
        uint8_t c = sc->s[p];
        if (c == '"') break;
        if (c < 0x20) return false;
        if (c == '\\') {
            if (p + 1 >= sc->n) return false;
            uint8_t e = sc->s[p + 1];
            esc = true;
            if (e == 'u') {
                if (sc->n - p < 6) return false;
                for (size_t k = 2; k < 6; k++)
                    if (hexv(sc->s[p + k]) < 0) return false;
                p += 6;
            } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                       e == 'r' || e == 't') {
                p += 2;
            } else {
                return false;
            }
            continue;
        }
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t q = p;
        uint32_t cp = gh_route_utf8_next(sc->s, sc->n, &q);
        if (cp > 0x10FFFFu) return false;
        p = q;
    }
    if (body) *body = sc->s + start;
    if (len) *len = p - start;
    if (escaped) *escaped = esc;
    sc->pos = p + 1;
    return true;
}

static bool num(struct scan *sc)
{
    const uint8_t *s = sc->s;
    size_t p = sc->pos, n = sc->n;
    if (p < n && s[p] == '-') p++;
    if (p >= n) return false;
    if (s[p] == '0') {
        p++;
    } else if (s[p] >= '1' && s[p] <= '9') {
        while (p < n && s[p] >= '0' && s[p] <= '9') p++;
    } else {
        return false;
    }
    if (p < n && s[p] == '.') {
        p++;
        size_t d = p;
        while (p < n && s[p] >= '0' && s[p] <= '9') p++;
        if (p == d) return false;
    }
    if (p < n && (s[p] == 'e' || s[p] == 'E')) {
        p++;
        if (p < n && (s[p] == '+' || s[p] == '-')) p++;
        size_t d = p;
        while (p < n && s[p] >= '0' && s[p] <= '9') p++;
        if (p == d) return false;
    }
    sc->pos = p;
    return true;
}

/* Skip (and validate) one value at pos (whitespace already skipped). */
static bool skip(struct scan *sc, size_t depth)
{
    if (sc->pos >= sc->n) return false;
    uint8_t c = sc->s[sc->pos];
    if (c == '"') return str(sc, NULL, NULL, NULL);
    if (c == 't') return lit(sc, "true");
    if (c == 'f') return lit(sc, "false");
    if (c == 'n') return lit(sc, "null");
    if (c != '{' && c != '[') return num(sc);
    if (depth >= GH_ROUTE_JSON_DEPTH_MAX) return false;
    uint8_t close = c == '{' ? '}' : ']';
    sc->pos++;
    ws(sc);
    if (sc->pos < sc->n && sc->s[sc->pos] == close) {
        sc->pos++;
        return true;
    }
    for (;;) {
        if (c == '{') {
            if (sc->pos >= sc->n || sc->s[sc->pos] != '"' || !str(sc, NULL, NULL, NULL))
                return false;
            ws(sc);
            if (sc->pos >= sc->n || sc->s[sc->pos] != ':') return false;
            sc->pos++;
            ws(sc);
        }
        if (!skip(sc, depth + 1)) return false;
        ws(sc);
        if (sc->pos >= sc->n) return false;
        if (sc->s[sc->pos] == close) {
            sc->pos++;
            return true;
        }
        if (sc->s[sc->pos] != ',') return false;
        sc->pos++;
        ws(sc);
    }
}

static void skip_bom(struct scan *sc)
{
    if (sc->n >= 3 && sc->s[0] == 0xEF && sc->s[1] == 0xBB && sc->s[2] == 0xBF) sc->pos = 3;
}

bool gh_route_json_valid(const uint8_t *p, size_t n)
{
    struct scan sc = {p, n, 0};
    if (!p) return false;
    skip_bom(&sc);
    ws(&sc);
    if (!skip(&sc, 0)) return false;
    ws(&sc);
    return sc.pos == sc.n;
}

/* Read 4 hex digits (already validated). */
static uint32_t hex4(const uint8_t *s)
{
    uint32_t v = 0;
    for (size_t k = 0; k < 4; k++) v = v * 16 + (uint32_t)hexv(s[k]);
    return v;
}

/* Next decoded code point of a validated JSON string body at *i. */
static uint32_t unesc_next(const uint8_t *s, size_t n, size_t *i)
{
    if (s[*i] != '\\') return gh_route_utf8_next(s, n, i);
    uint8_t e = s[*i + 1];
    if (e != 'u') {
        *i += 2;
        switch (e) {
        case 'b':
            return '\b';
        case 'f':
            return '\f';
        case 'n':
            return '\n';
        case 'r':
            return '\r';
        case 't':
            return '\t';
        default:
            return e;
        }
    }
    uint32_t u = hex4(s + *i + 2);
    *i += 6;
    if (u >= 0xDC00 && u <= 0xDFFF) return 0xFFFD;
    if (u >= 0xD800 && u <= 0xDBFF) {
        if (n - *i >= 6 && s[*i] == '\\' && s[*i + 1] == 'u') {
            uint32_t lo = hex4(s + *i + 2);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                *i += 6;
                return 0x10000u + ((u - 0xD800u) << 10) + (lo - 0xDC00u);
            }
        }
        return 0xFFFD;
    }
    return u;
}

bool gh_route_json_unescape(const uint8_t *s, size_t n, uint8_t *out, size_t cap, size_t *len)
{
    size_t i = 0, o = 0;
    uint8_t tmp[4];
    while (i < n) {
        uint32_t cp = unesc_next(s, n, &i);
        size_t k;
        if (cp > 0x10FFFFu) {
            tmp[0] = (uint8_t)(cp - 0x110000u);
            k = 1;
        } else {
            k = gh_route_utf8_put(cp, tmp);
        }
        if (k > cap - o) return false;
        memcpy(out + o, tmp, k);
        o += k;
    }
    *len = o;
    return true;
}

/* Does the string body s[0..n) (escapes allowed) decode to key? */
static bool key_eq(const uint8_t *s, size_t n, bool escaped, const uint8_t *key, size_t klen)
{
    if (!escaped) return n == klen && (n == 0 || memcmp(s, key, n) == 0);
    size_t i = 0, k = 0;
    uint8_t tmp[4];
    while (i < n) {
        uint32_t cp = unesc_next(s, n, &i);
        size_t m = cp > 0x10FFFFu ? 1 : gh_route_utf8_put(cp, tmp);
        if (cp > 0x10FFFFu) tmp[0] = (uint8_t)(cp - 0x110000u);
        if (m > klen - k || memcmp(key + k, tmp, m) != 0) return false;
        k += m;
    }
    return k == klen;
}

/* Position sc at the member value for key in the object at sc->pos (last
 * duplicate wins). */
static bool find_member(struct scan *sc, const uint8_t *key, size_t klen)
{
    size_t found = SIZE_MAX;
    sc->pos++; /* '{' */
    ws(sc);
    if (sc->pos < sc->n && sc->s[sc->pos] == '}') return false;
    for (;;) {
        const uint8_t *kb;
        size_t kl;
        bool esc;
        if (!str(sc, &kb, &kl, &esc)) return false;
        ws(sc);
        sc->pos++; /* ':' */
        ws(sc);
        if (key_eq(kb, kl, esc, key, klen)) found = sc->pos;
        if (!skip(sc, 0)) return false;
        ws(sc);
        if (sc->pos >= sc->n || sc->s[sc->pos] != ',') break;
        sc->pos++;
        ws(sc);
    }
    if (found == SIZE_MAX) return false;
    sc->pos = found;
    return true;
}

static bool find_index(struct scan *sc, uint32_t index)
{
    sc->pos++; /* '[' */
    ws(sc);
    if (sc->pos < sc->n && sc->s[sc->pos] == ']') return false;
    for (uint32_t i = 0;; i++) {
        if (i == index) return true;
        if (!skip(sc, 0)) return false;
        ws(sc);
        if (sc->pos >= sc->n || sc->s[sc->pos] != ',') return false;
        sc->pos++;
        ws(sc);
    }
}

bool gh_route_json_find(const uint8_t *p, size_t n, const struct route_seg *segs, size_t nsegs,
                        struct json_hit *out)
{
    struct scan sc = {p, n, 0};
    skip_bom(&sc);
    ws(&sc);
    for (size_t i = 0; i < nsegs; i++) {
        if (sc.pos >= sc.n) return false;
        uint8_t c = sc.s[sc.pos];
        if (segs[i].key) {
            if (c != '{' || !find_member(&sc, segs[i].key, segs[i].klen)) return false;
        } else {
            if (c != '[' || !find_index(&sc, segs[i].index)) return false;
        }
    }
    if (sc.pos >= sc.n) return false;
    memset(out, 0, sizeof *out);
    uint8_t c = sc.s[sc.pos];
    size_t start = sc.pos;
    switch (c) {
    case '{':
        out->kind = JSON_OBJECT;
        return true;
    case '[':
        out->kind = JSON_ARRAY;
        return true;
    case 't':
        out->kind = JSON_BOOL;
        out->b = true;
        return true;
    case 'f':
        out->kind = JSON_BOOL;
        out->b = false;
        return true;
    case 'n':
        out->kind = JSON_NULL;
        return true;
    case '"':
        out->kind = JSON_STRING;
        return str(&sc, &out->tok, &out->len, &out->escaped);
    default:
        if (!num(&sc)) return false;
        out->kind = JSON_NUMBER;
        out->tok = sc.s + start;
        out->len = sc.pos - start;
        return true;
    }
}

bool gh_route_json_number(const uint8_t *s, size_t n, double *out)
{
    char buf[JSON_NUMBER_TEXT_MAX + 1];
    if (n > JSON_NUMBER_TEXT_MAX) return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    *out = strtod(buf, NULL);
    return true;
}
