/* The child frame prefix of gateway links (docs/edge-link.md):
 * gh_hub_link_split and gh_hub_link_frame. Every input is copied into a
 * buffer of exactly its length, so a read past the end trips ASan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hub/session_int.h"

struct split {
    gh_err rc;
    char child[GH_IDENTITY_ID_MAX + 2];
    char rest[512];
};

static struct split run(const char *topic)
{
    struct split out;
    memset(&out, 0, sizeof out);
    size_t n = strlen(topic);
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, topic, n);
    struct gh_slice c = {(const uint8_t *)"untouched", 9}, r = c;
    out.rc = gh_hub_link_split((struct gh_slice){copy, n}, &c, &r);
    if (out.rc == GH_OK) {
        assert_true(c.ptr >= copy && c.ptr + c.len <= copy + n);
        assert_true(r.ptr >= copy && r.ptr + r.len == copy + n);
        memcpy(out.child, c.ptr, c.len);
        memcpy(out.rest, r.ptr, r.len);
    } else {
        /* outputs untouched on error */
        assert_true(gh_slice_eq_cstr(c, "untouched"));
        assert_true(gh_slice_eq_cstr(r, "untouched"));
    }
    free(copy);
    return out;
}

static void test_valid_frames(void **state)
{
    (void)state;
    struct split s = run("$gh/c/child-1/devices/child-1/messages/events/%24.mid=1");
    assert_int_equal(s.rc, GH_OK);
    assert_string_equal(s.child, "child-1");
    assert_string_equal(s.rest, "devices/child-1/messages/events/%24.mid=1");
    s = run("$gh/c/c/$attach");
    assert_int_equal(s.rc, GH_OK);
    assert_string_equal(s.child, "c");
    assert_string_equal(s.rest, "$attach");
    s = run("$gh/c/dev.1/$iothub/twin/res/#");
    assert_int_equal(s.rc, GH_OK);
    assert_string_equal(s.rest, "$iothub/twin/res/#");
    /* the rest is taken verbatim, further slashes included */
    s = run("$gh/c/d//");
    assert_int_equal(s.rc, GH_OK);
    assert_string_equal(s.rest, "/");
}

static void test_malformed_frames(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "$gh/",
        "$gh/c",
        "$gh/c/",
        "$gh/c//x",
        "$gh/c/child",
        "$gh/c/child/",
        "$gh/x/child/y",
        "$GH/c/child/y",
        "gh/c/child/y",
        "$gh/c/a b/x",
        "$gh/c/a\x01/x",
        "$gh/c/caf\xc3\xa9/x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct split s = run(bad[i]);
        assert_int_equal(s.rc, GH_ERR_BAD_TOPIC);
    }
    struct gh_slice c, r;
    assert_int_equal(gh_hub_link_split(GH_SLICE_EMPTY, &c, &r), GH_ERR_BAD_TOPIC);
}

static void test_child_id_length(void **state)
{
    (void)state;
    char topic[GH_IDENTITY_ID_MAX + 32];
    char id[GH_IDENTITY_ID_MAX + 2];
    memset(id, 'a', GH_IDENTITY_ID_MAX);
    id[GH_IDENTITY_ID_MAX] = '\0';
    snprintf(topic, sizeof topic, "$gh/c/%s/$detach", id);
    struct split s = run(topic);
    assert_int_equal(s.rc, GH_OK);
    assert_int_equal(strlen(s.child), GH_IDENTITY_ID_MAX);
    memset(id, 'a', GH_IDENTITY_ID_MAX + 1);
    id[GH_IDENTITY_ID_MAX + 1] = '\0';
    snprintf(topic, sizeof topic, "$gh/c/%s/$detach", id);
    s = run(topic);
    assert_int_equal(s.rc, GH_ERR_BAD_TOPIC);
}

static void test_namespace(void **state)
{
    (void)state;
    assert_true(gh_hub_link_frame(gh_slice_cstr("$gh/c/x/$attach")));
    assert_true(gh_hub_link_frame(gh_slice_cstr("$gh/anything")));
    assert_false(gh_hub_link_frame(gh_slice_cstr("$gh")));
    assert_false(gh_hub_link_frame(gh_slice_cstr("$ghx/c/x/y")));
    assert_false(gh_hub_link_frame(gh_slice_cstr("$iothub/twin/res/#")));
    assert_false(gh_hub_link_frame(gh_slice_cstr("devices/x/messages/events/")));
    assert_false(gh_hub_link_frame(GH_SLICE_EMPTY));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_frames),
        cmocka_unit_test(test_malformed_frames),
        cmocka_unit_test(test_child_id_length),
        cmocka_unit_test(test_namespace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
