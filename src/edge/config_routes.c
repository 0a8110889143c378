/* [routes] in config.toml: each member is a route string, or a table with
 * route, priority and time_to_live (PROTOCOL.md 6.5, 6.6; docs/routes.md).
 * Every route is parsed here, so an error names the file, the line and the
 * column inside the route. */
#include <stdio.h>
#include <string.h>

#include "config/options.h"
#include "edge/config_internal.h"
#include "route/route.h"

static gh_err bad(struct gh_toml_error *err, const struct gh_toml_value *v, const char *path,
                  const char *what)
{
    gh_toml_error_at(err, gh_toml_pos(v), "%s: %s", path, what);
    return GH_ERR_CONFIG_VALUE;
}

static gh_err route_text(struct gh_edge_route_cfg *r, const char *path,
                         const struct gh_toml_value *v, struct gh_toml_error *err)
{
    const char *s;
    size_t len;
    if (gh_toml_as_string(v, &s, &len) != GH_OK)
        return bad(err, v, path, "expected a route string (FROM ... INTO ...)");
    if (len >= sizeof r->text) return bad(err, v, path, "route longer than 1023 bytes");
    struct gh_route *parsed = NULL;
    struct gh_route_error rerr;
    memset(&rerr, 0, sizeof rerr);
    gh_err rc = gh_route_parse(s, len, &parsed, &rerr);
    if (rc != GH_OK) {
        gh_toml_error_at(err, gh_toml_pos(v), "%s: %s", path,
                         rerr.msg[0] ? rerr.msg : gh_err_str(rc));
        return rc == GH_ERR_NOMEM ? rc : GH_ERR_CONFIG_VALUE;
    }
    gh_route_free(parsed);
    memcpy(r->text, s, len + 1);
    return GH_OK;
}

static gh_err route_ttl(struct gh_edge_route_cfg *r, const char *path,
                        const struct gh_toml_value *v, struct gh_toml_error *err)
{
    int64_t n;
    const char *s;
    if (gh_toml_as_int(v, &n) == GH_OK) {
        if (n < -1)
            return bad(err, v, path, "expected seconds > 0, 0 (the default) or -1 (forever)");
        r->ttl_s = n;
        return GH_OK;
    }
    if (gh_toml_as_string(v, &s, NULL) != GH_OK || gh_options_parse_duration(s, &n) != GH_OK)
        return bad(err, v, path, "expected a duration (\"30m\", \"1d\") or seconds (-1 = forever)");
    r->ttl_s = n;
    return GH_OK;
}

gh_err gh_edge_routes_map(void *config, const char *path, const char *key,
                          const struct gh_toml_value *value, struct gh_toml_error *err)
{
    struct gh_edge_config *cfg = config;
    if (strlen(key) > GH_EDGE_ROUTE_NAME_MAX) {
        gh_toml_error_at(err, gh_toml_key_pos(value), "%s: route name longer than %d bytes", path,
                         GH_EDGE_ROUTE_NAME_MAX);
        return GH_ERR_CONFIG_VALUE;
    }
    if (cfg->nroutes >= GH_EDGE_ROUTES_MAX) {
        gh_toml_error_at(err, gh_toml_key_pos(value), "%s: more than %d routes", path,
                         GH_EDGE_ROUTES_MAX);
        return GH_ERR_CONFIG_VALUE;
    }
    struct gh_edge_route_cfg *r = &cfg->routes[cfg->nroutes];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", key);
    r->priority = GH_EDGE_ROUTE_NO_PRIORITY;
    char sub[512];
    if (gh_toml_type(value) != GH_TOML_TABLE) {
        GH_GUARD(route_text(r, path, value, err));
        cfg->nroutes++;
        return GH_OK;
    }
    bool have_route = false;
    for (const struct gh_toml_value *m = gh_toml_first(value); m; m = gh_toml_next(m)) {
        const char *k = gh_toml_key(m);
        snprintf(sub, sizeof sub, "%s.%s", path, k);
        if (strcmp(k, "route") == 0) {
            GH_GUARD(route_text(r, sub, m, err));
            have_route = true;
        } else if (strcmp(k, "priority") == 0) {
            int64_t p;
            if (gh_toml_as_int(m, &p) != GH_OK || p < 0 || p > 9)
                return bad(err, m, sub, "expected integer 0..9 (0 = highest)");
            r->priority = p;
        } else if (strcmp(k, "time_to_live") == 0) {
            GH_GUARD(route_ttl(r, sub, m, err));
        } else {
            gh_toml_error_at(err, gh_toml_key_pos(m),
                             "unknown key '%s' (a route table has route, priority, "
                             "time_to_live)",
                             sub);
            return GH_ERR_CONFIG_KEY;
        }
    }
    if (!have_route) {
        gh_toml_error_at(err, gh_toml_key_pos(value), "%s: missing route = \"FROM ... INTO ...\"",
                         path);
        return GH_ERR_CONFIG_MISSING;
    }
    cfg->nroutes++;
    return GH_OK;
}

bool gh_edge_config_routes_changed(const struct gh_edge_config *a, const struct gh_edge_config *b)
{
    if (a->nroutes != b->nroutes) return true;
    for (size_t i = 0; i < a->nroutes; i++) {
        const struct gh_edge_route_cfg *x = &a->routes[i], *y = &b->routes[i];
        if (strcmp(x->name, y->name) != 0 || strcmp(x->text, y->text) != 0 ||
            x->priority != y->priority || x->ttl_s != y->ttl_s)
            return true;
    }
    return false;
}
