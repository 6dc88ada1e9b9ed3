/*  mcp_http_rules.h — the header rules of the MCP endpoint, as pure
    functions on header values (no lws here, so they are unit-tested).

    Protocol versions: the ones we speak, newest first. A request without
    MCP-Protocol-Version is taken as MCP_PROTOCOL_ASSUMED (the transport
    spec's backwards-compatibility rule).

    Accept / Content-Type: media ranges compared case-insensitively,
    parameters ignored except q=0 (not acceptable) and a charset other
    than utf-8 (not JSON we read).

    Host / Origin (DNS-rebinding protection): the allowlist always holds
    localhost, 127.0.0.1 and [::1] with any port; `allowed_hosts` adds
    comma-separated entries "name" (any port) or "name:port", or "*" for
    any Host. An Origin is allowed when it is http(s) with an allowed host
    (any port) or equals an `allowed_origins` entry ("scheme://host[:port]",
    no port meaning any; "*" for any). A request with no Host is refused;
    a request with no Origin is not a browser's and passes that check.
*/
#ifndef MCPBOX_GATEWAY_MCP_HTTP_RULES_H
#define MCPBOX_GATEWAY_MCP_HTTP_RULES_H

#include <stdbool.h>
#include <stddef.h>

#define MCP_PROTOCOL_LATEST   "2025-11-25"
#define MCP_PROTOCOL_ASSUMED  "2025-03-26"

//  NULL-terminated, newest first.
extern const char *const mcp_protocol_versions [];

bool mcp_protocol_supported (const char *version);

//  True if the Accept value lists media_type ("text/event-stream").
bool mcp_accept_lists (const char *accept, const char *media_type);
//  True if the Content-Type value is application/json (UTF-8).
bool mcp_content_type_json (const char *content_type);

typedef struct _mcp_allow_t mcp_allow_t;

//  hosts / origins: the config strings (may be NULL or empty). NULL with
//  a message in err if an entry is malformed.
mcp_allow_t *mcp_allow_new (const char *hosts, const char *origins,
                            char *err, size_t errlen);
void         mcp_allow_destroy (mcp_allow_t **self_p);
bool         mcp_allow_host (mcp_allow_t *self, const char *host);
bool         mcp_allow_origin (mcp_allow_t *self, const char *origin);

#endif
