/* Blocking HTTP request on a private event loop (for the CLI). */
#include <arpa/inet.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "http/client.h"

struct fetch_state {
    bool done;
    gh_err rc;
    struct gh_http_response resp;
};

static void on_done(gh_err rc, struct gh_http_response *resp, void *user)
{
    struct fetch_state *st = user;
    st->done = true;
    st->rc = rc;
    if (rc == GH_OK) st->resp = *resp;
}

static bool is_literal(const char *host)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

gh_err gh_http_fetch(const struct gh_http_client_options *opts,
                     const struct gh_http_client_request *rq, struct gh_http_response *resp)
{
    GH_ENSURE(opts != NULL && opts->host != NULL && rq != NULL && resp != NULL, GH_ERR_ARG);
    struct fetch_state st = {.done = false, .rc = GH_ERR_INTERNAL};
    struct gh_http_client *cl = NULL;
    struct evdns_base *dns = NULL;
    struct event_base *base = event_base_new();
    GH_ENSURE(base != NULL, GH_ERR_NOMEM);
    struct gh_http_client_options o = *opts;
    gh_err rc = GH_OK;
    if (o.dns == NULL && !is_literal(o.host)) {
        dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
        if (dns == NULL) {
            rc = GH_ERR_NOMEM;
            goto out;
        }
        o.dns = dns;
    }
    rc = gh_http_client_new(base, &o, &cl);
    if (rc != GH_OK) goto out;
    rc = gh_http_client_request(cl, rq, on_done, &st);
    if (rc != GH_OK) goto out;
    /* The request's own timer bounds this loop. */
    while (!st.done) {
        if (event_base_loop(base, EVLOOP_ONCE) != 0) break;
    }
    rc = st.done ? st.rc : GH_ERR_INTERNAL;
out:
    gh_http_client_free(cl);
    if (dns != NULL) evdns_base_free(dns, 1);
    event_base_dispatch(base); /* let the dropped connection finish */
    event_base_free(base);
    if (rc == GH_OK) *resp = st.resp;
    return rc;
}
