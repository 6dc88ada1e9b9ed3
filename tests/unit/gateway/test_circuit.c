/*  test_circuit.c — the circuit breaker's state machine (actors/gateway/
    circuit.c): opens after `threshold` infrastructure failures in a row
    (a success between them starts the count again), refuses while open,
    half-opens after open_ms with exactly one probe, which closes it on
    success and opens it again on failure; late verdicts of calls sent
    before it opened change nothing; an abandoned probe lets the next call
    probe. Only no_worker, worker_lost and timeout count.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>

#include "circuit.h"

static void
test_opens_after_threshold_in_a_row (void **state)
{
    (void) state;
    circuit_t *circuit = circuit_new (3, 1000);
    assert_int_equal (circuit_admit (circuit, 0), CIRCUIT_PASS);
    assert_int_equal (circuit_failure (circuit, false, 0), CIRCUIT_SAME);
    assert_int_equal (circuit_failure (circuit, false, 0), CIRCUIT_SAME);
    //  a success starts the count again
    assert_int_equal (circuit_success (circuit, false), CIRCUIT_SAME);
    assert_int_equal (circuit_failure (circuit, false, 0), CIRCUIT_SAME);
    assert_int_equal (circuit_failure (circuit, false, 0), CIRCUIT_SAME);
    assert_int_equal (circuit_state (circuit, 0), CIRCUIT_CLOSED);
    assert_int_equal (circuit_failure (circuit, false, 10), CIRCUIT_OPENED);
    assert_int_equal (circuit_state (circuit, 10), CIRCUIT_OPEN);
    assert_int_equal (circuit_admit (circuit, 20), CIRCUIT_REJECT);
    assert_int_equal (circuit_retry_in_ms (circuit, 20), 990);
    //  a late failure of a call sent before it opened does not extend it
    assert_int_equal (circuit_failure (circuit, false, 500), CIRCUIT_SAME);
    assert_int_equal (circuit_state (circuit, 1009), CIRCUIT_OPEN);
    assert_int_equal (circuit_state (circuit, 1010), CIRCUIT_HALF_OPEN);
    circuit_stats_t stats;
    circuit_stats (circuit, 1010, &stats);
    assert_int_equal (stats.opened, 1);
    assert_int_equal (stats.rejected, 1);
    assert_int_equal (stats.failures, 6);
    circuit_destroy (&circuit);
    assert_null (circuit);
}

static void
test_one_probe_closes_or_reopens (void **state)
{
    (void) state;
    circuit_t *circuit = circuit_new (1, 100);
    assert_int_equal (circuit_failure (circuit, false, 0), CIRCUIT_OPENED);
    assert_int_equal (circuit_admit (circuit, 100), CIRCUIT_PROBE);
    assert_int_equal (circuit_admit (circuit, 101), CIRCUIT_REJECT);
    //  a success of a call that is not the probe does not close it
    assert_int_equal (circuit_success (circuit, false), CIRCUIT_SAME);
    //  the probe fails: open again for another open_ms
    assert_int_equal (circuit_failure (circuit, true, 150), CIRCUIT_OPENED);
    assert_int_equal (circuit_admit (circuit, 200), CIRCUIT_REJECT);
    assert_int_equal (circuit_admit (circuit, 250), CIRCUIT_PROBE);
    assert_int_equal (circuit_success (circuit, true), CIRCUIT_CLOSED_AGAIN);
    assert_int_equal (circuit_state (circuit, 251), CIRCUIT_CLOSED);
    assert_int_equal (circuit_admit (circuit, 251), CIRCUIT_PASS);
    assert_int_equal (circuit_admit (circuit, 251), CIRCUIT_PASS);
    circuit_stats_t stats;
    circuit_stats (circuit, 251, &stats);
    assert_int_equal (stats.opened, 2);
    assert_int_equal (stats.closed, 1);
    assert_int_equal (stats.probes, 2);
    assert_int_equal (stats.consecutive, 0);
    circuit_destroy (&circuit);
}

static void
test_an_abandoned_probe_lets_the_next_call_probe (void **state)
{
    (void) state;
    circuit_t *circuit = circuit_new (2, 50);
    circuit_failure (circuit, false, 0);
    circuit_failure (circuit, false, 0);
    assert_int_equal (circuit_admit (circuit, 60), CIRCUIT_PROBE);
    circuit_abandon (circuit, true);
    assert_int_equal (circuit_admit (circuit, 61), CIRCUIT_PROBE);
    assert_int_equal (circuit_admit (circuit, 62), CIRCUIT_REJECT);
    circuit_destroy (&circuit);
}

static void
test_which_errors_count (void **state)
{
    (void) state;
    assert_true (circuit_counts_error (BUS_ERR_NO_WORKER));
    assert_true (circuit_counts_error (BUS_ERR_WORKER_LOST));
    assert_true (circuit_counts_error (BUS_ERR_TIMEOUT));
    for (int code = 0; code < BUS_ERR_COUNT_; code++)
        if (code != BUS_ERR_NO_WORKER && code != BUS_ERR_WORKER_LOST && code != BUS_ERR_TIMEOUT)
            assert_false (circuit_counts_error ((bus_error_t) code));
    assert_string_equal (circuit_state_name (CIRCUIT_HALF_OPEN), "half_open");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_opens_after_threshold_in_a_row),
        cmocka_unit_test (test_one_probe_closes_or_reopens),
        cmocka_unit_test (test_an_abandoned_probe_lets_the_next_call_probe),
        cmocka_unit_test (test_which_errors_count),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
