/*  logspool.c — the publisher's bounded spool (logspool.h).

    Two lists under one mutex: `queue` (records not yet in a batch) and
    `batch` (the one batch in flight, or waiting to be sent again). Both
    count toward the bounds. Callers append to the queue and poke an
    eventfd; the spool's thread is the only reader:

        idle ──(queue non-empty)──> send batch ──(ack ok)──> free batch ─┐
         ^                            │  ^                               │
         │                            │  └──(after backoff)──┐           │
         │                            └──(error / timeout)──> wait ──────┘
         └───────────────────────────────────────────────────────────────┘

    The thread owns its bus client (its own DEALER), so its traffic never
    mixes with the host process's requests, and it sleeps in zmq_poll on
    that socket and the eventfd: no timer runs while nothing is queued.
    A `bad_request` answer means logkeeper will never take this batch; its
    records are counted as rejected rather than resent forever.
*/
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "bus.h"
#include "ids.h"
#include "json_msgpack.h"
#include "log.h"
#include "log_redact.h"
#include "logspool.h"

#define SPOOL_MAX_RECORDS     20000
#define SPOOL_MAX_BYTES       (32u << 20)
#define SPOOL_BATCH_RECORDS   500
#define SPOOL_BATCH_BYTES     (1u << 20)
#define SPOOL_ACK_TIMEOUT_MS  5000
#define SPOOL_BACKOFF_MIN_MS  100
#define SPOOL_BACKOFF_MAX_MS  5000
#define SPOOL_LINGER_BEATS    2     //  heartbeats: 2 s by default
#define SPOOL_IDLE_POLL_MS    1000
#define SPOOL_MESSAGE_MAX     2000
#define SPOOL_DETAILS_MAX     (16u * 1024)
#define SPOOL_ID_MAX          64
#define SPOOL_TYPE_MAX        64
#define SPOOL_SOURCE_MAX      64

typedef struct _record_t record_t;
struct _record_t {
    record_t *next;
    int64_t   added_ms;         //  monotonic, when it was spooled
    size_t    size;             //  bytes of data
    char      data [];          //  one encoded msgpack map
};

typedef struct {
    record_t *head;
    record_t *tail;
    size_t    count;
    size_t    bytes;
} rlist_t;

struct _logspool_t {
    logspool_config_t config;       //  with the defaults filled in
    char              service [BUS_SERVICE_MAX + 1];
    char              source [SPOOL_SOURCE_MAX + 1];
    char             *endpoint;
    char              nonce [17];   //  hex, random per instance
    pthread_t         thread;
    int               wake_fd;      //  eventfd: records added, or stop
    pthread_mutex_t   lock;         //  guards everything below
    pthread_cond_t    drained;      //  signalled when nothing is held
    rlist_t           queue;        //  not yet in a batch
    rlist_t           batch;        //  in flight or waiting to resend
    uint64_t          sequence;     //  last record id number (atomic)
    uint64_t          unreported;   //  dropped since the last report
    bool              stopping;
    logspool_stats_t  stats;
};

//  --- lists ---------------------------------------------------------------

static void
s_rlist_append (rlist_t *list, record_t *record)
{
    record->next = NULL;
    if (list->tail)
        list->tail->next = record;
    else
        list->head = record;
    list->tail = record;
    list->count++;
    list->bytes += record->size;
}

static record_t *
s_rlist_pop (rlist_t *list)
{
    record_t *record = list->head;
    if (!record)
        return NULL;
    list->head = record->next;
    if (!list->head)
        list->tail = NULL;
    list->count--;
    list->bytes -= record->size;
    record->next = NULL;
    return record;
}

static void
s_rlist_clear (rlist_t *list)
{
    record_t *record;
    while ((record = s_rlist_pop (list)))
        free (record);
}

static size_t
s_held (logspool_t *self)
{
    return self->queue.count + self->batch.count;
}

static size_t
s_held_bytes (logspool_t *self)
{
    return self->queue.bytes + self->batch.bytes;
}

static void
s_wake (logspool_t *self)
{
    uint64_t one = 1;
    ssize_t rc = write (self->wake_fd, &one, sizeof one);
    (void) rc;                  //  EAGAIN: a wake-up is already pending
}

//  --- encoding ------------------------------------------------------------

//  The head every record shares: rid, kind, ts, source. `pairs` counts
//  the whole map. The record id is given under the lock by the caller.
static void
s_pack_head (logspool_t *self, msgw_t *w, size_t pairs, const char *kind,
             uint64_t sequence)
{
    char rid [40];
    snprintf (rid, sizeof rid, "%s-%llu", self->nonce, (unsigned long long) sequence);
    msgw_map (w, pairs);
    msgw_kv_str (w, "rid", rid);
    msgw_kv_str (w, "kind", kind);
    msgw_kv_int (w, "ts", ids_now_ms ());
    msgw_kv_str (w, "source", self->source);
}

//  A bounded string field (NULL packs nil).
static void
s_pack_text (msgw_t *w, const char *key, const char *text, size_t max)
{
    msgw_str (w, key);
    if (!text) {
        msgw_nil (w);
        return;
    }
    size_t len = 0;
    char *cut = log_truncate (text, strlen (text), max, &len);
    if (cut)
        msgw_strn (w, cut, len);
    else
        msgw_nil (w);
    free (cut);
}

//  Pack a JSON object redacted; over max bytes encoded it becomes a note.
static void
s_pack_redacted (msgw_t *w, const char *key, const json_t *value, size_t max)
{
    msgw_str (w, key);
    if (!value || json_is_null (value)) {
        msgw_nil (w);
        return;
    }
    json_t *copy = json_deep_copy (value);
    log_redact_json (copy);
    msgw_t *inner = msgw_new ();
    if (!copy || msgw_json (inner, copy) != 0 || msgw_size (inner) > max) {
        //  too deep or too large to keep whole: keep a bounded text instead
        char *text = copy ? json_dumps (copy, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        char note [80];
        snprintf (note, sizeof note, "[%s]", text ? "too large, cut" : "not representable");
        char *cut = text ? log_truncate (text, strlen (text), max, NULL) : NULL;
        msgw_map (w, 1);
        msgw_kv_str (w, "_truncated", cut ? cut : note);
        free (cut);
        free (text);
    }
    else
        msgw_raw (w, msgw_data (inner), msgw_size (inner));
    msgw_destroy (&inner);
    json_decref (copy);
}

static bool
s_valid_type (const char *type)
{
    size_t len = type ? strlen (type) : 0;
    if (len < 1 || len > SPOOL_TYPE_MAX || type [0] < 'a' || type [0] > 'z')
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = type [i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'))
            return false;
    }
    return true;
}

static bool
s_valid_level (const char *level)
{
    return level && (strcmp (level, LOGSPOOL_DEBUG) == 0 || strcmp (level, LOGSPOOL_INFO) == 0
                 ||  strcmp (level, LOGSPOOL_WARNING) == 0 || strcmp (level, LOGSPOOL_ERROR) == 0);
}

static bool
s_valid_id (const char *id)
{
    return !id || (*id && strlen (id) <= SPOOL_ID_MAX);
}

static record_t *
s_record_from (msgw_t *w)
{
    record_t *record = malloc (sizeof *record + msgw_size (w));
    if (!record)
        return NULL;
    record->next = NULL;
    record->added_ms = zclock_mono ();
    record->size = msgw_size (w);
    memcpy (record->data, msgw_data (w), record->size);
    return record;
}

//  --- adding ----------------------------------------------------------------

static record_t *s_loss_record (logspool_t *self, uint64_t lost);

//  Under the lock: room for one more record of `size` bytes?
static bool
s_room (logspool_t *self, size_t size)
{
    return s_held (self) < self->config.max_records
        && s_held_bytes (self) + size <= self->config.max_bytes;
}

//  Under the lock: if records were dropped and there is room again, queue
//  the report of how many.
static void
s_report_loss (logspool_t *self)
{
    if (!self->unreported)
        return;
    record_t *report = s_loss_record (self, self->unreported);
    if (report && s_room (self, report->size)) {
        s_rlist_append (&self->queue, report);
        self->stats.added++;
        self->unreported = 0;
    }
    else
        free (report);
}

//  Queue a record built by `build` (outside the lock: redaction and
//  encoding do not hold up the spool's thread). 0, -1, -2.
typedef msgw_t *(s_build_fn) (logspool_t *self, uint64_t sequence, const void *args);

static int
s_add (logspool_t *self, s_build_fn *build, const void *args)
{
    uint64_t sequence = __atomic_add_fetch (&self->sequence, 1, __ATOMIC_RELAXED);
    msgw_t *w = build (self, sequence, args);
    record_t *record = w ? s_record_from (w) : NULL;
    msgw_destroy (&w);
    pthread_mutex_lock (&self->lock);
    s_report_loss (self);
    int rc = 0;
    if (!record || !s_room (self, record->size)) {
        self->stats.dropped++;
        self->unreported++;
        free (record);
        rc = -2;
    }
    else {
        s_rlist_append (&self->queue, record);
        self->stats.added++;
    }
    pthread_mutex_unlock (&self->lock);
    if (rc == 0)
        s_wake (self);
    return rc;
}

typedef struct {
    const char   *type;
    const char   *level;
    const char   *server_id;
    const char   *message;
    const json_t *details;
} activity_args_t;

static msgw_t *
s_build_activity (logspool_t *self, uint64_t sequence, const void *args_)
{
    const activity_args_t *args = args_;
    msgw_t *w = msgw_new ();
    s_pack_head (self, w, 9, "activity", sequence);
    msgw_kv_str (w, "type", args->type);
    msgw_kv_str (w, "level", args->level);
    msgw_kv_str (w, "server_id", args->server_id);
    s_pack_text (w, "message", args->message ? args->message : "", SPOOL_MESSAGE_MAX);
    s_pack_redacted (w, "details", args->details, SPOOL_DETAILS_MAX);
    return w;
}

static record_t *
s_loss_record (logspool_t *self, uint64_t lost)
{
    char message [256];
    snprintf (message, sizeof message,
              "%llu log record(s) were lost: the log spool of %s was full "
              "(logkeeper not acknowledging)", (unsigned long long) lost, self->source);
    json_t *details = json_pack ("{s:I, s:I, s:I, s:I}",
                                 "dropped", (json_int_t) lost,
                                 "dropped_total", (json_int_t) self->stats.dropped,
                                 "max_records", (json_int_t) self->config.max_records,
                                 "max_bytes", (json_int_t) self->config.max_bytes);
    activity_args_t args = { "logs.dropped", LOGSPOOL_ERROR, NULL, message, details };
    msgw_t *w = s_build_activity (
        self, __atomic_add_fetch (&self->sequence, 1, __ATOMIC_RELAXED), &args);
    json_decref (details);
    record_t *record = s_record_from (w);
    msgw_destroy (&w);
    return record;
}

int
logspool_activity_json (logspool_t *self, const char *type, const char *level,
                        const char *server_id, const char *message,
                        const json_t *details)
{
    if (!self || !s_valid_type (type) || !s_valid_level (level)
    ||  !s_valid_id (server_id) || (details && !json_is_object (details))) {
        log_warn ("log spool: refused an activity record (type '%.64s'): "
                  "invalid type, level, server id or details", type ? type : "");
        return -1;
    }
    activity_args_t args = { type, level, server_id, message, details };
    return s_add (self, s_build_activity, &args);
}

int
logspool_activity (logspool_t *self, const char *type, const char *level,
                   const char *server_id, const char *message,
                   const char *details_json)
{
    json_t *details = NULL;
    if (details_json) {
        details = json_loads (details_json, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object (details)) {
            json_decref (details);
            log_warn ("log spool: activity '%.64s': details are not a JSON object",
                      type ? type : "");
            return -1;
        }
    }
    int rc = logspool_activity_json (self, type, level, server_id, message, details);
    json_decref (details);
    return rc;
}

static msgw_t *
s_build_exec (logspool_t *self, uint64_t sequence, const void *args)
{
    const logspool_exec_t *r = args;
    msgw_t *w = msgw_new ();
    s_pack_head (self, w, 19, "exec", sequence);
    s_pack_text (w, "tool_id", r->tool_id, SPOOL_ID_MAX);
    s_pack_text (w, "tool_name", r->tool_name, 255);
    s_pack_text (w, "server_id", r->server_id, SPOOL_ID_MAX);
    s_pack_text (w, "server_name", r->server_name, 255);
    s_pack_text (w, "request_id", r->request_id, 128);
    s_pack_text (w, "client_name", r->client_name, 255);
    s_pack_text (w, "session_id", r->session_id, 128);
    s_pack_redacted (w, "args", r->args, LOG_ARGS_MAX);
    s_pack_text (w, "result", r->result, LOG_RESULT_MAX);
    s_pack_text (w, "stdout", r->stdout_text, LOG_STDOUT_MAX);
    s_pack_text (w, "error", r->error, LOG_ERROR_MAX);
    msgw_kv_int (w, "duration_ms", r->duration_ms < 0 ? 0 : r->duration_ms);
    msgw_kv_bool (w, "success", r->success);
    msgw_kv_bool (w, "is_test", r->is_test);
    s_pack_text (w, "executed_by", r->executed_by, 255);
    return w;
}

int
logspool_exec (logspool_t *self, const logspool_exec_t *record)
{
    if (!self || !record || (record->args && !json_is_object (record->args))) {
        log_warn ("log spool: refused an execution record: no record or args not an object");
        return -1;
    }
    return s_add (self, s_build_exec, record);
}

//  --- the thread ------------------------------------------------------------

typedef struct {
    bus_client_t *client;
    uint64_t      in_flight;    //  request id of the batch, 0 when none
    int64_t       retry_at;     //  monotonic ms: (re)send not before
    int           backoff_ms;
    bool          resend;       //  the batch was sent before
} pump_t;

//  Under the lock: move records from the queue into the batch.
static void
s_fill_batch (logspool_t *self)
{
    while (self->queue.head
    &&     self->batch.count < self->config.batch_records
    &&     (self->batch.count == 0
            || self->batch.bytes + self->queue.head->size <= self->config.batch_bytes))
        s_rlist_append (&self->batch, s_rlist_pop (&self->queue));
}

static void
s_send_batch (logspool_t *self, pump_t *pump)
{
    pthread_mutex_lock (&self->lock);
    if (!self->batch.count)
        s_fill_batch (self);
    if (!self->batch.count) {
        pthread_mutex_unlock (&self->lock);
        return;
    }
    msgw_t *w = msgw_new ();
    msgw_map (w, 3);
    msgw_kv_str (w, "op", "ingest");
    msgw_kv_str (w, "source", self->source);
    msgw_str (w, "records");
    msgw_array (w, self->batch.count);
    for (record_t *record = self->batch.head; record; record = record->next)
        msgw_raw (w, record->data, record->size);
    if (pump->resend)
        self->stats.resends++;
    pthread_mutex_unlock (&self->lock);

    pump->in_flight = bus_client_send (pump->client, self->service, msgw_data (w),
                                       msgw_size (w), self->config.ack_timeout_ms);
    msgw_destroy (&w);
    pump->resend = true;
    if (!pump->in_flight) {                 //  the socket refused: back off
        pump->retry_at = zclock_mono () + pump->backoff_ms;
        if (pump->backoff_ms < self->config.backoff_max_ms)
            pump->backoff_ms *= 2;
    }
}

//  The batch is done with: acknowledged (rejected = refused inside it) or
//  refused whole (all rejected).
static void
s_batch_done (logspool_t *self, pump_t *pump, uint64_t rejected, bool whole)
{
    pthread_mutex_lock (&self->lock);
    size_t count = self->batch.count;
    if (whole)
        rejected = count;
    if (rejected > count)
        rejected = count;
    self->stats.acked += count - rejected;
    self->stats.rejected += rejected;
    if (!whole)
        self->stats.batches++;
    s_rlist_clear (&self->batch);
    s_report_loss (self);
    if (!s_held (self))
        pthread_cond_broadcast (&self->drained);
    pthread_mutex_unlock (&self->lock);
    if (rejected)
        log_warn ("log spool: logkeeper refused %llu record(s) as malformed",
                  (unsigned long long) rejected);
    pump->in_flight = 0;
    pump->resend = false;
    pump->backoff_ms = SPOOL_BACKOFF_MIN_MS;
    pump->retry_at = 0;
}

static void
s_on_reply (logspool_t *self, pump_t *pump, bus_reply_t *reply)
{
    if (!pump->in_flight || bus_reply_id (reply) != pump->in_flight)
        return;                             //  late answer to an old send
    const char *why = NULL;
    msg_t *body = bus_reply_decode (reply, &why);
    if (body && msg_is_ok (body)) {
        int64_t rejected = 0;
        msg_get_int (msg_root (body), "rejected", &rejected);
        s_batch_done (self, pump, rejected > 0 ? (uint64_t) rejected : 0, false);
    }
    else
    if (body && msg_error_code (body) == BUS_ERR_BAD_REQUEST) {
        log_warn ("log spool: logkeeper refused a batch: %s", msg_error_message (body));
        s_batch_done (self, pump, 0, true);
    }
    else {
        //  timeout, no_worker, worker_lost, unavailable, ...: send again
        if (log_enabled (LOG_DEBUG))
            log_debug ("log spool: batch not acknowledged (%s); again in %d ms",
                       body ? bus_error_name (msg_error_code (body)) : why, pump->backoff_ms);
        pump->in_flight = 0;
        pump->retry_at = zclock_mono () + pump->backoff_ms;
        if (pump->backoff_ms < self->config.backoff_max_ms)
            pump->backoff_ms *= 2;
        if (pump->backoff_ms > self->config.backoff_max_ms)
            pump->backoff_ms = self->config.backoff_max_ms;
    }
    msg_destroy (&body);
}

static void *
s_thread (void *arg)
{
    logspool_t *self = arg;
    pump_t pump = { .backoff_ms = SPOOL_BACKOFF_MIN_MS };
    pump.client = bus_client_new (self->endpoint);
    int64_t linger_until = INT64_MAX;
    while (true) {
        pthread_mutex_lock (&self->lock);
        bool stopping = self->stopping;
        size_t held = s_held (self);
        pthread_mutex_unlock (&self->lock);
        int64_t now = zclock_mono ();
        if (stopping) {
            if (linger_until == INT64_MAX)
                linger_until = now + (self->config.linger_ms > 0 ? self->config.linger_ms : 0);
            if (!held || now >= linger_until || !pump.client)
                break;
        }
        if (pump.client && !pump.in_flight && held && now >= pump.retry_at)
            s_send_batch (self, &pump);

        int wait = SPOOL_IDLE_POLL_MS;
        if (!pump.in_flight && held) {
            int64_t left = pump.retry_at - zclock_mono ();
            wait = left <= 0 ? 0 : left < wait ? (int) left : wait;
        }
        if (pump.client) {
            int deadline = bus_client_next_deadline_ms (pump.client);
            if (deadline >= 0 && deadline < wait)
                wait = deadline;
        }
        if (stopping) {
            int64_t left = linger_until - zclock_mono ();
            if (left < wait)
                wait = left < 0 ? 0 : (int) left;
        }
        zmq_pollitem_t items [2] = {
            { .fd = self->wake_fd, .events = ZMQ_POLLIN },
            { .socket = pump.client ? zsock_resolve (bus_client_sock (pump.client)) : NULL,
              .events = ZMQ_POLLIN },
        };
        int rc = zmq_poll (items, pump.client ? 2 : 1, wait);
        if (rc < 0 && errno != EINTR && errno != ETERM)
            zclock_sleep (10);
        if (items [0].revents & ZMQ_POLLIN) {
            uint64_t count;
            ssize_t got = read (self->wake_fd, &count, sizeof count);
            (void) got;
        }
        if (pump.client) {
            bus_reply_t *reply;
            while ((reply = bus_client_recv (pump.client, 0))) {
                s_on_reply (self, &pump, reply);
                bus_reply_destroy (&reply);
            }
        }
    }
    //  what could not be delivered in time is lost: count it and say so
    pthread_mutex_lock (&self->lock);
    size_t left = s_held (self);
    self->stats.dropped += left;
    s_rlist_clear (&self->batch);
    s_rlist_clear (&self->queue);
    pthread_cond_broadcast (&self->drained);
    pthread_mutex_unlock (&self->lock);
    if (left)
        log_error ("log spool: %zu log record(s) not acknowledged by logkeeper at "
                   "shutdown were lost", left);
    bus_client_destroy (&pump.client);
    return NULL;
}

//  --- life ------------------------------------------------------------------

logspool_t *
logspool_new (const char *endpoint, const char *source, const logspool_config_t *config)
{
    if (!endpoint || !*endpoint || !source || !*source || strlen (source) > SPOOL_SOURCE_MAX)
        return NULL;
    if (sodium_init () < 0)
        return NULL;
    logspool_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    if (config)
        self->config = *config;
    logspool_config_t *c = &self->config;
    if (!c->max_records)    c->max_records = SPOOL_MAX_RECORDS;
    if (!c->max_bytes)      c->max_bytes = SPOOL_MAX_BYTES;
    if (!c->batch_records)  c->batch_records = SPOOL_BATCH_RECORDS;
    if (!c->batch_bytes)    c->batch_bytes = SPOOL_BATCH_BYTES;
    if (c->ack_timeout_ms <= 0) c->ack_timeout_ms = SPOOL_ACK_TIMEOUT_MS;
    if (c->backoff_max_ms <= 0) c->backoff_max_ms = SPOOL_BACKOFF_MAX_MS;
    if (c->backoff_max_ms < SPOOL_BACKOFF_MIN_MS) c->backoff_max_ms = SPOOL_BACKOFF_MIN_MS;
    //  a live logkeeper answers within a heartbeat; one that is not up
    //  by two will not take the records before this process is gone
    if (c->linger_ms == 0)  c->linger_ms = SPOOL_LINGER_BEATS * bus_heartbeat_ms ();
    const char *service = c->service ? c->service : "logs";
    if (!bus_service_name_valid (service, strlen (service))) {
        free (self);
        return NULL;
    }
    snprintf (self->service, sizeof self->service, "%s", service);
    c->service = NULL;
    snprintf (self->source, sizeof self->source, "%s", source);
    unsigned char nonce [8];
    randombytes_buf (nonce, sizeof nonce);
    sodium_bin2hex (self->nonce, sizeof self->nonce, nonce, sizeof nonce);
    self->endpoint = strdup (endpoint);
    self->wake_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->drained, NULL);
    if (!self->endpoint || self->wake_fd < 0
    ||  pthread_create (&self->thread, NULL, s_thread, self) != 0) {
        if (self->wake_fd >= 0)
            close (self->wake_fd);
        pthread_cond_destroy (&self->drained);
        pthread_mutex_destroy (&self->lock);
        free (self->endpoint);
        free (self);
        return NULL;
    }
    return self;
}

void
logspool_destroy (logspool_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    logspool_t *self = *self_p;
    pthread_mutex_lock (&self->lock);
    self->stopping = true;
    pthread_mutex_unlock (&self->lock);
    s_wake (self);
    pthread_join (self->thread, NULL);
    close (self->wake_fd);
    pthread_cond_destroy (&self->drained);
    pthread_mutex_destroy (&self->lock);
    free (self->endpoint);
    free (self);
    *self_p = NULL;
}

void
logspool_stats (logspool_t *self, logspool_stats_t *stats)
{
    memset (stats, 0, sizeof *stats);
    if (!self)
        return;
    pthread_mutex_lock (&self->lock);
    *stats = self->stats;
    stats->queued = s_held (self);
    stats->bytes = s_held_bytes (self);
    //  the batch went out first, so its head is the oldest record held
    record_t *oldest = self->batch.head ? self->batch.head : self->queue.head;
    stats->oldest_age_ms = oldest ? zclock_mono () - oldest->added_ms : 0;
    if (stats->oldest_age_ms < 0)
        stats->oldest_age_ms = 0;
    pthread_mutex_unlock (&self->lock);
}

bool
logspool_flush (logspool_t *self, int timeout_ms)
{
    if (!self)
        return true;
    struct timespec until;
    clock_gettime (CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock (&self->lock);
    int rc = 0;
    while (s_held (self) && rc == 0)
        rc = pthread_cond_timedwait (&self->drained, &self->lock, &until);
    bool empty = s_held (self) == 0;
    pthread_mutex_unlock (&self->lock);
    return empty;
}
