/*  creds.h — how the credentials actor's files fit together.

    main.c           wiring: options, open/close, the op table, the wake fd
    creds.c          open/close, the joined op table, the minute tick
    master_key.c     the master key (environment, file, rotation files)
    secret_box.c     seal/open one value (XChaCha20-Poly1305, AD per row)
    secrets_store.c  the server_secrets table, job secrets, key rotation
    hash_pool.c      Argon2id on worker threads, off the bus loop
    sessions.c       tokens (stored as hashes), refresh rotation, revocation
    login_limits.c   failed-login counting per address and per username
    ops_auth.c       the account and session ops (docs/BUS_OPS.md, credentials)
    ops_secrets.c    the secret ops and rotate_key
    remote_tokens.c  service tokens for the remote listener (stored hashed)
    ops_remote.c     token.create/list/revoke and remote.verify
    ops_export.c     the export signing key (sign, verify), secrets.import
    ops_util.c       field readers, error replies, wiping request fields
    source_oauth_store.c, ops_source_oauth.c
                     external sources' OAuth state and tokens (source_oauth.h)

    Everything runs on the service loop's thread except the hashing in
    hash_pool.c, which sees only copies of the passwords and hashes it is
    given and hands its results back through a pipe.
*/
#ifndef MCPBOX_CREDS_H
#define MCPBOX_CREDS_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>
#include "master_key.h"
#include "service.h"

#define CREDS_USERNAME_MIN   3
#define CREDS_USERNAME_MAX   50
#define CREDS_PASSWORD_MIN   12
#define CREDS_PASSWORD_MAX   128
#define CREDS_SECRET_KEY_MAX 128
#define CREDS_DESC_MAX       2000
#define CREDS_SERVER_ID_MAX  64
#define CREDS_CLIENT_MAX     256
#define CREDS_TOKEN_BYTES    32          //  256-bit tokens
#define CREDS_TOKEN_TEXT     43          //  base64url without padding
#define CREDS_HASH_BYTES     32

typedef struct _hash_pool_t hash_pool_t;

typedef struct {
    int64_t access_ttl_s;           //  900
    int64_t refresh_ttl_s;          //  604800
    int64_t login_window_s;         //  60
    int64_t login_max_failures;     //  5
    int64_t hash_ops;               //  crypto_pwhash opslimit
    int64_t hash_mem;               //  crypto_pwhash memlimit, bytes
    int64_t oauth_access_ttl_s;     //  3600: an OAuth access token
    int64_t oauth_refresh_ttl_s;    //  2592000: an OAuth refresh token
    int64_t oauth_code_ttl_s;       //  60: an authorization code
} creds_limits_t;

typedef struct {
    sqlite3        *db;
    master_key_t   *key;
    hash_pool_t    *pool;
    creds_limits_t  limits;
    char            dummy_hash [128];   //  verified for unknown users
    uint8_t         token_key [32];     //  remote tokens' hash key (remote_tokens.c)
    bool            has_token_key;
} creds_t;

extern creds_limits_t creds_configured_limits;   //  main.c fills it

//  Database (schema checked), master key, rotation recovery, hash pool.
//  NULL with *rc_p -1, or 2 (a configuration error), and a message.
creds_t *creds_new (const paths_t *paths, int *rc_p, char *err, size_t errlen);
void     creds_destroy (creds_t **self_p);

int64_t creds_now (void);               //  unix seconds

//  --- secrets_store.c --------------------------------------------------------
bool creds_secret_key_valid (const char *key);
//  Seal value under the current master key as (server_id, key)'s value:
//  replace overwrites one that is there, else it is kept. 0; -1 database
//  error; -2 cannot seal.
int  secrets_put (creds_t *self, const char *server_id, const char *key,
                  const uint8_t *value, size_t size, bool replace);
//  Open (server_id, key)'s value: 0 with *value_p malloc'd (NUL after the
//  bytes; wipe it before freeing), 1 when there is none, -1 when it does
//  not decrypt or on a database error.
int  secrets_get (creds_t *self, const char *server_id, const char *key,
                  uint8_t **value_p, size_t *size);
//  1..64 of [A-Za-z0-9_-]: never the reserved owners with ':' (ops_export.c).
bool creds_server_id_valid (const char *id);  //  ops_secrets.c
//  Start-up: finish or discard an interrupted rotation, refuse values
//  sealed by a key that is not loaded. 0, or -1/2 + err.
int  secrets_recover (creds_t *self, char *err, size_t errlen);
//  Re-encrypt every value under a fresh key in one transaction, then
//  promote the key. *count gets the values re-encrypted. 0 or -1 + err.
int  secrets_rotate (creds_t *self, int64_t *count, char *err, size_t errlen);
//  Test builds: SIGKILL here when MCPBOX_TEST_ROTATE_CRASH names this point
//  ("row:N" after N rows re-sealed, "commit"); nothing otherwise.
void secrets_crash_point (const char *point, int64_t rows);

//  --- ops_auth.c, ops_secrets.c ---------------------------------------------------------------
//  The whole op table (secret, auth and remote ops).
const service_op_t *creds_ops (void);
void creds_tick (service_t *service, void *state);
//  The hash pool's wake-up: finish the requests whose hashing is done.
void creds_on_wake (service_t *service, void *state);
int  creds_wake_fd (void *state);

#endif
