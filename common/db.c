/*  db.c — open the one SQLite database the way every actor must (db.h).

    The file is created by us with mode 0600 before SQLite opens it, and
    tightened to 0600 if it exists wider; SQLite gives the -wal and -shm
    files the mode of the database file. No umask is touched (it is process
    wide, and the gateway has threads). Symlinks are not followed.

    After opening: extended result codes, busy timeout (so two actors
    writing at once wait rather than fail), journal_mode=WAL (checked: a
    database on a filesystem without shared memory would silently stay in
    rollback mode), foreign_keys=ON (checked).

    Not here: schema (migrate.c), statement helpers.
*/
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bus_errors.h"
#include "db.h"
#include "log.h"

//  Create the file 0600 if missing; refuse non-regular files; tighten.
static int
s_prepare_file (const char *path, char *err, size_t errlen)
{
    int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
    if (fd < 0) {
        bus_err_text (err, errlen, "database '%s': cannot open: %s", path, strerror (errno));
        return -1;
    }
    struct stat st;
    if (fstat (fd, &st) || !S_ISREG (st.st_mode)) {
        bus_err_text (err, errlen, "database '%s': not a regular file", path);
        close (fd);
        return -1;
    }
    if ((st.st_mode & 07777) != 0600 && fchmod (fd, 0600)) {
        bus_err_text (err, errlen, "database '%s': cannot set mode 0600: %s", path,
               strerror (errno));
        close (fd);
        return -1;
    }
    close (fd);
    return 0;
}

//  Run a pragma that returns one row and copy its first column.
static int
s_pragma (sqlite3 *db, const char *sql, char *value, size_t valuelen,
          char *err, size_t errlen)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step (stmt);
    if (rc != SQLITE_ROW) {
        bus_err_text (err, errlen, "database: %s failed: %s", sql, sqlite3_errmsg (db));
        sqlite3_finalize (stmt);
        return -1;
    }
    const unsigned char *text = sqlite3_column_text (stmt, 0);
    snprintf (value, valuelen, "%s", text ? (const char *) text : "");
    sqlite3_finalize (stmt);
    return 0;
}

static db_busy_hook_fn *s_hook;
static void           *s_hook_arg;
static pthread_t       s_hook_thread;

void
db_set_busy_hook (db_busy_hook_fn *fn, void *arg)
{
    s_hook = fn;
    s_hook_arg = arg;
    s_hook_thread = pthread_self ();
}

//  sqlite3_busy_timeout's wait, in steps, with the hook between them.
static int
s_busy (void *arg, int count)
{
    (void) arg;
    if ((int64_t) count * DB_BUSY_STEP_MS >= DB_BUSY_TIMEOUT_MS)
        return 0;           //  give up: SQLITE_BUSY
    if (s_hook && pthread_equal (s_hook_thread, pthread_self ()))
        s_hook (s_hook_arg);
    sqlite3_sleep (DB_BUSY_STEP_MS);
    return 1;
}

sqlite3 *
db_open (const char *path, char *err, size_t errlen)
{
    if (!path || !*path) {
        bus_err_text (err, errlen, "database: empty path");
        return NULL;
    }
    if (s_prepare_file (path, err, errlen))
        return NULL;

    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW;
    int rc = sqlite3_open_v2 (path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        bus_err_text (err, errlen, "database '%s': %s", path,
               db ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
        sqlite3_close_v2 (db);
        return NULL;
    }
    sqlite3_extended_result_codes (db, 1);
    sqlite3_busy_handler (db, s_busy, NULL);

    char value [32];
    if (s_pragma (db, "PRAGMA journal_mode=WAL", value, sizeof value, err, errlen))
        goto fail;
    if (strcasecmp (value, "wal") != 0) {
        bus_err_text (err, errlen, "database '%s': journal_mode is '%s', WAL was refused",
               path, value);
        goto fail;
    }
    char *errmsg = NULL;
    if (sqlite3_exec (db, "PRAGMA foreign_keys=ON", NULL, NULL, &errmsg) != SQLITE_OK) {
        bus_err_text (err, errlen, "database '%s': foreign_keys: %s", path,
               errmsg ? errmsg : "failed");
        sqlite3_free (errmsg);
        goto fail;
    }
    if (s_pragma (db, "PRAGMA foreign_keys", value, sizeof value, err, errlen))
        goto fail;
    if (strcmp (value, "1") != 0) {
        bus_err_text (err, errlen, "database '%s': foreign keys could not be enabled", path);
        goto fail;
    }
    return db;
fail:
    sqlite3_close_v2 (db);
    return NULL;
}

void
db_close (sqlite3 **db_p)
{
    if (!db_p || !*db_p)
        return;
    sqlite3_close_v2 (*db_p);
    *db_p = NULL;
}

int
db_fail (sqlite3 *db, bus_err_t *err, const char *what)
{
    int code = sqlite3_extended_errcode (db);
    log_error ("database: %s: %s (%d)", what, sqlite3_errmsg (db), code);
    if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
        return bus_err_set (err, BUS_ERR_UNAVAILABLE, "database busy: %s", what);
    if ((code & 0xff) == SQLITE_FULL)
        return bus_err_set (err, BUS_ERR_UNAVAILABLE, "the disk is full: %s "
                            "(nothing was written; free space and try again)", what);
    return bus_err_set (err, BUS_ERR_INTERNAL, "database error: %s", what);
}
