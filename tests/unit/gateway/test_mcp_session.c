/*  test_mcp_session.c — the MCP session table.

    Ids are 64 lowercase hex characters and distinct; lookups touch;
    idle sessions expire (on lookup and on sweep); a full table drops the
    least recently used; every end goes through the drop callback; the
    sessions' clock is the caller's (no sleeping here).
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "mcp_session.h"

typedef struct {
    int  drops;
    char last [MCP_SESSION_ID_LEN + 1];
} drops_t;

static void
s_on_drop (void *arg, mcp_session_t *session)
{
    drops_t *drops = arg;
    drops->drops++;
    memcpy (drops->last, session->id, sizeof drops->last);
}

static void
test_ids_are_random_hex (void **state)
{
    (void) state;
    mcp_sessions_t *sessions = mcp_sessions_new (100, 1000, NULL, NULL);
    char seen [50][MCP_SESSION_ID_LEN + 1];
    for (int i = 0; i < 50; i++) {
        mcp_session_t *session = mcp_sessions_create (sessions, "2025-11-25", 0);
        assert_int_equal (strlen (session->id), MCP_SESSION_ID_LEN);
        assert_true (mcp_session_id_valid (session->id));
        assert_string_equal (session->protocol, "2025-11-25");
        for (int j = 0; j < i; j++)
            assert_string_not_equal (seen [j], session->id);
        memcpy (seen [i], session->id, sizeof seen [i]);
    }
    assert_int_equal (mcp_sessions_size (sessions), 50);
    mcp_sessions_destroy (&sessions);
    assert_null (sessions);
}

static void
test_id_validation (void **state)
{
    (void) state;
    char id [MCP_SESSION_ID_LEN + 2];
    memset (id, 'a', MCP_SESSION_ID_LEN);
    id [MCP_SESSION_ID_LEN] = 0;
    assert_true (mcp_session_id_valid (id));
    id [3] = 'A';
    assert_false (mcp_session_id_valid (id));
    id [3] = 'g';
    assert_false (mcp_session_id_valid (id));
    id [3] = 'a';
    id [MCP_SESSION_ID_LEN] = 'a';
    id [MCP_SESSION_ID_LEN + 1] = 0;
    assert_false (mcp_session_id_valid (id));
    assert_false (mcp_session_id_valid (""));
    assert_false (mcp_session_id_valid (NULL));
}

static void
test_lookup_touches_and_idle_expires (void **state)
{
    (void) state;
    drops_t drops = { 0 };
    mcp_sessions_t *sessions = mcp_sessions_new (10, 1000, s_on_drop, &drops);
    mcp_session_t *session = mcp_sessions_create (sessions, "2025-06-18", 0);
    char id [MCP_SESSION_ID_LEN + 1];
    memcpy (id, session->id, sizeof id);
    assert_ptr_equal (mcp_sessions_lookup (sessions, id, 900), session);
    assert_ptr_equal (mcp_sessions_lookup (sessions, id, 1800), session);   //  touched at 900
    assert_int_equal (session->last_seen_ms, 1800);
    assert_null (mcp_sessions_lookup (sessions, id, 2801));                 //  idle > 1000
    assert_int_equal (drops.drops, 1);
    assert_string_equal (drops.last, id);
    assert_int_equal (mcp_sessions_size (sessions), 0);
    assert_null (mcp_sessions_lookup (sessions, id, 2802));
    assert_null (mcp_sessions_lookup (sessions, "nope", 0));
    mcp_sessions_destroy (&sessions);
}

static void
test_sweep (void **state)
{
    (void) state;
    drops_t drops = { 0 };
    mcp_sessions_t *sessions = mcp_sessions_new (10, 1000, s_on_drop, &drops);
    for (int i = 0; i < 5; i++)
        mcp_sessions_create (sessions, "2025-11-25", i * 400);    //  0..1600
    assert_int_equal (mcp_sessions_sweep (sessions, 2100), 3);     //  0, 400, 800
    assert_int_equal (mcp_sessions_size (sessions), 2);
    assert_int_equal (drops.drops, 3);
    assert_int_equal (mcp_sessions_sweep (sessions, 2100), 0);
    assert_int_equal (mcp_sessions_sweep (sessions, 10000), 2);
    mcp_sessions_destroy (&sessions);
}

static void
test_full_table_drops_least_recently_used (void **state)
{
    (void) state;
    drops_t drops = { 0 };
    mcp_sessions_t *sessions = mcp_sessions_new (3, 100000, s_on_drop, &drops);
    char ids [3][MCP_SESSION_ID_LEN + 1];
    for (int i = 0; i < 3; i++)
        memcpy (ids [i], mcp_sessions_create (sessions, "2025-11-25", i)->id,
                sizeof ids [i]);
    mcp_sessions_lookup (sessions, ids [0], 10);          //  1 is now the oldest
    mcp_session_t *fourth = mcp_sessions_create (sessions, "2025-11-25", 11);
    assert_non_null (fourth);
    assert_int_equal (mcp_sessions_size (sessions), 3);
    assert_int_equal (drops.drops, 1);
    assert_string_equal (drops.last, ids [1]);
    assert_null (mcp_sessions_lookup (sessions, ids [1], 12));
    assert_non_null (mcp_sessions_lookup (sessions, ids [0], 12));
    assert_non_null (mcp_sessions_lookup (sessions, ids [2], 12));
    mcp_sessions_destroy (&sessions);
}

static void
s_visit (void *arg, mcp_session_t *session)
{
    (void) session;
    (*(int *) arg)++;
}

static void
test_remove_and_foreach (void **state)
{
    (void) state;
    drops_t drops = { 0 };
    mcp_sessions_t *sessions = mcp_sessions_new (10, 1000, s_on_drop, &drops);
    mcp_session_t *a = mcp_sessions_create (sessions, "2025-11-25", 0);
    mcp_sessions_create (sessions, "2025-11-25", 0);
    char id [MCP_SESSION_ID_LEN + 1];
    memcpy (id, a->id, sizeof id);
    assert_int_equal (mcp_sessions_remove (sessions, id), 0);
    assert_int_equal (drops.drops, 1);
    assert_int_equal (mcp_sessions_remove (sessions, id), -1);
    assert_int_equal (mcp_sessions_remove (sessions, "x"), -1);
    assert_int_equal (drops.drops, 1);
    int count = 0;
    mcp_sessions_foreach (sessions, s_visit, &count);
    assert_int_equal (count, 1);
    mcp_sessions_destroy (&sessions);
    assert_int_equal (drops.drops, 1);          //  destroy does not call back
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_ids_are_random_hex),
        cmocka_unit_test (test_id_validation),
        cmocka_unit_test (test_lookup_touches_and_idle_expires),
        cmocka_unit_test (test_sweep),
        cmocka_unit_test (test_full_table_drops_least_recently_used),
        cmocka_unit_test (test_remove_and_foreach),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
