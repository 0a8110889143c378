/* `gatehouse pki` refusals: each gives its exact error (checked through the
 * --json error object), a clear message on stderr, and writes nothing (the
 * state directory is byte-for-byte unchanged). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "pki/pki.h"
#include "pki/pki_cert.h"
#include "pki/pki_key.h"
#include "pki/pki_store.h"
#include "pki_test_util.h"

static char *D, *S;

static char *sp(const char *rel)
{
    static char buf[8][4096];
    static int i;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof buf[i], "%s/%s", S, rel);
    return buf[i];
}

#define RUN(r, ...) assert_int_equal(pt_run(D, (r), __VA_ARGS__, NULL), 0)

static void ok_run(const char *const *argv)
{
    struct pt_run r;
    assert_int_equal(pt_runv(D, argv, &r), 0);
    if (r.status != 0) fprintf(stderr, "%s", r.err);
    assert_int_equal(r.status, 0);
    pt_run_free(&r);
}
#define OK(...)                                                                                    \
    do {                                                                                           \
        const char *argv_[] = {__VA_ARGS__, NULL};                                                 \
        ok_run(argv_);                                                                             \
    } while (0)

/* Run a gatehouse pki command that must fail with code, say why in
 * stderr (message), and leave the scratch directory unchanged. */
static void refuse(gh_err code, const char *message, const char *const *argv)
{
    const char *full[PT_ARGS_MAX + 1];
    size_t n = 0;
    full[n++] = "gatehouse";
    full[n++] = "pki";
    bool has_dir = false;
    for (size_t i = 0; argv[i] && n < PT_ARGS_MAX - 4; i++) {
        has_dir = has_dir || strcmp(argv[i], "--dir") == 0;
        full[n++] = argv[i];
    }
    if (!has_dir) {
        full[n++] = "--dir";
        full[n++] = S;
    }
    full[n++] = "--json";
    full[n] = NULL;
    char *before = pt_snapshot(D);
    struct pt_run r;
    assert_int_equal(pt_runv(D, full, &r), 0);
    char *after = pt_snapshot(D);
    if (strcmp(before, after) != 0) fprintf(stderr, "before:\n%s\nafter:\n%s\n", before, after);
    assert_string_equal(before, after);
    assert_int_equal(r.status, gh_err_exit_status(code));
    json_t *j = json_loads(r.out, 0, NULL);
    if (!j) fprintf(stderr, "stdout: %s\nstderr: %s\n", r.out, r.err);
    assert_non_null(j);
    json_t *e = json_object_get(j, "error");
    assert_string_equal(json_string_value(json_object_get(e, "code")), gh_err_name(code));
    if (!strstr(r.err, message)) fprintf(stderr, "stderr lacks '%s':\n%s\n", message, r.err);
    assert_non_null(strstr(r.err, message));
    assert_non_null(strstr(r.err, "gatehouse pki "));
    json_decref(j);
    pt_run_free(&r);
    free(before);
    free(after);
}
#define REFUSE(code, message, ...)                                                                 \
    do {                                                                                           \
        const char *argv_[] = {__VA_ARGS__, NULL};                                                 \
        refuse(code, message, argv_);                                                              \
    } while (0)

/* An intermediate CA that expired: issued through the library with a
 * "now" 400 days ago and 30 days of validity, stored like the CLI does. */
static void make_expired_ca(void)
{
    struct gh_pki_key *rk = NULL, *ck = NULL;
    struct gh_pki_certs l = {0};
    struct gh_pki_diag d = {{0}};
    char *root_pem_path = sp("private/root.key.pem");
    assert_int_equal(gh_pki_key_load(root_pem_path, NULL, &rk, &d), GH_OK);
    assert_int_equal(gh_pki_certs_load(&l, sp("certs/root.cert.pem"), &d), GH_OK);
    assert_int_equal(gh_pki_key_generate(GH_PKI_KEY_EC_P256, &ck), GH_OK);
    EVP_PKEY *pub = NULL;
    assert_int_equal(gh_pki_key_public(ck, &pub), GH_OK);
    /* The root itself must be valid then: make an old root, too. */
    struct gh_pki_issue_req req;
    gh_pki_issue_req_init(&req, GH_PKI_PROFILE_ROOT);
    req.cn = "old root";
    req.now = time(NULL) - 500 * 86400;
    struct gh_pki_issuer self = {NULL, rk};
    EVP_PKEY *rpub = NULL;
    assert_int_equal(gh_pki_key_public(rk, &rpub), GH_OK);
    X509 *oldroot = NULL, *ca = NULL;
    assert_int_equal(gh_pki_issue(&req, &self, rpub, &oldroot, NULL, &d), GH_OK);
    gh_pki_issue_req_init(&req, GH_PKI_PROFILE_CA);
    req.cn = "expired-ca";
    req.now = time(NULL) - 400 * 86400;
    req.validity = (struct gh_pki_period){GH_PKI_PERIOD_DAYS, 30};
    struct gh_pki_issuer iss = {oldroot, rk};
    assert_int_equal(gh_pki_issue(&req, &iss, pub, &ca, NULL, &d), GH_OK);
    char *cert_pem = NULL, *key_pem = NULL;
    size_t cert_len = 0, key_len = 0;
    assert_int_equal(gh_pki_cert_pem(ca, &cert_pem, &cert_len), GH_OK);
    assert_int_equal(gh_pki_key_to_pem(ck, NULL, &key_pem, &key_len), GH_OK);
    struct gh_pki_output outs[2] = {
        {sp("certs/expired-ca.cert.pem"), cert_pem, cert_len, false, false},
        {sp("private/expired-ca.key.pem"), key_pem, key_len, true, false},
    };
    assert_int_equal(gh_pki_outputs_write(outs, 2, &d), GH_OK);
    free(cert_pem);
    gh_pki_wipe_free(key_pem, key_len);
    X509_free(oldroot);
    X509_free(ca);
    EVP_PKEY_free(pub);
    EVP_PKEY_free(rpub);
    gh_pki_key_free(rk);
    gh_pki_key_free(ck);
    gh_pki_certs_cleanup(&l);
}

static char *PW, *BADPW;

static int setup(void **state)
{
    (void)state;
    D = pt_mkdtemp();
    assert_non_null(D);
    S = pt_path(D, "pki");
    PW = pt_path(D, "pw");
    BADPW = pt_path(D, "badpw");
    assert_int_equal(pt_write_file(PW, "right\n", 6), 0);
    assert_int_equal(pt_write_file(BADPW, "wrong\n", 6), 0);
    OK("gatehouse", "pki", "init-root", "--dir", S);
    OK("gatehouse", "pki", "issue-ca", "tenant-ca", "--dir", S);
    OK("gatehouse", "pki", "issue-device", "dev1", "--issuer", "tenant-ca", "--dir", S);
    OK("gatehouse", "pki", "issue-ca", "locked-ca", "--key-password-file", PW, "--dir", S);
    make_expired_ca();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pt_rmtree(D);
    free(D);
    free(S);
    free(PW);
    free(BADPW);
    return 0;
}

static void test_expired_issuer(void **state)
{
    (void)state;
    REFUSE(GH_ERR_EXPIRED, "expired on", "issue-device", "dev2", "--issuer", "expired-ca");
    REFUSE(GH_ERR_EXPIRED, "renew it first", "issue-server", "s", "--issuer", "expired-ca", "--dns",
           "s.example.test");
}

static void test_not_a_ca(void **state)
{
    (void)state;
    REFUSE(GH_ERR_NOT_CA, "not a CA", "issue-device", "dev2", "--issuer", "dev1");
    REFUSE(GH_ERR_NOT_CA, "not a CA", "verification-cert", "ABC", "--issuer", "dev1");
    /* A trust bundle of CAs only. */
    REFUSE(GH_ERR_NOT_CA, "is not a CA", "bundle", "--ca-only", "--out", sp("trust.pem"), "root",
           "dev1");
}

static void test_mismatched_key(void **state)
{
    (void)state;
    REFUSE(GH_ERR_KEY_MISMATCH, "does not match", "issue-device", "dev2", "--issuer-cert",
           sp("certs/tenant-ca.cert.pem"), "--issuer-key", sp("private/root.key.pem"));
    REFUSE(GH_ERR_KEY_MISMATCH, "does not match", "renew", "dev1", "--key",
           sp("private/tenant-ca.key.pem"));
    REFUSE(GH_ERR_KEY_MISMATCH, "does not match", "inspect", "dev1", "--key",
           sp("private/root.key.pem"));
}

static void test_csr_bad_signature(void **state)
{
    (void)state;
    char *key = pt_path(D, "k.pem"), *der = pt_path(D, "bad.csr");
    struct pt_run r;
    RUN(&r, "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", key, "-out", der, "-outform", "DER", "-subj", "/CN=tampered");
    assert_int_equal(r.status, 0);
    pt_run_free(&r);
    size_t len = 0;
    char *data = pt_read_file(der, &len);
    data[len - 1] ^= 1; /* inside the signature value: well-formed, wrong */
    assert_int_equal(pt_write_file(der, data, len), 0);
    free(data);
    REFUSE(GH_ERR_BAD_SIGNATURE, "signature does not verify", "sign-csr", der, "--issuer",
           "tenant-ca", "--profile", "device");
    assert_int_equal(pt_write_file(der, "not a csr", 9), 0);
    REFUSE(GH_ERR_MALFORMED, "not a certificate signing request", "sign-csr", der, "--issuer",
           "tenant-ca", "--profile", "device");
    free(key);
    free(der);
}

static void test_existing_files(void **state)
{
    (void)state;
    REFUSE(GH_ERR_EXISTS, "already exists", "issue-device", "dev1", "--issuer", "tenant-ca");
    REFUSE(GH_ERR_EXISTS, "already exists", "init-root");
    /* Only the key is left: the certificate must not be written either. */
    assert_int_equal(rename(sp("certs/dev1.cert.pem"), sp("dev1.saved")), 0);
    assert_int_equal(rename(sp("certs/dev1.chain.pem"), sp("dev1.chain.saved")), 0);
    REFUSE(GH_ERR_EXISTS, "private/dev1.key.pem already exists", "issue-device", "dev1", "--issuer",
           "tenant-ca");
    assert_false(pt_exists(sp("certs/dev1.cert.pem")));
    assert_int_equal(rename(sp("dev1.saved"), sp("certs/dev1.cert.pem")), 0);
    assert_int_equal(rename(sp("dev1.chain.saved"), sp("certs/dev1.chain.pem")), 0);
    /* Explicit outputs too. */
    REFUSE(GH_ERR_EXISTS, "already exists", "issue-device", "dev9", "--issuer", "tenant-ca",
           "--key", sp("private/root.key.pem"));
    /* With --force it is replaced (a new key). */
    char *old = pt_read_file(sp("private/dev1.key.pem"), NULL);
    OK("gatehouse", "pki", "issue-device", "dev1", "--issuer", "tenant-ca", "--force", "--dir", S);
    char *now = pt_read_file(sp("private/dev1.key.pem"), NULL);
    assert_string_not_equal(old, now);
    free(old);
    free(now);
}

static void test_passwords(void **state)
{
    (void)state;
    REFUSE(GH_ERR_BAD_PASSWORD, "no password was given", "issue-device", "d", "--issuer",
           "locked-ca");
    REFUSE(GH_ERR_BAD_PASSWORD, "wrong password", "issue-device", "d", "--issuer", "locked-ca",
           "--ca-password-file", BADPW);
    setenv("GH_PKI_CA_PASSWORD", "wrong", 1);
    REFUSE(GH_ERR_BAD_PASSWORD, "wrong password", "issue-device", "d", "--issuer", "locked-ca");
    unsetenv("GH_PKI_CA_PASSWORD");
    REFUSE(GH_ERR_NOENT, "cannot open", "issue-device", "d", "--issuer", "locked-ca",
           "--ca-password-file", sp("no-such-file"));
    REFUSE(GH_ERR_BAD_PASSWORD, "wrong password", "renew", "locked-ca", "--key-password-file",
           BADPW);
}

static void test_bad_requests(void **state)
{
    (void)state;
    REFUSE(GH_ERR_FORBIDDEN, "path length 0", "issue-ca", "sub", "--issuer", "tenant-ca");
    REFUSE(GH_ERR_ARG, "not a valid DNS host name", "issue-server", "s", "--issuer", "root",
           "--dns", "bad_host.example.test");
    REFUSE(GH_ERR_ARG, "not an IPv4 or IPv6 address", "issue-server", "s", "--issuer", "root",
           "--ip", "10.0.0.256");
    REFUSE(GH_ERR_ARG, "device id is invalid", "issue-device", "bad id", "--issuer", "tenant-ca",
           "--name", "badid");
    REFUSE(GH_ERR_ARG, "cannot be a file name", "issue-device", "..", "--issuer", "tenant-ca");
    REFUSE(GH_ERR_ARG, "verification code is invalid", "verification-cert", "no spaces", "--issuer",
           "tenant-ca");
    REFUSE(GH_ERR_USAGE, "at least one --dns or --ip", "issue-server", "s", "--issuer", "root");
    REFUSE(GH_ERR_USAGE, "an issuer is required", "issue-device", "d");
    REFUSE(GH_ERR_NOENT, "cannot open", "issue-device", "d", "--issuer", "nope");
    REFUSE(GH_ERR_ARG, "unknown --key-type", "init-root", "--name", "r2", "--key-type", "dsa");
    REFUSE(GH_ERR_ARG, "--days must be", "init-root", "--name", "r2", "--days", "0");
    REFUSE(GH_ERR_ARG, "--pathlen must be", "init-root", "--name", "r2", "--pathlen", "99");
    REFUSE(GH_ERR_USAGE, "--profile server|device|ca is required", "sign-csr", sp("x.csr"),
           "--issuer", "tenant-ca");
    REFUSE(GH_ERR_NOENT, "cannot open", "sign-csr", sp("x.csr"), "--issuer", "tenant-ca",
           "--profile", "device");
    REFUSE(GH_ERR_USAGE, "give --issuer NAME or", "issue-device", "d", "--issuer", "tenant-ca",
           "--issuer-cert", sp("certs/root.cert.pem"));
    REFUSE(GH_ERR_USAGE, "go together", "issue-device", "d", "--issuer-cert",
           sp("certs/root.cert.pem"));
    REFUSE(GH_ERR_USAGE, "--key-type needs --new-key", "renew", "dev1", "--key-type", "ec-p384");
    REFUSE(GH_ERR_NOT_FOUND, "cannot find the certificate's issuer", "renew", "--cert",
           sp("certs/dev1.cert.pem"), "--key", sp("private/dev1.key.pem"), "--dir", sp("certs"));
}

static void test_failed_checks(void **state)
{
    (void)state;
    /* inspect prints its report, then fails (the report is the JSON). */
    char *before = pt_snapshot(D);
    struct pt_run r;
    RUN(&r, "gatehouse", "pki", "inspect", "dev1", "--bundle", "root", "--dir", S, "--json");
    assert_int_equal(r.status, gh_err_exit_status(GH_ERR_CERT_VERIFY));
    json_t *j = json_loads(r.out, 0, NULL);
    assert_non_null(j);
    json_t *chain = json_object_get(j, "chain");
    assert_true(json_is_false(json_object_get(chain, "ok")));
    assert_string_equal(json_string_value(json_object_get(chain, "error")),
                        "unable to get local issuer certificate");
    json_decref(j);
    assert_non_null(strstr(r.err, "chain check failed"));
    pt_run_free(&r);
    RUN(&r, "gatehouse", "pki", "inspect", "dev1", "--host", "dev1.example.test", "--dir", S);
    assert_int_equal(r.status, gh_err_exit_status(GH_ERR_CERT_VERIFY));
    assert_non_null(strstr(r.out, "FAILED: name mismatch"));
    pt_run_free(&r);
    REFUSE(GH_ERR_CERT_VERIFY, "is not issued by certificate 2", "bundle", "--check-chain",
           "tenant-ca", "dev1");
    char *after = pt_snapshot(D);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expired_issuer), cmocka_unit_test(test_not_a_ca),
        cmocka_unit_test(test_mismatched_key), cmocka_unit_test(test_csr_bad_signature),
        cmocka_unit_test(test_existing_files), cmocka_unit_test(test_passwords),
        cmocka_unit_test(test_bad_requests),   cmocka_unit_test(test_failed_checks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
