#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/timefmt.h"

static void test_format(void **state)
{
    (void)state;
    char t[GH_TIME_TEXT_LEN];
    gh_time_format(1767225600000LL, t);
    assert_string_equal(t, "2026-01-01T00:00:00.000Z");
    gh_time_format(951782400000LL + 86399999, t); /* 2000-02-29, a leap day */
    assert_string_equal(t, "2000-02-29T23:59:59.999Z");
    gh_time_format(-5, t);
    assert_string_equal(t, "1970-01-01T00:00:00.000Z");
    gh_time_format(INT64_MAX, t);
    assert_string_equal(t, "9999-12-31T23:59:59.999Z");
}

static void test_parse(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_int_equal(gh_time_parse("2026-01-01T00:00:00Z", &ms), GH_OK);
    assert_int_equal(ms, 1767225600000LL);
    assert_int_equal(gh_time_parse("2026-01-01T01:30:00.25+01:30", &ms), GH_OK);
    assert_int_equal(ms, 1767225600250LL);
    assert_int_equal(gh_time_parse("2026-01-01t00:00:00.1234567z", &ms), GH_OK);
    assert_int_equal(ms, 1767225600123LL);
    assert_int_equal(gh_time_parse("2025-12-31 23:00:00-01:00", &ms), GH_OK);
    assert_int_equal(ms, 1767225600000LL);
    /* round trip over the whole range of days */
    char t[GH_TIME_TEXT_LEN];
    for (int64_t d = 0; d < 2932897; d += 997) {
        int64_t in = d * 86400000 + 12345;
        gh_time_format(in, t);
        assert_int_equal(gh_time_parse(t, &ms), GH_OK);
        assert_int_equal(ms, in);
    }
    const char *bad[] = {NULL,
                         "",
                         "2026-01-01T00:00:00",
                         "2023-02-29T00:00:00Z",
                         "2026-13-01T00:00:00Z",
                         "2026-01-01T24:00:00Z",
                         "1969-12-31T23:59:59Z",
                         "2026-01-01T00:00:00.Z",
                         "2026-01-01T00:00:00.1234567890Z",
                         "2026-01-01T00:00:00+24:00",
                         "2026-01-01T00:00:00Zx",
                         "26-01-01T00:00:00Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ms = 42;
        assert_int_equal(gh_time_parse(bad[i], &ms), GH_ERR_MALFORMED);
        assert_int_equal(ms, 42);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_format), cmocka_unit_test(test_parse)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
