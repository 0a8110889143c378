/* Shared fixture for the DPS tests: a temp data directory with dps.db and
 * hub.db (fake clocks), JSON and X.509 helpers (certificates made with the
 * OpenSSL API). Included by tests/unit/dps/test_*.c only. */
#ifndef GH_TEST_DPS_FIXTURE_H
#define GH_TEST_DPS_FIXTURE_H

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "dps/dps.h"
#include "dps/dps_store.h"
#include "hub/store.h"

/* 2026-01-01T00:00:00.000Z */
#define DX_T0 INT64_C(1767225600000)

struct dx {
    char dir[PATH_MAX];
    struct gh_dps_store *s;
    struct gh_store *hub;
    int64_t now;
};

static inline int64_t dx_clock(void *ctx)
{
    return ((struct dx *)ctx)->now;
}

static inline void dx_open(struct dx *f)
{
    char err[256];
    gh_err rc = gh_dps_store_open(f->dir, &f->s, err, sizeof err);
    if (rc != GH_OK) fprintf(stderr, "gh_dps_store_open: %s\n", err);
    assert_int_equal(rc, GH_OK);
    gh_dps_store_set_clock(f->s, dx_clock, f);
    rc = gh_store_open(f->dir, &f->hub, err, sizeof err);
    if (rc != GH_OK) fprintf(stderr, "gh_store_open: %s\n", err);
    assert_int_equal(rc, GH_OK);
    gh_store_set_clock(f->hub, dx_clock, f);
}

static inline int dx_setup(void **state)
{
    struct dx *f = calloc(1, sizeof *f);
    if (f == NULL) return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/gh-dps-test-XXXXXX");
    if (mkdtemp(f->dir) == NULL) return -1;
    strncat(f->dir, "/data", sizeof f->dir - strlen(f->dir) - 1);
    f->now = DX_T0;
    dx_open(f);
    *state = f;
    return 0;
}

static inline void dx_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            char p[PATH_MAX + 512];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            remove(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

static inline int dx_teardown(void **state)
{
    struct dx *f = *state;
    gh_dps_store_close(f->s);
    gh_store_close(f->hub);
    dx_rmdir(f->dir);
    char *slash = strrchr(f->dir, '/');
    if (slash != NULL) *slash = '\0';
    dx_rmdir(f->dir);
    free(f);
    return 0;
}

static inline json_t *dx_json(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (j == NULL) fprintf(stderr, "bad test JSON: %s: %s\n", text, e.text);
    assert_non_null(j);
    return j;
}

/* Parse text as an enrollment of kind (must succeed). */
static inline void dx_enrollment(const char *text, enum gh_dps_kind kind,
                                 struct gh_dps_enrollment *out)
{
    json_t *j = dx_json(text);
    char err[GH_DPS_REASON_MAX];
    gh_err rc = gh_dps_enrollment_from_json(j, kind, out, err, sizeof err);
    if (rc != GH_OK) fprintf(stderr, "enrollment: %s\n", err);
    assert_int_equal(rc, GH_OK);
    json_decref(j);
}

/* Parse and store (must succeed). */
static inline void dx_put(struct dx *f, const char *text, enum gh_dps_kind kind)
{
    struct gh_dps_enrollment in, out;
    dx_enrollment(text, kind, &in);
    gh_err rc = gh_dps_store_enrollment_put(f->s, &in, NULL, &out, NULL);
    if (rc != GH_OK) fprintf(stderr, "put: %s\n", gh_dps_store_errmsg(f->s));
    assert_int_equal(rc, GH_OK);
    gh_dps_enrollment_cleanup(&in);
    gh_dps_enrollment_cleanup(&out);
}

/* ---- X.509 ---------------------------------------------------------------- */

static long dx_serial = 1;

static inline X509 *dx_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
                            bool ca)
{
    X509 *x = X509_new();
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), dx_serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365 * 20);
    X509_set_pubkey(x, key);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : n);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
                                            ca ? "critical,CA:TRUE" : "CA:FALSE");
    assert_non_null(e);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    if (!ca) {
        e = X509V3_EXT_conf_nid(NULL, &ctx, NID_ext_key_usage, "clientAuth");
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    assert_true(X509_sign(x, issuer_key != NULL ? issuer_key : key, EVP_sha256()) > 0);
    return x;
}

/* PEM with newlines escaped for embedding in JSON text (malloc'd). */
static inline char *dx_pem_json(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *out = malloc((size_t)n * 2 + 1), *o = out;
    for (long i = 0; i < n; i++) {
        if (p[i] == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        } else {
            *o++ = p[i];
        }
    }
    *o = '\0';
    BIO_free(b);
    return out;
}

static inline void dx_hex_sha256(X509 *x, char out[65])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    X509_digest(x, EVP_sha256(), d, &n);
    for (unsigned i = 0; i < n; i++) sprintf(out + 2 * i, "%02X", d[i]);
}

/* A PKI: root -> intermediate (tenant CA) -> leaves; plus an unrelated
 * root. */
struct dx_pki {
    EVP_PKEY *root_key, *int_key, *other_key;
    X509 *root, *inter, *other;
};

static inline void dx_pki_init(struct dx_pki *p)
{
    p->root_key = EVP_EC_gen("P-256");
    p->int_key = EVP_EC_gen("P-256");
    p->other_key = EVP_EC_gen("P-256");
    p->root = dx_cert("Root CA", p->root_key, NULL, NULL, true);
    p->inter = dx_cert("Tenant CA", p->int_key, p->root, p->root_key, true);
    p->other = dx_cert("Other CA", p->other_key, NULL, NULL, true);
}

static inline void dx_pki_free(struct dx_pki *p)
{
    X509_free(p->root);
    X509_free(p->inter);
    X509_free(p->other);
    EVP_PKEY_free(p->root_key);
    EVP_PKEY_free(p->int_key);
    EVP_PKEY_free(p->other_key);
}

#endif
