/* The embedded provisioning service's HTTPS APIs (PROTOCOL.md 4.4, 4.8;
 * docs/dps.md), served on the hub's HTTPS listener and selected by the TLS
 * server name: a request whose SNI equals dps.hostname (case-insensitive)
 * goes here and only here; every other request goes to the hub routes.
 *
 *   device API  (rest_dps.c):          PUT  /{idScope}/registrations/{id}/register
 *                                      GET  /{idScope}/registrations/{id}/operations/{op}
 *   service API (rest_dps_service.c):  enrollments, enrollment groups,
 *                                      registration states, bulk, queries
 *
 * Every answer is JSON with Content-Type "application/json; charset=utf-8";
 * errors carry the DPS error document of 4.3 ({"errorCode", "trackingId",
 * "message", "timestampUtc"}; HTTP status = errorCode / 1000).
 *
 * Threading: everything runs on the hub's loop thread.
 */
#ifndef GH_HUB_REST_DPS_H
#define GH_HUB_REST_DPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "hub/rest_int.h"

/* The DPS service policy created at start-up (all rights) and the file its
 * connection string is written to, in data_dir (0600). */
#define GH_DPS_SERVICE_POLICY "provisioningserviceowner"
#define GH_DPS_SERVICE_CS_FILE "dps-service-connection-string"

/* Error codes of the service API beyond those of dps/dps_doc.h. */
#define GH_DPS_ERR_NO_ROUTE 404000       /* no such resource path */
#define GH_DPS_ERR_METHOD 405000         /* path known, method not */
#define GH_DPS_ERR_PRECONDITION 412001   /* If-Match does not match */
#define GH_DPS_ERR_CONFLICT 409001       /* bulk create of an existing record */
#define GH_DPS_ERR_TOO_LARGE 413001      /* request body too large */
#define GH_DPS_ERR_SERVICE_AUTH 401002   /* service token refused */
#define GH_DPS_ERR_ENROLLMENT_404 404202 /* enrollment / group / state unknown */

/* Service API limits. */
#define GH_DPS_REST_PAGE_DEFAULT 100u /* query page without x-ms-max-item-count */
#define GH_DPS_REST_PAGE_MAX 100u     /* largest page (larger requests are cut) */
#define GH_DPS_REST_BULK_MAX 10u      /* enrollments per bulk operation (as Azure) */

/* Is this request for the provisioning service (DPS enabled and its SNI
 * equals dps.hostname, ASCII case-insensitive)? */
bool gh_hub_rest_dps_selected(struct gh_hub *hub, struct gh_http_request *req);

/* Handle a DPS request (both APIs); always ends req. */
void gh_hub_rest_dps_request(struct gh_hub_rest *r, struct gh_http_request *req);

/* The service API (rest_dps_service.c): seg[0..nseg) are the decoded path
 * segments. Always ends req. */
void gh_hub_rest_dps_service(struct gh_hub_rest *r, struct gh_http_request *req,
                             const char *const *seg, size_t nseg);

/* Answer with the DPS error document of 4.3 (errorCode, message); logs a
 * 5xx at error level. Ends req. */
void gh_hub_rest_dps_error(struct gh_http_request *req, int32_t code, const char *message);

/* Answer status with body (stolen; NULL for 204) and up to one extra header
 * field (may be NULL). Ends req. */
void gh_hub_rest_dps_reply(struct gh_http_request *req, unsigned status, json_t *body,
                           const struct gh_http_kv *extra);

/* Start-up (called from gh_hub_new when DPS is enabled): create the
 * provisioningserviceowner policy in the hub's policy table if missing
 * (fresh random keys, all rights; an existing policy is kept as it is), and
 * write <data_dir>/dps-service-connection-string (0600, written to a
 * temporary file, fsynced and renamed):
 *   HostName={dps.hostname};SharedAccessKeyName=provisioningserviceowner;SharedAccessKey={key}
 * path (cap bytes) receives the file's path. Not thread-safe (store).
 * Errors: GH_ERR_TOO_LARGE (path does not fit), GH_ERR_IO (writing the
 * file), GH_ERR_CRYPTO (key generation), and the store's GH_ERR_DB /
 * GH_ERR_NOMEM / GH_ERR_ARG. */
GH_NODISCARD gh_err gh_hub_dps_policy_ensure(struct gh_hub *hub, char *path, size_t cap);

#endif
