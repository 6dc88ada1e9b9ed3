/*  cmd_servers.c — `mcpbox servers list [--json]`: every server the
    registry holds, all pages of `server.list` (docs/BUS_OPS.md, registry).

    Prints a table (id, name, status, tools, age, description) or, with
    --json, {"servers": [...], "total": n}. Exit 0 done, 1 the registry
    failed or MCPbox is not running, 2 usage.
*/
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define S_NAME        "servers"
#define S_PAGE_SIZE   100         //  the registry's maximum
#define S_PAGES_MAX   10000       //  a registry that never ends the list

json_t *
cli_servers_all (cli_bus_t *bus, int timeout_ms, cli_call_t *failed)
{
    json_t *servers = json_array ();
    if (!servers)
        return NULL;
    for (int64_t page = 1; page <= S_PAGES_MAX; page++) {
        msgw_t *body = msgw_new ();
        msgw_map (body, 3);
        msgw_kv_str (body, "op", "server.list");
        msgw_kv_int (body, "page", page);
        msgw_kv_int (body, "page_size", S_PAGE_SIZE);
        cli_call_t call = { .service = "registry", .body = body, .timeout_ms = timeout_ms };
        cli_bus_run (bus, &call, 1);
        msgw_destroy (&body);
        if (call.code != BUS_ERR_NONE) {
            call.body = NULL;
            *failed = call;
            json_decref (servers);
            return NULL;
        }
        json_t *items = json_object_get (call.reply, "servers");
        size_t got = json_array_size (items);
        json_array_extend (servers, items);
        int64_t total = cli_jint (call.reply, "total", 0);
        cli_call_reset (&call);
        if (got == 0 || (int64_t) json_array_size (servers) >= total)
            break;
    }
    return servers;
}

static int
s_run (config_t *config)
{
    bool json = config_bool (config, "json");
    int argc = config_argc (config);
    const char *action = argc > 1 ? config_argv (config, 1) : "list";
    if (strcmp (action, "list") != 0 || argc > 2) {
        fprintf (stderr, "mcpbox " S_NAME ": unknown action '%s' (list)\n"
                 "(see mcpbox " S_NAME " --help)\n",
                 strcmp (action, "list") != 0 ? action : config_argv (config, 2));
        return CLI_EXIT_USAGE;
    }
    cli_bus_t *bus = cli_bus_open (config, S_NAME, json);
    if (!bus)
        return CLI_EXIT_FAIL;
    cli_call_t failed = { 0 };
    json_t *servers = cli_servers_all (bus, CLI_BUS_TIMEOUT_MS, &failed);
    if (!servers) {
        int rc = cli_bus_report (bus, &failed, "cannot list servers");
        cli_call_reset (&failed);
        cli_bus_close (&bus);
        return rc;
    }
    cli_bus_close (&bus);

    int rc = CLI_EXIT_OK;
    if (json) {
        json_t *output = json_pack ("{s:O, s:I}", "servers", servers,
                                    "total", (json_int_t) json_array_size (servers));
        rc = output ? cli_json_print (output) : CLI_EXIT_FAIL;
        json_decref (output);
    }
    else {
        size_t count = json_array_size (servers);
        printf ("Servers: %zu\n", count);
        static const char *headers [] = {
            "ID", "NAME", "STATUS", "TOOLS", "AGE", "DESCRIPTION"
        };
        static const size_t widths [] = { 0, 64, 0, 0, 0, 60 };
        cli_table_t *table = count ? cli_table_new (6, headers, widths) : NULL;
        size_t index;
        json_t *server;
        json_array_foreach (servers, index, server) {
            if (!table)
                break;
            char tools [24], age [16];
            int64_t tool_count = cli_jint (server, "tool_count", -1);
            if (tool_count >= 0)
                snprintf (tools, sizeof tools, "%lld", (long long) tool_count);
            else
                snprintf (tools, sizeof tools, "?");
            cli_age (cli_jstr (server, "created_at"), age, sizeof age);
            const char *cells [] = {
                cli_jstr (server, "id"), cli_jstr (server, "name"),
                cli_jstr (server, "status"), tools, age,
                cli_jstr (server, "description")
            };
            cli_table_add (table, cells);
        }
        if (table) {
            putchar ('\n');
            cli_table_print (table, stdout, 0);
        }
        cli_table_destroy (&table);
        fflush (stdout);
    }
    json_decref (servers);
    return rc;
}

static const config_option_t s_options [] = {
    { .key = "json", .type = CONFIG_BOOL,
      .help = "print one JSON object instead of a table", .flag_only = true },
    { .key = NULL }
};

const cli_command_t cli_cmd_servers = {
    .name     = S_NAME,
    .summary  = "list the MCP servers the registry holds",
    .usage    = "usage: mcpbox servers list [--json]\n\n"
                "Print every server (all pages of the registry's list): id, name,\n"
                "status, number of tools, age and description. Exit 0 done, 1\n"
                "the registry failed or MCPbox is not running, 2 usage.",
    .options  = s_options,
    .run      = s_run,
    .max_args = 1,
};
