/* `gatehouse device create|list|show|update|delete`: the hub's identity
 * registry over REST (PROTOCOL.md 5.2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iothub/crypto.h"
#include "mgmt/mgmt_int.h"
#include "pki/pki_cert.h"
#include "pki/pki_info.h"

#define RR GH_MGMT_RIGHT_REGISTRY_READ
#define RW GH_MGMT_RIGHT_REGISTRY_WRITE

/* Storage behind a struct gh_mgmt_device_change. */
struct change_buf {
    char primary_tp[GH_PKI_SHA256_HEX_LEN + 1];
    char primary_key[GH_SYMKEY_B64_MAX + 1];
    char secondary_key[GH_SYMKEY_B64_MAX + 1];
    char parent_scope[512];
};

static gh_err set_str(json_t *o, const char *key, const char *v)
{
    GH_ENSURE(json_object_set_new(o, key, v ? json_string(v) : json_null()) == 0, GH_ERR_NOMEM);
    return GH_OK;
}

/* The object member key of o, created empty if missing or not an object. */
static json_t *child(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (json_is_object(v)) return v;
    v = json_object();
    if (v == NULL || json_object_set_new(o, key, v) != 0) return NULL;
    return v;
}

static bool nonempty(const json_t *v)
{
    return json_is_string(v) && json_string_length(v) > 0;
}

gh_err gh_mgmt_auth_type_parse(const char *s, const char **rest_name)
{
    static const char *const names[][2] = {
        {"sas", "sas"},
        {"x509-thumbprint", "selfSigned"},
        {"selfSigned", "selfSigned"},
        {"x509-ca", "certificateAuthority"},
        {"certificateAuthority", "certificateAuthority"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i][0]) == 0) {
            *rest_name = names[i][1];
            return GH_OK;
        }
    }
    return GH_ERR_ARG;
}

static gh_err apply_auth(json_t *dev, const struct gh_mgmt_device_change *ch, char *msg, size_t cap)
{
    json_t *auth = child(dev, "authentication");
    GH_ENSURE(auth != NULL, GH_ERR_NOMEM);
    const char *cur = json_string_value(json_object_get(auth, "type"));
    const char *type = ch->auth_type ? ch->auth_type : cur ? cur : "sas";
    bool sas = strcmp(type, "sas") == 0, self = strcmp(type, "selfSigned") == 0;
    if ((ch->primary_key || ch->secondary_key) && !sas) {
        snprintf(msg, cap, "--primary-key/--secondary-key apply to SAS devices (--auth sas)");
        return GH_ERR_ARG;
    }
    if ((ch->primary_thumbprint || ch->secondary_thumbprint) && !self) {
        snprintf(msg, cap, "thumbprints apply to x509-thumbprint devices (--auth x509-thumbprint)");
        return GH_ERR_ARG;
    }
    if (!sas) json_object_del(auth, "symmetricKey");
    if (!self) json_object_del(auth, "x509Thumbprint");
    if (sas) {
        json_t *sk = child(auth, "symmetricKey");
        GH_ENSURE(sk != NULL, GH_ERR_NOMEM);
        if (ch->primary_key) GH_GUARD(set_str(sk, "primaryKey", ch->primary_key));
        if (ch->secondary_key) GH_GUARD(set_str(sk, "secondaryKey", ch->secondary_key));
        if (nonempty(json_object_get(sk, "primaryKey")) !=
            nonempty(json_object_get(sk, "secondaryKey"))) {
            snprintf(msg, cap,
                     "give both --primary-key and --secondary-key, or neither (the hub "
                     "then generates them)");
            return GH_ERR_ARG;
        }
    }
    if (self) {
        json_t *tp = child(auth, "x509Thumbprint");
        GH_ENSURE(tp != NULL, GH_ERR_NOMEM);
        if (ch->primary_thumbprint)
            GH_GUARD(set_str(tp, "primaryThumbprint", ch->primary_thumbprint));
        if (ch->secondary_thumbprint)
            GH_GUARD(set_str(tp, "secondaryThumbprint", ch->secondary_thumbprint));
        if (!nonempty(json_object_get(tp, "primaryThumbprint"))) {
            snprintf(msg, cap, "x509-thumbprint devices need --primary-thumbprint or --cert");
            return GH_ERR_ARG;
        }
    }
    return set_str(auth, "type", type);
}

gh_err gh_mgmt_device_apply(json_t *dev, const struct gh_mgmt_device_change *ch, char *msg,
                            size_t cap)
{
    if (!json_is_object(dev)) {
        snprintf(msg, cap, "the device is not a JSON object");
        return GH_ERR_ARG;
    }
    if (ch->status) GH_GUARD(set_str(dev, "status", ch->status));
    GH_GUARD(apply_auth(dev, ch, msg, cap));
    json_t *caps = child(dev, "capabilities");
    GH_ENSURE(caps != NULL, GH_ERR_NOMEM);
    bool was_edge = json_is_true(json_object_get(caps, "iotEdge"));
    bool edge = ch->edge < 0 ? was_edge : ch->edge == 1;
    GH_ENSURE(json_object_set_new(caps, "iotEdge", json_boolean(edge)) == 0, GH_ERR_NOMEM);
    /* The parent's scope: new, or kept from before. */
    const char *scope = NULL;
    if (ch->set_parent) {
        scope = ch->parent_scope;
    } else if (was_edge) {
        scope = json_string_value(json_array_get(json_object_get(dev, "parentScopes"), 0));
    } else if (!edge) {
        return GH_OK; /* a leaf staying a leaf keeps its deviceScope */
    } else {
        scope = json_string_value(json_object_get(dev, "deviceScope"));
    }
    if (scope != NULL && scope[0] == '\0') scope = NULL;
    /* scope may point into dev's parentScopes, replaced below: hold it. */
    json_t *sj = json_string(scope ? scope : "");
    json_t *ps = json_array();
    gh_err rc = sj && ps ? GH_OK : GH_ERR_NOMEM;
    if (rc == GH_OK && scope != NULL && json_array_append(ps, sj) != 0) rc = GH_ERR_NOMEM;
    if (rc == GH_OK && json_object_set(dev, "parentScopes", ps) != 0) rc = GH_ERR_NOMEM;
    /* An Edge device's own deviceScope is the hub's to set. */
    if (rc == GH_OK && edge) json_object_del(dev, "deviceScope");
    if (rc == GH_OK && !edge && json_object_set(dev, "deviceScope", sj) != 0) rc = GH_ERR_NOMEM;
    json_decref(ps);
    json_decref(sj);
    return rc;
}

/* ---- building a change from the options ----------------------------------------- */

static gh_err check_key(struct gh_mgmt_ctx *c, const char *opt, const char *v)
{
    uint8_t raw[GH_SYMKEY_MAX];
    size_t n = 0;
    gh_err rc = gh_symkey_decode(gh_slice_cstr(v), raw, &n);
    gh_secure_zero(raw, sizeof raw);
    if (rc != GH_OK) return gh_mgmt_fail(c, GH_ERR_ARG, "%s is not a base64 key", opt);
    return GH_OK;
}

static gh_err check_thumbprint(struct gh_mgmt_ctx *c, const char *opt, const char *v)
{
    size_t n = strlen(v);
    bool ok = n == GH_PKI_SHA1_HEX_LEN || n == GH_PKI_SHA256_HEX_LEN;
    for (size_t i = 0; ok && i < n; i++) ok = strchr("0123456789abcdefABCDEF", v[i]) != NULL;
    if (!ok) return gh_mgmt_fail(c, GH_ERR_ARG, "%s must be 40 or 64 hex digits", opt);
    return GH_OK;
}

/* SHA-256 thumbprint of the first certificate in path. */
static gh_err cert_thumbprint(struct gh_mgmt_ctx *c, const char *path, char *out, size_t cap)
{
    struct gh_pki_certs l = {0};
    struct gh_pki_diag diag = {{0}};
    gh_err rc = gh_pki_certs_load(&l, path, &diag);
    if (rc == GH_OK) rc = gh_pki_thumbprint(l.v[0], true, out, cap);
    gh_pki_certs_cleanup(&l);
    if (rc == GH_ERR_NOT_FOUND) rc = GH_ERR_ARG; /* no certificate in the file */
    if (rc != GH_OK)
        return gh_mgmt_fail(c, rc, "--cert %s: %s", path, diag.msg[0] ? diag.msg : gh_err_str(rc));
    return GH_OK;
}

/* GET the parent and take its deviceScope. */
static gh_err parent_scope(struct gh_mgmt_ctx *c, const char *self, const char *parent, char *out,
                           size_t cap)
{
    GH_GUARD(gh_mgmt_check_device_id(parent, c->msg, sizeof c->msg));
    if (strcmp(parent, self) == 0)
        return gh_mgmt_fail(c, GH_ERR_ARG, "a device cannot be its own parent");
    char target[GH_MGMT_PATH_MAX];
    const char *segs[] = {"devices", parent};
    const struct gh_mgmt_query q[] = {{"api-version", GH_MGMT_API_VERSION}};
    GH_GUARD(gh_mgmt_target(target, sizeof target, segs, 2, q, 1));
    struct gh_mgmt_req rq = {.method = "GET", .target = target, .right = RR};
    json_t *dev = NULL;
    gh_err rc = gh_mgmt_call_json(c, &rq, &dev);
    if (rc == GH_ERR_NOT_FOUND) {
        c->msg[0] = '\0';
        return gh_mgmt_fail(c, rc, "parent %s: no such device", parent);
    }
    if (rc != GH_OK) return rc;
    const char *scope = json_string_value(json_object_get(dev, "deviceScope"));
    if (!json_is_true(json_object_get(json_object_get(dev, "capabilities"), "iotEdge")) ||
        scope == NULL || scope[0] == '\0')
        rc = gh_mgmt_fail(c, GH_ERR_ARG,
                          "parent %s is not an IoT Edge device (create it with "
                          "--edge)",
                          parent);
    else if (strlen(scope) >= cap)
        rc = gh_mgmt_fail(c, GH_ERR_TOO_LARGE, "parent %s: deviceScope too long", parent);
    else
        snprintf(out, cap, "%s", scope);
    json_decref(dev);
    return rc;
}

static gh_err build_change(struct gh_mgmt_ctx *c, bool create, struct gh_mgmt_device_change *ch,
                           struct change_buf *b)
{
    const char *const *v = c->a.val;
    memset(ch, 0, sizeof *ch);
    ch->edge = -1;
    if (create && c->a.given[GH_MOPT_DISABLED]) ch->status = "disabled";
    if (v[GH_MOPT_STATUS]) {
        if (strcmp(v[GH_MOPT_STATUS], "enabled") != 0 && strcmp(v[GH_MOPT_STATUS], "disabled") != 0)
            return gh_mgmt_fail(c, GH_ERR_USAGE, "--status must be enabled or disabled");
        ch->status = v[GH_MOPT_STATUS];
    }
    if (v[GH_MOPT_AUTH] && gh_mgmt_auth_type_parse(v[GH_MOPT_AUTH], &ch->auth_type) != GH_OK)
        return gh_mgmt_fail(c, GH_ERR_USAGE, "--auth must be sas, x509-thumbprint or x509-ca");
    if (v[GH_MOPT_CERT] && v[GH_MOPT_PRIMARY_THUMBPRINT])
        return gh_mgmt_fail(c, GH_ERR_USAGE, "give --cert or --primary-thumbprint, not both");
    if (c->a.given[GH_MOPT_EDGE] && c->a.given[GH_MOPT_NO_EDGE])
        return gh_mgmt_fail(c, GH_ERR_USAGE, "give --edge or --no-edge, not both");
    if (v[GH_MOPT_PARENT] && c->a.given[GH_MOPT_NO_PARENT])
        return gh_mgmt_fail(c, GH_ERR_USAGE, "give --parent or --no-parent, not both");
    if (v[GH_MOPT_PRIMARY_KEY]) GH_GUARD(check_key(c, "--primary-key", v[GH_MOPT_PRIMARY_KEY]));
    if (v[GH_MOPT_SECONDARY_KEY])
        GH_GUARD(check_key(c, "--secondary-key", v[GH_MOPT_SECONDARY_KEY]));
    ch->primary_key = v[GH_MOPT_PRIMARY_KEY];
    ch->secondary_key = v[GH_MOPT_SECONDARY_KEY];
    /* A new device with one key given gets the other one generated. */
    if (create && (ch->primary_key == NULL) != (ch->secondary_key == NULL)) {
        char *dst = ch->primary_key ? b->secondary_key : b->primary_key;
        struct gh_writer w;
        gh_writer_init(&w, dst, GH_SYMKEY_B64_MAX + 1);
        gh_err rc = gh_generate_key_b64(GH_SYMKEY_DEFAULT_LEN, &w);
        if (rc == GH_OK) rc = gh_writer_terminate(&w);
        if (rc != GH_OK) return gh_mgmt_fail(c, rc, "cannot generate a key: %s", gh_err_str(rc));
        if (ch->primary_key)
            ch->secondary_key = dst;
        else
            ch->primary_key = dst;
    }
    if (v[GH_MOPT_PRIMARY_THUMBPRINT])
        GH_GUARD(check_thumbprint(c, "--primary-thumbprint", v[GH_MOPT_PRIMARY_THUMBPRINT]));
    if (v[GH_MOPT_SECONDARY_THUMBPRINT])
        GH_GUARD(check_thumbprint(c, "--secondary-thumbprint", v[GH_MOPT_SECONDARY_THUMBPRINT]));
    ch->primary_thumbprint = v[GH_MOPT_PRIMARY_THUMBPRINT];
    ch->secondary_thumbprint = v[GH_MOPT_SECONDARY_THUMBPRINT];
    if (v[GH_MOPT_CERT]) {
        GH_GUARD(cert_thumbprint(c, v[GH_MOPT_CERT], b->primary_tp, sizeof b->primary_tp));
        ch->primary_thumbprint = b->primary_tp;
    }
    bool keys = ch->primary_key || ch->secondary_key;
    bool tps = ch->primary_thumbprint || ch->secondary_thumbprint;
    if (ch->auth_type == NULL && keys && tps)
        return gh_mgmt_fail(c, GH_ERR_USAGE, "give keys or thumbprints, not both");
    if (ch->auth_type == NULL) ch->auth_type = tps ? "selfSigned" : keys ? "sas" : NULL;
    if (c->a.given[GH_MOPT_EDGE]) ch->edge = 1;
    if (c->a.given[GH_MOPT_NO_EDGE]) ch->edge = 0;
    if (v[GH_MOPT_PARENT]) {
        GH_GUARD(parent_scope(c, c->a.pos[0], v[GH_MOPT_PARENT], b->parent_scope,
                              sizeof b->parent_scope));
        ch->set_parent = true;
        ch->parent_scope = b->parent_scope;
    }
    if (c->a.given[GH_MOPT_NO_PARENT]) ch->set_parent = true;
    return GH_OK;
}

/* ---- commands -------------------------------------------------------------------- */

static gh_err device_target(struct gh_mgmt_ctx *c, const char *id, char *out, size_t cap)
{
    GH_GUARD(gh_mgmt_check_device_id(id, c->msg, sizeof c->msg));
    const char *segs[] = {"devices", id};
    const struct gh_mgmt_query q[] = {{"api-version", GH_MGMT_API_VERSION}};
    gh_err rc = gh_mgmt_target(out, cap, segs, 2, q, 1);
    if (rc != GH_OK) return gh_mgmt_fail(c, rc, "device id too long");
    return GH_OK;
}

static gh_err print_device(struct gh_mgmt_ctx *c, json_t *dev)
{
    char cs[GH_MGMT_HOST_MAX + GH_SYMKEY_B64_MAX + 256];
    bool want_cs = c->a.given[GH_MOPT_SHOW_CONNECTION_STRING];
    gh_err rc = GH_OK;
    if (want_cs) rc = gh_mgmt_device_connstr(c->hub.cred.host, dev, cs, sizeof cs);
    if (rc != GH_OK) {
        gh_secure_zero(cs, sizeof cs);
        return gh_mgmt_fail(c, rc,
                            "this device has no connection string (authentication type "
                            "none?)");
    }
    if (c->json) {
        if (want_cs && json_object_set_new(dev, "connectionString", json_string(cs)) != 0)
            rc = gh_mgmt_fail(c, GH_ERR_NOMEM, "out of memory");
        if (rc == GH_OK) gh_mgmt_print_json(c->out, dev, false);
    } else {
        gh_mgmt_print_device(c->out, dev, c->a.given[GH_MOPT_SHOW_KEYS]);
        if (want_cs) fprintf(c->out, "  %-20s %s\n", "connection string", cs);
    }
    gh_secure_zero(cs, sizeof cs);
    return rc;
}

/* PUT dev; print the answer. */
static gh_err put_device(struct gh_mgmt_ctx *c, const char *target, json_t *dev,
                         const char *if_match)
{
    char *body = json_dumps(dev, JSON_COMPACT);
    if (body == NULL) return gh_mgmt_fail(c, GH_ERR_NOMEM, "out of memory");
    struct gh_mgmt_req rq = {
        .method = "PUT",
        .target = target,
        .right = RW,
        .if_match = if_match,
        .content_type = "application/json; charset=utf-8",
        .body = body,
        .body_len = strlen(body),
    };
    json_t *res = NULL;
    gh_err rc = gh_mgmt_call_json(c, &rq, &res);
    gh_secure_zero(body, strlen(body));
    free(body);
    if (rc == GH_OK && !json_is_object(res))
        rc = gh_mgmt_fail(c, GH_ERR_MALFORMED, "the hub answered without a device");
    if (rc == GH_OK) rc = print_device(c, res);
    json_decref(res);
    return rc;
}

gh_err gh_mgmt_device_create(struct gh_mgmt_ctx *c)
{
    const char *id = c->a.pos[0];
    char target[GH_MGMT_PATH_MAX];
    GH_GUARD(device_target(c, id, target, sizeof target));
    struct gh_mgmt_device_change ch;
    struct change_buf *b = calloc(1, sizeof *b);
    if (b == NULL) return gh_mgmt_fail(c, GH_ERR_NOMEM, "out of memory");
    json_t *dev = json_pack("{s:s}", "deviceId", id);
    gh_err rc = dev ? build_change(c, true, &ch, b) : GH_ERR_NOMEM;
    if (rc == GH_OK) rc = gh_mgmt_device_apply(dev, &ch, c->msg, sizeof c->msg);
    if (rc == GH_OK) rc = put_device(c, target, dev, NULL);
    if (rc == GH_ERR_CONFLICT && strstr(c->msg, "DeviceAlreadyExists"))
        strncat(c->msg, " (change it with 'gatehouse device update')",
                sizeof c->msg - strlen(c->msg) - 1);
    json_decref(dev);
    gh_secure_zero(b, sizeof *b);
    free(b);
    return rc == GH_ERR_NOMEM ? gh_mgmt_fail(c, rc, "out of memory") : rc;
}

gh_err gh_mgmt_device_list(struct gh_mgmt_ctx *c)
{
    uint64_t top = 0;
    if (c->a.val[GH_MOPT_TOP] &&
        gh_mgmt_uint_parse(c->a.val[GH_MOPT_TOP], 1, GH_MGMT_LIST_TOP_MAX, &top) != GH_OK)
        return gh_mgmt_fail(c, GH_ERR_USAGE, "--top must be 1-%u", GH_MGMT_LIST_TOP_MAX);
    char target[GH_MGMT_PATH_MAX];
    const char *segs[] = {"devices"};
    const struct gh_mgmt_query q[] = {{"top", c->a.val[GH_MOPT_TOP]},
                                      {"api-version", GH_MGMT_API_VERSION}};
    GH_GUARD(gh_mgmt_target(target, sizeof target, segs, 1, q, 2));
    struct gh_mgmt_req rq = {.method = "GET", .target = target, .right = RR};
    json_t *arr = NULL;
    gh_err rc = gh_mgmt_call_json(c, &rq, &arr);
    if (rc == GH_OK && !json_is_array(arr))
        rc = gh_mgmt_fail(c, GH_ERR_MALFORMED, "the hub answered without a device list");
    if (rc == GH_OK) {
        if (c->json)
            gh_mgmt_print_json(c->out, arr, false);
        else
            gh_mgmt_print_device_table(c->out, arr);
    }
    json_decref(arr);
    return rc;
}

gh_err gh_mgmt_device_show(struct gh_mgmt_ctx *c)
{
    char target[GH_MGMT_PATH_MAX];
    GH_GUARD(device_target(c, c->a.pos[0], target, sizeof target));
    struct gh_mgmt_req rq = {.method = "GET", .target = target, .right = RR};
    json_t *dev = NULL;
    gh_err rc = gh_mgmt_call_json(c, &rq, &dev);
    if (rc == GH_OK && !json_is_object(dev))
        rc = gh_mgmt_fail(c, GH_ERR_MALFORMED, "the hub answered without a device");
    if (rc == GH_OK) rc = print_device(c, dev);
    json_decref(dev);
    return rc;
}

gh_err gh_mgmt_device_update(struct gh_mgmt_ctx *c)
{
    const char *id = c->a.pos[0];
    char target[GH_MGMT_PATH_MAX];
    GH_GUARD(device_target(c, id, target, sizeof target));
    struct gh_mgmt_device_change ch;
    struct change_buf *b = calloc(1, sizeof *b);
    if (b == NULL) return gh_mgmt_fail(c, GH_ERR_NOMEM, "out of memory");
    json_t *dev = NULL;
    gh_err rc = build_change(c, false, &ch, b);
    struct gh_mgmt_req rq = {.method = "GET", .target = target, .right = RR};
    if (rc == GH_OK) rc = gh_mgmt_call_json(c, &rq, &dev);
    if (rc == GH_OK && !json_is_object(dev))
        rc = gh_mgmt_fail(c, GH_ERR_MALFORMED, "the hub answered without a device");
    char if_match[256] = "\"*\"";
    const char *etag = rc == GH_OK ? json_string_value(json_object_get(dev, "etag")) : NULL;
    if (etag != NULL) snprintf(if_match, sizeof if_match, "\"%s\"", etag);
    if (rc == GH_OK) rc = gh_mgmt_device_apply(dev, &ch, c->msg, sizeof c->msg);
    if (rc == GH_OK) rc = put_device(c, target, dev, if_match);
    json_decref(dev);
    gh_secure_zero(b, sizeof *b);
    free(b);
    return rc == GH_ERR_NOMEM ? gh_mgmt_fail(c, rc, "out of memory") : rc;
}

gh_err gh_mgmt_device_delete(struct gh_mgmt_ctx *c)
{
    const char *id = c->a.pos[0];
    char target[GH_MGMT_PATH_MAX];
    GH_GUARD(device_target(c, id, target, sizeof target));
    struct gh_mgmt_req rq = {
        .method = "DELETE", .target = target, .right = RW, .if_match = "\"*\""};
    struct gh_http_response r;
    GH_GUARD(gh_mgmt_call(c, &rq, &r));
    gh_http_response_cleanup(&r);
    if (c->json) {
        json_t *j = json_pack("{s:s,s:b}", "deviceId", id, "deleted", 1);
        gh_mgmt_print_json(c->out, j, false);
        json_decref(j);
    } else {
        fprintf(c->out, "deleted device %s\n", id);
    }
    return GH_OK;
}
