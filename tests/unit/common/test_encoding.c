#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/encoding.h"

static char buf[512];

static const char *run(gh_err (*fn)(const char *, size_t, struct gh_writer *), const char *in,
                       gh_err want)
{
    struct gh_writer w;
    gh_writer_init(&w, buf, sizeof buf - 1);
    assert_int_equal(fn(in, strlen(in), &w), want);
    buf[w.len] = '\0';
    return buf;
}

static void test_base64_rfc4648(void **state)
{
    (void)state;
    const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        struct gh_writer w;
        gh_writer_init(&w, buf, sizeof buf);
        assert_int_equal(gh_base64_encode((const uint8_t *)plain[i], strlen(plain[i]), &w), GH_OK);
        assert_int_equal(w.len, gh_base64_encoded_len(strlen(plain[i])));
        assert_memory_equal(buf, enc[i], w.len);
        assert_string_equal(run(gh_base64_decode, enc[i], GH_OK), plain[i]);
    }
}

static void test_base64_decode_rules(void **state)
{
    (void)state;
    /* unpadded accepted */
    assert_string_equal(run(gh_base64_decode, "Zg", GH_OK), "f");
    assert_string_equal(run(gh_base64_decode, "Zm8", GH_OK), "fo");
    /* bad padding, characters, lengths, non-zero trailing bits */
    run(gh_base64_decode, "Zg=", GH_ERR_BAD_BASE64);
    run(gh_base64_decode, "Z===", GH_ERR_BAD_BASE64);
    run(gh_base64_decode, "Z", GH_ERR_BAD_BASE64);
    run(gh_base64_decode, "Zm9v Yg==", GH_ERR_BAD_BASE64);
    run(gh_base64_decode, "Zm-v", GH_ERR_BAD_BASE64);
    run(gh_base64_decode, "Zh==", GH_ERR_BAD_BASE64);
    run(gh_base64_decode, "=Zg=", GH_ERR_BAD_BASE64);
    /* the 32-byte key of PROTOCOL.md 2.5 */
    struct gh_writer w;
    uint8_t key[32];
    gh_writer_init(&w, key, sizeof key);
    const char *k = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    assert_int_equal(gh_base64_decode(k, strlen(k), &w), GH_OK);
    assert_int_equal(w.len, 32);
    for (int i = 0; i < 32; i++) assert_int_equal(key[i], i);
    /* output too small */
    gh_writer_init(&w, key, 31);
    assert_int_equal(gh_base64_decode(k, strlen(k), &w), GH_ERR_NOBUFS);
    struct gh_writer small;
    gh_writer_init(&small, buf, 3);
    assert_int_equal(gh_base64_encode((const uint8_t *)"ab", 2, &small), GH_ERR_NOBUFS);
    assert_int_equal(small.len, 0);
}

static void test_pct_decode(void **state)
{
    (void)state;
    assert_string_equal(run(gh_pct_decode, "%24.mid", GH_OK), "$.mid");
    assert_string_equal(run(gh_pct_decode, "a%2Fb%2fc", GH_OK), "a/b/c");
    assert_string_equal(run(gh_pct_decode, "a+b", GH_OK), "a+b"); /* no + to space */
    assert_string_equal(run(gh_pct_decode, "100%", GH_OK), "100%");
    assert_string_equal(run(gh_pct_decode, "%zz%4", GH_OK), "%zz%4");
    assert_string_equal(run(gh_pct_decode, "%252524", GH_OK), "%2524");
    assert_string_equal(run(gh_pct_decode, "raw/value:x y", GH_OK), "raw/value:x y");
    struct gh_writer w;
    gh_writer_init(&w, buf, 2);
    assert_int_equal(gh_pct_decode("%41%42%43", 9, &w), GH_ERR_NOBUFS);
}

static void test_pct_encode(void **state)
{
    (void)state;
    assert_string_equal(run(gh_pct_encode, "$.mid", GH_OK), "%24.mid");
    assert_string_equal(run(gh_pct_encode, "/devices/th-01/messages/devicebound", GH_OK),
                        "%2Fdevices%2Fth-01%2Fmessages%2Fdevicebound");
    assert_string_equal(run(gh_pct_encode, "a b~_-.Z9", GH_OK), "a%20b~_-.Z9");
    assert_string_equal(run(gh_pct_encode, "\xc3\xa9", GH_OK), "%C3%A9");
}

static void test_hex(void **state)
{
    (void)state;
    struct gh_writer w;
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_hex_encode((const uint8_t *)"\x00\xab\xff", 3, &w), GH_OK);
    assert_memory_equal(buf, "00abff", 6);
    uint8_t out[4];
    gh_writer_init(&w, out, sizeof out);
    assert_int_equal(gh_hex_decode("00ABff", 6, &w), GH_OK);
    assert_memory_equal(out, "\x00\xab\xff", 3);
    gh_writer_init(&w, out, sizeof out);
    assert_int_equal(gh_hex_decode("abc", 3, &w), GH_ERR_MALFORMED);
    assert_int_equal(gh_hex_decode("zz", 2, &w), GH_ERR_MALFORMED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_rfc4648), cmocka_unit_test(test_base64_decode_rules),
        cmocka_unit_test(test_pct_decode),     cmocka_unit_test(test_pct_encode),
        cmocka_unit_test(test_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
