#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/error.h"
#include "common/log.h"

static void test_error_table(void **state)
{
    (void)state;
    assert_string_equal(gh_err_str(GH_OK), "success");
    assert_string_equal(gh_err_name(GH_ERR_TRUNCATED), "GH_ERR_TRUNCATED");
    assert_int_equal(gh_err_category(GH_ERR_TRUNCATED), GH_CAT_PROTOCOL);
    assert_string_equal(gh_err_category_str(GH_CAT_AUTH), "auth");
    assert_int_equal(gh_err_exit_status(GH_OK), 0);
    assert_int_equal(gh_err_exit_status(GH_ERR_USAGE), 2);
    assert_int_equal(gh_err_exit_status(GH_ERR_CONFIG_KEY), 3);
    assert_int_equal(gh_err_exit_status(GH_ERR_AUTH), 8);
    assert_string_equal(gh_err_str((gh_err)123456), "unknown error");
    assert_int_equal(gh_err_category((gh_err)123456), GH_CAT_INTERNAL);
    /* codes are stable: spot-check a few numbers that must never change */
    assert_int_equal(GH_ERR_TRUNCATED, 500);
    assert_int_equal(GH_ERR_AUTH, 700);
    assert_int_equal(GH_ERR_INTERNAL, 7000);
}

static gh_err guarded(int step)
{
    GH_ENSURE(step != 1, GH_ERR_ARG);
    GH_GUARD(step == 2 ? GH_ERR_IO : GH_OK);
    if (step == 3) GH_BAIL(GH_ERR_TIMEOUT);
    return GH_OK;
}

static void test_guards(void **state)
{
    (void)state;
    assert_int_equal(guarded(0), GH_OK);
    assert_int_equal(guarded(1), GH_ERR_ARG);
    assert_int_equal(guarded(2), GH_ERR_IO);
    assert_int_equal(guarded(3), GH_ERR_TIMEOUT);
}

static void test_escape(void **state)
{
    (void)state;
    char out[64];
    assert_string_equal(gh_log_escape(out, sizeof out, "abc", 3, 0), "\"abc\"");
    assert_string_equal(gh_log_escape(out, sizeof out, "a\"b\\c\n\x01", 7, 0),
                        "\"a\\\"b\\\\c\\x0a\\x01\"");
    assert_string_equal(gh_log_escape(out, sizeof out, "abcdef", 6, 3), "\"abc\"...");
    /* output capacity bounds the excerpt and keeps it terminated */
    char small[10];
    gh_log_escape(small, sizeof small, "\xff\xff\xff\xff", 4, 0);
    assert_true(strlen(small) < sizeof small);
    assert_int_equal(small[0], '"');
    assert_non_null(strstr(small, "..."));
}

static void test_log_line(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    gh_log_set_fd(fds[1]);
    gh_log_set_level(GH_LOG_INFO);
    gh_log_debug("hidden", "x=%d", 1);
    gh_log_info("test.event", "device=%s n=%d", "\"th-01\"", 3);
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    gh_log_warn("test.long", "v=%s", big);
    gh_log_set_fd(2);
    close(fds[1]);
    char buf[8192];
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_null(strstr(buf, "hidden"));
    char *first = strstr(buf, "level=info event=test.event device=\"th-01\" n=3\n");
    assert_non_null(first);
    char *second = strstr(buf, "level=warn event=test.long v=xxx");
    assert_non_null(second);
    char *end = strchr(second, '\n');
    assert_non_null(end);
    assert_true(end - second < GH_LOG_LINE_MAX);
    assert_memory_equal(end - 3, "...", 3);
    assert_int_equal(gh_log_level_parse("warn"), GH_LOG_WARN);
    assert_int_equal(gh_log_level_parse("loud"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_table),
        cmocka_unit_test(test_guards),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_log_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
