/* gatehouse sim: a fleet of simulated IoT Hub devices in one process
 * (docs/sim.md).
 *
 * Every simulated device is one gh_mqttc on ONE event loop (no thread per
 * device), speaking the IoT Hub MQTT dialect (PROTOCOL.md 1.8-1.11) to a hub
 * directly or through a transparent gateway: it sends telemetry with
 * realistic JSON bodies and properties, reports a twin property, logs
 * desired-property patches and answers direct methods with 200.
 *
 *   sim_opts.c    option table, parsing, --help
 *   sim_body.c    telemetry bodies, property bags, device ids, JSON snippets
 *   sim_stats.c   latency histogram (p50/p99/max)
 *   sim_setup.c   identities: creating devices through the hub's REST API,
 *                 keys (hub, derived from a group key), X.509 certificates
 *   sim_dev.c     one simulated device: MQTT callbacks, twin, methods
 *   sim_run.c     the event loop: connect ramp, telemetry pacing, progress,
 *                 drain, summary
 *   sim_cli.c     gh_sim_main
 *
 * Single-threaded: everything here belongs to the thread that calls
 * gh_sim_main / gh_sim_run. Keys and tokens are wiped after use and never
 * logged.
 */
#ifndef GH_SIM_SIM_H
#define GH_SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/buf.h"
#include "common/error.h"
#include "pki/pki.h"

/* ---- limits and defaults ------------------------------------------------- */
#define GH_SIM_DEVICES_DEFAULT 10u
#define GH_SIM_DEVICES_MAX 100000u
#define GH_SIM_PREFIX_DEFAULT "sim-"
#define GH_SIM_PREFIX_MAX 64u  /* bytes of --prefix */
#define GH_SIM_ID_WIDTH_MIN 4u /* digits of the index: sim-0001 */
#define GH_SIM_HOST_MAX 253u   /* host names */
#define GH_SIM_PATH_MAX 4096u  /* file names */
#define GH_SIM_MQTT_PORT_DEFAULT 8883u
#define GH_SIM_HTTPS_PORT_DEFAULT 443u
#define GH_SIM_CONNECT_RATE_DEFAULT 100.0  /* new connections per second */
#define GH_SIM_RATE_DEFAULT 10.0           /* messages per second, whole fleet */
#define GH_SIM_RATE_MAX 1000000.0          /* messages (or connections) per second */
#define GH_SIM_MESSAGES_MAX 1000000000ull  /* --messages */
#define GH_SIM_DURATION_MAX_S (30 * 86400) /* --duration */
#define GH_SIM_DRAIN_DEFAULT_S 10u         /* wait for PUBACKs after the bound */
#define GH_SIM_DRAIN_MAX_S 600u
#define GH_SIM_KEEPALIVE_DEFAULT_S 120u
#define GH_SIM_TOKEN_TTL_DEFAULT_S 3600u /* SAS token lifetime */
#define GH_SIM_TOKEN_TTL_MIN_S 60u
#define GH_SIM_TOKEN_TTL_MAX_S (365u * 86400u)
#define GH_SIM_WINDOW_DEFAULT 16u       /* QoS 1 publishes in flight per device */
#define GH_SIM_BODY_MAX 512u            /* one telemetry body */
#define GH_SIM_TOPIC_MAX 1024u          /* one topic name */
#define GH_SIM_ID_MAX 128u              /* device id bytes (PROTOCOL.md 5.2) */
#define GH_SIM_API_VERSION "2021-04-12" /* user name and REST api-version */
#define GH_SIM_CLIENT_TYPE "gatehouse-sim/" GH_VERSION
#define GH_SIM_TICK_MS 10u           /* pacing timer period */
#define GH_SIM_QOS0_MARKER_EVERY 64u /* --plain --qos 0: one QoS 1 message in this many */
#define GH_SIM_QOS0_MARKERS 4u       /* ... and at most this many of them in flight */
#define GH_SIM_PAYLOAD_DEFAULT 64u   /* --plain body bytes */
#define GH_SIM_PAYLOAD_MIN 50u       /* room for {"seq":..,"t":..} with 64-bit values */
#define GH_SIM_PROGRESS_MS 1000u     /* progress line period */

enum gh_sim_auth { GH_SIM_AUTH_SAS = 0, GH_SIM_AUTH_X509 };

/* Parsed command line. Strings borrow argv (or static defaults). */
struct gh_sim_opts {
    unsigned devices;
    const char *prefix;
    enum gh_sim_auth auth;
    const char *group_key; /* sas: derive keys, create nothing */
    const char *parent;    /* sas/x509 creation: make children of this Edge device */
    const char *cs;        /* --connection-string */
    const char *cs_file;   /* --connection-string-file */
    const char *ca_cert;   /* x509: tenant CA certificate */
    const char *ca_key;    /* x509: tenant CA key */
    const char *ca_password_file;
    const char *hub;           /* hub host name (user name, audience; SNI when direct) */
    uint16_t port;             /* MQTT port of the hub or gateway */
    const char *address;       /* address to dial; NULL: the host name */
    const char *gateway;       /* dial this gateway (SNI) instead of the hub */
    const char *ca;            /* trust bundle */
    uint16_t https_port;       /* hub's REST port (device creation) */
    const char *https_address; /* address of the REST endpoint; NULL: --address if direct */
    double connect_rate;       /* connections started per second */
    double rate;               /* messages per second (fleet, or per device) */
    bool rate_per_device;
    uint8_t qos;
    uint64_t messages;  /* 0: no message bound */
    int64_t duration_s; /* 0: no time bound */
    unsigned drain_s;
    unsigned keepalive_s;
    unsigned token_ttl_s;
    unsigned window;
    bool create;                   /* create/lookup the devices through REST */
    bool json;                     /* --json summary on stdout */
    bool progress;                 /* live progress line on stderr */
    const char *work_dir;          /* x509: where certificates are written; NULL: temp */
    bool reuse_certs;              /* x509: load certificates already in work_dir */
    enum gh_pki_key_type key_type; /* x509: device key type */
    bool plain;                    /* bare telemetry, no twin/method/C2D traffic */
    unsigned payload_size;         /* --plain body bytes */
    bool reconnect;                /* handshake loop: disconnect after every CONNACK, reconnect */
    const char *log_level;
    bool help;
};

/* Fill *o with the defaults. Never fails. */
void gh_sim_opts_default(struct gh_sim_opts *o);

/* Parse argv[1..argc) (argv[0] is "sim") into *o (defaults first). Option
 * values may be given as `--opt value` or `--opt=value`. On error a one-line
 * reason is written to msg (NUL-terminated, truncated to cap) and *o is
 * unspecified. Strings in *o borrow argv. Thread-safe on distinct objects.
 * Errors: GH_ERR_USAGE (unknown option, missing value, positional argument,
 * inconsistent options: --gateway without --hub, x509 without --ca-cert/
 * --ca-key, --group-key with x509, --parent with --group-key, neither a
 * connection string nor --group-key for sas, no --hub and no connection
 * string), GH_ERR_ARG (a value out of range or malformed). --help sets
 * o->help and returns GH_OK without the consistency checks. */
GH_NODISCARD gh_err gh_sim_opts_parse(int argc, char **argv, struct gh_sim_opts *o, char *msg,
                                      size_t cap);

/* Print --help to f. */
void gh_sim_help(FILE *f);

/* Parse "HOST[:PORT]" into host (NUL-terminated, at most GH_SIM_HOST_MAX
 * bytes) and *port (unchanged when no port is given). IPv6 literals in
 * brackets ("[::1]:8883") are accepted.
 * Errors: GH_ERR_ARG (empty host, bad or zero port, host too long). */
GH_NODISCARD gh_err gh_sim_hostport_parse(const char *s, char *host, size_t cap, uint16_t *port);

/* Parse a duration: digits with an optional unit s, m, h (default s), e.g.
 * "90", "30s", "5m". Errors: GH_ERR_ARG (malformed, 0, or above max_s). */
GH_NODISCARD gh_err gh_sim_duration_parse(const char *s, int64_t max_s, int64_t *out);

/* Device id of index i (0-based) among n: prefix + (i + 1) zero-padded to
 * max(GH_SIM_ID_WIDTH_MIN, digits of n). Appended to w and NUL-terminated
 * (the NUL is not counted in w->len).
 * Errors: GH_ERR_NOBUFS, GH_ERR_ARG (the id is not a valid device id). */
GH_NODISCARD gh_err gh_sim_device_id(struct gh_writer *w, const char *prefix, unsigned i,
                                     unsigned n);

/* Simulated sensor state of one device: a bounded random walk. */
struct gh_sim_sensor {
    uint64_t rng;       /* xorshift64* state, never 0 */
    double temperature; /* degrees Celsius, 15..35 */
    double humidity;    /* percent, 20..80 */
};

/* Seed a sensor (deterministic per seed). Never fails. */
void gh_sim_sensor_init(struct gh_sim_sensor *s, uint64_t seed);
/* Advance the walk by one step. Never fails. */
void gh_sim_sensor_step(struct gh_sim_sensor *s);

/* Telemetry body: {"deviceId":..,"seq":..,"temperature":..,"humidity":..,
 * "timestamp":"YYYY-MM-DDTHH:MM:SS.mmmZ"} appended to w. device_id must be
 * a valid device id (no JSON escaping needed). now_ms: Unix time in ms.
 * Errors: GH_ERR_NOBUFS (nothing appended), GH_ERR_ARG (time out of range). */
GH_NODISCARD gh_err gh_sim_body(struct gh_writer *w, const char *device_id, uint64_t seq,
                                const struct gh_sim_sensor *s, int64_t now_ms);

/* --plain telemetry body: {"seq":N,"t":T} (T: Unix time in microseconds,
 * for end-to-end latency) padded with spaces to exactly size bytes (valid
 * JSON). Errors: GH_ERR_ARG (size below GH_SIM_PAYLOAD_MIN or above
 * GH_SIM_BODY_MAX), GH_ERR_NOBUFS (no room in w; nothing appended). */
GH_NODISCARD gh_err gh_sim_plain_body(struct gh_writer *w, uint64_t seq, int64_t now_us,
                                      size_t size);

/* Telemetry topic with the simulator's properties: content type
 * application/json, content encoding utf-8, message id "{device}-{seq}"
 * and the application property sim=gatehouse, appended to w.
 * Errors: GH_ERR_NOBUFS, GH_ERR_ARG (nothing appended). */
GH_NODISCARD gh_err gh_sim_topic(struct gh_writer *w, const char *device_id, uint64_t seq);

/* Latency histogram in microseconds: log-linear buckets, relative error
 * under 2%, values up to 2^40 us. Zero-initialise to start. */
#define GH_SIM_HIST_SUB 64u
#define GH_SIM_HIST_EXP 40u
struct gh_sim_hist {
    uint64_t count;
    uint64_t max_us;
    uint64_t bucket[GH_SIM_HIST_SUB * (GH_SIM_HIST_EXP + 1)];
};
/* Record one value (values above 2^40 - 1 are clamped). Never fails. */
void gh_sim_hist_add(struct gh_sim_hist *h, uint64_t us);
/* The value below which a fraction q (0..1) of the recorded values lie
 * (upper bound of its bucket, never above max); 0 when empty. */
uint64_t gh_sim_hist_quantile(const struct gh_sim_hist *h, double q);

/* Run a parsed command line: set up identities, run the fleet, print the
 * summary. Returns the process exit status (0: every bound reached without
 * errors; else gh_err_exit_status of the first failure). Not thread-safe:
 * installs SIGINT/SIGTERM handling on its loop and ignores SIGPIPE. */
int gh_sim_run(const struct gh_sim_opts *o);

/* `gatehouse sim ...` (argv[0] is "sim"). Returns the exit status. */
int gh_sim_main(int argc, char **argv);

#endif
