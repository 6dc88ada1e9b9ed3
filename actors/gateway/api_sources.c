/*  api_sources.c — the admin API's view of external MCP sources:

      GET /api/servers/{id}/sources   the server's sources with their health
                                      (registry source.list): status,
                                      tool_count, last_discovered_at,
                                      last_contact_at, last_error(_at),
                                      protocol_version

    The registry answers not_found (404) for an unknown server. Adding,
    discovering and importing go through the management tools (the LLM's
    side) and approval through /api/approvals, like any tool.
*/
#include "api.h"

void
api_sources_list (api_call_t *call)
{
    static const api_simple_t def = { "registry", "source.list", 200, NULL };
    api_simple (call, &def, json_pack ("{s:s}", "server_id", api_param (call, 0)));
}
