/*  remote_tokens.h — service tokens for the gateway's remote listener
    (sql/0008_remote_tokens.sql).

    A token is "mcpbox_st_" followed by 43 characters of unpadded base64url
    (32 random bytes). The prefix tells remote.verify which verifier owns a
    credential (ops_remote.c) and lets secret scanners find a leaked one.
    Only a keyed BLAKE2b-256 of the whole text is stored: the key is 32
    random bytes sealed under the master key (server_secrets, owner
    "credentials", key REMOTE_TOKEN_HASH_KEY), made on first use, so it
    follows the master key through rotate_key like every sealed value.

    A fast keyed hash, not Argon2id: a token carries 256 bits of entropy,
    so there is nothing to slow down for an attacker (no dictionary), and
    every remote request checks one (docs/SECURITY.md).
*/
#ifndef MCPBOX_CREDS_REMOTE_TOKENS_H
#define MCPBOX_CREDS_REMOTE_TOKENS_H

#include "creds.h"

#define REMOTE_TOKEN_PREFIX      "mcpbox_st_"
#define REMOTE_TOKEN_PREFIX_LEN  10
#define REMOTE_TOKEN_TEXT        (REMOTE_TOKEN_PREFIX_LEN + CREDS_TOKEN_TEXT)
#define REMOTE_TOKEN_NAME_MAX    64
#define REMOTE_TOKENS_LIVE_MAX   1000       //  live tokens at most
#define REMOTE_TOKEN_TOUCH_S     60         //  last_used_at written this often

typedef struct {
    int64_t id;
    char    name [REMOTE_TOKEN_NAME_MAX + 1];
    int64_t created_at;
    int64_t last_used_at;                   //  0: never
    int64_t revoked_at;                     //  0: live
} remote_token_t;

//  Load (or make, on first use) the hash key into self->token_key. Source
//  OAuth states are hashed with it too, in their own domain
//  (source_oauth_store.c). 0, or -1.
int  remote_tokens_hash_key (creds_t *self);

//  A name: 1-64 of [A-Za-z0-9_.-], starting with a letter (so it is never
//  taken for an id).
bool remote_token_name_valid (const char *name);

//  A new token named name. 0 with the text in token (shown once) and the
//  row in out; 1 when a live token has that name; 2 when there are
//  REMOTE_TOKENS_LIVE_MAX live tokens; -1 on a database or key error.
int  remote_tokens_create (creds_t *self, const char *name,
                           char token [REMOTE_TOKEN_TEXT + 1], remote_token_t *out);

//  Revoke the live token with this id (id > 0) or else this name. 0 with
//  the row in out; 1 when there is no such live token; -1.
int  remote_tokens_revoke (creds_t *self, int64_t id, const char *name,
                           remote_token_t *out);

//  The live token whose text this is: 0 (last_used_at touched), 1 when
//  none (malformed, unknown, revoked), -1.
int  remote_tokens_verify (creds_t *self, const char *token, remote_token_t *out);

//  Every token, newest first (revoked ones too when with_revoked): calls
//  fn for each. The count, or -1.
typedef void (remote_token_fn) (const remote_token_t *token, void *arg);
int  remote_tokens_list (creds_t *self, bool with_revoked, remote_token_fn *fn,
                         void *arg);

#endif
