/*  oauth_authorize.c — the authorization endpoint and its consent page
    (oauth.h).

    GET /authorize?response_type=code&client_id&redirect_uri&
                   code_challenge&code_challenge_method=S256&state&resource&scope
      1. client_id and redirect_uri are checked first; until both are
         known good, every problem is a page here (never a redirect: an
         unchecked redirect_uri is an open redirector). A client_id that
         is an https URL is a Client ID Metadata Document, fetched and
         saved (oauth_cimd.c); any other must have been registered.
         redirect_uri must be exactly one the client registered.
      2. then problems go back to the client as a redirect with error=
         (RFC 6749 §4.1.2.1): response_type not code, PKCE missing or not
         S256 (plain is refused), a resource (RFC 8707) other than this
         server's /mcp (invalid_target).
      3. credentials keeps the request pending (10 minutes) and gives two
         tokens: `request` goes into the form, `csrf` into a cookie
         (HttpOnly, SameSite=Strict, Path=/authorize); the page shows the
         client's name as text (escaped, never markup) and where it
         returns to, and asks the admin to sign in.
    POST /authorize (form: request, decision approve|deny, username,
    password; the cookie): an Origin other than the page's own is 403
    before the body is read (oauth_same_origin); then credentials checks the cookie against the
    request and, to approve, the admin's password under the same failed-
    login limits as /api/auth/login. Approve → 302 to redirect_uri with
    code, state, iss (RFC 9207); Deny → error=access_denied. A wrong
    password shows the page again; too many → 429 with Retry-After.

    The page: no script at all, its one stylesheet from /oauth/consent.css,
    a CSP that allows only that (form-action 'self' and the client's
    redirect origin, which the approval's redirect needs), never framed.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "oauth.h"
#include "oauth_form.h"

#define S_PAGE_MAX (16 * 1024)

//  --- HTML ------------------------------------------------------------------------

void
oauth_html_esc (char *buf, size_t cap, const char *text)
{
    size_t n = strlen (buf);
    for (const char *p = text; *p && n + 7 < cap; p++) {
        const char *entity = NULL;
        switch (*p) {
            case '&':  entity = "&amp;";  break;
            case '<':  entity = "&lt;";   break;
            case '>':  entity = "&gt;";   break;
            case '"':  entity = "&quot;"; break;
            case '\'': entity = "&#39;";  break;
            default:   break;
        }
        if (entity) {
            memcpy (buf + n, entity, strlen (entity));
            n += strlen (entity);
        }
        else
            buf [n++] = *p;
    }
    buf [n] = 0;
}

#define s_esc oauth_html_esc

static void
s_cat (char *buf, size_t cap, const char *text)
{
    size_t n = strlen (buf), len = strlen (text);
    if (n + len < cap) {
        memcpy (buf + n, text, len + 1);
    }
}

//  scheme://host[:port] of a checked redirect URI.
static void
s_origin (const char *uri, char *out, size_t size)
{
    const char *start = strstr (uri, "://");
    size_t len = start ? (size_t) (start + 3 - uri) + strcspn (start + 3, "/?#") : 0;
    snprintf (out, size, "%.*s", (int) len, uri);
}

static void
s_headers (oauth_call_t *call, const char *redirect_uri)
{
    char origin [OAUTH_URI_MAX + 1] = "", csp [OAUTH_URI_MAX + 256];
    if (redirect_uri)
        s_origin (redirect_uri, origin, sizeof origin);
    snprintf (csp, sizeof csp, "default-src 'none'; style-src 'self'; img-src 'self'; "
              "form-action 'self'%s%s; frame-ancestors 'none'; base-uri 'none'",
              *origin ? " " : "", origin);
    http_req_add_header (call->req, "content-security-policy:", csp);
    //  same-origin, not the gateway's no-referrer: under no-referrer a
    //  browser sends "Origin: null" with the form, which the POST refuses;
    //  no Referer goes to another origin either way
    http_req_add_header (call->req, "referrer-policy:", "same-origin");
    http_req_add_header (call->req, "cache-control:", "no-store");
}

static void
s_page_open (char *page, const char *title)
{
    snprintf (page, S_PAGE_MAX, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
              "<meta name=\"referrer\" content=\"same-origin\">"
              "<link rel=\"stylesheet\" href=\"/oauth/consent.css\"><title>");
    s_esc (page, S_PAGE_MAX, title);
    s_cat (page, S_PAGE_MAX, " · MCPbox</title></head><body><main>");
}

static void
s_respond_page (oauth_call_t *call, int status, char *page)
{
    s_cat (page, S_PAGE_MAX, "</main></body></html>\n");
    http_req_respond (call->req, status, "text/html; charset=utf-8", page, strlen (page));
}

//  A page that only says what went wrong (no redirect).
static void
s_message (oauth_call_t *call, int status, const char *title, const char *text)
{
    char *page = malloc (S_PAGE_MAX);
    if (!page) {
        http_req_respond_error (call->req, 500, "internal");
        return;
    }
    s_headers (call, NULL);
    s_page_open (page, title);
    s_cat (page, S_PAGE_MAX, "<h1>");
    s_esc (page, S_PAGE_MAX, title);
    s_cat (page, S_PAGE_MAX, "</h1><p role=\"alert\">");
    s_esc (page, S_PAGE_MAX, text);
    s_cat (page, S_PAGE_MAX, "</p>");
    s_respond_page (call, status, page);
    free (page);
}

//  The consent page. error: "" or a sentence shown above the form.
static void
s_consent (oauth_call_t *call, int status, const char *client_name, const char *client_id,
           const char *redirect_uri, const char *request, const char *error)
{
    char *page = malloc (S_PAGE_MAX);
    if (!page) {
        http_req_respond_error (call->req, 500, "internal");
        return;
    }
    char origin [OAUTH_URI_MAX + 1];
    s_origin (redirect_uri, origin, sizeof origin);
    s_headers (call, redirect_uri);
    s_page_open (page, "Authorize an app");
    s_cat (page, S_PAGE_MAX, "<h1>Authorize <span class=\"client\" id=\"client-name\">");
    s_esc (page, S_PAGE_MAX, client_name);
    s_cat (page, S_PAGE_MAX, "</span></h1><p>This app asks to use the tools of this MCPbox "
           "(<span class=\"mono\">");
    s_esc (page, S_PAGE_MAX, call->resource);
    s_cat (page, S_PAGE_MAX, "</span>) on your behalf, until you revoke it.</p>"
           "<dl><dt>Client ID</dt><dd class=\"mono\" id=\"client-id\">");
    s_esc (page, S_PAGE_MAX, client_id);
    s_cat (page, S_PAGE_MAX, "</dd><dt>Returns to</dt><dd class=\"mono\" id=\"return-to\">");
    s_esc (page, S_PAGE_MAX, origin);
    s_cat (page, S_PAGE_MAX, "</dd></dl>");
    if (error && *error) {
        s_cat (page, S_PAGE_MAX, "<p class=\"error\" role=\"alert\">");
        s_esc (page, S_PAGE_MAX, error);
        s_cat (page, S_PAGE_MAX, "</p>");
    }
    s_cat (page, S_PAGE_MAX, "<form method=\"post\" action=\"/authorize\">"
           "<input type=\"hidden\" name=\"request\" value=\"");
    s_esc (page, S_PAGE_MAX, request);
    s_cat (page, S_PAGE_MAX, "\"><p>Sign in as an MCPbox admin to approve.</p>"
           "<label for=\"username\">Username</label>"
           "<input id=\"username\" name=\"username\" autocomplete=\"username\" "
           "autocapitalize=\"none\" maxlength=\"50\">"
           "<label for=\"password\">Password</label>"
           "<input id=\"password\" name=\"password\" type=\"password\" "
           "autocomplete=\"current-password\" maxlength=\"128\">"
           "<div class=\"actions\">"
           "<button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\">"
           "Deny</button>"
           "<button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>"
           "</div></form>");
    s_respond_page (call, status, page);
    free (page);
}

//  --- redirects back to the client --------------------------------------------------

//  302 to redirect_uri with names[i]=values[i] (NULL-terminated) and iss.
static void
s_redirect (oauth_call_t *call, const char *redirect_uri, const char *const *names,
            const char *const *values)
{
    size_t cap = strlen (redirect_uri) + 8 * 1024;
    char *location = malloc (cap);
    if (!location) {
        http_req_respond_error (call->req, 500, "internal");
        return;
    }
    snprintf (location, cap, "%s", redirect_uri);
    bool query = strchr (redirect_uri, '?') != NULL;
    for (size_t i = 0; names [i]; i++) {
        if (!values [i] || !*values [i])
            continue;
        s_cat (location, cap, query ? "&" : "?");
        query = true;
        s_cat (location, cap, names [i]);
        s_cat (location, cap, "=");
        oauth_form_encode (location, cap, values [i]);
    }
    s_cat (location, cap, query ? "&iss=" : "?iss=");
    oauth_form_encode (location, cap, call->base);
    http_req_add_header (call->req, "location:", location);
    http_req_add_header (call->req, "cache-control:", "no-store");
    http_req_respond (call->req, 302, "text/plain", "", 0);
    explicit_bzero (location, cap);
    free (location);
}

static void
s_redirect_error (oauth_call_t *call, const char *error, const char *description)
{
    const char *const names [] = { "error", "error_description", "state", NULL };
    const char *const values [] = { error, description, oauth_param (call, "state"), NULL };
    s_redirect (call, oauth_param (call, "redirect_uri"), names, values);
}

//  --- GET ------------------------------------------------------------------------------

static void
s_bus_page (oauth_call_t *call, bus_json_t *reply, const char *what)
{
    char text [BUS_JSON_MESSAGE_MAX + 120];
    if (reply->code == BUS_ERR_RATE_LIMITED) {
        char seconds [24];
        snprintf (seconds, sizeof seconds, "%lld", (long long) (call->retry_after > 0
                                                                ? call->retry_after : 60));
        http_req_add_header (call->req, "retry-after:", seconds);
        snprintf (text, sizeof text, "%s Try again in %s seconds.",
                  reply->message [0] ? reply->message : "Too many attempts.", seconds);
        s_message (call, 429, "Too many attempts", text);
        return;
    }
    int status = reply->code == BUS_ERR_NOT_FOUND ? 400
               : reply->code == BUS_ERR_FORBIDDEN ? 403
               : reply->code == BUS_ERR_BAD_REQUEST ? 400 : 503;
    snprintf (text, sizeof text, "%s%s%s", what, reply->message [0] ? ": " : ".",
              status == 503 ? "the credentials service is not available" : reply->message);
    s_message (call, status, "Cannot authorize", text);
}

static void
s_begun (oauth_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        s_bus_page (call, reply, "The authorization request was refused");
        return;
    }
    const char *csrf = bus_json_str (reply->body, "csrf");
    const char *request = bus_json_str (reply->body, "request");
    if (!csrf || !request) {
        s_message (call, 500, "Cannot authorize", "The credentials service answered in an "
                   "unexpected form.");
        return;
    }
    char cookie [256];
    snprintf (cookie, sizeof cookie, "%s=%s; Path=/authorize; Max-Age=%lld; HttpOnly; "
              "SameSite=Strict%s", OAUTH_CONSENT_COOKIE, csrf,
              (long long) bus_json_int (reply->body, "expires_in", 600),
              call->https ? "; Secure" : "");
    http_req_add_header (call->req, "set-cookie:", cookie);
    explicit_bzero (cookie, sizeof cookie);
    const char *name = bus_json_str (reply->body, "client_name");
    s_consent (call, 200, name ? name : "", oauth_param (call, "client_id"),
               oauth_param (call, "redirect_uri"), request, "");
}

//  The client is known (registered, or its document fetched and saved).
static void
s_client (oauth_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        s_bus_page (call, reply, reply->code == BUS_ERR_NOT_FOUND
                    ? "This app is not registered here (unknown client_id)"
                    : "The app's registration could not be read");
        return;
    }
    const char *redirect_uri = oauth_param (call, "redirect_uri");
    bool registered = false;
    size_t i;
    json_t *uri;
    json_array_foreach (json_object_get (reply->body, "redirect_uris"), i, uri)
        if (json_is_string (uri) && strcmp (json_string_value (uri), redirect_uri) == 0)
            registered = true;
    if (!registered) {
        s_message (call, 400, "Cannot authorize", "The redirect_uri is not one this app "
                   "registered, so MCPbox will not send you there.");
        return;
    }
    //  from here on, problems go back to the client
    if (strcmp (oauth_param (call, "response_type"), "code") != 0) {
        s_redirect_error (call, "unsupported_response_type", "response_type must be code");
        return;
    }
    if (strcmp (oauth_param (call, "code_challenge_method"), "S256") != 0) {
        s_redirect_error (call, "invalid_request", "PKCE is required with "
                          "code_challenge_method=S256 (plain is not supported)");
        return;
    }
    if (!oauth_pkce_challenge_valid (oauth_param (call, "code_challenge"))) {
        s_redirect_error (call, "invalid_request", "code_challenge must be 43 base64url "
                          "characters (S256)");
        return;
    }
    const char *resource = oauth_param (call, "resource");
    if (*resource && strcmp (resource, call->resource) != 0) {
        s_redirect_error (call, "invalid_target", "resource must be this server's MCP "
                          "endpoint");
        return;
    }
    if (strlen (oauth_param (call, "state")) > OAUTH_STATE_MAX
    ||  strlen (oauth_param (call, "scope")) > OAUTH_SCOPE_MAX) {
        s_redirect_error (call, "invalid_request", "state and scope: at most 1024 bytes");
        return;
    }
    json_t *fields = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s}",
        "client_id", oauth_param (call, "client_id"),
        "redirect_uri", redirect_uri,
        "code_challenge", oauth_param (call, "code_challenge"),
        "resource", call->resource,
        "scope", oauth_param (call, "scope"),
        "state", oauth_param (call, "state"));
    oauth_ask (call, "oauth.authorize_begin", fields, s_begun);
    json_decref (fields);
}

static void
s_fetched (oauth_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        char text [BUS_JSON_MESSAGE_MAX + 80];
        snprintf (text, sizeof text, "The app's client metadata document cannot be used: %s",
                  reply->message);
        s_message (call, 400, "Cannot authorize", text);
        return;
    }
    json_t *fields = json_pack ("{s:s, s:O, s:O}", "client_id", oauth_param (call, "client_id"),
                                "client_name", json_object_get (reply->body, "client_name"),
                                "redirect_uris", json_object_get (reply->body, "redirect_uris"));
    if (!fields) {
        s_message (call, 500, "Cannot authorize", "out of memory");
        return;
    }
    oauth_ask (call, "oauth.client_put", fields, s_client);
    json_decref (fields);
}

static void
s_get (oauth_call_t *call)
{
    if (!oauth_read_query (call))
        return;
    const char *client_id = oauth_param (call, "client_id");
    const char *redirect_uri = oauth_param (call, "redirect_uri");
    if (!*client_id || !*redirect_uri) {
        s_message (call, 400, "Cannot authorize", "The request needs client_id and "
                   "redirect_uri.");
        return;
    }
    if (strlen (client_id) > OAUTH_CLIENT_ID_MAX) {
        s_message (call, 400, "Cannot authorize", "The client_id is too long.");
        return;
    }
    bool url = strncmp (client_id, "https://", 8) == 0 || strncmp (client_id, "http://", 7) == 0;
    if (url) {
        char why [160], text [240];
        if (!oauth_cimd_url_valid (client_id, why, sizeof why)) {
            snprintf (text, sizeof text, "The client_id URL cannot be used: %s.", why);
            s_message (call, 400, "Cannot authorize", text);
            return;
        }
        if (!oauth_cimd_fetch (call, client_id, s_fetched)) {
            http_req_add_header (call->req, "retry-after:", "5");
            s_message (call, 503, "Busy", "Too many app descriptions are being fetched; "
                       "try again in a few seconds.");
        }
        return;
    }
    json_t *fields = json_pack ("{s:s}", "client_id", client_id);
    oauth_ask (call, "oauth.client_get", fields, s_client);
    json_decref (fields);
}

//  --- POST -------------------------------------------------------------------------------

static void
s_again (oauth_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        s_bus_page (call, reply, "The authorization request is over");
        return;
    }
    const char *name = bus_json_str (reply->body, "client_name");
    const char *id = bus_json_str (reply->body, "client_id");
    const char *redirect_uri = bus_json_str (reply->body, "redirect_uri");
    s_consent (call, 200, name ? name : "", id ? id : "", redirect_uri ? redirect_uri : "",
               oauth_param (call, "request"), "Wrong username or password.");
}

static void
s_finished (oauth_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        if (reply->code == BUS_ERR_UNAUTHORIZED
        ||  (reply->code == BUS_ERR_BAD_REQUEST
             && strcmp (oauth_param (call, "decision"), "approve") == 0)) {
            //  a wrong or missing username or password: the page again
            json_t *fields = json_pack ("{s:s}", "request", oauth_param (call, "request"));
            oauth_ask (call, "oauth.request_get", fields, s_again);
            json_decref (fields);
        }
        else
            s_bus_page (call, reply, "The authorization was not given");
        return;
    }
    const char *redirect_uri = bus_json_str (reply->body, "redirect_uri");
    const char *state = bus_json_str (reply->body, "state");
    const char *code = bus_json_str (reply->body, "code");
    if (!redirect_uri) {
        s_message (call, 500, "Cannot authorize", "The credentials service answered in an "
                   "unexpected form.");
        return;
    }
    //  the consent cookie is spent either way
    char cookie [128];
    snprintf (cookie, sizeof cookie, "%s=; Path=/authorize; Max-Age=0; HttpOnly; "
              "SameSite=Strict%s", OAUTH_CONSENT_COOKIE, call->https ? "; Secure" : "");
    http_req_add_header (call->req, "set-cookie:", cookie);
    if (code) {
        const char *const names [] = { "code", "state", NULL };
        const char *const values [] = { code, state, NULL };
        s_redirect (call, redirect_uri, names, values);
    }
    else {
        const char *const names [] = { "error", "error_description", "state", NULL };
        const char *const values [] = { "access_denied", "the admin denied the request",
                                        state, NULL };
        s_redirect (call, redirect_uri, names, values);
    }
}

static void
s_post_body (oauth_call_t *call)
{
    char csrf [API_TOKEN_LEN + 1];
    oauth_cookie (call, csrf);
    const char *decision = oauth_param (call, "decision");
    if (!*oauth_param (call, "request")) {
        s_message (call, 400, "Cannot authorize", "The form is incomplete; start again from "
                   "the app.");
        return;
    }
    if (!*csrf) {
        s_message (call, 403, "Cannot authorize", "The consent page's cookie is missing "
                   "(cookies blocked, or the page is too old); start again from the app.");
        return;
    }
    if (strcmp (decision, "approve") != 0 && strcmp (decision, "deny") != 0) {
        s_message (call, 400, "Cannot authorize", "Choose Approve or Deny.");
        return;
    }
    json_t *fields = json_pack ("{s:s, s:s, s:s, s:s}", "request", oauth_param (call, "request"),
                                "csrf", csrf, "decision", decision, "client", call->client);
    if (strcmp (decision, "approve") == 0) {
        json_object_set_new (fields, "username", json_string (oauth_param (call, "username")));
        json_object_set_new (fields, "password", json_string (oauth_param (call, "password")));
    }
    explicit_bzero (csrf, sizeof csrf);
    oauth_ask (call, "oauth.authorize_finish", fields, s_finished);
    //  the password is in fields: wipe its copy
    json_t *password = json_object_get (fields, "password");
    if (password)
        explicit_bzero ((void *) json_string_value (password), json_string_length (password));
    json_decref (fields);
}

void
oauth_authorize_start (http_req_t *req)
{
    oauth_call_t *call = oauth_call_new (req, false);
    if (!call)
        return;
    const char *method = http_req_method (req);
    if (strcmp (method, "GET") == 0)
        s_get (call);
    else
    if (strcmp (method, "POST") == 0) {
        //  the cookie is SameSite=Strict, but another port of the same
        //  host is the same site: only our own page may post the form
        if (!oauth_same_origin (call)) {
            http_req_close_after (req);     //  its body is never read
            s_message (call, 403, "Cannot authorize", "The form was not sent from this "
                       "server's consent page.");
            return;
        }
        oauth_read_body (call, false, s_post_body);
    }
    else {
        http_req_add_header (req, "allow:", "GET, POST");
        s_message (call, 405, "Cannot authorize", "GET or POST only.");
    }
}

//  --- the stylesheet -------------------------------------------------------------------

static const char s_css [] =
    ":root{color-scheme:light dark;--fg:#1b1f24;--bg:#f6f7f9;--card:#fff;--muted:#5b6472;"
    "--accent:#2457d6;--err:#b3261e;--line:#d6dae0}"
    "@media (prefers-color-scheme:dark){:root{--fg:#e6e8eb;--bg:#14171b;--card:#1d2126;"
    "--muted:#a3abb7;--accent:#7aa2ff;--err:#ff8a80;--line:#363c45}}"
    "*{box-sizing:border-box}"
    "body{margin:0;font:16px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;"
    "color:var(--fg);background:var(--bg)}"
    "main{max-width:28rem;margin:2rem auto;padding:1.5rem;background:var(--card);"
    "border:1px solid var(--line);border-radius:12px}"
    "@media (max-width:30rem){main{margin:0;border-radius:0;border-left:0;border-right:0}}"
    "h1{font-size:1.3rem;margin:0 0 .75rem;overflow-wrap:anywhere}"
    ".client{color:var(--accent)}"
    ".mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85rem;"
    "overflow-wrap:anywhere}"
    "dl{margin:1rem 0;display:grid;grid-template-columns:auto 1fr;gap:.25rem .75rem}"
    "dt{color:var(--muted)}dd{margin:0}"
    "label{display:block;margin:.75rem 0 .25rem;font-weight:600}"
    "input{width:100%;padding:.6rem;font:inherit;color:inherit;background:transparent;"
    "border:1px solid var(--line);border-radius:8px}"
    ".actions{display:flex;gap:.75rem;justify-content:flex-end;margin-top:1.25rem;"
    "flex-wrap:wrap}"
    "button{min-height:44px;padding:.6rem 1.2rem;font:inherit;font-weight:600;border-radius:8px;"
    "border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer}"
    "button.secondary{background:transparent;color:var(--fg);border-color:var(--line)}"
    "button:focus-visible,input:focus-visible{outline:3px solid var(--accent);"
    "outline-offset:2px}"
    ".error{color:var(--err);font-weight:600}\n";

void
oauth_consent_css (http_req_t *req)
{
    http_req_add_header (req, "cache-control:", "public, max-age=3600");
    http_req_respond (req, 200, "text/css; charset=utf-8", s_css, sizeof s_css - 1);
}
