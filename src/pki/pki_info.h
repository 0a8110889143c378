/* Inspection of certificates: what `gatehouse pki inspect` shows, and the
 * checks it runs (chain against a trust bundle, host name, key match).
 *
 * Thumbprints are the hub registry's (PROTOCOL.md 3.2): hex of the SHA-1
 * and SHA-256 digests of the DER certificate, upper case without separators
 * (as Azure shows them; the registry compares case-insensitively).
 *
 * Thread-safe on distinct objects; no I/O, no logging.
 */
#ifndef GH_PKI_PKI_INFO_H
#define GH_PKI_PKI_INFO_H

#include "pki/pki.h"
#include "pki/pki_cert.h"
#include "pki/pki_names.h"

/* Longest distinguished name text kept (longer ones end in "..."). */
#define GH_PKI_NAME_TEXT_MAX 512
#define GH_PKI_SHA1_HEX_LEN 40
#define GH_PKI_SHA256_HEX_LEN 64
#define GH_PKI_SERIAL_HEX_MAX 48
#define GH_PKI_KEYID_HEX_MAX 130

/* Key usage bits (a subset of RFC 5280, named in docs/pki.md). */
enum {
    GH_PKI_KU_DIGITAL_SIGNATURE = 1u << 0,
    GH_PKI_KU_KEY_ENCIPHERMENT = 1u << 1,
    GH_PKI_KU_KEY_CERT_SIGN = 1u << 2,
    GH_PKI_KU_CRL_SIGN = 1u << 3,
    GH_PKI_KU_OTHER = 1u << 4,
};
enum {
    GH_PKI_EKU_SERVER_AUTH = 1u << 0,
    GH_PKI_EKU_CLIENT_AUTH = 1u << 1,
    GH_PKI_EKU_OTHER = 1u << 2,
};

struct gh_pki_cert_info {
    char subject[GH_PKI_NAME_TEXT_MAX]; /* RFC 2253, "CN=x,O=y" */
    char issuer[GH_PKI_NAME_TEXT_MAX];
    char cn[GH_PKI_NAME_TEXT_MAX];      /* first CN, UTF-8, "" if none */
    char serial[GH_PKI_SERIAL_HEX_MAX]; /* upper-case hex */
    time_t not_before;
    time_t not_after;
    long long days_left; /* whole days from now to notAfter; negative once expired */
    bool expired;
    bool not_yet_valid;
    bool is_ca;
    int pathlen; /* GH_PKI_PATHLEN_NONE if absent */
    bool self_signed;
    char key_type[32]; /* "EC P-256", "RSA 2048" */
    bool has_key_usage;
    unsigned key_usage; /* GH_PKI_KU_* */
    bool has_ext_key_usage;
    unsigned ext_key_usage; /* GH_PKI_EKU_* */
    char sha1[GH_PKI_SHA1_HEX_LEN + 1];
    char sha256[GH_PKI_SHA256_HEX_LEN + 1];
    char subject_key_id[GH_PKI_KEYID_HEX_MAX];   /* "" if absent */
    char authority_key_id[GH_PKI_KEYID_HEX_MAX]; /* "" if absent */
    char dns[GH_PKI_SAN_MAX][GH_PKI_DNS_NAME_MAX + 1];
    size_t ndns;
    char ip[GH_PKI_SAN_MAX][GH_PKI_IP_TEXT_MAX];
    size_t nip;
    size_t nother_san; /* SANs of other types, or beyond GH_PKI_SAN_MAX */
};

/* Describe cert as of now. Errors: GH_ERR_MALFORMED (unreadable validity
 * or names), GH_ERR_CRYPTO (digest). */
GH_NODISCARD gh_err gh_pki_cert_info(X509 *cert, time_t now, struct gh_pki_cert_info *out);

/* Upper-case hex thumbprint of cert's DER: SHA-1 (sha256 false, 41 bytes of
 * out) or SHA-256 (65 bytes). Errors: GH_ERR_NOBUFS, GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_pki_thumbprint(X509 *cert, bool sha256, char *out, size_t cap);

/* Verify leaf at now against trusted (the trust bundle), using untrusted
 * (may be NULL) as intermediates; if host is non-NULL, the certificate must
 * also be valid for that DNS name or IP address. On failure, why receives
 * OpenSSL's reason ("certificate has expired", "unable to get local issuer
 * certificate", "hostname mismatch", ...).
 * Errors: GH_ERR_CERT_VERIFY, GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_pki_verify(X509 *leaf, const struct gh_pki_certs *untrusted,
                                  const struct gh_pki_certs *trusted, const char *host, time_t now,
                                  char *why, size_t why_cap);

/* Is cert valid for host (DNS name, wildcard-aware, or IP address)?
 * Errors: GH_ERR_CERT_VERIFY. */
GH_NODISCARD gh_err gh_pki_check_host(X509 *cert, const char *host);

#endif
