/* Pure helpers of the management CLI: numbers, durations, times, C2D
 * properties, request targets, JSON arguments, file reads, device ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mgmt/mgmt_int.h"

static void test_uint_parse(void **state)
{
    (void)state;
    uint64_t v = 7;
    assert_int_equal(gh_mgmt_uint_parse("0", 0, 10, &v), GH_OK);
    assert_int_equal(v, 0);
    assert_int_equal(gh_mgmt_uint_parse("65535", 1, 65535, &v), GH_OK);
    assert_int_equal(v, 65535);
    assert_int_equal(gh_mgmt_uint_parse("18446744073709551615", 0, UINT64_MAX, &v), GH_OK);
    assert_true(v == UINT64_MAX);
    v = 7;
    assert_int_equal(gh_mgmt_uint_parse("18446744073709551616", 0, UINT64_MAX, &v), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_uint_parse("65536", 1, 65535, &v), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_uint_parse("0", 1, 65535, &v), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_uint_parse("", 0, 10, &v), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_uint_parse(NULL, 0, 10, &v), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_uint_parse("-1", 0, 10, &v), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_uint_parse("+1", 0, 10, &v), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_uint_parse("1 ", 0, 10, &v), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_uint_parse("0x1", 0, 10, &v), GH_ERR_ARG);
    assert_int_equal(v, 7); /* untouched on error */
}

static void test_duration(void **state)
{
    (void)state;
    int64_t s = 0;
    assert_int_equal(gh_mgmt_duration_parse("90", &s), GH_OK);
    assert_int_equal(s, 90);
    assert_int_equal(gh_mgmt_duration_parse("30s", &s), GH_OK);
    assert_int_equal(s, 30);
    assert_int_equal(gh_mgmt_duration_parse("10m", &s), GH_OK);
    assert_int_equal(s, 600);
    assert_int_equal(gh_mgmt_duration_parse("2h", &s), GH_OK);
    assert_int_equal(s, 7200);
    assert_int_equal(gh_mgmt_duration_parse("1d", &s), GH_OK);
    assert_int_equal(s, 86400);
    assert_int_equal(gh_mgmt_duration_parse("1h30m", &s), GH_OK);
    assert_int_equal(s, 5400);
    assert_int_equal(gh_mgmt_duration_parse("3660d", &s), GH_OK);
    assert_int_equal(s, 3660LL * 86400);
    s = 1;
    assert_int_equal(gh_mgmt_duration_parse("3661d", &s), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_duration_parse("99999999999999999999s", &s), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_duration_parse("0", &s), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_duration_parse("0s", &s), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_duration_parse("", &s), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_duration_parse("m", &s), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_duration_parse("10x", &s), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_duration_parse("10m5", &s), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_duration_parse("-5m", &s), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_duration_parse("5 m", &s), GH_ERR_ARG);
    assert_int_equal(s, 1);
}

static void test_time(void **state)
{
    (void)state;
    int64_t ms = 0;
    char t[GH_MGMT_TIME_MAX];
    assert_int_equal(gh_mgmt_time_parse("2026-01-01T00:00:00Z", &ms), GH_OK);
    assert_int_equal(ms, 1767225600000LL); /* PROTOCOL.md 2.5 expiry */
    gh_mgmt_time_format(ms, t);
    assert_string_equal(t, "2026-01-01T00:00:00.000Z");
    assert_int_equal(gh_mgmt_time_parse("2026-01-01T01:30:00.25+01:30", &ms), GH_OK);
    assert_int_equal(ms, 1767225600250LL);
    assert_int_equal(gh_mgmt_time_parse("2026-01-01t00:00:00.123456789z", &ms), GH_OK);
    assert_int_equal(ms, 1767225600123LL);
    assert_int_equal(gh_mgmt_time_parse("2024-02-29T23:59:59-00:00", &ms), GH_OK);
    gh_mgmt_time_format(ms, t);
    assert_string_equal(t, "2024-02-29T23:59:59.000Z");
    assert_int_equal(gh_mgmt_time_parse("1970-01-01T00:00:00Z", &ms), GH_OK);
    assert_int_equal(ms, 0);
    gh_mgmt_time_format(0, t);
    assert_string_equal(t, "1970-01-01T00:00:00.000Z");
    gh_mgmt_time_format(-5, t);
    assert_string_equal(t, "1970-01-01T00:00:00.000Z");
    gh_mgmt_time_format(951782400000LL + 86399999, t); /* 2000-02-29 (a leap day) */
    assert_string_equal(t, "2000-02-29T23:59:59.999Z");
    ms = 42;
    assert_int_equal(gh_mgmt_time_parse("2026-01-01T00:00:00", &ms), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_time_parse("2023-02-29T00:00:00Z", &ms), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_time_parse("2026-13-01T00:00:00Z", &ms), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_time_parse("2026-01-01T24:00:00Z", &ms), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_time_parse("2026-01-01T00:00:00.Z", &ms), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_time_parse("2026-01-01T00:00:00.1234567890Z", &ms), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_time_parse("2026-01-01T00:00:00Zx", &ms), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_time_parse("2026-01-01T00:00:00+24:00", &ms), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_time_parse("1969-12-31T23:59:59Z", &ms), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_time_parse("1970-01-01T00:00:00+00:01", &ms), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_time_parse("", &ms), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_time_parse(NULL, &ms), GH_ERR_ARG);
    assert_int_equal(ms, 42);
    assert_int_equal(gh_mgmt_time_parse("2026-01-01 00:00:00Z", &ms), GH_OK); /* RFC 3339 5.6 */
}

static void test_since(void **state)
{
    (void)state;
    int64_t ms = 0, now = 1767225600000LL;
    assert_int_equal(gh_mgmt_since_parse("10m", now, &ms), GH_OK);
    assert_int_equal(ms, now - 600000);
    assert_int_equal(gh_mgmt_since_parse("2025-12-31T23:00:00Z", now, &ms), GH_OK);
    assert_int_equal(ms, now - 3600000);
    assert_int_equal(gh_mgmt_since_parse("1d", 1000, &ms), GH_OK);
    assert_int_equal(ms, 0); /* clamped at the epoch */
    assert_int_equal(gh_mgmt_since_parse("yesterday", now, &ms), GH_ERR_ARG);
}

static void test_prop(void **state)
{
    (void)state;
    struct gh_slice n, v;
    char msg[256] = "";
    assert_int_equal(gh_mgmt_prop_parse("level=high=1", &n, &v, msg, sizeof msg), GH_OK);
    assert_true(gh_slice_eq_cstr(n, "level"));
    assert_true(gh_slice_eq_cstr(v, "high=1"));
    assert_int_equal(gh_mgmt_prop_parse("x=", &n, &v, msg, sizeof msg), GH_OK);
    assert_true(gh_slice_eq_cstr(n, "x"));
    assert_int_equal(v.len, 0);
    assert_int_equal(gh_mgmt_prop_parse("t=temp\xc3\xa9rature a b", &n, &v, msg, sizeof msg),
                     GH_OK);
    assert_true(gh_slice_eq_cstr(v, "temp\xc3\xa9rature a b"));
    assert_int_equal(gh_mgmt_prop_parse("a.b-c_d~!#$%&'*+^`|=1", &n, &v, msg, sizeof msg), GH_OK);
    assert_int_equal(gh_mgmt_prop_parse("novalue", &n, &v, msg, sizeof msg), GH_ERR_ARG);
    assert_non_null(strstr(msg, "NAME=VALUE"));
    assert_int_equal(gh_mgmt_prop_parse("=v", &n, &v, msg, sizeof msg), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_prop_parse("a b=v", &n, &v, msg, sizeof msg), GH_ERR_ARG);
    assert_non_null(strstr(msg, "HTTP header name"));
    assert_int_equal(gh_mgmt_prop_parse("a:b=v", &n, &v, msg, sizeof msg), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_prop_parse("a=line\nbreak", &n, &v, msg, sizeof msg), GH_ERR_ARG);
    assert_non_null(strstr(msg, "control character"));
    assert_int_equal(gh_mgmt_prop_parse("a=\x7f", &n, &v, msg, sizeof msg), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_prop_parse("a= lead", &n, &v, msg, sizeof msg), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_prop_parse("a=trail ", &n, &v, msg, sizeof msg), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_prop_parse("a=\xc3(", &n, &v, msg, sizeof msg), GH_ERR_ARG);
    assert_non_null(strstr(msg, "UTF-8"));
    char big[GH_MGMT_PROP_TEXT_MAX + 8];
    memset(big, 'v', sizeof big);
    big[0] = 'k';
    big[1] = '=';
    big[2 + GH_MGMT_PROP_TEXT_MAX] = '\0'; /* value of exactly the maximum */
    assert_int_equal(gh_mgmt_prop_parse(big, &n, &v, msg, sizeof msg), GH_OK);
    big[2 + GH_MGMT_PROP_TEXT_MAX] = 'v';
    big[3 + GH_MGMT_PROP_TEXT_MAX] = '\0';
    assert_int_equal(gh_mgmt_prop_parse(big, &n, &v, msg, sizeof msg), GH_ERR_ARG);
}

static void test_target(void **state)
{
    (void)state;
    char out[256];
    const char *segs[] = {"devices", "d#1?%/ $'"};
    const struct gh_mgmt_query q[] = {
        {"top", "10"}, {"skip", NULL}, {"since", "2026-01-01T00:00:00+01:00"}};
    assert_int_equal(gh_mgmt_target(out, sizeof out, segs, 2, q, 3), GH_OK);
    assert_string_equal(
        out, "/devices/d%231%3F%25%2F%20%24%27?top=10&since=2026-01-01T00%3A00%3A00%2B01%3A00");
    assert_int_equal(gh_mgmt_target(out, sizeof out, segs, 1, NULL, 0), GH_OK);
    assert_string_equal(out, "/devices");
    assert_int_equal(gh_mgmt_target(out, sizeof out, segs, 0, NULL, 0), GH_ERR_ARG);
    const char *empty[] = {"devices", ""};
    assert_int_equal(gh_mgmt_target(out, sizeof out, empty, 2, NULL, 0), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_target(out, 9, segs, 1, NULL, 0), GH_OK); /* "/devices" + NUL */
    assert_int_equal(gh_mgmt_target(out, 8, segs, 1, NULL, 0), GH_ERR_NOBUFS);
    assert_int_equal(gh_mgmt_target(out, 12, segs, 1, q, 1), GH_ERR_NOBUFS);
}

static char *temp_file(const char *content, size_t len)
{
    char *path = strdup("/tmp/gh-mgmt-test.XXXXXX");
    assert_non_null(path);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    close(fd);
    return path;
}

static void test_json_arg(void **state)
{
    (void)state;
    json_t *j = NULL;
    char msg[256] = "";
    assert_int_equal(gh_mgmt_json_arg("--desired", "{\"t\":21}", true, &j, msg, sizeof msg), GH_OK);
    assert_int_equal(json_integer_value(json_object_get(j, "t")), 21);
    json_decref(j);
    assert_int_equal(gh_mgmt_json_arg("--payload", "\"hi\"", false, &j, msg, sizeof msg), GH_OK);
    assert_string_equal(json_string_value(j), "hi");
    json_decref(j);
    assert_int_equal(gh_mgmt_json_arg("--payload", "hi", false, &j, msg, sizeof msg), GH_ERR_ARG);
    assert_non_null(strstr(msg, "--payload is not valid JSON"));
    assert_int_equal(gh_mgmt_json_arg("--tags", "[1]", true, &j, msg, sizeof msg), GH_ERR_ARG);
    assert_non_null(strstr(msg, "must be a JSON object"));
    assert_int_equal(gh_mgmt_json_arg("--tags", "{\"a\":1,\"a\":2}", true, &j, msg, sizeof msg),
                     GH_ERR_ARG);
    char *path = temp_file("{\"from\":\"file\"}\n", 16);
    char arg[64];
    snprintf(arg, sizeof arg, "@%s", path);
    assert_int_equal(gh_mgmt_json_arg("--patch", arg, true, &j, msg, sizeof msg), GH_OK);
    assert_string_equal(json_string_value(json_object_get(j, "from")), "file");
    json_decref(j);
    unlink(path);
    assert_int_equal(gh_mgmt_json_arg("--patch", arg, true, &j, msg, sizeof msg), GH_ERR_NOENT);
    assert_non_null(strstr(msg, "--patch: cannot open"));
    free(path);
    char *big = malloc(GH_MGMT_ARG_JSON_MAX + 2);
    assert_non_null(big);
    memset(big, ' ', GH_MGMT_ARG_JSON_MAX + 1);
    big[GH_MGMT_ARG_JSON_MAX + 1] = '\0';
    assert_int_equal(gh_mgmt_json_arg("--desired", big, true, &j, msg, sizeof msg), GH_ERR_ARG);
    assert_non_null(strstr(msg, "longer than"));
    free(big);
}

static void test_file_read(void **state)
{
    (void)state;
    uint8_t *data = NULL;
    size_t len = 0;
    char msg[256] = "";
    char *path = temp_file("abcd", 4);
    assert_int_equal(gh_mgmt_file_read(path, 4, &data, &len, msg, sizeof msg), GH_OK);
    assert_int_equal(len, 4);
    assert_string_equal((char *)data, "abcd");
    free(data);
    assert_int_equal(gh_mgmt_file_read(path, 3, &data, &len, msg, sizeof msg), GH_ERR_TOO_LARGE);
    assert_non_null(strstr(msg, "larger than 3 bytes"));
    unlink(path);
    assert_int_equal(gh_mgmt_file_read(path, 3, &data, &len, msg, sizeof msg), GH_ERR_NOENT);
    free(path);
    assert_int_equal(gh_mgmt_file_read("/tmp", 3, &data, &len, msg, sizeof msg), GH_ERR_IO);
    assert_non_null(strstr(msg, "not a regular file"));
}

static void test_device_id(void **state)
{
    (void)state;
    char msg[256] = "";
    assert_int_equal(
        gh_mgmt_check_device_id("th-01.a+b%c_d#e*f?g!h(i)j,k=l@m$n'o", msg, sizeof msg), GH_OK);
    assert_int_equal(gh_mgmt_check_device_id("", msg, sizeof msg), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_check_device_id("a/b", msg, sizeof msg), GH_ERR_ARG);
    assert_non_null(strstr(msg, "not a valid device id"));
    char longid[130];
    memset(longid, 'a', 129);
    longid[129] = '\0';
    assert_int_equal(gh_mgmt_check_device_id(longid, msg, sizeof msg), GH_ERR_ARG);
    longid[128] = '\0';
    assert_int_equal(gh_mgmt_check_device_id(longid, msg, sizeof msg), GH_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uint_parse), cmocka_unit_test(test_duration),
        cmocka_unit_test(test_time),       cmocka_unit_test(test_since),
        cmocka_unit_test(test_prop),       cmocka_unit_test(test_target),
        cmocka_unit_test(test_json_arg),   cmocka_unit_test(test_file_read),
        cmocka_unit_test(test_device_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
