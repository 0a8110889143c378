/* The gateway identity without a network: the identity file (render,
 * parse, save, load with its permission and size rules), the DPS answer
 * decoder, manual provisioning, the cache match rule, the gateway's SAS
 * token, and the start-up policy with a cache and an unreachable DPS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "edge/provision.h"
#include "edge/provision_int.h"
#include "iothub/sas.h"

#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define GOOD                                                                                       \
    "{\"version\":1,\"source\":\"dps\",\"hub\":\"hub.example.test\",\"deviceId\":\"edge-01\","     \
    "\"auth\":\"sas\",\"key\":\"" KEY "\",\"provisionedMs\":1767225600000,"                        \
    "\"registrationId\":\"edge-01\",\"idScope\":\"0ne00000001\","                                  \
    "\"endpoint\":\"https://dps.example.test/\"}\n"

static char dir[256];
static char path[400];

static int setup(void **state)
{
    (void)state;
    gh_log_set_level(GH_LOG_ERROR);
    snprintf(dir, sizeof dir, "/tmp/gh-prov-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    snprintf(path, sizeof path, "%s/%s", dir, GH_EDGE_FILE_IDENTITY);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static gh_err parse(const char *s, struct gh_edge_identity *id)
{
    return gh_edge_identity_parse(gh_slice_cstr(s), id);
}

static void write_file(const char *p, const void *data, size_t n, mode_t mode)
{
    unlink(p);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(fchmod(fd, mode), 0);
    assert_int_equal(write(fd, data, n), (ssize_t)n);
    close(fd);
}

static void sample(struct gh_edge_identity *id)
{
    memset(id, 0, sizeof *id);
    assert_int_equal(parse(GOOD, id), GH_OK);
}

static void dps_config(struct gh_edge_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->prov_source = GH_EDGE_PROV_DPS;
    snprintf(cfg->global_endpoint, sizeof cfg->global_endpoint, "https://dps.example.test/");
    snprintf(cfg->id_scope, sizeof cfg->id_scope, "0ne00000001");
    snprintf(cfg->registration_id, sizeof cfg->registration_id, "edge-01");
    snprintf(cfg->symmetric_key, sizeof cfg->symmetric_key, KEY);
    cfg->attest_method = GH_EDGE_ATTEST_SYMMETRIC_KEY;
}

/* ---- identity file text ------------------------------------------------------- */

static void test_parse_good(void **state)
{
    (void)state;
    struct gh_edge_identity id;
    sample(&id);
    assert_string_equal(id.hub, "hub.example.test");
    assert_string_equal(id.device_id, "edge-01");
    assert_int_equal(id.auth, GH_EDGE_AUTH_SAS);
    assert_string_equal(id.key, KEY);
    assert_string_equal(id.source, "dps");
    assert_int_equal(id.provisioned_ms, 1767225600000LL);
    assert_string_equal(id.registration_id, "edge-01");
    assert_string_equal(id.id_scope, "0ne00000001");
    assert_string_equal(id.endpoint, "https://dps.example.test/");
    /* Render -> parse round trip, escapes included. */
    memset(id.endpoint, 0, sizeof id.endpoint);
    snprintf(id.endpoint, sizeof id.endpoint, "https://a\"b\\c/");
    char buf[GH_EDGE_IDENTITY_FILE_MAX];
    struct gh_writer w;
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_edge_identity_render(&id, &w), GH_OK);
    struct gh_edge_identity back;
    assert_int_equal(gh_edge_identity_parse(gh_writer_slice(&w), &back), GH_OK);
    assert_memory_equal(&id, &back, sizeof id);
    /* Any time the parser accepts renders back (found by fuzz_edge_identity:
     * the largest ones did not fit the renderer's number buffer). */
    id.provisioned_ms = INT64_MAX;
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_edge_identity_render(&id, &w), GH_OK);
    assert_int_equal(gh_edge_identity_parse(gh_writer_slice(&w), &back), GH_OK);
    assert_memory_equal(&id, &back, sizeof id);
    /* x509 needs no key; members in any order; white space. */
    assert_int_equal(parse(" {\"auth\":\"x509\", \"hub\":\"h.example\",\"deviceId\":\"d\","
                           "\"source\":\"manual\",\"version\":1}\n\n",
                           &back),
                     GH_OK);
    assert_int_equal(back.auth, GH_EDGE_AUTH_X509);
    assert_string_equal(back.key, "");
    gh_edge_identity_wipe(&id);
    for (size_t i = 0; i < sizeof id; i++) assert_int_equal(((uint8_t *)&id)[i], 0);
}

static void test_parse_errors(void **state)
{
    (void)state;
    struct gh_edge_identity id;
    memset(&id, 0x5a, sizeof id);
    struct gh_edge_identity untouched = id;
    /* Truncated at every length. */
    size_t n = strlen(GOOD) - 1; /* without the newline */
    for (size_t i = 0; i < n; i++)
        assert_int_equal(gh_edge_identity_parse((struct gh_slice){(const uint8_t *)GOOD, i}, &id),
                         GH_ERR_TRUNCATED);
    assert_memory_equal(&id, &untouched, sizeof id);
    assert_int_equal(parse("[1]", &id), GH_ERR_BAD_JSON);
    assert_int_equal(parse("{\"version\":1,\"bogus\":1}", &id), GH_ERR_BAD_JSON);
    assert_int_equal(parse("{\"version\":1,\"version\":1}", &id), GH_ERR_BAD_JSON);
    assert_int_equal(parse("{\"version\":\"1\"}", &id), GH_ERR_BAD_JSON);
    assert_int_equal(parse("{\"version\":1.5}", &id), GH_ERR_BAD_JSON);
    assert_int_equal(parse("{\"hub\":1}", &id), GH_ERR_BAD_JSON);
    assert_int_equal(parse("{\"auth\":\"token\"}", &id), GH_ERR_BAD_JSON);
    assert_int_equal(parse("{\"auth\":\"averyveryverylongvalue\"}", &id), GH_ERR_BAD_JSON);
    assert_int_equal(parse("{\"source\":\"cloud\"}", &id), GH_ERR_BAD_JSON);
    assert_int_equal(parse("{\"provisionedMs\":-1}", &id), GH_ERR_BAD_JSON);
    assert_int_equal(parse("{\"hub\":\"a\\nb\"}", &id), GH_ERR_BAD_JSON);       /* escape */
    assert_int_equal(parse("{\"hub\":\"a\\u0041\"}", &id), GH_ERR_BAD_JSON);    /* escape */
    assert_int_equal(parse("{\"hub\":\"caf\xc3\xa9\"}", &id), GH_ERR_BAD_JSON); /* non-ASCII */
    assert_int_equal(parse("{\"hub\":\"a\x01\"}", &id), GH_ERR_BAD_JSON);       /* control */
    assert_int_equal(parse("{\"hub\":\"\xff\"}", &id), GH_ERR_BAD_JSON);        /* UTF-8 */
    assert_int_equal(parse("{\"h\\u0075b\":\"x\"}", &id), GH_ERR_BAD_JSON);     /* escaped key */
    assert_int_equal(parse("{\"version\":1,}", &id), GH_ERR_BAD_JSON);
    assert_int_equal(parse("{\"version\" 1}", &id), GH_ERR_BAD_JSON);
    assert_int_equal(parse("{\"version\":1}{}", &id), GH_ERR_TRAILING_BYTES);
    assert_int_equal(parse("{\"version\":1} x", &id), GH_ERR_TRAILING_BYTES);
    assert_int_equal(parse("{\"version\":2}", &id), GH_ERR_UNSUPPORTED);
    assert_int_equal(parse("{}", &id), GH_ERR_CONFIG_MISSING);
    assert_int_equal(parse("{\"version\":1,\"hub\":\"h.example\",\"deviceId\":\"d\","
                           "\"source\":\"dps\",\"auth\":\"sas\"}",
                           &id),
                     GH_ERR_CONFIG_MISSING); /* sas without a key */
    assert_int_equal(parse("{\"version\":1,\"hub\":\"h.example\",\"deviceId\":\"d\","
                           "\"source\":\"dps\",\"key\":\"k\"}",
                           &id),
                     GH_ERR_CONFIG_MISSING); /* no auth */
    assert_int_equal(parse("{\"version\":1,\"hub\":\"h/x\",\"deviceId\":\"d\","
                           "\"source\":\"dps\",\"auth\":\"x509\"}",
                           &id),
                     GH_ERR_BAD_JSON); /* not a host name */
    assert_int_equal(parse("{\"version\":1,\"hub\":\"h.example\",\"deviceId\":\"d/e\","
                           "\"source\":\"dps\",\"auth\":\"x509\"}",
                           &id),
                     GH_ERR_BAD_JSON); /* not a device id */
    /* A string longer than its field. */
    char big[GH_EDGE_HOST_MAX + 32];
    snprintf(big, sizeof big, "{\"hub\":\"%0*d\"}", GH_EDGE_HOST_MAX, 0);
    assert_int_equal(parse(big, &id), GH_ERR_TOO_LARGE);
    /* The whole text too large. */
    static char huge[GH_EDGE_IDENTITY_FILE_MAX + 2];
    memset(huge, ' ', sizeof huge - 1);
    assert_int_equal(parse(huge, &id), GH_ERR_TOO_LARGE);
    assert_memory_equal(&id, &untouched, sizeof id);
}

/* ---- identity file on disk ------------------------------------------------------- */

static void test_save_load(void **state)
{
    (void)state;
    struct gh_edge_identity id, back;
    sample(&id);
    assert_int_equal(gh_edge_identity_save(path, &id), GH_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char tmp[450];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_equal(access(tmp, F_OK), -1); /* renamed away */
    assert_int_equal(gh_edge_identity_load(path, &back), GH_OK);
    assert_memory_equal(&id, &back, sizeof id);
    /* A leftover 0644 temporary file does not make the result readable. */
    write_file(tmp, "x", 1, 0644);
    assert_int_equal(gh_edge_identity_save(path, &id), GH_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* Invalid identities are not written. */
    struct gh_edge_identity bad = id;
    bad.hub[0] = '\0';
    assert_int_equal(gh_edge_identity_save(path, &bad), GH_ERR_ARG);
    bad = id;
    bad.auth = 7;
    assert_int_equal(gh_edge_identity_save(path, &bad), GH_ERR_ARG);
    bad = id;
    snprintf(bad.source, sizeof bad.source, "cloud");
    assert_int_equal(gh_edge_identity_save(path, &bad), GH_ERR_ARG);
    bad = id;
    bad.endpoint[0] = '\x01';
    assert_int_equal(gh_edge_identity_save(path, &bad), GH_ERR_ARG);
    char nodir[450];
    snprintf(nodir, sizeof nodir, "%s/missing/identity.json", dir);
    assert_int_equal(gh_edge_identity_save(nodir, &id), GH_ERR_NOENT);
    assert_int_equal(gh_edge_identity_load(path, &back), GH_OK); /* unchanged */
    assert_memory_equal(&id, &back, sizeof id);
}

static void test_load_refusals(void **state)
{
    (void)state;
    struct gh_edge_identity id;
    memset(&id, 0x5a, sizeof id);
    struct gh_edge_identity untouched = id;
    char p[450];
    snprintf(p, sizeof p, "%s/absent.json", dir);
    assert_int_equal(gh_edge_identity_load(p, &id), GH_ERR_NOENT);
    /* Permissions: group/other access is refused (it holds the key). */
    write_file(path, GOOD, strlen(GOOD), 0644);
    assert_int_equal(gh_edge_identity_load(path, &id), GH_ERR_PERM);
    write_file(path, GOOD, strlen(GOOD), 0640);
    assert_int_equal(gh_edge_identity_load(path, &id), GH_ERR_PERM);
    write_file(path, GOOD, strlen(GOOD), 0602);
    assert_int_equal(gh_edge_identity_load(path, &id), GH_ERR_PERM);
    /* Truncated, corrupt, oversized, empty. */
    write_file(path, GOOD, strlen(GOOD) / 2, 0600);
    assert_int_equal(gh_edge_identity_load(path, &id), GH_ERR_TRUNCATED);
    write_file(path, "{\"version\":1,\"hub\":\x00}", 21, 0600);
    assert_int_equal(gh_edge_identity_load(path, &id), GH_ERR_BAD_JSON);
    write_file(path, "", 0, 0600);
    assert_int_equal(gh_edge_identity_load(path, &id), GH_ERR_TRUNCATED);
    static char huge[GH_EDGE_IDENTITY_FILE_MAX + 1];
    memset(huge, ' ', sizeof huge);
    write_file(path, huge, sizeof huge, 0600);
    assert_int_equal(gh_edge_identity_load(path, &id), GH_ERR_TOO_LARGE);
    /* Not a regular file; a symbolic link is not followed. */
    assert_int_equal(gh_edge_identity_load(dir, &id), GH_ERR_IO);
    write_file(path, GOOD, strlen(GOOD), 0600);
    snprintf(p, sizeof p, "%s/link.json", dir);
    assert_int_equal(symlink(path, p), 0);
    assert_int_equal(gh_edge_identity_load(p, &id), GH_ERR_IO);
    assert_memory_equal(&id, &untouched, sizeof id);
}

/* ---- DPS answers --------------------------------------------------------------------- */

static gh_err dps(const char *s, struct gh_edge_dps_result *r)
{
    return gh_edge_dps_parse_response(gh_slice_cstr(s), r);
}

static void test_dps_response(void **state)
{
    (void)state;
    struct gh_edge_dps_result r;
    /* PROTOCOL.md 4.3 documents. */
    assert_int_equal(dps("{\"operationId\":\"4.0a1b.7d2c-5b0f\",\"status\":\"assigning\"}", &r),
                     GH_OK);
    assert_true(gh_slice_eq_cstr(r.operation_id, "4.0a1b.7d2c-5b0f"));
    assert_true(gh_slice_eq_cstr(r.status, "assigning"));
    assert_int_equal(r.assigned_hub.len, 0);
    const char *assigned =
        "{\"operationId\":\"4.x\",\"status\":\"assigned\",\"registrationState\":{"
        "\"registrationId\":\"thermostat-01\",\"createdDateTimeUtc\":\"2026-01-01T00:00:02Z\","
        "\"assignedHub\":\"hub.example.test\",\"deviceId\":\"thermostat-01\",\"status\":"
        "\"assigned\",\"substatus\":\"initialAssignment\",\"payload\":{\"a\":[1,2.5e3,true,"
        "false,null,{\"b\":[]}]},\"etag\":\"IjAw\"}}";
    assert_int_equal(dps(assigned, &r), GH_OK);
    assert_true(gh_slice_eq_cstr(r.assigned_hub, "hub.example.test"));
    assert_true(gh_slice_eq_cstr(r.device_id, "thermostat-01"));
    assert_true(gh_slice_eq_cstr(r.reg_status, "assigned"));
    assert_int_equal(dps("{\"operationId\":\"o\",\"status\":\"failed\",\"registrationState\":{"
                         "\"status\":\"failed\",\"errorCode\":400209,\"errorMessage\":"
                         "\"Device could not be assigned.\"}}",
                         &r),
                     GH_OK);
    assert_int_equal(r.error_code, 400209);
    assert_true(gh_slice_eq_cstr(r.error_message, "Device could not be assigned."));
    assert_int_equal(dps("{\"errorCode\":401002,\"trackingId\":\"5f0c\",\"message\":"
                         "\"Unauthorized.\",\"timestampUtc\":\"2026\"}",
                         &r),
                     GH_OK);
    assert_int_equal(r.error_code, 401002);
    assert_true(gh_slice_eq_cstr(r.error_message, "Unauthorized."));
    assert_int_equal(dps("{\"assignedHub\":null,\"registrationState\":null}", &r), GH_OK);
    /* Errors. */
    assert_int_equal(dps("", &r), GH_ERR_TRUNCATED);
    assert_int_equal(dps("{\"status\":\"assig", &r), GH_ERR_TRUNCATED);
    assert_int_equal(dps("[]", &r), GH_ERR_BAD_JSON);
    assert_int_equal(dps("{\"status\":1}", &r), GH_ERR_BAD_JSON);
    assert_int_equal(dps("{\"errorCode\":\"401\"}", &r), GH_ERR_BAD_JSON);
    assert_int_equal(dps("{\"errorCode\":4.5}", &r), GH_ERR_BAD_JSON);
    assert_int_equal(dps("{\"registrationState\":[]}", &r), GH_ERR_BAD_JSON);
    assert_int_equal(dps("{\"status\":\"a\",\"status\":\"b\"}", &r), GH_ERR_BAD_JSON);
    assert_int_equal(dps("{\"x\":tru}", &r), GH_ERR_BAD_JSON);
    assert_int_equal(dps("{\"x\":01}", &r), GH_ERR_BAD_JSON);
    assert_int_equal(dps("{\"x\":\"\\q\"}", &r), GH_ERR_BAD_JSON);
    assert_int_equal(dps("{\"x\":\"\\u12g4\"}", &r), GH_ERR_BAD_JSON);
    assert_int_equal(dps("{} {}", &r), GH_ERR_TRAILING_BYTES);
    char deep[64] = "{\"a\":";
    for (int i = 0; i < GH_EDGE_JSON_DEPTH_MAX; i++) strcat(deep, "[");
    assert_int_equal(dps(deep, &r), GH_ERR_TOO_MANY);
    static char huge[GH_EDGE_DPS_RESPONSE_MAX + 2];
    memset(huge, ' ', sizeof huge - 1);
    assert_int_equal(dps(huge, &r), GH_ERR_TOO_LARGE);
    /* Escapes are kept raw; the lenient decoder makes them printable. */
    assert_int_equal(dps("{\"message\":\"a\\\"b\\n\\u00e9\\u0041\xc3\xa9\"}", &r), GH_OK);
    char msg[64];
    assert_int_equal(gh_edge_json_unescape(r.error_message, false, msg, sizeof msg), GH_OK);
    assert_string_equal(msg, "a\"b ?A??");
    assert_int_equal(gh_edge_json_unescape(r.error_message, false, msg, 4), GH_ERR_TOO_LARGE);
}

/* ---- manual, match, SAS ---------------------------------------------------------------- */

static void test_manual(void **state)
{
    (void)state;
    struct gh_edge_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.prov_source = GH_EDGE_PROV_MANUAL;
    char err[256] = "";
    struct gh_edge_identity id;
    assert_int_equal(gh_edge_provision_manual(&cfg, &id, err, sizeof err), GH_ERR_CONFIG_MISSING);
    snprintf(cfg.iothub_hostname, sizeof cfg.iothub_hostname, "hub.example.test");
    snprintf(cfg.device_id, sizeof cfg.device_id, "edge-01");
    assert_int_equal(gh_edge_provision_manual(&cfg, &id, err, sizeof err), GH_ERR_CONFIG_MISSING);
    assert_non_null(strstr(err, "device key"));
    snprintf(cfg.symmetric_key, sizeof cfg.symmetric_key, "not base64!");
    assert_int_equal(gh_edge_provision_manual(&cfg, &id, err, sizeof err), GH_ERR_CONFIG_VALUE);
    snprintf(cfg.symmetric_key, sizeof cfg.symmetric_key, KEY);
    snprintf(cfg.device_id, sizeof cfg.device_id, "edge/01");
    assert_int_equal(gh_edge_provision_manual(&cfg, &id, err, sizeof err), GH_ERR_CONFIG_VALUE);
    snprintf(cfg.device_id, sizeof cfg.device_id, "edge-01");
    assert_int_equal(gh_edge_provision_manual(&cfg, &id, err, sizeof err), GH_OK);
    assert_string_equal(id.hub, "hub.example.test");
    assert_string_equal(id.device_id, "edge-01");
    assert_string_equal(id.key, KEY);
    assert_string_equal(id.source, "manual");
    assert_int_equal(id.auth, GH_EDGE_AUTH_SAS);
    assert_true(gh_edge_identity_matches(&id, &cfg));
    cfg.attest_method = GH_EDGE_ATTEST_X509;
    assert_int_equal(gh_edge_provision_manual(&cfg, &id, err, sizeof err), GH_ERR_CONFIG_MISSING);
    snprintf(cfg.identity_cert, sizeof cfg.identity_cert, "/c.pem");
    snprintf(cfg.identity_pk, sizeof cfg.identity_pk, "/k.pem");
    assert_int_equal(gh_edge_provision_manual(&cfg, &id, err, sizeof err), GH_OK);
    assert_int_equal(id.auth, GH_EDGE_AUTH_X509);
    assert_string_equal(id.key, "");
    cfg.prov_source = GH_EDGE_PROV_DPS;
    assert_int_equal(gh_edge_provision_manual(&cfg, &id, err, sizeof err), GH_ERR_CONFIG_VALUE);
    /* The policy with a manual config writes the identity file. */
    cfg.prov_source = GH_EDGE_PROV_MANUAL;
    assert_int_equal(gh_edge_provision(&cfg, dir, &id, err, sizeof err), GH_OK);
    struct gh_edge_identity back;
    assert_int_equal(gh_edge_identity_load(path, &back), GH_OK);
    assert_string_equal(back.source, "manual");
    assert_int_equal(back.auth, GH_EDGE_AUTH_X509);
    unlink(path);
}

static void test_matches(void **state)
{
    (void)state;
    struct gh_edge_config cfg;
    dps_config(&cfg);
    struct gh_edge_identity id;
    sample(&id);
    assert_true(gh_edge_identity_matches(&id, &cfg));
    snprintf(cfg.id_scope, sizeof cfg.id_scope, "0NE00000001"); /* case-insensitive */
    assert_true(gh_edge_identity_matches(&id, &cfg));
    struct gh_edge_config c2 = cfg;
    snprintf(c2.registration_id, sizeof c2.registration_id, "edge-02");
    assert_false(gh_edge_identity_matches(&id, &c2));
    c2 = cfg;
    snprintf(c2.id_scope, sizeof c2.id_scope, "0ne00000002");
    assert_false(gh_edge_identity_matches(&id, &c2));
    c2 = cfg;
    snprintf(c2.global_endpoint, sizeof c2.global_endpoint, "https://other.example.test/");
    assert_false(gh_edge_identity_matches(&id, &c2));
    c2 = cfg;
    c2.symmetric_key[0] = 'B';
    assert_false(gh_edge_identity_matches(&id, &c2));
    c2 = cfg;
    c2.attest_method = GH_EDGE_ATTEST_X509;
    assert_false(gh_edge_identity_matches(&id, &c2));
    c2 = cfg;
    c2.prov_source = GH_EDGE_PROV_MANUAL;
    assert_false(gh_edge_identity_matches(&id, &c2));
}

static void test_sas(void **state)
{
    (void)state;
    struct gh_edge_identity id;
    sample(&id);
    snprintf(id.device_id, sizeof id.device_id, "thermostat-01");
    char tok[GH_SAS_TOKEN_MAX];
    assert_int_equal(gh_edge_identity_sas(&id, 1767225600 - 3600, 3600, tok, sizeof tok), GH_OK);
    /* PROTOCOL.md 2.5 V1. */
    assert_string_equal(tok, "SharedAccessSignature sr=hub.example.test%2Fdevices%2Fthermostat-01"
                             "&sig=gyOpi4zesKlTqY0Qamfft2sAVdD%2FHhsjx7RBZYUfLjs%3D&se=1767225600");
    assert_int_equal(gh_edge_identity_sas(&id, 0, 0, tok, sizeof tok), GH_ERR_ARG);
    assert_int_equal(gh_edge_identity_sas(&id, INT64_MAX, 10, tok, sizeof tok), GH_ERR_ARG);
    assert_int_equal(gh_edge_identity_sas(&id, 0, 10, tok, 20), GH_ERR_NOBUFS);
    snprintf(id.key, sizeof id.key, "***");
    assert_int_equal(gh_edge_identity_sas(&id, 0, 10, tok, sizeof tok), GH_ERR_BAD_BASE64);
    id.auth = GH_EDGE_AUTH_X509;
    assert_int_equal(gh_edge_identity_sas(&id, 0, 10, tok, sizeof tok), GH_ERR_ARG);
}

/* ---- policy without a reachable DPS -------------------------------------------------- */

/* A loopback port that refuses connections. */
static void unreachable_config(struct gh_edge_config *cfg, int mode)
{
    dps_config(cfg);
    cfg->reprovisioning = mode;
    /* Port 1 on loopback: nothing listens there, connect is refused. */
    snprintf(cfg->global_endpoint, sizeof cfg->global_endpoint, "https://dps.example.test:1/");
    cfg->nhosts = 1;
    snprintf(cfg->hosts[0].name, sizeof cfg->hosts[0].name, "dps.example.test");
    snprintf(cfg->hosts[0].address, sizeof cfg->hosts[0].address, "127.0.0.1");
}

static void cache_for(const struct gh_edge_config *cfg)
{
    struct gh_edge_identity id;
    sample(&id);
    memcpy(id.endpoint, cfg->global_endpoint, sizeof id.endpoint);
    assert_int_equal(gh_edge_identity_save(path, &id), GH_OK);
}

static void test_policy_offline(void **state)
{
    (void)state;
    const int modes[] = {GH_EDGE_REPROV_DYNAMIC, GH_EDGE_REPROV_ON_STARTUP,
                         GH_EDGE_REPROV_ON_ERROR};
    for (size_t m = 0; m < 3; m++) {
        struct gh_edge_config cfg;
        unreachable_config(&cfg, modes[m]);
        char err[512] = "";
        struct gh_edge_identity id;
        /* No cache: every mode must register, and DPS is down. */
        unlink(path);
        assert_int_equal(gh_edge_provision(&cfg, dir, &id, err, sizeof err), GH_ERR_IO);
        assert_non_null(strstr(err, "DPS unreachable"));
        /* A matching cache: every mode starts from it. */
        cache_for(&cfg);
        memset(&id, 0, sizeof id);
        assert_int_equal(gh_edge_provision(&cfg, dir, &id, err, sizeof err), GH_OK);
        assert_string_equal(id.hub, "hub.example.test");
        assert_string_equal(id.device_id, "edge-01");
        /* A cache for another registration id: only OnErrorOnly keeps it. */
        struct gh_edge_config other = cfg;
        snprintf(other.registration_id, sizeof other.registration_id, "edge-02");
        gh_err want = modes[m] == GH_EDGE_REPROV_ON_ERROR ? GH_OK : GH_ERR_IO;
        assert_int_equal(gh_edge_provision(&other, dir, &id, err, sizeof err), want);
        /* A cache with open permissions is ignored. */
        assert_int_equal(chmod(path, 0644), 0);
        assert_int_equal(gh_edge_provision(&cfg, dir, &id, err, sizeof err), GH_ERR_IO);
        /* A corrupt cache is ignored. */
        write_file(path, "{\"version\":1", 12, 0600);
        assert_int_equal(gh_edge_provision(&cfg, dir, &id, err, sizeof err), GH_ERR_IO);
    }
    /* A config error is not "unreachable": AlwaysOnStartup does not use the cache. */
    struct gh_edge_config cfg;
    unreachable_config(&cfg, GH_EDGE_REPROV_ON_STARTUP);
    cache_for(&cfg);
    struct gh_edge_identity id;
    char err[512];
    snprintf(cfg.trust_bundle_cert, sizeof cfg.trust_bundle_cert, "%s/absent.pem", dir);
    assert_int_equal(gh_edge_provision(&cfg, dir, &id, err, sizeof err), GH_ERR_NOENT);
    char longdir[GH_EDGE_PATH_MAX + 8];
    memset(longdir, 'a', sizeof longdir - 1);
    longdir[sizeof longdir - 1] = '\0';
    assert_int_equal(gh_edge_provision(&cfg, longdir, &id, err, sizeof err), GH_ERR_NOBUFS);
    unlink(path);
}

static void test_dps_config_errors(void **state)
{
    (void)state;
    struct gh_edge_config cfg;
    struct gh_edge_identity id;
    char err[512];
    dps_config(&cfg);
    cfg.prov_source = GH_EDGE_PROV_MANUAL;
    assert_int_equal(gh_edge_provision_dps(&cfg, &id, err, sizeof err), GH_ERR_CONFIG_VALUE);
    const char *bad_endpoints[] = {
        "http://dps.example.test", "https://",    "https://a/b", "https://a:0",
        "https://a:70000",         "https://a:x", "https://a b"};
    for (size_t i = 0; i < sizeof bad_endpoints / sizeof *bad_endpoints; i++) {
        dps_config(&cfg);
        snprintf(cfg.global_endpoint, sizeof cfg.global_endpoint, "%s", bad_endpoints[i]);
        assert_int_equal(gh_edge_provision_dps(&cfg, &id, err, sizeof err), GH_ERR_CONFIG_VALUE);
        assert_non_null(strstr(err, "global_endpoint"));
    }
    dps_config(&cfg);
    cfg.registration_id[0] = '\0';
    assert_int_equal(gh_edge_provision_dps(&cfg, &id, err, sizeof err), GH_ERR_CONFIG_MISSING);
    dps_config(&cfg);
    cfg.symmetric_key[0] = '\0';
    assert_int_equal(gh_edge_provision_dps(&cfg, &id, err, sizeof err), GH_ERR_CONFIG_MISSING);
    dps_config(&cfg);
    cfg.attest_method = GH_EDGE_ATTEST_X509;
    assert_int_equal(gh_edge_provision_dps(&cfg, &id, err, sizeof err), GH_ERR_CONFIG_MISSING);
    dps_config(&cfg);
    snprintf(cfg.registration_id, sizeof cfg.registration_id, "a\"b");
    assert_int_equal(gh_edge_provision_dps(&cfg, &id, err, sizeof err), GH_ERR_CONFIG_VALUE);
    dps_config(&cfg);
    snprintf(cfg.symmetric_key, sizeof cfg.symmetric_key, "###");
    assert_int_equal(gh_edge_provision_dps(&cfg, &id, err, sizeof err), GH_ERR_BAD_BASE64);
    assert_non_null(strstr(err, "symmetric_key"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),     cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_save_load),      cmocka_unit_test(test_load_refusals),
        cmocka_unit_test(test_dps_response),   cmocka_unit_test(test_manual),
        cmocka_unit_test(test_matches),        cmocka_unit_test(test_sas),
        cmocka_unit_test(test_policy_offline), cmocka_unit_test(test_dps_config_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
