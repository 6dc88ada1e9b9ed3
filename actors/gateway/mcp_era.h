/*  mcp_era.h — which MCP protocol generation a POST /mcp message speaks,
    and the 2026-07-28 request rules, as a pure function (unit-tested and
    fuzzed; no lws here).

    /mcp serves both generations (the specification's dual-era server):

      2025 era (2025-11-25, -06-18, -03-26): initialize, Mcp-Session-Id,
          GET stream — mcp_rpc.c and mcp_endpoint.c as before.
      2026 era (2026-07-28): stateless; every request carries
          params._meta["io.modelcontextprotocol/protocolVersion"] and
          ["io.modelcontextprotocol/clientCapabilities"], and the headers
          MCP-Protocol-Version, Mcp-Method and (tools/call, prompts/get,
          resources/read) Mcp-Name.

    Classification is body-first, with the MCP-Protocol-Version header as
    a cross-check. In this order (the first failing rule answers):

      _meta names a version and the header names another   400  -32020
      _meta names a 2025 version                           2025 era
      _meta names a version we do not speak                400  -32022
                                             data {supported, requested}
      no version in _meta, header 2026-07-28, a request    400  -32602
      no version in _meta otherwise                        2025 era
      then, 2026 requests only (notifications pass):
      _meta.clientCapabilities not an object, clientInfo
      or logLevel malformed                                400  -32602
      MCP-Protocol-Version or Mcp-Method missing, or
      Mcp-Method not the body's method (case-sensitive)    400  -32020
      Mcp-Name missing or not the body's params.name
      (params.uri for resources/read); a value may be
      "=?base64?...?=" (UTF-8 in base64)                   400  -32020

    Header values are expected trimmed of surrounding whitespace.
*/
#ifndef MCPBOX_GATEWAY_MCP_ERA_H
#define MCPBOX_GATEWAY_MCP_ERA_H

#include <stdbool.h>
#include <jansson.h>

#define MCP_PROTOCOL_MODERN         "2026-07-28"
#define MCP_HEADER_MISMATCH         (-32020)
#define MCP_MISSING_CLIENT_CAP      (-32021)
#define MCP_UNSUPPORTED_VERSION     (-32022)

#define MCP_META_PROTOCOL     "io.modelcontextprotocol/protocolVersion"
#define MCP_META_CAPABILITIES "io.modelcontextprotocol/clientCapabilities"
#define MCP_META_CLIENT_INFO  "io.modelcontextprotocol/clientInfo"
#define MCP_META_LOG_LEVEL    "io.modelcontextprotocol/logLevel"
#define MCP_META_SERVER_INFO  "io.modelcontextprotocol/serverInfo"
#define MCP_META_SUBSCRIPTION "io.modelcontextprotocol/subscriptionId"

//  The request's headers; a NULL value is an absent header.
typedef struct {
    const char *protocol;       //  MCP-Protocol-Version
    const char *method;         //  Mcp-Method
    const char *name;           //  Mcp-Name
} mcp_era_headers_t;

typedef struct {
    bool        modern;         //  the 2026 era (else 2025)
    int         status;         //  0: go on; else the HTTP status of the refusal
    int         code;           //  its JSON-RPC error code
    char        message [200];  //  its message
    json_t     *data;           //  its error data, or NULL (owned: the caller
                                //  takes it or json_decref's it)
    const char *client_name;    //  2026: _meta clientInfo.name, or NULL
    const char *log_level;      //  2026: _meta logLevel, or NULL (borrowed)
} mcp_era_t;

//  message: a JSON-RPC 2.0 object whose shape was checked (method a string
//  unless it is a response; params an object or absent). Fills out.
void mcp_era_classify (const json_t *message, const mcp_era_headers_t *headers,
                       mcp_era_t *out);

//  The versions /mcp speaks, newest first, as a new JSON array.
json_t *mcp_era_supported (void);

#endif
