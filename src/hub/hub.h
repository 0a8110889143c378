/* gatehouse hub: the daemon's core object and the interface between its
 * parts (device MQTT endpoint, REST API, store).
 *
 * One event loop thread runs everything: listeners, device sessions, the
 * REST API and the group commit of telemetry. SQLite writes happen on that
 * thread; a telemetry commit is one transaction (one fsync) for every message
 * read in the current loop iteration, and PUBACKs go out only after it.
 *
 * Process model (docs/hub.md): the hub object is created by gh_hub_new from
 * a loaded config, run by gh_hub_run until SIGTERM/SIGINT, then freed.
 */
#ifndef GH_HUB_HUB_H
#define GH_HUB_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509_vfy.h>

#include "common/error.h"
#include "hub/config.h"
#include "hub/identity.h"
#include "hub/telemetry.h"

struct event_base;
struct gh_store;
struct gh_hub;
struct gh_hub_session;

/* Telemetry messages collected before a commit is forced. */
#define GH_HUB_BATCH_MAX 1024
/* How often the hub runs its housekeeping (retention, activity flush). */
#define GH_HUB_TICK_MS 1000
/* Telemetry retention runs every this many ticks. */
#define GH_HUB_RETAIN_TICKS 60

/* Create the hub: open the store, make sure the default policies exist,
 * load or issue the server certificate, bind the listeners. errbuf gets a
 * one-line explanation of a failure (what is missing and what to do).
 * Errors: GH_ERR_CONFIG_* (missing certificate material), GH_ERR_IO /
 * GH_ERR_PERM / GH_ERR_DB (data dir, database), GH_ERR_TLS..., GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_hub_new(const struct gh_hub_config *cfg, struct gh_hub **out, char *errbuf,
                               size_t errlen);

/* Run the event loop until SIGTERM or SIGINT, then shut down gracefully:
 * stop accepting, commit pending telemetry, close sessions.
 * Errors: GH_ERR_INTERNAL (event loop failure). */
GH_NODISCARD gh_err gh_hub_run(struct gh_hub *hub);

/* Ask the loop to stop (from the loop thread). */
void gh_hub_stop(struct gh_hub *hub);

void gh_hub_free(struct gh_hub *hub);

/* ---- accessors used by the parts -------------------------------------- */

const struct gh_hub_config *gh_hub_config(const struct gh_hub *hub);
struct event_base *gh_hub_base(struct gh_hub *hub);
struct gh_store *gh_hub_store(struct gh_hub *hub);
int64_t gh_hub_now_ms(void);

/* Write <data_dir>/<file> (mode 0600, replaced atomically) holding the
 * connection string HostName={host};SharedAccessKeyName={policy};
 * SharedAccessKey={primary key}; *path receives the file's path. Used for
 * the service connection strings the CLI reads.
 * Errors: GH_ERR_NOT_FOUND (no such policy), GH_ERR_TOO_LARGE, GH_ERR_IO,
 * and the store's errors. */
GH_NODISCARD gh_err gh_hub_write_connection_string(struct gh_hub *hub, const char *host,
                                                   const char *policy, const char *file, char *path,
                                                   size_t cap);

/* The embedded provisioning service (dps.enabled): its store, and the hub
 * itself as the assignment target of registrations. NULL when disabled. */
struct gh_dps_store;
struct gh_dps_hub;
struct gh_dps_attest;
struct gh_dps_operation;
struct gh_dps_registration;
struct gh_dps_store *gh_hub_dps_store(struct gh_hub *hub);
const struct gh_dps_hub *gh_hub_dps_target(struct gh_hub *hub);

/* Start a registration of reg for the decided attestation a (outcome OK or
 * DISABLED; borrowed): create the operation (*op, caller:
 * gh_dps_operation_cleanup), then
 *  - without linked hubs: assign into the embedded hub now and finish the
 *    operation; *queued = false and *state holds the registration state;
 *  - with linked hubs: queue the assignment for the worker thread (a is
 *    copied); *queued = true, *state is untouched, the operation stays
 *    assigning until the worker finishes it.
 * From the loop thread. Errors: GH_ERR_QUEUE_FULL (the worker's queue is
 * full or it is stopping: answer 429; the operation is finished failed),
 * GH_ERR_ARG (no provisioning service), the DPS store's errors,
 * GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_hub_dps_register(struct gh_hub *hub, const char *reg,
                                        const struct gh_dps_attest *a, struct gh_dps_operation *op,
                                        struct gh_dps_registration *state, bool *queued);

/* The X509 store of verified CA certificates registered with the hub, for
 * certificateAuthority devices (rebuilt when the CA table changes: call
 * gh_hub_ca_changed). Borrowed; valid until the next gh_hub_ca_changed.
 * NULL when no CA is verified. */
X509_STORE *gh_hub_ca_store(struct gh_hub *hub);
void gh_hub_ca_changed(struct gh_hub *hub);

/* ---- sessions (session.c) --------------------------------------------- */

/* The live session of an identity, or NULL. */
struct gh_hub_session *gh_hub_session_find(struct gh_hub *hub, const char *device_id,
                                           const char *module_id);
/* Close the live session of an identity (e.g. it was disabled or deleted). */
void gh_hub_session_kick(struct gh_hub *hub, const char *device_id, const char *module_id,
                         const char *reason);
/* A device's parent scope changed (registry update): a child attached
 * through a gateway that is no longer its parent is detached. */
void gh_hub_session_parent_changed(struct gh_hub *hub, const char *device_id,
                                   const char *parent_scope);
/* A desired-property change for an identity: notify its session if it
 * subscribed (1.10.3). patch is borrowed and must carry "$version". */
void gh_hub_session_desired(struct gh_hub *hub, const char *device_id, const char *module_id,
                            const json_t *patch);
/* A cloud-to-device message was queued for device_id: deliver if possible. */
void gh_hub_session_c2d_kick(struct gh_hub *hub, const char *device_id);

/* Direct methods (methods.c): invoke `method` on an identity. The callback
 * runs exactly once, from the loop: status 200 with the device's status and
 * payload (JSON text, may be NULL for an empty body), or an HTTP error status
 * (404 not online, 504 timeout) with device_status 0. */
typedef void (*gh_hub_method_cb)(void *user, int http_status, int device_status,
                                 const char *payload, size_t payload_len);
struct gh_hub_method_call;
GH_NODISCARD gh_err gh_hub_method_invoke(struct gh_hub *hub, const char *device_id,
                                         const char *module_id, const char *method,
                                         const char *payload_json, unsigned connect_timeout_s,
                                         unsigned response_timeout_s, gh_hub_method_cb cb,
                                         void *user, struct gh_hub_method_call **out);
/* Cancel a pending call (the REST client went away): the callback will not
 * run. */
void gh_hub_method_cancel(struct gh_hub *hub, struct gh_hub_method_call *call);

/* The pending-call table (methods.c). */
struct gh_hub_methods;
GH_NODISCARD gh_err gh_hub_methods_new(struct gh_hub *hub, struct gh_hub_methods **out);
/* Fails every pending call with 503 and frees the table. NULL is a no-op. */
void gh_hub_methods_free(struct gh_hub_methods *m);
struct gh_hub_methods *gh_hub_methods_of(struct gh_hub *hub);

/* Bound MQTT port (after binding port 0 in tests). */
uint16_t gh_hub_mqtt_port(const struct gh_hub *hub);

/* Internal, session.c <-> methods.c. */
bool gh_hub_session_methods_subscribed(const struct gh_hub_session *s);
GH_NODISCARD gh_err gh_hub_session_send_method(struct gh_hub_session *s, const char *method,
                                               const char *rid, const char *payload,
                                               size_t payload_len);
void gh_hub_methods_response(struct gh_hub *hub, const char *device_id, const char *module_id,
                             const char *rid, size_t rid_len, int status, const uint8_t *body,
                             size_t body_len);
void gh_hub_methods_session_ready(struct gh_hub *hub, const char *device_id, const char *module_id);

/* Telemetry group commit (hub.c). Add one accepted message to the batch;
 * props is taken over (cleaned up, also on error), body copied. The PUBACK (qos 1) is sent by
 * gh_hub_session_ack once the batch is durable.
 * Errors: GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_hub_batch_add(struct gh_hub *hub, struct gh_hub_session *s, uint16_t pid,
                                     uint8_t qos, const char *device_id, const char *module_id,
                                     int64_t enqueued_ms, struct gh_hub_props *props,
                                     const uint8_t *body, size_t body_len);
/* Link telemetry: remember the last added entry's (device, message id)
 * key once it is stored (gh_hub_dedupe_key), and the hub's set of them. */
struct gh_hub_dedupe;
void gh_hub_batch_set_dedupe(struct gh_hub *hub, uint64_t key);
struct gh_hub_dedupe *gh_hub_dedupe_of(struct gh_hub *hub);
/* A session goes away: its batch entries stay (the data is stored) but get
 * no PUBACK. */
void gh_hub_batch_forget(struct gh_hub *hub, struct gh_hub_session *s);

#endif
