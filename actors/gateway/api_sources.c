/*  api_sources.c — the admin API's view of external MCP sources:

      GET /api/servers/{id}/sources   the server's sources with their health
                                      (registry source.list): status,
                                      tool_count, last_discovered_at,
                                      last_contact_at, last_error(_at),
                                      protocol_version

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

void
api_sources_list (api_call_t *call)
{
    static const api_simple_t def = { "registry", "source.list", 200, NULL };
    api_simple (call, &def, json_pack ("{s:s}", "server_id", api_param (call, 0)));
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
