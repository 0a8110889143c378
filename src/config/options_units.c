/* Durations, sizes, and the human-readable description of an option's
 * type and bounds (shared by error messages and the documentation). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "config/options_internal.h"

struct unit {
    const char *name;
    int64_t mult;
};

/* Largest first: duration groups must come in this order. */
static const struct unit duration_units[] = {{"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}};

static const struct unit size_units[] = {
    {"TiB", INT64_C(1) << 40}, {"GiB", INT64_C(1) << 30},      {"MiB", INT64_C(1) << 20},
    {"KiB", INT64_C(1) << 10}, {"TB", INT64_C(1000000000000)}, {"GB", INT64_C(1000000000)},
    {"MB", INT64_C(1000000)},  {"kB", INT64_C(1000)},          {"B", 1}};

#define NUNITS(a) (sizeof(a) / sizeof((a)[0]))

/* Digits at *s into *v (no sign, at least one digit, no overflow). */
static bool read_number(const char **s, int64_t *v)
{
    const char *p = *s;
    int64_t n = 0;
    if (*p < '0' || *p > '9') return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        int d = *p - '0';
        if (n > (INT64_MAX - d) / 10) return false;
        n = n * 10 + d;
    }
    *s = p;
    *v = n;
    return true;
}

/* The unit named at *s. A size unit must end the string; a duration unit
 * must be followed by the next group's digits or the end. */
static const struct unit *read_unit(const char **s, const struct unit *units, size_t n, bool whole)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(units[i].name);
        if (strncmp(*s, units[i].name, len) != 0) continue;
        /* duration units are one letter followed by a digit or the end */
        char next = (*s)[len];
        if (whole ? next != '\0' : (next != '\0' && (next < '0' || next > '9'))) continue;
        *s += len;
        return &units[i];
    }
    return NULL;
}

gh_err gh_options_parse_duration(const char *s, int64_t *seconds)
{
    GH_ENSURE(s != NULL && *s != '\0', GH_ERR_CONFIG_VALUE);
    int64_t total = 0;
    int64_t last = INT64_MAX;
    while (*s != '\0') {
        int64_t n;
        GH_ENSURE(read_number(&s, &n), GH_ERR_CONFIG_VALUE);
        const struct unit *u = read_unit(&s, duration_units, NUNITS(duration_units), false);
        GH_ENSURE(u != NULL && u->mult < last, GH_ERR_CONFIG_VALUE);
        GH_ENSURE(n <= (INT64_MAX - total) / u->mult, GH_ERR_CONFIG_VALUE);
        total += n * u->mult;
        last = u->mult;
    }
    *seconds = total;
    return GH_OK;
}

gh_err gh_options_parse_size(const char *s, int64_t *bytes)
{
    GH_ENSURE(s != NULL, GH_ERR_CONFIG_VALUE);
    int64_t n;
    GH_ENSURE(read_number(&s, &n), GH_ERR_CONFIG_VALUE);
    const struct unit *u = read_unit(&s, size_units, NUNITS(size_units), true);
    GH_ENSURE(u != NULL, GH_ERR_CONFIG_VALUE);
    GH_ENSURE(n <= INT64_MAX / u->mult, GH_ERR_CONFIG_VALUE);
    *bytes = n * u->mult;
    return GH_OK;
}

char *gh_options_format_duration(int64_t seconds, char *out, size_t cap)
{
    if (seconds <= 0) {
        snprintf(out, cap, "%" PRId64 "%s", seconds, seconds == 0 ? "s" : "");
        return out;
    }
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < NUNITS(duration_units); i++) {
        int64_t n = seconds / duration_units[i].mult;
        seconds %= duration_units[i].mult;
        if (n == 0) continue;
        int w = snprintf(out + o, cap - o, "%" PRId64 "%s", n, duration_units[i].name);
        if (w < 0 || (size_t)w >= cap - o) break;
        o += (size_t)w;
    }
    return out;
}

char *gh_options_format_size(int64_t bytes, char *out, size_t cap)
{
    if (bytes > 0) {
        /* binary units only, largest exact */
        for (size_t i = 0; i < 4; i++) {
            if (bytes % size_units[i].mult == 0) {
                snprintf(out, cap, "%" PRId64 "%s", bytes / size_units[i].mult, size_units[i].name);
                return out;
            }
        }
    }
    snprintf(out, cap, "%" PRId64 "B", bytes);
    return out;
}

/* ---- descriptions ------------------------------------------------------ */

const char *opt_type_name(enum gh_option_type t)
{
    switch (t) {
    case GH_OPT_STRING:
        return "string";
    case GH_OPT_INT:
        return "integer";
    case GH_OPT_BOOL:
        return "boolean";
    case GH_OPT_STRING_ARRAY:
        return "string array";
    case GH_OPT_DURATION:
        return "duration";
    case GH_OPT_SIZE:
        return "size";
    case GH_OPT_ENUM:
        return "enum";
    case GH_OPT_TABLE_MAP:
        return "table";
    case GH_OPT_TABLE_ARRAY:
        return "array of tables";
    }
    return "unknown";
}

static char *fmt_bound(const struct gh_option *o, int64_t v, char *out, size_t cap)
{
    if (o->type == GH_OPT_DURATION) return gh_options_format_duration(v, out, cap);
    if (o->type == GH_OPT_SIZE) return gh_options_format_size(v, out, cap);
    snprintf(out, cap, "%" PRId64, v);
    return out;
}

char *opt_range(const struct gh_option *o, char *out, size_t cap)
{
    char lo[32], hi[32];
    int64_t floor = o->type == GH_OPT_INT ? INT64_MIN : 0;
    switch (o->type) {
    case GH_OPT_STRING:
        if (o->min > 0)
            snprintf(out, cap, "%" PRId64 "..%zu bytes", o->min, o->size - 1);
        else
            snprintf(out, cap, "at most %zu bytes", o->size - 1);
        return out;
    case GH_OPT_ENUM: {
        size_t w = 0;
        out[0] = '\0';
        for (size_t i = 0; o->values[i] != NULL; i++) {
            int k = snprintf(out + w, cap - w, "%s\"%s\"", i ? ", " : "", o->values[i]);
            if (k < 0 || (size_t)k >= cap - w) break;
            w += (size_t)k;
        }
        return out;
    }
    case GH_OPT_BOOL:
    case GH_OPT_TABLE_MAP:
        snprintf(out, cap, "-");
        return out;
    case GH_OPT_INT:
    case GH_OPT_STRING_ARRAY:
    case GH_OPT_TABLE_ARRAY:
    case GH_OPT_DURATION:
    case GH_OPT_SIZE:
        break;
    }
    fmt_bound(o, o->min, lo, sizeof lo);
    fmt_bound(o, o->max, hi, sizeof hi);
    const char *unit =
        o->type == GH_OPT_STRING_ARRAY || o->type == GH_OPT_TABLE_ARRAY ? " items" : "";
    if (o->min <= floor && o->max == INT64_MAX)
        snprintf(out, cap, "any");
    else if (o->max == INT64_MAX)
        snprintf(out, cap, "at least %s%s", lo, unit);
    else if (o->min <= floor)
        snprintf(out, cap, "at most %s%s", hi, unit);
    else
        snprintf(out, cap, "%s..%s%s", lo, hi, unit);
    return out;
}

char *opt_expected(const struct gh_option *o, char *out, size_t cap)
{
    char range[160];
    opt_range(o, range, sizeof range);
    bool any = strcmp(range, "any") == 0;
    const char *sp = any ? "" : " ";
    const char *r = any ? "" : range;
    switch (o->type) {
    case GH_OPT_STRING:
        snprintf(out, cap, "string of %s", range);
        break;
    case GH_OPT_BOOL:
        snprintf(out, cap, "boolean (true or false)");
        break;
    case GH_OPT_ENUM:
        snprintf(out, cap, "one of %s", range);
        break;
    case GH_OPT_TABLE_MAP:
        snprintf(out, cap, "table");
        break;
    case GH_OPT_INT:
        snprintf(out, cap, "integer%s%s", sp, r);
        break;
    case GH_OPT_STRING_ARRAY:
        snprintf(out, cap, "array of strings%s%s%s", any ? "" : " (", r, any ? "" : ")");
        break;
    case GH_OPT_TABLE_ARRAY:
        snprintf(out, cap, "array of tables%s%s%s", any ? "" : " (", r, any ? "" : ")");
        break;
    case GH_OPT_DURATION:
        snprintf(out, cap, "duration%s%s (like \"30s\", \"5m\", \"1h\" or integer seconds)", sp, r);
        break;
    case GH_OPT_SIZE:
        snprintf(out, cap, "size%s%s (like \"256KiB\", \"10MiB\" or integer bytes)", sp, r);
        break;
    }
    return out;
}
