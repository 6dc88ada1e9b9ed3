/*  test_tunnel_backoff.c — restart delays of the tunnel client
    (backoff.c): doubling from the minimum to the cap, a reset after a
    stable connection (and not after a short one), an explicit reset.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "backoff.h"

static void
test_doubles_to_the_cap (void **state)
{
    (void) state;
    backoff_t b;
    backoff_init (&b, 1000, 60000, 60000);
    int64_t expected [] = { 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000 };
    for (size_t i = 0; i < sizeof expected / sizeof expected [0]; i++)
        assert_int_equal (backoff_failed (&b, (int64_t) i * 100), expected [i]);
    assert_int_equal (b.failures, 8);
}

static void
test_stable_connection_resets (void **state)
{
    (void) state;
    backoff_t b;
    backoff_init (&b, 200, 10000, 30000);
    assert_int_equal (backoff_failed (&b, 0), 200);
    assert_int_equal (backoff_failed (&b, 1000), 400);
    //  connected, but down again before the stable period: keeps growing
    backoff_connected (&b, 2000);
    assert_int_equal (backoff_failed (&b, 2000 + 29999), 800);
    //  connected for the stable period: starts over
    backoff_connected (&b, 40000);
    backoff_connected (&b, 50000);          //  a second "up" keeps the first time
    assert_int_equal (backoff_failed (&b, 70000), 200);
    assert_int_equal (b.failures, 1);
    assert_int_equal (backoff_failed (&b, 70100), 400);
    backoff_reset (&b);
    assert_int_equal (backoff_failed (&b, 70200), 200);
}

static void
test_bad_bounds_are_clamped (void **state)
{
    (void) state;
    backoff_t b;
    backoff_init (&b, 0, -5, 0);
    assert_int_equal (backoff_failed (&b, 0), 1);
    assert_int_equal (backoff_failed (&b, 0), 1);
    backoff_init (&b, 3, 10, 1);
    assert_int_equal (backoff_failed (&b, 0), 3);
    assert_int_equal (backoff_failed (&b, 0), 6);
    assert_int_equal (backoff_failed (&b, 0), 10);
    assert_int_equal (backoff_failed (&b, 0), 10);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_doubles_to_the_cap),
        cmocka_unit_test (test_stable_connection_resets),
        cmocka_unit_test (test_bad_bounds_are_clamped),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
