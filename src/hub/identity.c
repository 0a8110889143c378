/* Identity JSON (PROTOCOL.md 5.2, 5.3): rendering and request parsing. */
#include "hub/identity.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "iothub/crypto.h"

void gh_identity_wipe(struct gh_identity *id)
{
    if (id != NULL) gh_secure_zero(id, sizeof *id);
}

const char *gh_auth_type_name(enum gh_auth_type t)
{
    switch (t) {
    case GH_AUTH_SAS:
        return "sas";
    case GH_AUTH_SELF_SIGNED:
        return "selfSigned";
    case GH_AUTH_CA:
        return "certificateAuthority";
    case GH_AUTH_NONE:
        return "none";
    }
    return "none";
}

const char *gh_identity_status_name(enum gh_identity_status s)
{
    return s == GH_IDENTITY_DISABLED ? "disabled" : "enabled";
}

bool gh_identity_key_valid(const char *s)
{
    uint8_t key[GH_SYMKEY_MAX];
    size_t n = 0;
    size_t len = strlen(s);
    if (len == 0 || len > GH_IDENTITY_KEY_MAX) return false;
    gh_err rc = gh_symkey_decode(gh_slice_cstr(s), key, &n);
    gh_secure_zero(key, sizeof key);
    return rc == GH_OK && n >= GH_IDENTITY_KEY_MIN_BYTES && n <= GH_IDENTITY_KEY_MAX_BYTES;
}

bool gh_identity_thumbprint_valid(const char *s)
{
    size_t n = strlen(s);
    if (n != 2 * GH_SHA1_LEN && n != 2 * GH_SHA256_LEN) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!hex) return false;
    }
    return true;
}

/* ---- rendering ---------------------------------------------------------- */

static json_t *str_or_null(const char *s)
{
    return s[0] != '\0' ? json_string(s) : json_null();
}

/* Set o[k] = v (stealing v); false when v is NULL or the set failed. */
static bool put(json_t *o, const char *k, json_t *v)
{
    return v != NULL && json_object_set_new(o, k, v) == 0;
}

static json_t *auth_json(const struct gh_identity *id)
{
    bool sas = id->auth_type == GH_AUTH_SAS;
    bool x509 = id->auth_type == GH_AUTH_SELF_SIGNED;
    json_t *a = json_object();
    json_t *sk = json_object();
    json_t *tp = json_object();
    bool ok = a != NULL && sk != NULL && tp != NULL;
    ok = ok && put(sk, "primaryKey", sas ? str_or_null(id->primary_key) : json_null());
    ok = ok && put(sk, "secondaryKey", sas ? str_or_null(id->secondary_key) : json_null());
    ok = ok &&
         put(tp, "primaryThumbprint", x509 ? str_or_null(id->primary_thumbprint) : json_null());
    ok = ok &&
         put(tp, "secondaryThumbprint", x509 ? str_or_null(id->secondary_thumbprint) : json_null());
    if (ok) {
        ok = put(a, "symmetricKey", sk);
        sk = NULL;
    }
    if (ok) {
        ok = put(a, "x509Thumbprint", tp);
        tp = NULL;
    }
    ok = ok && put(a, "type", json_string(gh_auth_type_name(id->auth_type)));
    json_decref(sk);
    json_decref(tp);
    if (!ok) {
        json_decref(a);
        return NULL;
    }
    return a;
}

gh_err gh_identity_to_json(const struct gh_identity *id, json_t **out)
{
    bool module = id->module_id[0] != '\0';
    char t_state[GH_HUB_TIME_LEN], t_status[GH_HUB_TIME_LEN], t_act[GH_HUB_TIME_LEN];
    gh_hub_time_format(id->conn_state_updated_ms, t_state);
    gh_hub_time_format(id->status_updated_ms, t_status);
    gh_hub_time_format(id->last_activity_ms, t_act);
    const char *state = id->conn_state == GH_CONN_CONNECTED ? "Connected" : "Disconnected";

    json_t *o = json_object();
    bool ok = o != NULL;
    if (module) {
        ok = ok && put(o, "moduleId", json_string(id->module_id));
        ok = ok && put(o, "deviceId", json_string(id->device_id));
        ok = ok && put(o, "managedBy", str_or_null(id->managed_by));
    } else {
        ok = ok && put(o, "deviceId", json_string(id->device_id));
    }
    ok = ok && put(o, "generationId", json_string(id->generation_id));
    ok = ok && put(o, "etag", json_string(id->etag));
    ok = ok && put(o, "connectionState", json_string(state));
    if (!module) {
        ok = ok && put(o, "status", json_string(gh_identity_status_name(id->status)));
        ok = ok && put(o, "statusReason", str_or_null(id->status_reason));
    }
    ok = ok && put(o, "connectionStateUpdatedTime", json_string(t_state));
    if (!module) ok = ok && put(o, "statusUpdatedTime", json_string(t_status));
    ok = ok && put(o, "lastActivityTime", json_string(t_act));
    ok = ok && put(o, "cloudToDeviceMessageCount", json_integer(id->c2d_count));
    ok = ok && put(o, "authentication", auth_json(id));
    if (!module) {
        json_t *caps = json_pack("{s:b}", "iotEdge", id->iot_edge);
        ok = ok && put(o, "capabilities", caps);
        if (id->device_scope[0] != '\0')
            ok = ok && put(o, "deviceScope", json_string(id->device_scope));
        json_t *ps = json_array();
        if (ps != NULL && id->parent_scope[0] != '\0' &&
            json_array_append_new(ps, json_string(id->parent_scope)) != 0) {
            json_decref(ps);
            ps = NULL;
        }
        ok = ok && put(o, "parentScopes", ps);
    }
    if (!ok) {
        json_decref(o);
        return GH_ERR_NOMEM;
    }
    *out = o;
    return GH_OK;
}

/* ---- parsing ------------------------------------------------------------ */

static gh_err fail(gh_err rc, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static gh_err fail(gh_err rc, char *err, size_t errlen, const char *fmt, ...)
{
    if (errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* A string value (null -> ""), copied into out of cap bytes. */
static gh_err string_value(const json_t *v, const char *path, char *out, size_t cap, char *err,
                           size_t errlen)
{
    out[0] = '\0';
    if (v == NULL || json_is_null(v)) return GH_OK;
    if (!json_is_string(v)) return fail(GH_ERR_BAD_JSON, err, errlen, "%s must be a string", path);
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n >= cap)
        return fail(GH_ERR_ARG, err, errlen, "%s is longer than %zu bytes", path, cap - 1);
    if (memchr(s, '\0', n) != NULL)
        return fail(GH_ERR_ARG, err, errlen, "%s contains a NUL character", path);
    memcpy(out, s, n + 1);
    return GH_OK;
}

/* Optional string member: absent / null / "" leave out[0] = 0 and
 * *present tells whether the member was there at all. */
static gh_err opt_string(const json_t *o, const char *name, const char *path, char *out, size_t cap,
                         bool *present, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, name);
    if (present != NULL) *present = v != NULL;
    return string_value(v, path, out, cap, err, errlen);
}

/* Optional object member: NULL when absent or null. */
static gh_err opt_object(const json_t *o, const char *name, const char *path, json_t **out,
                         char *err, size_t errlen)
{
    json_t *v = json_object_get(o, name);
    *out = NULL;
    if (v == NULL || json_is_null(v)) return GH_OK;
    if (!json_is_object(v)) return fail(GH_ERR_BAD_JSON, err, errlen, "%s must be an object", path);
    *out = v;
    return GH_OK;
}

static gh_err parse_id(const json_t *j, const char *name, char *out, bool module, char *err,
                       size_t errlen)
{
    json_t *v = json_object_get(j, name);
    if (v == NULL || json_is_null(v)) return fail(GH_ERR_ARG, err, errlen, "%s is required", name);
    if (!json_is_string(v)) return fail(GH_ERR_BAD_JSON, err, errlen, "%s must be a string", name);
    struct gh_slice s = {(const uint8_t *)json_string_value(v), json_string_length(v)};
    bool ok = module ? gh_iothub_valid_module_id(s) : gh_iothub_valid_device_id(s);
    if (!ok)
        return fail(GH_ERR_ARG, err, errlen,
                    "%s must be 1 to %d characters of letters, digits and -.+%%_#*?!(),=@$'", name,
                    GH_IDENTITY_ID_MAX);
    memcpy(out, s.ptr, s.len);
    out[s.len] = '\0';
    return GH_OK;
}

static gh_err parse_auth_type(const json_t *a, enum gh_auth_type *t, bool *given, char *err,
                              size_t errlen)
{
    static const enum gh_auth_type all[] = {GH_AUTH_SAS, GH_AUTH_SELF_SIGNED, GH_AUTH_CA,
                                            GH_AUTH_NONE};
    json_t *v = json_object_get(a, "type");
    *given = false;
    if (v == NULL || json_is_null(v)) return GH_OK;
    if (!json_is_string(v))
        return fail(GH_ERR_BAD_JSON, err, errlen, "authentication.type must be a string");
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (strcasecmp(json_string_value(v), gh_auth_type_name(all[i])) == 0 &&
            strlen(gh_auth_type_name(all[i])) == json_string_length(v)) {
            *t = all[i];
            *given = true;
            return GH_OK;
        }
    }
    return fail(GH_ERR_ARG, err, errlen,
                "authentication.type must be one of sas, selfSigned, certificateAuthority, none");
}

static gh_err parse_auth(const json_t *j, struct gh_identity *id, char *err, size_t errlen)
{
    json_t *a, *sk = NULL, *tp = NULL;
    GH_GUARD(opt_object(j, "authentication", "authentication", &a, err, errlen));
    id->auth_type = GH_AUTH_SAS;
    if (a == NULL) return GH_OK;
    id->present |= GH_IDENTITY_F_AUTH;
    GH_GUARD(opt_object(a, "symmetricKey", "authentication.symmetricKey", &sk, err, errlen));
    GH_GUARD(opt_object(a, "x509Thumbprint", "authentication.x509Thumbprint", &tp, err, errlen));
    if (sk != NULL) {
        GH_GUARD(opt_string(sk, "primaryKey", "authentication.symmetricKey.primaryKey",
                            id->primary_key, sizeof id->primary_key, NULL, err, errlen));
        GH_GUARD(opt_string(sk, "secondaryKey", "authentication.symmetricKey.secondaryKey",
                            id->secondary_key, sizeof id->secondary_key, NULL, err, errlen));
    }
    if (tp != NULL) {
        GH_GUARD(
            opt_string(tp, "primaryThumbprint", "authentication.x509Thumbprint.primaryThumbprint",
                       id->primary_thumbprint, sizeof id->primary_thumbprint, NULL, err, errlen));
        GH_GUARD(opt_string(
            tp, "secondaryThumbprint", "authentication.x509Thumbprint.secondaryThumbprint",
            id->secondary_thumbprint, sizeof id->secondary_thumbprint, NULL, err, errlen));
    }
    bool given;
    GH_GUARD(parse_auth_type(a, &id->auth_type, &given, err, errlen));
    bool has_tp = id->primary_thumbprint[0] != '\0' || id->secondary_thumbprint[0] != '\0';
    if (!given) id->auth_type = has_tp ? GH_AUTH_SELF_SIGNED : GH_AUTH_SAS;

    if (id->auth_type == GH_AUTH_SAS) {
        bool p = id->primary_key[0] != '\0', s = id->secondary_key[0] != '\0';
        if (p != s)
            return fail(GH_ERR_ARG, err, errlen,
                        "authentication.symmetricKey: give both primaryKey and secondaryKey, "
                        "or neither to have them generated");
        if (p && !gh_identity_key_valid(id->primary_key))
            return fail(GH_ERR_ARG, err, errlen,
                        "authentication.symmetricKey.primaryKey must be base64 of 16 to 64 bytes");
        if (s && !gh_identity_key_valid(id->secondary_key))
            return fail(
                GH_ERR_ARG, err, errlen,
                "authentication.symmetricKey.secondaryKey must be base64 of 16 to 64 bytes");
    } else {
        gh_secure_zero(id->primary_key, sizeof id->primary_key);
        gh_secure_zero(id->secondary_key, sizeof id->secondary_key);
    }
    if (id->auth_type == GH_AUTH_SELF_SIGNED) {
        if (id->primary_thumbprint[0] == '\0')
            return fail(GH_ERR_ARG, err, errlen,
                        "authentication.x509Thumbprint.primaryThumbprint is required for "
                        "selfSigned");
        if (!gh_identity_thumbprint_valid(id->primary_thumbprint))
            return fail(GH_ERR_ARG, err, errlen,
                        "authentication.x509Thumbprint.primaryThumbprint must be 40 or 64 hex "
                        "characters");
        if (id->secondary_thumbprint[0] != '\0' &&
            !gh_identity_thumbprint_valid(id->secondary_thumbprint))
            return fail(GH_ERR_ARG, err, errlen,
                        "authentication.x509Thumbprint.secondaryThumbprint must be 40 or 64 hex "
                        "characters");
    } else {
        id->primary_thumbprint[0] = '\0';
        id->secondary_thumbprint[0] = '\0';
    }
    return GH_OK;
}

static gh_err parse_status(const json_t *j, struct gh_identity *id, char *err, size_t errlen)
{
    json_t *v = json_object_get(j, "status");
    id->status = GH_IDENTITY_ENABLED;
    if (v != NULL && !json_is_null(v)) {
        if (!json_is_string(v))
            return fail(GH_ERR_BAD_JSON, err, errlen, "status must be a string");
        const char *s = json_string_value(v);
        if (strcasecmp(s, "enabled") == 0 && json_string_length(v) == 7)
            id->status = GH_IDENTITY_ENABLED;
        else if (strcasecmp(s, "disabled") == 0 && json_string_length(v) == 8)
            id->status = GH_IDENTITY_DISABLED;
        else
            return fail(GH_ERR_ARG, err, errlen, "status must be enabled or disabled");
        id->present |= GH_IDENTITY_F_STATUS;
    }
    bool present;
    GH_GUARD(opt_string(j, "statusReason", "statusReason", id->status_reason,
                        sizeof id->status_reason, &present, err, errlen));
    if (present) id->present |= GH_IDENTITY_F_STATUS_REASON;
    return GH_OK;
}

static gh_err parse_scopes(const json_t *j, struct gh_identity *id, char *err, size_t errlen)
{
    json_t *caps;
    GH_GUARD(opt_object(j, "capabilities", "capabilities", &caps, err, errlen));
    if (caps != NULL) {
        json_t *e = json_object_get(caps, "iotEdge");
        if (e != NULL && !json_is_null(e)) {
            if (!json_is_boolean(e))
                return fail(GH_ERR_BAD_JSON, err, errlen, "capabilities.iotEdge must be a boolean");
            id->iot_edge = json_is_true(e);
        }
        id->present |= GH_IDENTITY_F_CAPABILITIES;
    }
    bool present;
    GH_GUARD(opt_string(j, "deviceScope", "deviceScope", id->device_scope, sizeof id->device_scope,
                        &present, err, errlen));
    if (present) id->present |= GH_IDENTITY_F_DEVICE_SCOPE;

    json_t *ps = json_object_get(j, "parentScopes");
    if (ps == NULL) return GH_OK;
    id->present |= GH_IDENTITY_F_PARENT_SCOPES;
    if (json_is_null(ps)) return GH_OK;
    if (!json_is_array(ps))
        return fail(GH_ERR_BAD_JSON, err, errlen, "parentScopes must be an array of strings");
    if (json_array_size(ps) > 1)
        return fail(GH_ERR_ARG, err, errlen, "parentScopes holds at most one scope");
    if (json_array_size(ps) == 1) {
        json_t *v = json_array_get(ps, 0);
        if (!json_is_string(v))
            return fail(GH_ERR_BAD_JSON, err, errlen, "parentScopes[0] must be a string");
        GH_GUARD(string_value(v, "parentScopes[0]", id->parent_scope, sizeof id->parent_scope, err,
                              errlen));
    }
    return GH_OK;
}

gh_err gh_identity_from_json(const json_t *j, enum gh_identity_kind kind, struct gh_identity *out,
                             char *err, size_t errlen)
{
    struct gh_identity *id = calloc(1, sizeof *id);
    if (errlen > 0) err[0] = '\0';
    if (id == NULL) return GH_ERR_NOMEM;
    gh_err rc;
    if (!json_is_object(j)) {
        rc = fail(GH_ERR_BAD_JSON, err, errlen, "the body must be a JSON object");
        goto out;
    }
    rc = parse_id(j, "deviceId", id->device_id, false, err, errlen);
    if (rc == GH_OK && kind == GH_IDENTITY_MODULE)
        rc = parse_id(j, "moduleId", id->module_id, true, err, errlen);
    if (rc != GH_OK) goto out;
    if (kind == GH_IDENTITY_MODULE) {
        bool present;
        rc = opt_string(j, "managedBy", "managedBy", id->managed_by, sizeof id->managed_by,
                        &present, err, errlen);
        if (rc != GH_OK) goto out;
        if (present) id->present |= GH_IDENTITY_F_MANAGED_BY;
    } else {
        rc = parse_status(j, id, err, errlen);
        if (rc == GH_OK) rc = parse_scopes(j, id, err, errlen);
        if (rc != GH_OK) goto out;
    }
    rc = parse_auth(j, id, err, errlen);
    if (rc != GH_OK) goto out;
    *out = *id;
out:
    gh_identity_wipe(id);
    free(id);
    return rc;
}
