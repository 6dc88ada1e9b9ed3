/*  cmd_admin.c — `mcpbox admin create|reset-password --username U`: admin
    accounts, kept by the credentials service (docs/BUS_OPS.md,
    credentials: admin_create, admin_reset_password).

    The password comes from standard input (a no-echo prompt, asked twice,
    on a terminal), never from the command line. Username 3-50 characters
    ^[a-zA-Z][a-zA-Z0-9_]*$, password 12-128 bytes; the service checks both.
    reset-password revokes every session of that admin and clears its
    failed-login count: it is for the operator who is locked out.
    Exit 0 done, 1 refused or MCPbox not running, 2 usage.
*/
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "cli.h"

#define S_NAME "admin"

static int
s_run (config_t *config)
{
    bool json = config_bool (config, "json");
    int argc = config_argc (config);
    const char *action = argc > 1 ? config_argv (config, 1) : "";
    const char *username = config_str (config, "username");
    bool create = strcmp (action, "create") == 0;
    if ((!create && strcmp (action, "reset-password") != 0) || argc != 2) {
        fprintf (stderr, "mcpbox " S_NAME ": give one action: create or reset-password\n"
                 "(see mcpbox " S_NAME " --help)\n");
        return CLI_EXIT_USAGE;
    }
    if (!*username) {
        fprintf (stderr, "mcpbox " S_NAME ": --username is required\n");
        return CLI_EXIT_USAGE;
    }
    cli_bus_t *bus = cli_bus_open (config, S_NAME, json);
    if (!bus)
        return CLI_EXIT_FAIL;
    char password [256];
    size_t len = 0;
    if (cli_read_secret ("password (12-128 characters): ", true, password,
                         sizeof password, &len) != 0) {
        fprintf (stderr, "mcpbox " S_NAME ": no password read (at most 128 bytes)\n");
        cli_bus_close (&bus);
        return CLI_EXIT_FAIL;
    }
    msgw_t *body = msgw_new ();
    msgw_map (body, 3);
    msgw_kv_str (body, "op", create ? "admin_create" : "admin_reset_password");
    msgw_kv_str (body, "username", username);
    msgw_str (body, "password");
    msgw_strn (body, password, len);
    sodium_memzero (password, sizeof password);
    char what [128];
    snprintf (what, sizeof what, "cannot %s admin %.50s",
              create ? "create" : "reset the password of", username);
    json_t *reply = cli_bus_request (bus, "credentials", body, what);
    cli_msgw_wipe (&body);
    cli_bus_close (&bus);
    if (!reply)
        return CLI_EXIT_FAIL;
    int rc = CLI_EXIT_OK;
    if (json)
        rc = cli_json_print (reply);
    else
        printf (create ? "admin %s created\n"
                       : "password of admin %s reset; every session of it revoked\n",
                cli_jstr (json_object_get (reply, "user"), "username"));
    json_decref (reply);
    return rc;
}

static const config_option_t s_options [] = {
    { .key = "username", .type = CONFIG_STR, .default_value = "",
      .help = "the admin's username", .flag_only = true },
    { .key = "json", .type = CONFIG_BOOL,
      .help = "print the service's reply as JSON", .flag_only = true },
    { .key = NULL }
};

const cli_command_t cli_cmd_admin = {
    .name     = S_NAME,
    .summary  = "create an admin account or reset its password",
    .usage    = "usage: mcpbox admin create --username U\n"
                "       mcpbox admin reset-password --username U\n\n"
                "The password is read from standard input (a no-echo prompt on a\n"
                "terminal), never from the command line: 12 to 128 bytes. Usernames\n"
                "are 3 to 50 characters: a letter, then letters, digits or _.\n"
                "reset-password revokes every session of that admin and clears its\n"
                "failed logins. Exit 0 done, 1 refused or MCPbox not running, 2 usage.",
    .options  = s_options,
    .run      = s_run,
    .max_args = 1,
};
