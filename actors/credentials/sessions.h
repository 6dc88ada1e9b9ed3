/*  sessions.h — session tokens and the sessions table.

    A token is 32 random bytes, shown to clients as 43 characters of
    unpadded base64url; the table keeps only BLAKE2b-256 of the raw bytes.
    Each login makes a family; each refresh marks its row rotated and makes
    a new row in the same family. Presenting a rotated refresh token again
    (reuse: someone kept a copy) revokes the whole family.
*/
#ifndef MCPBOX_CREDS_SESSIONS_H
#define MCPBOX_CREDS_SESSIONS_H

#include "creds.h"

typedef struct {
    char access  [CREDS_TOKEN_TEXT + 1];
    char refresh [CREDS_TOKEN_TEXT + 1];
    char csrf    [CREDS_TOKEN_TEXT + 1];
    int64_t access_expires, refresh_expires;
} session_tokens_t;

typedef struct {
    int64_t session_id;
    int64_t user_id;
    char    username [CREDS_USERNAME_MAX + 1];
    uint8_t csrf_hash [CREDS_HASH_BYTES];
    int64_t access_expires;
} session_info_t;

//  A new random token: its text and the hash that is stored.
void session_token_new (char text [CREDS_TOKEN_TEXT + 1], uint8_t hash [CREDS_HASH_BYTES]);
//  Hash of a token's text: 0, or -1 when the text is not a token.
int  session_token_hash (const char *text, uint8_t hash [CREDS_HASH_BYTES]);

//  New tokens for user_id in family (NULL: a new family). 0 or -1.
int  session_create (creds_t *self, int64_t user_id, const uint8_t *family,
                     session_tokens_t *out);

//  The live session of an access token: 0, 1 when none (unknown, expired,
//  rotated, revoked), -1 on a database error.
int  session_lookup (creds_t *self, const char *access, session_info_t *info);

//  Refresh: 0 with new tokens (*user_id, *username set); 1 unknown or
//  expired; 2 reuse detected (family revoked); 3 csrf given (not NULL)
//  and not the session's (nothing changed); -1 database error.
int  session_refresh (creds_t *self, const char *refresh, const char *csrf,
                      session_tokens_t *out, int64_t *user_id, char *username);

//  Revoke the family of an access or refresh token (1: no such token).
int  session_revoke_family (creds_t *self, const char *token);
//  Revoke every session of a user.
int  session_revoke_user (creds_t *self, int64_t user_id);
//  Drop rows whose refresh token expired (tick).
void session_prune (creds_t *self);

#endif
