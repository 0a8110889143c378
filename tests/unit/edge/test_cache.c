/* The gateway's identity cache on a real SQLite file: full sync replace,
 * single refresh, scope filtering, untrusted rows, persistence across
 * reopen (a cold start without network). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edge/cache.h"

#define SCOPE "ms-azure-iot-edge://gw1-638712300000000000"
#define KEY1 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY2 "HxwdHhobGBkWFxQVEhMQEQ4PDA0KCwgJBgcEBQIDAAE="

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/gh-edge-cache.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static json_t *device(const char *id, const char *status, const char *parent)
{
    json_t *d = json_pack("{s:s, s:s, s:{s:s, s:{s:s, s:s}}, s:{s:b}}", "deviceId", id, "status",
                          status, "authentication", "type", "sas", "symmetricKey", "primaryKey",
                          KEY1, "secondaryKey", KEY2, "capabilities", "iotEdge", 0);
    assert_non_null(d);
    if (parent) json_object_set_new(d, "parentScopes", json_pack("[s]", parent));
    return d;
}

static json_t *scope_answer(void)
{
    json_t *gw = json_pack("{s:s, s:s, s:s, s:{s:b}}", "deviceId", "gw1", "status", "enabled",
                           "deviceScope", SCOPE, "capabilities", "iotEdge", 1);
    return json_pack("[o, o, o, o]", gw, device("c1", "enabled", SCOPE),
                     device("c2", "disabled", SCOPE),
                     device("other", "enabled", "ms-azure-iot-edge://gw2-1"));
}

static void test_replace_keeps_only_children(void **state)
{
    (void)state;
    struct gh_edge_cache *c;
    char err[256];
    assert_int_equal(gh_edge_cache_open(dir, &c, err, sizeof err), GH_OK);
    assert_int_equal(gh_edge_cache_last_sync(c), 0);
    json_t *devs = scope_answer();
    size_t n = 0;
    assert_int_equal(gh_edge_cache_replace(c, devs, SCOPE, &n), GH_OK);
    assert_int_equal(n, 2);
    assert_true(gh_edge_cache_last_sync(c) > 0);
    struct gh_identity id;
    assert_int_equal(gh_edge_cache_get(c, "c1", &id), GH_OK);
    assert_string_equal(id.primary_key, KEY1);
    assert_int_equal(id.status, GH_IDENTITY_ENABLED);
    assert_string_equal(id.parent_scope, SCOPE);
    gh_identity_wipe(&id);
    assert_int_equal(gh_edge_cache_get(c, "c2", &id), GH_OK);
    assert_int_equal(id.status, GH_IDENTITY_DISABLED);
    gh_identity_wipe(&id);
    assert_int_equal(gh_edge_cache_get(c, "gw1", &id), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_edge_cache_get(c, "other", &id), GH_ERR_NOT_FOUND);
    /* A second sync without c2 removes it. */
    assert_int_equal(json_array_remove(devs, 2), 0);
    assert_int_equal(gh_edge_cache_replace(c, devs, SCOPE, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(gh_edge_cache_get(c, "c2", &id), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_edge_cache_count(c, &n), GH_OK);
    assert_int_equal(n, 1);
    json_decref(devs);
    gh_edge_cache_close(c);
    /* Cold start: the copy is still there. */
    assert_int_equal(gh_edge_cache_open(dir, &c, err, sizeof err), GH_OK);
    assert_int_equal(gh_edge_cache_get(c, "c1", &id), GH_OK);
    gh_identity_wipe(&id);
    assert_true(gh_edge_cache_last_sync(c) > 0);
    gh_edge_cache_close(c);
}

static void test_bad_entry_changes_nothing(void **state)
{
    (void)state;
    struct gh_edge_cache *c;
    char err[256];
    assert_int_equal(gh_edge_cache_open(dir, &c, err, sizeof err), GH_OK);
    json_t *devs = scope_answer();
    size_t n = 0;
    assert_int_equal(gh_edge_cache_replace(c, devs, SCOPE, &n), GH_OK);
    json_t *bad = device("c3", "enabled", SCOPE);
    json_object_set_new(json_object_get(bad, "authentication"), "type", json_string("kerberos"));
    assert_int_equal(json_array_append_new(devs, bad), 0);
    assert_int_equal(gh_edge_cache_replace(c, devs, SCOPE, &n), GH_ERR_BAD_JSON);
    struct gh_identity id;
    assert_int_equal(gh_edge_cache_get(c, "c1", &id), GH_OK); /* untouched */
    gh_identity_wipe(&id);
    json_t *notarray = json_object();
    assert_int_equal(gh_edge_cache_replace(c, notarray, SCOPE, &n), GH_ERR_BAD_JSON);
    json_decref(notarray);
    json_decref(devs);
    gh_edge_cache_close(c);
}

static void test_put_and_remove(void **state)
{
    (void)state;
    struct gh_edge_cache *c;
    char err[256];
    assert_int_equal(gh_edge_cache_open(dir, &c, err, sizeof err), GH_OK);
    json_t *d = device("c9", "enabled", SCOPE);
    bool child = false;
    assert_int_equal(gh_edge_cache_put(c, d, SCOPE, &child), GH_OK);
    assert_true(child);
    struct gh_identity id;
    assert_int_equal(gh_edge_cache_get(c, "c9", &id), GH_OK);
    gh_identity_wipe(&id);
    /* Moved to another parent: the refresh removes it. */
    json_object_set_new(d, "parentScopes", json_pack("[s]", "ms-azure-iot-edge://gw2-1"));
    assert_int_equal(gh_edge_cache_put(c, d, SCOPE, &child), GH_OK);
    assert_false(child);
    assert_int_equal(gh_edge_cache_get(c, "c9", &id), GH_ERR_NOT_FOUND);
    json_decref(d);
    json_t *noid = json_object();
    assert_int_equal(gh_edge_cache_put(c, noid, SCOPE, &child), GH_ERR_BAD_JSON);
    json_decref(noid);
    assert_int_equal(gh_edge_cache_remove(c, "never-there"), GH_OK);
    gh_edge_cache_close(c);
}

/* The file is untrusted: a row edited behind the gateway's back is a bad
 * row, not an identity. */
static void test_tampered_row_is_refused(void **state)
{
    (void)state;
    struct gh_edge_cache *c;
    char err[256];
    assert_int_equal(gh_edge_cache_open(dir, &c, err, sizeof err), GH_OK);
    json_t *devs = scope_answer();
    size_t n;
    assert_int_equal(gh_edge_cache_replace(c, devs, SCOPE, &n), GH_OK);
    json_decref(devs);
    gh_edge_cache_close(c);
    char path[128];
    snprintf(path, sizeof path, "%s/children.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "UPDATE child SET body = '{\"deviceId\":\"c1\",\"authentication\":"
                     "{\"type\":\"sas\",\"symmetricKey\":{\"primaryKey\":\"x\"}}}' "
                     "WHERE device_id = 'c1';"
                     "UPDATE child SET body = '[1,2' WHERE device_id = 'c2';",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(gh_edge_cache_open(dir, &c, err, sizeof err), GH_OK);
    struct gh_identity id;
    assert_int_equal(gh_edge_cache_get(c, "c1", &id), GH_ERR_DB);
    assert_non_null(strstr(gh_edge_cache_errmsg(c), "bad row in table child"));
    assert_int_equal(gh_edge_cache_get(c, "c2", &id), GH_ERR_DB);
    gh_edge_cache_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replace_keeps_only_children, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_entry_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_and_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_row_is_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
