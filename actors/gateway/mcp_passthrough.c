/*  mcp_passthrough.c — tools/call of an mcp_passthrough tool: a tool
    imported from an external MCP source (docs/DESIGN.md, section 14).

    It goes through everything a Python tool's call goes through, in the
    same function up to here (mcp_user_tools.c: the catalog no older than
    1 s, approval of the tool's current definition hash checked on this
    call, the arguments against the approved input schema); then, instead
    of a sandbox `run`, a sandbox `source` job {action: "call"} with the
    source's URL, transport and auth settings, the server's network rules
    and the server_id (the executor fetches the credential itself, so the
    gateway never holds it), under the tool's timeout.

    The answer is the source's CallToolResult (content, isError,
    structuredContent when an object), as the executor redacted it; a
    failure to reach the source is an isError result naming why. Logged
    like a Python tool's call (exec_log.c: the execution record with
    args_redacted, a `tool.called` activity), and the source's health
    (source.health to the registry) is updated after each call, without
    waiting for it.
*/
#include <stdlib.h>
#include <string.h>

#include "exec_log.h"
#include "log.h"
#include "mcp_tools.h"

#define SOURCE_GRACE_MS   5000      //  beyond the tool's timeout, for the bus
#define SOURCE_BACKSTOP   15000     //  beyond that, for the answer

typedef struct {
    exec_log_run_t run;             //  first: call->ctx is also the run
    char           source_id [40];
} passthrough_run_t;

//  Health goes to the registry; nobody waits for the answer.
static void
s_health_done (mcp_call_t *call, bus_json_t *reply, intptr_t tag)
{
    (void) call, (void) tag;
    if (!reply->ok)
        log_debug ("source.health not recorded");
}

static void
s_answer (mcp_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        mcp_call_tool_bus_error (call, "sandbox", reply);
        return;
    }
    json_t *body = reply->body;
    if (!json_is_true (json_object_get (body, "success"))) {
        const char *message = bus_json_str (json_object_get (body, "error"), "message");
        mcp_call_tool_error (call, "The external source failed: %s",
                             message ? message : "no reason given");
        return;
    }
    json_t *remote = json_object_get (body, "result");
    json_t *content = json_object_get (remote, "content");
    if (!json_is_array (content)) {
        mcp_call_tool_error (call, "The external source's answer has no content");
        return;
    }
    json_t *result = json_pack ("{s:O, s:b}", "content", content, "isError",
                                json_is_true (json_object_get (remote, "isError")));
    json_t *structured = json_object_get (remote, "structuredContent");
    if (json_is_object (structured))
        json_object_set (result, "structuredContent", structured);
    mcp_call_result (call, result);
}

static void
s_called (mcp_call_t *call, bus_json_t *reply, intptr_t tag)
{
    (void) tag;
    s_answer (call, reply);
    passthrough_run_t *run = call->ctx;
    if (!run)
        return;
    if (reply->ok && json_is_object (reply->body)) {
        //  the execution record shows the source's result as its result
        json_t *remote = json_object_get (reply->body, "result");
        if (remote) {
            char *text = json_dumps (remote, JSON_COMPACT);
            if (text)
                json_object_set_new (reply->body, "result_json", json_string (text));
            free (text);
        }
    }
    exec_log_spool (call, &run->run, reply, call->args);
    if (reply->ok) {
        const char *why = json_is_true (json_object_get (reply->body, "success")) ? NULL
                        : bus_json_str (json_object_get (reply->body, "error"), "message");
        json_t *fields = json_pack ("{s:s}", "source_id", run->source_id);
        if (why)
            json_object_set_new (fields, "error", json_stringn (why, strnlen (why, 1000)));
        mcp_call_bus (call, "registry", "source.health", fields, MCP_BUS_TIMEOUT_MS,
                      s_health_done, 0);
        json_decref (fields);
    }
}

void
mcp_passthrough_call (mcp_call_t *call, const catalog_tool_t *tool,
                      const catalog_server_t *rules)
{
    json_t *source = tool->source;
    json_t *job = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:O, s:o, s:s, s:I}",
        "action", "call",
        "url", bus_json_str (source, "url"),
        "transport", bus_json_str (source, "transport_type")
                     ? bus_json_str (source, "transport_type") : "streamable_http",
        "auth_type", bus_json_str (source, "auth_type")
                     ? bus_json_str (source, "auth_type") : "none",
        "tool", bus_json_str (source, "external_tool_name"),
        "arguments", call->args,
        "allowed_hosts", rules->allowed_hosts ? json_incref (rules->allowed_hosts)
                                              : json_array (),
        "network_policy", rules->network_policy,
        "timeout_ms", (json_int_t) tool->timeout_ms);
    if (!job) {
        mcp_call_tool_error (call, "out of memory");
        return;
    }
    const char *secret = bus_json_str (source, "auth_secret_name");
    const char *header = bus_json_str (source, "auth_header_name");
    if (secret && *secret)
        json_object_set_new (job, "auth_secret_name", json_string (secret));
    if (header && *header)
        json_object_set_new (job, "auth_header_name", json_string (header));
    //  the executor fetches this server's secrets (the credential) itself,
    //  and an oauth source's token by its source_id
    json_object_set_new (job, "server_id", json_string (tool->server_id));
    if (bus_json_str (source, "source_id"))
        json_object_set_new (job, "source_id", json_string (bus_json_str (source, "source_id")));
    passthrough_run_t *run = calloc (1, sizeof *run);
    if (!run) {
        json_decref (job);
        mcp_call_tool_error (call, "out of memory");
        return;
    }
    exec_log_run_init (&run->run, tool->tool_id, tool->name, tool->server_id,
                       tool->server_name, false);
    snprintf (run->source_id, sizeof run->source_id, "%s",
              bus_json_str (source, "source_id") ? bus_json_str (source, "source_id") : "");
    mcp_call_set_ctx (call, run, free);
    int timeout = (int) tool->timeout_ms + SOURCE_GRACE_MS;
    mcp_call_set_backstop (call, timeout + SOURCE_BACKSTOP);
    if (mcp_call_bus (call, "sandbox", "source", job, timeout, s_called, 0) == 0)
        log_debug ("tools/call %s -> external source", tool->full_name);
    json_decref (job);
}
