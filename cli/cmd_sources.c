/*  cmd_sources.c — `mcpbox sources list [--server ID] [--json]`: the
    external MCP sources of one server (or of every server) with their
    health, from the registry's `source.list` (docs/BUS_OPS.md, registry).

    Prints a table (id, server, name, transport, auth, status, tools, last
    contact, last error) or, with --json, {"sources": [...], "total": n}.
    Exit 0 done, 1 the registry failed or MCPbox is not running, 2 usage.
*/
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define S_NAME  "sources"

//  Appends server_id's sources (each with server_name) to all. 0 or -1.
static int
s_list_server (cli_bus_t *bus, const char *server_id, json_t *all, cli_call_t *failed)
{
    msgw_t *body = msgw_new ();
    msgw_map (body, 2);
    msgw_kv_str (body, "op", "source.list");
    msgw_kv_str (body, "server_id", server_id);
    cli_call_t call = { .service = "registry", .body = body, .timeout_ms = CLI_BUS_TIMEOUT_MS };
    cli_bus_run (bus, &call, 1);
    msgw_destroy (&body);
    if (call.code != BUS_ERR_NONE) {
        call.body = NULL;
        *failed = call;
        return -1;
    }
    size_t i;
    json_t *source;
    json_array_foreach (json_object_get (call.reply, "sources"), i, source) {
        json_object_set_new (source, "server_name",
                             json_string (cli_jstr (call.reply, "server_name")));
        json_array_append (all, source);
    }
    cli_call_reset (&call);
    return 0;
}

static int
s_run (config_t *config)
{
    bool json = config_bool (config, "json");
    const char *server = config_str (config, "server");
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
    json_t *sources = json_array ();
    int step = 0;
    if (server && *server)
        step = s_list_server (bus, server, sources, &failed);
    else {
        json_t *servers = cli_servers_all (bus, CLI_BUS_TIMEOUT_MS, &failed);
        size_t i;
        json_t *item;
        step = servers ? 0 : -1;
        json_array_foreach (servers, i, item) {
            if ((step = s_list_server (bus, cli_jstr (item, "id"), sources, &failed)))
                break;
        }
        json_decref (servers);
    }
    if (step) {
        int rc = cli_bus_report (bus, &failed, "cannot list sources");
        cli_call_reset (&failed);
        cli_bus_close (&bus);
        json_decref (sources);
        return rc;
    }
    cli_bus_close (&bus);
    int rc = CLI_EXIT_OK;
    if (json) {
        json_t *output = json_pack ("{s:O, s:I}", "sources", sources,
                                    "total", (json_int_t) json_array_size (sources));
        rc = output ? cli_json_print (output) : CLI_EXIT_FAIL;
        json_decref (output);
    }
    else {
        size_t count = json_array_size (sources);
        printf ("Sources: %zu\n", count);
        static const char *headers [] = {
            "ID", "SERVER", "NAME", "TRANSPORT", "AUTH", "STATUS", "TOOLS", "CONTACT",
            "LAST ERROR"
        };
        static const size_t widths [] = { 0, 32, 40, 0, 0, 0, 0, 0, 60 };
        cli_table_t *table = count ? cli_table_new (9, headers, widths) : NULL;
        size_t index;
        json_t *source;
        json_array_foreach (sources, index, source) {
            if (!table)
                break;
            char tools [24], contact [16] = "never";
            snprintf (tools, sizeof tools, "%lld", (long long) cli_jint (source, "tool_count", 0));
            if (cli_jstr (source, "last_contact_at") && *cli_jstr (source, "last_contact_at"))
                cli_age (cli_jstr (source, "last_contact_at"), contact, sizeof contact);
            const char *cells [] = {
                cli_jstr (source, "id"), cli_jstr (source, "server_name"),
                cli_jstr (source, "name"), cli_jstr (source, "transport_type"),
                cli_jstr (source, "auth_type"), cli_jstr (source, "status"), tools, contact,
                cli_jstr (source, "last_error")
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
    json_decref (sources);
    return rc;
}

static const config_option_t s_options [] = {
    { .key = "json", .type = CONFIG_BOOL,
      .help = "print one JSON object instead of a table", .flag_only = true },
    { .key = "server", .type = CONFIG_STR, .default_value = "",
      .help = "only this server's sources (its id)", .flag_only = true },
    { .key = NULL }
};

const cli_command_t cli_cmd_sources = {
    .name     = S_NAME,
    .summary  = "list external MCP sources and their health",
    .usage    = "usage: mcpbox sources list [--server ID] [--json]\n\n"
                "Print every external MCP source (of one server, or of all): id,\n"
                "server, name, transport, auth type, status, tools discovered, last\n"
                "contact and last error. Exit 0 done, 1 the registry failed or\n"
                "MCPbox is not running, 2 usage.",
    .options  = s_options,
    .run      = s_run,
    .max_args = 1,
};
