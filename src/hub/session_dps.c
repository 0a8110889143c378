/* Device registration with the embedded provisioning service over MQTT
 * (PROTOCOL.md 4.2, 4.3, Appendix A.2). A connection whose TLS server name
 * is dps.hostname is a DPS session: it can only register and poll, and a
 * hub connection can never do either (the topic and filter classifiers
 * take the connection's identity kind).
 *
 *   CONNECT    client id = registration id, user name
 *              {idScope}/registrations/{registrationId}/api-version=...,
 *              password = SAS token (skn=registration) or a TLS client
 *              certificate; attestation decides at CONNECT (refused ->
 *              CONNACK 5; a disabled enrollment is accepted and its
 *              registration ends with status "disabled", 4.3)
 *   SUBSCRIBE  $dps/registrations/res/# only (anything else closes)
 *   PUBLISH    register -> 202 {"operationId","status":"assigning"} with
 *              retry-after; into the embedded hub the assignment runs at
 *              once, so the first poll answers 200; with linked hubs it is
 *              queued for the worker thread (gh_hub_dps_register) and polls
 *              answer 202 until it finished; a full queue answers 429
 *              (429001) with retry-after, which the SDKs retry
 *              poll     -> 200 finished document, 202 while assigning,
 *              404 (404201) for an unknown operation
 * Responses go out at the granted subscription QoS; without the response
 * subscription they are dropped (the device asked for no answers).
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "dps/dps_assign.h"
#include "dps/dps_attest.h"
#include "dps/dps_doc.h"
#include "dps/dps_store.h"
#include "hub/session_int.h"
#include "iothub/topic.h"
#include "iothub/username.h"
#include "net/conn.h"

/* Largest response topic: prefix, status, the echoed $rid, retry-after. */
#define DPS_TOPIC_MAX 512u

bool gh_hub_dps_conn(const struct gh_hub_session *s)
{
    const struct gh_hub_config *cfg = gh_hub_config(s->hub);
    const char *sni = gh_conn_sni(s->conn);
    return sni != NULL && cfg->dps_hostname[0] != '\0' &&
           gh_slice_eq_nocase(gh_slice_cstr(sni), gh_slice_cstr(cfg->dps_hostname));
}

void gh_hub_dps_session_free(struct gh_hub_session *s)
{
    if (s->dps_attest == NULL) return;
    gh_dps_attest_cleanup(s->dps_attest);
    free(s->dps_attest);
    s->dps_attest = NULL;
}

static struct gh_iothub_identity dps_identity(const struct gh_hub_session *s)
{
    struct gh_iothub_identity id = {.kind = GH_IOTHUB_ID_DPS,
                                    .device_id = gh_slice_cstr(s->device_id)};
    return id;
}

static void refuse(struct gh_hub_session *s, uint8_t code, const char *why, const char *who)
{
    gh_log_info("dps.connect.refused", "registration=%s peer=%s connack=%u reason=\"%s\"", who,
                gh_conn_peer_addr(s->conn), code, why);
    struct gh_mqtt_packet p = {.type = GH_MQTT_CONNACK};
    p.u.connack.return_code = code;
    (void)send_packet(s, &p);
    s->closing = true;
    gh_conn_close(s->conn);
}

static const char *attestation_name(const struct gh_dps_attest *a)
{
    if (a->enrollment.attestation == GH_DPS_ATT_SYMMETRIC_KEY)
        return a->enrollment.kind == GH_DPS_GROUP ? "symmetricKey-group" : "symmetricKey";
    return a->enrollment.kind == GH_DPS_GROUP ? "x509-group" : "x509";
}

void gh_hub_dps_connect(struct gh_hub_session *s, const struct gh_mqtt_connect *c)
{
    const struct gh_hub_config *cfg = gh_hub_config(s->hub);
    struct gh_dps_store *store = gh_hub_dps_store(s->hub);
    char who[4 * GH_LOG_EXCERPT_MAX + 8];
    gh_log_escape(who, sizeof who, c->client_id.ptr, c->client_id.len, 128);
    if (store == NULL || gh_hub_dps_target(s->hub) == NULL) {
        refuse(s, 3, "the provisioning service is disabled", who);
        return;
    }
    uint8_t scratch[USERNAME_SCRATCH];
    struct gh_writer w;
    struct gh_iothub_username u;
    gh_writer_init(&w, scratch, sizeof scratch);
    if (!c->has_username || gh_iothub_username_parse_dps(c->username, &w, &u) != GH_OK) {
        refuse(s, 5, "malformed DPS user name", who);
        return;
    }
    if (gh_iothub_username_check_client_id(&u, c->client_id) != GH_OK) {
        refuse(s, 5, "client id does not match the registration id", who);
        return;
    }
    if (!gh_slice_eq_nocase(u.host, gh_slice_cstr(cfg->dps_id_scope))) {
        refuse(s, 5, "unknown id scope", who);
        return;
    }
    if (gh_slice_to_cstr(u.id.device_id, s->device_id, sizeof s->device_id) != GH_OK) {
        refuse(s, 5, "registration id too long", who);
        return;
    }
    struct gh_dps_attest *a = calloc(1, sizeof *a);
    if (a == NULL) {
        refuse(s, 3, "out of memory", who);
        return;
    }
    struct gh_dps_attest_in in = {
        .id_scope = u.host,
        .registration_id = s->device_id,
        .sas_token = c->has_password ? c->password : GH_SLICE_EMPTY,
        .cert = gh_conn_peer_cert(s->conn),
        .chain = gh_conn_peer_chain(s->conn),
        .now_s = gh_hub_now_ms() / 1000,
        .skew_s = (uint32_t)cfg->sas_skew,
    };
    gh_err rc = gh_dps_attest(store, &in, a);
    if (rc != GH_OK) {
        gh_log_error("dps.attest", "registration=%s err=%s detail=\"%s\"", who, gh_err_str(rc),
                     gh_dps_store_errmsg(store));
        gh_dps_attest_cleanup(a);
        free(a);
        refuse(s, 3, "server error during attestation", who);
        return;
    }
    if (a->outcome == GH_DPS_ATTEST_DENIED) {
        const char *why = a->reason ? a->reason : "attestation failed";
        gh_dps_attest_cleanup(a);
        free(a);
        refuse(s, 5, why, who);
        return;
    }
    s->dps = true;
    s->dps_attest = a;
    s->clean_session = true; /* DPS sessions are never persistent (4.2.1) */
    int64_t ka = c->keep_alive;
    if (ka == 0 || ka > cfg->keepalive_max) ka = cfg->keepalive_max;
    s->keepalive_ms = ka * 1500;
    s->expires_ms = a->expires_s ? (a->expires_s + cfg->sas_skew) * 1000 : 0;
    s->authenticated = true;
    struct gh_mqtt_packet ack = {.type = GH_MQTT_CONNACK};
    if (send_packet(s, &ack) != GH_OK) return;
    if (gh_mqtt_framer_accept(&s->framer) != GH_OK) {
        session_close(s, "internal framer state");
        return;
    }
    gh_log_info("dps.connect", "registration=%s attestation=%s enrollment=%s peer=%s%s", who,
                attestation_name(a), a->enrollment.id, gh_conn_peer_addr(s->conn),
                a->outcome == GH_DPS_ATTEST_DISABLED ? " enrollment_disabled=1" : "");
}

/* ---- responses ------------------------------------------------------------ */

static void reply(struct gh_hub_session *s, unsigned status, struct gh_slice rid, json_t *doc)
{
    if (!s->dps_subscribed) {
        gh_log_debug("dps.response.unsubscribed", "registration=%s status=%u", s->device_id,
                     status);
        return;
    }
    uint8_t tb[DPS_TOPIC_MAX];
    struct gh_writer w;
    gh_writer_init(&w, tb, sizeof tb);
    uint32_t retry = GH_DPS_RETRY_AFTER_S;
    bool with_retry = status == 202 || status >= 429;
    if (gh_iothub_topic_build_dps_response(&w, status, rid, with_retry ? &retry : NULL) != GH_OK) {
        session_close(s, "DPS request id too long or malformed");
        return;
    }
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    /* Every response body is a JSON object (4.2.3). */
    const char *body = text ? text : "{\"errorCode\":500000}";
    uint16_t pid = s->dps_qos ? next_pid(s) : 0;
    (void)send_publish(s, gh_writer_slice(&w), s->dps_qos, pid, false, body, strlen(body));
    free(text);
}

static void reply_error(struct gh_hub_session *s, int32_t code, const char *message,
                        struct gh_slice rid)
{
    json_t *doc = NULL;
    int http = code / 1000;
    if (gh_dps_doc_error(code, message, gh_hub_now_ms(), &doc, &http) != GH_OK) doc = NULL;
    reply(s, (unsigned)http, rid, doc);
    json_decref(doc);
}

/* ---- register and poll ---------------------------------------------------- */

static void do_register(struct gh_hub_session *s, struct gh_slice rid, struct gh_slice body)
{
    struct gh_dps_store *store = gh_hub_dps_store(s->hub);
    gh_err rc = gh_dps_register_body_check(body.ptr, body.len, s->device_id);
    if (rc != GH_OK) {
        gh_log_info("dps.register.refused", "registration=%s err=%s", s->device_id, gh_err_str(rc));
        reply_error(s, GH_DPS_ERR_BAD_REQUEST,
                    rc == GH_ERR_ARG ? "The registrationId does not match the connection."
                                     : "Malformed register request body.",
                    rid);
        return;
    }
    struct gh_dps_operation op;
    struct gh_dps_registration r;
    json_t *doc = NULL;
    bool queued = false;
    memset(&op, 0, sizeof op);
    memset(&r, 0, sizeof r);
    rc = gh_hub_dps_register(s->hub, s->device_id, s->dps_attest, &op, &r, &queued);
    if (rc == GH_ERR_QUEUE_FULL) {
        /* 429: the SDKs retry the register after retry-after (4.2.3). */
        gh_log_warn("dps.register.throttled", "registration=%s", s->device_id);
        reply_error(s, GH_DPS_ERR_THROTTLED, "Too many registrations waiting; retry later.", rid);
        return;
    }
    if (rc == GH_OK) rc = gh_dps_doc_register(op.id, &doc);
    if (rc != GH_OK) {
        gh_log_error("dps.register", "registration=%s err=%s detail=\"%s\"", s->device_id,
                     gh_err_str(rc), gh_dps_store_errmsg(store));
        gh_dps_operation_cleanup(&op);
        reply_error(s, GH_DPS_ERR_INTERNAL, "Internal error.", rid);
        return;
    }
    if (queued)
        gh_log_info("dps.register", "registration=%s operation=%s status=assigning queued=1",
                    s->device_id, op.id);
    else
        gh_log_info(
            "dps.register", "registration=%s operation=%s status=%s device=%s hub=%s error=%d",
            s->device_id, op.id, gh_dps_status_name(r.status), r.device_id[0] ? r.device_id : "-",
            r.assigned_hub[0] ? r.assigned_hub : "-", (int)r.error_code);
    reply(s, 202, rid, doc);
    json_decref(doc);
    gh_dps_operation_cleanup(&op);
}

static void do_poll(struct gh_hub_session *s, struct gh_slice rid, struct gh_slice opid)
{
    struct gh_dps_store *store = gh_hub_dps_store(s->hub);
    char id[GH_DPS_OPID_LEN + 1];
    struct gh_dps_operation op;
    memset(&op, 0, sizeof op);
    gh_err rc = GH_ERR_NOT_FOUND;
    if (gh_slice_to_cstr(opid, id, sizeof id) == GH_OK && gh_dps_operation_id_valid(id))
        rc = gh_dps_store_operation_get(store, s->device_id, id, &op);
    if (rc == GH_ERR_NOT_FOUND) {
        char ex[4 * GH_LOG_EXCERPT_MAX + 8];
        gh_log_info("dps.poll.unknown", "registration=%s operation=%s", s->device_id,
                    gh_log_escape(ex, sizeof ex, opid.ptr, opid.len, 0));
        reply_error(s, GH_DPS_ERR_NOT_FOUND, "Operation not found.", rid);
        return;
    }
    json_t *doc = NULL;
    int http = 200;
    if (rc == GH_OK) rc = gh_dps_doc_operation(&op, &doc, &http);
    gh_dps_operation_cleanup(&op);
    if (rc != GH_OK) {
        gh_log_error("dps.poll", "registration=%s err=%s detail=\"%s\"", s->device_id,
                     gh_err_str(rc), gh_dps_store_errmsg(store));
        reply_error(s, GH_DPS_ERR_INTERNAL, "Internal error.", rid);
        return;
    }
    reply(s, (unsigned)http, rid, doc);
    json_decref(doc);
}

void gh_hub_dps_publish(struct gh_hub_session *s, const struct gh_mqtt_publish *p)
{
    if (p->qos > 1) {
        session_close(s, "QoS 2 publish (DPS supports QoS 0 and 1)");
        return;
    }
    struct gh_iothub_identity id = dps_identity(s);
    struct gh_iothub_topic t;
    gh_err rc = gh_iothub_topic_classify(p->topic, &id, &t);
    if (rc != GH_OK ||
        (t.kind != GH_IOTHUB_TOPIC_DPS_REGISTER && t.kind != GH_IOTHUB_TOPIC_DPS_POLL)) {
        char ex[4 * GH_LOG_EXCERPT_MAX + 8];
        gh_log_warn("dps.publish.refused", "registration=%s topic=%s err=%s", s->device_id,
                    gh_log_escape(ex, sizeof ex, p->topic.ptr, p->topic.len, 0), gh_err_str(rc));
        session_close(s, "publish on a topic that is not a DPS request");
        return;
    }
    /* PUBACK first, then the response (A.2). */
    if (p->qos == 1 && send_ack(s, GH_MQTT_PUBACK, p->packet_id) != GH_OK) return;
    if (s->closing) return;
    if (t.kind == GH_IOTHUB_TOPIC_DPS_REGISTER)
        do_register(s, t.rid, p->payload);
    else
        do_poll(s, t.rid, t.operation_id);
}

void gh_hub_dps_subscribe(struct gh_hub_session *s, const struct gh_mqtt_subscribe *sub)
{
    struct gh_mqtt_packet ack = {.type = GH_MQTT_SUBACK};
    struct gh_iothub_identity id = dps_identity(s);
    ack.u.suback.packet_id = sub->packet_id;
    ack.u.suback.count = sub->count;
    for (size_t i = 0; i < sub->count; i++) {
        struct gh_iothub_filter f;
        if (gh_iothub_filter_classify(sub->subs[i].filter, &id, &f) !=
            GH_IOTHUB_FILTER_DPS_RESPONSES) {
            char ex[4 * GH_LOG_EXCERPT_MAX + 8];
            gh_log_warn(
                "dps.subscribe.refused", "registration=%s filter=%s", s->device_id,
                gh_log_escape(ex, sizeof ex, sub->subs[i].filter.ptr, sub->subs[i].filter.len, 0));
            session_close(s, "subscribe to a filter other than $dps/registrations/res/#");
            return;
        }
        uint8_t q = sub->subs[i].qos > 1 ? 1 : sub->subs[i].qos;
        ack.u.suback.return_codes[i] = q;
        s->dps_subscribed = true;
        s->dps_qos = q;
    }
    (void)send_packet(s, &ack);
}

void gh_hub_dps_unsubscribe(struct gh_hub_session *s, const struct gh_mqtt_unsubscribe *u)
{
    struct gh_iothub_identity id = dps_identity(s);
    for (size_t i = 0; i < u->count; i++) {
        struct gh_iothub_filter f;
        if (gh_iothub_filter_classify(u->filters[i], &id, &f) == GH_IOTHUB_FILTER_DPS_RESPONSES)
            s->dps_subscribed = false;
    }
    (void)send_ack(s, GH_MQTT_UNSUBACK, u->packet_id);
}

void gh_hub_dps_puback(struct gh_hub_session *s, uint16_t pid)
{
    /* Responses are fire-and-forget at QoS 1: a device that misses one
     * repeats its request (Node: 30 s request timeout). */
    (void)s;
    (void)pid;
}
