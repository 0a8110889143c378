/* The WAL sync (see walsync.h): one fdatasync at a time on a gh_worker;
 * each covers every generation asked for before it started. */
#include "hub/walsync.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "net/worker.h"

struct sync_job {
    int fd;
    uint64_t target; /* every generation up to it */
    int err;         /* errno of the fdatasync, 0 */
};

struct gh_walsync {
    struct gh_worker *worker;
    int fd;
    uint64_t want;    /* newest generation asked for */
    uint64_t settled; /* every generation up to it was reported */
    bool stopping;
    struct sync_job job;
    gh_walsync_done_fn done;
    void *arg;
};

static void run_sync(void *p)
{
    struct sync_job *j = p;
    j->err = fdatasync(j->fd) == 0 ? 0 : errno;
}

static void start(struct gh_walsync *w)
{
    if (w->want <= w->settled || gh_worker_busy(w->worker)) return;
    w->job = (struct sync_job){.fd = w->fd, .target = w->want};
    if (gh_worker_submit(w->worker, run_sync, &w->job) != GH_OK) return; /* busy: not here */
}

static void on_done(void *arg, void *p)
{
    struct gh_walsync *w = arg;
    struct sync_job *j = p;
    w->settled = j->target;
    w->done(w->arg, j->target, j->err);
    if (!w->stopping) start(w);
}

gh_err gh_walsync_new(struct event_base *base, const char *wal_path, gh_walsync_done_fn done,
                      void *arg, struct gh_walsync **out)
{
    struct gh_walsync *w = calloc(1, sizeof *w);
    GH_ENSURE(w != NULL, GH_ERR_NOMEM);
    w->done = done;
    w->arg = arg;
    w->fd = open(wal_path, O_RDWR | O_CLOEXEC);
    if (w->fd < 0) {
        gh_log_error("hub.walsync", "path=%s err=\"%s\"", wal_path, strerror(errno));
        free(w);
        return GH_ERR_IO;
    }
    gh_err rc = gh_worker_new(base, on_done, w, &w->worker);
    if (rc != GH_OK) {
        close(w->fd);
        free(w);
        return rc;
    }
    *out = w;
    return GH_OK;
}

void gh_walsync_request(struct gh_walsync *w, uint64_t gen)
{
    if (gen > w->want) w->want = gen;
    start(w);
}

void gh_walsync_free(struct gh_walsync *w)
{
    if (w == NULL) return;
    w->stopping = true;
    gh_worker_wait(w->worker); /* reports the sync in flight */
    if (w->want > w->settled) {
        /* What was asked for and not yet synced: here, now. */
        struct sync_job j = {.fd = w->fd, .target = w->want};
        run_sync(&j);
        on_done(w, &j);
    }
    gh_worker_free(w->worker);
    close(w->fd);
    free(w);
}
