/* HTTP/1.1 server over the project's transport (net/listener.h, net/conn.h).
 *
 * One gh_http_server owns one listener. Each accepted connection carries a
 * sequence of requests, answered strictly in order:
 *  - pipelining: a client may send the next request before the answer to the
 *    previous one; its bytes stay buffered (bounded by the connection's
 *    in_max) and are parsed only after the previous response has been queued
 *    in full. Exactly one request per connection is with the handler at a
 *    time;
 *  - keep-alive: the connection stays open after a response unless the
 *    request asked for "Connection: close" (or was HTTP/1.0 without
 *    "keep-alive"), or the request could not be parsed;
 *  - timeouts (all named, all per connection): head_timeout_ms from the
 *    connection's start (or the first byte of a later request) until its
 *    head is complete (slowloris: answered 408 and closed);
 *    body_timeout_ms from the end of the head until the end of the body
 *    (408 and closed); idle_timeout_ms between requests on a kept-alive
 *    connection and while a response waits for the client to read it
 *    (closed without an answer). While the handler works there is no
 *    timeout: the handler decides (a direct method waits up to 300 s);
 *  - "Expect: 100-continue": "HTTP/1.1 100 Continue" is sent as soon as the
 *    head has been accepted and the body has not arrived yet; a head that
 *    is refused (e.g. 413) gets its final status instead and the connection
 *    closes;
 *  - malformed requests get the status from gh_http_parser_status() with a
 *    JSON body {"Message":"ErrorCode:<Reason>;<why>"} (the shape Node's
 *    service SDK parses, PROTOCOL.md 5.1) and "Connection: close";
 *  - path segments and query parameters are percent-decoded before the
 *    handler sees them (parse.h: '+' stays '+'); one that decodes to NUL,
 *    more than GH_HTTP_SEGMENTS_MAX segments or more than
 *    GH_HTTP_QUERY_PARAMS_MAX parameters is 400;
 *  - concurrent connections are limited by the listener options
 *    (max_conns, max_handshakes);
 *  - a client that closes its side (even a half-close after sending the
 *    request) while its request is with the handler counts as gone: the
 *    request is cancelled (below). Pipelined bytes are not read further
 *    than the connection's in_max while a request is with the handler.
 *
 * Request ownership: the server hands each complete request to on_request.
 * From then on the request belongs to the handler until it calls exactly one
 * of gh_http_respond / gh_http_respond_json / gh_http_request_release, now
 * or later (from the same thread's loop). Those calls free the request: the
 * pointer and every string or slice obtained from it are invalid after they
 * return. If the connection goes away first (client closed, error, server
 * freed), the request's cancel callback runs once (from the loop, never
 * inside a gh_http_* call); the request stays valid, and the handler still
 * ends it with respond (which then returns GH_ERR_CLOSED) or release, inside
 * the cancel callback or later.
 *
 * Threading: a server, its connections and its requests belong to the
 * thread running the event_base; every call must come from that thread.
 */
#ifndef GH_HTTP_SERVER_H
#define GH_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "http/parse.h"
#include "net/conn.h"
#include "net/listener.h"

struct event_base;
struct gh_tls_server;
struct gh_http_server;
struct gh_http_request;

#define GH_HTTP_HEAD_TIMEOUT_MS_DEFAULT 10000u     /* slowloris bound for the head */
#define GH_HTTP_BODY_TIMEOUT_MS_DEFAULT 60000u     /* end of head -> end of body */
#define GH_HTTP_IDLE_TIMEOUT_MS_DEFAULT 120000u    /* keep-alive idle, slow reader */
#define GH_HTTP_RESPONSE_MAX (64u * 1024u * 1024u) /* largest response message */
#define GH_HTTP_SEGMENTS_MAX 16                    /* path segments per request */
#define GH_HTTP_QUERY_PARAMS_MAX 32                /* query parameters per request */
#define GH_HTTP_EXTRA_HEADERS_MAX 16               /* extra fields per response */

/* All numeric fields: 0 = default. */
struct gh_http_server_options {
    struct gh_listener_options listener; /* plaintext, max_conns, ... */
    struct gh_http_limits limits;        /* per field, 0 = default */
    unsigned head_timeout_ms;
    unsigned body_timeout_ms;
    unsigned idle_timeout_ms;
};

/* Called with each complete request; see "Request ownership" above. */
typedef void (*gh_http_request_fn)(struct gh_http_request *req, void *user);
/* Called once when the connection of a request still owned by the handler
 * goes away. */
typedef void (*gh_http_cancel_fn)(struct gh_http_request *req, void *arg);

/* Listen on addr ("127.0.0.1:443", port 0 = ephemeral) with TLS context tls
 * (borrowed, must outlive the server; NULL requires
 * opts->listener.plaintext). opts may be NULL (defaults; then tls is
 * required). The connections' in_max is raised to the head limit if lower.
 * On GH_OK *out owns the server.
 * Errors: GH_ERR_ARG (on_request NULL, invalid limits, and every GH_ERR_ARG
 * of gh_listener_new), GH_ERR_NOMEM, and gh_listener_new's GH_ERR_IO /
 * GH_ERR_PERM with detail. */
GH_NODISCARD gh_err gh_http_server_new(struct event_base *base, const char *addr,
                                       struct gh_tls_server *tls,
                                       const struct gh_http_server_options *opts,
                                       gh_http_request_fn on_request, void *user,
                                       struct gh_http_server **out, char *detail,
                                       size_t detail_cap);

/* The bound port. */
uint16_t gh_http_server_port(const struct gh_http_server *s);
/* Connections open now. */
size_t gh_http_server_connections(const struct gh_http_server *s);

/* Stop listening and abort every connection; requests still owned by
 * handlers get their cancel callback from the loop (run the loop after this
 * until it has nothing left to do, before freeing the event_base). NULL is
 * a no-op. */
void gh_http_server_free(struct gh_http_server *s);

/* ---- the request ------------------------------------------------------- */
/* Every pointer and slice returned below is owned by the request and valid
 * until it is ended (respond / release). Strings are NUL-terminated. */

/* Method token as sent ("GET"; case-sensitive per RFC 9110). */
const char *gh_http_request_method(const struct gh_http_request *req);
/* Raw path (percent-encoded, without the query) and raw query (without '?';
 * len 0 when absent). */
struct gh_slice gh_http_request_path(const struct gh_http_request *req);
struct gh_slice gh_http_request_query_raw(const struct gh_http_request *req);
/* Percent-decoded path segments (gh_http_path_split rules: "/devices/"
 * gives "devices", ""). i >= count gives NULL. */
size_t gh_http_request_segment_count(const struct gh_http_request *req);
const char *gh_http_request_segment(const struct gh_http_request *req, size_t i);
/* Percent-decoded value of the first query parameter whose decoded name
 * equals name (ASCII case-insensitive), or NULL. */
const char *gh_http_request_query(const struct gh_http_request *req, const char *name);
/* Value of the first header field named name (case-insensitive), OWS
 * trimmed, or NULL. */
const char *gh_http_request_header(const struct gh_http_request *req, const char *name);
/* All header fields (names and values also NUL-terminated). */
const struct gh_http_fields *gh_http_request_fields(const struct gh_http_request *req);
/* The body (Content-Length bytes; ptr never NULL, followed by a NUL). */
struct gh_slice gh_http_request_body(const struct gh_http_request *req);
/* Peer address ("127.0.0.1:53422") and SNI name (NULL without one), copied
 * when the request was made: available after a disconnect too. */
const char *gh_http_request_peer_addr(const struct gh_http_request *req);
const char *gh_http_request_sni(const struct gh_http_request *req);
/* The connection, for its peer identity (gh_conn_peer_cert,
 * gh_conn_peer_cert_status, gh_conn_peer_cn, ...). NULL once it has gone
 * away (after which the cancel callback runs or has run). Never write to
 * or close it. */
struct gh_conn *gh_http_request_conn(const struct gh_http_request *req);
/* True once the connection has gone away. */
bool gh_http_request_cancelled(const struct gh_http_request *req);

/* Register the cancel callback (replacing an earlier one). Call it from
 * on_request before going asynchronous; a request whose connection is
 * already gone never calls it (check gh_http_request_cancelled). */
void gh_http_request_set_cancel(struct gh_http_request *req, gh_http_cancel_fn fn, void *arg);

/* Answer and end the request. status 200..599; content_type NULL for none;
 * body (len bytes, copied; may be NULL when len is 0) must be empty for 204
 * and 304. The response carries Date, Content-Length (not for 204 and 304,
 * RFC 9110 8.6), Content-Type when given, "Connection: close" when the
 * connection ends after it, then the extra fields. A HEAD request gets the
 * head only. The request is freed in every case.
 * Errors: GH_ERR_CLOSED (the connection had gone away: nothing sent),
 * GH_ERR_ARG (bad status, body for 204/304, an extra field that is not a
 * token, has a bad value, or is one the server sets: Date, Content-Length,
 * Content-Type, Connection, Transfer-Encoding; more than
 * GH_HTTP_EXTRA_HEADERS_MAX), GH_ERR_TOO_LARGE (response above
 * GH_HTTP_RESPONSE_MAX): for these two the client gets a 500 instead;
 * GH_ERR_NOMEM (the connection is aborted). */
GH_NODISCARD gh_err gh_http_respond(struct gh_http_request *req, unsigned status,
                                    const char *content_type, const void *body, size_t len,
                                    const struct gh_http_kv *extra, size_t n_extra);

/* gh_http_respond with Content-Type GH_HTTP_CONTENT_TYPE_JSON and the
 * NUL-terminated json as body (NULL: empty body). Same errors. */
GH_NODISCARD gh_err gh_http_respond_json(struct gh_http_request *req, unsigned status,
                                         const char *json);

/* End the request without answering it: the connection (if still there) is
 * closed, since HTTP/1.1 cannot skip a response. Frees the request. */
void gh_http_request_release(struct gh_http_request *req);

#endif
