/* Shared fixture for the store tests: a fresh data directory under /tmp, a
 * store with a fake clock, reopen, and removal afterwards. Included by
 * tests/unit/hub/test_store*.c only. */
#ifndef GH_TEST_STORE_FIXTURE_H
#define GH_TEST_STORE_FIXTURE_H

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "hub/store.h"

/* 2026-01-01T00:00:00.000Z */
#define FX_T0 INT64_C(1767225600000)

struct fx {
    char dir[PATH_MAX];
    struct gh_store *s;
    int64_t now;
};

static inline int64_t fx_clock(void *ctx)
{
    return ((struct fx *)ctx)->now;
}

static inline void fx_open(struct fx *f)
{
    char err[256];
    gh_err rc = gh_store_open(f->dir, &f->s, err, sizeof err);
    if (rc != GH_OK) fprintf(stderr, "gh_store_open: %s\n", err);
    assert_int_equal(rc, GH_OK);
    gh_store_set_clock(f->s, fx_clock, f);
}

static inline int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (f == NULL) return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/gh-store-test-XXXXXX");
    if (mkdtemp(f->dir) == NULL) return -1;
    /* The store creates the directory itself: use a child of the temp dir. */
    strncat(f->dir, "/data", sizeof f->dir - strlen(f->dir) - 1);
    f->now = FX_T0;
    fx_open(f);
    *state = f;
    return 0;
}

static inline void fx_reopen(struct fx *f)
{
    gh_store_close(f->s);
    f->s = NULL;
    fx_open(f);
}

/* Remove a directory and the plain files in it (one level). */
static inline void fx_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            char p[PATH_MAX + 512];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            remove(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

static inline int fx_teardown(void **state)
{
    struct fx *f = *state;
    gh_store_close(f->s);
    fx_rmdir(f->dir);
    char *slash = strrchr(f->dir, '/');
    if (slash != NULL) *slash = '\0';
    fx_rmdir(f->dir);
    free(f);
    return 0;
}

/* Run SQL directly on hub.db through a second connection (to corrupt rows
 * or change the schema version behind the store's back). */
static inline void fx_sql(struct fx *f, const char *sql)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/hub.db", f->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) fprintf(stderr, "fx_sql: %s\n", msg ? msg : "?");
    sqlite3_free(msg);
    assert_int_equal(rc, SQLITE_OK);
    sqlite3_close(db);
}

static inline json_t *fx_json(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (j == NULL) fprintf(stderr, "bad test JSON: %s: %s\n", text, e.text);
    assert_non_null(j);
    return j;
}

/* A device (or module) request as gh_identity_from_json would build it. */
static inline void fx_identity(struct gh_identity *id, const char *dev, const char *mod)
{
    memset(id, 0, sizeof *id);
    snprintf(id->device_id, sizeof id->device_id, "%s", dev);
    snprintf(id->module_id, sizeof id->module_id, "%s", mod != NULL ? mod : "");
    id->auth_type = GH_AUTH_SAS;
}

static inline void fx_create(struct fx *f, const char *dev, const char *mod)
{
    struct gh_identity in, out;
    fx_identity(&in, dev, mod);
    gh_err rc = gh_store_identity_create(f->s, &in, &out);
    if (rc != GH_OK) fprintf(stderr, "create: %s\n", gh_store_errmsg(f->s));
    assert_int_equal(rc, GH_OK);
    gh_identity_wipe(&out);
}

#endif
