/*  ops_secrets.c — the secret ops (docs/BUS_OPS.md, credentials):

      secret_create {server_id, key, description?}   a placeholder, no value
      secret_list   {server_id}     keys, descriptions, has_value — never values
      secret_set    {server_id, key, value}          value ≤ 10,000 bytes
      secret_delete {server_id, key}
      job_secrets   {server_id}     {secrets: {KEY: value}} for the executor
      rotate_key    {}              re-encrypt every value under a new key

    Values are sealed with secret_box before they reach sqlite and opened
    only for job_secrets, whose reply buffer is wiped once sent. No value
    is ever logged.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "creds.h"
#include "log.h"
#include "ops_util.h"

//  server_id: 1..64 of [A-Za-z0-9_-] (the registry's UUIDs).
bool
creds_server_id_valid (const char *id)
{
    size_t len = strlen (id);
    if (len < 1 || len > CREDS_SERVER_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = id [i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '-' || c == '_'))
            return false;
    }
    return true;
}

//  Read server_id (and key when want_key). NULL, or an error reply.
static msgw_t *
s_ids (msg_t *request, char *server_id, char *key, bool want_key)
{
    const msgpack_object *root = msg_root (request);
    if (ops_cstr (root, "server_id", server_id, CREDS_SERVER_ID_MAX + 1, true) != 0
    ||  !creds_server_id_valid (server_id))
        return msgw_error_new (BUS_ERR_BAD_REQUEST, "server_id: a server id is required");
    if (!want_key)
        return NULL;
    if (ops_cstr (root, "key", key, CREDS_SECRET_KEY_MAX + 1, true) != 0
    ||  !creds_secret_key_valid (key))
        return msgw_error_new (BUS_ERR_BAD_REQUEST, "key: must match ^[A-Z][A-Z0-9_]*$ "
                               "(at most 128 characters)");
    return NULL;
}

static void
s_secret_create (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    creds_t *self = state;
    char server_id [CREDS_SERVER_ID_MAX + 1], key [CREDS_SECRET_KEY_MAX + 1];
    char description [CREDS_DESC_MAX + 1] = "";
    if ((*reply = s_ids (request, server_id, key, true)))
        return;
    if (ops_cstr (msg_root (request), "description", description, sizeof description, false)) {
        *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, "description: a string of at most "
                                 "2000 bytes");
        return;
    }
    sqlite3_stmt *stmt = NULL;
    int64_t now = creds_now ();
    sqlite3_prepare_v2 (self->db, "INSERT INTO server_secrets (server_id, key, description, "
                        "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)", -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, server_id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, description, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 4, now);
    int rc = sqlite3_step (stmt);
    sqlite3_finalize (stmt);
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        char message [200];
        snprintf (message, sizeof message, "secret %s already exists on this server", key);
        *reply = msgw_error_new (BUS_ERR_CONFLICT, message);
        return;
    }
    if (rc != SQLITE_DONE) {
        *reply = ops_db_error (self->db, "secret_create");
        return;
    }
    log_info ("secret placeholder %s created for server %s", key, server_id);
    char message [300];
    snprintf (message, sizeof message, "secret placeholder %s created", key);
    service_activity (service, "secret.created", "info", server_id, message, NULL);
    msgw_t *w = msgw_new ();
    msgw_map (w, 5);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_str (w, "server_id", server_id);
    msgw_kv_str (w, "key", key);
    msgw_kv_str (w, "description", description);
    msgw_kv_bool (w, "has_value", false);
    *reply = w;
}

static void
s_secret_list (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    creds_t *self = state;
    char server_id [CREDS_SERVER_ID_MAX + 1];
    if ((*reply = s_ids (request, server_id, NULL, false)))
        return;
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "SELECT key, description, ciphertext IS NOT NULL, created_at, "
                        "updated_at FROM server_secrets WHERE server_id = ?1 ORDER BY key",
                        -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, server_id, -1, SQLITE_STATIC);
    size_t count = 0;
    while (sqlite3_step (stmt) == SQLITE_ROW)
        count++;
    sqlite3_reset (stmt);
    msgw_t *w = msgw_new ();
    msgw_map (w, 3);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_str (w, "server_id", server_id);
    msgw_str (w, "secrets");
    msgw_array (w, count);
    for (size_t i = 0; i < count && sqlite3_step (stmt) == SQLITE_ROW; i++) {
        msgw_map (w, 5);
        msgw_kv_str (w, "key", (const char *) sqlite3_column_text (stmt, 0));
        msgw_kv_str (w, "description", (const char *) sqlite3_column_text (stmt, 1));
        msgw_kv_bool (w, "has_value", sqlite3_column_int (stmt, 2) != 0);
        msgw_kv_int (w, "created_at", sqlite3_column_int64 (stmt, 3));
        msgw_kv_int (w, "updated_at", sqlite3_column_int64 (stmt, 4));
    }
    sqlite3_finalize (stmt);
    *reply = w;
}

static void
s_secret_set (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    creds_t *self = state;
    char server_id [CREDS_SERVER_ID_MAX + 1], key [CREDS_SECRET_KEY_MAX + 1];
    if ((*reply = s_ids (request, server_id, key, true)))
        return;
    const char *value = NULL;
    size_t size = 0;
    msg_field_t field = msg_get_str (msg_root (request), "value", &value, &size);
    if (field != MSG_FIELD_OK) {
        *reply = msgw_error_new (BUS_ERR_BAD_REQUEST, "value: a string is required");
        return;
    }
    if (size > SECRET_VALUE_MAX) {
        ops_wipe_field (request, "value");
        *reply = msgw_error_new (BUS_ERR_TOO_LARGE, "value: at most 10000 bytes");
        return;
    }
    int rc = secrets_put (self, server_id, key, (const uint8_t *) value, size, true);
    if (rc == -2) {
        ops_wipe_field (request, "value");
        *reply = msgw_error_new (BUS_ERR_INTERNAL, "cannot seal the value");
        return;
    }
    ops_wipe_field (request, "value");
    bus_request_t *deferred = service_defer (service);
    if (deferred)
        bus_request_wipe_body (deferred);
    if (rc != 0) {
        msgw_t *error = ops_db_error (self->db, "secret_set");
        service_reply (service, &deferred, &error);
        return;
    }
    log_info ("secret %s of server %s set (%zu bytes)", key, server_id, size);
    char message [300];
    snprintf (message, sizeof message, "value of secret %s set by the admin", key);
    service_activity (service, "secret.value_set", "info", server_id, message, NULL);
    msgw_t *w = msgw_new ();
    msgw_map (w, 4);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_str (w, "server_id", server_id);
    msgw_kv_str (w, "key", key);
    msgw_kv_bool (w, "has_value", true);
    service_reply (service, &deferred, &w);
}

static void
s_secret_delete (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    creds_t *self = state;
    char server_id [CREDS_SERVER_ID_MAX + 1], key [CREDS_SECRET_KEY_MAX + 1];
    if ((*reply = s_ids (request, server_id, key, true)))
        return;
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "DELETE FROM server_secrets WHERE server_id = ?1 AND key = ?2",
                        -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, server_id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    sqlite3_finalize (stmt);
    if (rc != SQLITE_DONE) {
        *reply = ops_db_error (self->db, "secret_delete");
        return;
    }
    if (sqlite3_changes (self->db) == 0) {
        *reply = msgw_error_new (BUS_ERR_NOT_FOUND, "no such secret on this server");
        return;
    }
    log_info ("secret %s of server %s deleted", key, server_id);
    char message [300];
    snprintf (message, sizeof message, "secret %s deleted", key);
    service_activity (service, "secret.deleted", "info", server_id, message, NULL);
    msgw_t *w = msgw_new ();
    msgw_map (w, 3);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_str (w, "server_id", server_id);
    msgw_kv_str (w, "key", key);
    *reply = w;
}

//  The reply carries plaintext, so it is packed into one buffer allocated
//  at its final size up front (no realloc leaves copies behind), sent,
//  and wiped; the decrypted values are wiped as soon as they are packed.
static void
s_job_secrets (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    creds_t *self = state;
    char server_id [CREDS_SERVER_ID_MAX + 1];
    if ((*reply = s_ids (request, server_id, NULL, false)))
        return;
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (self->db, "SELECT key, nonce, ciphertext FROM server_secrets "
                        "WHERE server_id = ?1 AND ciphertext IS NOT NULL ORDER BY key",
                        -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, server_id, -1, SQLITE_STATIC);
    size_t count = 0, capacity = 128;
    while (sqlite3_step (stmt) == SQLITE_ROW) {
        count++;
        capacity += 16 + (size_t) sqlite3_column_bytes (stmt, 0)
                  + (size_t) sqlite3_column_bytes (stmt, 2);
    }
    sqlite3_reset (stmt);
    msgpack_sbuffer buffer = { 0, malloc (capacity), capacity };
    if (!buffer.data) {
        sqlite3_finalize (stmt);
        *reply = msgw_error_new (BUS_ERR_INTERNAL, "out of memory");
        return;
    }
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 3);
    msgpack_pack_str_with_body (&pk, "ok", 2);
    msgpack_pack_true (&pk);
    msgpack_pack_str_with_body (&pk, "server_id", 9);
    msgpack_pack_str_with_body (&pk, server_id, strlen (server_id));
    msgpack_pack_str_with_body (&pk, "secrets", 7);
    msgpack_pack_map (&pk, count);
    size_t packed = 0;
    bool failed = false;
    for (; packed < count && sqlite3_step (stmt) == SQLITE_ROW; packed++) {
        const char *name = (const char *) sqlite3_column_text (stmt, 0);
        uint8_t *plain = NULL;
        size_t plain_len = 0;
        if (sqlite3_column_bytes (stmt, 1) != SECRET_NONCE_BYTES
        ||  secret_open (self->key->key, server_id, name, sqlite3_column_blob (stmt, 1),
                         sqlite3_column_blob (stmt, 2),
                         (size_t) sqlite3_column_bytes (stmt, 2), &plain, &plain_len) != 0) {
            failed = true;
            break;
        }
        msgpack_pack_str_with_body (&pk, name, strlen (name));
        msgpack_pack_str_with_body (&pk, plain, plain_len);
        sodium_memzero (plain, plain_len);
        free (plain);
    }
    sqlite3_finalize (stmt);
    bool grew = buffer.alloc != capacity;
    bus_request_t *deferred = NULL;
    if (failed || packed != count || grew || !(deferred = service_defer (service))) {
        log_error ("job_secrets: server %s: %s", server_id,
                   failed ? "a value did not decrypt" : "could not pack the reply");
        *reply = msgw_error_new (BUS_ERR_INTERNAL, failed
                                 ? "a secret value of this server does not decrypt"
                                 : "could not pack the secrets");
    }
    else
        service_reply_raw (service, &deferred, buffer.data, buffer.size);
    sodium_memzero (buffer.data, buffer.alloc);
    free (buffer.data);
}

static void
s_rotate_key (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) request;
    creds_t *self = state;
    int64_t count = 0;
    char err [256];
    int64_t start = zclock_usecs ();
    if (secrets_rotate (self, &count, err, sizeof err) != 0) {
        log_error ("key rotation failed: %s", err);
        *reply = msgw_error_new (self->key->from_env ? BUS_ERR_CONFLICT : BUS_ERR_INTERNAL, err);
        return;
    }
    log_info ("master key rotated: %lld values re-encrypted in %lld ms", (long long) count,
              (long long) ((zclock_usecs () - start) / 1000));
    char message [200];
    snprintf (message, sizeof message, "master key rotated; %lld secret values re-encrypted",
              (long long) count);
    service_activity (service, "secret.key_rotated", "info", NULL, message, NULL);
    msgw_t *w = msgw_new ();
    msgw_map (w, 2);
    msgw_kv_bool (w, "ok", true);
    msgw_kv_int (w, "reencrypted", count);
    *reply = w;
}

const service_op_t creds_secret_ops [] = {
    { "secret_create",  s_secret_create },
    { "secret_list",    s_secret_list },
    { "secret_set",     s_secret_set },
    { "secret_delete",  s_secret_delete },
    { "job_secrets",    s_job_secrets },
    { "rotate_key",     s_rotate_key },
    { NULL, NULL }
};
