/* Internal layout of a compiled route, shared by the parser, the evaluator
 * and the body scanner. Not installed; include only from src/route/ and its
 * unit tests. */
#ifndef GH_ROUTE_ROUTE_INT_H
#define GH_ROUTE_ROUTE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "route/route.h"

/* "No node" marker for child/sibling links. */
#define NODE_NONE UINT16_MAX

enum route_op {
    OP_NUM = 0, /* num */
    OP_STR,     /* str */
    OP_TRUE,
    OP_FALSE,
    OP_NULL,
    OP_UNDEF,
    OP_APP,       /* application property named str */
    OP_SYS,       /* system property aux (enum gh_route_sys); str = "$name" for
                     the application-property-first lookup unless flag FORCED */
    OP_BODY,      /* body query; children are OP_SEG_KEY / OP_SEG_INDEX; str =
                     "$body..." for the application-property-first lookup */
    OP_SEG_KEY,   /* member name str */
    OP_SEG_INDEX, /* array index num */
    OP_NEG,
    OP_NOT,
    OP_AND,
    OP_OR,
    OP_COALESCE,
    OP_EQ,
    OP_NE,
    OP_LT,
    OP_LE,
    OP_GT,
    OP_GE,
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_MOD,
    OP_CAT,  /* || */
    OP_CALL, /* aux = enum route_fn; children are the arguments */
};

enum route_fn {
    FN_IS_DEFINED = 0,
    FN_IS_NULL,
    FN_IS_BOOL,
    FN_IS_NUMBER,
    FN_IS_STRING,
    FN_IS_OBJECT,
    FN_IS_ARRAY,
    FN_IS_PRIMITIVE,
    FN_AS_NUMBER,
    FN_ABS,
    FN_CEILING,
    FN_FLOOR,
    FN_SIGN,
    FN_SQUARE,
    FN_SQRT,
    FN_EXP,
    FN_POWER,
    FN_CONCAT,
    FN_LENGTH,
    FN_LOWER,
    FN_UPPER,
    FN_SUBSTRING,
    FN_INDEX_OF,
    FN_STARTS_WITH,
    FN_ENDS_WITH,
    FN_CONTAINS,
    FN_COUNT
};

/* Node flag: `{$x}` form, skip the application-property lookup. */
#define NODE_FORCED 0x01u

struct route_node {
    double num;
    uint32_t soff; /* string: offset into the pool */
    uint32_t slen; /* string: length in bytes */
    uint16_t kid;  /* first child or NODE_NONE */
    uint16_t next; /* next sibling or NODE_NONE */
    uint8_t op;    /* enum route_op */
    uint8_t aux;   /* enum gh_route_sys or enum route_fn */
    uint8_t nkids;
    uint8_t flags;
};

struct gh_route {
    struct gh_route_sink sink; /* slices into pool */
    struct gh_slice source;    /* normalised, into pool */
    const uint8_t *pool;       /* string pool (after the nodes) */
    size_t pool_len;
    uint16_t nnodes;
    uint16_t root; /* condition or NODE_NONE */
    bool uses_body;
    struct route_node nodes[]; /* nnodes nodes, then pool_len pool bytes */
};

/* Function table entry (route_fn.c). */
struct route_fn_info {
    const char *name;
    uint8_t min_args;
    uint8_t max_args;
};
const struct route_fn_info *gh_route_fn_info(enum route_fn fn);
/* Look up a function by name, ASCII case-insensitive. */
bool gh_route_fn_lookup(struct gh_slice name, enum route_fn *out);

/* ---- Evaluator values (route_eval.c, route_fn.c) ----------------------- */

struct route_val {
    enum gh_route_vtype type;
    bool b;
    double n;
    const uint8_t *s; /* STRING bytes (UTF-8 normally) */
    size_t len;
};

struct route_ctx {
    const struct gh_route *r;
    const struct gh_route_msg *m;
    int body_state; /* 0 unchecked, 1 usable JSON, -1 unusable */
    size_t used;    /* bytes of scratch in use */
    uint8_t scratch[GH_ROUTE_EVAL_SCRATCH];
};

/* Reserve n bytes of scratch; NULL when it is exhausted. */
uint8_t *gh_route_scratch(struct route_ctx *c, size_t n);
/* Evaluate a function call node. */
struct route_val gh_route_call(struct route_ctx *c, const struct route_node *call,
                               const struct route_val *args, size_t nargs);
/* Parse a decimal number the way AS_NUMBER does; false when unparsable. */
bool gh_route_parse_decimal(const uint8_t *s, size_t n, double *out);

/* ---- UTF-8 helpers (route_text.c) -------------------------------------- */

/* Decode one code point at s[*i] (n bytes in all), advancing *i. Invalid or
 * truncated sequences yield the single byte's value + 0x110000 (never a
 * valid code point) and advance by one. */
uint32_t gh_route_utf8_next(const uint8_t *s, size_t n, size_t *i);
/* Encode cp (<= 0x10FFFF, not a surrogate) into out (4 bytes); length. */
size_t gh_route_utf8_put(uint32_t cp, uint8_t *out);
/* UTF-16 code units of a string (invalid bytes count one each). */
size_t gh_route_utf16_len(const uint8_t *s, size_t n);
/* Byte offset of UTF-16 unit index u; false if u falls inside a surrogate
 * pair or past the end. u == length gives n. */
bool gh_route_utf16_offset(const uint8_t *s, size_t n, size_t u, size_t *off);
/* Ordinal comparison in UTF-16 code-unit order (<0, 0, >0). */
int gh_route_str_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn);

/* ---- Body scanner (route_json.c) --------------------------------------- */

struct route_seg {
    const uint8_t *key; /* NULL for an index segment */
    size_t klen;
    uint32_t index;
};

enum json_kind {
    JSON_NONE = 0,
    JSON_NULL,
    JSON_BOOL,
    JSON_NUMBER,
    JSON_STRING,
    JSON_OBJECT,
    JSON_ARRAY
};

struct json_hit {
    enum json_kind kind;
    bool b;
    const uint8_t *tok; /* number text, or string contents without quotes */
    size_t len;
    bool escaped; /* string contains backslash escapes */
};

/* True if body is one well-formed JSON value (RFC 8259, optional UTF-8 BOM,
 * nesting <= GH_ROUTE_JSON_DEPTH_MAX). */
bool gh_route_json_valid(const uint8_t *p, size_t n);
/* Find the value at a path in a body that passed gh_route_json_valid. With
 * duplicate member names the last one wins. Returns false when the path does
 * not exist. */
bool gh_route_json_find(const uint8_t *p, size_t n, const struct route_seg *segs, size_t nsegs,
                        struct json_hit *out);
/* Decode a JSON string's contents (escapes) into out (cap bytes); false if
 * it does not fit. Lone surrogates become U+FFFD. */
bool gh_route_json_unescape(const uint8_t *s, size_t n, uint8_t *out, size_t cap, size_t *len);
/* Convert a JSON number token to a double; false if the token is too long. */
bool gh_route_json_number(const uint8_t *s, size_t n, double *out);

#endif
