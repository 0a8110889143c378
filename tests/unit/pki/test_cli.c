/* `gatehouse pki` end to end: the real binary makes the classic tutorial's
 * certificates, and OpenSSL's own tools check them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "pki/pki_cli.h"
#include "pki_test_util.h"

static char *D; /* scratch directory */
static char *S; /* state directory D/pki */

/* Run a command; it must start. r must be freed by the caller. */
#define RUN(r, ...) assert_int_equal(pt_run(D, (r), __VA_ARGS__, NULL), 0)

/* Run and require success, printing stderr if it fails. */
static void ok_run(const char *const *argv)
{
    struct pt_run r;
    assert_int_equal(pt_runv(D, argv, &r), 0);
    if (r.status != 0)
        fprintf(stderr, "command %s %s failed (%d):\n%s%s\n", argv[0], argv[1], r.status, r.out,
                r.err);
    assert_int_equal(r.status, 0);
    pt_run_free(&r);
}
#define OK(...)                                                                                    \
    do {                                                                                           \
        const char *argv_[] = {__VA_ARGS__, NULL};                                                 \
        ok_run(argv_);                                                                             \
    } while (0)

static char *sp(const char *rel) /* path in the state dir; leaked per test, freed at exit */
{
    static char buf[16][4096];
    static int i;
    i = (i + 1) % 16;
    snprintf(buf[i], sizeof buf[i], "%s/%s", S, rel);
    return buf[i];
}

/* stdout of `openssl x509 -in FILE -noout -text`. */
static char *x509_text(const char *file)
{
    struct pt_run r;
    RUN(&r, "openssl", "x509", "-in", file, "-noout", "-text");
    assert_int_equal(r.status, 0);
    free(r.err);
    return r.out;
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle)) fprintf(stderr, "missing '%s' in:\n%s\n", needle, hay);
    assert_non_null(strstr(hay, needle));
}

static int verify_status(const char *cafile, const char *untrusted, const char *cert,
                         const char *purpose)
{
    struct pt_run r;
    const char *argv[16];
    size_t n = 0;
    argv[n++] = "openssl";
    argv[n++] = "verify";
    argv[n++] = "-x509_strict";
    argv[n++] = "-CAfile";
    argv[n++] = cafile;
    if (untrusted) {
        argv[n++] = "-untrusted";
        argv[n++] = untrusted;
    }
    if (purpose) {
        argv[n++] = "-purpose";
        argv[n++] = purpose;
    }
    argv[n++] = cert;
    argv[n] = NULL;
    assert_int_equal(pt_runv(D, argv, &r), 0);
    int st = r.status;
    if (st == 0) assert_contains(r.out, ": OK");
    pt_run_free(&r);
    return st;
}

static int setup(void **state)
{
    (void)state;
    D = pt_mkdtemp();
    assert_non_null(D);
    S = pt_path(D, "pki");
    /* The classic tutorial (DESIGN.md), steps 1 and 3. */
    OK("gatehouse", "pki", "init-root", "--dir", S);
    OK("gatehouse", "pki", "issue-ca", "edge-ca", "--dir", S);
    OK("gatehouse", "pki", "issue-ca", "tenant-ca", "--org", "Contoso", "--dir", S);
    OK("gatehouse", "pki", "issue-server", "hub", "--issuer", "root", "--dns", "hub.gatehouse.test",
       "--ip", "127.0.0.1", "--dir", S);
    OK("gatehouse", "pki", "issue-server", "gw", "--issuer", "edge-ca", "--dns",
       "edge-gw-01.example.test", "--dir", S);
    OK("gatehouse", "pki", "issue-device", "carriage-01", "--issuer", "tenant-ca", "--dir", S);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pt_rmtree(D);
    free(D);
    free(S);
    return 0;
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static void test_layout_and_modes(void **state)
{
    (void)state;
    static const char *const names[] = {"root", "edge-ca", "tenant-ca", "hub", "gw", "carriage-01"};
    for (size_t i = 0; i < 6; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "certs/%s.cert.pem", names[i]);
        assert_int_equal(mode_of(sp(rel)), 0644);
        snprintf(rel, sizeof rel, "private/%s.key.pem", names[i]);
        assert_int_equal(mode_of(sp(rel)), 0600);
        snprintf(rel, sizeof rel, "certs/%s.chain.pem", names[i]);
        assert_int_equal(pt_exists(sp(rel)), i != 0); /* no chain for the root */
    }
    assert_int_equal(mode_of(sp("private")), 0700);
    /* The key matches the certificate (public halves are equal). */
    struct pt_run a, b;
    RUN(&a, "openssl", "x509", "-in", sp("certs/gw.cert.pem"), "-noout", "-pubkey");
    RUN(&b, "openssl", "pkey", "-in", sp("private/gw.key.pem"), "-pubout");
    assert_int_equal(b.status, 0);
    assert_string_equal(a.out, b.out);
    pt_run_free(&a);
    pt_run_free(&b);
    /* The gateway's chain is its certificate then the edge CA. */
    char *chain = pt_read_file(sp("certs/gw.chain.pem"), NULL);
    char *leaf = pt_read_file(sp("certs/gw.cert.pem"), NULL);
    char *edge = pt_read_file(sp("certs/edge-ca.cert.pem"), NULL);
    assert_int_equal(strncmp(chain, leaf, strlen(leaf)), 0);
    assert_string_equal(chain + strlen(leaf), edge);
    free(chain);
    free(leaf);
    free(edge);
}

static void test_openssl_verify(void **state)
{
    (void)state;
    const char *root = sp("certs/root.cert.pem");
    assert_int_equal(verify_status(root, NULL, root, NULL), 0);
    assert_int_equal(verify_status(root, NULL, sp("certs/edge-ca.cert.pem"), NULL), 0);
    assert_int_equal(verify_status(root, NULL, sp("certs/hub.cert.pem"), "sslserver"), 0);
    assert_int_equal(
        verify_status(root, sp("certs/edge-ca.cert.pem"), sp("certs/gw.cert.pem"), "sslserver"), 0);
    assert_int_equal(verify_status(root, sp("certs/tenant-ca.cert.pem"),
                                   sp("certs/carriage-01.cert.pem"), "sslclient"),
                     0);
    /* The chain file carries the intermediate. */
    assert_int_equal(verify_status(root, sp("certs/carriage-01.chain.pem"),
                                   sp("certs/carriage-01.cert.pem"), NULL),
                     0);
    /* Wrong purpose, wrong anchor, missing intermediate. */
    assert_int_not_equal(verify_status(root, sp("certs/tenant-ca.cert.pem"),
                                       sp("certs/carriage-01.cert.pem"), "sslserver"),
                         0);
    assert_int_not_equal(
        verify_status(root, sp("certs/tenant-ca.cert.pem"), sp("certs/gw.cert.pem"), NULL), 0);
    assert_int_not_equal(verify_status(root, NULL, sp("certs/carriage-01.cert.pem"), NULL), 0);
    assert_int_not_equal(
        verify_status(sp("certs/edge-ca.cert.pem"), NULL, sp("certs/carriage-01.cert.pem"), NULL),
        0);
}

static void test_x509_fields(void **state)
{
    (void)state;
    char *t = x509_text(sp("certs/root.cert.pem"));
    assert_contains(t, "Issuer: CN = gatehouse root CA");
    assert_contains(t, "Subject: CN = gatehouse root CA");
    assert_contains(t, "X509v3 Basic Constraints: critical\n                CA:TRUE\n");
    assert_contains(t, "X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign");
    assert_contains(t, "X509v3 Subject Key Identifier");
    assert_contains(t, "X509v3 Authority Key Identifier");
    assert_contains(t, "NIST CURVE: P-256");
    assert_contains(t, "Signature Algorithm: ecdsa-with-SHA256");
    assert_null(strstr(t, "Extended Key Usage"));
    free(t);

    t = x509_text(sp("certs/tenant-ca.cert.pem"));
    assert_contains(t, "Subject: O = Contoso, CN = tenant-ca");
    assert_contains(t, "CA:TRUE, pathlen:0");
    free(t);

    t = x509_text(sp("certs/hub.cert.pem"));
    assert_contains(t, "Subject: CN = hub.gatehouse.test");
    assert_contains(t, "X509v3 Basic Constraints: critical\n                CA:FALSE");
    assert_contains(t, "X509v3 Key Usage: critical\n                Digital Signature\n");
    assert_contains(t,
                    "X509v3 Extended Key Usage: \n                TLS Web Server Authentication\n");
    assert_contains(t, "DNS:hub.gatehouse.test, IP Address:127.0.0.1");
    free(t);

    t = x509_text(sp("certs/carriage-01.cert.pem"));
    assert_contains(t, "Subject: CN = carriage-01");
    assert_contains(t, "Issuer: O = Contoso, CN = tenant-ca");
    assert_contains(t, "TLS Web Client Authentication");
    assert_null(strstr(t, "Subject Alternative Name"));
    free(t);

    /* A 128-bit serial and the validity defaults (leaf: 12 months). */
    struct pt_run r;
    RUN(&r, "openssl", "x509", "-in", sp("certs/carriage-01.cert.pem"), "-noout", "-serial",
        "-checkend", "31000000");
    assert_int_equal(r.status, 0); /* valid for ~359 more days */
    char *serial = strstr(r.out, "serial=");
    assert_non_null(serial);
    size_t hex = strspn(serial + 7, "0123456789ABCDEF");
    assert_true(hex >= 28 && hex <= 32);
    pt_run_free(&r);
    RUN(&r, "openssl", "x509", "-in", sp("certs/carriage-01.cert.pem"), "-noout", "-checkend",
        "32000000");
    assert_int_not_equal(r.status, 0); /* but not for 370 */
    pt_run_free(&r);
    RUN(&r, "openssl", "x509", "-in", sp("certs/root.cert.pem"), "-noout", "-checkend",
        "315000000");
    assert_int_equal(r.status, 0); /* root: 10 years */
    pt_run_free(&r);
}

/* inspect --json against openssl's own view of the certificate. */
static char *fingerprint(const char *file, const char *alg)
{
    struct pt_run r;
    RUN(&r, "openssl", "x509", "-in", file, "-noout", "-fingerprint", alg);
    assert_int_equal(r.status, 0);
    char *eq = strchr(r.out, '=');
    assert_non_null(eq);
    char *out = calloc(1, 100);
    size_t j = 0;
    for (char *p = eq + 1; *p && *p != '\n' && j < 99; p++)
        if (*p != ':') out[j++] = *p;
    pt_run_free(&r);
    return out;
}

static void test_inspect_json(void **state)
{
    (void)state;
    const char *dev = sp("certs/carriage-01.cert.pem");
    char *trust = pt_path(D, "trust-tenant.pem");
    OK("gatehouse", "pki", "bundle", "--dir", S, "--out", trust, "root", "tenant-ca");
    struct pt_run r;
    RUN(&r, "gatehouse", "pki", "inspect", "--dir", S, "carriage-01", "--bundle", trust, "--key",
        sp("private/carriage-01.key.pem"), "--json");
    assert_int_equal(r.status, 0);
    json_error_t err;
    json_t *j = json_loads(r.out, 0, &err);
    assert_non_null(j);
    json_t *c0 = json_array_get(json_object_get(j, "certificates"), 0);
    char *sha1 = fingerprint(dev, "-sha1"), *sha256 = fingerprint(dev, "-sha256");
    assert_string_equal(json_string_value(json_object_get(c0, "sha1")), sha1);
    assert_string_equal(json_string_value(json_object_get(c0, "sha256")), sha256);
    assert_string_equal(json_string_value(json_object_get(c0, "subject")), "CN=carriage-01");
    assert_string_equal(json_string_value(json_object_get(c0, "commonName")), "carriage-01");
    assert_string_equal(json_string_value(json_object_get(c0, "issuer")), "CN=tenant-ca,O=Contoso");
    assert_string_equal(json_string_value(json_object_get(c0, "keyType")), "EC P-256");
    assert_true(json_is_false(json_object_get(c0, "isCA")));
    json_int_t days = json_integer_value(json_object_get(c0, "daysLeft"));
    assert_true(days >= 364 && days <= 366);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(c0, "extendedKeyUsage"), 0)),
        "clientAuth");
    assert_true(json_is_true(json_object_get(json_object_get(j, "chain"), "ok")));
    assert_true(json_is_true(json_object_get(json_object_get(j, "key"), "matches")));
    json_decref(j);
    pt_run_free(&r);
    free(sha1);
    free(sha256);

    /* Text form; the server's names; a host check. */
    RUN(&r, "gatehouse", "pki", "inspect", "--dir", S, "hub", "--host", "127.0.0.1");
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "DNS names:     hub.gatehouse.test");
    assert_contains(r.out, "IP addresses:  127.0.0.1");
    assert_contains(r.out, "host 127.0.0.1: OK");
    pt_run_free(&r);
    /* A file path works as well as a name; the chain file shows 2. */
    RUN(&r, "gatehouse", "pki", "inspect", sp("certs/gw.chain.pem"), "--bundle",
        sp("certs/root.cert.pem"), "--host", "edge-gw-01.example.test");
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "certificate 2 of 2");
    assert_contains(r.out, "chain check against");
    assert_contains(r.out, ": OK");
    pt_run_free(&r);
    free(trust);
}

static void test_key_types(void **state)
{
    (void)state;
    OK("gatehouse", "pki", "init-root", "--dir", S, "--name", "root384", "--key-type", "ec-p384",
       "--cn", "Root P-384", "--years", "20");
    OK("gatehouse", "pki", "issue-ca", "ca-rsa", "--issuer", "root384", "--key-type", "rsa-3072",
       "--dir", S);
    OK("gatehouse", "pki", "issue-server", "srv-rsa", "--issuer", "ca-rsa", "--key-type",
       "rsa-2048", "--dns", "rsa.example.test", "--months", "3", "--dir", S);
    char *t = x509_text(sp("certs/root384.cert.pem"));
    assert_contains(t, "NIST CURVE: P-384");
    assert_contains(t, "ecdsa-with-SHA384");
    assert_contains(t, "Subject: CN = Root P-384");
    free(t);
    t = x509_text(sp("certs/ca-rsa.cert.pem"));
    assert_contains(t, "Public-Key: (3072 bit)");
    assert_contains(t, "ecdsa-with-SHA384"); /* signed by the P-384 root */
    free(t);
    t = x509_text(sp("certs/srv-rsa.cert.pem"));
    assert_contains(t, "Public-Key: (2048 bit)");
    assert_contains(t, "sha256WithRSAEncryption");
    assert_contains(t, "Digital Signature, Key Encipherment");
    free(t);
    assert_int_equal(verify_status(sp("certs/root384.cert.pem"), sp("certs/ca-rsa.cert.pem"),
                                   sp("certs/srv-rsa.cert.pem"), "sslserver"),
                     0);
    /* RSA 4096, once (slow to generate). */
    OK("gatehouse", "pki", "issue-device", "dev4096", "--issuer", "tenant-ca", "--key-type",
       "rsa-4096", "--days", "7", "--dir", S);
    t = x509_text(sp("certs/dev4096.cert.pem"));
    assert_contains(t, "Public-Key: (4096 bit)");
    free(t);
}

static void test_encrypted_keys(void **state)
{
    (void)state;
    char *pw = pt_path(D, "pw.txt");
    assert_int_equal(pt_write_file(pw, "long passphrase\n", 16), 0);
    OK("gatehouse", "pki", "init-root", "--dir", S, "--name", "encroot", "--key-password-file", pw);
    char *key = pt_read_file(sp("private/encroot.key.pem"), NULL);
    assert_contains(key, "-----BEGIN ENCRYPTED PRIVATE KEY-----");
    free(key);
    char passin[4200];
    snprintf(passin, sizeof passin, "file:%s", pw);
    struct pt_run r;
    RUN(&r, "openssl", "pkey", "-in", sp("private/encroot.key.pem"), "-passin", passin, "-noout");
    assert_int_equal(r.status, 0);
    pt_run_free(&r);
    OK("gatehouse", "pki", "issue-ca", "enc-sub", "--issuer", "encroot", "--ca-password-file", pw,
       "--dir", S);
    setenv("GH_PKI_CA_PASSWORD", "long passphrase", 1);
    OK("gatehouse", "pki", "issue-ca", "enc-sub2", "--issuer", "encroot", "--dir", S);
    unsetenv("GH_PKI_CA_PASSWORD");

    /* A CA made elsewhere, as certGen.sh does: traditional encrypted EC key
     * ("Proc-Type: 4,ENCRYPTED"), certificate by `openssl req -x509`. */
    char *fkey = pt_path(D, "foreign.key.pem"), *fcert = pt_path(D, "foreign.cert.pem");
    char *plain = pt_path(D, "foreign.plain.pem");
    RUN(&r, "openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", plain);
    assert_int_equal(r.status, 0);
    pt_run_free(&r);
    RUN(&r, "openssl", "ec", "-in", plain, "-aes256", "-passout", passin, "-out", fkey);
    assert_int_equal(r.status, 0);
    pt_run_free(&r);
    key = pt_read_file(fkey, NULL);
    assert_contains(key, "Proc-Type: 4,ENCRYPTED");
    free(key);
    RUN(&r, "openssl", "req", "-x509", "-key", fkey, "-passin", passin, "-subj", "/CN=Foreign CA",
        "-days", "30", "-out", fcert, "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
        "keyUsage=critical,keyCertSign,cRLSign");
    assert_int_equal(r.status, 0);
    pt_run_free(&r);
    OK("gatehouse", "pki", "issue-device", "foreign-dev", "--issuer-cert", fcert, "--issuer-key",
       fkey, "--ca-password-file", pw, "--dir", S);
    /* Clamped to the issuer's 30 days, with a warning. */
    RUN(&r, "gatehouse", "pki", "issue-device", "foreign-dev2", "--issuer-cert", fcert,
        "--issuer-key", fkey, "--ca-password-file", pw, "--dir", S, "--json");
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "\"clamped\": true");
    assert_contains(r.err, "warning: validity shortened");
    pt_run_free(&r);
    assert_int_equal(verify_status(fcert, NULL, sp("certs/foreign-dev.cert.pem"), "sslclient"), 0);
    free(fkey);
    free(fcert);
    free(plain);
    free(pw);
}

static char *pubkey(const char *cert)
{
    struct pt_run r;
    RUN(&r, "openssl", "x509", "-in", cert, "-noout", "-pubkey");
    free(r.err);
    return r.out;
}

static char *ext_text(const char *cert, const char *ext)
{
    struct pt_run r;
    RUN(&r, "openssl", "x509", "-in", cert, "-noout", "-ext", ext, "-subject");
    free(r.err);
    return r.out;
}

static void test_renew(void **state)
{
    (void)state;
    OK("gatehouse", "pki", "issue-server", "renewme", "--issuer", "edge-ca", "--dns",
       "r.example.test", "--dns", "r2.example.test", "--ip", "::1", "--days", "10", "--dir", S);
    const char *cert = sp("certs/renewme.cert.pem");
    char *old_fp = fingerprint(cert, "-sha256");
    char *old_pub = pubkey(cert);
    char *old_names = ext_text(cert, "subjectAltName");
    struct pt_run r;
    RUN(&r, "gatehouse", "pki", "renew", "renewme", "--dir", S, "--json");
    assert_int_equal(r.status, 0);
    json_t *j = json_loads(r.out, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "server");
    assert_true(json_is_null(json_object_get(j, "key"))); /* key kept */
    json_decref(j);
    pt_run_free(&r);
    char *new_fp = fingerprint(cert, "-sha256");
    char *new_pub = pubkey(cert);
    char *new_names = ext_text(cert, "subjectAltName");
    assert_string_not_equal(old_fp, new_fp);
    assert_string_equal(old_pub, new_pub);
    assert_string_equal(old_names, new_names);
    /* New validity: the server default, 12 months (was 10 days). */
    RUN(&r, "openssl", "x509", "-in", cert, "-noout", "-checkend", "31000000");
    assert_int_equal(r.status, 0);
    pt_run_free(&r);
    assert_int_equal(
        verify_status(sp("certs/root.cert.pem"), sp("certs/renewme.chain.pem"), cert, "sslserver"),
        0);
    /* --new-key replaces the private key only with --force. */
    RUN(&r, "gatehouse", "pki", "renew", "renewme", "--new-key", "--dir", S);
    assert_int_equal(r.status, 4);
    assert_contains(r.err, "already exists");
    pt_run_free(&r);
    OK("gatehouse", "pki", "renew", "renewme", "--new-key", "--force", "--days", "30", "--dir", S);
    char *newest_pub = pubkey(cert);
    assert_string_not_equal(old_pub, newest_pub);
    RUN(&r, "openssl", "x509", "-in", cert, "-noout", "-checkend", "2500000");
    assert_int_equal(r.status, 0);
    pt_run_free(&r);
    RUN(&r, "openssl", "x509", "-in", cert, "-noout", "-checkend", "2700000");
    assert_int_not_equal(r.status, 0);
    pt_run_free(&r);
    RUN(&r, "gatehouse", "pki", "inspect", "--dir", S, "renewme", "--key",
        sp("private/renewme.key.pem"));
    assert_int_equal(r.status, 0);
    pt_run_free(&r);
    /* Renewing a root with its key keeps everything below it valid. */
    OK("gatehouse", "pki", "init-root", "--dir", S, "--name", "root2");
    OK("gatehouse", "pki", "issue-ca", "under-root2", "--issuer", "root2", "--dir", S);
    OK("gatehouse", "pki", "renew", "root2", "--years", "15", "--dir", S);
    assert_int_equal(
        verify_status(sp("certs/root2.cert.pem"), NULL, sp("certs/under-root2.cert.pem"), NULL), 0);
    free(old_fp);
    free(old_pub);
    free(old_names);
    free(new_fp);
    free(new_pub);
    free(new_names);
    free(newest_pub);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++) n++;
    return n;
}

static void test_bundle(void **state)
{
    (void)state;
    char *full = pt_path(D, "gw-full.pem");
    OK("gatehouse", "pki", "bundle", "--dir", S, "--check-chain", "--out", full, "gw", "edge-ca",
       "root");
    char *text = pt_read_file(full, NULL);
    assert_int_equal(count(text, "BEGIN CERTIFICATE"), 3);
    free(text);
    struct pt_run r;
    RUN(&r, "openssl", "verify", "-CAfile", sp("certs/root.cert.pem"), "-untrusted", full, full);
    assert_int_equal(r.status, 0);
    pt_run_free(&r);
    /* To stdout; duplicates dropped; JSON. */
    RUN(&r, "gatehouse", "pki", "bundle", "--dir", S, "root", "tenant-ca", "root");
    assert_int_equal(r.status, 0);
    assert_int_equal(count(r.out, "BEGIN CERTIFICATE"), 2);
    pt_run_free(&r);
    RUN(&r, "gatehouse", "pki", "bundle", "--dir", S, "--ca-only", "--json", "root", "tenant-ca");
    assert_int_equal(r.status, 0);
    json_t *j = json_loads(r.out, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_array_size(json_object_get(j, "certificates")), 2);
    assert_contains(json_string_value(json_object_get(j, "pem")), "BEGIN CERTIFICATE");
    json_decref(j);
    pt_run_free(&r);
    /* An existing --out needs --force. */
    RUN(&r, "gatehouse", "pki", "bundle", "--dir", S, "--out", full, "root");
    assert_int_equal(r.status, 4);
    pt_run_free(&r);
    OK("gatehouse", "pki", "bundle", "--dir", S, "--out", full, "--force", "root");
    free(full);
}

static void test_sign_csr(void **state)
{
    (void)state;
    char *key = pt_path(D, "csr-dev.key"), *csr = pt_path(D, "csr-dev.csr");
    struct pt_run r;
    RUN(&r, "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=sensor-042");
    assert_int_equal(r.status, 0);
    pt_run_free(&r);
    OK("gatehouse", "pki", "sign-csr", csr, "--issuer", "tenant-ca", "--profile", "device", "--dir",
       S);
    assert_false(pt_exists(sp("private/sensor-042.key.pem"))); /* the key stays on the device */
    char *t = x509_text(sp("certs/sensor-042.cert.pem"));
    assert_contains(t, "Subject: CN = sensor-042");
    assert_contains(t, "TLS Web Client Authentication");
    free(t);
    assert_int_equal(verify_status(sp("certs/root.cert.pem"), sp("certs/sensor-042.chain.pem"),
                                   sp("certs/sensor-042.cert.pem"), "sslclient"),
                     0);
    /* A server CSR with a SAN; one without, whose CN becomes the SAN. */
    RUN(&r, "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=csr-srv", "-addext",
        "subjectAltName=DNS:csr.example.test,IP:10.1.2.3");
    assert_int_equal(r.status, 0);
    pt_run_free(&r);
    OK("gatehouse", "pki", "sign-csr", csr, "--issuer", "edge-ca", "--profile", "server", "--dir",
       S);
    t = x509_text(sp("certs/csr-srv.cert.pem"));
    assert_contains(t, "DNS:csr.example.test, IP Address:10.1.2.3");
    assert_contains(t, "TLS Web Server Authentication");
    free(t);
    RUN(&r, "openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
        "-subj", "/CN=plain.example.test");
    assert_int_equal(r.status, 0);
    pt_run_free(&r);
    OK("gatehouse", "pki", "sign-csr", csr, "--issuer", "edge-ca", "--profile", "server", "--name",
       "plain", "--dir", S);
    t = x509_text(sp("certs/plain.cert.pem"));
    assert_contains(t, "DNS:plain.example.test");
    free(t);
    free(key);
    free(csr);
}

static void test_verification_cert(void **state)
{
    (void)state;
    struct pt_run r;
    RUN(&r, "gatehouse", "pki", "verification-cert", "8C3B0F6E2B1A4D5E", "--issuer", "tenant-ca",
        "--dir", S, "--json");
    assert_int_equal(r.status, 0);
    json_t *j = json_loads(r.out, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "subject")), "CN=8C3B0F6E2B1A4D5E");
    assert_true(json_is_null(json_object_get(j, "key")));
    json_decref(j);
    pt_run_free(&r);
    const char *cert = sp("certs/tenant-ca-verification.cert.pem");
    char *t = x509_text(cert);
    assert_contains(t, "Subject: CN = 8C3B0F6E2B1A4D5E");
    assert_contains(t, "Issuer: O = Contoso, CN = tenant-ca");
    free(t);
    assert_false(pt_exists(sp("private/tenant-ca-verification.key.pem")));
    assert_int_equal(
        verify_status(sp("certs/root.cert.pem"), sp("certs/tenant-ca.cert.pem"), cert, NULL), 0);
    /* 30 days by default. */
    RUN(&r, "openssl", "x509", "-in", cert, "-noout", "-checkend", "2500000");
    assert_int_equal(r.status, 0);
    pt_run_free(&r);
    RUN(&r, "openssl", "x509", "-in", cert, "-noout", "-checkend", "2700000");
    assert_int_not_equal(r.status, 0);
    pt_run_free(&r);
}

static void test_help_and_usage(void **state)
{
    (void)state;
    struct pt_run r;
    RUN(&r, "gatehouse", "pki", "--help");
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "issue-server");
    assert_contains(r.out, "verification-cert");
    pt_run_free(&r);
    RUN(&r, "gatehouse", "pki");
    assert_int_equal(r.status, 2);
    pt_run_free(&r);
    RUN(&r, "gatehouse", "pki", "issue-server", "--help");
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "--dns HOST");
    assert_null(strstr(r.out, "--profile"));
    pt_run_free(&r);
    RUN(&r, "gatehouse", "pki", "frobnicate");
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "unknown command");
    pt_run_free(&r);
    RUN(&r, "gatehouse", "pki", "init-root", "--dir", S, "--bogus");
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "unknown option '--bogus'");
    pt_run_free(&r);
    RUN(&r, "gatehouse", "pki", "init-root", "--dir", S, "--dns", "x.test");
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "does not apply");
    pt_run_free(&r);
    RUN(&r, "gatehouse", "pki", "init-root", "--dir", S, "--days", "1", "--years", "1");
    assert_int_equal(r.status, 2);
    pt_run_free(&r);
    RUN(&r, "gatehouse", "pki", "issue-ca", "--dir", S);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "missing argument");
    pt_run_free(&r);
    RUN(&r, "gatehouse", "pki", "issue-ca", "a", "b", "--dir", S);
    assert_int_equal(r.status, 2);
    pt_run_free(&r);
    RUN(&r, "gatehouse", "pki", "issue-ca", "x", "--cn=one", "--cn=two", "--dir", S);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "given twice");
    pt_run_free(&r);
    RUN(&r, "gatehouse", "pki", "inspect", "--json=yes", "root", "--dir", S);
    assert_int_equal(r.status, 2);
    pt_run_free(&r);
    RUN(&r, "gatehouse", "pki", "inspect", "root", "--dir");
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "needs a value");
    pt_run_free(&r);
    /* GH_PKI_DIR is the default state directory. */
    setenv("GH_PKI_DIR", S, 1);
    RUN(&r, "gatehouse", "pki", "inspect", "root");
    assert_int_equal(r.status, 0);
    pt_run_free(&r);
    unsetenv("GH_PKI_DIR");
}

/* Every command and option of the table is documented in docs/pki.md. */
static void test_docs_cover_every_option(void **state)
{
    (void)state;
    const char *src = getenv("GH_SOURCE_DIR");
    assert_non_null(src);
    char path[4096];
    snprintf(path, sizeof path, "%s/docs/pki.md", src);
    char *doc = pt_read_file(path, NULL);
    assert_non_null(doc);
    size_t n;
    const struct gh_pki_cli_command *cmd;
    for (n = 0; (cmd = gh_pki_cli_command(n)) != NULL; n++) {
        char want[128];
        snprintf(want, sizeof want, "### `gatehouse pki %s", cmd->name);
        assert_contains(doc, want);
    }
    assert_int_equal(n, 9);
    const struct gh_pki_cli_option *opts = gh_pki_cli_options(&n);
    for (size_t i = 0; i < n; i++) {
        char want[128];
        snprintf(want, sizeof want, "`%s", opts[i].name);
        assert_contains(doc, want);
    }
    assert_contains(doc, "GH_PKI_CA_PASSWORD");
    assert_contains(doc, "GH_PKI_KEY_PASSWORD");
    assert_contains(doc, "GH_PKI_DIR");
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_and_modes),
        cmocka_unit_test(test_openssl_verify),
        cmocka_unit_test(test_x509_fields),
        cmocka_unit_test(test_inspect_json),
        cmocka_unit_test(test_key_types),
        cmocka_unit_test(test_encrypted_keys),
        cmocka_unit_test(test_renew),
        cmocka_unit_test(test_bundle),
        cmocka_unit_test(test_sign_csr),
        cmocka_unit_test(test_verification_cert),
        cmocka_unit_test(test_help_and_usage),
        cmocka_unit_test(test_docs_cover_every_option),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
