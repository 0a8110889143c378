/* CA certificates: facts of a CA certificate, proof of possession, and the
 * registration flow in the store (PROTOCOL.md 3.2, 3.3). Certificates are
 * made here with OpenSSL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "hub/ca.h"
#include "store_fixture.h"

static long serial = 1;

static X509 *make_cert(const char *cn, const char *cn2, EVP_PKEY *key, X509 *issuer,
                       EVP_PKEY *issuer_key, bool ca)
{
    X509 *x = X509_new();
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
    X509_set_pubkey(x, key);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"Example", -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    if (cn2 != NULL)
        X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn2, -1, -1, 0);
    X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : n);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
                                            ca ? "critical,CA:TRUE" : "CA:FALSE");
    assert_non_null(e);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
    return x;
}

static char *pem_of(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *out = malloc((size_t)n + 1);
    memcpy(out, p, (size_t)n);
    out[n] = '\0';
    BIO_free(b);
    return out;
}

static void hex_digest(X509 *x, const EVP_MD *md, char *out)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    X509_digest(x, md, d, &n);
    for (unsigned i = 0; i < n; i++) sprintf(out + 2 * i, "%02X", d[i]);
}

struct pki {
    EVP_PKEY *ca_key, *other_key, *leaf_key;
    X509 *ca;
    char *ca_pem;
};

static void pki_init(struct pki *p)
{
    p->ca_key = EVP_EC_gen("P-256");
    p->other_key = EVP_EC_gen("P-256");
    p->leaf_key = EVP_EC_gen("P-256");
    assert_non_null(p->ca_key);
    p->ca = make_cert("Tenant CA", NULL, p->ca_key, NULL, p->ca_key, true);
    p->ca_pem = pem_of(p->ca);
}

static void pki_free(struct pki *p)
{
    EVP_PKEY_free(p->ca_key);
    EVP_PKEY_free(p->other_key);
    EVP_PKEY_free(p->leaf_key);
    X509_free(p->ca);
    free(p->ca_pem);
}

/* A verification certificate with subject CN = cn, signed by key. */
static char *verification_pem(struct pki *p, const char *cn, const char *cn2, EVP_PKEY *signer)
{
    X509 *v = make_cert(cn, cn2, p->leaf_key, p->ca, signer, false);
    char *pem = pem_of(v);
    X509_free(v);
    return pem;
}

static void test_inspect(void **state)
{
    (void)state;
    struct pki p;
    struct gh_ca_info info;
    char sha1[41], sha256[65];
    pki_init(&p);
    assert_int_equal(gh_ca_inspect(p.ca_pem, strlen(p.ca_pem), &info), GH_OK);
    hex_digest(p.ca, EVP_sha1(), sha1);
    hex_digest(p.ca, EVP_sha256(), sha256);
    assert_string_equal(info.sha1, sha1);
    assert_string_equal(info.sha256, sha256);
    assert_string_equal(info.subject, "CN=Tenant CA,O=Example");
    int64_t now = (int64_t)time(NULL) * 1000;
    assert_true(info.not_after_ms > now + 364LL * 86400 * 1000);
    assert_true(info.not_after_ms < now + 366LL * 86400 * 1000);
    /* A leaf is not a CA. */
    X509 *leaf = make_cert("device-1", NULL, p.leaf_key, p.ca, p.ca_key, false);
    char *leaf_pem = pem_of(leaf);
    struct gh_ca_info untouched;
    memset(&untouched, 0x5a, sizeof untouched);
    assert_int_equal(gh_ca_inspect(leaf_pem, strlen(leaf_pem), &untouched), GH_ERR_NOT_CA);
    assert_int_equal(((unsigned char *)&untouched)[0], 0x5a);
    free(leaf_pem);
    X509_free(leaf);
    /* Garbage, truncation, size. */
    assert_int_equal(gh_ca_inspect("hello", 5, &info), GH_ERR_MALFORMED);
    assert_int_equal(gh_ca_inspect(p.ca_pem, strlen(p.ca_pem) / 2, &info), GH_ERR_MALFORMED);
    assert_int_equal(gh_ca_inspect(p.ca_pem, GH_CA_PEM_MAX + 1, &info), GH_ERR_TOO_LARGE);
    /* Not NUL-terminated input is fine (length-bounded). */
    size_t n = strlen(p.ca_pem);
    char *copy = malloc(n);
    memcpy(copy, p.ca_pem, n);
    assert_int_equal(gh_ca_inspect(copy, n, &info), GH_OK);
    free(copy);
    pki_free(&p);
}

static void test_possession(void **state)
{
    (void)state;
    struct pki p;
    char code[GH_CA_CODE_LEN + 1], code2[GH_CA_CODE_LEN + 1];
    pki_init(&p);
    assert_int_equal(gh_ca_new_code(code), GH_OK);
    assert_int_equal(gh_ca_new_code(code2), GH_OK);
    assert_int_equal(strlen(code), GH_CA_CODE_LEN);
    assert_string_not_equal(code, code2);
    for (size_t i = 0; i < GH_CA_CODE_LEN; i++)
        assert_true((code[i] >= '0' && code[i] <= '9') || (code[i] >= 'A' && code[i] <= 'F'));

    char *good = verification_pem(&p, code, NULL, p.ca_key);
    char *wrong_cn = verification_pem(&p, code2, NULL, p.ca_key);
    char *wrong_key = verification_pem(&p, code, NULL, p.other_key);
    char *two_cn = verification_pem(&p, code, code, p.ca_key);
    size_t cl = strlen(p.ca_pem);
    assert_int_equal(gh_ca_verify_possession(p.ca_pem, cl, good, strlen(good), code), GH_OK);
    assert_int_equal(gh_ca_verify_possession(p.ca_pem, cl, wrong_cn, strlen(wrong_cn), code),
                     GH_ERR_CERT_VERIFY);
    assert_int_equal(gh_ca_verify_possession(p.ca_pem, cl, wrong_key, strlen(wrong_key), code),
                     GH_ERR_CERT_VERIFY);
    assert_int_equal(gh_ca_verify_possession(p.ca_pem, cl, two_cn, strlen(two_cn), code),
                     GH_ERR_CERT_VERIFY);
    /* A prefix of the code is not the code. */
    char shorter[GH_CA_CODE_LEN];
    memcpy(shorter, code, GH_CA_CODE_LEN - 1);
    shorter[GH_CA_CODE_LEN - 1] = '\0';
    assert_int_equal(gh_ca_verify_possession(p.ca_pem, cl, good, strlen(good), shorter),
                     GH_ERR_CERT_VERIFY);
    assert_int_equal(gh_ca_verify_possession("x", 1, good, strlen(good), code), GH_ERR_MALFORMED);
    assert_int_equal(gh_ca_verify_possession(p.ca_pem, cl, "x", 1, code), GH_ERR_MALFORMED);
    assert_int_equal(gh_ca_verify_possession(p.ca_pem, cl, good, GH_CA_PEM_MAX + 1, code),
                     GH_ERR_TOO_LARGE);
    free(good);
    free(wrong_cn);
    free(wrong_key);
    free(two_cn);
    pki_free(&p);
}

static void test_store_flow(void **state)
{
    struct fx *f = *state;
    struct pki p;
    struct gh_ca_record r, got, list[4];
    size_t n;
    pki_init(&p);
    size_t cl = strlen(p.ca_pem);
    assert_int_equal(gh_store_ca_add(f->s, "tenant-ca", p.ca_pem, cl, &r), GH_OK);
    assert_false(r.verified);
    assert_int_equal(strlen(r.code), GH_CA_CODE_LEN);
    assert_int_equal(r.created_ms, FX_T0);
    assert_string_equal(r.info.subject, "CN=Tenant CA,O=Example");
    assert_int_equal(gh_store_ca_add(f->s, "tenant-ca", p.ca_pem, cl, NULL), GH_ERR_CONFLICT);
    assert_string_equal(gh_store_errmsg(f->s), "certificate tenant-ca already exists");
    assert_int_equal(gh_store_ca_add(f->s, "bad name", p.ca_pem, cl, NULL), GH_ERR_ARG);
    assert_int_equal(gh_store_ca_add(f->s, "x", "junk", 4, NULL), GH_ERR_MALFORMED);
    X509 *leaf = make_cert("device-1", NULL, p.leaf_key, p.ca, p.ca_key, false);
    char *leaf_pem = pem_of(leaf);
    assert_int_equal(gh_store_ca_add(f->s, "leaf", leaf_pem, strlen(leaf_pem), NULL),
                     GH_ERR_NOT_CA);
    assert_string_equal(gh_store_errmsg(f->s), "certificate leaf: is not a CA certificate");
    free(leaf_pem);
    X509_free(leaf);
    /* A PEM with an embedded NUL after the certificate is refused. */
    char *nul = malloc(cl + 4);
    memcpy(nul, p.ca_pem, cl);
    memcpy(nul + cl, "\0xy", 3);
    assert_int_equal(gh_store_ca_add(f->s, "nul", nul, cl + 3, NULL), GH_ERR_MALFORMED);
    free(nul);

    /* Get, with the PEM; list. */
    char *pem = NULL;
    size_t pem_len = 0;
    assert_int_equal(gh_store_ca_get(f->s, "tenant-ca", &got, &pem, &pem_len), GH_OK);
    assert_int_equal(pem_len, cl);
    assert_string_equal(pem, p.ca_pem);
    assert_string_equal(got.info.sha1, r.info.sha1);
    assert_string_equal(got.info.sha256, r.info.sha256);
    assert_string_equal(got.info.subject, r.info.subject);
    assert_int_equal(got.info.not_after_ms, r.info.not_after_ms);
    assert_string_equal(got.code, r.code);
    free(pem);
    assert_int_equal(gh_store_ca_get(f->s, "nope", &got, NULL, NULL), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_ca_list(f->s, list, 4, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].name, "tenant-ca");

    /* Regenerating the code invalidates proofs made for the old one. */
    char *old_proof = verification_pem(&p, r.code, NULL, p.ca_key);
    struct gh_ca_record r2;
    assert_int_equal(gh_store_ca_regenerate_code(f->s, "tenant-ca", &r2), GH_OK);
    assert_string_not_equal(r2.code, r.code);
    assert_int_equal(gh_store_ca_regenerate_code(f->s, "nope", NULL), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_ca_prove(f->s, "tenant-ca", old_proof, strlen(old_proof)),
                     GH_ERR_CERT_VERIFY);
    assert_int_equal(gh_store_ca_mark_verified(f->s, "tenant-ca", r.code), GH_ERR_CONFLICT);
    assert_int_equal(gh_store_ca_mark_verified(f->s, "nope", r.code), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_ca_prove(f->s, "nope", old_proof, strlen(old_proof)),
                     GH_ERR_NOT_FOUND);
    free(old_proof);
    char *bad_key = verification_pem(&p, r2.code, NULL, p.other_key);
    assert_int_equal(gh_store_ca_prove(f->s, "tenant-ca", bad_key, strlen(bad_key)),
                     GH_ERR_CERT_VERIFY);
    free(bad_key);
    char *proof = verification_pem(&p, r2.code, NULL, p.ca_key);
    assert_int_equal(gh_store_ca_prove(f->s, "tenant-ca", proof, strlen(proof)), GH_OK);
    free(proof);
    /* Verified survives a restart and a new code. */
    fx_reopen(f);
    assert_int_equal(gh_store_ca_regenerate_code(f->s, "tenant-ca", NULL), GH_OK);
    assert_int_equal(gh_store_ca_get(f->s, "tenant-ca", &got, NULL, NULL), GH_OK);
    assert_true(got.verified);

    /* A damaged row. */
    fx_sql(f, "UPDATE ca_cert SET sha1 = lower(sha1)");
    assert_int_equal(gh_store_ca_get(f->s, "tenant-ca", &got, NULL, NULL), GH_ERR_DB);
    assert_string_equal(gh_store_errmsg(f->s),
                        "hub.db: bad row in table ca_cert, key \"tenant-ca\": column sha1/sha256 "
                        "is not an upper-case hex thumbprint");
    assert_int_equal(gh_store_ca_list(f->s, list, 4, &n), GH_ERR_DB);
    fx_sql(f, "UPDATE ca_cert SET sha1 = upper(sha1), verification_code = 'abc'");
    assert_int_equal(gh_store_ca_get(f->s, "tenant-ca", &got, NULL, NULL), GH_ERR_DB);
    fx_sql(f, "UPDATE ca_cert SET verification_code = upper(hex(randomblob(24))), pem = x'00'");
    assert_int_equal(gh_store_ca_get(f->s, "tenant-ca", &got, NULL, NULL), GH_OK);
    assert_int_equal(gh_store_ca_get(f->s, "tenant-ca", &got, &pem, NULL), GH_ERR_DB);

    assert_int_equal(gh_store_ca_delete(f->s, "tenant-ca"), GH_OK);
    assert_int_equal(gh_store_ca_delete(f->s, "tenant-ca"), GH_ERR_NOT_FOUND);
    assert_string_equal(gh_store_errmsg(f->s), "certificate \"tenant-ca\" does not exist");
    pki_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inspect),
        cmocka_unit_test(test_possession),
        cmocka_unit_test_setup_teardown(test_store_flow, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
