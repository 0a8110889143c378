/* Route tables: priorities, TTL resolution, per-sink deduplication, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "route_fixture.h"

#define SPEC(name, text, prio, ttl)                                                                \
    {                                                                                              \
        name, text, sizeof(text) - 1, prio, ttl                                                    \
    }

static void dedup_per_sink(void **state)
{
    (void)state;
    const struct gh_route_spec specs[] = {
        SPEC("all", "FROM /messages/* INTO $upstream", GH_ROUTE_PRIORITY_DEFAULT, 0),
        SPEC("hot", "FROM /* WHERE processingPath = 'hot' INTO $UPSTREAM", 3, 60),
        SPEC("alerts",
             "FROM /* WHERE $body.Weather.Temperature > 40 INTO LocalTopic('site/alerts')", 1, -5),
        SPEC("cold", "FROM /* WHERE processingPath = 'cold' INTO $upstream", 0, 0),
        SPEC("hot2", "FROM /* WHERE level = '7' INTO $upstream", 3, 9000),
        SPEC("file", "FROM /twinChangeNotifications/* INTO AppendFile('twin.jsonl')", 5, 0),
        SPEC("alerts2", "FROM /messages/modules/* INTO localtopic(\"site/alerts\")", 2, 30),
    };
    struct gh_route_table *t = NULL;
    struct gh_route_error err;
    assert_int_equal(gh_route_table_new(specs, 7, 7200, &t, &err), GH_OK);
    assert_int_equal(gh_route_table_count(t), 7);
    assert_string_equal(gh_route_table_name(t, 2), "alerts");
    assert_int_equal(gh_route_table_priority(t, 0), GH_ROUTE_PRIORITY_DEFAULT);
    assert_int_equal(gh_route_table_ttl(t, 0), 7200);                 /* 0 = table default */
    assert_int_equal(gh_route_table_ttl(t, 2), GH_ROUTE_TTL_FOREVER); /* negative = forever */
    assert_null(gh_route_table_name(t, 7));
    assert_null(gh_route_table_route(t, 7));
    assert_non_null(gh_route_table_route(t, 6));

    struct gh_route_msg m;
    fx_msg_78(&m);
    struct gh_route_match out[7];
    size_t n = 99;
    assert_int_equal(gh_route_table_eval(t, &m, out, 7, &n), GH_OK);
    assert_int_equal(n, 2);
    /* $upstream: routes all, hot, hot2 -> best priority 3 (first: hot), longest TTL 9000 */
    assert_int_equal(out[0].sink.kind, GH_ROUTE_SINK_UPSTREAM);
    assert_int_equal(out[0].priority, 3);
    assert_int_equal(out[0].route, 1);
    assert_int_equal(out[0].ttl_secs, 9000);
    assert_int_equal(out[0].nroutes, 3);
    /* LocalTopic site/alerts: alerts (prio 1, forever) and alerts2 (prio 2, 30 s) */
    assert_int_equal(out[1].sink.kind, GH_ROUTE_SINK_LOCAL_TOPIC);
    assert_string_equal((const char *)out[1].sink.arg.ptr, "site/alerts");
    assert_int_equal(out[1].priority, 1);
    assert_int_equal(out[1].route, 2);
    assert_int_equal(out[1].ttl_secs, GH_ROUTE_TTL_FOREVER);
    assert_int_equal(out[1].nroutes, 2);

    /* too little room: NOBUFS and *n = 0 */
    n = 99;
    assert_int_equal(gh_route_table_eval(t, &m, out, 1, &n), GH_ERR_NOBUFS);
    assert_int_equal(n, 0);

    /* a leaf message without body: only "all" matches */
    gh_route_msg_init(&m);
    m.source = fx_s("/messages/");
    assert_int_equal(gh_route_table_eval(t, &m, out, 7, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].priority, GH_ROUTE_PRIORITY_DEFAULT);
    assert_int_equal(out[0].ttl_secs, 7200);
    assert_int_equal(out[0].nroutes, 1);
    /* twin change notification: only the file route */
    m.source = fx_s("/twinChangeNotifications/");
    assert_int_equal(gh_route_table_eval(t, &m, out, 7, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].sink.kind, GH_ROUTE_SINK_APPEND_FILE);
    assert_int_equal(out[0].ttl_secs, 7200);
    gh_route_table_free(t);
    gh_route_table_free(NULL);
}

static void ttl_default_forever(void **state)
{
    (void)state;
    const struct gh_route_spec specs[] = {
        SPEC("a", "FROM /* INTO $upstream", 0, 0),
        SPEC("b", "FROM /* INTO $upstream", 0, 100),
    };
    struct gh_route_table *t = NULL;
    assert_int_equal(gh_route_table_new(specs, 2, -1, &t, NULL), GH_OK);
    assert_int_equal(gh_route_table_ttl(t, 0), GH_ROUTE_TTL_FOREVER);
    struct gh_route_msg m;
    gh_route_msg_init(&m);
    m.source = fx_s("/messages/");
    struct gh_route_match out[2];
    size_t n;
    assert_int_equal(gh_route_table_eval(t, &m, out, 2, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].ttl_secs, GH_ROUTE_TTL_FOREVER); /* forever beats 100 s */
    assert_int_equal(out[0].route, 0);
    gh_route_table_free(t);
    /* empty table */
    assert_int_equal(gh_route_table_new(NULL, 0, 7200, &t, NULL), GH_OK);
    assert_int_equal(gh_route_table_eval(t, &m, out, 0, &n), GH_OK);
    assert_int_equal(n, 0);
    gh_route_table_free(t);
}

static void table_errors(void **state)
{
    (void)state;
    struct gh_route_table *t = (struct gh_route_table *)(uintptr_t)1;
    struct gh_route_error err;
    const struct gh_route_spec bad_prio[] = {
        SPEC("a", "FROM /* INTO $upstream", 0, 0),
        SPEC("b", "FROM /* INTO $upstream", 10, 0),
    };
    assert_int_equal(gh_route_table_new(bad_prio, 2, 0, &t, &err), GH_ERR_CONFIG_VALUE);
    assert_int_equal(err.route, 1);
    assert_int_equal(err.column, 0);
    assert_string_equal(err.msg, "priority must be 0..9");

    const struct gh_route_spec dup[] = {
        SPEC("a", "FROM /* INTO $upstream", 0, 0),
        SPEC("a", "FROM /* INTO $upstream", 0, 0),
    };
    assert_int_equal(gh_route_table_new(dup, 2, 0, &t, &err), GH_ERR_CONFIG_VALUE);
    assert_int_equal(err.route, 1);
    assert_string_equal(err.msg, "duplicate route name");

    const struct gh_route_spec noname[] = {SPEC("", "FROM /* INTO $upstream", 0, 0)};
    assert_int_equal(gh_route_table_new(noname, 1, 0, &t, &err), GH_ERR_CONFIG_VALUE);
    assert_string_equal(err.msg, "route name empty or too long");
    char longname[GH_ROUTE_NAME_MAX + 2];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    const struct gh_route_spec toolong[] = {SPEC(longname, "FROM /* INTO $upstream", 0, 0)};
    assert_int_equal(gh_route_table_new(toolong, 1, 0, &t, &err), GH_ERR_CONFIG_VALUE);

    const struct gh_route_spec syntax[] = {
        SPEC("ok", "FROM /* INTO $upstream", 0, 0),
        SPEC("ok2", "FROM /* INTO $upstream", 1, 0),
        SPEC("broken", "FROM /messages/* WHERE a = INTO $upstream", 0, 0),
    };
    assert_int_equal(gh_route_table_new(syntax, 3, 0, &t, &err), GH_ERR_CONFIG_SYNTAX);
    assert_int_equal(err.route, 2);
    assert_int_equal(err.column, 28);
    assert_string_equal(err.msg, "column 28: expected an expression, got 'INTO'");

    struct gh_route_spec many[GH_ROUTE_TABLE_MAX + 1];
    assert_int_equal(gh_route_table_new(many, GH_ROUTE_TABLE_MAX + 1, 0, &t, &err),
                     GH_ERR_TOO_MANY);
    assert_ptr_equal(t, (struct gh_route_table *)(uintptr_t)1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dedup_per_sink),
        cmocka_unit_test(ttl_default_forever),
        cmocka_unit_test(table_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
