/*  mcp.h — the MCP endpoint's shared state, and its doors to the rest of
    the gateway.

    /mcp speaks MCP Streamable HTTP in both protocol generations: the
    stateless 2026-07-28 (per-request _meta, server/discover,
    subscriptions/listen) and, with initialize and sessions, 2025-11-25,
    2025-06-18 and 2025-03-26. mcp_era.h tells them apart. Its parts, one
    concern per file:

      mcp_endpoint.c     HTTP rules of /mcp: Host/Origin, methods, Accept,
                         Content-Type, body framing and limits, sessions
                         and protocol-version headers, DELETE, CORS
      mcp_era.c          which generation a message speaks; 2026 rules
      mcp_rpc.c          JSON-RPC: message shape, initialize, ping,
                         tools/list (pagination), tools/call routing
      mcp_modern.c       the 2026 era's methods and server/discover
      mcp_listen.c       2026 subscriptions/listen streams
      mcp_call.c         one POST in flight: bus requests with callbacks,
                         waiting for the catalog, writing the answer
      mcp_sse.c          GET streams: keepalives, list_changed pushes,
                         resumption with Last-Event-ID
      mcp_events.c       the numbered events, the last 256 kept for replay
      mcp_session.c      the session table
      mcp_tools*.c       the management tools (table and handlers)
      mcp_user_tools.c   calling a user tool in the sandbox
      catalog_cache.c    which user tools are callable
      bus_json.c         bus replies as jansson values
      json_schema_check.c, http_chunked.c, mcp_http_rules.c, mcp_cursor.c
                         pure helpers, unit-tested

    Everything here runs on the lws thread. The bus is reached only
    through the bridge (asynchronously); nothing waits on a database.
*/
#ifndef MCPBOX_GATEWAY_MCP_H
#define MCPBOX_GATEWAY_MCP_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <czmq.h>

#include "gateway.h"
#include "http_req.h"
#include "catalog_cache.h"
#include "mcp_http_rules.h"
#include "mcp_events.h"
#include "mcp_session.h"

#define MCP_BODY_MAX            (1u << 20)      //  a POST body, bytes
#define MCP_PAGE_SIZE           100             //  tools/list page
#define MCP_SERVER_NAME         "mcpbox"
#define HTTP_STATUS_ACCEPTED    202             //  not in lws's enum

//  Settings read from the configuration (main.c).
typedef struct {
    const char *allowed_hosts;      //  comma-separated, see mcp_http_rules.h
    const char *allowed_origins;
    const char *remote_hosts;       //  the remote listener's Hosts besides
                                    //  loopback (public host, allowed_hosts)
    int64_t     session_idle_ms;    //  MCP_SESSION_IDLE_MS by default
    size_t      sessions_max;       //  MCP_SESSION_MAX by default
    int64_t     keepalive_ms;       //  SSE comment interval, 15 s default
} mcp_settings_t;

struct _mcp_t {
    gateway_t       *gateway;       //  the process state (requests, bridge)
    mcp_sessions_t  *sessions;      //  the MCP sessions
    catalog_cache_t *catalog;       //  callable user tools
    mcp_allow_t     *allow;         //  Host / Origin allowlist
    mcp_allow_t     *remote_allow;  //  the same on the remote listener
    int64_t          keepalive_ms;  //  SSE keepalive interval
    int64_t          last_sweep_ms; //  last idle-session sweep
    size_t           streams;       //  SSE streams open
    mcp_events_t    *events;        //  numbered SSE events, kept for replay
    zlistx_t        *calls;         //  mcp_call_t with an id, unanswered (borrowed)
    zlistx_t        *listeners;     //  mcp_call_t of open subscriptions/listen
                                    //  streams (borrowed; mcp_listen.c)
    json_t          *tool_schemas;  //  management tools' input schemas
    json_t          *tool_outputs;  //  and their output schemas
    size_t           output_faults; //  results that broke their output schema
    uint64_t         rate_limited;  //  tools/call refused by the rate limit
    uint64_t         rate_unchecked;//  approval did not answer rate.take: let through
};
typedef struct _mcp_t mcp_t;

//  NULL with a message in err if a setting is malformed.
mcp_t *mcp_new (gateway_t *gateway, const mcp_settings_t *settings,
                char *err, size_t errlen);
void   mcp_destroy (mcp_t **self_p);

//  The route handler for /mcp (every method).
void   mcp_endpoint_start (http_req_t *req);

//  From the server's wake-up: a bus completion that is not an HTTP
//  request's (catalog fetches), and an event.
void   mcp_on_completion (mcp_t *self, uint64_t token, const void *body,
                          size_t size);
void   mcp_on_event (mcp_t *self, const char *topic, bool lost);

//  --- between the mcp_* files ----------------------------------------------

//  The Host / Origin allowlist of the listener the request came in on.
mcp_allow_t *mcp_allow_for (http_req_t *req);
//  Who a session belongs to, for this request (mcp_session_t.owner).
void   mcp_session_owner (http_req_t *req, char *out, size_t size);

//  mcp_endpoint.c: the session rules of every request but initialize
//  (missing id 400, unsupported MCP-Protocol-Version 400, unknown or
//  expired session, or one another caller opened, 404). The session
//  (touched), or NULL when a refusal was sent.
mcp_session_t *mcp_endpoint_session (http_req_t *req, mcp_t *mcp,
                                     const char *session_id, bool session_header,
                                     const char *protocol, bool protocol_header);

//  mcp_sse.c: open a GET stream for a session (checks done; resume: the
//  request had Last-Event-ID last_event_id), push a notification to every
//  open stream (and keep it for replay), close a session's stream.
void   mcp_sse_open (http_req_t *req, mcp_session_t *session, bool resume,
                     uint64_t last_event_id);
void   mcp_sse_broadcast (mcp_t *self, const char *method);
void   mcp_sse_close (mcp_t *self, mcp_session_t *session);

//  mcp_listen.c: push a list-changed notification to every 2026
//  subscriptions/listen stream that asked for it.
void   mcp_listen_broadcast (mcp_t *self, const char *method);

#endif
