/* Fuzz the enrollment JSON parser (PROTOCOL.md 4.6): first byte picks the
 * kind; anything accepted must format and parse back. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "dps/dps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > GH_DPS_JSON_MAX) return 0;
    enum gh_dps_kind kind = (data[0] & 1) ? GH_DPS_GROUP : GH_DPS_INDIVIDUAL;
    json_error_t jerr;
    json_t *j = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL) return 0;
    struct gh_dps_enrollment e, back;
    char err[GH_DPS_REASON_MAX];
    if (gh_dps_enrollment_from_json(j, kind, &e, err, sizeof err) == GH_OK) {
        json_t *out = NULL;
        if (gh_dps_enrollment_to_json(&e, &out) == GH_OK) {
            if (gh_dps_enrollment_from_json(out, kind, &back, err, sizeof err) != GH_OK) abort();
            gh_dps_enrollment_cleanup(&back);
            json_decref(out);
        }
        gh_dps_enrollment_cleanup(&e);
    }
    json_decref(j);
    return 0;
}
