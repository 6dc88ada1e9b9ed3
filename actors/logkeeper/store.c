/*  store.c — logkeeper's connection, the batch insert, and the events that
    follow it.

    A batch is one BEGIN IMMEDIATE .. COMMIT: every record of it is written
    with INSERT OR IGNORE, so a record whose record_id is already there (a
    batch sent again because its acknowledgement was lost) changes nothing
    and is counted as a duplicate. Only after the commit are the new rows
    published, `exec.log` and `activity`, for live consumers (the
    dashboard's /ws): an event never announces a row that is not stored.

    Opening applies any missing migration (as `mcpbox migrate` does), so
    the actor also starts on a fresh data directory.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "db.h"
#include "json_msgpack.h"
#include "log.h"
#include "logkeeper.h"
#include "migrate.h"

static const char *s_insert_exec_sql =
    "INSERT OR IGNORE INTO execution_logs (record_id, source, tool_id, tool_name,"
    " server_id, server_name, request_id, client_name, session_id, input_args,"
    " result, stdout, error, duration_ms, success, is_test, executed_by,"
    " created_at, ingested_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,"
    " ?16, ?17, ?18, ?19)";

static const char *s_insert_activity_sql =
    "INSERT OR IGNORE INTO activity_log (record_id, source, type, level, server_id,"
    " message, details, created_at, ingested_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

logkeeper_t *
logkeeper_new (const char *db_path, const lk_config_t *config,
               const char *events_out, char *err, size_t errlen)
{
    if (sodium_init () < 0) {
        snprintf (err, errlen, "libsodium failed to initialise");
        return NULL;
    }
    logkeeper_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->config = *config;
    unsigned char nonce [8];
    randombytes_buf (nonce, sizeof nonce);
    sodium_bin2hex (self->nonce, sizeof self->nonce, nonce, sizeof nonce);
    self->db = db_open (db_path, err, errlen);
    if (!self->db)
        goto fail;
    int applied = 0;
    if (migrate_apply (self->db, mcpbox_migrations, mcpbox_migrations_count,
                       &applied, err, errlen))
        goto fail;
    if (applied)
        log_info ("database %s: applied %d migration(s)", db_path, applied);
    if (sqlite3_prepare_v2 (self->db, s_insert_exec_sql, -1, &self->insert_exec, NULL)
    ||  sqlite3_prepare_v2 (self->db, s_insert_activity_sql, -1, &self->insert_activity, NULL)) {
        snprintf (err, errlen, "database: %s", sqlite3_errmsg (self->db));
        goto fail;
    }
    if (events_out) {
        static const char *topics [] = { "approval.changed", NULL };
        self->sub = bus_sub_new (events_out, topics);
        if (!self->sub)
            log_warn ("cannot subscribe to %s: policy changes are learnt by polling only",
                      events_out);
    }
    int64_t now = zclock_mono ();
    self->policy_stale = true;
    self->prune_at = now + (int64_t) self->config.first_prune_s * 1000;
    return self;
fail:
    logkeeper_destroy (&self);
    return NULL;
}

void
logkeeper_destroy (logkeeper_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    logkeeper_t *self = *self_p;
    sqlite3_finalize (self->insert_exec);
    sqlite3_finalize (self->insert_activity);
    db_close (&self->db);
    bus_sub_destroy (&self->sub);
    free (self);
    *self_p = NULL;
}

//  --- rows as maps ----------------------------------------------------------------

//  A JSON text column as a map (or the text when it does not parse).
static void
s_json_column (msgw_t *w, const char *text, size_t len)
{
    json_t *value = json_loadb (text, len, JSON_ALLOW_NUL, NULL);
    msgw_t *inner = msgw_new ();
    if (value && msgw_json (inner, value) == 0)
        msgw_raw (w, msgw_data (inner), msgw_size (inner));
    else
        msgw_strn (w, text, len);
    msgw_destroy (&inner);
    json_decref (value);
}

void
store_row_map (sqlite3_stmt *stmt, msgw_t *w)
{
    int columns = sqlite3_column_count (stmt);
    msgw_map (w, (size_t) columns);
    for (int i = 0; i < columns; i++) {
        const char *name = sqlite3_column_name (stmt, i);
        msgw_str (w, name);
        int type = sqlite3_column_type (stmt, i);
        if (type == SQLITE_NULL)
            msgw_nil (w);
        else
        if (strcmp (name, "success") == 0 || strcmp (name, "is_test") == 0)
            msgw_bool (w, sqlite3_column_int (stmt, i) != 0);
        else
        if (type == SQLITE_INTEGER)
            msgw_int (w, sqlite3_column_int64 (stmt, i));
        else {
            const char *text = (const char *) sqlite3_column_text (stmt, i);
            size_t len = (size_t) sqlite3_column_bytes (stmt, i);
            if (strcmp (name, "input_args") == 0 || strcmp (name, "details") == 0)
                s_json_column (w, text, len);
            else
                msgw_strn (w, text, len);
        }
    }
}

//  --- events ------------------------------------------------------------------------

static void
s_publish_exec (service_t *service, sqlite3_int64 id, const lk_record_t *r)
{
    msgw_t *w = msgw_new ();
    msgw_map (w, 13);
    msgw_kv_int (w, "id", id);
    msgw_kv_str (w, "tool_id", r->tool_id);
    msgw_kv_str (w, "tool_name", r->tool_name);
    msgw_kv_str (w, "server_id", r->server_id);
    msgw_kv_str (w, "server_name", r->server_name);
    msgw_kv_str (w, "client_name", r->client_name);
    msgw_kv_bool (w, "success", r->success);
    msgw_kv_bool (w, "is_test", r->is_test);
    msgw_kv_int (w, "duration_ms", r->duration_ms);
    msgw_kv_str (w, "error", r->error);
    msgw_kv_str (w, "executed_by", r->executed_by);
    msgw_kv_str (w, "source", r->source);
    msgw_kv_str (w, "created_at", r->created_at);
    service_publish (service, "exec.log", w);
    msgw_destroy (&w);
}

static void
s_publish_activity (service_t *service, sqlite3_int64 id, const lk_record_t *r)
{
    msgw_t *w = msgw_new ();
    msgw_map (w, 8);
    msgw_kv_int (w, "id", id);
    msgw_kv_str (w, "type", r->type);
    msgw_kv_str (w, "level", r->level);
    msgw_kv_str (w, "server_id", r->server_id);
    msgw_kv_str (w, "message", r->message);
    msgw_str (w, "details");
    if (r->details)
        s_json_column (w, r->details, strlen (r->details));
    else
        msgw_nil (w);
    msgw_kv_str (w, "source", r->source);
    msgw_kv_str (w, "created_at", r->created_at);
    service_publish (service, "activity", w);
    msgw_destroy (&w);
}

//  --- the batch -----------------------------------------------------------------------

static void
s_bind (sqlite3_stmt *stmt, int index, const char *text)
{
    if (text)
        sqlite3_bind_text (stmt, index, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null (stmt, index);
}

//  1 inserted, 0 already there, -1 error.
static int
s_insert (logkeeper_t *self, const lk_record_t *r, const char *now)
{
    sqlite3_stmt *stmt = r->kind == LK_EXEC ? self->insert_exec : self->insert_activity;
    sqlite3_reset (stmt);
    sqlite3_clear_bindings (stmt);
    s_bind (stmt, 1, r->record_id);
    s_bind (stmt, 2, r->source);
    if (r->kind == LK_EXEC) {
        s_bind (stmt, 3, r->tool_id);
        s_bind (stmt, 4, r->tool_name);
        s_bind (stmt, 5, r->server_id);
        s_bind (stmt, 6, r->server_name);
        s_bind (stmt, 7, r->request_id);
        s_bind (stmt, 8, r->client_name);
        s_bind (stmt, 9, r->session_id);
        s_bind (stmt, 10, r->input_args);
        s_bind (stmt, 11, r->result);
        s_bind (stmt, 12, r->stdout_text);
        s_bind (stmt, 13, r->error);
        sqlite3_bind_int64 (stmt, 14, r->duration_ms);
        sqlite3_bind_int (stmt, 15, r->success ? 1 : 0);
        sqlite3_bind_int (stmt, 16, r->is_test ? 1 : 0);
        s_bind (stmt, 17, r->executed_by);
        s_bind (stmt, 18, r->created_at);
        s_bind (stmt, 19, now);
    }
    else {
        s_bind (stmt, 3, r->type);
        s_bind (stmt, 4, r->level);
        s_bind (stmt, 5, r->server_id);
        s_bind (stmt, 6, r->message);
        s_bind (stmt, 7, r->details);
        s_bind (stmt, 8, r->created_at);
        s_bind (stmt, 9, now);
    }
    int rc = sqlite3_step (stmt);
    int changed = sqlite3_changes (self->db);
    sqlite3_reset (stmt);
    if (rc != SQLITE_DONE) {
        log_error ("database: insert %s: %s", r->kind == LK_EXEC ? "exec" : "activity",
                   sqlite3_errmsg (self->db));
        return -1;
    }
    return changed > 0 ? 1 : 0;
}

int
store_ingest (logkeeper_t *self, service_t *service, lk_record_t *records,
              size_t count, size_t *accepted, size_t *duplicates)
{
    *accepted = *duplicates = 0;
    if (!count)
        return 0;
    char now [LK_TIME_LEN + 1];
    ids_time_iso (ids_now_ms (), now);
    sqlite3_int64 *ids = calloc (count, sizeof *ids);
    if (!ids)
        return -1;
    if (sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        log_error ("database: begin: %s", sqlite3_errmsg (self->db));
        free (ids);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        if (!records [i].kind)
            continue;                   //  refused when decoded
        int rc = s_insert (self, &records [i], now);
        if (rc < 0) {
            sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
            free (ids);
            return -1;
        }
        if (rc == 1)
            ids [i] = sqlite3_last_insert_rowid (self->db);
    }
    if (sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        log_error ("database: commit: %s", sqlite3_errmsg (self->db));
        sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
        free (ids);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        if (!records [i].kind)
            continue;
        if (!ids [i]) {
            (*duplicates)++;
            continue;
        }
        (*accepted)++;
        if (records [i].kind == LK_EXEC)
            s_publish_exec (service, ids [i], &records [i]);
        else
            s_publish_activity (service, ids [i], &records [i]);
    }
    free (ids);
    self->ingested += *accepted;
    self->duplicates += *duplicates;
    self->batches++;
    return 0;
}

void
store_own_activity (logkeeper_t *self, service_t *service, const char *type,
                    const char *level, const char *message, json_t *details)
{
    lk_record_t record = { .kind = LK_ACTIVITY };
    char rid [48], source [] = "mcpbox-logkeeper";
    snprintf (rid, sizeof rid, "%s-%llu", self->nonce,
              (unsigned long long) ++self->own_sequence);
    record.record_id = rid;
    record.source = source;
    record.type = (char *) type;
    record.level = (char *) level;
    record.message = (char *) message;
    record.details = details ? json_dumps (details, JSON_COMPACT) : NULL;
    ids_time_iso (ids_now_ms (), record.created_at);
    char now [LK_TIME_LEN + 1];
    memcpy (now, record.created_at, sizeof now);
    int rc = s_insert (self, &record, now);
    if (rc == 1)
        s_publish_activity (service, sqlite3_last_insert_rowid (self->db), &record);
    else {
        //  not stored (the database is failing, which is what such a
        //  record is usually about): still announced, with id 0, so the
        //  alerts actor hears of it
        log_error ("could not record activity '%s': %s", type, message);
        s_publish_activity (service, 0, &record);
    }
    free (record.details);
}
