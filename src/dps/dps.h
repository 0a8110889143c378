/* Provisioning service (PROTOCOL.md 4): the records it keeps and their
 * exact JSON forms.
 *
 * An enrollment is individual (one registration id) or a group (many devices
 * sharing a symmetric group key or a signing CA). struct gh_dps_enrollment
 * is the parsed, validated form; it owns heap members (certificates, the
 * initial twin) and holds secrets (symmetric keys): release it with
 * gh_dps_enrollment_cleanup, which wipes the keys.
 *
 * JSON (4.6, 4.8, as azure-iot-provisioning-service 1.11.2 sends and
 * expects it):
 *   attestation {type "symmetricKey", symmetricKey {primaryKey, secondaryKey}}
 *   attestation {type "x509", x509 {clientCertificates {primary {certificate},
 *                secondary {...}}}}                      (individual)
 *   attestation {type "x509", x509 {signingCertificates {...}}}   (group)
 * On output every stored certificate is rendered as
 *   {"certificate": <PEM>, "info": {subjectName, sha1Thumbprint,
 *    sha256Thumbprint, issuerName, notBeforeUtc, notAfterUtc, serialNumber,
 *    version}}
 * Azure returns only "info"; we also return the (public) certificate so an
 * enrollment fetched by the SDK can be PUT back unchanged.
 *
 * Not supported (refused with GH_ERR_UNSUPPORTED and a reason): TPM
 * attestation, caReferences (DPS-side CA registry), allocation policies
 * geoLatency and custom.
 *
 * All functions are thread-safe on distinct objects, do no I/O, no logging.
 */
#ifndef GH_DPS_DPS_H
#define GH_DPS_DPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "hub/identity.h"
#include "iothub/username.h"

/* registrationId / enrollmentGroupId: 1..128 bytes (4.1). */
#define GH_DPS_ID_MAX GH_IOTHUB_ID_MAX
/* Host names (iotHubHostName, iotHubs entries, assignedHub). */
#define GH_DPS_HOST_MAX 255
/* Most entries in iotHubs. */
#define GH_DPS_HUBS_MAX 16
/* Largest certificate text accepted in an enrollment (PEM or base64 DER). */
#define GH_DPS_CERT_TEXT_MAX 16384
/* Largest enrollment JSON document accepted (request body, stored row). */
#define GH_DPS_JSON_MAX 131072
/* Enrollment etag: a GUID (stored without quotes). */
#define GH_DPS_ETAG_MAX 40
/* Size of generated symmetric enrollment keys (Azure DPS uses 64 bytes). */
#define GH_DPS_GENERATED_KEY_BYTES 64
/* Longest reason text written by the parsers. */
#define GH_DPS_REASON_MAX 192
/* Longest error message kept in a registration state. */
#define GH_DPS_ERRMSG_MAX 256

enum gh_dps_kind { GH_DPS_INDIVIDUAL = 0, GH_DPS_GROUP = 1 };

enum gh_dps_attestation { GH_DPS_ATT_SYMMETRIC_KEY = 0, GH_DPS_ATT_X509 = 1 };

/* GH_DPS_ALLOC_DEFAULT: no allocationPolicy given: static to
 * iotHubHostName when it is set, else hashed. */
enum gh_dps_alloc { GH_DPS_ALLOC_DEFAULT = 0, GH_DPS_ALLOC_HASHED, GH_DPS_ALLOC_STATIC };

struct gh_dps_enrollment {
    enum gh_dps_kind kind;
    /* registrationId (individual) or enrollmentGroupId (group), as given. */
    char id[GH_DPS_ID_MAX + 1];
    /* Individual only: the hub device id; "" = the registration id. */
    char device_id[GH_IDENTITY_ID_MAX + 1];
    enum gh_dps_attestation attestation;
    /* Symmetric key attestation; "" = not set (the store generates). */
    char primary_key[GH_IDENTITY_KEY_MAX + 1];
    char secondary_key[GH_IDENTITY_KEY_MAX + 1];
    /* X.509: PEM of the client (individual) or signing (group)
     * certificates; malloc'd, NUL-terminated; [1] may be NULL. */
    char *cert_pem[2];
    bool iot_edge;
    char iot_hub_host_name[GH_DPS_HOST_MAX + 1]; /* "" = none */
    char iot_hubs[GH_DPS_HUBS_MAX][GH_DPS_HOST_MAX + 1];
    size_t niot_hubs;
    enum gh_dps_alloc allocation;
    /* {"tags":{...},"properties":{"desired":{...}}} or NULL (owned). */
    json_t *initial_twin;
    bool enabled; /* provisioningStatus */
    bool update_hub_assignment;
    bool migrate_device_data;
    char etag[GH_DPS_ETAG_MAX + 1]; /* without quotes; "" = none */
    int64_t created_ms;
    int64_t updated_ms;
};

/* Release heap members and wipe the whole struct (keys included). Safe on
 * NULL and on a zeroed struct. */
void gh_dps_enrollment_cleanup(struct gh_dps_enrollment *e);

/* Deep copy of src into *dst (which is overwritten, not cleaned).
 * Errors: GH_ERR_NOMEM (dst is then zeroed). */
GH_NODISCARD gh_err gh_dps_enrollment_copy(struct gh_dps_enrollment *dst,
                                           const struct gh_dps_enrollment *src);

/* Parse an individual enrollment (kind GH_DPS_INDIVIDUAL) or an enrollment
 * group (GH_DPS_GROUP) request body into *out. Server-assigned members
 * (timestamps, registrationState) and unknown members are ignored; "etag"
 * is kept (quotes stripped) for If-Match. Rules:
 *  - registrationId / enrollmentGroupId required, gh_iothub_valid_registration_id;
 *  - deviceId (individual) optional, gh_iothub_valid_device_id;
 *  - attestation.type "symmetricKey" or "x509" ("tpm": unsupported);
 *    keys "", null or absent = generate, else base64 of 16..64 bytes;
 *    x509 individual: clientCertificates.primary required; group:
 *    signingCertificates.primary required (caReferences: unsupported);
 *    each certificate PEM or base64 DER, one certificate, at most
 *    GH_DPS_CERT_TEXT_MAX bytes; groups' signing certificates must be CAs;
 *  - iotHubHostName and iotHubs entries: host names (letters, digits, '-',
 *    '.', at most GH_DPS_HOST_MAX), at most GH_DPS_HUBS_MAX hubs;
 *  - allocationPolicy "hashed" / "static" (any case); "geoLatency",
 *    "custom": unsupported;
 *  - initialTwin: tags and properties.desired objects within the twin
 *    limits of hub/twin.h;
 *  - provisioningStatus "enabled" (default) / "disabled";
 *  - reprovisionPolicy booleans, both default true.
 * On error err (NUL-terminated when errlen > 0) says why and *out is
 * untouched; on success *out is fully overwritten (owned by the caller).
 * Errors: GH_ERR_BAD_JSON (not an object, or a member of the wrong JSON
 * type), GH_ERR_ARG (a rule above), GH_ERR_UNSUPPORTED, GH_ERR_TOO_LARGE,
 * GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_dps_enrollment_from_json(const json_t *j, enum gh_dps_kind kind,
                                                struct gh_dps_enrollment *out, char *err,
                                                size_t errlen);

/* The service API JSON of an enrollment (4.6), keys included, etag quoted,
 * timestamps ISO 8601. *out is a new reference (json_decref).
 * Errors: GH_ERR_NOMEM, GH_ERR_MALFORMED (a stored certificate no longer
 * parses), GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_dps_enrollment_to_json(const struct gh_dps_enrollment *e, json_t **out);

/* The attestation mechanism document of
 * POST .../attestationmechanism (4.8): {"type":..., "symmetricKey"|"x509":...}.
 * Errors: as gh_dps_enrollment_to_json. */
GH_NODISCARD gh_err gh_dps_attestation_to_json(const struct gh_dps_enrollment *e, json_t **out);

/* Lower-case copy of a registration / group id (the store key, 4.1) into
 * out (GH_DPS_ID_MAX + 1 bytes). Errors: GH_ERR_ARG (not a valid id). */
GH_NODISCARD gh_err gh_dps_id_key(const char *id, char out[GH_DPS_ID_MAX + 1]);

/* Is s a host name we accept for a hub (see gh_dps_enrollment_from_json)? */
bool gh_dps_host_valid(const char *s);

#endif
