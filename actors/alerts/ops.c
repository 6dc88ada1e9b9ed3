/*  ops.c — the alerts actor's interface (alerts_ops, at the bottom) and its
    tick. docs/BUS_OPS.md (section alerts) is the contract.

    Only the admin sets webhooks: these ops are asked over the local bus by
    `mcpbox alerts` and by the gateway for the admin's /api/alerts (session
    and CSRF, api_alerts.c); no management tool and no remote caller
    reaches them.
*/
#include <czmq.h>
#include <stdio.h>
#include <string.h>
#include "alerts.h"
#include "fields.h"
#include "ids.h"
#include "log.h"

#define HOOKS_MAX        32             //  webhooks at most
#define EVENTS_PER_TICK  256            //  events drained per tick
#define CATCHUP_DELAY_MS 1000           //  after start, before the catch-up

static void
s_error (msgw_t **reply, const bus_err_t *err)
{
    *reply = msgw_error_new (err->code ? err->code : BUS_ERR_INTERNAL,
                             err->message [0] ? err->message : "internal error");
}

size_t
alerts_dispatch (alerts_t *self, const alert_t *alert, const char *only_id)
{
    hook_t *hooks = NULL;
    size_t count = 0, queued = 0;
    bus_err_t err = { 0 };
    if (store_list (self->db, &hooks, &count, &err)) {
        log_error ("alert %s not sent: %s", alert->name, err.message);
        return 0;
    }
    char now [IDS_TIME_LEN + 1];
    ids_now_iso (now);
    for (size_t i = 0; i < count; i++) {
        const hook_t *hook = &hooks [i];
        if (only_id ? !streq (hook->id, only_id) : !alert_events_match (hook->events, alert->name))
            continue;
        char id [IDS_UUID_LEN + 1];
        char *body = ids_uuid4 (id) == 0 ? alert_render (alert, hook->format, id, now) : NULL;
        if (!body) {
            log_error ("alert %s: out of memory", alert->name);
            continue;
        }
        //  written before it is queued: a kill from here on loses nothing;
        //  if the database refuses, it is still sent (only not durable)
        bool durable = outbox_add (self->db, id, hook->id, body, &err) == 0;
        if (!durable)
            log_error ("alert %s to hook %s not kept in the outbox: %s", alert->name,
                       hook->id, err.message);
        if (sender_post (self->sender, durable ? id : NULL, hook->id, hook->url, body,
                         0, 0) == 0)
            queued++;
        else
        if (durable) {
            //  dropped (counted by the sender): its row goes too
            sender_outcome_t gone = { .final = true };
            snprintf (gone.id, sizeof gone.id, "%s", id);
            outbox_apply (self->db, &gone, 1);
        }
        free (body);
    }
    free (hooks);
    return queued;
}

void
alerts_tick (service_t *service, alerts_t *self)
{
    //  catch up first (catchup.c); live events wait in the subscription,
    //  which has had CATCHUP_DELAY_MS to join: nothing falls between
    if (!self->caught_up && zclock_mono () - self->opened_at >= CATCHUP_DELAY_MS) {
        alerts_catch_up (service, self);
        self->caught_up = true;
    }
    for (int i = 0; self->caught_up && self->sub && i < EVENTS_PER_TICK; i++) {
        char *topic = NULL;
        void *body = NULL;
        size_t size = 0;
        if (bus_sub_recv (self->sub, 0, &topic, &body, &size) != 0)
            break;
        self->events_seen++;
        alert_t alert;
        //  wall clock: the catch-up times records by their created_at
        int raised = rules_event (self->rules, topic, body, size, ids_now_ms (), &alert);
        if (alert.event_id > self->cursor)
            self->cursor = alert.event_id;
        if (raised) {
            self->alerts_raised++;
            size_t queued = alerts_dispatch (self, &alert, NULL);
            log_info ("alert %s: %s (to %zu hook(s))", alert.name, alert.summary, queued);
            alert_clear (&alert);
        }
        free (topic);
        free (body);
    }
    if (self->cursor != self->saved_cursor
    &&  catchup_cursor_save (self->db, self->cursor) == 0)
        self->saved_cursor = self->cursor;
    sender_outcome_t *outcomes = NULL;
    size_t count = sender_take_outcomes (self->sender, &outcomes);
    outbox_apply (self->db, outcomes, count);
    free (outcomes);
    uint64_t dropped, failed;
    sender_take_unreported (self->sender, &dropped, &failed);
    char message [160];
    if (dropped) {
        snprintf (message, sizeof message, "%llu alert delivery(ies) dropped: the queue "
                  "was full", (unsigned long long) dropped);
        char details [64];
        snprintf (details, sizeof details, "{\"dropped\":%llu}", (unsigned long long) dropped);
        service_activity (service, "alerts.dropped", "error", NULL, message, details);
    }
    if (failed) {
        snprintf (message, sizeof message, "%llu alert delivery(ies) failed after every "
                  "attempt", (unsigned long long) failed);
        char details [64];
        snprintf (details, sizeof details, "{\"failed\":%llu}", (unsigned long long) failed);
        service_activity (service, "alerts.failed", "warning", NULL, message, details);
    }
}

//  hook.add {url*, format*, events [names], created_by}
static void
s_hook_add (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    alerts_t *self = state;
    const msgpack_object *root = msg_root (request);
    bus_err_t err = { 0 };
    hook_t hook = { 0 };
    const char *url = NULL;
    size_t url_len = 0;
    static const char *const formats [] = { "json", "slack", "discord", NULL };
    const char *format = NULL;
    if (field_str (root, "url", true, ALERT_URL_MAX, 0, &url, &url_len, &err)
    ||  (memcpy (hook.url, url, url_len), store_url_check (hook.url, url_len, &err))
    ||  field_enum (root, "format", formats, &format, &err) < 0
    ||  field_text (root, "created_by", false, sizeof hook.created_by - 1, true,
                    hook.created_by, &err) < 0) {
        s_error (reply, &err);
        return;
    }
    if (!format) {
        bus_err_set (&err, BUS_ERR_BAD_REQUEST, "format: json, slack or discord");
        s_error (reply, &err);
        return;
    }
    if (!hook.created_by [0])
        snprintf (hook.created_by, sizeof hook.created_by, "admin");
    snprintf (hook.format, sizeof hook.format, "%s", format);
    const msgpack_object *events = msg_map_get (root, "events");
    size_t used = 0;
    if (events && events->type != MSGPACK_OBJECT_NIL) {
        if (events->type != MSGPACK_OBJECT_ARRAY || events->via.array.size > 8) {
            bus_err_set (&err, BUS_ERR_BAD_REQUEST, "events: a list of at most 8 alert names");
            s_error (reply, &err);
            return;
        }
        for (uint32_t i = 0; i < events->via.array.size; i++) {
            const msgpack_object *name = &events->via.array.ptr [i];
            if (name->type != MSGPACK_OBJECT_STR
            ||  !alert_name_valid (name->via.str.ptr, name->via.str.size)) {
                bus_err_set (&err, BUS_ERR_BAD_REQUEST, "events: each one of "
                             "process.crash_loop, circuit.opened, tunnel.down, logs.lost, "
                             "retention.failed, alert.test");
                s_error (reply, &err);
                return;
            }
            used += (size_t) snprintf (hook.events + used, sizeof hook.events - used, "%s%.*s",
                                       used ? "," : "", (int) name->via.str.size,
                                       name->via.str.ptr);
        }
    }
    if (!used)
        snprintf (hook.events, sizeof hook.events, "*");
    hook_t *hooks = NULL;
    size_t count = 0;
    if (store_list (self->db, &hooks, &count, &err)) {
        s_error (reply, &err);
        return;
    }
    free (hooks);
    if (count >= HOOKS_MAX) {
        bus_err_set (&err, BUS_ERR_CONFLICT, "at most %d alert hooks", HOOKS_MAX);
        s_error (reply, &err);
        return;
    }
    ids_uuid4 (hook.id);
    ids_now_iso (hook.created_at);
    if (store_add (self->db, &hook, &err)) {
        s_error (reply, &err);
        return;
    }
    char shown [96];
    store_url_display (hook.url, shown, sizeof shown);
    char details [256];
    snprintf (details, sizeof details, "{\"id\":\"%s\",\"format\":\"%s\"}", hook.id,
              hook.format);
    char message [256];
    snprintf (message, sizeof message, "Alert hook %s added (%s, %s) by %s", hook.id,
              hook.format, shown, hook.created_by);
    service_activity (service, "alerts.hook_added", "info", NULL, message, details);
    *reply = msgw_new ();
    msgw_map (*reply, 2);
    msgw_kv_bool (*reply, "ok", true);
    msgw_str (*reply, "hook");
    msgw_map (*reply, 4);
    msgw_kv_str (*reply, "id", hook.id);
    msgw_kv_str (*reply, "url", shown);
    msgw_kv_str (*reply, "format", hook.format);
    msgw_kv_str (*reply, "events", hook.events);
}

static void
s_hook_list (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    (void) request;
    alerts_t *self = state;
    bus_err_t err = { 0 };
    hook_t *hooks = NULL;
    size_t count = 0;
    if (store_list (self->db, &hooks, &count, &err)) {
        s_error (reply, &err);
        return;
    }
    *reply = msgw_new ();
    msgw_map (*reply, 2);
    msgw_kv_bool (*reply, "ok", true);
    msgw_str (*reply, "hooks");
    msgw_array (*reply, count);
    for (size_t i = 0; i < count; i++) {
        hook_stats_t stats;
        sender_hook_stats (self->sender, hooks [i].id, &stats);
        char shown [96];
        store_url_display (hooks [i].url, shown, sizeof shown);
        msgw_map (*reply, 10);
        msgw_kv_str (*reply, "id", hooks [i].id);
        msgw_kv_str (*reply, "url", shown);
        msgw_kv_str (*reply, "format", hooks [i].format);
        msgw_kv_str (*reply, "events", hooks [i].events);
        msgw_kv_str (*reply, "created_at", hooks [i].created_at);
        msgw_kv_str (*reply, "created_by", hooks [i].created_by);
        msgw_kv_int (*reply, "sent", (int64_t) stats.sent);
        msgw_kv_int (*reply, "failed", (int64_t) stats.failed);
        msgw_kv_int (*reply, "last_status", stats.last_status);
        msgw_kv_str (*reply, "last_error", stats.last_error);
    }
    free (hooks);
}

static int
s_read_id (msg_t *request, char id [ALERT_ID_LEN + 1], bus_err_t *err)
{
    return field_id (msg_root (request), "id", true, id, err);
}

static void
s_hook_remove (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    alerts_t *self = state;
    bus_err_t err = { 0 };
    char id [ALERT_ID_LEN + 1];
    if (s_read_id (request, id, &err) || store_remove (self->db, id, &err)) {
        s_error (reply, &err);
        return;
    }
    char message [96], details [64];
    snprintf (message, sizeof message, "Alert hook %s removed", id);
    snprintf (details, sizeof details, "{\"id\":\"%s\"}", id);
    service_activity (service, "alerts.hook_removed", "info", NULL, message, details);
    *reply = msgw_new ();
    msgw_map (*reply, 2);
    msgw_kv_bool (*reply, "ok", true);
    msgw_kv_str (*reply, "id", id);
}

//  hook.test {id}: one alert.test to that hook, whatever its events.
static void
s_hook_test (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    alerts_t *self = state;
    bus_err_t err = { 0 };
    char id [ALERT_ID_LEN + 1];
    if (s_read_id (request, id, &err)) {
        s_error (reply, &err);
        return;
    }
    alert_t alert = { .name = "alert.test", .level = "info",
                      .summary = "a test alert from mcpbox alerts test" };
    alert.facts = json_pack ("{s:s}", "hook", id);
    size_t queued = alerts_dispatch (self, &alert, id);
    alert_clear (&alert);
    hook_t *hooks = NULL;
    size_t count = 0;
    bool known = false;
    if (store_list (self->db, &hooks, &count, &err) == 0)
        for (size_t i = 0; i < count; i++)
            known |= streq (hooks [i].id, id);
    free (hooks);
    if (!known) {
        bus_err_set (&err, BUS_ERR_NOT_FOUND, "no alert hook %s", id);
        s_error (reply, &err);
        return;
    }
    *reply = msgw_new ();
    msgw_map (*reply, 2);
    msgw_kv_bool (*reply, "ok", true);
    msgw_kv_bool (*reply, "queued", queued == 1);
}

static void
s_stats (service_t *service, msg_t *request, msgw_t **reply, void *state)
{
    (void) service;
    (void) request;
    alerts_t *self = state;
    sender_stats_t stats;
    sender_stats (self->sender, &stats);
    *reply = msgw_new ();
    msgw_map (*reply, 10);
    msgw_kv_bool (*reply, "ok", true);
    msgw_kv_int (*reply, "queued", (int64_t) stats.queued);
    msgw_kv_int (*reply, "queue_max", (int64_t) stats.queue_max);
    msgw_kv_int (*reply, "sent", (int64_t) stats.sent);
    msgw_kv_int (*reply, "failed", (int64_t) stats.failed);
    msgw_kv_int (*reply, "retries", (int64_t) stats.retries);
    msgw_kv_int (*reply, "dropped", (int64_t) stats.dropped);
    msgw_kv_int (*reply, "events_seen", (int64_t) self->events_seen);
    msgw_kv_int (*reply, "alerts_raised", (int64_t) self->alerts_raised);
    msgw_kv_bool (*reply, "subscribed", self->sub != NULL);
}

const service_op_t alerts_ops [] = {
    { "hook.add",     s_hook_add    },      //  the admin's CLI only
    { "hook.list",    s_hook_list   },
    { "hook.remove",  s_hook_remove },
    { "hook.test",    s_hook_test   },
    { "stats",        s_stats       },
    { NULL,           NULL          }
};
