/* TOML parser: valid documents (each feature), accessors, positions,
 * the IoT Edge config.toml shapes of PROTOCOL.md 6.11. Invalid documents
 * and limits are in test_toml_invalid.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/toml.h"

static struct gh_toml_doc *parse_ok(const char *text)
{
    struct gh_toml_doc *doc = NULL;
    struct gh_toml_error err;
    gh_err rc = gh_toml_parse(text, strlen(text), "t.toml", &doc, &err);
    if (rc != GH_OK)
        print_error("unexpected %s at %u:%u: %s\n", gh_err_name(rc), err.line, err.col, err.msg);
    assert_int_equal(rc, GH_OK);
    assert_non_null(doc);
    return doc;
}

struct valid_case {
    const char *text;
    const char *path;
    enum gh_toml_type type;
    const char *str; /* GH_TOML_STRING: expected bytes (NUL-terminated) */
    int64_t num;     /* GH_TOML_INTEGER; GH_TOML_BOOLEAN: 0/1 */
};

static const struct valid_case valid_cases[] = {
    /* comments, keys */
    {"# c\na = 1 # trailing\n# end", "a", GH_TOML_INTEGER, NULL, 1},
    {"A-b_1 = 1", "A-b_1", GH_TOML_INTEGER, NULL, 1},
    {"\"a b\" = 1", "a b", GH_TOML_INTEGER, NULL, 1},
    {"'k' = 2", "k", GH_TOML_INTEGER, NULL, 2},
    {"1234 = 5", "1234", GH_TOML_INTEGER, NULL, 5},
    {"3.14 = 1", "3.14", GH_TOML_INTEGER, NULL, 1}, /* dotted: 3 -> 14 */
    {"true = 1", "true", GH_TOML_INTEGER, NULL, 1},
    {"a.b.c = 1", "a.b.c", GH_TOML_INTEGER, NULL, 1},
    {"a . b\t= 1", "a.b", GH_TOML_INTEGER, NULL, 1},
    {"a.x = 1\nb.x = 2\na.y = 3", "a.y", GH_TOML_INTEGER, NULL, 3},
    {"\ta\t=\t1\t", "a", GH_TOML_INTEGER, NULL, 1},
    /* tables */
    {"[t]\nx = 1", "t.x", GH_TOML_INTEGER, NULL, 1},
    {"[a.b]\nx = 1", "a.b.x", GH_TOML_INTEGER, NULL, 1},
    {"[ a . 'b c' ]\nx = 1", "a.b c.x", GH_TOML_INTEGER, NULL, 1},
    {"[a.b]\nx=1\n[a]\ny=2", "a.y", GH_TOML_INTEGER, NULL, 2},
    {"[f]\napple.color = 'red'\n[f.apple.texture]\nsmooth = true", "f.apple.texture.smooth",
     GH_TOML_BOOLEAN, NULL, 1},
    {"[a] # c\nx = 1", "a.x", GH_TOML_INTEGER, NULL, 1},
    {"[[x]]\nn=1\n[[x]]\nn=2\n[x.sub]\nm=3", "x", GH_TOML_ARRAY, NULL, 0},
    /* strings */
    {"s = \"\\b\\t\\n\\f\\r\\\"\\\\\"", "s", GH_TOML_STRING, "\b\t\n\f\r\"\\", 0},
    {"s = \"\\u00e9\\U0001F600\\u0041\"", "s", GH_TOML_STRING,
     "\xc3\xa9\xf0\x9f\x98\x80"
     "A",
     0},
    {"s = \"\xc3\xa9t\xc3\xa9\"", "s", GH_TOML_STRING, "\xc3\xa9t\xc3\xa9", 0},
    {"s = \"a\tb\"", "s", GH_TOML_STRING, "a\tb", 0},
    {"s = \"\"", "s", GH_TOML_STRING, "", 0},
    {"s = 'C:\\path\\x \"q\"'", "s", GH_TOML_STRING, "C:\\path\\x \"q\"", 0},
    {"s = \"\"\"\nab\"\"\"", "s", GH_TOML_STRING, "ab", 0},
    {"s = \"\"\"\r\na\r\nb\"\"\"", "s", GH_TOML_STRING, "a\nb", 0},
    {"s = \"\"\"a \\\n   b\"\"\"", "s", GH_TOML_STRING, "a b", 0},
    {"s = \"\"\"a\\  \t\n\n  b\"\"\"", "s", GH_TOML_STRING, "ab", 0},
    {"s = \"\"\"x\"\"\"\"\"", "s", GH_TOML_STRING, "x\"\"", 0},
    {"s = \"\"\"a\"b\"\"c\\\"\"\"\"", "s", GH_TOML_STRING, "a\"b\"\"c\"", 0},
    {"s = '''\nfirst\n\\n raw'''", "s", GH_TOML_STRING, "first\n\\n raw", 0},
    {"s = '''a''b''''", "s", GH_TOML_STRING, "a''b'", 0},
    {"s = ''''''", "s", GH_TOML_STRING, "", 0},
    /* integers, booleans */
    {"i = +99", "i", GH_TOML_INTEGER, NULL, 99},
    {"i = -17", "i", GH_TOML_INTEGER, NULL, -17},
    {"i = 0", "i", GH_TOML_INTEGER, NULL, 0},
    {"i = -0", "i", GH_TOML_INTEGER, NULL, 0},
    {"i = 1_000_000", "i", GH_TOML_INTEGER, NULL, 1000000},
    {"i = 0xDEAD_beef", "i", GH_TOML_INTEGER, NULL, 0xdeadbeef},
    {"i = 0x00ff", "i", GH_TOML_INTEGER, NULL, 255},
    {"i = 0o755", "i", GH_TOML_INTEGER, NULL, 0755},
    {"i = 0b1101", "i", GH_TOML_INTEGER, NULL, 13},
    {"i = 9223372036854775807", "i", GH_TOML_INTEGER, NULL, INT64_MAX},
    {"i = -9223372036854775808", "i", GH_TOML_INTEGER, NULL, INT64_MIN},
    {"i = 0x7fffffffffffffff", "i", GH_TOML_INTEGER, NULL, INT64_MAX},
    {"b = true", "b", GH_TOML_BOOLEAN, NULL, 1},
    {"b = false", "b", GH_TOML_BOOLEAN, NULL, 0},
    /* arrays, inline tables */
    {"a = []", "a", GH_TOML_ARRAY, NULL, 0},
    {"a = [1, 'x', [true], {k = 1},]", "a", GH_TOML_ARRAY, NULL, 0},
    {"a = [\n  1, # one\n  2,\n\n]", "a", GH_TOML_ARRAY, NULL, 0},
    {"p = { uri = 'file:///x' }", "p.uri", GH_TOML_STRING, "file:///x", 0},
    {"p = {}", "p", GH_TOML_TABLE, NULL, 0},
    {"p = { a = { b = 1 } }", "p.a.b", GH_TOML_INTEGER, NULL, 1},
    {"p = { a.b = 1, a.c = 2 }", "p.a.c", GH_TOML_INTEGER, NULL, 2},
    /* document-level */
    {"\xef\xbb\xbf"
     "a = 1",
     "a", GH_TOML_INTEGER, NULL, 1},
    {"a = 1\r\nb = 2\r\n", "b", GH_TOML_INTEGER, NULL, 2},
    {"a = 1\n\n\n", "a", GH_TOML_INTEGER, NULL, 1},
};

static void test_valid_documents(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof valid_cases / sizeof valid_cases[0]; i++) {
        const struct valid_case *c = &valid_cases[i];
        struct gh_toml_doc *doc = parse_ok(c->text);
        const struct gh_toml_value *v = gh_toml_get(gh_toml_root(doc), c->path);
        if (v == NULL || gh_toml_type(v) != c->type) {
            print_error("case %zu (%s): missing or wrong type\n", i, c->path);
            fail();
        }
        if (c->type == GH_TOML_STRING) {
            const char *s;
            size_t len;
            assert_int_equal(gh_toml_as_string(v, &s, &len), GH_OK);
            assert_string_equal(s, c->str);
            assert_int_equal(len, strlen(c->str));
        } else if (c->type == GH_TOML_INTEGER) {
            int64_t n;
            assert_int_equal(gh_toml_as_int(v, &n), GH_OK);
            assert_true(n == c->num);
        } else if (c->type == GH_TOML_BOOLEAN) {
            bool b;
            assert_int_equal(gh_toml_as_bool(v, &b), GH_OK);
            assert_int_equal(b, c->num != 0);
        }
        gh_toml_free(doc);
    }
}

/* Every prefix of every valid document, in a buffer of exactly that size:
 * parsing either succeeds or fails cleanly, never reads past the end. */
static void test_valid_prefixes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof valid_cases / sizeof valid_cases[0]; i++) {
        size_t len = strlen(valid_cases[i].text);
        for (size_t n = 0; n <= len; n++) {
            char *buf = malloc(n ? n : 1);
            assert_non_null(buf);
            memcpy(buf, valid_cases[i].text, n);
            struct gh_toml_doc *doc = NULL;
            struct gh_toml_error err;
            gh_err rc = gh_toml_parse(buf, n, NULL, &doc, &err);
            if (rc == GH_OK) {
                assert_non_null(doc);
            } else {
                assert_null(doc);
                assert_true(err.line >= 1 && err.col >= 1);
                assert_true(err.msg[0] != '\0');
            }
            gh_toml_free(doc);
            free(buf);
        }
    }
}

static void test_empty_documents(void **state)
{
    (void)state;
    const char *texts[] = {"", "\n", "# only a comment", "  \t\n# x\n\n", "\xef\xbb\xbf"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        struct gh_toml_doc *doc = parse_ok(texts[i]);
        assert_int_equal(gh_toml_count(gh_toml_root(doc)), 0);
        assert_null(gh_toml_first(gh_toml_root(doc)));
        gh_toml_free(doc);
    }
    struct gh_toml_doc *doc = NULL;
    assert_int_equal(gh_toml_parse(NULL, 0, NULL, &doc, NULL), GH_OK);
    assert_string_equal(gh_toml_doc_file(doc), "<input>");
    gh_toml_free(doc);
}

static void test_iteration_order(void **state)
{
    (void)state;
    struct gh_toml_doc *doc = parse_ok("z = 1\ny.b = 2\n[x]\n[w]\ny.a = 3\n");
    const char *keys[] = {"z", "y", "x", "w"};
    size_t i = 0;
    const struct gh_toml_value *root = gh_toml_root(doc);
    for (const struct gh_toml_value *v = gh_toml_first(root); v; v = gh_toml_next(v), i++) {
        assert_true(i < 4);
        assert_string_equal(gh_toml_key(v), keys[i]);
        assert_ptr_equal(gh_toml_parent(v), root);
    }
    assert_int_equal(i, 4);
    assert_int_equal(gh_toml_count(root), 4);
    assert_null(gh_toml_parent(root));
    assert_null(gh_toml_key(root));
    gh_toml_free(doc);
}

static void test_arrays(void **state)
{
    (void)state;
    struct gh_toml_doc *doc = parse_ok("a = [1, 'x', [true, false], {k = 7},]\n");
    const struct gh_toml_value *a = gh_toml_get(gh_toml_root(doc), "a");
    assert_int_equal(gh_toml_count(a), 4);
    assert_int_equal(gh_toml_type(gh_toml_at(a, 0)), GH_TOML_INTEGER);
    assert_int_equal(gh_toml_type(gh_toml_at(a, 1)), GH_TOML_STRING);
    assert_int_equal(gh_toml_type(gh_toml_at(a, 2)), GH_TOML_ARRAY);
    assert_int_equal(gh_toml_count(gh_toml_at(a, 2)), 2);
    int64_t k;
    assert_int_equal(gh_toml_as_int(gh_toml_get(gh_toml_at(a, 3), "k"), &k), GH_OK);
    assert_int_equal(k, 7);
    assert_null(gh_toml_at(a, 4));
    assert_null(gh_toml_key(gh_toml_at(a, 0)));
    assert_int_equal(gh_toml_key_pos(gh_toml_at(a, 0)).line, 0);
    assert_null(gh_toml_get(a, "0")); /* arrays are not traversed by path */
    gh_toml_free(doc);
}

static void test_array_of_tables(void **state)
{
    (void)state;
    struct gh_toml_doc *doc = parse_ok("[[x]]\nn = 1\n[[x]]\nn = 2\n[x.sub]\nm = 3\n[[x.list]]\n");
    const struct gh_toml_value *x = gh_toml_get(gh_toml_root(doc), "x");
    assert_int_equal(gh_toml_type(x), GH_TOML_ARRAY);
    assert_int_equal(gh_toml_count(x), 2);
    int64_t n;
    assert_int_equal(gh_toml_as_int(gh_toml_get(gh_toml_at(x, 0), "n"), &n), GH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(gh_toml_as_int(gh_toml_get(gh_toml_at(x, 1), "sub.m"), &n), GH_OK);
    assert_int_equal(n, 3);
    assert_null(gh_toml_get(gh_toml_at(x, 0), "sub"));
    assert_int_equal(gh_toml_count(gh_toml_get(gh_toml_at(x, 1), "list")), 1);
    /* elements sit at their header */
    assert_int_equal(gh_toml_pos(gh_toml_at(x, 1)).line, 3);
    gh_toml_free(doc);
}

static void test_child_and_get(void **state)
{
    (void)state;
    struct gh_toml_doc *doc = parse_ok("a.\"b.c\" = 1\n\"\" = 2\n[t]\nu = 'x'\n");
    const struct gh_toml_value *root = gh_toml_root(doc);
    const struct gh_toml_value *a = gh_toml_get(root, "a");
    assert_non_null(gh_toml_child(a, "b.c", 3));
    assert_null(gh_toml_get(root, "a.b.c")); /* segments are exact */
    assert_non_null(gh_toml_child(root, "", 0));
    assert_null(gh_toml_get(root, ""));
    assert_null(gh_toml_get(root, "t."));
    assert_null(gh_toml_get(root, ".t"));
    assert_null(gh_toml_get(root, "t..u"));
    assert_null(gh_toml_get(root, "t.u.v"));
    assert_null(gh_toml_get(root, NULL));
    assert_null(gh_toml_get(NULL, "t"));
    assert_null(gh_toml_child(gh_toml_get(root, "t.u"), "x", 1));
    assert_non_null(gh_toml_get(root, "t.u"));
    gh_toml_free(doc);
}

static void test_typed_accessors(void **state)
{
    (void)state;
    struct gh_toml_doc *doc = parse_ok("s = 'x'\ni = 3\nb = true\n");
    const struct gh_toml_value *root = gh_toml_root(doc);
    const char *s = "unchanged";
    int64_t i = 42;
    bool b = false;
    assert_int_equal(gh_toml_as_string(gh_toml_get(root, "i"), &s, NULL), GH_ERR_CONFIG_VALUE);
    assert_string_equal(s, "unchanged");
    assert_int_equal(gh_toml_as_int(gh_toml_get(root, "s"), &i), GH_ERR_CONFIG_VALUE);
    assert_int_equal(i, 42);
    assert_int_equal(gh_toml_as_bool(gh_toml_get(root, "i"), &b), GH_ERR_CONFIG_VALUE);
    assert_int_equal(gh_toml_as_string(NULL, &s, NULL), GH_ERR_CONFIG_MISSING);
    assert_int_equal(gh_toml_as_int(NULL, &i), GH_ERR_CONFIG_MISSING);
    assert_int_equal(gh_toml_as_bool(gh_toml_get(root, "nope"), &b), GH_ERR_CONFIG_MISSING);
    assert_int_equal(gh_toml_as_bool(gh_toml_get(root, "b"), &b), GH_OK);
    assert_true(b);
    assert_int_equal(gh_toml_count(gh_toml_get(root, "s")), 0);
    assert_null(gh_toml_first(gh_toml_get(root, "s")));
    assert_string_equal(gh_toml_type_name(GH_TOML_BOOLEAN), "boolean");
    assert_string_equal(gh_toml_type_name(GH_TOML_TABLE), "table");
    assert_int_equal(gh_toml_type(NULL), GH_TOML_NONE);
    assert_string_equal(gh_toml_type_name(GH_TOML_NONE), "none");
    gh_toml_free(doc);
}

static void expect_pos(struct gh_toml_pos p, unsigned line, unsigned col)
{
    assert_int_equal(p.line, line);
    assert_int_equal(p.col, col);
}

static void test_positions(void **state)
{
    (void)state;
    /* line 1: "a = 1"; 2: "[t.u]" 3: "  k = [ 10,"; 4: "\t 20 ]";
     * 5: "inl = { x = 'y' }" (CRLF ends line 5); 6: "[t]" */
    struct gh_toml_doc *doc =
        parse_ok("a = 1\n[t.u]\n  k = [ 10,\n\t 20 ]\ninl = { x = 'y' }\r\n[t]\n");
    const struct gh_toml_value *root = gh_toml_root(doc);
    expect_pos(gh_toml_pos(root), 1, 1);
    expect_pos(gh_toml_key_pos(root), 0, 0);
    const struct gh_toml_value *a = gh_toml_get(root, "a");
    expect_pos(gh_toml_key_pos(a), 1, 1);
    expect_pos(gh_toml_pos(a), 1, 5);
    /* t was implicit in [t.u] and defined by [t] on line 6 */
    const struct gh_toml_value *t = gh_toml_get(root, "t");
    expect_pos(gh_toml_key_pos(t), 6, 2);
    expect_pos(gh_toml_pos(t), 6, 1);
    const struct gh_toml_value *u = gh_toml_get(root, "t.u");
    expect_pos(gh_toml_key_pos(u), 2, 4);
    expect_pos(gh_toml_pos(u), 2, 1);
    const struct gh_toml_value *k = gh_toml_get(root, "t.u.k");
    expect_pos(gh_toml_key_pos(k), 3, 3);
    expect_pos(gh_toml_pos(k), 3, 7);
    expect_pos(gh_toml_pos(gh_toml_at(k, 0)), 3, 9);
    expect_pos(gh_toml_pos(gh_toml_at(k, 1)), 4, 3);
    const struct gh_toml_value *inl = gh_toml_get(root, "t.u.inl");
    expect_pos(gh_toml_pos(inl), 5, 7);
    expect_pos(gh_toml_key_pos(gh_toml_get(inl, "x")), 5, 9);
    expect_pos(gh_toml_pos(gh_toml_get(inl, "x")), 5, 13);
    gh_toml_free(doc);

    /* a byte order mark does not count as a column */
    doc = parse_ok("\xef\xbb\xbf"
                   "ab = 1\n");
    expect_pos(gh_toml_pos(gh_toml_get(gh_toml_root(doc), "ab")), 1, 6);
    gh_toml_free(doc);
    /* columns count bytes: the value after a 2-byte character */
    doc = parse_ok("\"\xc3\xa9\" = 1\n");
    expect_pos(gh_toml_pos(gh_toml_get(gh_toml_root(doc), "\xc3\xa9")), 1, 8);
    gh_toml_free(doc);
    /* a multi-line string moves the line count on */
    doc = parse_ok("s = '''\na\nb'''\nn = 1\n");
    expect_pos(gh_toml_pos(gh_toml_get(gh_toml_root(doc), "n")), 4, 5);
    gh_toml_free(doc);
}

/* PROTOCOL.md 6.11: the config.toml shapes an IoT Edge gateway reads. */
static const char edge_config[] =
    "hostname = \"edge-gw-01.example.test\"\n"
    "trust_bundle_cert = \"file:///var/aziot/certs/root-ca.pem\"\n"
    "auto_reprovisioning_mode = \"Dynamic\"\n"
    "\n"
    "[provisioning]\n"
    "source = \"dps\"\n"
    "global_endpoint = \"https://global.azure-devices-provisioning.net\"\n"
    "id_scope = \"0ne00ABC123\"\n"
    "payload = { uri = \"file:///var/secrets/payload.json\" }\n"
    "\n"
    "[provisioning.attestation]\n"
    "method = \"symmetric_key\"\n"
    "registration_id = \"edge-gw-01\"\n"
    "symmetric_key = { value = \"YWJjZGVmZ2hpamtsbW5vcA\" }\n"
    "\n"
    "[edge_ca]\n"
    "cert = \"file:///var/aziot/certs/edge-ca.pem\"\n"
    "pk = \"file:///var/aziot/secrets/edge-ca.key.pem\"\n"
    "\n"
    "[agent]\n"
    "name = \"edgeAgent\"\n"
    "type = \"docker\"\n"
    "\n"
    "[agent.config]\n"
    "image = \"mcr.microsoft.com/azureiotedge-agent:1.4\"\n"
    "\n"
    "[agent.env]\n"
    "UpstreamProtocol = \"AmqpWs\"\n";

static void expect_str(const struct gh_toml_value *root, const char *path, const char *want)
{
    const char *s;
    assert_int_equal(gh_toml_as_string(gh_toml_get(root, path), &s, NULL), GH_OK);
    assert_string_equal(s, want);
}

static void test_edge_config_shapes(void **state)
{
    (void)state;
    struct gh_toml_doc *doc = parse_ok(edge_config);
    const struct gh_toml_value *r = gh_toml_root(doc);
    expect_str(r, "hostname", "edge-gw-01.example.test");
    expect_str(r, "trust_bundle_cert", "file:///var/aziot/certs/root-ca.pem");
    expect_str(r, "provisioning.source", "dps");
    expect_str(r, "provisioning.id_scope", "0ne00ABC123");
    expect_str(r, "provisioning.payload.uri", "file:///var/secrets/payload.json");
    expect_str(r, "provisioning.attestation.method", "symmetric_key");
    expect_str(r, "provisioning.attestation.symmetric_key.value", "YWJjZGVmZ2hpamtsbW5vcA");
    expect_str(r, "edge_ca.pk", "file:///var/aziot/secrets/edge-ca.key.pem");
    expect_str(r, "agent.config.image", "mcr.microsoft.com/azureiotedge-agent:1.4");
    expect_str(r, "agent.env.UpstreamProtocol", "AmqpWs");
    gh_toml_free(doc);

    /* the same key as a sub-table, and the manual / x509 variants */
    doc = parse_ok(
        "[provisioning]\nsource = \"manual\"\n"
        "connection_string = \"HostName=h;DeviceId=d;SharedAccessKey=a2V5\"\n"
        "[provisioning.attestation]\nmethod = \"symmetric_key\"\n"
        "[provisioning.attestation.symmetric_key]\nvalue = \"a2V5\"\n"
        "[provisioning.authentication]\nmethod = \"x509\"\n"
        "identity_cert = \"file:///c.pem\"\nidentity_pk = \"pkcs11:object=k?pin-value=1\"\n"
        "[edge_ca]\nauto_generated_edge_ca_expiry_days = 90\n");
    r = gh_toml_root(doc);
    expect_str(r, "provisioning.attestation.symmetric_key.value", "a2V5");
    expect_str(r, "provisioning.authentication.identity_pk", "pkcs11:object=k?pin-value=1");
    int64_t days;
    assert_int_equal(
        gh_toml_as_int(gh_toml_get(r, "edge_ca.auto_generated_edge_ca_expiry_days"), &days), GH_OK);
    assert_int_equal(days, 90);
    gh_toml_free(doc);
}

/* Strings larger than an arena block, between small values. */
static void test_large_strings(void **state)
{
    (void)state;
    enum { BIG = 40000 };
    size_t cap = 2 * BIG + 64;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t o = (size_t)snprintf(text, cap, "a = 1\nbig = '");
    memset(text + o, 'x', BIG);
    o += BIG;
    o += (size_t)snprintf(text + o, cap - o, "'\nb = 2\nbig2 = \"");
    memset(text + o, 'y', BIG);
    o += BIG;
    o += (size_t)snprintf(text + o, cap - o, "\"\nc = 3\n");
    struct gh_toml_doc *doc = NULL;
    struct gh_toml_error err;
    assert_int_equal(gh_toml_parse(text, o, NULL, &doc, &err), GH_OK);
    const struct gh_toml_value *r = gh_toml_root(doc);
    const char *s;
    size_t len;
    assert_int_equal(gh_toml_as_string(gh_toml_get(r, "big"), &s, &len), GH_OK);
    assert_int_equal(len, BIG);
    assert_true(s[0] == 'x' && s[BIG - 1] == 'x' && s[BIG] == '\0');
    assert_int_equal(gh_toml_as_string(gh_toml_get(r, "big2"), &s, &len), GH_OK);
    assert_int_equal(len, BIG);
    assert_true(s[0] == 'y' && s[BIG - 1] == 'y');
    int64_t c;
    assert_int_equal(gh_toml_as_int(gh_toml_get(r, "c"), &c), GH_OK);
    assert_int_equal(c, 3);
    assert_int_equal(gh_toml_count(r), 5);
    gh_toml_free(doc);
    free(text);
}

static void test_error_format_and_escape(void **state)
{
    (void)state;
    struct gh_toml_error err;
    char buf[300];
    gh_toml_error_init(&err, "f.toml");
    gh_toml_error_at(&err, (struct gh_toml_pos){3, 7}, "bad %s", "thing");
    assert_string_equal(gh_toml_error_format(&err, buf, sizeof buf), "f.toml:3:7: bad thing");
    gh_toml_error_at(&err, (struct gh_toml_pos){0, 0}, "whole file");
    assert_string_equal(gh_toml_error_format(&err, buf, sizeof buf), "f.toml: whole file");
    gh_toml_error_init(&err, NULL);
    assert_string_equal(err.file, "<input>");
    gh_toml_error_init(NULL, "x");                                 /* no-op */
    gh_toml_error_at(NULL, (struct gh_toml_pos){1, 1}, "ignored"); /* no-op */

    char out[16];
    assert_string_equal(gh_toml_escape(out, sizeof out, "a'b\\\x1b", 5), "a\\'b\\\\\\x1b");
    assert_string_equal(gh_toml_escape(out, sizeof out, "abcdefghijklmnopqrstuvwxyz", 26),
                        "abcdefghijkl...");
    assert_string_equal(gh_toml_escape(out, 8, "\xff\xff", 2), "\\xff...");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_documents), cmocka_unit_test(test_valid_prefixes),
        cmocka_unit_test(test_empty_documents), cmocka_unit_test(test_iteration_order),
        cmocka_unit_test(test_arrays),          cmocka_unit_test(test_array_of_tables),
        cmocka_unit_test(test_child_and_get),   cmocka_unit_test(test_typed_accessors),
        cmocka_unit_test(test_positions),       cmocka_unit_test(test_edge_config_shapes),
        cmocka_unit_test(test_large_strings),   cmocka_unit_test(test_error_format_and_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
