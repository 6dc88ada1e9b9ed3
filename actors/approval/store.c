/*  store.c — the approval actor's database connection and the small tools
    every other file uses on it: transactions that bump the revision, ids,
    times, and encoding rows as msgpack maps.

    Opening applies any missing migration (as `mcpbox migrate` does), so
    the actor also starts on a fresh data directory.

    A change is BEGIN IMMEDIATE ... appr_commit: the commit bumps
    approval_revision in the same transaction, so the revision a reader sees
    always names committed state and only grows, across restarts too. After
    the commit the policy is reloaded and the effective view rebuilt; if the
    rebuild fails (out of memory) the view is marked stale and rebuilt on
    the next request for it.

    Not here: what the tables mean (reviews.c, requests.c, policy.c).
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include "approval.h"
#include "db.h"
#include "log.h"
#include "migrate.h"

int
appr_db_fail (approval_t *self, bus_err_t *err, const char *what)
{
    return db_fail (self->db, err, what);
}

sqlite3_stmt *
appr_prepare (approval_t *self, const char *sql, bus_err_t *err)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        appr_db_fail (self, err, "prepare");
        sqlite3_finalize (stmt);
        return NULL;
    }
    return stmt;
}

int
appr_bind (sqlite3_stmt *stmt, int index, const char *text)
{
    return text ? sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT)
                : sqlite3_bind_null (stmt, index);
}

void
appr_raw (msgw_t *w, const void *data, size_t size)
{
    msgpack_packer *pk = msgw_packer (w);
    if (size)
        pk->callback (pk->data, data, size);
}

void
appr_row_map (sqlite3_stmt *stmt, msgw_t *w)
{
    int columns = sqlite3_column_count (stmt);
    msgw_map (w, (size_t) columns);
    for (int i = 0; i < columns; i++) {
        msgw_str (w, sqlite3_column_name (stmt, i));
        switch (sqlite3_column_type (stmt, i)) {
            case SQLITE_INTEGER:
                msgw_int (w, sqlite3_column_int64 (stmt, i));
                break;
            case SQLITE_NULL:
                msgw_nil (w);
                break;
            default:
                msgw_strn (w, (const char *) sqlite3_column_text (stmt, i),
                           (size_t) sqlite3_column_bytes (stmt, i));
                break;
        }
    }
}

int
appr_rows (approval_t *self, sqlite3_stmt *stmt, msgw_t *w, size_t *count,
           bus_err_t *err)
{
    msgw_t *items = msgw_new ();
    if (!items)
        return bus_err_set (err, BUS_ERR_INTERNAL, "out of memory");
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        appr_row_map (stmt, items);
        n++;
    }
    if (rc != SQLITE_DONE) {
        msgw_destroy (&items);
        return appr_db_fail (self, err, "query");
    }
    msgw_array (w, n);
    appr_raw (w, msgw_data (items), msgw_size (items));
    msgw_destroy (&items);
    if (count)
        *count = n;
    return 0;
}

static int
s_exec (approval_t *self, const char *sql, bus_err_t *err)
{
    if (sqlite3_exec (self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return appr_db_fail (self, err, sql);
    return 0;
}

int
appr_begin (approval_t *self, bus_err_t *err)
{
    if (s_exec (self, "BEGIN IMMEDIATE", err))
        return -1;
    self->in_tx = true;
    return 0;
}

void
appr_rollback (approval_t *self)
{
    if (!sqlite3_get_autocommit (self->db))
        sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
    self->in_tx = false;
}

int
appr_savepoint (approval_t *self, bus_err_t *err)
{
    return s_exec (self, "SAVEPOINT one", err);
}

void
appr_release (approval_t *self, bool keep)
{
    if (!keep)
        sqlite3_exec (self->db, "ROLLBACK TO one", NULL, NULL, NULL);
    sqlite3_exec (self->db, "RELEASE one", NULL, NULL, NULL);
}

//  Reload what the committed state implies: policy, then the view.
static void
s_refresh (approval_t *self)
{
    bus_err_t err;
    policy_t policy;
    if (policy_load (self->db, &policy, &err) == 0)
        self->policy = policy;
    else
        log_error ("reloading the policy: %s", err.message);
    if (effective_rebuild (self->effective, self->db, &self->policy,
                           self->revision, &err) == 0)
        self->stale = false;
    else {
        self->stale = true;
        log_error ("rebuilding the approval view: %s", err.message);
    }
}

int
appr_commit (approval_t *self, bus_err_t *err)
{
    sqlite3_stmt *stmt = appr_prepare (self,
        "UPDATE approval_revision SET revision = revision + 1 WHERE id = 1"
        " RETURNING revision", err);
    if (!stmt) {
        appr_rollback (self);
        return -1;
    }
    int64_t revision = -1;
    if (sqlite3_step (stmt) == SQLITE_ROW)
        revision = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    if (revision < 0) {
        appr_db_fail (self, err, "bump revision");
        appr_rollback (self);
        return -1;
    }
    if (s_exec (self, "COMMIT", err)) {
        appr_rollback (self);
        return -1;
    }
    self->in_tx = false;
    self->revision = revision;
    s_refresh (self);
    return 0;
}

//  The approval tables exist and the revision row too.
static int
s_check_schema (approval_t *self, char *err, size_t errlen)
{
    static const char *tables [] = {
        "tool_reviews", "module_requests", "network_requests", "settings",
        "approval_revision", NULL
    };
    for (int i = 0; tables [i]; i++) {
        sqlite3_stmt *stmt = NULL;
        int rc = sqlite3_prepare_v2 (self->db, "SELECT 1 FROM sqlite_master"
                                     " WHERE type = 'table' AND name = ?", -1, &stmt, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_text (stmt, 1, tables [i], -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
            rc = sqlite3_step (stmt);
        sqlite3_finalize (stmt);
        if (rc == SQLITE_DONE) {
            snprintf (err, errlen, "database has no %s table: run `mcpbox migrate`",
                      tables [i]);
            return -1;
        }
        if (rc != SQLITE_ROW) {
            snprintf (err, errlen, "database: %s", sqlite3_errmsg (self->db));
            return -1;
        }
    }
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2 (self->db, "SELECT revision FROM approval_revision"
                                 " WHERE id = 1", -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW)
        self->revision = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    if (rc != SQLITE_ROW) {
        snprintf (err, errlen, "database: cannot read approval_revision");
        return -1;
    }
    return 0;
}

approval_t *
approval_new (const char *db_path, char *err, size_t errlen)
{
    if (sodium_init () < 0) {
        snprintf (err, errlen, "libsodium failed to initialise");
        return NULL;
    }
    approval_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->db = db_open (db_path, err, errlen);
    if (!self->db)
        goto fail;
    //  `mcpbox up` has migrated already; an actor started on its own (tests,
    //  a manual restart after an upgrade) brings the schema up to date the
    //  same way. Safe alongside other migrators: each migration is applied
    //  exactly once (common/migrate.c).
    int applied = 0;
    if (migrate_apply (self->db, mcpbox_migrations, mcpbox_migrations_count,
                       &applied, err, errlen))
        goto fail;
    if (applied)
        log_info ("database %s: applied %d migration(s)", db_path, applied);
    if (s_check_schema (self, err, errlen))
        goto fail;
    bus_err_t e;
    if (policy_load (self->db, &self->policy, &e)) {
        snprintf (err, errlen, "loading the policy: %s", e.message);
        goto fail;
    }
    self->effective = effective_new ();
    if (!self->effective
    ||  effective_rebuild (self->effective, self->db, &self->policy,
                           self->revision, &e)) {
        snprintf (err, errlen, "building the approval view: %s",
                  self->effective ? e.message : "out of memory");
        goto fail;
    }
    self->rate = rate_new (0);
    if (!self->rate) {
        snprintf (err, errlen, "out of memory");
        goto fail;
    }
    return self;
fail:
    approval_destroy (&self);
    return NULL;
}

void
approval_destroy (approval_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    approval_t *self = *self_p;
    if (self->db && self->in_tx)
        appr_rollback (self);
    effective_destroy (&self->effective);
    rate_destroy (&self->rate);
    db_close (&self->db);
    free (self);
    *self_p = NULL;
}
