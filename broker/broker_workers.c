/*  broker_workers.c — the broker's own service: `workers` and `health`.

    The request comes from a local client and is decoded here like any
    actor decodes its requests (msg_decode: bounded, typed). The reply lists
    the workers broker.c handed over, optionally only those of one service,
    each with what the worker said of itself in READY (`about`, a msgpack
    map the broker checked when it arrived and passes on as it is: the
    reader validates its fields, the broker decides nothing by them).
*/
#include <string.h>
#include "broker_workers.h"
#include "bus.h"
#include "ids.h"

//  A reply stays well under what every reader decodes (msg.c's 8 MiB): the
//  workers past this many bytes of their own are left out, and the reply
//  says how many it lists (`listed`) beside how many there are (`total`).
#define S_REPLY_BUDGET  (4u << 20)
#define S_WORKER_FIXED  512     //  a worker's fields without its about, at most

static void
s_kv_time (msgw_t *w, const char *key, int64_t unix_ms)
{
    char iso [IDS_TIME_LEN + 1];
    ids_time_iso (unix_ms, iso);
    msgw_kv_str (w, key, iso);
}

static void
s_worker (msgw_t *w, const broker_worker_view_t *v, int64_t now_ms)
{
    msgw_map (w, 11);
    msgw_kv_int (w, "id", (int64_t) v->id);
    msgw_kv_str (w, "service", v->service);
    msgw_kv_str (w, "origin", v->origin);
    msgw_kv_str (w, "address", v->address ? v->address : "");
    msgw_kv_int (w, "credit", v->credit);
    msgw_kv_int (w, "in_flight", (int64_t) v->in_flight);
    msgw_kv_int (w, "served", (int64_t) v->served);
    s_kv_time (w, "registered_at", v->registered_at);
    s_kv_time (w, "last_seen", v->last_seen);
    msgw_str (w, "about");
    if (v->about && v->about_size)
        msgw_raw (w, v->about, v->about_size);
    else
        msgw_map (w, 0);
    //  the same as an interval, which no clock difference can skew
    msgw_kv_int (w, "idle_ms", now_ms > v->last_seen ? now_ms - v->last_seen : 0);
}

static msgw_t *
s_workers (const msgpack_object *root, const broker_worker_view_t *workers, size_t count,
           const broker_stats_t *stats, size_t services, int64_t now_ms)
{
    const char *service = NULL;
    size_t service_len = 0;
    msg_field_t field = msg_get_str (root, "service", &service, &service_len);
    if (field == MSG_FIELD_MISSING)
        service = NULL;
    else
    if (field != MSG_FIELD_OK || !bus_service_name_valid (service, service_len))
        return msgw_error_new (BUS_ERR_BAD_REQUEST,
                               "service: 1-32 bytes of [a-z0-9_.-]");
    //  which workers match, and how many of them fit the reply
    size_t matched = 0, listed = 0, bytes = 0;
    for (size_t i = 0; i < count; i++)
        if (!service || (strlen (workers [i].service) == service_len
                         && memcmp (workers [i].service, service, service_len) == 0)) {
            matched++;
            bytes += S_WORKER_FIXED + workers [i].about_size;
            if (bytes <= S_REPLY_BUDGET)
                listed++;
        }

    msgw_t *w = msgw_new ();
    msgw_map (w, 7);
    msgw_kv_bool (w, "ok", true);
    msgw_str (w, "workers");
    msgw_array (w, listed);
    size_t put = 0;
    for (size_t i = 0; i < count && put < listed; i++)
        if (!service || (strlen (workers [i].service) == service_len
                         && memcmp (workers [i].service, service, service_len) == 0)) {
            s_worker (w, &workers [i], now_ms);
            put++;
        }
    msgw_kv_int (w, "total", (int64_t) matched);
    msgw_kv_int (w, "listed", (int64_t) listed);
    msgw_kv_int (w, "services", (int64_t) services);
    msgw_str (w, "stats");
    msgw_map (w, 10);
    msgw_kv_int (w, "requests", (int64_t) stats->requests);
    msgw_kv_int (w, "replies", (int64_t) stats->replies);
    msgw_kv_int (w, "no_worker", (int64_t) stats->no_worker);
    msgw_kv_int (w, "worker_lost", (int64_t) stats->worker_lost);
    msgw_kv_int (w, "protocol_errors", (int64_t) stats->protocol_errors);
    msgw_kv_int (w, "cancelled", (int64_t) stats->cancelled);
    msgw_kv_int (w, "cancel_unknown", (int64_t) stats->cancel_unknown);
    msgw_kv_int (w, "notices", (int64_t) stats->notices);
    msgw_kv_int (w, "notices_dropped", (int64_t) stats->notices_dropped);
    msgw_kv_int (w, "workers", (int64_t) stats->workers);
    s_kv_time (w, "now", now_ms);
    return w;
}

msgw_t *
broker_workers_answer (const void *body, size_t size,
                       const broker_worker_view_t *workers, size_t count,
                       const broker_stats_t *stats, size_t services,
                       int64_t uptime_ms, int64_t now_ms)
{
    const char *why = NULL;
    msg_t *msg = msg_decode (body, size, NULL, &why);
    if (!msg)
        return msgw_error_new (BUS_ERR_BAD_REQUEST, why);
    const char *op = msg_op (msg);
    msgw_t *w;
    if (!op)
        w = msgw_error_new (BUS_ERR_BAD_REQUEST, "op: a string is required");
    else
    if (streq (op, "workers"))
        w = s_workers (msg_root (msg), workers, count, stats, services, now_ms);
    else
    if (streq (op, "health")) {
        w = msgw_new ();
        msgw_map (w, 5);
        msgw_kv_bool (w, "ok", true);
        msgw_kv_str (w, "service", BUS_BROKER_SERVICE);
        msgw_kv_int (w, "workers", (int64_t) count);
        msgw_kv_int (w, "services", (int64_t) services);
        msgw_kv_int (w, "uptime_ms", uptime_ms);
    }
    else
        w = msgw_error_new (BUS_ERR_UNKNOWN_OP, "the broker answers workers and health");
    msg_destroy (&msg);
    return w;
}
