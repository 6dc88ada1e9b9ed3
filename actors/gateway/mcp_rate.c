/*  mcp_rate.c — tools/call budgets per client (mcp_rate.h). */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "mcp_rate.h"
#include "mcp_rpc.h"

void
mcp_rate_client (const mcp_call_t *call, char *out, size_t size)
{
    const http_principal_t *who = http_req_principal (call->req);
    if (who)
        snprintf (out, size, "remote:%.24s:%.64s", who->kind, who->id);
    else
    if (!call->modern && call->session_id [0])
        snprintf (out, size, "session:%s", call->session_id);
    else
        snprintf (out, size, "client:%s",
                  call->client_name [0] ? call->client_name : "anonymous");
}

static void
s_taken (mcp_call_t *call, bus_json_t *reply, intptr_t tag)
{
    (void) tag;
    if (!reply->ok) {
        //  fail open: the limit guards against overuse; an approval
        //  restart must not stop every call (user tools still need a
        //  fresh catalog, which needs approval: they stay fail-closed)
        if (call->mcp->rate_unchecked++ % 100 == 0)
            log_warn ("mcp: the rate limit could not be checked (%s); calls go through "
                      "unmetered meanwhile (%llu so far)", bus_error_name (reply->code),
                      (unsigned long long) call->mcp->rate_unchecked);
        mcp_rpc_tools_admit (call);
        return;
    }
    if (json_is_true (json_object_get (reply->body, "allowed"))) {
        mcp_rpc_tools_admit (call);
        return;
    }
    call->mcp->rate_limited++;
    call->metric_outcome = METRICS_RATE_LIMITED;
    json_int_t wait_ms = bus_json_int (reply->body, "retry_after_ms", 1000);
    json_int_t limit = bus_json_int (reply->body, "limit_rpm", 0);
    if (wait_ms < 1)
        wait_ms = 1;
    json_int_t seconds = (wait_ms + 999) / 1000;
    char header [24], message [200];
    snprintf (header, sizeof header, "%" JSON_INTEGER_FORMAT, seconds);
    http_req_add_header (call->req, "retry-after:", header);
    snprintf (message, sizeof message, "Rate limit exceeded: at most %" JSON_INTEGER_FORMAT
              " tools/call a minute for this client; retry after %" JSON_INTEGER_FORMAT " s",
              limit, seconds);
    mcp_call_error (call, MCP_RATE_LIMITED, message,
                    json_pack ("{s:I, s:I, s:I}", "retryAfter", seconds,
                               "retryAfterMs", wait_ms, "limit", limit));
}

void
mcp_rate_check (mcp_call_t *call)
{
    char client [256];
    mcp_rate_client (call, client, sizeof client);
    json_t *fields = json_pack ("{s:s}", "client", client);
    if (!fields) {                      //  not UTF-8: never, the parts are checked
        mcp_call_tool_error (call, "The rate limit could not be checked.");
        return;
    }
    mcp_call_bus (call, "approval", "rate.take", fields, MCP_RATE_TIMEOUT_MS, s_taken, 0);
    json_decref (fields);
}
