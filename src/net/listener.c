/* Listener: bounded accepting and handshake admission. See listener.h. */
#define _GNU_SOURCE /* accept4 */
#include "net/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/util.h>

#include "common/log.h"
#include "net/conn_internal.h"
#include "net/tls_internal.h"

struct gh_listener {
    struct event_base *base;
    struct gh_tls_server *tls; /* borrowed; NULL for plain TCP */
    struct event *accept_ev;
    struct event *backoff_ev;
    gh_listener_accept_fn on_accept;
    void *user;
    struct gh_conn *conns; /* every connection still linked to us */
    struct gh_listener_options o;
    struct gh_listener_stats st;
    int fd;
    uint16_t port;
    struct timespec last_warn; /* rate limit of the "paused at limit" warning */
    bool accepting;            /* accept_ev is pending */
    bool backoff;              /* out of descriptors: pause until backoff_ev */
    bool freeing;
};

__attribute__((format(printf, 3, 4))) static void detail_set(char *d, size_t cap, const char *fmt,
                                                             ...)
{
    if (!d || cap == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d, cap, fmt, ap);
    va_end(ap);
}

static void update_accepting(struct gh_listener *l)
{
    if (l->freeing) return;
    bool at_limit = l->st.active >= l->o.max_conns || l->st.handshaking >= l->o.max_handshakes;
    bool want = !l->backoff && !at_limit;
    if (want == l->accepting) return;
    if (want) {
        if (event_add(l->accept_ev, NULL) == 0) l->accepting = true;
    } else {
        event_del(l->accept_ev);
        l->accepting = false;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (at_limit && (l->last_warn.tv_sec == 0 ||
                         now.tv_sec - l->last_warn.tv_sec >= GH_LISTENER_WARN_INTERVAL_S)) {
            l->last_warn = now;
            gh_log_warn("net.listener_paused", "port=%u active=%u handshaking=%u",
                        (unsigned)l->port, l->st.active, l->st.handshaking);
        }
    }
}

static void backoff_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct gh_listener *l = arg;
    l->backoff = false;
    update_accepting(l);
}

static void start_backoff(struct gh_listener *l)
{
    struct timeval tv = {0, (suseconds_t)GH_LISTENER_BACKOFF_MS * 1000};
    l->backoff = true;
    update_accepting(l);
    evtimer_add(l->backoff_ev, &tv);
}

static void link_conn(struct gh_listener *l, struct gh_conn *c)
{
    c->listener = l;
    c->lprev = NULL;
    c->lnext = l->conns;
    if (l->conns) l->conns->lprev = c;
    l->conns = c;
    l->st.active++;
    l->st.handshaking++;
}

static void accept_one(struct gh_listener *l, int fd, const struct sockaddr *sa)
{
    struct gh_conn *c = NULL;
    l->st.accepted++;
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (gh_conn_alloc(l->base, &l->o.limits, &c) != GH_OK) {
        close(fd);
        gh_log_warn("net.accept", "port=%u error=\"out of memory\"", (unsigned)l->port);
        return;
    }
    c->fd = fd;
    c->state = CONN_HANDSHAKE;
    gh_conn_format_addr(sa, c->peer);
    link_conn(l, c);
    if (l->tls) {
        if (gh_tls_server_ssl_new(l->tls, &c->ssl) != GH_OK) {
            c->close_reason = GH_ERR_NOMEM;
            gh_conn_destroy(c);
            return;
        }
        c->owns_ssl = true;
    }
    if (gh_conn_attach(c, true) != GH_OK) {
        c->close_reason = GH_ERR_NOMEM;
        gh_conn_destroy(c);
        return;
    }
    if (l->tls) gh_conn_set_deadline(c, l->o.handshake_timeout_ms);
}

static void accept_cb(evutil_socket_t lfd, short what, void *arg)
{
    (void)what;
    struct gh_listener *l = arg;
    for (unsigned i = 0; i < l->o.accept_batch && l->accepting; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            if (e == EAGAIN || e == EWOULDBLOCK) return;
            if (e == EINTR || e == ECONNABORTED || e == EPROTO) continue;
            gh_log_warn("net.accept", "port=%u error=\"%s\"", (unsigned)l->port, strerror(e));
            start_backoff(l); /* EMFILE, ENFILE, ENOBUFS, ENOMEM, ... */
            return;
        }
        accept_one(l, fd, (struct sockaddr *)&ss);
        update_accepting(l);
    }
}

void gh_listener_conn_opened(struct gh_listener *l, struct gh_conn *c)
{
    l->st.handshaking--;
    l->st.handshakes_ok++;
    c->handed_over = true;
    update_accepting(l);
    l->on_accept(l, c, l->user);
}

void gh_listener_conn_gone(struct gh_listener *l, struct gh_conn *c)
{
    if (c->lprev)
        c->lprev->lnext = c->lnext;
    else
        l->conns = c->lnext;
    if (c->lnext) c->lnext->lprev = c->lprev;
    c->lprev = c->lnext = NULL;
    c->listener = NULL;
    l->st.active--;
    if (!c->handed_over) {
        l->st.handshaking--;
        if (!l->freeing) {
            if (c->close_reason == GH_ERR_TIMEOUT)
                l->st.handshake_timeouts++;
            else
                l->st.handshakes_failed++;
            gh_log_debug("net.handshake_failed", "peer=%s reason=%s detail=\"%s\"", c->peer,
                         gh_err_name(c->close_reason), c->detail ? c->detail : "-");
        }
    }
    update_accepting(l);
}

static gh_err resolve_options(const struct gh_listener_options *in, bool tls,
                              struct gh_listener_options *o)
{
    *o = in ? *in : (struct gh_listener_options){0};
    GH_ENSURE(tls != o->plaintext, GH_ERR_ARG);
    if (o->backlog <= 0) o->backlog = GH_LISTENER_BACKLOG_DEFAULT;
    if (!o->max_conns) o->max_conns = GH_LISTENER_MAX_CONNS_DEFAULT;
    if (!o->max_handshakes) o->max_handshakes = GH_LISTENER_MAX_HANDSHAKES_DEFAULT;
    if (!o->accept_batch) o->accept_batch = GH_LISTENER_ACCEPT_BATCH_DEFAULT;
    if (!o->handshake_timeout_ms)
        o->handshake_timeout_ms = GH_LISTENER_HANDSHAKE_TIMEOUT_MS_DEFAULT;
    return gh_conn_limits_resolve(&o->limits, &o->limits);
}

/* "a.b.c.d:port" or "[v6]:port"; the port is required (0 = ephemeral). */
static gh_err parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[INET6_ADDRSTRLEN];
    const char *port;
    size_t hlen;
    GH_ENSURE(addr, GH_ERR_ARG);
    bool v6 = addr[0] == '[';
    if (v6) {
        const char *end = strchr(addr, ']');
        GH_ENSURE(end && end[1] == ':', GH_ERR_ARG);
        hlen = (size_t)(end - addr - 1);
        port = end + 2;
        addr++;
    } else {
        const char *colon = strchr(addr, ':');
        GH_ENSURE(colon && !strchr(colon + 1, ':'), GH_ERR_ARG);
        hlen = (size_t)(colon - addr);
        port = colon + 1;
    }
    GH_ENSURE(hlen > 0 && hlen < sizeof host, GH_ERR_ARG);
    memcpy(host, addr, hlen);
    host[hlen] = 0;
    unsigned long p = 0;
    size_t digits = 0;
    for (; port[digits]; digits++) {
        GH_ENSURE(port[digits] >= '0' && port[digits] <= '9' && digits < 5, GH_ERR_ARG);
        p = p * 10 + (unsigned long)(port[digits] - '0');
    }
    GH_ENSURE(digits > 0 && p <= 65535, GH_ERR_ARG);
    memset(ss, 0, sizeof *ss);
    if (v6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        GH_ENSURE(inet_pton(AF_INET6, host, &in6->sin6_addr) == 1, GH_ERR_ARG);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)p);
        *len = sizeof *in6;
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        GH_ENSURE(inet_pton(AF_INET, host, &in->sin_addr) == 1, GH_ERR_ARG);
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)p);
        *len = sizeof *in;
    }
    return GH_OK;
}

static gh_err open_socket(struct gh_listener *l, const char *addr, char *d, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len;
    gh_err rc = parse_addr(addr, &ss, &len);
    if (rc != GH_OK) {
        detail_set(d, cap, "invalid listen address (want host:port or [v6]:port)");
        return rc;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        detail_set(d, cap, "socket: %s", strerror(errno));
        return GH_ERR_IO;
    }
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ss.ss_family == AF_INET6) (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
        int e = errno;
        detail_set(d, cap, "bind %s: %s", addr, strerror(e));
        close(fd);
        return e == EACCES ? GH_ERR_PERM : GH_ERR_IO;
    }
    if (listen(fd, l->o.backlog) != 0) {
        detail_set(d, cap, "listen %s: %s", addr, strerror(errno));
        close(fd);
        return GH_ERR_IO;
    }
    socklen_t slen = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &slen) == 0)
        l->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                : ((struct sockaddr_in6 *)&ss)->sin6_port);
    l->fd = fd;
    return GH_OK;
}

gh_err gh_listener_new(struct event_base *base, const char *addr, struct gh_tls_server *tls,
                       const struct gh_listener_options *opts, gh_listener_accept_fn on_accept,
                       void *user, struct gh_listener **out, char *detail, size_t detail_cap)
{
    GH_ENSURE(base && addr && on_accept && out, GH_ERR_ARG);
    struct gh_listener *l = calloc(1, sizeof *l);
    GH_ENSURE(l, GH_ERR_NOMEM);
    l->fd = -1;
    l->base = base;
    l->tls = tls;
    l->on_accept = on_accept;
    l->user = user;
    gh_err rc = resolve_options(opts, tls != NULL, &l->o);
    if (rc != GH_OK) {
        detail_set(detail, detail_cap, "TLS context and plaintext flag disagree, or bad limits");
        goto out;
    }
    rc = open_socket(l, addr, detail, detail_cap);
    if (rc != GH_OK) goto out;
    l->accept_ev = event_new(base, l->fd, EV_READ | EV_PERSIST, accept_cb, l);
    l->backoff_ev = evtimer_new(base, backoff_cb, l);
    if (!l->accept_ev || !l->backoff_ev) {
        rc = GH_ERR_NOMEM;
        goto out;
    }
    update_accepting(l);
    if (!l->accepting) {
        rc = GH_ERR_NOMEM;
        goto out;
    }
    *out = l;
    l = NULL;
out:
    gh_listener_free(l);
    return rc;
}

uint16_t gh_listener_port(const struct gh_listener *l)
{
    return l->port;
}

void gh_listener_get_stats(const struct gh_listener *l, struct gh_listener_stats *out)
{
    *out = l->st;
}

void gh_listener_free(struct gh_listener *l)
{
    if (!l) return;
    l->freeing = true;
    struct gh_conn *c = l->conns;
    while (c) {
        struct gh_conn *next = c->lnext;
        if (c->handed_over) {
            c->listener = NULL;
            c->lprev = c->lnext = NULL;
        } else {
            gh_conn_destroy(c); /* never reached the caller: no callbacks */
        }
        c = next;
    }
    if (l->accept_ev) event_free(l->accept_ev);
    if (l->backoff_ev) event_free(l->backoff_ev);
    if (l->fd >= 0) close(l->fd);
    free(l);
}
