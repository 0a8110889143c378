/* Recently stored (device, message id) pairs of telemetry that arrived
 * through gateway links, so a message a gateway sends again after a link
 * drop (at-least-once, docs/edge-link.md) is acknowledged but stored once.
 *
 * A fixed-size set of 64-bit hashes with FIFO eviction: the last
 * GH_HUB_DEDUPE_CAP pairs are remembered (in memory: a hub restart forgets
 * them). A hash collision between two different pairs would drop a
 * message; with 64-bit FNV-1a over at most 65,536 remembered pairs the
 * chance per message is below 2^-47. Messages without a message id are
 * never dropped. Event-loop thread only; no I/O, no logging. */
#ifndef GH_HUB_DEDUPE_H
#define GH_HUB_DEDUPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"

#define GH_HUB_DEDUPE_CAP 65536u /* pairs remembered (dedupe.c sizes its table for it) */

struct gh_hub_dedupe;

GH_NODISCARD gh_err gh_hub_dedupe_new(struct gh_hub_dedupe **out); /* GH_ERR_NOMEM */
void gh_hub_dedupe_free(struct gh_hub_dedupe *d);

/* The hash of a pair (never 0; 0 means "no message id"). */
uint64_t gh_hub_dedupe_key(const char *device_id, struct gh_slice message_id);
/* Was the pair stored recently? */
bool gh_hub_dedupe_seen(const struct gh_hub_dedupe *d, uint64_t key);
/* Remember a stored pair (evicting the oldest when full). */
void gh_hub_dedupe_add(struct gh_hub_dedupe *d, uint64_t key);
/* Duplicates dropped so far. */
uint64_t gh_hub_dedupe_dropped(const struct gh_hub_dedupe *d);
void gh_hub_dedupe_count_drop(struct gh_hub_dedupe *d);

#endif
