/* Issue a certificate straight to files: what `gatehouse pki issue-*`
 * does, in one call for the hub (its server certificate on first start) and
 * the edge (its server certificate from the edge CA, renewed in-process).
 *
 * Thread-safe on distinct requests and paths (see pki_store.h for races on
 * the same path).
 */
#ifndef GH_PKI_PKI_FILES_H
#define GH_PKI_PKI_FILES_H

#include "pki/pki.h"
#include "pki/pki_cert.h"
#include "pki/pki_store.h"

/* A CA loaded from files: its certificate, its chain (optional) and its key. */
struct gh_pki_ca {
    struct gh_pki_certs cert;  /* v[0] is the CA certificate */
    struct gh_pki_certs chain; /* the CA and its intermediates; may be empty */
    struct gh_pki_key *key;
};

/* Load a CA: the first certificate of cert_path, the certificates of
 * chain_path (NULL: none), the key of key_path decrypted with pw (NULL: not
 * encrypted). Only loads; gh_pki_issue checks that the key matches and the
 * certificate may sign. out is cleaned up on error.
 * Errors: those of gh_pki_certs_load and gh_pki_key_load. */
GH_NODISCARD gh_err gh_pki_ca_load(const char *cert_path, const char *key_path,
                                   const char *chain_path, const struct gh_pki_secret *pw,
                                   struct gh_pki_ca *out, struct gh_pki_diag *diag);

/* Free everything of ca; safe on a zeroed or cleaned struct. */
void gh_pki_ca_cleanup(struct gh_pki_ca *ca);

/* The subject's key: reuse key (borrowed), or certify pub (a CSR's public
 * key, borrowed: no key is stored then), or, when both are NULL, generate
 * a key of type generate. */
struct gh_pki_subject_key {
    const struct gh_pki_key *key;
    EVP_PKEY *pub;
    enum gh_pki_key_type generate;
};

/* Where the certificate goes. Borrowed strings. */
struct gh_pki_files {
    const char *cert;                   /* required: the certificate (0644) */
    const char *chain;                  /* optional: certificate + intermediates, never the root */
    const char *key;                    /* optional: the subject key (0600); not with a CSR's pub */
    bool replace_cert;                  /* cert and chain may replace existing files */
    bool replace_key;                   /* key may replace an existing file */
    const struct gh_pki_secret *key_pw; /* optional: encrypt the stored key */
};

/* Issue req under ca (NULL for a self-signed ROOT, which the subject key
 * signs) for the subject key sk, and write the files, all or nothing. An
 * existing output that may not be replaced fails before any key is
 * generated. If out is non-NULL it receives a new reference to the
 * certificate (X509_free); info (optional) is filled.
 * Errors: GH_ERR_ARG (bad combination: key file with a CSR key, missing
 * cert path, missing CA), the errors of gh_pki_outputs_check,
 * gh_pki_key_generate, gh_pki_issue, gh_pki_chain_build, gh_pki_key_to_pem
 * and gh_pki_outputs_write. */
GH_NODISCARD gh_err gh_pki_issue_files(const struct gh_pki_issue_req *req,
                                       const struct gh_pki_ca *ca,
                                       const struct gh_pki_subject_key *sk,
                                       const struct gh_pki_files *files, X509 **out,
                                       struct gh_pki_issued *info, struct gh_pki_diag *diag);

#endif
