/* The gateway's identity cache: a durable local copy of its children's
 * identities (keys, thumbprints, status, scopes) as the hub returned them
 * from the device-scope API (PROTOCOL.md 6.10), so children authenticate
 * while the hub is unreachable and after a cold start without network.
 *
 * One SQLite file (<data_dir>/children.db) on the shared database layer.
 * Rows hold the device JSON of 5.2; a row read back is re-validated with
 * gh_identity_from_json (the file is untrusted input). Offline policy
 * (docs/edge.md): a child in the cache authenticates against it; the
 * daemon decides with gh_edge_cache_age whether the copy is too old.
 *
 * Event-loop thread only; no logging. */
#ifndef GH_EDGE_CACHE_H
#define GH_EDGE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "hub/identity.h"

struct gh_edge_cache;

/* Open or create dir/children.db. Errors: those of the database layer
 * (GH_ERR_ARG, GH_ERR_IO, GH_ERR_PERM, GH_ERR_DB, GH_ERR_NOMEM); errbuf says
 * why. */
GH_NODISCARD gh_err gh_edge_cache_open(const char *dir, struct gh_edge_cache **out, char *errbuf,
                                       size_t errlen);
void gh_edge_cache_close(struct gh_edge_cache *c);
const char *gh_edge_cache_errmsg(const struct gh_edge_cache *c);

/* One child (a device; modules are not cached). *out must be wiped by the
 * caller. Errors: GH_ERR_NOT_FOUND, GH_ERR_DB (including a row that no
 * longer parses). */
GH_NODISCARD gh_err gh_edge_cache_get(struct gh_edge_cache *c, const char *device_id,
                                      struct gh_identity *out);

/* A full sync: in one transaction, replace every child with the devices
 * of `devices` (a JSON array of device JSON) whose parentScopes holds
 * `scope`; other entries (the gateway itself, foreign devices) are skipped.
 * Records now as the last successful sync. *count gets the number stored.
 * Errors: GH_ERR_BAD_JSON (not an array, or an entry that does not parse:
 * nothing is changed), GH_ERR_DB, GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_edge_cache_replace(struct gh_edge_cache *c, const json_t *devices,
                                          const char *scope, size_t *count);

/* One device refreshed from the hub: stored when it is a child (parent
 * scope = scope), removed otherwise. *child tells which.
 * Errors: GH_ERR_BAD_JSON, GH_ERR_DB, GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_edge_cache_put(struct gh_edge_cache *c, const json_t *device,
                                      const char *scope, bool *child);
/* The hub says the device does not exist (or is not ours): drop it. */
GH_NODISCARD gh_err gh_edge_cache_remove(struct gh_edge_cache *c, const char *device_id);

/* Time of the last successful full sync (ms since the epoch, 0 = never)
 * and the number of children cached. */
int64_t gh_edge_cache_last_sync(struct gh_edge_cache *c);
GH_NODISCARD gh_err gh_edge_cache_count(struct gh_edge_cache *c, size_t *n);

#endif
