/* Recovery of damaged queue directories: torn tails at every offset,
 * flipped bytes, garbage, future versions, a bad cursor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "queue_test_util.h"

#define PAYLOAD 32u
#define REC (GH_QUEUE_RECORD_HEADER + PAYLOAD)
#define SEGHDR 24u

struct img {
    uint8_t b[4096];
    size_t n;
    char path[512];
};

/* A queue with n records of class 0 in one segment; its bytes in *im. */
static void build(struct qt *t, unsigned n, struct img *im)
{
    struct gh_queue *q = NULL;
    char buf[64];
    assert_int_equal(gh_queue_open(t->dir, &t->opt, &q), GH_OK);
    for (unsigned i = 1; i <= n; i++)
        assert_int_equal(gh_queue_append(q, 0, 0, qt_payload(buf, PAYLOAD, i), NULL), GH_OK);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    gh_queue_close(q);
    qt_segment(t, 0, im->path, sizeof im->path);
    FILE *f = fopen(im->path, "rb");
    assert_non_null(f);
    im->n = fread(im->b, 1, sizeof im->b, f);
    fclose(f);
    assert_int_equal(im->n, SEGHDR + n * REC);
}

static void put_file(const char *path, const uint8_t *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* Open, take everything (without acking, so nothing is deleted), return the
 * numbers delivered in order. */
static size_t drain(struct qt *t, unsigned *out, size_t cap, struct gh_queue_stats *st)
{
    struct gh_queue *q = NULL;
    assert_int_equal(gh_queue_open(t->dir, &t->opt, &q), GH_OK);
    size_t n = 0;
    for (;;) {
        struct gh_queue_msg m;
        bool have;
        assert_int_equal(gh_queue_next(q, &m, &have), GH_OK);
        if (!have) break;
        assert_true(n < cap);
        out[n++] = qt_num(m.payload);
    }
    assert_int_equal(gh_queue_stats(q, st), GH_OK);
    gh_queue_close(q);
    return n;
}

static void no_cursor(struct qt *t)
{
    char p[512];
    snprintf(p, sizeof p, "%s/cursor", t->dir);
    unlink(p);
}

static void test_torn_every_offset(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    struct img im;
    build(t, 5, &im);
    size_t last = SEGHDR + 4 * REC;
    for (size_t cut = last; cut < im.n; cut++) {
        put_file(im.path, im.b, cut);
        no_cursor(t);
        unsigned got[8];
        struct gh_queue_stats st;
        size_t n = drain(t, got, 8, &st);
        assert_int_equal(n, 4);
        for (unsigned i = 0; i < 4; i++) assert_int_equal(got[i], i + 1);
        assert_int_equal(st.torn, cut > last ? 1 : 0);
        assert_int_equal(st.corrupt, 0);
        /* Truncated away: the file ends at the last intact record. */
        assert_int_equal(qt_file_size(im.path), (long)last);
    }
    qt_free(t);
}

static void test_flip_middle_record(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    struct img im;
    build(t, 5, &im);
    size_t mid = SEGHDR + 2 * REC; /* record 3 */
    for (size_t k = mid; k < mid + REC; k++) {
        uint8_t c[4096];
        memcpy(c, im.b, im.n);
        c[k] ^= 0x20;
        put_file(im.path, c, im.n);
        no_cursor(t);
        unsigned got[8];
        struct gh_queue_stats st;
        size_t n = drain(t, got, 8, &st);
        assert_int_equal(n, 4);
        unsigned want[] = {1, 2, 4, 5};
        for (unsigned i = 0; i < 4; i++) assert_int_equal(got[i], want[i]);
        assert_int_equal(st.corrupt, 1);
        assert_int_equal(st.torn, 0);
        assert_int_equal(qt_file_size(im.path), (long)im.n); /* kept, skipped */
    }
    qt_free(t);
}

static void test_flip_last_and_torn(void **state)
{
    (void)state;
    /* The corruption test of the issue: a flipped byte in the middle and a
     * torn last record, together. */
    struct qt *t = qt_new();
    struct img im;
    build(t, 6, &im);
    im.b[SEGHDR + 1 * REC + 45] ^= 1;
    put_file(im.path, im.b, im.n - 10);
    no_cursor(t);
    unsigned got[8];
    struct gh_queue_stats st;
    size_t n = drain(t, got, 8, &st);
    assert_int_equal(n, 4);
    unsigned want[] = {1, 3, 4, 5};
    for (unsigned i = 0; i < 4; i++) assert_int_equal(got[i], want[i]);
    assert_int_equal(st.corrupt, 1);
    assert_int_equal(st.torn, 1);
    qt_free(t);
}

static void test_garbage_files(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    uint8_t g[3000];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof g; i++) {
        x = x * 1103515245u + 12345u;
        g[i] = (uint8_t)(x >> 16);
    }
    char p[512];
    snprintf(p, sizeof p, "%s/p03-0000000000000007.seg", t->dir);
    put_file(p, g, sizeof g);
    snprintf(p, sizeof p, "%s/notes.txt", t->dir);
    put_file(p, g, 10);
    snprintf(p, sizeof p, "%s/p04-0000000000000009.seg", t->dir);
    put_file(p, g, 5); /* shorter than a header: removed */
    struct gh_queue *q = NULL;
    assert_int_equal(gh_queue_open(t->dir, &t->opt, &q), GH_OK);
    struct gh_queue_stats st;
    assert_int_equal(gh_queue_stats(q, &st), GH_OK);
    assert_int_equal(st.depth_msgs, 0);
    assert_int_equal(st.corrupt, 1); /* the header; the records region is torn */
    assert_int_equal(st.torn, 1);
    assert_int_equal(qt_file_size(p), -1);
    char buf[64];
    uint64_t seq;
    /* Still works, and new segments sort after the garbage one. */
    assert_int_equal(gh_queue_append(q, 3, 0, qt_payload(buf, 20, 42), &seq), GH_OK);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    struct gh_queue_msg m;
    bool have;
    assert_int_equal(gh_queue_next(q, &m, &have), GH_OK);
    assert_true(have);
    assert_int_equal(qt_num(m.payload), 42);
    gh_queue_close(q);
    snprintf(p, sizeof p, "%s/notes.txt", t->dir);
    assert_int_equal(qt_file_size(p), 10); /* unknown files are left alone */
    qt_free(t);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void test_future_segment_version(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    struct img im;
    build(t, 2, &im);
    im.b[5] = 2; /* version 2, header CRC fixed up */
    put_u32(im.b + 20, gh_queue_crc32c(0, im.b, 20));
    put_file(im.path, im.b, im.n);
    struct gh_queue *q = NULL;
    assert_int_equal(gh_queue_open(t->dir, &t->opt, &q), GH_ERR_UNSUPPORTED);
    assert_null(q);
    assert_int_equal(qt_file_size(im.path), (long)im.n); /* untouched */
    qt_free(t);
}

static void test_future_record_version(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    struct img im;
    build(t, 3, &im);
    uint8_t *r = im.b + SEGHDR + REC; /* record 2: version 2, intact */
    r[8] = 2;
    put_u32(r + 4, gh_queue_crc32c(0, r + 8, REC - 8));
    put_file(im.path, im.b, im.n);
    unsigned got[8];
    struct gh_queue_stats st;
    size_t n = drain(t, got, 8, &st);
    assert_int_equal(n, 2);
    assert_int_equal(got[0], 1);
    assert_int_equal(got[1], 3);
    assert_int_equal(st.corrupt, 1);
    qt_free(t);
}

static void test_cursor_damage(void **state)
{
    (void)state;
    struct qt *t = qt_new();
    struct gh_queue *q = NULL;
    char buf[64], p[512];
    assert_int_equal(gh_queue_open(t->dir, &t->opt, &q), GH_OK);
    for (unsigned i = 1; i <= 3; i++)
        assert_int_equal(gh_queue_append(q, 0, 0, qt_payload(buf, 20, i), NULL), GH_OK);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    struct gh_queue_msg m;
    bool have;
    assert_int_equal(gh_queue_next(q, &m, &have), GH_OK);
    assert_int_equal(gh_queue_ack(q, m.seq), GH_OK);
    gh_queue_close(q);

    snprintf(p, sizeof p, "%s/cursor", t->dir);
    FILE *f = fopen(p, "r+b");
    assert_non_null(f);
    uint8_t c[256];
    size_t n = fread(c, 1, sizeof c, f);
    assert_int_equal(n, 24 + 16 * GH_QUEUE_PRIORITIES + 4);
    fclose(f);

    /* Corrupt: everything is delivered again (at-least-once). */
    uint8_t d[256];
    memcpy(d, c, n);
    d[30] ^= 1;
    put_file(p, d, n);
    unsigned got[8];
    struct gh_queue_stats st;
    assert_int_equal(drain(t, got, 8, &st), 3);
    assert_int_equal(st.corrupt, 1);
    /* Short. */
    put_file(p, c, n - 1);
    assert_int_equal(drain(t, got, 8, &st), 3);
    assert_int_equal(st.corrupt, 1);
    /* Intact: only 2 and 3. */
    put_file(p, c, n);
    assert_int_equal(drain(t, got, 8, &st), 2);
    assert_int_equal(got[0], 2);
    assert_int_equal(st.corrupt, 0);
    /* A future version refuses to open. */
    memcpy(d, c, n);
    d[5] = 2;
    put_u32(d + n - 4, gh_queue_crc32c(0, d, n - 4));
    put_file(p, d, n);
    assert_int_equal(gh_queue_open(t->dir, &t->opt, &q), GH_ERR_UNSUPPORTED);
    qt_free(t);
}

static void test_corruption_after_open(void **state)
{
    (void)state;
    /* Bit rot in a segment written by this process: found when read,
     * skipped and counted, the rest delivered. */
    struct qt *t = qt_new();
    struct gh_queue *q = NULL;
    char buf[64], p[512];
    assert_int_equal(gh_queue_open(t->dir, &t->opt, &q), GH_OK);
    for (unsigned i = 1; i <= 4; i++)
        assert_int_equal(gh_queue_append(q, 0, 0, qt_payload(buf, PAYLOAD, i), NULL), GH_OK);
    assert_int_equal(gh_queue_commit(q), GH_OK);
    qt_segment(t, 0, p, sizeof p);
    int fd = open(p, O_WRONLY);
    assert_true(fd >= 0);
    uint8_t z = 0xff;
    assert_int_equal(pwrite(fd, &z, 1, SEGHDR + REC + 50), 1);
    close(fd);
    unsigned want[] = {1, 3, 4};
    for (unsigned i = 0; i < 3; i++) {
        struct gh_queue_msg m;
        bool have;
        assert_int_equal(gh_queue_next(q, &m, &have), GH_OK);
        assert_true(have);
        assert_int_equal(qt_num(m.payload), want[i]);
    }
    struct gh_queue_stats st;
    assert_int_equal(gh_queue_stats(q, &st), GH_OK);
    assert_int_equal(st.corrupt, 1);
    gh_queue_close(q);
    qt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_torn_every_offset),      cmocka_unit_test(test_flip_middle_record),
        cmocka_unit_test(test_flip_last_and_torn),     cmocka_unit_test(test_garbage_files),
        cmocka_unit_test(test_future_segment_version), cmocka_unit_test(test_future_record_version),
        cmocka_unit_test(test_cursor_damage),          cmocka_unit_test(test_corruption_after_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
