/* The gateway's message path: every telemetry message a child sends goes
 * through gh_edge_route. It is matched against the routes (src/route/,
 * docs/routes.md); each sink it selects gets it once:
 *   $upstream       the durable queue (src/queue/), drained to the hub over
 *                   the link in priority order, with the route's TTL;
 *   LocalTopic(t)   published at once to on-site consumers (local.c);
 *   AppendFile(f)   one JSON line in <data_dir>/f;
 *   BrokeredEndpoint  counted as unserved (no modules are hosted).
 * A QoS 1 message is acknowledged to its child after the group commit: one
 * queue commit (one fdatasync per touched segment) and one fsync per
 * written file for everything read since the last commit. The queue's
 * fdatasyncs (and cursor writes) run on a sync thread (gh_queue_flush_* on
 * a gh_worker) while the loop reads the next batch; one flush is in flight
 * at a time, and its children are answered at the commit after it ends. A
 * PUBACK from the gateway therefore means the message is on disk. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "common/encoding.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "edge/edge_int.h"
#include "iothub/bag.h"
#include "mqttc/mqttc.h"
#include "net/conn.h"
#include "net/worker.h"
#include "queue/queue.h"
#include "route/route.h"

/* Properties of one message looked at by the routes. */
#define ROUTE_PROPS_MAX 64
/* Decoded property text of one message. */
#define ROUTE_SCRATCH (16u * 1024u)
/* Queue payload: version, route index, device id, bag, body. */
#define PAYLOAD_VERSION 1u
#define TOPIC_MAX 1024u
/* Link cookie of a stored message: EDGE_COOKIE_MSG | route << 48 | seq. */
#define COOKIE_ROUTE_SHIFT 48
#define COOKIE_SEQ_MASK ((UINT64_C(1) << COOKIE_ROUTE_SHIFT) - 1)

static const char default_route[] = "FROM /messages/* INTO $upstream";

/* ---- routes ------------------------------------------------------------- */

gh_err gh_edge_routes_load(struct gh_edge *e, const struct gh_edge_config *cfg, char *err,
                           size_t errlen)
{
    struct gh_route_spec specs[GH_EDGE_ROUTES_MAX];
    size_t n = cfg->nroutes;
    for (size_t i = 0; i < n; i++) {
        const struct gh_edge_route_cfg *r = &cfg->routes[i];
        specs[i] = (struct gh_route_spec){
            .name = r->name,
            .text = r->text,
            .text_len = strlen(r->text),
            .priority = r->priority < 0 ? GH_ROUTE_PRIORITY_DEFAULT : (uint32_t)r->priority,
            .ttl_secs = r->ttl_s,
        };
    }
    if (n == 0) {
        specs[0] = (struct gh_route_spec){"upstream", default_route, sizeof default_route - 1,
                                          GH_ROUTE_PRIORITY_DEFAULT, 0};
        n = 1;
    }
    struct gh_route_table *t = NULL;
    struct gh_route_error rerr;
    memset(&rerr, 0, sizeof rerr);
    /* The global TTL: 0 in the config means keep forever (<= 0 for the table). */
    gh_err rc = gh_route_table_new(specs, n, cfg->saf_ttl > 0 ? cfg->saf_ttl : -1, &t, &rerr);
    if (rc != GH_OK) {
        snprintf(err, errlen, "route '%s': %s", specs[rerr.route < n ? rerr.route : 0].name,
                 rerr.msg[0] ? rerr.msg : gh_err_str(rc));
        return rc;
    }
    /* Counters follow the route's name across a reload (Prometheus counters
     * never go back); a new route starts at 0. */
    uint64_t in[GH_EDGE_ROUTES_MAX + 1] = {0}, out[GH_EDGE_ROUTES_MAX + 1] = {0};
    for (size_t i = 0; i < gh_route_table_count(t) && i < GH_EDGE_ROUTES_MAX; i++) {
        for (size_t k = 0;
             e->routes && k < gh_route_table_count(e->routes) && k < GH_EDGE_ROUTES_MAX; k++) {
            if (strcmp(gh_route_table_name(t, i), gh_route_table_name(e->routes, k)) != 0) continue;
            in[i] = e->stats.route_in[k];
            out[i] = e->stats.route_out[k];
        }
    }
    memcpy(e->stats.route_in, in, sizeof in);
    memcpy(e->stats.route_out, out, sizeof out);
    gh_route_table_free(e->routes);
    e->routes = t;
    for (size_t i = 0; i < gh_route_table_count(t); i++) {
        struct gh_route_sink sk = gh_route_sink(gh_route_table_route(t, i));
        gh_log_info("edge.route", "name=%s priority=%u ttl=%lld sink=%d arg=%.*s",
                    gh_route_table_name(t, i), gh_route_table_priority(t, i),
                    (long long)gh_route_table_ttl(t, i), (int)sk.kind, (int)sk.arg.len,
                    (const char *)sk.arg.ptr);
    }
    return GH_OK;
}

/* ---- the routing view of a message --------------------------------------- */

struct gh_edge_view {
    struct gh_route_msg m;
    struct gh_route_prop app[ROUTE_PROPS_MAX];
    char enqueued[GH_TIME_TEXT_LEN];
    uint8_t scratch[ROUTE_SCRATCH];
};

/* Decode the bag into v (bounded: properties past ROUTE_PROPS_MAX or the
 * scratch are invisible to routes; the message itself is stored whole). */
static void view_build(struct gh_edge_view *v, const struct gh_edge_child *ch, struct gh_slice bag,
                       struct gh_slice body, int64_t now_ms)
{
    gh_route_msg_init(&v->m);
    v->m.source = gh_slice_cstr("/messages/");
    v->m.body = body;
    v->m.sys[GH_ROUTE_SYS_CONNECTION_DEVICE_ID] = gh_slice_cstr(ch->device_id);
    v->m.sys[GH_ROUTE_SYS_CONNECTION_AUTH_METHOD] =
        gh_slice_cstr(ch->auth_type ? ch->auth_type : "sas");
    gh_time_format(now_ms, v->enqueued);
    v->m.sys[GH_ROUTE_SYS_ENQUEUED_TIME] = gh_slice_cstr(v->enqueued);
    struct gh_writer w;
    gh_writer_init(&w, v->scratch, sizeof v->scratch);
    struct gh_iothub_bag_iter it;
    gh_iothub_bag_iter_init(&it, bag);
    size_t napp = 0;
    for (;;) {
        struct gh_iothub_bag_item item;
        bool have = false;
        if (gh_iothub_bag_next(&it, &w, &item, &have) != GH_OK || !have) break;
        enum gh_route_sys sys;
        if (gh_route_sys_from_wire_key(item.key, &sys)) {
            v->m.sys[sys] = item.has_value ? item.value : gh_slice_cstr("");
        } else if (gh_iothub_prop_classify(item.key) == GH_IOTHUB_PROP_APP &&
                   napp < ROUTE_PROPS_MAX) {
            v->app[napp].key = item.key;
            v->app[napp].value = item.has_value ? item.value : (struct gh_slice){NULL, 0};
            napp++;
        }
    }
    v->m.app = v->app;
    v->m.napp = napp;
}

/* ---- sinks ----------------------------------------------------------------- */

static gh_err ensure_scratch(struct gh_edge *e, size_t need)
{
    if (need <= e->scratch_cap) return GH_OK;
    uint8_t *p = realloc(e->scratch, need);
    GH_ENSURE(p, GH_ERR_NOMEM);
    e->scratch = p;
    e->scratch_cap = need;
    return GH_OK;
}

static void schedule_commit(struct gh_edge *e);
static void flight_wait(struct gh_edge *e);

static gh_err to_queue(struct gh_edge *e, const struct gh_edge_child *ch,
                       const struct gh_route_match *mt, struct gh_slice bag, struct gh_slice body)
{
    size_t dl = strlen(ch->device_id);
    GH_ENSURE(bag.len <= UINT16_MAX, GH_ERR_TOO_LARGE);
    size_t need = 2 + 2 + dl + 2 + bag.len + body.len;
    GH_GUARD(ensure_scratch(e, need));
    struct gh_writer w;
    gh_writer_init(&w, e->scratch, e->scratch_cap);
    GH_GUARD(gh_writer_u8(&w, PAYLOAD_VERSION));
    GH_GUARD(gh_writer_u8(
        &w, (uint8_t)(mt->route < GH_EDGE_ROUTES_MAX ? mt->route : GH_EDGE_ROUTES_MAX)));
    GH_GUARD(gh_writer_u16be(&w, (uint16_t)dl));
    GH_GUARD(gh_writer_bytes(&w, ch->device_id, dl));
    GH_GUARD(gh_writer_u16be(&w, (uint16_t)bag.len));
    GH_GUARD(gh_writer_bytes(&w, bag.ptr, bag.len));
    GH_GUARD(gh_writer_bytes(&w, body.ptr, body.len));
    unsigned cls = gh_queue_priority_class(mt->priority);
    uint64_t ttl_ms = mt->ttl_secs > 0 ? (uint64_t)mt->ttl_secs * 1000 : 0;
    gh_err rc = gh_queue_append(e->queue, cls, ttl_ms, gh_writer_slice(&w), NULL);
    if (rc == GH_ERR_NOBUFS) {
        /* The batch is full: make it durable now, then append. A failure
         * here concerns every message waiting for the commit. */
        flight_wait(e);
        rc = gh_queue_commit(e->queue);
        if (rc != GH_OK) {
            e->commit_error = rc;
            schedule_commit(e);
            return rc;
        }
        rc = gh_queue_append(e->queue, cls, ttl_ms, gh_writer_slice(&w), NULL);
    }
    return rc;
}

static struct gh_edge_file *file_open(struct gh_edge *e, struct gh_slice name)
{
    for (size_t i = 0; i < e->nfiles; i++)
        if (gh_slice_eq_cstr(name, e->files[i].name)) return &e->files[i];
    if (e->nfiles >= EDGE_FILES_MAX || name.len > GH_EDGE_ROUTE_NAME_MAX) return NULL;
    char path[GH_EDGE_PATH_MAX + GH_EDGE_ROUTE_NAME_MAX + 2];
    snprintf(path, sizeof path, "%s/%.*s", e->data_dir, (int)name.len, (const char *)name.ptr);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        gh_log_error("edge.sink.file", "path=%s err=\"%s\"", path, strerror(errno));
        return NULL;
    }
    struct gh_edge_file *f = &e->files[e->nfiles++];
    memcpy(f->name, name.ptr, name.len);
    f->name[name.len] = '\0';
    f->fd = fd;
    f->dirty = false;
    return f;
}

/* {"enqueuedTime":..,"deviceId":..,"systemProperties":{..},"properties":{..},
 *  "body":"<text>" or "bodyBase64":"..."} */
static gh_err to_file(struct gh_edge *e, const struct gh_edge_view *v, struct gh_slice name)
{
    struct gh_edge_file *f = file_open(e, name);
    GH_ENSURE(f, GH_ERR_IO);
    json_t *j = json_object(), *sys = json_object(), *app = json_object();
    gh_err rc = j && sys && app ? GH_OK : GH_ERR_NOMEM;
    static const char *const names[GH_ROUTE_SYS_COUNT] = {"contentType",
                                                          "contentEncoding",
                                                          "messageId",
                                                          "correlationId",
                                                          "userId",
                                                          "to",
                                                          NULL,
                                                          NULL,
                                                          NULL,
                                                          NULL,
                                                          NULL,
                                                          "dt-subject",
                                                          "dt-dataschema",
                                                          "outputName"};
    for (int i = 0; rc == GH_OK && i < GH_ROUTE_SYS_COUNT; i++)
        if (names[i] && v->m.sys[i].ptr)
            json_object_set_new(sys, names[i],
                                json_stringn((const char *)v->m.sys[i].ptr, v->m.sys[i].len));
    for (size_t i = 0; rc == GH_OK && i < v->m.napp; i++) {
        char key[256];
        if (gh_slice_to_cstr(v->m.app[i].key, key, sizeof key) != GH_OK) continue;
        json_object_set_new(
            app, key,
            v->m.app[i].value.ptr
                ? json_stringn((const char *)v->m.app[i].value.ptr, v->m.app[i].value.len)
                : json_null());
    }
    if (rc == GH_OK) {
        json_object_set_new(j, "enqueuedTime", json_string(v->enqueued));
        json_object_set_new(
            j, "deviceId",
            json_stringn((const char *)v->m.sys[GH_ROUTE_SYS_CONNECTION_DEVICE_ID].ptr,
                         v->m.sys[GH_ROUTE_SYS_CONNECTION_DEVICE_ID].len));
        json_object_set(j, "systemProperties", sys);
        json_object_set(j, "properties", app);
        json_t *text = json_stringn((const char *)v->m.body.ptr, v->m.body.len);
        if (text) {
            json_object_set_new(j, "body", text);
        } else {
            size_t cap = gh_base64_encoded_len(v->m.body.len) + 1;
            char *b = malloc(cap);
            struct gh_writer bw;
            gh_writer_init(&bw, b, b ? cap : 0);
            if (b && gh_base64_encode(v->m.body.ptr, v->m.body.len, &bw) == GH_OK)
                json_object_set_new(j, "bodyBase64", json_stringn(b, bw.len));
            free(b);
        }
    }
    char *line = rc == GH_OK ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(sys);
    json_decref(app);
    json_decref(j);
    if (!line) return GH_ERR_NOMEM;
    size_t len = strlen(line);
    line[len] = '\n';
    ssize_t wr = write(f->fd, line, len + 1);
    free(line);
    if (wr != (ssize_t)(len + 1)) {
        gh_log_error("edge.sink.file", "file=%s err=\"%s\"", f->name,
                     wr < 0 ? strerror(errno) : "short write");
        return errno == ENOSPC ? GH_ERR_NOSPACE : GH_ERR_IO;
    }
    f->dirty = true;
    e->stats.file_lines++;
    return GH_OK;
}

/* ---- group commit ------------------------------------------------------------ */

static void schedule_commit(struct gh_edge *e)
{
    if (e->commit_scheduled) return;
    e->commit_scheduled = true;
    /* Runs after every read callback of this loop iteration (lower priority). */
    event_active(e->commit_ev, EV_TIMEOUT, 0);
}

static gh_err add_pending(struct gh_edge *e, struct gh_edge_child *ch, uint16_t pid)
{
    if (e->npending == e->pending_cap) {
        size_t cap = e->pending_cap ? e->pending_cap * 2 : 256;
        struct gh_edge_pending *p = realloc(e->pending, cap * sizeof *p);
        GH_ENSURE(p, GH_ERR_NOMEM);
        e->pending = p;
        e->pending_cap = cap;
    }
    e->pending[e->npending++] = (struct gh_edge_pending){ch, pid};
    ch->unsettled++;
    schedule_commit(e);
    return GH_OK;
}

/* PUBACK (or, if not durable, close) the first n pending children. */
static void settle(struct gh_edge *e, size_t n, gh_err rc)
{
    for (size_t i = 0; i < n; i++) {
        struct gh_edge_child *ch = e->pending[i].child;
        if (!ch) continue;
        if (rc == GH_OK) {
            gh_edge_child_acked(ch, e->pending[i].pid);
            gh_edge_child_settled(ch); /* may close a refused child */
        } else {
            /* Not durable: no PUBACK; the child resends after reconnecting. */
            e->stats.msgs_refused++;
            gh_edge_child_close(ch, "messages could not be stored");
        }
    }
    if (rc != GH_OK) gh_log_error("edge.store.commit", "err=%s pending=%zu", gh_err_str(rc), n);
    /* Closing a child may have forgotten entries, never removed them. */
    if (n < e->npending)
        memmove(e->pending, e->pending + n, (e->npending - n) * sizeof *e->pending);
    e->npending -= n;
}

static void run_flush(void *job)
{
    gh_queue_flush_sync(job);
}

/* The flush's syncs are done (on the loop, or inline in flight_wait). Only
 * the queue is touched here: children are answered at the next commit. */
static void on_flushed(void *arg, void *job)
{
    (void)job;
    struct gh_edge *e = arg;
    gh_err rc = gh_queue_flush_end(e->queue);
    if (e->flight_rc == GH_OK) e->flight_rc = rc;
    e->flush = NULL;
    e->flight_done = true;
    schedule_commit(e);
}

/* Sync the AppendFile sinks written since the last commit. */
static gh_err files_sync(struct gh_edge *e)
{
    gh_err rc = GH_OK;
    for (size_t i = 0; i < e->nfiles; i++) {
        if (!e->files[i].dirty) continue;
        e->files[i].dirty = false;
        if (fsync(e->files[i].fd) != 0 && rc == GH_OK) rc = GH_ERR_IO;
    }
    return rc;
}

/* Once per loop iteration: answer the children of a finished flush, then
 * write what was appended since and hand its sync to the syncer. When the
 * batch needs a new segment (once per segment), or an earlier commit in
 * this batch failed, commit here instead. */
static void on_commit(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct gh_edge *e = arg;
    e->commit_scheduled = false;
    if (e->flight_done) {
        e->flight_done = false;
        size_t n = e->nflight;
        e->nflight = 0;
        settle(e, n, e->flight_rc);
    }
    if (e->flush) {
        gh_edge_pump(e); /* the syncer's end schedules the next commit */
        return;
    }
    gh_err rc = files_sync(e);
    struct gh_queue_flush *f = NULL;
    gh_err qrc = e->commit_error != GH_OK ? GH_ERR_NOBUFS : gh_queue_flush_begin(e->queue, &f);
    if (qrc == GH_ERR_NOBUFS) qrc = gh_queue_commit(e->queue);
    if (rc == GH_OK) rc = qrc;
    if (e->commit_error != GH_OK) {
        /* An earlier commit of this batch failed: what it held is gone. */
        rc = e->commit_error;
        e->commit_error = GH_OK;
    }
    if (f) {
        e->flush = f;
        e->nflight = e->npending;
        e->flight_rc = rc;
        if (gh_worker_submit(e->syncer, run_flush, f) != GH_OK) { /* never: one flush at a time */
            gh_queue_flush_sync(f);
            on_flushed(e, f);
        }
    } else {
        settle(e, e->npending, rc);
    }
    gh_edge_pump(e);
}

/* Block until the flush in flight is ended (its children are answered at
 * the next commit). */
static void flight_wait(struct gh_edge *e)
{
    if (e->flush) gh_worker_wait(e->syncer);
}

void gh_edge_store_tick(struct gh_edge *e)
{
    if (e->queue && e->commit_ev) schedule_commit(e);
}

void gh_edge_queue_forget(struct gh_edge *e, struct gh_edge_child *ch)
{
    for (size_t i = 0; i < e->npending; i++)
        if (e->pending[i].child == ch) e->pending[i].child = NULL;
}

/* ---- the entry point ------------------------------------------------------------ */

gh_err gh_edge_route(struct gh_edge *e, struct gh_edge_child *ch, struct gh_slice bag,
                     struct gh_slice body, uint8_t qos, uint16_t pid)
{
    struct gh_edge_view *v = e->view; /* reused: one thread, one message at a time */
    view_build(v, ch, bag, body, gh_edge_now_ms());
    struct gh_route_match mt[GH_EDGE_ROUTES_MAX + 1];
    size_t n = 0;
    gh_err rc = gh_route_table_eval(e->routes, &v->m, mt, sizeof mt / sizeof mt[0], &n);
    e->stats.msgs_in++;
    if (rc == GH_OK && n == 0) e->stats.msgs_unrouted++;
    for (size_t i = 0; rc == GH_OK && i < n; i++) {
        size_t ri = mt[i].route < GH_EDGE_ROUTES_MAX ? mt[i].route : GH_EDGE_ROUTES_MAX;
        e->stats.route_in[ri]++;
        switch (mt[i].sink.kind) {
        case GH_ROUTE_SINK_UPSTREAM:
            rc = to_queue(e, ch, &mt[i], bag, body);
            if (rc == GH_ERR_NOSPACE && qos == 0) {
                e->stats.msgs_dropped++; /* QoS 0: nothing was promised */
                rc = GH_OK;
            }
            break;
        case GH_ROUTE_SINK_LOCAL_TOPIC:
            gh_edge_local_publish(e, mt[i].sink.arg, body);
            break;
        case GH_ROUTE_SINK_APPEND_FILE:
            rc = to_file(e, v, mt[i].sink.arg);
            break;
        case GH_ROUTE_SINK_BROKERED:
            e->stats.brokered_unserved++;
            break;
        }
    }
    if (rc == GH_ERR_NOSPACE) e->stats.msgs_refused++;
    if (rc != GH_OK) return rc;
    if (qos == 1) return add_pending(e, ch, pid);
    schedule_commit(e);
    return GH_OK;
}

/* ---- draining ---------------------------------------------------------------------- */

/* The link topic of a stored message and its body, from the payload. */
static gh_err unpack(struct gh_slice payload, char *topic, size_t cap, struct gh_slice *body,
                     unsigned *route)
{
    struct gh_reader r;
    gh_reader_init(&r, payload.ptr, payload.len);
    uint8_t ver, ri;
    uint16_t dl, bl;
    struct gh_slice dev, bag;
    GH_GUARD(gh_reader_u8(&r, &ver));
    GH_ENSURE(ver == PAYLOAD_VERSION, GH_ERR_UNSUPPORTED);
    GH_GUARD(gh_reader_u8(&r, &ri));
    GH_GUARD(gh_reader_u16be(&r, &dl));
    GH_GUARD(gh_reader_bytes(&r, dl, &dev));
    GH_GUARD(gh_reader_u16be(&r, &bl));
    GH_GUARD(gh_reader_bytes(&r, bl, &bag));
    GH_ENSURE(dev.len > 0 && !memchr(dev.ptr, '/', dev.len), GH_ERR_MALFORMED);
    int n = snprintf(topic, cap, EDGE_PREFIX "%.*s/devices/%.*s/messages/events/%.*s", (int)dev.len,
                     (const char *)dev.ptr, (int)dev.len, (const char *)dev.ptr, (int)bag.len,
                     (const char *)bag.ptr);
    GH_ENSURE(n > 0 && (size_t)n < cap, GH_ERR_TOO_LARGE);
    *body = gh_reader_rest(&r);
    *route = ri;
    return GH_OK;
}

void gh_edge_pump(struct gh_edge *e)
{
    while (e->link_up && gh_mqttc_inflight(e->link) < (unsigned)e->cfg->upstream_window) {
        struct gh_queue_msg m;
        bool have = false;
        gh_err rc = gh_queue_next(e->queue, &m, &have);
        if (rc == GH_ERR_TOO_MANY || (rc == GH_OK && !have)) return;
        if (rc != GH_OK) {
            gh_log_error("edge.store.read", "err=%s", gh_err_str(rc));
            return;
        }
        char topic[TOPIC_MAX];
        struct gh_slice body;
        unsigned route;
        rc = unpack(m.payload, topic, sizeof topic, &body, &route);
        if (rc != GH_OK) {
            /* A record that is not ours (the CRC held): skip it for good. */
            gh_log_error("edge.store.record", "seq=%llu err=%s", (unsigned long long)m.seq,
                         gh_err_str(rc));
            if (gh_queue_ack(e->queue, m.seq) != GH_OK) return;
            continue;
        }
        /* Cookie: the flag, the route (for the per-route counters), the seq. */
        uint64_t cookie = EDGE_COOKIE_MSG | ((uint64_t)(route & 0xff) << COOKIE_ROUTE_SHIFT) |
                          (m.seq & COOKIE_SEQ_MASK);
        rc = gh_mqttc_publish(e->link, topic, body.ptr, body.len, 1, cookie);
        if (rc != GH_OK) {
            if (gh_queue_nack(e->queue, m.seq) != GH_OK)
                gh_log_error("edge.store.nack", "seq=%llu", (unsigned long long)m.seq);
            if (rc != GH_ERR_NOBUFS && rc != GH_ERR_CLOSED)
                gh_log_error("edge.link.publish", "seq=%llu err=%s", (unsigned long long)m.seq,
                             gh_err_str(rc));
            return;
        }
    }
}

void gh_edge_msg_acked(struct gh_edge *e, uint64_t cookie)
{
    uint64_t seq = cookie & COOKIE_SEQ_MASK;
    unsigned route = (unsigned)(cookie >> COOKIE_ROUTE_SHIFT) & 0xff;
    e->stats.msgs_out++;
    if (route <= GH_EDGE_ROUTES_MAX) e->stats.route_out[route]++;
    if (gh_queue_ack(e->queue, seq) != GH_OK)
        gh_log_warn("edge.store.ack", "seq=%llu reason=\"not outstanding\"",
                    (unsigned long long)seq);
    schedule_commit(e); /* the cursor is written with the next commit */
}

void gh_edge_msg_unacked(struct gh_edge *e, uint64_t cookie)
{
    uint64_t seq = cookie & COOKIE_SEQ_MASK;
    e->stats.msgs_duplicate_sends++; /* it was on the wire: it goes again */
    if (gh_queue_nack(e->queue, seq) != GH_OK)
        gh_log_warn("edge.store.nack", "seq=%llu reason=\"not outstanding\"",
                    (unsigned long long)seq);
}

/* ---- lifecycle ------------------------------------------------------------------------ */

gh_err gh_edge_msgpath_start(struct gh_edge *e, char *err, size_t errlen)
{
    char dir[GH_EDGE_PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/%s", e->data_dir, GH_EDGE_DIR_QUEUE);
    struct gh_queue_options o;
    gh_queue_options_default(&o);
    o.max_bytes = (uint64_t)e->cfg->saf_max_bytes;
    gh_err rc = gh_queue_open(dir, &o, &e->queue);
    if (rc != GH_OK) {
        snprintf(err, errlen, "message store %s: %s", dir, gh_err_str(rc));
        return rc;
    }
    GH_GUARD(gh_edge_routes_load(e, e->cfg, err, errlen));
    e->view = malloc(sizeof *e->view);
    GH_ENSURE(e->view, GH_ERR_NOMEM);
    rc = gh_worker_new(e->base, on_flushed, e, &e->syncer);
    if (rc != GH_OK) {
        snprintf(err, errlen, "sync thread: %s", gh_err_str(rc));
        return rc;
    }
    e->commit_ev = event_new(e->base, -1, 0, on_commit, e);
    if (!e->commit_ev || event_priority_set(e->commit_ev, 2) != 0) {
        snprintf(err, errlen, "event setup failed");
        return GH_ERR_NOMEM;
    }
    struct gh_queue_stats st;
    if (gh_queue_stats(e->queue, &st) == GH_OK)
        gh_log_info("edge.store.open", "dir=%s messages=%llu bytes=%llu corrupt=%llu torn=%llu",
                    dir, (unsigned long long)st.depth_msgs, (unsigned long long)st.depth_bytes,
                    (unsigned long long)st.corrupt, (unsigned long long)st.torn);
    return GH_OK;
}

void gh_edge_msgpath_stop(struct gh_edge *e)
{
    flight_wait(e);
    gh_worker_free(e->syncer);
    e->syncer = NULL;
    if (e->queue) {
        if (gh_queue_commit(e->queue) != GH_OK) gh_log_warn("edge.store.commit", "at=stop");
        gh_queue_close(e->queue);
        e->queue = NULL;
    }
    if (e->commit_ev) event_free(e->commit_ev);
    e->commit_ev = NULL;
    gh_route_table_free(e->routes);
    e->routes = NULL;
    for (size_t i = 0; i < e->nfiles; i++) {
        if (e->files[i].dirty && fsync(e->files[i].fd) != 0)
            gh_log_warn("edge.sink.file", "file=%s err=fsync", e->files[i].name);
        close(e->files[i].fd);
    }
    e->nfiles = 0;
    free(e->pending);
    e->pending = NULL;
    e->npending = e->pending_cap = 0;
    free(e->scratch);
    e->scratch = NULL;
    free(e->view);
    e->view = NULL;
    e->scratch_cap = 0;
}
