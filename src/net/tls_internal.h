/* Internal to src/net: how connections obtain SSL objects from the TLS
 * contexts. Nothing outside src/net includes this header.
 */
#ifndef GH_NET_TLS_INTERNAL_H
#define GH_NET_TLS_INTERNAL_H

#include <stdbool.h>

#include <openssl/ssl.h>

#include "net/tls.h"

/* New server-side SSL from the certificate set currently in use. The SSL
 * keeps that set alive (it holds a reference to the set's default SSL_CTX,
 * which owns the SNI table), so a reload never pulls contexts from under a
 * handshake. GH_ERR_NOMEM. Thread-safe. */
GH_NODISCARD gh_err gh_tls_server_ssl_new(struct gh_tls_server *srv, SSL **ssl_out);

/* New client-side SSL that sends SNI `name` (when it is a DNS name) and
 * verifies the server certificate against it (DNS SAN, or IP SAN when name
 * is an IPv4/IPv6 literal). GH_ERR_ARG for an invalid name; GH_ERR_NOMEM;
 * GH_ERR_TLS. Thread-safe. */
GH_NODISCARD gh_err gh_tls_client_ssl_new(struct gh_tls_client *c, const char *name, SSL **ssl_out);

/* tls_load.c */
/* printf into detail (NULL or cap 0: nothing), always NUL-terminated. */
__attribute__((format(printf, 3, 4))) void gh_tls_detail(char *detail, size_t cap, const char *fmt,
                                                         ...);
/* Reason text of the most recent OpenSSL error (static storage). */
const char *gh_tls_ossl_reason(void);
/* Load id's certificate chain and key into ctx (errors: see net/tls.h). */
GH_NODISCARD gh_err gh_tls_load_identity(SSL_CTX *ctx, const struct gh_tls_identity *id,
                                         char *detail, size_t cap);
/* A store holding every certificate of a PEM bundle (errors: see net/tls.h). */
GH_NODISCARD gh_err gh_tls_load_store(const char *path, X509_STORE **out, char *detail, size_t cap);

/* True if s is a syntactically valid DNS host name (letters, digits, '-',
 * '.', labels of 1..63 characters, at most GH_TLS_HOSTNAME_MAX in total). */
bool gh_tls_hostname_valid(const char *s);

#endif
