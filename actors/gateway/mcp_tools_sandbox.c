/*  mcp_tools_sandbox.c — management tools that run the sandbox:
    validate_code and test_code.

    test_code takes three steps: registry tool.get (the tool's current
    code, server and schema), the catalog cache (that server's allowed
    modules, hosts and network policy from approval `effective`), then
    sandbox `test`. It runs unapproved code on purpose — that is what a
    test is — but in the same sandbox and with the same server rules as
    a real call, never more.
*/
#include <string.h>

#include <stdlib.h>

#include "exec_log.h"
#include "json_schema_check.h"
#include "mcp_tools.h"

static json_t *
s_project_validate (const json_t *reply, const json_t *args)
{
    (void) args;
    json_t *out = mcp_pick (reply, "valid", "has_main", "input_schema", "description",
                            NULL);
    json_t *parameters = json_object_get (reply, "parameters");
    json_object_set_new (out, "parameters", mcp_pick_each (parameters, "name", "type",
                                                           "required", NULL));
    json_t *error = json_object_get (reply, "error");
    json_object_set_new (out, "error", json_is_object (error)
                         ? mcp_pick (error, "type", "message", "line", "context", NULL)
                         : json_null ());
    if (!json_object_get (out, "valid"))
        json_object_set_new (out, "valid", json_false ());
    if (!json_object_get (out, "has_main"))
        json_object_set_new (out, "has_main", json_false ());
    return out;
}

static const mcp_simple_t s_validate = { "sandbox", "validate", 15000, s_project_validate };

//  validate_code with a server_id: that server's allowed modules (from
//  approval's effective rules, through the catalog cache), so an import
//  the server does not allow is reported now, not at the first call.
static void
s_validate_run (mcp_call_t *call, bool ok)
{
    const char *server_id = json_string_value (json_object_get (call->args, "server_id"));
    json_t *fields = mcp_pick (call->args, "code", NULL);
    catalog_server_t rules;
    if (ok && server_id && catalog_cache_server (call->mcp->catalog, server_id, &rules)
    &&  rules.allowed_modules)
        json_object_set (fields, "allowed_modules", rules.allowed_modules);
    mcp_tool_simple (call, &s_validate, fields);
}

void
mcp_tool_validate_code (mcp_call_t *call, json_t *args)
{
    if (json_is_string (json_object_get (args, "server_id")))
        mcp_call_need_catalog (call, s_validate_run);
    else                                //  the default modules
        mcp_tool_simple (call, &s_validate, mcp_pick (args, "code", NULL));
}

//  test_code: the tool's current version, its server's rules, the run.

typedef struct {
    json_t         *tool;   //  registry's tool{…}
    exec_log_run_t  run;    //  for the execution log (is_test)
} test_t;

static void
s_test_free (void *ctx)
{
    test_t *self = ctx;
    json_decref (self->tool);
    free (self);
}

//  The value of result_json (the text when it does not parse).
static json_t *
s_result_value (const char *text)
{
    if (!text)
        return json_null ();
    json_t *value = json_loads (text, JSON_DECODE_ANY, NULL);
    return value ? value : json_string (text);
}

static void s_tested_answer (mcp_call_t *call, bus_json_t *reply);

static void
s_tested (mcp_call_t *call, bus_json_t *reply, intptr_t tag)
{
    (void) tag;
    s_tested_answer (call, reply);
    test_t *self = call->ctx;
    if (self)
        exec_log_spool (call, &self->run, reply, json_object_get (call->args, "arguments"));
}

static void
s_tested_answer (mcp_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        mcp_call_tool_bus_error (call, "sandbox", reply);
        return;
    }
    const json_t *body = reply->body;
    bool success = json_is_true (json_object_get (body, "success"));
    json_t *error = json_object_get (body, "error");
    json_t *out = json_pack ("{s:b, s:o, s:o}",
        "success", success,
        "result", success ? s_result_value (bus_json_str (body, "result_json"))
                          : json_null (),
        "error", json_is_object (error)
                 ? mcp_pick (error, "type", "message", "line", "context", NULL)
                 : json_null ());
    json_t *rest = mcp_pick (body, "stdout", "stdout_truncated", "duration_ms", NULL);
    json_object_update (out, rest);
    json_decref (rest);
    mcp_call_tool_ok (call, out);
}

static void
s_test_run (mcp_call_t *call, bool ok)
{
    test_t *self = call->ctx;
    const char *server_id = bus_json_str (self->tool, "server_id");
    catalog_server_t rules;
    //  without approval's rules: executor defaults, no hosts (never more)
    if (!ok || !server_id
    ||  !catalog_cache_server (call->mcp->catalog, server_id, &rules)) {
        memset (&rules, 0, sizeof rules);
        rules.network_policy = "allowlist";
    }
    json_t *arguments = json_object_get (call->args, "arguments");
    json_int_t timeout = bus_json_int (self->tool, "timeout_ms", 30000);
    if (timeout < 1000 || timeout > 300000)
        timeout = 30000;
    json_t *job = json_pack ("{s:s, s:o, s:o, s:s, s:I}",
        "code", bus_json_str (self->tool, "python_code"),
        "arguments", arguments ? json_incref (arguments) : json_object (),
        "allowed_hosts", rules.allowed_hosts ? json_incref (rules.allowed_hosts)
                                             : json_array (),
        "network_policy", rules.network_policy,
        "timeout_ms", timeout);
    if (rules.allowed_modules)
        json_object_set (job, "allowed_modules", rules.allowed_modules);
    exec_log_run_init (&self->run, bus_json_str (self->tool, "id"),
                       bus_json_str (self->tool, "name"), server_id,
                       bus_json_str (self->tool, "server_name"), true);
    //  the executor fetches this server's secrets itself (job_secrets.h)
    if (server_id)
        json_object_set_new (job, "server_id", json_string (server_id));
    mcp_call_set_backstop (call, (int) timeout + 20000);
    mcp_call_bus (call, "sandbox", "test", job, (int) timeout + 5000, s_tested, 0);
    json_decref (job);
}

static void
s_test_got_tool (mcp_call_t *call, bus_json_t *reply, intptr_t tag)
{
    (void) tag;
    if (!reply->ok) {
        mcp_call_tool_bus_error (call, "registry", reply);
        return;
    }
    json_t *tool = json_object_get (reply->body, "tool");
    if (!json_is_object (tool) || !bus_json_str (tool, "python_code")) {
        mcp_call_tool_error (call, "internal error: the registry service answered "
                             "in an unexpected form");
        return;
    }
    //  the arguments must fit the tool's schema, as for a real call
    json_t *schema = json_object_get (tool, "input_schema");
    json_t *arguments = json_object_get (call->args, "arguments");
    json_t *empty = arguments ? NULL : json_object ();
    char err [512];
    if (json_is_object (schema)
    &&  json_schema_check (schema, arguments ? arguments : empty, "arguments",
                           err, sizeof err)) {
        json_decref (empty);
        json_t *out = json_pack ("{s:b, s:n, s:{s:s, s:s, s:n, s:[]}, s:s, s:i}",
            "success", 0, "result",
            "error", "type", "ValidationError", "message", err, "line", "context",
            "stdout", "", "duration_ms", 0);
        mcp_call_tool_ok (call, out);
        return;
    }
    json_decref (empty);
    test_t *self = calloc (1, sizeof *self);
    assert (self);
    self->tool = json_incref (tool);
    mcp_call_set_ctx (call, self, s_test_free);
    mcp_call_need_catalog (call, s_test_run);
}

void
mcp_tool_test_code (mcp_call_t *call, json_t *args)
{
    json_t *fields = mcp_pick (args, "tool_id", NULL);
    mcp_call_bus (call, "registry", "tool.get", fields, MCP_BUS_TIMEOUT_MS,
                  s_test_got_tool, 0);
    json_decref (fields);
}
