/*  alerts.h — the alerts actor's internals, shared by its files.

    The actor turns a few events of the event bus into webhook alerts
    (docs/DESIGN.md, section 16). Its files, one concern each:

        main.c      process wiring: options, database, the subscription
        ops.c       the op table (hook.add/list/remove/test, stats) and the
                    tick that drains events and reports losses
        store.c     alert_hooks (sql/0010_alerts.sql): add, list, remove
        rules.c     which events are alerts (crash loops counted here), and
                    the bodies in the three formats, redacted
        outbox.c    alert_outbox (sql/0016_alert_outbox.sql): every delivery
                    is written before it is queued and deleted at its final
                    state; what is left is queued again at start
        catchup.c   alert_cursor (sql/0017_alert_cursor.sql): at start, the
                    alerting activity logkeeper recorded while the actor
                    was down
        sender.c    the bounded asynchronous sender (libcurl multi on its
                    own thread): retries with exponential backoff, a capped
                    queue whose overflow is counted

    Alerts are names: process.crash_loop, circuit.opened, tunnel.down,
    logs.lost, retention.failed, and alert.test (sent by hook.test only).
*/
#ifndef MCPBOX_ALERTS_H
#define MCPBOX_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <sqlite3.h>
#include "bus.h"
#include "bus_errors.h"
#include "service.h"

#define ALERT_URL_MAX       2048
#define ALERT_EVENTS_MAX    512
#define ALERT_ID_LEN        36
#define ALERT_NAME_MAX      32
#define ALERT_SUMMARY_MAX   512
#define ALERT_FACT_TEXT_MAX 128         //  one text fact, bytes
#define ALERT_FACTS_MAX     16          //  facts per alert
#define ALERT_DISCORD_MAX   1900        //  Discord's content is <= 2000

//  --- rules.c ---------------------------------------------------------------

typedef struct {
    char    name [ALERT_NAME_MAX];      //  "process.crash_loop"…
    char    level [8];                  //  "error" | "warning" | "info"
    char    summary [ALERT_SUMMARY_MAX];
    json_t *facts;                      //  whitelisted scalars (owned)
    int64_t event_id;                   //  the activity record's id, 0 none
} alert_t;

typedef struct _rules_t rules_t;

//  A crash loop: crash_count crashes of one process within window_ms.
rules_t *rules_new (int crash_count, int window_ms);
void     rules_destroy (rules_t **self_p);
//  An event (topic, msgpack body, hostile): 1 and *alert filled when it is
//  an alert, 0 when not (or malformed).
int      rules_event (rules_t *self, const char *topic, const void *body,
                      size_t size, int64_t now_ms, alert_t *alert);
//  The same for one activity record as logkeeper's activity.query gives
//  it (the catch-up); now_ms: when it was recorded.
int      rules_activity (rules_t *self, const json_t *record, int64_t now_ms,
                         alert_t *alert);
//  Activity events with an id in 1..after_id were examined already (by the
//  catch-up, or before a restart): rules_event ignores them.
void     rules_set_after (rules_t *self, int64_t after_id);
void     alert_clear (alert_t *alert);
//  True for a known alert name (alert.test included).
bool     alert_name_valid (const char *name, size_t len);
//  True for json, slack, discord.
bool     alert_format_valid (const char *format);
//  The request body for a format: JSON text (caller frees), redacted
//  (common/log_redact.h) and bounded; NULL when out of memory.
//  id: the delivery's id, in the json format's `id` (the receiver's
//  idempotency key: a delivery may arrive twice, never with two ids).
char    *alert_render (const alert_t *alert, const char *format, const char *id,
                       const char *time_iso);
//  Does an events list ("*" or "a,b") include name?
bool     alert_events_match (const char *events, const char *name);

//  --- store.c ---------------------------------------------------------------

typedef struct {
    char id [ALERT_ID_LEN + 1];
    char url [ALERT_URL_MAX + 1];
    char format [8];
    char events [ALERT_EVENTS_MAX + 1];
    char created_at [32];
    char created_by [65];
} hook_t;

//  Check a webhook URL (NUL-terminated, len bytes): http or https, a host, no user:password, no
//  fragment, printable ASCII, bounded. 0, or -1 + err (bad_request).
int  store_url_check (const char *url, size_t len, bus_err_t *err);
//  The URL as shown: scheme://host[:port]/ plus at most 8 characters of
//  the path and "…" (a webhook URL's path is its secret).
void store_url_display (const char *url, char *out, size_t size);
int  store_add (sqlite3 *db, const hook_t *hook, bus_err_t *err);
int  store_remove (sqlite3 *db, const char *id, bus_err_t *err);
//  Every hook, oldest first, into a new array (*count); -1 + err.
int  store_list (sqlite3 *db, hook_t **hooks, size_t *count, bus_err_t *err);

//  --- sender.c --------------------------------------------------------------

typedef struct {
    int queue_max;                  //  deliveries held (in flight included)
    int attempts;                   //  per delivery
    int retry_base_ms;              //  first retry after this, doubling
    int retry_max_ms;               //  backoff cap
    int timeout_ms;                 //  one attempt
} sender_config_t;

typedef struct {
    uint64_t sent, failed, retries, dropped;
    size_t   queued, queue_max;
} sender_stats_t;

typedef struct {
    uint64_t sent, failed;
    long     last_status;           //  HTTP status of the last attempt, 0 none
    char     last_error [128];      //  "" none
} hook_stats_t;

typedef struct _sender_t sender_t;

//  What an outbox row must become: final (delete it), or a retry's state.
typedef struct {
    char    id [ALERT_ID_LEN + 1];
    bool    final;
    int     attempts;
    int64_t due_ms;                 //  unix ms of the next attempt
} sender_outcome_t;

sender_t *sender_new (const sender_config_t *config);
//  Stops the thread; deliveries still held stay in the outbox.
void      sender_destroy (sender_t **self_p);
//  Queue one POST of body to url for hook_id, delivery id (its outbox row;
//  NULL for none), attempts already made, first attempt in delay_ms. 0
//  queued; -1 when the queue is full (dropped and counted).
int       sender_post (sender_t *self, const char *id, const char *hook_id,
                       const char *url, const char *body, int attempts,
                       int64_t delay_ms);
//  The outcomes noted since the last call (caller frees the array).
size_t    sender_take_outcomes (sender_t *self, sender_outcome_t **outcomes);
//  Count drops and failures found outside the queue (the outbox at start).
void      sender_count_lost (sender_t *self, uint64_t dropped, uint64_t failed);
void      sender_stats (sender_t *self, sender_stats_t *stats);
void      sender_hook_stats (sender_t *self, const char *hook_id, hook_stats_t *stats);
//  Drops and failures not yet reported as activity; resets them.
void      sender_take_unreported (sender_t *self, uint64_t *dropped, uint64_t *failed);

//  --- outbox.c (sql/0016_alert_outbox.sql) ----------------------------------

//  Write a delivery before it is queued. -1 + err.
int  outbox_add (sqlite3 *db, const char *id, const char *hook_id, const char *body,
                 bus_err_t *err);
//  Write what the sender noted (deletes and retries), in one transaction.
void outbox_apply (sqlite3 *db, const sender_outcome_t *outcomes, size_t count);
//  At start: queue again every row (oldest first, at most the queue's room);
//  a row beyond it is deleted and counted dropped, a row whose hook was
//  removed is deleted and counted failed. The number queued.
size_t outbox_resume (sqlite3 *db, sender_t *sender, int queue_max);

//  --- catchup.c (sql/0017_alert_cursor.sql) ---------------------------------

struct _alerts_t;

//  The last activity id examined (the cursor) and when it was written
//  (unix ms): 1, 0 none kept, -1.
int  catchup_cursor_load (sqlite3 *db, int64_t *id, int64_t *updated_ms);
int  catchup_cursor_save (sqlite3 *db, int64_t id);
//  Ask logkeeper for the alerting activity recorded after the cursor (and
//  the crashes of the last crash-loop window, to count them again) and
//  raise what it holds. Bounded; what is beyond the bound is reported.
void alerts_catch_up (service_t *service, struct _alerts_t *self);

//  --- ops.c ------------------------------------------------------------------

typedef struct _alerts_t {
    sqlite3   *db;
    rules_t   *rules;
    int64_t    cursor, saved_cursor;  //  last activity id examined; as kept
    int64_t    opened_at;             //  zclock_mono
    int        crash_window_ms;
    bool       caught_up;
    sender_t  *sender;
    bus_sub_t *sub;                 //  activity, tunnel.status; NULL if none
    uint64_t   events_seen, alerts_raised;
} alerts_t;

extern const service_op_t alerts_ops [];
//  Drain the subscription, raise alerts, report losses (the tick).
void alerts_tick (service_t *service, alerts_t *self);
//  Hand one alert to every hook whose events include it (or to only_id).
size_t alerts_dispatch (alerts_t *self, const alert_t *alert, const char *only_id);

#endif
