/* Queue record codec and CRC32C. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "queue/queue.h"

static size_t encode(uint8_t *buf, size_t cap, uint64_t seq, const char *body)
{
    struct gh_writer w;
    struct gh_queue_record rec = {.flags = 0x5a,
                                  .seq = seq,
                                  .enqueue_ms = 1000,
                                  .expiry_ms = 2000,
                                  .payload = {(const uint8_t *)body, strlen(body)}};
    gh_writer_init(&w, buf, cap);
    assert_int_equal(gh_queue_record_encode(&w, &rec), GH_OK);
    return w.len;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Recompute the CRC after editing a record (crafts "intact" odd records). */
static void reseal(uint8_t *b, size_t n)
{
    put_u32(b + 4, gh_queue_crc32c(0, b + 8, n - 8));
}

static void test_crc32c_vector(void **state)
{
    (void)state;
    assert_int_equal(gh_queue_crc32c(0, "123456789", 9), 0xe3069283u);
    assert_int_equal(gh_queue_crc32c(0, "", 0), 0);
    /* Incremental equals one shot, across the 8-byte fast path. */
    const char *s = "The quick brown fox jumps over the lazy dog";
    uint32_t one = gh_queue_crc32c(0, s, strlen(s));
    uint32_t two = gh_queue_crc32c(gh_queue_crc32c(0, s, 13), s + 13, strlen(s) - 13);
    assert_int_equal(one, two);
    assert_int_equal(one, 0x22620404u);
}

static void test_roundtrip_and_layout(void **state)
{
    (void)state;
    uint8_t b[128];
    size_t n = encode(b, sizeof b, 7, "hello");
    assert_int_equal(n, gh_queue_record_size(5));
    assert_int_equal(n, 45);
    static const uint8_t head[] = {'G', 'H', 'Q', 'R'};
    assert_memory_equal(b, head, 4);
    assert_int_equal(b[8], GH_QUEUE_RECORD_VERSION);
    assert_int_equal(b[9], 0x5a);
    assert_int_equal(b[15], 5); /* length */
    assert_int_equal(b[23], 7); /* seq */
    struct gh_reader r;
    struct gh_queue_record rec;
    gh_reader_init(&r, b, n);
    assert_int_equal(gh_queue_record_decode(&r, &rec), GH_OK);
    assert_int_equal(r.pos, n);
    assert_int_equal(rec.seq, 7);
    assert_int_equal(rec.flags, 0x5a);
    assert_int_equal(rec.enqueue_ms, 1000);
    assert_int_equal(rec.expiry_ms, 2000);
    assert_int_equal(rec.payload.len, 5);
    assert_memory_equal(rec.payload.ptr, "hello", 5);
}

static void test_truncated_every_prefix(void **state)
{
    (void)state;
    uint8_t b[128];
    size_t n = encode(b, sizeof b, 1, "payload");
    for (size_t k = 0; k < n; k++) {
        struct gh_reader r;
        struct gh_queue_record rec;
        gh_reader_init(&r, b, k);
        assert_int_equal(gh_queue_record_decode(&r, &rec), GH_ERR_TRUNCATED);
        assert_int_equal(r.pos, 0);
    }
}

static void test_flip_every_byte(void **state)
{
    (void)state;
    uint8_t b[128];
    size_t n = encode(b, sizeof b, 1, "payload");
    for (size_t k = 0; k < n; k++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            uint8_t c[128];
            memcpy(c, b, n);
            c[k] ^= (uint8_t)(1u << bit);
            struct gh_reader r;
            struct gh_queue_record rec;
            gh_reader_init(&r, c, n);
            gh_err rc = gh_queue_record_decode(&r, &rec);
            /* A length bit can make it longer than the input or the limit. */
            if (k >= 12 && k < 16)
                assert_true(rc == GH_ERR_MALFORMED || rc == GH_ERR_TRUNCATED ||
                            rc == GH_ERR_TOO_LARGE);
            else
                assert_int_equal(rc, GH_ERR_MALFORMED);
            assert_int_equal(r.pos, 0);
        }
    }
}

static void test_errors(void **state)
{
    (void)state;
    uint8_t b[128], c[128];
    size_t n = encode(b, sizeof b, 1, "abc");
    struct gh_reader r;
    struct gh_queue_record rec;

    memcpy(c, b, n);
    c[0] = 'X';
    gh_reader_init(&r, c, 3);
    assert_int_equal(gh_queue_record_decode(&r, &rec), GH_ERR_TRUNCATED);
    gh_reader_init(&r, c, 4); /* a bad magic is malformed even when short */
    assert_int_equal(gh_queue_record_decode(&r, &rec), GH_ERR_MALFORMED);
    gh_reader_init(&r, c, n);
    assert_int_equal(gh_queue_record_decode(&r, &rec), GH_ERR_MALFORMED);

    memcpy(c, b, n);
    put_u32(c + 12, GH_QUEUE_PAYLOAD_MAX + 1);
    gh_reader_init(&r, c, n);
    assert_int_equal(gh_queue_record_decode(&r, &rec), GH_ERR_TOO_LARGE);

    memcpy(c, b, n);
    c[8] = 2; /* a future version, intact */
    reseal(c, n);
    gh_reader_init(&r, c, n);
    assert_int_equal(gh_queue_record_decode(&r, &rec), GH_ERR_UNSUPPORTED);

    memcpy(c, b, n);
    c[11] = 1; /* reserved bits, intact */
    reseal(c, n);
    gh_reader_init(&r, c, n);
    assert_int_equal(gh_queue_record_decode(&r, &rec), GH_ERR_MALFORMED);

    /* Two records back to back: the reader stops after the first. */
    memcpy(c, b, n);
    memcpy(c + n, b, n);
    gh_reader_init(&r, c, 2 * n);
    assert_int_equal(gh_queue_record_decode(&r, &rec), GH_OK);
    assert_int_equal(r.pos, n);
    assert_int_equal(gh_queue_record_decode(&r, &rec), GH_OK);
    assert_int_equal(r.pos, 2 * n);
}

static void test_encode_errors(void **state)
{
    (void)state;
    uint8_t b[64];
    struct gh_writer w;
    struct gh_queue_record rec = {.seq = 1, .payload = {b, 30}};
    gh_writer_init(&w, b + 0, 60);
    assert_int_equal(gh_queue_record_encode(&w, &rec), GH_ERR_NOBUFS);
    assert_int_equal(w.len, 0);
    static uint8_t big[GH_QUEUE_PAYLOAD_MAX + 1];
    rec.payload = (struct gh_slice){big, sizeof big};
    gh_writer_init(&w, b, sizeof b);
    assert_int_equal(gh_queue_record_encode(&w, &rec), GH_ERR_TOO_LARGE);
    rec.payload = (struct gh_slice){NULL, 0};
    assert_int_equal(gh_queue_record_encode(&w, &rec), GH_OK);
    assert_int_equal(w.len, GH_QUEUE_RECORD_HEADER);
}

static void test_priority_class(void **state)
{
    (void)state;
    assert_int_equal(gh_queue_priority_class(0), 0);
    assert_int_equal(gh_queue_priority_class(9), 9);
    assert_int_equal(gh_queue_priority_class(10), GH_QUEUE_PRIORITY_DEFAULT);
    assert_int_equal(gh_queue_priority_class(2000000000u), GH_QUEUE_PRIORITY_DEFAULT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_vector),
        cmocka_unit_test(test_roundtrip_and_layout),
        cmocka_unit_test(test_truncated_every_prefix),
        cmocka_unit_test(test_flip_every_byte),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_encode_errors),
        cmocka_unit_test(test_priority_class),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
