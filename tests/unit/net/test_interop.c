/* Interop with a peer nobody here wrote: `openssl s_client` against a gh
 * listener on 127.0.0.1 (TLS 1.3, TLS 1.2, mutual TLS), and TLS 1.1 refused.
 * The child is spawned with pipes, watched through the event loop (its
 * output and SIGCHLD), bounded by NT_WAIT_MS, and killed by PID if needed. */
#define _GNU_SOURCE /* pipe2 */
#include "nettest.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>

struct proc {
    pid_t pid;
    int in_fd;  /* child's stdin */
    int out_fd; /* child's stdout + stderr */
    char out[16384];
    size_t out_len;
    bool eof, exited;
    int status;
    struct event *out_ev, *sig_ev;
};

static void out_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct proc *p = arg;
    for (;;) {
        size_t room = sizeof p->out - 1 - p->out_len;
        char scratch[512];
        char *dst = room ? p->out + p->out_len : scratch;
        size_t cap = room ? room : sizeof scratch;
        ssize_t n = read(fd, dst, cap);
        if (n > 0) {
            if (room) {
                p->out_len += (size_t)n;
                p->out[p->out_len] = 0;
            }
            continue;
        }
        if (n == 0) {
            p->eof = true;
            event_del(p->out_ev);
        }
        return;
    }
}

static void reap(struct proc *p)
{
    if (p->exited) return;
    int st;
    if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
        p->exited = true;
        p->status = st;
    }
}

static void sig_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    reap(arg);
}

static void spawn(struct proc *p, struct event_base *base, char *const argv[])
{
    memset(p, 0, sizeof *p);
    int in[2], out[2];
    assert_int_equal(pipe2(in, O_CLOEXEC), 0);
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    p->sig_ev = evsignal_new(base, SIGCHLD, sig_cb, p);
    assert_int_equal(event_add(p->sig_ev, NULL), 0);
    p->pid = fork();
    assert_true(p->pid >= 0);
    if (p->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(out[1], 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    p->in_fd = in[1];
    p->out_fd = out[0];
    assert_int_equal(fcntl(p->out_fd, F_SETFL, O_NONBLOCK), 0);
    p->out_ev = event_new(base, p->out_fd, EV_READ | EV_PERSIST, out_cb, p);
    assert_int_equal(event_add(p->out_ev, NULL), 0);
}

/* Kill if still running, reap, release. */
static void proc_cleanup(struct proc *p)
{
    if (!p->exited) {
        kill(p->pid, SIGKILL);
        if (waitpid(p->pid, &p->status, 0) == p->pid) p->exited = true;
    }
    if (p->in_fd >= 0) close(p->in_fd);
    close(p->out_fd);
    event_free(p->out_ev);
    event_free(p->sig_ev);
}

struct want_out {
    struct proc *p;
    const char *text;
};

static bool out_has(void *arg)
{
    struct want_out *w = arg;
    return strstr(w->p->out, w->text) != NULL || w->p->eof;
}

static bool proc_done(void *arg)
{
    struct proc *p = arg;
    reap(p);
    return p->exited && p->eof;
}

/* s_client with extra arguments; sends a line, expects it echoed, then the
 * server closes and s_client exits. */
static void s_client_echo(struct nt_fix *f, const char *const *extra, size_t n_extra)
{
    char port[16];
    snprintf(port, sizeof port, "127.0.0.1:%u", (unsigned)gh_listener_port(f->srv.l));
    char *argv[32] = {"openssl",
                      "s_client",
                      "-connect",
                      port,
                      "-servername",
                      "hub.gatehouse.test",
                      "-verify_hostname",
                      "hub.gatehouse.test",
                      "-CAfile",
                      (char *)nt_file("ca.pem"),
                      "-verify_return_error",
                      "-quiet"};
    size_t argc = 12;
    for (size_t i = 0; i < n_extra; i++) argv[argc++] = (char *)extra[i];
    argv[argc] = NULL;
    struct proc p;
    spawn(&p, f->base, argv);
    const char line[] = "ping from s_client\n";
    assert_int_equal(write(p.in_fd, line, sizeof line - 1), (ssize_t)(sizeof line - 1));
    struct want_out w = {&p, "ping from s_client"};
    bool ok = gh_test_run_until(f->base, out_has, &w, NT_WAIT_MS) && strstr(p.out, w.text);
    if (!ok) {
        proc_cleanup(&p);
        fail_msg("no echo from s_client; output:\n%s", p.out);
    }
    assert_int_equal(f->srv.accepted, 1);
    assert_int_equal(f->srv.received, sizeof line - 1);
    /* the server closes gracefully; s_client sees close_notify and exits */
    gh_conn_close(f->srv.last);
    ok = gh_test_run_until(f->base, proc_done, &p, NT_WAIT_MS);
    proc_cleanup(&p);
    assert_true(ok);
    assert_true(WIFEXITED(p.status));
    assert_int_equal(WEXITSTATUS(p.status), 0);
}

static void test_s_client_tls13(void **state)
{
    struct nt_fix *f = *state;
    nt_server_start(&f->srv, f->base, nt_hub_tls(NULL), NULL);
    s_client_echo(f, NULL, 0);
    assert_string_equal(f->srv.version, "TLSv1.3");
    assert_string_equal(f->srv.sni, "hub.gatehouse.test");
    assert_int_equal(f->srv.cert, GH_CONN_CERT_NONE);
}

static void test_s_client_tls12(void **state)
{
    struct nt_fix *f = *state;
    nt_server_start(&f->srv, f->base, nt_hub_tls(NULL), NULL);
    const char *extra[] = {"-tls1_2"};
    s_client_echo(f, extra, 1);
    assert_string_equal(f->srv.version, "TLSv1.2");
}

static void test_s_client_tls12_no_ecdhe_refused(void **state)
{
    struct nt_fix *f = *state;
    nt_server_start(&f->srv, f->base, nt_hub_tls(NULL), NULL);
    char port[16];
    snprintf(port, sizeof port, "127.0.0.1:%u", (unsigned)gh_listener_port(f->srv.l));
    /* ECDHE with CBC: fits the ECDSA certificate, but is not AEAD, so it is
     * outside GH_TLS12_CIPHERS */
    char *argv[] = {"openssl",
                    "s_client",
                    "-connect",
                    port,
                    "-tls1_2",
                    "-cipher",
                    "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384",
                    "-quiet",
                    NULL};
    struct proc p;
    spawn(&p, f->base, argv);
    close(p.in_fd);
    p.in_fd = -1;
    bool ok = gh_test_run_until(f->base, proc_done, &p, NT_WAIT_MS);
    proc_cleanup(&p);
    assert_true(ok);
    assert_true(WIFEXITED(p.status) && WEXITSTATUS(p.status) != 0);
    if (!strstr(p.out, "handshake failure")) fail_msg("s_client output:\n%s", p.out);
    assert_int_equal(f->srv.accepted, 0);
}

static void test_s_client_mutual_tls(void **state)
{
    struct nt_fix *f = *state;
    nt_server_start(&f->srv, f->base, nt_hub_tls("ca.pem"), NULL);
    const char *extra[] = {"-cert", nt_file("dev.pem"), "-key", nt_file("dev.key")};
    s_client_echo(f, extra, 4);
    assert_int_equal(f->srv.cert, GH_CONN_CERT_TRUSTED);
    assert_string_equal(f->srv.cn, "device-1");
}

static bool handshake_failed(void *arg)
{
    struct gh_listener_stats st;
    gh_listener_get_stats(((struct nt_server *)arg)->l, &st);
    return st.handshakes_failed >= 1;
}

static void test_s_client_tls11_refused(void **state)
{
    struct nt_fix *f = *state;
    nt_server_start(&f->srv, f->base, nt_hub_tls(NULL), NULL);
    char port[16];
    snprintf(port, sizeof port, "127.0.0.1:%u", (unsigned)gh_listener_port(f->srv.l));
    /* SECLEVEL=0 so that this OpenSSL client is willing to offer TLS 1.1 at
     * all: the refusal must come from our server */
    char *argv[] = {"openssl", "s_client",    "-connect",
                    port,      "-servername", "hub.gatehouse.test",
                    "-tls1_1", "-cipher",     "DEFAULT:@SECLEVEL=0",
                    "-quiet",  NULL};
    struct proc p;
    spawn(&p, f->base, argv);
    close(p.in_fd);
    p.in_fd = -1;
    bool done = gh_test_run_until(f->base, proc_done, &p, NT_WAIT_MS);
    bool failed = gh_test_run_until(f->base, handshake_failed, &f->srv, NT_WAIT_MS);
    proc_cleanup(&p);
    assert_true(done);
    assert_true(failed);
    assert_true(WIFEXITED(p.status) && WEXITSTATUS(p.status) != 0);
    if (!strstr(p.out, "protocol version")) fail_msg("s_client output:\n%s", p.out);
    assert_int_equal(f->srv.accepted, 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, nt_fix_setup, nt_fix_teardown)
    const struct CMUnitTest tests[] = {
        T(test_s_client_tls13),
        T(test_s_client_tls12),
        T(test_s_client_tls12_no_ecdhe_refused),
        T(test_s_client_mutual_tls),
        T(test_s_client_tls11_refused),
    };
    return cmocka_run_group_tests(tests, nt_group_setup, nt_group_teardown);
}
