/* Option binder: defaults, binding every type, unknown keys, type and range
 * errors at the right positions, table maps, required options, reload
 * comparison, cleanup. Table checks, units, Markdown and the IoT Edge
 * config shapes are in test_options_table.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config/options.h"

#define ENV_MAX 4

struct cfg {
    char hostname[64];
    char key[32];
    int64_t port;
    bool tls;
    struct gh_string_list protocols;
    int64_t ttl;
    int64_t max_message;
    int source;
    int64_t offset;
    int env_count;
    char env_key[ENV_MAX][32];
    char env_val[ENV_MAX][16];
};

static const char *const sources[] = {"dps", "manual", NULL};

static gh_err env_cb(void *config, const char *path, const char *key, const struct gh_toml_value *v,
                     struct gh_toml_error *err)
{
    struct cfg *c = config;
    const char *s;
    if (gh_toml_as_string(v, &s, NULL) != GH_OK) {
        gh_toml_error_at(err, gh_toml_pos(v), "%s: expected string, got %s", path,
                         gh_toml_type_name(gh_toml_type(v)));
        return GH_ERR_CONFIG_VALUE;
    }
    if (c->env_count == ENV_MAX) return GH_ERR_TOO_MANY; /* no message: the binder's */
    snprintf(c->env_key[c->env_count], sizeof c->env_key[0], "%s", key);
    snprintf(c->env_val[c->env_count], sizeof c->env_val[0], "%s", s);
    c->env_count++;
    return GH_OK;
}

static const struct gh_option opts[] = {
    {.name = "hostname",
     .type = GH_OPT_STRING,
     .min = 1,
     .default_text = "localhost",
     .doc = "Name clients dial.",
     GH_OPTION_FIELD(struct cfg, hostname)},
    {.name = "auth.key",
     .type = GH_OPT_STRING,
     .secret = true,
     .doc = "Shared key.",
     GH_OPTION_FIELD(struct cfg, key)},
    {.name = "listen.port",
     .type = GH_OPT_INT,
     .min = 1,
     .max = 65535,
     .default_text = "8883",
     .doc = "MQTT over TLS port.",
     GH_OPTION_FIELD(struct cfg, port)},
    {.name = "listen.tls",
     .type = GH_OPT_BOOL,
     .default_text = "true",
     .reloadable = true,
     .doc = "Use TLS.",
     GH_OPTION_FIELD(struct cfg, tls)},
    {.name = "listen.protocols",
     .type = GH_OPT_STRING_ARRAY,
     .min = 1,
     .max = 3,
     .default_text = "mqtt,amqp",
     .doc = "Protocols | served.",
     GH_OPTION_FIELD(struct cfg, protocols)},
    {.name = "queue.ttl",
     .type = GH_OPT_DURATION,
     .min = 1,
     .max = 7 * 86400,
     .default_text = "1h",
     .reloadable = true,
     .doc = "Message time to live.",
     GH_OPTION_FIELD(struct cfg, ttl)},
    {.name = "queue.max_message",
     .type = GH_OPT_SIZE,
     .min = 1,
     .max = 10 << 20,
     .default_text = "256KiB",
     .doc = "Largest message.",
     GH_OPTION_FIELD(struct cfg, max_message)},
    {.name = "provisioning.source",
     .type = GH_OPT_ENUM,
     .values = sources,
     .default_text = "dps",
     .doc = "Where the identity comes from.",
     GH_OPTION_FIELD(struct cfg, source)},
    {.name = "tuning.offset",
     .type = GH_OPT_INT,
     .min = -10,
     .max = 10,
     .default_text = "-3",
     .doc = "Signed knob.",
     GH_OPTION_FIELD(struct cfg, offset)},
    {.name = "agent.env",
     .type = GH_OPT_TABLE_MAP,
     .map = env_cb,
     .doc = "Environment of the agent."},
};
#define NOPTS (sizeof opts / sizeof opts[0])

static gh_err apply_text(const char *text, struct cfg *c, struct gh_toml_error *err)
{
    struct gh_toml_doc *doc = NULL;
    memset(c, 0, sizeof *c);
    gh_err rc = gh_toml_parse(text, strlen(text), "c.toml", &doc, err);
    if (rc != GH_OK) {
        print_error("parse: %s %u:%u %s\n", gh_err_name(rc), err->line, err->col, err->msg);
        fail();
    }
    rc = gh_options_apply(opts, NOPTS, c, doc, err);
    gh_toml_free(doc);
    return rc;
}

static void test_defaults(void **state)
{
    (void)state;
    struct cfg c;
    memset(&c, 0xa5, sizeof c); /* apply must not trust old contents */
    c.protocols.count = 0;
    c.protocols.items = NULL;
    struct gh_toml_error err;
    assert_int_equal(gh_options_apply(opts, NOPTS, &c, NULL, &err), GH_OK);
    assert_string_equal(c.hostname, "localhost");
    assert_string_equal(c.key, "");
    assert_int_equal(c.port, 8883);
    assert_true(c.tls);
    assert_int_equal(c.protocols.count, 2);
    assert_string_equal(c.protocols.items[0], "mqtt");
    assert_string_equal(c.protocols.items[1], "amqp");
    assert_int_equal(c.ttl, 3600);
    assert_int_equal(c.max_message, 256 * 1024);
    assert_int_equal(c.source, 0);
    assert_int_equal(c.offset, -3);
    gh_options_cleanup(opts, NOPTS, &c);
    assert_int_equal(c.protocols.count, 0);
    assert_null(c.protocols.items);
}

static void test_bind_everything(void **state)
{
    (void)state;
    struct cfg c;
    struct gh_toml_error err;
    gh_err rc = apply_text("hostname = 'gw.example.test'\n"
                           "auth = { key = 's3cret' }\n"
                           "[listen]\nport = 8884\ntls = false\nprotocols = ['mqtt']\n"
                           "[queue]\nttl = '1d12h'\nmax_message = 1024\n"
                           "[provisioning]\nsource = 'manual'\n"
                           "[tuning]\noffset = -10\n"
                           "[agent.env]\nUpstreamProtocol = 'AmqpWs'\n\"with space\" = 'x'\n",
                           &c, &err);
    assert_int_equal(rc, GH_OK);
    assert_string_equal(c.hostname, "gw.example.test");
    assert_string_equal(c.key, "s3cret");
    assert_int_equal(c.port, 8884);
    assert_false(c.tls);
    assert_int_equal(c.protocols.count, 1);
    assert_string_equal(c.protocols.items[0], "mqtt");
    assert_int_equal(c.ttl, 36 * 3600);
    assert_int_equal(c.max_message, 1024);
    assert_int_equal(c.source, 1);
    assert_int_equal(c.offset, -10);
    assert_int_equal(c.env_count, 2);
    assert_string_equal(c.env_key[0], "UpstreamProtocol");
    assert_string_equal(c.env_val[0], "AmqpWs");
    assert_string_equal(c.env_key[1], "with space");
    gh_options_cleanup(opts, NOPTS, &c);
    /* the secret is wiped, the list released */
    for (size_t i = 0; i < sizeof c.key; i++) assert_int_equal(c.key[i], 0);
    assert_null(c.protocols.items);
    gh_options_cleanup(opts, NOPTS, &c); /* idempotent */

    /* durations and sizes also as integers / strings */
    rc = apply_text("queue.ttl = 90\nqueue.max_message = '10MiB'\n", &c, &err);
    assert_int_equal(rc, GH_OK);
    assert_int_equal(c.ttl, 90);
    assert_int_equal(c.max_message, 10 << 20);
    gh_options_cleanup(opts, NOPTS, &c);
}

struct err_case {
    const char *text;
    gh_err code;
    unsigned line, col;
    const char *msg; /* exact */
};

static const struct err_case err_cases[] = {
    /* unknown keys, at the key */
    {"foo = 1", GH_ERR_CONFIG_KEY, 1, 1, "unknown key 'foo'"},
    {"[listen]\nporta = 1", GH_ERR_CONFIG_KEY, 2, 1, "unknown key 'listen.porta'"},
    {"[nope]\nx = 1", GH_ERR_CONFIG_KEY, 1, 2, "unknown key 'nope'"},
    {"[nope.deeper]", GH_ERR_CONFIG_KEY, 1, 2, "unknown key 'nope'"},
    {"hostname = 'h'\n[listen.x]", GH_ERR_CONFIG_KEY, 2, 9, "unknown key 'listen.x'"},
    {"listen.x.y = 1", GH_ERR_CONFIG_KEY, 1, 8, "unknown key 'listen.x'"},
    {"listen = { port = 1, what = 2 }", GH_ERR_CONFIG_KEY, 1, 22, "unknown key 'listen.what'"},
    {"\"listen.port\" = 1", GH_ERR_CONFIG_KEY, 1, 1, "unknown key '\"listen.port\"'"},
    {"[queue]\n\"a\\u001bb\" = 1", GH_ERR_CONFIG_KEY, 2, 1, "unknown key 'queue.\"a\\x1bb\"'"},
    {"hostname.x = 1", GH_ERR_CONFIG_VALUE, 1, 1,
     "hostname: expected string of 1..63 bytes, got table"},
    /* wrong types, at the value */
    {"listen.port = 'x'", GH_ERR_CONFIG_VALUE, 1, 15,
     "listen.port: expected integer 1..65535, got string"},
    {"hostname = 5", GH_ERR_CONFIG_VALUE, 1, 12,
     "hostname: expected string of 1..63 bytes, got integer"},
    {"listen = 1", GH_ERR_CONFIG_VALUE, 1, 10, "listen: expected table, got integer"},
    {"[[listen]]", GH_ERR_CONFIG_VALUE, 1, 1, "listen: expected table, got array"},
    {"listen.tls = 1", GH_ERR_CONFIG_VALUE, 1, 14,
     "listen.tls: expected boolean (true or false), got integer"},
    {"listen.tls = 'true'", GH_ERR_CONFIG_VALUE, 1, 14,
     "listen.tls: expected boolean (true or false), got string"},
    {"agent.env = 1", GH_ERR_CONFIG_VALUE, 1, 13, "agent.env: expected table, got integer"},
    {"queue.ttl = true", GH_ERR_CONFIG_VALUE, 1, 13,
     "queue.ttl: expected duration 1s..7d (like \"30s\", \"5m\", \"1h\" or integer seconds), got "
     "boolean"},
    {"provisioning.source = 1", GH_ERR_CONFIG_VALUE, 1, 23,
     "provisioning.source: expected one of \"dps\", \"manual\", got integer"},
    {"listen.protocols = 'mqtt'", GH_ERR_CONFIG_VALUE, 1, 20,
     "listen.protocols: expected array of strings (1..3 items), got string"},
    {"listen.protocols = ['a', 2]", GH_ERR_CONFIG_VALUE, 1, 26,
     "listen.protocols[1]: expected string, got integer"},
    /* out of range, at the value */
    {"[listen]\nport = 70000", GH_ERR_CONFIG_VALUE, 2, 8,
     "listen.port: expected integer 1..65535, got 70000"},
    {"listen.port = 0", GH_ERR_CONFIG_VALUE, 1, 15,
     "listen.port: expected integer 1..65535, got 0"},
    {"tuning.offset = -11", GH_ERR_CONFIG_VALUE, 1, 17,
     "tuning.offset: expected integer -10..10, got -11"},
    {"hostname = ''", GH_ERR_CONFIG_VALUE, 1, 12,
     "hostname: expected string of 1..63 bytes, got 0 bytes"},
    {"hostname = '0123456789012345678901234567890123456789012345678901234567890123'",
     GH_ERR_CONFIG_VALUE, 1, 12, "hostname: expected string of 1..63 bytes, got 64 bytes"},
    {"auth.key = 'this secret is far too long to fit'", GH_ERR_CONFIG_VALUE, 1, 12,
     "auth.key: expected string of at most 31 bytes, got 34 bytes"},
    {"provisioning.source = 'DPS'", GH_ERR_CONFIG_VALUE, 1, 23,
     "provisioning.source: expected one of \"dps\", \"manual\", got \"DPS\""},
    {"queue.ttl = '5x'", GH_ERR_CONFIG_VALUE, 1, 13,
     "queue.ttl: expected duration 1s..7d (like \"30s\", \"5m\", \"1h\" or integer seconds), got "
     "\"5x\""},
    {"queue.ttl = '0s'", GH_ERR_CONFIG_VALUE, 1, 13,
     "queue.ttl: expected duration 1s..7d (like \"30s\", \"5m\", \"1h\" or integer seconds), got "
     "0s"},
    {"queue.ttl = '8d'", GH_ERR_CONFIG_VALUE, 1, 13,
     "queue.ttl: expected duration 1s..7d (like \"30s\", \"5m\", \"1h\" or integer seconds), got "
     "8d"},
    {"queue.ttl = -1", GH_ERR_CONFIG_VALUE, 1, 13,
     "queue.ttl: expected duration 1s..7d (like \"30s\", \"5m\", \"1h\" or integer seconds), got "
     "-1"},
    {"queue.max_message = '11MiB'", GH_ERR_CONFIG_VALUE, 1, 21,
     "queue.max_message: expected size 1B..10MiB (like \"256KiB\", \"10MiB\" or integer bytes), "
     "got 11MiB"},
    {"queue.max_message = '1 KiB'", GH_ERR_CONFIG_VALUE, 1, 21,
     "queue.max_message: expected size 1B..10MiB (like \"256KiB\", \"10MiB\" or integer bytes), "
     "got \"1 KiB\""},
    {"listen.protocols = []", GH_ERR_CONFIG_VALUE, 1, 20,
     "listen.protocols: expected array of strings (1..3 items), got 0 items"},
    {"listen.protocols = ['a', 'b', 'c', 'd']", GH_ERR_CONFIG_VALUE, 1, 20,
     "listen.protocols: expected array of strings (1..3 items), got 4 items"},
    /* table-map callbacks */
    {"[agent.env]\nA = 1", GH_ERR_CONFIG_VALUE, 2, 5, "agent.env.A: expected string, got integer"},
    {"[agent.env]\nA='1'\nB='2'\nC='3'\nD='4'\n\"E F\"='5'", GH_ERR_TOO_MANY, 6, 7,
     "agent.env.\"E F\": invalid value"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
        const struct err_case *e = &err_cases[i];
        struct cfg c;
        struct gh_toml_error err;
        gh_err rc = apply_text(e->text, &c, &err);
        if (rc != e->code || err.line != e->line || err.col != e->col ||
            strcmp(err.msg, e->msg) != 0) {
            print_error("case %zu: want %s %u:%u \"%s\"\n      got %s %u:%u \"%s\"\n", i,
                        gh_err_name(e->code), e->line, e->col, e->msg, gh_err_name(rc), err.line,
                        err.col, err.msg);
            fail();
        }
        assert_string_equal(err.file, "c.toml");
        gh_options_cleanup(opts, NOPTS, &c); /* also after failure: no leaks */
    }
}

static void test_item_limit(void **state)
{
    (void)state;
    char text[GH_OPTIONS_ITEM_MAX + 64];
    size_t o = (size_t)snprintf(text, sizeof text, "listen.protocols = ['");
    memset(text + o, 'x', GH_OPTIONS_ITEM_MAX + 1);
    o += GH_OPTIONS_ITEM_MAX + 1;
    snprintf(text + o, sizeof text - o, "']");
    struct cfg c;
    struct gh_toml_error err;
    assert_int_equal(apply_text(text, &c, &err), GH_ERR_CONFIG_VALUE);
    assert_string_equal(
        err.msg, "listen.protocols[0]: expected string of at most 4096 bytes, got 4097 bytes");
    assert_int_equal(err.col, 21);
    gh_options_cleanup(opts, NOPTS, &c);
    text[o - 1] = '\''; /* exactly the limit */
    text[o] = ']';
    text[o + 1] = '\0';
    assert_int_equal(apply_text(text, &c, &err), GH_OK);
    assert_int_equal(strlen(c.protocols.items[0]), GH_OPTIONS_ITEM_MAX);
    gh_options_cleanup(opts, NOPTS, &c);
}

struct req {
    char id[16];
    int64_t n;
};

static const struct gh_option req_opts[] = {
    {.name = "id",
     .type = GH_OPT_STRING,
     .required = true,
     .doc = "Identity.",
     GH_OPTION_FIELD(struct req, id)},
    {.name = "n",
     .type = GH_OPT_INT,
     .min = 0,
     .max = 5,
     .doc = "Count.",
     GH_OPTION_FIELD(struct req, n)},
};

static void test_required(void **state)
{
    (void)state;
    struct req r;
    struct gh_toml_doc *doc = NULL;
    struct gh_toml_error err;
    assert_int_equal(gh_toml_parse("n = 2", 5, "r.toml", &doc, &err), GH_OK);
    assert_int_equal(gh_options_apply(req_opts, 2, &r, doc, &err), GH_ERR_CONFIG_MISSING);
    assert_string_equal(err.msg, "missing required key 'id'");
    assert_string_equal(err.file, "r.toml");
    assert_int_equal(err.line, 0);
    gh_toml_free(doc);
    assert_int_equal(gh_options_apply(req_opts, 2, &r, NULL, &err), GH_OK); /* defaults only */
    assert_int_equal(gh_toml_parse("id = 'x'", 8, "r.toml", &doc, &err), GH_OK);
    assert_int_equal(gh_options_apply(req_opts, 2, &r, doc, &err), GH_OK);
    assert_string_equal(r.id, "x");
    assert_int_equal(r.n, 0); /* no default: zero */
    gh_toml_free(doc);
}

static void test_changed(void **state)
{
    (void)state;
    struct cfg a, b;
    struct gh_toml_error err;
    assert_int_equal(apply_text("listen.tls = false\nqueue.ttl = '5m'", &a, &err), GH_OK);
    assert_int_equal(apply_text("listen.tls = true\nqueue.ttl = '6m'", &b, &err), GH_OK);
    assert_null(gh_options_changed(opts, NOPTS, &a, &b)); /* both reloadable */
    gh_options_cleanup(opts, NOPTS, &b);
    assert_int_equal(apply_text("listen.port = 1\n", &b, &err), GH_OK);
    assert_ptr_equal(gh_options_changed(opts, NOPTS, &a, &b),
                     gh_options_find(opts, NOPTS, "listen.port"));
    gh_options_cleanup(opts, NOPTS, &b);
    assert_int_equal(apply_text("listen.protocols = ['mqtt', 'amqp']\n", &b, &err), GH_OK);
    assert_null(gh_options_changed(opts, NOPTS, &a, &b)); /* same as the default list */
    gh_options_cleanup(opts, NOPTS, &b);
    assert_int_equal(apply_text("listen.protocols = ['mqtt', 'amqpx']\n", &b, &err), GH_OK);
    assert_ptr_equal(gh_options_changed(opts, NOPTS, &a, &b),
                     gh_options_find(opts, NOPTS, "listen.protocols"));
    gh_options_cleanup(opts, NOPTS, &b);
    assert_int_equal(apply_text("listen.protocols = ['mqtt']\n", &b, &err), GH_OK);
    assert_ptr_equal(gh_options_changed(opts, NOPTS, &a, &b),
                     gh_options_find(opts, NOPTS, "listen.protocols"));
    gh_options_cleanup(opts, NOPTS, &b);
    assert_int_equal(apply_text("hostname = 'other'\n", &b, &err), GH_OK);
    assert_ptr_equal(gh_options_changed(opts, NOPTS, &a, &b), &opts[0]);
    gh_options_cleanup(opts, NOPTS, &b);
    assert_int_equal(apply_text("provisioning.source = 'manual'\n", &b, &err), GH_OK);
    assert_ptr_equal(gh_options_changed(opts, NOPTS, &a, &b),
                     gh_options_find(opts, NOPTS, "provisioning.source"));
    gh_options_cleanup(opts, NOPTS, &b);
    gh_options_cleanup(opts, NOPTS, &a);
}

static void test_find(void **state)
{
    (void)state;
    assert_ptr_equal(gh_options_find(opts, NOPTS, "queue.ttl"), &opts[5]);
    assert_null(gh_options_find(opts, NOPTS, "queue"));
    assert_null(gh_options_find(opts, NOPTS, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults), cmocka_unit_test(test_bind_everything),
        cmocka_unit_test(test_errors),   cmocka_unit_test(test_item_limit),
        cmocka_unit_test(test_required), cmocka_unit_test(test_changed),
        cmocka_unit_test(test_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
