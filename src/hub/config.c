#include "hub/config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "config/options.h"
#include "iothub/connstr.h"

#define F(m) GH_OPTION_FIELD(struct gh_hub_config, m)

/* Same order as enum gh_log_level. */
static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};

/* One [[dps.linked_hubs]] entry as written in the file. */
struct linked_raw {
    char connection_string[GH_HUB_CONNSTR_MAX];
    char address[GH_HUB_ADDR_MAX];
    int64_t port;
    char ca[GH_HUB_PATH_MAX];
};

#define L(m) GH_OPTION_FIELD(struct linked_raw, m)

static const struct gh_option linked_items[] = {
    {.name = "connection_string",
     .type = GH_OPT_STRING,
     .min = 1,
     .required = true,
     .secret = true,
     .doc = "service connection string of the linked hub (HostName=...;SharedAccessKeyName=...;"
            "SharedAccessKey=...), a policy with registry write and service connect rights "
            "(e.g. iothubowner); HostName is what devices are told to dial",
     L(connection_string)},
    {.name = "address",
     .type = GH_OPT_STRING,
     .doc = "IP address to dial instead of resolving HostName (TLS still checks HostName)",
     L(address)},
    {.name = "port",
     .type = GH_OPT_INT,
     .min = 1,
     .max = 65535,
     .default_text = "443",
     .doc = "HTTPS port of the linked hub's service API",
     L(port)},
    {.name = "ca",
     .type = GH_OPT_STRING,
     .doc = "PEM trust bundle for the linked hub's server certificate; default: tls.ca_cert "
            "when set, else the system's trust store",
     L(ca)},
};

static bool ip_literal(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static gh_err linked_each(void *config, const char *path, size_t index, const void *item,
                          const struct gh_toml_value *table, struct gh_toml_error *err)
{
    (void)index;
    struct gh_hub_config *cfg = config;
    const struct linked_raw *raw = item;
    struct gh_toml_pos pos = gh_toml_pos(table);
    struct gh_connstr cs;
    const char *why = "";
    if (gh_connstr_parse(gh_slice_cstr(raw->connection_string), &cs, &why) != GH_OK ||
        gh_connstr_check_service(&cs, &why) != GH_OK) {
        gh_toml_error_at(err, pos, "%s.connection_string: not a service connection string (%s)",
                         path, why);
        return GH_ERR_CONFIG_VALUE;
    }
    if (cfg->dps_nlinked == GH_HUB_LINKED_MAX) return GH_ERR_INTERNAL; /* the table bounds it */
    struct gh_hub_linked_hub *h = &cfg->dps_linked[cfg->dps_nlinked];
    memset(h, 0, sizeof *h);
    if (gh_slice_to_cstr(cs.host_name, h->host_name, sizeof h->host_name) != GH_OK ||
        gh_slice_to_cstr(cs.shared_access_key_name, h->policy, sizeof h->policy) != GH_OK ||
        gh_slice_to_cstr(cs.shared_access_key, h->key, sizeof h->key) != GH_OK) {
        explicit_bzero(h, sizeof *h);
        gh_toml_error_at(err, pos, "%s.connection_string: a field is too long", path);
        return GH_ERR_CONFIG_VALUE;
    }
    for (size_t i = 0; i < cfg->dps_nlinked; i++) {
        if (strcasecmp(cfg->dps_linked[i].host_name, h->host_name) == 0) {
            gh_toml_error_at(err, pos, "%s: HostName %s is already linked (line %u)", path,
                             h->host_name, cfg->dps_linked[i].line);
            explicit_bzero(h, sizeof *h);
            return GH_ERR_CONFIG_VALUE;
        }
    }
    if (raw->address[0] != '\0' && !ip_literal(raw->address)) {
        gh_toml_error_at(err, pos, "%s.address: '%s' is not an IPv4 or IPv6 address", path,
                         raw->address);
        explicit_bzero(h, sizeof *h);
        return GH_ERR_CONFIG_VALUE;
    }
    memcpy(h->address, raw->address, sizeof h->address);
    memcpy(h->ca, raw->ca, sizeof h->ca);
    h->port = raw->port;
    h->line = pos.line;
    h->col = pos.col;
    cfg->dps_nlinked++;
    return GH_OK;
}

static const struct gh_option options[] = {
    {.name = "hostname",
     .type = GH_OPT_STRING,
     .min = 3,
     .default_text = "hub.gatehouse.test",
     .doc = "host name devices dial; must contain a dot (SDKs split it at the first dot); the "
            "server certificate is issued for it",
     F(hostname)},
    {.name = "data_dir",
     .type = GH_OPT_STRING,
     .min = 1,
     .default_text = "/var/lib/gatehouse/hub",
     .doc = "directory for the SQLite database, the issued server certificate and the service "
            "connection string (created 0700)",
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
     .doc = "IPv4 or IPv6 address the MQTT and HTTPS listeners bind",
     F(listen_address)},
    {.name = "listen.mqtt_port",
     .type = GH_OPT_INT,
     .min = 0,
     .max = 65535,
     .default_text = "8883",
     .doc = "MQTT over TLS port (the SDKs dial 8883)",
     F(mqtt_port)},
    {.name = "listen.https_port",
     .type = GH_OPT_INT,
     .min = 0,
     .max = 65535,
     .default_text = "443",
     .doc = "HTTPS port of the service REST API (the SDKs dial 443)",
     F(https_port)},
    {.name = "tls.cert",
     .type = GH_OPT_STRING,
     .doc = "server certificate chain (PEM, leaf first); with tls.key, used instead of issuing one",
     F(tls_cert)},
    {.name = "tls.key", .type = GH_OPT_STRING, .doc = "private key of tls.cert (PEM)", F(tls_key)},
    {.name = "tls.ca_cert",
     .type = GH_OPT_STRING,
     .doc = "CA certificate the hub issues its own server certificate from when tls.cert is not "
            "set (e.g. from gatehouse pki init-root)",
     F(tls_ca_cert)},
    {.name = "tls.ca_key",
     .type = GH_OPT_STRING,
     .doc = "private key of tls.ca_cert (PEM)",
     F(tls_ca_key)},
    {.name = "tls.ca_key_password_file",
     .type = GH_OPT_STRING,
     .doc = "file holding the password of an encrypted tls.ca_key",
     F(tls_ca_key_password_file)},
    {.name = "tls.server_cert_days",
     .type = GH_OPT_INT,
     .min = 1,
     .max = 3650,
     .default_text = "365",
     .doc = "validity of an issued server certificate, in days",
     F(tls_server_cert_days)},
    {.name = "limits.max_connections",
     .type = GH_OPT_INT,
     .min = 1,
     .max = 1000000,
     .default_text = "20000",
     .doc = "device connections (MQTT) open at once",
     F(max_connections)},
    {.name = "limits.max_message_size",
     .type = GH_OPT_SIZE,
     .min = 1024,
     .max = 1048576,
     .default_text = "256KiB",
     .doc = "largest telemetry message: body + system property values + application property "
            "names and values (PROTOCOL.md 1.5 item 9); larger ones close the connection",
     F(max_message_size)},
    {.name = "limits.max_connect_size",
     .type = GH_OPT_SIZE,
     .min = 64,
     .max = 65536,
     .default_text = "8KiB",
     .doc = "largest CONNECT packet accepted before authentication",
     F(max_connect_size)},
    {.name = "limits.max_pending_handshakes",
     .type = GH_OPT_INT,
     .min = 1,
     .max = 100000,
     .default_text = "256",
     .doc = "TLS handshakes in progress at once per listener",
     F(max_pending_connects)},
    {.name = "limits.handshake_timeout",
     .type = GH_OPT_DURATION,
     .min = 1,
     .max = 300,
     .default_text = "10s",
     .doc = "time allowed for TLS handshake plus MQTT CONNECT",
     F(handshake_timeout)},
    {.name = "auth.sas_clock_skew",
     .type = GH_OPT_DURATION,
     .min = 0,
     .max = 3600,
     .default_text = "5m",
     .doc = "SAS tokens are accepted until expiry + this skew",
     F(sas_skew)},
    {.name = "mqtt.max_keepalive",
     .type = GH_OPT_DURATION,
     .min = 10,
     .max = 1767,
     .default_text = "1767s",
     .doc = "keep-alive used when a client asks for 0 or more than this (IoT Hub caps at 1767 s)",
     F(keepalive_max)},
    {.name = "telemetry.max_age",
     .type = GH_OPT_DURATION,
     .min = 60,
     .max = 315360000,
     .default_text = "7d",
     .reloadable = true,
     .doc = "telemetry older than this is deleted from the built-in endpoint",
     F(telemetry_max_age)},
    {.name = "telemetry.max_bytes",
     .type = GH_OPT_SIZE,
     .min = 1048576,
     .max = INT64_C(1099511627776),
     .default_text = "1GiB",
     .reloadable = true,
     .doc = "the built-in endpoint keeps at most this many bytes, deleting the oldest first",
     F(telemetry_max_bytes)},
    {.name = "c2d.default_ttl",
     .type = GH_OPT_DURATION,
     .min = 60,
     .max = 172800,
     .default_text = "1h",
     .doc = "time-to-live of cloud-to-device messages sent without one",
     F(c2d_default_ttl)},
    {.name = "dps.enabled",
     .type = GH_OPT_BOOL,
     .default_text = "true",
     .doc = "serve the embedded provisioning service (DPS) on the same ports, selected by the "
            "TLS server name (SNI) dps.hostname",
     F(dps_enabled)},
    {.name = "dps.hostname",
     .type = GH_OPT_STRING,
     .min = 3,
     .default_text = "dps.gatehouse.test",
     .doc = "host name devices use as the provisioning endpoint (global_endpoint, "
            "provisioningHost); must contain a dot and differ from hostname; the server "
            "certificate names it too",
     F(dps_hostname)},
    {.name = "dps.id_scope",
     .type = GH_OPT_STRING,
     .min = 1,
     .default_text = "0ne00000001",
     .doc = "ID scope of the provisioning service (in DPS user names, URLs and SAS audiences; "
            "compared case-insensitively)",
     F(dps_id_scope)},
    {.name = "dps.standalone",
     .type = GH_OPT_BOOL,
     .default_text = "false",
     .doc = "serve only the provisioning service: the hub's device (MQTT) and service (HTTPS) "
            "endpoints are refused; needs dps.linked_hubs",
     F(dps_standalone)},
    {.name = "dps.linked_hubs",
     .type = GH_OPT_TABLE_ARRAY,
     .min = 0,
     .max = GH_HUB_LINKED_MAX,
     .items = linked_items,
     .nitems = sizeof linked_items / sizeof linked_items[0],
     .item_size = sizeof(struct linked_raw),
     .each = linked_each,
     .doc = "hubs devices are assigned to, each a separate gatehouse hub reached over its service "
            "API ([[dps.linked_hubs]] sections); when any is given they are the only targets "
            "(not this hub)"},
    {.name = "dps.linked_timeout",
     .type = GH_OPT_DURATION,
     .min = 1,
     .max = 120,
     .default_text = "10s",
     .doc = "time allowed for one request to a linked hub (connect, TLS, answer)",
     F(dps_linked_timeout)},
    {.name = "dps.assign_queue",
     .type = GH_OPT_INT,
     .min = 1,
     .max = 65536,
     .default_text = "256",
     .doc = "registrations waiting for the assignment worker; more are refused with 429 "
            "(throttled)",
     F(dps_assign_queue)},
};

#define NOPTIONS (sizeof options / sizeof options[0])

/* Bind doc (NULL: defaults only) and check the linked hubs; frees doc. */
static gh_err load_doc(struct gh_toml_doc *doc, struct gh_hub_config *cfg,
                       struct gh_toml_error *err)
{
    gh_err rc = gh_options_apply(options, NOPTIONS, cfg, doc, err);
    gh_options_cleanup(options, NOPTIONS, cfg);
    /* Entries against the names this hub serves itself. */
    for (size_t i = 0; rc == GH_OK && i < cfg->dps_nlinked; i++) {
        const struct gh_hub_linked_hub *h = &cfg->dps_linked[i];
        if (strcasecmp(h->host_name, cfg->hostname) == 0 ||
            strcasecmp(h->host_name, cfg->dps_hostname) == 0) {
            gh_toml_error_at(err, (struct gh_toml_pos){h->line, h->col},
                             "dps.linked_hubs[%zu]: HostName %s is this hub's own name; the "
                             "embedded hub is not a linked hub",
                             i, h->host_name);
            rc = GH_ERR_CONFIG_VALUE;
        }
    }
    if (rc != GH_OK) gh_hub_config_wipe(cfg);
    gh_toml_free(doc);
    return rc;
}

gh_err gh_hub_config_load(const char *path, struct gh_hub_config *cfg, struct gh_toml_error *err)
{
    struct gh_toml_doc *doc = NULL;
    memset(cfg, 0, sizeof *cfg);
    if (path) {
        gh_err rc = gh_toml_parse_file(path, &doc, err);
        if (rc != GH_OK) return rc;
    }
    return load_doc(doc, cfg, err);
}

gh_err gh_hub_config_load_text(const char *text, size_t len, const char *name,
                               struct gh_hub_config *cfg, struct gh_toml_error *err)
{
    struct gh_toml_doc *doc = NULL;
    memset(cfg, 0, sizeof *cfg);
    gh_err rc = gh_toml_parse(text, len, name, &doc, err);
    if (rc != GH_OK) return rc;
    return load_doc(doc, cfg, err);
}

void gh_hub_config_wipe(struct gh_hub_config *cfg)
{
    explicit_bzero(cfg->dps_linked, sizeof cfg->dps_linked);
    cfg->dps_nlinked = 0;
}

gh_err gh_hub_config_validate(const struct gh_hub_config *cfg, char *errbuf, size_t errlen)
{
    if (!strchr(cfg->hostname, '.')) {
        snprintf(errbuf, errlen,
                 "hostname '%s' has no dot: the Azure IoT SDKs refuse such hub names; use e.g. "
                 "hub.example.test",
                 cfg->hostname);
        return GH_ERR_CONFIG_VALUE;
    }
    if ((cfg->tls_cert[0] != '\0') != (cfg->tls_key[0] != '\0')) {
        snprintf(errbuf, errlen, "tls.cert and tls.key must be given together");
        return GH_ERR_CONFIG_VALUE;
    }
    if ((cfg->tls_ca_cert[0] != '\0') != (cfg->tls_ca_key[0] != '\0')) {
        snprintf(errbuf, errlen, "tls.ca_cert and tls.ca_key must be given together");
        return GH_ERR_CONFIG_VALUE;
    }
    if (cfg->dps_enabled &&
        (!strchr(cfg->dps_hostname, '.') || strcasecmp(cfg->dps_hostname, cfg->hostname) == 0)) {
        snprintf(errbuf, errlen,
                 "dps.hostname '%s' must contain a dot and differ from hostname (the two are told "
                 "apart by the TLS server name)",
                 cfg->dps_hostname);
        return GH_ERR_CONFIG_VALUE;
    }
    if (strpbrk(cfg->dps_id_scope, "/?#&= ")) {
        snprintf(errbuf, errlen, "dps.id_scope '%s' must not contain / ? # & = or spaces",
                 cfg->dps_id_scope);
        return GH_ERR_CONFIG_VALUE;
    }
    if (cfg->dps_standalone && (!cfg->dps_enabled || cfg->dps_nlinked == 0)) {
        snprintf(errbuf, errlen,
                 "dps.standalone needs dps.enabled and at least one [[dps.linked_hubs]] entry "
                 "(a standalone provisioning service assigns devices to linked hubs only)");
        return GH_ERR_CONFIG_MISSING;
    }
    if (cfg->dps_nlinked > 0 && !cfg->dps_enabled) {
        snprintf(errbuf, errlen, "dps.linked_hubs is set but dps.enabled is false");
        return GH_ERR_CONFIG_VALUE;
    }
    if (cfg->mqtt_port != 0 && cfg->mqtt_port == cfg->https_port) {
        snprintf(errbuf, errlen, "listen.mqtt_port and listen.https_port are both %lld",
                 (long long)cfg->mqtt_port);
        return GH_ERR_CONFIG_VALUE;
    }
    return GH_OK;
}

gh_err gh_hub_config_print_doc(FILE *f)
{
    return gh_options_print_markdown(options, NOPTIONS, f);
}
