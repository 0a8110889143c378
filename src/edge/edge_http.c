/* The gateway's local HTTP endpoint (plain HTTP, bound to metrics.address,
 * loopback by default): GET /metrics in the Prometheus text format and
 * GET /status as JSON for `gatehouse edge status`. docs/edge.md lists the
 * metrics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "edge/cache.h"
#include "edge/edge_int.h"
#include "http/server.h"
#include "mqttc/mqttc.h"
#include "net/listener.h"
#include "queue/queue.h"
#include "route/route.h"

#define METRICS_MAX (16u * 1024u)

/* A response that could not be sent concerns only that local client. */
static void answered(gh_err rc)
{
    if (rc != GH_OK && rc != GH_ERR_CLOSED)
        gh_log_warn("edge.http.respond", "err=%s", gh_err_str(rc));
}

static int64_t days_left(int64_t not_after_s)
{
    int64_t left = not_after_s - gh_edge_now_ms() / 1000;
    return left < 0 ? -1 - (-left) / 86400 : left / 86400;
}

static int64_t cache_age_s(struct gh_edge *e)
{
    int64_t last = gh_edge_cache_last_sync(e->cache);
    return last ? (gh_edge_now_ms() - last) / 1000 : -1;
}

static void metrics(struct gh_edge *e, struct gh_http_request *req)
{
    char *out = malloc(METRICS_MAX);
    if (!out) {
        gh_http_request_release(req);
        return;
    }
    size_t n = 0;
    const struct gh_edge_stats *s = &e->stats;
    size_t known = 0;
    if (gh_edge_cache_count(e->cache, &known) != GH_OK) known = 0;
#define M(name, type, help, fmt, ...)                                                              \
    do {                                                                                           \
        int k = snprintf(out + n, METRICS_MAX - n,                                                 \
                         "# HELP " name " " help "\n# TYPE " name " " type "\n" name fmt "\n",     \
                         __VA_ARGS__);                                                             \
        if (k > 0 && (size_t)k < METRICS_MAX - n) n += (size_t)k;                                  \
    } while (0)
    M("gatehouse_edge_children_connected", "gauge", "Children authenticated and connected.", " %zu",
      e->nauthenticated);
    M("gatehouse_edge_connections", "gauge", "Open downstream connections (any state).", " %zu",
      e->nchildren);
    M("gatehouse_edge_children_known", "gauge", "Children in the identity cache.", " %zu", known);
    M("gatehouse_edge_children_accepted_total", "counter", "Children authenticated.", " %llu",
      (unsigned long long)s->children_accepted);
    M("gatehouse_edge_children_accepted_offline_total", "counter",
      "Children authenticated while the link to the hub was down.", " %llu",
      (unsigned long long)s->auth_offline);
    static const char *const reasons[6] = {"",
                                           "protocol_version",
                                           "identifier_rejected",
                                           "server_unavailable",
                                           "bad_credentials",
                                           "not_authorized"};
    n += (size_t)snprintf(out + n, METRICS_MAX - n,
                          "# HELP gatehouse_edge_auth_failures_total Refused CONNECTs by "
                          "CONNACK code.\n# TYPE gatehouse_edge_auth_failures_total counter\n");
    for (int i = 1; i < 6 && n < METRICS_MAX; i++)
        n += (size_t)snprintf(out + n, METRICS_MAX - n,
                              "gatehouse_edge_auth_failures_total{reason=\"%s\"} %llu\n",
                              reasons[i], (unsigned long long)s->auth_failures[i]);
    M("gatehouse_edge_messages_received_total", "counter", "Telemetry accepted from children.",
      " %llu", (unsigned long long)s->msgs_in);
    M("gatehouse_edge_messages_forwarded_total", "counter",
      "Telemetry acknowledged by the hub (QoS 1) or sent (QoS 0).", " %llu",
      (unsigned long long)s->msgs_out);
    struct gh_queue_stats q;
    if (gh_queue_stats(e->queue, &q) != GH_OK) memset(&q, 0, sizeof q);
    n += (size_t)snprintf(
        out + n, METRICS_MAX - n,
        "# HELP gatehouse_edge_messages_dropped_total Messages not stored or not sent, by "
        "reason.\n# TYPE gatehouse_edge_messages_dropped_total counter\n"
        "gatehouse_edge_messages_dropped_total{reason=\"expired\"} %llu\n"
        "gatehouse_edge_messages_dropped_total{reason=\"store_full_qos0\"} %llu\n"
        "gatehouse_edge_messages_dropped_total{reason=\"unrouted\"} %llu\n"
        "gatehouse_edge_messages_dropped_total{reason=\"corrupt_record\"} %llu\n"
        "gatehouse_edge_messages_dropped_total{reason=\"brokered_endpoint_unserved\"} %llu\n",
        (unsigned long long)q.expired, (unsigned long long)s->msgs_dropped,
        (unsigned long long)s->msgs_unrouted, (unsigned long long)q.corrupt,
        (unsigned long long)s->brokered_unserved);
    M("gatehouse_edge_messages_refused_total", "counter",
      "QoS 1 messages refused without PUBACK (store full or failing).", " %llu",
      (unsigned long long)s->msgs_refused);
    M("gatehouse_edge_messages_resent_total", "counter",
      "Stored messages sent again after a link drop (at-least-once).", " %llu",
      (unsigned long long)s->msgs_duplicate_sends);
    M("gatehouse_edge_queue_messages", "gauge", "Stored messages waiting for the hub.", " %llu",
      (unsigned long long)q.depth_msgs);
    M("gatehouse_edge_queue_bytes", "gauge", "Bytes of stored messages waiting for the hub.",
      " %llu", (unsigned long long)q.depth_bytes);
    M("gatehouse_edge_queue_disk_bytes", "gauge", "Bytes of the queue's segment files.", " %llu",
      (unsigned long long)q.disk_bytes);
    M("gatehouse_edge_queue_oldest_age_seconds", "gauge",
      "Age of the oldest stored message (0: none).", " %.3f", (double)q.oldest_age_ms / 1000.0);
    M("gatehouse_edge_queue_syncs_total", "counter", "fdatasync calls of the queue.", " %llu",
      (unsigned long long)q.syncs);
    n += (size_t)snprintf(
        out + n, METRICS_MAX - n,
        "# HELP gatehouse_edge_queue_damage_total Damaged queue regions found: corrupt records "
        "skipped, torn tails (an interrupted write) cut off.\n"
        "# TYPE gatehouse_edge_queue_damage_total counter\n"
        "gatehouse_edge_queue_damage_total{kind=\"corrupt\"} %llu\n"
        "gatehouse_edge_queue_damage_total{kind=\"torn\"} %llu\n",
        (unsigned long long)q.corrupt, (unsigned long long)q.torn);
    M("gatehouse_edge_local_published_total", "counter",
      "LocalTopic deliveries to on-site consumers.", " %llu",
      (unsigned long long)s->local_published);
    M("gatehouse_edge_file_lines_total", "counter", "AppendFile lines written.", " %llu",
      (unsigned long long)s->file_lines);
    n += (size_t)snprintf(out + n, METRICS_MAX - n,
                          "# HELP gatehouse_edge_route_messages_total Messages per route and "
                          "direction (in: selected; out: acknowledged by the hub).\n"
                          "# TYPE gatehouse_edge_route_messages_total counter\n");
    for (size_t i = 0; e->routes && i < gh_route_table_count(e->routes) && n < METRICS_MAX; i++) {
        const char *rn = gh_route_table_name(e->routes, i);
        n += (size_t)snprintf(
            out + n, METRICS_MAX - n,
            "gatehouse_edge_route_messages_total{route=\"%s\",direction=\"in\"} %llu\n"
            "gatehouse_edge_route_messages_total{route=\"%s\",direction=\"out\"} %llu\n",
            rn, (unsigned long long)s->route_in[i], rn, (unsigned long long)s->route_out[i]);
    }
    M("gatehouse_edge_c2d_relayed_total", "counter", "Cloud-to-device messages relayed.", " %llu",
      (unsigned long long)s->c2d_relayed);
    M("gatehouse_edge_methods_relayed_total", "counter", "Direct method requests relayed.", " %llu",
      (unsigned long long)s->methods_relayed);
    M("gatehouse_edge_twin_requests_total", "counter", "Twin requests relayed to the hub.", " %llu",
      (unsigned long long)s->twin_relayed);
    M("gatehouse_edge_upstream_connected", "gauge", "1 when the link to the hub is up.", " %d",
      e->link_up ? 1 : 0);
    M("gatehouse_edge_upstream_connects_total", "counter", "Successful connects to the hub.",
      " %llu", (unsigned long long)s->link_connects);
    M("gatehouse_edge_upstream_subscriptions_refused_total", "counter",
      "Child subscriptions the hub refused (the child holds a SUBACK the gateway granted).",
      " %llu", (unsigned long long)s->link_sub_refused);
    M("gatehouse_edge_server_cert_days_left", "gauge",
      "Days until the downstream server certificate expires.", " %lld",
      (long long)days_left(e->cert_not_after_s));
    M("gatehouse_edge_identity_sync_age_seconds", "gauge",
      "Seconds since the last successful identity sync (-1: never).", " %lld",
      (long long)cache_age_s(e));
    M("gatehouse_edge_identity_syncs_total", "counter", "Identity cache syncs by outcome.",
      "{outcome=\"ok\"} %llu\ngatehouse_edge_identity_syncs_total{outcome=\"failed\"} %llu",
      (unsigned long long)s->syncs_ok, (unsigned long long)s->syncs_failed);
#undef M
    answered(gh_http_respond(req, 200, "text/plain; version=0.0.4", out, n, NULL, 0));
    free(out);
}

static json_t *time_or_null(int64_t ms)
{
    if (ms <= 0) return json_null();
    char t[GH_TIME_TEXT_LEN];
    gh_time_format(ms, t);
    return json_string(t);
}

static void status(struct gh_edge *e, struct gh_http_request *req)
{
    size_t known = 0;
    if (gh_edge_cache_count(e->cache, &known) != GH_OK) known = 0;
    int64_t age = cache_age_s(e);
    struct gh_queue_stats q;
    if (gh_queue_stats(e->queue, &q) != GH_OK) memset(&q, 0, sizeof q);
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:{s:s, s:o, s:o}, s:{s:I, s:I}, s:{s:o, s:o}, s:[{s:s, s:o, s:I}],"
        " s:{s:I, s:I, s:I}}",
        "version", GH_VERSION, "deviceId", e->id.device_id, "hub", e->id.hub, "upstream", "state",
        e->link_up ? "connected" : (e->link ? "connecting" : "disconnected"), "since",
        time_or_null(e->link_since_ms), "lastError",
        e->link_error[0] ? json_string(e->link_error) : json_null(), "children", "connected",
        (json_int_t)e->nauthenticated, "known", (json_int_t)known, "cache", "lastSync",
        time_or_null(gh_edge_cache_last_sync(e->cache)), "ageSeconds",
        age < 0 ? json_null() : json_integer(age), "certificates", "name", "server", "notAfter",
        time_or_null(e->cert_not_after_s * 1000), "daysLeft",
        (json_int_t)days_left(e->cert_not_after_s), "messages", "received",
        (json_int_t)e->stats.msgs_in, "forwarded", (json_int_t)e->stats.msgs_out, "pending",
        (json_int_t)q.depth_msgs);
    if (j) {
        json_t *qj = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "messages",
                               (json_int_t)q.depth_msgs, "bytes", (json_int_t)q.depth_bytes,
                               "oldestAgeSeconds", (json_int_t)(q.oldest_age_ms / 1000), "expired",
                               (json_int_t)q.expired, "corrupt", (json_int_t)q.corrupt, "refused",
                               (json_int_t)e->stats.msgs_refused);
        if (qj) json_object_set_new(j, "queue", qj);
    }
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) {
        gh_http_request_release(req);
        return;
    }
    answered(gh_http_respond_json(req, 200, text));
    free(text);
}

static void on_request(struct gh_http_request *req, void *user)
{
    struct gh_edge *e = user;
    const char *seg = gh_http_request_segment(req, 0);
    bool get = strcmp(gh_http_request_method(req), "GET") == 0 ||
               strcmp(gh_http_request_method(req), "HEAD") == 0;
    if (get && gh_http_request_segment_count(req) == 1 && seg && strcmp(seg, "metrics") == 0)
        metrics(e, req);
    else if (get && gh_http_request_segment_count(req) == 1 && seg && strcmp(seg, "status") == 0)
        status(e, req);
    else
        answered(gh_http_respond(req, 404, "text/plain", "not found\n", 10, NULL, 0));
}

gh_err gh_edge_http_start(struct gh_edge *e, char *err, size_t errlen)
{
    if (e->cfg->metrics_port == 0) return GH_OK;
    char addr[GH_EDGE_ADDR_MAX + 16];
    snprintf(addr, sizeof addr, "%s:%lld", e->cfg->metrics_address,
             (long long)e->cfg->metrics_port);
    struct gh_http_server_options o = {.listener = {.plaintext = true, .max_conns = 16}};
    char detail[256] = "";
    gh_err rc = gh_http_server_new(e->base, addr, NULL, &o, on_request, e, &e->metrics, detail,
                                   sizeof detail);
    if (rc != GH_OK) snprintf(err, errlen, "metrics endpoint %s: %s", addr, detail);
    return rc;
}

void gh_edge_http_stop(struct gh_edge *e)
{
    gh_http_server_free(e->metrics);
    e->metrics = NULL;
}
