/*  mcp_tools_logs.c — management tools that read the logs service.

    mcpbox_get_tool_logs answers the LLM's "why did my tool fail?": the
    newest runs of one tool (calls and test runs), with the fields of the
    reference: id, success, duration_ms, error, input_args (secrets
    redacted), result (≤ 10 KB), stdout (≤ 10 KB), executed_by,
    created_at — plus is_test. One `exec.query` to logkeeper.
*/
#include "mcp_tools.h"

#define LOGS_DEFAULT 10
#define LOGS_MAX     50

static json_t *
s_project_logs (const json_t *reply, const json_t *args)
{
    json_t *logs = json_object_get (reply, "logs");
    if (!json_is_array (logs))
        return NULL;
    json_t *out = json_pack ("{s:O, s:o, s:O}",
        "tool_id", json_object_get (args, "tool_id"),
        "logs", mcp_pick_each (logs, "id", "success", "duration_ms", "error",
                               "input_args", "result", "stdout", "executed_by",
                               "created_at", "is_test", NULL),
        "total", json_object_get (reply, "total") ? json_object_get (reply, "total")
                                                  : json_integer (0));
    return out;
}

void
mcp_tool_get_tool_logs (mcp_call_t *call, json_t *args)
{
    static const mcp_simple_t def = { "logs", "exec.query", MCP_BUS_TIMEOUT_MS,
                                      s_project_logs };
    json_int_t limit = json_is_integer (json_object_get (args, "limit"))
                     ? json_integer_value (json_object_get (args, "limit")) : LOGS_DEFAULT;
    if (limit < 1 || limit > LOGS_MAX)
        limit = LOGS_DEFAULT;           //  the schema already refused it
    json_t *fields = json_pack ("{s:O, s:I, s:s}", "tool_id", json_object_get (args, "tool_id"),
                                "limit", limit, "order", "desc");
    mcp_tool_simple (call, &def, fields);
}
