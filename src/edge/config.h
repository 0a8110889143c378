/* gatehouse edge configuration: config.toml with the IoT Edge keys
 * (PROTOCOL.md 6.11) plus gatehouse's own sections. One option table
 * (config.c) is the single source of truth for names, types, bounds,
 * defaults and docs (docs/edge-config.md is generated from it).
 *
 * The "home" directory (--home, $GATEHOUSE_EDGE_HOME, default
 * GH_EDGE_HOME_DEFAULT) holds the active configuration (config.toml, written
 * by `gatehouse edge config apply`), and by default everything else the
 * daemon keeps: identity cache, certificates, pid file and log. */
#ifndef GH_EDGE_CONFIG_H
#define GH_EDGE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/error.h"
#include "config/toml.h"

#define GH_EDGE_HOME_DEFAULT "/var/lib/gatehouse/edge"
#define GH_EDGE_HOME_ENV "GATEHOUSE_EDGE_HOME"
#define GH_EDGE_PATH_MAX 1024
#define GH_EDGE_HOST_MAX 254
#define GH_EDGE_ADDR_MAX 64
#define GH_EDGE_ID_MAX 128
#define GH_EDGE_KEY_MAX 128
#define GH_EDGE_CONNSTR_MAX 1024
#define GH_EDGE_HOSTS_MAX 32 /* entries of [hosts] */
#define GH_EDGE_ROUTES_MAX 32         /* entries of [routes] */
#define GH_EDGE_ROUTE_NAME_MAX 128
#define GH_EDGE_ROUTE_TEXT_MAX 1024
#define GH_EDGE_ROUTE_NO_PRIORITY (-1) /* route without a priority */

/* Files the daemon keeps in its data directory. */
#define GH_EDGE_FILE_CONFIG "config.toml"     /* in home: the active config */
#define GH_EDGE_FILE_PID "edge.pid"           /* pid of the running daemon */
#define GH_EDGE_FILE_LOG "edge.log"           /* log of a daemon started with `edge start` */
#define GH_EDGE_FILE_IDENTITY "identity.json" /* provisioning result (0600) */
#define GH_EDGE_FILE_CACHE "children.db"      /* identity cache of the children */
#define GH_EDGE_DIR_CERTS "certs"             /* server certificate issued from the edge CA */
#define GH_EDGE_DIR_QUEUE "queue"             /* the store-and-forward queue */

enum gh_edge_prov_source { GH_EDGE_PROV_DPS = 0, GH_EDGE_PROV_MANUAL = 1 };
enum gh_edge_attest { GH_EDGE_ATTEST_SYMMETRIC_KEY = 0, GH_EDGE_ATTEST_X509 = 1 };
enum gh_edge_reprov { GH_EDGE_REPROV_DYNAMIC = 0, GH_EDGE_REPROV_ON_STARTUP = 1,
                      GH_EDGE_REPROV_ON_ERROR = 2 };

/* One [hosts] entry: connect to `address` when dialling `name` (sites and
 * tests without DNS for the hub's and DPS's names). */
struct gh_edge_host {
    char name[GH_EDGE_HOST_MAX];
    char address[GH_EDGE_ADDR_MAX];
};

/* One [routes] entry: name = "FROM ... INTO ..." or
 * name = { route = "...", priority = 0..9, time_to_live = "1d" | seconds }. */
struct gh_edge_route_cfg {
    char name[GH_EDGE_ROUTE_NAME_MAX + 1];
    char text[GH_EDGE_ROUTE_TEXT_MAX];
    int64_t priority; /* 0..9, or GH_EDGE_ROUTE_NO_PRIORITY */
    int64_t ttl_s;    /* 0 = store_and_forward.time_to_live; -1 = keep forever */
};

struct gh_edge_config {
    /* IoT Edge keys. File references are stored as plain paths: a
     * "file://" URI is converted when loading; pkcs11: URIs are refused. */
    char hostname[GH_EDGE_HOST_MAX];       /* name children dial; server cert SAN */
    char trust_bundle_cert[GH_EDGE_PATH_MAX]; /* root(s): hub/DPS server and child CA certs */
    char edge_ca_cert[GH_EDGE_PATH_MAX];   /* [edge_ca] cert */
    char edge_ca_pk[GH_EDGE_PATH_MAX];     /* [edge_ca] pk */

    int prov_source;                       /* enum gh_edge_prov_source */
    char global_endpoint[GH_EDGE_PATH_MAX]; /* https://host[:port][/] */
    char id_scope[64];
    int attest_method;                     /* enum gh_edge_attest */
    char registration_id[GH_EDGE_ID_MAX + 1];
    char symmetric_key[GH_EDGE_KEY_MAX + 1]; /* secret: value, or read from uri */
    char identity_cert[GH_EDGE_PATH_MAX];  /* X.509 attestation / manual x509 */
    char identity_pk[GH_EDGE_PATH_MAX];
    /* manual: either connection_string or iothub_hostname + device_id +
     * (symmetric_key | identity_cert/identity_pk); config.c normalises the
     * connection string into these three fields. */
    char connection_string[GH_EDGE_CONNSTR_MAX]; /* secret */
    char iothub_hostname[GH_EDGE_HOST_MAX];
    char device_id[GH_EDGE_ID_MAX + 1];
    int reprovisioning;                    /* enum gh_edge_reprov */

    /* gatehouse sections. */
    char data_dir[GH_EDGE_PATH_MAX];       /* "" = the home directory */
    int log_level;                         /* enum gh_log_level */
    char listen_address[GH_EDGE_ADDR_MAX];
    int64_t mqtt_port;                     /* children: MQTT over TLS */
    char metrics_address[GH_EDGE_ADDR_MAX];
    int64_t metrics_port;                  /* 0 = no metrics/status endpoint */
    int64_t upstream_mqtt_port;            /* the hub's MQTT port */
    int64_t upstream_https_port;           /* the hub's HTTPS port (identity sync) */
    int64_t upstream_keepalive;            /* seconds */
    int64_t upstream_window;               /* QoS 1 messages in flight upstream */
    int64_t backoff_min_ms;
    int64_t backoff_max_ms;
    int64_t max_children;
    int64_t max_message_size;
    int64_t max_connect_size;
    int64_t handshake_timeout;             /* seconds */
    int64_t keepalive_max;                 /* seconds */
    int64_t sas_skew;                      /* seconds */
    int64_t cache_sync_interval;           /* seconds between full identity syncs */
    int64_t cache_max_age;                 /* seconds: offline auth allowed this long after the last sync; 0 = forever */
    int64_t server_cert_days;              /* validity of the issued server certificate */
    int64_t server_cert_renew;             /* seconds before expiry to renew */
    size_t nhosts;
    struct gh_edge_host hosts[GH_EDGE_HOSTS_MAX];
    /* Routing and store-and-forward (docs/routes.md, docs/edge.md). No
     * [routes] table: the one route "FROM /messages/(all) INTO $upstream". */
    size_t nroutes;
    struct gh_edge_route_cfg routes[GH_EDGE_ROUTES_MAX];
    int64_t saf_ttl;       /* store_and_forward.time_to_live, seconds; 0 = keep forever */
    int64_t saf_max_bytes; /* store_and_forward.max_size */
    char local_address[GH_EDGE_ADDR_MAX]; /* [local]: MQTT for on-site consumers */
    int64_t local_port;                   /* 0 = off */
};

/* The home directory: dir if not NULL, else $GATEHOUSE_EDGE_HOME, else
 * GH_EDGE_HOME_DEFAULT. Static storage or dir itself. */
const char *gh_edge_home(const char *dir);

/* Fill *cfg from the TOML file at path; then resolve data_dir against home
 * ("" = home), read symmetric_key.uri, split connection_string.
 * Errors: GH_ERR_NOENT / GH_ERR_PERM / GH_ERR_IO (file), GH_ERR_CONFIG_*
 * (err says file:line:column and what), GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_edge_config_load(const char *path, const char *home,
                                        struct gh_edge_config *cfg, struct gh_toml_error *err);

/* Checks across options (provisioning source has what it needs, edge CA
 * cert and key together, ...). errbuf gets a one-line reason naming the
 * key and what to do. Errors: GH_ERR_CONFIG_VALUE, GH_ERR_CONFIG_MISSING. */
GH_NODISCARD gh_err gh_edge_config_validate(const struct gh_edge_config *cfg, char *errbuf,
                                            size_t errlen);

/* The address to dial for a host name: its [hosts] entry, or name itself. */
const char *gh_edge_config_resolve(const struct gh_edge_config *cfg, const char *name);

/* The name of the first option that differs between two loaded configs
 * and cannot be applied by a reload (SIGHUP), or NULL when every
 * difference is reloadable (trust bundle, edge CA, log level). Keys and
 * [hosts] count as not reloadable. Static storage. Thread-safe. */
const char *gh_edge_config_changed(const struct gh_edge_config *old_cfg,
                                   const struct gh_edge_config *new_cfg);

/* Did the [routes] table change (reloaded on SIGHUP)? */
bool gh_edge_config_routes_changed(const struct gh_edge_config *a, const struct gh_edge_config *b);

/* Wipe the secrets. */
void gh_edge_config_cleanup(struct gh_edge_config *cfg);

/* Print the option reference (Markdown). Errors: GH_ERR_IO. */
GH_NODISCARD gh_err gh_edge_config_print_doc(FILE *f);

#endif
