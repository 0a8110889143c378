/* The hub's recently-stored (device, message id) set for gateway links. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>

#include "hub/dedupe.h"

static void test_key(void **state)
{
    (void)state;
    uint64_t a = gh_hub_dedupe_key("c1", gh_slice_cstr("m1"));
    assert_int_not_equal(a, 0);
    assert_int_equal(a, gh_hub_dedupe_key("c1", gh_slice_cstr("m1")));
    assert_int_not_equal(a, gh_hub_dedupe_key("c1", gh_slice_cstr("m2")));
    assert_int_not_equal(a, gh_hub_dedupe_key("c2", gh_slice_cstr("m1")));
    /* The separator keeps ("c1m", "1") apart from ("c1", "m1"). */
    assert_int_not_equal(a, gh_hub_dedupe_key("c1m", gh_slice_cstr("1")));
}

static void test_seen_and_eviction(void **state)
{
    (void)state;
    struct gh_hub_dedupe *d;
    assert_int_equal(gh_hub_dedupe_new(&d), GH_OK);
    assert_false(gh_hub_dedupe_seen(d, 0));
    gh_hub_dedupe_add(d, 0); /* no message id: ignored */
    assert_false(gh_hub_dedupe_seen(d, 0));
    for (uint64_t k = 1; k <= GH_HUB_DEDUPE_CAP; k++) gh_hub_dedupe_add(d, k * 0x10000u);
    for (uint64_t k = 1; k <= GH_HUB_DEDUPE_CAP; k++)
        assert_true(gh_hub_dedupe_seen(d, k * 0x10000u));
    gh_hub_dedupe_add(d, 0x10000u); /* already there: no change */
    /* One more evicts the oldest only. Keys share their low bits, so this
     * exercises long probe runs and their repair on deletion. */
    gh_hub_dedupe_add(d, 7);
    assert_false(gh_hub_dedupe_seen(d, 0x10000u));
    assert_true(gh_hub_dedupe_seen(d, 0x20000u));
    assert_true(gh_hub_dedupe_seen(d, 7));
    for (uint64_t k = 2; k <= GH_HUB_DEDUPE_CAP; k++)
        assert_true(gh_hub_dedupe_seen(d, k * 0x10000u));
    assert_int_equal(gh_hub_dedupe_dropped(d), 0);
    gh_hub_dedupe_count_drop(d);
    assert_int_equal(gh_hub_dedupe_dropped(d), 1);
    gh_hub_dedupe_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key),
        cmocka_unit_test(test_seen_and_eviction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
