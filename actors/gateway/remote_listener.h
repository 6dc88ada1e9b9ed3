/*  remote_listener.h — the gateway's second port, the one a tunnel
    forwards to (config remote_listen, default 127.0.0.1:8001).

    It serves the routes of remote_route_find and nothing else: /mcp
    (both protocol generations, SSE included: the same handler as the
    local port's), and the OAuth endpoints the authorization server adds
    to that one table. /api, /ws, /health and the dashboard's files are
    404 here. Every request on this port is remote, whatever its peer
    address: a tunnel client connects from loopback.

    Before a route that needs a credential runs:
      Host not in the remote allowlist (remote_public_url's host, the
      loopback names, allowed_hosts)                           403
      no Authorization: Bearer (an OPTIONS preflight excepted) 401
      a credential credentials' remote.verify refuses          401
      credentials not answering                                503
    A 401 carries WWW-Authenticate: Bearer resource_metadata="<base>
    /.well-known/oauth-protected-resource" (RFC 9728 §5.1), base being
    remote_public_url, or http://<Host> without it. The verified
    principal (kind, name, id) goes on the request (http_req_principal)
    and the body that arrived meanwhile is handed on to the route.
*/
#ifndef MCPBOX_GATEWAY_REMOTE_LISTENER_H
#define MCPBOX_GATEWAY_REMOTE_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include "http_req.h"

typedef void (remote_start_fn) (http_req_t *req);

typedef struct {
    const char      *path;          //  exact, or a prefix when it ends in '/'
    bool             credential;    //  a verified bearer credential first
    remote_start_fn *start;         //  then the request goes here
} remote_route_t;

//  The ONE decision of what the remote port serves: the route, or NULL
//  (404).
const remote_route_t *remote_route_find (const char *path, size_t len);

//  A request that came in on the remote listener (already marked remote).
void remote_listener_start (http_req_t *req, const char *path, size_t len);

#endif
