/* PKI files: bounded reads, passwords, state paths, atomic writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pki/pki_key.h"
#include "pki/pki_store.h"
#include "pki_test_util.h"

static int setup(void **state)
{
    char *dir = pt_mkdtemp();
    assert_non_null(dir);
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    pt_rmtree(*state);
    free(*state);
    return 0;
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static void test_file_read(void **state)
{
    const char *dir = *state;
    char *f = pt_path(dir, "r.txt");
    assert_int_equal(pt_write_file(f, "hello", 5), 0);
    uint8_t *data = NULL;
    size_t len = 0;
    struct gh_pki_diag d = {{0}};
    assert_int_equal(gh_pki_file_read(f, 5, &data, &len, &d), GH_OK);
    assert_int_equal(len, 5);
    assert_string_equal((char *)data, "hello");
    free(data);
    assert_int_equal(gh_pki_file_read(f, 4, &data, &len, &d), GH_ERR_TOO_LARGE);
    assert_non_null(strstr(d.msg, "larger than 4"));
    memset(&d, 0, sizeof d);
    char *missing = pt_path(dir, "missing");
    assert_int_equal(gh_pki_file_read(missing, 10, &data, &len, &d), GH_ERR_NOENT);
    assert_non_null(strstr(d.msg, missing));
    assert_int_equal(gh_pki_file_read(dir, 10, &data, &len, NULL), GH_ERR_IO);
    char *empty = pt_path(dir, "empty");
    assert_int_equal(pt_write_file(empty, "", 0), 0);
    assert_int_equal(gh_pki_file_read(empty, 10, &data, &len, NULL), GH_OK);
    assert_int_equal(len, 0);
    free(data);
    free(f);
    free(missing);
    free(empty);
}

static void test_passwords(void **state)
{
    const char *dir = *state;
    char *f = pt_path(dir, "pw");
    struct gh_pki_secret s = {0};
    assert_int_equal(pt_write_file(f, "s3cret\r\nsecond line\n", 20), 0);
    assert_int_equal(gh_pki_password_file(f, &s, NULL), GH_OK);
    assert_string_equal(s.data, "s3cret");
    assert_int_equal(s.len, 6);
    assert_int_equal(pt_write_file(f, "no newline", 10), 0);
    assert_int_equal(gh_pki_password_file(f, &s, NULL), GH_OK); /* replaces the old one */
    assert_string_equal(s.data, "no newline");
    gh_pki_secret_cleanup(&s);
    assert_null(s.data);
    gh_pki_secret_cleanup(&s); /* twice is fine */
    assert_int_equal(pt_write_file(f, "\n", 1), 0);
    struct gh_pki_diag d = {{0}};
    assert_int_equal(gh_pki_password_file(f, &s, &d), GH_ERR_ARG);
    assert_non_null(strstr(d.msg, "empty"));
    char *big = malloc(GH_PKI_PASSWORD_MAX + 1);
    memset(big, 'p', GH_PKI_PASSWORD_MAX + 1);
    assert_int_equal(pt_write_file(f, big, GH_PKI_PASSWORD_MAX + 1), 0);
    assert_int_equal(gh_pki_password_file(f, &s, NULL), GH_ERR_ARG);
    free(big);
    char *missing = pt_path(dir, "nope");
    assert_int_equal(gh_pki_password_file(missing, &s, NULL), GH_ERR_NOENT);
    free(missing);

    unsetenv("GH_PKI_TEST_PW");
    assert_int_equal(gh_pki_password_env("GH_PKI_TEST_PW", &s, NULL), GH_OK);
    assert_null(s.data);
    setenv("GH_PKI_TEST_PW", "from-env", 1);
    assert_int_equal(gh_pki_password_env("GH_PKI_TEST_PW", &s, NULL), GH_OK);
    assert_string_equal(s.data, "from-env");
    gh_pki_secret_cleanup(&s);
    setenv("GH_PKI_TEST_PW", "", 1);
    assert_int_equal(gh_pki_password_env("GH_PKI_TEST_PW", &s, NULL), GH_ERR_ARG);
    unsetenv("GH_PKI_TEST_PW");
    free(f);
}

static void test_state_paths(void **state)
{
    (void)state;
    struct gh_pki_paths *p = malloc(sizeof *p);
    assert_int_equal(gh_pki_state_paths("/x/pki", "edge-ca", p), GH_OK);
    assert_string_equal(p->cert, "/x/pki/certs/edge-ca.cert.pem");
    assert_string_equal(p->chain, "/x/pki/certs/edge-ca.chain.pem");
    assert_string_equal(p->key, "/x/pki/private/edge-ca.key.pem");
    assert_int_equal(gh_pki_state_paths("/x", "../etc", p), GH_ERR_ARG);
    assert_int_equal(gh_pki_state_paths("/x", "a/b", p), GH_ERR_ARG);
    assert_int_equal(gh_pki_state_paths("", "a", p), GH_ERR_ARG);
    char *longdir = malloc(GH_PKI_PATH_MAX);
    memset(longdir, 'd', GH_PKI_PATH_MAX - 1);
    longdir[GH_PKI_PATH_MAX - 1] = '\0';
    assert_int_equal(gh_pki_state_paths(longdir, "a", p), GH_ERR_TOO_LARGE);
    free(longdir);
    free(p);
}

static void test_outputs(void **state)
{
    const char *dir = *state;
    char *cert = pt_path(dir, "s/certs/a.cert.pem");
    char *key = pt_path(dir, "s/private/a.key.pem");
    char *priv = pt_path(dir, "s/private");
    struct gh_pki_output outs[2] = {
        {cert, "CERT\n", 5, false, false},
        {key, "KEY\n", 4, true, false},
    };
    assert_int_equal(gh_pki_outputs_check(outs, 2, NULL), GH_OK);
    assert_int_equal(gh_pki_outputs_write(outs, 2, NULL), GH_OK);
    assert_int_equal(mode_of(cert), 0644);
    assert_int_equal(mode_of(key), 0600);
    assert_int_equal(mode_of(priv), 0700);
    char *text = pt_read_file(key, NULL);
    assert_string_equal(text, "KEY\n");
    free(text);

    /* Existing files are not replaced, and nothing at all is written. */
    char *before = pt_snapshot(dir);
    outs[0].data = "NEW\n";
    outs[0].len = 4;
    struct gh_pki_diag d = {{0}};
    assert_int_equal(gh_pki_outputs_write(outs, 2, &d), GH_ERR_EXISTS);
    assert_non_null(strstr(d.msg, "already exists"));
    /* Only the key may not be replaced: the certificate is not either. */
    outs[0].replace = true;
    assert_int_equal(gh_pki_outputs_write(outs, 2, NULL), GH_ERR_EXISTS);
    char *after = pt_snapshot(dir);
    assert_string_equal(before, after);
    free(before);
    free(after);
    outs[1].replace = true;
    assert_int_equal(gh_pki_outputs_write(outs, 2, NULL), GH_OK);
    text = pt_read_file(cert, NULL);
    assert_string_equal(text, "NEW\n");
    free(text);
    assert_int_equal(mode_of(key), 0600);

    /* Same path twice, too many outputs, a parent that is a file. */
    struct gh_pki_output dup[2] = {{cert, "x", 1, false, true}, {cert, "y", 1, false, true}};
    assert_int_equal(gh_pki_outputs_write(dup, 2, NULL), GH_ERR_ARG);
    struct gh_pki_output many[GH_PKI_OUTPUTS_MAX + 1];
    for (size_t i = 0; i <= GH_PKI_OUTPUTS_MAX; i++)
        many[i] = (struct gh_pki_output){cert, "x", 1, false, true};
    assert_int_equal(gh_pki_outputs_write(many, GH_PKI_OUTPUTS_MAX + 1, NULL), GH_ERR_TOO_MANY);
    char *under_file = pt_path(dir, "s/certs/a.cert.pem/x.pem");
    struct gh_pki_output bad = {under_file, "x", 1, false, false};
    assert_int_equal(gh_pki_outputs_write(&bad, 1, NULL), GH_ERR_NOENT);
    struct gh_pki_output empty = {"", "x", 1, false, false};
    assert_int_equal(gh_pki_outputs_check(&empty, 1, NULL), GH_ERR_ARG);
    /* A directory where a file should go. */
    struct gh_pki_output isdir = {priv, "x", 1, false, true};
    assert_int_equal(gh_pki_outputs_check(&isdir, 1, NULL), GH_ERR_IO);

    /* No temporary file is left behind. */
    char *snap = pt_snapshot(dir);
    assert_null(strstr(snap, ".tmp-"));
    free(snap);
    free(under_file);
    free(cert);
    free(key);
    free(priv);
}

/* A second output that cannot be written (its temporary file name is too
 * long for the file system, the final name is not): the first, already in
 * its temporary file, is removed too (all or nothing). */
static void test_outputs_all_or_nothing(void **state)
{
    const char *dir = *state;
    char *a = pt_path(dir, "aon/a.pem");
    char longname[260] = "aon/";
    memset(longname + 4, 'n', 246);
    memcpy(longname + 250, ".pem", 5);
    char *b = pt_path(dir, longname);
    char *aon = pt_path(dir, "aon");
    assert_int_equal(mkdir(aon, 0755), 0);
    char *before = pt_snapshot(dir);
    struct gh_pki_output outs[2] = {{a, "A", 1, false, false}, {b, "B", 1, false, false}};
    struct gh_pki_diag d = {{0}};
    assert_int_equal(gh_pki_outputs_check(outs, 2, NULL), GH_OK);
    assert_int_equal(gh_pki_outputs_write(outs, 2, &d), GH_ERR_IO);
    assert_non_null(strstr(d.msg, "cannot create a file"));
    char *after = pt_snapshot(dir);
    assert_string_equal(before, after);
    free(before);
    free(after);
    free(a);
    free(b);
    free(aon);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_read),
        cmocka_unit_test(test_passwords),
        cmocka_unit_test(test_state_paths),
        cmocka_unit_test(test_outputs),
        cmocka_unit_test(test_outputs_all_or_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
