/* Store lifecycle and robustness: open errors, permissions, durability
 * across close/reopen, schema version refusal, corrupted rows (the file is
 * untrusted input), persistent sessions and shared access policies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "store_fixture.h"

#define KEY_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_B "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="

static void test_open_creates_private_files(void **state)
{
    struct fx *f = *state;
    struct stat sb;
    char path[PATH_MAX + 16];
    assert_int_equal(stat(f->dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    snprintf(path, sizeof path, "%s/hub.db", f->dir);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    snprintf(path, sizeof path, "%s/hub.db-wal", f->dir);
    assert_int_equal(stat(path, &sb), 0); /* WAL mode is on */
    assert_int_equal(sb.st_mode & 0077, 0);
}

static void test_open_errors(void **state)
{
    struct fx *f = *state;
    struct gh_store *s = NULL;
    char err[256], path[PATH_MAX + 32];
    assert_int_equal(gh_store_open("", &s, err, sizeof err), GH_ERR_ARG);
    assert_string_equal(err, "no data directory given");
    assert_int_equal(gh_store_open(NULL, &s, NULL, 0), GH_ERR_ARG);
    char *longdir = malloc(GH_STORE_PATH_MAX + 10);
    memset(longdir, 'a', GH_STORE_PATH_MAX + 9);
    longdir[GH_STORE_PATH_MAX + 9] = '\0';
    assert_int_equal(gh_store_open(longdir, &s, err, sizeof err), GH_ERR_ARG);
    assert_string_equal(err, "data directory path is too long");
    free(longdir);
    /* The parent must exist. */
    snprintf(path, sizeof path, "%s/no/such", f->dir);
    assert_int_equal(gh_store_open(path, &s, err, sizeof err), GH_ERR_IO);
    /* A file where the directory should be. */
    snprintf(path, sizeof path, "%s/hub.db", f->dir);
    assert_int_equal(gh_store_open(path, &s, err, sizeof err), GH_ERR_IO);
    assert_non_null(strstr(err, "is not a directory"));
    /* A file that is not a database. */
    snprintf(path, sizeof path, "%s/junk", f->dir);
    assert_int_equal(mkdir(path, 0700), 0);
    char dbp[PATH_MAX + 64];
    snprintf(dbp, sizeof dbp, "%s/hub.db", path);
    FILE *fp = fopen(dbp, "w");
    assert_non_null(fp);
    for (int i = 0; i < 200; i++) fputs("this is not an SQLite database file. ", fp);
    fclose(fp);
    assert_int_equal(gh_store_open(path, &s, err, sizeof err), GH_ERR_DB);
    assert_non_null(strstr(err, "hub.db"));
    assert_null(s);
    fx_rmdir(path);
}

static void test_durability_across_reopen(void **state)
{
    struct fx *f = *state;
    struct gh_identity in, a, b;
    fx_identity(&in, "d1", NULL);
    assert_int_equal(gh_store_identity_create(f->s, &in, &a), GH_OK);
    struct gh_session ss = {GH_SESSION_C2D | GH_SESSION_TWIN_RESPONSE, GH_SESSION_C2D};
    assert_int_equal(gh_store_session_save(f->s, "d1", NULL, &ss), GH_OK);
    fx_reopen(f);
    assert_int_equal(gh_store_identity_get(f->s, "d1", NULL, &b), GH_OK);
    assert_memory_equal(&a, &b, sizeof a);
    struct gh_session got;
    bool present;
    assert_int_equal(gh_store_session_load(f->s, "d1", NULL, &got, &present), GH_OK);
    assert_true(present);
    assert_int_equal(got.subscribed, ss.subscribed);
    assert_int_equal(got.qos1, ss.qos1);
    /* A second store on the same directory (another thread) sees it too. */
    struct gh_store *s2;
    char err[128];
    assert_int_equal(gh_store_open(f->dir, &s2, err, sizeof err), GH_OK);
    assert_int_equal(gh_store_identity_get(s2, "d1", NULL, &b), GH_OK);
    gh_store_close(s2);
    gh_store_close(NULL);
}

static void test_schema_newer_refused(void **state)
{
    struct fx *f = *state;
    struct gh_store *s = NULL;
    char err[256];
    gh_store_close(f->s);
    f->s = NULL;
    fx_sql(f, "PRAGMA user_version = 99");
    assert_int_equal(gh_store_open(f->dir, &s, err, sizeof err), GH_ERR_DB);
    assert_string_equal(err, "hub.db: schema version 99 is newer than this gatehouse supports (2); "
                             "run a newer gatehouse or restore a matching backup");
    assert_null(s);
    fx_sql(f, "PRAGMA user_version = -1");
    assert_int_equal(gh_store_open(f->dir, &s, err, sizeof err), GH_ERR_DB);
    assert_string_equal(err, "hub.db: invalid schema version -1");
    fx_sql(f, "PRAGMA user_version = 1");
    fx_open(f);
}

/* A failing migration is rolled back whole: the file keeps version 0. */
static void test_migration_failure(void **state)
{
    struct fx *f = *state;
    struct gh_store *s = NULL;
    char err[256], dir[PATH_MAX];
    assert_true(snprintf(dir, sizeof dir, "%s/other", f->dir) < (int)sizeof dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    char saved[PATH_MAX];
    snprintf(saved, sizeof saved, "%s", f->dir);
    snprintf(f->dir, sizeof f->dir, "%s", dir);
    fx_sql(f, "CREATE TABLE policy(x)"); /* clashes with the schema */
    assert_int_equal(gh_store_open(dir, &s, err, sizeof err), GH_ERR_DB);
    assert_string_equal(err, "hub.db: migration: table policy already exists");
    fx_sql(f, "DROP TABLE policy");
    assert_int_equal(gh_store_open(dir, &s, err, sizeof err), GH_OK);
    gh_store_close(s);
    fx_rmdir(dir);
    snprintf(f->dir, sizeof f->dir, "%s", saved);
}

/* Damaged rows: every read that meets one fails with GH_ERR_DB and a
 * message naming table, key and column; nothing crashes. */
static void test_corrupted_identity_rows(void **state)
{
    struct fx *f = *state;
    struct gh_identity got, list[4];
    size_t n;
    static const struct {
        const char *sql;
        const char *column;
    } cases[] = {
        {"UPDATE identity SET status = 7 WHERE device_id = 'd1'", "column status is out of range"},
        {"UPDATE identity SET status = 'x' WHERE device_id = 'd1'",
         "column status is not an integer"},
        {"UPDATE identity SET etag = zeroblob(3) WHERE device_id = 'd1'",
         "column etag is not text"},
        {"UPDATE identity SET model_id = printf('%.*c', 600, 'x') WHERE device_id = 'd1'",
         "column model_id is too long"},
        {"UPDATE identity SET status_reason = CAST(x'ff' AS TEXT) WHERE device_id = 'd1'",
         "column status_reason is not valid UTF-8 text"},
        {"UPDATE identity SET primary_key = 'not a key' WHERE device_id = 'd1'",
         "column primary_key/secondary_key is not a valid key"},
        {"UPDATE identity SET secondary_thumbprint = 'XYZ' WHERE device_id = 'd1'",
         "column thumbprint is not a valid thumbprint"},
        {"UPDATE identity SET auth_type = -1 WHERE device_id = 'd1'",
         "column auth_type is out of range"},
        {"UPDATE identity SET created_ms = 'soon' WHERE device_id = 'd1'",
         "column created_ms is not an integer"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fx_create(f, "d1", NULL);
        fx_sql(f, cases[i].sql);
        gh_err rc = gh_store_identity_get(f->s, "d1", NULL, &got);
        if (rc != GH_ERR_DB) fprintf(stderr, "case %s: %d\n", cases[i].sql, rc);
        assert_int_equal(rc, GH_ERR_DB);
        char want[256];
        snprintf(want, sizeof want, "hub.db: bad row in table identity, key \"d1\": %s",
                 cases[i].column);
        assert_string_equal(gh_store_errmsg(f->s), want);
        assert_int_equal(gh_store_identity_list(f->s, NULL, 0, list, 4, &n), GH_ERR_DB);
        fx_sql(f, "DELETE FROM identity");
    }
    /* An invalid id in the key itself. */
    fx_create(f, "d1", NULL);
    fx_sql(f, "INSERT INTO identity SELECT 'bad id', module_id, managed_by, generation_id, etag,"
              " status, status_reason, status_updated_ms, auth_type, primary_key, secondary_key,"
              " primary_thumbprint, secondary_thumbprint, iot_edge, device_scope, parent_scope,"
              " conn_state, conn_state_updated_ms, last_activity_ms, model_id, created_ms"
              " FROM identity WHERE device_id = 'd1'");
    assert_int_equal(gh_store_identity_list(f->s, NULL, 0, list, 4, &n), GH_ERR_DB);
    assert_string_equal(
        gh_store_errmsg(f->s),
        "hub.db: bad row in table identity, key \"bad id\": column device_id is not "
        "a valid device id");
    /* The good row is still readable on its own. */
    assert_int_equal(gh_store_identity_get(f->s, "d1", NULL, &got), GH_OK);
    /* A dropped table is a database error too, not a crash. */
    fx_sql(f, "DROP TABLE session");
    struct gh_session ss = {0, 0};
    assert_int_equal(gh_store_session_save(f->s, "d1", NULL, &ss), GH_ERR_DB);
}

static void test_sessions(void **state)
{
    struct fx *f = *state;
    struct gh_session ss = {GH_SESSION_ALL, GH_SESSION_C2D | GH_SESSION_METHODS}, got;
    bool present = true;
    assert_int_equal(gh_store_session_load(f->s, "d1", NULL, &got, &present), GH_OK);
    assert_false(present);
    assert_int_equal(got.subscribed, 0);
    assert_int_equal(gh_store_session_save(f->s, "d1", NULL, &ss), GH_ERR_NOT_FOUND);
    assert_string_equal(gh_store_errmsg(f->s), "\"d1\" is not registered");
    fx_create(f, "d1", NULL);
    fx_create(f, "d1", "m1");
    assert_int_equal(gh_store_session_save(f->s, "d1", NULL, &ss), GH_OK);
    assert_int_equal(gh_store_session_load(f->s, "d1", NULL, &got, &present), GH_OK);
    assert_true(present);
    assert_int_equal(got.subscribed, GH_SESSION_ALL);
    assert_int_equal(got.qos1, GH_SESSION_C2D | GH_SESSION_METHODS);
    /* Modules have their own sessions. */
    assert_int_equal(gh_store_session_load(f->s, "d1", "m1", &got, &present), GH_OK);
    assert_false(present);
    /* Replace. */
    struct gh_session s2 = {GH_SESSION_TWIN_DESIRED, 0};
    assert_int_equal(gh_store_session_save(f->s, "d1", NULL, &s2), GH_OK);
    assert_int_equal(gh_store_session_load(f->s, "d1", NULL, &got, &present), GH_OK);
    assert_int_equal(got.subscribed, GH_SESSION_TWIN_DESIRED);
    /* Invalid bits. */
    struct gh_session bad = {0x100, 0};
    assert_int_equal(gh_store_session_save(f->s, "d1", NULL, &bad), GH_ERR_ARG);
    bad.subscribed = GH_SESSION_C2D;
    bad.qos1 = GH_SESSION_METHODS;
    assert_int_equal(gh_store_session_save(f->s, "d1", NULL, &bad), GH_ERR_ARG);
    /* Clean session. */
    assert_int_equal(gh_store_session_clear(f->s, "d1", NULL), GH_OK);
    assert_int_equal(gh_store_session_load(f->s, "d1", NULL, &got, &present), GH_OK);
    assert_false(present);
    assert_int_equal(gh_store_session_clear(f->s, "d1", NULL), GH_OK);
    /* Deleting the identity drops its session. */
    assert_int_equal(gh_store_session_save(f->s, "d1", "m1", &ss), GH_OK);
    assert_int_equal(gh_store_identity_delete(f->s, "d1", NULL, "*"), GH_OK);
    fx_create(f, "d1", NULL);
    fx_create(f, "d1", "m1");
    assert_int_equal(gh_store_session_load(f->s, "d1", "m1", &got, &present), GH_OK);
    assert_false(present);
    /* A damaged row. */
    assert_int_equal(gh_store_session_save(f->s, "d1", NULL, &ss), GH_OK);
    fx_sql(f, "UPDATE session SET qos1 = 64");
    assert_int_equal(gh_store_session_load(f->s, "d1", NULL, &got, &present), GH_ERR_DB);
    fx_sql(f, "UPDATE session SET qos1 = 1, subscribed = 2");
    assert_int_equal(gh_store_session_load(f->s, "d1", NULL, &got, &present), GH_ERR_DB);
    assert_string_equal(gh_store_errmsg(f->s),
                        "hub.db: bad row in table session, key \"d1\": column qos1 has "
                        "unsubscribed bits");
}

static void test_policies(void **state)
{
    struct fx *f = *state;
    struct gh_policy p, list[8];
    size_t n;
    unsigned created = 99;
    assert_int_equal(gh_store_policy_get(f->s, "iothubowner", &p), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_ensure_default_policies(f->s, &created), GH_OK);
    assert_int_equal(created, 5);
    assert_int_equal(gh_store_policy_get(f->s, "iothubowner", &p), GH_OK);
    assert_int_equal(p.rights, GH_RIGHT_ALL);
    assert_true(gh_identity_key_valid(p.primary_key));
    char owner_key[GH_IDENTITY_KEY_MAX + 1];
    strcpy(owner_key, p.primary_key);
    /* Idempotent: keys survive a second call and a restart. */
    fx_reopen(f);
    assert_int_equal(gh_store_ensure_default_policies(f->s, &created), GH_OK);
    assert_int_equal(created, 0);
    assert_int_equal(gh_store_policy_get(f->s, "iothubowner", &p), GH_OK);
    assert_string_equal(p.primary_key, owner_key);
    assert_int_equal(gh_store_policy_list(f->s, list, 8, &n), GH_OK);
    assert_int_equal(n, 5);
    const char *names[] = {"device", "iothubowner", "registryRead", "registryReadWrite", "service"};
    const uint32_t rights[] = {GH_RIGHT_DEVICE_CONNECT, GH_RIGHT_ALL, GH_RIGHT_REGISTRY_READ,
                               GH_RIGHT_REGISTRY_READ | GH_RIGHT_REGISTRY_WRITE,
                               GH_RIGHT_SERVICE_CONNECT};
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(list[i].name, names[i]);
        assert_int_equal(list[i].rights, rights[i]);
        gh_policy_wipe(&list[i]);
    }
    assert_int_equal(gh_store_policy_list(f->s, list, 2, &n), GH_OK);
    assert_int_equal(n, 2);

    /* put: create and replace, with validation. */
    memset(&p, 0, sizeof p);
    strcpy(p.name, "ops.team-1");
    strcpy(p.primary_key, KEY_A);
    strcpy(p.secondary_key, KEY_B);
    p.rights = GH_RIGHT_SERVICE_CONNECT;
    assert_int_equal(gh_store_policy_put(f->s, &p), GH_OK);
    p.rights = GH_RIGHT_REGISTRY_READ;
    assert_int_equal(gh_store_policy_put(f->s, &p), GH_OK);
    struct gh_policy q;
    assert_int_equal(gh_store_policy_get(f->s, "ops.team-1", &q), GH_OK);
    assert_int_equal(q.rights, GH_RIGHT_REGISTRY_READ);
    p.rights = 0;
    assert_int_equal(gh_store_policy_put(f->s, &p), GH_ERR_ARG);
    p.rights = 0x20; /* outside GH_RIGHT_MASK */
    assert_int_equal(gh_store_policy_put(f->s, &p), GH_ERR_ARG);
    p.rights = GH_RIGHT_PROVISIONING;
    assert_int_equal(gh_store_policy_put(f->s, &p), GH_OK);
    p.rights = 1;
    strcpy(p.name, "bad name");
    assert_int_equal(gh_store_policy_put(f->s, &p), GH_ERR_ARG);
    assert_string_equal(gh_store_errmsg(f->s),
                        "policy name must be 1 to 64 letters, digits, '-', '_' or '.'");
    strcpy(p.name, "ok");
    strcpy(p.primary_key, "short");
    assert_int_equal(gh_store_policy_put(f->s, &p), GH_ERR_ARG);
    assert_int_equal(gh_store_policy_delete(f->s, "ops.team-1"), GH_OK);
    assert_int_equal(gh_store_policy_delete(f->s, "ops.team-1"), GH_ERR_NOT_FOUND);
    assert_string_equal(gh_store_errmsg(f->s), "policy \"ops.team-1\" does not exist");
    /* A damaged key in the file. */
    fx_sql(f, "UPDATE policy SET secondary_key = '!!' WHERE name = 'service'");
    assert_int_equal(gh_store_policy_get(f->s, "service", &p), GH_ERR_DB);
    assert_int_equal(gh_store_policy_list(f->s, list, 8, &n), GH_ERR_DB);
    fx_sql(f, "UPDATE policy SET rights = 0 WHERE name = 'service'");
    assert_int_equal(gh_store_policy_get(f->s, "service", &p), GH_ERR_DB);
    gh_policy_wipe(&p);
    gh_policy_wipe(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_private_files, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_durability_across_reopen, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_schema_newer_refused, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_migration_failure, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_corrupted_identity_rows, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_sessions, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_policies, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
