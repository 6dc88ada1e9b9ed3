/*  main.c — `mcpbox`: find the command, load its options, run it.

    The command is the first positional argument; flags may stand anywhere
    (`mcpbox --data-dir D up` and `mcpbox up --data-dir D` are the same).
    To find that first positional argument before any command's option
    table is chosen, a flag is known to take a value if some table declares
    it as a string or integer. Each command's own option parsing is then
    done by config.h, with its own table, so a flag another command owns is
    still an error.

    Positional arguments after the command (`mcpbox approvals approve tool
    ID`) are refused unless the command declares how many it takes
    (cli_command_t.max_args); its run() then checks them.

    Exit codes: 0 done, 1 the command failed, 2 the command line was wrong.
*/
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "startup.h"

#ifndef MCPBOX_VERSION
#   define MCPBOX_VERSION "0.0.0"
#endif

//  The dispatch table.
static const cli_command_t *s_commands [] = {
    &cli_cmd_up, &cli_cmd_status, &cli_cmd_migrate, &cli_cmd_keygen,
    &cli_cmd_sandbox, &cli_cmd_approvals, &cli_cmd_policy, &cli_cmd_servers, &cli_cmd_sources,
    &cli_cmd_tools, &cli_cmd_logs, &cli_cmd_admin, &cli_cmd_secrets, &cli_cmd_credentials,
    &cli_cmd_tunnel, &cli_cmd_tokens, &cli_cmd_export, &cli_cmd_import, &cli_cmd_oauth,
    &cli_cmd_executor, &cli_cmd_executors, &cli_cmd_alerts, NULL
};

//  Options every program has (config.h) and whether they take a value.
static const struct {
    const char *key;
    bool        takes_value;
} s_common_flags [] = {
    { "data_dir", true }, { "log_level", true }, { "config", true },
    { "help", false }, { "version", false }, { NULL, false }
};

#define S_KEY_MAX 64

static const cli_command_t *
s_command_find (const char *name)
{
    for (size_t i = 0; s_commands [i]; i++)
        if (strcmp (s_commands [i]->name, name) == 0)
            return s_commands [i];
    return NULL;
}

//  Does "--flag" (without "=value") consume the next argument?
static bool
s_flag_takes_value (const char *flag)
{
    char key [S_KEY_MAX];
    size_t len = strnlen (flag, S_KEY_MAX);
    if (len >= S_KEY_MAX)
        return false;
    for (size_t i = 0; i <= len; i++)
        key [i] = flag [i] == '-'? '_': flag [i];
    for (size_t i = 0; s_common_flags [i].key; i++)
        if (strcmp (s_common_flags [i].key, key) == 0)
            return s_common_flags [i].takes_value;
    for (size_t c = 0; s_commands [c]; c++)
        for (const config_option_t *o = s_commands [c]->options; o && o->key; o++)
            if (strcmp (o->key, key) == 0)
                return o->type != CONFIG_BOOL;
    return false;   //  unknown: config_load will name it
}

//  Index of the first positional argument, or 0 if there is none.
static int
s_command_index (int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv [i];
        if (strcmp (arg, "--") == 0)
            return i + 1 < argc? i + 1: 0;
        if (arg [0] != '-' || arg [1] == '\0')
            return i;               //  positional ("-" included, as config.h has it)
        if (arg [1] != '-')
            continue;               //  -h, or an error config.h will name
        if (!strchr (arg, '=') && s_flag_takes_value (arg + 2)
        &&  i + 1 < argc && strncmp (argv [i + 1], "--", 2) != 0)
            i++;
    }
    return 0;
}

static bool
s_has_flag (int argc, char **argv, const char *flag)
{
    for (int i = 1; i < argc; i++)
        if (strcmp (argv [i], flag) == 0)
            return true;
    return false;
}

static void
s_print_usage (FILE *out)
{
    fprintf (out,
             "usage: mcpbox COMMAND [options]   (mcpbox COMMAND --help for its options)\n"
             "       mcpbox --version\n\n"
             "commands:\n");
    for (size_t i = 0; s_commands [i]; i++)
        fprintf (out, "  %-10s %s\n", s_commands [i]->name, s_commands [i]->summary);
    fprintf (out, "\nevery command accepts --data-dir D (default ./data), "
                  "--log-level L and --config FILE\n");
}

//  The command's start-up is every program's (startup.h): options, log
//  level, data directory (read only here: a command that writes creates
//  it itself), then run().
static int
s_run_command (const cli_command_t *command, int argc, char **argv)
{
    char process [64];
    snprintf (process, sizeof process, "mcpbox %s", command->name);
    const startup_def_t def = {
        .process   = process,
        .log_name  = "mcpbox",
        .usage     = command->usage,
        .options   = command->options,
        .read_only = true,
        .max_args  = 1 + command->max_args,     //  argv [0] is the command
    };
    startup_t startup;
    int status = startup_configure (&startup, &def, argc, argv);
    if (status != STARTUP_GO)
        return status == STARTUP_EXIT_OK ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    int rc = command->run (startup.config);
    startup_release (&startup);
    return rc;
}

int
main (int argc, char **argv)
{
    int index = s_command_index (argc, argv);
    if (index == 0) {
        if (s_has_flag (argc, argv, "--version")) {
            printf ("mcpbox %s\n", MCPBOX_VERSION);
            return CLI_EXIT_OK;
        }
        if (s_has_flag (argc, argv, "--help") || s_has_flag (argc, argv, "-h")) {
            s_print_usage (stdout);
            return CLI_EXIT_OK;
        }
        s_print_usage (stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv [index];
    if (strcmp (name, "help") == 0) {
        //  `mcpbox help [COMMAND]` is `mcpbox [COMMAND] --help`.
        const cli_command_t *command = index + 1 < argc
                                     ? s_command_find (argv [index + 1]): NULL;
        if (!command) {
            s_print_usage (stdout);
            return CLI_EXIT_OK;
        }
        char *help_argv [] = { argv [0], (char *) command->name, "--help", NULL };
        return s_run_command (command, 3, help_argv);
    }
    const cli_command_t *command = s_command_find (name);
    if (!command) {
        fprintf (stderr, "mcpbox: unknown command '%.64s' (see mcpbox --help)\n", name);
        return CLI_EXIT_USAGE;
    }
    if (command->run_argv)
        return command->run_argv (argc - index, argv + index);
    return s_run_command (command, argc, argv);
}
