/* TOML document storage: arena, key index, accessors, error helpers, and
 * reading a file. The grammar lives in toml.c and toml_scalar.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/toml_internal.h"

/* First read size for files whose size fstat cannot tell (pipes). */
#define FILE_READ_CHUNK 65536u

struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    max_align_t data[];
};

static size_t align_up(size_t n)
{
    size_t a = sizeof(max_align_t);
    return (n + a - 1) / a * a;
}

static gh_err account(struct gh_toml_doc *doc, size_t n)
{
    GH_ENSURE(n <= TOML_MAX_MEMORY - doc->memory, GH_ERR_TOO_LARGE);
    doc->memory += n;
    return GH_OK;
}

gh_err toml_alloc(struct gh_toml_doc *doc, size_t n, void **out)
{
    GH_ENSURE(n <= TOML_MAX_MEMORY, GH_ERR_TOO_LARGE);
    n = align_up(n ? n : 1);
    struct arena_block *b = doc->blocks;
    if (b == NULL || n > b->cap - b->used) {
        size_t cap = n > TOML_ARENA_BLOCK ? n : TOML_ARENA_BLOCK;
        GH_GUARD(account(doc, sizeof *b + cap));
        b = calloc(1, sizeof *b + cap);
        if (b == NULL) {
            doc->memory -= sizeof *b + cap;
            return GH_ERR_NOMEM;
        }
        b->cap = cap;
        if (cap > TOML_ARENA_BLOCK && doc->blocks != NULL) {
            /* a dedicated block: keep the current one open for small requests */
            b->next = doc->blocks->next;
            doc->blocks->next = b;
        } else {
            b->next = doc->blocks;
            doc->blocks = b;
        }
    }
    *out = (unsigned char *)b->data + b->used;
    b->used += n;
    return GH_OK;
}

gh_err toml_doc_new(const char *file, struct gh_toml_doc **out)
{
    struct gh_toml_doc *doc = calloc(1, sizeof *doc);
    GH_ENSURE(doc != NULL, GH_ERR_NOMEM);
    snprintf(doc->file, sizeof doc->file, "%s", file ? file : "<input>");
    gh_err rc = toml_alloc(doc, sizeof *doc->root, (void **)&doc->root);
    if (rc != GH_OK) {
        gh_toml_free(doc);
        return rc;
    }
    doc->root->doc = doc;
    doc->root->type = GH_TOML_TABLE;
    doc->root->kind = TABLE_ROOT;
    doc->root->pos = (struct gh_toml_pos){1, 1};
    *out = doc;
    return GH_OK;
}

void gh_toml_free(struct gh_toml_doc *doc)
{
    if (doc == NULL) return;
    struct arena_block *b = doc->blocks;
    while (b != NULL) {
        struct arena_block *next = b->next;
        explicit_bzero(b->data, b->used); /* documents may hold keys */
        free(b);
        b = next;
    }
    free(doc->slots);
    free(doc);
}

/* ---- key index: (parent id, key) -> member, open addressing ---------- */

static size_t hash_key(uint32_t parent, const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ull ^ parent;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)key[i];
        h *= 1099511628211ull;
    }
    return (size_t)(h ^ (h >> 29));
}

static bool same_key(const struct gh_toml_value *v, uint32_t parent, const char *key, size_t len)
{
    return v->parent->id == parent && v->key_len == len && memcmp(v->key, key, len) == 0;
}

static struct gh_toml_value *index_find(const struct gh_toml_doc *doc, uint32_t parent,
                                        const char *key, size_t len)
{
    if (doc->nslots == 0) return NULL;
    size_t mask = doc->nslots - 1;
    for (size_t i = hash_key(parent, key, len) & mask;; i = (i + 1) & mask) {
        struct gh_toml_value *v = doc->slots[i];
        if (v == NULL) return NULL;
        if (same_key(v, parent, key, len)) return v;
    }
}

static void index_put(struct gh_toml_value **slots, size_t nslots, struct gh_toml_value *v)
{
    size_t mask = nslots - 1;
    size_t i = hash_key(v->parent->id, v->key, v->key_len) & mask;
    while (slots[i] != NULL) i = (i + 1) & mask;
    slots[i] = v;
}

static gh_err index_add(struct gh_toml_doc *doc, struct gh_toml_value *v)
{
    /* keep the load factor at most 1/2 */
    if (2 * (doc->nindexed + 1) > doc->nslots) {
        size_t n = doc->nslots ? 2 * doc->nslots : 64;
        GH_ENSURE(n <= TOML_MAX_MEMORY / sizeof *doc->slots, GH_ERR_TOO_LARGE);
        GH_GUARD(account(doc, n * sizeof *doc->slots));
        struct gh_toml_value **slots = calloc(n, sizeof *slots);
        if (slots == NULL) {
            doc->memory -= n * sizeof *doc->slots;
            return GH_ERR_NOMEM;
        }
        for (size_t i = 0; i < doc->nslots; i++)
            if (doc->slots[i] != NULL) index_put(slots, n, doc->slots[i]);
        doc->memory -= doc->nslots * sizeof *doc->slots;
        free(doc->slots);
        doc->slots = slots;
        doc->nslots = n;
    }
    index_put(doc->slots, doc->nslots, v);
    doc->nindexed++;
    return GH_OK;
}

gh_err toml_node_new(struct gh_toml_doc *doc, struct gh_toml_value *parent, enum gh_toml_type type,
                     const char *key, size_t key_len, struct gh_toml_value **out)
{
    GH_ENSURE(doc->nodes < GH_TOML_MAX_NODES, GH_ERR_TOO_MANY);
    GH_ENSURE(parent->depth < GH_TOML_MAX_DEPTH, GH_ERR_TOO_MANY);
    struct gh_toml_value *v;
    GH_GUARD(toml_alloc(doc, sizeof *v, (void **)&v));
    v->doc = doc;
    v->parent = parent;
    v->key = key;
    v->key_len = key_len;
    v->id = ++doc->nodes;
    v->type = (uint8_t)type;
    v->depth = (uint8_t)(parent->depth + 1);
    if (parent->type == GH_TOML_TABLE) GH_GUARD(index_add(doc, v));
    if (parent->u.c.last != NULL)
        parent->u.c.last->next = v;
    else
        parent->u.c.first = v;
    parent->u.c.last = v;
    parent->u.c.count++;
    *out = v;
    return GH_OK;
}

/* ---- accessors ----------------------------------------------------------- */

const char *gh_toml_doc_file(const struct gh_toml_doc *doc)
{
    return doc ? doc->file : NULL;
}

const struct gh_toml_value *gh_toml_root(const struct gh_toml_doc *doc)
{
    return doc ? doc->root : NULL;
}

enum gh_toml_type gh_toml_type(const struct gh_toml_value *v)
{
    return v ? (enum gh_toml_type)v->type : GH_TOML_NONE;
}

const char *gh_toml_type_name(enum gh_toml_type t)
{
    switch (t) {
    case GH_TOML_NONE:
        return "none";
    case GH_TOML_TABLE:
        return "table";
    case GH_TOML_ARRAY:
        return "array";
    case GH_TOML_STRING:
        return "string";
    case GH_TOML_INTEGER:
        return "integer";
    case GH_TOML_BOOLEAN:
        return "boolean";
    }
    return "unknown";
}

struct gh_toml_pos gh_toml_pos(const struct gh_toml_value *v)
{
    return v ? v->pos : (struct gh_toml_pos){0, 0};
}

struct gh_toml_pos gh_toml_key_pos(const struct gh_toml_value *v)
{
    return v && v->key ? v->key_pos : (struct gh_toml_pos){0, 0};
}

const char *gh_toml_key(const struct gh_toml_value *v)
{
    return v ? v->key : NULL;
}

const struct gh_toml_value *gh_toml_parent(const struct gh_toml_value *v)
{
    return v ? v->parent : NULL;
}

static bool is_container(const struct gh_toml_value *v)
{
    return v && (v->type == GH_TOML_TABLE || v->type == GH_TOML_ARRAY);
}

size_t gh_toml_count(const struct gh_toml_value *v)
{
    return is_container(v) ? v->u.c.count : 0;
}

const struct gh_toml_value *gh_toml_first(const struct gh_toml_value *container)
{
    return is_container(container) ? container->u.c.first : NULL;
}

const struct gh_toml_value *gh_toml_next(const struct gh_toml_value *v)
{
    return v ? v->next : NULL;
}

const struct gh_toml_value *gh_toml_at(const struct gh_toml_value *array, size_t i)
{
    if (array == NULL || array->type != GH_TOML_ARRAY || i >= array->u.c.count) return NULL;
    const struct gh_toml_value *v = array->u.c.first;
    while (i-- > 0) v = v->next;
    return v;
}

const struct gh_toml_value *gh_toml_child(const struct gh_toml_value *table, const char *key,
                                          size_t key_len)
{
    if (table == NULL || table->type != GH_TOML_TABLE || key == NULL) return NULL;
    return index_find(table->doc, table->id, key, key_len);
}

const struct gh_toml_value *gh_toml_get(const struct gh_toml_value *table, const char *path)
{
    if (path == NULL) return NULL;
    const struct gh_toml_value *v = table;
    const char *seg = path;
    for (;;) {
        const char *dot = strchr(seg, '.');
        size_t n = dot ? (size_t)(dot - seg) : strlen(seg);
        if (n == 0) return NULL;
        v = gh_toml_child(v, seg, n);
        if (v == NULL || dot == NULL) return v;
        seg = dot + 1;
    }
}

gh_err gh_toml_as_string(const struct gh_toml_value *v, const char **out, size_t *len)
{
    GH_ENSURE(v != NULL, GH_ERR_CONFIG_MISSING);
    GH_ENSURE(v->type == GH_TOML_STRING, GH_ERR_CONFIG_VALUE);
    *out = v->u.s.ptr;
    if (len) *len = v->u.s.len;
    return GH_OK;
}

gh_err gh_toml_as_int(const struct gh_toml_value *v, int64_t *out)
{
    GH_ENSURE(v != NULL, GH_ERR_CONFIG_MISSING);
    GH_ENSURE(v->type == GH_TOML_INTEGER, GH_ERR_CONFIG_VALUE);
    *out = v->u.i;
    return GH_OK;
}

gh_err gh_toml_as_bool(const struct gh_toml_value *v, bool *out)
{
    GH_ENSURE(v != NULL, GH_ERR_CONFIG_MISSING);
    GH_ENSURE(v->type == GH_TOML_BOOLEAN, GH_ERR_CONFIG_VALUE);
    *out = v->u.b;
    return GH_OK;
}

/* ---- errors -------------------------------------------------------------- */

void gh_toml_error_init(struct gh_toml_error *err, const char *file)
{
    if (err == NULL) return;
    memset(err, 0, sizeof *err);
    snprintf(err->file, sizeof err->file, "%s", file ? file : "<input>");
}

void gh_toml_error_at(struct gh_toml_error *err, struct gh_toml_pos pos, const char *fmt, ...)
{
    if (err == NULL) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->line = pos.line;
    err->col = pos.col;
}

char *gh_toml_error_format(const struct gh_toml_error *err, char *out, size_t cap)
{
    if (err->line > 0)
        snprintf(out, cap, "%s:%u:%u: %s", err->file, err->line, err->col, err->msg);
    else
        snprintf(out, cap, "%s: %s", err->file, err->msg);
    return out;
}

char *gh_toml_escape(char *out, size_t cap, const char *text, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        char tmp[4];
        size_t n = 0;
        if (c == '\'' || c == '\\') {
            tmp[n++] = '\\';
            tmp[n++] = (char)c;
        } else if (c >= 0x20 && c < 0x7f) {
            tmp[n++] = (char)c;
        } else {
            tmp[n++] = '\\';
            tmp[n++] = 'x';
            tmp[n++] = hex[c >> 4];
            tmp[n++] = hex[c & 15];
        }
        /* keep room for "..." and the NUL */
        if (n > cap - 4 - o) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(out + o, tmp, n);
        o += n;
    }
    out[o] = '\0';
    return out;
}

/* ---- files ----------------------------------------------------------------- */

static gh_err file_fail(struct gh_toml_error *err, const char *path, const char *what, int e)
{
    gh_err rc = GH_ERR_IO;
    if (e == ENOENT || e == ENOTDIR)
        rc = GH_ERR_NOENT;
    else if (e == EACCES || e == EPERM)
        rc = GH_ERR_PERM;
    char buf[128];
    if (strerror_r(e, buf, sizeof buf) != 0) snprintf(buf, sizeof buf, "error %d", e);
    char shown[160];
    gh_toml_error_at(err, (struct gh_toml_pos){0, 0}, "cannot %s '%s': %s", what,
                     gh_toml_escape(shown, sizeof shown, path, strlen(path)), buf);
    return rc;
}

static void wipe_free(char *buf, size_t len)
{
    if (buf != NULL) explicit_bzero(buf, len);
    free(buf);
}

/* Read all of fd into a new buffer; GH_ERR_TOO_LARGE past the input limit.
 * Buffers are wiped before they are freed (config files may hold keys), so
 * growing copies instead of using realloc. */
static gh_err read_all(int fd, size_t hint, char **out, size_t *out_len, int *e)
{
    size_t cap = hint < GH_TOML_MAX_INPUT ? hint + 1 : GH_TOML_MAX_INPUT + 1;
    size_t len = 0;
    char *buf = malloc(cap);
    GH_ENSURE(buf != NULL, GH_ERR_NOMEM);
    for (;;) {
        if (len == cap) {
            if (cap > GH_TOML_MAX_INPUT) {
                wipe_free(buf, len);
                return GH_ERR_TOO_LARGE;
            }
            size_t ncap = cap > (GH_TOML_MAX_INPUT + 1) / 2 ? GH_TOML_MAX_INPUT + 1 : 2 * cap;
            char *nbuf = malloc(ncap);
            if (nbuf == NULL) {
                wipe_free(buf, len);
                return GH_ERR_NOMEM;
            }
            memcpy(nbuf, buf, len);
            wipe_free(buf, len);
            buf = nbuf;
            cap = ncap;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            *e = errno;
            wipe_free(buf, len);
            return GH_ERR_IO;
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    if (len > GH_TOML_MAX_INPUT) {
        wipe_free(buf, len);
        return GH_ERR_TOO_LARGE;
    }
    *out = buf;
    *out_len = len;
    return GH_OK;
}

gh_err gh_toml_parse_file(const char *path, struct gh_toml_doc **out, struct gh_toml_error *err)
{
    gh_toml_error_init(err, path);
    if (path == NULL || out == NULL) {
        gh_toml_error_at(err, (struct gh_toml_pos){0, 0}, "no file given");
        return GH_ERR_ARG;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return file_fail(err, path, "open", errno);
    gh_err rc;
    char *text = NULL;
    size_t len = 0;
    int e = 0;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = file_fail(err, path, "stat", errno);
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = file_fail(err, path, "read", EISDIR);
        goto out;
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > GH_TOML_MAX_INPUT) {
        rc = GH_ERR_TOO_LARGE;
        gh_toml_error_at(err, (struct gh_toml_pos){0, 0}, "file is larger than %u bytes",
                         GH_TOML_MAX_INPUT);
        goto out;
    }
    size_t hint = S_ISREG(st.st_mode) ? (size_t)st.st_size : FILE_READ_CHUNK;
    rc = read_all(fd, hint, &text, &len, &e);
    if (rc == GH_ERR_IO) {
        rc = file_fail(err, path, "read", e);
        goto out;
    }
    if (rc != GH_OK) {
        gh_toml_error_at(err, (struct gh_toml_pos){0, 0}, "%s",
                         rc == GH_ERR_TOO_LARGE ? "file is larger than the input limit"
                                                : "out of memory");
        goto out;
    }
    rc = gh_toml_parse(text, len, path, out, err);
out:
    wipe_free(text, len);
    close(fd);
    return rc;
}
