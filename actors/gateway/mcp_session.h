/*  mcp_session.h — the MCP sessions of one gateway.

    An MCP session starts with a successful `initialize` and is named by
    its Mcp-Session-Id: 32 random bytes from libsodium, in lowercase hex
    (64 visible ASCII characters, as the transport requires). It holds
    the negotiated protocol version and the id of the one SSE stream
    (GET /mcp) that may be open for it.

    A session ends when the client DELETEs it, when it has been idle for
    longer than the idle limit (an open SSE stream counts as activity),
    or when the table is full and a new session needs its place: then the
    least recently used one goes (its client gets 404 and initializes
    again, which the transport defines as the recovery). Every end goes
    through the drop callback, so the owner can close the SSE stream.

    Lives on the lws thread; not thread-safe. Sessions are in memory only:
    a gateway restart ends them all (clients get 404 and re-initialize).
*/
#ifndef MCPBOX_GATEWAY_MCP_SESSION_H
#define MCPBOX_GATEWAY_MCP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MCP_SESSION_ID_LEN      64          //  hex characters
#define MCP_SESSION_IDLE_MS     (60 * 60 * 1000)
#define MCP_SESSION_MAX         10000
#define MCP_PROTOCOL_LEN        16

typedef struct {
    char     id [MCP_SESSION_ID_LEN + 1];   //  hex, NUL-terminated
    char     protocol [MCP_PROTOCOL_LEN];   //  negotiated version
    int64_t  created_ms;                    //  monotonic
    int64_t  last_seen_ms;                  //  monotonic, last activity
    uint64_t sse_request;                   //  open GET stream's request id, or 0
    uint64_t events_from;                   //  newest SSE event id at its start
    bool     initialized;                   //  notifications/initialized seen
    char     client_name [64];              //  initialize's clientInfo.name, cut
    int      log_rank;                      //  logging/setLevel's level (0 debug ..
                                            //  7 emergency); -1 never set: no logs
    char     owner [112];                   //  who opened it: "" on the local port,
                                            //  "remote:<kind>:<id>" on the remote
                                            //  listener; only that caller may use it
} mcp_session_t;

typedef struct _mcp_sessions_t mcp_sessions_t;

//  Called as a session ends (before it is freed): close what it holds.
typedef void (mcp_session_drop_fn) (void *arg, mcp_session_t *session);

mcp_sessions_t *mcp_sessions_new (size_t max, int64_t idle_ms,
                                  mcp_session_drop_fn *on_drop, void *arg);
//  Drops every session (without calling on_drop).
void            mcp_sessions_destroy (mcp_sessions_t **self_p);

//  A new session, never NULL (the least recently used one makes room).
mcp_session_t  *mcp_sessions_create (mcp_sessions_t *self,
                                     const char *protocol, int64_t now_ms);
//  The live session with this id, touched; NULL if unknown, malformed or
//  expired (an expired one is ended on the way).
mcp_session_t  *mcp_sessions_lookup (mcp_sessions_t *self, const char *id,
                                     int64_t now_ms);
//  End a session. 0, or -1 if unknown.
int             mcp_sessions_remove (mcp_sessions_t *self, const char *id);
//  End every session idle for too long. Returns how many ended.
size_t          mcp_sessions_sweep (mcp_sessions_t *self, int64_t now_ms);
size_t          mcp_sessions_size (mcp_sessions_t *self);

//  Visit every session (the visitor must not add or remove sessions).
typedef void (mcp_session_visit_fn) (void *arg, mcp_session_t *session);
void            mcp_sessions_foreach (mcp_sessions_t *self,
                                      mcp_session_visit_fn *visit, void *arg);

//  True if text is MCP_SESSION_ID_LEN lowercase hex characters.
bool            mcp_session_id_valid (const char *text);

#endif
