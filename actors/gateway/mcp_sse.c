/*  mcp_sse.c — GET /mcp: the server-to-client SSE stream of a session.

    One stream per session (a second GET gets 409 in mcp_endpoint.c, as
    the TypeScript SDK does; the transport forbids sending one message on
    two streams, so one stream is also the simple way to obey that) —
    except a GET that resumes with Last-Event-ID, which replaces the old
    stream: a client that resumes has lost it, even if TCP has not told us
    yet. The stream carries:

      id: 0                         first, on a new stream of a 2025-11-25
      data:                         session: a priming event (the newest
                                    id), so that a client that loses the
                                    stream before any event can resume
      ": keepalive"                 a comment every keepalive_ms (15 s by
                                    default), which also keeps the session
                                    alive and refreshes an old catalog
      id: 42
      event: message
      data: {"jsonrpc":"2.0","method":"notifications/tools/list_changed"}
                                    when the callable tool list changes

    Every event has an id (mcp_events.h: one numbering, the last 256 events
    kept). A GET with Last-Event-ID n is first sent the kept events after n
    that belong to the session; when n is too old, one fresh list_changed
    (with the newest id) stands for what was lost.

    The stream stays open until the client closes it, its session ends
    (DELETE, expiry, eviction), or the client stops reading and more than
    HTTP_REQ_STREAM_MAX bytes would wait for it (then it resumes with
    Last-Event-ID like after any other loss). lws's HTTP timeout does not
    apply to streams (http_req_stream_begin).
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

//  One event as SSE text (a zsys_sprintf string).
static char *
s_event_text (uint64_t id, const char *data)
{
    return zsys_sprintf ("id: %" PRIu64 "\nevent: message\ndata: %s\n\n", id, data);
}

typedef struct {
    http_req_t *req;
    bool        failed;         //  the stream refused a write
} replay_t;

static void
s_replay_one (void *arg, uint64_t id, const char *data)
{
    replay_t *replay = arg;
    char *text = replay->failed ? NULL : s_event_text (id, data);
    if (text && http_req_stream_write (replay->req, text, strlen (text)))
        replay->failed = true;
    zstr_free (&text);
}

//  The events after `after` the session has not seen, or the fresh
//  list_changed that stands for them when they are gone.
static void
s_replay (http_req_t *req, mcp_t *mcp, mcp_session_t *session, uint64_t after)
{
    if (after < session->events_from)
        after = session->events_from;       //  older ones were never its own
    replay_t replay = { req, false };
    if (mcp_events_since (mcp->events, after, s_replay_one, &replay) == 0) {
        if (replay.failed)
            http_req_stream_end (req);
        return;
    }
    uint64_t newest = mcp_events_last (mcp->events);
    log_warn ("mcp session %.8s…: Last-Event-ID %" PRIu64 " is not among the %d "
              "events kept (newest %" PRIu64 "): sending one fresh list_changed "
              "instead (%" PRIu64 " such gaps so far)", session->id, after,
              MCP_EVENTS_REPLAY, newest, mcp_events_gaps (mcp->events));
    char *text = s_event_text (newest, "{\"jsonrpc\":\"2.0\",\"method\":"
                               "\"notifications/tools/list_changed\"}");
    if (http_req_stream_write (req, text, strlen (text)))
        http_req_stream_end (req);
    zstr_free (&text);
}

void
mcp_sse_open (http_req_t *req, mcp_session_t *session, bool resume,
              uint64_t last_event_id)
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
    if (resume)
        s_replay (req, mcp, session, last_event_id);
    else
    if (strcmp (session->protocol, "2025-11-25") >= 0) {
        //  older clients may not expect an event without data
        uint64_t newest = mcp_events_last (mcp->events);
        char *priming = zsys_sprintf ("id: %" PRIu64 "\ndata: \n\n",
                                      newest > session->events_from
                                      ? newest : session->events_from);
        http_req_stream_write (req, priming, strlen (priming));
        zstr_free (&priming);
    }
    log_debug ("mcp session %.8s…: SSE stream open%s (%zu open)", session->id,
               resume ? ", resumed" : "", mcp->streams);
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
    //  kept even with no stream open: a client may be about to resume
    json_t *message = json_pack ("{s:s, s:s}", "jsonrpc", "2.0", "method", method);
    char *data = json_dumps (message, JSON_COMPACT);
    json_decref (message);
    if (!data)
        return;
    uint64_t id = mcp_events_add (self->events, data);
    char *event = s_event_text (id, data);
    free (data);
    if (!self->streams) {
        zstr_free (&event);
        return;
    }
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
