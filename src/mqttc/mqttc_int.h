/* Internal state of the MQTT client session (mqttc.h). Shared by mqttc.c
 * (lifecycle, timers, reconnect), mqttc_in.c (input) and mqttc_out.c
 * (output API). Not installed, not for other modules. */
#ifndef GH_MQTTC_MQTTC_INT_H
#define GH_MQTTC_MQTTC_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt/framer.h"
#include "mqtt/mqtt.h"
#include "mqttc/mqttc.h"

struct event;
struct gh_conn;

/* Smallest keepalive tick: the keepalive check runs every keepalive / 4. */
#define MQTTC_TICK_DIV 4u
/* Bits of the incoming-unacked packet id set (ids 0..65535). */
#define MQTTC_PID_BITS 65536u

enum mqttc_state {
    MQTTC_IDLE = 0,     /* not started, or stopped */
    MQTTC_BACKOFF,      /* timer armed for the next attempt */
    MQTTC_CONNECTING,   /* gh_conn_connect issued, waiting for on_open */
    MQTTC_CONNACK_WAIT, /* CONNECT sent */
    MQTTC_CONNECTED,    /* CONNACK 0x00 received */
    MQTTC_CLOSING,      /* close/abort issued, waiting for on_close */
};

/* One QoS 1 publish in flight. Packet id = slot index + 1. */
struct mqttc_slot {
    uint64_t cookie;
    uint64_t seq; /* send order, for on_unacked in order */
    bool used;
};

/* One SUBSCRIBE/UNSUBSCRIBE awaiting its ack. Packet id = window + 1 + index. */
struct mqttc_pend {
    uint64_t cookie;
    size_t count; /* filters sent: the SUBACK must carry as many codes */
    bool used;
    bool unsub;
};

struct gh_mqttc {
    /* configuration (copied) */
    struct event_base *base;
    struct evdns_base *dns;
    struct gh_tls_client *tls;
    char *host;
    char *server_name;
    char *client_id;
    char *username; /* NULL: none */
    uint16_t port;
    gh_err (*password)(void *user, char *out, size_t cap, size_t *len, int64_t *expires_unix_s);
    uint16_t keepalive_s;
    bool clean_session;
    unsigned window;
    unsigned backoff_min_ms;
    unsigned backoff_max_ms;
    size_t max_packet;
    unsigned connect_timeout_ms;
    unsigned connack_timeout_ms;
    size_t out_high;
    struct gh_mqttc_callbacks cbs;
    void *user;

    /* connection */
    enum mqttc_state state;
    bool started;
    struct gh_conn *conn;
    struct gh_mqtt_ctx ctx;
    struct gh_mqtt_framer framer;
    size_t fed; /* bytes of the current packet fed to the framer, still buffered */
    int64_t connected_at_ms;
    int64_t last_rx_ms;
    int64_t last_tx_ms;
    bool up; /* the current connection reached CONNECTED */
    bool ping_outstanding;
    bool draining;            /* credential refresh: waiting for acks, then close */
    bool reconnect_now;       /* next attempt without delay (refresh) */
    int64_t refresh_after_ms; /* from CONNACK; 0: no refresh */
    unsigned attempt;         /* backoff exponent */
    uint64_t rng;

    /* why the current connection is being closed (set before abort/close) */
    bool close_set;
    gh_err close_why;
    int close_connack;
    char close_detail[GH_MQTTC_DETAIL_MAX];

    /* timers */
    struct event *timer;   /* backoff, CONNACK timeout, refresh drain */
    struct event *ka;      /* keepalive tick (persistent) */
    struct event *refresh; /* credential refresh */

    /* window */
    struct mqttc_slot *slots; /* window entries */
    unsigned *free_slots;     /* stack of free slot indexes */
    unsigned nfree;
    uint64_t seq;
    bool want_window;
    struct mqttc_pend pend[GH_MQTTC_PENDING_SUBS_MAX];
    uint8_t in_unacked[MQTTC_PID_BITS / 8];

    /* output scratch */
    uint8_t *out_buf;
    size_t out_cap;

    /* re-entrancy: gh_mqttc_free inside a callback is deferred */
    unsigned depth;
    bool freed;

    struct gh_mqttc_stats stats;
};

/* Monotonic milliseconds. */
int64_t mqttc_now_ms(void);

/* Enter/leave a loop entry point; leave destroys a client freed meanwhile. */
void mqttc_enter(struct gh_mqttc *c);
void mqttc_leave(struct gh_mqttc *c);

/* Close the current connection now (abort) and remember why; the report
 * follows from on_close. First reason wins. */
void mqttc_fail(struct gh_mqttc *c, gh_err why, int connack, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Encode *p and queue it. Errors: the encoder's, GH_ERR_TOO_LARGE (above
 * out_high), gh_conn_write's (GH_ERR_NOBUFS, GH_ERR_CLOSED, ...), GH_ERR_NOMEM. */
GH_NODISCARD gh_err mqttc_send(struct gh_mqttc *c, const struct gh_mqtt_packet *p);

/* CONNACK 0x00 handled: switch to CONNECTED, arm timers, report. */
void mqttc_on_connack_ok(struct gh_mqttc *c, bool session_present);
/* A window slot was freed: on_window if someone waits, refresh drain. */
void mqttc_slot_freed(struct gh_mqttc *c);

/* gh_conn on_read (mqttc_in.c). */
void mqttc_on_read(struct gh_conn *conn, void *user);

#endif
