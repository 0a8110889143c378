/* What the device sends: the bounded buffer of QoS 1 telemetry (kept until
 * its PUBACK, resent after a reconnect), twin requests (1.10.1, sent again
 * on every connection until answered) and method responses (1.11.2). */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "device/device_int.h"
#include "iothub/bag.h"
#include "iothub/topic.h"
#include "mqttc/mqttc.h"

/* ---- telemetry ------------------------------------------------------------------ */

static void msg_free(struct dev_msg *m)
{
    free(m->bag);
    free(m->body);
    free(m);
}

/* Unlink m (a member of the list) and release its budget. */
static void msg_unlink(struct gh_device_client *c, struct dev_msg *m)
{
    struct dev_msg **pp = &c->out_head;
    struct dev_msg *prev = NULL;
    while (*pp && *pp != m) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp) return;
    *pp = m->next;
    if (c->out_tail == m) c->out_tail = prev;
    c->out_count--;
    c->out_bytes -= m->cost;
}

static struct dev_msg *msg_by_cookie(struct gh_device_client *c, uint64_t cookie)
{
    for (struct dev_msg *m = c->out_head; m; m = m->next)
        if (m->inflight && m->cookie == cookie) return m;
    return NULL;
}

void gh_device_out_acked(struct gh_device_client *c, uint64_t cookie)
{
    struct dev_msg *m = msg_by_cookie(c, cookie);
    if (!m) return;
    msg_unlink(c, m);
    if (m->done) m->done(m->ctx, GH_OK);
    msg_free(m);
}

void gh_device_out_unacked(struct gh_device_client *c, uint64_t cookie)
{
    struct dev_msg *m = msg_by_cookie(c, cookie);
    if (m) m->inflight = false; /* goes out again, in order, after the reconnect */
}

/* Encode the property bag of a telemetry topic (1.8.2) into a heap string.
 * The topic itself is built when the message goes out: before DPS assigned
 * one, the device id is not known. */
static gh_err build_bag(const struct gh_device_message_props *p, char **out)
{
    struct gh_iothub_bag_item items[GH_DEVICE_PROPS_MAX + 4];
    size_t n = 0;
    if (p) {
        GH_ENSURE(p->napp <= GH_DEVICE_PROPS_MAX && (p->napp == 0 || p->app), GH_ERR_ARG);
        const struct {
            enum gh_iothub_prop prop;
            const char *value;
        } sys[] = {
            {GH_IOTHUB_PROP_MESSAGE_ID, p->message_id},
            {GH_IOTHUB_PROP_CORRELATION_ID, p->correlation_id},
            {GH_IOTHUB_PROP_CONTENT_TYPE, p->content_type},
            {GH_IOTHUB_PROP_CONTENT_ENCODING, p->content_encoding},
        };
        for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++) {
            if (!sys[i].value) continue;
            items[n++] = (struct gh_iothub_bag_item){gh_slice_cstr(gh_iothub_prop_key(sys[i].prop)),
                                                     gh_slice_cstr(sys[i].value), true};
        }
        for (size_t i = 0; i < p->napp; i++) {
            GH_ENSURE(p->app[i].key && p->app[i].key[0], GH_ERR_ARG);
            items[n++] = (struct gh_iothub_bag_item){
                gh_slice_cstr(p->app[i].key),
                p->app[i].value ? gh_slice_cstr(p->app[i].value) : GH_SLICE_EMPTY,
                p->app[i].value != NULL};
        }
    }
    char *buf = malloc(GH_DEVICE_TOPIC_MAX + 1);
    GH_ENSURE(buf, GH_ERR_NOMEM);
    struct gh_writer w;
    gh_writer_init(&w, buf, GH_DEVICE_TOPIC_MAX + 1);
    struct gh_iothub_bag_writer bw;
    gh_iothub_bag_writer_init(&bw, &w);
    gh_err rc = gh_iothub_bag_put_all(&bw, items, n);
    if (rc == GH_OK) rc = gh_writer_terminate(&w);
    if (rc != GH_OK) {
        free(buf);
        return rc == GH_ERR_NOBUFS ? GH_ERR_TOO_LARGE : rc;
    }
    *out = buf;
    return GH_OK;
}

/* devices/{D}/messages/events/{bag} into c->topic (GH_DEVICE_TOPIC_MAX). */
static gh_err build_topic(struct gh_device_client *c, const char *bag)
{
    struct gh_writer w;
    gh_writer_init(&w, c->topic, GH_DEVICE_TOPIC_MAX + 1);
    GH_GUARD(
        gh_iothub_topic_build_telemetry(&w, gh_slice_cstr(c->device_id), GH_SLICE_EMPTY, NULL, 0));
    gh_err rc = gh_writer_cstr(&w, bag);
    if (rc == GH_OK) rc = gh_writer_terminate(&w);
    return rc == GH_ERR_NOBUFS ? GH_ERR_TOO_LARGE : rc;
}

GH_DEVICE_API int gh_device_send(struct gh_device_client *c, const void *body, size_t len,
                                 const struct gh_device_message_props *props,
                                 gh_device_send_cb done, void *ctx)
{
    if (!c || (!body && len > 0)) return GH_ERR_ARG;
    if (c->phase == DEV_PHASE_FAILED) return GH_ERR_CLOSED;
    if (c->out_count >= c->buffer_msgs || len > c->buffer_bytes - c->out_bytes)
        return GH_ERR_QUEUE_FULL;
    struct dev_msg *m = calloc(1, sizeof *m);
    if (!m) return GH_ERR_NOMEM;
    gh_err rc = build_bag(props, &m->bag);
    if (rc == GH_OK && c->phase == DEV_PHASE_HUB) rc = build_topic(c, m->bag);
    if (rc != GH_OK) {
        msg_free(m);
        return (int)rc;
    }
    m->cost = len + strlen(m->bag);
    if (m->cost > c->buffer_bytes - c->out_bytes) {
        msg_free(m);
        return GH_ERR_QUEUE_FULL;
    }
    if (len > 0) {
        m->body = malloc(len);
        if (!m->body) {
            msg_free(m);
            return GH_ERR_NOMEM;
        }
        memcpy(m->body, body, len);
    }
    m->len = len;
    m->done = done;
    m->ctx = ctx;
    if (c->out_tail)
        c->out_tail->next = m;
    else
        c->out_head = m;
    c->out_tail = m;
    c->out_count++;
    c->out_bytes += m->cost;
    if (c->subscribed) gh_device_flush(c);
    return GH_OK;
}

/* Publish every waiting message that the window takes. A message the
 * server can never take (too large) fails at once instead of blocking the
 * queue. */
static void flush_msgs(struct gh_device_client *c)
{
    struct dev_msg *m = c->out_head;
    while (m) {
        struct dev_msg *next = m->next;
        if (!m->inflight) {
            uint64_t cookie = ++c->next_cookie;
            gh_err rc = build_topic(c, m->bag);
            if (rc == GH_OK) rc = gh_mqttc_publish(c->mq, c->topic, m->body, m->len, 1, cookie);
            if (rc == GH_OK) {
                m->inflight = true;
                m->cookie = cookie;
            } else if (rc == GH_ERR_TOO_LARGE || rc == GH_ERR_BAD_TOPIC || rc == GH_ERR_BAD_UTF8) {
                gh_log(GH_LOG_WARN, "device.send_refused", "err=%s", gh_err_name(rc));
                msg_unlink(c, m);
                if (m->done) m->done(m->ctx, (int)rc);
                msg_free(m);
            } else {
                return; /* NOBUFS: on_window; CLOSED: on_connected */
            }
        }
        m = next;
    }
}

/* ---- twin requests ----------------------------------------------------------------- */

void gh_device_req_free(struct dev_req *r)
{
    if (!r) return;
    free(r->body);
    free(r);
}

struct dev_req *gh_device_req_take(struct gh_device_client *c, struct gh_slice rid)
{
    for (struct dev_req **pp = &c->reqs; *pp; pp = &(*pp)->next) {
        struct dev_req *r = *pp;
        if (r->sent && gh_slice_eq_cstr(rid, r->rid)) {
            *pp = r->next;
            c->nreqs--;
            return r;
        }
    }
    return NULL;
}

void gh_device_reqs_unsent(struct gh_device_client *c)
{
    for (struct dev_req *r = c->reqs; r; r = r->next) r->sent = false;
}

static void flush_reqs(struct gh_device_client *c)
{
    for (struct dev_req *r = c->reqs; r; r = r->next) {
        if (r->sent) continue;
        char topic[128];
        struct gh_writer w;
        gh_writer_init(&w, topic, sizeof topic);
        gh_err rc = r->kind == DEV_REQ_TWIN_GET
                        ? gh_iothub_topic_build_twin_get(&w, gh_slice_cstr(r->rid))
                        : gh_iothub_topic_build_twin_patch_reported(&w, gh_slice_cstr(r->rid));
        if (rc == GH_OK) rc = gh_writer_terminate(&w);
        if (rc == GH_OK) rc = gh_mqttc_publish(c->mq, topic, r->body, r->len, 0, 0);
        if (rc != GH_OK) return; /* back-pressure or closed: retried on the next flush */
        r->sent = true;
    }
}

static int req_add(struct gh_device_client *c, enum dev_req_kind kind, const char *body, size_t len,
                   gh_device_twin_cb cb, void *ctx)
{
    if (c->phase == DEV_PHASE_FAILED) return GH_ERR_CLOSED;
    if (c->nreqs >= GH_DEVICE_REQUESTS_MAX) return GH_ERR_TOO_MANY;
    struct dev_req *r = calloc(1, sizeof *r);
    if (!r) return GH_ERR_NOMEM;
    if (len > 0) {
        r->body = malloc(len);
        if (!r->body) {
            free(r);
            return GH_ERR_NOMEM;
        }
        memcpy(r->body, body, len);
    }
    r->len = len;
    r->kind = kind;
    r->cb = cb;
    r->ctx = ctx;
    gh_device_next_rid(c, r->rid);
    struct dev_req **pp = &c->reqs; /* append: requests go out in order */
    while (*pp) pp = &(*pp)->next;
    *pp = r;
    c->nreqs++;
    if (c->subscribed) flush_reqs(c);
    return GH_OK;
}

GH_DEVICE_API int gh_device_twin_get(struct gh_device_client *c, gh_device_twin_cb cb, void *ctx)
{
    if (!c || !cb) return GH_ERR_ARG;
    return req_add(c, DEV_REQ_TWIN_GET, NULL, 0, cb, ctx);
}

GH_DEVICE_API int gh_device_twin_report(struct gh_device_client *c, const char *json, size_t len,
                                        gh_device_twin_cb cb, void *ctx)
{
    if (!c || !json || len == 0) return GH_ERR_ARG;
    return req_add(c, DEV_REQ_TWIN_REPORT, json, len, cb, ctx);
}

/* ---- methods -------------------------------------------------------------------- */

GH_DEVICE_API int gh_device_method_respond(struct gh_device_client *c, const char *request_id,
                                           int status, const char *payload, size_t len)
{
    if (!c || !request_id || (!payload && len > 0)) return GH_ERR_ARG;
    if (!c->mq || !gh_mqttc_connected(c->mq)) return GH_ERR_CLOSED;
    char topic[128];
    struct gh_writer w;
    gh_writer_init(&w, topic, sizeof topic);
    gh_err rc = gh_iothub_topic_build_method_response(&w, status, gh_slice_cstr(request_id));
    if (rc == GH_OK) rc = gh_writer_terminate(&w);
    if (rc == GH_ERR_NOBUFS) rc = GH_ERR_ARG; /* only an absurd request id gets here */
    if (rc != GH_OK) return (int)rc;
    return (int)gh_mqttc_publish(c->mq, topic, payload, len, 0, 0);
}

/* ---- both -------------------------------------------------------------------------- */

void gh_device_flush(struct gh_device_client *c)
{
    if (!c->mq || !gh_mqttc_connected(c->mq)) return;
    flush_msgs(c);
    flush_reqs(c);
}

void gh_device_out_fail_all(struct gh_device_client *c, gh_err err)
{
    while (c->out_head) {
        struct dev_msg *m = c->out_head;
        msg_unlink(c, m);
        if (m->done) m->done(m->ctx, (int)err);
        msg_free(m);
    }
    while (c->reqs) {
        struct dev_req *r = c->reqs;
        c->reqs = r->next;
        c->nreqs--;
        if (r->cb) r->cb(r->ctx, (int)err, 0, "", 0, 0);
        gh_device_req_free(r);
    }
}
