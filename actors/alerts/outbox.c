/*  outbox.c — alert_outbox (sql/0016_alert_outbox.sql): deliveries that
    have not reached a final state, so that a kill or a restart of the
    actor loses none.

    A delivery is written before the sender queues it; the sender's thread
    never touches the database, it notes outcomes (sender_take_outcomes)
    which the tick writes here: a retry updates attempts and due_ms, a
    final state (delivered, a final status, out of attempts) deletes the
    row. At start what is left is queued again. The guarantee is
    at-least-once: a delivery answered 2xx just before a kill, whose row
    was not yet deleted, is sent again after the restart, with the same
    `id` in its body (the receiver's idempotency key).
*/
#include <czmq.h>
#include <stdio.h>
#include <string.h>
#include "alerts.h"
#include "db.h"
#include "ids.h"
#include "log.h"

static int
s_fail (sqlite3 *db, sqlite3_stmt *stmt, bus_err_t *err)
{
    db_fail (db, err, "alert_outbox");    //  before finalize resets the error
    sqlite3_finalize (stmt);
    return -1;
}

int
outbox_add (sqlite3 *db, const char *id, const char *hook_id, const char *body,
            bus_err_t *err)
{
    char now [IDS_TIME_LEN + 1];
    ids_now_iso (now);
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2 (db, "INSERT INTO alert_outbox (id, hook_id, body, attempts,"
                            " due_ms, created_at) VALUES (?, ?, ?, 0, ?, ?)", -1, &stmt,
                            NULL) != SQLITE_OK)
        return s_fail (db, stmt, err);
    sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, hook_id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, body, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 4, ids_now_ms ());
    sqlite3_bind_text (stmt, 5, now, -1, SQLITE_STATIC);
    if (sqlite3_step (stmt) != SQLITE_DONE)
        return s_fail (db, stmt, err);
    sqlite3_finalize (stmt);
    return 0;
}

void
outbox_apply (sqlite3 *db, const sender_outcome_t *outcomes, size_t count)
{
    if (!count)
        return;
    sqlite3_stmt *del = NULL, *upd = NULL;
    bus_err_t err = { 0 };
    bool begun = sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK;
    if (sqlite3_prepare_v2 (db, "DELETE FROM alert_outbox WHERE id = ?", -1, &del,
                            NULL) != SQLITE_OK
    ||  sqlite3_prepare_v2 (db, "UPDATE alert_outbox SET attempts = ?, due_ms = ?"
                            " WHERE id = ?", -1, &upd, NULL) != SQLITE_OK) {
        db_fail (db, &err, "alert_outbox");
        log_error ("alert outbox not updated: %s (a delivery may be sent again after a "
                   "restart)", err.message);
        sqlite3_finalize (del);
        sqlite3_finalize (upd);
        if (begun)
            sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        const sender_outcome_t *o = &outcomes [i];
        sqlite3_stmt *stmt = o->final ? del : upd;
        if (o->final)
            sqlite3_bind_text (del, 1, o->id, -1, SQLITE_STATIC);
        else {
            sqlite3_bind_int (upd, 1, o->attempts);
            sqlite3_bind_int64 (upd, 2, o->due_ms);
            sqlite3_bind_text (upd, 3, o->id, -1, SQLITE_STATIC);
        }
        if (sqlite3_step (stmt) != SQLITE_DONE) {
            db_fail (db, &err, "alert_outbox");
            log_error ("alert outbox row %s not updated: %s (it may be sent again after a "
                       "restart)", o->id, err.message);
        }
        sqlite3_reset (stmt);
        sqlite3_clear_bindings (stmt);
    }
    sqlite3_finalize (del);
    sqlite3_finalize (upd);
    if (begun && sqlite3_exec (db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        db_fail (db, &err, "alert_outbox");
        log_error ("alert outbox not committed: %s", err.message);
        sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
    }
}

static void
s_delete (sqlite3 *db, const char *id)
{
    sqlite3_stmt *stmt = NULL;
    bus_err_t err = { 0 };
    if (sqlite3_prepare_v2 (db, "DELETE FROM alert_outbox WHERE id = ?", -1, &stmt,
                            NULL) != SQLITE_OK) {
        s_fail (db, stmt, &err);
        log_error ("alert outbox: %s", err.message);
        return;
    }
    sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step (stmt) != SQLITE_DONE) {
        s_fail (db, stmt, &err);
        log_error ("alert outbox: %s", err.message);
        return;
    }
    sqlite3_finalize (stmt);
}

size_t
outbox_resume (sqlite3 *db, sender_t *sender, int queue_max)
{
    sqlite3_stmt *stmt = NULL;
    bus_err_t err = { 0 };
    if (sqlite3_prepare_v2 (db, "SELECT o.id, o.hook_id, h.url, o.body, o.attempts, o.due_ms"
                            " FROM alert_outbox o LEFT JOIN alert_hooks h ON h.id = o.hook_id"
                            " ORDER BY o.created_at, o.id", -1, &stmt, NULL) != SQLITE_OK) {
        s_fail (db, stmt, &err);
        log_error ("alert outbox not read: %s", err.message);
        return 0;
    }
    //  the rows to delete are gathered first: no write while the read runs
    zlist_t *gone = zlist_new ();
    zlist_autofree (gone);
    size_t queued = 0;
    uint64_t dropped = 0, failed = 0;
    int64_t now = ids_now_ms ();
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        const char *id = (const char *) sqlite3_column_text (stmt, 0);
        const char *hook_id = (const char *) sqlite3_column_text (stmt, 1);
        const char *url = (const char *) sqlite3_column_text (stmt, 2);
        const char *body = (const char *) sqlite3_column_text (stmt, 3);
        int attempts = sqlite3_column_int (stmt, 4);
        int64_t due = sqlite3_column_int64 (stmt, 5);
        if (!id || !hook_id || !body)
            continue;
        if (!url) {
            log_warn ("alert delivery %s not sent: its hook %s was removed", id, hook_id);
            failed++;
            zlist_append (gone, (void *) id);
        }
        else
        if (queued >= (size_t) queue_max
        ||  sender_post (sender, id, hook_id, url, body, attempts, due - now) != 0) {
            //  alerts_queue_max was lowered since: beyond it, dropped as at the queue
            if (queued >= (size_t) queue_max)
                dropped++;
            zlist_append (gone, (void *) id);
        }
        else
            queued++;
    }
    if (rc != SQLITE_DONE) {
        db_fail (db, &err, "alert_outbox");
        log_error ("alert outbox not read whole: %s", err.message);
    }
    sqlite3_finalize (stmt);
    for (char *id = zlist_first (gone); id; id = zlist_next (gone))
        s_delete (db, id);
    zlist_destroy (&gone);
    if (dropped || failed)
        sender_count_lost (sender, dropped, failed);
    if (queued)
        log_info ("alert outbox: %zu pending delivery(ies) queued again", queued);
    return queued;
}
