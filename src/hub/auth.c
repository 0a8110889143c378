#include "hub/auth.h"

#include <string.h>

#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "hub/store.h"
#include "iothub/crypto.h"
#include "iothub/sas.h"

static void refuse(struct gh_hub_auth *out, uint8_t code, const char *why)
{
    out->connack = code;
    out->reason = why;
}

static gh_err check_sas(struct gh_store *store, const struct gh_hub_credentials *c,
                        const struct gh_identity *id, struct gh_hub_auth *out)
{
    struct gh_sas_token t;
    struct gh_policy pol;
    gh_err rc = GH_OK;
    memset(&pol, 0, sizeof pol);
    if (gh_sas_parse(c->password, &t) != GH_OK) {
        refuse(out, 5, "malformed SAS token");
        goto out;
    }
    struct gh_slice dev = gh_slice_cstr(c->device_id);
    struct gh_slice mod = gh_slice_cstr(c->module_id);
    if (!gh_sas_audience_grants_device(t.sr, c->hosts, c->nhosts, dev,
                                       c->module_id[0] ? &mod : NULL)) {
        refuse(out, 5, "SAS audience does not name this identity on this hub");
        goto out;
    }
    struct gh_slice keys[2];
    if (t.skn.len == 0) {
        if (id->auth_type != GH_AUTH_SAS) {
            refuse(out, 5, "identity does not use SAS authentication");
            goto out;
        }
        keys[0] = gh_slice_cstr(id->primary_key);
        keys[1] = gh_slice_cstr(id->secondary_key);
    } else {
        char name[GH_POLICY_NAME_MAX + 1];
        if (gh_slice_to_cstr(t.skn, name, sizeof name) != GH_OK) {
            refuse(out, 5, "unknown shared access policy");
            goto out;
        }
        rc = store ? gh_store_policy_get(store, name, &pol) : GH_ERR_NOT_FOUND;
        if (rc == GH_ERR_NOT_FOUND) {
            rc = GH_OK;
            refuse(out, 5, "unknown shared access policy");
            goto out;
        }
        if (rc != GH_OK) goto out;
        if (!(pol.rights & GH_RIGHT_DEVICE_CONNECT)) {
            refuse(out, 5, "policy lacks DeviceConnect");
            goto out;
        }
        keys[0] = gh_slice_cstr(pol.primary_key);
        keys[1] = gh_slice_cstr(pol.secondary_key);
    }
    gh_err v = gh_sas_verify(&t, keys, 2, NULL);
    if (v == GH_ERR_CRYPTO) {
        rc = v;
        goto out;
    }
    if (v != GH_OK) {
        refuse(out, 5, "SAS signature does not match the identity's keys");
        goto out;
    }
    if (gh_sas_check_expiry(&t, c->now_s, c->skew_s) != GH_OK) {
        refuse(out, 5, "SAS token expired");
        goto out;
    }
    out->connack = 0;
    out->reason = t.skn.len ? "sas policy" : "sas";
    out->auth_type = "sas";
    out->expires_s = t.se;
out:
    gh_secure_zero(&t, sizeof t);
    gh_policy_wipe(&pol);
    return rc;
}

static gh_err cert_der(X509 *cert, uint8_t **der, int *len)
{
    *der = NULL;
    *len = i2d_X509(cert, der);
    GH_ENSURE(*len > 0, GH_ERR_CRYPTO);
    return GH_OK;
}

static gh_err check_thumbprint(const struct gh_hub_credentials *c, const struct gh_identity *id,
                               struct gh_hub_auth *out)
{
    uint8_t *der;
    int len;
    GH_GUARD(cert_der(c->cert, &der, &len));
    bool ok =
        (id->primary_thumbprint[0] &&
         gh_thumbprint_match(der, (size_t)len, gh_slice_cstr(id->primary_thumbprint)) == GH_OK) ||
        (id->secondary_thumbprint[0] &&
         gh_thumbprint_match(der, (size_t)len, gh_slice_cstr(id->secondary_thumbprint)) == GH_OK);
    OPENSSL_free(der);
    if (!ok) {
        refuse(out, 5, "certificate thumbprint does not match the identity");
        return GH_OK;
    }
    out->connack = 0;
    out->reason = "x509 thumbprint";
    out->auth_type = "x509Certificate";
    return GH_OK;
}

static gh_err check_ca(const struct gh_hub_credentials *c, struct gh_hub_auth *out)
{
    /* CN must equal the identity byte for byte (3.2). */
    char want[2 * GH_IDENTITY_ID_MAX + 2];
    if (c->module_id[0])
        snprintf(want, sizeof want, "%s/%s", c->device_id, c->module_id);
    else
        snprintf(want, sizeof want, "%s", c->device_id);
    X509_NAME *subj = X509_get_subject_name(c->cert);
    int idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
    if (idx < 0 || X509_NAME_get_index_by_NID(subj, NID_commonName, idx) >= 0) {
        refuse(out, 5, "certificate must have exactly one CN");
        return GH_OK;
    }
    ASN1_STRING *cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx));
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, cn);
    bool same = n >= 0 && (size_t)n == strlen(want) && memcmp(utf8, want, (size_t)n) == 0;
    OPENSSL_free(utf8);
    if (!same) {
        refuse(out, 5, "certificate CN is not the device id");
        return GH_OK;
    }
    if (!c->ca_store) {
        refuse(out, 5, c->ca_is_trust_bundle
                           ? "the gateway has no trust bundle for CA-signed children"
                           : "no verified CA certificate is registered with the hub");
        return GH_OK;
    }
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    GH_ENSURE(ctx, GH_ERR_NOMEM);
    if (X509_STORE_CTX_init(ctx, c->ca_store, c->cert, c->chain) != 1) {
        X509_STORE_CTX_free(ctx);
        return GH_ERR_CRYPTO;
    }
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
    /* A registered intermediate (a tenant CA) is a trust anchor by itself. */
    X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx), X509_V_FLAG_PARTIAL_CHAIN);
    int ok = X509_verify_cert(ctx);
    X509_STORE_CTX_free(ctx);
    if (ok != 1) {
        refuse(out, 5, c->ca_is_trust_bundle
                           ? "certificate does not chain to the gateway's trust bundle"
                           : "certificate does not chain to a verified CA registered with the hub");
        return GH_OK;
    }
    out->connack = 0;
    out->reason = "x509 CA";
    out->auth_type = "x509CA";
    return GH_OK;
}

gh_err gh_hub_authenticate_identity(struct gh_store *store, const struct gh_identity *id,
                                    const struct gh_hub_credentials *c, struct gh_hub_auth *out)
{
    gh_err rc = GH_OK;
    memset(out, 0, sizeof *out);
    out->connack = 5;
    out->reason = "no credentials";
    snprintf(out->generation_id, sizeof out->generation_id, "%s", id->generation_id);
    if (id->status == GH_IDENTITY_DISABLED) {
        refuse(out, 3, "identity disabled");
    } else if (c->password.len > 0) {
        rc = check_sas(store, c, id, out);
    } else if (c->cert) {
        if (id->auth_type == GH_AUTH_SELF_SIGNED)
            rc = check_thumbprint(c, id, out);
        else if (id->auth_type == GH_AUTH_CA)
            rc = check_ca(c, out);
        else
            refuse(out, 5, "identity does not use X.509 authentication");
    } else {
        refuse(out, 5, "no password and no client certificate");
    }
    return rc;
}

gh_err gh_hub_authenticate(struct gh_store *store, const struct gh_hub_credentials *c,
                           struct gh_hub_auth *out)
{
    struct gh_identity id;
    memset(out, 0, sizeof *out);
    gh_err rc = gh_store_identity_get(store, c->device_id, c->module_id, &id);
    if (rc == GH_ERR_NOT_FOUND) {
        out->connack = 5;
        out->reason = "unknown identity";
        return GH_OK;
    }
    if (rc != GH_OK) return rc;
    rc = gh_hub_authenticate_identity(store, &id, c, out);
    gh_identity_wipe(&id);
    return rc;
}
