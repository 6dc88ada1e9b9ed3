/*  api_router.c — every request under /api/ (api.h).

    Order of checks, each answered with {"error": {"code", "message"}}:
      1. the peer is on loopback, unless api_allow_remote    403 forbidden
      2. the route exists (404 not_found), method (405)
      3. credential headers: a malformed one is refused      401 unauthorized
      4. POST: Content-Type application/json, body ≤ 16 KB,
         a JSON object                            415 / 413 / 400
      5. a route that needs a session: the token is checked
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
#include "log.h"

typedef struct {
    const char     *path;
    const char     *method;
    bool            session;    //  needs an authenticated caller
    api_handler_fn *handler;
} api_route_t;

static const api_route_t s_routes [] = {
    { "/api/auth/setup",    "POST", false, api_auth_setup },
    { "/api/auth/login",    "POST", false, api_auth_login },
    { "/api/auth/refresh",  "POST", false, api_auth_refresh },
    { "/api/auth/logout",   "POST", true,  api_auth_logout },
    { "/api/auth/password", "POST", true,  api_auth_password },
    { "/api/auth/me",       "GET",  true,  api_auth_me },
    { NULL, NULL, false, NULL }
};

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
    json_decref (call->user);
    if (call->raw)
        explicit_bzero (call->raw, call->raw_size);     //  passwords
    free (call->raw);
    explicit_bzero (call, sizeof *call);
    free (call);
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
        default:                   status = 503; message = "the credentials service is "
                                                           "not available";
    }
    api_error (call, status, bus_error_name (reply->code), message);
}

void
api_ask (api_call_t *call, const char *op, json_t *fields, api_reply_fn *fn)
{
    msgw_t *body = bus_json_request (op, fields);
    call->on_reply = fn;
    call->ticket = body ? http_req_submit (call->req, "credentials", msgw_data (body),
                                           msgw_size (body), API_BUS_TIMEOUT_MS) : 0;
    if (body) {     //  may carry a password
        explicit_bzero ((void *) msgw_data (body), msgw_size (body));
        msgw_destroy (&body);
    }
    if (!call->ticket)
        api_error (call, 503, "unavailable", "the credentials service is not available");
}

static void
s_on_reply (http_req_t *req, uint64_t ticket, const void *body, size_t size)
{
    api_call_t *call = http_req_state (req);
    if (!call || ticket != call->ticket || !call->on_reply)
        return;
    //  rate_limited carries retry_after beside its error
    msg_t *raw = msg_decode (body, size, NULL, NULL);
    int64_t retry = 0;
    if (raw && msg_get_int (msg_root (raw), "retry_after", &retry) == MSG_FIELD_OK)
        call->retry_after = retry;
    msg_destroy (&raw);
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
    call->handler (call);
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
    api_ask (call, "validate", fields, s_validated);
    json_decref (fields);
}

//  --- the request --------------------------------------------------------------

static void
s_run (api_call_t *call)
{
    const api_route_t *route = NULL;
    for (const api_route_t *r = s_routes; r->path; r++)
        if (r->handler == call->handler)
            route = r;
    if (route && route->session)
        s_authenticate (call);
    else
        call->handler (call);
}

static void
s_on_body (http_req_t *req, const void *data, size_t size)
{
    api_call_t *call = http_req_state (req);
    if (!call || call->raw_too_large)
        return;
    if (call->raw_size + size > API_BODY_MAX) {
        call->raw_too_large = true;
        http_req_close_after (req);
        api_error (call, 413, "too_large", "the request body is over 16 KB");
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
api_peer_allowed (gateway_t *gateway, const char *address)
{
    return gateway->api_allow_remote
        || strncmp (address, "127.", 4) == 0 || strcmp (address, "::1") == 0
        || strncmp (address, "::ffff:127.", 11) == 0;
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
    char path [64];
    int path_len = lws_hdr_copy (wsi, path, sizeof path, WSI_TOKEN_GET_URI);
    if (path_len <= 0)
        path_len = lws_hdr_copy (wsi, path, sizeof path, WSI_TOKEN_POST_URI);
    const api_route_t *route = NULL, *any_method = NULL;
    for (const api_route_t *r = s_routes; path_len > 0 && r->path; r++)
        if (strcmp (r->path, path) == 0) {
            any_method = r;
            if (strcmp (r->method, call->method) == 0)
                route = r;
        }
    if (!any_method) {
        api_error (call, 404, "not_found", "no such API route");
        return;
    }
    if (!route) {
        http_req_add_header (req, "allow:", any_method->method);
        api_error (call, 405, "method_not_allowed", "method not allowed on this route");
        return;
    }
    call->handler = route->handler;
    if (!s_read_credentials (call, wsi)) {
        api_error (call, 401, "unauthorized", "a malformed credential header "
                   "(Authorization, Cookie or X-CSRF-Token)");
        return;
    }
    if (strcmp (call->method, "POST") == 0) {
        char type [128];
        int len = s_header (wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, type, sizeof type);
        if (len <= 0 || strncasecmp (type, "application/json", 16) != 0
        ||  (type [16] && type [16] != ';' && type [16] != ' ')) {
            http_req_close_after (req);
            api_error (call, 415, "unsupported_media_type", "send application/json");
            return;
        }
        char length [24];
        if (s_header (wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, length, sizeof length) <= 0) {
            http_req_close_after (req);
            api_error (call, 411, "length_required", "a JSON body with Content-Length");
            return;
        }
        if (atoll (length) > API_BODY_MAX) {
            http_req_close_after (req);
            api_error (call, 413, "too_large", "the request body is over 16 KB");
            return;
        }
        return;         //  s_on_body_end runs the route
    }
    s_run (call);
}
