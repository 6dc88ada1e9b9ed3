/*  source_oauth_routes.c — see source_oauth_routes.h. */
#include <stdlib.h>
#include <string.h>
#include <libwebsockets.h>

#include "bus_json.h"
#include "gateway.h"
#include "log.h"
#include "oauth.h"
#include "oauth_client.h"
#include "oauth_uri.h"
#include "source_oauth_routes.h"

#define S_PAGE_MAX      8192
#define S_CIMD_PREFIX   "/sources/oauth/"

int
source_oauth_settings (config_t *config, char *redirect, size_t redirect_size,
                       char *cimd_path, size_t cimd_path_size, char *err, size_t errlen)
{
    if (oauth_source_redirect (config_str (config, "source_oauth_redirect_url"),
                               config_str (config, "http_host"),
                               (int) config_int (config, "http_port"),
                               redirect, redirect_size, err, errlen) != 0)
        return -1;
    const char *url = config_str (config, "source_oauth_client_metadata_url");
    cimd_path [0] = 0;
    if (!url || !*url)
        return 0;
    const char *host = strncmp (url, "https://", 8) == 0 ? url + 8 : NULL;
    const char *path = host ? strchr (host, '/') : NULL;
    bool visible = true;
    for (const char *p = url; *p; p++)
        visible = visible && (unsigned char) *p > 0x20 && (unsigned char) *p < 0x7f;
    if (!path || path == host || !visible || strpbrk (url, "?#@")
    ||  strncmp (path, S_CIMD_PREFIX, strlen (S_CIMD_PREFIX)) != 0
    ||  strlen (path) == strlen (S_CIMD_PREFIX)
    ||  strcmp (path, OAUTH_SOURCE_CALLBACK_PATH) == 0
    ||  strlen (path) >= cimd_path_size || strlen (url) > OAUTH_CLIENT_ID_MAX) {
        snprintf (err, errlen, "source_oauth_client_metadata_url: an https URL (at most %d "
                  "bytes, no query, fragment or userinfo) whose path is under "
                  S_CIMD_PREFIX ", e.g. https://mcp.example.com/sources/oauth/client.json",
                  OAUTH_CLIENT_ID_MAX);
        return -1;
    }
    snprintf (cimd_path, cimd_path_size, "%s", path);
    return 0;
}

void
source_oauth_keep_open (http_req_t *req)
{
    //  the bus's own timer answers first (504); this only ends a stuck one
    lws_set_timeout (http_req_wsi (req), PENDING_TIMEOUT_USER_OK,
                     (SOURCE_OAUTH_TIMEOUT_MS + 5000) / 1000 + 10);
}

//  --- the client metadata document ----------------------------------------------

bool
source_oauth_cimd_serve (http_req_t *req, const char *path, size_t len)
{
    gateway_t *gateway = http_req_gateway (req);
    if (!path || !gateway->source_cimd_path [0] || len != strlen (gateway->source_cimd_path)
    ||  memcmp (path, gateway->source_cimd_path, len) != 0)
        return false;
    if (strcmp (http_req_method (req), "GET") != 0) {
        http_req_add_header (req, "allow:", "GET");
        http_req_respond_error (req, 405, "method_not_allowed");
        return true;
    }
    //  public: what an authorization server needs to know of MCPbox as a client
    json_t *doc = json_pack ("{s:s, s:s, s:[s], s:[s, s], s:[s], s:s}",
        "client_id", gateway->source_cimd_url, "client_name", "MCPbox",
        "redirect_uris", gateway->source_redirect,
        "grant_types", "authorization_code", "refresh_token",
        "response_types", "code", "token_endpoint_auth_method", "none");
    http_req_respond_json (req, 200, doc);
    return true;
}

//  --- the callback -------------------------------------------------------------------

//  The page: title, one sentence. No script; the CSP allows nothing at all
//  but inline-free text (the style is the browser's).
static void
s_page (oauth_call_t *call, int status, const char *title, const char *text)
{
    char *page = malloc (S_PAGE_MAX);
    if (!page) {
        http_req_respond_error (call->req, 500, "internal");
        return;
    }
    snprintf (page, S_PAGE_MAX, "<!doctype html>\n<html lang=\"en\"><head>"
              "<meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, "
              "initial-scale=1\"><meta name=\"referrer\" content=\"no-referrer\"><title>");
    oauth_html_esc (page, S_PAGE_MAX, title);
    strncat (page, " · MCPbox</title></head><body><main><h1>", S_PAGE_MAX - strlen (page) - 1);
    oauth_html_esc (page, S_PAGE_MAX, title);
    strncat (page, "</h1><p role=\"status\">", S_PAGE_MAX - strlen (page) - 1);
    oauth_html_esc (page, S_PAGE_MAX - 64, text);
    strncat (page, "</p></main></body></html>\n", S_PAGE_MAX - strlen (page) - 1);
    http_req_add_header (call->req, "content-security-policy:", "default-src 'none'; "
                         "frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
    http_req_add_header (call->req, "cache-control:", "no-store");
    http_req_add_header (call->req, "x-content-type-options:", "nosniff");
    http_req_respond (call->req, status, "text/html; charset=utf-8", page, strlen (page));
    free (page);
}

static void
s_bus_failed (oauth_call_t *call, bus_json_t *reply, const char *what)
{
    char text [BUS_JSON_MESSAGE_MAX + 200];
    snprintf (text, sizeof text, "%s: %s%s%s", what, bus_error_name (reply->code),
              reply->message [0] ? ": " : "", reply->message);
    s_page (call, reply->code == BUS_ERR_NOT_FOUND ? 404 : 502, "Not authorized", text);
}

static void
s_exchanged (oauth_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        s_bus_failed (call, reply, "The sandbox could not finish the authorization");
        return;
    }
    const char *name = bus_json_str (call->ctx, "name");
    if (!json_is_true (json_object_get (reply->body, "success"))) {
        const char *message = bus_json_str (json_object_get (reply->body, "error"), "message");
        char text [1200];
        snprintf (text, sizeof text, "The source '%.200s' was not authorized: %.900s",
                  name ? name : "", message ? message : "no reason given");
        const char *type = bus_json_str (json_object_get (reply->body, "error"), "type");
        log_info ("source %s: OAuth authorization failed", bus_json_str (call->ctx, "id"));
        s_page (call, type && strcmp (type, "SourceRefused") == 0 ? 400 : 502,
                "Not authorized", text);
        return;
    }
    char text [400];
    snprintf (text, sizeof text, "MCPbox may now call the source '%.200s'. You can close "
              "this page.", name ? name : "");
    log_info ("source %s: authorized by OAuth", bus_json_str (call->ctx, "id"));
    s_page (call, 200, "Source authorized", text);
}

static void
s_got_rules (oauth_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        s_bus_failed (call, reply, "The server's network rules could not be read");
        return;
    }
    const char *why = NULL;
    json_t *job = source_oauth_job (json_object_get (call->ctx, "source"), reply->body,
                                    "oauth_exchange", &why);
    if (!job) {
        s_page (call, 400, "Not authorized", why);
        return;
    }
    json_object_set (job, "state", json_object_get (call->ctx, "state"));
    json_object_set (job, "code", json_object_get (call->ctx, "code"));
    if (json_object_get (call->ctx, "iss"))     //  RFC 9207: the executor compares it
        json_object_set (job, "iss", json_object_get (call->ctx, "iss"));
    source_oauth_keep_open (call->req);
    oauth_ask_service (call, "sandbox", "source", job, SOURCE_OAUTH_TIMEOUT_MS + 5000,
                       s_exchanged);
    json_decref (job);
}

static void
s_got_source (oauth_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        s_bus_failed (call, reply, "The source named by this authorization is unknown");
        return;
    }
    json_t *source = json_object_get (reply->body, "source");
    json_object_set (call->ctx, "source", source);
    json_object_set (call->ctx, "name", json_object_get (source, "name"));
    oauth_ask_service (call, "approval", "effective", NULL, OAUTH_BUS_TIMEOUT_MS, s_got_rules);
}

void
source_oauth_callback_start (http_req_t *req)
{
    if (strcmp (http_req_method (req), "GET") != 0) {
        http_req_add_header (req, "allow:", "GET");
        http_req_respond_error (req, 405, "method_not_allowed");
        return;
    }
    oauth_call_t *call = oauth_call_new (req, false);
    if (!call || !oauth_read_query (call))
        return;
    const char *error = oauth_param (call, "error");
    const char *state = oauth_param (call, "state");
    const char *code = oauth_param (call, "code");
    char source_id [65];
    if (*error) {
        //  RFC 6749 §4.1.2.1: the server's refusal (pending stays until it expires)
        char text [1200];
        const char *description = oauth_param (call, "error_description");
        snprintf (text, sizeof text, "The authorization server answered: %.100s%s%.900s",
                  error, *description ? ": " : "", description);
        s_page (call, 400, "Not authorized", text);
        return;
    }
    if (!*state || !*code || oauth_state_source (state, source_id, sizeof source_id) != 0) {
        s_page (call, 400, "Not authorized", "This page expects the code and state an "
                "authorization server sends back; start from mcpbox sources authorize ID "
                "or the dashboard.");
        return;
    }
    call->ctx = json_pack ("{s:s, s:s, s:s}", "state", state, "code", code, "id", source_id);
    const char *iss = oauth_param (call, "iss");
    if (call->ctx && *iss && json_object_set_new (call->ctx, "iss", json_string (iss)) != 0) {
        s_page (call, 400, "Not authorized", "The authorization response's iss is not text.");
        return;
    }
    json_t *fields = json_pack ("{s:s}", "source_id", source_id);
    if (!call->ctx || !fields) {
        json_decref (fields);
        http_req_respond_error (req, 500, "internal");
        return;
    }
    oauth_ask_service (call, "registry", "source.get", fields, OAUTH_BUS_TIMEOUT_MS,
                       s_got_source);
    json_decref (fields);
}
