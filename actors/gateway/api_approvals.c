/*  api_approvals.c — /api/approvals: the review queue and the admin's
    decisions (approval). Every decision is recorded with reviewed_by =
    the signed-in admin's username, never a value from the body.

    Kinds in paths: tools, modules, network (approval's tool, module,
    network). A tool is named by its tool_id; a module or network request
    by its own id.

    GET /api/approvals joins approval pending.list with registry
    server.list (server names, for full_name "server__tool"; the first
    S_SERVER_PAGES pages of 100 servers — past that a tool's server_name is
    its server_id), then registry tool.get for each of the first
    S_DETAILS_MAX pending tools: the version under review's title, output
    schema and the LLM's suggested annotations (only when the tool's
    current code is the code under review: current_code says which).
    Approving a tool takes {"annotations"?, "code_hash"?}: the hints the
    admin sets (the only ones MCP clients ever see) and the code the admin
    saw. GET /api/approvals/stats counts each kind's requests
    by status (requests.list, S_STATS_MAX rows each: "capped" says when a
    count reached it).
*/
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "mcp_tools.h"

#define S_REASON_MAX    2000
#define S_SERVER_PAGES  10
#define S_STATS_MAX     1000
#define S_BULK_MAX      100

//  "tools" → "tool" …, or NULL.
static const char *
s_kind (const char *plural)
{
    if (!strcmp (plural, "tools"))
        return "tool";
    if (!strcmp (plural, "modules"))
        return "module";
    if (!strcmp (plural, "network"))
        return "network";
    return NULL;
}

static const char *
s_kind_or_404 (api_call_t *call)
{
    const char *kind = s_kind (api_param (call, 0));
    if (!kind)
        api_error (call, 404, "not_found", "no such kind (tools, modules or network)");
    return kind;
}

//  --- the queue ---------------------------------------------------------------------
//  ctx: {pending (pending.list body), names {server_id: name}, page}

static void s_ask_servers (api_call_t *call);
static void s_ask_details (api_call_t *call);

#define S_DETAILS_MAX 50        //  pending tools whose version details are looked up

static void
s_pending_answer (api_call_t *call)
{
    json_t *pending = json_object_get (call->ctx, "pending");
    json_t *names = json_object_get (call->ctx, "names");
    json_t *tools = json_array ();
    size_t i;
    json_t *tool;
    json_array_foreach (json_object_get (pending, "pending_tools"), i, tool) {
        json_t *item = json_deep_copy (tool);
        const char *server_id = bus_json_str (tool, "server_id");
        const char *name = bus_json_str (tool, "name");
        const char *server = json_string_value (json_object_get (names,
                                                server_id ? server_id : ""));
        if (!server)
            server = server_id ? server_id : "";
        char full [300];
        snprintf (full, sizeof full, "%s__%s", server, name ? name : "");
        json_object_set_new (item, "server_name", json_string (server));
        json_object_set_new (item, "full_name", json_string (full));
        json_array_append_new (tools, item);
    }
    json_t *out = mcp_pick (pending, "pending_module_requests", "pending_network_requests",
                            "summary", NULL);
    json_object_set_new (out, "pending_tools", tools);
    //  the version under review, as the registry has it: what the reviewer
    //  decides on besides the code (title, output schema, the LLM's
    //  suggested annotations); the first S_DETAILS_MAX, the rest counted
    size_t count = json_array_size (tools);
    json_object_set_new (out, "details_omitted", json_integer (
        count > S_DETAILS_MAX ? (json_int_t) (count - S_DETAILS_MAX) : 0));
    json_object_set_new (call->ctx, "out", out);
    json_object_set_new (call->ctx, "detail", json_integer (0));
    s_ask_details (call);
}

static void
s_got_detail (api_call_t *call, bus_json_t *reply)
{
    json_t *out = json_object_get (call->ctx, "out");
    json_int_t index = bus_json_int (call->ctx, "detail", 0);
    json_t *item = json_array_get (json_object_get (out, "pending_tools"), (size_t) index);
    json_t *tool = reply->ok ? json_object_get (reply->body, "tool") : NULL;
    if (item && json_is_object (tool)) {
        //  details of other code than the review's would mislead: say so
        const char *hash = bus_json_str (tool, "code_hash");
        const char *reviewed = bus_json_str (item, "code_hash");
        bool same = hash && reviewed && strcmp (hash, reviewed) == 0;
        json_object_set_new (item, "current_code", json_boolean (same));
        if (same) {
            json_object_set_new (item, "version", json_integer (
                bus_json_int (tool, "current_version", 0)));
            json_object_set_new (item, "title", json_string (
                bus_json_str (tool, "title") ? bus_json_str (tool, "title") : ""));
            const char *keys [] = { "output_schema", "suggested_annotations" };
            for (int k = 0; k < 2; k++) {
                json_t *value = json_object_get (tool, keys [k]);
                json_object_set (item, keys [k], json_is_object (value) ? value
                                                                        : json_null ());
            }
        }
    }
    else
    if (item)
        json_object_set_new (item, "current_code", json_null ());  //  not known
    json_object_set_new (call->ctx, "detail", json_integer (index + 1));
    s_ask_details (call);
}

static void
s_ask_details (api_call_t *call)
{
    json_t *out = json_object_get (call->ctx, "out");
    json_t *tools = json_object_get (out, "pending_tools");
    json_int_t index = bus_json_int (call->ctx, "detail", 0);
    if (index >= S_DETAILS_MAX || (size_t) index >= json_array_size (tools)) {
        api_ok (call, 200, json_incref (out));
        return;
    }
    const char *tool_id = bus_json_str (json_array_get (tools, (size_t) index), "tool_id");
    json_t *fields = json_pack ("{s:s}", "tool_id", tool_id ? tool_id : "");
    api_ask (call, "registry", "tool.get", fields, s_got_detail);
    json_decref (fields);
}

static void
s_got_servers (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {           //  names are a nicety: answer with ids
        s_pending_answer (call);
        return;
    }
    json_t *names = json_object_get (call->ctx, "names");
    size_t i;
    json_t *server;
    json_array_foreach (json_object_get (reply->body, "servers"), i, server) {
        const char *id = bus_json_str (server, "id");
        const char *name = bus_json_str (server, "name");
        if (id && name)
            json_object_set_new (names, id, json_string (name));
    }
    json_int_t page = bus_json_int (call->ctx, "page", 1);
    json_int_t total = bus_json_int (reply->body, "total", 0);
    if (page * 100 < total && page < S_SERVER_PAGES) {
        json_object_set_new (call->ctx, "page", json_integer (page + 1));
        s_ask_servers (call);
    }
    else
        s_pending_answer (call);
}

static void
s_ask_servers (api_call_t *call)
{
    json_t *fields = json_pack ("{s:I, s:i}", "page", bus_json_int (call->ctx, "page", 1),
                                "page_size", 100);
    api_ask (call, "registry", "server.list", fields, s_got_servers);
    json_decref (fields);
}

static void
s_got_pending (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    call->ctx = json_pack ("{s:O, s:{}, s:i}", "pending", reply->body, "names", "page", 1);
    if (json_array_size (json_object_get (reply->body, "pending_tools")))
        s_ask_servers (call);
    else
        s_pending_answer (call);
}

void
api_approvals_pending (api_call_t *call)
{
    api_ask (call, "approval", "pending.list", NULL, s_got_pending);
}

//  --- one kind's requests, paged --------------------------------------------------------

static json_t *
s_project_list (api_call_t *call, const json_t *reply)
{
    json_t *requests = json_object_get (reply, "requests");
    if (!json_is_array (requests))
        return NULL;
    json_t *next;
    json_t *page = api_slice (requests, bus_json_int (call->ctx, "offset", 0),
                              bus_json_int (call->ctx, "limit", API_LIMIT_DEFAULT), &next);
    return json_pack ("{s:O, s:o, s:o}", "kind", json_object_get (reply, "kind"),
                      "requests", page, "next_cursor", next);
}

void
api_approvals_list (api_call_t *call)
{
    static const api_simple_t def = { "approval", "requests.list", 200, s_project_list };
    const char *kind = s_kind_or_404 (call);
    const char *status, *server_id, *tool_id;
    json_int_t offset, limit;
    if (!kind || !api_page (call, &offset, &limit)
    ||  !api_query_str (call, "status", 20, &status)
    ||  !api_query_str (call, "server_id", API_PARAM_MAX, &server_id)
    ||  !api_query_str (call, "tool_id", API_PARAM_MAX, &tool_id))
        return;
    if (offset >= S_STATS_MAX) {
        api_ok (call, 200, json_pack ("{s:s, s:[], s:n}", "kind", kind, "requests",
                                      "next_cursor"));
        return;
    }
    call->ctx = json_pack ("{s:I, s:I}", "offset", offset, "limit", limit);
    json_int_t want = offset + limit + 1;
    json_t *fields = json_pack ("{s:s, s:I}", "kind", kind,
                                "limit", want > S_STATS_MAX ? S_STATS_MAX : want);
    if (status)
        json_object_set_new (fields, "status", json_string (status));
    if (server_id)
        json_object_set_new (fields, "server_id", json_string (server_id));
    if (tool_id)
        json_object_set_new (fields, "tool_id", json_string (tool_id));
    api_simple (call, &def, fields);
}

//  --- decisions -------------------------------------------------------------------------

static json_t *
s_project_decision (api_call_t *call, const json_t *reply)
{
    const char *status = bus_json_str (reply, "status");
    if (!status)
        return NULL;
    return json_pack ("{s:s, s:s, s:s, s:s}", "kind", s_kind (api_param (call, 0)),
                      "id", api_param (call, 1), "status", status,
                      "reviewed_by", api_username (call));
}

static void
s_decide (api_call_t *call, const char *op, bool with_reason)
{
    static const api_simple_t approve = { "approval", "review.approve", 200,
                                          s_project_decision };
    static const api_simple_t reject = { "approval", "review.reject", 200,
                                         s_project_decision };
    static const api_simple_t revoke = { "approval", "review.revoke", 200,
                                         s_project_decision };
    static const char *const none [] = { NULL };
    static const char *const reason_only [] = { "reason", NULL };
    //  approving a tool: the annotations the admin sets (approval checks
    //  them: the four hints, booleans) and the code hash the admin saw
    static const char *const tool_approve [] = { "annotations", "code_hash", NULL };
    const char *kind = s_kind_or_404 (call);
    const char *reason = NULL, *code_hash = NULL;
    bool tool_approval = kind && !strcmp (op, "approve") && !strcmp (kind, "tool");
    if (!kind || !api_body_only (call, with_reason ? reason_only
                                       : tool_approval ? tool_approve : none)
    ||  (with_reason && !api_body_str (call, "reason", true, S_REASON_MAX, &reason))
    ||  (tool_approval && !api_body_str (call, "code_hash", false, 64, &code_hash)))
        return;
    json_t *annotations = json_object_get (call->body, "annotations");
    if (annotations && !json_is_object (annotations) && !json_is_null (annotations)) {
        api_error (call, 400, "bad_request", "field 'annotations': must be an object "
                   "of readOnlyHint, destructiveHint, idempotentHint, openWorldHint");
        return;
    }
    json_t *fields = json_pack ("{s:s, s:s, s:s}", "kind", kind, "id", api_param (call, 1),
                                "reviewed_by", api_username (call));
    if (reason)
        json_object_set_new (fields, "reason", json_string (reason));
    if (code_hash)
        json_object_set_new (fields, "code_hash", json_string (code_hash));
    if (json_is_object (annotations))
        json_object_set (fields, "annotations", annotations);
    api_simple (call, !strcmp (op, "approve") ? &approve : !strcmp (op, "reject") ? &reject
                                              : &revoke, fields);
}

void
api_approvals_approve (api_call_t *call)
{
    s_decide (call, "approve", false);
}

void
api_approvals_reject (api_call_t *call)
{
    s_decide (call, "reject", true);
}

void
api_approvals_revoke (api_call_t *call)
{
    s_decide (call, "revoke", false);
}

void
api_approvals_bulk (api_call_t *call)
{
    static const api_simple_t def = { "approval", "review.bulk", 200, NULL };
    static const char *const keys [] = { "ids", "action", "reason", NULL };
    const char *kind = s_kind_or_404 (call);
    const char *action, *reason;
    if (!kind || !api_body_only (call, keys)
    ||  !api_body_str (call, "action", true, 16, &action)
    ||  !api_body_str (call, "reason", false, S_REASON_MAX, &reason))
        return;
    json_t *ids = json_object_get (call->body, "ids");
    size_t i;
    json_t *id;
    bool ids_ok = json_is_array (ids) && json_array_size (ids) >= 1
               && json_array_size (ids) <= S_BULK_MAX;
    json_array_foreach (ids, i, id)
        if (!json_is_string (id) || json_string_length (id) < 1
        ||  json_string_length (id) > API_PARAM_MAX)
            ids_ok = false;
    if (!ids_ok) {
        api_error (call, 400, "bad_request", "field 'ids': 1 to 100 ids (strings)");
        return;
    }
    if (strcmp (action, "approve") && strcmp (action, "reject")) {
        api_error (call, 400, "bad_request", "field 'action': approve or reject");
        return;
    }
    if (!strcmp (action, "reject") && !reason) {
        api_error (call, 400, "bad_request", "field 'reason': required to reject");
        return;
    }
    json_t *fields = json_pack ("{s:s, s:O, s:s, s:s}", "kind", kind, "ids", ids,
                                "action", action, "reviewed_by", api_username (call));
    if (reason)
        json_object_set_new (fields, "reason", json_string (reason));
    api_simple (call, &def, fields);
}

//  --- stats: kinds × statuses, one requests.list each -----------------------------------
//  ctx: {step, stats {tools: {…}, …}, capped}

static const struct { const char *kind, *plural, *status; } s_steps [] = {
    { "tool",    "tools",   "pending_review" }, { "tool",    "tools",   "approved" },
    { "tool",    "tools",   "rejected" },
    { "module",  "modules", "pending" },        { "module",  "modules", "approved" },
    { "module",  "modules", "rejected" },
    { "network", "network", "pending" },        { "network", "network", "approved" },
    { "network", "network", "rejected" },
};
#define S_STEPS (sizeof s_steps / sizeof s_steps [0])

static void s_stats_ask (api_call_t *call);

static void
s_stats_got (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    size_t step = (size_t) bus_json_int (call->ctx, "step", 0);
    size_t count = json_array_size (json_object_get (reply->body, "requests"));
    json_t *kind = json_object_get (json_object_get (call->ctx, "stats"),
                                    s_steps [step].plural);
    json_object_set_new (kind, s_steps [step].status, json_integer ((json_int_t) count));
    if (count >= S_STATS_MAX)
        json_object_set_new (call->ctx, "capped", json_true ());
    if (++step < S_STEPS) {
        json_object_set_new (call->ctx, "step", json_integer ((json_int_t) step));
        s_stats_ask (call);
        return;
    }
    api_ok (call, 200, json_pack ("{s:O, s:O, s:i}", "stats",
                                  json_object_get (call->ctx, "stats"), "capped",
                                  json_object_get (call->ctx, "capped"), "cap", S_STATS_MAX));
}

static void
s_stats_ask (api_call_t *call)
{
    size_t step = (size_t) bus_json_int (call->ctx, "step", 0);
    json_t *fields = json_pack ("{s:s, s:s, s:i}", "kind", s_steps [step].kind, "status",
                                s_steps [step].status, "limit", S_STATS_MAX);
    api_ask (call, "approval", "requests.list", fields, s_stats_got);
    json_decref (fields);
}

void
api_approvals_stats (api_call_t *call)
{
    call->ctx = json_pack ("{s:i, s:{s:{}, s:{}, s:{}}, s:b}", "step", 0, "stats",
                           "tools", "modules", "network", "capped", 0);
    s_stats_ask (call);
}
