/*  mcp_rate.h — the tools/call rate limit, asked of the approval actor.

    Every tools/call (management and user tools alike) first takes one
    token of its client's budget with `rate.take` (docs/BUS_OPS.md,
    approval): the budget lives in the approval actor, so every gateway
    process on the data directory draws on the same one, and a change of
    mcp_rate_limit_rpm applies to the next call. Who the client is:

        remote:<kind>:<id>  the principal the remote listener verified
                          (http_req_principal: a service token, an OAuth
                          client), whichever session it uses
        session:<id>      a 2025-era MCP session
        client:<name>     a 2026-era (stateless) request: its clientInfo
                          name ("anonymous" without one)

    A refused call is answered HTTP 200 with a JSON-RPC error (-32000,
    "Rate limit exceeded…", data {retryAfter (s), retryAfterMs, limit})
    and a `Retry-After` header: the error reaches the SDKs' callers on the
    request it belongs to (a 429 is a transport failure to them), and the
    header is there for proxies and clients that read it. When approval
    does not answer within MCP_RATE_TIMEOUT_MS the call goes on unmetered
    and is counted (mcp->rate_unchecked): an approval restart must not
    stop every management call, and a user tool cannot run then anyway
    (its catalog check needs approval and fails closed).
*/
#ifndef MCPBOX_GATEWAY_MCP_RATE_H
#define MCPBOX_GATEWAY_MCP_RATE_H

#include <stddef.h>
#include "mcp_call.h"

#define MCP_RATE_TIMEOUT_MS  1000       //  rate.take, on the local bus
#define MCP_RATE_LIMITED     (-32000)   //  the JSON-RPC error code

//  The budget key of this call's client (see above) into out.
void mcp_rate_client (const mcp_call_t *call, char *out, size_t size);

//  Take one token for the call, then admit it (mcp_rpc_tools_admit) when
//  allowed, or answer it (refused, or approval unreachable).
void mcp_rate_check (mcp_call_t *call);

#endif
