/* libFuzzer target: the TOML parser on arbitrary bytes, then a walk over
 * every value and a few lookups and binds. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config/options.h"
#include "config/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fcfg {
    char host[32];
    int64_t port;
    bool tls;
    int64_t ttl;
    int64_t max;
    int mode;
    struct gh_string_list list;
};

static const char *const modes[] = {"a", "b", NULL};

static gh_err any_member(void *config, const char *path, const char *key,
                         const struct gh_toml_value *v, struct gh_toml_error *err)
{
    return gh_toml_type(v) == GH_TOML_STRING ? GH_OK : GH_ERR_CONFIG_VALUE;
}

static const struct gh_option opts[] = {
    {.name = "hostname", .type = GH_OPT_STRING, .doc = "d", GH_OPTION_FIELD(struct fcfg, host)},
    {.name = "listen.port",
     .type = GH_OPT_INT,
     .min = 1,
     .max = 65535,
     .default_text = "8883",
     .doc = "d",
     GH_OPTION_FIELD(struct fcfg, port)},
    {.name = "listen.tls", .type = GH_OPT_BOOL, .doc = "d", GH_OPTION_FIELD(struct fcfg, tls)},
    {.name = "q.ttl",
     .type = GH_OPT_DURATION,
     .max = INT64_MAX,
     .doc = "d",
     GH_OPTION_FIELD(struct fcfg, ttl)},
    {.name = "q.max",
     .type = GH_OPT_SIZE,
     .max = INT64_MAX,
     .doc = "d",
     GH_OPTION_FIELD(struct fcfg, max)},
    {.name = "q.mode",
     .type = GH_OPT_ENUM,
     .values = modes,
     .doc = "d",
     GH_OPTION_FIELD(struct fcfg, mode)},
    {.name = "q.list",
     .type = GH_OPT_STRING_ARRAY,
     .max = 8,
     .doc = "d",
     GH_OPTION_FIELD(struct fcfg, list)},
    {.name = "env", .type = GH_OPT_TABLE_MAP, .map = any_member, .doc = "d"},
};

static size_t walk(const struct gh_toml_value *v)
{
    size_t n = 1;
    const char *s;
    int64_t i;
    bool b;
    (void)gh_toml_pos(v);
    (void)gh_toml_key_pos(v);
    if (gh_toml_as_string(v, &s, NULL) == GH_OK) n += strlen(s) > 0;
    if (gh_toml_as_int(v, &i) == GH_OK) n += i > 0;
    if (gh_toml_as_bool(v, &b) == GH_OK) n += b;
    for (const struct gh_toml_value *c = gh_toml_first(v); c; c = gh_toml_next(c)) {
        const char *k = gh_toml_key(c);
        if (k != NULL && gh_toml_child(v, k, strlen(k)) != c) __builtin_trap();
        n += walk(c);
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gh_toml_doc *doc = NULL;
    struct gh_toml_error err;
    if (gh_toml_parse((const char *)data, size, "fuzz.toml", &doc, &err) != GH_OK) {
        if (doc != NULL || err.msg[0] == '\0' || err.line == 0) __builtin_trap();
        return 0;
    }
    const struct gh_toml_value *root = gh_toml_root(doc);
    walk(root);
    (void)gh_toml_get(root, "a.b.c");
    (void)gh_toml_get(root, "provisioning.attestation.symmetric_key.value");
    (void)gh_toml_at(gh_toml_first(root), 1);
    struct fcfg c;
    memset(&c, 0, sizeof c);
    gh_err rc = gh_options_apply(opts, sizeof opts / sizeof opts[0], &c, doc, &err);
    if (rc != GH_OK && err.msg[0] == '\0') __builtin_trap();
    gh_options_cleanup(opts, sizeof opts / sizeof opts[0], &c);
    gh_toml_free(doc);
    return 0;
}
