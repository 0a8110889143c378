/* Authorization of service requests: shared access policy tokens
 * (PROTOCOL.md 2.3, 2.6, 5.1), and an IoT Edge device's own credentials on
 * its device-scope requests (6.10). */
#include <stdlib.h>
#include <string.h>

#include "common/encoding.h"
#include "hub/auth.h"
#include "hub/rest_int.h"
#include "iothub/crypto.h"
#include "iothub/sas.h"

#define SAS_PREFIX "SharedAccessSignature "

/* Does the token's audience cover this request? The hub host alone; the
 * host followed by a segment-wise prefix of the request path; or, for a
 * request about an identity, a prefix of {host}/devices/{D}[/modules/{M}]. */
static bool audience_ok(const struct gh_hub_rest_auth_req *a, struct gh_slice sr)
{
    struct gh_slice host = gh_slice_cstr(a->host);
    if (gh_sas_audience_is_host(sr, host)) return true;
    if (a->device_id != NULL) {
        struct gh_slice mod = gh_slice_cstr(a->module_id ? a->module_id : "");
        if (gh_sas_audience_grants_device(sr, &host, 1, gh_slice_cstr(a->device_id),
                                          a->module_id ? &mod : NULL))
            return true;
    }
    uint8_t scratch[GH_SAS_AUDIENCE_SCRATCH(GH_SAS_AUDIENCE_MAX)];
    struct gh_writer w;
    gh_writer_init(&w, scratch, sizeof scratch);
    struct gh_sas_audience aud;
    if (gh_sas_audience_parse(sr, &w, &aud) != GH_OK) return false;
    if (!gh_sas_audience_segment_is(&aud, 0, host)) return false;
    if (aud.count - 1 > a->nresource) return false;
    for (size_t i = 1; i < aud.count; i++)
        if (!gh_sas_audience_segment_is(&aud, i, gh_slice_cstr(a->resource[i - 1]))) return false;
    return true;
}

/* The percent-decoded policy name into out (GH_POLICY_NAME_MAX + 1 bytes);
 * false when it does not fit (then no policy can have it). */
static bool policy_name(struct gh_slice skn, char *out)
{
    struct gh_writer w;
    gh_writer_init(&w, out, GH_POLICY_NAME_MAX + 1);
    return gh_pct_decode((const char *)skn.ptr, skn.len, &w) == GH_OK &&
           gh_writer_terminate(&w) == GH_OK && strlen(out) == w.len;
}

gh_err gh_hub_rest_authorize(struct gh_store *s, const struct gh_hub_rest_auth_req *a,
                             const char **why)
{
    if (a->authorization == NULL) {
        *why = "no Authorization header";
        return GH_ERR_AUTH;
    }
    struct gh_slice text = gh_slice_cstr(a->authorization);
    if (!gh_slice_starts_with(text, SAS_PREFIX)) {
        *why = "not a shared access signature";
        return GH_ERR_AUTH;
    }
    struct gh_sas_token t;
    struct gh_policy pol;
    memset(&pol, 0, sizeof pol);
    char name[GH_POLICY_NAME_MAX + 1];
    gh_err rc = gh_sas_parse(text, &t);
    if (rc != GH_OK) {
        *why = rc == GH_ERR_TOO_LARGE ? "token too long" : "malformed token";
        return rc;
    }
    if (t.skn.len == 0) {
        *why = "token names no shared access policy (skn)";
        rc = GH_ERR_AUTH;
        goto out;
    }
    if (!audience_ok(a, t.sr)) {
        *why = "token audience does not cover this resource";
        rc = GH_ERR_AUTH;
        goto out;
    }
    if (!policy_name(t.skn, name)) {
        *why = "unknown shared access policy";
        rc = GH_ERR_AUTH;
        goto out;
    }
    rc = gh_store_policy_get(s, name, &pol);
    if (rc == GH_ERR_NOT_FOUND) {
        *why = "unknown shared access policy";
        rc = GH_ERR_AUTH;
        goto out;
    }
    if (rc != GH_OK) {
        *why = "store error";
        goto out;
    }
    struct gh_slice keys[2] = {gh_slice_cstr(pol.primary_key), gh_slice_cstr(pol.secondary_key)};
    rc = gh_sas_verify(&t, keys, 2, NULL);
    if (rc == GH_ERR_AUTH) {
        *why = "signature does not verify";
        goto out;
    }
    if (rc == GH_ERR_BAD_BASE64 || rc == GH_ERR_TOO_LARGE) {
        *why = "stored policy key does not decode";
        rc = GH_ERR_INTERNAL;
        goto out;
    }
    if (rc != GH_OK) {
        *why = "signature check failed";
        goto out;
    }
    rc = gh_sas_check_expiry(&t, a->now_s, a->skew_s);
    if (rc != GH_OK) {
        *why = "token expired";
        goto out;
    }
    if ((pol.rights & a->rights) != a->rights) {
        *why = "policy lacks the permission this operation needs";
        rc = GH_ERR_FORBIDDEN;
        goto out;
    }
out:
    gh_policy_wipe(&pol);
    gh_secure_zero(&t, sizeof t);
    return rc;
}

/* ---- an Edge device's own credentials (6.10) -------------------------------- */

#define EDGEHUB_MODULE "$edgeHub"

/* Audience forms an Edge device may sign for its scope requests. */
enum edge_audience { AUD_NONE, AUD_DEVICE, AUD_EDGEHUB };

/* Exactly {host}/devices/{edge} or {host}/devices/{edge}/modules/$edgeHub
 * (no shorter prefix: such a token would grant other devices). */
static enum edge_audience edge_audience(struct gh_slice sr, const char *host, const char *edge)
{
    uint8_t scratch[GH_SAS_AUDIENCE_SCRATCH(GH_SAS_AUDIENCE_MAX)];
    struct gh_writer w;
    gh_writer_init(&w, scratch, sizeof scratch);
    struct gh_sas_audience aud;
    if (gh_sas_audience_parse(sr, &w, &aud) != GH_OK) return AUD_NONE;
    if (aud.count != 3 && aud.count != 5) return AUD_NONE;
    if (!gh_sas_audience_segment_is(&aud, 0, gh_slice_cstr(host)) ||
        !gh_sas_audience_segment_is(&aud, 1, gh_slice_cstr("devices")) ||
        !gh_sas_audience_segment_is(&aud, 2, gh_slice_cstr(edge)))
        return AUD_NONE;
    if (aud.count == 3) return AUD_DEVICE;
    if (!gh_sas_audience_segment_is(&aud, 3, gh_slice_cstr("modules")) ||
        !gh_sas_audience_segment_is(&aud, 4, gh_slice_cstr(EDGEHUB_MODULE)))
        return AUD_NONE;
    return AUD_EDGEHUB;
}

/* Check a token without skn against the Edge device's keys, and for the
 * $edgeHub audience also its $edgeHub module's keys. */
static gh_err edge_sas(struct gh_store *s, const struct gh_hub_rest_auth_req *a,
                       const struct gh_identity *edge, const struct gh_sas_token *t,
                       const char **why)
{
    enum edge_audience aud = edge_audience(t->sr, a->host, a->device_id);
    if (aud == AUD_NONE) {
        *why = "token audience is not the Edge device or its $edgeHub module";
        return GH_ERR_AUTH;
    }
    gh_err rc = GH_ERR_AUTH;
    if (edge->auth_type == GH_AUTH_SAS) {
        struct gh_slice keys[2] = {gh_slice_cstr(edge->primary_key),
                                   gh_slice_cstr(edge->secondary_key)};
        rc = gh_sas_verify(t, keys, 2, NULL);
    }
    if (rc == GH_ERR_AUTH && aud == AUD_EDGEHUB) {
        struct gh_identity *m = calloc(1, sizeof *m);
        if (m == NULL) return GH_ERR_NOMEM;
        rc = gh_store_identity_get(s, a->device_id, EDGEHUB_MODULE, m);
        if (rc == GH_ERR_NOT_FOUND) {
            rc = GH_ERR_AUTH;
        } else if (rc == GH_OK) {
            struct gh_slice keys[2] = {gh_slice_cstr(m->primary_key),
                                       gh_slice_cstr(m->secondary_key)};
            rc = m->auth_type == GH_AUTH_SAS ? gh_sas_verify(t, keys, 2, NULL) : GH_ERR_AUTH;
        } else {
            *why = "store error";
        }
        gh_identity_wipe(m);
        free(m);
    }
    switch (rc) {
    case GH_OK:
        break;
    case GH_ERR_AUTH:
        *why = "signature does not verify with the Edge device's keys";
        return rc;
    case GH_ERR_BAD_BASE64:
    case GH_ERR_TOO_LARGE:
        *why = "stored identity key does not decode";
        return GH_ERR_INTERNAL;
    default:
        if (**why == '\0') *why = "signature check failed";
        return rc;
    }
    if (gh_sas_check_expiry(t, a->now_s, a->skew_s) != GH_OK) {
        *why = "token expired";
        return GH_ERR_EXPIRED;
    }
    return GH_OK;
}

/* The client certificate, decided exactly as an MQTT CONNECT. */
static gh_err edge_cert(struct gh_store *s, const struct gh_hub_rest_auth_req *a,
                        const struct gh_hub_rest_edge_cred *x, const char **why)
{
    struct gh_slice hosts[1] = {gh_slice_cstr(a->host)};
    struct gh_hub_credentials cred = {
        .device_id = a->device_id,
        .module_id = "",
        .password = GH_SLICE_EMPTY,
        .cert = x->cert,
        .chain = x->chain,
        .ca_store = x->ca_store,
        .hosts = hosts,
        .nhosts = 1,
        .now_s = a->now_s,
        .skew_s = a->skew_s,
    };
    struct gh_hub_auth res;
    gh_err rc = gh_hub_authenticate(s, &cred, &res);
    if (rc != GH_OK) {
        *why = "certificate check failed";
        return rc;
    }
    if (res.connack != 0) {
        *why = res.reason;
        return GH_ERR_AUTH;
    }
    return GH_OK;
}

gh_err gh_hub_rest_authorize_edge(struct gh_store *s, const struct gh_hub_rest_auth_req *a,
                                  const struct gh_hub_rest_edge_cred *x, const char **why)
{
    struct gh_sas_token t;
    bool have_token = false;
    gh_err rc;
    *why = "";
    if (a->authorization != NULL) {
        struct gh_slice text = gh_slice_cstr(a->authorization);
        /* Policy tokens, and anything that is not a token, take the
         * service path (which explains the refusal). */
        if (!gh_slice_starts_with(text, SAS_PREFIX) || gh_sas_parse(text, &t) != GH_OK)
            return gh_hub_rest_authorize(s, a, why);
        have_token = true;
        if (t.skn.len != 0) {
            gh_secure_zero(&t, sizeof t);
            return gh_hub_rest_authorize(s, a, why);
        }
    } else if (x == NULL || x->cert == NULL) {
        *why = "no Authorization header and no client certificate";
        return GH_ERR_AUTH;
    }
    struct gh_identity *edge = calloc(1, sizeof *edge);
    if (edge == NULL) {
        rc = GH_ERR_NOMEM;
        *why = "out of memory";
        goto out;
    }
    rc = a->device_id ? gh_store_identity_get(s, a->device_id, NULL, edge) : GH_ERR_NOT_FOUND;
    if (rc == GH_ERR_NOT_FOUND || rc == GH_ERR_ARG) {
        *why = "unknown device";
        rc = GH_ERR_AUTH;
        goto out;
    }
    if (rc != GH_OK) {
        *why = "store error";
        goto out;
    }
    if (!edge->iot_edge) {
        *why = "the device is not an IoT Edge device";
        rc = GH_ERR_AUTH;
    } else if (edge->status != GH_IDENTITY_ENABLED) {
        *why = "the device is disabled";
        rc = GH_ERR_AUTH;
    } else if (have_token) {
        rc = edge_sas(s, a, edge, &t, why);
    } else {
        rc = edge_cert(s, a, x, why);
    }
out:
    gh_identity_wipe(edge);
    free(edge);
    if (have_token) gh_secure_zero(&t, sizeof t);
    return rc;
}
