/* The management CLI's command table and command-line parser; docs/cli.md
 * documents every command and option. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt/mgmt.h"
#include "mgmt/mgmt_int.h"

static gh_err parse(const char *group, const char *name, struct gh_mgmt_args *a, char *msg,
                    const char *const *words, int n)
{
    const struct gh_mgmt_cmd *cmd = gh_mgmt_cmd_find(group, name);
    assert_non_null(cmd);
    char *argv[64];
    for (int i = 0; i < n; i++) argv[i] = (char *)words[i];
    return gh_mgmt_args_parse(cmd, n, argv, a, msg, 256);
}

#define PARSE(g, n, a, msg, ...)                                                                   \
    parse(g, n, a, msg, (const char *const[]){__VA_ARGS__},                                        \
          (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)))

static void test_table(void **state)
{
    (void)state;
    size_t n = 0;
    for (const struct gh_mgmt_cmd *c; (c = gh_mgmt_cmd_at(n)) != NULL; n++) {
        assert_true((c->opts & GH_MOPT_COMMON) == GH_MOPT_COMMON);
        assert_true(c->max_pos <= GH_MGMT_POS_MAX);
        assert_true(c->min_pos <= c->max_pos);
        assert_non_null(c->run);
        assert_ptr_equal(gh_mgmt_cmd_find(c->group, c->name), c);
    }
    assert_int_equal(n, 23);
    assert_null(gh_mgmt_cmd_find("device", "nope"));
    assert_null(gh_mgmt_cmd_find(NULL, "list"));
    for (int o = 0; o < GH_MOPT_COUNT; o++) {
        const struct gh_mgmt_opt_info *i = gh_mgmt_opt_info((enum gh_mgmt_opt)o);
        assert_non_null(i);
        assert_non_null(i->name);
        assert_non_null(i->help);
        assert_true(strncmp(i->name, "--", 2) == 0);
    }
    assert_null(gh_mgmt_opt_info(GH_MOPT_COUNT));
}

static void test_forms(void **state)
{
    (void)state;
    struct gh_mgmt_args a;
    char msg[256] = "";
    assert_int_equal(PARSE("device", "create", &a, msg, "th-01", "--edge", "--parent", "gw",
                           "--primary-key=abc=", "--json"),
                     GH_OK);
    assert_int_equal(a.npos, 1);
    assert_string_equal(a.pos[0], "th-01");
    assert_true(a.given[GH_MOPT_EDGE]);
    assert_null(a.val[GH_MOPT_EDGE]);
    assert_string_equal(a.val[GH_MOPT_PARENT], "gw");
    assert_string_equal(a.val[GH_MOPT_PRIMARY_KEY], "abc="); /* split at the first '=' */
    assert_true(a.given[GH_MOPT_JSON]);
    assert_false(a.given[GH_MOPT_DISABLED]);
    /* "--" ends the options; a value may start with '-'. */
    assert_int_equal(PARSE("method", "invoke", &a, msg, "--payload", "-1", "--", "-dev", "--m"),
                     GH_OK);
    assert_string_equal(a.val[GH_MOPT_PAYLOAD], "-1");
    assert_int_equal(a.npos, 2);
    assert_string_equal(a.pos[0], "-dev");
    assert_string_equal(a.pos[1], "--m");
    /* "-" alone is an argument. */
    assert_int_equal(PARSE("c2d", "send", &a, msg, "-", "--body-file", "-"), GH_OK);
    assert_string_equal(a.pos[0], "-");
    assert_string_equal(a.val[GH_MOPT_BODY_FILE], "-");
}

static void test_properties(void **state)
{
    (void)state;
    struct gh_mgmt_args a;
    char msg[256] = "";
    assert_int_equal(PARSE("c2d", "send", &a, msg, "d", "--property", "a=1", "--property=b=2"),
                     GH_OK);
    assert_int_equal(a.nprops, 2);
    assert_string_equal(a.props[0], "a=1");
    assert_string_equal(a.props[1], "b=2");
    const struct gh_mgmt_cmd *cmd = gh_mgmt_cmd_find("c2d", "send");
    char *argv[2 * GH_MGMT_PROPS_MAX + 4];
    int n = 0;
    argv[n++] = "d";
    for (int i = 0; i <= GH_MGMT_PROPS_MAX; i++) {
        argv[n++] = "--property";
        argv[n++] = "k=v";
    }
    assert_int_equal(gh_mgmt_args_parse(cmd, n - 2, argv, &a, msg, sizeof msg), GH_OK);
    assert_int_equal(a.nprops, GH_MGMT_PROPS_MAX);
    assert_int_equal(gh_mgmt_args_parse(cmd, n, argv, &a, msg, sizeof msg), GH_ERR_USAGE);
    assert_non_null(strstr(msg, "at most"));
}

static void test_errors(void **state)
{
    (void)state;
    struct gh_mgmt_args a;
    char msg[256] = "";
    assert_int_equal(PARSE("device", "list", &a, msg, "--bogus"), GH_ERR_USAGE);
    assert_non_null(strstr(msg, "unknown option '--bogus'"));
    assert_int_equal(PARSE("device", "list", &a, msg, "--bogus=1"), GH_ERR_USAGE);
    assert_non_null(strstr(msg, "unknown option '--bogus'"));
    assert_int_equal(PARSE("device", "list", &a, msg, "--edge"), GH_ERR_USAGE);
    assert_non_null(strstr(msg, "'device list' does not take --edge"));
    assert_int_equal(PARSE("device", "show", &a, msg, "x", "--timeout"), GH_ERR_USAGE);
    assert_non_null(strstr(msg, "--timeout needs a value"));
    assert_int_equal(PARSE("device", "show", &a, msg, "x", "--json=yes"), GH_ERR_USAGE);
    assert_non_null(strstr(msg, "--json takes no value"));
    assert_int_equal(PARSE("device", "show", &a, msg, "x", "--port", "1", "--port", "2"),
                     GH_ERR_USAGE);
    assert_non_null(strstr(msg, "--port given twice"));
    assert_int_equal(PARSE("device", "show", &a, msg, "x", "y"), GH_ERR_USAGE);
    assert_non_null(strstr(msg, "unexpected argument 'y'"));
    assert_int_equal(PARSE("device", "show", &a, msg, "--json"), GH_ERR_USAGE);
    assert_non_null(strstr(msg, "missing argument"));
    assert_int_equal(PARSE("method", "invoke", &a, msg, "dev"), GH_ERR_USAGE);
    assert_int_equal(PARSE("ca", "list", &a, msg, "x"), GH_ERR_USAGE);
    /* --help (or -h) skips the argument count. */
    assert_int_equal(PARSE("device", "show", &a, msg, "-h"), GH_OK);
    assert_true(a.given[GH_MOPT_HELP]);
    assert_int_equal(PARSE("method", "invoke", &a, msg, "--help"), GH_OK);
    assert_int_equal(PARSE("ca", "list", &a, msg, "-x"), GH_ERR_USAGE);
}

static char *capture(void (*fn)(FILE *, const void *), const void *arg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    fn(f, arg);
    fclose(f);
    return buf;
}

static void help_cmd(FILE *f, const void *arg)
{
    gh_mgmt_help_command(f, arg);
}

static void help_group(FILE *f, const void *arg)
{
    gh_mgmt_help_group(f, arg);
}

static void test_help(void **state)
{
    (void)state;
    const struct gh_mgmt_cmd *cmd = gh_mgmt_cmd_find("c2d", "send");
    char *h = capture(help_cmd, cmd);
    assert_non_null(strstr(h, "usage: gatehouse c2d send ID"));
    assert_non_null(strstr(h, "--property NAME=VALUE"));
    assert_non_null(strstr(h, "--connection-string CS"));
    assert_null(strstr(h, "--show-keys")); /* not an option of c2d send */
    for (char *p = h; (p = strchr(p, '\n')) != NULL; p++) {
        char *next = strchr(p + 1, '\n');
        if (next) assert_true(next - p - 1 <= 100); /* lines fit 100 columns */
    }
    free(h);
    h = capture(help_group, "ca");
    assert_non_null(strstr(h, "usage: gatehouse ca <command>"));
    assert_non_null(strstr(h, "  verify"));
    assert_null(strstr(h, "  invoke"));
    free(h);
}

static void test_main_usage(void **state)
{
    (void)state;
    char *argv1[] = {"device", "frobnicate", NULL};
    assert_int_equal(gh_mgmt_main(2, argv1), 2);
    char *argv2[] = {"device", "list", "--port", "0", NULL};
    assert_int_equal(gh_mgmt_main(4, argv2), 2);
    char *argv3[] = {"nope", NULL};
    assert_int_equal(gh_mgmt_main(1, argv3), 2);
    char *argv4[] = {"twin", "update", "d", "--connection-string", "x", NULL};
    assert_int_equal(gh_mgmt_main(5, argv4), 2); /* no --desired/--tags/--patch */
    /* A bad connection string is a configuration error (3), before any I/O. */
    char *argv5[] = {"device", "list", "--connection-string",
                     "HostName=a.b;DeviceId=d;"
                     "SharedAccessKey=AAAA",
                     NULL};
    assert_int_equal(gh_mgmt_main(4, argv5), 3);
    char *argv6[] = {"device", "show", "bad/id", NULL};
    assert_int_equal(gh_mgmt_main(3, argv6), 2);
}

/* docs/cli.md names every command and every option. */
static void test_docs(void **state)
{
    (void)state;
    const char *src = getenv("GH_SOURCE_DIR");
    assert_non_null(src);
    char path[1024];
    snprintf(path, sizeof path, "%s/docs/cli.md", src);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char doc[256 * 1024];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[n] = '\0';
    const struct gh_mgmt_cmd *c;
    for (size_t i = 0; (c = gh_mgmt_cmd_at(i)) != NULL; i++) {
        char heading[128];
        snprintf(heading, sizeof heading, "gatehouse %s %s", c->group, c->name);
        if (strstr(doc, heading) == NULL) fail_msg("docs/cli.md does not document '%s'", heading);
    }
    for (int o = 0; o < GH_MOPT_COUNT; o++) {
        const char *name = gh_mgmt_opt_info((enum gh_mgmt_opt)o)->name;
        char quoted[64];
        snprintf(quoted, sizeof quoted, "`%s", name);
        if (strstr(doc, quoted) == NULL) fail_msg("docs/cli.md does not document %s", name);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),      cmocka_unit_test(test_forms),
        cmocka_unit_test(test_properties), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_help),       cmocka_unit_test(test_main_usage),
        cmocka_unit_test(test_docs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
