/*  api_tokens.c — /api/tokens: the service tokens of the remote listener
    (credentials token.create / token.list / token.revoke).

      GET    /api/tokens[?all=true]   {tokens: [{id, name, created_at,
                                      last_used_at, revoked_at}]} (unix s)
      POST   /api/tokens {name}       201 {token, token_info} — the token
                                      is in this answer only (no-store)
      DELETE /api/tokens/{id|name}    {token_info}; 404 when no live token

    Session and CSRF like every state-changing route (api_router.c); the
    token's text is never logged, and the credentials actor keeps only its
    keyed hash.
*/
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "mcp_tools.h"

#define S_NAME_MAX 64

void
api_tokens_list (api_call_t *call)
{
    static const api_simple_t def = { "credentials", "token.list", 200, NULL };
    int all = 0;
    if (!api_query_bool (call, "all", &all))
        return;
    api_simple (call, &def, json_pack ("{s:b}", "include_revoked", all));
}

static json_t *
s_project_created (api_call_t *call, const json_t *reply)
{
    (void) call;
    return mcp_pick (reply, "token", "token_info", NULL);
}

void
api_tokens_create (api_call_t *call)
{
    static const api_simple_t def = { "credentials", "token.create", 201, s_project_created };
    static const char *const keys [] = { "name", NULL };
    const char *name;
    if (!api_body_only (call, keys)
    ||  !api_body_str (call, "name", true, S_NAME_MAX, &name))
        return;
    api_simple (call, &def, json_pack ("{s:s}", "name", name));
}

void
api_tokens_revoke (api_call_t *call)
{
    static const api_simple_t def = { "credentials", "token.revoke", 200, NULL };
    const char *which = api_param (call, 0);
    size_t len = strlen (which);
    bool digits = len > 0 && len <= 18 && strspn (which, "0123456789") == len;
    api_simple (call, &def, digits
        ? json_pack ("{s:I}", "token_id", (json_int_t) strtoll (which, NULL, 10))
        : json_pack ("{s:s}", "name", which));
}
