/* dps.db: enrollments, registration states and operations (real SQLite in
 * a temp dir, fake clock). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "dps_fixture.h"
#include "iothub/crypto.h"

#define KEY_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define SYM "\"attestation\":{\"type\":\"symmetricKey\"}"

static void test_enrollment_crud(void **state)
{
    struct dx *f = *state;
    struct gh_dps_enrollment in, out, got, again;
    dx_enrollment("{\"registrationId\":\"Dev-A\"," SYM "}", GH_DPS_INDIVIDUAL, &in);
    bool created = false;
    assert_int_equal(gh_dps_store_enrollment_put(f->s, &in, NULL, &out, &created), GH_OK);
    assert_true(created);
    /* Generated 64-byte keys. */
    uint8_t raw[GH_SYMKEY_MAX];
    size_t n = 0;
    assert_int_equal(gh_symkey_decode(gh_slice_cstr(out.primary_key), raw, &n), GH_OK);
    assert_int_equal(n, GH_DPS_GENERATED_KEY_BYTES);
    assert_string_not_equal(out.primary_key, out.secondary_key);
    assert_int_equal(strlen(out.etag), 36);
    assert_int_equal(out.created_ms, DX_T0);
    /* Case-insensitive lookup keeps the given spelling. */
    assert_int_equal(gh_dps_store_enrollment_get(f->s, GH_DPS_INDIVIDUAL, "dev-a", &got), GH_OK);
    assert_string_equal(got.id, "Dev-A");
    assert_string_equal(got.primary_key, out.primary_key);
    assert_string_equal(got.etag, out.etag);
    assert_int_equal(gh_dps_store_enrollment_get(f->s, GH_DPS_GROUP, "dev-a", &again),
                     GH_ERR_NOT_FOUND);
    /* Replace: keys kept when not given, created time kept, new etag. */
    f->now += 1000;
    char quoted[64];
    snprintf(quoted, sizeof quoted, "\"%s\"", out.etag);
    assert_int_equal(gh_dps_store_enrollment_put(f->s, &in, "\"wrong\"", &again, NULL),
                     GH_ERR_ETAG_MISMATCH);
    assert_int_equal(gh_dps_store_enrollment_put(f->s, &in, quoted, &again, &created), GH_OK);
    assert_false(created);
    assert_string_equal(again.primary_key, out.primary_key);
    assert_string_not_equal(again.etag, out.etag);
    assert_int_equal(again.created_ms, DX_T0);
    assert_int_equal(again.updated_ms, DX_T0 + 1000);
    gh_dps_enrollment_cleanup(&again);
    /* If-Match on a missing record. */
    struct gh_dps_enrollment other;
    dx_enrollment("{\"registrationId\":\"dev-b\"," SYM "}", GH_DPS_INDIVIDUAL, &other);
    assert_int_equal(gh_dps_store_enrollment_put(f->s, &other, "\"x\"", NULL, NULL),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(gh_dps_store_enrollment_put(f->s, &other, "*", NULL, NULL), GH_OK);
    /* List in key order, paging. */
    struct gh_dps_enrollment list[4];
    assert_int_equal(gh_dps_store_enrollment_list(f->s, GH_DPS_INDIVIDUAL, NULL, 0, list, 4, &n),
                     GH_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].id, "Dev-A");
    assert_string_equal(list[1].id, "dev-b");
    for (size_t i = 0; i < n; i++) gh_dps_enrollment_cleanup(&list[i]);
    assert_int_equal(gh_dps_store_enrollment_list(f->s, GH_DPS_INDIVIDUAL, "DEV-A", 1, list, 4, &n),
                     GH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].id, "dev-b");
    gh_dps_enrollment_cleanup(&list[0]);
    assert_int_equal(gh_dps_store_enrollment_list(f->s, GH_DPS_INDIVIDUAL, "a b", 1, list, 4, &n),
                     GH_ERR_ARG);
    /* Delete. */
    assert_int_equal(gh_dps_store_enrollment_delete(f->s, GH_DPS_INDIVIDUAL, "dev-a", "\"no\""),
                     GH_ERR_ETAG_MISMATCH);
    assert_int_equal(gh_dps_store_enrollment_delete(f->s, GH_DPS_INDIVIDUAL, "dev-a", NULL), GH_OK);
    assert_int_equal(gh_dps_store_enrollment_delete(f->s, GH_DPS_INDIVIDUAL, "dev-a", NULL),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(gh_dps_store_enrollment_delete(f->s, GH_DPS_INDIVIDUAL, "a b", NULL),
                     GH_ERR_ARG);
    assert_int_equal(gh_dps_store_enrollment_get(f->s, GH_DPS_INDIVIDUAL, "a b", &again),
                     GH_ERR_ARG);
    gh_dps_enrollment_cleanup(&other);
    gh_dps_enrollment_cleanup(&got);
    gh_dps_enrollment_cleanup(&out);
    gh_dps_enrollment_cleanup(&in);
}

static void test_bad_row(void **state)
{
    struct dx *f = *state;
    dx_put(f, "{\"registrationId\":\"dev-a\"," SYM "}", GH_DPS_INDIVIDUAL);
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/dps.db", f->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "UPDATE enrollment SET doc = '{\"registrationId\":1}'", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    struct gh_dps_enrollment e;
    assert_int_equal(gh_dps_store_enrollment_get(f->s, GH_DPS_INDIVIDUAL, "dev-a", &e), GH_ERR_DB);
    assert_non_null(strstr(gh_dps_store_errmsg(f->s), "bad row in table enrollment"));
}

static void test_registration_and_operations(void **state)
{
    struct dx *f = *state;
    struct gh_dps_registration r = {.status = GH_DPS_ASSIGNED,
                                    .substatus = GH_DPS_SUB_INITIAL,
                                    .enrollment_kind = GH_DPS_GROUP},
                               out, got;
    snprintf(r.registration_id, sizeof r.registration_id, "Dev-1");
    snprintf(r.device_id, sizeof r.device_id, "Dev-1");
    snprintf(r.assigned_hub, sizeof r.assigned_hub, "hub.example.test");
    snprintf(r.enrollment_id, sizeof r.enrollment_id, "Group-A");
    assert_int_equal(gh_dps_store_registration_put(f->s, &r, &out), GH_OK);
    assert_int_equal(out.created_ms, DX_T0);
    f->now += 5;
    struct gh_dps_registration r2 = r;
    snprintf(r2.registration_id, sizeof r2.registration_id, "dev-2");
    r2.enrollment_kind = GH_DPS_INDIVIDUAL;
    snprintf(r2.enrollment_id, sizeof r2.enrollment_id, "dev-2");
    assert_int_equal(gh_dps_store_registration_put(f->s, &r2, NULL), GH_OK);
    assert_int_equal(gh_dps_store_registration_put(f->s, &r, &got), GH_OK);
    assert_int_equal(got.created_ms, DX_T0);
    assert_int_equal(got.updated_ms, DX_T0 + 5);
    assert_string_not_equal(got.etag, out.etag);
    assert_int_equal(gh_dps_store_registration_get(f->s, "DEV-1", &out), GH_OK);
    assert_string_equal(out.enrollment_id, "Group-A");
    struct gh_dps_registration bad = r;
    bad.status = 9;
    assert_int_equal(gh_dps_store_registration_put(f->s, &bad, NULL), GH_ERR_ARG);
    struct gh_dps_registration list[4];
    size_t n = 0;
    assert_int_equal(gh_dps_store_registration_list(f->s, NULL, NULL, 0, list, 4, &n), GH_OK);
    assert_int_equal(n, 2);
    assert_int_equal(gh_dps_store_registration_list(f->s, "group-a", NULL, 0, list, 4, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].registration_id, "Dev-1");
    assert_int_equal(gh_dps_store_registration_list(f->s, "a b", NULL, 0, list, 4, &n), GH_ERR_ARG);
    /* Delete with the base64 etag the JSON shows. */
    json_t *j = NULL;
    assert_int_equal(gh_dps_registration_to_json(&out, &j), GH_OK);
    assert_int_equal(gh_dps_store_registration_delete(f->s, "dev-1", "Zm9v"), GH_ERR_ETAG_MISMATCH);
    assert_int_equal(gh_dps_store_registration_delete(
                         f->s, "dev-1", json_string_value(json_object_get(j, "etag"))),
                     GH_OK);
    json_decref(j);
    assert_int_equal(gh_dps_store_registration_get(f->s, "dev-1", &out), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_dps_store_registration_delete(f->s, "dev-1", NULL), GH_ERR_NOT_FOUND);

    /* Operations. */
    struct gh_dps_operation op, op2;
    assert_int_equal(gh_dps_store_operation_create(f->s, "Dev-1", &op), GH_OK);
    assert_int_equal(op.status, GH_DPS_ASSIGNING);
    assert_int_equal(gh_dps_store_operation_get(f->s, "dev-1", op.id, &op2), GH_OK);
    assert_int_equal(op2.status, GH_DPS_ASSIGNING);
    assert_null(op2.result);
    assert_int_equal(gh_dps_store_operation_get(f->s, "dev-2", op.id, &op2), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_dps_store_operation_get(f->s, "dev-1", "4.x", &op2), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_dps_store_operation_get(f->s, "dev-1", "a/b", &op2), GH_ERR_NOT_FOUND);
    struct gh_dps_registration running = r;
    running.status = GH_DPS_ASSIGNING;
    assert_int_equal(gh_dps_store_operation_finish(f->s, op.id, &running), GH_ERR_ARG);
    assert_int_equal(gh_dps_store_operation_finish(f->s, "4.none", &r), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_dps_store_operation_finish(f->s, op.id, &r), GH_OK);
    assert_int_equal(gh_dps_store_operation_get(f->s, "dev-1", op.id, &op2), GH_OK);
    assert_int_equal(op2.status, GH_DPS_ASSIGNED);
    assert_string_equal(json_string_value(json_object_get(op2.result, "assignedHub")),
                        "hub.example.test");
    gh_dps_operation_cleanup(&op2);
    /* Expiry. */
    f->now += GH_DPS_OPERATION_TTL_MS;
    assert_int_equal(gh_dps_store_operation_get(f->s, "dev-1", op.id, &op2), GH_ERR_NOT_FOUND);
    uint64_t gone = 0;
    assert_int_equal(gh_dps_store_operation_expire(f->s, &gone), GH_OK);
    assert_int_equal(gone, 1);
    assert_int_equal(gh_dps_store_operation_create(f->s, "a b", &op), GH_ERR_ARG);
}

static void test_open_errors(void **state)
{
    struct dx *f = *state;
    struct gh_dps_store *s = NULL;
    char err[256];
    assert_int_equal(gh_dps_store_open("", &s, err, sizeof err), GH_ERR_ARG);
    assert_int_equal(gh_dps_store_open("/nonexistent-dir/x/y", &s, err, sizeof err), GH_ERR_IO);
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/dps.db", f->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(gh_dps_store_open(f->dir, &s, err, sizeof err), GH_ERR_DB);
    assert_non_null(strstr(err, "schema version 99"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_enrollment_crud, dx_setup, dx_teardown),
        cmocka_unit_test_setup_teardown(test_bad_row, dx_setup, dx_teardown),
        cmocka_unit_test_setup_teardown(test_registration_and_operations, dx_setup, dx_teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, dx_setup, dx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
