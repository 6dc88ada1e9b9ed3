/*  cmd_credentials.c — `mcpbox credentials rotate-key`: re-encrypt every
    secret value under a new master key (docs/BUS_OPS.md, credentials:
    rotate_key). The credentials service does it in one transaction and
    replaces DATA/credentials.key only after the commit; an interruption
    at any point leaves every value readable. Refused when the key comes
    from MCPBOX_ENCRYPTION_KEY. Exit 0 done, 1 refused or MCPbox not
    running, 2 usage.
*/
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define S_NAME "credentials"

static int
s_run (config_t *config)
{
    bool json = config_bool (config, "json");
    if (config_argc (config) != 2 || strcmp (config_argv (config, 1), "rotate-key") != 0) {
        fprintf (stderr, "mcpbox " S_NAME ": the one action is rotate-key\n"
                 "(see mcpbox " S_NAME " --help)\n");
        return CLI_EXIT_USAGE;
    }
    cli_bus_t *bus = cli_bus_open (config, S_NAME, json);
    if (!bus)
        return CLI_EXIT_FAIL;
    msgw_t *body = msgw_op_new ("rotate_key");
    json_t *reply = cli_bus_request (bus, "credentials", body, "cannot rotate the key");
    msgw_destroy (&body);
    cli_bus_close (&bus);
    if (!reply)
        return CLI_EXIT_FAIL;
    int rc = CLI_EXIT_OK;
    if (json)
        rc = cli_json_print (reply);
    else
        printf ("master key rotated; %lld secret values re-encrypted\n",
                (long long) cli_jint (reply, "reencrypted", 0));
    json_decref (reply);
    return rc;
}

static const config_option_t s_options [] = {
    { .key = "json", .type = CONFIG_BOOL,
      .help = "print the service's reply as JSON", .flag_only = true },
    { .key = NULL }
};

const cli_command_t cli_cmd_credentials = {
    .name     = S_NAME,
    .summary  = "rotate the master key that encrypts secret values",
    .usage    = "usage: mcpbox credentials rotate-key\n\n"
                "Re-encrypt every secret value under a new master key in one\n"
                "transaction, then replace DATA/credentials.key. A crash at any\n"
                "point loses nothing. Not available when the key is given in\n"
                "MCPBOX_ENCRYPTION_KEY. Exit 0 done, 1 refused or MCPbox not running.",
    .options  = s_options,
    .run      = s_run,
    .max_args = 1,
};
