/* The management CLI's connection pieces: connection string sources and
 * their precedence, HTTP status mapping, the hub's error bodies, and the
 * messages for transport failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iothub/connstr.h"
#include "mgmt/mgmt_int.h"

#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define CS_OWNER "HostName=hub.example.test;SharedAccessKeyName=iothubowner;SharedAccessKey=" KEY
#define CS_SERVICE "HostName=other.example.test;SharedAccessKeyName=service;SharedAccessKey=" KEY
#define CS_DEVICE "HostName=hub.example.test;DeviceId=th-01;SharedAccessKey=" KEY

struct dir {
    char path[64];
    char file[128];
};

static int setup(void **state)
{
    struct dir *d = calloc(1, sizeof *d);
    assert_non_null(d);
    snprintf(d->path, sizeof d->path, "/tmp/gh-mgmt-conn.XXXXXX");
    assert_non_null(mkdtemp(d->path));
    snprintf(d->file, sizeof d->file, "%s/%s", d->path, GH_MGMT_CS_FILE_NAME);
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    struct dir *d = *state;
    unlink(d->file);
    rmdir(d->path);
    free(d);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_flag(void **state)
{
    (void)state;
    struct gh_mgmt_cred c;
    char msg[512] = "";
    struct gh_mgmt_cs_sources s = {.flag = CS_OWNER, .env = CS_SERVICE};
    assert_int_equal(gh_mgmt_cred_load(&s, &c, msg, sizeof msg), GH_OK);
    assert_string_equal(c.host, "hub.example.test");
    assert_string_equal(c.policy, "iothubowner");
    assert_string_equal(c.key, KEY);
    assert_string_equal(c.source, "--connection-string");
    gh_mgmt_cred_wipe(&c);
    assert_int_equal(c.key[0], 0);
}

static void test_env_beats_default_file(void **state)
{
    struct dir *d = *state;
    struct gh_mgmt_cred c;
    char msg[512] = "";
    write_file(d->file, CS_OWNER);
    struct gh_mgmt_cs_sources s = {.env = CS_SERVICE, .default_file = d->file};
    assert_int_equal(gh_mgmt_cred_load(&s, &c, msg, sizeof msg), GH_OK);
    assert_string_equal(c.policy, "service");
    assert_string_equal(c.source, "$" GH_MGMT_ENV_CS);
    /* Without the environment the default file is used. */
    s.env = NULL;
    assert_int_equal(gh_mgmt_cred_load(&s, &c, msg, sizeof msg), GH_OK);
    assert_string_equal(c.policy, "iothubowner");
    assert_non_null(strstr(c.source, d->file));
}

static void test_files_beat_env(void **state)
{
    struct dir *d = *state;
    struct gh_mgmt_cred c;
    char msg[512] = "";
    /* Surrounding whitespace (the hub's trailing newline) is trimmed. */
    write_file(d->file, "\n  " CS_OWNER "\r\n\n");
    struct gh_mgmt_cs_sources s = {.data_dir = d->path, .env = CS_SERVICE};
    assert_int_equal(gh_mgmt_cred_load(&s, &c, msg, sizeof msg), GH_OK);
    assert_string_equal(c.policy, "iothubowner");
    assert_string_equal(c.key, KEY);
    s = (struct gh_mgmt_cs_sources){.flag_file = d->file, .env = CS_SERVICE};
    assert_int_equal(gh_mgmt_cred_load(&s, &c, msg, sizeof msg), GH_OK);
    assert_string_equal(c.policy, "iothubowner");
    char src[256];
    snprintf(src, sizeof src, "file %s", d->file);
    assert_string_equal(c.source, src);
}

static void test_two_flags(void **state)
{
    struct dir *d = *state;
    struct gh_mgmt_cred c;
    char msg[512] = "";
    struct gh_mgmt_cs_sources s = {.flag = CS_OWNER, .data_dir = d->path};
    assert_int_equal(gh_mgmt_cred_load(&s, &c, msg, sizeof msg), GH_ERR_USAGE);
    assert_non_null(strstr(msg, "only one of"));
    s = (struct gh_mgmt_cs_sources){.flag_file = d->file, .data_dir = d->path};
    assert_int_equal(gh_mgmt_cred_load(&s, &c, msg, sizeof msg), GH_ERR_USAGE);
}

static void test_missing(void **state)
{
    struct dir *d = *state;
    struct gh_mgmt_cred c;
    memset(&c, 0x55, sizeof c);
    char msg[512] = "";
    struct gh_mgmt_cs_sources s = {.default_file = d->file};
    assert_int_equal(gh_mgmt_cred_load(&s, &c, msg, sizeof msg), GH_ERR_CONFIG_MISSING);
    /* Says where it looked and how to give one. */
    assert_non_null(strstr(msg, d->file));
    assert_non_null(strstr(msg, "--connection-string"));
    assert_non_null(strstr(msg, GH_MGMT_ENV_CS));
    assert_non_null(strstr(msg, "--data-dir"));
    assert_int_equal((unsigned char)c.host[0], 0x55); /* untouched */
    /* A file named by a flag must exist. */
    s = (struct gh_mgmt_cs_sources){.flag_file = d->file};
    assert_int_equal(gh_mgmt_cred_load(&s, &c, msg, sizeof msg), GH_ERR_NOENT);
    assert_non_null(strstr(msg, d->file));
    s = (struct gh_mgmt_cs_sources){.data_dir = d->path};
    assert_int_equal(gh_mgmt_cred_load(&s, &c, msg, sizeof msg), GH_ERR_NOENT);
    /* A directory where the file should be. */
    s = (struct gh_mgmt_cs_sources){.flag_file = d->path};
    assert_int_equal(gh_mgmt_cred_load(&s, &c, msg, sizeof msg), GH_ERR_IO);
}

static void test_unreadable(void **state)
{
    struct dir *d = *state;
    if (geteuid() == 0) skip(); /* root reads mode 0000 files */
    struct gh_mgmt_cred c;
    char msg[512] = "";
    write_file(d->file, CS_OWNER);
    chmod(d->file, 0);
    struct gh_mgmt_cs_sources s = {.default_file = d->file};
    assert_int_equal(gh_mgmt_cred_load(&s, &c, msg, sizeof msg), GH_ERR_PERM);
    assert_non_null(strstr(msg, "hub's user"));
}

static void test_too_large(void **state)
{
    struct dir *d = *state;
    struct gh_mgmt_cred c;
    char msg[512] = "";
    char *big = malloc(GH_CONNSTR_MAX + 2);
    assert_non_null(big);
    memset(big, 'a', GH_CONNSTR_MAX + 1);
    big[GH_CONNSTR_MAX + 1] = '\0';
    write_file(d->file, big);
    free(big);
    struct gh_mgmt_cs_sources s = {.default_file = d->file};
    assert_int_equal(gh_mgmt_cred_load(&s, &c, msg, sizeof msg), GH_ERR_TOO_LARGE);
}

static void test_bad_strings(void **state)
{
    struct dir *d = *state;
    struct gh_mgmt_cred c;
    char msg[512] = "";
    struct gh_mgmt_cs_sources s = {.flag = CS_DEVICE};
    assert_int_equal(gh_mgmt_cred_load(&s, &c, msg, sizeof msg), GH_ERR_CONFIG_VALUE);
    assert_non_null(strstr(msg, "looks like a device"));
    assert_null(strstr(msg, KEY)); /* never the secret */
    s.flag = "HostName=hub.example.test;SharedAccessKeyName=x;SharedAccessKey=not base64!";
    assert_int_equal(gh_mgmt_cred_load(&s, &c, msg, sizeof msg), GH_ERR_CONFIG_VALUE);
    assert_non_null(strstr(msg, "not a service connection string"));
    s.flag = "garbage";
    assert_int_equal(gh_mgmt_cred_load(&s, &c, msg, sizeof msg), GH_ERR_CONFIG_VALUE);
    s.flag = "";
    assert_int_equal(gh_mgmt_cred_load(&s, &c, msg, sizeof msg), GH_ERR_CONFIG_VALUE);
    assert_non_null(strstr(msg, "is empty"));
    s = (struct gh_mgmt_cs_sources){
        .env = "HostName=nodot;SharedAccessKeyName=p;SharedAccessKey=" KEY};
    assert_int_equal(gh_mgmt_cred_load(&s, &c, msg, sizeof msg), GH_ERR_CONFIG_VALUE);
    assert_non_null(strstr(msg, "$" GH_MGMT_ENV_CS));
    write_file(d->file, " \n");
    s = (struct gh_mgmt_cs_sources){.default_file = d->file};
    assert_int_equal(gh_mgmt_cred_load(&s, &c, msg, sizeof msg), GH_ERR_CONFIG_VALUE);
    /* A policy name longer than we keep. */
    char cs[512];
    char name[GH_MGMT_POLICY_MAX + 2];
    memset(name, 'p', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    snprintf(cs, sizeof cs, "HostName=hub.example.test;SharedAccessKeyName=%s;SharedAccessKey=" KEY,
             name);
    s = (struct gh_mgmt_cs_sources){.flag = cs};
    assert_int_equal(gh_mgmt_cred_load(&s, &c, msg, sizeof msg), GH_ERR_CONFIG_VALUE);
    assert_non_null(strstr(msg, "too long"));
}

static void test_status_err(void **state)
{
    (void)state;
    assert_int_equal(gh_mgmt_status_err(200, NULL), GH_OK);
    assert_int_equal(gh_mgmt_status_err(204, ""), GH_OK);
    assert_int_equal(gh_mgmt_status_err(400, "ArgumentInvalid"), GH_ERR_ARG);
    assert_int_equal(gh_mgmt_status_err(400, "CertificateVerificationFailed"), GH_ERR_CERT_VERIFY);
    assert_int_equal(gh_mgmt_status_err(401, "IotHubUnauthorizedAccess"), GH_ERR_AUTH);
    assert_int_equal(gh_mgmt_status_err(403, "DeviceMaximumQueueDepthExceeded"), GH_ERR_QUEUE_FULL);
    assert_int_equal(gh_mgmt_status_err(403, "IotHubQuotaExceeded"), GH_ERR_FORBIDDEN);
    assert_int_equal(gh_mgmt_status_err(404, "DeviceNotFound"), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_mgmt_status_err(404, "DeviceNotOnline"), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_mgmt_status_err(405, NULL), GH_ERR_UNSUPPORTED);
    assert_int_equal(gh_mgmt_status_err(408, NULL), GH_ERR_TIMEOUT);
    assert_int_equal(gh_mgmt_status_err(409, "DeviceAlreadyExists"), GH_ERR_CONFLICT);
    assert_int_equal(gh_mgmt_status_err(412, "PreconditionFailed"), GH_ERR_ETAG_MISMATCH);
    assert_int_equal(gh_mgmt_status_err(413, NULL), GH_ERR_TOO_LARGE);
    assert_int_equal(gh_mgmt_status_err(429, NULL), GH_ERR_TOO_MANY);
    assert_int_equal(gh_mgmt_status_err(500, NULL), GH_ERR_IO);
    assert_int_equal(gh_mgmt_status_err(503, NULL), GH_ERR_IO);
    assert_int_equal(gh_mgmt_status_err(504, "GatewayTimeout"), GH_ERR_TIMEOUT);
    assert_int_equal(gh_mgmt_status_err(302, NULL), GH_ERR_MALFORMED);
    assert_int_equal(gh_mgmt_status_err(418, NULL), GH_ERR_MALFORMED);
    /* The exit statuses the issue asks for. */
    assert_int_equal(gh_err_exit_status(gh_mgmt_status_err(404, "DeviceNotFound")), 9);
    assert_int_equal(gh_err_exit_status(gh_mgmt_status_err(401, "")), 8);
    assert_int_equal(gh_err_exit_status(gh_mgmt_status_err(412, "")), 10);
}

static void parse(const char *body, char *code, char *text)
{
    gh_mgmt_hub_error_parse((const uint8_t *)body, strlen(body), code, 32, text, 64);
}

static void test_error_body(void **state)
{
    (void)state;
    char code[32], text[64];
    parse("{\"Message\":\"ErrorCode:DeviceNotFound;Device x is not registered.\","
          "\"ExceptionMessage\":\"Tracking ID:1-TimeStamp:t\"}",
          code, text);
    assert_string_equal(code, "DeviceNotFound");
    assert_string_equal(text, "Device x is not registered.");
    parse("{\"Message\":\"plain text\"}", code, text);
    assert_string_equal(code, "");
    assert_string_equal(text, "plain text");
    parse("{\"message\":\"ErrorCode:X;a;b\"}", code, text);
    assert_string_equal(code, "X");
    assert_string_equal(text, "a;b");
    parse("{\"Message\":\"ErrorCode:NoSemicolon\"}", code, text);
    assert_string_equal(code, "");
    assert_string_equal(text, "ErrorCode:NoSemicolon");
    parse("{\"Message\":\"ErrorCode:A;line\\nbreak\\u001b[31m\"}", code, text);
    assert_string_equal(text, "line break [31m");
    parse("not json", code, text);
    assert_string_equal(code, "");
    assert_string_equal(text, "");
    parse("{\"Message\":5}", code, text);
    assert_string_equal(text, "");
    gh_mgmt_hub_error_parse(NULL, 0, code, 32, text, 64);
    assert_string_equal(code, "");
    /* Truncation keeps the buffers terminated. */
    char small[4];
    gh_mgmt_hub_error_parse((const uint8_t *)"{\"Message\":\"ErrorCode:LongCode;xyz\"}", 36, small,
                            sizeof small, text, 64);
    assert_string_equal(small, "Lon");
    assert_string_equal(text, "xyz");
}

static void test_transport_error(void **state)
{
    (void)state;
    struct gh_mgmt_hub h;
    memset(&h, 0, sizeof h);
    snprintf(h.cred.host, sizeof h.cred.host, "hub.example.test");
    h.port = 443;
    h.timeout_ms = 30000;
    char msg[512];
    assert_int_equal(gh_mgmt_transport_error(GH_ERR_CERT_VERIFY, &h, msg, sizeof msg),
                     GH_ERR_CERT_VERIFY);
    assert_non_null(strstr(msg, "pass --ca"));
    assert_non_null(strstr(msg, "system's trust store"));
    h.ca_file = "root.pem";
    h.address = "127.0.0.5";
    assert_int_equal(gh_mgmt_transport_error(GH_ERR_CERT_VERIFY, &h, msg, sizeof msg),
                     GH_ERR_CERT_VERIFY);
    assert_non_null(strstr(msg, "root.pem"));
    assert_non_null(strstr(msg, "127.0.0.5:443"));
    assert_int_equal(gh_mgmt_transport_error(GH_ERR_IO, &h, msg, sizeof msg), GH_ERR_IO);
    assert_non_null(strstr(msg, "cannot reach the hub at 127.0.0.5:443 (hub.example.test)"));
    assert_int_equal(gh_mgmt_transport_error(GH_ERR_CLOSED, &h, msg, sizeof msg), GH_ERR_IO);
    assert_int_equal(gh_mgmt_transport_error(GH_ERR_TLS, &h, msg, sizeof msg), GH_ERR_TLS);
    assert_non_null(strstr(msg, "HTTPS port"));
    assert_int_equal(gh_mgmt_transport_error(GH_ERR_TIMEOUT, &h, msg, sizeof msg), GH_ERR_TIMEOUT);
    assert_non_null(strstr(msg, "within 30 s"));
    /* A name that does not resolve is not "not found" (exit 9 is for resources). */
    assert_int_equal(gh_mgmt_transport_error(GH_ERR_NOT_FOUND, &h, msg, sizeof msg), GH_ERR_IO);
    assert_non_null(strstr(msg, "--address"));
    assert_int_equal(gh_mgmt_transport_error(GH_ERR_MALFORMED, &h, msg, sizeof msg),
                     GH_ERR_MALFORMED);
    assert_int_equal(gh_mgmt_transport_error(GH_ERR_NOMEM, &h, msg, sizeof msg), GH_ERR_NOMEM);
    /* NULL msg: only the code. */
    assert_int_equal(gh_mgmt_transport_error(GH_ERR_IO, &h, NULL, 0), GH_ERR_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_beats_default_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_files_beat_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_strings, setup, teardown),
        cmocka_unit_test(test_status_err),
        cmocka_unit_test(test_error_body),
        cmocka_unit_test(test_transport_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
