/* Fuzz the evaluator: a fixed set of routes against fuzzed properties and
 * body bytes. Input layout: byte 0 selects content type/encoding, then
 * NUL-separated fields: app key, app value, app key, app value, ..., and
 * the last field is the body. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "route/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PROPS 8

static const char *const routes[] = {
    "FROM /* WHERE $body.Weather.Temperature > 50 AND $body.Weather.IsEnabled INTO $upstream",
    "FROM /* WHERE $body.a[0].b = 'x' OR LENGTH($body.s) > 3 INTO $upstream",
    "FROM /* WHERE IS_OBJECT($body.a) OR IS_ARRAY($body.a[1][2]) OR IS_NULL($body.n) INTO "
    "$upstream",
    "FROM /* WHERE UPPER($body.s) || LOWER(a) = CONCAT(b, c, $body.s) INTO $upstream",
    "FROM /* WHERE AS_NUMBER(a) + $body.n * 2 / ($body.m % 3) >= -1e3 INTO $upstream",
    "FROM /* WHERE SUBSTRING(a, 1, 2) = SUBSTRING($body.s, AS_NUMBER(b)) INTO $upstream",
    "FROM /* WHERE INDEX_OF(a, b) = 1 AND STARTS_WITH(a, c) AND ENDS_WITH($body.s, a) "
    "AND CONTAINS(b, c) INTO $upstream",
    "FROM /* WHERE (a ?? $body.x ?? 'd') < b AND NOT (a <> c) INTO $upstream",
    "FROM /* WHERE POWER(AS_NUMBER(a), 2) > SQRT(ABS($body.n)) AND SIGN(FLOOR($body.n)) = "
    "CEILING(-1) AND EXP(SQUARE(AS_NUMBER(b))) > 0 INTO $upstream",
    "FROM /* WHERE $contentType = a OR {$body.key} = 'v' OR $body.a.b.c.d.e[0][0] INTO "
    "$upstream",
};
#define NROUTES (sizeof routes / sizeof routes[0])

static struct gh_route *parsed[NROUTES];

static void init(void)
{
    for (size_t i = 0; i < NROUTES; i++)
        if (gh_route_parse(routes[i], strlen(routes[i]), &parsed[i], NULL) != GH_OK) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    static const char *const cts[] = {"application/json", "application/json; charset=utf-8",
                                      "text/plain", NULL};
    static const char *const ces[] = {"utf-8", "UTF-16", "latin1", NULL};
    if (!ready) {
        init();
        ready = 1;
    }
    if (size < 1) return 0;
    struct gh_route_msg m;
    struct gh_route_prop app[MAX_PROPS];
    gh_route_msg_init(&m);
    const char *ct = cts[data[0] & 3], *ce = ces[(data[0] >> 2) & 3];
    if (ct) m.sys[GH_ROUTE_SYS_CONTENT_TYPE] = gh_slice_cstr(ct);
    if (ce) m.sys[GH_ROUTE_SYS_CONTENT_ENCODING] = gh_slice_cstr(ce);
    m.source = gh_slice_cstr("/messages/");
    size_t pos = 1, np = 0;
    struct gh_slice fields[2 * MAX_PROPS + 1];
    size_t nf = 0;
    while (nf < 2 * MAX_PROPS) {
        const uint8_t *z = memchr(data + pos, 0, size - pos);
        if (!z) break;
        fields[nf++] = (struct gh_slice){data + pos, (size_t)(z - (data + pos))};
        pos = (size_t)(z - data) + 1;
    }
    for (size_t i = 0; i + 1 < nf; i += 2) {
        app[np].key = fields[i];
        /* an empty value field means "no value" (null) */
        app[np].value = fields[i + 1].len ? fields[i + 1] : GH_SLICE_EMPTY;
        np++;
    }
    m.app = app;
    m.napp = np;
    m.body = (struct gh_slice){data + pos, size - pos};
    for (size_t i = 0; i < NROUTES; i++) {
        (void)gh_route_eval(parsed[i], &m);
        (void)gh_route_eval_value(parsed[i], &m);
    }
    return 0;
}
