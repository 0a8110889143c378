/* Strict parser for the TOML subset gatehouse configuration files use.
 *
 * Supported (TOML 1.0 semantics): comments; bare, quoted and dotted keys;
 * [tables], [dotted.tables] and [[arrays.of.tables]]; basic strings with
 * escapes (\b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX), literal strings and
 * their multi-line forms; integers (decimal with '_' separators and a sign,
 * 0x hex, 0o octal, 0b binary; range-checked int64); booleans; arrays
 * (multi-line, trailing comma, mixed types); inline tables.
 *
 * Deliberately NOT supported, each refused with GH_ERR_CONFIG_VALUE and a
 * message saying so: floats ("floats are not supported"), offset/local
 * date-times, dates and times ("dates and times are not supported"). A NUL
 * character in a string or key (\u0000) is refused with GH_ERR_CONFIG_SYNTAX,
 * so every string and key of a document is a NUL-terminated C string.
 *
 * Stricter than TOML 1.0 on one point: dotted keys may only extend tables
 * that dotted keys created in the same block (the same [header] section or
 * inline table); extending a table created by a header is refused.
 *
 * Positions are 1-based line and column; the column counts BYTES from the
 * start of the line (a tab counts as one). Every value remembers the position
 * of its first byte and, for table members, the position of the key that
 * named it (for a table created by a header, the key in the header).
 *
 * The input is untrusted. It is read with bounded access only, and the parser
 * enforces GH_TOML_MAX_INPUT, GH_TOML_MAX_DEPTH and GH_TOML_MAX_NODES before
 * allocating. A document lives in one arena, freed at once by gh_toml_free.
 * A parsed document is immutable: concurrent readers are safe.
 */
#ifndef GH_CONFIG_TOML_H
#define GH_CONFIG_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Largest accepted document, in bytes (GH_ERR_TOO_LARGE above). */
#define GH_TOML_MAX_INPUT (1024u * 1024u)
/* Deepest nesting of tables and arrays below the root table: a value at
 * depth 32 is accepted, one at 33 is GH_ERR_TOO_MANY. */
#define GH_TOML_MAX_DEPTH 32u
/* Most values (tables, arrays and scalars, root excluded) in one document
 * (GH_ERR_TOO_MANY above). */
#define GH_TOML_MAX_NODES 65536u
/* Capacity of the message and file-name fields of struct gh_toml_error. */
#define GH_TOML_MSG_MAX 256u
#define GH_TOML_FILE_MAX 256u

enum gh_toml_type {
    GH_TOML_NONE, /* no value: what gh_toml_type(NULL) returns */
    GH_TOML_TABLE,
    GH_TOML_ARRAY,
    GH_TOML_STRING,
    GH_TOML_INTEGER,
    GH_TOML_BOOLEAN,
};

/* 1-based line and byte column; {0, 0} means "no position" (whole file). */
struct gh_toml_pos {
    unsigned line, col;
};

/* Filled on every failure of the functions below. msg and file are always
 * NUL-terminated; text taken from the document is escaped (printable ASCII
 * only) and truncated. file is truncated to fit. */
struct gh_toml_error {
    char msg[GH_TOML_MSG_MAX];
    char file[GH_TOML_FILE_MAX];
    unsigned line, col;
};

struct gh_toml_doc;
struct gh_toml_value;

/* Parse len bytes of text (need not be NUL-terminated; a UTF-8 BOM at the
 * start is skipped). filename is only used for error reports and
 * gh_toml_doc_file (NULL gives "<input>"). On success *out receives a new
 * document the caller frees with gh_toml_free; on failure *out is untouched
 * and err (if not NULL) says what and where. text is not retained.
 * Thread-safe (no shared state).
 * Errors: GH_ERR_CONFIG_SYNTAX (grammar, invalid UTF-8, control character,
 * bad escape, duplicate key, table redefined, key both table and value),
 * GH_ERR_CONFIG_VALUE (integer out of int64 range, float, date/time),
 * GH_ERR_TOO_LARGE (len > GH_TOML_MAX_INPUT), GH_ERR_TOO_MANY (depth or node
 * limit), GH_ERR_NOMEM, GH_ERR_ARG (text NULL with len > 0, or out NULL). */
GH_NODISCARD gh_err gh_toml_parse(const char *text, size_t len, const char *filename,
                                  struct gh_toml_doc **out, struct gh_toml_error *err);

/* Read and parse the file at path (errors name the path). As gh_toml_parse,
 * plus: GH_ERR_NOENT (missing file or directory), GH_ERR_PERM (access
 * denied), GH_ERR_IO (other open/read failures, e.g. a directory),
 * GH_ERR_TOO_LARGE (file longer than GH_TOML_MAX_INPUT). */
GH_NODISCARD gh_err gh_toml_parse_file(const char *path, struct gh_toml_doc **out,
                                       struct gh_toml_error *err);

/* Free a document and every value in it, wiping its memory first (config
 * files may hold keys). NULL is a no-op. All pointers obtained from the
 * document become invalid. */
void gh_toml_free(struct gh_toml_doc *doc);

/* The file name given at parse time; lives as long as doc. */
const char *gh_toml_doc_file(const struct gh_toml_doc *doc);

/* The root table; never NULL for a parsed document; lives as long as doc. */
const struct gh_toml_value *gh_toml_root(const struct gh_toml_doc *doc);

/* Accessors below accept any value of a live document; pointers they return
 * live as long as the document. They never fail loudly: a NULL argument or a
 * value of another type gives NULL / 0 / {0, 0}. */
enum gh_toml_type gh_toml_type(const struct gh_toml_value *v);
/* "none", "table", "array", "string", "integer", "boolean"; static storage. */
const char *gh_toml_type_name(enum gh_toml_type t);
/* Position of the value's first byte. */
struct gh_toml_pos gh_toml_pos(const struct gh_toml_value *v);
/* Position of the key naming v; {0, 0} for the root and array elements. */
struct gh_toml_pos gh_toml_key_pos(const struct gh_toml_value *v);
/* The (decoded) key naming v; NULL for the root and array elements. */
const char *gh_toml_key(const struct gh_toml_value *v);
/* The table or array holding v; NULL for the root. */
const struct gh_toml_value *gh_toml_parent(const struct gh_toml_value *v);
/* Number of members of a table or elements of an array; 0 otherwise. */
size_t gh_toml_count(const struct gh_toml_value *v);
/* Iteration in file order: first member/element of a table/array (NULL if
 * empty or not a container), then the next sibling (NULL after the last). */
const struct gh_toml_value *gh_toml_first(const struct gh_toml_value *container);
const struct gh_toml_value *gh_toml_next(const struct gh_toml_value *v);
/* Element i of an array (O(i)); NULL if out of range. */
const struct gh_toml_value *gh_toml_at(const struct gh_toml_value *array, size_t i);
/* Member of a table by one exact key of key_len bytes (O(1)). */
const struct gh_toml_value *gh_toml_child(const struct gh_toml_value *table, const char *key,
                                          size_t key_len);
/* Member by a dotted path of bare segments, e.g. "provisioning.attestation.
 * method"; each segment is matched exactly, so keys that contain '.' are
 * reachable only through gh_toml_child. Arrays are not traversed. NULL if
 * absent or the path is malformed (empty segment). */
const struct gh_toml_value *gh_toml_get(const struct gh_toml_value *table, const char *path);

/* Typed accessors. Errors: GH_ERR_CONFIG_MISSING (v is NULL),
 * GH_ERR_CONFIG_VALUE (v has another type). *out written only on success.
 * A string is NUL-terminated and contains no NUL; *len (if not NULL)
 * receives its length. */
GH_NODISCARD gh_err gh_toml_as_string(const struct gh_toml_value *v, const char **out, size_t *len);
GH_NODISCARD gh_err gh_toml_as_int(const struct gh_toml_value *v, int64_t *out);
GH_NODISCARD gh_err gh_toml_as_bool(const struct gh_toml_value *v, bool *out);

/* Error helpers, also for code reporting on a document's values (binder,
 * callbacks). gh_toml_error_init clears err and stores file (NULL gives
 * "<input>"). gh_toml_error_at formats msg and stores pos, keeping file.
 * Both accept err == NULL (no-op). Thread-safe on distinct err. */
void gh_toml_error_init(struct gh_toml_error *err, const char *file);
void gh_toml_error_at(struct gh_toml_error *err, struct gh_toml_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "file:line:col: msg" (or "file: msg" without a position) into out, always
 * NUL-terminated and truncated to cap (cap > 0). Returns out. */
char *gh_toml_error_format(const struct gh_toml_error *err, char *out, size_t cap);

/* Escape untrusted text for a message: printable ASCII is copied (with '\''
 * and '\\' backslash-escaped), every other byte becomes \xHH; at most cap-1
 * output bytes, "..." marks truncation. Returns out (cap >= 8). */
char *gh_toml_escape(char *out, size_t cap, const char *text, size_t len);

#endif
