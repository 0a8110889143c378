/* `gatehouse enrollment create|list|show|delete` and `gatehouse
 * registration list|show|delete`: the provisioning service API
 * (PROTOCOL.md 4.8, docs/dps.md) that the hub serves on its DPS host name,
 * signed with the DPS service connection string. The connection, signing
 * and error mapping are those of the other management commands
 * (mgmt_conn.c); only the credential's source differs (c->dps). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iothub/crypto.h"
#include "iothub/username.h"
#include "mgmt/mgmt_int.h"

#define JSON_CT "application/json; charset=utf-8"
#define ENROLLMENTS "enrollments"
#define GROUPS "enrollmentGroups"
#define REGISTRATIONS "registrations"
#define HOST_LABEL_MAX 63

/* ---- pure builders ------------------------------------------------------------ */

bool gh_mgmt_host_valid(const char *s)
{
    size_t n = strlen(s), label = 0;
    if (n == 0 || n > GH_MGMT_HOST_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '.') {
            if (label == 0) return false;
            label = 0;
            continue;
        }
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-';
        if (!ok || ++label > HOST_LABEL_MAX) return false;
    }
    return label > 0;
}

gh_err gh_mgmt_dps_target(char *out, size_t cap, const char *collection, const char *id,
                          const char *action)
{
    GH_ENSURE(collection != NULL && collection[0] != '\0', GH_ERR_ARG);
    GH_ENSURE(action == NULL || id != NULL, GH_ERR_ARG);
    const char *segs[] = {collection, id, action};
    size_t nseg = id == NULL ? 1 : action == NULL ? 2 : 3;
    const struct gh_mgmt_query q[] = {{"api-version", GH_MGMT_DPS_API_VERSION}};
    return gh_mgmt_target(out, cap, segs, nseg, q, 1);
}

static gh_err check_key(const char *opt, const char *v, char *msg, size_t cap)
{
    uint8_t raw[GH_SYMKEY_MAX];
    size_t n = 0;
    gh_err rc = gh_symkey_decode(gh_slice_cstr(v), raw, &n);
    gh_secure_zero(raw, sizeof raw);
    if (rc != GH_OK || n < GH_MGMT_DPS_KEY_MIN || n > GH_MGMT_DPS_KEY_MAX)
        return gh_err_say(msg, cap, GH_ERR_ARG, "%s is not a base64 key of %u-%u bytes", opt,
                          GH_MGMT_DPS_KEY_MIN, GH_MGMT_DPS_KEY_MAX);
    return GH_OK;
}

/* {"tags":{..}, "properties":{"desired":{..}}}, each part optional. */
static gh_err check_twin(const json_t *t, char *msg, size_t cap)
{
    static const char why[] = "--initial-twin must be {\"tags\":{..},\"properties\":"
                              "{\"desired\":{..}}}";
    if (!json_is_object(t)) return gh_err_say(msg, cap, GH_ERR_ARG, "%s", why);
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)t, k, v)
    {
        if (strcmp(k, "tags") == 0 && json_is_object(v)) continue;
        if (strcmp(k, "properties") != 0 || !json_is_object(v))
            return gh_err_say(msg, cap, GH_ERR_ARG, "%s (not '%.32s')", why, k);
        const char *pk;
        const json_t *pv;
        json_object_foreach((json_t *)v, pk, pv)
        {
            if (strcmp(pk, "desired") != 0 || !json_is_object(pv))
                return gh_err_say(msg, cap, GH_ERR_ARG, "%s (not 'properties.%.32s')", why, pk);
        }
    }
    return GH_OK;
}

static gh_err check_spec(const struct gh_mgmt_enrollment_spec *s, bool *x509, char *msg, size_t cap)
{
    const char *what = s->group ? "enrollment group id" : "registration id";
    if (s->id == NULL || !gh_iothub_valid_registration_id(gh_slice_cstr(s->id)))
        return gh_err_say(msg, cap, GH_ERR_ARG,
                          "'%.64s' is not a valid %s (1-128 characters from A-Z a-z 0-9 - . _ :)",
                          s->id ? s->id : "", what);
    if (s->attestation == NULL)
        return gh_err_say(msg, cap, GH_ERR_USAGE, "give --attestation symmetric-key or x509");
    if (strcmp(s->attestation, "symmetric-key") == 0)
        *x509 = false;
    else if (strcmp(s->attestation, "x509") == 0)
        *x509 = true;
    else
        return gh_err_say(msg, cap, GH_ERR_ARG, "--attestation must be symmetric-key or x509");
    if (*x509 && (s->primary_key || s->secondary_key))
        return gh_err_say(msg, cap, GH_ERR_ARG,
                          "--primary-key and --secondary-key go with --attestation symmetric-key");
    if (!*x509 && s->cert_pem)
        return gh_err_say(msg, cap, GH_ERR_ARG, "--cert goes with --attestation x509");
    if (*x509 && s->cert_pem == NULL)
        return gh_err_say(msg, cap, GH_ERR_ARG, "--attestation x509 needs --cert FILE (%s)",
                          s->group ? "the CA certificate that signs the devices' certificates"
                                   : "the device's certificate");
    if (s->primary_key) GH_GUARD(check_key("--primary-key", s->primary_key, msg, cap));
    if (s->secondary_key) GH_GUARD(check_key("--secondary-key", s->secondary_key, msg, cap));
    if (s->group && s->device_id)
        return gh_err_say(
            msg, cap, GH_ERR_ARG,
            "--device-id is for individual enrollments (a group's devices are named by "
            "their registration ids)");
    if (s->device_id && !gh_iothub_valid_device_id(gh_slice_cstr(s->device_id)))
        return gh_err_say(msg, cap, GH_ERR_ARG, "--device-id '%.64s' is not a valid device id",
                          s->device_id);
    if (s->nhubs > GH_MGMT_DPS_HUBS_MAX)
        return gh_err_say(msg, cap, GH_ERR_ARG, "at most %u --hub options", GH_MGMT_DPS_HUBS_MAX);
    for (size_t i = 0; i < s->nhubs; i++)
        if (!gh_mgmt_host_valid(s->hubs[i]))
            return gh_err_say(msg, cap, GH_ERR_ARG, "--hub '%.64s' is not a host name", s->hubs[i]);
    if (s->initial_twin) GH_GUARD(check_twin(s->initial_twin, msg, cap));
    return GH_OK;
}

/* attestation {type, symmetricKey {..}} or {type, x509 {..}}. Every
 * json_object_set_new runs (it takes its value even when it fails), so
 * nothing leaks on an allocation failure. */
static json_t *attestation(const struct gh_mgmt_enrollment_spec *s, bool x509)
{
    json_t *att = json_object();
    bool ok = att != NULL;
    if (x509) {
        json_t *x = json_object();
        ok = json_object_set_new(x, s->group ? "signingCertificates" : "clientCertificates",
                                 json_pack("{s:{s:s}}", "primary", "certificate", s->cert_pem)) ==
                 0 &&
             ok;
        ok = json_object_set_new(att, "type", json_string("x509")) == 0 && ok;
        ok = json_object_set_new(att, "x509", x) == 0 && ok;
    } else {
        json_t *sk = json_object();
        if (s->primary_key)
            ok = json_object_set_new(sk, "primaryKey", json_string(s->primary_key)) == 0 && ok;
        if (s->secondary_key)
            ok = json_object_set_new(sk, "secondaryKey", json_string(s->secondary_key)) == 0 && ok;
        ok = json_object_set_new(att, "type", json_string("symmetricKey")) == 0 && ok;
        ok = json_object_set_new(att, "symmetricKey", sk) == 0 && ok;
    }
    if (!ok) {
        json_decref(att);
        return NULL;
    }
    return att;
}

gh_err gh_mgmt_enrollment_body(const struct gh_mgmt_enrollment_spec *s, json_t **out, char *msg,
                               size_t cap)
{
    bool x509 = false;
    GH_GUARD(check_spec(s, &x509, msg, cap));
    json_t *e = json_object();
    bool ok = e != NULL;
    ok = ok && json_object_set_new(e, s->group ? "enrollmentGroupId" : "registrationId",
                                   json_string(s->id)) == 0;
    if (s->device_id) ok = ok && json_object_set_new(e, "deviceId", json_string(s->device_id)) == 0;
    ok = ok && json_object_set_new(e, "attestation", attestation(s, x509)) == 0;
    ok = ok && json_object_set_new(e, "capabilities", json_pack("{s:b}", "iotEdge", s->edge)) == 0;
    ok = ok && json_object_set_new(e, "provisioningStatus",
                                   json_string(s->disabled ? "disabled" : "enabled")) == 0;
    if (s->nhubs > 0) {
        json_t *hubs = json_array();
        for (size_t i = 0; i < s->nhubs; i++)
            ok = json_array_append_new(hubs, json_string(s->hubs[i])) == 0 && ok;
        ok = json_object_set_new(e, "iotHubs", hubs) == 0 && ok;
    }
    if (s->initial_twin)
        ok = ok && json_object_set_new(e, "initialTwin", json_deep_copy(s->initial_twin)) == 0;
    ok = ok && json_object_set_new(
                   e, "reprovisionPolicy",
                   json_pack("{s:b,s:b}", "updateHubAssignment", 1, "migrateDeviceData", 1)) == 0;
    if (!ok) {
        json_decref(e);
        return gh_err_say(msg, cap, GH_ERR_NOMEM, "out of memory");
    }
    *out = e;
    return GH_OK;
}

/* ---- requests -------------------------------------------------------------------- */

static gh_err target(struct gh_mgmt_ctx *c, const char *collection, const char *id,
                     const char *action, char *out, size_t cap)
{
    if (id != NULL && !gh_iothub_valid_registration_id(gh_slice_cstr(id)))
        return gh_mgmt_fail(c, GH_ERR_ARG,
                            "'%.64s' is not a valid id (1-128 characters from A-Z a-z 0-9 - . "
                            "_ :)",
                            id);
    gh_err rc = gh_mgmt_dps_target(out, cap, collection, id, action);
    if (rc != GH_OK) return gh_mgmt_fail(c, rc, "cannot build the request path");
    return GH_OK;
}

/* --individual / --group: which collection ID names (individual by default). */
static gh_err kind(struct gh_mgmt_ctx *c, bool required, bool *group)
{
    bool ind = c->a.given[GH_MOPT_INDIVIDUAL], grp = c->a.given[GH_MOPT_GROUP];
    if (ind && grp) return gh_mgmt_fail(c, GH_ERR_USAGE, "give --individual or --group, not both");
    if (required && !ind && !grp)
        return gh_mgmt_fail(c, GH_ERR_USAGE,
                            "give --individual (ID is a registration id) or --group (ID is an "
                            "enrollment group id)");
    *group = grp;
    return GH_OK;
}

/* One request whose answer must be a JSON object. */
static gh_err call_object(struct gh_mgmt_ctx *c, const char *method, const char *path,
                          const char *body, const char *what, json_t **out)
{
    struct gh_mgmt_req rq = {
        .method = method,
        .target = path,
        .content_type = body ? JSON_CT : NULL,
        .body = body,
        .body_len = body ? strlen(body) : 0,
    };
    json_t *res = NULL;
    GH_GUARD(gh_mgmt_call_json(c, &rq, &res));
    if (!json_is_object(res)) {
        json_decref(res);
        return gh_mgmt_fail(c, GH_ERR_MALFORMED, "the provisioning service answered without %s",
                            what);
    }
    *out = res;
    return GH_OK;
}

static void print_enrollment(struct gh_mgmt_ctx *c, const json_t *e)
{
    if (c->json)
        gh_mgmt_print_json(c->out, e, false);
    else
        gh_mgmt_print_enrollment(c->out, e, c->a.given[GH_MOPT_SHOW_KEYS]);
}

/* POST path {"query":"*"} page by page (x-ms-continuation); *out: one array. */
static gh_err query_all(struct gh_mgmt_ctx *c, const char *path, json_t **out)
{
    static const char body[] = "{\"query\":\"*\"}";
    char count[16], cont[GH_MGMT_CONTINUATION_MAX + 1] = "";
    snprintf(count, sizeof count, "%u", GH_MGMT_DPS_QUERY_PAGE);
    json_t *all = json_array();
    gh_err rc = all ? GH_OK : gh_mgmt_fail(c, GH_ERR_NOMEM, "out of memory");
    for (unsigned page = 0; rc == GH_OK; page++) {
        if (page >= GH_MGMT_DPS_QUERY_PAGES) {
            rc = gh_mgmt_fail(c, GH_ERR_TOO_MANY, "the list has more than %u pages",
                              GH_MGMT_DPS_QUERY_PAGES);
            break;
        }
        struct gh_http_kv h[2] = {{"x-ms-max-item-count", count}, {"x-ms-continuation", cont}};
        struct gh_mgmt_req rq = {
            .method = "POST",
            .target = path,
            .headers = h,
            .nheaders = cont[0] ? 2 : 1,
            .content_type = JSON_CT,
            .body = body,
            .body_len = sizeof body - 1,
        };
        struct gh_http_response r;
        rc = gh_mgmt_call(c, &rq, &r);
        if (rc != GH_OK) break;
        json_t *arr = json_loadb((const char *)r.body, r.body_len, 0, NULL);
        const char *next = gh_http_response_header(&r, "x-ms-continuation");
        if (!json_is_array(arr))
            rc = gh_mgmt_fail(c, GH_ERR_MALFORMED,
                              "the provisioning service answered the query without a list");
        else if (json_array_extend(all, arr) != 0)
            rc = gh_mgmt_fail(c, GH_ERR_NOMEM, "out of memory");
        else if (next != NULL && strlen(next) > GH_MGMT_CONTINUATION_MAX)
            rc = gh_mgmt_fail(c, GH_ERR_TOO_LARGE, "continuation token over %u bytes",
                              GH_MGMT_CONTINUATION_MAX);
        bool more = rc == GH_OK && next != NULL && next[0] != '\0' && json_array_size(arr) > 0;
        if (more) snprintf(cont, sizeof cont, "%s", next);
        json_decref(arr);
        gh_http_response_cleanup(&r);
        if (!more) break;
    }
    if (rc != GH_OK) {
        json_decref(all);
        return rc;
    }
    *out = all;
    return GH_OK;
}

/* ---- enrollment ------------------------------------------------------------------ */

/* Does the enrollment at path exist? (GH_OK: no; GH_ERR_CONFLICT: yes.) */
static gh_err refuse_existing(struct gh_mgmt_ctx *c, const char *path, const char *id, bool group)
{
    json_t *old = NULL;
    gh_err rc = call_object(c, "GET", path, NULL, "an enrollment", &old);
    json_decref(old);
    if (rc == GH_ERR_NOT_FOUND) {
        c->msg[0] = '\0';
        return GH_OK;
    }
    if (rc != GH_OK) return rc;
    return gh_mgmt_fail(c, GH_ERR_CONFLICT,
                        "%s %s already exists (remove it first: gatehouse enrollment delete %s%s)",
                        group ? "enrollment group" : "enrollment", id, id, group ? " --group" : "");
}

gh_err gh_mgmt_enrollment_create(struct gh_mgmt_ctx *c)
{
    const char *const *v = c->a.val;
    const char *id = c->a.pos[0];
    bool group = false;
    GH_GUARD(kind(c, true, &group));
    struct gh_mgmt_enrollment_spec s = {
        .group = group,
        .id = id,
        .attestation = v[GH_MOPT_ATTESTATION],
        .primary_key = v[GH_MOPT_PRIMARY_KEY],
        .secondary_key = v[GH_MOPT_SECONDARY_KEY],
        .edge = c->a.given[GH_MOPT_EDGE],
        .device_id = v[GH_MOPT_DEVICE_ID],
        .disabled = c->a.given[GH_MOPT_DISABLED],
        .hubs = c->a.props,
        .nhubs = c->a.nprops,
    };
    json_t *twin = NULL, *body = NULL, *res = NULL;
    char *pem = NULL, *text = NULL;
    char path[GH_MGMT_PATH_MAX];
    gh_err rc = target(c, group ? GROUPS : ENROLLMENTS, id, NULL, path, sizeof path);
    if (rc == GH_OK && v[GH_MOPT_INITIAL_TWIN])
        rc = gh_mgmt_json_arg("--initial-twin", v[GH_MOPT_INITIAL_TWIN], true, &twin, c->msg,
                              sizeof c->msg);
    if (rc == GH_OK && v[GH_MOPT_CERT]) {
        bool is_ca = false;
        rc = gh_mgmt_cert_pem(c, "--cert", v[GH_MOPT_CERT], &pem, &is_ca);
        if (rc == GH_OK && group && !is_ca)
            rc = gh_mgmt_fail(c, GH_ERR_NOT_CA,
                              "--cert %s is not a CA certificate: a group's signing certificate "
                              "must be the CA (or intermediate) that issued the devices' "
                              "certificates",
                              v[GH_MOPT_CERT]);
    }
    s.cert_pem = pem;
    s.initial_twin = twin;
    if (rc == GH_OK) rc = gh_mgmt_enrollment_body(&s, &body, c->msg, sizeof c->msg);
    if (rc == GH_OK && (text = json_dumps(body, JSON_COMPACT)) == NULL)
        rc = gh_mgmt_fail(c, GH_ERR_NOMEM, "out of memory");
    if (rc == GH_OK) rc = refuse_existing(c, path, id, group);
    if (rc == GH_OK) rc = call_object(c, "PUT", path, text, "an enrollment", &res);
    if (rc == GH_OK) print_enrollment(c, res);
    if (text != NULL) gh_secure_zero(text, strlen(text));
    free(text);
    free(pem);
    json_decref(res);
    json_decref(body);
    json_decref(twin);
    return rc;
}

gh_err gh_mgmt_enrollment_list(struct gh_mgmt_ctx *c)
{
    bool groups = c->a.given[GH_MOPT_GROUPS];
    char path[GH_MGMT_PATH_MAX];
    GH_GUARD(target(c, groups ? GROUPS : ENROLLMENTS, "query", NULL, path, sizeof path));
    json_t *arr = NULL;
    GH_GUARD(query_all(c, path, &arr));
    if (c->json)
        gh_mgmt_print_json(c->out, arr, false);
    else
        gh_mgmt_print_enrollment_table(c->out, arr, groups);
    json_decref(arr);
    return GH_OK;
}

gh_err gh_mgmt_enrollment_show(struct gh_mgmt_ctx *c)
{
    bool group = false;
    GH_GUARD(kind(c, false, &group));
    char path[GH_MGMT_PATH_MAX];
    GH_GUARD(target(c, group ? GROUPS : ENROLLMENTS, c->a.pos[0], NULL, path, sizeof path));
    json_t *res = NULL;
    gh_err rc = call_object(c, "GET", path, NULL, "an enrollment", &res);
    if (rc == GH_ERR_NOT_FOUND && !group)
        strncat(c->msg, " (an enrollment group? add --group)", sizeof c->msg - strlen(c->msg) - 1);
    if (rc != GH_OK) return rc;
    print_enrollment(c, res);
    json_decref(res);
    return GH_OK;
}

/* DELETE path; print what went. */
static gh_err delete_one(struct gh_mgmt_ctx *c, const char *path, const char *key, const char *id,
                         const char *what)
{
    struct gh_mgmt_req rq = {.method = "DELETE", .target = path};
    struct gh_http_response r;
    GH_GUARD(gh_mgmt_call(c, &rq, &r));
    gh_http_response_cleanup(&r);
    if (c->json) {
        json_t *j = json_pack("{s:s,s:b}", key, id, "deleted", 1);
        if (j == NULL) return gh_mgmt_fail(c, GH_ERR_NOMEM, "out of memory");
        gh_mgmt_print_json(c->out, j, false);
        json_decref(j);
    } else {
        fprintf(c->out, "deleted %s ", what);
        gh_mgmt_put_safe(c->out, id, strlen(id));
        fputc('\n', c->out);
    }
    return GH_OK;
}

gh_err gh_mgmt_enrollment_delete(struct gh_mgmt_ctx *c)
{
    bool group = false;
    GH_GUARD(kind(c, false, &group));
    const char *id = c->a.pos[0];
    char path[GH_MGMT_PATH_MAX];
    GH_GUARD(target(c, group ? GROUPS : ENROLLMENTS, id, NULL, path, sizeof path));
    gh_err rc = delete_one(c, path, group ? "enrollmentGroupId" : "registrationId", id,
                           group ? "enrollment group" : "enrollment");
    if (rc == GH_ERR_NOT_FOUND && !group)
        strncat(c->msg, " (an enrollment group? add --group)", sizeof c->msg - strlen(c->msg) - 1);
    return rc;
}

/* ---- registration ------------------------------------------------------------------ */

gh_err gh_mgmt_registration_list(struct gh_mgmt_ctx *c)
{
    char path[GH_MGMT_PATH_MAX];
    GH_GUARD(target(c, REGISTRATIONS, c->a.pos[0], "query", path, sizeof path));
    json_t *arr = NULL;
    GH_GUARD(query_all(c, path, &arr));
    if (c->json)
        gh_mgmt_print_json(c->out, arr, false);
    else
        gh_mgmt_print_registration_table(c->out, arr);
    json_decref(arr);
    return GH_OK;
}

gh_err gh_mgmt_registration_show(struct gh_mgmt_ctx *c)
{
    char path[GH_MGMT_PATH_MAX];
    GH_GUARD(target(c, REGISTRATIONS, c->a.pos[0], NULL, path, sizeof path));
    json_t *res = NULL;
    GH_GUARD(call_object(c, "GET", path, NULL, "a registration state", &res));
    if (c->json)
        gh_mgmt_print_json(c->out, res, false);
    else
        gh_mgmt_print_registration(c->out, res);
    json_decref(res);
    return GH_OK;
}

gh_err gh_mgmt_registration_delete(struct gh_mgmt_ctx *c)
{
    const char *id = c->a.pos[0];
    char path[GH_MGMT_PATH_MAX];
    GH_GUARD(target(c, REGISTRATIONS, id, NULL, path, sizeof path));
    return delete_one(c, path, "registrationId", id, "registration state of");
}
