/* Twin limits of PROTOCOL.md 1.10.4 (see twin.h for the exact rules). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "hub/twin.h"

/* Keys quoted in reasons are cut to this many input bytes. */
#define KEY_EXCERPT 32
#define KEY_EXCERPT_CAP (4 * KEY_EXCERPT + 8)

struct check {
    const char *section;
    bool patch;
    char *err;
    size_t errlen;
};

static const char *section_name(enum gh_twin_section sec)
{
    switch (sec) {
    case GH_TWIN_TAGS:
        return "tags";
    case GH_TWIN_DESIRED:
        return "properties.desired";
    case GH_TWIN_REPORTED:
        return "properties.reported";
    }
    return "twin";
}

static size_t section_limit(enum gh_twin_section sec)
{
    return sec == GH_TWIN_TAGS ? GH_TWIN_TAGS_MAX : GH_TWIN_PROPS_MAX;
}

static gh_err reject(struct check *c, gh_err rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static gh_err reject(struct check *c, gh_err rc, const char *fmt, ...)
{
    if (c->errlen == 0) return rc;
    int n = snprintf(c->err, c->errlen, "%s: ", c->section);
    if (n < 0 || (size_t)n >= c->errlen) return rc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return rc;
}

static char *excerpt(char out[KEY_EXCERPT_CAP], const char *key, size_t len)
{
    return gh_log_escape(out, KEY_EXCERPT_CAP, key, len, KEY_EXCERPT);
}

static gh_err check_key(struct check *c, const char *key, size_t len)
{
    char ex[KEY_EXCERPT_CAP];
    if (len == 0) return reject(c, GH_ERR_ARG, "a key is empty");
    if (len > GH_TWIN_KEY_MAX)
        return reject(c, GH_ERR_TOO_LARGE, "key %s is longer than %d bytes", excerpt(ex, key, len),
                      GH_TWIN_KEY_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)key[i];
        /* C1 controls U+0080..U+009F are 0xC2 0x80..0x9F in UTF-8. */
        bool c1 = b == 0xc2 && i + 1 < len && (unsigned char)key[i + 1] <= 0x9f &&
                  (unsigned char)key[i + 1] >= 0x80;
        if (b < 0x20 || b == 0x7f || b == '.' || b == '$' || b == ' ' || c1)
            return reject(c, GH_ERR_ARG,
                          "key %s contains a forbidden character (control, '.', '$' or space)",
                          excerpt(ex, key, len));
    }
    return GH_OK;
}

static gh_err check_value(struct check *c, const json_t *v, const char *key, size_t klen,
                          int depth);

static gh_err check_container(struct check *c, const json_t *v, const char *key, size_t klen,
                              int depth)
{
    if (depth > GH_TWIN_DEPTH_MAX)
        return reject(c, GH_ERR_TOO_LARGE, "nesting is deeper than %d levels", GH_TWIN_DEPTH_MAX);
    if (json_is_array(v)) {
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e) GH_GUARD(check_value(c, e, key, klen, depth));
        return GH_OK;
    }
    const char *k;
    size_t n;
    const json_t *m;
    json_object_keylen_foreach((json_t *)v, k, n, m)
    {
        GH_GUARD(check_key(c, k, n));
        GH_GUARD(check_value(c, m, k, n, depth));
    }
    return GH_OK;
}

/* v is a member (or array element) inside a container at depth. */
static gh_err check_value(struct check *c, const json_t *v, const char *key, size_t klen, int depth)
{
    char ex[KEY_EXCERPT_CAP];
    switch (json_typeof(v)) {
    case JSON_OBJECT:
    case JSON_ARRAY:
        return check_container(c, v, key, klen, depth + 1);
    case JSON_STRING:
        if (json_string_length(v) > GH_TWIN_STRING_MAX)
            return reject(c, GH_ERR_TOO_LARGE, "the string value of key %s is longer than %d bytes",
                          excerpt(ex, key, klen), GH_TWIN_STRING_MAX);
        return GH_OK;
    case JSON_INTEGER: {
        json_int_t i = json_integer_value(v);
        if (i < GH_TWIN_INT_MIN || i > GH_TWIN_INT_MAX)
            return reject(
                c, GH_ERR_TOO_LARGE, "the integer value of key %s is outside [%lld, %lld]",
                excerpt(ex, key, klen), (long long)GH_TWIN_INT_MIN, (long long)GH_TWIN_INT_MAX);
        return GH_OK;
    }
    case JSON_NULL:
    case JSON_REAL:
    case JSON_TRUE:
    case JSON_FALSE:
        return GH_OK;
    }
    return GH_OK;
}

gh_err gh_twin_check(const json_t *doc, enum gh_twin_section sec, bool patch, char *err,
                     size_t errlen)
{
    struct check c = {section_name(sec), patch, err, errlen};
    if (errlen > 0) err[0] = '\0';
    if (!json_is_object(doc)) return reject(&c, GH_ERR_BAD_JSON, "must be a JSON object");
    GH_GUARD(check_container(&c, doc, "", 0, 0));
    if (patch) return GH_OK; /* the merged result is checked instead */
    size_t size = json_dumpb(doc, NULL, 0, JSON_COMPACT);
    if (size > section_limit(sec))
        return reject(&c, GH_ERR_TOO_LARGE, "the document is %zu bytes, more than %zu", size,
                      section_limit(sec));
    return GH_OK;
}
