/* Internals of libgatehouse-device, shared by its files:
 *   device.c       version, error strings
 *   client.c       options, identity, lifecycle, the hub connection
 *   client_out.c   telemetry buffer, twin requests, method responses
 *   client_in.c    dispatch of what the hub publishes (C2D, twin, methods)
 *   dps.c          DPS registration over MQTT (PROTOCOL.md 4.2)
 *   dps_doc.c      the DPS response document decoder (untrusted bytes)
 * Everything runs on the client's loop thread.
 */
#ifndef GH_DEVICE_DEVICE_INT_H
#define GH_DEVICE_DEVICE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"
#include "gatehouse/device.h"
#include "iothub/crypto.h"
#include "mqtt/mqtt.h"

struct event;
struct evdns_base;
struct gh_mqttc;
struct gh_tls_client;

/* api-version of the user names (what the Node SDKs send, 1.13 / 4.2.1). */
#define GH_DEVICE_HUB_API_VERSION "2021-04-12"
#define GH_DEVICE_DPS_API_VERSION "2019-03-31"
/* User agent, percent-encoded, for DeviceClientType / ClientVersion. */
#define GH_DEVICE_CLIENT_TYPE "gatehouse-device%2F" GH_VERSION
/* Request ids: decimal counters, at most this many characters + NUL. */
#define GH_DEVICE_RID_MAX 24
/* Topics we build (telemetry with GH_DEVICE_PROPS_MAX encoded properties
 * fits; longer ones are refused with GH_ERR_TOO_LARGE). */
#define GH_DEVICE_TOPIC_MAX 8192
/* Longest user name we build. */
#define GH_DEVICE_USERNAME_MAX 1024
/* Longest model id accepted. */
#define GH_DEVICE_MODEL_ID_MAX 256
/* Longest DPS operation id kept. */
#define GH_DEVICE_OP_ID_MAX 128
/* Nesting accepted by the DPS document decoder. */
#define GH_DEVICE_JSON_DEPTH_MAX 16
/* Filters of a hub connection (C2D, methods, twin responses, desired). */
#define GH_DEVICE_HUB_FILTERS 4
/* Cookies of the subscribe requests. */
#define GH_DEVICE_SUB_COOKIE 1u
/* Non-blocking loop passes run on the own loop at free time, so that
 * aborted connections finish closing (their close is deferred). */
#define GH_DEVICE_CLOSE_SPINS 4u
/* Longest path accepted for certificate, key and CA files. */
#define GH_DEVICE_PATH_MAX 4096

enum dev_phase {
    DEV_PHASE_DPS = 1, /* registering */
    DEV_PHASE_HUB,     /* connected or connecting to the hub */
    DEV_PHASE_FAILED,  /* DPS failed: nothing more happens */
};

/* One buffered telemetry message (owned by the client). */
struct dev_msg {
    struct dev_msg *next;
    char *bag; /* encoded property bag of the topic */
    uint8_t *body;
    size_t len;
    size_t cost; /* bytes charged against buffer_bytes */
    uint64_t cookie;
    bool inflight;
    gh_device_send_cb done;
    void *ctx;
};

enum dev_req_kind { DEV_REQ_TWIN_GET = 1, DEV_REQ_TWIN_REPORT };

/* One open twin request (owned by the client). */
struct dev_req {
    struct dev_req *next;
    enum dev_req_kind kind;
    char rid[GH_DEVICE_RID_MAX];
    char *body; /* report: the patch; get: NULL */
    size_t len;
    bool sent; /* on the current connection */
    gh_device_twin_cb cb;
    void *ctx;
};

/* The DPS document fields the client reads (raw JSON string contents,
 * borrowing the document; ptr NULL when absent). */
struct gh_device_dps_doc {
    struct gh_slice operation_id;  /* operationId */
    struct gh_slice status;        /* status */
    struct gh_slice assigned_hub;  /* registrationState.assignedHub */
    struct gh_slice device_id;     /* registrationState.deviceId */
    struct gh_slice error_message; /* registrationState.errorMessage or message */
};

struct gh_device_client {
    struct event_base *base;
    bool own_base;
    struct evdns_base *dns;
    struct gh_tls_client *tls;
    struct gh_device_callbacks cbs;
    void *user;
    enum dev_phase phase;

    /* hub identity */
    char hub[GH_DEVICE_HOST_MAX + 1];       /* HostName: token audience, user name */
    char dial_host[GH_DEVICE_HOST_MAX + 1]; /* GatewayHostName or HostName */
    char device_id[GH_DEVICE_ID_MAX + 1];
    char key_b64[GH_SYMKEY_B64_MAX + 1]; /* secret; "" for X.509 */
    bool x509;
    char connect_address[64];
    uint16_t port;
    char model_id[GH_DEVICE_MODEL_ID_MAX + 1];

    /* settings */
    unsigned sas_ttl_s;
    uint16_t keepalive_s;
    unsigned buffer_msgs;
    size_t buffer_bytes;
    unsigned window;
    unsigned backoff_min_ms;
    unsigned backoff_max_ms;

    /* hub connection */
    struct gh_mqttc *mq;
    bool subscribed;
    char *topic; /* GH_DEVICE_TOPIC_MAX + 1: scratch for telemetry topics */
    struct dev_msg *out_head, *out_tail;
    size_t out_count;
    size_t out_bytes;
    uint64_t next_cookie;
    struct dev_req *reqs;
    size_t nreqs;
    uint64_t next_rid;

    /* DPS */
    enum gh_device_auth auth;
    char dps_host[GH_DEVICE_HOST_MAX + 1];
    uint16_t dps_port;
    char id_scope[GH_DEVICE_ID_MAX + 1];
    char reg_id[GH_DEVICE_ID_MAX + 1];
    unsigned dps_timeout_s;
    struct gh_mqttc *dps;
    struct event *dps_poll;     /* retry-after wait */
    struct event *dps_deadline; /* whole registration */
    bool dps_registered;        /* register request accepted: polling */
    char dps_rid[GH_DEVICE_RID_MAX];
    char op_id[GH_DEVICE_OP_ID_MAX + 1];
};

/* client.c */
void gh_device_report(struct gh_device_client *c, enum gh_device_status st, gh_err reason,
                      const char *detail);
/* Create and start the hub connection (after DPS, or at once). */
GH_NODISCARD gh_err gh_device_hub_start(struct gh_device_client *c);
/* Next request id as a decimal string into rid. */
void gh_device_next_rid(struct gh_device_client *c, char rid[GH_DEVICE_RID_MAX]);

/* client_out.c */
/* Send everything that waits and fits (telemetry, then twin requests). */
void gh_device_flush(struct gh_device_client *c);
void gh_device_out_acked(struct gh_device_client *c, uint64_t cookie);
void gh_device_out_unacked(struct gh_device_client *c, uint64_t cookie);
/* The connection dropped: every request goes out again on the next one. */
void gh_device_reqs_unsent(struct gh_device_client *c);
/* Complete every buffered message and open request with err, free them. */
void gh_device_out_fail_all(struct gh_device_client *c, gh_err err);
/* The request with this rid, unlinked (caller frees it with
 * gh_device_req_free), or NULL. */
struct dev_req *gh_device_req_take(struct gh_device_client *c, struct gh_slice rid);
void gh_device_req_free(struct dev_req *r);

/* client_in.c */
void gh_device_on_publish(void *user, const struct gh_mqtt_publish *p);

/* dps.c */
GH_NODISCARD gh_err gh_device_dps_start(struct gh_device_client *c);
void gh_device_dps_free(struct gh_device_client *c);

/* dps_doc.c: decode a DPS response document (a JSON object; strict JSON
 * syntax, nesting at most GH_DEVICE_JSON_DEPTH_MAX). No allocation, I/O or
 * logging; thread-safe. *out is written only on success; its slices borrow
 * doc and are the raw string contents (escapes not decoded).
 * Errors: GH_ERR_BAD_JSON (not one JSON object, trailing bytes, nesting too
 * deep, a control character in a string, a bad escape or literal). */
GH_NODISCARD gh_err gh_device_dps_doc_parse(struct gh_slice doc, struct gh_device_dps_doc *out);

#endif
