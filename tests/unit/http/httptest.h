/* Shared helpers for the http unit tests (header-only: each test_*.c is its
 * own executable). Builds on tests/unit/net/nettest.h: the throwaway PKI
 * (hub-chain.pem for hub.gatehouse.test + IP 127.0.0.1 under ca.pem,
 * dev.pem = client CN device-1), bounded loop waits and the raw gh_conn
 * client harness (nt_client). */
#ifndef GH_TEST_HTTPTEST_H
#define GH_TEST_HTTPTEST_H

#include "../net/nettest.h"

#include "common/log.h"
#include "http/client.h"
#include "http/server.h"

#define HT_UNUSED __attribute__((unused))

struct ht_fix {
    struct event_base *base;
    struct gh_tls_server *stls;
    struct gh_tls_client *ctls;
    struct gh_http_server *srv;
    struct gh_http_client *cl;
    struct gh_http_request *held; /* request kept by a handler */
    int requests, cancels;
    void *mode; /* handler-specific */
};

/* Per-program setup: PKI in a temp dir, SIGPIPE ignored. */
HT_UNUSED static int ht_group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    gh_log_set_level(GH_LOG_WARN); /* refusals are logged at info */
    nt_pki_setup();
    return 0;
}

HT_UNUSED static int ht_group_teardown(void **state)
{
    (void)state;
    nt_pki_cleanup();
    return 0;
}

HT_UNUSED static int ht_setup(void **state)
{
    struct ht_fix *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->base = event_base_new();
    assert_non_null(f->base);
    f->stls = nt_hub_tls("ca.pem");
    f->ctls = nt_client_tls("ca.pem", NULL, NULL);
    *state = f;
    return 0;
}

HT_UNUSED static bool ht_no_conns(void *arg)
{
    struct ht_fix *f = arg;
    return f->srv == NULL || gh_http_server_connections(f->srv) == 0;
}

HT_UNUSED static int ht_teardown(void **state)
{
    struct ht_fix *f = *state;
    gh_http_client_free(f->cl);
    if (f->held) {
        gh_http_request_release(f->held);
        f->held = NULL;
    }
    gh_http_server_free(f->srv);
    f->srv = NULL;
    /* let aborted connections finish (bounded) */
    for (int i = 0; i < 200; i++) event_base_loop(f->base, EVLOOP_NONBLOCK);
    gh_tls_server_free(f->stls);
    gh_tls_client_free(f->ctls);
    event_base_free(f->base);
    free(f);
    return 0;
}

/* Start the server on 127.0.0.1:0 over TLS (or plaintext when opts says). */
HT_UNUSED static void ht_server(struct ht_fix *f, const struct gh_http_server_options *opts,
                                gh_http_request_fn fn)
{
    char detail[GH_TLS_DETAIL_MAX] = "";
    bool plain = opts && opts->listener.plaintext;
    gh_err rc = gh_http_server_new(f->base, "127.0.0.1:0", plain ? NULL : f->stls, opts, fn, f,
                                   &f->srv, detail, sizeof detail);
    if (rc != GH_OK) fail_msg("http server: %s: %s", gh_err_name(rc), detail);
}

/* A client for the fixture's server (TLS, server name hub.gatehouse.test). */
HT_UNUSED static struct gh_http_client *ht_client(struct ht_fix *f, struct gh_tls_client *tls)
{
    struct gh_http_client_options o = {
        .host = "127.0.0.1",
        .port = gh_http_server_port(f->srv),
        .server_name = "hub.gatehouse.test",
        .tls = tls ? tls : f->ctls,
    };
    struct gh_http_client *cl = NULL;
    assert_int_equal(gh_http_client_new(f->base, &o, &cl), GH_OK);
    return cl;
}

/* ---- one client request, waited for ----------------------------------- */

struct ht_result {
    bool done;
    gh_err rc;
    struct gh_http_response resp;
};

HT_UNUSED static void ht_done(gh_err rc, struct gh_http_response *resp, void *user)
{
    struct ht_result *r = user;
    r->done = true;
    r->rc = rc;
    if (rc == GH_OK) r->resp = *resp;
}

HT_UNUSED static bool ht_is_done(void *arg)
{
    return ((struct ht_result *)arg)->done;
}

/* Run rq on cl; returns the callback's rc; *r holds the response. */
HT_UNUSED static gh_err ht_call(struct ht_fix *f, struct gh_http_client *cl,
                                const struct gh_http_client_request *rq, struct ht_result *r)
{
    memset(r, 0, sizeof *r);
    gh_err rc = gh_http_client_request(cl, rq, ht_done, r);
    if (rc != GH_OK) return rc;
    if (!gh_test_run_until(f->base, ht_is_done, r, NT_WAIT_MS)) fail_msg("request did not finish");
    return r->rc;
}

/* ---- raw client: exact bytes over TLS --------------------------------- */

/* Connect a raw client that sends text once open. */
HT_UNUSED static void ht_raw(struct ht_fix *f, struct nt_client *k, const char *text)
{
    memset(k, 0, sizeof *k);
    k->send = text;
    nt_connect(k, f->base, gh_http_server_port(f->srv), f->ctls, "hub.gatehouse.test");
}

struct ht_want {
    struct nt_client *k;
    const char *text;
};

HT_UNUSED static bool ht_has_text(void *arg)
{
    struct ht_want *w = arg;
    return strstr(w->k->got, w->text) != NULL || w->k->closed;
}

/* Wait until the raw client got text (or closed); returns whether it has. */
HT_UNUSED static bool ht_raw_wait(struct ht_fix *f, struct nt_client *k, const char *text)
{
    struct ht_want w = {k, text};
    gh_test_run_until(f->base, ht_has_text, &w, NT_WAIT_MS);
    return strstr(k->got, text) != NULL;
}

HT_UNUSED static bool ht_raw_closed(struct ht_fix *f, struct nt_client *k)
{
    return gh_test_run_until(f->base, nt_cli_closed, k, NT_WAIT_MS);
}

/* Number of occurrences of needle in hay. */
HT_UNUSED static int ht_count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

#endif
