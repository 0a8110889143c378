/* MQTT CONNECT user names of the IoT Hub and DPS dialects (PROTOCOL.md 1.2,
 * 4.2.1), the identity they name, and the id syntax rules (5.2).
 *
 * Hub:  {host}/{D}/?{params}          device
 *       {host}/{D}/{M}/?{params}      module
 *       {host}/{D}/{params}           older C SDKs (no `?`), likewise modules
 * DPS:  {idScope}/registrations/{registrationId}/{params}      (no `?`)
 *
 * Parsers take a caller-provided scratch writer that receives the
 * percent-decoded parameter values; returned slices point into the user name
 * or into the scratch. They do no allocation, no I/O and no logging, and are
 * thread-safe on distinct objects.
 */
#ifndef GH_IOTHUB_USERNAME_H
#define GH_IOTHUB_USERNAME_H

#include <stdbool.h>

#include "common/buf.h"

/* Longest device, module or registration id (5.2 deviceId rule). */
#define GH_IOTHUB_ID_MAX 128
/* Longest DPS id scope we accept (Azure's are 11 characters). */
#define GH_IOTHUB_ID_SCOPE_MAX 64

enum gh_iothub_id_kind {
    GH_IOTHUB_ID_DEVICE = 1, /* hub connection of a device */
    GH_IOTHUB_ID_MODULE,     /* hub connection of a module */
    GH_IOTHUB_ID_DPS,        /* DPS registration connection */
};

/* Who a connection is. device_id holds the registration id for DPS;
 * module_id is empty unless kind is GH_IOTHUB_ID_MODULE. Slices are
 * borrowed: their owner says how long they live. */
struct gh_iothub_identity {
    enum gh_iothub_id_kind kind;
    struct gh_slice device_id;
    struct gh_slice module_id;
};

/* A parsed user name. Parameters that were absent have ptr == NULL; a
 * parameter given without `=` or with an empty value is present and empty
 * (ptr != NULL, len 0). Values are percent-decoded. */
struct gh_iothub_username {
    struct gh_iothub_identity id; /* raw, as written in the user name */
    struct gh_slice host;         /* hub host (informational, 1.2 rule 5) or DPS id scope */
    struct gh_slice api_version;  /* `api-version` */
    struct gh_slice client_type;  /* `DeviceClientType` (hub) or `ClientVersion` (DPS) */
    struct gh_slice model_id;     /* `model-id` (hub only) */
    struct gh_slice auth_chain;   /* `auth-chain` (hub only, 6.9) */
};

/* Parse a user name of either service and classify it: 4 segments whose
 * second is `registrations` and whose last does not start with `?` is DPS
 * (4.2.1), everything else is tried as a hub user name (1.2). Servers that
 * route by SNI should call the service-specific parser below instead.
 *
 * Output slices point into `username` or into `scratch` and live as long as
 * both memories do (and the scratch is not rewound). A scratch with as much
 * free space as the user name is long never runs out. *out is written only
 * on success; on error the scratch is restored too.
 * Errors: GH_ERR_BAD_USERNAME (wrong number of segments, invalid id or id
 * scope, a decoded value that is not UTF-8 or holds U+0000);
 * GH_ERR_NOBUFS (scratch too small). */
GH_NODISCARD gh_err gh_iothub_username_parse(struct gh_slice username, struct gh_writer *scratch,
                                             struct gh_iothub_username *out);

/* Hub user name only (1.2): split on `/`; the parameters start at the first
 * segment after the device id that starts with `?` (the `?` is dropped) and
 * run to the end of the user name, so they may contain raw `/`; without any
 * `?`, the user name must have exactly 3 (device) or 4 (module) segments and
 * the last one holds the parameters. Parameters: any order, split at the
 * first `=`, values percent-decoded, unknown names ignored, the first of a
 * repeated name wins. Device and module ids must pass gh_iothub_valid_*_id.
 * Limitation: a module id starting with `?` parses as parameters (the
 * identity check against the client id then fails).
 * Same contract and errors as gh_iothub_username_parse. */
GH_NODISCARD gh_err gh_iothub_username_parse_hub(struct gh_slice username,
                                                 struct gh_writer *scratch,
                                                 struct gh_iothub_username *out);

/* DPS user name only (4.2.1): `{idScope}/registrations/{registrationId}/`
 * then parameters (`api-version`, `ClientVersion`); a leading `?` on the
 * parameters is tolerated. The id scope must be 1..GH_IOTHUB_ID_SCOPE_MAX
 * bytes without `/`; the registration id must pass
 * gh_iothub_valid_registration_id. Same contract and errors as
 * gh_iothub_username_parse. */
GH_NODISCARD gh_err gh_iothub_username_parse_dps(struct gh_slice username,
                                                 struct gh_writer *scratch,
                                                 struct gh_iothub_username *out);

/* 1.2 rule 4: the identity of the user name must equal the MQTT client id,
 * byte-exact: `{D}` for a device, `{D}/{M}` for a module, the registration id
 * for DPS. Errors: GH_ERR_BAD_USERNAME when it does not. Thread-safe. */
GH_NODISCARD gh_err gh_iothub_username_check_client_id(const struct gh_iothub_username *u,
                                                       struct gh_slice client_id);

/* 5.2 deviceId rule: 1..GH_IOTHUB_ID_MAX bytes of ASCII letters, digits and
 * `- . + % _ # * ? ! ( ) , = @ $ '`. Case-sensitive. */
bool gh_iothub_valid_device_id(struct gh_slice id);

/* Module ids: the same rule as device ids (5.3 gives none of its own; Edge's
 * `$edgeAgent` / `$edgeHub` fit it). */
bool gh_iothub_valid_module_id(struct gh_slice id);

/* DPS registration ids: 1..GH_IOTHUB_ID_MAX bytes of ASCII letters, digits
 * and `- . _ :` (4.1; upper case accepted, lookups are case-insensitive). */
bool gh_iothub_valid_registration_id(struct gh_slice id);

#endif
