#include "pki/pki_info.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

static void hex_upper(const unsigned char *p, size_t n, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t j = 0;
    for (size_t i = 0; i < n && j + 2 < cap; i++) {
        out[j++] = hex[p[i] >> 4];
        out[j++] = hex[p[i] & 15];
    }
    out[j] = '\0';
}

gh_err gh_pki_thumbprint(X509 *cert, bool sha256, char *out, size_t cap)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    size_t need = (sha256 ? GH_PKI_SHA256_HEX_LEN : GH_PKI_SHA1_HEX_LEN) + 1;
    GH_ENSURE(cap >= need, GH_ERR_NOBUFS);
    if (X509_digest(cert, sha256 ? EVP_sha256() : EVP_sha1(), md, &n) != 1) {
        ERR_clear_error();
        return GH_ERR_CRYPTO;
    }
    hex_upper(md, n, out, cap);
    return GH_OK;
}

/* RFC 2253 text of a name, control and non-ASCII bytes escaped. */
static void name_text(const X509_NAME *name, char *out, size_t cap)
{
    out[0] = '\0';
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio) return;
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0) {
        char *data = NULL;
        long n = BIO_get_mem_data(bio, &data);
        if (n > 0 && data) {
            size_t len = (size_t)n;
            if (len >= cap) {
                len = cap - 4;
                memcpy(out, data, len);
                memcpy(out + len, "...", 4);
            } else {
                memcpy(out, data, len);
                out[len] = '\0';
            }
        }
    }
    BIO_free(bio);
}

/* First CN as UTF-8, control characters replaced by '?'. */
static void first_cn(const X509_NAME *name, char *out, size_t cap)
{
    out[0] = '\0';
    int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (i < 0) return;
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    if (n < 0) return;
    size_t len = (size_t)n < cap ? (size_t)n : cap - 1;
    for (size_t k = 0; k < len; k++)
        out[k] = utf8[k] < 0x20 || utf8[k] == 0x7f ? '?' : (char)utf8[k];
    out[len] = '\0';
    OPENSSL_free(utf8);
}

static void key_text(X509 *cert, char *out, size_t cap)
{
    EVP_PKEY *pub = X509_get0_pubkey(cert);
    snprintf(out, cap, "unknown");
    if (!pub) return;
    if (EVP_PKEY_is_a(pub, "EC")) {
        char curve[64];
        size_t len = 0;
        if (EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve,
                                           &len) != 1)
            snprintf(curve, sizeof curve, "?");
        const char *nist = strcmp(curve, "prime256v1") == 0  ? "P-256"
                           : strcmp(curve, "secp384r1") == 0 ? "P-384"
                           : strcmp(curve, "secp521r1") == 0 ? "P-521"
                                                             : curve;
        snprintf(out, cap, "EC %.20s", nist);
    } else if (EVP_PKEY_is_a(pub, "RSA")) {
        snprintf(out, cap, "RSA %d", EVP_PKEY_get_bits(pub));
    } else {
        snprintf(out, cap, "%.20s",
                 EVP_PKEY_get0_type_name(pub) ? EVP_PKEY_get0_type_name(pub) : "unknown");
    }
}

static bool dns_text_ok(const unsigned char *p, int n)
{
    if (n <= 0 || n > GH_PKI_DNS_NAME_MAX) return false;
    for (int i = 0; i < n; i++)
        if (p[i] <= 0x20 || p[i] >= 0x7f) return false;
    return true;
}

static void sans(X509 *cert, struct gh_pki_cert_info *o)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        if (gn->type == GEN_DNS && o->ndns < GH_PKI_SAN_MAX) {
            const unsigned char *p = ASN1_STRING_get0_data(gn->d.dNSName);
            int n = ASN1_STRING_length(gn->d.dNSName);
            if (dns_text_ok(p, n)) {
                memcpy(o->dns[o->ndns], p, (size_t)n);
                o->dns[o->ndns++][n] = '\0';
                continue;
            }
        } else if (gn->type == GEN_IPADD && o->nip < GH_PKI_SAN_MAX) {
            int n = ASN1_STRING_length(gn->d.iPAddress);
            const unsigned char *p = ASN1_STRING_get0_data(gn->d.iPAddress);
            if ((n == 4 || n == 16) &&
                inet_ntop(n == 4 ? AF_INET : AF_INET6, p, o->ip[o->nip], GH_PKI_IP_TEXT_MAX)) {
                o->nip++;
                continue;
            }
        }
        o->nother_san++;
    }
    GENERAL_NAMES_free(names);
}

static void usages(X509 *cert, struct gh_pki_cert_info *o)
{
    uint32_t flags = X509_get_extension_flags(cert);
    o->has_key_usage = (flags & EXFLAG_KUSAGE) != 0;
    if (o->has_key_usage) {
        uint32_t ku = X509_get_key_usage(cert);
        const uint32_t known =
            KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | KU_KEY_CERT_SIGN | KU_CRL_SIGN;
        if (ku & KU_DIGITAL_SIGNATURE) o->key_usage |= GH_PKI_KU_DIGITAL_SIGNATURE;
        if (ku & KU_KEY_ENCIPHERMENT) o->key_usage |= GH_PKI_KU_KEY_ENCIPHERMENT;
        if (ku & KU_KEY_CERT_SIGN) o->key_usage |= GH_PKI_KU_KEY_CERT_SIGN;
        if (ku & KU_CRL_SIGN) o->key_usage |= GH_PKI_KU_CRL_SIGN;
        if (ku & ~known) o->key_usage |= GH_PKI_KU_OTHER;
    }
    o->has_ext_key_usage = (flags & EXFLAG_XKUSAGE) != 0;
    if (o->has_ext_key_usage) {
        uint32_t xku = X509_get_extended_key_usage(cert);
        if (xku & XKU_SSL_SERVER) o->ext_key_usage |= GH_PKI_EKU_SERVER_AUTH;
        if (xku & XKU_SSL_CLIENT) o->ext_key_usage |= GH_PKI_EKU_CLIENT_AUTH;
        if (xku & ~(uint32_t)(XKU_SSL_SERVER | XKU_SSL_CLIENT))
            o->ext_key_usage |= GH_PKI_EKU_OTHER;
    }
}

gh_err gh_pki_cert_info(X509 *cert, time_t now, struct gh_pki_cert_info *o)
{
    memset(o, 0, sizeof *o);
    GH_GUARD(gh_pki_cert_validity(cert, &o->not_before, &o->not_after));
    name_text(X509_get_subject_name(cert), o->subject, sizeof o->subject);
    name_text(X509_get_issuer_name(cert), o->issuer, sizeof o->issuer);
    first_cn(X509_get_subject_name(cert), o->cn, sizeof o->cn);
    GH_GUARD(gh_pki_serial_hex(cert, o->serial, sizeof o->serial) == GH_OK ? GH_OK
                                                                           : GH_ERR_MALFORMED);
    long long left = (long long)o->not_after - (long long)now;
    o->days_left = left >= 0 ? left / 86400 : -((-left + 86399) / 86400);
    o->expired = now > o->not_after;
    o->not_yet_valid = now < o->not_before;
    o->is_ca = (X509_get_extension_flags(cert) & EXFLAG_CA) != 0;
    long pl = X509_get_pathlen(cert);
    o->pathlen = pl < 0 ? GH_PKI_PATHLEN_NONE : (int)pl;
    o->self_signed = gh_pki_cert_self_signed(cert);
    key_text(cert, o->key_type, sizeof o->key_type);
    usages(cert, o);
    GH_GUARD(gh_pki_thumbprint(cert, false, o->sha1, sizeof o->sha1));
    GH_GUARD(gh_pki_thumbprint(cert, true, o->sha256, sizeof o->sha256));
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(cert);
    if (ski)
        hex_upper(ASN1_STRING_get0_data(ski), (size_t)ASN1_STRING_length(ski), o->subject_key_id,
                  sizeof o->subject_key_id);
    const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(cert);
    if (aki)
        hex_upper(ASN1_STRING_get0_data(aki), (size_t)ASN1_STRING_length(aki), o->authority_key_id,
                  sizeof o->authority_key_id);
    sans(cert, o);
    ERR_clear_error();
    return GH_OK;
}

static gh_err set_host(X509_VERIFY_PARAM *param, const char *host)
{
    uint8_t ip[16];
    size_t iplen;
    if (gh_pki_ip_parse(host, strlen(host), ip, &iplen) == GH_OK)
        return X509_VERIFY_PARAM_set1_ip(param, ip, iplen) == 1 ? GH_OK : GH_ERR_NOMEM;
    return X509_VERIFY_PARAM_set1_host(param, host, strlen(host)) == 1 ? GH_OK : GH_ERR_NOMEM;
}

gh_err gh_pki_verify(X509 *leaf, const struct gh_pki_certs *untrusted,
                     const struct gh_pki_certs *trusted, const char *host, time_t now, char *why,
                     size_t why_cap)
{
    gh_err rc = GH_ERR_NOMEM;
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *chain = sk_X509_new_null();
    if (why_cap) why[0] = '\0';
    if (!store || !ctx || !chain) goto out;
    for (size_t i = 0; trusted && i < trusted->n; i++)
        if (X509_STORE_add_cert(store, trusted->v[i]) != 1) goto out;
    for (size_t i = 0; untrusted && i < untrusted->n; i++)
        if (sk_X509_push(chain, untrusted->v[i]) <= 0) goto out;
    if (X509_STORE_CTX_init(ctx, store, leaf, chain) != 1) goto out;
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(param, now);
    if (host && set_host(param, host) != GH_OK) goto out;
    if (X509_verify_cert(ctx) == 1) {
        rc = GH_OK;
    } else {
        rc = GH_ERR_CERT_VERIFY;
        if (why_cap)
            snprintf(why, why_cap, "%s",
                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    }
out:
    ERR_clear_error();
    sk_X509_free(chain);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return rc;
}

gh_err gh_pki_check_host(X509 *cert, const char *host)
{
    uint8_t ip[16];
    size_t iplen;
    int r;
    if (gh_pki_ip_parse(host, strlen(host), ip, &iplen) == GH_OK)
        r = X509_check_ip(cert, ip, iplen, 0);
    else
        r = X509_check_host(cert, host, strlen(host), 0, NULL);
    ERR_clear_error();
    return r == 1 ? GH_OK : GH_ERR_CERT_VERIFY;
}
