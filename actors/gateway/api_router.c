/*  api_router.c — every request under /api/ (api.h).

    Order of checks, each answered with {"error": {"code", "message"}}:
      1. the peer is on loopback, unless api_allow_remote    403 forbidden
      2. the route exists (404 not_found; GET /api/docs only
         with --enable-docs), method (405)
      3. the query: at most 16 arguments of at most 256 bytes,
         each name once                                       400
      4. credential headers: a malformed one is refused      401 unauthorized
      5. a body (POST/PUT/PATCH with Content-Length > 0):
         Content-Type application/json, ≤ 16 KB (256 KB for
         the routes that carry code), one JSON object
                                                 415 / 413 / 400
         no body is an empty object; GET/DELETE take none     400
      6. a route that needs a session: the token is checked
         with credentials (`validate`) on every request — no
         cache, so a revocation holds in every gateway at once;
         by cookie, a state-changing request also needs the
         X-CSRF-Token of that session                         401 / 403
    then the route's handler runs.
*/
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "backup_limits.h"
#include "log.h"

#define S true      //  needs a session
#define O false     //  open
#define L 1         //  a large (code) body
#define X 2         //  an export file

//  The single list of routes; the first match wins (/api/approvals/stats
//  before /api/approvals/{}).
static const api_route_t s_routes [] = {
    { "/api/auth/setup",    "POST", O, 0, api_auth_setup },
    { "/api/auth/login",    "POST", O, 0, api_auth_login },
    { "/api/auth/refresh",  "POST", O, 0, api_auth_refresh },
    { "/api/auth/status",   "GET",  O, 0, api_auth_status },
    { "/api/auth/logout",   "POST", S, 0, api_auth_logout },
    { "/api/auth/password", "POST", S, 0, api_auth_password },
    { "/api/auth/me",       "GET",  S, 0, api_auth_me },

    { "/api/dashboard",     "GET",  S, 0, api_dashboard },
    { "/api/docs",          "GET",  S, 0, api_docs },

    { "/api/servers",                   "GET",    S, 0, api_servers_list },
    { "/api/servers",                   "POST",   S, 0, api_servers_create },
    { "/api/servers/{id}",                "GET",    S, 0, api_servers_get },
    { "/api/servers/{id}",                "DELETE", S, 0, api_servers_delete },
    { "/api/servers/{id}/start",          "POST",   S, 0, api_servers_start },
    { "/api/servers/{id}/stop",           "POST",   S, 0, api_servers_stop },
    { "/api/servers/{id}/hosts",          "GET",    S, 0, api_servers_hosts },
    { "/api/servers/{id}/hosts",          "POST",   S, 0, api_servers_add_host },
    { "/api/servers/{id}/modules",        "GET",    S, 0, api_servers_modules },
    { "/api/servers/{id}/modules",        "POST",   S, 0, api_servers_add_module },
    { "/api/servers/{id}/sources",        "GET",    S, 0, api_sources_list },
    { "/api/sources/{id}/authorize",      "POST",   S, 0, api_sources_authorize },
    { "/api/servers/{id}/secrets",        "GET",    S, 0, api_servers_secrets },
    { "/api/servers/{id}/secrets",        "POST",   S, 0, api_servers_secret_create },
    { "/api/servers/{id}/secrets/{}",     "PUT",    S, 0, api_servers_secret_set },
    { "/api/servers/{id}/secrets/{}",     "DELETE", S, 0, api_servers_secret_delete },

    { "/api/tools/{id}",                  "GET",    S, 0, api_tools_get },
    { "/api/tools/{id}",                  "PATCH",  S, L, api_tools_update },
    { "/api/tools/{id}",                  "DELETE", S, 0, api_tools_delete },
    { "/api/tools/{id}/versions",         "GET",    S, 0, api_tools_versions },
    { "/api/tools/{id}/versions/{}",      "GET",    S, 0, api_tools_version },
    { "/api/tools/{id}/diff",             "GET",    S, 0, api_tools_diff },
    { "/api/tools/{id}/rollback",         "POST",   S, 0, api_tools_rollback },
    { "/api/tools/{id}/validate",         "POST",   S, L, api_tools_validate },
    { "/api/tools/{id}/test",             "POST",   S, 0, api_tools_test },

    { "/api/approvals",                 "GET",    S, 0, api_approvals_pending },
    { "/api/approvals/stats",           "GET",    S, 0, api_approvals_stats },
    { "/api/approvals/{}",              "GET",    S, 0, api_approvals_list },
    { "/api/approvals/{}/bulk",         "POST",   S, 0, api_approvals_bulk },
    { "/api/approvals/{}/{id}/approve",   "POST",   S, 0, api_approvals_approve },
    { "/api/approvals/{}/{id}/reject",    "POST",   S, 0, api_approvals_reject },
    { "/api/approvals/{}/{id}/revoke",    "POST",   S, 0, api_approvals_revoke },

    { "/api/export",                    "GET",    S, 0, api_export },
    { "/api/import",                    "POST",   S, X, api_import },
    { "/api/settings",                  "GET",    S, 0, api_settings_get },
    { "/api/settings",                  "PUT",    S, 0, api_settings_put },
    { "/api/settings/profile",          "POST",   S, 0, api_settings_profile },
    { "/api/settings/modules",          "GET",    S, 0, api_settings_modules },

    { "/api/alerts",                    "GET",    S, 0, api_alerts_list },
    { "/api/alerts",                    "POST",   S, 0, api_alerts_add },
    { "/api/alerts/{id}",               "DELETE", S, 0, api_alerts_remove },
    { "/api/alerts/{id}/test",          "POST",   S, 0, api_alerts_test },
    { "/api/tokens",                    "GET",    S, 0, api_tokens_list },
    { "/api/tokens",                    "POST",   S, 0, api_tokens_create },
    { "/api/tokens/{}",                 "DELETE", S, 0, api_tokens_revoke },
    { "/api/oauth/clients",             "GET",    S, 0, api_oauth_clients },
    { "/api/oauth/clients/revoke",      "POST",   S, 0, api_oauth_revoke },
    { "/api/logs",                      "GET",    S, 0, api_logs_list },
    { "/api/logs/stats",                "GET",    S, 0, api_logs_stats },
    { "/api/activity",                  "GET",    S, 0, api_activity_list },
    { NULL, NULL, false, false, NULL }
};

const api_route_t *
api_routes (void)
{
    return s_routes;
}

static void s_free (void *state);
static void s_on_reply (http_req_t *req, uint64_t ticket, const void *body, size_t size);
static void s_on_body (http_req_t *req, const void *data, size_t size);
static void s_on_body_end (http_req_t *req);

static const http_handler_t s_handler = {
    .on_reply    = s_on_reply,
    .free_state  = s_free,
    .on_body     = s_on_body,
    .on_body_end = s_on_body_end,
};

static void
s_free (void *state)
{
    api_call_t *call = state;
    json_decref (call->body);
    json_decref (call->query);
    json_decref (call->user);
    json_decref (call->ctx);
    json_decref (call->simple_fields);
    if (call->raw)
        explicit_bzero (call->raw, call->raw_size);     //  passwords, secret values
    free (call->raw);
    explicit_bzero (call, sizeof *call);
    free (call);
}

void
api_ok (api_call_t *call, int status, json_t *json)
{
    if (!json) {
        api_error (call, 500, "internal", "out of memory");
        return;
    }
    http_req_respond_json (call->req, status, json);
}

void
api_error (api_call_t *call, int status, const char *code, const char *message)
{
    http_req_respond_json (call->req, status, json_pack ("{s:{s:s, s:s}}", "error",
                                                         "code", code, "message", message));
}

void
api_bus_error (api_call_t *call, const bus_json_t *reply)
{
    int status;
    char unavailable [96];
    const char *message = reply->message [0] ? reply->message : bus_error_name (reply->code);
    switch (reply->code) {
        case BUS_ERR_BAD_REQUEST:  status = 400; break;
        case BUS_ERR_UNAUTHORIZED: status = 401; break;
        case BUS_ERR_FORBIDDEN:    status = 403; break;
        case BUS_ERR_NOT_FOUND:    status = 404; break;
        case BUS_ERR_CONFLICT:     status = 409; break;
        case BUS_ERR_TOO_LARGE:    status = 413; break;
        case BUS_ERR_RATE_LIMITED: status = 429; break;
        case BUS_ERR_INTERNAL:     status = 500; message = "internal error"; break;
        default:
            status = 503;
            snprintf (unavailable, sizeof unavailable, "the %s service is not available",
                      call->service ? call->service : "backing");
            message = unavailable;
    }
    api_error (call, status, bus_error_name (reply->code), message);
}

void
api_ask_timeout (api_call_t *call, const char *service, const char *op, json_t *fields,
                 int timeout_ms, api_reply_fn *fn)
{
    msgw_t *body = bus_json_request (op, fields);
    call->on_reply = fn;
    call->service = service;
    call->ticket = body ? http_req_submit (call->req, service, msgw_data (body),
                                           msgw_size (body), timeout_ms) : 0;
    if (body) {     //  may carry a password or a secret value
        explicit_bzero ((void *) msgw_data (body), msgw_size (body));
        msgw_destroy (&body);
    }
    if (!call->ticket) {
        call->on_reply = NULL;
        char message [96];
        snprintf (message, sizeof message, "the %s service is not available", service);
        api_error (call, 503, "unavailable", message);
    }
}

void
api_ask (api_call_t *call, const char *service, const char *op, json_t *fields,
         api_reply_fn *fn)
{
    api_ask_timeout (call, service, op, fields, API_BUS_TIMEOUT_MS, fn);
}

static void
s_simple_reply (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    json_t *out = call->simple->project ? call->simple->project (call, reply->body)
                                        : json_incref (reply->body);
    if (!out) {
        char message [96];
        snprintf (message, sizeof message, "the %s service answered in an unexpected form",
                  call->simple->service);
        api_error (call, 500, "internal", message);
        return;
    }
    json_object_del (out, "ok");
    api_ok (call, call->simple->status, out);
}

void
api_simple (api_call_t *call, const api_simple_t *def, json_t *fields)
{
    call->simple = def;
    api_ask (call, def->service, def->op, fields, s_simple_reply);
    json_decref (fields);
}

static void
s_server_found (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    json_t *fields = call->simple_fields;
    call->simple_fields = NULL;
    api_simple (call, call->simple, fields);
}

void
api_simple_on_server (api_call_t *call, const char *server_id, const api_simple_t *def,
                      json_t *fields)
{
    call->simple = def;
    call->simple_fields = fields;
    json_t *check = json_pack ("{s:s}", "server_id", server_id);
    api_ask (call, "registry", "server.get", check, s_server_found);
    json_decref (check);
}

const char *
api_username (api_call_t *call)
{
    const char *name = json_string_value (json_object_get (call->user, "username"));
    return name ? name : "";
}

const char *
api_param (api_call_t *call, size_t index)
{
    return index < call->params.count ? call->params.value [index] : "";
}

static void
s_on_reply (http_req_t *req, uint64_t ticket, const void *body, size_t size)
{
    api_call_t *call = http_req_state (req);
    if (!call || ticket != call->ticket || !call->on_reply)
        return;
    //  rate_limited carries retry_after beside its error
    int64_t retry = bus_json_retry_after (body, size);
    if (retry)
        call->retry_after = retry;
    bus_json_t reply;
    bus_json_parse (body, size, &reply);
    api_reply_fn *fn = call->on_reply;
    call->on_reply = NULL;
    fn (call, &reply);
    bus_json_clear (&reply);
}

//  --- authentication ---------------------------------------------------------

static void
s_validated (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        if (reply->code == BUS_ERR_UNAUTHORIZED)
            api_error (call, 401, "unauthorized", "not logged in, or the session expired");
        else
            api_bus_error (call, reply);
        return;
    }
    bool state_changing = strcmp (call->method, "GET") != 0 && strcmp (call->method, "HEAD") != 0;
    if (call->by_cookie && state_changing
    &&  !json_is_true (json_object_get (reply->body, "csrf_ok"))) {
        api_error (call, 403, "csrf", "a request with the session cookie needs the "
                   "session's X-CSRF-Token header");
        return;
    }
    call->user = json_incref (json_object_get (reply->body, "user"));
    call->route->handler (call);
}

json_t *
api_validate_fields (const char *access_token, const char *csrf_token)
{
    json_t *fields = json_pack ("{s:s}", "access_token", access_token);
    if (csrf_token && *csrf_token)
        json_object_set_new (fields, "csrf_token", json_string (csrf_token));
    return fields;
}

static void
s_authenticate (api_call_t *call)
{
    if (*call->bearer) {
        call->access = call->bearer;
        call->by_cookie = false;
    }
    else
    if (*call->session) {
        call->access = call->session;
        call->by_cookie = true;
    }
    else {
        api_error (call, 401, "unauthorized", "log in first (session cookie or "
                   "Authorization: Bearer)");
        return;
    }
    json_t *fields = api_validate_fields (call->access, call->by_cookie ? call->csrf : NULL);
    api_ask (call, "credentials", "validate", fields, s_validated);
    json_decref (fields);
}

//  --- the request --------------------------------------------------------------

static void
s_run (api_call_t *call)
{
    if (!call->body)
        call->body = json_object ();
    if (call->route->session)
        s_authenticate (call);
    else
        call->route->handler (call);
}

static size_t
s_body_max (api_call_t *call)
{
    return call->route->large == X ? BACKUP_FILE_MAX
         : call->route->large ? API_CODE_BODY_MAX : API_BODY_MAX;
}

static void
s_too_large (api_call_t *call)
{
    http_req_close_after (call->req);
    api_error (call, 413, "too_large", call->route->large == X
               ? "the request body is over 7 MiB (an export file's bound)"
               : call->route->large ? "the request body is over 256 KB"
               : "the request body is over 16 KB");
}

static void
s_on_body (http_req_t *req, const void *data, size_t size)
{
    api_call_t *call = http_req_state (req);
    if (!call || call->raw_too_large)
        return;
    if (call->raw_size + size > s_body_max (call)) {
        call->raw_too_large = true;
        s_too_large (call);
        return;
    }
    char *grown = realloc (call->raw, call->raw_size + size + 1);
    if (!grown) {
        api_error (call, 500, "internal", "out of memory");
        return;
    }
    call->raw = grown;
    memcpy (call->raw + call->raw_size, data, size);
    call->raw_size += size;
    call->raw [call->raw_size] = 0;
}

static void
s_on_body_end (http_req_t *req)
{
    api_call_t *call = http_req_state (req);
    if (!call || http_req_answered (req))
        return;
    json_error_t error;
    call->body = call->raw_size
               ? json_loadb (call->raw, call->raw_size, JSON_REJECT_DUPLICATES, &error) : NULL;
    if (!call->body || !json_is_object (call->body)) {
        api_error (call, 400, "bad_request", "the body must be one JSON object");
        return;
    }
    s_run (call);
}

static int
s_header (struct lws *wsi, enum lws_token_indexes token, char *buf, size_t size)
{
    int len = lws_hdr_total_length (wsi, token);
    if (len <= 0)
        return 0;
    if ((size_t) len >= size || lws_hdr_copy (wsi, buf, (int) size, token) < 0)
        return -1;
    return len;
}

static int
s_custom (struct lws *wsi, const char *name, char *buf, size_t size)
{
    int nlen = (int) strlen (name);
    int len = lws_hdr_custom_length (wsi, name, nlen);
    if (len <= 0)
        return 0;
    if ((size_t) len >= size || lws_hdr_custom_copy (wsi, buf, (int) size, name, nlen) < 0)
        return -1;
    return len;
}

bool
api_peer_loopback (const char *address)
{
    return strncmp (address, "127.", 4) == 0 || strcmp (address, "::1") == 0
        || strncmp (address, "::ffff:127.", 11) == 0;
}

bool
api_peer_allowed (gateway_t *gateway, const char *address)
{
    return gateway->api_allow_remote || api_peer_loopback (address);
}

//  Read who is calling; false when a credential header is malformed.
//  The header copy is wiped on every path: it holds tokens.
static bool
s_read_credentials (api_call_t *call, struct lws *wsi)
{
    static char text [API_HEADER_MAX + 1];
    bool ok = false;
    int len = s_header (wsi, WSI_TOKEN_HTTP_AUTHORIZATION, text, sizeof text);
    if (len < 0 || (len > 0 && api_bearer_token (text, (size_t) len, call->bearer) != 1))
        goto done;
    len = s_header (wsi, WSI_TOKEN_HTTP_COOKIE, text, sizeof text);
    if (len < 0
    ||  api_cookie_token (text, len > 0 ? (size_t) len : 0, API_COOKIE_SESSION, call->session) < 0
    ||  api_cookie_token (text, len > 0 ? (size_t) len : 0, API_COOKIE_REFRESH, call->refresh) < 0)
        goto done;
    len = s_custom (wsi, "x-csrf-token:", text, sizeof text);
    if (len < 0 || (len > 0 && api_plain_token (text, (size_t) len, call->csrf) != 1))
        goto done;
    ok = true;
done:
    explicit_bzero (text, sizeof text);
    return ok;
}

//  The query string into call->query: at most API_QUERY_MAX arguments of
//  at most API_QUERY_ARG_MAX bytes ("name=value", as lws decoded it),
//  each name once. False (answered 400) otherwise.
static bool
s_read_query (api_call_t *call, struct lws *wsi)
{
    call->query = json_object ();
    for (int index = 0; ; index++) {
        int len = lws_hdr_fragment_length (wsi, WSI_TOKEN_HTTP_URI_ARGS, index);
        if (len <= 0)
            break;
        if (index >= API_QUERY_MAX || len > API_QUERY_ARG_MAX) {
            api_error (call, 400, "bad_request", "the query has too many or too long "
                       "arguments (16 of 256 bytes at most)");
            return false;
        }
        char text [API_QUERY_ARG_MAX + 1];
        if (lws_hdr_copy_fragment (wsi, text, sizeof text, WSI_TOKEN_HTTP_URI_ARGS, index) < 0)
            break;
        char *equals = strchr (text, '=');
        const char *value = equals ? equals + 1 : "";
        if (equals)
            *equals = 0;
        json_t *string = json_stringn (value, strlen (value));
        if (!*text || !string || json_object_get (call->query, text)) {
            json_decref (string);
            api_error (call, 400, "bad_request", "a query argument is unnamed, not "
                       "UTF-8, or given twice");
            return false;
        }
        json_object_set_new (call->query, text, string);
    }
    return true;
}

//  The route for path and method; *path_known tells a 405 from a 404.
static const api_route_t *
s_route_find (gateway_t *gateway, const char *path, size_t size, const char *method,
              api_params_t *params, const char **allow)
{
    *allow = NULL;
    for (const api_route_t *r = s_routes; r->pattern; r++) {
        if (r->handler == api_docs && !gateway->api_docs)
            continue;
        api_params_t found;
        if (!api_path_match (r->pattern, path, size, &found))
            continue;
        if (strcmp (r->method, method) == 0) {
            *params = found;
            return r;
        }
        if (!*allow)
            *allow = r->method;
    }
    return NULL;
}

void
api_router_start (http_req_t *req)
{
    struct lws *wsi = http_req_wsi (req);
    gateway_t *gateway = http_req_gateway (req);
    api_call_t *call = calloc (1, sizeof *call);
    if (!call) {
        http_req_respond_error (req, 500, "internal");
        return;
    }
    call->req = req;
    call->method = http_req_method (req);
    http_req_set_handler (req, &s_handler, call);
    lws_get_peer_simple (wsi, call->client, sizeof call->client);
    call->tls = lws_is_ssl (wsi) != 0;
    if (!api_peer_allowed (gateway, call->client)) {
        http_req_close_after (req);
        api_error (call, 403, "forbidden", "the admin API answers only on loopback "
                   "(set api_allow_remote to change that)");
        return;
    }
    char *uri = NULL;
    int uri_len = 0;
    if (lws_http_get_uri_and_method (wsi, &uri, &uri_len) < 0 || !uri || uri_len <= 0)
        uri_len = 0;
    const char *allow = NULL;
    call->route = uri_len ? s_route_find (gateway, uri, (size_t) uri_len, call->method,
                                          &call->params, &allow) : NULL;
    if (!call->route && !allow) {
        api_error (call, 404, "not_found", "no such API route (or a malformed id)");
        return;
    }
    if (!call->route) {
        http_req_add_header (req, "allow:", allow);
        api_error (call, 405, "method_not_allowed", "method not allowed on this route");
        return;
    }
    if (!s_read_query (call, wsi))
        return;
    if (!s_read_credentials (call, wsi)) {
        api_error (call, 401, "unauthorized", "a malformed credential header "
                   "(Authorization, Cookie or X-CSRF-Token)");
        return;
    }
    bool takes_body = strcmp (call->method, "POST") == 0 || strcmp (call->method, "PUT") == 0
                   || strcmp (call->method, "PATCH") == 0;
    char length [24];
    int length_len = s_header (wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, length, sizeof length);
    bool chunked = lws_hdr_total_length (wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
    bool has_body = chunked || (length_len > 0 && strspn (length, "0") != (size_t) length_len);
    if (has_body && !takes_body) {
        http_req_close_after (req);
        api_error (call, 400, "bad_request", "this method takes no body");
        return;
    }
    if (has_body) {
        char type [128];
        int len = s_header (wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, type, sizeof type);
        if (len <= 0 || strncasecmp (type, "application/json", 16) != 0
        ||  (type [16] && type [16] != ';' && type [16] != ' ')) {
            http_req_close_after (req);
            api_error (call, 415, "unsupported_media_type", "send application/json");
            return;
        }
        if (chunked || length_len <= 0) {
            http_req_close_after (req);
            api_error (call, 411, "length_required", "a JSON body with Content-Length");
            return;
        }
        if (strspn (length, "0123456789") != (size_t) length_len || length_len > 12
        ||  atoll (length) > (long long) s_body_max (call)) {
            s_too_large (call);
            return;
        }
        return;         //  s_on_body_end runs the route
    }
    s_run (call);
}
