/* Bounded reader and writer: every read either succeeds and advances, or
 * fails with a specific error and leaves the cursor unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"

static void test_reader_ints(void **state)
{
    (void)state;
    const uint8_t in[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
    struct gh_reader r;
    gh_reader_init(&r, in, sizeof in);
    uint8_t a;
    uint16_t b;
    uint32_t c;
    assert_int_equal(gh_reader_u8(&r, &a), GH_OK);
    assert_int_equal(a, 1);
    assert_int_equal(gh_reader_u16be(&r, &b), GH_OK);
    assert_int_equal(b, 0x0203);
    assert_int_equal(gh_reader_u32be(&r, &c), GH_OK);
    assert_int_equal(c, 0x04050607);
    assert_int_equal(gh_reader_remaining(&r), 0);
    assert_int_equal(gh_reader_u8(&r, &a), GH_ERR_TRUNCATED);
    assert_int_equal(r.pos, 7);
}

/* For every read kind and every prefix of its input, a short read fails with
 * GH_ERR_TRUNCATED and leaves pos unchanged. */
static void test_failed_read_leaves_cursor(void **state)
{
    (void)state;
    const uint8_t in[] = {0xff, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0x80, 0x80, 0x80};
    for (size_t cut = 0; cut <= sizeof in; cut++) {
        for (size_t start = 0; start <= cut; start++) {
            struct gh_reader r;
            gh_reader_init(&r, in, cut);
            r.pos = start;
            uint8_t u8;
            uint16_t u16;
            uint32_t u32;
            struct gh_slice s;
            gh_err e;
            e = gh_reader_u8(&r, &u8);
            if (e != GH_OK) assert_int_equal(r.pos, start);
            r.pos = start;
            e = gh_reader_u16be(&r, &u16);
            if (e != GH_OK) assert_int_equal(r.pos, start);
            else assert_int_equal(r.pos, start + 2);
            r.pos = start;
            e = gh_reader_u32be(&r, &u32);
            if (e != GH_OK) assert_int_equal(r.pos, start);
            r.pos = start;
            e = gh_reader_varint(&r, &u32);
            if (e != GH_OK) assert_int_equal(r.pos, start);
            r.pos = start;
            e = gh_reader_mqtt_binary(&r, &s);
            if (e != GH_OK) assert_int_equal(r.pos, start);
            r.pos = start;
            e = gh_reader_mqtt_string(&r, &s);
            if (e != GH_OK) assert_int_equal(r.pos, start);
            r.pos = start;
            e = gh_reader_bytes(&r, 4, &s);
            if (e != GH_OK) {
                assert_int_equal(e, GH_ERR_TRUNCATED);
                assert_int_equal(r.pos, start);
            }
        }
    }
}

static void test_mqtt_string(void **state)
{
    (void)state;
    const uint8_t ok[] = {0x00, 0x03, 'a', 'b', 'c'};
    const uint8_t short_body[] = {0x00, 0x04, 'a', 'b', 'c'};
    const uint8_t nul[] = {0x00, 0x02, 'a', 0x00};
    const uint8_t surrogate[] = {0x00, 0x03, 0xed, 0xa0, 0x80};
    const uint8_t overlong[] = {0x00, 0x02, 0xc0, 0xaf};
    struct gh_reader r;
    struct gh_slice s;
    gh_reader_init(&r, ok, sizeof ok);
    assert_int_equal(gh_reader_mqtt_string(&r, &s), GH_OK);
    assert_true(gh_slice_eq_cstr(s, "abc"));
    gh_reader_init(&r, short_body, sizeof short_body);
    assert_int_equal(gh_reader_mqtt_string(&r, &s), GH_ERR_TRUNCATED);
    assert_int_equal(r.pos, 0);
    gh_reader_init(&r, nul, sizeof nul);
    assert_int_equal(gh_reader_mqtt_string(&r, &s), GH_ERR_BAD_UTF8);
    assert_int_equal(r.pos, 0);
    /* binary data may contain NUL */
    assert_int_equal(gh_reader_mqtt_binary(&r, &s), GH_OK);
    assert_int_equal(s.len, 2);
    gh_reader_init(&r, surrogate, sizeof surrogate);
    assert_int_equal(gh_reader_mqtt_string(&r, &s), GH_ERR_BAD_UTF8);
    assert_int_equal(r.pos, 0);
    gh_reader_init(&r, overlong, sizeof overlong);
    assert_int_equal(gh_reader_mqtt_string(&r, &s), GH_ERR_BAD_UTF8);
}

static void test_utf8(void **state)
{
    (void)state;
    struct {
        const char *s;
        size_t n;
        int ok;
    } v[] = {
        {"plain", 5, 1},
        {"\xc3\xa9", 2, 1},             /* e acute */
        {"\xe2\x82\xac", 3, 1},         /* euro */
        {"\xf0\x9f\x98\x80", 4, 1},     /* emoji */
        {"\xf4\x90\x80\x80", 4, 0},     /* > U+10FFFF */
        {"\xe0\x80\xaf", 3, 0},         /* overlong */
        {"\xc3", 1, 0},                 /* truncated */
        {"\x80", 1, 0},                 /* lone continuation */
        {"\xf8\x88\x80\x80\x80", 5, 0}, /* 5-byte form */
        {"a\0b", 3, 1},                 /* NUL is valid UTF-8 ... */
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        assert_int_equal(gh_utf8_valid((const uint8_t *)v[i].s, v[i].n), v[i].ok);
    /* ... but not in MQTT strings */
    assert_false(gh_utf8_valid_mqtt((const uint8_t *)"a\0b", 3));
}

static void test_varint(void **state)
{
    (void)state;
    struct {
        uint8_t b[5];
        size_t n;
        gh_err e;
        uint32_t v;
    } v[] = {
        {{0x00}, 1, GH_OK, 0},
        {{0x7f}, 1, GH_OK, 127},
        {{0x80, 0x01}, 2, GH_OK, 128},
        {{0xff, 0x7f}, 2, GH_OK, 16383},
        {{0x80, 0x80, 0x01}, 3, GH_OK, 16384},
        {{0xff, 0xff, 0xff, 0x7f}, 4, GH_OK, 268435455},
        {{0xff, 0xff, 0xff, 0xff, 0x01}, 5, GH_ERR_BAD_VARINT, 0},
        {{0x80}, 1, GH_ERR_TRUNCATED, 0},
        {{0xff, 0xff, 0xff}, 3, GH_ERR_TRUNCATED, 0},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct gh_reader r;
        uint32_t out = 12345;
        gh_reader_init(&r, v[i].b, v[i].n);
        assert_int_equal(gh_reader_varint(&r, &out), v[i].e);
        if (v[i].e == GH_OK) {
            assert_int_equal(out, v[i].v);
            assert_int_equal(r.pos, v[i].n);
            /* round trip */
            uint8_t buf[4];
            struct gh_writer w;
            gh_writer_init(&w, buf, sizeof buf);
            assert_int_equal(gh_writer_varint(&w, v[i].v), GH_OK);
            assert_int_equal(w.len, gh_varint_size(v[i].v));
            assert_memory_equal(buf, v[i].b, w.len);
        } else {
            assert_int_equal(r.pos, 0);
            assert_int_equal(out, 12345);
        }
    }
    uint8_t buf[8];
    struct gh_writer w;
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_writer_varint(&w, 268435456u), GH_ERR_TOO_LARGE);
    assert_int_equal(w.len, 0);
    assert_int_equal(gh_varint_size(268435456u), 0);
}

static void test_writer_capacity(void **state)
{
    (void)state;
    uint8_t buf[5];
    struct gh_writer w;
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_writer_u32be(&w, 0x01020304), GH_OK);
    assert_int_equal(gh_writer_u16be(&w, 1), GH_ERR_NOBUFS);
    assert_int_equal(w.len, 4);
    assert_int_equal(gh_writer_bytes(&w, "ab", 2), GH_ERR_NOBUFS);
    assert_int_equal(w.len, 4);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
    assert_int_equal(gh_writer_u8(&w, 9), GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_ERR_NOBUFS);
    assert_int_equal(gh_writer_mqtt_binary(&w, gh_slice_cstr("")), GH_ERR_NOBUFS);
    assert_int_equal(w.len, 5);
}

static void test_writer_reserve_patch(void **state)
{
    (void)state;
    uint8_t buf[16];
    struct gh_writer w;
    size_t mark;
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_writer_reserve(&w, 2, &mark), GH_OK);
    assert_int_equal(gh_writer_cstr(&w, "hello"), GH_OK);
    assert_int_equal(gh_writer_patch_u16be(&w, mark, (uint16_t)(w.len - mark - 2)), GH_OK);
    assert_memory_equal(buf, "\x00\x05hello", 7);
    assert_int_equal(gh_writer_patch_u16be(&w, 6, 1), GH_ERR_INTERNAL);
    assert_int_equal(gh_writer_reserve(&w, 10, &mark), GH_ERR_NOBUFS);
    /* mqtt string round trip */
    struct gh_reader r;
    struct gh_slice s;
    gh_reader_init(&r, buf, w.len);
    assert_int_equal(gh_reader_mqtt_string(&r, &s), GH_OK);
    assert_true(gh_slice_eq_cstr(s, "hello"));
}

static void test_slices(void **state)
{
    (void)state;
    char out[4];
    assert_true(gh_slice_eq_nocase(gh_slice_cstr("HuB.Example"), gh_slice_cstr("hub.example")));
    assert_false(gh_slice_eq_nocase(gh_slice_cstr("hub"), gh_slice_cstr("hub.")));
    assert_true(gh_slice_starts_with(gh_slice_cstr("devices/x"), "devices/"));
    assert_false(gh_slice_starts_with(gh_slice_cstr("dev"), "devices/"));
    assert_int_equal(gh_slice_to_cstr(gh_slice_cstr("abc"), out, sizeof out), GH_OK);
    assert_string_equal(out, "abc");
    assert_int_equal(gh_slice_to_cstr(gh_slice_cstr("abcd"), out, sizeof out), GH_ERR_NOBUFS);
    assert_string_equal(out, "abc");
    struct gh_slice nul = {(const uint8_t *)"a\0b", 3};
    assert_int_equal(gh_slice_to_cstr(nul, out, sizeof out), GH_ERR_MALFORMED);
}

static void test_split(void **state)
{
    (void)state;
    struct gh_reader r;
    struct gh_slice t;
    gh_reader_init(&r, "a&&bc", 5);
    assert_true(gh_reader_split(&r, '&', &t));
    assert_true(gh_slice_eq_cstr(t, "a"));
    assert_true(gh_reader_split(&r, '&', &t));
    assert_int_equal(t.len, 0);
    assert_false(gh_reader_split(&r, '&', &t));
    assert_true(gh_slice_eq_cstr(t, "bc"));
    assert_int_equal(gh_reader_remaining(&r), 0);
    assert_false(gh_reader_split(&r, '&', &t));
    assert_int_equal(t.len, 0);
    gh_reader_init(&r, NULL, 0);
    assert_false(gh_reader_split(&r, '&', &t));
    assert_null(t.ptr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_ints),        cmocka_unit_test(test_failed_read_leaves_cursor),
        cmocka_unit_test(test_mqtt_string),        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_varint),             cmocka_unit_test(test_writer_capacity),
        cmocka_unit_test(test_writer_reserve_patch), cmocka_unit_test(test_slices), cmocka_unit_test(test_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
