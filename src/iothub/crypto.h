/* Cryptographic primitives for IoT Hub / DPS authentication (OpenSSL 3).
 *
 * HMAC-SHA256 for SAS signatures and DPS derived keys, SHA-1/SHA-256 for
 * X.509 thumbprints, constant-time comparison, secure wiping and random
 * symmetric keys. Symmetric keys travel as base64 text (PROTOCOL.md 2.2);
 * gh_symkey_decode turns one into bytes that the caller must wipe with
 * gh_secure_zero when done.
 *
 * All functions are thread-safe (OpenSSL 3 is, after its automatic
 * initialisation), do no logging and never log or keep key material.
 * Outputs go through caller buffers or a gh_writer; on error nothing is
 * appended to a writer (its length is restored).
 */
#ifndef GH_IOTHUB_CRYPTO_H
#define GH_IOTHUB_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"

#define GH_SHA1_LEN 20
#define GH_SHA256_LEN 32
/* Base64 text of one SHA-256 sized value (SAS signature, derived key). */
#define GH_SHA256_B64_LEN 44
/* Largest decoded symmetric key accepted (Azure uses 16..64 bytes). */
#define GH_SYMKEY_MAX 128
/* Largest base64 text of a symmetric key (padded encoding of GH_SYMKEY_MAX). */
#define GH_SYMKEY_B64_MAX 172
/* Size of generated device / policy keys (what IoT Hub generates). */
#define GH_SYMKEY_DEFAULT_LEN 32

/* HMAC-SHA256 of data under key into out. keylen 0 is allowed (empty key).
 * Errors: GH_ERR_CRYPTO (library failure). */
GH_NODISCARD gh_err gh_hmac_sha256(const uint8_t *key, size_t keylen, const void *data, size_t len,
                                   uint8_t out[GH_SHA256_LEN]);

/* HMAC-SHA256 over the concatenation of n parts, without copying them.
 * Errors: GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_hmac_sha256_parts(const uint8_t *key, size_t keylen,
                                         const struct gh_slice *parts, size_t n,
                                         uint8_t out[GH_SHA256_LEN]);

/* SHA-1 / SHA-256 digests. Errors: GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_sha1(const void *data, size_t len, uint8_t out[GH_SHA1_LEN]);
GH_NODISCARD gh_err gh_sha256(const void *data, size_t len, uint8_t out[GH_SHA256_LEN]);

/* True when the n bytes at a and b are equal. The time taken depends only on
 * n, never on the contents. */
bool gh_ct_equal(const void *a, const void *b, size_t n);

/* Fill buf with n cryptographically secure random bytes.
 * Errors: GH_ERR_CRYPTO (the generator failed or is not seeded; buf is then
 * unspecified and must not be used). */
GH_NODISCARD gh_err gh_random_bytes(void *buf, size_t n);

/* Overwrite n bytes with zeros in a way the compiler cannot elide. */
void gh_secure_zero(void *p, size_t n);

/* Decode a base64 symmetric key (padded or unpadded, PROTOCOL.md 2.2) into
 * out, which holds GH_SYMKEY_MAX bytes; *outlen receives the key length.
 * The caller wipes out with gh_secure_zero after use.
 * Errors: GH_ERR_BAD_BASE64 (not base64, or empty), GH_ERR_TOO_LARGE (more
 * than GH_SYMKEY_MAX bytes). On error out is wiped and *outlen untouched. */
GH_NODISCARD gh_err gh_symkey_decode(struct gh_slice key_b64, uint8_t out[GH_SYMKEY_MAX],
                                     size_t *outlen);

/* Generate a random symmetric key of nbytes (1..GH_SYMKEY_MAX) and append
 * its padded base64 text to w (gh_base64_encoded_len(nbytes) bytes).
 * Errors: GH_ERR_ARG (nbytes out of range), GH_ERR_NOBUFS, GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_generate_key_b64(size_t nbytes, struct gh_writer *w);

/* DPS group-enrollment derived key (PROTOCOL.md 2.7):
 * Base64(HMAC-SHA256(Base64Decode(group_key_b64), registration_id)).
 * Appends GH_SHA256_B64_LEN characters to w. The registration id is used
 * byte for byte (callers pass it exactly as enrolled).
 * Errors: GH_ERR_BAD_BASE64, GH_ERR_TOO_LARGE (group key), GH_ERR_NOBUFS,
 * GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_derive_device_key(struct gh_slice group_key_b64,
                                         struct gh_slice registration_id, struct gh_writer *w);

enum gh_thumbprint_alg { GH_THUMBPRINT_SHA1, GH_THUMBPRINT_SHA256 };

/* Thumbprint of a DER-encoded certificate (PROTOCOL.md 3.2): upper-case hex
 * of its SHA-1 (40 characters) or SHA-256 (64 characters) digest, appended
 * to w. The DER is hashed as given, not parsed.
 * Errors: GH_ERR_ARG (unknown alg), GH_ERR_NOBUFS, GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_thumbprint_hex(const uint8_t *der, size_t len, enum gh_thumbprint_alg alg,
                                      struct gh_writer *w);

/* Thumbprint strings compare case-insensitively (PROTOCOL.md 3.2). Exact
 * length match required; no separators (':') are skipped. Not constant-time
 * (thumbprints are not secrets). */
bool gh_thumbprint_equal(struct gh_slice a, struct gh_slice b);

/* Does the certificate der match the stored thumbprint expected? A 40-char
 * thumbprint is compared with the SHA-1 thumbprint, a 64-char one with the
 * SHA-256 thumbprint, case-insensitively.
 * Errors: GH_ERR_AUTH (no match, including any other length), GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_thumbprint_match(const uint8_t *der, size_t len, struct gh_slice expected);

#endif
