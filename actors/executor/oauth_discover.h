/*  oauth_discover.h — the discovery step of the OAuth 2.1 client for
    external MCP sources (the MCP authorization spec), run by the executor
    for the `source` op's action "oauth_discover".

      1. the 401 probe: the transport's first request without credentials
         (an initialize POSTed; for the legacy HTTP+SSE transport the
         stream's GET, of which only the status and headers are read) must
         be answered 401; its WWW-Authenticate (Bearer) may name the
         protected-resource metadata (`resource_metadata`);
      2. protected-resource metadata (RFC 9728): from that URL, else
         /.well-known/oauth-protected-resource/<path>, then without the path;
         its `resource` must be the source (its URL, or a prefix of it ending at a '/', on the
         same origin) and it must name an authorization server;
      3. authorization-server metadata (RFC 8414): /.well-known/oauth-
         authorization-server/<path>, then the OpenID Connect forms; its
         `issuer` must be the server asked, it must offer PKCE S256 and
         name the authorization and token endpoints.

    Every URL is fetched through http_fetch (the job's network rules and
    the SSRF rules, the address pinned, each redirect checked), and every
    endpoint URL found in metadata (token, registration, revocation) is
    checked the same way before it is accepted, so metadata pointing the
    token endpoint at loopback or a metadata address is refused. The
    authorization endpoint is opened by the admin's browser, never by
    MCPbox: it must be http(s) without userinfo. Each document is at most
    OAUTH_METADATA_MAX bytes of a JSON object.

    The rest of the client (registration, PKCE and state, the code exchange,
    refresh) is oauth_client.h; what needs credentials, source_oauth.h.
*/
#ifndef MCPBOX_OAUTH_DISCOVER_H
#define MCPBOX_OAUTH_DISCOVER_H

#include <jansson.h>
#include <stdint.h>
#include "mcp_client.h"
#include "ssrf.h"

#define OAUTH_METADATA_MAX  (64 * 1024)     //  bytes of one metadata document
#define OAUTH_PARAM_MAX     2048            //  bytes of one header parameter

//  The value of auth-param `param` of the challenge for `scheme` in a
//  WWW-Authenticate header value (RFC 9110 §11.6.1: token68 or
//  comma-separated name=token / name="quoted string"), case-insensitive
//  names. 0 with the value in out; 1 when absent; -1 when the header is
//  malformed or the value longer than outlen - 1.
int oauth_www_authenticate_param (const char *header, const char *scheme,
                                  const char *param, char *out, size_t outlen);

//  Runs steps 1-3 for the source at url, spoken to over transport. On
//  success a new object:
//  {resource, resource_metadata_url, issuer, authorization_endpoint,
//   token_endpoint, registration_endpoint?, revocation_endpoint?,
//   client_id_metadata_document_supported,
//   authorization_response_iss_parameter_supported, scopes_supported?}.
//  NULL with the reason in err otherwise.
json_t *oauth_discover (const char *url, mcp_transport_t transport,
                        const net_rules_t *rules, int64_t deadline_ms,
                        char *err, size_t errlen);

//  An issuer as discovery keeps it: scheme://host[:port] then the path
//  without trailing slashes (so an authorization response's iss, RFC 9207,
//  compares with it). 0, or -1 when url is not an http(s) URL without
//  userinfo or fragment, or does not fit.
int oauth_issuer_normal (const char *url, char *out, size_t outlen);

#endif
