/* Interop with peers nobody here wrote: curl (keep-alive across two URLs,
 * Expect: 100-continue, mutual TLS) and raw requests through
 * `openssl s_client`. Children are spawned with pipes, watched through the
 * event loop (their output and SIGCHLD), bounded by NT_WAIT_MS and killed by
 * PID if needed. curl missing: those tests are skipped with a message. */
#define _GNU_SOURCE /* pipe2 */
#include "httptest.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>

struct proc {
    pid_t pid;
    int in_fd, out_fd;
    char out[65536];
    size_t out_len;
    bool eof, exited;
    int status;
    struct event *out_ev, *sig_ev;
};

static void out_cb(evutil_socket_t fd, short what, void *arg)
{
    struct proc *p = arg;
    for (;;) {
        char scratch[512];
        size_t room = sizeof p->out - 1 - p->out_len;
        char *dst = room ? p->out + p->out_len : scratch;
        ssize_t n = read(fd, dst, room ? room : sizeof scratch);
        if (n > 0) {
            if (room) p->out_len += (size_t)n;
            p->out[p->out_len] = 0;
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
    int st;
    if (!p->exited && waitpid(p->pid, &st, WNOHANG) == p->pid) {
        p->exited = true;
        p->status = st;
    }
}

static void sig_cb(evutil_socket_t fd, short what, void *arg)
{
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

static bool proc_done(void *arg)
{
    struct proc *p = arg;
    reap(p);
    return p->exited && p->eof;
}

/* Wait for exit (bounded), kill if needed, release. Returns the exit code,
 * or -1 when it did not exit by itself. */
static int proc_finish(struct ht_fix *f, struct proc *p)
{
    bool done = gh_test_run_until(f->base, proc_done, p, NT_WAIT_MS);
    if (!p->exited) {
        kill(p->pid, SIGKILL);
        if (waitpid(p->pid, &p->status, 0) == p->pid) p->exited = true;
    }
    if (p->in_fd >= 0) close(p->in_fd);
    close(p->out_fd);
    event_free(p->out_ev);
    event_free(p->sig_ev);
    return done && WIFEXITED(p->status) ? WEXITSTATUS(p->status) : -1;
}

static bool have_curl(void)
{
    return system("curl --version >/dev/null 2>&1") == 0;
}

/* The handler records what it saw of the last request. */
static char seen_peer[2][64], seen_expect[64], seen_cn[64];

static void handler(struct gh_http_request *req, void *user)
{
    struct ht_fix *f = user;
    int i = f->requests++ % 2;
    snprintf(seen_peer[i], sizeof seen_peer[i], "%s", gh_http_request_peer_addr(req));
    const char *e = gh_http_request_header(req, "expect");
    snprintf(seen_expect, sizeof seen_expect, "%s", e ? e : "");
    seen_cn[0] = 0;
    struct gh_conn *c = gh_http_request_conn(req);
    if (gh_conn_peer_cert_status(c, NULL) == GH_CONN_CERT_TRUSTED)
        assert_int_equal(gh_conn_peer_cn(c, seen_cn, sizeof seen_cn), GH_OK);
    char json[256];
    const char *seg = gh_http_request_segment(req, 1);
    snprintf(json, sizeof json, "{\"deviceId\":\"%s\",\"len\":%zu}", seg ? seg : "",
             gh_http_request_body(req).len);
    assert_int_equal(gh_http_respond_json(req, 200, json), GH_OK);
}

static void url(struct ht_fix *f, char *out, size_t cap, const char *path)
{
    snprintf(out, cap, "https://hub.gatehouse.test:%u%s", (unsigned)gh_http_server_port(f->srv),
             path);
}

static void resolve_arg(struct ht_fix *f, char *out, size_t cap)
{
    snprintf(out, cap, "hub.gatehouse.test:%u:127.0.0.1", (unsigned)gh_http_server_port(f->srv));
}

/* Two URLs in one curl run share one kept-alive connection. */
static void test_curl_keepalive(void **state)
{
    if (!have_curl()) {
        print_message("curl not installed: skipping curl interop\n");
        skip();
    }
    struct ht_fix *f = *state;
    ht_server(f, NULL, handler);
    char resolve[96], u1[128], u2[128];
    resolve_arg(f, resolve, sizeof resolve);
    url(f, u1, sizeof u1, "/devices/th%2301?api-version=2021-04-12");
    url(f, u2, sizeof u2, "/devices/second?api-version=2021-04-12");
    char *argv[] = {"curl",
                    "-sS",
                    "--http1.1",
                    "--cacert",
                    (char *)nt_file("ca.pem"),
                    "--resolve",
                    resolve,
                    "-X",
                    "PUT",
                    "-H",
                    "Content-Type: application/json; charset=utf-8",
                    "-d",
                    "{\"a\":1}",
                    "-w",
                    " code=%{http_code} connects=%{num_connects}\\n",
                    u1,
                    u2,
                    NULL};
    struct proc p;
    spawn(&p, f->base, argv);
    int rc = proc_finish(f, &p);
    if (rc != 0) fail_msg("curl exit %d:\n%s", rc, p.out);
    if (!strstr(p.out, "{\"deviceId\":\"th#01\",\"len\":7} code=200 connects=1\n") ||
        !strstr(p.out, "{\"deviceId\":\"second\",\"len\":7} code=200 connects=0\n"))
        fail_msg("curl output:\n%s", p.out);
    assert_int_equal(f->requests, 2);
    assert_string_equal(seen_peer[0], seen_peer[1]);
}

/* curl sending Expect: 100-continue (asked for explicitly, whatever its
 * own size threshold) gets our interim 100 (-v shows it) and completes. */
static void test_curl_expect_continue(void **state)
{
    if (!have_curl()) {
        print_message("curl not installed: skipping curl interop\n");
        skip();
    }
    struct ht_fix *f = *state;
    ht_server(f, NULL, handler);
    char path[256];
    snprintf(path, sizeof path, "%s/big.json", nt_dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    for (int i = 0; i < 3000; i++) fputc('x', fp);
    fclose(fp);
    char resolve[96], u[128], data[300];
    resolve_arg(f, resolve, sizeof resolve);
    url(f, u, sizeof u, "/devices/big");
    snprintf(data, sizeof data, "@%s", path);
    char *argv[] = {"curl",
                    "-sS",
                    "-v",
                    "--http1.1",
                    "--cacert",
                    (char *)nt_file("ca.pem"),
                    "--resolve",
                    resolve,
                    "-H",
                    "Expect: 100-continue",
                    "--data-binary",
                    data,
                    u,
                    NULL};
    struct proc p;
    spawn(&p, f->base, argv);
    int rc = proc_finish(f, &p);
    if (rc != 0) fail_msg("curl exit %d:\n%s", rc, p.out);
    assert_string_equal(seen_expect, "100-continue");
    if (!strstr(p.out, "HTTP/1.1 100 Continue") ||
        !strstr(p.out, "{\"deviceId\":\"big\",\"len\":3000}"))
        fail_msg("curl output:\n%s", p.out);
}

static void test_curl_mutual_tls(void **state)
{
    if (!have_curl()) {
        print_message("curl not installed: skipping curl interop\n");
        skip();
    }
    struct ht_fix *f = *state;
    ht_server(f, NULL, handler);
    char resolve[96], u[128];
    resolve_arg(f, resolve, sizeof resolve);
    url(f, u, sizeof u, "/registrations/device-1");
    char *argv[] = {"curl",
                    "-sS",
                    "--http1.1",
                    "--cacert",
                    (char *)nt_file("ca.pem"),
                    "--cert",
                    (char *)nt_file("dev.pem"),
                    "--key",
                    (char *)nt_file("dev.key"),
                    "--resolve",
                    resolve,
                    u,
                    NULL};
    struct proc p;
    spawn(&p, f->base, argv);
    int rc = proc_finish(f, &p);
    if (rc != 0) fail_msg("curl exit %d:\n%s", rc, p.out);
    assert_string_equal(seen_cn, "device-1");
    assert_non_null(strstr(p.out, "{\"deviceId\":\"device-1\",\"len\":0}"));
}

/* Raw bytes through openssl s_client: two pipelined requests, the second
 * asking to close; s_client exits when we close. */
static void test_s_client_raw(void **state)
{
    struct ht_fix *f = *state;
    ht_server(f, NULL, handler);
    char port[32];
    snprintf(port, sizeof port, "127.0.0.1:%u", (unsigned)gh_http_server_port(f->srv));
    char *argv[] = {"openssl",
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
                    "-quiet",
                    "-ign_eof",
                    NULL};
    struct proc p;
    spawn(&p, f->base, argv);
    static const char reqs[] = "GET /devices/raw%20one HTTP/1.1\r\nHost: hub.gatehouse.test\r\n\r\n"
                               "POST /devices/two HTTP/1.1\r\nHost: hub.gatehouse.test\r\n"
                               "Content-Length: 4\r\nConnection: close\r\n\r\nbody";
    assert_int_equal(write(p.in_fd, reqs, sizeof reqs - 1), (ssize_t)(sizeof reqs - 1));
    int rc = proc_finish(f, &p);
    if (rc != 0) fail_msg("s_client exit %d:\n%s", rc, p.out);
    const char *a = strstr(p.out, "{\"deviceId\":\"raw one\",\"len\":0}");
    const char *b = strstr(p.out, "{\"deviceId\":\"two\",\"len\":4}");
    if (!a || !b || a > b) fail_msg("s_client output:\n%s", p.out);
    assert_int_equal(ht_count(p.out, "HTTP/1.1 200 OK\r\n"), 2);
    assert_int_equal(ht_count(p.out, "Content-Type: application/json; charset=utf-8\r\n"), 2);
    assert_int_equal(f->requests, 2);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, ht_setup, ht_teardown)
    const struct CMUnitTest tests[] = {
        T(test_curl_keepalive),
        T(test_curl_expect_continue),
        T(test_curl_mutual_tls),
        T(test_s_client_raw),
    };
    return cmocka_run_group_tests(tests, ht_group_setup, ht_group_teardown);
}
