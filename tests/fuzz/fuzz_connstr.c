/* Fuzz the connection-string parser and the device/service checks.
 *
 * Oracles: parsed values lie inside the input and hold no ';'; every error
 * comes with a reason; a string accepted by a check has the fields that
 * check promises. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iothub/connstr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond) abort();
}

static void value_ok(struct gh_slice s, const uint8_t *data, size_t size)
{
    if (s.ptr == NULL) return;
    check(s.ptr >= data && s.len <= size && s.ptr - data <= (ptrdiff_t)(size - s.len));
    check(s.len == 0 || memchr(s.ptr, ';', s.len) == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gh_connstr cs;
    const char *why = "unset";
    gh_err rc = gh_connstr_parse((struct gh_slice){data, size}, &cs, &why);
    if (rc != GH_OK) {
        check(rc == GH_ERR_BAD_CONNSTR || rc == GH_ERR_TOO_LARGE);
        check(why != NULL && why[0] != '\0');
        return 0;
    }
    check(why == NULL);
    value_ok(cs.host_name, data, size);
    value_ok(cs.device_id, data, size);
    value_ok(cs.module_id, data, size);
    value_ok(cs.shared_access_key, data, size);
    value_ok(cs.shared_access_key_name, data, size);
    value_ok(cs.shared_access_signature, data, size);
    value_ok(cs.gateway_host_name, data, size);
    value_ok(cs.x509_value, data, size);
    check(!cs.x509 || cs.x509_value.len == 4);

    rc = gh_connstr_check_device(&cs, &why);
    if (rc == GH_OK) {
        check(why == NULL);
        check(cs.host_name.len > 0 && memchr(cs.host_name.ptr, '.', cs.host_name.len));
        check(cs.device_id.len > 0);
        int methods =
            (cs.shared_access_key.ptr != NULL) + (cs.shared_access_signature.ptr != NULL) + cs.x509;
        check(methods == 1);
    } else {
        check(rc == GH_ERR_BAD_CONNSTR && why != NULL);
    }
    rc = gh_connstr_check_service(&cs, &why);
    if (rc == GH_OK) {
        check(cs.shared_access_key_name.len > 0 && cs.shared_access_key.len > 0);
    } else {
        check(rc == GH_ERR_BAD_CONNSTR && why != NULL);
    }
    return 0;
}
