/* The PKI library API, called directly: keys, issuing, issuer checks,
 * certificate lists, CSRs, inspection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "pki/pki.h"
#include "pki/pki_cert.h"
#include "pki/pki_files.h"
#include "pki/pki_info.h"
#include "pki/pki_key.h"
#include "pki_test_util.h"

#define DAY 86400

static struct gh_pki_key *genkey(enum gh_pki_key_type t)
{
    struct gh_pki_key *k = NULL;
    assert_int_equal(gh_pki_key_generate(t, &k), GH_OK);
    return k;
}

static EVP_PKEY *pub_of(const struct gh_pki_key *k)
{
    EVP_PKEY *p = NULL;
    assert_int_equal(gh_pki_key_public(k, &p), GH_OK);
    return p;
}

/* Issue with the defaults of profile; returns the gh_err, *out on success. */
static gh_err issue(enum gh_pki_profile profile, const char *cn, X509 *icert,
                    const struct gh_pki_key *ikey, const struct gh_pki_key *subj, time_t now,
                    X509 **out)
{
    struct gh_pki_issue_req req;
    gh_pki_issue_req_init(&req, profile);
    req.cn = cn;
    req.now = now;
    static const char *const dns[] = {"hub.gatehouse.test"};
    if (profile == GH_PKI_PROFILE_SERVER) {
        req.dns = dns;
        req.ndns = 1;
    }
    struct gh_pki_issuer iss = {icert, ikey};
    EVP_PKEY *pub = pub_of(subj);
    gh_err rc = gh_pki_issue(&req, &iss, pub, out, NULL, NULL);
    EVP_PKEY_free(pub);
    return rc;
}

static X509 *mk(enum gh_pki_profile profile, const char *cn, X509 *icert,
                const struct gh_pki_key *ikey, const struct gh_pki_key *subj, time_t now)
{
    X509 *x = NULL;
    assert_int_equal(issue(profile, cn, icert, ikey, subj, now, &x), GH_OK);
    return x;
}

/* A root, an intermediate CA and a server leaf under it, shared by tests. */
struct pki {
    struct gh_pki_key *rk, *ck, *sk;
    X509 *root, *ca, *server;
    char *dir;
};

static int setup(void **state)
{
    struct pki *p = calloc(1, sizeof *p);
    time_t now = time(NULL);
    p->rk = genkey(GH_PKI_KEY_EC_P256);
    p->ck = genkey(GH_PKI_KEY_EC_P256);
    p->sk = genkey(GH_PKI_KEY_EC_P256);
    p->root = mk(GH_PKI_PROFILE_ROOT, "test root", NULL, p->rk, p->rk, now);
    p->ca = mk(GH_PKI_PROFILE_CA, "test ca", p->root, p->rk, p->ck, now);
    p->server = mk(GH_PKI_PROFILE_SERVER, "hub.gatehouse.test", p->ca, p->ck, p->sk, now);
    p->dir = pt_mkdtemp();
    assert_non_null(p->dir);
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    struct pki *p = *state;
    gh_pki_key_free(p->rk);
    gh_pki_key_free(p->ck);
    gh_pki_key_free(p->sk);
    X509_free(p->root);
    X509_free(p->ca);
    X509_free(p->server);
    pt_rmtree(p->dir);
    free(p->dir);
    free(p);
    return 0;
}

/* ---- keys ---------------------------------------------------------------- */

static void test_key_types(void **state)
{
    (void)state;
    enum gh_pki_key_type t;
    assert_int_equal(gh_pki_key_type_parse("ec-p256", &t), GH_OK);
    assert_int_equal(t, GH_PKI_KEY_EC_P256);
    assert_int_equal(gh_pki_key_type_parse("p384", &t), GH_OK);
    assert_int_equal(t, GH_PKI_KEY_EC_P384);
    assert_int_equal(gh_pki_key_type_parse("rsa", &t), GH_OK);
    assert_int_equal(t, GH_PKI_KEY_RSA_2048);
    assert_int_equal(gh_pki_key_type_parse("rsa-4096", &t), GH_OK);
    assert_int_equal(t, GH_PKI_KEY_RSA_4096);
    assert_int_equal(gh_pki_key_type_parse("dsa", &t), GH_ERR_ARG);
    assert_int_equal(gh_pki_key_type_parse(NULL, &t), GH_ERR_ARG);
    assert_string_equal(gh_pki_key_type_name(GH_PKI_KEY_RSA_3072), "rsa-3072");
    struct gh_pki_key *k = NULL;
    assert_int_equal(gh_pki_key_generate((enum gh_pki_key_type)99, &k), GH_ERR_ARG);
    static const enum gh_pki_key_type types[] = {GH_PKI_KEY_EC_P256, GH_PKI_KEY_EC_P384,
                                                 GH_PKI_KEY_RSA_2048};
    for (size_t i = 0; i < 3; i++) {
        k = genkey(types[i]);
        EVP_PKEY *p = pub_of(k);
        assert_int_equal(gh_pki_key_type_of(p, &t), GH_OK);
        assert_int_equal(t, types[i]);
        assert_int_equal(gh_pki_key_matches(k, p), GH_OK);
        EVP_PKEY_free(p);
        gh_pki_key_free(k);
    }
}

static void test_key_pem(void **state)
{
    struct pki *p = *state;
    char *pem = NULL;
    size_t len = 0;
    struct gh_pki_key *k = NULL;
    EVP_PKEY *pub = pub_of(p->sk);

    assert_int_equal(gh_pki_key_to_pem(p->sk, NULL, &pem, &len), GH_OK);
    assert_non_null(strstr(pem, "-----BEGIN PRIVATE KEY-----"));
    assert_int_equal(gh_pki_key_from_pem((uint8_t *)pem, len, NULL, &k, NULL), GH_OK);
    assert_int_equal(gh_pki_key_matches(k, pub), GH_OK);
    gh_pki_key_free(k);
    gh_pki_wipe_free(pem, len);

    char pw_text[] = "correct horse";
    struct gh_pki_secret pw = {pw_text, strlen(pw_text)};
    char bad_text[] = "battery staple";
    struct gh_pki_secret bad = {bad_text, strlen(bad_text)};
    assert_int_equal(gh_pki_key_to_pem(p->sk, &pw, &pem, &len), GH_OK);
    assert_non_null(strstr(pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    struct gh_pki_diag d = {{0}};
    assert_int_equal(gh_pki_key_from_pem((uint8_t *)pem, len, NULL, &k, &d), GH_ERR_BAD_PASSWORD);
    assert_non_null(strstr(d.msg, "encrypted"));
    memset(&d, 0, sizeof d);
    assert_int_equal(gh_pki_key_from_pem((uint8_t *)pem, len, &bad, &k, &d), GH_ERR_BAD_PASSWORD);
    assert_non_null(strstr(d.msg, "wrong password"));
    assert_int_equal(gh_pki_key_from_pem((uint8_t *)pem, len, &pw, &k, NULL), GH_OK);
    assert_int_equal(gh_pki_key_matches(k, pub), GH_OK);
    gh_pki_key_free(k);

    /* The key after a certificate in the same file. */
    char *cert_pem = NULL;
    size_t cert_len = 0;
    assert_int_equal(gh_pki_cert_pem(p->server, &cert_pem, &cert_len), GH_OK);
    char *both = malloc(cert_len + len + 1);
    memcpy(both, cert_pem, cert_len);
    memcpy(both + cert_len, pem, len + 1);
    assert_int_equal(gh_pki_key_from_pem((uint8_t *)both, cert_len + len, &pw, &k, NULL), GH_OK);
    gh_pki_key_free(k);
    /* No key block at all. */
    assert_int_equal(gh_pki_key_from_pem((uint8_t *)cert_pem, cert_len, NULL, &k, NULL),
                     GH_ERR_NOT_FOUND);
    free(both);
    free(cert_pem);
    gh_pki_wipe_free(pem, len);

    const char *junk = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    assert_int_equal(gh_pki_key_from_pem((const uint8_t *)junk, strlen(junk), NULL, &k, NULL),
                     GH_ERR_MALFORMED);
    const char *cut = "-----BEGIN PRIVATE KEY-----\nAAAA\n";
    assert_int_equal(gh_pki_key_from_pem((const uint8_t *)cut, strlen(cut), NULL, &k, NULL),
                     GH_ERR_MALFORMED);
    EVP_PKEY_free(pub);
}

static void test_weak_keys(void **state)
{
    struct pki *p = *state;
    EVP_PKEY *rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    EVP_PKEY *p521 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
    EVP_PKEY *k25519 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    assert_non_null(rsa1024);
    struct gh_pki_diag d = {{0}};
    assert_int_equal(gh_pki_pubkey_check(rsa1024, &d), GH_ERR_ARG);
    assert_non_null(strstr(d.msg, "1024"));
    assert_int_equal(gh_pki_pubkey_check(p521, NULL), GH_OK);
    assert_int_equal(gh_pki_pubkey_check(k25519, NULL), GH_ERR_ARG);
    enum gh_pki_key_type t;
    assert_int_equal(gh_pki_key_type_of(p521, &t), GH_ERR_ARG);
    assert_int_equal(gh_pki_key_type_of(rsa1024, &t), GH_ERR_ARG);

    struct gh_pki_issue_req req;
    gh_pki_issue_req_init(&req, GH_PKI_PROFILE_DEVICE);
    req.cn = "dev";
    struct gh_pki_issuer iss = {p->ca, p->ck};
    X509 *x = NULL;
    assert_int_equal(gh_pki_issue(&req, &iss, rsa1024, &x, NULL, NULL), GH_ERR_ARG);
    assert_null(x);

    /* Loading a weak private key is refused too. */
    BIO *bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PrivateKey(bio, rsa1024, NULL, NULL, 0, NULL, NULL), 1);
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    struct gh_pki_key *k = NULL;
    assert_int_equal(gh_pki_key_from_pem((uint8_t *)data, (size_t)n, NULL, &k, NULL), GH_ERR_ARG);
    BIO_free(bio);
    EVP_PKEY_free(rsa1024);
    EVP_PKEY_free(p521);
    EVP_PKEY_free(k25519);
}

/* ---- issuing ------------------------------------------------------------- */

static void test_issue_profiles(void **state)
{
    struct pki *p = *state;
    assert_true(gh_pki_cert_is_ca(p->root));
    assert_true(gh_pki_cert_self_signed(p->root));
    assert_true(gh_pki_cert_is_ca(p->ca));
    assert_false(gh_pki_cert_self_signed(p->ca));
    assert_false(gh_pki_cert_is_ca(p->server));
    assert_int_equal(X509_get_pathlen(p->root), -1);
    assert_int_equal(X509_get_pathlen(p->ca), 0);
    assert_true(gh_pki_cert_issued_by(p->ca, p->root));
    assert_true(gh_pki_cert_issued_by(p->server, p->ca));
    assert_false(gh_pki_cert_issued_by(p->server, p->root));

    struct gh_pki_certs trusted = {0}, inter = {0};
    assert_int_equal(gh_pki_certs_push(&trusted, p->root), GH_OK);
    assert_int_equal(gh_pki_certs_push(&inter, p->ca), GH_OK);
    char why[128];
    time_t now = time(NULL);
    assert_int_equal(
        gh_pki_verify(p->server, &inter, &trusted, "hub.gatehouse.test", now, why, sizeof why),
        GH_OK);
    assert_int_equal(
        gh_pki_verify(p->server, &inter, &trusted, "other.gatehouse.test", now, why, sizeof why),
        GH_ERR_CERT_VERIFY);
    assert_non_null(strstr(why, "mismatch"));
    assert_int_equal(gh_pki_verify(p->server, NULL, &trusted, NULL, now, why, sizeof why),
                     GH_ERR_CERT_VERIFY);
    assert_int_equal(
        gh_pki_verify(p->server, &inter, &trusted, NULL, now + 400 * DAY, why, sizeof why),
        GH_ERR_CERT_VERIFY);
    assert_non_null(strstr(why, "expired"));
    assert_int_equal(gh_pki_check_host(p->server, "hub.gatehouse.test"), GH_OK);
    assert_int_equal(gh_pki_check_host(p->server, "127.0.0.1"), GH_ERR_CERT_VERIFY);
    gh_pki_certs_cleanup(&trusted);
    gh_pki_certs_cleanup(&inter);

    /* Validity defaults: root 10 years, CA 5 years, leaf 12 months. */
    time_t nb, na;
    assert_int_equal(gh_pki_cert_validity(p->root, &nb, &na), GH_OK);
    assert_true(na - nb >= 3652L * DAY && na - nb <= 3654L * DAY);
    assert_int_equal(gh_pki_cert_validity(p->ca, &nb, &na), GH_OK);
    assert_true(na - nb >= 1826L * DAY && na - nb <= 1828L * DAY);
    assert_int_equal(gh_pki_cert_validity(p->server, &nb, &na), GH_OK);
    assert_true(na - nb >= 365L * DAY && na - nb <= 367L * DAY);
    assert_true(nb <= now - GH_PKI_BACKDATE_SECONDS + 5);

    /* Serials: 128 random bits, different every time. */
    char s1[64], s2[64];
    assert_int_equal(gh_pki_serial_hex(p->ca, s1, sizeof s1), GH_OK);
    assert_int_equal(gh_pki_serial_hex(p->server, s2, sizeof s2), GH_OK);
    assert_true(strlen(s1) >= 28 && strlen(s1) <= 32);
    assert_string_not_equal(s1, s2);
    assert_int_equal(gh_pki_serial_hex(p->ca, s1, 8), GH_ERR_NOBUFS);
}

static void test_issue_clamps_to_issuer(void **state)
{
    struct pki *p = *state;
    struct gh_pki_issue_req req;
    gh_pki_issue_req_init(&req, GH_PKI_PROFILE_DEVICE);
    req.cn = "long-lived";
    req.validity = (struct gh_pki_period){GH_PKI_PERIOD_YEARS, 50};
    struct gh_pki_issuer iss = {p->ca, p->ck};
    EVP_PKEY *pub = pub_of(p->sk);
    X509 *x = NULL;
    struct gh_pki_issued facts;
    assert_int_equal(gh_pki_issue(&req, &iss, pub, &x, &facts, NULL), GH_OK);
    assert_true(facts.clamped);
    time_t nb, na, cnb, cna;
    assert_int_equal(gh_pki_cert_validity(x, &nb, &na), GH_OK);
    assert_int_equal(gh_pki_cert_validity(p->ca, &cnb, &cna), GH_OK);
    assert_int_equal(na, cna);
    assert_int_equal(facts.not_after, cna);
    X509_free(x);
    req.validity = (struct gh_pki_period){GH_PKI_PERIOD_DAYS, 10};
    assert_int_equal(gh_pki_issue(&req, &iss, pub, &x, &facts, NULL), GH_OK);
    assert_false(facts.clamped);
    X509_free(x);
    EVP_PKEY_free(pub);
}

static void test_issuer_errors(void **state)
{
    struct pki *p = *state;
    time_t now = time(NULL);
    X509 *x = NULL;
    struct gh_pki_diag d = {{0}};
    struct gh_pki_issuer iss;

    /* Key does not match the issuer certificate. */
    assert_int_equal(issue(GH_PKI_PROFILE_DEVICE, "d", p->ca, p->rk, p->sk, now, &x),
                     GH_ERR_KEY_MISMATCH);
    /* The issuer is a leaf. */
    assert_int_equal(issue(GH_PKI_PROFILE_DEVICE, "d", p->server, p->sk, p->sk, now, &x),
                     GH_ERR_NOT_CA);
    iss = (struct gh_pki_issuer){p->server, p->sk};
    assert_int_equal(gh_pki_issuer_check(&iss, GH_PKI_PROFILE_DEVICE, now, &d), GH_ERR_NOT_CA);
    assert_non_null(strstr(d.msg, "not a CA"));
    /* Expired issuer: a CA made 400 days ago for 30 days. */
    struct gh_pki_issue_req req;
    gh_pki_issue_req_init(&req, GH_PKI_PROFILE_CA);
    req.cn = "old ca";
    req.now = now - 400 * DAY;
    req.validity = (struct gh_pki_period){GH_PKI_PERIOD_DAYS, 30};
    X509 *oldroot = mk(GH_PKI_PROFILE_ROOT, "old root", NULL, p->rk, p->rk, now - 500 * DAY);
    iss = (struct gh_pki_issuer){oldroot, p->rk};
    EVP_PKEY *cpub = pub_of(p->ck);
    X509 *old = NULL;
    assert_int_equal(gh_pki_issue(&req, &iss, cpub, &old, NULL, NULL), GH_OK);
    X509_free(oldroot);
    assert_int_equal(issue(GH_PKI_PROFILE_DEVICE, "d", old, p->ck, p->sk, now, &x), GH_ERR_EXPIRED);
    iss = (struct gh_pki_issuer){old, p->ck};
    memset(&d, 0, sizeof d);
    assert_int_equal(gh_pki_issuer_check(&iss, GH_PKI_PROFILE_DEVICE, now, &d), GH_ERR_EXPIRED);
    assert_non_null(strstr(d.msg, "expired"));
    /* Not yet valid. */
    assert_int_equal(gh_pki_issuer_check(&iss, GH_PKI_PROFILE_DEVICE, now - 500 * DAY, NULL),
                     GH_ERR_EXPIRED);
    X509_free(old);
    /* An issuer of path length 0 signs no CA. */
    assert_int_equal(issue(GH_PKI_PROFILE_CA, "sub", p->ca, p->ck, p->sk, now, &x),
                     GH_ERR_FORBIDDEN);
    /* A root of path length 1: the CA below must say 0. */
    gh_pki_issue_req_init(&req, GH_PKI_PROFILE_ROOT);
    req.cn = "root1";
    req.pathlen = 1;
    iss = (struct gh_pki_issuer){NULL, p->rk};
    EVP_PKEY *rpub = pub_of(p->rk);
    X509 *root1 = NULL;
    assert_int_equal(gh_pki_issue(&req, &iss, rpub, &root1, NULL, NULL), GH_OK);
    gh_pki_issue_req_init(&req, GH_PKI_PROFILE_CA);
    req.cn = "ca";
    req.pathlen = 1;
    iss = (struct gh_pki_issuer){root1, p->rk};
    assert_int_equal(gh_pki_issue(&req, &iss, cpub, &x, NULL, NULL), GH_ERR_ARG);
    req.pathlen = GH_PKI_PATHLEN_NONE;
    assert_int_equal(gh_pki_issue(&req, &iss, cpub, &x, NULL, NULL), GH_ERR_ARG);
    req.pathlen = 0;
    assert_int_equal(gh_pki_issue(&req, &iss, cpub, &x, NULL, NULL), GH_OK);
    X509_free(x);
    x = NULL;
    X509_free(root1);
    /* Root: no issuer certificate, and its own key. */
    gh_pki_issue_req_init(&req, GH_PKI_PROFILE_ROOT);
    req.cn = "r";
    iss = (struct gh_pki_issuer){p->root, p->rk};
    assert_int_equal(gh_pki_issue(&req, &iss, rpub, &x, NULL, NULL), GH_ERR_ARG);
    iss = (struct gh_pki_issuer){NULL, p->rk};
    assert_int_equal(gh_pki_issue(&req, &iss, cpub, &x, NULL, NULL), GH_ERR_KEY_MISMATCH);
    gh_pki_issue_req_init(&req, GH_PKI_PROFILE_CA);
    req.cn = "c";
    assert_int_equal(gh_pki_issue(&req, &iss, cpub, &x, NULL, NULL), GH_ERR_ARG);
    assert_null(x);
    EVP_PKEY_free(cpub);
    EVP_PKEY_free(rpub);
}

static gh_err try_req(struct pki *p, struct gh_pki_issue_req *req)
{
    struct gh_pki_issuer iss = {p->ca, p->ck};
    EVP_PKEY *pub = pub_of(p->sk);
    X509 *x = NULL;
    gh_err rc = gh_pki_issue(req, &iss, pub, &x, NULL, NULL);
    EVP_PKEY_free(pub);
    X509_free(x);
    return rc;
}

static void test_request_errors(void **state)
{
    struct pki *p = *state;
    struct gh_pki_issue_req req;
    const char *good[] = {"hub.gatehouse.test"};
    const char *bad_dns[] = {"bad_name.test"};
    const char *bad_ip[] = {"300.1.1.1"};
    const char *ips[] = {"127.0.0.1", "::1"};
    const char *many[GH_PKI_SAN_MAX + 1];
    for (size_t i = 0; i <= GH_PKI_SAN_MAX; i++) many[i] = "h.test";

    gh_pki_issue_req_init(&req, GH_PKI_PROFILE_SERVER);
    req.cn = "s";
    assert_int_equal(try_req(p, &req), GH_ERR_ARG); /* no SAN */
    req.ips = ips;
    req.nips = 2;
    assert_int_equal(try_req(p, &req), GH_OK);
    req.dns = bad_dns;
    req.ndns = 1;
    assert_int_equal(try_req(p, &req), GH_ERR_ARG);
    req.dns = good;
    req.ips = bad_ip;
    req.nips = 1;
    assert_int_equal(try_req(p, &req), GH_ERR_ARG);
    req.nips = 0;
    req.dns = many;
    req.ndns = GH_PKI_SAN_MAX + 1;
    assert_int_equal(try_req(p, &req), GH_ERR_TOO_MANY);
    req.ndns = GH_PKI_SAN_MAX;
    assert_int_equal(try_req(p, &req), GH_OK);
    req.ndns = 1;
    req.pathlen = 0;
    assert_int_equal(try_req(p, &req), GH_ERR_ARG); /* pathlen on a leaf */

    gh_pki_issue_req_init(&req, GH_PKI_PROFILE_DEVICE);
    req.cn = "dev 1";
    assert_int_equal(try_req(p, &req), GH_ERR_ARG);
    assert_int_equal(gh_pki_issue_req_check(&req, NULL), GH_ERR_ARG); /* without an issuer */
    req.cn = "dev-1";
    assert_int_equal(gh_pki_issue_req_check(&req, NULL), GH_OK);
    req.validity = (struct gh_pki_period){GH_PKI_PERIOD_DAYS, GH_PKI_VALIDITY_DAYS_MAX + 1};
    assert_int_equal(gh_pki_issue_req_check(&req, NULL), GH_ERR_ARG);
    req.validity = (struct gh_pki_period){GH_PKI_PERIOD_DAYS, 0};
    assert_int_equal(gh_pki_issue_req_check(NULL, NULL), GH_ERR_ARG);
    char id65[66];
    memset(id65, 'd', 65);
    id65[65] = '\0';
    req.cn = id65;
    assert_int_equal(try_req(p, &req), GH_ERR_ARG); /* valid id, too long for a CN */
    id65[64] = '\0';
    assert_int_equal(try_req(p, &req), GH_OK);
    req.cn = "dev1";
    req.dns = good;
    req.ndns = 1;
    assert_int_equal(try_req(p, &req), GH_ERR_ARG); /* SANs are for servers */
    req.ndns = 0;
    req.cn = NULL;
    assert_int_equal(try_req(p, &req), GH_ERR_ARG);
    req.cn = "dev1";
    req.org = "Con\ntoso";
    assert_int_equal(try_req(p, &req), GH_ERR_ARG);
    req.org = "Contoso";
    assert_int_equal(try_req(p, &req), GH_OK);
    req.validity = (struct gh_pki_period){GH_PKI_PERIOD_YEARS, 101};
    assert_int_equal(try_req(p, &req), GH_ERR_ARG);

    gh_pki_issue_req_init(&req, GH_PKI_PROFILE_VERIFICATION);
    req.cn = "not a code";
    assert_int_equal(try_req(p, &req), GH_ERR_ARG);
    req.cn = "0123ABCD";
    assert_int_equal(try_req(p, &req), GH_OK);

    /* Subject taken as a name: exactly one CN. */
    X509_NAME *two = X509_NAME_new();
    X509_NAME_add_entry_by_txt(two, "CN", MBSTRING_ASC, (const unsigned char *)"a", -1, -1, 0);
    X509_NAME_add_entry_by_txt(two, "CN", MBSTRING_ASC, (const unsigned char *)"b", -1, -1, 0);
    X509_NAME *none = X509_NAME_new();
    X509_NAME_add_entry_by_txt(none, "O", MBSTRING_ASC, (const unsigned char *)"o", -1, -1, 0);
    gh_pki_issue_req_init(&req, GH_PKI_PROFILE_DEVICE);
    req.subject = two;
    assert_int_equal(try_req(p, &req), GH_ERR_ARG);
    req.subject = none;
    assert_int_equal(try_req(p, &req), GH_ERR_ARG);
    X509_NAME_free(two);
    X509_NAME_free(none);

    gh_pki_issue_req_init(&req, GH_PKI_PROFILE_CA);
    req.cn = "ca";
    req.pathlen = GH_PKI_PATHLEN_MAX + 1;
    struct gh_pki_issuer iss = {p->root, p->rk};
    EVP_PKEY *pub = pub_of(p->sk);
    X509 *x = NULL;
    assert_int_equal(gh_pki_issue(&req, &iss, pub, &x, NULL, NULL), GH_ERR_ARG);
    EVP_PKEY_free(pub);
}

/* ---- certificate lists --------------------------------------------------- */

static void test_certs_parse(void **state)
{
    struct pki *p = *state;
    struct gh_pki_certs all = {0}, l = {0};
    assert_int_equal(gh_pki_certs_push(&all, p->server), GH_OK);
    assert_int_equal(gh_pki_certs_push(&all, p->ca), GH_OK);
    assert_int_equal(gh_pki_certs_push_unique(&all, p->ca), GH_OK);
    assert_int_equal(all.n, 2);
    char *pem = NULL;
    size_t len = 0;
    assert_int_equal(gh_pki_certs_pem(&all, &pem, &len), GH_OK);
    assert_int_equal(gh_pki_certs_parse(&l, (uint8_t *)pem, len), GH_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(X509_cmp(l.v[1], p->ca), 0);

    /* DER, and DER with a trailing byte. */
    unsigned char *der = NULL;
    int dlen = i2d_X509(p->root, &der);
    assert_true(dlen > 0);
    assert_int_equal(gh_pki_certs_parse(&l, der, (size_t)dlen), GH_OK);
    assert_int_equal(l.n, 3);
    unsigned char *der2 = malloc((size_t)dlen + 1);
    memcpy(der2, der, (size_t)dlen);
    der2[dlen] = 0;
    assert_int_equal(gh_pki_certs_parse(&l, der2, (size_t)dlen + 1), GH_ERR_MALFORMED);
    assert_int_equal(l.n, 3); /* unchanged on error */
    free(der2);
    OPENSSL_free(der);

    const char *nocert = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    assert_int_equal(gh_pki_certs_parse(&l, (const uint8_t *)nocert, strlen(nocert)),
                     GH_ERR_NOT_FOUND);
    assert_int_equal(gh_pki_certs_parse(&l, (const uint8_t *)"", 0), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_pki_certs_parse(&l, (const uint8_t *)"hello", 5), GH_ERR_NOT_FOUND);
    const char *b64 = "-----BEGIN CERTIFICATE-----\nAA*A\n-----END CERTIFICATE-----\n";
    assert_int_equal(gh_pki_certs_parse(&l, (const uint8_t *)b64, strlen(b64)), GH_ERR_MALFORMED);
    const char *b64b = "-----BEGIN CERTIFICATE-----\nAx==\n-----END CERTIFICATE-----\n";
    assert_int_equal(gh_pki_certs_parse(&l, (const uint8_t *)b64b, strlen(b64b)),
                     GH_ERR_BAD_BASE64);
    const char *notder = "-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n";
    assert_int_equal(gh_pki_certs_parse(&l, (const uint8_t *)notder, strlen(notder)),
                     GH_ERR_MALFORMED);
    /* A second, broken block after a good one: nothing is added. */
    size_t mixed_len = len + strlen(notder);
    char *mixed = malloc(mixed_len + 1);
    memcpy(mixed, pem, len);
    strcpy(mixed + len, notder);
    assert_int_equal(gh_pki_certs_parse(&l, (uint8_t *)mixed, mixed_len), GH_ERR_MALFORMED);
    assert_int_equal(l.n, 3);
    /* Regression (fuzz_pki_pem leak): the same into an empty list leaves it
     * empty, without an array for the caller to free. */
    struct gh_pki_certs fresh = {0};
    assert_int_equal(gh_pki_certs_parse(&fresh, (uint8_t *)mixed, mixed_len), GH_ERR_MALFORMED);
    assert_int_equal(fresh.n, 0);
    assert_null(fresh.v);
    free(mixed);
    /* A base64 body larger than GH_PKI_CERT_DER_MAX. */
    size_t big_n = GH_PKI_CERT_DER_MAX / 3 * 4 + 4000;
    char *big = malloc(big_n + 100);
    strcpy(big, "-----BEGIN CERTIFICATE-----\n");
    size_t off = strlen(big);
    for (size_t i = 0; i < big_n; i++) big[off++] = (i % 65 == 64) ? '\n' : 'A';
    strcpy(big + off, "\n-----END CERTIFICATE-----\n");
    assert_int_equal(gh_pki_certs_parse(&l, (uint8_t *)big, strlen(big)), GH_ERR_TOO_LARGE);
    free(big);
    free(pem);
    gh_pki_certs_cleanup(&l);

    /* At most GH_PKI_CERTS_MAX entries. */
    for (size_t i = all.n; i < GH_PKI_CERTS_MAX; i++)
        assert_int_equal(gh_pki_certs_push(&all, p->root), GH_OK);
    assert_int_equal(gh_pki_certs_push(&all, p->root), GH_ERR_TOO_MANY);
    gh_pki_certs_cleanup(&all);
    assert_int_equal(all.n, 0);
}

static void test_chain_build(void **state)
{
    struct pki *p = *state;
    struct gh_pki_certs chain = {0}, ichain = {0};
    assert_int_equal(gh_pki_chain_build(p->server, p->ca, NULL, &chain), GH_OK);
    assert_int_equal(chain.n, 2);
    assert_int_equal(X509_cmp(chain.v[0], p->server), 0);
    assert_int_equal(X509_cmp(chain.v[1], p->ca), 0);
    gh_pki_certs_cleanup(&chain);
    /* The issuer's chain file: itself and the root; the root is left out. */
    assert_int_equal(gh_pki_certs_push(&ichain, p->ca), GH_OK);
    assert_int_equal(gh_pki_certs_push(&ichain, p->root), GH_OK);
    assert_int_equal(gh_pki_chain_build(p->server, p->ca, &ichain, &chain), GH_OK);
    assert_int_equal(chain.n, 2);
    gh_pki_certs_cleanup(&chain);
    /* Issued by the root: the chain is the leaf alone. */
    assert_int_equal(gh_pki_chain_build(p->ca, p->root, NULL, &chain), GH_OK);
    assert_int_equal(chain.n, 1);
    gh_pki_certs_cleanup(&chain);
    gh_pki_certs_cleanup(&ichain);
}

/* ---- CSRs ---------------------------------------------------------------- */

/* A CSR for key with CN cn and, optionally, a DNS SAN and an email SAN. */
static char *make_csr(EVP_PKEY *key, const char *cn, const char *san, size_t *len)
{
    X509_REQ *req = X509_REQ_new();
    X509_NAME *name = X509_REQ_get_subject_name(req);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_REQ_set_pubkey(req, key);
    if (san) {
        STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
        assert_non_null(e);
        sk_X509_EXTENSION_push(exts, e);
        X509_REQ_add_extensions(req, exts);
        sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    }
    assert_true(X509_REQ_sign(req, key, EVP_sha256()) > 0);
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509_REQ(bio, req);
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    char *copy = malloc((size_t)n + 1);
    memcpy(copy, data, (size_t)n);
    copy[n] = '\0';
    *len = (size_t)n;
    BIO_free(bio);
    X509_REQ_free(req);
    return copy;
}

static void test_csr(void **state)
{
    (void)state;
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    size_t len = 0;
    char *pem = make_csr(key, "gw.example.test", "DNS:gw.example.test,IP:10.0.0.2", &len);
    X509_REQ *req = NULL;
    assert_int_equal(gh_pki_csr_parse((uint8_t *)pem, len, &req, NULL), GH_OK);
    char *dns[GH_PKI_SAN_MAX], *ips[GH_PKI_SAN_MAX];
    size_t ndns = 0, nips = 0;
    assert_int_equal(gh_pki_csr_sans(req, dns, &ndns, ips, &nips, NULL), GH_OK);
    assert_int_equal(ndns, 1);
    assert_int_equal(nips, 1);
    assert_string_equal(dns[0], "gw.example.test");
    assert_string_equal(ips[0], "10.0.0.2");
    gh_pki_strings_free(dns, ndns);
    gh_pki_strings_free(ips, nips);
    X509_REQ_free(req);

    /* Flip the low bit of the last DER byte (inside the signature value):
     * still well-formed, no longer valid. */
    assert_int_equal(gh_pki_csr_parse((uint8_t *)pem, len, &req, NULL), GH_OK);
    unsigned char *der = NULL;
    int dlen = i2d_X509_REQ(req, &der);
    X509_REQ_free(req);
    req = NULL;
    der[dlen - 1] ^= 1;
    struct gh_pki_diag d = {{0}};
    assert_int_equal(gh_pki_csr_parse(der, (size_t)dlen, &req, &d), GH_ERR_BAD_SIGNATURE);
    assert_null(req);
    OPENSSL_free(der);
    free(pem);

    pem = make_csr(key, "x", "email:a@b.test", &len);
    assert_int_equal(gh_pki_csr_parse((uint8_t *)pem, len, &req, NULL), GH_OK);
    ndns = nips = 0;
    assert_int_equal(gh_pki_csr_sans(req, dns, &ndns, ips, &nips, NULL), GH_ERR_ARG);
    assert_int_equal(ndns + nips, 0);
    X509_REQ_free(req);
    free(pem);

    EVP_PKEY *weak = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    pem = make_csr(weak, "w", NULL, &len);
    assert_int_equal(gh_pki_csr_parse((uint8_t *)pem, len, &req, NULL), GH_ERR_ARG);
    free(pem);
    const char *notcsr = "-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n";
    assert_int_equal(gh_pki_csr_parse((const uint8_t *)notcsr, strlen(notcsr), &req, NULL),
                     GH_ERR_MALFORMED);
    EVP_PKEY_free(weak);
    EVP_PKEY_free(key);
}

/* A CSR whose signature is valid DER but does not verify: a regression
 * vector for GH_ERR_BAD_SIGNATURE proper (not a parse error). */
static void test_csr_bad_signature(void **state)
{
    (void)state;
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509_REQ *req = X509_REQ_new();
    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_ASC,
                               (const unsigned char *)"dev", -1, -1, 0);
    X509_REQ_set_pubkey(req, key);
    assert_true(X509_REQ_sign(req, other, EVP_sha256()) > 0); /* signed by another key */
    unsigned char *der = NULL;
    int n = i2d_X509_REQ(req, &der);
    X509_REQ *out = NULL;
    struct gh_pki_diag d = {{0}};
    assert_int_equal(gh_pki_csr_parse(der, (size_t)n, &out, &d), GH_ERR_BAD_SIGNATURE);
    assert_non_null(strstr(d.msg, "signature"));
    OPENSSL_free(der);
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
}

/* ---- inspection ---------------------------------------------------------- */

static void test_info(void **state)
{
    struct pki *p = *state;
    struct gh_pki_cert_info *o = malloc(sizeof *o);
    time_t now = time(NULL);
    assert_int_equal(gh_pki_cert_info(p->server, now, o), GH_OK);
    assert_string_equal(o->subject, "CN=hub.gatehouse.test");
    assert_string_equal(o->issuer, "CN=test ca");
    assert_string_equal(o->cn, "hub.gatehouse.test");
    assert_false(o->is_ca);
    assert_int_equal(o->pathlen, GH_PKI_PATHLEN_NONE);
    assert_false(o->self_signed);
    assert_false(o->expired);
    assert_true(o->days_left >= 364 && o->days_left <= 366);
    assert_string_equal(o->key_type, "EC P-256");
    assert_int_equal(o->key_usage, GH_PKI_KU_DIGITAL_SIGNATURE);
    assert_int_equal(o->ext_key_usage, GH_PKI_EKU_SERVER_AUTH);
    assert_int_equal(o->ndns, 1);
    assert_string_equal(o->dns[0], "hub.gatehouse.test");
    assert_int_equal(strlen(o->sha1), 40);
    assert_int_equal(strlen(o->sha256), 64);
    for (size_t i = 0; i < 64; i++) assert_true(strchr("0123456789ABCDEF", o->sha256[i]) != NULL);
    assert_int_equal(strlen(o->subject_key_id), 40);
    assert_int_equal(gh_pki_cert_info(p->server, now + 400 * DAY, o), GH_OK);
    assert_true(o->expired);
    assert_true(o->days_left < 0);
    assert_int_equal(gh_pki_cert_info(p->root, now, o), GH_OK);
    assert_true(o->is_ca);
    assert_true(o->self_signed);
    assert_string_equal(o->subject_key_id, o->authority_key_id);
    assert_int_equal(o->key_usage, GH_PKI_KU_KEY_CERT_SIGN | GH_PKI_KU_CRL_SIGN);
    assert_false(o->has_ext_key_usage);
    char tp[8];
    assert_int_equal(gh_pki_thumbprint(p->root, true, tp, sizeof tp), GH_ERR_NOBUFS);
    char t[32];
    gh_pki_time_text(0, t);
    assert_string_equal(t, "1970-01-01T00:00:00Z");
    free(o);
}

/* ---- issuing to files (the hub's and the edge's entry point) ------------- */

static void test_issue_files(void **state)
{
    struct pki *p = *state;
    char *root_cert = pt_path(p->dir, "f/certs/root.cert.pem");
    char *root_key = pt_path(p->dir, "f/private/root.key.pem");
    char *srv_cert = pt_path(p->dir, "f/certs/edge.cert.pem");
    char *srv_chain = pt_path(p->dir, "f/certs/edge.chain.pem");
    char *srv_key = pt_path(p->dir, "f/private/edge.key.pem");
    struct gh_pki_diag d = {{0}};

    struct gh_pki_issue_req req;
    gh_pki_issue_req_init(&req, GH_PKI_PROFILE_ROOT);
    req.cn = "files root";
    struct gh_pki_subject_key gen = {NULL, NULL, GH_PKI_KEY_EC_P256};
    struct gh_pki_files rf = {root_cert, NULL, root_key, false, false, NULL};
    X509 *root = NULL;
    assert_int_equal(gh_pki_issue_files(&req, NULL, &gen, &rf, &root, NULL, &d), GH_OK);
    assert_true(gh_pki_cert_self_signed(root));
    X509_free(root);

    struct gh_pki_ca ca;
    assert_int_equal(gh_pki_ca_load(root_cert, root_key, NULL, NULL, &ca, &d), GH_OK);
    gh_pki_issue_req_init(&req, GH_PKI_PROFILE_SERVER);
    static const char *const dns[] = {"edge-gw-01.example.test"};
    req.cn = dns[0];
    req.dns = dns;
    req.ndns = 1;
    struct gh_pki_files sf = {srv_cert, srv_chain, srv_key, false, false, NULL};
    struct gh_pki_issued facts;
    assert_int_equal(gh_pki_issue_files(&req, &ca, &gen, &sf, NULL, &facts, &d), GH_OK);
    assert_false(facts.clamped);
    struct gh_pki_certs l = {0};
    assert_int_equal(gh_pki_certs_load(&l, srv_chain, &d), GH_OK);
    assert_int_equal(l.n, 1); /* issued by the root: the chain is the leaf */
    struct gh_pki_key *k = NULL;
    assert_int_equal(gh_pki_key_load(srv_key, NULL, &k, &d), GH_OK);
    assert_int_equal(gh_pki_key_matches(k, X509_get0_pubkey(l.v[0])), GH_OK);
    gh_pki_key_free(k);
    gh_pki_certs_cleanup(&l);

    /* Renewal in place keeps the key: reuse it, replace the certificate. */
    char *before = pt_read_file(srv_key, NULL);
    assert_int_equal(gh_pki_key_load(srv_key, NULL, &k, &d), GH_OK);
    struct gh_pki_subject_key reuse = {k, NULL, GH_PKI_KEY_EC_P256};
    struct gh_pki_files renew = {srv_cert, srv_chain, NULL, true, false, NULL};
    assert_int_equal(gh_pki_issue_files(&req, &ca, &reuse, &renew, NULL, NULL, &d), GH_OK);
    char *after = pt_read_file(srv_key, NULL);
    assert_string_equal(before, after);
    free(before);
    free(after);

    /* Refusals: existing files (before any key is made), a stored CSR key,
     * no CA, no certificate path. */
    memset(&d, 0, sizeof d);
    assert_int_equal(gh_pki_issue_files(&req, &ca, &gen, &sf, NULL, NULL, &d), GH_ERR_EXISTS);
    assert_non_null(strstr(d.msg, "already exists"));
    EVP_PKEY *pub = pub_of(p->sk);
    struct gh_pki_subject_key csr = {NULL, pub, GH_PKI_KEY_EC_P256};
    struct gh_pki_files with_key = {
        pt_path(p->dir, "f/x.pem"), NULL, pt_path(p->dir, "f/y.pem"), false, false, NULL};
    assert_int_equal(gh_pki_issue_files(&req, &ca, &csr, &with_key, NULL, NULL, NULL), GH_ERR_ARG);
    free((char *)with_key.key);
    with_key.key = NULL;
    assert_int_equal(gh_pki_issue_files(&req, NULL, &csr, &with_key, NULL, NULL, NULL), GH_ERR_ARG);
    struct gh_pki_files none = {NULL, NULL, NULL, false, false, NULL};
    assert_int_equal(gh_pki_issue_files(&req, &ca, &csr, &none, NULL, NULL, NULL), GH_ERR_ARG);
    /* A CSR key is certified without any key file. */
    assert_int_equal(gh_pki_issue_files(&req, &ca, &csr, &with_key, NULL, NULL, NULL), GH_OK);
    /* A root cannot be made from a public key alone. */
    gh_pki_issue_req_init(&req, GH_PKI_PROFILE_ROOT);
    req.cn = "r";
    struct gh_pki_files rf2 = {pt_path(p->dir, "f/r2.pem"), NULL, NULL, false, false, NULL};
    assert_int_equal(gh_pki_issue_files(&req, NULL, &csr, &rf2, NULL, NULL, NULL), GH_ERR_ARG);
    free((char *)rf2.cert);
    free((char *)with_key.cert);
    EVP_PKEY_free(pub);
    gh_pki_key_free(k);
    gh_pki_ca_cleanup(&ca);
    gh_pki_ca_cleanup(&ca); /* twice is fine */
    assert_int_equal(gh_pki_ca_load(srv_cert, root_key, NULL, NULL, &ca, &d), GH_OK);
    gh_pki_ca_cleanup(&ca);
    assert_int_equal(gh_pki_ca_load(root_cert, srv_chain, NULL, NULL, &ca, NULL),
                     GH_ERR_NOT_FOUND); /* no key in a certificate file */
    free(root_cert);
    free(root_key);
    free(srv_cert);
    free(srv_chain);
    free(srv_key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_types),
        cmocka_unit_test(test_key_pem),
        cmocka_unit_test(test_weak_keys),
        cmocka_unit_test(test_issue_profiles),
        cmocka_unit_test(test_issue_clamps_to_issuer),
        cmocka_unit_test(test_issuer_errors),
        cmocka_unit_test(test_request_errors),
        cmocka_unit_test(test_certs_parse),
        cmocka_unit_test(test_chain_build),
        cmocka_unit_test(test_csr),
        cmocka_unit_test(test_csr_bad_signature),
        cmocka_unit_test(test_info),
        cmocka_unit_test(test_issue_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
