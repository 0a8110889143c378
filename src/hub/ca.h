/* CA certificates registered with the hub (PROTOCOL.md 3.2, 3.3): reading
 * a CA certificate's facts and checking proof of possession.
 *
 * Proof of possession: the hub hands out a random verification code; the
 * owner of the CA's private key issues a certificate whose subject CN is
 * exactly that code and signs it with the CA key; the hub checks both.
 *
 * OpenSSL 3. Thread-safe, no logging, no I/O besides memory BIOs.
 */
#ifndef GH_HUB_CA_H
#define GH_HUB_CA_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Largest PEM accepted for a CA or a verification certificate. */
#define GH_CA_PEM_MAX 65536
/* Longest subject kept (RFC 2253 text). */
#define GH_CA_SUBJECT_MAX 512
/* Verification code: upper-case hex characters (24 random bytes). */
#define GH_CA_CODE_LEN 48
#define GH_CA_SHA1_HEX 40
#define GH_CA_SHA256_HEX 64

struct gh_ca_info {
    char sha1[GH_CA_SHA1_HEX + 1]; /* upper-case hex thumbprints */
    char sha256[GH_CA_SHA256_HEX + 1];
    char subject[GH_CA_SUBJECT_MAX + 1]; /* RFC 2253, e.g. "CN=Tenant CA,O=Example" */
    int64_t not_after_ms;                /* ms since the Unix epoch */
};

/* Read the first certificate of a PEM text (len bytes, need not be
 * NUL-terminated) and describe it. The certificate must be a CA
 * (X509_check_ca: basicConstraints CA:TRUE, or a self-signed v1 root).
 * *out is written only on success.
 * Errors: GH_ERR_TOO_LARGE (len > GH_CA_PEM_MAX or subject longer than
 * GH_CA_SUBJECT_MAX), GH_ERR_MALFORMED (no parsable certificate),
 * GH_ERR_NOT_CA, GH_ERR_CRYPTO (library failure). */
GH_NODISCARD gh_err gh_ca_inspect(const char *pem, size_t len, struct gh_ca_info *out);

/* Proof of possession: the verification certificate (first certificate of
 * cert_pem) must have exactly one subject CN, equal to code byte for byte,
 * and a signature that verifies with the public key of the CA certificate
 * (first certificate of ca_pem). Validity dates of the verification
 * certificate are not checked (it is a one-off proof).
 * Errors: GH_ERR_TOO_LARGE, GH_ERR_MALFORMED (either PEM unparsable),
 * GH_ERR_CERT_VERIFY (CN missing, repeated or different, or the signature
 * does not verify), GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_ca_verify_possession(const char *ca_pem, size_t ca_len, const char *cert_pem,
                                            size_t cert_len, const char *code);

/* A fresh random verification code (GH_CA_CODE_LEN upper-case hex
 * characters and a NUL). Errors: GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_ca_new_code(char out[GH_CA_CODE_LEN + 1]);

#endif
