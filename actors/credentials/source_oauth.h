/*  source_oauth.h — MCPbox as an OAuth client of external MCP sources: the
    storage side (sql/0013_source_oauth.sql; DESIGN.md section 14, "Source
    OAuth storage"). The executor does every HTTP exchange; this keeps the
    state between them, sealed, and serialises refreshes.

    source_oauth_store.c  the two tables: seal/open, pending, tokens, the
                          refresh lease, status, pruning, key rotation
    ops_source_oauth.c    the `source_oauth.*` ops (docs/BUS_OPS.md)

    Secret fields (verifier, client_secret, access_token, refresh_token)
    are sealed with secret_box under the master key, associated data
    "source_oauth:<source_id>:<field>", so a box copied to another source
    or field does not open. The OAuth `state` is kept as a keyed BLAKE2b
    only. Times are passed in (now_ms, unix milliseconds) so tests can move
    the clock.
*/
#ifndef MCPBOX_CREDS_SOURCE_OAUTH_H
#define MCPBOX_CREDS_SOURCE_OAUTH_H

#include <stdbool.h>
#include <stdint.h>
#include "creds.h"

#define SOURCE_OAUTH_PENDING_MS   600000    //  an authorization waits 10 min
#define SOURCE_OAUTH_LEASE_MS     30000     //  a refresh lease lasts 30 s
#define SOURCE_OAUTH_EARLY_MS     60000     //  refresh when less is left
#define SOURCE_OAUTH_WAIT_MAX_MS  1000      //  wait_ms at most
#define SOURCE_OAUTH_PENDING_MAX  1000      //  live pending rows at most
#define SOURCE_OAUTH_STATUS_MAX   1000      //  source ids in one status

#define SOURCE_OAUTH_ID_MAX       64        //  source_id, server_id
#define SOURCE_OAUTH_CLIENT_MAX   512       //  client_id (may be a CIMD URL)
#define SOURCE_OAUTH_URI_MAX      2048      //  endpoints, resource, redirect
#define SOURCE_OAUTH_SCOPE_MAX    1024
#define SOURCE_OAUTH_STATE_MIN    16
#define SOURCE_OAUTH_STATE_MAX    1024
#define SOURCE_OAUTH_VERIFIER_MAX 128
#define SOURCE_OAUTH_SECRET_MAX   1024      //  client_secret
#define SOURCE_OAUTH_TOKEN_MAX    8192      //  access or refresh token
#define SOURCE_OAUTH_ERROR_MAX    1000
#define SOURCE_OAUTH_LEASE_TEXT   43        //  base64url of 32 bytes

//  One source's fields, as text ("" when absent). Holds secrets: allocate
//  with source_oauth_new, free with source_oauth_destroy (it wipes).
typedef struct {
    char    source_id [SOURCE_OAUTH_ID_MAX + 1];
    char    server_id [SOURCE_OAUTH_ID_MAX + 1];
    char    client_id [SOURCE_OAUTH_CLIENT_MAX + 1];
    char    issuer [SOURCE_OAUTH_URI_MAX + 1];
    char    token_endpoint [SOURCE_OAUTH_URI_MAX + 1];
    char    revocation_endpoint [SOURCE_OAUTH_URI_MAX + 1];
    char    resource [SOURCE_OAUTH_URI_MAX + 1];
    char    redirect_uri [SOURCE_OAUTH_URI_MAX + 1];
    char    scope [SOURCE_OAUTH_SCOPE_MAX + 1];
    char    state [SOURCE_OAUTH_STATE_MAX + 1];
    char    verifier [SOURCE_OAUTH_VERIFIER_MAX + 1];
    char    client_secret [SOURCE_OAUTH_SECRET_MAX + 1];
    char    access_token [SOURCE_OAUTH_TOKEN_MAX + 1];
    char    refresh_token [SOURCE_OAUTH_TOKEN_MAX + 1];
    int64_t expires_at_ms;                  //  0: no expiry given
    char    auth_method [32];               //  token_endpoint_auth_method, "" unknown
} source_oauth_t;

source_oauth_t *source_oauth_new (void);
void            source_oauth_destroy (source_oauth_t **self_p);

//  A pending authorization for in->source_id (replacing an earlier one),
//  expiring SOURCE_OAUTH_PENDING_MS after now_ms. Uses source_id,
//  server_id, state, verifier, client_id, client_secret, issuer,
//  token_endpoint, revocation_endpoint, resource, redirect_uri, scope,
//  auth_method.
//  0; 1 when another source's pending has this state; 2 when
//  SOURCE_OAUTH_PENDING_MAX are live; -1 database/key error; -2 cannot seal.
int  source_oauth_begin (creds_t *self, const source_oauth_t *in, int64_t now_ms);

//  Take (delete) the pending authorization of this state: 0 with out
//  filled (every begin field but state), 1 when none is live, -1.
int  source_oauth_take_pending (creds_t *self, const char *state, int64_t now_ms,
                                source_oauth_t *out);

//  Replace in->source_id's tokens (source_id, server_id, client_id,
//  client_secret, token_endpoint, revocation_endpoint, resource, scope,
//  access_token, refresh_token, expires_at_ms, auth_method). With a lease
//  (not NULL or ""), it must be the source's current one, and an absent
//  refresh_token (or auth_method) keeps the one stored (the server did not
//  rotate it); the lease is released. 0; 1 when the lease is not current; -1; -2 cannot seal.
int  source_oauth_store (creds_t *self, const source_oauth_t *in, const char *lease,
                         int64_t now_ms);

typedef enum {
    SOURCE_OAUTH_ACCESS,        //  out: access_token, expires_at_ms
    SOURCE_OAUTH_REFRESH,       //  out: refresh_token, client_*, token_endpoint,
                                //  resource, scope; lease: this caller's
    SOURCE_OAUTH_WAIT,          //  another caller holds the lease: *wait_ms
    SOURCE_OAUTH_NONE,          //  not authorized (or needs authorization)
    SOURCE_OAUTH_EXPIRED,       //  no usable access token, no refresh token
    SOURCE_OAUTH_ERROR = -1
} source_oauth_answer_t;

//  What a caller of source_id should do now (force: the access token was
//  refused, so refresh even if it has time left).
source_oauth_answer_t source_oauth_token (creds_t *self, const char *source_id, bool force,
                                          int64_t now_ms, source_oauth_t *out,
                                          char lease [SOURCE_OAUTH_LEASE_TEXT + 1],
                                          int64_t *wait_ms);

//  The refresh under lease failed: the lease is released and error kept.
//  Unless transient (the server could not be reached), the tokens are
//  dropped: the source needs authorization again. 0; 1 when there is no
//  such source or the lease is not current; -1.
int  source_oauth_fail (creds_t *self, const char *source_id, const char *lease,
                        const char *error, bool transient, int64_t now_ms);

typedef struct {
    const char *state;          //  none|pending|authorized|expired|needs_authorization
    int64_t     expires_at_ms;  //  0: none known
    int64_t     updated_at;     //  unix seconds; 0: never
    char        last_error [SOURCE_OAUTH_ERROR_MAX + 1];
} source_oauth_status_t;

//  Never a secret. 0, or -1.
int  source_oauth_status (creds_t *self, const char *source_id, int64_t now_ms,
                          source_oauth_status_t *out);

//  Delete the source's pending authorization and tokens: rows deleted, or -1.
int  source_oauth_forget (creds_t *self, const char *source_id);

//  Delete the pending authorizations that expired: how many, or -1.
int  source_oauth_prune (creds_t *self, int64_t now_ms);

//  Key rotation, inside secrets_rotate's transaction: re-seal every box
//  from key to next (next_id on the rows). *count gets the rows. 0, or -1
//  + err (the caller rolls back).
int  source_oauth_reseal (creds_t *self, const uint8_t key [SECRET_KEY_BYTES],
                          const uint8_t next [SECRET_KEY_BYTES],
                          const uint8_t next_id [SECRET_KEY_ID_BYTES], int64_t *count,
                          char *err, size_t errlen);

int64_t source_oauth_now_ms (void);

#endif
