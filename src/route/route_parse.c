/* Route parser: recursive descent over the grammar of PROTOCOL.md 7.3,
 * building the expression tree in scratch arrays and then copying it into
 * one immutable allocation (struct gh_route). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route/route_int.h"
#include "route/route_lex.h"
#include "route/route_sink.h"

/* Shown excerpt of an offending token, bytes. */
#define TOKEN_EXCERPT_MAX 24
/* Largest array index accepted in a body path. */
#define BODY_INDEX_MAX 1000000000u

struct parser {
    struct lexer lx;
    struct token tok;
    struct route_node *nodes;
    size_t nnodes;
    uint8_t *pool;
    size_t pool_len;
    size_t pool_cap;
    size_t depth;
    bool uses_body;
    struct gh_route_error *err;
    /* Pool offsets of the source and the sink argument. */
    uint32_t src_off, src_len;
    enum gh_route_sink_kind sink_kind;
    uint32_t arg_off, arg_len;
    size_t mod_off, mod_len, in_off, in_len; /* pool offsets (BROKERED) */
};

static gh_err fail(struct parser *p, gh_err rc, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static gh_err fail(struct parser *p, gh_err rc, size_t pos, const char *fmt, ...)
{
    if (!p->err) return rc;
    char body[GH_ROUTE_ERRMSG_MAX - 32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    p->err->column = pos + 1;
    snprintf(p->err->msg, sizeof p->err->msg, "column %zu: %s", pos + 1, body);
    return rc;
}

/* A printable excerpt of the current token for messages. */
static const char *tok_text(const struct parser *p, char *buf, size_t cap)
{
    const struct token *t = &p->tok;
    if (t->type == TK_EOF) return "end of input";
    size_t n = t->len < TOKEN_EXCERPT_MAX ? t->len : TOKEN_EXCERPT_MAX;
    size_t o = 0;
    buf[o++] = '\'';
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        uint8_t c = p->lx.s[t->pos + i];
        buf[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (n < t->len && o + 5 < cap) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o++] = '\'';
    buf[o] = 0;
    return buf;
}

static gh_err lex_error(struct parser *p)
{
    return fail(p, GH_ERR_CONFIG_SYNTAX, p->lx.err_pos, "%s", p->lx.err_msg);
}

static gh_err next(struct parser *p)
{
    if (route_lex_next(&p->lx, &p->tok) != GH_OK) return lex_error(p);
    return GH_OK;
}

static gh_err expected(struct parser *p, const char *what)
{
    char buf[TOKEN_EXCERPT_MAX + 8];
    return fail(p, GH_ERR_CONFIG_SYNTAX, p->tok.pos, "expected %s, got %s", what,
                tok_text(p, buf, sizeof buf));
}

static gh_err expect(struct parser *p, enum tok_type t, const char *what)
{
    if (p->tok.type != t) return expected(p, what);
    return next(p);
}

static gh_err new_node(struct parser *p, enum route_op op, size_t pos, uint16_t *out)
{
    if (p->nnodes >= GH_ROUTE_NODES_MAX)
        return fail(p, GH_ERR_TOO_MANY, pos, "condition too large (more than %d nodes)",
                    GH_ROUTE_NODES_MAX);
    struct route_node *n = &p->nodes[p->nnodes];
    memset(n, 0, sizeof *n);
    n->op = (uint8_t)op;
    n->kid = NODE_NONE;
    n->next = NODE_NONE;
    *out = (uint16_t)p->nnodes++;
    return GH_OK;
}

/* Append bytes plus a NUL to the pool; offset in *off. */
static gh_err pool_add(struct parser *p, const uint8_t *s, size_t n, uint32_t *off)
{
    if (n + 1 > p->pool_cap - p->pool_len) return GH_ERR_INTERNAL;
    if (n) memcpy(p->pool + p->pool_len, s, n);
    p->pool[p->pool_len + n] = 0;
    *off = (uint32_t)p->pool_len;
    p->pool_len += n + 1;
    return GH_OK;
}

static gh_err node_str(struct parser *p, uint16_t id, const uint8_t *s, size_t n)
{
    p->nodes[id].slen = (uint32_t)n;
    return pool_add(p, s, n, &p->nodes[id].soff);
}

static gh_err binary(struct parser *p, enum route_op op, size_t pos, uint16_t lhs, uint16_t rhs,
                     uint16_t *out)
{
    GH_GUARD(new_node(p, op, pos, out));
    p->nodes[*out].kid = lhs;
    p->nodes[*out].nkids = 2;
    p->nodes[lhs].next = rhs;
    return GH_OK;
}

static gh_err enter(struct parser *p)
{
    if (++p->depth > GH_ROUTE_DEPTH_MAX)
        return fail(p, GH_ERR_TOO_MANY, p->tok.pos, "condition nested deeper than %d levels",
                    GH_ROUTE_DEPTH_MAX);
    return GH_OK;
}

static gh_err parse_cond(struct parser *p, uint16_t *out);

/* Body path segments after "$body": .name and [n]. */
static gh_err parse_body_path(struct parser *p, uint16_t body, size_t pos, const uint8_t *s,
                              size_t n)
{
    size_t i = 0, nsegs = 0;
    uint16_t last = NODE_NONE;
    if (n == 0) return fail(p, GH_ERR_CONFIG_SYNTAX, pos, "$body needs a path, e.g. $body.name");
    while (i < n) {
        uint16_t seg;
        size_t at = pos + i;
        if (++nsegs > GH_ROUTE_BODY_PATH_MAX)
            return fail(p, GH_ERR_TOO_MANY, at, "body path longer than %d segments",
                        GH_ROUTE_BODY_PATH_MAX);
        if (s[i] == '.') {
            size_t k = i + 1;
            while (k < n && s[k] != '.' && s[k] != '[' && s[k] != ']') k++;
            if (k == i + 1) return fail(p, GH_ERR_CONFIG_SYNTAX, at + 1, "empty name in body path");
            if (k < n && s[k] == ']')
                return fail(p, GH_ERR_CONFIG_SYNTAX, pos + k, "unexpected ']' in body path");
            GH_GUARD(new_node(p, OP_SEG_KEY, at, &seg));
            GH_GUARD(node_str(p, seg, s + i + 1, k - i - 1));
            i = k;
        } else if (s[i] == '[') {
            size_t k = i + 1;
            uint64_t v = 0;
            while (k < n && s[k] >= '0' && s[k] <= '9' && v <= BODY_INDEX_MAX)
                v = v * 10 + (uint64_t)(s[k++] - '0');
            if (k == i + 1 || k >= n || s[k] != ']' || v > BODY_INDEX_MAX)
                return fail(p, GH_ERR_CONFIG_SYNTAX, at, "malformed array index in body path");
            GH_GUARD(new_node(p, OP_SEG_INDEX, at, &seg));
            p->nodes[seg].num = (double)v;
            i = k + 1;
        } else {
            return fail(p, GH_ERR_CONFIG_SYNTAX, at, "expected '.' or '[' in body path");
        }
        if (last == NODE_NONE)
            p->nodes[body].kid = seg;
        else
            p->nodes[last].next = seg;
        last = seg;
        p->nodes[body].nkids++;
    }
    return GH_OK;
}

static bool prefix_nocase(const uint8_t *s, size_t n, const char *pre)
{
    size_t k = strlen(pre);
    if (n < k) return false;
    return gh_slice_eq_nocase((struct gh_slice){s, k}, gh_slice_cstr(pre));
}

/* `$...` reference (current token, TK_SYS). */
static gh_err parse_sysref(struct parser *p, bool forced, uint16_t *out)
{
    const struct token t = p->tok;
    const uint8_t *s = p->lx.s + t.pos;
    const uint8_t *name = s + 1;
    size_t nl = t.len - 1;
    if (prefix_nocase(name, nl, "body") && (nl == 4 || name[4] == '.' || name[4] == '[')) {
        GH_GUARD(new_node(p, OP_BODY, t.pos, out));
        GH_GUARD(node_str(p, *out, s, t.len));
        if (forced) p->nodes[*out].flags |= NODE_FORCED;
        GH_GUARD(parse_body_path(p, *out, t.pos + 5, name + 4, nl - 4));
        p->uses_body = true;
        return next(p);
    }
    if (prefix_nocase(name, nl, "twin.") ||
        gh_slice_eq_nocase((struct gh_slice){name, nl}, gh_slice_cstr("twin")))
        return fail(p, GH_ERR_CONFIG_SYNTAX, t.pos,
                    "twin queries ($twin) are not supported on the gateway");
    enum gh_route_sys sys;
    if (!gh_route_sys_from_name((struct gh_slice){name, nl}, &sys)) {
        char buf[TOKEN_EXCERPT_MAX + 8];
        return fail(p, GH_ERR_CONFIG_SYNTAX, t.pos, "unknown system property %s",
                    tok_text(p, buf, sizeof buf));
    }
    GH_GUARD(new_node(p, OP_SYS, t.pos, out));
    p->nodes[*out].aux = (uint8_t)sys;
    if (forced) p->nodes[*out].flags |= NODE_FORCED;
    GH_GUARD(node_str(p, *out, s, t.len));
    return next(p);
}

static gh_err parse_call(struct parser *p, struct token name, uint16_t *out)
{
    enum route_fn fn;
    const uint8_t *s = p->lx.s + name.pos;
    if (!gh_route_fn_lookup((struct gh_slice){s, name.len}, &fn)) {
        char buf[TOKEN_EXCERPT_MAX + 8];
        struct token save = p->tok;
        p->tok = name;
        const char *txt = tok_text(p, buf, sizeof buf);
        p->tok = save;
        return fail(p, GH_ERR_CONFIG_SYNTAX, name.pos, "unknown function %s", txt);
    }
    GH_GUARD(enter(p));
    GH_GUARD(next(p)); /* '(' */
    uint16_t first = NODE_NONE, last = NODE_NONE;
    size_t nargs = 0;
    if (p->tok.type != TK_RPAREN) {
        for (;;) {
            uint16_t a;
            if (nargs >= GH_ROUTE_ARGS_MAX)
                return fail(p, GH_ERR_TOO_MANY, p->tok.pos, "more than %d arguments",
                            GH_ROUTE_ARGS_MAX);
            GH_GUARD(parse_cond(p, &a));
            if (last == NODE_NONE)
                first = a;
            else
                p->nodes[last].next = a;
            last = a;
            nargs++;
            if (p->tok.type != TK_COMMA) break;
            GH_GUARD(next(p));
        }
    }
    if (p->tok.type != TK_RPAREN) return expected(p, "',' or ')'");
    const struct route_fn_info *fi = gh_route_fn_info(fn);
    if (nargs < fi->min_args || nargs > fi->max_args) {
        if (fi->min_args == fi->max_args)
            return fail(p, GH_ERR_CONFIG_SYNTAX, name.pos, "%s takes %u argument%s, got %zu",
                        fi->name, fi->min_args, fi->min_args == 1 ? "" : "s", nargs);
        if (fi->max_args == GH_ROUTE_ARGS_MAX)
            return fail(p, GH_ERR_CONFIG_SYNTAX, name.pos,
                        "%s takes at least %u arguments, got %zu", fi->name, fi->min_args, nargs);
        return fail(p, GH_ERR_CONFIG_SYNTAX, name.pos, "%s takes %u to %u arguments, got %zu",
                    fi->name, fi->min_args, fi->max_args, nargs);
    }
    GH_GUARD(new_node(p, OP_CALL, name.pos, out));
    p->nodes[*out].aux = (uint8_t)fn;
    p->nodes[*out].kid = first;
    p->nodes[*out].nkids = (uint8_t)nargs;
    p->depth--;
    return next(p);
}

static gh_err parse_primary(struct parser *p, uint16_t *out)
{
    struct token t = p->tok;
    switch (t.type) {
    case TK_NUM:
        GH_GUARD(new_node(p, OP_NUM, t.pos, out));
        p->nodes[*out].num = t.num;
        return next(p);
    case TK_STR: {
        GH_GUARD(new_node(p, OP_STR, t.pos, out));
        if (t.str_len + 1 > p->pool_cap - p->pool_len) return GH_ERR_INTERNAL;
        route_lex_unescape(&p->lx, &t, p->pool + p->pool_len);
        p->pool[p->pool_len + t.str_len] = 0;
        p->nodes[*out].soff = (uint32_t)p->pool_len;
        p->nodes[*out].slen = (uint32_t)t.str_len;
        p->pool_len += t.str_len + 1;
        return next(p);
    }
    case TK_TRUE:
        GH_GUARD(new_node(p, OP_TRUE, t.pos, out));
        return next(p);
    case TK_FALSE:
        GH_GUARD(new_node(p, OP_FALSE, t.pos, out));
        return next(p);
    case TK_NULL:
        GH_GUARD(new_node(p, OP_NULL, t.pos, out));
        return next(p);
    case TK_UNDEF:
        GH_GUARD(new_node(p, OP_UNDEF, t.pos, out));
        return next(p);
    case TK_LPAREN:
        GH_GUARD(enter(p));
        GH_GUARD(next(p));
        GH_GUARD(parse_cond(p, out));
        GH_GUARD(expect(p, TK_RPAREN, "')'"));
        p->depth--;
        return GH_OK;
    case TK_LBRACE:
        GH_GUARD(next(p));
        if (p->tok.type != TK_SYS) return expected(p, "a $ property inside '{ }'");
        GH_GUARD(parse_sysref(p, true, out));
        return expect(p, TK_RBRACE, "'}'");
    case TK_SYS:
        return parse_sysref(p, false, out);
    case TK_IDENT:
        GH_GUARD(next(p));
        if (p->tok.type == TK_LPAREN) return parse_call(p, t, out);
        GH_GUARD(new_node(p, OP_APP, t.pos, out));
        return node_str(p, *out, p->lx.s + t.pos, t.len);
    default:
        return expected(p, "an expression");
    }
}

static gh_err parse_unary(struct parser *p, uint16_t *out)
{
    enum tok_type t = p->tok.type;
    if (t != TK_MINUS && t != TK_NOT) return parse_primary(p, out);
    size_t pos = p->tok.pos;
    uint16_t kid;
    GH_GUARD(enter(p));
    GH_GUARD(next(p));
    GH_GUARD(parse_unary(p, &kid));
    p->depth--;
    GH_GUARD(new_node(p, t == TK_MINUS ? OP_NEG : OP_NOT, pos, out));
    p->nodes[*out].kid = kid;
    p->nodes[*out].nkids = 1;
    return GH_OK;
}

/* One precedence level: operand { op operand }. */
struct level_op {
    enum tok_type tok;
    enum route_op op;
};

static gh_err parse_level(struct parser *p, int level, uint16_t *out);

static const struct level_op *level_ops(int level, size_t *n)
{
    static const struct level_op coalesce[] = {{TK_COALESCE, OP_COALESCE}};
    static const struct level_op or_ops[] = {{TK_OR, OP_OR}};
    static const struct level_op and_ops[] = {{TK_AND, OP_AND}};
    static const struct level_op eq[] = {{TK_EQ, OP_EQ}, {TK_NE, OP_NE}};
    static const struct level_op cmp[] = {
        {TK_LT, OP_LT}, {TK_LE, OP_LE}, {TK_GT, OP_GT}, {TK_GE, OP_GE}};
    static const struct level_op add[] = {{TK_PLUS, OP_ADD}, {TK_MINUS, OP_SUB}, {TK_CAT, OP_CAT}};
    static const struct level_op mul[] = {
        {TK_STAR, OP_MUL}, {TK_SLASH, OP_DIV}, {TK_PERCENT, OP_MOD}};
    static const struct {
        const struct level_op *ops;
        size_t n;
    } levels[] = {{coalesce, 1}, {or_ops, 1}, {and_ops, 1}, {eq, 2}, {cmp, 4}, {add, 3}, {mul, 3}};
    *n = levels[level].n;
    return levels[level].ops;
}

#define LEVEL_ADDITIVE 5
#define LEVEL_LAST 6

static gh_err parse_operand(struct parser *p, int level, uint16_t *out)
{
    if (level == LEVEL_LAST) return parse_unary(p, out);
    return parse_level(p, level + 1, out);
}

static gh_err parse_level(struct parser *p, int level, uint16_t *out)
{
    size_t nops;
    const struct level_op *ops = level_ops(level, &nops);
    uint16_t lhs;
    GH_GUARD(parse_operand(p, level, &lhs));
    for (;;) {
        /* "x -5": a negative number where an operator is expected is the
         * binary minus followed by the number. */
        if (level == LEVEL_ADDITIVE && p->tok.type == TK_NUM && p->lx.s[p->tok.pos] == '-') {
            route_lex_rewind(&p->lx, p->tok.pos + 1);
            p->tok.type = TK_MINUS;
            p->tok.len = 1;
        }
        const struct level_op *hit = NULL;
        for (size_t i = 0; i < nops; i++)
            if (ops[i].tok == p->tok.type) hit = &ops[i];
        if (!hit) break;
        size_t pos = p->tok.pos;
        uint16_t rhs;
        GH_GUARD(next(p));
        GH_GUARD(parse_operand(p, level, &rhs));
        GH_GUARD(binary(p, hit->op, pos, lhs, rhs, &lhs));
    }
    *out = lhs;
    return GH_OK;
}

static gh_err parse_cond(struct parser *p, uint16_t *out)
{
    return parse_level(p, 0, out);
}

/* Source after FROM: strip trailing '*' and '/', append one '/'. */
static gh_err parse_source(struct parser *p)
{
    struct token t;
    if (route_lex_source(&p->lx, &t) != GH_OK) return lex_error(p);
    const uint8_t *s = p->lx.s + t.pos;
    size_t n = t.len;
    while (n > 0 && (s[n - 1] == '*' || s[n - 1] == '/')) n--;
    if (n + 2 > p->pool_cap - p->pool_len) return GH_ERR_INTERNAL;
    p->src_off = (uint32_t)p->pool_len;
    p->src_len = (uint32_t)(n + 1);
    memcpy(p->pool + p->pool_len, s, n);
    p->pool[p->pool_len + n] = '/';
    p->pool[p->pool_len + n + 1] = 0;
    p->pool_len += n + 2;
    return next(p);
}

static gh_err parse_sink(struct parser *p)
{
    struct token t = p->tok;
    const uint8_t *s = p->lx.s + t.pos;
    char buf[TOKEN_EXCERPT_MAX + 8];
    if (t.type == TK_SYS) {
        if (!gh_slice_eq_nocase((struct gh_slice){s, t.len}, gh_slice_cstr("$upstream")))
            return fail(p, GH_ERR_CONFIG_VALUE, t.pos, "unknown endpoint %s (only $upstream)",
                        tok_text(p, buf, sizeof buf));
        p->sink_kind = GH_ROUTE_SINK_UPSTREAM;
        GH_GUARD(pool_add(p, NULL, 0, &p->arg_off));
        p->arg_len = 0;
        return next(p);
    }
    if (t.type != TK_IDENT) return expected(p, "a sink ($upstream or an endpoint function)");
    GH_GUARD(next(p));
    GH_GUARD(expect(p, TK_LPAREN, "'(' after the endpoint name"));
    if (p->tok.type != TK_STR) return expected(p, "a quoted endpoint argument");
    struct token a = p->tok;
    GH_GUARD(next(p));
    GH_GUARD(expect(p, TK_RPAREN, "')'"));
    if (!gh_route_sink_kind_from_name((struct gh_slice){s, t.len}, &p->sink_kind)) {
        struct token save = p->tok;
        p->tok = t;
        const char *txt = tok_text(p, buf, sizeof buf);
        p->tok = save;
        return fail(p, GH_ERR_CONFIG_VALUE, t.pos,
                    "unknown endpoint %s (BrokeredEndpoint, LocalTopic or AppendFile)", txt);
    }
    if (a.str_len + 1 > p->pool_cap - p->pool_len) return GH_ERR_INTERNAL;
    uint8_t *arg = p->pool + p->pool_len;
    route_lex_unescape(&p->lx, &a, arg);
    arg[a.str_len] = 0;
    const char *why = NULL;
    if (gh_route_sink_check(p->sink_kind, arg, a.str_len, &p->mod_off, &p->mod_len, &p->in_off,
                            &p->in_len, &why) != GH_OK)
        return fail(p, GH_ERR_CONFIG_VALUE, a.pos, "%s", why);
    p->arg_off = (uint32_t)p->pool_len;
    p->arg_len = (uint32_t)a.str_len;
    p->pool_len += a.str_len + 1;
    /* Module and input get their own NUL-terminated copies. */
    uint32_t off;
    if (p->mod_len) {
        GH_GUARD(pool_add(p, p->pool + p->arg_off + p->mod_off, p->mod_len, &off));
        p->mod_off = off;
    }
    if (p->in_len) {
        GH_GUARD(pool_add(p, p->pool + p->arg_off + p->in_off, p->in_len, &off));
        p->in_off = off;
    }
    return GH_OK;
}

static gh_err parse_route(struct parser *p, uint16_t *root)
{
    *root = NODE_NONE;
    GH_GUARD(next(p));
    if (p->tok.type == TK_SELECT) {
        GH_GUARD(next(p));
        GH_GUARD(expect(p, TK_STAR, "'*' after SELECT"));
        if (p->tok.type != TK_FROM) return expected(p, "FROM");
    } else if (p->tok.type != TK_FROM) {
        return expected(p, "SELECT or FROM");
    }
    /* The lexer stands right after FROM: the source has its own lexis. */
    GH_GUARD(parse_source(p));
    if (p->tok.type == TK_WHERE) {
        GH_GUARD(next(p));
        GH_GUARD(parse_cond(p, root));
        if (p->tok.type != TK_INTO) return expected(p, "INTO");
    } else if (p->tok.type != TK_INTO) {
        return expected(p, "WHERE or INTO");
    }
    GH_GUARD(next(p));
    GH_GUARD(parse_sink(p));
    if (p->tok.type != TK_EOF) return expected(p, "end of route after the sink");
    return GH_OK;
}

static struct gh_slice pool_slice(const uint8_t *pool, size_t off, size_t len)
{
    return (struct gh_slice){pool + off, len};
}

gh_err gh_route_parse(const char *text, size_t len, struct gh_route **out,
                      struct gh_route_error *err)
{
    struct parser p;
    gh_err rc;
    struct gh_route *r = NULL;
    memset(&p, 0, sizeof p);
    p.err = err;
    if (err) memset(err, 0, sizeof *err);
    if (len > GH_ROUTE_TEXT_MAX) {
        if (err)
            snprintf(err->msg, sizeof err->msg, "route longer than %d bytes", GH_ROUTE_TEXT_MAX);
        return GH_ERR_TOO_LARGE;
    }
    if (!text && len) return GH_ERR_INTERNAL;
    route_lex_init(&p.lx, (const uint8_t *)(text ? text : ""), len);
    /* Every pool string is at most as long as the text it comes from, plus
     * a NUL; a body reference stores its text and its segments, a brokered
     * endpoint its argument, module and input: 3 * len bounds them all. */
    p.pool_cap = 3 * len + 2 * GH_ROUTE_NODES_MAX + 16;
    p.nodes = calloc(GH_ROUTE_NODES_MAX, sizeof *p.nodes);
    p.pool = malloc(p.pool_cap);
    if (!p.nodes || !p.pool) {
        rc = GH_ERR_NOMEM;
        goto out;
    }
    uint16_t root;
    rc = parse_route(&p, &root);
    if (rc != GH_OK) goto out;

    size_t nodes_sz = p.nnodes * sizeof(struct route_node);
    r = malloc(sizeof *r + nodes_sz + p.pool_len);
    if (!r) {
        rc = GH_ERR_NOMEM;
        goto out;
    }
    memset(r, 0, sizeof *r);
    if (nodes_sz) memcpy(r->nodes, p.nodes, nodes_sz);
    uint8_t *pool = (uint8_t *)r->nodes + nodes_sz;
    memcpy(pool, p.pool, p.pool_len);
    r->pool = pool;
    r->pool_len = p.pool_len;
    r->nnodes = (uint16_t)p.nnodes;
    r->root = root;
    r->uses_body = p.uses_body;
    r->source = pool_slice(pool, p.src_off, p.src_len);
    r->sink.kind = p.sink_kind;
    r->sink.arg = pool_slice(pool, p.arg_off, p.arg_len);
    r->sink.module = p.mod_len ? pool_slice(pool, p.mod_off, p.mod_len) : GH_SLICE_EMPTY;
    r->sink.input = p.in_len ? pool_slice(pool, p.in_off, p.in_len) : GH_SLICE_EMPTY;
    *out = r;
    rc = GH_OK;
out:
    free(p.nodes);
    free(p.pool);
    return rc;
}

void gh_route_free(struct gh_route *r)
{
    free(r);
}
