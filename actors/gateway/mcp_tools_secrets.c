/*  mcp_tools_secrets.c — the two secret tools the LLM has:

      mcpbox_create_server_secret   a placeholder: key, description,
                                    has_value false (only the admin sets
                                    a value: `mcpbox secrets set`)
      mcpbox_list_server_secrets    keys, descriptions, has_value

    Both first ask the registry that the server exists (server.get), then
    credentials (secret_create / secret_list). No value ever passes here:
    credentials never puts one in these replies, and the projection below
    copies only the named fields.
*/
#include <string.h>

#include "mcp_tools.h"

#define S_CREATE 1
#define S_LIST   2

static void
s_secret_done (mcp_call_t *call, bus_json_t *reply, intptr_t tag)
{
    if (!reply->ok) {
        mcp_call_tool_bus_error (call, "credentials", reply);
        return;
    }
    if (tag == S_CREATE) {
        json_t *out = mcp_pick (reply->body, "server_id", "key", "description", NULL);
        json_object_set_new (out, "success", json_true ());
        json_object_set_new (out, "has_value", json_false ());
        json_object_set_new (out, "message", json_string (
            "Secret placeholder created. Only the admin can set its value "
            "(mcpbox secrets set); tools read it as secrets[\"KEY\"]."));
        mcp_call_tool_ok (call, out);
        return;
    }
    json_t *out = mcp_pick (reply->body, "server_id", NULL);
    json_object_set_new (out, "secrets", mcp_pick_each (json_object_get (reply->body, "secrets"),
                                                        "key", "description", "has_value", NULL));
    mcp_call_tool_ok (call, out);
}

static void
s_server_checked (mcp_call_t *call, bus_json_t *reply, intptr_t tag)
{
    if (!reply->ok) {
        mcp_call_tool_bus_error (call, "registry", reply);
        return;
    }
    json_t *fields = tag == S_CREATE
                   ? mcp_pick (call->args, "server_id", "key", "description", NULL)
                   : mcp_pick (call->args, "server_id", NULL);
    mcp_call_bus (call, "credentials", tag == S_CREATE ? "secret_create" : "secret_list",
                  fields, MCP_BUS_TIMEOUT_MS, s_secret_done, tag);
    json_decref (fields);
}

static void
s_start (mcp_call_t *call, json_t *args, intptr_t tag)
{
    json_t *fields = mcp_pick (args, "server_id", NULL);
    mcp_call_bus (call, "registry", "server.get", fields, MCP_BUS_TIMEOUT_MS,
                  s_server_checked, tag);
    json_decref (fields);
}

void
mcp_tool_create_server_secret (mcp_call_t *call, json_t *args)
{
    s_start (call, args, S_CREATE);
}

void
mcp_tool_list_server_secrets (mcp_call_t *call, json_t *args)
{
    s_start (call, args, S_LIST);
}
