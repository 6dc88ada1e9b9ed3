/*  test_source_oauth_store.c — the source OAuth store (actors/credentials/
    source_oauth_store.c) against a real, migrated sqlite file and a real
    master key, with the clock passed in:

    - begin/take_pending: the fields come back, the state is kept only as
      a keyed hash, the verifier and client secret only sealed; single use;
      expiry after 10 minutes (and pruning); a newer begin replaces;
    - store/token: sealed at rest; the access token while > 60 s remain,
      then one refresh lease at a time for 30 s (others wait, or get the
      still-valid token), force_refresh; store under the lease (an absent
      refresh token keeps the old one), a stale lease refused; fail drops
      the tokens (transient keeps them); status never carries a secret;
    - associated data: a box copied to another source's row, or to another
      field of the same row, does not open;
    - key rotation re-seals every row (key_id follows), values unchanged.
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
#include "source_oauth.h"

#define T0 INT64_C (1800000000000)      //  a fixed "now", ms

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
    snprintf (fx->dir, sizeof fx->dir, "/tmp/mbsoauthXXXXXX");
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

static const char s_verifier [] = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-verifier";
static const char s_state [] = "state-9c1f0a77b2d44e6a";

static source_oauth_t *
s_pending_fields (const char *source_id)
{
    source_oauth_t *f = source_oauth_new ();
    assert_non_null (f);
    snprintf (f->source_id, sizeof f->source_id, "%s", source_id);
    snprintf (f->server_id, sizeof f->server_id, "srv-1");
    snprintf (f->state, sizeof f->state, "%s-%s", s_state, source_id);
    snprintf (f->verifier, sizeof f->verifier, "%s", s_verifier);
    snprintf (f->client_id, sizeof f->client_id, "client-abc");
    snprintf (f->client_secret, sizeof f->client_secret, "csecret-%s", source_id);
    snprintf (f->issuer, sizeof f->issuer, "https://as.example");
    snprintf (f->token_endpoint, sizeof f->token_endpoint, "https://as.example/token");
    snprintf (f->resource, sizeof f->resource, "https://mcp.example/mcp");
    snprintf (f->redirect_uri, sizeof f->redirect_uri, "https://box.example/oauth/callback");
    snprintf (f->scope, sizeof f->scope, "read write");
    snprintf (f->auth_method, sizeof f->auth_method, "client_secret_basic");
    return f;
}

static source_oauth_t *
s_token_fields (const char *source_id, const char *access, const char *refresh,
                int64_t expires_at_ms)
{
    source_oauth_t *f = source_oauth_new ();
    assert_non_null (f);
    snprintf (f->source_id, sizeof f->source_id, "%s", source_id);
    snprintf (f->server_id, sizeof f->server_id, "srv-1");
    snprintf (f->client_id, sizeof f->client_id, "client-abc");
    snprintf (f->client_secret, sizeof f->client_secret, "csecret-%s", source_id);
    snprintf (f->token_endpoint, sizeof f->token_endpoint, "https://as.example/token");
    snprintf (f->resource, sizeof f->resource, "https://mcp.example/mcp");
    snprintf (f->access_token, sizeof f->access_token, "%s", access);
    snprintf (f->refresh_token, sizeof f->refresh_token, "%s", refresh);
    snprintf (f->auth_method, sizeof f->auth_method, "%s", *refresh ? "client_secret_post" : "");
    f->expires_at_ms = expires_at_ms;
    return f;
}

//  Does any column of the table hold these bytes in clear?
static bool
s_table_has (sqlite3 *db, const char *table, const char *needle)
{
    char sql [200];
    snprintf (sql, sizeof sql, "SELECT * FROM %s", table);
    sqlite3_stmt *stmt = NULL;
    assert_int_equal (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), SQLITE_OK);
    bool found = false;
    while (sqlite3_step (stmt) == SQLITE_ROW)
        for (int c = 0; c < sqlite3_column_count (stmt); c++) {
            const void *blob = sqlite3_column_blob (stmt, c);
            int n = sqlite3_column_bytes (stmt, c);
            if (blob && memmem (blob, (size_t) n, needle, strlen (needle)))
                found = true;
        }
    sqlite3_finalize (stmt);
    return found;
}

static void
test_pending_round_trip (void **state)
{
    creds_t *creds = &((fixture_t *) *state)->creds;
    source_oauth_t *in = s_pending_fields ("src-a");
    assert_int_equal (source_oauth_begin (creds, in, T0), 0);
    //  at rest: no state, no verifier, no client secret in clear
    assert_false (s_table_has (creds->db, "source_oauth_pending", in->state));
    assert_false (s_table_has (creds->db, "source_oauth_pending", s_verifier));
    assert_false (s_table_has (creds->db, "source_oauth_pending", in->client_secret));
    assert_true (s_table_has (creds->db, "source_oauth_pending", "client-abc"));

    source_oauth_t *out = source_oauth_new ();
    assert_int_equal (source_oauth_take_pending (creds, "state-unknown-000000", T0, out), 1);
    assert_int_equal (source_oauth_take_pending (creds, in->state, T0 + 1000, out), 0);
    assert_string_equal (out->source_id, "src-a");
    assert_string_equal (out->server_id, "srv-1");
    assert_string_equal (out->verifier, s_verifier);
    assert_string_equal (out->client_secret, "csecret-src-a");
    assert_string_equal (out->client_id, "client-abc");
    assert_string_equal (out->token_endpoint, "https://as.example/token");
    assert_string_equal (out->resource, "https://mcp.example/mcp");
    assert_string_equal (out->redirect_uri, "https://box.example/oauth/callback");
    assert_string_equal (out->scope, "read write");
    assert_string_equal (out->revocation_endpoint, "");
    assert_string_equal (out->auth_method, "client_secret_basic");      //  migration 0015
    //  single use
    assert_int_equal (source_oauth_take_pending (creds, in->state, T0 + 2000, out), 1);

    //  expiry: 10 minutes, then gone (and pruned)
    assert_int_equal (source_oauth_begin (creds, in, T0), 0);
    source_oauth_status_t st;
    assert_int_equal (source_oauth_status (creds, "src-a", T0 + 1, &st), 0);
    assert_string_equal (st.state, "pending");
    assert_int_equal (source_oauth_take_pending (creds, in->state, T0 + SOURCE_OAUTH_PENDING_MS,
                                                 out), 1);
    assert_int_equal (source_oauth_begin (creds, in, T0), 0);
    assert_int_equal (source_oauth_prune (creds, T0 + SOURCE_OAUTH_PENDING_MS - 1), 0);
    assert_int_equal (source_oauth_prune (creds, T0 + SOURCE_OAUTH_PENDING_MS), 1);
    assert_int_equal (source_oauth_take_pending (creds, in->state, T0 + 1, out), 1);

    //  a second begin of the source replaces the first (its state is dead)
    assert_int_equal (source_oauth_begin (creds, in, T0), 0);
    char old_state [SOURCE_OAUTH_STATE_MAX + 1];
    snprintf (old_state, sizeof old_state, "%s", in->state);
    snprintf (in->state, sizeof in->state, "%s", "state-second-attempt-1");
    assert_int_equal (source_oauth_begin (creds, in, T0 + 5), 0);
    assert_int_equal (source_oauth_take_pending (creds, old_state, T0 + 10, out), 1);
    assert_int_equal (source_oauth_take_pending (creds, in->state, T0 + 10, out), 0);
    //  another source may not reuse a live state
    source_oauth_t *other = s_pending_fields ("src-b");
    snprintf (other->state, sizeof other->state, "%s", in->state);
    assert_int_equal (source_oauth_begin (creds, in, T0), 0);
    assert_int_equal (source_oauth_begin (creds, other, T0), 1);
    source_oauth_destroy (&other);
    source_oauth_destroy (&out);
    source_oauth_destroy (&in);
}

static void
test_pending_cap (void **state)
{
    creds_t *creds = &((fixture_t *) *state)->creds;
    source_oauth_t *in = s_pending_fields ("x");
    for (int i = 0; i < SOURCE_OAUTH_PENDING_MAX; i++) {
        snprintf (in->source_id, sizeof in->source_id, "src-%d", i);
        snprintf (in->state, sizeof in->state, "state-cap-test-%06d", i);
        assert_int_equal (source_oauth_begin (creds, in, T0), 0);
    }
    snprintf (in->source_id, sizeof in->source_id, "src-more");
    snprintf (in->state, sizeof in->state, "state-cap-test-more");
    assert_int_equal (source_oauth_begin (creds, in, T0), 2);
    //  one of them again is a replacement, not one more
    snprintf (in->source_id, sizeof in->source_id, "src-7");
    assert_int_equal (source_oauth_begin (creds, in, T0), 0);
    //  once they expired there is room
    snprintf (in->source_id, sizeof in->source_id, "src-more");
    snprintf (in->state, sizeof in->state, "state-cap-test-late");
    assert_int_equal (source_oauth_begin (creds, in, T0 + SOURCE_OAUTH_PENDING_MS), 0);
    source_oauth_destroy (&in);
}

static void
test_token_and_lease (void **state)
{
    creds_t *creds = &((fixture_t *) *state)->creds;
    source_oauth_t *out = source_oauth_new ();
    char lease [SOURCE_OAUTH_LEASE_TEXT + 1], lease2 [SOURCE_OAUTH_LEASE_TEXT + 1];
    int64_t wait = 0;
    assert_int_equal (source_oauth_token (creds, "src-a", false, T0, out, lease, &wait),
                      SOURCE_OAUTH_NONE);

    int64_t expires = T0 + 3600000;
    source_oauth_t *in = s_token_fields ("src-a", "at-first-0123456789", "rt-first-0123456789",
                                         expires);
    assert_int_equal (source_oauth_store (creds, in, NULL, T0), 0);
    assert_false (s_table_has (creds->db, "source_oauth_tokens", "at-first-0123456789"));
    assert_false (s_table_has (creds->db, "source_oauth_tokens", "rt-first-0123456789"));
    assert_false (s_table_has (creds->db, "source_oauth_tokens", "csecret-src-a"));

    //  plenty of time: the access token
    assert_int_equal (source_oauth_token (creds, "src-a", false, T0, out, lease, &wait),
                      SOURCE_OAUTH_ACCESS);
    assert_string_equal (out->access_token, "at-first-0123456789");
    assert_int_equal (out->expires_at_ms, expires);
    assert_string_equal (out->refresh_token, "");       //  not handed out with it
    source_oauth_status_t st;
    assert_int_equal (source_oauth_status (creds, "src-a", T0, &st), 0);
    assert_string_equal (st.state, "authorized");
    assert_int_equal (st.expires_at_ms, expires);

    //  60 s before expiry: one caller gets the lease, the next waits
    int64_t late = expires - SOURCE_OAUTH_EARLY_MS;
    memset (out, 0, sizeof *out);
    assert_int_equal (source_oauth_token (creds, "src-a", false, late, out, lease, &wait),
                      SOURCE_OAUTH_REFRESH);
    assert_int_equal (strlen (lease), SOURCE_OAUTH_LEASE_TEXT);
    assert_string_equal (out->refresh_token, "rt-first-0123456789");
    assert_string_equal (out->client_secret, "csecret-src-a");
    assert_string_equal (out->token_endpoint, "https://as.example/token");
    assert_string_equal (out->auth_method, "client_secret_post");
    assert_string_equal (out->access_token, "");
    //  ... the second still has a valid token: it gets it meanwhile
    assert_int_equal (source_oauth_token (creds, "src-a", false, late + 10, out, lease2, &wait),
                      SOURCE_OAUTH_ACCESS);
    //  ... a forced one (the token was refused) waits for the holder
    assert_int_equal (source_oauth_token (creds, "src-a", true, late + 10, out, lease2, &wait),
                      SOURCE_OAUTH_WAIT);
    assert_true (wait >= 50 && wait <= SOURCE_OAUTH_WAIT_MAX_MS);
    //  ... to the end of the lease
    assert_int_equal (source_oauth_token (creds, "src-a", true, late + SOURCE_OAUTH_LEASE_MS - 1,
                                          out, lease2, &wait), SOURCE_OAUTH_WAIT);
    assert_int_equal (wait, 50);
    //  the lease lasts 30 s; then another caller may take it over
    assert_int_equal (source_oauth_token (creds, "src-a", false, late + SOURCE_OAUTH_LEASE_MS,
                                          out, lease2, &wait), SOURCE_OAUTH_REFRESH);
    assert_string_not_equal (lease, lease2);
    //  the first holder's lease is no longer current
    source_oauth_t *refreshed = s_token_fields ("src-a", "at-second-0123456789", "", expires + 3600000);
    assert_int_equal (source_oauth_store (creds, refreshed, lease, late + 31000), 1);
    assert_int_equal (source_oauth_fail (creds, "src-a", lease, "nope", false, late + 31000), 1);
    //  the current one stores; no refresh token came: the old one is kept
    assert_int_equal (source_oauth_store (creds, refreshed, lease2, late + 31000), 0);
    assert_int_equal (source_oauth_store (creds, refreshed, lease2, late + 31000), 1);
    assert_int_equal (source_oauth_token (creds, "src-a", false, late + 32000, out, lease, &wait),
                      SOURCE_OAUTH_ACCESS);
    assert_string_equal (out->access_token, "at-second-0123456789");
    assert_int_equal (source_oauth_token (creds, "src-a", true, late + 32000, out, lease, &wait),
                      SOURCE_OAUTH_REFRESH);
    assert_string_equal (out->refresh_token, "rt-first-0123456789");
    //  a refresh stored without the method (refreshed had none) kept it too
    assert_string_equal (out->auth_method, "client_secret_post");

    //  a transient failure keeps the tokens and frees the lease
    assert_int_equal (source_oauth_fail (creds, "src-a", lease, "connection refused", true,
                                         late + 33000), 0);
    assert_int_equal (source_oauth_status (creds, "src-a", late + 33000, &st), 0);
    assert_string_equal (st.state, "authorized");
    assert_string_equal (st.last_error, "connection refused");
    assert_int_equal (source_oauth_token (creds, "src-a", true, late + 33000, out, lease, &wait),
                      SOURCE_OAUTH_REFRESH);
    //  a refusal drops them: the source needs authorization
    assert_int_equal (source_oauth_fail (creds, "src-a", lease, "invalid_grant", false,
                                         late + 34000), 0);
    assert_int_equal (source_oauth_token (creds, "src-a", false, late + 34000, out, lease, &wait),
                      SOURCE_OAUTH_NONE);
    assert_int_equal (source_oauth_status (creds, "src-a", late + 34000, &st), 0);
    assert_string_equal (st.state, "needs_authorization");
    assert_string_equal (st.last_error, "invalid_grant");
    assert_false (s_table_has (creds->db, "source_oauth_tokens", "at-second"));

    //  without a refresh token: the token until it expires, then expired
    source_oauth_t *plain = s_token_fields ("src-c", "at-plain-0123456789", "", T0 + 100000);
    assert_int_equal (source_oauth_store (creds, plain, "", T0), 0);
    assert_int_equal (source_oauth_token (creds, "src-c", false, T0 + 90000, out, lease, &wait),
                      SOURCE_OAUTH_ACCESS);
    assert_int_equal (source_oauth_token (creds, "src-c", true, T0 + 90000, out, lease, &wait),
                      SOURCE_OAUTH_EXPIRED);
    assert_int_equal (source_oauth_token (creds, "src-c", false, T0 + 100000, out, lease, &wait),
                      SOURCE_OAUTH_EXPIRED);
    assert_int_equal (source_oauth_status (creds, "src-c", T0 + 100000, &st), 0);
    assert_string_equal (st.state, "expired");
    //  no expiry given: always the token
    plain->expires_at_ms = 0;
    assert_int_equal (source_oauth_store (creds, plain, "", T0), 0);
    assert_int_equal (source_oauth_token (creds, "src-c", false, T0 + 999999999, out, lease,
                                          &wait), SOURCE_OAUTH_ACCESS);
    //  forget: gone, both tables
    source_oauth_t *pend = s_pending_fields ("src-c");
    assert_int_equal (source_oauth_begin (creds, pend, T0), 0);
    assert_int_equal (source_oauth_forget (creds, "src-c"), 2);
    assert_int_equal (source_oauth_forget (creds, "src-c"), 0);
    assert_int_equal (source_oauth_status (creds, "src-c", T0, &st), 0);
    assert_string_equal (st.state, "none");
    source_oauth_destroy (&pend);
    source_oauth_destroy (&plain);
    source_oauth_destroy (&refreshed);
    source_oauth_destroy (&in);
    source_oauth_destroy (&out);
}

//  Copy column col of source `from`'s row over source `to`'s (or over
//  another column of the same row).
static void
s_copy_box (sqlite3 *db, const char *table, const char *from_col, const char *from,
            const char *to_col, const char *to)
{
    char sql [300];
    snprintf (sql, sizeof sql, "UPDATE %s SET %s = (SELECT %s FROM %s WHERE source_id = ?1) "
              "WHERE source_id = ?2", table, to_col, from_col, table);
    sqlite3_stmt *stmt = NULL;
    assert_int_equal (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), SQLITE_OK);
    sqlite3_bind_text (stmt, 1, from, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, to, -1, SQLITE_STATIC);
    assert_int_equal (sqlite3_step (stmt), SQLITE_DONE);
    assert_int_equal (sqlite3_changes (db), 1);
    sqlite3_finalize (stmt);
}

static void
test_boxes_bound_to_source_and_field (void **state)
{
    creds_t *creds = &((fixture_t *) *state)->creds;
    source_oauth_t *out = source_oauth_new ();
    char lease [SOURCE_OAUTH_LEASE_TEXT + 1];
    int64_t wait = 0;
    source_oauth_t *a = s_token_fields ("src-a", "at-of-a-0123456789", "rt-of-a-0123456789", 0);
    source_oauth_t *b = s_token_fields ("src-b", "at-of-b-0123456789", "rt-of-b-0123456789", 0);
    assert_int_equal (source_oauth_store (creds, a, NULL, T0), 0);
    assert_int_equal (source_oauth_store (creds, b, NULL, T0), 0);
    assert_int_equal (source_oauth_token (creds, "src-b", false, T0, out, lease, &wait),
                      SOURCE_OAUTH_ACCESS);
    //  a's access box in b's row: does not open
    s_copy_box (creds->db, "source_oauth_tokens", "access_box", "src-a", "access_box", "src-b");
    assert_int_equal (source_oauth_token (creds, "src-b", false, T0, out, lease, &wait),
                      SOURCE_OAUTH_ERROR);
    assert_string_equal (out->access_token, "");
    //  b's own refresh box as its access box: does not open either
    s_copy_box (creds->db, "source_oauth_tokens", "refresh_box", "src-b", "access_box", "src-b");
    assert_int_equal (source_oauth_token (creds, "src-b", false, T0, out, lease, &wait),
                      SOURCE_OAUTH_ERROR);
    //  a is untouched
    assert_int_equal (source_oauth_token (creds, "src-a", false, T0, out, lease, &wait),
                      SOURCE_OAUTH_ACCESS);
    assert_string_equal (out->access_token, "at-of-a-0123456789");

    //  the same for a pending verifier
    source_oauth_t *pa = s_pending_fields ("src-a"), *pb = s_pending_fields ("src-b");
    assert_int_equal (source_oauth_begin (creds, pa, T0), 0);
    assert_int_equal (source_oauth_begin (creds, pb, T0), 0);
    s_copy_box (creds->db, "source_oauth_pending", "verifier_box", "src-a", "verifier_box",
                "src-b");
    assert_int_equal (source_oauth_take_pending (creds, pb->state, T0, out), -1);
    assert_string_equal (out->verifier, "");
    assert_int_equal (source_oauth_take_pending (creds, pa->state, T0, out), 0);
    assert_string_equal (out->verifier, s_verifier);
    //  and a rotation refuses to run over a box that does not open
    s_copy_box (creds->db, "source_oauth_tokens", "access_box", "src-a", "access_box", "src-b");
    int64_t count = 0;
    char err [256];
    assert_int_equal (secrets_rotate (creds, &count, err, sizeof err), -1);
    assert_non_null (strstr (err, "src-b"));
    assert_int_equal (count, 0);
    source_oauth_destroy (&pa);
    source_oauth_destroy (&pb);
    source_oauth_destroy (&a);
    source_oauth_destroy (&b);
    source_oauth_destroy (&out);
}

static int64_t
s_count_key (sqlite3 *db, const char *table, const uint8_t id [SECRET_KEY_ID_BYTES])
{
    char sql [200];
    snprintf (sql, sizeof sql, "SELECT count(*) FROM %s WHERE key_id = ?1", table);
    sqlite3_stmt *stmt = NULL;
    assert_int_equal (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), SQLITE_OK);
    sqlite3_bind_blob (stmt, 1, id, SECRET_KEY_ID_BYTES, SQLITE_STATIC);
    assert_int_equal (sqlite3_step (stmt), SQLITE_ROW);
    int64_t count = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    return count;
}

static void
test_rotation_reseals (void **state)
{
    creds_t *creds = &((fixture_t *) *state)->creds;
    source_oauth_t *out = source_oauth_new ();
    char lease [SOURCE_OAUTH_LEASE_TEXT + 1];
    int64_t wait = 0;
    source_oauth_t *a = s_token_fields ("src-a", "at-of-a-0123456789", "rt-of-a-0123456789",
                                        T0 + 3600000);
    source_oauth_t *p = s_pending_fields ("src-p");
    assert_int_equal (source_oauth_store (creds, a, NULL, T0), 0);
    assert_int_equal (source_oauth_begin (creds, p, T0), 0);
    //  a dropped row (no boxes) stays without a key id
    source_oauth_t *d = s_token_fields ("src-d", "at-of-d-0123456789", "rt-of-d-0123456789", 1);
    assert_int_equal (source_oauth_store (creds, d, NULL, T0), 0);
    assert_int_equal (source_oauth_token (creds, "src-d", false, T0, out, lease, &wait),
                      SOURCE_OAUTH_REFRESH);
    assert_int_equal (source_oauth_fail (creds, "src-d", lease, "invalid_grant", false, T0), 0);

    uint8_t old_id [SECRET_KEY_ID_BYTES];
    memcpy (old_id, creds->key->id, sizeof old_id);
    assert_int_equal (s_count_key (creds->db, "source_oauth_tokens", old_id), 1);
    int64_t count = 0;
    char err [256];
    assert_int_equal (secrets_rotate (creds, &count, err, sizeof err), 0);
    assert_int_equal (count, 3);            //  the two sealed rows and the state hash key
    assert_memory_not_equal (creds->key->id, old_id, sizeof old_id);
    assert_int_equal (s_count_key (creds->db, "source_oauth_tokens", old_id), 0);
    assert_int_equal (s_count_key (creds->db, "source_oauth_pending", old_id), 0);
    assert_int_equal (s_count_key (creds->db, "source_oauth_tokens", creds->key->id), 1);
    assert_int_equal (s_count_key (creds->db, "source_oauth_pending", creds->key->id), 1);
    //  every value opens under the new key, unchanged
    assert_int_equal (source_oauth_token (creds, "src-a", false, T0, out, lease, &wait),
                      SOURCE_OAUTH_ACCESS);
    assert_string_equal (out->access_token, "at-of-a-0123456789");
    assert_int_equal (source_oauth_token (creds, "src-a", true, T0, out, lease, &wait),
                      SOURCE_OAUTH_REFRESH);
    assert_string_equal (out->refresh_token, "rt-of-a-0123456789");
    assert_string_equal (out->client_secret, "csecret-src-a");
    assert_int_equal (source_oauth_take_pending (creds, p->state, T0, out), 0);
    assert_string_equal (out->verifier, s_verifier);
    assert_string_equal (out->client_secret, "csecret-src-p");
    //  and start-up recovery counts them as the loaded key's
    assert_int_equal (secrets_recover (creds, err, sizeof err), 0);
    //  a row under an unknown key is refused at start-up
    sqlite3_exec (creds->db, "UPDATE source_oauth_tokens SET key_id = x'0102030405060708' "
                  "WHERE source_id = 'src-a'", NULL, NULL, NULL);
    assert_int_equal (secrets_recover (creds, err, sizeof err), 2);
    source_oauth_destroy (&d);
    source_oauth_destroy (&p);
    source_oauth_destroy (&a);
    source_oauth_destroy (&out);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_pending_round_trip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_pending_cap, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_token_and_lease, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_boxes_bound_to_source_and_field, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_rotation_reseals, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
