/*  catchup.c — alerts for what was published while the actor was down.

    Events are notifications (section 4): one published while this actor
    is killed or restarting never reaches it. But the alerting activity
    (process.crashed, circuit.opened, logs.dropped, logs.pruned) is also a
    row of logkeeper's activity_log, whose ids only grow. The actor keeps
    the last id it examined (alert_cursor, written each tick it moves); at
    start it asks `logs activity.query` for each alerting type after that
    id, oldest first, and raises what the rules make of it. Crashes are
    asked from one crash-loop window back (rows up to the cursor only count
    again, alerts they would make were raised before the restart), so
    that the actor's own crashes, which always happen while it is down,
    still make a crash loop. Live events wait in the subscription until
    this is done; those it examined are then skipped by id.

    Bounded: CATCHUP_ROWS rows per type; beyond, the rest is skipped and
    reported (activity alerts.missed, error). Not caught up: tunnel.down
    (tunnel.status is not stored; tunnel.error is in the activity log) and
    a record logkeeper could not store (announced with id 0).
*/
#include <czmq.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "alerts.h"
#include "db.h"
#include "ids.h"
#include "json_msgpack.h"
#include "log.h"

#define CATCHUP_PAGE     50             //  rows per query (each <= ~35 KiB)
#define CATCHUP_ROWS     1000           //  rows per type at most
#define CATCHUP_TIMEOUT  5000           //  ms per query

static int64_t s_time_ms (const char *iso, int64_t fallback);

int
catchup_cursor_load (sqlite3 *db, int64_t *id, int64_t *updated_ms)
{
    sqlite3_stmt *stmt = NULL;
    bus_err_t err = { 0 };
    *id = 0;
    *updated_ms = 0;
    if (sqlite3_prepare_v2 (db, "SELECT last_activity_id, updated_at FROM alert_cursor"
                            " WHERE id = 1", -1, &stmt, NULL) != SQLITE_OK) {
        db_fail (db, &err, "alert_cursor");
        sqlite3_finalize (stmt);
        return -1;
    }
    int rc = sqlite3_step (stmt);
    int found = rc == SQLITE_ROW;
    if (found) {
        *id = sqlite3_column_int64 (stmt, 0);
        *updated_ms = s_time_ms ((const char *) sqlite3_column_text (stmt, 1), 0);
    }
    else
    if (rc != SQLITE_DONE) {
        db_fail (db, &err, "alert_cursor");
        found = -1;
    }
    sqlite3_finalize (stmt);
    return found;
}

int
catchup_cursor_save (sqlite3 *db, int64_t id)
{
    char now [IDS_TIME_LEN + 1];
    ids_now_iso (now);
    sqlite3_stmt *stmt = NULL;
    bus_err_t err = { 0 };
    if (sqlite3_prepare_v2 (db, "INSERT INTO alert_cursor (id, last_activity_id, updated_at)"
                            " VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                            " last_activity_id = excluded.last_activity_id,"
                            " updated_at = excluded.updated_at", -1, &stmt, NULL) != SQLITE_OK
    ||  (sqlite3_bind_int64 (stmt, 1, id), sqlite3_bind_text (stmt, 2, now, -1, SQLITE_STATIC),
         sqlite3_step (stmt) != SQLITE_DONE)) {
        db_fail (db, &err, "alert_cursor");
        sqlite3_finalize (stmt);
        return -1;
    }
    sqlite3_finalize (stmt);
    return 0;
}

//  "2026-12-06T05:00:00.000Z" as unix ms; fallback when it does not parse.
static int64_t
s_time_ms (const char *iso, int64_t fallback)
{
    struct tm tm = { 0 };
    int ms = 0;
    if (!iso || sscanf (iso, "%4d-%2d-%2dT%2d:%2d:%2d.%3d", &tm.tm_year, &tm.tm_mon,
                        &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6)
        return fallback;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm (&tm);
    return t < 0 ? fallback : (int64_t) t * 1000 + ms;
}

//  One page of activity.query; the reply as JSON, NULL (logged) on error.
static json_t *
s_query (service_t *service, json_t *request)
{
    msgw_t *w = msgw_new ();
    if (!w || msgw_json (w, request) != 0) {
        msgw_destroy (&w);
        return NULL;
    }
    bus_reply_t *reply = service_call (service, "logs", msgw_data (w), msgw_size (w),
                                       CATCHUP_TIMEOUT);
    msgw_destroy (&w);
    const char *why = NULL;
    msg_t *body = bus_reply_decode (reply, &why);
    bus_reply_destroy (&reply);
    json_t *out = NULL;
    if (!body)
        log_warn ("alerts catch-up: logkeeper's reply is malformed (%s)", why ? why : "?");
    else
    if (msg_error_code (body) != BUS_ERR_NONE)
        log_warn ("alerts catch-up: logkeeper answered: %s", msg_error_message (body));
    else
        out = json_from_msgpack (msg_root (body));
    msg_destroy (&body);
    return out;
}

//  Examine the rows of one type after `after` (or since since_ms), oldest
//  first; rows up to id `quiet` or before quiet_ms only feed the rules. -1 when logkeeper did
//  not answer (nothing is known), else 0; *seen the highest id examined.
static int
s_type (service_t *service, alerts_t *self, const char *type, int64_t after,
        int64_t since_ms, int64_t quiet, int64_t quiet_ms, int64_t *seen)
{
    int64_t cursor = after, examined = 0;
    while (true) {
        json_t *request = json_pack ("{s:s, s:s, s:s, s:i}", "op", "activity.query",
                                     "type", type, "order", "asc", "limit", CATCHUP_PAGE);
        if (request && cursor > 0)
            json_object_set_new (request, "cursor", json_integer (cursor));
        if (request && since_ms > 0)
            json_object_set_new (request, "since", json_integer (since_ms));
        json_t *page = request ? s_query (service, request) : NULL;
        json_decref (request);
        if (!page)
            return -1;
        json_t *rows = json_object_get (page, "activity"), *row;
        size_t i;
        json_array_foreach (rows, i, row) {
            json_t *id = json_object_get (row, "id");
            int64_t row_id = json_is_integer (id) ? json_integer_value (id) : 0;
            if (row_id <= cursor)
                continue;           //  ids only grow; a hostile reply cannot loop us
            cursor = row_id;
            examined++;
            alert_t alert;
            const char *at = json_string_value (json_object_get (row, "created_at"));
            int64_t at_ms = s_time_ms (at, ids_now_ms ());
            if (rules_activity (self->rules, row, at_ms, &alert)) {
                if (row_id > quiet && at_ms >= quiet_ms) {
                    self->alerts_raised++;
                    size_t queued = alerts_dispatch (self, &alert, NULL);
                    log_info ("alert %s (caught up, activity %lld): %s (to %zu hook(s))",
                              alert.name, (long long) row_id, alert.summary, queued);
                }
                alert_clear (&alert);
            }
        }
        bool more = json_is_integer (json_object_get (page, "next_cursor"));
        json_decref (page);
        if (cursor > *seen)
            *seen = cursor;
        if (!more)
            return 0;
        if (examined >= CATCHUP_ROWS) {
            char message [200], details [160];
            snprintf (message, sizeof message, "alerts catch-up stopped after %lld %s "
                      "record(s) recorded while the alerter was down: the rest were not "
                      "examined", (long long) examined, type);
            snprintf (details, sizeof details, "{\"type\":\"%s\",\"examined\":%lld}", type,
                      (long long) examined);
            log_error ("%s", message);
            service_activity (service, "alerts.missed", "error", NULL, message, details);
            return 0;
        }
    }
}

//  The newest activity id logkeeper holds; -1 when it did not answer.
static int64_t
s_newest (service_t *service)
{
    json_t *request = json_pack ("{s:s, s:s, s:i}", "op", "activity.query",
                                 "order", "desc", "limit", 1);
    json_t *page = request ? s_query (service, request) : NULL;
    json_decref (request);
    if (!page)
        return -1;
    json_t *id = json_object_get (json_array_get (json_object_get (page, "activity"), 0), "id");
    int64_t newest = json_is_integer (id) && json_integer_value (id) > 0
                   ? json_integer_value (id) : 0;
    json_decref (page);
    return newest;
}

void
alerts_catch_up (service_t *service, alerts_t *self)
{
    int64_t cursor = 0, updated_ms = 0;
    int found = catchup_cursor_load (self->db, &cursor, &updated_ms);
    int64_t newest = found < 0 ? -1 : s_newest (service);
    if (newest < 0) {
        log_warn ("alerts catch-up not done (the cursor or logkeeper could not be read): "
                  "what was published while the alerter was down may not be alerted");
        return;
    }
    if (found == 0) {
        //  first start: nothing recorded before it is alerted (the rules'
        //  after_id stays 0: the events waiting in the subscription are live)
        self->cursor = newest;
        if (catchup_cursor_save (self->db, newest) == 0)
            self->saved_cursor = newest;
        log_info ("alerts: first start, activity after id %lld will be examined",
                  (long long) newest);
        return;
    }
    //  A cursor past the newest row came from a forged event id (events are
    //  hostile): catch up by time instead, from when the cursor was last
    //  written (the alerter was up until then), with 2 s of margin
    int64_t since_ms = 0;
    if (cursor > newest) {
        log_warn ("alerts: the kept activity cursor %lld is past logkeeper's newest row "
                  "%lld (a forged event id?): catching up by time instead",
                  (long long) cursor, (long long) newest);
        cursor = 0;
        since_ms = updated_ms > 2000 ? updated_ms - 2000 : 1;
    }
    self->cursor = cursor;
    static const char *types [] = { "circuit.opened", "logs.dropped", "logs.pruned", NULL };
    int64_t seen = cursor;
    int failed = 0;
    //  crashes: from one window back, so that a loop spanning the restart counts
    failed |= s_type (service, self, "process.crashed", 0,
                      ids_now_ms () - self->crash_window_ms, cursor, since_ms, &seen);
    for (int i = 0; types [i]; i++)
        failed |= s_type (service, self, types [i], cursor, since_ms, cursor, 0, &seen);
    if (failed)
        log_warn ("alerts catch-up: logkeeper did not answer every query; what was "
                  "published while the alerter was down may not all be alerted");
    log_info ("alerts catch-up: activity after id %lld examined, up to %lld",
              (long long) cursor, (long long) (newest > seen ? newest : seen));
    //  every row up to newest was examined (or was not of an alerting type)
    if (!failed && newest > seen)
        seen = newest;
    self->cursor = seen > self->cursor ? seen : self->cursor;
    rules_set_after (self->rules, self->cursor);
    if (self->cursor != self->saved_cursor
    &&  catchup_cursor_save (self->db, self->cursor) == 0)
        self->saved_cursor = self->cursor;
}
