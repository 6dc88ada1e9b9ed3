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
*/
#ifndef MCPBOX_GATEWAY_MCP_RPC_H
#define MCPBOX_GATEWAY_MCP_RPC_H

#include "mcp_call.h"

//  The body is complete: parse it and handle the message.
void mcp_rpc_dispatch (mcp_call_t *call);

#endif
