/*  store.c — the registry's connection to the database and what every
    query shares: the schema check at start, a cache of prepared statements,
    transactions, the catalog revision, times, and the record types.

    One connection (common/db.c: WAL, foreign keys, busy timeout). Handlers
    run one at a time, so there is never more than one transaction open.
    Writes run inside BEGIN IMMEDIATE .. COMMIT: the write lock is taken up
    front, so a transaction never fails half-way for lack of it, and a crash
    at any point leaves either all of a change or none of it.

    Statements are prepared once and cached by the address of their SQL text
    (every query is a static string in store_servers.c / store_tools.c).
    Each use ends with store_done (sqlite3_reset), so no statement holds a
    read snapshot open between requests.

    Not here: the SQL of servers and tools (store_servers.c, store_tools.c).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "db.h"
#include "log.h"
#include "migrate.h"
#include "registry.h"

#define STMT_CACHE_MAX 64

struct _stmt_cache_t {
    struct {
        const char   *sql;      //  the static SQL text: the key
        sqlite3_stmt *stmt;     //  prepared once
    } entry [STMT_CACHE_MAX];
    size_t count;
};

//  --- records -------------------------------------------------------------

void
server_clear (server_t *self)
{
    free (self->description);
    memset (self, 0, sizeof *self);
}

void
tool_clear (tool_t *self)
{
    free (self->description);
    free (self->input_schema);
    free (self->python_code);
    free (self->title);
    free (self->output_schema);
    free (self->suggested_annotations);
    memset (self, 0, sizeof *self);
}

static char *
s_dup (const char *text, size_t len, bool *failed)
{
    if (!text)
        return NULL;
    char *copy = malloc (len + 1);
    if (!copy) {
        *failed = true;
        return NULL;
    }
    memcpy (copy, text, len);
    copy [len] = 0;
    return copy;
}

int
tool_copy (tool_t *dest, const tool_t *src)
{
    bool failed = false;
    *dest = *src;
    dest->description = s_dup (src->description,
                               src->description ? strlen (src->description) : 0, &failed);
    dest->input_schema = s_dup (src->input_schema,
                                src->input_schema ? strlen (src->input_schema) : 0, &failed);
    dest->python_code = s_dup (src->python_code, src->code_len, &failed);
    dest->title = s_dup (src->title, src->title ? strlen (src->title) : 0, &failed);
    dest->output_schema = s_dup (src->output_schema, src->output_schema
                                 ? strlen (src->output_schema) : 0, &failed);
    dest->suggested_annotations = s_dup (src->suggested_annotations,
                                         src->suggested_annotations
                                         ? strlen (src->suggested_annotations) : 0,
                                         &failed);
    if (failed) {
        tool_clear (dest);
        return -1;
    }
    return 0;
}

void
version_clear (version_t *self)
{
    free (self->description);
    free (self->python_code);
    free (self->input_schema);
    free (self->title);
    free (self->output_schema);
    free (self->suggested_annotations);
    free (self->change_summary);
    memset (self, 0, sizeof *self);
}

//  --- columns and times -------------------------------------------------------

void
store_col_copy (sqlite3_stmt *stmt, int col, char *buf, size_t size)
{
    const unsigned char *text = sqlite3_column_text (stmt, col);
    snprintf (buf, size, "%s", text ? (const char *) text : "");
}

char *
store_col_dup (sqlite3_stmt *stmt, int col, size_t *len)
{
    if (sqlite3_column_type (stmt, col) == SQLITE_NULL) {
        if (len)
            *len = 0;
        return NULL;
    }
    const unsigned char *text = sqlite3_column_text (stmt, col);
    size_t size = (size_t) sqlite3_column_bytes (stmt, col);
    char *copy = malloc (size + 1);
    if (!copy)
        abort ();                   //  as msgw_new: out of memory is fatal
    if (size)
        memcpy (copy, text, size);
    copy [size] = 0;
    if (len)
        *len = size;
    return copy;
}

void
store_bind_text (sqlite3_stmt *stmt, int col, const char *text)
{
    if (text)
        sqlite3_bind_text (stmt, col, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null (stmt, col);
}

char *
store_col_text (sqlite3_stmt *stmt, int col)
{
    char *text = store_col_dup (stmt, col, NULL);
    if (!text && !(text = strdup ("")))
        abort ();
    return text;
}

//  --- statements and transactions -------------------------------------------

int
store_fail (registry_t *self, bus_err_t *err, const char *what)
{
    return db_fail (self->db, err, what);
}

sqlite3_stmt *
store_stmt (registry_t *self, const char *sql, bus_err_t *err)
{
    stmt_cache_t *cache = self->stmts;
    for (size_t i = 0; i < cache->count; i++)
        if (cache->entry [i].sql == sql) {
            sqlite3_stmt *stmt = cache->entry [i].stmt;
            sqlite3_reset (stmt);
            sqlite3_clear_bindings (stmt);
            return stmt;
        }
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt,
                            NULL) != SQLITE_OK) {
        store_fail (self, err, "prepare");
        sqlite3_finalize (stmt);
        return NULL;
    }
    if (cache->count == STMT_CACHE_MAX) {
        //  more distinct statements than we wrote: a bug, but not a crash
        log_warn ("statement cache full; statements are re-prepared");
        sqlite3_finalize (cache->entry [0].stmt);
        memmove (&cache->entry [0], &cache->entry [1],
                 (STMT_CACHE_MAX - 1) * sizeof cache->entry [0]);
        cache->count--;
    }
    cache->entry [cache->count].sql = sql;
    cache->entry [cache->count].stmt = stmt;
    cache->count++;
    return stmt;
}

void
store_done (sqlite3_stmt *stmt)
{
    if (stmt)
        sqlite3_reset (stmt);
}

static int
s_exec (registry_t *self, const char *sql, bus_err_t *err)
{
    if (sqlite3_exec (self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return store_fail (self, err, sql);
    return 0;
}

int
store_begin (registry_t *self, bus_err_t *err)
{
    return s_exec (self, "BEGIN IMMEDIATE", err);
}

void
store_rollback (registry_t *self)
{
    //  some errors (SQLITE_FULL, some IOERR) end the transaction themselves
    if (!sqlite3_get_autocommit (self->db))
        sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
}

int
store_commit (registry_t *self, bus_err_t *err)
{
    if (s_exec (self, "COMMIT", err)) {
        store_rollback (self);
        return -1;
    }
    return 0;
}

static const char s_sql_bump [] =
    "UPDATE registry_revision SET revision = revision + 1 WHERE id = 1"
    " RETURNING revision";

int
store_bump_revision (registry_t *self, int64_t *revision, bus_err_t *err)
{
    sqlite3_stmt *stmt = store_stmt (self, s_sql_bump, err);
    if (!stmt)
        return -1;
    int rc = sqlite3_step (stmt);
    if (rc != SQLITE_ROW) {
        store_done (stmt);
        return store_fail (self, err, "bump the revision");
    }
    *revision = sqlite3_column_int64 (stmt, 0);
    //  step to the end so that the UPDATE is complete before the reset
    rc = sqlite3_step (stmt);
    store_done (stmt);
    if (rc != SQLITE_DONE)
        return store_fail (self, err, "bump the revision");
    return 0;
}

void
store_refresh_catalog (registry_t *self)
{
    bus_err_t err;
    if (catalog_rebuild (self->catalog, self->db, self->revision, &err) == 0)
        self->stale = false;
    else {
        self->stale = true;
        log_error ("catalog rebuild failed (%s); retrying on the next request",
                   err.message);
    }
}

//  --- open and close -----------------------------------------------------------

//  Our tables exist: every migration of REG_SCHEMA_MIGRATIONS is recorded.
//  The highest version alone is not enough: migrations are numbered, and a
//  database could hold a later one without ours (made before ours existed).
static int
s_schema_ready (sqlite3 *db, char *err, size_t errlen)
{
    static const int needed [] = REG_SCHEMA_MIGRATIONS;
    int version = migrate_version (db, err, errlen);
    if (version < 0)
        return -1;
    if (version < needed [0]) {
        snprintf (err, errlen, "the database schema is at version %d and the registry "
                  "needs %d: run `mcpbox migrate` first", version, REG_SCHEMA_VERSION);
        return -1;
    }
    for (size_t i = 0; i < sizeof needed / sizeof needed [0]; i++) {
        sqlite3_stmt *stmt = NULL;
        int rc = sqlite3_prepare_v2 (db, "SELECT 1 FROM schema_version WHERE version = ?",
                                     -1, &stmt, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int (stmt, 1, needed [i]);
        if (rc == SQLITE_OK)
            rc = sqlite3_step (stmt);
        sqlite3_finalize (stmt);
        if (rc == SQLITE_ROW)
            continue;
        if (rc == SQLITE_DONE)
            snprintf (err, errlen, "the database lacks migration %04d (the registry's "
                      "tables): run `mcpbox migrate` first", needed [i]);
        else
            snprintf (err, errlen, "cannot read schema_version: %s", sqlite3_errmsg (db));
        return -1;
    }
    return 0;
}

static int
s_load_revision (sqlite3 *db, int64_t *revision, char *err, size_t errlen)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2 (db, "SELECT revision FROM registry_revision"
                                 " WHERE id = 1", -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW)
        *revision = sqlite3_column_int64 (stmt, 0);
    else
        snprintf (err, errlen, "cannot read the catalog revision: %s",
                  rc == SQLITE_DONE ? "no row" : sqlite3_errmsg (db));
    sqlite3_finalize (stmt);
    return rc == SQLITE_ROW ? 0 : -1;
}

registry_t *
registry_new (const char *db_path, char *err, size_t errlen)
{
    registry_t *self = calloc (1, sizeof *self);
    if (!self || !(self->stmts = calloc (1, sizeof *self->stmts))) {
        snprintf (err, errlen, "out of memory");
        free (self);
        return NULL;
    }
    self->db = db_open (db_path, err, errlen);
    if (!self->db
    ||  s_schema_ready (self->db, err, errlen)
    ||  s_load_revision (self->db, &self->revision, err, errlen))
        goto fail;
    self->catalog = catalog_new ();
    bus_err_t rerr;
    if (catalog_rebuild (self->catalog, self->db, self->revision, &rerr)) {
        snprintf (err, errlen, "cannot build the catalog: %s", rerr.message);
        goto fail;
    }
    log_info ("catalog revision %lld: %zu callable tools", (long long) self->revision,
              catalog_count (self->catalog));
    return self;
fail:
    registry_destroy (&self);
    return NULL;
}

void
registry_destroy (registry_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    registry_t *self = *self_p;
    if (self->stmts) {
        for (size_t i = 0; i < self->stmts->count; i++)
            sqlite3_finalize (self->stmts->entry [i].stmt);
        free (self->stmts);
    }
    catalog_destroy (&self->catalog);
    db_close (&self->db);
    free (self);
    *self_p = NULL;
}
