/* GET /gatehouse/telemetry: reads of the built-in telemetry endpoint, with
 * an optional long poll (docs/hub-rest.md "Telemetry reads"). A waiting
 * request re-reads the store every GH_REST_TELEMETRY_POLL_MS until a
 * message arrives or its wait ends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/encoding.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "hub/rest_int.h"
#include "hub/stamp.h"
#include "iothub/username.h"

/* ---- pure parts ----------------------------------------------------------------- */

static json_t *body_json(const struct gh_telemetry_msg *m, const char **encoding)
{
    const char *b = m->body ? (const char *)m->body : "";
    if (gh_utf8_valid((const uint8_t *)b, m->body_len)) {
        *encoding = "utf-8";
        return json_stringn(b, m->body_len);
    }
    *encoding = "base64";
    size_t cap = gh_base64_encoded_len(m->body_len) + 1;
    char *t = malloc(cap);
    if (t == NULL) return NULL;
    struct gh_writer w;
    gh_writer_init(&w, t, cap);
    json_t *s = gh_base64_encode(m->body, m->body_len, &w) == GH_OK ? json_stringn(t, w.len) : NULL;
    free(t);
    return s;
}

gh_err gh_hub_rest_telemetry_json(const struct gh_telemetry_msg *m, json_t **out)
{
    char when[GH_HUB_TIME_LEN];
    gh_hub_time_format(m->enqueued_ms, when);
    const char *enc = "utf-8";
    json_t *body = body_json(m, &enc);
    json_t *props = m->properties ? json_incref(m->properties) : json_object();
    json_t *mod = m->module_id[0] ? json_string(m->module_id) : json_null();
    json_t *j = NULL;
    if (body != NULL && props != NULL && mod != NULL)
        j = json_pack("{s:I,s:s,s:O,s:s,s:O,s:O,s:s}", "seq", (json_int_t)m->seq, "deviceId",
                      m->device_id, "moduleId", mod, "enqueuedTime", when, "properties", props,
                      "body", body, "bodyEncoding", enc);
    json_decref(body);
    json_decref(props);
    json_decref(mod);
    GH_ENSURE(j != NULL, GH_ERR_NOMEM);
    *out = j;
    return GH_OK;
}

/* ---- reading -------------------------------------------------------------------- */

/* Read up to limit messages after q->after_seq into a new array, within
 * GH_REST_TELEMETRY_BUDGET bytes (at least one message) and
 * GH_REST_TELEMETRY_SCAN sequence numbers examined (a filtered read of a
 * quiet device). *last gets where the answer stops: every message up to it
 * was examined, and the next page starts after it. */
static gh_err collect(struct gh_store *s, const struct gh_telemetry_query *q0, size_t limit,
                      json_t **out, int64_t *last)
{
    struct gh_telemetry_msg *msgs = calloc(GH_REST_TELEMETRY_CHUNK, sizeof *msgs);
    json_t *arr = json_array();
    gh_err rc = msgs && arr ? GH_OK : GH_ERR_NOMEM;
    struct gh_telemetry_query q = *q0;
    size_t total = 0, bytes = 0;
    bool more = true;
    while (rc == GH_OK && more && total < limit && bytes < GH_REST_TELEMETRY_BUDGET &&
           q.after_seq - q0->after_seq < GH_REST_TELEMETRY_SCAN) {
        size_t n = 0;
        struct gh_telemetry_scan scan;
        q.limit = limit - total < GH_REST_TELEMETRY_CHUNK ? limit - total : GH_REST_TELEMETRY_CHUNK;
        rc = gh_store_telemetry_scan(s, &q, msgs, q.limit, &n, &scan);
        if (rc != GH_OK) break;
        more = scan.more;
        bool whole = true; /* every message read is in the answer */
        for (size_t i = 0; i < n; i++) {
            if (rc == GH_OK && bytes < GH_REST_TELEMETRY_BUDGET) {
                json_t *j = NULL;
                rc = gh_hub_rest_telemetry_json(&msgs[i], &j);
                if (rc == GH_OK && json_array_append_new(arr, j) != 0) rc = GH_ERR_NOMEM;
                if (rc == GH_OK) {
                    bytes += msgs[i].body_len * 4 / 3 + 64 +
                             json_dumpb(msgs[i].properties, NULL, 0, JSON_COMPACT);
                    q.after_seq = msgs[i].seq;
                    total++;
                }
            } else {
                whole = false;
            }
            gh_telemetry_msg_cleanup(&msgs[i]);
        }
        if (whole && rc == GH_OK) q.after_seq = scan.next_after;
    }
    free(msgs);
    if (rc != GH_OK) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    *last = q.after_seq;
    return GH_OK;
}

/* Answer a read: 200 {"messages":[...],"lastSeq":N} (arr stolen) or 500. */
static void answer(struct gh_hub_rest *r, struct gh_http_request *req, gh_err rc, json_t *arr,
                   int64_t last)
{
    if (rc != GH_OK) {
        gh_log_error("rest.telemetry.read", "err=%s detail=\"%s\"", gh_err_name(rc),
                     gh_store_errmsg(gh_hub_store(r->hub)));
        gh_hub_rest_reply_error(req, GH_REST_SERVER_ERROR, "cannot read telemetry");
        return;
    }
    json_t *j = json_pack("{s:o,s:I}", "messages", arr, "lastSeq", (json_int_t)last);
    if (j == NULL) {
        gh_hub_rest_reply_error(req, GH_REST_SERVER_ERROR, "out of memory");
        return;
    }
    gh_hub_rest_reply(req, 200, j, NULL);
}

/* ---- the long poll ----------------------------------------------------------------- */

static void arm(struct gh_hub_rest_held *h, int64_t now)
{
    int64_t left = h->deadline_ms - now;
    int64_t ms = left < GH_REST_TELEMETRY_POLL_MS ? (left > 0 ? left : 0)
                                                  : (int64_t)GH_REST_TELEMETRY_POLL_MS;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    event_add(h->timer, &tv);
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct gh_hub_rest_held *h = arg;
    struct gh_hub_rest *r = h->rest;
    struct gh_http_request *req = h->req;
    int64_t now = gh_hub_now_ms();
    struct gh_telemetry_query q = h->q;
    q.device_id = h->device[0] ? h->device : NULL;
    json_t *arr = NULL;
    int64_t last = q.after_seq;
    gh_err rc = collect(gh_hub_store(r->hub), &q, q.limit, &arr, &last);
    if (rc == GH_OK && json_array_size(arr) == 0 && now < h->deadline_ms) {
        json_decref(arr);
        h->q.after_seq = last; /* examined: the next poll starts after it */
        arm(h, now);
        return;
    }
    gh_hub_rest_held_free(h); /* q no longer points into it: answered below */
    answer(r, req, rc, arr, last);
}

void gh_hub_rest_poll_cleanup(struct gh_hub_rest_held *h)
{
    if (h->timer != NULL) event_free(h->timer);
    h->timer = NULL;
}

/* ---- the handler -------------------------------------------------------------------- */

static bool param_uint(struct gh_hub_rest_ctx *c, const char *name, uint64_t min, uint64_t max,
                       uint64_t *v)
{
    const char *t = gh_http_request_query(c->req, name);
    if (t == NULL) return true;
    if (gh_hub_rest_parse_uint(t, max, v) != GH_OK || *v < min) {
        gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID,
                                "%s must be an integer %llu..%llu", name, (unsigned long long)min,
                                (unsigned long long)max);
        return false;
    }
    return true;
}

void gh_hub_rest_telemetry_read(struct gh_hub_rest_ctx *c)
{
    uint64_t after = 0, limit = GH_REST_TELEMETRY_LIMIT_DEFAULT, wait = 0;
    if (!param_uint(c, "after", 0, INT64_MAX, &after) ||
        !param_uint(c, "limit", 1, GH_REST_TELEMETRY_LIMIT_MAX, &limit) ||
        !param_uint(c, "wait", 0, GH_REST_TELEMETRY_WAIT_MAX, &wait))
        return;
    struct gh_telemetry_query q = {.after_seq = (int64_t)after, .limit = (size_t)limit};
    const char *device = gh_http_request_query(c->req, "device");
    if (device != NULL && !gh_iothub_valid_device_id(gh_slice_cstr(device))) {
        gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID,
                                "device is not a valid device id");
        return;
    }
    q.device_id = device;
    const char *since = gh_http_request_query(c->req, "since");
    if (since != NULL && gh_time_parse(since, &q.since_ms) != GH_OK) {
        gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID,
                                "since must be an ISO 8601 UTC time");
        return;
    }
    json_t *arr = NULL;
    int64_t last = q.after_seq;
    gh_err rc = collect(gh_hub_store(c->rest->hub), &q, q.limit, &arr, &last);
    /* Found something, nothing to wait for, or too many waiting: answer. */
    if (rc != GH_OK || json_array_size(arr) > 0 || wait == 0 ||
        c->rest->npolls >= GH_REST_TELEMETRY_WAITERS_MAX) {
        answer(c->rest, c->req, rc, arr, last);
        return;
    }
    json_decref(arr);

    struct gh_hub_rest_held *h = NULL;
    rc = gh_hub_rest_hold(c, GH_REST_HELD_POLL, &h);
    if (rc == GH_OK) {
        h->q = q;
        if (device != NULL) memcpy(h->device, device, strlen(device) + 1);
        h->q.device_id = NULL; /* re-pointed at h->device for each read */
        h->deadline_ms = gh_hub_now_ms() + (int64_t)wait * 1000;
        h->timer = evtimer_new(gh_hub_base(c->rest->hub), on_poll, h);
        if (h->timer == NULL) rc = GH_ERR_NOMEM;
    }
    if (rc != GH_OK) {
        gh_hub_rest_held_free(h);
        gh_hub_rest_reply_error(c->req, GH_REST_SERVER_ERROR, "out of memory");
        return;
    }
    arm(h, gh_hub_now_ms());
}
