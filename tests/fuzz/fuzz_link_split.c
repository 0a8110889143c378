/* Fuzz the gateway link's child frame prefix (docs/edge-link.md).
 *
 * Oracles: on success the child id is a non-empty run inside the input
 * without '/', at most GH_IDENTITY_ID_MAX bytes, and the rest is the
 * non-empty tail of the input right after it and its '/'; every accepted
 * topic is in the link namespace. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub/session_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gh_slice in = {data, size}, child, rest;
    bool ns = gh_hub_link_frame(in);
    if (gh_hub_link_split(in, &child, &rest) != GH_OK) return 0;
    size_t skip = sizeof GH_HUB_LINK_PREFIX - 1;
    check(ns);
    check(child.ptr == data + skip);
    check(child.len > 0 && child.len <= GH_IDENTITY_ID_MAX);
    check(memchr(child.ptr, '/', child.len) == NULL);
    check(rest.ptr == child.ptr + child.len + 1 && child.ptr[child.len] == '/');
    check(rest.len > 0 && rest.ptr + rest.len == data + size);
    return 0;
}
