/* TLS context loading: every error path of gh_tls_server_new /
 * gh_tls_client_new / gh_tls_server_reload, with real files. */
#include "nettest.h"

#include <sys/stat.h>

#include "net/tls_internal.h"

static gh_err server_with(const char *cert, const char *key, const char *pw, char *detail,
                          size_t cap)
{
    struct gh_tls_server_config cfg = {
        .default_id = {cert ? nt_file(cert) : NULL, key ? nt_file(key) : NULL, pw},
    };
    struct gh_tls_server *s = NULL;
    gh_err rc = gh_tls_server_new(&cfg, &s, detail, cap);
    if (rc == GH_OK) assert_non_null(s);
    gh_tls_server_free(s);
    return rc;
}

static void test_server_ok(void **state)
{
    (void)state;
    char d[GH_TLS_DETAIL_MAX] = "untouched";
    assert_int_equal(server_with("hub-chain.pem", "hub.key", NULL, d, sizeof d), GH_OK);
    assert_string_equal(d, "untouched");
    /* detail may be NULL */
    assert_int_equal(server_with("hub.pem", "hub.key", NULL, NULL, 0), GH_OK);
}

static void test_missing_files(void **state)
{
    (void)state;
    char d[GH_TLS_DETAIL_MAX] = "";
    assert_int_equal(server_with("nope.pem", "hub.key", NULL, d, sizeof d), GH_ERR_NOENT);
    assert_non_null(strstr(d, nt_file("nope.pem")));
    assert_int_equal(server_with("hub.pem", "nope.key", NULL, d, sizeof d), GH_ERR_NOENT);
    assert_non_null(strstr(d, nt_file("nope.key")));
    /* a path through a non-directory is "not found" too */
    assert_int_equal(server_with("hub.pem/x", "hub.key", NULL, d, sizeof d), GH_ERR_NOENT);
}

static void test_not_pem(void **state)
{
    (void)state;
    char d[GH_TLS_DETAIL_MAX] = "";
    assert_int_equal(server_with("garbage.pem", "hub.key", NULL, d, sizeof d), GH_ERR_MALFORMED);
    assert_non_null(strstr(d, "no PEM certificate"));
    /* a key file that holds a certificate */
    assert_int_equal(server_with("hub.pem", "hub.pem", NULL, d, sizeof d), GH_ERR_MALFORMED);
    assert_non_null(strstr(d, "no PEM private key"));
    /* a certificate file that holds only a key */
    assert_int_equal(server_with("hub.key", "hub.key", NULL, d, sizeof d), GH_ERR_MALFORMED);
    /* empty file */
    nt_write_file("empty.pem", "");
    assert_int_equal(server_with("empty.pem", "hub.key", NULL, d, sizeof d), GH_ERR_MALFORMED);
    /* a good first certificate followed by a corrupt one */
    nt_sh("cp hub.pem bad-chain.pem && printf -- '-----BEGIN CERTIFICATE-----\\nAAAA!!\\n"
          "-----END CERTIFICATE-----\\n' >> bad-chain.pem");
    assert_int_equal(server_with("bad-chain.pem", "hub.key", NULL, d, sizeof d), GH_ERR_MALFORMED);
    assert_non_null(strstr(d, "certificate 2"));
}

static void test_key_mismatch(void **state)
{
    (void)state;
    char d[GH_TLS_DETAIL_MAX] = "";
    assert_int_equal(server_with("hub.pem", "dps.key", NULL, d, sizeof d), GH_ERR_KEY_MISMATCH);
    assert_non_null(strstr(d, "does not match"));
    /* the key must match the FIRST certificate of the chain file */
    assert_int_equal(server_with("hub-chain.pem", "inter.key", NULL, d, sizeof d),
                     GH_ERR_KEY_MISMATCH);
}

static void test_encrypted_key(void **state)
{
    (void)state;
    char d[GH_TLS_DETAIL_MAX] = "";
    assert_int_equal(server_with("hub.pem", "enc.key", NULL, d, sizeof d), GH_ERR_BAD_PASSWORD);
    assert_non_null(strstr(d, "no password"));
    assert_int_equal(server_with("hub.pem", "enc.key", "wrong", d, sizeof d), GH_ERR_BAD_PASSWORD);
    assert_non_null(strstr(d, "wrong password"));
    assert_int_equal(server_with("hub.pem", "enc.key", "s3cret", d, sizeof d), GH_OK);
}

static void test_not_regular_or_unreadable(void **state)
{
    (void)state;
    char d[GH_TLS_DETAIL_MAX] = "";
    nt_sh("mkdir -p adir");
    assert_int_equal(server_with("adir", "hub.key", NULL, d, sizeof d), GH_ERR_IO);
    nt_sh("cp hub.key noread.key && chmod 000 noread.key");
    gh_err rc = server_with("hub.pem", "noread.key", NULL, d, sizeof d);
    if (geteuid() != 0)
        assert_int_equal(rc, GH_ERR_PERM);
    else
        assert_int_equal(rc, GH_OK); /* root reads anything */
}

static void test_too_large_and_too_many(void **state)
{
    (void)state;
    char d[GH_TLS_DETAIL_MAX] = "";
    nt_sh("head -c %u /dev/zero > big.pem", GH_TLS_FILE_MAX + 1u);
    assert_int_equal(server_with("big.pem", "hub.key", NULL, d, sizeof d), GH_ERR_TOO_LARGE);
    nt_sh("for i in $(seq %d); do cat hub.pem; done > long-chain.pem", GH_TLS_CHAIN_MAX + 1);
    assert_int_equal(server_with("long-chain.pem", "hub.key", NULL, d, sizeof d), GH_ERR_TOO_MANY);
    nt_sh("for i in $(seq %d); do cat hub.pem; done > max-chain.pem", GH_TLS_CHAIN_MAX);
    assert_int_equal(server_with("max-chain.pem", "hub.key", NULL, d, sizeof d), GH_OK);
}

static void test_required_fields(void **state)
{
    (void)state;
    struct gh_tls_server *s = NULL;
    assert_int_equal(server_with(NULL, "hub.key", NULL, NULL, 0), GH_ERR_ARG);
    assert_int_equal(server_with("hub.pem", NULL, NULL, NULL, 0), GH_ERR_ARG);
    assert_int_equal(gh_tls_server_new(NULL, &s, NULL, 0), GH_ERR_ARG);
    struct gh_tls_server_config cfg = {
        .default_id = {nt_file("hub.pem"), nt_file("hub.key"), NULL}};
    assert_int_equal(gh_tls_server_new(&cfg, NULL, NULL, 0), GH_ERR_ARG);
    cfg.sni_count = 1; /* sni NULL */
    assert_int_equal(gh_tls_server_new(&cfg, &s, NULL, 0), GH_ERR_ARG);
    assert_null(s);
}

static void test_sni_config(void **state)
{
    (void)state;
    struct gh_tls_server *s = NULL;
    struct gh_tls_sni_entry e[GH_TLS_SNI_MAX + 1];
    for (size_t i = 0; i < GH_TLS_SNI_MAX + 1; i++)
        e[i] = (struct gh_tls_sni_entry){"dps.gatehouse.test",
                                         {nt_file("dps.pem"), nt_file("dps.key"), NULL}};
    struct gh_tls_server_config cfg = {
        .default_id = {nt_file("hub.pem"), nt_file("hub.key"), NULL},
        .sni = e,
        .sni_count = 1,
    };
    char d[GH_TLS_DETAIL_MAX] = "";
    assert_int_equal(gh_tls_server_new(&cfg, &s, d, sizeof d), GH_OK);
    gh_tls_server_free(s);
    s = NULL;
    /* duplicate, case-insensitively */
    e[1].host_name = "DPS.gatehouse.TEST";
    cfg.sni_count = 2;
    assert_int_equal(gh_tls_server_new(&cfg, &s, d, sizeof d), GH_ERR_ARG);
    assert_non_null(strstr(d, "duplicate"));
    /* invalid names */
    const char *bad[] = {"", "a..b", ".a", "a.", "*.gatehouse.test", "a b", "x/y"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        e[1].host_name = bad[i];
        assert_int_equal(gh_tls_server_new(&cfg, &s, d, sizeof d), GH_ERR_ARG);
    }
    e[1].host_name = NULL;
    assert_int_equal(gh_tls_server_new(&cfg, &s, d, sizeof d), GH_ERR_ARG);
    cfg.sni_count = GH_TLS_SNI_MAX + 1;
    assert_int_equal(gh_tls_server_new(&cfg, &s, d, sizeof d), GH_ERR_TOO_MANY);
    /* an SNI entry's own files are checked like the default's */
    e[1] = (struct gh_tls_sni_entry){"other.gatehouse.test",
                                     {nt_file("dps.pem"), nt_file("hub.key"), NULL}};
    cfg.sni_count = 2;
    assert_int_equal(gh_tls_server_new(&cfg, &s, d, sizeof d), GH_ERR_KEY_MISMATCH);
    assert_null(s);
}

static void test_client_ca(void **state)
{
    (void)state;
    struct gh_tls_server *s = NULL;
    char d[GH_TLS_DETAIL_MAX] = "";
    struct gh_tls_server_config cfg = {
        .default_id = {nt_file("hub.pem"), nt_file("hub.key"), NULL},
        .client_ca_file = nt_file("nope-ca.pem"),
    };
    assert_int_equal(gh_tls_server_new(&cfg, &s, d, sizeof d), GH_ERR_NOENT);
    cfg.client_ca_file = nt_file("garbage.pem");
    assert_int_equal(gh_tls_server_new(&cfg, &s, d, sizeof d), GH_ERR_MALFORMED);
    nt_sh("cat ca.pem rogue.pem > bundle.pem");
    cfg.client_ca_file = nt_file("bundle.pem");
    assert_int_equal(gh_tls_server_new(&cfg, &s, d, sizeof d), GH_OK);
    gh_tls_server_free(s);
}

static void test_reload_errors_keep_old(void **state)
{
    (void)state;
    struct gh_tls_server *s = nt_hub_tls(NULL);
    char d[GH_TLS_DETAIL_MAX] = "";
    struct gh_tls_server_config cfg = {
        .default_id = {nt_file("hub2.pem"), nt_file("missing.key"), NULL},
    };
    assert_int_equal(gh_tls_server_reload(s, &cfg, d, sizeof d), GH_ERR_NOENT);
    assert_int_equal(gh_tls_server_reload(NULL, &cfg, d, sizeof d), GH_ERR_ARG);
    assert_int_equal(gh_tls_server_reload(s, NULL, d, sizeof d), GH_ERR_ARG);
    cfg.default_id.key_file = nt_file("hub2.key");
    assert_int_equal(gh_tls_server_reload(s, &cfg, d, sizeof d), GH_OK);
    gh_tls_server_free(s);
}

static void test_client_ctx(void **state)
{
    (void)state;
    struct gh_tls_client *c = NULL;
    char d[GH_TLS_DETAIL_MAX] = "";
    struct gh_tls_client_config cfg = {.ca_file = nt_file("ca.pem")};
    assert_int_equal(gh_tls_client_new(&cfg, &c, d, sizeof d), GH_OK);
    gh_tls_client_free(c);
    c = NULL;
    cfg.ca_file = NULL; /* system default paths */
    assert_int_equal(gh_tls_client_new(&cfg, &c, d, sizeof d), GH_OK);
    gh_tls_client_free(c);
    c = NULL;
    cfg.ca_file = nt_file("missing-ca.pem");
    assert_int_equal(gh_tls_client_new(&cfg, &c, d, sizeof d), GH_ERR_NOENT);
    cfg.ca_file = nt_file("ca.pem");
    cfg.id.cert_file = nt_file("dev.pem"); /* key missing */
    assert_int_equal(gh_tls_client_new(&cfg, &c, d, sizeof d), GH_ERR_ARG);
    cfg.id.key_file = nt_file("self.key");
    assert_int_equal(gh_tls_client_new(&cfg, &c, d, sizeof d), GH_ERR_KEY_MISMATCH);
    cfg.id.key_file = nt_file("dev.key");
    assert_int_equal(gh_tls_client_new(&cfg, &c, d, sizeof d), GH_OK);
    gh_tls_client_free(c);
    c = NULL;
    assert_int_equal(gh_tls_client_new(NULL, &c, d, sizeof d), GH_ERR_ARG);
    assert_int_equal(gh_tls_client_new(&cfg, NULL, d, sizeof d), GH_ERR_ARG);
    gh_tls_client_free(NULL);
    gh_tls_server_free(NULL);
}

static void test_hostname_valid(void **state)
{
    (void)state;
    assert_true(gh_tls_hostname_valid("hub.gatehouse.test"));
    assert_true(gh_tls_hostname_valid("a"));
    assert_true(gh_tls_hostname_valid("x-1.y_2.Z"));
    char label63[80], label64[80], long_name[300];
    memset(label63, 'a', 63);
    label63[63] = 0;
    memset(label64, 'a', 64);
    label64[64] = 0;
    assert_true(gh_tls_hostname_valid(label63));
    assert_false(gh_tls_hostname_valid(label64));
    /* 254 characters of "a." pairs + "a" */
    size_t n = 0;
    while (n < GH_TLS_HOSTNAME_MAX) {
        long_name[n++] = 'a';
        long_name[n++] = '.';
    }
    long_name[n++] = 'a';
    long_name[n] = 0;
    assert_false(gh_tls_hostname_valid(long_name));
    long_name[GH_TLS_HOSTNAME_MAX] = 0; /* 253 chars ending in 'a' */
    assert_true(gh_tls_hostname_valid(long_name));
    assert_false(gh_tls_hostname_valid(NULL));
    assert_false(gh_tls_hostname_valid(""));
    assert_false(gh_tls_hostname_valid("a..b"));
    assert_false(gh_tls_hostname_valid("a.b."));
    assert_false(gh_tls_hostname_valid("a:b"));
    assert_false(gh_tls_hostname_valid("caf\xc3\xa9"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_ok),
        cmocka_unit_test(test_missing_files),
        cmocka_unit_test(test_not_pem),
        cmocka_unit_test(test_key_mismatch),
        cmocka_unit_test(test_encrypted_key),
        cmocka_unit_test(test_not_regular_or_unreadable),
        cmocka_unit_test(test_too_large_and_too_many),
        cmocka_unit_test(test_required_fields),
        cmocka_unit_test(test_sni_config),
        cmocka_unit_test(test_client_ca),
        cmocka_unit_test(test_reload_errors_keep_old),
        cmocka_unit_test(test_client_ctx),
        cmocka_unit_test(test_hostname_valid),
    };
    return cmocka_run_group_tests(tests, nt_group_setup, nt_group_teardown);
}
