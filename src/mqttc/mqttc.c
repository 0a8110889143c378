/* MQTT client session: lifecycle, connect/reconnect, timers, drop reports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/log.h"
#include "mqttc/mqttc_int.h"
#include "net/conn.h"

static void on_open(struct gh_conn *conn, void *user);
static void on_drain(struct gh_conn *conn, void *user);
static void on_close(struct gh_conn *conn, gh_err reason, void *user);
static void orphan_close(struct gh_conn *conn, gh_err reason, void *user);

static const struct gh_conn_callbacks conn_cbs = {
    .on_open = on_open,
    .on_read = mqttc_on_read,
    .on_drain = on_drain,
    .on_close = on_close,
};

/* For a connection whose client was freed: nothing to report to. */
static const struct gh_conn_callbacks orphan_cbs = {.on_close = orphan_close};

int64_t mqttc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void orphan_close(struct gh_conn *conn, gh_err reason, void *user)
{
    (void)conn;
    (void)reason;
    (void)user;
}

static void destroy(struct gh_mqttc *c)
{
    if (c->timer) event_free(c->timer);
    if (c->ka) event_free(c->ka);
    if (c->refresh) event_free(c->refresh);
    free(c->host);
    free(c->server_name);
    free(c->client_id);
    free(c->username);
    free(c->slots);
    free(c->free_slots);
    if (c->out_buf) explicit_bzero(c->out_buf, c->out_cap); /* held a CONNECT password */
    free(c->out_buf);
    free(c);
}

void mqttc_enter(struct gh_mqttc *c)
{
    c->depth++;
}

void mqttc_leave(struct gh_mqttc *c)
{
    if (--c->depth == 0 && c->freed) destroy(c);
}

static void arm(struct event *ev, int64_t ms)
{
    if (ms < 0) ms = 0;
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(ev, &tv);
}

static void stop_timers(struct gh_mqttc *c)
{
    evtimer_del(c->timer);
    evtimer_del(c->ka);
    evtimer_del(c->refresh);
}

void mqttc_fail(struct gh_mqttc *c, gh_err why, int connack, const char *fmt, ...)
{
    if (!c->conn) return;
    if (!c->close_set) {
        c->close_set = true;
        c->close_why = why;
        c->close_connack = connack;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->close_detail, sizeof c->close_detail, fmt, ap);
        va_end(ap);
    }
    c->state = MQTTC_CLOSING;
    gh_conn_abort(c->conn);
}

gh_err mqttc_send(struct gh_mqttc *c, const struct gh_mqtt_packet *p)
{
    size_t size;
    GH_GUARD(gh_mqtt_packet_size(&c->ctx, p, &size));
    GH_ENSURE(size <= c->out_high, GH_ERR_TOO_LARGE);
    if (size > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 256;
        while (cap < size) cap = cap > c->out_high / 2 ? c->out_high : cap * 2;
        uint8_t *nb = malloc(cap);
        GH_ENSURE(nb, GH_ERR_NOMEM);
        if (c->out_buf) explicit_bzero(c->out_buf, c->out_cap);
        free(c->out_buf);
        c->out_buf = nb;
        c->out_cap = cap;
    }
    struct gh_writer w;
    gh_writer_init(&w, c->out_buf, c->out_cap);
    GH_GUARD(gh_mqtt_encode(&c->ctx, p, &w));
    gh_err rc = gh_conn_write(c->conn, c->out_buf, w.len);
    if (p->type == GH_MQTT_CONNECT) explicit_bzero(c->out_buf, w.len);
    GH_GUARD(rc);
    c->stats.bytes_out += w.len;
    c->last_tx_ms = mqttc_now_ms();
    return GH_OK;
}

/* ---- reconnect ---------------------------------------------------------- */

static uint64_t rng_next(struct gh_mqttc *c)
{
    /* xorshift64*: jitter only, not security relevant */
    uint64_t x = c->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    c->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [min, min(max, min * 2^attempt)]. */
static int64_t backoff_ms(struct gh_mqttc *c)
{
    uint64_t cap = c->backoff_min_ms;
    for (unsigned i = 0; i < c->attempt && cap < c->backoff_max_ms; i++) cap *= 2;
    if (cap > c->backoff_max_ms) cap = c->backoff_max_ms;
    uint64_t span = cap - c->backoff_min_ms + 1;
    return (int64_t)(c->backoff_min_ms + rng_next(c) % span);
}

static void schedule(struct gh_mqttc *c, int64_t delay_ms)
{
    c->state = MQTTC_BACKOFF;
    arm(c->timer, delay_ms);
}

/* Report the end of an attempt or connection, then reconnect unless stopped.
 * Runs from the loop; callbacks may free c (checked after each). */
static void report_drop(struct gh_mqttc *c, gh_err why, int connack, const char *detail,
                        bool was_connected)
{
    stop_timers(c);
    c->state = MQTTC_IDLE;
    bool lasted = was_connected && mqttc_now_ms() - c->connected_at_ms > GH_MQTTC_STABLE_MS;
    bool fast = c->reconnect_now;
    c->reconnect_now = false;
    c->draining = false;
    c->want_window = false;
    memset(c->in_unacked, 0, sizeof c->in_unacked);

    /* in-flight publishes, oldest first */
    for (;;) {
        unsigned best = c->window;
        for (unsigned i = 0; i < c->window; i++)
            if (c->slots[i].used && (best == c->window || c->slots[i].seq < c->slots[best].seq))
                best = i;
        if (best == c->window) break;
        uint64_t cookie = c->slots[best].cookie;
        c->slots[best].used = false;
        c->free_slots[c->nfree++] = best;
        if (c->cbs.on_unacked) c->cbs.on_unacked(c->user, cookie);
        if (c->freed) return;
    }
    for (unsigned i = 0; i < GH_MQTTC_PENDING_SUBS_MAX; i++) {
        if (!c->pend[i].used) continue;
        struct mqttc_pend p = c->pend[i];
        c->pend[i].used = false;
        if (p.unsub && c->cbs.on_unsuback) c->cbs.on_unsuback(c->user, p.cookie, false);
        if (!p.unsub && c->cbs.on_suback) c->cbs.on_suback(c->user, p.cookie, NULL, 0);
        if (c->freed) return;
    }
    c->stats.disconnects++;
    gh_log(why == GH_OK || why == GH_ERR_EXPIRED ? GH_LOG_INFO : GH_LOG_WARN, "mqttc.disconnected",
           "host=%s port=%u err=%s connack=%d detail=\"%s\"", c->host, (unsigned)c->port,
           gh_err_name(why), connack, detail);
    if (c->cbs.on_disconnected) c->cbs.on_disconnected(c->user, why, connack, detail);
    if (c->freed || !c->started || c->state != MQTTC_IDLE) return;
    if (lasted) c->attempt = 0;
    int64_t delay = fast ? 0 : backoff_ms(c);
    if (!fast && c->attempt < 32) c->attempt++;
    schedule(c, delay);
}

static void attempt_connect(struct gh_mqttc *c)
{
    struct gh_conn_connect_params p = {
        .host = c->host,
        .port = c->port,
        .tls = c->tls,
        .server_name = c->server_name,
        .dns = c->dns,
        .timeout_ms = c->connect_timeout_ms,
        .limits = {.out_high = c->out_high,
                   .in_max = c->max_packet > GH_CONN_IN_MAX_DEFAULT ? c->max_packet
                                                                    : GH_CONN_IN_MAX_DEFAULT},
    };
    c->close_set = false;
    c->fed = 0;
    c->ping_outstanding = false;
    c->state = MQTTC_CONNECTING;
    struct gh_conn *conn = NULL;
    gh_err rc = gh_conn_connect(c->base, &p, &conn_cbs, c, &conn);
    if (rc != GH_OK) {
        char detail[GH_MQTTC_DETAIL_MAX];
        snprintf(detail, sizeof detail, "connect to %s:%u: %s", c->host, (unsigned)c->port,
                 gh_err_str(rc));
        report_drop(c, rc, -1, detail, false);
        return;
    }
    c->conn = conn;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gh_mqttc *c = arg;
    mqttc_enter(c);
    switch (c->state) {
    case MQTTC_BACKOFF:
        attempt_connect(c);
        break;
    case MQTTC_CONNACK_WAIT:
        mqttc_fail(c, GH_ERR_TIMEOUT, -1, "no CONNACK within %u ms", c->connack_timeout_ms);
        break;
    case MQTTC_CONNECTED:
        if (c->draining) {
            struct gh_mqtt_packet d = {.type = GH_MQTT_DISCONNECT};
            c->close_set = true;
            c->close_why = GH_ERR_EXPIRED;
            c->close_connack = -1;
            snprintf(c->close_detail, sizeof c->close_detail, "credential refresh");
            c->reconnect_now = true;
            c->state = MQTTC_CLOSING;
            if (mqttc_send(c, &d) != GH_OK)
                gh_conn_abort(c->conn);
            else
                gh_conn_close(c->conn);
        }
        break;
    default:
        break;
    }
    mqttc_leave(c);
}

static void on_refresh(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gh_mqttc *c = arg;
    if (c->state != MQTTC_CONNECTED || c->draining) return;
    c->draining = true;
    gh_log_info("mqttc.refresh", "host=%s inflight=%u", c->host, c->window - c->nfree);
    arm(c->timer, c->nfree == c->window ? 0 : GH_MQTTC_DRAIN_TIMEOUT_MS);
}

void mqttc_slot_freed(struct gh_mqttc *c)
{
    if (c->draining) {
        if (c->nfree == c->window) arm(c->timer, 0);
        return;
    }
    if (c->want_window && c->state == MQTTC_CONNECTED) {
        c->want_window = false;
        if (c->cbs.on_window) c->cbs.on_window(c->user);
    }
}

static void on_keepalive(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct gh_mqttc *c = arg;
    if (c->state != MQTTC_CONNECTED) return;
    int64_t now = mqttc_now_ms();
    int64_t ka = (int64_t)c->keepalive_s * 1000;
    int64_t tick = ka / MQTTC_TICK_DIV;
    mqttc_enter(c);
    if (now - c->last_rx_ms > ka * GH_MQTTC_KEEPALIVE_TIMEOUT_PCT / 100) {
        mqttc_fail(c, GH_ERR_TIMEOUT, -1, "keepalive: nothing received for %lld ms",
                   (long long)(now - c->last_rx_ms));
    } else if (!c->ping_outstanding &&
               (now - c->last_tx_ms + tick >= ka || now - c->last_rx_ms + tick >= ka)) {
        struct gh_mqtt_packet p = {.type = GH_MQTT_PINGREQ};
        if (mqttc_send(c, &p) == GH_OK) {
            c->ping_outstanding = true;
            c->stats.pings++;
        }
        /* a refused PINGREQ (output back-pressure) is retried next tick;
         * the silence check above still bounds a dead server */
    }
    mqttc_leave(c);
}

void mqttc_on_connack_ok(struct gh_mqttc *c, bool session_present)
{
    evtimer_del(c->timer);
    c->state = MQTTC_CONNECTED;
    c->up = true;
    c->connected_at_ms = mqttc_now_ms();
    c->stats.connects++;
    if (c->keepalive_s) {
        int64_t tick = (int64_t)c->keepalive_s * 1000 / MQTTC_TICK_DIV;
        struct timeval tv = {.tv_sec = (time_t)(tick / 1000),
                             .tv_usec = (suseconds_t)(tick % 1000) * 1000};
        evtimer_add(c->ka, &tv);
    }
    if (c->refresh_after_ms > 0) arm(c->refresh, c->refresh_after_ms);
    gh_log_info("mqttc.connected", "host=%s port=%u session_present=%d", c->host, (unsigned)c->port,
                session_present);
    if (c->cbs.on_connected) c->cbs.on_connected(c->user, session_present);
    if (c->freed || c->state != MQTTC_CONNECTED) return;
    c->want_window = false;
    if (c->cbs.on_window) c->cbs.on_window(c->user);
}

/* ---- connection callbacks ----------------------------------------------- */

static void on_open(struct gh_conn *conn, void *user)
{
    struct gh_mqttc *c = user;
    mqttc_enter(c);
    gh_err rc = gh_mqtt_framer_init(&c->framer, GH_MQTT_ROLE_CLIENT, &c->ctx.limits);
    if (rc != GH_OK) {
        mqttc_fail(c, rc, -1, "framer init: %s", gh_err_str(rc));
        goto out;
    }
    c->state = MQTTC_CONNACK_WAIT;
    c->last_rx_ms = c->last_tx_ms = mqttc_now_ms();
    struct gh_mqtt_packet p = {.type = GH_MQTT_CONNECT};
    struct gh_mqtt_connect *k = &p.u.connect;
    k->protocol_level = GH_MQTT_LEVEL_311;
    k->clean_session = c->clean_session;
    k->keep_alive = c->keepalive_s;
    k->client_id = gh_slice_cstr(c->client_id);
    if (c->username) {
        k->has_username = true;
        k->username = gh_slice_cstr(c->username);
    }
    char pw[GH_MQTTC_PASSWORD_MAX];
    c->refresh_after_ms = 0;
    if (c->password) {
        size_t len = 0;
        int64_t expires = 0;
        int64_t now_s = (int64_t)time(NULL);
        rc = c->password(c->user, pw, sizeof pw, &len, &expires);
        if (c->freed) goto wipe;
        if (rc == GH_OK && len > sizeof pw) rc = GH_ERR_INTERNAL;
        if (rc != GH_OK) {
            mqttc_fail(c, rc, -1, "password callback: %s", gh_err_str(rc));
            goto wipe;
        }
        if (expires > 0) {
            int64_t life = expires - now_s;
            if (life < 0) life = 0;
            /* at least 1 ms so that 0 keeps meaning "no refresh" */
            c->refresh_after_ms = life * 1000 * GH_MQTTC_REFRESH_PCT / 100 + 1;
        }
        k->has_password = true;
        k->password = (struct gh_slice){(const uint8_t *)pw, len};
    }
    rc = mqttc_send(c, &p);
    if (rc != GH_OK) {
        mqttc_fail(c, rc, -1, "sending CONNECT: %s", gh_err_str(rc));
        goto wipe;
    }
    arm(c->timer, c->connack_timeout_ms);
wipe:
    explicit_bzero(pw, sizeof pw);
out:
    (void)conn;
    mqttc_leave(c);
}

static void on_drain(struct gh_conn *conn, void *user)
{
    (void)conn;
    struct gh_mqttc *c = user;
    mqttc_enter(c);
    if (!c->draining && c->want_window && c->state == MQTTC_CONNECTED) {
        c->want_window = false;
        if (c->cbs.on_window) c->cbs.on_window(c->user);
    }
    mqttc_leave(c);
}

static void on_close(struct gh_conn *conn, gh_err reason, void *user)
{
    struct gh_mqttc *c = user;
    mqttc_enter(c);
    char detail[GH_MQTTC_DETAIL_MAX];
    gh_err why;
    int connack = -1;
    if (c->close_set) {
        why = c->close_why;
        connack = c->close_connack;
        snprintf(detail, sizeof detail, "%s", c->close_detail);
    } else {
        why = reason == GH_OK ? GH_ERR_CLOSED : reason;
        const char *d = gh_conn_error_detail(conn);
        snprintf(detail, sizeof detail, "%s:%u: %s", c->host, (unsigned)c->port,
                 d ? d : gh_err_str(why));
    }
    bool up = c->up;
    c->up = false;
    c->conn = NULL;
    report_drop(c, why, connack, detail, up);
    mqttc_leave(c);
}

/* ---- public API ----------------------------------------------------------- */

static gh_err dup_str(const char *s, char **out)
{
    GH_ENSURE(strlen(s) <= GH_MQTTC_ID_MAX, GH_ERR_ARG);
    *out = strdup(s);
    GH_ENSURE(*out, GH_ERR_NOMEM);
    return GH_OK;
}

static gh_err check_options(const struct gh_mqttc_options *o)
{
    GH_ENSURE(o->base && o->host && o->host[0] && o->port && o->tls && o->client_id, GH_ERR_ARG);
    GH_ENSURE(o->window >= 1 && o->window <= GH_MQTTC_WINDOW_MAX, GH_ERR_ARG);
    unsigned bmin = o->backoff_min_ms ? o->backoff_min_ms : GH_MQTTC_BACKOFF_MIN_MS_DEFAULT;
    unsigned bmax = o->backoff_max_ms ? o->backoff_max_ms : GH_MQTTC_BACKOFF_MAX_MS_DEFAULT;
    GH_ENSURE(bmin <= bmax, GH_ERR_ARG);
    GH_ENSURE(o->max_packet == 0 || (o->max_packet >= GH_MQTT_MIN_PACKET_LIMIT &&
                                     o->max_packet <= GH_MQTT_MAX_PACKET_LEN),
              GH_ERR_ARG);
    GH_ENSURE(o->out_high == 0 || o->out_high >= GH_MQTT_MIN_PACKET_LIMIT, GH_ERR_ARG);
    return GH_OK;
}

gh_err gh_mqttc_new(const struct gh_mqttc_options *opts, const struct gh_mqttc_callbacks *cbs,
                    void *user, struct gh_mqttc **out)
{
    GH_ENSURE(opts && cbs && out, GH_ERR_ARG);
    GH_GUARD(check_options(opts));
    gh_err rc = GH_ERR_NOMEM;
    struct gh_mqttc *c = calloc(1, sizeof *c);
    GH_ENSURE(c, GH_ERR_NOMEM);
    c->base = opts->base;
    c->dns = opts->dns;
    c->tls = opts->tls;
    c->port = opts->port;
    c->password = opts->password;
    c->keepalive_s = opts->keepalive_s;
    c->clean_session = opts->clean_session;
    c->window = opts->window;
    c->backoff_min_ms =
        opts->backoff_min_ms ? opts->backoff_min_ms : GH_MQTTC_BACKOFF_MIN_MS_DEFAULT;
    c->backoff_max_ms =
        opts->backoff_max_ms ? opts->backoff_max_ms : GH_MQTTC_BACKOFF_MAX_MS_DEFAULT;
    c->max_packet = opts->max_packet ? opts->max_packet : GH_MQTT_DEFAULT_MAX_PACKET_SIZE;
    c->connect_timeout_ms = opts->connect_timeout_ms;
    c->connack_timeout_ms =
        opts->connack_timeout_ms ? opts->connack_timeout_ms : GH_MQTTC_CONNACK_TIMEOUT_MS_DEFAULT;
    c->out_high = opts->out_high ? opts->out_high : GH_MQTTC_OUT_HIGH_DEFAULT;
    c->cbs = *cbs;
    c->user = user;

    struct gh_mqtt_limits lim;
    gh_mqtt_limits_default(&lim);
    lim.max_packet_size = c->max_packet;
    lim.max_connect_size = GH_MQTT_MIN_PACKET_LIMIT; /* the first packet is a 4-byte CONNACK */
    if (lim.max_topic_len > c->max_packet) lim.max_topic_len = c->max_packet;
    rc = gh_mqtt_ctx_init(&c->ctx, &lim);
    if (rc != GH_OK) goto out;

    rc = dup_str(opts->host, &c->host);
    if (rc == GH_OK)
        rc = dup_str(opts->server_name ? opts->server_name : opts->host, &c->server_name);
    if (rc == GH_OK) rc = dup_str(opts->client_id, &c->client_id);
    if (rc == GH_OK && opts->username) rc = dup_str(opts->username, &c->username);
    if (rc != GH_OK) goto out;

    rc = GH_ERR_NOMEM;
    c->slots = calloc(c->window, sizeof *c->slots);
    c->free_slots = calloc(c->window, sizeof *c->free_slots);
    c->timer = evtimer_new(c->base, on_timer, c);
    c->ka = event_new(c->base, -1, EV_PERSIST, on_keepalive, c);
    c->refresh = evtimer_new(c->base, on_refresh, c);
    if (!c->slots || !c->free_slots || !c->timer || !c->ka || !c->refresh) goto out;
    for (unsigned i = 0; i < c->window; i++) c->free_slots[i] = c->window - 1 - i;
    c->nfree = c->window;

    uint64_t seed = 0;
    if (getentropy(&seed, sizeof seed) != 0) seed = 0;
    seed ^= (uint64_t)mqttc_now_ms() ^ (uint64_t)(uintptr_t)c;
    c->rng = seed ? seed : 0x9E3779B97F4A7C15ULL;
    *out = c;
    return GH_OK;
out:
    destroy(c);
    return rc;
}

void gh_mqttc_free(struct gh_mqttc *c)
{
    if (!c || c->freed) return;
    c->freed = true;
    c->started = false;
    if (c->conn) {
        gh_conn_set_callbacks(c->conn, &orphan_cbs, NULL);
        gh_conn_abort(c->conn);
        c->conn = NULL;
    }
    stop_timers(c);
    if (c->depth == 0) destroy(c);
}

gh_err gh_mqttc_start(struct gh_mqttc *c)
{
    GH_ENSURE(c && !c->freed, GH_ERR_ARG);
    c->started = true;
    if (c->state == MQTTC_IDLE) schedule(c, 0);
    return GH_OK;
}

void gh_mqttc_stop(struct gh_mqttc *c)
{
    if (!c || c->freed || !c->started) return;
    c->started = false;
    switch (c->state) {
    case MQTTC_BACKOFF:
        evtimer_del(c->timer);
        c->state = MQTTC_IDLE;
        break;
    case MQTTC_CONNECTING:
    case MQTTC_CONNACK_WAIT:
        mqttc_fail(c, GH_OK, -1, "stopped");
        break;
    case MQTTC_CONNECTED: {
        struct gh_mqtt_packet d = {.type = GH_MQTT_DISCONNECT};
        c->close_set = true;
        c->close_why = GH_OK;
        c->close_connack = -1;
        snprintf(c->close_detail, sizeof c->close_detail, "stopped");
        c->state = MQTTC_CLOSING;
        stop_timers(c);
        if (mqttc_send(c, &d) != GH_OK)
            gh_conn_abort(c->conn);
        else
            gh_conn_close(c->conn);
        break;
    }
    default:
        break;
    }
}

gh_err gh_mqttc_reconnect_now(struct gh_mqttc *c)
{
    GH_ENSURE(c && !c->freed, GH_ERR_ARG);
    GH_ENSURE(c->started, GH_ERR_CLOSED);
    if (c->state == MQTTC_BACKOFF) {
        evtimer_del(c->timer);
        arm(c->timer, 0);
    }
    return GH_OK;
}

bool gh_mqttc_connected(const struct gh_mqttc *c)
{
    return c && c->state == MQTTC_CONNECTED;
}

unsigned gh_mqttc_inflight(const struct gh_mqttc *c)
{
    return c ? c->window - c->nfree : 0;
}

void gh_mqttc_get_stats(const struct gh_mqttc *c, struct gh_mqttc_stats *out)
{
    if (c && out) *out = c->stats;
}
