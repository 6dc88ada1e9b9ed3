/*  source_oauth_store.c — the source OAuth tables (source_oauth.h).

    A box is nonce || ciphertext in one BLOB. Decrypted bytes go straight
    into the caller's source_oauth_t (which wipes itself) and the malloc'd
    plaintext is wiped before it is freed.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "log.h"
#include "remote_tokens.h"
#include "source_oauth.h"

#define S_KIND "source_oauth"

source_oauth_t *
source_oauth_new (void)
{
    return calloc (1, sizeof (source_oauth_t));
}

void
source_oauth_destroy (source_oauth_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sodium_memzero (*self_p, sizeof (source_oauth_t));
    free (*self_p);
    *self_p = NULL;
}

int64_t
source_oauth_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  Seal text as field of source_id: a malloc'd box (nonce || ciphertext).
//  NULL *box_p for "" (an absent field). 0, or -1.
static int
s_seal (const uint8_t key [SECRET_KEY_BYTES], const char *source_id, const char *field,
        const char *text, uint8_t **box_p, size_t *box_len)
{
    *box_p = NULL;
    *box_len = 0;
    size_t len = strlen (text);
    if (len == 0)
        return 0;
    uint8_t nonce [SECRET_NONCE_BYTES];
    uint8_t *cipher = NULL;
    size_t cipher_len = 0;
    if (secret_seal_as (key, S_KIND, source_id, field, (const uint8_t *) text, len, nonce,
                        &cipher, &cipher_len) != 0)
        return -1;
    uint8_t *box = malloc (SECRET_NONCE_BYTES + cipher_len);
    if (!box) {
        free (cipher);
        return -1;
    }
    memcpy (box, nonce, SECRET_NONCE_BYTES);
    memcpy (box + SECRET_NONCE_BYTES, cipher, cipher_len);
    free (cipher);                  //  ciphertext: nothing to wipe
    *box_p = box;
    *box_len = SECRET_NONCE_BYTES + cipher_len;
    return 0;
}

//  Open a box into out (size bytes with the NUL); a NULL box gives "".
//  0, or -1 when it does not open (wrong key, source, field) or is too long.
static int
s_open (const uint8_t key [SECRET_KEY_BYTES], const char *source_id, const char *field,
        const void *box, size_t box_len, char *out, size_t size)
{
    out [0] = 0;
    if (!box)
        return 0;
    if (box_len < SECRET_NONCE_BYTES + SECRET_TAG_BYTES)
        return -1;
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    if (secret_open_as (key, S_KIND, source_id, field, box,
                        (const uint8_t *) box + SECRET_NONCE_BYTES,
                        box_len - SECRET_NONCE_BYTES, &plain, &plain_len) != 0)
        return -1;
    int rc = -1;
    if (plain_len < size && memchr (plain, 0, plain_len) == NULL) {
        memcpy (out, plain, plain_len);
        out [plain_len] = 0;
        rc = 0;
    }
    sodium_memzero (plain, plain_len);
    free (plain);
    return rc;
}

//  Open column col of stmt as field.
static int
s_open_col (creds_t *self, sqlite3_stmt *stmt, int col, const char *source_id,
            const char *field, char *out, size_t size)
{
    return s_open (self->key->key, source_id, field, sqlite3_column_blob (stmt, col),
                   (size_t) sqlite3_column_bytes (stmt, col), out, size);
}

static void
s_bind_box (sqlite3_stmt *stmt, int index, const uint8_t *box, size_t len)
{
    if (box)
        sqlite3_bind_blob (stmt, index, box, (int) len, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null (stmt, index);
}

static void
s_bind_opt (sqlite3_stmt *stmt, int index, const char *text)
{
    if (*text)
        sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null (stmt, index);
}

static void
s_copy_col (sqlite3_stmt *stmt, int col, char *out, size_t size)
{
    const char *text = (const char *) sqlite3_column_text (stmt, col);
    snprintf (out, size, "%s", text ? text : "");
}

//  The keyed hash of a state (the remote tokens' key, another domain).
static int
s_state_hash (creds_t *self, const char *state, uint8_t hash [CREDS_HASH_BYTES])
{
    if (remote_tokens_hash_key (self) != 0)
        return -1;
    static const char domain [] = "mcpbox source oauth state\n";
    crypto_generichash_state st;
    crypto_generichash_init (&st, self->token_key, sizeof self->token_key, CREDS_HASH_BYTES);
    crypto_generichash_update (&st, (const uint8_t *) domain, sizeof domain - 1);
    crypto_generichash_update (&st, (const uint8_t *) state, strlen (state));
    crypto_generichash_final (&st, hash, CREDS_HASH_BYTES);
    return 0;
}

static void
s_lease_hash (const char *lease, uint8_t hash [CREDS_HASH_BYTES])
{
    crypto_generichash (hash, CREDS_HASH_BYTES, (const uint8_t *) lease, strlen (lease),
                        NULL, 0);
}

int
source_oauth_prune (creds_t *self, int64_t now_ms)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2 (self->db, "DELETE FROM source_oauth_pending WHERE expires_at_ms <= ?1",
                            -1, &stmt, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64 (stmt, 1, now_ms);
    int rc = sqlite3_step (stmt);
    sqlite3_finalize (stmt);
    return rc == SQLITE_DONE ? sqlite3_changes (self->db) : -1;
}

int
source_oauth_begin (creds_t *self, const source_oauth_t *in, int64_t now_ms)
{
    uint8_t hash [CREDS_HASH_BYTES];
    if (s_state_hash (self, in->state, hash) != 0 || source_oauth_prune (self, now_ms) < 0)
        return -1;
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "SELECT count(*) FROM source_oauth_pending "
                        "WHERE source_id <> ?1", -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, in->source_id, -1, SQLITE_STATIC);
    int64_t live = sqlite3_step (stmt) == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : -1;
    sqlite3_finalize (stmt);
    if (live < 0)
        return -1;
    if (live >= SOURCE_OAUTH_PENDING_MAX)
        return 2;
    uint8_t *verifier = NULL, *secret = NULL;
    size_t verifier_len = 0, secret_len = 0;
    if (s_seal (self->key->key, in->source_id, "verifier", in->verifier, &verifier,
                &verifier_len) != 0 || !verifier
    ||  s_seal (self->key->key, in->source_id, "client_secret", in->client_secret, &secret,
                &secret_len) != 0) {
        free (verifier);
        return -2;
    }
    sqlite3_prepare_v2 (self->db,
        "INSERT INTO source_oauth_pending (source_id, state_hash, server_id, client_id, issuer, "
        "token_endpoint, revocation_endpoint, resource, redirect_uri, scope, verifier_box, "
        "client_secret_box, key_id, created_at, expires_at_ms, token_auth_method) VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) "
        "ON CONFLICT (source_id) DO UPDATE SET state_hash = ?2, server_id = ?3, client_id = ?4, "
        "issuer = ?5, token_endpoint = ?6, revocation_endpoint = ?7, resource = ?8, "
        "redirect_uri = ?9, scope = ?10, verifier_box = ?11, client_secret_box = ?12, "
        "key_id = ?13, created_at = ?14, expires_at_ms = ?15, token_auth_method = ?16",
        -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, in->source_id, -1, SQLITE_STATIC);
    sqlite3_bind_blob (stmt, 2, hash, CREDS_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, in->server_id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 4, in->client_id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 5, in->issuer, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 6, in->token_endpoint, -1, SQLITE_STATIC);
    s_bind_opt (stmt, 7, in->revocation_endpoint);
    sqlite3_bind_text (stmt, 8, in->resource, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 9, in->redirect_uri, -1, SQLITE_STATIC);
    s_bind_opt (stmt, 10, in->scope);
    s_bind_box (stmt, 11, verifier, verifier_len);
    s_bind_box (stmt, 12, secret, secret_len);
    sqlite3_bind_blob (stmt, 13, self->key->id, SECRET_KEY_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 14, now_ms / 1000);
    sqlite3_bind_int64 (stmt, 15, now_ms + SOURCE_OAUTH_PENDING_MS);
    s_bind_opt (stmt, 16, in->auth_method);
    int rc = sqlite3_step (stmt);
    sqlite3_finalize (stmt);
    free (verifier);
    free (secret);
    if (rc == SQLITE_DONE)
        return 0;
    return (rc & 0xff) == SQLITE_CONSTRAINT ? 1 : -1;
}

int
source_oauth_take_pending (creds_t *self, const char *state, int64_t now_ms,
                           source_oauth_t *out)
{
    uint8_t hash [CREDS_HASH_BYTES];
    if (s_state_hash (self, state, hash) != 0)
        return -1;
    //  deleted whether it is live or not: single use, and an expired one
    //  is of no use either
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db,
        "DELETE FROM source_oauth_pending WHERE state_hash = ?1 RETURNING source_id, server_id, "
        "client_id, issuer, token_endpoint, coalesce (revocation_endpoint, ''), resource, "
        "redirect_uri, coalesce (scope, ''), verifier_box, client_secret_box, key_id, "
        "expires_at_ms, coalesce (token_auth_method, '')", -1, &stmt, NULL);
    sqlite3_bind_blob (stmt, 1, hash, CREDS_HASH_BYTES, SQLITE_STATIC);
    int step = sqlite3_step (stmt);
    int rc = step == SQLITE_DONE ? 1 : -1;
    if (step == SQLITE_ROW && sqlite3_column_int64 (stmt, 12) <= now_ms)
        rc = 1;
    else
    if (step == SQLITE_ROW) {
        s_copy_col (stmt, 0, out->source_id, sizeof out->source_id);
        s_copy_col (stmt, 1, out->server_id, sizeof out->server_id);
        s_copy_col (stmt, 2, out->client_id, sizeof out->client_id);
        s_copy_col (stmt, 3, out->issuer, sizeof out->issuer);
        s_copy_col (stmt, 4, out->token_endpoint, sizeof out->token_endpoint);
        s_copy_col (stmt, 5, out->revocation_endpoint, sizeof out->revocation_endpoint);
        s_copy_col (stmt, 6, out->resource, sizeof out->resource);
        s_copy_col (stmt, 7, out->redirect_uri, sizeof out->redirect_uri);
        s_copy_col (stmt, 8, out->scope, sizeof out->scope);
        s_copy_col (stmt, 13, out->auth_method, sizeof out->auth_method);
        if (s_open_col (self, stmt, 9, out->source_id, "verifier", out->verifier,
                        sizeof out->verifier) == 0
        &&  out->verifier [0]
        &&  s_open_col (self, stmt, 10, out->source_id, "client_secret", out->client_secret,
                        sizeof out->client_secret) == 0)
            rc = 0;
        else
            log_error ("source %s: a pending authorization does not decrypt", out->source_id);
    }
    //  the RETURNING statement deletes only once it has run to its end
    if (step == SQLITE_ROW && sqlite3_step (stmt) != SQLITE_DONE)
        rc = -1;
    sqlite3_finalize (stmt);
    if (rc != 0)
        sodium_memzero (out, sizeof *out);
    return rc;
}

//  The row's lease is this one.
static int
s_lease_current (creds_t *self, const char *source_id, const char *lease)
{
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "SELECT lease_hash FROM source_oauth_tokens "
                        "WHERE source_id = ?1", -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, source_id, -1, SQLITE_STATIC);
    int step = sqlite3_step (stmt);
    int rc = step == SQLITE_DONE ? 1 : -1;
    if (step == SQLITE_ROW) {
        uint8_t hash [CREDS_HASH_BYTES];
        s_lease_hash (lease, hash);
        rc = sqlite3_column_bytes (stmt, 0) == CREDS_HASH_BYTES
          && sodium_memcmp (sqlite3_column_blob (stmt, 0), hash, CREDS_HASH_BYTES) == 0 ? 0 : 1;
    }
    sqlite3_finalize (stmt);
    return rc;
}

int
source_oauth_store (creds_t *self, const source_oauth_t *in, const char *lease, int64_t now_ms)
{
    bool leased = lease && *lease;
    if (leased) {
        int current = s_lease_current (self, in->source_id, lease);
        if (current != 0)
            return current;
    }
    uint8_t *secret = NULL, *access = NULL, *refresh = NULL;
    size_t secret_len = 0, access_len = 0, refresh_len = 0;
    int rc = -2;
    if (s_seal (self->key->key, in->source_id, "client_secret", in->client_secret, &secret,
                &secret_len) != 0
    ||  s_seal (self->key->key, in->source_id, "access_token", in->access_token, &access,
                &access_len) != 0 || !access
    ||  s_seal (self->key->key, in->source_id, "refresh_token", in->refresh_token, &refresh,
                &refresh_len) != 0)
        goto done;
    //  ?16: keep the stored refresh token when none came (a refresh the
    //  server answered without rotating it)
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db,
        "INSERT INTO source_oauth_tokens (source_id, server_id, client_id, token_endpoint, "
        "revocation_endpoint, resource, scope, client_secret_box, access_box, refresh_box, "
        "key_id, expires_at_ms, created_at, updated_at, token_auth_method) VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?17) "
        "ON CONFLICT (source_id) DO UPDATE SET server_id = ?2, client_id = ?3, "
        "token_endpoint = ?4, revocation_endpoint = ?5, resource = ?6, scope = ?7, "
        "client_secret_box = ?8, access_box = ?9, "
        "refresh_box = CASE WHEN ?16 AND ?10 IS NULL THEN refresh_box ELSE ?10 END, "
        "key_id = ?11, expires_at_ms = ?12, updated_at = ?13, lease_hash = NULL, "
        "token_auth_method = CASE WHEN ?16 AND ?17 IS NULL THEN token_auth_method "
        "ELSE ?17 END, "
        "lease_until_ms = NULL, needs_authorization = 0, last_error = NULL "
        "WHERE ?16 = 0 OR lease_hash = ?15", -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, in->source_id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, in->server_id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, in->client_id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 4, in->token_endpoint, -1, SQLITE_STATIC);
    s_bind_opt (stmt, 5, in->revocation_endpoint);
    sqlite3_bind_text (stmt, 6, in->resource, -1, SQLITE_STATIC);
    s_bind_opt (stmt, 7, in->scope);
    s_bind_box (stmt, 8, secret, secret_len);
    s_bind_box (stmt, 9, access, access_len);
    s_bind_box (stmt, 10, refresh, refresh_len);
    sqlite3_bind_blob (stmt, 11, self->key->id, SECRET_KEY_ID_BYTES, SQLITE_STATIC);
    if (in->expires_at_ms > 0)
        sqlite3_bind_int64 (stmt, 12, in->expires_at_ms);
    else
        sqlite3_bind_null (stmt, 12);
    sqlite3_bind_int64 (stmt, 13, now_ms / 1000);
    uint8_t hash [CREDS_HASH_BYTES];
    if (leased) {
        s_lease_hash (lease, hash);
        sqlite3_bind_blob (stmt, 15, hash, CREDS_HASH_BYTES, SQLITE_STATIC);
    }
    sqlite3_bind_int (stmt, 16, leased ? 1 : 0);
    s_bind_opt (stmt, 17, in->auth_method);
    int step = sqlite3_step (stmt);
    sqlite3_finalize (stmt);
    rc = step != SQLITE_DONE ? -1 : leased && sqlite3_changes (self->db) == 0 ? 1 : 0;
done:
    free (secret);
    free (access);
    free (refresh);
    return rc;
}

source_oauth_answer_t
source_oauth_token (creds_t *self, const char *source_id, bool force, int64_t now_ms,
                    source_oauth_t *out, char lease [SOURCE_OAUTH_LEASE_TEXT + 1],
                    int64_t *wait_ms)
{
    lease [0] = 0;
    *wait_ms = 0;
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db,
        "SELECT server_id, client_id, token_endpoint, resource, coalesce (scope, ''), "
        "client_secret_box, access_box, refresh_box, coalesce (expires_at_ms, 0), "
        "lease_hash IS NOT NULL AND lease_until_ms > ?2, coalesce (lease_until_ms, 0), "
        "coalesce (token_auth_method, '') "
        "FROM source_oauth_tokens WHERE source_id = ?1 AND needs_authorization = 0 "
        "AND access_box IS NOT NULL", -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, source_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, now_ms);
    int step = sqlite3_step (stmt);
    if (step != SQLITE_ROW) {
        sqlite3_finalize (stmt);
        return step == SQLITE_DONE ? SOURCE_OAUTH_NONE : SOURCE_OAUTH_ERROR;
    }
    source_oauth_answer_t answer = SOURCE_OAUTH_ERROR;
    snprintf (out->source_id, sizeof out->source_id, "%s", source_id);
    int64_t expires = sqlite3_column_int64 (stmt, 8);
    bool fresh = expires == 0 || expires - now_ms > SOURCE_OAUTH_EARLY_MS;
    if (fresh && !force) {
        if (s_open_col (self, stmt, 6, source_id, "access_token", out->access_token,
                        sizeof out->access_token) == 0 && out->access_token [0]) {
            out->expires_at_ms = expires;
            answer = SOURCE_OAUTH_ACCESS;
        }
        goto done;
    }
    if (sqlite3_column_type (stmt, 7) == SQLITE_NULL) {
        //  nothing to refresh with; an access token with time left is
        //  still given unless the caller saw it refused
        if (!force && expires > now_ms
        &&  s_open_col (self, stmt, 6, source_id, "access_token", out->access_token,
                        sizeof out->access_token) == 0 && out->access_token [0]) {
            out->expires_at_ms = expires;
            answer = SOURCE_OAUTH_ACCESS;
        }
        else
            answer = SOURCE_OAUTH_EXPIRED;
        goto done;
    }
    if (sqlite3_column_int (stmt, 9)) {
        //  another caller is refreshing: the token still good meanwhile
        if (!force && expires > now_ms
        &&  s_open_col (self, stmt, 6, source_id, "access_token", out->access_token,
                        sizeof out->access_token) == 0 && out->access_token [0]) {
            out->expires_at_ms = expires;
            answer = SOURCE_OAUTH_ACCESS;
            goto done;
        }
        int64_t left = sqlite3_column_int64 (stmt, 10) - now_ms;
        *wait_ms = left < 50 ? 50 : left > SOURCE_OAUTH_WAIT_MAX_MS
                 ? SOURCE_OAUTH_WAIT_MAX_MS : left;
        answer = SOURCE_OAUTH_WAIT;
        goto done;
    }
    s_copy_col (stmt, 0, out->server_id, sizeof out->server_id);
    s_copy_col (stmt, 1, out->client_id, sizeof out->client_id);
    s_copy_col (stmt, 2, out->token_endpoint, sizeof out->token_endpoint);
    s_copy_col (stmt, 3, out->resource, sizeof out->resource);
    s_copy_col (stmt, 4, out->scope, sizeof out->scope);
    s_copy_col (stmt, 11, out->auth_method, sizeof out->auth_method);
    if (s_open_col (self, stmt, 5, source_id, "client_secret", out->client_secret,
                    sizeof out->client_secret) != 0
    ||  s_open_col (self, stmt, 7, source_id, "refresh_token", out->refresh_token,
                    sizeof out->refresh_token) != 0 || !out->refresh_token [0])
        goto done;
    sqlite3_finalize (stmt);
    stmt = NULL;
    //  the lease: 32 random bytes as text for the caller, its hash here
    uint8_t raw [32], hash [CREDS_HASH_BYTES];
    randombytes_buf (raw, sizeof raw);
    sodium_bin2base64 (lease, SOURCE_OAUTH_LEASE_TEXT + 1, raw, sizeof raw,
                       sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    s_lease_hash (lease, hash);
    sqlite3_prepare_v2 (self->db, "UPDATE source_oauth_tokens SET lease_hash = ?2, "
                        "lease_until_ms = ?3 WHERE source_id = ?1", -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, source_id, -1, SQLITE_STATIC);
    sqlite3_bind_blob (stmt, 2, hash, CREDS_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 3, now_ms + SOURCE_OAUTH_LEASE_MS);
    if (sqlite3_step (stmt) == SQLITE_DONE && sqlite3_changes (self->db) == 1)
        answer = SOURCE_OAUTH_REFRESH;
done:
    sqlite3_finalize (stmt);
    if (answer == SOURCE_OAUTH_ERROR) {
        log_error ("source %s: its tokens do not decrypt or cannot be updated", source_id);
        sodium_memzero (out, sizeof *out);
        sodium_memzero (lease, SOURCE_OAUTH_LEASE_TEXT + 1);
    }
    return answer;
}

int
source_oauth_fail (creds_t *self, const char *source_id, const char *lease, const char *error,
                   bool transient, int64_t now_ms)
{
    uint8_t hash [CREDS_HASH_BYTES];
    s_lease_hash (lease, hash);
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, transient
        ? "UPDATE source_oauth_tokens SET lease_hash = NULL, lease_until_ms = NULL, "
          "last_error = ?3, updated_at = ?4 WHERE source_id = ?1 AND lease_hash = ?2"
        : "UPDATE source_oauth_tokens SET lease_hash = NULL, lease_until_ms = NULL, "
          "last_error = ?3, updated_at = ?4, client_secret_box = NULL, access_box = NULL, "
          "refresh_box = NULL, key_id = NULL, expires_at_ms = NULL, needs_authorization = 1 "
          "WHERE source_id = ?1 AND lease_hash = ?2", -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, source_id, -1, SQLITE_STATIC);
    sqlite3_bind_blob (stmt, 2, hash, CREDS_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, error, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 4, now_ms / 1000);
    int step = sqlite3_step (stmt);
    sqlite3_finalize (stmt);
    if (step != SQLITE_DONE)
        return -1;
    return sqlite3_changes (self->db) == 1 ? 0 : 1;
}

int
source_oauth_status (creds_t *self, const char *source_id, int64_t now_ms,
                     source_oauth_status_t *out)
{
    memset (out, 0, sizeof *out);
    out->state = "none";
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db,
        "SELECT access_box IS NOT NULL, refresh_box IS NOT NULL, coalesce (expires_at_ms, 0), "
        "needs_authorization, updated_at, coalesce (last_error, '') FROM source_oauth_tokens "
        "WHERE source_id = ?1", -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, source_id, -1, SQLITE_STATIC);
    int step = sqlite3_step (stmt);
    bool tokens = false, needs = false;
    if (step == SQLITE_ROW) {
        tokens = sqlite3_column_int (stmt, 0) != 0;
        bool refresh = sqlite3_column_int (stmt, 1) != 0;
        int64_t expires = sqlite3_column_int64 (stmt, 2);
        needs = sqlite3_column_int (stmt, 3) != 0;
        out->updated_at = sqlite3_column_int64 (stmt, 4);
        s_copy_col (stmt, 5, out->last_error, sizeof out->last_error);
        if (tokens) {
            out->expires_at_ms = expires;
            out->state = expires && expires <= now_ms && !refresh ? "expired" : "authorized";
        }
    }
    sqlite3_finalize (stmt);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return -1;
    if (tokens)
        return 0;
    sqlite3_prepare_v2 (self->db, "SELECT created_at FROM source_oauth_pending "
                        "WHERE source_id = ?1 AND expires_at_ms > ?2", -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, source_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, now_ms);
    int pending = sqlite3_step (stmt);
    if (pending == SQLITE_ROW) {
        out->state = "pending";
        if (!needs)
            out->updated_at = sqlite3_column_int64 (stmt, 0);
    }
    else
    if (needs)
        out->state = "needs_authorization";
    sqlite3_finalize (stmt);
    return pending == SQLITE_ROW || pending == SQLITE_DONE ? 0 : -1;
}

int
source_oauth_forget (creds_t *self, const char *source_id)
{
    int count = 0;
    const char *sql [] = { "DELETE FROM source_oauth_pending WHERE source_id = ?1",
                           "DELETE FROM source_oauth_tokens WHERE source_id = ?1" };
    for (size_t i = 0; i < 2; i++) {
        sqlite3_stmt *stmt = NULL;
        sqlite3_prepare_v2 (self->db, sql [i], -1, &stmt, NULL);
        sqlite3_bind_text (stmt, 1, source_id, -1, SQLITE_STATIC);
        int step = sqlite3_step (stmt);
        sqlite3_finalize (stmt);
        if (step != SQLITE_DONE)
            return -1;
        count += sqlite3_changes (self->db);
    }
    return count;
}

//  --- key rotation ------------------------------------------------------------

//  Re-seal one box (NULL stays NULL) of source_id's field from key to next.
static int
s_reseal (const uint8_t key [SECRET_KEY_BYTES], const uint8_t next [SECRET_KEY_BYTES],
          const char *source_id, const char *field, const void *box, size_t box_len,
          uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (!box)
        return 0;
    char *plain = malloc (SOURCE_OAUTH_TOKEN_MAX + 1);
    if (!plain)
        return -1;
    int rc = s_open (key, source_id, field, box, box_len, plain, SOURCE_OAUTH_TOKEN_MAX + 1);
    if (rc == 0)
        rc = s_seal (next, source_id, field, plain, out, out_len);
    sodium_memzero (plain, SOURCE_OAUTH_TOKEN_MAX + 1);
    free (plain);
    return rc;
}

typedef struct {
    const char *table;
    const char *fields [3];         //  box columns are <field>_box, except tokens'
    const char *columns [3];
} s_table_t;

static const s_table_t s_tables [] = {
    { "source_oauth_pending", { "verifier", "client_secret", NULL },
      { "verifier_box", "client_secret_box", NULL } },
    { "source_oauth_tokens", { "client_secret", "access_token", "refresh_token" },
      { "client_secret_box", "access_box", "refresh_box" } },
};

int
source_oauth_reseal (creds_t *self, const uint8_t key [SECRET_KEY_BYTES],
                     const uint8_t next [SECRET_KEY_BYTES],
                     const uint8_t next_id [SECRET_KEY_ID_BYTES], int64_t *count,
                     char *err, size_t errlen)
{
    for (size_t t = 0; t < sizeof s_tables / sizeof s_tables [0]; t++) {
        const s_table_t *table = &s_tables [t];
        size_t nfields = table->fields [2] ? 3 : 2;
        char sql [400];
        snprintf (sql, sizeof sql, "SELECT source_id, %s, %s%s%s FROM %s WHERE key_id IS NOT NULL",
                  table->columns [0], table->columns [1], nfields == 3 ? ", " : "",
                  nfields == 3 ? table->columns [2] : "", table->table);
        sqlite3_stmt *select = NULL, *update = NULL;
        if (sqlite3_prepare_v2 (self->db, sql, -1, &select, NULL) != SQLITE_OK)
            return bus_err_text (err, errlen, "cannot read %s: %s", table->table,
                                 sqlite3_errmsg (self->db));
        snprintf (sql, sizeof sql, "UPDATE %s SET %s = ?2, %s = ?3%s%s%s, key_id = ?5 "
                  "WHERE source_id = ?1", table->table, table->columns [0], table->columns [1],
                  nfields == 3 ? ", " : "", nfields == 3 ? table->columns [2] : "",
                  nfields == 3 ? " = ?4" : "");
        if (sqlite3_prepare_v2 (self->db, sql, -1, &update, NULL) != SQLITE_OK) {
            sqlite3_finalize (select);
            return bus_err_text (err, errlen, "cannot update %s: %s", table->table,
                                 sqlite3_errmsg (self->db));
        }
        int step, rc = 0;
        while (rc == 0 && (step = sqlite3_step (select)) == SQLITE_ROW) {
            const char *source_id = (const char *) sqlite3_column_text (select, 0);
            sqlite3_reset (update);
            sqlite3_bind_text (update, 1, source_id, -1, SQLITE_TRANSIENT);
            for (size_t f = 0; f < nfields && rc == 0; f++) {
                uint8_t *box = NULL;
                size_t box_len = 0;
                rc = s_reseal (key, next, source_id, table->fields [f],
                               sqlite3_column_blob (select, (int) f + 1),
                               (size_t) sqlite3_column_bytes (select, (int) f + 1),
                               &box, &box_len);
                if (rc == 0)
                    s_bind_box (update, (int) f + 2, box, box_len);
                free (box);
            }
            if (rc != 0) {
                bus_err_text (err, errlen, "the OAuth %s of source %s does not open with the "
                              "current key; nothing was changed",
                              t == 0 ? "authorization" : "tokens", source_id);
                break;
            }
            sqlite3_bind_blob (update, 5, next_id, SECRET_KEY_ID_BYTES, SQLITE_STATIC);
            if (sqlite3_step (update) != SQLITE_DONE) {
                rc = bus_err_text (err, errlen, "cannot update: %s", sqlite3_errmsg (self->db));
                break;
            }
            (*count)++;
            secrets_crash_point ("row", *count);
        }
        if (rc == 0 && step != SQLITE_DONE)
            rc = bus_err_text (err, errlen, "cannot read: %s", sqlite3_errmsg (self->db));
        sqlite3_finalize (select);
        sqlite3_finalize (update);
        if (rc != 0)
            return -1;
    }
    return 0;
}
