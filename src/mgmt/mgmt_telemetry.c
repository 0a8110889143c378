/* `gatehouse telemetry tail`: reads the hub's stored telemetry through
 * GET /gatehouse/telemetry (docs/hub-rest.md), page by page, and with
 * --follow keeps long-polling for new messages. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mgmt/mgmt_int.h"

#define SC GH_MGMT_RIGHT_SERVICE_CONNECT

/* Largest --limit. */
#define LIMIT_MAX UINT64_C(1000000000000)

gh_err gh_mgmt_telemetry_target(char *out, size_t cap, const char *device, int64_t after,
                                const char *since, uint64_t limit, unsigned wait_s)
{
    char after_s[24], limit_s[24], wait_str[16];
    snprintf(after_s, sizeof after_s, "%" PRId64, after < 0 ? 0 : after);
    snprintf(limit_s, sizeof limit_s, "%" PRIu64, limit);
    snprintf(wait_str, sizeof wait_str, "%u", wait_s);
    const char *segs[] = {"gatehouse", "telemetry"};
    const struct gh_mgmt_query q[] = {
        {"after", after_s},
        {"device", device},
        {"since", since},
        {"limit", limit_s},
        {"wait", wait_s ? wait_str : NULL},
    };
    return gh_mgmt_target(out, cap, segs, 2, q, sizeof q / sizeof q[0]);
}

/* The options: where to start, how many. */
struct tail {
    const char *device;
    int64_t after;
    char since[GH_MGMT_TIME_MAX];
    bool has_since;
    bool limited;
    uint64_t left;
    bool follow;
};

static gh_err tail_options(struct gh_mgmt_ctx *c, struct tail *t)
{
    const char *const *v = c->a.val;
    memset(t, 0, sizeof *t);
    t->device = v[GH_MOPT_DEVICE];
    t->follow = c->a.given[GH_MOPT_FOLLOW];
    if (t->device) GH_GUARD(gh_mgmt_check_device_id(t->device, c->msg, sizeof c->msg));
    uint64_t u;
    if (v[GH_MOPT_AFTER]) {
        if (gh_mgmt_uint_parse(v[GH_MOPT_AFTER], 0, INT64_MAX, &u) != GH_OK)
            return gh_mgmt_fail(c, GH_ERR_USAGE, "--after must be a sequence number (0 or more)");
        t->after = (int64_t)u;
    }
    if (v[GH_MOPT_LIMIT]) {
        if (gh_mgmt_uint_parse(v[GH_MOPT_LIMIT], 1, LIMIT_MAX, &u) != GH_OK)
            return gh_mgmt_fail(c, GH_ERR_USAGE, "--limit must be 1 or more");
        t->limited = true;
        t->left = u;
    }
    int64_t now_ms = (int64_t)time(NULL) * 1000, since_ms;
    if (v[GH_MOPT_SINCE]) {
        if (gh_mgmt_since_parse(v[GH_MOPT_SINCE], now_ms, &since_ms) != GH_OK)
            return gh_mgmt_fail(c, GH_ERR_USAGE,
                                "--since must be an ISO 8601 time (2026-01-01T00:00:00Z) or a "
                                "duration ago (10m, 2h, 1d)");
        t->has_since = true;
    } else if (!v[GH_MOPT_AFTER]) {
        since_ms = now_ms - GH_MGMT_SINCE_DEFAULT_S * 1000;
        t->has_since = true;
    }
    if (t->has_since) gh_mgmt_time_format(since_ms < 0 ? 0 : since_ms, t->since);
    return GH_OK;
}

/* Print the messages of one answer; advance t. Returns how many. */
static size_t print_page(struct gh_mgmt_ctx *c, const json_t *res, struct tail *t)
{
    const json_t *arr = json_object_get(res, "messages");
    size_t i, n = 0;
    json_t *m;
    json_array_foreach(arr, i, m)
    {
        if (t->limited && t->left == 0) break;
        gh_mgmt_print_telemetry(c->out, m, c->json);
        n++;
        if (t->limited) t->left--;
        json_t *seq = json_object_get(m, "seq");
        if (json_is_integer(seq) && json_integer_value(seq) > t->after)
            t->after = json_integer_value(seq);
    }
    json_t *last = json_object_get(res, "lastSeq");
    if (json_is_integer(last) && json_integer_value(last) > t->after && (!t->limited || t->left))
        t->after = json_integer_value(last);
    fflush(c->out); /* one line at a time for pipes and --follow */
    return n;
}

gh_err gh_mgmt_telemetry_tail(struct gh_mgmt_ctx *c)
{
    struct tail t;
    GH_GUARD(tail_options(c, &t));
    GH_GUARD(gh_mgmt_connect(c));
    unsigned wait_s = t.follow ? GH_MGMT_FOLLOW_WAIT_S : 0;
    unsigned timeout_ms = c->hub.timeout_ms;
    if (t.follow && timeout_ms < (wait_s + GH_MGMT_METHOD_MARGIN_S) * 1000u)
        timeout_ms = (wait_s + GH_MGMT_METHOD_MARGIN_S) * 1000u;
    size_t total = 0;
    for (;;) {
        uint64_t page = GH_MGMT_TELEMETRY_PAGE;
        if (t.limited && t.left < page) page = t.left;
        char target[GH_MGMT_PATH_MAX];
        gh_err rc = gh_mgmt_telemetry_target(target, sizeof target, t.device, t.after,
                                             t.has_since ? t.since : NULL, page, wait_s);
        if (rc != GH_OK) return gh_mgmt_fail(c, rc, "request too long");
        struct gh_mgmt_req rq = {
            .method = "GET", .target = target, .right = SC, .timeout_ms = timeout_ms};
        json_t *res = NULL;
        rc = gh_mgmt_call_json(c, &rq, &res);
        if (rc == GH_OK && !json_is_array(json_object_get(res, "messages")))
            rc = gh_mgmt_fail(c, GH_ERR_MALFORMED, "the hub answered without messages");
        if (rc != GH_OK) {
            json_decref(res);
            if (total > 0) {
                char more[64];
                snprintf(more, sizeof more, " (resume with --after %" PRId64 ")", t.after);
                strncat(c->msg, more, sizeof c->msg - strlen(c->msg) - 1);
            }
            return rc;
        }
        int64_t before = t.after;
        size_t n = print_page(c, res, &t);
        json_decref(res);
        if (n > 0 && t.after == before)
            return gh_mgmt_fail(c, GH_ERR_MALFORMED,
                                "the hub sent messages that are not after --after %" PRId64,
                                before);
        total += n;
        if (ferror(c->out)) return gh_mgmt_fail(c, GH_ERR_IO, "cannot write the output");
        if (t.limited && t.left == 0) return GH_OK;
        /* An empty answer that moved lastSeq on: a filtered read stopped
         * at its scan bound, more follows. */
        if (n == 0 && !t.follow && t.after == before) return GH_OK;
    }
}
