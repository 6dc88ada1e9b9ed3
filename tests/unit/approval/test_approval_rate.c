/*  test_approval_rate.c — the tools/call budgets of the approval actor
    (actors/approval/rate.c): a bucket of rpm tokens refilled at rpm a
    minute, the wait it names when empty, a change of the limit applied at
    the next call, idle buckets expired without effect, and a full table
    evicting the least recently used bucket, counted.

    Linked against approval_core, as the actor is. Times are given, not
    read from a clock.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include "rate.h"

static int
s_allowed (rate_t *rate, const char *client, int64_t rpm, int64_t now, int calls)
{
    int allowed = 0;
    for (int i = 0; i < calls; i++) {
        rate_verdict_t v;
        rate_take (rate, client, rpm, now, &v);
        allowed += v.allowed;
    }
    return allowed;
}

static void
test_bucket (void **state)
{
    (void) state;
    rate_t *rate = rate_new (0);
    assert_non_null (rate);
    //  a new client starts with rpm tokens, then is refused
    assert_int_equal (s_allowed (rate, "a", 10, 1000, 50), 10);
    rate_verdict_t v;
    rate_take (rate, "a", 10, 1000, &v);
    assert_false (v.allowed);
    assert_int_equal (v.retry_after_ms, 6000);          //  one token per 6 s
    //  half the wait later, half the wait is left
    rate_take (rate, "a", 10, 4000, &v);
    assert_false (v.allowed);
    assert_int_equal (v.retry_after_ms, 3000);
    //  after 6 s one token is back, exactly one
    assert_int_equal (s_allowed (rate, "a", 10, 7000, 3), 1);
    //  another client has its own bucket
    assert_int_equal (s_allowed (rate, "b", 10, 7000, 11), 10);
    rate_stats_t stats;
    rate_stats (rate, &stats);
    assert_int_equal (stats.clients, 2);
    assert_int_equal (stats.allowed, 21);
    assert_int_equal (stats.limited, 50 - 10 + 2 + 2 + 1);
    rate_destroy (&rate);
    assert_null (rate);
}

static void
test_limit_changes (void **state)
{
    (void) state;
    rate_t *rate = rate_new (0);
    assert_int_equal (s_allowed (rate, "a", 300, 0, 5), 5);
    //  lowered to 10: at most 10 more, at once
    assert_int_equal (s_allowed (rate, "a", 10, 0, 20), 10);
    //  raised to 6000 (100 a second): 10 ms later one token is back
    rate_verdict_t v;
    rate_take (rate, "a", 6000, 0, &v);
    assert_false (v.allowed);
    assert_int_equal (v.retry_after_ms, 10);
    assert_int_equal (s_allowed (rate, "a", 6000, 10, 2), 1);
    rate_destroy (&rate);
}

static void
test_expiry_and_eviction (void **state)
{
    (void) state;
    rate_t *rate = rate_new (3);
    assert_int_equal (s_allowed (rate, "a", 10, 0, 10), 10);
    assert_int_equal (s_allowed (rate, "b", 10, 100, 1), 1);
    assert_int_equal (s_allowed (rate, "c", 10, 200, 1), 1);
    //  the table is full of live buckets: "d" evicts "a", the oldest
    assert_int_equal (s_allowed (rate, "d", 10, 300, 1), 1);
    rate_stats_t stats;
    rate_stats (rate, &stats);
    assert_int_equal (stats.clients, 3);
    assert_int_equal (stats.evicted, 1);
    assert_int_equal (stats.expired, 0);
    //  which is the loss eviction means: "a" starts full again
    assert_int_equal (s_allowed (rate, "a", 10, 400, 10), 10);
    rate_stats (rate, &stats);
    assert_int_equal (stats.evicted, 2);                //  "b" made room
    //  a minute idle: dropped, and no one is evicted for a newcomer
    assert_int_equal (rate_expire (rate, 60200), 1);    //  "c"
    assert_int_equal (s_allowed (rate, "e", 10, 60300, 1), 1);
    rate_stats (rate, &stats);
    assert_int_equal (stats.evicted, 2);
    assert_int_equal (stats.expired, 1);
    assert_int_equal (stats.clients, 3);
    //  an idle bucket is as full as a new one: expiring it changes nothing
    assert_int_equal (rate_expire (rate, 200000), 3);
    rate_stats (rate, &stats);
    assert_int_equal (stats.clients, 0);
    assert_int_equal (stats.clients_max, 3);
    rate_destroy (&rate);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_bucket),
        cmocka_unit_test (test_limit_changes),
        cmocka_unit_test (test_expiry_and_eviction),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
