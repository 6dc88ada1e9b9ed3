/*  remote_listener.c — routes and credentials of the remote port. See
    remote_listener.h.
*/
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "bus_json.h"
#include "log.h"
#include "mcp.h"
#include "mcp_call.h"
#include "oauth.h"
#include "remote_listener.h"
#include "source_oauth_routes.h"
#include "remote_rules.h"
#include "utf8.h"

#define VERIFY_TIMEOUT_MS   5000
#define HELD_BODY_MAX       (2u * MCP_BODY_MAX)     //  chunked framing adds a little
#define HOST_MAX            1024

//  --- the routes -------------------------------------------------------------

static const remote_route_t s_routes [] = {
    { "/mcp",   true,   mcp_endpoint_start },
    //  the OAuth authorization server's endpoints (oauth.h): no credential,
    //  they are how a client gets one
    { "/.well-known/oauth-protected-resource",     false, oauth_meta_resource },
    { "/.well-known/oauth-protected-resource/mcp", false, oauth_meta_resource },
    { "/.well-known/oauth-authorization-server",   false, oauth_meta_server },
    { "/authorize",         false, oauth_authorize_start },
    { "/token",             false, oauth_token_start },
    { "/register",          false, oauth_register_start },
    { "/revoke",            false, oauth_revoke_start },
    { "/oauth/consent.css", false, oauth_consent_css },
    { NULL,     false,  NULL }
};

const remote_route_t *
remote_route_find (const char *path, size_t len)
{
    if (!path)
        return NULL;
    for (const remote_route_t *route = s_routes; route->path; route++) {
        size_t route_len = strlen (route->path);
        bool prefix = route->path [route_len - 1] == '/';
        if ((route_len == len || (prefix && len > route_len))
        &&  memcmp (route->path, path, route_len) == 0)
            return route;
    }
    return NULL;
}

//  --- waiting for remote.verify -----------------------------------------------

typedef struct {
    const remote_route_t *route;
    uint64_t ticket;
    char    *body;              //  what arrived while we waited
    size_t   size;
    bool     overflow;          //  more than HELD_BODY_MAX
    bool     body_ended;
} verify_t;

static void
s_verify_free (void *state)
{
    verify_t *self = state;
    free (self->body);
    free (self);
}

static void
s_verify_body (http_req_t *req, const void *data, size_t size)
{
    verify_t *self = http_req_state (req);
    if (self->overflow || self->size + size > HELD_BODY_MAX) {
        self->overflow = true;
        return;
    }
    char *grown = realloc (self->body, self->size + size);
    assert (grown);
    self->body = grown;
    memcpy (self->body + self->size, data, size);
    self->size += size;
}

static void
s_verify_body_end (http_req_t *req)
{
    verify_t *self = http_req_state (req);
    self->body_ended = true;
}

static void
s_challenge (http_req_t *req, bool invalid, const char *message)
{
    gateway_t *gateway = http_req_gateway (req);
    char host [HOST_MAX] = "";
    lws_hdr_copy (http_req_wsi (req), host, sizeof host, WSI_TOKEN_HOST);
    char value [HOST_MAX + REMOTE_BASE_MAX + 100];
    if (remote_challenge (*gateway->remote_base ? gateway->remote_base : NULL, host,
                          invalid, value, sizeof value))
        http_req_add_header (req, "www-authenticate:", value);
    mcp_http_error (req, HTTP_STATUS_UNAUTHORIZED, MCP_SERVER_ERROR, message);
}

static void s_verify_reply (http_req_t *req, uint64_t ticket, const void *body, size_t size);

static const http_handler_t s_verify_handler = {
    .on_reply    = s_verify_reply,
    .free_state  = s_verify_free,
    .on_body     = s_verify_body,
    .on_body_end = s_verify_body_end,
};

static void
s_verify_reply (http_req_t *req, uint64_t ticket, const void *body, size_t size)
{
    verify_t *self = http_req_state (req);
    if (ticket != self->ticket)
        return;
    bus_json_t reply;
    bus_json_parse (body, size, &reply);
    if (!reply.ok) {
        if (reply.code == BUS_ERR_UNAUTHORIZED || reply.code == BUS_ERR_BAD_REQUEST)
            s_challenge (req, true, "Unauthorized: the credential is unknown, expired or "
                         "revoked");
        else {
            log_warn ("remote listener: remote.verify failed: %s (%s)",
                      bus_error_name (reply.code), reply.message);
            http_req_add_header (req, "retry-after:", "5");
            mcp_http_error (req, HTTP_STATUS_SERVICE_UNAVAILABLE, MCP_SERVER_ERROR,
                            "Service Unavailable: credentials cannot be checked now");
        }
        bus_json_clear (&reply);
        return;
    }
    http_principal_t who = { 0 };
    const char *kind = bus_json_str (reply.body, "kind");
    const char *name = bus_json_str (reply.body, "name");
    json_t *id = json_object_get (reply.body, "id");
    if (!kind || !name || !*name) {
        bus_json_clear (&reply);
        log_warn ("remote listener: remote.verify answered without kind and name");
        mcp_http_error (req, HTTP_STATUS_SERVICE_UNAVAILABLE, MCP_SERVER_ERROR,
                        "Service Unavailable: credentials cannot be checked now");
        return;
    }
    snprintf (who.kind, sizeof who.kind, "%s", kind);
    //  the name as shown in records: whole UTF-8 characters that fit
    size_t at = 0, left = strlen (name), step;
    while (left && (step = utf8_seq (name + at, left)) && at + step < sizeof who.name) {
        at += step;
        left -= step;
    }
    memcpy (who.name, name, at);
    who.name [at] = 0;
    if (json_is_string (id) && json_string_length (id) < sizeof who.id)
        snprintf (who.id, sizeof who.id, "%s", json_string_value (id));
    else
    if (json_is_string (id)) {
        //  an id longer than the field (an OAuth client id can be a long
        //  URL): its hash, never a cut that two ids could share
        uint8_t digest [16];
        char hex [2 * sizeof digest + 1];
        crypto_generichash (digest, sizeof digest, (const uint8_t *) json_string_value (id),
                            json_string_length (id), NULL, 0);
        sodium_bin2hex (hex, sizeof hex, digest, sizeof digest);
        snprintf (who.id, sizeof who.id, "h:%s", hex);
    }
    else
    if (json_is_integer (id))
        snprintf (who.id, sizeof who.id, "%" JSON_INTEGER_FORMAT, json_integer_value (id));
    bus_json_clear (&reply);
    http_req_set_principal (req, &who);

    //  hand the request, and the body held so far, to its route
    const remote_route_t *route = self->route;
    char *held = self->body;
    size_t held_size = self->size;
    bool overflow = self->overflow, ended = self->body_ended;
    self->body = NULL;
    http_req_reset_handler (req);           //  frees self
    if (overflow) {
        http_req_close_after (req);
        mcp_http_error (req, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, MCP_SERVER_ERROR,
                        "Payload Too Large: the body is limited to 1 MiB");
        free (held);
        return;
    }
    route->start (req);
    if (held_size)
        http_req_deliver_body (req, held, held_size);
    free (held);
    if (ended)
        http_req_deliver_body_end (req);
}

//  --- the start of every remote request -------------------------------------------

void
remote_listener_start (http_req_t *req, const char *path, size_t len)
{
    gateway_t *gateway = http_req_gateway (req);
    const remote_route_t *route = remote_route_find (path, len);
    //  MCPbox's own client metadata (external sources' OAuth): public
    if (!route && source_oauth_cimd_serve (req, path, len))
        return;
    if (!route) {
        http_req_respond_error (req, HTTP_STATUS_NOT_FOUND, "not_found");
        return;
    }
    if (!route->credential) {
        route->start (req);
        return;
    }
    struct lws *wsi = http_req_wsi (req);
    char host [HOST_MAX];
    int host_len = lws_hdr_total_length (wsi, WSI_TOKEN_HOST);
    if (host_len <= 0 || host_len >= (int) sizeof host
    ||  lws_hdr_copy (wsi, host, sizeof host, WSI_TOKEN_HOST) < 0
    ||  !mcp_allow_host (gateway->mcp->remote_allow, host)) {
        mcp_http_error (req, HTTP_STATUS_FORBIDDEN, MCP_SERVER_ERROR,
                        "Forbidden: Host header not allowed");
        return;
    }
    //  a CORS preflight carries no credential; it gets only the CORS headers
    if (strcmp (http_req_method (req), "OPTIONS") == 0) {
        route->start (req);
        return;
    }
    char *header = NULL;
    int header_len = lws_hdr_total_length (wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (header_len > 0) {
        header = malloc ((size_t) header_len + 1);
        assert (header);
        if (lws_hdr_copy (wsi, header, header_len + 1, WSI_TOKEN_HTTP_AUTHORIZATION) < 0)
            *header = 0;
    }
    char credential [REMOTE_CREDENTIAL_MAX + 1];
    int found = remote_bearer (header, credential, sizeof credential);
    if (header) {
        explicit_bzero (header, (size_t) header_len);
        free (header);
    }
    if (found <= 0) {
        s_challenge (req, found < 0, found < 0
                     ? "Unauthorized: malformed Authorization header (Bearer <token>)"
                     : "Unauthorized: a bearer token is required");
        return;
    }
    json_t *fields = json_pack ("{s:s}", "token", credential);
    explicit_bzero (credential, sizeof credential);
    char base [OAUTH_BASE_MAX + 1];
    bool https;
    if (fields && oauth_base (req, base, sizeof base, &https)) {
        //  an OAuth access token must have been issued for this resource
        //  (remote_public_url's, or this Host's; RFC 8707)
        char resource [OAUTH_BASE_MAX + 8];
        snprintf (resource, sizeof resource, "%s/mcp", base);
        json_object_set_new (fields, "resource", json_string (resource));
    }
    msgw_t *body = fields ? bus_json_request ("remote.verify", fields) : NULL;
    if (fields) {
        //  wipe jansson's copy of the credential too
        json_t *copy = json_object_get (fields, "token");
        if (copy)
            explicit_bzero ((char *) json_string_value (copy), json_string_length (copy));
        json_decref (fields);
    }
    verify_t *self = calloc (1, sizeof *self);
    assert (self);
    self->route = route;
    http_req_set_handler (req, &s_verify_handler, self);
    self->ticket = body ? http_req_submit (req, "credentials", msgw_data (body),
                                           msgw_size (body), VERIFY_TIMEOUT_MS) : 0;
    if (body) {
        explicit_bzero ((void *) msgw_data (body), msgw_size (body));
        msgw_destroy (&body);
    }
    if (!self->ticket) {
        http_req_add_header (req, "retry-after:", "5");
        mcp_http_error (req, HTTP_STATUS_SERVICE_UNAVAILABLE, MCP_SERVER_ERROR,
                        "Service Unavailable: credentials cannot be checked now");
    }
}
