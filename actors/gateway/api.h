/*  api.h — the admin REST API under /api.

    api_router.c    takes every /api/... request: loopback only unless
                    api_allow_remote, the route table (the single list of
                    routes: pattern, method, handler, whether a session is
                    needed), bounded query and JSON body, who is calling
                    (session cookie + CSRF header, or a bearer token)
                    checked with credentials on every request, and errors
                    as {"error": {"code", "message"}}; GET /api/docs (the
                    route list) only with --enable-docs.
    api_path.c      route patterns with {} parameters (fuzzed).
    api_args.c      typed reading of the query and the body: clear 400s,
                    the cursor/limit pair of every list.
    api_auth.c      /api/auth: setup, login, refresh, logout, password, me,
                    status.
    api_servers.c   servers, their hosts, modules, secrets (registry,
                    approval, credentials).
    api_tools.c     tools: code, versions, diff, rollback, validate, test.
    api_approvals.c the review queue and decisions (approval).
    api_settings.c  the security policy, profiles, module allowlist.
    api_tokens.c    the remote listener's service tokens.
    api_alerts.c    the admin's webhook alerts (the alerts actor's hooks).
    api_oauth.c     the apps authorized through MCPbox's OAuth server.
    api_logs.c      execution logs, their stats, activity (logs).
    api_dashboard.c the summary counts and the calls-per-minute series.
    api_backup.c    export files out and in (the backup service).
    api_headers.c   the token parsers (fuzzed).

    A handler gets an api_call_t whose query and body are parsed, whose
    path parameters are matched and whose caller, when the route needs
    one, is authenticated (call->user). Handlers chain bus requests with
    api_ask; each reply comes to the function given, and the handler
    answers once with api_ok / api_error / api_bus_error.
*/
#ifndef MCPBOX_GATEWAY_API_H
#define MCPBOX_GATEWAY_API_H

#include <jansson.h>
#include "api_headers.h"
#include "api_path.h"
#include "bus_json.h"
#include "http_req.h"

#define API_BODY_MAX       (16 * 1024)      //  bytes of a request body
#define API_CODE_BODY_MAX  (256 * 1024)     //  ... of a route that carries code
#define API_BUS_TIMEOUT_MS 10000
#define API_QUERY_MAX      16               //  query arguments
#define API_QUERY_ARG_MAX  256              //  bytes of one "name=value"
#define API_LIMIT_DEFAULT  50               //  a list's page, default
#define API_LIMIT_MAX      100              //  ... at most

typedef struct _api_call_t api_call_t;
typedef void (api_handler_fn) (api_call_t *call);
//  A bus reply for this call (decoded; freed after the callback).
typedef void (api_reply_fn) (api_call_t *call, bus_json_t *reply);

typedef struct {
    const char     *pattern;    //  "/api/servers/{}" (api_path.h)
    const char     *method;
    bool            session;    //  needs an authenticated caller
    int             large;      //  body up to: 0 API_BODY_MAX, 1 API_CODE_BODY_MAX,
                                //  2 BACKUP_FILE_MAX (an export file)
    api_handler_fn *handler;
} api_route_t;

//  A route that is one bus request and a projection of its ok reply.
typedef json_t *(api_project_fn) (api_call_t *call, const json_t *reply);
typedef struct {
    const char     *service;
    const char     *op;
    int             status;             //  200, or 201 for a creation
    api_project_fn *project;            //  NULL: the reply body as it is
} api_simple_t;
struct _api_call_t {
    http_req_t     *req;
    const char     *method;
    const api_route_t *route;
    api_params_t    params;             //  path parameters, in order
    json_t         *query;              //  {name: value} of the query string
    json_t         *body;               //  parsed JSON object ({} without a body)
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
    //  handler state across bus replies (freed with the call)
    json_t         *ctx;
    //  internals
    char           *raw;
    size_t          raw_size;
    bool            raw_too_large;
    api_reply_fn   *on_reply;
    const api_simple_t *simple;         //  api_simple's route
    json_t         *simple_fields;      //  ... its fields, while a check runs
    const char     *service;            //  asked last (for error texts)
    uint64_t        ticket;
    int64_t         retry_after;        //  from a rate_limited reply, seconds
};

//  Shared with /ws (live.c), the admin's other door:
//  the peer may use the admin surfaces (loopback, or api_allow_remote);
bool    api_peer_allowed (gateway_t *gateway, const char *address);
//  the address is a loopback one (127.0.0.0/8, ::1, ::ffff:127.x)
bool    api_peer_loopback (const char *address);
//  the fields of the credentials `validate` request for a token (csrf may
//  be NULL or ""): a new reference.
json_t *api_validate_fields (const char *access_token, const char *csrf_token);

//  The route table's entry point (http_server.c): any path under /api/.
void api_router_start (http_req_t *req);
//  The route table (ends with a NULL pattern), for the docs route.
const api_route_t *api_routes (void);

//  Answer with JSON (takes the reference).
void api_ok (api_call_t *call, int status, json_t *json);
//  Answer {"error": {"code", "message"}} with status.
void api_error (api_call_t *call, int status, const char *code, const char *message);
//  Answer a failed bus reply with the matching status.
void api_bus_error (api_call_t *call, const bus_json_t *reply);
//  Ask service {"op": op, ...fields (borrowed)}; fn gets the reply. On a
//  refused send the call is answered 503 and fn is not called.
void api_ask (api_call_t *call, const char *service, const char *op, json_t *fields,
              api_reply_fn *fn);
void api_ask_timeout (api_call_t *call, const char *service, const char *op,
                      json_t *fields, int timeout_ms, api_reply_fn *fn);
//  Send {"op": def->op, ...fields} (fields: taken) and answer with the
//  projection (NULL from it: 500), or with the bus error.
void api_simple (api_call_t *call, const api_simple_t *def, json_t *fields);
//  The same once registry server.get has found server_id (else its 404):
//  for services that do not know servers (credentials' secrets).
void api_simple_on_server (api_call_t *call, const char *server_id,
                           const api_simple_t *def, json_t *fields);
//  The signed-in admin's username ("" before authentication).
const char *api_username (api_call_t *call);
//  Path parameter index (borrowed; "" if absent).
const char *api_param (api_call_t *call, size_t index);

//  --- api_args.c: typed input; each false/NULL answers 400 already --------------

//  The body has only these keys (NULL-terminated list).
bool        api_body_only (api_call_t *call, const char *const *keys);
//  A string field of 1..max bytes (optional: NULL when absent, no error).
bool        api_body_str (api_call_t *call, const char *key, bool required, size_t max,
                          const char **out);
//  An integer field in [min, max] (optional: *out untouched when absent).
bool        api_body_int (api_call_t *call, const char *key, bool required,
                          json_int_t min, json_int_t max, json_int_t *out);
bool        api_body_bool (api_call_t *call, const char *key, bool required, int *out);
//  A query argument: string of 1..max bytes, or NULL when absent.
bool        api_query_str (api_call_t *call, const char *name, size_t max, const char **out);
bool        api_query_int (api_call_t *call, const char *name, json_int_t min,
                           json_int_t max, json_int_t *out);
bool        api_query_bool (api_call_t *call, const char *name, int *out);
//  cursor (an opaque offset we hand out) and limit (1..API_LIMIT_MAX).
bool        api_page (api_call_t *call, json_int_t *offset, json_int_t *limit);
//  A page of array (borrowed): new array of items [offset, offset+limit);
//  *next is the next cursor (new json string) or json null at the end.
json_t     *api_slice (const json_t *array, json_int_t offset, json_int_t limit,
                       json_t **next);
//  (Projections of replies use mcp_pick / mcp_pick_each of mcp_tools.h.)

//  --- routes ---------------------------------------------------------------------
//  api_auth.c
void api_auth_setup (api_call_t *call);
void api_auth_login (api_call_t *call);
void api_auth_refresh (api_call_t *call);
void api_auth_logout (api_call_t *call);
void api_auth_password (api_call_t *call);
void api_auth_me (api_call_t *call);
void api_auth_status (api_call_t *call);
//  api_servers.c
void api_servers_list (api_call_t *call);
void api_servers_create (api_call_t *call);
void api_servers_get (api_call_t *call);
void api_servers_delete (api_call_t *call);
void api_servers_start (api_call_t *call);
void api_servers_stop (api_call_t *call);
void api_servers_hosts (api_call_t *call);
void api_servers_add_host (api_call_t *call);
void api_servers_modules (api_call_t *call);
void api_servers_add_module (api_call_t *call);
//  api_sources.c
void api_sources_list (api_call_t *call);
void api_sources_authorize (api_call_t *call);
void api_servers_secrets (api_call_t *call);
void api_servers_secret_create (api_call_t *call);
void api_servers_secret_set (api_call_t *call);
void api_servers_secret_delete (api_call_t *call);
//  api_tools.c
void api_tools_get (api_call_t *call);
void api_tools_update (api_call_t *call);
void api_tools_delete (api_call_t *call);
void api_tools_versions (api_call_t *call);
void api_tools_version (api_call_t *call);
void api_tools_diff (api_call_t *call);
void api_tools_rollback (api_call_t *call);
void api_tools_validate (api_call_t *call);
void api_tools_test (api_call_t *call);
//  api_approvals.c
void api_approvals_pending (api_call_t *call);
void api_approvals_list (api_call_t *call);
void api_approvals_approve (api_call_t *call);
void api_approvals_reject (api_call_t *call);
void api_approvals_revoke (api_call_t *call);
void api_approvals_bulk (api_call_t *call);
void api_approvals_stats (api_call_t *call);
//  api_alerts.c
void api_alerts_list (api_call_t *call);
void api_alerts_add (api_call_t *call);
void api_alerts_remove (api_call_t *call);
void api_alerts_test (api_call_t *call);
//  api_tokens.c
void api_tokens_list (api_call_t *call);
void api_tokens_create (api_call_t *call);
void api_tokens_revoke (api_call_t *call);
//  api_oauth.c
void api_oauth_clients (api_call_t *call);
void api_oauth_revoke (api_call_t *call);
//  api_settings.c
void api_settings_get (api_call_t *call);
void api_settings_put (api_call_t *call);
void api_settings_profile (api_call_t *call);
void api_settings_modules (api_call_t *call);
//  api_logs.c
void api_logs_list (api_call_t *call);
void api_logs_stats (api_call_t *call);
void api_activity_list (api_call_t *call);
//  api_dashboard.c
void api_dashboard (api_call_t *call);
void api_docs (api_call_t *call);
//  api_backup.c
void api_export (api_call_t *call);
void api_import (api_call_t *call);

#endif
