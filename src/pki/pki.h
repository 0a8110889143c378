/* gatehouse PKI: the certificate authority behind `gatehouse pki`.
 *
 * Library first, CLI second: the hub issues its server certificate from a
 * given CA on first start and the edge issues and renews its own server
 * certificate from its edge CA, both in-process, through these functions.
 *
 * Pieces (one file each):
 *   pki.h / pki_issue.c    profiles, certificate building and issuing
 *   pki_key.h / .c         every private-key operation (generate, load,
 *                          save, sign), kept behind one small interface so
 *                          it can move to a key process or PKCS#11 later
 *   pki_cert.h / .c        certificate lists: load (PEM or DER), encode,
 *                          chains and bundles
 *   pki_csr.c              certificate signing requests
 *   pki_info.h / .c        inspection: names, validity, thumbprints, chain
 *   pki_pem.h / .c         the PEM decoder (bytes in, blocks out)
 *   pki_names.h / .c       validation of host names, IPs, device ids,
 *                          file names; validity periods
 *   pki_store.h / .c       files: bounded reads, atomic all-or-nothing
 *                          writes, the state directory layout, passwords
 *   pki_files.h / .c       load a CA from files; issue a certificate
 *                          straight to files (the hub's and edge's call)
 *   pki_cli*.c             `gatehouse pki ...`
 *
 * Thread-safety: every function here is safe to call from several threads
 * on distinct objects (OpenSSL 3 initialises itself). Nothing logs; errors
 * carry a human-readable reason in a caller-provided struct gh_pki_diag.
 */
#ifndef GH_PKI_PKI_H
#define GH_PKI_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/error.h"

/* ---- diagnostics --------------------------------------------------------- */

#define GH_PKI_DIAG_MAX 512

/* Why an operation failed, for people: "issuer 'x' is not a CA ...".
 * Functions taking a diag fill it on failure only; the first message wins
 * (the most specific one), later calls leave it alone. */
struct gh_pki_diag {
    char msg[GH_PKI_DIAG_MAX];
};

/* Set d->msg (if d is non-NULL and still empty). Thread-safe on distinct d. */
void gh_pki_diag_set(struct gh_pki_diag *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- secrets ------------------------------------------------------------- */

/* A password, owned; data is NUL-terminated (not counted in len) or NULL
 * when no password is set. Wiped and freed by gh_pki_secret_cleanup. */
struct gh_pki_secret {
    char *data;
    size_t len;
};

/* Wipe and free s->data; safe on a zeroed or already cleaned struct. */
void gh_pki_secret_cleanup(struct gh_pki_secret *s);

/* Wipe len bytes at p, then free(p). NULL is fine. */
void gh_pki_wipe_free(void *p, size_t len);

/* ---- keys (operations in pki_key.h) ------------------------------------- */

enum gh_pki_key_type {
    GH_PKI_KEY_EC_P256 = 0,
    GH_PKI_KEY_EC_P384,
    GH_PKI_KEY_RSA_2048,
    GH_PKI_KEY_RSA_3072,
    GH_PKI_KEY_RSA_4096,
};
#define GH_PKI_KEY_TYPE_DEFAULT GH_PKI_KEY_EC_P256

struct gh_pki_key;

/* ---- validity ------------------------------------------------------------ */

enum gh_pki_period_unit { GH_PKI_PERIOD_DAYS = 0, GH_PKI_PERIOD_MONTHS, GH_PKI_PERIOD_YEARS };

/* count 0 means "the profile's default". */
struct gh_pki_period {
    enum gh_pki_period_unit unit;
    unsigned count;
};

/* Defaults (docs/pki.md): a root lives 10 years, an intermediate CA 5, a
 * server or device certificate 12 months, a verification certificate 30
 * days. Upper bound for any certificate: 100 years. */
#define GH_PKI_ROOT_YEARS_DEFAULT 10u
#define GH_PKI_CA_YEARS_DEFAULT 5u
#define GH_PKI_LEAF_MONTHS_DEFAULT 12u
#define GH_PKI_VERIFICATION_DAYS_DEFAULT 30u
#define GH_PKI_VALIDITY_DAYS_MAX 36525u
#define GH_PKI_VALIDITY_MONTHS_MAX 1200u
#define GH_PKI_VALIDITY_YEARS_MAX 100u
/* notBefore is set this far in the past, so a peer whose clock is a little
 * behind still accepts a certificate issued a moment ago. */
#define GH_PKI_BACKDATE_SECONDS 300
/* Random serial numbers: 128 bits from the OpenSSL CSPRNG. */
#define GH_PKI_SERIAL_BYTES 16
/* Most SAN entries in one certificate (DNS and IP counted separately). */
#define GH_PKI_SAN_MAX 32

/* ---- profiles and issuing ----------------------------------------------- */

/* What a certificate is for; fixes basic constraints, key usage and EKU:
 *   ROOT    self-signed; CA:TRUE (critical), pathlen as requested (default
 *           none); keyCertSign, cRLSign (critical)
 *   CA      intermediate (edge CA, tenant CA); CA:TRUE (critical), pathlen
 *           default 0; keyCertSign, cRLSign (critical)
 *   SERVER  CA:FALSE (critical); digitalSignature (+ keyEncipherment for
 *           RSA) (critical); EKU serverAuth; DNS/IP SANs (at least one)
 *   DEVICE  CA:FALSE (critical); digitalSignature (critical); EKU
 *           clientAuth; CN = device id (IoT Hub device-id rule)
 *   VERIFICATION  like DEVICE, CN = the hub's verification code
 * Every certificate gets a subject key identifier (SHA-1 of the key) and,
 * when issued by a CA, the authority key identifier of that CA. */
enum gh_pki_profile {
    GH_PKI_PROFILE_ROOT = 0,
    GH_PKI_PROFILE_CA,
    GH_PKI_PROFILE_SERVER,
    GH_PKI_PROFILE_DEVICE,
    GH_PKI_PROFILE_VERIFICATION,
};

#define GH_PKI_PATHLEN_NONE (-1)
#define GH_PKI_PATHLEN_MAX 8

/* What to issue. Strings are borrowed for the duration of the call. */
struct gh_pki_issue_req {
    enum gh_pki_profile profile;
    /* Subject: either subject (copied as is, e.g. from a CSR or the
     * certificate being renewed; its CN is still validated for the profile)
     * or cn (+ optional org). */
    const X509_NAME *subject;
    const char *cn;
    const char *org;
    /* Subject alternative names, validated (pki_names.h). */
    const char *const *dns;
    size_t ndns;
    const char *const *ips;
    size_t nips;
    /* CA and ROOT: GH_PKI_PATHLEN_NONE or 0..GH_PKI_PATHLEN_MAX. Leaves:
     * must be GH_PKI_PATHLEN_NONE. */
    int pathlen;
    struct gh_pki_period validity;
    /* "Now": notBefore = now - GH_PKI_BACKDATE_SECONDS. */
    time_t now;
};

/* Who signs. All borrowed. For ROOT, cert is NULL and key is the new
 * root's own key (self-signed). */
struct gh_pki_issuer {
    X509 *cert;
    const struct gh_pki_key *key;
};

/* Facts about an issued certificate. */
struct gh_pki_issued {
    time_t not_before;
    time_t not_after;
    /* The requested notAfter was later than the issuer's and was moved back
     * to the issuer's notAfter (a certificate never outlives its issuer). */
    bool clamped;
};

/* Initialise req with profile defaults: pathlen (0 for CA, none otherwise),
 * default validity, now = time(NULL). Thread-safe. */
void gh_pki_issue_req_init(struct gh_pki_issue_req *req, enum gh_pki_profile profile);

/* Check that issuer can sign a certificate of profile at now: its key
 * matches its certificate, it is a CA (basicConstraints CA:TRUE and, when
 * key usage is present, keyCertSign), it is within its validity, and (for a
 * CA profile) its path length allows one more CA below it.
 * Errors: GH_ERR_KEY_MISMATCH, GH_ERR_NOT_CA, GH_ERR_EXPIRED (also for "not
 * yet valid"), GH_ERR_FORBIDDEN (path length), GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_pki_issuer_check(const struct gh_pki_issuer *issuer,
                                        enum gh_pki_profile profile, time_t now,
                                        struct gh_pki_diag *diag);

/* Validate req alone (profile, names, SANs, path length, period), as
 * gh_pki_issue will, so that callers can refuse a bad request before they
 * load an issuer or generate a key. Thread-safe.
 * Errors: GH_ERR_ARG, GH_ERR_TOO_MANY, GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_pki_issue_req_check(const struct gh_pki_issue_req *req,
                                           struct gh_pki_diag *diag);

/* Build and sign a certificate for subject_pub (a public key; a private key
 * is accepted too, only its public half is used) under issuer.
 * ROOT requires issuer->cert == NULL and issuer->key matching subject_pub;
 * all other profiles require an issuer certificate, checked with
 * gh_pki_issuer_check first. On success *out is a new X509 the caller frees
 * with X509_free; info (optional) is filled. On error nothing is returned.
 * Errors: GH_ERR_ARG (bad name, SAN, pathlen, period, missing SAN for a
 * server, weak subject key), GH_ERR_TOO_MANY (more than GH_PKI_SAN_MAX SANs),
 * the gh_pki_issuer_check errors, GH_ERR_KEY_MISMATCH (ROOT key),
 * GH_ERR_MALFORMED (unreadable issuer validity), GH_ERR_CRYPTO,
 * GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_pki_issue(const struct gh_pki_issue_req *req,
                                 const struct gh_pki_issuer *issuer, EVP_PKEY *subject_pub,
                                 X509 **out, struct gh_pki_issued *info, struct gh_pki_diag *diag);

/* Upper-case hex of a certificate's serial number into out (cap >= 2 *
 * 20 + 1 for RFC 5280 serials). Errors: GH_ERR_NOBUFS, GH_ERR_MALFORMED. */
GH_NODISCARD gh_err gh_pki_serial_hex(const X509 *cert, char *out, size_t cap);

/* ---- CSRs (pki_csr.c) ---------------------------------------------------- */

/* Parse a CSR (PEM "CERTIFICATE REQUEST" / "NEW CERTIFICATE REQUEST", or
 * DER) and verify its self-signature. *out is a new X509_REQ (X509_REQ_free).
 * Errors: GH_ERR_MALFORMED (not a CSR), GH_ERR_BAD_SIGNATURE (signature does
 * not verify), GH_ERR_ARG (weak or unsupported key), GH_ERR_TOO_LARGE,
 * GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_pki_csr_parse(const uint8_t *data, size_t len, X509_REQ **out,
                                     struct gh_pki_diag *diag);

/* The DNS and IP names a CSR requests (extensionRequest, subjectAltName),
 * as text in caller arrays of GH_PKI_SAN_MAX entries. Each dns[i]/ips[i] is
 * a new string the caller frees (gh_pki_strings_free); names are appended
 * after the *ndns / *nips already there. On error the arrays and counts are
 * as they were.
 * Errors: GH_ERR_ARG (a SAN type other than DNS or IP, or invalid text),
 * GH_ERR_MALFORMED (unreadable or repeated extension), GH_ERR_TOO_MANY,
 * GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_pki_csr_sans(X509_REQ *req, char **dns, size_t *ndns, char **ips,
                                    size_t *nips, struct gh_pki_diag *diag);

/* Free n strings of an array filled by gh_pki_csr_sans / gh_pki_cert_sans. */
void gh_pki_strings_free(char **v, size_t n);

#endif
