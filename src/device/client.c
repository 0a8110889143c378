/* The device client: options and identity, lifecycle, the hub connection
 * (CONNECT fields of PROTOCOL.md 1.2 / 1.13, SAS tokens of 2.4, the four
 * subscriptions of 1.6) and its own event loop for poll-loop users. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "common/log.h"
#include "device/device_int.h"
#include "iothub/connstr.h"
#include "iothub/sas.h"
#include "iothub/username.h"
#include "mqttc/mqttc.h"
#include "net/tls.h"

static const char *const hub_filters[GH_DEVICE_HUB_FILTERS] = {
    NULL, /* devices/{D}/messages/devicebound/#, built per client */
    "$iothub/methods/POST/#",
    "$iothub/twin/res/#",
    "$iothub/twin/PATCH/properties/desired/#",
};
/* C2D with QoS 1 (acknowledged after the callback), the rest QoS 0 (1.13). */
static const uint8_t hub_qos[GH_DEVICE_HUB_FILTERS] = {1, 0, 0, 0};

void gh_device_report(struct gh_device_client *c, enum gh_device_status st, gh_err reason,
                      const char *detail)
{
    if (c->cbs.on_connection) c->cbs.on_connection(c->user, st, (int)reason, detail ? detail : "");
}

void gh_device_next_rid(struct gh_device_client *c, char rid[GH_DEVICE_RID_MAX])
{
    c->next_rid++;
    snprintf(rid, GH_DEVICE_RID_MAX, "%llu", (unsigned long long)c->next_rid);
}

/* Copy a C string option into a fixed field. NULL or "" -> GH_ERR_ARG when
 * required; too long -> GH_ERR_ARG. */
static gh_err copy_opt(char *dst, size_t cap, const char *src, bool required)
{
    if (!src || !*src) {
        GH_ENSURE(!required, GH_ERR_ARG);
        dst[0] = '\0';
        return GH_OK;
    }
    GH_ENSURE(strlen(src) < cap, GH_ERR_ARG);
    memcpy(dst, src, strlen(src) + 1);
    return GH_OK;
}

static gh_err copy_slice(char *dst, size_t cap, struct gh_slice s)
{
    gh_err rc = gh_slice_to_cstr(s, dst, cap);
    return rc == GH_OK ? GH_OK : GH_ERR_BAD_CONNSTR;
}

/* Connection string identity (2.8). */
static gh_err load_connstr(struct gh_device_client *c, const struct gh_device_options *o)
{
    GH_ENSURE(o->connection_string, GH_ERR_ARG);
    struct gh_connstr cs;
    const char *why = NULL;
    gh_err rc = gh_connstr_parse(gh_slice_cstr(o->connection_string), &cs, &why);
    if (rc == GH_OK) rc = gh_connstr_check_device(&cs, &why);
    if (rc != GH_OK) {
        gh_log(GH_LOG_ERROR, "device.connstr", "why=%s", why ? why : "-");
        return rc == GH_ERR_TOO_LARGE ? GH_ERR_BAD_CONNSTR : rc;
    }
    /* A fixed token cannot be renewed; modules are not this client's job. */
    GH_ENSURE(!cs.shared_access_signature.ptr && !cs.module_id.ptr, GH_ERR_BAD_CONNSTR);
    GH_GUARD(copy_slice(c->hub, sizeof c->hub, cs.host_name));
    GH_GUARD(copy_slice(c->device_id, sizeof c->device_id, cs.device_id));
    if (cs.gateway_host_name.ptr)
        GH_GUARD(copy_slice(c->dial_host, sizeof c->dial_host, cs.gateway_host_name));
    else
        memcpy(c->dial_host, c->hub, sizeof c->hub);
    if (cs.x509) {
        c->x509 = true;
        GH_ENSURE(o->cert_file && o->key_file, GH_ERR_ARG);
    } else {
        GH_GUARD(copy_slice(c->key_b64, sizeof c->key_b64, cs.shared_access_key));
    }
    gh_secure_zero(&cs, sizeof cs);
    return GH_OK;
}

/* A base64 key option: must decode (GH_ERR_BAD_BASE64 / GH_ERR_TOO_LARGE). */
static gh_err load_key(char *dst, size_t cap, const char *key)
{
    GH_ENSURE(key && *key, GH_ERR_ARG);
    uint8_t raw[GH_SYMKEY_MAX];
    size_t n = 0;
    gh_err rc = gh_symkey_decode(gh_slice_cstr(key), raw, &n);
    gh_secure_zero(raw, sizeof raw);
    if (rc != GH_OK) return rc == GH_ERR_TOO_LARGE ? GH_ERR_BAD_BASE64 : rc;
    return copy_opt(dst, cap, key, true);
}

static gh_err load_identity(struct gh_device_client *c, const struct gh_device_options *o)
{
    c->auth = o->auth;
    switch (o->auth) {
    case GH_DEVICE_AUTH_CONNECTION_STRING:
        return load_connstr(c, o);
    case GH_DEVICE_AUTH_X509:
        GH_ENSURE(o->cert_file && o->key_file, GH_ERR_ARG);
        GH_GUARD(copy_opt(c->hub, sizeof c->hub, o->host, true));
        memcpy(c->dial_host, c->hub, sizeof c->hub);
        GH_GUARD(copy_opt(c->device_id, sizeof c->device_id, o->device_id, true));
        GH_ENSURE(gh_iothub_valid_device_id(gh_slice_cstr(c->device_id)), GH_ERR_ARG);
        c->x509 = true;
        return GH_OK;
    case GH_DEVICE_AUTH_DPS_SYMMETRIC_KEY:
    case GH_DEVICE_AUTH_DPS_GROUP_KEY:
    case GH_DEVICE_AUTH_DPS_X509:
        break;
    default:
        return GH_ERR_ARG;
    }
    GH_GUARD(copy_opt(c->dps_host, sizeof c->dps_host, o->dps_host, true));
    GH_GUARD(copy_opt(c->id_scope, sizeof c->id_scope, o->id_scope, true));
    GH_GUARD(copy_opt(c->reg_id, sizeof c->reg_id, o->registration_id, true));
    GH_ENSURE(gh_iothub_valid_registration_id(gh_slice_cstr(c->reg_id)), GH_ERR_ARG);
    GH_ENSURE(!strchr(c->id_scope, '/'), GH_ERR_ARG);
    c->dps_port = o->dps_port ? o->dps_port : GH_DEVICE_PORT_DEFAULT;
    if (o->auth == GH_DEVICE_AUTH_DPS_X509) {
        GH_ENSURE(o->cert_file && o->key_file, GH_ERR_ARG);
        c->x509 = true;
        return GH_OK;
    }
    if (o->auth == GH_DEVICE_AUTH_DPS_SYMMETRIC_KEY)
        return load_key(c->key_b64, sizeof c->key_b64, o->symmetric_key);
    /* Group enrollment: derive this device's key (2.7). */
    char group[GH_SYMKEY_B64_MAX + 1];
    gh_err rc = load_key(group, sizeof group, o->group_key);
    if (rc == GH_OK) {
        struct gh_writer w;
        gh_writer_init(&w, c->key_b64, sizeof c->key_b64);
        rc = gh_derive_device_key(gh_slice_cstr(group), gh_slice_cstr(c->reg_id), &w);
        if (rc == GH_OK) rc = gh_writer_terminate(&w);
    }
    gh_secure_zero(group, sizeof group);
    return rc;
}

static gh_err load_settings(struct gh_device_client *c, const struct gh_device_options *o)
{
    c->port = o->port ? o->port : GH_DEVICE_PORT_DEFAULT;
    c->sas_ttl_s = o->sas_ttl_s ? o->sas_ttl_s : GH_DEVICE_SAS_TTL_S_DEFAULT;
    GH_ENSURE(c->sas_ttl_s >= GH_DEVICE_SAS_TTL_S_MIN, GH_ERR_ARG);
    c->keepalive_s = o->keepalive_s ? o->keepalive_s : GH_DEVICE_KEEPALIVE_S_DEFAULT;
    c->buffer_msgs = o->buffer_msgs ? o->buffer_msgs : GH_DEVICE_BUFFER_MSGS_DEFAULT;
    c->buffer_bytes = o->buffer_bytes ? o->buffer_bytes : GH_DEVICE_BUFFER_BYTES_DEFAULT;
    c->window = o->window ? o->window : GH_DEVICE_WINDOW_DEFAULT;
    GH_ENSURE(c->window <= GH_MQTTC_WINDOW_MAX, GH_ERR_ARG);
    c->backoff_min_ms = o->backoff_min_ms ? o->backoff_min_ms : GH_DEVICE_BACKOFF_MIN_MS_DEFAULT;
    c->backoff_max_ms = o->backoff_max_ms ? o->backoff_max_ms : GH_DEVICE_BACKOFF_MAX_MS_DEFAULT;
    GH_ENSURE(c->backoff_min_ms <= c->backoff_max_ms, GH_ERR_ARG);
    c->dps_timeout_s = o->dps_timeout_s ? o->dps_timeout_s : GH_DEVICE_DPS_TIMEOUT_S_DEFAULT;
    GH_GUARD(copy_opt(c->model_id, sizeof c->model_id, o->model_id, false));
    GH_GUARD(copy_opt(c->connect_address, sizeof c->connect_address, o->connect_address, false));
    if (c->connect_address[0]) {
        struct sockaddr_storage ss;
        int sl = (int)sizeof ss;
        GH_ENSURE(evutil_parse_sockaddr_port(c->connect_address, (struct sockaddr *)&ss, &sl) == 0,
                  GH_ERR_ARG);
    }
    return GH_OK;
}

static gh_err tls_setup(struct gh_device_client *c, const struct gh_device_options *o)
{
    struct gh_tls_client_config cfg = {.ca_file = o->ca_file};
    if (c->x509) {
        cfg.id.cert_file = o->cert_file;
        cfg.id.key_file = o->key_file;
    }
    char detail[GH_TLS_DETAIL_MAX];
    gh_err rc = gh_tls_client_new(&cfg, &c->tls, detail, sizeof detail);
    if (rc != GH_OK)
        gh_log(GH_LOG_ERROR, "device.tls", "err=%s detail=%s", gh_err_name(rc), detail);
    return rc;
}

/* ---- the hub connection ------------------------------------------------------ */

/* mqttc password callback: a fresh SAS token for {hub}/devices/{D} (2.4, Node
 * spelling), valid sas_ttl_s; mqttc reconnects at 80% of its lifetime. */
static gh_err hub_password(void *user, char *out, size_t cap, size_t *len, int64_t *expires)
{
    struct gh_device_client *c = user;
    char aud[GH_SAS_AUDIENCE_MAX];
    struct gh_writer w;
    gh_writer_init(&w, aud, sizeof aud);
    GH_GUARD(gh_sas_audience_encode(gh_slice_cstr(c->hub), gh_slice_cstr(c->device_id), NULL, &w));
    GH_GUARD(gh_writer_terminate(&w));
    int64_t se = (int64_t)time(NULL) + (int64_t)c->sas_ttl_s;
    gh_writer_init(&w, out, cap);
    GH_GUARD(gh_sas_build(gh_slice_cstr(aud), gh_slice_cstr(c->key_b64), se, NULL, &w));
    *len = w.len;
    *expires = se;
    return GH_OK;
}

static void hub_connected(void *user, bool session_present)
{
    struct gh_device_client *c = user;
    char c2d[GH_DEVICE_ID_MAX + 64];
    snprintf(c2d, sizeof c2d, "devices/%s/messages/devicebound/#", c->device_id);
    const char *f[GH_DEVICE_HUB_FILTERS];
    memcpy(f, hub_filters, sizeof f);
    f[0] = c2d;
    gh_err rc = gh_mqttc_subscribe(c->mq, f, hub_qos, GH_DEVICE_HUB_FILTERS, GH_DEVICE_SUB_COOKIE);
    if (rc != GH_OK) {
        gh_log(GH_LOG_WARN, "device.subscribe", "err=%s", gh_err_name(rc));
        /* Telemetry does not need the subscriptions: carry on. */
        c->subscribed = true;
        gh_device_report(c, GH_DEVICE_CONNECTED, GH_OK, "connected (subscribe failed)");
        gh_device_flush(c);
    }
    (void)session_present;
}

static void hub_suback(void *user, uint64_t cookie, const uint8_t *codes, size_t n)
{
    struct gh_device_client *c = user;
    if (cookie != GH_DEVICE_SUB_COOKIE || !codes) return; /* dropped: on_disconnected follows */
    for (size_t i = 0; i < n; i++)
        if (codes[i] == GH_MQTT_SUBACK_FAILURE)
            gh_log(GH_LOG_WARN, "device.suback", "filter=%zu refused", i);
    c->subscribed = true;
    gh_log(GH_LOG_INFO, "device.connected", "device=%s", c->device_id);
    gh_device_report(c, GH_DEVICE_CONNECTED, GH_OK, "connected");
    gh_device_flush(c);
}

static void hub_disconnected(void *user, gh_err why, int connack, const char *detail)
{
    struct gh_device_client *c = user;
    c->subscribed = false;
    gh_device_reqs_unsent(c);
    gh_log(GH_LOG_INFO, "device.disconnected", "err=%s connack=%d", gh_err_name(why), connack);
    gh_device_report(c, GH_DEVICE_DISCONNECTED, why == GH_OK ? GH_ERR_CLOSED : why, detail);
}

static void hub_acked(void *user, uint64_t cookie)
{
    gh_device_out_acked(user, cookie);
}

static void hub_unacked(void *user, uint64_t cookie)
{
    gh_device_out_unacked(user, cookie);
}

static void hub_window(void *user)
{
    struct gh_device_client *c = user;
    if (c->subscribed) gh_device_flush(c);
}

static const struct gh_mqttc_callbacks hub_cbs = {
    .on_connected = hub_connected,
    .on_disconnected = hub_disconnected,
    .on_publish = gh_device_on_publish,
    .on_acked = hub_acked,
    .on_unacked = hub_unacked,
    .on_suback = hub_suback,
    .on_window = hub_window,
};

gh_err gh_device_hub_start(struct gh_device_client *c)
{
    char username[GH_DEVICE_USERNAME_MAX];
    int n = snprintf(username, sizeof username,
                     "%s/%s/?api-version=" GH_DEVICE_HUB_API_VERSION "&DeviceClientType=%s%s%s",
                     c->hub, c->device_id, GH_DEVICE_CLIENT_TYPE,
                     c->model_id[0] ? "&model-id=" : "", c->model_id);
    GH_ENSURE(n > 0 && (size_t)n < sizeof username && (size_t)n <= GH_MQTTC_ID_MAX,
              GH_ERR_TOO_LARGE);
    struct gh_mqttc_options mo = {
        .base = c->base,
        .dns = c->connect_address[0] ? NULL : c->dns,
        .host = c->connect_address[0] ? c->connect_address : c->dial_host,
        .port = c->port,
        .server_name = c->dial_host,
        .tls = c->tls,
        .client_id = c->device_id,
        .username = username,
        .password = c->x509 ? NULL : hub_password,
        .keepalive_s = c->keepalive_s,
        .clean_session = false, /* as the SDKs (1.2): C2D queued while away flows on resume */
        .window = c->window,
        .backoff_min_ms = c->backoff_min_ms,
        .backoff_max_ms = c->backoff_max_ms,
    };
    c->phase = DEV_PHASE_HUB;
    GH_GUARD(gh_mqttc_new(&mo, &hub_cbs, c, &c->mq));
    return gh_mqttc_start(c->mq);
}

/* ---- lifecycle ----------------------------------------------------------------- */

static gh_err client_init(struct gh_device_client *c, const struct gh_device_options *o)
{
    GH_GUARD(load_identity(c, o));
    GH_GUARD(load_settings(c, o));
    c->topic = malloc(GH_DEVICE_TOPIC_MAX + 1);
    GH_ENSURE(c->topic, GH_ERR_NOMEM);
    if (o->event_base) {
        c->base = o->event_base;
    } else {
        c->base = event_base_new();
        GH_ENSURE(c->base, GH_ERR_IO);
        c->own_base = true;
    }
    if (!c->connect_address[0]) {
        c->dns = evdns_base_new(c->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
        GH_ENSURE(c->dns, GH_ERR_IO);
    }
    GH_GUARD(tls_setup(c, o));
    if (c->auth >= GH_DEVICE_AUTH_DPS_SYMMETRIC_KEY) {
        c->phase = DEV_PHASE_DPS;
        return gh_device_dps_start(c);
    }
    return gh_device_hub_start(c);
}

static void client_release(struct gh_device_client *c)
{
    gh_device_dps_free(c);
    gh_mqttc_free(c->mq);
    c->mq = NULL;
    gh_device_out_fail_all(c, GH_ERR_CLOSED);
    gh_tls_client_free(c->tls);
    free(c->topic);
    if (c->dns) evdns_base_free(c->dns, 0);
    if (c->own_base && c->base) {
        /* Aborted connections finish closing from the loop: let them. */
        for (unsigned i = 0; i < GH_DEVICE_CLOSE_SPINS; i++)
            event_base_loop(c->base, EVLOOP_NONBLOCK);
        event_base_free(c->base);
    }
    gh_secure_zero(c, sizeof *c);
    free(c);
}

GH_DEVICE_API int gh_device_client_new(const struct gh_device_options *opts,
                                       const struct gh_device_callbacks *cbs, void *user,
                                       struct gh_device_client **out)
{
    if (!opts || !out) return GH_ERR_ARG;
    struct gh_device_client *c = calloc(1, sizeof *c);
    if (!c) return GH_ERR_NOMEM;
    if (cbs) c->cbs = *cbs;
    c->user = user;
    gh_err rc = client_init(c, opts);
    if (rc != GH_OK) {
        client_release(c);
        return (int)rc;
    }
    *out = c;
    return GH_OK;
}

GH_DEVICE_API void gh_device_client_free(struct gh_device_client *c)
{
    if (!c) return;
    if (c->mq) gh_mqttc_stop(c->mq);
    client_release(c);
}

static void run_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
}

GH_DEVICE_API int gh_device_client_run_once(struct gh_device_client *c, unsigned timeout_ms)
{
    if (!c || !c->own_base) return GH_ERR_ARG;
    struct event *t = evtimer_new(c->base, run_timeout, NULL);
    if (!t) return GH_ERR_NOMEM;
    struct timeval tv = {(time_t)(timeout_ms / 1000u), (suseconds_t)((timeout_ms % 1000u) * 1000u)};
    evtimer_add(t, &tv);
    int r = event_base_loop(c->base, EVLOOP_ONCE);
    event_free(t);
    return r < 0 ? GH_ERR_IO : GH_OK;
}

GH_DEVICE_API bool gh_device_client_connected(const struct gh_device_client *c)
{
    return c && c->mq && c->subscribed && gh_mqttc_connected(c->mq);
}

GH_DEVICE_API const char *gh_device_client_hub(const struct gh_device_client *c)
{
    return c && c->phase != DEV_PHASE_DPS ? c->hub : "";
}

GH_DEVICE_API const char *gh_device_client_device_id(const struct gh_device_client *c)
{
    return c && c->phase != DEV_PHASE_DPS ? c->device_id : "";
}

GH_DEVICE_API size_t gh_device_client_pending(const struct gh_device_client *c)
{
    return c ? c->out_count : 0;
}
