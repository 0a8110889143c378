/* Fuzz the gateway's provisioning decoders: the identity file
 * (gh_edge_identity_parse) and DPS register/poll answers
 * (gh_edge_dps_parse_response). An identity that parses must render and
 * parse back to the same struct; every slice of a DPS answer must lie
 * inside the input, and its message must decode to printable text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edge/provision.h"
#include "edge/provision_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(struct gh_slice s, const uint8_t *data, size_t size)
{
    if (s.len == 0) return;
    if (s.ptr < data || s.len > size || (size_t)(s.ptr - data) > size - s.len) abort();
}

static void identity(const uint8_t *data, size_t size)
{
    struct gh_edge_identity a, b;
    memset(&a, 0, sizeof a);
    if (gh_edge_identity_parse((struct gh_slice){data, size}, &a) != GH_OK) return;
    static uint8_t buf[GH_EDGE_IDENTITY_FILE_MAX];
    struct gh_writer w;
    gh_writer_init(&w, buf, sizeof buf);
    if (gh_edge_identity_render(&a, &w) != GH_OK) abort();
    memset(&b, 0, sizeof b);
    if (gh_edge_identity_parse(gh_writer_slice(&w), &b) != GH_OK) abort();
    if (memcmp(&a, &b, sizeof a) != 0) abort();
}

static void dps(const uint8_t *data, size_t size)
{
    struct gh_edge_dps_result r;
    if (gh_edge_dps_parse_response((struct gh_slice){data, size}, &r) != GH_OK) return;
    inside(r.operation_id, data, size);
    inside(r.status, data, size);
    inside(r.assigned_hub, data, size);
    inside(r.device_id, data, size);
    inside(r.reg_status, data, size);
    inside(r.error_message, data, size);
    char msg[512];
    if (gh_edge_json_unescape(r.error_message, false, msg, sizeof msg) == GH_OK)
        for (const char *p = msg; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    identity(data, size);
    dps(data, size);
    return 0;
}
