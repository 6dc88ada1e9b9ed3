/*  api_sources.c — the admin API's view of external MCP sources:

      GET /api/servers/{id}/sources   the server's sources with their health
                                      (registry source.list): status,
                                      tool_count, last_discovered_at,
                                      last_contact_at, last_error(_at),
                                      protocol_version; an oauth source's
                                      state (credentials source_oauth.status)
                                      as oauth {state, expires_at_ms?, ...}

      POST /api/sources/{id}/authorize  an OAuth source's authorization
                                      begins (source_oauth_routes.h): registry
                                      source.get -> approval effective ->
                                      sandbox `source` {action: oauth_begin}:
                                      {authorization_url, redirect_uri} for
                                      the admin to open

    The registry answers not_found (404) for an unknown server. Adding,
    discovering and importing go through the management tools (the LLM's
    side) and approval through /api/approvals, like any tool.
*/
#include <string.h>

#include "api.h"
#include "gateway.h"
#include "source_oauth_routes.h"

//  The oauth sources get "oauth": credentials' status of them (never a
//  secret); without an answer from credentials the list comes without it.
static void
s_oauth_states (api_call_t *call, bus_json_t *reply)
{
    json_t *states = reply->ok ? json_object_get (reply->body, "sources") : NULL;
    size_t i;
    json_t *source;
    json_array_foreach (json_object_get (call->ctx, "sources"), i, source) {
        const char *id = bus_json_str (source, "id");
        json_t *state = id ? json_object_get (states, id) : NULL;
        if (json_is_object (state))
            json_object_set (source, "oauth", state);
    }
    json_object_del (call->ctx, "ok");
    api_ok (call, 200, json_incref (call->ctx));
}

static void
s_listed (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    json_t *ids = json_array ();
    size_t i;
    json_t *source;
    json_array_foreach (json_object_get (reply->body, "sources"), i, source) {
        const char *auth = bus_json_str (source, "auth_type");
        if (auth && strcmp (auth, "oauth") == 0 && json_object_get (source, "id"))
            json_array_append (ids, json_object_get (source, "id"));
    }
    if (json_array_size (ids) == 0) {
        json_decref (ids);
        json_object_del (reply->body, "ok");
        api_ok (call, 200, json_incref (reply->body));
        return;
    }
    call->ctx = json_incref (reply->body);
    json_t *fields = json_pack ("{s:o}", "source_ids", ids);
    api_ask (call, "credentials", "source_oauth.status", fields, s_oauth_states);
    json_decref (fields);
}

void
api_sources_list (api_call_t *call)
{
    json_t *fields = json_pack ("{s:s}", "server_id", api_param (call, 0));
    api_ask (call, "registry", "source.list", fields, s_listed);
    json_decref (fields);
}

static void
s_begun (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    if (!json_is_true (json_object_get (reply->body, "success"))) {
        const char *message = bus_json_str (json_object_get (reply->body, "error"), "message");
        api_error (call, 502, "source_error", message ? message : "the source could not be "
                   "reached");
        return;
    }
    api_ok (call, 200, json_pack ("{s:O, s:O, s:O}",
        "authorization_url", json_object_get (reply->body, "authorization_url"),
        "redirect_uri", json_object_get (reply->body, "redirect_uri"),
        "registration", json_object_get (reply->body, "registration")));
}

static void
s_authorize_rules (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    const char *why = NULL;
    json_t *job = source_oauth_job (json_object_get (call->ctx, "source"), reply->body,
                                    "oauth_begin", &why);
    if (!job) {
        api_error (call, 400, "bad_request", why);
        return;
    }
    gateway_t *gateway = http_req_gateway (call->req);
    json_object_set_new (job, "redirect_uri", json_string (gateway->source_redirect));
    if (gateway->source_cimd_url [0])
        json_object_set_new (job, "client_metadata_url",
                             json_string (gateway->source_cimd_url));
    source_oauth_keep_open (call->req);
    api_ask_timeout (call, "sandbox", "source", job, SOURCE_OAUTH_TIMEOUT_MS + 5000, s_begun);
    json_decref (job);
}

static void
s_authorize_source (api_call_t *call, bus_json_t *reply)
{
    if (!reply->ok) {
        api_bus_error (call, reply);
        return;
    }
    call->ctx = json_pack ("{s:O}", "source", json_object_get (reply->body, "source"));
    api_ask (call, "approval", "effective", NULL, s_authorize_rules);
}

void
api_sources_authorize (api_call_t *call)
{
    static const char *const keys [] = { NULL };
    if (!api_body_only (call, keys))
        return;
    json_t *fields = json_pack ("{s:s}", "source_id", api_param (call, 0));
    api_ask (call, "registry", "source.get", fields, s_authorize_source);
    json_decref (fields);
}
