/* Route evaluation: the worked examples of PROTOCOL.md 7.8 verbatim, the
 * undefined-value rules of 7.4, every operator, body queries (7.5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "route_fixture.h"

static void worked_examples(void **state)
{
    (void)state;
    struct gh_route_msg m;
    fx_msg_78(&m);
    EXPECT(&m, "processingPath = 'hot'", FX_T);
    EXPECT(&m, "PROCESSINGPATH = \"hot\"", FX_T);
    EXPECT(&m, "level > 5", FX_U);
    EXPECT(&m, "AS_NUMBER(level) > 5", FX_T);
    EXPECT(&m, "$contentEncoding = 'utf-8'", FX_T);
    EXPECT(&m, "$body.Weather.Temperature = 50 AND $body.Weather.IsEnabled", FX_T);
    EXPECT(&m, "$body.Weather.HistoricalData[0].Month = 'Feb'", FX_T);
    EXPECT(&m, "LENGTH($body.Weather.Location.State) = 2", FX_T);
    EXPECT(&m, "$body.Weather.Missing > 1", FX_U);
    EXPECT(&m, "IS_DEFINED($connectionModuleId)", FX_T);
    EXPECT(&m, "NOT IS_DEFINED($connectionModuleId) OR $connectionDeviceId = 'edge-gw-01'", FX_T);
    EXPECT(&m, "$body.Weather = 'x'", FX_U);
    EXPECT(&m, "undefined OR true", FX_T);
    EXPECT(&m, "undefined AND true", FX_U);
}

static void three_valued_logic(void **state)
{
    (void)state;
    struct gh_route_msg m;
    fx_msg_78(&m);
    /* The table of 7.4, both operand orders. */
    EXPECT(&m, "true AND true", FX_T);
    EXPECT(&m, "true OR true", FX_T);
    EXPECT(&m, "NOT true", FX_F);
    EXPECT(&m, "true AND false", FX_F);
    EXPECT(&m, "false AND true", FX_F);
    EXPECT(&m, "true OR false", FX_T);
    EXPECT(&m, "false OR true", FX_T);
    EXPECT(&m, "false AND false", FX_F);
    EXPECT(&m, "false OR false", FX_F);
    EXPECT(&m, "NOT false", FX_T);
    EXPECT(&m, "true AND undefined", FX_U);
    EXPECT(&m, "true OR undefined", FX_T);
    EXPECT(&m, "false AND undefined", FX_F);
    EXPECT(&m, "undefined AND false", FX_F);
    EXPECT(&m, "false OR undefined", FX_U);
    EXPECT(&m, "undefined OR false", FX_U);
    EXPECT(&m, "undefined AND undefined", FX_U);
    EXPECT(&m, "undefined OR undefined", FX_U);
    EXPECT(&m, "NOT undefined", FX_U);
    /* Non-boolean operands count as undefined. */
    EXPECT(&m, "1 AND true", FX_U);
    EXPECT(&m, "'x' OR false", FX_U);
    EXPECT(&m, "null OR true", FX_T);
    EXPECT(&m, "NOT 1", FX_U);
    EXPECT(&m, "NOT null", FX_U);
    EXPECT(&m, "NOT 'true'", FX_U);
    /* A missing property in a chain. */
    EXPECT(&m, "nosuch = 'x' OR processingPath = 'hot'", FX_T);
    EXPECT(&m, "nosuch = 'x' AND processingPath = 'hot'", FX_U);
    EXPECT(&m, "nosuch = 'x' AND processingPath = 'cold'", FX_F);
}

static void results_other_than_true_do_not_match(void **state)
{
    (void)state;
    struct gh_route_msg m;
    fx_msg_78(&m);
    assert_int_equal(fx_type(&m, "1"), GH_ROUTE_V_NUMBER);
    assert_int_equal(fx_type(&m, "'true'"), GH_ROUTE_V_STRING);
    assert_int_equal(fx_type(&m, "null"), GH_ROUTE_V_NULL);
    assert_int_equal(fx_type(&m, "undefined"), GH_ROUTE_V_UNDEFINED);
    assert_int_equal(fx_type(&m, "$body.Weather"), GH_ROUTE_V_OBJECT);
    assert_int_equal(fx_type(&m, "$body.Weather.HistoricalData"), GH_ROUTE_V_ARRAY);
    EXPECT(&m, "1", FX_U);
    EXPECT(&m, "'true'", FX_U);
    EXPECT(&m, "null", FX_U);
    EXPECT(&m, "processingPath", FX_U);
    EXPECT(&m, "true", FX_T);
    EXPECT(&m, "false", FX_F);
}

static void comparisons(void **state)
{
    (void)state;
    struct gh_route_msg m;
    fx_msg_78(&m);
    /* numbers */
    EXPECT(&m, "1 = 1", FX_T);
    EXPECT(&m, "1 = 1.0", FX_T);
    EXPECT(&m, "1 != 2", FX_T);
    EXPECT(&m, "1 <> 1", FX_F);
    EXPECT(&m, "1 < 2", FX_T);
    EXPECT(&m, "2 <= 2", FX_T);
    EXPECT(&m, "3 > 2", FX_T);
    EXPECT(&m, "2 >= 3", FX_F);
    EXPECT(&m, "0x1F = 31", FX_T);
    EXPECT(&m, "0XfF = 255", FX_T);
    EXPECT(&m, "1e3 = 1000", FX_T);
    EXPECT(&m, "2.5E-1 = .25", FX_T);
    EXPECT(&m, "5 > -5", FX_T);
    EXPECT(&m, "-5 < -4", FX_T);
    /* strings: ordinal, case-sensitive */
    EXPECT(&m, "'abc' = 'abc'", FX_T);
    EXPECT(&m, "'abc' = 'ABC'", FX_F);
    EXPECT(&m, "'B' < 'a'", FX_T);
    EXPECT(&m, "'abc' < 'abd'", FX_T);
    EXPECT(&m, "'ab' < 'abc'", FX_T);
    EXPECT(&m, "'b' >= 'abc'", FX_T);
    EXPECT(&m, "'a' != 'b'", FX_T);
    /* UTF-16 code-unit order: U+1F600 sorts after U+FF5E in UTF-8 byte
     * order, but in UTF-16 it starts with a high surrogate (0xD83D), which
     * sorts below U+FF5E. */
    EXPECT(&m, "'\\ud83d\\ude00' < '\\uff5e'", FX_T);
    EXPECT(&m, "'\\u00e9' > 'z'", FX_T);
    /* booleans: false < true */
    EXPECT(&m, "false < true", FX_T);
    EXPECT(&m, "true = true", FX_T);
    EXPECT(&m, "true > false", FX_T);
    EXPECT(&m, "true <= false", FX_F);
    /* mixed types -> undefined */
    EXPECT(&m, "'1' = 1", FX_U);
    EXPECT(&m, "true = 1", FX_U);
    EXPECT(&m, "'true' = true", FX_U);
    EXPECT(&m, "level = 7", FX_U);
    EXPECT(&m, "level = '7'", FX_T);
    /* null */
    EXPECT(&m, "null = null", FX_T);
    EXPECT(&m, "null != null", FX_F);
    EXPECT(&m, "null <> null", FX_F);
    EXPECT(&m, "null = 1", FX_U);
    EXPECT(&m, "'x' != null", FX_U);
    EXPECT(&m, "null < null", FX_U);
    /* undefined */
    EXPECT(&m, "undefined = undefined", FX_U);
    EXPECT(&m, "undefined != 1", FX_U);
    EXPECT(&m, "nosuch = nosuch", FX_U);
    EXPECT(&m, "1 < undefined", FX_U);
    /* objects and arrays compare as undefined */
    EXPECT(&m, "$body.Weather = $body.Weather", FX_U);
    EXPECT(&m, "$body.Weather.HistoricalData != 1", FX_U);
}

static void arithmetic(void **state)
{
    (void)state;
    struct gh_route_msg m;
    fx_msg_78(&m);
    EXPECT(&m, "1 + 2 = 3", FX_T);
    EXPECT(&m, "5 - 7 = -2", FX_T);
    EXPECT(&m, "5 -7 = -2", FX_T); /* "-7" after an operand is binary minus */
    EXPECT(&m, "2 * 3 = 6", FX_T);
    EXPECT(&m, "7 / 2 = 3.5", FX_T);
    EXPECT(&m, "7 % 4 = 3", FX_T);
    EXPECT(&m, "-7 % 4 = -3", FX_T);
    EXPECT(&m, "2 + 3 * 4 = 14", FX_T);
    EXPECT(&m, "(2 + 3) * 4 = 20", FX_T);
    EXPECT(&m, "10 - 4 - 3 = 3", FX_T);
    EXPECT(&m, "- 3 = -3", FX_T);
    EXPECT(&m, "- (1 + 2) = -3", FX_T);
    EXPECT(&m, "- - 3 = 3", FX_T);
    EXPECT(&m, "1 / 0 > 1e308", FX_T);
    EXPECT(&m, "$body.Weather.Temperature * 2 = 100", FX_T);
    /* null acts as 0 */
    EXPECT(&m, "null + 5 = 5", FX_T);
    EXPECT(&m, "5 - null = 5", FX_T);
    EXPECT(&m, "null * null = 0", FX_T);
    EXPECT(&m, "- null = 0", FX_T);
    /* strings, booleans, undefined, objects -> undefined */
    EXPECT(&m, "'a' + 'b' = 'ab'", FX_U);
    EXPECT(&m, "level + 1 = 8", FX_U);
    EXPECT(&m, "true + 1 = 2", FX_U);
    EXPECT(&m, "nosuch + 1 = 1", FX_U);
    EXPECT(&m, "undefined * 2 = 0", FX_U);
    EXPECT(&m, "- 'x' = 'x'", FX_U);
    EXPECT(&m, "- true = false", FX_U);
    EXPECT(&m, "$body.Weather + 1 = 1", FX_U);
    assert_int_equal(fx_type(&m, "nosuch / 2"), GH_ROUTE_V_UNDEFINED);
    assert_int_equal(fx_type(&m, "1 % 'x'"), GH_ROUTE_V_UNDEFINED);
    /* || concatenates strings only */
    EXPECT(&m, "'a' || 'b' = 'ab'", FX_T);
    EXPECT(&m, "processingPath || '-' || level = 'hot-7'", FX_T);
    EXPECT(&m, "'a' || 1 = 'a1'", FX_U);
    EXPECT(&m, "'a' || null = 'a'", FX_U);
    EXPECT(&m, "nosuch || 'a' = 'a'", FX_U);
}

static void coalesce(void **state)
{
    (void)state;
    struct gh_route_msg m;
    fx_msg_78(&m);
    EXPECT(&m, "(nosuch ?? 'dflt') = 'dflt'", FX_T);
    EXPECT(&m, "(processingPath ?? 'dflt') = 'hot'", FX_T);
    EXPECT(&m, "(null ?? 1) = 1", FX_U); /* null is defined: left wins */
    EXPECT(&m, "IS_NULL(null ?? 1)", FX_T);
    EXPECT(&m, "(undefined ?? undefined) = 1", FX_U);
    EXPECT(&m, "($body.Weather.Missing ?? $body.Weather.Temperature) = 50", FX_T);
    EXPECT(&m, "($body.Weather ?? 3) = 3", FX_T); /* objects count as undefined */
    /* ?? binds loosest: 'hot' ?? (1 = 1) is the string 'hot' */
    EXPECT(&m, "processingPath ?? 1 = 1", FX_U);
    EXPECT(&m, "nosuch ?? 1 = 1", FX_T);
    /* ?? binds loosest: (false OR x) ?? y */
    EXPECT(&m, "nosuch = 1 OR false ?? true", FX_T);
    EXPECT(&m, "false ?? true", FX_F);
}

static void precedence(void **state)
{
    (void)state;
    struct gh_route_msg m;
    fx_msg_78(&m);
    /* AND binds tighter than OR */
    EXPECT(&m, "true OR false AND false", FX_T);
    EXPECT(&m, "(true OR false) AND false", FX_F);
    /* NOT binds tighter than comparisons: (NOT true) = false */
    EXPECT(&m, "NOT true = false", FX_T);
    EXPECT(&m, "NOT (1 = 2)", FX_T);
    /* comparison above equality: (1 < 2) = true */
    EXPECT(&m, "1 < 2 = true", FX_T);
    /* additive above comparison */
    EXPECT(&m, "1 + 1 < 3", FX_T);
}

static void properties(void **state)
{
    (void)state;
    struct gh_route_msg m;
    struct gh_route_prop app[5] = {
        {fx_s("$contentType"), fx_s("shadow")}, /* app property literally named "$contentType" */
        {fx_s("temp-1"), fx_s("x")},
        {fx_s("flag"), {NULL, 0}}, /* bag item without '=' */
        {fx_s("Empty"), {(const uint8_t *)"", 0}},
        {fx_s("dup"), fx_s("first")},
    };
    fx_msg_78(&m);
    m.app = app;
    m.napp = 5;
    m.sys[GH_ROUTE_SYS_MESSAGE_ID] = fx_s("mid-1");
    m.sys[GH_ROUTE_SYS_ENQUEUED_TIME] = fx_s("2026-01-01T00:00:00Z");
    m.sys[GH_ROUTE_SYS_OUTPUT_NAME] = fx_s("out1");
    /* $name prefers an application property literally named $name ... */
    EXPECT(&m, "$contentType = 'shadow'", FX_T);
    /* ... {$name} forces the system property */
    EXPECT(&m, "{$contentType} = 'application/json'", FX_T);
    EXPECT(&m, "{ $CONTENTTYPE } = 'application/json'", FX_T);
    /* system property names ignore case; both enqueued-time names */
    EXPECT(&m, "$MESSAGEID = 'mid-1'", FX_T);
    EXPECT(&m, "$messageid = 'mid-1'", FX_T);
    EXPECT(&m, "$enqueuedTime = '2026-01-01T00:00:00Z'", FX_T);
    EXPECT(&m, "$iothub-enqueuedtime = '2026-01-01T00:00:00Z'", FX_T);
    EXPECT(&m, "$outputName = 'out1'", FX_T);
    EXPECT(&m, "IS_DEFINED($correlationId)", FX_F);
    EXPECT(&m, "IS_DEFINED($dt-subject)", FX_F);
    /* identifiers may contain '-' */
    EXPECT(&m, "temp-1 = 'x'", FX_T);
    EXPECT(&m, "TEMP-1 = 'x'", FX_T);
    /* a property without value is null */
    EXPECT(&m, "IS_DEFINED(flag)", FX_T);
    EXPECT(&m, "IS_NULL(flag)", FX_T);
    EXPECT(&m, "IS_STRING(flag)", FX_F);
    /* an empty value is an empty string */
    EXPECT(&m, "empty = ''", FX_T);
    EXPECT(&m, "LENGTH(empty) = 0", FX_T);
    EXPECT(&m, "dup = 'first'", FX_T);
    /* leaf device message: no module id */
    m.sys[GH_ROUTE_SYS_CONNECTION_MODULE_ID] = GH_SLICE_EMPTY;
    EXPECT(&m, "NOT IS_DEFINED($connectionModuleId)", FX_T);
    EXPECT(&m, "$connectionModuleId = 'filter'", FX_U);
}

static void body_queries(void **state)
{
    (void)state;
    struct gh_route_msg m;
    fx_msg_78(&m);
    /* member names are case-sensitive (JSON) */
    EXPECT(&m, "$body.weather.Temperature = 50", FX_U);
    /* $BODY is the same reference */
    EXPECT(&m, "$BODY.Weather.Temperature = 50", FX_T);
    EXPECT(&m, "{$body.Weather.Temperature} = 50", FX_T);
    EXPECT(&m, "$body.Weather.HistoricalData[1].Month = 'Feb'", FX_U);
    EXPECT(&m, "$body.Weather.HistoricalData[0] = 1", FX_U);
    EXPECT(&m, "IS_OBJECT($body.Weather.HistoricalData[0])", FX_T);
    EXPECT(&m, "IS_ARRAY($body.Weather.HistoricalData)", FX_T);
    EXPECT(&m, "IS_DEFINED($body.Weather)", FX_T);
    EXPECT(&m, "IS_PRIMITIVE($body.Weather)", FX_F);
    EXPECT(&m, "$body.Weather.Temperature.x = 1", FX_U);
    EXPECT(&m, "$body.Weather[0] = 1", FX_U);

    /* content type with parameters; encodings are case-insensitive */
    m.sys[GH_ROUTE_SYS_CONTENT_TYPE] = fx_s("Application/JSON; charset=utf-8");
    m.sys[GH_ROUTE_SYS_CONTENT_ENCODING] = fx_s("UTF-16");
    EXPECT(&m, "$body.Weather.Temperature = 50", FX_T);
    m.sys[GH_ROUTE_SYS_CONTENT_ENCODING] = fx_s("utf-32");
    EXPECT(&m, "$body.Weather.Temperature = 50", FX_T);
    /* wrong type / encoding / missing either -> undefined */
    m.sys[GH_ROUTE_SYS_CONTENT_ENCODING] = fx_s("latin1");
    EXPECT(&m, "$body.Weather.Temperature = 50", FX_U);
    m.sys[GH_ROUTE_SYS_CONTENT_ENCODING] = GH_SLICE_EMPTY;
    EXPECT(&m, "$body.Weather.Temperature = 50", FX_U);
    m.sys[GH_ROUTE_SYS_CONTENT_ENCODING] = fx_s("utf-8");
    m.sys[GH_ROUTE_SYS_CONTENT_TYPE] = fx_s("text/plain");
    EXPECT(&m, "$body.Weather.Temperature = 50", FX_U);
    m.sys[GH_ROUTE_SYS_CONTENT_TYPE] = fx_s("application/jsonx");
    EXPECT(&m, "$body.Weather.Temperature = 50", FX_U);
    m.sys[GH_ROUTE_SYS_CONTENT_TYPE] = GH_SLICE_EMPTY;
    EXPECT(&m, "$body.Weather.Temperature = 50", FX_U);
    m.sys[GH_ROUTE_SYS_CONTENT_TYPE] = fx_s("application/json");
    /* invalid JSON anywhere makes every body reference undefined */
    m.body = fx_s("{\"Weather\":{\"Temperature\":50},}");
    EXPECT(&m, "$body.Weather.Temperature = 50", FX_U);
    EXPECT(&m, "IS_DEFINED($body.Weather.Temperature)", FX_F);
    m.body = fx_s("{\"a\":1} x");
    EXPECT(&m, "$body.a = 1", FX_U);
    m.body = GH_SLICE_EMPTY;
    EXPECT(&m, "$body.a = 1", FX_U);
    /* BOM, whitespace, escapes, duplicates (last wins), every JSON type */
    m.body = fx_s("\xEF\xBB\xBF { \"s\" : \"a\\\"b\\u00e9\\n\" , \"k\\u0065y\": true, "
                  "\"d\": 1, \"d\": 2, \"n\": null, \"f\": -1.5e2, \"z\": false, "
                  "\"arr\": [ [1, 2], {\"x\": [10, 20, 30]} ], \"\": 7 } ");
    EXPECT(&m, "$body.s = 'a\"b\\u00e9\n'", FX_T); /* a raw newline inside a route string */
    EXPECT(&m, "LENGTH($body.s) = 5", FX_T);
    EXPECT(&m, "STARTS_WITH($body.s, 'a\"b\\u00e9')", FX_T);
    EXPECT(&m, "$body.key", FX_T);
    EXPECT(&m, "$body.d = 2", FX_T);
    EXPECT(&m, "IS_NULL($body.n)", FX_T);
    EXPECT(&m, "IS_DEFINED($body.n)", FX_T);
    EXPECT(&m, "$body.f = -150", FX_T);
    EXPECT(&m, "$body.z = false", FX_T);
    EXPECT(&m, "$body.arr[0][1] = 2", FX_T);
    EXPECT(&m, "$body.arr[1].x[2] = 30", FX_T);
    EXPECT(&m, "$body.arr[1].x[3] = 30", FX_U);
    EXPECT(&m, "$body.missing", FX_U);
    /* a top-level scalar has no members */
    m.body = fx_s("42");
    EXPECT(&m, "$body.a = 42", FX_U);
    /* lone surrogate escapes decode to U+FFFD */
    m.body = fx_s("{\"s\":\"\\ud800x\"}");
    EXPECT(&m, "$body.s = '\\ufffdx'", FX_T);
    /* too deep to follow -> undefined */
    char deep[2 * GH_ROUTE_JSON_DEPTH_MAX + 16];
    size_t o = 0;
    for (size_t i = 0; i <= GH_ROUTE_JSON_DEPTH_MAX; i++) deep[o++] = '[';
    for (size_t i = 0; i <= GH_ROUTE_JSON_DEPTH_MAX; i++) deep[o++] = ']';
    m.body = (struct gh_slice){(const uint8_t *)deep, o};
    EXPECT(&m, "IS_ARRAY($body[0])", FX_U);
    m.body = (struct gh_slice){(const uint8_t *)deep + 1, o - 2};
    EXPECT(&m, "IS_ARRAY($body[0])", FX_T);
}

static void source_filtering(void **state)
{
    (void)state;
    struct gh_route_msg m;
    struct gh_route *r;
    fx_msg_78(&m);
    assert_int_equal(gh_route_parse("FROM /messages/modules/other/* INTO $upstream",
                                    strlen("FROM /messages/modules/other/* INTO $upstream"), &r,
                                    NULL),
                     GH_OK);
    assert_false(gh_route_eval(r, &m));
    gh_route_free(r);
    const char *t = "FROM /messages/modules/FILTER/* WHERE processingPath = 'hot' INTO $upstream";
    assert_int_equal(gh_route_parse(t, strlen(t), &r, NULL), GH_OK);
    assert_true(gh_route_eval(r, &m));
    gh_route_free(r);
    t = "FROM /messages/* INTO $upstream";
    assert_int_equal(gh_route_parse(t, strlen(t), &r, NULL), GH_OK);
    assert_false(gh_route_has_condition(r));
    assert_true(gh_route_eval(r, &m));
    m.source = fx_s("/twinChangeNotifications/");
    assert_false(gh_route_eval(r, &m));
    m.source = GH_SLICE_EMPTY;
    assert_false(gh_route_eval(r, &m));
    gh_route_free(r);
}

static void scratch_exhaustion(void **state)
{
    (void)state;
    struct gh_route_msg m;
    char big[3000];
    struct gh_route_prop app[1];
    memset(big, 'a', sizeof big);
    fx_msg_78(&m);
    app[0] = (struct gh_route_prop){fx_s("big"), {(const uint8_t *)big, sizeof big}};
    m.app = app;
    m.napp = 1;
    EXPECT(&m, "LENGTH(big || big) = 6000", FX_U); /* over GH_ROUTE_EVAL_SCRATCH */
    EXPECT(&m, "LENGTH(big || 'b') = 3001", FX_T);
    EXPECT(&m, "LENGTH(UPPER(big)) = 3000", FX_T);
    EXPECT(&m, "LENGTH(UPPER(big) || LOWER(big)) = 6000", FX_U);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(worked_examples),
        cmocka_unit_test(three_valued_logic),
        cmocka_unit_test(results_other_than_true_do_not_match),
        cmocka_unit_test(comparisons),
        cmocka_unit_test(arithmetic),
        cmocka_unit_test(coalesce),
        cmocka_unit_test(precedence),
        cmocka_unit_test(properties),
        cmocka_unit_test(body_queries),
        cmocka_unit_test(source_filtering),
        cmocka_unit_test(scratch_exhaustion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
