/*  mcp_listen.c — subscriptions/listen: the 2026 era's stream of
    list-changed notifications (what a 2025 client gets on its GET stream).

    The POST is answered with 200 text/event-stream and kept open:

      event: message
      data: {"jsonrpc":"2.0","method":"notifications/subscriptions/acknowledged",
             "params":{"notifications":{"toolsListChanged":true},
                       "_meta":{"io.modelcontextprotocol/subscriptionId":<id>}}}
                                    first, always: the filter we honour (only
                                    toolsListChanged; prompts and resources
                                    are not offered, so never acknowledged)
      ": keepalive"                 every keepalive_ms; also refreshes an old
                                    catalog, as the 2025 streams do
      event: message
      data: {"jsonrpc":"2.0","method":"notifications/tools/list_changed",
             "params":{"_meta":{"io.modelcontextprotocol/subscriptionId":<id>}}}
                                    when the callable tool list changes, only
                                    if the client asked for toolsListChanged

    The change events are the ones that feed the 2025 streams
    (mcp_endpoint.c's catalog-changed callback). There is no resumption in
    this era: a client that loses the stream lists again and listens again.

    Bounds: at most MCP_LISTEN_MAX streams (one more is refused with 503
    and counted); a client that stops reading is cut off at
    HTTP_REQ_STREAM_MAX queued bytes, like a 2025 stream.
*/
#include <czmq.h>
#include <string.h>

#include "log.h"
#include "mcp_rpc.h"

#define MCP_LISTEN_MAX  256

typedef struct {
    mcp_t  *mcp;
    void   *handle;             //  in mcp->listeners
    bool    tools;              //  the client asked for toolsListChanged
} listen_t;

static size_t s_refused;        //  streams refused at the bound, so far

static void
s_listen_free (void *arg)
{
    listen_t *self = arg;
    zlistx_delete (self->mcp->listeners, self->handle);
    free (self);
}

//  One notification on the stream; -1 if the stream refused it (ended).
static int
s_send (mcp_call_t *call, const char *method, json_t *params)
{
    json_t *meta = json_object ();
    json_object_set (meta, MCP_META_SUBSCRIPTION, call->id);
    json_object_set_new (params, "_meta", meta);
    json_t *message = json_pack ("{s:s, s:s, s:o}", "jsonrpc", "2.0",
                                 "method", method, "params", params);
    char *data = json_dumps (message, JSON_COMPACT);
    json_decref (message);
    if (!data)
        return -1;
    char *event = zsys_sprintf ("event: message\ndata: %s\n\n", data);
    free (data);
    int rc = http_req_stream_write (call->req, event, strlen (event));
    zstr_free (&event);
    if (rc)
        http_req_stream_end (call->req);
    return rc;
}

static void
s_keepalive (mcp_call_t *call)
{
    mcp_t *mcp = call->mcp;
    static const char comment [] = ": keepalive\n\n";
    if (http_req_stream_write (call->req, comment, sizeof comment - 1)) {
        http_req_stream_end (call->req);
        return;
    }
    catalog_cache_refresh (mcp->catalog, 60000, gateway_now_ms ());
    http_req_set_timer (call->req, (int) mcp->keepalive_ms);
}

void
mcp_listen_open (mcp_call_t *call)
{
    mcp_t *mcp = call->mcp;
    json_t *filter = json_object_get (call->params, "notifications");
    if (!json_is_object (filter)) {
        mcp_call_error (call, MCP_INVALID_PARAMS,
                        "Invalid params: notifications (an object) is required", NULL);
        return;
    }
    if (zlistx_size (mcp->listeners) >= MCP_LISTEN_MAX) {
        s_refused++;
        log_warn ("mcp: subscriptions/listen refused, %d streams open "
                  "(%zu refused so far)", MCP_LISTEN_MAX, s_refused);
        mcp_call_refuse (call, HTTP_STATUS_SERVICE_UNAVAILABLE, MCP_SERVER_ERROR,
                         "Service Unavailable: too many subscription streams open; "
                         "try again later", NULL);
        return;
    }
    listen_t *self = calloc (1, sizeof *self);
    assert (self);
    self->mcp = mcp;
    self->tools = json_is_true (json_object_get (filter, "toolsListChanged"));
    self->handle = zlistx_add_end (mcp->listeners, call);
    mcp_call_set_ctx (call, self, s_listen_free);
    call->on_timer = s_keepalive;

    http_req_add_header (call->req, "cache-control:", "no-cache, no-transform");
    http_req_add_header (call->req, "x-accel-buffering:", "no");
    http_req_stream_begin (call->req, HTTP_STATUS_OK, "text/event-stream");
    http_req_set_timer (call->req, (int) mcp->keepalive_ms);
    json_t *honoured = self->tools ? json_pack ("{s:b}", "toolsListChanged", 1)
                                   : json_object ();
    s_send (call, "notifications/subscriptions/acknowledged",
            json_pack ("{s:o}", "notifications", honoured));
    log_debug ("mcp: subscriptions/listen open (tools %s), %zu open",
               self->tools ? "yes" : "no", zlistx_size (mcp->listeners));
}

void
mcp_listen_broadcast (mcp_t *self, const char *method)
{
    bool tools = strcmp (method, "notifications/tools/list_changed") == 0;
    //  collect first: a failed write ends a stream, which may free its call
    size_t count = zlistx_size (self->listeners);
    if (!count)
        return;
    uint64_t *ids = calloc (count, sizeof *ids);
    assert (ids);
    size_t n = 0;
    for (mcp_call_t *call = zlistx_first (self->listeners); call && n < count;
         call = zlistx_next (self->listeners)) {
        listen_t *listen = call->ctx;
        if (listen && listen->tools == tools && tools)
            ids [n++] = http_req_id (call->req);
    }
    for (size_t i = 0; i < n; i++) {
        http_req_t *req = idmap_lookup (self->gateway->requests, ids [i]);
        mcp_call_t *call = req ? http_req_state (req) : NULL;
        if (call && call->ctx && call->on_timer == s_keepalive)
            s_send (call, method, json_object ());
    }
    free (ids);
}
