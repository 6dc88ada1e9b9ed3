/*  mcp_user_tools.c — tools/call for a user tool: the hot path.

      1. the catalog cache, no older than 1 s (refetched if it is: the
         approval and the enablement are checked on every call, and a
         revoked tool stops being callable within that second)
      2. the tool by its full name; unknown -> -32602
      3. the arguments against its input schema; a mismatch -> isError
      4. a sandbox `run` job built from the cache: the code, the
         arguments as data, the server's allowed modules / hosts /
         network policy, the tool's timeout — sent through the bridge;
         the HTTP answer is written when the executor replies
      5. the reply: a failure -> isError with "Type: message (line n)";
         a success -> text content (the string itself for a string, else
         the JSON text) and structuredContent for a JSON object. A tool
         with an outputSchema (derived from main's return annotation)
         always answers structuredContent, checked against that schema
         (the value itself, or {"result": value} when the schema says
         "x-mcpbox-wrapped"); a result that does not match is an isError
         answer, never passed on as if it did
      6. after the answer, the run's execution log record and a
         `tool.called` activity go to the log spool (exec_log.c)

    Progress and log lines from inside the tool: the job says what the
    client asked for ("notify": a progress token was sent; its log level),
    so the executor relays only those; they come back as bus notices and
    go out on the POST's stream (mcp_call_notice). What became of them is
    in the result's _meta["mcpbox/notices"] and the activity record.

    The circuit breaker (circuit.h) sits between 3 and 4: while it is open
    the call is answered at once with a JSON-RPC error (-32000, data
    {"reason": "circuit_open", "retry_after_s", "retryAfter"}: the same
    retryAfter as a rate-limited call's) and nothing is sent; the
    sandbox's answer is its verdict (no_worker, worker_lost and the bus's
    timeout are failures; any answer of the service, a tool's own error
    included, is a success). Opening and closing are logged and recorded
    as `circuit.opened` / `circuit.closed` activity.

    Figures (metrics.h): the call's stages (gateway, bus, sandbox), the
    calls in flight at the sandbox; the outcome is counted by mcp_call.c.

    Nothing here touches a database, and nothing blocks: many calls are in
    flight at once, each waiting only for its own reply.
*/
#include <string.h>

#include <stdlib.h>

#include "circuit.h"
#include "exec_log.h"
#include "metrics.h"
#include "json_schema_check.h"
#include "log.h"
#include "mcp_tools.h"

#define RUN_GRACE_MS      5000      //  beyond the tool's timeout, for the bus
#define BACKSTOP_GRACE_MS 15000     //  beyond that, for the answer

//  A call's state: the execution log's run, and the output schema of the
//  tool as it was when the call started (the catalog may change before the
//  answer comes).
typedef struct {
    exec_log_run_t run;             //  first: call->ctx is also the run
    json_t        *output_schema;   //  held, or NULL
    gateway_t     *gateway;
    bool           sent;            //  the run is at the sandbox
    bool           probe;           //  it is the half-open circuit's probe
    int64_t        sent_us;         //  when it was sent
} user_run_t;

static void
s_user_run_free (void *ctx)
{
    user_run_t *self = ctx;
    if (self->sent) {               //  no answer came (the call went away)
        metrics_in_flight (self->gateway->metrics, -1);
        circuit_abandon (self->gateway->circuit, self->probe);
    }
    json_decref (self->output_schema);
    free (self);
}

//  A transition of the circuit: logged, and an activity record.
static void
s_circuit_changed (gateway_t *gateway, circuit_change_t change, const char *cause)
{
    if (change == CIRCUIT_SAME)
        return;
    circuit_stats_t stats;
    circuit_stats (gateway->circuit, gateway_now_ms (), &stats);
    char message [300];
    json_t *details;
    if (change == CIRCUIT_OPENED) {
        snprintf (message, sizeof message, "the circuit toward the sandbox service opened "
                  "after %d consecutive infrastructure failures (last: %s); tool calls are "
                  "refused for %lld s, then one probe call is let through",
                  stats.consecutive, cause, (long long) (stats.open_ms / 1000));
        details = json_pack ("{s:i, s:s, s:I, s:I}", "consecutive_failures", stats.consecutive,
                             "last_error", cause, "open_s", (json_int_t) (stats.open_ms / 1000),
                             "opened_total", (json_int_t) stats.opened);
        log_error ("%s", message);
    }
    else {
        snprintf (message, sizeof message, "the circuit toward the sandbox service closed: "
                  "the probe call was answered");
        details = json_pack ("{s:I}", "closed_total", (json_int_t) stats.closed);
        log_info ("%s", message);
    }
    logspool_activity_json (gateway->spool,
                            change == CIRCUIT_OPENED ? "circuit.opened" : "circuit.closed",
                            change == CIRCUIT_OPENED ? LOGSPOOL_ERROR : LOGSPOOL_INFO,
                            NULL, message, details);
    json_decref (details);
}

//  The sandbox's answer as the circuit's verdict, and the call's figures.
static void
s_verdict (mcp_call_t *call, user_run_t *run, const bus_json_t *reply)
{
    gateway_t *gateway = run->gateway;
    int64_t now = gateway_now_us ();
    int64_t round_trip = now - run->sent_us;
    run->sent = false;
    metrics_in_flight (gateway->metrics, -1);
    if (reply->ok) {
        s_circuit_changed (gateway, circuit_success (gateway->circuit, run->probe), "");
        json_t *duration = json_object_get (reply->body, "duration_ms");
        int64_t sandbox = json_is_integer (duration) && json_integer_value (duration) >= 0
                        ? (int64_t) json_integer_value (duration) * 1000 : 0;
        if (sandbox > round_trip)
            sandbox = round_trip;
        metrics_stage (gateway->metrics, METRICS_STAGE_SANDBOX, sandbox);
        metrics_stage (gateway->metrics, METRICS_STAGE_BUS, round_trip - sandbox);
        return;
    }
    if (circuit_counts_error (reply->code)) {
        call->metric_outcome = METRICS_SANDBOX_UNAVAILABLE;
        s_circuit_changed (gateway, circuit_failure (gateway->circuit, run->probe,
                                                     gateway_now_ms ()),
                           bus_error_name (reply->code));
    }
    else {
        if (reply->code == BUS_ERR_UNAVAILABLE)
            call->metric_outcome = METRICS_SANDBOX_UNAVAILABLE;
        circuit_abandon (gateway->circuit, run->probe);
    }
}

//  structuredContent for a tool that declares an output schema, or NULL
//  after answering the call with an error result.
static json_t *
s_structured (mcp_call_t *call, const json_t *body, json_t *value, json_t *schema)
{
    if (!json_is_true (json_object_get (body, "structured"))) {
        mcp_call_tool_error (call, "The tool declares an output schema, but its result "
                             "is not JSON (it was sent as text)");
        return NULL;
    }
    json_t *structured = json_is_true (json_object_get (schema, "x-mcpbox-wrapped"))
                       ? json_pack ("{s:O}", "result", value) : json_incref (value);
    char err [512] = "";
    if (!json_is_object (structured)) {
        snprintf (err, sizeof err, "structuredContent: expected object, got %s",
                  json_schema_type_name (structured));
    }
    else
    if (json_schema_check (schema, structured, "structuredContent", err, sizeof err) == 0)
        return structured;
    json_decref (structured);
    mcp_call_tool_error (call, "The tool's result does not match its output schema: %s",
                         err);
    return NULL;
}

static void s_answer (mcp_call_t *call, bus_json_t *reply);

static void
s_ran (mcp_call_t *call, bus_json_t *reply, intptr_t tag)
{
    (void) tag;
    user_run_t *run = call->ctx;
    int64_t round_trip = 0;
    if (run && run->sent) {
        round_trip = gateway_now_us () - run->sent_us;
        s_verdict (call, run, reply);
    }
    s_answer (call, reply);
    if (run && reply->ok)
        metrics_stage (run->gateway->metrics, METRICS_STAGE_GATEWAY,
                       gateway_now_us () - call->started_us - round_trip);
    //  logged after the answer is written: the caller never waits for it
    if (call->ctx)
        exec_log_spool (call, call->ctx, reply, call->args);
}

static void
s_answer (mcp_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        mcp_call_tool_bus_error (call, "sandbox", reply);
        return;
    }
    const json_t *body = reply->body;
    if (!json_is_true (json_object_get (body, "success"))) {
        json_t *error = json_object_get (body, "error");
        const char *type = bus_json_str (error, "type");
        const char *message = bus_json_str (error, "message");
        json_t *line = json_object_get (error, "line");
        char where [48] = "";
        if (json_is_integer (line))
            snprintf (where, sizeof where, " (line %" JSON_INTEGER_FORMAT ")",
                      json_integer_value (line));
        mcp_call_tool_error (call, "%s: %s%s", type ? type : "Error",
                             message ? message : "the tool failed", where);
        return;
    }
    const char *text = bus_json_str (body, "result_json");
    //  JSON_ALLOW_NUL: a tool may return text holding U+0000 (the harness
    //  escapes it as \u0000); it is answered as written, not refused
    json_t *value = text ? json_loads (text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL) : NULL;
    if (!value) {
        mcp_call_tool_error (call, "the tool's result could not be read");
        return;
    }
    user_run_t *run = call->ctx;
    json_t *structured = NULL;
    if (run && run->output_schema) {
        structured = s_structured (call, body, value, run->output_schema);
        if (!structured) {
            json_decref (value);
            return;
        }
    }
    else
    if (json_is_object (value))
        structured = json_incref (value);
    json_t *content = json_pack ("[{s:s, s:s}]", "type", "text", "text",
                                 json_is_string (value) ? json_string_value (value) : text);
    json_t *result = json_pack ("{s:o, s:b}", "content", content, "isError", 0);
    if (structured)
        json_object_set_new (result, "structuredContent", structured);
    json_decref (value);
    json_t *notices = mcp_call_notices_summary (call, body);
    if (notices)
        json_object_set_new (result, "_meta", json_pack ("{s:o}", "mcpbox/notices", notices));
    mcp_call_result (call, result);
}

static void
s_resolved (mcp_call_t *call, bool ok)
{
    catalog_cache_t *catalog = call->mcp->catalog;
    if (!ok) {
        //  fail closed: without a fresh catalog we cannot know it is allowed
        mcp_call_tool_error (call, "The tool catalog could not be refreshed (the "
                             "registry or approval service is not answering); "
                             "try again shortly.");
        return;
    }
    const catalog_tool_t *tool = catalog_cache_find (catalog, call->tool_name);
    const char *gone = tool ? NULL : catalog_cache_removed (catalog, call->tool_name);
    if (gone) {
        //  an imported tool its source stopped offering: said plainly
        mcp_call_tool_error (call, "The tool %.300s was removed at the source: the "
                             "external source '%.200s' no longer offers it, so it cannot be "
                             "called until the source offers it again (see "
                             "mcpbox_discover_external_tools).", call->tool_name, gone);
        return;
    }
    if (!tool) {
        char message [400];
        snprintf (message, sizeof message, "Unknown tool: %.300s", call->tool_name);
        mcp_call_error (call, MCP_INVALID_PARAMS, message, NULL);
        return;
    }
    char err [512];
    if (json_schema_check (tool->input_schema, call->args, "arguments", err, sizeof err)) {
        mcp_call_tool_error (call, "Invalid arguments for %s: %s", tool->full_name, err);
        return;
    }
    snprintf (call->metric_tool, sizeof call->metric_tool, "%s", tool->full_name);
    gateway_t *gateway = call->mcp->gateway;
    circuit_admit_t admit = circuit_admit (gateway->circuit, gateway_now_ms ());
    if (admit == CIRCUIT_REJECT) {
        int64_t retry_ms = circuit_retry_in_ms (gateway->circuit, gateway_now_ms ());
        json_int_t retry_s = (json_int_t) ((retry_ms + 999) / 1000);
        char message [300];
        snprintf (message, sizeof message, "The sandbox service is failing: the circuit "
                  "breaker is open and tool calls are refused for now; retry in %lld s",
                  (long long) (retry_s ? retry_s : 1));
        call->metric_outcome = METRICS_CIRCUIT_OPEN;
        mcp_call_error (call, MCP_SERVER_ERROR, message,
                        json_pack ("{s:s, s:I, s:I}", "reason", "circuit_open",
                                   "retry_after_s", retry_s ? retry_s : 1,
                                   "retryAfter", retry_s ? retry_s : 1));
        return;
    }
    catalog_server_t rules;
    catalog_cache_server (catalog, tool->server_id, &rules);
    if (tool->passthrough) {
        mcp_passthrough_call (call, tool, &rules);  //  mcp_passthrough.c
        return;
    }
    json_t *job = json_pack ("{s:s, s:O, s:o, s:s, s:I}",
        "code", tool->python_code,
        "arguments", call->args,
        "allowed_hosts", rules.allowed_hosts ? json_incref (rules.allowed_hosts)
                                             : json_array (),
        "network_policy", rules.network_policy,
        "timeout_ms", (json_int_t) tool->timeout_ms);
    if (rules.allowed_modules)
        json_object_set (job, "allowed_modules", rules.allowed_modules);
    user_run_t *run = calloc (1, sizeof *run);
    if (!run) {
        json_decref (job);
        circuit_abandon (gateway->circuit, admit == CIRCUIT_PROBE);
        mcp_call_tool_error (call, "out of memory");
        return;
    }
    run->gateway = gateway;
    run->probe = admit == CIRCUIT_PROBE;
    exec_log_run_init (&run->run, tool->tool_id, tool->name, tool->server_id,
                       tool->server_name, false);
    run->output_schema = json_incref (tool->output_schema);
    mcp_call_set_ctx (call, run, s_user_run_free);
    //  what the client asked to be told while the tool runs
    json_t *token = json_object_get (json_object_get (call->params, "_meta"), "progressToken");
    call->progress_token = json_is_string (token) || json_is_integer (token) ? token : NULL;
    json_t *notify = json_pack ("{s:b}", "progress", call->progress_token != NULL);
    static const char *const levels [] = {
        "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"
    };
    if (call->log_rank >= 0 && call->log_rank < 8)
        json_object_set_new (notify, "log_level", json_string (levels [call->log_rank]));
    json_object_set_new (job, "notify", notify);
    //  the executor fetches this server's secrets itself (job_secrets.h)
    json_object_set_new (job, "server_id", json_string (tool->server_id));
    int timeout = (int) tool->timeout_ms + RUN_GRACE_MS;
    mcp_call_set_backstop (call, timeout + BACKSTOP_GRACE_MS);
    run->sent = true;
    run->sent_us = gateway_now_us ();
    metrics_in_flight (gateway->metrics, 1);
    if (mcp_call_bus (call, "sandbox", "run", job, timeout, s_ran, 0) == 0)
        log_debug ("tools/call %s -> sandbox", tool->full_name);
    json_decref (job);
}

void
mcp_user_tool_call (mcp_call_t *call)
{
    //  user tools are always {server}__{tool}: anything else is unknown
    //  without asking anyone
    if (!strstr (call->tool_name, "__")) {
        char message [400];
        snprintf (message, sizeof message, "Unknown tool: %.300s", call->tool_name);
        mcp_call_error (call, MCP_INVALID_PARAMS, message, NULL);
        return;
    }
    mcp_call_need_catalog (call, s_resolved);
}
