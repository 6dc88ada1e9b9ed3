/*  test_alerts_outbox.c — the alerts outbox (actors/alerts/outbox.c) on a
    real SQLite database with every migration: rows queued again at start
    with their attempts, a removed hook's row deleted and counted failed,
    rows beyond the queue deleted and counted dropped, retries and final
    states written. The sender is the real one; its deliveries are due in
    an hour, so nothing is sent during the test.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "alerts.h"
#include "db.h"
#include "ids.h"
#include "migrate.h"

typedef struct {
    char     dir [64];
    sqlite3 *db;
} fixture_t;

static int
s_rm (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st; (void) flag; (void) ftw;
    return remove (path);
}

static int
s_setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    snprintf (fx->dir, sizeof fx->dir, "/tmp/mboutboxXXXXXX");
    assert_non_null (mkdtemp (fx->dir));
    char path [128], err [256];
    snprintf (path, sizeof path, "%s/mcpbox.db", fx->dir);
    fx->db = db_open (path, err, sizeof err);
    assert_non_null (fx->db);
    int applied = 0;
    assert_int_equal (migrate_apply (fx->db, mcpbox_migrations, mcpbox_migrations_count,
                                     &applied, err, sizeof err), 0);
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fx = *state;
    db_close (&fx->db);
    nftw (fx->dir, s_rm, 8, FTW_DEPTH | FTW_PHYS);
    free (fx);
    return 0;
}

static int64_t
s_int (sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    assert_int_equal (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), SQLITE_OK);
    int64_t value = sqlite3_step (stmt) == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : -1;
    sqlite3_finalize (stmt);
    return value;
}

#define ID_A "aaaaaaaa-0000-4000-8000-000000000001"
#define ID_B "bbbbbbbb-0000-4000-8000-000000000002"
#define ID_C "cccccccc-0000-4000-8000-000000000003"
#define HOOK "11111111-0000-4000-8000-000000000000"
#define GONE "22222222-0000-4000-8000-000000000000"

static void
test_resume_bounds_and_outcomes (void **state)
{
    fixture_t *fx = *state;
    bus_err_t err = { 0 };
    hook_t hook = { .id = HOOK, .url = "http://127.0.0.1:9/hook", .format = "json",
                    .events = "*", .created_at = "2026-12-06T21:00:00.000Z",
                    .created_by = "admin" };
    assert_int_equal (store_add (fx->db, &hook, &err), 0);
    assert_int_equal (outbox_add (fx->db, ID_A, HOOK, "{\"id\":\"" ID_A "\"}", &err), 0);
    assert_int_equal (outbox_add (fx->db, ID_B, HOOK, "{\"id\":\"" ID_B "\"}", &err), 0);
    assert_int_equal (outbox_add (fx->db, ID_C, GONE, "{\"id\":\"" ID_C "\"}", &err), 0);
    //  the same id twice is refused (the primary key), not a second delivery
    assert_int_equal (outbox_add (fx->db, ID_A, HOOK, "{}", &err), -1);
    char sql [160];
    snprintf (sql, sizeof sql, "UPDATE alert_outbox SET attempts = 2, due_ms = %lld,"
              " created_at = '2026-12-06T21:00:00.000Z'", (long long) (ids_now_ms () + 3600000));
    assert_int_equal (sqlite3_exec (fx->db, sql, NULL, NULL, NULL), SQLITE_OK);

    //  a queue of one: A queued again, B beyond it (dropped), C's hook gone (failed)
    sender_config_t config = { .queue_max = 1, .attempts = 5, .retry_base_ms = 100,
                               .retry_max_ms = 1000, .timeout_ms = 1000 };
    sender_t *sender = sender_new (&config);
    assert_non_null (sender);
    assert_int_equal (outbox_resume (fx->db, sender, config.queue_max), 1);
    sender_stats_t stats;
    sender_stats (sender, &stats);
    assert_int_equal (stats.queued, 1);
    assert_int_equal (stats.dropped, 1);
    assert_int_equal (stats.failed, 1);
    uint64_t dropped = 0, failed = 0;
    sender_take_unreported (sender, &dropped, &failed);
    assert_int_equal (dropped, 1);
    assert_int_equal (failed, 1);
    assert_int_equal (s_int (fx->db, "SELECT count(*) FROM alert_outbox"), 1);
    assert_int_equal (s_int (fx->db, "SELECT attempts FROM alert_outbox WHERE id = '" ID_A "'"),
                      2);

    //  a retry's state, then the final state
    sender_outcome_t retry = { .id = ID_A, .final = false, .attempts = 3, .due_ms = 12345 };
    outbox_apply (fx->db, &retry, 1);
    assert_int_equal (s_int (fx->db, "SELECT attempts FROM alert_outbox"), 3);
    assert_int_equal (s_int (fx->db, "SELECT due_ms FROM alert_outbox"), 12345);
    sender_outcome_t done = { .id = ID_A, .final = true };
    outbox_apply (fx->db, &done, 1);
    assert_int_equal (s_int (fx->db, "SELECT count(*) FROM alert_outbox"), 0);
    sender_destroy (&sender);
}

static void
test_cursor (void **state)
{
    fixture_t *fx = *state;
    int64_t id = -1, updated = -1;
    assert_int_equal (catchup_cursor_load (fx->db, &id, &updated), 0);
    assert_int_equal (catchup_cursor_save (fx->db, 41), 0);
    assert_int_equal (catchup_cursor_save (fx->db, 42), 0);
    assert_int_equal (catchup_cursor_load (fx->db, &id, &updated), 1);
    assert_int_equal (id, 42);
    int64_t now = ids_now_ms ();
    assert_true (updated > now - 60000 && updated <= now + 1000);
    assert_int_equal (s_int (fx->db, "SELECT count(*) FROM alert_cursor"), 1);
}

int
main (void)
{
    curl_global_init (CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_resume_bounds_and_outcomes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_cursor, s_setup, s_teardown),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    curl_global_cleanup ();
    return rc;
}
