/* The embedded provisioning service over HTTPS: SNI selection, answers,
 * the device registration API (PROTOCOL.md 4.4) and the start-up policy
 * (docs/dps.md). The service API is in rest_dps_service.c. */
#include "hub/rest_dps.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/log.h"
#include "dps/dps_assign.h"
#include "dps/dps_attest.h"
#include "dps/dps_doc.h"
#include "dps/dps_store.h"
#include "iothub/crypto.h"
#include "iothub/sas.h"
#include "iothub/username.h"
#include "net/conn.h"

/* Longest excerpt of a peer-sent id in the log. */
#define LOG_ID_MAX 64

bool gh_hub_rest_dps_selected(struct gh_hub *hub, struct gh_http_request *req)
{
    const struct gh_hub_config *cfg = gh_hub_config(hub);
    if (!cfg->dps_enabled || gh_hub_dps_store(hub) == NULL) return false;
    const char *sni = gh_http_request_sni(req);
    return sni != NULL && strcasecmp(sni, cfg->dps_hostname) == 0;
}

/* ---- answers ------------------------------------------------------------- */

void gh_hub_rest_dps_reply(struct gh_http_request *req, unsigned status, json_t *body,
                           const struct gh_http_kv *extra)
{
    char *text = NULL;
    if (body != NULL) {
        text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        if (text == NULL) {
            gh_log_error("dps.rest.reply", "err=%s", gh_err_name(GH_ERR_NOMEM));
            gh_http_request_release(req);
            return;
        }
    }
    gh_err rc = gh_http_respond(req, status, text ? GH_HTTP_CONTENT_TYPE_JSON : NULL, text,
                                text ? strlen(text) : 0, extra, extra ? 1 : 0);
    if (rc != GH_OK && rc != GH_ERR_CLOSED)
        gh_log_warn("dps.rest.reply", "status=%u err=%s", status, gh_err_name(rc));
    free(text);
}

void gh_hub_rest_dps_error(struct gh_http_request *req, int32_t code, const char *message)
{
    json_t *doc = NULL;
    int http = 500;
    gh_err rc = gh_dps_doc_error(code, message, gh_hub_now_ms(), &doc, &http);
    if (rc != GH_OK) {
        gh_log_error("dps.rest.error_doc", "err=%s", gh_err_name(rc));
        gh_http_request_release(req);
        return;
    }
    if (http >= 500)
        gh_log_error("dps.rest.fail", "peer=%s code=%ld", gh_http_request_peer_addr(req),
                     (long)code);
    gh_hub_rest_dps_reply(req, (unsigned)http, doc, NULL);
}

/* ---- the device API (4.4) ----------------------------------------------- */

/* The credential of the request: its SAS token, else its TLS client
 * certificate (and the intermediates it sent). */
static void attest_input(struct gh_hub *hub, struct gh_http_request *req, const char *scope,
                         const char *reg, struct gh_dps_attest_in *in)
{
    const struct gh_hub_config *cfg = gh_hub_config(hub);
    const char *auth = gh_http_request_header(req, "Authorization");
    struct gh_conn *conn = gh_http_request_conn(req);
    *in = (struct gh_dps_attest_in){
        .id_scope = gh_slice_cstr(scope),
        .registration_id = reg,
        .sas_token = auth ? gh_slice_cstr(auth) : gh_slice_cstr(""),
        .cert = conn ? gh_conn_peer_cert(conn) : NULL,
        .chain = conn ? gh_conn_peer_chain(conn) : NULL,
        .now_s = gh_hub_now_ms() / 1000,
        .skew_s = (uint32_t)cfg->sas_skew,
    };
}

/* Attest the request's credential for reg. On GH_OK *a is decided and
 * owned by the caller; otherwise the request has been answered (401002 or
 * 500000). */
static bool attest(struct gh_hub *hub, struct gh_http_request *req, const char *scope,
                   const char *reg, struct gh_dps_attest *a)
{
    struct gh_dps_store *ds = gh_hub_dps_store(hub);
    struct gh_dps_attest_in in;
    attest_input(hub, req, scope, reg, &in);
    memset(a, 0, sizeof *a);
    gh_err rc = gh_dps_attest(ds, &in, a);
    if (rc != GH_OK) {
        gh_log_error("dps.attest.error", "err=%s detail=\"%s\"", gh_err_name(rc),
                     gh_dps_store_errmsg(ds));
        gh_dps_attest_cleanup(a);
        gh_hub_rest_dps_error(req, GH_DPS_ERR_INTERNAL, "Internal error.");
        return false;
    }
    if (a->outcome == GH_DPS_ATTEST_DENIED) {
        char id[LOG_ID_MAX * 4 + 8];
        gh_log_escape(id, sizeof id, reg, strlen(reg), LOG_ID_MAX);
        gh_log_info("dps.register.denied", "transport=https peer=%s registration=%s reason=\"%s\"",
                    gh_http_request_peer_addr(req), id, a->reason ? a->reason : "");
        gh_dps_attest_cleanup(a);
        gh_hub_rest_dps_error(req, GH_DPS_ERR_UNAUTHORIZED, "Unauthorized.");
        return false;
    }
    return true;
}

static const struct gh_http_kv retry_after = {"Retry-After", "3"};

_Static_assert(GH_DPS_RETRY_AFTER_S == 3, "retry_after header text");

/* PUT /{idScope}/registrations/{id}/register */
static void device_register(struct gh_hub *hub, struct gh_http_request *req, const char *scope,
                            const char *reg)
{
    struct gh_dps_store *ds = gh_hub_dps_store(hub);
    struct gh_slice body = gh_http_request_body(req);
    gh_err rc = gh_dps_register_body_check(body.ptr, body.len, reg);
    if (rc != GH_OK) {
        gh_hub_rest_dps_error(req, GH_DPS_ERR_BAD_REQUEST,
                              rc == GH_ERR_TOO_LARGE ? "Request body too large."
                              : rc == GH_ERR_ARG     ? "Invalid or mismatched registrationId."
                                                     : "Malformed request body.");
        return;
    }
    struct gh_dps_attest a;
    if (!attest(hub, req, scope, reg, &a)) return;
    struct gh_dps_operation op;
    memset(&op, 0, sizeof op);
    struct gh_dps_registration state;
    memset(&state, 0, sizeof state);
    json_t *doc = NULL;
    bool queued = false;
    rc = gh_hub_dps_register(hub, reg, &a, &op, &state, &queued);
    gh_dps_attest_cleanup(&a);
    if (rc == GH_ERR_QUEUE_FULL) {
        char id[LOG_ID_MAX * 4 + 8];
        gh_log_escape(id, sizeof id, reg, strlen(reg), LOG_ID_MAX);
        gh_log_warn("dps.register.throttled", "transport=https registration=%s", id);
        json_t *err = NULL;
        if (gh_dps_doc_error(GH_DPS_ERR_THROTTLED, "Too many registrations waiting; retry later.",
                             gh_hub_now_ms(), &err, NULL) != GH_OK) {
            gh_http_request_release(req);
            return;
        }
        gh_hub_rest_dps_reply(req, 429, err, &retry_after);
        return;
    }
    if (rc == GH_OK) rc = gh_dps_doc_register(op.id, &doc);
    if (rc != GH_OK) {
        gh_log_error("dps.register.error", "err=%s detail=\"%s\"", gh_err_name(rc),
                     gh_dps_store_errmsg(ds));
        gh_dps_operation_cleanup(&op);
        gh_hub_rest_dps_error(req, GH_DPS_ERR_INTERNAL, "Internal error.");
        return;
    }
    char id[LOG_ID_MAX * 4 + 8];
    gh_log_escape(id, sizeof id, reg, strlen(reg), LOG_ID_MAX);
    gh_log_info("dps.register", "transport=https registration=%s operation=%s status=%s", id, op.id,
                queued ? "assigning" : gh_dps_status_name(state.status));
    gh_dps_operation_cleanup(&op);
    gh_hub_rest_dps_reply(req, 202, doc, &retry_after);
}

/* GET /{idScope}/registrations/{id}/operations/{operationId} */
static void device_operation(struct gh_hub *hub, struct gh_http_request *req, const char *scope,
                             const char *reg, const char *opid)
{
    struct gh_dps_store *ds = gh_hub_dps_store(hub);
    struct gh_dps_attest a;
    if (!attest(hub, req, scope, reg, &a)) return;
    gh_dps_attest_cleanup(&a);
    if (!gh_dps_operation_id_valid(opid)) {
        gh_hub_rest_dps_error(req, GH_DPS_ERR_NOT_FOUND, "Operation not found.");
        return;
    }
    struct gh_dps_operation op;
    memset(&op, 0, sizeof op);
    gh_err rc = gh_dps_store_operation_get(ds, reg, opid, &op);
    if (rc == GH_ERR_NOT_FOUND) {
        gh_hub_rest_dps_error(req, GH_DPS_ERR_NOT_FOUND, "Operation not found.");
        return;
    }
    json_t *doc = NULL;
    int http = 200;
    if (rc == GH_OK) rc = gh_dps_doc_operation(&op, &doc, &http);
    gh_dps_operation_cleanup(&op);
    if (rc != GH_OK) {
        gh_log_error("dps.operation.error", "err=%s detail=\"%s\"", gh_err_name(rc),
                     gh_dps_store_errmsg(ds));
        gh_hub_rest_dps_error(req, GH_DPS_ERR_INTERNAL, "Internal error.");
        return;
    }
    gh_hub_rest_dps_reply(req, (unsigned)http, doc, http == 202 ? &retry_after : NULL);
}

/* Is this a device API path: /{scope}/registrations/{id}/register or
 * /{scope}/registrations/{id}/operations/{op}? */
static bool device_path(const char *const *seg, size_t nseg)
{
    if (nseg < 4 || strcasecmp(seg[1], "registrations") != 0) return false;
    if (nseg == 4) return strcasecmp(seg[3], "register") == 0;
    return nseg == 5 && strcasecmp(seg[3], "operations") == 0;
}

static void device_api(struct gh_hub *hub, struct gh_http_request *req, const char *const *seg,
                       size_t nseg)
{
    const struct gh_hub_config *cfg = gh_hub_config(hub);
    const char *method = gh_http_request_method(req);
    bool is_register = nseg == 4;
    if (strcmp(method, is_register ? "PUT" : "GET") != 0) {
        struct gh_http_kv allow = {"Allow", is_register ? "PUT" : "GET"};
        json_t *doc = NULL;
        if (gh_dps_doc_error(GH_DPS_ERR_METHOD, "Method not allowed.", gh_hub_now_ms(), &doc,
                             NULL) != GH_OK) {
            gh_http_request_release(req);
            return;
        }
        gh_hub_rest_dps_reply(req, 405, doc, &allow);
        return;
    }
    /* An unknown scope is answered as a bad credential: the token's
     * audience names the scope, so no device of ours can present it. */
    if (strcasecmp(seg[0], cfg->dps_id_scope) != 0) {
        gh_log_info("dps.register.denied", "transport=https peer=%s reason=\"unknown id scope\"",
                    gh_http_request_peer_addr(req));
        gh_hub_rest_dps_error(req, GH_DPS_ERR_UNAUTHORIZED, "Unauthorized.");
        return;
    }
    if (!gh_iothub_valid_registration_id(gh_slice_cstr(seg[2]))) {
        gh_hub_rest_dps_error(req, GH_DPS_ERR_BAD_REQUEST, "Invalid registration id.");
        return;
    }
    if (is_register)
        device_register(hub, req, seg[0], seg[2]);
    else
        device_operation(hub, req, seg[0], seg[2], seg[4]);
}

void gh_hub_rest_dps_request(struct gh_hub_rest *r, struct gh_http_request *req)
{
    const char *seg[GH_HTTP_SEGMENTS_MAX];
    size_t nseg = gh_http_request_segment_count(req);
    if (nseg > GH_HTTP_SEGMENTS_MAX) nseg = GH_HTTP_SEGMENTS_MAX;
    for (size_t i = 0; i < nseg; i++) seg[i] = gh_http_request_segment(req, i);
    if (nseg > 1 && seg[nseg - 1][0] == '\0') nseg--;
    if (device_path(seg, nseg))
        device_api(r->hub, req, seg, nseg);
    else
        gh_hub_rest_dps_service(r, req, seg, nseg);
}

/* ---- start-up policy ----------------------------------------------------- */

static gh_err gen_key(char out[GH_IDENTITY_KEY_MAX + 1])
{
    struct gh_writer w;
    gh_writer_init(&w, out, GH_IDENTITY_KEY_MAX + 1);
    GH_GUARD(gh_generate_key_b64(GH_SYMKEY_DEFAULT_LEN, &w));
    return gh_writer_terminate(&w);
}

gh_err gh_hub_dps_policy_ensure(struct gh_hub *hub, char *path, size_t cap)
{
    const struct gh_hub_config *cfg = gh_hub_config(hub);
    struct gh_store *s = gh_hub_store(hub);
    struct gh_policy pol;
    memset(&pol, 0, sizeof pol);
    gh_err rc = gh_store_policy_get(s, GH_DPS_SERVICE_POLICY, &pol);
    if (rc == GH_ERR_NOT_FOUND) {
        snprintf(pol.name, sizeof pol.name, "%s", GH_DPS_SERVICE_POLICY);
        pol.rights = GH_RIGHT_PROVISIONING;
        rc = gen_key(pol.primary_key);
        if (rc == GH_OK) rc = gen_key(pol.secondary_key);
        if (rc == GH_OK) rc = gh_store_policy_put(s, &pol);
        if (rc == GH_OK) gh_log_info("dps.policy.created", "name=%s", GH_DPS_SERVICE_POLICY);
    }
    gh_policy_wipe(&pol);
    if (rc != GH_OK) return rc;
    return gh_hub_write_connection_string(hub, cfg->dps_hostname, GH_DPS_SERVICE_POLICY,
                                          GH_DPS_SERVICE_CS_FILE, path, cap);
}
