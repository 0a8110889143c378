/* CA certificate facts and proof of possession (OpenSSL 3). */
#include "hub/ca.h"

#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/buf.h"
#include "iothub/crypto.h"

/* Parse the first certificate of a PEM text. */
static gh_err load_pem(const char *pem, size_t len, X509 **out)
{
    GH_ENSURE(len <= GH_CA_PEM_MAX, GH_ERR_TOO_LARGE);
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    if (b == NULL) return GH_ERR_CRYPTO;
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    ERR_clear_error();
    if (x == NULL) return GH_ERR_MALFORMED;
    *out = x;
    return GH_OK;
}

static gh_err thumbprints(X509 *x, struct gh_ca_info *info)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    if (n <= 0) return GH_ERR_CRYPTO;
    struct gh_writer w;
    gh_writer_init(&w, info->sha1, sizeof info->sha1);
    gh_err rc = gh_thumbprint_hex(der, (size_t)n, GH_THUMBPRINT_SHA1, &w);
    if (rc == GH_OK) rc = gh_writer_terminate(&w);
    if (rc == GH_OK) {
        gh_writer_init(&w, info->sha256, sizeof info->sha256);
        rc = gh_thumbprint_hex(der, (size_t)n, GH_THUMBPRINT_SHA256, &w);
        if (rc == GH_OK) rc = gh_writer_terminate(&w);
    }
    OPENSSL_free(der);
    return rc;
}

static gh_err subject_text(X509 *x, char *out, size_t cap)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL) return GH_ERR_CRYPTO;
    gh_err rc = GH_OK;
    if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) < 0) {
        rc = GH_ERR_CRYPTO;
    } else {
        char *p;
        long n = BIO_get_mem_data(b, &p);
        if (n < 0 || (size_t)n >= cap)
            rc = GH_ERR_TOO_LARGE;
        else {
            memcpy(out, p, (size_t)n);
            out[n] = '\0';
        }
    }
    BIO_free(b);
    return rc;
}

static gh_err not_after(X509 *x, int64_t *ms)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1) return GH_ERR_MALFORMED;
    time_t t = timegm(&tm);
    *ms = (int64_t)t * 1000;
    return GH_OK;
}

gh_err gh_ca_inspect(const char *pem, size_t len, struct gh_ca_info *out)
{
    X509 *x = NULL;
    struct gh_ca_info info;
    GH_GUARD(load_pem(pem, len, &x));
    gh_err rc = X509_check_ca(x) >= 1 ? GH_OK : GH_ERR_NOT_CA;
    if (rc == GH_OK) rc = thumbprints(x, &info);
    if (rc == GH_OK) rc = subject_text(x, info.subject, sizeof info.subject);
    if (rc == GH_OK) rc = not_after(x, &info.not_after_ms);
    if (rc == GH_OK) *out = info;
    X509_free(x);
    ERR_clear_error();
    return rc;
}

/* The only subject CN equals code? */
static bool cn_is(X509 *x, const char *code)
{
    X509_NAME *name = X509_get_subject_name(x);
    int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (i < 0 || X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0) return false;
    const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    size_t n = strlen(code);
    return s != NULL && (size_t)ASN1_STRING_length(s) == n &&
           memcmp(ASN1_STRING_get0_data(s), code, n) == 0;
}

gh_err gh_ca_verify_possession(const char *ca_pem, size_t ca_len, const char *cert_pem,
                               size_t cert_len, const char *code)
{
    X509 *ca = NULL, *cert = NULL;
    gh_err rc = load_pem(ca_pem, ca_len, &ca);
    if (rc != GH_OK) goto out;
    rc = load_pem(cert_pem, cert_len, &cert);
    if (rc != GH_OK) goto out;
    if (!cn_is(cert, code)) {
        rc = GH_ERR_CERT_VERIFY;
        goto out;
    }
    EVP_PKEY *key = X509_get0_pubkey(ca);
    if (key == NULL) {
        rc = GH_ERR_CRYPTO;
        goto out;
    }
    rc = X509_verify(cert, key) == 1 ? GH_OK : GH_ERR_CERT_VERIFY;
out:
    X509_free(ca);
    X509_free(cert);
    ERR_clear_error();
    return rc;
}

gh_err gh_ca_new_code(char out[GH_CA_CODE_LEN + 1])
{
    uint8_t r[GH_CA_CODE_LEN / 2];
    static const char hex[] = "0123456789ABCDEF";
    GH_GUARD(gh_random_bytes(r, sizeof r));
    for (size_t i = 0; i < sizeof r; i++) {
        out[2 * i] = hex[r[i] >> 4];
        out[2 * i + 1] = hex[r[i] & 0x0f];
    }
    out[GH_CA_CODE_LEN] = '\0';
    return GH_OK;
}
