/* DPS registration over MQTT (PROTOCOL.md 4.2, as the Node provisioning
 * SDK does it): CONNECT as {idScope}/registrations/{registrationId}, SUBSCRIBE
 * $dps/registrations/res/#, PUBLISH iotdps-register, then poll
 * iotdps-get-operationstatus every retry-after seconds until the operation
 * is assigned (or failed). The result (hub, device id) starts the hub
 * connection on the same loop. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "common/log.h"
#include "device/device_int.h"
#include "iothub/sas.h"
#include "iothub/topic.h"
#include "iothub/username.h"
#include "mqttc/mqttc.h"

#define DPS_FILTER "$dps/registrations/res/#"
#define DPS_KEY_NAME "registration"
#define DPS_SUB_COOKIE 1u

static void dps_stop(struct gh_device_client *c)
{
    if (c->dps_poll) event_free(c->dps_poll);
    if (c->dps_deadline) event_free(c->dps_deadline);
    c->dps_poll = c->dps_deadline = NULL;
    gh_mqttc_free(c->dps); /* safe inside its own callback */
    c->dps = NULL;
}

void gh_device_dps_free(struct gh_device_client *c)
{
    dps_stop(c);
}

static void dps_fail(struct gh_device_client *c, gh_err why, const char *detail)
{
    dps_stop(c);
    c->phase = DEV_PHASE_FAILED;
    gh_log(GH_LOG_ERROR, "device.dps_failed", "reg=%s err=%s", c->reg_id, gh_err_name(why));
    gh_device_report(c, GH_DEVICE_PROVISION_FAILED, why, detail);
    gh_device_out_fail_all(c, GH_ERR_CLOSED);
}

/* SAS token for {idScope}/registrations/{registrationId} with skn
 * "registration" (2.4, Node spelling: unencoded). */
static gh_err dps_password(void *user, char *out, size_t cap, size_t *len, int64_t *expires)
{
    struct gh_device_client *c = user;
    char sr[2 * GH_DEVICE_ID_MAX + 32];
    int n = snprintf(sr, sizeof sr, "%s/registrations/%s", c->id_scope, c->reg_id);
    GH_ENSURE(n > 0 && (size_t)n < sizeof sr, GH_ERR_TOO_LARGE);
    int64_t se = (int64_t)time(NULL) + (int64_t)c->sas_ttl_s;
    struct gh_writer w;
    gh_writer_init(&w, out, cap);
    GH_GUARD(gh_sas_build(gh_slice_cstr(sr), gh_slice_cstr(c->key_b64), se, DPS_KEY_NAME, &w));
    *len = w.len;
    *expires = se;
    return GH_OK;
}

/* Register (first) or poll (once the operation id is known). */
static void dps_send_step(struct gh_device_client *c)
{
    if (!c->dps || !gh_mqttc_connected(c->dps)) return; /* resent after the reconnect */
    gh_device_next_rid(c, c->dps_rid);
    char topic[256 + GH_DEVICE_OP_ID_MAX];
    struct gh_writer w;
    gh_writer_init(&w, topic, sizeof topic);
    char body[GH_DEVICE_ID_MAX + 32];
    gh_err rc;
    if (c->dps_registered && c->op_id[0]) {
        rc = gh_iothub_topic_build_dps_poll(&w, gh_slice_cstr(c->dps_rid), gh_slice_cstr(c->op_id));
        snprintf(body, sizeof body, " ");
    } else {
        rc = gh_iothub_topic_build_dps_register(&w, gh_slice_cstr(c->dps_rid));
        /* Registration ids hold no character JSON would escape (4.1). */
        snprintf(body, sizeof body, "{\"registrationId\":\"%s\"}", c->reg_id);
    }
    if (rc == GH_OK) rc = gh_writer_terminate(&w);
    if (rc == GH_OK) rc = gh_mqttc_publish(c->dps, topic, body, strlen(body), 1, 0);
    if (rc != GH_OK) gh_log(GH_LOG_WARN, "device.dps_send", "err=%s", gh_err_name(rc));
}

static void dps_poll_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    dps_send_step(arg);
}

static void dps_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    dps_fail(arg, GH_ERR_TIMEOUT, "DPS registration timed out");
}

static void dps_wait(struct gh_device_client *c, const struct gh_iothub_topic *t)
{
    unsigned s = t->has_retry_after ? t->retry_after : GH_DEVICE_DPS_POLL_S_DEFAULT;
    if (s > GH_DEVICE_DPS_POLL_S_MAX) s = GH_DEVICE_DPS_POLL_S_MAX;
    struct timeval tv = {(time_t)s, 0};
    evtimer_add(c->dps_poll, &tv);
}

/* The operation finished with "assigned": connect to the hub. */
static void dps_assigned(struct gh_device_client *c, const struct gh_device_dps_doc *d)
{
    char hub[GH_DEVICE_HOST_MAX + 1], dev[GH_DEVICE_ID_MAX + 1];
    if (!d->assigned_hub.ptr || !d->device_id.ptr ||
        gh_slice_to_cstr(d->assigned_hub, hub, sizeof hub) != GH_OK ||
        gh_slice_to_cstr(d->device_id, dev, sizeof dev) != GH_OK || !hub[0] ||
        strpbrk(hub, "/\\ ") || !gh_iothub_valid_device_id(d->device_id)) {
        dps_fail(c, GH_ERR_MALFORMED, "DPS assigned no usable hub and device id");
        return;
    }
    dps_stop(c);
    memcpy(c->hub, hub, sizeof hub);
    memcpy(c->dial_host, hub, sizeof hub);
    memcpy(c->device_id, dev, sizeof dev);
    char detail[sizeof hub + sizeof dev + 2];
    snprintf(detail, sizeof detail, "%s/%s", hub, dev);
    gh_log(GH_LOG_INFO, "device.dps_assigned", "reg=%s hub=%s device=%s", c->reg_id, hub, dev);
    c->phase = DEV_PHASE_HUB;
    gh_device_report(c, GH_DEVICE_PROVISIONED, GH_OK, detail);
    gh_err rc = gh_device_hub_start(c);
    if (rc != GH_OK) {
        c->phase = DEV_PHASE_DPS;
        dps_fail(c, rc, "could not start the hub connection");
    }
}

static void dps_response(struct gh_device_client *c, const struct gh_mqtt_publish *p,
                         const struct gh_iothub_topic *t)
{
    char msg[GH_LOG_EXCERPT_MAX * 4 + 8] = "";
    if (t->status >= 429) { /* throttled or busy: the same step again (4.2.3) */
        dps_wait(c, t);
        return;
    }
    struct gh_device_dps_doc d;
    if (t->status != 200 && t->status != 202) {
        if (gh_device_dps_doc_parse(p->payload, &d) == GH_OK && d.error_message.ptr)
            gh_log_escape(msg, sizeof msg, d.error_message.ptr, d.error_message.len,
                          GH_LOG_EXCERPT_MAX);
        dps_fail(c, t->status == 401 ? GH_ERR_AUTH : GH_ERR_FORBIDDEN, msg);
        return;
    }
    if (gh_device_dps_doc_parse(p->payload, &d) != GH_OK) {
        dps_fail(c, GH_ERR_BAD_JSON, "DPS sent malformed JSON");
        return;
    }
    if (gh_slice_eq_cstr(d.status, "assigned")) {
        dps_assigned(c, &d);
    } else if (gh_slice_eq_cstr(d.status, "assigning") ||
               gh_slice_eq_cstr(d.status, "unassigned")) {
        if (d.operation_id.ptr && d.operation_id.len <= GH_DEVICE_OP_ID_MAX &&
            gh_slice_to_cstr(d.operation_id, c->op_id, sizeof c->op_id) == GH_OK)
            c->dps_registered = true;
        dps_wait(c, t);
    } else {
        if (d.error_message.ptr)
            gh_log_escape(msg, sizeof msg, d.error_message.ptr, d.error_message.len,
                          GH_LOG_EXCERPT_MAX);
        dps_fail(c, GH_ERR_FORBIDDEN, msg[0] ? msg : "DPS registration failed");
    }
}

static void dps_publish(void *user, const struct gh_mqtt_publish *p)
{
    struct gh_device_client *c = user;
    struct gh_iothub_topic t;
    if (p->qos == 1 && gh_mqttc_puback(c->dps, p->packet_id) != GH_OK)
        gh_log(GH_LOG_WARN, "device.dps_puback", "reason=failed");
    if (gh_iothub_topic_classify_s2d(p->topic, &t) != GH_OK ||
        t.kind != GH_IOTHUB_TOPIC_DPS_RESPONSE || !gh_slice_eq_cstr(t.rid, c->dps_rid))
        return; /* not ours or stale */
    dps_response(c, p, &t);
}

static void dps_connected(void *user, bool session_present)
{
    (void)session_present;
    struct gh_device_client *c = user;
    const char *f[] = {DPS_FILTER};
    uint8_t q = 1;
    gh_err rc = gh_mqttc_subscribe(c->dps, f, &q, 1, DPS_SUB_COOKIE);
    if (rc != GH_OK) gh_log(GH_LOG_WARN, "device.dps_subscribe", "err=%s", gh_err_name(rc));
}

static void dps_suback(void *user, uint64_t cookie, const uint8_t *codes, size_t n)
{
    struct gh_device_client *c = user;
    if (cookie != DPS_SUB_COOKIE || !codes || n != 1) return;
    dps_send_step(c);
}

static void dps_disconnected(void *user, gh_err why, int connack, const char *detail)
{
    struct gh_device_client *c = user;
    if (c->dps_poll) event_del(c->dps_poll);
    if (why == GH_ERR_AUTH) { /* refused credentials: retrying cannot help */
        dps_fail(c, GH_ERR_AUTH, detail);
        return;
    }
    gh_log(GH_LOG_INFO, "device.dps_disconnected", "err=%s connack=%d", gh_err_name(why), connack);
    gh_device_report(c, GH_DEVICE_DISCONNECTED, why == GH_OK ? GH_ERR_CLOSED : why, detail);
}

static const struct gh_mqttc_callbacks dps_cbs = {
    .on_connected = dps_connected,
    .on_disconnected = dps_disconnected,
    .on_publish = dps_publish,
    .on_suback = dps_suback,
};

gh_err gh_device_dps_start(struct gh_device_client *c)
{
    char username[GH_DEVICE_USERNAME_MAX];
    int n =
        snprintf(username, sizeof username,
                 "%s/registrations/%s/api-version=" GH_DEVICE_DPS_API_VERSION "&ClientVersion=%s",
                 c->id_scope, c->reg_id, GH_DEVICE_CLIENT_TYPE);
    GH_ENSURE(n > 0 && (size_t)n <= GH_MQTTC_ID_MAX, GH_ERR_ARG);
    struct gh_mqttc_options mo = {
        .base = c->base,
        .dns = c->connect_address[0] ? NULL : c->dns,
        .host = c->connect_address[0] ? c->connect_address : c->dps_host,
        .port = c->dps_port,
        .server_name = c->dps_host,
        .tls = c->tls,
        .client_id = c->reg_id,
        .username = username,
        .password = c->x509 ? NULL : dps_password,
        .keepalive_s = c->keepalive_s,
        .clean_session = true, /* 4.2.1 */
        .window = 4,
        .backoff_min_ms = c->backoff_min_ms,
        .backoff_max_ms = c->backoff_max_ms,
    };
    c->dps_poll = evtimer_new(c->base, dps_poll_cb, c);
    c->dps_deadline = evtimer_new(c->base, dps_deadline_cb, c);
    GH_ENSURE(c->dps_poll && c->dps_deadline, GH_ERR_NOMEM);
    struct timeval tv = {(time_t)c->dps_timeout_s, 0};
    evtimer_add(c->dps_deadline, &tv);
    GH_GUARD(gh_mqttc_new(&mo, &dps_cbs, c, &c->dps));
    return gh_mqttc_start(c->dps);
}
