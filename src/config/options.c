/* The option-table binder: table checks, defaults, walking a TOML document
 * against the table, storing values, cleanup and reload comparison. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "config/options_internal.h"

/* Capacity of a dotted path rendered for a message. */
#define PATH_TEXT_MAX 160u
/* Capacity of an "expected ..." / "got ..." text. */
#define DESC_MAX 200u

struct binder {
    const struct gh_option *table;
    size_t n;
    void *cfg;
    struct gh_toml_error *err;
    const char *prefix; /* path of the element being bound, or NULL */
    bool seen[GH_OPTIONS_MAX];
    /* key path of the member being visited, plus one level for map members */
    const char *segs[GH_TOML_MAX_DEPTH + 2];
    size_t lens[GH_TOML_MAX_DEPTH + 2];
};

static void *field(const struct gh_option *o, void *cfg)
{
    return (unsigned char *)cfg + o->offset;
}

static const void *cfield(const struct gh_option *o, const void *cfg)
{
    return (const unsigned char *)cfg + o->offset;
}

static bool bare_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* ---- storing values ---------------------------------------------------- */

static void list_free(struct gh_string_list *l)
{
    for (size_t i = 0; i < l->count; i++) free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

static void got_text(char *got, size_t cap, const char *s, size_t len)
{
    char esc[DESC_MAX / 2];
    snprintf(got, cap, "\"%s\"", gh_toml_escape(esc, sizeof esc, s, len));
}

/* Integer-valued options from an int64. GH_ERR_CONFIG_VALUE with got. */
static gh_err set_int(const struct gh_option *o, void *cfg, int64_t v, char *got, size_t cap)
{
    if (v < o->min || v > o->max) {
        if (o->type == GH_OPT_DURATION)
            gh_options_format_duration(v, got, cap);
        else if (o->type == GH_OPT_SIZE)
            gh_options_format_size(v, got, cap);
        else
            snprintf(got, cap, "%" PRId64, v);
        return GH_ERR_CONFIG_VALUE;
    }
    memcpy(field(o, cfg), &v, sizeof v);
    return GH_OK;
}

/* String-valued options (and every default, which is text). */
static gh_err set_text(const struct gh_option *o, void *cfg, const char *s, size_t len, char *got,
                       size_t cap)
{
    int64_t v;
    switch (o->type) {
    case GH_OPT_STRING:
        if (len + 1 > o->size || (int64_t)len < o->min) {
            snprintf(got, cap, "%zu bytes", len);
            return GH_ERR_CONFIG_VALUE;
        }
        memcpy(field(o, cfg), s, len);
        ((char *)field(o, cfg))[len] = '\0';
        return GH_OK;
    case GH_OPT_ENUM:
        for (int i = 0; o->values[i] != NULL; i++) {
            if (strlen(o->values[i]) == len && memcmp(o->values[i], s, len) == 0) {
                memcpy(field(o, cfg), &i, sizeof i);
                return GH_OK;
            }
        }
        break;
    case GH_OPT_DURATION:
        if (gh_options_parse_duration(s, &v) == GH_OK) return set_int(o, cfg, v, got, cap);
        break;
    case GH_OPT_SIZE:
        if (gh_options_parse_size(s, &v) == GH_OK) return set_int(o, cfg, v, got, cap);
        break;
    case GH_OPT_INT: { /* defaults only: a decimal integer */
        const char *p = s;
        bool neg = *p == '-';
        if (neg) p++;
        uint64_t m = 0;
        bool ok = *p != '\0';
        for (; *p; p++) {
            if (*p < '0' || *p > '9' || m > (UINT64_MAX - 9) / 10) {
                ok = false;
                break;
            }
            m = m * 10 + (uint64_t)(*p - '0');
        }
        if (ok && m <= (uint64_t)INT64_MAX)
            return set_int(o, cfg, neg ? -(int64_t)m : (int64_t)m, got, cap);
        break;
    }
    case GH_OPT_BOOL: /* defaults only */
        if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
            bool b = s[0] == 't';
            memcpy(field(o, cfg), &b, sizeof b);
            return GH_OK;
        }
        break;
    case GH_OPT_STRING_ARRAY:
    case GH_OPT_TABLE_MAP:
    case GH_OPT_TABLE_ARRAY:
        break;
    }
    got_text(got, cap, s, len);
    return GH_ERR_CONFIG_VALUE;
}

/* Replace the list with count items (ptr/len pairs). GH_ERR_NOMEM. */
static gh_err set_list(const struct gh_option *o, void *cfg, const struct gh_slice *items,
                       size_t count)
{
    struct gh_string_list l = {0, NULL};
    if (count > 0) {
        l.items = calloc(count, sizeof *l.items);
        if (l.items == NULL) return GH_ERR_NOMEM;
    }
    for (; l.count < count; l.count++) {
        char *s = malloc(items[l.count].len + 1);
        if (s == NULL) {
            list_free(&l);
            return GH_ERR_NOMEM;
        }
        if (items[l.count].len) memcpy(s, items[l.count].ptr, items[l.count].len);
        s[items[l.count].len] = '\0';
        l.items[l.count] = s;
    }
    struct gh_string_list *dst = field(o, cfg);
    list_free(dst);
    *dst = l;
    return GH_OK;
}

/* A default's comma-separated text as a list. */
static gh_err set_list_text(const struct gh_option *o, void *cfg, const char *text, char *got,
                            size_t cap)
{
    size_t count = 0;
    if (*text) {
        count = 1;
        for (const char *p = text; *p; p++) count += *p == ',';
    }
    if ((int64_t)count < o->min || (int64_t)count > o->max) {
        snprintf(got, cap, "%zu items", count);
        return GH_ERR_CONFIG_VALUE;
    }
    struct gh_slice *items = count ? calloc(count, sizeof *items) : NULL;
    if (count && items == NULL) return GH_ERR_NOMEM;
    const char *p = text;
    for (size_t i = 0; i < count; i++) {
        size_t len = strcspn(p, ",");
        items[i] = (struct gh_slice){(const uint8_t *)p, len};
        p += len + (p[len] == ',');
    }
    gh_err rc = set_list(o, cfg, items, count);
    free(items);
    return rc;
}

static gh_err set_default(const struct gh_option *o, void *cfg, char *got, size_t cap)
{
    if (o->type == GH_OPT_TABLE_MAP || o->type == GH_OPT_TABLE_ARRAY) return GH_OK;
    if (o->type == GH_OPT_STRING_ARRAY) {
        struct gh_string_list *l = field(o, cfg);
        l->count = 0; /* not freed: the caller's struct holds no live list */
        l->items = NULL;
        return o->default_text ? set_list_text(o, cfg, o->default_text, got, cap) : GH_OK;
    }
    memset(field(o, cfg), 0, o->size);
    if (o->default_text == NULL) return GH_OK;
    return set_text(o, cfg, o->default_text, strlen(o->default_text), got, cap);
}

/* ---- table checks ------------------------------------------------------- */

static bool name_ok(const char *name)
{
    if (name == NULL || *name == '\0') return false;
    unsigned segs = 1;
    for (const char *p = name; *p; p++) {
        if (*p == '.') {
            if (p == name || p[1] == '\0' || p[1] == '.') return false;
            segs++;
        } else if (!bare_char(*p)) {
            return false;
        }
    }
    return segs <= GH_TOML_MAX_DEPTH;
}

/* a is b, or a dotted prefix of b ("a" and "a.b"), or the other way. */
static bool names_clash(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t n = la < lb ? la : lb;
    if (memcmp(a, b, n) != 0) return false;
    return la == lb || (la < lb ? b[la] == '.' : a[lb] == '.');
}

static size_t type_size(enum gh_option_type t)
{
    switch (t) {
    case GH_OPT_INT:
    case GH_OPT_DURATION:
    case GH_OPT_SIZE:
        return sizeof(int64_t);
    case GH_OPT_BOOL:
        return sizeof(bool);
    case GH_OPT_ENUM:
        return sizeof(int);
    case GH_OPT_STRING_ARRAY:
        return sizeof(struct gh_string_list);
    case GH_OPT_STRING:
    case GH_OPT_TABLE_MAP:
    case GH_OPT_TABLE_ARRAY:
        break;
    }
    return 0;
}

static gh_err bad_table(struct gh_toml_error *err, const struct gh_option *o, const char *what)
{
    gh_toml_error_at(err, (struct gh_toml_pos){0, 0}, "option table: '%s': %s",
                     o && o->name && name_ok(o->name) ? o->name : "?", what);
    return GH_ERR_INTERNAL;
}

static gh_err check_default(const struct gh_option *o, struct gh_toml_error *err)
{
    if (o->type == GH_OPT_TABLE_MAP || o->type == GH_OPT_TABLE_ARRAY) return GH_OK;
    struct gh_option tmp = *o;
    tmp.offset = 0;
    void *buf = calloc(1, o->size);
    if (buf == NULL) return GH_ERR_NOMEM;
    char got[DESC_MAX], want[DESC_MAX];
    gh_err rc = set_default(&tmp, buf, got, sizeof got);
    if (o->type == GH_OPT_STRING_ARRAY) list_free(buf);
    free(buf);
    if (rc == GH_ERR_CONFIG_VALUE) {
        gh_toml_error_at(err, (struct gh_toml_pos){0, 0},
                         "option table: '%s': default: expected %s, got %s", o->name,
                         opt_expected(o, want, sizeof want), got);
        return GH_ERR_INTERNAL;
    }
    return rc;
}

static bool scalar(enum gh_option_type t)
{
    return t == GH_OPT_STRING || t == GH_OPT_INT || t == GH_OPT_BOOL || t == GH_OPT_DURATION ||
           t == GH_OPT_SIZE || t == GH_OPT_ENUM;
}

/* The element table of a GH_OPT_TABLE_ARRAY option. */
static gh_err check_items(const struct gh_option *o, struct gh_toml_error *err)
{
    if (o->each == NULL || o->items == NULL || o->nitems == 0 || o->item_size == 0 ||
        o->default_text != NULL)
        return bad_table(err, o, "array of tables needs items, item_size, a callback, no default");
    for (size_t i = 0; i < o->nitems; i++) {
        const struct gh_option *it = &o->items[i];
        if (!scalar(it->type)) return bad_table(err, o, "array of tables items must be scalars");
        if (it->offset > o->item_size || it->size > o->item_size - it->offset)
            return bad_table(err, o, "an item's field lies outside item_size");
    }
    return gh_options_check(o->items, o->nitems, err);
}

static gh_err check_one(const struct gh_option *o, struct gh_toml_error *err)
{
    if (!name_ok(o->name)) return bad_table(err, o, "malformed name");
    if (o->doc == NULL || *o->doc == '\0') return bad_table(err, o, "no documentation");
    if (o->type > GH_OPT_TABLE_ARRAY) return bad_table(err, o, "unknown type");
    size_t want = type_size(o->type);
    if (o->type == GH_OPT_STRING ? o->size < 1 : want != 0 && o->size != want)
        return bad_table(err, o, "field size does not match the type");
    if (o->type == GH_OPT_ENUM && (o->values == NULL || o->values[0] == NULL))
        return bad_table(err, o, "enum without values");
    if (o->type == GH_OPT_TABLE_MAP && (o->map == NULL || o->default_text != NULL))
        return bad_table(err, o, "table map needs a callback and no default");
    if (o->type == GH_OPT_TABLE_ARRAY) GH_GUARD(check_items(o, err));
    if ((o->type == GH_OPT_INT || o->type == GH_OPT_DURATION || o->type == GH_OPT_SIZE ||
         o->type == GH_OPT_STRING_ARRAY || o->type == GH_OPT_TABLE_ARRAY) &&
        o->min > o->max)
        return bad_table(err, o, "min > max");
    if ((o->type == GH_OPT_DURATION || o->type == GH_OPT_SIZE || o->type == GH_OPT_STRING_ARRAY ||
         o->type == GH_OPT_STRING || o->type == GH_OPT_TABLE_ARRAY) &&
        o->min < 0)
        return bad_table(err, o, "negative min");
    if (o->required && o->default_text != NULL)
        return bad_table(err, o, "required option with a default");
    if (o->secret && o->type != GH_OPT_STRING) return bad_table(err, o, "only strings are secret");
    return check_default(o, err);
}

gh_err gh_options_check(const struct gh_option *table, size_t n, struct gh_toml_error *err)
{
    if (n > GH_OPTIONS_MAX) return bad_table(err, NULL, "too many options");
    if (n > 0 && table == NULL) return bad_table(err, NULL, "no table");
    for (size_t i = 0; i < n; i++) {
        GH_GUARD(check_one(&table[i], err));
        for (size_t j = 0; j < i; j++)
            if (names_clash(table[i].name, table[j].name))
                return bad_table(err, &table[i], "clashes with another option's name");
    }
    return GH_OK;
}

/* ---- walking the document ------------------------------------------------ */

static char *path_text(const struct binder *b, unsigned depth, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    if (b->prefix != NULL) {
        int w = snprintf(out, cap, "%s.", b->prefix);
        if (w < 0 || (size_t)w >= cap) return out;
        o = (size_t)w;
    }
    for (unsigned i = 0; i <= depth; i++) {
        char seg[PATH_TEXT_MAX];
        bool bare = b->lens[i] > 0;
        for (size_t k = 0; k < b->lens[i]; k++) bare = bare && bare_char(b->segs[i][k]);
        gh_toml_escape(seg, sizeof seg, b->segs[i], b->lens[i]);
        const char *q = bare ? "" : "\"";
        int w = snprintf(out + o, cap - o, "%s%s%s%s", i ? "." : "", q, seg, q);
        if (w < 0 || (size_t)w >= cap - o) break;
        o += (size_t)w;
    }
    return out;
}

/* 0: no match; 1: name continues below segs[0..depth]; 2: name is exactly it */
static int match(const char *name, const struct binder *b, unsigned depth)
{
    const char *p = name;
    for (unsigned i = 0; i <= depth; i++) {
        size_t n = strcspn(p, ".");
        if (n != b->lens[i] || memcmp(p, b->segs[i], n) != 0) return 0;
        p += n;
        if (*p == '\0') return i == depth ? 2 : 0;
        p++;
    }
    return 1;
}

static gh_err value_error(struct binder *b, const struct gh_option *o,
                          const struct gh_toml_value *v, unsigned depth, const char *got)
{
    char path[PATH_TEXT_MAX], want[DESC_MAX];
    gh_toml_error_at(b->err, gh_toml_pos(v), "%s: expected %s, got %s",
                     path_text(b, depth, path, sizeof path), opt_expected(o, want, sizeof want),
                     got);
    return GH_ERR_CONFIG_VALUE;
}

static gh_err wrong_type(struct binder *b, const struct gh_option *o, const struct gh_toml_value *v,
                         unsigned depth)
{
    return value_error(b, o, v, depth, gh_toml_type_name(gh_toml_type(v)));
}

static gh_err bind_list(struct binder *b, const struct gh_option *o, const struct gh_toml_value *v,
                        unsigned depth)
{
    size_t count = gh_toml_count(v);
    if ((int64_t)count < o->min || (int64_t)count > o->max) {
        char got[32];
        snprintf(got, sizeof got, "%zu items", count);
        return value_error(b, o, v, depth, got);
    }
    struct gh_slice *items = count ? calloc(count, sizeof *items) : NULL;
    if (count && items == NULL) return GH_ERR_NOMEM;
    size_t i = 0;
    gh_err rc = GH_OK;
    for (const struct gh_toml_value *e = gh_toml_first(v); e; e = gh_toml_next(e), i++) {
        const char *s;
        size_t len;
        char path[PATH_TEXT_MAX];
        path_text(b, depth, path, sizeof path);
        if (gh_toml_as_string(e, &s, &len) != GH_OK) {
            gh_toml_error_at(b->err, gh_toml_pos(e), "%s[%zu]: expected string, got %s", path, i,
                             gh_toml_type_name(gh_toml_type(e)));
            rc = GH_ERR_CONFIG_VALUE;
            goto out;
        }
        if (len > GH_OPTIONS_ITEM_MAX) {
            gh_toml_error_at(b->err, gh_toml_pos(e),
                             "%s[%zu]: expected string of at most %u bytes, got %zu bytes", path, i,
                             GH_OPTIONS_ITEM_MAX, len);
            rc = GH_ERR_CONFIG_VALUE;
            goto out;
        }
        items[i] = (struct gh_slice){(const uint8_t *)s, len};
    }
    rc = set_list(o, b->cfg, items, count);
out:
    free(items);
    return rc;
}

static gh_err bind_map(struct binder *b, const struct gh_option *o, const struct gh_toml_value *v,
                       unsigned depth)
{
    if (gh_toml_type(v) != GH_TOML_TABLE) return wrong_type(b, o, v, depth);
    for (const struct gh_toml_value *m = gh_toml_first(v); m; m = gh_toml_next(m)) {
        char path[PATH_TEXT_MAX];
        b->segs[depth + 1] = gh_toml_key(m);
        b->lens[depth + 1] = strlen(gh_toml_key(m));
        path_text(b, depth + 1, path, sizeof path);
        b->err->msg[0] = '\0';
        gh_err rc = o->map(b->cfg, path, gh_toml_key(m), m, b->err);
        if (rc == GH_OK) continue;
        if (b->err->msg[0] == '\0')
            gh_toml_error_at(b->err, gh_toml_pos(m), "%s: invalid value", path);
        return rc;
    }
    return GH_OK;
}

static gh_err visit(struct binder *b, const struct gh_toml_value *t, unsigned depth);

/* Bind one element table of a GH_OPT_TABLE_ARRAY against o->items, as the
 * top level is bound, and hand it to o->each. */
static gh_err bind_element(struct binder *b, const struct gh_option *o, const char *path,
                           size_t index, const struct gh_toml_value *e)
{
    struct binder *sub = calloc(1, sizeof *sub);
    void *item = calloc(1, o->item_size);
    gh_err rc = GH_ERR_NOMEM;
    char got[DESC_MAX];
    if (sub == NULL || item == NULL) goto out;
    *sub = (struct binder){
        .table = o->items, .n = o->nitems, .cfg = item, .err = b->err, .prefix = path};
    for (size_t i = 0; i < o->nitems; i++) {
        rc = set_default(&o->items[i], item, got, sizeof got);
        if (rc != GH_OK) goto out; /* defaults were validated: only GH_ERR_NOMEM */
    }
    rc = visit(sub, e, 0);
    for (size_t i = 0; rc == GH_OK && i < o->nitems; i++) {
        if (o->items[i].required && !sub->seen[i]) {
            gh_toml_error_at(b->err, gh_toml_pos(e), "%s: missing required key '%s'", path,
                             o->items[i].name);
            rc = GH_ERR_CONFIG_MISSING;
        }
    }
    if (rc != GH_OK) goto out;
    b->err->msg[0] = '\0';
    rc = o->each(b->cfg, path, index, item, e, b->err);
    if (rc != GH_OK && b->err->msg[0] == '\0')
        gh_toml_error_at(b->err, gh_toml_pos(e), "%s: invalid value", path);
out:
    if (item != NULL) {
        gh_options_cleanup(o->items, o->nitems, item);
        explicit_bzero(item, o->item_size);
    }
    free(item);
    free(sub);
    return rc;
}

static gh_err bind_tables(struct binder *b, const struct gh_option *o,
                          const struct gh_toml_value *v, unsigned depth)
{
    if (gh_toml_type(v) != GH_TOML_ARRAY) return wrong_type(b, o, v, depth);
    size_t count = gh_toml_count(v);
    if ((int64_t)count < o->min || (int64_t)count > o->max) {
        char got[32];
        snprintf(got, sizeof got, "%zu items", count);
        return value_error(b, o, v, depth, got);
    }
    char base[PATH_TEXT_MAX];
    path_text(b, depth, base, sizeof base);
    size_t i = 0;
    for (const struct gh_toml_value *e = gh_toml_first(v); e; e = gh_toml_next(e), i++) {
        char path[PATH_TEXT_MAX + 24];
        snprintf(path, sizeof path, "%s[%zu]", base, i);
        if (gh_toml_type(e) != GH_TOML_TABLE) {
            gh_toml_error_at(b->err, gh_toml_pos(e), "%s: expected table, got %s", path,
                             gh_toml_type_name(gh_toml_type(e)));
            return GH_ERR_CONFIG_VALUE;
        }
        GH_GUARD(bind_element(b, o, path, i, e));
    }
    return GH_OK;
}

static gh_err bind(struct binder *b, const struct gh_option *o, const struct gh_toml_value *v,
                   unsigned depth)
{
    char got[DESC_MAX];
    gh_err rc;
    enum gh_toml_type t = gh_toml_type(v);
    const char *s;
    size_t len;
    int64_t i;
    bool flag;
    switch (o->type) {
    case GH_OPT_TABLE_MAP:
        return bind_map(b, o, v, depth);
    case GH_OPT_TABLE_ARRAY:
        return bind_tables(b, o, v, depth);
    case GH_OPT_STRING_ARRAY:
        if (t != GH_TOML_ARRAY) return wrong_type(b, o, v, depth);
        return bind_list(b, o, v, depth);
    case GH_OPT_BOOL:
        if (gh_toml_as_bool(v, &flag) != GH_OK) return wrong_type(b, o, v, depth);
        memcpy(field(o, b->cfg), &flag, sizeof flag);
        return GH_OK;
    case GH_OPT_INT:
    case GH_OPT_DURATION:
    case GH_OPT_SIZE:
        if (gh_toml_as_int(v, &i) == GH_OK) {
            rc = set_int(o, b->cfg, i, got, sizeof got);
            break;
        }
        if (o->type == GH_OPT_INT || gh_toml_as_string(v, &s, &len) != GH_OK)
            return wrong_type(b, o, v, depth);
        rc = set_text(o, b->cfg, s, len, got, sizeof got);
        break;
    case GH_OPT_STRING:
    case GH_OPT_ENUM:
        if (gh_toml_as_string(v, &s, &len) != GH_OK) return wrong_type(b, o, v, depth);
        rc = set_text(o, b->cfg, s, len, got, sizeof got);
        break;
    default:
        return GH_ERR_INTERNAL;
    }
    if (rc == GH_ERR_CONFIG_VALUE) return value_error(b, o, v, depth, got);
    return rc;
}

static gh_err visit(struct binder *b, const struct gh_toml_value *t, unsigned depth)
{
    if (depth > GH_TOML_MAX_DEPTH) return GH_ERR_INTERNAL; /* the parser bounds depth */
    for (const struct gh_toml_value *c = gh_toml_first(t); c; c = gh_toml_next(c)) {
        b->segs[depth] = gh_toml_key(c);
        b->lens[depth] = strlen(gh_toml_key(c));
        const struct gh_option *exact = NULL, *prefix = NULL;
        size_t idx = 0;
        for (size_t i = 0; i < b->n && !exact; i++) {
            int m = match(b->table[i].name, b, depth);
            if (m == 2) {
                exact = &b->table[i];
                idx = i;
            } else if (m == 1 && !prefix) {
                prefix = &b->table[i];
            }
        }
        char path[PATH_TEXT_MAX];
        if (exact) {
            b->seen[idx] = true;
            GH_GUARD(bind(b, exact, c, depth));
        } else if (prefix) {
            if (gh_toml_type(c) != GH_TOML_TABLE) {
                gh_toml_error_at(b->err, gh_toml_pos(c), "%s: expected table, got %s",
                                 path_text(b, depth, path, sizeof path),
                                 gh_toml_type_name(gh_toml_type(c)));
                return GH_ERR_CONFIG_VALUE;
            }
            GH_GUARD(visit(b, c, depth + 1));
        } else {
            gh_toml_error_at(b->err, gh_toml_key_pos(c), "unknown key '%s'",
                             path_text(b, depth, path, sizeof path));
            return GH_ERR_CONFIG_KEY;
        }
    }
    return GH_OK;
}

gh_err gh_options_apply(const struct gh_option *table, size_t n, void *config,
                        const struct gh_toml_doc *doc, struct gh_toml_error *err)
{
    struct gh_toml_error local;
    if (err == NULL) err = &local; /* map callbacks always get one */
    gh_toml_error_init(err, doc ? gh_toml_doc_file(doc) : NULL);
    GH_GUARD(gh_options_check(table, n, err));
    if (n > 0 && config == NULL) return bad_table(err, NULL, "no config struct");
    char got[DESC_MAX];
    for (size_t i = 0; i < n; i++) {
        gh_err rc = set_default(&table[i], config, got, sizeof got);
        if (rc != GH_OK) {
            gh_toml_error_at(err, (struct gh_toml_pos){0, 0}, "out of memory");
            return rc; /* defaults were validated: only GH_ERR_NOMEM is left */
        }
    }
    if (doc == NULL) return GH_OK;
    struct binder *b = calloc(1, sizeof *b);
    if (b == NULL) return GH_ERR_NOMEM;
    *b = (struct binder){.table = table, .n = n, .cfg = config, .err = err};
    gh_err rc = visit(b, gh_toml_root(doc), 0);
    if (rc == GH_ERR_NOMEM && err->msg[0] == '\0')
        gh_toml_error_at(err, (struct gh_toml_pos){0, 0}, "out of memory");
    for (size_t i = 0; rc == GH_OK && i < n; i++) {
        if (table[i].required && !b->seen[i]) {
            gh_toml_error_at(err, (struct gh_toml_pos){0, 0}, "missing required key '%s'",
                             table[i].name);
            rc = GH_ERR_CONFIG_MISSING;
        }
    }
    free(b);
    return rc;
}

/* ---- after binding --------------------------------------------------------- */

void gh_options_cleanup(const struct gh_option *table, size_t n, void *config)
{
    if (config == NULL) return;
    for (size_t i = 0; i < n; i++) {
        const struct gh_option *o = &table[i];
        if (o->type == GH_OPT_STRING_ARRAY) list_free(field(o, config));
        if (o->type == GH_OPT_STRING && o->secret) explicit_bzero(field(o, config), o->size);
    }
}

static bool same_value(const struct gh_option *o, const void *a, const void *b)
{
    const void *fa = cfield(o, a), *fb = cfield(o, b);
    switch (o->type) {
    case GH_OPT_STRING:
        return strncmp(fa, fb, o->size) == 0;
    case GH_OPT_STRING_ARRAY: {
        const struct gh_string_list *la = fa, *lb = fb;
        if (la->count != lb->count) return false;
        for (size_t i = 0; i < la->count; i++)
            if (strcmp(la->items[i], lb->items[i]) != 0) return false;
        return true;
    }
    case GH_OPT_TABLE_MAP:
    case GH_OPT_TABLE_ARRAY:
        return true;
    case GH_OPT_INT:
    case GH_OPT_BOOL:
    case GH_OPT_DURATION:
    case GH_OPT_SIZE:
    case GH_OPT_ENUM:
        break;
    }
    return memcmp(fa, fb, o->size) == 0;
}

const struct gh_option *gh_options_changed(const struct gh_option *table, size_t n,
                                           const void *old_config, const void *new_config)
{
    for (size_t i = 0; i < n; i++)
        if (!table[i].reloadable && !same_value(&table[i], old_config, new_config))
            return &table[i];
    return NULL;
}

const struct gh_option *gh_options_find(const struct gh_option *table, size_t n, const char *name)
{
    for (size_t i = 0; name != NULL && i < n; i++)
        if (strcmp(table[i].name, name) == 0) return &table[i];
    return NULL;
}
