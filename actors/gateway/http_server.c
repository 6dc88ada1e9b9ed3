/*  http_server.c — the lws protocol callback: routes, request life, wake-ups.

    Request life, per lws connection (wsi) and its per-session data (pss):

      HTTP_CONFIRM_UPGRADE         h2c allowed, websocket refused (no /ws yet)
      LWS_CALLBACK_HTTP            new request: id, http_req_t, route it
      LWS_CALLBACK_HTTP_BODY       a request body: not used by any route yet,
                                   dropped (lws bounds its timing)
      LWS_CALLBACK_TIMER           the request's timer -> its handler
      LWS_CALLBACK_HTTP_WRITEABLE  write the answer; when all is written,
                                   end the request, then let lws go back to
                                   keep-alive (or close)
      HTTP_DROP_PROTOCOL,          the connection is re-bound for the next
      CLOSED_HTTP, WSI_DESTROY     request, or goes away: end the request

    "End" means: out of gateway->requests, destroyed, pss->req = NULL. It
    is idempotent, and after it no bus completion can reach that wsi,
    because completions find their request only through the map.

      LWS_CALLBACK_EVENT_WAIT_CANCELLED   drain the bridge's completions

    lws itself bounds the request line and headers (max_http_header_data,
    set in main.c) and answers malformed HTTP before we see it.

    Known limit of lws 4.1.6: an h2c upgrade on a request that carries a
    body (curl --http2 -d ...) loses the stream. GETs over h2c work. Routes
    that take bodies (/mcp) should refuse h2c in HTTP_CONFIRM_UPGRADE if
    clients are seen doing this.
*/
#include <string.h>

#include "log.h"
#include "http_req.h"
#include "http_health.h"
#include "http_server.h"

//  What lws keeps per connection for us.
typedef struct {
    http_req_t *req;        //  the request in flight, or NULL
} pss_t;

//  --- routes: the gateway's HTTP interface ---------------------------------

typedef void (route_fn) (http_req_t *req);

typedef struct {
    const char *path;       //  exact match
    const char *method;     //  the one method served
    route_fn   *start;      //  takes the request from here
} route_t;

static const route_t s_routes [] = {
    { "/health",    "GET",      http_health_start },
    { NULL,         NULL,       NULL }
};

static const route_t *
s_route_find (const char *path, size_t len)
{
    for (const route_t *route = s_routes; route->path; route++)
        if (strlen (route->path) == len && memcmp (route->path, path, len) == 0)
            return route;
    return NULL;
}

//  --- helpers -----------------------------------------------------------

static gateway_t *
s_gateway (struct lws *wsi)
{
    return lws_context_user (lws_get_context (wsi));
}

//  The request's method name (a static string), or NULL if lws saw none we
//  know. HTTP/1 carries it as the token lws matched; h2 (reached through an
//  h2c upgrade) as the :method pseudo-header.
static const char *
s_method (struct lws *wsi)
{
    static const char *names [] = {
        [LWSHUMETH_GET]     = "GET",
        [LWSHUMETH_POST]    = "POST",
        [LWSHUMETH_OPTIONS] = "OPTIONS",
        [LWSHUMETH_PUT]     = "PUT",
        [LWSHUMETH_PATCH]   = "PATCH",
        [LWSHUMETH_DELETE]  = "DELETE",
        [LWSHUMETH_CONNECT] = "CONNECT",
        [LWSHUMETH_HEAD]    = "HEAD",
    };
    const size_t count = sizeof names / sizeof names [0];
    char *uri;
    int uri_len;
    int method = lws_http_get_uri_and_method (wsi, &uri, &uri_len);
    if (method >= 0 && (size_t) method < count)
        return names [method];
    if (method == LWSHUMETH_COLON_PATH) {
        char text [16];
        if (lws_hdr_copy (wsi, text, sizeof text, WSI_TOKEN_HTTP_COLON_METHOD) > 0)
            for (size_t i = 0; i < count; i++)
                if (strcmp (text, names [i]) == 0)
                    return names [i];
    }
    return NULL;
}

static void
s_req_end (gateway_t *gateway, pss_t *pss)
{
    if (!pss || !pss->req)
        return;
    idmap_take (gateway->requests, http_req_id (pss->req));
    http_req_destroy (&pss->req);
}

//  --- handlers for each lws reason ----------------------------------------

static int
s_on_http (struct lws *wsi, pss_t *pss, const char *path, size_t len)
{
    gateway_t *gateway = s_gateway (wsi);
    if (!pss)
        return -1;
    s_req_end (gateway, pss);

    const char *method = s_method (wsi);
    uint64_t id = ++gateway->next_request_id;
    http_req_t *req = http_req_new (gateway, wsi, id,
                                    method && strcmp (method, "HEAD") == 0);
    idmap_insert (gateway->requests, id, req);
    pss->req = req;

    const route_t *route = path ? s_route_find (path, len) : NULL;
    if (!method)
        http_req_respond_error (req, HTTP_STATUS_BAD_REQUEST, "bad_request");
    else
    if (!route)
        http_req_respond_error (req, HTTP_STATUS_NOT_FOUND, "not_found");
    else
    if (strcmp (method, route->method) != 0) {
        http_req_add_header (req, "allow:", route->method);
        http_req_respond_error (req, HTTP_STATUS_METHOD_NOT_ALLOWED,
                                "method_not_allowed");
    }
    else
        route->start (req);
    log_debug ("http %s %.*s -> request %" PRIu64, method ? method : "?",
               (int) (len > 200 ? 200 : len), path ? path : "", id);
    return 0;
}

static int
s_on_writeable (struct lws *wsi, pss_t *pss)
{
    if (!pss || !pss->req)
        return 0;
    switch (http_req_write (pss->req)) {
        case HTTP_REQ_WAIT:
            return 0;
        case HTTP_REQ_FAILED:
            s_req_end (s_gateway (wsi), pss);
            return -1;
        case HTTP_REQ_DONE:
            break;
    }
    s_req_end (s_gateway (wsi), pss);
    return lws_http_transaction_completed (wsi) ? -1 : 0;
}

//  Hand every waiting completion to its request, if it is still here.
static void
s_on_wake (struct lws *wsi)
{
    gateway_t *gateway = s_gateway (wsi);
    if (!gateway || !gateway->bridge)
        return;
    bus_bridge_result_t *result;
    while ((result = bus_bridge_take (gateway->bridge))) {
        http_req_t *req = idmap_lookup (gateway->requests,
                                        bus_bridge_result_token (result));
        if (req) {
            size_t size;
            const void *body = bus_bridge_result_body (result, &size);
            http_req_deliver_reply (req, bus_bridge_result_ticket (result),
                                    body, size);
        }
        bus_bridge_result_destroy (&result);
    }
}

static int
s_callback (struct lws *wsi, enum lws_callback_reasons reason, void *user,
            void *in, size_t len)
{
    pss_t *pss = user;
    switch (reason) {
        case LWS_CALLBACK_HTTP:
            return s_on_http (wsi, pss, in, len);

        case LWS_CALLBACK_HTTP_BODY:
        case LWS_CALLBACK_HTTP_BODY_COMPLETION:
            return 0;       //  no route takes a body yet

        case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
            //  h2c is fine; no websocket endpoint exists yet: hang up
            return in && strcmp (in, "h2c") == 0 ? 0 : -1;

        case LWS_CALLBACK_HTTP_WRITEABLE:
            return s_on_writeable (wsi, pss);

        case LWS_CALLBACK_TIMER:
            if (pss && pss->req)
                http_req_deliver_timer (pss->req);
            return 0;

        case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        case LWS_CALLBACK_CLOSED_HTTP:
        case LWS_CALLBACK_WSI_DESTROY:
            s_req_end (s_gateway (wsi), pss);
            break;          //  lws_callback_http_dummy may do its part

        case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
            s_on_wake (wsi);
            return 0;

        default:
            break;
    }
    return lws_callback_http_dummy (wsi, reason, user, in, len);
}

//  --- public --------------------------------------------------------------

static const struct lws_protocols s_protocols [] = {
    { "http", s_callback, sizeof (pss_t), 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

const struct lws_protocols *
http_server_protocols (void)
{
    return s_protocols;
}

void
http_server_wake (void *arg)
{
    gateway_t *gateway = arg;
    lws_cancel_service (gateway->context);
}
