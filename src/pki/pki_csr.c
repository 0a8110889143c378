/* Certificate signing requests (see pki.h). */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/buf.h"
#include "pki/pki.h"
#include "pki/pki_cert.h"
#include "pki/pki_key.h"
#include "pki/pki_pem.h"

/* Largest DER CSR accepted. */
#define GH_PKI_CSR_DER_MAX (64 * 1024)

static gh_err der_csr(const uint8_t *der, size_t len, X509_REQ **out)
{
    GH_ENSURE(len > 0, GH_ERR_MALFORMED);
    GH_ENSURE(len <= GH_PKI_CSR_DER_MAX, GH_ERR_TOO_LARGE);
    const unsigned char *p = der;
    X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);
    if (!req) return GH_ERR_MALFORMED;
    if (p != der + len) {
        X509_REQ_free(req);
        return GH_ERR_MALFORMED;
    }
    *out = req;
    return GH_OK;
}

static bool is_csr_label(struct gh_slice label)
{
    return gh_slice_eq_cstr(label, "CERTIFICATE REQUEST") ||
           gh_slice_eq_cstr(label, "NEW CERTIFICATE REQUEST");
}

static gh_err find_csr(const uint8_t *data, size_t len, uint8_t *der, X509_REQ **out)
{
    struct gh_reader r;
    struct gh_pki_pem_block b;
    bool any_block = false;
    gh_reader_init(&r, data, len);
    for (;;) {
        gh_err rc = gh_pki_pem_next(&r, &b);
        if (rc == GH_ERR_NOT_FOUND) break;
        GH_GUARD(rc);
        any_block = true;
        if (!is_csr_label(b.label)) continue;
        struct gh_writer w;
        gh_writer_init(&w, der, GH_PKI_CSR_DER_MAX);
        rc = gh_pki_pem_decode_body(b.body, &w);
        if (rc == GH_ERR_NOBUFS) return GH_ERR_TOO_LARGE;
        GH_GUARD(rc);
        return der_csr(der, w.len, out);
    }
    if (!any_block && len > 0 && data[0] == 0x30) return der_csr(data, len, out);
    return GH_ERR_MALFORMED;
}

gh_err gh_pki_csr_parse(const uint8_t *data, size_t len, X509_REQ **out, struct gh_pki_diag *diag)
{
    X509_REQ *req = NULL;
    uint8_t *der = malloc(GH_PKI_CSR_DER_MAX);
    if (!der) return GH_ERR_NOMEM;
    gh_err rc = find_csr(data, len, der, &req);
    free(der);
    ERR_clear_error();
    if (rc != GH_OK) {
        gh_pki_diag_set(diag, "the file is not a certificate signing request (PEM or DER)");
        return rc;
    }
    EVP_PKEY *pub = X509_REQ_get0_pubkey(req);
    if (!pub) {
        gh_pki_diag_set(diag, "the CSR's public key cannot be read");
        rc = GH_ERR_MALFORMED;
        goto out;
    }
    rc = gh_pki_pubkey_check(pub, diag);
    if (rc != GH_OK) goto out;
    int v = X509_REQ_verify(req, pub);
    if (v != 1) {
        gh_pki_diag_set(diag, "the CSR's signature does not verify: it was altered or not made "
                              "with the private key of its public key");
        rc = GH_ERR_BAD_SIGNATURE;
        goto out;
    }
    *out = req;
    req = NULL;
out:
    ERR_clear_error();
    X509_REQ_free(req);
    return rc;
}

gh_err gh_pki_csr_sans(X509_REQ *req, char **dns, size_t *ndns, char **ips, size_t *nips,
                       struct gh_pki_diag *diag)
{
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
    size_t d0 = *ndns, i0 = *nips;
    gh_err rc = GH_OK;
    bool seen = false;
    for (int i = 0; exts && i < sk_X509_EXTENSION_num(exts) && rc == GH_OK; i++) {
        X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, i);
        if (OBJ_obj2nid(X509_EXTENSION_get_object(e)) != NID_subject_alt_name) continue;
        if (seen) {
            gh_pki_diag_set(diag, "the CSR requests two subject alternative name extensions");
            rc = GH_ERR_MALFORMED;
            break;
        }
        seen = true;
        GENERAL_NAMES *names = X509V3_EXT_d2i(e);
        if (!names) {
            gh_pki_diag_set(diag, "the CSR's subject alternative names cannot be read");
            rc = GH_ERR_MALFORMED;
            break;
        }
        rc = gh_pki_general_names_text(names, dns, ndns, ips, nips, diag);
        GENERAL_NAMES_free(names);
    }
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    ERR_clear_error();
    if (rc != GH_OK) { /* leave the arrays as they were */
        gh_pki_strings_free(dns + d0, *ndns - d0);
        gh_pki_strings_free(ips + i0, *nips - i0);
        *ndns = d0;
        *nips = i0;
    }
    return rc;
}
