/*  test_executor_pool.c — rows of the executor pool from a `broker workers`
    reply. What an executor says of itself (about) is hostile until read:
    a field of the wrong type, over its bound, or with a NUL is left out
    (null), labels keep only short strings and at most EXECUTOR_POOL_LABELS,
    workers of other services are not rows; rows are sorted by process.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "executor_pool.h"

static json_t *
s_rows (const char *text)
{
    json_error_t error;
    json_t *reply = json_loads (text, 0, &error);
    assert_non_null (reply);
    json_t *rows = executor_pool_rows (reply);
    json_decref (reply);
    assert_non_null (rows);
    return rows;
}

static void
test_rows_read_by_type_and_bound (void **state)
{
    (void) state;
    json_t *rows = s_rows (
        "{\"workers\": ["
        " {\"id\": 2, \"service\": \"sandbox\", \"origin\": \"local\", \"address\": \"localhost:0:0:7\","
        "  \"credit\": 4, \"in_flight\": 1, \"served\": 9, \"registered_at\": \"2026-12-06T05:00:00.000Z\","
        "  \"last_seen\": \"2026-12-06T05:01:00.000Z\", \"idle_ms\": 12,"
        "  \"about\": {\"host\": \"vm\", \"pid\": 7, \"process\": \"executor-b\", \"restarts\": 2,"
        "             \"version\": \"0.1.0\", \"slots\": 4, \"labels\": {\"zone\": \"a\", \"gpu\": 1}}},"
        " {\"id\": 1, \"service\": \"sandbox\", \"credit\": \"many\", \"in_flight\": -1,"
        "  \"about\": {\"host\": 5, \"pid\": \"x\", \"process\": \"executor-a\", \"restarts\": -3,"
        "             \"labels\": [\"not\", \"a map\"]}},"
        " {\"id\": 3, \"service\": \"registry\", \"about\": {}},"
        " {\"id\": 4, \"service\": \"sandbox\", \"about\": \"not a map\"},"
        " 17"
        "]}");
    assert_int_equal (json_array_size (rows), 3);
    //  sorted by process: "" (no about) first, then executor-a, executor-b
    json_t *none = json_array_get (rows, 0);
    json_t *a = json_array_get (rows, 1);
    json_t *b = json_array_get (rows, 2);
    assert_true (json_is_null (json_object_get (none, "process")));
    assert_int_equal (json_object_size (json_object_get (none, "labels")), 0);

    assert_string_equal (json_string_value (json_object_get (a, "process")), "executor-a");
    assert_true (json_is_null (json_object_get (a, "host")));        //  5 is not a string
    assert_true (json_is_null (json_object_get (a, "pid")));
    assert_true (json_is_null (json_object_get (a, "restarts")));    //  negative
    assert_true (json_is_null (json_object_get (a, "credit")));
    assert_true (json_is_null (json_object_get (a, "in_flight")));
    assert_int_equal (json_object_size (json_object_get (a, "labels")), 0);

    assert_string_equal (json_string_value (json_object_get (b, "host")), "vm");
    assert_int_equal (json_integer_value (json_object_get (b, "pid")), 7);
    assert_int_equal (json_integer_value (json_object_get (b, "restarts")), 2);
    assert_int_equal (json_integer_value (json_object_get (b, "served")), 9);
    assert_int_equal (json_integer_value (json_object_get (b, "in_flight")), 1);
    assert_string_equal (json_string_value (json_object_get (b, "address")), "localhost:0:0:7");
    json_t *labels = json_object_get (b, "labels");
    assert_int_equal (json_object_size (labels), 1);                 //  gpu: 1 is not a string
    assert_string_equal (json_string_value (json_object_get (labels, "zone")), "a");

    json_t *totals = executor_pool_totals (rows);
    assert_int_equal (json_integer_value (json_object_get (totals, "executors")), 3);
    assert_int_equal (json_integer_value (json_object_get (totals, "credit")), 4);
    assert_int_equal (json_integer_value (json_object_get (totals, "served")), 9);
    assert_int_equal (json_integer_value (json_object_get (totals, "restarts")), 2);
    json_decref (totals);
    json_decref (rows);
}

static void
test_bounds (void **state)
{
    (void) state;
    char long_host [EXECUTOR_POOL_TEXT_MAX + 2];
    memset (long_host, 'h', sizeof long_host - 1);
    long_host [sizeof long_host - 1] = 0;
    json_t *labels = json_object ();
    for (int i = 0; i < EXECUTOR_POOL_LABELS + 10; i++) {
        char name [16];
        snprintf (name, sizeof name, "l%d", i);
        json_object_set_new (labels, name, json_string ("v"));
    }
    char long_value [EXECUTOR_POOL_LABEL_MAX + 2];
    memset (long_value, 'v', sizeof long_value - 1);
    long_value [sizeof long_value - 1] = 0;
    json_t *about = json_pack ("{s:s, s:s%, s:o}", "host", long_host,
                               "process", "exec\0utor", (size_t) 9, "labels", labels);
    json_t *reply = json_pack ("{s:[{s:s, s:I, s:o}, {s:s, s:I, s:{s:s, s:{s:s}}}]}",
                               "workers", "service", "sandbox", "id", (json_int_t) 1, "about", about,
                               "service", "sandbox", "id", (json_int_t) 2, "about",
                               "host", "h", "labels", "big", long_value);
    assert_non_null (reply);
    json_t *rows = executor_pool_rows (reply);
    json_decref (reply);
    json_t *first = json_array_get (rows, 0);
    json_t *second = json_array_get (rows, 1);
    //  one of them has no process (NUL inside): sorted first
    if (json_integer_value (json_object_get (first, "id")) != 1) {
        json_t *swap = first; first = second; second = swap;
    }
    assert_true (json_is_null (json_object_get (first, "host")));    //  256 characters
    assert_true (json_is_null (json_object_get (first, "process"))); //  a NUL inside
    assert_int_equal (json_object_size (json_object_get (first, "labels")), EXECUTOR_POOL_LABELS);
    assert_int_equal (json_object_size (json_object_get (second, "labels")), 0);
    json_decref (rows);

    //  nothing usable: no rows, zero totals
    rows = executor_pool_rows (NULL);
    assert_int_equal (json_array_size (rows), 0);
    json_t *totals = executor_pool_totals (rows);
    assert_int_equal (json_integer_value (json_object_get (totals, "executors")), 0);
    json_decref (totals);
    json_decref (rows);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_rows_read_by_type_and_bound),
        cmocka_unit_test (test_bounds),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
