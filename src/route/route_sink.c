/* Sinks, sources, system-property names and the small inspection API. */
#include "route/route_sink.h"

#include <string.h>

#include "route/route_int.h"

static const struct {
    const char *name;
    enum gh_route_sink_kind kind;
} sink_names[] = {
    {"BrokeredEndpoint", GH_ROUTE_SINK_BROKERED},
    {"LocalTopic", GH_ROUTE_SINK_LOCAL_TOPIC},
    {"AppendFile", GH_ROUTE_SINK_APPEND_FILE},
};

bool gh_route_sink_kind_from_name(struct gh_slice name, enum gh_route_sink_kind *out)
{
    for (size_t i = 0; i < sizeof sink_names / sizeof sink_names[0]; i++) {
        if (gh_slice_eq_nocase(name, gh_slice_cstr(sink_names[i].name))) {
            *out = sink_names[i].kind;
            return true;
        }
    }
    return false;
}

static bool has_ctl(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] == 0x7f) return true;
    return false;
}

/* IoT Hub module id characters: ASCII alphanumerics and -:.+%_#*?!(),=@;$' */
static bool module_id_ok(const uint8_t *s, size_t n)
{
    static const char extra[] = "-:.+%_#*?!(),=@;$'";
    if (n == 0 || n > ROUTE_MODULE_ID_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!alnum && (c == 0 || !memchr(extra, c, sizeof extra - 1))) return false;
    }
    return true;
}

/* An input name ends up as one MQTT topic level: no wildcards, no '/'. */
static bool input_name_ok(const uint8_t *s, size_t n)
{
    if (n == 0 || n > ROUTE_INPUT_NAME_MAX || has_ctl(s, n)) return false;
    if (!gh_utf8_valid(s, n)) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '+' || s[i] == '#' || s[i] == '/') return false;
    return true;
}

static gh_err check_brokered(const uint8_t *a, size_t n, size_t *mo, size_t *ml, size_t *io,
                             size_t *il, const char **why)
{
    size_t b = 0, e = n;
    if (e > b && a[b] == '/') b++;
    if (e > b && a[e - 1] == '/') e--;
    size_t seg_off[4], seg_len[4], nseg = 0, i = b;
    for (;;) {
        size_t k = i;
        while (k < e && a[k] != '/') k++;
        if (nseg == 4) {
            *why = "BrokeredEndpoint needs \"/modules/{module}/inputs/{input}\" (4 segments)";
            return GH_ERR_CONFIG_VALUE;
        }
        seg_off[nseg] = i;
        seg_len[nseg++] = k - i;
        if (k >= e) break;
        i = k + 1;
    }
    if (nseg != 4 ||
        !gh_slice_eq_nocase((struct gh_slice){a + seg_off[0], seg_len[0]},
                            gh_slice_cstr("modules")) ||
        !gh_slice_eq_nocase((struct gh_slice){a + seg_off[2], seg_len[2]},
                            gh_slice_cstr("inputs"))) {
        *why = "BrokeredEndpoint needs \"/modules/{module}/inputs/{input}\" (4 segments)";
        return GH_ERR_CONFIG_VALUE;
    }
    if (!module_id_ok(a + seg_off[1], seg_len[1])) {
        *why = "BrokeredEndpoint: invalid module id";
        return GH_ERR_CONFIG_VALUE;
    }
    if (!input_name_ok(a + seg_off[3], seg_len[3])) {
        *why = "BrokeredEndpoint: invalid input name";
        return GH_ERR_CONFIG_VALUE;
    }
    *mo = seg_off[1];
    *ml = seg_len[1];
    *io = seg_off[3];
    *il = seg_len[3];
    return GH_OK;
}

static gh_err check_topic(const uint8_t *a, size_t n, const char **why)
{
    if (n == 0) {
        *why = "LocalTopic: empty topic";
        return GH_ERR_CONFIG_VALUE;
    }
    if (n > GH_ROUTE_TOPIC_MAX) {
        *why = "LocalTopic: topic longer than 256 bytes";
        return GH_ERR_CONFIG_VALUE;
    }
    if (a[0] == '$') {
        *why = "LocalTopic: topic must not start with '$'";
        return GH_ERR_CONFIG_VALUE;
    }
    if (memchr(a, '+', n) || memchr(a, '#', n)) {
        *why = "LocalTopic: wildcards '+' and '#' are not allowed in a topic name";
        return GH_ERR_CONFIG_VALUE;
    }
    if (!gh_utf8_valid_mqtt(a, n) || has_ctl(a, n)) {
        *why = "LocalTopic: topic must be UTF-8 without control characters";
        return GH_ERR_CONFIG_VALUE;
    }
    return GH_OK;
}

static gh_err check_file(const uint8_t *a, size_t n, const char **why)
{
    if (n == 0) {
        *why = "AppendFile: empty file name";
        return GH_ERR_CONFIG_VALUE;
    }
    if (n > GH_ROUTE_FILE_MAX) {
        *why = "AppendFile: file name longer than 128 bytes";
        return GH_ERR_CONFIG_VALUE;
    }
    if (memchr(a, '/', n) || memchr(a, '\\', n)) {
        *why = "AppendFile: a file name, not a path ('/' is not allowed)";
        return GH_ERR_CONFIG_VALUE;
    }
    for (size_t i = 0; i + 1 < n; i++) {
        if (a[i] == '.' && a[i + 1] == '.') {
            *why = "AppendFile: '..' is not allowed in the file name";
            return GH_ERR_CONFIG_VALUE;
        }
    }
    if (n == 1 && a[0] == '.') {
        *why = "AppendFile: '.' is not a file name";
        return GH_ERR_CONFIG_VALUE;
    }
    if (!gh_utf8_valid_mqtt(a, n) || has_ctl(a, n)) {
        *why = "AppendFile: file name must be UTF-8 without control characters";
        return GH_ERR_CONFIG_VALUE;
    }
    return GH_OK;
}

gh_err gh_route_sink_check(enum gh_route_sink_kind kind, const uint8_t *arg, size_t n,
                           size_t *mod_off, size_t *mod_len, size_t *in_off, size_t *in_len,
                           const char **why)
{
    *mod_off = *mod_len = *in_off = *in_len = 0;
    switch (kind) {
    case GH_ROUTE_SINK_BROKERED:
        return check_brokered(arg, n, mod_off, mod_len, in_off, in_len, why);
    case GH_ROUTE_SINK_LOCAL_TOPIC:
        return check_topic(arg, n, why);
    case GH_ROUTE_SINK_APPEND_FILE:
        return check_file(arg, n, why);
    case GH_ROUTE_SINK_UPSTREAM:
        return GH_OK;
    }
    *why = "unknown sink";
    return GH_ERR_CONFIG_VALUE;
}

/* ---- Names of system properties --------------------------------------- */

static const struct {
    const char *name;
    enum gh_route_sys sys;
} sys_names[] = {
    {"contentType", GH_ROUTE_SYS_CONTENT_TYPE},
    {"contentEncoding", GH_ROUTE_SYS_CONTENT_ENCODING},
    {"messageId", GH_ROUTE_SYS_MESSAGE_ID},
    {"correlationId", GH_ROUTE_SYS_CORRELATION_ID},
    {"userId", GH_ROUTE_SYS_USER_ID},
    {"to", GH_ROUTE_SYS_TO},
    {"connectionDeviceId", GH_ROUTE_SYS_CONNECTION_DEVICE_ID},
    {"connectionModuleId", GH_ROUTE_SYS_CONNECTION_MODULE_ID},
    {"connectionDeviceGenerationId", GH_ROUTE_SYS_CONNECTION_DEVICE_GENERATION_ID},
    {"connectionAuthMethod", GH_ROUTE_SYS_CONNECTION_AUTH_METHOD},
    {"enqueuedTime", GH_ROUTE_SYS_ENQUEUED_TIME},
    {"iothub-enqueuedtime", GH_ROUTE_SYS_ENQUEUED_TIME},
    {"dt-subject", GH_ROUTE_SYS_DT_SUBJECT},
    {"dt-dataschema", GH_ROUTE_SYS_DT_DATASCHEMA},
    {"outputName", GH_ROUTE_SYS_OUTPUT_NAME},
};

bool gh_route_sys_from_name(struct gh_slice name, enum gh_route_sys *out)
{
    for (size_t i = 0; i < sizeof sys_names / sizeof sys_names[0]; i++) {
        if (gh_slice_eq_nocase(name, gh_slice_cstr(sys_names[i].name))) {
            *out = sys_names[i].sys;
            return true;
        }
    }
    return false;
}

static const struct {
    const char *key;
    enum gh_route_sys sys;
} wire_keys[] = {
    {"$.ct", GH_ROUTE_SYS_CONTENT_TYPE}, {"$.ce", GH_ROUTE_SYS_CONTENT_ENCODING},
    {"$.mid", GH_ROUTE_SYS_MESSAGE_ID},  {"$.cid", GH_ROUTE_SYS_CORRELATION_ID},
    {"$.uid", GH_ROUTE_SYS_USER_ID},     {"$.to", GH_ROUTE_SYS_TO},
    {"$.on", GH_ROUTE_SYS_OUTPUT_NAME},  {"$.sub", GH_ROUTE_SYS_DT_SUBJECT},
};

bool gh_route_sys_from_wire_key(struct gh_slice key, enum gh_route_sys *out)
{
    for (size_t i = 0; i < sizeof wire_keys / sizeof wire_keys[0]; i++) {
        if (gh_slice_eq_cstr(key, wire_keys[i].key)) {
            *out = wire_keys[i].sys;
            return true;
        }
    }
    return false;
}

void gh_route_msg_init(struct gh_route_msg *m)
{
    memset(m, 0, sizeof *m);
}

/* ---- Inspection -------------------------------------------------------- */

struct gh_route_sink gh_route_sink(const struct gh_route *r)
{
    return r->sink;
}

struct gh_slice gh_route_source(const struct gh_route *r)
{
    return r->source;
}

bool gh_route_source_matches(const struct gh_route *r, struct gh_slice source)
{
    if (source.len < r->source.len) return false;
    return gh_slice_eq_nocase((struct gh_slice){source.ptr, r->source.len}, r->source);
}

bool gh_route_uses_body(const struct gh_route *r)
{
    return r->uses_body;
}

bool gh_route_has_condition(const struct gh_route *r)
{
    return r->root != NODE_NONE;
}

bool gh_route_sink_eq(const struct gh_route_sink *a, const struct gh_route_sink *b)
{
    return a->kind == b->kind && gh_slice_eq(a->arg, b->arg);
}
