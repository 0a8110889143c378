/* Connection core: state machine, bufferevent callbacks, input, output and
 * closing. See conn_internal.h for the life cycle and ownership rules. */
#include "net/conn_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "common/log.h"

static void timer_cb(evutil_socket_t fd, short what, void *arg);

/* ---- setup ---------------------------------------------------------------- */

gh_err gh_conn_limits_resolve(const struct gh_conn_limits *in, struct gh_conn_limits *out)
{
    struct gh_conn_limits l = in ? *in : (struct gh_conn_limits){0};
    if (l.out_high == 0) l.out_high = GH_CONN_OUT_HIGH_DEFAULT;
    if (l.out_low == 0)
        l.out_low =
            l.out_high / 4 < GH_CONN_OUT_LOW_DEFAULT ? l.out_high / 4 : GH_CONN_OUT_LOW_DEFAULT;
    if (l.in_max == 0) l.in_max = GH_CONN_IN_MAX_DEFAULT;
    if (l.close_timeout_ms == 0) l.close_timeout_ms = GH_CONN_CLOSE_TIMEOUT_MS_DEFAULT;
    GH_ENSURE(l.out_high <= UINT32_MAX && l.in_max <= UINT32_MAX, GH_ERR_ARG);
    GH_ENSURE(l.out_low < l.out_high, GH_ERR_ARG);
    *out = l;
    return GH_OK;
}

gh_err gh_conn_alloc(struct event_base *base, const struct gh_conn_limits *lim,
                     struct gh_conn **out)
{
    struct gh_conn *c = calloc(1, sizeof *c);
    if (!c) return GH_ERR_NOMEM;
    c->timer = evtimer_new(base, timer_cb, c);
    if (!c->timer) {
        free(c);
        return GH_ERR_NOMEM;
    }
    c->base = base;
    c->fd = -1;
    c->out_high = (uint32_t)lim->out_high;
    c->out_low = (uint32_t)lim->out_low;
    c->in_max = (uint32_t)lim->in_max;
    c->close_timeout_ms = lim->close_timeout_ms;
    snprintf(c->peer, sizeof c->peer, "-");
    *out = c;
    return GH_OK;
}

void gh_conn_format_addr(const struct sockaddr *sa, char *out)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(out, GH_CONN_ADDR_MAX, "%s:%u", host, (unsigned)ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(out, GH_CONN_ADDR_MAX, "[%s]:%u", host, (unsigned)ntohs(in6->sin6_port));
    } else {
        snprintf(out, GH_CONN_ADDR_MAX, "unknown");
    }
}

void gh_conn_set_deadline(struct gh_conn *c, unsigned ms)
{
    event_del(c->timer);
    if (ms == 0) return;
    struct timeval tv = {(time_t)(ms / 1000u), (suseconds_t)((ms % 1000u) * 1000u)};
    evtimer_add(c->timer, &tv);
}

static struct evbuffer *input(const struct gh_conn *c)
{
    return bufferevent_get_input(c->bev);
}

static struct evbuffer *output(const struct gh_conn *c)
{
    return bufferevent_get_output(c->bev);
}

/* Reading is on while OPEN, not paused by the caller, and below in_max. We
 * enforce in_max ourselves instead of with a libevent read watermark: a
 * watermark can suspend an OpenSSL bufferevent with decrypted bytes still
 * inside the SSL object, which are then not delivered until the socket
 * becomes readable again. Enabling and disabling from our (deferred)
 * callbacks happens only after libevent has drained the SSL object. */
static void update_reading(struct gh_conn *c)
{
    if (c->state != CONN_OPEN || !c->bev) return;
    if (!c->read_paused && !c->in_full)
        bufferevent_enable(c->bev, EV_READ);
    else
        bufferevent_disable(c->bev, EV_READ);
}

static void offer_buffered_input(struct gh_conn *c)
{
    if (c->state == CONN_OPEN && c->bev && !c->read_paused && evbuffer_get_length(input(c)) > 0)
        bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

/* ---- state changes ------------------------------------------------------ */

void gh_conn_finish(struct gh_conn *c, gh_err reason, const char *detail)
{
    if (c->state == CONN_CLOSED) return;
    c->state = CONN_CLOSED;
    c->close_reason = reason;
    if (!c->detail) c->detail = detail;
    if (c->bev) {
        bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
        bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    }
    if (c->connect_ev) event_del(c->connect_ev);
    gh_conn_dns_cancel(c);
    event_del(c->timer);
    event_active(c->timer, EV_TIMEOUT, 1); /* on_close from the loop */
}

void gh_conn_destroy(struct gh_conn *c)
{
    if (c->listener) gh_listener_conn_gone(c->listener, c);
    gh_conn_dns_cancel(c);
    if (c->connect_ev) event_free(c->connect_ev);
    event_free(c->timer);
    if (c->bev) {
        bufferevent_free(c->bev); /* closes the socket and frees the SSL */
    } else {
        if (c->owns_ssl) SSL_free(c->ssl);
        if (c->fd >= 0) close(c->fd);
    }
    OPENSSL_free(c->leaf_der);
    free(c);
}

void gh_conn_opened(struct gh_conn *c)
{
    if (c->state != CONN_HANDSHAKE && c->state != CONN_CONNECTING) return;
    c->state = CONN_OPEN;
    gh_conn_set_deadline(c, 0);
    update_reading(c);
    if (c->is_client) {
        if (c->cbs->on_open) c->cbs->on_open(c, c->user);
    } else if (c->listener) {
        gh_listener_conn_opened(c->listener, c); /* may free the listener */
        if (c->state == CONN_OPEN && (!c->cbs || !c->cbs->on_close)) {
            gh_log_warn("net.accept", "peer=%s error=\"accept callback set no callbacks\"",
                        c->peer);
            gh_conn_finish(c, GH_OK, NULL);
        }
    } else {
        gh_conn_finish(c, GH_ERR_CLOSED, "listener gone");
    }
    offer_buffered_input(c);
}

static void start_linger(struct gh_conn *c)
{
    c->state = CONN_LINGER;
    if (c->ssl) {
        SSL_shutdown(c->ssl); /* close_notify; a full socket buffer just skips it */
        ERR_clear_error();
    }
    int fd = bufferevent_getfd(c->bev);
    if (fd >= 0) shutdown(fd, SHUT_WR);
    bufferevent_enable(c->bev, EV_READ);
    gh_conn_set_deadline(c, GH_CONN_LINGER_MS);
}

/* ---- libevent callbacks ------------------------------------------------- */

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct gh_conn *c = arg;
    switch ((enum conn_state)c->state) {
    case CONN_CLOSED:
        if (c->handed_over && c->cbs && c->cbs->on_close)
            c->cbs->on_close(c, c->close_reason, c->user);
        gh_conn_destroy(c);
        break;
    case CONN_RESOLVING:
    case CONN_CONNECTING:
        gh_conn_finish(c, GH_ERR_TIMEOUT, "connect timed out");
        break;
    case CONN_HANDSHAKE:
        gh_conn_finish(c, GH_ERR_TIMEOUT, "TLS handshake timed out");
        break;
    case CONN_FLUSHING:
        gh_conn_finish(c, GH_ERR_TIMEOUT, "close timed out with output still queued");
        break;
    case CONN_LINGER:
        gh_conn_finish(c, GH_OK, NULL);
        break;
    case CONN_OPEN:
        break;
    }
}

/* Give back OpenSSL's record buffers (about 16 KiB read + 5 KiB write) of
 * an idle TLS connection. SSL_MODE_RELEASE_BUFFERS alone does not: after
 * the last record, libevent calls SSL_read once more, which allocates the
 * read buffer and keeps it while waiting for the peer. SSL_free_buffers
 * refuses (and frees nothing) while a record is partly read or written;
 * the next SSL_read or SSL_write allocates again. Runs from the deferred
 * callbacks, never inside libevent's own SSL calls. */
static void release_tls_buffers(struct gh_conn *c)
{
    if (c->ssl && c->state == CONN_OPEN) (void)SSL_free_buffers(c->ssl);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    struct gh_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    if (c->state == CONN_LINGER) {
        evbuffer_drain(in, evbuffer_get_length(in));
        return;
    }
    if (c->state != CONN_OPEN) return;
    if (!c->read_paused && c->cbs && c->cbs->on_read && evbuffer_get_length(in) > 0)
        c->cbs->on_read(c, c->user);
    if (c->state == CONN_OPEN && !c->in_full && evbuffer_get_length(in) >= c->in_max) {
        c->in_full = true;
        update_reading(c);
    }
    release_tls_buffers(c);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
    struct gh_conn *c = arg;
    size_t queued = evbuffer_get_length(bufferevent_get_output(bev));
    if (c->state == CONN_FLUSHING) {
        if (queued == 0) start_linger(c);
        return;
    }
    if (c->state == CONN_OPEN && c->want_drain && queued <= c->out_low) {
        c->want_drain = false;
        if (c->cbs && c->cbs->on_drain) c->cbs->on_drain(c, c->user);
    }
    if (queued == 0) release_tls_buffers(c);
}

/* Why did the connection end? *detail gets static text. */
static gh_err classify(struct gh_conn *c, short what, int err, const char **detail)
{
    bool handshake = c->state == CONN_HANDSHAKE;
    unsigned long first = 0;
    if (c->ssl) {
        unsigned long e;
        while ((e = bufferevent_get_openssl_error(c->bev)) != 0) first = e; /* oldest last */
        if (c->is_client && handshake) {
            long v = SSL_get_verify_result(c->ssl);
            if (v != X509_V_OK) {
                *detail = X509_verify_cert_error_string(v);
                return GH_ERR_CERT_VERIFY;
            }
        }
    }
    if (what & BEV_EVENT_EOF) {
        *detail =
            handshake ? "connection closed during TLS handshake" : "connection closed by peer";
        return GH_ERR_CLOSED;
    }
    if (first) {
        const char *r = ERR_reason_error_string(first);
        *detail = r ? r : "TLS error";
        return GH_ERR_TLS;
    }
    if (err == 0) {
        socklen_t len = sizeof err;
        int fd = bufferevent_getfd(c->bev);
        if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = 0;
    }
    *detail = err ? strerror(err) : "socket error";
    return GH_ERR_IO;
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct gh_conn *c = arg;
    int err = EVUTIL_SOCKET_ERROR(); /* restored by libevent for deferred callbacks */
    if (what & BEV_EVENT_CONNECTED) {
        gh_conn_opened(c);
        return;
    }
    if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))) return;
    if (c->state == CONN_CLOSED) return;
    if (c->state == CONN_LINGER) {
        gh_conn_finish(c, GH_OK, NULL);
        return;
    }
    const char *detail = NULL;
    gh_err reason = classify(c, what, (what & BEV_EVENT_ERROR) ? err : 0, &detail);
    gh_conn_finish(c, reason, detail);
}

gh_err gh_conn_attach(struct gh_conn *c, bool server)
{
    const int opts = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;
    struct bufferevent *bev;
    int fd = c->fd;
    c->fd = -1;
    if (c->ssl) {
        /* libevent frees the SSL on some of its failure paths and not on
         * others; an extra reference makes every path safe (at worst the SSL
         * leaks when libevent's own first allocation fails). For the same
         * reason the socket is never closed here on failure. */
        SSL_up_ref(c->ssl);
        c->owns_ssl = false;
        bev = bufferevent_openssl_socket_new(
            c->base, fd, c->ssl, server ? BUFFEREVENT_SSL_ACCEPTING : BUFFEREVENT_SSL_CONNECTING,
            opts);
        SSL_free(c->ssl);
        if (!bev) {
            c->ssl = NULL;
            return GH_ERR_NOMEM;
        }
        /* A peer that closes TCP without close_notify is an ordinary close. */
        bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    } else {
        bev = bufferevent_socket_new(c->base, fd, opts);
        if (!bev) {
            close(fd);
            return GH_ERR_NOMEM;
        }
    }
    c->bev = bev;
    bufferevent_setcb(bev, read_cb, write_cb, event_cb, c);
    bufferevent_setwatermark(bev, EV_WRITE, c->out_low, 0);
    if (bufferevent_enable(bev, EV_READ | EV_WRITE) != 0) return GH_ERR_NOMEM;
    if (server && !c->ssl)
        bufferevent_trigger_event(bev, BEV_EVENT_CONNECTED, BEV_TRIG_DEFER_CALLBACKS);
    return GH_OK;
}

/* ---- public API ----------------------------------------------------------- */

void gh_conn_set_callbacks(struct gh_conn *c, const struct gh_conn_callbacks *cbs, void *user)
{
    c->cbs = cbs;
    c->user = user;
}

void *gh_conn_user(const struct gh_conn *c)
{
    return c->user;
}

size_t gh_conn_input_len(const struct gh_conn *c)
{
    return c->bev ? evbuffer_get_length(input(c)) : 0;
}

gh_err gh_conn_peek(struct gh_conn *c, size_t max, struct gh_slice *out)
{
    GH_ENSURE(c && out, GH_ERR_ARG);
    size_t n = gh_conn_input_len(c);
    if (max < n) n = max;
    if (n == 0) {
        *out = GH_SLICE_EMPTY;
        return GH_OK;
    }
    unsigned char *p = evbuffer_pullup(input(c), (ev_ssize_t)n);
    GH_ENSURE(p, GH_ERR_NOMEM);
    *out = (struct gh_slice){p, n};
    return GH_OK;
}

gh_err gh_conn_consume(struct gh_conn *c, size_t n)
{
    GH_ENSURE(c, GH_ERR_ARG);
    size_t len = gh_conn_input_len(c);
    GH_ENSURE(n <= len, GH_ERR_ARG);
    if (n == 0) return GH_OK;
    GH_ENSURE(evbuffer_drain(input(c), n) == 0, GH_ERR_INTERNAL);
    if (c->in_full && len - n < c->in_max) {
        c->in_full = false;
        update_reading(c);
    }
    return GH_OK;
}

void gh_conn_pause_read(struct gh_conn *c)
{
    if (!c || c->read_paused) return;
    c->read_paused = true;
    update_reading(c);
}

void gh_conn_resume_read(struct gh_conn *c)
{
    if (!c || !c->read_paused) return;
    c->read_paused = false;
    update_reading(c);
    offer_buffered_input(c);
}

gh_err gh_conn_writev(struct gh_conn *c, const struct gh_slice *v, size_t n)
{
    GH_ENSURE(c && (v || n == 0), GH_ERR_ARG);
    GH_ENSURE(c->state == CONN_OPEN && c->bev, GH_ERR_CLOSED);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        GH_ENSURE(v[i].ptr || v[i].len == 0, GH_ERR_ARG);
        GH_ENSURE(v[i].len <= c->out_high - total, GH_ERR_TOO_LARGE);
        total += v[i].len;
    }
    if (total == 0) return GH_OK;
    struct evbuffer *out = output(c);
    size_t queued = evbuffer_get_length(out);
    if (queued >= c->out_high || total > c->out_high - queued) {
        c->want_drain = true;
        return GH_ERR_NOBUFS;
    }
    if (n == 1) return evbuffer_add(out, v[0].ptr, total) == 0 ? GH_OK : GH_ERR_NOMEM;
    /* One contiguous reservation: all or nothing, and a single TLS record
     * instead of one per slice. */
    struct evbuffer_iovec vec;
    if (evbuffer_reserve_space(out, (ev_ssize_t)total, &vec, 1) != 1) return GH_ERR_NOMEM;
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].len) memcpy((unsigned char *)vec.iov_base + off, v[i].ptr, v[i].len);
        off += v[i].len;
    }
    vec.iov_len = total;
    return evbuffer_commit_space(out, &vec, 1) == 0 ? GH_OK : GH_ERR_NOMEM;
}

gh_err gh_conn_write(struct gh_conn *c, const void *data, size_t len)
{
    struct gh_slice s = {data, len};
    return gh_conn_writev(c, &s, 1);
}

size_t gh_conn_output_len(const struct gh_conn *c)
{
    return c->bev ? evbuffer_get_length(output(c)) : 0;
}

void gh_conn_close(struct gh_conn *c)
{
    if (!c) return;
    switch ((enum conn_state)c->state) {
    case CONN_OPEN:
        break;
    case CONN_FLUSHING:
    case CONN_LINGER:
    case CONN_CLOSED:
        return;
    case CONN_RESOLVING:
    case CONN_CONNECTING:
    case CONN_HANDSHAKE:
        gh_conn_finish(c, GH_OK, NULL);
        return;
    }
    bufferevent_disable(c->bev, EV_READ);
    if (evbuffer_get_length(output(c)) == 0) {
        start_linger(c);
        return;
    }
    c->state = CONN_FLUSHING;
    bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    gh_conn_set_deadline(c, c->close_timeout_ms);
}

void gh_conn_abort(struct gh_conn *c)
{
    if (c && c->state != CONN_CLOSED) gh_conn_finish(c, GH_OK, NULL);
}

const char *gh_conn_error_detail(const struct gh_conn *c)
{
    return c->detail;
}
