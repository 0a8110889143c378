/* Internals shared by the TOML parser files (toml.c, toml_scalar.c,
 * toml_doc.c). Not for use outside src/config/.
 */
#ifndef GH_CONFIG_TOML_INTERNAL_H
#define GH_CONFIG_TOML_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "config/toml.h"

/* Arena blocks are at least this large; bigger requests get their own block. */
#define TOML_ARENA_BLOCK 16384u
/* Hard cap on all memory of one document (arena plus key index). With the
 * input and node limits the real need stays far below this. */
#define TOML_MAX_MEMORY (32u * 1024u * 1024u)

/* How a table came to exist; decides whether it may be reopened. */
enum toml_table_kind {
    TABLE_ROOT,
    TABLE_IMPLICIT, /* intermediate of a [a.b.c] header: [a] may still define it */
    TABLE_EXPLICIT, /* defined by a [header] or [[header]] element */
    TABLE_DOTTED,   /* created by a dotted key a.b = 1 */
    TABLE_INLINE,   /* { ... } */
};

struct gh_toml_value {
    struct gh_toml_doc *doc;
    struct gh_toml_value *parent;
    struct gh_toml_value *next; /* sibling in file order */
    const char *key;            /* NULL for the root and array elements */
    size_t key_len;
    struct gh_toml_pos pos, key_pos;
    uint32_t id;    /* node number, for the key index */
    uint32_t scope; /* TABLE_DOTTED: block that created it */
    uint8_t type;   /* enum gh_toml_type */
    uint8_t kind;   /* tables: enum toml_table_kind */
    uint8_t depth;  /* root 0 */
    bool sealed;    /* inline table or static array (and everything in it) */
    bool aot;       /* array created by [[header]] */
    union {
        struct {
            const char *ptr;
            size_t len;
        } s;
        int64_t i;
        bool b;
        struct {
            struct gh_toml_value *first, *last;
            size_t count;
        } c;
    } u;
};

struct arena_block;

struct gh_toml_doc {
    struct arena_block *blocks;
    size_t memory;                /* bytes allocated so far (arena + index) */
    struct gh_toml_value **slots; /* open-addressing index of table members */
    size_t nslots, nindexed;
    struct gh_toml_value *root;
    uint32_t nodes;
    char file[GH_TOML_FILE_MAX];
};

/* Parser state. The text is read only through r (bounded). */
struct parser {
    struct gh_reader r;
    struct gh_toml_doc *doc;
    struct gh_toml_error *err;
    uint8_t *scratch; /* decode buffer for strings and keys, len + 1 bytes */
    size_t scratch_cap;
    /* line cache for locate(): offset loc_off is on line loc_line, which
     * starts at offset loc_bol */
    size_t loc_off, loc_bol;
    unsigned loc_line;
    size_t text_start;   /* 3 after a byte order mark, else 0 */
    uint32_t next_scope; /* last block number handed out (root block is 0) */
};

/* toml_doc.c */
GH_NODISCARD gh_err toml_doc_new(const char *file, struct gh_toml_doc **out);
/* Zeroed, max_align_t-aligned arena memory; GH_ERR_TOO_LARGE past
 * TOML_MAX_MEMORY, GH_ERR_NOMEM if malloc fails. */
GH_NODISCARD gh_err toml_alloc(struct gh_toml_doc *doc, size_t n, void **out);
/* New value of the given type under parent (appended, and indexed when
 * parent is a table and key is not NULL). Checks the depth and node limits
 * (GH_ERR_TOO_MANY). key must live in the arena. */
GH_NODISCARD gh_err toml_node_new(struct gh_toml_doc *doc, struct gh_toml_value *parent,
                                  enum gh_toml_type type, const char *key, size_t key_len,
                                  struct gh_toml_value **out);

/* toml.c: position and error reporting */
struct gh_toml_pos toml_locate(struct parser *p, size_t off);
gh_err toml_fail(struct parser *p, gh_err code, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Byte at offset k from the cursor, -1 past the end. */
int toml_peek(const struct parser *p, size_t k);
/* Advance n bytes that toml_peek has shown to exist. */
void toml_skip(struct parser *p, size_t n);

/* toml_scalar.c: each reads one token at the cursor (which toml_peek shows
 * starts it) and, on success, leaves the cursor after it. */
/* A key segment: bare, "basic" or 'literal'. *out is arena memory. */
GH_NODISCARD gh_err toml_read_key_segment(struct parser *p, const char **out, size_t *len);
/* Any string form; the decoded value goes to out and len (arena). */
GH_NODISCARD gh_err toml_read_string(struct parser *p, const char **out, size_t *len);
/* Integer, boolean, or a refused float/date: *type receives GH_TOML_INTEGER
 * or GH_TOML_BOOLEAN. */
GH_NODISCARD gh_err toml_read_atom(struct parser *p, enum gh_toml_type *type, int64_t *i, bool *b);

#endif
