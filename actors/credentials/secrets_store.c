/*  secrets_store.c — the server_secrets table: placeholders, values sealed
    with secret_box, the job-secrets read, key rotation and its recovery.

    Rotation, and why a crash at any point loses nothing:
      1. a new key is written to credentials.key.next (atomic);
      2. BEGIN IMMEDIATE; every value is opened with the current key,
         sealed with the new one (its row's key_id changes); COMMIT;
      3. credentials.key.next is renamed over credentials.key.
    Step 2 re-seals the source OAuth rows too (source_oauth_reseal), and
    the counts below cover their tables. A crash before 3 leaves both
    files. At start-up secrets_recover looks at the rows: the transaction is atomic, so either every value still
    names the old key (crash before COMMIT: next is discarded) or none does
    (crash after COMMIT: next is promoted). Test builds can kill the
    process at chosen points (MCPBOX_TEST_ROTATE_CRASH).
*/
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "creds.h"
#include "log.h"
#include "source_oauth.h"

bool
creds_secret_key_valid (const char *key)
{
    size_t len = strlen (key);
    if (len < 1 || len > CREDS_SECRET_KEY_MAX || !(key [0] >= 'A' && key [0] <= 'Z'))
        return false;
    for (size_t i = 1; i < len; i++) {
        char c = key [i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

int
secrets_put (creds_t *self, const char *server_id, const char *key, const uint8_t *value,
             size_t size, bool replace)
{
    uint8_t nonce [SECRET_NONCE_BYTES];
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    if (secret_seal (self->key->key, server_id, key, value, size, nonce, &sealed,
                     &sealed_len) != 0)
        return -2;
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, replace
        ? "INSERT INTO server_secrets (server_id, key, nonce, ciphertext, key_id, created_at, "
          "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) ON CONFLICT (server_id, key) DO "
          "UPDATE SET nonce = ?3, ciphertext = ?4, key_id = ?5, updated_at = ?6"
        : "INSERT OR IGNORE INTO server_secrets (server_id, key, nonce, ciphertext, key_id, "
          "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)", -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, server_id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob (stmt, 3, nonce, SECRET_NONCE_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob (stmt, 4, sealed, (int) sealed_len, SQLITE_STATIC);
    sqlite3_bind_blob (stmt, 5, self->key->id, SECRET_KEY_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 6, creds_now ());
    int rc = sqlite3_step (stmt);
    sqlite3_finalize (stmt);
    free (sealed);
    return rc == SQLITE_DONE ? 0 : -1;
}

int
secrets_get (creds_t *self, const char *server_id, const char *key, uint8_t **value_p,
             size_t *size)
{
    *value_p = NULL;
    *size = 0;
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "SELECT nonce, ciphertext FROM server_secrets "
                        "WHERE server_id = ?1 AND key = ?2 AND ciphertext IS NOT NULL",
                        -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, server_id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, key, -1, SQLITE_STATIC);
    int step = sqlite3_step (stmt);
    int rc = step == SQLITE_DONE ? 1 : -1;
    if (step == SQLITE_ROW
    &&  sqlite3_column_bytes (stmt, 0) == SECRET_NONCE_BYTES
    &&  secret_open (self->key->key, server_id, key, sqlite3_column_blob (stmt, 0),
                     sqlite3_column_blob (stmt, 1), (size_t) sqlite3_column_bytes (stmt, 1),
                     value_p, size) == 0)
        rc = 0;
    sqlite3_finalize (stmt);
    return rc;
}

//  Rows whose values were sealed by key id `id` (NULL: by neither of two).
static int64_t
s_count (sqlite3 *db, const uint8_t *id, const uint8_t *a, const uint8_t *b)
{
    sqlite3_stmt *stmt = NULL;
    //  every table with sealed rows (server secrets, source OAuth)
    const char *sql = id
        ? "SELECT (SELECT count(*) FROM server_secrets WHERE key_id = ?1) "
          "+ (SELECT count(*) FROM source_oauth_pending WHERE key_id = ?1) "
          "+ (SELECT count(*) FROM source_oauth_tokens WHERE key_id = ?1)"
        : "SELECT (SELECT count(*) FROM server_secrets WHERE key_id IS NOT NULL "
          "AND key_id <> ?1 AND key_id <> ?2) "
          "+ (SELECT count(*) FROM source_oauth_pending WHERE key_id <> ?1 AND key_id <> ?2) "
          "+ (SELECT count(*) FROM source_oauth_tokens WHERE key_id IS NOT NULL "
          "AND key_id <> ?1 AND key_id <> ?2)";
    int64_t count = -1;
    if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) == SQLITE_OK) {
        if (id)
            sqlite3_bind_blob (stmt, 1, id, SECRET_KEY_ID_BYTES, SQLITE_STATIC);
        else {
            sqlite3_bind_blob (stmt, 1, a, SECRET_KEY_ID_BYTES, SQLITE_STATIC);
            sqlite3_bind_blob (stmt, 2, b, SECRET_KEY_ID_BYTES, SQLITE_STATIC);
        }
        if (sqlite3_step (stmt) == SQLITE_ROW)
            count = sqlite3_column_int64 (stmt, 0);
    }
    sqlite3_finalize (stmt);
    return count;
}

int
secrets_recover (creds_t *self, char *err, size_t errlen)
{
    master_key_t *mk = self->key;
    if (mk->has_next) {
        int64_t under_next = s_count (self->db, mk->next_id, NULL, NULL);
        if (under_next < 0) {
            snprintf (err, errlen, "cannot read the sealed rows: %s", sqlite3_errmsg (self->db));
            return -1;
        }
        if (under_next > 0) {
            if (master_key_promote (mk, err, errlen) != 0)
                return -1;
            log_warn ("finished a key rotation interrupted after its commit "
                      "(%lld values under the new key)", (long long) under_next);
        }
        else {
            master_key_discard (mk);
            log_warn ("discarded a key rotation interrupted before its commit; "
                      "the old key and values stay");
        }
    }
    int64_t foreign = s_count (self->db, NULL, mk->id, mk->id);
    if (foreign != 0) {
        if (foreign < 0)
            snprintf (err, errlen, "cannot read the sealed rows: %s", sqlite3_errmsg (self->db));
        else
            snprintf (err, errlen, "%lld secret values were sealed by a master key that is "
                      "not the one loaded (%s): restore the key that sealed them",
                      (long long) foreign, mk->from_env ? "MCPBOX_ENCRYPTION_KEY"
                                                        : mk->path);
        return foreign < 0 ? -1 : 2;
    }
    return 0;
}

//  Test builds: kill this process at a rotation step named by
//  MCPBOX_TEST_ROTATE_CRASH ("row:N" after N rows re-sealed, "commit"
//  after COMMIT and before the key file is promoted).
void
secrets_crash_point (const char *point, int64_t rows)
{
#ifdef MCPBOX_TEST_HOOKS
    const char *want = getenv ("MCPBOX_TEST_ROTATE_CRASH");
    if (!want)
        return;
    char here [32];
    if (strcmp (point, "row") == 0)
        snprintf (here, sizeof here, "row:%lld", (long long) rows);
    else
        snprintf (here, sizeof here, "%s", point);
    if (strcmp (want, here) == 0) {
        log_warn ("test hook: crashing at rotation point %s", here);
        raise (SIGKILL);
    }
#else
    (void) point;
    (void) rows;
#endif
}

int
secrets_rotate (creds_t *self, int64_t *count, char *err, size_t errlen)
{
    master_key_t *mk = self->key;
    *count = 0;
    if (master_key_stage (mk, err, errlen) != 0)
        return -1;
    sqlite3_stmt *select = NULL, *update = NULL;
    int rc = -1;
    if (sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf (err, errlen, "cannot begin: %s", sqlite3_errmsg (self->db));
        master_key_discard (mk);
        return -1;
    }
    if (sqlite3_prepare_v2 (self->db, "SELECT server_id, key, nonce, ciphertext, key_id "
                            "FROM server_secrets WHERE ciphertext IS NOT NULL", -1,
                            &select, NULL) != SQLITE_OK
    ||  sqlite3_prepare_v2 (self->db, "UPDATE server_secrets SET nonce = ?1, "
                            "ciphertext = ?2, key_id = ?3 WHERE server_id = ?4 AND key = ?5",
                            -1, &update, NULL) != SQLITE_OK) {
        snprintf (err, errlen, "cannot prepare: %s", sqlite3_errmsg (self->db));
        goto done;
    }
    int step;
    while ((step = sqlite3_step (select)) == SQLITE_ROW) {
        const char *server_id = (const char *) sqlite3_column_text (select, 0);
        const char *name = (const char *) sqlite3_column_text (select, 1);
        const void *nonce = sqlite3_column_blob (select, 2);
        int nonce_len = sqlite3_column_bytes (select, 2);
        const void *cipher = sqlite3_column_blob (select, 3);
        size_t cipher_len = (size_t) sqlite3_column_bytes (select, 3);
        const void *key_id = sqlite3_column_blob (select, 4);
        uint8_t *plain = NULL, *sealed = NULL;
        size_t plain_len = 0, sealed_len = 0;
        uint8_t new_nonce [SECRET_NONCE_BYTES];
        if (nonce_len != SECRET_NONCE_BYTES || !key_id
        ||  memcmp (key_id, mk->id, SECRET_KEY_ID_BYTES) != 0
        ||  secret_open (mk->key, server_id, name, nonce, cipher, cipher_len,
                         &plain, &plain_len) != 0) {
            snprintf (err, errlen, "the value of %s on server %s does not open with "
                      "the current key; nothing was changed", name, server_id);
            goto done;
        }
        int sealed_rc = secret_seal (mk->next, server_id, name, plain, plain_len,
                                     new_nonce, &sealed, &sealed_len);
        sodium_memzero (plain, plain_len);
        free (plain);
        if (sealed_rc != 0) {
            snprintf (err, errlen, "cannot seal a value");
            goto done;
        }
        sqlite3_reset (update);
        sqlite3_bind_blob (update, 1, new_nonce, SECRET_NONCE_BYTES, SQLITE_TRANSIENT);
        sqlite3_bind_blob (update, 2, sealed, (int) sealed_len, SQLITE_TRANSIENT);
        sqlite3_bind_blob (update, 3, mk->next_id, SECRET_KEY_ID_BYTES, SQLITE_TRANSIENT);
        sqlite3_bind_text (update, 4, server_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text (update, 5, name, -1, SQLITE_TRANSIENT);
        free (sealed);
        if (sqlite3_step (update) != SQLITE_DONE) {
            snprintf (err, errlen, "cannot update: %s", sqlite3_errmsg (self->db));
            goto done;
        }
        (*count)++;
        secrets_crash_point ("row", *count);
    }
    if (step != SQLITE_DONE) {
        snprintf (err, errlen, "cannot read: %s", sqlite3_errmsg (self->db));
        goto done;
    }
    sqlite3_finalize (select);
    select = NULL;
    //  the sources' OAuth state, in the same transaction
    if (source_oauth_reseal (self, mk->key, mk->next, mk->next_id, count, err, errlen) != 0)
        goto done;
    if (sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf (err, errlen, "cannot commit: %s", sqlite3_errmsg (self->db));
        goto done;
    }
    secrets_crash_point ("commit", *count);
    rc = master_key_promote (mk, err, errlen);
    if (rc != 0)
        log_error ("rotation committed but the key file was not promoted: %s "
                   "(the next start promotes it)", err);
    sqlite3_finalize (update);
    return rc;
done:
    sqlite3_finalize (select);
    sqlite3_finalize (update);
    sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
    master_key_discard (mk);
    *count = 0;
    return -1;
}
