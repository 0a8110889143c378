/* Option tables: validation of bad tables, duration and size units, the
 * Markdown reference, and binding the IoT Edge config.toml shapes of
 * PROTOCOL.md 6.11 (inline table and sub-table forms alike). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/options.h"

struct any {
    char s[8];
    int64_t i;
    bool b;
    int e;
    int32_t narrow;
    struct gh_string_list l;
};

static const char *const ab[] = {"a", "b", NULL};
static const char *const none[] = {NULL};

static gh_err dummy_map(void *config, const char *path, const char *key,
                        const struct gh_toml_value *v, struct gh_toml_error *err)
{
    return GH_OK;
}

struct table_case {
    struct gh_option o[2];
    size_t n;
    const char *msg;
};

#define S_OPT(nm) .name = nm, .type = GH_OPT_STRING, .doc = "d", GH_OPTION_FIELD(struct any, s)
#define I_OPT(nm)                                                                                  \
    .name = nm, .type = GH_OPT_INT, .max = 9, .doc = "d", GH_OPTION_FIELD(struct any, i)

static const struct table_case table_cases[] = {
    {{{S_OPT("a..b")}}, 1, "'?': malformed name"},
    {{{S_OPT("")}}, 1, "malformed name"},
    {{{S_OPT(".a")}}, 1, "malformed name"},
    {{{S_OPT("a.")}}, 1, "malformed name"},
    {{{S_OPT("a b")}}, 1, "malformed name"},
    {{{.type = GH_OPT_STRING, .doc = "d", GH_OPTION_FIELD(struct any, s)}}, 1, "malformed name"},
    {{{S_OPT("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.A.B.C.D.E.F.G")}},
     1,
     "malformed name"},
    {{{.name = "a", .type = GH_OPT_STRING, GH_OPTION_FIELD(struct any, s)}},
     1,
     "'a': no documentation"},
    {{{.name = "a", .type = GH_OPT_STRING, .doc = "", GH_OPTION_FIELD(struct any, s)}},
     1,
     "no documentation"},
    {{{.name = "a", .type = (enum gh_option_type)99, .doc = "d"}}, 1, "unknown type"},
    {{{.name = "a", .type = GH_OPT_INT, .doc = "d", GH_OPTION_FIELD(struct any, narrow)}},
     1,
     "field size does not match the type"},
    {{{.name = "a", .type = GH_OPT_BOOL, .doc = "d", GH_OPTION_FIELD(struct any, i)}},
     1,
     "field size does not match the type"},
    {{{.name = "a", .type = GH_OPT_STRING, .doc = "d", .offset = 0, .size = 0}},
     1,
     "field size does not match the type"},
    {{{.name = "a", .type = GH_OPT_ENUM, .doc = "d", GH_OPTION_FIELD(struct any, e)}},
     1,
     "enum without values"},
    {{{.name = "a",
       .type = GH_OPT_ENUM,
       .values = none,
       .doc = "d",
       GH_OPTION_FIELD(struct any, e)}},
     1,
     "enum without values"},
    {{{.name = "a", .type = GH_OPT_TABLE_MAP, .doc = "d"}}, 1, "needs a callback"},
    {{{.name = "a", .type = GH_OPT_TABLE_MAP, .map = dummy_map, .default_text = "x", .doc = "d"}},
     1,
     "needs a callback and no default"},
    {{{.name = "a",
       .type = GH_OPT_INT,
       .min = 2,
       .max = 1,
       .doc = "d",
       GH_OPTION_FIELD(struct any, i)}},
     1,
     "min > max"},
    {{{.name = "a",
       .type = GH_OPT_DURATION,
       .min = -1,
       .max = 1,
       .doc = "d",
       GH_OPTION_FIELD(struct any, i)}},
     1,
     "negative min"},
    {{{.name = "a",
       .type = GH_OPT_STRING,
       .required = true,
       .default_text = "x",
       .doc = "d",
       GH_OPTION_FIELD(struct any, s)}},
     1,
     "required option with a default"},
    {{{.name = "a",
       .type = GH_OPT_INT,
       .secret = true,
       .doc = "d",
       GH_OPTION_FIELD(struct any, i)}},
     1,
     "only strings are secret"},
    /* defaults are held to the same rules as file values */
    {{{I_OPT("a"), .min = 1, .default_text = "0"}},
     1,
     "option table: 'a': default: expected integer 1..9, got 0"},
    {{{I_OPT("a"), .default_text = "abc"}}, 1, "default: expected integer 0..9, got \"abc\""},
    {{{I_OPT("a"), .default_text = "99999999999999999999"}}, 1, "got \"99999999999999999999\""},
    {{{I_OPT("a"), .default_text = ""}}, 1, "got \"\""},
    {{{.name = "a",
       .type = GH_OPT_STRING,
       .default_text = "toolongtext",
       .doc = "d",
       GH_OPTION_FIELD(struct any, s)}},
     1,
     "default: expected string of at most 7 bytes, got 11 bytes"},
    {{{.name = "a",
       .type = GH_OPT_BOOL,
       .default_text = "yes",
       .doc = "d",
       GH_OPTION_FIELD(struct any, b)}},
     1,
     "default: expected boolean (true or false), got \"yes\""},
    {{{.name = "a",
       .type = GH_OPT_ENUM,
       .values = ab,
       .default_text = "c",
       .doc = "d",
       GH_OPTION_FIELD(struct any, e)}},
     1,
     "default: expected one of \"a\", \"b\", got \"c\""},
    {{{.name = "a",
       .type = GH_OPT_DURATION,
       .max = 60,
       .default_text = "2m",
       .doc = "d",
       GH_OPTION_FIELD(struct any, i)}},
     1,
     "got 2m"},
    {{{.name = "a",
       .type = GH_OPT_SIZE,
       .max = 1024,
       .default_text = "1k",
       .doc = "d",
       GH_OPTION_FIELD(struct any, i)}},
     1,
     "got \"1k\""},
    {{{.name = "a",
       .type = GH_OPT_STRING_ARRAY,
       .max = 1,
       .default_text = "x,y",
       .doc = "d",
       GH_OPTION_FIELD(struct any, l)}},
     1,
     "default: expected array of strings (at most 1 items), got 2 items"},
    /* names */
    {{{S_OPT("a")}, {S_OPT("a")}}, 2, "'a': clashes with another option's name"},
    {{{S_OPT("a")}, {S_OPT("a.b")}}, 2, "'a.b': clashes"},
    {{{S_OPT("a.b")}, {S_OPT("a")}}, 2, "'a': clashes"},
};

static void test_bad_tables(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof table_cases / sizeof table_cases[0]; i++) {
        const struct table_case *c = &table_cases[i];
        struct gh_toml_error err;
        struct any a;
        memset(&a, 0, sizeof a);
        gh_err rc = gh_options_check(c->o, c->n, &err);
        gh_err rc2 = gh_options_apply(c->o, c->n, &a, NULL, NULL);
        if (rc != GH_ERR_INTERNAL || rc2 != GH_ERR_INTERNAL || strstr(err.msg, c->msg) == NULL) {
            print_error("case %zu: got %s/%s \"%s\", want \"%s\"\n", i, gh_err_name(rc),
                        gh_err_name(rc2), err.msg, c->msg);
            fail();
        }
    }
    /* names that are fine */
    const struct gh_option ok[] = {{S_OPT("a-b.c_d.9")}, {S_OPT("ab")}, {S_OPT("a-")}};
    struct gh_toml_error err;
    assert_int_equal(gh_options_check(ok, 3, &err), GH_OK);
    assert_int_equal(gh_options_check(ok, GH_OPTIONS_MAX + 1, &err), GH_ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "too many options"));
    assert_int_equal(gh_options_check(NULL, 1, &err), GH_ERR_INTERNAL);
    assert_int_equal(gh_options_check(NULL, 0, &err), GH_OK);
    assert_int_equal(gh_options_apply(ok, 1, NULL, NULL, &err), GH_ERR_INTERNAL);
}

struct unit_case {
    const char *text;
    gh_err rc;
    int64_t value;
};

static void test_durations(void **state)
{
    (void)state;
    static const struct unit_case cases[] = {
        {"0s", GH_OK, 0},
        {"30s", GH_OK, 30},
        {"5m", GH_OK, 300},
        {"1h", GH_OK, 3600},
        {"7d", GH_OK, 604800},
        {"1h30m", GH_OK, 5400},
        {"1d2h3m4s", GH_OK, 93784},
        {"90m", GH_OK, 5400},
        {"106751991167300d15h30m7s", GH_OK, INT64_MAX},
        {"106751991167300d15h30m8s", GH_ERR_CONFIG_VALUE, 0},
        {"9223372036854775807s", GH_OK, INT64_MAX},
        {"9223372036854775808s", GH_ERR_CONFIG_VALUE, 0},
        {"106751991167301d", GH_ERR_CONFIG_VALUE, 0},
        {"", GH_ERR_CONFIG_VALUE, 0},
        {"30", GH_ERR_CONFIG_VALUE, 0},
        {"s", GH_ERR_CONFIG_VALUE, 0},
        {"-5s", GH_ERR_CONFIG_VALUE, 0},
        {"5 s", GH_ERR_CONFIG_VALUE, 0},
        {"5ms", GH_ERR_CONFIG_VALUE, 0},
        {"5S", GH_ERR_CONFIG_VALUE, 0},
        {"1m1h", GH_ERR_CONFIG_VALUE, 0},
        {"1m1m", GH_ERR_CONFIG_VALUE, 0},
        {"1h ", GH_ERR_CONFIG_VALUE, 0},
        {"1.5h", GH_ERR_CONFIG_VALUE, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = -42;
        gh_err rc = gh_options_parse_duration(cases[i].text, &v);
        if (rc != cases[i].rc || (rc == GH_OK && v != cases[i].value) ||
            (rc != GH_OK && v != -42)) {
            print_error("duration case %zu '%s': %s %lld\n", i, cases[i].text, gh_err_name(rc),
                        (long long)v);
            fail();
        }
    }
    int64_t v;
    assert_int_equal(gh_options_parse_duration(NULL, &v), GH_ERR_CONFIG_VALUE);
    char buf[64];
    assert_string_equal(gh_options_format_duration(0, buf, sizeof buf), "0s");
    assert_string_equal(gh_options_format_duration(5400, buf, sizeof buf), "1h30m");
    assert_string_equal(gh_options_format_duration(93784, buf, sizeof buf), "1d2h3m4s");
    assert_string_equal(gh_options_format_duration(86400, buf, sizeof buf), "1d");
    assert_string_equal(gh_options_format_duration(-5, buf, sizeof buf), "-5");
    assert_string_equal(gh_options_format_duration(93784, buf, 5), "1d2h");
}

static void test_sizes(void **state)
{
    (void)state;
    static const struct unit_case cases[] = {
        {"0B", GH_OK, 0},
        {"512B", GH_OK, 512},
        {"256KiB", GH_OK, 262144},
        {"10MiB", GH_OK, 10485760},
        {"2GiB", GH_OK, INT64_C(2147483648)},
        {"1TiB", GH_OK, INT64_C(1099511627776)},
        {"3kB", GH_OK, 3000},
        {"5MB", GH_OK, 5000000},
        {"1GB", GH_OK, 1000000000},
        {"2TB", GH_OK, INT64_C(2000000000000)},
        {"8388607TiB", GH_OK, INT64_C(8388607) << 40},
        {"8388608TiB", GH_ERR_CONFIG_VALUE, 0},
        {"9223372036854775807B", GH_OK, INT64_MAX},
        {"", GH_ERR_CONFIG_VALUE, 0},
        {"512", GH_ERR_CONFIG_VALUE, 0},
        {"KiB", GH_ERR_CONFIG_VALUE, 0},
        {"1KB", GH_ERR_CONFIG_VALUE, 0},
        {"1kib", GH_ERR_CONFIG_VALUE, 0},
        {"1 KiB", GH_ERR_CONFIG_VALUE, 0},
        {"1KiBx", GH_ERR_CONFIG_VALUE, 0},
        {"1MiB1KiB", GH_ERR_CONFIG_VALUE, 0},
        {"-1B", GH_ERR_CONFIG_VALUE, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = -42;
        gh_err rc = gh_options_parse_size(cases[i].text, &v);
        if (rc != cases[i].rc || (rc == GH_OK && v != cases[i].value) ||
            (rc != GH_OK && v != -42)) {
            print_error("size case %zu '%s': %s %lld\n", i, cases[i].text, gh_err_name(rc),
                        (long long)v);
            fail();
        }
    }
    char buf[64];
    assert_string_equal(gh_options_format_size(0, buf, sizeof buf), "0B");
    assert_string_equal(gh_options_format_size(1500, buf, sizeof buf), "1500B");
    assert_string_equal(gh_options_format_size(1536, buf, sizeof buf), "1536B");
    assert_string_equal(gh_options_format_size(262144, buf, sizeof buf), "256KiB");
    assert_string_equal(gh_options_format_size(10 << 20, buf, sizeof buf), "10MiB");
    assert_string_equal(gh_options_format_size(INT64_C(3) << 40, buf, sizeof buf), "3TiB");
}

/* ---- IoT Edge config.toml (PROTOCOL.md 6.11) ------------------------------ */

struct edge {
    char hostname[256];
    char parent_hostname[256];
    char trust_bundle_cert[1024];
    int reprovision;
    char edge_ca_cert[1024];
    char edge_ca_pk[1024];
    int64_t edge_ca_days;
    int source;
    char global_endpoint[1024];
    char id_scope[64];
    char payload_uri[1024];
    char connection_string[1024];
    int method;
    char registration_id[128];
    char symmetric_key[256];
    char symmetric_key_uri[1024];
    char agent_name[64];
    char agent_type[32];
    char agent_image[256];
    int env_count;
};

static const char *const reprovision_modes[] = {"Dynamic", "AlwaysOnStartup", "OnErrorOnly", NULL};
static const char *const prov_sources[] = {"dps", "manual", NULL};
static const char *const methods[] = {"symmetric_key", "x509", "tpm", NULL};

static gh_err count_env(void *config, const char *path, const char *key,
                        const struct gh_toml_value *v, struct gh_toml_error *err)
{
    const char *s;
    if (gh_toml_as_string(v, &s, NULL) != GH_OK) {
        gh_toml_error_at(err, gh_toml_pos(v), "%s: environment values are strings", path);
        return GH_ERR_CONFIG_VALUE;
    }
    ((struct edge *)config)->env_count++;
    return GH_OK;
}

#define EDGE_STR(nm, member, text)                                                                 \
    {                                                                                              \
        .name = nm, .type = GH_OPT_STRING, .doc = text, GH_OPTION_FIELD(struct edge, member)       \
    }

static const struct gh_option edge_opts[] = {
    {.name = "hostname",
     .type = GH_OPT_STRING,
     .min = 1,
     .required = true,
     .doc = "Name downstream devices dial.",
     GH_OPTION_FIELD(struct edge, hostname)},
    EDGE_STR("parent_hostname", parent_hostname, "Parent gateway (nested Edge)."),
    EDGE_STR("trust_bundle_cert", trust_bundle_cert, "Extra trusted CAs (file:// URI)."),
    {.name = "auto_reprovisioning_mode",
     .type = GH_OPT_ENUM,
     .values = reprovision_modes,
     .default_text = "Dynamic",
     .doc = "When to reprovision.",
     GH_OPTION_FIELD(struct edge, reprovision)},
    EDGE_STR("edge_ca.cert", edge_ca_cert, "Edge CA certificate."),
    EDGE_STR("edge_ca.pk", edge_ca_pk, "Edge CA private key."),
    {.name = "edge_ca.auto_generated_edge_ca_expiry_days",
     .type = GH_OPT_INT,
     .min = 1,
     .max = 3650,
     .default_text = "90",
     .doc = "Quick-start Edge CA lifetime.",
     GH_OPTION_FIELD(struct edge, edge_ca_days)},
    {.name = "provisioning.source",
     .type = GH_OPT_ENUM,
     .values = prov_sources,
     .default_text = "dps",
     .doc = "How the gateway gets its identity.",
     GH_OPTION_FIELD(struct edge, source)},
    EDGE_STR("provisioning.global_endpoint", global_endpoint, "DPS endpoint."),
    EDGE_STR("provisioning.id_scope", id_scope, "DPS ID scope."),
    EDGE_STR("provisioning.payload.uri", payload_uri, "Custom allocation payload."),
    {.name = "provisioning.connection_string",
     .type = GH_OPT_STRING,
     .secret = true,
     .doc = "Manual provisioning connection string.",
     GH_OPTION_FIELD(struct edge, connection_string)},
    {.name = "provisioning.attestation.method",
     .type = GH_OPT_ENUM,
     .values = methods,
     .default_text = "symmetric_key",
     .doc = "DPS attestation.",
     GH_OPTION_FIELD(struct edge, method)},
    EDGE_STR("provisioning.attestation.registration_id", registration_id, "Registration id."),
    {.name = "provisioning.attestation.symmetric_key.value",
     .type = GH_OPT_STRING,
     .secret = true,
     .doc = "Device or derived key (base64).",
     GH_OPTION_FIELD(struct edge, symmetric_key)},
    EDGE_STR("provisioning.attestation.symmetric_key.uri", symmetric_key_uri, "Key file."),
    EDGE_STR("agent.name", agent_name, "edgeAgent module name."),
    EDGE_STR("agent.type", agent_type, "Module runtime type."),
    EDGE_STR("agent.config.image", agent_image, "edgeAgent image."),
    {.name = "agent.env",
     .type = GH_OPT_TABLE_MAP,
     .map = count_env,
     .doc = "edgeAgent environment (e.g. UpstreamProtocol)."},
};
#define NEDGE (sizeof edge_opts / sizeof edge_opts[0])

static gh_err apply_edge(const char *text, struct edge *e, struct gh_toml_error *err)
{
    struct gh_toml_doc *doc = NULL;
    memset(e, 0, sizeof *e);
    gh_err rc = gh_toml_parse(text, strlen(text), "config.toml", &doc, err);
    assert_int_equal(rc, GH_OK);
    rc = gh_options_apply(edge_opts, NEDGE, e, doc, err);
    gh_toml_free(doc);
    return rc;
}

static void test_edge_config(void **state)
{
    (void)state;
    struct edge e;
    struct gh_toml_error err;
    const char *inline_form =
        "hostname = \"edge-gw-01.example.test\"\n"
        "trust_bundle_cert = \"file:///var/aziot/certs/root-ca.pem\"\n"
        "auto_reprovisioning_mode = \"OnErrorOnly\"\n"
        "[provisioning]\nsource = \"dps\"\n"
        "global_endpoint = \"https://127.0.0.1:8443\"\nid_scope = \"0ne00ABC123\"\n"
        "payload = { uri = \"file:///var/payload.json\" }\n"
        "[provisioning.attestation]\nmethod = \"symmetric_key\"\nregistration_id = \"gw\"\n"
        "symmetric_key = { value = \"YWJjZA\" }\n"
        "[edge_ca]\ncert = \"file:///ca.pem\"\npk = \"file:///ca.key.pem\"\n"
        "[agent]\nname = \"edgeAgent\"\ntype = \"docker\"\n"
        "[agent.config]\nimage = \"mcr.microsoft.com/azureiotedge-agent:1.4\"\n"
        "[agent.env]\nUpstreamProtocol = \"AmqpWs\"\nOther = \"x\"\n";
    assert_int_equal(apply_edge(inline_form, &e, &err), GH_OK);
    assert_string_equal(e.hostname, "edge-gw-01.example.test");
    assert_int_equal(e.reprovision, 2);
    assert_string_equal(e.payload_uri, "file:///var/payload.json");
    assert_string_equal(e.symmetric_key, "YWJjZA");
    assert_string_equal(e.agent_image, "mcr.microsoft.com/azureiotedge-agent:1.4");
    assert_int_equal(e.edge_ca_days, 90);
    assert_int_equal(e.env_count, 2);
    gh_options_cleanup(edge_opts, NEDGE, &e);
    assert_string_equal(e.symmetric_key, "");

    /* sub-table form of the key, manual provisioning */
    const char *table_form = "hostname = \"gw\"\n"
                             "[provisioning]\nsource = \"manual\"\n"
                             "connection_string = \"HostName=h;DeviceId=d;SharedAccessKey=a2V5\"\n"
                             "[provisioning.attestation.symmetric_key]\nvalue = \"a2V5\"\n"
                             "[edge_ca]\nauto_generated_edge_ca_expiry_days = 30\n";
    assert_int_equal(apply_edge(table_form, &e, &err), GH_OK);
    assert_int_equal(e.source, 1);
    assert_string_equal(e.symmetric_key, "a2V5");
    assert_string_equal(e.connection_string, "HostName=h;DeviceId=d;SharedAccessKey=a2V5");
    assert_int_equal(e.edge_ca_days, 30);
    gh_options_cleanup(edge_opts, NEDGE, &e);

    /* a typo is caught at its position, in either form */
    assert_int_equal(apply_edge("hostname = \"gw\"\n[provisioning.attestation]\n"
                                "symmetric_key = { valeu = \"a2V5\" }\n",
                                &e, &err),
                     GH_ERR_CONFIG_KEY);
    assert_string_equal(err.msg, "unknown key 'provisioning.attestation.symmetric_key.valeu'");
    assert_int_equal(err.line, 3);
    assert_int_equal(err.col, 19);
    assert_int_equal(
        apply_edge("hostname = \"gw\"\n[provisioning.attestation]\nmethod = \"sas\"\n", &e, &err),
        GH_ERR_CONFIG_VALUE);
    assert_string_equal(err.msg, "provisioning.attestation.method: expected one of "
                                 "\"symmetric_key\", \"x509\", \"tpm\", got \"sas\"");
    assert_int_equal(err.line, 3);
    assert_int_equal(err.col, 10);
    assert_int_equal(apply_edge("[agent.env]\nX = 1\n", &e, &err), GH_ERR_CONFIG_VALUE);
    assert_string_equal(err.msg, "agent.env.X: environment values are strings");
    assert_int_equal(apply_edge("[agent]\nname = \"a\"\n", &e, &err), GH_ERR_CONFIG_MISSING);
    assert_string_equal(err.msg, "missing required key 'hostname'");
    gh_options_cleanup(edge_opts, NEDGE, &e);
}

/* ---- documentation ----------------------------------------------------------- */

static char *markdown(const struct gh_option *t, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(gh_options_print_markdown(t, n, f), GH_OK);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static void test_markdown(void **state)
{
    (void)state;
    char *md = markdown(edge_opts, NEDGE);
    assert_true(strncmp(md,
                        "| Option | Type | Default | Range | Reloadable | Description |\n"
                        "|---|---|---|---|---|---|\n",
                        strlen("| Option | Type | Default | Range | Reloadable | Description |\n"
                               "|---|---|---|---|---|---|\n")) == 0);
    /* every option of the table is documented, one row each */
    for (size_t i = 0; i < NEDGE; i++) {
        char row[256];
        snprintf(row, sizeof row, "\n| `%s` | ", edge_opts[i].name);
        assert_non_null(strstr(md, row));
        assert_non_null(strstr(md, edge_opts[i].doc));
    }
    assert_non_null(strstr(md, "| `hostname` | string | (required) | 1..255 bytes | no | "
                               "Name downstream devices dial. |\n"));
    assert_non_null(strstr(md, "| `edge_ca.auto_generated_edge_ca_expiry_days` | integer | `90` | "
                               "1..3650 | no | Quick-start Edge CA lifetime. |\n"));
    assert_non_null(strstr(md, "| `auto_reprovisioning_mode` | enum | `Dynamic` | \"Dynamic\", "
                               "\"AlwaysOnStartup\", \"OnErrorOnly\" | no |"));
    assert_non_null(strstr(md, "| `provisioning.connection_string` | string | (secret) |"));
    assert_non_null(strstr(md, "| `agent.env` | table | (empty) | - | no |"));
    assert_non_null(strstr(md, "| `parent_hostname` | string | (none) | at most 255 bytes | no |"));
    free(md);

    static const struct gh_option more[] = {
        {.name = "t",
         .type = GH_OPT_DURATION,
         .min = 1,
         .max = INT64_MAX,
         .default_text = "30s",
         .reloadable = true,
         .doc = "a | b\nc",
         .offset = 0,
         .size = sizeof(int64_t)},
        {.name = "z",
         .type = GH_OPT_SIZE,
         .max = 1024,
         .default_text = "1KiB",
         .doc = "d",
         .offset = 0,
         .size = sizeof(int64_t)},
        {.name = "l",
         .type = GH_OPT_STRING_ARRAY,
         .max = INT64_MAX,
         .doc = "d",
         .offset = 0,
         .size = sizeof(struct gh_string_list)},
        {.name = "b",
         .type = GH_OPT_BOOL,
         .default_text = "false",
         .doc = "d",
         .offset = 0,
         .size = sizeof(bool)},
        {.name = "i",
         .type = GH_OPT_INT,
         .min = INT64_MIN,
         .max = INT64_MAX,
         .doc = "d",
         .offset = 0,
         .size = sizeof(int64_t)},
    };
    md = markdown(more, 5);
    assert_non_null(strstr(md, "| `t` | duration | `30s` | at least 1s | yes | a \\| b c |\n"));
    assert_non_null(strstr(md, "| `z` | size | `1KiB` | at most 1KiB | no | d |\n"));
    assert_non_null(strstr(md, "| `l` | string array | (none) | any | no | d |\n"));
    assert_non_null(strstr(md, "| `b` | boolean | `false` | - | no | d |\n"));
    assert_non_null(strstr(md, "| `i` | integer | (none) | any | no | d |\n"));
    free(md);

    /* a stream that fails */
    FILE *ro = fopen("/dev/null", "r");
    assert_non_null(ro);
    assert_int_equal(gh_options_print_markdown(edge_opts, NEDGE, ro), GH_ERR_IO);
    fclose(ro);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_tables), cmocka_unit_test(test_durations),
        cmocka_unit_test(test_sizes),      cmocka_unit_test(test_edge_config),
        cmocka_unit_test(test_markdown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
