/* Crypto primitives: HMAC-SHA256 (RFC 4231 vectors), digests, constant-time
 * compare, random keys, symmetric key decoding, DPS derived keys
 * (PROTOCOL.md 2.7) and X.509 thumbprints (PROTOCOL.md 3.2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/encoding.h"
#include "iothub/crypto.h"

/* Self-signed P-256 certificate (CN=thermostat-01) made with openssl req.
 * `openssl x509 -fingerprint` reports the thumbprints below. */
static const uint8_t cert_der[] = {
    0x30, 0x82, 0x01, 0x86, 0x30, 0x82, 0x01, 0x2b, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x14, 0x45,
    0xdc, 0xd8, 0x8e, 0x37, 0xd3, 0x60, 0x5a, 0x74, 0x95, 0x53, 0xc8, 0x37, 0xcc, 0x3c, 0x46, 0x57,
    0x40, 0xdc, 0x1a, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x30,
    0x18, 0x31, 0x16, 0x30, 0x14, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x0d, 0x74, 0x68, 0x65, 0x72,
    0x6d, 0x6f, 0x73, 0x74, 0x61, 0x74, 0x2d, 0x30, 0x31, 0x30, 0x1e, 0x17, 0x0d, 0x32, 0x36, 0x31,
    0x31, 0x32, 0x36, 0x31, 0x34, 0x31, 0x33, 0x34, 0x38, 0x5a, 0x17, 0x0d, 0x33, 0x36, 0x31, 0x31,
    0x32, 0x33, 0x31, 0x34, 0x31, 0x33, 0x34, 0x38, 0x5a, 0x30, 0x18, 0x31, 0x16, 0x30, 0x14, 0x06,
    0x03, 0x55, 0x04, 0x03, 0x0c, 0x0d, 0x74, 0x68, 0x65, 0x72, 0x6d, 0x6f, 0x73, 0x74, 0x61, 0x74,
    0x2d, 0x30, 0x31, 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
    0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0x2f, 0xfb,
    0x24, 0x97, 0xf3, 0xbc, 0xfc, 0xf1, 0x1e, 0xe5, 0x4e, 0xb4, 0x25, 0x86, 0xfa, 0x6f, 0xf7, 0x06,
    0x2b, 0x76, 0xe3, 0x31, 0x9e, 0x52, 0x26, 0x85, 0xa1, 0xe2, 0xb9, 0xe2, 0xcb, 0xac, 0x98, 0x8d,
    0x0a, 0x2c, 0x89, 0x7e, 0x0d, 0x67, 0x30, 0xc9, 0xe2, 0xa3, 0x8d, 0x15, 0xac, 0x73, 0x08, 0xe6,
    0xf5, 0xf9, 0xcb, 0xc1, 0x52, 0xe3, 0x35, 0x7a, 0xdc, 0x3d, 0x85, 0x98, 0xbd, 0x8b, 0xa3, 0x53,
    0x30, 0x51, 0x30, 0x1d, 0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04, 0x14, 0xec, 0xc9, 0x09,
    0x8d, 0x93, 0x12, 0x51, 0xf9, 0x94, 0x95, 0xb7, 0x5c, 0x4a, 0x5b, 0x58, 0x11, 0x45, 0xcf, 0x24,
    0x50, 0x30, 0x1f, 0x06, 0x03, 0x55, 0x1d, 0x23, 0x04, 0x18, 0x30, 0x16, 0x80, 0x14, 0xec, 0xc9,
    0x09, 0x8d, 0x93, 0x12, 0x51, 0xf9, 0x94, 0x95, 0xb7, 0x5c, 0x4a, 0x5b, 0x58, 0x11, 0x45, 0xcf,
    0x24, 0x50, 0x30, 0x0f, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x05, 0x30, 0x03,
    0x01, 0x01, 0xff, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x03,
    0x49, 0x00, 0x30, 0x46, 0x02, 0x21, 0x00, 0xa7, 0x21, 0x89, 0x01, 0xa4, 0x80, 0x14, 0xaa, 0x21,
    0x2d, 0xc4, 0x2b, 0x47, 0x7d, 0xa6, 0x38, 0xb8, 0x6a, 0xbc, 0x39, 0x54, 0x57, 0xdb, 0xb2, 0x78,
    0xce, 0xb2, 0xae, 0xf9, 0x74, 0x65, 0xba, 0x02, 0x21, 0x00, 0xd9, 0x20, 0x07, 0xcf, 0x8a, 0xcd,
    0x16, 0x34, 0xb0, 0x0c, 0x9f, 0x28, 0x71, 0x90, 0x4f, 0x78, 0x2f, 0xbd, 0xd0, 0xaa, 0x33, 0x17,
    0x90, 0xc5, 0x75, 0x78, 0xbb, 0xed, 0x4a, 0xc2, 0x26, 0x11};
static const char cert_sha1[] = "981B43D5970035368879A654430A099D3DCEF9CF";
static const char cert_sha256[] =
    "FC9A119A60CFE57F14AD11B8DE0992D96E15E28711AB41DA3A484DF2142E60FB";

/* 32 bytes 0x00..0x1f (PROTOCOL.md 2.5). */
static const char key32_b64[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/* 64 bytes 0xff..0xc0 (PROTOCOL.md 2.5, DPS group key). */
static const char group_key_b64[] =
    "//79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eDf3t3c29rZ2NfW1dTT0tHQz87"
    "NzMvKycjHxsXEw8LBwA==";

static struct gh_slice S(const char *s) {
    return gh_slice_cstr(s);
}

static void
hex_of(const uint8_t *in, size_t n, char *out, size_t cap)
{
    struct gh_writer w;
    gh_writer_init(&w, out, cap);
    assert_int_equal(gh_hex_encode(in, n, &w), GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
}

static void assert_hmac(const uint8_t *key, size_t keylen, const char *data, const char *hex)
{
    uint8_t mac[GH_SHA256_LEN];
    char got[2 * GH_SHA256_LEN + 1];
    assert_int_equal(gh_hmac_sha256(key, keylen, data, strlen(data), mac), GH_OK);
    hex_of(mac, sizeof mac, got, sizeof got);
    assert_string_equal(got, hex);
}

static void test_hmac_rfc4231(void **state)
{
    (void)state;
    uint8_t k1[20], k6[131];
    memset(k1, 0x0b, sizeof k1);
    memset(k6, 0xaa, sizeof k6);
    /* RFC 4231 test cases 1, 2 and 6 (key longer than the block). */
    assert_hmac(k1, sizeof k1, "Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    assert_hmac((const uint8_t *)"Jefe", 4, "what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    assert_hmac(k6, sizeof k6, "Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    /* Empty key and empty data (Python hmac). */
    assert_hmac(NULL, 0, "", "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

static void test_hmac_parts_equals_whole(void **state)
{
    (void)state;
    uint8_t k1[20], a[GH_SHA256_LEN], b[GH_SHA256_LEN];
    memset(k1, 0x0b, sizeof k1);
    struct gh_slice parts[4] = {S("Hi"), GH_SLICE_EMPTY, S(" Th"), S("ere")};
    assert_int_equal(gh_hmac_sha256_parts(k1, sizeof k1, parts, 4, a), GH_OK);
    assert_int_equal(gh_hmac_sha256(k1, sizeof k1, "Hi There", 8, b), GH_OK);
    assert_memory_equal(a, b, sizeof a);
}

static void test_digests(void **state)
{
    (void)state;
    uint8_t d1[GH_SHA1_LEN], d2[GH_SHA256_LEN];
    char hex[2 * GH_SHA256_LEN + 1];
    assert_int_equal(gh_sha1("abc", 3, d1), GH_OK);
    hex_of(d1, sizeof d1, hex, sizeof hex);
    assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    assert_int_equal(gh_sha256("abc", 3, d2), GH_OK);
    hex_of(d2, sizeof d2, hex, sizeof hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(gh_sha256(NULL, 0, d2), GH_OK);
    hex_of(d2, sizeof d2, hex, sizeof hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_ct_equal(void **state)
{
    (void)state;
    uint8_t a[32], b[32];
    memset(a, 7, sizeof a);
    memcpy(b, a, sizeof b);
    assert_true(gh_ct_equal(a, b, sizeof a));
    b[31] ^= 1;
    assert_false(gh_ct_equal(a, b, sizeof a));
    b[31] ^= 1;
    b[0] ^= 0x80;
    assert_false(gh_ct_equal(a, b, sizeof a));
    assert_true(gh_ct_equal(NULL, NULL, 0));
}

static void test_random_and_zero(void **state)
{
    (void)state;
    uint8_t a[32], b[32], zero[32] = {0};
    assert_int_equal(gh_random_bytes(a, sizeof a), GH_OK);
    assert_int_equal(gh_random_bytes(b, sizeof b), GH_OK);
    assert_memory_not_equal(a, b, sizeof a);
    assert_memory_not_equal(a, zero, sizeof a);
    gh_secure_zero(a, sizeof a);
    assert_memory_equal(a, zero, sizeof a);
    gh_secure_zero(NULL, 5); /* tolerated */
    assert_int_equal(gh_random_bytes(NULL, 0), GH_OK);

    /* More than one RAND_bytes chunk: the tail is filled too. */
    size_t big = (1u << 20) + 64;
    uint8_t *p = calloc(1, big);
    assert_non_null(p);
    assert_int_equal(gh_random_bytes(p, big), GH_OK);
    assert_memory_not_equal(p + big - 32, zero, 32);
    free(p);
}

static void test_symkey_decode(void **state)
{
    (void)state;
    uint8_t key[GH_SYMKEY_MAX], want[32];
    size_t len = 999;
    for (size_t i = 0; i < sizeof want; i++) want[i] = (uint8_t)i;
    assert_int_equal(gh_symkey_decode(S(key32_b64), key, &len), GH_OK);
    assert_int_equal(len, 32);
    assert_memory_equal(key, want, 32);
    /* Unpadded (IoT Edge configs). */
    len = 999;
    assert_int_equal(gh_symkey_decode(S("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"), key, &len),
                     GH_OK);
    assert_int_equal(len, 32);
    assert_memory_equal(key, want, 32);

    len = 999;
    assert_int_equal(gh_symkey_decode(S(""), key, &len), GH_ERR_BAD_BASE64);
    assert_int_equal(gh_symkey_decode(GH_SLICE_EMPTY, key, &len), GH_ERR_BAD_BASE64);
    assert_int_equal(gh_symkey_decode(S("AAEC!wQF"), key, &len), GH_ERR_BAD_BASE64);
    assert_int_equal(len, 999);

    /* 128 bytes fit, 129 do not. */
    uint8_t raw[GH_SYMKEY_MAX + 1];
    char b64[GH_SYMKEY_B64_MAX + 8];
    memset(raw, 0x5a, sizeof raw);
    struct gh_writer w;
    gh_writer_init(&w, b64, sizeof b64);
    assert_int_equal(gh_base64_encode(raw, GH_SYMKEY_MAX, &w), GH_OK);
    assert_int_equal(w.len, GH_SYMKEY_B64_MAX);
    assert_int_equal(gh_symkey_decode(gh_writer_slice(&w), key, &len), GH_OK);
    assert_int_equal(len, GH_SYMKEY_MAX);
    gh_writer_init(&w, b64, sizeof b64);
    assert_int_equal(gh_base64_encode(raw, GH_SYMKEY_MAX + 1, &w), GH_OK);
    len = 999;
    assert_int_equal(gh_symkey_decode(gh_writer_slice(&w), key, &len), GH_ERR_TOO_LARGE);
    assert_int_equal(len, 999);
}

static void test_generate_key(void **state)
{
    (void)state;
    char a[64], b[64];
    struct gh_writer wa, wb;
    gh_writer_init(&wa, a, sizeof a);
    gh_writer_init(&wb, b, sizeof b);
    assert_int_equal(gh_generate_key_b64(GH_SYMKEY_DEFAULT_LEN, &wa), GH_OK);
    assert_int_equal(gh_generate_key_b64(GH_SYMKEY_DEFAULT_LEN, &wb), GH_OK);
    assert_int_equal(wa.len, 44);
    assert_memory_not_equal(a, b, 44);
    uint8_t key[GH_SYMKEY_MAX];
    size_t len = 0;
    assert_int_equal(gh_symkey_decode(gh_writer_slice(&wa), key, &len), GH_OK);
    assert_int_equal(len, 32);

    gh_writer_init(&wa, a, sizeof a);
    assert_int_equal(gh_generate_key_b64(0, &wa), GH_ERR_ARG);
    assert_int_equal(gh_generate_key_b64(GH_SYMKEY_MAX + 1, &wa), GH_ERR_ARG);
    gh_writer_init(&wa, a, 43);
    assert_int_equal(gh_generate_key_b64(32, &wa), GH_ERR_NOBUFS);
    assert_int_equal(wa.len, 0);
    gh_writer_init(&wa, a, 44);
    assert_int_equal(gh_generate_key_b64(32, &wa), GH_OK);
}

static void test_derive_device_key(void **state)
{
    (void)state;
    char out[64];
    struct gh_writer w;
    /* PROTOCOL.md 2.5, DPS group-key derivation vector. */
    gh_writer_init(&w, out, sizeof out);
    assert_int_equal(gh_writer_cstr(&w, "k="), GH_OK);
    assert_int_equal(gh_derive_device_key(S(group_key_b64), S("thermostat-01"), &w), GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
    assert_string_equal(out, "k=LTZqcA915D8rTi9ZXmz4uhUV4fD4J0iuzNxCVx3wAEY=");

    /* Unpadded group key gives the same key. */
    char unpadded[sizeof group_key_b64];
    memcpy(unpadded, group_key_b64, sizeof group_key_b64);
    unpadded[strlen(unpadded) - 2] = '\0';
    gh_writer_init(&w, out, sizeof out);
    assert_int_equal(gh_derive_device_key(S(unpadded), S("thermostat-01"), &w), GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
    assert_string_equal(out, "LTZqcA915D8rTi9ZXmz4uhUV4fD4J0iuzNxCVx3wAEY=");

    gh_writer_init(&w, out, sizeof out);
    assert_int_equal(gh_derive_device_key(S("not base64!"), S("x"), &w), GH_ERR_BAD_BASE64);
    assert_int_equal(gh_derive_device_key(S(""), S("x"), &w), GH_ERR_BAD_BASE64);
    assert_int_equal(w.len, 0);
    char big[GH_SYMKEY_B64_MAX + 8];
    memset(big, 'A', sizeof big);
    assert_int_equal(gh_derive_device_key((struct gh_slice){(const uint8_t *)big, 176}, S("x"), &w),
                     GH_ERR_TOO_LARGE);
    gh_writer_init(&w, out, 43);
    assert_int_equal(gh_writer_u8(&w, 'x'), GH_OK);
    assert_int_equal(gh_derive_device_key(S(group_key_b64), S("thermostat-01"), &w), GH_ERR_NOBUFS);
    assert_int_equal(w.len, 1);
}

static void test_thumbprints(void **state)
{
    (void)state;
    char out[80];
    struct gh_writer w;
    gh_writer_init(&w, out, sizeof out);
    assert_int_equal(gh_thumbprint_hex(cert_der, sizeof cert_der, GH_THUMBPRINT_SHA1, &w), GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
    assert_string_equal(out, cert_sha1);
    gh_writer_init(&w, out, sizeof out);
    assert_int_equal(gh_thumbprint_hex(cert_der, sizeof cert_der, GH_THUMBPRINT_SHA256, &w), GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
    assert_string_equal(out, cert_sha256);

    gh_writer_init(&w, out, sizeof out);
    assert_int_equal(gh_thumbprint_hex(cert_der, sizeof cert_der, (enum gh_thumbprint_alg)7, &w),
                     GH_ERR_ARG);
    gh_writer_init(&w, out, 63);
    assert_int_equal(gh_thumbprint_hex(cert_der, sizeof cert_der, GH_THUMBPRINT_SHA256, &w),
                     GH_ERR_NOBUFS);
    assert_int_equal(w.len, 0);

    /* Case-insensitive comparison. */
    char lower[sizeof cert_sha256];
    for (size_t i = 0; i < sizeof lower; i++)
        lower[i] = (char)((cert_sha256[i] >= 'A' && cert_sha256[i] <= 'F') ? cert_sha256[i] + 32
                                                                           : cert_sha256[i]);
    assert_true(gh_thumbprint_equal(S(lower), S(cert_sha256)));
    assert_false(gh_thumbprint_equal(S(cert_sha1), S(cert_sha256)));

    /* Matching picks the algorithm from the stored thumbprint's length. */
    assert_int_equal(gh_thumbprint_match(cert_der, sizeof cert_der, S(cert_sha1)), GH_OK);
    assert_int_equal(gh_thumbprint_match(cert_der, sizeof cert_der, S(lower)), GH_OK);
    assert_int_equal(gh_thumbprint_match(cert_der, sizeof cert_der - 1, S(cert_sha1)), GH_ERR_AUTH);
    assert_int_equal(gh_thumbprint_match(cert_der, sizeof cert_der,
                                         S("98:1B:43:D5:97:00:35:36:88:79:A6:54:43:0A:09:9D:3D:"
                                           "CE:F9:CF")),
                     GH_ERR_AUTH);
    assert_int_equal(gh_thumbprint_match(cert_der, sizeof cert_der, S("")), GH_ERR_AUTH);
    char flipped[sizeof cert_sha1];
    memcpy(flipped, cert_sha1, sizeof flipped);
    flipped[39] = flipped[39] == 'F' ? 'E' : 'F';
    assert_int_equal(gh_thumbprint_match(cert_der, sizeof cert_der, S(flipped)), GH_ERR_AUTH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmac_rfc4231),    cmocka_unit_test(test_hmac_parts_equals_whole),
        cmocka_unit_test(test_digests),         cmocka_unit_test(test_ct_equal),
        cmocka_unit_test(test_random_and_zero), cmocka_unit_test(test_symkey_decode),
        cmocka_unit_test(test_generate_key),    cmocka_unit_test(test_derive_device_key),
        cmocka_unit_test(test_thumbprints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
