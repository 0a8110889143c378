/* Authorization of service requests: shared access policy tokens
 * (PROTOCOL.md 2.3, 2.6, 5.1). */
#include <string.h>

#include "common/encoding.h"
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
