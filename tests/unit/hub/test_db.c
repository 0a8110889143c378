/* hub/db: the SQLite plumbing shared by hub.db and dps.db: open sequence and
 * migration refusal, statement cache, error mapping, transactions and the
 * checked column reads with their exact messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "common/log.h"
#include "hub/db.h"
#include "store_fixture.h" /* fx_rmdir */

enum { ST_PUT, ST_GET, ST_ECHO, ST_COUNT };

static const char *const sql[ST_COUNT] = {
    "INSERT INTO kv(k, v) VALUES(?1, ?2)",
    "SELECT v FROM kv WHERE k = ?1",
    "SELECT ?1",
};
static const char *const migrations[] = {
    "CREATE TABLE kv(k TEXT PRIMARY KEY, v)",
    "INSERT INTO kv(k, v) VALUES('seed', 1)",
};
static const struct gh_db_spec spec = {
    .name = "t.db",
    .sql = sql,
    .nstmt = ST_COUNT,
    .migrations = migrations,
    .schema_version = 2,
    .busy_timeout_ms = 5000,
    .migrate_event = "test.migrate",
};

struct tx {
    char dir[PATH_MAX];
    struct gh_db db;
};

static int setup(void **state)
{
    struct tx *t = calloc(1, sizeof *t);
    if (t == NULL) return -1;
    snprintf(t->dir, sizeof t->dir, "/tmp/gh-db-test-XXXXXX");
    if (mkdtemp(t->dir) == NULL) return -1;
    strncat(t->dir, "/data", sizeof t->dir - strlen(t->dir) - 1);
    char err[GH_DB_ERR_MAX];
    if (gh_db_open(&t->db, &spec, t->dir, err, sizeof err) != GH_OK) return -1;
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct tx *t = *state;
    gh_db_close(&t->db);
    char junk[PATH_MAX + 8];
    snprintf(junk, sizeof junk, "%s/junk", t->dir);
    fx_rmdir(junk); /* left by test_open_errors */
    fx_rmdir(t->dir);
    char *slash = strrchr(t->dir, '/');
    if (slash != NULL) *slash = '\0';
    fx_rmdir(t->dir);
    free(t);
    return 0;
}

/* Run SQL on the file through a second connection. */
static void side_sql(const char *dir, const char *text)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/t.db", dir);
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    assert_int_equal(sqlite3_exec(h, text, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
}

static int64_t fixed_clock(void *ctx)
{
    return *(int64_t *)ctx;
}

static void test_open_migrates_and_configures(void **state)
{
    struct tx *t = *state;
    struct stat sb;
    char path[PATH_MAX + 16];
    assert_int_equal(stat(t->dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    snprintf(path, sizeof path, "%s/t.db", t->dir);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    /* Both migrations ran, in order. */
    sqlite3_stmt *st;
    bool row;
    int64_t v = 0;
    struct gh_db_row r = {"kv", "seed", false};
    assert_int_equal(gh_db_stmt(&t->db, ST_GET, &st), GH_OK);
    assert_int_equal(gh_db_bind_text(&t->db, st, 1, "seed"), GH_OK);
    assert_int_equal(gh_db_step(&t->db, st, &row, "get"), GH_OK);
    assert_true(row);
    assert_int_equal(gh_db_col_int(&t->db, st, 0, &r, "v", 0, 10, &v), GH_OK);
    assert_int_equal(v, 1);
    gh_db_done(st);
    sqlite3_stmt *p;
    assert_int_equal(sqlite3_prepare_v2(t->db.h, "PRAGMA user_version", -1, &p, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(p), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(p, 0), 2);
    sqlite3_finalize(p);
    assert_int_equal(sqlite3_prepare_v2(t->db.h, "PRAGMA journal_mode", -1, &p, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(p), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(p, 0), "wal");
    sqlite3_finalize(p);
    assert_int_equal(sqlite3_prepare_v2(t->db.h, "PRAGMA foreign_keys", -1, &p, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(p), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(p, 0), 1);
    sqlite3_finalize(p);
    /* The clock: real by default, injectable, restorable. */
    assert_true(gh_db_now(&t->db) > INT64_C(1700000000000));
    int64_t fixed = 42;
    gh_db_set_clock(&t->db, fixed_clock, &fixed);
    assert_int_equal(gh_db_now(&t->db), 42);
    gh_db_set_clock(&t->db, NULL, &fixed);
    assert_true(gh_db_now(&t->db) > INT64_C(1700000000000));
    assert_null(t->db.now_ctx);
}

static void test_open_errors(void **state)
{
    struct tx *t = *state;
    struct gh_db db;
    char err[GH_DB_ERR_MAX], path[PATH_MAX + 32];
    memset(&db, 0, sizeof db);
    assert_int_equal(gh_db_open(&db, &spec, "", err, sizeof err), GH_ERR_ARG);
    assert_string_equal(err, "no data directory given");
    assert_int_equal(gh_db_open(&db, &spec, NULL, NULL, 0), GH_ERR_ARG);
    char *longdir = malloc(GH_DB_PATH_MAX + 10);
    assert_non_null(longdir);
    memset(longdir, 'a', GH_DB_PATH_MAX + 9);
    longdir[GH_DB_PATH_MAX + 9] = '\0';
    assert_int_equal(gh_db_open(&db, &spec, longdir, err, sizeof err), GH_ERR_ARG);
    assert_string_equal(err, "data directory path is too long");
    free(longdir);
    snprintf(path, sizeof path, "%s/no/such", t->dir);
    assert_int_equal(gh_db_open(&db, &spec, path, err, sizeof err), GH_ERR_IO);
    assert_non_null(strstr(err, "cannot create directory"));
    snprintf(path, sizeof path, "%s/t.db", t->dir);
    assert_int_equal(gh_db_open(&db, &spec, path, err, sizeof err), GH_ERR_IO);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "%s is not a directory", path);
    assert_string_equal(err, want);
    /* Not a database: GH_ERR_DB, and the db is left closed. */
    snprintf(path, sizeof path, "%s/junk", t->dir);
    assert_int_equal(mkdir(path, 0700), 0);
    char dbp[PATH_MAX + 64];
    snprintf(dbp, sizeof dbp, "%s/t.db", path);
    FILE *fp = fopen(dbp, "w");
    assert_non_null(fp);
    for (int i = 0; i < 200; i++) fputs("this is not an SQLite database file. ", fp);
    fclose(fp);
    assert_int_equal(gh_db_open(&db, &spec, path, err, sizeof err), GH_ERR_DB);
    assert_non_null(strstr(err, "t.db: "));
    assert_string_equal(db.err, err);
    assert_null(db.h);
    assert_null(db.stmt);
    gh_db_close(&db); /* closing twice is harmless */
}

static void test_schema_refused_and_migration_rolled_back(void **state)
{
    struct tx *t = *state;
    struct gh_db db;
    char err[GH_DB_ERR_MAX];
    gh_db_close(&t->db);
    side_sql(t->dir, "PRAGMA user_version = 3");
    memset(&db, 0, sizeof db);
    assert_int_equal(gh_db_open(&db, &spec, t->dir, err, sizeof err), GH_ERR_DB);
    assert_string_equal(err, "t.db: schema version 3 is newer than this gatehouse supports (2); "
                             "run a newer gatehouse or restore a matching backup");
    side_sql(t->dir, "PRAGMA user_version = -1");
    assert_int_equal(gh_db_open(&db, &spec, t->dir, err, sizeof err), GH_ERR_DB);
    assert_string_equal(err, "t.db: invalid schema version -1");
    /* Version 1 -> 2 fails (seed already there): rolled back, stays 1. */
    side_sql(t->dir, "PRAGMA user_version = 1");
    assert_int_equal(gh_db_open(&db, &spec, t->dir, err, sizeof err), GH_ERR_DB);
    assert_string_equal(err, "t.db: migration: UNIQUE constraint failed: kv.k");
    side_sql(t->dir, "DELETE FROM kv");
    assert_int_equal(gh_db_open(&t->db, &spec, t->dir, err, sizeof err), GH_OK);
    assert_string_equal(err, "");
}

static void test_statement_cache(void **state)
{
    struct tx *t = *state;
    sqlite3_stmt *a, *b;
    bool row;
    assert_int_equal(gh_db_stmt(&t->db, ST_ECHO, &a), GH_OK);
    assert_int_equal(gh_db_bind_int(&t->db, a, 1, 7), GH_OK);
    assert_int_equal(gh_db_step(&t->db, a, &row, "echo"), GH_OK);
    assert_true(row);
    /* The same statement comes back reset and with its bindings cleared. */
    assert_int_equal(gh_db_stmt(&t->db, ST_ECHO, &b), GH_OK);
    assert_ptr_equal(a, b);
    assert_ptr_equal(t->db.stmt[ST_ECHO], a);
    assert_int_equal(gh_db_step(&t->db, b, &row, "echo"), GH_OK);
    assert_true(row);
    assert_int_equal(sqlite3_column_type(b, 0), SQLITE_NULL);
    assert_int_equal(gh_db_exec(&t->db, b, "echo"), GH_OK);
    assert_false(sqlite3_stmt_busy(b));
    gh_db_done(NULL);

    /* A statement that cannot be prepared: GH_ERR_DB, nothing cached. */
    static const char *const bad_sql[1] = {"SELECT * FROM nope"};
    const struct gh_db_spec *saved = t->db.spec;
    struct gh_db_spec bad = *saved;
    bad.sql = bad_sql;
    t->db.spec = &bad;
    sqlite3_stmt *c = NULL;
    assert_int_equal(gh_db_stmt(&t->db, 0, &c), GH_ERR_DB);
    assert_string_equal(t->db.err, "t.db: prepare: no such table: nope (sqlite 1)");
    assert_null(c);
    t->db.spec = saved;
    assert_ptr_equal(t->db.stmt[0], NULL);
}

static void test_error_mapping(void **state)
{
    struct tx *t = *state;
    snprintf(t->db.err, sizeof t->db.err, "untouched");
    assert_int_equal(gh_db_sqlite(&t->db, SQLITE_OK, "x"), GH_OK);
    assert_int_equal(gh_db_sqlite(&t->db, SQLITE_ROW, "x"), GH_OK);
    assert_int_equal(gh_db_sqlite(&t->db, SQLITE_DONE, "x"), GH_OK);
    assert_string_equal(t->db.err, "untouched");
    assert_int_equal(gh_db_sqlite(&t->db, SQLITE_NOMEM, "x"), GH_ERR_NOMEM);
    assert_int_equal(gh_db_sqlite(&t->db, SQLITE_FULL, "x"), GH_ERR_NOSPACE);
    assert_int_equal(gh_db_sqlite(&t->db, SQLITE_IOERR_WRITE, "x"), GH_ERR_DB);
    assert_int_equal(gh_db_sqlite(&t->db, SQLITE_BUSY, "x"), GH_ERR_DB);
    assert_int_equal(gh_db_fail(&t->db, GH_ERR_ARG, "n=%d", 5), GH_ERR_ARG);
    assert_string_equal(t->db.err, "n=5");

    /* A failing step: GH_ERR_DB with the SQLite message and extended code. */
    sqlite3_stmt *st;
    bool row = true;
    assert_int_equal(gh_db_stmt(&t->db, ST_PUT, &st), GH_OK);
    assert_int_equal(gh_db_bind_text(&t->db, st, 1, "seed"), GH_OK);
    assert_int_equal(gh_db_bind_int(&t->db, st, 2, 2), GH_OK);
    assert_int_equal(gh_db_step(&t->db, st, &row, "put"), GH_ERR_DB);
    assert_false(row);
    assert_string_equal(t->db.err, "t.db: put: UNIQUE constraint failed: kv.k (sqlite 1555)");
    assert_int_equal(gh_db_stmt(&t->db, ST_PUT, &st), GH_OK);
    assert_int_equal(gh_db_bind_text(&t->db, st, 1, "seed"), GH_OK);
    assert_int_equal(gh_db_exec(&t->db, st, "put again"), GH_ERR_DB);
    assert_string_equal(t->db.err, "t.db: put again: UNIQUE constraint failed: kv.k (sqlite 1555)");
    /* A bind out of range. */
    assert_int_equal(gh_db_bind_int(&t->db, st, 9, 1), GH_ERR_DB);
    assert_string_equal(t->db.err, "t.db: bind: column index out of range (sqlite 25)");
    assert_int_equal(gh_db_bind_text(&t->db, st, 9, NULL), GH_ERR_DB);
    assert_int_equal(gh_db_bind_blob(&t->db, st, 9, "x", 1), GH_ERR_DB);
    assert_int_equal(gh_db_bind_blob(&t->db, st, 9, NULL, 0), GH_ERR_DB);
    gh_db_done(st);
}

static bool has_key(struct tx *t, const char *k)
{
    sqlite3_stmt *st;
    bool row = false;
    assert_int_equal(gh_db_stmt(&t->db, ST_GET, &st), GH_OK);
    assert_int_equal(gh_db_bind_text(&t->db, st, 1, k), GH_OK);
    assert_int_equal(gh_db_step(&t->db, st, &row, "get"), GH_OK);
    gh_db_done(st);
    return row;
}

static void put(struct tx *t, const char *k)
{
    sqlite3_stmt *st;
    assert_int_equal(gh_db_stmt(&t->db, ST_PUT, &st), GH_OK);
    assert_int_equal(gh_db_bind_text(&t->db, st, 1, k), GH_OK);
    assert_int_equal(gh_db_exec(&t->db, st, "put"), GH_OK);
}

static void test_transactions(void **state)
{
    struct tx *t = *state;
    gh_db_rollback(&t->db); /* outside a transaction: nothing happens */
    assert_int_equal(gh_db_begin(&t->db), GH_OK);
    assert_false(sqlite3_get_autocommit(t->db.h));
    put(t, "a");
    gh_db_rollback(&t->db);
    assert_true(sqlite3_get_autocommit(t->db.h));
    assert_false(has_key(t, "a"));
    assert_int_equal(gh_db_begin(&t->db), GH_OK);
    put(t, "b");
    assert_int_equal(gh_db_commit(&t->db), GH_OK);
    assert_true(has_key(t, "b"));
    assert_int_equal(gh_db_begin_read(&t->db), GH_OK);
    assert_true(has_key(t, "b"));
    assert_int_equal(gh_db_begin(&t->db), GH_ERR_DB);
    assert_string_equal(t->db.err,
                        "t.db: begin: cannot start a transaction within a transaction (sqlite 1)");
    gh_db_rollback(&t->db);
    assert_int_equal(gh_db_commit(&t->db), GH_ERR_DB);
    assert_string_equal(t->db.err, "t.db: commit: cannot commit - no transaction is active "
                                   "(sqlite 1)");
}

/* Step ST_ECHO with the value bind() puts in ?1. */
static sqlite3_stmt *echo(struct tx *t, int type, const void *p, int n)
{
    sqlite3_stmt *st;
    bool row;
    assert_int_equal(gh_db_stmt(&t->db, ST_ECHO, &st), GH_OK);
    if (type == SQLITE_TEXT) sqlite3_bind_text(st, 1, p, n, SQLITE_TRANSIENT);
    if (type == SQLITE_BLOB) sqlite3_bind_blob(st, 1, p, n, SQLITE_TRANSIENT);
    if (type == SQLITE_INTEGER) sqlite3_bind_int64(st, 1, n);
    if (type == SQLITE_FLOAT) sqlite3_bind_double(st, 1, 1.5);
    assert_int_equal(gh_db_step(&t->db, st, &row, "echo"), GH_OK);
    assert_true(row);
    return st;
}

#define BAD(col, problem) "t.db: bad row in table kv, key k1: column " col " " problem

static void test_col_text_and_int(void **state)
{
    struct tx *t = *state;
    struct gh_db_row r = {"kv", "k1", false};
    char out[4];
    int64_t v = -1;
    sqlite3_stmt *st = echo(t, SQLITE_TEXT, "abc", 3);
    assert_int_equal(gh_db_col_text(&t->db, st, 0, &r, "v", out, sizeof out), GH_OK);
    assert_string_equal(out, "abc");
    assert_int_equal(gh_db_col_text(&t->db, st, 0, &r, "v", out, 3), GH_ERR_DB);
    assert_string_equal(t->db.err, BAD("v", "is too long"));
    assert_int_equal(gh_db_col_int(&t->db, st, 0, &r, "v", 0, 9, &v), GH_ERR_DB);
    assert_string_equal(t->db.err, BAD("v", "is not an integer"));
    st = echo(t, SQLITE_TEXT, "a\0b", 3);
    assert_int_equal(gh_db_col_text(&t->db, st, 0, &r, "v", out, sizeof out), GH_ERR_DB);
    assert_string_equal(t->db.err, BAD("v", "is not valid UTF-8 text"));
    st = echo(t, SQLITE_TEXT, "\xff", 1);
    assert_int_equal(gh_db_col_text(&t->db, st, 0, &r, "v", out, sizeof out), GH_ERR_DB);
    assert_string_equal(t->db.err, BAD("v", "is not valid UTF-8 text"));
    st = echo(t, SQLITE_INTEGER, NULL, 5);
    assert_int_equal(gh_db_col_text(&t->db, st, 0, &r, "v", out, sizeof out), GH_ERR_DB);
    assert_string_equal(t->db.err, BAD("v", "is not text"));
    assert_int_equal(gh_db_col_int(&t->db, st, 0, &r, "v", 5, 5, &v), GH_OK);
    assert_int_equal(v, 5);
    v = -1;
    assert_int_equal(gh_db_col_int(&t->db, st, 0, &r, "v", 6, 9, &v), GH_ERR_DB);
    assert_string_equal(t->db.err, BAD("v", "is out of range"));
    assert_int_equal(gh_db_col_int(&t->db, st, 0, &r, "v", 0, 4, &v), GH_ERR_DB);
    assert_int_equal(v, -1);
    st = echo(t, SQLITE_FLOAT, NULL, 0);
    assert_int_equal(gh_db_col_int(&t->db, st, 0, &r, "v", 0, 9, &v), GH_ERR_DB);
    assert_string_equal(t->db.err, BAD("v", "is not an integer"));
    gh_db_done(st);
}

static void test_col_json_blob_and_dump(void **state)
{
    struct tx *t = *state;
    struct gh_db_row r = {"kv", "k1", false};
    json_t *j = NULL;
    uint8_t *b = NULL;
    size_t n = 99;
    sqlite3_stmt *st = echo(t, SQLITE_TEXT, "{\"a\":1}", 7);
    assert_int_equal(gh_db_col_json(&t->db, st, 0, &r, "j", 7, &j), GH_OK);
    assert_int_equal(json_integer_value(json_object_get(j, "a")), 1);
    char *text = NULL;
    assert_int_equal(gh_db_dump(&t->db, j, &text, &n), GH_OK);
    assert_string_equal(text, "{\"a\":1}");
    assert_int_equal(n, 7);
    free(text);
    json_decref(j);
    j = NULL;
    assert_int_equal(gh_db_col_json(&t->db, st, 0, &r, "j", 6, &j), GH_ERR_DB);
    assert_string_equal(t->db.err, BAD("j", "is too long"));
    assert_int_equal(gh_db_col_blob(&t->db, st, 0, &r, "b", 9, &b, &n), GH_ERR_DB);
    assert_string_equal(t->db.err, BAD("b", "is not a blob"));
    st = echo(t, SQLITE_TEXT, "[1]", 3);
    assert_int_equal(gh_db_col_json(&t->db, st, 0, &r, "j", 9, &j), GH_ERR_DB);
    assert_string_equal(t->db.err, BAD("j", "is not a JSON object"));
    st = echo(t, SQLITE_TEXT, "{\"a\":1,\"a\":2}", 13);
    assert_int_equal(gh_db_col_json(&t->db, st, 0, &r, "j", 99, &j), GH_ERR_DB);
    assert_string_equal(t->db.err, BAD("j", "is not valid JSON"));
    st = echo(t, SQLITE_INTEGER, NULL, 1);
    assert_int_equal(gh_db_col_json(&t->db, st, 0, &r, "j", 99, &j), GH_ERR_DB);
    assert_string_equal(t->db.err, BAD("j", "is not text"));
    assert_null(j);
    st = echo(t, SQLITE_BLOB, "\x01\x02\x03", 3);
    assert_int_equal(gh_db_col_blob(&t->db, st, 0, &r, "b", 3, &b, &n), GH_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(b, "\x01\x02\x03", 3);
    free(b);
    b = NULL;
    assert_int_equal(gh_db_col_blob(&t->db, st, 0, &r, "b", 2, &b, &n), GH_ERR_DB);
    assert_string_equal(t->db.err, BAD("b", "is too long"));
    st = echo(t, SQLITE_BLOB, "", 0);
    n = 99;
    assert_int_equal(gh_db_col_blob(&t->db, st, 0, &r, "b", 2, &b, &n), GH_OK);
    assert_null(b);
    assert_int_equal(n, 0);
    gh_db_done(st);
}

static void test_bad_row_keys(void **state)
{
    struct tx *t = *state;
    struct gh_db_row shown = {"kv", "a\"b", false};
    assert_int_equal(gh_db_bad_row(&t->db, &shown, "c", "is odd"), GH_ERR_DB);
    assert_string_equal(t->db.err, "t.db: bad row in table kv, key a\"b: column c is odd");
    /* A raw key is shown escaped and cut as gh_log_escape does. */
    const char *raw = "0123456789012345678901234567890123456789\n";
    struct gh_db_row escaped = {"reg", raw, true};
    char k[GH_DB_RAW_KEY_TEXT_MAX], want[GH_DB_ERR_MAX];
    gh_log_escape(k, sizeof k, raw, strlen(raw), GH_DB_RAW_KEY_SHOWN);
    snprintf(want, sizeof want, "t.db: bad row in table reg, key %s: column c is odd", k);
    assert_int_equal(gh_db_bad_row(&t->db, &escaped, "c", "is odd"), GH_ERR_DB);
    assert_string_equal(t->db.err, want);
    assert_null(strstr(t->db.err, "789\n"));
}

int main(void)
{
    gh_log_set_level(GH_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_migrates_and_configures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_refused_and_migration_rolled_back, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_statement_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_col_text_and_int, setup, teardown),
        cmocka_unit_test_setup_teardown(test_col_json_blob_and_dump, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_row_keys, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
