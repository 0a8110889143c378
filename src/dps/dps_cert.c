/* X.509 helpers of the provisioning service (see dps_cert.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/encoding.h"
#include "dps/dps.h"
#include "dps/dps_cert.h"
#include "pki/pki_info.h"

static gh_err to_pem(X509 *x, char **pem)
{
    BIO *b = BIO_new(BIO_s_mem());
    GH_ENSURE(b != NULL, GH_ERR_NOMEM);
    gh_err rc = GH_ERR_CRYPTO;
    if (PEM_write_bio_X509(b, x) == 1) {
        char *p;
        long n = BIO_get_mem_data(b, &p);
        char *copy = n > 0 ? malloc((size_t)n + 1) : NULL;
        if (copy != NULL) {
            memcpy(copy, p, (size_t)n);
            copy[n] = '\0';
            *pem = copy;
            rc = GH_OK;
        } else {
            rc = GH_ERR_NOMEM;
        }
    }
    BIO_free(b);
    return rc;
}

/* One certificate from PEM text; a second certificate is refused. */
static gh_err from_pem(const char *text, size_t len, X509 **out)
{
    GH_ENSURE(len <= INT32_MAX, GH_ERR_TOO_LARGE);
    BIO *b = BIO_new_mem_buf(text, (int)len);
    GH_ENSURE(b != NULL, GH_ERR_NOMEM);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    X509 *extra = x != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (x == NULL || extra != NULL) {
        X509_free(x);
        X509_free(extra);
        return GH_ERR_MALFORMED;
    }
    *out = x;
    return GH_OK;
}

static gh_err from_b64_der(const char *text, size_t len, X509 **out)
{
    size_t cap = len / 4 * 3 + 3;
    uint8_t *der = malloc(cap);
    GH_ENSURE(der != NULL, GH_ERR_NOMEM);
    struct gh_writer w;
    gh_writer_init(&w, der, cap);
    gh_err rc = gh_base64_decode(text, len, &w);
    if (rc == GH_OK) {
        const unsigned char *p = der;
        X509 *x = d2i_X509(NULL, &p, (long)w.len);
        if (x == NULL || p != der + w.len) {
            X509_free(x);
            rc = GH_ERR_MALFORMED;
        } else {
            *out = x;
        }
    } else {
        rc = GH_ERR_MALFORMED;
    }
    free(der);
    return rc;
}

gh_err gh_dps_cert_normalize(const char *text, size_t len, bool want_ca, char **pem)
{
    GH_ENSURE(len <= GH_DPS_CERT_TEXT_MAX, GH_ERR_TOO_LARGE);
    X509 *x = NULL;
    bool is_pem = false;
    for (size_t i = 0; i + 5 <= len && !is_pem; i++) is_pem = memcmp(text + i, "-----", 5) == 0;
    GH_GUARD(is_pem ? from_pem(text, len, &x) : from_b64_der(text, len, &x));
    gh_err rc = GH_OK;
    if (want_ca && X509_check_ca(x) != 1) rc = GH_ERR_NOT_CA;
    if (rc == GH_OK) rc = to_pem(x, pem);
    X509_free(x);
    return rc;
}

gh_err gh_dps_cert_load(const char *pem, X509 **out)
{
    return from_pem(pem, strlen(pem), out);
}

gh_err gh_dps_cert_thumbprint(X509 *cert, bool sha256, char out[65])
{
    return gh_pki_thumbprint(cert, sha256, out, 65) == GH_OK ? GH_OK : GH_ERR_CRYPTO;
}

static void utc_text(time_t t, char out[32])
{
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 32, "0001-01-01T00:00:00Z");
}

static gh_err info_json(X509 *x, json_t **out)
{
    struct gh_pki_cert_info *ci = calloc(1, sizeof *ci);
    GH_ENSURE(ci != NULL, GH_ERR_NOMEM);
    gh_err rc = gh_pki_cert_info(x, time(NULL), ci);
    if (rc == GH_OK) {
        char nb[32], na[32];
        utc_text(ci->not_before, nb);
        utc_text(ci->not_after, na);
        json_t *o =
            json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "subjectName", ci->subject,
                      "sha1Thumbprint", ci->sha1, "sha256Thumbprint", ci->sha256, "issuerName",
                      ci->issuer, "notBeforeUtc", nb, "notAfterUtc", na, "serialNumber", ci->serial,
                      "version", (json_int_t)X509_get_version(x) + 1);
        if (o == NULL)
            rc = GH_ERR_NOMEM;
        else
            *out = o;
    } else if (rc != GH_ERR_CRYPTO) {
        rc = GH_ERR_MALFORMED;
    }
    free(ci);
    return rc;
}

gh_err gh_dps_cert_entry_json(const char *pem, json_t **out)
{
    X509 *x = NULL;
    GH_GUARD(gh_dps_cert_load(pem, &x));
    json_t *info = NULL;
    gh_err rc = info_json(x, &info);
    X509_free(x);
    GH_GUARD(rc);
    json_t *o = json_pack("{s:s,s:o}", "certificate", pem, "info", info);
    GH_ENSURE(o != NULL, GH_ERR_NOMEM);
    *out = o;
    return GH_OK;
}

bool gh_dps_cert_cn_is(X509 *cert, const char *want)
{
    X509_NAME *subj = X509_get_subject_name(cert);
    int idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
    if (idx < 0 || X509_NAME_get_index_by_NID(subj, NID_commonName, idx) >= 0) return false;
    ASN1_STRING *cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx));
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, cn);
    bool same = n >= 0 && (size_t)n == strlen(want) && memcmp(utf8, want, (size_t)n) == 0;
    OPENSSL_free(utf8);
    return same;
}

gh_err gh_dps_cert_chains_to(X509 *leaf, STACK_OF(X509) * chain, X509 *anchor, int64_t now_s)
{
    X509_STORE *st = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    gh_err rc = GH_ERR_NOMEM;
    if (st == NULL || ctx == NULL) goto out;
    rc = GH_ERR_CRYPTO;
    if (X509_STORE_add_cert(st, anchor) != 1) goto out;
    if (X509_STORE_CTX_init(ctx, st, leaf, chain) != 1) goto out;
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
    /* The signing certificate may be an intermediate (a tenant CA). */
    X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_PARTIAL_CHAIN);
    X509_VERIFY_PARAM_set_time(vp, (time_t)now_s);
    rc = X509_verify_cert(ctx) == 1 ? GH_OK : GH_ERR_CERT_VERIFY;
out:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    return rc;
}
