/* Client connections: optional asynchronous resolution (libevent evdns),
 * non-blocking TCP connect, then the TLS handshake in the bufferevent.
 *
 * The TCP connect is watched with a plain event before the bufferevent
 * exists, so a refused or unreachable peer is reported as GH_ERR_IO with the
 * socket's own error instead of as a TLS failure. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "net/conn_internal.h"
#include "net/tls_internal.h"

/* A pending resolution. The connection may go away first: then conn is set
 * to NULL and the (cancelled) callback only frees this record. */
struct gh_conn_dns {
    struct gh_conn *conn;
    struct evdns_getaddrinfo_request *req;
};

void gh_conn_dns_cancel(struct gh_conn *c)
{
    struct gh_conn_dns *d = c->dns;
    if (!d) return;
    c->dns = NULL;
    d->conn = NULL;
    if (d->req) evdns_getaddrinfo_cancel(d->req);
}

static void connect_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct gh_conn *c = arg;
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err) {
        gh_conn_finish(c, GH_ERR_IO, strerror(err));
        return;
    }
    event_free(c->connect_ev);
    c->connect_ev = NULL;
    bool tls = c->ssl != NULL;
    gh_err rc = gh_conn_attach(c, false);
    if (rc != GH_OK) {
        gh_conn_finish(c, rc, "cannot set up connection");
        return;
    }
    if (tls) {
        c->state = CONN_HANDSHAKE; /* CONNECTED event follows the handshake */
        return;
    }
    gh_conn_opened(c);
}

/* Failures are reported through gh_conn_finish by the caller (c->detail). */
static gh_err start_connect(struct gh_conn *c, const struct sockaddr *sa, socklen_t salen)
{
    gh_conn_format_addr(sa, c->peer);
    c->state = CONN_CONNECTING;
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        c->detail = strerror(errno);
        return GH_ERR_IO;
    }
    c->fd = fd;
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, sa, salen) != 0 && errno != EINPROGRESS && errno != EINTR) {
        c->detail = strerror(errno);
        return GH_ERR_IO;
    }
    c->connect_ev = event_new(c->base, fd, EV_WRITE, connect_cb, c);
    if (!c->connect_ev || event_add(c->connect_ev, NULL) != 0) {
        c->detail = "cannot watch socket";
        return GH_ERR_NOMEM;
    }
    return GH_OK;
}

static void dns_cb(int result, struct evutil_addrinfo *ai, void *arg)
{
    struct gh_conn_dns *d = arg;
    struct gh_conn *c = d->conn;
    free(d);
    if (!c) {
        if (ai) evutil_freeaddrinfo(ai);
        return;
    }
    c->dns = NULL;
    if (result != 0 || !ai) {
        if (ai) evutil_freeaddrinfo(ai);
        gh_conn_finish(c, GH_ERR_NOT_FOUND, evutil_gai_strerror(result ? result : EVUTIL_EAI_FAIL));
        return;
    }
    gh_err rc = start_connect(c, ai->ai_addr, (socklen_t)ai->ai_addrlen);
    evutil_freeaddrinfo(ai);
    if (rc != GH_OK) gh_conn_finish(c, rc, c->detail);
}

static bool parse_numeric(const char *host, uint16_t port, struct sockaddr_storage *ss,
                          socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        *len = sizeof *in;
        return true;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        *len = sizeof *in6;
        return true;
    }
    return false;
}

static gh_err start_resolve(struct gh_conn *c, struct evdns_base *dns, const char *host)
{
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)c->port);
    struct evutil_addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = EVUTIL_AI_NUMERICSERV;
    struct gh_conn_dns *d = calloc(1, sizeof *d);
    GH_ENSURE(d, GH_ERR_NOMEM);
    d->conn = c;
    c->dns = d;
    c->state = CONN_RESOLVING;
    /* The callback may run before this returns (hosts file, cache): then it
     * has already freed d and cleared c->dns. */
    struct evdns_getaddrinfo_request *req =
        evdns_getaddrinfo(dns, host, service, &hints, dns_cb, d);
    if (c->dns == d) {
        if (req) {
            d->req = req;
        } else {
            c->dns = NULL;
            free(d);
            gh_conn_finish(c, GH_ERR_NOT_FOUND, "name resolution failed");
        }
    }
    return GH_OK;
}

gh_err gh_conn_connect(struct event_base *base, const struct gh_conn_connect_params *p,
                       const struct gh_conn_callbacks *cbs, void *user, struct gh_conn **out)
{
    struct gh_conn_limits lim;
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    struct gh_conn *c = NULL;
    GH_ENSURE(base && p && cbs && cbs->on_close && out, GH_ERR_ARG);
    GH_ENSURE(p->host && p->port != 0, GH_ERR_ARG);
    GH_ENSURE(p->plaintext == (p->tls == NULL), GH_ERR_ARG);
    GH_GUARD(gh_conn_limits_resolve(&p->limits, &lim));
    bool numeric = parse_numeric(p->host, p->port, &ss, &sslen);
    GH_ENSURE(numeric || (p->dns && gh_tls_hostname_valid(p->host)), GH_ERR_ARG);
    GH_GUARD(gh_conn_alloc(base, &lim, &c));
    c->is_client = true;
    c->handed_over = true;
    c->cbs = cbs;
    c->user = user;
    c->port = p->port;
    snprintf(c->peer, sizeof c->peer, "%.*s:%u", (int)(sizeof c->peer - 7), p->host,
             (unsigned)p->port);
    if (p->tls) {
        gh_err rc =
            gh_tls_client_ssl_new(p->tls, p->server_name ? p->server_name : p->host, &c->ssl);
        if (rc != GH_OK) {
            gh_conn_destroy(c);
            return rc;
        }
        c->owns_ssl = true;
    }
    gh_conn_set_deadline(c, p->timeout_ms ? p->timeout_ms : GH_CONN_CONNECT_TIMEOUT_MS_DEFAULT);
    if (numeric) {
        gh_err rc = start_connect(c, (struct sockaddr *)&ss, sslen);
        if (rc != GH_OK) gh_conn_finish(c, rc, c->detail); /* reported through on_close */
    } else {
        gh_err rc = start_resolve(c, p->dns, p->host);
        if (rc != GH_OK) {
            gh_conn_destroy(c);
            return rc;
        }
    }
    *out = c;
    return GH_OK;
}
