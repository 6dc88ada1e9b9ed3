/*  creds.c — open and close the credentials actor's state (creds.h): the
    database (its schema checked), the master key with rotation recovery,
    the hash pool and the dummy hash; the op table; periodic pruning.
*/
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "creds.h"
#include "db.h"
#include "hash_pool.h"
#include "log.h"
#include "login_limits.h"
#include "migrate.h"
#include "oauth.h"
#include "sessions.h"
#include "source_oauth.h"

#define S_SCHEMA_VERSION 13     //  0008: remote_tokens, 0009: oauth, 0013: source oauth
#define S_HASH_THREADS   2

creds_limits_t creds_configured_limits;

extern const service_op_t creds_secret_ops [];
extern const service_op_t creds_auth_ops [];
extern const service_op_t creds_remote_ops [];
extern const service_op_t creds_export_ops [];
extern const service_op_t creds_oauth_ops [];
extern const service_op_t creds_source_oauth_ops [];

int64_t
creds_now (void)
{
    return (int64_t) time (NULL);
}

const service_op_t *
creds_ops (void)
{
    static service_op_t table [64];
    if (!table [0].op) {
        const service_op_t *parts [] = { creds_secret_ops, creds_auth_ops, creds_remote_ops,
                                         creds_export_ops, creds_oauth_ops,
                                         creds_source_oauth_ops };
        size_t n = 0;
        for (size_t i = 0; i < sizeof parts / sizeof parts [0]; i++)
            for (const service_op_t *op = parts [i]; op->op && n + 1 < 64; op++)
                table [n++] = *op;
    }
    return table;
}

static int
s_schema_ready (sqlite3 *db, char *err, size_t errlen)
{
    int version = migrate_version (db, err, errlen);
    if (version < 0)
        return -1;
    if (version < S_SCHEMA_VERSION) {
        snprintf (err, errlen, "the database schema is at version %d and credentials "
                  "needs %d: run `mcpbox migrate` first", version, S_SCHEMA_VERSION);
        return -1;
    }
    return 0;
}

creds_t *
creds_new (const paths_t *paths, int *rc_p, char *err, size_t errlen)
{
    *rc_p = -1;
    creds_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->limits = creds_configured_limits;
    int rc = -1;
    bool config_error = false;
    self->db = db_open (paths->db_path, err, errlen);
    if (!self->db || s_schema_ready (self->db, err, errlen))
        goto fail;
    self->key = master_key_load (paths, &config_error, err, errlen);
    if (!self->key) {
        rc = config_error ? 2 : -1;
        goto fail;
    }
    if ((rc = secrets_recover (self, err, errlen)) != 0)
        goto fail;
    rc = -1;
    self->pool = hash_pool_new (S_HASH_THREADS, (uint64_t) self->limits.hash_ops,
                                (size_t) self->limits.hash_mem);
    if (!self->pool) {
        snprintf (err, errlen, "cannot start the hashing threads");
        goto fail;
    }
    //  unknown usernames are checked against this, so they cost the same
    char random_password [33];
    uint8_t raw [16];
    randombytes_buf (raw, sizeof raw);
    sodium_bin2hex (random_password, sizeof random_password, raw, sizeof raw);
    int64_t start = zclock_usecs ();
    if (hash_pool_make_now (self->pool, random_password, self->dummy_hash) != 0) {
        snprintf (err, errlen, "cannot hash (memory limit %lld bytes too high?)",
                  (long long) self->limits.hash_mem);
        goto fail;
    }
    log_info ("Argon2id (ops %lld, memory %lld MiB): %lld ms per hash",
              (long long) self->limits.hash_ops, (long long) (self->limits.hash_mem >> 20),
              (long long) ((zclock_usecs () - start) / 1000));
    *rc_p = 0;
    return self;
fail:
    creds_destroy (&self);
    *rc_p = rc;
    return NULL;
}

void
creds_destroy (creds_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    creds_t *self = *self_p;
    hash_pool_destroy (&self->pool);
    master_key_destroy (&self->key);
    db_close (&self->db);
    sodium_memzero (self->token_key, sizeof self->token_key);
    free (self);
    *self_p = NULL;
}

void
creds_tick (service_t *service, void *state)
{
    (void) service;
    creds_t *self = state;
    login_limits_prune (self);
    session_prune (self);
    oauth_prune (self);
    if (source_oauth_prune (self, source_oauth_now_ms ()) < 0)
        log_warn ("cannot prune expired source authorizations: %s", sqlite3_errmsg (self->db));
}
