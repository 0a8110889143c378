/* Twin document model: merge semantics, metadata, versions, limits
 * (PROTOCOL.md 1.10.2-1.10.4, 5.4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hub/twin.h"

#define T0 INT64_C(1767225600000) /* 2026-01-01T00:00:00.000Z */
#define T1 (T0 + 60000)           /* 2026-01-01T00:01:00.000Z */
#define T2 (T0 + 120000)          /* 2026-01-01T00:02:00.000Z */

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (j == NULL) fprintf(stderr, "bad JSON %s: %s\n", text, e.text);
    assert_non_null(j);
    return j;
}

/* Compact text of j with sorted keys, for exact comparisons. */
static char *text(const json_t *j)
{
    char *t = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_non_null(t);
    return t;
}

static void assert_json(const json_t *j, const char *expected)
{
    json_t *e = J(expected);
    char *a = text(j), *b = text(e);
    if (strcmp(a, b) != 0) fprintf(stderr, "got      %s\nexpected %s\n", a, b);
    assert_string_equal(a, b);
    free(a);
    free(b);
    json_decref(e);
}

static const char *ts(const json_t *meta, const char *path)
{
    const json_t *m = meta;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = strtok(buf, "."); p != NULL; p = strtok(NULL, ".")) m = json_object_get(m, p);
    const char *s = json_string_value(json_object_get(m, "$lastUpdated"));
    assert_non_null(s);
    return s;
}

static json_int_t lv(const json_t *meta, const char *path)
{
    const json_t *m = meta;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = strtok(buf, "."); p != NULL; p = strtok(NULL, ".")) m = json_object_get(m, p);
    const json_t *v = json_object_get(m, "$lastUpdatedVersion");
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static void test_never_written(void **state)
{
    (void)state;
    struct gh_twin t;
    json_t *v;
    char etag[GH_HUB_ETAG8_LEN];
    assert_int_equal(gh_twin_init(&t, T0), GH_OK);
    assert_int_equal(gh_twin_device_view(&t, &v), GH_OK);
    char *s = json_dumps(v, JSON_COMPACT);
    assert_string_equal(s, "{\"desired\":{\"$version\":1},\"reported\":{\"$version\":1}}");
    free(s);
    json_decref(v);
    gh_twin_etag(&t, etag);
    assert_string_equal(etag, "AAAAAAAAAAE=");
    assert_json(t.desired_meta,
                "{\"$lastUpdated\":\"2026-01-01T00:00:00.000Z\",\"$lastUpdatedVersion\":1}");
    assert_json(t.reported_meta, "{\"$lastUpdated\":\"2026-01-01T00:00:00.000Z\"}");
    gh_twin_cleanup(&t);
    gh_twin_cleanup(&t); /* safe twice */
}

static void test_service_patch_merge_and_metadata(void **state)
{
    (void)state;
    struct gh_twin t;
    json_t *note = NULL;
    char err[GH_TWIN_REASON_MAX];
    assert_int_equal(gh_twin_init(&t, T0), GH_OK);

    json_t *p1 = J("{\"tags\":{\"site\":\"plant-7\"},\"properties\":{\"desired\":"
                   "{\"targetTemp\":21.5,\"fan\":{\"speed\":3,\"mode\":\"auto\"},"
                   "\"list\":[1,2,3]}}}");
    assert_int_equal(gh_twin_service_patch(&t, p1, T1, &note, err, sizeof err), GH_OK);
    assert_int_equal(t.desired_version, 2);
    assert_int_equal(t.version, 2);
    assert_int_equal(t.reported_version, 1);
    assert_json(t.tags, "{\"site\":\"plant-7\"}");
    assert_json(t.desired,
                "{\"targetTemp\":21.5,\"fan\":{\"speed\":3,\"mode\":\"auto\"},\"list\":[1,2,3]}");
    assert_json(note, "{\"targetTemp\":21.5,\"fan\":{\"speed\":3,\"mode\":\"auto\"},"
                      "\"list\":[1,2,3],\"$version\":2}");
    assert_string_equal(ts(t.desired_meta, ""), "2026-01-01T00:01:00.000Z");
    assert_string_equal(ts(t.desired_meta, "fan.speed"), "2026-01-01T00:01:00.000Z");
    assert_string_equal(ts(t.desired_meta, "fan"), "2026-01-01T00:01:00.000Z");
    assert_int_equal(lv(t.desired_meta, "fan.speed"), 2);
    assert_int_equal(lv(t.desired_meta, "list"), 2);
    json_decref(note);

    /* null removes; nested merge keeps siblings; arrays replace wholesale;
     * an object replaces a scalar and a scalar an object. */
    json_t *p2 = J("{\"properties\":{\"desired\":{\"fan\":{\"mode\":null},\"list\":[9],"
                   "\"targetTemp\":{\"c\":20},\"gone\":null}}}");
    assert_int_equal(gh_twin_service_patch(&t, p2, T2, &note, err, sizeof err), GH_OK);
    assert_int_equal(t.desired_version, 3);
    assert_int_equal(t.version, 3);
    assert_json(t.desired, "{\"targetTemp\":{\"c\":20},\"fan\":{\"speed\":3},\"list\":[9]}");
    assert_json(note, "{\"fan\":{\"mode\":null},\"list\":[9],\"targetTemp\":{\"c\":20},"
                      "\"gone\":null,\"$version\":3}");
    /* The removal shows in fan's metadata; speed keeps its old stamp. */
    assert_string_equal(ts(t.desired_meta, "fan"), "2026-01-01T00:02:00.000Z");
    assert_int_equal(lv(t.desired_meta, "fan"), 3);
    assert_string_equal(ts(t.desired_meta, "fan.speed"), "2026-01-01T00:01:00.000Z");
    assert_int_equal(lv(t.desired_meta, "fan.speed"), 2);
    assert_null(json_object_get(json_object_get(t.desired_meta, "fan"), "mode"));
    assert_int_equal(lv(t.desired_meta, "targetTemp.c"), 3);
    assert_int_equal(lv(t.desired_meta, ""), 3);
    json_decref(note);

    /* A scalar replaces the object, with a leaf metadata node. */
    json_t *p3 = J("{\"properties\":{\"desired\":{\"targetTemp\":19}}}");
    assert_int_equal(gh_twin_service_patch(&t, p3, T2, NULL, err, sizeof err), GH_OK);
    assert_json(json_object_get(t.desired_meta, "targetTemp"),
                "{\"$lastUpdated\":\"2026-01-01T00:02:00.000Z\",\"$lastUpdatedVersion\":4}");

    /* Tags only: version +1, desired $version unchanged, no notification. */
    json_t *p4 = J("{\"tags\":{\"site\":null,\"floor\":{\"n\":2}}}");
    json_t *sentinel = J("{}");
    note = sentinel;
    assert_int_equal(gh_twin_service_patch(&t, p4, T2, &note, err, sizeof err), GH_OK);
    assert_null(note);
    json_decref(sentinel);
    assert_int_equal(t.desired_version, 4);
    assert_int_equal(t.version, 5);
    assert_json(t.tags, "{\"floor\":{\"n\":2}}");

    json_decref(p1);
    json_decref(p2);
    json_decref(p3);
    json_decref(p4);
    gh_twin_cleanup(&t);
}

static void test_empty_and_readonly_members(void **state)
{
    (void)state;
    struct gh_twin t;
    json_t *sentinel = J("{}"), *note = sentinel;
    char err[GH_TWIN_REASON_MAX];
    assert_int_equal(gh_twin_init(&t, T0), GH_OK);
    /* Nothing to do: no version moves, no notification. */
    json_t *p = J("{\"tags\":{},\"properties\":{\"desired\":{\"$version\":7,"
                  "\"$metadata\":{}},\"reported\":{\"x\":1}},\"etag\":\"x\"}");
    assert_int_equal(gh_twin_service_patch(&t, p, T1, &note, err, sizeof err), GH_OK);
    assert_null(note);
    json_decref(sentinel);
    assert_int_equal(t.version, 1);
    assert_int_equal(t.desired_version, 1);
    assert_json(t.reported, "{}"); /* the service cannot write reported */
    json_decref(p);
    p = J("{}");
    assert_int_equal(gh_twin_service_patch(&t, p, T1, NULL, err, sizeof err), GH_OK);
    int64_t v = 0;
    assert_int_equal(gh_twin_reported_patch(&t, p, T1, &v, err, sizeof err), GH_OK);
    assert_int_equal(v, 1);
    assert_int_equal(t.version, 1);
    json_decref(p);
    gh_twin_cleanup(&t);
}

static void test_reported_patch(void **state)
{
    (void)state;
    struct gh_twin t;
    char err[GH_TWIN_REASON_MAX];
    int64_t v = 0;
    assert_int_equal(gh_twin_init(&t, T0), GH_OK);
    json_t *p = J("{\"firmware\":\"1.2.0\",\"net\":{\"rssi\":-60},\"$version\":99}");
    assert_int_equal(gh_twin_reported_patch(&t, p, T1, &v, err, sizeof err), GH_OK);
    assert_int_equal(v, 2);
    assert_int_equal(t.reported_version, 2);
    assert_int_equal(t.version, 2);
    assert_int_equal(t.desired_version, 1);
    assert_json(t.reported, "{\"firmware\":\"1.2.0\",\"net\":{\"rssi\":-60}}");
    assert_json(t.reported_meta, "{\"$lastUpdated\":\"2026-01-01T00:01:00.000Z\","
                                 "\"firmware\":{\"$lastUpdated\":\"2026-01-01T00:01:00.000Z\"},"
                                 "\"net\":{\"$lastUpdated\":\"2026-01-01T00:01:00.000Z\","
                                 "\"rssi\":{\"$lastUpdated\":\"2026-01-01T00:01:00.000Z\"}}}");
    json_decref(p);
    p = J("{\"net\":null}");
    assert_int_equal(gh_twin_reported_patch(&t, p, T2, NULL, err, sizeof err), GH_OK);
    assert_int_equal(t.reported_version, 3);
    assert_json(t.reported, "{\"firmware\":\"1.2.0\"}");
    assert_null(json_object_get(t.reported_meta, "net"));
    assert_string_equal(ts(t.reported_meta, ""), "2026-01-01T00:02:00.000Z");
    json_decref(p);

    json_t *view;
    assert_int_equal(gh_twin_device_view(&t, &view), GH_OK);
    assert_json(view, "{\"desired\":{\"$version\":1},\"reported\":{\"firmware\":\"1.2.0\","
                      "\"$version\":3}}");
    json_decref(view);
    gh_twin_cleanup(&t);
}

static void test_replace(void **state)
{
    (void)state;
    struct gh_twin t;
    json_t *note = NULL;
    char err[GH_TWIN_REASON_MAX];
    assert_int_equal(gh_twin_init(&t, T0), GH_OK);
    json_t *p = J("{\"tags\":{\"a\":1},\"properties\":{\"desired\":{\"x\":1,\"y\":{\"z\":2}}}}");
    assert_int_equal(gh_twin_service_patch(&t, p, T1, NULL, err, sizeof err), GH_OK);
    json_decref(p);
    /* Replace drops what is not given (and nulls inside) and notifies the
     * whole new desired document. */
    p = J("{\"tags\":{\"b\":2},\"properties\":{\"desired\":{\"y\":{\"w\":null,\"q\":3},"
          "\"$metadata\":{\"junk\":1},\"$version\":1}}}");
    assert_int_equal(gh_twin_service_replace(&t, p, T2, &note, err, sizeof err), GH_OK);
    assert_json(t.tags, "{\"b\":2}");
    assert_json(t.desired, "{\"y\":{\"q\":3}}");
    assert_json(note, "{\"y\":{\"q\":3},\"$version\":3}");
    assert_null(json_object_get(t.desired_meta, "x"));
    assert_int_equal(lv(t.desired_meta, "y.q"), 3);
    assert_int_equal(t.version, 3);
    json_decref(note);
    json_decref(p);
    /* Replacing with nothing empties both sections and still counts. */
    p = J("{}");
    assert_int_equal(gh_twin_service_replace(&t, p, T2, &note, err, sizeof err), GH_OK);
    assert_json(note, "{\"$version\":4}");
    assert_json(t.tags, "{}");
    assert_json(t.desired, "{}");
    json_decref(note);
    json_decref(p);
    /* Desired only (applyConfigurationContent): tags stay. */
    json_t *tags = J("{\"tags\":{\"keep\":true}}");
    assert_int_equal(gh_twin_service_patch(&t, tags, T2, NULL, err, sizeof err), GH_OK);
    p = J("{\"modules\":{\"m\":1}}");
    assert_int_equal(gh_twin_desired_replace(&t, p, T2, &note, err, sizeof err), GH_OK);
    assert_json(note, "{\"modules\":{\"m\":1},\"$version\":5}");
    assert_json(t.tags, "{\"keep\":true}");
    json_decref(note);
    json_decref(p);
    json_decref(tags);
    p = J("[1]");
    assert_int_equal(gh_twin_desired_replace(&t, p, T2, &note, err, sizeof err), GH_ERR_BAD_JSON);
    assert_string_equal(err, "properties.desired must be a JSON object");
    json_decref(p);
    gh_twin_cleanup(&t);
}

struct limit_case {
    const char *name;
    const char *desired; /* a properties.desired patch */
    gh_err rc;
    const char *reason; /* exact, or NULL when not checked */
};

static char *nest(int depth, bool arrays)
{
    /* n nested containers counting the section object itself, so the
     * deepest is at depth n - 1: {"k":{"k":...{"k":1}}} */
    size_t cap = (size_t)depth * 8 + 16;
    char *s = malloc(cap);
    assert_non_null(s);
    s[0] = '\0';
    for (int i = 0; i < depth; i++) strcat(s, arrays && i % 2 ? "[" : "{\"k\":");
    strcat(s, "1");
    for (int i = depth - 1; i >= 0; i--) strcat(s, arrays && i % 2 ? "]" : "}");
    return s;
}

static void run_desired(const char *desired_obj, gh_err want, const char *reason)
{
    struct gh_twin t;
    char err[GH_TWIN_REASON_MAX];
    assert_int_equal(gh_twin_init(&t, T0), GH_OK);
    size_t n = strlen(desired_obj) + 64;
    char *body = malloc(n);
    assert_non_null(body);
    snprintf(body, n, "{\"properties\":{\"desired\":%s}}", desired_obj);
    json_t *p = J(body);
    char *before = text(t.desired);
    gh_err rc = gh_twin_service_patch(&t, p, T1, NULL, err, sizeof err);
    if (rc != want) fprintf(stderr, "case %s: rc %d (%s)\n", desired_obj, rc, err);
    assert_int_equal(rc, want);
    if (reason != NULL) assert_string_equal(err, reason);
    if (want != GH_OK) {
        /* Atomic: nothing changed. */
        char *after = text(t.desired);
        assert_string_equal(before, after);
        free(after);
        assert_int_equal(t.version, 1);
        assert_int_equal(t.desired_version, 1);
    }
    free(before);
    json_decref(p);
    free(body);
    gh_twin_cleanup(&t);
}

static void test_key_and_value_limits(void **state)
{
    (void)state;
    static const struct limit_case cases[] = {
        {"dot", "{\"a.b\":1}", GH_ERR_ARG,
         "properties.desired: key \"a.b\" contains a forbidden character (control, '.', '$' or "
         "space)"},
        {"dollar", "{\"$x\":1}", GH_ERR_ARG, NULL},
        {"space", "{\"a b\":1}", GH_ERR_ARG, NULL},
        {"C0", "{\"a\\u0001\":1}", GH_ERR_ARG, NULL},
        {"DEL", "{\"a\\u007f\":1}", GH_ERR_ARG, NULL},
        {"C1", "{\"a\\u0085\":1}", GH_ERR_ARG, NULL},
        {"nested bad key", "{\"ok\":{\"a.b\":1}}", GH_ERR_ARG, NULL},
        {"key in array object", "{\"ok\":[{\"a b\":1}]}", GH_ERR_ARG, NULL},
        {"empty key", "{\"\":1}", GH_ERR_ARG, "properties.desired: a key is empty"},
        {"unicode key ok", "{\"temp\\u00e9rature\":1}", GH_OK, NULL},
        {"int max", "{\"i\":4503599627370495}", GH_OK, NULL},
        {"int min", "{\"i\":-4503599627370496}", GH_OK, NULL},
        {"int over", "{\"i\":4503599627370496}", GH_ERR_TOO_LARGE,
         "properties.desired: the integer value of key \"i\" is outside [-4503599627370496, "
         "4503599627370495]"},
        {"int under", "{\"i\":-4503599627370497}", GH_ERR_TOO_LARGE, NULL},
        {"int in array", "{\"i\":[1,4503599627370496]}", GH_ERR_TOO_LARGE, NULL},
        {"real ok", "{\"r\":1e300}", GH_OK, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_desired(cases[i].desired, cases[i].rc, cases[i].reason);

    /* Key length: 1024 bytes ok, 1025 too long. */
    char *big = malloc(16384);
    assert_non_null(big);
    for (size_t len = 1024; len <= 1025; len++) {
        strcpy(big, "{\"");
        memset(big + 2, 'k', len);
        strcpy(big + 2 + len, "\":1}");
        run_desired(big, len == 1024 ? GH_OK : GH_ERR_TOO_LARGE, NULL);
    }
    /* String value: 4096 bytes ok, 4097 too long. */
    for (size_t len = 4096; len <= 4097; len++) {
        strcpy(big, "{\"s\":\"");
        memset(big + 6, 'v', len);
        strcpy(big + 6 + len, "\"}");
        run_desired(big, len == 4096 ? GH_OK : GH_ERR_TOO_LARGE,
                    len == 4096 ? NULL
                                : "properties.desired: the string value of key \"s\" is longer "
                                  "than 4096 bytes");
    }
    /* Multi-byte characters count in bytes: 2049 x U+00E9 = 4098 bytes. */
    strcpy(big, "{\"s\":\"");
    for (int i = 0; i < 2049; i++) strcat(big, "\\u00e9");
    strcat(big, "\"}");
    run_desired(big, GH_ERR_TOO_LARGE, NULL);
    free(big);
}

static void test_depth_limit(void **state)
{
    (void)state;
    char *ok = nest(11, false), *bad = nest(12, false);
    run_desired(ok, GH_OK, NULL);
    run_desired(bad, GH_ERR_TOO_LARGE, "properties.desired: nesting is deeper than 10 levels");
    free(ok);
    free(bad);
    /* Arrays count like objects. */
    ok = nest(11, true);
    bad = nest(12, true);
    run_desired(ok, GH_OK, NULL);
    run_desired(bad, GH_ERR_TOO_LARGE, NULL);
    free(ok);
    free(bad);
    /* Depth is checked on reported patches too. */
    struct gh_twin t;
    char err[GH_TWIN_REASON_MAX];
    assert_int_equal(gh_twin_init(&t, T0), GH_OK);
    char *deep = nest(12, false);
    json_t *p = J(deep);
    assert_int_equal(gh_twin_reported_patch(&t, p, T1, NULL, err, sizeof err), GH_ERR_TOO_LARGE);
    assert_string_equal(err, "properties.reported: nesting is deeper than 10 levels");
    json_decref(p);
    free(deep);
    gh_twin_cleanup(&t);
}

/* An object of "kNNNN":"xxx..." members whose compact text is exactly
 * `bytes` long. */
static json_t *sized_object(size_t bytes)
{
    json_t *o = json_object();
    assert_non_null(o);
    for (int i = 0;; i++) {
        size_t cur = json_dumpb(o, NULL, 0, JSON_COMPACT);
        char key[16];
        snprintf(key, sizeof key, "k%04d", i);
        size_t overhead = (cur > 2 ? 1 : 0) + strlen(key) + 5; /* ,"k0000":"" */
        assert_true(bytes >= cur + overhead);
        size_t left = bytes - cur - overhead;
        size_t vlen = left <= 4000 ? left : (left - 4000 < 20 ? 3000 : 4000);
        char *v = malloc(vlen + 1);
        assert_non_null(v);
        memset(v, 'x', vlen);
        v[vlen] = '\0';
        assert_int_equal(json_object_set_new(o, key, json_string(v)), 0);
        free(v);
        if (vlen == left) break;
    }
    assert_int_equal(json_dumpb(o, NULL, 0, JSON_COMPACT), bytes);
    return o;
}

static void test_section_sizes(void **state)
{
    (void)state;
    struct gh_twin t;
    char err[GH_TWIN_REASON_MAX];
    int64_t v;
    assert_int_equal(gh_twin_init(&t, T0), GH_OK);

    json_t *tags = sized_object(GH_TWIN_TAGS_MAX);
    json_t *p = json_pack("{s:O}", "tags", tags);
    assert_int_equal(gh_twin_service_patch(&t, p, T1, NULL, err, sizeof err), GH_OK);
    json_decref(p);
    json_decref(tags);
    /* One more member pushes the merged tags past 8192. */
    p = J("{\"tags\":{\"z\":1}}");
    assert_int_equal(gh_twin_service_patch(&t, p, T1, NULL, err, sizeof err), GH_ERR_TOO_LARGE);
    assert_string_equal(err, "tags: the document is 8198 bytes, more than 8192");
    json_decref(p);
    /* Removing one member and adding another in the same patch is fine. */
    p = J("{\"tags\":{\"k0000\":null,\"z\":1}}");
    assert_int_equal(gh_twin_service_patch(&t, p, T1, NULL, err, sizeof err), GH_OK);
    json_decref(p);

    json_t *big = sized_object(GH_TWIN_PROPS_MAX);
    assert_int_equal(gh_twin_reported_patch(&t, big, T1, &v, err, sizeof err), GH_OK);
    p = J("{\"z\":1}");
    assert_int_equal(gh_twin_reported_patch(&t, p, T1, &v, err, sizeof err), GH_ERR_TOO_LARGE);
    assert_string_equal(err, "properties.reported: the document is 32774 bytes, more than 32768");
    assert_int_equal(v, 2); /* untouched */
    json_decref(p);
    p = json_pack("{s:{s:O}}", "properties", "desired", big);
    assert_int_equal(gh_twin_service_patch(&t, p, T1, NULL, err, sizeof err), GH_OK);
    json_decref(p);
    p = J("{\"properties\":{\"desired\":{\"zz\":1}}}");
    assert_int_equal(gh_twin_service_patch(&t, p, T1, NULL, err, sizeof err), GH_ERR_TOO_LARGE);
    json_decref(p);
    json_decref(big);
    gh_twin_cleanup(&t);
}

static void test_shape_errors(void **state)
{
    (void)state;
    struct gh_twin t;
    char err[GH_TWIN_REASON_MAX];
    assert_int_equal(gh_twin_init(&t, T0), GH_OK);
    static const struct {
        const char *body;
        const char *reason;
    } cases[] = {
        {"[]", "the twin must be a JSON object"},
        {"{\"tags\":[1]}", "tags must be a JSON object"},
        {"{\"tags\":null}", "tags must be a JSON object"},
        {"{\"properties\":3}", "properties must be a JSON object"},
        {"{\"properties\":{\"desired\":\"x\"}}", "properties.desired must be a JSON object"},
        {"{\"properties\":{\"desired\":null}}", "properties.desired must be a JSON object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *p = J(cases[i].body);
        assert_int_equal(gh_twin_service_patch(&t, p, T1, NULL, err, sizeof err), GH_ERR_BAD_JSON);
        assert_string_equal(err, cases[i].reason);
        assert_int_equal(gh_twin_service_replace(&t, p, T1, NULL, err, sizeof err),
                         GH_ERR_BAD_JSON);
        json_decref(p);
    }
    json_t *p = J("[1]");
    assert_int_equal(gh_twin_reported_patch(&t, p, T1, NULL, err, sizeof err), GH_ERR_BAD_JSON);
    assert_string_equal(err, "properties.reported: must be a JSON object");
    json_decref(p);
    /* gh_twin_check directly. */
    p = json_string("x");
    assert_int_equal(gh_twin_check(p, GH_TWIN_TAGS, false, err, sizeof err), GH_ERR_BAD_JSON);
    assert_string_equal(err, "tags: must be a JSON object");
    json_decref(p);
    /* A tiny error buffer is never overrun. */
    p = J("{\"a.b\":1}");
    char tiny[8];
    assert_int_equal(gh_twin_check(p, GH_TWIN_TAGS, false, tiny, sizeof tiny), GH_ERR_ARG);
    assert_int_equal(strlen(tiny), 7);
    assert_int_equal(gh_twin_check(p, GH_TWIN_TAGS, false, NULL, 0), GH_ERR_ARG);
    json_decref(p);
    gh_twin_cleanup(&t);
}

static void test_service_view(void **state)
{
    (void)state;
    struct gh_twin t;
    struct gh_identity id;
    char err[GH_TWIN_REASON_MAX];
    memset(&id, 0, sizeof id);
    strcpy(id.device_id, "thermostat-01");
    strcpy(id.etag, "MzQ1Njc4OTA=");
    id.auth_type = GH_AUTH_SELF_SIGNED;
    strcpy(id.primary_thumbprint, "ABCDEF0123456789ABCDEF0123456789ABCDEF01");
    id.conn_state = GH_CONN_CONNECTED;
    id.last_activity_ms = T0 + 300123;
    strcpy(id.model_id, "dtmi:com:example:Thermostat;1");
    assert_int_equal(gh_twin_init(&t, T0), GH_OK);
    json_t *p = J("{\"tags\":{\"site\":\"plant-7\"},\"properties\":{\"desired\":{\"t\":21.5}}}");
    assert_int_equal(gh_twin_service_patch(&t, p, T1, NULL, err, sizeof err), GH_OK);
    json_decref(p);
    json_t *v;
    assert_int_equal(gh_twin_service_view(&t, &id, &v), GH_OK);
    assert_json(
        v,
        "{\"deviceId\":\"thermostat-01\",\"etag\":\"AAAAAAAAAAI=\",\"deviceEtag\":\"MzQ1Njc4OTA=\","
        "\"status\":\"enabled\",\"statusUpdateTime\":\"0001-01-01T00:00:00Z\","
        "\"connectionState\":\"Connected\",\"lastActivityTime\":\"2026-01-01T00:05:00.123Z\","
        "\"cloudToDeviceMessageCount\":0,\"authenticationType\":\"selfSigned\","
        "\"x509Thumbprint\":{\"primaryThumbprint\":\"ABCDEF0123456789ABCDEF0123456789ABCDEF01\","
        "\"secondaryThumbprint\":null},\"modelId\":\"dtmi:com:example:Thermostat;1\","
        "\"version\":2,\"tags\":{\"site\":\"plant-7\"},\"properties\":{\"desired\":{\"t\":21.5,"
        "\"$metadata\":{\"$lastUpdated\":\"2026-01-01T00:01:00.000Z\",\"$lastUpdatedVersion\":2,"
        "\"t\":{\"$lastUpdated\":\"2026-01-01T00:01:00.000Z\",\"$lastUpdatedVersion\":2}},"
        "\"$version\":2},\"reported\":{\"$metadata\":{\"$lastUpdated\":"
        "\"2026-01-01T00:00:00.000Z\"},\"$version\":1}},\"capabilities\":{\"iotEdge\":false}}");
    /* Member order: $metadata then $version, as IoT Hub prints them. */
    char *s =
        json_dumps(json_object_get(json_object_get(v, "properties"), "reported"), JSON_COMPACT);
    assert_string_equal(s, "{\"$metadata\":{\"$lastUpdated\":\"2026-01-01T00:00:00.000Z\"},"
                           "\"$version\":1}");
    free(s);
    json_decref(v);
    /* Modules add moduleId and have no capabilities. */
    strcpy(id.module_id, "filter");
    assert_int_equal(gh_twin_service_view(&t, &id, &v), GH_OK);
    assert_string_equal(json_string_value(json_object_get(v, "moduleId")), "filter");
    assert_null(json_object_get(v, "capabilities"));
    json_decref(v);
    gh_twin_cleanup(&t);
}

/* Metadata trees loaded from disk may be damaged in shape; merging must
 * repair rather than crash. */
static void test_merge_repairs_bad_metadata(void **state)
{
    (void)state;
    struct gh_twin t;
    char err[GH_TWIN_REASON_MAX];
    assert_int_equal(gh_twin_init(&t, T0), GH_OK);
    json_decref(t.desired);
    json_decref(t.desired_meta);
    t.desired = J("{\"a\":{\"b\":1}}");
    t.desired_meta = J("{\"a\":7}");
    json_t *p = J("{\"properties\":{\"desired\":{\"a\":{\"c\":2}}}}");
    assert_int_equal(gh_twin_service_patch(&t, p, T1, NULL, err, sizeof err), GH_OK);
    assert_json(t.desired, "{\"a\":{\"b\":1,\"c\":2}}");
    assert_int_equal(lv(t.desired_meta, "a.c"), 2);
    json_decref(p);
    gh_twin_cleanup(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_never_written),
        cmocka_unit_test(test_service_patch_merge_and_metadata),
        cmocka_unit_test(test_empty_and_readonly_members),
        cmocka_unit_test(test_reported_patch),
        cmocka_unit_test(test_replace),
        cmocka_unit_test(test_key_and_value_limits),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_section_sizes),
        cmocka_unit_test(test_shape_errors),
        cmocka_unit_test(test_service_view),
        cmocka_unit_test(test_merge_repairs_bad_metadata),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
