/* What the hub publishes to the device (gh_iothub_topic_classify_s2d):
 * cloud-to-device messages (1.9), twin responses and desired-property
 * patches (1.10), method requests (1.11). Topics are untrusted: they go
 * through the classifier and the bag iterator, never through ad-hoc
 * parsing. QoS 1 deliveries are acknowledged after the callback returned. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "device/device_int.h"
#include "iothub/bag.h"
#include "iothub/topic.h"
#include "mqttc/mqttc.h"

/* Copy s into the arena as a C string. The arena was sized so that this
 * cannot run out (see c2d_deliver). */
static const char *arena_str(struct gh_writer *a, struct gh_slice s)
{
    const char *p = (const char *)a->data + a->len;
    if (gh_writer_bytes(a, s.ptr, s.len) != GH_OK || gh_writer_u8(a, 0) != GH_OK) return NULL;
    return p;
}

static gh_err c2d_deliver(struct gh_device_client *c, const struct gh_mqtt_publish *p,
                          struct gh_slice bag)
{
    /* Decoded items never grow: the scratch needs bag.len bytes, the arena
     * the decoded text plus two NULs per item (at most bag.len + 1 items). */
    size_t scratch_cap = bag.len + 1;
    size_t arena_cap = 3 * bag.len + 4;
    uint8_t *mem = malloc(scratch_cap + arena_cap);
    GH_ENSURE(mem, GH_ERR_NOMEM);
    struct gh_writer scratch, arena;
    gh_writer_init(&scratch, mem, scratch_cap);
    gh_writer_init(&arena, mem + scratch_cap, arena_cap);

    struct gh_device_c2d msg = {.body = p->payload.ptr, .len = p->payload.len};
    struct gh_device_property app[GH_DEVICE_PROPS_MAX];
    struct gh_iothub_bag_iter it;
    gh_iothub_bag_iter_init(&it, bag);
    gh_err rc = GH_OK;
    for (;;) {
        struct gh_iothub_bag_item item;
        bool found = false;
        rc = gh_iothub_bag_next(&it, &scratch, &item, &found);
        if (rc != GH_OK || !found) break;
        const char *key = arena_str(&arena, item.key);
        const char *val = item.has_value ? arena_str(&arena, item.value) : NULL;
        if (!key || (item.has_value && !val)) {
            rc = GH_ERR_INTERNAL;
            break;
        }
        switch (gh_iothub_prop_classify_s2d(item.key)) {
        case GH_IOTHUB_PROP_MESSAGE_ID:
            msg.message_id = val;
            break;
        case GH_IOTHUB_PROP_CORRELATION_ID:
            msg.correlation_id = val;
            break;
        case GH_IOTHUB_PROP_CONTENT_TYPE:
            msg.content_type = val;
            break;
        case GH_IOTHUB_PROP_CONTENT_ENCODING:
            msg.content_encoding = val;
            break;
        case GH_IOTHUB_PROP_USER_ID:
            msg.user_id = val;
            break;
        case GH_IOTHUB_PROP_TO:
            msg.to = val;
            break;
        case GH_IOTHUB_PROP_APP:
            if (msg.napp < GH_DEVICE_PROPS_MAX)
                app[msg.napp++] = (struct gh_device_property){key, val};
            else
                gh_log(GH_LOG_WARN, "device.c2d_props", "max=%u dropped", GH_DEVICE_PROPS_MAX);
            break;
        default:
            break; /* iothub-ack, $.exp, ...: nothing for the application */
        }
    }
    if (rc == GH_OK) {
        msg.app = app;
        if (c->cbs.on_c2d) c->cbs.on_c2d(c->user, &msg);
    }
    free(mem);
    return rc;
}

static void method_deliver(struct gh_device_client *c, const struct gh_mqtt_publish *p,
                           const struct gh_iothub_topic *t)
{
    char name[GH_MQTTC_ID_MAX + 1], rid[GH_MQTTC_ID_MAX + 1];
    if (gh_slice_to_cstr(t->name, name, sizeof name) != GH_OK ||
        gh_slice_to_cstr(t->rid, rid, sizeof rid) != GH_OK || !rid[0]) {
        gh_log(GH_LOG_WARN, "device.method_bad", "reason=name or rid");
        return;
    }
    if (c->cbs.on_method)
        c->cbs.on_method(c->user, name, (const char *)p->payload.ptr, p->payload.len, rid);
}

void gh_device_on_publish(void *user, const struct gh_mqtt_publish *p)
{
    struct gh_device_client *c = user;
    struct gh_iothub_topic t;
    gh_err rc = gh_iothub_topic_classify_s2d(p->topic, &t);
    if (rc != GH_OK) {
        char esc[GH_LOG_EXCERPT_MAX * 4 + 8];
        gh_log(GH_LOG_WARN, "device.unknown_topic", "topic=%s",
               gh_log_escape(esc, sizeof esc, p->topic.ptr, p->topic.len, GH_LOG_EXCERPT_MAX));
    } else if (t.kind == GH_IOTHUB_TOPIC_C2D) {
        if (!gh_iothub_pct_matches(t.device_id, gh_slice_cstr(c->device_id)))
            gh_log(GH_LOG_WARN, "device.c2d_other", "reason=device id mismatch");
        else if ((rc = c2d_deliver(c, p, t.bag)) != GH_OK)
            gh_log(GH_LOG_WARN, "device.c2d_bad", "err=%s", gh_err_name(rc));
    } else if (t.kind == GH_IOTHUB_TOPIC_TWIN_RESPONSE) {
        struct dev_req *r = gh_device_req_take(c, t.rid);
        if (r) {
            if (r->cb)
                r->cb(r->ctx, GH_OK, (int)t.status, (const char *)p->payload.ptr, p->payload.len,
                      t.has_version ? t.version : 0);
            gh_device_req_free(r);
        }
    } else if (t.kind == GH_IOTHUB_TOPIC_TWIN_DESIRED) {
        if (c->cbs.on_desired)
            c->cbs.on_desired(c->user, (const char *)p->payload.ptr, p->payload.len, t.version);
    } else if (t.kind == GH_IOTHUB_TOPIC_METHOD_REQUEST) {
        method_deliver(c, p, &t);
    }
    /* Acknowledge every QoS 1 delivery, understood or not, so that the
     * server does not redeliver what we can never take. */
    if (p->qos == 1 && c->mq) {
        rc = gh_mqttc_puback(c->mq, p->packet_id);
        if (rc != GH_OK) gh_log(GH_LOG_WARN, "device.puback", "err=%s", gh_err_name(rc));
    }
}
