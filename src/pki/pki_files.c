/* Issue a certificate straight to files (see pki_files.h). */
#include "pki/pki_files.h"

#include <stdlib.h>
#include <string.h>

#include "pki/pki_key.h"

gh_err gh_pki_ca_load(const char *cert_path, const char *key_path, const char *chain_path,
                      const struct gh_pki_secret *pw, struct gh_pki_ca *out,
                      struct gh_pki_diag *diag)
{
    memset(out, 0, sizeof *out);
    gh_err rc = gh_pki_certs_load(&out->cert, cert_path, diag);
    if (rc == GH_OK && chain_path) rc = gh_pki_certs_load(&out->chain, chain_path, diag);
    if (rc == GH_OK) rc = gh_pki_key_load(key_path, pw, &out->key, diag);
    if (rc != GH_OK) gh_pki_ca_cleanup(out);
    return rc;
}

void gh_pki_ca_cleanup(struct gh_pki_ca *ca)
{
    gh_pki_certs_cleanup(&ca->cert);
    gh_pki_certs_cleanup(&ca->chain);
    gh_pki_key_free(ca->key);
    ca->key = NULL;
}

/* The outputs, in the order cert, chain, key (data filled in later). */
static size_t plan(const struct gh_pki_files *f, struct gh_pki_output *outs)
{
    size_t n = 0;
    outs[n++] = (struct gh_pki_output){f->cert, NULL, 0, false, f->replace_cert};
    if (f->chain) outs[n++] = (struct gh_pki_output){f->chain, NULL, 0, false, f->replace_cert};
    if (f->key) outs[n++] = (struct gh_pki_output){f->key, NULL, 0, true, f->replace_key};
    return n;
}

struct encoded {
    char *cert, *chain, *key;
    size_t cert_len, chain_len, key_len;
};

static gh_err encode(X509 *cert, const struct gh_pki_ca *ca, const struct gh_pki_key *key,
                     const struct gh_pki_files *f, struct encoded *e)
{
    GH_GUARD(gh_pki_cert_pem(cert, &e->cert, &e->cert_len));
    if (f->chain) {
        struct gh_pki_certs chain = {0};
        gh_err rc =
            gh_pki_chain_build(cert, ca ? ca->cert.v[0] : NULL, ca ? &ca->chain : NULL, &chain);
        if (rc == GH_OK) rc = gh_pki_certs_pem(&chain, &e->chain, &e->chain_len);
        gh_pki_certs_cleanup(&chain);
        GH_GUARD(rc);
    }
    if (f->key) GH_GUARD(gh_pki_key_to_pem(key, f->key_pw, &e->key, &e->key_len));
    return GH_OK;
}

gh_err gh_pki_issue_files(const struct gh_pki_issue_req *req, const struct gh_pki_ca *ca,
                          const struct gh_pki_subject_key *sk, const struct gh_pki_files *files,
                          X509 **out, struct gh_pki_issued *info, struct gh_pki_diag *diag)
{
    struct gh_pki_output outs[GH_PKI_OUTPUTS_MAX];
    struct gh_pki_key *newkey = NULL;
    EVP_PKEY *pub = NULL;
    X509 *cert = NULL;
    struct encoded e = {0};
    bool root = req->profile == GH_PKI_PROFILE_ROOT;
    if (!files->cert || (files->key && sk->pub) || (!root && (!ca || ca->cert.n == 0))) {
        gh_pki_diag_set(diag, "%s",
                        !files->cert ? "no certificate file given"
                        : sk->pub    ? "a CSR's key cannot be stored"
                                     : "an issuing CA is required");
        return GH_ERR_ARG;
    }
    size_t n = plan(files, outs);
    /* Refuse before any work: an existing output that may not be replaced. */
    gh_err rc = gh_pki_outputs_check(outs, n, diag);
    if (rc != GH_OK) return rc;
    const struct gh_pki_key *key = sk->key;
    if (sk->pub) {
        pub = sk->pub;
        rc = EVP_PKEY_up_ref(pub) == 1 ? GH_OK : GH_ERR_CRYPTO;
    } else {
        if (!key) {
            rc = gh_pki_key_generate(sk->generate, &newkey);
            if (rc != GH_OK)
                gh_pki_diag_set(diag, "cannot generate a %s key",
                                gh_pki_key_type_name(sk->generate));
            key = newkey;
        }
        if (rc == GH_OK) rc = gh_pki_key_public(key, &pub);
    }
    if (rc != GH_OK) goto out;
    if (root && !key) {
        gh_pki_diag_set(diag, "a root signs itself: it needs its private key, not a CSR");
        rc = GH_ERR_ARG;
        goto out;
    }
    struct gh_pki_issuer issuer =
        root ? (struct gh_pki_issuer){NULL, key} : (struct gh_pki_issuer){ca->cert.v[0], ca->key};
    rc = gh_pki_issue(req, &issuer, pub, &cert, info, diag);
    if (rc == GH_OK) rc = encode(cert, root ? NULL : ca, key, files, &e);
    if (rc != GH_OK) goto out;
    for (size_t i = 0; i < n; i++) {
        bool is_key = outs[i].secret, is_chain = !is_key && i > 0;
        outs[i].data = is_key ? e.key : is_chain ? e.chain : e.cert;
        outs[i].len = is_key ? e.key_len : is_chain ? e.chain_len : e.cert_len;
    }
    rc = gh_pki_outputs_write(outs, n, diag);
    if (rc == GH_OK && out) {
        *out = cert;
        cert = NULL;
    }
out:
    gh_pki_key_free(newkey);
    EVP_PKEY_free(pub);
    X509_free(cert);
    free(e.cert);
    free(e.chain);
    gh_pki_wipe_free(e.key, e.key_len);
    return rc;
}
