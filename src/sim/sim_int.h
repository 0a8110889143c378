/* gatehouse sim: shared state of the simulator's files (not an API). */
#ifndef GH_SIM_SIM_INT_H
#define GH_SIM_SIM_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "iothub/crypto.h"
#include "sim/sim.h"

struct event;
struct event_base;
struct evdns_base;
struct gh_mqttc;
struct gh_tls_client;
struct sim;

#define SIM_MSG_MAX 512 /* a one-line error reason */

/* One simulated device. */
struct sim_dev {
    struct sim *sim;
    unsigned index;
    struct gh_mqttc *c;
    struct gh_tls_client *tls; /* x509: its own (client certificate); sas: NULL */
    char id[GH_SIM_ID_MAX + 1];
    char key[GH_SYMKEY_B64_MAX + 1]; /* sas: primary key, base64 (secret) */
    struct gh_sim_sensor sensor;
    uint64_t seq;   /* telemetry messages sent */
    uint32_t rid;   /* twin / request ids */
    bool started;   /* gh_mqttc_start done */
    bool connected; /* between on_connected and on_disconnected */
    bool ever_connected;
    bool reported;          /* first reported-properties patch sent */
    struct event *cycle_ev; /* --reconnect: deferred stop / start */
    bool fenced;            /* QoS 0 run: the final QoS 1 fence was sent */
};

/* The fleet and its counters. */
struct sim {
    const struct gh_sim_opts *o;
    struct event_base *base;
    struct evdns_base *dns;
    char hub[GH_SIM_HOST_MAX + 1];  /* user name, audience */
    char sni[GH_SIM_HOST_MAX + 1];  /* TLS name: hub or gateway */
    char dial[GH_SIM_HOST_MAX + 1]; /* host or address dialled */
    uint16_t port;
    struct gh_tls_client *tls; /* shared by SAS devices */
    struct sim_dev *devs;
    unsigned n;
    char tmp_dir[GH_SIM_PATH_MAX]; /* x509: temporary directory made by the run, or "" */
    char msg[SIM_MSG_MAX];
    gh_err first_err;

    /* scheduling */
    struct event *tick;
    struct event *progress_ev;
    struct event *sig_int;
    struct event *sig_term;
    int64_t t0_us; /* monotonic start of the run */
    int64_t last_tick_us;
    int64_t stop_at_us;     /* sending stops here (duration), 0: none */
    int64_t drain_until_us; /* 0: not draining */
    unsigned next_start;    /* devices started so far (connect ramp) */
    unsigned rr;            /* round-robin position for sending */
    double send_credit;
    double connect_credit;
    bool stopping;          /* no more sends */
    bool closing;           /* devices told to disconnect */
    int64_t stop_us;        /* when sending stopped */
    int64_t close_until_us; /* give up waiting for closes */
    unsigned connected_at_stop;
    bool interrupted;

    /* counters */
    unsigned connected_now;
    unsigned ever_connected; /* devices that connected at least once */
    uint64_t connects, connect_failures, disconnects;
    uint64_t sent, acked, unacked, publish_errors;
    uint64_t twin_reported, twin_acked, desired, methods, c2d;
    uint64_t twin_answered;  /* twin responses of any status */
    size_t reported_devices; /* devices that sent their first reported patch */
    char last_error[SIM_MSG_MAX]; /* the latest connection failure, for the summary */
    uint64_t last_progress_sent, last_progress_acked;
    int64_t last_progress_us;
    struct gh_sim_hist hist;

    /* the steady window: from every device connected to the stop */
    int64_t all_us; /* every device connected at least once, 0: not yet */
    uint64_t sent_at_all, acked_at_all, connects_at_all;
    uint64_t sent_at_stop, acked_at_stop, connects_at_stop;
    double cpu_at_all, cpu_at_end; /* own CPU seconds (user + system) */
    int64_t end_us;                /* steady window end: stop, or the last fence ack */
    /* QoS 0 runs end with one QoS 1 "fence" per device: its PUBACK says the
     * server has processed every earlier message of that connection. */
    uint64_t fences_sent, fences_acked, fences_lost;
    int64_t fence_done_us;
};

/* Own CPU time so far (user + system), seconds. */
double sim_cpu_s(void);

/* Monotonic time in microseconds. */
int64_t sim_now_us(void);
/* Wall clock in milliseconds / microseconds since the epoch. */
int64_t sim_wall_ms(void);
int64_t sim_wall_us(void);

/* Record the first error and its reason (printf-style) in s. Returns rc. */
gh_err sim_fail(struct sim *s, gh_err rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Identities (sim_setup.c): fill every s->devs[i].id, and .key (sas) or
 * .tls (x509), creating or looking up devices through the hub's REST API
 * as the options say. Blocking (private event loops). Errors: anything of
 * the REST calls, the connection string, the PKI; s->msg says why. */
GH_NODISCARD gh_err sim_setup(struct sim *s);
/* Free what sim_setup made (x509 TLS contexts) and wipe keys. */
void sim_setup_cleanup(struct sim *s);

/* Devices (sim_dev.c). */
GH_NODISCARD gh_err sim_dev_create(struct sim_dev *d);
/* Send one telemetry message; GH_ERR_NOBUFS / GH_ERR_CLOSED when this
 * device cannot take one now. */
GH_NODISCARD gh_err sim_dev_send(struct sim_dev *d);
/* QoS 0 runs: send the device's final QoS 1 fence (--plain topic and body;
 * not counted as telemetry). Errors as sim_dev_send. */
GH_NODISCARD gh_err sim_dev_fence(struct sim_dev *d);

#endif
