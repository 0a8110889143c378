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
#include "pki/pki.h"
#include "pki/pki_cert.h"
#include "pki/pki_key.h"
#include "pki/pki_store.h"

#define RENEW_BEFORE_S (30 * 24 * 3600)

static bool names(X509 *cert, const char *host)
{
    return X509_check_host(cert, host, strlen(host), 0, NULL) == 1;
}

static bool current(const char *cert_path, const struct gh_hub_config *cfg, time_t now)
{
    struct gh_pki_certs certs = {0};
    struct gh_pki_diag d = {{0}};
    bool ok = false;
    if (gh_pki_certs_load(&certs, cert_path, &d) != GH_OK || certs.n == 0) goto out;
    time_t nb, na;
    if (gh_pki_cert_validity(certs.v[0], &nb, &na) != GH_OK) goto out;
    if (na - now < RENEW_BEFORE_S) goto out;
    ok = names(certs.v[0], cfg->hostname) &&
         (!cfg->dps_enabled || names(certs.v[0], cfg->dps_hostname));
out:
    gh_pki_certs_cleanup(&certs);
    return ok;
}

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
    time_t now = time(NULL);
    struct stat st;
    if (stat(cert_path, &st) == 0 && stat(key_path, &st) == 0 && current(cert_path, cfg, now))
        return GH_OK;
    if (!cfg->tls_ca_cert[0]) {
        snprintf(errbuf, errlen,
                 "no server certificate: set tls.cert and tls.key, or tls.ca_cert and "
                 "tls.ca_key so the hub can issue one for '%s' (e.g. from 'gatehouse pki "
                 "init-root')",
                 cfg->hostname);
        return GH_ERR_CONFIG_MISSING;
    }

    gh_err rc;
    struct gh_pki_diag d = {{0}};
    struct gh_pki_secret pw = {0};
    struct gh_pki_certs ca = {0}, chain = {0};
    struct gh_pki_key *ca_key = NULL, *key = NULL;
    EVP_PKEY *pub = NULL;
    X509 *leaf = NULL;
    char *chain_pem = NULL, *key_pem = NULL;
    size_t chain_len = 0, key_len = 0;

    if (cfg->tls_ca_key_password_file[0] &&
        (rc = gh_pki_password_file(cfg->tls_ca_key_password_file, &pw, &d)) != GH_OK)
        goto out;
    if ((rc = gh_pki_certs_load(&ca, cfg->tls_ca_cert, &d)) != GH_OK) goto out;
    if ((rc = gh_pki_key_load(cfg->tls_ca_key, &pw, &ca_key, &d)) != GH_OK) goto out;
    if ((rc = gh_pki_key_generate(GH_PKI_KEY_TYPE_DEFAULT, &key)) != GH_OK) goto out;
    if ((rc = gh_pki_key_public(key, &pub)) != GH_OK) goto out;
    struct gh_pki_issue_req req;
    gh_pki_issue_req_init(&req, GH_PKI_PROFILE_SERVER);
    const char *dns[2] = {cfg->hostname, cfg->dps_hostname};
    req.cn = cfg->hostname;
    req.dns = dns;
    req.ndns = cfg->dps_enabled ? 2 : 1;
    req.validity.unit = GH_PKI_PERIOD_DAYS;
    req.validity.count = (unsigned)cfg->tls_server_cert_days;
    struct gh_pki_issuer issuer = {.cert = ca.v[0], .key = ca_key};
    struct gh_pki_issued info;
    if ((rc = gh_pki_issue(&req, &issuer, pub, &leaf, &info, &d)) != GH_OK) goto out;
    if ((rc = gh_pki_chain_build(leaf, ca.v[0], &ca, &chain)) != GH_OK) goto out;
    if ((rc = gh_pki_certs_pem(&chain, &chain_pem, &chain_len)) != GH_OK) goto out;
    if ((rc = gh_pki_key_to_pem(key, NULL, &key_pem, &key_len)) != GH_OK) goto out;
    struct gh_pki_output outs[2] = {
        {.path = key_path, .data = key_pem, .len = key_len, .secret = true, .replace = true},
        {.path = cert_path, .data = chain_pem, .len = chain_len, .replace = true},
    };
    if ((rc = gh_pki_outputs_write(outs, 2, &d)) != GH_OK) goto out;
    gh_log_info("hub.tls.issued", "host=%s cert=%s days=%lld clamped=%d", cfg->hostname, cert_path,
                (long long)cfg->tls_server_cert_days, info.clamped);
out:
    if (rc != GH_OK)
        snprintf(errbuf, errlen, "issuing the server certificate from %s failed: %s",
                 cfg->tls_ca_cert, d.msg[0] ? d.msg : gh_err_str(rc));
    gh_pki_secret_cleanup(&pw);
    gh_pki_certs_cleanup(&ca);
    gh_pki_certs_cleanup(&chain);
    gh_pki_key_free(ca_key);
    gh_pki_key_free(key);
    EVP_PKEY_free(pub);
    X509_free(leaf);
    free(chain_pem);
    if (key_pem) gh_pki_wipe_free(key_pem, key_len);
    return rc;
}
