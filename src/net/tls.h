/* TLS contexts for the transport layer (OpenSSL 3).
 *
 * A gh_tls_server holds everything a listener needs to accept TLS
 * connections: a default certificate chain + key, optional per-host-name
 * entries chosen by SNI, and an optional client-CA bundle. A gh_tls_client
 * holds a trust bundle and an optional client certificate + key. Protocol
 * code never sees these internals: connections are made by net/conn.h.
 *
 * Security defaults (PROTOCOL.md 0.2, DESIGN.md): TLS 1.2 minimum; for TLS
 * 1.2 only ECDHE key exchange with AEAD ciphers (GH_TLS12_CIPHERS), TLS 1.3
 * suites are OpenSSL's defaults; no compression; no renegotiation; idle
 * connections release their record buffers (SSL_MODE_RELEASE_BUFFERS);
 * stateless session tickets (one per handshake) and no server-side session
 * cache, so a closed connection leaves nothing behind.
 *
 * Client certificates on the server: when a client-CA bundle is configured
 * the server REQUESTS a certificate but does not require one, and it never
 * fails a handshake because the certificate does not chain to that bundle.
 * The verification result is recorded and exposed on the connection
 * (gh_conn_peer_cert_status); the layer above decides (SAS devices present
 * no certificate, thumbprint devices present self-signed ones). The
 * CertificateRequest carries an empty CA list so that clients that filter
 * their certificates by issuer (SChannel, Java) still offer self-signed ones.
 *
 * Reload: gh_tls_server_reload builds a complete new set of contexts and
 * swaps it in atomically. New handshakes use the new set; connections that
 * are open or in the middle of a handshake keep the set they started with,
 * which is freed when the last of them goes away.
 *
 * Private keys: the key is loaded into this process. Moving key operations
 * behind a sign-by-key-id interface (STYLE.md 5) is future work; key file
 * contents are wiped from our buffers after parsing.
 *
 * Errors of the constructors: every function below that loads files can
 * return
 *   GH_ERR_ARG           a required field is NULL/empty, or an SNI host name
 *                        is invalid or duplicated
 *   GH_ERR_NOENT         a file does not exist
 *   GH_ERR_PERM          a file cannot be read (permissions)
 *   GH_ERR_IO            any other error reading a file (a directory, ...)
 *   GH_ERR_TOO_LARGE     a file is larger than GH_TLS_FILE_MAX
 *   GH_ERR_TOO_MANY      more certificates or SNI entries than the limits
 *   GH_ERR_MALFORMED     a file is not PEM or holds no certificate / key
 *   GH_ERR_BAD_PASSWORD  the key is encrypted and the password is missing
 *                        or wrong
 *   GH_ERR_KEY_MISMATCH  the private key does not match the leaf certificate
 *   GH_ERR_CRYPTO        OpenSSL refused the certificate or key (e.g. a key
 *                        too weak for the security level)
 *   GH_ERR_TLS           OpenSSL refused the protocol or cipher settings
 *   GH_ERR_NOMEM         allocation failed
 * and, when `detail` is not NULL, write a one-line explanation naming the
 * file into it (always NUL-terminated, truncated to detail_cap; untouched on
 * success). Nothing is logged here; the caller logs the detail.
 */
#ifndef GH_NET_TLS_H
#define GH_NET_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

/* Limits. */
#define GH_TLS_FILE_MAX (1024u * 1024u) /* bytes in one PEM file */
#define GH_TLS_CHAIN_MAX 10             /* certificates in a chain file */
#define GH_TLS_CA_BUNDLE_MAX 1000       /* certificates in a CA bundle */
#define GH_TLS_SNI_MAX 64               /* SNI entries of one server */
#define GH_TLS_HOSTNAME_MAX 253         /* DNS name length */
#define GH_TLS_VERIFY_DEPTH 8           /* max intermediates + 1 when verifying */
#define GH_TLS_SESSION_TICKETS 1        /* TLS 1.3 tickets sent per handshake */
#define GH_TLS_DETAIL_MAX 256           /* suggested size of a detail buffer */

/* TLS 1.2 cipher list: ECDHE key exchange with AEAD only. */
#define GH_TLS12_CIPHERS                                                                           \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                                   \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                                   \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/* A certificate chain and its private key. */
struct gh_tls_identity {
    const char *cert_file;    /* PEM: leaf first, then intermediates (no root needed) */
    const char *key_file;     /* PEM private key (PKCS#8, traditional, encrypted or not) */
    const char *key_password; /* NULL when the key is not encrypted; never logged */
};

/* One SNI entry: a ClientHello naming host_name (ASCII case-insensitive,
 * exact match, no wildcards) gets this identity. */
struct gh_tls_sni_entry {
    const char *host_name;
    struct gh_tls_identity id;
};

struct gh_tls_server_config {
    struct gh_tls_identity default_id;  /* used when SNI is absent or unknown */
    const struct gh_tls_sni_entry *sni; /* may be NULL when sni_count is 0 */
    size_t sni_count;                   /* at most GH_TLS_SNI_MAX */
    const char *client_ca_file;         /* NULL: no client certificate requested... */
    /* ...unless this is set: request a client certificate without a CA
     * bundle; the layer above verifies it itself (the hub checks
     * thumbprints and its registered CAs). The connection's status is then
     * GH_CONN_CERT_UNTRUSTED whenever a certificate was presented. */
    bool request_client_cert;
};

struct gh_tls_client_config {
    const char *ca_file;       /* trust bundle (PEM); NULL: OpenSSL's default paths */
    struct gh_tls_identity id; /* id.cert_file NULL: no client certificate */
};

struct gh_tls_server;
struct gh_tls_client;

/* Build a server context from cfg (which is not retained: strings are
 * copied). On success *out owns the context; free with gh_tls_server_free.
 * Errors: see the list at the top of this file. Thread-safe. */
GH_NODISCARD gh_err gh_tls_server_new(const struct gh_tls_server_config *cfg,
                                      struct gh_tls_server **out, char *detail, size_t detail_cap);

/* Replace the whole configuration of srv (certificates, SNI entries, client
 * CA) with cfg. Either everything is replaced or, on error, nothing is: the
 * old set stays in use. Existing connections are not affected. Safe to call
 * from any thread while other threads accept connections with srv.
 * Errors: see the list at the top of this file. */
GH_NODISCARD gh_err gh_tls_server_reload(struct gh_tls_server *srv,
                                         const struct gh_tls_server_config *cfg, char *detail,
                                         size_t detail_cap);

/* Free srv. Listeners using it must be freed first; connections already
 * accepted may outlive it. NULL is a no-op. */
void gh_tls_server_free(struct gh_tls_server *srv);

/* Build a client context. Identity: cert_file and key_file are both set or
 * both NULL (GH_ERR_ARG otherwise). The context is immutable and may be
 * shared by any number of connections and threads; to change the client
 * certificate, build a new one. Errors: see the list at the top of this file. */
GH_NODISCARD gh_err gh_tls_client_new(const struct gh_tls_client_config *cfg,
                                      struct gh_tls_client **out, char *detail, size_t detail_cap);

/* Free c; connections made with it may outlive it. NULL is a no-op. */
void gh_tls_client_free(struct gh_tls_client *c);

#endif
