/* Device scope for IoT Edge gateways (PROTOCOL.md 6.10): the identities an
 * Edge device caches so its children authenticate while the hub is
 * unreachable, in the shapes edgeHub asks for them. The scope of an Edge
 * device is the device itself and every device whose parent scope is its
 * deviceScope; it is paged in device id order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/encoding.h"
#include "common/log.h"
#include "hub/rest_int.h"
#include "iothub/username.h"

/* Children read per store call while filling a page. */
#define SCOPE_CHUNK 64
#define TOKEN_PARAM "continuationToken"
#define TOKEN_PARAM_MAX 32 /* longest query parameter name compared */
#define EDGE_HUB "$edgeHub"

/* ---- pure parsers ------------------------------------------------------------ */

/* Copy an id slice into out (GH_IDENTITY_ID_MAX + 1 bytes) if it is a
 * valid device (module false) or module id. */
static bool take_id(struct gh_slice id, bool module, char *out)
{
    bool ok = module ? gh_iothub_valid_module_id(id) : gh_iothub_valid_device_id(id);
    return ok && gh_slice_to_cstr(id, out, GH_IDENTITY_ID_MAX + 1) == GH_OK;
}

gh_err gh_hub_rest_scope_chain(struct gh_slice text, struct gh_hub_rest_scope_req *out)
{
    char ids[GH_REST_SCOPE_CHAIN_MAX][GH_IDENTITY_ID_MAX + 1];
    size_t n = 0;
    struct gh_reader r;
    gh_reader_init(&r, text.ptr, text.len);
    GH_ENSURE(text.len > 0, GH_ERR_MALFORMED);
    bool more = true;
    while (more) {
        struct gh_slice id;
        more = gh_reader_split(&r, ';', &id);
        GH_ENSURE(n < GH_REST_SCOPE_CHAIN_MAX, GH_ERR_TOO_MANY);
        GH_ENSURE(take_id(id, false, ids[n]), GH_ERR_MALFORMED);
        n++;
    }
    memcpy(out->chain, ids, sizeof ids);
    out->nchain = n;
    return GH_OK;
}

gh_err gh_hub_rest_scope_link_parse(struct gh_slice link, char *after)
{
    GH_ENSURE(link.len <= GH_REST_SCOPE_LINK_MAX, GH_ERR_TOO_LARGE);
    struct gh_reader r;
    gh_reader_init(&r, link.ptr, link.len);
    struct gh_slice part;
    GH_ENSURE(gh_reader_split(&r, '?', &part), GH_ERR_NOT_FOUND); /* the path */
    char found[GH_IDENTITY_ID_MAX + 1];
    bool have = false, more = true;
    while (more) {
        struct gh_slice param, name, value;
        more = gh_reader_split(&r, '&', &param);
        struct gh_reader pr;
        gh_reader_init(&pr, param.ptr, param.len);
        bool has_value = gh_reader_split(&pr, '=', &name);
        value = gh_reader_rest(&pr);
        char nbuf[TOKEN_PARAM_MAX + 1];
        struct gh_writer nw;
        gh_writer_init(&nw, nbuf, sizeof nbuf);
        if (gh_pct_decode((const char *)name.ptr, name.len, &nw) != GH_OK ||
            gh_writer_terminate(&nw) != GH_OK ||
            !gh_slice_eq_nocase(gh_writer_slice(&nw), gh_slice_cstr(TOKEN_PARAM)))
            continue;
        GH_ENSURE(!have && has_value, GH_ERR_MALFORMED);
        uint8_t vbuf[GH_IDENTITY_ID_MAX];
        struct gh_writer vw;
        gh_writer_init(&vw, vbuf, sizeof vbuf);
        GH_ENSURE(gh_pct_decode((const char *)value.ptr, value.len, &vw) == GH_OK,
                  GH_ERR_MALFORMED);
        GH_ENSURE(take_id(gh_writer_slice(&vw), false, found), GH_ERR_MALFORMED);
        have = true;
    }
    GH_ENSURE(have, GH_ERR_NOT_FOUND);
    memcpy(after, found, sizeof found);
    return GH_OK;
}

gh_err gh_hub_rest_scope_link_make(bool legacy, const char *edge, const char *after, uint32_t count,
                                   char *out, size_t cap)
{
    struct gh_writer w;
    gh_writer_init(&w, out, cap);
    char num[16];
    snprintf(num, sizeof num, "%u", (unsigned)count);
    GH_GUARD(gh_writer_cstr(&w, "/devices/"));
    GH_GUARD(gh_pct_encode(edge, strlen(edge), &w));
    GH_GUARD(gh_writer_cstr(&w, "/modules/" EDGE_HUB "/"));
    if (legacy) {
        GH_GUARD(gh_writer_cstr(&w, "devicesAndModulesInDeviceScope?deviceCount="));
        GH_GUARD(gh_writer_cstr(&w, num));
        GH_GUARD(gh_writer_cstr(&w, "&"));
    } else {
        GH_GUARD(gh_writer_cstr(&w, "devicesAndModulesInTargetDeviceScope?"));
    }
    GH_GUARD(gh_writer_cstr(&w, TOKEN_PARAM "="));
    GH_GUARD(gh_pct_encode(after, strlen(after), &w));
    GH_GUARD(gh_writer_cstr(&w, "&api-version="));
    GH_GUARD(gh_writer_cstr(&w, legacy ? GH_REST_SCOPE_API_LEGACY : GH_REST_SCOPE_API_NESTED));
    return gh_writer_terminate(&w);
}

static gh_err fail(char *err, size_t errlen, gh_err rc, const char *why)
{
    if (errlen > 0) snprintf(err, errlen, "%s", why);
    return rc;
}

/* A member that must be a string, or absent / null (*out NULL). */
static gh_err opt_string(const json_t *body, const char *name, const char **out, char *err,
                         size_t errlen)
{
    json_t *v = json_object_get(body, name);
    *out = NULL;
    if (v == NULL || json_is_null(v)) return GH_OK;
    if (!json_is_string(v)) {
        if (errlen > 0) snprintf(err, errlen, "%s must be a string", name);
        return GH_ERR_BAD_JSON;
    }
    *out = json_string_value(v);
    return GH_OK;
}

/* The authChain member: required, parsed into q. */
static gh_err auth_chain(const json_t *body, struct gh_hub_rest_scope_req *q, char *err,
                         size_t errlen)
{
    const char *s;
    GH_GUARD(opt_string(body, "authChain", &s, err, errlen));
    if (s == NULL) return fail(err, errlen, GH_ERR_ARG, "authChain is required");
    if (gh_hub_rest_scope_chain(gh_slice_cstr(s), q) != GH_OK)
        return fail(err, errlen, GH_ERR_ARG,
                    "authChain must be 1 to 5 device ids separated by ';'");
    return GH_OK;
}

gh_err gh_hub_rest_scope_parse_target(const json_t *body, struct gh_hub_rest_scope_req *out,
                                      char *err, size_t errlen)
{
    if (!json_is_object(body)) return fail(err, errlen, GH_ERR_BAD_JSON, "body must be an object");
    struct gh_hub_rest_scope_req *q = calloc(1, sizeof *q);
    if (q == NULL) return fail(err, errlen, GH_ERR_NOMEM, "out of memory");
    gh_err rc = GH_OK;
    q->page_size = GH_REST_SCOPE_PAGE_DEFAULT;
    json_t *ps = json_object_get(body, "pageSize");
    if (ps != NULL && !json_is_null(ps)) {
        if (!json_is_integer(ps)) {
            rc = fail(err, errlen, GH_ERR_BAD_JSON, "pageSize must be an integer");
            goto out;
        }
        json_int_t v = json_integer_value(ps);
        if (v < 0) {
            rc = fail(err, errlen, GH_ERR_ARG, "pageSize must not be negative");
            goto out;
        }
        if (v > 0)
            q->page_size =
                v > (json_int_t)GH_REST_SCOPE_PAGE_MAX ? GH_REST_SCOPE_PAGE_MAX : (uint32_t)v;
    }
    const char *link;
    if ((rc = opt_string(body, "continuationLink", &link, err, errlen)) != GH_OK) goto out;
    if (link != NULL && link[0] != '\0' &&
        gh_hub_rest_scope_link_parse(gh_slice_cstr(link), q->after) != GH_OK) {
        rc = fail(err, errlen, GH_ERR_ARG, "continuationLink is not one this hub made");
        goto out;
    }
    if ((rc = auth_chain(body, q, err, errlen)) != GH_OK) goto out;
    *out = *q;
out:
    free(q);
    return rc;
}

gh_err gh_hub_rest_scope_parse_on_behalf_of(const json_t *body, struct gh_hub_rest_scope_req *out,
                                            char *err, size_t errlen)
{
    if (!json_is_object(body)) return fail(err, errlen, GH_ERR_BAD_JSON, "body must be an object");
    struct gh_hub_rest_scope_req *q = calloc(1, sizeof *q);
    if (q == NULL) return fail(err, errlen, GH_ERR_NOMEM, "out of memory");
    const char *dev, *mod;
    gh_err rc = opt_string(body, "targetDeviceId", &dev, err, errlen);
    if (rc == GH_OK) rc = opt_string(body, "targetModuleId", &mod, err, errlen);
    if (rc != GH_OK) goto out;
    if (dev == NULL || !take_id(gh_slice_cstr(dev), false, q->target_device)) {
        rc = fail(err, errlen, GH_ERR_ARG, "targetDeviceId must be a valid device id");
        goto out;
    }
    if (mod != NULL && mod[0] != '\0' && !take_id(gh_slice_cstr(mod), true, q->target_module)) {
        rc = fail(err, errlen, GH_ERR_ARG, "targetModuleId must be a valid module id");
        goto out;
    }
    if ((rc = auth_chain(body, q, err, errlen)) != GH_OK) goto out;
    q->page_size = 1;
    *out = *q;
out:
    free(q);
    return rc;
}

/* ---- the scope in the store --------------------------------------------------- */

/* Is child in the scope of Edge device edge (6.2)? */
static bool in_scope(const struct gh_identity *edge, const struct gh_identity *child)
{
    return edge->iot_edge && edge->device_scope[0] != '\0' &&
           strcmp(child->parent_scope, edge->device_scope) == 0;
}

/* Check authChain q->chain against the registry: its last id must be the
 * acting device, every id but the first an Edge device, and each id in the
 * scope of the one after it. *first receives chain[0]'s identity.
 * Errors: GH_ERR_NOT_FOUND (the actor does not exist), GH_ERR_AUTH (the
 * chain does not end at the actor or is broken), the store's. */
static gh_err walk_chain(struct gh_store *s, const char *actor,
                         const struct gh_hub_rest_scope_req *q, struct gh_identity *first)
{
    GH_ENSURE(q->nchain > 0 && strcmp(q->chain[q->nchain - 1], actor) == 0, GH_ERR_AUTH);
    struct gh_identity *id = calloc(2, sizeof *id);
    GH_ENSURE(id != NULL, GH_ERR_NOMEM);
    struct gh_identity *up = &id[0], *low = &id[1];
    gh_err rc = gh_store_identity_get(s, actor, NULL, up);
    for (size_t i = q->nchain - 1; rc == GH_OK && i > 0; i--) {
        rc = gh_store_identity_get(s, q->chain[i - 1], NULL, low);
        if (rc == GH_ERR_NOT_FOUND || (rc == GH_OK && !in_scope(up, low))) rc = GH_ERR_AUTH;
        struct gh_identity *t = up;
        up = low;
        low = t;
    }
    if (rc == GH_OK) *first = *up;
    gh_identity_wipe(&id[0]);
    gh_identity_wipe(&id[1]);
    free(id);
    return rc;
}

/* Append the identity's JSON to arr. */
static gh_err emit(json_t *arr, const struct gh_identity *id)
{
    json_t *j = NULL;
    GH_GUARD(gh_identity_to_json(id, &j));
    if (json_array_append_new(arr, j) != 0) return GH_ERR_NOMEM;
    return GH_OK;
}

/* One page of edge's scope after `after` into devs; *more tells whether
 * identities follow, *last is the last id put in the page. */
static gh_err fill_page(struct gh_store *s, const struct gh_identity *edge, const char *after,
                        uint32_t page, json_t *devs, char *last, bool *more)
{
    struct gh_identity *buf = calloc(SCOPE_CHUNK, sizeof *buf);
    GH_ENSURE(buf != NULL, GH_ERR_NOMEM);
    char cursor[GH_IDENTITY_ID_MAX + 1];
    snprintf(cursor, sizeof cursor, "%s", after);
    last[0] = '\0';
    bool edge_pending = strcmp(edge->device_id, after) > 0;
    uint32_t emitted = 0;
    gh_err rc = GH_OK;
    bool exhausted = edge->device_scope[0] == '\0';
    while (rc == GH_OK && emitted < page && !exhausted) {
        size_t want = page - emitted < SCOPE_CHUNK ? page - emitted : SCOPE_CHUNK, n = 0;
        rc = gh_store_identity_list_children(s, edge->device_scope, cursor, want, buf, want, &n);
        for (size_t i = 0; rc == GH_OK && i < n && emitted < page; i++) {
            if (edge_pending && strcmp(edge->device_id, buf[i].device_id) < 0) {
                rc = emit(devs, edge);
                snprintf(last, GH_IDENTITY_ID_MAX + 1, "%s", edge->device_id);
                edge_pending = false;
                emitted++;
                if (rc != GH_OK || emitted == page) break;
            }
            rc = emit(devs, &buf[i]);
            snprintf(last, GH_IDENTITY_ID_MAX + 1, "%s", buf[i].device_id);
            snprintf(cursor, sizeof cursor, "%s", buf[i].device_id);
            emitted++;
        }
        for (size_t i = 0; i < n; i++) gh_identity_wipe(&buf[i]);
        if (n < want) exhausted = true;
    }
    if (rc == GH_OK && edge_pending && emitted < page) {
        rc = emit(devs, edge);
        snprintf(last, GH_IDENTITY_ID_MAX + 1, "%s", edge->device_id);
        edge_pending = false;
        emitted++;
    }
    *more = false;
    if (rc == GH_OK && emitted == page) {
        /* Everything left sorts after last: is there anything? */
        size_t n = 0;
        if (edge_pending)
            *more = true;
        else if (edge->device_scope[0] != '\0' &&
                 (rc = gh_store_identity_list_children(s, edge->device_scope, last, 1, buf, 1,
                                                       &n)) == GH_OK)
            *more = n > 0;
        if (n > 0) gh_identity_wipe(&buf[0]);
    }
    free(buf);
    return rc;
}

/* Answer {"devices":[...],"modules":[],"continuationLink":...}. */
static void reply_page(struct gh_hub_rest_ctx *c, const struct gh_identity *edge, const char *after,
                       uint32_t page, bool legacy)
{
    struct gh_store *s = gh_hub_store(c->rest->hub);
    json_t *devs = json_array(), *mods = json_array();
    char last[GH_IDENTITY_ID_MAX + 1];
    char link[GH_REST_SCOPE_LINK_MAX];
    bool more = false;
    gh_err rc = devs && mods ? fill_page(s, edge, after, page, devs, last, &more) : GH_ERR_NOMEM;
    if (rc == GH_OK && more)
        rc = gh_hub_rest_scope_link_make(legacy, c->arg[0], last, page, link, sizeof link);
    if (rc != GH_OK) {
        json_decref(devs);
        json_decref(mods);
        gh_hub_rest_reply_store_error(c, rc, edge->device_id, NULL);
        return;
    }
    gh_log_debug("rest.scope.page", "count=%zu more=%s", json_array_size(devs),
                 more ? "true" : "false");
    json_t *body = json_pack("{s:o,s:o,s:o}", "devices", devs, "modules", mods, "continuationLink",
                             more ? json_string(link) : json_null());
    if (body == NULL) {
        gh_hub_rest_reply_error(c->req, GH_REST_SERVER_ERROR, "out of memory");
        return;
    }
    gh_hub_rest_reply(c->req, 200, body, NULL);
}

/* Answer a walk_chain failure for a scope listing. */
static void chain_error(struct gh_hub_rest_ctx *c, gh_err rc)
{
    if (rc == GH_ERR_AUTH)
        gh_hub_rest_reply_error(c->req, GH_REST_UNAUTHORIZED,
                                "authChain is not a chain of IoT Edge devices ending at %s",
                                c->arg[0]);
    else
        gh_hub_rest_reply_store_error(c, rc, c->arg[0], NULL);
}

/* ---- handlers ------------------------------------------------------------------ */

void gh_hub_rest_scope_target(struct gh_hub_rest_ctx *c)
{
    if (!gh_hub_rest_check_ids(c, c->arg[0], NULL)) return;
    json_t *body = gh_hub_rest_body_json(c);
    if (body == NULL) return;
    struct gh_hub_rest_scope_req *q = calloc(1, sizeof *q);
    struct gh_identity *edge = calloc(1, sizeof *edge);
    char err[128] = "out of memory";
    gh_err rc = q && edge ? gh_hub_rest_scope_parse_target(body, q, err, sizeof err) : GH_ERR_NOMEM;
    json_decref(body);
    if (rc != GH_OK) {
        gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID, "%s", err);
        goto out;
    }
    rc = walk_chain(gh_hub_store(c->rest->hub), c->arg[0], q, edge);
    if (rc == GH_OK && !edge->iot_edge && q->nchain == 1)
        gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID,
                                "Device %s is not an IoT Edge device.", c->arg[0]);
    else if (rc == GH_OK && !edge->iot_edge)
        chain_error(c, GH_ERR_AUTH);
    else if (rc != GH_OK)
        chain_error(c, rc);
    else
        reply_page(c, edge, q->after, q->page_size, false);
out:
    gh_identity_wipe(edge);
    free(edge);
    free(q);
}

void gh_hub_rest_scope_legacy(struct gh_hub_rest_ctx *c)
{
    if (!gh_hub_rest_check_ids(c, c->arg[0], NULL)) return;
    uint64_t count = GH_REST_SCOPE_PAGE_DEFAULT;
    const char *n = gh_http_request_query(c->req, "deviceCount");
    if (n != NULL && gh_hub_rest_parse_uint(n, UINT32_MAX, &count) != GH_OK) {
        gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID,
                                "deviceCount must be a non-negative integer");
        return;
    }
    if (count == 0) count = GH_REST_SCOPE_PAGE_DEFAULT;
    if (count > GH_REST_SCOPE_PAGE_MAX) count = GH_REST_SCOPE_PAGE_MAX;
    char after[GH_IDENTITY_ID_MAX + 1] = "";
    const char *t = gh_http_request_query(c->req, TOKEN_PARAM);
    if (t != NULL && t[0] != '\0' && !take_id(gh_slice_cstr(t), false, after)) {
        gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID,
                                "continuationToken is not one this hub made");
        return;
    }
    struct gh_hub_rest_scope_req *q = calloc(1, sizeof *q);
    struct gh_identity *edge = calloc(1, sizeof *edge);
    gh_err rc = GH_ERR_NOMEM;
    if (q && edge) {
        snprintf(q->chain[0], sizeof q->chain[0], "%s", c->arg[0]);
        q->nchain = 1;
        rc = walk_chain(gh_hub_store(c->rest->hub), c->arg[0], q, edge);
        if (rc == GH_OK && !edge->iot_edge) rc = GH_ERR_AUTH;
    }
    if (rc == GH_OK)
        reply_page(c, edge, after, (uint32_t)count, true);
    else if (rc == GH_ERR_AUTH)
        gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID,
                                "Device %s is not an IoT Edge device.", c->arg[0]);
    else
        chain_error(c, rc);
    gh_identity_wipe(edge);
    free(edge);
    free(q);
}

/* Find q's target in the scope chain[0] heads: chain[0] itself, or a
 * device in its scope. Errors: GH_ERR_NOT_FOUND (missing or outside the
 * scope), the store's. */
static gh_err find_target(struct gh_store *s, const struct gh_hub_rest_scope_req *q,
                          const struct gh_identity *head, struct gh_identity *out)
{
    if (strcmp(q->target_device, head->device_id) == 0) {
        *out = *head;
        return GH_OK;
    }
    GH_GUARD(gh_store_identity_get(s, q->target_device, NULL, out));
    if (!in_scope(head, out)) {
        gh_identity_wipe(out);
        return GH_ERR_NOT_FOUND;
    }
    return GH_OK;
}

void gh_hub_rest_scope_on_behalf_of(struct gh_hub_rest_ctx *c)
{
    if (!gh_hub_rest_check_ids(c, c->arg[0], NULL)) return;
    json_t *body = gh_hub_rest_body_json(c);
    if (body == NULL) return;
    struct gh_store *s = gh_hub_store(c->rest->hub);
    struct gh_hub_rest_scope_req *q = calloc(1, sizeof *q);
    struct gh_identity *id = calloc(3, sizeof *id); /* head, device, module */
    char err[128] = "out of memory";
    json_t *devs = NULL, *mods = NULL;
    gh_err rc =
        q && id ? gh_hub_rest_scope_parse_on_behalf_of(body, q, err, sizeof err) : GH_ERR_NOMEM;
    json_decref(body);
    if (rc != GH_OK) {
        gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID, "%s", err);
        goto out;
    }
    rc = walk_chain(s, c->arg[0], q, &id[0]);
    if (rc == GH_ERR_AUTH && strcmp(q->chain[q->nchain - 1], c->arg[0]) != 0) {
        chain_error(c, rc);
        goto out;
    }
    if (rc == GH_OK) rc = find_target(s, q, &id[0], &id[1]);
    /* A broken chain and a device outside the scope look like an unknown
     * device: never reveal identities outside the scope. */
    if (rc == GH_ERR_AUTH || rc == GH_ERR_NOT_FOUND) {
        gh_hub_rest_reply_error(c->req, GH_REST_DEVICE_NOT_FOUND, "Device %s is not registered.",
                                q->target_device);
        goto out;
    }
    if (rc == GH_OK && q->target_module[0] != '\0') {
        rc = gh_store_identity_get(s, q->target_device, q->target_module, &id[2]);
        if (rc == GH_ERR_NOT_FOUND) {
            gh_hub_rest_reply_error(c->req, GH_REST_MODULE_NOT_FOUND,
                                    "Module %s on device %s is not registered.", q->target_module,
                                    q->target_device);
            goto out;
        }
    }
    devs = json_array();
    mods = json_array();
    if (rc == GH_OK && (devs == NULL || mods == NULL)) rc = GH_ERR_NOMEM;
    if (rc == GH_OK) rc = emit(devs, &id[1]);
    if (rc == GH_OK && q->target_module[0] != '\0') rc = emit(mods, &id[2]);
    if (rc != GH_OK) {
        gh_hub_rest_reply_store_error(c, rc, q->target_device, NULL);
        goto out;
    }
    json_t *res = json_pack("{s:O,s:O}", "devices", devs, "modules", mods);
    if (res == NULL)
        gh_hub_rest_reply_error(c->req, GH_REST_SERVER_ERROR, "out of memory");
    else
        gh_hub_rest_reply(c->req, 200, res, NULL);
out:
    json_decref(devs);
    json_decref(mods);
    if (id != NULL)
        for (int i = 0; i < 3; i++) gh_identity_wipe(&id[i]);
    free(id);
    free(q);
}
