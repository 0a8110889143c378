/* gh_worker: a job runs on another thread and comes back on the loop; one
 * job at a time; waiting hands the job back inline; done() may submit the
 * next job; freeing settles a job in flight. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "../run_until.h"
#include "net/worker.h"

struct job {
    pthread_t ran_on;
    int runs;
    unsigned sleep_us;
};

struct seen {
    struct job *last;
    int done;
    struct gh_worker *w; /* for resubmission from done() */
    int resubmit;        /* jobs still to submit from done() */
    pthread_t done_on;
};

static void run(void *p)
{
    struct job *j = p;
    if (j->sleep_us) usleep(j->sleep_us);
    j->ran_on = pthread_self();
    j->runs++;
}

static void on_done(void *arg, void *p)
{
    struct seen *s = arg;
    s->last = p;
    s->done++;
    s->done_on = pthread_self();
    if (s->resubmit > 0) {
        s->resubmit--;
        assert_int_equal(gh_worker_submit(s->w, run, p), GH_OK);
    }
}

static bool done_at_least(void *arg)
{
    struct seen *s = arg;
    return s->done >= 1 && !gh_worker_busy(s->w);
}

static void test_runs_elsewhere_reports_here(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    struct seen s = {0};
    assert_int_equal(gh_worker_new(base, on_done, &s, &s.w), GH_OK);
    assert_false(gh_worker_busy(s.w));
    struct job j = {.sleep_us = 20000};
    assert_int_equal(gh_worker_submit(s.w, run, &j), GH_OK);
    assert_true(gh_worker_busy(s.w));
    /* one job at a time */
    struct job other = {0};
    assert_int_equal(gh_worker_submit(s.w, run, &other), GH_ERR_CONFLICT);
    assert_int_equal(s.done, 0); /* not reported before the loop runs */
    assert_true(gh_test_run_until(base, done_at_least, &s, 5000));
    assert_int_equal(s.done, 1);
    assert_ptr_equal(s.last, &j);
    assert_int_equal(j.runs, 1);
    assert_int_equal(other.runs, 0);
    assert_false(pthread_equal(j.ran_on, pthread_self()));
    assert_true(pthread_equal(s.done_on, pthread_self()));
    gh_worker_free(s.w);
    event_base_free(base);
}

static void test_wait_hands_back_inline(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    struct seen s = {0};
    assert_int_equal(gh_worker_new(base, on_done, &s, &s.w), GH_OK);
    gh_worker_wait(s.w); /* idle: nothing happens */
    assert_int_equal(s.done, 0);
    struct job j = {.sleep_us = 20000};
    assert_int_equal(gh_worker_submit(s.w, run, &j), GH_OK);
    gh_worker_wait(s.w);
    assert_int_equal(s.done, 1);
    assert_int_equal(j.runs, 1);
    assert_false(gh_worker_busy(s.w));
    /* the thread's notice arrives later and finds nothing to report */
    assert_true(gh_test_run_until(base, NULL, NULL, 50));
    assert_int_equal(s.done, 1);
    /* and the next job still works through the loop */
    assert_int_equal(gh_worker_submit(s.w, run, &j), GH_OK);
    assert_true(gh_test_run_until(base, done_at_least, &s, 5000));
    assert_int_equal(s.done, 2);
    assert_int_equal(j.runs, 2);
    gh_worker_free(s.w);
    event_base_free(base);
}

static bool done_three(void *arg)
{
    struct seen *s = arg;
    return s->done >= 3;
}

static void test_done_submits_next(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    struct seen s = {.resubmit = 2};
    assert_int_equal(gh_worker_new(base, on_done, &s, &s.w), GH_OK);
    struct job j = {0};
    assert_int_equal(gh_worker_submit(s.w, run, &j), GH_OK);
    assert_true(gh_test_run_until(base, done_three, &s, 5000));
    assert_int_equal(j.runs, 3);
    assert_false(gh_worker_busy(s.w));
    gh_worker_free(s.w);
    event_base_free(base);
}

static void test_free_settles_flight(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    struct seen s = {.resubmit = 1};
    assert_int_equal(gh_worker_new(base, on_done, &s, &s.w), GH_OK);
    struct job j = {.sleep_us = 20000};
    assert_int_equal(gh_worker_submit(s.w, run, &j), GH_OK);
    gh_worker_free(s.w); /* the job, and the one its done() submits */
    assert_int_equal(s.done, 2);
    assert_int_equal(j.runs, 2);
    gh_worker_free(NULL);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runs_elsewhere_reports_here),
        cmocka_unit_test(test_wait_hands_back_inline),
        cmocka_unit_test(test_done_submits_next),
        cmocka_unit_test(test_free_settles_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
