/* The provisioning service's service API (PROTOCOL.md 4.8, as used by
 * azure-iot-provisioning-service 1.11.2; docs/dps.md): enrollments,
 * enrollment groups, bulk operations, queries and registration states,
 * authorized by a service SAS token with sr={dps.hostname} signed with the
 * provisioningserviceowner policy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "dps/dps.h"
#include "dps/dps_doc.h"
#include "dps/dps_store.h"
#include "hub/rest_dps.h"
#include "iothub/crypto.h"
#include "iothub/sas.h"
#include "iothub/username.h"

/* Longest route pattern, in segments. */
#define ROUTE_SEGS_MAX 3
/* If-Match values we keep (an enrollment GUID or a registration's base64
 * etag, with quotes). */
#define IF_MATCH_MAX 128

enum kind_sel { K_NONE = -1, K_IND = GH_DPS_INDIVIDUAL, K_GRP = GH_DPS_GROUP };

struct ctx {
    struct gh_hub *hub;
    struct gh_dps_store *ds;
    struct gh_http_request *req;
    const char *arg; /* the path's placeholder (an id), or NULL */
    enum kind_sel kind;
};

typedef void (*handler)(struct ctx *c);

struct route {
    const char *method;
    const char *pat[ROUTE_SEGS_MAX + 1];
    enum kind_sel kind;
    handler fn;
};

static void enrollment_put(struct ctx *c);
static void enrollment_get(struct ctx *c);
static void enrollment_delete(struct ctx *c);
static void attestation_get(struct ctx *c);
static void bulk(struct ctx *c);
static void enrollment_query(struct ctx *c);
static void registration_query(struct ctx *c);
static void registration_get(struct ctx *c);
static void registration_delete(struct ctx *c);

/* Literal segments compare case-insensitively; "*" is the id. Order
 * matters: "POST enrollments/query" is tried before ids. */
static const struct route routes[] = {
    {"POST", {"enrollments"}, K_IND, bulk},
    {"POST", {"enrollments", "query"}, K_IND, enrollment_query},
    {"POST", {"enrollmentGroups", "query"}, K_GRP, enrollment_query},
    {"POST", {"registrations", "*", "query"}, K_NONE, registration_query},
    {"PUT", {"enrollments", "*"}, K_IND, enrollment_put},
    {"GET", {"enrollments", "*"}, K_IND, enrollment_get},
    {"DELETE", {"enrollments", "*"}, K_IND, enrollment_delete},
    {"POST", {"enrollments", "*", "attestationmechanism"}, K_IND, attestation_get},
    {"PUT", {"enrollmentGroups", "*"}, K_GRP, enrollment_put},
    {"GET", {"enrollmentGroups", "*"}, K_GRP, enrollment_get},
    {"DELETE", {"enrollmentGroups", "*"}, K_GRP, enrollment_delete},
    {"POST", {"enrollmentGroups", "*", "attestationmechanism"}, K_GRP, attestation_get},
    {"GET", {"registrations", "*"}, K_NONE, registration_get},
    {"DELETE", {"registrations", "*"}, K_NONE, registration_delete},
};

#define NROUTES (sizeof routes / sizeof routes[0])

static bool matches(const struct route *r, const char *const *seg, size_t nseg, const char **arg)
{
    size_t k = 0;
    for (; k < ROUTE_SEGS_MAX && r->pat[k] != NULL; k++) {
        if (k >= nseg) return false;
        if (strcmp(r->pat[k], "*") == 0)
            *arg = seg[k];
        else if (strcasecmp(r->pat[k], seg[k]) != 0)
            return false;
    }
    return k == nseg;
}

/* ---- authorization -------------------------------------------------------- */

/* A service token: skn must name a DPS policy (hub policies such as
 * iothubowner are refused here even with a valid signature), then the
 * hub's policy check with the DPS host as audience and all rights. */
static bool authorize(struct ctx *c, const char *const *seg, size_t nseg)
{
    const struct gh_hub_config *cfg = gh_hub_config(c->hub);
    const char *auth = gh_http_request_header(c->req, "Authorization");
    const char *why = "";
    gh_err rc = GH_ERR_AUTH;
    struct gh_sas_token t;
    if (auth == NULL) {
        why = "no Authorization header";
    } else if (strncmp(auth, "SharedAccessSignature ", 22) != 0 ||
               gh_sas_parse(gh_slice_cstr(auth), &t) != GH_OK) {
        why = "malformed token";
    } else {
        size_t n = strlen(GH_DPS_SERVICE_POLICY);
        bool dps_policy = t.skn.len == n && memcmp(t.skn.ptr, GH_DPS_SERVICE_POLICY, n) == 0;
        gh_secure_zero(&t, sizeof t);
        if (!dps_policy) {
            why = "token does not name a provisioning service policy";
        } else {
            struct gh_hub_rest_auth_req a = {
                .authorization = auth,
                .host = cfg->dps_hostname,
                .resource = seg,
                .nresource = nseg,
                .rights = GH_RIGHT_PROVISIONING,
                .now_s = gh_hub_now_ms() / 1000,
                .skew_s = (uint32_t)cfg->sas_skew,
            };
            rc = gh_hub_rest_authorize(gh_hub_store(c->hub), &a, &why);
        }
    }
    if (rc == GH_OK) return true;
    switch (rc) {
    case GH_ERR_AUTH:
    case GH_ERR_BAD_SAS:
    case GH_ERR_TOO_LARGE:
    case GH_ERR_EXPIRED:
    case GH_ERR_FORBIDDEN:
        gh_log_info("dps.service.auth.denied", "peer=%s method=%s reason=\"%s\"",
                    gh_http_request_peer_addr(c->req), gh_http_request_method(c->req), why);
        gh_hub_rest_dps_error(c->req, GH_DPS_ERR_SERVICE_AUTH, "Unauthorized.");
        return false;
    default:
        gh_log_error("dps.service.auth.error", "err=%s reason=\"%s\"", gh_err_name(rc), why);
        gh_hub_rest_dps_error(c->req, GH_DPS_ERR_INTERNAL, "Internal error.");
        return false;
    }
}

/* ---- shared pieces ---------------------------------------------------------- */

/* A store error as an answer. */
static void store_error(struct ctx *c, gh_err rc, const char *what)
{
    switch (rc) {
    case GH_ERR_ARG:
        gh_hub_rest_dps_error(c->req, GH_DPS_ERR_BAD_REQUEST, "Invalid id.");
        return;
    case GH_ERR_NOT_FOUND: {
        char msg[96];
        snprintf(msg, sizeof msg, "%s not found.", what);
        gh_hub_rest_dps_error(c->req, GH_DPS_ERR_ENROLLMENT_404, msg);
        return;
    }
    case GH_ERR_ETAG_MISMATCH:
        gh_hub_rest_dps_error(c->req, GH_DPS_ERR_PRECONDITION,
                              "Precondition failed: etag mismatch.");
        return;
    default:
        gh_log_error("dps.service.store", "err=%s detail=\"%s\"", gh_err_name(rc),
                     gh_dps_store_errmsg(c->ds));
        gh_hub_rest_dps_error(c->req, GH_DPS_ERR_INTERNAL, "Internal error.");
        return;
    }
}

/* The If-Match of the request (quotes and W/ removed) into buf; *out NULL
 * when absent. On a malformed one answers 400 and returns false. */
static bool if_match(struct ctx *c, char *buf, size_t cap, const char **out)
{
    const char *h = gh_http_request_header(c->req, "If-Match");
    if (gh_hub_rest_if_match(h, buf, cap, out) == GH_OK) return true;
    gh_hub_rest_dps_error(c->req, GH_DPS_ERR_BAD_REQUEST, "Malformed If-Match.");
    return false;
}

/* The body as one JSON value; on failure answers and returns NULL. */
static json_t *body_json(struct ctx *c, size_t max)
{
    struct gh_slice b = gh_http_request_body(c->req);
    if (b.len > max) {
        gh_hub_rest_dps_error(c->req, GH_DPS_ERR_TOO_LARGE, "Request body too large.");
        return NULL;
    }
    json_error_t jerr;
    json_t *j = json_loadb((const char *)b.ptr, b.len, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL) gh_hub_rest_dps_error(c->req, GH_DPS_ERR_BAD_REQUEST, "Malformed JSON body.");
    return j;
}

static const char *kind_name(enum kind_sel k)
{
    return k == K_GRP ? "Enrollment group" : "Enrollment";
}

/* Answer 200 with the enrollment's JSON and its ETag. */
static void reply_enrollment(struct ctx *c, const struct gh_dps_enrollment *e)
{
    json_t *j = NULL;
    gh_err rc = gh_dps_enrollment_to_json(e, &j);
    if (rc != GH_OK) {
        store_error(c, rc, kind_name(c->kind));
        return;
    }
    char etag[GH_DPS_ETAG_MAX + 3];
    snprintf(etag, sizeof etag, "\"%s\"", e->etag);
    struct gh_http_kv h = {"ETag", etag};
    gh_hub_rest_dps_reply(c->req, 200, j, e->etag[0] ? &h : NULL);
}

/* ---- enrollments and groups ------------------------------------------------- */

static void enrollment_put(struct ctx *c)
{
    json_t *j = body_json(c, GH_DPS_JSON_MAX);
    if (j == NULL) return;
    struct gh_dps_enrollment in, out;
    memset(&in, 0, sizeof in);
    memset(&out, 0, sizeof out);
    char why[GH_DPS_REASON_MAX + 1] = "";
    gh_err rc = gh_dps_enrollment_from_json(j, (enum gh_dps_kind)c->kind, &in, why, sizeof why);
    json_decref(j);
    if (rc == GH_ERR_NOMEM) {
        store_error(c, rc, kind_name(c->kind));
        return;
    }
    if (rc != GH_OK) {
        gh_hub_rest_dps_error(c->req, GH_DPS_ERR_BAD_REQUEST, why[0] ? why : "Invalid enrollment.");
        return;
    }
    char k1[GH_DPS_ID_MAX + 1], k2[GH_DPS_ID_MAX + 1];
    if (gh_dps_id_key(c->arg, k1) != GH_OK || gh_dps_id_key(in.id, k2) != GH_OK ||
        strcmp(k1, k2) != 0) {
        gh_dps_enrollment_cleanup(&in);
        gh_hub_rest_dps_error(c->req, GH_DPS_ERR_BAD_REQUEST,
                              "The id in the body does not match the id in the path.");
        return;
    }
    char buf[IF_MATCH_MAX];
    const char *im = NULL;
    if (!if_match(c, buf, sizeof buf, &im)) {
        gh_dps_enrollment_cleanup(&in);
        return;
    }
    bool created = false;
    rc = gh_dps_store_enrollment_put(c->ds, &in, im, &out, &created);
    gh_dps_enrollment_cleanup(&in);
    if (rc == GH_ERR_NOT_FOUND) rc = GH_ERR_ETAG_MISMATCH; /* If-Match on a missing record */
    if (rc != GH_OK) {
        store_error(c, rc, kind_name(c->kind));
        return;
    }
    char idl[GH_DPS_ID_MAX * 4 + 8];
    gh_log_info("dps.enrollment.put", "kind=%s id=%s created=%d",
                c->kind == K_GRP ? "group" : "individual",
                gh_log_escape(idl, sizeof idl, out.id, strlen(out.id), 0), created);
    reply_enrollment(c, &out);
    gh_dps_enrollment_cleanup(&out);
}

static void enrollment_get(struct ctx *c)
{
    struct gh_dps_enrollment e;
    memset(&e, 0, sizeof e);
    gh_err rc = gh_dps_store_enrollment_get(c->ds, (enum gh_dps_kind)c->kind, c->arg, &e);
    if (rc != GH_OK) {
        store_error(c, rc, kind_name(c->kind));
        return;
    }
    reply_enrollment(c, &e);
    gh_dps_enrollment_cleanup(&e);
}

static void enrollment_delete(struct ctx *c)
{
    char buf[IF_MATCH_MAX];
    const char *im = NULL;
    if (!if_match(c, buf, sizeof buf, &im)) return;
    gh_err rc = gh_dps_store_enrollment_delete(c->ds, (enum gh_dps_kind)c->kind, c->arg, im);
    if (rc != GH_OK) {
        store_error(c, rc, kind_name(c->kind));
        return;
    }
    gh_hub_rest_dps_reply(c->req, 204, NULL, NULL);
}

static void attestation_get(struct ctx *c)
{
    struct gh_dps_enrollment e;
    memset(&e, 0, sizeof e);
    gh_err rc = gh_dps_store_enrollment_get(c->ds, (enum gh_dps_kind)c->kind, c->arg, &e);
    json_t *j = NULL;
    if (rc == GH_OK) rc = gh_dps_attestation_to_json(&e, &j);
    gh_dps_enrollment_cleanup(&e);
    if (rc != GH_OK) {
        store_error(c, rc, kind_name(c->kind));
        return;
    }
    gh_hub_rest_dps_reply(c->req, 200, j, NULL);
}

/* ---- bulk (individual enrollments only, as the SDK) ------------------------ */

enum bulk_mode { B_CREATE, B_UPDATE, B_UPDATE_IF_MATCH, B_DELETE };

static bool bulk_mode(const char *s, enum bulk_mode *m)
{
    static const struct {
        const char *name;
        enum bulk_mode m;
    } modes[] = {{"create", B_CREATE},
                 {"update", B_UPDATE},
                 {"updateIfMatchEtag", B_UPDATE_IF_MATCH},
                 {"delete", B_DELETE}};
    for (size_t i = 0; s && i < sizeof modes / sizeof modes[0]; i++) {
        if (strcasecmp(s, modes[i].name) == 0) {
            *m = modes[i].m;
            return true;
        }
    }
    return false;
}

/* Append {"registrationId","errorCode","errorStatus"} to errs. */
static gh_err bulk_fail(json_t *errs, const char *id, int32_t code, const char *status)
{
    json_t *e = json_pack("{s:s, s:i, s:s}", "registrationId", id ? id : "", "errorCode",
                          (json_int_t)code, "errorStatus", status);
    GH_ENSURE(e != NULL, GH_ERR_NOMEM);
    GH_ENSURE(json_array_append_new(errs, e) == 0, GH_ERR_NOMEM);
    return GH_OK;
}

/* One entry of a bulk operation; record outcomes are appended to errs,
 * only internal failures are returned. */
static gh_err bulk_one(struct ctx *c, enum bulk_mode m, const json_t *item, json_t *errs)
{
    const char *id = json_string_value(json_object_get(item, "registrationId"));
    const char *etag = json_string_value(json_object_get(item, "etag"));
    if (m == B_DELETE) {
        if (id == NULL)
            return bulk_fail(errs, NULL, GH_DPS_ERR_BAD_REQUEST, "registrationId missing");
        gh_err rc = gh_dps_store_enrollment_delete(c->ds, GH_DPS_INDIVIDUAL, id, etag);
        if (rc == GH_ERR_NOT_FOUND)
            return bulk_fail(errs, id, GH_DPS_ERR_ENROLLMENT_404, "Enrollment not found.");
        if (rc == GH_ERR_ETAG_MISMATCH)
            return bulk_fail(errs, id, GH_DPS_ERR_PRECONDITION, "Precondition failed.");
        if (rc == GH_ERR_ARG) return bulk_fail(errs, id, GH_DPS_ERR_BAD_REQUEST, "Invalid id.");
        return rc;
    }
    struct gh_dps_enrollment e;
    memset(&e, 0, sizeof e);
    char why[GH_DPS_REASON_MAX + 1] = "";
    gh_err rc = gh_dps_enrollment_from_json(item, GH_DPS_INDIVIDUAL, &e, why, sizeof why);
    if (rc == GH_ERR_NOMEM) return rc;
    if (rc != GH_OK) return bulk_fail(errs, id, GH_DPS_ERR_BAD_REQUEST, why);
    if (m == B_CREATE) {
        struct gh_dps_enrollment cur;
        memset(&cur, 0, sizeof cur);
        rc = gh_dps_store_enrollment_get(c->ds, GH_DPS_INDIVIDUAL, e.id, &cur);
        gh_dps_enrollment_cleanup(&cur);
        if (rc == GH_OK) {
            rc = bulk_fail(errs, e.id, GH_DPS_ERR_CONFLICT, "Enrollment already exists.");
            gh_dps_enrollment_cleanup(&e);
            return rc;
        }
        if (rc != GH_ERR_NOT_FOUND) {
            gh_dps_enrollment_cleanup(&e);
            return rc;
        }
    }
    rc = gh_dps_store_enrollment_put(c->ds, &e, m == B_UPDATE_IF_MATCH ? e.etag : NULL, NULL, NULL);
    if (rc == GH_ERR_NOT_FOUND || rc == GH_ERR_ETAG_MISMATCH)
        rc = bulk_fail(errs, e.id, GH_DPS_ERR_PRECONDITION, "Precondition failed.");
    else if (rc == GH_ERR_ARG)
        rc = bulk_fail(errs, e.id, GH_DPS_ERR_BAD_REQUEST, "Invalid enrollment.");
    gh_dps_enrollment_cleanup(&e);
    return rc;
}

static void bulk(struct ctx *c)
{
    json_t *j = body_json(c, (size_t)GH_DPS_JSON_MAX * GH_DPS_REST_BULK_MAX);
    if (j == NULL) return;
    enum bulk_mode m;
    json_t *list = json_object_get(j, "enrollments");
    if (!json_is_object(j) || !bulk_mode(json_string_value(json_object_get(j, "mode")), &m) ||
        !json_is_array(list) || json_array_size(list) == 0) {
        json_decref(j);
        gh_hub_rest_dps_error(c->req, GH_DPS_ERR_BAD_REQUEST,
                              "Expected {\"mode\": create|update|updateIfMatchEtag|delete, "
                              "\"enrollments\": [...]}.");
        return;
    }
    if (json_array_size(list) > GH_DPS_REST_BULK_MAX) {
        json_decref(j);
        gh_hub_rest_dps_error(c->req, GH_DPS_ERR_BAD_REQUEST,
                              "Too many enrollments in one bulk operation.");
        return;
    }
    json_t *errs = json_array();
    gh_err rc = errs ? GH_OK : GH_ERR_NOMEM;
    for (size_t i = 0; rc == GH_OK && i < json_array_size(list); i++) {
        const json_t *item = json_array_get(list, i);
        if (!json_is_object(item))
            rc = bulk_fail(errs, NULL, GH_DPS_ERR_BAD_REQUEST, "not an object");
        else
            rc = bulk_one(c, m, item, errs);
    }
    json_decref(j);
    if (rc != GH_OK) {
        json_decref(errs);
        store_error(c, rc, "Enrollment");
        return;
    }
    json_t *res =
        json_pack("{s:b, s:o}", "isSuccessful", json_array_size(errs) == 0, "errors", errs);
    if (res == NULL) {
        gh_hub_rest_dps_error(c->req, GH_DPS_ERR_INTERNAL, "Internal error.");
        return;
    }
    gh_hub_rest_dps_reply(c->req, 200, res, NULL);
}

/* ---- queries ----------------------------------------------------------------- */

/* Page size and continuation of a query request; the body must be an
 * object with a string "query" (its text is not interpreted: every record
 * matches, docs/dps.md). On failure answers 400 and returns false. */
static bool query_args(struct ctx *c, size_t *limit, const char **after)
{
    json_t *j = body_json(c, GH_DPS_JSON_MAX);
    if (j == NULL) return false;
    bool ok = json_is_object(j) && json_is_string(json_object_get(j, "query"));
    json_decref(j);
    if (!ok) {
        gh_hub_rest_dps_error(c->req, GH_DPS_ERR_BAD_REQUEST, "Expected {\"query\": \"...\"}.");
        return false;
    }
    const char *n = gh_http_request_header(c->req, "x-ms-max-item-count");
    uint64_t v = GH_DPS_REST_PAGE_DEFAULT;
    if (n != NULL && gh_hub_rest_parse_uint(n, UINT32_MAX, &v) != GH_OK) {
        gh_hub_rest_dps_error(c->req, GH_DPS_ERR_BAD_REQUEST, "Invalid x-ms-max-item-count.");
        return false;
    }
    if (v == 0) v = GH_DPS_REST_PAGE_DEFAULT;
    if (v > GH_DPS_REST_PAGE_MAX) v = GH_DPS_REST_PAGE_MAX;
    *limit = (size_t)v;
    *after = gh_http_request_header(c->req, "x-ms-continuation");
    if (*after != NULL && (*after)[0] != '\0' &&
        !gh_iothub_valid_registration_id(gh_slice_cstr(*after))) {
        gh_hub_rest_dps_error(c->req, GH_DPS_ERR_BAD_REQUEST, "Invalid x-ms-continuation.");
        return false;
    }
    return true;
}

/* Answer a page: arr (stolen), and the continuation (the key of the last
 * record) when more records follow. */
static void reply_page(struct ctx *c, json_t *arr, bool more, const char *last)
{
    char key[GH_DPS_ID_MAX + 1] = "";
    struct gh_http_kv h = {"x-ms-continuation", key};
    if (more && gh_dps_id_key(last, key) != GH_OK) more = false;
    gh_hub_rest_dps_reply(c->req, 200, arr, more ? &h : NULL);
}

static void enrollment_query(struct ctx *c)
{
    size_t limit = 0, n = 0;
    const char *after = NULL;
    if (!query_args(c, &limit, &after)) return;
    struct gh_dps_enrollment *e = calloc(limit + 1, sizeof *e);
    json_t *arr = json_array();
    gh_err rc = (e && arr) ? GH_OK : GH_ERR_NOMEM;
    if (rc == GH_OK)
        rc = gh_dps_store_enrollment_list(c->ds, (enum gh_dps_kind)c->kind, after, limit + 1, e,
                                          limit + 1, &n);
    size_t shown = n > limit ? limit : n;
    for (size_t i = 0; rc == GH_OK && i < shown; i++) {
        json_t *one = NULL;
        rc = gh_dps_enrollment_to_json(&e[i], &one);
        if (rc == GH_OK && json_array_append_new(arr, one) != 0) rc = GH_ERR_NOMEM;
    }
    char last[GH_DPS_ID_MAX + 1] = "";
    if (shown > 0) snprintf(last, sizeof last, "%s", e[shown - 1].id);
    for (size_t i = 0; e && i < n; i++) gh_dps_enrollment_cleanup(&e[i]);
    free(e);
    if (rc != GH_OK) {
        json_decref(arr);
        store_error(c, rc, kind_name(c->kind));
        return;
    }
    reply_page(c, arr, n > limit, last);
}

static void registration_query(struct ctx *c)
{
    size_t limit = 0, n = 0;
    const char *after = NULL;
    if (!query_args(c, &limit, &after)) return;
    struct gh_dps_registration *r = calloc(limit + 1, sizeof *r);
    json_t *arr = json_array();
    gh_err rc = (r && arr) ? GH_OK : GH_ERR_NOMEM;
    if (rc == GH_OK)
        rc = gh_dps_store_registration_list(c->ds, c->arg, after, limit + 1, r, limit + 1, &n);
    size_t shown = n > limit ? limit : n;
    for (size_t i = 0; rc == GH_OK && i < shown; i++) {
        json_t *one = NULL;
        rc = gh_dps_registration_to_json(&r[i], &one);
        if (rc == GH_OK && json_array_append_new(arr, one) != 0) rc = GH_ERR_NOMEM;
    }
    char last[GH_DPS_ID_MAX + 1] = "";
    if (shown > 0) snprintf(last, sizeof last, "%s", r[shown - 1].registration_id);
    free(r);
    if (rc != GH_OK) {
        json_decref(arr);
        store_error(c, rc, "Registration");
        return;
    }
    reply_page(c, arr, n > limit, last);
}

/* ---- registration states ----------------------------------------------------- */

static void registration_get(struct ctx *c)
{
    struct gh_dps_registration r;
    gh_err rc = gh_dps_store_registration_get(c->ds, c->arg, &r);
    json_t *j = NULL;
    if (rc == GH_OK) rc = gh_dps_registration_to_json(&r, &j);
    if (rc != GH_OK) {
        store_error(c, rc, "Registration");
        return;
    }
    gh_hub_rest_dps_reply(c->req, 200, j, NULL);
}

static void registration_delete(struct ctx *c)
{
    char buf[IF_MATCH_MAX];
    const char *im = NULL;
    if (!if_match(c, buf, sizeof buf, &im)) return;
    gh_err rc = gh_dps_store_registration_delete(c->ds, c->arg, im);
    if (rc != GH_OK) {
        store_error(c, rc, "Registration");
        return;
    }
    gh_hub_rest_dps_reply(c->req, 204, NULL, NULL);
}

/* ---- dispatch ------------------------------------------------------------------ */

void gh_hub_rest_dps_service(struct gh_hub_rest *r, struct gh_http_request *req,
                             const char *const *seg, size_t nseg)
{
    const char *method = gh_http_request_method(req);
    bool path_known = false;
    char allow[64] = "";
    for (size_t i = 0; i < NROUTES; i++) {
        struct ctx c = {.hub = r->hub, .ds = gh_hub_dps_store(r->hub), .req = req};
        if (!matches(&routes[i], seg, nseg, &c.arg)) continue;
        path_known = true;
        if (strcmp(routes[i].method, method) != 0) {
            if (strstr(allow, routes[i].method) == NULL) {
                if (allow[0] != '\0') strncat(allow, ", ", sizeof allow - strlen(allow) - 1);
                strncat(allow, routes[i].method, sizeof allow - strlen(allow) - 1);
            }
            continue;
        }
        c.kind = routes[i].kind;
        if (!authorize(&c, seg, nseg)) return;
        routes[i].fn(&c);
        return;
    }
    if (path_known) {
        json_t *doc = NULL;
        if (gh_dps_doc_error(GH_DPS_ERR_METHOD, "Method not allowed.", gh_hub_now_ms(), &doc,
                             NULL) != GH_OK) {
            gh_http_request_release(req);
            return;
        }
        struct gh_http_kv h = {"Allow", allow};
        gh_hub_rest_dps_reply(req, 405, doc, &h);
        return;
    }
    gh_hub_rest_dps_error(req, GH_DPS_ERR_NO_ROUTE, "No such resource.");
}
