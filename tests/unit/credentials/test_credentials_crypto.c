/*  test_credentials_crypto.c — the at-rest encryption of server secrets
    (actors/credentials/secret_box.c) and key rotation against a real
    sqlite file (secrets_store.c, master_key.c): round trip, associated
    data binding, tampering, wrong key, and a rotation interrupted before
    and after its commit losing nothing.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "creds.h"
#include "db.h"
#include "migrate.h"

static uint8_t s_key [SECRET_KEY_BYTES];

static int
s_setup (void **state)
{
    (void) state;
    assert_true (sodium_init () >= 0);
    randombytes_buf (s_key, sizeof s_key);
    return 0;
}

static void
test_round_trip (void **state)
{
    (void) state;
    size_t sizes [] = { 0, 1, 17, 4096, SECRET_VALUE_MAX };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes [0]; i++) {
        uint8_t *value = malloc (sizes [i] + 1);
        randombytes_buf (value, sizes [i]);
        uint8_t nonce [SECRET_NONCE_BYTES];
        uint8_t *cipher = NULL, *plain = NULL;
        size_t cipher_len = 0, plain_len = 0;
        assert_int_equal (secret_seal (s_key, "srv-1", "API_KEY", value, sizes [i], nonce,
                                       &cipher, &cipher_len), 0);
        assert_int_equal (cipher_len, sizes [i] + SECRET_TAG_BYTES);
        if (sizes [i] >= 16)    //  not the plaintext
            assert_true (memcmp (cipher, value, 16) != 0);
        assert_int_equal (secret_open (s_key, "srv-1", "API_KEY", nonce, cipher, cipher_len,
                                       &plain, &plain_len), 0);
        assert_int_equal (plain_len, sizes [i]);
        assert_memory_equal (plain, value, sizes [i]);
        assert_int_equal (plain [plain_len], 0);
        free (plain);
        free (cipher);
        free (value);
    }
}

static void
test_too_large_refused (void **state)
{
    (void) state;
    static uint8_t value [SECRET_VALUE_MAX + 1];
    uint8_t nonce [SECRET_NONCE_BYTES];
    uint8_t *cipher = NULL;
    size_t cipher_len = 0;
    assert_int_equal (secret_seal (s_key, "s", "K", value, sizeof value, nonce, &cipher,
                                   &cipher_len), -1);
    assert_null (cipher);
}

//  Seal "hunter2" for (srv-1, API_KEY).
static void
s_sealed (uint8_t nonce [SECRET_NONCE_BYTES], uint8_t **cipher, size_t *len)
{
    assert_int_equal (secret_seal (s_key, "srv-1", "API_KEY", (const uint8_t *) "hunter2", 7,
                                   nonce, cipher, len), 0);
}

static void
test_wrong_associated_data_fails (void **state)
{
    (void) state;
    uint8_t nonce [SECRET_NONCE_BYTES];
    uint8_t *cipher, *plain = NULL;
    size_t len, plain_len;
    s_sealed (nonce, &cipher, &len);
    //  the same ciphertext copied to another server or another key
    assert_int_equal (secret_open (s_key, "srv-2", "API_KEY", nonce, cipher, len, &plain,
                                   &plain_len), -1);
    assert_int_equal (secret_open (s_key, "srv-1", "API_KEY2", nonce, cipher, len, &plain,
                                   &plain_len), -1);
    //  ambiguity in the AD layout: "srv:1" + "X" vs "srv" + "1:X" cannot both be valid ids,
    //  but the AD itself must differ
    assert_int_equal (secret_open (s_key, "srv-1:API", "KEY", nonce, cipher, len, &plain,
                                   &plain_len), -1);
    assert_null (plain);
    free (cipher);
}

static void
test_tampered_ciphertext_fails (void **state)
{
    (void) state;
    uint8_t nonce [SECRET_NONCE_BYTES];
    uint8_t *cipher, *plain = NULL;
    size_t len, plain_len;
    s_sealed (nonce, &cipher, &len);
    for (size_t i = 0; i < len; i++) {
        cipher [i] ^= 0x01;
        assert_int_equal (secret_open (s_key, "srv-1", "API_KEY", nonce, cipher, len, &plain,
                                       &plain_len), -1);
        cipher [i] ^= 0x01;
    }
    nonce [3] ^= 0x80;
    assert_int_equal (secret_open (s_key, "srv-1", "API_KEY", nonce, cipher, len, &plain,
                                   &plain_len), -1);
    nonce [3] ^= 0x80;
    //  truncated
    assert_int_equal (secret_open (s_key, "srv-1", "API_KEY", nonce, cipher, len - 1, &plain,
                                   &plain_len), -1);
    //  the untouched one still opens
    assert_int_equal (secret_open (s_key, "srv-1", "API_KEY", nonce, cipher, len, &plain,
                                   &plain_len), 0);
    assert_string_equal ((char *) plain, "hunter2");
    free (plain);
    free (cipher);
}

static void
test_wrong_key_fails (void **state)
{
    (void) state;
    uint8_t nonce [SECRET_NONCE_BYTES], other [SECRET_KEY_BYTES];
    uint8_t *cipher, *plain = NULL;
    size_t len, plain_len;
    s_sealed (nonce, &cipher, &len);
    memcpy (other, s_key, sizeof other);
    other [31] ^= 1;
    assert_int_equal (secret_open (other, "srv-1", "API_KEY", nonce, cipher, len, &plain,
                                   &plain_len), -1);
    uint8_t id_a [SECRET_KEY_ID_BYTES], id_b [SECRET_KEY_ID_BYTES], id_c [SECRET_KEY_ID_BYTES];
    secret_key_id (s_key, id_a);
    secret_key_id (other, id_b);
    secret_key_id (s_key, id_c);
    assert_memory_not_equal (id_a, id_b, sizeof id_a);
    assert_memory_equal (id_a, id_c, sizeof id_a);
    free (cipher);
}

static void
test_parse_hex (void **state)
{
    (void) state;
    uint8_t key [SECRET_KEY_BYTES];
    char hex [65];
    memset (hex, 'a', 64);
    hex [64] = 0;
    assert_int_equal (master_key_parse_hex (hex, 64, key), 0);
    assert_int_equal (key [0], 0xaa);
    assert_int_equal (master_key_parse_hex (hex, 63, key), -1);
    hex [10] = 'g';
    assert_int_equal (master_key_parse_hex (hex, 64, key), -1);
    hex [10] = ' ';
    assert_int_equal (master_key_parse_hex (hex, 64, key), -1);
}

//  --- rotation against a real database ------------------------------------------

typedef struct {
    char    dir [64];
    paths_t paths;
} data_t;

static int
s_rm (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st; (void) flag; (void) ftw;
    return remove (path);
}

#define S_VALUES 5

static void
s_data_new (data_t *data)
{
    snprintf (data->dir, sizeof data->dir, "/tmp/mbcredXXXXXX");
    assert_non_null (mkdtemp (data->dir));
    char err [256];
    assert_int_equal (paths_init (&data->paths, data->dir, true, err, sizeof err), 0);
    sqlite3 *db = db_open (data->paths.db_path, err, sizeof err);
    assert_non_null (db);
    int applied = 0;
    assert_int_equal (migrate_apply (db, mcpbox_migrations, mcpbox_migrations_count, &applied,
                                     err, sizeof err), 0);
    db_close (&db);
    creds_configured_limits = (creds_limits_t) {
        .access_ttl_s = 900, .refresh_ttl_s = 3600, .login_window_s = 60,
        .login_max_failures = 5, .hash_ops = crypto_pwhash_OPSLIMIT_MIN,
        .hash_mem = crypto_pwhash_MEMLIMIT_MIN,
    };
}

static void
s_data_destroy (data_t *data)
{
    nftw (data->dir, s_rm, 8, FTW_DEPTH | FTW_PHYS);
}

static creds_t *
s_open (data_t *data)
{
    char err [256] = "";
    int rc;
    creds_t *self = creds_new (&data->paths, &rc, err, sizeof err);
    if (rc != 0)
        fprintf (stderr, "creds_new: %s\n", err);
    assert_int_equal (rc, 0);
    return self;
}

//  Store value i under the current key (what secret_set does).
static void
s_store (creds_t *self, int i, const uint8_t key [SECRET_KEY_BYTES], const uint8_t *key_id)
{
    char name [16], value [32];
    snprintf (name, sizeof name, "KEY_%d", i);
    snprintf (value, sizeof value, "value-number-%d", i);
    uint8_t nonce [SECRET_NONCE_BYTES];
    uint8_t *cipher;
    size_t len;
    assert_int_equal (secret_seal (key, "srv", name, (uint8_t *) value, strlen (value), nonce,
                                   &cipher, &len), 0);
    sqlite3_stmt *stmt;
    sqlite3_prepare_v2 (self->db, "INSERT INTO server_secrets (server_id, key, nonce, "
                        "ciphertext, key_id, created_at, updated_at) VALUES ('srv', ?1, ?2, ?3, "
                        "?4, 0, 0) ON CONFLICT DO UPDATE SET nonce = ?2, ciphertext = ?3, "
                        "key_id = ?4", -1, &stmt, NULL);
    sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob (stmt, 2, nonce, sizeof nonce, SQLITE_TRANSIENT);
    sqlite3_bind_blob (stmt, 3, cipher, (int) len, SQLITE_TRANSIENT);
    sqlite3_bind_blob (stmt, 4, key_id, SECRET_KEY_ID_BYTES, SQLITE_TRANSIENT);
    assert_int_equal (sqlite3_step (stmt), SQLITE_DONE);
    sqlite3_finalize (stmt);
    free (cipher);
}

//  Every value opens with the loaded key and is what was stored.
static void
s_check_all (creds_t *self)
{
    sqlite3_stmt *stmt;
    sqlite3_prepare_v2 (self->db, "SELECT key, nonce, ciphertext, key_id FROM server_secrets "
                        "ORDER BY key", -1, &stmt, NULL);
    int count = 0;
    while (sqlite3_step (stmt) == SQLITE_ROW) {
        const char *name = (const char *) sqlite3_column_text (stmt, 0);
        uint8_t *plain = NULL;
        size_t plain_len = 0;
        assert_memory_equal (sqlite3_column_blob (stmt, 3), self->key->id, SECRET_KEY_ID_BYTES);
        assert_int_equal (secret_open (self->key->key, "srv", name, sqlite3_column_blob (stmt, 1),
                                       sqlite3_column_blob (stmt, 2),
                                       (size_t) sqlite3_column_bytes (stmt, 2), &plain,
                                       &plain_len), 0);
        char expected [32];
        snprintf (expected, sizeof expected, "value-number-%s", name + 4);
        assert_string_equal ((char *) plain, expected);
        free (plain);
        count++;
    }
    sqlite3_finalize (stmt);
    assert_int_equal (count, S_VALUES);
}

static void
test_rotation_keeps_every_value (void **state)
{
    (void) state;
    data_t data;
    s_data_new (&data);
    creds_t *self = s_open (&data);
    for (int i = 0; i < S_VALUES; i++)
        s_store (self, i, self->key->key, self->key->id);
    uint8_t old_id [SECRET_KEY_ID_BYTES];
    memcpy (old_id, self->key->id, sizeof old_id);
    int64_t count = 0;
    char err [256];
    assert_int_equal (secrets_rotate (self, &count, err, sizeof err), 0);
    assert_int_equal (count, S_VALUES);
    assert_memory_not_equal (old_id, self->key->id, sizeof old_id);
    assert_int_equal (access (self->key->next_path, F_OK), -1);
    s_check_all (self);
    creds_destroy (&self);
    //  a fresh start reads the promoted key file
    self = s_open (&data);
    s_check_all (self);
    creds_destroy (&self);
    s_data_destroy (&data);
}

static void
test_crash_before_commit_loses_nothing (void **state)
{
    (void) state;
    data_t data;
    s_data_new (&data);
    creds_t *self = s_open (&data);
    for (int i = 0; i < S_VALUES; i++)
        s_store (self, i, self->key->key, self->key->id);
    uint8_t old_id [SECRET_KEY_ID_BYTES];
    memcpy (old_id, self->key->id, sizeof old_id);
    //  the state a crash leaves after step 1 (and inside step 2: an open
    //  transaction is rolled back by sqlite): next staged, rows untouched
    char err [256];
    assert_int_equal (master_key_stage (self->key, err, sizeof err), 0);
    assert_int_equal (sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    s_store (self, 0, self->key->next, self->key->next_id);
    creds_destroy (&self);        //  the connection closes without COMMIT: rolled back
    self = s_open (&data);
    assert_memory_equal (old_id, self->key->id, sizeof old_id);
    assert_false (self->key->has_next);
    assert_int_equal (access (self->key->next_path, F_OK), -1);
    s_check_all (self);
    creds_destroy (&self);
    s_data_destroy (&data);
}

static void
test_crash_after_commit_loses_nothing (void **state)
{
    (void) state;
    data_t data;
    s_data_new (&data);
    creds_t *self = s_open (&data);
    for (int i = 0; i < S_VALUES; i++)
        s_store (self, i, self->key->key, self->key->id);
    char err [256];
    assert_int_equal (master_key_stage (self->key, err, sizeof err), 0);
    uint8_t new_id [SECRET_KEY_ID_BYTES];
    memcpy (new_id, self->key->next_id, sizeof new_id);
    //  step 2 committed, step 3 (promotion) never ran
    assert_int_equal (sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    for (int i = 0; i < S_VALUES; i++)
        s_store (self, i, self->key->next, self->key->next_id);
    assert_int_equal (sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    creds_destroy (&self);
    self = s_open (&data);
    assert_memory_equal (new_id, self->key->id, sizeof new_id);
    assert_int_equal (access (self->key->next_path, F_OK), -1);
    s_check_all (self);
    creds_destroy (&self);
    s_data_destroy (&data);
}

static void
test_foreign_key_refused (void **state)
{
    (void) state;
    data_t data;
    s_data_new (&data);
    creds_t *self = s_open (&data);
    for (int i = 0; i < S_VALUES; i++)
        s_store (self, i, self->key->key, self->key->id);
    creds_destroy (&self);
    //  another key file: start-up refuses (configuration error, status 2)
    char path [600];
    snprintf (path, sizeof path, "%s/credentials.key", data.paths.data_dir);
    FILE *file = fopen (path, "w");
    fprintf (file, "%064d\n", 7);
    fclose (file);
    char err [256] = "";
    int rc = 0;
    assert_null (creds_new (&data.paths, &rc, err, sizeof err));
    assert_int_equal (rc, 2);
    assert_non_null (strstr (err, "not the one loaded"));
    s_data_destroy (&data);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_round_trip),
        cmocka_unit_test (test_too_large_refused),
        cmocka_unit_test (test_wrong_associated_data_fails),
        cmocka_unit_test (test_tampered_ciphertext_fails),
        cmocka_unit_test (test_wrong_key_fails),
        cmocka_unit_test (test_parse_hex),
        cmocka_unit_test (test_rotation_keeps_every_value),
        cmocka_unit_test (test_crash_before_commit_loses_nothing),
        cmocka_unit_test (test_crash_after_commit_loses_nothing),
        cmocka_unit_test (test_foreign_key_refused),
    };
    return cmocka_run_group_tests (tests, s_setup, NULL);
}
