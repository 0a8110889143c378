/* `gatehouse edge` in-process: exit statuses of usage errors, config apply
 * (writes 0600, refuses bad files without touching the active config),
 * pid-file states, status/stop when not running, logs. The daemon commands
 * against a real gateway are in tests/e2e/edge_cli.test.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "edge/config.h"
#include "edge/edge_cli.h"
#include "edge/edge_cli_int.h"
#include "edge_test_util.h"

#define GOOD                                                                                       \
    BASE MANUAL_HEAD "[provisioning.authentication]\ndevice_id_pk = { value = \"" KEY "\" }\n"

static int cli(const char *a0, const char *a1, const char *a2, const char *a3, const char *a4)
{
    char *argv[8];
    int argc = 0;
    const char *args[] = {"edge", a0, a1, a2, a3, a4};
    for (size_t i = 0; i < sizeof args / sizeof *args && args[i]; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    fflush(stdout);
    return gh_edge_cli_main(argc, argv);
}

static char *active_path(void)
{
    static char p[400];
    snprintf(p, sizeof p, "%s/config.toml", home_dir());
    return p;
}

static void test_usage(void **state)
{
    (void)state;
    assert_int_equal(cli(NULL, NULL, NULL, NULL, NULL), 2);
    assert_int_equal(cli("frobnicate", NULL, NULL, NULL, NULL), 2);
    assert_int_equal(cli("--help", NULL, NULL, NULL, NULL), 0);
    assert_int_equal(cli("config", NULL, NULL, NULL, NULL), 2);
    assert_int_equal(cli("config", "apply", "--bogus", NULL, NULL), 2);
    assert_int_equal(cli("status", "--bogus", "--home", home_dir(), NULL), 2);
    assert_int_equal(cli("logs", "-n", "x", "--home", home_dir()), 2);
    assert_int_equal(cli("logs", "-n", "-3", "--home", home_dir()), 2);
    assert_int_equal(cli("check", "--bogus", "--home", home_dir(), NULL), 2);
    assert_int_equal(cli("version", "--bogus", NULL, NULL, NULL), 2);
    assert_int_equal(cli("status", "--home", NULL, NULL, NULL), 2);
    for (const char *const *c = (const char *const[]){"run", "start", "stop", "restart", "status",
                                                      "logs", "check", "version", NULL};
         *c; c++)
        assert_int_equal(cli(*c, "--help", NULL, NULL, NULL), 0);
    assert_int_equal(cli("config", "apply", "--help", NULL, NULL), 0);
}

static void test_config_apply(void **state)
{
    (void)state;
    char src[400];
    snprintf(src, sizeof src, "%s/gw.toml", tmp_dir());
    write_file("gw.toml", GOOD, strlen(GOOD));
    assert_int_equal(cli("config", "apply", "-c", src, "--home"), 2); /* --home needs a value */
    char *argv[] = {"edge", "config", "apply", "-c", src, "--home", (char *)home_dir(), NULL};
    assert_int_equal(gh_edge_cli_main(7, argv), 0);
    struct stat sb;
    assert_int_equal(stat(active_path(), &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal((size_t)sb.st_size, strlen(GOOD));
    /* A bad file: exit 3, the active config is unchanged. */
    write_file("gw.toml", "hostname = 1\n", 13);
    assert_int_equal(gh_edge_cli_main(7, argv), 3);
    write_file("gw.toml", BASE "[provisioning]\nsource = \"manual\"\n",
               strlen(BASE "[provisioning]\nsource = \"manual\"\n"));
    assert_int_equal(gh_edge_cli_main(7, argv), 3);
    /* A relative reference that would move: refused. */
    const char *rel = "hostname = \"edge.gatehouse.test\"\n[edge_ca]\ncert = \"ca.pem\"\n"
                      "pk = \"/k.pem\"\n" MANUAL_HEAD
                      "[provisioning.authentication]\ndevice_id_pk = { value = \"" KEY "\" }\n";
    write_file("gw.toml", rel, strlen(rel));
    assert_int_equal(gh_edge_cli_main(7, argv), 3);
    unlink(src);
    assert_int_equal(gh_edge_cli_main(7, argv), 4);
    assert_int_equal(stat(active_path(), &sb), 0);
    assert_int_equal((size_t)sb.st_size, strlen(GOOD));
    /* Applying the active file itself. */
    char *self[] = {"edge",   "config",           "apply", "-c", active_path(),
                    "--home", (char *)home_dir(), NULL};
    assert_int_equal(gh_edge_cli_main(7, self), 0);
}

static void test_pid_states(void **state)
{
    (void)state;
    struct gh_edge_daemon st;
    gh_edge_cli_daemon_state(home_dir(), &st);
    assert_false(st.running);
    assert_false(st.stale);
    assert_int_equal(st.pid, 0);
    write_file("home/edge.pid", "garbage\n", 8);
    gh_edge_cli_daemon_state(home_dir(), &st);
    assert_false(st.running);
    assert_true(st.stale);
    write_file("home/edge.pid", "", 0);
    gh_edge_cli_daemon_state(home_dir(), &st);
    assert_true(st.stale);
    /* A process that is gone. */
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) _exit(0);
    assert_int_equal(waitpid(child, NULL, 0), child);
    char text[32];
    int n = snprintf(text, sizeof text, "%d\n", (int)child);
    write_file("home/edge.pid", text, (size_t)n);
    gh_edge_cli_daemon_state(home_dir(), &st);
    assert_false(st.running);
    assert_true(st.stale);
    assert_int_equal(st.pid, child);
    assert_int_equal(gh_edge_cli_signal(&st, 0), GH_ERR_CLOSED);
    /* A live process that is not a gateway (this test): not running. */
    n = snprintf(text, sizeof text, "%d\n", (int)getpid());
    write_file("home/edge.pid", text, (size_t)n);
    gh_edge_cli_daemon_state(home_dir(), &st);
    assert_false(st.running);
    assert_true(st.stale);
}

static void test_not_running(void **state)
{
    (void)state;
    write_file("home/config.toml", GOOD, strlen(GOOD));
    assert_int_equal(cli("status", "--home", home_dir(), NULL, NULL), 5);
    assert_int_equal(cli("status", "--json", "--home", home_dir(), NULL), 5);
    assert_int_equal(cli("stop", "--home", home_dir(), NULL, NULL), 0);
    /* A stale pid file is removed by stop. */
    write_file("home/edge.pid", "999999999\n", 10);
    assert_int_equal(cli("stop", "--home", home_dir(), NULL, NULL), 0);
    char p[400];
    snprintf(p, sizeof p, "%s/edge.pid", home_dir());
    assert_int_equal(access(p, F_OK), -1);
    /* No active config: run and start say so (io), version still works. */
    unlink(active_path());
    assert_int_equal(cli("run", "--home", home_dir(), NULL, NULL), 4);
    assert_int_equal(cli("start", "--home", home_dir(), NULL, NULL), 4);
    assert_int_equal(cli("version", "--home", home_dir(), NULL, NULL), 0);
    assert_int_equal(cli("check", "--home", home_dir(), NULL, NULL), 4);
}

static void test_logs(void **state)
{
    (void)state;
    assert_int_equal(cli("logs", "--home", home_dir(), NULL, NULL), 4);
    write_file("home/edge.log", "a\nb\nc\n", 6);
    assert_int_equal(cli("logs", "-n", "2", "--home", home_dir()), 0);
    assert_int_equal(cli("logs", "-n", "0", "--home", home_dir()), 0);
    assert_int_equal(cli("logs", "--home", home_dir(), NULL, NULL), 0);
}

static void test_identity(void **state)
{
    (void)state;
    char dev[64], hub[64];
    assert_int_equal(gh_edge_cli_identity(home_dir(), dev, sizeof dev, hub, sizeof hub),
                     GH_ERR_NOENT);
    write_file("home/identity.json", "{\"deviceId\":1}", 14);
    assert_int_equal(gh_edge_cli_identity(home_dir(), dev, sizeof dev, hub, sizeof hub),
                     GH_ERR_BAD_JSON);
    const char *id = "{\"version\":1,\"hub\":\"hub.test\",\"deviceId\":\"gw\",\"key\":\"" KEY "\"}";
    write_file("home/identity.json", id, strlen(id));
    assert_int_equal(gh_edge_cli_identity(home_dir(), dev, sizeof dev, hub, sizeof hub), GH_OK);
    assert_string_equal(dev, "gw");
    assert_string_equal(hub, "hub.test");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_apply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pid_states, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_running, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
