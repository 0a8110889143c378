/* Device MQTT sessions of the hub (PROTOCOL.md section 1): one per
 * connection on the MQTT listener. Internal to the hub. */
#ifndef GH_HUB_SESSION_H
#define GH_HUB_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "hub/hub.h"

struct gh_conn;
struct gh_hub_sessions;

/* The session table of a hub. */
GH_NODISCARD gh_err gh_hub_sessions_new(struct gh_hub *hub, struct gh_hub_sessions **out);
/* Close every session (shutdown) and free the table once they are gone:
 * connections are aborted, their on_close runs from the loop. */
void gh_hub_sessions_free(struct gh_hub_sessions *t);
/* Number of sessions (authenticated or not). */
size_t gh_hub_sessions_count(const struct gh_hub_sessions *t);

/* Take over an accepted connection (listener accept callback). */
void gh_hub_session_accept(struct gh_hub_sessions *t, struct gh_conn *c);

/* Housekeeping, called every GH_HUB_TICK_MS: keep-alive and token expiry,
 * C2D redelivery after the lock time. */
void gh_hub_sessions_tick(struct gh_hub_sessions *t, int64_t now_ms);

/* The telemetry batch was committed (ok) or failed: send the PUBACKs of
 * session s for packet id pid, or close it. Called by the batch code. */
void gh_hub_session_ack(struct gh_hub_session *s, uint16_t pid);
void gh_hub_session_fail(struct gh_hub_session *s, gh_err why);
/* Batch bookkeeping: entries of s in the uncommitted batch. */
void gh_hub_session_batch_ref(struct gh_hub_session *s, int delta);

/* A telemetry batch was committed: feed the live service streams. */
void gh_hub_service_committed(struct gh_hub_sessions *t);

#endif
