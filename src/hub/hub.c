/* The hub daemon's core: start-up, the event loop, telemetry group commit,
 * housekeeping and shutdown. */
#include "hub/hub.h"
#include "hub/dedupe.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/pem.h>

#include "common/log.h"
#include "dps/dps_assign.h"
#include "dps/dps_store.h"
#include "dps/dps_worker.h"
#include "hub/rest.h"
#include "hub/rest_dps.h"
#include "hub/server_cert.h"
#include "hub/session.h"
#include "hub/store.h"
#include "hub/walsync.h"
#include "iothub/crypto.h"
#include "net/listener.h"
#include "net/tls.h"

struct batch_entry {
    struct gh_hub_session *s; /* NULL: no PUBACK (QoS 0, Will, or session gone) */
    uint16_t pid;
    char device_id[GH_IDENTITY_ID_MAX + 1];
    char module_id[GH_IDENTITY_ID_MAX + 1];
    int64_t enqueued_ms;
    char *props; /* JSON text (telemetry.h) */
    size_t props_len;
    uint8_t *body;
    size_t body_len;
    uint64_t dedupe; /* link telemetry with a message id: remembered once stored */
};

/* A committed message waiting for the sync of its generation. */
struct pending_ack {
    struct gh_hub_session *s; /* NULL: nothing to acknowledge (QoS 0, or session gone) */
    uint16_t pid;
    uint64_t dedupe; /* remembered once durable */
    uint64_t gen;
};

struct gh_hub {
    struct gh_hub_config cfg;
    struct gh_hub_dedupe *dedupe;
    struct event_base *base;
    struct gh_store *store;
    struct gh_tls_server *tls;
    struct gh_listener *mqtt;
    struct gh_hub_rest *rest;
    struct gh_hub_sessions *sessions;
    struct event *sigterm, *sigint, *tick, *commit;
    unsigned ticks;
    X509_STORE *ca_store;
    bool ca_loaded;
    struct batch_entry *batch;
    size_t nbatch;
    /* committed telemetry waiting for its WAL sync (walsync.h), in order */
    struct gh_walsync *walsync;
    struct pending_ack *pend;
    size_t pend_head, npend, pend_cap;
    uint64_t gen;         /* commits so far */
    bool settling;        /* settle() is running */
    uint64_t settle_more; /* a nested settle() asked for this generation */
    struct gh_hub_methods *methods;
    struct gh_dps_store *dps;
    struct gh_dps_embedded dps_embedded;
    struct gh_dps_hub dps_target;
    struct gh_dps_worker *dps_worker; /* linked hubs: the assignment thread */
};

struct gh_hub_sessions *gh_hub_sessions(struct gh_hub *hub);
struct gh_hub_sessions *gh_hub_sessions(struct gh_hub *hub)
{
    return hub->sessions;
}

const struct gh_hub_config *gh_hub_config(const struct gh_hub *hub)
{
    return &hub->cfg;
}

struct event_base *gh_hub_base(struct gh_hub *hub)
{
    return hub->base;
}

struct gh_store *gh_hub_store(struct gh_hub *hub)
{
    return hub->store;
}

int64_t gh_hub_now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

struct gh_dps_store *gh_hub_dps_store(struct gh_hub *hub)
{
    return hub->dps;
}

const struct gh_dps_hub *gh_hub_dps_target(struct gh_hub *hub)
{
    return hub->dps ? &hub->dps_target : NULL;
}

static void dps_ca_changed(void *ctx)
{
    gh_hub_ca_changed(ctx);
}

gh_err gh_hub_dps_register(struct gh_hub *hub, const char *reg, const struct gh_dps_attest *a,
                           struct gh_dps_operation *op, struct gh_dps_registration *state,
                           bool *queued)
{
    GH_ENSURE(hub->dps != NULL, GH_ERR_ARG);
    struct gh_dps_operation o;
    memset(&o, 0, sizeof o);
    GH_GUARD(gh_dps_store_operation_create(hub->dps, reg, &o));
    gh_err rc;
    if (hub->dps_worker != NULL) {
        rc = gh_dps_worker_submit(hub->dps_worker, reg, o.id, a);
        if (rc != GH_OK) {
            /* Nobody will poll it: the device is told to come back. */
            struct gh_dps_registration r;
            memset(&r, 0, sizeof r);
            snprintf(r.registration_id, sizeof r.registration_id, "%s", reg);
            r.status = GH_DPS_FAILED;
            r.error_code = GH_DPS_ERR_THROTTLED;
            snprintf(r.error_message, sizeof r.error_message, "Too many registrations waiting.");
            gh_err f = gh_dps_store_operation_finish(hub->dps, o.id, &r);
            if (f != GH_OK)
                gh_log_error("dps.register.throttle", "err=%s detail=\"%s\"", gh_err_name(f),
                             gh_dps_store_errmsg(hub->dps));
            gh_dps_operation_cleanup(&o);
            return rc == GH_ERR_CLOSED ? GH_ERR_QUEUE_FULL : rc;
        }
        *queued = true;
        *op = o;
        return GH_OK;
    }
    *queued = false;
    rc = gh_dps_assign(hub->dps, a, reg, &hub->dps_target, 1, state);
    if (rc == GH_OK) rc = gh_dps_store_operation_finish(hub->dps, o.id, state);
    if (rc != GH_OK) {
        gh_dps_operation_cleanup(&o);
        return rc;
    }
    *op = o;
    return GH_OK;
}

/* Linked hubs: start the assignment worker (docs/dps.md). */
static gh_err dps_worker_start(struct gh_hub *hub, char *errbuf, size_t errlen)
{
    const struct gh_hub_config *cfg = &hub->cfg;
    struct gh_dps_remote_config hubs[GH_HUB_LINKED_MAX];
    for (size_t i = 0; i < cfg->dps_nlinked; i++) {
        const struct gh_hub_linked_hub *l = &cfg->dps_linked[i];
        hubs[i] = (struct gh_dps_remote_config){
            .host_name = l->host_name,
            .policy = l->policy,
            .key = l->key,
            .address = l->address,
            .port = (uint16_t)l->port,
            .ca_file = l->ca[0] ? l->ca : cfg->tls_ca_cert,
            .timeout_ms = (unsigned)cfg->dps_linked_timeout * 1000u,
        };
    }
    struct gh_dps_worker_config wc = {.data_dir = cfg->data_dir,
                                      .hubs = hubs,
                                      .nhubs = cfg->dps_nlinked,
                                      .queue_max = (size_t)cfg->dps_assign_queue};
    char detail[256] = "";
    gh_err rc = gh_dps_worker_start(&wc, &hub->dps_worker, detail, sizeof detail);
    if (rc != GH_OK) {
        snprintf(errbuf, errlen, "provisioning: cannot start the assignment worker: %s", detail);
        return rc;
    }
    for (size_t i = 0; i < cfg->dps_nlinked; i++)
        gh_log_info("dps.linked_hub", "host=%s address=%s port=%lld policy=%s",
                    cfg->dps_linked[i].host_name,
                    cfg->dps_linked[i].address[0] ? cfg->dps_linked[i].address : "(resolve)",
                    (long long)cfg->dps_linked[i].port, cfg->dps_linked[i].policy);
    return GH_OK;
}

/* ---- CA trust store for certificateAuthority devices ------------------ */

void gh_hub_ca_changed(struct gh_hub *hub)
{
    X509_STORE_free(hub->ca_store);
    hub->ca_store = NULL;
    hub->ca_loaded = false;
}

X509_STORE *gh_hub_ca_store(struct gh_hub *hub)
{
    if (hub->ca_loaded) return hub->ca_store;
    hub->ca_loaded = true;
    struct gh_ca_record recs[64];
    size_t n = 0;
    if (gh_store_ca_list(hub->store, recs, 64, &n) != GH_OK) return NULL;
    X509_STORE *st = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!recs[i].verified) continue;
        char *pem = NULL;
        size_t len = 0;
        struct gh_ca_record rec;
        if (gh_store_ca_get(hub->store, recs[i].name, &rec, &pem, &len) != GH_OK) continue;
        BIO *b = BIO_new_mem_buf(pem, (int)len);
        X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
        free(pem);
        if (!x) continue;
        if (!st) st = X509_STORE_new();
        if (st) X509_STORE_add_cert(st, x);
        X509_free(x);
    }
    hub->ca_store = st;
    return st;
}

/* ---- telemetry group commit ------------------------------------------- */

static void batch_clear(struct gh_hub *hub)
{
    for (size_t i = 0; i < hub->nbatch; i++) {
        free(hub->batch[i].props);
        free(hub->batch[i].body);
        if (hub->batch[i].s) gh_hub_session_batch_ref(hub->batch[i].s, -1);
    }
    hub->nbatch = 0;
}

/* Room for n more pending acknowledgements. */
static gh_err pending_reserve(struct gh_hub *hub, size_t n)
{
    /* Settled entries at the front: reuse their room (not while settle()
     * walks the array by index: a Will added by a closing session may
     * commit from inside it). */
    if (hub->pend_head > 0 && !hub->settling) {
        memmove(hub->pend, hub->pend + hub->pend_head,
                (hub->npend - hub->pend_head) * sizeof *hub->pend);
        hub->npend -= hub->pend_head;
        hub->pend_head = 0;
    }
    if (hub->npend + n <= hub->pend_cap) return GH_OK;
    size_t cap = hub->pend_cap ? hub->pend_cap : GH_HUB_BATCH_MAX;
    while (cap < hub->npend + n) cap *= 2;
    struct pending_ack *p = realloc(hub->pend, cap * sizeof *p);
    GH_ENSURE(p != NULL, GH_ERR_NOMEM);
    hub->pend = p;
    hub->pend_cap = cap;
    return GH_OK;
}

/* Every commit up to gen is durable (err == 0) or its sync failed: send
 * the PUBACKs, or close the senders without them (they resend after
 * reconnecting: nothing acknowledged is lost). */
static void settle(struct gh_hub *hub, uint64_t gen, int err)
{
    if (err != 0)
        gh_log_error("hub.telemetry.sync", "generation=%llu err=\"%s\"", (unsigned long long)gen,
                     strerror(err));
    if (hub->settling) { /* from inside an acknowledgement below: the outer call goes on */
        if (gen > hub->settle_more) hub->settle_more = gen;
        return;
    }
    hub->settling = true;
    for (;;) {
        /* In place: acking may close a session, whose later entries
         * gh_hub_batch_forget then clears. */
        for (; hub->pend_head < hub->npend && hub->pend[hub->pend_head].gen <= gen;
             hub->pend_head++) {
            struct pending_ack *a = &hub->pend[hub->pend_head];
            if (err == 0 && a->dedupe) gh_hub_dedupe_add(hub->dedupe, a->dedupe);
            struct gh_hub_session *ss = a->s;
            if (ss == NULL) continue;
            a->s = NULL;
            gh_hub_session_batch_ref(ss, -1);
            if (err == 0)
                gh_hub_session_ack(ss, a->pid);
            else
                gh_hub_session_fail(ss, GH_ERR_IO);
        }
        if (hub->settle_more <= gen) break;
        gen = hub->settle_more; /* committed synchronously meanwhile (shutdown) */
        err = 0;
    }
    hub->settle_more = 0;
    hub->settling = false;
    if (hub->pend_head == hub->npend) hub->pend_head = hub->npend = 0;
    if (err == 0 && hub->sessions) gh_hub_service_committed(hub->sessions);
}

static void on_synced(void *arg, uint64_t gen, int err)
{
    settle(arg, gen, err);
}

static void batch_commit(struct gh_hub *hub)
{
    if (hub->nbatch == 0) return;
    struct gh_telemetry_in in[GH_HUB_BATCH_MAX];
    for (size_t i = 0; i < hub->nbatch; i++) {
        struct batch_entry *e = &hub->batch[i];
        in[i] = (struct gh_telemetry_in){.device_id = e->device_id,
                                         .module_id = e->module_id,
                                         .enqueued_ms = e->enqueued_ms,
                                         .properties_json = e->props,
                                         .properties_len = e->props_len,
                                         .body = e->body,
                                         .body_len = e->body_len};
    }
    size_t n = hub->nbatch;
    gh_err rc = pending_reserve(hub, n);
    if (rc == GH_OK) rc = gh_store_telemetry_append_batch(hub->store, in, n, NULL);
    if (rc == GH_OK) {
        /* Each acknowledgement (and its session reference) waits for the
         * sync of this generation. */
        uint64_t gen = ++hub->gen;
        for (size_t i = 0; i < n; i++) {
            struct batch_entry *e = &hub->batch[i];
            if (e->s == NULL && e->dedupe == 0) continue;
            hub->pend[hub->npend++] = (struct pending_ack){e->s, e->pid, e->dedupe, gen};
            e->s = NULL;
        }
        batch_clear(hub);
        if (hub->walsync)
            gh_walsync_request(hub->walsync, gen);
        else
            settle(hub, gen, 0); /* committed with a synchronous fsync */
        return;
    }
    gh_log_error("hub.telemetry.commit", "messages=%zu err=%s detail=\"%s\"", n, gh_err_str(rc),
                 gh_store_errmsg(hub->store));
    /* Detach the entries first: failing may close sessions. */
    struct gh_hub_session *done[GH_HUB_BATCH_MAX];
    size_t nd = 0;
    for (size_t i = 0; i < n; i++)
        if (hub->batch[i].s) done[nd++] = hub->batch[i].s;
    batch_clear(hub);
    /* Nothing was acknowledged, so the devices resend after reconnecting. */
    for (size_t i = 0; i < nd; i++) gh_hub_session_fail(done[i], rc);
}

/* Shutdown: sync what is committed, acknowledge it, and commit any later
 * batch synchronously. */
static void walsync_stop(struct gh_hub *hub)
{
    struct gh_walsync *w = hub->walsync;
    if (w == NULL) return;
    hub->walsync = NULL;
    gh_walsync_free(w); /* reports the last generations through on_synced */
    gh_store_telemetry_defer_sync(hub->store, false);
}

static void on_commit(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    batch_commit(arg);
}

gh_err gh_hub_batch_add(struct gh_hub *hub, struct gh_hub_session *s, uint16_t pid, uint8_t qos,
                        const char *device_id, const char *module_id, int64_t enqueued_ms,
                        struct gh_hub_props *props, const uint8_t *body, size_t body_len)
{
    if (hub->nbatch == GH_HUB_BATCH_MAX) batch_commit(hub);
    uint8_t *copy = malloc(body_len ? body_len : 1);
    if (!copy) {
        gh_hub_props_cleanup(props);
        return GH_ERR_NOMEM;
    }
    if (body_len) memcpy(copy, body, body_len);
    struct batch_entry *e = &hub->batch[hub->nbatch++];
    e->s = (qos == 1) ? s : NULL;
    e->pid = pid;
    snprintf(e->device_id, sizeof e->device_id, "%s", device_id);
    snprintf(e->module_id, sizeof e->module_id, "%s", module_id ? module_id : "");
    e->enqueued_ms = enqueued_ms;
    e->props = props->json;
    e->props_len = props->len;
    props->json = NULL;
    gh_hub_props_cleanup(props);
    e->body = copy;
    e->body_len = body_len;
    e->dedupe = 0;
    if (e->s) gh_hub_session_batch_ref(e->s, +1);
    /* Runs after every read callback of this loop iteration (lower priority). */
    event_active(hub->commit, EV_TIMEOUT, 0);
    return GH_OK;
}

struct gh_hub_dedupe *gh_hub_dedupe_of(struct gh_hub *hub)
{
    return hub->dedupe;
}

void gh_hub_batch_set_dedupe(struct gh_hub *hub, uint64_t key)
{
    if (hub->nbatch) hub->batch[hub->nbatch - 1].dedupe = key;
}

void gh_hub_batch_forget(struct gh_hub *hub, struct gh_hub_session *s)
{
    for (size_t i = 0; i < hub->nbatch; i++) {
        if (hub->batch[i].s == s) {
            hub->batch[i].s = NULL;
            gh_hub_session_batch_ref(s, -1);
        }
    }
    for (size_t i = hub->pend_head; i < hub->npend; i++) {
        if (hub->pend[i].s == s) {
            hub->pend[i].s = NULL;
            gh_hub_session_batch_ref(s, -1);
        }
    }
}

/* ---- start-up ------------------------------------------------------------ */

static gh_err mkdir_private(const char *dir, char *errbuf, size_t errlen)
{
    if (mkdir(dir, 0700) == 0 || errno == EEXIST) return GH_OK;
    snprintf(errbuf, errlen, "cannot create data directory %s: %s", dir, strerror(errno));
    return errno == EACCES ? GH_ERR_PERM : GH_ERR_IO;
}

gh_err gh_hub_write_connection_string(struct gh_hub *hub, const char *host, const char *policy,
                                      const char *file, char *path, size_t cap)
{
    struct gh_policy pol;
    char text[512];
    char tmp[GH_HUB_PATH_MAX + 64];
    int fd = -1;
    GH_GUARD(gh_store_policy_get(hub->store, policy, &pol));
    gh_err rc = GH_OK;
    int n = snprintf(text, sizeof text, "HostName=%s;SharedAccessKeyName=%s;SharedAccessKey=%s\n",
                     host, policy, pol.primary_key);
    gh_policy_wipe(&pol);
    if (n < 0 || (size_t)n >= sizeof text ||
        (size_t)snprintf(path, cap, "%s/%s", hub->cfg.data_dir, file) >= cap ||
        (size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
        rc = GH_ERR_TOO_LARGE;
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, text, (size_t)n) != n || fsync(fd) != 0) {
        rc = GH_ERR_IO;
        goto out;
    }
    int c = close(fd);
    fd = -1;
    if (c != 0 || rename(tmp, path) != 0) rc = GH_ERR_IO;
out:
    if (fd >= 0) close(fd);
    gh_secure_zero(text, sizeof text);
    return rc;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    gh_log_info("hub.signal", "signal=%d action=shutdown", (int)sig);
    gh_hub_stop(arg);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct gh_hub *hub = arg;
    int64_t now = gh_hub_now_ms();
    gh_hub_sessions_tick(hub->sessions, now);
    if (++hub->ticks % GH_HUB_RETAIN_TICKS == 0 && hub->dps) {
        uint64_t n = 0;
        if (gh_dps_store_operation_expire(hub->dps, &n) != GH_OK)
            gh_log_error("dps.operations.expire", "detail=\"%s\"", gh_dps_store_errmsg(hub->dps));
    }
    if (hub->ticks % GH_HUB_RETAIN_TICKS == 0) {
        struct gh_retention_result r;
        gh_err rc = gh_store_telemetry_retain(hub->store, hub->cfg.telemetry_max_age * 1000,
                                              (uint64_t)hub->cfg.telemetry_max_bytes, &r);
        if (rc != GH_OK)
            gh_log_error("hub.retention", "err=%s", gh_err_str(rc));
        else if (r.by_age || r.by_bytes)
            gh_log_info("hub.retention", "deleted_by_age=%llu deleted_by_bytes=%llu",
                        (unsigned long long)r.by_age, (unsigned long long)r.by_bytes);
    }
}

static void on_mqtt_accept(struct gh_listener *l, struct gh_conn *c, void *user)
{
    (void)l;
    struct gh_hub *hub = user;
    gh_hub_session_accept(hub->sessions, c);
}

static gh_err listen_on(struct gh_hub *hub, int64_t port, gh_listener_accept_fn fn,
                        struct gh_listener **out, char *errbuf, size_t errlen)
{
    char addr[GH_HUB_ADDR_MAX + 16];
    if (strchr(hub->cfg.listen_address, ':'))
        snprintf(addr, sizeof addr, "[%s]:%lld", hub->cfg.listen_address, (long long)port);
    else
        snprintf(addr, sizeof addr, "%s:%lld", hub->cfg.listen_address, (long long)port);
    struct gh_listener_options o = {0};
    o.max_conns = (unsigned)hub->cfg.max_connections;
    o.max_handshakes = (unsigned)hub->cfg.max_pending_connects;
    o.handshake_timeout_ms = (unsigned)hub->cfg.handshake_timeout * 1000;
    /* A whole packet must fit in the input buffer. */
    o.limits.in_max = (size_t)hub->cfg.max_message_size + 128 * 1024;
    o.limits.out_high = 1024 * 1024;
    o.limits.out_low = 256 * 1024;
    char detail[GH_TLS_DETAIL_MAX] = "";
    gh_err rc = gh_listener_new(hub->base, addr, hub->tls, &o, fn, hub, out, detail, sizeof detail);
    if (rc != GH_OK) snprintf(errbuf, errlen, "cannot listen on %s: %s", addr, detail);
    return rc;
}

gh_err gh_hub_new(const struct gh_hub_config *cfg, struct gh_hub **out, char *errbuf, size_t errlen)
{
    gh_err rc;
    struct gh_hub *hub = calloc(1, sizeof *hub);
    GH_ENSURE(hub, GH_ERR_NOMEM);
    hub->cfg = *cfg;
    hub->batch = calloc(GH_HUB_BATCH_MAX, sizeof *hub->batch);
    if (hub->batch && gh_hub_dedupe_new(&hub->dedupe) != GH_OK) {
        free(hub->batch);
        hub->batch = NULL;
    }
    struct event_config *ec = event_config_new();
    hub->base = ec ? event_base_new_with_config(ec) : NULL;
    event_config_free(ec);
    if (!hub->batch || !hub->base || event_base_priority_init(hub->base, 3) != 0) {
        rc = GH_ERR_NOMEM;
        goto fail;
    }
    if ((rc = mkdir_private(cfg->data_dir, errbuf, errlen)) != GH_OK) goto fail;
    char dberr[GH_STORE_ERR_MAX] = "";
    if ((rc = gh_store_open(cfg->data_dir, &hub->store, dberr, sizeof dberr)) != GH_OK) {
        snprintf(errbuf, errlen, "cannot open the database in %s: %s", cfg->data_dir, dberr);
        goto fail;
    }
    char wal[sizeof cfg->data_dir + sizeof GH_STORE_DB_NAME + 8];
    snprintf(wal, sizeof wal, "%s/%s-wal", cfg->data_dir, GH_STORE_DB_NAME);
    if ((rc = gh_walsync_new(hub->base, wal, on_synced, hub, &hub->walsync)) != GH_OK) {
        snprintf(errbuf, errlen, "cannot start the telemetry sync thread for %s: %s", wal,
                 gh_err_str(rc));
        goto fail;
    }
    gh_store_telemetry_defer_sync(hub->store, true);
    unsigned created = 0;
    uint64_t stale = 0;
    if ((rc = gh_store_ensure_default_policies(hub->store, &created)) != GH_OK ||
        (rc = gh_store_reset_connections(hub->store, &stale)) != GH_OK) {
        snprintf(errbuf, errlen, "database: %s", gh_store_errmsg(hub->store));
        goto fail;
    }
    if (cfg->dps_enabled) {
        if ((rc = gh_dps_store_open(cfg->data_dir, &hub->dps, dberr, sizeof dberr)) != GH_OK) {
            snprintf(errbuf, errlen, "cannot open the provisioning database in %s: %s",
                     cfg->data_dir, dberr);
            goto fail;
        }
        hub->dps_embedded = (struct gh_dps_embedded){
            .store = hub->store, .ca_changed = dps_ca_changed, .ca_changed_ctx = hub};
        gh_dps_hub_embedded(&hub->dps_target, hub->cfg.hostname, &hub->dps_embedded);
        uint64_t failed = 0;
        if (gh_dps_store_operation_fail_pending(hub->dps, GH_DPS_WORKER_ABANDONED_CODE,
                                                GH_DPS_WORKER_ABANDONED_MSG, &failed) != GH_OK)
            gh_log_error("dps.operations.pending", "detail=\"%s\"", gh_dps_store_errmsg(hub->dps));
        else if (failed)
            gh_log_warn("dps.operations.pending",
                        "failed=%llu reason=\"left assigning by the last "
                        "run\"",
                        (unsigned long long)failed);
        if (cfg->dps_nlinked > 0 && (rc = dps_worker_start(hub, errbuf, errlen)) != GH_OK)
            goto fail;
    }
    char cs_path[GH_HUB_PATH_MAX + 32];
    if ((rc = gh_hub_write_connection_string(hub, cfg->hostname, "iothubowner",
                                             "service-connection-string", cs_path,
                                             sizeof cs_path)) != GH_OK) {
        snprintf(errbuf, errlen, "cannot write the service connection string in %s", cfg->data_dir);
        goto fail;
    }
    if (created) gh_log_info("hub.policies.created", "count=%u", created);
    gh_log_info("hub.service_connection_string", "path=%s policy=iothubowner", cs_path);
    if (hub->dps && (rc = gh_hub_dps_policy_ensure(hub, cs_path, sizeof cs_path)) != GH_OK) {
        snprintf(errbuf, errlen, "cannot write the DPS service connection string in %s: %s",
                 cfg->data_dir, gh_err_str(rc));
        goto fail;
    }
    if (hub->dps) gh_log_info("dps.service_connection_string", "path=%s", cs_path);

    char cert[GH_HUB_PATH_MAX + 32], key[GH_HUB_PATH_MAX + 32];
    if ((rc = gh_hub_server_cert(cfg, cert, key, sizeof cert, errbuf, errlen)) != GH_OK) goto fail;
    struct gh_tls_server_config tc = {.default_id = {.cert_file = cert, .key_file = key}};
    /* Client certificates are requested (X.509 devices) and verified by the
     * hub itself (thumbprints, registered CAs), so no client-CA bundle here:
     * the transport only records what was presented. */
    char detail[GH_TLS_DETAIL_MAX] = "";
    tc.request_client_cert = true;
    if ((rc = gh_tls_server_new(&tc, &hub->tls, detail, sizeof detail)) != GH_OK) {
        snprintf(errbuf, errlen, "TLS: %s", detail);
        goto fail;
    }
    if ((rc = gh_hub_sessions_new(hub, &hub->sessions)) != GH_OK) goto fail;
    if ((rc = gh_hub_methods_new(hub, &hub->methods)) != GH_OK) goto fail;
    if ((rc = listen_on(hub, cfg->mqtt_port, on_mqtt_accept, &hub->mqtt, errbuf, errlen)) != GH_OK)
        goto fail;
    if ((rc = gh_hub_rest_new(hub, hub->tls, &hub->rest, errbuf, errlen)) != GH_OK) goto fail;

    hub->commit = event_new(hub->base, -1, 0, on_commit, hub);
    hub->tick = event_new(hub->base, -1, EV_PERSIST, on_tick, hub);
    hub->sigterm = evsignal_new(hub->base, SIGTERM, on_signal, hub);
    hub->sigint = evsignal_new(hub->base, SIGINT, on_signal, hub);
    if (!hub->commit || !hub->tick || !hub->sigterm || !hub->sigint ||
        event_priority_set(hub->commit, 2) != 0) {
        rc = GH_ERR_NOMEM;
        goto fail;
    }
    struct timeval tv = {GH_HUB_TICK_MS / 1000, (GH_HUB_TICK_MS % 1000) * 1000};
    event_add(hub->tick, &tv);
    event_add(hub->sigterm, NULL);
    event_add(hub->sigint, NULL);
    gh_log_info("hub.start", "host=%s mqtt=%s:%u https=%s:%u data=%s", cfg->hostname,
                cfg->listen_address, gh_listener_port(hub->mqtt), cfg->listen_address,
                gh_hub_rest_port(hub->rest), cfg->data_dir);
    if (hub->dps)
        gh_log_info("dps.start", "host=%s id_scope=%s linked_hubs=%zu standalone=%d",
                    cfg->dps_hostname, cfg->dps_id_scope, cfg->dps_nlinked,
                    cfg->dps_standalone ? 1 : 0);
    *out = hub;
    return GH_OK;
fail:
    gh_hub_free(hub);
    return rc;
}

uint16_t gh_hub_mqtt_port(const struct gh_hub *hub)
{
    return gh_listener_port(hub->mqtt);
}

gh_err gh_hub_run(struct gh_hub *hub)
{
    int r = event_base_dispatch(hub->base);
    /* Shutdown: nothing accepted may be lost. */
    batch_commit(hub);
    return r < 0 ? GH_ERR_INTERNAL : GH_OK;
}

void gh_hub_stop(struct gh_hub *hub)
{
    gh_listener_free(hub->mqtt);
    hub->mqtt = NULL;
    gh_hub_rest_free(hub->rest);
    hub->rest = NULL;
    batch_commit(hub);
    walsync_stop(hub);
    gh_hub_methods_free(hub->methods);
    hub->methods = NULL;
    gh_hub_sessions_free(hub->sessions);
    hub->sessions = NULL;
    /* The running assignment is abandoned, queued ones are failed. */
    gh_dps_worker_stop(hub->dps_worker);
    hub->dps_worker = NULL;
    if (hub->tick) event_del(hub->tick);
    if (hub->sigterm) event_del(hub->sigterm);
    if (hub->sigint) event_del(hub->sigint);
    /* The loop ends once the aborted connections have closed. */
}

void gh_hub_free(struct gh_hub *hub)
{
    if (!hub) return;
    gh_listener_free(hub->mqtt);
    gh_hub_rest_free(hub->rest);
    if (hub->batch) batch_commit(hub);
    walsync_stop(hub);
    gh_hub_methods_free(hub->methods);
    if (hub->sessions) {
        gh_hub_sessions_free(hub->sessions);
        /* Let aborted connections run their on_close. */
        if (hub->base) event_base_loop(hub->base, EVLOOP_NONBLOCK);
    }
    if (hub->commit) event_free(hub->commit);
    if (hub->tick) event_free(hub->tick);
    if (hub->sigterm) event_free(hub->sigterm);
    if (hub->sigint) event_free(hub->sigint);
    gh_tls_server_free(hub->tls);
    X509_STORE_free(hub->ca_store);
    gh_dps_worker_stop(hub->dps_worker);
    gh_dps_store_close(hub->dps);
    gh_store_close(hub->store);
    if (hub->base) event_base_free(hub->base);
    free(hub->batch);
    free(hub->pend);
    gh_hub_dedupe_free(hub->dedupe);
    gh_hub_config_wipe(&hub->cfg);
    free(hub);
}

struct gh_hub_methods *gh_hub_methods_of(struct gh_hub *hub);
struct gh_hub_methods *gh_hub_methods_of(struct gh_hub *hub)
{
    return hub->methods;
}
