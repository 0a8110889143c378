/* libFuzzer target: the device library's DPS response decoder
 * (src/device/dps_doc.c). Any input must either decode, with every
 * returned slice inside the input, or fail with GH_ERR_BAD_JSON. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "device/device_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(struct gh_slice s, const uint8_t *data, size_t size)
{
    if (!s.ptr) return;
    if (s.ptr < data || s.len > size || (size_t)(s.ptr - data) > size - s.len) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gh_device_dps_doc d;
    gh_err rc = gh_device_dps_doc_parse((struct gh_slice){data, size}, &d);
    if (rc == GH_OK) {
        inside(d.operation_id, data, size);
        inside(d.status, data, size);
        inside(d.assigned_hub, data, size);
        inside(d.device_id, data, size);
        inside(d.error_message, data, size);
    } else if (rc != GH_ERR_BAD_JSON) {
        abort();
    }
    return 0;
}
