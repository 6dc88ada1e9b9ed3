/*  test_db.c — db_open sets up every connection the same way
    (common/db.c): WAL, foreign keys enforced, busy waiting (with the busy
    hook called meanwhile), mode 0600.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "db.h"

typedef struct {
    char dir [PATH_MAX];            //  temporary directory
    char path [PATH_MAX + 16];      //  database file in it
    char err [512];
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
    snprintf (self->dir, sizeof self->dir, "/tmp/test_db.XXXXXX");
    assert_non_null (mkdtemp (self->dir));
    snprintf (self->path, sizeof self->path, "%s/mcpbox.db", self->dir);
    *state = self;
    return 0;
}

static int
teardown (void **state)
{
    fixture_t *self = *state;
    nftw (self->dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    free (self);
    return 0;
}

static void
s_text (sqlite3 *db, const char *sql, char *out, size_t outsize)
{
    sqlite3_stmt *stmt = NULL;
    assert_int_equal (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal (sqlite3_step (stmt), SQLITE_ROW);
    snprintf (out, outsize, "%s", (const char *) sqlite3_column_text (stmt, 0));
    sqlite3_finalize (stmt);
}

static mode_t
s_mode (const char *path)
{
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    return st.st_mode & 07777;
}

static void
test_pragmas (void **state)
{
    fixture_t *self = *state;
    //  A permissive umask must not loosen the file.
    mode_t old = umask (0);
    sqlite3 *db = db_open (self->path, self->err, sizeof self->err);
    umask (old);
    if (!db)
        fail_msg ("db_open: %s", self->err);
    char value [64];
    s_text (db, "PRAGMA journal_mode", value, sizeof value);
    assert_string_equal (value, "wal");
    s_text (db, "PRAGMA foreign_keys", value, sizeof value);
    assert_string_equal (value, "1");

    //  Foreign keys are enforced, not just declared.
    assert_int_equal (sqlite3_exec (db, "CREATE TABLE p (id INTEGER PRIMARY KEY);"
                                    "CREATE TABLE c (p_id INTEGER REFERENCES p (id));"
                                    "INSERT INTO p VALUES (1); INSERT INTO c VALUES (1);",
                                    NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal (sqlite3_exec (db, "INSERT INTO c VALUES (2)", NULL, NULL, NULL),
                      SQLITE_CONSTRAINT_FOREIGNKEY);

    assert_int_equal (s_mode (self->path), 0600);
    char wal [PATH_MAX + 32];
    snprintf (wal, sizeof wal, "%s-wal", self->path);
    assert_int_equal (access (wal, F_OK), 0);
    assert_int_equal (s_mode (wal), 0600);
    db_close (&db);
    assert_null (db);
    db_close (&db);     //  twice is harmless
}

//  The busy hook: counts its calls; at the fifth it releases the lock the
//  other connection holds (it runs on this thread, between waits).
typedef struct {
    sqlite3 *holder;
    int      calls;
} s_hook_t;

static void
s_hook (void *arg)
{
    s_hook_t *hook = arg;
    if (++hook->calls == 5)
        assert_int_equal (sqlite3_exec (hook->holder, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
}

static void
test_busy_waits_calling_the_hook (void **state)
{
    fixture_t *self = *state;
    sqlite3 *holder = db_open (self->path, self->err, sizeof self->err);
    sqlite3 *writer = db_open (self->path, self->err, sizeof self->err);
    assert_non_null (holder);
    assert_non_null (writer);
    assert_int_equal (sqlite3_exec (holder, "CREATE TABLE t (x INTEGER); BEGIN EXCLUSIVE;",
                                    NULL, NULL, NULL), SQLITE_OK);
    s_hook_t hook = { holder, 0 };
    db_set_busy_hook (s_hook, &hook);
    //  waits (the hook keeps being called) until the holder lets go
    assert_int_equal (sqlite3_exec (writer, "INSERT INTO t VALUES (1)", NULL, NULL, NULL),
                      SQLITE_OK);
    assert_int_equal (hook.calls, 5);
    db_set_busy_hook (NULL, NULL);
    db_close (&writer);
    db_close (&holder);
}

static void
test_tightens_existing (void **state)
{
    fixture_t *self = *state;
    FILE *file = fopen (self->path, "w");
    assert_non_null (file);
    fclose (file);
    assert_int_equal (chmod (self->path, 0644), 0);
    sqlite3 *db = db_open (self->path, self->err, sizeof self->err);
    assert_non_null (db);
    assert_int_equal (s_mode (self->path), 0600);
    db_close (&db);
}

static void
test_refuses (void **state)
{
    fixture_t *self = *state;
    sqlite3 *db = db_open ("", self->err, sizeof self->err);
    assert_null (db);
    //  A directory is not a database.
    db = db_open (self->dir, self->err, sizeof self->err);
    assert_null (db);
    assert_non_null (strstr (self->err, self->dir));
    //  Nor is a file in a missing directory.
    char path [PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/missing/mcpbox.db", self->dir);
    assert_null (db_open (path, self->err, sizeof self->err));
    //  A symlink is not followed.
    char target [PATH_MAX + 32];
    snprintf (target, sizeof target, "%s/target.db", self->dir);
    assert_int_equal (symlink (target, self->path), 0);
    assert_null (db_open (self->path, self->err, sizeof self->err));
    assert_int_equal (access (target, F_OK), -1);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_pragmas, setup, teardown),
        cmocka_unit_test_setup_teardown (test_busy_waits_calling_the_hook, setup, teardown),
        cmocka_unit_test_setup_teardown (test_tightens_existing, setup, teardown),
        cmocka_unit_test_setup_teardown (test_refuses, setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
