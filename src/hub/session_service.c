/* Service sessions: a service application reads telemetry live over MQTT
 * (docs/hub.md "Reading telemetry").
 *
 *   client id   $service:{name}      (':' cannot occur in a device id, so
 *                                     a service connection is never a device)
 *   user name   {hub host name}      (optionally followed by /?params)
 *   password    a SAS token of a shared access policy with ServiceConnect,
 *               audience = the hub host name
 *   subscribe   $gatehouse/telemetry/#        every device
 *               $gatehouse/telemetry/{D}/#    one device (its modules too)
 *   messages    topic $gatehouse/telemetry/{D} or .../{D}/{M}, payload = the
 *               JSON envelope of gh_hub_telemetry_envelope (with "seq")
 *
 * The stream starts at the newest message when the subscription is made and
 * is delivered at least once while the connection lasts (QoS 1 with a window
 * of SERVICE_WINDOW unacknowledged messages). A consumer that reconnects
 * fills any gap with GET /gatehouse/telemetry?after={last seq it saw}.
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "hub/session_int.h"
#include "hub/telemetry.h"
#include "iothub/sas.h"

#define SERVICE_WINDOW 1024u
#define SERVICE_PREFIX "$service:"
#define FILTER_PREFIX "$gatehouse/telemetry/"

bool gh_hub_service_client_id(struct gh_slice client_id)
{
    return gh_slice_starts_with(client_id, SERVICE_PREFIX);
}

static const char *service_auth(struct gh_hub_session *s, const struct gh_mqtt_connect *c,
                                int64_t *expires_s)
{
    const struct gh_hub_config *cfg = gh_hub_config(s->hub);
    struct gh_slice host = gh_slice_cstr(cfg->hostname);
    struct gh_slice user = c->username;
    /* "{host}" or "{host}/..." */
    if (!c->has_username || user.len < host.len ||
        !gh_slice_eq_nocase((struct gh_slice){user.ptr, host.len}, host) ||
        (user.len > host.len && user.ptr[host.len] != '/'))
        return "user name is not the hub host name";
    if (!c->has_password || c->password.len == 0) return "no SAS token";
    struct gh_sas_token t;
    struct gh_policy pol;
    const char *why = NULL;
    memset(&pol, 0, sizeof pol);
    char name[GH_POLICY_NAME_MAX + 1];
    if (gh_sas_parse(c->password, &t) != GH_OK) {
        why = "malformed SAS token";
    } else if (t.skn.len == 0 || gh_slice_to_cstr(t.skn, name, sizeof name) != GH_OK ||
               gh_store_policy_get(gh_hub_store(s->hub), name, &pol) != GH_OK) {
        why = "unknown shared access policy";
    } else if (!(pol.rights & GH_RIGHT_SERVICE_CONNECT)) {
        why = "policy lacks ServiceConnect";
    } else if (!gh_sas_audience_is_host(t.sr, host)) {
        why = "SAS audience is not the hub host name";
    } else {
        struct gh_slice keys[2] = {gh_slice_cstr(pol.primary_key),
                                   gh_slice_cstr(pol.secondary_key)};
        if (gh_sas_verify(&t, keys, 2, NULL) != GH_OK)
            why = "SAS signature does not match the policy keys";
        else if (gh_sas_check_expiry(&t, gh_hub_now_ms() / 1000, (uint32_t)cfg->sas_skew) != GH_OK)
            why = "SAS token expired";
        else
            *expires_s = t.se;
    }
    gh_secure_zero(&t, sizeof t);
    gh_policy_wipe(&pol);
    return why;
}

/* Authenticate a $service: CONNECT. Returns the CONNACK code. */
uint8_t gh_hub_service_connect(struct gh_hub_session *s, const struct gh_mqtt_connect *c,
                               const char **why)
{
    const struct gh_hub_config *cfg = gh_hub_config(s->hub);
    if (c->client_id.len > GH_IDENTITY_ID_MAX ||
        gh_slice_to_cstr(c->client_id, s->device_id, sizeof s->device_id) != GH_OK) {
        *why = "service client id too long";
        return 5;
    }
    int64_t exp = 0;
    *why = service_auth(s, c, &exp);
    if (*why) return 5;
    s->service = true;
    s->expires_ms = (exp + cfg->sas_skew) * 1000;
    *why = "service policy";
    return 0;
}

#define PUMP_READ 64u /* messages per store read */

static void pump(struct gh_hub_session *s)
{
    while (!s->closing && s->svc_subscribed && s->svc_inflight < SERVICE_WINDOW) {
        struct gh_telemetry_msg msgs[PUMP_READ];
        size_t n = 0;
        struct gh_telemetry_query q = {.after_seq = s->svc_cursor,
                                       .device_id = s->svc_device[0] ? s->svc_device : NULL,
                                       .limit = SERVICE_WINDOW - s->svc_inflight,
                                       .raw_properties = true};
        if (q.limit > PUMP_READ) q.limit = PUMP_READ;
        struct gh_telemetry_scan scan;
        gh_err rc = gh_store_telemetry_scan(gh_hub_store(s->hub), &q, msgs, PUMP_READ, &n, &scan);
        if (rc != GH_OK) {
            gh_log_error("hub.service.read", "client=%s err=%s", s->device_id, gh_err_str(rc));
            return;
        }
        for (size_t i = 0; i < n; i++) {
            char *text = NULL;
            size_t len = 0;
            char topic[sizeof FILTER_PREFIX + 2 * GH_IDENTITY_ID_MAX + 2];
            if (msgs[i].module_id[0])
                snprintf(topic, sizeof topic, FILTER_PREFIX "%s/%s", msgs[i].device_id,
                         msgs[i].module_id);
            else
                snprintf(topic, sizeof topic, FILTER_PREFIX "%s", msgs[i].device_id);
            if (!s->closing && gh_hub_telemetry_envelope_text(&msgs[i], &text, &len) == GH_OK) {
                uint16_t pid = s->svc_qos ? next_pid(s) : 0;
                if (send_publish(s, gh_slice_cstr(topic), s->svc_qos, pid, false, text, len) ==
                        GH_OK &&
                    s->svc_qos)
                    s->svc_inflight++;
            }
            free(text);
            gh_telemetry_msg_cleanup(&msgs[i]);
        }
        /* Everything examined was sent: a device filter skips the rest. */
        s->svc_cursor = scan.next_after;
        if (!scan.more) return;
    }
}

void gh_hub_service_committed(struct gh_hub_sessions *t)
{
    for (struct gh_hub_session *s = t->all; s; s = s->next)
        if (s->service && s->svc_subscribed) pump(s);
}

void gh_hub_service_puback(struct gh_hub_session *s)
{
    if (s->svc_inflight) s->svc_inflight--;
    /* Refill in batches, not one store read per acknowledgement. */
    if (s->svc_inflight <= SERVICE_WINDOW / 2) pump(s);
}

void gh_hub_service_subscribe(struct gh_hub_session *s, const struct gh_mqtt_subscribe *sub)
{
    struct gh_mqtt_packet ack = {.type = GH_MQTT_SUBACK};
    ack.u.suback.packet_id = sub->packet_id;
    ack.u.suback.count = sub->count;
    for (size_t i = 0; i < sub->count; i++) {
        struct gh_slice f = sub->subs[i].filter;
        char dev[GH_IDENTITY_ID_MAX + 1] = "";
        size_t pre = strlen(FILTER_PREFIX);
        bool ok = gh_slice_starts_with(f, FILTER_PREFIX);
        if (ok && !(f.len == pre + 1 && f.ptr[pre] == '#')) {
            /* {D}/# */
            ok = f.len > pre + 2 && f.ptr[f.len - 1] == '#' && f.ptr[f.len - 2] == '/' &&
                 gh_slice_to_cstr((struct gh_slice){f.ptr + pre, f.len - pre - 2}, dev,
                                  sizeof dev) == GH_OK &&
                 dev[0] && !strpbrk(dev, "/+#");
        }
        if (!ok) {
            session_close(s, "service subscription outside $gatehouse/telemetry/");
            return;
        }
        ack.u.suback.return_codes[i] = sub->subs[i].qos ? 1 : 0;
        snprintf(s->svc_device, sizeof s->svc_device, "%s", dev);
        s->svc_qos = sub->subs[i].qos ? 1 : 0;
    }
    if (!s->svc_subscribed) {
        /* Live: start at the newest message. */
        struct gh_telemetry_stats st;
        if (gh_store_telemetry_stats(gh_hub_store(s->hub), &st) == GH_OK)
            s->svc_cursor = st.last_seq;
        s->svc_subscribed = true;
    }
    if (send_packet(s, &ack) == GH_OK) pump(s);
}
