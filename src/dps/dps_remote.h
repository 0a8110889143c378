/* A linked hub as an assignment target (struct gh_dps_hub, dps_assign.h):
 * a separate `gatehouse hub` reached over its service REST API
 * (docs/hub-rest.md) with a policy's SAS token.
 *
 *   identity_get     GET /devices/{id}
 *   identity_create  PUT /devices/{id}                (no If-Match)
 *   identity_update  GET, then PUT /devices/{id} with If-Match "*" and the
 *                    current device with the fields flagged in present
 *                    replaced (authentication, capabilities)
 *   identity_delete  DELETE /devices/{id}
 *   twin_apply       PATCH /twins/{id} (merge) or PUT /twins/{id} (replace)
 *   twin_get         GET /twins/{id}, reduced to tags + desired
 *   ca_ensure        GET /certificates: a verified record with the
 *                    certificate's SHA-256 thumbprint is enough; otherwise
 *                    the certificate is uploaded as "dps-{SHA-1}" (if no
 *                    record has it) and the call fails with
 *                    GH_ERR_CERT_VERIFY: the provisioning service does not
 *                    hold the CA's private key, so the proof of possession
 *                    (gatehouse ca verify) is the linked hub's operator's
 *                    step, as with IoT Hub.
 * HTTP statuses map to errors with gh_dps_remote_status_err; a request
 * that gets no answer in time is GH_ERR_TIMEOUT, an unreachable hub
 * GH_ERR_IO / GH_ERR_CLOSED / GH_ERR_TLS / GH_ERR_CERT_VERIFY.
 *
 * Every operation is synchronous for its caller: it starts one request on
 * the client's event_base and runs that base (EVLOOP_ONCE) until the
 * response is complete, the request timeout passes, or *stop becomes true
 * (the request is then cancelled: GH_ERR_CLOSED). So a remote hub belongs
 * to ONE thread whose base runs nothing else meanwhile: the provisioning
 * worker (dps_worker.h), never the hub's event loop.
 *
 * The SAS token (sr = the host name, skn = the policy) lives
 * GH_DPS_REMOTE_TOKEN_TTL_S and is renewed when less than
 * GH_DPS_REMOTE_TOKEN_RENEW_S remain. Keys and tokens are wiped on free and
 * never logged. Logs each failed request (method, path, status, the hub's
 * error code excerpt).
 */
#ifndef GH_DPS_DPS_REMOTE_H
#define GH_DPS_DPS_REMOTE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "dps/dps_assign.h"

struct event_base;
struct evdns_base;

#define GH_DPS_REMOTE_TOKEN_TTL_S 3600
#define GH_DPS_REMOTE_TOKEN_RENEW_S 300
/* Largest answer read from a linked hub (a device, a twin, the CA list). */
#define GH_DPS_REMOTE_RESPONSE_MAX (1024u * 1024u)
/* How often a waiting request looks at *stop. */
#define GH_DPS_REMOTE_STOP_POLL_MS 100

struct gh_dps_remote_config {
    const char *host_name; /* HostName: SNI, certificate name, token audience */
    const char *policy;    /* SharedAccessKeyName */
    const char *key;       /* SharedAccessKey (base64) */
    const char *address;   /* IP literal to dial; NULL or "": resolve host_name */
    uint16_t port;
    const char *ca_file;     /* trust bundle; NULL or "": OpenSSL's default paths */
    unsigned timeout_ms;     /* per request */
    const atomic_bool *stop; /* may be NULL */
};

struct gh_dps_remote;

/* Make a remote hub on base (which must outlive it). dns is needed when no
 * address is given (borrowed). The strings of cfg are copied. Nothing is
 * connected yet. detail gets a reason on error.
 * Errors: GH_ERR_ARG (missing host, policy, key or port; dns missing),
 * GH_ERR_TLS / GH_ERR_NOENT / GH_ERR_IO (trust bundle), GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_dps_remote_new(struct event_base *base, struct evdns_base *dns,
                                      const struct gh_dps_remote_config *cfg,
                                      struct gh_dps_remote **out, char *detail, size_t detail_len);

/* Free (NULL is a no-op); run the base afterwards so a kept connection can
 * finish closing. */
void gh_dps_remote_free(struct gh_dps_remote *r);

/* Fill *hub for r (borrowed: r must outlive *hub). */
void gh_dps_hub_remote(struct gh_dps_hub *hub, struct gh_dps_remote *r);

/* The error for a non-2xx status of the hub's API: 400 GH_ERR_ARG, 401
 * GH_ERR_AUTH, 403 GH_ERR_FORBIDDEN, 404 GH_ERR_NOT_FOUND, 409
 * GH_ERR_CONFLICT, 412 GH_ERR_ETAG_MISMATCH, 413 GH_ERR_TOO_LARGE, 429
 * GH_ERR_QUEUE_FULL, 503 GH_ERR_CLOSED, other 5xx GH_ERR_INTERNAL,
 * anything else GH_ERR_BAD_PROTOCOL; GH_OK for 2xx. Pure. */
gh_err gh_dps_remote_status_err(unsigned status);

#endif
