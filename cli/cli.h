/*  cli.h — what the `mcpbox` command files share.

    Each command lives in its own file (cmd_<name>.c) and exports one
    cli_command_t: its options table, its usage text and a run function.
    main.c owns the dispatch table, parses the line (config.h: flags may
    stand anywhere, the first positional argument is the command), handles
    --help and --version, and calls run() with the loaded configuration.

    A few helpers are used by more than one command; each is defined in the
    file of the command it belongs to and declared here.
*/
#ifndef MCPBOX_CLI_H
#define MCPBOX_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "paths.h"

//  Exit codes every command uses.
#define CLI_EXIT_OK     0       //  done
#define CLI_EXIT_FAIL   1       //  the command ran and failed
#define CLI_EXIT_USAGE  2       //  the command line was wrong

typedef struct {
    const char            *name;      //  "up"
    const char            *summary;   //  one line for `mcpbox --help`
    const char            *usage;     //  printed above the options by --help
    const config_option_t *options;   //  the command's own options
    int                  (*run) (config_t *config);  //  returns an exit code
    //  Commands whose flags repeat (config.h keeps one value per key) parse
    //  argv themselves: when set, main.c calls this instead of run().
    int                  (*run_argv) (int argc, char **argv);
} cli_command_t;

extern const cli_command_t cli_cmd_up;
extern const cli_command_t cli_cmd_status;
extern const cli_command_t cli_cmd_migrate;
extern const cli_command_t cli_cmd_keygen;
extern const cli_command_t cli_cmd_sandbox;

//  --- cmd_migrate.c --------------------------------------------------------
//  Open the database at paths->db_path and apply the embedded migrations.
//  *applied gets how many ran now, *version the schema version after.
//  0, or -1 with a message in err.
int cli_migrate (const paths_t *paths, int *applied, int *version,
                 char *err, size_t errlen);

//  --- cmd_keygen.c ---------------------------------------------------------
//  Make DATA/keys (and, if `sub` is not NULL, DATA/keys/<sub>) exist with
//  mode 0700, tightening it if it is wider. 0, or -1 with a message.
int cli_keys_dir_ensure (const paths_t *paths, const char *sub,
                         char *err, size_t errlen);

//  Generate a CURVE certificate: `path` (public, 0644) and `path`_secret
//  (0600). Refuses to replace either file unless `force`; the files appear
//  complete or not at all. The Z85 public key goes to public_txt (41 bytes
//  are enough). 0, or -1 with a message in err.
#define CLI_Z85_KEY_SIZE 41
int cli_keygen_write (const char *path, bool force, char *public_txt,
                      size_t public_size, char *err, size_t errlen);

#endif
