/* Connections over real TLS on 127.0.0.1: echo, client certificates, SNI,
 * host name verification, reload, server-side limits and timeouts.
 * Client-side connecting is in test_client.c, back-pressure and closing in
 * test_flow.c. */
#include "nettest.h"

#include <netinet/in.h>
#include <sys/socket.h>

static void test_tls_echo(void **state)
{
    struct nt_fix *f = *state;
    nt_server_start(&f->srv, f->base, nt_hub_tls(NULL), NULL);
    f->cli_tls = nt_client_tls("ca.pem", NULL, NULL);
    struct nt_client k;
    nt_echo_once(f, &k, "hub.gatehouse.test", f->cli_tls, "hello gatehouse");
    /* server side view */
    assert_int_equal(f->srv.accepted, 1);
    assert_true(f->srv.is_tls);
    assert_string_equal(f->srv.sni, "hub.gatehouse.test");
    assert_string_equal(f->srv.version, "TLSv1.3");
    assert_int_equal(f->srv.cert, GH_CONN_CERT_NONE);
    assert_string_equal(f->srv.cert_detail, "no certificate");
    assert_int_equal(f->srv.cn_rc, GH_ERR_NOT_FOUND);
    assert_non_null(strstr(gh_conn_peer_addr(f->srv.last), "127.0.0.1:"));
    struct gh_slice der;
    assert_int_equal(gh_conn_peer_cert_der(f->srv.last, &der), GH_ERR_NOT_FOUND);
    assert_null(gh_conn_peer_cert(f->srv.last));
    /* client side view: the server sent leaf + intermediate */
    assert_int_equal(k.peer_status, GH_CONN_CERT_TRUSTED);
    assert_int_equal(k.chain_len, 2);
    unsigned char *want = NULL;
    int n = nt_cert_der("hub.pem", &want);
    assert_int_equal(k.peer_der_len, (size_t)n);
    assert_memory_equal(k.peer_der, want, (size_t)n);
    OPENSSL_free(want);
    /* client closes: the server sees the peer close */
    nt_close_client(f, &k);
    assert_true(gh_test_run_until(f->base, nt_server_closed_one, &f->srv, NT_WAIT_MS));
    assert_int_equal(f->srv.last_reason, GH_ERR_CLOSED);
}

static void test_ip_san(void **state)
{
    struct nt_fix *f = *state;
    nt_server_start(&f->srv, f->base, nt_hub_tls(NULL), NULL);
    f->cli_tls = nt_client_tls("ca.pem", NULL, NULL);
    struct nt_client k;
    /* no server_name: verify 127.0.0.1 against the IP SAN, and send no SNI */
    nt_echo_once(f, &k, NULL, f->cli_tls, "by address");
    assert_string_equal(f->srv.sni, "");
    nt_close_client(f, &k);
}

static void test_client_cert_trusted(void **state)
{
    struct nt_fix *f = *state;
    nt_server_start(&f->srv, f->base, nt_hub_tls("ca.pem"), NULL);
    f->cli_tls = nt_client_tls("ca.pem", "dev.pem", "dev.key");
    struct nt_client k;
    nt_echo_once(f, &k, "hub.gatehouse.test", f->cli_tls, "x509 device");
    assert_int_equal(f->srv.cert, GH_CONN_CERT_TRUSTED);
    assert_string_equal(f->srv.cert_detail, "ok");
    assert_int_equal(f->srv.cn_rc, GH_OK);
    assert_string_equal(f->srv.cn, "device-1");
    struct gh_slice der;
    assert_int_equal(gh_conn_peer_cert_der(f->srv.last, &der), GH_OK);
    unsigned char *want = NULL;
    int n = nt_cert_der("dev.pem", &want);
    assert_int_equal(der.len, (size_t)n);
    assert_memory_equal(der.ptr, want, (size_t)n);
    OPENSSL_free(want);
    /* cached: same pointer the second time */
    struct gh_slice der2;
    assert_int_equal(gh_conn_peer_cert_der(f->srv.last, &der2), GH_OK);
    assert_ptr_equal(der.ptr, der2.ptr);
    /* server-side chain excludes the leaf; the device sent only its leaf */
    STACK_OF(X509) *chain = gh_conn_peer_chain(f->srv.last);
    assert_true(chain == NULL || sk_X509_num(chain) == 0);
    /* CN buffer too small: NOBUFS, output untouched */
    char small[8] = "keep";
    assert_int_equal(gh_conn_peer_cn(f->srv.last, small, sizeof small), GH_ERR_NOBUFS);
    assert_string_equal(small, "keep");
    nt_close_client(f, &k);
}

static void untrusted_case(struct nt_fix *f, const char *cert, const char *key, const char *why,
                           const char *cn)
{
    nt_server_start(&f->srv, f->base, nt_hub_tls("ca.pem"), NULL);
    f->cli_tls = nt_client_tls("ca.pem", cert, key);
    struct nt_client k;
    nt_echo_once(f, &k, "hub.gatehouse.test", f->cli_tls, "still connects");
    assert_int_equal(f->srv.cert, GH_CONN_CERT_UNTRUSTED);
    if (!strstr(f->srv.cert_detail, why)) fail_msg("detail: %s", f->srv.cert_detail);
    assert_int_equal(f->srv.cn_rc, GH_OK);
    assert_string_equal(f->srv.cn, cn);
    struct gh_slice der;
    assert_int_equal(gh_conn_peer_cert_der(f->srv.last, &der), GH_OK);
    assert_true(der.len > 0);
    nt_close_client(f, &k);
}

static void test_client_cert_self_signed(void **state)
{
    untrusted_case(*state, "self.pem", "self.key", "self-signed", "thumb-dev");
}

static void test_client_cert_other_ca(void **state)
{
    /* the leaf's issuer is unknown, so its signature cannot be checked */
    untrusted_case(*state, "rogue-dev.pem", "rogue-dev.key",
                   "unable to verify the first certificate", "device-1");
}

static void test_client_cert_absent(void **state)
{
    struct nt_fix *f = *state;
    nt_server_start(&f->srv, f->base, nt_hub_tls("ca.pem"), NULL);
    f->cli_tls = nt_client_tls("ca.pem", NULL, NULL);
    struct nt_client k;
    nt_echo_once(f, &k, "hub.gatehouse.test", f->cli_tls, "sas device");
    assert_int_equal(f->srv.cert, GH_CONN_CERT_NONE);
    assert_int_equal(f->srv.cn_rc, GH_ERR_NOT_FOUND);
    nt_close_client(f, &k);
}

static struct gh_tls_server *sni_tls(void)
{
    struct gh_tls_sni_entry e[] = {
        {"dps.gatehouse.test", {nt_file("dps.pem"), nt_file("dps.key"), NULL}},
    };
    struct gh_tls_server_config cfg = {
        .default_id = {nt_file("hub-chain.pem"), nt_file("hub.key"), NULL},
        .sni = e,
        .sni_count = 1,
    };
    struct gh_tls_server *t = NULL;
    assert_int_equal(gh_tls_server_new(&cfg, &t, NULL, 0), GH_OK);
    return t;
}

static void test_sni_selects_certificate(void **state)
{
    struct nt_fix *f = *state;
    nt_server_start(&f->srv, f->base, sni_tls(), NULL);
    f->cli_tls = nt_client_tls("ca.pem", NULL, NULL);
    unsigned char *dps = NULL;
    int dps_len = nt_cert_der("dps.pem", &dps);
    struct nt_client k;
    /* dps name: the dps certificate (verification would fail otherwise) */
    nt_echo_once(f, &k, "dps.gatehouse.test", f->cli_tls, "to dps");
    assert_string_equal(f->srv.sni, "dps.gatehouse.test");
    assert_int_equal(k.peer_der_len, (size_t)dps_len);
    assert_memory_equal(k.peer_der, dps, (size_t)dps_len);
    nt_close_client(f, &k);
    /* case-insensitive */
    nt_echo_once(f, &k, "DPS.Gatehouse.TEST", f->cli_tls, "to DPS");
    assert_memory_equal(k.peer_der, dps, (size_t)dps_len);
    nt_close_client(f, &k);
    /* hub name: the default certificate */
    nt_echo_once(f, &k, "hub.gatehouse.test", f->cli_tls, "to hub");
    assert_string_equal(f->srv.sni, "hub.gatehouse.test");
    assert_int_equal(k.chain_len, 2);
    nt_close_client(f, &k);
    OPENSSL_free(dps);
    /* unknown name: default certificate, which does not carry that name */
    memset(&k, 0, sizeof k);
    nt_connect(&k, f->base, gh_listener_port(f->srv.l), f->cli_tls, "other.gatehouse.test");
    assert_true(gh_test_run_until(f->base, nt_cli_closed, &k, NT_WAIT_MS));
    assert_int_equal(k.reason, GH_ERR_CERT_VERIFY);
    assert_string_equal(k.detail, "hostname mismatch");
}

static bool handshake_failed(void *arg)
{
    struct gh_listener_stats st;
    gh_listener_get_stats(((struct nt_server *)arg)->l, &st);
    return st.handshakes_failed >= 1;
}

static void test_hostname_mismatch(void **state)
{
    struct nt_fix *f = *state;
    nt_server_start(&f->srv, f->base, nt_hub_tls(NULL), NULL);
    f->cli_tls = nt_client_tls("ca.pem", NULL, NULL);
    struct nt_client k = {0};
    nt_connect(&k, f->base, gh_listener_port(f->srv.l), f->cli_tls, "wrong.gatehouse.test");
    assert_true(gh_test_run_until(f->base, nt_cli_closed, &k, NT_WAIT_MS));
    assert_false(k.opened);
    assert_int_equal(k.reason, GH_ERR_CERT_VERIFY);
    assert_string_equal(k.detail, "hostname mismatch");
    /* the server never hands the failed connection over */
    assert_true(gh_test_run_until(f->base, handshake_failed, &f->srv, NT_WAIT_MS));
    assert_int_equal(f->srv.accepted, 0);
    struct gh_listener_stats st;
    gh_listener_get_stats(f->srv.l, &st);
    assert_int_equal(st.accepted, 1);
    assert_int_equal(st.handshakes_ok, 0);
    assert_int_equal(st.active, 0);
    assert_int_equal(st.handshaking, 0);
}

static void test_untrusted_server(void **state)
{
    struct nt_fix *f = *state;
    nt_server_start(&f->srv, f->base, nt_hub_tls(NULL), NULL);
    f->cli_tls = nt_client_tls("rogue.pem", NULL, NULL);
    struct nt_client k = {0};
    nt_connect(&k, f->base, gh_listener_port(f->srv.l), f->cli_tls, "hub.gatehouse.test");
    assert_true(gh_test_run_until(f->base, nt_cli_closed, &k, NT_WAIT_MS));
    assert_int_equal(k.reason, GH_ERR_CERT_VERIFY);
    if (!strstr(k.detail, "unable to get local issuer")) fail_msg("detail: %s", k.detail);
}

static void test_reload_keeps_connections(void **state)
{
    struct nt_fix *f = *state;
    nt_server_start(&f->srv, f->base, nt_hub_tls(NULL), NULL);
    f->cli_tls = nt_client_tls("ca.pem", NULL, NULL);
    unsigned char *hub = NULL, *hub2 = NULL;
    int hub_len = nt_cert_der("hub.pem", &hub);
    int hub2_len = nt_cert_der("hub2.pem", &hub2);
    struct nt_client a;
    nt_echo_once(f, &a, "hub.gatehouse.test", f->cli_tls, "before");
    assert_memory_equal(a.peer_der, hub, (size_t)hub_len);
    struct gh_tls_server_config cfg = {
        .default_id = {nt_file("hub2.pem"), nt_file("hub2.key"), NULL},
    };
    assert_int_equal(gh_tls_server_reload(f->srv.tls, &cfg, NULL, 0), GH_OK);
    /* the old connection still works */
    a.got_len = 0;
    a.got[0] = 0;
    assert_int_equal(gh_conn_write(a.c, "after", 5), GH_OK);
    struct nt_expect e = {&a, "after"};
    assert_true(gh_test_run_until(f->base, nt_cli_got, &e, NT_WAIT_MS));
    assert_false(a.closed);
    assert_string_equal(a.got, "after");
    /* a new one gets the new certificate */
    struct nt_client b;
    nt_echo_once(f, &b, "hub.gatehouse.test", f->cli_tls, "new");
    assert_int_equal(b.peer_der_len, (size_t)hub2_len);
    assert_memory_equal(b.peer_der, hub2, (size_t)hub2_len);
    /* a failed reload keeps the current set */
    cfg.default_id.key_file = nt_file("missing.key");
    assert_int_equal(gh_tls_server_reload(f->srv.tls, &cfg, NULL, 0), GH_ERR_NOENT);
    struct nt_client c;
    nt_echo_once(f, &c, "hub.gatehouse.test", f->cli_tls, "still new");
    assert_memory_equal(c.peer_der, hub2, (size_t)hub2_len);
    nt_close_client(f, &a);
    nt_close_client(f, &b);
    nt_close_client(f, &c);
    OPENSSL_free(hub);
    OPENSSL_free(hub2);
}

static void test_server_freed_while_connected(void **state)
{
    struct nt_fix *f = *state;
    nt_server_start(&f->srv, f->base, nt_hub_tls(NULL), NULL);
    f->cli_tls = nt_client_tls("ca.pem", NULL, NULL);
    struct nt_client k;
    nt_echo_once(f, &k, "hub.gatehouse.test", f->cli_tls, "one");
    /* the listener and the TLS context go; the accepted connection stays */
    gh_listener_free(f->srv.l);
    f->srv.l = NULL;
    gh_tls_server_free(f->srv.tls);
    f->srv.tls = NULL;
    k.got_len = 0;
    assert_int_equal(gh_conn_write(k.c, "two", 3), GH_OK);
    struct nt_expect e = {&k, "two"};
    assert_true(gh_test_run_until(f->base, nt_cli_got, &e, NT_WAIT_MS));
    assert_string_equal(k.got, "two");
    nt_close_client(f, &k);
    assert_true(gh_test_run_until(f->base, nt_server_closed_one, &f->srv, NT_WAIT_MS));
}

static bool handshake_timed_out(void *arg)
{
    struct gh_listener_stats st;
    gh_listener_get_stats(((struct nt_server *)arg)->l, &st);
    return st.handshake_timeouts >= 1;
}

static void test_handshake_timeout(void **state)
{
    struct nt_fix *f = *state;
    struct gh_listener_options o = {.handshake_timeout_ms = 200};
    nt_server_start(&f->srv, f->base, nt_hub_tls(NULL), &o);
    /* a plain TCP client that never starts TLS: half-open handshake */
    struct nt_client k = {0};
    nt_connect(&k, f->base, gh_listener_port(f->srv.l), NULL, NULL);
    assert_true(gh_test_run_until(f->base, nt_cli_opened, &k, NT_WAIT_MS));
    assert_true(gh_test_run_until(f->base, handshake_timed_out, &f->srv, NT_WAIT_MS));
    assert_true(gh_test_run_until(f->base, nt_cli_closed, &k, NT_WAIT_MS));
    assert_int_equal(k.reason, GH_ERR_CLOSED);
    assert_int_equal(f->srv.accepted, 0);
}

static bool two_accepted_tcp(void *arg)
{
    struct gh_listener_stats st;
    gh_listener_get_stats(((struct nt_server *)arg)->l, &st);
    return st.accepted >= 2;
}

static void test_max_conns(void **state)
{
    struct nt_fix *f = *state;
    struct gh_listener_options o = {.max_conns = 1};
    nt_server_start(&f->srv, f->base, nt_hub_tls(NULL), &o);
    f->cli_tls = nt_client_tls("ca.pem", NULL, NULL);
    struct nt_client a;
    nt_echo_once(f, &a, "hub.gatehouse.test", f->cli_tls, "first");
    /* the second waits in the backlog: its handshake cannot finish */
    struct nt_client b = {0};
    struct gh_conn_connect_params p = {
        .host = "127.0.0.1",
        .port = gh_listener_port(f->srv.l),
        .tls = f->cli_tls,
        .server_name = "hub.gatehouse.test",
        .timeout_ms = 300,
    };
    assert_int_equal(gh_conn_connect(f->base, &p, &nt_cli_cbs, &b, &b.c), GH_OK);
    assert_true(gh_test_run_until(f->base, nt_cli_closed, &b, NT_WAIT_MS));
    assert_int_equal(b.reason, GH_ERR_TIMEOUT);
    struct gh_listener_stats st;
    gh_listener_get_stats(f->srv.l, &st);
    assert_int_equal(st.accepted, 1);
    assert_int_equal(st.active, 1);
    /* when the first goes, accepting resumes */
    nt_close_client(f, &a);
    assert_true(gh_test_run_until(f->base, two_accepted_tcp, &f->srv, NT_WAIT_MS));
    struct nt_client c;
    nt_echo_once(f, &c, "hub.gatehouse.test", f->cli_tls, "third");
    nt_close_client(f, &c);
}

static void test_plain_tcp(void **state)
{
    struct nt_fix *f = *state;
    /* plain TCP must be explicit on both sides */
    struct gh_listener *l = NULL;
    assert_int_equal(
        gh_listener_new(f->base, "127.0.0.1:0", NULL, NULL, nt_srv_accept, &f->srv, &l, NULL, 0),
        GH_ERR_ARG);
    struct gh_listener_options o = {.plaintext = true};
    struct gh_tls_server *t = nt_hub_tls(NULL);
    assert_int_equal(
        gh_listener_new(f->base, "127.0.0.1:0", t, &o, nt_srv_accept, &f->srv, &l, NULL, 0),
        GH_ERR_ARG);
    gh_tls_server_free(t);
    struct nt_client k = {0};
    struct gh_conn_connect_params p = {.host = "127.0.0.1", .port = 1};
    assert_int_equal(gh_conn_connect(f->base, &p, &nt_cli_cbs, &k, &k.c), GH_ERR_ARG);
    nt_server_start(&f->srv, f->base, NULL, &o);
    nt_echo_once(f, &k, NULL, NULL, "plain bytes");
    assert_false(f->srv.is_tls);
    assert_null(gh_conn_tls_version(f->srv.last));
    assert_null(gh_conn_sni(f->srv.last));
    assert_int_equal(f->srv.cert, GH_CONN_CERT_NONE);
    nt_close_client(f, &k);
}

static void test_listener_args(void **state)
{
    struct nt_fix *f = *state;
    struct gh_listener_options o = {.plaintext = true};
    struct gh_listener *l = NULL;
    char d[GH_TLS_DETAIL_MAX] = "";
    const char *bad[] = {"127.0.0.1", "::1", "[::1]", "nonsense:80", "127.0.0.1:99999", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(
            gh_listener_new(f->base, bad[i], NULL, &o, nt_srv_accept, &f->srv, &l, d, sizeof d),
            GH_ERR_ARG);
    assert_int_equal(gh_listener_new(f->base, "127.0.0.1:0", NULL, &o, NULL, NULL, &l, d, sizeof d),
                     GH_ERR_ARG);
    o.limits.out_high = 100;
    o.limits.out_low = 100;
    assert_int_equal(
        gh_listener_new(f->base, "127.0.0.1:0", NULL, &o, nt_srv_accept, &f->srv, &l, d, sizeof d),
        GH_ERR_ARG);
    o.limits = (struct gh_conn_limits){0};
    /* address in use */
    nt_server_start(&f->srv, f->base, NULL, &o);
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)gh_listener_port(f->srv.l));
    assert_int_equal(
        gh_listener_new(f->base, addr, NULL, &o, nt_srv_accept, &f->srv, &l, d, sizeof d),
        GH_ERR_IO);
    assert_non_null(strstr(d, "Address already in use"));
    assert_null(l);
    /* IPv6 loopback, when the host has it */
    gh_err rc =
        gh_listener_new(f->base, "[::1]:0", NULL, &o, nt_srv_accept, &f->srv, &l, d, sizeof d);
    if (rc == GH_OK) {
        assert_true(gh_listener_port(l) != 0);
        gh_listener_free(l);
    } else {
        assert_int_equal(rc, GH_ERR_IO);
    }
    gh_listener_free(NULL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, nt_fix_setup, nt_fix_teardown)
    const struct CMUnitTest tests[] = {
        T(test_tls_echo),
        T(test_ip_san),
        T(test_client_cert_trusted),
        T(test_client_cert_self_signed),
        T(test_client_cert_other_ca),
        T(test_client_cert_absent),
        T(test_sni_selects_certificate),
        T(test_hostname_mismatch),
        T(test_untrusted_server),
        T(test_reload_keeps_connections),
        T(test_server_freed_while_connected),
        T(test_handshake_timeout),
        T(test_max_conns),
        T(test_plain_tcp),
        T(test_listener_args),
    };
    return cmocka_run_group_tests(tests, nt_group_setup, nt_group_teardown);
}
