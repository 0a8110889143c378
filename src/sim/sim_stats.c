/* gatehouse sim: latency histogram. Values below GH_SIM_HIST_SUB are exact;
 * above, each power of two is split into GH_SIM_HIST_SUB / 2 linear
 * sub-buckets (relative error at most 2 / GH_SIM_HIST_SUB). */
#include "sim/sim.h"

#define HALF (GH_SIM_HIST_SUB / 2u)
#define SUB_BITS 6u /* log2(GH_SIM_HIST_SUB) */
#define VALUE_MAX ((1ull << GH_SIM_HIST_EXP) - 1ull)
#define NBUCKETS (GH_SIM_HIST_SUB * (GH_SIM_HIST_EXP + 1u))

_Static_assert((1u << SUB_BITS) == GH_SIM_HIST_SUB, "SUB_BITS matches GH_SIM_HIST_SUB");

static unsigned msb(uint64_t v)
{
    unsigned n = 0;
    while (v >>= 1) n++;
    return n;
}

static size_t index_of(uint64_t v)
{
    if (v < GH_SIM_HIST_SUB) return (size_t)v;
    unsigned e = msb(v); /* >= SUB_BITS */
    unsigned shift = e - (SUB_BITS - 1u);
    /* top SUB_BITS bits: HALF..SUB-1 */
    size_t sub = (size_t)(v >> shift) - HALF;
    return GH_SIM_HIST_SUB + (size_t)(e - SUB_BITS) * HALF + sub;
}

/* Largest value that falls into bucket i. */
static uint64_t upper_of(size_t i)
{
    if (i < GH_SIM_HIST_SUB) return (uint64_t)i;
    size_t k = i - GH_SIM_HIST_SUB;
    unsigned e = (unsigned)(k / HALF) + SUB_BITS;
    uint64_t sub = (uint64_t)(k % HALF) + HALF;
    unsigned shift = e - (SUB_BITS - 1u);
    return ((sub + 1u) << shift) - 1u;
}

void gh_sim_hist_add(struct gh_sim_hist *h, uint64_t us)
{
    if (us > VALUE_MAX) us = VALUE_MAX;
    size_t i = index_of(us);
    if (i >= NBUCKETS) i = NBUCKETS - 1;
    h->bucket[i]++;
    h->count++;
    if (us > h->max_us) h->max_us = us;
}

uint64_t gh_sim_hist_quantile(const struct gh_sim_hist *h, double q)
{
    if (h->count == 0) return 0;
    if (q < 0.0) q = 0.0;
    if (q > 1.0) q = 1.0;
    uint64_t rank = (uint64_t)(q * (double)h->count + 0.5);
    if (rank < 1) rank = 1;
    if (rank > h->count) rank = h->count;
    uint64_t seen = 0;
    for (size_t i = 0; i < NBUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank) {
            uint64_t u = upper_of(i);
            return u < h->max_us ? u : h->max_us;
        }
    }
    return h->max_us;
}
