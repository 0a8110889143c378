/* Peer identity of a connection: address, TLS details, certificate. */
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/buf.h"
#include "net/conn_internal.h"
#include "net/tls_internal.h"

const char *gh_conn_peer_addr(const struct gh_conn *c)
{
    return c->peer;
}

bool gh_conn_is_tls(const struct gh_conn *c)
{
    return c->ssl != NULL;
}

const char *gh_conn_tls_version(const struct gh_conn *c)
{
    if (!c->ssl || !SSL_is_init_finished(c->ssl)) return NULL;
    return SSL_get_version(c->ssl);
}

const char *gh_conn_sni(const struct gh_conn *c)
{
    if (!c->ssl) return NULL;
    const char *name = SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name);
    return name && gh_tls_hostname_valid(name) ? name : NULL;
}

X509 *gh_conn_peer_cert(const struct gh_conn *c)
{
    return c->ssl ? SSL_get0_peer_certificate(c->ssl) : NULL;
}

STACK_OF(X509) * gh_conn_peer_chain(const struct gh_conn *c)
{
    return c->ssl ? SSL_get_peer_cert_chain(c->ssl) : NULL;
}

enum gh_conn_cert_status gh_conn_peer_cert_status(const struct gh_conn *c, const char **detail)
{
    const char *d;
    enum gh_conn_cert_status st;
    if (!gh_conn_peer_cert(c)) {
        d = "no certificate";
        st = GH_CONN_CERT_NONE;
    } else {
        long v = SSL_get_verify_result(c->ssl);
        st = v == X509_V_OK ? GH_CONN_CERT_TRUSTED : GH_CONN_CERT_UNTRUSTED;
        d = v == X509_V_OK ? "ok" : X509_verify_cert_error_string(v);
    }
    if (detail) *detail = d;
    return st;
}

gh_err gh_conn_peer_cert_der(struct gh_conn *c, struct gh_slice *out)
{
    GH_ENSURE(c && out, GH_ERR_ARG);
    if (!c->leaf_der) {
        X509 *x = gh_conn_peer_cert(c);
        GH_ENSURE(x, GH_ERR_NOT_FOUND);
        unsigned char *der = NULL;
        int n = i2d_X509(x, &der);
        if (n <= 0) {
            ERR_clear_error();
            return GH_ERR_NOMEM;
        }
        c->leaf_der = der;
        c->leaf_der_len = n;
    }
    *out = (struct gh_slice){c->leaf_der, (size_t)c->leaf_der_len};
    return GH_OK;
}

gh_err gh_conn_peer_cn(const struct gh_conn *c, char *out, size_t cap)
{
    GH_ENSURE(c && out, GH_ERR_ARG);
    X509 *x = gh_conn_peer_cert(c);
    GH_ENSURE(x, GH_ERR_NOT_FOUND);
    const X509_NAME *name = X509_get_subject_name(x);
    int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    GH_ENSURE(i >= 0, GH_ERR_NOT_FOUND);
    /* Two CNs make the identity ambiguous: refuse rather than pick one. */
    GH_ENSURE(X509_NAME_get_index_by_NID(name, NID_commonName, i) < 0, GH_ERR_MALFORMED);
    const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, s);
    if (n < 0) {
        ERR_clear_error();
        return GH_ERR_MALFORMED;
    }
    gh_err rc = GH_OK;
    if (n > 0 && (!gh_utf8_valid(utf8, (size_t)n) || memchr(utf8, 0, (size_t)n)))
        rc = GH_ERR_MALFORMED;
    else if ((size_t)n >= cap)
        rc = GH_ERR_NOBUFS;
    else {
        memcpy(out, utf8, (size_t)n);
        out[n] = '\0';
    }
    OPENSSL_free(utf8);
    return rc;
}
