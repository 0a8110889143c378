/* The durable queue: order, acks, nacks, TTL, cap, reopen, group commit,
 * injected I/O failures. Real files in a temp directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "queue_test_util.h"

static void test_empty(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    struct gh_queue *q = qt_open(t);
    assert_int_equal(qt_take(q, NULL), -1);
    struct gh_queue_stats s;
    assert_int_equal(gh_queue_stats(q, &s), GH_OK);
    assert_int_equal(s.depth_msgs, 0);
    assert_int_equal(s.oldest_age_ms, 0);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    assert_int_equal(s.syncs, 0);
    gh_queue_close(q);
    gh_queue_close(NULL);
    qt_free(t);
}

static void test_priority_order(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    struct gh_queue *q = qt_open(t);
    qt_put(q, 5, 0, 50, 16);
    qt_put(q, 0, 0, 1, 16);
    qt_put(q, GH_QUEUE_PRIORITY_DEFAULT, 0, 100, 16);
    qt_put(q, 0, 0, 2, 16);
    qt_put(q, 5, 0, 51, 16);
    /* Not deliverable before the commit. */
    assert_int_equal(qt_take(q, NULL), -1);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    long want[] = {1, 2, 50, 51, 100, -1};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        assert_int_equal(qt_take(q, NULL), want[i]);
    struct gh_queue_msg m;
    bool have = true;
    assert_int_equal(gh_queue_next(q, &m, &have), GH_OK);
    assert_false(have);
    gh_queue_close(q);
    qt_free(t);
}

static void test_fifo_and_group_commit(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    struct gh_queue *q = qt_open(t);
    struct gh_queue_stats s;
    for (unsigned i = 0; i < 1000; i++) qt_put(q, 3, 0, i, 64);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    assert_int_equal(gh_queue_stats(q, &s), GH_OK);
    /* One fdatasync for the segment and one fsync of the new directory entry. */
    assert_int_equal(s.syncs, 2);
    for (unsigned i = 0; i < 1000; i++) qt_put(q, 3, 0, 1000 + i, 64);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    assert_int_equal(gh_queue_stats(q, &s), GH_OK);
    assert_int_equal(s.syncs, 3);
    assert_int_equal(s.depth_msgs, 2000);
    assert_int_equal(s.depth_bytes, 2000 * gh_queue_record_size(64));
    assert_int_equal(s.committed, 2000);
    for (unsigned i = 0; i < 2000; i++) {
        uint64_t seq;
        assert_int_equal(qt_take(q, &seq), (long)i);
        assert_int_equal(gh_queue_ack(q, seq), GH_OK);
    }
    assert_int_equal(qt_take(q, NULL), -1);
    assert_int_equal(gh_queue_stats(q, &s), GH_OK);
    assert_int_equal(s.depth_msgs, 0);
    assert_int_equal(s.acked, 2000);
    assert_int_equal(s.delivered, 2000);
    gh_queue_close(q);
    qt_free(t);
}

static void test_out_of_order_acks_and_reopen(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    struct gh_queue *q = qt_open(t);
    uint64_t seq[6];
    for (unsigned i = 1; i <= 5; i++) qt_put(q, 0, 0, i, 32);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    for (unsigned i = 1; i <= 5; i++) assert_int_equal(qt_take(q, &seq[i]), (long)i);
    assert_int_equal(gh_queue_ack(q, seq[3]), GH_OK);
    assert_int_equal(gh_queue_ack(q, seq[5]), GH_OK);
    assert_int_equal(gh_queue_ack(q, seq[1]), GH_OK);
    assert_int_equal(gh_queue_ack(q, seq[1]), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_queue_ack(q, 999), GH_ERR_NOT_FOUND);
    struct gh_queue_stats s;
    assert_int_equal(gh_queue_stats(q, &s), GH_OK);
    assert_int_equal(s.outstanding, 2);
    assert_int_equal(s.depth_msgs, 2);
    gh_queue_close(q); /* writes the cursor: first unacked is 2 */

    q = qt_open(t);
    /* 3 and 5 were acked past the contiguous prefix: delivered again. */
    long want[] = {2, 3, 4, 5, -1};
    for (size_t i = 0; i < 5; i++) assert_int_equal(qt_take(q, NULL), want[i]);
    /* Sequence numbers continue after a reopen. */
    assert_true(qt_put(q, 0, 0, 6, 32) > seq[5]);
    gh_queue_close(q);
    qt_free(t);
}

static void test_reopen_drops_acked(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    struct gh_queue *q = qt_open(t);
    for (unsigned i = 1; i <= 10; i++) qt_put(q, 2, 0, i, 32);
    qt_put(q, 7, 0, 70, 32);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    for (unsigned i = 1; i <= 6; i++) {
        uint64_t s;
        assert_int_equal(qt_take(q, &s), (long)i);
        assert_int_equal(gh_queue_ack(q, s), GH_OK);
    }
    assert_int_equal(gh_queue_sync_cursor(q), GH_OK);
    /* Simulated crash: no cursor write at close. Acks after the cursor
     * write would be delivered again; there are none. */
    gh_queue_close(q);
    q = qt_open(t);
    struct gh_queue_stats st;
    assert_int_equal(gh_queue_stats(q, &st), GH_OK);
    assert_int_equal(st.depth_msgs, 5);
    long want[] = {7, 8, 9, 10, 70, -1};
    for (size_t i = 0; i < 6; i++) assert_int_equal(qt_take(q, NULL), want[i]);
    gh_queue_close(q);
    qt_free(t);
}

static void test_nack(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    struct gh_queue *q = qt_open(t);
    uint64_t s[6];
    for (unsigned i = 1; i <= 5; i++) qt_put(q, 4, 0, i, 32);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    for (unsigned i = 1; i <= 3; i++) assert_int_equal(qt_take(q, &s[i]), (long)i);
    assert_int_equal(gh_queue_nack(q, s[2]), GH_OK);
    assert_int_equal(gh_queue_nack(q, s[2]), GH_ERR_NOT_FOUND); /* not outstanding */
    assert_int_equal(gh_queue_nack(q, 12345), GH_ERR_NOT_FOUND);
    struct gh_queue_msg m;
    bool have;
    assert_int_equal(gh_queue_next(q, &m, &have), GH_OK);
    assert_true(have);
    assert_int_equal(qt_num(m.payload), 2);
    assert_true(m.redelivery);
    assert_int_equal(m.seq, s[2]);
    assert_int_equal(m.priority, 4);
    assert_int_equal(qt_take(q, &s[4]), 4);
    assert_int_equal(gh_queue_ack(q, s[1]), GH_OK);
    assert_int_equal(gh_queue_nack(q, s[1]), GH_ERR_NOT_FOUND); /* acked */
    /* The link drops: everything outstanding comes again, oldest first. */
    gh_queue_nack_all(q);
    long want[] = {2, 3, 4, 5, -1};
    for (size_t i = 0; i < 5; i++) assert_int_equal(qt_take(q, NULL), want[i]);
    /* An ack of a nacked record retires it (the hub got it after all). */
    gh_queue_nack_all(q);
    assert_int_equal(gh_queue_ack(q, s[3]), GH_OK);
    long want2[] = {2, 4, 5, -1};
    for (size_t i = 0; i < 4; i++) assert_int_equal(qt_take(q, NULL), want2[i]);
    struct gh_queue_stats st;
    assert_int_equal(gh_queue_stats(q, &st), GH_OK);
    assert_int_equal(st.nacked, 1 + 3 + 4);
    gh_queue_close(q);
    qt_free(t);
}

static void test_ttl(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    struct gh_queue *q = qt_open(t);
    qt_put(q, 1, 1000, 1, 32);
    qt_put(q, 1, 0, 2, 32);
    qt_put(q, 1, 5000, 3, 32);
    qt_put(q, 1, 1000, 4, 32);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    t->now += 999;
    uint64_t s1, s3;
    assert_int_equal(qt_take(q, &s1), 1); /* not yet expired */
    t->now += 1;
    assert_int_equal(qt_take(q, NULL), 2);
    assert_int_equal(qt_take(q, &s3), 3);
    assert_int_equal(qt_take(q, NULL), -1); /* 4 expired: skipped */
    /* A nacked record that expired meanwhile is not sent again. */
    assert_int_equal(gh_queue_nack(q, s1), GH_OK);
    assert_int_equal(qt_take(q, NULL), -1);
    t->now += 4000;
    assert_int_equal(gh_queue_nack(q, s3), GH_OK);
    assert_int_equal(qt_take(q, NULL), -1);
    struct gh_queue_stats st;
    assert_int_equal(gh_queue_stats(q, &st), GH_OK);
    assert_int_equal(st.expired, 3);
    assert_int_equal(st.delivered, 3);
    assert_int_equal(st.depth_msgs, 1); /* 2 is outstanding */
    gh_queue_close(q);
    qt_free(t);
}

static void test_cap(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    t->opt.max_bytes = 8192;
    t->opt.segment_bytes = 4096;
    struct gh_queue *q = qt_open(t);
    unsigned n = 0;
    gh_err rc;
    char buf[256];
    while ((rc = gh_queue_append(q, 0, 0, qt_payload(buf, 200, n), NULL)) == GH_OK) {
        n++;
        if (n % 7 == 0) assert_int_equal(gh_queue_commit(q), GH_OK);
    }
    assert_int_equal(rc, GH_ERR_NOSPACE);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    struct gh_queue_stats st;
    assert_int_equal(gh_queue_stats(q, &st), GH_OK);
    assert_int_equal(st.refused, 1);
    assert_int_equal(st.depth_msgs, n);
    assert_true(st.disk_bytes <= 8192);
    gh_queue_close(q);
    /* Nothing lost: all of them after a reopen, in order. */
    q = qt_open(t);
    for (unsigned i = 0; i < n; i++) {
        uint64_t s;
        assert_int_equal(qt_take(q, &s), (long)i);
        assert_int_equal(gh_queue_ack(q, s), GH_OK);
    }
    /* At the cap the queue first writes the cursor: the acked segments go
     * and space returns. */
    assert_int_equal(gh_queue_append(q, 0, 0, qt_payload(buf, 200, n), NULL), GH_OK);
    assert_int_equal(qt_count_segments(t), 0);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    assert_int_equal(qt_count_segments(t), 1);
    gh_queue_close(q);
    /* The acks were durable: only the new record is left. */
    q = qt_open(t);
    assert_int_equal(qt_take(q, NULL), (long)n);
    assert_int_equal(qt_take(q, NULL), -1);
    gh_queue_close(q);
    qt_free(t);
}

static void test_rotation_and_deletion(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    t->opt.segment_bytes = 4096;
    t->opt.cursor_acks = 10;
    struct gh_queue *q = qt_open(t);
    for (unsigned i = 0; i < 100; i++) qt_put(q, 6, 0, i, 200);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    int segs = qt_count_segments(t);
    assert_true(segs >= 6);
    struct gh_queue_stats st;
    assert_int_equal(gh_queue_stats(q, &st), GH_OK);
    /* One sync per touched segment plus the directory. */
    assert_int_equal(st.syncs, (uint64_t)segs + 1);
    for (unsigned i = 0; i < 50; i++) {
        uint64_t s;
        assert_int_equal(qt_take(q, &s), (long)i);
        assert_int_equal(gh_queue_ack(q, s), GH_OK);
    }
    /* The cursor is due (cursor_acks): commit writes it and deletes. */
    assert_int_equal(gh_queue_commit(q), GH_OK);
    assert_true(qt_count_segments(t) < segs);
    assert_true(qt_count_segments(t) > 0);
    gh_queue_close(q);
    q = qt_open(t);
    assert_int_equal(qt_take(q, NULL), 50);
    gh_queue_close(q);
    qt_free(t);
}

static void test_window(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    t->opt.window = 4;
    struct gh_queue *q = qt_open(t);
    for (unsigned i = 0; i < 6; i++) qt_put(q, 0, 0, i, 16);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    uint64_t s[6];
    for (unsigned i = 0; i < 4; i++) assert_int_equal(qt_take(q, &s[i]), (long)i);
    struct gh_queue_msg m;
    bool have;
    assert_int_equal(gh_queue_next(q, &m, &have), GH_ERR_TOO_MANY);
    assert_false(have);
    /* An out-of-order ack does not free a slot: 0 still holds the cursor. */
    assert_int_equal(gh_queue_ack(q, s[2]), GH_OK);
    assert_int_equal(gh_queue_next(q, &m, &have), GH_ERR_TOO_MANY);
    assert_int_equal(gh_queue_ack(q, s[0]), GH_OK);
    assert_int_equal(qt_take(q, NULL), 4);
    gh_queue_close(q);
    qt_free(t);
}

static void test_argument_errors(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    struct gh_queue *q = NULL, *q2 = NULL;
    t->opt.segment_bytes = 100;
    assert_int_equal(gh_queue_open(t->dir, &t->opt, &q), GH_ERR_ARG);
    t->opt.segment_bytes = 0;
    t->opt.window = GH_QUEUE_WINDOW_MAX + 1;
    assert_int_equal(gh_queue_open(t->dir, &t->opt, &q), GH_ERR_ARG);
    t->opt.window = 0;
    assert_int_equal(gh_queue_open("", &t->opt, &q), GH_ERR_ARG);
    assert_int_equal(gh_queue_open("/nonexistent-gh/x/y", &t->opt, &q), GH_ERR_NOENT);
    assert_null(q);
    q = qt_open(t);
    assert_int_equal(gh_queue_open(t->dir, &t->opt, &q2), GH_ERR_CONFLICT);
    assert_null(q2);
    char buf[64];
    assert_int_equal(gh_queue_append(q, GH_QUEUE_PRIORITIES, 0, qt_payload(buf, 16, 1), NULL),
                     GH_ERR_ARG);
    static uint8_t big[GH_QUEUE_PAYLOAD_MAX + 1];
    assert_int_equal(gh_queue_append(q, 0, 0, (struct gh_slice){big, sizeof big}, NULL),
                     GH_ERR_TOO_LARGE);
    gh_queue_close(q);
    /* batch_max: commit first. */
    t->opt.batch_max = 1000;
    q = qt_open(t);
    unsigned n = 0;
    gh_err rc;
    while ((rc = gh_queue_append(q, 0, 0, qt_payload(buf, 60, n), NULL)) == GH_OK) n++;
    assert_int_equal(rc, GH_ERR_NOBUFS);
    assert_int_equal(n, 1000 / gh_queue_record_size(60));
    assert_int_equal(gh_queue_commit(q), GH_OK);
    assert_int_equal(gh_queue_append(q, 0, 0, qt_payload(buf, 60, n), NULL), GH_OK);
    gh_queue_close(q);
    qt_free(t);
}

/* A failed write or sync loses nothing committed and commits nothing. */
static void fail_commit(size_t len, enum gh_queue_op op, int err, int after, gh_err want)
{
    struct qt *t = qt_new();
    t->opt.segment_bytes = 4096;
    struct gh_queue *q = qt_open(t);
    for (unsigned i = 0; i < 5; i++) qt_put(q, 0, 0, i, len);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    for (unsigned i = 5; i < 10; i++) qt_put(q, 0, 0, i, len);
    t->fail_op = op;
    t->fail_errno = err;
    t->fail_after = after;
    assert_int_equal(gh_queue_commit(q), want);
    t->fail_errno = 0;
    struct gh_queue_stats st;
    assert_int_equal(gh_queue_stats(q, &st), GH_OK);
    assert_int_equal(st.depth_msgs, 5);
    /* Still usable: the next batch commits. */
    qt_put(q, 0, 0, 10, len);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    gh_queue_close(q);
    q = qt_open(t);
    long want_n[] = {0, 1, 2, 3, 4, 10, -1};
    for (size_t i = 0; i < 7; i++) assert_int_equal(qt_take(q, NULL), want_n[i]);
    assert_int_equal(gh_queue_stats(q, &st), GH_OK);
    assert_int_equal(st.corrupt + st.torn, 0);
    gh_queue_close(q);
    qt_free(t);
}

static void test_enospc_write(void **state)
{
    (void)state;
    fail_commit(100, GH_QUEUE_OP_WRITE, ENOSPC, 0, GH_ERR_NOSPACE);
}

static void test_eio_sync(void **state)
{
    (void)state;
    fail_commit(100, GH_QUEUE_OP_SYNC, EIO, 0, GH_ERR_IO);
}

static void test_enospc_new_segment(void **state)
{
    (void)state;
    /* 5 records of 740 bytes fill the first segment; the next batch goes to
     * a new one whose header write (first write) or records write (second)
     * fails; then the sync of the new segment. */
    fail_commit(700, GH_QUEUE_OP_WRITE, ENOSPC, 0, GH_ERR_NOSPACE);
    fail_commit(700, GH_QUEUE_OP_WRITE, ENOSPC, 1, GH_ERR_NOSPACE);
    fail_commit(700, GH_QUEUE_OP_SYNC, EIO, 1, GH_ERR_IO);
}

static void test_cursor_failures(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    struct gh_queue *q = qt_open(t);
    uint64_t s;
    qt_put(q, 0, 0, 1, 16);
    qt_put(q, 0, 0, 2, 16);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    assert_int_equal(qt_take(q, &s), 1);
    assert_int_equal(gh_queue_ack(q, s), GH_OK);
    t->fail_op = GH_QUEUE_OP_RENAME;
    t->fail_errno = EIO;
    assert_int_equal(gh_queue_sync_cursor(q), GH_ERR_IO);
    t->fail_op = GH_QUEUE_OP_WRITE;
    t->fail_errno = ENOSPC;
    assert_int_equal(gh_queue_sync_cursor(q), GH_ERR_NOSPACE);
    t->fail_op = GH_QUEUE_OP_SYNC;
    assert_int_equal(gh_queue_sync_cursor(q), GH_ERR_NOSPACE);
    t->fail_errno = 0;
    assert_int_equal(gh_queue_sync_cursor(q), GH_OK);
    gh_queue_close(q);
    q = qt_open(t);
    assert_int_equal(qt_take(q, NULL), 2);
    gh_queue_close(q);
    qt_free(t);
}

static void test_stats_age(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    struct gh_queue *q = qt_open(t);
    qt_put(q, 9, 0, 1, 40);
    t->now += 500;
    qt_put(q, 0, 0, 2, 40);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    t->now += 1500;
    struct gh_queue_stats st;
    assert_int_equal(gh_queue_stats(q, &st), GH_OK);
    assert_int_equal(st.oldest_age_ms, 2000);
    assert_int_equal(st.depth_msgs, 2);
    assert_int_equal(st.depth_bytes, 2 * gh_queue_record_size(40));
    uint64_t s;
    assert_int_equal(qt_take(q, &s), 2);
    assert_int_equal(qt_take(q, NULL), 1);
    assert_int_equal(gh_queue_stats(q, &st), GH_OK);
    assert_int_equal(st.oldest_age_ms, 2000);
    assert_int_equal(st.outstanding, 2);
    gh_queue_close(q);
    qt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_priority_order),
        cmocka_unit_test(test_fifo_and_group_commit),
        cmocka_unit_test(test_out_of_order_acks_and_reopen),
        cmocka_unit_test(test_reopen_drops_acked),
        cmocka_unit_test(test_nack),
        cmocka_unit_test(test_ttl),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_rotation_and_deletion),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_argument_errors),
        cmocka_unit_test(test_enospc_write),
        cmocka_unit_test(test_eio_sync),
        cmocka_unit_test(test_enospc_new_segment),
        cmocka_unit_test(test_cursor_failures),
        cmocka_unit_test(test_stats_age),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
