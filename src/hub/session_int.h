/* Internal to the hub's session code (session.c, session_device.c,
 * session_service.c): the session object and the helpers they share. */
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
uint16_t next_pid(struct gh_hub_session *s);

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
