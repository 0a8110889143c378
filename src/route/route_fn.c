/* Built-in functions of the route language (PROTOCOL.md 7.6). Strings are
 * indexed and measured in UTF-16 code units, as in edgeHub. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "route/route_int.h"

/* Longest string AS_NUMBER converts, bytes. */
#define DECIMAL_TEXT_MAX 128

static const struct route_fn_info fns[FN_COUNT] = {
    [FN_IS_DEFINED] = {"IS_DEFINED", 1, 1},
    [FN_IS_NULL] = {"IS_NULL", 1, 1},
    [FN_IS_BOOL] = {"IS_BOOL", 1, 1},
    [FN_IS_NUMBER] = {"IS_NUMBER", 1, 1},
    [FN_IS_STRING] = {"IS_STRING", 1, 1},
    [FN_IS_OBJECT] = {"IS_OBJECT", 1, 1},
    [FN_IS_ARRAY] = {"IS_ARRAY", 1, 1},
    [FN_IS_PRIMITIVE] = {"IS_PRIMITIVE", 1, 1},
    [FN_AS_NUMBER] = {"AS_NUMBER", 1, 1},
    [FN_ABS] = {"ABS", 1, 1},
    [FN_CEILING] = {"CEILING", 1, 1},
    [FN_FLOOR] = {"FLOOR", 1, 1},
    [FN_SIGN] = {"SIGN", 1, 1},
    [FN_SQUARE] = {"SQUARE", 1, 1},
    [FN_SQRT] = {"SQRT", 1, 1},
    [FN_EXP] = {"EXP", 1, 1},
    [FN_POWER] = {"POWER", 2, 2},
    [FN_CONCAT] = {"CONCAT", 2, GH_ROUTE_ARGS_MAX},
    [FN_LENGTH] = {"LENGTH", 1, 1},
    [FN_LOWER] = {"LOWER", 1, 1},
    [FN_UPPER] = {"UPPER", 1, 1},
    [FN_SUBSTRING] = {"SUBSTRING", 2, 3},
    [FN_INDEX_OF] = {"INDEX_OF", 2, 2},
    [FN_STARTS_WITH] = {"STARTS_WITH", 2, 2},
    [FN_ENDS_WITH] = {"ENDS_WITH", 2, 2},
    [FN_CONTAINS] = {"CONTAINS", 2, 2},
};

const struct route_fn_info *gh_route_fn_info(enum route_fn fn)
{
    return &fns[fn];
}

bool gh_route_fn_lookup(struct gh_slice name, enum route_fn *out)
{
    for (size_t i = 0; i < FN_COUNT; i++) {
        if (gh_slice_eq_nocase(name, gh_slice_cstr(fns[i].name))) {
            *out = (enum route_fn)i;
            return true;
        }
    }
    return false;
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

bool gh_route_parse_decimal(const uint8_t *s, size_t n, double *out)
{
    size_t b = 0, e = n;
    while (b < e && (s[b] == ' ' || s[b] == '\t')) b++;
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) e--;
    size_t i = b;
    if (i < e && (s[i] == '+' || s[i] == '-')) i++;
    size_t d = i;
    while (i < e && is_digit(s[i])) i++;
    size_t digits = i - d;
    if (i < e && s[i] == '.') {
        i++;
        size_t f = i;
        while (i < e && is_digit(s[i])) i++;
        digits += i - f;
    }
    if (digits == 0) return false;
    if (i < e && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < e && (s[i] == '+' || s[i] == '-')) i++;
        size_t x = i;
        while (i < e && is_digit(s[i])) i++;
        if (i == x) return false;
    }
    if (i != e || e - b > DECIMAL_TEXT_MAX) return false;
    char buf[DECIMAL_TEXT_MAX + 1];
    memcpy(buf, s + b, e - b);
    buf[e - b] = 0;
    *out = strtod(buf, NULL);
    return true;
}

static struct route_val undef(void)
{
    return (struct route_val){.type = GH_ROUTE_V_UNDEFINED};
}

static struct route_val boolean(bool b)
{
    return (struct route_val){.type = GH_ROUTE_V_BOOL, .b = b};
}

static struct route_val number(double n)
{
    return (struct route_val){.type = GH_ROUTE_V_NUMBER, .n = n};
}

static struct route_val string(const uint8_t *s, size_t len)
{
    return (struct route_val){.type = GH_ROUTE_V_STRING, .s = s, .len = len};
}

/* Culture-invariant case mapping for ASCII, Latin-1, Greek and Cyrillic
 * (every mapping keeps the UTF-8 length); other characters are unchanged. */
static uint32_t to_upper(uint32_t c)
{
    if (c >= 'a' && c <= 'z') return c - 32;
    if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 32;
    if (c == 0xFF) return 0x178;
    if (c == 0x3C2) return 0x3A3;
    if (c >= 0x3B1 && c <= 0x3C9) return c - 32;
    if (c >= 0x430 && c <= 0x44F) return c - 32;
    if (c >= 0x450 && c <= 0x45F) return c - 80;
    return c;
}

static uint32_t to_lower(uint32_t c)
{
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
    if (c == 0x178) return 0xFF;
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
    if (c >= 0x410 && c <= 0x42F) return c + 32;
    if (c >= 0x400 && c <= 0x40F) return c + 80;
    return c;
}

static struct route_val case_map(struct route_ctx *c, const struct route_val *v, bool upper)
{
    uint8_t *out = gh_route_scratch(c, v->len);
    if (!out && v->len) return undef();
    size_t i = 0, o = 0;
    while (i < v->len) {
        size_t start = i;
        uint32_t cp = gh_route_utf8_next(v->s, v->len, &i);
        if (cp > 0x10FFFFu) {
            out[o++] = v->s[start];
            continue;
        }
        uint32_t m = upper ? to_upper(cp) : to_lower(cp);
        uint8_t tmp[4];
        size_t k = gh_route_utf8_put(m, tmp);
        if (k != i - start) { /* cannot happen with the table above */
            memcpy(out + o, v->s + start, i - start);
            o += i - start;
            continue;
        }
        memcpy(out + o, tmp, k);
        o += k;
    }
    return string(out, o);
}

static struct route_val substring(const struct route_val *a, size_t nargs)
{
    const struct route_val *s = &a[0];
    if (s->type != GH_ROUTE_V_STRING || a[1].type != GH_ROUTE_V_NUMBER) return undef();
    if (nargs == 3 && a[2].type != GH_ROUTE_V_NUMBER) return undef();
    double len16 = (double)gh_route_utf16_len(s->s, s->len);
    double start = a[1].n;
    size_t b, e;
    if (nargs == 2) {
        if (!(start >= 0 && start <= len16)) return undef();
        if (!gh_route_utf16_offset(s->s, s->len, (size_t)start, &b)) return undef();
        return string(s->s + b, s->len - b);
    }
    double cnt = a[2].n;
    if (!(start >= 0 && start < len16 && cnt >= 0 && cnt <= len16 - start)) return undef();
    size_t from = (size_t)start;
    if (!gh_route_utf16_offset(s->s, s->len, from, &b)) return undef();
    if (!gh_route_utf16_offset(s->s, s->len, from + (size_t)cnt, &e)) return undef();
    return string(s->s + b, e - b);
}

static bool find(const uint8_t *h, size_t hn, const uint8_t *f, size_t fn, size_t *at)
{
    if (fn == 0) {
        *at = 0;
        return true;
    }
    for (size_t i = 0; fn <= hn && i <= hn - fn; i++) {
        if (memcmp(h + i, f, fn) == 0) {
            *at = i;
            return true;
        }
    }
    return false;
}

static struct route_val strings2(enum route_fn fn, const struct route_val *a)
{
    if (a[0].type != GH_ROUTE_V_STRING || a[1].type != GH_ROUTE_V_STRING) return undef();
    const uint8_t *h = a[0].s, *f = a[1].s;
    size_t hn = a[0].len, fnl = a[1].len, at;
    switch (fn) {
    case FN_INDEX_OF:
        if (!find(h, hn, f, fnl, &at)) return number(-1);
        return number((double)gh_route_utf16_len(h, at));
    case FN_STARTS_WITH:
        return boolean(fnl <= hn && (fnl == 0 || memcmp(h, f, fnl) == 0));
    case FN_ENDS_WITH:
        return boolean(fnl <= hn && (fnl == 0 || memcmp(h + hn - fnl, f, fnl) == 0));
    case FN_CONTAINS:
        return boolean(find(h, hn, f, fnl, &at));
    default:
        return undef();
    }
}

static struct route_val concat(struct route_ctx *c, const struct route_val *a, size_t nargs)
{
    size_t total = 0;
    for (size_t i = 0; i < nargs; i++) {
        if (a[i].type != GH_ROUTE_V_STRING) return undef();
        if (a[i].len > GH_ROUTE_EVAL_SCRATCH - total) return undef();
        total += a[i].len;
    }
    uint8_t *out = gh_route_scratch(c, total);
    if (!out && total) return undef();
    size_t o = 0;
    for (size_t i = 0; i < nargs; i++) {
        if (a[i].len) memcpy(out + o, a[i].s, a[i].len);
        o += a[i].len;
    }
    return string(out ? out : (const uint8_t *)"", total);
}

static struct route_val math1(enum route_fn fn, double x)
{
    switch (fn) {
    case FN_ABS:
        return number(fabs(x));
    case FN_CEILING:
        return number(ceil(x));
    case FN_FLOOR:
        return number(floor(x));
    case FN_SIGN:
        if (isnan(x)) return undef();
        return number(x > 0 ? 1 : x < 0 ? -1 : 0);
    case FN_SQUARE:
        return number(x * x);
    case FN_SQRT:
        return number(sqrt(x));
    case FN_EXP:
        return number(exp(x));
    default:
        return undef();
    }
}

struct route_val gh_route_call(struct route_ctx *c, const struct route_node *call,
                               const struct route_val *a, size_t nargs)
{
    enum route_fn fn = (enum route_fn)call->aux;
    enum gh_route_vtype t = nargs ? a[0].type : GH_ROUTE_V_UNDEFINED;
    double d;
    if (fn != FN_IS_DEFINED && fn <= FN_IS_PRIMITIVE && t == GH_ROUTE_V_UNDEFINED) return undef();
    switch (fn) {
    case FN_IS_DEFINED:
        return boolean(t != GH_ROUTE_V_UNDEFINED);
    case FN_IS_NULL:
        return boolean(t == GH_ROUTE_V_NULL);
    case FN_IS_BOOL:
        return boolean(t == GH_ROUTE_V_BOOL);
    case FN_IS_NUMBER:
        return boolean(t == GH_ROUTE_V_NUMBER);
    case FN_IS_STRING:
        return boolean(t == GH_ROUTE_V_STRING);
    case FN_IS_OBJECT:
        return boolean(t == GH_ROUTE_V_OBJECT);
    case FN_IS_ARRAY:
        return boolean(t == GH_ROUTE_V_ARRAY);
    case FN_IS_PRIMITIVE:
        return boolean(t == GH_ROUTE_V_STRING || t == GH_ROUTE_V_NUMBER || t == GH_ROUTE_V_BOOL ||
                       t == GH_ROUTE_V_NULL);
    case FN_AS_NUMBER:
        if (t == GH_ROUTE_V_NUMBER) return a[0];
        if (t == GH_ROUTE_V_STRING && gh_route_parse_decimal(a[0].s, a[0].len, &d))
            return number(d);
        return undef();
    case FN_ABS:
    case FN_CEILING:
    case FN_FLOOR:
    case FN_SIGN:
    case FN_SQUARE:
    case FN_SQRT:
    case FN_EXP:
        if (t != GH_ROUTE_V_NUMBER) return undef();
        return math1(fn, a[0].n);
    case FN_POWER:
        if (t != GH_ROUTE_V_NUMBER || a[1].type != GH_ROUTE_V_NUMBER) return undef();
        return number(pow(a[0].n, a[1].n));
    case FN_CONCAT:
        return concat(c, a, nargs);
    case FN_LENGTH:
        if (t != GH_ROUTE_V_STRING) return undef();
        return number((double)gh_route_utf16_len(a[0].s, a[0].len));
    case FN_LOWER:
    case FN_UPPER:
        if (t != GH_ROUTE_V_STRING) return undef();
        return case_map(c, &a[0], fn == FN_UPPER);
    case FN_SUBSTRING:
        return substring(a, nargs);
    case FN_INDEX_OF:
    case FN_STARTS_WITH:
    case FN_ENDS_WITH:
    case FN_CONTAINS:
        return strings2(fn, a);
    case FN_COUNT:
        break;
    }
    return undef();
}
