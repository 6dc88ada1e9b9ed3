/*  tool_test.c — a tool's test run, shared by /mcp and /api (tool_test.h).
*/
#include <string.h>

#include "bus_json.h"
#include "json_schema_check.h"
#include "mcp_tools.h"
#include "tool_test.h"

int
tool_test_check (const json_t *tool, const json_t *arguments, char *err, size_t errlen)
{
    json_t *schema = json_object_get (tool, "input_schema");
    json_t *empty = arguments ? NULL : json_object ();
    int rc = json_is_object (schema)
          && json_schema_check (schema, arguments ? arguments : empty, "arguments",
                                err, errlen) ? -1 : 0;
    json_decref (empty);
    return rc;
}

json_t *
tool_test_invalid (const char *err)
{
    return json_pack ("{s:b, s:n, s:{s:s, s:s, s:n, s:[]}, s:s, s:i}",
        "success", 0, "result",
        "error", "type", "ValidationError", "message", err, "line", "context",
        "stdout", "", "duration_ms", 0);
}

json_t *
tool_test_job (const json_t *tool, const catalog_server_t *rules, const json_t *arguments,
               json_int_t *timeout_ms)
{
    catalog_server_t none = { .network_policy = "allowlist" };
    if (!rules)
        rules = &none;
    json_int_t timeout = bus_json_int (tool, "timeout_ms", 30000);
    if (timeout < 1000 || timeout > 300000)
        timeout = 30000;
    *timeout_ms = timeout;
    const char *code = bus_json_str (tool, "python_code");
    json_t *job = json_pack ("{s:s, s:o, s:o, s:s, s:I}",
        "code", code ? code : "",
        "arguments", arguments ? json_deep_copy (arguments) : json_object (),
        "allowed_hosts", rules->allowed_hosts ? json_incref (rules->allowed_hosts)
                                              : json_array (),
        "network_policy", rules->network_policy ? rules->network_policy : "allowlist",
        "timeout_ms", timeout);
    if (job && rules->allowed_modules)
        json_object_set (job, "allowed_modules", rules->allowed_modules);
    //  the executor fetches this server's secrets itself (job_secrets.h)
    const char *server_id = bus_json_str (tool, "server_id");
    if (job && server_id)
        json_object_set_new (job, "server_id", json_string (server_id));
    return job;
}

//  The value of result_json (the text when it does not parse).
static json_t *
s_result_value (const char *text)
{
    if (!text)
        return json_null ();
    json_t *value = json_loads (text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    return value ? value : json_string (text);
}

json_t *
tool_test_result (const json_t *body)
{
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
    return out;
}
