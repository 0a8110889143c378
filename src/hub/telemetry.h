/* Telemetry record building (PROTOCOL.md 1.8): from a device PUBLISH to the
 * properties object the built-in endpoint stores and service readers get:
 *
 *   {"system": {"message-id": "...", "content-type": "...",
 *               "iothub-connection-device-id": "...", "iothub-enqueuedtime": "...", ...},
 *    "app":    {"temperatureAlert": "true", "flag": null, ...}}
 *
 * System property names are those Azure's built-in endpoint (Event Hubs)
 * shows service applications; the mapping from the wire keys is the table
 * in telemetry.c. Device-supplied application properties never override
 * stamped system properties (they live in "app"). A key that repeats in the
 * bag keeps its last value (1.8.1 step 4).
 */
#ifndef GH_HUB_TELEMETRY_H
#define GH_HUB_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/error.h"

/* Who sent it: the authenticated connection. */
struct gh_hub_sender {
    const char *device_id;
    const char *module_id; /* "" or NULL for devices */
    const char *generation_id;
    const char *auth_type; /* "sas", "x509Certificate", ... (auth-method "type") */
    const char *model_id;  /* "" or NULL when CONNECT had none */
};

/* The properties of one message as JSON text (the object above). */
struct gh_hub_props {
    char *json;       /* NUL-terminated, malloc'd */
    size_t len;       /* bytes before the NUL */
    char *message_id; /* the message-id system property (malloc'd), or NULL */
};

/* Build the properties of one message, as JSON text written directly (no
 * object tree: this runs once per message).
 *   bag           raw property bag of the topic (gh_iothub_topic.bag)
 *   body_len      payload size (counts against max_size)
 *   retain        PUBLISH RETAIN flag: adds app property mqtt-retain=true
 *   will          the message is a Will: adds app property iothub-MessageType=Will
 *   enqueued_ms   the receive time stamped as iothub-enqueuedtime
 *   max_size      message budget (1.5 item 9): body + system property values
 *                 + application property names and values
 *   want_message_id  also copy the message-id system property out
 * On success *out owns its strings (gh_hub_props_cleanup).
 * Errors: GH_ERR_TOO_LARGE (over max_size, or a key of 1024 bytes or
 * more), GH_ERR_BAD_UTF8 (a decoded key or value is not UTF-8 or holds
 * U+0000), GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_hub_telemetry_props(const struct gh_hub_sender *from, struct gh_slice bag,
                                           size_t body_len, bool retain, bool will,
                                           int64_t enqueued_ms, size_t max_size,
                                           bool want_message_id, struct gh_hub_props *out);
void gh_hub_props_cleanup(struct gh_hub_props *p);

struct gh_telemetry_msg;

/* The JSON form of a stored message that service readers get (REST
 * GET /gatehouse/telemetry and the live MQTT stream, docs/hub-rest.md):
 *   {"seq":17,"deviceId":"th-01","moduleId":null,"enqueuedTime":"...Z",
 *    "properties":{"system":{...},"app":{...}},
 *    "body":"...","bodyEncoding":"utf-8"|"base64"}
 * bodyEncoding is utf-8 when the body is valid UTF-8, else base64.
 * *out is a new reference. Errors: GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_hub_telemetry_envelope(const struct gh_telemetry_msg *m, json_t **out);

/* The same envelope as compact JSON text, written directly (the live
 * stream's hot path: no object tree). Properties: m->properties_text as
 * stored (a message read with raw_properties), or {} when NULL. *out is
 * NUL-terminated, *len its length; the caller frees it. Errors:
 * GH_ERR_NOMEM (GH_ERR_INTERNAL would mean the size bound is wrong). */
GH_NODISCARD gh_err gh_hub_telemetry_envelope_text(const struct gh_telemetry_msg *m, char **out,
                                                   size_t *len);

#endif
