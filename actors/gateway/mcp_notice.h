/*  mcp_notice.h — a sandbox call's notice (a progress report or a log line
    from inside the tool, relayed by the executor and the broker before the
    call's reply: proto/README.md, NOTICE) as the MCP notification its
    client asked for. Pure (unit-tested and fuzzed; no lws here).

    The notice body is a msgpack map from the executor (notice_frame.h):
      {"kind": "progress", "progress": num, "total": num?, "message": str?}
      {"kind": "log", "level": str, "data": str}
    It is hostile input all the same: decoded with msg.c's bounds, every
    field typed, the numbers finite and ≥ 0, the texts valid UTF-8 without
    NUL and at most MCP_NOTICE_TEXT_MAX bytes, no other keys.

    What the client is sent:
      progress, only when the request carried params._meta.progressToken:
        {"jsonrpc": "2.0", "method": "notifications/progress",
         "params": {"progressToken": <its token>, "progress": p,
                    "total": t?, "message": m?}}
      log, only at or above the level the client chose (2025 era:
      logging/setLevel on the session; 2026 era: the request's
      _meta["io.modelcontextprotocol/logLevel"]; neither: none):
        {"jsonrpc": "2.0", "method": "notifications/message",
         "params": {"level": l, "logger": <the tool's full name>, "data": d}}
*/
#ifndef MCPBOX_GATEWAY_MCP_NOTICE_H
#define MCPBOX_GATEWAY_MCP_NOTICE_H

#include <stddef.h>
#include <jansson.h>

#define MCP_NOTICE_TEXT_MAX  8192

typedef enum {
    MCP_NOTICE_SEND = 0,        //  *out holds the notification
    MCP_NOTICE_FILTERED,        //  well formed; the client did not ask for it
    MCP_NOTICE_MALFORMED,       //  refused
} mcp_notice_status_t;

//  The rank of an MCP log level (debug 0 .. emergency 7), or -1.
int mcp_notice_level_rank (const char *level);

//  progress_token: the request's params._meta.progressToken (a string or
//  an integer), or NULL. log_rank: the lowest rank the client wants, or -1.
//  logger: the tool's name (UTF-8), or NULL.
mcp_notice_status_t mcp_notice_render (const void *body, size_t size,
                                       const json_t *progress_token,
                                       int log_rank, const char *logger,
                                       json_t **out);

#endif
