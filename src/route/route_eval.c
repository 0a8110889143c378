/* Route evaluator: walks the compiled tree with the value rules of
 * PROTOCOL.md 7.4-7.7. No allocation, logging or I/O: strings produced while
 * evaluating live in the context's fixed scratch area on the stack. */
#include <math.h>
#include <string.h>

#include "route/route_int.h"

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

uint8_t *gh_route_scratch(struct route_ctx *c, size_t n)
{
    if (n > sizeof c->scratch - c->used) return NULL;
    uint8_t *p = c->scratch + c->used;
    c->used += n;
    return p;
}

static const uint8_t *pool_str(const struct route_ctx *c, const struct route_node *n)
{
    return c->r->pool + n->soff;
}

/* Application property by name, ASCII case-insensitive; first match. */
static bool app_lookup(const struct route_ctx *c, const uint8_t *name, size_t len,
                       struct route_val *out)
{
    const struct gh_route_msg *m = c->m;
    struct gh_slice want = {name, len};
    for (size_t i = 0; i < m->napp; i++) {
        if (!gh_slice_eq_nocase(m->app[i].key, want)) continue;
        if (!m->app[i].value.ptr)
            *out = (struct route_val){.type = GH_ROUTE_V_NULL};
        else
            *out = string(m->app[i].value.ptr, m->app[i].value.len);
        return true;
    }
    return false;
}

static struct slice_trim {
    const uint8_t *p;
    size_t n;
} trim(const uint8_t *p, size_t n)
{
    while (n && (p[0] == ' ' || p[0] == '\t')) p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
    return (struct slice_trim){p, n};
}

/* 7.5: contentType application/json (parameters allowed) and
 * contentEncoding utf-8/utf-16/utf-32, and a well-formed JSON body. */
static bool body_usable(struct route_ctx *c)
{
    if (c->body_state) return c->body_state > 0;
    const struct gh_route_msg *m = c->m;
    struct gh_slice ct = m->sys[GH_ROUTE_SYS_CONTENT_TYPE];
    struct gh_slice ce = m->sys[GH_ROUTE_SYS_CONTENT_ENCODING];
    c->body_state = -1;
    if (!ct.ptr || !ce.ptr) return false;
    const uint8_t *semi = memchr(ct.ptr, ';', ct.len);
    struct slice_trim mt = trim(ct.ptr, semi ? (size_t)(semi - ct.ptr) : ct.len);
    if (!gh_slice_eq_nocase((struct gh_slice){mt.p, mt.n}, gh_slice_cstr("application/json")))
        return false;
    struct slice_trim enc = trim(ce.ptr, ce.len);
    struct gh_slice e = {enc.p, enc.n};
    if (!gh_slice_eq_nocase(e, gh_slice_cstr("utf-8")) &&
        !gh_slice_eq_nocase(e, gh_slice_cstr("utf-16")) &&
        !gh_slice_eq_nocase(e, gh_slice_cstr("utf-32")))
        return false;
    if (!gh_route_json_valid(m->body.ptr, m->body.len)) return false;
    c->body_state = 1;
    return true;
}

static struct route_val body_query(struct route_ctx *c, const struct route_node *b)
{
    struct route_seg segs[GH_ROUTE_BODY_PATH_MAX];
    size_t n = 0;
    if (!body_usable(c)) return undef();
    for (uint16_t k = b->kid; k != NODE_NONE && n < GH_ROUTE_BODY_PATH_MAX;
         k = c->r->nodes[k].next) {
        const struct route_node *s = &c->r->nodes[k];
        if (s->op == OP_SEG_KEY)
            segs[n++] = (struct route_seg){pool_str(c, s), s->slen, 0};
        else
            segs[n++] = (struct route_seg){NULL, 0, (uint32_t)s->num};
    }
    struct json_hit h;
    if (!gh_route_json_find(c->m->body.ptr, c->m->body.len, segs, n, &h)) return undef();
    switch (h.kind) {
    case JSON_NULL:
        return (struct route_val){.type = GH_ROUTE_V_NULL};
    case JSON_BOOL:
        return boolean(h.b);
    case JSON_OBJECT:
        return (struct route_val){.type = GH_ROUTE_V_OBJECT};
    case JSON_ARRAY:
        return (struct route_val){.type = GH_ROUTE_V_ARRAY};
    case JSON_NUMBER: {
        double d;
        if (!gh_route_json_number(h.tok, h.len, &d)) return undef();
        return number(d);
    }
    case JSON_STRING: {
        if (!h.escaped) return string(h.tok, h.len);
        /* Decoding never makes a string longer than its escaped form. */
        size_t saved = c->used, len;
        uint8_t *out = gh_route_scratch(c, h.len);
        if (!out || !gh_route_json_unescape(h.tok, h.len, out, h.len, &len)) {
            c->used = saved;
            return undef();
        }
        c->used = saved + len;
        return string(out, len);
    }
    case JSON_NONE:
        break;
    }
    return undef();
}

/* Values an operation may use: objects and arrays count as undefined. */
static bool usable(const struct route_val *v)
{
    return v->type != GH_ROUTE_V_UNDEFINED && v->type != GH_ROUTE_V_OBJECT &&
           v->type != GH_ROUTE_V_ARRAY;
}

static struct route_val compare(enum route_op op, const struct route_val *a,
                                const struct route_val *b)
{
    if (!usable(a) || !usable(b)) return undef();
    if (a->type == GH_ROUTE_V_NULL || b->type == GH_ROUTE_V_NULL) {
        if (a->type != b->type) return undef();
        if (op == OP_EQ) return boolean(true);
        if (op == OP_NE) return boolean(false);
        return undef();
    }
    if (a->type != b->type) return undef();
    int cmp;
    if (a->type == GH_ROUTE_V_NUMBER) {
        double x = a->n, y = b->n;
        switch (op) {
        case OP_EQ:
            return boolean(x == y);
        case OP_NE:
            return boolean(x != y);
        case OP_LT:
            return boolean(x < y);
        case OP_LE:
            return boolean(x <= y);
        case OP_GT:
            return boolean(x > y);
        case OP_GE:
            return boolean(x >= y);
        default:
            return undef();
        }
    }
    if (a->type == GH_ROUTE_V_STRING)
        cmp = gh_route_str_cmp(a->s, a->len, b->s, b->len);
    else
        cmp = (int)a->b - (int)b->b;
    switch (op) {
    case OP_EQ:
        return boolean(cmp == 0);
    case OP_NE:
        return boolean(cmp != 0);
    case OP_LT:
        return boolean(cmp < 0);
    case OP_LE:
        return boolean(cmp <= 0);
    case OP_GT:
        return boolean(cmp > 0);
    case OP_GE:
        return boolean(cmp >= 0);
    default:
        return undef();
    }
}

/* Arithmetic operand: numbers, and null as 0 (edgeHub). */
static bool arith_num(const struct route_val *v, double *out)
{
    if (v->type == GH_ROUTE_V_NUMBER) {
        *out = v->n;
        return true;
    }
    if (v->type == GH_ROUTE_V_NULL) {
        *out = 0;
        return true;
    }
    return false;
}

static struct route_val arith(enum route_op op, const struct route_val *a,
                              const struct route_val *b)
{
    double x, y;
    if (!arith_num(a, &x) || !arith_num(b, &y)) return undef();
    switch (op) {
    case OP_ADD:
        return number(x + y);
    case OP_SUB:
        return number(x - y);
    case OP_MUL:
        return number(x * y);
    case OP_DIV:
        return number(x / y);
    case OP_MOD:
        return number(fmod(x, y));
    default:
        return undef();
    }
}

static struct route_val concat2(struct route_ctx *c, const struct route_val *a,
                                const struct route_val *b)
{
    if (a->type != GH_ROUTE_V_STRING || b->type != GH_ROUTE_V_STRING) return undef();
    if (a->len > SIZE_MAX - b->len) return undef();
    uint8_t *out = gh_route_scratch(c, a->len + b->len);
    if (!out) return undef();
    if (a->len) memcpy(out, a->s, a->len);
    if (b->len) memcpy(out + a->len, b->s, b->len);
    return string(out, a->len + b->len);
}

/* Three-valued truth of a value: 1 true, 0 false, -1 anything else. */
static int truth(const struct route_val *v)
{
    if (v->type != GH_ROUTE_V_BOOL) return -1;
    return v->b ? 1 : 0;
}

static struct route_val eval(struct route_ctx *c, uint16_t id);

static __attribute__((noinline)) struct route_val eval_call(struct route_ctx *c,
                                                            const struct route_node *n)
{
    struct route_val args[GH_ROUTE_ARGS_MAX];
    size_t k = 0;
    for (uint16_t a = n->kid; a != NODE_NONE && k < GH_ROUTE_ARGS_MAX; a = c->r->nodes[a].next)
        args[k++] = eval(c, a);
    return gh_route_call(c, n, args, k);
}

static struct route_val eval(struct route_ctx *c, uint16_t id)
{
    const struct route_node *n = &c->r->nodes[id];
    struct route_val a, b;
    switch ((enum route_op)n->op) {
    case OP_NUM:
        return number(n->num);
    case OP_STR:
        return string(pool_str(c, n), n->slen);
    case OP_TRUE:
        return boolean(true);
    case OP_FALSE:
        return boolean(false);
    case OP_NULL:
        return (struct route_val){.type = GH_ROUTE_V_NULL};
    case OP_UNDEF:
        return undef();
    case OP_APP:
        if (app_lookup(c, pool_str(c, n), n->slen, &a)) return a;
        return undef();
    case OP_SYS: {
        if (!(n->flags & NODE_FORCED) && app_lookup(c, pool_str(c, n), n->slen, &a)) return a;
        struct gh_slice v = c->m->sys[n->aux];
        if (!v.ptr) return undef();
        return string(v.ptr, v.len);
    }
    case OP_BODY:
        if (!(n->flags & NODE_FORCED) && app_lookup(c, pool_str(c, n), n->slen, &a)) return a;
        return body_query(c, n);
    case OP_SEG_KEY:
    case OP_SEG_INDEX:
        return undef();
    case OP_NEG:
        a = eval(c, n->kid);
        if (a.type == GH_ROUTE_V_NUMBER) return number(-a.n);
        if (a.type == GH_ROUTE_V_NULL) return number(0);
        return undef();
    case OP_NOT:
        a = eval(c, n->kid);
        if (a.type != GH_ROUTE_V_BOOL) return undef();
        return boolean(!a.b);
    case OP_AND: {
        a = eval(c, n->kid);
        int ta = truth(&a);
        if (ta == 0) return boolean(false);
        b = eval(c, c->r->nodes[n->kid].next);
        int tb = truth(&b);
        if (tb == 0) return boolean(false);
        if (ta == 1 && tb == 1) return boolean(true);
        return undef();
    }
    case OP_OR: {
        a = eval(c, n->kid);
        int ta = truth(&a);
        if (ta == 1) return boolean(true);
        b = eval(c, c->r->nodes[n->kid].next);
        int tb = truth(&b);
        if (tb == 1) return boolean(true);
        if (ta == 0 && tb == 0) return boolean(false);
        return undef();
    }
    case OP_COALESCE:
        a = eval(c, n->kid);
        if (usable(&a)) return a;
        return eval(c, c->r->nodes[n->kid].next);
    case OP_EQ:
    case OP_NE:
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE:
        a = eval(c, n->kid);
        b = eval(c, c->r->nodes[n->kid].next);
        return compare((enum route_op)n->op, &a, &b);
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
    case OP_DIV:
    case OP_MOD:
        a = eval(c, n->kid);
        b = eval(c, c->r->nodes[n->kid].next);
        return arith((enum route_op)n->op, &a, &b);
    case OP_CAT:
        a = eval(c, n->kid);
        b = eval(c, c->r->nodes[n->kid].next);
        return concat2(c, &a, &b);
    case OP_CALL:
        return eval_call(c, n);
    }
    return undef();
}

static struct route_val run(const struct gh_route *r, const struct gh_route_msg *m)
{
    if (r->root == NODE_NONE) return boolean(true);
    struct route_ctx c;
    c.r = r;
    c.m = m;
    c.body_state = 0;
    c.used = 0;
    return eval(&c, r->root);
}

bool gh_route_eval(const struct gh_route *r, const struct gh_route_msg *m)
{
    if (!gh_route_source_matches(r, m->source)) return false;
    struct route_val v = run(r, m);
    return v.type == GH_ROUTE_V_BOOL && v.b;
}

struct gh_route_value gh_route_eval_value(const struct gh_route *r, const struct gh_route_msg *m)
{
    struct route_val v = run(r, m);
    struct gh_route_value out = {.type = v.type, .b = v.b, .n = v.n};
    if (v.type == GH_ROUTE_V_STRING) out.n = (double)v.len;
    return out;
}
