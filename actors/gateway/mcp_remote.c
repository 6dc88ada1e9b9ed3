/*  mcp_remote.c — the remote policy of /mcp: what a request that came in
    on the remote listener (http_req_remote) may see and call.

      tools/list   the local-only management tools (mcp_tools_local_only)
                   are left out unless approval's policy
                   remote_tool_editing is "enabled" in a catalog snapshot
                   at most CATALOG_CALL_MAX_AGE_MS old (tools/list waits
                   for one), so a policy change applies without a restart
      tools/call   every remote call is an activity record naming the
                   credential (remote.tool_called, info) — or, for a
                   local-only tool while the policy refuses it,
                   remote.tool_refused (warning) and a JSON-RPC error
                   -32602 saying why; the same when the policy cannot be
                   read (a catalog that could not be refreshed)

    The principal (kind, name, id) is the one credentials' remote.verify
    answered for the request (remote_listener.c).
*/
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "logspool.h"
#include "mcp_call.h"
#include "mcp_rpc.h"
#include "mcp_tools.h"

bool
mcp_remote_hides (mcp_call_t *call, size_t tool_index)
{
    return http_req_remote (call->req)
        && !catalog_cache_remote_editing (call->mcp->catalog)
        && mcp_tools_local_only (mcp_tools_get (tool_index)->name);
}

//  "service token phone" for the records
static void
s_who (mcp_call_t *call, char *out, size_t size)
{
    const http_principal_t *who = http_req_principal (call->req);
    snprintf (out, size, "%s %s",
              !who ? "unverified credential"
              : strcmp (who->kind, "service_token") == 0 ? "service token"
              : strcmp (who->kind, "oauth") == 0 ? "OAuth client" : who->kind,
              who ? who->name : "?");
}

static void
s_record (mcp_call_t *call, bool refused)
{
    logspool_t *spool = call->mcp->gateway->spool;
    if (!spool)
        return;
    const http_principal_t *who = http_req_principal (call->req);
    char by [200], message [600];
    s_who (call, by, sizeof by);
    snprintf (message, sizeof message, refused
              ? "Remote call of %.128s by %s refused: remote_tool_editing is not enabled"
              : "Remote call of %.128s by %s", call->tool_name, by);
    json_t *details = json_pack ("{s:s, s:s, s:s, s:s, s:b, s:s}",
        "tool", call->tool_name,
        "caller_kind", who ? who->kind : "",
        "caller", who ? who->name : "",
        "caller_id", who ? who->id : "",
        "management", mcp_tools_find (call->tool_name) >= 0,
        "client", call->client_name);
    logspool_activity_json (spool, refused ? "remote.tool_refused" : "remote.tool_called",
                            refused ? LOGSPOOL_WARNING : LOGSPOOL_INFO, NULL, message,
                            details);
    json_decref (details);
}

static void
s_policy_read (mcp_call_t *call, bool ok)
{
    if (!ok || !catalog_cache_remote_editing (call->mcp->catalog)) {
        s_record (call, true);
        log_info ("remote call of %.128s refused (remote_tool_editing%s)", call->tool_name,
                  ok ? " disabled" : ": policy unreadable");
        mcp_call_error (call, MCP_INVALID_PARAMS, ok
            ? "This management tool is local-only: the policy remote_tool_editing is "
              "not enabled, so it cannot be called over the remote endpoint"
            : "This management tool is local-only and the policy that allows it remotely "
              "cannot be read now; try again", json_pack ("{s:s, s:s}",
              "tool", call->tool_name, "policy", "remote_tool_editing"));
        return;
    }
    s_record (call, false);
    mcp_rpc_tools_run (call);
}

void
mcp_remote_tools_call (mcp_call_t *call)
{
    if (mcp_tools_local_only (call->tool_name)) {
        mcp_call_need_catalog (call, s_policy_read);
        return;
    }
    s_record (call, false);
    mcp_rpc_tools_run (call);
}
