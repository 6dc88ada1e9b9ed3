/*  cmd_secrets.c — `mcpbox secrets set|list|delete SERVER [KEY]`: the
    values of a server's secrets, which only the admin sets
    (docs/BUS_OPS.md, credentials: secret_set, secret_list, secret_delete).

        set SERVER KEY      the value is read from standard input (no echo on
                            a terminal), never from the command line; at
                            most 10,000 bytes; one trailing newline dropped
        list SERVER         keys, descriptions, whether a value is set —
                            never a value
        delete SERVER KEY   the secret and its value

    SERVER is a server's id or name; a name is looked up in the registry's
    list. Exit 0 done, 1 refused or MCPbox not running, 2 usage.
*/
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "cli.h"

#define S_NAME       "secrets"
#define S_VALUE_MAX  10000

static int
s_usage_error (const char *message)
{
    fprintf (stderr, "mcpbox " S_NAME ": %s\n(see mcpbox " S_NAME " --help)\n", message);
    return CLI_EXIT_USAGE;
}

//  The id of SERVER (an id or a name) into id; 0 or CLI_EXIT_FAIL.
static int
s_server_id (cli_bus_t *bus, const char *server, char *id, size_t size)
{
    cli_call_t failed = { 0 };
    json_t *servers = cli_servers_all (bus, CLI_BUS_TIMEOUT_MS, &failed);
    if (!servers) {
        int rc = cli_bus_report (bus, &failed, "cannot look up the server");
        cli_call_reset (&failed);
        return rc;
    }
    size_t index;
    json_t *item;
    int rc = CLI_EXIT_FAIL;
    json_array_foreach (servers, index, item)
        if (strcmp (cli_jstr (item, "id"), server) == 0
        ||  strcmp (cli_jstr (item, "name"), server) == 0) {
            snprintf (id, size, "%s", cli_jstr (item, "id"));
            rc = 0;
            break;
        }
    json_decref (servers);
    if (rc != 0)
        fprintf (stderr, "mcpbox " S_NAME ": no server with id or name '%.64s'\n", server);
    return rc;
}

static int
s_list_print (json_t *reply, const char *server)
{
    json_t *secrets = json_object_get (reply, "secrets");
    printf ("Secrets of %s: %zu\n", server, json_array_size (secrets));
    static const char *headers [] = { "KEY", "VALUE", "DESCRIPTION" };
    static const size_t widths [] = { 0, 0, 70 };
    cli_table_t *table = json_array_size (secrets) ? cli_table_new (3, headers, widths) : NULL;
    size_t index;
    json_t *item;
    json_array_foreach (secrets, index, item) {
        const char *cells [] = {
            cli_jstr (item, "key"),
            json_is_true (json_object_get (item, "has_value")) ? "set" : "(placeholder)",
            cli_jstr (item, "description")
        };
        if (table)
            cli_table_add (table, cells);
    }
    if (table) {
        putchar ('\n');
        cli_table_print (table, stdout, 0);
    }
    cli_table_destroy (&table);
    return CLI_EXIT_OK;
}

static int
s_run (config_t *config)
{
    bool json = config_bool (config, "json");
    int argc = config_argc (config);
    const char *action = argc > 1 ? config_argv (config, 1) : "";
    int wanted = strcmp (action, "set") == 0 ? 4
               : strcmp (action, "delete") == 0 ? 4
               : strcmp (action, "list") == 0 ? 3 : -1;
    if (wanted < 0)
        return s_usage_error ("give an action: set, list or delete");
    if (argc != wanted)
        return s_usage_error (wanted == 3 ? "list takes SERVER" : "set and delete take SERVER KEY");
    const char *server = config_argv (config, 2);
    const char *key = wanted == 4 ? config_argv (config, 3) : NULL;

    cli_bus_t *bus = cli_bus_open (config, S_NAME, json);
    if (!bus)
        return CLI_EXIT_FAIL;
    char server_id [96];
    if (s_server_id (bus, server, server_id, sizeof server_id) != 0) {
        cli_bus_close (&bus);
        return CLI_EXIT_FAIL;
    }
    msgw_t *body = msgw_new ();
    char what [200];
    if (strcmp (action, "set") == 0) {
        static char value [S_VALUE_MAX + 2];
        size_t len = 0;
        if (cli_read_secret ("value: ", false, value, sizeof value, &len) != 0) {
            fprintf (stderr, "mcpbox " S_NAME ": the value is longer than %d bytes\n",
                     S_VALUE_MAX);
            msgw_destroy (&body);
            cli_bus_close (&bus);
            return CLI_EXIT_FAIL;
        }
        msgw_map (body, 4);
        msgw_kv_str (body, "op", "secret_set");
        msgw_kv_str (body, "server_id", server_id);
        msgw_kv_str (body, "key", key);
        msgw_str (body, "value");
        msgw_strn (body, value, len);
        sodium_memzero (value, sizeof value);
        snprintf (what, sizeof what, "cannot set %.128s", key);
    }
    else {
        msgw_map (body, key ? 3 : 2);
        msgw_kv_str (body, "op", key ? "secret_delete" : "secret_list");
        msgw_kv_str (body, "server_id", server_id);
        if (key)
            msgw_kv_str (body, "key", key);
        snprintf (what, sizeof what, key ? "cannot delete %.128s" : "cannot list secrets%s",
                  key ? key : "");
    }
    json_t *reply = cli_bus_request (bus, "credentials", body, what);
    cli_msgw_wipe (&body);
    cli_bus_close (&bus);
    if (!reply)
        return CLI_EXIT_FAIL;
    int rc = CLI_EXIT_OK;
    if (json)
        rc = cli_json_print (reply);
    else
    if (strcmp (action, "list") == 0)
        rc = s_list_print (reply, server);
    else
        printf ("%s %s of server %s\n", strcmp (action, "set") == 0 ? "set" : "deleted",
                key, server);
    json_decref (reply);
    return rc;
}

static const config_option_t s_options [] = {
    { .key = "json", .type = CONFIG_BOOL,
      .help = "print the service's reply as JSON", .flag_only = true },
    { .key = NULL }
};

const cli_command_t cli_cmd_secrets = {
    .name     = S_NAME,
    .summary  = "set, list or delete the secret values of a server",
    .usage    = "usage: mcpbox secrets set SERVER KEY     (value on standard input)\n"
                "       mcpbox secrets list SERVER\n"
                "       mcpbox secrets delete SERVER KEY\n\n"
                "SERVER is a server's id or name; KEY matches ^[A-Z][A-Z0-9_]*$. The\n"
                "value is read from standard input (a no-echo prompt on a terminal),\n"
                "never from the command line; at most 10,000 bytes, one trailing\n"
                "newline dropped. Values are never printed. Exit 0 done, 1 refused\n"
                "or MCPbox not running, 2 usage.",
    .options  = s_options,
    .run      = s_run,
    .max_args = 3,
};
