/* One blocking job at a time on a helper thread, its end reported on the
 * event loop.
 *
 * For calls that must not stall a loop serving thousands of connections:
 * the fdatasync of the gateway's queue commit, whose next batch is written
 * on the loop anyway. (The hub's WAL sync keeps a thread of its own,
 * hub/walsync.c: it starts the next sync as soon as one ends, without this
 * round trip through the loop, which measurably cost end-to-end latency.)
 * The loop submits a job; the thread runs it; the loop's done callback gets
 * it back, in the loop's thread, once it has finished. At most one job is
 * in flight: a caller that has more work batches it into the next job.
 *
 * Thread-safety: every function is called from the loop's thread; only the
 * job function runs on the helper thread, and it must touch nothing but
 * its job.
 */
#ifndef GH_NET_WORKER_H
#define GH_NET_WORKER_H

#include <stdbool.h>

#include <event2/event.h>

#include "common/error.h"

struct gh_worker;

/* Runs on the helper thread. */
typedef void (*gh_worker_fn)(void *job);
/* Runs on the loop's thread when job has finished. */
typedef void (*gh_worker_done_fn)(void *arg, void *job);

/* Start the helper thread; done(arg, job) reports finished jobs on base.
 * Errors: GH_ERR_NOMEM, GH_ERR_IO (pipe). */
GH_NODISCARD gh_err gh_worker_new(struct event_base *base, gh_worker_done_fn done, void *arg,
                                  struct gh_worker **out);

/* Run fn(job) on the helper thread; done() follows on the loop. job is the
 * caller's and must stay valid until done() has it back.
 * Errors: GH_ERR_CONFLICT (a job is in flight). */
GH_NODISCARD gh_err gh_worker_submit(struct gh_worker *w, gh_worker_fn fn, void *job);

/* A job was submitted and done() has not had it back yet. */
bool gh_worker_busy(const struct gh_worker *w);

/* Block until the job in flight has finished and call done() for it here,
 * now (the loop's later notice then finds nothing). A no-op when idle. */
void gh_worker_wait(struct gh_worker *w);

/* Wait for the job in flight (done() is called, and for any job it submits
 * in turn), stop the thread and free w. NULL is a no-op. */
void gh_worker_free(struct gh_worker *w);

#endif
