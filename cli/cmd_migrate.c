/*  cmd_migrate.c — `mcpbox migrate`: bring the database schema up to date.

    Applies the migrations embedded in this binary (common/migrate.h) to
    DATA/mcpbox.db, creating the data directory and the database if needed.
    Safe to run at any time, also while `mcpbox up` runs: each migration is
    its own transaction and is applied exactly once. `mcpbox up` runs the same
    code (cli_migrate) before it starts any actor.
*/
#include <stdio.h>

#include "cli.h"
#include "db.h"
#include "migrate.h"

int
cli_migrate (const paths_t *paths, int *applied, int *version,
             char *err, size_t errlen)
{
    sqlite3 *db = db_open (paths->db_path, err, errlen);
    if (!db)
        return -1;
    int rc = migrate_apply (db, mcpbox_migrations, mcpbox_migrations_count,
                            applied, err, errlen);
    if (rc == 0) {
        *version = migrate_version (db, err, errlen);
        if (*version < 0)
            rc = -1;
    }
    db_close (&db);
    return rc;
}

static int
s_run (config_t *config)
{
    char err [512] = "";
    paths_t paths;
    if (paths_init (&paths, config_str (config, "data_dir"), true,
                    err, sizeof err) == -1) {
        fprintf (stderr, "mcpbox migrate: %s\n", err);
        return CLI_EXIT_FAIL;
    }
    int applied = 0, version = 0;
    if (cli_migrate (&paths, &applied, &version, err, sizeof err) == -1) {
        fprintf (stderr, "mcpbox migrate: %s: %s\n", paths.db_path, err);
        return CLI_EXIT_FAIL;
    }
    printf ("applied %d migration(s); schema version %d\n", applied, version);
    return CLI_EXIT_OK;
}

static const config_option_t s_options [] = {
    { .key = NULL }
};

const cli_command_t cli_cmd_migrate = {
    .name    = "migrate",
    .summary = "create or update the database schema",
    .usage   = "usage: mcpbox migrate [--data-dir D]\n\n"
               "Apply the database migrations built into this binary to\n"
               "DATA/mcpbox.db; prints how many ran and the schema version.",
    .options = s_options,
    .run     = s_run,
};
