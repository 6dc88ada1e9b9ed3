/*  migrate.h — numbered migrations from sql/NNNN_name.sql.

    The SQL files are embedded into the binary at build time (see
    cmake/embed_sql.cmake), so a binary always carries the schema it expects.
    The table schema_version(version, name, checksum, applied_at) records what
    ran. Each migration runs in its own BEGIN IMMEDIATE transaction together
    with its schema_version row, so it is applied entirely or not at all, and
    two processes migrating at once apply each migration exactly once. A
    recorded migration whose checksum differs from the embedded one is an
    error (the database was made by a different build), as is a database
    newer than this binary.
*/
#ifndef MCPBOX_MIGRATE_H
#define MCPBOX_MIGRATE_H

#include <stddef.h>
#include <sqlite3.h>

typedef struct {
    int         version;    //  NNNN from the file name, strictly increasing
    const char *name;       //  the rest of the file name, without .sql
    const char *sql;        //  the file's text
} migration_t;

//  The migrations embedded from sql/ (generated).
extern const migration_t mcpbox_migrations [];
extern const size_t      mcpbox_migrations_count;

//  Apply what is missing. *applied gets how many ran now. 0 or -1 + err.
int migrate_apply (sqlite3 *db, const migration_t *migrations, size_t count,
                   int *applied, char *err, size_t errlen);

//  Highest applied version (0 for a new database), or -1 + err.
int migrate_version (sqlite3 *db, char *err, size_t errlen);

#endif
