/*  cmd_oauth.c — `mcpbox oauth clients list` and `mcpbox oauth revoke
    CLIENT_ID`: the apps the admin authorized for /mcp through MCPbox's
    OAuth server (docs/BUS_OPS.md, credentials: oauth.clients,
    oauth.client_revoke). Revoking ends every token of the client at once
    and forgets its approval (it must be approved again on the consent
    page). Exit 0 done, 1 refused or MCPbox not running, 2 usage.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ids.h"

#define S_NAME "oauth"

static void
s_time (int64_t unix_s, char *buf, size_t size)
{
    if (unix_s <= 0) {
        snprintf (buf, size, "-");
        return;
    }
    char iso [IDS_TIME_LEN + 1];
    ids_time_iso (unix_s * 1000, iso);
    cli_age (iso, buf, size);
}

static int
s_list (cli_bus_t *bus, bool json)
{
    msgw_t *body = msgw_op_new ("oauth.clients");
    json_t *reply = cli_bus_request (bus, "credentials", body, "cannot list OAuth clients");
    msgw_destroy (&body);
    if (!reply)
        return CLI_EXIT_FAIL;
    int rc = CLI_EXIT_OK;
    if (json)
        rc = cli_json_print (reply);
    else {
        static const char *const headers [] = { "client_id", "name", "kind", "grants",
                                                "approved", "last used" };
        static const size_t widths [] = { 60, 40, 0, 0, 0, 0 };
        cli_table_t *table = cli_table_new (6, headers, widths);
        size_t i;
        json_t *client;
        json_array_foreach (json_object_get (reply, "clients"), i, client) {
            char grants [24], approved [32], used [32];
            snprintf (grants, sizeof grants, "%lld",
                      (long long) cli_jint (client, "active_grants", 0));
            s_time (cli_jint (client, "approved_at", 0), approved, sizeof approved);
            s_time (cli_jint (client, "last_used_at", 0), used, sizeof used);
            const char *cells [] = { cli_jstr (client, "client_id"),
                                     cli_jstr (client, "client_name"),
                                     cli_jstr (client, "kind"), grants, approved, used };
            cli_table_add (table, cells);
        }
        if (cli_table_rows (table) == 0)
            printf ("no OAuth clients are authorized\n");
        else
            cli_table_print (table, stdout, 0);
        cli_table_destroy (&table);
    }
    json_decref (reply);
    return rc;
}

static int
s_revoke (cli_bus_t *bus, const char *client_id, bool json)
{
    msgw_t *body = msgw_new ();
    msgw_map (body, 2);
    msgw_kv_str (body, "op", "oauth.client_revoke");
    msgw_kv_str (body, "client_id", client_id);
    json_t *reply = cli_bus_request (bus, "credentials", body, "cannot revoke the client");
    msgw_destroy (&body);
    if (!reply)
        return CLI_EXIT_FAIL;
    int rc = CLI_EXIT_OK;
    if (json)
        rc = cli_json_print (reply);
    else {
        char *name = cli_text_clean (cli_jstr (reply, "client_name"), 100, true);
        printf ("revoked %s: %lld grant(s) ended; it must be approved again\n",
                name ? name : "?", (long long) cli_jint (reply, "revoked_grants", 0));
        free (name);
    }
    json_decref (reply);
    return rc;
}

static int
s_run (config_t *config)
{
    bool json = config_bool (config, "json");
    int argc = config_argc (config);
    const char *action = argc >= 2 ? config_argv (config, 1) : "";
    bool list = argc == 3 && strcmp (action, "clients") == 0
             && strcmp (config_argv (config, 2), "list") == 0;
    bool revoke = argc == 3 && strcmp (action, "revoke") == 0;
    if (!list && !revoke) {
        fprintf (stderr, "mcpbox " S_NAME ": clients list | revoke CLIENT_ID\n"
                 "(see mcpbox " S_NAME " --help)\n");
        return CLI_EXIT_USAGE;
    }
    cli_bus_t *bus = cli_bus_open (config, S_NAME, json);
    if (!bus)
        return CLI_EXIT_FAIL;
    int rc = list ? s_list (bus, json) : s_revoke (bus, config_argv (config, 2), json);
    cli_bus_close (&bus);
    return rc;
}

static const config_option_t s_options [] = {
    { .key = "json", .type = CONFIG_BOOL,
      .help = "print the service's reply as JSON", .flag_only = true },
    { .key = NULL }
};

const cli_command_t cli_cmd_oauth = {
    .name     = S_NAME,
    .summary  = "list and revoke the apps authorized for /mcp by OAuth",
    .usage    = "usage: mcpbox oauth clients list\n"
                "       mcpbox oauth revoke CLIENT_ID\n\n"
                "The apps (claude.ai connectors, MCP clients) an admin approved on the\n"
                "OAuth consent page. Revoking ends every access and refresh token of\n"
                "the app at once; it has to be approved again. Exit 0 done, 1 refused\n"
                "or MCPbox not running.",
    .options  = s_options,
    .run      = s_run,
    .max_args = 2,
};
