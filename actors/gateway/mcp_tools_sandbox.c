/*  mcp_tools_sandbox.c — management tools that run the sandbox:
    validate_code and test_code.

    test_code takes three steps (the job and the answer are tool_test.c's,
    shared with POST /api/tools/{id}/test): registry tool.get (the tool's current
    code, server and schema), the catalog cache (that server's allowed
    modules, hosts and network policy from approval `effective`), then
    sandbox `test`. It runs unapproved code on purpose — that is what a
    test is — but in the same sandbox and with the same server rules as
    a real call, never more.
*/
#include <string.h>

#include <stdlib.h>

#include "exec_log.h"
#include "mcp_tools.h"
#include "tool_test.h"

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
    mcp_call_tool_ok (call, tool_test_result (reply->body));
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
    json_int_t timeout;
    json_t *job = tool_test_job (self->tool, &rules,
                                 json_object_get (call->args, "arguments"), &timeout);
    exec_log_run_init (&self->run, bus_json_str (self->tool, "id"),
                       bus_json_str (self->tool, "name"), server_id,
                       bus_json_str (self->tool, "server_name"), true);
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
    const char *type = bus_json_str (tool, "tool_type");
    if (type && strcmp (type, "mcp_passthrough") == 0) {
        mcp_call_tool_error (call, "This tool is imported from an external source: it has "
                             "no code to test. Once approved, call it as %s__%s.",
                             bus_json_str (tool, "server_name") ? bus_json_str (tool, "server_name") : "server",
                             bus_json_str (tool, "name") ? bus_json_str (tool, "name") : "tool");
        return;
    }
    if (!json_is_object (tool) || !bus_json_str (tool, "python_code")) {
        mcp_call_tool_error (call, "internal error: the registry service answered "
                             "in an unexpected form");
        return;
    }
    //  the arguments must fit the tool's schema, as for a real call
    char err [512];
    if (tool_test_check (tool, json_object_get (call->args, "arguments"), err, sizeof err)) {
        mcp_call_tool_ok (call, tool_test_invalid (err));
        return;
    }
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
