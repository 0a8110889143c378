#include "mqtt/topic.h"

#include <string.h>

#include "mqtt/mqtt.h"

/* Steps shared by names and filters: non-empty, length, UTF-8. */
static gh_err check_common(struct gh_slice s, size_t max_len)
{
    GH_ENSURE(s.len > 0, GH_ERR_BAD_TOPIC);
    GH_ENSURE(s.len <= max_len && s.len <= GH_MQTT_MAX_STRING_LEN, GH_ERR_TOO_LARGE);
    GH_ENSURE(gh_utf8_valid_mqtt(s.ptr, s.len), GH_ERR_BAD_UTF8);
    return GH_OK;
}

gh_err gh_mqtt_topic_name_check(struct gh_slice name, size_t max_len)
{
    GH_GUARD(check_common(name, max_len));
    GH_ENSURE(memchr(name.ptr, '+', name.len) == NULL, GH_ERR_BAD_TOPIC);
    GH_ENSURE(memchr(name.ptr, '#', name.len) == NULL, GH_ERR_BAD_TOPIC);
    return GH_OK;
}

gh_err gh_mqtt_topic_filter_check(struct gh_slice filter, size_t max_len)
{
    GH_GUARD(check_common(filter, max_len));
    const uint8_t *s = filter.ptr;
    size_t n = filter.len;
    for (size_t i = 0; i < n; i++) {
        bool level_start = i == 0 || s[i - 1] == '/';
        bool level_end = i + 1 == n || s[i + 1] == '/';
        if (s[i] == '+') GH_ENSURE(level_start && level_end, GH_ERR_BAD_TOPIC);
        if (s[i] == '#') GH_ENSURE(level_start && i + 1 == n, GH_ERR_BAD_TOPIC);
    }
    return GH_OK;
}

/* Index of the '/' ending the level that starts at from, or len. */
static size_t level_end(struct gh_slice s, size_t from)
{
    const uint8_t *slash = memchr(s.ptr + from, '/', s.len - from);
    return slash ? (size_t)(slash - s.ptr) : s.len;
}

static bool level_is(struct gh_slice s, size_t from, size_t end, uint8_t c)
{
    return end - from == 1 && s.ptr[from] == c;
}

bool gh_mqtt_topic_match(struct gh_slice filter, struct gh_slice name)
{
    if (filter.len == 0 || name.len == 0) return false;
    if (name.ptr[0] == '$' && (filter.ptr[0] == '+' || filter.ptr[0] == '#')) {
        size_t fe = level_end(filter, 0);
        if (fe == 1) return false; /* wildcard first level never matches $-topics */
    }
    size_t fi = 0, ni = 0;
    for (;;) {
        size_t fe = level_end(filter, fi);
        if (level_is(filter, fi, fe, '#')) return true;
        size_t ne = level_end(name, ni);
        if (!level_is(filter, fi, fe, '+')) {
            if (fe - fi != ne - ni) return false;
            if (memcmp(filter.ptr + fi, name.ptr + ni, fe - fi) != 0) return false;
        }
        bool f_last = fe == filter.len, n_last = ne == name.len;
        if (f_last && n_last) return true;
        if (n_last) {
            /* Name exhausted: only a final "/#" still matches (the parent level). */
            return filter.len - fe == 2 && filter.ptr[fe + 1] == '#';
        }
        if (f_last) return false;
        fi = fe + 1;
        ni = ne + 1;
    }
}
