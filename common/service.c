/*  service.c — the request loop every simple actor shares (service.h).

    One worker, one thread, handlers one at a time:

        register (bus_worker_new) --> recv up to 1 s --> decode strictly
            --> "health"            answered here
            --> op in def->ops      handler builds the reply
            --> other op            unknown_op  "unknown op 'x'"
            --> no/odd op, garbage  bad_request
        --> reply --> loop, until SIGINT/SIGTERM (zsys_interrupted).

    CZMQ installs its own SIGINT/SIGTERM handler when the first socket is
    made; it sets zsys_interrupted, and bus_worker_recv returns NULL, so the
    loop ends within a second of a signal. A reply that would exceed the
    bus body limit is replaced by too_large, so the client never waits for
    a reply that was never sent.

    A handler may defer its request (service_defer) and answer it later
    (service_reply), e.g. from on_wake when a worker thread finished; the
    loop then polls the bus worker's socket and def->wake_fd together.
*/
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "db.h"
#include "service.h"
#include "log.h"

#ifndef MCPBOX_VERSION
#define MCPBOX_VERSION "0.0.0"
#endif

#define SERVICE_POLL_MS   1000      //  longest wait before checking signals
#define SERVICE_OP_SHOWN  40        //  bytes of an unknown op echoed back

struct _service_t {
    const service_def_t *def;       //  what this actor declared
    bus_worker_t        *worker;    //  our registration with the broker
    int64_t              started;   //  zclock_mono at start, ms
    uint64_t             handled;   //  requests answered
    const char          *endpoint;  //  the broker, for service_client
    bus_client_t        *client;    //  lazily made
    bus_pub_t           *pub;       //  events, or NULL
    logspool_t          *spool;     //  log records to logkeeper, lazily made
    bus_request_t      **current;   //  the request a handler is running for
    bool                 deferred;  //  that handler took it
};

bus_request_t *
service_defer (service_t *self)
{
    if (!self->current || !*self->current || self->deferred)
        return NULL;
    bus_request_t *request = *self->current;
    *self->current = NULL;
    self->deferred = true;
    return request;
}

logspool_t *
service_spool (service_t *self)
{
    if (!self->spool)
        self->spool = logspool_new (self->endpoint, self->def->process
                                    ? self->def->process : self->def->service, NULL);
    return self->spool;
}

int
service_activity (service_t *self, const char *type, const char *level,
                  const char *server_id, const char *message,
                  const char *details_json)
{
    logspool_t *spool = service_spool (self);
    if (!spool) {
        log_error ("no log spool: activity '%.64s' not recorded", type ? type : "");
        return -2;
    }
    return logspool_activity (spool, type, level, server_id, message, details_json);
}

bus_client_t *
service_client (service_t *self)
{
    if (!self->client)
        self->client = bus_client_new (self->endpoint);
    return self->client;
}

bus_reply_t *
service_call (service_t *self, const char *service, const void *body,
              size_t size, int timeout_ms)
{
    bus_client_t *client = service_client (self);
    uint64_t id = client ? bus_client_send (client, service, body, size, timeout_ms) : 0;
    if (!id)
        return bus_reply_error_new (0, BUS_ERR_BAD_REQUEST, "request refused before sending");
    int slice = bus_heartbeat_ms () / 2;
    while (true) {
        bus_reply_t *reply = bus_client_recv (client, slice > 0 ? slice : 1);
        bus_worker_keepalive (self->worker);
        if (reply && bus_reply_id (reply) == id)
            return reply;
        bus_reply_destroy (&reply);     //  a reply to nothing we still wait for
        if (zsys_interrupted)
            return bus_reply_error_new (id, BUS_ERR_UNAVAILABLE, "shutting down");
    }
}

int
service_publish (service_t *self, const char *topic, msgw_t *body)
{
    if (!self->pub || !body)
        return -1;
    return bus_pub_send (self->pub, topic, msgw_data (body), msgw_size (body));
}

void
service_pack_spool (msgw_t *w, logspool_t *spool)
{
    logspool_stats_t stats;
    logspool_stats (spool, &stats);
    msgw_str (w, "log_spool");
    msgw_map (w, 7);
    msgw_kv_int (w, "added", (int64_t) stats.added);
    msgw_kv_int (w, "acked", (int64_t) stats.acked);
    msgw_kv_int (w, "queued", (int64_t) stats.queued);
    msgw_kv_int (w, "dropped", (int64_t) stats.dropped);
    msgw_kv_int (w, "rejected", (int64_t) stats.rejected);
    msgw_kv_int (w, "resends", (int64_t) stats.resends);
    msgw_kv_int (w, "oldest_age_ms", stats.oldest_age_ms);
}

static msgw_t *
s_health_reply (const service_def_t *def, int64_t started, bool with_spool,
                logspool_t *spool)
{
    size_t owned = 0;
    if (def->owns)
        while (def->owns [owned])
            owned++;
    msgw_t *reply = msgw_new ();
    if (!reply)
        return NULL;
    msgw_map (reply, with_spool ? 8 : 7);
    msgw_kv_bool (reply, "ok", true);
    msgw_kv_str (reply, "service", def->service);
    msgw_kv_str (reply, "process", def->process ? def->process : "");
    msgw_kv_str (reply, "version", MCPBOX_VERSION);
    msgw_kv_int (reply, "pid", (int64_t) getpid ());
    msgw_kv_int (reply, "uptime_s", (zclock_mono () - started) / 1000);
    msgw_str (reply, "owns");
    msgw_array (reply, owned);
    for (size_t i = 0; i < owned; i++)
        msgw_str (reply, def->owns [i]);
    if (with_spool)
        service_pack_spool (reply, spool);
    return reply;
}

msgw_t *
service_health_reply (const service_def_t *def, int64_t started)
{
    return s_health_reply (def, started, false, NULL);
}

msgw_t *
service_health_reply_spool (const service_def_t *def, int64_t started,
                            logspool_t *spool)
{
    return s_health_reply (def, started, true, spool);
}

static msgw_t *
s_health (service_t *self)
{
    return s_health_reply (self->def, self->started, true, self->spool);
}

//  Printable, bounded copy of an op name for a reply or a log line.
static void
s_show_op (const char *op, char *buf, size_t bufsize)
{
    size_t limit = bufsize - 4, i = 0;
    if (limit > SERVICE_OP_SHOWN)
        limit = SERVICE_OP_SHOWN;
    for (; op [i] && i < limit; i++) {
        unsigned char c = (unsigned char) op [i];
        buf [i] = (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') ? (char) c : '?';
    }
    if (op [i]) {
        memcpy (buf + i, "...", 3);
        i += 3;
    }
    buf [i] = 0;
}

static service_handler_fn *
s_lookup (const service_def_t *def, const char *op)
{
    if (def->ops)
        for (const service_op_t *entry = def->ops; entry->op; entry++)
            if (strcmp (entry->op, op) == 0)
                return entry->handler;
    return NULL;
}

//  Build the reply for one request body; never NULL unless out of memory.
static msgw_t *
s_dispatch (service_t *self, const void *body, size_t size, char *op_shown,
            size_t op_shown_size)
{
    snprintf (op_shown, op_shown_size, "-");
    const char *why = NULL;
    msg_t *request = msg_decode (body, size, NULL, &why);
    if (!request) {
        char message [128];
        snprintf (message, sizeof message, "malformed body: %s", why ? why : "?");
        return msgw_error_new (BUS_ERR_BAD_REQUEST, message);
    }
    msgw_t *reply = NULL;
    const char *op = msg_op (request);
    if (!op)
        reply = msgw_error_new (BUS_ERR_BAD_REQUEST,
                                "request needs \"op\": a string of 1..63 bytes");
    else {
        s_show_op (op, op_shown, op_shown_size);
        service_handler_fn *handler = NULL;
        if (strcmp (op, "health") == 0)
            reply = s_health (self);
        else
        if ((handler = s_lookup (self->def, op))) {
            handler (self, request, &reply, self->def->state);
            if (self->deferred)
                msgw_destroy (&reply);
            else
            if (!reply) {
                log_error ("handler for '%s' produced no reply", op_shown);
                reply = msgw_error_new (BUS_ERR_INTERNAL, "internal error");
            }
        }
        else {
            char message [SERVICE_OP_SHOWN + 32];
            snprintf (message, sizeof message, "unknown op '%s'", op_shown);
            reply = msgw_error_new (BUS_ERR_UNKNOWN_OP, message);
        }
    }
    msg_destroy (&request);
    return reply;
}

//  Send one reply (a NULL or oversized one becomes an error reply).
static void
s_send (service_t *self, bus_request_t **request_p, msgw_t **reply_p,
        const char *op_shown)
{
    msgw_t *reply = *reply_p;
    if (reply && msgw_size (reply) > BUS_BODY_MAX) {
        log_warn ("reply to '%s' is %zu bytes, over the bus limit", op_shown,
                  msgw_size (reply));
        msgw_destroy (&reply);
        reply = msgw_error_new (BUS_ERR_TOO_LARGE, "reply too large");
    }
    if (!reply)
        reply = msgw_error_new (BUS_ERR_INTERNAL, "internal error");
    if (!reply) {
        log_error ("out of memory answering '%s'", op_shown);
        bus_request_destroy (request_p);
        return;
    }
    if (bus_worker_reply (self->worker, request_p, msgw_data (reply),
                          msgw_size (reply)))
        log_warn ("could not send the reply to '%s'", op_shown);
    if (*request_p)
        bus_request_destroy (request_p);
    self->handled++;
    *reply_p = reply;
}

void
service_reply (service_t *self, bus_request_t **request_p, msgw_t **reply_p)
{
    if (!request_p || !*request_p) {
        msgw_destroy (reply_p);
        return;
    }
    msgw_t *reply = *reply_p;
    *reply_p = NULL;
    s_send (self, request_p, &reply, "(deferred)");
    msgw_destroy (&reply);
}

void
service_reply_raw (service_t *self, bus_request_t **request_p,
                   const void *body, size_t size)
{
    if (!request_p || !*request_p)
        return;
    if (bus_worker_reply (self->worker, request_p, body, size))
        log_warn ("could not send a deferred reply");
    if (*request_p)
        bus_request_destroy (request_p);
    self->handled++;
}

static void
s_answer (service_t *self, bus_request_t **request_p)
{
    int64_t start = zclock_usecs ();
    size_t size = 0;
    const void *body = bus_request_body (*request_p, &size);
    char op_shown [SERVICE_OP_SHOWN + 4];
    self->current = request_p;
    self->deferred = false;
    msgw_t *reply = s_dispatch (self, body, size, op_shown, sizeof op_shown);
    self->current = NULL;
    if (self->deferred) {
        msgw_destroy (&reply);
        return;             //  answered later with service_reply
    }
    s_send (self, request_p, &reply, op_shown);
    if (log_enabled (LOG_DEBUG))
        log_debug ("op '%s': %zu-byte request, %zu-byte reply, %lld us",
                   op_shown, size, reply ? msgw_size (reply) : 0,
                   (long long) (zclock_usecs () - start));
    msgw_destroy (&reply);
}

static void
s_keepalive (void *worker)
{
    bus_worker_keepalive ((bus_worker_t *) worker);
}

int
service_run (const service_def_t *def, const char *endpoint,
             const bus_curve_t *curve, const char *events_in)
{
    if (!def || !def->service || !endpoint) {
        log_error ("service_run: no service definition or endpoint");
        return -1;
    }
    int credit = def->credit <= 0 ? 1
               : def->credit > BUS_CREDIT_MAX ? BUS_CREDIT_MAX : def->credit;
    service_t self = { .def = def, .started = zclock_mono (), .endpoint = endpoint };
    if (events_in)
        self.pub = bus_pub_new (events_in);
    self.worker = bus_worker_new (endpoint, def->service, credit, curve);
    if (!self.worker) {
        log_error ("cannot create a worker for service '%s' at %s",
                   def->service, endpoint);
        return -1;
    }
    //  a statement waiting on a database lock keeps the registration alive
    db_set_busy_hook (s_keepalive, self.worker);
    log_info ("serving '%s' at %s (credit %d)", def->service, endpoint, credit);
    int64_t tick_at = def->tick ? zclock_mono () + def->tick_ms : INT64_MAX;
    while (!zsys_interrupted) {
        int wait = SERVICE_POLL_MS;
        if (def->tick) {
            int64_t left = tick_at - zclock_mono ();
            wait = left < 0 ? 0 : left < wait ? (int) left : wait;
        }
        int wake = def->wake_fd && def->on_wake ? def->wake_fd (def->state) : -1;
        if (wake >= 0) {
            zmq_pollitem_t items [2] = {
                { zsock_resolve (bus_worker_sock (self.worker)), 0, ZMQ_POLLIN, 0 },
                { NULL, wake, ZMQ_POLLIN, 0 },
            };
            int hb = bus_heartbeat_ms ();
            if (zmq_poll (items, 2, wait < hb ? wait : hb) < 0 && errno != EINTR)
                break;
            if (items [1].revents & ZMQ_POLLIN)
                def->on_wake (&self, def->state);
            wait = 0;
        }
        bus_request_t *request = bus_worker_recv (self.worker, wait);
        if (request)
            s_answer (&self, &request);
        if (def->tick && zclock_mono () >= tick_at) {
            def->tick (&self, def->state);
            tick_at = zclock_mono () + (def->tick_ms > 0 ? def->tick_ms : 1000);
        }
    }
    log_info ("stopping '%s' after %llu requests", def->service,
              (unsigned long long) self.handled);
    db_set_busy_hook (NULL, NULL);
    bus_worker_destroy (&self.worker);
    bus_client_destroy (&self.client);
    bus_pub_destroy (&self.pub);
    logspool_destroy (&self.spool);
    return 0;
}
