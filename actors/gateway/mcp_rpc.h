/*  mcp_rpc.h — JSON-RPC over POST /mcp: what a message may be, and which
    method does what.

    The body must be one JSON object (a JSON array is a batch, which
    Streamable HTTP does not allow since 2025-06-18: 400 with -32600):

      malformed JSON                      400  -32700
      an array, or not a JSON-RPC 2.0
      request / notification / response   400  -32600
      a MCP-Protocol-Version header we
      do not speak (any request)          400
      initialize (request)                200  result with the requested
                                               protocolVersion if we speak
                                               it, else our latest (the
                                               client decides); -32602 only
                                               when it is missing; a new
                                               session
      anything else: the session rules (mcp_endpoint_session), then
      a notification or a response        202  (no body)
      ping                                200  {}
      tools/list                          200  management tools, then the
                                               callable user tools by name;
                                               pages of 100, opaque cursor
                                               (-32602 if not ours or stale)
      tools/call                          200  management tool or user
                                               tool; unknown name -32602;
                                               arguments checked against
                                               the input schema first
                                               (failure: isError result)
      any other method                    200  -32601

    A message of the 2026 era (mcp_era.h) goes to mcp_modern.c instead,
    after the shape checks above.
*/
#ifndef MCPBOX_GATEWAY_MCP_RPC_H
#define MCPBOX_GATEWAY_MCP_RPC_H

#include "mcp_call.h"

#include "mcp_era.h"

//  How long a 2026 client may cache tools/list (ttlMs): the catalog's
//  own refresh age, so a cached list is never older than ours.
#define MCP_TOOLS_TTL_MS    CATALOG_CALL_MAX_AGE_MS

//  The body is complete: parse it and handle the message.
void mcp_rpc_dispatch (mcp_call_t *call);

//  Both eras: the method handlers (call->params set).
void mcp_rpc_tools_list (mcp_call_t *call);
void mcp_rpc_tools_call (mcp_call_t *call);
//  call->metric_tool for call->tool_name: a management tool's name or a
//  catalog tool's full name as the cache holds it now, else "" (counted
//  as _unknown). Set before the rate limit, so a refused call counts
//  under its tool.
void mcp_rpc_metric_tool (mcp_call_t *call);
//  tools/call once its client's rate limit allowed it (mcp_rate.h): the
//  remote policy for a remote request, then mcp_rpc_tools_run.
void mcp_rpc_tools_admit (mcp_call_t *call);
//  tools/call once its name and arguments are read (and, for a remote
//  request, the policy said yes): a management tool or a user tool.
void mcp_rpc_tools_run (mcp_call_t *call);

//  mcp_remote.c: the remote listener's policy. hides: the management tool
//  at this index is left out of this (remote) request's tools/list.
//  tools_call: a remote tools/call (activity record, local-only check),
//  then mcp_rpc_tools_run or a refusal.
bool mcp_remote_hides (mcp_call_t *call, size_t tool_index);
void mcp_remote_tools_call (mcp_call_t *call);
const char *mcp_rpc_instructions (void);

//  mcp_modern.c: a message classified as 2026 era (or refused by the
//  classification: era->status set). Takes era->data.
void mcp_modern_dispatch (mcp_call_t *call, mcp_era_t *era);
//  mcp_listen.c: subscriptions/listen (a 2026 request, checks done).
void mcp_listen_open (mcp_call_t *call);

#endif
