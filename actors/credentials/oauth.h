/*  oauth.h — MCPbox as the OAuth 2.1 authorization server of its own /mcp:
    what credentials keeps (sql/0009_oauth.sql) and decides.

    common/oauth_uri.c  the checks of what a client brings (shared with
                    the gateway; fuzzed)
    oauth_store.c   clients, pending consents, codes, token families
                    (hashes only), rotation with reuse detection
    oauth_ops.c     the oauth.* bus ops (docs/BUS_OPS.md, credentials)

    The gateway (actors/gateway/oauth_*.c) speaks HTTP and the OAuth wire
    formats; every decision (is this client known, this redirect URI
    registered, this verifier the code's, this token live) is made here.
*/
#ifndef MCPBOX_CREDS_OAUTH_H
#define MCPBOX_CREDS_OAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "creds.h"
#include "oauth_uri.h"

#define OAUTH_DCR_MAX           200     //  dynamically registered clients never approved
#define OAUTH_REQUEST_TTL_S     600     //  a consent page is good this long
#define OAUTH_REQUESTS_MAX      1000    //  pending consents at once

//  --- oauth_store.c -------------------------------------------------------------
typedef struct {
    char    client_id [OAUTH_CLIENT_ID_MAX + 1];
    char    kind [8];                               //  "dcr" | "cimd"
    char    client_name [OAUTH_NAME_BYTES + 1];
    char    redirect_uris [8192 + 1];               //  one per line
    int64_t created_at, updated_at, approved_at;    //  approved_at 0: never
} oauth_client_t;

typedef struct {
    char    client_id [OAUTH_CLIENT_ID_MAX + 1];
    char    redirect_uri [OAUTH_URI_MAX + 1];
    char    code_challenge [OAUTH_CHALLENGE_LEN + 1];
    char    resource [OAUTH_URI_MAX + 1];
    char    scope [OAUTH_SCOPE_MAX + 1];
    char    state [OAUTH_STATE_MAX + 1];
    int64_t user_id;                                //  codes: who approved
} oauth_grant_t;

typedef struct {
    char    access [CREDS_TOKEN_TEXT + 1];
    char    refresh [CREDS_TOKEN_TEXT + 1];
    int64_t access_expires, refresh_expires;
} oauth_tokens_t;

typedef struct {
    char    client_id [OAUTH_CLIENT_ID_MAX + 1];
    char    client_name [OAUTH_NAME_BYTES + 1];
    char    resource [OAUTH_URI_MAX + 1];
    char    scope [OAUTH_SCOPE_MAX + 1];
    char    username [CREDS_USERNAME_MAX + 1];
    int64_t user_id, access_expires, token_id;
} oauth_access_t;

//  0 found, 1 none, -1 database error.
int  oauth_client_get (creds_t *self, const char *client_id, oauth_client_t *out);
//  Is uri one of the client's redirect URIs (exact string match)?
bool oauth_client_redirect_ok (const oauth_client_t *client, const char *uri);
//  Insert (dcr, a new id made here into out->client_id) or upsert (cimd,
//  out->client_id given). 0; 2 too many unapproved dcr clients; -1.
int  oauth_client_save (creds_t *self, oauth_client_t *client);
//  Revoke every token, code and pending consent of a client; forget its
//  approval. *tokens gets the live token families revoked. 0; 1 no such
//  client; -1.
int  oauth_client_revoke (creds_t *self, const char *client_id, int64_t *families);

//  A pending consent: request and csrf tokens come back (shown once).
//  0; 2 too many pending; -1.
int  oauth_request_create (creds_t *self, const oauth_grant_t *grant,
                           char request [CREDS_TOKEN_TEXT + 1],
                           char csrf [CREDS_TOKEN_TEXT + 1]);
//  The live pending consent of request; with csrf (not NULL) it must match.
//  0 found; 1 none (unknown, expired); 3 csrf wrong; -1.
int  oauth_request_get (creds_t *self, const char *request, const char *csrf,
                        oauth_grant_t *out);
//  Consume it (deny, or a code issued). 0 / -1.
int  oauth_request_drop (creds_t *self, const char *request);

//  A code for an approved grant (grant->user_id set); marks the client
//  approved. 0 / -1.
int  oauth_code_create (creds_t *self, const oauth_grant_t *grant,
                        char code [CREDS_TOKEN_TEXT + 1]);
//  Exchange a code: 0 tokens issued; 1 unknown/expired/client, redirect
//  or resource not the code's; 2 reused (its tokens revoked); 4 PKCE
//  verifier wrong (the code is spent); -1.
int  oauth_code_exchange (creds_t *self, const char *code, const char *client_id,
                          const char *redirect_uri, const char *verifier,
                          const char *resource, oauth_tokens_t *out, oauth_grant_t *grant);
//  Rotate a refresh token: 0 new pair; 1 unknown/expired/revoked/another
//  client's/another resource; 2 reuse detected (family revoked); -1.
int  oauth_refresh (creds_t *self, const char *refresh, const char *client_id,
                    const char *resource, oauth_tokens_t *out, oauth_grant_t *grant);
//  Revoke the family of an access or refresh token (client_id, when not
//  "" or NULL, must be the token's). 0 revoked; 1 nothing; -1.
int  oauth_token_revoke (creds_t *self, const char *token, const char *client_id);
//  The live access token: 0 (last_used_at updated, at most once a
//  minute); 1 none; -1.
int  oauth_access_lookup (creds_t *self, const char *access, oauth_access_t *out);
//  Drop expired consents, codes, token families a day past expiry, and dcr
//  clients never approved after a day (tick).
void oauth_prune (creds_t *self);

//  --- oauth_ops.c -----------------------------------------------------------
extern const service_op_t creds_oauth_ops [];
//  remote.verify's answer for an OAuth access token: ok {kind "oauth",
//  name (the client's), id (client_id), client_id, resource, scope, user,
//  expires_in}, or unauthorized (unknown, expired, revoked, or resource
//  given and not the token's audience).
void oauth_verify_reply (creds_t *self, const char *token, const char *resource,
                         msgw_t **reply);

#endif
