/*  test_migrate.c — numbered migrations on a real SQLite file
    (common/migrate.c): the embedded set, re-runs, checksums, a newer
    database, atomic failure, and two processes migrating at once.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "db.h"
#include "migrate.h"

typedef struct {
    char     dir [PATH_MAX];        //  temporary directory
    char     path [PATH_MAX + 16];  //  database file in it
    sqlite3 *db;
    char     err [512];
} fixture_t;

static int
s_rm (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st; (void) flag; (void) ftw;
    return remove (path);
}

static int
setup (void **state)
{
    fixture_t *self = calloc (1, sizeof *self);
    assert_non_null (self);
    snprintf (self->dir, sizeof self->dir, "/tmp/test_migrate.XXXXXX");
    assert_non_null (mkdtemp (self->dir));
    snprintf (self->path, sizeof self->path, "%s/mcpbox.db", self->dir);
    self->db = db_open (self->path, self->err, sizeof self->err);
    if (!self->db)
        fail_msg ("db_open: %s", self->err);
    *state = self;
    return 0;
}

static int
teardown (void **state)
{
    fixture_t *self = *state;
    db_close (&self->db);
    nftw (self->dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    free (self);
    return 0;
}

static int64_t
s_count (sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize (stmt);
        return -1;      //  e.g. no such table
    }
    int64_t value = -1;
    if (sqlite3_step (stmt) == SQLITE_ROW)
        value = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    return value;
}

static bool
s_has_table (sqlite3 *db, const char *name)
{
    char sql [256];
    snprintf (sql, sizeof sql, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
              " AND name = '%s'", name);
    return s_count (db, sql) == 1;
}

static void
s_assert_err (fixture_t *self, const char *part)
{
    if (!strstr (self->err, part))
        fail_msg ("error '%s' does not mention '%s'", self->err, part);
}

static void
test_embedded (void **state)
{
    fixture_t *self = *state;
    assert_true (mcpbox_migrations_count >= 1);
    assert_int_equal (migrate_version (self->db, self->err, sizeof self->err), 0);

    int applied = -1;
    int rc = migrate_apply (self->db, mcpbox_migrations, mcpbox_migrations_count,
                            &applied, self->err, sizeof self->err);
    if (rc)
        fail_msg ("migrate_apply: %s", self->err);
    assert_int_equal (applied, (int) mcpbox_migrations_count);
    int newest = mcpbox_migrations [mcpbox_migrations_count - 1].version;
    assert_int_equal (migrate_version (self->db, self->err, sizeof self->err), newest);
    assert_int_equal (s_count (self->db, "SELECT count(*) FROM schema_version"),
                      (int64_t) mcpbox_migrations_count);
    //  0001 ran for real.
    assert_int_equal (s_count (self->db, "SELECT count(*) FROM installation"), 1);
    //  The row carries a 64-hex-digit checksum and a timestamp.
    assert_int_equal (s_count (self->db, "SELECT length(checksum) FROM schema_version"
                               " WHERE version = 1"), 64);
    assert_int_equal (s_count (self->db, "SELECT applied_at LIKE '____-__-__T%Z'"
                               " FROM schema_version WHERE version = 1"), 1);

    //  Second run: nothing to do, same version, through a new connection.
    db_close (&self->db);
    self->db = db_open (self->path, self->err, sizeof self->err);
    assert_non_null (self->db);
    applied = -1;
    assert_int_equal (migrate_apply (self->db, mcpbox_migrations, mcpbox_migrations_count,
                                     &applied, self->err, sizeof self->err), 0);
    assert_int_equal (applied, 0);
    assert_int_equal (migrate_version (self->db, self->err, sizeof self->err), newest);
    assert_int_equal (s_count (self->db, "SELECT count(*) FROM installation"), 1);
}

static const migration_t s_two [] = {
    { 1, "one", "CREATE TABLE a (x INTEGER);" },
    { 2, "two", "CREATE TABLE b (y INTEGER); INSERT INTO b VALUES (7);" },
};

static void
test_checksum_mismatch (void **state)
{
    fixture_t *self = *state;
    int applied = 0;
    assert_int_equal (migrate_apply (self->db, s_two, 2, &applied, self->err,
                                     sizeof self->err), 0);
    assert_int_equal (applied, 2);

    const migration_t edited [] = {
        { 1, "one", "CREATE TABLE a (x INTEGER);" },
        { 2, "two", "CREATE TABLE b (y INTEGER); INSERT INTO b VALUES (8);" },
    };
    applied = -1;
    assert_int_equal (migrate_apply (self->db, edited, 2, &applied, self->err,
                                     sizeof self->err), -1);
    assert_int_equal (applied, 0);
    s_assert_err (self, "0002");
    s_assert_err (self, "checksum");
    assert_int_equal (s_count (self->db, "SELECT y FROM b"), 7);
}

static void
test_newer_database (void **state)
{
    fixture_t *self = *state;
    int applied = 0;
    assert_int_equal (migrate_apply (self->db, s_two, 2, &applied, self->err,
                                     sizeof self->err), 0);
    assert_int_equal (migrate_version (self->db, self->err, sizeof self->err), 2);
    //  A binary that only knows 0001 must refuse this database.
    assert_int_equal (migrate_apply (self->db, s_two, 1, &applied, self->err,
                                     sizeof self->err), -1);
    s_assert_err (self, "newer");
    s_assert_err (self, "0002");
    //  So must one that knows 0001 and 0003 but not 0002.
    const migration_t gap [] = {
        { 1, "one", "CREATE TABLE a (x INTEGER);" },
        { 3, "three", "CREATE TABLE c (z INTEGER);" },
    };
    assert_int_equal (migrate_apply (self->db, gap, 2, &applied, self->err,
                                     sizeof self->err), -1);
    s_assert_err (self, "0002");
    assert_false (s_has_table (self->db, "c"));
}

static void
test_failure_is_atomic (void **state)
{
    fixture_t *self = *state;
    const migration_t failing [] = {
        { 1, "one", "CREATE TABLE a (x INTEGER);" },
        //  The first statement succeeds, the second fails.
        { 2, "broken", "CREATE TABLE b (y INTEGER); INSERT INTO b VALUES (1);"
                       " INSERT INTO no_such_table VALUES (1);" },
        { 3, "three", "CREATE TABLE c (z INTEGER);" },
    };
    int applied = -1;
    assert_int_equal (migrate_apply (self->db, failing, 3, &applied, self->err,
                                     sizeof self->err), -1);
    assert_int_equal (applied, 1);
    s_assert_err (self, "0002");
    s_assert_err (self, "no_such_table");
    assert_true (s_has_table (self->db, "a"));
    assert_false (s_has_table (self->db, "b"));
    assert_false (s_has_table (self->db, "c"));
    assert_int_equal (migrate_version (self->db, self->err, sizeof self->err), 1);
    assert_true (sqlite3_get_autocommit (self->db));

    //  A migration that tries to commit part of itself is refused whole.
    const migration_t committing [] = {
        { 1, "one", "CREATE TABLE a (x INTEGER);" },
        { 2, "sneaky", "CREATE TABLE b (y INTEGER); COMMIT; CREATE TABLE d (w);" },
    };
    assert_int_equal (migrate_apply (self->db, committing, 2, &applied, self->err,
                                     sizeof self->err), -1);
    assert_false (s_has_table (self->db, "b"));
    assert_false (s_has_table (self->db, "d"));
    assert_int_equal (migrate_version (self->db, self->err, sizeof self->err), 1);
    assert_true (sqlite3_get_autocommit (self->db));

    //  One that leaves a dangling foreign key is refused whole.
    const migration_t dangling [] = {
        { 1, "one", "CREATE TABLE a (x INTEGER);" },
        { 2, "fk", "CREATE TABLE p (id INTEGER PRIMARY KEY);"
                   " CREATE TABLE q (p_id INTEGER REFERENCES p (id) DEFERRABLE"
                   " INITIALLY DEFERRED); INSERT INTO q VALUES (42);" },
    };
    assert_int_equal (migrate_apply (self->db, dangling, 2, &applied, self->err,
                                     sizeof self->err), -1);
    assert_false (s_has_table (self->db, "q"));
    assert_int_equal (migrate_version (self->db, self->err, sizeof self->err), 1);

    //  The good version of 0002 then applies.
    assert_int_equal (migrate_apply (self->db, s_two, 2, &applied, self->err,
                                     sizeof self->err), 0);
    assert_int_equal (applied, 1);
    assert_int_equal (s_count (self->db, "SELECT y FROM b"), 7);
}

static void
test_bad_table (void **state)
{
    fixture_t *self = *state;
    const migration_t unordered [] = {
        { 2, "two", "CREATE TABLE b (y);" },
        { 1, "one", "CREATE TABLE a (x);" },
    };
    int applied = -1;
    assert_int_equal (migrate_apply (self->db, unordered, 2, &applied, self->err,
                                     sizeof self->err), -1);
    assert_int_equal (applied, 0);
    assert_false (s_has_table (self->db, "a"));
    assert_false (s_has_table (self->db, "b"));
    const migration_t zero [] = { { 0, "zero", "CREATE TABLE z (x);" } };
    assert_int_equal (migrate_apply (self->db, zero, 1, &applied, self->err,
                                     sizeof self->err), -1);
}

//  Two processes migrate the same file at once: each migration runs once.
#define RACE_COUNT 24

static void
test_concurrent (void **state)
{
    fixture_t *self = *state;
    static char sql [RACE_COUNT][160];
    static char names [RACE_COUNT][16];
    migration_t race [RACE_COUNT];
    for (int i = 0; i < RACE_COUNT; i++) {
        snprintf (names [i], sizeof names [i], "m%d", i + 1);
        //  Not idempotent: a second run would fail on CREATE TABLE.
        snprintf (sql [i], sizeof sql [i],
                  "CREATE TABLE t%d (x); INSERT INTO t%d"
                  " WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n"
                  " WHERE k < 2000) SELECT k FROM n;", i + 1, i + 1);
        race [i] = (migration_t) { i + 1, names [i], sql [i] };
    }
    db_close (&self->db);
    pid_t pids [2];
    for (int p = 0; p < 2; p++) {
        pids [p] = fork ();
        assert_true (pids [p] >= 0);
        if (pids [p] == 0) {
            char err [512];
            sqlite3 *db = db_open (self->path, err, sizeof err);
            int applied = 0;
            int rc = db ? migrate_apply (db, race, RACE_COUNT, &applied, err, sizeof err) : -1;
            if (rc)
                fprintf (stderr, "child: %s\n", err);
            db_close (&db);
            _exit (rc ? 100 : applied);
        }
    }
    int total = 0;
    for (int p = 0; p < 2; p++) {
        int status = 0;
        assert_int_equal (waitpid (pids [p], &status, 0), pids [p]);
        assert_true (WIFEXITED (status));
        assert_true (WEXITSTATUS (status) <= RACE_COUNT);
        total += WEXITSTATUS (status);
    }
    assert_int_equal (total, RACE_COUNT);
    self->db = db_open (self->path, self->err, sizeof self->err);
    assert_non_null (self->db);
    assert_int_equal (migrate_version (self->db, self->err, sizeof self->err), RACE_COUNT);
    assert_int_equal (s_count (self->db, "SELECT count(*) FROM schema_version"), RACE_COUNT);
    assert_int_equal (s_count (self->db, "SELECT count(*) FROM t24"), 2000);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_embedded, setup, teardown),
        cmocka_unit_test_setup_teardown (test_checksum_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown (test_newer_database, setup, teardown),
        cmocka_unit_test_setup_teardown (test_failure_is_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown (test_bad_table, setup, teardown),
        cmocka_unit_test_setup_teardown (test_concurrent, setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
