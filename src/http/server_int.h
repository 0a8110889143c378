/* Internal to src/http: the server's connection and request objects, shared
 * by server.c (connections, timers, request flow) and request.c (request
 * construction, accessors, response messages). */
#ifndef GH_HTTP_SERVER_INT_H
#define GH_HTTP_SERVER_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "http/http_int.h"
#include "http/parse.h"
#include "http/server.h"
#include "net/tls.h"

struct event;

struct gh_http_server {
    struct event_base *base;
    struct gh_listener *listener;
    struct gh_http_limits limits;
    unsigned head_ms, body_ms, idle_ms;
    gh_http_request_fn on_request;
    void *user;
    struct gh_http_hconn *conns; /* list of open connections */
    size_t nconns;
};

enum hc_phase {
    HC_HEAD,    /* waiting for (the rest of) a request head */
    HC_BODY,    /* head parsed, receiving the body */
    HC_HANDLER, /* request with the handler */
    HC_WRITING, /* response partly queued, waiting for on_drain */
    HC_CLOSING, /* closing: no more requests */
};

struct gh_http_hconn {
    struct gh_http_server *srv; /* NULL once the server is freed */
    struct gh_http_hconn *prev, *next;
    struct gh_conn *conn;
    struct event *timer; /* head / body / idle deadline */
    struct event *kick;  /* deferred processing of buffered input */
    struct gh_http_parser parser;
    struct gh_http_request *cur; /* request being received or with the handler */
    struct gh_http_outq out;
    enum hc_phase phase;
    bool started;     /* the head deadline of the current request is running */
    bool close_after; /* close once the current response is queued */
};

struct gh_http_request {
    struct gh_http_hconn *hc;         /* NULL once the connection has gone */
    struct gh_http_request_head head; /* views into raw */
    uint8_t *raw;                     /* copy of the head, NUL-terminated pieces */
    size_t nseg, nquery;
    const char *seg[GH_HTTP_SEGMENTS_MAX];
    const char *qname[GH_HTTP_QUERY_PARAMS_MAX];
    const char *qvalue[GH_HTTP_QUERY_PARAMS_MAX];
    uint8_t *body; /* body_len + 1 bytes */
    size_t body_have;
    gh_http_cancel_fn on_cancel;
    void *cancel_arg;
    bool dispatched; /* handed to on_request */
    bool cancelled;
    bool is_head; /* HEAD request: answer without body */
    bool has_sni;
    char method[GH_HTTP_METHOD_MAX + 1];
    char peer[GH_CONN_ADDR_MAX];
    char sni[GH_TLS_HOSTNAME_MAX + 1];
};

/* request.c */
/* Build a request from a complete head (in, h: the parse of in) received on
 * hc. On a client error *why says what to answer with 400.
 * Errors: GH_ERR_MALFORMED, GH_ERR_TOO_MANY (answer 400), GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_http_request_new(struct gh_http_hconn *hc, const uint8_t *in,
                                        const struct gh_http_request_head *h,
                                        struct gh_http_request **out, const char **why);
void gh_http_request_free(struct gh_http_request *req);
/* A complete response message (head, and body unless head_only) in a new
 * buffer. Errors: GH_ERR_ARG, GH_ERR_TOO_LARGE, GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_http_response_build(unsigned status, const char *content_type,
                                           const void *body, size_t len,
                                           const struct gh_http_kv *extra, size_t n_extra,
                                           bool close, bool keep_alive_10, bool head_only,
                                           struct gh_http_outq *out);
/* Error response with the JSON error body. */
GH_NODISCARD gh_err gh_http_response_error(unsigned status, const char *why, bool head_only,
                                           struct gh_http_outq *out);

/* server.c */
/* Queue a response built for hc and continue with the next request (or
 * close). Takes ownership of msg's buffer. Errors: those of gh_conn_write
 * (GH_ERR_CLOSED when the connection no longer takes output; the
 * connection is then aborted). */
GH_NODISCARD gh_err gh_http_hconn_send(struct gh_http_hconn *hc, struct gh_http_outq *msg,
                                       bool close);
/* Close hc's connection now (graceful, nothing more is sent). */
void gh_http_hconn_close(struct gh_http_hconn *hc);

#endif
