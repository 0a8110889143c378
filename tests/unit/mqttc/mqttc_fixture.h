/* Shared harness of the mqttc tests (header-only; each test_*.c is its own
 * executable, included after cmocka.h): a temp dir with a PKI made by
 * `gatehouse pki` ($GH_GATEHOUSE), a mosquitto broker started from a temp
 * config and stopped by PID, an event recorder for the client callbacks,
 * and bounded event-loop waits (the loop runs until a condition holds or a
 * libevent deadline fires; nothing sleeps). */
#ifndef GH_TEST_MQTTC_FIXTURE_H
#define GH_TEST_MQTTC_FIXTURE_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "../run_until.h"

#include "common/log.h"
#include "mqttc/mqttc.h"
#include "net/tls.h"

#define FX_UNUSED __attribute__((unused))
#define FX_WAIT_MS 10000u /* upper bound of every wait */
#define FX_BROKER_ADDR "127.0.0.9"
#define FX_BROKER_NAME "broker.test"
#define FX_MAX_EVENTS 256u

static char fx_dir[128];

__attribute__((format(printf, 1, 2))) FX_UNUSED static int fx_sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

FX_UNUSED static const char *fx_gatehouse(void)
{
    const char *g = getenv("GH_GATEHOUSE");
    return g ? g : "gatehouse";
}

/* Path of name inside fx_dir, in a rotating set of static buffers. */
FX_UNUSED static const char *fx_path(const char *name)
{
    static char bufs[8][300];
    static unsigned next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", fx_dir, name);
    return b;
}

/* Temp dir + PKI: pki/ (root, server "broker" for broker.test, 127.0.0.9 and
 * 127.0.0.1) and pki2/ (an unrelated root, for the wrong-CA test). */
FX_UNUSED static int fx_pki_setup(const char *tag)
{
    signal(SIGPIPE, SIG_IGN);
    gh_log_set_level(GH_LOG_ERROR);
    snprintf(fx_dir, sizeof fx_dir, "/tmp/gh-mqttc-%s-XXXXXX", tag);
    if (!mkdtemp(fx_dir)) return -1;
    const char *g = fx_gatehouse();
    if (fx_sh("'%s' pki init-root --dir '%s/pki' >/dev/null", g, fx_dir) != 0) return -1;
    if (fx_sh("'%s' pki issue-server broker --dir '%s/pki' --issuer root --dns " FX_BROKER_NAME
              " --ip " FX_BROKER_ADDR " --ip 127.0.0.1 >/dev/null",
              g, fx_dir) != 0)
        return -1;
    if (fx_sh("'%s' pki init-root --dir '%s/pki2' >/dev/null", g, fx_dir) != 0) return -1;
    return 0;
}

FX_UNUSED static void fx_pki_cleanup(void)
{
    if (fx_dir[0]) (void)fx_sh("rm -rf '%s'", fx_dir);
}

FX_UNUSED static struct gh_tls_client *fx_tls_client(const char *pki)
{
    char ca[400];
    snprintf(ca, sizeof ca, "%s/%s/certs/root.cert.pem", fx_dir, pki);
    struct gh_tls_client_config cfg = {.ca_file = ca};
    struct gh_tls_client *t = NULL;
    char detail[GH_TLS_DETAIL_MAX];
    assert_int_equal(gh_tls_client_new(&cfg, &t, detail, sizeof detail), GH_OK);
    return t;
}

/* A port on addr nobody listens on right now. */
FX_UNUSED static uint16_t fx_free_port(const char *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, addr, &a.sin_addr), 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t n = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &n), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* ---- bounded loop ---------------------------------------------------------- */

/* ---- mosquitto --------------------------------------------------------------- */

struct fx_broker {
    pid_t pid;
    int out_fd;
    struct event *drain;
    uint16_t port;
    char conf[300];
};

FX_UNUSED static bool fx_have_mosquitto(void)
{
    return fx_sh("command -v mosquitto >/dev/null 2>&1") == 0;
}

static void fx_drain_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct fx_broker *b = arg;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) event_del(b->drain);
}

/* Write a config for port (password_file: NULL = anonymous allowed). */
FX_UNUSED static void fx_broker_config(struct fx_broker *b, const char *name, uint16_t port,
                                       const char *password_file)
{
    snprintf(b->conf, sizeof b->conf, "%s/%s.conf", fx_dir, name);
    b->port = port;
    FILE *f = fopen(b->conf, "w");
    assert_non_null(f);
    fprintf(f,
            "user root\nper_listener_settings false\npersistence false\n"
            "log_dest stderr\nlog_type error\nlog_type warning\nlog_type information\n"
            "listener %u " FX_BROKER_ADDR "\n"
            "certfile %s/pki/certs/broker.chain.pem\nkeyfile %s/pki/private/broker.key.pem\n",
            (unsigned)port, fx_dir, fx_dir);
    if (password_file)
        fprintf(f, "allow_anonymous false\npassword_file %s\n", password_file);
    else
        fprintf(f, "allow_anonymous true\n");
    assert_int_equal(fclose(f), 0);
}

static int64_t fx_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Start mosquitto with b->conf and wait (bounded, on its log pipe) for its
 * "running" line; afterwards base drains the pipe. */
FX_UNUSED static void fx_broker_start(struct fx_broker *b, struct event_base *base)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(p[1], 1);
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        execlp("mosquitto", "mosquitto", "-c", b->conf, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    b->pid = pid;
    b->out_fd = p[0];
    char log[8192];
    size_t len = 0;
    int64_t end = fx_mono_ms() + FX_WAIT_MS;
    bool ready = false;
    while (!ready && fx_mono_ms() < end) {
        struct pollfd pf = {.fd = b->out_fd, .events = POLLIN};
        int r = poll(&pf, 1, (int)(end - fx_mono_ms()));
        if (r <= 0) continue;
        ssize_t n = read(b->out_fd, log + len, sizeof log - 1 - len);
        if (n <= 0) break;
        len += (size_t)n;
        log[len] = '\0';
        ready = strstr(log, " running") != NULL;
        if (len == sizeof log - 1) len = 0;
    }
    if (!ready) fail_msg("mosquitto did not start: %s", log);
    fcntl(b->out_fd, F_SETFL, O_NONBLOCK);
    b->drain = event_new(base, b->out_fd, EV_READ | EV_PERSIST, fx_drain_cb, b);
    event_add(b->drain, NULL);
}

/* Stop by PID with sig (SIGKILL: a crash; SIGTERM: a clean stop). */
FX_UNUSED static void fx_broker_stop(struct fx_broker *b, int sig)
{
    if (b->pid <= 0) return;
    kill(b->pid, sig);
    int st;
    while (waitpid(b->pid, &st, 0) < 0 && errno == EINTR) {
    }
    b->pid = 0;
    if (b->drain) event_free(b->drain);
    b->drain = NULL;
    close(b->out_fd);
}

/* ---- callback recorder ------------------------------------------------------- */

struct fx_pub {
    char topic[128];
    char payload[128];
    uint8_t qos;
    bool dup;
    uint16_t pid;
};

struct fx_rec {
    struct gh_mqttc *c;
    int connected, disconnected, windows, suback_n, unsuback_n, password_calls;
    bool session_present;
    gh_err why;
    int connack;
    char detail[GH_MQTTC_DETAIL_MAX];
    uint64_t acked[FX_MAX_EVENTS];
    size_t nacked;
    uint64_t unacked[FX_MAX_EVENTS];
    size_t nunacked;
    struct fx_pub pubs[64];
    size_t npubs;
    uint8_t codes[GH_MQTT_MAX_SUBSCRIPTIONS];
    size_t ncodes;
    uint64_t sub_cookie;
    bool unsub_acked;
    /* password callback behaviour */
    const char *password; /* NULL: callback fails with password_rc */
    gh_err password_rc;
    int64_t expires_in_s; /* 0: never */
    bool free_on_disconnect;
};

static void fx_on_connected(void *u, bool sp)
{
    struct fx_rec *r = u;
    r->connected++;
    r->session_present = sp;
}

static void fx_on_disconnected(void *u, gh_err why, int connack, const char *detail)
{
    struct fx_rec *r = u;
    r->disconnected++;
    r->why = why;
    r->connack = connack;
    snprintf(r->detail, sizeof r->detail, "%s", detail);
    if (r->free_on_disconnect) {
        gh_mqttc_free(r->c);
        r->c = NULL;
    }
}

static void fx_on_publish(void *u, const struct gh_mqtt_publish *p)
{
    struct fx_rec *r = u;
    if (r->npubs >= 64) return;
    struct fx_pub *x = &r->pubs[r->npubs++];
    snprintf(x->topic, sizeof x->topic, "%.*s", (int)p->topic.len, (const char *)p->topic.ptr);
    snprintf(x->payload, sizeof x->payload, "%.*s", (int)p->payload.len,
             (const char *)p->payload.ptr);
    x->qos = p->qos;
    x->dup = p->dup;
    x->pid = p->packet_id;
}

static void fx_on_acked(void *u, uint64_t cookie)
{
    struct fx_rec *r = u;
    if (r->nacked < FX_MAX_EVENTS) r->acked[r->nacked++] = cookie;
}

static void fx_on_unacked(void *u, uint64_t cookie)
{
    struct fx_rec *r = u;
    if (r->nunacked < FX_MAX_EVENTS) r->unacked[r->nunacked++] = cookie;
}

static void fx_on_suback(void *u, uint64_t cookie, const uint8_t *codes, size_t n)
{
    struct fx_rec *r = u;
    r->suback_n++;
    r->sub_cookie = cookie;
    r->ncodes = n;
    if (n) memcpy(r->codes, codes, n);
}

static void fx_on_unsuback(void *u, uint64_t cookie, bool acked)
{
    struct fx_rec *r = u;
    r->unsuback_n++;
    r->sub_cookie = cookie;
    r->unsub_acked = acked;
}

static void fx_on_window(void *u)
{
    struct fx_rec *r = u;
    r->windows++;
}

FX_UNUSED static const struct gh_mqttc_callbacks fx_cbs = {
    .on_connected = fx_on_connected,
    .on_disconnected = fx_on_disconnected,
    .on_publish = fx_on_publish,
    .on_acked = fx_on_acked,
    .on_unacked = fx_on_unacked,
    .on_suback = fx_on_suback,
    .on_unsuback = fx_on_unsuback,
    .on_window = fx_on_window,
};

FX_UNUSED static gh_err fx_password(void *u, char *out, size_t cap, size_t *len, int64_t *exp)
{
    struct fx_rec *r = u;
    r->password_calls++;
    if (!r->password) return r->password_rc;
    size_t n = strlen(r->password);
    if (n > cap) return GH_ERR_NOBUFS;
    memcpy(out, r->password, n);
    *len = n;
    *exp = r->expires_in_s ? (int64_t)time(NULL) + r->expires_in_s : 0;
    return GH_OK;
}

/* Free a client and let the loop release its aborted connection. */
FX_UNUSED static void fx_free(struct event_base *base, struct fx_rec *r)
{
    gh_mqttc_free(r->c);
    r->c = NULL;
    for (int i = 0; i < 3; i++) event_base_loop(base, EVLOOP_NONBLOCK);
}

/* Conditions for gh_test_run_until. */
FX_UNUSED static bool fx_is_connected(void *a)
{
    return gh_mqttc_connected(((struct fx_rec *)a)->c);
}

#endif
