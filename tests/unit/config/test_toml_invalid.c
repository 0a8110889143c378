/* TOML parser: invalid documents (exact code, line:column and message),
 * limits, and reading files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/toml.h"

struct bad_case {
    const char *text;
    size_t len; /* 0: strlen(text) */
    gh_err code;
    unsigned line, col;
    const char *msg; /* substring of err.msg */
};

#define SYN GH_ERR_CONFIG_SYNTAX
#define VAL GH_ERR_CONFIG_VALUE

static const struct bad_case bad_cases[] = {
    /* keys and key/value syntax */
    {"a", 0, SYN, 1, 2, "expected '=' after key"},
    {"= 1", 0, SYN, 1, 1, "expected a key, found '='"},
    {"a =", 0, SYN, 1, 4, "expected a value"},
    {"a = # c", 0, SYN, 1, 5, "expected a value"},
    {"a = 1 b = 2", 0, SYN, 1, 7, "expected end of line, found 'b'"},
    {"a.= 1", 0, SYN, 1, 3, "expected a key"},
    {"a b = 1", 0, SYN, 1, 3, "expected '=' after key, found 'b'"},
    {"\"\"\"k\"\"\" = 1", 0, SYN, 1, 1, "multi-line string cannot be a key"},
    {"\xca\x9e = 1", 0, SYN, 1, 1, "expected a key"},
    {"a = 1\na = 2", 0, SYN, 2, 1, "duplicate key 'a'"},
    {"'a' = 1\n\"a\" = 2", 0, SYN, 2, 1, "duplicate key 'a'"},
    {"[x]\na.b = 1\na.b = 2", 0, SYN, 3, 3, "duplicate key 'x.a.b'"},
    {"a.b = 1\na = 2", 0, SYN, 2, 1, "duplicate key 'a'"},
    {"a = 1\na.b = 2", 0, SYN, 2, 1, "'a' is already defined as integer, cannot be a table"},
    /* tables */
    {"[a]\n[a]", 0, SYN, 2, 2, "table 'a' is already defined"},
    {"[a]\nb.c = 1\n[a.b]", 0, SYN, 3, 4, "table 'a.b' is already defined"},
    {"a = {}\n[a]", 0, SYN, 2, 2, "table 'a' is already defined"},
    {"a = 1\n[a]", 0, SYN, 2, 2, "'a' is already defined as integer, cannot be a table"},
    {"a = 1\n[a.b]", 0, SYN, 2, 2, "'a' is already defined as integer, cannot be a table"},
    {"[a.b.c]\nz = 9\n[a]\nb.c.t = 1", 0, SYN, 4, 1,
     "table 'a.b' is defined elsewhere and cannot be extended by a dotted key"},
    {"[a.b.c.d]\nz = 9\n[a]\n  b.c.d.k.t = 1", 0, SYN, 4, 3, "table 'a.b' is defined elsewhere"},
    {"a = [{ b = 1 }]\n[a.c]", 0, SYN, 2, 2, "'a' is already defined as array, cannot be a table"},
    {"a = { b = 1 }\n[a.c]", 0, SYN, 2, 2, "inline table 'a' cannot be extended"},
    {"a = { b = 1 }\na.c = 1", 0, SYN, 2, 1, "inline table 'a' cannot be extended"},
    {"t = { f = { a.c = 1 }, f.a.t = 2 }", 0, SYN, 1, 24, "inline table 't.f' cannot be extended"},
    {"a = { b = 1, b = 2 }", 0, SYN, 1, 14, "duplicate key 'a.b'"},
    {"[[a]]\n[a]", 0, SYN, 2, 2, "'a' is already defined as array of tables, cannot be a table"},
    {"a = []\n[[a]]", 0, SYN, 2, 3,
     "'a' is already defined as array, cannot be an array of tables"},
    {"[a]\n[[a]]", 0, SYN, 2, 3, "'a' is already defined as table, cannot be an array of tables"},
    {"[[q]]\n[q.r]\n[q.r]", 0, SYN, 3, 4, "table 'q.r' is already defined"},
    {"[]", 0, SYN, 1, 2, "expected a key, found ']'"},
    {"[a]]", 0, SYN, 1, 4, "expected end of line, found ']'"},
    {"[[a]\n", 0, SYN, 1, 4, "expected ']]' to close the header"},
    {"[[a] ]", 0, SYN, 1, 4, "expected ']]' to close the header"},
    {"[a\nb]", 0, SYN, 1, 3, "expected ']' to close the header"},
    {"[a] x", 0, SYN, 1, 5, "expected end of line, found 'x'"},
    /* arrays and inline tables */
    {"a = [1 2]", 0, SYN, 1, 8, "expected ',' or ']' in array, found '2'"},
    {"a = [1", 0, SYN, 1, 5, "unterminated array"},
    {"a = [,]", 0, SYN, 1, 6, "expected a value"},
    {"a = [1,,2]", 0, SYN, 1, 8, "expected a value"},
    {"a = { b = 1, }", 0, SYN, 1, 14, "trailing comma in inline table"},
    {"a = { b = 1\n}", 0, SYN, 1, 12, "newline in inline table"},
    {"a = {\nb = 1 }", 0, SYN, 1, 6, "newline in inline table"},
    {"a = { b = 1", 0, SYN, 1, 5, "unterminated inline table"},
    {"a = { b = 1 c = 2 }", 0, SYN, 1, 13, "expected ',' or '}' in inline table, found 'c'"},
    /* strings */
    {"a = \"x", 0, SYN, 1, 5, "unterminated string"},
    {"a = \"x\ny\"", 0, SYN, 1, 5, "unterminated string"},
    {"a = 'x", 0, SYN, 1, 5, "unterminated string"},
    {"a = '''x", 0, SYN, 1, 5, "unterminated string"},
    {"a = \"\"\"x\"\"", 0, SYN, 1, 5, "unterminated string"},
    {"a = \"\\q\"", 0, SYN, 1, 6, "invalid escape sequence '\\q'"},
    {"a = \"\\x41\"", 0, SYN, 1, 6, "invalid escape sequence '\\x'"},
    {"a = \"\\e\"", 0, SYN, 1, 6, "invalid escape sequence '\\e'"},
    {"a = \"\\u00\"", 0, SYN, 1, 6, "escape \\u needs 4 hexadecimal digits"},
    {"a = \"\\U0001F60\"", 0, SYN, 1, 6, "escape \\U needs 8 hexadecimal digits"},
    {"a = \"\\uD800\"", 0, SYN, 1, 6, "not a Unicode scalar value (U+D800)"},
    {"a = \"\\U00110000\"", 0, SYN, 1, 6, "not a Unicode scalar value (U+110000)"},
    {"a = \"\\u0000\"", 0, SYN, 1, 6, "NUL characters are not supported"},
    {"a = \"x\\\n\"", 0, SYN, 1, 7, "invalid escape sequence"},
    {"a = \"\"\"x\\ y\"\"\"", 0, SYN, 1, 9, "invalid escape sequence '\\ '"},
    {"a = \"a\x01"
     "b\"",
     0, SYN, 1, 7, "control character U+0001 in string"},
    {"a = 'a\x7f'", 0, SYN, 1, 7, "control character U+007F in string"},
    {"a = \"\"\"a\x1f\"\"\"", 0, SYN, 1, 9, "control character U+001F in string"},
    {"a = \"a\0b\"", 9, SYN, 1, 7, "control character U+0000 in string"},
    {"a = \"\"\"x\"\"\"\"\"\"", 0, SYN, 1, 14, "too many quotes"},
    {"a = '''x''''''", 0, SYN, 1, 14, "too many quotes"},
    {"a = \"\"\"\r\"\"\"", 0, SYN, 1, 8, "bare carriage return"},
    {"a = \"\"\"a\"\"\"b", 0, SYN, 1, 12, "expected end of line, found 'b'"},
    {"a = \"\xff\"", 0, SYN, 1, 6, "invalid UTF-8"},
    {"# \xc0\xaf overlong", 0, SYN, 1, 3, "invalid UTF-8"},
    {"a = 1\n# \xed\xa0\x80 surrogate", 0, SYN, 2, 3, "invalid UTF-8"},
    {"a = 1\n\n  \"\xe2\x82", 0, SYN, 3, 4, "invalid UTF-8"},
    /* integers and refused types */
    {"a = 01", 0, SYN, 1, 5, "invalid integer '01'"},
    {"a = 0_0", 0, SYN, 1, 5, "invalid integer '0_0'"},
    {"a = +01", 0, SYN, 1, 5, "invalid integer '+01'"},
    {"a = ++9", 0, SYN, 1, 5, "invalid integer '++9'"},
    {"a = -0xff", 0, SYN, 1, 5, "invalid integer '-0xff'"},
    {"a = 1_", 0, SYN, 1, 5, "invalid integer '1_'"},
    {"a = _1", 0, SYN, 1, 5, "invalid integer '_1'"},
    {"a = 1__2", 0, SYN, 1, 5, "invalid integer '1__2'"},
    {"a = 0x_1", 0, SYN, 1, 5, "invalid integer '0x_1'"},
    {"a = 0b1_", 0, SYN, 1, 5, "invalid integer '0b1_'"},
    {"a = 0xfg", 0, SYN, 1, 5, "invalid integer '0xfg'"},
    {"a = 0o8", 0, SYN, 1, 5, "invalid integer '0o8'"},
    {"a = 0b2", 0, SYN, 1, 5, "invalid integer '0b2'"},
    {"a = 0X1", 0, SYN, 1, 5, "invalid integer '0X1'"},
    {"a = 0x", 0, SYN, 1, 5, "invalid integer '0x'"},
    {"a = +", 0, SYN, 1, 5, "invalid integer '+'"},
    {"a = True", 0, SYN, 1, 5, "invalid value 'True' (strings must be quoted)"},
    {"a = truex", 0, SYN, 1, 5, "invalid value 'truex'"},
    {"a = yes", 0, SYN, 1, 5, "strings must be quoted"},
    {"a = 9223372036854775808", 0, VAL, 1, 5, "integer '9223372036854775808' is out of range"},
    {"a = -9223372036854775809", 0, VAL, 1, 5, "is out of range"},
    {"a = 0x8000000000000000", 0, VAL, 1, 5, "is out of range"},
    {"a = 0b1111111111111111111111111111111111111111111111111111111111111111", 0, VAL, 1, 5,
     "is out of range"},
    {"a = 1.5", 0, VAL, 1, 5, "floats are not supported"},
    {"a = 1e5", 0, VAL, 1, 5, "floats are not supported"},
    {"a = -inf", 0, VAL, 1, 5, "floats are not supported"},
    {"a = nan", 0, VAL, 1, 5, "floats are not supported"},
    {"a = [1, 2.0]", 0, VAL, 1, 9, "floats are not supported"},
    {"a = 1979-05-27", 0, VAL, 1, 5, "dates and times are not supported"},
    {"a = 1979-05-27T07:32:00Z", 0, VAL, 1, 5, "dates and times are not supported"},
    {"a = 1979-05-27 07:32:00", 0, VAL, 1, 5, "dates and times are not supported"},
    {"a = 07:32:00", 0, VAL, 1, 5, "dates and times are not supported"},
    /* line ends, comments, control characters */
    {"a = 1\r", 0, SYN, 1, 6, "bare carriage return"},
    {"\r\n\ra = 1", 0, SYN, 2, 1, "bare carriage return"},
    {"a = [1,\r2]", 0, SYN, 1, 8, "bare carriage return"},
    {"# c\x01", 0, SYN, 1, 4, "control character U+0001 in comment"},
    {"a = 1 # \x7f", 0, SYN, 1, 9, "control character U+007F in comment"},
    {"# c\rx", 0, SYN, 1, 4, "bare carriage return"},
    {"\x0c"
     "a = 1",
     0, SYN, 1, 1, "expected a key"},
    {"a = 1\x0b", 0, SYN, 1, 6, "expected end of line"},
    {"a\0 = 1", 6, SYN, 1, 2, "expected '=' after key"},
};

static void test_invalid_documents(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const struct bad_case *c = &bad_cases[i];
        size_t len = c->len ? c->len : strlen(c->text);
        struct gh_toml_doc *doc = (struct gh_toml_doc *)&doc; /* must stay untouched */
        struct gh_toml_doc *const sentinel = doc;
        struct gh_toml_error err;
        gh_err rc = gh_toml_parse(c->text, len, "bad.toml", &doc, &err);
        if (rc != c->code || err.line != c->line || err.col != c->col ||
            strstr(err.msg, c->msg) == NULL) {
            print_error("case %zu: want %s %u:%u \"%s\"\n      got %s %u:%u \"%s\"\n", i,
                        gh_err_name(c->code), c->line, c->col, c->msg, gh_err_name(rc), err.line,
                        err.col, err.msg);
            fail();
        }
        assert_ptr_equal(doc, sentinel);
        assert_string_equal(err.file, "bad.toml");
    }
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct gh_toml_doc *doc = NULL;
    struct gh_toml_error err;
    assert_int_equal(gh_toml_parse(NULL, 3, NULL, &doc, &err), GH_ERR_ARG);
    assert_int_equal(gh_toml_parse("a=1", 3, NULL, NULL, &err), GH_ERR_ARG);
    assert_int_equal(gh_toml_parse_file(NULL, &doc, &err), GH_ERR_ARG);
    assert_null(doc);
}

/* Nesting: a value at depth GH_TOML_MAX_DEPTH is fine, one deeper is not. */
static void test_depth_limit(void **state)
{
    (void)state;
    char text[512];
    struct gh_toml_doc *doc = NULL;
    struct gh_toml_error err;
    /* a = [[[...1...]]]: the array at depth 1 .. the integer at depth n+1 */
    for (unsigned arrays = GH_TOML_MAX_DEPTH - 1; arrays <= GH_TOML_MAX_DEPTH; arrays++) {
        size_t o = (size_t)snprintf(text, sizeof text, "a = ");
        for (unsigned i = 0; i < arrays; i++) text[o++] = '[';
        text[o++] = '1';
        for (unsigned i = 0; i < arrays; i++) text[o++] = ']';
        text[o] = '\0';
        gh_err rc = gh_toml_parse(text, o, NULL, &doc, &err);
        if (arrays + 1 <= GH_TOML_MAX_DEPTH) {
            assert_int_equal(rc, GH_OK);
            gh_toml_free(doc);
            doc = NULL;
        } else {
            assert_int_equal(rc, GH_ERR_TOO_MANY);
            assert_int_equal(err.line, 1);
            assert_int_equal(err.col, 5 + arrays); /* the innermost value */
            assert_non_null(strstr(err.msg, "nesting deeper than 32 levels"));
        }
    }
    /* the same through tables: a key of 33 parts is refused before anything */
    size_t o = 0;
    for (unsigned i = 0; i < GH_TOML_MAX_DEPTH + 1; i++) o += (size_t)snprintf(text + o, 8, "k.");
    o--; /* drop the last dot */
    o += (size_t)snprintf(text + o, 8, " = 1");
    assert_int_equal(gh_toml_parse(text, o, NULL, &doc, &err), GH_ERR_TOO_MANY);
    assert_non_null(strstr(err.msg, "key has more than 32 parts"));
    assert_int_equal(err.col, 2 * GH_TOML_MAX_DEPTH + 1);
    /* [k.k...k] with 32 parts, then a value inside it: depth 33 */
    o = (size_t)snprintf(text, sizeof text, "[");
    for (unsigned i = 0; i < GH_TOML_MAX_DEPTH; i++)
        o += (size_t)snprintf(text + o, 8, i ? ".k" : "k");
    o += (size_t)snprintf(text + o, 16, "]\nv = 1\n");
    assert_int_equal(gh_toml_parse(text, o, NULL, &doc, &err), GH_ERR_TOO_MANY);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.col, 5);
}

static void test_node_limit(void **state)
{
    (void)state;
    /* a = [0,0,...]: the array is one value, so MAX_NODES - 1 elements fit */
    size_t cap = 8 + 2 * (size_t)GH_TOML_MAX_NODES + 8;
    char *text = malloc(cap);
    assert_non_null(text);
    for (unsigned extra = 0; extra <= 1; extra++) {
        size_t o = (size_t)snprintf(text, cap, "a = [");
        for (unsigned i = 0; i < GH_TOML_MAX_NODES - 1 + extra; i++) {
            text[o++] = '0';
            text[o++] = ',';
        }
        text[o++] = ']';
        struct gh_toml_doc *doc = NULL;
        struct gh_toml_error err;
        gh_err rc = gh_toml_parse(text, o, NULL, &doc, &err);
        if (extra == 0) {
            assert_int_equal(rc, GH_OK);
            assert_int_equal(gh_toml_count(gh_toml_get(gh_toml_root(doc), "a")),
                             GH_TOML_MAX_NODES - 1);
            gh_toml_free(doc);
        } else {
            assert_int_equal(rc, GH_ERR_TOO_MANY);
            assert_non_null(strstr(err.msg, "more than 65536 values"));
            assert_int_equal(err.col, 6 + 2 * (GH_TOML_MAX_NODES - 1));
        }
    }
    free(text);
}

static void test_size_limit(void **state)
{
    (void)state;
    size_t len = GH_TOML_MAX_INPUT + 1;
    char *text = malloc(len);
    assert_non_null(text);
    memset(text, '\n', len);
    struct gh_toml_doc *doc = NULL;
    struct gh_toml_error err;
    assert_int_equal(gh_toml_parse(text, len, "big.toml", &doc, &err), GH_ERR_TOO_LARGE);
    assert_int_equal(err.line, 0);
    assert_non_null(strstr(err.msg, "larger than"));
    assert_int_equal(gh_toml_parse(text, len - 1, "big.toml", &doc, &err), GH_OK);
    gh_toml_free(doc);
    free(text);
}

static char *temp_path(const char *name)
{
    static char path[256];
    const char *dir = getenv("GH_BINARY_DIR");
    snprintf(path, sizeof path, "%s/test_toml_%ld_%s", dir ? dir : "/tmp", (long)getpid(), name);
    return path;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void test_parse_file(void **state)
{
    (void)state;
    struct gh_toml_doc *doc = NULL;
    struct gh_toml_error err;
    char *path = temp_path("ok.toml");
    write_file(path, "[a]\nb = 'c'\n", 12);
    assert_int_equal(gh_toml_parse_file(path, &doc, &err), GH_OK);
    assert_string_equal(gh_toml_doc_file(doc), path);
    assert_non_null(gh_toml_get(gh_toml_root(doc), "a.b"));
    gh_toml_free(doc);
    doc = NULL;

    write_file(path, "[a]\nb = c\n", 10);
    assert_int_equal(gh_toml_parse_file(path, &doc, &err), GH_ERR_CONFIG_SYNTAX);
    assert_string_equal(err.file, path);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.col, 5);
    assert_null(doc);

    /* larger than the limit */
    char *big = calloc(1, GH_TOML_MAX_INPUT + 1);
    assert_non_null(big);
    memset(big, ' ', GH_TOML_MAX_INPUT + 1);
    write_file(path, big, GH_TOML_MAX_INPUT + 1);
    free(big);
    assert_int_equal(gh_toml_parse_file(path, &doc, &err), GH_ERR_TOO_LARGE);
    assert_non_null(strstr(err.msg, "larger than"));
    assert_int_equal(unlink(path), 0);

    assert_int_equal(gh_toml_parse_file(path, &doc, &err), GH_ERR_NOENT);
    assert_non_null(strstr(err.msg, "cannot open"));
    assert_non_null(strstr(err.msg, "test_toml_"));
    assert_int_equal(err.line, 0);
    assert_int_equal(gh_toml_parse_file("/nonexistent-dir/x/config.toml", &doc, &err),
                     GH_ERR_NOENT);

    /* files fstat cannot size: read until the end, or past the limit */
    assert_int_equal(gh_toml_parse_file("/dev/null", &doc, &err), GH_OK);
    assert_int_equal(gh_toml_count(gh_toml_root(doc)), 0);
    gh_toml_free(doc);
    doc = NULL;
    assert_int_equal(gh_toml_parse_file("/dev/zero", &doc, &err), GH_ERR_TOO_LARGE);
    assert_null(doc);

    char *dir = temp_path("dir");
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(gh_toml_parse_file(dir, &doc, &err), GH_ERR_IO);
    assert_non_null(strstr(err.msg, "cannot read"));
    assert_int_equal(rmdir(dir), 0);
    assert_null(doc);
}

static void test_parse_file_permission(void **state)
{
    (void)state;
    if (geteuid() == 0) skip(); /* root reads mode-000 files */
    struct gh_toml_doc *doc = NULL;
    struct gh_toml_error err;
    char *path = temp_path("noperm.toml");
    write_file(path, "a = 1\n", 6);
    assert_int_equal(chmod(path, 0), 0);
    assert_int_equal(gh_toml_parse_file(path, &doc, &err), GH_ERR_PERM);
    assert_non_null(strstr(err.msg, "cannot open"));
    assert_int_equal(unlink(path), 0);
    assert_null(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid_documents),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_node_limit),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_parse_file),
        cmocka_unit_test(test_parse_file_permission),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
