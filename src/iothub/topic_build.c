/* Topic builders (both directions). Classifiers: topic.c. */
#include <stdio.h>
#include <string.h>

#include "common/encoding.h"
#include "iothub/topic.h"

/* Decimal digits of UINT64_MAX plus a NUL. */
#define DEC_BUF 21

/* Every builder restores the writer when it fails, so nothing is written. */
static gh_err finish(struct gh_writer *w, size_t mark, gh_err rc)
{
    if (rc != GH_OK) w->len = mark;
    return rc;
}

static bool has_any(struct gh_slice s, const char *set)
{
    for (size_t i = 0; i < s.len; i++)
        if (s.ptr[i] == 0 || strchr(set, s.ptr[i]) != NULL) return true;
    return false;
}

static bool printable(struct gh_slice s)
{
    for (size_t i = 0; i < s.len; i++)
        if (s.ptr[i] < 0x21 || s.ptr[i] > 0x7e) return false;
    return true;
}

bool gh_iothub_valid_method_name(struct gh_slice name)
{
    return name.len > 0 && printable(name) && !has_any(name, "$()<>@,;:\\\"/[]?={}+#");
}

/* A rid we echo: anything a topic name can carry that does not end the
 * parameter (1.10.1: echo byte-for-byte). */
static bool rid_echo_ok(struct gh_slice rid)
{
    return !has_any(rid, "&+#");
}

/* A rid we choose (1.11.1): a plain token. */
static bool rid_token_ok(struct gh_slice rid)
{
    return rid.len > 0 && printable(rid) && !has_any(rid, "&/?#+");
}

static bool operation_id_ok(struct gh_slice op)
{
    if (op.len == 0) return false;
    for (size_t i = 0; i < op.len; i++) {
        uint8_t c = op.ptr[i];
        bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                  c == '.' || c == '-';
        if (!ok) return false;
    }
    return true;
}

/* An id or name segment: verbatim when it is a valid topic level without
 * `/`, else percent-encoded (which always is). */
static gh_err put_segment(struct gh_writer *w, struct gh_slice s)
{
    GH_ENSURE(s.len > 0, GH_ERR_ARG);
    if (!has_any(s, "/+#")) return gh_writer_bytes(w, s.ptr, s.len);
    return gh_pct_encode((const char *)s.ptr, s.len, w);
}

static gh_err put_dec(struct gh_writer *w, uint64_t v)
{
    char buf[DEC_BUF];
    int n = snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    GH_ENSURE(n > 0 && (size_t)n < sizeof buf, GH_ERR_INTERNAL);
    return gh_writer_bytes(w, buf, (size_t)n);
}

static gh_err put_i32(struct gh_writer *w, int32_t v)
{
    if (v < 0) GH_GUARD(gh_writer_u8(w, '-'));
    return put_dec(w, v < 0 ? (uint64_t)(-(int64_t)v) : (uint64_t)v);
}

static gh_err put_bag(struct gh_writer *w, const struct gh_iothub_bag_item *props, size_t n)
{
    struct gh_iothub_bag_writer bw;
    gh_iothub_bag_writer_init(&bw, w);
    return gh_iothub_bag_put_all(&bw, props, n);
}

static gh_err c2d(struct gh_writer *w, struct gh_slice device,
                  const struct gh_iothub_bag_item *props, size_t n)
{
    GH_GUARD(gh_writer_cstr(w, "devices/"));
    GH_GUARD(put_segment(w, device));
    GH_GUARD(gh_writer_cstr(w, "/messages/devicebound/"));
    return put_bag(w, props, n);
}

gh_err gh_iothub_topic_build_c2d(struct gh_writer *w, struct gh_slice device,
                                 const struct gh_iothub_bag_item *props, size_t n)
{
    size_t mark = w->len;
    return finish(w, mark, c2d(w, device, props, n));
}

static gh_err module_input(struct gh_writer *w, struct gh_slice device, struct gh_slice module,
                           struct gh_slice input, const struct gh_iothub_bag_item *props, size_t n)
{
    GH_GUARD(gh_writer_cstr(w, "devices/"));
    GH_GUARD(put_segment(w, device));
    GH_GUARD(gh_writer_cstr(w, "/modules/"));
    GH_GUARD(put_segment(w, module));
    GH_GUARD(gh_writer_cstr(w, "/inputs/"));
    GH_GUARD(put_segment(w, input));
    GH_GUARD(gh_writer_u8(w, '/'));
    return put_bag(w, props, n);
}

gh_err gh_iothub_topic_build_module_input(struct gh_writer *w, struct gh_slice device,
                                          struct gh_slice module, struct gh_slice input,
                                          const struct gh_iothub_bag_item *props, size_t n)
{
    size_t mark = w->len;
    return finish(w, mark, module_input(w, device, module, input, props, n));
}

/* {prefix}{status}/?$rid={rid}[&{name}={*opt}] */
static gh_err response(struct gh_writer *w, const char *prefix, unsigned status,
                       struct gh_slice rid, const char *opt_name, const uint64_t *opt)
{
    GH_ENSURE(status >= 100 && status <= 999, GH_ERR_ARG);
    GH_ENSURE(rid_echo_ok(rid), GH_ERR_ARG);
    GH_GUARD(gh_writer_cstr(w, prefix));
    GH_GUARD(put_dec(w, status));
    GH_GUARD(gh_writer_cstr(w, "/?$rid="));
    GH_GUARD(gh_writer_bytes(w, rid.ptr, rid.len));
    if (opt) {
        GH_GUARD(gh_writer_u8(w, '&'));
        GH_GUARD(gh_writer_cstr(w, opt_name));
        GH_GUARD(gh_writer_u8(w, '='));
        GH_GUARD(put_dec(w, *opt));
    }
    return GH_OK;
}

gh_err gh_iothub_topic_build_twin_response(struct gh_writer *w, unsigned status,
                                           struct gh_slice rid, const uint64_t *version)
{
    size_t mark = w->len;
    return finish(w, mark, response(w, "$iothub/twin/res/", status, rid, "$version", version));
}

gh_err gh_iothub_topic_build_dps_response(struct gh_writer *w, unsigned status, struct gh_slice rid,
                                          const uint32_t *retry_after)
{
    uint64_t ra = retry_after ? *retry_after : 0;
    size_t mark = w->len;
    return finish(w, mark,
                  response(w, "$dps/registrations/res/", status, rid, "retry-after",
                           retry_after ? &ra : NULL));
}

static gh_err desired(struct gh_writer *w, uint64_t version)
{
    GH_GUARD(gh_writer_cstr(w, "$iothub/twin/PATCH/properties/desired/?$version="));
    return put_dec(w, version);
}

gh_err gh_iothub_topic_build_twin_desired(struct gh_writer *w, uint64_t version)
{
    size_t mark = w->len;
    return finish(w, mark, desired(w, version));
}

static gh_err method_request(struct gh_writer *w, struct gh_slice name, struct gh_slice rid)
{
    GH_ENSURE(gh_iothub_valid_method_name(name), GH_ERR_ARG);
    GH_ENSURE(rid_token_ok(rid), GH_ERR_ARG);
    GH_GUARD(gh_writer_cstr(w, "$iothub/methods/POST/"));
    GH_GUARD(gh_writer_bytes(w, name.ptr, name.len));
    GH_GUARD(gh_writer_cstr(w, "/?$rid="));
    return gh_writer_bytes(w, rid.ptr, rid.len);
}

gh_err gh_iothub_topic_build_method_request(struct gh_writer *w, struct gh_slice name,
                                            struct gh_slice rid)
{
    size_t mark = w->len;
    return finish(w, mark, method_request(w, name, rid));
}

static gh_err telemetry(struct gh_writer *w, struct gh_slice device, struct gh_slice module,
                        const struct gh_iothub_bag_item *props, size_t n)
{
    GH_GUARD(gh_writer_cstr(w, "devices/"));
    GH_GUARD(put_segment(w, device));
    if (module.len > 0) {
        GH_GUARD(gh_writer_cstr(w, "/modules/"));
        GH_GUARD(put_segment(w, module));
    }
    GH_GUARD(gh_writer_cstr(w, "/messages/events/"));
    return put_bag(w, props, n);
}

gh_err gh_iothub_topic_build_telemetry(struct gh_writer *w, struct gh_slice device,
                                       struct gh_slice module,
                                       const struct gh_iothub_bag_item *props, size_t n)
{
    size_t mark = w->len;
    return finish(w, mark, telemetry(w, device, module, props, n));
}

/* {prefix}?$rid={rid}[&operationId={op}] for requests devices send. */
static gh_err request(struct gh_writer *w, const char *prefix, struct gh_slice rid,
                      const struct gh_slice *op)
{
    GH_ENSURE(rid_token_ok(rid), GH_ERR_ARG);
    GH_ENSURE(op == NULL || operation_id_ok(*op), GH_ERR_ARG);
    GH_GUARD(gh_writer_cstr(w, prefix));
    GH_GUARD(gh_writer_cstr(w, "?$rid="));
    GH_GUARD(gh_writer_bytes(w, rid.ptr, rid.len));
    if (op) {
        GH_GUARD(gh_writer_cstr(w, "&operationId="));
        GH_GUARD(gh_writer_bytes(w, op->ptr, op->len));
    }
    return GH_OK;
}

gh_err gh_iothub_topic_build_twin_get(struct gh_writer *w, struct gh_slice rid)
{
    size_t mark = w->len;
    return finish(w, mark, request(w, "$iothub/twin/GET/", rid, NULL));
}

gh_err gh_iothub_topic_build_twin_patch_reported(struct gh_writer *w, struct gh_slice rid)
{
    size_t mark = w->len;
    return finish(w, mark, request(w, "$iothub/twin/PATCH/properties/reported/", rid, NULL));
}

gh_err gh_iothub_topic_build_dps_register(struct gh_writer *w, struct gh_slice rid)
{
    size_t mark = w->len;
    return finish(w, mark, request(w, "$dps/registrations/PUT/iotdps-register/", rid, NULL));
}

gh_err gh_iothub_topic_build_dps_poll(struct gh_writer *w, struct gh_slice rid, struct gh_slice op)
{
    size_t mark = w->len;
    return finish(w, mark,
                  request(w, "$dps/registrations/GET/iotdps-get-operationstatus/", rid, &op));
}

static gh_err method_response(struct gh_writer *w, int32_t status, struct gh_slice rid)
{
    GH_ENSURE(rid_echo_ok(rid), GH_ERR_ARG);
    GH_GUARD(gh_writer_cstr(w, "$iothub/methods/res/"));
    GH_GUARD(put_i32(w, status));
    GH_GUARD(gh_writer_cstr(w, "/?$rid="));
    return gh_writer_bytes(w, rid.ptr, rid.len);
}

gh_err gh_iothub_topic_build_method_response(struct gh_writer *w, int32_t status,
                                             struct gh_slice rid)
{
    size_t mark = w->len;
    return finish(w, mark, method_response(w, status, rid));
}
