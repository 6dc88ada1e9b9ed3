/*  cmd_tokens.c — `mcpbox tokens create|list|revoke`: the service tokens
    that let a client reach /mcp on the remote listener (docs/BUS_OPS.md,
    credentials: token.create, token.list, token.revoke).

        create NAME         a new token, printed once (only its keyed hash
                            is kept: it cannot be shown again)
        list [--all]        names, ids, when made and last used (--all:
                            revoked ones too) — never a token
        revoke NAME|ID      the token stops working at once

    Exit 0 done, 1 refused or MCPbox not running, 2 usage.
*/
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <sodium.h>

#include "cli.h"

#define S_NAME "tokens"

static int
s_usage_error (const char *message)
{
    fprintf (stderr, "mcpbox " S_NAME ": %s\n(see mcpbox " S_NAME " --help)\n", message);
    return CLI_EXIT_USAGE;
}

//  unix seconds (or null) as "2026-12-06 05:40 UTC", "-" for none
static const char *
s_when (json_t *value, char *buf, size_t size)
{
    if (!json_is_integer (value))
        return "-";
    time_t at = (time_t) json_integer_value (value);
    struct tm tm;
    gmtime_r (&at, &tm);
    strftime (buf, size, "%Y-%m-%d %H:%M UTC", &tm);
    return buf;
}

static int
s_list_print (json_t *reply)
{
    json_t *tokens = json_object_get (reply, "tokens");
    printf ("Service tokens: %zu\n", json_array_size (tokens));
    static const char *headers [] = { "ID", "NAME", "CREATED", "LAST USED", "REVOKED" };
    static const size_t widths [] = { 0, 0, 0, 0, 0 };
    cli_table_t *table = json_array_size (tokens) ? cli_table_new (5, headers, widths) : NULL;
    size_t index;
    json_t *item;
    json_array_foreach (tokens, index, item) {
        char id [24], created [40], used [40], revoked [40];
        snprintf (id, sizeof id, "%" JSON_INTEGER_FORMAT,
                  json_integer_value (json_object_get (item, "id")));
        const char *cells [] = {
            id, cli_jstr (item, "name"),
            s_when (json_object_get (item, "created_at"), created, sizeof created),
            s_when (json_object_get (item, "last_used_at"), used, sizeof used),
            s_when (json_object_get (item, "revoked_at"), revoked, sizeof revoked),
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

static bool
s_all_digits (const char *text)
{
    if (!*text || strlen (text) > 18)
        return false;
    for (const char *p = text; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

static int
s_run (config_t *config)
{
    bool json = config_bool (config, "json");
    int argc = config_argc (config);
    const char *action = argc > 1 ? config_argv (config, 1) : "";
    int wanted = strcmp (action, "create") == 0 ? 3
               : strcmp (action, "revoke") == 0 ? 3
               : strcmp (action, "list") == 0 ? 2 : -1;
    if (wanted < 0)
        return s_usage_error ("give an action: create, list or revoke");
    if (argc != wanted)
        return s_usage_error (wanted == 2 ? "list takes no argument"
                                          : "create takes NAME, revoke NAME or ID");
    const char *arg = wanted == 3 ? config_argv (config, 2) : NULL;

    cli_bus_t *bus = cli_bus_open (config, S_NAME, json);
    if (!bus)
        return CLI_EXIT_FAIL;
    msgw_t *body = msgw_new ();
    char what [200];
    if (strcmp (action, "create") == 0) {
        msgw_map (body, 2);
        msgw_kv_str (body, "op", "token.create");
        msgw_kv_str (body, "name", arg);
        snprintf (what, sizeof what, "cannot create token %.64s", arg);
    }
    else
    if (strcmp (action, "revoke") == 0) {
        msgw_map (body, 2);
        msgw_kv_str (body, "op", "token.revoke");
        if (s_all_digits (arg))
            msgw_kv_int (body, "token_id", strtoll (arg, NULL, 10));
        else
            msgw_kv_str (body, "name", arg);
        snprintf (what, sizeof what, "cannot revoke token %.64s", arg);
    }
    else {
        msgw_map (body, 2);
        msgw_kv_str (body, "op", "token.list");
        msgw_kv_bool (body, "include_revoked", config_bool (config, "all"));
        snprintf (what, sizeof what, "cannot list tokens");
    }
    json_t *reply = cli_bus_request (bus, "credentials", body, what);
    msgw_destroy (&body);
    cli_bus_close (&bus);
    if (!reply)
        return CLI_EXIT_FAIL;
    int rc = CLI_EXIT_OK;
    json_t *info = json_object_get (reply, "token_info");
    if (json)
        rc = cli_json_print (reply);
    else
    if (strcmp (action, "list") == 0)
        rc = s_list_print (reply);
    else
    if (strcmp (action, "create") == 0) {
        printf ("token %s (id %" JSON_INTEGER_FORMAT ") created. It is shown only now:\n\n"
                "    %s\n\n"
                "Clients send it as 'Authorization: Bearer <token>' to /mcp on the remote "
                "listener.\n", cli_jstr (info, "name"),
                json_integer_value (json_object_get (info, "id")), cli_jstr (reply, "token"));
    }
    else
        printf ("token %s (id %" JSON_INTEGER_FORMAT ") revoked\n", cli_jstr (info, "name"),
                json_integer_value (json_object_get (info, "id")));
    //  the token's text is in the reply: wiped before it is freed
    json_t *token = json_object_get (reply, "token");
    if (json_is_string (token))
        sodium_memzero ((char *) json_string_value (token), json_string_length (token));
    json_decref (reply);
    return rc;
}

static const config_option_t s_options [] = {
    { .key = "json", .type = CONFIG_BOOL,
      .help = "print the service's reply as JSON", .flag_only = true },
    { .key = "all", .type = CONFIG_BOOL,
      .help = "list: revoked tokens too", .flag_only = true },
    { .key = NULL }
};

const cli_command_t cli_cmd_tokens = {
    .name     = S_NAME,
    .summary  = "create, list or revoke the service tokens of remote /mcp clients",
    .usage    = "usage: mcpbox tokens create NAME\n"
                "       mcpbox tokens list [--all]\n"
                "       mcpbox tokens revoke NAME|ID\n\n"
                "A service token lets a client reach /mcp on the remote listener (the port\n"
                "the tunnel forwards to) as 'Authorization: Bearer <token>'. It is printed\n"
                "once, when made; only a keyed hash of it is kept. NAME: 1 to 64 of\n"
                "letters, digits, '_', '.' and '-', starting with a letter. Exit 0 done,\n"
                "1 refused or MCPbox not running, 2 usage.",
    .options  = s_options,
    .run      = s_run,
    .max_args = 2,
};
