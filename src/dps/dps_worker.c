/* The assignment worker thread (see dps_worker.h). */
#include "dps/dps_worker.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "common/log.h"
#include "dps/dps_assign.h"
#include "dps/dps_store.h"
#include "iothub/crypto.h"

struct job {
    struct job *next;
    char reg[GH_DPS_ID_MAX + 1];
    char op_id[GH_DPS_OPID_LEN + 1];
    struct gh_dps_attest a;
};

struct gh_dps_worker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *head, *tail;
    size_t npending, queue_max;
    atomic_bool stop;
    /* start-up hand-shake */
    bool ready;
    gh_err start_rc;
    char detail[256];
    /* copied config, used by the thread only */
    char data_dir[GH_DPS_STORE_PATH_MAX];
    struct gh_dps_remote_config hubs[GH_DPS_WORKER_HUBS_MAX];
    char *strings[GH_DPS_WORKER_HUBS_MAX][5];
    size_t nhubs;
};

static void job_free(struct job *j)
{
    if (j == NULL) return;
    gh_dps_attest_cleanup(&j->a);
    free(j);
}

/* ---- the thread ------------------------------------------------------------ */

struct ctx {
    struct gh_dps_worker *w;
    struct event_base *base;
    struct evdns_base *dns;
    struct gh_dps_store *store;
    struct gh_dps_remote *remote[GH_DPS_WORKER_HUBS_MAX];
    struct gh_dps_hub hubs[GH_DPS_WORKER_HUBS_MAX];
};

static void finish_failed(struct gh_dps_store *s, const struct job *j, int32_t code,
                          const char *msg)
{
    struct gh_dps_registration r;
    memset(&r, 0, sizeof r);
    snprintf(r.registration_id, sizeof r.registration_id, "%s", j->reg);
    r.status = GH_DPS_FAILED;
    r.error_code = code;
    snprintf(r.error_message, sizeof r.error_message, "%s", msg);
    r.created_ms = r.updated_ms = gh_dps_store_now(s);
    gh_err rc = gh_dps_store_operation_finish(s, j->op_id, &r);
    if (rc != GH_OK)
        gh_log_error("dps.worker.finish", "operation=%s err=%s detail=\"%s\"", j->op_id,
                     gh_err_name(rc), gh_dps_store_errmsg(s));
}

static void run_job(struct ctx *c, struct job *j)
{
    struct gh_dps_registration r;
    int64_t t0 = gh_dps_store_now(c->store);
    gh_err rc = gh_dps_assign(c->store, &j->a, j->reg, c->hubs, c->w->nhubs, &r);
    if (rc == GH_OK) rc = gh_dps_store_operation_finish(c->store, j->op_id, &r);
    if (rc != GH_OK) {
        gh_log_error("dps.worker.assign", "operation=%s err=%s detail=\"%s\"", j->op_id,
                     gh_err_name(rc), gh_dps_store_errmsg(c->store));
        finish_failed(c->store, j, GH_DPS_ERR_INTERNAL, "Internal error.");
        return;
    }
    gh_log_info("dps.worker.done", "operation=%s status=%s hub=%s error=%d ms=%lld", j->op_id,
                gh_dps_status_name(r.status), r.assigned_hub[0] ? r.assigned_hub : "-",
                (int)r.error_code, (long long)(gh_dps_store_now(c->store) - t0));
}

static gh_err setup(struct ctx *c)
{
    struct gh_dps_worker *w = c->w;
    c->base = event_base_new();
    if (c->base == NULL) {
        snprintf(w->detail, sizeof w->detail, "cannot make an event base");
        return GH_ERR_NOMEM;
    }
    bool need_dns = false;
    for (size_t i = 0; i < w->nhubs; i++)
        need_dns = need_dns || w->hubs[i].address == NULL || w->hubs[i].address[0] == '\0';
    if (need_dns) {
        c->dns = evdns_base_new(c->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
        if (c->dns == NULL) {
            snprintf(w->detail, sizeof w->detail, "cannot start a DNS resolver");
            return GH_ERR_IO;
        }
    }
    gh_err rc = gh_dps_store_open(w->data_dir, &c->store, w->detail, sizeof w->detail);
    if (rc != GH_OK) return rc;
    for (size_t i = 0; i < w->nhubs; i++) {
        struct gh_dps_remote_config rc_cfg = w->hubs[i];
        rc_cfg.stop = &w->stop;
        char d[200] = "";
        rc = gh_dps_remote_new(c->base, c->dns, &rc_cfg, &c->remote[i], d, sizeof d);
        if (rc != GH_OK) {
            snprintf(w->detail, sizeof w->detail, "linked hub %s: %s", w->hubs[i].host_name, d);
            return rc;
        }
        gh_dps_hub_remote(&c->hubs[i], c->remote[i]);
    }
    return GH_OK;
}

static void teardown(struct ctx *c)
{
    for (size_t i = 0; i < GH_DPS_WORKER_HUBS_MAX; i++) gh_dps_remote_free(c->remote[i]);
    if (c->dns) evdns_base_free(c->dns, 1);
    if (c->base) {
        event_base_loop(c->base, EVLOOP_NONBLOCK); /* let dropped connections close */
        event_base_free(c->base);
    }
    gh_dps_store_close(c->store);
}

static void *thread_main(void *arg)
{
    struct ctx c = {.w = arg};
    struct gh_dps_worker *w = c.w;
    gh_err rc = setup(&c);
    pthread_mutex_lock(&w->mu);
    w->ready = true;
    w->start_rc = rc;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    if (rc != GH_OK) {
        teardown(&c);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (!atomic_load(&w->stop) && w->head == NULL) pthread_cond_wait(&w->cv, &w->mu);
        struct job *j = NULL;
        if (!atomic_load(&w->stop)) {
            j = w->head;
            w->head = j->next;
            if (w->head == NULL) w->tail = NULL;
            w->npending--;
        }
        pthread_mutex_unlock(&w->mu);
        if (j == NULL) break;
        run_job(&c, j);
        job_free(j);
    }
    /* Stopping: what never ran is finished failed, so no poll waits on it. */
    pthread_mutex_lock(&w->mu);
    struct job *rest = w->head;
    w->head = w->tail = NULL;
    w->npending = 0;
    pthread_mutex_unlock(&w->mu);
    size_t n = 0;
    while (rest != NULL) {
        struct job *next = rest->next;
        finish_failed(c.store, rest, GH_DPS_WORKER_ABANDONED_CODE, GH_DPS_WORKER_ABANDONED_MSG);
        job_free(rest);
        rest = next;
        n++;
    }
    if (n) gh_log_warn("dps.worker.abandoned", "operations=%zu", n);
    teardown(&c);
    return NULL;
}

/* ---- the loop's side --------------------------------------------------------- */

static void free_worker(struct gh_dps_worker *w)
{
    for (size_t i = 0; i < GH_DPS_WORKER_HUBS_MAX; i++)
        for (size_t k = 0; k < 5; k++) {
            if (w->strings[i][k] == NULL) continue;
            gh_secure_zero(w->strings[i][k], strlen(w->strings[i][k]));
            free(w->strings[i][k]);
        }
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    gh_secure_zero(w, sizeof *w);
    free(w);
}

static gh_err dup_into(char **slot, const char *s, const char **dst)
{
    *dst = NULL;
    if (s == NULL) return GH_OK;
    *slot = strdup(s);
    GH_ENSURE(*slot != NULL, GH_ERR_NOMEM);
    *dst = *slot;
    return GH_OK;
}

gh_err gh_dps_worker_start(const struct gh_dps_worker_config *cfg, struct gh_dps_worker **out,
                           char *detail, size_t detail_len)
{
    GH_ENSURE(cfg != NULL && cfg->data_dir != NULL && cfg->nhubs > 0 &&
                  cfg->nhubs <= GH_DPS_WORKER_HUBS_MAX && cfg->queue_max > 0 &&
                  strlen(cfg->data_dir) < GH_DPS_STORE_PATH_MAX,
              GH_ERR_ARG);
    struct gh_dps_worker *w = calloc(1, sizeof *w);
    GH_ENSURE(w != NULL, GH_ERR_NOMEM);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    atomic_init(&w->stop, false);
    w->queue_max = cfg->queue_max;
    memcpy(w->data_dir, cfg->data_dir, strlen(cfg->data_dir) + 1);
    w->nhubs = cfg->nhubs;
    gh_err rc = GH_OK;
    for (size_t i = 0; rc == GH_OK && i < cfg->nhubs; i++) {
        const struct gh_dps_remote_config *h = &cfg->hubs[i];
        struct gh_dps_remote_config *d = &w->hubs[i];
        *d = *h;
        d->stop = NULL;
        rc = dup_into(&w->strings[i][0], h->host_name, &d->host_name);
        if (rc == GH_OK) rc = dup_into(&w->strings[i][1], h->policy, &d->policy);
        if (rc == GH_OK) rc = dup_into(&w->strings[i][2], h->key, &d->key);
        if (rc == GH_OK) rc = dup_into(&w->strings[i][3], h->address, &d->address);
        if (rc == GH_OK) rc = dup_into(&w->strings[i][4], h->ca_file, &d->ca_file);
    }
    if (rc != GH_OK) {
        free_worker(w);
        return rc;
    }
    if (pthread_create(&w->thread, NULL, thread_main, w) != 0) {
        snprintf(detail, detail_len, "cannot start the assignment thread");
        free_worker(w);
        return GH_ERR_INTERNAL;
    }
    pthread_mutex_lock(&w->mu);
    while (!w->ready) pthread_cond_wait(&w->cv, &w->mu);
    rc = w->start_rc;
    pthread_mutex_unlock(&w->mu);
    if (rc != GH_OK) {
        snprintf(detail, detail_len, "%s", w->detail);
        pthread_join(w->thread, NULL);
        free_worker(w);
        return rc;
    }
    *out = w;
    return GH_OK;
}

gh_err gh_dps_worker_submit(struct gh_dps_worker *w, const char *reg, const char *op_id,
                            const struct gh_dps_attest *a)
{
    GH_ENSURE(w != NULL && reg != NULL && op_id != NULL && a != NULL &&
                  strlen(reg) <= GH_DPS_ID_MAX && strlen(op_id) <= GH_DPS_OPID_LEN &&
                  (a->outcome == GH_DPS_ATTEST_OK || a->outcome == GH_DPS_ATTEST_DISABLED),
              GH_ERR_ARG);
    struct job *j = calloc(1, sizeof *j);
    GH_ENSURE(j != NULL, GH_ERR_NOMEM);
    memcpy(j->reg, reg, strlen(reg) + 1);
    memcpy(j->op_id, op_id, strlen(op_id) + 1);
    j->a = *a;
    memset(&j->a.enrollment, 0, sizeof j->a.enrollment);
    if (gh_dps_enrollment_copy(&j->a.enrollment, &a->enrollment) != GH_OK) {
        job_free(j);
        return GH_ERR_NOMEM;
    }
    gh_err rc = GH_OK;
    pthread_mutex_lock(&w->mu);
    if (atomic_load(&w->stop)) {
        rc = GH_ERR_CLOSED;
    } else if (w->npending >= w->queue_max) {
        rc = GH_ERR_QUEUE_FULL;
    } else {
        if (w->tail)
            w->tail->next = j;
        else
            w->head = j;
        w->tail = j;
        w->npending++;
        pthread_cond_signal(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    if (rc != GH_OK) job_free(j);
    return rc;
}

size_t gh_dps_worker_pending(struct gh_dps_worker *w)
{
    pthread_mutex_lock(&w->mu);
    size_t n = w->npending;
    pthread_mutex_unlock(&w->mu);
    return n;
}

void gh_dps_worker_stop(struct gh_dps_worker *w)
{
    if (w == NULL) return;
    pthread_mutex_lock(&w->mu);
    atomic_store(&w->stop, true);
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    free_worker(w);
}
