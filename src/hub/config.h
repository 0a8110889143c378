/* gatehouse hub configuration: one option table (config.c) is the single
 * source of truth for names, types, bounds, defaults and docs
 * (docs/hub-config.md is generated from it and tested against it). */
#ifndef GH_HUB_CONFIG_H
#define GH_HUB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/error.h"
#include "config/toml.h"

#define GH_HUB_PATH_MAX 1024
#define GH_HUB_HOST_MAX 254
#define GH_HUB_ADDR_MAX 64
/* [[dps.linked_hubs]]: most entries, and the bounds of their fields. */
#define GH_HUB_LINKED_MAX 16
#define GH_HUB_CONNSTR_MAX 1024
#define GH_HUB_POLICY_MAX 64
#define GH_HUB_KEY_MAX 128

/* One linked hub of the provisioning service (a separate `gatehouse hub`
 * reached over its service REST API). Holds a policy key: wiped by
 * gh_hub_config_wipe. */
struct gh_hub_linked_hub {
    char host_name[GH_HUB_HOST_MAX]; /* HostName of the connection string */
    char policy[GH_HUB_POLICY_MAX];  /* SharedAccessKeyName */
    char key[GH_HUB_KEY_MAX];        /* SharedAccessKey (base64), secret */
    char address[GH_HUB_ADDR_MAX];   /* IP literal to dial; "" = resolve host_name */
    int64_t port;                    /* HTTPS port */
    char ca[GH_HUB_PATH_MAX];        /* trust bundle; "" = the hub's default */
    unsigned line, col;              /* where the entry starts in the file */
};

struct gh_hub_config {
    char hostname[GH_HUB_HOST_MAX];
    char data_dir[GH_HUB_PATH_MAX];
    int log_level; /* enum gh_log_level: index into the values of log.level */

    char listen_address[GH_HUB_ADDR_MAX];
    int64_t mqtt_port;
    int64_t https_port;

    /* Server certificate: either explicit cert/key files, or a CA the hub
     * issues its own certificate from on first start (kept in data_dir). */
    char tls_cert[GH_HUB_PATH_MAX];
    char tls_key[GH_HUB_PATH_MAX];
    char tls_ca_cert[GH_HUB_PATH_MAX];
    char tls_ca_key[GH_HUB_PATH_MAX];
    char tls_ca_key_password_file[GH_HUB_PATH_MAX];
    int64_t tls_server_cert_days;

    int64_t max_connections;
    int64_t max_message_size;
    int64_t max_connect_size;
    int64_t max_pending_connects;
    int64_t handshake_timeout; /* seconds */
    int64_t sas_skew;          /* seconds */
    int64_t keepalive_max;     /* seconds: clients asking 0 or more get this */

    int64_t telemetry_max_age;   /* seconds */
    int64_t telemetry_max_bytes; /* bytes */
    int64_t c2d_default_ttl;     /* seconds */

    /* The embedded provisioning service (DPS), selected by SNI. */
    bool dps_enabled;
    char dps_hostname[GH_HUB_HOST_MAX];
    char dps_id_scope[64];
    /* Serve only the provisioning service (needs linked hubs). */
    bool dps_standalone;
    /* Linked hubs: when there are any, they are the only assignment
     * targets, and assignment runs on the provisioning worker thread. */
    struct gh_hub_linked_hub dps_linked[GH_HUB_LINKED_MAX];
    size_t dps_nlinked;
    int64_t dps_linked_timeout; /* seconds, per request to a linked hub */
    int64_t dps_assign_queue;   /* assignments waiting for the worker */
};

/* Fill *cfg from the TOML file at path (NULL: defaults only). Linked hub
 * entries are checked here, with their file:line: a valid service
 * connection string, an IP literal address, no HostName twice, none equal
 * to hostname or dps.hostname.
 * Errors: GH_ERR_NOENT / GH_ERR_PERM / GH_ERR_IO (file), GH_ERR_CONFIG_*
 * (err says file:line:column and what), GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_hub_config_load(const char *path, struct gh_hub_config *cfg,
                                       struct gh_toml_error *err);

/* As gh_hub_config_load, from len bytes of text (name is used in errors).
 * Errors: those of gh_toml_parse, GH_ERR_CONFIG_*, GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_hub_config_load_text(const char *text, size_t len, const char *name,
                                            struct gh_hub_config *cfg, struct gh_toml_error *err);

/* Wipe the secrets a loaded config holds (linked hub keys). */
void gh_hub_config_wipe(struct gh_hub_config *cfg);

/* Checks across options that the table cannot express (host name has a dot,
 * cert/key given together, ...). errbuf gets a one-line reason.
 * Errors: GH_ERR_CONFIG_VALUE, GH_ERR_CONFIG_MISSING. */
GH_NODISCARD gh_err gh_hub_config_validate(const struct gh_hub_config *cfg, char *errbuf,
                                           size_t errlen);

/* Print the option reference (Markdown). Errors: GH_ERR_IO. */
GH_NODISCARD gh_err gh_hub_config_print_doc(FILE *f);

#endif
