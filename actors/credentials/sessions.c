/*  sessions.c — tokens stored as hashes, refresh rotation with reuse
    detection, revocation (sessions.h).
*/
#include <string.h>
#include "log.h"
#include "sessions.h"

#define S_FAMILY_BYTES 16

void
session_token_new (char text [CREDS_TOKEN_TEXT + 1], uint8_t hash [CREDS_HASH_BYTES])
{
    uint8_t raw [CREDS_TOKEN_BYTES];
    randombytes_buf (raw, sizeof raw);
    sodium_bin2base64 (text, CREDS_TOKEN_TEXT + 1, raw, sizeof raw,
                       sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    crypto_generichash (hash, CREDS_HASH_BYTES, raw, sizeof raw, NULL, 0);
    sodium_memzero (raw, sizeof raw);
}

int
session_token_hash (const char *text, uint8_t hash [CREDS_HASH_BYTES])
{
    if (!text || strlen (text) != CREDS_TOKEN_TEXT)
        return -1;
    uint8_t raw [CREDS_TOKEN_BYTES];
    size_t len = 0;
    const char *end = NULL;
    if (sodium_base642bin (raw, sizeof raw, text, CREDS_TOKEN_TEXT, NULL, &len, &end,
                           sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0
    ||  len != CREDS_TOKEN_BYTES || end != text + CREDS_TOKEN_TEXT)
        return -1;
    crypto_generichash (hash, CREDS_HASH_BYTES, raw, sizeof raw, NULL, 0);
    sodium_memzero (raw, sizeof raw);
    return 0;
}

int
session_create (creds_t *self, int64_t user_id, const uint8_t *family,
                session_tokens_t *out)
{
    uint8_t fam [S_FAMILY_BYTES];
    if (family)
        memcpy (fam, family, S_FAMILY_BYTES);
    else
        randombytes_buf (fam, sizeof fam);
    uint8_t access [CREDS_HASH_BYTES], refresh [CREDS_HASH_BYTES], csrf [CREDS_HASH_BYTES];
    session_token_new (out->access, access);
    session_token_new (out->refresh, refresh);
    session_token_new (out->csrf, csrf);
    int64_t now = creds_now ();
    out->access_expires = now + self->limits.access_ttl_s;
    out->refresh_expires = now + self->limits.refresh_ttl_s;
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "INSERT INTO sessions (family, user_id, access_hash, "
                        "refresh_hash, csrf_hash, access_expires, refresh_expires, created_at) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", -1, &stmt, NULL);
    sqlite3_bind_blob (stmt, 1, fam, S_FAMILY_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, user_id);
    sqlite3_bind_blob (stmt, 3, access, CREDS_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob (stmt, 4, refresh, CREDS_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob (stmt, 5, csrf, CREDS_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 6, out->access_expires);
    sqlite3_bind_int64 (stmt, 7, out->refresh_expires);
    sqlite3_bind_int64 (stmt, 8, now);
    int rc = sqlite3_step (stmt);
    sqlite3_finalize (stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

int
session_lookup (creds_t *self, const char *access, session_info_t *info)
{
    uint8_t hash [CREDS_HASH_BYTES];
    if (session_token_hash (access, hash) != 0)
        return 1;
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "SELECT s.id, s.user_id, u.username, s.csrf_hash, "
                        "s.access_expires FROM sessions s JOIN admin_users u ON u.id = s.user_id "
                        "WHERE s.access_hash = ?1 AND s.revoked = 0 AND s.rotated = 0 "
                        "AND s.access_expires > ?2", -1, &stmt, NULL);
    sqlite3_bind_blob (stmt, 1, hash, CREDS_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, creds_now ());
    int step = sqlite3_step (stmt);
    int rc = step == SQLITE_ROW ? 0 : step == SQLITE_DONE ? 1 : -1;
    if (rc == 0) {
        info->session_id = sqlite3_column_int64 (stmt, 0);
        info->user_id = sqlite3_column_int64 (stmt, 1);
        snprintf (info->username, sizeof info->username, "%s",
                  (const char *) sqlite3_column_text (stmt, 2));
        if (sqlite3_column_bytes (stmt, 3) == CREDS_HASH_BYTES)
            memcpy (info->csrf_hash, sqlite3_column_blob (stmt, 3), CREDS_HASH_BYTES);
        info->access_expires = sqlite3_column_int64 (stmt, 4);
    }
    sqlite3_finalize (stmt);
    return rc;
}

static int
s_exec_blob (creds_t *self, const char *sql, const void *blob, int size)
{
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL);
    sqlite3_bind_blob (stmt, 1, blob, size, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    sqlite3_finalize (stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

int
session_refresh (creds_t *self, const char *refresh, const char *csrf,
                 session_tokens_t *out, int64_t *user_id, char *username)
{
    uint8_t hash [CREDS_HASH_BYTES];
    if (session_token_hash (refresh, hash) != 0)
        return 1;
    if (sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "SELECT s.id, s.family, s.user_id, s.rotated, s.revoked, "
                        "s.refresh_expires, u.username, s.csrf_hash FROM sessions s JOIN admin_users u "
                        "ON u.id = s.user_id WHERE s.refresh_hash = ?1", -1, &stmt, NULL);
    sqlite3_bind_blob (stmt, 1, hash, CREDS_HASH_BYTES, SQLITE_STATIC);
    int step = sqlite3_step (stmt);
    int rc = 1;
    uint8_t family [S_FAMILY_BYTES];
    if (step == SQLITE_ROW && sqlite3_column_bytes (stmt, 1) == S_FAMILY_BYTES) {
        int64_t id = sqlite3_column_int64 (stmt, 0);
        memcpy (family, sqlite3_column_blob (stmt, 1), S_FAMILY_BYTES);
        *user_id = sqlite3_column_int64 (stmt, 2);
        bool rotated = sqlite3_column_int (stmt, 3);
        bool revoked = sqlite3_column_int (stmt, 4);
        int64_t expires = sqlite3_column_int64 (stmt, 5);
        snprintf (username, CREDS_USERNAME_MAX + 1, "%s",
                  (const char *) sqlite3_column_text (stmt, 6));
        uint8_t csrf_hash [CREDS_HASH_BYTES], given [CREDS_HASH_BYTES];
        bool csrf_ok = !csrf;
        if (csrf && sqlite3_column_bytes (stmt, 7) == CREDS_HASH_BYTES
        &&  session_token_hash (csrf, given) == 0) {
            memcpy (csrf_hash, sqlite3_column_blob (stmt, 7), CREDS_HASH_BYTES);
            csrf_ok = sodium_memcmp (csrf_hash, given, CREDS_HASH_BYTES) == 0;
        }
        sqlite3_finalize (stmt);
        stmt = NULL;
        if (!csrf_ok)
            rc = 3;
        else
        if (rotated) {
            //  a refresh token used twice: whoever holds the family is suspect
            rc = s_exec_blob (self, "UPDATE sessions SET revoked = 1 WHERE family = ?1",
                              family, S_FAMILY_BYTES) == 0 ? 2 : -1;
            log_warn ("refresh token reuse for user %s: session family revoked", username);
        }
        else
        if (revoked || expires <= creds_now ())
            rc = 1;
        else {
            sqlite3_prepare_v2 (self->db, "UPDATE sessions SET rotated = 1 WHERE id = ?1",
                                -1, &stmt, NULL);
            sqlite3_bind_int64 (stmt, 1, id);
            rc = sqlite3_step (stmt) == SQLITE_DONE
              && session_create (self, *user_id, family, out) == 0 ? 0 : -1;
        }
    }
    else
    if (step != SQLITE_DONE && step != SQLITE_ROW)
        rc = -1;
    sqlite3_finalize (stmt);
    sqlite3_exec (self->db, rc == -1 ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
    return rc;
}

int
session_revoke_family (creds_t *self, const char *token)
{
    uint8_t hash [CREDS_HASH_BYTES];
    if (session_token_hash (token, hash) != 0)
        return 1;
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "UPDATE sessions SET revoked = 1 WHERE family IN "
                        "(SELECT family FROM sessions WHERE access_hash = ?1 OR "
                        "refresh_hash = ?1)", -1, &stmt, NULL);
    sqlite3_bind_blob (stmt, 1, hash, CREDS_HASH_BYTES, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    sqlite3_finalize (stmt);
    if (rc != SQLITE_DONE)
        return -1;
    return sqlite3_changes (self->db) > 0 ? 0 : 1;
}

int
session_revoke_user (creds_t *self, int64_t user_id)
{
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "UPDATE sessions SET revoked = 1 WHERE user_id = ?1",
                        -1, &stmt, NULL);
    sqlite3_bind_int64 (stmt, 1, user_id);
    int rc = sqlite3_step (stmt);
    sqlite3_finalize (stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

void
session_prune (creds_t *self)
{
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "DELETE FROM sessions WHERE refresh_expires < ?1",
                        -1, &stmt, NULL);
    //  kept a day past expiry so a late replay is still recognised as reuse
    sqlite3_bind_int64 (stmt, 1, creds_now () - 86400);
    sqlite3_step (stmt);
    sqlite3_finalize (stmt);
}
