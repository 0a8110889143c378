/* Cloud-to-device queues: 50-message cap, TTL expiry, 60 s lock and
 * redelivery, completion, purge (PROTOCOL.md 1.9.2, 1.9.3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store_fixture.h"

static struct gh_c2d_send msg(const char *id, const char *body)
{
    struct gh_c2d_send m;
    memset(&m, 0, sizeof m);
    m.message_id = id;
    m.body = body;
    m.body_len = body != NULL ? strlen(body) : 0;
    return m;
}

static void test_enqueue_and_deliver(void **state)
{
    struct fx *f = *state;
    struct gh_c2d_send m = msg(NULL, "hello");
    int64_t seq1 = 0, seq2 = 0;
    char id[GH_C2D_MSGID_MAX + 1];
    assert_int_equal(gh_store_c2d_enqueue(f->s, "d1", &m, &seq1, id), GH_ERR_NOT_FOUND);
    fx_create(f, "d1", NULL);
    /* No id: a GUID. Properties kept as given. */
    json_t *props = fx_json("{\"system\":{\"correlationId\":\"c-1\"},\"app\":{\"color\":\"red\","
                            "\"flag\":null}}");
    m.properties = props;
    m.ack = GH_C2D_ACK_FULL;
    assert_int_equal(gh_store_c2d_enqueue(f->s, "d1", &m, &seq1, id), GH_OK);
    assert_int_equal(strlen(id), 36);
    json_decref(props);
    /* Given id, empty body, no properties. */
    m = msg("msg-2", NULL);
    assert_int_equal(gh_store_c2d_enqueue(f->s, "d1", &m, &seq2, id), GH_OK);
    assert_string_equal(id, "msg-2");
    assert_true(seq2 > seq1);
    uint32_t n = 0;
    assert_int_equal(gh_store_c2d_count(f->s, "d1", &n), GH_OK);
    assert_int_equal(n, 2);
    struct gh_identity ident;
    assert_int_equal(gh_store_identity_get(f->s, "d1", NULL, &ident), GH_OK);
    assert_int_equal(ident.c2d_count, 2);

    /* Durable across a restart. */
    fx_reopen(f);
    struct gh_c2d_msg a, b;
    bool found = false;
    uint32_t expired = 9;
    assert_int_equal(gh_store_c2d_next(f->s, "d1", &a, &found, &expired), GH_OK);
    assert_true(found);
    assert_int_equal(expired, 0);
    assert_int_equal(a.seq, seq1);
    assert_int_equal(a.deliveries, 0);
    assert_int_equal(a.ack, GH_C2D_ACK_FULL);
    assert_int_equal(a.enqueued_ms, FX_T0);
    assert_int_equal(a.expiry_ms, FX_T0 + GH_C2D_DEFAULT_TTL_MS);
    assert_int_equal(a.body_len, 5);
    assert_memory_equal(a.body, "hello", 5);
    char *pt = json_dumps(a.properties, JSON_COMPACT);
    assert_string_equal(pt, "{\"system\":{\"correlationId\":\"c-1\"},\"app\":{\"color\":\"red\","
                            "\"flag\":null}}");
    free(pt);
    /* The first is locked: the next one comes out. */
    assert_int_equal(gh_store_c2d_next(f->s, "d1", &b, &found, NULL), GH_OK);
    assert_true(found);
    assert_string_equal(b.message_id, "msg-2");
    assert_int_equal(b.body_len, 0);
    assert_null(b.body);
    assert_int_equal(json_object_size(b.properties), 0);
    gh_c2d_msg_cleanup(&b);
    /* Both locked: nothing deliverable. */
    struct gh_c2d_msg c;
    memset(&c, 0x5a, sizeof c);
    assert_int_equal(gh_store_c2d_next(f->s, "d1", &c, &found, NULL), GH_OK);
    assert_false(found);
    assert_int_equal(((unsigned char *)&c)[0], 0x5a); /* untouched */
    /* After the 60 s lock, redelivered with DUP (deliveries 1). */
    f->now += GH_C2D_LOCK_MS - 1;
    assert_int_equal(gh_store_c2d_next(f->s, "d1", &c, &found, NULL), GH_OK);
    assert_false(found);
    f->now += 1;
    assert_int_equal(gh_store_c2d_next(f->s, "d1", &c, &found, NULL), GH_OK);
    assert_true(found);
    assert_int_equal(c.seq, seq1);
    assert_int_equal(c.deliveries, 1);
    gh_c2d_msg_cleanup(&c);

    /* Complete (the PUBACK). */
    enum gh_c2d_ack ack = GH_C2D_ACK_NONE;
    char mid[GH_C2D_MSGID_MAX + 1];
    assert_int_equal(gh_store_c2d_complete(f->s, "d1", seq1, &ack, mid), GH_OK);
    assert_int_equal(ack, GH_C2D_ACK_FULL);
    assert_string_equal(mid, a.message_id);
    assert_int_equal(gh_store_c2d_complete(f->s, "d1", seq1, &ack, mid), GH_ERR_NOT_FOUND);
    assert_string_equal(gh_store_errmsg(f->s), "message 1 of \"d1\" is not queued");
    /* Another device cannot complete d1's message. */
    fx_create(f, "d2", NULL);
    assert_int_equal(gh_store_c2d_complete(f->s, "d2", seq2, NULL, NULL), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_c2d_complete(f->s, "d1", seq2, NULL, NULL), GH_OK);
    assert_int_equal(gh_store_c2d_count(f->s, "d1", &n), GH_OK);
    assert_int_equal(n, 0);
    gh_c2d_msg_cleanup(&a);
    gh_c2d_msg_cleanup(NULL);
}

static void test_queue_cap(void **state)
{
    struct fx *f = *state;
    fx_create(f, "d1", NULL);
    struct gh_c2d_send m = msg(NULL, "x");
    for (int i = 0; i < GH_C2D_QUEUE_MAX; i++)
        assert_int_equal(gh_store_c2d_enqueue(f->s, "d1", &m, NULL, NULL), GH_OK);
    assert_int_equal(gh_store_c2d_enqueue(f->s, "d1", &m, NULL, NULL), GH_ERR_QUEUE_FULL);
    assert_string_equal(gh_store_errmsg(f->s), "the device queue holds 50 messages already");
    uint32_t n;
    assert_int_equal(gh_store_c2d_count(f->s, "d1", &n), GH_OK);
    assert_int_equal(n, 50);
    /* Locked (in-flight) messages still count. */
    struct gh_c2d_msg got;
    bool found;
    assert_int_equal(gh_store_c2d_next(f->s, "d1", &got, &found, NULL), GH_OK);
    assert_int_equal(gh_store_c2d_enqueue(f->s, "d1", &m, NULL, NULL), GH_ERR_QUEUE_FULL);
    /* Completing one frees a slot. */
    assert_int_equal(gh_store_c2d_complete(f->s, "d1", got.seq, NULL, NULL), GH_OK);
    gh_c2d_msg_cleanup(&got);
    assert_int_equal(gh_store_c2d_enqueue(f->s, "d1", &m, NULL, NULL), GH_OK);
    /* Expired messages do not count: they are removed on enqueue. */
    f->now += GH_C2D_DEFAULT_TTL_MS;
    assert_int_equal(gh_store_c2d_count(f->s, "d1", &n), GH_OK);
    assert_int_equal(n, 0);
    assert_int_equal(gh_store_c2d_enqueue(f->s, "d1", &m, NULL, NULL), GH_OK);
    assert_int_equal(gh_store_c2d_count(f->s, "d1", &n), GH_OK);
    assert_int_equal(n, 1);
    /* Other devices have their own queue. */
    fx_create(f, "d2", NULL);
    assert_int_equal(gh_store_c2d_enqueue(f->s, "d2", &m, NULL, NULL), GH_OK);
}

static void test_ttl(void **state)
{
    struct fx *f = *state;
    fx_create(f, "d1", NULL);
    struct gh_c2d_send m = msg("short", "x");
    m.expiry_ms = FX_T0 + 1000;
    assert_int_equal(gh_store_c2d_enqueue(f->s, "d1", &m, NULL, NULL), GH_OK);
    m = msg("default", "y");
    assert_int_equal(gh_store_c2d_enqueue(f->s, "d1", &m, NULL, NULL), GH_OK);
    m = msg("long", "z");
    m.expiry_ms = FX_T0 + 10 * GH_C2D_MAX_TTL_MS; /* clamped to 2 days */
    assert_int_equal(gh_store_c2d_enqueue(f->s, "d1", &m, NULL, NULL), GH_OK);
    m.expiry_ms = FX_T0; /* already past */
    assert_int_equal(gh_store_c2d_enqueue(f->s, "d1", &m, NULL, NULL), GH_ERR_ARG);
    assert_string_equal(gh_store_errmsg(f->s), "message expiry time is in the past");

    struct gh_c2d_msg got;
    bool found;
    uint32_t expired = 0;
    f->now = FX_T0 + 1000;
    assert_int_equal(gh_store_c2d_next(f->s, "d1", &got, &found, &expired), GH_OK);
    assert_int_equal(expired, 1);
    assert_string_equal(got.message_id, "default");
    assert_int_equal(gh_store_c2d_complete(f->s, "d1", got.seq, NULL, NULL), GH_OK);
    gh_c2d_msg_cleanup(&got);
    f->now = FX_T0 + GH_C2D_MAX_TTL_MS - 1;
    assert_int_equal(gh_store_c2d_next(f->s, "d1", &got, &found, &expired), GH_OK);
    assert_true(found);
    assert_int_equal(got.expiry_ms, FX_T0 + GH_C2D_MAX_TTL_MS);
    gh_c2d_msg_cleanup(&got);
    /* Expires while locked: removed, a completion then finds nothing. */
    f->now = FX_T0 + GH_C2D_MAX_TTL_MS;
    assert_int_equal(gh_store_c2d_next(f->s, "d1", &got, &found, &expired), GH_OK);
    assert_false(found);
    assert_int_equal(expired, 1);
}

static void test_unlock_purge_delete(void **state)
{
    struct fx *f = *state;
    fx_create(f, "d1", NULL);
    struct gh_c2d_send m = msg(NULL, "x");
    for (int i = 0; i < 3; i++)
        assert_int_equal(gh_store_c2d_enqueue(f->s, "d1", &m, NULL, NULL), GH_OK);
    struct gh_c2d_msg got;
    bool found;
    assert_int_equal(gh_store_c2d_next(f->s, "d1", &got, &found, NULL), GH_OK);
    int64_t first = got.seq;
    gh_c2d_msg_cleanup(&got);
    /* A resumed session makes the in-flight message visible at once. */
    assert_int_equal(gh_store_c2d_unlock_all(f->s, "d1"), GH_OK);
    assert_int_equal(gh_store_c2d_next(f->s, "d1", &got, &found, NULL), GH_OK);
    assert_int_equal(got.seq, first);
    assert_int_equal(got.deliveries, 1);
    gh_c2d_msg_cleanup(&got);
    uint32_t n = 0;
    assert_int_equal(gh_store_c2d_purge(f->s, "d1", &n), GH_OK);
    assert_int_equal(n, 3);
    assert_int_equal(gh_store_c2d_purge(f->s, "nobody", &n), GH_ERR_NOT_FOUND);
    /* Deleting the device drops its queue. */
    assert_int_equal(gh_store_c2d_enqueue(f->s, "d1", &m, NULL, NULL), GH_OK);
    assert_int_equal(gh_store_identity_delete(f->s, "d1", NULL, "*"), GH_OK);
    fx_create(f, "d1", NULL);
    assert_int_equal(gh_store_c2d_count(f->s, "d1", &n), GH_OK);
    assert_int_equal(n, 0);
}

static void test_enqueue_errors(void **state)
{
    struct fx *f = *state;
    fx_create(f, "d1", NULL);
    struct gh_c2d_send m = msg("has space", "x");
    assert_int_equal(gh_store_c2d_enqueue(f->s, "d1", &m, NULL, NULL), GH_ERR_ARG);
    assert_string_equal(gh_store_errmsg(f->s), "message id must be 1 to 128 ASCII letters, digits "
                                               "or -:.+%_#*?!(),=@;$'");
    char longid[GH_C2D_MSGID_MAX + 2];
    memset(longid, 'a', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    m = msg(longid, "x");
    assert_int_equal(gh_store_c2d_enqueue(f->s, "d1", &m, NULL, NULL), GH_ERR_ARG);
    longid[GH_C2D_MSGID_MAX] = '\0';
    m = msg(longid, "x");
    assert_int_equal(gh_store_c2d_enqueue(f->s, "d1", &m, NULL, NULL), GH_OK);
    m = msg(NULL, "x");
    m.ack = (enum gh_c2d_ack)7;
    assert_int_equal(gh_store_c2d_enqueue(f->s, "d1", &m, NULL, NULL), GH_ERR_ARG);
    m.ack = GH_C2D_ACK_NONE;
    json_t *arr = json_array();
    m.properties = arr;
    assert_int_equal(gh_store_c2d_enqueue(f->s, "d1", &m, NULL, NULL), GH_ERR_ARG);
    json_decref(arr);
    m.properties = NULL;
    m.body = NULL;
    m.body_len = 3;
    assert_int_equal(gh_store_c2d_enqueue(f->s, "d1", &m, NULL, NULL), GH_ERR_ARG);
    char *big = calloc(1, GH_C2D_BODY_MAX + 1);
    m.body = big;
    m.body_len = GH_C2D_BODY_MAX + 1;
    assert_int_equal(gh_store_c2d_enqueue(f->s, "d1", &m, NULL, NULL), GH_ERR_TOO_LARGE);
    m.body_len = GH_C2D_BODY_MAX;
    assert_int_equal(gh_store_c2d_enqueue(f->s, "d1", &m, NULL, NULL), GH_OK);
    free(big);
    /* Properties text over its cap. */
    json_t *props = json_object();
    char *v = malloc(GH_C2D_PROPS_MAX);
    memset(v, 'p', GH_C2D_PROPS_MAX - 1);
    v[GH_C2D_PROPS_MAX - 1] = '\0';
    json_object_set_new(props, "k", json_string(v));
    free(v);
    m = msg(NULL, "x");
    m.properties = props;
    assert_int_equal(gh_store_c2d_enqueue(f->s, "d1", &m, NULL, NULL), GH_ERR_TOO_LARGE);
    json_decref(props);
}

static void test_corrupted_rows(void **state)
{
    struct fx *f = *state;
    fx_create(f, "d1", NULL);
    struct gh_c2d_send m = msg("m1", "x");
    assert_int_equal(gh_store_c2d_enqueue(f->s, "d1", &m, NULL, NULL), GH_OK);
    struct gh_c2d_msg got;
    bool found;
    static const struct {
        const char *sql;
        const char *msg;
    } cases[] = {
        {"UPDATE c2d SET properties = '{x'", "column properties is not valid JSON"},
        {"UPDATE c2d SET message_id = 'a b'", "column message_id is not a valid message id"},
        {"UPDATE c2d SET ack = 9", "column ack is out of range"},
        {"UPDATE c2d SET body = 'text'", "column body is not a blob"},
        {"UPDATE c2d SET body = zeroblob(70000)", "column body is too long"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fx_sql(f, "UPDATE c2d SET properties = '{}', message_id = 'm1', ack = 0, body = x'00'");
        fx_sql(f, cases[i].sql);
        char want[256];
        snprintf(want, sizeof want, "hub.db: bad row in table c2d, key \"d1\": %s", cases[i].msg);
        assert_int_equal(gh_store_c2d_next(f->s, "d1", &got, &found, NULL), GH_ERR_DB);
        assert_string_equal(gh_store_errmsg(f->s), want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_enqueue_and_deliver, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_queue_cap, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_ttl, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_unlock_purge_delete, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_enqueue_errors, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_corrupted_rows, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
