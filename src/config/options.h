/* Table-driven configuration binder (STYLE.md 6).
 *
 * A daemon describes its configuration once, as an array of struct gh_option
 * (name, type, bounds, default, reloadable, doc, where to store it in the
 * caller's config struct). gh_options_apply fills the struct from the
 * defaults and a parsed TOML document, and fails closed:
 *   - an unknown key or table anywhere is GH_ERR_CONFIG_KEY at the KEY's
 *     line:column ("unknown key 'listen.foo'");
 *   - a value of the wrong type or out of range is GH_ERR_CONFIG_VALUE at
 *     the VALUE's line:column, saying what was expected
 *     ("listen.port: expected integer 1..65535, got 70000");
 *   - a missing required option is GH_ERR_CONFIG_MISSING.
 * The same table generates the documentation (gh_options_print_markdown),
 * so a test can hold every option to being documented.
 *
 * Types and their storage at `offset` in the config struct (`size` is the
 * field's sizeof and is checked against the type):
 *   GH_OPT_STRING        char[size]. min = least length in bytes (1 forbids
 *                        ""); the longest is size - 1. max unused.
 *   GH_OPT_INT           int64_t in min..max.
 *   GH_OPT_BOOL          bool.
 *   GH_OPT_STRING_ARRAY  struct gh_string_list (heap; gh_options_cleanup
 *                        frees it): min..max items of at most
 *                        GH_OPTIONS_ITEM_MAX bytes each. Default text is a
 *                        comma-separated list ("" = empty).
 *   GH_OPT_DURATION      int64_t seconds in min..max. A TOML integer
 *                        (seconds) or a string of number+unit groups with
 *                        units d, h, m, s: "30s", "5m", "1h30m", "7d".
 *   GH_OPT_SIZE          int64_t bytes in min..max. A TOML integer (bytes)
 *                        or a string number+unit: B, KiB, MiB, GiB, TiB (1024)
 *                        or kB, MB, GB, TB (1000): "256KiB", "10MiB".
 *   GH_OPT_ENUM          int: index into `values` (NULL-terminated, matched
 *                        exactly, case-sensitive).
 *   GH_OPT_TABLE_MAP     open-ended table whose keys the user chooses (e.g.
 *                        [agent.env] variable names, or a future [routes]
 *                        table keyed by route name). The binder checks that
 *                        the value is a table and calls `map` once per
 *                        member, in file order; the callback validates and
 *                        stores (the member may be any TOML type, also a
 *                        nested table). No default; offset/size unused.
 *   GH_OPT_TABLE_ARRAY   array of tables ([[name]] sections, or an array of
 *                        inline tables) with min..max elements. Each element
 *                        is bound against its own option table `items`
 *                        (nitems entries, offsets into an element struct of
 *                        item_size bytes) exactly as the top level is:
 *                        defaults, unknown keys, types, bounds, required
 *                        keys, with paths like "dps.linked_hubs[1].port".
 *                        Items may only be scalar types (STRING, INT, BOOL,
 *                        DURATION, SIZE, ENUM). The bound element (zeroed,
 *                        then filled; wiped and freed afterwards) is handed
 *                        to `each`, in file order, which checks it against
 *                        the rest of the config and copies it out. No
 *                        default; offset/size unused.
 * Defaults are written as text in the same syntax as file values
 * ("8883", "true", "30s", "256KiB", "dps", "a,b") and are checked against
 * the bounds like file values (a bad default is GH_ERR_INTERNAL).
 *
 * None of these functions keep state; they are thread-safe as long as
 * distinct calls do not share a config struct.
 */
#ifndef GH_CONFIG_OPTIONS_H
#define GH_CONFIG_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/error.h"
#include "config/toml.h"

/* Most options in one table (GH_ERR_INTERNAL above). */
#define GH_OPTIONS_MAX 512u
/* Longest item of a GH_OPT_STRING_ARRAY, in bytes. */
#define GH_OPTIONS_ITEM_MAX 4096u

enum gh_option_type {
    GH_OPT_STRING,
    GH_OPT_INT,
    GH_OPT_BOOL,
    GH_OPT_STRING_ARRAY,
    GH_OPT_DURATION,
    GH_OPT_SIZE,
    GH_OPT_ENUM,
    GH_OPT_TABLE_MAP,
    GH_OPT_TABLE_ARRAY,
};

/* Storage of a GH_OPT_STRING_ARRAY: count NUL-terminated heap strings. */
struct gh_string_list {
    size_t count;
    char **items;
};

/* Called for each member of a GH_OPT_TABLE_MAP table. path is the member's
 * full dotted path for messages ("agent.env.UpstreamProtocol"), key its key;
 * both and value live until gh_options_apply returns. err->file is set and
 * err->msg is empty on entry. Return GH_OK, or an error after describing it
 * with gh_toml_error_at (if the callback leaves err->msg empty, the binder
 * reports "<path>: invalid value" at the value's position). Errors other
 * than GH_ERR_CONFIG_* (e.g. GH_ERR_NOMEM) are passed through unchanged. */
typedef gh_err (*gh_option_map_fn)(void *config, const char *path, const char *key,
                                   const struct gh_toml_value *value, struct gh_toml_error *err);

/* Called for each element of a GH_OPT_TABLE_ARRAY, after the element was
 * bound into item (a struct of the option's item_size bytes, valid only
 * during the call: copy what you keep). path is the element's path for
 * messages ("dps.linked_hubs[0]"), index its 0-based position, table the
 * element itself (for positions: gh_toml_pos). Errors are reported as for
 * gh_option_map_fn (an empty err->msg becomes "<path>: invalid value" at
 * the element). */
typedef gh_err (*gh_option_each_fn)(void *config, const char *path, size_t index, const void *item,
                                    const struct gh_toml_value *table, struct gh_toml_error *err);

struct gh_option {
    const char *name; /* dotted path of bare segments, e.g. "listen.port" */
    enum gh_option_type type;
    int64_t min, max;          /* see the type list above */
    const char *default_text;  /* NULL: zero / empty (or required) */
    bool reloadable;           /* may change on reload without a restart */
    bool required;             /* must be present in the file (no default) */
    bool secret;               /* STRING only: never printed, wiped on cleanup */
    const char *doc;           /* one-line description, required */
    size_t offset, size;       /* field in the config struct: GH_OPTION_FIELD */
    const char *const *values; /* GH_OPT_ENUM: allowed values, NULL-terminated */
    gh_option_map_fn map;      /* GH_OPT_TABLE_MAP */
    /* GH_OPT_TABLE_ARRAY: the element's options, its size, the callback. */
    const struct gh_option *items;
    size_t nitems, item_size;
    gh_option_each_fn each;
};

/* .offset and .size of a member of the config struct type. */
#define GH_OPTION_FIELD(stype, member)                                                             \
    .offset = offsetof(stype, member), .size = sizeof(((stype *)0)->member)

/* Validate a table: names well-formed, unique, none a prefix of another;
 * doc present; size matching the type; bounds sane; defaults valid and in
 * range; required options without default; at most GH_OPTIONS_MAX; the
 * item tables of GH_OPT_TABLE_ARRAY options likewise (scalar types only,
 * fields inside item_size).
 * Errors: GH_ERR_INTERNAL (err->msg names the option), GH_ERR_NOMEM.
 * err may be NULL. Thread-safe. */
GH_NODISCARD gh_err gh_options_check(const struct gh_option *table, size_t n,
                                     struct gh_toml_error *err);

/* Check the table, write every option's default into config, then bind the
 * document's values (doc may be NULL: defaults only). config must not hold
 * live string lists on entry (zero it, or gh_options_cleanup it first); in
 * every case, success or failure, the caller releases it later with
 * gh_options_cleanup. On failure config holds a mix of defaults and file
 * values and must not be used. Nothing of doc is retained.
 * Errors: GH_ERR_CONFIG_KEY, GH_ERR_CONFIG_VALUE, GH_ERR_CONFIG_MISSING (see
 * the top of this file), GH_ERR_INTERNAL (bad table), GH_ERR_NOMEM, and
 * whatever a map callback returns. err (if not NULL) says what and where;
 * map callbacks always receive a non-NULL err. */
GH_NODISCARD gh_err gh_options_apply(const struct gh_option *table, size_t n, void *config,
                                     const struct gh_toml_doc *doc, struct gh_toml_error *err);

/* Free the string lists of config and wipe secret strings. Idempotent;
 * leaves lists empty. Thread-safe on distinct configs. */
void gh_options_cleanup(const struct gh_option *table, size_t n, void *config);

/* The first option that is not reloadable and differs between two applied
 * configs, or NULL (TABLE_MAP options are not compared: their owner
 * decides). The pointer is into table. */
const struct gh_option *gh_options_changed(const struct gh_option *table, size_t n,
                                           const void *old_config, const void *new_config);

/* The option with this exact name, or NULL. */
const struct gh_option *gh_options_find(const struct gh_option *table, size_t n, const char *name);

/* Print the option reference as a Markdown table: option, type, default,
 * range, reloadable, description (secret defaults are not shown). The
 * items of a GH_OPT_TABLE_ARRAY follow its row, named "<name>[].<item>".
 * Errors: GH_ERR_IO if writing to f failed. */
GH_NODISCARD gh_err gh_options_print_markdown(const struct gh_option *table, size_t n, FILE *f);

/* Parse a duration string ("90s", "5m", "1h30m", "7d"; no sign, no spaces)
 * into seconds. Errors: GH_ERR_CONFIG_VALUE (malformed or above INT64_MAX
 * seconds). Thread-safe. */
GH_NODISCARD gh_err gh_options_parse_duration(const char *s, int64_t *seconds);
/* Parse a size string ("512B", "256KiB", "10MiB", "1GB") into bytes.
 * Errors: GH_ERR_CONFIG_VALUE (malformed or above INT64_MAX). */
GH_NODISCARD gh_err gh_options_parse_size(const char *s, int64_t *bytes);
/* Format seconds as d/h/m/s groups ("1h30m", "0s") and bytes with the
 * largest exact binary unit ("10MiB", "1500B"), into out (NUL-terminated,
 * truncated to cap). Negative values are printed as plain numbers. */
char *gh_options_format_duration(int64_t seconds, char *out, size_t cap);
char *gh_options_format_size(int64_t bytes, char *out, size_t cap);

#endif
