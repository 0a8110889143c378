/* Lexer of the route language: longest match over all token classes
 * (see route_lex.h). Works on a borrowed byte range; never reads past it. */
#include "route/route_lex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route/route_int.h"

void route_lex_init(struct lexer *lx, const uint8_t *s, size_t n)
{
    memset(lx, 0, sizeof *lx);
    lx->s = s;
    lx->n = n;
}

void route_lex_rewind(struct lexer *lx, size_t pos)
{
    lx->pos = pos;
}

static bool is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static int hex_val(uint8_t c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool route_is_id_char(uint8_t c)
{
    switch (c) {
    case '(':
    case ')':
    case '<':
    case '>':
    case '@':
    case ',':
    case ';':
    case ':':
    case '\\':
    case '"':
    case '/':
    case '[':
    case ']':
    case '?':
    case '=':
    case '{':
    case '}':
    case ' ':
    case '\t':
    case '\r':
    case '\n':
        return false;
    default:
        return true;
    }
}

static bool is_qp_char(uint8_t c)
{
    return c == '[' || c == ']' || route_is_id_char(c);
}

static gh_err lex_fail(struct lexer *lx, size_t pos, const char *msg)
{
    lx->err_pos = pos;
    snprintf(lx->err_msg, sizeof lx->err_msg, "%s", msg);
    return GH_ERR_CONFIG_SYNTAX;
}

/* Skip whitespace and comments. */
static gh_err skip_blank(struct lexer *lx)
{
    for (;;) {
        while (lx->pos < lx->n && is_space(lx->s[lx->pos])) lx->pos++;
        if (lx->n - lx->pos >= 2 && lx->s[lx->pos] == '/' && lx->s[lx->pos + 1] == '*') {
            size_t start = lx->pos;
            size_t p = lx->pos + 2;
            for (;;) {
                if (lx->n - p < 2) return lex_fail(lx, start, "unterminated comment");
                if (lx->s[p] == '*' && lx->s[p + 1] == '/') break;
                p++;
            }
            lx->pos = p + 2;
            continue;
        }
        return GH_OK;
    }
}

/* Longest numeric literal at p; 0 if none. */
static size_t number_len(const uint8_t *s, size_t n, size_t p)
{
    size_t i = p;
    if (n - i >= 3 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X') &&
        hex_val(s[i + 2]) >= 0) {
        i += 2;
        while (i < n && hex_val(s[i]) >= 0) i++;
        return i - p;
    }
    if (i < n && s[i] == '-') i++;
    size_t d0 = i;
    while (i < n && is_digit(s[i])) i++;
    bool mant = i > d0;
    if (n - i >= 2 && s[i] == '.' && is_digit(s[i + 1])) {
        i++;
        while (i < n && is_digit(s[i])) i++;
        mant = true;
    }
    if (!mant) return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t e = i + 1;
        if (e < n && (s[e] == '+' || s[e] == '-')) e++;
        if (e < n && is_digit(s[e])) {
            while (e < n && is_digit(s[e])) e++;
            i = e;
        }
    }
    return i - p;
}

static gh_err number_value(struct lexer *lx, struct token *t)
{
    const uint8_t *s = lx->s + t->pos;
    if (t->len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        double v = 0;
        for (size_t i = 2; i < t->len; i++) v = v * 16 + hex_val(s[i]);
        t->num = v;
        return GH_OK;
    }
    if (t->len > ROUTE_NUMBER_TEXT_MAX) return lex_fail(lx, t->pos, "number literal too long");
    char buf[ROUTE_NUMBER_TEXT_MAX + 1];
    memcpy(buf, s, t->len);
    buf[t->len] = 0;
    t->num = strtod(buf, NULL);
    return GH_OK;
}

/* Scan a quoted string at p. Returns its token length (quotes included) and
 * decoded length, or an error. */
static gh_err string_scan(struct lexer *lx, size_t p, size_t *tok_len, size_t *dec_len)
{
    const uint8_t *s = lx->s;
    uint8_t q = s[p];
    size_t i = p + 1, out = 0;
    for (;;) {
        if (i >= lx->n) return lex_fail(lx, p, "unterminated string");
        uint8_t c = s[i];
        if (c == q) break;
        if (c != '\\') {
            i++;
            out++;
            continue;
        }
        if (i + 1 >= lx->n) return lex_fail(lx, p, "unterminated string");
        uint8_t e = s[i + 1];
        if (e == '\'' || e == '"' || e == '\\') {
            i += 2;
            out++;
            continue;
        }
        if (e != 'u')
            return lex_fail(lx, i, "invalid escape in string (use \\' \\\" \\\\ \\uXXXX)");
        uint32_t u = 0;
        if (lx->n - i < 6) return lex_fail(lx, i, "invalid \\u escape in string");
        for (size_t k = 2; k < 6; k++) {
            int h = hex_val(s[i + k]);
            if (h < 0) return lex_fail(lx, i, "invalid \\u escape in string");
            u = u * 16 + (uint32_t)h;
        }
        if (u >= 0xDC00 && u <= 0xDFFF) return lex_fail(lx, i, "lone surrogate in \\u escape");
        if (u >= 0xD800 && u <= 0xDBFF) {
            uint32_t lo = 0;
            if (lx->n - i < 12 || s[i + 6] != '\\' || s[i + 7] != 'u')
                return lex_fail(lx, i, "lone surrogate in \\u escape");
            for (size_t k = 8; k < 12; k++) {
                int h = hex_val(s[i + k]);
                if (h < 0) return lex_fail(lx, i + 6, "invalid \\u escape in string");
                lo = lo * 16 + (uint32_t)h;
            }
            if (lo < 0xDC00 || lo > 0xDFFF) return lex_fail(lx, i, "lone surrogate in \\u escape");
            i += 12;
            out += 4;
            continue;
        }
        i += 6;
        out += u < 0x80 ? 1 : u < 0x800 ? 2 : 3;
    }
    *tok_len = i + 1 - p;
    *dec_len = out;
    return GH_OK;
}

void route_lex_unescape(const struct lexer *lx, const struct token *t, uint8_t *out)
{
    const uint8_t *s = lx->s + t->pos;
    size_t end = t->len - 1, i = 1, o = 0;
    while (i < end) {
        if (s[i] != '\\') {
            out[o++] = s[i++];
            continue;
        }
        if (s[i + 1] != 'u') {
            out[o++] = s[i + 1];
            i += 2;
            continue;
        }
        uint32_t u = 0;
        for (size_t k = 2; k < 6; k++) u = u * 16 + (uint32_t)hex_val(s[i + k]);
        i += 6;
        if (u >= 0xD800 && u <= 0xDBFF) {
            uint32_t lo = 0;
            for (size_t k = 2; k < 6; k++) lo = lo * 16 + (uint32_t)hex_val(s[i + k]);
            i += 6;
            u = 0x10000u + ((u - 0xD800u) << 10) + (lo - 0xDC00u);
        }
        o += gh_route_utf8_put(u, out + o);
    }
}

static bool word_eq(const uint8_t *s, size_t n, const char *w, bool nocase)
{
    size_t wl = strlen(w);
    if (n != wl) return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t a = s[i], b = (uint8_t)w[i];
        if (nocase && a >= 'a' && a <= 'z') a = (uint8_t)(a - 32);
        if (a != b) return false;
    }
    return true;
}

static enum tok_type word_type(const uint8_t *s, size_t n)
{
    static const struct {
        const char *w;
        enum tok_type t;
        bool nocase;
    } words[] = {
        {"SELECT", TK_SELECT, true}, {"FROM", TK_FROM, true},        {"WHERE", TK_WHERE, true},
        {"INTO", TK_INTO, true},     {"AND", TK_AND, true},          {"OR", TK_OR, true},
        {"NOT", TK_NOT, true},       {"true", TK_TRUE, false},       {"false", TK_FALSE, false},
        {"null", TK_NULL, false},    {"undefined", TK_UNDEF, false},
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (word_eq(s, n, words[i].w, words[i].nocase)) return words[i].t;
    return TK_IDENT;
}

static size_t op_len(const uint8_t *s, size_t n, size_t p, enum tok_type *t)
{
    uint8_t c = s[p];
    uint8_t d = n - p >= 2 ? s[p + 1] : 0;
    if (c == '?' && d == '?') return *t = TK_COALESCE, 2;
    if (c == '|' && d == '|') return *t = TK_CAT, 2;
    if (c == '!' && d == '=') return *t = TK_NE, 2;
    if (c == '<' && d == '>') return *t = TK_NE, 2;
    if (c == '<' && d == '=') return *t = TK_LE, 2;
    if (c == '>' && d == '=') return *t = TK_GE, 2;
    switch (c) {
    case '(':
        return *t = TK_LPAREN, 1;
    case ')':
        return *t = TK_RPAREN, 1;
    case ',':
        return *t = TK_COMMA, 1;
    case '{':
        return *t = TK_LBRACE, 1;
    case '}':
        return *t = TK_RBRACE, 1;
    case '=':
        return *t = TK_EQ, 1;
    case '<':
        return *t = TK_LT, 1;
    case '>':
        return *t = TK_GT, 1;
    case '+':
        return *t = TK_PLUS, 1;
    case '-':
        return *t = TK_MINUS, 1;
    case '*':
        return *t = TK_STAR, 1;
    case '/':
        return *t = TK_SLASH, 1;
    case '%':
        return *t = TK_PERCENT, 1;
    default:
        return 0;
    }
}

gh_err route_lex_next(struct lexer *lx, struct token *t)
{
    GH_GUARD(skip_blank(lx));
    size_t p = lx->pos;
    memset(t, 0, sizeof *t);
    t->pos = p;
    if (p >= lx->n) {
        t->type = TK_EOF;
        return GH_OK;
    }
    const uint8_t *s = lx->s;
    uint8_t c = s[p];

    size_t idl = 0;
    while (p + idl < lx->n && route_is_id_char(s[p + idl])) idl++;
    size_t sysl = 0;
    if (c == '$') {
        size_t q = p + 1;
        while (q < lx->n && is_qp_char(s[q])) q++;
        if (q > p + 1) sysl = q - p;
    }
    size_t strl = 0, strdec = 0;
    if (c == '\'' || c == '"') GH_GUARD(string_scan(lx, p, &strl, &strdec));
    size_t numl = number_len(s, lx->n, p);
    enum tok_type opt = TK_EOF;
    size_t opl = op_len(s, lx->n, p, &opt);

    size_t best = idl;
    enum tok_type bt = idl ? word_type(s + p, idl) : TK_EOF;
    if (sysl > best || (sysl && sysl == best && bt == TK_IDENT)) best = sysl, bt = TK_SYS;
    if (strl >= best && strl) best = strl, bt = TK_STR;
    if (numl >= best && numl && (bt == TK_IDENT || bt == TK_STR || bt == TK_SYS || numl > best))
        best = numl, bt = TK_NUM;
    if (opl >= best && opl) best = opl, bt = opt;
    if (best == 0) {
        char msg[48];
        if (c >= 0x21 && c < 0x7f)
            snprintf(msg, sizeof msg, "unexpected character '%c'", c);
        else
            snprintf(msg, sizeof msg, "unexpected byte 0x%02x", c);
        return lex_fail(lx, p, msg);
    }
    t->type = bt;
    t->len = best;
    if (bt == TK_STR) t->str_len = strdec;
    if (bt == TK_NUM) GH_GUARD(number_value(lx, t));
    lx->pos = p + best;
    return GH_OK;
}

gh_err route_lex_source(struct lexer *lx, struct token *t)
{
    while (lx->pos < lx->n && is_space(lx->s[lx->pos])) lx->pos++;
    size_t p = lx->pos;
    memset(t, 0, sizeof *t);
    t->pos = p;
    if (p >= lx->n || lx->s[p] != '/')
        return lex_fail(lx, p, "expected a source path starting with '/'");
    size_t i = p;
    while (i < lx->n && lx->s[i] == '/') {
        i++;
        size_t k = i;
        while (k < lx->n && route_is_id_char(lx->s[k])) k++;
        if (k == i) return lex_fail(lx, i, "expected '*' or a name after '/' in the source");
        i = k;
    }
    t->type = TK_IDENT;
    t->len = i - p;
    lx->pos = i;
    return GH_OK;
}
