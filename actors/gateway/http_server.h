/*  http_server.h — the gateway's lws protocol: routing and request life.

    One lws protocol ("http") serves every HTTP request. Its callback
    routes a request by exact path and method to a handler (the route
    table in http_server.c is the gateway's whole HTTP interface), keeps
    the request alive in gateway->requests while it is in flight, writes
    the answer when lws says the connection is writable, and ends the
    request when lws unbinds or closes the connection.

    Bus completions reach requests here: the bus thread calls
    http_server_wake (lws_cancel_service), lws then delivers
    LWS_CALLBACK_EVENT_WAIT_CANCELLED on its own thread, and the callback
    hands each completion to the request whose id is the token — or drops
    it when that request is gone.
*/
#ifndef MCPBOX_GATEWAY_HTTP_SERVER_H
#define MCPBOX_GATEWAY_HTTP_SERVER_H

#include <libwebsockets.h>
#include "gateway.h"

//  The protocol list for lws_context_creation_info.protocols (terminated).
const struct lws_protocols *http_server_protocols (void);

//  bus_bridge_wake_fn: arg is the gateway_t. Safe from any thread.
void http_server_wake (void *arg);

#endif
