/* The two-phase commit gh_queue_flush_begin / _sync / _end: a flushed batch
 * is deliverable only after end, appends made meanwhile wait for the next
 * flush, commit and cursor writes are refused while a flush is in flight,
 * batches that need a new or fuller segment are refused (NOBUFS), injected
 * write, sync and cursor failures lose nothing committed and deliver
 * nothing of the failed batch, the cursor can ride a flush, the syncs run
 * on another thread, and what end reported durable survives a reopen and a
 * crash image. Real files in a temp directory, real fdatasync. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "queue_test_util.h"

/* A value begin must overwrite (with NULL on every path but a flush). */
#define NOT_SET ((struct gh_queue_flush *)(uintptr_t)1)

/* Append record number n of class prio with a len-byte payload. */
static uint64_t put(struct gh_queue *q, unsigned prio, unsigned n, size_t len)
{
    return qt_put(q, prio, 0, n, len);
}

static void take_ack(struct gh_queue *q, long want)
{
    uint64_t seq = 0;
    assert_int_equal(qt_take(q, &seq), want);
    assert_int_equal(gh_queue_ack(q, seq), GH_OK);
}

/* The next n deliveries are want[0..n) (-1: nothing deliverable). */
static void expect(struct gh_queue *q, const long *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        long got = qt_take(q, NULL);
        if (got != want[i]) fail_msg("delivery %zu: got %ld, want %ld", i, got, want[i]);
    }
}

#define EXPECT(q, ...)                                                                             \
    expect((q), (const long[]){__VA_ARGS__}, sizeof((const long[]){__VA_ARGS__}) / sizeof(long))

static struct gh_queue_stats stats(struct gh_queue *q)
{
    struct gh_queue_stats s;
    assert_int_equal(gh_queue_stats(q, &s), GH_OK);
    return s;
}

/* Begin a flush that must have something to sync. */
static struct gh_queue_flush *begin(struct gh_queue *q)
{
    struct gh_queue_flush *f = NOT_SET;
    assert_int_equal(gh_queue_flush_begin(q, &f), GH_OK);
    assert_non_null(f);
    assert_ptr_not_equal(f, NOT_SET);
    return f;
}

/* begin must fail with want and hand out nothing. */
static void begin_fails(struct gh_queue *q, gh_err want)
{
    struct gh_queue_flush *f = NOT_SET;
    assert_int_equal(gh_queue_flush_begin(q, &f), want);
    assert_null(f);
}

/* A whole flush on this thread; end's result. */
static gh_err flush(struct gh_queue *q)
{
    gh_queue_flush_sync(begin(q));
    return gh_queue_flush_end(q);
}

static void fail_on(struct qt *t, enum gh_queue_op op, int err, int after)
{
    t->fail_op = op;
    t->fail_errno = err;
    t->fail_after = after;
}

/* A copy of the queue directory as it is now: what a crash of the process
 * would leave (gh_queue_close, which writes the cursor, never runs on it;
 * a power loss is not simulated). */
static struct qt *crash_image(const struct qt *t)
{
    struct qt *c = qt_new();
    DIR *d = opendir(t->dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        char from[512], to[512], b[4096];
        snprintf(from, sizeof from, "%s/%s", t->dir, de->d_name);
        snprintf(to, sizeof to, "%s/%s", c->dir, de->d_name);
        FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
        assert_non_null(in);
        assert_non_null(out);
        size_t n;
        while ((n = fread(b, 1, sizeof b, in)) > 0) assert_int_equal(fwrite(b, 1, n, out), n);
        fclose(in);
        assert_int_equal(fclose(out), 0);
    }
    closedir(d);
    return c;
}

/* The first delivery from a crash image of t (-1: none). */
static long first_after_crash(const struct qt *t)
{
    struct qt *c = crash_image(t);
    struct gh_queue *q = qt_open(c);
    long n = qt_take(q, NULL);
    gh_queue_close(q);
    qt_free(c);
    return n;
}

/* 1. A flushed batch is deliverable after end, not before. */
static void test_deliverable_after_end(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    struct gh_queue *q = qt_open(t);
    put(q, 2, 0, 16);
    assert_int_equal(gh_queue_commit(q), GH_OK); /* creates the segment */
    take_ack(q, 0);
    static const size_t len[] = {100, 13, 700};
    uint64_t seq[3];
    for (unsigned i = 0; i < 3; i++) seq[i] = put(q, 2, i + 1, len[i]);
    struct gh_queue_flush *f = begin(q);
    EXPECT(q, -1);
    assert_int_equal(stats(q).depth_msgs, 0);
    assert_int_equal(stats(q).committed, 1);
    gh_queue_flush_sync(f);
    EXPECT(q, -1); /* synced, but not yet ended */
    assert_int_equal(gh_queue_flush_end(q), GH_OK);
    struct gh_queue_stats s = stats(q);
    assert_int_equal(s.depth_msgs, 3);
    assert_int_equal(s.committed, 4);
    assert_int_equal(s.depth_bytes, gh_queue_record_size(100) + gh_queue_record_size(13) +
                                        gh_queue_record_size(700));
    for (unsigned i = 0; i < 3; i++) {
        char want[1024];
        struct gh_slice p = qt_payload(want, len[i], i + 1);
        struct gh_queue_msg m;
        bool have = false;
        assert_int_equal(gh_queue_next(q, &m, &have), GH_OK);
        assert_true(have);
        assert_int_equal(m.seq, seq[i]);
        assert_int_equal(m.priority, 2);
        assert_false(m.redelivery);
        assert_int_equal(m.payload.len, p.len);
        assert_memory_equal(m.payload.ptr, p.ptr, p.len);
    }
    EXPECT(q, -1);
    gh_queue_close(q);
    qt_free(t);
}

/* 2. Appends made while a flush is in flight wait for the next one. */
static void test_appends_during_flight(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    struct gh_queue *q = qt_open(t);
    put(q, 0, 0, 32);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    take_ack(q, 0);
    for (unsigned i = 1; i <= 3; i++) put(q, 0, i, 32);
    struct gh_queue_flush *f = begin(q);
    put(q, 0, 4, 32);
    put(q, 0, 5, 32);
    gh_queue_flush_sync(f);
    assert_int_equal(gh_queue_flush_end(q), GH_OK);
    assert_int_equal(stats(q).committed, 4);
    assert_int_equal(stats(q).depth_msgs, 3);
    EXPECT(q, 1, 2, 3, -1); /* 4 and 5 are still pending */
    assert_int_equal(flush(q), GH_OK);
    assert_int_equal(stats(q).committed, 6);
    EXPECT(q, 4, 5, -1);
    gh_queue_close(q);
    q = qt_open(t);
    EXPECT(q, 1, 2, 3, 4, 5, -1);
    gh_queue_close(q);
    qt_free(t);
}

/* 3. One flush at a time; commit and cursor writes wait; delivery goes on. */
static void test_conflicts_in_flight(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    struct gh_queue *q = qt_open(t);
    assert_int_equal(gh_queue_flush_end(q), GH_ERR_ARG);
    for (unsigned i = 0; i < 3; i++) put(q, 0, i, 32);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    put(q, 0, 3, 32);
    struct gh_queue_flush *f = begin(q);
    assert_int_equal(gh_queue_commit(q), GH_ERR_CONFLICT);
    assert_int_equal(gh_queue_sync_cursor(q), GH_ERR_CONFLICT);
    begin_fails(q, GH_ERR_CONFLICT);
    /* Committed records are delivered, acked and nacked meanwhile. */
    take_ack(q, 0);
    uint64_t s1 = 0;
    assert_int_equal(qt_take(q, &s1), 1);
    assert_int_equal(gh_queue_nack(q, s1), GH_OK);
    take_ack(q, 1);
    assert_int_equal(stats(q).depth_msgs, 1);
    take_ack(q, 2);
    EXPECT(q, -1);
    gh_queue_flush_sync(f);
    assert_int_equal(gh_queue_flush_end(q), GH_OK);
    assert_int_equal(gh_queue_flush_end(q), GH_ERR_ARG);
    EXPECT(q, 3, -1);
    /* Both work again once the flush ended. */
    put(q, 0, 4, 32);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    assert_int_equal(gh_queue_sync_cursor(q), GH_OK);
    EXPECT(q, 4, -1);
    gh_queue_close(q);
    qt_free(t);
}

/* 4. Nothing pending and no cursor due: no flush. */
static void test_nothing_to_flush(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    struct gh_queue *q = qt_open(t);
    begin_fails(q, GH_OK);
    put(q, 0, 0, 32);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    begin_fails(q, GH_OK);
    /* One ack makes the cursor dirty, not due (cursor_acks is 1024)... */
    take_ack(q, 0);
    begin_fails(q, GH_OK);
    /* ...until cursor_interval_ms passed: a flush of the cursor alone. */
    t->now += GH_QUEUE_CURSOR_INTERVAL_MS_DEFAULT;
    assert_int_equal(flush(q), GH_OK);
    /* The cursor is durable; the fully acked segment is still the one open
     * for appending, so it stays: the next batch flushes into it. */
    assert_int_equal(qt_count_segments(t), 1);
    begin_fails(q, GH_OK);
    put(q, 0, 1, 32);
    assert_int_equal(flush(q), GH_OK);
    gh_queue_close(q);
    qt_free(t);
}

/* 5. A batch that needs a segment created or sealed goes to commit. */
static void test_needs_segment(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    t->opt.segment_bytes = 4096;
    struct gh_queue *q = qt_open(t);
    const size_t rec = gh_queue_record_size(100);
    /* No segment yet. */
    put(q, 0, 0, 100);
    begin_fails(q, GH_ERR_NOBUFS);
    EXPECT(q, -1);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    EXPECT(q, 0);
    char path[512];
    qt_segment(t, 0, path, sizeof path);
    long size = qt_file_size(path);
    assert_true(size > 0);
    /* A batch that fills the segment exactly to its last whole record. */
    unsigned k = (unsigned)((4096 - (size_t)size) / rec);
    assert_true(k > 1);
    for (unsigned i = 1; i <= k; i++) put(q, 0, i, 100);
    assert_int_equal(flush(q), GH_OK);
    assert_int_equal(qt_file_size(path), size + (long)(k * rec));
    /* One more record does not fit. */
    put(q, 0, k + 1, 100);
    begin_fails(q, GH_ERR_NOBUFS);
    for (unsigned i = 1; i <= k; i++) assert_int_equal(qt_take(q, NULL), (long)i);
    EXPECT(q, -1);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    assert_int_equal(qt_count_segments(t), 2);
    EXPECT(q, (long)k + 1, -1);
    /* The new segment takes flushes. */
    put(q, 0, k + 2, 100);
    assert_int_equal(flush(q), GH_OK);
    EXPECT(q, (long)k + 2, -1);
    gh_queue_close(q);
    q = qt_open(t);
    for (unsigned i = 0; i <= k + 2; i++) assert_int_equal(qt_take(q, NULL), (long)i);
    EXPECT(q, -1);
    gh_queue_close(q);
    qt_free(t);
}

/* 6. The segment's sync fails: the batch is cut off the file and never
 * delivered; committed records and appends made meanwhile are kept. */
static void test_sync_fails(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    struct gh_queue *q = qt_open(t);
    for (unsigned i = 0; i < 3; i++) put(q, 0, i, 64);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    char path[512];
    qt_segment(t, 0, path, sizeof path);
    long size = qt_file_size(path);
    put(q, 0, 3, 64);
    put(q, 0, 4, 64);
    fail_on(t, GH_QUEUE_OP_SYNC, EIO, 0);
    struct gh_queue_flush *f = begin(q);
    put(q, 0, 5, 64);
    put(q, 0, 6, 64);
    gh_queue_flush_sync(f);
    assert_int_equal(gh_queue_flush_end(q), GH_ERR_IO);
    t->fail_errno = 0;
    assert_int_equal(qt_file_size(path), size);
    assert_int_equal(stats(q).depth_msgs, 3);
    assert_int_equal(stats(q).committed, 3);
    EXPECT(q, 0, 1, 2, -1);
    /* The segment was sealed: 5 and 6 need a new one. */
    begin_fails(q, GH_ERR_NOBUFS);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    assert_int_equal(qt_count_segments(t), 2);
    EXPECT(q, 5, 6, -1);
    gh_queue_close(q);
    q = qt_open(t);
    EXPECT(q, 0, 1, 2, 5, 6, -1);
    struct gh_queue_stats s = stats(q);
    assert_int_equal(s.torn + s.corrupt, 0);
    gh_queue_close(q);
    qt_free(t);
}

/* 6b. Only one class's sync fails: the other class's batch stays. */
static void test_sync_fails_one_class(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    struct gh_queue *q = qt_open(t);
    put(q, 1, 10, 32);
    put(q, 4, 40, 32);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    char path4[512];
    qt_segment(t, 4, path4, sizeof path4);
    long size4 = qt_file_size(path4);
    put(q, 1, 11, 32);
    put(q, 4, 41, 32);
    put(q, 1, 12, 32);
    fail_on(t, GH_QUEUE_OP_SYNC, EIO, 1); /* class 1 syncs, class 4 fails */
    assert_int_equal(flush(q), GH_ERR_IO);
    t->fail_errno = 0;
    assert_int_equal(qt_file_size(path4), size4);
    EXPECT(q, 10, 11, 12, 40, -1);
    gh_queue_close(q);
    q = qt_open(t);
    EXPECT(q, 10, 11, 12, 40, -1);
    gh_queue_close(q);
    qt_free(t);
}

/* 7. A write fails at begin: no flush, the whole batch (every class) is
 * dropped and cut off the files, the queue goes on. */
static void fail_begin_write(int after)
{
    struct qt *t = qt_new();
    struct gh_queue *q = qt_open(t);
    put(q, 0, 0, 64);
    put(q, 0, 1, 64);
    put(q, 3, 30, 64);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    char path0[512], path3[512];
    qt_segment(t, 0, path0, sizeof path0);
    qt_segment(t, 3, path3, sizeof path3);
    long size0 = qt_file_size(path0), size3 = qt_file_size(path3);
    put(q, 0, 2, 64);
    put(q, 0, 3, 64);
    put(q, 3, 31, 64);
    fail_on(t, GH_QUEUE_OP_WRITE, ENOSPC, after);
    begin_fails(q, GH_ERR_NOSPACE);
    t->fail_errno = 0;
    assert_int_equal(gh_queue_flush_end(q), GH_ERR_ARG); /* nothing in flight */
    assert_int_equal(qt_file_size(path0), size0);
    assert_int_equal(qt_file_size(path3), size3);
    assert_int_equal(stats(q).depth_msgs, 3);
    EXPECT(q, 0, 1, 30, -1);
    /* Dropped, not pending: the next commit holds only the new record. */
    put(q, 0, 4, 64);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    assert_int_equal(stats(q).committed, 4);
    EXPECT(q, 4, -1);
    gh_queue_close(q);
    q = qt_open(t);
    EXPECT(q, 0, 1, 4, 30, -1);
    struct gh_queue_stats s = stats(q);
    assert_int_equal(s.torn + s.corrupt, 0);
    gh_queue_close(q);
    qt_free(t);
}

static void test_write_fails(void **state)
{
    (void)state;
    fail_begin_write(0); /* the first class's write */
    fail_begin_write(1); /* the second's, after the first was written */
}

/* 8. The cursor rides a flush; a failed cursor write is reported at end,
 * deletes nothing and is written again later. */
static void test_cursor(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    t->opt.cursor_acks = 2;
    struct gh_queue *q = qt_open(t);
    for (unsigned i = 1; i <= 6; i++) put(q, 0, i, 32);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    take_ack(q, 1);
    begin_fails(q, GH_OK); /* one ack: not due */
    take_ack(q, 2);
    assert_int_equal(flush(q), GH_OK);
    begin_fails(q, GH_OK); /* written: not due any more */
    /* Durable without gh_queue_close's cursor write. */
    assert_int_equal(first_after_crash(t), 3);

    take_ack(q, 3);
    take_ack(q, 4);
    fail_on(t, GH_QUEUE_OP_RENAME, EIO, 0);
    assert_int_equal(flush(q), GH_ERR_IO);
    t->fail_errno = 0;
    assert_int_equal(first_after_crash(t), 3); /* the old cursor holds */
    assert_int_equal(gh_queue_sync_cursor(q), GH_OK);
    assert_int_equal(first_after_crash(t), 5);

    /* All acked: the segment goes only once the cursor is durable. */
    take_ack(q, 5);
    take_ack(q, 6);
    fail_on(t, GH_QUEUE_OP_RENAME, EIO, 0);
    assert_int_equal(flush(q), GH_ERR_IO);
    t->fail_errno = 0;
    assert_int_equal(qt_count_segments(t), 1);
    assert_int_equal(first_after_crash(t), 5);
    /* Still dirty: the next flush past cursor_interval_ms writes it (the
     * segment, open for appending, stays). */
    t->now += GH_QUEUE_CURSOR_INTERVAL_MS_DEFAULT;
    assert_int_equal(flush(q), GH_OK);
    assert_int_equal(qt_count_segments(t), 1);
    assert_int_equal(first_after_crash(t), -1);
    gh_queue_close(q);
    q = qt_open(t);
    EXPECT(q, -1);
    gh_queue_close(q);
    qt_free(t);
}

/* 9. gh_queue_flush_sync runs on another thread while the queue's thread
 * goes on appending and delivering. */
struct sync_job {
    struct gh_queue_flush *f;
    pthread_t ran_on;
};

static void *sync_thread(void *arg)
{
    struct sync_job *j = arg;
    gh_queue_flush_sync(j->f);
    j->ran_on = pthread_self();
    return NULL;
}

static void test_sync_on_thread(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    struct gh_queue *q = qt_open(t);
    put(q, 0, 0, 32);
    put(q, 0, 1, 32);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    for (unsigned i = 2; i < 50; i++) put(q, 0, i, 200);
    struct sync_job j = {.f = begin(q)};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, sync_thread, &j), 0);
    put(q, 0, 50, 32);
    take_ack(q, 0);
    assert_int_equal(stats(q).depth_msgs, 1);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_false(pthread_equal(j.ran_on, pthread_self()));
    assert_int_equal(gh_queue_flush_end(q), GH_OK);
    for (long i = 1; i < 50; i++) assert_int_equal(qt_take(q, NULL), i);
    EXPECT(q, -1);
    assert_int_equal(flush(q), GH_OK);
    EXPECT(q, 50, -1);
    gh_queue_close(q);
    qt_free(t);
}

/* 10. What end reported durable is there after a reopen with nothing
 * committed since, and in a crash image. */
static void test_durable_after_end(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    struct gh_queue *q = qt_open(t);
    put(q, 0, 0, 32);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    for (unsigned i = 1; i <= 3; i++) put(q, 0, i, 32);
    assert_int_equal(flush(q), GH_OK);
    put(q, 0, 4, 32); /* never committed: lost at close */
    struct qt *c = crash_image(t);
    gh_queue_close(q);
    q = qt_open(t);
    EXPECT(q, 0, 1, 2, 3, -1);
    gh_queue_close(q);
    q = qt_open(c);
    EXPECT(q, 0, 1, 2, 3, -1);
    gh_queue_close(q);
    qt_free(c);
    qt_free(t);
}

/* The segment open for appending is kept when fully acked, but not at the
 * cost of the cap: a queue drained after it filled up has room again (the
 * cursor is made durable first, so the acks cannot be lost). */
static void test_cap_after_drain(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    t->opt.max_bytes = 64 * 1024; /* one segment (default 8 MiB) holds it all */
    struct gh_queue *q = qt_open(t);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    unsigned n = 0;
    char buf[256];
    gh_err rc;
    while ((rc = gh_queue_append(q, 0, 0, qt_payload(buf, 200, n), NULL)) == GH_OK) {
        n++;
        if (n == 1) assert_int_equal(gh_queue_commit(q), GH_OK); /* the open segment */
        if (n % 16 == 0) assert_int_equal(flush(q), GH_OK);
    }
    assert_int_equal(rc, GH_ERR_NOSPACE);
    assert_int_equal(gh_queue_commit(q), GH_OK); /* the rest, if any */
    assert_int_equal(qt_count_segments(t), 1);
    for (unsigned i = 0; i < n; i++) take_ack(q, (long)i);
    /* Full: the cursor is written, the acked open segment goes, the record
     * is taken. */
    assert_int_equal(put(q, 0, n, 200), (uint64_t)n + 1u);
    assert_int_equal(qt_count_segments(t), 0);
    assert_int_equal(gh_queue_commit(q), GH_OK); /* a new segment */
    assert_int_equal(qt_count_segments(t), 1);
    assert_int_equal(qt_take(q, NULL), (long)n);
    struct gh_queue_stats st;
    assert_int_equal(gh_queue_stats(q, &st), GH_OK);
    assert_true(st.disk_bytes < 1024);
    assert_int_equal(first_after_crash(t), (long)n); /* the acks were durable */
    gh_queue_close(q);
    qt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deliverable_after_end),
        cmocka_unit_test(test_appends_during_flight),
        cmocka_unit_test(test_conflicts_in_flight),
        cmocka_unit_test(test_nothing_to_flush),
        cmocka_unit_test(test_needs_segment),
        cmocka_unit_test(test_sync_fails),
        cmocka_unit_test(test_sync_fails_one_class),
        cmocka_unit_test(test_write_fails),
        cmocka_unit_test(test_cursor),
        cmocka_unit_test(test_sync_on_thread),
        cmocka_unit_test(test_durable_after_end),
        cmocka_unit_test(test_cap_after_drain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
