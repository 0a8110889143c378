/* gh_bench_consume: the service-side consumer of the end-to-end and drain
 * benchmarks (issue 9, cases 2 and 5). One MQTT/TLS subscription on one
 * event loop; every message carries the `gatehouse sim --plain` body
 * {"seq":N,"t":MICROSECONDS}, and the consumer measures the latency from t
 * (the device's send time) to its own receipt (same machine, same clock).
 *
 *   gatehouse hub: --envelope, client id $service:{name}, user name = the
 *     hub host, password = a SAS token of the service connection string's
 *     policy (docs/hub.md "Reading telemetry"), topic $gatehouse/telemetry/#;
 *     the device id and the body come from the JSON envelope.
 *   mosquitto: an X.509 client certificate, the raw body on
 *     devices/{id}/messages/events/ (the device id is the topic's second
 *     level); --persistent keeps the session (clean session off).
 *
 * Every message is acknowledged at once (QoS 1). Duplicates are recognised
 * per (device, seq). Messages sent before the consumer started are counted
 * as stale and otherwise ignored (leftovers of an earlier run).
 *
 * Phases: SIGUSR1 records a mark (wall time). A message belongs to the send
 * phase of its t (the number of marks at or before t); per phase the output
 * has counts and latency (all devices, and devices whose id starts with
 * --live-prefix), and per receive phase the "backlog" received in it: unique
 * messages sent in an earlier phase, with the first and last receipt time
 * (a drain rate).
 *
 * usage: gh_bench_consume --host ADDR [--port 8883] --server-name NAME
 *          --ca FILE --topic FILTER
 *          (--connection-string-file FILE [--envelope] | --cert F --key F)
 *          [--client-id ID] [--persistent] [--live-prefix P]
 *          [--idle S] [--max-seconds S] [--ready-file F] [--status-file F]
 * --status-file: rewritten every 100 ms with two numbers, the unique fresh
 * messages so far and those of them from devices outside --live-prefix (the
 * script watches a backlog arrive).
 * Stops after --idle seconds without a fresh message (once one came), after
 * --max-seconds, or on SIGTERM/SIGINT; prints one JSON object on stdout.
 * Exit status 0, 2 on usage errors, 1 on a setup error (reason on stderr).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <event2/event.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/error.h"
#include "iothub/connstr.h"
#include "iothub/crypto.h"
#include "iothub/sas.h"
#include "mqttc/mqttc.h"
#include "net/tls.h"
#include "sim/sim.h"

#define DEVICES_MAX 4096u           /* distinct device ids tracked */
#define TABLE_SIZE 8192u            /* open addressing, 2 x DEVICES_MAX */
#define DEVICE_ID_MAX 128u          /* IoT Hub device-id limit */
#define SEQ_MAX (1u << 26)          /* per-device sequence numbers tracked (8 MiB bitmap) */
#define MARKS_MAX 8u                /* SIGUSR1 marks */
#define PHASES (MARKS_MAX + 1u)     /* send / receive phases */
#define BODY_PREFIX_MAX 96u         /* bytes of the body parsed for seq and t */
#define TOKEN_TTL_S 3600            /* SAS token lifetime */
#define TICK_MS 100                 /* idle / deadline check */
#define TOPIC_PREFIX "devices/"     /* raw mode: devices/{id}/messages/events/ */
#define SERVICE_ID "$service:bench" /* default client id with a connection string */

struct dev {
    char id[DEVICE_ID_MAX + 1];
    uint8_t *bits; /* seen sequence numbers */
    size_t nbytes;
};

struct phase {
    uint64_t unique;              /* unique fresh messages sent in this phase */
    struct gh_sim_hist all, live; /* latency of those (first copy) */
    uint64_t backlog;             /* received in this phase, sent in an earlier one */
    double backlog_first, backlog_last;
};

struct consumer {
    /* options */
    const char *host, *server_name, *ca, *topic, *cs_file, *cert, *key, *client_id;
    const char *live_prefix, *ready_file, *status_file;
    uint16_t port;
    bool envelope, persistent;
    double idle_s, max_s;
    /* credentials (connection string) */
    char cs_text[GH_CONNSTR_MAX + 1];
    char cs_host[256], cs_policy[128], cs_key[256];
    /* runtime */
    struct event_base *base;
    struct gh_mqttc *mq;
    double start, first_rx, last_rx, last_fresh;
    double marks[MARKS_MAX];
    unsigned nmarks;
    uint64_t nonlive; /* unique fresh messages of devices outside live_prefix */
    uint64_t received, unique, duplicates, bad, stale, connects, disconnects, subscribed;
    struct gh_sim_hist all;
    struct phase ph[PHASES];
    struct dev *table[TABLE_SIZE];
    unsigned ndevs;
    char last_error[GH_MQTTC_DETAIL_MAX + 64];
};

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t fnv1a(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= 16777619u;
    }
    return h;
}

/* The device entry for id (created on first sight); NULL when the table is full. */
static struct dev *device(struct consumer *c, const char *id, size_t n)
{
    uint32_t i = fnv1a(id, n) & (TABLE_SIZE - 1u);
    for (;;) {
        struct dev *d = c->table[i];
        if (d == NULL) break;
        if (strlen(d->id) == n && memcmp(d->id, id, n) == 0) return d;
        i = (i + 1u) & (TABLE_SIZE - 1u);
    }
    if (c->ndevs >= DEVICES_MAX) return NULL;
    struct dev *d = calloc(1, sizeof *d);
    if (d == NULL) return NULL;
    memcpy(d->id, id, n);
    d->id[n] = '\0';
    c->table[i] = d;
    c->ndevs++;
    return d;
}

/* Marks seq as seen; returns 1 when new, 0 when a duplicate, -1 when out of
 * range or out of memory. */
static int seen(struct dev *d, uint64_t seq)
{
    if (seq >= SEQ_MAX) return -1;
    size_t byte = (size_t)(seq / 8u);
    if (byte >= d->nbytes) {
        size_t n = d->nbytes ? d->nbytes : 1024u;
        while (n <= byte) n *= 2u;
        uint8_t *p = realloc(d->bits, n);
        if (p == NULL) return -1;
        memset(p + d->nbytes, 0, n - d->nbytes);
        d->bits = p;
        d->nbytes = n;
    }
    uint8_t bit = (uint8_t)(1u << (seq % 8u));
    if (d->bits[byte] & bit) return 0;
    d->bits[byte] |= bit;
    return 1;
}

/* {"seq":N,"t":US} (the sim's --plain body, spaces after it). */
static bool parse_body(const uint8_t *p, size_t n, uint64_t *seq, int64_t *t_us)
{
    char buf[BODY_PREFIX_MAX + 1];
    if (n > BODY_PREFIX_MAX) n = BODY_PREFIX_MAX;
    memcpy(buf, p, n);
    buf[n] = '\0';
    unsigned long long s;
    long long t;
    if (sscanf(buf, "{\"seq\":%llu,\"t\":%lld", &s, &t) != 2 || t <= 0) return false;
    *seq = s;
    *t_us = t;
    return true;
}

static unsigned phase_of(const struct consumer *c, double t)
{
    unsigned k = 0;
    while (k < c->nmarks && c->marks[k] <= t) k++;
    return k;
}

static void on_message(struct consumer *c, const char *id, size_t idlen, uint64_t seq, int64_t t_us,
                       double now)
{
    double t = (double)t_us / 1e6;
    if (t < c->start) {
        c->stale++;
        return;
    }
    struct dev *d = device(c, id, idlen);
    int fresh = d ? seen(d, seq) : -1;
    if (fresh < 0) {
        c->bad++;
        return;
    }
    if (fresh == 0) {
        c->duplicates++;
        return;
    }
    c->unique++;
    c->last_fresh = now;
    uint64_t lat = now > t ? (uint64_t)((now - t) * 1e6) : 0;
    gh_sim_hist_add(&c->all, lat);
    unsigned sp = phase_of(c, t), rp = c->nmarks;
    struct phase *s = &c->ph[sp];
    s->unique++;
    gh_sim_hist_add(&s->all, lat);
    if (c->live_prefix && strncmp(id, c->live_prefix, strlen(c->live_prefix)) == 0)
        gh_sim_hist_add(&s->live, lat);
    else
        c->nonlive++;
    if (sp < rp) {
        struct phase *r = &c->ph[rp];
        if (r->backlog == 0) r->backlog_first = now - c->start;
        r->backlog_last = now - c->start;
        r->backlog++;
    }
}

static void envelope_message(struct consumer *c, const struct gh_mqtt_publish *p, double now)
{
    json_error_t jerr;
    json_t *env = json_loadb((const char *)p->payload.ptr, p->payload.len, 0, &jerr);
    const char *id = NULL, *body = NULL;
    size_t idlen = 0, bodylen = 0;
    if (env != NULL) {
        json_t *jid = json_object_get(env, "deviceId"), *jb = json_object_get(env, "body");
        if (json_is_string(jid) && json_is_string(jb)) {
            id = json_string_value(jid);
            idlen = json_string_length(jid);
            body = json_string_value(jb);
            bodylen = json_string_length(jb);
        }
    }
    uint64_t seq;
    int64_t t_us;
    if (id == NULL || idlen == 0 || idlen > DEVICE_ID_MAX ||
        !parse_body((const uint8_t *)body, bodylen, &seq, &t_us))
        c->bad++;
    else
        on_message(c, id, idlen, seq, t_us, now);
    json_decref(env);
}

static void raw_message(struct consumer *c, const struct gh_mqtt_publish *p, double now)
{
    const char *topic = (const char *)p->topic.ptr;
    size_t n = p->topic.len, pre = strlen(TOPIC_PREFIX);
    uint64_t seq;
    int64_t t_us;
    if (n <= pre || memcmp(topic, TOPIC_PREFIX, pre) != 0) {
        c->bad++;
        return;
    }
    const char *id = topic + pre;
    const char *end = memchr(id, '/', n - pre);
    size_t idlen = end ? (size_t)(end - id) : n - pre;
    if (idlen == 0 || idlen > DEVICE_ID_MAX ||
        !parse_body(p->payload.ptr, p->payload.len, &seq, &t_us)) {
        c->bad++;
        return;
    }
    on_message(c, id, idlen, seq, t_us, now);
}

static void on_publish(void *user, const struct gh_mqtt_publish *p)
{
    struct consumer *c = user;
    double now = wall_s();
    c->received++;
    if (c->first_rx == 0.0) c->first_rx = now;
    c->last_rx = now;
    if (c->envelope)
        envelope_message(c, p, now);
    else
        raw_message(c, p, now);
    if (p->qos == 1 && gh_mqttc_puback(c->mq, p->packet_id) != GH_OK) c->bad++;
}

static void on_connected(void *user, bool session_present)
{
    (void)session_present;
    struct consumer *c = user;
    c->connects++;
    const char *filters[1] = {c->topic};
    uint8_t qos[1] = {1};
    gh_err rc = gh_mqttc_subscribe(c->mq, filters, qos, 1, 1);
    if (rc != GH_OK) {
        fprintf(stderr, "gh_bench_consume: subscribe: %s\n", gh_err_str(rc));
        event_base_loopbreak(c->base);
    }
}

static void on_suback(void *user, uint64_t cookie, const uint8_t *codes, size_t n)
{
    (void)cookie;
    struct consumer *c = user;
    if (n != 1 || codes == NULL || codes[0] == GH_MQTT_SUBACK_FAILURE) return;
    c->subscribed++;
    if (c->ready_file && c->subscribed == 1) {
        FILE *f = fopen(c->ready_file, "w");
        if (f == NULL || fclose(f) != 0)
            fprintf(stderr, "gh_bench_consume: cannot write %s\n", c->ready_file);
    }
}

static void on_disconnected(void *user, gh_err why, int connack, const char *detail)
{
    struct consumer *c = user;
    c->disconnects++;
    snprintf(c->last_error, sizeof c->last_error, "%s (connack %d): %s", gh_err_name(why), connack,
             detail ? detail : "");
}

static gh_err password(void *user, char *out, size_t cap, size_t *len, int64_t *expires)
{
    struct consumer *c = user;
    struct gh_writer w;
    gh_writer_init(&w, out, cap);
    int64_t se = (int64_t)time(NULL) + TOKEN_TTL_S;
    GH_GUARD(
        gh_sas_build(gh_slice_cstr(c->cs_host), gh_slice_cstr(c->cs_key), se, c->cs_policy, &w));
    *len = w.len;
    *expires = se;
    return GH_OK;
}

/* Written to a temporary name and renamed, so a reader never sees half. */
static void write_status(const struct consumer *c)
{
    char tmp[1024];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", c->status_file) >= (int)sizeof tmp) return;
    FILE *f = fopen(tmp, "w");
    if (f == NULL) return;
    bool ok = fprintf(f, "%" PRIu64 " %" PRIu64 "\n", c->unique, c->nonlive) > 0;
    if (fclose(f) != 0) ok = false;
    if (!ok || rename(tmp, c->status_file) != 0) remove(tmp);
}

static void on_tick(evutil_socket_t fd, short what, void *user)
{
    (void)fd;
    (void)what;
    struct consumer *c = user;
    double now = wall_s();
    if (c->status_file) write_status(c);
    if (c->max_s > 0 && now - c->start >= c->max_s) event_base_loopbreak(c->base);
    if (c->idle_s > 0 && c->last_fresh > 0 && now - c->last_fresh >= c->idle_s)
        event_base_loopbreak(c->base);
}

static void on_signal(evutil_socket_t sig, short what, void *user)
{
    (void)what;
    struct consumer *c = user;
    if (sig == SIGUSR1) {
        if (c->nmarks < MARKS_MAX) c->marks[c->nmarks++] = wall_s();
        return;
    }
    event_base_loopbreak(c->base);
}

static void print_hist(const char *name, const struct gh_sim_hist *h)
{
    printf("\"%s\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f,\"count\":%" PRIu64 "}", name,
           (double)gh_sim_hist_quantile(h, 0.50) / 1000.0,
           (double)gh_sim_hist_quantile(h, 0.99) / 1000.0, (double)h->max_us / 1000.0, h->count);
}

static void report(const struct consumer *c, double end)
{
    struct rusage ru;
    double cpu = 0.0;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
              (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    double span = c->last_rx > c->first_rx ? c->last_rx - c->first_rx : 0.0;
    printf("{\"received\":%" PRIu64 ",\"unique\":%" PRIu64 ",\"duplicates\":%" PRIu64
           ",\"bad\":%" PRIu64 ",\"stale\":%" PRIu64 ",\"devices\":%u,\"connects\":%" PRIu64
           ",\"disconnects\":%" PRIu64 ",\"nonlive\":%" PRIu64 ",",
           c->received, c->unique, c->duplicates, c->bad, c->stale, c->ndevs, c->connects,
           c->disconnects, c->nonlive);
    printf("\"elapsed_s\":%.3f,\"first_rx_s\":%.3f,\"last_rx_s\":%.3f,\"rate\":%.1f,",
           end - c->start, c->first_rx > 0 ? c->first_rx - c->start : 0.0,
           c->last_rx > 0 ? c->last_rx - c->start : 0.0, span > 0 ? (double)c->unique / span : 0.0);
    print_hist("latency_ms", &c->all);
    printf(",\"phases\":[");
    for (unsigned k = 0; k <= c->nmarks; k++) {
        const struct phase *p = &c->ph[k];
        double bspan = p->backlog_last - p->backlog_first;
        printf("%s{\"from_s\":%.3f,\"unique\":%" PRIu64 ",", k ? "," : "",
               k ? c->marks[k - 1] - c->start : 0.0, p->unique);
        print_hist("latency_ms", &p->all);
        printf(",");
        print_hist("live_latency_ms", &p->live);
        printf(",\"backlog\":{\"count\":%" PRIu64
               ",\"first_s\":%.3f,\"last_s\":%.3f,\"rate\":%.1f}}",
               p->backlog, p->backlog_first, p->backlog_last,
               bspan > 0 ? (double)p->backlog / bspan : 0.0);
    }
    printf("],\"cpu_s\":%.2f,\"cpu_util\":%.3f,\"last_error\":", cpu, span > 0 ? cpu / span : 0.0);
    json_t *e = json_string(c->last_error);
    char *s = e ? json_dumps(e, JSON_ENCODE_ANY) : NULL;
    printf("%s}\n", s ? s : "\"\"");
    free(s);
    json_decref(e);
}

static int usage(const char *why)
{
    fprintf(stderr,
            "gh_bench_consume: %s\n"
            "usage: gh_bench_consume --host ADDR [--port 8883] --server-name NAME --ca FILE\n"
            "         --topic FILTER (--connection-string-file FILE [--envelope] |\n"
            "         --cert FILE --key FILE) [--client-id ID] [--persistent]\n"
            "         [--live-prefix P] [--idle S] [--max-seconds S] [--ready-file F]\n"
            "         [--status-file F]\n",
            why);
    return 2;
}

static bool num(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi)) return false;
    *out = v;
    return true;
}

static int parse_args(struct consumer *c, int argc, char **argv)
{
    double port = 8883;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--envelope") == 0) {
            c->envelope = true;
            continue;
        }
        if (strcmp(a, "--persistent") == 0) {
            c->persistent = true;
            continue;
        }
        if (i + 1 >= argc) return usage("an option lacks its value");
        const char *v = argv[++i];
        if (strcmp(a, "--host") == 0)
            c->host = v;
        else if (strcmp(a, "--port") == 0) {
            if (!num(v, 1, 65535, &port)) return usage("--port: 1..65535");
        } else if (strcmp(a, "--server-name") == 0)
            c->server_name = v;
        else if (strcmp(a, "--ca") == 0)
            c->ca = v;
        else if (strcmp(a, "--topic") == 0)
            c->topic = v;
        else if (strcmp(a, "--connection-string-file") == 0)
            c->cs_file = v;
        else if (strcmp(a, "--cert") == 0)
            c->cert = v;
        else if (strcmp(a, "--key") == 0)
            c->key = v;
        else if (strcmp(a, "--client-id") == 0)
            c->client_id = v;
        else if (strcmp(a, "--live-prefix") == 0)
            c->live_prefix = v;
        else if (strcmp(a, "--ready-file") == 0)
            c->ready_file = v;
        else if (strcmp(a, "--status-file") == 0)
            c->status_file = v;
        else if (strcmp(a, "--idle") == 0) {
            if (!num(v, 0.1, 3600, &c->idle_s)) return usage("--idle: 0.1..3600 seconds");
        } else if (strcmp(a, "--max-seconds") == 0) {
            if (!num(v, 1, 86400, &c->max_s)) return usage("--max-seconds: 1..86400");
        } else
            return usage("unknown option");
    }
    c->port = (uint16_t)port;
    if (!c->host || !c->server_name || !c->ca || !c->topic)
        return usage("--host, --server-name, --ca and --topic are required");
    if ((c->cs_file != NULL) == (c->cert != NULL))
        return usage("give --connection-string-file or --cert/--key");
    if ((c->cert != NULL) != (c->key != NULL)) return usage("--cert and --key go together");
    if (c->envelope && !c->cs_file) return usage("--envelope goes with --connection-string-file");
    return 0;
}

/* Host, policy and key of the service connection string in c->cs_file. */
static int load_connection_string(struct consumer *c)
{
    FILE *f = fopen(c->cs_file, "r");
    if (f == NULL) {
        fprintf(stderr, "gh_bench_consume: cannot open %s: %s\n", c->cs_file, strerror(errno));
        return 1;
    }
    size_t n = fread(c->cs_text, 1, GH_CONNSTR_MAX, f);
    fclose(f);
    while (n > 0 && (c->cs_text[n - 1] == '\n' || c->cs_text[n - 1] == '\r')) n--;
    c->cs_text[n] = '\0';
    struct gh_connstr cs;
    const char *why = NULL;
    if (gh_connstr_parse(gh_slice_cstr(c->cs_text), &cs, &why) != GH_OK ||
        gh_connstr_check_service(&cs, &why) != GH_OK ||
        gh_slice_to_cstr(cs.host_name, c->cs_host, sizeof c->cs_host) != GH_OK ||
        gh_slice_to_cstr(cs.shared_access_key_name, c->cs_policy, sizeof c->cs_policy) != GH_OK ||
        gh_slice_to_cstr(cs.shared_access_key, c->cs_key, sizeof c->cs_key) != GH_OK) {
        fprintf(stderr, "gh_bench_consume: %s: not a service connection string%s%s\n", c->cs_file,
                why ? ": " : "", why ? why : "");
        return 1;
    }
    gh_secure_zero(c->cs_text, sizeof c->cs_text);
    return 0;
}

int main(int argc, char **argv)
{
    static struct consumer c; /* large (histograms): not on the stack */
    int rc = parse_args(&c, argc, argv);
    if (rc != 0) return rc;
    if (c.cs_file && load_connection_string(&c) != 0) return 1;
    signal(SIGPIPE, SIG_IGN);

    struct gh_tls_client *tls = NULL;
    struct event *tick = NULL, *sigs[3] = {NULL, NULL, NULL};
    char detail[256] = "";
    struct gh_tls_client_config tc = {.ca_file = c.ca,
                                      .id = {.cert_file = c.cert, .key_file = c.key}};
    rc = 1;
    c.base = event_base_new();
    if (c.base == NULL) goto out;
    if (gh_tls_client_new(&tc, &tls, detail, sizeof detail) != GH_OK) {
        fprintf(stderr, "gh_bench_consume: TLS: %s\n", detail);
        goto out;
    }
    struct gh_mqttc_options o = {
        .base = c.base,
        .host = c.host,
        .port = c.port,
        .server_name = c.server_name,
        .tls = tls,
        .client_id = c.client_id ? c.client_id : (c.cs_file ? SERVICE_ID : "bench-consumer"),
        .username = c.cs_file ? c.cs_host : NULL,
        .password = c.cs_file ? password : NULL,
        .keepalive_s = 30,
        .clean_session = !c.persistent,
        .window = 1,
        .backoff_min_ms = 100,
        .backoff_max_ms = 500,
    };
    struct gh_mqttc_callbacks cb = {.on_connected = on_connected,
                                    .on_disconnected = on_disconnected,
                                    .on_publish = on_publish,
                                    .on_suback = on_suback};
    gh_err e = gh_mqttc_new(&o, &cb, &c, &c.mq);
    if (e != GH_OK) {
        fprintf(stderr, "gh_bench_consume: %s\n", gh_err_str(e));
        goto out;
    }
    const int signos[3] = {SIGUSR1, SIGTERM, SIGINT};
    for (int i = 0; i < 3; i++) {
        sigs[i] = evsignal_new(c.base, signos[i], on_signal, &c);
        if (sigs[i] == NULL || event_add(sigs[i], NULL) != 0) goto out;
    }
    tick = event_new(c.base, -1, EV_PERSIST, on_tick, &c);
    struct timeval tv = {0, TICK_MS * 1000};
    if (tick == NULL || event_add(tick, &tv) != 0) goto out;
    c.start = wall_s();
    if (gh_mqttc_start(c.mq) != GH_OK) goto out;
    event_base_dispatch(c.base);
    report(&c, wall_s());
    rc = 0;
out:
    gh_mqttc_free(c.mq);
    for (int i = 0; i < 3; i++)
        if (sigs[i]) event_free(sigs[i]);
    if (tick) event_free(tick);
    gh_tls_client_free(tls);
    if (c.base) event_base_free(c.base);
    for (unsigned i = 0; i < TABLE_SIZE; i++) {
        if (c.table[i]) free(c.table[i]->bits);
        free(c.table[i]);
    }
    gh_secure_zero(c.cs_key, sizeof c.cs_key);
    return rc;
}
