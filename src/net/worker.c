/* The helper thread of gh_worker (see worker.h). */
#define _GNU_SOURCE /* pipe2 */
#include "net/worker.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

struct gh_worker {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* under mu */
    gh_worker_fn fn;
    void *job;
    bool queued;   /* submitted, not yet taken by the thread */
    bool finished; /* the thread is done with job */
    bool stop;
    /* loop only */
    bool busy;   /* submitted and not yet handed back to done() */
    int pipe[2]; /* the thread's "finished" to the loop */
    struct event *ev;
    pthread_t thread;
    bool started;
    gh_worker_done_fn done;
    void *arg;
};

static void *thread_main(void *p)
{
    struct gh_worker *w = p;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->stop && !w->queued) pthread_cond_wait(&w->cv, &w->mu);
        if (!w->queued) break; /* stop, and nothing left to run */
        w->queued = false;
        gh_worker_fn fn = w->fn;
        void *job = w->job;
        pthread_mutex_unlock(&w->mu);
        fn(job);
        pthread_mutex_lock(&w->mu);
        w->finished = true;
        pthread_cond_broadcast(&w->cv);
        /* A full pipe already says "look": the loop reads the state, not bytes. */
        ssize_t r = write(w->pipe[1], "", 1);
        (void)r;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Hand the finished job back to done(), if there is one. */
static void collect(struct gh_worker *w, bool block)
{
    if (!w->busy) return;
    pthread_mutex_lock(&w->mu);
    while (block && !w->finished) pthread_cond_wait(&w->cv, &w->mu);
    bool fin = w->finished;
    void *job = w->job;
    if (fin) w->finished = false;
    pthread_mutex_unlock(&w->mu);
    if (!fin) return;
    w->busy = false;
    w->done(w->arg, job);
}

static void on_notify(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0) {
    }
    collect(arg, false);
}

gh_err gh_worker_new(struct event_base *base, gh_worker_done_fn done, void *arg,
                     struct gh_worker **out)
{
    struct gh_worker *w = calloc(1, sizeof *w);
    GH_ENSURE(w != NULL, GH_ERR_NOMEM);
    w->pipe[0] = w->pipe[1] = -1;
    w->done = done;
    w->arg = arg;
    if (pthread_mutex_init(&w->mu, NULL) != 0) {
        free(w);
        return GH_ERR_NOMEM;
    }
    if (pthread_cond_init(&w->cv, NULL) != 0) {
        pthread_mutex_destroy(&w->mu);
        free(w);
        return GH_ERR_NOMEM;
    }
    gh_err rc = GH_OK;
    if (pipe2(w->pipe, O_NONBLOCK | O_CLOEXEC) != 0)
        rc = GH_ERR_IO;
    else if ((w->ev = event_new(base, w->pipe[0], EV_READ | EV_PERSIST, on_notify, w)) == NULL ||
             event_add(w->ev, NULL) != 0)
        rc = GH_ERR_NOMEM;
    else if (pthread_create(&w->thread, NULL, thread_main, w) != 0)
        rc = GH_ERR_NOMEM;
    else
        w->started = true;
    if (rc != GH_OK) {
        gh_worker_free(w);
        return rc;
    }
    *out = w;
    return GH_OK;
}

gh_err gh_worker_submit(struct gh_worker *w, gh_worker_fn fn, void *job)
{
    GH_ENSURE(!w->busy, GH_ERR_CONFLICT);
    w->busy = true;
    pthread_mutex_lock(&w->mu);
    w->fn = fn;
    w->job = job;
    w->queued = true;
    w->finished = false;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return GH_OK;
}

bool gh_worker_busy(const struct gh_worker *w)
{
    return w->busy;
}

void gh_worker_wait(struct gh_worker *w)
{
    collect(w, true);
}

void gh_worker_free(struct gh_worker *w)
{
    if (w == NULL) return;
    if (w->started) {
        while (w->busy) collect(w, true); /* done() may submit once more */
        pthread_mutex_lock(&w->mu);
        w->stop = true;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
    }
    if (w->ev != NULL) event_free(w->ev);
    if (w->pipe[0] >= 0) close(w->pipe[0]);
    if (w->pipe[1] >= 0) close(w->pipe[1]);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
