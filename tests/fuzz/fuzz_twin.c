/* Fuzz the twin document model with arbitrary JSON: every update either
 * fails cleanly (twin unchanged) or leaves sections that pass the limits,
 * and the views always render. The same input is used as a reported patch,
 * a service patch, a service replace and a desired replace. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub/twin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_sections(const struct gh_twin *t)
{
    char err[GH_TWIN_REASON_MAX];
    if (gh_twin_check(t->tags, GH_TWIN_TAGS, false, err, sizeof err) != GH_OK ||
        gh_twin_check(t->desired, GH_TWIN_DESIRED, false, err, sizeof err) != GH_OK ||
        gh_twin_check(t->reported, GH_TWIN_REPORTED, false, err, sizeof err) != GH_OK)
        abort(); /* an accepted update broke the limits */
}

static void views(const struct gh_twin *t)
{
    static const struct gh_identity id = {.device_id = "fuzz", .etag = "MQ=="};
    json_t *v = NULL;
    if (gh_twin_device_view(t, &v) == GH_OK) json_decref(v);
    if (gh_twin_service_view(t, &id, &v) == GH_OK) json_decref(v);
}

/* Run one update; on failure the twin text must be unchanged. */
static void step(struct gh_twin *t, int which, const json_t *in, int64_t now)
{
    char err[GH_TWIN_REASON_MAX];
    char *before = json_dumps(t->desired, JSON_COMPACT | JSON_SORT_KEYS);
    int64_t ver = t->version;
    json_t *note = NULL;
    gh_err rc = GH_ERR_INTERNAL;
    switch (which) {
    case 0:
        rc = gh_twin_reported_patch(t, in, now, NULL, err, sizeof err);
        break;
    case 1:
        rc = gh_twin_service_patch(t, in, now, &note, err, sizeof err);
        break;
    case 2:
        rc = gh_twin_service_replace(t, in, now, &note, err, sizeof err);
        break;
    default:
        rc = gh_twin_desired_replace(t, in, now, &note, err, sizeof err);
        break;
    }
    json_decref(note);
    if (rc != GH_OK) {
        char *after = json_dumps(t->desired, JSON_COMPACT | JSON_SORT_KEYS);
        if (t->version != ver || before == NULL || after == NULL || strcmp(before, after) != 0)
            abort();                   /* a failed update changed the twin */
        if (strlen(err) == 0) abort(); /* every rejection has a reason */
        free(after);
    }
    free(before);
    check_sections(t);
    views(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (in == NULL) return 0;
    struct gh_twin t;
    if (gh_twin_init(&t, 1767225600000) != GH_OK) {
        json_decref(in);
        return 0;
    }
    for (int which = 0; which < 4; which++) step(&t, which, in, 1767225600000 + which);
    /* Apply the same patches again on top of the result (merging into an
     * existing tree takes other paths). */
    step(&t, 0, in, 1767225700000);
    step(&t, 1, in, 1767225700000);
    gh_twin_cleanup(&t);
    json_decref(in);
    return 0;
}
