/* HTTP server: listener, per-connection request flow, timeouts. */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "http/server_int.h"

static const char continue_msg[] = "HTTP/1.1 100 Continue\r\n\r\n";

static void arm(struct gh_http_hconn *hc, unsigned ms)
{
    struct timeval tv = {(time_t)(ms / 1000u), (suseconds_t)((ms % 1000u) * 1000u)};
    evtimer_add(hc->timer, &tv);
}

static void disarm(struct gh_http_hconn *hc)
{
    evtimer_del(hc->timer);
}

void gh_http_hconn_close(struct gh_http_hconn *hc)
{
    disarm(hc);
    hc->phase = HC_CLOSING;
    gh_conn_close(hc->conn);
}

static void hconn_abort(struct gh_http_hconn *hc)
{
    disarm(hc);
    hc->phase = HC_CLOSING;
    gh_conn_abort(hc->conn);
}

/* The response is queued in full: next request, or close. */
static void response_done(struct gh_http_hconn *hc)
{
    if (hc->close_after || hc->srv == NULL) {
        gh_http_hconn_close(hc);
        return;
    }
    hc->phase = HC_HEAD;
    hc->started = false;
    gh_http_parser_reset(&hc->parser);
    arm(hc, hc->srv->idle_ms);
    event_active(hc->kick, EV_TIMEOUT, 0); /* pipelined bytes may be waiting */
}

static gh_err pump(struct gh_http_hconn *hc)
{
    bool done = false;
    gh_err rc = gh_http_outq_pump(&hc->out, hc->conn, &done);
    if (rc != GH_OK) {
        gh_http_outq_clear(&hc->out);
        hconn_abort(hc);
        return rc;
    }
    if (done) response_done(hc);
    return GH_OK;
}

gh_err gh_http_hconn_send(struct gh_http_hconn *hc, struct gh_http_outq *msg, bool close)
{
    hc->out = *msg;
    *msg = (struct gh_http_outq){0};
    hc->close_after |= close;
    hc->phase = HC_WRITING;
    /* A client that does not read its response is dropped after idle_ms. */
    arm(hc, hc->srv ? hc->srv->idle_ms : GH_HTTP_IDLE_TIMEOUT_MS_DEFAULT);
    return pump(hc);
}

/* Answer a request we refuse ourselves and close after the answer. */
static void send_error(struct gh_http_hconn *hc, unsigned status, const char *why)
{
    bool head_only = hc->cur != NULL && hc->cur->is_head;
    gh_http_request_free(hc->cur);
    hc->cur = NULL;
    gh_log_info("http.refused", "peer=%s status=%u why=\"%s\"", gh_conn_peer_addr(hc->conn), status,
                why);
    struct gh_http_outq msg = {0};
    if (gh_http_response_error(status, why, head_only, &msg) != GH_OK) {
        hconn_abort(hc);
        return;
    }
    if (gh_http_hconn_send(hc, &msg, true) != GH_OK) return; /* already aborted */
}

/* Returns true when the loop should continue. */
static bool step_head(struct gh_http_hconn *hc)
{
    struct gh_http_server *srv = hc->srv;
    size_t avail = gh_conn_input_len(hc->conn);
    if (avail == 0) return false;
    if (!hc->started) {
        hc->started = true;
        arm(hc, srv->head_ms);
    }
    if (avail > srv->limits.max_head) avail = srv->limits.max_head;
    struct gh_slice in;
    if (gh_conn_peek(hc->conn, avail, &in) != GH_OK) {
        hconn_abort(hc);
        return false;
    }
    enum gh_http_parse_status st;
    struct gh_http_request_head h;
    if (gh_http_parse_request(&hc->parser, in.ptr, in.len, &st, &h) != GH_OK) {
        send_error(hc, gh_http_parser_status(&hc->parser), gh_http_parser_why(&hc->parser));
        return false;
    }
    if (st == GH_HTTP_NEED_MORE) return false;
    const char *why = "bad request-target";
    struct gh_http_request *req = NULL;
    gh_err rc = gh_http_request_new(hc, in.ptr, &h, &req, &why);
    if (rc == GH_ERR_MALFORMED || rc == GH_ERR_TOO_MANY) {
        send_error(hc, 400, why);
        return false;
    }
    if (rc != GH_OK || gh_conn_consume(hc->conn, h.head_len) != GH_OK) {
        gh_http_request_free(req);
        hconn_abort(hc);
        return false;
    }
    hc->cur = req;
    hc->close_after = !h.keep_alive;
    hc->phase = HC_BODY;
    if (h.body_len > 0) {
        arm(hc, srv->body_ms);
        if (h.expect_continue && gh_conn_input_len(hc->conn) < h.body_len) {
            /* Best effort: a client that gets no 100 sends its body after
             * its own wait, so back-pressure (NOBUFS) is not fatal here. */
            rc = gh_conn_write(hc->conn, continue_msg, sizeof continue_msg - 1);
            if (rc != GH_OK && rc != GH_ERR_NOBUFS) {
                hconn_abort(hc);
                return false;
            }
        }
    }
    return true;
}

static bool step_body(struct gh_http_hconn *hc)
{
    struct gh_http_request *req = hc->cur;
    size_t need = req->head.body_len - req->body_have;
    if (need > 0) {
        size_t avail = gh_conn_input_len(hc->conn);
        if (avail == 0) return false;
        size_t n = avail < need ? avail : need;
        struct gh_slice in;
        if (gh_conn_peek(hc->conn, n, &in) != GH_OK || in.len != n) {
            hconn_abort(hc);
            return false;
        }
        memcpy(req->body + req->body_have, in.ptr, n);
        req->body_have += n;
        if (gh_conn_consume(hc->conn, n) != GH_OK) {
            hconn_abort(hc);
            return false;
        }
        if (req->body_have < req->head.body_len) return false;
    }
    disarm(hc);
    hc->phase = HC_HANDLER;
    req->dispatched = true;
    /* The handler may respond (which schedules the next step through kick),
     * release, or keep the request; in every case we stop here. */
    hc->srv->on_request(req, hc->srv->user);
    return false;
}

static void process(struct gh_http_hconn *hc)
{
    for (;;) {
        if (hc->srv == NULL) return;
        bool more;
        switch (hc->phase) {
        case HC_HEAD:
            more = step_head(hc);
            break;
        case HC_BODY:
            more = step_body(hc);
            break;
        default:
            return;
        }
        if (!more) return;
    }
}

static void on_read(struct gh_conn *c, void *user)
{
    process(user);
}

static void on_drain(struct gh_conn *c, void *user)
{
    struct gh_http_hconn *hc = user;
    if (hc->phase == HC_WRITING) (void)pump(hc); /* failure: already aborted */
}

static void unlink_hconn(struct gh_http_hconn *hc)
{
    struct gh_http_server *srv = hc->srv;
    if (srv == NULL) return;
    if (hc->prev)
        hc->prev->next = hc->next;
    else
        srv->conns = hc->next;
    if (hc->next) hc->next->prev = hc->prev;
    srv->nconns--;
    hc->srv = NULL;
}

static void on_close(struct gh_conn *c, gh_err reason, void *user)
{
    struct gh_http_hconn *hc = user;
    struct gh_http_request *req = hc->cur;
    unlink_hconn(hc);
    event_free(hc->timer);
    event_free(hc->kick);
    gh_http_outq_clear(&hc->out);
    free(hc);
    if (req == NULL) return;
    if (!req->dispatched) {
        gh_http_request_free(req);
        return;
    }
    req->hc = NULL;
    req->cancelled = true;
    gh_log_debug("http.cancel", "peer=%s method=%s reason=%s", req->peer, req->method,
                 gh_err_name(reason));
    if (req->on_cancel) req->on_cancel(req, req->cancel_arg); /* may free req */
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct gh_http_hconn *hc = arg;
    switch (hc->phase) {
    case HC_HEAD:
        if (gh_conn_input_len(hc->conn) == 0) {
            gh_http_hconn_close(hc); /* idle keep-alive or silent client */
            return;
        }
        send_error(hc, 408, "request head not received in time");
        return;
    case HC_BODY:
        send_error(hc, 408, "request body not received in time");
        return;
    case HC_WRITING:
        gh_log_info("http.slow_reader", "peer=%s", gh_conn_peer_addr(hc->conn));
        hconn_abort(hc);
        return;
    default:
        return;
    }
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
    process(arg);
}

static const struct gh_conn_callbacks conn_cbs = {
    .on_read = on_read,
    .on_drain = on_drain,
    .on_close = on_close,
};

static void on_accept(struct gh_listener *l, struct gh_conn *c, void *user)
{
    struct gh_http_server *srv = user;
    struct gh_http_hconn *hc = calloc(1, sizeof *hc);
    if (hc == NULL) return; /* left without callbacks: the listener aborts it */
    hc->timer = evtimer_new(srv->base, on_timer, hc);
    hc->kick = event_new(srv->base, -1, 0, on_kick, hc);
    if (hc->timer == NULL || hc->kick == NULL ||
        gh_http_parser_init(&hc->parser, &srv->limits) != GH_OK) {
        if (hc->timer) event_free(hc->timer);
        if (hc->kick) event_free(hc->kick);
        free(hc);
        return;
    }
    hc->srv = srv;
    hc->conn = c;
    hc->next = srv->conns;
    if (srv->conns) srv->conns->prev = hc;
    srv->conns = hc;
    srv->nconns++;
    gh_conn_set_callbacks(c, &conn_cbs, hc);
    /* The first head must arrive within head_ms of the connection's start. */
    hc->phase = HC_HEAD;
    hc->started = true;
    arm(hc, srv->head_ms);
}

static unsigned or_default(unsigned v, unsigned d)
{
    return v ? v : d;
}

gh_err gh_http_server_new(struct event_base *base, const char *addr, struct gh_tls_server *tls,
                          const struct gh_http_server_options *opts, gh_http_request_fn on_request,
                          void *user, struct gh_http_server **out, char *detail, size_t detail_cap)
{
    GH_ENSURE(base != NULL && on_request != NULL && out != NULL, GH_ERR_ARG);
    struct gh_http_server_options o = {0};
    if (opts != NULL) o = *opts;
    struct gh_http_limits def;
    gh_http_limits_default(&def);
    if (o.limits.max_head == 0) o.limits.max_head = def.max_head;
    if (o.limits.max_headers == 0) o.limits.max_headers = def.max_headers;
    if (o.limits.max_body == 0) o.limits.max_body = def.max_body;
    GH_GUARD(gh_http_limits_check(&o.limits));
    size_t in_max = o.listener.limits.in_max ? o.listener.limits.in_max : GH_CONN_IN_MAX_DEFAULT;
    if (in_max < o.limits.max_head) o.listener.limits.in_max = o.limits.max_head;

    struct gh_http_server *srv = calloc(1, sizeof *srv);
    GH_ENSURE(srv != NULL, GH_ERR_NOMEM);
    srv->base = base;
    srv->limits = o.limits;
    srv->head_ms = or_default(o.head_timeout_ms, GH_HTTP_HEAD_TIMEOUT_MS_DEFAULT);
    srv->body_ms = or_default(o.body_timeout_ms, GH_HTTP_BODY_TIMEOUT_MS_DEFAULT);
    srv->idle_ms = or_default(o.idle_timeout_ms, GH_HTTP_IDLE_TIMEOUT_MS_DEFAULT);
    srv->on_request = on_request;
    srv->user = user;
    gh_err rc = gh_listener_new(base, addr, tls, opts ? &o.listener : NULL, on_accept, srv,
                                &srv->listener, detail, detail_cap);
    if (rc != GH_OK) {
        free(srv);
        return rc;
    }
    *out = srv;
    return GH_OK;
}

uint16_t gh_http_server_port(const struct gh_http_server *s)
{
    return gh_listener_port(s->listener);
}

size_t gh_http_server_connections(const struct gh_http_server *s)
{
    return s->nconns;
}

void gh_http_server_free(struct gh_http_server *s)
{
    if (s == NULL) return;
    gh_listener_free(s->listener);
    while (s->conns != NULL) {
        struct gh_http_hconn *hc = s->conns;
        unlink_hconn(hc);
        hconn_abort(hc);
    }
    free(s);
}
