/* The hub's TLS server certificate: explicit files from the config, or
 * issued on first start from a CA the operator gives (tls.ca_cert/ca_key)
 * and kept in the data directory; re-issued when it is within 30 days of
 * expiry or no longer names the configured host. */
#include "hub/server_cert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/log.h"
#include "pki/pki_server.h"

#define RENEW_BEFORE_S (30 * 24 * 3600)

gh_err gh_hub_server_cert(const struct gh_hub_config *cfg, char *cert_path, char *key_path,
                          size_t path_cap, char *errbuf, size_t errlen)
{
    if (cfg->tls_cert[0]) {
        snprintf(cert_path, path_cap, "%s", cfg->tls_cert);
        snprintf(key_path, path_cap, "%s", cfg->tls_key);
        return GH_OK;
    }
    int n1 = snprintf(cert_path, path_cap, "%s/tls/server.chain.pem", cfg->data_dir);
    int n2 = snprintf(key_path, path_cap, "%s/tls/server.key.pem", cfg->data_dir);
    GH_ENSURE(n1 > 0 && (size_t)n1 < path_cap && n2 > 0 && (size_t)n2 < path_cap, GH_ERR_TOO_LARGE);
    if (!cfg->tls_ca_cert[0]) {
        struct stat st;
        if (stat(cert_path, &st) == 0 && stat(key_path, &st) == 0) return GH_OK;
        snprintf(errbuf, errlen,
                 "no server certificate: set tls.cert and tls.key, or tls.ca_cert and "
                 "tls.ca_key so the hub can issue one for '%s' (e.g. from 'gatehouse pki "
                 "init-root')",
                 cfg->hostname);
        return GH_ERR_CONFIG_MISSING;
    }
    const char *dns[2] = {cfg->hostname, cfg->dps_hostname};
    struct gh_pki_server_cert_req req = {
        .ca_cert = cfg->tls_ca_cert,
        .ca_key = cfg->tls_ca_key,
        .ca_key_password_file = cfg->tls_ca_key_password_file,
        .dns = dns,
        .ndns = cfg->dps_enabled ? 2 : 1,
        .days = (unsigned)cfg->tls_server_cert_days,
        .renew_before_s = RENEW_BEFORE_S,
        .cert_path = cert_path,
        .key_path = key_path,
    };
    bool issued;
    gh_err rc = gh_pki_server_cert_ensure(&req, false, &issued, NULL, errbuf, errlen);
    return rc;
}
