/*  http_health.c — GET /health. See http_health.h.

    The request's state is one slot per service: the ticket of its bus
    request and, once known, its JSON entry. Replies fill slots as they
    come; the last one (or the backstop timer) renders the answer.
*/
#include <string.h>
#include <stdlib.h>
#include <assert.h>

#include "circuit.h"
#include "constellation.h"
#include "logspool.h"
#include "msg.h"
#include "http_health.h"
#include "mcp.h"

//  The services asked: every row of the constellation with a service,
//  in start order. Slots are kept per row (rows without a service stay
//  unused).
#define SERVICES 16

//  Bounds on what we copy from a reply.
#define HEALTH_VERSION_MAX  64

typedef struct {
    uint64_t  ticket;       //  bus request, 0 if it was never sent
    json_t   *entry;        //  the service's entry, NULL while waiting
} slot_t;

typedef struct {
    slot_t slots [SERVICES];
    size_t waiting;         //  slots without an entry
} health_t;

static json_t *
s_error_entry (const char *code)
{
    return json_pack ("{s:b, s:s}", "ok", 0, "error", code);
}

//  The log spool's counters (common/logspool.h): known keys, non-negative
//  integers only.
static const char *s_spool_keys [] = {
    "added", "acked", "queued", "dropped", "rejected", "resends", "oldest_age_ms", NULL
};

static json_t *
s_spool_counters (const msgpack_object *spool)
{
    json_t *counters = json_object ();
    int64_t number;
    for (const char **key = s_spool_keys; *key; key++)
        if (msg_get_int (spool, *key, &number) == MSG_FIELD_OK && number >= 0)
            json_object_set_new (counters, *key, json_integer (number));
    return counters;
}

static json_t *
s_own_spool (logspool_t *spool)
{
    logspool_stats_t stats;
    logspool_stats (spool, &stats);
    return json_pack ("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
        "added", (json_int_t) stats.added, "acked", (json_int_t) stats.acked,
        "queued", (json_int_t) stats.queued, "dropped", (json_int_t) stats.dropped,
        "rejected", (json_int_t) stats.rejected, "resends", (json_int_t) stats.resends,
        "oldest_age_ms", (json_int_t) stats.oldest_age_ms);
}

json_t *
http_health_entry (const void *body, size_t size)
{
    const char *why;
    msg_t *reply = msg_decode (body, size, NULL, &why);
    if (!reply)
        return s_error_entry (bus_error_name (BUS_ERR_PROTOCOL));
    if (!msg_is_ok (reply)) {
        json_t *entry = s_error_entry (bus_error_name (msg_error_code (reply)));
        msg_destroy (&reply);
        return entry;
    }
    const msgpack_object *root = msg_root (reply);
    json_t *entry = json_pack ("{s:b}", "ok", 1);
    char version [HEALTH_VERSION_MAX + 1];
    int64_t number;
    if (msg_get_cstr (root, "version", version, sizeof version) == MSG_FIELD_OK) {
        json_t *text = json_string (version);       //  NULL if not UTF-8
        if (text)
            json_object_set_new (entry, "version", text);
    }
    if (msg_get_int (root, "uptime_s", &number) == MSG_FIELD_OK && number >= 0)
        json_object_set_new (entry, "uptime_s", json_integer (number));
    if (msg_get_int (root, "pid", &number) == MSG_FIELD_OK
    &&  number > 0 && number <= INT32_MAX)
        json_object_set_new (entry, "pid", json_integer (number));
    const msgpack_object *spool;
    if (msg_get_map (root, "log_spool", &spool) == MSG_FIELD_OK) {
        json_t *counters = s_spool_counters (spool);
        if (json_object_size (counters))
            json_object_set_new (entry, "log_spool", counters);
        else
            json_decref (counters);
    }
    msg_destroy (&reply);
    return entry;
}

static void
s_health_free (void *state)
{
    health_t *self = state;
    for (size_t i = 0; i < SERVICES; i++)
        json_decref (self->slots [i].entry);
    free (self);
}

//  Every slot has its entry (or gets `missing`): answer.
static void
s_finish (http_req_t *req, health_t *self, const char *missing)
{
    json_t *services = json_object ();
    bool all_ok = true;
    gateway_t *gateway = http_req_gateway (req);
    json_t *own = s_own_spool (gateway->spool);
    //  log records lost at a bound (or refused) by any process that answered
    json_int_t lost = json_integer_value (json_object_get (own, "dropped"))
                    + json_integer_value (json_object_get (own, "rejected"));
    for (size_t i = 0; i < constellation_size (); i++) {
        slot_t *slot = &self->slots [i];
        if (!constellation [i].service)
            continue;
        if (!slot->entry)
            slot->entry = s_error_entry (missing);
        all_ok &= json_is_true (json_object_get (slot->entry, "ok"));
        json_t *spool = json_object_get (slot->entry, "log_spool");
        lost += json_integer_value (json_object_get (spool, "dropped"))
              + json_integer_value (json_object_get (spool, "rejected"));
        json_object_set (services, constellation [i].service, slot->entry);
    }
    //  SSE resumes that asked for an event no longer kept (answered with
    //  one fresh list_changed, the complete recovery) are counted here too
    json_int_t gaps = gateway->mcp ? (json_int_t) mcp_events_gaps (gateway->mcp->events) : 0;
    //  the circuit toward the sandbox (circuit.h): open is degraded
    circuit_stats_t circuit;
    int64_t now = gateway_now_ms ();
    circuit_stats (gateway->circuit, now, &circuit);
    all_ok &= circuit.state == CIRCUIT_CLOSED;
    json_t *breaker = json_pack ("{s:s, s:i, s:i, s:I, s:I, s:I, s:I}",
        "state", circuit_state_name (circuit.state),
        "consecutive_failures", circuit.consecutive,
        "threshold", circuit.threshold,
        "open_s", (json_int_t) (circuit.open_ms / 1000),
        "retry_in_ms", (json_int_t) circuit_retry_in_ms (gateway->circuit, now),
        "opened_total", (json_int_t) circuit.opened,
        "rejected_total", (json_int_t) circuit.rejected);
    json_t *answer = json_pack ("{s:s, s:o, s:{s:s, s:I, s:o, s:I, s:o}, s:I}",
        "status",   all_ok ? "ok" : "degraded",
        "services", services,
        "gateway",
            "version",  MCPBOX_VERSION,
            "uptime_s", (json_int_t) ((gateway_now_ms () - gateway->started_ms) / 1000),
            "log_spool", own,
            "sse_replay_gaps", gaps,
            "circuit", breaker,
        "log_records_lost", lost);
    //  the remote listener: "listening", "off" (remote_listen empty) or
    //  "error" (it could not bind; the local port serves on)
    json_object_set_new (json_object_get (answer, "gateway"), "remote_listener",
                         json_string (gateway->remote_state ? gateway->remote_state : "off"));
    http_req_respond_json (req, all_ok ? HTTP_STATUS_OK
                                       : HTTP_STATUS_SERVICE_UNAVAILABLE, answer);
}

static void
s_on_reply (http_req_t *req, uint64_t ticket, const void *body, size_t size)
{
    health_t *self = http_req_state (req);
    for (size_t i = 0; i < SERVICES; i++) {
        slot_t *slot = &self->slots [i];
        if (slot->ticket == ticket && !slot->entry) {
            slot->entry = http_health_entry (body, size);
            if (--self->waiting == 0)
                s_finish (req, self, "timeout");
            return;
        }
    }
}

static void
s_on_timer (http_req_t *req)
{
    s_finish (req, http_req_state (req), "timeout");
}

static const http_handler_t s_handler = {
    .on_reply   = s_on_reply,
    .on_timer   = s_on_timer,
    .free_state = s_health_free,
};

void
http_health_start (http_req_t *req)
{
    health_t *self = calloc (1, sizeof *self);
    assert (self);
    http_req_set_handler (req, &s_handler, self);

    msgw_t *request = msgw_op_new ("health");
    assert (constellation_size () <= SERVICES);
    for (size_t i = 0; i < constellation_size (); i++) {
        slot_t *slot = &self->slots [i];
        if (!constellation [i].service)
            continue;
        slot->ticket = http_req_submit (req, constellation [i].service,
                                        msgw_data (request),
                                        msgw_size (request), HEALTH_TIMEOUT_MS);
        if (slot->ticket)
            self->waiting++;
        else
            slot->entry = s_error_entry (bus_error_name (BUS_ERR_UNAVAILABLE));
    }
    msgw_destroy (&request);

    if (self->waiting == 0)
        s_finish (req, self, "timeout");
    else
        http_req_set_timer (req, HEALTH_BACKSTOP_MS);
}
