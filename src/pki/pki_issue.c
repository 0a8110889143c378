/* Certificate profiles and issuing (see pki.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "pki/pki.h"
#include "pki/pki_cert.h"
#include "pki/pki_key.h"
#include "pki/pki_names.h"

void gh_pki_issue_req_init(struct gh_pki_issue_req *req, enum gh_pki_profile profile)
{
    memset(req, 0, sizeof *req);
    req->profile = profile;
    req->pathlen = profile == GH_PKI_PROFILE_CA ? 0 : GH_PKI_PATHLEN_NONE;
    req->validity.count = 0;
    req->now = time(NULL);
}

static bool profile_is_ca(enum gh_pki_profile p)
{
    return p == GH_PKI_PROFILE_ROOT || p == GH_PKI_PROFILE_CA;
}

static struct gh_pki_period default_period(enum gh_pki_profile p)
{
    switch (p) {
    case GH_PKI_PROFILE_ROOT:
        return (struct gh_pki_period){GH_PKI_PERIOD_YEARS, GH_PKI_ROOT_YEARS_DEFAULT};
    case GH_PKI_PROFILE_CA:
        return (struct gh_pki_period){GH_PKI_PERIOD_YEARS, GH_PKI_CA_YEARS_DEFAULT};
    case GH_PKI_PROFILE_VERIFICATION:
        return (struct gh_pki_period){GH_PKI_PERIOD_DAYS, GH_PKI_VERIFICATION_DAYS_DEFAULT};
    case GH_PKI_PROFILE_SERVER:
    case GH_PKI_PROFILE_DEVICE:
        break;
    }
    return (struct gh_pki_period){GH_PKI_PERIOD_MONTHS, GH_PKI_LEAF_MONTHS_DEFAULT};
}

gh_err gh_pki_issuer_check(const struct gh_pki_issuer *issuer, enum gh_pki_profile profile,
                           time_t now, struct gh_pki_diag *diag)
{
    char when[GH_PKI_TIME_TEXT_MAX];
    GH_ENSURE(issuer && issuer->cert && issuer->key, GH_ERR_ARG);
    if (gh_pki_key_matches(issuer->key, X509_get0_pubkey(issuer->cert)) != GH_OK) {
        gh_pki_diag_set(diag, "the issuer's private key does not match the issuer certificate");
        return GH_ERR_KEY_MISMATCH;
    }
    if (!gh_pki_cert_is_ca(issuer->cert)) {
        gh_pki_diag_set(diag, "the issuer certificate is not a CA certificate (no "
                              "basicConstraints CA:TRUE with keyCertSign): it cannot sign");
        return GH_ERR_NOT_CA;
    }
    time_t nb, na;
    if (gh_pki_cert_validity(issuer->cert, &nb, &na) != GH_OK) {
        gh_pki_diag_set(diag, "the issuer certificate has an unreadable validity");
        return GH_ERR_MALFORMED;
    }
    if (now > na) {
        gh_pki_time_text(na, when);
        gh_pki_diag_set(diag, "the issuer certificate expired on %s: renew it first", when);
        return GH_ERR_EXPIRED;
    }
    if (now < nb) {
        gh_pki_time_text(nb, when);
        gh_pki_diag_set(diag, "the issuer certificate is not valid before %s", when);
        return GH_ERR_EXPIRED;
    }
    if (profile_is_ca(profile) && X509_get_pathlen(issuer->cert) == 0) {
        gh_pki_diag_set(diag, "the issuer has path length 0: it may sign only end-entity "
                              "certificates, not another CA");
        return GH_ERR_FORBIDDEN;
    }
    return GH_OK;
}

/* Validate one subject CN for the profile. */
static gh_err cn_check(enum gh_pki_profile p, const char *cn, size_t n, struct gh_pki_diag *diag)
{
    if (p == GH_PKI_PROFILE_DEVICE) {
        if (gh_pki_device_id_check(cn, n) != GH_OK) {
            gh_pki_diag_set(diag, "the device id is invalid: 1-128 characters from A-Z a-z 0-9 "
                                  "and - . + %% _ # * ? ! ( ) , = @ $ '");
            return GH_ERR_ARG;
        }
        if (n > GH_PKI_CN_MAX) {
            gh_pki_diag_set(diag, "a device id longer than 64 characters cannot be a "
                                  "certificate common name (RFC 5280 limit)");
            return GH_ERR_ARG;
        }
        return GH_OK;
    }
    if (p == GH_PKI_PROFILE_VERIFICATION) {
        if (gh_pki_verification_code_check(cn, n) != GH_OK) {
            gh_pki_diag_set(diag, "the verification code is invalid: 1-64 characters from "
                                  "A-Z a-z 0-9 - _ .");
            return GH_ERR_ARG;
        }
        return GH_OK;
    }
    if (gh_pki_text_attr_check(cn, n, GH_PKI_CN_MAX) != GH_OK) {
        gh_pki_diag_set(diag, "the common name must be 1-64 bytes of UTF-8 without control "
                              "characters");
        return GH_ERR_ARG;
    }
    return GH_OK;
}

/* The subject name of the new certificate, validated. */
static gh_err make_subject(const struct gh_pki_issue_req *req, X509_NAME **out,
                           struct gh_pki_diag *diag)
{
    if (req->subject) {
        const X509_NAME *s = req->subject;
        int i = X509_NAME_get_index_by_NID(s, NID_commonName, -1);
        if (i < 0 || X509_NAME_get_index_by_NID(s, NID_commonName, i) >= 0) {
            gh_pki_diag_set(diag, "the subject must have exactly one common name (CN)");
            return GH_ERR_ARG;
        }
        unsigned char *utf8 = NULL;
        int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(s, i)));
        if (n < 0) {
            ERR_clear_error();
            gh_pki_diag_set(diag, "the subject common name is not a valid string");
            return GH_ERR_ARG;
        }
        gh_err rc = cn_check(req->profile, (const char *)utf8, (size_t)n, diag);
        OPENSSL_free(utf8);
        GH_GUARD(rc);
        *out = X509_NAME_dup(s);
        GH_ENSURE(*out != NULL, GH_ERR_NOMEM);
        return GH_OK;
    }
    if (!req->cn) {
        gh_pki_diag_set(diag, "a common name (CN) is required");
        return GH_ERR_ARG;
    }
    GH_GUARD(cn_check(req->profile, req->cn, strlen(req->cn), diag));
    if (req->org && gh_pki_text_attr_check(req->org, strlen(req->org), GH_PKI_ORG_MAX) != GH_OK) {
        gh_pki_diag_set(diag, "the organization must be 1-64 bytes of UTF-8 without control "
                              "characters");
        return GH_ERR_ARG;
    }
    X509_NAME *name = X509_NAME_new();
    GH_ENSURE(name != NULL, GH_ERR_NOMEM);
    int ok = 1;
    if (req->org)
        ok = X509_NAME_add_entry_by_NID(name, NID_organizationName, MBSTRING_UTF8,
                                        (const unsigned char *)req->org, -1, -1, 0);
    if (ok)
        ok = X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                        (const unsigned char *)req->cn, -1, -1, 0);
    if (!ok) {
        ERR_clear_error();
        X509_NAME_free(name);
        gh_pki_diag_set(diag, "the subject name cannot be encoded");
        return GH_ERR_ARG;
    }
    *out = name;
    return GH_OK;
}

/* subjectAltName from the validated DNS and IP lists; NULL if both empty. */
static gh_err make_sans(const struct gh_pki_issue_req *req, GENERAL_NAMES **out,
                        struct gh_pki_diag *diag)
{
    *out = NULL;
    if (req->ndns + req->nips == 0) return GH_OK;
    if (req->ndns > GH_PKI_SAN_MAX || req->nips > GH_PKI_SAN_MAX) {
        gh_pki_diag_set(diag, "at most %d DNS names and %d IP addresses", GH_PKI_SAN_MAX,
                        GH_PKI_SAN_MAX);
        return GH_ERR_TOO_MANY;
    }
    if (req->profile != GH_PKI_PROFILE_SERVER) {
        gh_pki_diag_set(diag, "DNS and IP names belong only in server certificates");
        return GH_ERR_ARG;
    }
    GENERAL_NAMES *names = GENERAL_NAMES_new();
    GH_ENSURE(names != NULL, GH_ERR_NOMEM);
    gh_err rc = GH_OK;
    for (size_t i = 0; i < req->ndns + req->nips && rc == GH_OK; i++) {
        bool is_dns = i < req->ndns;
        const char *s = is_dns ? req->dns[i] : req->ips[i - req->ndns];
        uint8_t ip[16];
        size_t iplen = 0;
        if (is_dns && gh_pki_dns_name_check(s, strlen(s), true) != GH_OK) {
            gh_pki_diag_set(diag, "'%.253s' is not a valid DNS host name", s);
            rc = GH_ERR_ARG;
            break;
        }
        if (!is_dns && gh_pki_ip_parse(s, strlen(s), ip, &iplen) != GH_OK) {
            gh_pki_diag_set(diag, "'%.64s' is not an IPv4 or IPv6 address", s);
            rc = GH_ERR_ARG;
            break;
        }
        GENERAL_NAME *gn = GENERAL_NAME_new();
        ASN1_STRING *v = is_dns ? ASN1_IA5STRING_new() : ASN1_OCTET_STRING_new();
        int ok = gn && v &&
                 ASN1_STRING_set(v, is_dns ? (const void *)s : (const void *)ip,
                                 is_dns ? (int)strlen(s) : (int)iplen) == 1;
        if (ok) {
            GENERAL_NAME_set0_value(gn, is_dns ? GEN_DNS : GEN_IPADD, v);
            v = NULL;
            ok = sk_GENERAL_NAME_push(names, gn) > 0;
            if (ok) gn = NULL;
        }
        ASN1_STRING_free(v);
        GENERAL_NAME_free(gn);
        if (!ok) rc = GH_ERR_NOMEM;
    }
    if (rc != GH_OK) {
        GENERAL_NAMES_free(names);
        return rc;
    }
    *out = names;
    return GH_OK;
}

static gh_err add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
    if (!ext) return GH_ERR_CRYPTO;
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1 ? GH_OK : GH_ERR_CRYPTO;
}

static gh_err set_serial(X509 *x)
{
    unsigned char raw[GH_PKI_SERIAL_BYTES];
    BIGNUM *bn = NULL;
    gh_err rc = GH_ERR_CRYPTO;
    for (int tries = 0; tries < 4; tries++) {
        if (RAND_bytes(raw, sizeof raw) != 1) goto out;
        bn = BN_bin2bn(raw, sizeof raw, bn);
        if (!bn) goto out;
        if (!BN_is_zero(bn)) break;
    }
    if (bn && !BN_is_zero(bn) && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL)
        rc = GH_OK;
out:
    BN_free(bn);
    return rc;
}

static gh_err add_profile_exts(X509 *x, X509 *issuer_cert, const struct gh_pki_issue_req *req,
                               EVP_PKEY *pub)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer_cert ? issuer_cert : x, x, NULL, NULL, 0);
    char bc[64];
    if (profile_is_ca(req->profile)) {
        if (req->pathlen == GH_PKI_PATHLEN_NONE)
            snprintf(bc, sizeof bc, "critical,CA:TRUE");
        else
            snprintf(bc, sizeof bc, "critical,CA:TRUE,pathlen:%d", req->pathlen);
    } else {
        snprintf(bc, sizeof bc, "critical,CA:FALSE");
    }
    GH_GUARD(add_ext(x, &ctx, NID_basic_constraints, bc));
    const char *ku = "critical,digitalSignature";
    const char *eku = NULL;
    switch (req->profile) {
    case GH_PKI_PROFILE_ROOT:
    case GH_PKI_PROFILE_CA:
        ku = "critical,keyCertSign,cRLSign";
        break;
    case GH_PKI_PROFILE_SERVER:
        if (EVP_PKEY_is_a(pub, "RSA")) ku = "critical,digitalSignature,keyEncipherment";
        eku = "serverAuth";
        break;
    case GH_PKI_PROFILE_DEVICE:
    case GH_PKI_PROFILE_VERIFICATION:
        eku = "clientAuth";
        break;
    }
    GH_GUARD(add_ext(x, &ctx, NID_key_usage, ku));
    if (eku) GH_GUARD(add_ext(x, &ctx, NID_ext_key_usage, eku));
    GH_GUARD(add_ext(x, &ctx, NID_subject_key_identifier, "hash"));
    /* A root names its own key; others their issuer's key id (or, for a
     * foreign CA without one, its issuer name and serial). */
    GH_GUARD(add_ext(x, &ctx, NID_authority_key_identifier,
                     issuer_cert ? "keyid,issuer" : "keyid:always"));
    return GH_OK;
}

/* Request checks that need no issuer. */
static gh_err check_req(const struct gh_pki_issue_req *req, struct gh_pki_diag *diag)
{
    if (req->profile > GH_PKI_PROFILE_VERIFICATION) return GH_ERR_ARG;
    if (profile_is_ca(req->profile)) {
        if (req->pathlen < GH_PKI_PATHLEN_NONE || req->pathlen > GH_PKI_PATHLEN_MAX) {
            gh_pki_diag_set(diag, "path length must be 0..%d", GH_PKI_PATHLEN_MAX);
            return GH_ERR_ARG;
        }
    } else if (req->pathlen != GH_PKI_PATHLEN_NONE) {
        gh_pki_diag_set(diag, "a path length applies only to CA certificates");
        return GH_ERR_ARG;
    }
    if (req->profile == GH_PKI_PROFILE_SERVER && req->ndns + req->nips == 0) {
        gh_pki_diag_set(diag, "a server certificate needs at least one DNS name or IP address");
        return GH_ERR_ARG;
    }
    return GH_OK;
}

/* Pathlen of a new CA against its issuer's constraint. */
static gh_err check_pathlen(const struct gh_pki_issue_req *req, X509 *issuer,
                            struct gh_pki_diag *diag)
{
    if (req->profile != GH_PKI_PROFILE_CA) return GH_OK;
    long limit = X509_get_pathlen(issuer);
    if (limit < 0) return GH_OK;
    if (req->pathlen == GH_PKI_PATHLEN_NONE || req->pathlen > limit - 1) {
        gh_pki_diag_set(diag, "the issuer's path length %ld allows at most --pathlen %ld below it",
                        limit, limit - 1);
        return GH_ERR_ARG;
    }
    return GH_OK;
}

gh_err gh_pki_issue_req_check(const struct gh_pki_issue_req *req, struct gh_pki_diag *diag)
{
    X509_NAME *subject = NULL;
    GENERAL_NAMES *sans = NULL;
    GH_ENSURE(req != NULL, GH_ERR_ARG);
    GH_GUARD(check_req(req, diag));
    struct gh_pki_period period =
        req->validity.count ? req->validity : default_period(req->profile);
    time_t end;
    if (gh_pki_period_end(req->now, period, &end) != GH_OK) {
        gh_pki_diag_set(diag, "the validity period must be 1 day to 100 years");
        return GH_ERR_ARG;
    }
    gh_err rc = make_subject(req, &subject, diag);
    if (rc == GH_OK) rc = make_sans(req, &sans, diag);
    X509_NAME_free(subject);
    GENERAL_NAMES_free(sans);
    return rc;
}

gh_err gh_pki_issue(const struct gh_pki_issue_req *req, const struct gh_pki_issuer *issuer,
                    EVP_PKEY *subject_pub, X509 **out, struct gh_pki_issued *info,
                    struct gh_pki_diag *diag)
{
    X509 *x = NULL;
    X509_NAME *subject = NULL;
    GENERAL_NAMES *sans = NULL;
    gh_err rc;
    GH_ENSURE(req && issuer && issuer->key && subject_pub && out, GH_ERR_ARG);
    GH_GUARD(check_req(req, diag));
    GH_GUARD(gh_pki_pubkey_check(subject_pub, diag));
    if (req->profile == GH_PKI_PROFILE_ROOT) {
        GH_ENSURE(issuer->cert == NULL, GH_ERR_ARG);
        GH_GUARD(gh_pki_key_matches(issuer->key, subject_pub));
    } else {
        if (!issuer->cert) {
            gh_pki_diag_set(diag, "an issuer certificate is required");
            return GH_ERR_ARG;
        }
        GH_GUARD(gh_pki_issuer_check(issuer, req->profile, req->now, diag));
        GH_GUARD(check_pathlen(req, issuer->cert, diag));
    }
    struct gh_pki_period period =
        req->validity.count ? req->validity : default_period(req->profile);
    struct gh_pki_issued facts = {0};
    facts.not_before = req->now - GH_PKI_BACKDATE_SECONDS;
    if (gh_pki_period_end(req->now, period, &facts.not_after) != GH_OK) {
        gh_pki_diag_set(diag, "the validity period must be 1 day to 100 years");
        return GH_ERR_ARG;
    }
    if (issuer->cert) {
        time_t inb, ina;
        rc = gh_pki_cert_validity(issuer->cert, &inb, &ina);
        if (rc != GH_OK) return rc;
        if (facts.not_after > ina) {
            facts.not_after = ina;
            facts.clamped = true;
        }
    }

    rc = make_subject(req, &subject, diag);
    if (rc == GH_OK) rc = make_sans(req, &sans, diag);
    if (rc != GH_OK) goto out;
    rc = GH_ERR_CRYPTO;
    x = X509_new();
    if (!x) goto out;
    if (X509_set_version(x, X509_VERSION_3) != 1) goto out;
    if (set_serial(x) != GH_OK) goto out;
    if (X509_set_subject_name(x, subject) != 1) goto out;
    X509_NAME *iname = issuer->cert ? X509_get_subject_name(issuer->cert) : subject;
    if (X509_set_issuer_name(x, iname) != 1) goto out;
    if (!ASN1_TIME_set(X509_getm_notBefore(x), facts.not_before)) goto out;
    if (!ASN1_TIME_set(X509_getm_notAfter(x), facts.not_after)) goto out;
    if (X509_set_pubkey(x, subject_pub) != 1) goto out;
    if (add_profile_exts(x, issuer->cert, req, subject_pub) != GH_OK) goto out;
    if (sans && X509_add1_ext_i2d(x, NID_subject_alt_name, sans, 0, X509V3_ADD_DEFAULT) != 1)
        goto out;
    rc = gh_pki_key_sign_cert(issuer->key, x);
    if (rc != GH_OK) goto out;
    *out = x;
    x = NULL;
    if (info) *info = facts;
out:
    if (rc == GH_ERR_CRYPTO) gh_pki_diag_set(diag, "OpenSSL could not build the certificate");
    ERR_clear_error();
    X509_free(x);
    X509_NAME_free(subject);
    GENERAL_NAMES_free(sans);
    return rc;
}

gh_err gh_pki_serial_hex(const X509 *cert, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    const ASN1_INTEGER *s = X509_get0_serialNumber(cert);
    GH_ENSURE(s != NULL, GH_ERR_MALFORMED);
    int n = ASN1_STRING_length(s);
    const unsigned char *p = ASN1_STRING_get0_data(s);
    GH_ENSURE(n >= 0 && (n == 0 || p != NULL), GH_ERR_MALFORMED);
    bool neg = ASN1_STRING_type(s) == V_ASN1_NEG_INTEGER;
    size_t need = (size_t)n * 2 + (neg ? 1 : 0) + (n == 0 ? 2 : 0) + 1;
    GH_ENSURE(cap >= need, GH_ERR_NOBUFS);
    size_t j = 0;
    if (neg) out[j++] = '-';
    if (n == 0) {
        out[j++] = '0';
        out[j++] = '0';
    }
    for (int i = 0; i < n; i++) {
        out[j++] = hex[p[i] >> 4];
        out[j++] = hex[p[i] & 15];
    }
    out[j] = '\0';
    return GH_OK;
}
