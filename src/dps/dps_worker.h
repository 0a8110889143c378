/* The provisioning service's assignment worker: ONE thread that assigns
 * registrations to linked hubs (dps_remote.h), so a slow or dead linked
 * hub never stalls the hub's event loop.
 *
 * The loop attests the device, creates the operation (status assigning),
 * submits a job (registration id, operation id, a copy of the decided
 * attestation) and answers 202 at once; polls read the operation from the
 * store. The worker thread owns everything it uses: its own libevent
 * event_base (and a resolver when a linked hub has no address), one
 * gh_dps_remote per linked hub on that base, and its own connection to
 * dps.db (gh_dps_store_open in the thread; SQLite's busy timeout,
 * GH_DPS_STORE_BUSY_TIMEOUT_MS, covers the few moments both connections
 * write, and no transaction spans a network request). Jobs run one at a
 * time in submission order: gh_dps_assign against the linked hubs, then
 * gh_dps_store_operation_finish.
 *
 * Jobs come through a mutex + condition variable queue of at most
 * queue_max waiting jobs; a full queue refuses the submission
 * (GH_ERR_QUEUE_FULL: the caller answers DPS 429 "throttled").
 *
 * Shutdown (gh_dps_worker_stop): the stop flag is set and the thread
 * woken; a request in flight to a linked hub is cancelled within
 * GH_DPS_REMOTE_STOP_POLL_MS, so the running job ends failed (its
 * operation and registration state say why); jobs still queued are
 * finished failed with GH_DPS_WORKER_ABANDONED_MSG; the thread is joined.
 * A process that dies without this leaves operations assigning: the hub
 * fails them the same way at the next start
 * (gh_dps_store_operation_fail_pending). The device registers again.
 *
 * Thread-safety: gh_dps_worker_submit may be called from one other thread
 * (the loop) while the worker runs; start and stop from that same thread.
 */
#ifndef GH_DPS_DPS_WORKER_H
#define GH_DPS_DPS_WORKER_H

#include <stddef.h>

#include "common/error.h"
#include "dps/dps_attest.h"
#include "dps/dps_remote.h"

#define GH_DPS_WORKER_HUBS_MAX GH_DPS_HUBS_MAX
/* Error code and message of operations that never ran (shutdown). */
#define GH_DPS_WORKER_ABANDONED_CODE GH_DPS_ERR_HUB_ASSIGN
#define GH_DPS_WORKER_ABANDONED_MSG                                                                \
    "The provisioning service stopped before the device was assigned; register again."

struct gh_dps_worker_config {
    const char *data_dir; /* holds dps.db */
    /* The linked hubs (their stop member is ignored: the worker's flag is used). */
    const struct gh_dps_remote_config *hubs;
    size_t nhubs; /* 1..GH_DPS_WORKER_HUBS_MAX */
    size_t queue_max;
};

struct gh_dps_worker;

/* Start the thread and wait until it is ready (store open, hubs made).
 * cfg is not retained. detail gets a reason on error.
 * Errors: GH_ERR_ARG, the errors of gh_dps_store_open and
 * gh_dps_remote_new, GH_ERR_NOMEM, GH_ERR_INTERNAL (thread). */
GH_NODISCARD gh_err gh_dps_worker_start(const struct gh_dps_worker_config *cfg,
                                        struct gh_dps_worker **out, char *detail,
                                        size_t detail_len);

/* Queue the assignment of registration reg (operation op_id) for the
 * decided attestation a (outcome OK or DISABLED), which is copied.
 * Errors: GH_ERR_QUEUE_FULL, GH_ERR_CLOSED (stopping), GH_ERR_ARG,
 * GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_dps_worker_submit(struct gh_dps_worker *w, const char *reg,
                                         const char *op_id, const struct gh_dps_attest *a);

/* Jobs waiting (not counting the one running). */
size_t gh_dps_worker_pending(struct gh_dps_worker *w);

/* Stop (see above), join and free. NULL is a no-op. */
void gh_dps_worker_stop(struct gh_dps_worker *w);

#endif
