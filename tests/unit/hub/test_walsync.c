/* The WAL sync thread: generations are reported in order, one sync covers
 * every request made before it, a failed sync is reported as such, and
 * freeing settles whatever was still asked for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "../run_until.h"
#include "hub/walsync.h"

struct seen {
    uint64_t gen[64];
    int err[64];
    size_t n;
};

static void on_done(void *arg, uint64_t gen, int err)
{
    struct seen *s = arg;
    assert_true(s->n < 64);
    s->gen[s->n] = gen;
    s->err[s->n++] = err;
}

struct until {
    struct seen *s;
    uint64_t gen;
};

static bool reached(void *arg)
{
    struct until *u = arg;
    return u->s->n > 0 && u->s->gen[u->s->n - 1] >= u->gen;
}

static void test_syncs_in_order(void **state)
{
    (void)state;
    char dir[] = "/tmp/gh-walsync-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/hub.db-wal", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("frames", f);
    fclose(f);

    struct event_base *base = event_base_new();
    struct seen s = {0};
    struct gh_walsync *w = NULL;
    assert_int_equal(gh_walsync_new(base, path, on_done, &s, &w), GH_OK);
    gh_walsync_request(w, 1);
    struct until u = {&s, 1};
    assert_true(gh_test_run_until(base, reached, &u, 5000));
    assert_int_equal(s.err[s.n - 1], 0);
    /* Several requests: reported increasing, the last one included, no
     * failure; one sync may cover several. */
    for (uint64_t g = 2; g <= 20; g++) gh_walsync_request(w, g);
    u.gen = 20;
    assert_true(gh_test_run_until(base, reached, &u, 5000));
    for (size_t i = 0; i < s.n; i++) {
        assert_int_equal(s.err[i], 0);
        if (i > 0) assert_true(s.gen[i] > s.gen[i - 1]);
    }
    /* Freeing settles what is still asked for, at once. */
    size_t before = s.n;
    gh_walsync_request(w, 21);
    gh_walsync_free(w);
    assert_true(s.n >= before);
    assert_int_equal(s.gen[s.n - 1], 21);
    assert_int_equal(s.err[s.n - 1], 0);
    event_base_free(base);
    unlink(path);
    rmdir(dir);
}

static void test_failed_sync_is_reported(void **state)
{
    (void)state;
    /* fdatasync on a character device fails (EINVAL). */
    struct event_base *base = event_base_new();
    struct seen s = {0};
    struct gh_walsync *w = NULL;
    assert_int_equal(gh_walsync_new(base, "/dev/null", on_done, &s, &w), GH_OK);
    gh_walsync_request(w, 3);
    struct until u = {&s, 3};
    assert_true(gh_test_run_until(base, reached, &u, 5000));
    assert_int_equal(s.gen[s.n - 1], 3);
    assert_int_not_equal(s.err[s.n - 1], 0);
    gh_walsync_free(w);
    event_base_free(base);
}

static void test_missing_file_refused(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    struct seen s = {0};
    struct gh_walsync *w = NULL;
    assert_int_equal(gh_walsync_new(base, "/nonexistent/hub.db-wal", on_done, &s, &w), GH_ERR_IO);
    assert_null(w);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syncs_in_order),
        cmocka_unit_test(test_failed_sync_is_reported),
        cmocka_unit_test(test_missing_file_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
