/* Fuzz the identity request parser (device and module JSON of PROTOCOL.md
 * 5.2/5.3). Whatever parses must render, and the rendering must parse back
 * to the same settable fields. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub/identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const struct gh_identity *a, enum gh_identity_kind kind)
{
    json_t *j = NULL;
    char err[256];
    struct gh_identity b;
    if (gh_identity_to_json(a, &j) != GH_OK) return;
    if (gh_identity_from_json(j, kind, &b, err, sizeof err) != GH_OK) abort();
    if (strcmp(a->device_id, b.device_id) != 0 || strcmp(a->module_id, b.module_id) != 0 ||
        a->auth_type != b.auth_type || strcmp(a->primary_key, b.primary_key) != 0 ||
        strcmp(a->secondary_key, b.secondary_key) != 0 ||
        strcmp(a->primary_thumbprint, b.primary_thumbprint) != 0 ||
        strcmp(a->secondary_thumbprint, b.secondary_thumbprint) != 0)
        abort();
    if (kind == GH_IDENTITY_DEVICE &&
        (a->status != b.status || strcmp(a->status_reason, b.status_reason) != 0 ||
         a->iot_edge != b.iot_edge || strcmp(a->device_scope, b.device_scope) != 0 ||
         strcmp(a->parent_scope, b.parent_scope) != 0))
        abort();
    if (kind == GH_IDENTITY_MODULE && strcmp(a->managed_by, b.managed_by) != 0) abort();
    gh_identity_wipe(&b);
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (j == NULL) return 0;
    for (int k = 0; k < 2; k++) {
        enum gh_identity_kind kind = k == 0 ? GH_IDENTITY_DEVICE : GH_IDENTITY_MODULE;
        struct gh_identity id;
        char err[256];
        gh_err rc = gh_identity_from_json(j, kind, &id, err, sizeof err);
        if (rc == GH_OK)
            roundtrip(&id, kind);
        else if (strlen(err) == 0)
            abort(); /* every rejection has a reason */
        gh_identity_wipe(&id);
    }
    json_decref(j);
    return 0;
}
