/*  oauth.h — MCPbox as the OAuth 2.1 authorization server of its own /mcp,
    the HTTP side (the MCP authorization spec, 2025-11-25). Every decision
    is the credentials actor's (actors/credentials/oauth.h, the oauth.* bus
    ops); these files speak the wire formats and keep nothing.

    oauth_http.c       one call's life: base URL, bounded body (form or
                       JSON), the bus request to credentials, RFC 6749 §5.2
                       errors, CORS for the endpoints a browser client calls
    oauth_form.c       form-urlencoded decoding (fuzzed)
    oauth_meta.c       GET /.well-known/oauth-protected-resource[/mcp]
                       (RFC 9728), /.well-known/oauth-authorization-server
                       (RFC 8414)
    oauth_register.c   POST /register (RFC 7591)
    oauth_cimd.c       Client ID Metadata Documents: fetched on a thread
                       with the executor's SSRF-checked client (http_fetch)
    oauth_authorize.c  GET /authorize (checks, consent page), POST
                       /authorize (the admin signs in and approves or
                       denies), the page's stylesheet
    oauth_token.c      POST /token (authorization_code with PKCE S256,
                       refresh_token with rotation), POST /revoke (RFC 7009)

    The base URL (the issuer; the protected resource is base + "/mcp") is
    the configured remote_public_url, or else taken from the request's Host:
    http:// for a loopback host, https:// for any other (behind a tunnel).
*/
#ifndef MCPBOX_GATEWAY_OAUTH_H
#define MCPBOX_GATEWAY_OAUTH_H

#include <jansson.h>
#include "api_headers.h"
#include "bus_json.h"
#include "http_req.h"
#include "oauth_uri.h"

#define OAUTH_BASE_MAX      320             //  bytes of the base URL
#define OAUTH_BODY_MAX      (16 * 1024)     //  a request body
#define OAUTH_VALUE_MAX     2048            //  one form value
#define OAUTH_BUS_TIMEOUT_MS 10000
#define OAUTH_CIMD_MAX_BYTES (16 * 1024)    //  a client metadata document
#define OAUTH_CIMD_TIMEOUT_MS 5000
#define OAUTH_CIMD_IN_FLIGHT 4              //  fetches at once
#define OAUTH_CONSENT_COOKIE "mcpbox_consent"

typedef struct _oauth_t oauth_t;
typedef struct _oauth_call_t oauth_call_t;
typedef void (oauth_reply_fn) (oauth_call_t *call, bus_json_t *reply);
typedef void (oauth_next_fn) (oauth_call_t *call);

struct _oauth_call_t {
    http_req_t     *req;
    gateway_t      *gateway;
    char            base [OAUTH_BASE_MAX + 1];   //  issuer, no trailing '/'
    char            resource [OAUTH_BASE_MAX + 8];   //  base + "/mcp"
    bool            https;
    char            client [64];                //  peer address
    json_t         *params;     //  the query (GET) or the parsed body
    json_t         *ctx;        //  the handler's state across replies
    //  internals
    char           *raw;
    size_t          raw_size;
    bool            raw_too_large;
    bool            json_body;
    oauth_next_fn  *on_body;
    oauth_reply_fn *on_reply;
    uint64_t        ticket;
    int64_t         retry_after;
};

//  --- main.c's part ------------------------------------------------------------
//  NULL + err (out of memory).
oauth_t *oauth_new (gateway_t *gateway, char *err, size_t errlen);
//  Joins the fetch threads (each bounded by OAUTH_CIMD_TIMEOUT_MS).
void     oauth_destroy (oauth_t **self_p);
//  http_server.c, on wake: hand finished fetches to their requests.
void     oauth_drain (gateway_t *gateway);
//  The configured remote_public_url, normalised ("" when none).
const char *oauth_public_url (gateway_t *gateway);

//  --- the routes (http_server.c) --------------------------------------------------
void oauth_meta_resource (http_req_t *req);
void oauth_meta_server (http_req_t *req);
void oauth_register_start (http_req_t *req);
void oauth_authorize_start (http_req_t *req);
void oauth_consent_css (http_req_t *req);
void oauth_token_start (http_req_t *req);
void oauth_revoke_start (http_req_t *req);

//  --- oauth_http.c -----------------------------------------------------------------
//  The base URL for req (remote_public_url, or built from Host: http for a
//  loopback host, https otherwise); *https says which. False when Host is
//  missing or has characters a host cannot have. The remote listener uses
//  it too: an access token's audience must be base + "/mcp".
bool  oauth_base (http_req_t *req, char *base, size_t size, bool *https);
//  A call for req (the handler attached). NULL after answering (a Host
//  missing or not on this listener's /mcp allowlist: 403; out of memory). cors: the endpoint answers any origin (no cookies).
oauth_call_t *oauth_call_new (http_req_t *req, bool cors);
//  The request's Origin is this server's own (the issuer's, or http(s)://
//  its Host), or absent (no browser form). False for any other, "null"
//  included. For the consent form: a page elsewhere cannot post it.
bool  oauth_same_origin (oauth_call_t *call);
//  A CORS endpoint that serves one method ("GET", "POST"): the call, or
//  NULL after answering (a preflight, 405, or oauth_call_new's refusal).
oauth_call_t *oauth_cors_start (http_req_t *req, const char *method);
//  An OPTIONS preflight was answered (true) for a CORS endpoint.
bool  oauth_preflight (oauth_call_t *call, const char *methods);
//  Read the body (form, or JSON when json), at most OAUTH_BODY_MAX bytes
//  with the right Content-Type; then next runs with call->params set.
//  Answers 400/413/415 itself (as RFC 6749 §5.2 JSON).
void  oauth_read_body (oauth_call_t *call, bool json, oauth_next_fn *next);
//  The query into call->params (bounded like a form). False after a 400
//  page (no redirect: the client is not known yet).
bool  oauth_read_query (oauth_call_t *call);
//  A string parameter ("" when absent).
const char *oauth_param (oauth_call_t *call, const char *name);
//  Ask credentials {"op": op, ...fields (borrowed)}; fn gets the reply.
//  A refused send answers 503 (temporarily_unavailable) itself.
void  oauth_ask (oauth_call_t *call, const char *op, json_t *fields, oauth_reply_fn *fn);
//  The same of another service, with its own timeout.
void  oauth_ask_service (oauth_call_t *call, const char *service, const char *op,
                         json_t *fields, int timeout_ms, oauth_reply_fn *fn);
//  Append text to buf (capacity cap) escaped for HTML text and attribute
//  values (oauth_authorize.c).
void  oauth_html_esc (char *buf, size_t cap, const char *text);
//  {"error", "error_description"} with Cache-Control no-store (§5.2).
void  oauth_error (oauth_call_t *call, int status, const char *error,
                   const char *description);
//  The consent cookie's value ("" when absent or malformed).
void  oauth_cookie (oauth_call_t *call, char out [API_TOKEN_LEN + 1]);

//  --- oauth_cimd.c --------------------------------------------------------------
//  Fetch the client metadata document at url on a fetch thread. Its result
//  comes to fn as a reply: ok with {client_name, redirect_uris} checked, or
//  an error whose message says what was wrong. False (fn not called) when
//  OAUTH_CIMD_IN_FLIGHT fetches are running.
bool  oauth_cimd_fetch (oauth_call_t *call, const char *url, oauth_reply_fn *fn);

#endif
