/*  broker.c — the request broker and the event proxy.

    Design. One thread, one zmq_poll loop, in the spirit of the zguide's
    Majordomo broker, with three changes the design asks for:

    - Requests carry an id and a deadline, and workers hold up to `credit`
      requests at once, so neither side serialises. A request gets a broker
      job id; workers only ever see job ids, never client identities, and a
      REPLY is accepted only from the worker that holds that job.
    - Every accepted request is answered exactly once: the worker's reply,
      or `no_worker` (still queued at its deadline), `timeout` (dispatched
      and still running at its deadline; the job stays charged to the worker
      until it replies or dies), or `worker_lost` (its worker died or broke
      the protocol). A full broker answers `unavailable` at once.
    - Two ROUTER sockets: the local ipc one (trusted by the 0700 run
      directory) and an optional tcp one with CURVE and a key allowlist
      (zauth). On tcp only `sandbox` workers are accepted: a remote machine
      runs executors, it does not get to call the registry or credentials.

    Tables: services (name -> service: rotating worker list, FIFO of waiting
    jobs), workers (identity -> worker: credit, busy, jobs held, expiry),
    jobs (id -> job). Timers: heartbeat (send to workers, purge the silent)
    and deadlines (the earliest job deadline, recomputed on each scan).

    The event proxy forwards two-frame events XSUB -> XPUB and
    subscriptions back, so publishers and subscribers only know the broker.
*/
#include "broker.h"
#include "broker_frames.h"
#include "bus.h"
#include "bus_frames.h"
#include "log.h"

#define BROKER_MAX_JOBS      100000     //  accepted and not yet finished
#define BROKER_MAX_SERVICES  256
#define BROKER_MAX_WORKERS   4096
#define BROKER_BATCH         256        //  messages per socket per poll
#define ORIGIN_LOCAL         0
#define ORIGIN_TCP           1
#define REMOTE_SERVICE       "sandbox"

typedef struct _service_t service_t;
typedef struct _worker_t  worker_t;

typedef struct {
    uint64_t   id;              //  broker job id (key in broker->jobs)
    int        origin;          //  router the client used
    zframe_t  *client;          //  client routing id
    uint64_t   request_id;      //  the client's id for it
    int64_t    deadline;        //  monotonic ms
    service_t *service;
    zframe_t  *body;            //  while waiting; moved out on dispatch
    void      *waiting_handle;  //  in service->waiting, while waiting
    worker_t  *worker;          //  while dispatched
    bool       answered;        //  client already told `timeout`
} job_t;

struct _worker_t {
    char      *key;             //  origin + hex identity
    zframe_t  *identity;
    int        origin;
    service_t *service;
    uint32_t   credit;          //  announced in READY
    uint32_t   busy;            //  jobs held now
    int64_t    expires;         //  dead when silent past this
    zhashx_t  *jobs;            //  job id -> job_t (not owned)
    void      *service_handle;  //  in service->workers
};

struct _service_t {
    char     *name;
    zlistx_t *workers;          //  worker_t, rotated for fairness
    zlistx_t *waiting;          //  job_t, oldest first
};

struct _broker_t {
    zsock_t  *router [2];       //  [ORIGIN_LOCAL], [ORIGIN_TCP] or NULL
    zsock_t  *xsub;             //  event input
    zsock_t  *xpub;             //  event output
    zactor_t *auth;             //  zauth, with tcp
    zhashx_t *services;         //  name -> service_t (owned)
    zhashx_t *workers;          //  key -> worker_t (owned)
    zhashx_t *jobs;             //  id -> job_t (owned)
    uint64_t  next_job;
    int       heartbeat_ms;
    int64_t   heartbeat_at;
    int64_t   next_deadline;
    broker_stats_t stats;
};

//  --- uint64 keys ------------------------------------------------------------

static size_t
s_id_hash (const void *key)
{
    uint64_t x = *(const uint64_t *) key;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t) x;
}

static int
s_id_compare (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return (x > y) - (x < y);
}

static zhashx_t *
s_id_table_new (void)
{
    zhashx_t *table = zhashx_new ();
    zhashx_set_key_hasher (table, s_id_hash);
    zhashx_set_key_comparator (table, s_id_compare);
    zhashx_set_key_duplicator (table, NULL);
    zhashx_set_key_destructor (table, NULL);
    return table;
}

//  A snapshot of a table's values that owns nothing. (zhashx_values would
//  copy the table's destructor and free the values with the list.)
static zlistx_t *
s_values (zhashx_t *table)
{
    zlistx_t *list = zlistx_new ();
    for (void *item = zhashx_first (table); item; item = zhashx_next (table))
        zlistx_add_end (list, item);
    return list;
}

//  --- sending ------------------------------------------------------------------

//  [client] | MBC1 | REPLY | request id | body   (takes the body)
static void
s_client_send (broker_t *self, int origin, zframe_t *client,
               uint64_t request_id, zframe_t **body_p)
{
    uint8_t id [8], command = BUS_C_REPLY;
    bus_put_u64 (id, request_id);
    zmsg_t *msg = zmsg_new ();
    zmsg_append (msg, &(zframe_t *) { zframe_dup (client) });
    zmsg_addmem (msg, BUS_CLIENT_PROTO, 4);
    zmsg_addmem (msg, &command, 1);
    zmsg_addmem (msg, id, 8);
    zmsg_append (msg, body_p);
    zmsg_send (&msg, self->router [origin]);
    zmsg_destroy (&msg);        //  if the send failed (peer gone, queue full)
    self->stats.replies++;
}

static void
s_client_error (broker_t *self, int origin, zframe_t *client,
                uint64_t request_id, bus_error_t code, const char *message)
{
    msgw_t *w = msgw_error_new (code, message);
    zframe_t *body = zframe_new (msgw_data (w), msgw_size (w));
    msgw_destroy (&w);
    s_client_send (self, origin, client, request_id, &body);
}

static void
s_job_error (broker_t *self, job_t *job, bus_error_t code, const char *message)
{
    s_client_error (self, job->origin, job->client, job->request_id, code, message);
}

//  [worker] | MBW1 | command [| job | timeout | body]
static void
s_worker_command (broker_t *self, int origin, zframe_t *identity, int command)
{
    uint8_t byte = (uint8_t) command;
    zmsg_t *msg = zmsg_new ();
    zmsg_append (msg, &(zframe_t *) { zframe_dup (identity) });
    zmsg_addmem (msg, BUS_WORKER_PROTO, 4);
    zmsg_addmem (msg, &byte, 1);
    zmsg_send (&msg, self->router [origin]);
    zmsg_destroy (&msg);
}

//  --- jobs -------------------------------------------------------------------------

static void
s_job_destroy (broker_t *self, job_t **job_p)
{
    job_t *job = *job_p;
    zhashx_delete (self->jobs, &job->id);
    zframe_destroy (&job->client);
    zframe_destroy (&job->body);
    free (job);
    *job_p = NULL;
}

//  --- services ---------------------------------------------------------------

static service_t *
s_service_require (broker_t *self, const char *name, size_t len)
{
    char key [BUS_SERVICE_MAX + 1];
    memcpy (key, name, len);
    key [len] = 0;
    service_t *service = zhashx_lookup (self->services, key);
    if (!service && zhashx_size (self->services) < BROKER_MAX_SERVICES) {
        service = calloc (1, sizeof *service);
        assert (service);
        service->name = strdup (key);
        service->workers = zlistx_new ();
        service->waiting = zlistx_new ();
        zhashx_insert (self->services, key, service);
    }
    return service;
}

static void
s_service_free (void **item)
{
    service_t *service = *item;
    zlistx_destroy (&service->workers);
    zlistx_destroy (&service->waiting);
    free (service->name);
    free (service);
    *item = NULL;
}

//  Forget a service nobody serves or waits for, so names cannot pile up.
static void
s_service_release (broker_t *self, service_t *service)
{
    if (zlistx_size (service->workers) == 0 && zlistx_size (service->waiting) == 0)
        zhashx_delete (self->services, service->name);
}

//  The next worker with free credit, rotated to the back of the list.
static worker_t *
s_service_pick (service_t *service)
{
    worker_t *worker = zlistx_first (service->workers);
    while (worker) {
        if (worker->busy < worker->credit) {
            zlistx_move_end (service->workers, worker->service_handle);
            return worker;
        }
        worker = zlistx_next (service->workers);
    }
    return NULL;
}

//  Hand waiting jobs to workers while any has credit.
static void
s_service_dispatch (broker_t *self, service_t *service)
{
    int64_t now = bus_now_ms ();
    while (zlistx_size (service->waiting)) {
        worker_t *worker = s_service_pick (service);
        if (!worker)
            break;
        job_t *job = zlistx_detach (service->waiting, NULL);
        job->waiting_handle = NULL;
        job->worker = worker;
        worker->busy++;
        zhashx_insert (worker->jobs, &job->id, job);

        uint8_t id [8], timeout [4], command = BUS_W_REQUEST;
        int64_t left = job->deadline - now;
        bus_put_u64 (id, job->id);
        bus_put_u32 (timeout, (uint32_t) (left > 0 ? left : 0));
        zmsg_t *msg = zmsg_new ();
        zmsg_append (msg, &(zframe_t *) { zframe_dup (worker->identity) });
        zmsg_addmem (msg, BUS_WORKER_PROTO, 4);
        zmsg_addmem (msg, &command, 1);
        zmsg_addmem (msg, id, 8);
        zmsg_addmem (msg, timeout, 4);
        zmsg_append (msg, &job->body);
        zmsg_send (&msg, self->router [worker->origin]);
        zmsg_destroy (&msg);
    }
}

//  --- workers -----------------------------------------------------------------

static char *
s_worker_key (int origin, zframe_t *identity)
{
    char *hex = zframe_strhex (identity);
    char *key = zsys_sprintf ("%d:%s", origin, hex);
    free (hex);
    return key;
}

static void
s_worker_free (void **item)
{
    worker_t *worker = *item;
    zhashx_destroy (&worker->jobs);
    zframe_destroy (&worker->identity);
    free (worker->key);
    free (worker);
    *item = NULL;
}

//  Remove a worker: every job it held is answered `worker_lost`.
static void
s_worker_remove (broker_t *self, worker_t *worker, bool send_disconnect)
{
    zlistx_t *held = s_values (worker->jobs);
    job_t *job = zlistx_first (held);
    while (job) {
        if (!job->answered) {
            s_job_error (self, job, BUS_ERR_WORKER_LOST,
                         "the worker handling this request went away");
            self->stats.worker_lost++;
        }
        s_job_destroy (self, &job);
        job = zlistx_next (held);
    }
    zlistx_destroy (&held);
    if (send_disconnect)
        s_worker_command (self, worker->origin, worker->identity, BUS_W_DISCONNECT);
    service_t *service = worker->service;
    zlistx_delete (service->workers, worker->service_handle);
    zhashx_delete (self->workers, worker->key);
    s_service_release (self, service);
}

static void
s_worker_ready (broker_t *self, int origin, broker_msg_t *m, char **key_p)
{
    if (origin == ORIGIN_TCP
    &&  (m->service_len != strlen (REMOTE_SERVICE)
      || memcmp (m->service, REMOTE_SERVICE, m->service_len) != 0)) {
        log_warn ("broker: refused a remote worker for service '%.*s'",
                      (int) m->service_len, m->service);
        s_worker_command (self, origin, m->identity, BUS_W_DISCONNECT);
        return;
    }
    service_t *service = s_service_require (self, m->service, m->service_len);
    if (!service || zhashx_size (self->workers) >= BROKER_MAX_WORKERS) {
        s_worker_command (self, origin, m->identity, BUS_W_DISCONNECT);
        return;
    }
    worker_t *worker = calloc (1, sizeof *worker);
    assert (worker);
    worker->key = *key_p;
    *key_p = NULL;
    worker->identity = zframe_dup (m->identity);
    worker->origin = origin;
    worker->service = service;
    worker->credit = m->credit;
    worker->jobs = s_id_table_new ();
    worker->expires = bus_now_ms () + (int64_t) self->heartbeat_ms * BUS_LIVENESS;
    worker->service_handle = zlistx_add_end (service->workers, worker);
    zhashx_insert (self->workers, worker->key, worker);
    log_debug ("broker: worker %s ready for '%s' with credit %u",
                worker->key, service->name, worker->credit);
    s_service_dispatch (self, service);
}

static void
s_worker_reply (broker_t *self, worker_t *worker, broker_msg_t *m, zmsg_t *msg)
{
    job_t *job = zhashx_lookup (worker->jobs, &m->job);
    if (!job)
        return;                 //  stale (answered before a restart): drop
    zhashx_delete (worker->jobs, &m->job);
    worker->busy--;
    if (!job->answered) {
        zframe_t *body = m->body;
        zmsg_remove (msg, body);
        s_client_send (self, job->origin, job->client, job->request_id, &body);
    }
    s_job_destroy (self, &job);
    s_service_dispatch (self, worker->service);
}

//  --- messages from a router -----------------------------------------------

static void
s_client_request (broker_t *self, int origin, broker_msg_t *m, zmsg_t *msg)
{
    if (origin == ORIGIN_TCP) {
        s_client_error (self, origin, m->identity, m->request_id,
                        BUS_ERR_FORBIDDEN, "requests are not accepted over tcp");
        return;
    }
    if (zhashx_size (self->jobs) >= BROKER_MAX_JOBS) {
        s_client_error (self, origin, m->identity, m->request_id,
                        BUS_ERR_UNAVAILABLE, "broker queue full");
        return;
    }
    service_t *service = s_service_require (self, m->service, m->service_len);
    if (!service) {
        s_client_error (self, origin, m->identity, m->request_id,
                        BUS_ERR_NO_WORKER, "too many services");
        return;
    }
    job_t *job = calloc (1, sizeof *job);
    assert (job);
    job->id = ++self->next_job;
    job->origin = origin;
    job->client = zframe_dup (m->identity);
    job->request_id = m->request_id;
    job->deadline = bus_now_ms () + m->timeout_ms;
    job->service = service;
    job->body = m->body;
    zmsg_remove (msg, m->body);
    zhashx_insert (self->jobs, &job->id, job);
    job->waiting_handle = zlistx_add_end (service->waiting, job);
    if (job->deadline < self->next_deadline)
        self->next_deadline = job->deadline;
    self->stats.requests++;
    s_service_dispatch (self, service);
}

static void
s_router_message (broker_t *self, int origin, zmsg_t *msg)
{
    broker_msg_t m;
    const char *why = NULL;
    broker_msg_kind_t kind = broker_msg_parse (msg, &m, &why);
    if (!m.identity)
        return;
    char *key = NULL;
    worker_t *worker = NULL;
    if (m.is_worker) {
        key = s_worker_key (origin, m.identity);
        worker = zhashx_lookup (self->workers, key);
        if (worker)
            worker->expires = bus_now_ms () + (int64_t) self->heartbeat_ms * BUS_LIVENESS;
    }
    switch (kind) {
        case BROKER_MSG_CLIENT_REQUEST:
            s_client_request (self, origin, &m, msg);
            break;
        case BROKER_MSG_WORKER_READY:
            if (worker) {           //  READY twice breaks the protocol
                self->stats.protocol_errors++;
                s_worker_remove (self, worker, true);
            }
            else
                s_worker_ready (self, origin, &m, &key);
            break;
        case BROKER_MSG_WORKER_REPLY:
        case BROKER_MSG_WORKER_HEARTBEAT:
            if (!worker)            //  e.g. we restarted: make it register again
                s_worker_command (self, origin, m.identity, BUS_W_DISCONNECT);
            else
            if (kind == BROKER_MSG_WORKER_REPLY)
                s_worker_reply (self, worker, &m, msg);
            break;
        case BROKER_MSG_WORKER_DISCONNECT:
            if (worker)
                s_worker_remove (self, worker, false);
            break;
        case BROKER_MSG_INVALID:
            self->stats.protocol_errors++;
            log_debug ("broker: dropped a message: %s", why);
            if (worker)
                s_worker_remove (self, worker, true);
            else
            if (m.is_worker)
                s_worker_command (self, origin, m.identity, BUS_W_DISCONNECT);
            else
            if (m.has_request_id)
                s_client_error (self, origin, m.identity, m.request_id,
                                BUS_ERR_PROTOCOL, why);
            break;
    }
    free (key);
}

//  --- timers -------------------------------------------------------------------

static void
s_heartbeat (broker_t *self, int64_t now)
{
    zlistx_t *all = s_values (self->workers);
    worker_t *worker = zlistx_first (all);
    while (worker) {
        if (now > worker->expires) {
            log_info ("broker: worker %s for '%s' is silent; removing it",
                       worker->key, worker->service->name);
            s_worker_remove (self, worker, true);
        }
        else
            s_worker_command (self, worker->origin, worker->identity, BUS_W_HEARTBEAT);
        worker = zlistx_next (all);
    }
    zlistx_destroy (&all);
}

static void
s_deadlines (broker_t *self, int64_t now)
{
    int64_t next = INT64_MAX;
    zlistx_t *all = s_values (self->jobs);
    job_t *job = zlistx_first (all);
    while (job) {
        if (job->answered)
            ;                   //  waits only for its worker now
        else
        if (job->deadline > now) {
            if (job->deadline < next)
                next = job->deadline;
        }
        else
        if (job->worker) {
            s_job_error (self, job, BUS_ERR_TIMEOUT,
                         "the service did not answer before the deadline");
            job->answered = true;
        }
        else {
            s_job_error (self, job, BUS_ERR_NO_WORKER,
                         "no worker for this service before the deadline");
            self->stats.no_worker++;
            service_t *service = job->service;
            zlistx_delete (service->waiting, job->waiting_handle);
            s_job_destroy (self, &job);
            s_service_release (self, service);
        }
        job = zlistx_next (all);
    }
    zlistx_destroy (&all);
    self->next_deadline = next;
}

//  --- events ----------------------------------------------------------------------

static void
s_forward (zsock_t *from, zsock_t *to, bool event)
{
    for (int i = 0; i < BROKER_BATCH; i++) {
        zmsg_t *msg = zmsg_recv (from);
        if (!msg)
            return;
        //  events are topic + body; subscriptions are one frame
        bool valid = event ? zmsg_size (msg) == 2 && zframe_size (zmsg_first (msg)) <= 64
                           : zmsg_size (msg) == 1;
        if (valid)
            zmsg_send (&msg, to);
        zmsg_destroy (&msg);
    }
}

//  --- setup ------------------------------------------------------------------------

static zsock_t *
s_bind (int type, const char *endpoint, char *err, size_t errlen)
{
    zsock_t *sock = zsock_new (type);
    if (!sock) {
        snprintf (err, errlen, "cannot create a socket");
        return NULL;
    }
    bus_socket_tune (sock);
    if (zsock_bind (sock, "%s", endpoint) < 0) {
        snprintf (err, errlen, "cannot bind %s: %s", endpoint, zmq_strerror (zmq_errno ()));
        zsock_destroy (&sock);
    }
    return sock;
}

static int
s_setup_tcp (broker_t *self, const broker_config_t *config, char *err, size_t errlen)
{
    if (!config->curve_secret_file || !config->curve_allow_dir) {
        snprintf (err, errlen, "a tcp endpoint needs a CURVE certificate and an allow directory");
        return -1;
    }
    zcert_t *cert = zcert_load (config->curve_secret_file);
    if (!cert) {
        snprintf (err, errlen, "cannot load CURVE certificate %s", config->curve_secret_file);
        return -1;
    }
    if (!zsys_file_exists (config->curve_allow_dir)) {
        snprintf (err, errlen, "allow directory %s does not exist", config->curve_allow_dir);
        zcert_destroy (&cert);
        return -1;
    }
    self->auth = zactor_new (zauth, NULL);
    zstr_sendx (self->auth, "CURVE", config->curve_allow_dir, NULL);
    zsock_wait (self->auth);

    zsock_t *sock = zsock_new (ZMQ_ROUTER);
    bus_socket_tune (sock);
    zsock_set_zap_domain (sock, "mcpbox");
    zcert_apply (cert, sock);
    zsock_set_curve_server (sock, 1);
    zcert_destroy (&cert);
    if (zsock_bind (sock, "%s", config->tcp_endpoint) < 0) {
        snprintf (err, errlen, "cannot bind %s: %s", config->tcp_endpoint,
                  zmq_strerror (zmq_errno ()));
        zsock_destroy (&sock);
        return -1;
    }
    self->router [ORIGIN_TCP] = sock;
    return 0;
}

broker_t *
broker_new (const broker_config_t *config, char *err, size_t errlen)
{
    broker_t *self = calloc (1, sizeof *self);
    assert (self);
    self->services = zhashx_new ();
    zhashx_set_destructor (self->services, s_service_free);
    self->workers = zhashx_new ();
    zhashx_set_destructor (self->workers, s_worker_free);
    self->jobs = s_id_table_new ();
    self->heartbeat_ms = config->heartbeat_ms > 0 ? config->heartbeat_ms : bus_heartbeat_ms ();
    self->heartbeat_at = bus_now_ms () + self->heartbeat_ms;
    self->next_deadline = INT64_MAX;

    self->router [ORIGIN_LOCAL] = s_bind (ZMQ_ROUTER, config->endpoint, err, errlen);
    if (!self->router [ORIGIN_LOCAL])
        goto failed;
    if (config->events_in && config->events_out) {
        if (!(self->xsub = s_bind (ZMQ_XSUB, config->events_in, err, errlen))
        ||  !(self->xpub = s_bind (ZMQ_XPUB, config->events_out, err, errlen)))
            goto failed;
    }
    if (config->tcp_endpoint && *config->tcp_endpoint
    &&  s_setup_tcp (self, config, err, errlen) != 0)
        goto failed;
    return self;
failed:
    broker_destroy (&self);
    return NULL;
}

void
broker_destroy (broker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    broker_t *self = *self_p;
    //  answer what is still open, so no client waits for its grace period
    zlistx_t *all = s_values (self->jobs);
    job_t *job = zlistx_first (all);
    while (job) {
        if (!job->answered && self->router [job->origin])
            s_job_error (self, job, BUS_ERR_UNAVAILABLE, "broker shutting down");
        job = zlistx_next (all);
    }
    zlistx_destroy (&all);
    job = zhashx_first (self->jobs);
    while (job) {
        zframe_destroy (&job->client);
        zframe_destroy (&job->body);
        free (job);
        job = zhashx_next (self->jobs);
    }
    zhashx_destroy (&self->jobs);
    zhashx_destroy (&self->workers);
    zhashx_destroy (&self->services);
    zsock_destroy (&self->router [ORIGIN_LOCAL]);
    zsock_destroy (&self->router [ORIGIN_TCP]);
    zsock_destroy (&self->xsub);
    zsock_destroy (&self->xpub);
    zactor_destroy (&self->auth);
    free (self);
    *self_p = NULL;
}

void
broker_run (broker_t *self, zsock_t *pipe)
{
    while (!zsys_interrupted) {
        zmq_pollitem_t items [5];
        zsock_t *socks [5];
        int count = 0;
        zsock_t *candidates [] = { pipe, self->router [0], self->router [1], self->xsub, self->xpub };
        for (int i = 0; i < 5; i++)
            if (candidates [i]) {
                socks [count] = candidates [i];
                items [count++] = (zmq_pollitem_t) { zsock_resolve (candidates [i]), 0, ZMQ_POLLIN, 0 };
            }
        int64_t now = bus_now_ms ();
        int64_t wake = self->heartbeat_at < self->next_deadline ? self->heartbeat_at : self->next_deadline;
        long wait = wake <= now ? 0 : (long) (wake - now);
        if (zmq_poll (items, count, wait) < 0 && errno != EINTR)
            break;

        for (int i = 0; i < count; i++) {
            if (!(items [i].revents & ZMQ_POLLIN))
                continue;
            zsock_t *sock = socks [i];
            if (sock == pipe) {
                char *command = zstr_recv (pipe);
                bool term = command && streq (command, "$TERM");
                zstr_free (&command);
                if (term)
                    return;
            }
            else
            if (sock == self->xsub)
                s_forward (self->xsub, self->xpub, true);
            else
            if (sock == self->xpub)
                s_forward (self->xpub, self->xsub, false);
            else {
                int origin = sock == self->router [ORIGIN_TCP] ? ORIGIN_TCP : ORIGIN_LOCAL;
                for (int n = 0; n < BROKER_BATCH; n++) {
                    zmsg_t *msg = zmsg_recv (sock);
                    if (!msg)
                        break;
                    s_router_message (self, origin, msg);
                    zmsg_destroy (&msg);
                }
            }
        }
        now = bus_now_ms ();
        if (now >= self->heartbeat_at) {
            s_heartbeat (self, now);
            self->heartbeat_at = now + self->heartbeat_ms;
        }
        if (now >= self->next_deadline)
            s_deadlines (self, now);
    }
}

void
broker_actor (zsock_t *pipe, void *args)
{
    char err [256] = "";
    broker_t *self = broker_new ((const broker_config_t *) args, err, sizeof err);
    if (!self) {
        log_error ("broker: %s", err);
        zsock_signal (pipe, 1);
        return;
    }
    zsock_signal (pipe, 0);
    broker_run (self, pipe);
    broker_destroy (&self);
}

void
broker_stats (broker_t *self, broker_stats_t *stats)
{
    *stats = self->stats;
    stats->workers = zhashx_size (self->workers);
}
