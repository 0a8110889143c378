/* Topic and filter classifiers (both directions). Builders: topic_build.c. */
#include "iothub/topic.h"

#include <string.h>

/* Digits of the 3-digit status codes servers put into response topics. */
#define STATUS_DIGITS 3

/* Consume the literal prefix `lit` if the reader is at it. */
static bool skip_lit(struct gh_reader *r, const char *lit)
{
    size_t n = strlen(lit);
    if (n == 0 || n > gh_reader_remaining(r) || memcmp(r->data + r->pos, lit, n) != 0) return false;
    struct gh_slice s;
    return gh_reader_bytes(r, n, &s) == GH_OK;
}

/* Non-empty decimal digits with value <= max. */
static bool parse_dec(struct gh_slice s, uint64_t max, uint64_t *out)
{
    if (s.len == 0) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        if (c < '0' || c > '9') return false;
        uint64_t d = (uint64_t)(c - '0');
        if (v > (max - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static bool parse_i32(struct gh_slice s, int32_t *out)
{
    bool neg = s.len > 0 && s.ptr[0] == '-';
    struct gh_slice digits = neg ? (struct gh_slice){s.ptr + 1, s.len - 1} : s;
    uint64_t v;
    if (!parse_dec(digits, neg ? (uint64_t)INT32_MAX + 1 : INT32_MAX, &v)) return false;
    *out = neg ? (int32_t)(-(int64_t)v) : (int32_t)v;
    return true;
}

static bool parse_status3(struct gh_slice s, int32_t *out)
{
    uint64_t v;
    if (s.len != STATUS_DIGITS || !parse_dec(s, 999, &v)) return false;
    *out = (int32_t)v;
    return true;
}

/* Topic names may not contain wildcards (MQTT 3.1.1 4.7.1) or NUL. */
static bool name_chars_ok(struct gh_slice t)
{
    for (size_t i = 0; i < t.len; i++)
        if (t.ptr[i] == '+' || t.ptr[i] == '#' || t.ptr[i] == 0) return false;
    return true;
}

/* A `/`-terminated, non-empty segment. */
static bool take_segment(struct gh_reader *r, struct gh_slice *seg)
{
    return gh_reader_split(r, '/', seg) && seg->len > 0;
}

/* The rest of the reader must be `?query`: returns the query. */
static bool take_query(struct gh_reader *r, struct gh_slice *query)
{
    if (!skip_lit(r, "?")) return false;
    *query = gh_reader_rest(r);
    return true;
}

/* Bag after a topic prefix: drop one trailing `/` (1.8.1 step 3). */
static struct gh_slice trim_bag(struct gh_slice bag)
{
    if (bag.len > 0 && bag.ptr[bag.len - 1] == '/') bag.len--;
    return bag;
}

/* devices/{D}[/modules/{M}]/messages/events[/...] (reader after `devices/`). */
static gh_err classify_telemetry(struct gh_reader *r, const struct gh_iothub_identity *id,
                                 struct gh_iothub_topic *t)
{
    GH_ENSURE(take_segment(r, &t->device_id), GH_ERR_BAD_TOPIC);
    if (skip_lit(r, "modules/")) GH_ENSURE(take_segment(r, &t->module_id), GH_ERR_BAD_TOPIC);
    GH_ENSURE(skip_lit(r, "messages/events"), GH_ERR_BAD_TOPIC);
    if (gh_reader_remaining(r) > 0) {
        GH_ENSURE(skip_lit(r, "/"), GH_ERR_BAD_TOPIC);
        t->bag = trim_bag(gh_reader_rest(r));
    }
    bool module_topic = t->module_id.len > 0;
    bool module_conn = id->kind == GH_IOTHUB_ID_MODULE;
    GH_ENSURE(module_topic == module_conn, GH_ERR_FORBIDDEN);
    GH_ENSURE(gh_iothub_pct_matches(t->device_id, id->device_id), GH_ERR_FORBIDDEN);
    if (module_topic)
        GH_ENSURE(gh_iothub_pct_matches(t->module_id, id->module_id), GH_ERR_FORBIDDEN);
    t->kind = GH_IOTHUB_TOPIC_TELEMETRY;
    return GH_OK;
}

static gh_err with_rid(struct gh_reader *r, enum gh_iothub_topic_kind kind,
                       struct gh_iothub_topic *t)
{
    struct gh_slice query;
    GH_ENSURE(take_query(r, &query), GH_ERR_BAD_TOPIC);
    GH_ENSURE(gh_iothub_query_find(query, "$rid", &t->rid), GH_ERR_BAD_TOPIC);
    if (kind == GH_IOTHUB_TOPIC_DPS_POLL)
        GH_ENSURE(gh_iothub_query_find(query, "operationId", &t->operation_id), GH_ERR_BAD_TOPIC);
    t->kind = kind;
    return GH_OK;
}

static gh_err classify_hub(struct gh_reader *r, const struct gh_iothub_identity *id,
                           struct gh_iothub_topic *t)
{
    if (skip_lit(r, "devices/")) return classify_telemetry(r, id, t);
    if (skip_lit(r, "$iothub/twin/GET/")) return with_rid(r, GH_IOTHUB_TOPIC_TWIN_GET, t);
    if (skip_lit(r, "$iothub/twin/PATCH/properties/reported/"))
        return with_rid(r, GH_IOTHUB_TOPIC_TWIN_PATCH_REPORTED, t);
    if (skip_lit(r, "$iothub/methods/res/")) {
        struct gh_slice status;
        GH_ENSURE(take_segment(r, &status), GH_ERR_BAD_TOPIC);
        GH_ENSURE(parse_i32(status, &t->status), GH_ERR_BAD_TOPIC);
        return with_rid(r, GH_IOTHUB_TOPIC_METHOD_RESPONSE, t);
    }
    return GH_ERR_BAD_TOPIC;
}

static gh_err classify_dps(struct gh_reader *r, struct gh_iothub_topic *t)
{
    if (skip_lit(r, "$dps/registrations/PUT/iotdps-register/"))
        return with_rid(r, GH_IOTHUB_TOPIC_DPS_REGISTER, t);
    if (skip_lit(r, "$dps/registrations/GET/iotdps-get-operationstatus/"))
        return with_rid(r, GH_IOTHUB_TOPIC_DPS_POLL, t);
    return GH_ERR_BAD_TOPIC;
}

gh_err gh_iothub_topic_classify(struct gh_slice topic, const struct gh_iothub_identity *id,
                                struct gh_iothub_topic *out)
{
    struct gh_iothub_topic t;
    memset(&t, 0, sizeof t);
    GH_ENSURE(topic.len > 0 && name_chars_ok(topic), GH_ERR_BAD_TOPIC);
    struct gh_reader r;
    gh_reader_init(&r, topic.ptr, topic.len);
    GH_GUARD(id->kind == GH_IOTHUB_ID_DPS ? classify_dps(&r, &t) : classify_hub(&r, id, &t));
    *out = t;
    return GH_OK;
}

/* ---- server-to-device ---- */

static gh_err classify_devices_s2d(struct gh_reader *r, struct gh_iothub_topic *t)
{
    GH_ENSURE(take_segment(r, &t->device_id), GH_ERR_BAD_TOPIC);
    if (skip_lit(r, "messages/devicebound/")) {
        t->kind = GH_IOTHUB_TOPIC_C2D;
    } else {
        GH_ENSURE(skip_lit(r, "modules/"), GH_ERR_BAD_TOPIC);
        GH_ENSURE(take_segment(r, &t->module_id), GH_ERR_BAD_TOPIC);
        GH_ENSURE(skip_lit(r, "inputs/"), GH_ERR_BAD_TOPIC);
        GH_ENSURE(take_segment(r, &t->name), GH_ERR_BAD_TOPIC);
        t->kind = GH_IOTHUB_TOPIC_MODULE_INPUT;
    }
    t->bag = trim_bag(gh_reader_rest(r));
    return GH_OK;
}

/* {status}/?{query with $rid} for twin and DPS responses. */
static gh_err response_head(struct gh_reader *r, struct gh_iothub_topic *t, struct gh_slice *query)
{
    struct gh_slice status;
    GH_ENSURE(take_segment(r, &status), GH_ERR_BAD_TOPIC);
    GH_ENSURE(parse_status3(status, &t->status), GH_ERR_BAD_TOPIC);
    GH_ENSURE(take_query(r, query), GH_ERR_BAD_TOPIC);
    GH_ENSURE(gh_iothub_query_find(*query, "$rid", &t->rid), GH_ERR_BAD_TOPIC);
    return GH_OK;
}

static gh_err find_version(struct gh_slice query, bool required, struct gh_iothub_topic *t)
{
    struct gh_slice v;
    if (!gh_iothub_query_find(query, "$version", &v)) {
        GH_ENSURE(!required, GH_ERR_BAD_TOPIC);
        return GH_OK;
    }
    GH_ENSURE(parse_dec(v, UINT64_MAX, &t->version), GH_ERR_BAD_TOPIC);
    t->has_version = true;
    return GH_OK;
}

static gh_err classify_s2d(struct gh_reader *r, struct gh_iothub_topic *t)
{
    struct gh_slice query;
    if (skip_lit(r, "devices/")) return classify_devices_s2d(r, t);
    if (skip_lit(r, "$iothub/twin/res/")) {
        GH_GUARD(response_head(r, t, &query));
        GH_GUARD(find_version(query, false, t));
        t->kind = GH_IOTHUB_TOPIC_TWIN_RESPONSE;
        return GH_OK;
    }
    if (skip_lit(r, "$iothub/twin/PATCH/properties/desired/")) {
        GH_ENSURE(take_query(r, &query), GH_ERR_BAD_TOPIC);
        GH_GUARD(find_version(query, true, t));
        t->kind = GH_IOTHUB_TOPIC_TWIN_DESIRED;
        return GH_OK;
    }
    if (skip_lit(r, "$iothub/methods/POST/")) {
        GH_ENSURE(take_segment(r, &t->name), GH_ERR_BAD_TOPIC);
        GH_ENSURE(take_query(r, &query), GH_ERR_BAD_TOPIC);
        GH_ENSURE(gh_iothub_query_find(query, "$rid", &t->rid), GH_ERR_BAD_TOPIC);
        t->kind = GH_IOTHUB_TOPIC_METHOD_REQUEST;
        return GH_OK;
    }
    if (skip_lit(r, "$dps/registrations/res/")) {
        GH_GUARD(response_head(r, t, &query));
        struct gh_slice ra;
        if (gh_iothub_query_find(query, "retry-after", &ra)) {
            uint64_t v;
            GH_ENSURE(parse_dec(ra, UINT32_MAX, &v), GH_ERR_BAD_TOPIC);
            t->retry_after = (uint32_t)v;
            t->has_retry_after = true;
        }
        t->kind = GH_IOTHUB_TOPIC_DPS_RESPONSE;
        return GH_OK;
    }
    return GH_ERR_BAD_TOPIC;
}

gh_err gh_iothub_topic_classify_s2d(struct gh_slice topic, struct gh_iothub_topic *out)
{
    struct gh_iothub_topic t;
    memset(&t, 0, sizeof t);
    GH_ENSURE(topic.len > 0 && name_chars_ok(topic), GH_ERR_BAD_TOPIC);
    struct gh_reader r;
    gh_reader_init(&r, topic.ptr, topic.len);
    GH_GUARD(classify_s2d(&r, &t));
    *out = t;
    return GH_OK;
}

/* ---- subscription filters ---- */

/* A filter's id segment: literal (no wildcard characters), non-empty, and
 * naming `want`. */
static bool id_segment_matches(struct gh_slice seg, struct gh_slice want)
{
    return seg.len > 0 && name_chars_ok(seg) && gh_iothub_pct_matches(seg, want);
}

static enum gh_iothub_filter_kind classify_devices_filter(struct gh_reader *r,
                                                          const struct gh_iothub_identity *id,
                                                          struct gh_iothub_filter *f)
{
    struct gh_slice dev, mod, rest;
    if (!gh_reader_split(r, '/', &dev)) return GH_IOTHUB_FILTER_UNSUPPORTED;
    if (skip_lit(r, "messages/devicebound/#") && gh_reader_remaining(r) == 0) {
        if (id->kind != GH_IOTHUB_ID_DEVICE) return GH_IOTHUB_FILTER_UNSUPPORTED;
        if (gh_slice_eq_cstr(dev, "+")) {
            f->device_id = GH_SLICE_EMPTY;
        } else {
            if (!id_segment_matches(dev, id->device_id)) return GH_IOTHUB_FILTER_UNSUPPORTED;
            f->device_id = dev;
        }
        return GH_IOTHUB_FILTER_C2D;
    }
    if (id->kind != GH_IOTHUB_ID_MODULE || !skip_lit(r, "modules/") ||
        !gh_reader_split(r, '/', &mod))
        return GH_IOTHUB_FILTER_UNSUPPORTED;
    rest = gh_reader_rest(r);
    if (!gh_slice_eq_cstr(rest, "inputs/#") && !gh_slice_eq_cstr(rest, "#"))
        return GH_IOTHUB_FILTER_UNSUPPORTED;
    if (!id_segment_matches(dev, id->device_id) || !id_segment_matches(mod, id->module_id))
        return GH_IOTHUB_FILTER_UNSUPPORTED;
    f->device_id = dev;
    f->module_id = mod;
    return GH_IOTHUB_FILTER_MODULE_INPUTS;
}

static enum gh_iothub_filter_kind classify_filter(struct gh_slice filter,
                                                  const struct gh_iothub_identity *id,
                                                  struct gh_iothub_filter *f)
{
    if (id->kind == GH_IOTHUB_ID_DPS)
        return gh_slice_eq_cstr(filter, "$dps/registrations/res/#") ? GH_IOTHUB_FILTER_DPS_RESPONSES
                                                                    : GH_IOTHUB_FILTER_UNSUPPORTED;
    if (gh_slice_eq_cstr(filter, "$iothub/twin/res/#")) return GH_IOTHUB_FILTER_TWIN_RESPONSES;
    if (gh_slice_eq_cstr(filter, "$iothub/twin/PATCH/properties/desired/#"))
        return GH_IOTHUB_FILTER_TWIN_DESIRED;
    if (gh_slice_eq_cstr(filter, "$iothub/methods/POST/#")) return GH_IOTHUB_FILTER_METHODS;
    struct gh_reader r;
    gh_reader_init(&r, filter.ptr, filter.len);
    if (skip_lit(&r, "devices/")) return classify_devices_filter(&r, id, f);
    return GH_IOTHUB_FILTER_UNSUPPORTED;
}

enum gh_iothub_filter_kind gh_iothub_filter_classify(struct gh_slice filter,
                                                     const struct gh_iothub_identity *id,
                                                     struct gh_iothub_filter *out)
{
    struct gh_iothub_filter f = {GH_IOTHUB_FILTER_UNSUPPORTED, GH_SLICE_EMPTY, GH_SLICE_EMPTY};
    f.kind = classify_filter(filter, id, &f);
    if (f.kind == GH_IOTHUB_FILTER_UNSUPPORTED) f.device_id = f.module_id = GH_SLICE_EMPTY;
    *out = f;
    return f.kind;
}
