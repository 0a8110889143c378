/* Internal to the gateway daemon (edge.c, child.c, link.c, sync.c,
 * edge_http.c): the daemon object, child sessions and the message path. */
#ifndef GH_EDGE_INT_H
#define GH_EDGE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/x509_vfy.h>

#include "edge/config.h"
#include "edge/provision.h"
#include "hub/identity.h"
#include "mqtt/framer.h"
#include "mqtt/mqtt.h"

struct event_base;
struct event;
struct gh_conn;
struct gh_listener;
struct gh_tls_server;
struct gh_tls_client;
struct gh_mqttc;
struct gh_http_client;
struct gh_http_server;
struct gh_edge_cache;
struct gh_queue;
struct gh_route_table;
struct gh_edge_local;
struct gh_edge_view;

#define EDGE_BUCKETS 1024u
#define EDGE_TICK_MS 1000
/* Stack buffer for small packets to children. */
#define EDGE_SMALL_PACKET 512u
/* C2D messages relayed to one child and not yet acknowledged by it. */
#define EDGE_C2D_INFLIGHT 4u
/* Feature filters a child may hold (GH_SESSION_* bits 0..4). */
#define EDGE_FEATURES 5u
/* The link's topic prefix for child frames (docs/edge-link.md). */
#define EDGE_PREFIX "$gh/c/"
/* Check the server certificate for renewal this often. */
#define EDGE_CERT_CHECK_MS 60000

struct gh_edge_child {
    struct gh_edge *edge;
    struct gh_conn *conn;
    struct gh_mqtt_framer framer;
    struct gh_mqtt_ctx ctx;
    size_t fed;
    bool authenticated;
    bool closing;
    bool clean_session;
    /* Its QoS 1 messages in e->pending (waiting for the group commit), and,
     * once a message was refused, the reason to close with when they are
     * answered (nothing more is read meanwhile): see gh_edge_child_refuse. */
    uint32_t unsettled;
    const char *close_after;
    char device_id[GH_IDENTITY_ID_MAX + 1];
    const char *auth_type;
    char model_id[GH_IDENTITY_MODEL_ID_MAX + 1];
    int64_t last_rx_ms;
    int64_t keepalive_ms;
    int64_t expires_ms;
    uint32_t subscribed; /* GH_SESSION_* */
    uint32_t qos1;
    /* As the child last wrote them, replayed upstream; kept after an
     * UNSUBSCRIBE (the bit in subscribed says whether it holds) so a queued
     * upstream unsubscribe still has its spelling. */
    char *filters[EDGE_FEATURES];
    /* Upstream (un)subscriptions not yet handed to the link because it had
     * GH_MQTTC_PENDING_SUBS_MAX requests awaiting their ack: a bit is in at
     * most one mask (the latest intent); the child waits in e->subq. */
    uint32_t up_sub, up_unsub;
    bool in_subq;
    struct gh_edge_child *subq_next;
    uint16_t next_pid;
    struct gh_slice raw; /* the packet being handled (valid during on_read only) */
    uint8_t *held;       /* a CONNECT waiting for the identity sync, or NULL */
    size_t held_len;
    uint64_t held_gen; /* the sync (e->sync_gen) that decides it */
    struct {
        bool used;
        uint16_t child_pid, up_pid;
    } c2d[EDGE_C2D_INFLIGHT];
    struct gh_edge_child *prev, *next, *hnext;
};

/* A child message waiting for the group commit before its PUBACK. */
struct gh_edge_pending {
    struct gh_edge_child *child; /* NULL once the child has gone */
    uint16_t pid;
};

/* An AppendFile route sink: one open file in the data directory. */
struct gh_edge_file {
    char name[GH_EDGE_ROUTE_NAME_MAX + 1];
    int fd;
    bool dirty; /* written since the last fsync */
};
#define EDGE_FILES_MAX 16

struct gh_edge_stats {
    uint64_t children_accepted;
    uint64_t auth_failures[6];                 /* by CONNACK code 1..5 (index 0 unused) */
    uint64_t auth_offline;                     /* accepted while the link was down */
    uint64_t msgs_in;                          /* telemetry accepted from children */
    uint64_t msgs_out;                         /* acknowledged by the hub */
    uint64_t msgs_dropped;                     /* QoS 0 refused while the store was full */
    uint64_t msgs_unrouted;                    /* matched no route */
    uint64_t msgs_refused;                     /* QoS 1 refused: store full or failing */
    uint64_t msgs_duplicate_sends;             /* resent after a link drop (at-least-once) */
    uint64_t local_published;                  /* LocalTopic deliveries */
    uint64_t file_lines;                       /* AppendFile lines */
    uint64_t brokered_unserved;                /* BrokeredEndpoint sinks (modules are not hosted) */
    uint64_t route_in[GH_EDGE_ROUTES_MAX + 1]; /* per route (index), + default */
    uint64_t route_out[GH_EDGE_ROUTES_MAX + 1];
    uint64_t bytes_in;
    uint64_t c2d_relayed;
    uint64_t methods_relayed;
    uint64_t twin_relayed;
    uint64_t syncs_ok, syncs_failed;
    uint64_t link_connects;
    uint64_t link_sub_refused; /* child subscriptions the hub's SUBACK refused */
};

struct gh_edge {
    const struct gh_edge_config *cfg; /* = cfg_owned */
    char home[GH_EDGE_PATH_MAX];
    char data_dir[GH_EDGE_PATH_MAX];
    struct gh_edge_identity id;
    struct event_base *base;
    struct event *tick, *sigterm, *sigint, *sighup;
    struct gh_tls_server *tls;
    struct gh_listener *listener;
    char cert_path[GH_EDGE_PATH_MAX], key_path[GH_EDGE_PATH_MAX];
    int64_t cert_not_after_s, cert_checked_ms;
    X509_STORE *trust; /* trust bundle: CA-authenticated children */
    struct gh_edge_cache *cache;
    char scope[GH_IDENTITY_SCOPE_MAX + 1]; /* the gateway's deviceScope ("" until synced) */
    /* link */
    struct gh_tls_client *up_tls;
    struct gh_mqttc *link;
    bool link_up;
    int64_t link_since_ms;
    struct gh_edge_child *subq_head, *subq_tail; /* children with up_sub/up_unsub */
    char link_error[256];
    /* sync */
    struct gh_http_client *http;
    bool sync_running, sync_again;
    uint64_t sync_gen; /* syncs started so far */
    int64_t sync_next_ms;
    json_t *sync_devices; /* pages collected so far */
    char sync_error[256];
    /* metrics */
    struct gh_http_server *metrics;
    /* children */
    struct gh_edge_child *children;
    size_t nchildren, nauthenticated;
    size_t nheld; /* children whose CONNECT waits for a sync */
    struct gh_edge_child *buckets[EDGE_BUCKETS];
    /* message path (msgpath.c) */
    struct gh_edge_config *cfg_owned; /* the running config (replaced on SIGHUP) */
    struct gh_queue *queue;
    struct gh_route_table *routes;
    struct event *commit_ev;
    bool commit_scheduled;
    gh_err commit_error; /* a commit inside the batch failed: no PUBACK for it */
    struct gh_edge_pending *pending;
    size_t npending, pending_cap;
    /* the queue's syncs run on this thread (gh_queue_flush_*) */
    struct gh_worker *syncer;
    struct gh_queue_flush *flush; /* in flight on syncer */
    size_t nflight;               /* the first pending entries it covers */
    bool flight_done;             /* ended: settle its entries at the next commit */
    gh_err flight_rc;
    uint8_t *scratch;          /* one queue payload */
    struct gh_edge_view *view; /* the routing view of the current message */
    size_t scratch_cap;
    struct gh_edge_file files[EDGE_FILES_MAX];
    size_t nfiles;
    struct gh_edge_local *local; /* LocalTopic endpoint (local.c) */
    struct gh_edge_stats stats;
    bool stopping;
    int64_t started_ms;
};

int64_t gh_edge_now_ms(void);

/* child.c */
void gh_edge_child_accept(struct gh_edge *e, struct gh_conn *c);
struct gh_edge_child *gh_edge_child_find(struct gh_edge *e, const char *device_id);
void gh_edge_child_close(struct gh_edge_child *ch, const char *why);
/* A message of the child was refused (no PUBACK): read nothing more from it
 * and close it once its messages already in the group commit are answered
 * (gh_edge_child_settled), so that those get their PUBACK. why: a literal. */
void gh_edge_child_refuse(struct gh_edge_child *ch, const char *why);
/* One of the child's pending QoS 1 messages was answered (msgpath.c). */
void gh_edge_child_settled(struct gh_edge_child *ch);
void gh_edge_children_tick(struct gh_edge *e, int64_t now_ms);
void gh_edge_children_close_all(struct gh_edge *e);
/* Deliver a hub frame for this child (topic without the prefix). */
void gh_edge_child_from_hub(struct gh_edge_child *ch, const struct gh_mqtt_publish *p,
                            struct gh_slice topic);
/* The hub acknowledged (or the link lost) a message of this child. */
void gh_edge_child_acked(struct gh_edge_child *ch, uint16_t child_pid);
/* Sync number gen ended: decide the CONNECTs held for it (all of them
 * when all is set: the sync failed and will not be retried at once). */
void gh_edge_children_sync_done(struct gh_edge *e, uint64_t gen, bool all);

/* link.c: the multiplexed connection to the hub. */
GH_NODISCARD gh_err gh_edge_link_start(struct gh_edge *e, char *err, size_t errlen);
void gh_edge_link_stop(struct gh_edge *e);
/* Announce a child (after local authentication) and its subscriptions. */
void gh_edge_link_attach(struct gh_edge *e, struct gh_edge_child *ch);
void gh_edge_link_detach(struct gh_edge *e, struct gh_edge_child *ch);
void gh_edge_link_subscribe(struct gh_edge *e, struct gh_edge_child *ch, uint32_t bit);
void gh_edge_link_unsubscribe(struct gh_edge *e, struct gh_edge_child *ch, uint32_t bit);
/* Forget a closing child's queued upstream (un)subscriptions. */
void gh_edge_link_forget(struct gh_edge *e, struct gh_edge_child *ch);
/* A QoS 0 frame for the child (twin request, method response): GH_ERR_CLOSED
 * when the link is down. */
GH_NODISCARD gh_err gh_edge_link_frame(struct gh_edge *e, struct gh_edge_child *ch,
                                       struct gh_slice topic, struct gh_slice body);
/* msgpath.c: the one place every accepted child message goes through:
 * routing, then the sinks ($upstream = the durable queue, LocalTopic,
 * AppendFile). qos 1: the child's PUBACK is sent after the group commit
 * made the message durable. Errors: GH_ERR_NOSPACE (the store is full:
 * refused, no PUBACK), GH_ERR_IO (the store failed), GH_ERR_TOO_LARGE,
 * GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_edge_route(struct gh_edge *e, struct gh_edge_child *ch, struct gh_slice bag,
                                  struct gh_slice body, uint8_t qos, uint16_t pid);
/* The child went away: its stored messages stay (they go to the hub), but
 * their acknowledgements have no one to go to. */
void gh_edge_queue_forget(struct gh_edge *e, struct gh_edge_child *ch);
GH_NODISCARD gh_err gh_edge_msgpath_start(struct gh_edge *e, char *err, size_t errlen);
void gh_edge_msgpath_stop(struct gh_edge *e);
/* Build the route table from the config (start and SIGHUP); on error the
 * old table stays. */
GH_NODISCARD gh_err gh_edge_routes_load(struct gh_edge *e, const struct gh_edge_config *cfg,
                                        char *err, size_t errlen);
/* Send stored messages while the link's window has room. */
void gh_edge_pump(struct gh_edge *e);
/* Once a second: a commit, so that the queue's cursor is written within
 * its interval after the last upstream ack even when traffic stops. */
void gh_edge_store_tick(struct gh_edge *e);
/* Link outcome of a stored message (cookie from the pump). */
void gh_edge_msg_acked(struct gh_edge *e, uint64_t cookie);
void gh_edge_msg_unacked(struct gh_edge *e, uint64_t cookie);
/* Cookies of stored messages have this bit; control frames use 0. */
#define EDGE_COOKIE_MSG (UINT64_C(1) << 63)

/* local.c: the plain MQTT endpoint of LocalTopic sinks. */
GH_NODISCARD gh_err gh_edge_local_start(struct gh_edge *e, char *err, size_t errlen);
void gh_edge_local_stop(struct gh_edge *e);
void gh_edge_local_publish(struct gh_edge *e, struct gh_slice topic, struct gh_slice body);
size_t gh_edge_local_count(const struct gh_edge *e);
/* Acknowledge an upstream C2D publish (the child acked its copy). */
void gh_edge_link_puback(struct gh_edge *e, uint16_t up_pid);

/* sync.c: the identity cache sync (PROTOCOL.md 6.10). */
void gh_edge_sync_now(struct gh_edge *e);
void gh_edge_sync_tick(struct gh_edge *e, int64_t now_ms);
void gh_edge_sync_stop(struct gh_edge *e);

/* edge_http.c: /metrics and /status. */
GH_NODISCARD gh_err gh_edge_http_start(struct gh_edge *e, char *err, size_t errlen);
void gh_edge_http_stop(struct gh_edge *e);

#endif
