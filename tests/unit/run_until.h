/* Shared by the unit tests that drive a libevent loop: run it until a
 * condition holds or a deadline passes. Header-only; include after
 * <event2/event.h>. */
#ifndef GH_TESTS_UNIT_RUN_UNTIL_H
#define GH_TESTS_UNIT_RUN_UNTIL_H

#include <stdbool.h>
#include <sys/time.h>

#include <event2/event.h>

static void gh_test_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    *(bool *)arg = true;
}

/* Run base until cond(arg) holds or ms pass; returns cond(arg). cond NULL:
 * run for ms (a deadline, not a synchronisation) and return true. */
__attribute__((unused)) static bool gh_test_run_until(struct event_base *base, bool (*cond)(void *),
                                                      void *arg, unsigned ms)
{
    bool fired = false;
    struct event *t = evtimer_new(base, gh_test_deadline_cb, &fired);
    struct timeval tv = {(time_t)(ms / 1000u), (suseconds_t)((ms % 1000u) * 1000u)};
    evtimer_add(t, &tv);
    while (!(cond && cond(arg)) && !fired) event_base_loop(base, EVLOOP_ONCE);
    event_free(t);
    return cond ? cond(arg) : true;
}

#endif
