/* Reading certificates and keys from PEM files for the TLS contexts. Files
 * are read whole (at most GH_TLS_FILE_MAX bytes) into our own buffer, which
 * is wiped after parsing, and parsed from memory; every failure maps to a
 * specific error with a detail naming the file (see net/tls.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "net/tls_internal.h"

/* ---- diagnostics ------------------------------------------------------ */

void gh_tls_detail(char *d, size_t cap, const char *fmt, ...)
{
    if (!d || cap == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d, cap, fmt, ap);
    va_end(ap);
}

const char *gh_tls_ossl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : "unknown OpenSSL error";
}

/* ---- files -------------------------------------------------------------- */

/* Read a whole file of at most max bytes into a fresh buffer (one spare byte,
 * NUL). Release with OPENSSL_clear_free(buf, len + 1): the file may hold a key. */
static gh_err read_file(const char *path, size_t max, uint8_t **out, size_t *out_len, char *d,
                        size_t cap)
{
    gh_err rc = GH_OK;
    uint8_t *buf = NULL;
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        gh_tls_detail(d, cap, "cannot open %s: %s", path, strerror(e));
        if (e == ENOENT || e == ENOTDIR) return GH_ERR_NOENT;
        if (e == EACCES || e == EPERM) return GH_ERR_PERM;
        return GH_ERR_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        gh_tls_detail(d, cap, "%s is not a regular file", path);
        rc = GH_ERR_IO;
        goto out;
    }
    if ((uintmax_t)st.st_size > max) {
        gh_tls_detail(d, cap, "%s is larger than %zu bytes", path, max);
        rc = GH_ERR_TOO_LARGE;
        goto out;
    }
    size_t want = (size_t)st.st_size;
    buf = OPENSSL_malloc(want + 1);
    if (!buf) {
        rc = GH_ERR_NOMEM;
        goto out;
    }
    while (len < want) {
        ssize_t n = read(fd, buf + len, want - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            gh_tls_detail(d, cap, "cannot read %s: %s", path, strerror(errno));
            rc = GH_ERR_IO;
            goto out;
        }
        if (n == 0) break; /* file shrank: use what is there */
        len += (size_t)n;
    }
    buf[len] = 0;
    *out = buf;
    *out_len = len;
    buf = NULL;
out:
    if (buf) OPENSSL_clear_free(buf, want + 1);
    close(fd);
    return rc;
}

struct pw_ctx {
    const char *password;
    bool asked;
};

/* PEM password callback: OpenSSL calls it only for an encrypted block. */
static int pw_cb(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    struct pw_ctx *p = u;
    p->asked = true;
    if (!p->password || size <= 0) return -1;
    size_t n = strlen(p->password);
    if (n > (size_t)size) return -1;
    memcpy(buf, p->password, n);
    return (int)n;
}

/* All PEM certificates of a file, in order (1..max of them). */
static gh_err load_certs(const char *path, size_t max, STACK_OF(X509) * *out, char *d, size_t cap)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    BIO *bio = NULL;
    STACK_OF(X509) *sk = NULL;
    struct pw_ctx pw = {NULL, false};
    gh_err rc = read_file(path, GH_TLS_FILE_MAX, &buf, &len, d, cap);
    if (rc != GH_OK) return rc;
    ERR_clear_error();
    bio = BIO_new_mem_buf(buf, (int)len);
    sk = sk_X509_new_null();
    if (!bio || !sk) {
        rc = GH_ERR_NOMEM;
        goto out;
    }
    for (;;) {
        X509 *x = PEM_read_bio_X509_AUX(bio, NULL, pw_cb, &pw);
        if (!x) {
            unsigned long e = ERR_peek_last_error();
            if (sk_X509_num(sk) > 0 && ERR_GET_LIB(e) == ERR_LIB_PEM &&
                ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
                break;
            if (sk_X509_num(sk) == 0)
                gh_tls_detail(d, cap, "%s: no PEM certificate found (%s)", path,
                              gh_tls_ossl_reason());
            else
                gh_tls_detail(d, cap, "%s: certificate %d is malformed (%s)", path,
                              sk_X509_num(sk) + 1, gh_tls_ossl_reason());
            rc = GH_ERR_MALFORMED;
            goto out;
        }
        if ((size_t)sk_X509_num(sk) >= max) {
            X509_free(x);
            gh_tls_detail(d, cap, "%s: more than %zu certificates", path, max);
            rc = GH_ERR_TOO_MANY;
            goto out;
        }
        if (!sk_X509_push(sk, x)) {
            X509_free(x);
            rc = GH_ERR_NOMEM;
            goto out;
        }
    }
    *out = sk;
    sk = NULL;
out:
    ERR_clear_error();
    sk_X509_pop_free(sk, X509_free);
    BIO_free(bio);
    OPENSSL_clear_free(buf, len + 1);
    return rc;
}

static gh_err load_key(const char *path, const char *password, EVP_PKEY **out, char *d, size_t cap)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    BIO *bio = NULL;
    struct pw_ctx pw = {password, false};
    gh_err rc = read_file(path, GH_TLS_FILE_MAX, &buf, &len, d, cap);
    if (rc != GH_OK) return rc;
    ERR_clear_error();
    bio = BIO_new_mem_buf(buf, (int)len);
    if (!bio) {
        rc = GH_ERR_NOMEM;
        goto out;
    }
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, pw_cb, &pw);
    if (!key) {
        if (pw.asked && !password) {
            gh_tls_detail(d, cap, "%s: key is encrypted and no password is configured", path);
            rc = GH_ERR_BAD_PASSWORD;
        } else if (pw.asked) {
            gh_tls_detail(d, cap, "%s: wrong password for encrypted key", path);
            rc = GH_ERR_BAD_PASSWORD;
        } else {
            gh_tls_detail(d, cap, "%s: no PEM private key found (%s)", path, gh_tls_ossl_reason());
            rc = GH_ERR_MALFORMED;
        }
        goto out;
    }
    *out = key;
out:
    ERR_clear_error();
    BIO_free(bio);
    OPENSSL_clear_free(buf, len + 1);
    return rc;
}

/* Certificate chain + key of id into ctx. */
gh_err gh_tls_load_identity(SSL_CTX *ctx, const struct gh_tls_identity *id, char *d, size_t cap)
{
    STACK_OF(X509) *certs = NULL;
    EVP_PKEY *key = NULL;
    gh_err rc;
    if (!id->cert_file || !*id->cert_file || !id->key_file || !*id->key_file) {
        gh_tls_detail(d, cap, "certificate and key files are both required");
        return GH_ERR_ARG;
    }
    rc = load_certs(id->cert_file, GH_TLS_CHAIN_MAX, &certs, d, cap);
    if (rc != GH_OK) goto out;
    rc = load_key(id->key_file, id->key_password, &key, d, cap);
    if (rc != GH_OK) goto out;
    X509 *leaf = sk_X509_value(certs, 0);
    if (X509_check_private_key(leaf, key) != 1) {
        gh_tls_detail(d, cap, "key %s does not match certificate %s", id->key_file, id->cert_file);
        rc = GH_ERR_KEY_MISMATCH;
        goto out;
    }
    if (SSL_CTX_use_certificate(ctx, leaf) != 1) {
        gh_tls_detail(d, cap, "%s: certificate rejected (%s)", id->cert_file, gh_tls_ossl_reason());
        rc = GH_ERR_CRYPTO;
        goto out;
    }
    for (int i = 1; i < sk_X509_num(certs); i++) {
        if (SSL_CTX_add1_chain_cert(ctx, sk_X509_value(certs, i)) != 1) {
            gh_tls_detail(d, cap, "%s: chain certificate %d rejected (%s)", id->cert_file, i + 1,
                          gh_tls_ossl_reason());
            rc = GH_ERR_CRYPTO;
            goto out;
        }
    }
    if (SSL_CTX_use_PrivateKey(ctx, key) != 1) {
        gh_tls_detail(d, cap, "%s: key rejected (%s)", id->key_file, gh_tls_ossl_reason());
        rc = GH_ERR_CRYPTO;
        goto out;
    }
out:
    ERR_clear_error();
    EVP_PKEY_free(key);
    sk_X509_pop_free(certs, X509_free);
    return rc;
}

gh_err gh_tls_load_store(const char *path, X509_STORE **out, char *d, size_t cap)
{
    STACK_OF(X509) *certs = NULL;
    X509_STORE *st = NULL;
    gh_err rc = load_certs(path, GH_TLS_CA_BUNDLE_MAX, &certs, d, cap);
    if (rc != GH_OK) return rc;
    st = X509_STORE_new();
    if (!st) {
        rc = GH_ERR_NOMEM;
        goto out;
    }
    for (int i = 0; i < sk_X509_num(certs); i++) {
        if (X509_STORE_add_cert(st, sk_X509_value(certs, i)) != 1) {
            gh_tls_detail(d, cap, "%s: CA certificate %d rejected (%s)", path, i + 1,
                          gh_tls_ossl_reason());
            rc = GH_ERR_CRYPTO;
            goto out;
        }
    }
    *out = st;
    st = NULL;
out:
    ERR_clear_error();
    X509_STORE_free(st);
    sk_X509_pop_free(certs, X509_free);
    return rc;
}
