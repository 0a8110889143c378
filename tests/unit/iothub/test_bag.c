/* Property bags: iterator, key classification, writer, split/query helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "iothub/bag.h"

#define S(x) gh_slice_cstr(x)

static void assert_slice(struct gh_slice s, const char *want)
{
    char buf[512];
    assert_true(s.len < sizeof buf);
    if (s.len) memcpy(buf, s.ptr, s.len);
    buf[s.len] = '\0';
    assert_string_equal(buf, want);
}

struct want {
    const char *key;
    const char *value; /* NULL = null value */
};

/* Iterate `bag` and compare with `want` (n items). */
static void check_bag(const char *bag, const struct want *want, size_t n)
{
    uint8_t scratch_mem[512];
    struct gh_writer scratch;
    gh_writer_init(&scratch, scratch_mem, sizeof scratch_mem);
    struct gh_iothub_bag_iter it;
    gh_iothub_bag_iter_init(&it, S(bag));
    for (size_t i = 0; i < n; i++) {
        struct gh_iothub_bag_item item;
        bool found = false;
        assert_int_equal(gh_iothub_bag_next(&it, &scratch, &item, &found), GH_OK);
        assert_true(found);
        assert_slice(item.key, want[i].key);
        if (want[i].value) {
            assert_true(item.has_value);
            assert_slice(item.value, want[i].value);
        } else {
            assert_false(item.has_value);
            assert_int_equal(item.value.len, 0);
        }
    }
    struct gh_iothub_bag_item item;
    bool found = true;
    assert_int_equal(gh_iothub_bag_next(&it, &scratch, &item, &found), GH_OK);
    assert_false(found);
    /* Exhausted stays exhausted. */
    found = true;
    assert_int_equal(gh_iothub_bag_next(&it, &scratch, &item, &found), GH_OK);
    assert_false(found);
}

static void test_node_telemetry_bag(void **state)
{
    (void)state;
    static const struct want w[] = {{"$.mid", "msg-1"},
                                    {"$.ct", "application/json"},
                                    {"$.ce", "utf-8"},
                                    {"alert level", "high & urgent"}};
    check_bag("%24.mid=msg-1&%24.ct=application%2Fjson&%24.ce=utf-8&alert%20level=high%20%26%20"
              "urgent",
              w, 4);
}

static void test_c_sdk_raw_bag(void **state)
{
    (void)state;
    static const struct want w[] = {{"temperatureAlert", "true"},
                                    {"$.mid", "42"},
                                    {"$.ct", "application/json"},
                                    {"$.ce", "utf-8"}};
    check_bag("temperatureAlert=true&%24.mid=42&%24.ct=application/json&%24.ce=utf-8", w, 4);
}

static void test_docs_raw_key(void **state)
{
    (void)state;
    static const struct want w[] = {{"$.ct", "application/json;charset=utf-8"}};
    check_bag("$.ct=application%2Fjson%3Bcharset%3Dutf-8", w, 1);
}

static void test_module_output_bag(void **state)
{
    (void)state;
    static const struct want w[] = {{"$.on", "output1"}};
    check_bag("%24.on=output1", w, 1);
}

static void test_empty_items_and_null_values(void **state)
{
    (void)state;
    static const struct want w[] = {{"a", "1"}, {"b", NULL}, {"c", ""}, {"d", "x=y=z"}};
    check_bag("&&a=1&&b&=skipped&c=&d=x=y=z&", w, 4);
    check_bag("", NULL, 0);
    check_bag("&&&", NULL, 0);
    check_bag("=", NULL, 0);
}

static void test_decoding_rules(void **state)
{
    (void)state;
    /* Lower-case hex, malformed sequences literal, `+` kept, `%` at the end. */
    static const struct want w[] = {
        {"k/", "a/b"}, {"p", "%zz%4"}, {"plus", "a+b"}, {"pct", "100%"}, {"%2", "%"}};
    check_bag("k%2f=a%2Fb&p=%zz%4&plus=a+b&pct=100%25&%2=%", w, 5);
}

static void test_duplicates_returned_in_order(void **state)
{
    (void)state;
    static const struct want w[] = {{"$.mid", "1"}, {"$.mid", "2"}, {"x", NULL}, {"x", "3"}};
    check_bag("%24.mid=1&$.mid=2&x&x=3", w, 4);
}

static void test_views_and_scratch(void **state)
{
    (void)state;
    const char *bag = "plain=value&%24.mid=x%2Fy";
    uint8_t mem[64];
    struct gh_writer scratch;
    gh_writer_init(&scratch, mem, sizeof mem);
    struct gh_iothub_bag_iter it;
    gh_iothub_bag_iter_init(&it, S(bag));
    struct gh_iothub_bag_item item;
    bool found;
    assert_int_equal(gh_iothub_bag_next(&it, &scratch, &item, &found), GH_OK);
    assert_true(found);
    assert_ptr_equal(item.key.ptr, (const uint8_t *)bag);
    assert_ptr_equal(item.value.ptr, (const uint8_t *)bag + 6);
    assert_int_equal(scratch.len, 0);
    assert_int_equal(gh_iothub_bag_next(&it, &scratch, &item, &found), GH_OK);
    assert_true(found);
    assert_ptr_equal(item.key.ptr, mem);
    assert_ptr_equal(item.value.ptr, mem + 5);
    assert_int_equal(scratch.len, 8);
    assert_slice(item.key, "$.mid");
    assert_slice(item.value, "x/y");
}

static void test_nobufs_leaves_cursor(void **state)
{
    (void)state;
    const char *bag = "a=1&%24.mid=abc&z";
    uint8_t mem[8];
    struct gh_writer scratch;
    gh_writer_init(&scratch, mem, sizeof mem);
    struct gh_iothub_bag_iter it;
    gh_iothub_bag_iter_init(&it, S(bag));
    struct gh_iothub_bag_item item;
    bool found;
    assert_int_equal(gh_iothub_bag_next(&it, &scratch, &item, &found), GH_OK);
    /* Only the key "$.mid" (5 bytes) needs scratch: offer 4. */
    gh_writer_init(&scratch, mem, 4);
    size_t pos = it.r.pos;
    assert_int_equal(gh_iothub_bag_next(&it, &scratch, &item, &found), GH_ERR_NOBUFS);
    assert_int_equal(it.r.pos, pos);
    assert_int_equal(scratch.len, 0);
    gh_writer_init(&scratch, mem, sizeof mem);
    assert_int_equal(gh_iothub_bag_next(&it, &scratch, &item, &found), GH_OK);
    assert_true(found);
    assert_slice(item.key, "$.mid");
    assert_slice(item.value, "abc");
}

static void test_nobufs_on_value_restores_key(void **state)
{
    (void)state;
    uint8_t mem[8];
    struct gh_writer scratch;
    gh_writer_init(&scratch, mem, 7); /* key "$.k" fits (3), value needs 6 */
    struct gh_iothub_bag_iter it;
    gh_iothub_bag_iter_init(&it, S("%24.k=%41%42%43%44%45%46"));
    struct gh_iothub_bag_item item;
    bool found;
    assert_int_equal(gh_iothub_bag_next(&it, &scratch, &item, &found), GH_ERR_NOBUFS);
    assert_int_equal(scratch.len, 0);
    assert_int_equal(it.r.pos, 0);
}

static void expect_bad_utf8(const char *bag)
{
    uint8_t mem[64];
    struct gh_writer scratch;
    gh_writer_init(&scratch, mem, sizeof mem);
    struct gh_iothub_bag_iter it;
    gh_iothub_bag_iter_init(&it, S(bag));
    struct gh_iothub_bag_item item;
    bool found = false;
    assert_int_equal(gh_iothub_bag_next(&it, &scratch, &item, &found), GH_ERR_BAD_UTF8);
    assert_int_equal(it.r.pos, 0);
    assert_int_equal(scratch.len, 0);
    assert_false(found);
}

static void test_bad_utf8(void **state)
{
    (void)state;
    expect_bad_utf8("%FF=1");
    expect_bad_utf8("a=%00");
    expect_bad_utf8("a=%C3");
    expect_bad_utf8("a=%ED%A0%80"); /* surrogate */
    expect_bad_utf8("%C0%AF");      /* overlong */
    /* Valid multi-byte UTF-8 decodes fine. */
    static const struct want w[] = {{"t", "\xc3\xa9"}};
    check_bag("t=%C3%A9", w, 1);
}

static void test_null_bag(void **state)
{
    (void)state;
    uint8_t mem[4];
    struct gh_writer scratch;
    gh_writer_init(&scratch, mem, sizeof mem);
    struct gh_iothub_bag_iter it;
    gh_iothub_bag_iter_init(&it, GH_SLICE_EMPTY);
    struct gh_iothub_bag_item item;
    bool found = true;
    assert_int_equal(gh_iothub_bag_next(&it, &scratch, &item, &found), GH_OK);
    assert_false(found);
}

static void test_classify(void **state)
{
    (void)state;
    static const struct {
        const char *key;
        enum gh_iothub_prop p;
    } t[] = {
        {"$.mid", GH_IOTHUB_PROP_MESSAGE_ID},
        {"$.cid", GH_IOTHUB_PROP_CORRELATION_ID},
        {"$.uid", GH_IOTHUB_PROP_USER_ID},
        {"$.to", GH_IOTHUB_PROP_TO},
        {"$.ct", GH_IOTHUB_PROP_CONTENT_TYPE},
        {"$.ce", GH_IOTHUB_PROP_CONTENT_ENCODING},
        {"$.exp", GH_IOTHUB_PROP_EXPIRY},
        {"$.ctime", GH_IOTHUB_PROP_CREATION_TIME},
        {"$.on", GH_IOTHUB_PROP_OUTPUT_NAME},
        {"$.ifid", GH_IOTHUB_PROP_INTERFACE_ID},
        {"$.sub", GH_IOTHUB_PROP_SUBJECT},
        {"$.schema", GH_IOTHUB_PROP_SCHEMA},
        {"$.diagid", GH_IOTHUB_PROP_DIAG_ID},
        {"$.diagctx", GH_IOTHUB_PROP_DIAG_CONTEXT},
        {"iothub-operation", GH_IOTHUB_PROP_OPERATION},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        assert_int_equal(gh_iothub_prop_classify(S(t[i].key)), t[i].p);
        assert_int_equal(gh_iothub_prop_classify_s2d(S(t[i].key)), t[i].p);
        assert_string_equal(gh_iothub_prop_key(t[i].p), t[i].key);
    }
    /* Server-to-device only keys are application properties from devices. */
    assert_int_equal(gh_iothub_prop_classify(S("$.cdid")), GH_IOTHUB_PROP_APP);
    assert_int_equal(gh_iothub_prop_classify(S("$.cmid")), GH_IOTHUB_PROP_APP);
    assert_int_equal(gh_iothub_prop_classify(S("iothub-ack")), GH_IOTHUB_PROP_APP);
    assert_int_equal(gh_iothub_prop_classify_s2d(S("$.cdid")), GH_IOTHUB_PROP_CONN_DEVICE_ID);
    assert_int_equal(gh_iothub_prop_classify_s2d(S("$.cmid")), GH_IOTHUB_PROP_CONN_MODULE_ID);
    assert_int_equal(gh_iothub_prop_classify_s2d(S("iothub-ack")), GH_IOTHUB_PROP_ACK);
    /* Case-sensitive, decoded form only, no prefixes. */
    assert_int_equal(gh_iothub_prop_classify(S("$.MID")), GH_IOTHUB_PROP_APP);
    assert_int_equal(gh_iothub_prop_classify(S("%24.mid")), GH_IOTHUB_PROP_APP);
    assert_int_equal(gh_iothub_prop_classify(S("$.mi")), GH_IOTHUB_PROP_APP);
    assert_int_equal(gh_iothub_prop_classify(S("$.midx")), GH_IOTHUB_PROP_APP);
    assert_int_equal(gh_iothub_prop_classify(S("iothub-creation-time-utc")), GH_IOTHUB_PROP_APP);
    assert_int_equal(gh_iothub_prop_classify(S("")), GH_IOTHUB_PROP_APP);
    assert_null(gh_iothub_prop_key(GH_IOTHUB_PROP_APP));
    assert_null(gh_iothub_prop_key((enum gh_iothub_prop)999));
    assert_string_equal(gh_iothub_prop_key(GH_IOTHUB_PROP_ACK), "iothub-ack");
}

static void test_writer(void **state)
{
    (void)state;
    char mem[256];
    struct gh_writer w;
    gh_writer_init(&w, mem, sizeof mem);
    struct gh_iothub_bag_writer bw;
    gh_iothub_bag_writer_init(&bw, &w);
    assert_int_equal(gh_iothub_bag_put_prop(&bw, GH_IOTHUB_PROP_MESSAGE_ID, S("c2d-1")), GH_OK);
    assert_int_equal(gh_iothub_bag_put_prop(&bw, GH_IOTHUB_PROP_TO,
                                            S("/devices/thermostat-01/messages/devicebound")),
                     GH_OK);
    const struct gh_iothub_bag_item items[] = {
        {S("iothub-ack"), S("none"), true},
        {S("nullprop"), GH_SLICE_EMPTY, false},
        {S("empty"), S(""), true},
        {S("alert level"), S("high & urgent"), true},
    };
    assert_int_equal(gh_iothub_bag_put_all(&bw, items, 4), GH_OK);
    assert_int_equal(bw.count, 6);
    assert_slice(gh_writer_slice(&w),
                 "%24.mid=c2d-1&%24.to=%2Fdevices%2Fthermostat-01%2Fmessages%2Fdevicebound&"
                 "iothub-ack=none&nullprop&empty=&alert%20level=high%20%26%20urgent");
    /* Zero items write nothing. */
    assert_int_equal(gh_iothub_bag_put_all(&bw, items, 0), GH_OK);
    assert_int_equal(bw.count, 6);
}

static void test_writer_errors(void **state)
{
    (void)state;
    char mem[32];
    struct gh_writer w;
    gh_writer_init(&w, mem, sizeof mem);
    struct gh_iothub_bag_writer bw;
    gh_iothub_bag_writer_init(&bw, &w);
    struct gh_iothub_bag_item empty_key = {S(""), S("v"), true};
    assert_int_equal(gh_iothub_bag_put(&bw, &empty_key), GH_ERR_ARG);
    assert_int_equal(gh_iothub_bag_put_prop(&bw, GH_IOTHUB_PROP_APP, S("v")), GH_ERR_ARG);
    assert_int_equal(gh_iothub_bag_put_prop(&bw, (enum gh_iothub_prop)999, S("v")), GH_ERR_ARG);
    assert_int_equal(w.len, 0);
    assert_int_equal(bw.count, 0);

    struct gh_iothub_bag_item a = {S("a"), S("1"), true};
    assert_int_equal(gh_iothub_bag_put(&bw, &a), GH_OK);
    /* A failing second item of put_all restores the first one as well. */
    const struct gh_iothub_bag_item two[] = {{S("b"), S("2"), true}, {S(""), S("x"), true}};
    assert_int_equal(gh_iothub_bag_put_all(&bw, two, 2), GH_ERR_ARG);
    assert_int_equal(w.len, 3);
    assert_int_equal(bw.count, 1);
    /* Value too long for the space left. */
    struct gh_iothub_bag_item big = {S("k"), S("//////////"), true};
    assert_int_equal(gh_iothub_bag_put(&bw, &big), GH_ERR_NOBUFS);
    assert_int_equal(w.len, 3);
    assert_int_equal(bw.count, 1);
    assert_slice(gh_writer_slice(&w), "a=1");
    /* Filling the writer exactly is fine; one more byte is not. */
    struct gh_iothub_bag_item fill = {S("k"), S("01234567890123456789012345"), true};
    assert_int_equal(gh_iothub_bag_put(&bw, &fill), GH_OK);
    assert_int_equal(w.len, sizeof mem);
    struct gh_iothub_bag_item one = {S("x"), GH_SLICE_EMPTY, false};
    assert_int_equal(gh_iothub_bag_put(&bw, &one), GH_ERR_NOBUFS);
    assert_int_equal(w.len, sizeof mem);
    assert_int_equal(bw.count, 2);
}

static void test_writer_roundtrip(void **state)
{
    (void)state;
    const struct gh_iothub_bag_item items[] = {
        {S("$.ct"), S("application/json;charset=utf-8"), true},
        {S("k&=%"), S("v&=%+/ \xc3\xa9"), true},
        {S("n"), GH_SLICE_EMPTY, false},
        {S("e"), S(""), true},
    };
    char mem[256];
    struct gh_writer w;
    gh_writer_init(&w, mem, sizeof mem);
    struct gh_iothub_bag_writer bw;
    gh_iothub_bag_writer_init(&bw, &w);
    assert_int_equal(gh_iothub_bag_put_all(&bw, items, 4), GH_OK);
    uint8_t smem[256];
    struct gh_writer scratch;
    gh_writer_init(&scratch, smem, sizeof smem);
    struct gh_iothub_bag_iter it;
    gh_iothub_bag_iter_init(&it, gh_writer_slice(&w));
    for (size_t i = 0; i < 4; i++) {
        struct gh_iothub_bag_item item;
        bool found;
        assert_int_equal(gh_iothub_bag_next(&it, &scratch, &item, &found), GH_OK);
        assert_true(found);
        assert_true(gh_slice_eq(item.key, items[i].key));
        assert_true(gh_slice_eq(item.value, items[i].value));
        assert_int_equal(item.has_value, items[i].has_value);
    }
}

static void test_split_next(void **state)
{
    (void)state;
    struct gh_reader r;
    struct gh_slice tok;
    gh_reader_init(&r, "a/b//c", 6);
    assert_true(gh_reader_split(&r, '/', &tok));
    assert_slice(tok, "a");
    assert_true(gh_reader_split(&r, '/', &tok));
    assert_slice(tok, "b");
    assert_true(gh_reader_split(&r, '/', &tok));
    assert_slice(tok, "");
    assert_false(gh_reader_split(&r, '/', &tok));
    assert_slice(tok, "c");
    assert_false(gh_reader_split(&r, '/', &tok));
    assert_int_equal(tok.len, 0);
    gh_reader_init(&r, NULL, 0);
    assert_false(gh_reader_split(&r, '/', &tok));
    assert_int_equal(tok.len, 0);
    gh_reader_init(&r, "x/", 2);
    assert_true(gh_reader_split(&r, '/', &tok));
    assert_slice(tok, "x");
    assert_int_equal(gh_reader_remaining(&r), 0);
}

static void test_query_find(void **state)
{
    (void)state;
    struct gh_slice v;
    assert_true(gh_iothub_query_find(S("$rid=1&$version=2"), "$rid", &v));
    assert_slice(v, "1");
    assert_true(gh_iothub_query_find(S("$rid=1&$version=2"), "$version", &v));
    assert_slice(v, "2");
    assert_true(gh_iothub_query_find(S("x=9&%24rid=a%2Fb"), "$rid", &v));
    assert_slice(v, "a%2Fb"); /* raw */
    assert_true(gh_iothub_query_find(S("$rid=first&$rid=second"), "$rid", &v));
    assert_slice(v, "first");
    assert_true(gh_iothub_query_find(S("a&$rid"), "$rid", &v));
    assert_slice(v, "");
    assert_true(gh_iothub_query_find(S("$rid=a=b"), "$rid", &v));
    assert_slice(v, "a=b");
    assert_false(gh_iothub_query_find(S("$ri=1&$rid2=2&rid=3"), "$rid", &v));
    assert_false(gh_iothub_query_find(S(""), "$rid", &v));
    assert_false(gh_iothub_query_find(GH_SLICE_EMPTY, "$rid", &v));
}

static void test_pct_matches(void **state)
{
    (void)state;
    assert_true(gh_iothub_pct_matches(S("dev-1"), S("dev-1")));
    assert_true(gh_iothub_pct_matches(S("dev%2B1"), S("dev+1")));
    assert_true(gh_iothub_pct_matches(S("dev%2b1"), S("dev+1")));
    assert_true(gh_iothub_pct_matches(S("a%41"), S("a%41"))); /* raw id with `%` */
    assert_true(gh_iothub_pct_matches(S("a%41"), S("aA")));
    assert_true(gh_iothub_pct_matches(S("%zz"), S("%zz")));
    assert_true(gh_iothub_pct_matches(S("a%4"), S("a%4")));
    assert_false(gh_iothub_pct_matches(S("dev-1"), S("dev-2")));
    assert_false(gh_iothub_pct_matches(S("dev-1"), S("dev-10")));
    assert_false(gh_iothub_pct_matches(S("dev-10"), S("dev-1")));
    assert_false(gh_iothub_pct_matches(S("%41%42"), S("A")));
    assert_false(gh_iothub_pct_matches(S("Dev"), S("dev")));
    assert_true(gh_iothub_pct_matches(S(""), S("")));
    assert_false(gh_iothub_pct_matches(S(""), S("a")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_node_telemetry_bag),
        cmocka_unit_test(test_c_sdk_raw_bag),
        cmocka_unit_test(test_docs_raw_key),
        cmocka_unit_test(test_module_output_bag),
        cmocka_unit_test(test_empty_items_and_null_values),
        cmocka_unit_test(test_decoding_rules),
        cmocka_unit_test(test_duplicates_returned_in_order),
        cmocka_unit_test(test_views_and_scratch),
        cmocka_unit_test(test_nobufs_leaves_cursor),
        cmocka_unit_test(test_nobufs_on_value_restores_key),
        cmocka_unit_test(test_bad_utf8),
        cmocka_unit_test(test_null_bag),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_writer),
        cmocka_unit_test(test_writer_errors),
        cmocka_unit_test(test_writer_roundtrip),
        cmocka_unit_test(test_split_next),
        cmocka_unit_test(test_query_find),
        cmocka_unit_test(test_pct_matches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
