/*  http_server.c — the lws protocol callback: routes, request life, wake-ups.

    Request life, per lws connection (wsi) and its per-session data (pss):

      HTTP_CONFIRM_UPGRADE         h2c ignored (the request stays HTTP/1.1),
                                   websocket: /ws only, checked by live.c
      ESTABLISHED, RECEIVE,        a /ws stream (live.h): pss->live
      SERVER_WRITEABLE, CLOSED
      LWS_CALLBACK_HTTP            new request: id, http_req_t, route it
      LWS_CALLBACK_HTTP_BODY       a piece of the request body, to the route
      HTTP_BODY_COMPLETION         the body ended (Content-Length framing); a
                                   second one means lws is spinning on a
                                   request pipelined behind a body: close
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
                                          and events

    A completion whose token has CATALOG_TOKEN_BIT is not an HTTP
    request's: it goes to the MCP catalog cache. Events go to the MCP
    side too (they invalidate the catalog).

    lws itself bounds the request line and headers (max_http_header_data,
    set in main.c: 64 KB) and answers malformed HTTP before we see it.
    Our bound is lower, HTTP_HEADER_ACCEPT: a request whose headers
    (the ones lws knows, path and query included) pass it is answered 431
    before any route sees it. Past lws's buffer, lws 4.1.6 closes the
    connection without a word (it only logs "Ran out of header data
    space"; there is no callback before its shutdown).

    HTTP/2: lws 4.1.6 loses the body of a request that upgrades to h2c
    (curl --http2 -d ...), and has no option to turn h2c off. So every
    request stays on HTTP/1.1: in HTTP_CONFIRM_UPGRADE an "h2c" upgrade
    token is overwritten in lws's header buffer (that is what `in` points
    to), and lws, finding an upgrade it does not know after our
    callback said yes, carries on serving the request as plain HTTP/1.1 —
    which is exactly what RFC 9113 §3.2 (and 7540) expects of a server
    that declines the upgrade. Prior-knowledge h2 is off (no
    LWS_SERVER_OPTION_H2_PRIOR_KNOWLEDGE), and there is no TLS (ALPN).
*/
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "api.h"
#include "http_req.h"
#include "http_health.h"
#include "http_static.h"
#include "live.h"
#include "http_server.h"
#include "http_metrics.h"
#include "mcp.h"
#include "metrics.h"
#include "remote_listener.h"
#include "oauth.h"
#include "oauth_uri.h"
#include "source_oauth_routes.h"

//  What lws keeps per connection for us.
typedef struct {
    http_req_t *req;        //  the request in flight, or NULL
    bool        body_done;  //  lws said BODY_COMPLETION for this request
    live_client_t *live;    //  after a /ws upgrade: the stream (live.c)
} pss_t;

//  --- routes: the gateway's HTTP interface ---------------------------------

typedef void (route_fn) (http_req_t *req);

typedef struct {
    const char *path;       //  exact match
    const char *method;     //  the one method served, NULL: the route decides
    route_fn   *start;      //  takes the request from here
} route_t;

static const route_t s_routes [] = {
    { "/health",    "GET",      http_health_start },
    { "/metrics",   "GET",      http_metrics_start },
    { "/mcp",       NULL,       mcp_endpoint_start },
    //  MCPbox as the OAuth authorization server of /mcp (oauth.h)
    { "/.well-known/oauth-protected-resource",     NULL, oauth_meta_resource },
    { "/.well-known/oauth-protected-resource/mcp", NULL, oauth_meta_resource },
    { "/.well-known/oauth-authorization-server",   NULL, oauth_meta_server },
    { "/authorize", NULL,       oauth_authorize_start },
    { "/token",     NULL,       oauth_token_start },
    { "/register",  NULL,       oauth_register_start },
    { "/revoke",    NULL,       oauth_revoke_start },
    { "/oauth/consent.css", "GET", oauth_consent_css },
    //  external sources' OAuth: the callback, on this (local) listener only
    { OAUTH_SOURCE_CALLBACK_PATH, "GET", source_oauth_callback_start },
    { "/api/",      NULL,       api_router_start },     //  a prefix (ends in '/')
    { "/",          NULL,       http_static_start },    //  the rest: web/ files
    { NULL,         NULL,       NULL }
};

static const route_t *
s_route_find (const char *path, size_t len)
{
    for (const route_t *route = s_routes; route->path; route++) {
        size_t route_len = strlen (route->path);
        bool prefix = route->path [route_len - 1] == '/';
        if ((route_len == len || (prefix && len > route_len))
        &&  memcmp (route->path, path, route_len) == 0)
            return route;
    }
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

//  The request's Content-Length when it is plain digits, else -1 (none,
//  malformed, or chunked framing, which lws does not decode).
static int64_t
s_content_length (struct lws *wsi)
{
    char text [24];
    if (lws_hdr_total_length (wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0
    ||  lws_hdr_copy (wsi, text, sizeof text, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
        return -1;
    int64_t length = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9' || length > INT64_MAX / 10 - 10)
            return -1;
        length = length * 10 + (*p - '0');
    }
    return length;
}

static void
s_req_end (gateway_t *gateway, pss_t *pss)
{
    if (!pss || !pss->req)
        return;
    idmap_take (gateway->requests, http_req_id (pss->req));
    http_req_destroy (&pss->req);
}

//  Request line and headers: 16 KB is a long OAuth callback query (code,
//  state, iss) plus a big cookie, with room to spare.
#define HTTP_HEADER_ACCEPT  32768

//  Bytes of the request's headers lws parsed into its known tokens (the
//  path and query are one of them). Unknown headers are not counted:
//  lws's 64 KB buffer bounds them.
static size_t
s_header_bytes (struct lws *wsi)
{
    size_t total = 0;
    for (int token = 0; token < WSI_TOKEN_COUNT; token++) {
        int len = lws_hdr_total_length (wsi, (enum lws_token_indexes) token);
        if (len > 0)
            total += (size_t) len;
    }
    return total;
}

//  --- handlers for each lws reason ----------------------------------------

static int
s_on_http (struct lws *wsi, pss_t *pss, const char *path, size_t len)
{
    gateway_t *gateway = s_gateway (wsi);
    if (!pss)
        return -1;
    s_req_end (gateway, pss);
    pss->body_done = false;

    const char *method = s_method (wsi);
    uint64_t id = ++gateway->next_request_id;
    http_req_t *req = http_req_new (gateway, wsi, id, method);
    idmap_insert (gateway->requests, id, req);
    pss->req = req;
    if (s_content_length (wsi) > 0)
        http_req_expect_body (req);

    const route_t *route = path ? s_route_find (path, len) : NULL;
    bool remote = gateway->remote_vhost && lws_get_vhost (wsi) == gateway->remote_vhost;
    if (remote)
        http_req_mark_remote (req);
    if (!method)
        http_req_respond_error (req, HTTP_STATUS_BAD_REQUEST, "bad_request");
    else
    if (s_header_bytes (wsi) > HTTP_HEADER_ACCEPT)
        http_req_respond_error (req, 431, "request_header_too_large");
    else
    if (remote)
        remote_listener_start (req, path, path ? len : 0);      //  its own routes
    else
    if ((!route || strcmp (route->path, "/") == 0) && source_oauth_cimd_serve (req, path, len))
        ;                       //  MCPbox's client metadata document, answered
    else
    if (!route)
        http_req_respond_error (req, HTTP_STATUS_NOT_FOUND, "not_found");
    else
    if (route->method && strcmp (method, route->method) != 0) {
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
        case HTTP_REQ_CLOSE:        //  lws flushes what is written, then closes
            s_req_end (s_gateway (wsi), pss);
            return -1;
        case HTTP_REQ_DONE:
            break;
    }
    s_req_end (s_gateway (wsi), pss);
    pss->body_done = false;
    return lws_http_transaction_completed (wsi) ? -1 : 0;
}

//  Hand every waiting completion to its request, if it is still here.
static void
s_on_wake (struct lws *wsi)
{
    gateway_t *gateway = s_gateway (wsi);
    if (!gateway || !gateway->bridge)
        return;
    oauth_drain (gateway);          //  client metadata fetches that ended
    bus_bridge_result_t *result;
    //  notices first: those of a request come before its reply
    static uint64_t s_notices_dropped;
    uint64_t dropped = bus_bridge_notices_dropped (gateway->bridge);
    if (dropped > s_notices_dropped) {
        log_warn ("gateway: %" PRIu64 " tool notices dropped at the bus bridge's bound "
                  "(%d waiting), %" PRIu64 " in all", dropped - s_notices_dropped,
                  BUS_BRIDGE_MAX_NOTICES, dropped);
        s_notices_dropped = dropped;
    }
    while ((result = bus_bridge_take_notice (gateway->bridge))) {
        http_req_t *req = idmap_lookup (gateway->requests, bus_bridge_result_token (result));
        size_t size;
        const void *body = bus_bridge_result_body (result, &size);
        if (req)
            http_req_deliver_notice (req, bus_bridge_result_ticket (result), body, size);
        bus_bridge_result_destroy (&result);
    }
    while ((result = bus_bridge_take (gateway->bridge))) {
        uint64_t token = bus_bridge_result_token (result);
        metrics_bus (gateway->metrics, bus_bridge_result_service (result),
                     bus_bridge_result_elapsed_us (result));
        if (!(token & CATALOG_TOKEN_BIT) && (token & LIVE_TOKEN_BIT)) {
            if (gateway->live) {
                size_t size;
                const void *body = bus_bridge_result_body (result, &size);
                live_on_completion (gateway->live, token, body, size);
            }
            bus_bridge_result_destroy (&result);
            continue;
        }
        if ((token & CATALOG_TOKEN_BIT) && gateway->mcp) {
            size_t size;
            const void *body = bus_bridge_result_body (result, &size);
            mcp_on_completion (gateway->mcp, token, body, size);
            bus_bridge_result_destroy (&result);
            continue;
        }
        http_req_t *req = idmap_lookup (gateway->requests, token);
        if (req) {
            size_t size;
            const void *body = bus_bridge_result_body (result, &size);
            http_req_deliver_reply (req, bus_bridge_result_ticket (result),
                                    body, size);
        }
        bus_bridge_result_destroy (&result);
    }
    char *topic;
    void *body;
    size_t size;
    bool lost;
    while (bus_bridge_take_event (gateway->bridge, &topic, &body, &size, &lost) == 0) {
        if (gateway->mcp)
            mcp_on_event (gateway->mcp, topic, lost);
        if (gateway->live)
            live_on_event (gateway->live, topic, body, size);
        free (topic);
        free (body);
    }
}

//  A piece of request body for the request on this connection.
static void
s_on_body (pss_t *pss, const void *data, size_t len)
{
    if (pss && pss->req && data && len)
        http_req_deliver_body (pss->req, data, len);
}

static void
s_on_body_end (pss_t *pss)
{
    if (pss && pss->req)
        http_req_deliver_body_end (pss->req);
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
            s_on_body (pss, in, len);
            return 0;

        case LWS_CALLBACK_HTTP_BODY_COMPLETION:
            //  lws 4.1.6 stays in its body state until the transaction
            //  completes, and hands any bytes read past the body (a
            //  request pipelined behind a POST) back as BODY_COMPLETION
            //  again and again without consuming them: a busy loop. The
            //  second one for a request closes the connection instead.
            if (pss && pss->body_done) {
                log_debug ("http: request pipelined behind a body: closing");
                s_req_end (s_gateway (wsi), pss);
                return -1;
            }
            if (pss)
                pss->body_done = true;
            s_on_body_end (pss);
            return 0;

        case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
            //  decline h2c by making the token unknown (see the top of
            //  this file); a websocket only at /ws, checked by live.c
            //  the remote listener serves no websocket: the upgrade is
            //  declined the same way, and the request is answered as plain
            //  HTTP (404 there)
            if (in && (strcasecmp (in, "h2c") == 0
                       || lws_get_vhost (wsi) == s_gateway (wsi)->remote_vhost)) {
                ((char *) in) [0] = 'x';
                return 0;
            }
            if (in && strcasecmp (in, "websocket") == 0 && s_gateway (wsi)->live)
                return live_confirm_upgrade (s_gateway (wsi)->live, wsi);
            return -1;

        case LWS_CALLBACK_ESTABLISHED:
            if (!pss || !s_gateway (wsi)->live)
                return -1;
            pss->req = NULL;
            pss->live = live_client_open (s_gateway (wsi)->live, wsi);
            return pss->live ? 0 : -1;

        case LWS_CALLBACK_RECEIVE:
            return pss && pss->live ? live_client_receive (pss->live, in, len) : -1;

        case LWS_CALLBACK_SERVER_WRITEABLE:
            return pss && pss->live ? live_client_writeable (pss->live) : -1;

        case LWS_CALLBACK_CLOSED:
            if (pss && pss->live)
                live_client_close (s_gateway (wsi)->live, &pss->live);
            return 0;

        case LWS_CALLBACK_HTTP_WRITEABLE:
            return s_on_writeable (wsi, pss);

        case LWS_CALLBACK_TIMER:
            if (pss && pss->live)
                live_client_timer (pss->live);
            else
            if (pss && pss->req)
                http_req_deliver_timer (pss->req);
            return 0;

        case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        case LWS_CALLBACK_CLOSED_HTTP:
        case LWS_CALLBACK_WSI_DESTROY:
            s_req_end (s_gateway (wsi), pss);
            if (pss && pss->live && reason == LWS_CALLBACK_WSI_DESTROY)
                live_client_close (s_gateway (wsi)->live, &pss->live);
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
