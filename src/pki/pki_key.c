/* Every private-key operation of the PKI (see pki_key.h). */
#include "pki/pki_key.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/buf.h"
#include "pki/pki_pem.h"

struct gh_pki_key {
    EVP_PKEY *pkey;
};

static const struct {
    const char *name;
    enum gh_pki_key_type type;
} key_names[] = {
    {"ec-p256", GH_PKI_KEY_EC_P256},   {"p256", GH_PKI_KEY_EC_P256},
    {"ec", GH_PKI_KEY_EC_P256},        {"ec-p384", GH_PKI_KEY_EC_P384},
    {"p384", GH_PKI_KEY_EC_P384},      {"rsa-2048", GH_PKI_KEY_RSA_2048},
    {"rsa2048", GH_PKI_KEY_RSA_2048},  {"rsa", GH_PKI_KEY_RSA_2048},
    {"rsa-3072", GH_PKI_KEY_RSA_3072}, {"rsa3072", GH_PKI_KEY_RSA_3072},
    {"rsa-4096", GH_PKI_KEY_RSA_4096}, {"rsa4096", GH_PKI_KEY_RSA_4096},
};

gh_err gh_pki_key_type_parse(const char *s, enum gh_pki_key_type *out)
{
    GH_ENSURE(s != NULL, GH_ERR_ARG);
    for (size_t i = 0; i < sizeof key_names / sizeof key_names[0]; i++) {
        if (strcmp(s, key_names[i].name) == 0) {
            *out = key_names[i].type;
            return GH_OK;
        }
    }
    return GH_ERR_ARG;
}

const char *gh_pki_key_type_name(enum gh_pki_key_type t)
{
    switch (t) {
    case GH_PKI_KEY_EC_P256:
        return "ec-p256";
    case GH_PKI_KEY_EC_P384:
        return "ec-p384";
    case GH_PKI_KEY_RSA_2048:
        return "rsa-2048";
    case GH_PKI_KEY_RSA_3072:
        return "rsa-3072";
    case GH_PKI_KEY_RSA_4096:
        return "rsa-4096";
    }
    return "unknown";
}

/* Curve short name of an EC key into buf ("P-256"); false if none. */
static bool ec_curve(const EVP_PKEY *pub, char *buf, size_t cap)
{
    size_t len = 0;
    return EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, buf, cap, &len) == 1;
}

gh_err gh_pki_key_type_of(const EVP_PKEY *pub, enum gh_pki_key_type *out)
{
    GH_ENSURE(pub != NULL, GH_ERR_ARG);
    if (EVP_PKEY_is_a(pub, "EC")) {
        char curve[64];
        GH_ENSURE(ec_curve(pub, curve, sizeof curve), GH_ERR_ARG);
        if (strcmp(curve, "prime256v1") == 0 || strcmp(curve, "P-256") == 0) {
            *out = GH_PKI_KEY_EC_P256;
            return GH_OK;
        }
        if (strcmp(curve, "secp384r1") == 0 || strcmp(curve, "P-384") == 0) {
            *out = GH_PKI_KEY_EC_P384;
            return GH_OK;
        }
        return GH_ERR_ARG;
    }
    if (EVP_PKEY_is_a(pub, "RSA")) {
        switch (EVP_PKEY_get_bits(pub)) {
        case 2048:
            *out = GH_PKI_KEY_RSA_2048;
            return GH_OK;
        case 3072:
            *out = GH_PKI_KEY_RSA_3072;
            return GH_OK;
        case 4096:
            *out = GH_PKI_KEY_RSA_4096;
            return GH_OK;
        default:
            return GH_ERR_ARG;
        }
    }
    return GH_ERR_ARG;
}

gh_err gh_pki_pubkey_check(const EVP_PKEY *pub, struct gh_pki_diag *diag)
{
    GH_ENSURE(pub != NULL, GH_ERR_ARG);
    if (EVP_PKEY_is_a(pub, "EC")) {
        char curve[64];
        if (!ec_curve(pub, curve, sizeof curve)) {
            gh_pki_diag_set(diag, "EC key without a named curve is not supported");
            return GH_ERR_ARG;
        }
        static const char *const ok[] = {"prime256v1", "P-256",     "secp384r1",
                                         "P-384",      "secp521r1", "P-521"};
        for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
            if (strcmp(curve, ok[i]) == 0) return GH_OK;
        gh_pki_diag_set(diag, "EC curve %.40s is not supported (use P-256, P-384 or P-521)", curve);
        return GH_ERR_ARG;
    }
    if (EVP_PKEY_is_a(pub, "RSA")) {
        int bits = EVP_PKEY_get_bits(pub);
        if (bits < GH_PKI_RSA_BITS_MIN || bits > GH_PKI_RSA_BITS_MAX) {
            gh_pki_diag_set(diag, "RSA key of %d bits refused (%d to %d bits accepted)", bits,
                            GH_PKI_RSA_BITS_MIN, GH_PKI_RSA_BITS_MAX);
            return GH_ERR_ARG;
        }
        return GH_OK;
    }
    gh_pki_diag_set(diag, "key algorithm is not supported (use EC or RSA)");
    return GH_ERR_ARG;
}

gh_err gh_pki_key_generate(enum gh_pki_key_type type, struct gh_pki_key **out)
{
    EVP_PKEY *pkey = NULL;
    switch (type) {
    case GH_PKI_KEY_EC_P256:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        break;
    case GH_PKI_KEY_EC_P384:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
        break;
    case GH_PKI_KEY_RSA_2048:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        break;
    case GH_PKI_KEY_RSA_3072:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
        break;
    case GH_PKI_KEY_RSA_4096:
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
        break;
    default:
        return GH_ERR_ARG;
    }
    if (!pkey) {
        ERR_clear_error();
        return GH_ERR_CRYPTO;
    }
    struct gh_pki_key *k = calloc(1, sizeof *k);
    if (!k) {
        EVP_PKEY_free(pkey);
        return GH_ERR_NOMEM;
    }
    k->pkey = pkey;
    *out = k;
    return GH_OK;
}

struct pw_ctx {
    const struct gh_pki_secret *pw;
};

/* OpenSSL password callback: hand over the password, never prompt. */
static int pw_cb(char *buf, int size, int rwflag, void *u)
{
    const struct pw_ctx *c = u;
    (void)rwflag;
    if (!c || !c->pw || !c->pw->data || c->pw->len == 0) return -1;
    if (c->pw->len > (size_t)size) return -1;
    memcpy(buf, c->pw->data, c->pw->len);
    return (int)c->pw->len;
}

static bool have_password(const struct gh_pki_secret *pw)
{
    return pw && pw->data && pw->len > 0;
}

gh_err gh_pki_key_from_pem(const uint8_t *pem, size_t len, const struct gh_pki_secret *pw,
                           struct gh_pki_key **out, struct gh_pki_diag *diag)
{
    struct gh_reader r;
    struct gh_pki_pem_block b;
    gh_err rc;
    gh_reader_init(&r, pem, len);
    for (;;) {
        rc = gh_pki_pem_next(&r, &b);
        if (rc == GH_ERR_NOT_FOUND) {
            gh_pki_diag_set(diag, "no PEM private key in the file");
            return GH_ERR_NOT_FOUND;
        }
        if (rc != GH_OK) {
            gh_pki_diag_set(diag, "the key file is not valid PEM");
            return GH_ERR_MALFORMED;
        }
        if (gh_pki_pem_is_private_key(&b)) break;
    }
    bool encrypted = gh_pki_pem_is_encrypted_key(&b);
    if (encrypted && !have_password(pw)) {
        gh_pki_diag_set(diag, "the private key is encrypted and no password was given");
        return GH_ERR_BAD_PASSWORD;
    }
    /* OpenSSL's PEM reader wants whole lines: copy the block plus "\n". */
    size_t n = b.whole.len + 1;
    char *copy = malloc(n);
    if (!copy) return GH_ERR_NOMEM;
    memcpy(copy, b.whole.ptr, b.whole.len);
    copy[b.whole.len] = '\n';
    BIO *bio = BIO_new_mem_buf(copy, (int)n);
    EVP_PKEY *pkey = NULL;
    struct pw_ctx ctx = {pw};
    if (bio && n <= (size_t)INT32_MAX) pkey = PEM_read_bio_PrivateKey(bio, NULL, pw_cb, &ctx);
    BIO_free(bio);
    gh_pki_wipe_free(copy, n);
    ERR_clear_error();
    if (!pkey) {
        if (encrypted) {
            gh_pki_diag_set(diag, "cannot decrypt the private key: wrong password");
            return GH_ERR_BAD_PASSWORD;
        }
        gh_pki_diag_set(diag, "the private key cannot be read");
        return GH_ERR_MALFORMED;
    }
    rc = gh_pki_pubkey_check(pkey, diag);
    if (rc != GH_OK) {
        EVP_PKEY_free(pkey);
        return rc;
    }
    struct gh_pki_key *k = calloc(1, sizeof *k);
    if (!k) {
        EVP_PKEY_free(pkey);
        return GH_ERR_NOMEM;
    }
    k->pkey = pkey;
    *out = k;
    return GH_OK;
}

gh_err gh_pki_key_to_pem(const struct gh_pki_key *k, const struct gh_pki_secret *pw, char **pem,
                         size_t *len)
{
    gh_err rc = GH_ERR_CRYPTO;
    BIO *bio = BIO_new(BIO_s_secmem());
    if (!bio) return GH_ERR_NOMEM;
    int ok;
    if (have_password(pw)) {
        if (pw->len > GH_PKI_PASSWORD_MAX) {
            rc = GH_ERR_ARG;
            goto out;
        }
        ok = PEM_write_bio_PKCS8PrivateKey(bio, k->pkey, EVP_aes_256_cbc(), pw->data, (int)pw->len,
                                           NULL, NULL);
    } else {
        ok = PEM_write_bio_PKCS8PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL);
    }
    if (ok != 1) goto out;
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    if (n <= 0 || !data) goto out;
    char *copy = malloc((size_t)n + 1);
    if (!copy) {
        rc = GH_ERR_NOMEM;
        goto out;
    }
    memcpy(copy, data, (size_t)n);
    copy[n] = '\0';
    *pem = copy;
    *len = (size_t)n;
    rc = GH_OK;
out:
    ERR_clear_error();
    BIO_free(bio); /* secure memory BIO: cleared on free */
    return rc;
}

gh_err gh_pki_key_public(const struct gh_pki_key *k, EVP_PKEY **out)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k->pkey, &der);
    if (n <= 0) {
        ERR_clear_error();
        return GH_ERR_CRYPTO;
    }
    const unsigned char *p = der;
    EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, n);
    OPENSSL_free(der);
    if (!pub) {
        ERR_clear_error();
        return GH_ERR_CRYPTO;
    }
    *out = pub;
    return GH_OK;
}

gh_err gh_pki_key_matches(const struct gh_pki_key *k, const EVP_PKEY *pub)
{
    if (!pub || EVP_PKEY_eq(k->pkey, pub) != 1) {
        ERR_clear_error();
        return GH_ERR_KEY_MISMATCH;
    }
    return GH_OK;
}

gh_err gh_pki_key_sign_cert(const struct gh_pki_key *k, X509 *cert)
{
    const EVP_MD *md = EVP_sha256();
    if (EVP_PKEY_is_a(k->pkey, "EC")) {
        char curve[64];
        if (ec_curve(k->pkey, curve, sizeof curve)) {
            if (strcmp(curve, "secp384r1") == 0 || strcmp(curve, "P-384") == 0)
                md = EVP_sha384();
            else if (strcmp(curve, "secp521r1") == 0 || strcmp(curve, "P-521") == 0)
                md = EVP_sha512();
        }
    }
    if (X509_sign(cert, k->pkey, md) <= 0) {
        ERR_clear_error();
        return GH_ERR_CRYPTO;
    }
    return GH_OK;
}

void gh_pki_key_free(struct gh_pki_key *k)
{
    if (!k) return;
    EVP_PKEY_free(k->pkey); /* OpenSSL clears private key material on free */
    free(k);
}
