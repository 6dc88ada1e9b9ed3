/*  mcp_client.h — an MCP client for external sources (libcurl, through
    http_fetch), run by the executor parent for `source` jobs.

    Two transports:
      - Streamable HTTP (2025-03-26 and later): each JSON-RPC message is a
        POST to the source's URL; the answer is one JSON body or an SSE
        stream read until the response to our request arrives. The session
        (`Mcp-Session-Id` from the initialize answer) and the negotiated
        `MCP-Protocol-Version` go on every later request; a 404 on a
        session is a lost session, and the request is retried once after a
        fresh initialize. The session is ended with DELETE.
      - the legacy HTTP+SSE transport (2024-11-05): a GET opens an event
        stream (read on its own thread); its `endpoint` event names where
        to POST (same origin as the stream, or it is refused), and the
        answers come back as `message` events on the stream.

    Version negotiation: initialize offers MCP_CLIENT_VERSION_LATEST; the
    source's answer must be one of MCP_CLIENT_VERSIONS, or the source is
    refused. Every request passes http_fetch's rules: the URL, each
    redirect hop and each resolved address are checked against the job's
    network rules and the SSRF rules, and the checked address is pinned.

    Bounds, each a clean refusal: one answer (JSON body or SSE stream) at
    most response_max bytes; an SSE event's data at most response_max; the
    legacy stream at most MCP_CLIENT_STREAM_MAX bytes in all; everything
    before the client's deadline (an endless stream ends there);
    tools/list at most MCP_CLIENT_PAGES_MAX pages and MCP_CLIENT_TOOLS_MAX
    tools. Answers are checked as JSON-RPC 2.0 (jsonrpc "2.0", our id, one
    of result (an object) or error ({code: integer, message: string})).

    Requests of the source's own that arrive while we wait for an answer
    (a `ping`, `sampling/createMessage`, `elicitation/create`, `roots/list`
    sent on the answer's SSE stream, or on the legacy stream) are answered
    as a client that declared no capability must answer them: `ping` with
    an empty result, anything else with error -32601 (method not found),
    POSTed back on the session (legacy: to the endpoint). At most
    MCP_CLIENT_ASKS_MAX of them per conversation: past that the request
    fails with the reason. The source's notifications are read and dropped.

    One client is used by one thread (the legacy transport's reader thread
    is internal).
*/
#ifndef MCPBOX_MCP_CLIENT_H
#define MCPBOX_MCP_CLIENT_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "ssrf.h"

#define MCP_CLIENT_VERSION_LATEST   "2025-11-25"
#define MCP_CLIENT_VERSIONS         { "2025-11-25", "2025-06-18", "2025-03-26", \
                                      "2024-11-05", NULL }
#define MCP_CLIENT_RESPONSE_MAX     (4u << 20)      //  bytes of one answer
#define MCP_CLIENT_STREAM_MAX       (16u << 20)     //  bytes of a legacy stream
#define MCP_CLIENT_PAGES_MAX        50              //  tools/list pages
#define MCP_CLIENT_TOOLS_MAX        1000            //  tools of one source
#define MCP_CLIENT_TOOL_NAME_MAX    255             //  bytes of a remote tool name
#define MCP_CLIENT_CURSOR_MAX       4096            //  bytes of a page cursor
#define MCP_CLIENT_SESSION_MAX      256             //  bytes of an Mcp-Session-Id
#define MCP_CLIENT_ERROR_MAX        512
#define MCP_CLIENT_ASKS_MAX         64              //  requests from the source per
                                                    //  conversation (ping, sampling..)
#define MCP_CLIENT_ASK_ID_MAX       256             //  bytes of such a request's string id

typedef enum {
    MCP_TRANSPORT_STREAMABLE_HTTP = 0,
    MCP_TRANSPORT_SSE
} mcp_transport_t;

typedef struct {
    const char        *url;             //  the source's endpoint
    mcp_transport_t    transport;
    const char        *auth_name;       //  a header sent with every request, or NULL
    const char        *auth_value;      //  its value (a credential: never logged)
    const net_rules_t *rules;           //  network rules (ssrf.h)
    int64_t            deadline_ms;     //  zclock_mono: nothing runs past it
    size_t             response_max;    //  0: MCP_CLIENT_RESPONSE_MAX
    const atomic_bool *cancel;          //  optional: set, and the client stops
} mcp_client_config_t;

typedef struct _mcp_client_t mcp_client_t;

//  Copies the config's strings. NULL when out of memory.
mcp_client_t *mcp_client_new (const mcp_client_config_t *config);
//  Ends the session (DELETE, legacy stream closed) and frees.
void          mcp_client_destroy (mcp_client_t **self_p);

//  Connects (legacy: opens the stream, waits for its endpoint) and runs
//  initialize + notifications/initialized. 0, or -1 with the reason.
int           mcp_client_connect (mcp_client_t *self, char *err, size_t errlen);
//  True when the source answered 401 to a request of this client (an
//  OAuth source's token to refresh, and the conversation to retry once).
bool          mcp_client_unauthorized (mcp_client_t *self);
//  The version the source answered, its serverInfo (borrowed), or NULL.
const char   *mcp_client_protocol (mcp_client_t *self);
json_t       *mcp_client_server_info (mcp_client_t *self);

//  One request: *result is its result object (caller decrefs). A JSON-RPC
//  error answer is -1 with "the source answered error CODE: message".
int           mcp_client_request (mcp_client_t *self, const char *method,
                                  json_t *params, json_t **result,
                                  char *err, size_t errlen);
int           mcp_client_ping (mcp_client_t *self, char *err, size_t errlen);

//  Every tool, following nextCursor: an array of {name, description,
//  input_schema[, title, annotations]} with each checked (a name of 1..255
//  bytes with no control character, unique; inputSchema an object).
int           mcp_client_list_tools (mcp_client_t *self, json_t **tools,
                                     char *err, size_t errlen);

//  One tools/list page (its result object) checked and appended to `all`
//  (an array of kept tools; `seen` an object of the names so far): 0, or
//  -1 with the reason (a bound, a malformed or duplicate tool). *next is
//  the page's nextCursor (borrowed) or NULL. Used by the fuzz target too.
int           mcp_client_tools_page (json_t *result, json_t *all, json_t *seen,
                                     const char **next, char *err, size_t errlen);

//  tools/call: *result is the CallToolResult object (content an array).
int           mcp_client_call_tool (mcp_client_t *self, const char *name,
                                    json_t *arguments, json_t **result,
                                    char *err, size_t errlen);

//  Checks one JSON-RPC answer to request `id`: 0 with *result borrowed
//  from msg; 1 when msg is not an answer to id (a notification, a
//  request from the server, another id); -1 with the reason when it is
//  malformed or an error answer. Used by the fuzz target too.
int           mcp_client_check_answer (json_t *msg, json_int_t id, json_t **result,
                                       char *err, size_t errlen);

//  A message from the source that is a request of its own: 1 with *reply
//  the answer to send back (caller decrefs); 0 when msg is not a request
//  (a notification, an answer); -1 with the reason when it is a malformed
//  request (method not a string, id neither an integer nor a string of at
//  most MCP_CLIENT_ASK_ID_MAX bytes). Used by the fuzz target too.
int           mcp_client_server_request (json_t *msg, json_t **reply,
                                         char *err, size_t errlen);

#endif
