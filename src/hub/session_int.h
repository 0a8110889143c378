/* Internal to the hub's session code (session.c, session_device.c,
 * session_service.c, session_dps.c, session_link.c): the session object and
 * the helpers they share. Everything here runs on the hub's event-loop
 * thread only. */
#ifndef GH_HUB_SESSION_INT_H
#define GH_HUB_SESSION_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "hub/session.h"
#include "hub/store.h"
#include "iothub/topic.h"
#include "mqtt/framer.h"
#include "mqtt/mqtt.h"

#define BUCKETS 4096u
/* Stack buffer for small outgoing packets (acks, twin responses...). */
#define SMALL_PACKET 512u
/* Scratch for the user name and property decoding during CONNECT. */
#define USERNAME_SCRATCH 4096u

struct gh_hub_session {
    struct gh_hub *hub;
    struct gh_hub_sessions *table;
    struct gh_conn *conn;
    struct gh_mqtt_framer framer;
    struct gh_mqtt_ctx ctx;
    size_t fed; /* bytes of the current packet given to the framer */
    bool authenticated;
    bool closing;
    bool graceful; /* DISCONNECT received: no Will */
    bool clean_session;
    char device_id[GH_IDENTITY_ID_MAX + 1];
    char module_id[GH_IDENTITY_ID_MAX + 1];
    char generation_id[GH_IDENTITY_GENID_MAX + 1];
    const char *auth_type;
    char *model_id;     /* NULL when none */
    char *c2d_spelling; /* the device id as the client wrote it in its C2D filter */
    int64_t last_rx_ms;
    int64_t keepalive_ms; /* 1.5 x keep-alive; 0 = none */
    int64_t expires_ms;   /* SAS token expiry + skew; 0 = none */
    struct gh_session subs;
    uint16_t next_pid;
    /* One C2D message in flight (1.9.2). */
    bool c2d_inflight;
    int64_t c2d_seq;
    uint16_t c2d_pid;
    int64_t c2d_sent_ms;
    unsigned batch_refs;
    /* Will (1.5 item 8): stored only when its topic is our telemetry topic. */
    uint8_t *will_bag;
    size_t will_bag_len;
    uint8_t *will_body;
    size_t will_body_len;
    bool will_retain;
    /* Service sessions (session_service.c). */
    bool service;
    bool svc_subscribed;
    uint8_t svc_qos;
    unsigned svc_inflight;
    int64_t svc_cursor;
    char svc_device[GH_IDENTITY_ID_MAX + 1]; /* "" = every device */
    /* DPS registration sessions (session_dps.c): device_id holds the
     * registration id; never in the identity hash. */
    bool dps;
    bool dps_subscribed;
    uint8_t dps_qos;
    struct gh_dps_attest *dps_attest; /* owned; holds secrets */
    /* Gateway links (session_link.c, docs/edge-link.md). A link is the
     * connection of an IoT Edge device (iotEdge = true): it may carry
     * `$gh/c/{C}/` child frames. A virtual session is a child attached
     * through a link: it has no conn of its own (conn is NULL), its output
     * goes over the link, it is in the identity hash but not in the
     * table's list of connections. */
    bool is_link;
    char device_scope[GH_IDENTITY_SCOPE_MAX + 1];   /* link: the gateway's scope */
    struct gh_hub_session *link;                    /* virtual: the link it is attached through */
    struct gh_hub_session *children;                /* link: attached virtual sessions */
    struct gh_hub_session *zombies;                 /* link: detached ones, freed at a safe point */
    struct gh_hub_session *child_prev, *child_next; /* virtual: list on the link */
    struct gh_hub_child_ok *child_ok; /* link: recently checked children (session_link.c) */
    uint8_t detach_connack;           /* virtual: code for the $detach notice; 0 = derive */
    bool detach_quiet;                /* virtual: no $detach notice (the gateway asked) */
    /* Table links: all sessions (list), authenticated ones (hash). */
    struct gh_hub_session *prev, *next, *hnext;
};

struct gh_hub_sessions {
    struct gh_hub *hub;
    struct gh_hub_session *all;
    size_t count;
    bool shutting_down;
    struct gh_hub_session *buckets[BUCKETS];
};

struct gh_hub_sessions *gh_hub_sessions(struct gh_hub *hub); /* hub.c */

/* session.c */
void session_close(struct gh_hub_session *s, const char *why);

/* session.c: output. These handle their own failures (a session whose
 * output cannot be queued is closed), so callers may ignore the result;
 * it tells whether the packet was queued. */
gh_err send_packet(struct gh_hub_session *s, const struct gh_mqtt_packet *p);
gh_err send_ack(struct gh_hub_session *s, enum gh_mqtt_type type, uint16_t pid);
gh_err send_publish(struct gh_hub_session *s, struct gh_slice topic, uint8_t qos, uint16_t pid,
                    bool dup, const void *body, size_t len);
/* Packet ids of a virtual session come from its link's counter. */
uint16_t next_pid(struct gh_hub_session *s);

/* session.c: the session start shared by CONNECT and a gateway's $attach.
 * session_begin: clean -> forget the stored session; else load the stored
 * subscriptions (and unlock the device's C2D messages when a session
 * existed: *present); then mark the identity Connected (model_id may be
 * NULL). Errors: the store's (GH_ERR_DB, GH_ERR_NOMEM...).
 * session_take_identity: newer wins (1.5 item 1): put s in the identity
 * hash, then close any older session of the same identity.
 * session_resume: deliver pending C2D and tell waiting method calls, when
 * a stored session was resumed. */
GH_NODISCARD gh_err session_begin(struct gh_hub_session *s, bool clean, const char *model_id,
                                  bool *present);
void session_take_identity(struct gh_hub_session *s);
void session_resume(struct gh_hub_session *s, bool present);
struct gh_hub_session *session_lookup(struct gh_hub_sessions *t, const char *device_id,
                                      const char *module_id);
void session_unhash(struct gh_hub_session *s);

/* session_device.c: the device features of PROTOCOL.md section 1. */
struct gh_iothub_identity identity_of(const struct gh_hub_session *s);
void handle_publish(struct gh_hub_session *s, const struct gh_mqtt_publish *p);
void handle_subscribe(struct gh_hub_session *s, const struct gh_mqtt_subscribe *sub);
void handle_unsubscribe(struct gh_hub_session *s, const struct gh_mqtt_unsubscribe *u);
void handle_puback(struct gh_hub_session *s, uint16_t pid);
void c2d_deliver(struct gh_hub_session *s);
GH_NODISCARD gh_err accept_telemetry(struct gh_hub_session *s, struct gh_slice bag,
                                     struct gh_slice body, bool retain, bool will, uint8_t qos,
                                     uint16_t pid);

/* session_link.c: gateway links (docs/edge-link.md).
 * gh_hub_link_split: split a child frame topic or filter
 * `$gh/c/{C}/{rest}` into child (a valid device id of at most
 * GH_IDENTITY_ID_MAX bytes) and rest (non-empty); both borrow topic.
 * Pure: no I/O, allocation or logging. Errors: GH_ERR_BAD_TOPIC (not of
 * that form). gh_hub_link_frame: does topic start with `$gh/` (the link
 * namespace; such a topic on a non-link closes the connection)? */
#define GH_HUB_LINK_NAMESPACE "$gh/"
#define GH_HUB_LINK_PREFIX "$gh/c/"
GH_NODISCARD gh_err gh_hub_link_split(struct gh_slice topic, struct gh_slice *child,
                                      struct gh_slice *rest);
bool gh_hub_link_frame(struct gh_slice topic);
/* Child frames arriving on a link s (s->is_link). */
void gh_hub_link_publish(struct gh_hub_session *s, const struct gh_mqtt_publish *p);
void gh_hub_link_subscribe(struct gh_hub_session *s, const struct gh_mqtt_subscribe *sub);
void gh_hub_link_unsubscribe(struct gh_hub_session *s, const struct gh_mqtt_unsubscribe *u);
void gh_hub_link_puback(struct gh_hub_session *s, uint16_t pid);
/* Output of a virtual session v (send_packet calls it): over its link,
 * PUBLISH topics prefixed with `$gh/c/{C}/`, acks unchanged. Like
 * send_packet, a link whose output is full is closed. Errors:
 * GH_ERR_CLOSED (the link is closing), GH_ERR_NOMEM, GH_ERR_TOO_LARGE, and
 * send_packet's. */
gh_err gh_hub_link_send(struct gh_hub_session *v, const struct gh_mqtt_packet *p);
/* session_close of a virtual session: send the gateway a QoS 0
 * `$gh/c/{C}/$detach` notice (unless it asked for the detach, or the link
 * is closing) with v->detach_connack, or when 0 the code the child would
 * get now (3 disabled, 5 unknown / not this gateway's child, else 3); take
 * v out of the identity hash and the link's list; mark the identity
 * Disconnected unless another session holds it. v stays allocated (closing
 * set) until gh_hub_link_reap. Never closes the link. */
void gh_hub_link_detach(struct gh_hub_session *v, const char *why);
/* The link s goes away: every attached child is Disconnected and freed
 * (no notices, no Will). Also frees detached ones. */
void gh_hub_link_closed(struct gh_hub_session *s);
/* Free detached virtual sessions of link s (a point where no caller holds
 * one). */
void gh_hub_link_reap(struct gh_hub_session *s);
/* Housekeeping for the children of link s: C2D lock expiry. */
void gh_hub_link_tick(struct gh_hub_session *s, int64_t now_ms);
/* Release what a session owns (any kind) and free it. */
void session_free(struct gh_hub_session *s);

/* session_service.c: service applications reading telemetry live. */
bool gh_hub_service_client_id(struct gh_slice client_id);
uint8_t gh_hub_service_connect(struct gh_hub_session *s, const struct gh_mqtt_connect *c,
                               const char **why);
void gh_hub_service_subscribe(struct gh_hub_session *s, const struct gh_mqtt_subscribe *sub);
void gh_hub_service_puback(struct gh_hub_session *s);

/* session_dps.c: device registration with the provisioning service over
 * MQTT (PROTOCOL.md 4.2). gh_hub_dps_conn: the connection's TLS server name
 * is dps.hostname. gh_hub_dps_connect answers the CONNECT itself (CONNACK 0,
 * or a refusal that closes). gh_hub_dps_session_free releases (and wipes)
 * the DPS state; safe on any session. Event-loop thread only. */
struct gh_dps_attest;
bool gh_hub_dps_conn(const struct gh_hub_session *s);
void gh_hub_dps_connect(struct gh_hub_session *s, const struct gh_mqtt_connect *c);
void gh_hub_dps_publish(struct gh_hub_session *s, const struct gh_mqtt_publish *p);
void gh_hub_dps_subscribe(struct gh_hub_session *s, const struct gh_mqtt_subscribe *sub);
void gh_hub_dps_unsubscribe(struct gh_hub_session *s, const struct gh_mqtt_unsubscribe *u);
void gh_hub_dps_puback(struct gh_hub_session *s, uint16_t pid);
void gh_hub_dps_session_free(struct gh_hub_session *s);

#endif
