/* Shared helpers of the route tests (header-only; included after cmocka.h):
 * the message of PROTOCOL.md 7.8 and one-line condition evaluation. */
#ifndef GH_TEST_ROUTE_FIXTURE_H
#define GH_TEST_ROUTE_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "route/route.h"

#define FX_UNUSED __attribute__((unused))

/* Tri-state of a condition as the tests see it. */
#define FX_T 1
#define FX_F 0
#define FX_U (-1) /* undefined, or any non-boolean result */

#define FX_BODY_78                                                                                 \
    "{\"Weather\":{\"Temperature\":50,\"IsEnabled\":true,\"Location\":{\"State\":\"WA\"},"         \
    "\"HistoricalData\":[{\"Month\":\"Feb\"}]}}"

static struct gh_route_prop fx_app[16];

static FX_UNUSED struct gh_slice fx_s(const char *s)
{
    return gh_slice_cstr(s);
}

/* The 7.8 message: sent by module `filter` on edge device `edge-gw-01`. */
static FX_UNUSED void fx_msg_78(struct gh_route_msg *m)
{
    gh_route_msg_init(m);
    fx_app[0] = (struct gh_route_prop){fx_s("processingPath"), fx_s("hot")};
    fx_app[1] = (struct gh_route_prop){fx_s("level"), fx_s("7")};
    m->app = fx_app;
    m->napp = 2;
    m->source = fx_s("/messages/modules/filter/");
    m->sys[GH_ROUTE_SYS_CONTENT_TYPE] = fx_s("application/json");
    m->sys[GH_ROUTE_SYS_CONTENT_ENCODING] = fx_s("utf-8");
    m->sys[GH_ROUTE_SYS_CONNECTION_DEVICE_ID] = fx_s("edge-gw-01");
    m->sys[GH_ROUTE_SYS_CONNECTION_MODULE_ID] = fx_s("filter");
    m->body = fx_s(FX_BODY_78);
}

/* Parse "FROM /<star> WHERE <cond> INTO $upstream" (asserting success). */
static FX_UNUSED struct gh_route *fx_parse_cond(const char *cond)
{
    char text[GH_ROUTE_TEXT_MAX + 64];
    struct gh_route *r = NULL;
    struct gh_route_error err;
    int n = snprintf(text, sizeof text, "FROM /%s WHERE %s INTO $upstream", "*", cond);
    assert_true(n > 0 && (size_t)n < sizeof text);
    gh_err rc = gh_route_parse(text, (size_t)n, &r, &err);
    if (rc != GH_OK) fprintf(stderr, "parse failed: %s\n  %s\n", err.msg, text);
    assert_int_equal(rc, GH_OK);
    return r;
}

/* Tri-state of cond against m. */
static FX_UNUSED int fx_eval(const struct gh_route_msg *m, const char *cond)
{
    struct gh_route *r = fx_parse_cond(cond);
    struct gh_route_value v = gh_route_eval_value(r, m);
    bool match = gh_route_eval(r, m);
    gh_route_free(r);
    if (v.type == GH_ROUTE_V_BOOL) {
        assert_int_equal(match, v.b);
        return v.b ? FX_T : FX_F;
    }
    assert_false(match);
    return FX_U;
}

/* Type of cond's value against m. */
static FX_UNUSED enum gh_route_vtype fx_type(const struct gh_route_msg *m, const char *cond)
{
    struct gh_route *r = fx_parse_cond(cond);
    struct gh_route_value v = gh_route_eval_value(r, m);
    gh_route_free(r);
    return v.type;
}

#define EXPECT(m, cond, want)                                                                      \
    do {                                                                                           \
        int got_ = fx_eval((m), (cond));                                                           \
        if (got_ != (want))                                                                        \
            fprintf(stderr, "condition: %s -> %d, want %d\n", (cond), got_, (want));               \
        assert_int_equal(got_, (want));                                                            \
    } while (0)

#endif
