/* X.509 helpers of the provisioning service (PROTOCOL.md 3.4, 4.5):
 * certificate text normalization, the SDK's certificate info objects, and
 * the checks attestation needs (CN, leaf equality, chain to a signing CA).
 *
 * OpenSSL 3. Thread-safe on distinct objects, no I/O, no logging.
 */
#ifndef GH_DPS_DPS_CERT_H
#define GH_DPS_DPS_CERT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "common/error.h"

/* Parse certificate text as enrollments carry it: PEM (exactly one
 * certificate) or base64 of the DER. *pem receives a malloc'd,
 * NUL-terminated PEM copy (caller frees). With want_ca, the certificate
 * must be a CA (basicConstraints CA:TRUE).
 * Errors: GH_ERR_MALFORMED (not a certificate, or more than one),
 * GH_ERR_TOO_LARGE, GH_ERR_NOT_CA, GH_ERR_NOMEM, GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_dps_cert_normalize(const char *text, size_t len, bool want_ca, char **pem);

/* Load the single certificate of a PEM text (as stored). *out is a new
 * reference (X509_free). Errors: GH_ERR_MALFORMED, GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_dps_cert_load(const char *pem, X509 **out);

/* {"certificate": pem, "info": {subjectName, sha1Thumbprint,
 * sha256Thumbprint, issuerName, notBeforeUtc, notAfterUtc, serialNumber,
 * version}} for a stored PEM. New reference.
 * Errors: GH_ERR_MALFORMED, GH_ERR_NOMEM, GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_dps_cert_entry_json(const char *pem, json_t **out);

/* Does the certificate have exactly one subject CN, equal to want byte for
 * byte (3.4)? */
bool gh_dps_cert_cn_is(X509 *cert, const char *want);

/* Upper-case SHA-256 (sha256 true, 64 hex) or SHA-1 (40 hex) thumbprint of
 * a certificate into out (65 bytes). Errors: GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_dps_cert_thumbprint(X509 *cert, bool sha256, char out[65]);

/* Does leaf (with the untrusted intermediates chain, may be NULL) validate
 * up to anchor, which may be a root or an intermediate (partial chain),
 * for client authentication at now_s?
 * Errors: GH_ERR_CERT_VERIFY (no), GH_ERR_NOMEM, GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_dps_cert_chains_to(X509 *leaf, STACK_OF(X509) * chain, X509 *anchor,
                                          int64_t now_s);

#endif
