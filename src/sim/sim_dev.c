/* gatehouse sim: one simulated device (PROTOCOL.md 1.2, 1.8-1.11): MQTT
 * callbacks, telemetry, twin reported/desired properties, direct methods. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "common/encoding.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "iothub/sas.h"
#include "iothub/topic.h"
#include "mqttc/mqttc.h"
#include "sim/sim_int.h"

#define USERNAME_MAX (GH_SIM_HOST_MAX + GH_SIM_ID_MAX + 128u)
#define PAYLOAD_MAX 512u /* twin patches, method responses */
#define RID_MAX 16u      /* decimal uint32 + NUL */
#define DESIRED_EXCERPT 64u
#define NFILTERS 4u

static gh_err password(void *user, char *out, size_t cap, size_t *len, int64_t *expires)
{
    struct sim_dev *d = user;
    struct sim *s = d->sim;
    char sr[3 * (GH_SIM_HOST_MAX + GH_SIM_ID_MAX) + 32];
    struct gh_writer aw;
    gh_writer_init(&aw, sr, sizeof sr);
    GH_GUARD(gh_sas_audience_encode(gh_slice_cstr(s->hub), gh_slice_cstr(d->id), NULL, &aw));
    int64_t se = (int64_t)time(NULL) + (int64_t)s->o->token_ttl_s;
    struct gh_writer w;
    gh_writer_init(&w, out, cap);
    GH_GUARD(gh_sas_build(gh_writer_slice(&aw), gh_slice_cstr(d->key), se, NULL, &w));
    *len = w.len;
    *expires = se;
    return GH_OK;
}

/* Publish a QoS 0 message with a "$rid" topic built by build. */
static void publish_rid(struct sim_dev *d, gh_err (*build)(struct gh_writer *, struct gh_slice),
                        const char *payload)
{
    char rid[RID_MAX];
    snprintf(rid, sizeof rid, "%u", ++d->rid);
    char topic[GH_SIM_TOPIC_MAX];
    struct gh_writer w;
    gh_writer_init(&w, topic, sizeof topic);
    gh_err rc = build(&w, gh_slice_cstr(rid));
    if (rc == GH_OK) rc = gh_writer_terminate(&w);
    if (rc == GH_OK) rc = gh_mqttc_publish(d->c, topic, payload, strlen(payload), 0, 0);
    if (rc != GH_OK) {
        d->sim->publish_errors++;
        gh_log_warn("sim.twin_publish_failed", "device=%s err=%s", d->id, gh_err_name(rc));
    }
}

static void report_started(struct sim_dev *d)
{
    char ts[GH_TIME_TEXT_LEN];
    gh_time_format(sim_wall_ms(), ts);
    char body[PAYLOAD_MAX];
    snprintf(body, sizeof body, "{\"sim\":{\"client\":\"%s\",\"startedAt\":\"%s\",\"index\":%u}}",
             GH_SIM_CLIENT_TYPE, ts, d->index);
    publish_rid(d, gh_iothub_topic_build_twin_patch_reported, body);
    d->sim->twin_reported++;
    if (!d->reported) d->sim->reported_devices++;
    d->reported = true;
}

static void on_connected(void *user, bool session_present)
{
    struct sim_dev *d = user;
    struct sim *s = d->sim;
    d->connected = true;
    if (!d->ever_connected) s->ever_connected++;
    d->ever_connected = true;
    s->connected_now++;
    s->connects++;
    if (s->all_us == 0 && s->ever_connected == s->n) {
        s->all_us = sim_now_us();
        s->sent_at_all = s->sent;
        s->acked_at_all = s->acked;
        s->connects_at_all = s->connects;
        s->cpu_at_all = sim_cpu_s();
    }
    if (s->o->reconnect) {
        event_active(d->cycle_ev, EV_TIMEOUT, 0); /* stop, from the loop */
        return;
    }
    if (s->o->plain) return; /* bare telemetry: nothing to subscribe to */
    char c2d[GH_SIM_ID_MAX + 48];
    snprintf(c2d, sizeof c2d, "devices/%s/messages/devicebound/#", d->id);
    const char *filters[NFILTERS] = {"$iothub/twin/res/#",
                                     "$iothub/twin/PATCH/properties/desired/#",
                                     "$iothub/methods/POST/#", c2d};
    const uint8_t qos[NFILTERS] = {0, 0, 0, 1};
    gh_err rc = gh_mqttc_subscribe(d->c, filters, qos, NFILTERS, 1);
    if (rc != GH_OK) {
        s->publish_errors++;
        gh_log_warn("sim.subscribe_failed", "device=%s err=%s", d->id, gh_err_name(rc));
    }
    gh_log_debug("sim.connected", "device=%s", d->id);
}

static void on_suback(void *user, uint64_t cookie, const uint8_t *codes, size_t n)
{
    struct sim_dev *d = user;
    if (codes == NULL) return; /* dropped before the SUBACK */
    for (size_t i = 0; i < n; i++)
        if (codes[i] == GH_MQTT_SUBACK_FAILURE)
            gh_log_warn("sim.subscribe_refused", "device=%s filter=%zu", d->id, i);
    if (!d->reported) report_started(d);
}

static void on_disconnected(void *user, gh_err why, int connack, const char *detail)
{
    struct sim_dev *d = user;
    struct sim *s = d->sim;
    if (d->connected) {
        d->connected = false;
        s->connected_now--;
        if (why != GH_OK) s->disconnects++;
    } else {
        s->connect_failures++;
    }
    if (why == GH_OK) {
        /* stopped by us: the handshake loop connects again */
        if (s->o->reconnect && !s->closing) event_active(d->cycle_ev, EV_TIMEOUT, 0);
        return;
    }
    if (detail == NULL) detail = "";
    char esc[GH_LOG_EXCERPT_MAX * 4 + 8];
    gh_log_escape(esc, sizeof esc, detail, strlen(detail), 0);
    gh_log_info("sim.disconnected", "device=%s err=%s connack=%d detail=%s", d->id,
                gh_err_name(why), connack, esc);
    if (s->last_error[0] == '\0' || !d->ever_connected)
        snprintf(s->last_error, sizeof s->last_error, "%s: %s (%s)", d->id, gh_err_str(why),
                 detail);
}

static void answer_method(struct sim_dev *d, struct gh_slice name, struct gh_slice rid)
{
    char body[PAYLOAD_MAX];
    char nm[GH_SIM_ID_MAX + 1] = "";
    if (gh_iothub_valid_method_name(name) && name.len < sizeof nm) {
        memcpy(nm, name.ptr, name.len);
        nm[name.len] = '\0';
    }
    snprintf(body, sizeof body, "{\"device\":\"%s\",\"method\":\"%s\",\"ok\":true,\"seq\":%llu}",
             d->id, nm, (unsigned long long)d->seq);
    char topic[GH_SIM_TOPIC_MAX];
    struct gh_writer w;
    gh_writer_init(&w, topic, sizeof topic);
    gh_err rc = gh_iothub_topic_build_method_response(&w, 200, rid);
    if (rc == GH_OK) rc = gh_writer_terminate(&w);
    if (rc == GH_OK) rc = gh_mqttc_publish(d->c, topic, body, strlen(body), 0, 0);
    if (rc != GH_OK) {
        d->sim->publish_errors++;
        gh_log_warn("sim.method_response_failed", "device=%s err=%s", d->id, gh_err_name(rc));
        return;
    }
    d->sim->methods++;
    gh_log_info("sim.method", "device=%s method=%s", d->id, nm);
}

static void on_desired(struct sim_dev *d, uint64_t version, struct gh_slice payload)
{
    struct sim *s = d->sim;
    s->desired++;
    char esc[DESIRED_EXCERPT * 4 + 8];
    gh_log_escape(esc, sizeof esc, payload.ptr, payload.len, DESIRED_EXCERPT);
    gh_log_info("sim.desired", "device=%s version=%llu patch=%s", d->id,
                (unsigned long long)version, esc);
    char body[PAYLOAD_MAX];
    snprintf(body, sizeof body, "{\"sim\":{\"desiredVersion\":%llu}}", (unsigned long long)version);
    publish_rid(d, gh_iothub_topic_build_twin_patch_reported, body);
    s->twin_reported++;
}

static void on_publish(void *user, const struct gh_mqtt_publish *p)
{
    struct sim_dev *d = user;
    struct sim *s = d->sim;
    struct gh_iothub_topic t;
    gh_err rc = gh_iothub_topic_classify_s2d(p->topic, &t);
    if (rc != GH_OK) {
        char esc[GH_LOG_EXCERPT_MAX * 4 + 8];
        gh_log_escape(esc, sizeof esc, p->topic.ptr, p->topic.len, 0);
        gh_log_warn("sim.unexpected_publish", "device=%s topic=%s", d->id, esc);
    } else {
        switch (t.kind) {
        case GH_IOTHUB_TOPIC_TWIN_RESPONSE:
            s->twin_answered++;
            if (t.status >= 200 && t.status < 300)
                s->twin_acked++;
            else
                gh_log_warn("sim.twin_refused", "device=%s status=%d", d->id, (int)t.status);
            break;
        case GH_IOTHUB_TOPIC_TWIN_DESIRED:
            on_desired(d, t.version, p->payload);
            break;
        case GH_IOTHUB_TOPIC_METHOD_REQUEST:
            answer_method(d, t.name, t.rid);
            break;
        case GH_IOTHUB_TOPIC_C2D:
            s->c2d++;
            gh_log_info("sim.c2d", "device=%s bytes=%zu", d->id, p->payload.len);
            break;
        default:
            break;
        }
    }
    if (p->qos == 1) {
        rc = gh_mqttc_puback(d->c, p->packet_id);
        if (rc != GH_OK)
            gh_log_warn("sim.puback_failed", "device=%s err=%s", d->id, gh_err_name(rc));
    }
}

static void on_acked(void *user, uint64_t cookie)
{
    struct sim_dev *d = user;
    struct sim *s = d->sim;
    int64_t now = sim_now_us();
    if (s->o->qos == 0) { /* QoS 1 in a QoS 0 run: flow-control markers and fences */
        if (cookie != 0) return;
        s->fences_acked++;
        if (s->fences_acked + s->fences_lost == s->fences_sent) s->fence_done_us = now;
        return;
    }
    s->acked++;
    gh_sim_hist_add(&s->hist, now > (int64_t)cookie ? (uint64_t)(now - (int64_t)cookie) : 0);
}

static void on_unacked(void *user, uint64_t cookie)
{
    struct sim_dev *d = user;
    if (d->sim->o->qos != 0)
        d->sim->unacked++;
    else if (cookie == 0)
        d->sim->fences_lost++;
}

/* --reconnect: stop a connected device, start a stopped one (deferred to
 * the loop: gh_mqttc_stop/start are not called from its callbacks). */
static void on_cycle(evutil_socket_t fd, short what, void *arg)
{
    struct sim_dev *d = arg;
    struct sim *s = d->sim;
    if (s->closing || s->stopping) return;
    if (d->connected) {
        gh_mqttc_stop(d->c);
        return;
    }
    gh_err rc = gh_mqttc_start(d->c);
    if (rc != GH_OK) sim_fail(s, rc, "start %s: %s", d->id, gh_err_str(rc));
}

gh_err sim_dev_create(struct sim_dev *d)
{
    struct sim *s = d->sim;
    const struct gh_sim_opts *o = s->o;
    char ct[64];
    struct gh_writer cw;
    gh_writer_init(&cw, ct, sizeof ct);
    GH_GUARD(gh_pct_encode(GH_SIM_CLIENT_TYPE, strlen(GH_SIM_CLIENT_TYPE), &cw));
    GH_GUARD(gh_writer_terminate(&cw));
    char user[USERNAME_MAX];
    int k = snprintf(user, sizeof user, "%s/%s/?api-version=%s&DeviceClientType=%s", s->hub, d->id,
                     GH_SIM_API_VERSION, ct);
    GH_ENSURE(k > 0 && (size_t)k < sizeof user, GH_ERR_TOO_LARGE);
    struct gh_mqttc_options mo = {
        .base = s->base,
        .dns = s->dns,
        .host = s->dial,
        .port = s->port,
        .server_name = s->sni,
        .tls = d->tls ? d->tls : s->tls,
        .client_id = d->id,
        .username = user,
        .password = o->auth == GH_SIM_AUTH_SAS ? password : NULL,
        .keepalive_s = (uint16_t)o->keepalive_s,
        .clean_session = true,
        .window = o->qos == 0 && o->plain ? GH_SIM_QOS0_MARKERS : o->window,
    };
    struct gh_mqttc_callbacks cb = {
        .on_connected = on_connected,
        .on_disconnected = on_disconnected,
        .on_publish = on_publish,
        .on_acked = on_acked,
        .on_unacked = on_unacked,
        .on_suback = on_suback,
    };
    gh_sim_sensor_init(&d->sensor, (uint64_t)d->index + 1);
    if (o->reconnect) {
        d->cycle_ev = event_new(s->base, -1, 0, on_cycle, d);
        GH_ENSURE(d->cycle_ev != NULL, GH_ERR_NOMEM);
    }
    return gh_mqttc_new(&mo, &cb, d, &d->c);
}

static gh_err plain_topic(struct gh_writer *w, const char *id)
{
    char t[GH_SIM_TOPIC_MAX];
    int k = snprintf(t, sizeof t, "devices/%s/messages/events/", id);
    GH_ENSURE(k > 0 && (size_t)k < sizeof t, GH_ERR_NOBUFS);
    GH_GUARD(gh_writer_bytes(w, t, (size_t)k + 1)); /* with the NUL */
    return GH_OK;
}

gh_err sim_dev_fence(struct sim_dev *d)
{
    struct sim *s = d->sim;
    GH_ENSURE(d->connected, GH_ERR_CLOSED);
    char topic[GH_SIM_TOPIC_MAX];
    uint8_t body[GH_SIM_BODY_MAX];
    struct gh_writer tw, bw;
    gh_writer_init(&tw, topic, sizeof topic);
    gh_writer_init(&bw, body, sizeof body);
    GH_GUARD(plain_topic(&tw, d->id));
    GH_GUARD(gh_sim_plain_body(&bw, d->seq + 1, sim_wall_us(), s->o->payload_size));
    GH_GUARD(gh_mqttc_publish(d->c, topic, body, bw.len, 1, 0));
    d->fenced = true;
    s->fences_sent++;
    return GH_OK;
}

gh_err sim_dev_send(struct sim_dev *d)
{
    struct sim *s = d->sim;
    GH_ENSURE(d->connected, GH_ERR_CLOSED);
    char topic[GH_SIM_TOPIC_MAX];
    uint8_t body[GH_SIM_BODY_MAX];
    struct gh_writer tw, bw;
    gh_writer_init(&tw, topic, sizeof topic);
    gh_writer_init(&bw, body, sizeof body);
    uint64_t seq = d->seq + 1;
    if (s->o->plain) {
        GH_GUARD(plain_topic(&tw, d->id));
        GH_GUARD(gh_sim_plain_body(&bw, seq, sim_wall_us(), s->o->payload_size));
    } else {
        GH_GUARD(gh_sim_topic(&tw, d->id, seq));
        GH_GUARD(gh_writer_terminate(&tw));
        GH_GUARD(gh_sim_body(&bw, d->id, seq, &d->sensor, sim_wall_ms()));
    }
    /* --plain --qos 0: every GH_SIM_QOS0_MARKER_EVERY-th message goes as QoS 1
     * and at most GH_SIM_QOS0_MARKERS of them are in flight (MQTT has no flow
     * control for QoS 0: this bounds what sits unread in the buffers). */
    uint8_t qos = s->o->qos;
    if (qos == 0 && s->o->plain && seq % GH_SIM_QOS0_MARKER_EVERY == 0) qos = 1;
    GH_GUARD(gh_mqttc_publish(d->c, topic, body, bw.len, qos, (uint64_t)sim_now_us()));
    d->seq = seq;
    s->sent++;
    gh_sim_sensor_step(&d->sensor);
    return GH_OK;
}
