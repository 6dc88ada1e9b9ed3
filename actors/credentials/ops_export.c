/*  ops_export.c — the signing key of export files, and importing secret
    placeholders (docs/BUS_OPS.md, credentials; docs/SECURITY.md, "Export
    files"):

      export.sign    {version, content}                  -> key_id, signature
      export.verify  {version, key_id, signature, content} -> own, verified
      secrets.import {items: [{server_id, key, description}], dry_run} -> created

    The key: 32 random bytes made on first use and kept as a row of
    server_secrets, sealed under the master key like any value (so key
    rotation re-seals it and start-up recovery counts it), under the
    reserved owner "credentials:export". No op can name that owner: every
    secret op takes server_id from [A-Za-z0-9_-], which has no ':'. The key
    never leaves this process; its id is the first 8 bytes of a keyed
    BLAKE2b of it (personalised), written as 16 hex characters.

    The MAC is HMAC-SHA512-256 (crypto_auth) over
        "mcpbox-export\n" <version> "\n" <key_id> "\n" <content bytes>
    where content is exactly the bytes of the file's "content" member.
    The prefix fixes the format and the key, and only the content is
    variable-length and last, so two different (version, key_id, content)
    triples never give the same input.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backup_limits.h"
#include "creds.h"
#include "fields.h"
#include "log.h"
#include "ops_util.h"

#define EXPORT_OWNER   "credentials:export"
#define EXPORT_NAME    "EXPORT_HMAC_KEY"
#define IMPORT_MAX     10000            //  placeholders in one secrets.import

static void
s_key_id (const uint8_t key [crypto_auth_KEYBYTES], char out [BACKUP_KEY_ID_HEX + 1])
{
    uint8_t id [BACKUP_KEY_ID_HEX / 2];
    static const char label [] = "mcpbox export key id";
    crypto_generichash (id, sizeof id, (const uint8_t *) label, sizeof label - 1,
                        key, crypto_auth_KEYBYTES);
    sodium_bin2hex (out, BACKUP_KEY_ID_HEX + 1, id, sizeof id);
}

//  The sealed key row: 1 found (key filled), 0 none, -1 error.
static int
s_key_read (creds_t *self, uint8_t key [crypto_auth_KEYBYTES])
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2 (self->db, "SELECT nonce, ciphertext FROM server_secrets "
                            "WHERE server_id = ?1 AND key = ?2 AND ciphertext IS NOT NULL",
                            -1, &stmt, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text (stmt, 1, EXPORT_OWNER, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, EXPORT_NAME, -1, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    int result = rc == SQLITE_DONE ? 0 : -1;
    if (rc == SQLITE_ROW) {
        uint8_t *plain = NULL;
        size_t plain_len = 0;
        if (sqlite3_column_bytes (stmt, 0) == SECRET_NONCE_BYTES
        &&  secret_open (self->key->key, EXPORT_OWNER, EXPORT_NAME,
                         sqlite3_column_blob (stmt, 0), sqlite3_column_blob (stmt, 1),
                         (size_t) sqlite3_column_bytes (stmt, 1), &plain, &plain_len) == 0) {
            if (plain_len == crypto_auth_KEYBYTES) {
                memcpy (key, plain, crypto_auth_KEYBYTES);
                result = 1;
            }
            sodium_memzero (plain, plain_len);
            free (plain);
        }
        if (result != 1)
            log_error ("the export signing key does not open with the master key");
    }
    sqlite3_finalize (stmt);
    return result;
}

//  The installation's export key, made and stored on first use. 0 or -1.
static int
s_key (creds_t *self, uint8_t key [crypto_auth_KEYBYTES])
{
    int found = s_key_read (self, key);
    if (found != 0)
        return found == 1 ? 0 : -1;
    uint8_t fresh [crypto_auth_KEYBYTES];
    crypto_auth_keygen (fresh);
    uint8_t nonce [SECRET_NONCE_BYTES];
    uint8_t *cipher = NULL;
    size_t cipher_len = 0;
    int rc = secret_seal (self->key->key, EXPORT_OWNER, EXPORT_NAME, fresh, sizeof fresh,
                          nonce, &cipher, &cipher_len);
    sodium_memzero (fresh, sizeof fresh);
    if (rc != 0)
        return -1;
    sqlite3_stmt *stmt = NULL;
    int64_t now = creds_now ();
    sqlite3_prepare_v2 (self->db, "INSERT OR IGNORE INTO server_secrets (server_id, key, "
                        "description, nonce, ciphertext, key_id, created_at, updated_at) "
                        "VALUES (?1, ?2, 'export signing key', ?3, ?4, ?5, ?6, ?6)",
                        -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, EXPORT_OWNER, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, EXPORT_NAME, -1, SQLITE_STATIC);
    sqlite3_bind_blob (stmt, 3, nonce, sizeof nonce, SQLITE_STATIC);
    sqlite3_bind_blob (stmt, 4, cipher, (int) cipher_len, SQLITE_STATIC);
    sqlite3_bind_blob (stmt, 5, self->key->id, SECRET_KEY_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 6, now);
    rc = sqlite3_step (stmt);
    sqlite3_finalize (stmt);
    free (cipher);
    if (rc != SQLITE_DONE)
        return -1;
    log_info ("export signing key created");
    //  read back what is stored (another writer may have won the insert)
    return s_key_read (self, key) == 1 ? 0 : -1;
}

//  The MAC of (version, key_id, content) into mac.
static void
s_mac (const uint8_t key [crypto_auth_KEYBYTES], int64_t version, const char *key_id,
       const char *content, size_t len, uint8_t mac [crypto_auth_BYTES])
{
    char head [64];
    int head_len = snprintf (head, sizeof head, "mcpbox-export\n%lld\n%s\n",
                             (long long) version, key_id);
    crypto_auth_hmacsha512256_state st;
    crypto_auth_hmacsha512256_init (&st, key, crypto_auth_KEYBYTES);
    crypto_auth_hmacsha512256_update (&st, (const uint8_t *) head, (size_t) head_len);
    crypto_auth_hmacsha512256_update (&st, (const uint8_t *) content, len);
    crypto_auth_hmacsha512256_final (&st, mac);
    sodium_memzero (&st, sizeof st);
}

//  version and content of a sign/verify request. NULL or an error reply.
static msgw_t *
s_read (msg_t *request, int64_t *version, const char **content, size_t *len)
{
    const msgpack_object *root = msg_root (request);
    bus_err_t err;
    if (field_int (root, "version", true, BACKUP_FORMAT_VERSION, BACKUP_FORMAT_VERSION,
                   version, &err) < 0
    ||  field_str (root, "content", true, BACKUP_FILE_MAX, 0, content, len, &err) < 0)
        return msgw_error_new (err.code, err.message);
    return NULL;
}

static void
s_export_sign (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    creds_t *self = state;
    int64_t version;
    const char *content;
    size_t len;
    if ((*reply = s_read (request, &version, &content, &len)))
        return;
    uint8_t key [crypto_auth_KEYBYTES], mac [crypto_auth_BYTES];
    if (s_key (self, key) != 0) {
        *reply = msgw_error_new (BUS_ERR_INTERNAL, "the export signing key is unusable");
        return;
    }
    char key_id [BACKUP_KEY_ID_HEX + 1], hex [BACKUP_SIGNATURE_HEX + 1];
    s_key_id (key, key_id);
    s_mac (key, version, key_id, content, len, mac);
    sodium_memzero (key, sizeof key);
    sodium_bin2hex (hex, sizeof hex, mac, sizeof mac);
    msgw_t *w = msgw_new ();
    msgw_map (w, 3);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_str (w, "key_id", key_id);
    msgw_kv_str (w, "signature", hex);
    *reply = w;
}

static bool
s_hex (const char *text, size_t want)
{
    if (strlen (text) != want)
        return false;
    for (size_t i = 0; i < want; i++)
        if (!((text [i] >= '0' && text [i] <= '9') || (text [i] >= 'a' && text [i] <= 'f')))
            return false;
    return true;
}

static void
s_export_verify (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    creds_t *self = state;
    int64_t version;
    const char *content;
    size_t len;
    if ((*reply = s_read (request, &version, &content, &len)))
        return;
    char key_id [BACKUP_KEY_ID_HEX + 1], signature [BACKUP_SIGNATURE_HEX + 1];
    const msgpack_object *root = msg_root (request);
    if (ops_cstr (root, "key_id", key_id, sizeof key_id, true) != 0
    ||  !s_hex (key_id, BACKUP_KEY_ID_HEX)) {
        *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, "key_id: 16 lower-case hex characters");
        return;
    }
    if (ops_cstr (root, "signature", signature, sizeof signature, true) != 0
    ||  !s_hex (signature, BACKUP_SIGNATURE_HEX)) {
        *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, "signature: 64 lower-case hex characters");
        return;
    }
    uint8_t key [crypto_auth_KEYBYTES], mac [crypto_auth_BYTES], given [crypto_auth_BYTES];
    if (s_key (self, key) != 0) {
        *reply = msgw_error_new (BUS_ERR_INTERNAL, "the export signing key is unusable");
        return;
    }
    char own_id [BACKUP_KEY_ID_HEX + 1];
    s_key_id (key, own_id);
    bool own = strcmp (own_id, key_id) == 0;
    if (own) {
        s_mac (key, version, key_id, content, len, mac);
        sodium_hex2bin (given, sizeof given, signature, BACKUP_SIGNATURE_HEX, NULL, NULL, NULL);
        if (sodium_memcmp (mac, given, sizeof mac) != 0) {
            sodium_memzero (key, sizeof key);
            *reply = msgw_error_new (BUS_ERR_FORBIDDEN, "the signature does not match the "
                                     "content: the file was changed after it was exported");
            return;
        }
    }
    sodium_memzero (key, sizeof key);
    msgw_t *w = msgw_new ();
    msgw_map (w, 4);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_bool (w, "own", own);
    msgw_kv_bool (w, "verified", own);
    msgw_kv_str (w, "key_id", own_id);
    *reply = w;
}

//  secrets.import: every placeholder in one transaction; a key that
//  already exists on its server refuses the whole batch (conflict).
static void
s_secrets_import (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    creds_t *self = state;
    const msgpack_object *items = NULL;
    if (msg_get_array (msg_root (request), "items", &items) != MSG_FIELD_OK
    ||  items->via.array.size > IMPORT_MAX) {
        *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, "items: an array of at most 10000 "
                                 "{server_id, key, description}");
        return;
    }
    bool dry = false;
    bus_err_t dry_err;
    if (field_bool (msg_root (request), "dry_run", &dry, &dry_err) < 0) {
        *reply = msgw_error_new (dry_err.code, dry_err.message);
        return;
    }
    uint32_t n = items->via.array.size;
    //  check everything before writing anything
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object *item = &items->via.array.ptr [i];
        char server_id [CREDS_SERVER_ID_MAX + 1], key [CREDS_SECRET_KEY_MAX + 1];
        char description [CREDS_DESC_MAX + 1];
        static const char *const keys [] = { "server_id", "key", "description", NULL };
        bus_err_t err;
        bool ok = field_keys_only (item, "items[]", keys, &err) == 0
               && ops_cstr (item, "server_id", server_id, sizeof server_id, true) == 0
               && ops_cstr (item, "key", key, sizeof key, true) == 0
               && creds_secret_key_valid (key)
               && ops_cstr (item, "description", description, sizeof description, false) == 0
               && creds_server_id_valid (server_id);
        if (!ok) {
            char message [120];
            snprintf (message, sizeof message, "items[%u]: {server_id, key "
                      "(^[A-Z][A-Z0-9_]*$), description (<= 2000 bytes)} only: a value "
                      "is never imported", i);
            *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, message);
            return;
        }
    }
    if (sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        *reply = ops_db_error (self->db, "secrets.import");
        return;
    }
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "INSERT INTO server_secrets (server_id, key, description, "
                        "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)", -1, &stmt, NULL);
    int64_t now = creds_now ();
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object *item = &items->via.array.ptr [i];
        char server_id [CREDS_SERVER_ID_MAX + 1], key [CREDS_SECRET_KEY_MAX + 1];
        char description [CREDS_DESC_MAX + 1];
        ops_cstr (item, "server_id", server_id, sizeof server_id, true);
        ops_cstr (item, "key", key, sizeof key, true);
        ops_cstr (item, "description", description, sizeof description, false);
        sqlite3_reset (stmt);
        sqlite3_bind_text (stmt, 1, server_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text (stmt, 2, key, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text (stmt, 3, description, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64 (stmt, 4, now);
        int rc = sqlite3_step (stmt);
        if (rc != SQLITE_DONE) {
            char message [400];
            bool clash = (rc & 0xff) == SQLITE_CONSTRAINT;
            snprintf (message, sizeof message, "secret %s already exists on server %s; "
                      "nothing was imported", key, server_id);
            msgw_t *error = clash ? msgw_error_new (BUS_ERR_CONFLICT, message)
                                  : ops_db_error (self->db, "secrets.import");
            sqlite3_finalize (stmt);
            sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
            *reply = error;
            return;
        }
    }
    sqlite3_finalize (stmt);
    if (dry) {
        sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
        msgw_t *w = msgw_new ();
        msgw_map (w, 2);
        msgw_kv_bool (w, "ok", true);
        msgw_kv_int (w, "created", n);
        *reply = w;
        return;
    }
    if (sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        *reply = ops_db_error (self->db, "secrets.import");
        sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object *item = &items->via.array.ptr [i];
        char server_id [CREDS_SERVER_ID_MAX + 1], key [CREDS_SECRET_KEY_MAX + 1];
        ops_cstr (item, "server_id", server_id, sizeof server_id, true);
        ops_cstr (item, "key", key, sizeof key, true);
        char message [300];
        snprintf (message, sizeof message, "secret placeholder %s imported", key);
        service_activity (service, "secret.created", "info", server_id, message, NULL);
    }
    log_info ("%u secret placeholders imported", n);
    msgw_t *w = msgw_new ();
    msgw_map (w, 2);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_int (w, "created", n);
    *reply = w;
}

const service_op_t creds_export_ops [] = {
    { "export.sign",    s_export_sign },
    { "export.verify",  s_export_verify },
    { "secrets.import", s_secrets_import },
    { NULL, NULL }
};
