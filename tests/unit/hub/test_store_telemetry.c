/* Built-in telemetry endpoint: batch append in one transaction, reads after
 * a sequence number, retention by age and by bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store_fixture.h"

static struct gh_telemetry_in tin(const char *dev, const char *mod, int64_t t, const json_t *p,
                                  const char *body)
{
    struct gh_telemetry_in m;
    memset(&m, 0, sizeof m);
    m.device_id = dev;
    m.module_id = mod;
    m.enqueued_ms = t;
    m.properties = p;
    m.body = body;
    m.body_len = body != NULL ? strlen(body) : 0;
    return m;
}

static void free_msgs(struct gh_telemetry_msg *m, size_t n)
{
    for (size_t i = 0; i < n; i++) gh_telemetry_msg_cleanup(&m[i]);
}

static void test_append_and_read(void **state)
{
    struct fx *f = *state;
    json_t *p1 = fx_json("{\"iothub-connection-device-id\":\"d1\",\"$.ct\":\"application/json\"}");
    json_t *p2 = fx_json("{}");
    struct gh_telemetry_in in[3] = {
        tin("d1", NULL, FX_T0, p1, "{\"t\":21}"), tin("gw", "filter", FX_T0 + 1, p2, "abc"),
        tin("d1", "", 0, p2, NULL), /* enqueued now, empty body */
    };
    int64_t first = 0;
    f->now = FX_T0 + 5;
    assert_int_equal(gh_store_telemetry_append_batch(f->s, in, 3, &first), GH_OK);
    assert_int_equal(first, 1);
    struct gh_telemetry_stats st;
    assert_int_equal(gh_store_telemetry_stats(f->s, &st), GH_OK);
    assert_int_equal(st.count, 3);
    assert_int_equal(st.last_seq, 3);
    size_t p1len = json_dumpb(p1, NULL, 0, JSON_COMPACT);
    assert_int_equal(st.bytes, p1len + 8 + 2 + 3 + 2 + 0);

    /* Durable, readable after a restart. */
    fx_reopen(f);
    struct gh_telemetry_msg out[4];
    size_t n = 0;
    struct gh_telemetry_query q = {.after_seq = 0};
    assert_int_equal(gh_store_telemetry_read(f->s, &q, out, 4, &n), GH_OK);
    assert_int_equal(n, 3);
    assert_int_equal(out[0].seq, 1);
    assert_string_equal(out[0].device_id, "d1");
    assert_string_equal(out[0].module_id, "");
    assert_int_equal(out[0].enqueued_ms, FX_T0);
    assert_int_equal(out[0].body_len, 8);
    assert_memory_equal(out[0].body, "{\"t\":21}", 8);
    assert_true(json_equal(out[0].properties, p1));
    assert_string_equal(out[1].module_id, "filter");
    assert_int_equal(out[2].enqueued_ms, FX_T0 + 5);
    assert_int_equal(out[2].body_len, 0);
    assert_null(out[2].body);
    free_msgs(out, n);

    /* After a seq, one device, since a time, a limit, a cap. */
    q.after_seq = 1;
    assert_int_equal(gh_store_telemetry_read(f->s, &q, out, 4, &n), GH_OK);
    assert_int_equal(n, 2);
    assert_int_equal(out[0].seq, 2);
    free_msgs(out, n);
    q.after_seq = 0;
    q.device_id = "d1";
    assert_int_equal(gh_store_telemetry_read(f->s, &q, out, 4, &n), GH_OK);
    assert_int_equal(n, 2);
    assert_int_equal(out[1].seq, 3);
    free_msgs(out, n);
    q.since_ms = FX_T0 + 1;
    assert_int_equal(gh_store_telemetry_read(f->s, &q, out, 4, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].seq, 3);
    free_msgs(out, n);
    q.device_id = NULL;
    q.since_ms = 0;
    q.limit = 2;
    assert_int_equal(gh_store_telemetry_read(f->s, &q, out, 4, &n), GH_OK);
    assert_int_equal(n, 2);
    free_msgs(out, n);
    q.limit = 0;
    assert_int_equal(gh_store_telemetry_read(f->s, &q, out, 1, &n), GH_OK);
    assert_int_equal(n, 1);
    free_msgs(out, n);
    q.after_seq = 3;
    assert_int_equal(gh_store_telemetry_read(f->s, &q, out, 4, &n), GH_OK);
    assert_int_equal(n, 0);

    /* Telemetry outlives the device (no identity lookup at all). */
    fx_create(f, "d1", NULL);
    assert_int_equal(gh_store_identity_delete(f->s, "d1", NULL, "*"), GH_OK);
    q.after_seq = 0;
    q.device_id = "d1";
    assert_int_equal(gh_store_telemetry_read(f->s, &q, out, 4, &n), GH_OK);
    assert_int_equal(n, 2);
    free_msgs(out, n);
    json_decref(p1);
    json_decref(p2);
}

/* A filtered read examines at most GH_TELEMETRY_SCAN_MAX sequence numbers
 * and says where to page on; an unfiltered one stops at its last row. */
static void test_filtered_scan_is_bounded(void **state)
{
    struct fx *f = *state;
    json_t *p = fx_json("{}");
    enum { BATCH = 4096, BUSY = GH_TELEMETRY_SCAN_MAX + BATCH };
    struct gh_telemetry_in *in = calloc(BATCH, sizeof *in);
    assert_non_null(in);
    for (size_t i = 0; i < BATCH; i++) in[i] = tin("busy", NULL, FX_T0, p, "x");
    for (int done = 0; done < BUSY; done += BATCH)
        assert_int_equal(gh_store_telemetry_append_batch(f->s, in, BATCH, NULL), GH_OK);
    in[0] = tin("quiet", NULL, FX_T0 + 1, p, "q");
    int64_t qseq = 0;
    assert_int_equal(gh_store_telemetry_append_batch(f->s, in, 1, &qseq), GH_OK);
    assert_int_equal(qseq, BUSY + 1);
    free(in);

    struct gh_telemetry_msg out[4];
    size_t n = 99;
    struct gh_telemetry_scan sc = {-1, false};
    struct gh_telemetry_query q = {.device_id = "quiet"};
    assert_int_equal(gh_store_telemetry_scan(f->s, &q, out, 4, &n, &sc), GH_OK);
    assert_int_equal(n, 0);
    assert_int_equal(sc.next_after, GH_TELEMETRY_SCAN_MAX);
    assert_true(sc.more);
    q.after_seq = sc.next_after;
    assert_int_equal(gh_store_telemetry_scan(f->s, &q, out, 4, &n, &sc), GH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].seq, qseq);
    assert_int_equal(sc.next_after, qseq);
    assert_false(sc.more);
    free_msgs(out, n);
    /* The same bound for a time filter; nothing is skipped unexamined. */
    q = (struct gh_telemetry_query){.since_ms = FX_T0 + 1, .after_seq = 10};
    assert_int_equal(gh_store_telemetry_scan(f->s, &q, out, 4, &n, &sc), GH_OK);
    assert_int_equal(n, 0);
    assert_int_equal(sc.next_after, 10 + GH_TELEMETRY_SCAN_MAX);
    assert_true(sc.more);
    /* Unfiltered: a full page stops at its last row, a short one at the end. */
    q = (struct gh_telemetry_query){.after_seq = 5, .limit = 4};
    assert_int_equal(gh_store_telemetry_scan(f->s, &q, out, 4, &n, &sc), GH_OK);
    assert_int_equal(n, 4);
    assert_int_equal(sc.next_after, 9);
    assert_true(sc.more);
    free_msgs(out, n);
    q.after_seq = qseq - 1;
    assert_int_equal(gh_store_telemetry_scan(f->s, &q, out, 4, &n, &sc), GH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(sc.next_after, qseq);
    assert_false(sc.more);
    free_msgs(out, n);
    /* After the end: the cursor never moves back. */
    q.after_seq = qseq + 100;
    assert_int_equal(gh_store_telemetry_scan(f->s, &q, out, 4, &n, &sc), GH_OK);
    assert_int_equal(n, 0);
    assert_int_equal(sc.next_after, qseq + 100);
    assert_false(sc.more);
    json_decref(p);
}

static void test_append_errors_store_nothing(void **state)
{
    struct fx *f = *state;
    json_t *p = fx_json("{}");
    json_t *arr = json_array();
    struct gh_telemetry_in in[2] = {tin("d1", NULL, 0, p, "x"), tin("d1", NULL, 0, p, "y")};
    assert_int_equal(gh_store_telemetry_append_batch(f->s, in, 0, NULL), GH_ERR_ARG);
    assert_string_equal(gh_store_errmsg(f->s), "a batch holds 1 to 4096 messages");
    assert_int_equal(gh_store_telemetry_append_batch(f->s, in, GH_TELEMETRY_BATCH_MAX + 1, NULL),
                     GH_ERR_ARG);
    in[1].device_id = "bad id";
    assert_int_equal(gh_store_telemetry_append_batch(f->s, in, 2, NULL), GH_ERR_ARG);
    assert_string_equal(gh_store_errmsg(f->s), "message 1: invalid device id");
    in[1].device_id = NULL;
    assert_int_equal(gh_store_telemetry_append_batch(f->s, in, 2, NULL), GH_ERR_ARG);
    in[1].device_id = "d1";
    in[1].module_id = "a/b";
    assert_int_equal(gh_store_telemetry_append_batch(f->s, in, 2, NULL), GH_ERR_ARG);
    assert_string_equal(gh_store_errmsg(f->s), "message 1: invalid module id");
    in[1].module_id = NULL;
    in[1].properties = arr;
    assert_int_equal(gh_store_telemetry_append_batch(f->s, in, 2, NULL), GH_ERR_ARG);
    in[1].properties = NULL;
    assert_int_equal(gh_store_telemetry_append_batch(f->s, in, 2, NULL), GH_ERR_ARG);
    in[1].properties = p;
    in[1].body = NULL;
    assert_int_equal(gh_store_telemetry_append_batch(f->s, in, 2, NULL), GH_ERR_ARG);
    char *big = calloc(1, GH_TELEMETRY_BODY_MAX + 1);
    in[1].body = big;
    in[1].body_len = GH_TELEMETRY_BODY_MAX + 1;
    assert_int_equal(gh_store_telemetry_append_batch(f->s, in, 2, NULL), GH_ERR_TOO_LARGE);
    in[1].body_len = 1;
    in[1].enqueued_ms = -1;
    assert_int_equal(gh_store_telemetry_append_batch(f->s, in, 2, NULL), GH_ERR_ARG);
    in[1].enqueued_ms = 0;
    /* Properties text over its cap. */
    json_t *bigp = json_object();
    for (int i = 0; i < 70; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        big[4000] = '\0';
        memset(big, 'v', 4000);
        json_object_set_new(bigp, k, json_string(big));
    }
    in[1].properties = bigp;
    assert_int_equal(gh_store_telemetry_append_batch(f->s, in, 2, NULL), GH_ERR_TOO_LARGE);
    json_decref(bigp);
    free(big);
    struct gh_telemetry_stats st;
    assert_int_equal(gh_store_telemetry_stats(f->s, &st), GH_OK);
    assert_int_equal(st.count, 0);
    assert_int_equal(st.last_seq, 0);
    json_decref(p);
    json_decref(arr);
}

static void append_at(struct fx *f, int64_t t, const char *body, json_t *p)
{
    struct gh_telemetry_in m = tin("d1", NULL, t, p, body);
    assert_int_equal(gh_store_telemetry_append_batch(f->s, &m, 1, NULL), GH_OK);
}

static void test_retention_by_age(void **state)
{
    struct fx *f = *state;
    json_t *p = fx_json("{}");
    for (int i = 0; i < 5; i++) append_at(f, FX_T0 + i * 1000, "0123456789", p);
    struct gh_retention_result r;
    f->now = FX_T0 + 4500;
    /* Older than 2 s: enqueued before FX_T0 + 2500 -> the first three. */
    assert_int_equal(gh_store_telemetry_retain(f->s, 2000, 0, &r), GH_OK);
    assert_int_equal(r.by_age, 3);
    assert_int_equal(r.by_bytes, 0);
    struct gh_telemetry_stats st;
    assert_int_equal(gh_store_telemetry_stats(f->s, &st), GH_OK);
    assert_int_equal(st.count, 2);
    assert_int_equal(st.bytes, 2 * (10 + 2));
    struct gh_telemetry_msg out[8];
    size_t n;
    struct gh_telemetry_query q = {.after_seq = 0};
    assert_int_equal(gh_store_telemetry_read(f->s, &q, out, 8, &n), GH_OK);
    assert_int_equal(n, 2);
    assert_int_equal(out[0].seq, 4);
    free_msgs(out, n);
    /* Nothing more to do; seq numbers are never reused after deletion. */
    assert_int_equal(gh_store_telemetry_retain(f->s, 2000, 0, &r), GH_OK);
    assert_int_equal(r.by_age, 0);
    f->now = FX_T0 + 100000;
    assert_int_equal(gh_store_telemetry_retain(f->s, 1000, 0, NULL), GH_OK);
    assert_int_equal(gh_store_telemetry_stats(f->s, &st), GH_OK);
    assert_int_equal(st.count, 0);
    append_at(f, 0, "x", p);
    assert_int_equal(gh_store_telemetry_read(f->s, &q, out, 8, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].seq, 6);
    free_msgs(out, n);
    assert_int_equal(gh_store_telemetry_retain(f->s, -1, 0, NULL), GH_ERR_ARG);
    json_decref(p);
}

static void test_retention_by_bytes(void **state)
{
    struct fx *f = *state;
    json_t *p = fx_json("{}");
    /* Five messages of 10 + 2 bytes each: 60 bytes. */
    for (int i = 0; i < 5; i++) append_at(f, FX_T0 + i, "0123456789", p);
    struct gh_retention_result r;
    /* Cap 30 bytes: the oldest three go, even though they are young. */
    assert_int_equal(gh_store_telemetry_retain(f->s, 3600000, 30, &r), GH_OK);
    assert_int_equal(r.by_age, 0);
    assert_int_equal(r.by_bytes, 3);
    struct gh_telemetry_stats st;
    assert_int_equal(gh_store_telemetry_stats(f->s, &st), GH_OK);
    assert_int_equal(st.count, 2);
    assert_int_equal(st.bytes, 24);
    struct gh_telemetry_msg out[8];
    size_t n;
    struct gh_telemetry_query q = {.after_seq = 0};
    assert_int_equal(gh_store_telemetry_read(f->s, &q, out, 8, &n), GH_OK);
    assert_int_equal(n, 2);
    assert_int_equal(out[0].seq, 4);
    free_msgs(out, n);
    /* Under the cap: nothing happens. Without an age limit too. */
    assert_int_equal(gh_store_telemetry_retain(f->s, 0, 24, &r), GH_OK);
    assert_int_equal(r.by_bytes, 0);
    assert_int_equal(gh_store_telemetry_retain(f->s, 0, 1, &r), GH_OK);
    assert_int_equal(r.by_bytes, 2);
    assert_int_equal(gh_store_telemetry_stats(f->s, &st), GH_OK);
    assert_int_equal(st.count, 0);
    assert_int_equal(st.bytes, 0);
    /* A counter that drifted above the real contents is reset, not chased. */
    fx_sql(f, "UPDATE telemetry_stats SET bytes = 1000, count = 3");
    assert_int_equal(gh_store_telemetry_retain(f->s, 0, 10, &r), GH_OK);
    assert_int_equal(r.by_bytes, 0);
    assert_int_equal(gh_store_telemetry_stats(f->s, &st), GH_OK);
    assert_int_equal(st.bytes, 0);
    assert_int_equal(st.count, 0);
    json_decref(p);
}

static void test_corrupted_rows(void **state)
{
    struct fx *f = *state;
    json_t *p = fx_json("{}");
    append_at(f, FX_T0, "x", p);
    struct gh_telemetry_msg out[2];
    size_t n;
    struct gh_telemetry_query q = {.after_seq = 0};
    static const struct {
        const char *sql;
        const char *msg;
    } cases[] = {
        {"UPDATE telemetry SET properties = 'nope'", "column properties is not valid JSON"},
        {"UPDATE telemetry SET device_id = '../x'", "column device_id is not a valid device id"},
        {"UPDATE telemetry SET module_id = 'a b'", "column module_id is not a valid module id"},
        {"UPDATE telemetry SET body = 'str'", "column body is not a blob"},
        {"UPDATE telemetry SET enqueued_ms = 'x'", "column enqueued_ms is not an integer"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fx_sql(f, "UPDATE telemetry SET properties = '{}', device_id = 'd1', module_id = '',"
                  " body = x'78', enqueued_ms = 1");
        fx_sql(f, cases[i].sql);
        char want[256];
        snprintf(want, sizeof want, "hub.db: bad row in table telemetry, key seq 1: %s",
                 cases[i].msg);
        assert_int_equal(gh_store_telemetry_read(f->s, &q, out, 2, &n), GH_ERR_DB);
        assert_string_equal(gh_store_errmsg(f->s), want);
    }
    /* A missing counter row. */
    fx_sql(f, "DELETE FROM telemetry_stats");
    struct gh_telemetry_stats st0;
    assert_int_equal(gh_store_telemetry_stats(f->s, &st0), GH_ERR_DB);
    assert_string_equal(gh_store_errmsg(f->s), "hub.db: telemetry_stats row missing");
    fx_sql(f, "INSERT INTO telemetry_stats VALUES (1, 2, 1, 1)");
    /* A damaged counter row. */
    fx_sql(f, "UPDATE telemetry_stats SET next_seq = -3");
    struct gh_telemetry_stats st;
    assert_int_equal(gh_store_telemetry_stats(f->s, &st), GH_ERR_DB);
    assert_int_equal(gh_store_telemetry_append_batch(
                         f->s,
                         &(struct gh_telemetry_in){
                             .device_id = "d1", .properties = p, .body = "x", .body_len = 1},
                         1, NULL),
                     GH_ERR_DB);
    /* A counter behind the data cannot overwrite a message. */
    fx_sql(f, "UPDATE telemetry_stats SET next_seq = 1");
    assert_int_equal(gh_store_telemetry_append_batch(
                         f->s,
                         &(struct gh_telemetry_in){
                             .device_id = "d1", .properties = p, .body = "x", .body_len = 1},
                         1, NULL),
                     GH_ERR_DB);
    json_decref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_and_read, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_filtered_scan_is_bounded, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_append_errors_store_nothing, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_retention_by_age, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_retention_by_bytes, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_corrupted_rows, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
