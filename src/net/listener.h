/* Listener: accepts TCP connections, runs the TLS handshake, and hands open
 * connections (net/conn.h) to an accept callback.
 *
 * Guards against connection floods (OpenSSH MaxStartups in spirit):
 * - at most max_conns connections of this listener exist at a time (open or
 *   in handshake); at the limit the listener stops accepting, and the kernel
 *   backlog absorbs (then refuses) further attempts until one closes;
 * - at most max_handshakes handshakes run at a time, each bounded by
 *   handshake_timeout_ms, so half-open TLS connections cannot pile up;
 * - at most accept_batch connections are accepted per loop wake-up, so a
 *   flood of SYNs never starves established connections;
 * - when the process is out of file descriptors, accepting pauses for
 *   GH_LISTENER_BACKOFF_MS instead of spinning.
 * Failed handshakes never reach the layer above; they are counted in the
 * statistics and logged at debug level.
 *
 * Threading: a listener belongs to the thread running its event_base. Several
 * listeners (in several threads) may share one gh_tls_server.
 */
#ifndef GH_NET_LISTENER_H
#define GH_NET_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "net/conn.h"

struct event_base;
struct gh_tls_server;
struct gh_listener;

/* Connections the kernel completes and holds while the listener is paused
 * (Linux clamps it to net.core.somaxconn, 4096 by default since 5.4). A
 * reconnect storm larger than the backlog gets SYNs dropped, and the
 * clients retry after 1, 3, 7, 15 s: held, they wait only for a turn. */
#define GH_LISTENER_BACKLOG_DEFAULT 4096
#define GH_LISTENER_MAX_CONNS_DEFAULT 10000u
#define GH_LISTENER_MAX_HANDSHAKES_DEFAULT 256u
#define GH_LISTENER_ACCEPT_BATCH_DEFAULT 32u
#define GH_LISTENER_HANDSHAKE_TIMEOUT_MS_DEFAULT 10000u
#define GH_LISTENER_BACKOFF_MS 100u
#define GH_LISTENER_WARN_INTERVAL_S 10 /* at most one "paused at limit" warning per interval */

/* All numeric fields: 0 = default. */
struct gh_listener_options {
    bool plaintext; /* must be true when no TLS server context is given */
    int backlog;
    unsigned max_conns;
    unsigned max_handshakes;
    unsigned accept_batch;
    unsigned handshake_timeout_ms;
    struct gh_conn_limits limits; /* for every accepted connection */
};

/* Called with a connection whose handshake has completed. The callee must
 * call gh_conn_set_callbacks (or gh_conn_close / gh_conn_abort) before
 * returning; a connection left without callbacks is aborted. It may free the
 * listener. */
typedef void (*gh_listener_accept_fn)(struct gh_listener *l, struct gh_conn *c, void *user);

struct gh_listener_stats {
    uint64_t accepted;           /* TCP connections accepted */
    uint64_t handshakes_ok;      /* handed to the accept callback */
    uint64_t handshakes_failed;  /* TLS error or peer gone during handshake */
    uint64_t handshake_timeouts; /* handshake_timeout_ms passed */
    unsigned active;             /* connections existing now (incl. handshaking) */
    unsigned handshaking;        /* handshakes in progress now */
};

/* Listen on addr ("127.0.0.1:8883", "[::1]:8883", port 0 = ephemeral) with
 * SO_REUSEADDR (and IPV6_V6ONLY for IPv6). tls is borrowed and must outlive
 * the listener; NULL means plain TCP and requires opts->plaintext. opts may
 * be NULL only with tls (defaults).
 * Errors: GH_ERR_ARG (bad address, tls/plaintext mismatch, on_accept NULL,
 * inconsistent limits), GH_ERR_IO (socket/bind/listen failed, e.g. address
 * in use: see detail), GH_ERR_PERM (privileged port), GH_ERR_NOMEM.
 * detail as in net/tls.h. */
GH_NODISCARD gh_err gh_listener_new(struct event_base *base, const char *addr,
                                    struct gh_tls_server *tls,
                                    const struct gh_listener_options *opts,
                                    gh_listener_accept_fn on_accept, void *user,
                                    struct gh_listener **out, char *detail, size_t detail_cap);

/* The bound port (useful after binding port 0). */
uint16_t gh_listener_port(const struct gh_listener *l);
void gh_listener_get_stats(const struct gh_listener *l, struct gh_listener_stats *out);

/* Stop listening and free l. Connections still in handshake are dropped
 * (they never reached the caller); connections already handed over stay
 * open and keep their callbacks. NULL is a no-op. */
void gh_listener_free(struct gh_listener *l);

#endif
