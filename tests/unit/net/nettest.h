/* Shared helpers for the net unit tests (header-only: each test_*.c is its
 * own executable). Throwaway PKI made with the openssl CLI in a temp dir,
 * bounded event-loop waits, and small echo server / client harnesses.
 *
 * Every wait runs the event loop until a condition holds or a libevent
 * deadline timer fires; nothing sleeps. */
#ifndef GH_TEST_NETTEST_H
#define GH_TEST_NETTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "../run_until.h"
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "net/conn.h"
#include "net/listener.h"
#include "net/tls.h"

#define NT_UNUSED __attribute__((unused))
#define NT_WAIT_MS 10000u /* upper bound of every wait */

/* ---- throwaway PKI ------------------------------------------------------ */

static char nt_dir[64];
static char *nt_paths[64];
static const char *nt_path_names[64];

/* Stable path of a file in the PKI directory (valid until nt_pki_cleanup). */
NT_UNUSED static const char *nt_file(const char *name)
{
    for (size_t i = 0; i < 64 && nt_path_names[i]; i++)
        if (strcmp(nt_path_names[i], name) == 0) return nt_paths[i];
    for (size_t i = 0; i < 64; i++) {
        if (!nt_path_names[i]) {
            size_t n = strlen(nt_dir) + strlen(name) + 2;
            nt_paths[i] = malloc(n);
            assert_non_null(nt_paths[i]);
            snprintf(nt_paths[i], n, "%s/%s", nt_dir, name);
            nt_path_names[i] = name;
            return nt_paths[i];
        }
    }
    fail_msg("nt_file: too many paths");
    return NULL;
}

__attribute__((format(printf, 1, 2))) NT_UNUSED static void nt_sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof cmd);
    char full[2200];
    snprintf(full, sizeof full, "cd '%s' && (%s) >/dev/null 2>&1", nt_dir, cmd);
    int rc = system(full);
    if (rc != 0) fail_msg("command failed (%d): %s", rc, cmd);
}

NT_UNUSED static void nt_write_file(const char *name, const char *text)
{
    FILE *f = fopen(nt_file(name), "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

#define NT_REQ "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
#define NT_CA_EXT                                                                                  \
    "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign"

/* name.key + name.pem, subject CN=cn, signed by issuer (issuer.pem/.key) with
 * the extensions of ext_file. */
NT_UNUSED static void nt_leaf(const char *name, const char *cn, const char *issuer,
                              const char *ext_file)
{
    nt_sh(NT_REQ " -keyout %s.key -out %s.csr -subj '/CN=%s'", name, name, cn);
    nt_sh("openssl x509 -req -in %s.csr -CA %s.pem -CAkey %s.key -CAcreateserial -days 2 "
          "-out %s.pem -extfile %s",
          name, issuer, issuer, name, ext_file);
}

/* Makes, in a fresh temp dir:
 *   ca.pem/key          root CA "gh test root"
 *   inter.pem/key       intermediate CA under ca
 *   hub.pem/key         server hub.gatehouse.test + IP 127.0.0.1, under inter
 *   hub-chain.pem       hub.pem + inter.pem
 *   hub2.pem/key        second hub certificate (reload), under ca
 *   dps.pem/key         server dps.gatehouse.test, under ca
 *   dev.pem/key         client CN=device-1, under ca
 *   self.pem/key        self-signed client CN=thumb-dev
 *   rogue.pem/key       unrelated CA; rogue-dev.pem/key client under it
 *   enc.key             hub.key encrypted with password "s3cret"
 *   garbage.pem         not PEM */
NT_UNUSED static void nt_pki_setup(void)
{
    snprintf(nt_dir, sizeof nt_dir, "/tmp/gh-net-test-XXXXXX");
    assert_non_null(mkdtemp(nt_dir));
    nt_write_file("server.ext", "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                                "subjectAltName=DNS:hub.gatehouse.test,IP:127.0.0.1\n");
    nt_write_file("dps.ext", "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                             "subjectAltName=DNS:dps.gatehouse.test\n");
    nt_write_file("client.ext", "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n");
    nt_write_file("ca.ext", "basicConstraints=critical,CA:TRUE\n"
                            "keyUsage=critical,keyCertSign,cRLSign\n");
    nt_write_file("garbage.pem", "this is not a PEM file\n");
    nt_sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key "
          "-out ca.pem -days 2 -subj '/CN=gh test root' " NT_CA_EXT);
    nt_leaf("inter", "gh test intermediate", "ca", "ca.ext");
    nt_leaf("hub", "hub.gatehouse.test", "inter", "server.ext");
    nt_sh("cat hub.pem inter.pem > hub-chain.pem");
    nt_leaf("hub2", "hub.gatehouse.test", "ca", "server.ext");
    nt_leaf("dps", "dps.gatehouse.test", "ca", "dps.ext");
    nt_leaf("dev", "device-1", "ca", "client.ext");
    nt_sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout self.key "
          "-out self.pem -days 2 -subj '/CN=thumb-dev' -addext extendedKeyUsage=clientAuth");
    nt_sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout rogue.key "
          "-out rogue.pem -days 2 -subj '/CN=rogue root' " NT_CA_EXT);
    nt_leaf("rogue-dev", "device-1", "rogue", "client.ext");
    nt_sh("openssl pkey -in hub.key -aes256 -passout pass:s3cret -out enc.key");
}

NT_UNUSED static void nt_pki_cleanup(void)
{
    if (nt_dir[0]) nt_sh("rm -rf '%s'", nt_dir);
    for (size_t i = 0; i < 64; i++) {
        free(nt_paths[i]);
        nt_paths[i] = NULL;
        nt_path_names[i] = NULL;
    }
}

/* DER of the first certificate in a PEM file (caller frees with OPENSSL_free). */
NT_UNUSED static int nt_cert_der(const char *name, unsigned char **der)
{
    FILE *f = fopen(nt_file(name), "r");
    assert_non_null(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    *der = NULL;
    int n = i2d_X509(x, der);
    X509_free(x);
    assert_true(n > 0);
    return n;
}

/* ---- bounded loop ------------------------------------------------------- */

/* ---- server harness ----------------------------------------------------- */

struct nt_server {
    struct event_base *base;
    struct gh_tls_server *tls;
    struct gh_listener *l;
    int accepted, closed;
    struct gh_conn *last;
    gh_err last_reason;
    bool echo;            /* echo input back */
    bool pause_on_accept; /* gh_conn_pause_read right away */
    size_t received;
    /* identity of the last accepted connection */
    char sni[256];
    enum gh_conn_cert_status cert;
    char cert_detail[128];
    char cn[128];
    gh_err cn_rc;
    char version[16];
    bool is_tls;
};

static void nt_srv_read(struct gh_conn *c, void *user)
{
    struct nt_server *s = user;
    struct gh_slice in;
    assert_int_equal(gh_conn_peek(c, SIZE_MAX, &in), GH_OK);
    s->received += in.len;
    if (s->echo) assert_int_equal(gh_conn_write(c, in.ptr, in.len), GH_OK);
    assert_int_equal(gh_conn_consume(c, in.len), GH_OK);
}

static void nt_srv_close(struct gh_conn *c, gh_err reason, void *user)
{
    struct nt_server *s = user;
    s->closed++;
    s->last_reason = reason;
    if (s->last == c) s->last = NULL;
}

static const struct gh_conn_callbacks nt_srv_cbs = {
    .on_read = nt_srv_read,
    .on_close = nt_srv_close,
};

static void nt_srv_accept(struct gh_listener *l, struct gh_conn *c, void *user)
{
    (void)l;
    struct nt_server *s = user;
    s->accepted++;
    s->last = c;
    const char *sni = gh_conn_sni(c);
    snprintf(s->sni, sizeof s->sni, "%s", sni ? sni : "");
    const char *d = NULL;
    s->cert = gh_conn_peer_cert_status(c, &d);
    snprintf(s->cert_detail, sizeof s->cert_detail, "%s", d);
    s->cn[0] = 0;
    s->cn_rc = gh_conn_peer_cn(c, s->cn, sizeof s->cn);
    const char *v = gh_conn_tls_version(c);
    snprintf(s->version, sizeof s->version, "%s", v ? v : "");
    s->is_tls = gh_conn_is_tls(c);
    gh_conn_set_callbacks(c, &nt_srv_cbs, s);
    if (s->pause_on_accept) gh_conn_pause_read(c);
}

/* Start a listener on 127.0.0.1:0 with tls (NULL = plain). */
NT_UNUSED static void nt_server_start(struct nt_server *s, struct event_base *base,
                                      struct gh_tls_server *tls,
                                      const struct gh_listener_options *opts)
{
    s->base = base;
    s->tls = tls;
    s->echo = true;
    char detail[GH_TLS_DETAIL_MAX] = "";
    gh_err rc = gh_listener_new(base, "127.0.0.1:0", tls, opts, nt_srv_accept, s, &s->l, detail,
                                sizeof detail);
    if (rc != GH_OK) fail_msg("listener: %s: %s", gh_err_name(rc), detail);
    assert_true(gh_listener_port(s->l) != 0);
}

/* TLS server context from hub-chain (+ optional client CA). */
NT_UNUSED static struct gh_tls_server *nt_hub_tls(const char *client_ca)
{
    struct gh_tls_server_config cfg = {
        .default_id = {nt_file("hub-chain.pem"), nt_file("hub.key"), NULL},
        .client_ca_file = client_ca ? nt_file(client_ca) : NULL,
    };
    struct gh_tls_server *t = NULL;
    char detail[GH_TLS_DETAIL_MAX] = "";
    gh_err rc = gh_tls_server_new(&cfg, &t, detail, sizeof detail);
    if (rc != GH_OK) fail_msg("tls server: %s: %s", gh_err_name(rc), detail);
    return t;
}

NT_UNUSED static struct gh_tls_client *nt_client_tls(const char *ca, const char *cert,
                                                     const char *key)
{
    struct gh_tls_client_config cfg = {
        .ca_file = ca ? nt_file(ca) : NULL,
        .id = {cert ? nt_file(cert) : NULL, key ? nt_file(key) : NULL, NULL},
    };
    struct gh_tls_client *t = NULL;
    char detail[GH_TLS_DETAIL_MAX] = "";
    gh_err rc = gh_tls_client_new(&cfg, &t, detail, sizeof detail);
    if (rc != GH_OK) fail_msg("tls client: %s: %s", gh_err_name(rc), detail);
    return t;
}

/* ---- client harness ----------------------------------------------------- */

struct nt_client {
    struct gh_conn *c;
    bool opened, closed;
    gh_err reason;
    char detail[128];
    const char *send; /* written on open */
    char got[4096];
    size_t got_len;
    enum gh_conn_cert_status peer_status;
    unsigned char peer_der[4096];
    size_t peer_der_len;
    int chain_len;
};

static void nt_cli_open(struct gh_conn *c, void *user)
{
    struct nt_client *k = user;
    k->opened = true;
    k->peer_status = gh_conn_peer_cert_status(c, NULL);
    struct gh_slice der;
    if (gh_conn_peer_cert_der(c, &der) == GH_OK && der.len <= sizeof k->peer_der) {
        memcpy(k->peer_der, der.ptr, der.len);
        k->peer_der_len = der.len;
    }
    STACK_OF(X509) *chain = gh_conn_peer_chain(c);
    k->chain_len = chain ? sk_X509_num(chain) : 0;
    if (k->send) assert_int_equal(gh_conn_write(c, k->send, strlen(k->send)), GH_OK);
}

static void nt_cli_read(struct gh_conn *c, void *user)
{
    struct nt_client *k = user;
    struct gh_slice in;
    assert_int_equal(gh_conn_peek(c, SIZE_MAX, &in), GH_OK);
    size_t room = sizeof k->got - 1 - k->got_len;
    size_t n = in.len < room ? in.len : room;
    memcpy(k->got + k->got_len, in.ptr, n);
    k->got_len += n;
    k->got[k->got_len] = 0;
    assert_int_equal(gh_conn_consume(c, in.len), GH_OK);
}

static void nt_cli_close(struct gh_conn *c, gh_err reason, void *user)
{
    struct nt_client *k = user;
    k->closed = true;
    k->reason = reason;
    const char *d = gh_conn_error_detail(c);
    snprintf(k->detail, sizeof k->detail, "%s", d ? d : "");
    k->c = NULL;
}

NT_UNUSED static const struct gh_conn_callbacks nt_cli_cbs = {
    .on_open = nt_cli_open,
    .on_read = nt_cli_read,
    .on_close = nt_cli_close,
};

NT_UNUSED static void nt_connect(struct nt_client *k, struct event_base *base, uint16_t port,
                                 struct gh_tls_client *tls, const char *server_name)
{
    struct gh_conn_connect_params p = {
        .host = "127.0.0.1",
        .port = port,
        .tls = tls,
        .plaintext = tls == NULL,
        .server_name = server_name,
    };
    assert_int_equal(gh_conn_connect(base, &p, &nt_cli_cbs, k, &k->c), GH_OK);
}

NT_UNUSED static bool nt_cli_opened(void *arg)
{
    return ((struct nt_client *)arg)->opened;
}

NT_UNUSED static bool nt_cli_closed(void *arg)
{
    return ((struct nt_client *)arg)->closed;
}

/* Client got at least strlen(expected) bytes. */
struct nt_expect {
    struct nt_client *k;
    const char *text;
};

NT_UNUSED static bool nt_cli_got(void *arg)
{
    struct nt_expect *e = arg;
    return e->k->got_len >= strlen(e->text) || e->k->closed;
}

/* ---- per-test fixture --------------------------------------------------- */

struct nt_fix {
    struct event_base *base;
    struct nt_server srv;
    struct gh_tls_client *cli_tls;
};

NT_UNUSED static int nt_group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    nt_pki_setup();
    return 0;
}

NT_UNUSED static int nt_group_teardown(void **state)
{
    (void)state;
    nt_pki_cleanup();
    return 0;
}

NT_UNUSED static int nt_fix_setup(void **state)
{
    struct nt_fix *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->base = event_base_new();
    assert_non_null(f->base);
    *state = f;
    return 0;
}

NT_UNUSED static bool nt_server_idle(void *arg)
{
    struct gh_listener_stats st;
    gh_listener_get_stats(((struct nt_server *)arg)->l, &st);
    return st.active == 0;
}

NT_UNUSED static int nt_fix_teardown(void **state)
{
    struct nt_fix *f = *state;
    if (f->srv.l) {
        if (f->srv.last) gh_conn_abort(f->srv.last);
        gh_test_run_until(f->base, nt_server_idle, &f->srv, NT_WAIT_MS);
        gh_listener_free(f->srv.l);
    }
    gh_tls_server_free(f->srv.tls);
    gh_tls_client_free(f->cli_tls);
    /* deliver any on_close still due (bounded) */
    for (int i = 0; i < 100; i++) event_base_loop(f->base, EVLOOP_NONBLOCK);
    event_base_free(f->base);
    free(f);
    return 0;
}

/* Open a client to f's server, echo `text`, and wait for it. */
NT_UNUSED static void nt_echo_once(struct nt_fix *f, struct nt_client *k, const char *server_name,
                                   struct gh_tls_client *tls, const char *text)
{
    memset(k, 0, sizeof *k);
    k->send = text;
    nt_connect(k, f->base, gh_listener_port(f->srv.l), tls, server_name);
    struct nt_expect e = {k, text};
    assert_true(gh_test_run_until(f->base, nt_cli_got, &e, NT_WAIT_MS));
    if (k->closed) fail_msg("client closed: %s %s", gh_err_name(k->reason), k->detail);
    assert_true(k->opened);
    assert_string_equal(k->got, text);
}

/* Close k gracefully and wait for its on_close(GH_OK). */
NT_UNUSED static void nt_close_client(struct nt_fix *f, struct nt_client *k)
{
    gh_conn_close(k->c);
    assert_false(k->closed); /* never from inside the call */
    assert_true(gh_test_run_until(f->base, nt_cli_closed, k, NT_WAIT_MS));
    assert_int_equal(k->reason, GH_OK);
}

NT_UNUSED static bool nt_server_closed_one(void *arg)
{
    return ((struct nt_server *)arg)->closed >= 1;
}

#endif
