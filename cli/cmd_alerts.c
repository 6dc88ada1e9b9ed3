/*  cmd_alerts.c — `mcpbox alerts add|list|remove|test`: the webhooks that
    receive alerts (docs/BUS_OPS.md, alerts; docs/DESIGN.md, section 16).

        add URL --format json|slack|discord [--events a,b]
                        a webhook; events: the alert names it gets
                        (process.crash_loop, circuit.opened, tunnel.down,
                        logs.lost, retention.failed; default all)
        list            the webhooks (URL shown cut: a webhook URL's path
                        is its secret) with what was sent and what failed
        remove ID       stops sending to it
        test ID         sends it one alert.test now

    Only the admin sets webhooks, here: no management tool or LLM can.
    Exit 0 done, 1 refused or MCPbox not running, 2 usage.
*/
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include <czmq.h>

#include "cli.h"

#define S_NAME "alerts"

static int
s_usage_error (const char *message)
{
    fprintf (stderr, "mcpbox " S_NAME ": %s\n(see mcpbox " S_NAME " --help)\n", message);
    return CLI_EXIT_USAGE;
}

static int
s_list_print (json_t *reply)
{
    json_t *hooks = json_object_get (reply, "hooks");
    printf ("Alert hooks: %zu\n", json_array_size (hooks));
    static const char *headers [] = { "ID", "FORMAT", "EVENTS", "URL", "SENT", "FAILED",
                                      "LAST" };
    static const size_t widths [] = { 0, 0, 0, 0, 0, 0, 0 };
    cli_table_t *table = json_array_size (hooks) ? cli_table_new (7, headers, widths) : NULL;
    size_t index;
    json_t *item;
    json_array_foreach (hooks, index, item) {
        char sent [24], failed [24], last [160];
        snprintf (sent, sizeof sent, "%" JSON_INTEGER_FORMAT,
                  json_integer_value (json_object_get (item, "sent")));
        snprintf (failed, sizeof failed, "%" JSON_INTEGER_FORMAT,
                  json_integer_value (json_object_get (item, "failed")));
        json_int_t status = json_integer_value (json_object_get (item, "last_status"));
        const char *error = cli_jstr (item, "last_error");
        if (error && *error)
            snprintf (last, sizeof last, "%s", error);
        else
        if (status)
            snprintf (last, sizeof last, "HTTP %" JSON_INTEGER_FORMAT, status);
        else
            snprintf (last, sizeof last, "-");
        const char *cells [] = { cli_jstr (item, "id"), cli_jstr (item, "format"),
                                 cli_jstr (item, "events"), cli_jstr (item, "url"),
                                 sent, failed, last };
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

//  "a,b" -> ["a", "b"] in the body (empty parts refused by the actor)
static void
s_pack_events (msgw_t *body, const char *events)
{
    size_t count = 1;
    for (const char *p = events; *p; p++)
        count += *p == ',';
    msgw_str (body, "events");
    msgw_array (body, count);
    for (const char *p = events; ; ) {
        const char *end = strchr (p, ',');
        size_t n = end ? (size_t) (end - p) : strlen (p);
        msgw_strn (body, p, n);
        if (!end)
            break;
        p = end + 1;
    }
}

static int
s_run (config_t *config)
{
    bool json = config_bool (config, "json");
    int argc = config_argc (config);
    const char *action = argc > 1 ? config_argv (config, 1) : "";
    int wanted = streq (action, "add") || streq (action, "remove") || streq (action, "test")
               ? 3 : streq (action, "list") ? 2 : -1;
    if (wanted < 0)
        return s_usage_error ("give an action: add, list, remove or test");
    if (argc != wanted)
        return s_usage_error (wanted == 2 ? "list takes no argument"
                                          : "add takes URL, remove and test an ID");
    const char *arg = wanted == 3 ? config_argv (config, 2) : NULL;
    const char *format = config_str (config, "format");
    const char *events = config_str (config, "events");
    if (streq (action, "add") && (!format || !*format))
        return s_usage_error ("add needs --format json, slack or discord");

    cli_bus_t *bus = cli_bus_open (config, S_NAME, json);
    if (!bus)
        return CLI_EXIT_FAIL;
    msgw_t *body = msgw_new ();
    char what [200];
    if (streq (action, "add")) {
        bool with_events = events && *events;
        msgw_map (body, 4 + with_events);
        msgw_kv_str (body, "op", "hook.add");
        msgw_kv_str (body, "url", arg);
        msgw_kv_str (body, "format", format);
        msgw_kv_str (body, "created_by", "cli");
        if (with_events)
            s_pack_events (body, events);
        snprintf (what, sizeof what, "cannot add the alert hook");
    }
    else
    if (streq (action, "list")) {
        msgw_map (body, 1);
        msgw_kv_str (body, "op", "hook.list");
        snprintf (what, sizeof what, "cannot list alert hooks");
    }
    else {
        msgw_map (body, 2);
        msgw_kv_str (body, "op", streq (action, "remove") ? "hook.remove" : "hook.test");
        msgw_kv_str (body, "id", arg);
        snprintf (what, sizeof what, "cannot %s alert hook %.64s", action, arg);
    }
    json_t *reply = cli_bus_request (bus, "alerts", body, what);
    msgw_destroy (&body);
    cli_bus_close (&bus);
    if (!reply)
        return CLI_EXIT_FAIL;
    int rc = CLI_EXIT_OK;
    if (json)
        rc = cli_json_print (reply);
    else
    if (streq (action, "list"))
        rc = s_list_print (reply);
    else
    if (streq (action, "add")) {
        json_t *hook = json_object_get (reply, "hook");
        printf ("alert hook %s added: %s, %s, events %s\n", cli_jstr (hook, "id"),
                cli_jstr (hook, "format"), cli_jstr (hook, "url"), cli_jstr (hook, "events"));
    }
    else
    if (streq (action, "remove"))
        printf ("alert hook %s removed\n", arg);
    else
        printf ("test alert %s for hook %s (see mcpbox alerts list)\n",
                json_is_true (json_object_get (reply, "queued")) ? "queued"
                                                                  : "dropped (queue full)", arg);
    json_decref (reply);
    return rc;
}

static const config_option_t s_options [] = {
    { .key = "json", .type = CONFIG_BOOL,
      .help = "print the service's reply as JSON", .flag_only = true },
    { .key = "format", .type = CONFIG_STR,
      .help = "add: json, slack or discord", .flag_only = true },
    { .key = "events", .type = CONFIG_STR,
      .help = "add: the alert names to send, comma-separated (default all)",
      .flag_only = true },
    { .key = NULL }
};

const cli_command_t cli_cmd_alerts = {
    .name     = S_NAME,
    .summary  = "add, list, remove or test the webhooks that receive alerts",
    .usage    = "usage: mcpbox alerts add URL --format json|slack|discord [--events a,b]\n"
                "       mcpbox alerts list\n"
                "       mcpbox alerts remove ID\n"
                "       mcpbox alerts test ID\n\n"
                "Alerts: process.crash_loop, circuit.opened, tunnel.down, logs.lost,\n"
                "retention.failed. URL: http(s), no user:password. Bodies carry no secret:\n"
                "no tool argument or output, only names and counts. Exit 0 done, 1 refused\n"
                "or MCPbox not running, 2 usage.",
    .options  = s_options,
    .run      = s_run,
    .max_args = 2,
};
