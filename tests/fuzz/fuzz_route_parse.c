/* Fuzz the route parser: any bytes as route text. A route that parses must
 * also evaluate (against an empty and a rich message) without faults, and
 * its inspection API must return consistent views. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "route/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gh_route *r = NULL;
    struct gh_route_error err;
    gh_err rc = gh_route_parse((const char *)data, size, &r, &err);
    if (rc != GH_OK) {
        if (strnlen(err.msg, sizeof err.msg) >= sizeof err.msg) __builtin_trap();
        if (err.column > size + 1) __builtin_trap();
        return 0;
    }
    struct gh_route_sink s = gh_route_sink(r);
    if (s.arg.ptr[s.arg.len] != 0) __builtin_trap();
    struct gh_slice src = gh_route_source(r);
    if (src.len == 0 || src.ptr[src.len - 1] != '/') __builtin_trap();

    static const struct gh_route_prop app[] = {
        {{(const uint8_t *)"a", 1}, {(const uint8_t *)"1", 1}},
        {{(const uint8_t *)"b", 1}, {NULL, 0}},
        {{(const uint8_t *)"$contentType", 12}, {(const uint8_t *)"x", 1}},
    };
    static const char body[] = "{\"a\":{\"b\":[1,\"x\\u00e9\",true,null,{}]},\"n\":-1.5e3}";
    struct gh_route_msg m;
    gh_route_msg_init(&m);
    (void)gh_route_eval(r, &m);
    (void)gh_route_eval_value(r, &m);
    m.source = src;
    m.app = app;
    m.napp = 3;
    m.sys[GH_ROUTE_SYS_CONTENT_TYPE] = (struct gh_slice){(const uint8_t *)"application/json", 16};
    m.sys[GH_ROUTE_SYS_CONTENT_ENCODING] = (struct gh_slice){(const uint8_t *)"utf-8", 5};
    m.sys[GH_ROUTE_SYS_CONNECTION_DEVICE_ID] = (struct gh_slice){(const uint8_t *)"dev", 3};
    m.body = (struct gh_slice){(const uint8_t *)body, sizeof body - 1};
    (void)gh_route_eval(r, &m);
    gh_route_free(r);
    return 0;
}
