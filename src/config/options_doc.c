/* Documentation generated from an option table (Markdown). */
#include <stdio.h>
#include <string.h>

#include "config/options_internal.h"

/* Capacity of one rendered cell. */
#define CELL_MAX 512u

/* Text for a table cell: '|' escaped, line breaks as spaces. */
static char *cell(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    for (; s && *s && o + 3 < cap; s++) {
        if (*s == '|') out[o++] = '\\';
        out[o++] = (*s == '\n' || *s == '\r') ? ' ' : *s;
    }
    out[o] = '\0';
    return out;
}

static char *default_cell(const struct gh_option *o, char *out, size_t cap)
{
    char c[CELL_MAX];
    if (o->required)
        snprintf(out, cap, "(required)");
    else if (o->secret)
        snprintf(out, cap, "(secret)");
    else if (o->type == GH_OPT_TABLE_MAP || o->type == GH_OPT_TABLE_ARRAY)
        snprintf(out, cap, "(empty)");
    else if (o->default_text == NULL || (o->default_text[0] == '\0' && o->type != GH_OPT_STRING))
        snprintf(out, cap, "(none)");
    else if (snprintf(out, cap, "`%s`", cell(o->default_text, c, sizeof c)) >= (int)cap)
        out[cap - 2] = '`'; /* truncated: still a closed code span */
    return out;
}

static void print_row(FILE *f, const struct gh_option *o, const char *prefix)
{
    char def[CELL_MAX], range[CELL_MAX], rc[CELL_MAX], doc[CELL_MAX];
    if (o->type == GH_OPT_ENUM || o->type == GH_OPT_STRING || o->type == GH_OPT_STRING_ARRAY ||
        o->type == GH_OPT_INT || o->type == GH_OPT_DURATION || o->type == GH_OPT_SIZE ||
        o->type == GH_OPT_TABLE_ARRAY)
        opt_range(o, range, sizeof range);
    else
        snprintf(range, sizeof range, "-");
    fprintf(f, "| `%s%s%s` | %s | %s | %s | %s | %s |\n", prefix ? prefix : "", prefix ? "[]." : "",
            o->name, opt_type_name(o->type), default_cell(o, def, sizeof def),
            cell(range, rc, sizeof rc), o->reloadable ? "yes" : "no",
            cell(o->doc, doc, sizeof doc));
}

gh_err gh_options_print_markdown(const struct gh_option *table, size_t n, FILE *f)
{
    fprintf(f, "| Option | Type | Default | Range | Reloadable | Description |\n");
    fprintf(f, "|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < n; i++) {
        print_row(f, &table[i], NULL);
        if (table[i].type == GH_OPT_TABLE_ARRAY)
            for (size_t k = 0; k < table[i].nitems; k++)
                print_row(f, &table[i].items[k], table[i].name);
    }
    fflush(f);
    return ferror(f) ? GH_ERR_IO : GH_OK;
}
