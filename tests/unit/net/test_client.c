/* Client side of connections: refused and timed-out connects, argument
 * checks, and name resolution through libevent's evdns (a hosts file and a
 * tiny NXDOMAIN server on 127.0.0.1, so no system file or real DNS is used). */
#include "nettest.h"

#include <event2/dns.h>
#include <netinet/in.h>
#include <sys/socket.h>

static void test_connect_refused(void **state)
{
    struct nt_fix *f = *state;
    /* a port that surely has no listener: bound, never listened on */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t len = sizeof sa;
    assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &len), 0);
    f->cli_tls = nt_client_tls("ca.pem", NULL, NULL);
    struct nt_client k = {0};
    nt_connect(&k, f->base, ntohs(sa.sin_port), f->cli_tls, "hub.gatehouse.test");
    assert_true(gh_test_run_until(f->base, nt_cli_closed, &k, NT_WAIT_MS));
    close(s);
    assert_false(k.opened);
    assert_int_equal(k.reason, GH_ERR_IO);
    assert_string_equal(k.detail, "Connection refused");
}

static void test_client_connect_timeout(void **state)
{
    struct nt_fix *f = *state;
    /* a plain listener: TCP completes, the TLS server hello never comes */
    struct gh_listener_options o = {.plaintext = true};
    nt_server_start(&f->srv, f->base, NULL, &o);
    f->srv.echo = false;
    f->cli_tls = nt_client_tls("ca.pem", NULL, NULL);
    struct nt_client k = {0};
    struct gh_conn_connect_params p = {
        .host = "127.0.0.1",
        .port = gh_listener_port(f->srv.l),
        .tls = f->cli_tls,
        .server_name = "hub.gatehouse.test",
        .timeout_ms = 200,
    };
    assert_int_equal(gh_conn_connect(f->base, &p, &nt_cli_cbs, &k, &k.c), GH_OK);
    assert_true(gh_test_run_until(f->base, nt_cli_closed, &k, NT_WAIT_MS));
    assert_int_equal(k.reason, GH_ERR_TIMEOUT);
    assert_string_equal(k.detail, "TLS handshake timed out");
}

static void test_connect_args(void **state)
{
    struct nt_fix *f = *state;
    f->cli_tls = nt_client_tls("ca.pem", NULL, NULL);
    struct nt_client k = {0};
    struct gh_conn *c = NULL;
    struct gh_conn_connect_params p = {
        .host = "127.0.0.1", .port = 8883, .tls = f->cli_tls, .server_name = "bad name!"};
    assert_int_equal(gh_conn_connect(f->base, &p, &nt_cli_cbs, &k, &c), GH_ERR_ARG);
    p.server_name = NULL;
    p.host = "hub.gatehouse.test"; /* a name, but no resolver */
    assert_int_equal(gh_conn_connect(f->base, &p, &nt_cli_cbs, &k, &c), GH_ERR_ARG);
    p.host = NULL;
    assert_int_equal(gh_conn_connect(f->base, &p, &nt_cli_cbs, &k, &c), GH_ERR_ARG);
    p.host = "127.0.0.1";
    p.port = 0;
    assert_int_equal(gh_conn_connect(f->base, &p, &nt_cli_cbs, &k, &c), GH_ERR_ARG);
    p.port = 8883;
    p.plaintext = true; /* with tls */
    assert_int_equal(gh_conn_connect(f->base, &p, &nt_cli_cbs, &k, &c), GH_ERR_ARG);
    p.plaintext = false;
    struct gh_conn_callbacks no_close = {.on_open = nt_cli_cbs.on_open};
    assert_int_equal(gh_conn_connect(f->base, &p, &no_close, &k, &c), GH_ERR_ARG);
    assert_null(c);
}

/* A DNS server on 127.0.0.1 that answers every query with NXDOMAIN. */
static void nxdomain_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what, (void)arg;
    unsigned char q[512];
    struct sockaddr_storage from;
    socklen_t flen = sizeof from;
    ssize_t n = recvfrom(fd, q, sizeof q, 0, (struct sockaddr *)&from, &flen);
    if (n < 12) return;
    size_t end = 12; /* skip QNAME, then QTYPE + QCLASS */
    while (end < (size_t)n && q[end] != 0) end += (size_t)q[end] + 1;
    end += 5;
    if (end > (size_t)n) return;
    q[2] = (unsigned char)(0x80 | (q[2] & 0x01)); /* QR, keep RD */
    q[3] = 0x83;                                  /* RA, NXDOMAIN */
    memset(q + 6, 0, 6);                          /* no answers, authority, additional */
    (void)sendto(fd, q, end, 0, (struct sockaddr *)&from, flen);
}

static void test_dns_resolution(void **state)
{
    struct nt_fix *f = *state;
    nt_server_start(&f->srv, f->base, nt_hub_tls(NULL), NULL);
    f->cli_tls = nt_client_tls("ca.pem", NULL, NULL);
    nt_write_file("hosts", "127.0.0.1 hub.gatehouse.test\n");
    int udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(udp, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t slen = sizeof sa;
    assert_int_equal(getsockname(udp, (struct sockaddr *)&sa, &slen), 0);
    struct event *udp_ev = event_new(f->base, udp, EV_READ | EV_PERSIST, nxdomain_cb, NULL);
    assert_int_equal(event_add(udp_ev, NULL), 0);
    char ns[32];
    snprintf(ns, sizeof ns, "127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
    struct evdns_base *dns = evdns_base_new(f->base, 0);
    assert_non_null(dns);
    assert_int_equal(evdns_base_load_hosts(dns, nt_file("hosts")), 0);
    assert_int_equal(evdns_base_nameserver_ip_add(dns, ns), 0);
    struct nt_client k = {0};
    k.send = "resolved";
    struct gh_conn_connect_params p = {
        .host = "hub.gatehouse.test",
        .port = gh_listener_port(f->srv.l),
        .tls = f->cli_tls,
        .dns = dns,
    };
    assert_int_equal(gh_conn_connect(f->base, &p, &nt_cli_cbs, &k, &k.c), GH_OK);
    struct nt_expect e = {&k, "resolved"};
    assert_true(gh_test_run_until(f->base, nt_cli_got, &e, NT_WAIT_MS));
    assert_string_equal(k.got, "resolved");
    assert_string_equal(f->srv.sni, "hub.gatehouse.test");
    assert_non_null(strstr(gh_conn_peer_addr(k.c), "127.0.0.1:"));
    nt_close_client(f, &k);
    /* a name that does not exist */
    struct nt_client u = {0};
    p.host = "nowhere.gatehouse.test";
    assert_int_equal(gh_conn_connect(f->base, &p, &nt_cli_cbs, &u, &u.c), GH_OK);
    assert_true(gh_test_run_until(f->base, nt_cli_closed, &u, NT_WAIT_MS));
    assert_int_equal(u.reason, GH_ERR_NOT_FOUND);
    assert_true(strlen(u.detail) > 0);
    /* abort while resolving: on_close(GH_OK), later, once */
    struct nt_client w = {0};
    assert_int_equal(gh_conn_connect(f->base, &p, &nt_cli_cbs, &w, &w.c), GH_OK);
    gh_conn_abort(w.c);
    assert_false(w.closed);
    assert_true(gh_test_run_until(f->base, nt_cli_closed, &w, NT_WAIT_MS));
    assert_int_equal(w.reason, GH_OK);
    /* a resolver that never answers: the connect deadline ends it */
    event_del(udp_ev);
    struct nt_client t = {0};
    p.timeout_ms = 200;
    assert_int_equal(gh_conn_connect(f->base, &p, &nt_cli_cbs, &t, &t.c), GH_OK);
    assert_true(gh_test_run_until(f->base, nt_cli_closed, &t, NT_WAIT_MS));
    assert_int_equal(t.reason, GH_ERR_TIMEOUT);
    assert_string_equal(t.detail, "connect timed out");
    evdns_base_free(dns, 1);
    event_free(udp_ev);
    close(udp);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, nt_fix_setup, nt_fix_teardown)
    const struct CMUnitTest tests[] = {
        T(test_connect_refused),
        T(test_client_connect_timeout),
        T(test_connect_args),
        T(test_dns_resolution),
    };
    return cmocka_run_group_tests(tests, nt_group_setup, nt_group_teardown);
}
