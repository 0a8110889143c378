/* Connections: one small interface over plain TCP and TLS (STYLE.md 6).
 *
 * A gh_conn is a byte stream with callbacks. Protocol code reads contiguous
 * input with gh_conn_peek / gh_conn_consume, writes with gh_conn_write, and
 * learns who the peer is from the gh_conn_peer_* functions. It never sees an
 * SSL* or a libevent buffer; the only libevent types in this API are the
 * event_base (and optional evdns_base) the caller runs, and the only OpenSSL
 * types are X509 certificates of the peer.
 *
 * Server connections come from a gh_listener (net/listener.h) once the TLS
 * handshake has completed; client connections from gh_conn_connect.
 *
 * Threading: a connection belongs to the thread running its event_base;
 * every gh_conn_* call must come from that thread.
 *
 * Callbacks are never invoked from inside a gh_conn_* call: they always run
 * from the event loop. on_close is called exactly once for every connection
 * that reached the caller (a client connection from gh_conn_connect, a server
 * connection passed to an accept callback), whatever ended it (the peer, an
 * error, a timeout, gh_conn_close or gh_conn_abort). When on_close returns the
 * connection is freed; the caller must not use the pointer afterwards.
 * on_close reasons:
 *   GH_OK               closed locally (gh_conn_close finished, gh_conn_abort)
 *   GH_ERR_CLOSED       the peer closed the connection
 *   GH_ERR_IO           socket error (connection refused, reset, ...)
 *   GH_ERR_TLS          TLS protocol error (alert from the peer, bad record)
 *   GH_ERR_CERT_VERIFY  client side: the server certificate was rejected
 *                       (untrusted, expired, host name mismatch)
 *   GH_ERR_TIMEOUT      connect, handshake or close-flush deadline passed
 *   GH_ERR_NOT_FOUND    client side: the host name did not resolve
 *   GH_ERR_NOMEM        allocation failed
 * gh_conn_error_detail gives a human-readable reason inside on_close.
 *
 * SIGPIPE: the process must ignore SIGPIPE (OpenSSL writes to sockets with
 * write(2)); the daemon's main does this once at startup.
 */
#ifndef GH_NET_CONN_H
#define GH_NET_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "common/buf.h"
#include "common/error.h"

struct event_base;
struct evdns_base;
struct gh_tls_client;
struct gh_conn;

/* Defaults of the per-connection limits (gh_conn_limits, 0 = default). */
#define GH_CONN_OUT_HIGH_DEFAULT (256u * 1024u)   /* output bytes queued, hard cap */
#define GH_CONN_OUT_LOW_DEFAULT (64u * 1024u)     /* on_drain fires at or below this */
#define GH_CONN_IN_MAX_DEFAULT (256u * 1024u)     /* input buffered before reading stops */
#define GH_CONN_CLOSE_TIMEOUT_MS_DEFAULT 5000u    /* gh_conn_close: flush deadline */
#define GH_CONN_LINGER_MS 2000u                   /* after flush: wait for the peer's FIN */
#define GH_CONN_CONNECT_TIMEOUT_MS_DEFAULT 10000u /* resolve + connect + handshake */
#define GH_CONN_ADDR_MAX 56                       /* "[v6-address]:port" + NUL */

struct gh_conn_limits {
    size_t out_high;           /* gh_conn_write refuses beyond this (GH_ERR_NOBUFS) */
    size_t out_low;            /* must be < out_high */
    size_t in_max;             /* reading pauses while this much input is buffered */
    unsigned close_timeout_ms; /* flush deadline of gh_conn_close */
};

struct gh_conn_callbacks {
    /* Client connections: connected and (for TLS) handshake complete.
     * Unused for server connections (they are handed over open). */
    void (*on_open)(struct gh_conn *c, void *user);
    /* New input is available (gh_conn_input_len > 0). Consume what can be
     * used; the rest stays buffered and is offered again with more input. */
    void (*on_read)(struct gh_conn *c, void *user);
    /* Called once after a gh_conn_write failed with GH_ERR_NOBUFS, when the
     * queued output has fallen to out_low: the caller may resume producing. */
    void (*on_drain)(struct gh_conn *c, void *user);
    /* Exactly once; see the reasons above. The connection is freed after. */
    void (*on_close)(struct gh_conn *c, gh_err reason, void *user);
};

/* Set (or replace) the callbacks and user pointer. cbs is borrowed and must
 * outlive the connection (typically a static const table); on_close must be
 * set. A server connection must get its callbacks inside the accept callback. */
void gh_conn_set_callbacks(struct gh_conn *c, const struct gh_conn_callbacks *cbs, void *user);
void *gh_conn_user(const struct gh_conn *c);

struct gh_conn_connect_params {
    const char *host; /* IPv4/IPv6 literal, or a name resolved through dns */
    uint16_t port;
    struct gh_tls_client *tls; /* NULL only together with plaintext = true */
    bool plaintext;            /* explicit opt-in to a plain TCP connection */
    /* TLS: SNI and the name the server certificate must carry (DNS SAN, or
     * IP SAN for an address literal). NULL: host. */
    const char *server_name;
    /* Asynchronous resolver for host names (libevent evdns; the caller
     * creates it, e.g. evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS)).
     * NULL: host must be an address literal. The first address returned is
     * used. */
    struct evdns_base *dns;
    unsigned timeout_ms; /* resolve + connect + handshake; 0 = default */
    struct gh_conn_limits limits;
};

/* Start a client connection. On GH_OK *out is the new connection, in the
 * connecting state: on_open follows when it is ready, or on_close with the
 * reason it failed. Writes are refused until on_open.
 * Errors (nothing is created, no callback follows):
 *   GH_ERR_ARG    missing host/port/callbacks, tls NULL without plaintext,
 *                 tls with plaintext, a host name without dns, an invalid
 *                 server_name, inconsistent limits
 *   GH_ERR_NOMEM  allocation failed
 *   GH_ERR_TLS    the TLS object could not be set up
 * Socket and connect failures (even immediate ones) come through on_close. */
GH_NODISCARD gh_err gh_conn_connect(struct event_base *base, const struct gh_conn_connect_params *p,
                                    const struct gh_conn_callbacks *cbs, void *user,
                                    struct gh_conn **out);

/* ---- input ------------------------------------------------------------- */

/* Bytes of input buffered. */
size_t gh_conn_input_len(const struct gh_conn *c);
/* Make the first min(max, gh_conn_input_len) input bytes contiguous and
 * borrow them in *out. The slice is valid until the next gh_conn_consume,
 * or until the current callback returns, whichever comes first.
 * GH_ERR_ARG (c or out NULL), GH_ERR_NOMEM (out untouched). */
GH_NODISCARD gh_err gh_conn_peek(struct gh_conn *c, size_t max, struct gh_slice *out);
/* Drop the first n input bytes. GH_ERR_ARG if n > gh_conn_input_len. */
GH_NODISCARD gh_err gh_conn_consume(struct gh_conn *c, size_t n);
/* Stop / restart reading from the peer (on_read is not called while paused).
 * Input already buffered is offered again (on_read) after resume. */
void gh_conn_pause_read(struct gh_conn *c);
void gh_conn_resume_read(struct gh_conn *c);

/* ---- output ------------------------------------------------------------ */

/* Queue len bytes (copied). All or nothing:
 *   GH_ERR_ARG        c NULL, or data NULL with len > 0
 *   GH_ERR_CLOSED     not open (before on_open, or after close/abort/error)
 *   GH_ERR_TOO_LARGE  len > out_high: can never be queued
 *   GH_ERR_NOBUFS     queued + len > out_high: back-pressure; nothing was
 *                     queued, on_drain follows when the queue is at out_low
 *   GH_ERR_NOMEM      allocation failed */
GH_NODISCARD gh_err gh_conn_write(struct gh_conn *c, const void *data, size_t len);
/* As gh_conn_write for the concatenation of n slices, all or nothing, sent
 * as one piece (one TLS record when it fits). GH_ERR_ARG also for v NULL
 * with n > 0 or a slice with a NULL pointer and a non-zero length. */
GH_NODISCARD gh_err gh_conn_writev(struct gh_conn *c, const struct gh_slice *v, size_t n);
/* Bytes queued and not yet handed to the kernel (or to TLS). */
size_t gh_conn_output_len(const struct gh_conn *c);

/* ---- closing ----------------------------------------------------------- */

/* Graceful: stop reading, flush queued output (bounded by close_timeout_ms),
 * send TLS close_notify and FIN, wait briefly for the peer's FIN
 * (GH_CONN_LINGER_MS), then on_close(GH_OK) (GH_ERR_TIMEOUT if the flush
 * did not finish). Before on_open: same as gh_conn_abort. Idempotent. */
void gh_conn_close(struct gh_conn *c);
/* Immediate: drop queued output and stop all I/O now; on_close(GH_OK)
 * follows from the loop. Idempotent; also ends a graceful close early. */
void gh_conn_abort(struct gh_conn *c);
/* Human-readable reason of the failure that closed c ("hostname mismatch",
 * "Connection refused", ...), or NULL. Static storage. */
const char *gh_conn_error_detail(const struct gh_conn *c);

/* ---- peer identity ----------------------------------------------------- */
/* All returned pointers are borrowed and valid until on_close returns. */

/* Peer address: "127.0.0.1:53422" or "[::1]:53422". Never NULL. */
const char *gh_conn_peer_addr(const struct gh_conn *c);
bool gh_conn_is_tls(const struct gh_conn *c);
/* Negotiated protocol ("TLSv1.3"), NULL for plain TCP or before the handshake. */
const char *gh_conn_tls_version(const struct gh_conn *c);
/* Server side: the SNI host name the client asked for (validated as a DNS
 * name; NULL if absent or malformed). Client side: the name sent. */
const char *gh_conn_sni(const struct gh_conn *c);

enum gh_conn_cert_status {
    GH_CONN_CERT_NONE,      /* no certificate presented (or plain TCP) */
    GH_CONN_CERT_TRUSTED,   /* chains to the configured CA bundle */
    GH_CONN_CERT_UNTRUSTED, /* presented, but verification failed: see detail */
};
/* Status of the peer's certificate. For server connections it is verified
 * against the listener's client-CA bundle (without one, no certificate is
 * requested: NONE, unless the server config sets request_client_cert: then
 * a presented certificate is UNTRUSTED and the caller verifies it). Client connections only open with a TRUSTED server.
 * *detail (if detail is not NULL) receives "ok", "no certificate" or
 * OpenSSL's verification error ("self-signed certificate", ...). */
enum gh_conn_cert_status gh_conn_peer_cert_status(const struct gh_conn *c, const char **detail);
/* Leaf certificate of the peer, or NULL. Proof of possession of its key is
 * the handshake itself. */
X509 *gh_conn_peer_cert(const struct gh_conn *c);
/* Certificates the peer sent, or NULL. On a server connection the leaf is
 * NOT included (intermediates only, as sent: use with gh_conn_peer_cert as
 * untrusted chain for X509_verify_cert against a registered CA); on a client
 * connection the leaf is first. */
STACK_OF(X509) * gh_conn_peer_chain(const struct gh_conn *c);
/* DER encoding of the peer's leaf certificate (for SHA-1/SHA-256
 * thumbprints). GH_ERR_NOT_FOUND without certificate; GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_conn_peer_cert_der(struct gh_conn *c, struct gh_slice *out);
/* Subject CN of the peer's leaf certificate as UTF-8, NUL-terminated, into
 * out. GH_ERR_NOT_FOUND: no certificate or no CN; GH_ERR_MALFORMED: more
 * than one CN, an embedded NUL, or not convertible to UTF-8;
 * GH_ERR_NOBUFS: does not fit in cap (out untouched). */
GH_NODISCARD gh_err gh_conn_peer_cn(const struct gh_conn *c, char *out, size_t cap);

#endif
