/*  cmd_approvals.c — `mcpbox approvals list|approve|reject|revoke`: the
    admin's side of approval, over the bus (docs/BUS_OPS.md, approval).

        list [--kind K] [--status S]   pending.list (pending of every kind,
                                       the default) or requests.list per kind
        approve KIND ID                review.approve
        reject KIND ID --reason TEXT   review.reject (a reason is required)
        revoke KIND ID                 review.revoke

    KIND is tool (ID is the tool's id), module or network (ID is the
    request's id). reviewed_by is "admin@cli:<unix user>": whoever can
    open DATA/run (0700) is the admin, and the audit trail says which
    account it was. --reason is sent with approve and revoke too when
    given (the service may keep it); reject refuses to run without one.

    For the table, server and tool names are looked up in the registry
    (server.list, tool.get) with a short deadline; if the registry does
    not answer, ids are shown instead. --json prints the approval service's
    reply (pending.list), or {"status", "requests": [rows with "kind"],
    "total"} for requests.list; every row gains "approve_id", the id that
    approve / reject / revoke take (a tool review's row also has "id", the
    review's own id, which those commands do not take).

    Exit 0 done, 1 the service refused or is not there, 2 usage.
*/
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json_msgpack.h"

#define S_NAME          "approvals"
#define S_LOOKUPS_MAX   50          //  tool.get lookups for one table

static const char *s_kinds [] = { "tool", "module", "network", NULL };

static int
s_usage_error (const char *fmt, const char *detail)
{
    fprintf (stderr, "mcpbox " S_NAME ": ");
    fprintf (stderr, fmt, detail ? detail : "");
    fprintf (stderr, "\n(see mcpbox " S_NAME " --help)\n");
    return CLI_EXIT_USAGE;
}

static bool
s_kind_valid (const char *kind)
{
    for (size_t i = 0; s_kinds [i]; i++)
        if (strcmp (kind, s_kinds [i]) == 0)
            return true;
    return false;
}

//  8-4-4-4-12 hex digits.
static bool
s_blank (const char *text)
{
    for (; *text; text++)
        if (!isspace ((unsigned char) *text))
            return false;
    return true;
}

//  --- names for the table ------------------------------------------------------

typedef struct {
    json_t *servers;        //  server_id -> name
    json_t *tools;          //  tool_id -> name
} s_names_t;

static const char *
s_name_of (json_t *map, const char *id, char *buf, size_t size)
{
    const char *name = json_string_value (json_object_get (map, id));
    if (name && *name)
        return name;
    //  Unknown: a short id is still something to go on.
    snprintf (buf, size, "%.8s", id && *id ? id : "-");
    return buf;
}

//  Ask the registry for server names and for the names of tools that rows
//  mention without one. Best effort: what does not come back stays an id.
static void
s_names_fetch (cli_bus_t *bus, json_t *rows, s_names_t *names)
{
    names->servers = json_object ();
    names->tools = json_object ();
    if (!names->servers || !names->tools)
        return;
    cli_call_t failed = { 0 };
    json_t *servers = cli_servers_all (bus, CLI_BUS_LOOKUP_MS, &failed);
    size_t index;
    json_t *row;
    json_array_foreach (servers, index, row)
        json_object_set (names->servers, cli_jstr (row, "id"),
                         json_object_get (row, "name"));
    json_decref (servers);
    bool registry_down = !servers && (failed.code == BUS_ERR_NO_WORKER
                                      || failed.code == BUS_ERR_TIMEOUT);
    cli_call_reset (&failed);
    //  Tool rows carry their name; request rows only the tool's id.
    json_array_foreach (rows, index, row)
        if (*cli_jstr (row, "name") && *cli_jstr (row, "tool_id"))
            json_object_set (names->tools, cli_jstr (row, "tool_id"),
                             json_object_get (row, "name"));
    if (registry_down)
        return;
    cli_call_t calls [S_LOOKUPS_MAX];
    const char *tool_ids [S_LOOKUPS_MAX];
    size_t count = 0;
    json_array_foreach (rows, index, row) {
        const char *tool_id = cli_jstr (row, "tool_id");
        if (!*tool_id || json_object_get (names->tools, tool_id) || count == S_LOOKUPS_MAX)
            continue;
        bool asked = false;
        for (size_t i = 0; i < count && !asked; i++)
            asked = strcmp (tool_ids [i], tool_id) == 0;
        if (asked)
            continue;
        msgw_t *body = msgw_new ();
        msgw_map (body, 2);
        msgw_kv_str (body, "op", "tool.get");
        msgw_kv_str (body, "tool_id", tool_id);
        tool_ids [count] = tool_id;
        calls [count++] = (cli_call_t) { .service = "registry", .body = body,
                                         .timeout_ms = CLI_BUS_LOOKUP_MS };
    }
    if (count == 0)
        return;
    cli_bus_run (bus, calls, count);
    for (size_t i = 0; i < count; i++) {
        json_t *tool = json_object_get (calls [i].reply, "tool");
        if (tool && *cli_jstr (tool, "name"))
            json_object_set (names->tools, tool_ids [i], json_object_get (tool, "name"));
        msgw_destroy (&calls [i].body);
        cli_call_reset (&calls [i]);
    }
}

static void
s_names_free (s_names_t *names)
{
    json_decref (names->servers);
    json_decref (names->tools);
}

//  --- list ----------------------------------------------------------------------

//  Mark each row of a kind with the id the decision commands take: the
//  tool's id for a tool review, the request's id otherwise.
static void
s_mark (json_t *array, const char *kind)
{
    bool tool = strcmp (kind, "tool") == 0;
    size_t index;
    json_t *row;
    json_array_foreach (array, index, row)
        if (json_is_object (row))
            json_object_set (row, "approve_id",
                             json_object_get (row, tool ? "tool_id" : "id"));
}

//  Append every row of `array` to rows, tagged with its kind.
static void
s_collect (json_t *rows, json_t *array, const char *kind)
{
    s_mark (array, kind);
    size_t index;
    json_t *row;
    json_array_foreach (array, index, row) {
        if (!json_is_object (row))
            continue;
        json_t *copy = json_copy (row);
        if (!copy)
            continue;
        json_object_set_new (copy, "kind", json_string (kind));
        json_array_append_new (rows, copy);
    }
}

static void
s_print_table (json_t *rows, const s_names_t *names, bool pending)
{
    static const char *headers_pending [] = {
        "APPROVE ID", "KIND", "TOOL", "SERVER", "RESOURCE", "REQUESTED BY", "AGE", "NOTES"
    };
    static const char *headers_done [] = {
        "APPROVE ID", "KIND", "TOOL", "SERVER", "RESOURCE", "REQUESTED BY", "AGE", "NOTES",
        "STATUS", "REVIEWED BY"
    };
    static const size_t widths [] = { 0, 0, 32, 24, 40, 24, 0, 48, 0, 24 };
    cli_table_t *table = cli_table_new (pending ? 8 : 10,
                                        pending ? headers_pending : headers_done, widths);
    if (!table)
        return;
    size_t index;
    json_t *row;
    json_array_foreach (rows, index, row) {
        const char *kind = cli_jstr (row, "kind");
        bool tool = strcmp (kind, "tool") == 0;
        char resource [300], age [16], tool_buf [16], server_buf [16];
        const char *notes, *when, *reviewed_by;
        if (tool) {
            snprintf (resource, sizeof resource, "code %.12s", cli_jstr (row, "code_hash"));
            notes = cli_jstr (row, "publish_notes");
            when = cli_jstr (row, "requested_at");
            const char *status = cli_jstr (row, "status");
            reviewed_by = strcmp (status, "rejected") == 0 ? cli_jstr (row, "rejected_by")
                        : strcmp (status, "approved") == 0 ? cli_jstr (row, "approved_by")
                        : cli_jstr (row, "revoked_by");
        }
        else {
            if (strcmp (kind, "module") == 0)
                snprintf (resource, sizeof resource, "%.255s", cli_jstr (row, "module_name"));
            else {
                const char *host = cli_jstr (row, "host");
                int64_t port = cli_jint (row, "port", 0);
                if (port > 0)
                    snprintf (resource, sizeof resource, strchr (host, ':')
                              ? "[%.253s]:%lld" : "%.253s:%lld", host, (long long) port);
                else
                    snprintf (resource, sizeof resource, "%.255s", host);
            }
            notes = cli_jstr (row, "justification");
            when = cli_jstr (row, "created_at");
            reviewed_by = cli_jstr (row, "reviewed_by");
        }
        const char *reason = cli_jstr (row, "rejection_reason");
        char *noted = NULL;
        if (!pending && *reason && strcmp (cli_jstr (row, "status"), "rejected") == 0
        &&  asprintf (&noted, "rejected: %s", reason) > 0)
            notes = noted;
        cli_age (when, age, sizeof age);
        const char *id = tool ? cli_jstr (row, "tool_id") : cli_jstr (row, "id");
        const char *cells [] = {
            id, kind,
            s_name_of (names->tools, cli_jstr (row, "tool_id"), tool_buf, sizeof tool_buf),
            s_name_of (names->servers, cli_jstr (row, "server_id"), server_buf,
                       sizeof server_buf),
            resource, cli_jstr (row, "requested_by"), age, notes,
            cli_jstr (row, "status"), reviewed_by
        };
        cli_table_add (table, cells);
        free (noted);
    }
    cli_table_print (table, stdout, 0);
    cli_table_destroy (&table);
}

static const char *
s_plural (int64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static int
s_list (config_t *config, cli_bus_t *bus, bool json)
{
    const char *kind = config_str (config, "kind");
    const char *status = config_str (config, "status");
    if (!*status || strcmp (status, "pending_review") == 0)
        status = "pending";
    bool pending = strcmp (status, "pending") == 0;
    bool all_kinds = !*kind;

    json_t *rows = json_array ();
    json_t *output = NULL;
    if (!rows)
        return CLI_EXIT_FAIL;
    if (pending && all_kinds) {
        msgw_t *body = msgw_op_new ("pending.list");
        output = cli_bus_request (bus, "approval", body, "cannot list pending approvals");
        msgw_destroy (&body);
        if (!output) {
            json_decref (rows);
            return CLI_EXIT_FAIL;
        }
        s_collect (rows, json_object_get (output, "pending_tools"), "tool");
        s_collect (rows, json_object_get (output, "pending_module_requests"), "module");
        s_collect (rows, json_object_get (output, "pending_network_requests"), "network");
    }
    else {
        cli_call_t calls [3];
        size_t count = 0;
        for (size_t i = 0; s_kinds [i]; i++) {
            if (!all_kinds && strcmp (kind, s_kinds [i]) != 0)
                continue;
            const char *wire_status = pending && strcmp (s_kinds [i], "tool") == 0
                                    ? "pending_review" : status;
            msgw_t *body = msgw_new ();
            msgw_map (body, 3);
            msgw_kv_str (body, "op", "requests.list");
            msgw_kv_str (body, "kind", s_kinds [i]);
            msgw_kv_str (body, "status", wire_status);
            calls [count++] = (cli_call_t) { .service = "approval", .body = body };
        }
        cli_bus_run (bus, calls, count);
        int rc = CLI_EXIT_OK;
        for (size_t i = 0; i < count; i++) {
            if (calls [i].code != BUS_ERR_NONE && rc == CLI_EXIT_OK)
                rc = cli_bus_report (bus, &calls [i], "cannot list requests");
            if (calls [i].reply)
                s_collect (rows, json_object_get (calls [i].reply, "requests"),
                           cli_jstr (calls [i].reply, "kind"));
            msgw_destroy (&calls [i].body);
            cli_call_reset (&calls [i]);
        }
        if (rc != CLI_EXIT_OK) {
            json_decref (rows);
            return rc;
        }
        output = json_pack ("{s:s, s:O, s:I}", "status", status, "requests", rows,
                            "total", (json_int_t) json_array_size (rows));
        if (!output) {
            json_decref (rows);
            return CLI_EXIT_FAIL;
        }
    }
    int rc = CLI_EXIT_OK;
    if (json)
        rc = cli_json_print (output);
    else {
        s_names_t names = { 0 };
        if (json_array_size (rows) > 0)
            s_names_fetch (bus, rows, &names);
        if (pending && all_kinds) {
            json_t *summary = json_object_get (output, "summary");
            int64_t tools = cli_jint (summary, "tools", 0);
            int64_t modules = cli_jint (summary, "modules", 0);
            int64_t network = cli_jint (summary, "network", 0);
            printf ("Pending: %lld %s, %lld module %s, %lld network %s\n",
                    (long long) tools, s_plural (tools, "tool", "tools"),
                    (long long) modules, s_plural (modules, "request", "requests"),
                    (long long) network, s_plural (network, "request", "requests"));
        }
        else
            printf ("%c%s %s requests: %zu\n", toupper ((unsigned char) status [0]),
                    status + 1, all_kinds ? "tool, module and network" : kind,
                    json_array_size (rows));
        if (json_array_size (rows) > 0) {
            putchar ('\n');
            s_print_table (rows, &names, pending);
            if (pending)
                printf ("\nmcpbox approvals approve KIND ID | reject KIND ID --reason TEXT\n"
                        "(ID: the APPROVE ID column, a tool's id for tools, the "
                        "request's id for modules and network)\n");
        }
        s_names_free (&names);
        fflush (stdout);
    }
    json_decref (output);
    json_decref (rows);
    return rc;
}

//  --- approve, reject, revoke --------------------------------------------------

static int
s_review (config_t *config, cli_bus_t *bus, bool json, const char *verb,
          const char *kind, const char *id)
{
    const char *reason = config_str (config, "reason");
    const char *hints_text = config_str (config, "annotations");
    json_t *hints = NULL;
    if (*hints_text) {
        //  approval checks the hints themselves; here only that it is an object
        hints = json_loads (hints_text, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object (hints)) {
            json_decref (hints);
            return s_usage_error ("--annotations must be a JSON object, e.g. "
                                  "'{\"readOnlyHint\":true,\"openWorldHint\":false}'%s",
                                  NULL);
        }
    }
    char reviewer [96];
    cli_admin_identity (reviewer, sizeof reviewer);
    char op [32], what [128];
    snprintf (op, sizeof op, "review.%s", verb);
    snprintf (what, sizeof what, "cannot %s %s %s", verb, kind, id);

    msgw_t *body = msgw_new ();
    msgw_map (body, 4 + (*reason ? 1 : 0) + (hints ? 1 : 0));
    msgw_kv_str (body, "op", op);
    msgw_kv_str (body, "kind", kind);
    msgw_kv_str (body, "id", id);
    msgw_kv_str (body, "reviewed_by", reviewer);
    if (*reason)
        msgw_kv_str (body, "reason", reason);
    if (hints) {
        msgw_str (body, "annotations");
        msgw_json (body, hints);
        json_decref (hints);
    }
    json_t *reply = cli_bus_request (bus, "approval", body, what);
    msgw_destroy (&body);
    if (!reply)
        return CLI_EXIT_FAIL;
    int rc = CLI_EXIT_OK;
    if (json)
        rc = cli_json_print (reply);
    else {
        const char *status = cli_jstr (reply, "status");
        const char *done = strcmp (verb, "approve") == 0 ? "Approved"
                         : strcmp (verb, "reject") == 0  ? "Rejected" : "Revoked";
        printf ("%s %s %s: status is now %s (by %s)\n", done, kind, id,
                *status ? status : "?", reviewer);
        fflush (stdout);
    }
    json_decref (reply);
    return rc;
}

//  --- the command ---------------------------------------------------------------

static int
s_run (config_t *config)
{
    bool json = config_bool (config, "json");
    int argc = config_argc (config);
    const char *action = argc > 1 ? config_argv (config, 1) : NULL;
    if (!action)
        return s_usage_error ("what to do? list, approve, reject or revoke%s", NULL);
    const char *kind = config_str (config, "kind");
    const char *status = config_str (config, "status");
    const char *reason = config_str (config, "reason");

    bool list = strcmp (action, "list") == 0;
    const char *review_kind = NULL, *review_id = NULL;
    if (list) {
        if (argc > 2)
            return s_usage_error ("list takes no argument, not '%s'", config_argv (config, 2));
        if (*kind && !s_kind_valid (kind))
            return s_usage_error ("--kind must be tool, module or network, not '%s'", kind);
        if (*status && strcmp (status, "pending") != 0 && strcmp (status, "approved") != 0
        &&  strcmp (status, "rejected") != 0 && strcmp (status, "pending_review") != 0)
            return s_usage_error ("--status must be pending, approved or rejected, "
                                  "not '%s'", status);
        if (*reason)
            return s_usage_error ("--reason is for approve, reject and revoke%s", NULL);
    }
    else
    if (strcmp (action, "approve") == 0 || strcmp (action, "reject") == 0
    ||  strcmp (action, "revoke") == 0) {
        if (argc != 4)
            return s_usage_error ("%s takes KIND and ID (mcpbox approvals "
                                  "approve tool ID)", action);
        review_kind = config_argv (config, 2);
        review_id = config_argv (config, 3);
        if (!s_kind_valid (review_kind))
            return s_usage_error ("KIND must be tool, module or network, not '%s'",
                                  review_kind);
        if (!cli_uuid_valid (review_id))
            return s_usage_error ("ID must be a UUID (a tool id, or a request's id), "
                                  "not '%s'", review_id);
        if (*kind || *status)
            return s_usage_error ("--kind and --status are for list%s", NULL);
        if (*config_str (config, "annotations")
        &&  (strcmp (action, "approve") != 0 || strcmp (review_kind, "tool") != 0))
            return s_usage_error ("--annotations is for approve tool%s", NULL);
        if (strcmp (action, "reject") == 0 && s_blank (reason))
            return s_usage_error ("reject needs --reason TEXT: the tool's author "
                                  "is told why%s", NULL);
    }
    else
        return s_usage_error ("unknown action '%s' (list, approve, reject, revoke)", action);

    cli_bus_t *bus = cli_bus_open (config, S_NAME, json);
    if (!bus)
        return CLI_EXIT_FAIL;
    int rc = list ? s_list (config, bus, json)
                  : s_review (config, bus, json, action, review_kind, review_id);
    cli_bus_close (&bus);
    return rc;
}

static const config_option_t s_options [] = {
    { .key = "kind", .type = CONFIG_STR, .default_value = "",
      .help = "list: only tool, module or network", .flag_only = true },
    { .key = "status", .type = CONFIG_STR, .default_value = "",
      .help = "list: pending, approved or rejected (none: pending)", .flag_only = true },
    { .key = "reason", .type = CONFIG_STR, .default_value = "",
      .help = "why (required by reject)", .flag_only = true },
    { .key = "annotations", .type = CONFIG_STR, .default_value = "",
      .help = "approve tool: the MCP hints clients see, a JSON object of "
              "readOnlyHint, destructiveHint, idempotentHint, openWorldHint",
      .flag_only = true },
    { .key = "json", .type = CONFIG_BOOL,
      .help = "print one JSON object instead of a table", .flag_only = true },
    { .key = NULL }
};

const cli_command_t cli_cmd_approvals = {
    .name     = S_NAME,
    .summary  = "list and decide approval requests (tools, modules, hosts)",
    .usage    = "usage: mcpbox approvals list [--kind tool|module|network]\n"
                "                             [--status pending|approved|rejected] [--json]\n"
                "       mcpbox approvals approve KIND ID [--reason TEXT] [--json]\n"
                "                             [--annotations '{\"readOnlyHint\":true}']\n"
                "       mcpbox approvals reject KIND ID --reason TEXT [--json]\n"
                "       mcpbox approvals revoke KIND ID [--reason TEXT] [--json]\n\n"
                "KIND is tool (ID: the tool's id), module or network (ID: the\n"
                "request's id, as `list` shows it). --annotations sets the\n"
                "hints MCP clients see for the approved tool (none without it).\n"
                "Decisions are recorded as\n"
                "made by admin@cli:<your user name>. Revoking puts an approval\n"
                "back to pending. Exit 0 done, 1 refused or MCPbox not running,\n"
                "2 usage.",
    .options  = s_options,
    .run      = s_run,
    .max_args = 3,
};
