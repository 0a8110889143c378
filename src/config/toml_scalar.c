/* TOML tokens: key segments, the four string forms, integers, booleans, and
 * the value types we refuse (floats, dates). Strings are decoded into the
 * parser's scratch buffer, then copied into the document arena. */
#include <string.h>

#include "config/toml_internal.h"

/* Longest token shown in a message, in input bytes. */
#define SHOW_MAX 40u
/* Most quote characters that may end a multi-line string ("" + """). */
#define ML_QUOTES_MAX 5u

static bool is_bare(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static bool is_atom_char(int c)
{
    return is_bare(c) || c == '+' || c == '.' || c == ':';
}

static bool is_control(int c)
{
    return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Copy scratch[0..n) into the arena, NUL-terminated. */
static gh_err commit(struct parser *p, size_t start, size_t n, const char **out, size_t *len)
{
    char *s;
    gh_err rc = toml_alloc(p->doc, n + 1, (void **)&s);
    if (rc != GH_OK) return toml_fail(p, rc, start, "document needs too much memory");
    if (n) memcpy(s, p->scratch, n);
    s[n] = '\0';
    *out = s;
    *len = n;
    return GH_OK;
}

static size_t here(const struct parser *p)
{
    return p->r.pos;
}

static gh_err control_char(struct parser *p, int c)
{
    return toml_fail(p, GH_ERR_CONFIG_SYNTAX, here(p), "control character U+%04X in string",
                     (unsigned)c);
}

static void put_utf8(uint8_t *o, size_t *n, uint32_t cp)
{
    if (cp < 0x80) {
        o[(*n)++] = (uint8_t)cp;
    } else if (cp < 0x800) {
        o[(*n)++] = (uint8_t)(0xc0 | (cp >> 6));
        o[(*n)++] = (uint8_t)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        o[(*n)++] = (uint8_t)(0xe0 | (cp >> 12));
        o[(*n)++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        o[(*n)++] = (uint8_t)(0x80 | (cp & 0x3f));
    } else {
        o[(*n)++] = (uint8_t)(0xf0 | (cp >> 18));
        o[(*n)++] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        o[(*n)++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        o[(*n)++] = (uint8_t)(0x80 | (cp & 0x3f));
    }
}

/* One escape sequence at the cursor (which is on the backslash). The output
 * never outgrows the input: \uXXXX (6 bytes) gives at most 3, \UXXXXXXXX
 * (10) at most 4. */
static gh_err read_escape(struct parser *p, size_t *n)
{
    size_t at = here(p);
    int c = toml_peek(p, 1);
    const char *simple = "b\bt\tn\nf\fr\r\"\"\\\\";
    for (const char *s = simple; *s; s += 2) {
        if (c == *s) {
            p->scratch[(*n)++] = (uint8_t)s[1];
            toml_skip(p, 2);
            return GH_OK;
        }
    }
    if (c == 'u' || c == 'U') {
        size_t digits = c == 'u' ? 4 : 8;
        uint32_t cp = 0;
        for (size_t i = 0; i < digits; i++) {
            int h = hexval(toml_peek(p, 2 + i));
            if (h < 0)
                return toml_fail(p, GH_ERR_CONFIG_SYNTAX, at,
                                 "escape \\%c needs %zu hexadecimal digits", c, digits);
            cp = (cp << 4) | (uint32_t)h;
        }
        if (cp == 0)
            return toml_fail(p, GH_ERR_CONFIG_SYNTAX, at, "NUL characters are not supported");
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return toml_fail(p, GH_ERR_CONFIG_SYNTAX, at,
                             "escape is not a Unicode scalar value (U+%X)", (unsigned)cp);
        put_utf8(p->scratch, n, cp);
        toml_skip(p, 2 + digits);
        return GH_OK;
    }
    if (c < 0x20 || c >= 0x7f)
        return toml_fail(p, GH_ERR_CONFIG_SYNTAX, at, "invalid escape sequence");
    return toml_fail(p, GH_ERR_CONFIG_SYNTAX, at, "invalid escape sequence '\\%c'", c);
}

/* "..." or '...' on one line; cursor on the opening quote. */
static gh_err read_single_line(struct parser *p, const char **out, size_t *len)
{
    size_t start = here(p);
    int q = toml_peek(p, 0);
    size_t n = 0;
    toml_skip(p, 1);
    for (;;) {
        int c = toml_peek(p, 0);
        if (c < 0 || c == '\n' || c == '\r')
            return toml_fail(p, GH_ERR_CONFIG_SYNTAX, start, "unterminated string");
        if (c == q) break;
        if (c == '\\' && q == '"') {
            GH_GUARD(read_escape(p, &n));
            continue;
        }
        if (is_control(c)) return control_char(p, c);
        p->scratch[n++] = (uint8_t)c;
        toml_skip(p, 1);
    }
    toml_skip(p, 1);
    return commit(p, start, n, out, len);
}

static size_t newline_len(const struct parser *p, size_t k)
{
    int c = toml_peek(p, k);
    if (c == '\n') return 1;
    if (c == '\r' && toml_peek(p, k + 1) == '\n') return 2;
    return 0;
}

/* Backslash at the end of a line in a """ string: the cursor is on the
 * backslash, which is followed by blanks and a newline. Skip up to the next
 * character that is neither blank nor newline. Returns false (cursor
 * unchanged) if this backslash is not a line-ending one. */
static bool skip_line_ending_backslash(struct parser *p)
{
    size_t k = 1;
    while (toml_peek(p, k) == ' ' || toml_peek(p, k) == '\t') k++;
    if (newline_len(p, k) == 0) return false;
    for (;;) {
        int c = toml_peek(p, k);
        size_t nl = newline_len(p, k);
        if (c == ' ' || c == '\t')
            k++;
        else if (nl)
            k += nl;
        else
            break;
    }
    toml_skip(p, k);
    return true;
}

/* """...""" or '''...'''; cursor on the first of the three quotes. */
static gh_err read_multi_line(struct parser *p, const char **out, size_t *len)
{
    size_t start = here(p);
    int q = toml_peek(p, 0);
    size_t n = 0;
    toml_skip(p, 3);
    toml_skip(p, newline_len(p, 0)); /* a newline right after the opener is trimmed */
    for (;;) {
        int c = toml_peek(p, 0);
        if (c < 0) return toml_fail(p, GH_ERR_CONFIG_SYNTAX, start, "unterminated string");
        if (c == q) {
            size_t run = 0;
            while (toml_peek(p, run) == q) run++;
            if (run >= 3) {
                if (run > ML_QUOTES_MAX)
                    return toml_fail(p, GH_ERR_CONFIG_SYNTAX, here(p) + ML_QUOTES_MAX,
                                     "too many quotes at the end of a multi-line string");
                for (size_t i = 3; i < run; i++) p->scratch[n++] = (uint8_t)q;
                toml_skip(p, run);
                break;
            }
            for (size_t i = 0; i < run; i++) p->scratch[n++] = (uint8_t)q;
            toml_skip(p, run);
            continue;
        }
        if (c == '\\' && q == '"') {
            if (!skip_line_ending_backslash(p)) GH_GUARD(read_escape(p, &n));
            continue;
        }
        size_t nl = newline_len(p, 0);
        if (nl) {
            p->scratch[n++] = '\n'; /* CRLF is stored as LF */
            toml_skip(p, nl);
            continue;
        }
        if (c == '\r') return toml_fail(p, GH_ERR_CONFIG_SYNTAX, here(p), "bare carriage return");
        if (is_control(c)) return control_char(p, c);
        p->scratch[n++] = (uint8_t)c;
        toml_skip(p, 1);
    }
    return commit(p, start, n, out, len);
}

gh_err toml_read_string(struct parser *p, const char **out, size_t *len)
{
    int q = toml_peek(p, 0);
    if (toml_peek(p, 1) == q && toml_peek(p, 2) == q) return read_multi_line(p, out, len);
    return read_single_line(p, out, len);
}

gh_err toml_read_key_segment(struct parser *p, const char **out, size_t *len)
{
    size_t start = here(p);
    int c = toml_peek(p, 0);
    if (c == '"' || c == '\'') {
        if (toml_peek(p, 1) == c && toml_peek(p, 2) == c)
            return toml_fail(p, GH_ERR_CONFIG_SYNTAX, start, "a multi-line string cannot be a key");
        return read_single_line(p, out, len);
    }
    size_t n = 0;
    while (is_bare(toml_peek(p, n))) n++;
    if (n == 0) {
        if (c < 0) return toml_fail(p, GH_ERR_CONFIG_SYNTAX, start, "expected a key");
        if (c == '\n' || c == '\r')
            return toml_fail(p, GH_ERR_CONFIG_SYNTAX, start, "expected a key before end of line");
        if (c >= 0x20 && c < 0x7f)
            return toml_fail(p, GH_ERR_CONFIG_SYNTAX, start, "expected a key, found '%c'", c);
        return toml_fail(p, GH_ERR_CONFIG_SYNTAX, start, "expected a key");
    }
    for (size_t i = 0; i < n; i++) p->scratch[i] = (uint8_t)toml_peek(p, i);
    toml_skip(p, n);
    return commit(p, start, n, out, len);
}

/* ---- integers, booleans, refused types ----------------------------------- */

static bool is_digit_in(int c, unsigned radix)
{
    int v = hexval(c);
    return v >= 0 && (unsigned)v < radix;
}

/* Digits of the given radix with single '_' between digits. Accumulates into
 * *mag; false on a malformed digit string; *overflow set past limit. */
static bool parse_digits(const uint8_t *s, size_t n, unsigned radix, uint64_t limit, uint64_t *mag,
                         bool *overflow)
{
    uint64_t v = 0;
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '_') {
            if (i == 0 || i + 1 == n || s[i + 1] == '_') return false;
            continue;
        }
        if (!is_digit_in(s[i], radix)) return false;
        uint64_t d = (uint64_t)hexval(s[i]);
        if (v > (limit - d) / radix)
            *overflow = true;
        else
            v = v * radix + d;
    }
    *mag = v;
    return true;
}

static bool token_is(const uint8_t *s, size_t n, const char *word)
{
    return n == strlen(word) && memcmp(s, word, n) == 0;
}

static bool looks_like_date(const uint8_t *s, size_t n)
{
    if (memchr(s, ':', n) != NULL) return true;
    return n >= 5 && is_digit_in(s[0], 10) && is_digit_in(s[1], 10) && is_digit_in(s[2], 10) &&
           is_digit_in(s[3], 10) && s[4] == '-';
}

static bool looks_like_float(const uint8_t *s, size_t n)
{
    size_t i = (n > 0 && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
    if (token_is(s + i, n - i, "inf") || token_is(s + i, n - i, "nan")) return true;
    if (i == n || !is_digit_in(s[i], 10)) return false;
    return memchr(s, '.', n) != NULL || memchr(s, 'e', n) != NULL || memchr(s, 'E', n) != NULL;
}

gh_err toml_read_atom(struct parser *p, enum gh_toml_type *type, int64_t *i, bool *b)
{
    size_t start = here(p);
    size_t n = 0;
    while (is_atom_char(toml_peek(p, n))) n++;
    struct gh_slice tok;
    if (n == 0 || gh_reader_bytes(&p->r, n, &tok) != GH_OK)
        return toml_fail(p, GH_ERR_CONFIG_SYNTAX, start, "expected a value");
    const uint8_t *s = tok.ptr;
    char shown[SHOW_MAX + 8];
    gh_toml_escape(shown, sizeof shown, (const char *)s, n);

    if (token_is(s, n, "true") || token_is(s, n, "false")) {
        *type = GH_TOML_BOOLEAN;
        *b = s[0] == 't';
        return GH_OK;
    }
    bool overflow = false;
    uint64_t mag = 0;
    bool neg = false;
    bool ok;
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b')) {
        unsigned radix = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 2;
        ok = parse_digits(s + 2, n - 2, radix, INT64_MAX, &mag, &overflow);
    } else if (looks_like_date(s, n)) {
        return toml_fail(p, GH_ERR_CONFIG_VALUE, start, "dates and times are not supported");
    } else if (looks_like_float(s, n)) {
        return toml_fail(p, GH_ERR_CONFIG_VALUE, start, "floats are not supported");
    } else {
        size_t k = 0;
        if (s[0] == '+' || s[0] == '-') {
            neg = s[0] == '-';
            k = 1;
        }
        /* no leading zeros: "0" alone, or a non-zero first digit */
        ok = !(n - k > 1 && s[k] == '0') &&
             parse_digits(s + k, n - k, 10, neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX, &mag,
                          &overflow);
    }
    if (!ok) {
        if ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))
            return toml_fail(p, GH_ERR_CONFIG_SYNTAX, start,
                             "invalid value '%s' (strings must be quoted)", shown);
        return toml_fail(p, GH_ERR_CONFIG_SYNTAX, start, "invalid integer '%s'", shown);
    }
    if (overflow)
        return toml_fail(p, GH_ERR_CONFIG_VALUE, start, "integer '%s' is out of range", shown);
    *type = GH_TOML_INTEGER;
    if (neg)
        *i = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
    else
        *i = (int64_t)mag;
    return GH_OK;
}
