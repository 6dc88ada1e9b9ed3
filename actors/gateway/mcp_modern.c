/*  mcp_modern.c — the 2026-07-28 era of /mcp: stateless requests.

    A message mcp_era.c classified as 2026 era comes here with its
    verdict. No session is looked up or made: the request carries all it
    needs in params._meta. Answers:

      a refusal of the classification      400 with the request's id
                                           (-32602, -32020, -32022 with
                                           data {supported, requested})
      a notification                       202 (notifications/cancelled
                                           has nothing to find: a 2026
                                           client cancels by closing its
                                           request's connection)
      server/discover                      200 supported versions (both
                                           eras), capabilities, instructions
      tools/list, tools/call               200 as in the 2025 era, plus
                                           ttlMs / cacheScope on tools/list
      subscriptions/listen                 200 text/event-stream (mcp_listen.c)
      anything else (initialize, ping,
      logging/setLevel, resources/..., ...)  404 -32601

    Every result gets resultType "complete" and _meta serverInfo
    (mcp_call_result). No method here needs a client capability, so
    -32021 is never sent: the capability sets are validated (an object)
    and otherwise not relied on.
*/
#include <string.h>

#include "log.h"
#include "mcp_notice.h"
#include "mcp_rpc.h"

typedef void (method_fn) (mcp_call_t *call);

static void
s_discover (mcp_call_t *call)
{
    json_t *result = json_pack ("{s:o, s:{s:{s:b}, s:{}}, s:s, s:i, s:s}",
        "supportedVersions", mcp_era_supported (),
        "capabilities", "tools", "listChanged", 1, "logging",
        "instructions", mcp_rpc_instructions (),
        "ttlMs", MCP_TOOLS_TTL_MS,
        "cacheScope", "private");
    mcp_call_result (call, result);
}

typedef struct {
    const char *method;
    method_fn  *handler;
} method_t;

static const method_t s_methods [] = {
    { "server/discover",        s_discover },
    { "tools/list",             mcp_rpc_tools_list },
    { "tools/call",             mcp_rpc_tools_call },
    { "subscriptions/listen",   mcp_listen_open },
    { NULL,                     NULL }
};

void
mcp_modern_dispatch (mcp_call_t *call, mcp_era_t *era)
{
    call->modern = true;
    if (era->status) {
        mcp_call_refuse (call, era->status, era->code, era->message, era->data);
        return;
    }
    if (!call->id) {
        //  a notification (or a stray response): nothing to answer
        http_req_respond (call->req, HTTP_STATUS_ACCEPTED, NULL, "", 0);
        return;
    }
    //  log lines from inside a tool: only when this request asked, at its level
    call->log_rank = era->log_level ? mcp_notice_level_rank (era->log_level) : -1;
    if (era->client_name) {
        //  kept for the execution log; cut back to a whole UTF-8 character
        size_t len = strnlen (era->client_name, sizeof call->client_name - 1);
        while (len && ((unsigned char) era->client_name [len] & 0xC0) == 0x80)
            len--;
        memcpy (call->client_name, era->client_name, len);
        call->client_name [len] = 0;
    }
    for (const method_t *entry = s_methods; entry->method; entry++)
        if (strcmp (entry->method, call->method) == 0) {
            entry->handler (call);
            return;
        }
    mcp_call_refuse (call, HTTP_STATUS_NOT_FOUND, MCP_METHOD_NOT_FOUND,
                     "Method not found", NULL);
}
