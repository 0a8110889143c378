/* Memory per idle mutual-TLS connection, measured, printed, not asserted.
 *
 * The client runs in a forked child so that each side measures only its own
 * heap. Both sides first open NT_MEM_WARM connections (so one-time
 * allocations are not counted), measure, open NT_MEM_CONNS more, let them
 * settle, and measure again. The figure is (after - before) / NT_MEM_CONNS,
 * in heap bytes requested (ASan's allocator counter in sanitizer builds,
 * mallinfo2 otherwise; allocator overhead is not included). Functional checks
 * (every connection opens on both sides) are asserted. */
#include "nettest.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/wait.h>

#if defined(__SANITIZE_ADDRESS__)
#define NT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NT_ASAN 1
#endif
#endif
#ifdef NT_ASAN
/* From the ASan runtime (gcc and clang); the header is not always installed. */
size_t __sanitizer_get_current_allocated_bytes(void);
#define NT_HEAP_COUNTER "ASan allocator"
#else
#define NT_HEAP_COUNTER "mallinfo2"
#endif

#define NT_MEM_WARM 20
#define NT_MEM_CONNS 200
#define NT_MEM_CHILD_ALARM_S 60

static size_t heap_bytes(void)
{
#ifdef NT_ASAN
    return __sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks;
#endif
}

/* ---- child: the clients -------------------------------------------------- */

struct kid {
    int opened, closed;
};

static void kid_open(struct gh_conn *c, void *user)
{
    (void)c;
    ((struct kid *)user)->opened++;
}

static void kid_read(struct gh_conn *c, void *user)
{
    (void)user;
    struct gh_slice in;
    if (gh_conn_peek(c, SIZE_MAX, &in) != GH_OK || gh_conn_consume(c, in.len) != GH_OK)
        gh_conn_abort(c);
}

static void kid_close(struct gh_conn *c, gh_err reason, void *user)
{
    (void)c, (void)reason;
    ((struct kid *)user)->closed++;
}

static const struct gh_conn_callbacks kid_cbs = {
    .on_open = kid_open, .on_read = kid_read, .on_close = kid_close};

struct kid_goal {
    struct kid *k;
    int n;
};

static bool kid_reached(void *arg)
{
    struct kid_goal *g = arg;
    return g->k->opened >= g->n || g->k->closed > 0;
}

static bool never(void *arg)
{
    (void)arg;
    return false;
}

static int kid_open_n(struct event_base *base, struct gh_tls_client *tls, uint16_t port,
                      struct kid *k, int n)
{
    struct gh_conn_connect_params p = {
        .host = "127.0.0.1", .port = port, .tls = tls, .server_name = "hub.gatehouse.test"};
    for (int i = 0; i < n; i++) {
        struct gh_conn *c;
        if (gh_conn_connect(base, &p, &kid_cbs, k, &c) != GH_OK) return -1;
    }
    struct kid_goal g = {k, k->opened + n};
    if (!gh_test_run_until(base, kid_reached, &g, NT_WAIT_MS * 3) || k->closed) return -1;
    gh_test_run_until(base, never, NULL, 100); /* settle: session tickets etc. */
    return 0;
}

static void child_main(int from_parent, int to_parent)
{
    alarm(NT_MEM_CHILD_ALARM_S); /* a stuck child can never outlive the test */
    uint16_t port;
    char cmd;
    if (read(from_parent, &port, sizeof port) != sizeof port) _exit(2);
    struct event_base *base = event_base_new();
    struct gh_tls_client_config cfg = {.ca_file = nt_file("ca.pem"),
                                       .id = {nt_file("dev.pem"), nt_file("dev.key"), NULL}};
    struct gh_tls_client *tls = NULL;
    if (!base || gh_tls_client_new(&cfg, &tls, NULL, 0) != GH_OK) _exit(3);
    struct kid k = {0};
    if (kid_open_n(base, tls, port, &k, NT_MEM_WARM) != 0) _exit(4);
    size_t m0 = heap_bytes();
    if (write(to_parent, "A", 1) != 1) _exit(5);
    if (read(from_parent, &cmd, 1) != 1 || cmd != 'B') _exit(6);
    if (kid_open_n(base, tls, port, &k, NT_MEM_CONNS) != 0) _exit(7);
    size_t m1 = heap_bytes();
    long long per = ((long long)m1 - (long long)m0) / NT_MEM_CONNS;
    if (write(to_parent, &per, sizeof per) != sizeof per) _exit(8);
    /* stay connected until the parent has measured and closes the pipe */
    while (read(from_parent, &cmd, 1) > 0) {
    }
    _exit(0);
}

/* ---- parent: the server ------------------------------------------------ */

struct srv_goal {
    struct nt_server *s;
    unsigned ok;
    int pipe_fd;
    size_t want_bytes;
    unsigned char buf[16];
    size_t got;
};

static bool srv_reached(void *arg)
{
    struct srv_goal *g = arg;
    struct gh_listener_stats st;
    gh_listener_get_stats(g->s->l, &st);
    if (g->got < g->want_bytes) {
        ssize_t n = read(g->pipe_fd, g->buf + g->got, g->want_bytes - g->got);
        if (n > 0) g->got += (size_t)n;
    }
    return st.handshakes_ok >= g->ok && st.handshaking == 0 && g->got >= g->want_bytes;
}

static void pipe_ready(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg; /* wakes the loop; srv_reached reads */
}

static bool no_conns(void *arg)
{
    struct gh_listener_stats st;
    gh_listener_get_stats(((struct nt_server *)arg)->l, &st);
    return st.active == 0;
}

static void test_idle_mtls_memory(void **state)
{
    (void)state;
    int p2c[2], c2p[2];
    assert_int_equal(pipe(p2c), 0);
    assert_int_equal(pipe(c2p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p2c[1]);
        close(c2p[0]);
        child_main(p2c[0], c2p[1]);
    }
    close(p2c[0]);
    close(c2p[1]);
    assert_int_equal(fcntl(c2p[0], F_SETFL, O_NONBLOCK), 0);

    struct event_base *base = event_base_new();
    struct nt_server s = {0};
    struct gh_listener_options o = {.max_handshakes = NT_MEM_CONNS + NT_MEM_WARM};
    nt_server_start(&s, base, nt_hub_tls("ca.pem"), &o);
    s.echo = false;
    struct event *pe = event_new(base, c2p[0], EV_READ | EV_PERSIST, pipe_ready, NULL);
    event_add(pe, NULL);
    uint16_t port = gh_listener_port(s.l);
    assert_int_equal(write(p2c[1], &port, sizeof port), (ssize_t)sizeof port);

    struct srv_goal g = {.s = &s, .ok = NT_MEM_WARM, .pipe_fd = c2p[0], .want_bytes = 1};
    bool ok = gh_test_run_until(base, srv_reached, &g, NT_WAIT_MS * 3);
    gh_test_run_until(base, never, NULL, 100);
    size_t m0 = heap_bytes();
    if (ok) ok = write(p2c[1], "B", 1) == 1;
    g = (struct srv_goal){.s = &s,
                          .ok = NT_MEM_WARM + NT_MEM_CONNS,
                          .pipe_fd = c2p[0],
                          .want_bytes = sizeof(long long)};
    if (ok) ok = gh_test_run_until(base, srv_reached, &g, NT_WAIT_MS * 3);
    gh_test_run_until(base, never, NULL, 100);
    size_t m1 = heap_bytes();
    long long client_per = 0;
    if (g.got == sizeof client_per) memcpy(&client_per, g.buf, sizeof client_per);

    close(p2c[1]); /* child exits */
    int st = 0;
    if (!ok) kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    struct gh_listener_stats ls;
    gh_listener_get_stats(s.l, &ls);
    assert_true(ok);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(ls.handshakes_ok, NT_MEM_WARM + NT_MEM_CONNS);
    assert_int_equal(s.cert, GH_CONN_CERT_TRUSTED);
    long long server_per = ((long long)m1 - (long long)m0) / NT_MEM_CONNS;
    printf("net memory per idle mTLS connection (%s, %d connections, %s heap counter): "
           "server %lld bytes, client %lld bytes\n",
           s.version, NT_MEM_CONNS, NT_HEAP_COUNTER, server_per, client_per);

    /* the connections died with the child; let the server side see it */
    assert_true(gh_test_run_until(base, no_conns, &s, NT_WAIT_MS));
    gh_listener_free(s.l);
    gh_tls_server_free(s.tls);
    event_free(pe);
    for (int i = 0; i < 100; i++) event_base_loop(base, EVLOOP_NONBLOCK);
    event_base_free(base);
    close(c2p[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_mtls_memory),
    };
    return cmocka_run_group_tests(tests, nt_group_setup, nt_group_teardown);
}
