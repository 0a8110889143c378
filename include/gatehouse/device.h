/* libgatehouse-device: the C client for devices talking to gatehouse hub,
 * gatehouse edge or Azure IoT Hub over MQTT/TLS in the IoT Hub dialect
 * (docs/device.md has a walk-through).
 *
 * One gh_device_client keeps one device connected: it authenticates with a
 * connection string (SAS key, renewed before expiry, or x509=true), an X.509
 * certificate and key, or registers through DPS first (symmetric key,
 * derived group key or X.509) and then connects to the hub DPS assigned. It
 * reconnects on its own with capped exponential backoff and jitter, keeps
 * unacknowledged telemetry in a bounded in-memory buffer and resends it after
 * a reconnect, and re-subscribes and re-sends open twin requests on every
 * new connection.
 *
 * Event loop: the client runs on a libevent event_base. Pass yours in
 * gh_device_options.event_base (the client then never runs the loop itself),
 * or pass NULL and drive the client's own loop with
 * gh_device_client_run_once from a plain poll loop.
 *
 * Errors: fallible functions return 0 on success or a positive gatehouse
 * error number (stable forever); the GH_DEVICE_E* names below are the ones
 * this API returns. gh_device_strerror gives the message.
 *
 * Thread-safety: a client belongs to the thread that runs its event loop;
 * every gh_device_* call on it must come from that thread. Callbacks run
 * from the event loop, never from inside a gh_device_* call, and may call
 * any gh_device_* function on their client, except gh_device_client_free
 * (documented there). Distinct clients are independent.
 *
 * Strings handed to callbacks are borrowed for the duration of the call.
 * Secrets (keys, SAS tokens) are copied, wiped when released, never logged.
 */
#ifndef GATEHOUSE_DEVICE_H
#define GATEHOUSE_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GH_DEVICE_API __attribute__((visibility("default")))

/* Error numbers returned by this API (values of gatehouse's error table). */
#define GH_DEVICE_OK 0
#define GH_DEVICE_EARG 101         /* invalid argument or option */
#define GH_DEVICE_EIO 300          /* I/O error (event loop) */
#define GH_DEVICE_ENOENT 301       /* a file (certificate, key, CA) not found */
#define GH_DEVICE_ETLS 305         /* TLS setup failed (bad certificate/key/CA) */
#define GH_DEVICE_ECRYPTO 306      /* cryptographic library failure */
#define GH_DEVICE_ECLOSED 400      /* not connected / client stopped */
#define GH_DEVICE_ETIMEOUT 401     /* no answer in time */
#define GH_DEVICE_EMALFORMED 501   /* the server sent something unparsable */
#define GH_DEVICE_EBAD_BASE64 512  /* a key is not base64 */
#define GH_DEVICE_EBAD_CONNSTR 514 /* connection string unusable */
#define GH_DEVICE_EBAD_JSON 516    /* malformed JSON from the server */
#define GH_DEVICE_ETOO_LARGE 600   /* a size limit was exceeded */
#define GH_DEVICE_ENOBUFS 601      /* output back-pressure */
#define GH_DEVICE_ENOMEM 602       /* out of memory */
#define GH_DEVICE_ETOO_MANY 603    /* too many open requests */
#define GH_DEVICE_EQUEUE_FULL 604  /* the unacknowledged-message buffer is full */
#define GH_DEVICE_EAUTH 700        /* the server refused the credentials */
#define GH_DEVICE_EEXPIRED 701     /* credential expired (renewal reconnect) */
#define GH_DEVICE_EFORBIDDEN 702   /* DPS: registration failed or disabled */

/* Defaults and limits (0 in an option = the default). */
#define GH_DEVICE_PORT_DEFAULT 8883
#define GH_DEVICE_SAS_TTL_S_DEFAULT 3600u /* SAS token lifetime; renewed at 80% */
#define GH_DEVICE_SAS_TTL_S_MIN 2u
#define GH_DEVICE_KEEPALIVE_S_DEFAULT 180u  /* as the Node SDK */
#define GH_DEVICE_BUFFER_MSGS_DEFAULT 1024u /* unacked telemetry messages kept */
#define GH_DEVICE_BUFFER_BYTES_DEFAULT (4u * 1024u * 1024u)
#define GH_DEVICE_WINDOW_DEFAULT 16u /* QoS 1 publishes in flight */
#define GH_DEVICE_BACKOFF_MIN_MS_DEFAULT 1000u
#define GH_DEVICE_BACKOFF_MAX_MS_DEFAULT 60000u
#define GH_DEVICE_REQUESTS_MAX 64u           /* open twin requests */
#define GH_DEVICE_PROPS_MAX 32u              /* properties of one message */
#define GH_DEVICE_ID_MAX 128u                /* device / registration id bytes */
#define GH_DEVICE_HOST_MAX 255u              /* host name bytes */
#define GH_DEVICE_DPS_POLL_S_DEFAULT 2u      /* DPS polling interval without retry-after */
#define GH_DEVICE_DPS_POLL_S_MAX 60u         /* cap of a server's retry-after */
#define GH_DEVICE_DPS_TIMEOUT_S_DEFAULT 120u /* whole DPS registration */

struct event_base;
struct gh_device_client;

/* How the client authenticates (exactly one). */
enum gh_device_auth {
    /* connection_string: HostName, DeviceId, then SharedAccessKey or
     * x509=true (cert_file/key_file required); GatewayHostName, when present,
     * is the host dialled (the token audience stays HostName). */
    GH_DEVICE_AUTH_CONNECTION_STRING = 1,
    /* host + device_id + cert_file + key_file. */
    GH_DEVICE_AUTH_X509,
    /* DPS individual enrollment with a symmetric key: dps_host, id_scope,
     * registration_id, symmetric_key. */
    GH_DEVICE_AUTH_DPS_SYMMETRIC_KEY,
    /* DPS group enrollment: the device key is derived from group_key and
     * registration_id (HMAC-SHA256, PROTOCOL.md 2.7). */
    GH_DEVICE_AUTH_DPS_GROUP_KEY,
    /* DPS with an X.509 certificate (individual or CA group): cert_file,
     * key_file; registration_id is the certificate's common name. */
    GH_DEVICE_AUTH_DPS_X509,
};

/* Everything is copied by gh_device_client_new except event_base. */
struct gh_device_options {
    struct event_base *event_base; /* borrowed, must outlive the client; NULL: own loop */
    enum gh_device_auth auth;
    const char *connection_string; /* GH_DEVICE_AUTH_CONNECTION_STRING */
    const char *host;              /* GH_DEVICE_AUTH_X509: hub (or gateway) host name */
    const char *device_id;         /* GH_DEVICE_AUTH_X509 */
    const char *cert_file;         /* PEM client certificate (chain) for X.509 */
    const char *key_file;          /* PEM private key for X.509 */
    const char *dps_host;          /* DPS global endpoint host name */
    uint16_t dps_port;             /* 0: GH_DEVICE_PORT_DEFAULT */
    const char *id_scope;          /* DPS id scope */
    const char *registration_id;   /* DPS registration id */
    const char *symmetric_key;     /* base64; GH_DEVICE_AUTH_DPS_SYMMETRIC_KEY */
    const char *group_key;         /* base64; GH_DEVICE_AUTH_DPS_GROUP_KEY */
    const char *ca_file;           /* trust bundle (PEM); NULL: system default */
    /* Dial this IPv4/IPv6 address literal instead of resolving host names
     * (TLS still checks the host name). NULL: resolve with the system
     * resolver. Applies to DPS and hub. */
    const char *connect_address;
    uint16_t port;           /* hub port; 0: GH_DEVICE_PORT_DEFAULT */
    unsigned sas_ttl_s;      /* 0: default; at least GH_DEVICE_SAS_TTL_S_MIN */
    uint16_t keepalive_s;    /* 0: default */
    unsigned buffer_msgs;    /* 0: default */
    size_t buffer_bytes;     /* 0: default */
    unsigned window;         /* 0: default; at most 4096 */
    unsigned backoff_min_ms; /* 0: default */
    unsigned backoff_max_ms; /* 0: default */
    unsigned dps_timeout_s;  /* 0: default */
    const char *model_id;    /* IoT Plug and Play model id; NULL: none */
};

/* Connection status reported through on_connection. */
enum gh_device_status {
    GH_DEVICE_CONNECTED = 1,    /* connected and subscribed; sends flow */
    GH_DEVICE_DISCONNECTED,     /* lost or failed; a reconnect follows (reason, detail) */
    GH_DEVICE_PROVISIONED,      /* DPS assigned hub and device id (detail: "hub/device") */
    GH_DEVICE_PROVISION_FAILED, /* DPS refused or timed out: the client stops (reason) */
};

/* A key/value property. Both NUL-terminated; value NULL = key without value. */
struct gh_device_property {
    const char *key;
    const char *value;
};

/* System and application properties of an outgoing message; any field may
 * be NULL / 0. Strings must not contain NUL (they are percent-encoded). */
struct gh_device_message_props {
    const char *message_id;
    const char *correlation_id;
    const char *content_type;     /* e.g. "application/json" */
    const char *content_encoding; /* e.g. "utf-8" */
    const struct gh_device_property *app;
    size_t napp; /* at most GH_DEVICE_PROPS_MAX */
};

/* A cloud-to-device message. Everything is borrowed for the callback;
 * absent system properties are NULL. Values are percent-decoded. */
struct gh_device_c2d {
    const void *body;
    size_t len;
    const char *message_id;
    const char *correlation_id;
    const char *content_type;
    const char *content_encoding;
    const char *user_id;
    const char *to;
    const struct gh_device_property *app; /* application properties, in wire order */
    size_t napp;
};

/* All callbacks optional; user is the pointer given to gh_device_client_new. */
struct gh_device_callbacks {
    /* Status change. reason: 0 or the error number that caused it
     * (GH_DEVICE_EAUTH: refused credentials, GH_DEVICE_EEXPIRED: token
     * renewal, GH_DEVICE_ECLOSED / GH_DEVICE_EIO / GH_DEVICE_ETIMEOUT: the
     * connection dropped, ...). detail: one human-readable line, never NULL. */
    void (*on_connection)(void *user, enum gh_device_status status, int reason, const char *detail);
    /* A cloud-to-device message; acknowledged when the callback returns. */
    void (*on_c2d)(void *user, const struct gh_device_c2d *msg);
    /* A desired-property patch (JSON text, not NUL-terminated, len bytes)
     * with its $version. */
    void (*on_desired)(void *user, const char *json, size_t len, uint64_t version);
    /* A direct method call. request_id is NUL-terminated; answer it (now or
     * later, on this connection) with gh_device_method_respond. payload is
     * JSON text (len bytes, not NUL-terminated). */
    void (*on_method)(void *user, const char *name, const char *payload, size_t len,
                      const char *request_id);
};

/* Completion of gh_device_send: result 0 = acknowledged by the server;
 * otherwise GH_DEVICE_ECLOSED (client freed or stopped: not sent) or
 * GH_DEVICE_ETOO_LARGE (the server's limits). ctx as given. */
typedef void (*gh_device_send_cb)(void *ctx, int result);

/* Completion of a twin request: status is the server's status (200 GET,
 * 204 reported patch, >= 400 error), body the JSON text (GET: the twin's
 * {"desired":...,"reported":...}; errors: the error document; may be
 * empty), version the new reported $version of a 204 (0 when absent).
 * result 0 when the server answered, GH_DEVICE_ECLOSED when the client is
 * freed first (status 0, empty body). */
typedef void (*gh_device_twin_cb)(void *ctx, int result, int status, const char *body, size_t len,
                                  uint64_t version);

/* Log levels of gh_device_set_log. */
#define GH_DEVICE_LOG_DEBUG 0
#define GH_DEVICE_LOG_INFO 1 /* the default */
#define GH_DEVICE_LOG_WARN 2
#define GH_DEVICE_LOG_ERROR 3
#define GH_DEVICE_LOG_OFF 4

/* The library writes one key=value line per event (connects, drops,
 * refusals; never secrets) to stderr from GH_DEVICE_LOG_INFO up. Set the
 * lowest level written (out-of-range values are ignored) and the file
 * descriptor (-1: keep the current one). Process-wide: shared with any
 * other gatehouse code in the process. Call at startup, before other
 * threads use the library. */
GH_DEVICE_API void gh_device_set_log(int level, int fd);

/* Library version, e.g. "0.1.0". Static storage; never NULL. Thread-safe. */
GH_DEVICE_API const char *gh_device_version(void);

/* Message for an error number ("invalid argument"). Static; never NULL;
 * thread-safe. Unknown numbers give "unknown error". */
GH_DEVICE_API const char *gh_device_strerror(int err);

/* Create a client and start connecting (DPS registration first for the DPS
 * kinds). opts and cbs are read during the call only. On success *out owns
 * the client; free it with gh_device_client_free.
 * Errors: GH_DEVICE_EARG (NULL pointers, a missing or superfluous field for
 *         opts->auth, an option out of range, an id or host too long),
 *         GH_DEVICE_EBAD_CONNSTR (connection string unusable: parse or
 *         check failure, or SharedAccessSignature, which cannot be renewed),
 *         GH_DEVICE_EBAD_BASE64 (a key is not base64), GH_DEVICE_ENOENT /
 *         GH_DEVICE_ETLS (certificate, key or CA file unusable),
 *         GH_DEVICE_EIO (own event loop or resolver could not be created),
 *         GH_DEVICE_ECRYPTO, GH_DEVICE_ENOMEM. */
GH_DEVICE_API int gh_device_client_new(const struct gh_device_options *opts,
                                       const struct gh_device_callbacks *cbs, void *user,
                                       struct gh_device_client **out);

/* Disconnect and free. Pending sends and twin requests complete with
 * GH_DEVICE_ECLOSED from inside this call (their callbacks run before it
 * returns); no other callback follows. Must not be called from a callback
 * of the same client. NULL is a no-op. */
GH_DEVICE_API void gh_device_client_free(struct gh_device_client *c);

/* Own loop only (opts.event_base NULL): run the loop until at least one
 * event was handled or timeout_ms passed (0: poll without blocking).
 * Errors: GH_DEVICE_EARG (c NULL, or the client uses the caller's loop),
 *         GH_DEVICE_EIO (the loop failed). */
GH_DEVICE_API int gh_device_client_run_once(struct gh_device_client *c, unsigned timeout_ms);

/* True while connected to the hub and subscribed. */
GH_DEVICE_API bool gh_device_client_connected(const struct gh_device_client *c);

/* The hub host and device id in use (after DPS: the assigned ones; before:
 * ""). Valid until the client is freed. NULL c gives "". */
GH_DEVICE_API const char *gh_device_client_hub(const struct gh_device_client *c);
GH_DEVICE_API const char *gh_device_client_device_id(const struct gh_device_client *c);

/* Messages accepted by gh_device_send and not acknowledged yet. */
GH_DEVICE_API size_t gh_device_client_pending(const struct gh_device_client *c);

/* Queue a telemetry message (QoS 1). body (len bytes, copied) and props
 * (copied; NULL = none) form the PUBLISH to devices/{D}/messages/events/.
 * Allowed while disconnected: the message waits in the buffer and goes out
 * after the next connect; a message whose connection drops before its
 * PUBACK is sent again (so the server may see it twice: at least once).
 * done (may be NULL) runs exactly once, from the loop or from
 * gh_device_client_free.
 * Errors: GH_DEVICE_EARG (c NULL, body NULL with len > 0, napp above
 *         GH_DEVICE_PROPS_MAX, an empty property key),
 *         GH_DEVICE_EQUEUE_FULL (buffer_msgs or buffer_bytes reached),
 *         GH_DEVICE_ETOO_LARGE (topic longer than the MQTT limit),
 *         GH_DEVICE_ECLOSED (DPS registration failed: no hub),
 *         GH_DEVICE_ENOMEM. */
GH_DEVICE_API int gh_device_send(struct gh_device_client *c, const void *body, size_t len,
                                 const struct gh_device_message_props *props,
                                 gh_device_send_cb done, void *ctx);

/* Answer a method call: publish status and payload (JSON text, len bytes,
 * may be empty) for request_id. Only on the connection the request came on.
 * Errors: GH_DEVICE_EARG (c or request_id NULL, invalid request id,
 *         payload NULL with len > 0), GH_DEVICE_ECLOSED (not connected),
 *         GH_DEVICE_ENOBUFS (output back-pressure), GH_DEVICE_ETOO_LARGE,
 *         GH_DEVICE_ENOMEM. */
GH_DEVICE_API int gh_device_method_respond(struct gh_device_client *c, const char *request_id,
                                           int status, const char *payload, size_t len);

/* Request the twin. cb runs exactly once (from the loop, or from
 * gh_device_client_free). The request waits for a connection if there is
 * none, and is sent again after a reconnect until answered.
 * Errors: GH_DEVICE_EARG (c or cb NULL), GH_DEVICE_ETOO_MANY
 *         (GH_DEVICE_REQUESTS_MAX requests open), GH_DEVICE_ECLOSED (DPS
 *         registration failed), GH_DEVICE_ENOMEM. */
GH_DEVICE_API int gh_device_twin_get(struct gh_device_client *c, gh_device_twin_cb cb, void *ctx);

/* Send a reported-properties patch (JSON object text, len bytes, copied);
 * cb (may be NULL) gets 204 and the new reported version, or the error.
 * Waits for a connection and is resent like gh_device_twin_get.
 * Errors: as gh_device_twin_get (cb may be NULL), plus GH_DEVICE_EARG for
 *         json NULL or len 0. */
GH_DEVICE_API int gh_device_twin_report(struct gh_device_client *c, const char *json, size_t len,
                                        gh_device_twin_cb cb, void *ctx);

#ifdef __cplusplus
}
#endif

#endif
