/* The provisioning service's attestation decision (PROTOCOL.md 3.4, 4.2.1,
 * 4.5): which enrollment, if any, a device's credential proves.
 *
 * Order:
 *  1. An individual enrollment for the registration id (looked up
 *     case-insensitively, 4.1) decides alone: the credential must verify
 *     against it (groups are not consulted even when it fails), then a
 *     disabled enrollment gives GH_DPS_ATTEST_DISABLED.
 *  2. Otherwise groups are tried in enrollmentGroupId order (lower-cased),
 *     only those whose attestation type fits the credential; the first
 *     whose credential check passes decides (disabled -> DISABLED).
 * Credentials: a SAS token (sr = {idScope}/registrations/{registrationId},
 * scope and id case-insensitive; skn absent or "registration"; expiry with
 * skew) is checked against the individual keys, or against keys derived
 * per 2.7 from each group key (from the registration id as sent and, when
 * different, its lower-case form). Without a token, the TLS client
 * certificate: individual X.509 -> the leaf equals an enrolled certificate
 * and its single CN equals the registration id byte for byte; group X.509
 * -> the same CN rule and the chain validates to a signing certificate
 * (root or intermediate; partial chains allowed, client-auth purpose).
 * A disabled enrollment is reported only after the credential verified, so
 * enrollment state never leaks to someone without the credential.
 * Every refusal is GH_DPS_ATTEST_DENIED with error code 401002 (what the
 * SDKs see as "unauthorized"; CONNACK 5 over MQTT); `reason` says why, for
 * the log only.
 *
 * Thread-safety: as the store (one per thread). No logging.
 */
#ifndef GH_DPS_DPS_ATTEST_H
#define GH_DPS_DPS_ATTEST_H

#include <stdint.h>

#include <openssl/x509.h>

#include "common/buf.h"
#include "dps/dps.h"
#include "dps/dps_store.h"

/* Groups read per page while searching. */
#define GH_DPS_ATTEST_GROUP_PAGE 32

struct gh_dps_attest_in {
    struct gh_slice id_scope;    /* from the user name / URL */
    const char *registration_id; /* from the user name / URL (NUL-terminated) */
    struct gh_slice sas_token;   /* empty: none */
    X509 *cert;                  /* TLS client leaf or NULL */
    STACK_OF(X509) * chain;      /* intermediates the peer sent, or NULL */
    int64_t now_s;
    uint32_t skew_s; /* GH_SAS_SKEW_DEFAULT unless configured */
};

enum gh_dps_attest_outcome {
    GH_DPS_ATTEST_OK = 0,
    GH_DPS_ATTEST_DISABLED = 1,
    GH_DPS_ATTEST_DENIED = 2,
};

/* Holds secrets: release with gh_dps_attest_cleanup. */
struct gh_dps_attest {
    enum gh_dps_attest_outcome outcome;
    int32_t error_code; /* 401002 when denied, else 0 */
    const char *reason; /* static text for the log */
    /* The matched enrollment (OK and DISABLED). */
    struct gh_dps_enrollment enrollment;
    /* Symmetric key attestation: the keys the hub device gets (the
     * enrollment's keys, or the keys derived from the group's keys). */
    char device_key[2][GH_IDENTITY_KEY_MAX + 1];
    /* The registration id the group keys were derived from. */
    char derived_from[GH_DPS_ID_MAX + 1];
    int64_t expires_s; /* token expiry (0 for X.509) */
};

void gh_dps_attest_cleanup(struct gh_dps_attest *a);

/* Decide. A bad credential is not an error (outcome DENIED); *out is always
 * written on GH_OK. Errors (internal only): those of the store, GH_ERR_CRYPTO,
 * GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_dps_attest(struct gh_dps_store *s, const struct gh_dps_attest_in *in,
                                  struct gh_dps_attest *out);

#endif
