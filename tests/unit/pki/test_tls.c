/* Certificates from `gatehouse pki` in real TLS handshakes between
 * `openssl s_server` and `openssl s_client` on 127.0.0.1: server names are
 * checked, and mutual TLS accepts devices under the trusted tenant CA and
 * refuses the others. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <poll.h>
#include <signal.h>
#include <time.h>

#include "pki_test_util.h"

/* Bounds: a server must print its port within this, and finish after its
 * one connection within this. */
#define SERVER_READY_MS 15000
#define SERVER_DONE_MS 15000

static char *D, *S;

static char *sp(const char *rel)
{
    static char buf[16][4096];
    static int i;
    i = (i + 1) % 16;
    snprintf(buf[i], sizeof buf[i], "%s/%s", S, rel);
    return buf[i];
}

static void ok_run(const char *const *argv)
{
    struct pt_run r;
    assert_int_equal(pt_runv(D, argv, &r), 0);
    if (r.status != 0) fprintf(stderr, "%s", r.err);
    assert_int_equal(r.status, 0);
    pt_run_free(&r);
}
#define OK(...)                                                                                    \
    do {                                                                                           \
        const char *argv_[] = {__VA_ARGS__, NULL};                                                 \
        ok_run(argv_);                                                                             \
    } while (0)

static int setup(void **state)
{
    (void)state;
    D = pt_mkdtemp();
    assert_non_null(D);
    S = pt_path(D, "pki");
    OK("gatehouse", "pki", "init-root", "--dir", S);
    OK("gatehouse", "pki", "issue-ca", "edge-ca", "--dir", S);
    OK("gatehouse", "pki", "issue-ca", "tenant-ca", "--dir", S);
    OK("gatehouse", "pki", "issue-server", "hub", "--issuer", "root", "--dns", "hub.gatehouse.test",
       "--ip", "127.0.0.1", "--dir", S);
    OK("gatehouse", "pki", "issue-server", "gw", "--issuer", "edge-ca", "--dns",
       "edge-gw-01.example.test", "--dir", S);
    OK("gatehouse", "pki", "issue-device", "carriage-01", "--issuer", "tenant-ca", "--dir", S);
    OK("gatehouse", "pki", "init-root", "--name", "other-root", "--dir", S);
    OK("gatehouse", "pki", "bundle", "--ca-only", "--out", sp("gw-trust.pem"), "root", "tenant-ca",
       "--dir", S);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pt_rmtree(D);
    free(D);
    free(S);
    return 0;
}

/* ---- s_server ------------------------------------------------------------ */

struct server {
    pid_t pid;
    int in_fd;  /* its stdin: kept open until the client is done */
    int out_fd; /* its stdout + stderr */
    char out[64 * 1024];
    size_t len;
    char port[8];
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read what the server printed, until needle appears (NULL: until EOF) or
 * the deadline passes. Returns true if the condition was met. */
static bool server_read(struct server *s, const char *needle, long long deadline)
{
    for (;;) {
        if (needle && strstr(s->out, needle)) return true;
        long long left = deadline - now_ms();
        if (left <= 0) return false;
        struct pollfd p = {s->out_fd, POLLIN, 0};
        int n = poll(&p, 1, (int)left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        ssize_t m = read(s->out_fd, s->out + s->len, sizeof s->out - 1 - s->len);
        if (m < 0 && errno == EINTR) continue;
        if (m <= 0) return needle == NULL;
        s->len += (size_t)m;
        s->out[s->len] = '\0';
    }
}

/* Start `openssl s_server -accept 127.0.0.1:0 -naccept 1 ...` and learn its
 * port from its "ACCEPT 127.0.0.1:<port>" line. */
static void server_start(struct server *s, const char *const *extra)
{
    memset(s, 0, sizeof *s);
    const char *argv[PT_ARGS_MAX];
    size_t n = 0;
    const char *base[] = {"timeout",  "-k",      "5",           "60",       "openssl",
                          "s_server", "-accept", "127.0.0.1:0", "-naccept", "1"};
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++) argv[n++] = base[i];
    for (size_t i = 0; extra[i]; i++) argv[n++] = extra[i];
    argv[n] = NULL;
    int in[2], out[2];
    assert_int_equal(pipe(in), 0);
    assert_int_equal(pipe(out), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, out[1], 2);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    assert_int_equal(posix_spawnp(&s->pid, "timeout", &fa, NULL, (char *const *)argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    s->in_fd = in[1];
    s->out_fd = out[0];
    bool ready = server_read(s, "ACCEPT 127.0.0.1:", now_ms() + SERVER_READY_MS) &&
                 server_read(s, "\n", now_ms() + SERVER_READY_MS);
    if (!ready) fprintf(stderr, "s_server did not start:\n%s\n", s->out);
    assert_true(ready);
    const char *p = strstr(s->out, "ACCEPT 127.0.0.1:") + strlen("ACCEPT 127.0.0.1:");
    size_t k = strspn(p, "0123456789");
    assert_true(k > 0 && k < sizeof s->port);
    memcpy(s->port, p, k);
    s->port[k] = '\0';
}

/* After the client: let the server finish (bounded), stop it by PID if it
 * does not, and collect everything it printed. */
static void server_finish(struct server *s)
{
    close(s->in_fd);
    bool eof = server_read(s, NULL, now_ms() + SERVER_DONE_MS);
    if (!eof) kill(s->pid, SIGTERM); /* timeout(1) passes it on to s_server */
    int st;
    while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR) {
    }
    close(s->out_fd);
}

/* One handshake: server with server_args, client with client_args. Returns
 * the client's exit status; the server's output is left in srv->out. */
static int handshake(struct server *srv, const char *const *server_args,
                     const char *const *client_args)
{
    server_start(srv, server_args);
    char connect[32];
    snprintf(connect, sizeof connect, "127.0.0.1:%s", srv->port);
    const char *argv[PT_ARGS_MAX];
    size_t n = 0;
    argv[n++] = "openssl";
    argv[n++] = "s_client";
    argv[n++] = "-connect";
    argv[n++] = connect;
    argv[n++] = "-verify_return_error";
    for (size_t i = 0; client_args[i]; i++) argv[n++] = client_args[i];
    argv[n] = NULL;
    struct pt_run r;
    assert_int_equal(pt_runv(D, argv, &r), 0);
    server_finish(srv);
    int status = r.status;
    if (getenv("GH_TEST_VERBOSE"))
        fprintf(stderr, "client:\n%s%s\nserver:\n%s\n", r.out, r.err, srv->out);
    pt_run_free(&r);
    return status;
}

static struct server srv; /* large; one at a time */

/* A server certificate from issue-server: accepted for its host name and
 * address, refused for another name. */
static void test_server_name(void **state)
{
    (void)state;
    const char *server[] = {"-cert", sp("certs/hub.cert.pem"), "-key", sp("private/hub.key.pem"),
                            NULL};
    const char *good[] = {"-CAfile",
                          sp("certs/root.cert.pem"),
                          "-verify_hostname",
                          "hub.gatehouse.test",
                          "-servername",
                          "hub.gatehouse.test",
                          NULL};
    assert_int_equal(handshake(&srv, server, good), 0);
    assert_non_null(strstr(srv.out, "CIPHER is"));
    const char *ip[] = {"-CAfile", sp("certs/root.cert.pem"), "-verify_ip", "127.0.0.1", NULL};
    assert_int_equal(handshake(&srv, server, ip), 0);
    const char *bad[] = {"-CAfile", sp("certs/root.cert.pem"), "-verify_hostname",
                         "other.gatehouse.test", NULL};
    assert_int_not_equal(handshake(&srv, server, bad), 0);
    assert_null(strstr(srv.out, "CIPHER is"));
    /* And a client that trusts another root refuses it too. */
    const char *untrusted[] = {"-CAfile", sp("certs/other-root.cert.pem"), "-verify_hostname",
                               "hub.gatehouse.test", NULL};
    assert_int_not_equal(handshake(&srv, server, untrusted), 0);
}

/* The gateway's certificate chains through the edge CA: the chain file is
 * what the server must send. */
static void test_gateway_chain(void **state)
{
    (void)state;
    const char *with_chain[] = {
        "-cert",       sp("certs/gw.cert.pem"),  "-key", sp("private/gw.key.pem"),
        "-cert_chain", sp("certs/gw.chain.pem"), NULL};
    const char *client[] = {"-CAfile", sp("certs/root.cert.pem"), "-verify_hostname",
                            "edge-gw-01.example.test", NULL};
    assert_int_equal(handshake(&srv, with_chain, client), 0);
    const char *leaf_only[] = {"-cert", sp("certs/gw.cert.pem"), "-key", sp("private/gw.key.pem"),
                               NULL};
    assert_int_not_equal(handshake(&srv, leaf_only, client), 0);
}

/* A device certificate under the tenant CA: accepted by a server trusting
 * the root + tenant CA bundle, refused by one trusting only another CA. */
static void run_device(const char *tls_version)
{
    const char *trusting[] = {
        "-cert", sp("certs/hub.cert.pem"), "-key",    sp("private/hub.key.pem"), "-Verify",
        "1",     "-verify_return_error",   "-CAfile", sp("gw-trust.pem"),        tls_version,
        NULL};
    const char *device[] = {"-CAfile",
                            sp("certs/root.cert.pem"),
                            "-verify_hostname",
                            "hub.gatehouse.test",
                            "-cert",
                            sp("certs/carriage-01.cert.pem"),
                            "-key",
                            sp("private/carriage-01.key.pem"),
                            NULL};
    assert_int_equal(handshake(&srv, trusting, device), 0);
    assert_non_null(strstr(srv.out, "subject=CN = carriage-01"));
    assert_non_null(strstr(srv.out, "CIPHER is"));
    assert_null(strstr(srv.out, "verify error"));

    const char *other[] = {
        "-cert", sp("certs/hub.cert.pem"), "-key",    sp("private/hub.key.pem"),       "-Verify",
        "1",     "-verify_return_error",   "-CAfile", sp("certs/other-root.cert.pem"), tls_version,
        NULL};
    int st = handshake(&srv, other, device);
    assert_non_null(strstr(srv.out, "verify error"));
    assert_null(strstr(srv.out, "CIPHER is"));
    /* In TLS 1.2 the client sees the refusal inside the handshake; in 1.3
     * the server's alert may come after the client is done. */
    if (strcmp(tls_version, "-tls1_2") == 0) assert_int_not_equal(st, 0);

    /* Trusting the root alone is enough when the device sends its chain. */
    const char *root_only[] = {
        "-cert", sp("certs/hub.cert.pem"), "-key",    sp("private/hub.key.pem"), "-Verify",
        "1",     "-verify_return_error",   "-CAfile", sp("certs/root.cert.pem"), tls_version,
        NULL};
    const char *device_chain[] = {"-CAfile",     sp("certs/root.cert.pem"),
                                  "-cert",       sp("certs/carriage-01.cert.pem"),
                                  "-key",        sp("private/carriage-01.key.pem"),
                                  "-cert_chain", sp("certs/carriage-01.chain.pem"),
                                  NULL};
    assert_int_equal(handshake(&srv, root_only, device_chain), 0);
    assert_non_null(strstr(srv.out, "CIPHER is"));
}

static void test_device_mtls_tls13(void **state)
{
    (void)state;
    run_device("-tls1_3");
}

static void test_device_mtls_tls12(void **state)
{
    (void)state;
    run_device("-tls1_2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_name),
        cmocka_unit_test(test_gateway_chain),
        cmocka_unit_test(test_device_mtls_tls13),
        cmocka_unit_test(test_device_mtls_tls12),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
