/* The hub's HTTPS service API: the server, routing, authorization and the
 * requests held for later answers (docs/hub-rest.md). */
#include "hub/rest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "common/log.h"
#include "hub/rest_dps.h"
#include "hub/rest_int.h"
#include "net/tls.h"

#define RR GH_RIGHT_REGISTRY_READ
#define RW GH_RIGHT_REGISTRY_WRITE
#define SC GH_RIGHT_SERVICE_CONNECT

/* Longest route pattern, in segments. */
#define ROUTE_SEGS_MAX 6

/* A route: method, path pattern ("*" = a placeholder, literals compare
 * case-insensitively), rights needed, how many leading placeholders name an
 * identity (0 none, 1 device, 2 device and module), handler. */
struct route {
    const char *method;
    const char *pat[ROUTE_SEGS_MAX + 1];
    uint32_t rights;
    int ids;
    gh_hub_rest_handler fn;
};

/* Not a policy right but a route flag beside the rights: the IoT Edge
 * device the first placeholder names may also use its own credentials
 * (device scope, PROTOCOL.md 6.10). */
#define EDGE_SELF 0x80000000u
_Static_assert((EDGE_SELF & GH_RIGHT_MASK) == 0, "EDGE_SELF collides with a right");

/* The device-scope paths of an Edge device's $edgeHub module (6.10). */
#define SCOPE "devices", "*", "modules", "$edgeHub"

static const struct route routes[] = {
    {"GET", {"devices"}, RR, 0, gh_hub_rest_device_list},
    {"GET", {"devices", "*"}, RR, 1, gh_hub_rest_device_get},
    {"PUT", {"devices", "*"}, RW, 1, gh_hub_rest_device_put},
    {"DELETE", {"devices", "*"}, RW, 1, gh_hub_rest_device_delete},
    {"POST", {"devices", "*", "applyConfigurationContent"}, SC, 1, gh_hub_rest_apply_configuration},
    {"POST", {"devices", "*", "messages", "deviceBound"}, SC, 1, gh_hub_rest_c2d_send},
    {"DELETE", {"devices", "*", "commands"}, SC, 1, gh_hub_rest_c2d_purge},
    {"GET", {"devices", "*", "modules"}, RR, 1, gh_hub_rest_module_list},
    {"GET", {"devices", "*", "modules", "*"}, RR, 2, gh_hub_rest_module_get},
    {"PUT", {"devices", "*", "modules", "*"}, RW, 2, gh_hub_rest_module_put},
    {"DELETE", {"devices", "*", "modules", "*"}, RW, 2, gh_hub_rest_module_delete},
    {"GET", {"statistics", "devices"}, RR, 0, gh_hub_rest_statistics},
    {"GET", {"twins", "*"}, SC, 1, gh_hub_rest_twin_get},
    {"PATCH", {"twins", "*"}, SC, 1, gh_hub_rest_twin_patch},
    {"PUT", {"twins", "*"}, SC, 1, gh_hub_rest_twin_put},
    {"POST", {"twins", "*", "methods"}, SC, 1, gh_hub_rest_method_invoke},
    {"GET", {"twins", "*", "modules", "*"}, SC, 2, gh_hub_rest_module_twin_get},
    {"PATCH", {"twins", "*", "modules", "*"}, SC, 2, gh_hub_rest_module_twin_patch},
    {"PUT", {"twins", "*", "modules", "*"}, SC, 2, gh_hub_rest_module_twin_put},
    {"POST", {"twins", "*", "modules", "*", "methods"}, SC, 2, gh_hub_rest_module_method_invoke},
    {"GET", {"certificates"}, RR, 0, gh_hub_rest_cert_list},
    {"GET", {"certificates", "*"}, RR, 0, gh_hub_rest_cert_get},
    {"PUT", {"certificates", "*"}, RW, 0, gh_hub_rest_cert_put},
    {"DELETE", {"certificates", "*"}, RW, 0, gh_hub_rest_cert_delete},
    {"POST", {"certificates", "*", "generateVerificationCode"}, RW, 0, gh_hub_rest_cert_code},
    {"POST", {"certificates", "*", "verify"}, RW, 0, gh_hub_rest_cert_verify},
    {"GET", {"gatehouse", "telemetry"}, SC, 0, gh_hub_rest_telemetry_read},
    {"POST",
     {SCOPE, "devicesAndModulesInTargetDeviceScope"},
     RR | EDGE_SELF,
     1,
     gh_hub_rest_scope_target},
    {"GET", {SCOPE, "devicesAndModulesInDeviceScope"}, RR | EDGE_SELF, 1, gh_hub_rest_scope_legacy},
    {"POST",
     {SCOPE, "getDeviceAndModuleOnBehalfOf"},
     RR | EDGE_SELF,
     1,
     gh_hub_rest_scope_on_behalf_of},
};

#define NROUTES (sizeof routes / sizeof routes[0])

/* Does the path match the route's pattern? Captures placeholders. */
static bool path_matches(const struct route *r, const char *const *seg, size_t nseg,
                         const char **arg)
{
    size_t k = 0, na = 0;
    for (; k < ROUTE_SEGS_MAX && r->pat[k] != NULL; k++) {
        if (k >= nseg) return false;
        if (strcmp(r->pat[k], "*") == 0) {
            if (na < 2) arg[na++] = seg[k];
        } else if (strcasecmp(r->pat[k], seg[k]) != 0) {
            return false;
        }
    }
    return k == nseg;
}

/* Answer 405 with an Allow field listing the methods the path has. */
static void not_allowed(struct gh_http_request *req, const char *const *seg, size_t nseg)
{
    char allow[64] = "";
    for (size_t i = 0; i < NROUTES; i++) {
        const char *arg[2];
        if (!path_matches(&routes[i], seg, nseg, arg)) continue;
        if (allow[0] != '\0') strncat(allow, ", ", sizeof allow - strlen(allow) - 1);
        strncat(allow, routes[i].method, sizeof allow - strlen(allow) - 1);
    }
    gh_log_debug("rest.method_not_allowed", "method=%s allow=\"%s\"", gh_http_request_method(req),
                 allow);
    struct gh_http_kv field = {"Allow", allow};
    gh_hub_rest_reply_error_with(req, GH_REST_METHOD_NOT_ALLOWED, &field,
                                 "The resource does not support this method (allowed: %s).", allow);
}

static bool authorize(struct gh_hub_rest *r, struct gh_http_request *req, const struct route *rt,
                      const char *const *seg, size_t nseg, const char **arg)
{
    const struct gh_hub_config *cfg = gh_hub_config(r->hub);
    struct gh_hub_rest_auth_req a = {
        .authorization = gh_http_request_header(req, "Authorization"),
        .host = cfg->hostname,
        .resource = seg,
        .nresource = nseg,
        .device_id = rt->ids >= 1 ? arg[0] : NULL,
        .module_id = rt->ids >= 2 ? arg[1] : NULL,
        .rights = rt->rights & ~EDGE_SELF,
        .now_s = gh_hub_now_ms() / 1000,
        .skew_s = (uint32_t)cfg->sas_skew,
    };
    const char *why = "";
    gh_err rc;
    if (rt->rights & EDGE_SELF) {
        struct gh_conn *conn = gh_http_request_conn(req);
        struct gh_hub_rest_edge_cred x = {
            .cert = conn ? gh_conn_peer_cert(conn) : NULL,
            .chain = conn ? gh_conn_peer_chain(conn) : NULL,
        };
        if (x.cert != NULL) x.ca_store = gh_hub_ca_store(r->hub);
        rc = gh_hub_rest_authorize_edge(gh_hub_store(r->hub), &a, &x, &why);
    } else {
        rc = gh_hub_rest_authorize(gh_hub_store(r->hub), &a, &why);
    }
    if (rc == GH_OK) return true;
    switch (rc) {
    case GH_ERR_AUTH:
    case GH_ERR_BAD_SAS:
    case GH_ERR_TOO_LARGE:
    case GH_ERR_EXPIRED:
    case GH_ERR_FORBIDDEN:
        gh_log_info("rest.auth.denied", "peer=%s method=%s reason=\"%s\"",
                    gh_http_request_peer_addr(req), gh_http_request_method(req), why);
        gh_hub_rest_reply_error(req, GH_REST_UNAUTHORIZED, "Unauthorized: %s.", why);
        return false;
    default:
        gh_log_error("rest.auth.error", "err=%s reason=\"%s\" detail=\"%s\"", gh_err_name(rc), why,
                     gh_store_errmsg(gh_hub_store(r->hub)));
        gh_hub_rest_reply_error(req, GH_REST_SERVER_ERROR, "internal error");
        return false;
    }
}

static void on_request(struct gh_http_request *req, void *user)
{
    struct gh_hub_rest *r = user;
    /* The provisioning service by SNI; hub routes never see its requests. */
    if (gh_hub_rest_dps_selected(r->hub, req)) {
        gh_hub_rest_dps_request(r, req);
        return;
    }
    /* A standalone provisioning service has no hub API (docs/dps.md). */
    if (gh_hub_config(r->hub)->dps_standalone) {
        gh_hub_rest_reply_error(req, GH_REST_NOT_FOUND, "No such resource.");
        return;
    }
    const char *seg[GH_HTTP_SEGMENTS_MAX];
    size_t nseg = gh_http_request_segment_count(req);
    for (size_t i = 0; i < nseg && i < GH_HTTP_SEGMENTS_MAX; i++)
        seg[i] = gh_http_request_segment(req, i);
    /* "/devices/" (Node lists with a trailing slash) is "/devices". */
    if (nseg > 1 && seg[nseg - 1][0] == '\0') nseg--;
    const char *method = gh_http_request_method(req);
    if (strcmp(method, "HEAD") == 0) method = "GET";

    bool path_known = false;
    for (size_t i = 0; i < NROUTES; i++) {
        struct gh_hub_rest_ctx c = {.rest = r, .req = req};
        if (!path_matches(&routes[i], seg, nseg, c.arg)) continue;
        path_known = true;
        if (strcmp(routes[i].method, method) != 0) continue;
        if (!authorize(r, req, &routes[i], seg, nseg, c.arg)) return;
        routes[i].fn(&c);
        return;
    }
    if (path_known) {
        not_allowed(req, seg, nseg);
        return;
    }
    gh_hub_rest_reply_error(req, GH_REST_NOT_FOUND, "No such resource.");
}

/* ---- held requests ---------------------------------------------------------- */

static void on_cancel(struct gh_http_request *req, void *arg)
{
    struct gh_hub_rest_held *h = arg;
    if (h->kind == GH_REST_HELD_METHOD && h->call != NULL)
        gh_hub_method_cancel(h->rest->hub, h->call);
    gh_log_debug("rest.cancel", "peer=%s kind=%s", gh_http_request_peer_addr(req),
                 h->kind == GH_REST_HELD_METHOD ? "method" : "poll");
    gh_hub_rest_held_free(h);
    gh_http_request_release(req);
}

gh_err gh_hub_rest_hold(struct gh_hub_rest_ctx *c, enum gh_hub_rest_held_kind kind,
                        struct gh_hub_rest_held **out)
{
    struct gh_hub_rest_held *h = calloc(1, sizeof *h);
    GH_ENSURE(h != NULL, GH_ERR_NOMEM);
    h->rest = c->rest;
    h->req = c->req;
    h->kind = kind;
    h->next = c->rest->held;
    if (h->next) h->next->prev = h;
    c->rest->held = h;
    if (kind == GH_REST_HELD_POLL) c->rest->npolls++;
    gh_http_request_set_cancel(c->req, on_cancel, h);
    *out = h;
    return GH_OK;
}

void gh_hub_rest_held_free(struct gh_hub_rest_held *h)
{
    if (h == NULL) return;
    struct gh_hub_rest *r = h->rest;
    if (h->prev)
        h->prev->next = h->next;
    else
        r->held = h->next;
    if (h->next) h->next->prev = h->prev;
    if (h->kind == GH_REST_HELD_POLL) {
        gh_hub_rest_poll_cleanup(h);
        r->npolls--;
    }
    free(h);
}

/* ---- lifecycle -------------------------------------------------------------- */

gh_err gh_hub_rest_new(struct gh_hub *hub, struct gh_tls_server *tls, struct gh_hub_rest **out,
                       char *errbuf, size_t errlen)
{
    const struct gh_hub_config *cfg = gh_hub_config(hub);
    struct gh_hub_rest *r = calloc(1, sizeof *r);
    GH_ENSURE(r != NULL, GH_ERR_NOMEM);
    r->hub = hub;
    char addr[GH_HUB_ADDR_MAX + 16];
    if (strchr(cfg->listen_address, ':'))
        snprintf(addr, sizeof addr, "[%s]:%lld", cfg->listen_address, (long long)cfg->https_port);
    else
        snprintf(addr, sizeof addr, "%s:%lld", cfg->listen_address, (long long)cfg->https_port);
    struct gh_http_server_options o = {0};
    o.listener.max_conns = GH_REST_MAX_CONNS;
    o.listener.max_handshakes = (unsigned)cfg->max_pending_connects;
    o.listener.handshake_timeout_ms = (unsigned)cfg->handshake_timeout * 1000u;
    o.limits.max_body = GH_REST_BODY_MAX;
    char detail[GH_TLS_DETAIL_MAX] = "";
    gh_err rc = gh_http_server_new(gh_hub_base(hub), addr, tls, &o, on_request, r, &r->srv, detail,
                                   sizeof detail);
    if (rc != GH_OK) {
        snprintf(errbuf, errlen, "cannot listen on %s: %s", addr, detail);
        free(r);
        return rc;
    }
    *out = r;
    return GH_OK;
}

void gh_hub_rest_free(struct gh_hub_rest *r)
{
    if (r == NULL) return;
    /* Held requests end here, so no cancel callback can reach r later. */
    while (r->held != NULL) {
        struct gh_hub_rest_held *h = r->held;
        struct gh_http_request *req = h->req;
        if (h->kind == GH_REST_HELD_METHOD && h->call != NULL)
            gh_hub_method_cancel(r->hub, h->call);
        gh_hub_rest_held_free(h);
        gh_http_request_release(req);
    }
    gh_http_server_free(r->srv);
    free(r);
}

uint16_t gh_hub_rest_port(const struct gh_hub_rest *r)
{
    return gh_http_server_port(r->srv);
}
