#include "pki/pki_cert.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/buf.h"
#include "pki/pki_names.h"
#include "pki/pki_pem.h"
#include "pki/pki_store.h"

void gh_pki_certs_cleanup(struct gh_pki_certs *l)
{
    for (size_t i = 0; i < l->n; i++) X509_free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

gh_err gh_pki_certs_push(struct gh_pki_certs *l, X509 *cert)
{
    GH_ENSURE(l->n < GH_PKI_CERTS_MAX, GH_ERR_TOO_MANY);
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        X509 **v = realloc(l->v, cap * sizeof *v);
        GH_ENSURE(v != NULL, GH_ERR_NOMEM);
        l->v = v;
        l->cap = cap;
    }
    GH_ENSURE(X509_up_ref(cert) == 1, GH_ERR_CRYPTO);
    l->v[l->n++] = cert;
    return GH_OK;
}

gh_err gh_pki_certs_push_unique(struct gh_pki_certs *l, X509 *cert)
{
    for (size_t i = 0; i < l->n; i++)
        if (X509_cmp(l->v[i], cert) == 0) return GH_OK;
    return gh_pki_certs_push(l, cert);
}

/* Parse one complete DER certificate. */
static gh_err der_cert(const uint8_t *der, size_t len, X509 **out)
{
    GH_ENSURE(len > 0, GH_ERR_MALFORMED);
    GH_ENSURE(len <= GH_PKI_CERT_DER_MAX, GH_ERR_TOO_LARGE);
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (!x) {
        ERR_clear_error();
        return GH_ERR_MALFORMED;
    }
    if (p != der + len) {
        X509_free(x);
        return GH_ERR_MALFORMED;
    }
    *out = x;
    return GH_OK;
}

static gh_err parse_into(struct gh_pki_certs *l, const uint8_t *data, size_t len, uint8_t *der)
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
        if (!gh_slice_eq_cstr(b.label, "CERTIFICATE")) continue;
        struct gh_writer w;
        gh_writer_init(&w, der, GH_PKI_CERT_DER_MAX);
        rc = gh_pki_pem_decode_body(b.body, &w);
        if (rc == GH_ERR_NOBUFS) return GH_ERR_TOO_LARGE;
        GH_GUARD(rc);
        X509 *x = NULL;
        GH_GUARD(der_cert(der, w.len, &x));
        rc = gh_pki_certs_push(l, x);
        X509_free(x);
        GH_GUARD(rc);
    }
    if (!any_block && len > 0 && data[0] == 0x30) {
        X509 *x = NULL;
        GH_GUARD(der_cert(data, len, &x));
        gh_err rc = gh_pki_certs_push(l, x);
        X509_free(x);
        GH_GUARD(rc);
    }
    return GH_OK;
}

gh_err gh_pki_certs_parse(struct gh_pki_certs *l, const uint8_t *data, size_t len)
{
    uint8_t *der = malloc(GH_PKI_CERT_DER_MAX);
    if (!der) return GH_ERR_NOMEM;
    size_t before = l->n;
    gh_err rc = parse_into(l, data, len, der);
    free(der);
    if (rc == GH_OK && l->n == before) rc = GH_ERR_NOT_FOUND;
    if (rc != GH_OK) {
        while (l->n > before) X509_free(l->v[--l->n]);
        if (before == 0) gh_pki_certs_cleanup(l); /* back to the empty list, array too */
    }
    return rc;
}

gh_err gh_pki_certs_load(struct gh_pki_certs *l, const char *path, struct gh_pki_diag *diag)
{
    uint8_t *data = NULL;
    size_t len = 0;
    GH_GUARD(gh_pki_file_read(path, GH_PKI_FILE_MAX, &data, &len, diag));
    gh_err rc = gh_pki_certs_parse(l, data, len);
    free(data);
    if (rc == GH_ERR_NOT_FOUND)
        gh_pki_diag_set(diag, "%s holds no certificate", path);
    else if (rc != GH_OK)
        gh_pki_diag_set(diag, "%s: cannot read certificates (%s)", path, gh_err_str(rc));
    return rc;
}

static gh_err bio_take(BIO *bio, char **pem, size_t *len)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    GH_ENSURE(n >= 0, GH_ERR_CRYPTO);
    char *copy = malloc((size_t)n + 1);
    GH_ENSURE(copy != NULL, GH_ERR_NOMEM);
    if (n > 0) memcpy(copy, data, (size_t)n);
    copy[n] = '\0';
    *pem = copy;
    *len = (size_t)n;
    return GH_OK;
}

gh_err gh_pki_certs_pem(const struct gh_pki_certs *l, char **pem, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio) return GH_ERR_NOMEM;
    gh_err rc = GH_OK;
    for (size_t i = 0; i < l->n && rc == GH_OK; i++)
        if (PEM_write_bio_X509(bio, l->v[i]) != 1) rc = GH_ERR_CRYPTO;
    if (rc == GH_OK) rc = bio_take(bio, pem, len);
    BIO_free(bio);
    ERR_clear_error();
    return rc;
}

gh_err gh_pki_cert_pem(X509 *cert, char **pem, size_t *len)
{
    struct gh_pki_certs one = {&cert, 1, 1};
    return gh_pki_certs_pem(&one, pem, len);
}

bool gh_pki_cert_self_signed(X509 *cert)
{
    /* X509_self_signed(cert, 1) also verifies the signature. */
    int r = X509_self_signed(cert, 1);
    ERR_clear_error();
    return r == 1;
}

bool gh_pki_cert_is_ca(X509 *cert)
{
    uint32_t flags = X509_get_extension_flags(cert);
    if (!(flags & EXFLAG_BCONS) || !(flags & EXFLAG_CA)) return false;
    if ((flags & EXFLAG_KUSAGE) && !(X509_get_key_usage(cert) & KU_KEY_CERT_SIGN)) return false;
    return true;
}

bool gh_pki_cert_issued_by(X509 *child, X509 *parent)
{
    bool ok = false;
    if (X509_check_issued(parent, child) == X509_V_OK) {
        EVP_PKEY *pub = X509_get0_pubkey(parent);
        ok = pub && X509_verify(child, pub) == 1;
    }
    ERR_clear_error();
    return ok;
}

gh_err gh_pki_chain_build(X509 *leaf, X509 *issuer, const struct gh_pki_certs *issuer_chain,
                          struct gh_pki_certs *out)
{
    gh_err rc = gh_pki_certs_push(out, leaf);
    if (rc == GH_OK && issuer && !gh_pki_cert_self_signed(issuer))
        rc = gh_pki_certs_push_unique(out, issuer);
    for (size_t i = 0; issuer_chain && i < issuer_chain->n && rc == GH_OK; i++) {
        X509 *c = issuer_chain->v[i];
        if (!gh_pki_cert_self_signed(c)) rc = gh_pki_certs_push_unique(out, c);
    }
    if (rc != GH_OK) gh_pki_certs_cleanup(out);
    return rc;
}

static char *ia5_dup(const ASN1_IA5STRING *s)
{
    const unsigned char *p = ASN1_STRING_get0_data(s);
    int n = ASN1_STRING_length(s);
    if (n < 0 || memchr(p, '\0', (size_t)n)) return NULL;
    char *c = malloc((size_t)n + 1);
    if (!c) return NULL;
    memcpy(c, p, (size_t)n);
    c[n] = '\0';
    return c;
}

static gh_err one_name(const GENERAL_NAME *gn, char **dns, size_t *ndns, char **ips, size_t *nips,
                       struct gh_pki_diag *diag)
{
    if (gn->type == GEN_DNS) {
        GH_ENSURE(*ndns < GH_PKI_SAN_MAX, GH_ERR_TOO_MANY);
        char *s = ia5_dup(gn->d.dNSName);
        if (!s || gh_pki_dns_name_check(s, strlen(s), true) != GH_OK) {
            gh_pki_diag_set(diag, "a DNS name in the subject alternative names is invalid");
            free(s);
            return GH_ERR_ARG;
        }
        dns[(*ndns)++] = s;
        return GH_OK;
    }
    if (gn->type == GEN_IPADD) {
        GH_ENSURE(*nips < GH_PKI_SAN_MAX, GH_ERR_TOO_MANY);
        int n = ASN1_STRING_length(gn->d.iPAddress);
        const unsigned char *p = ASN1_STRING_get0_data(gn->d.iPAddress);
        char text[GH_PKI_IP_TEXT_MAX];
        if ((n != 4 && n != 16) || !inet_ntop(n == 4 ? AF_INET : AF_INET6, p, text, sizeof text)) {
            gh_pki_diag_set(diag, "an IP address in the subject alternative names is invalid");
            return GH_ERR_ARG;
        }
        char *s = strdup(text);
        GH_ENSURE(s != NULL, GH_ERR_NOMEM);
        ips[(*nips)++] = s;
        return GH_OK;
    }
    gh_pki_diag_set(diag, "only DNS and IP subject alternative names are supported");
    return GH_ERR_ARG;
}

gh_err gh_pki_general_names_text(const GENERAL_NAMES *names, char **dns, size_t *ndns, char **ips,
                                 size_t *nips, struct gh_pki_diag *diag)
{
    size_t d0 = *ndns, i0 = *nips;
    gh_err rc = GH_OK;
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names) && rc == GH_OK; i++)
        rc = one_name(sk_GENERAL_NAME_value(names, i), dns, ndns, ips, nips, diag);
    if (rc != GH_OK) {
        gh_pki_strings_free(dns + d0, *ndns - d0);
        gh_pki_strings_free(ips + i0, *nips - i0);
        *ndns = d0;
        *nips = i0;
    }
    return rc;
}

gh_err gh_pki_cert_sans(X509 *cert, char **dns, size_t *ndns, char **ips, size_t *nips,
                        struct gh_pki_diag *diag)
{
    int crit = 0;
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
    if (!names && crit != -1) { /* -2: repeated; 0 or 1: present but unreadable */
        ERR_clear_error();
        gh_pki_diag_set(diag, "the certificate's subject alternative names are unreadable or "
                              "repeated");
        return GH_ERR_MALFORMED;
    }
    gh_err rc = gh_pki_general_names_text(names, dns, ndns, ips, nips, diag);
    GENERAL_NAMES_free(names);
    ERR_clear_error();
    return rc;
}

void gh_pki_strings_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i]);
        v[i] = NULL;
    }
}

static gh_err asn1_time(const ASN1_TIME *t, time_t *out)
{
    struct tm tm;
    GH_ENSURE(t != NULL && ASN1_TIME_to_tm(t, &tm) == 1, GH_ERR_MALFORMED);
    time_t v = timegm(&tm);
    GH_ENSURE(v != (time_t)-1, GH_ERR_MALFORMED);
    *out = v;
    return GH_OK;
}

gh_err gh_pki_cert_validity(const X509 *cert, time_t *not_before, time_t *not_after)
{
    gh_err rc = asn1_time(X509_get0_notBefore(cert), not_before);
    if (rc == GH_OK) rc = asn1_time(X509_get0_notAfter(cert), not_after);
    ERR_clear_error();
    return rc;
}

void gh_pki_time_text(time_t t, char out[GH_PKI_TIME_TEXT_MAX])
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, GH_PKI_TIME_TEXT_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        strcpy(out, "?");
}
