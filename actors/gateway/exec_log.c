/*  exec_log.c — one tool run's log records (exec_log.h).

    From the sandbox reply: success, result_json (the value as JSON
    text), error {type, message, line}, stdout, args_redacted. A bus
    error (no executor, timeout...) is logged as a failed run with the
    text the caller saw. Nothing here waits: logspool_exec only queues.
    With the gateway's execution_logs setting off, only the activity
    record is spooled (the operator's switch; the benchmark's baseline).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_log.h"
#include "log.h"
#include "logspool.h"
#include "mcp.h"

void
exec_log_run_init (exec_log_run_t *run, const char *tool_id, const char *tool_name,
                   const char *server_id, const char *server_name, bool is_test)
{
    snprintf (run->tool_id, sizeof run->tool_id, "%s", tool_id ? tool_id : "");
    snprintf (run->tool_name, sizeof run->tool_name, "%s", tool_name ? tool_name : "");
    snprintf (run->server_id, sizeof run->server_id, "%s", server_id ? server_id : "");
    snprintf (run->server_name, sizeof run->server_name, "%s", server_name ? server_name : "");
    run->started_ms = gateway_now_ms ();
    run->is_test = is_test;
}

static const char *
s_or_null (const char *text)
{
    return text && *text ? text : NULL;
}

void
exec_log_spool (mcp_call_t *call, const exec_log_run_t *run, const bus_json_t *reply,
                const json_t *args)
{
    char request_id [128] = "";
    if (call->id) {
        char *text = json_dumps (call->id, JSON_ENCODE_ANY | JSON_COMPACT);
        snprintf (request_id, sizeof request_id, "%s", text ? text : "");
        free (text);
    }
    const char *client = call->client_name [0] ? call->client_name : NULL;
    char executed_by [200];
    //  over the remote listener: the credential's name (a token, a client)
    const http_principal_t *who = http_req_principal (call->req);
    if (who)
        snprintf (executed_by, sizeof executed_by, "remote:%s", who->name);
    else
        snprintf (executed_by, sizeof executed_by, "mcp:%s", client ? client : "unknown");
    exec_log_origin_t origin = {
        .request_id  = s_or_null (request_id),
        .client_name = client,
        .session_id  = call->session_header ? s_or_null (call->session_id) : NULL,
        .executed_by = executed_by,
        .notices     = NULL,
    };
    json_t *notices = mcp_call_notices_summary (call, reply->ok ? reply->body : NULL);
    origin.notices = notices;
    exec_log_spool_as (call->mcp->gateway, &origin, run, reply, args);
    json_decref (notices);
}

void
exec_log_spool_as (gateway_t *gateway, const exec_log_origin_t *origin,
                   const exec_log_run_t *run, const bus_json_t *reply, const json_t *args)
{
    logspool_t *spool = gateway->spool;
    if (!spool)
        return;
    const json_t *body = reply->ok ? reply->body : NULL;
    bool success = body && json_is_true (json_object_get (body, "success"));
    char error [1200] = "";
    if (!reply->ok)
        mcp_bus_error_text ("sandbox", reply, error, sizeof error);
    else
    if (!success) {
        json_t *err = json_object_get (body, "error");
        const char *type = bus_json_str (err, "type");
        const char *message = bus_json_str (err, "message");
        json_t *line = json_object_get (err, "line");
        snprintf (error, sizeof error, "%s: %s", type ? type : "Error",
                  message ? message : "the tool failed");
        if (json_is_integer (line)) {
            size_t len = strlen (error);
            snprintf (error + len, sizeof error - len, " (line %" JSON_INTEGER_FORMAT ")",
                      json_integer_value (line));
        }
    }
    //  the executor's copy has secret values replaced: prefer it
    const json_t *redacted = body ? json_object_get (body, "args_redacted") : NULL;
    const json_t *logged = json_is_object (redacted) ? redacted
                         : json_is_object (args) ? args : NULL;
    const char *client = origin->client_name;
    const char *executed_by = origin->executed_by ? origin->executed_by : "unknown";
    int64_t duration = gateway_now_ms () - run->started_ms;
    logspool_exec_t record = {
        .tool_id     = s_or_null (run->tool_id),
        .tool_name   = s_or_null (run->tool_name),
        .server_id   = s_or_null (run->server_id),
        .server_name = s_or_null (run->server_name),
        .request_id  = origin->request_id,
        .client_name = client,
        .session_id  = origin->session_id,
        .args        = logged,
        .result      = success ? bus_json_str (body, "result_json") : NULL,
        .stdout_text = body ? bus_json_str (body, "stdout") : NULL,
        .error       = success ? NULL : error,
        .duration_ms = duration,
        .success     = success,
        .is_test     = run->is_test,
        .executed_by = executed_by,
    };
    if (gateway->execution_logs)
        logspool_exec (spool, &record);

    char message [700];
    snprintf (message, sizeof message, "%s %s__%s %s in %lld ms (%s)",
              run->is_test ? "Test run of" : "Call of", run->server_name, run->tool_name,
              success ? "succeeded" : "failed", (long long) duration, executed_by);
    json_t *details = json_pack ("{s:s, s:s, s:b, s:b, s:I, s:s}",
        "tool_id", run->tool_id, "tool_name", run->tool_name,
        "success", success, "is_test", run->is_test,
        "duration_ms", (json_int_t) duration, "client", client ? client : "");
    if (details && !success)
        json_object_set_new (details, "error", json_stringn (error, strnlen (error, 300)));
    if (details && origin->notices)
        json_object_set (details, "notices", (json_t *) origin->notices);
    logspool_activity_json (spool, run->is_test ? "tool.tested" : "tool.called",
                            success ? LOGSPOOL_INFO : LOGSPOOL_WARNING,
                            s_or_null (run->server_id), message, details);
    json_decref (details);
}
