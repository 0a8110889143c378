/* MQTT 3.1.1 client session over gh_conn (TLS), event-driven.
 *
 * One gh_mqttc keeps one connection to one broker open: it connects, sends
 * CONNECT, waits for CONNACK (bounded), keeps the connection alive with
 * PINGREQ, detects a silent server, and reconnects on its own with capped
 * exponential backoff and jitter. Nothing here is specific to IoT Hub: the
 * caller supplies client id, user name and (through a callback, e.g. a fresh
 * SAS token) the password.
 *
 * Delivery model (at least once, the owner keeps the data):
 * - QoS 1 PUBLISHes out: at most opts.window are in flight. Each carries a
 *   caller cookie; on_acked(cookie) reports its PUBACK, on_unacked(cookie)
 *   reports that the connection dropped first. The client keeps NO copy of
 *   the message: the owner decides whether to resend.
 * - PUBLISHes in: on_publish gets a borrowed view; for QoS 1 the owner calls
 *   gh_mqttc_puback(c, packet_id) whenever it wants (deferred ack). Packet ids
 *   of unacked incoming messages are forgotten when the connection drops.
 * - QoS 2 is not supported: a QoS 2 PUBLISH (or PUBREC/PUBREL/PUBCOMP) from
 *   the server closes the connection (GH_ERR_BAD_QOS / GH_ERR_BAD_PHASE).
 *
 * Threading: a gh_mqttc belongs to the thread running opts.base; every
 * gh_mqttc_* call must come from that thread. Callbacks run from the event
 * loop, never from inside a gh_mqttc_* call, except that gh_mqttc_publish,
 * _subscribe, _unsubscribe, _puback, _reconnect_now and _free may be called
 * from inside any callback (also gh_mqttc_free: it then takes effect when
 * the callback returns and no further callback follows).
 *
 * Every string handed to a callback is borrowed and valid only during the
 * callback. Secrets (the password) are wiped after use and never logged.
 */
#ifndef GH_MQTTC_MQTTC_H
#define GH_MQTTC_MQTTC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "mqtt/mqtt.h"

struct event_base;
struct evdns_base;
struct gh_tls_client;
struct gh_mqttc;

/* Limits and defaults (0 in an option field = the default). */
#define GH_MQTTC_WINDOW_MAX 4096u                  /* QoS 1 publishes in flight */
#define GH_MQTTC_PENDING_SUBS_MAX 32u              /* SUBSCRIBE/UNSUBSCRIBE awaiting ack */
#define GH_MQTTC_PASSWORD_MAX 2048u                /* bytes the password callback may fill */
#define GH_MQTTC_ID_MAX 256u                       /* client id / user name: bytes */
#define GH_MQTTC_DETAIL_MAX 160u                   /* on_disconnected detail length */
#define GH_MQTTC_BACKOFF_MIN_MS_DEFAULT 1000u      /* first reconnect delay (upper bound) */
#define GH_MQTTC_BACKOFF_MAX_MS_DEFAULT 60000u     /* cap of the exponential backoff */
#define GH_MQTTC_STABLE_MS 30000u                  /* a connection this long resets backoff */
#define GH_MQTTC_CONNACK_TIMEOUT_MS_DEFAULT 10000u /* CONNECT sent -> CONNACK */
#define GH_MQTTC_KEEPALIVE_TIMEOUT_PCT 150u        /* drop after 1.5 x keepalive of silence */
#define GH_MQTTC_REFRESH_PCT 80u                   /* reconnect at 80% of password lifetime */
#define GH_MQTTC_DRAIN_TIMEOUT_MS 5000u            /* refresh: wait this long for acks */
#define GH_MQTTC_OUT_HIGH_DEFAULT (1024u * 1024u)  /* output bytes queued, hard cap */

struct gh_mqttc_options {
    struct event_base *base;   /* borrowed; required */
    struct evdns_base *dns;    /* borrowed; NULL: host must be an address literal */
    const char *host;          /* copied; required */
    uint16_t port;             /* required */
    const char *server_name;   /* copied; SNI + certificate name; NULL: host */
    struct gh_tls_client *tls; /* borrowed, must outlive the client; required */
    const char *client_id;     /* copied; required (may be "" with clean_session) */
    const char *username;      /* copied; NULL: no user name */
    /* Called before every CONNECT (on the loop thread, with the user pointer
     * given to gh_mqttc_new). Writes the password (binary, at most cap =
     * GH_MQTTC_PASSWORD_MAX bytes) to out and its length to *len, and the
     * Unix time it expires to *expires_unix_s (0 = never). When it expires
     * the client reconnects on its own at GH_MQTTC_REFRESH_PCT of the
     * lifetime (waiting up to GH_MQTTC_DRAIN_TIMEOUT_MS for in-flight acks).
     * A non-GH_OK result aborts this attempt: on_disconnected(that error)
     * and the usual backoff. NULL: no password is sent. */
    gh_err (*password)(void *user, char *out, size_t cap, size_t *len, int64_t *expires_unix_s);
    uint16_t keepalive_s; /* 0: no keepalive (no PINGREQ, no silence check) */
    bool clean_session;
    unsigned window;             /* QoS 1 publishes in flight: 1..GH_MQTTC_WINDOW_MAX */
    unsigned backoff_min_ms;     /* 0: default; reconnect delay is uniform in */
    unsigned backoff_max_ms;     /*   [min, min(max, min * 2^attempt)] */
    size_t max_packet;           /* incoming packet limit, 0: GH_MQTT_DEFAULT_MAX_PACKET_SIZE */
    unsigned connect_timeout_ms; /* TCP + TLS; 0: GH_CONN_CONNECT_TIMEOUT_MS_DEFAULT */
    unsigned connack_timeout_ms; /* 0: GH_MQTTC_CONNACK_TIMEOUT_MS_DEFAULT */
    size_t out_high;             /* output queue cap; 0: GH_MQTTC_OUT_HIGH_DEFAULT */
};

/* All callbacks are optional (NULL = not interested). user is the pointer
 * given to gh_mqttc_new. */
struct gh_mqttc_callbacks {
    /* CONNACK 0x00 received. on_window follows. */
    void (*on_connected)(void *user, bool session_present);
    /* A connection attempt failed or a connection ended. Called once per
     * attempt that did not reach on_connected and once per connection that
     * did, after the on_unacked / on_suback / on_unsuback reports of that
     * connection. why: the transport reason (net/conn.h on_close reasons),
     * GH_ERR_TIMEOUT (CONNACK or keepalive), GH_ERR_AUTH (CONNACK refusal:
     * connack holds the code 1..5), GH_ERR_EXPIRED (credential refresh
     * reconnect), a decode error (GH_ERR_MALFORMED, GH_ERR_BAD_QOS, ...), a
     * password callback error, GH_OK (closed by gh_mqttc_stop). connack is -1
     * unless the server refused the CONNECT. detail: one human-readable line.
     * Unless stopped, a reconnect follows after the backoff. */
    void (*on_disconnected)(void *user, gh_err why, int connack, const char *detail);
    /* Incoming PUBLISH (QoS 0 or 1). *p and its slices are borrowed for the
     * duration of the call. QoS 1: acknowledge with gh_mqttc_puback. */
    void (*on_publish)(void *user, const struct gh_mqtt_publish *p);
    /* The QoS 1 publish with this cookie got its PUBACK. */
    void (*on_acked)(void *user, uint64_t cookie);
    /* The connection dropped with this QoS 1 publish unacknowledged. */
    void (*on_unacked)(void *user, uint64_t cookie);
    /* SUBACK for the subscribe with this cookie: n return codes (granted QoS
     * or GH_MQTT_SUBACK_FAILURE), borrowed. codes NULL and n 0: the
     * connection dropped before the SUBACK. */
    void (*on_suback)(void *user, uint64_t cookie, const uint8_t *codes, size_t n);
    /* UNSUBACK for the unsubscribe with this cookie (acked true), or the
     * connection dropped before it (acked false). */
    void (*on_unsuback)(void *user, uint64_t cookie, bool acked);
    /* Room again after gh_mqttc_publish returned GH_ERR_NOBUFS (window slot
     * freed or output drained), and once after every on_connected. */
    void (*on_window)(void *user);
};

struct gh_mqttc_stats {
    uint64_t connects;    /* CONNACK 0x00 received */
    uint64_t disconnects; /* on_disconnected calls (failed attempts included) */
    uint64_t sent;        /* PUBLISH packets sent (QoS 0 and 1) */
    uint64_t acked;       /* PUBACKs received for our QoS 1 publishes */
    uint64_t received;    /* PUBLISH packets received */
    uint64_t pings;       /* PINGREQ sent */
    uint64_t pongs;       /* PINGRESP received */
    uint64_t bytes_out;   /* MQTT bytes queued for sending */
    uint64_t bytes_in;    /* MQTT bytes received (whole packets) */
};

/* Create a client (idle: nothing happens until gh_mqttc_start). opts and
 * cbs are read during the call only (strings copied, cbs copied); the
 * borrowed pointers in opts (base, dns, tls) must outlive the client.
 * On success *out owns the client: free with gh_mqttc_free.
 * Errors: GH_ERR_ARG (opts/cbs/out NULL, missing base/host/port/tls/
 *         client_id, window 0 or above GH_MQTTC_WINDOW_MAX, backoff_min above
 *         backoff_max, max_packet outside GH_MQTT_MIN_PACKET_LIMIT..
 *         GH_MQTT_MAX_PACKET_LEN, client_id/username/host/server_name longer
 *         than GH_MQTTC_ID_MAX), GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_mqttc_new(const struct gh_mqttc_options *opts,
                                 const struct gh_mqttc_callbacks *cbs, void *user,
                                 struct gh_mqttc **out);

/* Free the client: an open connection is aborted (no DISCONNECT), timers
 * stop, no callback is called afterwards (in-flight cookies are NOT reported
 * through on_unacked). Safe inside a callback of c. NULL is a no-op. */
void gh_mqttc_free(struct gh_mqttc *c);

/* Connect now and keep connected (reconnect after every drop). Idempotent
 * while started. Errors: GH_ERR_ARG (c NULL). Connection failures are
 * reported through on_disconnected. */
GH_NODISCARD gh_err gh_mqttc_start(struct gh_mqttc *c);

/* Stop: with a connection (or an attempt in progress), send DISCONNECT if
 * connected and close; the in-flight reports (on_unacked, ...) and
 * on_disconnected(GH_OK, -1, "stopped") follow from the loop. While waiting
 * for the backoff, just cancel the wait (nothing is reported). No reconnect
 * until gh_mqttc_start. No-op when not started. */
void gh_mqttc_stop(struct gh_mqttc *c);

/* While waiting for the backoff delay: connect now (the caller knows the
 * server is back). The backoff attempt counter is kept. Returns GH_OK also
 * when a connection exists or is being made (nothing to do).
 * Errors: GH_ERR_ARG (c NULL), GH_ERR_CLOSED (not started). */
GH_NODISCARD gh_err gh_mqttc_reconnect_now(struct gh_mqttc *c);

/* Publish topic/payload (both copied into the output queue). qos 0: no
 * window, no cookie (ignored). qos 1: takes a window slot; cookie comes back
 * through on_acked or on_unacked.
 * Errors: GH_ERR_ARG (c/topic NULL, payload NULL with len > 0),
 *         GH_ERR_BAD_QOS (qos > 1), GH_ERR_BAD_TOPIC / GH_ERR_BAD_UTF8
 *         (invalid topic name), GH_ERR_CLOSED (not connected),
 *         GH_ERR_NOBUFS (window full, credential refresh pending, or output
 *         back-pressure: wait for on_window), GH_ERR_TOO_LARGE (the packet
 *         exceeds the output cap), GH_ERR_NOMEM. Nothing is sent on error. */
GH_NODISCARD gh_err gh_mqttc_publish(struct gh_mqttc *c, const char *topic, const void *payload,
                                     size_t len, uint8_t qos, uint64_t cookie);

/* SUBSCRIBE n filters (n 1..GH_MQTT_MAX_SUBSCRIPTIONS) with requested QoS
 * qos[i] (0 or 1). Result through on_suback(cookie).
 * Errors: GH_ERR_ARG (NULL arrays, n 0 or too large), GH_ERR_BAD_QOS,
 *         GH_ERR_BAD_TOPIC / GH_ERR_BAD_UTF8 (invalid filter),
 *         GH_ERR_CLOSED (not connected), GH_ERR_TOO_MANY
 *         (GH_MQTTC_PENDING_SUBS_MAX requests awaiting their ack),
 *         GH_ERR_NOBUFS (output back-pressure), GH_ERR_TOO_LARGE, GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_mqttc_subscribe(struct gh_mqttc *c, const char *const *filters,
                                       const uint8_t *qos, size_t n, uint64_t cookie);

/* UNSUBSCRIBE n filters; result through on_unsuback(cookie). Errors as
 * gh_mqttc_subscribe (without GH_ERR_BAD_QOS). */
GH_NODISCARD gh_err gh_mqttc_unsubscribe(struct gh_mqttc *c, const char *const *filters, size_t n,
                                         uint64_t cookie);

/* Acknowledge the incoming QoS 1 PUBLISH with this packet id (deferred ack).
 * Errors: GH_ERR_ARG (c NULL), GH_ERR_BAD_PACKET_ID (0),
 *         GH_ERR_CLOSED (not connected),
 *         GH_ERR_NOT_FOUND (no unacked incoming QoS 1 with this id on the
 *         current connection: already acked, or from a dropped connection),
 *         GH_ERR_NOBUFS (output back-pressure: retry after on_window). */
GH_NODISCARD gh_err gh_mqttc_puback(struct gh_mqttc *c, uint16_t packet_id);

/* True between on_connected and the drop of that connection. */
bool gh_mqttc_connected(const struct gh_mqttc *c);
/* QoS 1 publishes in flight now. */
unsigned gh_mqttc_inflight(const struct gh_mqttc *c);
/* Copy of the counters. */
void gh_mqttc_get_stats(const struct gh_mqttc *c, struct gh_mqttc_stats *out);

#endif
