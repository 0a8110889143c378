/* gatehouse edge configuration: the option table and loading config.toml.
 * Cross-option checks live in config_validate.c. */
#include "edge/config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/options.h"
#include "edge/config_internal.h"
#include "mqttc/mqttc.h"

#define F(m) GH_OPTION_FIELD(struct gh_edge_config, m)

/* Same order as enum gh_log_level. */
static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
/* Same order as the enums in config.h. */
static const char *const sources[] = {"dps", "manual", NULL};
static const char *const attest_methods[] = {"symmetric_key", "x509", NULL};
static const char *const auth_methods[] = {"sas", "x509", NULL};
static const char *const reprov_modes[] = {"Dynamic", "AlwaysOnStartup", "OnErrorOnly", NULL};

static gh_err key_ref_map(void *config, const char *path, const char *key,
                          const struct gh_toml_value *value, struct gh_toml_error *err);
static gh_err hosts_map(void *config, const char *path, const char *key,
                        const struct gh_toml_value *value, struct gh_toml_error *err);
static gh_err ignore_map(void *config, const char *path, const char *key,
                         const struct gh_toml_value *value, struct gh_toml_error *err);

static const struct gh_option options[] = {
    /* ---- IoT Edge keys ---- */
    {.name = "hostname",
     .type = GH_OPT_STRING,
     .min = 1,
     .required = true,
     .doc = "host name children dial (their GatewayHostName); the gateway's server certificate "
            "is issued for it; at most 64 bytes to fit a certificate CN",
     F(hostname)},
    {.name = "trust_bundle_cert",
     .type = GH_OPT_STRING,
     .reloadable = true,
     .doc = "PEM bundle of trusted roots: verifies the hub's and DPS's servers and children's "
            "X.509 certificates (append tenant CAs here); file:// URI or path; unset = the "
            "system trust store upstream and no X.509 children",
     F(trust_bundle_cert)},
    {.name = "edge_ca.cert",
     .type = GH_OPT_STRING,
     .min = 1,
     .required = true,
     .reloadable = true,
     .doc = "edge CA certificate (PEM) the gateway issues its server certificate from; file:// "
            "URI or path (pkcs11: URIs are refused)",
     F(edge_ca_cert)},
    {.name = "edge_ca.pk",
     .type = GH_OPT_STRING,
     .min = 1,
     .required = true,
     .reloadable = true,
     .doc = "private key of edge_ca.cert (PEM); file:// URI or path",
     F(edge_ca_pk)},
    {.name = "auto_reprovisioning_mode",
     .type = GH_OPT_ENUM,
     .default_text = "Dynamic",
     .values = reprov_modes,
     .doc = "when to provision again through DPS: Dynamic (when the hub refuses the identity), "
            "AlwaysOnStartup, OnErrorOnly; the last result is kept in identity.json",
     F(reprovisioning)},
    {.name = "provisioning.source",
     .type = GH_OPT_ENUM,
     .required = true,
     .values = sources,
     .doc = "dps: provision through the provisioning service; manual: a fixed hub identity",
     F(prov_source)},
    {.name = "provisioning.global_endpoint",
     .type = GH_OPT_STRING,
     .doc = "dps: https:// URL of the provisioning service (gatehouse hub's dps.hostname)",
     F(global_endpoint)},
    {.name = "provisioning.id_scope",
     .type = GH_OPT_STRING,
     .doc = "dps: ID scope of the provisioning service",
     F(id_scope)},
    {.name = "provisioning.attestation.method",
     .type = GH_OPT_ENUM,
     .default_text = "symmetric_key",
     .values = attest_methods,
     .doc = "dps: symmetric_key (individual key or a group-derived key) or x509 "
            "(identity_cert/identity_pk)",
     F(attest_method)},
    {.name = "provisioning.attestation.registration_id",
     .type = GH_OPT_STRING,
     .doc = "dps: registration id of the enrollment (for x509, the certificate's CN)",
     F(registration_id)},
    {.name = "provisioning.attestation.symmetric_key",
     .type = GH_OPT_TABLE_MAP,
     .map = key_ref_map,
     .doc = "dps symmetric_key: { value = \"<base64>\" } (unpadded accepted) or { uri = "
            "\"file:///path\" } (file holds the base64 text or the raw key bytes); inline table "
            "or [provisioning.attestation.symmetric_key] sub-table",
     .offset = 0,
     .size = 0},
    {.name = "provisioning.attestation.identity_cert",
     .type = GH_OPT_STRING,
     .doc = "dps x509: device certificate chain (PEM, leaf first); file:// URI or path",
     F(identity_cert)},
    {.name = "provisioning.attestation.identity_pk",
     .type = GH_OPT_STRING,
     .doc = "dps x509: private key of identity_cert (PEM); file:// URI or path",
     F(identity_pk)},
    {.name = "provisioning.connection_string",
     .type = GH_OPT_STRING,
     .secret = true,
     .doc = "manual: device connection string HostName=..;DeviceId=..;SharedAccessKey=.. "
            "(instead of iothub_hostname, device_id and [provisioning.authentication])",
     F(connection_string)},
    {.name = "provisioning.iothub_hostname",
     .type = GH_OPT_STRING,
     .doc = "manual: host name of the hub",
     F(iothub_hostname)},
    {.name = "provisioning.device_id",
     .type = GH_OPT_STRING,
     .doc = "manual: the gateway's device id (an IoT Edge device in the hub)",
     F(device_id)},
    {.name = "provisioning.authentication.method",
     .type = GH_OPT_ENUM,
     .default_text = "sas",
     .values = auth_methods,
     .doc = "manual: sas (device_id_pk) or x509 (identity_cert/identity_pk)",
     F(attest_method)},
    {.name = "provisioning.authentication.device_id_pk",
     .type = GH_OPT_TABLE_MAP,
     .map = key_ref_map,
     .doc = "manual sas: the device's key, { value = \"<base64>\" } or { uri = \"file:///path\" "
            "}",
     .offset = 0,
     .size = 0},
    {.name = "provisioning.authentication.identity_cert",
     .type = GH_OPT_STRING,
     .doc = "manual x509: device certificate chain (PEM, leaf first); file:// URI or path",
     F(identity_cert)},
    {.name = "provisioning.authentication.identity_pk",
     .type = GH_OPT_STRING,
     .doc = "manual x509: private key of identity_cert (PEM); file:// URI or path",
     F(identity_pk)},
    {.name = "agent",
     .type = GH_OPT_TABLE_MAP,
     .map = ignore_map,
     .doc = "IoT Edge's edgeAgent bootstrap ([agent], [agent.config], [agent.env]): accepted "
            "for compatibility with existing files and ignored (gatehouse runs no modules)",
     .offset = 0,
     .size = 0},
    /* ---- gatehouse sections ---- */
    {.name = "storage.data_dir",
     .type = GH_OPT_STRING,
     .default_text = "",
     .doc = "directory for identity.json, the children cache, issued certificates, edge.pid and "
            "edge.log (created 0700); empty = the home directory; relative = below home",
     F(data_dir)},
    {.name = "log.level",
     .type = GH_OPT_ENUM,
     .default_text = "info",
     .reloadable = true,
     .values = log_levels,
     .doc = "least severe level logged",
     F(log_level)},
    {.name = "listen.address",
     .type = GH_OPT_STRING,
     .min = 1,
     .default_text = "0.0.0.0",
     .doc = "IPv4 or IPv6 address the children's MQTT listener binds",
     F(listen_address)},
    {.name = "listen.mqtt_port",
     .type = GH_OPT_INT,
     .min = 1,
     .max = 65535,
     .default_text = "8883",
     .doc = "MQTT over TLS port for children (the SDKs dial 8883)",
     F(mqtt_port)},
    {.name = "metrics.address",
     .type = GH_OPT_STRING,
     .min = 1,
     .default_text = "127.0.0.1",
     .doc = "address of the plain-HTTP metrics and status endpoint (GET /metrics, GET /status)",
     F(metrics_address)},
    {.name = "metrics.port",
     .type = GH_OPT_INT,
     .min = 0,
     .max = 65535,
     .default_text = "9600",
     .doc = "port of the metrics and status endpoint; 0 = off (then `gatehouse edge status` "
            "cannot ask the daemon)",
     F(metrics_port)},
    {.name = "upstream.mqtt_port",
     .type = GH_OPT_INT,
     .min = 1,
     .max = 65535,
     .default_text = "8883",
     .doc = "the hub's MQTT over TLS port",
     F(upstream_mqtt_port)},
    {.name = "upstream.https_port",
     .type = GH_OPT_INT,
     .min = 1,
     .max = 65535,
     .default_text = "443",
     .doc = "the hub's HTTPS port (identity sync of the children); DPS's port comes from "
            "provisioning.global_endpoint (default 443)",
     F(upstream_https_port)},
    {.name = "upstream.keepalive",
     .type = GH_OPT_DURATION,
     .min = 10,
     .max = 1767,
     .default_text = "60s",
     .doc = "MQTT keep-alive of the upstream link",
     F(upstream_keepalive)},
    {.name = "upstream.window",
     .type = GH_OPT_INT,
     .min = 1,
     .max = GH_MQTTC_WINDOW_MAX,
     .default_text = "1024",
     .doc = "QoS 1 messages in flight upstream at once",
     F(upstream_window)},
    {.name = "upstream.backoff_min",
     .type = GH_OPT_DURATION,
     .min = 1,
     .max = 3600,
     .default_text = "1s",
     .doc = "first reconnect delay; doubled (with jitter) after each failure",
     F(backoff_min_ms)},
    {.name = "upstream.backoff_max",
     .type = GH_OPT_DURATION,
     .min = 1,
     .max = 3600,
     .default_text = "60s",
     .doc = "longest reconnect delay",
     F(backoff_max_ms)},
    {.name = "limits.max_children",
     .type = GH_OPT_INT,
     .min = 1,
     .max = 100000,
     .default_text = "1000",
     .doc = "children connected at once",
     F(max_children)},
    {.name = "limits.max_message_size",
     .type = GH_OPT_SIZE,
     .min = 1024,
     .max = 1048576,
     .default_text = "256KiB",
     .doc = "largest child message (as the hub counts it); larger ones close the child",
     F(max_message_size)},
    {.name = "limits.max_connect_size",
     .type = GH_OPT_SIZE,
     .min = 64,
     .max = 65536,
     .default_text = "8KiB",
     .doc = "largest CONNECT packet accepted before authentication",
     F(max_connect_size)},
    {.name = "limits.handshake_timeout",
     .type = GH_OPT_DURATION,
     .min = 1,
     .max = 300,
     .default_text = "10s",
     .doc = "time allowed for a child's TLS handshake plus MQTT CONNECT",
     F(handshake_timeout)},
    {.name = "limits.keepalive_max",
     .type = GH_OPT_DURATION,
     .min = 10,
     .max = 1767,
     .default_text = "1767s",
     .doc = "keep-alive used when a child asks for 0 or more than this",
     F(keepalive_max)},
    {.name = "limits.sas_skew",
     .type = GH_OPT_DURATION,
     .min = 0,
     .max = 3600,
     .default_text = "5m",
     .doc = "children's SAS tokens are accepted until expiry + this skew",
     F(sas_skew)},
    {.name = "cache.sync_interval",
     .type = GH_OPT_DURATION,
     .min = 10,
     .max = 86400,
     .default_text = "5m",
     .doc = "time between full syncs of the children's identities from the hub",
     F(cache_sync_interval)},
    {.name = "cache.max_age",
     .type = GH_OPT_DURATION,
     .min = 0,
     .max = 315360000,
     .default_text = "0s",
     .doc = "offline authentication policy: children authenticate from the local cache while "
            "the hub is unreachable; after this long without a successful sync they are "
            "refused; 0 = always allowed (at least cache.sync_interval otherwise)",
     F(cache_max_age)},
    {.name = "tls.server_cert_days",
     .type = GH_OPT_INT,
     .min = 1,
     .max = 3650,
     .default_text = "90",
     .doc = "validity of the server certificate issued from the edge CA, in days (capped by the "
            "edge CA's own expiry)",
     F(server_cert_days)},
    {.name = "tls.renew_before",
     .type = GH_OPT_DURATION,
     .min = 60,
     .max = 315360000,
     .default_text = "7d",
     .doc = "the server certificate is renewed this long before it expires, without dropping "
            "connections; must be shorter than tls.server_cert_days",
     F(server_cert_renew)},
    {.name = "routes",
     .type = GH_OPT_TABLE_MAP,
     .map = gh_edge_routes_map,
     .reloadable = true,
     .doc = "name = \"FROM /messages/* [WHERE ...] INTO $upstream | LocalTopic(\\\"t\\\") | "
            "AppendFile(\\\"f\\\")\" or name = { route = \"...\", priority = 0..9, "
            "time_to_live = \"1d\" } (docs/routes.md); at most 32; none = every message "
            "upstream; reloaded with config apply",
     .offset = 0,
     .size = 0},
    {.name = "store_and_forward.time_to_live",
     .type = GH_OPT_DURATION,
     .min = 0,
     .max = 315360000,
     .default_text = "2h",
     .reloadable = true,
     .doc = "messages waiting for the hub longer than this expire (counted, never sent); a "
            "route's time_to_live overrides it; 0 = keep forever",
     F(saf_ttl)},
    {.name = "store_and_forward.max_size",
     .type = GH_OPT_SIZE,
     .min = 1048576,
     .max = INT64_C(1099511627776),
     .default_text = "1GiB",
     .doc = "disk space of the message queue; when it is full new QoS 1 messages are refused "
            "(the child gets no PUBACK and its connection is closed), acknowledged ones are "
            "never dropped",
     F(saf_max_bytes)},
    {.name = "local.address",
     .type = GH_OPT_STRING,
     .min = 1,
     .default_text = "127.0.0.1",
     .doc = "address of the plain MQTT endpoint where on-site consumers subscribe to "
            "LocalTopic route sinks (no authentication: keep it on loopback or a trusted "
            "network)",
     F(local_address)},
    {.name = "local.mqtt_port",
     .type = GH_OPT_INT,
     .min = 0,
     .max = 65535,
     .default_text = "0",
     .doc = "port of that endpoint (1883 is the usual MQTT port); 0 = off (the default)",
     F(local_port)},
    {.name = "hosts",
     .type = GH_OPT_TABLE_MAP,
     .map = hosts_map,
     .doc = "name = \"address\": dial this IPv4/IPv6 address for the hub, DPS or other host "
            "name (sites and tests without DNS); at most 32 entries",
     .offset = 0,
     .size = 0},
};

#define NOPTIONS (sizeof options / sizeof options[0])

/* Options holding file references, converted from file:// URIs. */
static const char *const path_options[] = {
    "trust_bundle_cert",
    "edge_ca.cert",
    "edge_ca.pk",
    "provisioning.attestation.identity_cert",
    "provisioning.attestation.identity_pk",
    "provisioning.authentication.identity_cert",
    "provisioning.authentication.identity_pk",
};

/* Key members: the two key tables (their "uri" is read after binding). */
static const char *const key_tables[] = {
    "provisioning.attestation.symmetric_key",
    "provisioning.authentication.device_id_pk",
};

/* ---- map callbacks ------------------------------------------------------ */

static gh_err key_ref_map(void *config, const char *path, const char *key,
                          const struct gh_toml_value *value, struct gh_toml_error *err)
{
    struct gh_edge_config *cfg = config;
    const char *s;
    size_t len;
    bool is_value = strcmp(key, "value") == 0;
    if (!is_value && strcmp(key, "uri") != 0) {
        gh_toml_error_at(err, gh_toml_key_pos(value),
                         "unknown key '%s' (a key is { value = \"<base64>\" } or { uri = "
                         "\"file:///path\" })",
                         path);
        return GH_ERR_CONFIG_KEY;
    }
    if (gh_toml_as_string(value, &s, &len) != GH_OK) {
        gh_toml_error_at(err, gh_toml_pos(value), "%s: expected string, got %s", path,
                         gh_toml_type_name(gh_toml_type(value)));
        return GH_ERR_CONFIG_VALUE;
    }
    /* Both forms: refused at the second one in file order. */
    const char *other = is_value ? "uri" : "value";
    for (const struct gh_toml_value *m = gh_toml_first(gh_toml_parent(value)); m && m != value;
         m = gh_toml_next(m)) {
        if (strcmp(gh_toml_key(m), other) != 0) continue;
        gh_toml_error_at(err, gh_toml_key_pos(value), "%s: give either value or uri, not both",
                         path);
        return GH_ERR_CONFIG_VALUE;
    }
    if (!is_value) return GH_OK; /* read in resolve_key_uri */
    gh_err rc = gh_edge_key_text_check(s, len);
    if (rc != GH_OK) {
        gh_toml_error_at(err, gh_toml_pos(value),
                         "%s: expected a base64 key of at most %d characters", path,
                         GH_EDGE_KEY_MAX);
        return GH_ERR_CONFIG_VALUE;
    }
    memcpy(cfg->symmetric_key, s, len);
    cfg->symmetric_key[len] = '\0';
    return GH_OK;
}

static gh_err hosts_map(void *config, const char *path, const char *key,
                        const struct gh_toml_value *value, struct gh_toml_error *err)
{
    struct gh_edge_config *cfg = config;
    const char *s;
    size_t len;
    if (!gh_edge_hostname_valid(key)) {
        gh_toml_error_at(err, gh_toml_key_pos(value),
                         "%s: not a valid host name (letters, digits, '-' and '.', at most %d "
                         "bytes)",
                         path, GH_EDGE_HOST_MAX - 1);
        return GH_ERR_CONFIG_VALUE;
    }
    if (gh_toml_as_string(value, &s, &len) != GH_OK) {
        gh_toml_error_at(err, gh_toml_pos(value), "%s: expected string, got %s", path,
                         gh_toml_type_name(gh_toml_type(value)));
        return GH_ERR_CONFIG_VALUE;
    }
    if (len >= GH_EDGE_ADDR_MAX || !gh_edge_ip_literal(s)) {
        gh_toml_error_at(err, gh_toml_pos(value),
                         "%s: expected an IPv4 or IPv6 address (e.g. \"127.0.0.1\")", path);
        return GH_ERR_CONFIG_VALUE;
    }
    for (size_t i = 0; i < cfg->nhosts; i++) {
        if (strcasecmp(cfg->hosts[i].name, key) == 0) {
            gh_toml_error_at(err, gh_toml_key_pos(value),
                             "%s: host name given twice (names are case-insensitive)", path);
            return GH_ERR_CONFIG_VALUE;
        }
    }
    if (cfg->nhosts >= GH_EDGE_HOSTS_MAX) {
        gh_toml_error_at(err, gh_toml_key_pos(value), "%s: more than %d [hosts] entries", path,
                         GH_EDGE_HOSTS_MAX);
        return GH_ERR_CONFIG_VALUE;
    }
    struct gh_edge_host *h = &cfg->hosts[cfg->nhosts++];
    snprintf(h->name, sizeof h->name, "%s", key);
    memcpy(h->address, s, len + 1);
    return GH_OK;
}

static gh_err ignore_map(void *config, const char *path, const char *key,
                         const struct gh_toml_value *value, struct gh_toml_error *err)
{
    (void)config, (void)path, (void)key, (void)value, (void)err;
    return GH_OK;
}

/* ---- after binding ----------------------------------------------------- */

static char *field_of(struct gh_edge_config *cfg, const char *name, size_t *size)
{
    const struct gh_option *o = gh_options_find(options, NOPTIONS, name);
    *size = o->size;
    return (char *)cfg + o->offset;
}

/* Sections that belong to the other provisioning source are refused where
 * they are written, so a leftover from a template cannot silently apply. */
static gh_err check_source_keys(const struct gh_edge_config *cfg, const struct gh_toml_value *root,
                                struct gh_toml_error *err)
{
    static const char *const dps_only[] = {"provisioning.global_endpoint", "provisioning.id_scope",
                                           "provisioning.attestation"};
    static const char *const manual_only[] = {
        "provisioning.connection_string", "provisioning.iothub_hostname", "provisioning.device_id",
        "provisioning.authentication"};
    bool dps = cfg->prov_source == GH_EDGE_PROV_DPS;
    const char *const *list = dps ? manual_only : dps_only;
    size_t n = dps ? sizeof manual_only / sizeof *manual_only : sizeof dps_only / sizeof *dps_only;
    for (size_t i = 0; i < n; i++) {
        const struct gh_toml_value *v = gh_toml_get(root, list[i]);
        if (!v) continue;
        gh_toml_error_at(err, gh_toml_key_pos(v),
                         "'%s' is for provisioning.source = \"%s\", but source is \"%s\"", list[i],
                         dps ? "manual" : "dps", dps ? "dps" : "manual");
        return GH_ERR_CONFIG_VALUE;
    }
    return GH_OK;
}

static gh_err resolve_paths(struct gh_edge_config *cfg, const struct gh_toml_value *root,
                            const char *dir, struct gh_toml_error *err)
{
    for (size_t i = 0; i < sizeof path_options / sizeof *path_options; i++) {
        const struct gh_toml_value *v = gh_toml_get(root, path_options[i]);
        if (!v) continue;
        size_t size;
        char *f = field_of(cfg, path_options[i], &size);
        char out[GH_EDGE_PATH_MAX];
        const char *why = NULL;
        gh_err rc = gh_edge_uri_to_path(f, dir, out, sizeof out, &why);
        if (rc != GH_OK) {
            gh_toml_error_at(err, gh_toml_pos(v), "%s: %s", path_options[i], why);
            return rc;
        }
        snprintf(f, size, "%s", out);
    }
    return GH_OK;
}

static gh_err resolve_key_uri(struct gh_edge_config *cfg, const struct gh_toml_value *root,
                              const char *dir, struct gh_toml_error *err)
{
    for (size_t i = 0; i < sizeof key_tables / sizeof *key_tables; i++) {
        const struct gh_toml_value *t = gh_toml_get(root, key_tables[i]);
        const struct gh_toml_value *v = gh_toml_child(t, "uri", 3);
        if (!t) continue;
        if (!v && !gh_toml_child(t, "value", 5)) {
            gh_toml_error_at(err, gh_toml_key_pos(t),
                             "%s: expected { value = \"<base64>\" } or "
                             "{ uri = \"file:///path\" }",
                             key_tables[i]);
            return GH_ERR_CONFIG_MISSING;
        }
        if (!v) continue;
        const char *uri = NULL;
        if (gh_toml_as_string(v, &uri, NULL) != GH_OK) return GH_ERR_INTERNAL; /* map checked */
        char path[GH_EDGE_PATH_MAX];
        const char *why = NULL;
        gh_err rc = gh_edge_uri_to_path(uri, dir, path, sizeof path, &why);
        if (rc == GH_OK)
            rc = gh_edge_read_key_file(path, cfg->symmetric_key, sizeof cfg->symmetric_key, &why);
        if (rc != GH_OK) {
            gh_toml_error_at(err, gh_toml_pos(v), "%s.uri: %s", key_tables[i], why);
            return rc;
        }
    }
    return GH_OK;
}

static gh_err resolve_data_dir(struct gh_edge_config *cfg, const char *home,
                               const struct gh_toml_value *root, struct gh_toml_error *err)
{
    char out[GH_EDGE_PATH_MAX];
    int n;
    if (cfg->data_dir[0] == '\0')
        n = snprintf(out, sizeof out, "%s", home);
    else if (cfg->data_dir[0] == '/')
        n = snprintf(out, sizeof out, "%s", cfg->data_dir);
    else
        n = snprintf(out, sizeof out, "%s/%s", home, cfg->data_dir);
    if (n < 0 || (size_t)n >= sizeof out) {
        gh_toml_error_at(err, gh_toml_pos(gh_toml_get(root, "storage.data_dir")),
                         "storage.data_dir: path below home '%s' is too long", home);
        return GH_ERR_CONFIG_VALUE;
    }
    memcpy(cfg->data_dir, out, (size_t)n + 1);
    return GH_OK;
}

static gh_err post_process(struct gh_edge_config *cfg, const char *path, const char *home,
                           const struct gh_toml_value *root, struct gh_toml_error *err)
{
    char dir[GH_EDGE_PATH_MAX];
    gh_err rc = gh_edge_config_dir(path, dir, sizeof dir);
    if (rc != GH_OK) {
        gh_toml_error_at(err, (struct gh_toml_pos){0, 0}, "cannot resolve the directory of %s",
                         path);
        return rc;
    }
    GH_GUARD(check_source_keys(cfg, root, err));
    GH_GUARD(resolve_paths(cfg, root, dir, err));
    GH_GUARD(resolve_key_uri(cfg, root, dir, err));
    GH_GUARD(gh_edge_connstr_split(cfg, root, err));
    GH_GUARD(resolve_data_dir(cfg, home, root, err));
    cfg->backoff_min_ms *= 1000;
    cfg->backoff_max_ms *= 1000;
    return GH_OK;
}

/* ---- public ------------------------------------------------------------ */

const char *gh_edge_home(const char *dir)
{
    if (dir && *dir) return dir;
    const char *env = getenv(GH_EDGE_HOME_ENV);
    if (env && *env) return env;
    return GH_EDGE_HOME_DEFAULT;
}

gh_err gh_edge_config_load(const char *path, const char *home, struct gh_edge_config *cfg,
                           struct gh_toml_error *err)
{
    struct gh_toml_error local;
    if (!err) err = &local;
    struct gh_toml_doc *doc = NULL;
    memset(cfg, 0, sizeof *cfg);
    gh_err rc = gh_toml_parse_file(path, &doc, err);
    if (rc != GH_OK) return rc;
    rc = gh_options_apply(options, NOPTIONS, cfg, doc, err);
    if (rc == GH_OK) rc = post_process(cfg, path, gh_edge_home(home), gh_toml_root(doc), err);
    gh_toml_free(doc);
    if (rc != GH_OK) gh_edge_config_cleanup(cfg);
    return rc;
}

const char *gh_edge_config_resolve(const struct gh_edge_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nhosts; i++)
        if (strcasecmp(cfg->hosts[i].name, name) == 0) return cfg->hosts[i].address;
    return name;
}

const char *gh_edge_config_changed(const struct gh_edge_config *old_cfg,
                                   const struct gh_edge_config *new_cfg)
{
    const struct gh_option *o = gh_options_changed(options, NOPTIONS, old_cfg, new_cfg);
    if (o) return o->name;
    if (strcmp(old_cfg->symmetric_key, new_cfg->symmetric_key) != 0)
        return old_cfg->prov_source == GH_EDGE_PROV_DPS ? key_tables[0] : key_tables[1];
    if (old_cfg->nhosts != new_cfg->nhosts) return "hosts";
    /* [routes] is reloadable: not compared here. */
    for (size_t i = 0; i < old_cfg->nhosts; i++)
        if (strcmp(old_cfg->hosts[i].name, new_cfg->hosts[i].name) != 0 ||
            strcmp(old_cfg->hosts[i].address, new_cfg->hosts[i].address) != 0)
            return "hosts";
    return NULL;
}

void gh_edge_config_cleanup(struct gh_edge_config *cfg)
{
    gh_options_cleanup(options, NOPTIONS, cfg);
    gh_edge_wipe(cfg->symmetric_key, sizeof cfg->symmetric_key);
    gh_edge_wipe(cfg->connection_string, sizeof cfg->connection_string);
}

gh_err gh_edge_config_print_doc(FILE *f)
{
    return gh_options_print_markdown(options, NOPTIONS, f);
}
