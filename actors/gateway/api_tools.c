/*  api_tools.c — /api/tools/{id}: a tool with its approval status, its
    versions, a diff of any two versions (or against the approved one),
    rollback, validate, and a test run.

    Edits are the admin's: tool.update with change_source "manual" and a
    change_summary naming the signed-in admin. A diff answers both sides
    (version, code_hash, python_code); the unified text is left to the
    client (the dashboard renders it), so no diff algorithm lives here;
    each side also carries description and input_schema, which are what an
    imported (mcp_passthrough) tool has instead of code.
    "approved" in a diff means the newest version whose code hash has an
    approved review (approval requests.list, kind tool).
    validate and test run under the server's rules from approval
    `effective` (asked fresh, not the /mcp catalog cache); a test is
    logged like mcpbox_test_code (is_test, executed_by "admin:<user>").
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "exec_log.h"
#include "mcp_tools.h"
#include "tool_test.h"

#define S_CODE_MAX      (100 * 1024)    //  the registry's bound
#define S_TEXT_MAX      2000
#define S_VERSION_MAX   1000000

static json_t *
s_by_id (api_call_t *call)
{
    return json_pack ("{s:s}", "tool_id", api_param (call, 0));
}

static void
s_internal (api_call_t *call, const char *service)
{
    char message [96];
    snprintf (message, sizeof message, "the %s service answered in an unexpected form",
              service);
    api_error (call, 500, "internal", message);
}

//  --- a tool and its approval status ------------------------------------------------

static void
s_got_status (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    json_t *status = json_deep_copy (reply->body);
    json_object_del (status, "ok");
    api_ok (call, 200, json_pack ("{s:O, s:o}", "tool", json_object_get (call->ctx, "tool"),
                                  "status", status));
}

//  A reply holding tool{…}: keep it, then ask approval for its status.
static void
s_got_tool (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    json_t *tool = json_object_get (reply->body, "tool");
    if (!json_is_object (tool)) {
        s_internal (call, "registry");
        return;
    }
    json_decref (call->ctx);
    call->ctx = json_pack ("{s:O}", "tool", tool);
    json_t *fields = s_by_id (call);
    api_ask (call, "approval", "tool.status", fields, s_got_status);
    json_decref (fields);
}

void
api_tools_get (api_call_t *call)
{
    json_t *fields = s_by_id (call);
    api_ask (call, "registry", "tool.get", fields, s_got_tool);
    json_decref (fields);
}

void
api_tools_update (api_call_t *call)
{
    static const char *const keys [] = { "description", "enabled", "timeout_ms",
                                         "python_code", NULL };
    const char *description, *code;
    int enabled = -1;
    json_int_t timeout = 0;
    if (!api_body_only (call, keys)
    ||  !api_body_str (call, "description", false, S_TEXT_MAX, &description)
    ||  !api_body_bool (call, "enabled", false, &enabled)
    ||  !api_body_int (call, "timeout_ms", false, 1000, 300000, &timeout)
    ||  !api_body_str (call, "python_code", false, S_CODE_MAX, &code))
        return;
    if (json_object_size (call->body) == 0) {
        api_error (call, 400, "bad_request", "nothing to change: give description, "
                   "enabled, timeout_ms or python_code");
        return;
    }
    char summary [160];
    snprintf (summary, sizeof summary, "edited by %s in the admin API", api_username (call));
    json_t *fields = json_deep_copy (call->body);
    json_object_set_new (fields, "tool_id", json_string (api_param (call, 0)));
    json_object_set_new (fields, "change_source", json_string ("manual"));
    json_object_set_new (fields, "change_summary", json_string (summary));
    api_ask_timeout (call, "registry", "tool.update", fields, 25000, s_got_tool);
    json_decref (fields);
}

void
api_tools_delete (api_call_t *call)
{
    static const api_simple_t def = { "registry", "tool.delete", 200, NULL };
    api_simple (call, &def, s_by_id (call));
}

//  --- versions ----------------------------------------------------------------------

static json_t *
s_project_versions (api_call_t *call, const json_t *reply)
{
    json_int_t offset = 0, limit = API_LIMIT_DEFAULT;
    json_t *versions = json_object_get (reply, "versions");
    if (!json_is_array (versions))
        return NULL;
    offset = bus_json_int (call->ctx, "offset", 0);
    limit = bus_json_int (call->ctx, "limit", API_LIMIT_DEFAULT);
    json_t *next;
    json_t *page = api_slice (versions, offset, limit, &next);
    json_t *out = mcp_pick (reply, "tool_id", "tool_name", "current_version",
                            "total_versions", NULL);
    json_object_set_new (out, "versions", page);
    json_object_set_new (out, "next_cursor", next);
    return out;
}

void
api_tools_versions (api_call_t *call)
{
    static const api_simple_t def = { "registry", "tool.versions", 200, s_project_versions };
    json_int_t offset, limit;
    if (!api_page (call, &offset, &limit))
        return;
    call->ctx = json_pack ("{s:I, s:I}", "offset", offset, "limit", limit);
    api_simple (call, &def, s_by_id (call));
}

//  A version number from a path or query text: 1..S_VERSION_MAX, else 0.
static json_int_t
s_version_number (const char *text)
{
    if (!text || !*text || strlen (text) > 7 || strspn (text, "0123456789") != strlen (text))
        return 0;
    json_int_t n = strtoll (text, NULL, 10);
    return n >= 1 && n <= S_VERSION_MAX ? n : 0;
}

void
api_tools_version (api_call_t *call)
{
    static const api_simple_t def = { "registry", "tool.version", 200, NULL };
    json_int_t version = s_version_number (api_param (call, 1));
    if (!version) {
        api_error (call, 404, "not_found", "no such version (a number from 1)");
        return;
    }
    api_simple (call, &def, json_pack ("{s:s, s:I}", "tool_id", api_param (call, 0),
                                       "version", version));
}

//  --- diff: versions → (approved review) → from → to -------------------------------
//  ctx: {from_spec, to_spec, from, to (numbers once known), from_version{…}}

static void s_diff_next (api_call_t *call);

static json_t *
s_side (const json_t *version)
{
    //  description and input_schema: an imported tool's definition (it has no code)
    return mcp_pick (version, "version", "code_hash", "python_code", "description",
                     "input_schema", "created_at", "change_source", "change_summary", NULL);
}

static void
s_diff_got_version (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    json_t *version = json_object_get (reply->body, "version");
    if (!json_is_object (version)) {
        s_internal (call, "registry");
        return;
    }
    if (!json_object_get (call->ctx, "from_version")) {
        json_object_set_new (call->ctx, "from_version", s_side (version));
        s_diff_next (call);
        return;
    }
    api_ok (call, 200, json_pack ("{s:s, s:O, s:o, s:b}",
        "tool_id", api_param (call, 0),
        "from", json_object_get (call->ctx, "from_version"),
        "to", s_side (version),
        "same", json_equal (json_object_get (json_object_get (call->ctx, "from_version"),
                                             "code_hash"),
                            json_object_get (version, "code_hash"))));
}

//  Ask for the from side, then the to side.
static void
s_diff_next (api_call_t *call)
{
    const char *side = json_object_get (call->ctx, "from_version") ? "to" : "from";
    json_t *fields = json_pack ("{s:s, s:O}", "tool_id", api_param (call, 0), "version",
                                json_object_get (call->ctx, side));
    api_ask (call, "registry", "tool.version", fields, s_diff_got_version);
    json_decref (fields);
}

//  The newest version whose hash is approved, into the "approved" sides.
static void
s_diff_got_reviews (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    json_t *reviews = json_object_get (reply->body, "requests");
    json_t *versions = json_object_get (call->ctx, "versions");
    json_int_t best = 0;
    size_t i, j;
    json_t *version, *review;
    json_array_foreach (versions, i, version) {
        const char *hash = bus_json_str (version, "code_hash");
        json_int_t number = bus_json_int (version, "version", 0);
        json_array_foreach (reviews, j, review) {
            const char *rhash = bus_json_str (review, "code_hash");
            if (hash && rhash && !strcmp (hash, rhash) && number > best)
                best = number;
        }
    }
    if (!best) {
        api_error (call, 404, "not_found", "this tool has no approved version");
        return;
    }
    for (const char *const *side = (const char *const []) { "from", "to", NULL }; *side; side++)
        if (json_is_string (json_object_get (call->ctx, *side)))
            json_object_set_new (call->ctx, *side, json_integer (best));
    s_diff_next (call);
}

static void
s_diff_got_versions (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    json_int_t current = bus_json_int (reply->body, "current_version", 0);
    json_t *versions = json_object_get (reply->body, "versions");
    if (current < 1 || !json_is_array (versions)) {
        s_internal (call, "registry");
        return;
    }
    bool approved = false;
    for (const char *const *side = (const char *const []) { "from", "to", NULL }; *side; side++) {
        json_t *spec = json_object_get (call->ctx, *side);
        if (json_is_string (spec) && !strcmp (json_string_value (spec), "current"))
            json_object_set_new (call->ctx, *side, json_integer (current));
        else
        if (json_is_string (spec))
            approved = true;
        else
        if (json_integer_value (spec) > current) {
            api_error (call, 404, "not_found", "no such version");
            return;
        }
    }
    if (!approved) {
        s_diff_next (call);
        return;
    }
    json_object_set (call->ctx, "versions", versions);
    json_t *fields = json_pack ("{s:s, s:s, s:s, s:i}", "kind", "tool", "tool_id",
                                api_param (call, 0), "status", "approved", "limit", 1000);
    api_ask (call, "approval", "requests.list", fields, s_diff_got_reviews);
    json_decref (fields);
}

//  from / to: a version number, "approved" or "current".
static bool
s_diff_spec (api_call_t *call, const char *name, const char *fallback)
{
    const char *text;
    if (!api_query_str (call, name, 16, &text))
        return false;
    if (!text)
        text = fallback;
    json_int_t number = s_version_number (text);
    if (number)
        json_object_set_new (call->ctx, name, json_integer (number));
    else
    if (!strcmp (text, "approved") || !strcmp (text, "current"))
        json_object_set_new (call->ctx, name, json_string (text));
    else {
        char message [128];
        snprintf (message, sizeof message, "query argument '%s': a version number, "
                  "\"approved\" or \"current\"", name);
        api_error (call, 400, "bad_request", message);
        return false;
    }
    return true;
}

void
api_tools_diff (api_call_t *call)
{
    call->ctx = json_object ();
    if (!s_diff_spec (call, "from", "approved") || !s_diff_spec (call, "to", "current"))
        return;
    json_t *fields = s_by_id (call);
    api_ask (call, "registry", "tool.versions", fields, s_diff_got_versions);
    json_decref (fields);
}

//  --- rollback ------------------------------------------------------------------------

void
api_tools_rollback (api_call_t *call)
{
    static const char *const keys [] = { "version", NULL };
    json_int_t version = 0;
    if (!api_body_only (call, keys)
    ||  !api_body_int (call, "version", true, 1, S_VERSION_MAX, &version))
        return;
    json_t *fields = json_pack ("{s:s, s:I}", "tool_id", api_param (call, 0),
                                "version", version);
    api_ask (call, "registry", "tool.rollback", fields, s_got_tool);
    json_decref (fields);
}

//  --- validate and test: tool.get → approval effective → sandbox ---------------------
//  ctx: {tool}

//  The tool's server's rules from an `effective` reply (borrowed), or
//  false (then: executor defaults, no hosts).
static bool
s_rules (const json_t *effective, const char *server_id, catalog_server_t *rules)
{
    memset (rules, 0, sizeof *rules);
    rules->network_policy = "allowlist";
    json_t *server = json_object_get (json_object_get (effective, "servers"),
                                      server_id ? server_id : "");
    if (!json_is_object (server))       //  not listed: approval's defaults
        server = json_object_get (effective, "defaults");
    if (!json_is_object (server))
        return false;
    json_t *modules = json_object_get (server, "allowed_modules");
    json_t *hosts = json_object_get (server, "allowed_hosts");
    const char *policy = bus_json_str (server, "network_policy");
    rules->allowed_modules = json_is_array (modules) ? modules : NULL;
    rules->allowed_hosts = json_is_array (hosts) ? hosts : NULL;
    if (policy && !strcmp (policy, "allow_all_public"))
        rules->network_policy = "allow_all_public";
    return true;
}

static void
s_validated (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    json_t *out = mcp_pick (reply->body, "valid", "has_main", "input_schema", "description",
                            "parameters", "error", NULL);
    if (!json_object_get (out, "valid"))
        json_object_set_new (out, "valid", json_false ());
    api_ok (call, 200, out);
}

static void
s_tested (api_call_t *call, bus_json_t *reply)
{
    json_t *tool = json_object_get (call->ctx, "tool");
    json_t *arguments = json_object_get (call->body, "arguments");
    if (!reply->ok)
        api_bus_error (call, reply);
    else
        api_ok (call, 200, tool_test_result (reply->body));
    exec_log_run_t run;
    exec_log_run_init (&run, bus_json_str (tool, "id"), bus_json_str (tool, "name"),
                       bus_json_str (tool, "server_id"), bus_json_str (tool, "server_name"),
                       true);
    run.started_ms = bus_json_int (call->ctx, "started_ms", run.started_ms);
    char executed_by [96];
    snprintf (executed_by, sizeof executed_by, "admin:%s", api_username (call));
    exec_log_origin_t origin = { .executed_by = executed_by };
    exec_log_spool_as (http_req_gateway (call->req), &origin, &run, reply, arguments);
}

static void
s_got_rules (api_call_t *call, bus_json_t *reply)
{
    json_t *tool = json_object_get (call->ctx, "tool");
    catalog_server_t rules;
    //  without approval's rules: executor defaults, no hosts (never more)
    if (!reply->ok || !s_rules (reply->body, bus_json_str (tool, "server_id"), &rules)) {
        memset (&rules, 0, sizeof rules);
        rules.network_policy = "allowlist";
    }
    if (strcmp (call->route->pattern, "/api/tools/{id}/validate") == 0) {
        json_t *fields = json_pack ("{s:O}", "code", json_object_get (call->body,
                                                                       "python_code"));
        if (rules.allowed_modules)
            json_object_set (fields, "allowed_modules", rules.allowed_modules);
        api_ask_timeout (call, "sandbox", "validate", fields, 15000, s_validated);
        json_decref (fields);
        return;
    }
    json_int_t timeout;
    json_t *job = tool_test_job (tool, &rules, json_object_get (call->body, "arguments"),
                                 &timeout);
    json_object_set_new (call->ctx, "started_ms", json_integer (gateway_now_ms ()));
    api_ask_timeout (call, "sandbox", "test", job, (int) timeout + 5000, s_tested);
    json_decref (job);
}

static void
s_sandbox_got_tool (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    json_t *tool = json_object_get (reply->body, "tool");
    const char *type = bus_json_str (tool, "tool_type");
    if (type && strcmp (type, "mcp_passthrough") == 0) {
        api_error (call, 400, "bad_request", "this tool is imported from an external "
                   "source: it has no code to validate or test");
        return;
    }
    if (!json_is_object (tool) || !bus_json_str (tool, "python_code")) {
        s_internal (call, "registry");
        return;
    }
    char err [512];
    if (strcmp (call->route->pattern, "/api/tools/{id}/test") == 0
    &&  tool_test_check (tool, json_object_get (call->body, "arguments"), err, sizeof err)) {
        api_ok (call, 200, tool_test_invalid (err));
        return;
    }
    call->ctx = json_pack ("{s:O}", "tool", tool);
    api_ask (call, "approval", "effective", NULL, s_got_rules);
}

void
api_tools_validate (api_call_t *call)
{
    static const char *const keys [] = { "python_code", NULL };
    const char *code;
    if (!api_body_only (call, keys)
    ||  !api_body_str (call, "python_code", true, S_CODE_MAX, &code))
        return;
    json_t *fields = s_by_id (call);
    api_ask (call, "registry", "tool.get", fields, s_sandbox_got_tool);
    json_decref (fields);
}

void
api_tools_test (api_call_t *call)
{
    static const char *const keys [] = { "arguments", NULL };
    json_t *arguments = json_object_get (call->body, "arguments");
    if (!api_body_only (call, keys))
        return;
    if (arguments && !json_is_object (arguments)) {
        api_error (call, 400, "bad_request", "field 'arguments': must be an object");
        return;
    }
    json_t *fields = s_by_id (call);
    api_ask (call, "registry", "tool.get", fields, s_sandbox_got_tool);
    json_decref (fields);
}
