/*  source_oauth_routes.h — the gateway's part of the OAuth client of
    external MCP sources (docs/DESIGN.md, section 14). The gateway never
    holds a token, a verifier or a client secret: the executor does every
    outbound request and credentials keeps what must be kept.

      GET /sources/oauth/callback?code&state   (local listener only) where
          the source's authorization server sends the admin's browser back:
          the state names the source in clear (<source_id>.<random>); the
          source (registry source.get) and its server's network rules
          (approval effective) make a sandbox `source` job {action:
          oauth_exchange, state, code}; the answer is a small HTML page
          (no script, strict CSP, every text escaped) saying authorized or
          why not (an `error` parameter from the server is shown).
      POST /api/sources/{id}/authorize   (admin session + CSRF, api_router)
          the same chain with {action: oauth_begin}: {authorization_url}.
      GET <path of source_oauth_client_metadata_url>   (both listeners)
          MCPbox's Client ID Metadata Document, when that URL is set.
*/
#ifndef MCPBOX_GATEWAY_SOURCE_OAUTH_ROUTES_H
#define MCPBOX_GATEWAY_SOURCE_OAUTH_ROUTES_H

#include <jansson.h>
#include "config.h"
#include "http_req.h"
#include "source_oauth_job.h"

//  The redirect URL (oauth_source_redirect) and the path of the client
//  metadata URL ("" when unset) from the configuration. 0, or -1 with why
//  (a metadata URL that is not https, or whose path is not under
//  /sources/oauth/).
int  source_oauth_settings (config_t *config, char *redirect, size_t redirect_size,
                            char *cimd_path, size_t cimd_path_size, char *err, size_t errlen);

//  True when path is the client metadata document's: answered.
bool source_oauth_cimd_serve (http_req_t *req, const char *path, size_t len);

void source_oauth_callback_start (http_req_t *req);
//  Keeps req open for a begin or exchange job (up to SOURCE_OAUTH_TIMEOUT_MS
//  and the bus's margin): lws would end it timeout_secs (10 s) after it came
//  in, and a slow authorization server would leave the admin with a dropped
//  connection instead of the page saying why.
void source_oauth_keep_open (http_req_t *req);

#endif
