/* Direct methods (PROTOCOL.md 1.11, 5.6): pending invocations waiting for a
 * device to connect and subscribe (connect timeout) and then to answer
 * (response timeout). Request ids are a hex counter, unique per hub. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "hub/hub.h"

struct gh_hub_method_call {
    struct gh_hub_methods *table;
    struct gh_hub_method_call *prev, *next;
    char device_id[GH_IDENTITY_ID_MAX + 1];
    char module_id[GH_IDENTITY_ID_MAX + 1];
    char method[GH_IDENTITY_ID_MAX + 1];
    char rid[24];
    char *payload;
    bool sent;
    unsigned response_timeout_s;
    struct event *timer;
    gh_hub_method_cb cb;
    void *user;
};

struct gh_hub_methods {
    struct gh_hub *hub;
    struct gh_hub_method_call *head;
    uint64_t next_rid;
};

gh_err gh_hub_methods_new(struct gh_hub *hub, struct gh_hub_methods **out)
{
    struct gh_hub_methods *m = calloc(1, sizeof *m);
    GH_ENSURE(m, GH_ERR_NOMEM);
    m->hub = hub;
    *out = m;
    return GH_OK;
}

static void unlink_call(struct gh_hub_method_call *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        c->table->head = c->next;
    if (c->next) c->next->prev = c->prev;
    if (c->timer) event_free(c->timer);
    free(c->payload);
    free(c);
}

static void finish(struct gh_hub_method_call *c, int http, int status, const char *payload,
                   size_t len)
{
    gh_hub_method_cb cb = c->cb;
    void *user = c->user;
    unlink_call(c);
    cb(user, http, status, payload, len);
}

void gh_hub_methods_free(struct gh_hub_methods *m)
{
    if (!m) return;
    while (m->head) finish(m->head, 503, 0, NULL, 0);
    free(m);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct gh_hub_method_call *c = arg;
    gh_log_info("hub.method.timeout", "device=%s method=%s phase=%s", c->device_id, c->method,
                c->sent ? "response" : "connect");
    finish(c, c->sent ? 504 : 404, 0, NULL, 0);
}

static void arm(struct gh_hub_method_call *c, unsigned seconds)
{
    struct timeval tv = {seconds, 0};
    event_add(c->timer, &tv);
}

/* Send the request if the identity is connected and subscribed. */
static bool try_send(struct gh_hub_method_call *c)
{
    struct gh_hub_session *s = gh_hub_session_find(c->table->hub, c->device_id, c->module_id);
    if (!s || !gh_hub_session_methods_subscribed(s)) return false;
    const char *body = c->payload ? c->payload : "null"; /* never empty (1.11.1) */
    if (gh_hub_session_send_method(s, c->method, c->rid, body, strlen(body)) != GH_OK) return false;
    c->sent = true;
    arm(c, c->response_timeout_s);
    return true;
}

gh_err gh_hub_method_invoke(struct gh_hub *hub, const char *device_id, const char *module_id,
                            const char *method, const char *payload_json,
                            unsigned connect_timeout_s, unsigned response_timeout_s,
                            gh_hub_method_cb cb, void *user, struct gh_hub_method_call **out)
{
    struct gh_hub_methods *m = gh_hub_methods_of(hub);
    GH_ENSURE(m && strlen(device_id) <= GH_IDENTITY_ID_MAX && strlen(method) <= GH_IDENTITY_ID_MAX,
              GH_ERR_ARG);
    struct gh_hub_method_call *c = calloc(1, sizeof *c);
    GH_ENSURE(c, GH_ERR_NOMEM);
    c->table = m;
    snprintf(c->device_id, sizeof c->device_id, "%s", device_id);
    snprintf(c->module_id, sizeof c->module_id, "%s", module_id ? module_id : "");
    snprintf(c->method, sizeof c->method, "%s", method);
    snprintf(c->rid, sizeof c->rid, "%llx", (unsigned long long)++m->next_rid);
    c->payload = payload_json ? strdup(payload_json) : NULL;
    c->response_timeout_s = response_timeout_s;
    c->cb = cb;
    c->user = user;
    c->timer = event_new(gh_hub_base(hub), -1, 0, on_timeout, c);
    if (!c->timer || (payload_json && !c->payload)) {
        if (c->timer) event_free(c->timer);
        free(c->payload);
        free(c);
        return GH_ERR_NOMEM;
    }
    c->next = m->head;
    if (m->head) m->head->prev = c;
    m->head = c;
    if (!try_send(c)) {
        /* Not online: wait up to the connect timeout (0 = answer now, from
         * the loop, so the callback never runs inside this call). */
        arm(c, connect_timeout_s);
    }
    *out = c;
    return GH_OK;
}

void gh_hub_method_cancel(struct gh_hub *hub, struct gh_hub_method_call *call)
{
    (void)hub;
    unlink_call(call);
}

void gh_hub_methods_session_ready(struct gh_hub *hub, const char *device_id, const char *module_id)
{
    struct gh_hub_methods *m = gh_hub_methods_of(hub);
    if (!m) return;
    for (struct gh_hub_method_call *c = m->head; c; c = c->next) {
        if (c->sent || strcmp(c->device_id, device_id) || strcmp(c->module_id, module_id)) continue;
        event_del(c->timer);
        if (!try_send(c)) arm(c, 1);
    }
}

void gh_hub_methods_response(struct gh_hub *hub, const char *device_id, const char *module_id,
                             const char *rid, size_t rid_len, int status, const uint8_t *body,
                             size_t body_len)
{
    struct gh_hub_methods *m = gh_hub_methods_of(hub);
    if (!m) return;
    for (struct gh_hub_method_call *c = m->head; c; c = c->next) {
        if (!c->sent || strlen(c->rid) != rid_len || memcmp(c->rid, rid, rid_len) ||
            strcmp(c->device_id, device_id) || strcmp(c->module_id, module_id))
            continue;
        finish(c, 200, status, (const char *)body, body_len);
        return;
    }
    gh_log_debug("hub.method.late", "device=%s", device_id);
}
