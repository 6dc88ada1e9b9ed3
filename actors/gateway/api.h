/*  api.h — the admin REST API under /api (this issue: the auth routes).

    api_router.c  takes every /api/... request: loopback only unless
                  api_allow_remote, the route table (path, method,
                  handler, whether a session is needed), a bounded JSON
                  body, who is calling (session cookie + CSRF header, or a
                  bearer token) checked with credentials on every request,
                  and errors as {"error": {"code", "message"}}.
    api_auth.c    the /api/auth routes: setup, login, refresh, logout,
                  password, me.
    api_headers.c the token parsers (fuzzed).

    The admin-REST issue extends the route table in api_router.c with its
    own files; a handler gets an api_call_t whose body is parsed and whose
    caller, when the route needs one, is authenticated.
*/
#ifndef MCPBOX_GATEWAY_API_H
#define MCPBOX_GATEWAY_API_H

#include <jansson.h>
#include "api_headers.h"
#include "bus_json.h"
#include "http_req.h"

#define API_BODY_MAX       (16 * 1024)      //  bytes of a request body
#define API_BUS_TIMEOUT_MS 10000

typedef struct _api_call_t api_call_t;
typedef void (api_handler_fn) (api_call_t *call);
//  A bus reply for this call (decoded; freed after the callback).
typedef void (api_reply_fn) (api_call_t *call, bus_json_t *reply);

struct _api_call_t {
    http_req_t     *req;
    const char     *method;
    json_t         *body;               //  parsed JSON object, or NULL (no body)
    char            client [64];        //  peer address
    bool            tls;                //  served over TLS (cookies get Secure)
    //  credentials presented
    char            bearer  [API_TOKEN_LEN + 1];   //  "" if none
    char            session [API_TOKEN_LEN + 1];   //  cookie, "" if none
    char            refresh [API_TOKEN_LEN + 1];   //  cookie, "" if none
    char            csrf    [API_TOKEN_LEN + 1];   //  X-CSRF-Token, "" if none
    bool            malformed_auth;     //  a credential header was present but bad
    //  after authentication
    const char     *access;             //  the token used (bearer or session)
    bool            by_cookie;
    json_t         *user;               //  {id, username} from credentials
    //  internals
    char           *raw;
    size_t          raw_size;
    bool            raw_too_large;
    api_handler_fn *handler;
    api_reply_fn   *on_reply;
    uint64_t        ticket;
    int64_t         retry_after;        //  from a rate_limited reply, seconds
};

//  Shared with /ws (live.c), the admin's other door:
//  the peer may use the admin surfaces (loopback, or api_allow_remote);
bool    api_peer_allowed (gateway_t *gateway, const char *address);
//  the fields of the credentials `validate` request for a token (csrf may
//  be NULL or ""): a new reference.
json_t *api_validate_fields (const char *access_token, const char *csrf_token);

//  The route table's entry point (http_server.c): any path under /api/.
void api_router_start (http_req_t *req);

//  Answer {"error": {"code", "message"}} with status.
void api_error (api_call_t *call, int status, const char *code, const char *message);
//  Answer a failed bus reply with the matching status.
void api_bus_error (api_call_t *call, const bus_json_t *reply);
//  Ask credentials {"op": op, ...fields (borrowed)}; fn gets the reply.
void api_ask (api_call_t *call, const char *op, json_t *fields, api_reply_fn *fn);

//  api_auth.c
void api_auth_setup (api_call_t *call);
void api_auth_login (api_call_t *call);
void api_auth_refresh (api_call_t *call);
void api_auth_logout (api_call_t *call);
void api_auth_password (api_call_t *call);
void api_auth_me (api_call_t *call);

#endif
