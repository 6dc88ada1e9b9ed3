/*  api_auth.c — the /api/auth routes: first-run setup, login, refresh, logout,
    password change, who am I. Everything is decided by the credentials
    service (sessions live there, so every gateway process sees a
    revocation at once); this file checks the body's shape, turns tokens
    into cookies or a JSON answer, and maps errors to statuses.

    Login and refresh answer in one of two modes, chosen by the body's
    "mode" (default "cookie"):
      cookie   Set-Cookie mcpbox_session (the access token, Path=/) and
               mcpbox_refresh (Path=/api/auth), both HttpOnly,
               SameSite=Strict, Secure when served over TLS; the body has
               the user and the csrf_token the browser must send back in
               X-CSRF-Token on every state-changing request — the tokens
               themselves never appear in the body;
      bearer   no cookies; the body has access_token, refresh_token and
               their lifetimes, for API clients (Authorization: Bearer).
*/
#include <stdio.h>
#include <string.h>

#include "api.h"

#define S_ACCESS_PATH   "Path=/"
#define S_REFRESH_PATH  "Path=/api/auth"

//  Check the body: only `keys` (NULL-terminated, a '*' prefix = required),
//  each a string of at most `max` bytes. False after answering 400.
static bool
s_shape (api_call_t *call, size_t max, const char *const *keys)
{
    const char *key;
    json_t *value;
    if (!call->body) {
        api_error (call, 400, "bad_request", "a JSON object body is required");
        return false;
    }
    json_object_foreach (call->body, key, value) {
        bool known = false;
        for (size_t i = 0; keys [i]; i++)
            if (strcmp (keys [i] + (keys [i][0] == '*'), key) == 0)
                known = true;
        char message [160];
        if (!known) {
            snprintf (message, sizeof message, "unknown field '%.40s'", key);
            api_error (call, 400, "bad_request", message);
            return false;
        }
        if (!json_is_string (value) || json_string_length (value) > max
        ||  strlen (json_string_value (value)) != json_string_length (value)) {
            snprintf (message, sizeof message, "%.40s: a string of at most %zu bytes", key, max);
            api_error (call, 400, "bad_request", message);
            return false;
        }
    }
    for (size_t i = 0; keys [i]; i++)
        if (keys [i][0] == '*' && !json_object_get (call->body, keys [i] + 1)) {
            char message [80];
            snprintf (message, sizeof message, "%s is required", keys [i] + 1);
            api_error (call, 400, "bad_request", message);
            return false;
        }
    return true;
}

static const char *
s_str (const json_t *object, const char *key)
{
    const char *text = json_string_value (json_object_get (object, key));
    return text ? text : "";
}

static void
s_cookie (api_call_t *call, const char *name, const char *value, const char *path,
          json_int_t max_age)
{
    char cookie [256];
    snprintf (cookie, sizeof cookie, "%s=%s; %s; Max-Age=%lld; HttpOnly; SameSite=Strict%s",
              name, value, path, (long long) max_age, call->tls ? "; Secure" : "");
    http_req_add_header (call->req, "set-cookie:", cookie);
    explicit_bzero (cookie, sizeof cookie);
}

static void
s_clear_cookies (api_call_t *call)
{
    s_cookie (call, API_COOKIE_SESSION, "", S_ACCESS_PATH, 0);
    s_cookie (call, API_COOKIE_REFRESH, "", S_REFRESH_PATH, 0);
}

//  Bad "mode" answers 400; else true with *bearer set.
static bool
s_mode (api_call_t *call, bool *bearer)
{
    const char *mode = s_str (call->body, "mode");
    *bearer = strcmp (mode, "bearer") == 0;
    if (!*bearer && *mode && strcmp (mode, "cookie") != 0) {
        api_error (call, 400, "bad_request", "mode: cookie or bearer");
        return false;
    }
    return true;
}

//  Login and refresh answer the same way.
static void
s_tokens (api_call_t *call, bus_json_t *reply, bool bearer)
{
    if (!reply->ok) {
        if (reply->code == BUS_ERR_RATE_LIMITED) {
            char seconds [24];
            snprintf (seconds, sizeof seconds, "%lld", (long long) (call->retry_after > 0
                                                                    ? call->retry_after : 60));
            http_req_add_header (call->req, "retry-after:", seconds);
        }
        api_bus_error (call, reply);
        return;
    }
    json_t *body = reply->body;
    json_int_t access_in = json_integer_value (json_object_get (body, "access_expires_in"));
    json_int_t refresh_in = json_integer_value (json_object_get (body, "refresh_expires_in"));
    json_t *out = json_pack ("{s:O, s:s, s:I}", "user", json_object_get (body, "user"),
                             "csrf_token", s_str (body, "csrf_token"),
                             "access_expires_in", access_in);
    if (bearer) {
        json_object_set_new (out, "access_token", json_string (s_str (body, "access_token")));
        json_object_set_new (out, "refresh_token", json_string (s_str (body, "refresh_token")));
        json_object_set_new (out, "refresh_expires_in", json_integer (refresh_in));
        json_object_set_new (out, "token_type", json_string ("Bearer"));
    }
    else {
        s_cookie (call, API_COOKIE_SESSION, s_str (body, "access_token"), S_ACCESS_PATH,
                  access_in);
        s_cookie (call, API_COOKIE_REFRESH, s_str (body, "refresh_token"), S_REFRESH_PATH,
                  refresh_in);
    }
    http_req_respond_json (call->req, 200, out);
}

//  --- setup ----------------------------------------------------------------

static void
s_set_up (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    http_req_respond_json (call->req, 201, json_pack ("{s:O, s:s}", "user",
        json_object_get (reply->body, "user"), "message",
        "Admin created. Log in with POST /api/auth/login."));
}

void
api_auth_setup (api_call_t *call)
{
    static const char *keys [] = { "*username", "*password", NULL };
    if (!s_shape (call, 256, keys))
        return;
    api_ask (call, "credentials", "admin_setup", call->body, s_set_up);
}

//  --- login ------------------------------------------------------------------

static void
s_logged_in_cookie (api_call_t *call, bus_json_t *reply)
{
    s_tokens (call, reply, false);
}

static void
s_logged_in_bearer (api_call_t *call, bus_json_t *reply)
{
    s_tokens (call, reply, true);
}

void
api_auth_login (api_call_t *call)
{
    static const char *keys [] = { "*username", "*password", "mode", NULL };
    bool bearer;
    if (!s_shape (call, 256, keys) || !s_mode (call, &bearer))
        return;
    json_t *fields = json_pack ("{s:s, s:s, s:s}", "username", s_str (call->body, "username"),
                                "password", s_str (call->body, "password"),
                                "client", call->client);
    api_ask (call, "credentials", "login", fields, bearer ? s_logged_in_bearer : s_logged_in_cookie);
    json_decref (fields);
}

//  --- refresh ----------------------------------------------------------------

void
api_auth_refresh (api_call_t *call)
{
    static const char *keys [] = { "refresh_token", "mode", NULL };
    if (!call->body)
        call->body = json_object ();
    bool bearer;
    if (!s_shape (call, 256, keys) || !s_mode (call, &bearer))
        return;
    const char *given = s_str (call->body, "refresh_token");
    json_t *fields;
    if (*given)
        fields = json_pack ("{s:s}", "refresh_token", given);
    else
    if (*call->refresh) {
        //  by cookie: the browser sends it by itself, so CSRF applies
        if (!*call->csrf) {
            api_error (call, 403, "csrf", "a refresh by cookie needs the session's "
                       "X-CSRF-Token header");
            return;
        }
        fields = json_pack ("{s:s, s:s}", "refresh_token", call->refresh,
                            "csrf_token", call->csrf);
    }
    else {
        api_error (call, 401, "unauthorized", "no refresh token (cookie or body)");
        return;
    }
    api_ask (call, "credentials", "refresh", fields, bearer ? s_logged_in_bearer : s_logged_in_cookie);
    json_decref (fields);
}

//  --- logout, password, me -------------------------------------------------------

static void
s_logged_out (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    s_clear_cookies (call);
    http_req_respond_json (call->req, 200, json_pack ("{s:b, s:s}", "ok", 1, "message",
                                                      "Logged out; the session is revoked."));
}

void
api_auth_logout (api_call_t *call)
{
    json_t *fields = json_pack ("{s:s}", "token", call->access);
    api_ask (call, "credentials", "logout", fields, s_logged_out);
    json_decref (fields);
}

static void
s_password_changed (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    s_clear_cookies (call);
    http_req_respond_json (call->req, 200, json_pack ("{s:b, s:s}", "ok", 1, "message",
        "Password changed; every session of this admin is revoked. Log in again."));
}

void
api_auth_password (api_call_t *call)
{
    static const char *keys [] = { "*current_password", "*new_password", NULL };
    if (!s_shape (call, 256, keys))
        return;
    json_t *fields = json_pack ("{s:s, s:s, s:s, s:s}", "access_token", call->access,
                                "current_password", s_str (call->body, "current_password"),
                                "new_password", s_str (call->body, "new_password"),
                                "client", call->client);
    api_ask (call, "credentials", "password_change", fields, s_password_changed);
    json_decref (fields);
}

void
api_auth_me (api_call_t *call)
{
    http_req_respond_json (call->req, 200, json_pack ("{s:O, s:s}", "user", call->user,
                                                      "auth", call->by_cookie ? "cookie"
                                                                              : "bearer"));
}

//  GET /api/auth/status (open): whether first-run setup is still to do.
static void
s_status (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    json_int_t admins = bus_json_int (reply->body, "admins", -1);
    if (admins < 0) {
        api_error (call, 500, "internal", "the credentials service answered in an "
                   "unexpected form");
        return;
    }
    api_ok (call, 200, json_pack ("{s:b}", "setup_required", admins == 0));
}

void
api_auth_status (api_call_t *call)
{
    api_ask (call, "credentials", "admin_status", NULL, s_status);
}
