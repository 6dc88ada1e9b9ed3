/*  cmd_logs.c — `mcpbox logs tail|query|stats`: the activity log and the
    execution log, from the logs service (docs/BUS_OPS.md, logs).

        tail  [--follow] [--server S] [--type T] [--exec] [--limit N]
              the newest N records (20) oldest first; --follow then asks
              every second for what came after the last one shown (rows
              are never missed: the cursor is the last row id)
        query [--exec] [--tool ID] [--server S] [--type T] [--type-prefix P]
              [--level L] [--success true|false] [--since T] [--until T]
              [--limit N] [--cursor C] [--json]
              one page, newest first, with the total and the next cursor
        stats [--window-s S] [--server S] [--tool ID] [--json]
              per tool: calls, errors, p50 / p95 duration over the window

    Activity is the default; --exec reads the execution log instead. --server
    takes a server id or name (names are looked up in the registry). Times
    are ISO-8601 UTC ("2026-11-29T05:40:00Z") or unix milliseconds. --json
    prints the service's reply (tail: one JSON object per line).

    Everything printed comes from the logs and much of it from tools and
    LLMs: text goes through cli_text_clean, so no escape sequence reaches
    the terminal. Exit 0 done, 1 refused or MCPbox not running, 2 usage.
*/
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <czmq.h>

#include "cli.h"

#define S_NAME          "logs"
#define S_TAIL_DEFAULT  20
#define S_FOLLOW_MS     1000
#define S_PAGE_MAX      200

static int
s_usage_error (const char *message, const char *detail)
{
    fprintf (stderr, "mcpbox " S_NAME ": %s%s%s\n(see mcpbox " S_NAME " --help)\n",
             message, detail ? ": " : "", detail ? detail : "");
    return CLI_EXIT_USAGE;
}

static bool
s_digits (const char *text)
{
    if (!*text || strlen (text) > 15)
        return false;
    for (; *text; text++)
        if (!isdigit ((unsigned char) *text))
            return false;
    return true;
}

//  --server: an id as is; a name becomes its id (registry). 0, or exit code.
static int
s_server_id (cli_bus_t *bus, const char *given, char *out, size_t size)
{
    if (cli_uuid_valid (given)) {
        snprintf (out, size, "%s", given);
        return 0;
    }
    cli_call_t failed = { 0 };
    json_t *servers = cli_servers_all (bus, CLI_BUS_TIMEOUT_MS, &failed);
    if (!servers) {
        int rc = cli_bus_report (bus, &failed, "cannot look up the server");
        cli_call_reset (&failed);
        return rc;
    }
    size_t index;
    json_t *row;
    out [0] = 0;
    json_array_foreach (servers, index, row)
        if (strcmp (cli_jstr (row, "name"), given) == 0)
            snprintf (out, size, "%s", cli_jstr (row, "id"));
    json_decref (servers);
    if (!*out) {
        char *shown = cli_text_clean (given, 64, true);
        fprintf (stderr, "mcpbox " S_NAME ": no server named '%s'\n", shown ? shown : "");
        free (shown);
        return CLI_EXIT_FAIL;
    }
    return 0;
}

//  A time option as the service takes it: digits -> integer, else text.
static void
s_time_field (msgw_t *body, const char *key, const char *value)
{
    msgw_str (body, key);
    if (s_digits (value))
        msgw_int (body, strtoll (value, NULL, 10));
    else
        msgw_str (body, value);
}

typedef struct {
    bool        exec;               //  the execution log, not activity
    const char *tool;
    char        server [64];        //  resolved id, "" if none
    const char *type;
    const char *type_prefix;
    const char *level;
    const char *success;            //  "true" | "false" | ""
    const char *since;
    const char *until;
    int64_t     limit;
    int64_t     cursor;             //  0: none
    bool        ascending;
} s_filter_t;

static msgw_t *
s_query_body (const s_filter_t *f)
{
    size_t pairs = 3 + (f->cursor > 0) + (*f->server != 0) + (*f->since != 0)
                 + (*f->until != 0)
                 + (f->exec ? (*f->tool != 0) + (*f->success != 0)
                            : (*f->type != 0) + (*f->type_prefix != 0) + (*f->level != 0));
    msgw_t *body = msgw_new ();
    msgw_map (body, pairs);
    msgw_kv_str (body, "op", f->exec ? "exec.query" : "activity.query");
    msgw_kv_int (body, "limit", f->limit);
    msgw_kv_str (body, "order", f->ascending ? "asc" : "desc");
    if (f->cursor > 0)
        msgw_kv_int (body, "cursor", f->cursor);
    if (*f->server)
        msgw_kv_str (body, "server_id", f->server);
    if (*f->since)
        s_time_field (body, "since", f->since);
    if (*f->until)
        s_time_field (body, "until", f->until);
    if (f->exec) {
        if (*f->tool)
            msgw_kv_str (body, "tool_id", f->tool);
        if (*f->success)
            msgw_kv_bool (body, "success", strcmp (f->success, "true") == 0);
    }
    else {
        if (*f->type)
            msgw_kv_str (body, "type", f->type);
        if (*f->type_prefix)
            msgw_kv_str (body, "type_prefix", f->type_prefix);
        if (*f->level)
            msgw_kv_str (body, "level", f->level);
    }
    return body;
}

//  One row as a line for people.
static void
s_print_row (const json_t *row, bool exec)
{
    char *when = cli_text_clean (cli_jstr (row, "created_at"), 24, true);
    if (exec) {
        const char *tool = *cli_jstr (row, "tool_name") ? cli_jstr (row, "tool_name")
                                                         : cli_jstr (row, "tool_id");
        char *name = cli_text_clean (tool, 64, true);
        char *by = cli_text_clean (cli_jstr (row, "executed_by"), 40, true);
        char *error = cli_text_clean (cli_jstr (row, "error"), 120, true);
        bool ok = json_is_true (json_object_get (row, "success"));
        printf ("%s  %-4s  %s%s  %lld ms  %s%s%s\n", when ? when : "", ok ? "ok" : "FAIL",
                name ? name : "", json_is_true (json_object_get (row, "is_test")) ? " (test)" : "",
                (long long) cli_jint (row, "duration_ms", 0), by ? by : "",
                ok ? "" : "  ", ok ? "" : (error ? error : ""));
        free (name);
        free (by);
        free (error);
    }
    else {
        char *type = cli_text_clean (cli_jstr (row, "type"), 64, true);
        char *level = cli_text_clean (cli_jstr (row, "level"), 8, true);
        char *message = cli_text_clean (cli_jstr (row, "message"), 300, true);
        char *source = cli_text_clean (cli_jstr (row, "source"), 40, true);
        printf ("%s  %-7s  %-24s  %s  [%s]\n", when ? when : "", level ? level : "",
                type ? type : "", message ? message : "", source ? source : "");
        free (type);
        free (level);
        free (message);
        free (source);
    }
    free (when);
}

//  One record as one line of JSON (tail --json: JSON Lines).
static void
s_json_line (const json_t *row)
{
    char *text = json_dumps (row, JSON_COMPACT | JSON_SORT_KEYS);
    if (text) {
        printf ("%s\n", text);
        free (text);
    }
}

static json_t *
s_rows (json_t *reply, bool exec)
{
    return json_object_get (reply, exec ? "logs" : "activity");
}

//  --- tail -------------------------------------------------------------------------

static int
s_tail (cli_bus_t *bus, s_filter_t *f, bool follow, bool json)
{
    //  the newest N, shown oldest first
    msgw_t *body = s_query_body (f);
    json_t *reply = cli_bus_request (bus, "logs", body, "cannot read the logs");
    msgw_destroy (&body);
    if (!reply)
        return CLI_EXIT_FAIL;
    json_t *rows = s_rows (reply, f->exec);
    int64_t last = 0;
    for (size_t i = json_array_size (rows); i > 0; i--) {
        json_t *row = json_array_get (rows, i - 1);
        if (json)
            s_json_line (row);
        else
            s_print_row (row, f->exec);
        int64_t id = cli_jint (row, "id", 0);
        if (id > last)
            last = id;
    }
    json_decref (reply);
    fflush (stdout);
    if (!follow)
        return CLI_EXIT_OK;
    //  then what comes after the last row shown, oldest first
    f->ascending = true;
    f->limit = S_PAGE_MAX;
    while (!zsys_interrupted) {
        f->cursor = last;
        body = s_query_body (f);
        reply = cli_bus_request (bus, "logs", body, "cannot read the logs");
        msgw_destroy (&body);
        if (!reply)
            return CLI_EXIT_FAIL;
        rows = s_rows (reply, f->exec);
        size_t index;
        json_t *row;
        json_array_foreach (rows, index, row) {
            if (json)
                s_json_line (row);
            else
                s_print_row (row, f->exec);
            int64_t id = cli_jint (row, "id", 0);
            if (id > last)
                last = id;
        }
        bool more = !json_is_null (json_object_get (reply, "next_cursor"))
                 && json_object_get (reply, "next_cursor");
        json_decref (reply);
        fflush (stdout);
        if (!more)
            zclock_sleep (S_FOLLOW_MS);
    }
    return CLI_EXIT_OK;
}

//  --- query and stats -------------------------------------------------------------

static int
s_query (cli_bus_t *bus, s_filter_t *f, bool json)
{
    msgw_t *body = s_query_body (f);
    json_t *reply = cli_bus_request (bus, "logs", body, "cannot read the logs");
    msgw_destroy (&body);
    if (!reply)
        return CLI_EXIT_FAIL;
    int rc = CLI_EXIT_OK;
    if (json)
        rc = cli_json_print (reply);
    else {
        json_t *rows = s_rows (reply, f->exec);
        size_t index;
        json_t *row;
        json_array_foreach (rows, index, row)
            s_print_row (row, f->exec);
        json_t *next = json_object_get (reply, "next_cursor");
        printf ("%zu of %lld row(s)", json_array_size (rows),
                (long long) cli_jint (reply, "total", 0));
        if (json_is_integer (next))
            printf ("; more with --cursor %lld", (long long) json_integer_value (next));
        printf ("\n");
    }
    json_decref (reply);
    return rc;
}

static int
s_stats (cli_bus_t *bus, config_t *config, const s_filter_t *f, bool json)
{
    msgw_t *body = msgw_new ();
    msgw_map (body, 2 + (*f->server != 0) + (*f->tool != 0));
    msgw_kv_str (body, "op", "exec.stats");
    msgw_kv_int (body, "window_s", config_int (config, "window_s"));
    if (*f->server)
        msgw_kv_str (body, "server_id", f->server);
    if (*f->tool)
        msgw_kv_str (body, "tool_id", f->tool);
    json_t *reply = cli_bus_request (bus, "logs", body, "cannot read the statistics");
    msgw_destroy (&body);
    if (!reply)
        return CLI_EXIT_FAIL;
    int rc = CLI_EXIT_OK;
    if (json)
        rc = cli_json_print (reply);
    else {
        static const char *headers [] = { "TOOL", "SERVER", "CALLS", "ERRORS", "P50 MS", "P95 MS" };
        cli_table_t *table = cli_table_new (6, headers, NULL);
        size_t index;
        json_t *row;
        json_array_foreach (json_object_get (reply, "tools"), index, row) {
            char calls [24], errors [24], p50 [24], p95 [24];
            snprintf (calls, sizeof calls, "%lld", (long long) cli_jint (row, "calls", 0));
            snprintf (errors, sizeof errors, "%lld", (long long) cli_jint (row, "errors", 0));
            snprintf (p50, sizeof p50, "%lld", (long long) cli_jint (row, "p50_ms", 0));
            snprintf (p95, sizeof p95, "%lld", (long long) cli_jint (row, "p95_ms", 0));
            const char *cells [] = { cli_jstr (row, "tool_name"), cli_jstr (row, "server_name"),
                                     calls, errors, p50, p95 };
            if (table)
                cli_table_add (table, cells);
        }
        printf ("Since %s:\n\n", cli_jstr (reply, "since"));
        if (table)
            cli_table_print (table, stdout, 2);
        cli_table_destroy (&table);
    }
    json_decref (reply);
    return rc;
}

static int
s_run (config_t *config)
{
    bool json = config_bool (config, "json");
    int argc = config_argc (config);
    const char *action = argc > 1 ? config_argv (config, 1) : "";
    if (argc != 2 || (strcmp (action, "tail") && strcmp (action, "query")
                      && strcmp (action, "stats")))
        return s_usage_error ("say tail, query or stats", argc > 2 ? config_argv (config, 2) : NULL);
    bool tail = strcmp (action, "tail") == 0;
    s_filter_t f = {
        .exec        = config_bool (config, "exec"),
        .tool        = config_str (config, "tool"),
        .type        = config_str (config, "type"),
        .type_prefix = config_str (config, "type_prefix"),
        .level       = config_str (config, "level"),
        .success     = config_str (config, "success"),
        .since       = config_str (config, "since"),
        .until       = config_str (config, "until"),
        .limit       = config_int (config, "limit"),
        .cursor      = config_int (config, "cursor"),
    };
    if (f.limit == 0)
        f.limit = tail ? S_TAIL_DEFAULT : 50;
    if (*f.success && strcmp (f.success, "true") && strcmp (f.success, "false"))
        return s_usage_error ("--success takes true or false", NULL);
    if (config_bool (config, "follow") && !tail)
        return s_usage_error ("--follow goes with tail", NULL);
    if (f.exec && (*f.type || *f.type_prefix || *f.level))
        return s_usage_error ("--type, --type-prefix and --level are for the activity log", NULL);
    if (!f.exec && (*f.tool || *f.success))
        return s_usage_error ("--tool and --success need --exec", NULL);
    cli_bus_t *bus = cli_bus_open (config, S_NAME, json);
    if (!bus)
        return CLI_EXIT_FAIL;
    const char *server = config_str (config, "server");
    int rc = *server ? s_server_id (bus, server, f.server, sizeof f.server) : 0;
    if (rc == 0) {
        if (strcmp (action, "stats") == 0)
            rc = s_stats (bus, config, &f, json);
        else
        if (tail)
            rc = s_tail (bus, &f, config_bool (config, "follow"), json);
        else
            rc = s_query (bus, &f, json);
    }
    cli_bus_close (&bus);
    return rc;
}

static const config_option_t s_options [] = {
    { .key = "json", .type = CONFIG_BOOL,
      .help = "print JSON (tail: one object per line)", .flag_only = true },
    { .key = "follow", .type = CONFIG_BOOL,
      .help = "tail: keep printing new records until ^C", .flag_only = true },
    { .key = "exec", .type = CONFIG_BOOL,
      .help = "the execution log instead of the activity log", .flag_only = true },
    { .key = "server", .type = CONFIG_STR, .default_value = "",
      .help = "only this server (id or name)", .flag_only = true },
    { .key = "tool", .type = CONFIG_STR, .default_value = "",
      .help = "--exec: only this tool id", .flag_only = true },
    { .key = "type", .type = CONFIG_STR, .default_value = "",
      .help = "activity: only this type (server.created)", .flag_only = true },
    { .key = "type_prefix", .type = CONFIG_STR, .default_value = "",
      .help = "activity: types starting so (server.)", .flag_only = true },
    { .key = "level", .type = CONFIG_STR, .default_value = "",
      .help = "activity: debug, info, warning or error", .flag_only = true },
    { .key = "success", .type = CONFIG_STR, .default_value = "",
      .help = "--exec: true or false", .flag_only = true },
    { .key = "since", .type = CONFIG_STR, .default_value = "",
      .help = "from this time (ISO-8601 UTC or unix ms)", .flag_only = true },
    { .key = "until", .type = CONFIG_STR, .default_value = "",
      .help = "before this time", .flag_only = true },
    { .key = "limit", .type = CONFIG_INT, .default_value = "0", .max = 200,
      .help = "rows (tail 20, query 50; at most 200)", .flag_only = true },
    { .key = "cursor", .type = CONFIG_INT, .default_value = "0", .max = INT64_MAX,
      .help = "query: the next_cursor of the page before", .flag_only = true },
    { .key = "window_s", .type = CONFIG_INT, .default_value = "86400", .min = 1, .max = 315360000,
      .help = "stats: the window in seconds", .flag_only = true },
    { .key = NULL }
};

const cli_command_t cli_cmd_logs = {
    .name     = S_NAME,
    .summary  = "read the activity and execution logs",
    .usage    = "usage: mcpbox logs tail [--follow] [--server S] [--type T] [--exec] [--json]\n"
                "       mcpbox logs query [--exec] [--tool ID] [--server S] [--type T]\n"
                "                         [--type-prefix P] [--level L] [--success true|false]\n"
                "                         [--since TIME] [--until TIME] [--limit N]\n"
                "                         [--cursor C] [--json]\n"
                "       mcpbox logs stats [--window-s S] [--server S] [--tool ID] [--json]\n\n"
                "The activity log by default, the execution log with --exec. --server\n"
                "takes an id or a name. Times: ISO-8601 UTC or unix milliseconds.\n"
                "Exit 0 done, 1 refused or MCPbox not running, 2 usage.",
    .options  = s_options,
    .run      = s_run,
    .max_args = 1,
};
