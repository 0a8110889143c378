/* Internal to src/net: the connection object shared by conn.c (I/O and
 * state), conn_peer.c (identity), connect.c (client side) and listener.c
 * (server side). Nothing outside src/net includes this header.
 *
 * Life cycle (state):
 *   client: RESOLVING -> CONNECTING (TCP) -> HANDSHAKE (TLS only) -> OPEN
 *   server: HANDSHAKE (TLS; plain TCP passes through at once) -> OPEN
 *   OPEN -> FLUSHING (gh_conn_close with queued output) -> LINGER -> CLOSED
 *   any  -> CLOSED (error, timeout, abort)
 * CLOSED means "on_close is due": gh_conn_finish activates the timer event,
 * whose callback (from the loop, never re-entrantly) calls on_close and frees
 * the connection.
 *
 * Ownership: before the bufferevent exists the connection owns the socket
 * (fd) and the SSL (owns_ssl); afterwards the bufferevent owns both
 * (BEV_OPT_CLOSE_ON_FREE), so libevent closes the socket only after it has
 * unregistered its events, and ssl stays a borrowed pointer.
 */
#ifndef GH_NET_CONN_INTERNAL_H
#define GH_NET_CONN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "net/conn.h"
#include "net/listener.h"
#include "net/tls.h"

enum conn_state {
    CONN_RESOLVING,
    CONN_CONNECTING,
    CONN_HANDSHAKE,
    CONN_OPEN,
    CONN_FLUSHING,
    CONN_LINGER,
    CONN_CLOSED,
};

struct gh_conn_dns;

struct gh_conn {
    struct event_base *base;
    struct bufferevent *bev;  /* NULL until the socket is connected (client) */
    SSL *ssl;                 /* TLS only; see ownership above */
    struct event *timer;      /* deadline of the current state; deferred on_close */
    struct event *connect_ev; /* client: TCP connect in progress */
    const struct gh_conn_callbacks *cbs;
    void *user;
    struct gh_listener *listener; /* server side, while the listener exists */
    struct gh_conn *lprev, *lnext;
    struct gh_conn_dns *dns; /* client: pending resolution */
    unsigned char *leaf_der; /* lazily encoded peer leaf certificate */
    int leaf_der_len;
    int fd;             /* owned socket before bev exists, else -1 */
    const char *detail; /* static text explaining the failure, or NULL */
    uint32_t out_high, out_low, in_max, close_timeout_ms;
    uint16_t port; /* client: port to connect to after resolution */
    uint8_t state; /* enum conn_state */
    bool is_client;
    bool owns_ssl;
    bool handed_over; /* the caller knows this connection: on_close is due */
    bool want_drain;  /* a write hit out_high: on_drain is due */
    bool read_paused; /* by the caller */
    bool in_full;     /* input reached in_max: reading stopped */
    gh_err close_reason;
    char peer[GH_CONN_ADDR_MAX];
};

/* conn.c */
/* Resolve 0 = default in limits; GH_ERR_ARG if inconsistent. */
GH_NODISCARD gh_err gh_conn_limits_resolve(const struct gh_conn_limits *in,
                                           struct gh_conn_limits *out);
/* Allocate a connection with its timer (state and fields zeroed, fd -1). */
GH_NODISCARD gh_err gh_conn_alloc(struct event_base *base, const struct gh_conn_limits *lim,
                                  struct gh_conn **out);
/* Wrap the connected socket c->fd (and c->ssl when TLS) in a bufferevent;
 * server selects accept vs connect state. Ownership of fd and ssl moves to
 * the bufferevent whether or not this succeeds (GH_ERR_NOMEM). */
GH_NODISCARD gh_err gh_conn_attach(struct gh_conn *c, bool server);
/* Enter CLOSED with reason (first call wins) and schedule on_close. */
void gh_conn_finish(struct gh_conn *c, gh_err reason, const char *detail);
/* Free everything now, without callbacks. */
void gh_conn_destroy(struct gh_conn *c);
/* Handshake complete (or plain socket connected): enter OPEN and hand over. */
void gh_conn_opened(struct gh_conn *c);
/* Format sa as "a.b.c.d:port" / "[v6]:port" into out (GH_CONN_ADDR_MAX). */
void gh_conn_format_addr(const struct sockaddr *sa, char *out);
/* Arm (or re-arm) the state deadline; 0 disarms. */
void gh_conn_set_deadline(struct gh_conn *c, unsigned ms);

/* connect.c */
/* Cancel a pending resolution (no-op without one). */
void gh_conn_dns_cancel(struct gh_conn *c);

/* listener.c */
/* c finished its handshake: update counts and call the accept callback. */
void gh_listener_conn_opened(struct gh_listener *l, struct gh_conn *c);
/* c is being destroyed: unlink it and update counts. */
void gh_listener_conn_gone(struct gh_listener *l, struct gh_conn *c);

#endif
