/* Route table: named routes with priority and time-to-live (PROTOCOL.md
 * 6.5/6.6), evaluated together with per-sink deduplication. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route/route_int.h"

struct table_entry {
    struct gh_route *route;
    char *name;
    uint32_t priority;
    int64_t ttl; /* resolved: > 0 seconds or GH_ROUTE_TTL_FOREVER */
};

struct gh_route_table {
    size_t n;
    struct table_entry e[];
};

static int64_t resolve_ttl(int64_t ttl, int64_t def)
{
    if (ttl == 0) ttl = def;
    return ttl > 0 ? ttl : GH_ROUTE_TTL_FOREVER;
}

static gh_err table_fail(struct gh_route_error *err, size_t i, gh_err rc, const char *what)
{
    if (err) {
        memset(err, 0, sizeof *err);
        err->route = i;
        snprintf(err->msg, sizeof err->msg, "%s", what);
    }
    return rc;
}

gh_err gh_route_table_new(const struct gh_route_spec *specs, size_t n, int64_t default_ttl_secs,
                          struct gh_route_table **out, struct gh_route_error *err)
{
    gh_err rc = GH_OK;
    if (err) memset(err, 0, sizeof *err);
    if (n > GH_ROUTE_TABLE_MAX) return table_fail(err, 0, GH_ERR_TOO_MANY, "too many routes");
    struct gh_route_table *t = calloc(1, sizeof *t + n * sizeof(struct table_entry));
    if (!t) return GH_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const struct gh_route_spec *s = &specs[i];
        size_t nl = s->name ? strnlen(s->name, GH_ROUTE_NAME_MAX + 1) : 0;
        if (nl == 0 || nl > GH_ROUTE_NAME_MAX) {
            rc = table_fail(err, i, GH_ERR_CONFIG_VALUE, "route name empty or too long");
            goto out;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(t->e[j].name, s->name) == 0) {
                rc = table_fail(err, i, GH_ERR_CONFIG_VALUE, "duplicate route name");
                goto out;
            }
        }
        if (s->priority > GH_ROUTE_PRIORITY_MAX && s->priority != GH_ROUTE_PRIORITY_DEFAULT) {
            rc = table_fail(err, i, GH_ERR_CONFIG_VALUE, "priority must be 0..9");
            goto out;
        }
        rc = gh_route_parse(s->text, s->text_len, &t->e[i].route, err);
        if (rc != GH_OK) {
            if (err) err->route = i;
            goto out;
        }
        t->n = i + 1;
        t->e[i].name = malloc(nl + 1);
        if (!t->e[i].name) {
            rc = GH_ERR_NOMEM;
            goto out;
        }
        memcpy(t->e[i].name, s->name, nl + 1);
        t->e[i].priority = s->priority;
        t->e[i].ttl = resolve_ttl(s->ttl_secs, default_ttl_secs);
    }
    t->n = n;
    *out = t;
    return GH_OK;
out:
    gh_route_table_free(t);
    return rc;
}

void gh_route_table_free(struct gh_route_table *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->n; i++) {
        gh_route_free(t->e[i].route);
        free(t->e[i].name);
    }
    free(t);
}

size_t gh_route_table_count(const struct gh_route_table *t)
{
    return t->n;
}

const struct gh_route *gh_route_table_route(const struct gh_route_table *t, size_t i)
{
    return i < t->n ? t->e[i].route : NULL;
}

const char *gh_route_table_name(const struct gh_route_table *t, size_t i)
{
    return i < t->n ? t->e[i].name : NULL;
}

uint32_t gh_route_table_priority(const struct gh_route_table *t, size_t i)
{
    return i < t->n ? t->e[i].priority : GH_ROUTE_PRIORITY_DEFAULT;
}

int64_t gh_route_table_ttl(const struct gh_route_table *t, size_t i)
{
    return i < t->n ? t->e[i].ttl : GH_ROUTE_TTL_FOREVER;
}

static bool ttl_longer(int64_t a, int64_t b)
{
    if (b == GH_ROUTE_TTL_FOREVER) return false;
    return a == GH_ROUTE_TTL_FOREVER || a > b;
}

gh_err gh_route_table_eval(const struct gh_route_table *t, const struct gh_route_msg *m,
                           struct gh_route_match *out, size_t cap, size_t *n)
{
    size_t k = 0;
    *n = 0;
    for (size_t i = 0; i < t->n; i++) {
        const struct table_entry *e = &t->e[i];
        if (!gh_route_eval(e->route, m)) continue;
        struct gh_route_sink sink = gh_route_sink(e->route);
        size_t j = 0;
        while (j < k && !gh_route_sink_eq(&out[j].sink, &sink)) j++;
        if (j == k) {
            if (k == cap) return GH_ERR_NOBUFS;
            out[k++] = (struct gh_route_match){.sink = sink,
                                               .priority = e->priority,
                                               .ttl_secs = e->ttl,
                                               .route = i,
                                               .nroutes = 1};
            continue;
        }
        struct gh_route_match *mt = &out[j];
        if (e->priority < mt->priority) {
            mt->priority = e->priority;
            mt->route = i;
        }
        if (ttl_longer(e->ttl, mt->ttl_secs)) mt->ttl_secs = e->ttl;
        mt->nroutes++;
    }
    *n = k;
    return GH_OK;
}
