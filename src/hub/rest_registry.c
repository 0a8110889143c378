/* Device and module identities (PROTOCOL.md 5.2, 5.3), registry
 * statistics and applyConfigurationContent (6.10). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "hub/rest_int.h"

/* Identities read per store call when listing. */
#define LIST_PAGE 64

/* Answer 200 with the identity's JSON and its ETag. */
static void reply_identity(struct gh_hub_rest_ctx *c, const struct gh_identity *id)
{
    json_t *j = NULL;
    if (gh_identity_to_json(id, &j) != GH_OK) {
        gh_hub_rest_reply_error(c->req, GH_REST_SERVER_ERROR, "out of memory");
        return;
    }
    gh_hub_rest_reply(c->req, 200, j, id->etag);
}

/* List devices (module_of NULL) or the modules of a device, at most top. */
static void list(struct gh_hub_rest_ctx *c, const char *module_of, size_t top)
{
    struct gh_store *s = gh_hub_store(c->rest->hub);
    struct gh_identity *page = calloc(LIST_PAGE, sizeof *page);
    json_t *arr = json_array();
    char after[GH_IDENTITY_ID_MAX + 1] = "";
    gh_err rc = page && arr ? GH_OK : GH_ERR_NOMEM;
    size_t total = 0;
    while (rc == GH_OK && total < top) {
        size_t want = top - total < LIST_PAGE ? top - total : LIST_PAGE, n = 0;
        if (module_of)
            rc = gh_store_module_list(s, module_of, after, want, page, want, &n);
        else
            rc = gh_store_identity_list(s, after, want, page, want, &n);
        for (size_t i = 0; i < n && rc == GH_OK; i++) {
            json_t *j = NULL;
            rc = gh_identity_to_json(&page[i], &j);
            if (rc == GH_OK && json_array_append_new(arr, j) != 0) rc = GH_ERR_NOMEM;
        }
        if (n > 0)
            memcpy(after, module_of ? page[n - 1].module_id : page[n - 1].device_id, sizeof after);
        for (size_t i = 0; i < n; i++) gh_identity_wipe(&page[i]);
        total += n;
        if (n < want) break;
    }
    free(page);
    if (rc != GH_OK) {
        json_decref(arr);
        gh_hub_rest_reply_store_error(c, rc, module_of ? module_of : "", NULL);
        return;
    }
    gh_hub_rest_reply(c->req, 200, arr, NULL);
}

void gh_hub_rest_device_list(struct gh_hub_rest_ctx *c)
{
    uint64_t top = GH_REST_LIST_MAX;
    const char *q = gh_http_request_query(c->req, "top");
    if (q != NULL && (gh_hub_rest_parse_uint(q, GH_REST_LIST_MAX, &top) != GH_OK || top == 0)) {
        gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID, "top must be 1..%u",
                                (unsigned)GH_REST_LIST_MAX);
        return;
    }
    list(c, NULL, (size_t)top);
}

void gh_hub_rest_module_list(struct gh_hub_rest_ctx *c)
{
    if (!gh_hub_rest_check_ids(c, c->arg[0], NULL)) return;
    list(c, c->arg[0], GH_REST_LIST_MAX);
}

static void get(struct gh_hub_rest_ctx *c, const char *dev, const char *mod)
{
    if (!gh_hub_rest_check_ids(c, dev, mod)) return;
    struct gh_identity *id = calloc(1, sizeof *id);
    gh_err rc = id ? gh_store_identity_get(gh_hub_store(c->rest->hub), dev, mod, id) : GH_ERR_NOMEM;
    if (rc == GH_OK)
        reply_identity(c, id);
    else
        gh_hub_rest_reply_store_error(c, rc, dev, mod);
    gh_identity_wipe(id);
    free(id);
}

void gh_hub_rest_device_get(struct gh_hub_rest_ctx *c)
{
    get(c, c->arg[0], NULL);
}

void gh_hub_rest_module_get(struct gh_hub_rest_ctx *c)
{
    get(c, c->arg[0], c->arg[1]);
}

/* The body's id member must equal the path's; absent, it is taken from the
 * path. False (answered 400) on a mismatch or a non-string. */
static bool body_id(struct gh_hub_rest_ctx *c, json_t *body, const char *member, const char *want)
{
    json_t *v = json_object_get(body, member);
    if (v == NULL || json_is_null(v)) {
        if (json_object_set_new(body, member, json_string(want)) == 0) return true;
        gh_hub_rest_reply_error(c->req, GH_REST_SERVER_ERROR, "out of memory");
        return false;
    }
    if (!json_is_string(v) || strcmp(json_string_value(v), want) != 0) {
        gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID,
                                "%s in the body does not match the request path", member);
        return false;
    }
    return true;
}

static void put(struct gh_hub_rest_ctx *c, const char *dev, const char *mod)
{
    if (!gh_hub_rest_check_ids(c, dev, mod)) return;
    char etag_buf[GH_IDENTITY_ETAG_MAX + 1];
    const char *if_match;
    if (!gh_hub_rest_request_if_match(c, etag_buf, sizeof etag_buf, &if_match)) return;
    json_t *body = gh_hub_rest_body_json(c);
    if (body == NULL) return;
    struct gh_identity *id = calloc(2, sizeof *id); /* request, result */
    if (id == NULL) {
        json_decref(body);
        gh_hub_rest_reply_error(c->req, GH_REST_SERVER_ERROR, "out of memory");
        return;
    }
    if (!json_is_object(body)) {
        gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID, "the body must be an object");
        goto out;
    }
    if (!body_id(c, body, "deviceId", dev) || (mod && !body_id(c, body, "moduleId", mod))) goto out;
    char err[160];
    gh_err rc = gh_identity_from_json(body, mod ? GH_IDENTITY_MODULE : GH_IDENTITY_DEVICE, &id[0],
                                      err, sizeof err);
    if (rc != GH_OK) {
        gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID, "%s", err);
        goto out;
    }
    struct gh_store *s = gh_hub_store(c->rest->hub);
    bool update = if_match != NULL;
    rc = update ? gh_store_identity_update(s, &id[0], if_match, &id[1])
                : gh_store_identity_create(s, &id[0], &id[1]);
    if (rc != GH_OK) {
        gh_hub_rest_reply_store_error(c, rc, dev, mod);
        goto out;
    }
    gh_log_info("rest.identity.put", "device=%s module=%s op=%s", dev, mod ? mod : "",
                update ? "update" : "create");
    if (update && !mod && id[1].status == GH_IDENTITY_DISABLED) {
        struct gh_hub_rest_ids mods = {0};
        if (gh_hub_rest_module_ids(c->rest, dev, &mods) != GH_OK)
            gh_log_warn("rest.kick", "device=%s modules=unknown", dev);
        gh_hub_rest_kick(c->rest, dev, &mods, "device disabled");
        free(mods.id);
    } else if (update && !mod) {
        gh_hub_session_parent_changed(c->rest->hub, dev, id[1].parent_scope);
    }
    reply_identity(c, &id[1]);
out:
    json_decref(body);
    gh_identity_wipe(&id[0]);
    gh_identity_wipe(&id[1]);
    free(id);
}

void gh_hub_rest_device_put(struct gh_hub_rest_ctx *c)
{
    put(c, c->arg[0], NULL);
}

void gh_hub_rest_module_put(struct gh_hub_rest_ctx *c)
{
    put(c, c->arg[0], c->arg[1]);
}

static void del(struct gh_hub_rest_ctx *c, const char *dev, const char *mod)
{
    if (!gh_hub_rest_check_ids(c, dev, mod)) return;
    char etag_buf[GH_IDENTITY_ETAG_MAX + 1];
    const char *if_match;
    if (!gh_hub_rest_request_if_match(c, etag_buf, sizeof etag_buf, &if_match)) return;
    struct gh_store *s = gh_hub_store(c->rest->hub);
    /* The modules' sessions go too: learn who they are before they go. */
    struct gh_hub_rest_ids mods = {0};
    if (!mod && gh_hub_rest_module_ids(c->rest, dev, &mods) != GH_OK) mods.n = 0;
    gh_err rc = gh_store_identity_delete(s, dev, mod, if_match);
    if (rc != GH_OK) {
        free(mods.id);
        gh_hub_rest_reply_store_error(c, rc, dev, mod);
        return;
    }
    gh_log_info("rest.identity.delete", "device=%s module=%s", dev, mod ? mod : "");
    if (mod)
        gh_hub_session_kick(c->rest->hub, dev, mod, "module deleted");
    else
        gh_hub_rest_kick(c->rest, dev, &mods, "device deleted");
    free(mods.id);
    gh_hub_rest_reply(c->req, 204, NULL, NULL);
}

void gh_hub_rest_device_delete(struct gh_hub_rest_ctx *c)
{
    del(c, c->arg[0], NULL);
}

void gh_hub_rest_module_delete(struct gh_hub_rest_ctx *c)
{
    del(c, c->arg[0], c->arg[1]);
}

void gh_hub_rest_statistics(struct gh_hub_rest_ctx *c)
{
    struct gh_store_stats st;
    gh_err rc = gh_store_identity_stats(gh_hub_store(c->rest->hub), &st);
    if (rc != GH_OK) {
        gh_hub_rest_reply_store_error(c, rc, "", NULL);
        return;
    }
    json_t *j =
        json_pack("{s:I,s:I,s:I}", "totalDeviceCount", (json_int_t)st.total, "enabledDeviceCount",
                  (json_int_t)st.enabled, "disabledDeviceCount", (json_int_t)st.disabled);
    if (j == NULL) {
        gh_hub_rest_reply_error(c->req, GH_REST_SERVER_ERROR, "out of memory");
        return;
    }
    gh_hub_rest_reply(c->req, 200, j, NULL);
}

/* POST /devices/{D}/applyConfigurationContent: replace the desired
 * properties of each listed module twin ("properties.desired"). The body is
 * checked whole first; modules that do not exist are skipped. */
void gh_hub_rest_apply_configuration(struct gh_hub_rest_ctx *c)
{
    const char *dev = c->arg[0];
    if (!gh_hub_rest_check_ids(c, dev, NULL)) return;
    json_t *body = gh_hub_rest_body_json(c);
    if (body == NULL) return;
    json_t *mc = json_object_get(body, "modulesContent");
    if (mc == NULL) mc = json_object_get(body, "moduleContent");
    const char *mod;
    json_t *v;
    if (!json_is_object(mc)) {
        gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID,
                                "modulesContent must be an object");
        goto out;
    }
    json_object_foreach(mc, mod, v)
    {
        if (!gh_hub_rest_check_ids(c, dev, mod)) goto out;
        if (!json_is_object(v) || !json_is_object(json_object_get(v, "properties.desired"))) {
            gh_hub_rest_reply_error(c->req, GH_REST_ARGUMENT_INVALID,
                                    "modulesContent.%s needs a \"properties.desired\" object", mod);
            goto out;
        }
    }
    struct gh_store *s = gh_hub_store(c->rest->hub);
    struct gh_identity *id = calloc(1, sizeof *id);
    gh_err rc = id ? gh_store_identity_get(s, dev, NULL, id) : GH_ERR_NOMEM;
    gh_identity_wipe(id);
    free(id);
    if (rc != GH_OK) {
        gh_hub_rest_reply_store_error(c, rc, dev, NULL);
        goto out;
    }
    json_object_foreach(mc, mod, v)
    {
        json_t *notify = NULL;
        rc = gh_store_twin_desired_replace(s, dev, mod, json_object_get(v, "properties.desired"),
                                           &notify);
        if (rc == GH_ERR_NOT_FOUND) {
            gh_log_info("rest.configuration.skip", "device=%s module=%s reason=no-such-module", dev,
                        mod);
            continue;
        }
        if (rc != GH_OK) {
            gh_hub_rest_reply_store_error(c, rc, dev, mod);
            goto out;
        }
        if (notify != NULL) gh_hub_session_desired(c->rest->hub, dev, mod, notify);
        json_decref(notify);
    }
    gh_log_info("rest.configuration.applied", "device=%s modules=%zu", dev, json_object_size(mc));
    gh_hub_rest_reply(c->req, 204, NULL, NULL);
out:
    json_decref(body);
}
