/* TOML grammar: document, keys, headers, key/value pairs, arrays, inline
 * tables, and the table-definition rules of TOML 1.0 (see toml.h for the
 * subset). Tokens are read by toml_scalar.c; storage is toml_doc.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/toml_internal.h"

/* Capacity of a key rendered for a message ("a.b.\"c d\""). */
#define KEY_TEXT_MAX 128u

/* A parsed (possibly dotted) key: segments in arena memory. */
struct key {
    unsigned n;
    const char *seg[GH_TOML_MAX_DEPTH];
    size_t len[GH_TOML_MAX_DEPTH];
    size_t off[GH_TOML_MAX_DEPTH];
};

int toml_peek(const struct parser *p, size_t k)
{
    if (k >= p->r.len - p->r.pos) return -1;
    return p->r.data[p->r.pos + k];
}

void toml_skip(struct parser *p, size_t n)
{
    struct gh_slice s;
    /* callers only skip bytes toml_peek has shown; stop at the end otherwise */
    if (gh_reader_bytes(&p->r, n, &s) != GH_OK) p->r.pos = p->r.len;
}

static size_t here(const struct parser *p)
{
    return p->r.pos;
}

struct gh_toml_pos toml_locate(struct parser *p, size_t off)
{
    if (off < p->loc_bol) { /* an earlier line: rescan from the start */
        p->loc_off = p->loc_bol = p->text_start;
        p->loc_line = 1;
    }
    while (p->loc_off < off) {
        if (p->r.data[p->loc_off] == '\n') {
            p->loc_line++;
            p->loc_bol = p->loc_off + 1;
        }
        p->loc_off++;
    }
    return (struct gh_toml_pos){p->loc_line, (unsigned)(off - p->loc_bol + 1)};
}

gh_err toml_fail(struct parser *p, gh_err code, size_t off, const char *fmt, ...)
{
    if (p->err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
        va_end(ap);
        struct gh_toml_pos pos = toml_locate(p, off);
        p->err->line = pos.line;
        p->err->col = pos.col;
    }
    return code;
}

static bool all_bare(const char *s, size_t n)
{
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* Segments 0..upto of k as "a.b.\"c d\"", escaped and truncated. */
static char *key_text(const struct key *k, unsigned upto, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (unsigned i = 0; i <= upto && i < k->n; i++) {
        char seg[KEY_TEXT_MAX];
        gh_toml_escape(seg, sizeof seg, k->seg[i], k->len[i]);
        const char *q = all_bare(k->seg[i], k->len[i]) ? "" : "\"";
        int w = snprintf(out + o, cap - o, "%s%s%s%s", i ? "." : "", q, seg, q);
        if (w < 0 || (size_t)w >= cap - o) break;
        o += (size_t)w;
    }
    return out;
}

/* Full dotted path of a table member, e.g. a.b."c d" (array elements add
 * nothing: the path of [[a]] members is a.x). Escaped and truncated. */
static char *node_path(const struct gh_toml_value *v, char *out, size_t cap)
{
    const struct gh_toml_value *chain[GH_TOML_MAX_DEPTH + 1];
    unsigned n = 0;
    for (; v != NULL && n < GH_TOML_MAX_DEPTH + 1; v = v->parent)
        if (v->key != NULL) chain[n++] = v;
    struct key k = {.n = 0};
    while (n > 0 && k.n < GH_TOML_MAX_DEPTH) {
        n--;
        k.seg[k.n] = chain[n]->key;
        k.len[k.n] = chain[n]->key_len;
        k.n++;
    }
    if (k.n == 0) {
        out[0] = '\0';
        return out;
    }
    return key_text(&k, k.n - 1, out, cap);
}

static const char *type_of(const struct gh_toml_value *v)
{
    if (v->type == GH_TOML_ARRAY && v->aot) return "array of tables";
    if (v->type == GH_TOML_TABLE && v->kind == TABLE_INLINE) return "inline table";
    return gh_toml_type_name((enum gh_toml_type)v->type);
}

static gh_err add_node(struct parser *p, struct gh_toml_value *parent, enum gh_toml_type type,
                       size_t off, const struct key *k, unsigned ki, struct gh_toml_value **out)
{
    const char *key = k ? k->seg[ki] : NULL;
    size_t key_len = k ? k->len[ki] : 0;
    gh_err rc = toml_node_new(p->doc, parent, type, key, key_len, out);
    if (rc == GH_ERR_TOO_MANY && p->doc->nodes >= GH_TOML_MAX_NODES)
        return toml_fail(p, rc, off, "more than %u values", GH_TOML_MAX_NODES);
    if (rc == GH_ERR_TOO_MANY)
        return toml_fail(p, rc, off, "nesting deeper than %u levels", GH_TOML_MAX_DEPTH);
    if (rc == GH_ERR_NOMEM) return toml_fail(p, rc, off, "out of memory");
    if (rc != GH_OK) return toml_fail(p, rc, off, "document needs too much memory");
    /* key first: positions are located in file order */
    if (k) (*out)->key_pos = toml_locate(p, k->off[ki]);
    (*out)->pos = toml_locate(p, off);
    return GH_OK;
}

static struct gh_toml_value *child(struct gh_toml_value *t, const struct key *k, unsigned i)
{
    return (struct gh_toml_value *)gh_toml_child(t, k->seg[i], k->len[i]);
}

/* ---- whitespace, comments, line ends --------------------------------------- */

static size_t newline_len(const struct parser *p)
{
    int c = toml_peek(p, 0);
    if (c == '\n') return 1;
    if (c == '\r' && toml_peek(p, 1) == '\n') return 2;
    return 0;
}

static void skip_blank(struct parser *p)
{
    while (toml_peek(p, 0) == ' ' || toml_peek(p, 0) == '\t') toml_skip(p, 1);
}

/* At '#': skip the comment up to (not including) the line end. */
static gh_err skip_comment(struct parser *p)
{
    for (;;) {
        int c = toml_peek(p, 0);
        if (c < 0 || newline_len(p)) return GH_OK;
        if (c == '\r') return toml_fail(p, GH_ERR_CONFIG_SYNTAX, here(p), "bare carriage return");
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return toml_fail(p, GH_ERR_CONFIG_SYNTAX, here(p),
                             "control character U+%04X in comment", (unsigned)c);
        toml_skip(p, 1);
    }
}

/* Blanks, comments and newlines (inside arrays). */
static gh_err skip_space(struct parser *p)
{
    for (;;) {
        skip_blank(p);
        if (toml_peek(p, 0) == '#') GH_GUARD(skip_comment(p));
        size_t nl = newline_len(p);
        if (nl == 0) break;
        toml_skip(p, nl);
    }
    if (toml_peek(p, 0) == '\r')
        return toml_fail(p, GH_ERR_CONFIG_SYNTAX, here(p), "bare carriage return");
    return GH_OK;
}

static gh_err unexpected(struct parser *p, const char *what)
{
    int c = toml_peek(p, 0);
    if (c == '\r') return toml_fail(p, GH_ERR_CONFIG_SYNTAX, here(p), "bare carriage return");
    if (c > 0x20 && c < 0x7f)
        return toml_fail(p, GH_ERR_CONFIG_SYNTAX, here(p), "expected %s, found '%c'", what, c);
    return toml_fail(p, GH_ERR_CONFIG_SYNTAX, here(p), "expected %s", what);
}

/* Optional blanks and comment, then a newline or the end of input. */
static gh_err expect_eol(struct parser *p)
{
    skip_blank(p);
    if (toml_peek(p, 0) == '#') GH_GUARD(skip_comment(p));
    if (toml_peek(p, 0) < 0) return GH_OK;
    size_t nl = newline_len(p);
    if (nl == 0) return unexpected(p, "end of line");
    toml_skip(p, nl);
    return GH_OK;
}

/* ---- keys -------------------------------------------------------------- */

static gh_err parse_key(struct parser *p, struct key *k)
{
    k->n = 0;
    for (;;) {
        skip_blank(p);
        if (k->n == GH_TOML_MAX_DEPTH)
            return toml_fail(p, GH_ERR_TOO_MANY, here(p), "key has more than %u parts",
                             GH_TOML_MAX_DEPTH);
        k->off[k->n] = here(p);
        GH_GUARD(toml_read_key_segment(p, &k->seg[k->n], &k->len[k->n]));
        k->n++;
        skip_blank(p);
        if (toml_peek(p, 0) != '.') return GH_OK;
        toml_skip(p, 1);
    }
}

/* ---- values ------------------------------------------------------------ */

static gh_err parse_value(struct parser *p, struct gh_toml_value *parent, const struct key *k,
                          unsigned ki);
static gh_err parse_keyval(struct parser *p, struct gh_toml_value *tbl, uint32_t scope);

static gh_err parse_array(struct parser *p, struct gh_toml_value *arr)
{
    size_t start = here(p);
    toml_skip(p, 1); /* [ */
    for (;;) {
        GH_GUARD(skip_space(p));
        if (toml_peek(p, 0) == ']') break;
        GH_GUARD(parse_value(p, arr, NULL, 0));
        GH_GUARD(skip_space(p));
        int c = toml_peek(p, 0);
        if (c == ',') {
            toml_skip(p, 1);
            continue;
        }
        if (c == ']') break;
        if (c < 0) return toml_fail(p, GH_ERR_CONFIG_SYNTAX, start, "unterminated array");
        return unexpected(p, "',' or ']' in array");
    }
    toml_skip(p, 1);
    return GH_OK;
}

static gh_err parse_inline_table(struct parser *p, struct gh_toml_value *tbl)
{
    size_t start = here(p);
    toml_skip(p, 1); /* { */
    skip_blank(p);
    if (toml_peek(p, 0) == '}') {
        toml_skip(p, 1);
        return GH_OK;
    }
    for (;;) {
        skip_blank(p);
        if (newline_len(p))
            return toml_fail(p, GH_ERR_CONFIG_SYNTAX, here(p),
                             "newline in inline table (TOML 1.0 inline tables are one line)");
        if (toml_peek(p, 0) == '}')
            return toml_fail(p, GH_ERR_CONFIG_SYNTAX, here(p), "trailing comma in inline table");
        GH_GUARD(parse_keyval(p, tbl, tbl->scope));
        skip_blank(p);
        int c = toml_peek(p, 0);
        if (c == ',') {
            toml_skip(p, 1);
            continue;
        }
        if (c == '}') break;
        if (c < 0) return toml_fail(p, GH_ERR_CONFIG_SYNTAX, start, "unterminated inline table");
        if (newline_len(p))
            return toml_fail(p, GH_ERR_CONFIG_SYNTAX, here(p),
                             "newline in inline table (TOML 1.0 inline tables are one line)");
        return unexpected(p, "',' or '}' in inline table");
    }
    toml_skip(p, 1);
    return GH_OK;
}

/* A value at the cursor, stored under parent (with key segment ki of k, or
 * as an array element when k is NULL). */
static gh_err parse_value(struct parser *p, struct gh_toml_value *parent, const struct key *k,
                          unsigned ki)
{
    size_t off = here(p);
    int c = toml_peek(p, 0);
    struct gh_toml_value *v;
    if (c == '"' || c == '\'') {
        const char *s;
        size_t len;
        GH_GUARD(toml_read_string(p, &s, &len));
        GH_GUARD(add_node(p, parent, GH_TOML_STRING, off, k, ki, &v));
        v->u.s.ptr = s;
        v->u.s.len = len;
        return GH_OK;
    }
    if (c == '[') {
        GH_GUARD(add_node(p, parent, GH_TOML_ARRAY, off, k, ki, &v));
        v->sealed = true;
        return parse_array(p, v);
    }
    if (c == '{') {
        GH_GUARD(add_node(p, parent, GH_TOML_TABLE, off, k, ki, &v));
        v->kind = TABLE_INLINE;
        v->sealed = true;
        v->scope = ++p->next_scope;
        return parse_inline_table(p, v);
    }
    if (c < 0 || c == '\n' || c == '\r' || c == '#' || c == ',' || c == ']' || c == '}')
        return toml_fail(p, GH_ERR_CONFIG_SYNTAX, off, "expected a value");
    enum gh_toml_type type;
    int64_t i = 0;
    bool b = false;
    GH_GUARD(toml_read_atom(p, &type, &i, &b));
    GH_GUARD(add_node(p, parent, type, off, k, ki, &v));
    if (type == GH_TOML_INTEGER)
        v->u.i = i;
    else
        v->u.b = b;
    return GH_OK;
}

/* key = value, into table tbl of block scope. */
static gh_err parse_keyval(struct parser *p, struct gh_toml_value *tbl, uint32_t scope)
{
    struct key k;
    char text[KEY_TEXT_MAX];
    GH_GUARD(parse_key(p, &k));
    if (toml_peek(p, 0) != '=') return unexpected(p, "'=' after key");
    toml_skip(p, 1);
    skip_blank(p);

    struct gh_toml_value *t = tbl;
    for (unsigned i = 0; i + 1 < k.n; i++) {
        struct gh_toml_value *v = child(t, &k, i);
        if (v == NULL) {
            GH_GUARD(add_node(p, t, GH_TOML_TABLE, k.off[i], &k, i, &v));
            v->kind = TABLE_DOTTED;
            v->scope = scope;
            v->sealed = t->sealed;
        } else if (v->type != GH_TOML_TABLE) {
            return toml_fail(p, GH_ERR_CONFIG_SYNTAX, k.off[i],
                             "'%s' is already defined as %s, cannot be a table",
                             node_path(v, text, sizeof text), type_of(v));
        } else if (v->kind == TABLE_INLINE) {
            return toml_fail(p, GH_ERR_CONFIG_SYNTAX, k.off[i],
                             "inline table '%s' cannot be extended",
                             node_path(v, text, sizeof text));
        } else if (v->kind != TABLE_DOTTED || v->scope != scope) {
            return toml_fail(p, GH_ERR_CONFIG_SYNTAX, k.off[i],
                             "table '%s' is defined elsewhere and cannot be extended by a "
                             "dotted key",
                             node_path(v, text, sizeof text));
        }
        t = v;
    }
    unsigned last = k.n - 1;
    struct gh_toml_value *dup = child(t, &k, last);
    if (dup != NULL)
        return toml_fail(p, GH_ERR_CONFIG_SYNTAX, k.off[last], "duplicate key '%s'",
                         node_path(dup, text, sizeof text));
    return parse_value(p, t, &k, last);
}

/* [a.b.c] or [[a.b.c]]: find or create the table; *cur receives it. */
static gh_err parse_header(struct parser *p, struct gh_toml_value **cur)
{
    size_t hdr = here(p);
    bool aot = toml_peek(p, 1) == '[';
    struct key k;
    char text[KEY_TEXT_MAX];
    toml_skip(p, aot ? 2 : 1);
    GH_GUARD(parse_key(p, &k));
    if (toml_peek(p, 0) != ']' || (aot && toml_peek(p, 1) != ']'))
        return unexpected(p, aot ? "']]' to close the header" : "']' to close the header");
    toml_skip(p, aot ? 2 : 1);
    GH_GUARD(expect_eol(p));

    struct gh_toml_value *t = p->doc->root;
    for (unsigned i = 0; i + 1 < k.n; i++) {
        struct gh_toml_value *v = child(t, &k, i);
        if (v == NULL) {
            GH_GUARD(add_node(p, t, GH_TOML_TABLE, k.off[i], &k, i, &v));
            v->kind = TABLE_IMPLICIT;
        } else if (v->type == GH_TOML_ARRAY && v->aot) {
            v = v->u.c.last; /* the most recent [[element]] */
        } else if (v->type != GH_TOML_TABLE) {
            return toml_fail(p, GH_ERR_CONFIG_SYNTAX, k.off[i],
                             "'%s' is already defined as %s, cannot be a table",
                             node_path(v, text, sizeof text), type_of(v));
        } else if (v->sealed) {
            return toml_fail(p, GH_ERR_CONFIG_SYNTAX, k.off[i],
                             "inline table '%s' cannot be extended",
                             node_path(v, text, sizeof text));
        }
        t = v;
    }
    unsigned last = k.n - 1;
    struct gh_toml_value *v = child(t, &k, last);
    if (v != NULL) node_path(v, text, sizeof text);
    if (aot) {
        if (v == NULL) {
            GH_GUARD(add_node(p, t, GH_TOML_ARRAY, hdr, &k, last, &v));
            v->aot = true;
        } else if (!(v->type == GH_TOML_ARRAY && v->aot)) {
            return toml_fail(p, GH_ERR_CONFIG_SYNTAX, k.off[last],
                             "'%s' is already defined as %s, cannot be an array of tables", text,
                             type_of(v));
        }
        struct gh_toml_value *elem;
        GH_GUARD(add_node(p, v, GH_TOML_TABLE, hdr, NULL, 0, &elem));
        elem->kind = TABLE_EXPLICIT;
        *cur = elem;
        return GH_OK;
    }
    if (v == NULL) {
        GH_GUARD(add_node(p, t, GH_TOML_TABLE, hdr, &k, last, &v));
    } else if (v->type == GH_TOML_TABLE && v->kind == TABLE_IMPLICIT) {
        v->key_pos = toml_locate(p, k.off[last]); /* now defined here */
        v->pos = toml_locate(p, hdr);
    } else if (v->type == GH_TOML_TABLE) {
        return toml_fail(p, GH_ERR_CONFIG_SYNTAX, k.off[last], "table '%s' is already defined",
                         text);
    } else {
        return toml_fail(p, GH_ERR_CONFIG_SYNTAX, k.off[last],
                         "'%s' is already defined as %s, cannot be a table", text, type_of(v));
    }
    v->kind = TABLE_EXPLICIT;
    *cur = v;
    return GH_OK;
}

/* ---- document ---------------------------------------------------------- */

static gh_err check_utf8(struct parser *p)
{
    const uint8_t *s = p->r.data;
    size_t n = p->r.len;
    for (size_t i = p->r.pos; i < n;) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (len == 0 || len > n - i || !gh_utf8_valid(s + i, len))
            return toml_fail(p, GH_ERR_CONFIG_SYNTAX, i, "invalid UTF-8");
        i += len;
    }
    return GH_OK;
}

static gh_err parse_document(struct parser *p)
{
    struct gh_toml_value *cur = p->doc->root;
    uint32_t scope = 0;
    GH_GUARD(check_utf8(p));
    for (;;) {
        skip_blank(p);
        int c = toml_peek(p, 0);
        if (c < 0) return GH_OK;
        if (c == '#' || newline_len(p)) {
            GH_GUARD(expect_eol(p));
        } else if (c == '[') {
            GH_GUARD(parse_header(p, &cur));
            scope = ++p->next_scope;
        } else if (c == '\r') {
            return toml_fail(p, GH_ERR_CONFIG_SYNTAX, here(p), "bare carriage return");
        } else {
            GH_GUARD(parse_keyval(p, cur, scope));
            GH_GUARD(expect_eol(p));
        }
    }
}

gh_err gh_toml_parse(const char *text, size_t len, const char *filename, struct gh_toml_doc **out,
                     struct gh_toml_error *err)
{
    gh_toml_error_init(err, filename);
    if (out == NULL || (text == NULL && len > 0)) {
        gh_toml_error_at(err, (struct gh_toml_pos){0, 0}, "invalid arguments");
        return GH_ERR_ARG;
    }
    if (len > GH_TOML_MAX_INPUT) {
        gh_toml_error_at(err, (struct gh_toml_pos){0, 0}, "document is larger than %u bytes",
                         GH_TOML_MAX_INPUT);
        return GH_ERR_TOO_LARGE;
    }
    struct parser p = {.err = err, .loc_line = 1};
    gh_reader_init(&p.r, text, len);
    gh_err rc = toml_doc_new(filename, &p.doc);
    if (rc != GH_OK) {
        gh_toml_error_at(err, (struct gh_toml_pos){0, 0}, "out of memory");
        return rc;
    }
    p.scratch_cap = len + 1;
    p.scratch = malloc(p.scratch_cap);
    if (p.scratch == NULL) {
        gh_toml_error_at(err, (struct gh_toml_pos){0, 0}, "out of memory");
        rc = GH_ERR_NOMEM;
        goto out;
    }
    if (toml_peek(&p, 0) == 0xef && toml_peek(&p, 1) == 0xbb && toml_peek(&p, 2) == 0xbf) {
        toml_skip(&p, 3); /* UTF-8 byte order mark */
        p.text_start = p.loc_off = p.loc_bol = 3;
    }
    rc = parse_document(&p);
out:
    if (p.scratch != NULL) explicit_bzero(p.scratch, p.scratch_cap);
    free(p.scratch);
    if (rc != GH_OK) {
        gh_toml_free(p.doc);
        return rc;
    }
    *out = p.doc;
    return GH_OK;
}
