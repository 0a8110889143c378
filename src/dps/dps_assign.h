/* Assignment (PROTOCOL.md 4.6 "Assignment side effects"): choose a hub,
 * create or update the device identity there, apply the initial twin,
 * record the registration state.
 *
 * Hubs are reached through struct gh_dps_hub: a host name plus a table of
 * operations, so the embedded hub (gh_dps_hub_embedded, over a struct
 * gh_store) and, later, a remote linked hub (over its service REST API)
 * look the same to the assignment logic.
 *
 * Allocation: static -> the enrollment's iotHubHostName (else its only
 * iotHubs entry); hashed (and the default without iotHubHostName) -> the
 * candidates are the enrollment's iotHubs that are linked (all linked hubs
 * when iotHubs is empty), and the hub is candidate[FNV-1a-64(lower-cased
 * registration id) mod count] -- stable for a given candidate list. No
 * candidate, or a static hub that is not linked: the operation fails with
 * 400208.
 *
 * Identity: device id = the individual enrollment's deviceId, else the
 * registration id. Authentication: symmetric -> sas with the attested keys
 * (the enrollment's, or those derived from the group keys per 2.7);
 * individual X.509 -> selfSigned with the SHA-256 thumbprints of the
 * enrolled certificates; group X.509 -> certificateAuthority, and the
 * group's signing certificates are registered with the hub as verified CA
 * records (ops->ca_ensure; the enrollment was created by a DPS owner who
 * uploaded the certificate, which we take as the proof of possession), so
 * the device can then connect. capabilities.iotEdge is copied.
 *
 * Re-registration (a registration state exists):
 *  - the device was deleted from its hub, or none is recorded: it is
 *    created afresh with the initial twin (substatus initialAssignment);
 *  - same hub: identity updated (auth, iotEdge); migrateDeviceData true
 *    keeps the twin (initialAssignment), false replaces tags and desired
 *    properties with the initial twin (deviceDataReset; reported
 *    properties are the device's and stay);
 *  - another hub chosen and updateHubAssignment false: stays on the
 *    previous hub if that is still linked;
 *  - another hub and updateHubAssignment true: created in the new hub with
 *    the old twin's tags and desired properties (migrateDeviceData true,
 *    deviceDataMigrated) or the initial twin (deviceDataReset), then
 *    deleted from the old hub.
 * Failure to create/update the device: the operation fails with 400209.
 *
 * Thread-safety: as the stores. Logs the outcome (ids escaped, no keys).
 */
#ifndef GH_DPS_DPS_ASSIGN_H
#define GH_DPS_DPS_ASSIGN_H

#include <jansson.h>

#include "dps/dps_attest.h"
#include "dps/dps_doc.h"
#include "dps/dps_store.h"
#include "hub/identity.h"

struct gh_store;

/* What the assignment needs from a hub. Every function returns GH_OK or
 * an error; GH_ERR_NOT_FOUND is meaningful where noted. */
struct gh_dps_hub_ops {
    /* Errors: GH_ERR_NOT_FOUND (no such device). */
    gh_err (*identity_get)(void *ctx, const char *device_id, struct gh_identity *out);
    gh_err (*identity_create)(void *ctx, const struct gh_identity *in, struct gh_identity *out);
    /* Update the fields flagged in in->present. Errors: GH_ERR_NOT_FOUND. */
    gh_err (*identity_update)(void *ctx, const struct gh_identity *in, struct gh_identity *out);
    gh_err (*identity_delete)(void *ctx, const char *device_id);
    /* replace false: merge-patch doc ({"tags":..,"properties":{"desired":..}})
     * into the twin; true: replace tags and desired with doc's. */
    gh_err (*twin_apply)(void *ctx, const char *device_id, const json_t *doc, bool replace);
    /* The twin's {"tags":..,"properties":{"desired":..}} (new reference,
     * $-members removed). */
    gh_err (*twin_get)(void *ctx, const char *device_id, json_t **out);
    /* Make sure the CA certificate (PEM) is registered and verified. */
    gh_err (*ca_ensure)(void *ctx, const char *pem);
};

struct gh_dps_hub {
    const char *host_name; /* what devices dial (assignedHub) */
    const struct gh_dps_hub_ops *ops;
    void *ctx;
};

/* The embedded hub: operations over the hub's own store. ca_changed (may
 * be NULL) is called after a CA record was added or verified, so the
 * running hub can drop its cached CA store (gh_hub_ca_changed). */
struct gh_dps_embedded {
    struct gh_store *store;
    void (*ca_changed)(void *ctx);
    void *ca_changed_ctx;
};

/* Fill *hub for the embedded hub e (borrowed; both must outlive *hub). */
void gh_dps_hub_embedded(struct gh_dps_hub *hub, const char *host_name, struct gh_dps_embedded *e);

/* Name of the CA record ca_ensure creates for a certificate:
 * "dps-" + its SHA-1 thumbprint (44 characters + NUL).
 * Errors: GH_ERR_MALFORMED, GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_dps_ca_record_name(const char *pem, char out[45]);

/* Choose the hub index in hubs[0..nhubs) for enrollment e and registration
 * id reg (see the allocation rules). Errors: GH_ERR_NOT_FOUND (no hub). */
GH_NODISCARD gh_err gh_dps_allocate(const struct gh_dps_enrollment *e, const char *reg,
                                    const struct gh_dps_hub *hubs, size_t nhubs, size_t *index);

/* Run the assignment for a decided attestation a (outcome OK or DISABLED)
 * of registration id reg, against the linked hubs, and store the
 * registration state (also for failed and disabled outcomes). *out
 * receives it: status assigned / failed (errorCode 400208 or 400209) /
 * disabled. Hub failures are outcomes, not errors.
 * Errors: GH_ERR_ARG (a denied attestation, invalid reg), those of the DPS
 * store, GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_dps_assign(struct gh_dps_store *s, const struct gh_dps_attest *a,
                                  const char *reg, const struct gh_dps_hub *hubs, size_t nhubs,
                                  struct gh_dps_registration *out);

#endif
