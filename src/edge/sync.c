/* The identity cache sync: the gateway downloads every identity in its
 * device scope from the hub with the call a genuine edgeHub makes
 * (PROTOCOL.md 6.10: POST .../devicesAndModulesInTargetDeviceScope), pages
 * through it, and replaces the cache in one transaction. Runs when the
 * link comes up, every cache.sync_interval, and when a child is unknown or
 * the hub detached one. Children whose identity disappeared or was
 * disabled are disconnected once the sync has applied. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "edge/cache.h"
#include "edge/edge_int.h"
#include "edge/provision.h"
#include "http/client.h"

#define SYNC_PAGE_SIZE 500
#define SYNC_RETRY_MS 15000
#define SYNC_TIMEOUT_MS 30000u
#define SYNC_MAX_DEVICES 100000u
#define SYNC_TOKEN_LIFETIME_S 300
#define SYNC_API "?api-version=2020-06-30-preview"

__attribute__((format(printf, 2, 3))) static void sync_failed(struct gh_edge *e, const char *fmt,
                                                              ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->sync_error, sizeof e->sync_error, fmt, ap);
    va_end(ap);
    gh_log_warn("edge.sync.failed", "detail=\"%s\"", e->sync_error);
    e->stats.syncs_failed++;
    e->sync_running = false;
    json_decref(e->sync_devices);
    e->sync_devices = NULL;
    int64_t retry = e->cfg->cache_sync_interval * 1000;
    if (retry > SYNC_RETRY_MS) retry = SYNC_RETRY_MS;
    e->sync_next_ms = gh_edge_now_ms() + retry;
    gh_edge_children_sync_done(e, e->sync_gen, true); /* held CONNECTs: on the old cache */
}

static gh_err request_page(struct gh_edge *e, const char *continuation);

/* Close children that the new cache no longer lets in. */
static void enforce(struct gh_edge *e)
{
    for (struct gh_edge_child *ch = e->children; ch; ch = ch->next) {
        if (!ch->authenticated || ch->closing) continue;
        struct gh_identity id;
        gh_err rc = gh_edge_cache_get(e->cache, ch->device_id, &id);
        bool keep = rc == GH_OK && id.status == GH_IDENTITY_ENABLED;
        if (rc == GH_OK) gh_identity_wipe(&id);
        if (!keep && rc != GH_ERR_DB)
            gh_edge_child_close(ch, rc == GH_OK ? "disabled in the hub"
                                                : "no longer a child of this gateway");
    }
}

static void apply(struct gh_edge *e)
{
    const char *scope = NULL;
    size_t i;
    json_t *dev;
    json_array_foreach(e->sync_devices, i, dev)
    {
        const char *id = json_string_value(json_object_get(dev, "deviceId"));
        if (id && strcmp(id, e->id.device_id) == 0)
            scope = json_string_value(json_object_get(dev, "deviceScope"));
    }
    if (!scope || !scope[0]) {
        sync_failed(
            e,
            "the hub's scope answer does not hold the gateway %s with a deviceScope (is it an "
            "IoT Edge device?)",
            e->id.device_id);
        return;
    }
    snprintf(e->scope, sizeof e->scope, "%s", scope);
    size_t n = 0;
    gh_err rc = gh_edge_cache_replace(e->cache, e->sync_devices, e->scope, &n);
    if (rc != GH_OK) {
        sync_failed(e, "storing the identities failed: %s", gh_edge_cache_errmsg(e->cache));
        return;
    }
    json_decref(e->sync_devices);
    e->sync_devices = NULL;
    e->sync_running = false;
    e->sync_error[0] = '\0';
    e->stats.syncs_ok++;
    e->sync_next_ms = gh_edge_now_ms() + e->cfg->cache_sync_interval * 1000;
    gh_log_info("edge.sync", "children=%zu scope=%s", n, e->scope);
    enforce(e);
    gh_edge_children_sync_done(e, e->sync_gen, false);
    if (e->sync_again) {
        e->sync_again = false;
        gh_edge_sync_now(e);
    }
}

static void on_response(gh_err rc, struct gh_http_response *resp, void *user)
{
    struct gh_edge *e = user;
    if (rc != GH_OK) {
        sync_failed(e, "hub API unreachable: %s", gh_err_str(rc));
        return;
    }
    struct gh_http_response r = *resp;
    json_error_t jerr;
    json_t *j = r.status == 200 ? json_loadb((const char *)r.body, r.body_len, 0, &jerr) : NULL;
    if (r.status != 200) {
        char status[16], body[160];
        snprintf(status, sizeof status, "%u", r.status);
        gh_log_escape(body, sizeof body, r.body, r.body_len, 120);
        gh_http_response_cleanup(&r);
        sync_failed(e, "the hub answered %s: %s", status, body);
        return;
    }
    gh_http_response_cleanup(&r);
    json_t *devs = json_object_get(j, "devices");
    if (!json_is_array(devs)) {
        json_decref(j);
        sync_failed(e, "malformed scope answer from the hub");
        return;
    }
    if (json_array_extend(e->sync_devices, devs) != 0 ||
        json_array_size(e->sync_devices) > SYNC_MAX_DEVICES) {
        json_decref(j);
        sync_failed(e, "too many identities in the scope");
        return;
    }
    const char *next = json_string_value(json_object_get(j, "continuationLink"));
    if (next && next[0]) {
        gh_err prc = request_page(e, next);
        json_decref(j);
        if (prc != GH_OK) sync_failed(e, "next page: %s", gh_err_str(prc));
        return;
    }
    json_decref(j);
    apply(e);
}

static gh_err request_page(struct gh_edge *e, const char *continuation)
{
    if (!e->http) {
        struct gh_http_client_options o = {
            .host = gh_edge_config_resolve(e->cfg, e->id.hub),
            .port = (uint16_t)e->cfg->upstream_https_port,
            .server_name = e->id.hub,
            .tls = e->up_tls,
        };
        GH_GUARD(gh_http_client_new(e->base, &o, &e->http));
    }
    char target[512];
    int n = snprintf(target, sizeof target,
                     "/devices/%s/modules/$edgeHub/devicesAndModulesInTargetDeviceScope" SYNC_API,
                     e->id.device_id);
    GH_ENSURE(n > 0 && (size_t)n < sizeof target, GH_ERR_TOO_LARGE);
    json_t *body = json_pack("{s:i, s:s?, s:s}", "pageSize", SYNC_PAGE_SIZE, "continuationLink",
                             continuation, "authChain", e->id.device_id);
    GH_ENSURE(body, GH_ERR_NOMEM);
    if (!continuation) json_object_set_new(body, "continuationLink", json_null());
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    GH_ENSURE(text, GH_ERR_NOMEM);
    char auth[2048] = "";
    struct gh_http_kv hdr[1];
    size_t nh = 0;
    if (e->id.auth == GH_EDGE_AUTH_SAS) {
        gh_err rc = gh_edge_identity_sas(&e->id, gh_edge_now_ms() / 1000, SYNC_TOKEN_LIFETIME_S,
                                         auth, sizeof auth);
        if (rc != GH_OK) {
            free(text);
            return rc;
        }
        hdr[nh++] = (struct gh_http_kv){"Authorization", auth};
    }
    struct gh_http_client_request rq = {
        .method = "POST",
        .target = target,
        .headers = hdr,
        .n_headers = nh,
        .content_type = "application/json; charset=utf-8",
        .body = text,
        .body_len = strlen(text),
        .timeout_ms = SYNC_TIMEOUT_MS,
    };
    gh_err rc = gh_http_client_request(e->http, &rq, on_response, e);
    explicit_bzero(auth, sizeof auth);
    free(text);
    return rc;
}

void gh_edge_sync_now(struct gh_edge *e)
{
    if (e->stopping) return;
    if (e->sync_running) {
        e->sync_again = true;
        return;
    }
    e->sync_devices = json_array();
    if (!e->sync_devices) return;
    e->sync_running = true;
    e->sync_gen++;
    gh_err rc = request_page(e, NULL);
    if (rc != GH_OK) sync_failed(e, "starting the request: %s", gh_err_str(rc));
}

void gh_edge_sync_tick(struct gh_edge *e, int64_t now)
{
    if (!e->sync_running && e->link_up && now >= e->sync_next_ms) gh_edge_sync_now(e);
}

void gh_edge_sync_stop(struct gh_edge *e)
{
    gh_http_client_free(e->http);
    e->http = NULL;
    json_decref(e->sync_devices);
    e->sync_devices = NULL;
    e->sync_running = false;
}
