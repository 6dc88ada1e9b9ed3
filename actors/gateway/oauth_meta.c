/*  oauth_meta.c — the two metadata documents (oauth.h).

    GET /.well-known/oauth-protected-resource and its path-suffixed form
    /.well-known/oauth-protected-resource/mcp (RFC 9728 §3.1): the resource
    (base + "/mcp") and its one authorization server (base).
    GET /.well-known/oauth-authorization-server (RFC 8414): the endpoints,
    PKCE S256 only, public clients only (token_endpoint_auth_method
    "none"), Client ID Metadata Documents and dynamic registration.
    Both are open to any origin (a browser-based MCP client reads them).
*/
#include <stdio.h>
#include <string.h>
#include "oauth.h"

void
oauth_meta_resource (http_req_t *req)
{
    oauth_call_t *call = oauth_cors_start (req, "GET");
    if (!call)
        return;
    http_req_respond_json (req, 200, json_pack (
        "{s:s, s:[s], s:[s], s:s}",
        "resource", call->resource,
        "authorization_servers", call->base,
        "bearer_methods_supported", "header",
        "resource_name", "MCPbox"));
}

void
oauth_meta_server (http_req_t *req)
{
    oauth_call_t *call = oauth_cors_start (req, "GET");
    if (!call)
        return;
    char authorize [OAUTH_BASE_MAX + 16], token [OAUTH_BASE_MAX + 16];
    char registration [OAUTH_BASE_MAX + 16], revocation [OAUTH_BASE_MAX + 16];
    snprintf (authorize, sizeof authorize, "%s/authorize", call->base);
    snprintf (token, sizeof token, "%s/token", call->base);
    snprintf (registration, sizeof registration, "%s/register", call->base);
    snprintf (revocation, sizeof revocation, "%s/revoke", call->base);
    http_req_respond_json (req, 200, json_pack (
        "{s:s, s:s, s:s, s:s, s:s, s:[s], s:[s], s:[ss], s:[s], s:[s], s:[s], "
        " s:b, s:b}",
        "issuer", call->base,
        "authorization_endpoint", authorize,
        "token_endpoint", token,
        "registration_endpoint", registration,
        "revocation_endpoint", revocation,
        "response_types_supported", "code",
        "response_modes_supported", "query",
        "grant_types_supported", "authorization_code", "refresh_token",
        "code_challenge_methods_supported", "S256",
        "token_endpoint_auth_methods_supported", "none",
        "revocation_endpoint_auth_methods_supported", "none",
        "client_id_metadata_document_supported", 1,
        "authorization_response_iss_parameter_supported", 1));
}
