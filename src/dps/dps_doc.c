/* Registration state and response documents (see dps_doc.h). */
#include <stdio.h>
#include <string.h>

#include "common/encoding.h"
#include "dps/dps_doc.h"
#include "hub/stamp.h"
#include "iothub/crypto.h"

void gh_dps_operation_cleanup(struct gh_dps_operation *op)
{
    if (op == NULL) return;
    json_decref(op->result);
    memset(op, 0, sizeof *op);
}

const char *gh_dps_status_name(enum gh_dps_status s)
{
    switch (s) {
    case GH_DPS_UNASSIGNED:
        return "unassigned";
    case GH_DPS_ASSIGNING:
        return "assigning";
    case GH_DPS_ASSIGNED:
        return "assigned";
    case GH_DPS_FAILED:
        return "failed";
    case GH_DPS_DISABLED:
        return "disabled";
    }
    return "failed";
}

const char *gh_dps_substatus_name(enum gh_dps_substatus s)
{
    switch (s) {
    case GH_DPS_SUB_INITIAL:
        return "initialAssignment";
    case GH_DPS_SUB_MIGRATED:
        return "deviceDataMigrated";
    case GH_DPS_SUB_RESET:
        return "deviceDataReset";
    case GH_DPS_SUB_NONE:
        break;
    }
    return "";
}

gh_err gh_dps_operation_id(char out[GH_DPS_OPID_LEN + 1])
{
    uint8_t r[8];
    char hex[17], guid[GH_HUB_GUID_LEN];
    GH_GUARD(gh_random_bytes(r, sizeof r));
    struct gh_writer w;
    gh_writer_init(&w, hex, sizeof hex);
    GH_GUARD(gh_hex_encode(r, sizeof r, &w));
    GH_GUARD(gh_writer_terminate(&w));
    GH_GUARD(gh_hub_guid(guid));
    snprintf(out, GH_DPS_OPID_LEN + 1, "4.%s.%s", hex, guid);
    return GH_OK;
}

bool gh_dps_operation_id_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '.' || c == '-'))
            return false;
    }
    return true;
}

static gh_err set(json_t *o, const char *k, json_t *v)
{
    return json_object_set_new(o, k, v) == 0 ? GH_OK : GH_ERR_NOMEM;
}

static gh_err fill_state(const struct gh_dps_registration *r, json_t *o)
{
    char t[GH_HUB_TIME_LEN];
    GH_GUARD(set(o, "registrationId", json_string(r->registration_id)));
    gh_hub_time_format(r->created_ms, t);
    GH_GUARD(set(o, "createdDateTimeUtc", json_string(t)));
    if (r->assigned_hub[0] != '\0' && r->device_id[0] != '\0') {
        GH_GUARD(set(o, "assignedHub", json_string(r->assigned_hub)));
        GH_GUARD(set(o, "deviceId", json_string(r->device_id)));
    }
    GH_GUARD(set(o, "status", json_string(gh_dps_status_name(r->status))));
    if (r->substatus != GH_DPS_SUB_NONE)
        GH_GUARD(set(o, "substatus", json_string(gh_dps_substatus_name(r->substatus))));
    if (r->error_code != 0) {
        GH_GUARD(set(o, "errorCode", json_integer(r->error_code)));
        GH_GUARD(set(o, "errorMessage", json_string(r->error_message)));
    }
    gh_hub_time_format(r->updated_ms, t);
    GH_GUARD(set(o, "lastUpdatedDateTimeUtc", json_string(t)));
    if (r->etag[0] != '\0') {
        char quoted[GH_DPS_ETAG_MAX + 3], b64[2 * GH_DPS_ETAG_MAX];
        int n = snprintf(quoted, sizeof quoted, "\"%s\"", r->etag);
        struct gh_writer w;
        gh_writer_init(&w, b64, sizeof b64);
        GH_GUARD(gh_base64_encode((const uint8_t *)quoted, (size_t)n, &w));
        GH_GUARD(gh_writer_terminate(&w));
        GH_GUARD(set(o, "etag", json_string(b64)));
    }
    return GH_OK;
}

gh_err gh_dps_registration_to_json(const struct gh_dps_registration *r, json_t **out)
{
    json_t *o = json_object();
    GH_ENSURE(o != NULL, GH_ERR_NOMEM);
    gh_err rc = fill_state(r, o);
    if (rc != GH_OK) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return GH_OK;
}

gh_err gh_dps_doc_register(const char *operation_id, json_t **out)
{
    json_t *o = json_pack("{s:s,s:s}", "operationId", operation_id, "status", "assigning");
    GH_ENSURE(o != NULL, GH_ERR_NOMEM);
    *out = o;
    return GH_OK;
}

gh_err gh_dps_doc_operation(const struct gh_dps_operation *op, json_t **out, int *http)
{
    json_t *o;
    bool running = op->status == GH_DPS_ASSIGNING || op->result == NULL;
    if (running)
        o = json_pack("{s:s,s:s,s:{s:s,s:s}}", "operationId", op->id, "status", "assigning",
                      "registrationState", "registrationId", op->registration_id, "status",
                      "assigning");
    else
        o = json_pack("{s:s,s:s,s:O}", "operationId", op->id, "status",
                      gh_dps_status_name(op->status), "registrationState", op->result);
    GH_ENSURE(o != NULL, GH_ERR_NOMEM);
    if (http != NULL) *http = running ? 202 : 200;
    *out = o;
    return GH_OK;
}

gh_err gh_dps_doc_error(int32_t error_code, const char *message, int64_t now_ms, json_t **out,
                        int *http)
{
    char guid[GH_HUB_GUID_LEN], t[GH_HUB_TIME_LEN];
    GH_GUARD(gh_hub_guid(guid));
    gh_hub_time_format(now_ms, t);
    json_t *o = json_pack("{s:i,s:s,s:s,s:s}", "errorCode", (int)error_code, "trackingId", guid,
                          "message", message != NULL ? message : "", "timestampUtc", t);
    GH_ENSURE(o != NULL, GH_ERR_NOMEM);
    if (http != NULL) *http = (int)(error_code / 1000);
    *out = o;
    return GH_OK;
}

gh_err gh_dps_register_body_check(const void *body, size_t len, const char *registration_id)
{
    GH_ENSURE(len <= GH_DPS_REGISTER_BODY_MAX, GH_ERR_TOO_LARGE);
    json_error_t jerr;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    GH_ENSURE(j != NULL, GH_ERR_BAD_JSON);
    gh_err rc = GH_OK;
    const json_t *id = json_object_get(j, "registrationId");
    const json_t *payload = json_object_get(j, "payload");
    if (!json_is_object(j))
        rc = GH_ERR_BAD_JSON;
    else if (id != NULL && !json_is_string(id))
        rc = GH_ERR_BAD_JSON;
    else if (payload != NULL && !json_is_object(payload) && !json_is_null(payload))
        rc = GH_ERR_BAD_JSON;
    else if (id == NULL || json_string_length(id) != strlen(json_string_value(id)) ||
             !gh_iothub_valid_registration_id(gh_slice_cstr(json_string_value(id))) ||
             !gh_slice_eq_nocase(gh_slice_cstr(json_string_value(id)),
                                 gh_slice_cstr(registration_id)))
        rc = GH_ERR_ARG;
    json_decref(j);
    return rc;
}
