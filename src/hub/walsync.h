/* Durable group commits off the event loop.
 *
 * The hub commits telemetry with SQLite's synchronous=NORMAL (the frames
 * reach the WAL file, no fsync) and then asks this thread to fdatasync the
 * WAL file: a commit whose frames are on disk survives a crash (the WAL
 * header was synced when the WAL was started or reused, and NORMAL syncs
 * before and after every checkpoint). The loop keeps reading and committing
 * while the disk works; PUBACKs wait for the sync that covers their commit.
 * One fdatasync covers every commit made before it started (generations).
 */
#ifndef GH_HUB_WALSYNC_H
#define GH_HUB_WALSYNC_H

#include <stdint.h>

#include <event2/event.h>

#include "common/error.h"

struct gh_walsync;

/* Called on the loop when every commit up to gen is durable (err == 0) or
 * when the sync for them failed (err = errno). */
typedef void (*gh_walsync_done_fn)(void *arg, uint64_t gen, int err);

/* Start the thread; wal_path is the database's "-wal" file (opened by the
 * thread at its first sync). Errors: GH_ERR_NOMEM, GH_ERR_IO. */
GH_NODISCARD gh_err gh_walsync_new(struct event_base *base, const char *wal_path,
                                   gh_walsync_done_fn done, void *arg, struct gh_walsync **out);

/* Make every commit up to gen (increasing) durable; done() follows. */
void gh_walsync_request(struct gh_walsync *w, uint64_t gen);

/* Stop the thread after its current sync, then sync once more here and call
 * done() for everything requested (shutdown). NULL is a no-op. */
void gh_walsync_free(struct gh_walsync *w);

#endif
