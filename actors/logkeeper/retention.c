/*  retention.c — how long logs are kept, and pruning in small steps.

    The window is the security-policy setting log_retention_days (1-3650,
    default 30), owned by the approval actor. Logkeeper asks approval
    (`policy.get`) at start, again whenever `approval.changed` arrives on
    the event bus, and at least every policy_refresh_s as a backstop for a
    lost event. Until approval has answered once, nothing is pruned: a
    default must never delete what a longer, configured window keeps.

    A prune (first_prune_s after start, then every prune_every_s, or when
    the window is made shorter) fixes its cutoff once (now - days) and then
    deletes rows with created_at before it, execution_logs first, then
    activity_log, at most prune_batch rows per transaction. Between two
    transactions it returns to the service loop (one tick), so ingest and
    queries are served while a large prune runs. When both tables are done
    it writes one activity record `logs.pruned` with the counts.
*/
#include <stdio.h>
#include <string.h>
#include "log.h"
#include "logkeeper.h"

#define POLICY_TIMEOUT_MS   1000
#define POLICY_RETRY_MS     10000       //  approval did not answer

//  --- the policy ----------------------------------------------------------------------

static void
s_drain_events (logkeeper_t *self)
{
    if (!self->sub)
        return;
    for (int i = 0; i < 64; i++) {          //  bounded per tick
        char *topic = NULL;
        void *body = NULL;
        size_t size = 0;
        if (bus_sub_recv (self->sub, 0, &topic, &body, &size) != 0)
            break;
        if (topic && strcmp (topic, "approval.changed") == 0)
            self->policy_stale = true;
        free (topic);
        free (body);
    }
}

static void
s_refresh_policy (logkeeper_t *self, service_t *service)
{
    self->policy_stale = false;
    msgw_t *request = msgw_op_new ("policy.get");
    bus_reply_t *reply = service_call (service, "approval", msgw_data (request),
                                       msgw_size (request), POLICY_TIMEOUT_MS);
    msgw_destroy (&request);
    const char *why = NULL;
    msg_t *body = bus_reply_decode (reply, &why);
    int64_t days = 0;
    const msgpack_object *settings = NULL;
    bool ok = body && msg_is_ok (body)
           && msg_get_map (msg_root (body), "settings", &settings) == MSG_FIELD_OK
           && msg_get_int (settings, "log_retention_days", &days) == MSG_FIELD_OK
           && days >= 1 && days <= 3650;
    int64_t now = zclock_mono ();
    if (!ok) {
        log_warn ("log_retention_days not learnt from approval (%s); asking again in %d s",
                  body ? (msg_is_ok (body) ? "no valid setting"
                                           : bus_error_name (msg_error_code (body)))
                       : why, POLICY_RETRY_MS / 1000);
        self->policy_at = now + POLICY_RETRY_MS;
    }
    else {
        self->policy_at = now + (int64_t) self->config.policy_refresh_s * 1000;
        if (days != self->retention_days) {
            bool shorter = self->retention_days && days < self->retention_days;
            log_info ("log retention: %lld day(s)%s", (long long) days,
                      self->retention_days ? " (changed)" : "");
            self->retention_days = (int) days;
            //  a shorter window applies now, not at the next hourly run
            //  (but never before the first prune is due)
            if (shorter && !self->pruning && self->last_prune_at)
                self->prune_at = now;
        }
    }
    msg_destroy (&body);
    bus_reply_destroy (&reply);
}

//  --- pruning ----------------------------------------------------------------------------

//  One transaction of at most prune_batch rows from `table`. Rows deleted,
//  or -1.
static int64_t
s_delete_batch (logkeeper_t *self, const char *table)
{
    char sql [256];
    snprintf (sql, sizeof sql,
              "DELETE FROM %s WHERE id IN (SELECT id FROM %s WHERE created_at < ?1"
              " ORDER BY created_at LIMIT ?2)", table, table);
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        log_error ("database: prune: %s", sqlite3_errmsg (self->db));
        return -1;
    }
    sqlite3_bind_text (stmt, 1, self->prune_cutoff, -1, SQLITE_STATIC);
    sqlite3_bind_int (stmt, 2, self->config.prune_batch);
    int64_t deleted = -1;
    if (sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK) {
        if (sqlite3_step (stmt) == SQLITE_DONE) {
            deleted = sqlite3_changes (self->db);
            if (sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
                deleted = -1;
        }
        if (deleted < 0) {
            log_error ("database: prune %s: %s", table, sqlite3_errmsg (self->db));
            sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
        }
    }
    else
        log_error ("database: prune begin: %s", sqlite3_errmsg (self->db));
    sqlite3_finalize (stmt);
    return deleted;
}

static void
s_finish (logkeeper_t *self, service_t *service, bool failed)
{
    int64_t took = zclock_mono () - self->prune_started;
    int64_t total = self->pruned_exec + self->pruned_activity;
    char message [200];
    snprintf (message, sizeof message,
              "%s: %lld log row(s) older than %d day(s) deleted in %d batch(es)",
              failed ? "Retention prune stopped by a database error" : "Retention prune",
              (long long) total, self->retention_days, self->prune_batches);
    json_t *details = json_pack ("{s:I, s:I, s:I, s:i, s:i, s:s, s:I, s:i, s:b}",
        "deleted", (json_int_t) total,
        "execution_logs", (json_int_t) self->pruned_exec,
        "activity_log", (json_int_t) self->pruned_activity,
        "batches", self->prune_batches,
        "retention_days", self->retention_days,
        "cutoff", self->prune_cutoff,
        "duration_ms", (json_int_t) took,
        "batch_max", self->config.prune_batch,
        "failed", failed);
    store_own_activity (self, service, "logs.pruned", failed ? "error" : "info",
                        message, details);
    json_decref (details);
    log_info ("%s", message);
    self->pruning = false;
    self->last_prune_at = ids_now_ms ();
    self->last_pruned = total;
    self->prune_at = zclock_mono () + (int64_t) self->config.prune_every_s * 1000;
}

//  One step of the prune under way.
static void
s_prune_step (logkeeper_t *self, service_t *service)
{
    //  the phase: execution_logs until a short batch, then activity_log
    static const char *tables [] = { "execution_logs", "activity_log" };
    int phase = self->pruned_activity < 0 ? 0 : 1;
    int64_t deleted = s_delete_batch (self, tables [phase]);
    if (deleted < 0) {
        if (self->pruned_activity < 0)
            self->pruned_activity = 0;
        s_finish (self, service, true);
        return;
    }
    self->prune_batches++;
    if (phase == 0) {
        self->pruned_exec += deleted;
        if (deleted < self->config.prune_batch)
            self->pruned_activity = 0;      //  on to the activity log
    }
    else {
        self->pruned_activity += deleted;
        if (deleted < self->config.prune_batch)
            s_finish (self, service, false);
    }
}

int
retention_start (logkeeper_t *self, service_t *service)
{
    if (self->pruning)
        return 0;
    if (!self->retention_days) {
        if (service)
            s_refresh_policy (self, service);
        if (!self->retention_days)
            return -1;
    }
    ids_time_iso (ids_now_ms () - (int64_t) self->retention_days * 86400000LL,
                    self->prune_cutoff);
    self->pruning = true;
    self->prune_started = zclock_mono ();
    self->pruned_exec = 0;
    self->pruned_activity = -1;             //  -1: still on execution_logs
    self->prune_batches = 0;
    log_info ("retention prune: rows older than %s (%d day(s))", self->prune_cutoff,
              self->retention_days);
    return 0;
}

void
retention_tick (logkeeper_t *self, service_t *service)
{
    s_drain_events (self);
    int64_t now = zclock_mono ();
    if (self->policy_stale || now >= self->policy_at)
        s_refresh_policy (self, service);
    if (self->pruning)
        s_prune_step (self, service);
    else
    if (now >= self->prune_at) {
        if (retention_start (self, service) == 0)
            s_prune_step (self, service);
        else {
            log_warn ("retention prune skipped: log_retention_days is not known yet");
            self->prune_at = now + POLICY_RETRY_MS;
        }
    }
}

msgw_t *
retention_status (logkeeper_t *self)
{
    msgw_t *w = msgw_new ();
    msgw_map (w, 7);
    msgw_kv_bool (w, "ok", true);
    msgw_str (w, "retention_days");
    if (self->retention_days)
        msgw_int (w, self->retention_days);
    else
        msgw_nil (w);
    msgw_kv_bool (w, "pruning", self->pruning);
    int64_t left = self->prune_at - zclock_mono ();
    msgw_kv_int (w, "next_prune_in_ms", self->pruning ? 0 : left < 0 ? 0 : left);
    msgw_str (w, "last_prune_at");
    if (self->last_prune_at) {
        char when [LK_TIME_LEN + 1];
        ids_time_iso (self->last_prune_at, when);
        msgw_str (w, when);
    }
    else
        msgw_nil (w);
    msgw_kv_int (w, "last_pruned", self->last_pruned);
    msgw_str (w, "ingest");
    msgw_map (w, 4);
    msgw_kv_int (w, "rows", (int64_t) self->ingested);
    msgw_kv_int (w, "duplicates", (int64_t) self->duplicates);
    msgw_kv_int (w, "rejected", (int64_t) self->rejected);
    msgw_kv_int (w, "batches", (int64_t) self->batches);
    return w;
}
