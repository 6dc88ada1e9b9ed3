/*  exec_log.h — the execution log record and the `tool.called` activity
    of one tool run through /mcp (a user tool's tools/call, or
    mcpbox_test_code) or the admin API's test, handed to the gateway's log spool after the answer.

    The gateway knows what the executor does not (the tool, its server,
    the JSON-RPC id, the MCP client and session, the time the caller
    waited); the executor knows the secrets and returns `args_redacted`,
    the arguments with every secret value replaced, which is logged
    instead of the call's own arguments when present. Secret-looking keys
    are redacted by the spool in either case (common/log_redact.h).
*/
#ifndef MCPBOX_GATEWAY_EXEC_LOG_H
#define MCPBOX_GATEWAY_EXEC_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include "mcp_call.h"

//  What the run was of, copied when the run starts (the catalog snapshot
//  it came from may be replaced before the answer).
typedef struct {
    char    tool_id [65];
    char    tool_name [256];        //  the tool's own name
    char    server_id [65];
    char    server_name [256];
    int64_t started_ms;             //  monotonic, when the run was asked for
    bool    is_test;                //  mcpbox_test_code
} exec_log_run_t;

//  Fill run from the strings (NULL is ""); started now.
void exec_log_run_init (exec_log_run_t *run, const char *tool_id, const char *tool_name,
                        const char *server_id, const char *server_name, bool is_test);

//  Spool the records for a finished run: the execution record only when
//  the gateway's execution_logs is on, the activity record always.
//  reply: the sandbox's answer (ok or a bus error). args: the arguments
//  as sent.
void exec_log_spool (mcp_call_t *call, const exec_log_run_t *run,
                     const bus_json_t *reply, const json_t *args);

//  Who asked for a run outside /mcp (the admin API's test): each NULL if
//  unknown; executed_by such as "admin:alice".
typedef struct {
    const char *request_id;
    const char *client_name;
    const char *session_id;
    const char *executed_by;
    const json_t *notices;      //  mcp_call_notices_summary, or NULL
} exec_log_origin_t;

//  The same records for a run asked for by origin.
void exec_log_spool_as (gateway_t *gateway, const exec_log_origin_t *origin,
                        const exec_log_run_t *run, const bus_json_t *reply,
                        const json_t *args);

#endif
