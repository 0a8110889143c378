/* Twins in the store: views, service patch/replace with If-Match, device
 * reported patches, persistence, damaged rows (PROTOCOL.md 1.10, 5.4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store_fixture.h"

static char *dump(const json_t *j)
{
    char *t = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_non_null(t);
    return t;
}

static void assert_json(const json_t *j, const char *expected)
{
    json_t *e = fx_json(expected);
    char *a = dump(j), *b = dump(e);
    if (strcmp(a, b) != 0) fprintf(stderr, "got      %s\nexpected %s\n", a, b);
    assert_string_equal(a, b);
    free(a);
    free(b);
    json_decref(e);
}

static void test_views_and_not_found(void **state)
{
    struct fx *f = *state;
    json_t *v;
    struct gh_twin t;
    assert_int_equal(gh_store_twin_device_view(f->s, "d1", NULL, &v), GH_ERR_NOT_FOUND);
    assert_string_equal(gh_store_errmsg(f->s), "device \"d1\" is not registered");
    assert_int_equal(gh_store_twin_get(f->s, "d1", NULL, &t), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_twin_service_view(f->s, "d1", "m", &v), GH_ERR_NOT_FOUND);
    fx_create(f, "d1", NULL);
    assert_int_equal(gh_store_twin_device_view(f->s, "d1", NULL, &v), GH_OK);
    char *s = json_dumps(v, JSON_COMPACT);
    assert_string_equal(s, "{\"desired\":{\"$version\":1},\"reported\":{\"$version\":1}}");
    free(s);
    json_decref(v);
    assert_int_equal(gh_store_twin_service_view(f->s, "d1", NULL, &v), GH_OK);
    assert_string_equal(json_string_value(json_object_get(v, "deviceId")), "d1");
    assert_string_equal(json_string_value(json_object_get(v, "etag")), "AAAAAAAAAAE=");
    assert_int_equal(json_integer_value(json_object_get(v, "version")), 1);
    assert_string_equal(json_string_value(json_object_get(v, "authenticationType")), "sas");
    json_decref(v);
    assert_int_equal(gh_store_twin_get(f->s, "d1", NULL, &t), GH_OK);
    assert_int_equal(t.version, 1);
    gh_twin_cleanup(&t);
}

static void test_service_patch_etag_notify(void **state)
{
    struct fx *f = *state;
    json_t *note = NULL, *view = NULL;
    fx_create(f, "d1", NULL);
    json_t *p = fx_json("{\"tags\":{\"site\":\"plant-7\"},\"properties\":{\"desired\":"
                        "{\"targetTemp\":21.5}}}");
    /* If-Match with a wrong etag: 412 and nothing changes. */
    assert_int_equal(gh_store_twin_service_patch(f->s, "d1", NULL, p, "AAAAAAAAAAc=", &note, &view),
                     GH_ERR_ETAG_MISMATCH);
    assert_string_equal(gh_store_errmsg(f->s), "twin etag does not match (If-Match)");
    assert_null(note);
    f->now += 60000;
    assert_int_equal(gh_store_twin_service_patch(f->s, "d1", NULL, p, "AAAAAAAAAAE=", &note, &view),
                     GH_OK);
    assert_json(note, "{\"targetTemp\":21.5,\"$version\":2}");
    assert_string_equal(json_string_value(json_object_get(view, "etag")), "AAAAAAAAAAI=");
    assert_json(json_object_get(view, "tags"), "{\"site\":\"plant-7\"}");
    json_t *desired = json_object_get(json_object_get(view, "properties"), "desired");
    assert_int_equal(json_integer_value(json_object_get(desired, "$version")), 2);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(desired, "$metadata"), "$lastUpdated")),
        "2026-01-01T00:01:00.000Z");
    json_decref(note);
    json_decref(view);
    /* "*" and NULL are unconditional; outputs are optional. */
    assert_int_equal(gh_store_twin_service_patch(f->s, "d1", NULL, p, "*", NULL, NULL), GH_OK);
    assert_int_equal(gh_store_twin_service_patch(f->s, "d1", NULL, p, NULL, NULL, NULL), GH_OK);
    json_decref(p);
    /* Tags-only patch: no notification. */
    p = fx_json("{\"tags\":{\"floor\":3}}");
    note = json_object();
    json_t *sentinel = note;
    assert_int_equal(gh_store_twin_service_patch(f->s, "d1", NULL, p, NULL, &note, NULL), GH_OK);
    assert_null(note);
    json_decref(sentinel);
    json_decref(p);
    /* Persisted. */
    fx_reopen(f);
    assert_int_equal(gh_store_twin_service_view(f->s, "d1", NULL, &view), GH_OK);
    assert_int_equal(json_integer_value(json_object_get(view, "version")), 5);
    assert_json(json_object_get(view, "tags"), "{\"site\":\"plant-7\",\"floor\":3}");
    json_decref(view);
    /* Missing identity. */
    p = fx_json("{}");
    assert_int_equal(gh_store_twin_service_patch(f->s, "d2", NULL, p, NULL, NULL, NULL),
                     GH_ERR_NOT_FOUND);
    json_decref(p);
}

static void test_reported_and_limits(void **state)
{
    struct fx *f = *state;
    int64_t v = 0;
    json_t *view;
    fx_create(f, "d1", NULL);
    json_t *p = fx_json("{\"firmware\":\"1.2.0\"}");
    assert_int_equal(gh_store_twin_reported_patch(f->s, "d1", NULL, p, &v), GH_OK);
    assert_int_equal(v, 2);
    assert_int_equal(gh_store_twin_reported_patch(f->s, "d1", NULL, p, &v), GH_OK);
    assert_int_equal(v, 3);
    json_decref(p);
    /* A rejected patch: 400 reason in errmsg, nothing stored. */
    p = fx_json("{\"bad key\":1}");
    assert_int_equal(gh_store_twin_reported_patch(f->s, "d1", NULL, p, &v), GH_ERR_ARG);
    assert_string_equal(gh_store_errmsg(f->s),
                        "properties.reported: key \"bad key\" contains a forbidden character "
                        "(control, '.', '$' or space)");
    assert_int_equal(v, 3);
    json_decref(p);
    p = fx_json("[]");
    assert_int_equal(gh_store_twin_reported_patch(f->s, "d1", NULL, p, &v), GH_ERR_BAD_JSON);
    json_decref(p);
    p = fx_json("{\"properties\":{\"desired\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":"
                "{\"h\":{\"i\":{\"j\":{\"k\":{\"l\":1}}}}}}}}}}}}}}");
    assert_int_equal(gh_store_twin_service_patch(f->s, "d1", NULL, p, NULL, NULL, NULL),
                     GH_ERR_TOO_LARGE);
    assert_string_equal(gh_store_errmsg(f->s),
                        "properties.desired: nesting is deeper than 10 levels");
    json_decref(p);
    assert_int_equal(gh_store_twin_device_view(f->s, "d1", NULL, &view), GH_OK);
    assert_json(view, "{\"desired\":{\"$version\":1},\"reported\":{\"firmware\":\"1.2.0\","
                      "\"$version\":3}}");
    json_decref(view);
    assert_int_equal(gh_store_twin_reported_patch(f->s, "zz", NULL, p, &v), GH_ERR_NOT_FOUND);
}

static void test_replace_modules_and_delete(void **state)
{
    struct fx *f = *state;
    json_t *note = NULL, *view = NULL;
    fx_create(f, "gw", NULL);
    fx_create(f, "gw", "$edgeHub");
    json_t *p = fx_json("{\"tags\":{\"t\":1},\"properties\":{\"desired\":{\"routes\":{\"r1\":"
                        "\"FROM /messages/* INTO $upstream\"}}}}");
    assert_int_equal(
        gh_store_twin_service_replace(f->s, "gw", "$edgeHub", p, "AAAAAAAAAAE=", &note, &view),
        GH_OK);
    assert_json(note, "{\"routes\":{\"r1\":\"FROM /messages/* INTO $upstream\"},\"$version\":2}");
    assert_string_equal(json_string_value(json_object_get(view, "moduleId")), "$edgeHub");
    json_decref(note);
    json_decref(view);
    assert_int_equal(
        gh_store_twin_service_replace(f->s, "gw", "$edgeHub", p, "AAAAAAAAAAE=", &note, &view),
        GH_ERR_ETAG_MISMATCH);
    json_decref(p);
    /* applyConfigurationContent: desired only, tags kept. */
    p = fx_json("{\"schemaVersion\":\"1.1\"}");
    assert_int_equal(gh_store_twin_desired_replace(f->s, "gw", "$edgeHub", p, &note), GH_OK);
    assert_json(note, "{\"schemaVersion\":\"1.1\",\"$version\":3}");
    json_decref(note);
    assert_int_equal(gh_store_twin_desired_replace(f->s, "gw", "nope", p, &note), GH_ERR_NOT_FOUND);
    json_decref(p);
    p = fx_json("[1]");
    assert_int_equal(gh_store_twin_desired_replace(f->s, "gw", "$edgeHub", p, &note),
                     GH_ERR_BAD_JSON);
    json_decref(p);
    assert_int_equal(gh_store_twin_service_view(f->s, "gw", "$edgeHub", &view), GH_OK);
    assert_json(json_object_get(view, "tags"), "{\"t\":1}");
    json_decref(view);
    /* The device twin is separate. */
    assert_int_equal(gh_store_twin_device_view(f->s, "gw", NULL, &view), GH_OK);
    assert_json(view, "{\"desired\":{\"$version\":1},\"reported\":{\"$version\":1}}");
    json_decref(view);
    /* Delete and re-create: a fresh twin. */
    assert_int_equal(gh_store_identity_delete(f->s, "gw", NULL, "*"), GH_OK);
    fx_create(f, "gw", NULL);
    fx_create(f, "gw", "$edgeHub");
    assert_int_equal(gh_store_twin_device_view(f->s, "gw", "$edgeHub", &view), GH_OK);
    assert_json(view, "{\"desired\":{\"$version\":1},\"reported\":{\"$version\":1}}");
    json_decref(view);
}

static void test_corrupted_twin_rows(void **state)
{
    struct fx *f = *state;
    json_t *v;
    int64_t ver;
    static const struct {
        const char *sql;
        const char *msg;
    } cases[] = {
        {"UPDATE twin SET desired = '{bad'", "column desired is not valid JSON"},
        {"UPDATE twin SET desired = '[1]'", "column desired is not a JSON object"},
        {"UPDATE twin SET desired = '{\"a\":1,\"a\":2}'", "column desired is not valid JSON"},
        {"UPDATE twin SET reported = '{\"a.b\":1}'", "column reported breaks the twin limits"},
        {"UPDATE twin SET desired = '{\"$a\":1}'", "column desired breaks the twin limits"},
        {"UPDATE twin SET tags = '{\"\":1}'", "column tags breaks the twin limits"},
        {"UPDATE twin SET tags = x'00'", "column tags is not text"},
        {"UPDATE twin SET version = 0", "column version is out of range"},
        {"UPDATE twin SET desired_meta = 'null'", "column desired_meta is not valid JSON"},
        {"UPDATE twin SET reported_meta = '[]'", "column reported_meta is not a JSON object"},
        {"UPDATE twin SET reported_version = 'x'", "column reported_version is not an integer"},
    };
    fx_create(f, "d1", NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fx_sql(f, cases[i].sql);
        char want[256];
        snprintf(want, sizeof want, "hub.db: bad row in table twin, key \"d1\": %s", cases[i].msg);
        assert_int_equal(gh_store_twin_device_view(f->s, "d1", NULL, &v), GH_ERR_DB);
        assert_string_equal(gh_store_errmsg(f->s), want);
        json_t *p = fx_json("{\"x\":1}");
        assert_int_equal(gh_store_twin_reported_patch(f->s, "d1", NULL, p, &ver), GH_ERR_DB);
        json_decref(p);
        /* Restore a good row for the next case. */
        assert_int_equal(gh_store_identity_delete(f->s, "d1", NULL, "*"), GH_OK);
        fx_create(f, "d1", NULL);
    }
    /* Versions at the top of their range cannot grow further. */
    fx_sql(f, "UPDATE twin SET version = 4611686018427387903");
    json_t *top = fx_json("{\"x\":1}");
    assert_int_equal(gh_store_twin_reported_patch(f->s, "d1", NULL, top, &ver), GH_ERR_TOO_LARGE);
    assert_string_equal(gh_store_errmsg(f->s), "twin version limit reached");
    json_decref(top);
    /* A missing twin row reads as a never-written twin and is re-created on
     * the next write. */
    fx_sql(f, "DELETE FROM twin");
    assert_int_equal(gh_store_twin_device_view(f->s, "d1", NULL, &v), GH_OK);
    json_decref(v);
    json_t *p = fx_json("{\"x\":1}");
    assert_int_equal(gh_store_twin_reported_patch(f->s, "d1", NULL, p, &ver), GH_OK);
    assert_int_equal(ver, 2);
    json_decref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_views_and_not_found, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_service_patch_etag_notify, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_reported_and_limits, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_replace_modules_and_delete, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_corrupted_twin_rows, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
