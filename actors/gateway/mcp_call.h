/*  mcp_call.h — one JSON-RPC request over POST /mcp, while it is handled.

    The endpoint makes a call for every POST it accepts, collects the body
    into it, and hands the parsed message to mcp_rpc. Handlers (mcp_rpc,
    the management tools, user tools) then work asynchronously:

      mcp_call_bus          send a bus request; its reply comes back to a
                            callback with the tag given, decoded
      mcp_call_need_catalog continue when the catalog cache is fresh (now,
                            or when the fetch it started ends)
      mcp_call_result / mcp_call_error / mcp_call_tool_*
                            answer, once; later replies are dropped

    If the client goes away, the HTTP request and with it the call are
    destroyed; bus replies that come later find no request and are
    dropped (the bridge's tokens are request ids). A backstop timer
    answers a call that nothing answered in time.
*/
#ifndef MCPBOX_GATEWAY_MCP_CALL_H
#define MCPBOX_GATEWAY_MCP_CALL_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "bus_json.h"
#include "http_chunked.h"
#include "mcp.h"

//  JSON-RPC error codes.
#define MCP_PARSE_ERROR         (-32700)
#define MCP_INVALID_REQUEST     (-32600)
#define MCP_METHOD_NOT_FOUND    (-32601)
#define MCP_INVALID_PARAMS      (-32602)
#define MCP_INTERNAL_ERROR      (-32603)
#define MCP_SERVER_ERROR        (-32000)
#define MCP_SESSION_NOT_FOUND   (-32001)

//  Bus timeouts of the calls we make.
#define MCP_BUS_TIMEOUT_MS      10000       //  registry / approval reads
#define MCP_BUS_SLOW_MS         25000       //  writes that validate code
#define MCP_BACKSTOP_MS         60000       //  answer anyway after this

typedef struct _mcp_call_t mcp_call_t;

//  A bus reply (decoded; freed after the callback returns).
typedef void (mcp_bus_fn) (mcp_call_t *call, bus_json_t *reply, intptr_t tag);
//  The catalog is fresh (ok) or could not be refreshed.
typedef void (mcp_catalog_fn) (mcp_call_t *call, bool ok);

struct _mcp_call_t {
    http_req_t     *req;            //  the HTTP request (owns this call)
    mcp_t          *mcp;
    //  the body as it arrives
    char           *body;           //  owned, size bytes (+ NUL)
    size_t          size;
    size_t          cap;
    bool            chunked;        //  Transfer-Encoding: chunked
    http_chunked_t  decoder;
    bool            dispatched;     //  the body was handed on
    //  request headers kept for after the body
    char            session_id [MCP_SESSION_ID_LEN + 2];  //  "" if absent
    bool            session_header; //  Mcp-Session-Id was present
    char            protocol [40];  //  MCP-Protocol-Version, "" if absent
    bool            protocol_header;
    char            method_header [64];     //  Mcp-Method, "" if absent
    bool            has_method_header;
    char            name_header [1024];     //  Mcp-Name, "" if absent
    bool            has_name_header;
    //  the 2026 era (mcp_era.h): stateless, results carry resultType
    bool            modern;
    //  the message
    json_t         *message;        //  owned
    json_t         *id;             //  borrowed from message
    const char     *method;         //  borrowed
    json_t         *params;         //  borrowed object, or NULL
    char            client_name [64];   //  the session's MCP client, "" if unknown
    //  tools/call
    const char     *tool_name;      //  borrowed from params
    json_t         *args;           //  borrowed object
    //  asynchronous work
    struct mcp_pending *pending;    //  bus requests in flight
    size_t          pending_count;
    size_t          pending_cap;
    mcp_catalog_fn *on_catalog;     //  waiting for the catalog, or NULL
    void           *ctx;            //  handler state
    void          (*ctx_free) (void *ctx);
    void           *calls_handle;   //  in mcp->calls, or NULL
    //  replaces the backstop's answer (a subscriptions/listen stream's
    //  keepalive), or NULL
    void          (*on_timer) (mcp_call_t *call);
    //  progress and log lines of a running user tool (mcp_notice.h): once
    //  one is sent, the POST is answered as an SSE stream whose last event
    //  is the response
    const json_t   *progress_token; //  params._meta.progressToken, or NULL
    int             log_rank;       //  the client's log level; -1 none
    bool            notify_stream;  //  answering as a stream of notifications
    bool            final_sent;     //  the stream's response is written
    int64_t         backstop_at;    //  gateway_now_ms when the backstop fires
    uint64_t        notices_sent;   //  written on the stream
    uint64_t        notices_dropped;//  malformed, or the stream refused them
    //  tools/call figures (metrics.h): the tool's resolved name ("" until
    //  resolved), an outcome set before answering (-1: from the answer),
    //  whether it was counted, and when the call was dispatched
    char            metric_tool [72];
    int             metric_outcome;
    bool            metric_counted;
    int64_t         started_us;
};

//  The endpoint's handler hooks for a POST (set by mcp_endpoint.c).
extern const http_handler_t mcp_call_handler;

mcp_call_t *mcp_call_new (http_req_t *req, mcp_t *mcp);

//  Send {"op": op, ...fields} to service. 0 when sent; -1 when it could
//  not be (fn has then already been called with an `unavailable` reply).
int   mcp_call_bus (mcp_call_t *call, const char *service, const char *op,
                    const json_t *fields, int timeout_ms, mcp_bus_fn *fn,
                    intptr_t tag);
//  A request of a session: findable by notifications/cancelled.
void  mcp_call_track (mcp_call_t *call);
//  The client cancelled it: no response for its id (HTTP 202, empty), and
//  every bus request it has in flight is cancelled down to the worker (a
//  sandbox run's child is killed).
void  mcp_call_cancel (mcp_call_t *call);

//  fn runs now if the catalog is fresh, else when the refetch ends.
void  mcp_call_need_catalog (mcp_call_t *call, mcp_catalog_fn *fn);
//  The catalog cache's ready callback, routed here by the endpoint.
void  mcp_call_catalog_ready (mcp_call_t *call, bool ok);

//  A notice about a bus request of this call (mcp_notice.h): rendered for
//  the client and written on the POST's stream (begun with the first one).
void  mcp_call_notice (mcp_call_t *call, const void *body, size_t size);

//  What became of the tool's notices: the executor's counts (its reply's
//  "notices": sent, filtered, rate_limited, truncated, refused, lost) plus
//  the gateway's (delivered on the stream, dropped here). A new object,
//  or NULL when the tool sent none.
json_t *mcp_call_notices_summary (mcp_call_t *call, const json_t *reply_body);

//  Handler state, freed with the call.
void  mcp_call_set_ctx (mcp_call_t *call, void *ctx, void (*free_fn) (void *));
bool  mcp_call_answered (mcp_call_t *call);
//  Arm the backstop timer (replaces the default one).
void  mcp_call_set_backstop (mcp_call_t *call, int timeout_ms);

//  --- answers (the first one wins) ------------------------------------------

//  {"jsonrpc", "id", "result"}: takes the reference.
void  mcp_call_result (mcp_call_t *call, json_t *result);
//  {"jsonrpc", "id", "error": {code, message, data?}} with HTTP 200; takes
//  data's reference.
void  mcp_call_error (mcp_call_t *call, int code, const char *message,
                      json_t *data);
//  A tool result: JSON text content plus structuredContent (takes the
//  reference to object).
void  mcp_call_tool_ok (mcp_call_t *call, json_t *object);
//  A tool result with isError true and this message.
void  mcp_call_tool_error (mcp_call_t *call, const char *fmt, ...)
      __attribute__ ((format (printf, 2, 3)));
//  A tool result for a failed bus request: the peer's message for the
//  codes a user can act on, a plain sentence for the others (never an
//  internal error's text).
void  mcp_call_tool_bus_error (mcp_call_t *call, const char *service,
                               const bus_json_t *reply);
//  The same text, for handlers that build their own result.
void  mcp_bus_error_text (const char *service, const bus_json_t *reply,
                          char *out, size_t size);

//  A refusal with an HTTP status and the request's id (2026 era: the
//  status table of mcp_era.h, -32601 with 404); takes data's reference.
void  mcp_call_refuse (mcp_call_t *call, int status, int code,
                       const char *message, json_t *data);

//  An HTTP-level refusal with a JSON-RPC error body that has id null
//  (and the endpoint's common headers). For the endpoint and mcp_rpc.
void  mcp_http_error (http_req_t *req, int status, int code, const char *message);
//  The endpoint's common response headers (CORS for an allowed Origin).
void  mcp_add_common_headers (http_req_t *req);

#endif
