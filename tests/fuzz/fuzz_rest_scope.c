/* Fuzz the device-scope request parsers (PROTOCOL.md 6.10): the first byte
 * picks an authChain, a continuation link, or a JSON body of either POST.
 *
 * Oracles beyond "no crash": a parsed chain has 1..GH_REST_SCOPE_CHAIN_MAX
 * valid device ids; a parsed link position is a valid device id and a link
 * made from it parses back to the same id; parsed bodies keep pageSize in
 * 1..GH_REST_SCOPE_PAGE_MAX and their ids valid. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub/rest_int.h"
#include "iothub/username.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond) abort();
}

static void check_chain(const struct gh_hub_rest_scope_req *q)
{
    check(q->nchain >= 1 && q->nchain <= GH_REST_SCOPE_CHAIN_MAX);
    for (size_t i = 0; i < q->nchain; i++)
        check(gh_iothub_valid_device_id(gh_slice_cstr(q->chain[i])));
}

static void fuzz_link(struct gh_slice s)
{
    char after[GH_IDENTITY_ID_MAX + 1];
    if (gh_hub_rest_scope_link_parse(s, after) != GH_OK) return;
    check(gh_iothub_valid_device_id(gh_slice_cstr(after)));
    char link[GH_REST_SCOPE_LINK_MAX], back[GH_IDENTITY_ID_MAX + 1];
    check(gh_hub_rest_scope_link_make(s.len & 1, "edge", after, 5, link, sizeof link) == GH_OK);
    check(gh_hub_rest_scope_link_parse(gh_slice_cstr(link), back) == GH_OK);
    check(strcmp(after, back) == 0);
}

static void fuzz_body(const uint8_t *data, size_t size, bool obo)
{
    json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (j == NULL) return;
    struct gh_hub_rest_scope_req *q = calloc(1, sizeof *q);
    if (q == NULL) abort();
    char err[128];
    gh_err rc = obo ? gh_hub_rest_scope_parse_on_behalf_of(j, q, err, sizeof err)
                    : gh_hub_rest_scope_parse_target(j, q, err, sizeof err);
    if (rc == GH_OK) {
        check(q->page_size >= 1 && q->page_size <= GH_REST_SCOPE_PAGE_MAX);
        check_chain(q);
        if (obo) check(gh_iothub_valid_device_id(gh_slice_cstr(q->target_device)));
        if (q->after[0]) check(gh_iothub_valid_device_id(gh_slice_cstr(q->after)));
    } else {
        check(rc == GH_ERR_BAD_JSON || rc == GH_ERR_ARG);
        check(memchr(err, '\0', sizeof err) != NULL);
    }
    free(q);
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    struct gh_slice rest = {data + 1, size - 1};
    switch (data[0] % 4) {
    case 0: {
        struct gh_hub_rest_scope_req *q = calloc(1, sizeof *q);
        if (q == NULL) abort();
        if (gh_hub_rest_scope_chain(rest, q) == GH_OK) check_chain(q);
        free(q);
        break;
    }
    case 1:
        fuzz_link(rest);
        break;
    case 2:
        fuzz_body(rest.ptr, rest.len, false);
        break;
    default:
        fuzz_body(rest.ptr, rest.len, true);
        break;
    }
    return 0;
}
