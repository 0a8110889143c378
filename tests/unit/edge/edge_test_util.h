/* Fixture for the edge configuration tests: a temporary directory holding
 * config.toml (and key files) and a home directory below it. */
#ifndef GH_TEST_EDGE_TEST_UTIL_H
#define GH_TEST_EDGE_TEST_UTIL_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edge/config.h"

#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
/* Lines 2-4. */
#define CA_SECTION                                                                                 \
    "[edge_ca]\ncert = \"file:///etc/gh/edge-ca.pem\"\npk = "                                      \
    "\"file:///etc/gh/edge%20ca.key.pem\"\n"
/* Lines 1-4. */
#define BASE "hostname = \"edge.gatehouse.test\"\n" CA_SECTION
/* Lines 5-11 after BASE; the next line (12) is the attestation's next key. */
#define DPS_HEAD                                                                                   \
    "[provisioning]\nsource = \"dps\"\nglobal_endpoint = \"https://dps.gatehouse.test\"\n"         \
    "id_scope = \"0ne00000001\"\n[provisioning.attestation]\nmethod = \"symmetric_key\"\n"         \
    "registration_id = \"edge-01\"\n"
/* Lines 5-8 after BASE. */
#define MANUAL_HEAD                                                                                \
    "[provisioning]\nsource = \"manual\"\niothub_hostname = \"hub.gatehouse.test\"\n"              \
    "device_id = \"edge-01\"\n"

static char fixture_tmp[256];
static char fixture_home[300];
static char fixture_cfg[300];

static inline const char *tmp_dir(void)
{
    return fixture_tmp;
}

static inline const char *home_dir(void)
{
    return fixture_home;
}

static inline int setup(void **state)
{
    (void)state;
    snprintf(fixture_tmp, sizeof fixture_tmp, "/tmp/gh-edgecfg-XXXXXX");
    if (!mkdtemp(fixture_tmp)) return -1;
    /* Paths in the config are resolved through realpath. */
    char *real = realpath(fixture_tmp, NULL);
    if (!real) return -1;
    snprintf(fixture_tmp, sizeof fixture_tmp, "%s", real);
    free(real);
    snprintf(fixture_home, sizeof fixture_home, "%s/home", fixture_tmp);
    snprintf(fixture_cfg, sizeof fixture_cfg, "%s/config.toml", fixture_tmp);
    return mkdir(fixture_home, 0700);
}

static inline int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fixture_tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static inline void write_file(const char *name, const char *data, size_t len)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", fixture_tmp, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static inline gh_err load(const char *text, struct gh_edge_config *cfg, struct gh_toml_error *err)
{
    write_file("config.toml", text, strlen(text));
    memset(err, 0, sizeof *err);
    return gh_edge_config_load(fixture_cfg, fixture_home, cfg, err);
}

static inline void check_error(const char *text, gh_err want, unsigned line, unsigned col,
                               const char *msg, int at)
{
    struct gh_edge_config cfg;
    struct gh_toml_error err;
    gh_err rc = load(text, &cfg, &err);
    if (rc != want || err.line != line || err.col != col || !strstr(err.msg, msg))
        print_error("line %d: got %s at %u:%u '%s'\n", at, gh_err_name(rc), err.line, err.col,
                    err.msg);
    assert_int_equal(rc, want);
    assert_int_equal(err.line, line);
    assert_int_equal(err.col, col);
    assert_non_null(strstr(err.msg, msg));
    /* A failed load leaves no secret behind. */
    assert_int_equal(cfg.symmetric_key[0], 0);
}

#define expect_error(text, want, line, col, msg) check_error(text, want, line, col, msg, __LINE__)

#endif
