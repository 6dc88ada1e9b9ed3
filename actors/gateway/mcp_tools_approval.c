/*  mcp_tools_approval.c — management tools that ask a human (approval):
    publish, module and network requests, a tool's status, the pending list.

    Requests made here are recorded as requested_by "llm". Deciding them
    is the admin's alone: no tool here approves, rejects or revokes.
*/
#include <string.h>

#include <stdlib.h>

#include "mcp_tools.h"

//  --- approval requests ----------------------------------------------------------

static json_t *
s_project_publish (const json_t *reply, const json_t *args)
{
    (void) args;
    json_t *out = mcp_pick (reply, "tool_id", "name", "status", "message", NULL);
    json_object_set_new (out, "success", json_true ());
    return out;
}

void
mcp_tool_request_publish (mcp_call_t *call, json_t *args)
{
    static const mcp_simple_t def = { "approval", "publish.request", MCP_BUS_TIMEOUT_MS,
                                      s_project_publish };
    json_t *fields = mcp_pick (args, "tool_id", "notes", NULL);
    json_object_set_new (fields, "requested_by", json_string ("llm"));
    mcp_tool_simple (call, &def, fields);
}

static json_t *
s_project_module (const json_t *reply, const json_t *args)
{
    (void) args;
    json_t *request = json_object_get (reply, "request");
    if (!json_is_object (request))
        return NULL;
    json_t *out = json_pack ("{s:b}", "success", 1);
    json_t *id = json_object_get (request, "id");
    if (id)
        json_object_set (out, "request_id", id);
    json_t *picked = mcp_pick (request, "module_name", "status", NULL);
    json_object_update (out, picked);
    json_decref (picked);
    return out;
}

void
mcp_tool_request_module (mcp_call_t *call, json_t *args)
{
    static const mcp_simple_t def = { "approval", "module.request", MCP_BUS_TIMEOUT_MS,
                                      s_project_module };
    json_t *fields = mcp_pick (args, "tool_id", "module_name", "justification", NULL);
    json_object_set_new (fields, "requested_by", json_string ("llm"));
    mcp_tool_simple (call, &def, fields);
}

static json_t *
s_project_network (const json_t *reply, const json_t *args)
{
    (void) args;
    json_t *request = json_object_get (reply, "request");
    if (!json_is_object (request))
        return NULL;
    json_t *out = json_pack ("{s:b}", "success", 1);
    json_t *id = json_object_get (request, "id");
    if (id)
        json_object_set (out, "request_id", id);
    json_t *picked = mcp_pick (request, "host", "port", "status", NULL);
    json_object_update (out, picked);
    json_decref (picked);
    if (!json_object_get (out, "port"))
        json_object_set_new (out, "port", json_null ());
    return out;
}

void
mcp_tool_request_network_access (mcp_call_t *call, json_t *args)
{
    static const mcp_simple_t def = { "approval", "network.request", MCP_BUS_TIMEOUT_MS,
                                      s_project_network };
    json_t *fields = mcp_pick (args, "tool_id", "host", "port", "justification", NULL);
    json_object_set_new (fields, "requested_by", json_string ("llm"));
    mcp_tool_simple (call, &def, fields);
}

//  The reply without its envelope.
static json_t *
s_project_all (const json_t *reply, const json_t *args)
{
    (void) args;
    json_t *out = json_deep_copy (reply);
    json_object_del (out, "ok");
    return out;
}

void
mcp_tool_get_tool_status (mcp_call_t *call, json_t *args)
{
    static const mcp_simple_t def = { "approval", "tool.status", MCP_BUS_TIMEOUT_MS,
                                      s_project_all };
    mcp_tool_simple (call, &def, mcp_pick (args, "tool_id", NULL));
}

void
mcp_tool_list_pending_requests (mcp_call_t *call, json_t *args)
{
    (void) args;
    static const mcp_simple_t def = { "approval", "pending.list", MCP_BUS_TIMEOUT_MS,
                                      s_project_all };
    mcp_tool_simple (call, &def, NULL);
}
