/* HTTP/1.1 client over the project's transport (net/conn.h, net/tls.h).
 *
 * A gh_http_client talks to one server (host, port, TLS settings) and runs
 * one request at a time. It connects on the first request and keeps the
 * connection for the next one while the server allows keep-alive; a kept
 * connection that the server closed before answering is replaced once,
 * transparently, for idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS).
 * TLS always verifies the server: the certificate must chain to the trust
 * bundle of the gh_tls_client and carry server_name (or host) in its SAN.
 *
 * Each request has one total timeout covering connect, handshake, sending
 * and receiving. Response bodies may use Content-Length, chunked encoding or
 * end with the connection; at most max_response bytes are accepted. 1xx
 * interim responses are skipped; 101 is refused (GH_ERR_UNSUPPORTED).
 *
 * The request sent carries: the request line, Host (server_name or host,
 * with ":port" unless it is 443 with TLS or 80 without), User-Agent
 * GH_HTTP_USER_AGENT, Content-Type when given, Content-Length whenever there
 * is a body or the method is POST, PUT or PATCH, then the caller's fields.
 *
 * Threading: a client belongs to the thread running its event_base.
 * Callbacks run from the loop, never inside a gh_http_client_* call.
 * gh_http_fetch is a blocking wrapper with a private event_base, safe to call
 * from any thread that has no loop of its own running (the CLI).
 */
#ifndef GH_HTTP_CLIENT_H
#define GH_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "http/parse.h"
#include "net/conn.h"

struct event_base;
struct evdns_base;
struct gh_tls_client;
struct gh_http_client;

#define GH_HTTP_CLIENT_RESPONSE_MAX (16u * 1024u * 1024u) /* default body limit */
#define GH_HTTP_CLIENT_HEAD_MAX (64u * 1024u)             /* response head limit */
#define GH_HTTP_CLIENT_TIMEOUT_MS_DEFAULT 30000u          /* per request, total */
#define GH_HTTP_CLIENT_HEADERS_MAX 32                     /* caller fields per request */
#define GH_HTTP_CLIENT_REQUEST_MAX (64u * 1024u * 1024u)  /* request body bytes */
#define GH_HTTP_USER_AGENT "gatehouse/" GH_VERSION

struct gh_http_client_options {
    const char *host; /* address literal, or a name resolved through dns */
    uint16_t port;
    const char *server_name;   /* SNI, certificate name and Host; NULL: host */
    struct gh_tls_client *tls; /* borrowed; NULL only with plaintext */
    bool plaintext;
    struct evdns_base *dns;       /* needed when host is a name; borrowed */
    size_t max_response;          /* body bytes; 0: GH_HTTP_CLIENT_RESPONSE_MAX */
    struct gh_conn_limits limits; /* 0 fields: defaults */
};

struct gh_http_client_request {
    const char *method;               /* token, e.g. "GET" */
    const char *target;               /* origin-form, already percent-encoded */
    const struct gh_http_kv *headers; /* extra fields (not Host, Content-Length,
                                        Transfer-Encoding, Connection) */
    size_t n_headers;                 /* <= GH_HTTP_CLIENT_HEADERS_MAX */
    const char *content_type;         /* NULL: none */
    const void *body;                 /* copied; NULL when body_len is 0 */
    size_t body_len;
    unsigned timeout_ms; /* 0: GH_HTTP_CLIENT_TIMEOUT_MS_DEFAULT */
};

/* A received response. Owned by whoever holds it (see the callback); free
 * its memory with gh_http_response_cleanup. Field names and values in
 * fields, reason (ptr NULL when the status line has none) and body are
 * NUL-terminated. */
struct gh_http_response {
    unsigned status;
    unsigned minor_version;
    struct gh_slice reason;
    struct gh_http_fields fields;
    uint8_t *body; /* never NULL in a delivered response; body[body_len] == 0 */
    size_t body_len;
    /* private */
    uint8_t *head_buf;
};

/* Value of the first field named name (case-insensitive), or NULL. */
const char *gh_http_response_header(const struct gh_http_response *r, const char *name);
/* Free the response's memory and zero it. Safe on a zeroed struct. */
void gh_http_response_cleanup(struct gh_http_response *r);

/* Completion of a request. rc GH_OK: *resp is the response, and its
 * contents belong to the callee (copy the struct, then call
 * gh_http_response_cleanup when done). Otherwise resp is NULL and rc is one
 * of: GH_ERR_TIMEOUT, GH_ERR_CLOSED (closed before the response was
 * complete), GH_ERR_IO, GH_ERR_TLS, GH_ERR_CERT_VERIFY, GH_ERR_NOT_FOUND
 * (name did not resolve), GH_ERR_MALFORMED / GH_ERR_BAD_PROTOCOL /
 * GH_ERR_UNSUPPORTED / GH_ERR_TOO_MANY (bad response), GH_ERR_TOO_LARGE
 * (head or body above the limits), GH_ERR_NOMEM. The callback may start
 * the next request or free the client. */
typedef void (*gh_http_response_fn)(gh_err rc, struct gh_http_response *resp, void *user);

/* Make a client; nothing is connected yet. opts is copied (strings too).
 * Errors: GH_ERR_ARG (no host or port, tls/plaintext inconsistent,
 * max_response above GH_HTTP_BODY_MAX_LIMIT), GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_http_client_new(struct event_base *base,
                                       const struct gh_http_client_options *opts,
                                       struct gh_http_client **out);

/* Start a request; done is called exactly once, later, unless the client is
 * freed or cancelled first. rq is copied.
 * Errors (done is not called): GH_ERR_ARG (invalid method, target, field
 * name or value, a field the client sets itself, too many fields, done
 * NULL), GH_ERR_TOO_MANY (a request is already running), GH_ERR_TOO_LARGE
 * (request message above GH_HTTP_CLIENT_REQUEST_MAX), GH_ERR_NOMEM, and the synchronous
 * errors of gh_conn_connect (GH_ERR_ARG, GH_ERR_IO, GH_ERR_TLS). */
GH_NODISCARD gh_err gh_http_client_request(struct gh_http_client *cl,
                                           const struct gh_http_client_request *rq,
                                           gh_http_response_fn done, void *user);

/* Abandon the running request (its callback is not called) and drop the
 * connection. No-op when idle. */
void gh_http_client_cancel(struct gh_http_client *cl);

/* Cancel, close and free. NULL is a no-op. Run the loop afterwards so the
 * connection can finish closing before the event_base is freed. */
void gh_http_client_free(struct gh_http_client *cl);

/* Blocking: run one request on a private event_base (and a private
 * resolver when opts->host is not an address literal) until the response
 * is complete or the request's timeout passes. On GH_OK *resp owns the
 * response (gh_http_response_cleanup). *resp is written only on success.
 * Errors: those of gh_http_client_new, gh_http_client_request and the
 * callback above, plus GH_ERR_NOMEM for the event_base. The process must
 * ignore SIGPIPE (see net/conn.h). */
GH_NODISCARD gh_err gh_http_fetch(const struct gh_http_client_options *opts,
                                  const struct gh_http_client_request *rq,
                                  struct gh_http_response *resp);

#endif
