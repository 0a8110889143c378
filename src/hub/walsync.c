/* The WAL sync thread (see walsync.h). */
#define _GNU_SOURCE /* pipe2 */
#include "hub/walsync.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

struct gh_walsync {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* under mu */
    uint64_t want;   /* newest generation asked for */
    uint64_t synced; /* every generation up to it is settled (durable, or failed) */
    uint64_t failed; /* every generation up to it had a failed sync */
    int err;         /* errno of that failure */
    bool stop;
    /* thread, then the loop after the join */
    int fd;
    /* loop only */
    uint64_t reported;
    int pipe[2]; /* the thread's "something finished" to the loop */
    struct event *ev;
    pthread_t thread;
    bool started;
    gh_walsync_done_fn done;
    void *arg;
};

static int sync_once(int fd)
{
    return fdatasync(fd) == 0 ? 0 : errno;
}

static void *thread_main(void *p)
{
    struct gh_walsync *w = p;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->stop && w->want <= w->synced) pthread_cond_wait(&w->cv, &w->mu);
        if (w->stop) break;
        uint64_t target = w->want;
        pthread_mutex_unlock(&w->mu);
        int e = sync_once(w->fd);
        pthread_mutex_lock(&w->mu);
        if (e == 0) {
            w->synced = target;
        } else {
            w->failed = target;
            w->err = e;
        }
        if (w->synced < w->failed) w->synced = w->failed; /* nothing left to sync below */
        /* A full pipe already says "look": the loop reads the state, not bytes. */
        ssize_t r = write(w->pipe[1], "", 1);
        (void)r;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Tell the owner about everything finished since the last report. */
static void report(struct gh_walsync *w)
{
    pthread_mutex_lock(&w->mu);
    uint64_t synced = w->synced, failed = w->failed;
    int err = w->err;
    pthread_mutex_unlock(&w->mu);
    if (failed > w->reported) {
        w->reported = failed;
        w->done(w->arg, failed, err);
    }
    if (synced > w->reported) {
        w->reported = synced;
        w->done(w->arg, synced, 0);
    }
}

static void on_notify(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0) {
    }
    report(arg);
}

gh_err gh_walsync_new(struct event_base *base, const char *wal_path, gh_walsync_done_fn done,
                      void *arg, struct gh_walsync **out)
{
    struct gh_walsync *w = calloc(1, sizeof *w);
    GH_ENSURE(w != NULL, GH_ERR_NOMEM);
    w->fd = w->pipe[0] = w->pipe[1] = -1;
    w->done = done;
    w->arg = arg;
    gh_err rc = GH_OK;
    if (pthread_mutex_init(&w->mu, NULL) != 0) {
        free(w);
        return GH_ERR_NOMEM;
    }
    if (pthread_cond_init(&w->cv, NULL) != 0) {
        pthread_mutex_destroy(&w->mu);
        free(w);
        return GH_ERR_NOMEM;
    }
    w->fd = open(wal_path, O_RDWR | O_CLOEXEC);
    if (w->fd < 0) {
        gh_log_error("hub.walsync", "path=%s err=\"%s\"", wal_path, strerror(errno));
        rc = GH_ERR_IO;
    } else if (pipe2(w->pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        rc = GH_ERR_IO;
    } else if ((w->ev = event_new(base, w->pipe[0], EV_READ | EV_PERSIST, on_notify, w)) == NULL ||
               event_add(w->ev, NULL) != 0) {
        rc = GH_ERR_NOMEM;
    } else if (pthread_create(&w->thread, NULL, thread_main, w) != 0) {
        rc = GH_ERR_NOMEM;
    } else {
        w->started = true;
    }
    if (rc != GH_OK) {
        gh_walsync_free(w);
        return rc;
    }
    *out = w;
    return GH_OK;
}

void gh_walsync_request(struct gh_walsync *w, uint64_t gen)
{
    pthread_mutex_lock(&w->mu);
    if (gen > w->want) w->want = gen;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void gh_walsync_free(struct gh_walsync *w)
{
    if (w == NULL) return;
    if (w->started) {
        pthread_mutex_lock(&w->mu);
        w->stop = true;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
        /* What was asked for and not yet synced: here, now. */
        if (w->want > w->synced) {
            int e = sync_once(w->fd);
            if (e == 0)
                w->synced = w->want;
            else {
                w->failed = w->want;
                w->err = e;
            }
        }
        report(w);
    }
    if (w->ev != NULL) event_free(w->ev);
    if (w->pipe[0] >= 0) close(w->pipe[0]);
    if (w->pipe[1] >= 0) close(w->pipe[1]);
    if (w->fd >= 0) close(w->fd);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
