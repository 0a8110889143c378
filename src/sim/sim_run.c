/* gatehouse sim: the event loop. One timer paces the connection ramp and
 * the telemetry (token bucket per tick), one prints the progress line; at
 * the bound (messages, duration, or a signal) sending stops, outstanding
 * PUBACKs are awaited for --drain, the devices disconnect and the summary
 * is printed. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <jansson.h>

#include "common/log.h"
#include "mqttc/mqttc.h"
#include "sim/sim_int.h"

#define CLOSE_WAIT_US 3000000 /* after DISCONNECT: wait for the closes */
#define US_PER_S 1000000.0
#define FD_RESERVE 64 /* descriptors besides the devices' (REST, DNS, stdio, files) */

int64_t sim_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t sim_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sim_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

double sim_cpu_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0.0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

gh_err sim_fail(struct sim *s, gh_err rc, const char *fmt, ...)
{
    if (s->first_err == GH_OK) {
        s->first_err = rc;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->msg, sizeof s->msg, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static bool is_address(const char *h)
{
    return strspn(h, "0123456789.") == strlen(h) || strchr(h, ':') != NULL;
}

/* Messages that count toward --messages: acknowledged ones with QoS 1
 * (lost ones are sent again), sent ones with QoS 0. */
static uint64_t in_flight(const struct sim *s)
{
    if (s->o->qos == 0) return 0;
    uint64_t done = s->acked + s->unacked;
    return s->sent > done ? s->sent - done : 0;
}

static bool target_reached(const struct sim *s)
{
    if (s->o->messages == 0) return false;
    return (s->o->qos ? s->acked : s->sent) >= s->o->messages;
}

/* Sent messages that may still succeed (QoS 1: not lost). */
static uint64_t effective_sent(const struct sim *s)
{
    if (s->o->qos == 0) return s->sent;
    return s->sent > s->unacked ? s->sent - s->unacked : 0;
}

static void begin_stop(struct sim *s, int64_t now)
{
    if (s->stopping) return;
    s->stopping = true;
    s->stop_us = now;
    s->end_us = now;
    s->sent_at_stop = s->sent;
    s->acked_at_stop = s->acked;
    s->connects_at_stop = s->connects;
    s->cpu_at_end = sim_cpu_s();
    s->drain_until_us = now + (int64_t)s->o->drain_s * 1000000;
}

static void finish(struct sim *s, int64_t now)
{
    if (s->closing) return;
    s->closing = true;
    s->close_until_us = now + CLOSE_WAIT_US;
    s->connected_at_stop = s->connected_now;
    for (unsigned i = 0; i < s->n; i++)
        if (s->devs[i].c != NULL) gh_mqttc_stop(s->devs[i].c);
}

static void ramp(struct sim *s, double dt)
{
    if (s->next_start >= s->n || s->closing) return;
    s->connect_credit += s->o->connect_rate * dt;
    if (s->connect_credit > s->o->connect_rate + 1.0) s->connect_credit = s->o->connect_rate + 1.0;
    while (s->connect_credit >= 1.0 && s->next_start < s->n) {
        struct sim_dev *d = &s->devs[s->next_start++];
        s->connect_credit -= 1.0;
        gh_err rc = gh_mqttc_start(d->c);
        if (rc != GH_OK) sim_fail(s, rc, "start %s: %s", d->id, gh_err_str(rc));
        d->started = true;
    }
}

static void pace(struct sim *s, double dt)
{
    if (s->o->reconnect) return;               /* the handshake loop sends nothing */
    if (s->o->plain && s->all_us == 0) return; /* benchmarks: start together */
    double rate = s->o->rate_per_device ? s->o->rate * (double)s->connected_now : s->o->rate;
    if (rate <= 0.0) return;
    s->send_credit += rate * dt;
    double cap = rate > 1.0 ? rate : 1.0;
    if (s->send_credit > cap) s->send_credit = cap;
    while (s->send_credit >= 1.0 && s->connected_now > 0) {
        if (s->o->messages > 0 && effective_sent(s) >= s->o->messages) return;
        bool sent = false;
        for (unsigned tries = 0; tries < s->n && !sent; tries++) {
            struct sim_dev *d = &s->devs[s->rr];
            s->rr = (s->rr + 1) % s->n;
            if (!d->connected) continue;
            gh_err rc = sim_dev_send(d);
            if (rc == GH_OK)
                sent = true;
            else if (rc != GH_ERR_NOBUFS && rc != GH_ERR_CLOSED) {
                s->publish_errors++;
                gh_log_warn("sim.publish_failed", "device=%s err=%s", d->id, gh_err_name(rc));
            }
        }
        if (!sent) return; /* every window is full: try again next tick */
        s->send_credit -= 1.0;
    }
}

/* Every connected device sends its fence once (retried on back-pressure). */
static void fence(struct sim *s)
{
    if (s->o->reconnect || s->closing) return;
    for (unsigned i = 0; i < s->n; i++) {
        struct sim_dev *d = &s->devs[i];
        if (d->fenced || !d->connected) continue;
        gh_err rc = sim_dev_fence(d);
        if (rc != GH_OK && rc != GH_ERR_NOBUFS && rc != GH_ERR_CLOSED) {
            s->publish_errors++;
            gh_log_warn("sim.fence_failed", "device=%s err=%s", d->id, gh_err_name(rc));
        }
    }
}

static bool fences_done(const struct sim *s)
{
    for (unsigned i = 0; i < s->n; i++)
        if (s->devs[i].connected && !s->devs[i].fenced) return false;
    return s->fences_acked + s->fences_lost == s->fences_sent;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct sim *s = arg;
    int64_t now = sim_now_us();
    double dt = (double)(now - s->last_tick_us) / US_PER_S;
    s->last_tick_us = now;
    if (s->closing) {
        if (s->connected_now == 0 || now >= s->close_until_us) event_base_loopbreak(s->base);
        return;
    }
    ramp(s, dt); /* also while stopping: every device should connect once */
    if (!s->stopping) {
        if (s->stop_at_us > 0 && now >= s->stop_at_us)
            begin_stop(s, now);
        else
            pace(s, dt);
        if (target_reached(s)) begin_stop(s, now);
    }
    if (s->stopping && s->o->qos == 0) fence(s);
    /* Drained: no PUBACK outstanding (QoS 0: every fence answered) and
     * (unless interrupted) every device connected at least once; or the
     * drain time is over. */
    bool drained = in_flight(s) == 0 && (s->interrupted || s->ever_connected == s->n);
    /* Devices with twins: every one reported once and every patch answered
     * (the last devices to connect report just before the end). */
    if (drained && !s->o->plain && !s->o->reconnect && !s->interrupted)
        drained = s->reported_devices == s->n && s->twin_answered >= s->twin_reported;
    if (s->o->qos == 0 && !s->o->reconnect && drained) {
        drained = fences_done(s);
        if (drained && s->fence_done_us > 0 && s->end_us < s->fence_done_us) {
            s->end_us = s->fence_done_us;
            s->cpu_at_end = sim_cpu_s();
        }
    }
    if (s->stopping && (drained || now >= s->drain_until_us)) finish(s, now);
}

static double elapsed_s(const struct sim *s, int64_t now)
{
    return (double)(now - s->t0_us) / US_PER_S;
}

static void progress_line(struct sim *s, bool last)
{
    int64_t now = sim_now_us();
    double dt = (double)(now - s->last_progress_us) / US_PER_S;
    double rate = dt > 0 ? (double)(s->sent - s->last_progress_sent) / dt : 0.0;
    s->last_progress_us = now;
    s->last_progress_sent = s->sent;
    uint64_t errors = s->connect_failures + s->disconnects + s->unacked + s->publish_errors;
    bool tty = isatty(STDERR_FILENO) != 0;
    fprintf(stderr, "%s[%6.1fs] connected %u/%u  sent %llu  acked %llu  errors %llu  %.1f msg/s%s",
            tty ? "\r" : "", elapsed_s(s, now), s->connected_now, s->n, (unsigned long long)s->sent,
            (unsigned long long)s->acked, (unsigned long long)errors, rate,
            tty && !last ? "   " : "\n");
    fflush(stderr);
}

static void on_progress(evutil_socket_t fd, short what, void *arg)
{
    progress_line(arg, false);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct sim *s = arg;
    int64_t now = sim_now_us();
    if (s->interrupted) {
        finish(s, now); /* second signal: stop waiting for acks */
        return;
    }
    s->interrupted = true;
    begin_stop(s, now);
}

static double cpu_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / US_PER_S;
}

static bool run_ok(const struct sim *s, gh_err *why)
{
    if (s->ever_connected < s->n) {
        *why = GH_ERR_CLOSED;
        return false;
    }
    if (s->o->messages > 0 && !target_reached(s)) {
        *why = GH_ERR_TIMEOUT;
        return false;
    }
    if (s->publish_errors > 0) {
        *why = GH_ERR_IO;
        return false;
    }
    *why = GH_OK;
    return true;
}

/* The steady window (every device connected .. sending stopped; a QoS 0
 * run until the last fence's PUBACK): rates without the connection ramp,
 * and the simulator's own CPU use over it. */
struct steady {
    bool valid;
    double from_s, to_s, secs;
    uint64_t messages, connects;
    double rate, connect_rate, cpu_s, cpu_util;
};

static struct steady steady_of(const struct sim *s)
{
    struct steady st;
    memset(&st, 0, sizeof st);
    if (s->all_us == 0 || s->end_us <= s->all_us || (s->stop_us > 0 && s->all_us > s->stop_us))
        return st;
    st.valid = true;
    st.from_s = (double)(s->all_us - s->t0_us) / US_PER_S;
    st.to_s = (double)(s->end_us - s->t0_us) / US_PER_S;
    st.secs = st.to_s - st.from_s;
    st.messages =
        s->o->qos == 0 ? s->sent_at_stop - s->sent_at_all : s->acked_at_stop - s->acked_at_all;
    st.connects = s->connects_at_stop - s->connects_at_all;
    st.rate = (double)st.messages / st.secs;
    st.connect_rate = (double)st.connects / st.secs;
    st.cpu_s = s->cpu_at_end - s->cpu_at_all;
    st.cpu_util = st.cpu_s / st.secs;
    return st;
}

static void add_steady(const struct sim *s, json_t *j)
{
    struct steady st = steady_of(s);
    json_t *o = st.valid ? json_pack("{s:f, s:f, s:f, s:I, s:f, s:I, s:f, s:f, s:f}", "from_s",
                                     st.from_s, "to_s", st.to_s, "seconds", st.secs, "messages",
                                     (json_int_t)st.messages, "rate", st.rate, "connects",
                                     (json_int_t)st.connects, "connect_rate", st.connect_rate,
                                     "cpu_s", st.cpu_s, "cpu_util", st.cpu_util)
                         : json_null();
    (void)json_object_set_new(j, "steady", o);
    (void)json_object_set_new(j, "all_connected_s",
                              s->all_us ? json_real((double)(s->all_us - s->t0_us) / US_PER_S)
                                        : json_null());
    if (s->o->qos == 0)
        (void)json_object_set_new(j, "fences",
                                  json_pack("{s:I, s:I, s:I}", "sent", (json_int_t)s->fences_sent,
                                            "acked", (json_int_t)s->fences_acked, "lost",
                                            (json_int_t)s->fences_lost));
}

static void summary(const struct sim *s, double setup_s, bool ok)
{
    int64_t end = s->stop_us ? s->stop_us : sim_now_us();
    double el = elapsed_s(s, end);
    double sr = el > 0 ? (double)s->sent / el : 0.0;
    double ar = el > 0 ? (double)s->acked / el : 0.0;
    double p50 = (double)gh_sim_hist_quantile(&s->hist, 0.50) / 1000.0;
    double p99 = (double)gh_sim_hist_quantile(&s->hist, 0.99) / 1000.0;
    double mx = (double)s->hist.max_us / 1000.0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    (void)getrusage(RUSAGE_SELF, &ru);
    unsigned ever = s->ever_connected;
    if (s->o->json) {
        json_t *j = json_pack(
            "{s:b, s:i, s:i, s:i, s:s, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
            "s:I, s:I, s:f, s:f, s:f, s:f, s:{s:f, s:f, s:f, s:I}, s:{s:f, s:f}, s:I, s:b}",
            "ok", ok, "devices", (int)s->n, "connected", (int)s->connected_at_stop,
            "connected_ever", (int)ever, "auth", s->o->auth == GH_SIM_AUTH_X509 ? "x509" : "sas",
            "qos", (int)s->o->qos, "connects", (json_int_t)s->connects, "connect_failures",
            (json_int_t)s->connect_failures, "disconnects", (json_int_t)s->disconnects, "sent",
            (json_int_t)s->sent, "acked", (json_int_t)s->acked, "unacked", (json_int_t)s->unacked,
            "publish_errors", (json_int_t)s->publish_errors, "twin_reported",
            (json_int_t)s->twin_reported, "twin_acked", (json_int_t)s->twin_acked, "desired",
            (json_int_t)s->desired, "methods", (json_int_t)s->methods, "c2d", (json_int_t)s->c2d,
            "setup_s", setup_s, "elapsed_s", el, "send_rate", sr, "ack_rate", ar, "latency_ms",
            "p50", p50, "p99", p99, "max", mx, "count", (json_int_t)s->hist.count, "cpu_s", "user",
            cpu_s(ru.ru_utime), "system", cpu_s(ru.ru_stime), "max_rss_kb",
            (json_int_t)ru.ru_maxrss, "interrupted", s->interrupted);
        if (j != NULL) add_steady(s, j);
        char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
        if (text != NULL) printf("%s\n", text);
        free(text);
        json_decref(j);
    } else {
        printf("gatehouse sim: %s\n", ok ? "done" : "FAILED");
        printf("  devices      %u (%s), connected %u at the end, %u ever\n", s->n,
               s->o->auth == GH_SIM_AUTH_X509 ? "x509" : "sas", s->connected_at_stop, ever);
        printf("  connections  %llu made, %llu failed attempts, %llu dropped\n",
               (unsigned long long)s->connects, (unsigned long long)s->connect_failures,
               (unsigned long long)s->disconnects);
        printf("  telemetry    %llu sent, %llu acknowledged, %llu unacknowledged, %llu errors "
               "(QoS %u)\n",
               (unsigned long long)s->sent, (unsigned long long)s->acked,
               (unsigned long long)s->unacked, (unsigned long long)s->publish_errors,
               (unsigned)s->o->qos);
        printf(
            "  rate         %.1f msg/s sent, %.1f msg/s acknowledged over %.1f s (setup %.1f s)\n",
            sr, ar, el, setup_s);
        if (s->hist.count > 0)
            printf("  latency      p50 %.2f ms, p99 %.2f ms, max %.2f ms (send to PUBACK)\n", p50,
                   p99, mx);
        printf("  twin         %llu reported (%llu accepted), %llu desired patches\n",
               (unsigned long long)s->twin_reported, (unsigned long long)s->twin_acked,
               (unsigned long long)s->desired);
        printf("  methods      %llu answered; c2d %llu received\n", (unsigned long long)s->methods,
               (unsigned long long)s->c2d);
        printf("  cpu          %.2f s user, %.2f s system; max RSS %ld KiB\n", cpu_s(ru.ru_utime),
               cpu_s(ru.ru_stime), (long)ru.ru_maxrss);
        struct steady st = steady_of(s);
        if (st.valid)
            printf("  steady       %.1f msg/s, %.1f connections/s over %.1f s (all connected at "
                   "%.1f s); own CPU %.0f %%\n",
                   st.rate, st.connect_rate, st.secs, st.from_s, 100.0 * st.cpu_util);
        if (s->last_error[0] != '\0') printf("  last error   %s\n", s->last_error);
    }
    fflush(stdout);
}

static enum gh_log_level level_of(const char *l)
{
    if (l == NULL) return GH_LOG_WARN;
    if (strcmp(l, "debug") == 0) return GH_LOG_DEBUG;
    if (strcmp(l, "info") == 0) return GH_LOG_INFO;
    if (strcmp(l, "error") == 0) return GH_LOG_ERROR;
    return GH_LOG_WARN;
}

static gh_err add_timer(struct sim *s, struct event **ev, unsigned ms, event_callback_fn fn)
{
    *ev = event_new(s->base, -1, EV_PERSIST, fn, s);
    GH_ENSURE(*ev != NULL, GH_ERR_NOMEM);
    struct timeval tv = {(time_t)(ms / 1000u), (suseconds_t)((ms % 1000u) * 1000u)};
    GH_ENSURE(event_add(*ev, &tv) == 0, GH_ERR_INTERNAL);
    return GH_OK;
}

static gh_err add_signal(struct sim *s, struct event **ev, int sig)
{
    *ev = evsignal_new(s->base, sig, on_signal, s);
    GH_ENSURE(*ev != NULL, GH_ERR_NOMEM);
    GH_ENSURE(event_add(*ev, NULL) == 0, GH_ERR_INTERNAL);
    return GH_OK;
}

static void free_event(struct event **ev)
{
    if (*ev != NULL) event_free(*ev);
    *ev = NULL;
}

/* One descriptor per device plus a few: raise the soft limit up to the
 * hard one (thousands of devices exceed the usual 1024). */
static void raise_fd_limit(unsigned devices)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    rlim_t want = (rlim_t)devices + FD_RESERVE;
    if (rl.rlim_cur >= want) return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        gh_log_warn("sim.fd_limit", "devices=%u limit=%llu", devices,
                    (unsigned long long)rl.rlim_cur);
    if (rl.rlim_cur < want)
        fprintf(stderr,
                "gatehouse sim: warning: %u devices need %llu file descriptors, the "
                "limit is %llu (ulimit -n)\n",
                devices, (unsigned long long)want, (unsigned long long)rl.rlim_cur);
}

int gh_sim_run(const struct gh_sim_opts *o)
{
    gh_log_set_level(level_of(o->log_level));
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit(o->devices);
    struct sim *s = calloc(1, sizeof *s);
    if (s == NULL) {
        fprintf(stderr, "gatehouse sim: out of memory\n");
        return gh_err_exit_status(GH_ERR_NOMEM);
    }
    s->o = o;
    s->n = o->devices;
    int status = 0;
    gh_err rc = GH_OK;
    s->devs = calloc(s->n, sizeof *s->devs);
    s->base = event_base_new();
    if (s->devs == NULL || s->base == NULL) {
        rc = sim_fail(s, GH_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (unsigned i = 0; i < s->n; i++) {
        s->devs[i].sim = s;
        s->devs[i].index = i;
    }
    int64_t setup0 = sim_now_us();
    rc = sim_setup(s);
    if (rc != GH_OK) goto out;
    if (!is_address(s->dial)) {
        s->dns = evdns_base_new(s->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
        if (s->dns == NULL) {
            rc = sim_fail(s, GH_ERR_IO, "cannot start a DNS resolver");
            goto out;
        }
    }
    for (unsigned i = 0; i < s->n; i++) {
        rc = sim_dev_create(&s->devs[i]);
        if (rc != GH_OK) {
            sim_fail(s, rc, "device %s: %s", s->devs[i].id, gh_err_str(rc));
            goto out;
        }
    }
    double setup_s = (double)(sim_now_us() - setup0) / US_PER_S;
    rc = add_timer(s, &s->tick, GH_SIM_TICK_MS, on_tick);
    if (rc == GH_OK && o->progress)
        rc = add_timer(s, &s->progress_ev, GH_SIM_PROGRESS_MS, on_progress);
    if (rc == GH_OK) rc = add_signal(s, &s->sig_int, SIGINT);
    if (rc == GH_OK) rc = add_signal(s, &s->sig_term, SIGTERM);
    if (rc != GH_OK) {
        sim_fail(s, rc, "event loop: %s", gh_err_str(rc));
        goto out;
    }
    s->t0_us = sim_now_us();
    s->last_tick_us = s->t0_us;
    s->last_progress_us = s->t0_us;
    s->connect_credit = 1.0;
    if (o->duration_s > 0) s->stop_at_us = s->t0_us + o->duration_s * 1000000;
    if (event_base_dispatch(s->base) < 0) {
        rc = sim_fail(s, GH_ERR_INTERNAL, "event loop failed");
        goto out;
    }
    if (o->progress) progress_line(s, true);
    gh_err why = GH_OK;
    bool ok = run_ok(s, &why);
    summary(s, setup_s, ok);
    if (!ok) {
        status = gh_err_exit_status(why);
        fprintf(stderr, "gatehouse sim: %s\n",
                why == GH_ERR_CLOSED    ? "some devices never connected"
                : why == GH_ERR_TIMEOUT ? "the --messages bound was not reached"
                                        : "publishing failed");
    }
out:
    if (rc != GH_OK) {
        fprintf(stderr, "gatehouse sim: %s\n", s->msg[0] ? s->msg : gh_err_str(rc));
        status = gh_err_exit_status(rc);
    }
    free_event(&s->tick);
    free_event(&s->progress_ev);
    free_event(&s->sig_int);
    free_event(&s->sig_term);
    for (unsigned i = 0; s->devs != NULL && i < s->n; i++) {
        gh_mqttc_free(s->devs[i].c);
        if (s->devs[i].cycle_ev != NULL) event_free(s->devs[i].cycle_ev);
    }
    if (s->base != NULL) event_base_loop(s->base, EVLOOP_NONBLOCK);
    sim_setup_cleanup(s);
    if (s->dns != NULL) evdns_base_free(s->dns, 0);
    if (s->base != NULL) event_base_free(s->base);
    free(s->devs);
    free(s);
    return status;
}
