/*  test_login_limits.c — failed-login counting (actors/credentials/
    login_limits.c) against a real, migrated sqlite file: a client address
    and a username are limited apart (failures from many addresses lock the
    username, failures against many usernames lock the address, and neither
    lock spills onto other subjects); usernames count case-insensitively;
    only failures inside the window count and the wait says when the
    oldest counted one leaves it; an operator reset clears the username
    only; pruning drops what left the window.
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
#include <sys/stat.h>
#include "creds.h"
#include "db.h"
#include "login_limits.h"
#include "migrate.h"

#define S_WINDOW 60
#define S_MAX    5

typedef struct {
    char    dir [64];
    creds_t creds;
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
    snprintf (fx->dir, sizeof fx->dir, "/tmp/mblimitsXXXXXX");
    assert_non_null (mkdtemp (fx->dir));
    char path [128], err [256];
    snprintf (path, sizeof path, "%s/mcpbox.db", fx->dir);
    fx->creds.db = db_open (path, err, sizeof err);
    assert_non_null (fx->creds.db);
    int applied = 0;
    assert_int_equal (migrate_apply (fx->creds.db, mcpbox_migrations, mcpbox_migrations_count,
                                     &applied, err, sizeof err), 0);
    fx->creds.limits = (creds_limits_t) { .login_window_s = S_WINDOW,
                                          .login_max_failures = S_MAX };
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fx = *state;
    db_close (&fx->creds.db);
    nftw (fx->dir, s_rm, 8, FTW_DEPTH | FTW_PHYS);
    free (fx);
    return 0;
}

//  A failure recorded `age` seconds ago, as login_limits_fail would have.
static void
s_fail_at (creds_t *creds, const char *kind, const char *subject, int64_t age)
{
    sqlite3_stmt *stmt = NULL;
    assert_int_equal (sqlite3_prepare_v2 (creds->db, "INSERT INTO login_failures (kind, "
                                          "subject, at) VALUES (?1, ?2, ?3)", -1, &stmt, NULL),
                      SQLITE_OK);
    sqlite3_bind_text (stmt, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, subject, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 3, creds_now () - age);
    assert_int_equal (sqlite3_step (stmt), SQLITE_DONE);
    sqlite3_finalize (stmt);
}

static int64_t
s_rows (creds_t *creds)
{
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (creds->db, "SELECT count(*) FROM login_failures", -1, &stmt, NULL);
    assert_int_equal (sqlite3_step (stmt), SQLITE_ROW);
    int64_t n = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    return n;
}

static void
test_username_locked_from_many_addresses (void **state)
{
    creds_t *c = &((fixture_t *) *state)->creds;
    char addr [32];
    for (int i = 0; i < S_MAX; i++) {
        assert_int_equal (login_limits_check (c, "127.0.0.2", "admin"), 0);
        snprintf (addr, sizeof addr, "10.0.0.%d", i + 1);
        assert_int_equal (login_limits_fail (c, addr, i % 2 ? "Admin" : "admin"), 0);
    }
    //  the username is locked for any address, a new one too, any case
    int64_t wait = login_limits_check (c, "192.0.2.77", "ADMIN");
    assert_true (wait >= S_WINDOW - 2 && wait <= S_WINDOW);
    //  each address had one failure: other usernames from them still go
    for (int i = 0; i < S_MAX; i++) {
        snprintf (addr, sizeof addr, "10.0.0.%d", i + 1);
        assert_int_equal (login_limits_check (c, addr, "operator"), 0);
    }
}

static void
test_address_locked_for_every_username (void **state)
{
    creds_t *c = &((fixture_t *) *state)->creds;
    char user [32];
    for (int i = 0; i < S_MAX; i++) {
        snprintf (user, sizeof user, "user%d", i);
        assert_int_equal (login_limits_check (c, "127.0.0.3", user), 0);
        assert_int_equal (login_limits_fail (c, "127.0.0.3", user), 0);
    }
    assert_true (login_limits_check (c, "127.0.0.3", "someone_else") > 0);
    //  another address, and those usernames (one failure each), still go
    for (int i = 0; i < S_MAX; i++) {
        snprintf (user, sizeof user, "user%d", i);
        assert_int_equal (login_limits_check (c, "127.0.0.4", user), 0);
    }
}

static void
test_one_below_the_limit_is_allowed (void **state)
{
    creds_t *c = &((fixture_t *) *state)->creds;
    for (int i = 0; i < S_MAX - 1; i++)
        assert_int_equal (login_limits_fail (c, "127.0.0.5", "admin"), 0);
    assert_int_equal (login_limits_check (c, "127.0.0.5", "admin"), 0);
    assert_int_equal (login_limits_fail (c, "127.0.0.5", "admin"), 0);
    assert_true (login_limits_check (c, "127.0.0.5", "admin") > 0);
}

static void
test_window_and_retry_after (void **state)
{
    creds_t *c = &((fixture_t *) *state)->creds;
    //  failures older than the window do not count
    for (int i = 0; i < S_MAX; i++)
        s_fail_at (c, "user", "admin", S_WINDOW + 1 + i);
    assert_int_equal (login_limits_check (c, "127.0.0.6", "admin"), 0);
    //  five inside it, the oldest 40 s ago: one slot frees in 20 s
    int64_t ages [S_MAX] = { 40, 30, 20, 10, 0 };
    for (int i = 0; i < S_MAX; i++)
        s_fail_at (c, "user", "admin", ages [i]);
    int64_t wait = login_limits_check (c, "127.0.0.6", "admin");
    assert_true (wait >= 19 && wait <= 20);
    //  a sixth, older than the fifth-newest, changes nothing
    s_fail_at (c, "user", "admin", 50);
    int64_t same = login_limits_check (c, "127.0.0.6", "admin");
    assert_true (same >= 19 && same <= 20);
    //  an address lock and a username lock: the longer wait is given
    for (int i = 0; i < S_MAX; i++)
        s_fail_at (c, "addr", "127.0.0.6", 5);
    wait = login_limits_check (c, "127.0.0.6", "admin");
    assert_true (wait >= 54 && wait <= 55);
    //  failures at the window's edge already left it; the wait is never 0
    for (int i = 0; i < S_MAX; i++)
        s_fail_at (c, "addr", "127.0.0.7", S_WINDOW);
    assert_int_equal (login_limits_check (c, "127.0.0.7", "other"), 0);
    for (int i = 0; i < S_MAX; i++)
        s_fail_at (c, "addr", "127.0.0.8", S_WINDOW - 1);
    assert_true (login_limits_check (c, "127.0.0.8", "other") >= 1);
}

static void
test_clear_user_and_prune (void **state)
{
    creds_t *c = &((fixture_t *) *state)->creds;
    for (int i = 0; i < S_MAX; i++)
        assert_int_equal (login_limits_fail (c, "127.0.0.9", "Admin"), 0);
    assert_true (login_limits_check (c, "127.0.0.10", "admin") > 0);
    login_limits_clear_user (c, "ADMIN");
    assert_int_equal (login_limits_check (c, "127.0.0.10", "admin"), 0);
    //  the address keeps its failures: a reset is for the username
    assert_true (login_limits_check (c, "127.0.0.9", "admin") > 0);
    assert_int_equal (s_rows (c), S_MAX);

    s_fail_at (c, "addr", "10.1.1.1", S_WINDOW + 5);
    s_fail_at (c, "user", "old", S_WINDOW);
    assert_int_equal (s_rows (c), S_MAX + 2);
    login_limits_prune (c);
    assert_int_equal (s_rows (c), S_MAX);
    assert_true (login_limits_check (c, "127.0.0.9", "x") > 0);
}

static void
test_long_subjects_are_bounded (void **state)
{
    creds_t *c = &((fixture_t *) *state)->creds;
    //  the widest client and username the ops accept fit the table's CHECK
    char big [CREDS_CLIENT_MAX + 1];
    memset (big, 'A', CREDS_CLIENT_MAX);
    big [CREDS_CLIENT_MAX] = 0;
    for (int i = 0; i < S_MAX; i++)
        assert_int_equal (login_limits_fail (c, big, big), 0);
    assert_true (login_limits_check (c, big, "x") > 0);
    assert_true (login_limits_check (c, "127.0.0.11", big) > 0);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_username_locked_from_many_addresses, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_address_locked_for_every_username, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_one_below_the_limit_is_allowed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_window_and_retry_after, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_clear_user_and_prune, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_long_subjects_are_bounded, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
