/* Enrollment JSON: parse and format (PROTOCOL.md 4.6, 4.8). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "dps/dps.h"
#include "dps/dps_cert.h"
#include "hub/stamp.h"
#include "hub/twin.h"
#include "iothub/crypto.h"

void gh_dps_enrollment_cleanup(struct gh_dps_enrollment *e)
{
    if (e == NULL) return;
    for (size_t i = 0; i < 2; i++) free(e->cert_pem[i]);
    json_decref(e->initial_twin);
    gh_secure_zero(e, sizeof *e);
}

gh_err gh_dps_enrollment_copy(struct gh_dps_enrollment *dst, const struct gh_dps_enrollment *src)
{
    memcpy(dst, src, sizeof *dst);
    dst->cert_pem[0] = dst->cert_pem[1] = NULL;
    dst->initial_twin = NULL;
    for (size_t i = 0; i < 2; i++) {
        if (src->cert_pem[i] == NULL) continue;
        dst->cert_pem[i] = strdup(src->cert_pem[i]);
        if (dst->cert_pem[i] == NULL) goto nomem;
    }
    if (src->initial_twin != NULL) {
        dst->initial_twin = json_deep_copy(src->initial_twin);
        if (dst->initial_twin == NULL) goto nomem;
    }
    return GH_OK;
nomem:
    gh_dps_enrollment_cleanup(dst);
    return GH_ERR_NOMEM;
}

bool gh_dps_host_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > GH_DPS_HOST_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.';
        if (!ok) return false;
    }
    return true;
}

gh_err gh_dps_id_key(const char *id, char out[GH_DPS_ID_MAX + 1])
{
    GH_ENSURE(id != NULL && gh_iothub_valid_registration_id(gh_slice_cstr(id)), GH_ERR_ARG);
    size_t n = strlen(id);
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[n] = '\0';
    return GH_OK;
}

/* ---- parsing helpers ----------------------------------------------------- */

/* Optional member that must be of type `type` when present and not null.
 * *out is NULL when absent or null. */
static gh_err member(const json_t *obj, const char *name, json_type type, const json_t **out,
                     char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, name);
    *out = NULL;
    if (v == NULL || json_is_null(v)) return GH_OK;
    if (json_typeof(v) != type)
        return gh_err_say(err, errlen, GH_ERR_BAD_JSON, "member %s has the wrong JSON type", name);
    *out = v;
    return GH_OK;
}

/* Optional string member copied into out (cap bytes); "" when absent. */
static gh_err string_member(const json_t *obj, const char *name, char *out, size_t cap, char *err,
                            size_t errlen)
{
    const json_t *v;
    GH_GUARD(member(obj, name, JSON_STRING, &v, err, errlen));
    if (v == NULL) {
        out[0] = '\0';
        return GH_OK;
    }
    size_t n = json_string_length(v);
    if (n >= cap || memchr(json_string_value(v), '\0', n) != NULL)
        return gh_err_say(err, errlen, GH_ERR_ARG, "%s is too long or contains NUL", name);
    memcpy(out, json_string_value(v), n + 1);
    return GH_OK;
}

static gh_err bool_member(const json_t *obj, const char *name, bool def, bool *out, char *err,
                          size_t errlen)
{
    const json_t *v = json_object_get(obj, name);
    if (v == NULL || json_is_null(v)) {
        *out = def;
        return GH_OK;
    }
    if (!json_is_boolean(v))
        return gh_err_say(err, errlen, GH_ERR_BAD_JSON, "member %s must be a boolean", name);
    *out = json_is_true(v);
    return GH_OK;
}

static bool eq_nocase(const char *a, const char *b)
{
    return gh_slice_eq_nocase(gh_slice_cstr(a), gh_slice_cstr(b));
}

static gh_err parse_keys(const json_t *att, struct gh_dps_enrollment *e, char *err, size_t errlen)
{
    const json_t *sk;
    GH_GUARD(member(att, "symmetricKey", JSON_OBJECT, &sk, err, errlen));
    if (sk == NULL) return GH_OK;
    GH_GUARD(string_member(sk, "primaryKey", e->primary_key, sizeof e->primary_key, err, errlen));
    GH_GUARD(
        string_member(sk, "secondaryKey", e->secondary_key, sizeof e->secondary_key, err, errlen));
    if (e->primary_key[0] != '\0' && !gh_identity_key_valid(e->primary_key))
        return gh_err_say(err, errlen, GH_ERR_ARG, "primaryKey must be base64 of 16..64 bytes");
    if (e->secondary_key[0] != '\0' && !gh_identity_key_valid(e->secondary_key))
        return gh_err_say(err, errlen, GH_ERR_ARG, "secondaryKey must be base64 of 16..64 bytes");
    return GH_OK;
}

/* One {"certificate": text} entry, normalized to PEM into *pem. */
static gh_err parse_cert_entry(const json_t *pair, const char *which, bool want_ca, char **pem,
                               char *err, size_t errlen)
{
    const json_t *ent, *text;
    *pem = NULL;
    GH_GUARD(member(pair, which, JSON_OBJECT, &ent, err, errlen));
    if (ent == NULL) return GH_OK;
    GH_GUARD(member(ent, "certificate", JSON_STRING, &text, err, errlen));
    if (text == NULL)
        return gh_err_say(err, errlen, GH_ERR_ARG, "x509 %s needs its certificate text", which);
    size_t n = json_string_length(text);
    if (n > GH_DPS_CERT_TEXT_MAX)
        return gh_err_say(err, errlen, GH_ERR_TOO_LARGE, "x509 %s certificate is too large", which);
    gh_err rc = gh_dps_cert_normalize(json_string_value(text), n, want_ca, pem);
    if (rc == GH_ERR_NOMEM) return rc;
    if (rc == GH_ERR_NOT_CA)
        return gh_err_say(err, errlen, GH_ERR_ARG, "x509 %s signing certificate is not a CA",
                          which);
    if (rc != GH_OK)
        return gh_err_say(err, errlen, GH_ERR_ARG, "x509 %s certificate does not parse (%s)", which,
                          gh_err_str(rc));
    return GH_OK;
}

static gh_err parse_x509(const json_t *att, struct gh_dps_enrollment *e, char *err, size_t errlen)
{
    const json_t *x, *pair;
    GH_GUARD(member(att, "x509", JSON_OBJECT, &x, err, errlen));
    if (x == NULL)
        return gh_err_say(err, errlen, GH_ERR_ARG, "x509 attestation needs attestation.x509");
    const char *want = e->kind == GH_DPS_GROUP ? "signingCertificates" : "clientCertificates";
    const json_t *refs;
    GH_GUARD(member(x, "caReferences", JSON_OBJECT, &refs, err, errlen));
    GH_GUARD(member(x, want, JSON_OBJECT, &pair, err, errlen));
    if (pair == NULL && refs != NULL)
        return gh_err_say(err, errlen, GH_ERR_UNSUPPORTED,
                          "caReferences are not supported; give the CA as signingCertificates");
    if (pair == NULL) return gh_err_say(err, errlen, GH_ERR_ARG, "x509 attestation needs %s", want);
    bool ca = e->kind == GH_DPS_GROUP;
    GH_GUARD(parse_cert_entry(pair, "primary", ca, &e->cert_pem[0], err, errlen));
    if (e->cert_pem[0] == NULL)
        return gh_err_say(err, errlen, GH_ERR_ARG, "%s.primary is required", want);
    return parse_cert_entry(pair, "secondary", ca, &e->cert_pem[1], err, errlen);
}

static gh_err parse_attestation(const json_t *j, struct gh_dps_enrollment *e, char *err,
                                size_t errlen)
{
    const json_t *att;
    char type[32];
    GH_GUARD(member(j, "attestation", JSON_OBJECT, &att, err, errlen));
    if (att == NULL) return gh_err_say(err, errlen, GH_ERR_ARG, "attestation is required");
    GH_GUARD(string_member(att, "type", type, sizeof type, err, errlen));
    if (eq_nocase(type, "symmetricKey")) {
        e->attestation = GH_DPS_ATT_SYMMETRIC_KEY;
        return parse_keys(att, e, err, errlen);
    }
    if (eq_nocase(type, "x509")) {
        e->attestation = GH_DPS_ATT_X509;
        return parse_x509(att, e, err, errlen);
    }
    if (eq_nocase(type, "tpm"))
        return gh_err_say(err, errlen, GH_ERR_UNSUPPORTED, "TPM attestation is not supported");
    return gh_err_say(err, errlen, GH_ERR_ARG, "attestation.type must be symmetricKey or x509");
}

static gh_err parse_hubs(const json_t *j, struct gh_dps_enrollment *e, char *err, size_t errlen)
{
    GH_GUARD(string_member(j, "iotHubHostName", e->iot_hub_host_name, sizeof e->iot_hub_host_name,
                           err, errlen));
    if (e->iot_hub_host_name[0] != '\0' && !gh_dps_host_valid(e->iot_hub_host_name))
        return gh_err_say(err, errlen, GH_ERR_ARG, "iotHubHostName is not a host name");
    const json_t *hubs;
    GH_GUARD(member(j, "iotHubs", JSON_ARRAY, &hubs, err, errlen));
    if (hubs == NULL) return GH_OK;
    if (json_array_size(hubs) > GH_DPS_HUBS_MAX)
        return gh_err_say(err, errlen, GH_ERR_TOO_LARGE, "iotHubs has more than %d entries",
                          GH_DPS_HUBS_MAX);
    size_t i;
    const json_t *h;
    json_array_foreach(hubs, i, h)
    {
        if (!json_is_string(h))
            return gh_err_say(err, errlen, GH_ERR_BAD_JSON, "iotHubs entries must be strings");
        const char *t = json_string_value(h);
        if (json_string_length(h) != strlen(t) || !gh_dps_host_valid(t))
            return gh_err_say(err, errlen, GH_ERR_ARG, "iotHubs[%zu] is not a host name", i);
        memcpy(e->iot_hubs[i], t, strlen(t) + 1);
    }
    e->niot_hubs = json_array_size(hubs);
    return GH_OK;
}

static gh_err parse_alloc(const json_t *j, struct gh_dps_enrollment *e, char *err, size_t errlen)
{
    char p[32];
    GH_GUARD(string_member(j, "allocationPolicy", p, sizeof p, err, errlen));
    if (p[0] == '\0')
        e->allocation = GH_DPS_ALLOC_DEFAULT;
    else if (eq_nocase(p, "hashed"))
        e->allocation = GH_DPS_ALLOC_HASHED;
    else if (eq_nocase(p, "static"))
        e->allocation = GH_DPS_ALLOC_STATIC;
    else if (eq_nocase(p, "geoLatency") || eq_nocase(p, "custom"))
        return gh_err_say(err, errlen, GH_ERR_UNSUPPORTED,
                          "allocationPolicy %s is not supported (use hashed or static)", p);
    else
        return gh_err_say(err, errlen, GH_ERR_ARG, "allocationPolicy must be hashed or static");
    return GH_OK;
}

static gh_err parse_twin(const json_t *j, struct gh_dps_enrollment *e, char *err, size_t errlen)
{
    const json_t *it, *tags, *props, *desired = NULL;
    GH_GUARD(member(j, "initialTwin", JSON_OBJECT, &it, err, errlen));
    if (it == NULL) return GH_OK;
    GH_GUARD(member(it, "tags", JSON_OBJECT, &tags, err, errlen));
    GH_GUARD(member(it, "properties", JSON_OBJECT, &props, err, errlen));
    if (props != NULL) GH_GUARD(member(props, "desired", JSON_OBJECT, &desired, err, errlen));
    json_t *t = json_object();
    json_t *tg = tags != NULL ? json_deep_copy(tags) : json_object();
    json_t *ds = desired != NULL ? json_deep_copy(desired) : json_object();
    json_t *pp = json_object();
    if (t == NULL || tg == NULL || ds == NULL || pp == NULL) {
        json_decref(t);
        json_decref(tg);
        json_decref(ds);
        json_decref(pp);
        return GH_ERR_NOMEM;
    }
    /* Read-only members of a fetched twin are not part of the initial state. */
    json_object_del(ds, "$version");
    json_object_del(ds, "$metadata");
    gh_err rc = GH_OK;
    if (json_object_set_new(pp, "desired", ds) != 0) rc = GH_ERR_NOMEM;
    if (json_object_set_new(t, "tags", tg) != 0) rc = GH_ERR_NOMEM;
    if (json_object_set_new(t, "properties", pp) != 0) rc = GH_ERR_NOMEM;
    char why[GH_TWIN_REASON_MAX] = "";
    if (rc == GH_OK) rc = gh_twin_check(tg, GH_TWIN_TAGS, false, why, sizeof why);
    if (rc == GH_OK) rc = gh_twin_check(ds, GH_TWIN_DESIRED, false, why, sizeof why);
    if (rc != GH_OK) {
        json_decref(t);
        if (rc == GH_ERR_NOMEM) return rc;
        return gh_err_say(err, errlen, rc, "initialTwin: %s", why);
    }
    e->initial_twin = t;
    return GH_OK;
}

static gh_err parse_status(const json_t *j, struct gh_dps_enrollment *e, char *err, size_t errlen)
{
    char st[16];
    GH_GUARD(string_member(j, "provisioningStatus", st, sizeof st, err, errlen));
    if (st[0] == '\0' || eq_nocase(st, "enabled"))
        e->enabled = true;
    else if (eq_nocase(st, "disabled"))
        e->enabled = false;
    else
        return gh_err_say(err, errlen, GH_ERR_ARG,
                          "provisioningStatus must be enabled or disabled");
    const json_t *rp;
    GH_GUARD(member(j, "reprovisionPolicy", JSON_OBJECT, &rp, err, errlen));
    e->update_hub_assignment = e->migrate_device_data = true;
    if (rp == NULL) return GH_OK;
    GH_GUARD(bool_member(rp, "updateHubAssignment", true, &e->update_hub_assignment, err, errlen));
    return bool_member(rp, "migrateDeviceData", true, &e->migrate_device_data, err, errlen);
}

static gh_err parse_etag(const json_t *j, struct gh_dps_enrollment *e, char *err, size_t errlen)
{
    char raw[GH_DPS_ETAG_MAX + 3];
    GH_GUARD(string_member(j, "etag", raw, sizeof raw, err, errlen));
    size_t n = strlen(raw);
    const char *p = raw;
    if (n >= 2 && raw[0] == '"' && raw[n - 1] == '"') {
        p = raw + 1;
        n -= 2;
    }
    if (n > GH_DPS_ETAG_MAX) return gh_err_say(err, errlen, GH_ERR_ARG, "etag is too long");
    memcpy(e->etag, p, n);
    e->etag[n] = '\0';
    return GH_OK;
}

static gh_err parse_all(const json_t *j, struct gh_dps_enrollment *e, char *err, size_t errlen)
{
    const char *idname = e->kind == GH_DPS_GROUP ? "enrollmentGroupId" : "registrationId";
    GH_GUARD(string_member(j, idname, e->id, sizeof e->id, err, errlen));
    if (!gh_iothub_valid_registration_id(gh_slice_cstr(e->id)))
        return gh_err_say(err, errlen, GH_ERR_ARG,
                          "%s must be 1..128 letters, digits, '-', '.', '_' or ':'", idname);
    if (e->kind == GH_DPS_INDIVIDUAL) {
        GH_GUARD(string_member(j, "deviceId", e->device_id, sizeof e->device_id, err, errlen));
        if (e->device_id[0] != '\0' && !gh_iothub_valid_device_id(gh_slice_cstr(e->device_id)))
            return gh_err_say(err, errlen, GH_ERR_ARG, "deviceId is not a valid device id");
    }
    GH_GUARD(parse_attestation(j, e, err, errlen));
    const json_t *caps;
    GH_GUARD(member(j, "capabilities", JSON_OBJECT, &caps, err, errlen));
    if (caps != NULL) GH_GUARD(bool_member(caps, "iotEdge", false, &e->iot_edge, err, errlen));
    GH_GUARD(parse_hubs(j, e, err, errlen));
    GH_GUARD(parse_alloc(j, e, err, errlen));
    GH_GUARD(parse_twin(j, e, err, errlen));
    GH_GUARD(parse_status(j, e, err, errlen));
    return parse_etag(j, e, err, errlen);
}

gh_err gh_dps_enrollment_from_json(const json_t *j, enum gh_dps_kind kind,
                                   struct gh_dps_enrollment *out, char *err, size_t errlen)
{
    if (errlen > 0) err[0] = '\0';
    if (!json_is_object(j))
        return gh_err_say(err, errlen, GH_ERR_BAD_JSON, "enrollment must be a JSON object");
    struct gh_dps_enrollment *e = calloc(1, sizeof *e);
    if (e == NULL) return GH_ERR_NOMEM;
    e->kind = kind;
    gh_err rc = parse_all(j, e, err, errlen);
    if (rc == GH_OK) {
        memcpy(out, e, sizeof *out);
        gh_secure_zero(e, sizeof *e);
    } else {
        gh_dps_enrollment_cleanup(e);
    }
    free(e);
    return rc;
}

/* ---- formatting ---------------------------------------------------------- */

static gh_err set(json_t *o, const char *k, json_t *v)
{
    return json_object_set_new(o, k, v) == 0 ? GH_OK : GH_ERR_NOMEM;
}

static gh_err cert_pair(const struct gh_dps_enrollment *e, json_t **out)
{
    json_t *pair = json_object();
    GH_ENSURE(pair != NULL, GH_ERR_NOMEM);
    static const char *const names[2] = {"primary", "secondary"};
    gh_err rc = GH_OK;
    for (size_t i = 0; i < 2 && rc == GH_OK; i++) {
        if (e->cert_pem[i] == NULL) continue;
        json_t *ent = NULL;
        rc = gh_dps_cert_entry_json(e->cert_pem[i], &ent);
        if (rc == GH_OK) rc = set(pair, names[i], ent);
    }
    if (rc != GH_OK) {
        json_decref(pair);
        return rc;
    }
    *out = pair;
    return GH_OK;
}

gh_err gh_dps_attestation_to_json(const struct gh_dps_enrollment *e, json_t **out)
{
    json_t *att = json_object();
    GH_ENSURE(att != NULL, GH_ERR_NOMEM);
    gh_err rc;
    if (e->attestation == GH_DPS_ATT_SYMMETRIC_KEY) {
        rc = set(att, "type", json_string("symmetricKey"));
        if (rc == GH_OK)
            rc = set(att, "symmetricKey",
                     json_pack("{s:s,s:s}", "primaryKey", e->primary_key, "secondaryKey",
                               e->secondary_key));
    } else {
        json_t *pair = NULL, *x = json_object();
        rc = x != NULL ? cert_pair(e, &pair) : GH_ERR_NOMEM;
        if (rc == GH_OK)
            rc = set(x, e->kind == GH_DPS_GROUP ? "signingCertificates" : "clientCertificates",
                     pair);
        if (rc == GH_OK) rc = set(att, "type", json_string("x509"));
        if (rc == GH_OK) {
            rc = set(att, "x509", x);
            x = NULL;
        }
        json_decref(x);
    }
    if (rc != GH_OK) {
        json_decref(att);
        return rc;
    }
    *out = att;
    return GH_OK;
}

static const char *alloc_name(enum gh_dps_alloc a)
{
    return a == GH_DPS_ALLOC_STATIC ? "static" : "hashed";
}

static gh_err build(const struct gh_dps_enrollment *e, json_t *o)
{
    char created[GH_HUB_TIME_LEN], updated[GH_HUB_TIME_LEN], etag[GH_DPS_ETAG_MAX + 3];
    gh_hub_time_format(e->created_ms, created);
    gh_hub_time_format(e->updated_ms, updated);
    snprintf(etag, sizeof etag, "\"%s\"", e->etag);
    json_t *att = NULL;
    if (e->kind == GH_DPS_GROUP) {
        GH_GUARD(set(o, "enrollmentGroupId", json_string(e->id)));
    } else {
        GH_GUARD(set(o, "registrationId", json_string(e->id)));
        if (e->device_id[0] != '\0') GH_GUARD(set(o, "deviceId", json_string(e->device_id)));
    }
    GH_GUARD(gh_dps_attestation_to_json(e, &att));
    GH_GUARD(set(o, "attestation", att));
    GH_GUARD(set(o, "capabilities", json_pack("{s:b}", "iotEdge", e->iot_edge)));
    if (e->iot_hub_host_name[0] != '\0')
        GH_GUARD(set(o, "iotHubHostName", json_string(e->iot_hub_host_name)));
    json_t *hubs = json_array();
    GH_GUARD(set(o, "iotHubs", hubs));
    for (size_t i = 0; i < e->niot_hubs; i++)
        GH_ENSURE(json_array_append_new(hubs, json_string(e->iot_hubs[i])) == 0, GH_ERR_NOMEM);
    GH_GUARD(set(o, "allocationPolicy",
                 json_string(e->allocation == GH_DPS_ALLOC_DEFAULT && e->iot_hub_host_name[0]
                                 ? "static"
                                 : alloc_name(e->allocation))));
    if (e->initial_twin != NULL) GH_GUARD(set(o, "initialTwin", json_deep_copy(e->initial_twin)));
    GH_GUARD(set(o, "provisioningStatus", json_string(e->enabled ? "enabled" : "disabled")));
    GH_GUARD(set(o, "reprovisionPolicy",
                 json_pack("{s:b,s:b}", "updateHubAssignment", e->update_hub_assignment,
                           "migrateDeviceData", e->migrate_device_data)));
    if (e->etag[0] != '\0') GH_GUARD(set(o, "etag", json_string(etag)));
    GH_GUARD(set(o, "createdDateTimeUtc", json_string(created)));
    return set(o, "lastUpdatedDateTimeUtc", json_string(updated));
}

gh_err gh_dps_enrollment_to_json(const struct gh_dps_enrollment *e, json_t **out)
{
    json_t *o = json_object();
    GH_ENSURE(o != NULL, GH_ERR_NOMEM);
    gh_err rc = build(e, o);
    if (rc != GH_OK) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return GH_OK;
}
