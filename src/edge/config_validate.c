/* Cross-option checks of the edge configuration (gh_edge_config_validate). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "edge/config.h"
#include "edge/config_internal.h"

__attribute__((format(printf, 4, 5))) static gh_err fail(gh_err rc, char *errbuf, size_t errlen,
                                                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (errbuf && errlen) vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
    return rc;
}

#define MISSING(...) fail(GH_ERR_CONFIG_MISSING, errbuf, errlen, __VA_ARGS__)
#define BAD(...) fail(GH_ERR_CONFIG_VALUE, errbuf, errlen, __VA_ARGS__)

/* "https://" followed by a host name and optionally :port and a path. */
static bool endpoint_ok(const char *url)
{
    if (strncasecmp(url, "https://", 8) != 0) return false;
    const char *host = url + 8;
    size_t n = strcspn(host, ":/");
    if (n == 0 || n >= GH_EDGE_HOST_MAX) return false;
    char name[GH_EDGE_HOST_MAX];
    memcpy(name, host, n);
    name[n] = '\0';
    if (!gh_edge_hostname_valid(name)) return false;
    const char *rest = host + n;
    if (*rest == ':') {
        unsigned port = 0;
        size_t digits = 0;
        for (rest++; *rest >= '0' && *rest <= '9' && digits < 6; rest++, digits++)
            port = port * 10 + (unsigned)(*rest - '0');
        if (digits == 0 || port == 0 || port > 65535) return false;
    }
    return *rest == '\0' || *rest == '/';
}

static gh_err validate_dps(const struct gh_edge_config *cfg, char *errbuf, size_t errlen)
{
    if (cfg->global_endpoint[0] == '\0')
        return MISSING("provisioning.global_endpoint is required with source = \"dps\" (e.g. "
                       "\"https://dps.example.test\")");
    if (!endpoint_ok(cfg->global_endpoint))
        return BAD("provisioning.global_endpoint '%s' must be https://host[:port][/]",
                   cfg->global_endpoint);
    if (cfg->id_scope[0] == '\0')
        return MISSING("provisioning.id_scope is required with source = \"dps\" (the "
                       "provisioning service's ID scope)");
    if (strpbrk(cfg->id_scope, "/?#&= "))
        return BAD("provisioning.id_scope '%s' must not contain / ? # & = or spaces",
                   cfg->id_scope);
    if (cfg->registration_id[0] == '\0')
        return MISSING("provisioning.attestation.registration_id is required with source = "
                       "\"dps\" (the enrollment's registration id)");
    if (strpbrk(cfg->registration_id, "/?#&= "))
        return BAD("provisioning.attestation.registration_id '%s' must not contain / ? # & = or "
                   "spaces",
                   cfg->registration_id);
    if (cfg->attest_method == GH_EDGE_ATTEST_SYMMETRIC_KEY) {
        if (cfg->symmetric_key[0] == '\0')
            return MISSING("provisioning.attestation.symmetric_key is required with method = "
                           "\"symmetric_key\": symmetric_key = { value = \"<base64>\" }");
        if (cfg->identity_cert[0] || cfg->identity_pk[0])
            return BAD("provisioning.attestation.identity_cert/identity_pk are for method = "
                       "\"x509\"");
    } else {
        if (cfg->identity_cert[0] == '\0' || cfg->identity_pk[0] == '\0')
            return MISSING("provisioning.attestation.identity_cert and identity_pk are required "
                           "with method = \"x509\"");
        if (cfg->symmetric_key[0])
            return BAD("provisioning.attestation.symmetric_key is for method = "
                       "\"symmetric_key\"");
    }
    return GH_OK;
}

static gh_err validate_manual(const struct gh_edge_config *cfg, char *errbuf, size_t errlen)
{
    if (cfg->iothub_hostname[0] == '\0')
        return MISSING("source = \"manual\" needs provisioning.connection_string, or "
                       "provisioning.iothub_hostname + device_id + [provisioning.authentication]");
    if (!gh_edge_hostname_valid(cfg->iothub_hostname) || !strchr(cfg->iothub_hostname, '.'))
        return BAD("provisioning.iothub_hostname '%s' must be a host name with a dot",
                   cfg->iothub_hostname);
    if (cfg->device_id[0] == '\0')
        return MISSING("provisioning.device_id is required with source = \"manual\"");
    if (cfg->attest_method == GH_EDGE_ATTEST_SYMMETRIC_KEY) {
        if (cfg->symmetric_key[0] == '\0')
            return MISSING("provisioning.authentication.device_id_pk is required with method = "
                           "\"sas\": device_id_pk = { value = \"<base64>\" }");
        if (cfg->identity_cert[0] || cfg->identity_pk[0])
            return BAD("provisioning.authentication.identity_cert/identity_pk are for method = "
                       "\"x509\"");
    } else {
        if (cfg->identity_cert[0] == '\0' || cfg->identity_pk[0] == '\0')
            return MISSING("provisioning.authentication.identity_cert and identity_pk are "
                           "required with method = \"x509\"");
        if (cfg->symmetric_key[0])
            return BAD("provisioning.authentication.device_id_pk is for method = \"sas\"");
    }
    return GH_OK;
}

gh_err gh_edge_config_validate(const struct gh_edge_config *cfg, char *errbuf, size_t errlen)
{
    if (!gh_edge_hostname_valid(cfg->hostname))
        return BAD("hostname '%s' is not a valid host name (letters, digits, '-', '.')",
                   cfg->hostname);
    if (cfg->edge_ca_cert[0] == '\0' || cfg->edge_ca_pk[0] == '\0')
        return MISSING("edge_ca.cert and edge_ca.pk are required: the gateway issues its server "
                       "certificate from this CA (gatehouse pki can make one)");
    if (!gh_edge_ip_literal(cfg->listen_address))
        return BAD("listen.address '%s' must be an IPv4 or IPv6 address", cfg->listen_address);
    if (!gh_edge_ip_literal(cfg->metrics_address))
        return BAD("metrics.address '%s' must be an IPv4 or IPv6 address", cfg->metrics_address);
    if (cfg->metrics_port != 0 && cfg->metrics_port == cfg->mqtt_port &&
        strcmp(cfg->metrics_address, cfg->listen_address) == 0)
        return BAD("metrics.port and listen.mqtt_port are both %lld", (long long)cfg->mqtt_port);
    if (cfg->backoff_min_ms > cfg->backoff_max_ms)
        return BAD("upstream.backoff_min is larger than upstream.backoff_max");
    if (cfg->cache_max_age != 0 && cfg->cache_max_age < cfg->cache_sync_interval)
        return BAD("cache.max_age (%llds) is shorter than cache.sync_interval (%llds): children "
                   "would be refused between syncs",
                   (long long)cfg->cache_max_age, (long long)cfg->cache_sync_interval);
    if (cfg->server_cert_renew >= cfg->server_cert_days * 86400)
        return BAD("tls.renew_before must be shorter than tls.server_cert_days");
    if (cfg->prov_source == GH_EDGE_PROV_DPS) return validate_dps(cfg, errbuf, errlen);
    return validate_manual(cfg, errbuf, errlen);
}
