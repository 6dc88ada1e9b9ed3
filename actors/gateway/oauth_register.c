/*  oauth_register.c — POST /register, RFC 7591 dynamic client registration
    for public clients (oauth.h).

    The body is one JSON object (at most 16 KB). What MCPbox needs is
    client_name and redirect_uris (1 to 8; https, or http on a loopback
    host); token_endpoint_auth_method may only be "none", grant_types only
    authorization_code / refresh_token, response_types only code. Other
    metadata is ignored (RFC 7591 §2: the server may), and the answer says
    what was registered. Refusals are {"error": "invalid_redirect_uri" |
    "invalid_client_metadata", "error_description"} with 400. Credentials
    bounds the clients waiting for their first approval (429 beyond).
*/
#include <stdio.h>
#include <string.h>
#include "oauth.h"

//  Every item of the array field `key` (absent: fine) one of allowed.
static bool
s_only (json_t *body, const char *key, const char *const *allowed)
{
    json_t *array = json_object_get (body, key);
    if (!array)
        return true;
    if (!json_is_array (array) || json_array_size (array) > 8)
        return false;
    size_t i;
    json_t *item;
    json_array_foreach (array, i, item) {
        bool known = false;
        for (size_t k = 0; allowed [k]; k++)
            if (json_is_string (item) && strcmp (json_string_value (item), allowed [k]) == 0)
                known = true;
        if (!known)
            return false;
    }
    return true;
}

static void
s_registered (oauth_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        if (reply->code == BUS_ERR_BAD_REQUEST)
            oauth_error (call, 400, strstr (reply->message, "redirect_uris")
                         ? "invalid_redirect_uri" : "invalid_client_metadata", reply->message);
        else
        if (reply->code == BUS_ERR_RATE_LIMITED)
            oauth_error (call, 429, "temporarily_unavailable", reply->message);
        else
            oauth_error (call, 503, "temporarily_unavailable", "the credentials service "
                         "could not register the client");
        return;
    }
    json_t *body = reply->body;
    json_t *out = json_pack ("{s:O, s:O, s:O, s:I, s:s, s:[ss], s:[s]}",
        "client_id", json_object_get (body, "client_id"),
        "client_name", json_object_get (body, "client_name"),
        "redirect_uris", json_object_get (body, "redirect_uris"),
        "client_id_issued_at", bus_json_int (body, "created_at", 0),
        "token_endpoint_auth_method", "none",
        "grant_types", "authorization_code", "refresh_token",
        "response_types", "code");
    if (!out) {
        oauth_error (call, 500, "server_error", "the credentials service answered in an "
                     "unexpected form");
        return;
    }
    http_req_add_header (call->req, "pragma:", "no-cache");
    http_req_respond_json (call->req, 201, out);
}

static void
s_body (oauth_call_t *call)
{
    json_t *body = call->params;
    static const char *const grants [] = { "authorization_code", "refresh_token", NULL };
    static const char *const responses [] = { "code", NULL };
    json_t *method = json_object_get (body, "token_endpoint_auth_method");
    if (method && !(json_is_string (method) && strcmp (json_string_value (method), "none") == 0)) {
        oauth_error (call, 400, "invalid_client_metadata", "token_endpoint_auth_method: only "
                     "\"none\" (public clients with PKCE)");
        return;
    }
    if (!s_only (body, "grant_types", grants) || !s_only (body, "response_types", responses)) {
        oauth_error (call, 400, "invalid_client_metadata", "grant_types: authorization_code "
                     "and refresh_token only; response_types: code only");
        return;
    }
    json_t *name = json_object_get (body, "client_name");
    json_t *uris = json_object_get (body, "redirect_uris");
    if (!json_is_array (uris)) {
        oauth_error (call, 400, "invalid_redirect_uri", "redirect_uris: an array of 1 to 8 "
                     "URIs is required");
        return;
    }
    if (!json_is_string (name)) {
        oauth_error (call, 400, "invalid_client_metadata", "client_name: a string is required "
                     "(the admin approves the client by this name)");
        return;
    }
    json_t *fields = json_pack ("{s:O, s:O}", "client_name", name, "redirect_uris", uris);
    oauth_ask (call, "oauth.register", fields, s_registered);
    json_decref (fields);
}

void
oauth_register_start (http_req_t *req)
{
    oauth_call_t *call = oauth_cors_start (req, "POST");
    if (call)
        oauth_read_body (call, true, s_body);
}
