/* gatehouse sim: option parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim/sim.h"

#define MSG_CAP 256
#define ARGV_MAX 64

/* Parse a NULL-terminated list of arguments after "sim". */
static gh_err parse(struct gh_sim_opts *o, char *msg, const char *first, ...)
{
    char *argv[ARGV_MAX];
    int argc = 0;
    argv[argc++] = (char *)"sim";
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a != NULL && argc < ARGV_MAX; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    assert_true(argc < ARGV_MAX); /* the list fitted */
    va_end(ap);
    msg[0] = '\0';
    return gh_sim_opts_parse(argc, argv, o, msg, MSG_CAP);
}

static void test_defaults(void **state)
{
    struct gh_sim_opts o;
    char msg[MSG_CAP];
    assert_int_equal(parse(&o, msg, "--hub", "hub.example.test", NULL), GH_OK);
    assert_int_equal(o.devices, GH_SIM_DEVICES_DEFAULT);
    assert_string_equal(o.prefix, "sim-");
    assert_int_equal(o.auth, GH_SIM_AUTH_SAS);
    assert_int_equal(o.port, 8883);
    assert_int_equal(o.https_port, 443);
    assert_int_equal(o.qos, 1);
    assert_true(o.create);
    assert_true(o.progress);
    assert_false(o.json);
    assert_int_equal(o.messages, 0);
    assert_int_equal(o.duration_s, 0);
    assert_int_equal(o.drain_s, GH_SIM_DRAIN_DEFAULT_S);
    assert_int_equal(o.token_ttl_s, GH_SIM_TOKEN_TTL_DEFAULT_S);
    assert_true(o.rate == GH_SIM_RATE_DEFAULT);
    assert_true(o.connect_rate == GH_SIM_CONNECT_RATE_DEFAULT);
}

static void test_all_values(void **state)
{
    struct gh_sim_opts o;
    char msg[MSG_CAP];
    assert_int_equal(
        parse(&o, msg, "--devices", "2000", "--prefix=car-", "--auth", "x509", "--ca-cert", "t.pem",
              "--ca-key", "t.key", "--parent", "gw1", "--hub", "hub.test:9883", "--gateway",
              "gw.test", "--address", "127.0.0.76", "--ca", "trust.pem", "--connect-rate", "50",
              "--rate", "2.5", "--rate-per-device", "--qos", "0", "--messages", "100000",
              "--duration", "5m", "--drain", "30s", "--keepalive", "1m", "--token-ttl", "2h",
              "--window", "64", "--json", "--no-progress", "--https-port", "8443",
              "--https-address", "127.0.0.75", "--work-dir", "/tmp/x", "--log-level", "info", NULL),
        GH_OK);
    assert_string_equal(msg, "");
    assert_int_equal(o.devices, 2000);
    assert_string_equal(o.prefix, "car-");
    assert_int_equal(o.auth, GH_SIM_AUTH_X509);
    assert_string_equal(o.parent, "gw1");
    assert_string_equal(o.hub, "hub.test:9883");
    assert_string_equal(o.gateway, "gw.test");
    assert_true(o.connect_rate == 50.0);
    assert_true(o.rate == 2.5);
    assert_true(o.rate_per_device);
    assert_int_equal(o.qos, 0);
    assert_int_equal(o.messages, 100000);
    assert_int_equal(o.duration_s, 300);
    assert_int_equal(o.drain_s, 30);
    assert_int_equal(o.keepalive_s, 60);
    assert_int_equal(o.token_ttl_s, 7200);
    assert_int_equal(o.window, 64);
    assert_true(o.json);
    assert_false(o.progress);
    assert_int_equal(o.https_port, 8443);
    assert_string_equal(o.https_address, "127.0.0.75");
    assert_string_equal(o.work_dir, "/tmp/x");
}

static void test_bench_options(void **state)
{
    struct gh_sim_opts o;
    char msg[MSG_CAP];
    assert_int_equal(parse(&o, msg, "--hub", "h.example.test", NULL), GH_OK);
    assert_false(o.plain);
    assert_false(o.reconnect);
    assert_false(o.reuse_certs);
    assert_int_equal(o.payload_size, GH_SIM_PAYLOAD_DEFAULT);
    assert_int_equal(o.key_type, GH_PKI_KEY_EC_P256);
    assert_int_equal(parse(&o, msg, "--hub", "h.example.test", "--plain", "--payload-size", "128",
                           "--rate", "max", "--auth", "x509", "--ca-cert", "c", "--ca-key", "k",
                           "--key-type", "rsa-2048", "--work-dir", "/tmp/x", "--reuse-certs", NULL),
                     GH_OK);
    assert_true(o.plain);
    assert_int_equal(o.payload_size, 128);
    assert_true(o.rate == GH_SIM_RATE_MAX);
    assert_int_equal(o.key_type, GH_PKI_KEY_RSA_2048);
    assert_true(o.reuse_certs);
    assert_int_equal(
        parse(&o, msg, "--hub", "h.example.test", "--reconnect", "--duration", "5s", NULL), GH_OK);
    assert_true(o.reconnect);
    /* errors */
    assert_int_equal(parse(&o, msg, "--hub", "h.example.test", "--payload-size", "49", NULL),
                     GH_ERR_ARG);
    assert_int_equal(parse(&o, msg, "--hub", "h.example.test", "--payload-size", "513", NULL),
                     GH_ERR_ARG);
    assert_int_equal(parse(&o, msg, "--hub", "h.example.test", "--key-type", "dsa", NULL),
                     GH_ERR_ARG);
    assert_int_equal(parse(&o, msg, "--hub", "h.example.test", "--rate", "maximum", NULL),
                     GH_ERR_ARG);
    assert_int_equal(parse(&o, msg, "--hub", "h.example.test", "--reuse-certs", NULL),
                     GH_ERR_USAGE);
    assert_int_equal(
        parse(&o, msg, "--hub", "h.example.test", "--reconnect", "--messages", "5", NULL),
        GH_ERR_USAGE);
}

static void test_help(void **state)
{
    struct gh_sim_opts o;
    char msg[MSG_CAP];
    /* --help skips the consistency checks (no hub given). */
    assert_int_equal(parse(&o, msg, "--help", NULL), GH_OK);
    assert_true(o.help);
    FILE *f = tmpfile();
    assert_non_null(f);
    gh_sim_help(f);
    long n = ftell(f);
    fclose(f);
    assert_true(n > 500);
}

static void test_usage_errors(void **state)
{
    struct gh_sim_opts o;
    char msg[MSG_CAP];
    unsetenv("GATEHOUSE_CONNECTION_STRING");
    assert_int_equal(parse(&o, msg, "--bogus", NULL), GH_ERR_USAGE);
    assert_non_null(strstr(msg, "--bogus"));
    assert_int_equal(parse(&o, msg, "positional", NULL), GH_ERR_USAGE);
    assert_int_equal(parse(&o, msg, "--", NULL), GH_ERR_USAGE);
    assert_int_equal(parse(&o, msg, "--hub", NULL), GH_ERR_USAGE);
    assert_non_null(strstr(msg, "needs a value"));
    assert_int_equal(parse(&o, msg, "--hub", "h.test", "--json=1", NULL), GH_ERR_USAGE);
    /* no hub at all */
    assert_int_equal(parse(&o, msg, "--devices", "3", NULL), GH_ERR_USAGE);
    /* a connection string is enough to name the hub */
    assert_int_equal(parse(&o, msg, "--connection-string", "x", NULL), GH_OK);
    setenv("GATEHOUSE_CONNECTION_STRING", "x", 1);
    assert_int_equal(parse(&o, msg, "--devices", "3", NULL), GH_OK);
    unsetenv("GATEHOUSE_CONNECTION_STRING");
    assert_int_equal(parse(&o, msg, "--hub", "h", "--connection-string", "a",
                           "--connection-string-file", "b", NULL),
                     GH_ERR_USAGE);
    assert_int_equal(parse(&o, msg, "--hub", "h", "--auth", "x509", NULL), GH_ERR_USAGE);
    assert_int_equal(parse(&o, msg, "--hub", "h", "--auth", "x509", "--ca-cert", "c", NULL),
                     GH_ERR_USAGE);
    assert_int_equal(parse(&o, msg, "--hub", "h", "--auth", "x509", "--ca-cert", "c", "--ca-key",
                           "k", "--group-key", "Zm9v", NULL),
                     GH_ERR_USAGE);
    assert_int_equal(parse(&o, msg, "--hub", "h", "--ca-cert", "c", NULL), GH_ERR_USAGE);
    assert_int_equal(parse(&o, msg, "--hub", "h", "--group-key", "Zm9v", "--parent", "gw", NULL),
                     GH_ERR_USAGE);
    assert_int_equal(parse(&o, msg, "--hub", "h", "--no-create", "--parent", "gw", NULL),
                     GH_ERR_USAGE);
    assert_int_equal(parse(&o, msg, "--hub", "h", "--group-key", "Zm9v", NULL), GH_OK);
}

static void test_bad_values(void **state)
{
    struct gh_sim_opts o;
    char msg[MSG_CAP];
    static const char *const bad[][2] = {
        {"--devices", "0"},
        {"--devices", "100001"},
        {"--devices", "-1"},
        {"--devices", "12x"},
        {"--devices", ""},
        {"--auth", "psk"},
        {"--https-port", "0"},
        {"--https-port", "65536"},
        {"--connect-rate", "0"},
        {"--rate", "-5"},
        {"--rate", "nan"},
        {"--rate", "1e9"},
        {"--rate", "2/s"},
        {"--qos", "2"},
        {"--messages", "0"},
        {"--duration", "0"},
        {"--duration", "5d"},
        {"--duration", "m"},
        {"--drain", "11m"},
        {"--keepalive", "20h"},
        {"--token-ttl", "59"},
        {"--window", "0"},
        {"--window", "4097"},
        {"--log-level", "loud"},
        {"--prefix", "0123456789012345678901234567890123456789012345678901234567890123456789"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(&o, msg, "--hub", "h", bad[i][0], bad[i][1], NULL), GH_ERR_ARG);
        assert_non_null(strstr(msg, bad[i][0]));
    }
}

static void test_hostport(void **state)
{
    char h[GH_SIM_HOST_MAX + 1];
    uint16_t port = 8883;
    assert_int_equal(gh_sim_hostport_parse("hub.test", h, sizeof h, &port), GH_OK);
    assert_string_equal(h, "hub.test");
    assert_int_equal(port, 8883);
    assert_int_equal(gh_sim_hostport_parse("hub.test:1883", h, sizeof h, &port), GH_OK);
    assert_string_equal(h, "hub.test");
    assert_int_equal(port, 1883);
    assert_int_equal(gh_sim_hostport_parse("[::1]:99", h, sizeof h, &port), GH_OK);
    assert_string_equal(h, "::1");
    assert_int_equal(port, 99);
    assert_int_equal(gh_sim_hostport_parse("[::1]", h, sizeof h, &port), GH_OK);
    assert_int_equal(port, 99);
    port = 1;
    assert_int_equal(gh_sim_hostport_parse("", h, sizeof h, &port), GH_ERR_ARG);
    assert_int_equal(gh_sim_hostport_parse(":80", h, sizeof h, &port), GH_ERR_ARG);
    assert_int_equal(gh_sim_hostport_parse("h:0", h, sizeof h, &port), GH_ERR_ARG);
    assert_int_equal(gh_sim_hostport_parse("h:65536", h, sizeof h, &port), GH_ERR_ARG);
    assert_int_equal(gh_sim_hostport_parse("h:", h, sizeof h, &port), GH_ERR_ARG);
    assert_int_equal(gh_sim_hostport_parse("::1", h, sizeof h, &port), GH_ERR_ARG);
    assert_int_equal(gh_sim_hostport_parse("[::1", h, sizeof h, &port), GH_ERR_ARG);
    assert_int_equal(gh_sim_hostport_parse("[::1]x", h, sizeof h, &port), GH_ERR_ARG);
    assert_int_equal(gh_sim_hostport_parse("abcdef", h, 4, &port), GH_ERR_ARG);
    assert_int_equal(gh_sim_hostport_parse(NULL, h, sizeof h, &port), GH_ERR_ARG);
    assert_int_equal(port, 1); /* unchanged on error */
    char big[GH_SIM_HOST_MAX + 8];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char out[sizeof big];
    assert_int_equal(gh_sim_hostport_parse(big, out, sizeof out, &port), GH_ERR_ARG);
}

static void test_duration(void **state)
{
    int64_t d = 0;
    assert_int_equal(gh_sim_duration_parse("90", 1000, &d), GH_OK);
    assert_int_equal(d, 90);
    assert_int_equal(gh_sim_duration_parse("30s", 1000, &d), GH_OK);
    assert_int_equal(d, 30);
    assert_int_equal(gh_sim_duration_parse("2m", 1000, &d), GH_OK);
    assert_int_equal(d, 120);
    assert_int_equal(gh_sim_duration_parse("1h", 3600, &d), GH_OK);
    assert_int_equal(d, 3600);
    d = 7;
    assert_int_equal(gh_sim_duration_parse("2h", 3600, &d), GH_ERR_ARG);
    assert_int_equal(gh_sim_duration_parse("0s", 3600, &d), GH_ERR_ARG);
    assert_int_equal(gh_sim_duration_parse("1ms", 3600, &d), GH_ERR_ARG);
    assert_int_equal(gh_sim_duration_parse(" 1", 3600, &d), GH_ERR_ARG);
    assert_int_equal(gh_sim_duration_parse("99999999999999999999999", INT64_MAX, &d), GH_ERR_ARG);
    assert_int_equal(gh_sim_duration_parse(NULL, 3600, &d), GH_ERR_ARG);
    assert_int_equal(d, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),   cmocka_unit_test(test_all_values),
        cmocka_unit_test(test_help),       cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_bad_values), cmocka_unit_test(test_hostport),
        cmocka_unit_test(test_duration),   cmocka_unit_test(test_bench_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
