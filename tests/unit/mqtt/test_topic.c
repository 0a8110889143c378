/* Topic name and filter validation, and matching (MQTT 3.1.1 4.7). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mqtt/mqtt.h"
#include "mqtt/topic.h"

#define SL(lit) ((struct gh_slice){(const uint8_t *)(lit), sizeof(lit) - 1})

struct check_case {
    struct gh_slice s;
    gh_err name_err;
    gh_err filter_err;
};

static const struct check_case checks[] = {
    {SL("a"), GH_OK, GH_OK},
    {SL("/"), GH_OK, GH_OK},
    {SL("a/b/c"), GH_OK, GH_OK},
    {SL("//"), GH_OK, GH_OK},
    {SL("$iothub/twin/GET/?$rid=1"), GH_OK, GH_OK},
    {SL("devices/d/messages/events/a=b&c=d"), GH_OK, GH_OK},
    {SL("\xe2\x82\xac/x"), GH_OK, GH_OK},
    {SL(" "), GH_OK, GH_OK},
    {SL(""), GH_ERR_BAD_TOPIC, GH_ERR_BAD_TOPIC},
    {SL("#"), GH_ERR_BAD_TOPIC, GH_OK},
    {SL("+"), GH_ERR_BAD_TOPIC, GH_OK},
    {SL("a/#"), GH_ERR_BAD_TOPIC, GH_OK},
    {SL("+/+"), GH_ERR_BAD_TOPIC, GH_OK},
    {SL("/+"), GH_ERR_BAD_TOPIC, GH_OK},
    {SL("+/"), GH_ERR_BAD_TOPIC, GH_OK},
    {SL("a/+/b/#"), GH_ERR_BAD_TOPIC, GH_OK},
    {SL("/#"), GH_ERR_BAD_TOPIC, GH_OK},
    {SL("a#"), GH_ERR_BAD_TOPIC, GH_ERR_BAD_TOPIC},
    {SL("a/#/b"), GH_ERR_BAD_TOPIC, GH_ERR_BAD_TOPIC},
    {SL("#/"), GH_ERR_BAD_TOPIC, GH_ERR_BAD_TOPIC},
    {SL("##"), GH_ERR_BAD_TOPIC, GH_ERR_BAD_TOPIC},
    {SL("a+"), GH_ERR_BAD_TOPIC, GH_ERR_BAD_TOPIC},
    {SL("+a"), GH_ERR_BAD_TOPIC, GH_ERR_BAD_TOPIC},
    {SL("a/b+/c"), GH_ERR_BAD_TOPIC, GH_ERR_BAD_TOPIC},
    {SL("++"), GH_ERR_BAD_TOPIC, GH_ERR_BAD_TOPIC},
    {SL("+#"), GH_ERR_BAD_TOPIC, GH_ERR_BAD_TOPIC},
    {SL("a\0b"), GH_ERR_BAD_UTF8, GH_ERR_BAD_UTF8},
    {SL("\xff"), GH_ERR_BAD_UTF8, GH_ERR_BAD_UTF8},
    {SL("\xc0\x80"), GH_ERR_BAD_UTF8, GH_ERR_BAD_UTF8},     /* overlong NUL */
    {SL("\xed\xa0\x80"), GH_ERR_BAD_UTF8, GH_ERR_BAD_UTF8}, /* surrogate */
    {SL("a/\xe2\x82"), GH_ERR_BAD_UTF8, GH_ERR_BAD_UTF8},   /* cut sequence */
    {SL("#\xff"), GH_ERR_BAD_UTF8, GH_ERR_BAD_UTF8},        /* UTF-8 before wildcards */
};

static void test_checks(void **state)
{
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        const struct check_case *c = &checks[i];
        gh_err n = gh_mqtt_topic_name_check(c->s, 65535);
        gh_err f = gh_mqtt_topic_filter_check(c->s, 65535);
        if (n != c->name_err || f != c->filter_err)
            fail_msg("case %zu: name %s (want %s), filter %s (want %s)", i, gh_err_name(n),
                     gh_err_name(c->name_err), gh_err_name(f), gh_err_name(c->filter_err));
    }
}

static void test_length_limits(void **state)
{
    assert_int_equal(gh_mqtt_topic_name_check(SL("abc"), 3), GH_OK);
    assert_int_equal(gh_mqtt_topic_name_check(SL("abcd"), 3), GH_ERR_TOO_LARGE);
    assert_int_equal(gh_mqtt_topic_filter_check(SL("a/#"), 3), GH_OK);
    assert_int_equal(gh_mqtt_topic_filter_check(SL("a/+/"), 3), GH_ERR_TOO_LARGE);
    /* Length is checked before content. */
    assert_int_equal(gh_mqtt_topic_name_check(SL("\xff\xff"), 1), GH_ERR_TOO_LARGE);

    /* 65535 is the wire maximum whatever max_len says. */
    char *big = malloc(65536);
    assert_non_null(big);
    memset(big, 'a', 65536);
    struct gh_slice s = {(const uint8_t *)big, 65535};
    assert_int_equal(gh_mqtt_topic_name_check(s, SIZE_MAX), GH_OK);
    assert_int_equal(gh_mqtt_topic_filter_check(s, SIZE_MAX), GH_OK);
    s.len = 65536;
    assert_int_equal(gh_mqtt_topic_name_check(s, SIZE_MAX), GH_ERR_TOO_LARGE);
    assert_int_equal(gh_mqtt_topic_filter_check(s, SIZE_MAX), GH_ERR_TOO_LARGE);
    free(big);
}

struct match_case {
    const char *filter;
    const char *name;
    bool match;
};

static const struct match_case matches[] = {
    /* exact */
    {"a/b", "a/b", true},
    {"a/b", "a/c", false},
    {"a/b", "a/bc", false},
    {"a/bc", "a/b", false},
    {"a/b", "a/b/", false},
    {"a/b/", "a/b", false},
    {"a", "A", false},
    {"/", "/", true},
    /* '#' (4.7.1.2) */
    {"#", "a", true},
    {"#", "a/b/c", true},
    {"#", "/", true},
    {"#", "/a", true},
    {"sport/tennis/player1/#", "sport/tennis/player1", true},
    {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
    {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
    {"sport/tennis/player1/#", "sport/tennis/player2", false},
    {"sport/#", "sport", true},
    {"sport/#", "sport/", true},
    {"sport/#", "sports", false},
    {"a/b/#", "a", false},
    {"/#", "/", true},
    {"/#", "a", false},
    {"devices/dev1/messages/devicebound/#", "devices/dev1/messages/devicebound/%24.to=x", true},
    {"devices/dev1/messages/devicebound/#", "devices/dev2/messages/devicebound/x", false},
    /* '+' (4.7.1.3) */
    {"sport/tennis/+", "sport/tennis/player1", true},
    {"sport/tennis/+", "sport/tennis/player2", true},
    {"sport/tennis/+", "sport/tennis/player1/ranking", false},
    {"sport/+", "sport", false},
    {"sport/+", "sport/", true},
    {"+", "a", true},
    {"+", "/a", false},
    {"+/+", "/finance", true},
    {"/+", "/finance", true},
    {"+", "/finance", false},
    {"+/#", "a", true},
    {"+/#", "a/b/c", true},
    {"a/+/c", "a/b/c", true},
    {"a/+/c", "a//c", true},
    {"a/+/c", "a/b/d", false},
    {"+/+/+", "a/b", false},
    {"devices/+/messages/devicebound/#", "devices/dev1/messages/devicebound/", true},
    /* '$' topics (4.7.2) */
    {"#", "$SYS/x", false},
    {"+/monitor/Clients", "$SYS/monitor/Clients", false},
    {"$SYS/#", "$SYS/monitor/Clients", true},
    {"$SYS/monitor/+", "$SYS/monitor/Clients", true},
    {"#", "$iothub/twin/res/200/?$rid=1", false},
    {"$iothub/twin/res/#", "$iothub/twin/res/200/?$rid=1", true},
    {"$iothub/methods/POST/#", "$iothub/methods/POST/reboot/?$rid=7", true},
    {"$iothub/methods/POST/#", "$iothub/methods/res/200/?$rid=7", false},
    {"a/#", "a/$b", true},
    {"+/b", "$a/b", false},
    /* empty / invalid inputs are memory-safe */
    {"", "a", false},
    {"a", "", false},
    {"", "", false},
    {"a#", "a#", true},
    {"a/b#", "a/b", false},
};

static void test_match(void **state)
{
    for (size_t i = 0; i < sizeof matches / sizeof matches[0]; i++) {
        const struct match_case *m = &matches[i];
        bool got = gh_mqtt_topic_match(gh_slice_cstr(m->filter), gh_slice_cstr(m->name));
        if (got != m->match)
            fail_msg("filter '%s' name '%s': got %d, want %d", m->filter, m->name, got, m->match);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checks),
        cmocka_unit_test(test_length_limits),
        cmocka_unit_test(test_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
