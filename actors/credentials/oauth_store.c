/*  oauth_store.c — OAuth clients, pending consents, codes and token
    families in sqlite (oauth.h, sql/0009_oauth.sql). Codes and tokens are
    kept only as BLAKE2b-256 hashes (sessions.h's token form).
*/
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "oauth.h"
#include "sessions.h"

#define S_FAMILY_BYTES 16

static void
s_copy (char *out, size_t size, sqlite3_stmt *stmt, int column)
{
    const unsigned char *text = sqlite3_column_text (stmt, column);
    snprintf (out, size, "%s", text ? (const char *) text : "");
}

static int
s_step_done (sqlite3_stmt *stmt)
{
    int rc = sqlite3_step (stmt);
    sqlite3_finalize (stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

//  --- clients -------------------------------------------------------------------

int
oauth_client_get (creds_t *self, const char *client_id, oauth_client_t *out)
{
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "SELECT client_id, kind, client_name, redirect_uris, "
                        "created_at, updated_at, coalesce (approved_at, 0) FROM oauth_clients "
                        "WHERE client_id = ?1", -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, client_id, -1, SQLITE_STATIC);
    int step = sqlite3_step (stmt);
    int rc = step == SQLITE_ROW ? 0 : step == SQLITE_DONE ? 1 : -1;
    if (rc == 0) {
        s_copy (out->client_id, sizeof out->client_id, stmt, 0);
        s_copy (out->kind, sizeof out->kind, stmt, 1);
        s_copy (out->client_name, sizeof out->client_name, stmt, 2);
        s_copy (out->redirect_uris, sizeof out->redirect_uris, stmt, 3);
        out->created_at = sqlite3_column_int64 (stmt, 4);
        out->updated_at = sqlite3_column_int64 (stmt, 5);
        out->approved_at = sqlite3_column_int64 (stmt, 6);
    }
    sqlite3_finalize (stmt);
    return rc;
}

bool
oauth_client_redirect_ok (const oauth_client_t *client, const char *uri)
{
    size_t len = strlen (uri);
    if (len == 0 || strchr (uri, '\n'))
        return false;
    const char *line = client->redirect_uris;
    while (*line) {
        size_t line_len = strcspn (line, "\n");
        if (line_len == len && memcmp (line, uri, len) == 0)
            return true;
        line += line_len + (line [line_len] == '\n');
    }
    return false;
}

int
oauth_client_save (creds_t *self, oauth_client_t *client)
{
    int64_t now = creds_now ();
    bool dcr = strcmp (client->kind, "dcr") == 0;
    sqlite3_stmt *stmt = NULL;
    if (dcr) {
        sqlite3_prepare_v2 (self->db, "SELECT count(*) FROM oauth_clients WHERE kind = 'dcr' "
                            "AND approved_at IS NULL", -1, &stmt, NULL);
        int64_t pending = sqlite3_step (stmt) == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : -1;
        sqlite3_finalize (stmt);
        if (pending < 0)
            return -1;
        if (pending >= OAUTH_DCR_MAX)
            return 2;
        //  "mcpbox-" and 128 random bits, base64url
        uint8_t raw [16];
        char text [32];
        randombytes_buf (raw, sizeof raw);
        sodium_bin2base64 (text, sizeof text, raw, sizeof raw,
                           sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        snprintf (client->client_id, sizeof client->client_id, "mcpbox-%s", text);
        sqlite3_prepare_v2 (self->db, "INSERT INTO oauth_clients (client_id, kind, client_name, "
                            "redirect_uris, created_at, updated_at) VALUES (?1, 'dcr', ?2, ?3, "
                            "?4, ?4)", -1, &stmt, NULL);
    }
    else
        sqlite3_prepare_v2 (self->db, "INSERT INTO oauth_clients (client_id, kind, client_name, "
                            "redirect_uris, created_at, updated_at) VALUES (?1, 'cimd', ?2, ?3, "
                            "?4, ?4) ON CONFLICT (client_id) DO UPDATE SET client_name = "
                            "excluded.client_name, redirect_uris = excluded.redirect_uris, "
                            "updated_at = excluded.updated_at WHERE kind = 'cimd'", -1, &stmt,
                            NULL);
    sqlite3_bind_text (stmt, 1, client->client_id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, client->client_name, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, client->redirect_uris, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 4, now);
    client->created_at = client->updated_at = now;
    return s_step_done (stmt);
}

static int
s_exec_text (creds_t *self, const char *sql, const char *text)
{
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, text, -1, SQLITE_STATIC);
    return s_step_done (stmt);
}

int
oauth_client_revoke (creds_t *self, const char *client_id, int64_t *families)
{
    oauth_client_t client;
    int found = oauth_client_get (self, client_id, &client);
    if (found != 0)
        return found;
    if (sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "SELECT count (DISTINCT family) FROM oauth_tokens WHERE "
                        "client_id = ?1 AND revoked = 0 AND rotated = 0 AND refresh_expires > ?2",
                        -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, client_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, creds_now ());
    *families = sqlite3_step (stmt) == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : 0;
    sqlite3_finalize (stmt);
    int rc = s_exec_text (self, "UPDATE oauth_tokens SET revoked = 1 WHERE client_id = ?1",
                          client_id);
    if (rc == 0)
        rc = s_exec_text (self, "UPDATE oauth_codes SET used = 1 WHERE client_id = ?1", client_id);
    if (rc == 0)
        rc = s_exec_text (self, "DELETE FROM oauth_requests WHERE client_id = ?1", client_id);
    if (rc == 0)
        rc = s_exec_text (self, "UPDATE oauth_clients SET approved_at = NULL WHERE "
                          "client_id = ?1", client_id);
    sqlite3_exec (self->db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

//  --- pending consents ------------------------------------------------------------

int
oauth_request_create (creds_t *self, const oauth_grant_t *grant,
                      char request [CREDS_TOKEN_TEXT + 1], char csrf [CREDS_TOKEN_TEXT + 1])
{
    int64_t now = creds_now ();
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "SELECT count(*) FROM oauth_requests WHERE expires_at > ?1",
                        -1, &stmt, NULL);
    sqlite3_bind_int64 (stmt, 1, now);
    int64_t pending = sqlite3_step (stmt) == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : -1;
    sqlite3_finalize (stmt);
    if (pending < 0)
        return -1;
    if (pending >= OAUTH_REQUESTS_MAX)
        return 2;
    uint8_t request_hash [CREDS_HASH_BYTES], csrf_hash [CREDS_HASH_BYTES];
    session_token_new (request, request_hash);
    session_token_new (csrf, csrf_hash);
    sqlite3_prepare_v2 (self->db, "INSERT INTO oauth_requests (request_hash, csrf_hash, "
                        "client_id, redirect_uri, code_challenge, resource, scope, state, "
                        "expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", -1, &stmt, NULL);
    sqlite3_bind_blob (stmt, 1, request_hash, CREDS_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob (stmt, 2, csrf_hash, CREDS_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, grant->client_id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 4, grant->redirect_uri, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 5, grant->code_challenge, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 6, grant->resource, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 7, grant->scope, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 8, grant->state, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 9, now + OAUTH_REQUEST_TTL_S);
    return s_step_done (stmt);
}

int
oauth_request_get (creds_t *self, const char *request, const char *csrf, oauth_grant_t *out)
{
    uint8_t hash [CREDS_HASH_BYTES];
    if (session_token_hash (request, hash) != 0)
        return 1;
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "SELECT client_id, redirect_uri, code_challenge, resource, "
                        "scope, state, csrf_hash FROM oauth_requests WHERE request_hash = ?1 "
                        "AND expires_at > ?2", -1, &stmt, NULL);
    sqlite3_bind_blob (stmt, 1, hash, CREDS_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, creds_now ());
    int step = sqlite3_step (stmt);
    int rc = step == SQLITE_ROW ? 0 : step == SQLITE_DONE ? 1 : -1;
    if (rc == 0) {
        memset (out, 0, sizeof *out);
        s_copy (out->client_id, sizeof out->client_id, stmt, 0);
        s_copy (out->redirect_uri, sizeof out->redirect_uri, stmt, 1);
        s_copy (out->code_challenge, sizeof out->code_challenge, stmt, 2);
        s_copy (out->resource, sizeof out->resource, stmt, 3);
        s_copy (out->scope, sizeof out->scope, stmt, 4);
        s_copy (out->state, sizeof out->state, stmt, 5);
        if (csrf) {
            uint8_t given [CREDS_HASH_BYTES];
            if (session_token_hash (csrf, given) != 0
            ||  sqlite3_column_bytes (stmt, 6) != CREDS_HASH_BYTES
            ||  sodium_memcmp (given, sqlite3_column_blob (stmt, 6), CREDS_HASH_BYTES) != 0)
                rc = 3;
        }
    }
    sqlite3_finalize (stmt);
    return rc;
}

int
oauth_request_drop (creds_t *self, const char *request)
{
    uint8_t hash [CREDS_HASH_BYTES];
    if (session_token_hash (request, hash) != 0)
        return 0;
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "DELETE FROM oauth_requests WHERE request_hash = ?1",
                        -1, &stmt, NULL);
    sqlite3_bind_blob (stmt, 1, hash, CREDS_HASH_BYTES, SQLITE_STATIC);
    return s_step_done (stmt);
}

//  --- codes -----------------------------------------------------------------

int
oauth_code_create (creds_t *self, const oauth_grant_t *grant, char code [CREDS_TOKEN_TEXT + 1])
{
    uint8_t hash [CREDS_HASH_BYTES];
    session_token_new (code, hash);
    int64_t now = creds_now ();
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "INSERT INTO oauth_codes (code_hash, client_id, user_id, "
                        "redirect_uri, code_challenge, resource, scope, expires_at) VALUES "
                        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", -1, &stmt, NULL);
    sqlite3_bind_blob (stmt, 1, hash, CREDS_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, grant->client_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 3, grant->user_id);
    sqlite3_bind_text (stmt, 4, grant->redirect_uri, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 5, grant->code_challenge, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 6, grant->resource, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 7, grant->scope, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 8, now + self->limits.oauth_code_ttl_s);
    if (s_step_done (stmt) != 0)
        return -1;
    sqlite3_prepare_v2 (self->db, "UPDATE oauth_clients SET approved_at = ?2 WHERE "
                        "client_id = ?1", -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, grant->client_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, now);
    return s_step_done (stmt);
}

//  A new token pair in family for grant. 0 / -1.
static int
s_tokens_create (creds_t *self, const uint8_t family [S_FAMILY_BYTES],
                 const oauth_grant_t *grant, oauth_tokens_t *out)
{
    uint8_t access [CREDS_HASH_BYTES], refresh [CREDS_HASH_BYTES];
    session_token_new (out->access, access);
    session_token_new (out->refresh, refresh);
    int64_t now = creds_now ();
    out->access_expires = now + self->limits.oauth_access_ttl_s;
    out->refresh_expires = now + self->limits.oauth_refresh_ttl_s;
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "INSERT INTO oauth_tokens (family, client_id, user_id, "
                        "resource, scope, access_hash, refresh_hash, access_expires, "
                        "refresh_expires, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                        "?9, ?10)", -1, &stmt, NULL);
    sqlite3_bind_blob (stmt, 1, family, S_FAMILY_BYTES, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, grant->client_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 3, grant->user_id);
    sqlite3_bind_text (stmt, 4, grant->resource, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 5, grant->scope, -1, SQLITE_STATIC);
    sqlite3_bind_blob (stmt, 6, access, CREDS_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob (stmt, 7, refresh, CREDS_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 8, out->access_expires);
    sqlite3_bind_int64 (stmt, 9, out->refresh_expires);
    sqlite3_bind_int64 (stmt, 10, now);
    return s_step_done (stmt);
}

static int
s_revoke_family (creds_t *self, const void *family, int size)
{
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "UPDATE oauth_tokens SET revoked = 1 WHERE family = ?1",
                        -1, &stmt, NULL);
    sqlite3_bind_blob (stmt, 1, family, size, SQLITE_STATIC);
    return s_step_done (stmt);
}

int
oauth_code_exchange (creds_t *self, const char *code, const char *client_id,
                     const char *redirect_uri, const char *verifier, const char *resource,
                     oauth_tokens_t *out, oauth_grant_t *grant)
{
    uint8_t hash [CREDS_HASH_BYTES];
    if (session_token_hash (code, hash) != 0)
        return 1;
    if (sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "SELECT id, client_id, user_id, redirect_uri, "
                        "code_challenge, resource, scope, expires_at, used, family "
                        "FROM oauth_codes WHERE code_hash = ?1", -1, &stmt, NULL);
    sqlite3_bind_blob (stmt, 1, hash, CREDS_HASH_BYTES, SQLITE_STATIC);
    int step = sqlite3_step (stmt);
    int rc = step == SQLITE_DONE ? 1 : -1;
    if (step == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64 (stmt, 0);
        memset (grant, 0, sizeof *grant);
        s_copy (grant->client_id, sizeof grant->client_id, stmt, 1);
        grant->user_id = sqlite3_column_int64 (stmt, 2);
        s_copy (grant->redirect_uri, sizeof grant->redirect_uri, stmt, 3);
        s_copy (grant->code_challenge, sizeof grant->code_challenge, stmt, 4);
        s_copy (grant->resource, sizeof grant->resource, stmt, 5);
        s_copy (grant->scope, sizeof grant->scope, stmt, 6);
        int64_t expires = sqlite3_column_int64 (stmt, 7);
        bool used = sqlite3_column_int (stmt, 8);
        uint8_t family [S_FAMILY_BYTES];
        bool has_family = sqlite3_column_bytes (stmt, 9) == S_FAMILY_BYTES;
        if (has_family)
            memcpy (family, sqlite3_column_blob (stmt, 9), S_FAMILY_BYTES);
        sqlite3_finalize (stmt);
        stmt = NULL;
        if (used) {
            //  RFC 6749 §4.1.2: a code used twice revokes what it issued
            rc = has_family ? (s_revoke_family (self, family, S_FAMILY_BYTES) == 0 ? 2 : -1) : 2;
        }
        else {
            //  a code is spent by any exchange attempt that names it
            sqlite3_prepare_v2 (self->db, "UPDATE oauth_codes SET used = 1 WHERE id = ?1",
                                -1, &stmt, NULL);
            sqlite3_bind_int64 (stmt, 1, id);
            rc = s_step_done (stmt);
            stmt = NULL;
            if (rc == 0) {
                if (expires <= creds_now () || strcmp (grant->client_id, client_id) != 0
                ||  strcmp (grant->redirect_uri, redirect_uri) != 0
                ||  (resource && *resource && strcmp (grant->resource, resource) != 0))
                    rc = 1;
                else
                if (!oauth_pkce_matches (verifier, grant->code_challenge))
                    rc = 4;
                else {
                    randombytes_buf (family, sizeof family);
                    sqlite3_prepare_v2 (self->db, "UPDATE oauth_codes SET family = ?2 "
                                        "WHERE id = ?1", -1, &stmt, NULL);
                    sqlite3_bind_int64 (stmt, 1, id);
                    sqlite3_bind_blob (stmt, 2, family, S_FAMILY_BYTES, SQLITE_STATIC);
                    rc = s_step_done (stmt) == 0
                      && s_tokens_create (self, family, grant, out) == 0 ? 0 : -1;
                    stmt = NULL;
                }
            }
        }
    }
    sqlite3_finalize (stmt);
    sqlite3_exec (self->db, rc == -1 ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
    return rc;
}

int
oauth_refresh (creds_t *self, const char *refresh, const char *client_id,
               const char *resource, oauth_tokens_t *out, oauth_grant_t *grant)
{
    uint8_t hash [CREDS_HASH_BYTES];
    if (session_token_hash (refresh, hash) != 0)
        return 1;
    if (sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "SELECT id, family, client_id, user_id, resource, scope, "
                        "refresh_expires, rotated, revoked FROM oauth_tokens "
                        "WHERE refresh_hash = ?1", -1, &stmt, NULL);
    sqlite3_bind_blob (stmt, 1, hash, CREDS_HASH_BYTES, SQLITE_STATIC);
    int step = sqlite3_step (stmt);
    int rc = step == SQLITE_DONE ? 1 : -1;
    if (step == SQLITE_ROW && sqlite3_column_bytes (stmt, 1) == S_FAMILY_BYTES) {
        int64_t id = sqlite3_column_int64 (stmt, 0);
        uint8_t family [S_FAMILY_BYTES];
        memcpy (family, sqlite3_column_blob (stmt, 1), S_FAMILY_BYTES);
        memset (grant, 0, sizeof *grant);
        s_copy (grant->client_id, sizeof grant->client_id, stmt, 2);
        grant->user_id = sqlite3_column_int64 (stmt, 3);
        s_copy (grant->resource, sizeof grant->resource, stmt, 4);
        s_copy (grant->scope, sizeof grant->scope, stmt, 5);
        int64_t expires = sqlite3_column_int64 (stmt, 6);
        bool rotated = sqlite3_column_int (stmt, 7);
        bool revoked = sqlite3_column_int (stmt, 8);
        sqlite3_finalize (stmt);
        stmt = NULL;
        if (strcmp (grant->client_id, client_id) != 0)
            rc = 1;             //  another client's token: nothing changes
        else
        if (rotated) {
            rc = s_revoke_family (self, family, S_FAMILY_BYTES) == 0 ? 2 : -1;
            log_warn ("OAuth refresh token reuse by client %s: token family revoked",
                      grant->client_id);
        }
        else
        if (revoked || expires <= creds_now ()
        ||  (resource && *resource && strcmp (resource, grant->resource) != 0))
            rc = 1;
        else {
            sqlite3_prepare_v2 (self->db, "UPDATE oauth_tokens SET rotated = 1 WHERE id = ?1",
                                -1, &stmt, NULL);
            sqlite3_bind_int64 (stmt, 1, id);
            rc = s_step_done (stmt) == 0
              && s_tokens_create (self, family, grant, out) == 0 ? 0 : -1;
            stmt = NULL;
        }
    }
    sqlite3_finalize (stmt);
    sqlite3_exec (self->db, rc == -1 ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
    return rc;
}

int
oauth_token_revoke (creds_t *self, const char *token, const char *client_id)
{
    uint8_t hash [CREDS_HASH_BYTES];
    if (session_token_hash (token, hash) != 0)
        return 1;
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "UPDATE oauth_tokens SET revoked = 1 WHERE revoked = 0 AND "
                        "family IN (SELECT family FROM oauth_tokens WHERE (access_hash = ?1 OR "
                        "refresh_hash = ?1) AND (?2 = '' OR client_id = ?2))", -1, &stmt, NULL);
    sqlite3_bind_blob (stmt, 1, hash, CREDS_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, client_id ? client_id : "", -1, SQLITE_STATIC);
    if (s_step_done (stmt) != 0)
        return -1;
    return sqlite3_changes (self->db) > 0 ? 0 : 1;
}

int
oauth_access_lookup (creds_t *self, const char *access, oauth_access_t *out)
{
    uint8_t hash [CREDS_HASH_BYTES];
    if (session_token_hash (access, hash) != 0)
        return 1;
    int64_t now = creds_now ();
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "SELECT t.id, t.client_id, c.client_name, t.resource, "
                        "t.scope, t.user_id, coalesce (u.username, ''), t.access_expires "
                        "FROM oauth_tokens t JOIN oauth_clients c ON c.client_id = t.client_id "
                        "LEFT JOIN admin_users u ON u.id = t.user_id WHERE t.access_hash = ?1 "
                        "AND t.revoked = 0 AND t.rotated = 0 AND t.access_expires > ?2",
                        -1, &stmt, NULL);
    sqlite3_bind_blob (stmt, 1, hash, CREDS_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, now);
    int step = sqlite3_step (stmt);
    int rc = step == SQLITE_ROW ? 0 : step == SQLITE_DONE ? 1 : -1;
    if (rc == 0) {
        out->token_id = sqlite3_column_int64 (stmt, 0);
        s_copy (out->client_id, sizeof out->client_id, stmt, 1);
        s_copy (out->client_name, sizeof out->client_name, stmt, 2);
        s_copy (out->resource, sizeof out->resource, stmt, 3);
        s_copy (out->scope, sizeof out->scope, stmt, 4);
        out->user_id = sqlite3_column_int64 (stmt, 5);
        s_copy (out->username, sizeof out->username, stmt, 6);
        out->access_expires = sqlite3_column_int64 (stmt, 7);
    }
    sqlite3_finalize (stmt);
    if (rc == 0) {
        //  written at most once a minute: not a write per request
        sqlite3_prepare_v2 (self->db, "UPDATE oauth_tokens SET last_used_at = ?2 WHERE id = ?1 "
                            "AND coalesce (last_used_at, 0) < ?2 - 60", -1, &stmt, NULL);
        sqlite3_bind_int64 (stmt, 1, out->token_id);
        sqlite3_bind_int64 (stmt, 2, now);
        s_step_done (stmt);
    }
    return rc;
}

void
oauth_prune (creds_t *self)
{
    int64_t now = creds_now ();
    static const char *const sql [] = {
        "DELETE FROM oauth_requests WHERE expires_at < ?1",
        //  kept a day so a late second exchange is still recognised as reuse
        "DELETE FROM oauth_codes WHERE expires_at < ?1 - 86400",
        "DELETE FROM oauth_tokens WHERE refresh_expires < ?1 - 86400",
        "DELETE FROM oauth_clients WHERE kind = 'dcr' AND approved_at IS NULL "
        "AND created_at < ?1 - 86400 AND client_id NOT IN (SELECT client_id FROM oauth_tokens)",
        NULL
    };
    for (size_t i = 0; sql [i]; i++) {
        sqlite3_stmt *stmt = NULL;
        sqlite3_prepare_v2 (self->db, sql [i], -1, &stmt, NULL);
        sqlite3_bind_int64 (stmt, 1, now);
        if (s_step_done (stmt) != 0)
            log_warn ("oauth prune: %s", sqlite3_errmsg (self->db));
    }
}
