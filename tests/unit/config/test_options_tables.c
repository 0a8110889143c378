/* Option binder: arrays of tables (GH_OPT_TABLE_ARRAY): [[sections]] and
 * inline arrays bound element by element against an item table, defaults
 * per element, errors with the element's path and position, count bounds,
 * the callback's veto, table checks and the generated documentation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/options.h"

#define PEERS_MAX 3

struct peer {
    char name[32];
    int64_t port;
    bool tls;
    int64_t timeout;
};

struct cfg {
    char hostname[32];
    struct peer peers[PEERS_MAX];
    unsigned line[PEERS_MAX];
    size_t npeers;
};

#define P(m) GH_OPTION_FIELD(struct peer, m)

static const struct gh_option peer_items[] = {
    {.name = "name", .type = GH_OPT_STRING, .min = 1, .required = true, .doc = "Peer.", P(name)},
    {.name = "port",
     .type = GH_OPT_INT,
     .min = 1,
     .max = 65535,
     .default_text = "443",
     .doc = "Port.",
     P(port)},
    {.name = "tls", .type = GH_OPT_BOOL, .default_text = "true", .doc = "TLS.", P(tls)},
    {.name = "timeout",
     .type = GH_OPT_DURATION,
     .min = 1,
     .max = 60,
     .default_text = "10s",
     .doc = "Timeout.",
     P(timeout)},
};

static gh_err peer_cb(void *config, const char *path, size_t index, const void *item,
                      const struct gh_toml_value *table, struct gh_toml_error *err)
{
    struct cfg *c = config;
    const struct peer *p = item;
    assert_int_equal(index, c->npeers);
    for (size_t i = 0; i < c->npeers; i++) {
        if (strcmp(c->peers[i].name, p->name) == 0) {
            gh_toml_error_at(err, gh_toml_pos(table), "%s: peer %s given twice", path, p->name);
            return GH_ERR_CONFIG_VALUE;
        }
    }
    if (strcmp(p->name, "veto") == 0) return GH_ERR_CONFIG_VALUE; /* no message: the binder's */
    c->peers[c->npeers] = *p;
    c->line[c->npeers] = gh_toml_pos(table).line;
    c->npeers++;
    return GH_OK;
}

static const struct gh_option opts[] = {
    {.name = "hostname",
     .type = GH_OPT_STRING,
     .default_text = "h.example",
     .doc = "Host.",
     GH_OPTION_FIELD(struct cfg, hostname)},
    {.name = "link.peers",
     .type = GH_OPT_TABLE_ARRAY,
     .min = 0,
     .max = PEERS_MAX,
     .items = peer_items,
     .nitems = sizeof peer_items / sizeof peer_items[0],
     .item_size = sizeof(struct peer),
     .each = peer_cb,
     .doc = "Peers."},
};
#define NOPTS (sizeof opts / sizeof opts[0])

static gh_err apply(const char *text, struct cfg *c, struct gh_toml_error *err)
{
    struct gh_toml_doc *doc = NULL;
    memset(c, 0, sizeof *c);
    gh_err rc = gh_toml_parse(text, strlen(text), "t.toml", &doc, err);
    assert_int_equal(rc, GH_OK);
    rc = gh_options_apply(opts, NOPTS, c, doc, err);
    gh_toml_free(doc);
    return rc;
}

static void test_sections_bind_with_defaults(void **state)
{
    (void)state;
    struct cfg c;
    struct gh_toml_error err;
    assert_int_equal(apply("hostname = \"x.example\"\n"
                           "[[link.peers]]\nname = \"a\"\n"
                           "[[link.peers]]\nname = \"b\"\nport = 8443\ntls = false\n"
                           "timeout = \"1m\"\n",
                           &c, &err),
                     GH_OK);
    assert_int_equal(c.npeers, 2);
    assert_string_equal(c.peers[0].name, "a");
    assert_int_equal(c.peers[0].port, 443);
    assert_true(c.peers[0].tls);
    assert_int_equal(c.peers[0].timeout, 10);
    assert_int_equal(c.line[0], 2);
    assert_string_equal(c.peers[1].name, "b");
    assert_int_equal(c.peers[1].port, 8443);
    assert_false(c.peers[1].tls);
    assert_int_equal(c.peers[1].timeout, 60);
    assert_int_equal(c.line[1], 4);
}

static void test_inline_array_and_none(void **state)
{
    (void)state;
    struct cfg c;
    struct gh_toml_error err;
    assert_int_equal(
        apply("[link]\npeers = [{name = \"a\", port = 1}, {name = \"b\"}]\n", &c, &err), GH_OK);
    assert_int_equal(c.npeers, 2);
    assert_int_equal(c.peers[0].port, 1);
    assert_int_equal(c.peers[1].port, 443);
    assert_int_equal(apply("hostname = \"y\"\n", &c, &err), GH_OK);
    assert_int_equal(c.npeers, 0);
    assert_int_equal(apply("[link]\npeers = []\n", &c, &err), GH_OK);
    assert_int_equal(c.npeers, 0);
}

static void test_element_errors(void **state)
{
    (void)state;
    struct cfg c;
    struct gh_toml_error err;
    /* unknown key inside the second element, at the key */
    assert_int_equal(
        apply("[[link.peers]]\nname = \"a\"\n[[link.peers]]\nname = \"b\"\n  prot = 1\n", &c, &err),
        GH_ERR_CONFIG_KEY);
    assert_int_equal(err.line, 5);
    assert_int_equal(err.col, 3);
    assert_non_null(strstr(err.msg, "unknown key 'link.peers[1].prot'"));
    /* out of range, at the value */
    assert_int_equal(apply("[[link.peers]]\nname = \"a\"\nport = 70000\n", &c, &err),
                     GH_ERR_CONFIG_VALUE);
    assert_int_equal(err.line, 3);
    assert_int_equal(err.col, 8);
    assert_non_null(strstr(err.msg, "link.peers[0].port: expected integer 1..65535, got 70000"));
    /* wrong type */
    assert_int_equal(apply("[[link.peers]]\nname = 5\n", &c, &err), GH_ERR_CONFIG_VALUE);
    assert_non_null(strstr(err.msg, "link.peers[0].name"));
    /* missing required key, at the element */
    assert_int_equal(apply("hostname = \"h\"\n[[link.peers]]\nport = 1\n", &c, &err),
                     GH_ERR_CONFIG_MISSING);
    assert_int_equal(err.line, 2);
    assert_non_null(strstr(err.msg, "link.peers[0]: missing required key 'name'"));
    /* nested table inside an element */
    assert_int_equal(apply("[[link.peers]]\nname = \"a\"\n[link.peers.sub]\nx = 1\n", &c, &err),
                     GH_ERR_CONFIG_KEY);
    assert_non_null(strstr(err.msg, "link.peers[0].sub"));
}

static void test_shape_and_count_errors(void **state)
{
    (void)state;
    struct cfg c;
    struct gh_toml_error err;
    assert_int_equal(apply("[link]\npeers = 3\n", &c, &err), GH_ERR_CONFIG_VALUE);
    assert_non_null(strstr(err.msg, "link.peers: expected array of tables (at most 3 items)"));
    assert_int_equal(apply("[link.peers]\nname = \"a\"\n", &c, &err), GH_ERR_CONFIG_VALUE);
    assert_non_null(strstr(err.msg, "got table"));
    assert_int_equal(apply("[link]\npeers = [\"a\"]\n", &c, &err), GH_ERR_CONFIG_VALUE);
    assert_non_null(strstr(err.msg, "link.peers[0]: expected table, got string"));
    assert_int_equal(apply("[[link.peers]]\nname=\"a\"\n[[link.peers]]\nname=\"b\"\n"
                           "[[link.peers]]\nname=\"c\"\n[[link.peers]]\nname=\"d\"\n",
                           &c, &err),
                     GH_ERR_CONFIG_VALUE);
    assert_non_null(strstr(err.msg, "got 4 items"));
}

static void test_callback_veto(void **state)
{
    (void)state;
    struct cfg c;
    struct gh_toml_error err;
    assert_int_equal(
        apply("[[link.peers]]\nname = \"a\"\n[[link.peers]]\nname = \"a\"\n", &c, &err),
        GH_ERR_CONFIG_VALUE);
    assert_int_equal(err.line, 3);
    assert_non_null(strstr(err.msg, "link.peers[1]: peer a given twice"));
    assert_int_equal(apply("[[link.peers]]\nname = \"veto\"\n", &c, &err), GH_ERR_CONFIG_VALUE);
    assert_int_equal(err.line, 1);
    assert_non_null(strstr(err.msg, "link.peers[0]: invalid value"));
}

static gh_err no_cb(void *config, const char *path, size_t index, const void *item,
                    const struct gh_toml_value *table, struct gh_toml_error *err)
{
    (void)config, (void)path, (void)index, (void)item, (void)table, (void)err;
    return GH_OK;
}

static void test_table_checks(void **state)
{
    (void)state;
    struct gh_toml_error err;
    struct gh_option o = opts[1];
    o.each = NULL;
    assert_int_equal(gh_options_check(&o, 1, &err), GH_ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "array of tables needs"));
    o = opts[1];
    o.default_text = "x";
    assert_int_equal(gh_options_check(&o, 1, &err), GH_ERR_INTERNAL);
    static const struct gh_option list_item[] = {
        {.name = "l", .type = GH_OPT_STRING_ARRAY, .max = 2, .doc = "d", .offset = 0, .size = 16}};
    o = opts[1];
    o.items = list_item;
    o.nitems = 1;
    o.item_size = 64;
    o.each = no_cb;
    assert_int_equal(gh_options_check(&o, 1, &err), GH_ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "items must be scalars"));
    o = opts[1];
    o.item_size = 8; /* smaller than the fields */
    assert_int_equal(gh_options_check(&o, 1, &err), GH_ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "outside item_size"));
    static const struct gh_option bad_default[] = {{.name = "p",
                                                    .type = GH_OPT_INT,
                                                    .min = 1,
                                                    .max = 2,
                                                    .default_text = "9",
                                                    .doc = "d",
                                                    .offset = 0,
                                                    .size = sizeof(int64_t)}};
    o = opts[1];
    o.items = bad_default;
    o.nitems = 1;
    assert_int_equal(gh_options_check(&o, 1, &err), GH_ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "'p': default"));
    o = opts[1];
    o.min = 2;
    o.max = 1;
    assert_int_equal(gh_options_check(&o, 1, &err), GH_ERR_INTERNAL);
    assert_int_equal(gh_options_check(opts, NOPTS, &err), GH_OK);
}

static void test_markdown_rows(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(gh_options_print_markdown(opts, NOPTS, f), GH_OK);
    fclose(f);
    assert_non_null(strstr(
        buf, "| `link.peers` | array of tables | (empty) | at most 3 items | no | Peers. |"));
    assert_non_null(strstr(buf, "| `link.peers[].name` | string | (required) |"));
    assert_non_null(
        strstr(buf, "| `link.peers[].port` | integer | `443` | 1..65535 | no | Port. |"));
    /* the items follow their array, in order */
    assert_true(strstr(buf, "link.peers[].name") < strstr(buf, "link.peers[].timeout"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sections_bind_with_defaults),
        cmocka_unit_test(test_inline_array_and_none),
        cmocka_unit_test(test_element_errors),
        cmocka_unit_test(test_shape_and_count_errors),
        cmocka_unit_test(test_callback_veto),
        cmocka_unit_test(test_table_checks),
        cmocka_unit_test(test_markdown_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
