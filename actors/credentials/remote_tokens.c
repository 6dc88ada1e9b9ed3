/*  remote_tokens.c — service tokens: made, listed, revoked, verified
    (remote_tokens.h).
*/
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "remote_tokens.h"

#define S_KEY_OWNER "credentials"
#define S_KEY_NAME  "REMOTE_TOKEN_HASH_KEY"

bool
remote_token_name_valid (const char *name)
{
    size_t len = strlen (name);
    if (len < 1 || len > REMOTE_TOKEN_NAME_MAX
    ||  !((name [0] >= 'a' && name [0] <= 'z') || (name [0] >= 'A' && name [0] <= 'Z')))
        return false;
    for (size_t i = 1; i < len; i++) {
        char c = name [i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

//  The hash key: opened from server_secrets, or made and sealed there on
//  first use. Kept in self once known (rotate_key re-seals the same bytes).
int
remote_tokens_hash_key (creds_t *self)
{
    if (self->has_token_key)
        return 0;
    uint8_t *plain = NULL;
    size_t size = 0;
    int rc = secrets_get (self, S_KEY_OWNER, S_KEY_NAME, &plain, &size);
    if (rc == 1) {
        //  none yet: make one (kept if another was stored meanwhile), read back
        uint8_t key [sizeof self->token_key];
        randombytes_buf (key, sizeof key);
        rc = secrets_put (self, S_KEY_OWNER, S_KEY_NAME, key, sizeof key, false);
        sodium_memzero (key, sizeof key);
        if (rc != 0)
            return -1;
        log_info ("remote token hash key made");
        rc = secrets_get (self, S_KEY_OWNER, S_KEY_NAME, &plain, &size);
    }
    if (rc != 0 || size != sizeof self->token_key) {
        if (plain) {
            sodium_memzero (plain, size);
            free (plain);
        }
        log_error ("the remote token hash key cannot be read: no service token can be "
                   "checked");
        return -1;
    }
    memcpy (self->token_key, plain, sizeof self->token_key);
    sodium_memzero (plain, size);
    free (plain);
    self->has_token_key = true;
    return 0;
}

static int
s_hash (creds_t *self, const char *token, uint8_t hash [CREDS_HASH_BYTES])
{
    if (remote_tokens_hash_key (self) != 0)
        return -1;
    crypto_generichash (hash, CREDS_HASH_BYTES, (const uint8_t *) token, strlen (token),
                        self->token_key, sizeof self->token_key);
    return 0;
}

//  The token's text has our shape: prefix + 43 base64url characters.
static bool
s_shaped (const char *token)
{
    if (strlen (token) != REMOTE_TOKEN_TEXT
    ||  memcmp (token, REMOTE_TOKEN_PREFIX, REMOTE_TOKEN_PREFIX_LEN) != 0)
        return false;
    for (const char *p = token + REMOTE_TOKEN_PREFIX_LEN; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
              || *p == '-' || *p == '_'))
            return false;
    return true;
}

static void
s_row (sqlite3_stmt *stmt, remote_token_t *out)
{
    out->id = sqlite3_column_int64 (stmt, 0);
    snprintf (out->name, sizeof out->name, "%s", (const char *) sqlite3_column_text (stmt, 1));
    out->created_at = sqlite3_column_int64 (stmt, 2);
    out->last_used_at = sqlite3_column_int64 (stmt, 3);
    out->revoked_at = sqlite3_column_int64 (stmt, 4);
}

#define S_COLUMNS "id, name, created_at, coalesce (last_used_at, 0), coalesce (revoked_at, 0)"

int
remote_tokens_create (creds_t *self, const char *name, char token [REMOTE_TOKEN_TEXT + 1],
                      remote_token_t *out)
{
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "SELECT count(*) FROM remote_tokens WHERE revoked_at IS NULL",
                        -1, &stmt, NULL);
    int64_t live = sqlite3_step (stmt) == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : -1;
    sqlite3_finalize (stmt);
    if (live < 0)
        return -1;
    if (live >= REMOTE_TOKENS_LIVE_MAX)
        return 2;
    uint8_t raw [CREDS_TOKEN_BYTES];
    randombytes_buf (raw, sizeof raw);
    memcpy (token, REMOTE_TOKEN_PREFIX, REMOTE_TOKEN_PREFIX_LEN);
    sodium_bin2base64 (token + REMOTE_TOKEN_PREFIX_LEN, CREDS_TOKEN_TEXT + 1, raw, sizeof raw,
                       sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero (raw, sizeof raw);
    uint8_t hash [CREDS_HASH_BYTES];
    if (s_hash (self, token, hash) != 0) {
        sodium_memzero (token, REMOTE_TOKEN_TEXT + 1);
        return -1;
    }
    int64_t now = creds_now ();
    sqlite3_prepare_v2 (self->db, "INSERT INTO remote_tokens (name, token_hash, created_at) "
                        "VALUES (?1, ?2, ?3)", -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob (stmt, 2, hash, CREDS_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 3, now);
    int rc = sqlite3_step (stmt);
    sqlite3_finalize (stmt);
    if (rc != SQLITE_DONE) {
        sodium_memzero (token, REMOTE_TOKEN_TEXT + 1);
        return (rc & 0xff) == SQLITE_CONSTRAINT ? 1 : -1;
    }
    memset (out, 0, sizeof *out);
    out->id = sqlite3_last_insert_rowid (self->db);
    snprintf (out->name, sizeof out->name, "%s", name);
    out->created_at = now;
    return 0;
}

int
remote_tokens_revoke (creds_t *self, int64_t id, const char *name, remote_token_t *out)
{
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, id > 0
        ? "UPDATE remote_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL "
          "RETURNING " S_COLUMNS
        : "UPDATE remote_tokens SET revoked_at = ?2 WHERE name = ?1 COLLATE NOCASE "
          "AND revoked_at IS NULL RETURNING " S_COLUMNS, -1, &stmt, NULL);
    if (id > 0)
        sqlite3_bind_int64 (stmt, 1, id);
    else
        sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, creds_now ());
    int step = sqlite3_step (stmt);
    if (step == SQLITE_ROW)
        s_row (stmt, out);
    int rc = sqlite3_finalize (stmt);
    if (step == SQLITE_ROW && rc == SQLITE_OK)
        return 0;
    return step == SQLITE_DONE && rc == SQLITE_OK ? 1 : -1;
}

int
remote_tokens_verify (creds_t *self, const char *token, remote_token_t *out)
{
    uint8_t hash [CREDS_HASH_BYTES];
    if (!s_shaped (token))
        return 1;
    if (s_hash (self, token, hash) != 0)
        return -1;
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "SELECT " S_COLUMNS " FROM remote_tokens "
                        "WHERE token_hash = ?1 AND revoked_at IS NULL", -1, &stmt, NULL);
    sqlite3_bind_blob (stmt, 1, hash, CREDS_HASH_BYTES, SQLITE_STATIC);
    int step = sqlite3_step (stmt);
    if (step == SQLITE_ROW)
        s_row (stmt, out);
    sqlite3_finalize (stmt);
    if (step != SQLITE_ROW)
        return step == SQLITE_DONE ? 1 : -1;
    int64_t now = creds_now ();
    if (now - out->last_used_at >= REMOTE_TOKEN_TOUCH_S) {
        sqlite3_prepare_v2 (self->db, "UPDATE remote_tokens SET last_used_at = ?2 WHERE id = ?1",
                            -1, &stmt, NULL);
        sqlite3_bind_int64 (stmt, 1, out->id);
        sqlite3_bind_int64 (stmt, 2, now);
        if (sqlite3_step (stmt) != SQLITE_DONE)
            log_warn ("remote token %s: cannot record its use: %s", out->name,
                      sqlite3_errmsg (self->db));
        else
            out->last_used_at = now;
        sqlite3_finalize (stmt);
    }
    return 0;
}

int
remote_tokens_list (creds_t *self, bool with_revoked, remote_token_fn *fn, void *arg)
{
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, with_revoked
        ? "SELECT " S_COLUMNS " FROM remote_tokens ORDER BY id DESC"
        : "SELECT " S_COLUMNS " FROM remote_tokens WHERE revoked_at IS NULL ORDER BY id DESC",
        -1, &stmt, NULL);
    int count = 0, step;
    while ((step = sqlite3_step (stmt)) == SQLITE_ROW) {
        remote_token_t token;
        s_row (stmt, &token);
        if (fn)
            fn (&token, arg);
        count++;
    }
    sqlite3_finalize (stmt);
    return step == SQLITE_DONE ? count : -1;
}
