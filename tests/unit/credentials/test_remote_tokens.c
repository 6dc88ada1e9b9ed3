/*  test_remote_tokens.c — service tokens (actors/credentials/
    remote_tokens.c) against a real, migrated sqlite file and a real master
    key: a token verifies, a changed one does not; the table holds a keyed
    hash (not the token, not its plain BLAKE2b) and the key is sealed in
    server_secrets; a live name is unique without case and free again after
    a revoke; revoke by id or name; a master-key rotation keeps every token
    working (the hash key is re-sealed, not replaced); list with and without
    revoked ones; last_used_at recorded.
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
#include "creds.h"
#include "db.h"
#include "migrate.h"
#include "remote_tokens.h"

typedef struct {
    char    dir [64];
    creds_t creds;
} fixture_t;

static int
s_rm (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st; (void) flag; (void) ftw;
    return remove (path);
}

static int
s_setup (void **state)
{
    assert_true (sodium_init () >= 0);
    fixture_t *fx = calloc (1, sizeof *fx);
    snprintf (fx->dir, sizeof fx->dir, "/tmp/mbtokensXXXXXX");
    assert_non_null (mkdtemp (fx->dir));
    char path [128], err [256];
    snprintf (path, sizeof path, "%s/mcpbox.db", fx->dir);
    fx->creds.db = db_open (path, err, sizeof err);
    assert_non_null (fx->creds.db);
    int applied = 0;
    assert_int_equal (migrate_apply (fx->creds.db, mcpbox_migrations, mcpbox_migrations_count,
                                     &applied, err, sizeof err), 0);
    master_key_t *key = sodium_malloc (sizeof *key);
    assert_non_null (key);
    memset (key, 0, sizeof *key);
    randombytes_buf (key->key, sizeof key->key);
    secret_key_id (key->key, key->id);
    snprintf (key->path, sizeof key->path, "%s/credentials.key", fx->dir);
    snprintf (key->next_path, sizeof key->next_path, "%s/credentials.key.next", fx->dir);
    fx->creds.key = key;
    *state = fx;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *fx = *state;
    master_key_destroy (&fx->creds.key);
    db_close (&fx->creds.db);
    nftw (fx->dir, s_rm, 8, FTW_DEPTH | FTW_PHYS);
    free (fx);
    return 0;
}

static void
test_create_and_verify (void **state)
{
    creds_t *creds = &((fixture_t *) *state)->creds;
    char token [REMOTE_TOKEN_TEXT + 1];
    remote_token_t row, seen;
    assert_int_equal (remote_tokens_create (creds, "phone", token, &row), 0);
    assert_int_equal (strlen (token), REMOTE_TOKEN_TEXT);
    assert_memory_equal (token, REMOTE_TOKEN_PREFIX, REMOTE_TOKEN_PREFIX_LEN);
    assert_true (row.id > 0);
    assert_int_equal (remote_tokens_verify (creds, token, &seen), 0);
    assert_string_equal (seen.name, "phone");
    assert_int_equal (seen.id, row.id);
    assert_true (seen.last_used_at > 0);

    char changed [REMOTE_TOKEN_TEXT + 1];
    memcpy (changed, token, sizeof changed);
    changed [20] = changed [20] == 'A' ? 'B' : 'A';
    assert_int_equal (remote_tokens_verify (creds, changed, &seen), 1);
    assert_int_equal (remote_tokens_verify (creds, token + 1, &seen), 1);
    assert_int_equal (remote_tokens_verify (creds, "", &seen), 1);
    changed [REMOTE_TOKEN_TEXT - 1] = '!';
    assert_int_equal (remote_tokens_verify (creds, changed, &seen), 1);

    //  stored: a keyed hash, not the token nor its plain BLAKE2b
    uint8_t plain [CREDS_HASH_BYTES];
    crypto_generichash (plain, sizeof plain, (const uint8_t *) token, strlen (token), NULL, 0);
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (creds->db, "SELECT token_hash FROM remote_tokens WHERE id = ?1",
                        -1, &stmt, NULL);
    sqlite3_bind_int64 (stmt, 1, row.id);
    assert_int_equal (sqlite3_step (stmt), SQLITE_ROW);
    assert_int_equal (sqlite3_column_bytes (stmt, 0), CREDS_HASH_BYTES);
    assert_memory_not_equal (sqlite3_column_blob (stmt, 0), plain, CREDS_HASH_BYTES);
    sqlite3_finalize (stmt);
    sqlite3_prepare_v2 (creds->db, "SELECT count(*) FROM server_secrets WHERE server_id = "
                        "'credentials' AND key = 'REMOTE_TOKEN_HASH_KEY' AND ciphertext IS NOT "
                        "NULL", -1, &stmt, NULL);
    assert_int_equal (sqlite3_step (stmt), SQLITE_ROW);
    assert_int_equal (sqlite3_column_int (stmt, 0), 1);
    sqlite3_finalize (stmt);
}

static void
test_names_and_revoke (void **state)
{
    creds_t *creds = &((fixture_t *) *state)->creds;
    char first [REMOTE_TOKEN_TEXT + 1], second [REMOTE_TOKEN_TEXT + 1];
    remote_token_t row, other, seen;
    assert_int_equal (remote_tokens_create (creds, "Laptop", first, &row), 0);
    assert_int_equal (remote_tokens_create (creds, "laptop", second, &other), 1);
    assert_int_equal (remote_tokens_revoke (creds, 0, "LAPTOP", &seen), 0);
    assert_int_equal (seen.id, row.id);
    assert_true (seen.revoked_at > 0);
    assert_int_equal (remote_tokens_verify (creds, first, &seen), 1);
    assert_int_equal (remote_tokens_revoke (creds, 0, "laptop", &seen), 1);
    assert_int_equal (remote_tokens_create (creds, "laptop", second, &other), 0);
    assert_int_not_equal (other.id, row.id);
    assert_int_equal (remote_tokens_verify (creds, second, &seen), 0);
    assert_int_equal (remote_tokens_verify (creds, first, &seen), 1);
    assert_int_equal (remote_tokens_list (creds, false, NULL, NULL), 1);
    assert_int_equal (remote_tokens_list (creds, true, NULL, NULL), 2);
    assert_int_equal (remote_tokens_revoke (creds, other.id, NULL, &seen), 0);
    assert_int_equal (remote_tokens_revoke (creds, other.id, NULL, &seen), 1);
    assert_int_equal (remote_tokens_verify (creds, second, &seen), 1);
    assert_int_equal (remote_tokens_list (creds, false, NULL, NULL), 0);

    assert_true (remote_token_name_valid ("a"));
    assert_true (remote_token_name_valid ("phone-2.home_x"));
    assert_false (remote_token_name_valid (""));
    assert_false (remote_token_name_valid ("12"));
    assert_false (remote_token_name_valid ("a b"));
    assert_false (remote_token_name_valid ("a\"b"));
    char long_name [REMOTE_TOKEN_NAME_MAX + 2];
    memset (long_name, 'a', sizeof long_name - 1);
    long_name [sizeof long_name - 1] = 0;
    assert_false (remote_token_name_valid (long_name));
    long_name [REMOTE_TOKEN_NAME_MAX] = 0;
    assert_true (remote_token_name_valid (long_name));
}

static void
test_rotation_keeps_tokens (void **state)
{
    creds_t *creds = &((fixture_t *) *state)->creds;
    char token [REMOTE_TOKEN_TEXT + 1], err [256];
    remote_token_t row, seen;
    assert_int_equal (remote_tokens_create (creds, "kept", token, &row), 0);
    int64_t count = 0;
    assert_int_equal (secrets_rotate (creds, &count, err, sizeof err), 0);
    assert_true (count >= 1);
    //  as after a restart: the hash key is opened again under the new master key
    sodium_memzero (creds->token_key, sizeof creds->token_key);
    creds->has_token_key = false;
    assert_int_equal (remote_tokens_verify (creds, token, &seen), 0);
    assert_string_equal (seen.name, "kept");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_create_and_verify, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_names_and_revoke, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_rotation_keeps_tokens, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
