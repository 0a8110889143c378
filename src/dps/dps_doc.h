/* Registration states, operations and the device-facing response
 * documents of the provisioning service (PROTOCOL.md 4.2.3, 4.3, 4.4).
 *
 * Error codes (6 digits, the first three are the HTTP status, 4.3):
 *   400004 bad request (malformed body, registration id mismatch)
 *   400208 no hub could be chosen for the enrollment (C SDK: "no hub")
 *   400209 the device could not be created in the chosen hub
 *   401002 unauthorized: unknown registration, wrong key, expired token,
 *          certificate not matching / not under the group CA (the SDKs see
 *          every one of these as "unauthorized"; we never tell them apart
 *          on the wire, only in the log)
 *   404201 unknown operation id
 *   429001 throttled (retry-after)
 *   500000 internal error
 * A disabled enrollment is not a request error: once the device proved its
 * credential the register is accepted (202) and the operation finishes with
 * status "disabled" (4.3, 4.6).
 *
 * Pure functions; thread-safe on distinct objects; no I/O, no logging.
 */
#ifndef GH_DPS_DPS_DOC_H
#define GH_DPS_DPS_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "dps/dps.h"

#define GH_DPS_ERR_BAD_REQUEST 400004
#define GH_DPS_ERR_NO_HUB 400208
#define GH_DPS_ERR_HUB_ASSIGN 400209
#define GH_DPS_ERR_UNAUTHORIZED 401002
#define GH_DPS_ERR_NOT_FOUND 404201
#define GH_DPS_ERR_THROTTLED 429001
#define GH_DPS_ERR_INTERNAL 500000

/* retry-after (seconds) sent with every 202 (4.2.2). */
#define GH_DPS_RETRY_AFTER_S 3
/* "4." + 16 hex + "." + GUID (4.1). */
#define GH_DPS_OPID_LEN (2 + 16 + 1 + 36)
/* Operations older than this are removed. */
#define GH_DPS_OPERATION_TTL_MS INT64_C(86400000)

/* Stable numbers: stored in dps.db. */
enum gh_dps_status {
    GH_DPS_UNASSIGNED = 0,
    GH_DPS_ASSIGNING = 1,
    GH_DPS_ASSIGNED = 2,
    GH_DPS_FAILED = 3,
    GH_DPS_DISABLED = 4,
};

enum gh_dps_substatus {
    GH_DPS_SUB_NONE = 0,
    GH_DPS_SUB_INITIAL = 1,  /* initialAssignment */
    GH_DPS_SUB_MIGRATED = 2, /* deviceDataMigrated */
    GH_DPS_SUB_RESET = 3,    /* deviceDataReset */
};

/* DeviceRegistrationState (4.3, 4.8). Plain data, no secrets. */
struct gh_dps_registration {
    char registration_id[GH_DPS_ID_MAX + 1]; /* as the device sent it */
    char device_id[GH_IDENTITY_ID_MAX + 1];  /* "" until assigned */
    char assigned_hub[GH_DPS_HOST_MAX + 1];  /* "" until assigned */
    enum gh_dps_status status;
    enum gh_dps_substatus substatus;
    int32_t error_code; /* 0 = none */
    char error_message[GH_DPS_ERRMSG_MAX + 1];
    enum gh_dps_kind enrollment_kind;
    char enrollment_id[GH_DPS_ID_MAX + 1]; /* registration or group id */
    char etag[GH_DPS_ETAG_MAX + 1];        /* GUID, no quotes */
    int64_t created_ms;
    int64_t updated_ms;
};

/* One registration attempt. result is the registrationState object of a
 * finished operation (owned), NULL while assigning. */
struct gh_dps_operation {
    char id[GH_DPS_OPID_LEN + 1];
    char registration_id[GH_DPS_ID_MAX + 1];
    enum gh_dps_status status;
    int64_t created_ms;
    int64_t updated_ms;
    json_t *result;
};

void gh_dps_operation_cleanup(struct gh_dps_operation *op);

/* "assigning", "assigned", ... and "initialAssignment", ...; static
 * storage; "" for GH_DPS_SUB_NONE. */
const char *gh_dps_status_name(enum gh_dps_status s);
const char *gh_dps_substatus_name(enum gh_dps_substatus s);

/* A fresh Azure-style operation id "4.{16 hex}.{guid}" (4.1).
 * Errors: GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_dps_operation_id(char out[GH_DPS_OPID_LEN + 1]);

/* Is s an operation id we could have issued ([0-9A-Za-z.-], 1..64 bytes)? */
bool gh_dps_operation_id_valid(const char *s);

/* DeviceRegistrationState JSON (4.3): registrationId, createdDateTimeUtc,
 * assignedHub + deviceId (together, only when both are set), status,
 * substatus (when set), errorCode + errorMessage (when set),
 * lastUpdatedDateTimeUtc, etag (base64 of the quoted GUID).
 * New reference. Errors: GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_dps_registration_to_json(const struct gh_dps_registration *r, json_t **out);

/* Register accepted (202): {"operationId":..., "status":"assigning"}. */
GH_NODISCARD gh_err gh_dps_doc_register(const char *operation_id, json_t **out);

/* Poll answer for op: while assigning {"operationId","status":"assigning",
 * "registrationState":{"registrationId","status":"assigning"}} (HTTP 202),
 * else {"operationId","status",registrationState: op->result} (HTTP 200).
 * *http (may be NULL) receives 202 or 200.
 * Errors: GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_dps_doc_operation(const struct gh_dps_operation *op, json_t **out,
                                         int *http);

/* Request-level error (4.3): {"errorCode", "trackingId" (a fresh GUID),
 * "message", "timestampUtc"}. *http (may be NULL) receives
 * error_code / 1000. Errors: GH_ERR_NOMEM, GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_dps_doc_error(int32_t error_code, const char *message, int64_t now_ms,
                                     json_t **out, int *http);

/* The register request body (4.2.2, 4.4): {"registrationId": ...,
 * "payload"?: ...}. registrationId must be present, valid, and equal
 * (case-insensitively, 4.1) to the id of the user name / URL.
 * Errors: GH_ERR_BAD_JSON (not JSON / not an object / wrong type),
 * GH_ERR_ARG (missing, invalid or different registration id),
 * GH_ERR_TOO_LARGE (body over GH_DPS_REGISTER_BODY_MAX). */
#define GH_DPS_REGISTER_BODY_MAX 16384
GH_NODISCARD gh_err gh_dps_register_body_check(const void *body, size_t len,
                                               const char *registration_id);

#endif
