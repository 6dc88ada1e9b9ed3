/*  test_mcp_events.c — the ring of numbered SSE events kept for replay.

    Ids start at 1 and increase by one; the events after an id come back
    oldest first; an id that fell out of the ring, or one beyond the
    newest, is a gap (counted, nothing visited); Last-Event-ID values are
    plain decimal numbers within uint64.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "mcp_events.h"

typedef struct {
    uint64_t ids [16];
    char     data [16][16];
    size_t   count;
} seen_t;

static void
s_visit (void *arg, uint64_t id, const char *data)
{
    seen_t *seen = arg;
    assert_true (seen->count < 16);
    seen->ids [seen->count] = id;
    snprintf (seen->data [seen->count], sizeof seen->data [0], "%s", data);
    seen->count++;
}

static void
test_ids_and_replay (void **state)
{
    (void) state;
    mcp_events_t *events = mcp_events_new (4);
    seen_t seen = { 0 };
    assert_int_equal (mcp_events_last (events), 0);
    assert_int_equal (mcp_events_since (events, 0, s_visit, &seen), 0);
    assert_int_equal (seen.count, 0);
    char text [8];
    for (int i = 1; i <= 3; i++) {
        snprintf (text, sizeof text, "e%d", i);
        assert_int_equal (mcp_events_add (events, text), (uint64_t) i);
    }
    assert_int_equal (mcp_events_since (events, 1, s_visit, &seen), 0);
    assert_int_equal (seen.count, 2);
    assert_int_equal (seen.ids [0], 2);
    assert_string_equal (seen.data [0], "e2");
    assert_int_equal (seen.ids [1], 3);
    assert_string_equal (seen.data [1], "e3");
    //  up to date: nothing to send, not a gap
    memset (&seen, 0, sizeof seen);
    assert_int_equal (mcp_events_since (events, 3, s_visit, &seen), 0);
    assert_int_equal (seen.count, 0);
    assert_int_equal (mcp_events_gaps (events), 0);
    mcp_events_destroy (&events);
    assert_null (events);
}

static void
test_gaps (void **state)
{
    (void) state;
    mcp_events_t *events = mcp_events_new (4);
    for (int i = 1; i <= 10; i++)
        mcp_events_add (events, "x");
    //  kept: 7..10, so a client at 6 misses nothing kept, one at 5 missed 6
    seen_t seen = { 0 };
    assert_int_equal (mcp_events_since (events, 6, s_visit, &seen), 0);
    assert_int_equal (seen.count, 4);
    assert_int_equal (seen.ids [0], 7);
    assert_int_equal (seen.ids [3], 10);
    memset (&seen, 0, sizeof seen);
    assert_int_equal (mcp_events_since (events, 5, s_visit, &seen), -1);
    assert_int_equal (seen.count, 0);
    assert_int_equal (mcp_events_since (events, 0, s_visit, &seen), -1);
    //  beyond the newest: not one of ours
    assert_int_equal (mcp_events_since (events, 11, s_visit, &seen), -1);
    assert_int_equal (mcp_events_since (events, UINT64_MAX, s_visit, &seen), -1);
    assert_int_equal (seen.count, 0);
    assert_int_equal (mcp_events_gaps (events), 4);
    mcp_events_destroy (&events);
}

static void
test_parse_id (void **state)
{
    (void) state;
    uint64_t id = 99;
    assert_true (mcp_events_parse_id ("0", &id));
    assert_int_equal (id, 0);
    assert_true (mcp_events_parse_id ("42", &id));
    assert_int_equal (id, 42);
    assert_true (mcp_events_parse_id ("18446744073709551615", &id));
    assert_int_equal (id, UINT64_MAX);
    const char *bad [] = { "", "-1", "+1", "01", " 1", "1 ", "1a", "0x10", "1.0",
                           "18446744073709551616", "99999999999999999999",
                           "123456789012345678901", NULL };
    for (int i = 0; bad [i]; i++) {
        id = 7;
        assert_false (mcp_events_parse_id (bad [i], &id));
        assert_int_equal (id, 7);
    }
    assert_false (mcp_events_parse_id (NULL, &id));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_ids_and_replay),
        cmocka_unit_test (test_gaps),
        cmocka_unit_test (test_parse_id),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
