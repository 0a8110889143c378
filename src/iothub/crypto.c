#include "iothub/crypto.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "common/encoding.h"

/* RAND_bytes takes an int; larger requests are served in chunks. */
#define RAND_CHUNK_MAX (1u << 20)

gh_err gh_hmac_sha256_parts(const uint8_t *key, size_t keylen, const struct gh_slice *parts,
                            size_t n, uint8_t out[GH_SHA256_LEN])
{
    static const uint8_t empty_key[1] = {0};
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    uint8_t mac_out[GH_SHA256_LEN];
    size_t outl = 0;
    gh_err rc = GH_ERR_CRYPTO;

    /* EVP_MAC_init treats a NULL key as "keep the previous key". */
    if (key == NULL || keylen == 0) {
        key = empty_key;
        keylen = 0;
    }
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    if (ctx == NULL) goto out;
    if (!EVP_MAC_init(ctx, key, keylen, params)) goto out;
    for (size_t i = 0; i < n; i++) {
        if (parts[i].len && !EVP_MAC_update(ctx, parts[i].ptr, parts[i].len)) goto out;
    }
    if (!EVP_MAC_final(ctx, mac_out, &outl, sizeof mac_out) || outl != GH_SHA256_LEN) goto out;
    memcpy(out, mac_out, GH_SHA256_LEN);
    rc = GH_OK;
out:
    gh_secure_zero(mac_out, sizeof mac_out);
    EVP_MAC_CTX_free(ctx); /* also wipes the key schedule */
    EVP_MAC_free(mac);
    return rc;
}

gh_err gh_hmac_sha256(const uint8_t *key, size_t keylen, const void *data, size_t len,
                      uint8_t out[GH_SHA256_LEN])
{
    struct gh_slice part = {data, len};
    return gh_hmac_sha256_parts(key, keylen, &part, 1, out);
}

static gh_err digest(const EVP_MD *md, const void *data, size_t len, uint8_t *out, size_t outlen)
{
    uint8_t buf[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    static const uint8_t nothing[1] = {0};
    if (data == NULL) data = nothing;
    GH_ENSURE(md != NULL, GH_ERR_CRYPTO);
    GH_ENSURE(EVP_Digest(data, len, buf, &n, md, NULL) == 1, GH_ERR_CRYPTO);
    GH_ENSURE(n == outlen, GH_ERR_CRYPTO);
    memcpy(out, buf, outlen);
    return GH_OK;
}

gh_err gh_sha1(const void *data, size_t len, uint8_t out[GH_SHA1_LEN])
{
    return digest(EVP_sha1(), data, len, out, GH_SHA1_LEN);
}

gh_err gh_sha256(const void *data, size_t len, uint8_t out[GH_SHA256_LEN])
{
    return digest(EVP_sha256(), data, len, out, GH_SHA256_LEN);
}

bool gh_ct_equal(const void *a, const void *b, size_t n)
{
    return n == 0 || CRYPTO_memcmp(a, b, n) == 0;
}

gh_err gh_random_bytes(void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n > 0) {
        size_t chunk = n < RAND_CHUNK_MAX ? n : RAND_CHUNK_MAX;
        GH_ENSURE(RAND_bytes(p, (int)chunk) == 1, GH_ERR_CRYPTO);
        p += chunk;
        n -= chunk;
    }
    return GH_OK;
}

void gh_secure_zero(void *p, size_t n)
{
    if (p != NULL && n > 0) OPENSSL_cleanse(p, n);
}

gh_err gh_symkey_decode(struct gh_slice key_b64, uint8_t out[GH_SYMKEY_MAX], size_t *outlen)
{
    struct gh_writer w;
    gh_writer_init(&w, out, GH_SYMKEY_MAX);
    gh_err rc = gh_base64_decode((const char *)key_b64.ptr, key_b64.len, &w);
    if (rc == GH_ERR_NOBUFS) rc = GH_ERR_TOO_LARGE;
    if (rc == GH_OK && w.len == 0) rc = GH_ERR_BAD_BASE64;
    if (rc != GH_OK) {
        gh_secure_zero(out, GH_SYMKEY_MAX);
        return rc;
    }
    *outlen = w.len;
    return GH_OK;
}

gh_err gh_generate_key_b64(size_t nbytes, struct gh_writer *w)
{
    uint8_t key[GH_SYMKEY_MAX];
    size_t start = w->len;
    GH_ENSURE(nbytes >= 1 && nbytes <= GH_SYMKEY_MAX, GH_ERR_ARG);
    GH_ENSURE(gh_base64_encoded_len(nbytes) <= gh_writer_space(w), GH_ERR_NOBUFS);
    gh_err rc = gh_random_bytes(key, nbytes);
    if (rc == GH_OK) rc = gh_base64_encode(key, nbytes, w);
    if (rc != GH_OK) w->len = start;
    gh_secure_zero(key, sizeof key);
    return rc;
}

gh_err gh_derive_device_key(struct gh_slice group_key_b64, struct gh_slice registration_id,
                            struct gh_writer *w)
{
    uint8_t key[GH_SYMKEY_MAX];
    uint8_t mac[GH_SHA256_LEN];
    size_t keylen = 0;
    size_t start = w->len;
    gh_err rc = gh_symkey_decode(group_key_b64, key, &keylen);
    if (rc != GH_OK) return rc;
    rc = gh_hmac_sha256(key, keylen, registration_id.ptr, registration_id.len, mac);
    if (rc == GH_OK) rc = gh_base64_encode(mac, sizeof mac, w);
    if (rc != GH_OK) w->len = start;
    gh_secure_zero(key, sizeof key);
    gh_secure_zero(mac, sizeof mac);
    return rc;
}

gh_err gh_thumbprint_hex(const uint8_t *der, size_t len, enum gh_thumbprint_alg alg,
                         struct gh_writer *w)
{
    static const char hexdig[] = "0123456789ABCDEF";
    uint8_t md[GH_SHA256_LEN];
    size_t mdlen;
    switch (alg) {
    case GH_THUMBPRINT_SHA1:
        mdlen = GH_SHA1_LEN;
        GH_GUARD(gh_sha1(der, len, md));
        break;
    case GH_THUMBPRINT_SHA256:
        mdlen = GH_SHA256_LEN;
        GH_GUARD(gh_sha256(der, len, md));
        break;
    default:
        return GH_ERR_ARG;
    }
    char hex[2 * GH_SHA256_LEN];
    for (size_t i = 0; i < mdlen; i++) {
        hex[2 * i] = hexdig[md[i] >> 4];
        hex[2 * i + 1] = hexdig[md[i] & 15];
    }
    return gh_writer_bytes(w, hex, 2 * mdlen);
}

bool gh_thumbprint_equal(struct gh_slice a, struct gh_slice b)
{
    return gh_slice_eq_nocase(a, b);
}

gh_err gh_thumbprint_match(const uint8_t *der, size_t len, struct gh_slice expected)
{
    enum gh_thumbprint_alg alg;
    if (expected.len == 2 * GH_SHA1_LEN)
        alg = GH_THUMBPRINT_SHA1;
    else if (expected.len == 2 * GH_SHA256_LEN)
        alg = GH_THUMBPRINT_SHA256;
    else
        return GH_ERR_AUTH;
    char hex[2 * GH_SHA256_LEN];
    struct gh_writer w;
    gh_writer_init(&w, hex, sizeof hex);
    GH_GUARD(gh_thumbprint_hex(der, len, alg, &w));
    GH_ENSURE(gh_thumbprint_equal(gh_writer_slice(&w), expected), GH_ERR_AUTH);
    return GH_OK;
}
