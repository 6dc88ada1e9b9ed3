/*  oauth_token.c — POST /token and POST /revoke (oauth.h).

    /token takes a form body (RFC 6749 §3.2): grant_type authorization_code
    (code, redirect_uri, client_id, code_verifier, resource?) or
    refresh_token (refresh_token, client_id, resource?). Clients are public
    (token_endpoint_auth_method none): a client_secret or an Authorization
    header is refused (invalid_client). Credentials decides; its refusals
    are relayed as RFC 6749 §5.2 errors (400, or 401 for invalid_client).
    A resource other than this server's /mcp is invalid_target (RFC 8707).

    /revoke (RFC 7009) takes token, token_type_hint?, client_id?, and
    answers 200 whether or not the token was known (§2.2).
*/
#include <stdio.h>
#include <string.h>
#include "oauth.h"

static bool
s_public_client (oauth_call_t *call)
{
    struct lws *wsi = http_req_wsi (call->req);
    if (json_object_get (call->params, "client_secret")
    ||  lws_hdr_total_length (wsi, WSI_TOKEN_HTTP_AUTHORIZATION) > 0) {
        oauth_error (call, 401, "invalid_client", "MCPbox's clients are public: no "
                     "client_secret or Authorization header (token_endpoint_auth_method none)");
        return false;
    }
    return true;
}

static void
s_granted (oauth_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        oauth_error (call, 503, "temporarily_unavailable", "the credentials service is not "
                     "available");
        return;
    }
    json_t *body = reply->body;
    if (!json_is_true (json_object_get (body, "granted"))) {
        const char *error = bus_json_str (body, "error");
        const char *description = bus_json_str (body, "error_description");
        error = error ? error : "invalid_request";
        oauth_error (call, strcmp (error, "invalid_client") == 0 ? 401 : 400, error,
                     description ? description : error);
        return;
    }
    json_t *out = json_pack ("{s:O, s:s, s:I, s:O}",
        "access_token", json_object_get (body, "access_token"),
        "token_type", "Bearer",
        "expires_in", bus_json_int (body, "expires_in", 0),
        "refresh_token", json_object_get (body, "refresh_token"));
    const char *scope = bus_json_str (body, "scope");
    if (out && scope && *scope)
        json_object_set_new (out, "scope", json_string (scope));
    if (!out) {
        oauth_error (call, 500, "server_error", "the credentials service answered in an "
                     "unexpected form");
        return;
    }
    http_req_add_header (call->req, "pragma:", "no-cache");
    http_req_respond_json (call->req, 200, out);
}

static void
s_token_body (oauth_call_t *call)
{
    if (!s_public_client (call))
        return;
    const char *resource = oauth_param (call, "resource");
    if (*resource && strcmp (resource, call->resource) != 0) {
        char message [OAUTH_BASE_MAX + 80];
        snprintf (message, sizeof message, "resource must be this server's MCP endpoint, %s",
                  call->resource);
        oauth_error (call, 400, "invalid_target", message);
        return;
    }
    static const char *const keys [] = { "grant_type", "client_id", "code", "redirect_uri",
                                         "code_verifier", "refresh_token", "resource", NULL };
    json_t *fields = json_object ();
    for (size_t i = 0; keys [i]; i++) {
        json_t *value = json_object_get (call->params, keys [i]);
        if (value)
            json_object_set (fields, keys [i], value);
    }
    oauth_ask (call, "oauth.token", fields, s_granted);
    json_decref (fields);
}

void
oauth_token_start (http_req_t *req)
{
    oauth_call_t *call = oauth_cors_start (req, "POST");
    if (call)
        oauth_read_body (call, false, s_token_body);
}

static void
s_revoked (oauth_call_t *call, bus_json_t *reply)
{
    if (!reply->ok && reply->code != BUS_ERR_BAD_REQUEST) {
        oauth_error (call, 503, "temporarily_unavailable", "the credentials service is not "
                     "available");
        return;
    }
    //  RFC 7009 §2.2: an unknown or malformed token is answered 200 too
    http_req_respond_json (call->req, 200, json_object ());
}

static void
s_revoke_body (oauth_call_t *call)
{
    if (!s_public_client (call))
        return;
    const char *token = oauth_param (call, "token");
    const char *hint = oauth_param (call, "token_type_hint");
    if (!*token) {
        oauth_error (call, 400, "invalid_request", "token is required");
        return;
    }
    if (*hint && strcmp (hint, "access_token") != 0 && strcmp (hint, "refresh_token") != 0) {
        oauth_error (call, 400, "unsupported_token_type", "token_type_hint: access_token or "
                     "refresh_token");
        return;
    }
    json_t *fields = json_pack ("{s:s, s:s}", "token", token, "client_id",
                                oauth_param (call, "client_id"));
    oauth_ask (call, "oauth.revoke", fields, s_revoked);
    json_decref (fields);
}

void
oauth_revoke_start (http_req_t *req)
{
    oauth_call_t *call = oauth_cors_start (req, "POST");
    if (call)
        oauth_read_body (call, false, s_revoke_body);
}
