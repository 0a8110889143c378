/* HTTP client: one request at a time over a kept-alive gh_conn. */
#include "http/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "http/http_int.h"
#include "net/tls.h"

enum cl_phase {
    CL_IDLE,
    CL_HEAD, /* request being sent / waiting for the response head */
    CL_BODY, /* receiving the body */
};

struct gh_http_client {
    struct event_base *base;
    struct gh_http_client_options o; /* host, server_name point at copies below */
    char *host, *server_name;
    struct gh_conn *conn; /* NULL: none */
    bool open;            /* conn finished connecting */
    struct event *timer;  /* total timeout of the running request */
    struct event *kick;   /* start sending on a kept connection, from the loop */
    /* running request */
    enum cl_phase phase;
    gh_http_response_fn done;
    void *user;
    uint8_t *msg; /* the request message, kept for one retry */
    size_t msg_len, sent;
    bool reused, retried, got_bytes, idempotent, head_request;
    struct gh_http_parser parser;
    struct gh_http_chunked chunked;
    enum gh_http_body_kind kind;
    bool keep_alive;
    size_t expect_len; /* GH_HTTP_BODY_LENGTH */
    size_t body_cap;
    struct gh_http_response resp; /* being received */
};

static void on_open(struct gh_conn *c, void *user);
static void on_read(struct gh_conn *c, void *user);
static void on_drain(struct gh_conn *c, void *user);
static void on_close(struct gh_conn *c, gh_err reason, void *user);

static const struct gh_conn_callbacks conn_cbs = {
    .on_open = on_open,
    .on_read = on_read,
    .on_drain = on_drain,
    .on_close = on_close,
};

static void detached_close(struct gh_conn *c, gh_err reason, void *user)
{
}

static const struct gh_conn_callbacks detached_cbs = {.on_close = detached_close};

const char *gh_http_response_header(const struct gh_http_response *r, const char *name)
{
    struct gh_slice v;
    return gh_http_fields_get(&r->fields, name, &v) ? (const char *)v.ptr : NULL;
}

void gh_http_response_cleanup(struct gh_http_response *r)
{
    free(r->body);
    free(r->head_buf);
    memset(r, 0, sizeof *r);
}

/* Let go of the connection: it finishes closing on its own. */
static void drop_conn(struct gh_http_client *cl, bool graceful)
{
    if (cl->conn == NULL) return;
    gh_conn_set_callbacks(cl->conn, &detached_cbs, NULL);
    if (graceful)
        gh_conn_close(cl->conn);
    else
        gh_conn_abort(cl->conn);
    cl->conn = NULL;
    cl->open = false;
}

static void reset_request(struct gh_http_client *cl)
{
    evtimer_del(cl->timer);
    event_del(cl->kick);
    free(cl->msg);
    cl->msg = NULL;
    cl->msg_len = cl->sent = 0;
    gh_http_response_cleanup(&cl->resp);
    cl->phase = CL_IDLE;
    cl->done = NULL;
    cl->user = NULL;
}

/* End the running request with an error. Tail call: cl may be freed by the
 * callback. */
static void fail(struct gh_http_client *cl, gh_err rc)
{
    gh_http_response_fn done = cl->done;
    void *user = cl->user;
    drop_conn(cl, false);
    reset_request(cl);
    done(rc, NULL, user);
}

/* The response is complete. Tail call. */
static void finish(struct gh_http_client *cl)
{
    struct gh_http_response r = cl->resp;
    memset(&cl->resp, 0, sizeof cl->resp);
    r.body[r.body_len] = 0;
    if (!cl->keep_alive || cl->sent < cl->msg_len || !cl->open) drop_conn(cl, true);
    gh_http_response_fn done = cl->done;
    void *user = cl->user;
    reset_request(cl);
    done(GH_OK, &r, user);
}

static void send_more(struct gh_http_client *cl)
{
    while (cl->sent < cl->msg_len) {
        size_t n = cl->msg_len - cl->sent;
        if (n > GH_HTTP_WRITE_CHUNK) n = GH_HTTP_WRITE_CHUNK;
        gh_err rc = gh_conn_write(cl->conn, cl->msg + cl->sent, n);
        if (rc == GH_ERR_NOBUFS) return; /* on_drain resumes */
        if (rc == GH_ERR_CLOSED) return; /* on_close follows and decides (retry) */
        if (rc != GH_OK) {
            fail(cl, rc);
            return;
        }
        cl->sent += n;
    }
}

static gh_err connect_now(struct gh_http_client *cl)
{
    struct gh_conn_connect_params p = {
        .host = cl->host,
        .port = cl->o.port,
        .tls = cl->o.tls,
        .plaintext = cl->o.plaintext,
        .server_name = cl->server_name,
        .dns = cl->o.dns,
        .limits = cl->o.limits,
    };
    cl->reused = false;
    cl->open = false;
    return gh_conn_connect(cl->base, &p, &conn_cbs, cl, &cl->conn);
}

static void on_open(struct gh_conn *c, void *user)
{
    struct gh_http_client *cl = user;
    cl->open = true;
    if (cl->phase == CL_HEAD) send_more(cl);
}

static void on_drain(struct gh_conn *c, void *user)
{
    struct gh_http_client *cl = user;
    if (cl->phase != CL_IDLE) send_more(cl);
}

/* Append body bytes, growing the buffer up to max_response (+1 for NUL).
 * The buffer exists once the head has been taken. */
static gh_err append(struct gh_http_client *cl, const uint8_t *p, size_t n)
{
    struct gh_http_response *r = &cl->resp;
    GH_ENSURE(n <= cl->o.max_response - r->body_len, GH_ERR_TOO_LARGE);
    if (r->body_len + n + 1 > cl->body_cap) {
        size_t cap = cl->body_cap;
        while (cap < r->body_len + n + 1) cap *= 2;
        if (cap > cl->o.max_response + 1) cap = cl->o.max_response + 1;
        uint8_t *b = realloc(r->body, cap);
        GH_ENSURE(b != NULL, GH_ERR_NOMEM);
        r->body = b;
        cl->body_cap = cap;
    }
    if (n > 0) memcpy(r->body + r->body_len, p, n);
    r->body_len += n;
    return GH_OK;
}

/* Keep a copy of the head and point the response's views into it. */
static gh_err take_head(struct gh_http_client *cl, const uint8_t *in,
                        const struct gh_http_response_head *h)
{
    struct gh_http_response *r = &cl->resp;
    r->head_buf = malloc(h->head_len + 1);
    GH_ENSURE(r->head_buf != NULL, GH_ERR_NOMEM);
    memcpy(r->head_buf, in, h->head_len);
    struct gh_http_parser p;
    struct gh_http_response_head copy;
    enum gh_http_parse_status st;
    GH_GUARD(gh_http_parser_init(&p, &cl->parser.limits));
    gh_err rc = gh_http_parse_response(&p, r->head_buf, h->head_len, cl->head_request, &st, &copy);
    GH_ENSURE(rc == GH_OK && st == GH_HTTP_COMPLETE, GH_ERR_INTERNAL);
    for (size_t i = 0; i < copy.fields.count; i++) {
        ((uint8_t *)copy.fields.h[i].name.ptr)[copy.fields.h[i].name.len] = 0;
        ((uint8_t *)copy.fields.h[i].value.ptr)[copy.fields.h[i].value.len] = 0;
    }
    if (copy.reason.ptr != NULL) ((uint8_t *)copy.reason.ptr)[copy.reason.len] = 0;
    r->status = copy.status;
    r->minor_version = copy.minor_version;
    r->reason = copy.reason;
    r->fields = copy.fields;
    cl->kind = copy.body_kind;
    cl->keep_alive = copy.keep_alive;
    cl->expect_len = cl->kind == GH_HTTP_BODY_LENGTH ? copy.body_len : 0;
    size_t cap = cl->kind == GH_HTTP_BODY_LENGTH ? copy.body_len + 1 : 4096;
    if (cap > cl->o.max_response + 1) cap = cl->o.max_response + 1;
    r->body = malloc(cap);
    GH_ENSURE(r->body != NULL, GH_ERR_NOMEM);
    r->body_len = 0;
    cl->body_cap = cap;
    if (cl->kind == GH_HTTP_BODY_CHUNKED)
        gh_http_chunked_init(&cl->chunked, cl->o.max_response, GH_HTTP_CLIENT_HEAD_MAX);
    return GH_OK;
}

/* Returns GH_OK with *again when the head was consumed (the body or the
 * next head follows), GH_OK without when more input is needed. */
static gh_err read_head(struct gh_http_client *cl, bool *again)
{
    *again = false;
    size_t avail = gh_conn_input_len(cl->conn);
    if (avail == 0) return GH_OK;
    cl->got_bytes = true;
    if (avail > GH_HTTP_CLIENT_HEAD_MAX) avail = GH_HTTP_CLIENT_HEAD_MAX;
    struct gh_slice in;
    GH_GUARD(gh_conn_peek(cl->conn, avail, &in));
    enum gh_http_parse_status st;
    struct gh_http_response_head h;
    GH_GUARD(gh_http_parse_response(&cl->parser, in.ptr, in.len, cl->head_request, &st, &h));
    if (st == GH_HTTP_NEED_MORE) return GH_OK;
    GH_ENSURE(h.status != 101, GH_ERR_UNSUPPORTED);
    if (h.status >= 200) {
        GH_GUARD(take_head(cl, in.ptr, &h));
        cl->phase = CL_BODY;
    }
    GH_GUARD(gh_conn_consume(cl->conn, h.head_len));
    gh_http_parser_reset(&cl->parser);
    *again = true;
    return GH_OK;
}

/* *complete when the body is complete. */
static gh_err read_body(struct gh_http_client *cl, bool *complete)
{
    *complete = false;
    if (cl->kind == GH_HTTP_BODY_NONE) {
        *complete = true;
        return GH_OK;
    }
    size_t avail = gh_conn_input_len(cl->conn);
    if (cl->kind == GH_HTTP_BODY_LENGTH) {
        size_t need = cl->expect_len - cl->resp.body_len;
        if (avail > need) avail = need;
    }
    if (avail > 0) {
        struct gh_slice in;
        GH_GUARD(gh_conn_peek(cl->conn, avail, &in));
        size_t used = in.len;
        if (cl->kind == GH_HTTP_BODY_CHUNKED) {
            used = 0;
            while (used < in.len && !*complete) {
                size_t n;
                struct gh_slice run;
                GH_GUARD(gh_http_chunked_feed(&cl->chunked, in.ptr + used, in.len - used, &n, &run,
                                              complete));
                GH_GUARD(append(cl, run.ptr, run.len));
                used += n;
            }
        } else {
            GH_GUARD(append(cl, in.ptr, in.len));
        }
        GH_GUARD(gh_conn_consume(cl->conn, used));
    }
    if (cl->kind == GH_HTTP_BODY_LENGTH) *complete = cl->resp.body_len == cl->expect_len;
    return GH_OK;
}

static void on_read(struct gh_conn *c, void *user)
{
    struct gh_http_client *cl = user;
    if (cl->phase == CL_IDLE) { /* bytes nobody asked for: drop the connection */
        drop_conn(cl, false);
        return;
    }
    gh_err rc = GH_OK;
    bool again = true, complete = false;
    while (rc == GH_OK && again && cl->phase == CL_HEAD) rc = read_head(cl, &again);
    if (rc == GH_OK && cl->phase == CL_BODY) rc = read_body(cl, &complete);
    if (rc != GH_OK)
        fail(cl, rc);
    else if (complete)
        finish(cl);
}

static bool retry_allowed(const struct gh_http_client *cl, gh_err reason)
{
    return cl->phase == CL_HEAD && cl->reused && !cl->retried && !cl->got_bytes && cl->idempotent &&
           (reason == GH_ERR_CLOSED || reason == GH_ERR_IO);
}

static void on_close(struct gh_conn *c, gh_err reason, void *user)
{
    struct gh_http_client *cl = user;
    cl->conn = NULL;
    cl->open = false;
    if (cl->phase == CL_IDLE) return;
    if (cl->phase == CL_BODY && cl->kind == GH_HTTP_BODY_UNTIL_CLOSE && reason == GH_ERR_CLOSED) {
        finish(cl);
        return;
    }
    if (retry_allowed(cl, reason)) {
        /* The server closed a kept connection before it saw the request. */
        cl->retried = true;
        cl->sent = 0;
        gh_http_parser_reset(&cl->parser);
        gh_err rc = connect_now(cl);
        if (rc != GH_OK) fail(cl, rc);
        return;
    }
    fail(cl, reason == GH_OK ? GH_ERR_CLOSED : reason);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    fail(arg, GH_ERR_TIMEOUT);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
    struct gh_http_client *cl = arg;
    if (cl->phase == CL_HEAD && cl->open) send_more(cl);
}

static bool reserved_request_field(const char *n)
{
    static const char *const names[] = {"host", "content-length", "transfer-encoding", "connection",
                                        "content-type"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(n, names[i]) == 0) return true;
    return false;
}

static gh_err check_request(const struct gh_http_client_request *rq, size_t *extra_bytes,
                            bool *own_agent)
{
    GH_ENSURE(rq->method != NULL && rq->target != NULL, GH_ERR_ARG);
    GH_ENSURE(gh_http_is_token(gh_slice_cstr(rq->method)) &&
                  strlen(rq->method) <= GH_HTTP_METHOD_MAX,
              GH_ERR_ARG);
    GH_ENSURE(gh_http_target_ok(gh_slice_cstr(rq->target)), GH_ERR_ARG);
    GH_ENSURE(rq->n_headers <= GH_HTTP_CLIENT_HEADERS_MAX, GH_ERR_ARG);
    GH_ENSURE(rq->n_headers == 0 || rq->headers != NULL, GH_ERR_ARG);
    GH_ENSURE(rq->body_len == 0 || rq->body != NULL, GH_ERR_ARG);
    GH_ENSURE(rq->content_type == NULL || gh_http_value_ok(rq->content_type), GH_ERR_ARG);
    GH_ENSURE(rq->body_len <= GH_HTTP_CLIENT_REQUEST_MAX, GH_ERR_TOO_LARGE);
    size_t total = strlen(rq->target) + (rq->content_type ? strlen(rq->content_type) : 0);
    *own_agent = true;
    for (size_t i = 0; i < rq->n_headers; i++) {
        const struct gh_http_kv *kv = &rq->headers[i];
        GH_ENSURE(kv->name != NULL && kv->value != NULL, GH_ERR_ARG);
        GH_ENSURE(gh_http_is_token(gh_slice_cstr(kv->name)), GH_ERR_ARG);
        GH_ENSURE(!reserved_request_field(kv->name), GH_ERR_ARG);
        GH_ENSURE(gh_http_value_ok(kv->value), GH_ERR_ARG);
        if (strcasecmp(kv->name, "user-agent") == 0) *own_agent = false;
        total += strlen(kv->name) + strlen(kv->value) + 4;
        GH_ENSURE(total <= GH_HTTP_CLIENT_HEAD_MAX, GH_ERR_TOO_LARGE);
    }
    GH_ENSURE(total <= GH_HTTP_CLIENT_HEAD_MAX, GH_ERR_TOO_LARGE);
    *extra_bytes = total;
    return GH_OK;
}

static gh_err put_field(struct gh_writer *w, const char *name, const char *value)
{
    GH_GUARD(gh_writer_cstr(w, name));
    GH_GUARD(gh_writer_cstr(w, ": "));
    GH_GUARD(gh_writer_cstr(w, value));
    return gh_writer_cstr(w, "\r\n");
}

static gh_err write_request(const struct gh_http_client *cl,
                            const struct gh_http_client_request *rq, bool own_agent,
                            struct gh_writer *w)
{
    const char *name = cl->server_name ? cl->server_name : cl->host;
    bool v6 = strchr(name, ':') != NULL;
    bool default_port = cl->o.port == (cl->o.plaintext ? 80 : 443);
    char host[GH_TLS_HOSTNAME_MAX + 16], num[24];
    int n;
    if (default_port)
        n = snprintf(host, sizeof host, "%s%s%s", v6 ? "[" : "", name, v6 ? "]" : "");
    else
        n = snprintf(host, sizeof host, "%s%s%s:%u", v6 ? "[" : "", name, v6 ? "]" : "",
                     (unsigned)cl->o.port);
    GH_ENSURE(n > 0 && (size_t)n < sizeof host, GH_ERR_ARG);
    bool needs_len = rq->body_len > 0 || strcmp(rq->method, "POST") == 0 ||
                     strcmp(rq->method, "PUT") == 0 || strcmp(rq->method, "PATCH") == 0;
    GH_GUARD(gh_writer_cstr(w, rq->method));
    GH_GUARD(gh_writer_cstr(w, " "));
    GH_GUARD(gh_writer_cstr(w, rq->target));
    GH_GUARD(gh_writer_cstr(w, " HTTP/1.1\r\n"));
    GH_GUARD(put_field(w, "Host", host));
    if (own_agent) GH_GUARD(put_field(w, "User-Agent", GH_HTTP_USER_AGENT));
    if (rq->content_type) GH_GUARD(put_field(w, "Content-Type", rq->content_type));
    if (needs_len) {
        snprintf(num, sizeof num, "%zu", rq->body_len);
        GH_GUARD(put_field(w, "Content-Length", num));
    }
    for (size_t i = 0; i < rq->n_headers; i++)
        GH_GUARD(put_field(w, rq->headers[i].name, rq->headers[i].value));
    GH_GUARD(gh_writer_cstr(w, "\r\n"));
    if (rq->body_len > 0) GH_GUARD(gh_writer_bytes(w, rq->body, rq->body_len));
    return GH_OK;
}

static bool idempotent(const char *m)
{
    static const char *const names[] = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(m, names[i]) == 0) return true;
    return false;
}

gh_err gh_http_client_request(struct gh_http_client *cl, const struct gh_http_client_request *rq,
                              gh_http_response_fn done, void *user)
{
    GH_ENSURE(cl != NULL && rq != NULL && done != NULL, GH_ERR_ARG);
    GH_ENSURE(cl->phase == CL_IDLE, GH_ERR_TOO_MANY);
    size_t extra;
    bool own_agent;
    GH_GUARD(check_request(rq, &extra, &own_agent));
    /* request line, Host, User-Agent, Content-Length, punctuation */
    size_t cap = extra + 512 + GH_TLS_HOSTNAME_MAX + rq->body_len;
    uint8_t *msg = malloc(cap);
    GH_ENSURE(msg != NULL, GH_ERR_NOMEM);
    struct gh_writer w;
    gh_writer_init(&w, msg, cap);
    gh_err rc = write_request(cl, rq, own_agent, &w);
    if (rc != GH_OK) {
        free(msg);
        return rc == GH_ERR_NOBUFS ? GH_ERR_INTERNAL : rc;
    }
    if (cl->conn == NULL) {
        rc = connect_now(cl);
        if (rc != GH_OK) {
            free(msg);
            return rc;
        }
    } else {
        cl->reused = true;
    }
    cl->msg = msg;
    cl->msg_len = w.len;
    cl->sent = 0;
    cl->retried = cl->got_bytes = false;
    cl->idempotent = idempotent(rq->method);
    cl->head_request = strcmp(rq->method, "HEAD") == 0;
    cl->done = done;
    cl->user = user;
    cl->phase = CL_HEAD;
    gh_http_parser_reset(&cl->parser);
    unsigned ms = rq->timeout_ms ? rq->timeout_ms : GH_HTTP_CLIENT_TIMEOUT_MS_DEFAULT;
    struct timeval tv = {(time_t)(ms / 1000u), (suseconds_t)((ms % 1000u) * 1000u)};
    evtimer_add(cl->timer, &tv);
    /* Writing starts from the loop: on_open for a new connection, kick for
     * a kept one (so no callback can run inside this call). */
    if (cl->open) event_active(cl->kick, EV_TIMEOUT, 0);
    return GH_OK;
}

static char *dup_or_null(const char *s, bool *ok)
{
    if (s == NULL) return NULL;
    char *d = strdup(s);
    if (d == NULL) *ok = false;
    return d;
}

gh_err gh_http_client_new(struct event_base *base, const struct gh_http_client_options *opts,
                          struct gh_http_client **out)
{
    GH_ENSURE(base != NULL && opts != NULL && out != NULL, GH_ERR_ARG);
    GH_ENSURE(opts->host != NULL && opts->host[0] != '\0' && opts->port != 0, GH_ERR_ARG);
    GH_ENSURE((opts->tls == NULL) == opts->plaintext, GH_ERR_ARG);
    struct gh_http_client *cl = calloc(1, sizeof *cl);
    GH_ENSURE(cl != NULL, GH_ERR_NOMEM);
    bool ok = true;
    cl->base = base;
    cl->o = *opts;
    if (cl->o.max_response == 0) cl->o.max_response = GH_HTTP_CLIENT_RESPONSE_MAX;
    cl->host = dup_or_null(opts->host, &ok);
    cl->server_name = dup_or_null(opts->server_name, &ok);
    cl->o.host = cl->host;
    cl->o.server_name = cl->server_name;
    cl->timer = evtimer_new(base, on_timeout, cl);
    cl->kick = event_new(base, -1, 0, on_kick, cl);
    struct gh_http_limits lim = {GH_HTTP_CLIENT_HEAD_MAX, GH_HTTP_HEADERS_MAX, cl->o.max_response};
    gh_err rc = ok && cl->timer && cl->kick ? GH_OK : GH_ERR_NOMEM;
    if (rc == GH_OK) rc = gh_http_parser_init(&cl->parser, &lim);
    if (rc != GH_OK) {
        if (cl->timer) event_free(cl->timer);
        if (cl->kick) event_free(cl->kick);
        free(cl->host);
        free(cl->server_name);
        free(cl);
        return rc;
    }
    *out = cl;
    return GH_OK;
}

void gh_http_client_cancel(struct gh_http_client *cl)
{
    if (cl == NULL || cl->phase == CL_IDLE) return;
    drop_conn(cl, false);
    reset_request(cl);
}

void gh_http_client_free(struct gh_http_client *cl)
{
    if (cl == NULL) return;
    gh_http_client_cancel(cl);
    drop_conn(cl, false);
    event_free(cl->timer);
    event_free(cl->kick);
    free(cl->host);
    free(cl->server_name);
    free(cl);
}
