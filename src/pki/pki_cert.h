/* Certificate lists: files of one or more certificates (a leaf, a chain, a
 * trust bundle), loaded from PEM or DER and written as PEM.
 *
 * A struct gh_pki_certs owns one reference to each X509 it holds. Not
 * thread-safe on one list; distinct lists may be used from distinct threads.
 */
#ifndef GH_PKI_PKI_CERT_H
#define GH_PKI_PKI_CERT_H

#include <openssl/x509v3.h>

#include "pki/pki.h"

/* Most certificates in one file or bundle. */
#define GH_PKI_CERTS_MAX 256
/* Largest DER certificate accepted. */
#define GH_PKI_CERT_DER_MAX (64 * 1024)

struct gh_pki_certs {
    X509 **v;
    size_t n;
    size_t cap;
};

/* Free every certificate and the array; leaves an empty list. */
void gh_pki_certs_cleanup(struct gh_pki_certs *l);

/* Append cert, taking a new reference (the caller keeps its own).
 * Errors: GH_ERR_TOO_MANY (GH_PKI_CERTS_MAX), GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_pki_certs_push(struct gh_pki_certs *l, X509 *cert);

/* Append cert unless an identical (same DER) one is already present.
 * Errors: as gh_pki_certs_push. */
GH_NODISCARD gh_err gh_pki_certs_push_unique(struct gh_pki_certs *l, X509 *cert);

/* Append every certificate in data: PEM "CERTIFICATE" blocks (other blocks,
 * such as keys, are skipped), or one DER certificate when the data holds no
 * PEM block at all. Each DER encoding must be complete with no trailing
 * bytes. On error l is unchanged.
 * Errors: GH_ERR_NOT_FOUND (no certificate), GH_ERR_MALFORMED (bad PEM or
 * DER), GH_ERR_BAD_BASE64, GH_ERR_TOO_LARGE (a certificate above
 * GH_PKI_CERT_DER_MAX), GH_ERR_TOO_MANY, GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_pki_certs_parse(struct gh_pki_certs *l, const uint8_t *data, size_t len);

/* gh_pki_certs_parse on a file (read with gh_pki_file_read), with the path
 * and the reason in diag. Errors: those of both. */
GH_NODISCARD gh_err gh_pki_certs_load(struct gh_pki_certs *l, const char *path,
                                      struct gh_pki_diag *diag);

/* PEM text of every certificate, in order. *pem (NUL-terminated, not
 * counted in *len) is malloc'ed and owned by the caller.
 * Errors: GH_ERR_CRYPTO, GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_pki_certs_pem(const struct gh_pki_certs *l, char **pem, size_t *len);

/* PEM text of one certificate (as gh_pki_certs_pem). */
GH_NODISCARD gh_err gh_pki_cert_pem(X509 *cert, char **pem, size_t *len);

/* Is the certificate self-issued and self-signed (a root)? */
bool gh_pki_cert_self_signed(X509 *cert);

/* Is cert a CA: basicConstraints CA:TRUE and, when key usage is present,
 * keyCertSign? */
bool gh_pki_cert_is_ca(X509 *cert);

/* Was child signed by parent (names chain and the signature verifies)? */
bool gh_pki_cert_issued_by(X509 *child, X509 *parent);

/* The chain to ship with a new certificate: leaf first, then its issuer
 * and the issuer's own intermediates (issuer_chain, may be NULL or hold the
 * issuer itself first), without any self-signed root and without
 * duplicates. out must be empty; on error it is emptied.
 * Errors: GH_ERR_TOO_MANY, GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_pki_chain_build(X509 *leaf, X509 *issuer,
                                       const struct gh_pki_certs *issuer_chain,
                                       struct gh_pki_certs *out);

/* The DNS and IP SANs of a certificate as new strings (see
 * gh_pki_csr_sans; arrays of GH_PKI_SAN_MAX entries).
 * On error the arrays are as they were.
 * Errors: GH_ERR_ARG (another SAN type, invalid text), GH_ERR_MALFORMED (two
 * SAN extensions), GH_ERR_TOO_MANY, GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_pki_cert_sans(X509 *cert, char **dns, size_t *ndns, char **ips, size_t *nips,
                                     struct gh_pki_diag *diag);

/* Text of GENERAL_NAMES (DNS and IP only) into the arrays; shared by the
 * certificate and CSR functions. Errors: as gh_pki_cert_sans. */
GH_NODISCARD gh_err gh_pki_general_names_text(const GENERAL_NAMES *names, char **dns, size_t *ndns,
                                              char **ips, size_t *nips, struct gh_pki_diag *diag);

/* Validity of a certificate as time_t (UTC). Errors: GH_ERR_MALFORMED. */
GH_NODISCARD gh_err gh_pki_cert_validity(const X509 *cert, time_t *not_before, time_t *not_after);

/* Longest text of gh_pki_time_text, with its NUL. */
#define GH_PKI_TIME_TEXT_MAX 32

/* "2026-11-26T14:03:17Z" (RFC 3339, UTC) into out. */
void gh_pki_time_text(time_t t, char out[GH_PKI_TIME_TEXT_MAX]);

#endif
