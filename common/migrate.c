/*  migrate.c — apply the numbered migrations embedded from sql/ (migrate.h).

    schema_version (version INTEGER PRIMARY KEY, name, checksum, applied_at)
    records what ran; checksum is the hex BLAKE2b-256 (libsodium
    crypto_generichash) of the migration's SQL text.

    Order of work:
      1. check the table of migrations (versions > 0, strictly increasing);
      2. create schema_version if missing;
      3. refuse a database newer than the newest migration we carry, and
         any recorded migration we do not know or whose checksum differs;
      4. for each migration: BEGIN IMMEDIATE (the write lock, waiting up to
         the busy timeout for another migrator), look again whether it is
         recorded — another process may have applied it meanwhile — and if
         not, run its SQL, check foreign keys, insert its row, COMMIT.
         Any failure rolls the whole migration back.

    A migration's SQL must not contain BEGIN/COMMIT/ROLLBACK: it runs inside
    our transaction, and an authorizer refuses transaction statements while
    it runs (so a stray COMMIT cannot leave half a migration applied). It
    also cannot toggle PRAGMA foreign_keys (a no-op inside a transaction).
    The authorizer is removed afterwards; connections here have none.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include "bus_errors.h"
#include "migrate.h"

#define MIGRATE_CHECKSUM_BYTES  32
#define MIGRATE_CHECKSUM_HEX    (MIGRATE_CHECKSUM_BYTES * 2 + 1)

static int
s_checksum (const char *sql, char hex [MIGRATE_CHECKSUM_HEX])
{
    unsigned char hash [MIGRATE_CHECKSUM_BYTES];
    if (sodium_init () < 0)
        return -1;
    crypto_generichash (hash, sizeof hash, (const unsigned char *) sql,
                        strlen (sql), NULL, 0);
    sodium_bin2hex (hex, MIGRATE_CHECKSUM_HEX, hash, sizeof hash);
    return 0;
}

static int
s_exec (sqlite3 *db, const char *sql, const char *what, char *err, size_t errlen)
{
    char *errmsg = NULL;
    if (sqlite3_exec (db, sql, NULL, NULL, &errmsg) != SQLITE_OK) {
        bus_err_text (err, errlen, "migrate: %s: %s", what,
               errmsg ? errmsg : sqlite3_errmsg (db));
        sqlite3_free (errmsg);
        return -1;
    }
    return 0;
}

static void
s_rollback (sqlite3 *db)
{
    //  Some errors (SQLITE_FULL, some IOERR) end the transaction themselves.
    if (!sqlite3_get_autocommit (db))
        sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
}

//  1 if the schema_version table exists, 0 if not, -1 + err.
static int
s_has_table (sqlite3 *db, char *err, size_t errlen)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2 (db, "SELECT 1 FROM sqlite_master WHERE type = 'table'"
                                 " AND name = 'schema_version'", -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step (stmt);
    sqlite3_finalize (stmt);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    bus_err_text (err, errlen, "migrate: cannot read the schema: %s", sqlite3_errmsg (db));
    return -1;
}

//  Checksum recorded for `version` into hex: 1 found, 0 not, -1 + err.
static int
s_recorded (sqlite3 *db, int version, char hex [MIGRATE_CHECKSUM_HEX],
            char *err, size_t errlen)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2 (db, "SELECT checksum FROM schema_version"
                                 " WHERE version = ?", -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int (stmt, 1, version);
    if (rc == SQLITE_OK)
        rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW) {
        const unsigned char *text = sqlite3_column_text (stmt, 0);
        snprintf (hex, MIGRATE_CHECKSUM_HEX, "%s", text ? (const char *) text : "");
        sqlite3_finalize (stmt);
        return 1;
    }
    sqlite3_finalize (stmt);
    if (rc == SQLITE_DONE)
        return 0;
    bus_err_text (err, errlen, "migrate: cannot read schema_version: %s", sqlite3_errmsg (db));
    return -1;
}

//  Every recorded row must be a migration we carry, with our checksum.
static int
s_verify_recorded (sqlite3 *db, const migration_t *migrations, size_t count,
                   char *err, size_t errlen)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2 (db, "SELECT version, checksum FROM schema_version"
                            " ORDER BY version", -1, &stmt, NULL) != SQLITE_OK) {
        bus_err_text (err, errlen, "migrate: cannot read schema_version: %s",
               sqlite3_errmsg (db));
        return -1;
    }
    int newest = count ? migrations [count - 1].version : 0;
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        sqlite3_int64 version = sqlite3_column_int64 (stmt, 0);
        const unsigned char *text = sqlite3_column_text (stmt, 1);
        if (version > newest) {
            bus_err_text (err, errlen, "migrate: the database has migration %04lld, newer "
                   "than this build's newest (%04d); use a newer mcpbox",
                   (long long) version, newest);
            goto fail;
        }
        const migration_t *known = NULL;
        for (size_t i = 0; i < count; i++)
            if (migrations [i].version == version)
                known = &migrations [i];
        if (!known) {
            bus_err_text (err, errlen, "migrate: the database records migration %04lld, "
                   "which this build does not have", (long long) version);
            goto fail;
        }
        char hex [MIGRATE_CHECKSUM_HEX];
        if (s_checksum (known->sql, hex)) {
            bus_err_text (err, errlen, "migrate: libsodium failed to initialise");
            goto fail;
        }
        if (!text || strcmp ((const char *) text, hex) != 0) {
            bus_err_text (err, errlen, "migrate: migration %04d (%s) in the database has a "
                   "different checksum than this build's: the database was made "
                   "by a different build", known->version, known->name);
            goto fail;
        }
    }
    if (rc != SQLITE_DONE) {
        bus_err_text (err, errlen, "migrate: cannot read schema_version: %s",
               sqlite3_errmsg (db));
        goto fail;
    }
    sqlite3_finalize (stmt);
    return 0;
fail:
    sqlite3_finalize (stmt);
    return -1;
}

//  Refuse the commit if the migration left broken foreign keys.
static int
s_foreign_keys_hold (sqlite3 *db, const migration_t *m, char *err, size_t errlen)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2 (db, "PRAGMA foreign_key_check", -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW) {
        const unsigned char *table = sqlite3_column_text (stmt, 0);
        bus_err_text (err, errlen, "migrate: migration %04d (%s) leaves a foreign key "
               "violation in table %s", m->version, m->name,
               table ? (const char *) table : "?");
        sqlite3_finalize (stmt);
        return -1;
    }
    sqlite3_finalize (stmt);
    if (rc != SQLITE_DONE) {
        bus_err_text (err, errlen, "migrate: foreign_key_check: %s", sqlite3_errmsg (db));
        return -1;
    }
    return 0;
}

//  Deny transaction control inside a migration's SQL.
static int
s_authorize (void *unused, int action, const char *a, const char *b,
             const char *c, const char *d)
{
    (void) unused; (void) a; (void) b; (void) c; (void) d;
    return action == SQLITE_TRANSACTION ? SQLITE_DENY : SQLITE_OK;
}

//  Apply one migration unless recorded. 1 applied, 0 already there, -1.
static int
s_apply_one (sqlite3 *db, const migration_t *m, char *err, size_t errlen)
{
    char hex [MIGRATE_CHECKSUM_HEX], recorded [MIGRATE_CHECKSUM_HEX];
    if (s_checksum (m->sql, hex)) {
        bus_err_text (err, errlen, "migrate: libsodium failed to initialise");
        return -1;
    }
    char what [96];
    snprintf (what, sizeof what, "migration %04d (%.40s): BEGIN", m->version, m->name);
    if (s_exec (db, "BEGIN IMMEDIATE", what, err, errlen))
        return -1;

    //  Look again under the write lock: another process may have won.
    int rc;
    int found = s_recorded (db, m->version, recorded, err, errlen);
    if (found != 0) {
        s_rollback (db);
        if (found == 1 && strcmp (recorded, hex) != 0) {
            bus_err_text (err, errlen, "migrate: migration %04d (%s) in the database has a "
                   "different checksum than this build's: the database was made "
                   "by a different build", m->version, m->name);
            return -1;
        }
        return found == 1 ? 0 : -1;
    }
    char *errmsg = NULL;
    sqlite3_set_authorizer (db, s_authorize, NULL);
    rc = sqlite3_exec (db, m->sql, NULL, NULL, &errmsg);
    sqlite3_set_authorizer (db, NULL, NULL);
    if (rc != SQLITE_OK) {
        bus_err_text (err, errlen, "migrate: migration %04d (%s) failed: %s", m->version,
               m->name, errmsg ? errmsg : sqlite3_errmsg (db));
        sqlite3_free (errmsg);
        s_rollback (db);
        return -1;
    }
    if (sqlite3_get_autocommit (db)) {
        bus_err_text (err, errlen, "migrate: migration %04d (%s) ended the transaction "
               "itself", m->version, m->name);
        return -1;
    }
    if (s_foreign_keys_hold (db, m, err, errlen)) {
        s_rollback (db);
        return -1;
    }
    sqlite3_stmt *stmt = NULL;
    rc = sqlite3_prepare_v2 (db, "INSERT INTO schema_version (version, name,"
                                 " checksum, applied_at) VALUES (?, ?, ?,"
                                 " strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                                 -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int (stmt, 1, m->version);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text (stmt, 2, m->name, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text (stmt, 3, hex, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step (stmt);
    sqlite3_finalize (stmt);
    if (rc != SQLITE_DONE) {
        bus_err_text (err, errlen, "migrate: migration %04d (%s): cannot record it: %s",
               m->version, m->name, sqlite3_errmsg (db));
        s_rollback (db);
        return -1;
    }
    snprintf (what, sizeof what, "migration %04d (%.40s): COMMIT", m->version, m->name);
    if (s_exec (db, "COMMIT", what, err, errlen)) {
        s_rollback (db);
        return -1;
    }
    return 1;
}

int
migrate_apply (sqlite3 *db, const migration_t *migrations, size_t count,
               int *applied, char *err, size_t errlen)
{
    int done = 0;
    if (applied)
        *applied = 0;
    if (!db || (count && !migrations)) {
        bus_err_text (err, errlen, "migrate: no database or no migrations");
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        const migration_t *m = &migrations [i];
        if (m->version <= 0 || !m->name || !m->sql
        || (i > 0 && m->version <= migrations [i - 1].version)) {
            bus_err_text (err, errlen, "migrate: migration table is invalid at entry %zu "
                   "(versions must be > 0 and strictly increasing)", i);
            return -1;
        }
    }
    if (!sqlite3_get_autocommit (db)) {
        bus_err_text (err, errlen, "migrate: a transaction is already open on this connection");
        return -1;
    }
    if (s_exec (db, "CREATE TABLE IF NOT EXISTS schema_version ("
                    " version    INTEGER PRIMARY KEY,"
                    " name       TEXT NOT NULL,"
                    " checksum   TEXT NOT NULL,"
                    " applied_at TEXT NOT NULL)",
                "create schema_version", err, errlen)
    ||  s_verify_recorded (db, migrations, count, err, errlen))
        return -1;

    for (size_t i = 0; i < count; i++) {
        int rc = s_apply_one (db, &migrations [i], err, errlen);
        if (rc < 0)
            return -1;
        done += rc;
        if (applied)
            *applied = done;
    }
    return 0;
}

int
migrate_version (sqlite3 *db, char *err, size_t errlen)
{
    if (!db) {
        bus_err_text (err, errlen, "migrate: no database");
        return -1;
    }
    int has = s_has_table (db, err, errlen);
    if (has <= 0)
        return has;
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2 (db, "SELECT coalesce(max(version), 0)"
                                 " FROM schema_version", -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step (stmt);
    if (rc != SQLITE_ROW) {
        bus_err_text (err, errlen, "migrate: cannot read schema_version: %s",
               sqlite3_errmsg (db));
        sqlite3_finalize (stmt);
        return -1;
    }
    sqlite3_int64 version = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    if (version < 0 || version > 999999) {
        bus_err_text (err, errlen, "migrate: schema_version holds an impossible version %lld",
               (long long) version);
        return -1;
    }
    return (int) version;
}
