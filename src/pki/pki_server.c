/* A daemon's server certificate issued from an operator's CA (pki_server.h). */
#include "pki/pki_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "common/log.h"
#include "pki/pki.h"
#include "pki/pki_cert.h"
#include "pki/pki_key.h"
#include "pki/pki_store.h"

/* Does the chain at path start with a certificate that names every host
 * and has more than renew_before left? */
static bool current(const struct gh_pki_server_cert_req *r, time_t now, int64_t *not_after)
{
    struct gh_pki_certs certs = {0};
    struct gh_pki_diag d = {{0}};
    bool ok = false;
    struct stat st;
    if (stat(r->key_path, &st) != 0) return false;
    if (gh_pki_certs_load(&certs, r->cert_path, &d) != GH_OK || certs.n == 0) goto out;
    time_t nb, na;
    if (gh_pki_cert_validity(certs.v[0], &nb, &na) != GH_OK) goto out;
    if (not_after) *not_after = (int64_t)na;
    if ((int64_t)(na - now) < r->renew_before_s) goto out;
    ok = true;
    for (size_t i = 0; i < r->ndns && ok; i++)
        ok = X509_check_host(certs.v[0], r->dns[i], strlen(r->dns[i]), 0, NULL) == 1;
out:
    gh_pki_certs_cleanup(&certs);
    return ok;
}

gh_err gh_pki_server_cert_ensure(const struct gh_pki_server_cert_req *r, bool force, bool *issued,
                                 int64_t *not_after, char *errbuf, size_t errlen)
{
    *issued = false;
    if (!force && current(r, time(NULL), not_after)) return GH_OK;

    gh_err rc;
    struct gh_pki_diag d = {{0}};
    struct gh_pki_secret pw = {0};
    struct gh_pki_certs ca = {0}, chain = {0};
    struct gh_pki_key *ca_key = NULL, *key = NULL;
    EVP_PKEY *pub = NULL;
    X509 *leaf = NULL;
    char *chain_pem = NULL, *key_pem = NULL;
    size_t chain_len = 0, key_len = 0;

    if (r->ca_key_password_file && r->ca_key_password_file[0] &&
        (rc = gh_pki_password_file(r->ca_key_password_file, &pw, &d)) != GH_OK)
        goto out;
    if ((rc = gh_pki_certs_load(&ca, r->ca_cert, &d)) != GH_OK) goto out;
    if ((rc = gh_pki_key_load(r->ca_key, &pw, &ca_key, &d)) != GH_OK) goto out;
    if ((rc = gh_pki_key_generate(GH_PKI_KEY_TYPE_DEFAULT, &key)) != GH_OK) goto out;
    if ((rc = gh_pki_key_public(key, &pub)) != GH_OK) goto out;
    struct gh_pki_issue_req req;
    gh_pki_issue_req_init(&req, GH_PKI_PROFILE_SERVER);
    req.cn = r->dns[0];
    req.dns = (const char **)r->dns;
    req.ndns = r->ndns;
    req.validity.unit = GH_PKI_PERIOD_DAYS;
    req.validity.count = r->days;
    struct gh_pki_issuer issuer = {.cert = ca.v[0], .key = ca_key};
    struct gh_pki_issued info;
    if ((rc = gh_pki_issue(&req, &issuer, pub, &leaf, &info, &d)) != GH_OK) goto out;
    if ((rc = gh_pki_chain_build(leaf, ca.v[0], &ca, &chain)) != GH_OK) goto out;
    if ((rc = gh_pki_certs_pem(&chain, &chain_pem, &chain_len)) != GH_OK) goto out;
    if ((rc = gh_pki_key_to_pem(key, NULL, &key_pem, &key_len)) != GH_OK) goto out;
    struct gh_pki_output outs[2] = {
        {.path = r->key_path, .data = key_pem, .len = key_len, .secret = true, .replace = true},
        {.path = r->cert_path, .data = chain_pem, .len = chain_len, .replace = true},
    };
    if ((rc = gh_pki_outputs_write(outs, 2, &d)) != GH_OK) goto out;
    time_t nb, na;
    if (not_after && gh_pki_cert_validity(leaf, &nb, &na) == GH_OK) *not_after = (int64_t)na;
    *issued = true;
    gh_log_info("pki.server.issued", "host=%s cert=%s days=%u clamped=%d", r->dns[0], r->cert_path,
                r->days, info.clamped);
out:
    if (rc != GH_OK)
        snprintf(errbuf, errlen, "issuing the server certificate from %s failed: %s", r->ca_cert,
                 d.msg[0] ? d.msg : gh_err_str(rc));
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
