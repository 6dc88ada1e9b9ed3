/*  mcp_sse.c — GET /mcp: the server-to-client SSE stream of a session.

    One stream per session (a second GET gets 409 in mcp_endpoint.c, as
    the TypeScript SDK does; the transport forbids sending one message on
    two streams, so one stream is also the simple way to obey that). The
    stream carries:

      ": keepalive"                 a comment every keepalive_ms (15 s),
                                    which also keeps the session alive
      event: message
      data: {"jsonrpc":"2.0","method":"notifications/tools/list_changed"}
                                    when the callable tool list changes

    The stream has no resumption (no event ids): a client that reconnects
    simply gets a new stream, and then lists the tools again.

    It ends when the client closes it, when its session ends (DELETE,
    expiry, eviction), or when the client stops reading and more than
    HTTP_REQ_STREAM_MAX bytes would wait for it.
*/
#include <czmq.h>
#include <string.h>

#include "log.h"
#include "mcp.h"

typedef struct {
    mcp_t    *mcp;
    uint64_t  request;                          //  this stream's request id
    char      session_id [MCP_SESSION_ID_LEN + 1];
} stream_t;

static void
s_stream_free (void *state)
{
    stream_t *stream = state;
    mcp_t *mcp = stream->mcp;
    //  the session may be gone already; if not, it has no stream now
    mcp_session_t *session = mcp_sessions_lookup (mcp->sessions, stream->session_id,
                                                  gateway_now_ms ());
    if (session && session->sse_request == stream->request)
        session->sse_request = 0;
    if (mcp->streams)
        mcp->streams--;
    free (stream);
}

static void
s_keepalive (http_req_t *req)
{
    stream_t *stream = http_req_state (req);
    mcp_t *mcp = stream->mcp;
    int64_t now = gateway_now_ms ();
    mcp_session_t *session = mcp_sessions_lookup (mcp->sessions, stream->session_id, now);
    if (!session || session->sse_request != http_req_id (req)) {
        http_req_stream_end (req);
        return;
    }
    static const char comment [] = ": keepalive\n\n";
    if (http_req_stream_write (req, comment, sizeof comment - 1)) {
        http_req_stream_end (req);
        return;
    }
    //  streams are the clients that wait for list_changed: make sure a
    //  lost event does not leave them with an old list for long
    catalog_cache_refresh (mcp->catalog, 60000, now);
    http_req_set_timer (req, (int) mcp->keepalive_ms);
}

static const http_handler_t s_stream_handler = {
    .on_timer   = s_keepalive,
    .free_state = s_stream_free,
};

void
mcp_sse_open (http_req_t *req, mcp_session_t *session)
{
    mcp_t *mcp = http_req_gateway (req)->mcp;
    stream_t *stream = calloc (1, sizeof *stream);
    assert (stream);
    stream->mcp = mcp;
    stream->request = http_req_id (req);
    memcpy (stream->session_id, session->id, sizeof stream->session_id);
    http_req_set_handler (req, &s_stream_handler, stream);
    session->sse_request = http_req_id (req);
    mcp->streams++;
    http_req_add_header (req, "cache-control:", "no-cache, no-transform");
    http_req_add_header (req, "x-accel-buffering:", "no");
    http_req_add_header (req, "mcp-session-id:", session->id);
    http_req_stream_begin (req, HTTP_STATUS_OK, "text/event-stream");
    http_req_set_timer (req, (int) mcp->keepalive_ms);
    log_debug ("mcp session %.8s…: SSE stream open (%zu open)", session->id,
               mcp->streams);
}

typedef struct {
    mcp_t      *mcp;
    const char *event;
    size_t      size;
} push_t;

static void
s_push_one (void *arg, mcp_session_t *session)
{
    push_t *push = arg;
    if (!session->sse_request)
        return;
    http_req_t *req = idmap_lookup (push->mcp->gateway->requests, session->sse_request);
    if (!req) {
        session->sse_request = 0;
        return;
    }
    if (http_req_stream_write (req, push->event, push->size))
        http_req_stream_end (req);
}

void
mcp_sse_broadcast (mcp_t *self, const char *method)
{
    if (!self->streams)
        return;
    json_t *message = json_pack ("{s:s, s:s}", "jsonrpc", "2.0", "method", method);
    char *data = json_dumps (message, JSON_COMPACT);
    json_decref (message);
    char *event = data ? zsys_sprintf ("event: message\ndata: %s\n\n", data) : NULL;
    free (data);
    if (!event)
        return;
    push_t push = { self, event, strlen (event) };
    mcp_sessions_foreach (self->sessions, s_push_one, &push);
    zstr_free (&event);
}

void
mcp_sse_close (mcp_t *self, mcp_session_t *session)
{
    if (!session->sse_request)
        return;
    http_req_t *req = idmap_lookup (self->gateway->requests, session->sse_request);
    session->sse_request = 0;
    if (req)
        http_req_stream_end (req);
}
