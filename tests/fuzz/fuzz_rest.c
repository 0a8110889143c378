/* Fuzz the REST API's request-side parsers: the first byte picks one of
 * ISO 8601 times, decimal integers, If-Match values, direct-method bodies,
 * C2D header fields ("name: value" lines) and error-body text.
 *
 * Oracles beyond "no crash": outputs respect their documented bounds
 * (times round-trip through the formatter to the same instant at ms
 * precision within range, clamps hold, mapped properties are valid JSON
 * objects, error bodies parse back and keep the code in front of the
 * first ';'). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/timefmt.h"
#include "hub/rest_int.h"
#include "hub/stamp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond) abort();
}

static char *cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL) abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

static void fuzz_time(const char *s)
{
    int64_t ms = -1;
    if (gh_time_parse(s, &ms) != GH_OK) return;
    check(ms >= 0);
    char t[GH_HUB_TIME_LEN];
    gh_hub_time_format(ms, t);
    /* 0 formats as "never"; past year 9999 the formatter clamps. */
    if (ms == 0 || ms > INT64_C(253402300799999)) return;
    int64_t back = -1;
    check(gh_time_parse(t, &back) == GH_OK);
    check(back == ms);
}

static void fuzz_uint(const char *s)
{
    uint64_t v = 0;
    if (gh_hub_rest_parse_uint(s, 1000, &v) == GH_OK) check(v <= 1000);
}

static void fuzz_if_match(const char *s)
{
    char out[32];
    const char *r = NULL;
    if (gh_hub_rest_if_match(s, out, sizeof out, &r) != GH_OK) return;
    if (r != NULL) {
        check(r == out && strlen(r) < sizeof out);
        check(strchr(r, '"') == NULL);
    }
}

static void fuzz_method(const uint8_t *data, size_t size)
{
    json_t *j =
        json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    if (j == NULL) return;
    struct gh_hub_rest_method_req m;
    memset(&m, 0, sizeof m);
    char err[160];
    if (gh_hub_rest_method_parse(j, &m, err, sizeof err) == GH_OK) {
        check(m.name[0] != '\0' && strlen(m.name) <= GH_REST_METHOD_NAME_MAX);
        check(m.payload != NULL && strlen(m.payload) <= GH_REST_METHOD_PAYLOAD_MAX);
        check(m.response_timeout_s >= GH_REST_METHOD_RESPONSE_MIN &&
              m.response_timeout_s <= GH_REST_METHOD_RESPONSE_MAX);
        check(m.connect_timeout_s <= GH_REST_METHOD_CONNECT_MAX);
        json_t *p = json_loads(m.payload, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        check(p != NULL);
        json_decref(p);
        free(m.payload);
    } else {
        check(m.payload == NULL && err[0] != '\0');
    }
    json_decref(j);
    /* The same bytes as a device's method answer. */
    json_t *r = NULL;
    check(gh_hub_rest_method_result(200, (const char *)data, size, &r) == GH_OK);
    check(json_object_get(r, "payload") != NULL);
    json_decref(r);
}

static void fuzz_c2d(char *s)
{
    struct gh_http_fields f = {0};
    for (char *line = s; line != NULL && f.count < GH_HTTP_HEADERS_MAX;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        char *colon = strchr(line, ':');
        if (colon != NULL) {
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ') v++;
            f.h[f.count].name = gh_slice_cstr(line);
            f.h[f.count].value = gh_slice_cstr(v);
            f.count++;
        }
        line = nl ? nl + 1 : NULL;
    }
    struct gh_hub_rest_c2d m;
    char err[GH_REST_ERROR_TEXT_MAX];
    if (gh_hub_rest_c2d_from_fields(&f, INT64_C(1767225600000), 3600000, &m, err, sizeof err) !=
        GH_OK)
        return;
    check(json_is_object(json_object_get(m.properties, "system")));
    json_t *app = json_object_get(m.properties, "app");
    check(json_is_object(app) && json_object_size(app) <= GH_REST_C2D_APP_PROPS_MAX);
    check(m.expiry_ms > INT64_C(1767225600000));
    check((unsigned)m.ack <= GH_C2D_ACK_FULL);
    check(strlen(m.message_id) <= GH_C2D_MSGID_MAX);
    json_decref(m.properties);
}

static void fuzz_error_body(const char *s)
{
    char *b = NULL;
    check(gh_hub_rest_error_body(GH_REST_DEVICE_NOT_FOUND, s, s, 1, &b) == GH_OK);
    json_t *j = json_loads(b, 0, NULL);
    check(j != NULL);
    const char *msg = json_string_value(json_object_get(j, "Message"));
    check(msg != NULL && strncmp(msg, "ErrorCode:DeviceNotFound;", 25) == 0);
    check(strchr(msg + 25, ';') == NULL);
    json_decref(j);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 300000) return 0;
    uint8_t which = data[0] % 6;
    data++, size--;
    char *s = cstr(data, size);
    switch (which) {
    case 0:
        fuzz_time(s);
        break;
    case 1:
        fuzz_uint(s);
        break;
    case 2:
        fuzz_if_match(s);
        break;
    case 3:
        fuzz_method(data, size);
        break;
    case 4:
        fuzz_c2d(s);
        break;
    default:
        fuzz_error_body(s);
        break;
    }
    free(s);
    return 0;
}
