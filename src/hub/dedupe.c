/* Recently stored (device, message id) pairs (dedupe.h): an open-addressing
 * hash set (twice the capacity, linear probing, tombstone-free deletion by
 * re-insertion) plus a FIFO ring that decides what to forget. */
#include "hub/dedupe.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#define SLOT_BITS 17 /* SLOTS = 2^17 = 2 x GH_HUB_DEDUPE_CAP */
#define SLOTS (UINT64_C(1) << SLOT_BITS)

struct gh_hub_dedupe {
    uint64_t seed;        /* random: slot positions are not predictable by senders */
    uint64_t slot[SLOTS]; /* 0 = empty */
    uint64_t ring[GH_HUB_DEDUPE_CAP];
    size_t head, count;
    uint64_t dropped;
};

gh_err gh_hub_dedupe_new(struct gh_hub_dedupe **out)
{
    struct gh_hub_dedupe *d = calloc(1, sizeof *d);
    GH_ENSURE(d, GH_ERR_NOMEM);
    if (RAND_bytes((unsigned char *)&d->seed, sizeof d->seed) != 1)
        d->seed = (uint64_t)(uintptr_t)d;
    *out = d;
    return GH_OK;
}

void gh_hub_dedupe_free(struct gh_hub_dedupe *d)
{
    free(d);
}

uint64_t gh_hub_dedupe_key(const char *device_id, struct gh_slice message_id)
{
    uint64_t h = 14695981039346656037u;
    for (const char *p = device_id; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211u;
    h = (h ^ 0xffu) * 1099511628211u; /* separator: no device id holds 0xff */
    for (size_t i = 0; i < message_id.len; i++) h = (h ^ message_id.ptr[i]) * 1099511628211u;
    return h ? h : 1;
}

static size_t find(const struct gh_hub_dedupe *d, uint64_t key)
{
    /* Fibonacci hashing of the seeded key: the top bits index the table. */
    size_t i = (size_t)(((key ^ d->seed) * 0x9E3779B97F4A7C15u) >> (64 - SLOT_BITS));
    while (d->slot[i] && d->slot[i] != key) i = (i + 1) & (SLOTS - 1);
    return i;
}

bool gh_hub_dedupe_seen(const struct gh_hub_dedupe *d, uint64_t key)
{
    return key && d->slot[find(d, key)] == key;
}

/* Remove key and re-insert the rest of its probe run (no tombstones). */
static void erase(struct gh_hub_dedupe *d, uint64_t key)
{
    size_t i = find(d, key);
    if (d->slot[i] != key) return;
    d->slot[i] = 0;
    for (size_t j = (i + 1) & (SLOTS - 1); d->slot[j]; j = (j + 1) & (SLOTS - 1)) {
        uint64_t k = d->slot[j];
        d->slot[j] = 0;
        d->slot[find(d, k)] = k;
    }
}

void gh_hub_dedupe_add(struct gh_hub_dedupe *d, uint64_t key)
{
    if (!key || gh_hub_dedupe_seen(d, key)) return;
    if (d->count == GH_HUB_DEDUPE_CAP) {
        erase(d, d->ring[d->head]);
        d->count--;
        d->head = (d->head + 1) % GH_HUB_DEDUPE_CAP;
    }
    d->ring[(d->head + d->count) % GH_HUB_DEDUPE_CAP] = key;
    d->count++;
    d->slot[find(d, key)] = key;
}

uint64_t gh_hub_dedupe_dropped(const struct gh_hub_dedupe *d)
{
    return d->dropped;
}

void gh_hub_dedupe_count_drop(struct gh_hub_dedupe *d)
{
    d->dropped++;
}
