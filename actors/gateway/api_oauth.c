/*  api_oauth.c — /api/oauth: the apps an admin authorized for /mcp through
    MCPbox's OAuth server (credentials oauth.clients / oauth.client_revoke).

      GET  /api/oauth/clients          {clients: [{client_id, client_name,
                                       kind, created_at, approved_at,
                                       active_grants, last_used_at}]} (unix s)
      POST /api/oauth/clients/revoke   {client_id} → {client_id, client_name,
                                       revoked_grants}; 404 unknown client

    A client_id may be a URL (a Client ID Metadata Document), so it travels
    in the body, not in the path. Session and CSRF like every state-
    changing route (api_router.c).
*/
#include "api.h"
#include "oauth_uri.h"

void
api_oauth_clients (api_call_t *call)
{
    static const api_simple_t def = { "credentials", "oauth.clients", 200, NULL };
    api_simple (call, &def, json_object ());
}

void
api_oauth_revoke (api_call_t *call)
{
    static const api_simple_t def = { "credentials", "oauth.client_revoke", 200, NULL };
    static const char *const keys [] = { "client_id", NULL };
    const char *client_id;
    if (!api_body_only (call, keys)
    ||  !api_body_str (call, "client_id", true, OAUTH_CLIENT_ID_MAX, &client_id))
        return;
    api_simple (call, &def, json_pack ("{s:s}", "client_id", client_id));
}
